package web

import (
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestReloadPath: the page a form's answer can be loaded again at is the form's own page where
// GET has one, else the nearest page above it; GET answers carry none.
func TestReloadPath(t *testing.T) {
	e := newEnv(t)
	for post, want := range map[string]string{
		"/login":                            "/login",
		"/login/verify":                     "/login/verify",
		"/login/verify/sms/send":            "/login/verify",
		"/login/enroll/app/confirm":         "/login/enroll/app",
		"/profile/confirm-password":         "/profile",
		"/profile/two-factor/sms/restart":   "/profile/two-factor/sms",
		"/recovery-codes/download":          "/recovery-codes",
		"/admin/users/new":                  "/admin/users/new",
		"/admin/users/7/edit":               "/admin/users/7/edit",
		"/admin/users/7/disable-two-factor": "/admin/users/7/disable-two-factor",
		"/admin/users/7/unlock":             "/admin/users/7",
		"/setup/some-token":                 "/setup/some-token",
		"/no/such/page":                     "/",
	} {
		if got := e.srv.reloadPath(post); got != want {
			t.Errorf("reloadPath(%s) = %s, want %s", post, got, want)
		}
	}
	c := e.client()
	c.login("nobody", "wrong password").wantBody(t, `<body data-reload="/login">`)
	if strings.Contains(c.get("/login").body, "data-reload") {
		t.Error("a GET page names a page to reload at")
	}
}

// backIsAPage goes Back and fails the test unless a page of the System shows: not the
// browser's "Confirm Form Resubmission" error.
func (tb *tab) backIsAPage(wantHeading string) {
	tb.t.Helper()
	tb.eval(`history.back(); ""`)
	time.Sleep(300 * time.Millisecond)
	tb.waitFor(`document.readyState === "complete"`)
	if u := tb.eval("location.href"); !strings.HasPrefix(u, tb.e.ts.URL) {
		tb.t.Fatalf("Back shows %s: %.200q", u, tb.text())
	}
	tb.waitHeading(wantHeading)
}

// TestBrowserBackAfterFailedForm pins issue 11 (web 8): Back to the answer of a form that went
// wrong shows a page (the form's own, loaded afresh), not the browser's resubmission error.
func TestBrowserBackAfterFailedForm(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("root", backend.RoleAdmin, false)
	tb := e.tab(t, b)

	// A wrong password, then the right one: Back is the login page, which, signed in, goes on
	// to the profile.
	tb.logIn("root", "wrong password")
	tb.waitFor(`document.querySelector("#form-error")`)
	tb.fill("Password", testPassword)
	tb.click("Log in")
	tb.waitHeading("Profile")
	tb.backIsAPage("Profile")

	// A New User form refused, then corrected: Back is the New User form.
	tb.open("/admin/users/new")
	tb.fill("Username", "jürgen")
	tb.fill("Password", "a long enough password")
	tb.click("Create User")
	tb.waitFor(`document.querySelector("#form-error")`)
	tb.fill("Username", "juergen")
	tb.fill("Password", "a long enough password")
	tb.click("Create User")
	tb.waitFor(`location.pathname.match(/^\/admin\/users\/\d+$/)`)
	tb.backIsAPage("New User")

	// A wrong password on the confirmation prompt (a post with no page of its own), then the
	// right one: Back is the profile. The prompt comes when the login's confirmation lapses
	// with the choice page open.
	tb.open("/profile/two-factor")
	e.clock.Advance(11 * time.Minute)
	tb.click("Use an App")
	tb.waitHeading("Confirm your password")
	tb.fill("Password", "not my password")
	tb.click("Continue")
	tb.waitFor(`document.querySelector("#form-error")`)
	tb.fill("Password", testPassword)
	tb.click("Continue")
	tb.waitHeading("Use an App")
	tb.backIsAPage("Profile")
}
