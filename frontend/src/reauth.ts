// Password confirmation: two-factor changes in the profile, and the administrator's changes that
// remove a factor, set a password or change a role, need a recently confirmed password.
// The backend says so with the "reauth" code; this asks for the password and tries again.
import { App, EREAUTH, toAppError } from "./api";
import { Cancelled, report } from "./nav";
import { dialog, DialogHandled, field, h, input } from "./ui";

/**
 * withReauth runs action, asking for the password once if the backend wants it confirmed;
 * reason, backend's, says why when the change has a sentence of its own (applications).
 */
export async function withReauth<T>(action: () => Promise<T>, reason = "For your security, enter your password again to make this change."): Promise<T> {
  try {
    return await action();
  } catch (e) {
    if (toAppError(e).code !== EREAUTH) throw e;
  }
  const password = input("confirm-password", { type: "password", autocomplete: "current-password", autofocus: true });
  const ok = await dialog(
    {
      title: "Confirm your password",
      body: [h("p", null, reason), field("Password", password)],
      confirm: "Confirm",
    },
    async (msg) => {
      try {
        await App.ConfirmPassword(password.value);
      } catch (e) {
        password.value = "";
        report(e, msg);
        throw new DialogHandled();
      }
    },
  );
  if (!ok) throw new Cancelled();
  return action();
}
