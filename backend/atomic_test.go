package backend_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// failingAudit is the real store, except that while fail is set every audit insert fails.
type failingAudit struct {
	backend.Store
	fail atomic.Bool
}

var errAuditBroken = errors.New("audit insert failed (test)")

func (s *failingAudit) AddAuditEvent(ctx context.Context, e *backend.AuditEvent) error {
	if s.fail.Load() {
		return errAuditBroken
	}
	return s.Store.AddAuditEvent(ctx, e)
}

// watched is what a change would alter: a user, and the sessions or login attempts (by token)
// whose rows, pending setups included, it would end or use up.
type watched struct {
	userID int64
	tokens []string
	// charged: the change is a password step, which charges the attempt to the failure
	// counter in a transaction of its own before the password is checked (chargeAttempt).
	// That charge stands whatever follows; the store holds one failure more.
	charged bool
}

// snapshot reads from the real store everything a Service change can write about w, and the
// number of users and audit events, as one comparable string. charges are added to the
// failure count, for what a change that did not happen still leaves (watched.charged).
func snapshot(t *testing.T, db backend.Store, w watched, charges int) string {
	t.Helper()
	_, users, err := db.FindUsers(ctx, backend.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	_, events, err := db.FindAuditEvents(ctx, backend.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.FindUserByID(ctx, w.userID)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := db.PasswordHash(ctx, w.userID)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := db.RecoveryCodes(ctx, w.userID)
	if err != nil {
		t.Fatal(err)
	}
	var failures backend.Failures
	errRead := errors.New("read only")
	if err := db.UpdateFailures(ctx, w.userID, func(f *backend.Failures, _ time.Time) error {
		failures = *f
		return errRead // stores nothing
	}); err != errRead {
		t.Fatal(err)
	}
	failures.Count += charges
	s := fmt.Sprintf("users %d, audit events %d\nuser %+v\nhash %s\ncodes %+v\nfailures %+v\n", users, events, *u, hash, codes, failures)
	for _, token := range w.tokens {
		sum := sha256.Sum256([]byte(token))
		h := hex.EncodeToString(sum[:])
		_, _, serr := db.FindSession(ctx, h)
		_, aerr := db.FindLoginAttempt(ctx, h)
		app, _ := db.FindAppEnrollment(ctx, h)
		sms, _ := db.FindSMSEnrollment(ctx, h)
		s += fmt.Sprintf("token: session %v, attempt %v, app setup %+v, sms setup %+v\n", serr == nil, aerr == nil, app, sms)
	}
	return s
}

// wrongLogins makes n wrong password attempts as bob, each past any wait. (env's failLogins
// counts verifications on env's store, which these tests replace.)
func wrongLogins(t *testing.T, e *smsEnv, n int) {
	t.Helper()
	for range n {
		e.clock.Advance(31 * time.Second)
		if _, err := e.svc.Login(ctx, "bob", "wrong password"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Fatalf("wrong password: got %v, want code %s", err, backend.EUNAUTHORIZED)
		}
	}
}

// TestChangeFailsWithItsAudit: every Service change is one transaction with its audit event,
// so when the audit insert fails the change fails too: the caller gets an error, and the
// store, read again, holds exactly what it held before.
func TestChangeFailsWithItsAudit(t *testing.T) {
	t.Parallel()
	// Each case prepares, with the audit working, and returns the change to make with it
	// failing and what that change would alter.
	type prepare func(t *testing.T, e *smsEnv) (func() error, watched)
	// bob is a new user; when nu lets him in with his password alone, also his session,
	// its password confirmed, and its token.
	bob := func(t *testing.T, e *smsEnv, nu backend.NewUser) (*backend.User, *backend.Identity, string) {
		t.Helper()
		nu.Username = "bob"
		u := e.createUser(nu)
		if nu.RequireTwoFactor || nu.MustChangePassword {
			return u, nil, ""
		}
		token := e.login("bob", goodPassword, backend.StepDone).SessionToken
		id := e.identity(token)
		if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
			t.Fatal(err)
		}
		return u, id, token
	}
	// requiredBob is bob, Two-Factor required and enrolled with the app at the enroll step.
	requiredBob := func(t *testing.T, e *smsEnv) *backend.User {
		u, _, _ := bob(t, e, backend.NewUser{RequireTwoFactor: true})
		e.enrollApp(e.enrollmentIdentity("bob"), "")
		return u
	}
	admin := func(e *smsEnv, call func() error) (func() error, watched) {
		return call, watched{userID: e.admin.User.ID, tokens: []string{e.adminToken}}
	}
	for _, c := range []struct {
		name    string
		prepare prepare
	}{
		{"CreateUser", func(t *testing.T, e *smsEnv) (func() error, watched) {
			return admin(e, func() error {
				_, err := e.svc.CreateUser(ctx, e.admin, backend.NewUser{Username: "carol", Password: goodPassword})
				return err
			})
		}},
		{"UpdateUser name and email", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, token := bob(t, e, backend.NewUser{})
			name, email := "Robert", "bob@example.com"
			return func() error {
				_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{DisplayName: &name, Email: &email})
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"UpdateUser disable", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, token := bob(t, e, backend.NewUser{})
			off := true
			return func() error {
				_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Disabled: &off})
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"UpdateUser role", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, token := bob(t, e, backend.NewUser{})
			role := backend.RoleAdmin
			return func() error {
				_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Role: &role})
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"SetUserPassword", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, token := bob(t, e, backend.NewUser{})
			wrongLogins(t, e, 1)
			return func() error {
				return e.svc.SetUserPassword(ctx, e.admin, u.ID, "a password set by someone", true)
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"RequireTwoFactor", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, token := bob(t, e, backend.NewUser{})
			return func() error {
				_, err := e.svc.RequireTwoFactor(ctx, e.admin, u.ID)
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"DisableTwoFactor", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u := requiredBob(t, e)
			wrongLogins(t, e, 1)
			return func() error {
				_, err := e.svc.DisableTwoFactor(ctx, e.admin, u.ID)
				return err
			}, watched{userID: u.ID}
		}},
		{"ResetTwoFactor", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u := requiredBob(t, e)
			attempt := e.login("bob", goodPassword, backend.StepVerify).AttemptToken
			return func() error {
				_, err := e.svc.ResetTwoFactor(ctx, e.admin, u.ID)
				return err
			}, watched{userID: u.ID, tokens: []string{attempt}}
		}},
		{"UnlockUser", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, _ := bob(t, e, backend.NewUser{})
			wrongLogins(t, e, 10) // the default policy locks at the 10th
			if !e.svc.Locked(e.user(u.ID)) {
				t.Fatal("bob is not locked")
			}
			return func() error {
				_, err := e.svc.UnlockUser(ctx, e.admin, u.ID)
				return err
			}, watched{userID: u.ID}
		}},
		{"ChangePassword", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, id, token := bob(t, e, backend.NewUser{})
			other := e.login("bob", goodPassword, backend.StepDone).SessionToken
			return func() error {
				return e.svc.ChangePassword(ctx, id, goodPassword, "a brand new password for bob")
			}, watched{userID: u.ID, tokens: []string{token, other}}
		}},
		{"DisableOwnTwoFactor", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, app := e.enrolledUser("bob")
			token := e.signInTOTP("bob", goodPassword, app)
			id := e.identity(token)
			other := e.signInTOTP("bob", goodPassword, app)
			if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
				t.Fatal(err)
			}
			return func() error { return e.svc.DisableOwnTwoFactor(ctx, id) }, watched{userID: u.ID, tokens: []string{token, other}}
		}},
		{"RegenerateRecoveryCodes", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, app := e.enrolledUser("bob")
			token := e.signInTOTP("bob", goodPassword, app)
			id := e.identity(token)
			if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := e.svc.RegenerateRecoveryCodes(ctx, id)
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"ConfirmAppEnrollment from the profile", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, id, token := bob(t, e, backend.NewUser{})
			other := e.login("bob", goodPassword, backend.StepDone).SessionToken
			en, err := e.svc.BeginAppEnrollment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, en.Key), e.clock.Now()))
				return err
			}, watched{userID: u.ID, tokens: []string{token, other}}
		}},
		{"ConfirmAppEnrollment at login", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, _ := bob(t, e, backend.NewUser{RequireTwoFactor: true})
			attempt := e.login("bob", goodPassword, backend.StepEnroll).AttemptToken
			id, err := e.svc.EnrollmentIdentity(ctx, attempt)
			if err != nil {
				t.Fatal(err)
			}
			en, err := e.svc.BeginAppEnrollment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, en.Key), e.clock.Now()))
				return err
			}, watched{userID: u.ID, tokens: []string{attempt}}
		}},
		{"BeginSMSEnrollment", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, id, token := bob(t, e, backend.NewUser{})
			return func() error {
				_, err := e.svc.BeginSMSEnrollment(ctx, id)
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"ReceiveSMS", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, id, token := bob(t, e, backend.NewUser{})
			en, err := e.svc.BeginSMSEnrollment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return func() error { return e.text(bobPhone, en.Code) }, watched{userID: u.ID, tokens: []string{token}}
		}},
		{"ConfirmSMSEnrollment", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, id, token := bob(t, e, backend.NewUser{})
			en, err := e.svc.BeginSMSEnrollment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.text(bobPhone, en.Code); err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := e.svc.ConfirmSMSEnrollment(ctx, id)
				return err
			}, watched{userID: u.ID, tokens: []string{token}}
		}},
		// Login steps that sign in are changes too: the sign-in and its record go together.
		{"Login", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, _ := bob(t, e, backend.NewUser{})
			wrongLogins(t, e, 1) // a success would reset the count
			return func() error {
				_, err := e.svc.Login(ctx, "bob", goodPassword)
				return err
			}, watched{userID: u.ID, charged: true}
		}},
		{"VerifyRecoveryCode", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, app := e.enrolledUser("bob")
			wrongLogins(t, e, 1)
			attempt := e.login("bob", goodPassword, backend.StepVerify).AttemptToken
			return func() error {
				_, err := e.svc.VerifyRecoveryCode(ctx, attempt, app.codes[0])
				return err
			}, watched{userID: u.ID, tokens: []string{attempt}}
		}},
		{"ChangeExpiredPassword", func(t *testing.T, e *smsEnv) (func() error, watched) {
			u, _, _ := bob(t, e, backend.NewUser{MustChangePassword: true})
			attempt := e.login("bob", goodPassword, backend.StepChangePassword).AttemptToken
			return func() error {
				_, err := e.svc.ChangeExpiredPassword(ctx, attempt, "a brand new password for bob")
				return err
			}, watched{userID: u.ID, tokens: []string{attempt}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := &failingAudit{}
			e := newSMSEnv(t, func(cfg *backend.Config) {
				store.Store = cfg.Store.(*countingStore).Store
				cfg.Store = store
			})
			change, w := c.prepare(t, e)
			charges := 0
			if w.charged {
				charges = 1
			}
			before := snapshot(t, e.db, w, charges)
			store.fail.Store(true)
			err := change()
			store.fail.Store(false)
			if err == nil {
				t.Fatalf("%s with the audit insert failing: got no error, want one", c.name)
			}
			if code := backend.ErrorCode(err); code != backend.EINTERNAL {
				t.Errorf("%s with the audit insert failing: got %v (code %s), want code %s", c.name, err, code, backend.EINTERNAL)
			}
			if after := snapshot(t, e.db, w, 0); after != before {
				t.Errorf("%s with the audit insert failing changed the store:\n got %s\nwant %s", c.name, after, before)
			}
			// And the same change, the audit working, is made and recorded: the failure above
			// was the audit's, not the case's.
			if err := change(); err != nil {
				t.Errorf("%s with the audit working: %v", c.name, err)
			} else if after := snapshot(t, e.db, w, 0); after == before {
				t.Errorf("%s with the audit working changed nothing", c.name)
			}
		})
	}
}

