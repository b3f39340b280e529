package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSetupLink: one link at a time, valid until it expires, used once even by racing callers.
func testSetupLink(t *testing.T, o Opener) {
	d, db, clk := newData(t, o)
	if _, err := db.ReplaceSetupLink(ctx, "old", time.Hour); err != nil {
		t.Fatal(err)
	}
	expires, err := db.ReplaceSetupLink(ctx, "live", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]bool{"old": false, "live": true, "other": false} {
		if ok, err := db.SetupLinkValid(ctx, hash); err != nil || ok != want {
			t.Errorf("SetupLinkValid(%q) = %v, %v; want %v", hash, ok, err, want)
		}
	}

	var used atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if ok, err := db.UseSetupLink(ctx, "live"); err != nil {
				t.Error(err)
			} else if ok {
				used.Add(1)
			}
		})
	}
	wg.Wait()
	if used.Load() != 1 {
		t.Errorf("20 racing uses of the link: %d succeeded, want 1", used.Load())
	}
	if ok, _ := db.SetupLinkValid(ctx, "live"); ok {
		t.Error("the used link is still valid")
	}

	// Expiry: valid up to its end, not after; purged with the expired login attempts.
	db.ReplaceSetupLink(ctx, "late", time.Hour)
	clk.set(expires.Add(2 * time.Hour))
	if ok, _ := db.UseSetupLink(ctx, "late"); ok {
		t.Error("an expired link was used")
	}
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "setup_link"); n != 0 {
		t.Errorf("setup links after the purge: %d; want 0", n)
	}
}
