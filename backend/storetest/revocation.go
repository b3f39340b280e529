package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/backend"
)

func testSessionRevocations(t *testing.T, o Opener) {
	db, c := newDB(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	ann := createUser(t, db, "ann", backend.RoleUser)

	if err := db.RevokeSessions(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	// Inside a transaction it commits with it, or not at all.
	if err := db.Atomically(ctx, func(ctx context.Context) error { return db.RevokeSessions(ctx, ann.ID) }); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("changed my mind")
	if err := db.Atomically(ctx, func(ctx context.Context) error {
		if err := db.RevokeSessions(ctx, bob.ID); err != nil {
			return err
		}
		return failed
	}); err != failed {
		t.Fatalf("Atomically: got %v, want %v", err, failed)
	}
	c.set(t0.Add(time.Hour))
	if err := db.RevokeSessions(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}

	all, err := db.SessionRevocationsSince(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var users []int64
	for i, r := range all {
		users = append(users, r.UserID)
		if i > 0 && r.ID <= all[i-1].ID {
			t.Fatalf("revocations out of order: %+v", all)
		}
	}
	if want := []int64{bob.ID, ann.ID, bob.ID}; len(users) != len(want) || users[0] != want[0] || users[1] != want[1] || users[2] != want[2] {
		t.Fatalf("revoked users: got %v, want %v (the rolled-back one left out)", users, want)
	}
	if !all[2].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revocation stamped %v, want the transaction's time %v", all[2].At, t0.Add(time.Hour))
	}
	if got, err := db.SessionRevocationsSince(ctx, all[0].ID, 1); err != nil || len(got) != 1 || got[0] != all[1] {
		t.Fatalf("since the first, limit 1: got %+v, %v; want [%+v]", got, err, all[1])
	}
	if got, err := db.SessionRevocationsSince(ctx, all[2].ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("since the last: got %+v, %v; want none", got, err)
	}

	if err := db.DeleteSessionRevocations(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SessionRevocationsSince(ctx, 0, 10); err != nil || len(got) != 1 || got[0] != all[2] {
		t.Fatalf("after deleting those before %v: got %+v, %v; want [%+v]", t0.Add(time.Minute), got, err, all[2])
	}
	// IDs are not reused once the newest is gone: a reader's mark stays valid.
	if err := db.DeleteSessionRevocations(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeSessions(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SessionRevocationsSince(ctx, all[2].ID, 10); err != nil || len(got) != 1 || got[0].UserID != ann.ID {
		t.Fatalf("a revocation after the newest was deleted: got %+v, %v; want one for ann above ID %d", got, err, all[2].ID)
	}
}

// testRaceSessionRevocations: a transaction that revokes and commits late must not get an ID
// below one a reader has already passed. A holds its transaction open after RevokeSessions, B
// revokes and commits (on PostgreSQL; on SQLite it waits for A's write lock), a reader reads,
// then A commits: reading on from the reader's mark finds A's revocation.
func testRaceSessionRevocations(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	a, b, reader := stores[0], stores[1], stores[2]
	ua := createUser(t, a, "ua", backend.RoleUser)
	ub := createUser(t, a, "ub", backend.RoleUser)

	revoked, release := make(chan struct{}), make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.Atomically(ctx, func(ctx context.Context) error {
			// A write first, as a real change has: the transaction has begun.
			if _, err := a.UpdateUser(ctx, ua.ID, backend.UserUpdate{DisplayName: new("A")}); err != nil {
				return err
			}
			if err := a.RevokeSessions(ctx, ua.ID); err != nil {
				return err
			}
			close(revoked)
			<-release
			return nil
		})
	}()
	<-revoked
	bDone := make(chan error, 1)
	go func() { bDone <- b.RevokeSessions(ctx, ub.ID) }()
	select {
	case err := <-bDone: // PostgreSQL: B commits while A is open
		if err != nil {
			t.Fatal(err)
		}
		bDone <- nil
	case <-time.After(300 * time.Millisecond): // SQLite: B waits for A's write lock
	}
	var last int64
	seen := map[int64]bool{}
	read := func() {
		t.Helper()
		revs, err := reader.SessionRevocationsSince(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range revs {
			seen[r.UserID] = true
			last = r.ID
		}
	}
	read()
	close(release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	read()
	if !seen[ua.ID] || !seen[ub.ID] {
		t.Fatalf("a reader moving its mark on saw revocations of %v; want both ua (%d) and ub (%d)", seen, ua.ID, ub.ID)
	}
}

func testTouchSessions(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	for _, h := range []string{"s1", "s2"} {
		if err := db.CreateSession(ctx, &backend.Session{TokenHash: h, UserID: u.ID, CreatedAt: t0, LastSeenAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	later, earlier := t0.Add(10*time.Minute), t0
	if err := db.TouchSessions(ctx, map[string]time.Time{"s1": later, "s2": earlier, "gone": later}); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSessions(ctx, nil); err != nil {
		t.Fatalf("TouchSessions of none: %v", err)
	}
	for h, want := range map[string]time.Time{"s1": later, "s2": t0.Add(time.Minute)} {
		s, _, err := db.FindSession(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if !s.LastSeenAt.Equal(want) {
			t.Errorf("%s last seen: got %v, want %v (never moved back)", h, s.LastSeenAt, want)
		}
	}
}
