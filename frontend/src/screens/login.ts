// Login: the password step. With no administrator yet, it offers to create the first one.
import { App, backend, forms, toAppError } from "../api";
import { authPage } from "../layout";
import { afterLogin, go, report, Route } from "../nav";
import { field, h, input, MessageBox, onSubmit } from "../ui";

export async function render(route: Extract<Route, { name: "login" }>): Promise<void> {
  const msg = new MessageBox();
  if (route.message) msg.error(route.message);
  else if (route.notice) msg.info(route.notice);

  let firstAdmin = false;
  try {
    firstAdmin = await App.NeedsFirstAdmin();
  } catch (e) {
    report(e, msg);
  }

  const username = input("username", { autocomplete: "username", autofocus: true, required: true });
  const password = input("password", { type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "form", id: "login-form" },
    field("Username", username),
    field("Password", password),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Log in"),
  );
  onSubmit(form, async () => {
    msg.clear();
    try {
      afterLogin(await App.Login(username.value, password.value));
    } catch (e) {
      password.value = "";
      report(e, msg);
      password.focus();
    }
  });

  authPage(
    false,
    h("h1", null, "Log in"),
    h("p", { class: "muted" }, "Sign in to the System with your username and password."),
    msg.el,
    form,
    firstAdmin
      ? h(
          "div",
          { class: "callout" },
          h("strong", null, "New installation"),
          h("p", null, "There is no administrator yet. Create the first administrator account to start."),
          h(
            "button",
            { type: "button", class: "btn btn-secondary", id: "first-admin", onclick: () => go({ name: "firstAdmin" }) },
            "Create the first administrator",
          ),
        )
      : null,
  );
}

export function renderFirstAdmin(): void {
  const msg = new MessageBox();
  const username = input("username", { autocomplete: "username", autofocus: true, required: true });
  const name = input("displayName", { autocomplete: "name" });
  const email = input("email", { type: "email", autocomplete: "email" });
  const password = input("password", { type: "password", autocomplete: "new-password", required: true });
  const confirm = input("confirm", { type: "password", autocomplete: "new-password", required: true });
  // novalidate: the window would name one missing field per try; CheckNewUser names them all.
  const form = h(
    "form",
    { class: "form", novalidate: true },
    field("Username", username),
    field("Full name", name),
    field("Email", email),
    field("Password", password, forms().passwordHintOwn),
    field("Confirm password", confirm),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-secondary", onclick: () => go({ name: "login" }) }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Create administrator"),
    ),
  );
  onSubmit(form, async () => {
    msg.clear();
    const admin = {
      username: username.value,
      displayName: name.value,
      email: email.value,
      password: password.value,
      role: backend.Role.Admin,
      requireTwoFactor: false,
      mustChangePassword: false,
    };
    if (password.value !== confirm.value) {
      // Said with whatever else is wrong, so the form is corrected in one go.
      const rest = await App.CheckNewUser(admin).then(
        () => "",
        (e: unknown) => " " + toAppError(e).message,
      );
      msg.error("The passwords do not match." + rest);
      return;
    }
    try {
      const created = await App.CreateFirstAdmin(admin);
      go({ name: "login", notice: created.notice });
    } catch (e) {
      report(e, msg);
    }
  });
  authPage(false, h("h1", null, "Create the first administrator"), msg.el, form);
}
