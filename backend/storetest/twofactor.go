package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/backend"
)

// beginApp begins an app enrollment of the user owned by owner, with sealed standing in for
// the sealed secret.
func beginApp(t *testing.T, db backend.Store, owner string, userID int64, sealed string, ttl time.Duration) *backend.PendingAppEnrollment {
	t.Helper()
	p, err := db.BeginAppEnrollment(ctx, owner, userID, []byte(sealed), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testPendingAndActiveTOTP(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)

	_, err := db.FindAppEnrollment(ctx, "owner")
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.TOTPSecret(ctx, u.ID)
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.BeginAppEnrollment(ctx, "owner", 999, []byte("x"), time.Hour)
	wantCode(t, err, backend.ENOTFOUND)

	for _, p := range []string{"first", "second"} { // replaces the owner's earlier one
		beginApp(t, db, "owner", u.ID, p, time.Hour)
		if got, err := db.FindAppEnrollment(ctx, "owner"); err != nil || string(got.Sealed) != p || got.UserID != u.ID {
			t.Fatalf("FindAppEnrollment: got %+v, %v; want %q", got, err, p)
		}
	}

	// Only the pending secret can be enabled: a replaced one is refused and changes nothing.
	codes := []backend.RecoveryCode{{Salt: []byte("s"), Hash: []byte("h")}}
	app := func(sealed string) backend.Enrollment {
		return backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte(sealed), TOTPStep: 100, Owner: "owner"}
	}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, app("first"), codes), backend.ECONFLICT)
	if got, _ := db.FindUserByID(ctx, u.ID); got.Method != backend.MethodNone {
		t.Fatalf("after a refused EnableTwoFactor: method %q, want none", got.Method)
	}
	beginApp(t, db, "owner", u.ID, "active", time.Hour)
	if err := db.EnableTwoFactor(ctx, u.ID, app("active"), codes); err != nil {
		t.Fatal(err)
	}
	if got, err := db.TOTPSecret(ctx, u.ID); err != nil || string(got) != "active" {
		t.Fatalf("TOTPSecret: got %q, %v; want active", got, err)
	}
	_, err = db.FindAppEnrollment(ctx, "owner")
	wantCode(t, err, backend.ENOTFOUND) // ended by the enrollment
	got, _ := db.FindUserByID(ctx, u.ID)
	if got.Method != backend.MethodApp || got.TwoFactorStatus() != backend.StatusEnabled || !got.UpdatedAt.After(u.UpdatedAt) {
		t.Fatalf("after EnableTwoFactor(app): %+v", *got)
	}
	// The confirming code's step is used: it cannot sign in again.
	if ok, _ := db.ConsumeTOTPStep(ctx, u.ID, 100); ok {
		t.Error("ConsumeTOTPStep(enrollment step): got true, want false")
	}
	if ok, _ := db.ConsumeTOTPStep(ctx, u.ID, 101); !ok {
		t.Error("ConsumeTOTPStep(next step): got false, want true")
	}

	// SMS, too, is enabled only over its pending enrollment, once its text has arrived from
	// that phone.
	sms := backend.Enrollment{Method: backend.MethodSMS, SMSPhone: "+15550123", Owner: "owner"}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, sms, codes), backend.ECONFLICT)
	if _, err := db.BeginSMSEnrollment(ctx, "owner", u.ID, "code hash", []byte("c"), time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, sms, codes), backend.ECONFLICT) // no text yet
	if _, err := db.AttachSMSPhone(ctx, "code hash", "+15550199", time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, sms, codes), backend.ECONFLICT) // another phone
	if got, _ := db.FindUserByID(ctx, u.ID); got.Method != backend.MethodApp {
		t.Fatalf("after refused EnableTwoFactor(sms): method %q, want app", got.Method)
	}
	if _, err := db.BeginSMSEnrollment(ctx, "owner", u.ID, "code hash 2", []byte("c"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AttachSMSPhone(ctx, "code hash 2", "+15550123", time.Hour); err != nil {
		t.Fatal(err)
	}
	// Switching to SMS drops the app's secret and step, and uses up the pending enrollment.
	if err := db.EnableTwoFactor(ctx, u.ID, sms, codes); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindSMSEnrollment(ctx, "owner")
	wantCode(t, err, backend.ENOTFOUND)
	got, _ = db.FindUserByID(ctx, u.ID)
	if got.Method != backend.MethodSMS || got.SMSPhone != "+15550123" {
		t.Fatalf("after EnableTwoFactor(sms): method %q, phone %q", got.Method, got.SMSPhone)
	}
	_, err = db.TOTPSecret(ctx, u.ID)
	wantCode(t, err, backend.ENOTFOUND)

	for _, e := range []backend.Enrollment{{Method: backend.MethodNone}, {Method: backend.MethodApp}, {Method: backend.MethodSMS}, {Method: "fax"}} {
		wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, codes), backend.EINVALID)
	}
	wantCode(t, db.EnableTwoFactor(ctx, 999, backend.Enrollment{Method: backend.MethodSMS, SMSPhone: "+1"}, codes), backend.ENOTFOUND)
}

