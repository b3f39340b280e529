package web

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/sqlite"
)

// TestNoUserEnumerationWhenLocked pins issue 11 (web 4) with TestNoUserEnumeration's method: a
// locked account is told "Too many failed attempts: try again after HH:MM, or ask your
// administrator", even with the right password, and so is a name that is no account's after as
// many failures at the same times. Their answers have the same status and page (but for the
// username typed back) and take the same time: 200 pairs, one right after the other, from
// fresh client addresses, with the real argon2id parameters; the median of the paired
// differences is under 5 ms. An account that is not locked still answers a wrong password
// "Incorrect username or password.".
func TestNoUserEnumerationWhenLocked(t *testing.T) {
	t.Parallel() // 440 real argon2id hashes: let the other tests run meanwhile
	const tries = 200
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db.Now = clock.Now
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := backend.New(backend.Config{Store: db, SecretKey: make([]byte, backend.SecretKeySize), Logger: logger, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"known", "other"} {
		if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: name, Password: testPassword, Role: backend.RoleUser}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := NewServer(Config{Service: svc, Logger: logger, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	peer := 0
	login := func(username, password string) (int, string, time.Duration) {
		t.Helper()
		peer++ // a fresh address each time: the per-address limit is not what is tested here
		status, body, d, err := postForm(peerClient(loopbackIP(4, peer)), ts.URL, "/login", url.Values{"username": {username}, "password": {password}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return status, strings.ReplaceAll(body, username, "USERNAME"), d
	}

	// Ten failures each, at the same times (past each wait), lock both names.
	for i := range 10 {
		clock.Advance(31 * time.Second)
		for _, name := range []string{"known", "ghost"} {
			if status, body, _ := login(name, "wrong password"); status != http.StatusUnauthorized || !strings.Contains(body, "Incorrect username or password.") {
				t.Fatalf("failure %d of %s: status %d, want 401 and Incorrect username or password.", i+1, name, status)
			}
		}
	}
	until := clock.Now().Add(15 * time.Minute).Truncate(time.Minute).Add(time.Minute) // the lock's end, rounded up
	want := "Too many failed attempts: try again after " + until.Local().Format("15:04 MST") + ", or ask your administrator."

	var known, unknown []time.Duration
	for i := range tries {
		var kStatus, uStatus int
		var kBody, uBody string
		var kd, ud time.Duration
		tryKnown := func() { kStatus, kBody, kd = login("known", testPassword) }
		tryUnknown := func() { uStatus, uBody, ud = login("ghost", testPassword) }
		if i%2 == 0 { // in turns, which goes first
			tryKnown()
			tryUnknown()
		} else {
			tryUnknown()
			tryKnown()
		}
		if kStatus != uStatus || kBody != uBody {
			t.Fatalf("try %d: locked account got %d, locked unknown name %d; bodies equal: %v", i, kStatus, uStatus, kBody == uBody)
		}
		if kStatus != http.StatusTooManyRequests || !strings.Contains(kBody, want) {
			t.Fatalf("try %d: status %d, want 429 and %q:\n%s", i, kStatus, want, excerpt(kBody))
		}
		known, unknown = append(known, kd), append(unknown, ud)
	}
	diffs := make([]time.Duration, tries)
	for i := range diffs {
		diffs[i] = known[i] - unknown[i]
	}
	t.Logf("median: locked account %v; locked unknown name %v; median of paired differences %v", median(known), median(unknown), median(diffs))
	s := slices.Sorted(slices.Values(diffs))
	k := int(4 * math.Sqrt(float64(tries)) / 2) // as in TestNoUserEnumeration: 99.99% bounds of the median
	if lo, hi := s[tries/2-k], s[tries/2+k]; lo >= 5*time.Millisecond || hi <= -5*time.Millisecond {
		t.Errorf("median of paired time differences %v (99.99%% within %v..%v), want under 5ms", median(diffs), lo, hi)
	}

	// An account that is not locked: a wrong password is still just wrong.
	if status, body, _ := login("other", "wrong password"); status != http.StatusUnauthorized || !strings.Contains(body, "Incorrect username or password.") || strings.Contains(body, "Too many") {
		t.Errorf("a wrong password, not locked: status %d, want 401 and only Incorrect username or password.", status)
	}
	// The lock ends when it said.
	clock.Advance(until.Sub(clock.Now()))
	if status, _, _ := login("known", testPassword); status != http.StatusSeeOther {
		t.Errorf("the right password at %s: status %d, want 303 (signed in)", until.Format("15:04"), status)
	}
}
