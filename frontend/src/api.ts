// The front end's only door to Go: the generated Wails bindings, plus how their errors look.
import * as App from "../wailsjs/go/main/App";
import { backend, main } from "../wailsjs/go/models";

export { App, backend, main };

let formsView: main.FormsView | null = null;

/** loadForms fetches what the forms state (backend's rules); main.ts calls it once at start. */
export async function loadForms(): Promise<void> {
  formsView = await App.Forms();
}

/** forms is what the forms state: password rule, recovery-code count, defaults, choices. */
export function forms(): main.FormsView {
  if (!formsView) throw new Error("loadForms has not run");
  return formsView;
}

/** AppError is what a bound method rejects with (app.go: ErrorView). */
export interface AppError {
  code: string;
  message: string;
  signedOut: boolean;
  refused: boolean;
  fields: string[]; // the form fields the message is about (backend's Error.Fields keys)
}

const generic = "Something went wrong. Please try again; if it keeps happening, tell your administrator.";

/** toAppError reads a rejection of a bound method. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const v = e as { code: unknown; message: unknown; signedOut?: unknown; refused?: unknown; fields?: unknown };
    const fields = Array.isArray(v.fields) ? v.fields.map(String) : [];
    return { code: String(v.code), message: String(v.message), signedOut: v.signedOut === true, refused: v.refused === true, fields };
  }
  console.error(e);
  return { code: "internal", message: generic, signedOut: false, refused: false, fields: [] };
}

// Backend error codes the screens act on (backend/error.go).
export const EREAUTH = "reauth";
export const EUNAVAILABLE = "unavailable";
