// Administration -> Applications: every registered application, as the web's list shows it
// (name, client ID, type, who may use it, Require Two-Factor).
import { App, forms, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { h, plural } from "../ui";

const pageSize = 25;
const query: main.AppQuery = { offset: 0, limit: pageSize };

export async function render(route: Extract<Route, { name: "apps" }>): Promise<void> {
  await signedInPage("apps", async (_me, msg) => {
    const bar = route.flash ? h("div", { class: "status-bar", id: "status-bar", role: "status" }, route.flash) : null;
    const body = h("div");
    const list = async () => {
      try {
        const page = await App.Apps(query);
        body.replaceChildren(table(page), pager(page, list));
      } catch (e) {
        report(e, msg);
      }
    };
    await list();
    return [
      bar,
      pageHeader(
        "Applications",
        "Administration",
        h("button", { type: "button", class: "btn btn-primary", id: "new-app", onclick: () => go({ name: "newApp" }) }, "New Application"),
      ),
      card(null, h("p", { class: "muted", id: "apps-lead" }, forms().apps.lead), body),
    ];
  });
}

function table(page: main.AppListView): HTMLElement {
  if (page.apps.length === 0) return h("p", { class: "empty", id: "apps-empty" }, forms().apps.empty);
  return h(
    "table",
    { class: "table", id: "apps-table" },
    h("thead", null, h("tr", null, ["Name", "Client ID", "Type", "Who may use it", "Require Two-Factor"].map((t) => h("th", null, t)))),
    h(
      "tbody",
      null,
      page.apps.map((a) =>
        h(
          "tr",
          { class: "clickable", "data-name": a.name, onclick: () => go({ name: "app", id: a.id }) },
          h("td", null, h("button", { type: "button", class: "link strong" }, a.name)),
          h("td", null, h("code", null, a.clientId)),
          h("td", null, a.typeLabel),
          h("td", null, a.audienceLabel),
          h("td", null, a.requireTwoFactor ? "Yes" : "No"),
        ),
      ),
    ),
  );
}

function pager(page: main.AppListView, refresh: () => Promise<void>): HTMLElement {
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.apps.length;
  const move = (offset: number) => () => {
    query.offset = offset;
    void refresh();
  };
  return h(
    "div",
    { class: "pager" },
    h("span", { class: "muted" }, `${first}–${last} of ${plural(page.total, "application")}`),
    h(
      "div",
      null,
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: page.offset === 0, onclick: move(Math.max(0, page.offset - page.limit)) }, "Previous"),
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: last >= page.total, onclick: move(page.offset + page.limit) }, "Next"),
    ),
  );
}
