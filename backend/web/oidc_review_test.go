package web

// Regression tests for the security review of the OpenID Connect provider (issue 13,
// findings F1–F6), through the real handler tree with coreos/go-oidc and x/oauth2 as the
// relying party.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// noRedirects is an HTTP client that stops at the first redirect.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorizeError asks the authorization endpoint, as a stranger, and returns the error the
// browser is sent back to the application with ("" for none) and its description.
func (o *oidcEnv) authorizeError(u string) (string, string) {
	o.t.Helper()
	res, err := noRedirects.Get(u)
	if err != nil {
		o.t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), o.callback) {
		return "", ""
	}
	return loc.Query().Get("error"), loc.Query().Get("error_description")
}

// F1: an unauthenticated /oidc/authorize stored one ~6.7 KB row per request without bound.
// Now state and nonce are at most 512 bytes and code_challenge is exactly the S256 form, each
// refused clearly, storing nothing; an application's requests that wait for a login are
// bounded, and expired ones go when new ones come.
func TestOIDCAuthorizeBounded(t *testing.T) {
	o := newOIDCEnv(t)
	_, pub := o.app("P", func(na *backend.NewApp) { na.Public = true })
	ok := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	big := strings.Repeat("A", 1900)
	for _, tc := range []struct {
		name, state, challenge, nonce, want string
	}{
		{"state", big, ok, "n", "The state parameter is too long: at most 512 bytes."},
		{"nonce", "s", ok, big, "The nonce parameter is too long: at most 512 bytes."},
		{"challenge too long", "s", big, "n", "The code_challenge must be the S256 form"},
		{"challenge too short", "s", ok[:42], "n", "The code_challenge must be the S256 form"},
		{"challenge not base64url", "s", ok[:42] + "=", "n", "The code_challenge must be the S256 form"},
	} {
		u := pub.AuthCodeURL(tc.state, oauth2.SetAuthURLParam("code_challenge", tc.challenge),
			oauth2.SetAuthURLParam("code_challenge_method", "S256"), oidc.Nonce(tc.nonce))
		code, desc := o.authorizeError(u)
		if code != "invalid_request" || !strings.Contains(desc, tc.want) {
			t.Errorf("%s: error %q %q, want invalid_request %q", tc.name, code, desc, tc.want)
		}
	}
	if n := o.h.CountRows("oidc_auth_requests"); n != 0 {
		t.Fatalf("refused requests stored %d rows, want 0", n)
	}

	// At the limits, a request is stored; beyond MaxPendingAuthRequests waiting ones it is
	// refused (temporarily_unavailable, to the app) and the table stops growing.
	state, nonce := strings.Repeat("s", 512), strings.Repeat("n", 512)
	flood := func(n int) (stored int, refused string) {
		for range n {
			code, desc := o.authorizeError(pub.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce(nonce)))
			if code == "" {
				stored++
			} else {
				refused = code + ": " + desc
			}
		}
		return stored, refused
	}
	start := time.Now()
	stored, refused := flood(backend.MaxPendingAuthRequests + 5)
	t.Logf("%d requests in %v; db %d bytes", backend.MaxPendingAuthRequests+5, time.Since(start), len(o.dbBytes()))
	if stored != backend.MaxPendingAuthRequests {
		t.Fatalf("stored %d, want %d (the bound)", stored, backend.MaxPendingAuthRequests)
	}
	if want := "temporarily_unavailable: Too many sign-ins to this application are waiting to be finished."; !strings.HasPrefix(refused, want) {
		t.Fatalf("beyond the bound: %q, want %q", refused, want)
	}
	if n := o.h.CountRows("oidc_auth_requests"); n != backend.MaxPendingAuthRequests {
		t.Fatalf("rows: %d, want %d", n, backend.MaxPendingAuthRequests)
	}
	// Another application is not refused, and once the flood expires, new requests come in
	// and the expired rows go (no need to wait for the purge).
	_, other := o.app("Other", func(na *backend.NewApp) { na.Public = true })
	if code, desc := o.authorizeError(other.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("n"))); code != "" {
		t.Fatalf("another application during the flood: %s %s", code, desc)
	}
	o.clock.Advance(backend.AuthRequestTTL + time.Second)
	if stored, refused := flood(1); stored != 1 {
		t.Fatalf("after the flood expired: refused %q", refused)
	}
	if n := o.h.CountRows("oidc_auth_requests"); n != 2 {
		t.Fatalf("rows after the flood expired and one new request: %d, want 2 (P's new one, Other's)", n)
	}
}

