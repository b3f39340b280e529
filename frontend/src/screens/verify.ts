// Verify: the second step of a login for a user with Two-Factor Authentication enabled —
// the authenticator app code, a text message code, or a recovery code.
import { App, main } from "../api";
import { authPage } from "../layout";
import { afterLogin, go, report, Route } from "../nav";
import { codeInput, field, h, input, MessageBox, onSubmit } from "../ui";

export function render(route: Extract<Route, { name: "verify" }>, useRecovery = false): void {
  const msg = new MessageBox();
  const user = route.user;
  const sms = user.method === "sms";

  const logout = h(
    "button",
    {
      type: "button",
      class: "link",
      onclick: async () => {
        await App.Logout().catch(() => {});
        go({ name: "login" });
      },
    },
    "Log out",
  );

  if (useRecovery) {
    const code = input("recovery-code", { class: "code-input code-input-wide", autofocus: true, placeholder: "XXXX-XXXX-XXXX-XXXX" });
    const form = h(
      "form",
      { class: "form", id: "recovery-form" },
      field("Recovery code", code, "Each recovery code works once."),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Verify"),
    );
    onSubmit(form, () => submit(() => App.VerifyRecoveryCode(code.value), code, msg));
    authPage(
      false,
      h("h1", null, "Use a recovery code"),
      h("p", { class: "muted" }, "Enter one of the 5 recovery codes you saved or printed when you set up Two-Factor Authentication."),
      msg.el,
      form,
      h(
        "p",
        { class: "alt-links" },
        h("button", { type: "button", class: "link", onclick: () => render(route, false) }, sms ? "Use a text message code" : "Use your authenticator app"),
        " · ",
        logout,
      ),
    );
    return;
  }

  const code = codeInput("code", { autofocus: true, autocomplete: "one-time-code" });
  const form = h(
    "form",
    { class: "form", id: "verify-form" },
    field(sms ? "Text message code" : "Authentication code", code),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Verify"),
  );
  onSubmit(form, () => submit(() => (sms ? App.VerifySMSCode(code.value) : App.VerifyTOTP(code.value)), code, msg));

  const send = sms
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-secondary btn-block",
          onclick: async () => {
            msg.clear();
            try {
              await App.SendSMSCode();
              msg.info("We sent a code to your phone.");
            } catch (e) {
              report(e, msg);
            }
          },
        },
        "Text me a code",
      )
    : null;

  authPage(
    false,
    h("h1", null, "Two-Factor Authentication"),
    h(
      "p",
      { class: "muted" },
      sms
        ? `Hello ${user.name}. We can text a 6-digit code to your phone ${user.smsPhone}. Enter it below.`
        : `Hello ${user.name}. Open your authenticator app and enter the 6-digit code it shows for Gatehouse.`,
    ),
    msg.el,
    send,
    form,
    h(
      "p",
      { class: "alt-links" },
      h("button", { type: "button", class: "link", id: "use-recovery", onclick: () => render(route, true) }, "Use a recovery code"),
      " · ",
      logout,
    ),
  );
}

async function submit(verify: () => Promise<main.LoginView>, code: HTMLInputElement, msg: MessageBox) {
  msg.clear();
  try {
    afterLogin(await verify());
  } catch (e) {
    code.value = "";
    report(e, msg);
    code.focus();
  }
}
