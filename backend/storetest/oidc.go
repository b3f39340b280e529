package storetest

// The OpenID Connect provider's store methods: authorization requests, codes and refresh
// tokens used once under real concurrency, signing keys.

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

func init() {
	tests = append(tests,
		test{"OIDCAuthRequests", testOIDCAuthRequests},
		test{"OIDCPendingBound", testOIDCPendingBound},
		test{"OIDCCodeReplay", testOIDCCodeReplay},
		test{"OIDCRaceExchangeCode", testOIDCRaceExchangeCode},
		test{"OIDCRaceRotateRefresh", testOIDCRaceRotateRefresh},
		test{"OIDCSigningKeys", testOIDCSigningKeys},
		test{"OIDCSessionColumns", testOIDCSessionColumns},
	)
}

// oidcFixture is an app, a user with a session, and a complete authorization request with a
// code.
func oidcFixture(t *testing.T, db backend.Store) (*backend.App, *backend.User, *backend.AuthRequest) {
	t.Helper()
	u := createUser(t, db, "alice", backend.RoleUser)
	a := &backend.App{ClientID: "gh-test", Name: "Wiki", RedirectURIs: []string{"https://wiki.example.com/cb"}, Audience: backend.AudienceEveryone}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "sess", UserID: u.ID, SID: "sid-1", AMR: []string{"pwd", "otp", "mfa"}}); err != nil {
		t.Fatal(err)
	}
	r := &backend.AuthRequest{ID: "req-1", AppID: a.ID, ClientID: a.ClientID, RedirectURI: a.RedirectURIs[0], State: "st", Nonce: "n",
		Scopes: []string{"openid", "email"}, ResponseType: "code", CodeChallenge: "ch", ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateAuthRequest(ctx, r, 100); err != nil {
		t.Fatal(err)
	}
	done := *r
	done.OwnerHash, done.UserID, done.SID, done.AMR, done.AuthTime = "sess", u.ID, "sid-1", []string{"pwd", "otp", "mfa"}, t0
	if ok, err := db.CompleteAuthRequest(ctx, &done); err != nil || !ok {
		t.Fatalf("CompleteAuthRequest: %v %v, want true", ok, err)
	}
	if ok, err := db.SetAuthCode(ctx, r.ID, "code-hash"); err != nil || !ok {
		t.Fatalf("SetAuthCode: %v %v, want true", ok, err)
	}
	return a, u, r
}

func tokenRows(a *backend.App, u *backend.User, family, access, refresh string) []*backend.OIDCToken {
	mk := func(kind, hash string) *backend.OIDCToken {
		return &backend.OIDCToken{Hash: hash, Kind: kind, FamilyID: family, AppID: a.ID, ClientID: a.ClientID, UserID: u.ID,
			SessionHash: "sess", SID: "sid-1", Scopes: []string{"openid"}, AMR: []string{"pwd"}, AuthTime: t0, ExpiresAt: time.Now().Add(time.Hour)}
	}
	return []*backend.OIDCToken{mk(backend.TokenAccess, access), mk(backend.TokenRefresh, refresh)}
}