// TestCreateFirstAdminFailsWithItsAudit: the first administrator, and the setup link it
// uses up, are not created when their audit event cannot be recorded.
func TestCreateFirstAdminFailsWithItsAudit(t *testing.T) {
	t.Parallel()
	store := &failingAudit{}
	svc := backendtest.New(t, backendtest.WithConfig(func(c *backend.Config) {
		store.Store = c.Store
		c.Store = store
	})).Service
	link, err := svc.NewSetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store.fail.Store(true)
	nu := backend.NewUser{Username: "root", Password: adminPassword}
	if _, err := svc.CreateFirstAdminByLink(ctx, link, nu); err == nil {
		t.Fatal("CreateFirstAdminByLink with the audit insert failing: got no error, want one")
	}
	if _, err := svc.CreateFirstAdmin(ctx, nu); err == nil {
		t.Fatal("CreateFirstAdmin with the audit insert failing: got no error, want one")
	}
	store.fail.Store(false)
	if need, err := svc.NeedsFirstAdmin(ctx); err != nil || !need {
		t.Errorf("NeedsFirstAdmin after the failed creations: got %v, %v; want true", need, err)
	}
	if ok, err := svc.SetupLinkValid(ctx, link); err != nil || !ok {
		t.Errorf("SetupLinkValid after the failed creation: got %v, %v; want the link still valid", ok, err)
	}
	if _, err := svc.CreateFirstAdminByLink(ctx, link, nu); err != nil {
		t.Errorf("CreateFirstAdminByLink with the audit working: %v", err)
	}
}

