// Administration -> Applications -> New Application: backend's fields, help and types (the
// web's); a confidential application's secret is shown next, once.
import { App, forms } from "../api";
import { card, pageHeader, signedInPage } from "../layout";
import { go, report } from "../nav";
import { withReauth } from "../reauth";
import { h, MessageBox, onSubmit } from "../ui";
import { appFields, markFields } from "./appFields";

export async function render(): Promise<void> {
  await signedInPage("apps", async () => {
    const msg = new MessageBox();
    const o = forms().apps;
    const fields = appFields({ audience: o.defaultAudience });
    const types = o.types.map((t) =>
      h("input", { type: "radio", name: "type", value: t.public ? "public" : "confidential", id: `f-type-${t.public ? "public" : "confidential"}`, checked: !t.public }),
    );
    const form = h(
      "form",
      // novalidate: the backend names every mistake at once.
      { class: "form form-wide", id: "new-app-form", novalidate: true },
      msg.el,
      fields.els,
      h(
        "fieldset",
        { class: "field radio-group" },
        h("legend", null, "Type"),
        o.types.map((t, i) => h("label", { class: "radio", for: types[i].id }, types[i], " ", t.help)),
      ),
      h(
        "div",
        { class: "form-actions form-actions-start" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Create Application"),
        h("button", { type: "button", class: "btn btn-secondary", onclick: () => go({ name: "apps" }) }, "Cancel"),
      ),
    );
    onSubmit(form, async () => {
      msg.clear();
      markFields(form, null);
      try {
        const made = await withReauth(() => App.CreateApp({ ...fields.value(), public: types[1].checked }), o.passwordReason);
        if (made.secret) go({ name: "appSecret", made });
        else go({ name: "app", id: made.app!.id, flash: made.notice });
      } catch (e) {
        markFields(form, e);
        report(e, msg);
      }
    });
    return [pageHeader("New Application", "Administration › Applications"), card(null, form)];
  });
}