func testOIDCAuthRequests(t *testing.T, o Opener) {
	d := o(t)
	db := d.Open(nil)
	u := createUser(t, db, "bob", backend.RoleUser)
	if err := db.CreateAuthRequest(ctx, &backend.AuthRequest{ID: "x", AppID: 999, ExpiresAt: time.Now().Add(time.Hour)}, 100); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("CreateAuthRequest for a missing app: %v, want ENOTFOUND", err)
	}
	a := &backend.App{ClientID: "gh-a", Name: "A", RedirectURIs: []string{"https://a.example.com/cb"}, Audience: backend.AudienceEveryone}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	r := &backend.AuthRequest{ID: "r1", AppID: a.ID, ClientID: a.ClientID, RedirectURI: "https://a.example.com/cb", State: "s",
		Nonce: "n", Scopes: []string{"openid", "profile"}, ResponseType: "code", ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateAuthRequest(ctx, r, 100); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindAuthRequest(ctx, "r1")
	if err != nil || got.State != "s" || len(got.Scopes) != 2 || got.Done || got.CodeIssued {
		t.Fatalf("FindAuthRequest: %+v %v", got, err)
	}
	if ok, _ := db.SetAuthCode(ctx, "r1", "h"); ok {
		t.Fatal("SetAuthCode on a request that is not complete: true")
	}
	done := *got
	done.OwnerHash, done.UserID, done.SID, done.AMR, done.AuthTime = "sess-1", u.ID, "sid", []string{"pwd"}, time.Now()
	if ok, _ := db.CompleteAuthRequest(ctx, &done); !ok {
		t.Fatal("CompleteAuthRequest: false")
	}
	if ok, _ := db.CompleteAuthRequest(ctx, &done); ok {
		t.Fatal("CompleteAuthRequest twice: true")
	}
	if ok, _ := db.SetAuthCode(ctx, "r1", "h"); !ok {
		t.Fatal("SetAuthCode: false")
	}
	if ok, _ := db.SetAuthCode(ctx, "r1", "h2"); ok {
		t.Fatal("SetAuthCode twice: true")
	}
	got, err = db.FindAuthRequestByCode(ctx, "h")
	if err != nil || got.ID != "r1" || !got.Done || !got.CodeIssued || got.UserID != u.ID || got.OwnerHash != "sess-1" {
		t.Fatalf("FindAuthRequestByCode: %+v %v", got, err)
	}
	if !got.ExpiresAt.Before(time.Now().Add(backend.AuthCodeTTL + time.Second)) {
		t.Fatalf("a code's request expires at %v, want within %v", got.ExpiresAt, backend.AuthCodeTTL)
	}
	// Expired requests cannot be completed, and DeleteExpiredOIDC removes them.
	old := &backend.AuthRequest{ID: "r2", AppID: a.ID, ClientID: a.ClientID, ExpiresAt: time.Now().Add(-time.Second)}
	if err := db.CreateAuthRequest(ctx, old, 100); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.CompleteAuthRequest(ctx, &backend.AuthRequest{ID: "r2", OwnerHash: "x"}); ok {
		t.Fatal("CompleteAuthRequest of an expired request: true")
	}
	if err := db.DeleteExpiredOIDC(ctx, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindAuthRequest(ctx, "r2"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("expired request after DeleteExpiredOIDC: %v, want ENOTFOUND", err)
	}
}

// testOIDCRaceExchangeCode: 50 concurrent exchanges of one code, over several stores on one
// database: exactly one wins and stores its tokens, and the losers, which found the code used,
// revoke them (RFC 6749 §4.1.2: a code used twice revokes what it gave).
func testOIDCRaceExchangeCode(t *testing.T, o Opener) {
	d := o(t)
	stores := replicas(d, servers, nil)
	a, u, r := oidcFixture(t, stores[0])
	var replays atomic.Int32
	n := race(t, racers, func(i int) (bool, error) {
		ok, replayed, err := stores[i%servers].ExchangeCode(ctx, r.ID, tokenRows(a, u, "fam"+itoa(i), "a"+itoa(i), "r"+itoa(i)))
		if replayed {
			replays.Add(1)
		}
		return ok, err
	})
	if n != 1 {
		t.Fatalf("%d concurrent ExchangeCode of one code: %d won, want 1", racers, n)
	}
	if got := replays.Load(); got != racers-1 {
		t.Fatalf("losers that reported a replay: %d, want %d", got, racers-1)
	}
	if got := d.count(t, "oidc_tokens"); got != 0 {
		t.Fatalf("tokens left after the code was used %d times: %d, want 0 (the winner's family revoked)", racers, got)
	}
	if ok, replayed, _ := stores[0].ExchangeCode(ctx, r.ID, tokenRows(a, u, "famx", "ax", "rx")); ok || !replayed {
		t.Fatalf("ExchangeCode after the race: ok %v replayed %v, want false true", ok, replayed)
	}
}

// testOIDCCodeReplay: the family of a code's tokens is kept on its request; an exchange of
// the used code again revokes that family (and only it), and says so.
func testOIDCCodeReplay(t *testing.T, o Opener) {
	db := o(t).Open(nil)
	a, u, r := oidcFixture(t, db)
	if ok, replayed, err := db.ExchangeCode(ctx, r.ID, tokenRows(a, u, "fam-1", "a1", "r1")); !ok || replayed || err != nil {
		t.Fatalf("first ExchangeCode: %v %v %v, want true false nil", ok, replayed, err)
	}
	other := tokenRows(a, u, "fam-other", "a9", "r9")
	db.CreateAuthRequest(ctx, &backend.AuthRequest{ID: "req-9", AppID: a.ID, ClientID: a.ClientID, ExpiresAt: time.Now().Add(time.Hour)}, 100)
	done := backend.AuthRequest{ID: "req-9", OwnerHash: "sess", UserID: u.ID}
	db.CompleteAuthRequest(ctx, &done)
	db.SetAuthCode(ctx, "req-9", "code-9")
	if ok, _, err := db.ExchangeCode(ctx, "req-9", other); !ok || err != nil {
		t.Fatalf("other request's ExchangeCode: %v %v", ok, err)
	}
	got, err := db.FindAuthRequestByCode(ctx, "code-hash")
	if err != nil || !got.CodeUsed || got.FamilyID != "fam-1" {
		t.Fatalf("used request: %+v %v, want CodeUsed and FamilyID fam-1", got, err)
	}
	if ok, replayed, err := db.ExchangeCode(ctx, r.ID, tokenRows(a, u, "fam-2", "a2", "r2")); ok || !replayed || err != nil {
		t.Fatalf("second ExchangeCode: %v %v %v, want false true nil", ok, replayed, err)
	}
	for _, h := range []string{"a1", "r1", "a2", "r2"} {
		if _, err := db.FindOIDCToken(ctx, h); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Fatalf("token %s after the replay: %v, want ENOTFOUND", h, err)
		}
	}
	if _, err := db.FindOIDCToken(ctx, "r9"); err != nil {
		t.Fatalf("another code's token after the replay: %v, want it kept", err)
	}
	// A code never issued, or unknown: no replay.
	if ok, replayed, err := db.ExchangeCode(ctx, "nope", nil); ok || replayed || err != nil {
		t.Fatalf("ExchangeCode of an unknown request: %v %v %v, want false false nil", ok, replayed, err)
	}
}

