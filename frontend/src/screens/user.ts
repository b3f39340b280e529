// Administration -> Users -> a user: "Edit this User"; in edit mode "Require Two-Factor" (with
// its confirmation pop-up and the light-blue status bar), "Disable Two-Factor", "Reset
// Two-Factor" and "Set Password".
import { App, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { dialog, DialogHandled, field, formatTime, h, input, MessageBox, onSubmit, statusBadge } from "../ui";

type UserRoute = Extract<Route, { name: "user" }>;

export async function render(route: UserRoute): Promise<void> {
  await signedInPage("users", async (me, msg) => {
    const u = await App.User(route.id);
    const bar = route.flash ? h("div", { class: "status-bar", id: "status-bar", role: "status" }, route.flash) : null;
    const edit = !!route.edit;
    const back = h("button", { type: "button", class: "link", onclick: () => go({ name: "users" }) }, "‹ Users");

    const unlock = u.lockedUntil ? action("Unlock", "unlock-user", () => void unlockUser(u, msg)) : null;
    const actions = edit
      ? [
          unlock,
          u.canRequireTwoFactor ? action("Require Two-Factor", "require-two-factor", () => requireTwoFactor(u, msg)) : null,
          u.canDisableTwoFactor ? action("Disable Two-Factor", "disable-two-factor", () => disableTwoFactor(u, msg)) : null,
          u.canResetTwoFactor ? action("Reset Two-Factor", "reset-two-factor", () => resetTwoFactor(u, msg)) : null,
          action("Set Password", "set-password", () => setPassword(u, msg)),
        ]
      : [unlock, action("Edit this User", "edit-user", () => go({ name: "user", id: u.id, edit: true }))];

    return [
      bar,
      h("div", { class: "crumbs" }, back),
      pageHeader(u.name, [u.username, accountBadge(u)], ...actions),
      h(
        "div",
        { class: "grid-main" },
        edit ? editCard(u, me) : detailsCard(u),
        card(
          "Two Factor Authentication",
          h("div", { class: "tf-status", id: "two-factor-status" }, statusBadge(u.twoFactorStatus)),
          h("p", { class: "muted small" }, describe(u)),
        ),
      ),
    ];
  });
}

/** accountBadge marks an account that cannot log in: disabled, or locked for a while. */
export function accountBadge(u: main.UserView): HTMLElement | null {
  if (u.disabled) return h("span", { class: "badge badge-disabled" }, "Disabled");
  if (u.lockedUntil) return h("span", { class: "badge badge-disabled", title: `Locked until ${formatTime(u.lockedUntil)}` }, "Locked");
  return null;
}

/** unlockUser is "Unlock": it lifts a lock after too many failed attempts. */
async function unlockUser(u: main.UserView, msg: MessageBox) {
  msg.clear();
  try {
    const v = await withReauth(() => App.UnlockUser(u.id));
    go({ name: "user", id: v.id, flash: `${v.name} is unlocked and can log in again.` });
  } catch (e) {
    report(e, msg);
  }
}

function action(label: string, id: string, onclick: () => void): HTMLElement {
  return h("button", { type: "button", class: "btn-light", id, onclick }, label);
}

function describe(u: main.UserView): string {
  switch (u.twoFactorStatus) {
    case "Enabled":
      return `Enrolled with ${u.method === "sms" ? `SMS (${u.smsPhoneDisplay})` : "an authenticator app"}${u.twoFactorRequired ? "; required by an administrator." : "; opted in."}`;
    case "Pending setup on next login":
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
    ["Role", u.role === "admin" ? "Administrator" : "User"],
    ["Account", u.disabled ? "Disabled" : u.lockedUntil ? `Locked until ${formatTime(u.lockedUntil)}, after too many failed attempts` : "Active"],
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
  const role = h("select", { name: "role" }, h("option", { value: "user" }, "User"), h("option", { value: "admin" }, "Administrator"));
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
      const saved = await withReauth(() => App.UpdateUser(u.id, { displayName: name.value, email: email.value, role: role.value, disabled: disabled.checked }));
      go({ name: "user", id: saved.id, edit: true, flash: `Changes to ${saved.username} saved.` });
    } catch (e) {
      report(e, msg);
    }
  });
  return card("Edit this User", form);
}

