// The frame of every signed-in screen: the top bar with the "Administration" tab (admins) and
// the username menu (Profile, Log out) in the upper right corner, as in the help article.
import { App, backend, forms, main } from "./api";
import { go, loadingScreen, refresh, report, takePendingError } from "./nav";
import { Child, dialog, h, mount, MessageBox } from "./ui";

export type Tab = "profile" | "users" | "audit" | "apps";

/** brand is the product mark shown in the top bar and on the login screens. */
export function brand(): HTMLElement {
  return h(
    "div",
    { class: "brand" },
    h("img", { src: logoURL, alt: "", width: 28, height: 28 }),
    h("span", null, "Gatehouse"),
  );
}

/**
 * signedInPage loads the signed-in user and mounts a page for them. build returns the page
 * content; a session that has ended sends the user back to the login screen.
 */
export async function signedInPage(
  tab: Tab,
  build: (me: main.UserView, msg: MessageBox) => Promise<Child | Child[]>,
): Promise<void> {
  const msg = new MessageBox();
  const refused = takePendingError();
  let me: main.UserView;
  try {
    me = await App.Session();
  } catch (e) {
    report(e, msg);
    return;
  }
  let content: Child | Child[];
  try {
    content = await loadingScreen(() => build(me, msg));
  } catch (e) {
    report(e, msg);
    content = null;
  }
  // The reason an action was refused, over the screen as it is now (nav.ts report).
  if (refused) msg.error(refused);
  mount(topBar(me, tab), h("main", { class: "page" }, msg.el, content));
}

function topBar(me: main.UserView, tab: Tab): HTMLElement {
  const tabs: Child[] = [];
  if (me.role === backend.Role.Admin) {
    tabs.push(
      h(
        "div",
        { class: `tab tab-menu ${tab !== "profile" ? "active" : ""}` },
        h("button", { type: "button", class: "tab-button", onclick: () => go({ name: "users" }) }, "Administration"),
        h(
          "div",
          { class: "menu" },
          h("button", { type: "button", onclick: () => go({ name: "users" }) }, "Users"),
          h("button", { type: "button", id: "menu-apps", onclick: () => go({ name: "apps" }) }, "Applications"),
          h("button", { type: "button", id: "menu-audit", onclick: () => go({ name: "audit" }) }, "Audit Log"),
        ),
      ),
    );
  }
  const logout = async () => {
    try {
      await App.Logout();
    } finally {
      go({ name: "login", notice: forms().notices.loggedOut });
    }
  };
  return h(
    "header",
    { class: "topbar" },
    brand(),
    h("nav", { class: "tabs" }, tabs),
    h(
      "button",
      { type: "button", class: "btn-light refresh", id: "refresh", title: "Show the latest data (F5)", onclick: () => refresh() },
      "Refresh",
    ),
    h(
      "div",
      { class: "user-menu" },
      h(
        "button",
        { type: "button", class: "user-button", "aria-haspopup": "true" },
        h("span", { class: "avatar" }, initials(me.name)),
        h("span", { class: "user-name" }, me.username),
        h("span", { class: "caret" }, "▾"),
      ),
      h(
        "div",
        { class: "menu menu-right" },
        h("div", { class: "menu-header" }, me.name, h("small", null, me.roleLabel)),
        h("button", { type: "button", class: tab === "profile" ? "current" : "", onclick: () => go({ name: "profile" }) }, "Profile"),
        h("button", { type: "button", id: "about", onclick: () => void about() }, "About Gatehouse"),
        h("button", { type: "button", onclick: logout }, "Log out"),
      ),
    ),
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase() || "?";
}

/** pageHeader is a page's title line with actions on the right. */
export function pageHeader(title: string, subtitle?: Child | Child[], ...actions: Child[]): HTMLElement {
  return h(
    "div",
    { class: "page-header" },
    h("div", null, h("h1", null, title), subtitle ? h("p", { class: "subtitle" }, subtitle) : null),
    h("div", { class: "page-actions" }, actions),
  );
}

/** card is a white panel with an optional title. */
export function card(title: string | null, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", { class: "card" }, title ? h("h2", { class: "card-title" }, title) : null, ...children);
}

/** authCard is the centred panel of the login, verify and enrollment screens. */
export function authPage(wide: boolean, ...children: (Child | Child[])[]): void {
  mount(
    h(
      "div",
      { class: "auth" },
      h("div", { class: "auth-brand" }, brand()),
      h("div", { class: `auth-card ${wide ? "auth-card-wide" : ""}` }, ...children),
      h(
        "p",
        { class: "auth-foot" },
        "Gatehouse desktop console · ",
        h("button", { type: "button", class: "link", id: "about", onclick: () => void about() }, "About"),
      ),
    ),
  );
}

/** about shows backend's version text, the one `gatehouse version` prints. */
export async function about(): Promise<void> {
  const text = await App.About();
  await dialog({ title: "About Gatehouse", body: h("pre", { class: "version", id: "version-text" }, text), confirm: "Close", noCancel: true });
}

const logoURL = new URL("./assets/logo.svg", import.meta.url).href;

/** logoutLink is the one way out of a login in progress (verify, enroll, change password). */
export function logoutLink(): HTMLElement {
  return h(
    "button",
    {
      type: "button",
      class: "link",
      onclick: async () => {
        await App.Logout().catch(() => {});
        go({ name: "login" });
      },
    },
    "Log out",
  );
}
