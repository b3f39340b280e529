package web

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

// testRP is a relying party's back-channel logout endpoint: it records every POST and answers
// fail times with 503 before it answers 200.
type testRP struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
	calls  int
	fail   int
	bad    []string // what was wrong with a request (not a form POST)
}

func newTestRP(t *testing.T, fail int) *testRP {
	rp := &testRP{fail: fail}
	rp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		rp.calls++
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			rp.bad = append(rp.bad, r.Method+" "+r.Header.Get("Content-Type"))
		}
		if rp.calls <= rp.fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		rp.tokens = append(rp.tokens, r.PostFormValue("logout_token"))
		w.Header().Set("Cache-Control", "no-store")
	}))
	t.Cleanup(rp.Close)
	return rp
}

// got returns the calls so far and the tokens accepted.
func (rp *testRP) got() (int, []string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.bad) > 0 {
		panic("back-channel requests not form POSTs: " + strings.Join(rp.bad, ", "))
	}
	return rp.calls, slices.Clone(rp.tokens)
}

// deliver runs one round of the server's sender and returns how many it sent.
func (o *oidcEnv) deliver() int {
	o.t.Helper()
	n, err := o.srv.oidc.DeliverLogouts(o.t.Context())
	if err != nil {
		o.t.Fatalf("DeliverLogouts: %v", err)
	}
	return n
}

// signInToApp runs the code flow for a client already signed in and returns its tokens.
func (o *oidcEnv) signInToApp(c *client, cfg oauth2.Config) *oauth2.Token {
	o.t.Helper()
	v := oauth2.GenerateVerifier()
	code := o.code(c, cfg, v, "st", "n-1")
	tok, err := cfg.Exchange(o.t.Context(), code, oauth2.VerifierOption(v))
	if err != nil {
		o.t.Fatalf("exchange: %v", err)
	}
	return tok
}

type logoutClaims struct {
	Iss    string                     `json:"iss"`
	Sub    string                     `json:"sub"`
	Aud    []string                   `json:"aud"`
	Iat    int64                      `json:"iat"`
	Exp    int64                      `json:"exp"`
	JTI    string                     `json:"jti"`
	SID    string                     `json:"sid"`
	Events map[string]json.RawMessage `json:"events"`
}

// verifyLogoutToken checks raw as a relying party does (go-oidc's verifier on our JWKS) and
// returns its claims, every member of its payload and its header's typ.
func (o *oidcEnv) verifyLogoutToken(clientID, raw string) (logoutClaims, map[string]any, string) {
	o.t.Helper()
	ctx := o.t.Context()
	keys := oidc.NewRemoteKeySet(ctx, o.ts.URL+"/oidc/keys")
	v := oidc.NewVerifier(o.ts.URL, keys, &oidc.Config{ClientID: clientID, Now: o.clock.Now})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		o.t.Fatalf("logout token does not verify: %v", err)
	}
	var cl logoutClaims
	var all map[string]any
	if err := tok.Claims(&cl); err != nil {
		o.t.Fatal(err)
	}
	if err := tok.Claims(&all); err != nil {
		o.t.Fatal(err)
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var header struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(h, &header); err != nil {
		o.t.Fatalf("header %q: %v", h, err)
	}
	if header.Alg != "RS256" {
		o.t.Fatalf("alg %q, want RS256", header.Alg)
	}
	return cl, all, header.Typ
}

