// Administration -> Users: the No/Pending/Enabled overview, search, status filter, and the user
// table with its "Two-Factor Authentication" column.
import { App, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report, Route } from "../nav";
import { h, plural, statusBadge } from "../ui";
import { accountBadge } from "./user";

const pageSize = 25;

// The filter survives a visit to a user's page and back.
const query: main.UserQuery = { search: "", status: "" as main.UserQuery["status"], offset: 0, limit: pageSize };

export async function render(route: Extract<Route, { name: "users" }>): Promise<void> {
  await signedInPage("users", async (_me, msg) => {
    if (route.flash) msg.info(route.flash);
    const counts = await App.StatusCounts();
    const body = h("div");
    const chart = h("div");
    const list = async () => {
      try {
        const page = await App.Users(query);
        body.replaceChildren(table(page), pager(page, list));
        chart.replaceChildren(overview(counts, list));
      } catch (e) {
        report(e, msg);
      }
    };

    let timer = 0;
    const search = h("input", {
      type: "search",
      id: "user-search",
      placeholder: "Search by username, name or email",
      value: query.search,
      oninput: () => {
        clearTimeout(timer);
        timer = window.setTimeout(() => {
          query.search = search.value;
          query.offset = 0;
          void list();
        }, 200);
      },
    });
    const status = h(
      "select",
      { id: "status-filter", "aria-label": "Two-Factor Authentication status" },
      h("option", { value: "" }, "All Two-Factor statuses"),
      counts.map((c) => h("option", { value: c.status }, c.label)),
    );
    status.value = query.status;
    status.addEventListener("change", () => {
      query.status = status.value as main.UserQuery["status"];
      query.offset = 0;
      void list();
    });
    statusSelect = status;
    await list();

    return [
      pageHeader(
        "Users",
        "Administration",
        h("button", { type: "button", class: "btn btn-primary", id: "new-user", onclick: () => go({ name: "newUser" }) }, "New User"),
      ),
      chart,
      card(null, h("div", { class: "toolbar" }, search, status), body),
    ];
  });
}

let statusSelect: HTMLSelectElement | null = null;

function overview(counts: main.StatusCount[], refresh: () => Promise<void>): HTMLElement {
  const total = counts.reduce((n, c) => n + c.count, 0);
  return card(
    "Two-Factor Authentication overview",
    h(
      "div",
      { class: "overview" },
      h(
        "div",
        { class: "stack", role: "img", "aria-label": counts.map((c) => `${c.label}: ${c.count}`).join(", ") },
        counts.filter((c) => c.count > 0).map((c) => h("div", { class: `stack-part bar-${c.status}`, style: `flex-grow:${c.count}` })),
      ),
      h(
        "div",
        { class: "legend" },
        counts.map((c) =>
          h(
            "button",
            {
              type: "button",
              class: `legend-item ${query.status === c.status ? "selected" : ""}`,
              title: `Show users with status ${c.label}`,
              onclick: () => {
                query.status = query.status === c.status ? ("" as main.UserQuery["status"]) : c.status;
                query.offset = 0;
                if (statusSelect) statusSelect.value = query.status;
                void refresh();
              },
            },
            h("span", { class: `swatch bar-${c.status}` }),
            h("span", { class: "legend-label" }, c.label),
            h("span", { class: "legend-count" }, String(c.count)),
            h("span", { class: "legend-pct" }, total ? `${Math.round((100 * c.count) / total)}%` : "0%"),
          ),
        ),
      ),
    ),
  );
}

function table(page: main.UserListView): HTMLElement {
  if (page.users.length === 0) {
    return h("p", { class: "empty" }, "No users match.");
  }
  return h(
    "table",
    { class: "table", id: "users-table" },
    h("thead", null, h("tr", null, ["Username", "Name", "Email", "Role", "Two-Factor Authentication"].map((t) => h("th", null, t)))),
    h(
      "tbody",
      null,
      page.users.map((u) =>
        h(
          "tr",
          { class: "clickable", "data-username": u.username, onclick: () => go({ name: "user", id: u.id }) },
          h("td", null, h("button", { type: "button", class: "link strong" }, u.username), accountBadge(u)),
          h("td", null, u.displayName),
          h("td", null, u.email),
          h("td", null, u.roleLabel),
          h("td", { class: "status-cell" }, statusBadge(u)),
        ),
      ),
    ),
  );
}

function pager(page: main.UserListView, refresh: () => Promise<void>): HTMLElement {
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.users.length;
  const move = (offset: number) => () => {
    query.offset = offset;
    void refresh();
  };
  return h(
    "div",
    { class: "pager" },
    h("span", { class: "muted" }, `${first}–${last} of ${plural(page.total, "user")}`),
    h(
      "div",
      null,
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: page.offset === 0, onclick: move(Math.max(0, page.offset - page.limit)) }, "Previous"),
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: last >= page.total, onclick: move(page.offset + page.limit) }, "Next"),
    ),
  );
}
