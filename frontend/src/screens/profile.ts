// Profile: the signed-in user's account, Two-Factor status ("Setup Two-Factor"), SMS settings,
// recovery codes and password.
import { App, backend, forms, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { keysInBrowser, keysTable } from "../keys";
import { withReauth } from "../reauth";
import { dialog, field, h, input, MessageBox, onSubmit, statusBadge } from "../ui";

export async function render(route: Extract<Route, { name: "profile" }>): Promise<void> {
  await signedInPage("profile", async (_me, msg) => {
    const p = await App.Profile();
    if (route.flash) msg.success(route.flash);
    return [
      pageHeader("Profile", p.user.name),
      h(
        "div",
        { class: "grid-2 profile-grid" },
        h("div", null, accountCard(p.user), passwordCard(p)),
        h("div", { class: "profile-two-factor" }, twoFactorCard(p, msg), keysCard(p, msg), smsCard(p)),
      ),
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
      ["Role", u.roleLabel],
    ]),
  );
}

function twoFactorCard(p: main.ProfileView, msg: MessageBox): HTMLElement {
  const u = p.user;
  const enabled = u.twoFactorStatus === backend.TwoFactorStatus.Enabled;
  const rows: [string, Node | string][] = [["Status", statusBadge(u)]];
  if (enabled) {
    rows.push(["Method", u.methodLabel]);
    rows.push(["Recovery codes", `${p.recoveryCodesLeft} of ${forms().recoveryCodeCount} unused`]);
  }
  if (u.twoFactorRequired) rows.push(["Required", "Yes, by your administrator"]);

  // The actions backend offers, but Change password, which has a card of its own.
  const offered = p.actions.filter((a) => a.key !== backend.ActionKey.ChangePassword);
  const actions = offered.map((a) =>
    h(
      "button",
      {
        type: "button",
        class: `btn ${a.danger ? "btn-danger-outline" : a.key === backend.ActionKey.SetupTwoFactor ? "btn-primary" : "btn-secondary"}`,
        id: a.key,
        "aria-describedby": a.help ? `${a.key}-help` : null,
        onclick: () => void perform(a, msg),
      },
      a.label,
    ),
  );
  const c = card(
    "Two-Factor Authentication",
    dl(rows),
    !enabled ? h("p", { class: "muted" }, "Protect your account with a code from your phone in addition to your password.") : null,
    h("div", { class: "card-actions" }, actions),
    offered.filter((a) => a.help).map((a) => h("p", { class: "muted card-note", id: `${a.key}-help` }, a.help)),
  );
  c.id = "two-factor-card";
  return c;
}

/** perform runs one of the profile's Two-Factor actions. */
function perform(a: main.ActionView, msg: MessageBox) {
  switch (a.key) {
    case backend.ActionKey.SetupTwoFactor:
      return go({ name: "enroll", forced: false });
    case backend.ActionKey.RegenerateRecoveryCodes:
      return regenerate(a, msg);
    case backend.ActionKey.DisableOwnTwoFactor:
      return turnOff(a, msg);
  }
}

/** keysCard lists the user's security keys, to remove; adding one happens in a browser. */
function keysCard(p: main.ProfileView, msg: MessageBox): HTMLElement {
  const c = card(
    "Security keys and passkeys",
    keysTable(
      p.keys,
      async (k) => {
        msg.clear();
        try {
          const notice = await withReauth(() => App.RemoveOwnKey(k.id));
          go({ name: "profile", flash: notice });
        } catch (e) {
          report(e, msg);
        }
      },
      false,
    ),
    keysInBrowser(p.keysNote, p.keysUrl),
  );
  c.id = "keys-card";
  return c;
}

function smsCard(p: main.ProfileView): HTMLElement {
  const u = p.user;
  const sms = u.method === backend.Method.Sms;
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

async function regenerate(a: main.ActionView, msg: MessageBox) {
  msg.clear();
  const ok = await dialog({ title: a.label, body: h("p", null, a.confirm), confirm: a.label });
  if (!ok) return;
  try {
    const codes = await withReauth(() => App.RegenerateRecoveryCodes());
    go({ name: "recoveryCodes", codes, regenerated: true, done: a.done });
  } catch (e) {
    report(e, msg);
  }
}

async function turnOff(a: main.ActionView, msg: MessageBox) {
  msg.clear();
  const ok = await dialog({ title: a.label, body: h("p", null, a.confirm), confirm: a.label, confirmClass: "btn-danger" });
  if (!ok) return;
  try {
    await withReauth(() => App.DisableOwnTwoFactor());
    go({ name: "profile", flash: a.done });
  } catch (e) {
    report(e, msg);
  }
}

function passwordCard(p: main.ProfileView): HTMLElement {
  const a = p.actions.find((x) => x.key === backend.ActionKey.ChangePassword);
  if (!a) return h("div");
  const msg = new MessageBox();
  const current = input("current-password", { type: "password", autocomplete: "current-password", required: true });
  const next = input("new-password", { type: "password", autocomplete: "new-password", required: true });
  const confirm = input("confirm-password", { type: "password", autocomplete: "new-password", required: true });
  const form = h(
    "form",
    { class: "form" },
    msg.el,
    field("Current password", current),
    field("New password", next, forms().passwordHintOwn),
    field("Confirm new password", confirm),
    h("div", { class: "form-actions form-actions-start" }, h("button", { type: "submit", class: "btn btn-primary" }, a.label)),
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
      msg.success(a.done);
    } catch (e) {
      report(e, msg);
    }
  });
  return card("Change Password", form);
}
