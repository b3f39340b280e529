// Small DOM helpers shared by the screens. No framework: the console is a handful of forms and
// tables, and these few functions are all the abstraction it needs.

export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

/** h creates an element with attributes ("on…" keys add listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(v);
    } else if (k === "checked" && "checked" in el) {
      (el as HTMLInputElement).checked = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: (Child | Child[])[]) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

let leaving: (() => void)[] = [];
let typedIn = false;

// Typing into a form of the screen marks it: a refresh on focus would throw the typing away.
document.addEventListener("input", (ev) => {
  if (ev.target instanceof Element && ev.target.closest("#app form")) typedIn = true;
});

/** formsTouched reports whether something was typed into a form of the screen now shown. */
export function formsTouched(): boolean {
  return typedIn;
}

/** onLeave runs fn when the screen now shown is replaced (mount), e.g. to drop a key handler. */
export function onLeave(fn: () => void): void {
  leaving.push(fn);
}

/** mount replaces the content of the app root. */
export function mount(...children: (Child | Child[])[]) {
  const done = leaving;
  leaving = [];
  typedIn = false;
  done.forEach((fn) => fn());
  const root = document.getElementById("app")!;
  root.replaceChildren();
  document.getElementById("print-root")?.replaceChildren(); // never leave codes behind
  document.querySelectorAll(".overlay").forEach((o) => o.remove());
  append(root, children);
  const focus = root.querySelector<HTMLElement>("[autofocus]");
  focus?.focus();
  window.scrollTo(0, 0);
}

/** A message area for a form: shows the latest error (or notice) and clears it on demand. */
export class MessageBox {
  readonly el = h("div", { class: "alert", role: "alert", hidden: true });
  error(text: string) {
    this.show(text, "alert alert-error");
  }
  info(text: string) {
    this.show(text, "alert alert-info");
  }
  success(text: string) {
    this.show(text, "alert alert-success");
  }
  clear() {
    this.el.hidden = true;
    this.el.textContent = "";
  }
  private show(text: string, cls: string) {
    this.el.className = cls;
    this.el.textContent = text;
    this.el.hidden = false;
  }
}

/** field is a labelled form control with an optional hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint" }, hint) : null,
  );
}

/** input is a text-like <input>. */
export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h("input", { name, type: "text", autocomplete: "off", spellcheck: "false", ...attrs });
}

/** codeInput is an input for a one-time code. */
export function codeInput(name: string, attrs: Attrs = {}): HTMLInputElement {
  return input(name, { class: "code-input", inputmode: "numeric", maxlength: 7, placeholder: "123456", ...attrs });
}

/**
 * busy runs an async action with the button disabled and showing that it works, so that a
 * double click cannot submit twice.
 */
export async function busy<T>(button: HTMLButtonElement | null, action: () => Promise<T>): Promise<T> {
  if (button) {
    button.disabled = true;
    button.classList.add("is-busy");
  }
  try {
    return await action();
  } finally {
    if (button) {
      button.disabled = false;
      button.classList.remove("is-busy");
    }
  }
}

/** onSubmit wires a form's submit to an async handler that gets the submit button. */
export function onSubmit(form: HTMLFormElement, handler: (button: HTMLButtonElement | null) => Promise<void>) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button?.disabled) return;
    void busy(button, () => handler(button));
  });
}

export interface DialogOptions {
  title: string;
  body: Child | Child[];
  confirm: string;
  confirmClass?: string; // e.g. "btn-primary", "btn-danger"
  cancel?: string;
  noCancel?: boolean; // a dialog that only informs: its one button closes it
}

/**
 * dialog shows a modal pop-up. onConfirm runs when the confirm button is pressed; the dialog
 * stays open (showing the error) if it throws, and closes when it resolves. The promise says
 * whether the action was confirmed and succeeded.
 */
export function dialog(opts: DialogOptions, onConfirm: (msg: MessageBox) => Promise<void> = async () => {}): Promise<boolean> {
  return new Promise((resolve) => {
    const msg = new MessageBox();
    const confirm = h("button", { type: "submit", class: `btn ${opts.confirmClass ?? "btn-primary"}` }, opts.confirm);
    const cancel = h("button", { type: "button", class: "btn btn-secondary" }, opts.cancel ?? "Cancel");
    const form = h(
      "form",
      { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": opts.title },
      h("h2", { class: "modal-title" }, opts.title),
      msg.el,
      h("div", { class: "modal-body" }, opts.body),
      h("div", { class: "modal-actions" }, opts.noCancel ? null : cancel, confirm),
    );
    const overlay = h("div", { class: "overlay" }, form);
    const close = (ok: boolean) => {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      resolve(ok);
    };
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === "Escape") close(false);
    };
    cancel.addEventListener("click", () => close(false));
    document.addEventListener("keydown", onKey);
    // A new screen (e.g. the refresh after a refused action) closes the dialog as cancelled.
    onLeave(() => close(false));
    onSubmit(form, async () => {
      msg.clear();
      try {
        await onConfirm(msg);
        close(true);
      } catch (e) {
        if (!(e instanceof DialogHandled)) throw e;
      }
    });
    document.body.appendChild(overlay);
    (form.querySelector<HTMLElement>("[autofocus]") ?? confirm).focus();
  });
}

/** DialogHandled is thrown by a dialog's onConfirm when it has shown an error and must stay open. */
export class DialogHandled extends Error {}

/** formatTime shows an RFC 3339 time in the user's locale. */
export function formatTime(rfc3339: string): string {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** clockTime shows the time of day of an RFC 3339 time, e.g. "10:42". */
export function clockTime(rfc3339: string): string {
  if (!rfc3339) return "—";
  return new Date(rfc3339).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** statusBadge shows a user's Two-Factor status (its label) with its colour (by key). */
export function statusBadge(u: { twoFactorStatus: string; twoFactorStatusLabel: string }): HTMLElement {
  return h("span", { class: `badge badge-${u.twoFactorStatus}` }, u.twoFactorStatusLabel);
}

/** plural counts a noun: "1 user", "2 users" (the web's plural in admin.templ). */
export function plural(n: number, noun: string): string {
  return n === 1 ? `1 ${noun}` : `${n} ${noun}s`;
}
