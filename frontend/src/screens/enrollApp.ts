// "Use an App": the 4 steps — install an app, scan the QR code (or type the key), enter the
// 6-digit code, confirm.
import { App, forms } from "../api";
import { authPage } from "../layout";
import { Cancelled, go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { codeInput, h, MessageBox, onSubmit } from "../ui";

export async function render(route: Extract<Route, { name: "enrollApp" }>): Promise<void> {
  const forced = route.forced;
  const msg = new MessageBox();
  const back = () => go({ name: "enroll", forced });

  let setup;
  try {
    setup = await withReauth(() => App.BeginAppEnrollment());
  } catch (e) {
    // Cancelling the password prompt goes back to the choice, which still works.
    if (e instanceof Cancelled) return back();
    report(e, msg);
    authPage(true, h("h1", null, "Use an App"), msg.el, h("p", { class: "alt-links" }, h("button", { type: "button", class: "link", onclick: back }, "Back")));
    return;
  }

  const code = codeInput("code", { autocomplete: "one-time-code" });
  const form = h(
    "form",
    { class: "steps", id: "enroll-app-form" },
    step(1, "Install an authenticator app", h("p", null, "Install an authenticator app on your phone, such as Google Authenticator, Microsoft Authenticator or Authy.")),
    step(
      2,
      "Scan the QR code",
      h(
        "div",
        { class: "qr-row" },
        h("img", { class: "qr", src: setup.qrCodeUrl, alt: "QR code for your authenticator app", width: 176, height: 176 }),
        h(
          "div",
          null,
          h("p", null, "In the app, add an account and scan this code."),
          h("p", { class: "muted" }, "Can't scan it? Enter this key instead (time based):"),
          // Each group of four on one line: the key may wrap between groups, never inside one.
          h("code", { class: "secret-key", id: "totp-key" }, keyGroups(setup.key)),
          h("p", { class: "muted small" }, `Account: ${setup.issuer}: ${setup.account}`),
        ),
      ),
    ),
    step(3, "Enter the 6-digit code", h("p", null, "Enter the code the app now shows for Gatehouse."), code),
    step(
      4,
      "Confirm",
      h("p", null, `Confirm to turn on Two-Factor Authentication. You will then receive ${forms().recoveryCodeCount} recovery codes.`),
      h("button", { type: "submit", class: "btn btn-success" }, "Confirm"),
    ),
  );
  onSubmit(form, async () => {
    msg.clear();
    try {
      const res = await withReauth(() => App.ConfirmAppEnrollment(code.value));
      go({ name: "recoveryCodes", codes: res.recoveryCodes, login: res.login ?? undefined });
    } catch (e) {
      code.value = "";
      report(e, msg);
      code.focus();
    }
  });

  authPage(
    true,
    h("h1", null, "Use an App"),
    h("p", { class: "muted" }, "Follow these 4 steps to set up Two-Factor Authentication with an authenticator app."),
    msg.el,
    form,
    h("p", { class: "alt-links" }, h("button", { type: "button", class: "link", onclick: back }, "Choose another option")),
  );
  code.focus();
}

function step(n: number, title: string, ...body: (HTMLElement | null)[]): HTMLElement {
  return h("section", { class: "step" }, h("div", { class: "step-number" }, String(n)), h("div", { class: "step-body" }, h("h3", null, title), ...body));
}

function keyGroups(key: string): (HTMLElement | string)[] {
  return key
    .split(" ")
    .filter(Boolean)
    .flatMap((g, i) => [i ? " " : "", h("span", { class: "key-group" }, g)])
    .filter((x) => x !== "");
}
