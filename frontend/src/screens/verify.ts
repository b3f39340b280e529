// Verify: the second step of a login for a user with Two-Factor Authentication enabled —
// the authenticator app code, a text message code, or a recovery code.
import { App, backend, forms, main } from "../api";
import { authPage, logoutLink } from "../layout";
import { afterLogin, report, Route } from "../nav";
import { busy, clockTime, codeInput, field, h, input, MessageBox, onSubmit } from "../ui";

export function render(route: Extract<Route, { name: "verify" }>, useRecovery = false): void {
  const msg = new MessageBox();
  const user = route.user;
  const sms = user.method === backend.Method.Sms;

  const logout = logoutLink();

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
      h("p", { class: "muted" }, `Enter one of the ${forms().recoveryCodeCount} recovery codes you saved or printed when you set up Two-Factor Authentication.`),
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
    field("Authentication code", code),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Verify"),
  );
  onSubmit(form, () => submit(() => (sms ? App.VerifySMSCode(code.value) : App.VerifyTOTP(code.value)), code, msg));

  authPage(
    false,
    h("h1", null, "Two-Factor Authentication"),
    h(
      "p",
      { class: "muted" },
      sms
        ? `Hello ${user.name}. We will text a 6-digit code to your phone ${user.smsPhoneMasked}. Press "Send code", then enter the code below.`
        : `Hello ${user.name}. Open your authenticator app and enter the 6-digit code it shows for Gatehouse.`,
    ),
    msg.el,
    sms ? sendCode(msg, code) : null,
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

/**
 * sendCode is "Send code", then "Send again": after a code is sent the button waits until the
 * backend's resend time, counting down. The backend refuses early resends on its own; the
 * countdown only saves a refused click.
 */
function sendCode(msg: MessageBox, code: HTMLInputElement): HTMLElement {
  const button = h("button", { type: "button", class: "btn btn-secondary btn-block", id: "send-code" }, "Send code");
  const wait = h("p", { class: "hint", id: "send-wait", hidden: true });
  let resendAt = 0;
  let timer = 0;
  const tick = () => {
    const secs = Math.ceil((resendAt - Date.now()) / 1000);
    if (!button.isConnected || secs <= 0) {
      window.clearInterval(timer);
      button.disabled = false;
      wait.hidden = true;
      return;
    }
    button.disabled = true;
    wait.hidden = false;
    wait.textContent = `You can ask for another code in ${secs} second${secs === 1 ? "" : "s"}.`;
  };
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    msg.clear();
    let sent: main.SMSCodeSentView;
    try {
      sent = await busy(button, () => App.SendSMSCode());
    } catch (e) {
      report(e, msg);
      return;
    }
    msg.info(`We sent a code to ${sent.maskedPhone}. It expires at ${clockTime(sent.expiresAt)}.`);
    button.textContent = "Send again";
    resendAt = Date.parse(sent.resendAt);
    window.clearInterval(timer);
    timer = window.setInterval(tick, 1000);
    tick();
    code.focus();
  });
  return h("div", { class: "send-code-row" }, button, wait);
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
