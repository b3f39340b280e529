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
  | { name: "audit" }
  | { name: "apps"; flash?: string }
  | { name: "newApp" }
  | { name: "app"; id: number; edit?: boolean; flash?: string }
  // The client secret just made, its only showing: not refreshable, kept in no other route.
  | { name: "appSecret"; made: main.AppSecretView };

type Renderer = (route: Route) => void | Promise<void>;

let render: Renderer = () => {};

/** setRenderer is called once by main.ts. */
export function setRenderer(r: Renderer) {
  render = r;
}

let current: Route | null = null;
let pendingError = "";

/** go shows the screen of route. */
export function go(route: Route): void {
  current = route;
  void render(route);
}

// The screens that show data others can change (the web, the command line, another console),
// and that refresh shows again. Enrollment and login screens are steps of a flow: showing one
// again would start its step over.
const refreshable = new Set<Route["name"]>(["profile", "users", "user", "audit", "apps", "app"]);

/** canRefresh reports whether the screen now shown is one that refresh shows again. */
export function canRefresh(): boolean {
  return current !== null && refreshable.has(current.name);
}

/**
 * refresh shows the current screen again with fresh data, without its one-time status bar;
 * error, if given, is shown at its top (takePendingError). It does nothing on the other screens.
 */
export function refresh(error = ""): boolean {
  if (!current || !canRefresh()) return false;
  const { flash: _flash, ...again } = current as Route & { flash?: string };
  pendingError = error;
  go(again as Route);
  return true;
}

/** takePendingError is the error refresh was asked to show over the fresh screen, once. */
export function takePendingError(): string {
  const e = pendingError;
  pendingError = "";
  return e;
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
  // Refused because things changed since the screen was drawn: show them as they are now,
  // with the reason on top (any dialog closes with the old screen).
  if (err.refused && !loading && refresh(err.message)) return;
  box.error(err.message);
}

let loading = false;

/**
 * loadingScreen runs load, a screen fetching what it shows: a refusal there is shown as it is,
 * not answered with a refresh, which would load the same again.
 */
export async function loadingScreen<T>(load: () => Promise<T>): Promise<T> {
  loading = true;
  try {
    return await load();
  } finally {
    loading = false;
  }
}

/** Cancelled is thrown when the user backs out of a step (e.g. the password confirmation). */
export class Cancelled extends Error {}
