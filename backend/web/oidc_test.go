package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// oidcEnv is a System with the OpenID Connect provider (its issuer the test server's URL) and
// a relying party written elsewhere: coreos/go-oidc with golang.org/x/oauth2.
type oidcEnv struct {
	*env
	prov     *oidc.Provider
	callback string
}

const rpCallback = "http://127.0.0.1:9/callback" // never dialled: the browser stops at the redirect

func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	e := newEnv(t)
	e.setup.web.PublicURL = e.ts.URL
	e.serve(e.svc)
	prov, err := oidc.NewProvider(t.Context(), e.ts.URL) // discovery
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &oidcEnv{env: e, prov: prov, callback: rpCallback}
}

// app registers an application and returns the relying party's configuration for it.
func (o *oidcEnv) app(name string, edit func(*backend.NewApp)) (*backend.App, oauth2.Config) {
	o.t.Helper()
	na := backend.NewApp{Name: name, RedirectURIs: []string{o.callback}}
	if edit != nil {
		edit(&na)
	}
	a, secret, err := o.svc.CreateApp(o.t.Context(), o.svc.Operator(), na)
	if err != nil {
		o.t.Fatalf("CreateApp: %v", err)
	}
	return a, oauth2.Config{ClientID: a.ClientID, ClientSecret: secret, Endpoint: o.prov.Endpoint(), RedirectURL: o.callback,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
}

// toApp follows the browser's redirects from r until one leaves for the relying party, and
// returns that address.
func (c *client) toApp(r *response, callback string) *url.URL {
	c.e.t.Helper()
	for i := 0; i < 15; i++ {
		loc := r.Header.Get("Location")
		if refresh, ok := strings.CutPrefix(r.Header.Get("Refresh"), "0; url="); ok && r.StatusCode == http.StatusOK {
			loc = refresh // the page between a login and the app (oidcLogin): the browser goes on
		} else if r.StatusCode < 300 || r.StatusCode >= 400 || loc == "" {
			c.e.t.Fatalf("%s %s: %d, not a redirect on the way to the app; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, excerpt(r.body))
		}
		if strings.HasPrefix(loc, callback) {
			u, _ := url.Parse(loc)
			return u
		}
		r = c.getURL(loc)
	}
	c.e.t.Fatal("too many redirects")
	return nil
}

// getURL is get for an absolute or relative address.
func (c *client) getURL(loc string) *response {
	c.e.t.Helper()
	if strings.HasPrefix(loc, "/") {
		return c.get(loc)
	}
	req, _ := http.NewRequest("GET", loc, nil)
	return c.do(req)
}

// authorize starts a sign-in at the app's authorization URL (PKCE S256 with verifier).
func (c *client) authorize(cfg oauth2.Config, verifier, state, nonce string, extra ...oauth2.AuthCodeOption) *response {
	c.e.t.Helper()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)
	return c.getURL(cfg.AuthCodeURL(state, opts...))
}

// code runs the front channel for a client already signed in and returns the code.
func (o *oidcEnv) code(c *client, cfg oauth2.Config, verifier, state, nonce string) string {
	o.t.Helper()
	u := c.toApp(c.authorize(cfg, verifier, state, nonce), o.callback)
	if u.Query().Get("state") != state || u.Query().Get("code") == "" {
		o.t.Fatalf("callback %s: want the code and state %q", u, state)
	}
	return u.Query().Get("code")
}

type idClaims struct {
	Sub               string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username"`
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	AuthTime          int64    `json:"auth_time"`
	AMR               []string `json:"amr"`
	SID               string   `json:"sid"`
	Nonce             string   `json:"nonce"`
}

func TestGoOIDCRelyingParty(t *testing.T) {
	o := newOIDCEnv(t)
	ctx := t.Context()
	alice := o.user("alice", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	verify := o.prov.Verifier(&oidc.Config{ClientID: cfg.ClientID})

	// Discovery names the endpoints under /oidc/ and only S256.
	var disc struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		EndSession    string   `json:"end_session_endpoint"`
		Methods       []string `json:"code_challenge_methods_supported"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := o.prov.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != o.ts.URL || disc.Authorization != o.ts.URL+"/oidc/authorize" || disc.Token != o.ts.URL+"/oidc/token" ||
		disc.EndSession != o.ts.URL+"/oidc/end_session" || !slices.Equal(disc.Methods, []string{"S256"}) ||
		!slices.Contains(disc.AuthMethods, "client_secret_basic") || !slices.Contains(disc.AuthMethods, "client_secret_post") {
		t.Fatalf("discovery: %+v", disc)
	}

	// Alice has an authenticator app: the login that the app's sign-in sends her to asks for
	// it, and she comes back to the app.
	id := backendtest.SignIn(t, o.svc, "alice", testPassword)
	key := strings.ReplaceAll(backendtest.EnrollApp(t, o.svc, id, testPassword, o.clock.Now()).Key, " ", "")
	o.clock.Advance(30 * time.Second)
	c := o.client()
	v := oauth2.GenerateVerifier()
	r := c.authorize(cfg, v, "st-1", "n-1")
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, o.ts.URL+"/oidc/login?authRequestID=") {
		t.Fatalf("authorize: redirected to %q, want the hand-off", loc)
	}
	r = c.getURL(r.Header.Get("Location"))
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/login?resume=") {
		t.Fatalf("hand-off without a session: to %q, want the login page", loc)
	}
	resume, _ := url.Parse(loc)
	login := c.get(loc)
	login.wantBody(t, `name="resume"`)
	c.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "resume": {resume.Query().Get("resume")}}).
		wantRedirect(t, "/login/verify")
	r = c.post("/login/verify", url.Values{"code": {o.env.code(key)}})
	u := c.toApp(r, o.callback)
	if u.Query().Get("state") != "st-1" || u.Query().Get("code") == "" {
		t.Fatalf("back at the app: %s, want the code and state st-1", u)
	}
	code := u.Query().Get("code")

	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verify.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	sess := o.sessionOf(c)
	want := idClaims{Sub: strconv.FormatInt(alice.ID, 10), PreferredUsername: "alice", Name: "Alice Example", Email: "alice@example.com",
		EmailVerified: true, AuthTime: sess.CreatedAt.Unix(), AMR: []string{"pwd", "otp", "mfa"}, SID: sess.SID, Nonce: "n-1"}
	if cl.SID == "" || !slices.Equal(cl.AMR, want.AMR) || cl.Sub != want.Sub || cl.PreferredUsername != want.PreferredUsername ||
		cl.Name != want.Name || cl.Email != want.Email || !cl.EmailVerified || cl.AuthTime != want.AuthTime || cl.SID != want.SID || cl.Nonce != want.Nonce {
		t.Fatalf("claims:\n got %+v\nwant %+v", cl, want)
	}
	if idt.Nonce != "n-1" {
		t.Fatalf("nonce %q, want n-1", idt.Nonce)
	}
	ui, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != want.Sub || ui.Email != "alice@example.com" {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}

	// Tampered, expired: refused.
	parts := strings.Split(raw, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(p), `"alice"`, `"mallory"`, 1)))
	if _, err := verify.Verify(ctx, strings.Join(parts, ".")); err == nil {
		t.Fatal("a tampered ID token verified")
	}
	later := o.prov.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: func() time.Time { return time.Now().Add(backend.IDTokenTTL + time.Minute) }})
	if _, err := later.Verify(ctx, raw); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired ID token: %v, want refused as expired", err)
	}

	// The code used twice: refused, and the tokens it gave revoked (RFC 6749 §4.1.2).
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("the code was exchanged twice")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("the refresh token of a code used twice still works")
	}
	// A wrong verifier: refused, and the code is not used up by it... nor usable after.
	v2 := oauth2.GenerateVerifier()
	code2 := o.code(c, cfg, v2, "st-2", "n-2")
	if _, err := cfg.Exchange(ctx, code2, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("a wrong PKCE verifier was accepted")
	}
	// A wrong secret, by either method: refused.
	bad := cfg
	bad.ClientSecret = "wrong"
	if _, err := bad.Exchange(ctx, code2, oauth2.VerifierOption(v2)); err == nil {
		t.Fatal("a wrong client secret was accepted")
	}
	post := cfg
	post.Endpoint.AuthStyle = oauth2.AuthStyleInParams // client_secret_post
	tok2, err := post.Exchange(ctx, code2, oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}

	// Refresh: rotated; the old one again revokes the family (audited).
	rt := tok2.RefreshToken
	nt, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil || nt.RefreshToken == "" || nt.RefreshToken == rt {
		t.Fatalf("refresh: %v %v", nt, err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("a used refresh token was accepted again")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: nt.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("the family's newest refresh token works after a replay")
	}
	o.wantAudit(backend.AuditSSORefreshReplayed, "alice", "Wiki")
	o.wantAudit(backend.AuditSSOSignIn, "alice", "Wiki")

	// PKCE "plain", no PKCE from a public app, a redirect URI with a trailing slash: refused,
	// nothing stored.
	before := o.h.CountRows("oidc_auth_requests")
	r = c.getURL(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if l := r.Header.Get("Location"); !strings.Contains(l, "error=") || strings.Contains(l, "code=") {
		t.Fatalf("plain PKCE: %d to %q, want an error for the app", r.StatusCode, l)
	}
	_, pub := o.app("Spa", func(na *backend.NewApp) { na.Public = true })
	r = c.getURL(pub.AuthCodeURL("s"))
	if l := r.Header.Get("Location"); !strings.Contains(l, "error=") || strings.Contains(l, "code=") {
		t.Fatalf("public app without PKCE: %d to %q, want an error", r.StatusCode, l)
	}
	slash := cfg
	slash.RedirectURL = o.callback + "/"
	r = c.authorize(slash, v, "s", "n")
	if l := r.Header.Get("Location"); strings.HasPrefix(l, slash.RedirectURL) || r.StatusCode < 400 {
		t.Fatalf("redirect URI with a trailing slash: %d to %q, want refused here", r.StatusCode, l)
	}
	// Huge and malformed parameters: a clear error, nothing stored.
	huge := strings.Repeat("x", 5000)
	r = c.authorize(cfg, v, huge, "n")
	if l := r.Header.Get("Location"); !strings.Contains(l, "error=") {
		t.Fatalf("a 5000-byte state: %d to %q, want an error", r.StatusCode, l)
	}
	r = c.authorize(cfg, v, "s", "bad\x01nonce")
	if l := r.Header.Get("Location"); !strings.Contains(l, "error=") {
		t.Fatalf("a control character in the nonce: %d to %q, want an error", r.StatusCode, l)
	}
	if after := o.h.CountRows("oidc_auth_requests"); after != before {
		t.Fatalf("refused requests stored: %d rows, want %d", after, before)
	}
	tr := o.post(o.ts.URL+"/oidc/token", url.Values{"grant_type": {"authorization_code"}, "code": {huge}, "client_id": {cfg.ClientID},
		"client_secret": {cfg.ClientSecret}, "redirect_uri": {o.callback}, "code_verifier": {v}})
	if tr.StatusCode != http.StatusBadRequest || !strings.Contains(tr.body, "invalid_grant") {
		t.Fatalf("a huge code: %d %s, want 400 invalid_grant", tr.StatusCode, tr.body)
	}

	// Never stored in clear: the code, the tokens.
	dump := string(o.dbBytes())
	for name, secret := range map[string]string{"code": code, "access token": tok.AccessToken, "refresh token": nt.RefreshToken, "client secret": cfg.ClientSecret} {
		if strings.Contains(dump, secret) {
			t.Errorf("the %s is in the database file in clear", name)
		}
	}

	// Logging out of Gatehouse ends the app's tokens: userinfo and refresh refused.
	c.post("/logout", nil)
	if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo answered after the session ended")
	}
}

// post sends a server-to-server form (no Origin, as an app's server sends it).
func (o *oidcEnv) post(u string, form url.Values) *response {
	o.t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return &response{res, b.String()}
}

func TestOIDCAudienceAndRequireTwoFactor(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("admin", backend.RoleAdmin, false)
	o.user("bob", backend.RoleUser, false)
	_, admins := o.app("Admin Tools", func(na *backend.NewApp) { na.Audience = backend.AudienceAdmins })
	_, strict := o.app("Payroll", func(na *backend.NewApp) { na.RequireTwoFactor = true })

	// An administrators-only app refuses a user, clearly, and audited.
	b := o.client()
	b.signIn("bob")
	r := b.authorize(admins, oauth2.GenerateVerifier(), "s", "n")
	for i := 0; i < 5 && r.StatusCode >= 300 && r.StatusCode < 400; i++ {
		r = b.getURL(r.Header.Get("Location"))
	}
	r.wantStatus(t, http.StatusForbidden)
	r.wantBody(t, "No access", "You don&#39;t have access to Admin Tools")
	o.wantAudit(backend.AuditSSORefused, "bob", "Admin Tools")

	// "Require Two-Factor", bob has none, and his password was given more than the reauth
	// window ago: the session alone may not set up a second factor (a cookie left in a
	// browser would lock him out), so he logs in again first.
	carol := o.client()
	o.user("carol", backend.RoleUser, false)
	carol.signIn("carol")
	o.clock.Advance(11 * time.Minute) // past the default ReauthWindow of 10 minutes
	r = carol.authorize(strict, oauth2.GenerateVerifier(), "s3", "n3")
	r = carol.getURL(r.Header.Get("Location"))
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "username=carol") {
		t.Fatalf("an old session at a Require Two-Factor app: %d to %q, want the login again", r.StatusCode, loc)
	}

	// "Require Two-Factor": bob has none, so he goes through the forced enrollment, the
	// article's pages, and comes back to the app signed in with the new factor.
	b.signIn("bob") // a password given lately
	v := oauth2.GenerateVerifier()
	r = b.authorize(strict, v, "s2", "n2")
	r = b.getURL(r.Header.Get("Location"))
	r.wantRedirect(t, "/login/enroll")
	page := b.get("/login/enroll")
	// The application requires it, not the administrator: the page says so, and that "Log
	// out" leaves it to the next sign-in to the application, not the next login.
	page.wantBody(t, "Use an App", "Payroll requires Two-Factor Authentication. Set it up now to finish signing in to Payroll.",
		"You will be asked again when you next sign in to Payroll.")
	if strings.Contains(page.body, "Your administrator requires") {
		t.Error("the enroll page for an application's requirement says the administrator requires it")
	}
	if strings.Contains(page.body, `href="/profile"`) {
		t.Error("the enroll page links to the profile: a way around enrollment")
	}
	b.post("/login/enroll/app", nil).wantRedirect(t, "/login/enroll/app")
	key := appKey(t, b.get("/login/enroll/app").body)
	b.post("/login/enroll/app/confirm", url.Values{"code": {o.env.code(key)}}).wantRedirect(t, "/recovery-codes")
	recoveryCodes(t, b.get("/recovery-codes").body)
	u := b.toApp(b.post("/recovery-codes/done", nil), o.callback)
	tok, err := strict.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange after the enrollment: %v", err)
	}
	idt, err := o.prov.Verifier(&oidc.Config{ClientID: strict.ClientID}).Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var cl idClaims
	idt.Claims(&cl)
	if !slices.Equal(cl.AMR, []string{"pwd", "otp", "mfa"}) || cl.Nonce != "n2" {
		t.Fatalf("after the forced enrollment: amr %v nonce %q, want pwd otp mfa, n2", cl.AMR, cl.Nonce)
	}
	o.wantAudit(backend.AuditSSOSignIn, "bob", "Payroll")
}

// TestFiftyParallelTokenRequests: the library reads a code, mints tokens and deletes the code
// afterwards; 50 token requests with one code at once get exactly one token set, which the
// others, replays of a used code, then revoke.
func TestFiftyParallelTokenRequests(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("carol", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	c := o.client()
	c.signIn("carol")
	v := oauth2.GenerateVerifier()
	code := o.code(c, cfg, v, "s", "n")
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			if _, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(v)); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 {
		t.Fatalf("50 parallel token requests with one code: %d token sets, want 1", won)
	}
	// The 49 others presented a code already used: the one token set it gave is revoked
	// (RFC 6749 §4.1.2), and the replay audited.
	if n := o.h.CountRows("oidc_tokens"); n != 0 {
		t.Fatalf("tokens stored after the code was used 50 times: %d, want 0 (revoked)", n)
	}
	o.wantAudit(backend.AuditSSOCodeReplayed, "carol", "Wiki")
}

// TestOIDCKeyRotation: after a rotation the old ID token still verifies (both keys in the
// JWKS), new ones are signed with the new key, and the old key is dropped after its window.
func TestOIDCKeyRotation(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("dave", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	c := o.client()
	c.signIn("dave")
	issue := func() (string, string) {
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(t.Context(), o.code(c, cfg, v, "s", "n"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		raw := tok.Extra("id_token").(string)
		var h struct {
			KID string `json:"kid"`
		}
		hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		json.Unmarshal(hb, &h)
		return raw, h.KID
	}
	oldToken, oldKID := issue()
	newKID, err := o.svc.RotateSigningKey(t.Context(), o.svc.Operator())
	if err != nil {
		t.Fatal(err)
	}
	o.clock.Advance(31 * time.Second) // past the servers' key cache
	if kids := o.jwks(); !slices.Contains(kids, oldKID) || !slices.Contains(kids, newKID) {
		t.Fatalf("JWKS after rotation: %v, want %s and %s", kids, oldKID, newKID)
	}
	fresh := func() *oidc.IDTokenVerifier {
		p, err := oidc.NewProvider(t.Context(), o.ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		return p.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	}
	if _, err := fresh().Verify(t.Context(), oldToken); err != nil {
		t.Fatalf("the old ID token after rotation: %v", err)
	}
	newToken, kid := issue()
	if kid != newKID {
		t.Fatalf("a new ID token signed with %s, want the new key %s", kid, newKID)
	}
	o.clock.Advance(backend.IDTokenTTL + 6*time.Minute)
	if kids := o.jwks(); slices.Contains(kids, oldKID) || !slices.Contains(kids, newKID) {
		t.Fatalf("JWKS after the old key's window: %v, want only %s", kids, newKID)
	}
	if err := o.svc.PurgeExpired(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := o.h.CountRows("oidc_signing_keys"); n != 1 {
		t.Fatalf("signing keys stored after the purge: %d, want 1", n)
	}
	if _, err := fresh().Verify(t.Context(), newToken); err != nil {
		t.Fatalf("the new ID token: %v", err)
	}
}

func (o *oidcEnv) jwks() []string {
	o.t.Helper()
	r := o.client().get("/oidc/keys")
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &set); err != nil {
		o.t.Fatalf("JWKS %q: %v", r.body, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// sessionOf is the session the client's cookie holds, as the store keeps it.
func (o *oidcEnv) sessionOf(c *client) *backend.Session {
	o.t.Helper()
	u, _ := url.Parse(o.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == o.srv.sessionCk {
			sum := sha256.Sum256([]byte(ck.Value))
			s, _, err := o.h.OpenStore().FindSession(o.t.Context(), hex.EncodeToString(sum[:]))
			if err != nil {
				o.t.Fatal(err)
			}
			return s
		}
	}
	o.t.Fatal("no session cookie")
	return nil
}

// wantAudit checks that an event action by username names the application app (as the
// application, not as a user).
func (o *oidcEnv) wantAudit(action, username, app string) {
	o.t.Helper()
	p, err := o.svc.AuditLog(o.t.Context(), o.svc.Operator(), backend.AuditFilter{Action: action})
	if err != nil {
		o.t.Fatal(err)
	}
	for _, e := range p.Events {
		if e.ActorName == username && e.TargetApp == app {
			if e.TargetName != "" && e.TargetName != username {
				o.t.Errorf("%s: the user column names %q", action, e.TargetName)
			}
			return
		}
	}
	o.t.Fatalf("no %s event by %s for %s in %+v", action, username, app, p.Events)
}

// dbBytes is everything the store holds.
func (o *oidcEnv) dbBytes() []byte {
	var all []byte
	for _, b := range o.h.Contents() {
		all = append(all, b...)
	}
	return all
}

// TestOIDCCallbackOnlyForItsSession: the library's callback mints a code for whoever knows the
// request's ID; Gatehouse lets it through only for the session the request was completed for.
func TestOIDCCallbackOnlyForItsSession(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("alice", backend.RoleUser, false)
	o.user("mallory", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	a := o.client()
	a.signIn("alice")
	r := a.getURL(a.authorize(cfg, oauth2.GenerateVerifier(), "s", "n").Header.Get("Location"))
	callback, _ := strings.CutPrefix(r.Header.Get("Refresh"), "0; url=") // the page between (oidcLogin)
	if !strings.Contains(callback, "/oidc/authorize/callback?id=") {
		t.Fatalf("hand-off for a signed-in user: to %q, want the callback", callback)
	}
	m := o.client()
	m.signIn("mallory")
	for name, c := range map[string]*client{"another user's session": m, "no session": o.client()} {
		r := c.getURL(callback)
		if r.StatusCode != http.StatusForbidden || strings.Contains(r.Header.Get("Location"), "code=") {
			t.Errorf("%s at alice's callback: %d to %q, want 403 and no code", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if u := a.toApp(a.getURL(callback), o.callback); u.Query().Get("code") == "" {
		t.Fatal("alice's own callback gave no code")
	}
	if r := a.getURL(callback); r.StatusCode != http.StatusForbidden {
		t.Fatalf("the callback a second time: %d, want 403 (one code per request)", r.StatusCode)
	}
}

// TestOIDCLogoutConfirm: RP-initiated logout is a GET, which changes nothing: the page asks,
// its POST logs out and goes back only to one of the app's own addresses.
func TestOIDCLogoutConfirm(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("alice", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	c := o.client()
	c.signIn("alice")
	q := url.Values{"client_id": {cfg.ClientID}, "post_logout_redirect_uri": {o.callback}, "state": {"bye"}}
	r := c.get("/oidc/end_session?" + q.Encode())
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/oidc/logout?") {
		t.Fatalf("end_session: %d to %q, want the confirmation page", r.StatusCode, loc)
	}
	page := c.get(loc)
	page.wantStatus(t, http.StatusOK)
	page.wantBody(t, "Log out of Gatehouse?", "Wiki asks to log you out", `action="/oidc/logout"`)
	c.get("/profile").wantStatus(t, http.StatusOK) // still signed in after the GETs
	form := url.Values{"client_id": {cfg.ClientID}, "post_logout_redirect_uri": {"https://evil.example.com/"}}
	r = c.post("/oidc/logout", form)
	r.wantStatus(t, http.StatusBadRequest)
	c.get("/profile").wantStatus(t, http.StatusOK) // a bad redirect changes nothing
	form.Set("post_logout_redirect_uri", o.callback+"?state=bye")
	r = c.post("/oidc/logout", form)
	// A page that goes on by itself, not a redirect: a redirect after the form's POST would
	// be blocked by the page's CSP form-action (goOn).
	if r.StatusCode != http.StatusOK || r.Header.Get("Refresh") != "0; url="+o.callback+"?state=bye" {
		t.Fatalf("confirmed logout: %d, Refresh %q, want 200 going on to the app with its state", r.StatusCode, r.Header.Get("Refresh"))
	}
	r.wantBody(t, backend.LoggedOutNotice, "Back to Wiki")
	c.get("/profile").wantRedirect(t, "/login")
}

// TestOIDCStepUp: a user with Two-Factor whose session was opened before it (the password
// alone) logs in again with the second factor for an app that requires it.
func TestOIDCStepUp(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("erin", backend.RoleUser, false)
	_, strict := o.app("Payroll", func(na *backend.NewApp) { na.RequireTwoFactor = true })
	c := o.client()
	c.signIn("erin")
	key := c.beginAppFromProfile()
	c.post("/profile/two-factor/app/confirm", url.Values{"code": {o.env.code(key)}}).wantRedirect(t, "/recovery-codes")
	c.post("/recovery-codes/done", nil)
	o.clock.Advance(30 * time.Second)
	before := o.sessionOf(c)
	if slices.Contains(before.AMR, "mfa") {
		t.Fatalf("a session opened with the password alone has amr %v", before.AMR)
	}
	v := oauth2.GenerateVerifier()
	r := c.getURL(c.authorize(strict, v, "s", "n").Header.Get("Location"))
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "username=erin") {
		t.Fatalf("Require Two-Factor app, session without it: to %q, want a login for erin", loc)
	}
	lu, _ := url.Parse(loc)
	c.get(loc).wantBody(t, `value="erin"`, `name="resume"`)
	c.post("/login", url.Values{"username": {"erin"}, "password": {testPassword}, "resume": {lu.Query().Get("resume")}}).
		wantRedirect(t, "/login/verify")
	u := c.toApp(c.post("/login/verify", url.Values{"code": {o.env.code(key)}}), o.callback)
	tok, err := strict.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := o.prov.Verifier(&oidc.Config{ClientID: strict.ClientID}).Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var cl idClaims
	idt.Claims(&cl)
	if !slices.Equal(cl.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("after the step-up: amr %v, want pwd otp mfa", cl.AMR)
	}
	if _, _, err := o.h.OpenStore().FindSession(t.Context(), before.TokenHash); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("the session the step-up replaced: %v, want it ended", err)
	}
}

// TestOIDCSurvivesRestart: everything the provider needs is in the store or derived from the
// server key: a code issued before a restart is exchanged after it, and the ID token verifies
// against the keys the new server publishes.
func TestOIDCSurvivesRestart(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("frank", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	c := o.client()
	c.signIn("frank")
	v := oauth2.GenerateVerifier()
	code := o.code(c, cfg, v, "s", "n")
	o.restart()
	tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange after a restart: %v", err)
	}
	p, err := oidc.NewProvider(t.Context(), o.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(t.Context(), tok.Extra("id_token").(string)); err != nil {
		t.Fatalf("ID token after a restart: %v", err)
	}
	if ui, err := p.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil || ui.Subject == "" {
		t.Fatalf("userinfo after a restart: %v %v", ui, err)
	}
	for name, secret := range map[string]string{"code": code, "access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		if strings.Contains(o.logs.String(), secret) {
			t.Errorf("the %s is in the log", name)
		}
	}
}

// TestOIDCTokensFollowTheAppsRules: a refresh and userinfo apply the application's rules as
// they are now, not as they were at the sign-in: an application made administrators-only, or
// made to require Two-Factor, ends the tokens of a user it would no longer let in.
func TestOIDCTokensFollowTheAppsRules(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("bob", backend.RoleUser, false)
	wiki, cfg := o.app("Wiki", nil)
	ctx := t.Context()
	for _, change := range []struct {
		name string
		ch   backend.AppChanges
	}{
		{"administrators only", backend.AppChanges{Audience: new(backend.AudienceAdmins)}},
		{"Require Two-Factor", backend.AppChanges{RequireTwoFactor: new(true)}},
	} {
		everyone, no := backend.AudienceEveryone, false
		_, err := o.svc.UpdateApp(ctx, o.svc.Operator(), wiki.ID, backend.AppChanges{Audience: &everyone, RequireTwoFactor: &no})
		if err != nil && backend.ErrorCode(err) != backend.ECONFLICT { // ECONFLICT: as it was
			t.Fatal(err)
		}
		c := o.client()
		c.signIn("bob")
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, o.code(c, cfg, v, "s", "n"), oauth2.VerifierOption(v))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("%s: exchange: %v, refresh token %q", change.name, err, tok.RefreshToken)
		}
		if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("%s: userinfo before the change: %v", change.name, err)
		}
		if _, err := o.svc.UpdateApp(ctx, o.svc.Operator(), wiki.ID, change.ch); err != nil {
			t.Fatal(err)
		}
		if _, err := o.prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Errorf("%s: userinfo still answers bob", change.name)
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
			t.Errorf("%s: bob's refresh token still works", change.name)
		}
	}
}