func TestBackchannelLogout(t *testing.T) {
	o := newOIDCEnv(t)
	alice := o.user("alice", backend.RoleUser, false)
	wikiRP, chatRP := newTestRP(t, 0), newTestRP(t, 0)
	wiki, wikiCfg := o.app("Wiki", func(na *backend.NewApp) { na.BackchannelLogoutURI = wikiRP.URL + "/backchannel" })
	o.app("Chat", func(na *backend.NewApp) { na.BackchannelLogoutURI = chatRP.URL + "/backchannel" })
	_, notesCfg := o.app("Notes", nil) // no back-channel URI

	var disc struct {
		Supported        bool `json:"backchannel_logout_supported"`
		SessionSupported bool `json:"backchannel_logout_session_supported"`
	}
	if err := o.prov.Claims(&disc); err != nil || !disc.Supported || !disc.SessionSupported {
		t.Fatalf("discovery: %+v %v, want back-channel logout with sid supported", disc, err)
	}

	c := o.client()
	c.signIn("alice")
	o.signInToApp(c, wikiCfg)
	o.signInToApp(c, wikiCfg) // twice: still one logout owed
	o.signInToApp(c, notesCfg)
	sess := o.sessionOf(c)
	if n := o.deliver(); n != 0 {
		t.Fatalf("sent %d logouts while the session is live, want 0", n)
	}
	st, err := o.svc.AppLogoutStatus(t.Context(), o.svc.Operator(), wiki.ID)
	if err != nil || st.Text(wiki) != "No logout sent yet." {
		t.Fatalf("status before: %v %v", st, err)
	}

	o.clock.Advance(time.Minute)
	c.post("/logout", nil)
	if n := o.deliver(); n != 1 {
		t.Fatalf("sent %d logouts after the logout, want 1 (Wiki)", n)
	}
	calls, toks := wikiRP.got()
	if calls != 1 || len(toks) != 1 {
		t.Fatalf("Wiki's endpoint: %d calls, %d tokens, want 1", calls, len(toks))
	}
	cl, all, typ := o.verifyLogoutToken(wikiCfg.ClientID, toks[0])
	if typ != "logout+jwt" {
		t.Errorf("typ %q, want logout+jwt", typ)
	}
	now := o.clock.Now().Unix()
	if cl.Iss != o.ts.URL || cl.Sub != strconv.FormatInt(alice.ID, 10) || !slices.Equal(cl.Aud, []string{wikiCfg.ClientID}) ||
		cl.SID == "" || cl.SID != sess.SID || cl.JTI == "" || cl.Iat != now || cl.Exp != now+int64(backend.LogoutTokenTTL/time.Second) {
		t.Errorf("claims %+v; want iss %s, sub %d, aud [%s], sid %s, iat %d, exp iat+2m, a jti", cl, o.ts.URL, alice.ID, wikiCfg.ClientID, sess.SID, now)
	}
	if ev, ok := cl.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || string(ev) != "{}" || len(cl.Events) != 1 {
		t.Errorf("events %v, want exactly the back-channel logout event with {}", cl.Events)
	}
	if _, ok := all["nonce"]; ok {
		t.Error("the logout token has a nonce")
	}
	// An ID token is not a logout token and the verifier for ID tokens of another client
	// refuses it: the audience is Wiki's alone.
	if _, err := oidc.NewVerifier(o.ts.URL, oidc.NewRemoteKeySet(t.Context(), o.ts.URL+"/oidc/keys"),
		&oidc.Config{ClientID: notesCfg.ClientID, Now: o.clock.Now}).Verify(t.Context(), toks[0]); err == nil {
		t.Error("the logout token verified for another application")
	}
	o.wantAudit(backend.AuditLogoutDelivered, "alice", "Wiki")
	if strings.Contains(o.logs.String(), toks[0]) {
		t.Error("the logout token is in the log")
	}

	// Once: nothing more, and the app the session never signed in to got nothing.
	if n := o.deliver(); n != 0 {
		t.Fatalf("sent %d more, want 0", n)
	}
	if calls, _ := chatRP.got(); calls != 0 {
		t.Errorf("Chat (never signed in to) got %d calls, want 0", calls)
	}
	st, err = o.svc.AppLogoutStatus(t.Context(), o.svc.Operator(), wiki.ID)
	if err != nil || st.Pending != 0 || !strings.HasPrefix(st.Text(wiki), "Every logout delivered; the last at ") {
		t.Fatalf("status after: %+v %v", st, err)
	}
	if n := o.h.CountRows("oidc_logout_deliveries"); n != 0 {
		t.Fatalf("%d delivery rows left, want 0", n)
	}
}