// testAppEnrollmentOwners: app setups are kept per owner (a session's or login attempt's token
// hash). Two owners of one user each keep their own, which the other's Begin does not
// replace; only the owner finds it; and only the owner can enable it, even with the right
// secret in hand. Enabling one ends the user's other setups.
func testAppEnrollmentOwners(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	v := createUser(t, db, "vic", backend.RoleUser)
	p := beginApp(t, db, "session A", u.ID, "secret A", 15*time.Minute)
	if p.Owner != "session A" || p.UserID != u.ID || !p.CreatedAt.Equal(t0) || !p.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("BeginAppEnrollment: got %+v, want owner session A, created %v, expiring 15 minutes later", p, t0)
	}
	beginApp(t, db, "session B", u.ID, "secret B", 15*time.Minute)
	beginApp(t, db, "vic's session", v.ID, "secret V", 15*time.Minute)
	for owner, want := range map[string]string{"session A": "secret A", "session B": "secret B", "vic's session": "secret V"} {
		got, err := db.FindAppEnrollment(ctx, owner)
		if err != nil || string(got.Sealed) != want || got.Owner != owner {
			t.Errorf("FindAppEnrollment(%s): got %+v, %v; want %q", owner, got, err, want)
		}
	}
	_, err := db.FindAppEnrollment(ctx, "session C")
	wantCode(t, err, backend.ENOTFOUND)

	e := backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("secret A"), TOTPStep: 1}
	for _, owner := range []string{"", "session B", "session C", "vic's session"} {
		e.Owner = owner
		wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, nil), backend.ECONFLICT)
	}
	e.Owner = "vic's session" // a setup of another user, by its owner, is not this user's
	e.SealedTOTP = []byte("secret V")
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, nil), backend.ECONFLICT)
	if got, _ := db.FindUserByID(ctx, u.ID); got.Method != backend.MethodNone {
		t.Fatalf("after refused confirmations: method %q, want none", got.Method)
	}
	if _, err := db.BeginSMSEnrollment(ctx, "session B", u.ID, "code B", []byte("c"), time.Hour); err != nil {
		t.Fatal(err)
	}
	e = backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("secret A"), TOTPStep: 1, Owner: "session A"}
	if err := db.EnableTwoFactor(ctx, u.ID, e, nil); err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"session A", "session B"} {
		_, err := db.FindAppEnrollment(ctx, owner)
		wantCode(t, err, backend.ENOTFOUND)
	}
	_, err = db.FindSMSEnrollment(ctx, "session B")
	wantCode(t, err, backend.ENOTFOUND)
	if _, err := db.FindAppEnrollment(ctx, "vic's session"); err != nil {
		t.Errorf("another user's setup after bob enabled: %v, want it kept", err)
	}
}