// TestRefusalWithoutItsAudit: a refusal stays the refusal it is when its audit event cannot
// be recorded (a wrong password is not an internal error), and what it counts is still
// counted, so a failing audit log lifts no throttle.
func TestRefusalWithoutItsAudit(t *testing.T) {
	t.Parallel()
	store := &failingAudit{}
	e := newSMSEnv(t, func(cfg *backend.Config) {
		store.Store = cfg.Store.(*countingStore).Store
		cfg.Store = store
	})
	_, app := e.enrolledUser("bob")
	attempt := e.login("bob", goodPassword, backend.StepVerify).AttemptToken
	store.fail.Store(true)
	wrongPassword := func() error { _, err := e.svc.Login(ctx, "bob", "wrong password"); return err }
	for _, step := range []struct {
		name string
		do   func() error
		code string
	}{
		{"wrong password", wrongPassword, backend.EUNAUTHORIZED},
		{"wrong password again", wrongPassword, backend.EUNAUTHORIZED},
		{"unknown user", func() error { _, err := e.svc.Login(ctx, "nobody", "wrong password"); return err }, backend.EUNAUTHORIZED},
		{"wrong recovery code", func() error { _, err := e.svc.VerifyRecoveryCode(ctx, attempt, "not a code"); return err }, backend.EUNAUTHORIZED},
		{"wrong app code", func() error { _, err := e.svc.VerifyTOTP(ctx, attempt, "000000"); return err }, backend.EUNAUTHORIZED},
	} {
		e.clock.Advance(time.Minute) // past any wait
		if err := step.do(); backend.ErrorCode(err) != step.code {
			t.Errorf("%s with the audit insert failing: got %v, want code %s", step.name, err, step.code)
		}
	}
	// Counted: 4 failures of bob's, past the 3 free ones, make the next attempt wait.
	if _, err := e.svc.Login(ctx, "bob", goodPassword); backend.ErrorCode(err) != backend.ETOOMANY {
		t.Errorf("a login right after 4 failures with the audit insert failing: got %v, want code %s", err, backend.ETOOMANY)
	}
	_ = app
}
