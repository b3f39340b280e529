// Profile: the signed-in user's account, Two-Factor status ("Setup Two-Factor"), SMS settings,
// recovery codes and password.
import { App, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { dialog, field, h, input, MessageBox, onSubmit, statusBadge } from "../ui";

export async function render(route: Extract<Route, { name: "profile" }>): Promise<void> {
  await signedInPage("profile", async (_me, msg) => {
    const p = await App.Profile();
    if (route.flash) msg.success(route.flash);
    return [
      pageHeader("Profile", p.user.name),
      h("div", { class: "grid-2" }, h("div", null, accountCard(p.user), passwordCard()), h("div", null, twoFactorCard(p, msg), smsCard(p))),
    ];
  });
}

function dl(rows: [string, Node | string][]): HTMLElement {
  return h("dl", { class: "details" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]).flat());
}

function accountCard(u: main.UserView): HTMLElement {
  return card(
    "Account",
    dl([
      ["Username", u.username],
      ["Name", u.displayName || "—"],
      ["Email", u.email || "—"],
      ["Role", u.role === "admin" ? "Administrator" : "User"],
    ]),
  );
}

function twoFactorCard(p: main.ProfileView, msg: MessageBox): HTMLElement {
  const u = p.user;
  const enabled = u.twoFactorStatus === "Enabled";
  const rows: [string, Node | string][] = [["Status", statusBadge(u.twoFactorStatus)]];
  if (enabled) {
    rows.push(["Method", u.method === "sms" ? "Text message (SMS)" : "Authenticator app"]);
    rows.push(["Recovery codes", `${p.recoveryCodesLeft} of 5 unused`]);
  }
  if (u.twoFactorRequired) rows.push(["Required", "Yes, by your administrator"]);

  // "Setup Two-Factor" stays once enrolled: setting it up again is how to move to a new phone or
  // switch methods, and the current setup holds until the new one is confirmed.
  const actions: HTMLElement[] = [
    h(
      "button",
      { type: "button", class: "btn btn-primary", id: "setup-two-factor", "aria-describedby": enabled ? "setup-again-help" : null, onclick: () => go({ name: "enroll", forced: false }) },
      "Setup Two-Factor",
    ),
  ];
  if (enabled) {
    actions.push(h("button", { type: "button", class: "btn btn-secondary", id: "regenerate-codes", onclick: () => regenerate(msg) }, "Regenerate recovery codes"));
    if (!u.twoFactorRequired) {
      actions.push(h("button", { type: "button", class: "btn btn-danger-outline", onclick: () => turnOff(msg) }, "Disable Two-Factor"));
    }
  }
  return card(
    "Two-Factor Authentication",
    dl(rows),
    !enabled ? h("p", { class: "muted" }, "Protect your account with a code from your phone in addition to your password.") : null,
    h("div", { class: "card-actions" }, actions),
    enabled
      ? h("p", { class: "muted card-note", id: "setup-again-help" }, "Set it up again to move to a new phone or switch between app and SMS; your current setup stays until the new one is confirmed.")
      : null,
  );
}

function smsCard(p: main.ProfileView): HTMLElement {
  const u = p.user;
  const sms = u.method === "sms";
  const rows: [string, Node | string][] = [["Phone", u.smsPhoneDisplay ? h("span", { id: "sms-phone" }, u.smsPhoneDisplay) : "Not set up"]];
  let note: string;
  if (!p.smsConfigured) {
    note = p.smsUnavailable;
  } else if (sms) {
    note = "To use another phone, text a new Authorization Code from it.";
  } else {
    note = "Your phone number is set up automatically when you set up Two-Factor Authentication with SMS.";
  }
  return card(
    "SMS Settings",
    dl(rows),
    h("p", { class: "muted card-note", id: "sms-settings-note" }, note),
    sms && p.smsConfigured
      ? h(
          "div",
          { class: "card-actions" },
          h("button", { type: "button", class: "btn btn-secondary", id: "change-sms-phone", onclick: () => go({ name: "enrollSMS", forced: false, change: true }) }, "Change phone number"),
        )
      : null,
  );
}

async function regenerate(msg: MessageBox) {
  msg.clear();
  const ok = await dialog({
    title: "Regenerate recovery codes",
    body: h("p", null, "You will get 5 new recovery codes. Your current codes will stop working."),
    confirm: "Generate new codes",
  });
  if (!ok) return;
  try {
    const codes = await withReauth(() => App.RegenerateRecoveryCodes());
    go({ name: "recoveryCodes", codes, regenerated: true });
  } catch (e) {
    report(e, msg);
  }
}

async function turnOff(msg: MessageBox) {
  msg.clear();
  const ok = await dialog({
    title: "Disable Two-Factor",
    body: h("p", null, "Your account will be protected by your password alone, and your recovery codes will stop working."),
    confirm: "Disable Two-Factor",
    confirmClass: "btn-danger",
  });
  if (!ok) return;
  try {
    await withReauth(() => App.DisableOwnTwoFactor());
    go({ name: "profile", flash: "Two-Factor Authentication is turned off. Your other sessions have ended." });
  } catch (e) {
    report(e, msg);
  }
}

function passwordCard(): HTMLElement {
  const msg = new MessageBox();
  const current = input("current-password", { type: "password", autocomplete: "current-password", required: true });
  const next = input("new-password", { type: "password", autocomplete: "new-password", required: true });
  const confirm = input("confirm-password", { type: "password", autocomplete: "new-password", required: true });
  const form = h(
    "form",
    { class: "form" },
    msg.el,
    field("Current password", current),
    field("New password", next, "At least 8 characters. A passphrase of several words is best."),
    field("Confirm new password", confirm),
    h("div", { class: "form-actions form-actions-start" }, h("button", { type: "submit", class: "btn btn-primary" }, "Change password")),
  );
  onSubmit(form, async () => {
    msg.clear();
    if (next.value !== confirm.value) {
      msg.error("The new passwords do not match.");
      return;
    }
    try {
      await App.ChangePassword(current.value, next.value);
      form.reset();
      msg.success("Your password has been changed. Your other sessions have ended.");
    } catch (e) {
      report(e, msg);
    }
  });
  return card("Change Password", form);
}