// testAppEnrollmentExpiry: an app setup is found expired or not (FindAppEnrollment says when
// it expires), can be enabled only before it expires by the store's clock, and is purged by
// DeleteExpired once expired.
func testAppEnrollmentExpiry(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	for _, owner := range []string{"old", "new"} { // setups whose owner ended are purged at once
		if err := db.CreateSession(ctx, &backend.Session{TokenHash: owner, UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	beginApp(t, db, "old", u.ID, "old secret", 15*time.Minute)
	c.Advance(10 * time.Minute)
	beginApp(t, db, "new", u.ID, "new secret", 15*time.Minute)
	c.Advance(5 * time.Minute) // "old" expires now

	got, err := db.FindAppEnrollment(ctx, "old")
	if err != nil || !got.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("FindAppEnrollment(expired): got %+v, %v; want it, expiring at %v", got, err, t0.Add(15*time.Minute))
	}
	e := backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("old secret"), TOTPStep: 1, Owner: "old"}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, nil), backend.ECONFLICT)

	// Purged only once past its expiry, with the login attempts' rule; zero times purge none.
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindAppEnrollment(ctx, "old"); err != nil {
		t.Errorf("after DeleteExpired(zero times): %v, want the setup kept", err)
	}
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, t0.Add(15*time.Minute+time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindAppEnrollment(ctx, "old")
	wantCode(t, err, backend.ENOTFOUND)
	if _, err := db.FindAppEnrollment(ctx, "new"); err != nil {
		t.Errorf("the unexpired setup after DeleteExpired: %v, want it kept", err)
	}
	e = backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("new secret"), TOTPStep: 1, Owner: "new"}
	if err := db.EnableTwoFactor(ctx, u.ID, e, nil); err != nil {
		t.Errorf("EnableTwoFactor(unexpired setup): %v", err)
	}
}

// testAppEnrollmentSurvivesReopen: a setup is in the database, not in the process: another
// store on the same database (a restarted or second server) finds it.
func testAppEnrollmentSurvivesReopen(t *testing.T, o Opener) {
	d := o(t)
	db := d.Open(nil)
	u := createUser(t, db, "bob", backend.RoleUser)
	beginApp(t, db, "owner", u.ID, "sealed", time.Hour)
	if _, err := db.BeginSMSEnrollment(ctx, "owner", u.ID, "code hash", []byte("sealed code"), time.Hour); err != nil {
		t.Fatal(err)
	}
	other := d.Open(nil)
	if p, err := other.FindAppEnrollment(ctx, "owner"); err != nil || string(p.Sealed) != "sealed" {
		t.Errorf("FindAppEnrollment from another DB: %+v, %v", p, err)
	}
	if p, err := other.FindSMSEnrollment(ctx, "owner"); err != nil || string(p.SealedCode) != "sealed code" {
		t.Errorf("FindSMSEnrollment from another DB: %+v, %v", p, err)
	}
}

func testConsumeTOTPStep(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	other := createUser(t, db, "carol", backend.RoleUser)

	// The same code submitted 50 times at once is accepted once (RFC 6238 §5.2).
	const step = 59_000_000
	if n := race(t, 50, func(int) (bool, error) { return db.ConsumeTOTPStep(ctx, u.ID, step) }); n != 1 {
		t.Fatalf("50 concurrent ConsumeTOTPStep(%d): %d won, want 1", step, n)
	}
	for _, tc := range []struct {
		user int64
		step int64
		want bool
	}{
		{u.ID, step, false},     // replay
		{u.ID, step - 1, false}, // an earlier code, still inside the ±1 window
		{u.ID, step + 1, true},  // the next one
		{u.ID, step + 1, false},
		{u.ID, step, false},
		{other.ID, step, true}, // steps are per user
		{999, step + 5, false}, // no such user
	} {
		got, err := db.ConsumeTOTPStep(ctx, tc.user, tc.step)
		if err != nil || got != tc.want {
			t.Errorf("ConsumeTOTPStep(user %d, %d): got %v, %v; want %v", tc.user, tc.step, got, err, tc.want)
		}
	}
}

