package storetest

import (
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
)

// testFlashes: a flash is taken once, only with its own token and the session it was set for,
// not after it expired; a reopened store (a restart, another process) finds it; the purge
// removes expired flashes and those of sessions that are gone, and no other.
func testFlashes(t *testing.T, o Opener) {
	d, db, c := newData(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "bob-session", UserID: bob.ID}); err != nil {
		t.Fatal(err)
	}
	take := func(token, session string) string {
		t.Helper()
		n, ok, err := db.TakeFlash(ctx, token, session)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (n != "") {
			t.Fatalf("TakeFlash(%q, %q) = %q, %v", token, session, n, ok)
		}
		return n
	}

	if err := db.PutFlash(ctx, "f1", "bob-session", "Saved.", time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.PutFlash(ctx, "f1", "", "Again.", time.Hour), backend.ECONFLICT)
	if n := take("f1", ""); n != "" {
		t.Errorf("a signed-out browser with the token took the session's flash %q", n)
	}
	if n := take("f1", "other-session"); n != "" {
		t.Errorf("another session with the token took the flash %q", n)
	}
	if n := take("f2", "bob-session"); n != "" {
		t.Errorf("the session took the flash %q with another token", n)
	}
	// Another store on the same database (another process, another server) sees it, and
	// it is taken once.
	other := d.Open(c.Now)
	if n := take("f1", "bob-session"); n != "Saved." {
		t.Fatalf("got %q, want the flash", n)
	}
	if n, ok, _ := other.TakeFlash(ctx, "f1", "bob-session"); ok {
		t.Errorf("the flash was taken a second time: %q", n)
	}

	// Signed out: bound to no session.
	db.PutFlash(ctx, "out", "", "You have logged out.", time.Hour)
	if n := take("out", "bob-session"); n != "" {
		t.Errorf("a session took the signed-out flash %q", n)
	}
	if n := take("out", ""); n != "You have logged out." {
		t.Errorf("got %q, want the signed-out flash", n)
	}

	// Expired: never taken, then purged.
	db.PutFlash(ctx, "old", "", "Old.", time.Minute)
	c.add(2 * time.Minute)
	if n := take("old", ""); n != "" {
		t.Errorf("an expired flash was taken: %q", n)
	}

	// Of many page views at once, exactly one shows the flash.
	db.PutFlash(ctx, "race", "bob-session", "Once.", time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 20 {
		wg.Go(func() {
			if _, ok, err := db.TakeFlash(ctx, "race", "bob-session"); err == nil && ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got != 1 {
		t.Errorf("the flash was taken %d times, want 1", got)
	}

	// The purge: expired flashes, and flashes of sessions that are gone; a live one stays.
	db.PutFlash(ctx, "live", "bob-session", "Live.", time.Hour)
	db.PutFlash(ctx, "live-out", "", "Live, signed out.", time.Hour)
	db.PutFlash(ctx, "ended", "ended-session", "Ended.", time.Hour)
	db.PutFlash(ctx, "expiring", "", "Expiring.", time.Minute)
	c.add(2 * time.Minute)
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, c.Now()); err != nil {
		t.Fatal(err)
	}
	// Two flashes are left, and they are the live ones.
	if n := d.count(t, "flashes"); n != 2 {
		t.Errorf("after the purge: %d flashes, want 2 (live, live-out)", n)
	}
	if n := take("ended", "ended-session"); n != "" {
		t.Errorf("the flash of an ended session survived the purge: %q", n)
	}
	if n := take("live", "bob-session"); n != "Live." {
		t.Errorf("the live flash after the purge: %q, want it", n)
	}
	if n := take("live-out", ""); n != "Live, signed out." {
		t.Errorf("the live signed-out flash after the purge: %q, want it", n)
	}
}
