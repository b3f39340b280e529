// Administration -> Audit Log: who did what to whom, and when, newest first.
import { App, forms, main } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { report } from "../nav";
import { h, plural } from "../ui";

const query: main.AuditQuery = { action: "", username: "", offset: 0, limit: 50 };

export async function render(): Promise<void> {
  await signedInPage("audit", async (_me, msg) => {
    const body = h("div");
    const load = async () => {
      try {
        const page = await App.AuditLog(query);
        body.replaceChildren(table(page), pager(page, load));
      } catch (e) {
        report(e, msg);
      }
    };
    const kind = h("select", { "aria-label": "Kind of event" }, forms().auditKinds.map((k) => h("option", { value: k.key }, k.label)));
    kind.value = query.action;
    kind.addEventListener("change", () => {
      query.action = kind.value;
      query.offset = 0;
      void load();
    });
    const user = h("input", { type: "search", placeholder: "Username", value: query.username });
    user.addEventListener("change", () => {
      query.username = user.value;
      query.offset = 0;
      void load();
    });
    await load();
    return [pageHeader("Audit Log", "Administration"), card(null, h("div", { class: "toolbar" }, user, kind), body)];
  });
}

function table(page: main.AuditLogView): HTMLElement {
  if (page.events.length === 0) return h("p", { class: "empty" }, "No events.");
  return h(
    "table",
    { class: "table table-compact", id: "audit-table" },
    h("thead", null, h("tr", null, ["When", "Event", "By", "User", "Application", "Details", "From"].map((t) => h("th", null, t)))),
    h(
      "tbody",
      null,
      page.events.map((e) =>
        h(
          "tr",
          null,
          h("td", { class: "nowrap" }, e.time),
          h("td", { title: e.action }, e.text),
          h("td", null, e.actor || "—"),
          h("td", null, e.target || "—"),
          h("td", null, e.app || "—"),
          h("td", { class: "muted" }, e.detail),
          h("td", { class: "muted" }, e.ip),
        ),
      ),
    ),
  );
}

function pager(page: main.AuditLogView, refresh: () => Promise<void>): HTMLElement {
  const last = page.offset + page.events.length;
  return h(
    "div",
    { class: "pager" },
    h("span", { class: "muted" }, `${page.total === 0 ? 0 : page.offset + 1}–${last} of ${plural(page.total, "event")}`),
    h(
      "div",
      null,
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: page.offset === 0, onclick: () => { query.offset = Math.max(0, page.offset - page.limit); void refresh(); } }, "Newer"),
      h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: last >= page.total, onclick: () => { query.offset = page.offset + page.limit; void refresh(); } }, "Older"),
    ),
  );
}
