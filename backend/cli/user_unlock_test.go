package cli

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestUserUnlock: `user unlock` lifts a lock after too many failed attempts (the way back for an
// administrator, who cannot unlock their own account), and says so when there is none.
func TestUserUnlock(t *testing.T) {
	dir := t.TempDir()
	if out, err := cli(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--admin", "--password-stdin"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if _, err := cli(t, dir, "", "user", "unlock", "alice"); err == nil || !strings.Contains(err.Error(), "alice is not locked.") {
		t.Errorf("unlock of an account not locked: %v, want that alice is not locked", err)
	}
	svc, db, err := openTest(t, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.UserByUsername(context.Background(), svc.Operator(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	lock := func(f *backend.Failures, now time.Time) error {
		f.Count, f.LockedUntil = 10, now.Add(15*time.Minute)
		return nil
	}
	if err := db.UpdateFailures(context.Background(), u.ID, lock); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(context.Background(), "alice", "correct horse battery"); err == nil {
		t.Fatal("locked: the right password signed in")
	}
	// A disabled account that is also locked reads Disabled (backend's AccountState), as on the
	// web and in the console.
	bob, err := svc.CreateUser(context.Background(), svc.Operator(), backend.NewUser{Username: "bob", Password: "bobs long password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateFailures(context.Background(), bob.ID, lock); err != nil {
		t.Fatal(err)
	}
	off := true
	if _, err := svc.UpdateUser(context.Background(), svc.Operator(), bob.ID, backend.UserChanges{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	locked, err := svc.UserByUsername(context.Background(), svc.Operator(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	until := "Locked until " + backend.FormatTime(locked.LockedUntil) // a lock can last a day: which one
	db.Close()
	out, err := cli(t, dir, "", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		want := map[string]backend.AccountState{"alice": backend.AccountLocked, "bob": backend.AccountDisabled}[f[0]]
		if want != "" && !slices.Contains(f, want.Label()) {
			t.Errorf("user list: %q, want the account %s", line, want.Label())
		}
		if f[0] == "alice" && !strings.Contains(line, until) {
			t.Errorf("user list: %q, want %q", line, until)
		}
	}

	out, err = cli(t, dir, "", "user", "unlock", "ALICE")
	if err != nil || !strings.Contains(out, `"alice" is unlocked.`) {
		t.Errorf("unlock: %v %q", err, out)
	}
	svc, db, err = openTest(t, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := svc.Login(context.Background(), "alice", "correct horse battery"); err != nil {
		t.Errorf("after unlock: %v, want the login to go on", err)
	}
}
