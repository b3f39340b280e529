// Security keys and passkeys on the console: listed and removed here; added and used in a web
// browser, since this window (WebKitGTK) has no WebAuthn. Every word is backend's (KeyView).
import { main } from "./api";
import { BrowserOpenURL } from "../wailsjs/runtime/runtime";
import { dialog, h } from "./ui";

/**
 * keysTable lists keys (name, added, last used, the administrator's warning) with a Remove
 * button each, which asks with the key's sentence and then calls remove; a key that may not be
 * removed shows backend's reason instead.
 */
export function keysTable(keys: main.KeyView[], remove: (k: main.KeyView) => Promise<void>, showWarnings: boolean): HTMLElement {
  if (keys.length === 0) return h("p", { class: "muted", id: "no-keys" }, "None.");
  return h(
    "table",
    { class: "table table-compact", id: "security-keys" },
    h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Added"), h("th", null, "Last used"), h("th", null, ""))),
    h(
      "tbody",
      null,
      keys.map((k) =>
        h(
          "tr",
          null,
          h("td", null, k.name, showWarnings && k.warning ? h("p", { class: "warning small" }, k.warning) : null),
          h("td", null, k.added),
          h("td", null, k.lastUsed),
          h(
            "td",
            null,
            !k.removable ? h("p", { class: "muted small" }, k.confirm) : h(
              "button",
              {
                type: "button",
                class: "btn btn-secondary btn-small",
                "aria-label": `Remove ${k.name}`,
                onclick: async () => {
                  const ok = await dialog({ title: "Remove security key or passkey", body: h("p", null, k.confirm), confirm: "Remove security key or passkey", confirmClass: "btn-danger" });
                  if (ok) await remove(k);
                },
              },
              "Remove",
            ),
          ),
        ),
      ),
    ),
  );
}

/** keysInBrowser is backend's note that keys are added in a browser, with the link to the page. */
export function keysInBrowser(note: string, url: string): HTMLElement {
  return h(
    "p",
    { class: "muted card-note", id: "keys-in-browser" },
    note,
    url ? [" ", h("a", { href: url, onclick: (e: Event) => { e.preventDefault(); BrowserOpenURL(url); } }, url)] : null,
  );
}