func TestBackchannelLogoutRetries(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("alice", backend.RoleUser, false)
	rp := newTestRP(t, 3)
	wiki, cfg := o.app("Wiki", func(na *backend.NewApp) { na.BackchannelLogoutURI = rp.URL + "/bcl" })
	c := o.client()
	c.signIn("alice")
	o.signInToApp(c, cfg)
	c.post("/logout", nil)
	o.user("root", backend.RoleAdmin, false)
	admin := o.client()
	admin.signIn("root")

	// Tries at 0 s (503), 1 s (503), 3 s (503), 7 s (200): 1 s, 2 s, 4 s apart.
	steps := []struct {
		advance time.Duration
		sent    int
		calls   int
	}{
		{0, 1, 1},
		{500 * time.Millisecond, 0, 1},
		{500 * time.Millisecond, 1, 2},
		{1900 * time.Millisecond, 0, 2},
		{100 * time.Millisecond, 1, 3},
		{3900 * time.Millisecond, 0, 3},
		{100 * time.Millisecond, 1, 4},
		{time.Hour, 0, 4},
	}
	for i, s := range steps {
		o.clock.Advance(s.advance)
		if n := o.deliver(); n != s.sent {
			t.Fatalf("step %d: sent %d, want %d", i, n, s.sent)
		}
		if calls, _ := rp.got(); calls != s.calls {
			t.Fatalf("step %d: %d calls, want %d", i, calls, s.calls)
		}
		if i == 3 {
			st, err := o.svc.AppLogoutStatus(t.Context(), o.svc.Operator(), wiki.ID)
			if err != nil || st.Pending != 1 || !strings.Contains(st.Text(wiki), "1 logout waiting. The last try failed at ") ||
				!strings.Contains(st.Text(wiki), "HTTP 503 Service Unavailable") {
				t.Fatalf("status while failing: %+v %q %v", st, st.Text(wiki), err)
			}
			// The application's page says it, in backend's words.
			page := admin.get(string(appURL(wiki, "")))
			page.wantStatus(t, http.StatusOK)
			page.wantBody(t, `id="backchannel-status">1 logout waiting. The last try failed at `, "HTTP 503 Service Unavailable")
		}
	}
	_, toks := rp.got()
	if len(toks) != 1 {
		t.Fatalf("%d tokens accepted, want exactly 1", len(toks))
	}
	o.clock.Advance(-time.Hour) // back to when it was sent, for its exp
	o.verifyLogoutToken(cfg.ClientID, toks[0])
	p, err := o.svc.AuditLog(t.Context(), o.svc.Operator(), backend.AuditFilter{Action: backend.AuditLogoutDelivered})
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("delivered events: %d %v, want 1", len(p.Events), err)
	}
}

func TestBackchannelLogoutGivesUp(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("alice", backend.RoleUser, false)
	rp := newTestRP(t, 1_000_000)
	wiki, cfg := o.app("Wiki", func(na *backend.NewApp) { na.BackchannelLogoutURI = rp.URL + "/bcl" })
	c := o.client()
	c.signIn("alice")
	o.signInToApp(c, cfg)
	c.post("/logout", nil)
	start := o.clock.Now()
	for o.clock.Now().Sub(start) < backend.LogoutGiveUpAfter+2*time.Hour {
		o.deliver()
		o.clock.Advance(10 * time.Minute)
	}
	calls, _ := rp.got()
	// 1+1+2+…+2048 s ≈ 68 min for the first 13 tries, then one an hour until 24 h.
	if calls < 30 || calls > 40 {
		t.Fatalf("%d tries in 26 h, want some 35 (backoff capped at an hour)", calls)
	}
	o.wantAudit(backend.AuditLogoutGivenUp, "alice", "Wiki")
	if n := o.h.CountRows("oidc_logout_deliveries"); n != 0 {
		t.Fatalf("%d rows left after giving up, want 0", n)
	}
	st, _ := o.svc.AppLogoutStatus(t.Context(), o.svc.Operator(), wiki.ID)
	if !strings.HasPrefix(st.Text(wiki), "The last logout was given up at ") {
		t.Fatalf("status %q, want given up", st.Text(wiki))
	}
}

