// "Use SMS": the user texts an Authorization Code to the System Phone Number. The screen shows
// both, waits for the text (polling the backend, so it also finds a setup begun before the
// screen was left), shows the sender's number masked, and "Confirm" turns SMS on; then the
// recovery codes, as for the app. Every decision (the code, its expiry, which text counts) is
// the backend's: this screen shows what App.SMSEnrollmentStatus says.
import { App, EUNAVAILABLE, forms, main, toAppError } from "../api";
import { authPage } from "../layout";
import { go, report, Route } from "../nav";
import { withReauth } from "../reauth";
import { Child, clockTime, h, MessageBox, onSubmit } from "../ui";

type SMSRoute = Extract<Route, { name: "enrollSMS" }>;

/** How often the waiting screen asks whether the text has arrived. */
const pollMillis = 2000;

const intro =
  "You will be asked to send a text message with an Authorization Code to the System Phone Number listed on the screen. By using the SMS option your SMS Settings on your profile page will be automatically set up.";

export async function render(route: SMSRoute): Promise<void> {
  const msg = new MessageBox();
  let st: main.SMSEnrollmentStatusView;
  try {
    st = await App.SMSEnrollmentStatus();
  } catch (e) {
    report(e, msg);
    page(route, msg);
    return;
  }
  if (st.state === "received") {
    received(route, st);
  } else if (st.state === "refused") {
    refused(route, st);
  } else if (st.state === "waiting" && st.setup) {
    waiting(route, st.setup);
  } else {
    await begin(route);
  }
}

/** begin asks for a new Authorization Code and shows it. */
async function begin(route: SMSRoute): Promise<void> {
  const msg = new MessageBox();
  let setup: main.SMSEnrollmentView;
  try {
    setup = await withReauth(() => App.BeginSMSEnrollment());
  } catch (e) {
    report(e, msg);
    const unavailable = toAppError(e).code === EUNAVAILABLE;
    page(
      route,
      msg,
      unavailable
        ? h(
            "div",
            { class: "form-actions form-actions-start" },
            h("button", { type: "button", class: "btn btn-success", onclick: () => go({ name: "enrollApp", forced: route.forced }) }, "Use an App instead"),
          )
        : h("div", { class: "form-actions form-actions-start" }, h("button", { type: "button", class: "btn btn-primary", onclick: () => void begin(route) }, "Try again")),
    );
    return;
  }
  waiting(route, setup);
}

