// Recovery codes: the 5 codes, shown once, with "Print" or Ctrl+P (a clean sheet via the print
// stylesheet), "Save…" (native dialog, .txt) and the required "I have saved these codes".
import { App, forms } from "../api";
import { authPage } from "../layout";
import { afterLogin, go, report, Route } from "../nav";
import { h, MessageBox, onLeave } from "../ui";

export function render(route: Extract<Route, { name: "recoveryCodes" }>): void {
  const msg = new MessageBox();
  const list = () => h("ol", { class: "codes", id: "recovery-codes" }, route.codes.map((c) => h("li", null, h("code", null, c))));

  const saved = h("input", { type: "checkbox", id: "codes-saved" });
  const done = h("button", { type: "button", class: "btn btn-primary", id: "codes-continue", disabled: true }, "Continue");
  saved.addEventListener("change", () => (done.disabled = !saved.checked));

  const print = h("button", { type: "button", class: "btn btn-secondary", id: "codes-print" }, "Print");
  // GTK's "Print to File" (output.pdf, 0644, working directory) cannot be steered from here: Wails v2 prints with a bare window.print() (runtime.WindowPrint too) and exposes no WebKitPrintOperation/GtkPrintSettings (output-uri), so "Save…" (0600, chosen path) is the safe file.
  print.addEventListener("click", () => window.print());

  const save = h("button", { type: "button", class: "btn btn-secondary", id: "codes-save" }, "Save…");
  save.addEventListener("click", async () => {
    msg.clear();
    try {
      const path = await App.SaveRecoveryCodes();
      if (path) msg.success(`Saved to ${path}`);
    } catch (e) {
      report(e, msg);
    }
  });

  done.addEventListener("click", async () => {
    await App.AcknowledgeRecoveryCodes();
    if (route.login) {
      afterLogin(route.login);
      return;
    }
    go({ name: "profile", flash: route.done ?? forms().notices.twoFactorEnabled });
  });

  // Filled from backend's sheet: that the old set stopped working, when these replaced one.
  const replaced = h("p", { class: "alert alert-warning", id: "codes-replaced", role: "status", hidden: true });

  authPage(
    true,
    h("h1", null, route.regenerated ? "Your new recovery codes" : "Two-Factor Authentication is set up"),
    h(
      "p",
      null,
      `Save these ${forms().recoveryCodeCount} recovery codes in a secure place or print them. Each code can be used once, in lieu of your phone, when you have no cell service or no access to the Internet on your mobile device.`,
    ),
    h("p", { class: "muted" }, "You will not see these codes again. You can generate new ones at any time from your Profile."),
    replaced,
    msg.el,
    list(),
    h("div", { class: "form-actions form-actions-start" }, print, save),
    h("div", { class: "codes-done" }, h("label", { class: "check", for: "codes-saved" }, saved, " I have saved these codes"), done),
  );

  // Ctrl+P prints the sheet too, as long as the screen is shown (registered once mounted).
  const onKey = (ev: KeyboardEvent) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "p") {
      ev.preventDefault();
      window.print();
    }
  };
  document.addEventListener("keydown", onKey);
  onLeave(() => document.removeEventListener("keydown", onKey));

  // The sheet that printing shows instead of the window (see the print stylesheet): backend's
  // text, the one Save writes and the web downloads.
  // Its Replaced is backend's sentence that the old codes stopped working.
  void App.RecoveryCodeSheet().then(
    (sheet) => {
      document.getElementById("print-root")?.replaceChildren(h("pre", { class: "print-sheet" }, sheet.text));
      replaced.textContent = sheet.replaced;
      replaced.hidden = sheet.replaced === "";
    },
    (e) => report(e, msg),
  );
}