// testOIDCPendingBound: CreateAuthRequest keeps prompt and max_age, drops the application's
// expired requests, and refuses (ETOOMANY, storing nothing) beyond maxPending waiting (not
// complete), unexpired requests of one application; other applications' do not count.
func testOIDCPendingBound(t *testing.T, o Opener) {
	c := fakeclock.New(t0)
	d := o(t)
	db := d.Open(c.Now)
	mk := func(name string) *backend.App {
		a := &backend.App{ClientID: "gh-" + name, Name: name, RedirectURIs: []string{"https://a.example.com/cb"}, Audience: backend.AudienceEveryone}
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := mk("A"), mk("B")
	req := func(app *backend.App, id string, ttl time.Duration) error {
		return db.CreateAuthRequest(ctx, &backend.AuthRequest{ID: id, AppID: app.ID, ClientID: app.ClientID, MaxAge: -1,
			ExpiresAt: c.Now().Add(ttl)}, 3)
	}
	r := &backend.AuthRequest{ID: "p0", AppID: a.ID, ClientID: a.ClientID, Prompt: []string{"login"}, MaxAge: 90 * time.Second,
		ExpiresAt: c.Now().Add(time.Minute)}
	if err := db.CreateAuthRequest(ctx, r, 3); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindAuthRequest(ctx, "p0")
	if err != nil || len(got.Prompt) != 1 || got.Prompt[0] != "login" || got.MaxAge != 90*time.Second {
		t.Fatalf("FindAuthRequest: prompt %v max_age %v (%v), want [login] 1m30s", got.Prompt, got.MaxAge, err)
	}
	if err := req(a, "p1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindAuthRequest(ctx, "p1"); got.MaxAge != -1 {
		t.Fatalf("no max_age: read back as %v, want -1", got.MaxAge)
	}
	if err := req(a, "p2", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := req(a, "p3", 10*time.Minute); backend.ErrorCode(err) != backend.ETOOMANY {
		t.Fatalf("a 4th waiting request with a bound of 3: %v, want ETOOMANY", err)
	}
	if _, err := db.FindAuthRequest(ctx, "p3"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("the refused request: %v, want not stored", err)
	}
	if err := req(b, "q1", time.Minute); err != nil {
		t.Fatalf("another application's request: %v, want stored", err)
	}
	// Expired ones go at the next request (p0, p1: a minute).
	c.Advance(2 * time.Minute)
	if err := req(a, "p4", 10*time.Minute); err != nil {
		t.Fatalf("after two expired: %v, want stored", err)
	}
	for _, id := range []string{"p0", "p1"} {
		if _, err := db.FindAuthRequest(ctx, id); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Fatalf("expired request %s after a new one: %v, want deleted", id, err)
		}
	}
}

// testOIDCRaceRotateRefresh: 50 concurrent rotations of one refresh token: exactly one wins;
// a later one is a replay and revokes the whole family (RFC 9700 §4.14.2).
func testOIDCRaceRotateRefresh(t *testing.T, o Opener) {
	d := o(t)
	stores := replicas(d, servers, nil)
	a, u, r := oidcFixture(t, stores[0])
	if ok, _, err := stores[0].ExchangeCode(ctx, r.ID, tokenRows(a, u, "fam", "a0", "r0")); !ok || err != nil {
		t.Fatalf("ExchangeCode: %v %v", ok, err)
	}
	n := race(t, racers, func(i int) (bool, error) {
		ok, _, err := stores[i%servers].RotateRefreshToken(ctx, "r0", tokenRows(a, u, "fam", "a"+itoa(i+1), "r"+itoa(i+1)))
		return ok, err
	})
	if n != 1 {
		t.Fatalf("%d concurrent RotateRefreshToken of one token: %d won, want 1", racers, n)
	}
	// The losers were replays: the family is gone, the winner's new tokens with it.
	if got := d.count(t, "oidc_tokens"); got != 0 {
		t.Fatalf("tokens left after replays: %d, want 0 (the family revoked)", got)
	}
	ok, replayed, err := stores[0].RotateRefreshToken(ctx, "unknown", nil)
	if ok || replayed || err != nil {
		t.Fatalf("RotateRefreshToken of an unknown token: %v %v %v, want false false nil", ok, replayed, err)
	}
	// Sequential: rotate once, then the old token again is a replay.
	r2 := &backend.AuthRequest{ID: "req-2", AppID: a.ID, ClientID: a.ClientID, ExpiresAt: time.Now().Add(time.Hour)}
	if err := stores[0].CreateAuthRequest(ctx, r2, 100); err != nil {
		t.Fatal(err)
	}
	done := *r2
	done.OwnerHash, done.UserID = "sess", u.ID
	stores[0].CompleteAuthRequest(ctx, &done)
	stores[0].SetAuthCode(ctx, r2.ID, "code-2")
	if ok, _, _ := stores[0].ExchangeCode(ctx, r2.ID, tokenRows(a, u, "fam2", "b0", "s0")); !ok {
		t.Fatal("ExchangeCode of the second request: false")
	}
	if ok, replayed, _ := stores[0].RotateRefreshToken(ctx, "s0", tokenRows(a, u, "fam2", "b1", "s1")); !ok || replayed {
		t.Fatalf("first rotation: ok %v replayed %v", ok, replayed)
	}
	if tok, err := stores[0].FindOIDCToken(ctx, "s0"); err != nil || tok.UsedAt.IsZero() {
		t.Fatalf("rotated token: %+v %v, want used", tok, err)
	}
	if ok, replayed, _ := stores[0].RotateRefreshToken(ctx, "s0", tokenRows(a, u, "fam2", "b2", "s2")); ok || !replayed {
		t.Fatalf("replay: ok %v replayed %v, want false true", ok, replayed)
	}
	if _, err := stores[0].FindOIDCToken(ctx, "s1"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("the family's newest token after a replay: %v, want ENOTFOUND", err)
	}
}

func testOIDCSigningKeys(t *testing.T, o Opener) {
	d := o(t)
	stores := replicas(d, servers, nil)
	n := race(t, 10, func(i int) (bool, error) {
		return stores[i%servers].PutSigningKey(ctx, &backend.SigningKey{KID: "k" + itoa(i), Alg: "RS256", Sealed: []byte{1}, Public: []byte{2}}, true)
	})
	if n != 1 {
		t.Fatalf("10 servers creating the first key: %d stored, want 1", n)
	}
	keys, err := stores[0].SigningKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].RetiredAt.IsZero() {
		t.Fatalf("SigningKeys: %v %v", keys, err)
	}
	first := keys[0].KID
	if ok, err := stores[1].PutSigningKey(ctx, &backend.SigningKey{KID: "new", Alg: "RS256", Sealed: []byte{3}, Public: []byte{4}}, false); !ok || err != nil {
		t.Fatalf("rotation: %v %v", ok, err)
	}
	keys, _ = stores[0].SigningKeys(ctx)
	if len(keys) != 2 || keys[0].KID != "new" || !keys[0].RetiredAt.IsZero() || keys[1].KID != first || keys[1].RetiredAt.IsZero() {
		t.Fatalf("after rotation: %+v %+v, want new current, %s retired", keys[0], keys[1], first)
	}
	if err := stores[0].DeleteExpiredOIDC(ctx, time.Now(), keys[1].RetiredAt.Add(time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	if keys, _ = stores[0].SigningKeys(ctx); len(keys) != 1 || keys[0].KID != "new" {
		t.Fatalf("after the retired key's window: %v, want only new", keys)
	}
}

func testOIDCSessionColumns(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "carol", backend.RoleUser)
	s := &backend.Session{TokenHash: "s1", UserID: u.ID, SID: "abc", AMR: []string{"pwd", "sms", "mfa"}}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.FindSession(ctx, "s1")
	if err != nil || got.SID != "abc" || len(got.AMR) != 3 || got.AMR[1] != "sms" {
		t.Fatalf("FindSession: %+v %v, want sid abc, amr pwd sms mfa", got, err)
	}
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "s2", UserID: u.ID, SID: "abc"}); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Fatalf("a second session with the same sid: %v, want ECONFLICT", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
