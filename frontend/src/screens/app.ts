// Administration -> Applications -> an application: its settings as the web's page shows them,
// "Edit this Application" (the redirect URIs one per line), "Regenerate secret" and "Delete"
// with backend's pop-up sentences, and the screen that shows a client secret just made, once.
import { App, forms, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { dialog, DialogHandled, h, MessageBox, onSubmit } from "../ui";
import { appFields, markFields } from "./appFields";

type AppRoute = Extract<Route, { name: "app" }>;

export async function render(route: AppRoute): Promise<void> {
  await signedInPage("apps", async (_me, msg) => {
    const a = await App.Application(route.id);
    const bar = route.flash ? h("div", { class: "status-bar", id: "status-bar", role: "status" }, route.flash) : null;
    const back = h("button", { type: "button", class: "link", onclick: () => go({ name: "apps" }) }, "‹ Applications");
    const actions = route.edit
      ? []
      : [
          action("Edit this Application", "edit-app", () => go({ name: "app", id: a.id, edit: true })),
          a.public ? null : action("Regenerate secret", "regenerate-secret", () => void regenerate(a, msg)),
          h("button", { type: "button", class: "btn-light danger-text", id: "delete-app", onclick: () => void remove(a, msg) }, "Delete"),
        ];
    return [bar, h("div", { class: "crumbs" }, back), pageHeader(a.name, a.typeLabel, ...actions), route.edit ? editCard(a) : detailsCard(a)];
  });
}

function action(label: string, id: string, onclick: () => void): HTMLElement {
  return h("button", { type: "button", class: "btn-light", id, onclick }, label);
}

function detailsCard(a: main.AppView): HTMLElement {
  const rows: [string, Node | string][] = [
    ["Client ID", h("code", { id: "client-id" }, a.clientId)],
    ["Type", a.typeLabel],
    ["Who may use it", a.audienceLabel],
    ["Require Two-Factor", a.requireTwoFactor ? "Yes" : "No"],
    ["Redirect URIs", h("ul", { class: "plain", id: "redirect-uris" }, a.redirectUris.map((u) => h("li", null, h("code", null, u))))],
    ["Protected domains", a.domains.length ? h("ul", { class: "plain", id: "domains" }, a.domains.map((d) => h("li", null, h("code", null, d)))) : "—"],
    ["Back-channel logout URI", a.backchannelLogoutUri ? h("code", null, a.backchannelLogoutUri) : "—"],
    ["Created", a.created],
    ["Updated", a.updated],
  ];
  return card("Application", h("dl", { class: "details", id: "app-details" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]).flat()));
}

function editCard(a: main.AppView): HTMLElement {
  const msg = new MessageBox();
  const fields = appFields({ ...a, redirectUris: a.redirectUris.join("\n"), domains: a.domains.join("\n") });
  const form = h(
    "form",
    { class: "form form-wide", id: "edit-app-form", novalidate: true },
    msg.el,
    fields.els,
    h("p", { class: "hint" }, a.typeFixed),
    h(
      "div",
      { class: "form-actions form-actions-start" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Save changes"),
      h("button", { type: "button", class: "btn btn-secondary", onclick: () => go({ name: "app", id: a.id }) }, "Cancel"),
    ),
  );
  onSubmit(form, async () => {
    msg.clear();
    markFields(form, null);
    try {
      const saved = await withReauth(() => App.UpdateApp(a.id, fields.value()), forms().apps.passwordReason);
      go({ name: "app", id: saved.id, flash: saved.notice });
    } catch (e) {
      markFields(form, e);
      report(e, msg);
    }
  });
  return card("Edit this Application", form);
}

/** regenerate asks with backend's sentence, then shows the new secret, once. */
async function regenerate(a: main.AppView, msg: MessageBox) {
  msg.clear();
  let made: main.AppSecretView | null = null;
  await dialog({ title: "Regenerate secret", body: h("p", null, a.regenerateConfirm), confirm: "Regenerate secret" }, async (box) => {
    try {
      made = await withReauth(() => App.RegenerateAppSecret(a.id), forms().apps.passwordReason);
    } catch (e) {
      report(e, box);
      throw new DialogHandled();
    }
  });
  if (made) go({ name: "appSecret", made });
}

/** remove asks with backend's sentence, then deletes and goes back to the list. */
async function remove(a: main.AppView, msg: MessageBox) {
  msg.clear();
  let notice = "";
  await dialog({ title: "Delete", body: h("p", null, a.deleteConfirm), confirm: "Delete", confirmClass: "btn-danger" }, async (box) => {
    try {
      notice = await withReauth(() => App.DeleteApp(a.id), forms().apps.passwordReason);
    } catch (e) {
      report(e, box);
      throw new DialogHandled();
    }
  });
  if (notice) go({ name: "apps", flash: notice });
}

/**
 * renderSecret shows a client secret just made, with Copy: the only time. The route holding it
 * is not refreshable and is replaced by the application's page, which has no secret.
 */
export async function renderSecret(route: Extract<Route, { name: "appSecret" }>): Promise<void> {
  const { secret, once, notice } = route.made;
  const a = route.made.app!;
  // Forget the secret once it is on screen: nothing but the textarea holds it.
  route.made.secret = "";
  await signedInPage("apps", async () => {
    const copied = new MessageBox();
    const box = h("textarea", { id: "client-secret", class: "secret", rows: 2, readonly: true, spellcheck: "false", autocomplete: "off" });
    box.value = secret;
    const copy = h("button", { type: "button", class: "btn btn-secondary", id: "copy-secret" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await copyText(box);
        copied.success("Copied to the clipboard.");
      } catch {
        copied.error("Could not copy: select the secret and copy it with Ctrl+C.");
      }
    });
    return [
      h("div", { class: "status-bar", id: "status-bar", role: "status" }, notice),
      pageHeader(`Client secret of ${a.name}`, "Administration › Applications"),
      card(
        null,
        h("p", { id: "secret-once" }, once),
        h("dl", { class: "details secret-details" }, h("dt", null, "Client ID"), h("dd", null, h("code", null, a.clientId))),
        h("div", { class: "field" }, h("label", { for: "client-secret" }, "Client secret"), h("div", { class: "secret-row" }, box, copy)),
        copied.el,
        h(
          "div",
          { class: "form-actions form-actions-start" },
          h("button", { type: "button", class: "btn btn-primary", id: "secret-done", onclick: () => go({ name: "app", id: a.id }) }, "I have copied the secret"),
        ),
      ),
    ];
  });
}

/** copyText puts the textarea's text on the clipboard: the Clipboard API, else the selection. */
async function copyText(box: HTMLTextAreaElement): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(box.value);
      return;
    } catch {
      // WebKitGTK may refuse the API outside a user gesture it recognises: use the selection.
    }
  }
  box.select();
  if (!document.execCommand("copy")) throw new Error("copy refused");
}