// TestBackchannelLogoutAdminEnds: an administrator's Disable and a Two-Factor reset each end
// the person's sessions: their apps are told, and the apps' tokens stop working.
func TestBackchannelLogoutAdminEnds(t *testing.T) {
	for _, how := range []string{"disable", "reset two-factor"} {
		t.Run(how, func(t *testing.T) {
			o := newOIDCEnv(t)
			alice := o.user("alice", backend.RoleUser, false)
			rp := newTestRP(t, 0)
			_, cfg := o.app("Wiki", func(na *backend.NewApp) { na.BackchannelLogoutURI = rp.URL + "/bcl" })
			c := o.client()
			if how == "disable" {
				c.signIn("alice")
			} else {
				// Alice has Two-Factor (an authenticator app) and signs in with it.
				id := backendtest.SignIn(t, o.svc, "alice", testPassword)
				key := strings.ReplaceAll(backendtest.EnrollApp(t, o.svc, id, testPassword, o.clock.Now()).Key, " ", "")
				o.clock.Advance(30 * time.Second)
				c.login("alice", testPassword).wantRedirect(t, "/login/verify")
				c.post("/login/verify", url.Values{"code": {o.env.code(key)}}).wantRedirect(t, "/")
			}
			tok := o.signInToApp(c, cfg)
			sid := o.sessionOf(c).SID
			ctx := t.Context()
			if how == "disable" {
				if _, err := o.svc.UpdateUser(ctx, o.svc.Operator(), alice.ID, backend.UserChanges{Disabled: new(true)}); err != nil {
					t.Fatal(err)
				}
			} else {
				if _, err := o.svc.ResetTwoFactor(ctx, o.svc.Operator(), alice.ID); err != nil {
					t.Fatal(err)
				}
			}
			// Every session ends (the browser's, and the one alice enrolled in); only the
			// browser's signed in to Wiki.
			if n := o.deliver(); n != 1 {
				t.Fatalf("sent %d logouts, want 1", n)
			}
			_, toks := rp.got()
			if len(toks) != 1 {
				t.Fatalf("%d tokens, want 1", len(toks))
			}
			if cl, _, _ := o.verifyLogoutToken(cfg.ClientID, toks[0]); cl.SID != sid {
				t.Fatalf("sid %q, want the browser session's %q", cl.SID, sid)
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
				t.Fatal("the app's refresh token still works")
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.ts.URL+"/oidc/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("userinfo: %d, want 401", res.StatusCode)
			}
		})
	}
}

// TestBackchannelLogoutTwoServers: two servers on one PostgreSQL database, both sending,
// deliver one logout once.
func TestBackchannelLogoutTwoServers(t *testing.T) {
	pg := backendtest.PostgreSQL
	e := newEnv(t, func(s *envSetup) { s.store = &pg })
	e.setup.web.PublicURL = e.ts.URL
	e.serve(e.svc)
	o := &oidcEnv{env: e, callback: rpCallback}
	var err error
	if o.prov, err = oidc.NewProvider(t.Context(), e.ts.URL); err != nil {
		t.Fatal(err)
	}
	o.user("alice", backend.RoleUser, false)
	rp := newTestRP(t, 0)
	_, cfg := o.app("Wiki", func(na *backend.NewApp) { na.BackchannelLogoutURI = rp.URL + "/bcl" })
	c := o.client()
	c.signIn("alice")
	o.signInToApp(c, cfg)

	cfg2 := e.setup.web
	cfg2.Service = e.h.Reopen()
	other, err := NewServer(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	other.now = e.clock.Now
	c.post("/logout", nil)
	servers := []*Server{e.srv, other}
	var sent [2]int
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			for range 20 {
				n, err := s.oidc.DeliverLogouts(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				sent[i] += n
			}
		})
	}
	wg.Wait()
	calls, toks := rp.got()
	if calls != 1 || len(toks) != 1 || sent[0]+sent[1] != 1 {
		t.Fatalf("%d calls, %d tokens, sent %v, want one logout sent once", calls, len(toks), sent)
	}
	o.verifyLogoutToken(cfg.ClientID, toks[0])
}
