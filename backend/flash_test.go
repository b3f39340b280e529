package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// TestFlashBoundToSession: a signed-in person's flash shows once, to the session it was set for
// and no other (another session of the same user with the same token, a signed-out browser);
// a signed-out flash only without a session; another server on the same data shows it; it
// expires after FlashTTL; and the purge removes a flash whose session has ended.
func TestFlashBoundToSession(t *testing.T) {
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "bob"})
	bob := e.signIn("bob", goodPassword)
	bob2 := e.signIn("bob", goodPassword)

	tok, err := e.svc.SetFlash(ctx, bob, "Saved.")
	if err != nil || tok == "" {
		t.Fatalf("SetFlash: %q, %v", tok, err)
	}
	for name, id := range map[string]*backend.Identity{"another session of bob": bob2, "a signed-out browser": nil, "the administrator": e.admin} {
		if n, err := e.svc.TakeFlash(ctx, id, tok); err != nil || n != "" {
			t.Errorf("%s took bob's flash: %q, %v", name, n, err)
		}
	}
	if n, err := e.restarted().TakeFlash(ctx, bob, tok); err != nil || n != "Saved." {
		t.Fatalf("another server: got %q, %v; want the flash", n, err)
	}
	if n, _ := e.svc.TakeFlash(ctx, bob, tok); n != "" {
		t.Errorf("the flash showed twice: %q", n)
	}
	if n, _ := e.svc.TakeFlash(ctx, bob, ""); n != "" {
		t.Errorf("no token took %q", n)
	}

	out, _ := e.svc.SetFlash(ctx, nil, backend.LoggedOutNotice)
	if n, _ := e.svc.TakeFlash(ctx, bob, out); n != "" {
		t.Errorf("a session took the signed-out flash %q", n)
	}
	if n, _ := e.svc.TakeFlash(ctx, nil, out); n != backend.LoggedOutNotice {
		t.Errorf("signed out: got %q, want %q", n, backend.LoggedOutNotice)
	}
	if tok, err := e.svc.SetFlash(ctx, bob, ""); tok != "" || err != nil {
		t.Errorf("an empty notice was kept: %q, %v", tok, err)
	}

	late, _ := e.svc.SetFlash(ctx, bob, "Late.")
	e.clock.Advance(backend.FlashTTL + time.Second)
	bob = e.signIn("bob", goodPassword)
	if n, _ := e.svc.TakeFlash(ctx, bob, late); n != "" {
		t.Errorf("an expired flash showed: %q", n)
	}

	// Ended with its session: purged.
	ended, _ := e.svc.SetFlash(ctx, bob, "Ended.")
	if err := e.svc.Logout(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.h.CountRows("flashes"); n != 0 {
		t.Errorf("%d flashes left after the purge (the last one was %q's), want 0", n, ended)
	}
}
