// Administration -> Users -> a user: "Edit this User"; in edit mode the actions backend offers
// (Require Two-Factor with its confirmation pop-up and the light-blue status bar, Disable and
// Reset Two-Factor, Unlock, Set password), each with backend's label and sentences.
import { App, backend, forms, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { keysTable } from "../keys";
import { withReauth } from "../reauth";
import { dialog, DialogHandled, field, formatTime, h, input, MessageBox, onSubmit, statusBadge } from "../ui";

type UserRoute = Extract<Route, { name: "user" }>;

export async function render(route: UserRoute): Promise<void> {
  await signedInPage("users", async (me, msg) => {
    const u = await App.User(route.id);
    const keys = await App.UserKeys(route.id);
    const bar = route.flash ? h("div", { class: "status-bar", id: "status-bar", role: "status" }, route.flash) : null;
    const edit = !!route.edit;
    const back = h("button", { type: "button", class: "link", onclick: () => go({ name: "users" }) }, "‹ Users");

    const button = (a: main.ActionView) => action(a.label, a.key, () => void perform(u, a, msg));
    const actions = edit
      ? u.actions.map(button)
      : [
          ...u.actions.filter((a) => a.key === backend.ActionKey.Unlock).map(button),
          action("Edit this User", "edit-user", () => go({ name: "user", id: u.id, edit: true })),
        ];

    return [
      bar,
      h("div", { class: "crumbs" }, back),
      pageHeader(u.name, [u.username, accountBadge(u)], ...actions),
      h(
        "div",
        { class: "grid-main" },
        edit ? editCard(u, me) : detailsCard(u),
        twoFactorCard(u),
      ),
      keys.length > 0 ? keysCard(u, keys, msg) : null,
    ];
  });
}

/** twoFactorCard is the user's Two-Factor status; in one column (820 px) it comes first. */
function twoFactorCard(u: main.UserView): HTMLElement {
  const c = card("Two Factor Authentication", h("div", { class: "tf-status", id: "two-factor-status" }, statusBadge(u)), h("p", { class: "muted small" }, describe(u)));
  c.classList.add("user-two-factor");
  c.id = "user-two-factor-card";
  return c;
}

/** keysCard lists the user's security keys, with the warning of one that may be copied, to remove. */
function keysCard(u: main.UserView, keys: main.KeyView[], msg: MessageBox): HTMLElement {
  const c = card(
    "Security keys and passkeys",
    keysTable(
      keys,
      async (k) => {
        msg.clear();
        try {
          await withReauth(() => App.RemoveUserKey(u.id, k.id));
          go({ name: "user", id: u.id, flash: forms().notices.userKeyRemoved });
        } catch (e) {
          report(e, msg);
        }
      },
      true,
    ),
  );
  c.id = "user-keys-card";
  return c;
}

/** accountBadge marks an account that cannot log in (backend's state: disabled, or locked). */
export function accountBadge(u: main.UserView): HTMLElement | null {
  if (u.account === backend.AccountState.Active) return null;
  const title = u.account === backend.AccountState.Locked ? `${u.accountLabel} until ${formatTime(u.lockedUntil)}` : null;
  return h("span", { class: "badge badge-disabled", title }, u.accountLabel);
}

/** changes are the bound methods of the actions that change a user and return it. */
const changes: Partial<Record<backend.ActionKey, (id: number) => Promise<main.UserView>>> = {
  [backend.ActionKey.Unlock]: App.UnlockUser,
  [backend.ActionKey.RequireTwoFactor]: App.RequireTwoFactor,
  [backend.ActionKey.DisableTwoFactor]: App.DisableTwoFactor,
  [backend.ActionKey.ResetTwoFactor]: App.ResetTwoFactor,
};

/** perform runs action a on u: after its pop-up when it has a sentence, then the status bar. */
async function perform(u: main.UserView, a: main.ActionView, msg: MessageBox) {
  if (a.key === backend.ActionKey.SetPassword) return setPassword(u, a, msg);
  const run = changes[a.key];
  if (!run) return;
  const change = () => (a.needsPassword ? withReauth(() => run(u.id)) : run(u.id));
  if (!a.confirm) {
    msg.clear();
    try {
      const v = await change();
      go({ name: "user", id: v.id, edit: true, flash: a.done });
    } catch (e) {
      report(e, msg);
    }
    return;
  }
  await confirmChange(a, change, msg);
}

function action(label: string, id: string, onclick: () => void): HTMLElement {
  return h("button", { type: "button", class: "btn-light", id, onclick }, label);
}

function describe(u: main.UserView): string {
  switch (u.twoFactorStatus) {
    case backend.TwoFactorStatus.Enabled:
      return `Enrolled with ${u.methodLabel}${u.method === backend.Method.Sms ? ` (${u.smsPhoneDisplay})` : ""}${u.twoFactorRequired ? "; required by an administrator." : "; opted in."}`;
    case backend.TwoFactorStatus.Pending:
      return "Required by an administrator. The user will set it up at their next login.";
    default:
      return "Not required, not set up.";
  }
}

function detailsCard(u: main.UserView): HTMLElement {
  const rows: [string, string][] = [
    ["Username", u.username],
    ["Name", u.displayName || "—"],
    ["Email", u.email || "—"],
    ["Role", u.roleLabel],
    ["Account", u.account === backend.AccountState.Locked ? `${u.accountLabel} until ${formatTime(u.lockedUntil)}, after too many failed attempts` : u.accountLabel],
    ["Password", u.mustChangePassword ? "Temporary: must be changed at next login" : "Set by the user"],
    ["Created", formatTime(u.createdAt)],
    ["Updated", formatTime(u.updatedAt)],
  ];
  return card("User", h("dl", { class: "details" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]).flat()));
}

