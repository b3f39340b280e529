package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gatehouse/backend"
)

// TestBrowserApplications: an administrator registers an application in Administration →
// Applications, sees its client secret once (not after a reload, nor on its page), regenerates
// it (the old one stops working), and deletes the application after confirming.
func TestBrowserApplications(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("root", backend.RoleAdmin, false)
	tb := e.tab(t, b)
	tb.logIn("root", testPassword)
	tb.waitHeading("Profile")
	tb.open("/admin")
	tb.click("Applications")
	tb.waitHeading("Applications")
	tb.wantText("No applications yet.")
	tb.click("New Application")
	tb.waitHeading("New Application")

	// A mistake: the form again, what was typed kept, the field marked.
	tb.fill("Name", "Wiki")
	tb.fill("Redirect URIs", "http://wiki.example.com/oauth2/callback")
	tb.click("Create Application")
	tb.waitFor(`document.querySelector("#form-error") !== null`)
	tb.wantText(`The redirect URI "http://wiki.example.com/oauth2/callback" must use https`)
	if v := tb.eval(`document.getElementById("f-redirect_uris").getAttribute("aria-invalid") + " " + document.getElementById("f-name").value`); v != "true Wiki" {
		t.Errorf("after the mistake: redirect URIs aria-invalid and name: got %q, want %q", v, "true Wiki")
	}
	tb.screenshots("app-new-error")

	tb.fill("Redirect URIs", "https://wiki.example.com/oauth2/callback\nhttp://localhost:8080/cb")
	tb.click("Administrators only")
	tb.click("Require Two-Factor")
	tb.click("Create Application")
	tb.waitHeading("Client secret of Wiki")
	tb.wantText("Application Wiki created.", backend.SecretShownOnce)
	secret := tb.eval(`document.getElementById("client-secret").value`)
	if len(secret) != 43 {
		t.Fatalf("the secret shown: got %q, want 43 characters", secret)
	}
	tb.screenshots("app-secret")
	a, err := e.svc.AppByRef(t.Context(), e.svc.Operator(), "Wiki")
	if err != nil {
		t.Fatal(err)
	}
	if !a.CheckSecret(secret) || a.Audience != backend.AudienceAdmins || !a.RequireTwoFactor || len(a.RedirectURIs) != 2 {
		t.Errorf("the application stored: %+v; want the secret shown, administrators only, Two-Factor required, 2 URIs", a)
	}

	// Once: a reload shows the form it came from, the application's page no secret.
	tb.do(chromedp.Reload())
	tb.waitHeading("New Application")
	if strings.Contains(tb.text(), secret) {
		t.Error("a reload shows the client secret again")
	}
	tb.open("/admin/apps")
	tb.wantText(a.ClientID, "Administrators only")
	tb.screenshots("apps-list")
	tb.click("Wiki")
	tb.waitHeading("Wiki")
	tb.wantText(a.ClientID, "Administrators only", "https://wiki.example.com/oauth2/callback", "http://localhost:8080/cb")
	if strings.Contains(tb.text(), secret) {
		t.Error("the application's page shows the client secret")
	}
	tb.screenshots("app-page")

	// Regenerate, confirmed in the dialog: a new secret, once; the old one is void.
	tb.click("Regenerate secret")
	tb.waitFor(`document.getElementById("dialog-secret").open`)
	tb.wantText(backend.RegenerateSecretConfirmation(a))
	tb.do(chromedp.Click(chromedp.CSS(`#dialog-secret button[type=submit]`)))
	tb.waitHeading("Client secret of Wiki")
	fresh := tb.eval(`document.getElementById("client-secret").value`)
	a, _ = e.svc.App(t.Context(), e.svc.Operator(), a.ID)
	if fresh == secret || !a.CheckSecret(fresh) || a.CheckSecret(secret) {
		t.Errorf("after Regenerate secret: new %q works %v, old works %v; want a new one, the old void", fresh, a.CheckSecret(fresh), a.CheckSecret(secret))
	}
	tb.click("I have copied the secret")
	tb.waitHeading("Wiki")

	// Edit: the list of URIs replaced.
	tb.click("Edit this Application")
	tb.waitHeading("Edit this Application")
	tb.fill("Redirect URIs", "https://wiki.example.com/new")
	tb.screenshots("app-edit")
	tb.click("Save changes")
	tb.waitHeading("Wiki")
	tb.wantText("Application Wiki saved.", "https://wiki.example.com/new")

	// Delete, confirmed.
	tb.click("Delete")
	tb.waitFor(`document.getElementById("dialog-delete").open`)
	tb.do(chromedp.Click(chromedp.CSS(`#dialog-delete button[type=submit]`)))
	tb.waitHeading("Applications")
	tb.wantText("Application Wiki deleted.", "No applications yet.")
	if _, err := e.svc.App(t.Context(), e.svc.Operator(), a.ID); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("the deleted application: got %v, want ENOTFOUND", err)
	}
}

