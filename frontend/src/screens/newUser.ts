// Administration -> Users -> New User, with backend's defaults ("Two-Factor Authentication" No;
// Yes makes the user enroll at their first login) and password rule.
import { App, backend, forms } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report } from "../nav";
import { withReauth } from "../reauth";
import { field, h, input, MessageBox, onSubmit } from "../ui";

export async function render(): Promise<void> {
  await signedInPage("users", async () => {
    const msg = new MessageBox();
    const username = input("username", { autofocus: true, required: true });
    const name = input("displayName");
    const email = input("email", { type: "email" });
    const password = input("password", { type: "password", autocomplete: "new-password", required: true });
    const defaults = forms().newUser;
    const role = h("select", { name: "role" }, forms().roles.map((r) => h("option", { value: r.key }, r.label)));
    role.value = defaults.role;
    const tfNo = h("input", { type: "radio", name: "twoFactor", value: "no", id: "two-factor-no", checked: !defaults.requireTwoFactor });
    const tfYes = h("input", { type: "radio", name: "twoFactor", value: "yes", id: "two-factor-yes", checked: defaults.requireTwoFactor });
    const mustChange = h("input", { type: "checkbox", name: "mustChange", id: "must-change", checked: defaults.mustChangePassword });

    const form = h(
      "form",
      // novalidate: the window would name one missing field per try; the backend names them all.
      { class: "form form-wide", id: "new-user-form", novalidate: true },
      msg.el,
      h("div", { class: "grid-2 tight" }, field("Username", username), field("Full name", name)),
      h("div", { class: "grid-2 tight" }, field("Email", email), field("Role", role)),
      field("Password", password, forms().passwordHintForUser),
      h("label", { class: "check", for: "must-change" }, mustChange, " The user must choose a new password at first login"),
      h(
        "fieldset",
        { class: "field radio-group" },
        h("legend", null, "Two-Factor Authentication"),
        h("label", { class: "radio", for: "two-factor-no" }, tfNo, " No"),
        h("label", { class: "radio", for: "two-factor-yes" }, tfYes, " Yes"),
        h("p", { class: "hint" }, "Yes requires the user to enroll in Two-Factor Authentication when they log in for the first time."),
      ),
      h(
        "div",
        { class: "form-actions form-actions-start" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Create User"),
        h("button", { type: "button", class: "btn btn-secondary", onclick: () => go({ name: "users" }) }, "Cancel"),
      ),
    );
    onSubmit(form, async () => {
      msg.clear();
      try {
        const u = await withReauth(() =>
          App.CreateUser({
            username: username.value,
            displayName: name.value,
            email: email.value,
            password: password.value,
            role: role.value as backend.Role,
            requireTwoFactor: tfYes.checked,
            mustChangePassword: mustChange.checked,
          }),
        );
        go({ name: "user", id: u.id, flash: u.notice });
      } catch (e) {
        report(e, msg);
      }
    });
    return [pageHeader("New User", "Administration › Users"), card(null, form)];
  });
}