// F2: prompt=login and max_age were ignored. Now a session older than max_age, or any
// session with prompt=login, logs in again (as the step-up does) and the ID token's
// auth_time is the new login's; prompt=none never shows a page and answers login_required or
// interaction_required to the app.
func TestOIDCPromptAndMaxAge(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("bob", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	_, strict := o.app("Payroll", func(na *backend.NewApp) { na.RequireTwoFactor = true })
	verify := o.prov.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	c := o.client()
	c.signIn("bob")
	o.clock.Advance(20 * time.Minute) // the session is 20 minutes old
	c.get("/profile").wantStatus(t, http.StatusOK)
	authTime := func(tok *oauth2.Token) int64 {
		t.Helper()
		idt, err := verify.Verify(t.Context(), tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var cl idClaims
		idt.Claims(&cl)
		return cl.AuthTime
	}
	for _, tc := range []struct {
		name  string
		opt   oauth2.AuthCodeOption
		login bool
	}{
		{"prompt=login", oauth2.SetAuthURLParam("prompt", "login"), true},
		{"max_age=0", oauth2.SetAuthURLParam("max_age", "0"), true},
		{"max_age=60", oauth2.SetAuthURLParam("max_age", "60"), true},
		{"max_age=3600", oauth2.SetAuthURLParam("max_age", "3600"), false},
	} {
		o.clock.Advance(2 * time.Minute)
		v := oauth2.GenerateVerifier()
		r := c.getURL(c.authorize(cfg, v, "s", "n", tc.opt).Header.Get("Location"))
		loc := r.Header.Get("Location")
		if !tc.login {
			if strings.HasPrefix(loc, "/login") {
				t.Fatalf("%s with a session 20 minutes old: sent to %q, want no login", tc.name, loc)
			}
			tok, err := cfg.Exchange(t.Context(), c.toApp(r, o.callback).Query().Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if got := o.clock.Now().Unix() - authTime(tok); got < 20*60 {
				t.Fatalf("%s: auth_time %d s ago, want the old session's", tc.name, got)
			}
			continue
		}
		if !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "username=bob") {
			t.Fatalf("%s with a session 20 minutes old: %d to %q, want the login again", tc.name, r.StatusCode, loc)
		}
		lu, _ := url.Parse(loc)
		o.clock.Advance(time.Second)
		u := c.toApp(c.post("/login", url.Values{"username": {"bob"}, "password": {testPassword}, "resume": {lu.Query().Get("resume")}}), o.callback)
		tok, err := cfg.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("%s: exchange after the login again: %v", tc.name, err)
		}
		if got := authTime(tok); got != o.clock.Now().Unix() {
			t.Fatalf("%s: auth_time %d, want the new login's %d", tc.name, got, o.clock.Now().Unix())
		}
		o.clock.Advance(20 * time.Minute) // old again for the next case
	}

	// prompt=none: no page of ours, an error to the app with its state.
	none := oauth2.SetAuthURLParam("prompt", "none")
	promptNone := func(c *client, cfg oauth2.Config, extra ...oauth2.AuthCodeOption) url.Values {
		t.Helper()
		r := c.authorize(cfg, oauth2.GenerateVerifier(), "st", "n", append(extra, none)...)
		for i := 0; i < 5 && r.StatusCode >= 300 && r.StatusCode < 400 && !strings.HasPrefix(r.Header.Get("Location"), o.callback); i++ {
			r = c.getURL(r.Header.Get("Location"))
		}
		loc := r.Header.Get("Location")
		if refresh, ok := strings.CutPrefix(r.Header.Get("Refresh"), "0; url="); ok {
			loc = refresh
		}
		if !strings.HasPrefix(loc, o.callback) && !strings.HasPrefix(loc, "/oidc/authorize/callback") {
			t.Fatalf("prompt=none: %d to %q, want straight back to the app", r.StatusCode, loc)
		}
		u, _ := url.Parse(loc)
		return u.Query()
	}
	if q := promptNone(o.client(), cfg); q.Get("error") != "login_required" || q.Get("state") != "st" {
		t.Fatalf("prompt=none, nobody signed in: %v, want error=login_required state=st", q)
	}
	if q := promptNone(c, cfg, oauth2.SetAuthURLParam("max_age", "60")); q.Get("error") != "login_required" {
		t.Fatalf("prompt=none, max_age shorter than the session: %v, want error=login_required", q)
	}
	if q := promptNone(c, strict); q.Get("error") != "login_required" {
		// bob's password is older than the reauth window: a login is what is missing
		t.Fatalf("prompt=none, Require Two-Factor, old session: %v, want error=login_required", q)
	}
	fresh := o.client()
	fresh.signIn("bob")
	if q := promptNone(fresh, strict); q.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none, Require Two-Factor, not enrolled: %v, want error=interaction_required", q)
	}
	if q := promptNone(fresh, cfg); q.Get("error") != "" {
		t.Fatalf("prompt=none with a usable session: %v, want no error", q)
	}
}

