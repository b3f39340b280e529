package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSetupLink: each server's link valid beside the others', at most keep of them (the oldest
// dropped), each valid until it expires, used once even by racing callers, and all gone at
// DeleteSetupLinks.
func testSetupLink(t *testing.T, o Opener) {
	d, db, clk := newData(t, o)
	const keep = 3
	for _, hash := range []string{"oldest", "older", "old"} {
		if _, err := db.AddSetupLink(ctx, hash, time.Hour, keep); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Second)
	}
	expires, err := db.AddSetupLink(ctx, "live", time.Hour, keep)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "setup_link"); n != keep {
		t.Errorf("setup links stored after %d added with keep %d: got %d, want %d", keep+1, keep, n, keep)
	}
	for hash, want := range map[string]bool{"oldest": false, "older": true, "old": true, "live": true, "other": false} {
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
	if ok, _ := db.SetupLinkValid(ctx, "old"); !ok {
		t.Error("another server's link died when one was used, want it valid until DeleteSetupLinks")
	}
	if err := db.DeleteSetupLinks(ctx); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "setup_link"); n != 0 {
		t.Errorf("setup links after DeleteSetupLinks: got %d, want 0", n)
	}

	// Expiry: valid up to its end, not after; purged with the expired login attempts.
	db.AddSetupLink(ctx, "late", time.Hour, keep)
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
