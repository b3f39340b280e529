// Navigation between screens. main.ts registers the screens; screens call go().
import { backend, main, toAppError } from "./api";
import type { MessageBox } from "./ui";

export type Route =
  | { name: "login"; message?: string; notice?: string }
  | { name: "firstAdmin" }
  | { name: "verify"; user: main.UserView }
  | { name: "enroll"; forced: boolean }
  | { name: "enrollApp"; forced: boolean }
  | { name: "enrollSMS"; forced: boolean; change?: boolean } // change: a new SMS phone, from the Profile
  | { name: "recoveryCodes"; codes: string[]; login?: main.LoginView; regenerated?: boolean; done?: string }
  | { name: "changePassword"; user: main.UserView }
  | { name: "profile"; flash?: string }
  | { name: "users"; flash?: string }
  | { name: "newUser" }
  | { name: "user"; id: number; edit?: boolean; flash?: string }
  | { name: "audit" };

type Renderer = (route: Route) => void | Promise<void>;

let render: Renderer = () => {};

/** setRenderer is called once by main.ts. */
export function setRenderer(r: Renderer) {
  render = r;
}

/** go shows the screen of route. */
export function go(route: Route): void {
  void render(route);
}

/** afterLogin shows the screen for the step a login has reached. */
export function afterLogin(v: main.LoginView): void {
  switch (v.step) {
    case "verify":
      return go({ name: "verify", user: v.user! });
    case "enroll":
      return go({ name: "enroll", forced: true });
    case "change_password":
      return go({ name: "changePassword", user: v.user! });
    default:
      if (v.notice) return go({ name: "profile", flash: v.notice });
      return goHome(v.user!);
  }
}

/** goHome shows where a signed-in user starts: Administration for admins, else the Profile. */
export function goHome(user: main.UserView, flash?: string): void {
  go(user.role === backend.Role.Admin ? { name: "users", flash } : { name: "profile", flash });
}

/**
 * report shows a failed call: in box, or — when the console is no longer signed in (the session
 * or the login ended, e.g. after the idle timeout) — on the login screen.
 */
export function report(e: unknown, box: MessageBox): void {
  if (e instanceof Cancelled) return;
  const err = toAppError(e);
  if (err.signedOut) {
    go({ name: "login", message: err.message });
    return;
  }
  box.error(err.message);
}

/** Cancelled is thrown when the user backs out of a step (e.g. the password confirmation). */
export class Cancelled extends Error {}
