package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/backend"
)

// The forced-enrollment page's words for an application's Require Two-Factor.
const (
	payrollLead  = "Payroll requires Two-Factor Authentication. Set it up now to finish signing in to Payroll."
	payrollAside = "You will be asked again when you next sign in to Payroll."
	payrollPage  = "https://payroll.example.com/pay/slip?month=11"
)

// forwardEnroll takes c, signed in with a password just given, from a page of forward-auth
// protected Payroll to its step-up and into the forced enrollment, and returns the enroll page.
func forwardEnroll(t *testing.T, c *client) *response {
	t.Helper()
	step := c.get("/login?rd=" + url.QueryEscape(payrollPage))
	step.wantStatus(t, http.StatusOK)
	step.wantBody(t, "Set up Two-Factor", `action="/login/forward-enroll"`)
	c.post("/login/forward-enroll", url.Values{"rd": {payrollPage}}).wantRedirect(t, "/login/enroll")
	return c.get("/login/enroll")
}

// TestRequiredEnrollmentWordsNameTheApp: a forced enrollment an application began, by OpenID
// Connect or by forward-auth, says that the application requires Two-Factor, not "Your
// administrator"; the one an administrator's requirement began keeps the article's words.
// Either way what the login resumes is one binding, taken once: the enrollment ends back at
// the application.
func TestRequiredEnrollmentWordsNameTheApp(t *testing.T) {
	o := newOIDCEnv(t)
	_, payroll := o.app("Payroll", func(na *backend.NewApp) {
		na.RequireTwoFactor = true
		na.Domains = []string{"payroll.example.com"}
	})
	wantAppWords := func(t *testing.T, path string, page *response) {
		t.Helper()
		page.wantStatus(t, http.StatusOK)
		page.wantBody(t, "Use an App", "Use SMS", payrollLead, payrollAside)
		if strings.Contains(page.body, "Your administrator requires") {
			t.Errorf("%s: the enroll page says the administrator requires it:\n%s", path, excerpt(page.body))
		}
	}
	finish := func(t *testing.T, c *client) *response {
		t.Helper()
		c.post("/login/enroll/app", nil).wantRedirect(t, "/login/enroll/app")
		key := appKey(t, c.get("/login/enroll/app").body)
		c.post("/login/enroll/app/confirm", url.Values{"code": {o.env.code(key)}}).wantRedirect(t, "/recovery-codes")
		recoveryCodes(t, c.get("/recovery-codes").body)
		return c.post("/recovery-codes/done", nil)
	}

	{ // OpenID Connect
		o.user("bob", backend.RoleUser, false)
		c := o.client()
		c.signIn("bob")
		r := c.getURL(c.authorize(payroll, oauth2.GenerateVerifier(), "s", "n").Header.Get("Location"))
		r.wantRedirect(t, "/login/enroll")
		wantAppWords(t, "OpenID Connect", c.get("/login/enroll"))
		if u := c.toApp(finish(t, c), o.callback); u.Query().Get("code") == "" || u.Query().Get("state") != "s" {
			t.Fatalf("after the enrollment: %s, want the app's callback with a code", u)
		}
	}

	{ // forward-auth
		o.user("carol", backend.RoleUser, false)
		c := o.client()
		c.signIn("carol")
		wantAppWords(t, "forward-auth", forwardEnroll(t, c))
		// Back to the page asked for, once: "/" afterwards is the profile.
		finish(t, c).wantRedirect(t, payrollPage)
		c.get("/").wantRedirect(t, "/profile")
		o.wantAudit(backend.AuditSSOSignIn, "carol", "Payroll")
	}

	{ // administrator's requirement
		o.user("dave", backend.RoleUser, true)
		c := o.client()
		c.login("dave", testPassword).wantRedirect(t, "/login/enroll")
		page := c.get("/login/enroll")
		page.wantBody(t, "Your administrator requires Two-Factor Authentication for your account.")
		if strings.Contains(page.body, payrollLead) {
			t.Error("an administrator's requirement names an application")
		}
	}
}

// TestForwardEnrollmentPageBrowser: in Chromium, the forced enrollment a forward-auth
// protected application begins names the application, at desktop and phone widths
// (screenshots forward-enroll-required-desktop.png and -phone.png in the shots directory).
func TestForwardEnrollmentPageBrowser(t *testing.T) {
	e := newEnv(t)
	e.user("erin", backend.RoleUser, false)
	if _, _, err := e.svc.CreateApp(t.Context(), e.svc.Operator(), backend.NewApp{Name: "Payroll", RequireTwoFactor: true,
		Domains: []string{"payroll.example.com"}}); err != nil {
		t.Fatal(err)
	}
	tb := e.tab(t, browser(t))
	tb.logIn("erin", testPassword)
	tb.waitFor(`location.pathname === "/profile"`)
	tb.open("/login?rd=" + url.QueryEscape(payrollPage))
	tb.waitHeading("Two-Factor Authentication required")
	tb.click("Set up Two-Factor")
	tb.waitFor(`location.pathname === "/login/enroll" && document.readyState === "complete"`)
	tb.wantText(payrollLead, payrollAside, "Use an App")
	if strings.Contains(tb.text(), "Your administrator requires") {
		t.Fatalf("the forward-auth enrollment page says the administrator requires it:\n%s", tb.text())
	}
	tb.screenshots("forward-enroll-required")
}
