// The fields the New Application and Edit this Application forms share, with backend's help
// sentences (the web's), and the marking of the fields a refused form names.
import { forms, main, toAppError } from "../api";
import { Cancelled } from "../nav";
import { field, h, input } from "../ui";

export interface AppFields {
  els: HTMLElement[];
  value: () => main.AppForm; // the form as typed (Public is New Application's own)
}

/** appFields builds the shared fields, filled with f. */
export function appFields(f: Partial<main.AppForm>): AppFields {
  const o = forms().apps;
  const name = input("name", { value: f.name ?? "", autofocus: true, "data-field": o.fieldName });
  const uris = h("textarea", { name: "redirectUris", id: "f-redirect-uris", class: "uris", rows: 3, spellcheck: "false", "data-field": o.fieldRedirectUris });
  uris.value = f.redirectUris ?? "";
  const domains = h("textarea", { name: "domains", id: "f-domains", class: "uris", rows: 2, spellcheck: "false", "data-field": o.fieldDomains });
  domains.value = f.domains ?? "";
  const audience = o.audiences.map((a) =>
    h("input", { type: "radio", name: "audience", value: a.key, id: `f-audience-${a.key}`, checked: (f.audience || o.defaultAudience) === a.key, "data-field": o.fieldAudience }),
  );
  const require = h("input", { type: "checkbox", id: "f-require-two-factor", checked: !!f.requireTwoFactor });
  const backchannel = input("backchannelLogoutUri", { value: f.backchannelLogoutUri ?? "", inputmode: "url", "data-field": o.fieldBackchannel });
  const els = [
    field("Name", name),
    field("Redirect URIs", uris, o.redirectHelp),
    field("Protected domains (optional)", domains, o.domainsHelp),
    h(
      "fieldset",
      { class: "field radio-group", id: "f-audience" },
      h("legend", null, "Who may use it"),
      o.audiences.map((a, i) => h("label", { class: "radio", for: `f-audience-${a.key}` }, audience[i], " ", a.label)),
    ),
    h("div", { class: "field" }, h("label", { class: "check", for: "f-require-two-factor" }, require, " Require Two-Factor"), h("p", { class: "hint" }, o.requireHelp)),
    field("Back-channel logout URI (optional)", backchannel, o.backchannelHelp),
  ];
  const v: AppFields = {
    els,
    value: () => ({
      name: name.value,
      redirectUris: uris.value,
      domains: domains.value,
      public: false,
      audience: audience.find((r) => r.checked)?.value ?? "",
      requireTwoFactor: require.checked,
      backchannelLogoutUri: backchannel.value,
    }),
  };
  return v;
}

/**
 * markFields marks the controls of form that the error e names (aria-invalid) and clears the
 * others: the message says what is wrong, the marks where; what was typed stays.
 */
export function markFields(form: HTMLFormElement, e: unknown | null): void {
  if (e instanceof Cancelled) return;
  const named = e === null ? [] : toAppError(e).fields;
  form.querySelectorAll<HTMLElement>("[data-field]").forEach((el) => {
    if (named.includes(el.dataset.field ?? "")) el.setAttribute("aria-invalid", "true");
    else el.removeAttribute("aria-invalid");
  });
  form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
