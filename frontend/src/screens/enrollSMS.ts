// "Use SMS": the user texts an Authorization Code to the System Phone Number. The SMS backend
// is not built yet: App.BeginSMSEnrollment says SMS is not configured, and this page shows it.
// When it lands, this screen shows the code and number, waits for the text, and asks the user
// to confirm the masked number.
import { App, EUNAVAILABLE, toAppError } from "../api";
import { authPage } from "../layout";
import { go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { h, MessageBox } from "../ui";

export async function render(route: Extract<Route, { name: "enrollSMS" }>): Promise<void> {
  const forced = route.forced;
  const msg = new MessageBox();
  let available = true;
  try {
    await withReauth(() => App.BeginSMSEnrollment());
  } catch (e) {
    available = toAppError(e).code !== EUNAVAILABLE;
    report(e, msg);
  }
  authPage(
    true,
    h("h1", null, "Use SMS"),
    h("p", { class: "muted" }, "You will be asked to send a text message with an Authorization Code to the System Phone Number listed on the screen."),
    msg.el,
    !available
      ? h(
          "div",
          { class: "form-actions form-actions-start" },
          h("button", { type: "button", class: "btn btn-success", onclick: () => go({ name: "enrollApp", forced }) }, "Use an App instead"),
        )
      : null,
    h("p", { class: "alt-links" }, h("button", { type: "button", class: "link", onclick: () => go({ name: "enroll", forced }) }, "Choose another option")),
  );
}