function editCard(u: main.UserView, me: main.UserView): HTMLElement {
  const msg = new MessageBox();
  const name = input("displayName", { value: u.displayName });
  const email = input("email", { type: "email", value: u.email });
  const role = h("select", { name: "role" }, forms().roles.map((r) => h("option", { value: r.key }, r.label)));
  role.value = u.role;
  const disabled = h("input", { type: "checkbox", id: "account-disabled", checked: u.disabled });
  const form = h(
    "form",
    { class: "form", id: "edit-user-form" },
    msg.el,
    field("Username", input("username", { value: u.username, disabled: true })),
    field("Full name", name),
    field("Email", email),
    field("Role", role),
    h(
      "label",
      { class: "check", for: "account-disabled" },
      disabled,
      " Account disabled",
      u.id === me.id ? h("span", { class: "muted" }, " (your own account)") : null,
    ),
    h("p", { class: "hint" }, "A disabled user cannot log in, and their sessions end at once."),
    h(
      "div",
      { class: "form-actions form-actions-start" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Save"),
      h("button", { type: "button", class: "btn btn-secondary", onclick: () => go({ name: "user", id: u.id }) }, "Done"),
    ),
  );
  onSubmit(form, async () => {
    msg.clear();
    try {
      const saved = await withReauth(() => App.UpdateUser(u.id, { displayName: name.value, email: email.value, role: role.value as backend.Role, disabled: disabled.checked }));
      go({ name: "user", id: saved.id, edit: true, flash: saved.notice });
    } catch (e) {
      report(e, msg);
    }
  });
  return card("Edit this User", form);
}

/** confirmChange shows a's pop-up, and on confirm runs change, then shows the status bar. */
async function confirmChange(a: main.ActionView, change: () => Promise<main.UserView>, msg: MessageBox) {
  msg.clear();
  let result: main.UserView | null = null;
  await dialog({ title: a.label, body: h("p", null, a.confirm), confirm: a.label, confirmClass: a.danger ? "btn-danger" : "btn-primary" }, async (box) => {
    try {
      result = await change();
    } catch (e) {
      report(e, box);
      throw new DialogHandled();
    }
  });
  if (result) {
    const u = result as main.UserView;
    go({ name: "user", id: u.id, edit: true, flash: a.done });
  }
}

async function setPassword(u: main.UserView, a: main.ActionView, msg: MessageBox) {
  msg.clear();
  const password = input("user-password", { type: "password", autocomplete: "new-password", autofocus: true });
  const mustChange = h("input", { type: "checkbox", id: "user-must-change", checked: forms().setPasswordMustChange });
  const ok = await dialog(
    {
      title: a.label,
      body: [
        h("p", null, a.confirm),
        field("New password", password, forms().passwordHintForUser),
        h("label", { class: "check", for: "user-must-change" }, mustChange, " The user must choose a new password at next login"),
      ],
      confirm: a.label,
    },
    async (box) => {
      try {
        await withReauth(() => App.SetUserPassword(u.id, password.value, mustChange.checked));
      } catch (e) {
        report(e, box);
        throw new DialogHandled();
      }
    },
  );
  if (ok) go({ name: "user", id: u.id, edit: true, flash: a.done });
}
