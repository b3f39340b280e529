package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// forwardEnv is an env whose Gatehouse is at https://login.example.com, with one application
// protecting app.example.com and *.tools.example.com, and "bob" signed in.
func forwardEnv(t *testing.T) (*env, *backend.App, string) {
	t.Helper()
	e := newEnv(t, func(c *backend.Config) { c.PublicURL = "https://login.example.com" })
	a, _ := e.createApp(backend.NewApp{Name: "Wiki", Domains: []string{"app.example.com", "*.tools.example.com"}})
	backendtest.CreateUser(t, e.svc, e.admin, backend.NewUser{Username: "bob", DisplayName: "Bob Builder", Email: "bob@example.com", Password: "bob's long password"})
	st := backendtest.Login(t, e.svc, "bob", "bob's long password", backend.StepDone)
	return e, a, st.SessionToken
}

// TestReturnURLs: a login goes back only to a page of a protected domain, over https; every
// way of naming another host is refused.
func TestReturnURLs(t *testing.T) {
	t.Parallel()
	e, _, _ := forwardEnv(t)
	for _, tc := range []struct {
		in, want string // want "": refused
	}{
		{"https://app.example.com/page?x=1", "https://app.example.com/page?x=1"},
		{"https://app.example.com:8443/", "https://app.example.com:8443/"},
		{"https://wiki.tools.example.com/a#frag", "https://wiki.tools.example.com/a"},
		{"https://evil.example.com/", ""},
		{"https://tools.example.com/", ""},     // the wildcard is one label below, not the name itself
		{"https://a.b.tools.example.com/", ""}, // nor two
		{"//evil.com/", ""},
		{"/profile", ""},
		{"https://app.example.com.evil.com/", ""},
		{"https://user@evil.com/", ""},
		{"https://app.example.com@evil.com/", ""},
		{"https://app.example.com\\@evil.com/", ""},
		{"https:\\\\evil.com\\", ""},
		{"https://evil.com\\.app.example.com/", ""},
		{"https://evil.com%2F.app.example.com/", ""},
		{"https://app.example.com%2Eevil.com/", ""},
		{"https://%61pp.example.com/", ""},
		{"https://APP.EXAMPLE.COM/", ""},
		{"http://app.example.com/", ""}, // Gatehouse is on https: so must the page be
		{"javascript://app.example.com/%0aalert(1)", ""},
		{"https://app.example.com/\r\nSet-Cookie:x", ""},
		{"https://app.example.com /", ""},
		{"https://[::1]/", ""},
		{"https://127.0.0.1/", ""},
		{"ftp://app.example.com/", ""},
	} {
		got, _, err := e.svc.CheckReturnURL(ctx, tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("CheckReturnURL(%q) = %q, want refused", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckReturnURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestForwardAuthDecisions: the one rule for every proxy.
func TestForwardAuthDecisions(t *testing.T) {
	t.Parallel()
	e, wiki, bob := forwardEnv(t)
	check := func(token, u string) (*backend.ForwardDecision, error) { return e.svc.ForwardAuth(ctx, token, u) }

	d, err := check(bob, "https://app.example.com/x")
	if err != nil || d.Step != backend.ForwardAllow || d.User.Username != "bob" || d.User.Email != "bob@example.com" || d.TwoFactor {
		t.Fatalf("bob on app.example.com: got %+v, %v; want allowed as bob, no Two-Factor", d, err)
	}
	if d, err := check("", "https://app.example.com/x"); err != nil || d.Step != backend.ForwardLogin || d.URL != "https://app.example.com/x" {
		t.Fatalf("no session: got %+v, %v; want login, back to the page", d, err)
	}
	if d, err := check("not-a-session", "https://app.example.com/x"); err != nil || d.Step != backend.ForwardLogin {
		t.Fatalf("unknown session: got %+v, %v; want login", d, err)
	}
	if _, err := check(bob, "https://other.example.com/"); backend.ErrorCode(err) != backend.EFORBIDDEN {
		t.Fatalf("unprotected host: got %v, want EFORBIDDEN", err)
	}
	if _, err := check(bob, "//evil.com"); backend.ErrorCode(err) != backend.EINVALID {
		t.Fatalf("not a URL to return to: got %v, want EINVALID", err)
	}

	// Administrators only: bob is refused, with the sentence; the administrator passes.
	admins := backend.AudienceAdmins
	if _, err := e.svc.UpdateApp(ctx, e.admin, wiki.ID, backend.AppChanges{Audience: &admins}); err != nil {
		t.Fatal(err)
	}
	if _, err := check(bob, "https://app.example.com/"); backend.ErrorCode(err) != backend.EFORBIDDEN || backend.ErrorMessage(err) != backend.NoAccessMessage("Wiki") {
		t.Fatalf("bob, admins-only app: got %v, want EFORBIDDEN %q", err, backend.NoAccessMessage("Wiki"))
	}
	if d, err := check(e.adminToken, "https://app.example.com/"); err != nil || d.Step != backend.ForwardAllow {
		t.Fatalf("admin, admins-only app: got %+v, %v", d, err)
	}

	// Require Two-Factor: bob has none, so the step-up (forced enrollment), bound to the page.
	everyone, yes := backend.AudienceEveryone, true
	if _, err := e.svc.UpdateApp(ctx, e.admin, wiki.ID, backend.AppChanges{Audience: &everyone, RequireTwoFactor: &yes}); err != nil {
		t.Fatal(err)
	}
	if d, err := check(bob, "https://app.example.com/"); err != nil || d.Step != backend.ForwardTwoFactor {
		t.Fatalf("bob, Require Two-Factor: got %+v, %v; want the step-up", d, err)
	}
	bobID := backendtest.Authenticate(t, e.svc, bob)
	st, err := e.svc.BeginForwardEnrollment(ctx, bobID, "https://app.example.com/after")
	if err != nil || st.Step != backend.StepEnroll {
		t.Fatalf("BeginForwardEnrollment: got %+v, %v; want the enroll step", st, err)
	}
	enrollID, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	// The enrollment page names the application that requires it, as for OpenID Connect.
	if got, want := e.svc.RequiredEnrollmentText(ctx, enrollID).Lead, "Wiki requires Two-Factor Authentication. Set it up now to finish signing in to Wiki."; got != want {
		t.Fatalf("RequiredEnrollmentText: got %q, want %q", got, want)
	}
	app := backendtest.EnrollApp(t, e.svc, enrollID, "bob's long password", e.clock.Now())
	if app.Login == nil || app.Login.Step != backend.StepDone {
		t.Fatalf("enrollment at the enroll step: login %+v, want signed in", app.Login)
	}
	newID := backendtest.Authenticate(t, e.svc, app.Login.SessionToken)
	if r, err := e.svc.TakeResume(ctx, newID); err != nil || r == nil || r.URL != "https://app.example.com/after" || r.AuthRequestID != "" {
		t.Fatalf("TakeResume after the enrollment: got %+v, %v; want the page", r, err)
	}
	if r, _ := e.svc.TakeResume(ctx, newID); r != nil {
		t.Fatalf("TakeResume twice: got %+v, want it once", r)
	}
	// The sign-in to the application is in the audit log, once, with how it was proven.
	if ev := e.auditEvents(backend.AuditSSOSignIn); len(ev) != 1 || ev[0].ActorName != "bob" || ev[0].TargetApp != "Wiki" ||
		ev[0].Detail != "forward-auth, amr: pwd otp mfa" {
		t.Fatalf("sign-in events: %+v, want bob's to Wiki by forward-auth", ev)
	}
	if d, err := check(app.Login.SessionToken, "https://app.example.com/"); err != nil || d.Step != backend.ForwardAllow || !d.TwoFactor {
		t.Fatalf("after enrolling: got %+v, %v; want allowed with Two-Factor", d, err)
	}

	// Enrolled from the Profile inside a session opened with the password alone: that
	// session was not proven with the second factor (its amr), so the step-up again, now a
	// login with it; the login that gives it is allowed.
	backendtest.CreateUser(t, e.svc, e.admin, backend.NewUser{Username: "carol", DisplayName: "Carol", Email: "carol@example.com", Password: "carol's long password"})
	carol := backendtest.Login(t, e.svc, "carol", "carol's long password", backend.StepDone).SessionToken
	carolID := backendtest.Authenticate(t, e.svc, carol)
	carolApp := backendtest.EnrollApp(t, e.svc, carolID, "carol's long password", e.clock.Now())
	if d, err := check(carol, "https://app.example.com/"); err != nil || d.Step != backend.ForwardTwoFactor || d.TwoFactor {
		t.Fatalf("carol, enrolled since her login: got %+v, %v; want the step-up, not proven", d, err)
	}
	e.clock.Advance(30 * time.Second)
	st = backendtest.Login(t, e.svc, "carol", "carol's long password", backend.StepVerify)
	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, backendtest.TOTP(t, carolApp.Key, e.clock.Now()))
	if err != nil || done.Step != backend.StepDone {
		t.Fatalf("carol's login with her code: %+v, %v", done, err)
	}
	if d, err := check(done.SessionToken, "https://app.example.com/"); err != nil || d.Step != backend.ForwardAllow || !d.TwoFactor {
		t.Fatalf("carol after a login with Two-Factor: got %+v, %v; want allowed with it", d, err)
	}

	// Disabled: the very next check asks for a login.
	disabled := true
	bobUser, _ := e.svc.UserByUsername(ctx, e.admin, "bob")
	if _, err := e.svc.UpdateUser(ctx, e.admin, bobUser.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if d, err := check(app.Login.SessionToken, "https://app.example.com/"); err != nil || d.Step != backend.ForwardLogin {
		t.Fatalf("disabled bob: got %+v, %v; want login", d, err)
	}
}

// TestForwardAuthWritesNothing: with the session cache running, as the web server runs it,
// 1000 checks of one session on one domain, a second apart, write nothing to the store.
func TestForwardAuthWritesNothing(t *testing.T) {
	t.Parallel()
	count := &backendtest.CountingStore{}
	e := newEnv(t, func(c *backend.Config) {
		c.PublicURL = "https://login.example.com"
		count.Store = c.Store
		c.Store = count
		// The cache's batched write of last uses (a real-time ticker, every minute by
		// default) is not the check's: kept out of a loop that a loaded machine may slow.
		c.SessionCache.TouchEvery = time.Hour
	})
	e.createApp(backend.NewApp{Name: "Wiki", Domains: []string{"app.example.com"}})
	backendtest.CreateUser(t, e.svc, e.admin, backend.NewUser{Username: "bob", Password: "bob's long password"})
	token := backendtest.Login(t, e.svc, "bob", "bob's long password", backend.StepDone).SessionToken
	defer e.svc.StartSessionCache()()

	writes := count.Writes.Load()
	for i := range 1000 {
		// A second apart: without the cache, a check would touch the session every minute.
		e.clock.Advance(time.Second)
		d, err := e.svc.ForwardAuth(ctx, token, "https://app.example.com/page")
		if err != nil || d.Step != backend.ForwardAllow {
			t.Fatalf("check %d: got %+v, %v", i, d, err)
		}
	}
	if n := count.Writes.Load() - writes; n != 0 {
		t.Fatalf("1000 forward-auth checks: %d store writes, want 0", n)
	}
}

// TestForwardEnrollmentNeedsRecentPassword: a session whose password was given more than the
// reauth window ago may not set up its own second factor for a protected page (a cookie left
// in a browser would lock its owner out): EREAUTH, no login attempt; a fresh login may.
func TestForwardEnrollmentNeedsRecentPassword(t *testing.T) {
	t.Parallel()
	e, wiki, bob := forwardEnv(t)
	yes := true
	if _, err := e.svc.UpdateApp(ctx, e.admin, wiki.ID, backend.AppChanges{RequireTwoFactor: &yes}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(11 * time.Minute) // past the default ReauthWindow of 10 minutes
	old := backendtest.Authenticate(t, e.svc, bob)
	if _, err := e.svc.BeginForwardEnrollment(ctx, old, "https://app.example.com/"); backend.ErrorCode(err) != backend.EREAUTH {
		t.Fatalf("BeginForwardEnrollment of an old session: %v, want EREAUTH", err)
	}
	fresh := backendtest.SignIn(t, e.svc, "bob", "bob's long password")
	if st, err := e.svc.BeginForwardEnrollment(ctx, fresh, "https://app.example.com/"); err != nil || st.Step != backend.StepEnroll {
		t.Fatalf("BeginForwardEnrollment after a login: %+v, %v; want the enroll step", st, err)
	}
}
