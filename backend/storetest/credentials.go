package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// testCredentialsVersion (issue 9 F3): every change of what a login is checked against or leads
// to is a new credentials version, and nothing else is; sessions and login attempts carry it.
func testCredentialsVersion(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	createUser(t, db, "admin", backend.RoleAdmin)
	u := createUser(t, db, "bob", backend.RoleUser)
	version := func() int64 {
		t.Helper()
		got, err := db.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.CredentialsVersion
	}
	sealed := []byte("sealed secret")
	for _, tc := range []struct {
		name   string
		change func() error
		bump   bool
	}{
		{"display name and email", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{DisplayName: ptr("Bob"), Email: ptr("b@example.com")})
			return err
		}, false},
		{"the same role again", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{Role: ptr(backend.RoleUser)})
			return err
		}, false},
		{"password", func() error { return db.SetPassword(ctx, u.ID, "new hash", false, nil) }, true},
		{"role", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{Role: ptr(backend.RoleAdmin)})
			return err
		}, true},
		{"disabled", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{Disabled: ptr(true)})
			return err
		}, true},
		{"required", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{TwoFactorRequired: ptr(true)})
			return err
		}, true},
		{"must change", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{MustChangePassword: ptr(true)})
			return err
		}, true},
		{"pending app secret", func() error {
			_, err := db.BeginAppEnrollment(ctx, "session", u.ID, sealed, time.Hour)
			return err
		}, false},
		{"enrolled", func() error {
			return db.EnableTwoFactor(ctx, u.ID, backend.Enrollment{Method: backend.MethodApp, Owner: "session", SealedTOTP: sealed, TOTPStep: 1}, nil)
		}, true},
		{"a TOTP step used", func() error { _, err := db.ConsumeTOTPStep(ctx, u.ID, 2); return err }, false},
		{"enrollment cleared", func() error {
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{ClearEnrollment: true})
			return err
		}, true},
	} {
		before := version()
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := version() - before; (got > 0) != tc.bump {
			t.Errorf("%s: the version went up by %d, want a new version: %v", tc.name, got, tc.bump)
		}
	}

	now := version()
	a := &backend.LoginAttempt{TokenHash: "attempt", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour), CredentialsVersion: now}
	if err := db.CreateLoginAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindLoginAttempt(ctx, "attempt"); err != nil || got.CredentialsVersion != now {
		t.Errorf("FindLoginAttempt: %+v, %v; want version %d", got, err, now)
	}
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "session", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, su, err := db.FindSession(ctx, "session"); err != nil || su.CredentialsVersion != now {
		t.Errorf("FindSession: %+v, %v; want version %d", su, err, now)
	}

	// FindUserForUpdate only inside Atomically, where it holds the write lock.
	if _, err := db.FindUserForUpdate(ctx, u.ID); err == nil {
		t.Error("FindUserForUpdate outside Atomically: got no error")
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		got, err := db.FindUserForUpdate(ctx, u.ID)
		if err == nil && got.CredentialsVersion != now {
			t.Errorf("FindUserForUpdate: version %d, want %d", got.CredentialsVersion, now)
		}
		_, err2 := db.FindUserForUpdate(ctx, u.ID+100)
		wantCode(t, err2, backend.ENOTFOUND)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testUnknownFailuresKey (issue 9 F1): an unknown name's counter is keyed by a hash; whatever
// else is passed, nothing is stored.
func testUnknownFailuresKey(t *testing.T, o Opener) {
	d, db, _ := newData(t, o)
	key := strings.Repeat("ab", 32)
	for range 2 {
		err := db.UpdateUnknownFailures(ctx, key, func(f *backend.Failures, now time.Time) error { f.Count++; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.UpdateUnknownFailures(ctx, key, func(f *backend.Failures, now time.Time) error { n = f.Count; return nil })
	if n != 2 {
		t.Errorf("count: got %d, want 2", n)
	}
	for _, bad := range []string{"nobody", strings.Repeat("x", 1<<20), strings.Repeat("AB", 32)} {
		called := false
		err := db.UpdateUnknownFailures(ctx, bad, func(*backend.Failures, time.Time) error { called = true; return nil })
		wantCode(t, err, backend.EINVALID)
		if called {
			t.Errorf("%.10q: fn called", bad)
		}
	}
	if rows := d.count(t, "unknown_logins"); rows != 1 {
		t.Errorf("unknown_logins: %d rows, want 1", rows)
	}
}

// testDeleteAuditEvents (issue 9 F1): events before the time go, in batches; the others stay.
func testDeleteAuditEvents(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	for range 7 { // at t0, t0+1s, … t0+6s
		if err := db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "login.failure"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.DeleteAuditEvents(ctx, t0.Add(5*time.Second))
	if err != nil || n != 5 {
		t.Fatalf("DeleteAuditEvents: %d, %v; want 5 deleted", n, err)
	}
	left, total, _ := db.FindAuditEvents(ctx, backend.AuditFilter{})
	if total != 2 || !left[1].At.Equal(t0.Add(5*time.Second)) {
		t.Errorf("left: %d events, the oldest at %v; want 2 from %v", total, left[len(left)-1].At, t0.Add(5*time.Second))
	}
}