func testRecoveryCodes(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	other := createUser(t, db, "carol", backend.RoleUser)

	first := make([]backend.RecoveryCode, 5)
	for i := range first {
		first[i] = backend.RecoveryCode{Salt: []byte{byte(i)}, Hash: []byte{0xaa, byte(i)}}
	}
	if err := db.ReplaceRecoveryCodes(ctx, u.ID, first); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecoveryCodes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("RecoveryCodes: %d, want 5", len(got))
	}
	for i, c := range got {
		if c.ID == 0 || c.ID != first[i].ID || string(c.Salt) != string(first[i].Salt) || string(c.Hash) != string(first[i].Hash) {
			t.Errorf("code %d: got %+v, want %+v (with its ID set by ReplaceRecoveryCodes)", i, c, first[i])
		}
	}
	if got, _ := db.RecoveryCodes(ctx, other.ID); len(got) != 0 {
		t.Errorf("other user's codes: %d, want 0", len(got))
	}

	// One code submitted 50 times at once is used once.
	id := first[2].ID
	if n := race(t, 50, func(int) (bool, error) { return db.UseRecoveryCode(ctx, id) }); n != 1 {
		t.Fatalf("50 concurrent UseRecoveryCode: %d won, want 1", n)
	}
	if ok, _ := db.UseRecoveryCode(ctx, id); ok {
		t.Error("UseRecoveryCode again: got true, want false")
	}
	if got, _ := db.RecoveryCodes(ctx, u.ID); len(got) != 4 {
		t.Errorf("unused codes after one use: %d, want 4", len(got))
	}

	// Regenerating voids the old set.
	second := []backend.RecoveryCode{{Salt: []byte("n"), Hash: []byte("m")}}
	if err := db.ReplaceRecoveryCodes(ctx, u.ID, second); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.UseRecoveryCode(ctx, first[0].ID); ok {
		t.Error("a voided code was used")
	}
	if got, _ := db.RecoveryCodes(ctx, u.ID); len(got) != 1 || got[0].ID != second[0].ID {
		t.Errorf("codes after replace: %+v, want only the new one", got)
	}
	wantCode(t, db.ReplaceRecoveryCodes(ctx, 999, second), backend.ENOTFOUND)
}

func testUpdateFailures(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)

	var now0 time.Time
	err := db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, now time.Time) error {
		if *f != (backend.Failures{}) {
			t.Errorf("initial state %+v, want zero", *f)
		}
		now0 = now
		f.Count, f.NextTryAt, f.LockedUntil, f.SecondFactor, f.Streak = 3, now.Add(time.Minute), now.Add(time.Hour), true, 2
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := backend.Failures{Count: 3, NextTryAt: now0.Add(time.Minute), LockedUntil: now0.Add(time.Hour), SecondFactor: true, Streak: 2}
	read := func() backend.Failures {
		var got backend.Failures
		if err := db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { got = *f; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); got != want {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
	// A login step's locked read of the user, then its charge: the same state, the second
	// factor's mark and the streak of locks with it (backend.LockoutPolicy).
	err = db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := db.FindUserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		return db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error {
			if *f != want {
				t.Errorf("after FindUserForUpdate: %+v, want %+v", *f, want)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	// fn's error comes back as is, and nothing is stored.
	errStop := errors.New("stop")
	err = db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error {
		f.Count = 99
		return errStop
	})
	if err != errStop {
		t.Fatalf("UpdateFailures: got %v, want fn's error as is", err)
	}
	if got := read(); got != want {
		t.Fatalf("after fn's error: %+v, want %+v (unchanged)", got, want)
	}

	// Zero times are stored as none.
	err = db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { *f = backend.Failures{}; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := read(); got != (backend.Failures{}) {
		t.Fatalf("after reset: %+v, want zero", got)
	}
	called := false
	err = db.UpdateFailures(ctx, 999, func(*backend.Failures, time.Time) error { called = true; return nil })
	wantCode(t, err, backend.ENOTFOUND)
	if called {
		t.Error("fn called for a missing user")
	}
}

// testUpdateFailuresNoLostUpdates: 200 concurrent increments, through two stores on one file
// (like the desktop console and the web server), all count.
func testUpdateFailuresNoLostUpdates(t *testing.T, o Opener) {
	dbs := replicas(o(t), 2, nil)
	u := createUser(t, dbs[0], "bob", backend.RoleUser)
	race(t, 200, func(i int) (bool, error) {
		return true, dbs[i%2].UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error {
			f.Count++
			return nil
		})
	})
	var got int
	dbs[1].UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { got = f.Count; return nil })
	if got != 200 {
		t.Fatalf("Count after 200 concurrent increments: %d, want 200", got)
	}
}