/** waiting shows the code and the number, and polls until the text arrives. */
function waiting(route: SMSRoute, setup: main.SMSEnrollmentView): void {
  const msg = new MessageBox();
  const status = h(
    "div",
    { class: "sms-wait", id: "sms-waiting", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    h("span", null, "Waiting for your text message…"),
  );
  const again = (label: string) =>
    h("div", { class: "form-actions form-actions-start" }, h("button", { type: "button", class: "btn btn-primary", id: "sms-restart", onclick: () => void begin(route) }, label));

  page(
    route,
    msg,
    h(
      "div",
      { class: "sms-setup" },
      h(
        "div",
        { class: "sms-box" },
        h("div", { class: "sms-label" }, "Authorization Code"),
        h("code", { class: "sms-value", id: "sms-auth-code" }, setup.code),
      ),
      h("div", { class: "sms-arrow", "aria-hidden": "true" }, "→"),
      h(
        "div",
        { class: "sms-box" },
        h("div", { class: "sms-label" }, "System Phone Number"),
        h("a", { class: "sms-value", id: "sms-system-number", href: `sms:${setup.phoneNumber}` }, setup.phoneDisplay),
      ),
    ),
    h(
      "ol",
      { class: "sms-instructions" },
      h("li", null, "On the phone you want to use for Two-Factor Authentication, open your text messages."),
      h("li", null, "Send a text message to ", h("strong", null, setup.phoneDisplay), " with the Authorization Code ", h("strong", null, setup.code), " as its only content."),
      h("li", null, "Keep this screen open: it notices your text by itself, then asks you to confirm your number. The System texts you back to say whether it got the code."),
    ),
    h("p", { class: "muted small" }, `The code works once and expires at ${clockTime(setup.expiresAt)}. Standard text message rates may apply.`),
    status,
  );

  const poll = async () => {
    if (!status.isConnected) return; // the user has left this screen
    let st: main.SMSEnrollmentStatusView;
    try {
      st = await App.SMSEnrollmentStatus();
    } catch (e) {
      if (toAppError(e).signedOut) {
        report(e, msg);
        return;
      }
      report(e, msg); // a passing failure: say so, and keep asking
      window.setTimeout(poll, pollMillis);
      return;
    }
    if (!status.isConnected) return;
    msg.clear();
    switch (st.state) {
      case "received":
        received(route, st);
        return;
      case "waiting":
        if (st.expiresAt === setup.expiresAt) break;
        status.replaceWith(again("Get a new code"));
        msg.error("A newer SMS setup was started for your account, so this code no longer works. Get a new code here to continue.");
        return;
      case "refused":
        refused(route, st);
        return;
      case "expired":
        status.replaceWith(again("Get a new code"));
        msg.error("The Authorization Code has expired. Get a new code and text it to the System Phone Number.");
        return;
      default:
        status.replaceWith(again("Start again"));
        msg.error("This SMS setup has ended. Start again to get a new code.");
        return;
    }
    window.setTimeout(poll, pollMillis);
  };
  window.setTimeout(poll, pollMillis);
}

/**
 * refused stops waiting: the text with the code came from a number no login code can go to
 * (backend's sentence says so and what to do), and the code is used up.
 */
function refused(route: SMSRoute, st: main.SMSEnrollmentStatusView): void {
  const msg = new MessageBox();
  const again = h("button", { type: "button", class: "btn btn-primary", id: "sms-restart", onclick: () => void begin(route) }, "Get a new code");
  page(route, msg, h("div", { class: "alert alert-error", id: "sms-refused", role: "alert" }, st.refused), h("div", { class: "form-actions form-actions-start" }, again));
  again.focus();
}

/** received asks the user to confirm the number the text came from. */
function received(route: SMSRoute, st: main.SMSEnrollmentStatusView): void {
  const msg = new MessageBox();
  const confirm = h("button", { type: "submit", class: "btn btn-success", id: "sms-confirm" }, "Confirm");
  const form = h(
    "form",
    { class: "sms-received", id: "enroll-sms-confirm" },
    h("div", { class: "alert alert-success", id: "sms-arrived" }, "Your text message has arrived."),
    h("p", null, "Your SMS phone number will be:"),
    h("p", { class: "sms-masked", id: "sms-masked-phone" }, st.maskedPhone),
    h(
      "p",
      { class: "muted" },
      `Is this the phone you texted from? Confirm to turn on Two-Factor Authentication with codes sent to it by text message. You will then receive ${forms().recoveryCodeCount} recovery codes. Confirm before ${clockTime(st.expiresAt)}.`,
    ),
    h(
      "div",
      { class: "form-actions form-actions-start" },
      confirm,
      h("button", { type: "button", class: "btn btn-secondary", id: "sms-not-mine", onclick: () => void begin(route) }, "Not my number — start again"),
    ),
  );
  onSubmit(form, async () => {
    msg.clear();
    try {
      const res = await withReauth(() => App.ConfirmSMSEnrollment());
      go({ name: "recoveryCodes", codes: res.recoveryCodes, login: res.login ?? undefined });
    } catch (e) {
      report(e, msg);
    }
  });
  page(route, msg, form);
  confirm.focus();
}

/** page mounts the "Use SMS" frame around content. */
function page(route: SMSRoute, msg: MessageBox, ...content: Child[]): void {
  const back = route.change
    ? h("button", { type: "button", class: "link", onclick: () => go({ name: "profile" }) }, "Back to Profile")
    : h("button", { type: "button", class: "link", onclick: () => go({ name: "enroll", forced: route.forced }) }, "Choose another option");
  authPage(
    true,
    h("h1", null, route.change ? "Change your SMS phone number" : "Use SMS"),
    h("p", { class: "muted" }, intro),
    msg.el,
    ...content,
    h("p", { class: "alt-links" }, back),
  );
}
