// Change password at login: an administrator set a temporary password.
import { App, forms } from "../api";
import { authPage, logoutLink } from "../layout";
import { afterLogin, report, Route } from "../nav";
import { field, h, input, MessageBox, onSubmit } from "../ui";

export function render(route: Extract<Route, { name: "changePassword" }>): void {
  const msg = new MessageBox();
  const password = input("new-password", { type: "password", autocomplete: "new-password", autofocus: true, required: true });
  const confirm = input("confirm-password", { type: "password", autocomplete: "new-password", required: true });
  const form = h(
    "form",
    { class: "form" },
    field("New password", password, forms().passwordHintOwn),
    field("Confirm new password", confirm),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Set password and continue"),
  );
  onSubmit(form, async () => {
    msg.clear();
    if (password.value !== confirm.value) {
      msg.error("The passwords do not match.");
      return;
    }
    try {
      afterLogin(await App.ChangeExpiredPassword(password.value));
    } catch (e) {
      report(e, msg);
    }
  });
  authPage(
    false,
    h("h1", null, "Choose a new password"),
    h("p", { class: "muted" }, `Hello ${route.user.name}. Your administrator set a temporary password for your account. Choose your own to continue.`),
    msg.el,
    form,
    h(
      "p",
      { class: "alt-links" },
      logoutLink(),
    ),
  );
}