// F3: a code completed for an app, then the app made administrators-only and Require
// Two-Factor (or the administrator demoted): the code is no longer exchanged, and the
// complete request's hand-off no longer goes on to the code.
func TestOIDCCodeFollowsTheAppsRules(t *testing.T) {
	for _, change := range []string{"app", "demote"} {
		t.Run(change, func(t *testing.T) {
			o := newOIDCEnv(t)
			o.user("root", backend.RoleAdmin, false)
			bob := o.user("bob", backend.RoleAdmin, false)
			wiki, cfg := o.app("Wiki", func(na *backend.NewApp) { na.Audience = backend.AudienceAdmins })
			ctx := t.Context()
			c := o.client()
			c.signIn("bob")
			apply := func() {
				t.Helper()
				var err error
				if change == "app" {
					_, err = o.svc.UpdateApp(ctx, o.svc.Operator(), wiki.ID, backend.AppChanges{RequireTwoFactor: new(true)})
				} else {
					_, err = o.svc.UpdateUser(ctx, o.svc.Operator(), bob.ID, backend.UserChanges{Role: new(backend.RoleUser)})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			v := oauth2.GenerateVerifier()
			code := o.code(c, cfg, v, "s", "n")
			// The hand-off of a second request completes it; the change comes before its code.
			r := c.getURL(c.authorize(cfg, oauth2.GenerateVerifier(), "s2", "n2").Header.Get("Location"))
			handoff := r.Request.URL.String()
			if !strings.Contains(r.Header.Get("Refresh"), "/oidc/authorize/callback") {
				t.Fatalf("hand-off: %d %q, want on to the callback", r.StatusCode, r.Header.Get("Refresh"))
			}
			apply()
			if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("code exchanged after the change")
			}
			if n := o.h.CountRows("oidc_tokens"); n != 0 {
				t.Fatalf("tokens stored: %d, want 0", n)
			}
			c.getURL(handoff).wantStatus(t, http.StatusBadRequest)
		})
	}
}

// F4: a used code presented again is refused and revokes the tokens it gave (RFC 6749
// §4.1.2, RFC 9700 §4.2.4), audited as a refresh replay is.
func TestOIDCCodeReplayRevokesItsTokens(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("bob", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	ctx := t.Context()
	c := o.client()
	c.signIn("bob")
	v := oauth2.GenerateVerifier()
	code := o.code(c, cfg, v, "s", "n")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	// Another sign-in's tokens, which the replay must leave alone.
	v2 := oauth2.GenerateVerifier()
	other, err := cfg.Exchange(ctx, o.code(c, cfg, v2, "s2", "n2"), oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatal(err)
	}
	// The tokens work, and the refresh rotates once: its successor is of the same family.
	if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo before the replay: %v", err)
	}
	rotated, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("second exchange of the code worked")
	}
	if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the first exchange's access token still works after the code was replayed")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rotated.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Error("the family's newest refresh token still works after the code was replayed")
	}
	if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(other)); err != nil {
		t.Errorf("another code's tokens after the replay: %v, want them kept", err)
	}
	o.wantAudit(backend.AuditSSOCodeReplayed, "bob", "Wiki")
}