var secretPattern = regexp.MustCompile(`id="client-secret"[^>]*>([A-Za-z0-9_-]{43})</textarea>`)

// TestApplicationPages: without JavaScript, every page and form works; users who are not
// administrators get none of them; the secret is on the answer to the post only.
func TestApplicationPages(t *testing.T) {
	e := newEnv(t)
	e.user("root", backend.RoleAdmin, false)
	e.user("alice", backend.RoleUser, false)

	user := e.client()
	user.signIn("alice")
	for _, p := range []string{"/admin/apps", "/admin/apps/new"} {
		user.get(p).wantStatus(t, http.StatusForbidden)
	}
	user.post("/admin/apps/new", url.Values{"name": {"X"}, "redirect_uris": {"https://x.example.com/"}}).wantStatus(t, http.StatusForbidden)

	admin := e.client()
	admin.signIn("root")
	admin.get("/admin/apps").wantBody(t, `href="/admin/apps" class="active"`, "No applications yet.")
	r := admin.post("/admin/apps/new", url.Values{"name": {""}, "redirect_uris": {"https://x.example.com/#f"}, "audience": {"everyone"}, "type": {"confidential"}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "Enter a name for the application.", "must not have a fragment")
	r = admin.post("/admin/apps/new", url.Values{"name": {"Tracker"}, "redirect_uris": {"https://tracker.example.com/cb"}, "audience": {"everyone"}, "type": {"confidential"}})
	r.wantStatus(t, http.StatusOK)
	m := secretPattern.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the answer:\n%s", excerpt(r.body))
	}
	a, _ := e.svc.AppByRef(t.Context(), e.svc.Operator(), "Tracker")
	if !a.CheckSecret(m[1]) {
		t.Errorf("the secret shown does not check")
	}
	for _, p := range []string{"/admin/apps", "/admin/apps/new", string(appURL(a, "")), string(appURL(a, "/edit")), string(appURL(a, "/secret")), string(appURL(a, "/delete"))} {
		r := admin.get(p)
		r.wantStatus(t, http.StatusOK)
		if strings.Contains(r.body, m[1]) {
			t.Errorf("%s shows the client secret", p)
		}
	}
	admin.get("/admin/apps/999").wantStatus(t, http.StatusNotFound)
	// A public application: no secret page, its own page with the notice.
	r = admin.post("/admin/apps/new", url.Values{"name": {"SPA"}, "redirect_uris": {"https://spa.example.com/"}, "audience": {"everyone"}, "type": {"public"}})
	spa, _ := e.svc.AppByRef(t.Context(), e.svc.Operator(), "SPA")
	r.wantRedirect(t, string(appURL(spa, "")))
	admin.follow(r).wantBody(t, "Application SPA created.", "Public (no secret, PKCE)")
	if r := admin.get(string(appURL(spa, ""))); strings.Contains(r.body, "Regenerate secret") {
		t.Error("a public application's page offers Regenerate secret")
	}
	admin.post(string(appURL(spa, "/delete")), nil).wantRedirect(t, "/admin/apps")
}
