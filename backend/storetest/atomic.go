package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

// testClockOncePerTransaction: each transaction reads the clock once and stamps everything it
// writes with that reading, to the nanosecond.
func testClockOncePerTransaction(t *testing.T, o Opener) {
	var calls atomic.Int32
	c := fakeclock.New(t0)
	db := o(t).Open(func() time.Time { calls.Add(1); return c.Now() })
	u := &backend.User{Username: "ann", Role: backend.RoleUser}
	if err := db.CreateUser(ctx, u, "hash"); err != nil {
		t.Fatal(err)
	}
	if got := calls.Swap(0); got != 1 {
		t.Errorf("CreateUser read the clock %d times, want 1", got)
	}
	if !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t0) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want both %v", u.CreatedAt, u.UpdatedAt, t0)
	}
	c.Advance(time.Second)
	var seen time.Time
	err := db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, now time.Time) error {
		seen = now
		f.Count, f.NextTryAt = 1, now.Add(time.Minute)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Swap(0); got != 1 {
		t.Errorf("UpdateFailures read the clock %d times, want 1", got)
	}
	if want := t0.Add(time.Second); !seen.Equal(want) {
		t.Errorf("UpdateFailures gave fn now = %v, want %v", seen, want)
	}
	c.Advance(time.Second)
	upd, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{ClearEnrollment: true, EndSessions: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Swap(0); got != 1 {
		t.Errorf("UpdateUser read the clock %d times, want 1", got)
	}
	if want := t0.Add(2 * time.Second); !upd.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v", upd.UpdatedAt, want)
	}
	// Atomically: one reading for everything its calls write.
	c.Advance(time.Second)
	var e1, e2 backend.AuditEvent
	err = db.Atomically(ctx, func(ctx context.Context) error {
		c.Advance(time.Hour) // the clock moves on during the transaction: its time does not
		if err := db.AddAuditEvent(ctx, &e1); err != nil {
			return err
		}
		return db.AddAuditEvent(ctx, &e2)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Swap(0); got != 1 || !e1.At.Equal(t0.Add(3*time.Second)) || !e2.At.Equal(e1.At) {
		t.Errorf("Atomically: %d clock readings, events at %v and %v; want 1, both %v", got, e1.At, e2.At, t0.Add(3*time.Second))
	}
}

// testAtomically: the calls made with Atomically's context join its transaction, see its
// writes, and commit together or not at all; nested, it just runs fn.
func testAtomically(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	errStop := errors.New("stop")
	err := db.Atomically(ctx, func(ctx context.Context) error {
		u := &backend.User{Username: "rolled", Role: backend.RoleUser}
		if err := db.CreateUser(ctx, u, "h"); err != nil {
			return err
		}
		if got, err := db.FindUserByUsername(ctx, "ROLLED"); err != nil || got.ID != u.ID {
			t.Errorf("inside: FindUserByUsername = %v, %v; want the user just created", got, err)
		}
		if _, err := db.FindUserByUsername(context.Background(), "rolled"); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Errorf("outside, before the commit: FindUserByUsername err %v, want ENOTFOUND", err)
		}
		return db.Atomically(ctx, func(ctx context.Context) error { // nested: the same transaction
			return db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "test.rolled"})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindUserByUsername(ctx, "rolled"); err != nil {
		t.Fatalf("after commit: %v", err)
	}
	err = db.Atomically(ctx, func(ctx context.Context) error {
		if err := db.CreateUser(ctx, &backend.User{Username: "gone", Role: backend.RoleUser}, "h"); err != nil {
			return err
		}
		if err := db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "test.gone"}); err != nil {
			return err
		}
		return errStop
	})
	if err != errStop {
		t.Fatalf("Atomically: got %v, want fn's error", err)
	}
	if _, err := db.FindUserByUsername(ctx, "gone"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("after rollback: user found (%v)", err)
	}
	if _, n, _ := db.FindAuditEvents(ctx, backend.AuditFilter{Action: "test.gone"}); n != 0 {
		t.Errorf("after rollback: %d audit events, want 0", n)
	}
	if _, err := db.FindUserForUpdate(ctx, 1); err == nil {
		t.Error("FindUserForUpdate outside Atomically: got nil error")
	}
}

// testDomainErrorsKeepTheTransaction: in PostgreSQL a failed statement ends its transaction
// (SQLite fails the statement alone). The answers a caller may act on and go on (a taken
// name, a missing user, a code hash in use) are answers, not failed statements, so the
// Atomically transaction they come from still commits, and a method that failed changed
// nothing.
func testDomainErrorsKeepTheTransaction(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	s := &backend.Session{TokenHash: "s1", UserID: bob.ID}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginSMSEnrollment(ctx, "o1", bob.ID, "code", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	expires := t0.Add(time.Hour)
	err := db.Atomically(ctx, func(ctx context.Context) error {
		wantCode(t, db.CreateUser(ctx, &backend.User{Username: "BOB", Role: backend.RoleUser}, "h"), backend.ECONFLICT)
		wantCode(t, db.SeedUsers(ctx, []*backend.User{{Username: "new1", Role: backend.RoleUser}, {Username: "Bob", Role: backend.RoleUser}}, "h"), backend.ECONFLICT)
		wantCode(t, db.CreateSession(ctx, &backend.Session{TokenHash: "s1", UserID: bob.ID}), backend.ECONFLICT)
		wantCode(t, db.CreateSession(ctx, &backend.Session{TokenHash: "s2", UserID: 999}), backend.ENOTFOUND)
		wantCode(t, db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "a", UserID: 999, ExpiresAt: expires}), backend.ENOTFOUND)
		_, err := db.BeginAppEnrollment(ctx, "o2", 999, []byte("x"), time.Hour)
		wantCode(t, err, backend.ENOTFOUND)
		_, err = db.BeginSMSEnrollment(ctx, "o2", bob.ID, "code", []byte("x"), time.Hour)
		wantCode(t, err, backend.ECONFLICT)
		_, err = db.PutRecoverySheet(ctx, "o2", 999, []byte("x"), time.Hour)
		wantCode(t, err, backend.ENOTFOUND)
		_, err = db.FindUserByUsername(ctx, "bad\x00name\xff")
		wantCode(t, err, backend.ENOTFOUND)
		wantCode(t, db.EnableTwoFactor(ctx, bob.ID, backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("s"), Owner: "o9"}, nil), backend.ECONFLICT)
		return db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "test.after", Detail: "still here"})
	})
	if err != nil {
		t.Fatalf("Atomically after answers: %v", err)
	}
	if _, n, _ := db.FindAuditEvents(ctx, backend.AuditFilter{Action: "test.after"}); n != 1 {
		t.Errorf("the transaction's audit event: %d, want 1 (committed)", n)
	}
	if _, err := db.FindUserByUsername(ctx, "new1"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("SeedUsers refused inside Atomically left its first user (%v)", err)
	}
}