// F5: userinfo took the access token from the URL's query, which lands in logs. Now that is
// refused with a clear error; the Authorization header and a POST body still work.
func TestOIDCUserinfoRefusesTokenInURL(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("bob", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	c := o.client()
	c.signIn("bob")
	v := oauth2.GenerateVerifier()
	tok, err := cfg.Exchange(t.Context(), o.code(c, cfg, v, "s", "n"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(method, o.ts.URL+"/oidc/userinfo?access_token="+url.QueryEscape(tok.AccessToken), nil)
		r := c.do(req)
		r.wantStatus(t, http.StatusBadRequest)
		r.wantBody(t, `"error":"invalid_request"`, "not accepted in the URL")
	}
	r := o.post(o.ts.URL+"/oidc/userinfo", url.Values{"access_token": {tok.AccessToken}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `"sub"`) {
		t.Fatalf("userinfo with the token in a POST body: %d %s, want 200", r.StatusCode, r.body)
	}
	if _, err := o.prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo with the Authorization header: %v", err)
	}
}

// F6: with --cookie-domain a sibling host can plant a second session cookie with a longer
// Path, which the browser sends first. A request with two session cookies has no session:
// the hand-off asks for a login rather than signing the browser in to the app as the
// planter, and the answer clears the cookie at Path=/ and at the paths above the request.
func TestTwoSessionCookiesAreNoSession(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("victim", backend.RoleUser, false)
	o.user("mallory", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	planted := backendtest.Login(t, o.svc, "mallory", testPassword, backend.StepDone).SessionToken
	c := o.client()
	c.signIn("victim")
	u, _ := url.Parse(o.ts.URL)
	var own string
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == o.srv.sessionCk {
			own = ck.Value
		}
	}
	both := o.srv.sessionCk + "=" + planted + "; " + o.srv.sessionCk + "=" + own
	authz := c.authorize(cfg, oauth2.GenerateVerifier(), "s", "n").Header.Get("Location")
	for _, path := range []string{authz, o.ts.URL + "/profile"} {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Cookie", both)
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/login") || res.Header.Get("Refresh") != "" {
			t.Fatalf("GET %s with two session cookies: %d Location %q Refresh %q, want the login", path, res.StatusCode, loc, res.Header.Get("Refresh"))
		}
		cleared := map[string]bool{}
		for _, ck := range res.Cookies() {
			if ck.Name == o.srv.sessionCk && ck.MaxAge < 0 {
				cleared[ck.Path] = true
			}
		}
		above := "/oidc"
		if strings.HasSuffix(path, "/profile") {
			above = "/profile"
		}
		if !cleared["/"] || !cleared[above] {
			t.Fatalf("GET %s with two session cookies: cleared at %v, want / and %s", path, cleared, above)
		}
	}
	// One cookie alone is still a session.
	req, _ := http.NewRequest("GET", o.ts.URL+"/profile", nil)
	req.Header.Set("Cookie", o.srv.sessionCk+"="+own)
	if res, err := noRedirects.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("one session cookie: %v %v, want 200", res.StatusCode, err)
	}
}
