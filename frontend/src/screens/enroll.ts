// Enroll: choose how to set up Two-Factor Authentication — "Use an App" or "Use SMS". Reached
// from the profile ("Setup Two-Factor"), or forced at login when an administrator requires it;
// then the only way out is "Log out".
import { forms } from "../api";
import { authPage, logoutLink } from "../layout";
import { go, Route } from "../nav";
import { h } from "../ui";

export function render(route: Extract<Route, { name: "enroll" }>): void {
  const forced = route.forced;
  const unavailable = forms().smsUnavailable;
  authPage(
    true,
    h("h1", null, "Set up Two-Factor Authentication"),
    forced
      ? h(
          "div",
          { class: "alert alert-info", id: "enroll-required" },
          "Your administrator requires Two-Factor Authentication for your account. You must set it up now to continue.",
        )
      : null,
    h("p", null, "Two Factor Authentication supports two options for authenticating:"),
    h(
      "div",
      { class: "choices" },
      h(
        "div",
        { class: "choice" },
        h("h3", null, "Authenticator app"),
        h("p", { class: "muted" }, "Get codes from an app on your phone, such as Google Authenticator, Microsoft Authenticator or Authy. Works without cell service."),
        h("button", { type: "button", class: "btn btn-success btn-block", id: "use-app", onclick: () => go({ name: "enrollApp", forced }) }, "Use an App"),
      ),
      h(
        "div",
        { class: "choice" },
        h("h3", null, "Text message (SMS)"),
        h("p", { class: "muted" }, "Text an Authorization Code to the System Phone Number; your SMS settings are set up automatically."),
        // Not offered as working when this System cannot send texts: backend's sentence says why.
        unavailable ? h("p", { class: "alert alert-info", id: "sms-unavailable" }, unavailable) : null,
        h(
          "button",
          { type: "button", class: "btn btn-primary btn-block", id: "use-sms", disabled: !!unavailable, onclick: () => go({ name: "enrollSMS", forced }) },
          "Use SMS",
        ),
      ),
    ),
    h(
      "p",
      { class: "alt-links" },
      forced
        ? logoutLink()
        : h("button", { type: "button", class: "link", onclick: () => go({ name: "profile" }) }, "Back to Profile"),
    ),
  );
}