/** confirmChange shows a pop-up and on confirm runs change, then shows the result bar. */
async function confirmChange(
  title: string,
  text: string,
  confirm: string,
  confirmClass: string,
  change: () => Promise<main.UserView>,
  done: (u: main.UserView) => string,
  msg: MessageBox,
) {
  msg.clear();
  let result: main.UserView | null = null;
  await dialog({ title, body: h("p", null, text), confirm, confirmClass }, async (box) => {
    try {
      result = await change();
    } catch (e) {
      report(e, box);
      throw new DialogHandled();
    }
  });
  if (result) {
    const u = result as main.UserView;
    go({ name: "user", id: u.id, edit: true, flash: done(u) });
  }
}

function requireTwoFactor(u: main.UserView, msg: MessageBox) {
  return confirmChange(
    "Require Two-Factor",
    `${u.name} will now be required to enroll in Two-Factor Authentication upon log in.`,
    "Require Two-Factor",
    "btn-primary",
    () => App.RequireTwoFactor(u.id),
    (v) => `${v.name} has been set up to require Two-Factor Authentication. Status: ${v.twoFactorStatus}.`,
    msg,
  );
}

function disableTwoFactor(u: main.UserView, msg: MessageBox) {
  return confirmChange(
    "Disable Two-Factor",
    u.twoFactorRequired
      ? `Two-Factor Authentication will be turned off for ${u.name}: no longer required, and any app, phone and recovery codes are removed. They will be logged out.`
      : `Two-Factor Authentication will be turned off for ${u.name}. ${setupText(u.method)} will be removed. They will be logged out.`,
    "Disable Two-Factor",
    "btn-danger",
    () => withReauth(() => App.DisableTwoFactor(u.id)),
    (v) => `Two-Factor Authentication is disabled for ${v.name}. Status: ${v.twoFactorStatus}.`,
    msg,
  );
}

function resetTwoFactor(u: main.UserView, msg: MessageBox) {
  const again = u.twoFactorRequired ? " They will set it up again at their next login." : "";
  return confirmChange(
    "Reset Two-Factor",
    `${setupText(u.method)} of ${u.name} will be removed, for example after a lost phone.${again} They will be logged out.`,
    "Reset Two-Factor",
    "btn-danger",
    () => withReauth(() => App.ResetTwoFactor(u.id)),
    (v) => `Two-Factor Authentication was reset for ${v.name}. Status: ${v.twoFactorStatus}.`,
    msg,
  );
}

/** setupText names what a user's Two-Factor setup consists of, by method (as the web says it). */
function setupText(method: string): string {
  switch (method) {
    case "sms":
      return "The phone number and recovery codes";
    case "app":
      return "The authenticator app and recovery codes";
    default:
      return "The Two-Factor setup and recovery codes";
  }
}

async function setPassword(u: main.UserView, msg: MessageBox) {
  msg.clear();
  const password = input("user-password", { type: "password", autocomplete: "new-password", autofocus: true });
  const mustChange = h("input", { type: "checkbox", id: "user-must-change", checked: true });
  const ok = await dialog(
    {
      title: "Set Password",
      body: [
        h("p", null, `Set a new password for ${u.name}. Their sessions end.`),
        field("New password", password),
        h("label", { class: "check", for: "user-must-change" }, mustChange, " The user must choose a new password at next login"),
      ],
      confirm: "Set Password",
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
  if (ok) go({ name: "user", id: u.id, edit: true, flash: `The password of ${u.name} has been set.` });
}
