package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// owned counts the rows a session or login owns: pending app and SMS setups and recovery code
// sheets, read straight from the store's tables.
func (e *env) owned() int {
	e.t.Helper()
	return e.h.CountRows("app_enrollments") + e.h.CountRows("sms_enrollments") + e.h.CountRows("recovery_sheets")
}

// beginAppSetup confirms id's password and begins "Use an App", leaving it pending.
func (e *env) beginAppSetup(id *backend.Identity) {
	e.t.Helper()
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.BeginAppEnrollment(ctx, id); err != nil {
		e.t.Fatal(err)
	}
}

// TestSetupEndsWithItsOwner pins that what a session began (a pending setup with its sealed
// secret, a recovery code sheet on show) is deleted when the session ends, not kept until its
// own expiry where no one can reach it: on Logout, when all of a user's sessions end, and when
// the session expires unused.
func TestSetupEndsWithItsOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *backend.Config) { c.IdleTimeout = 5 * time.Minute })
	e.createUser(backend.NewUser{Username: "alice"})
	bob := e.createUser(backend.NewUser{Username: "bob"})
	e.createUser(backend.NewUser{Username: "carol"})

	// Logout: alice's setup goes, and only hers.
	alice := e.signIn("alice", goodPassword)
	e.beginAppSetup(alice)
	e.beginAppSetup(e.signIn("carol", goodPassword))
	if n := e.owned(); n != 2 {
		t.Fatalf("alice's and carol's setups: %d owned rows, want 2", n)
	}
	if err := e.svc.Logout(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if n := e.owned(); n != 1 {
		t.Fatalf("after alice's Logout: %d owned rows, want 1 (carol's)", n)
	}

	// Every session of a user ended (as an administrator's Disable does): bob's setup goes.
	e.beginAppSetup(e.signIn("bob", goodPassword))
	if err := e.db.DeleteUserSessions(ctx, bob.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n := e.owned(); n != 1 {
		t.Fatalf("after bob's sessions ended: %d owned rows, want 1 (carol's)", n)
	}

	// Carol's session expires unused (5 minutes idle) long before her setup would (15):
	// the purge takes both.
	e.clock.Advance(6 * time.Minute)
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.owned(); n != 0 {
		t.Fatalf("after carol's session expired: %d owned rows, want 0", n)
	}
}
