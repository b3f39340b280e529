package backend_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

// verifyGate holds one password verification, after it has checked the password and before the
// step that asked for it goes on: the window of issue 9 F3 (a login waits for a hashing slot,
// verifies, then writes), made to open every time.
type verifyGate struct {
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func newVerifyGate() *verifyGate {
	return &verifyGate{reached: make(chan struct{}), release: make(chan struct{})}
}

// config installs the gate; the hashing slots are enough for the change to run while a
// verification is held.
func (g *verifyGate) config(c *backend.Config) {
	c.Passwords.MaxConcurrent = 4
	c.Passwords.OnVerify = func() {
		if g.armed.CompareAndSwap(true, false) {
			g.reached <- struct{}{}
			<-g.release
		}
	}
}

// during runs step, and change while step's password verification is held, then lets step go
// on and returns what it returned.
func during[T any](g *verifyGate, step func() T, change func()) T {
	g.armed.Store(true)
	done := make(chan T, 1)
	go func() { done <- step() }()
	<-g.reached
	change()
	g.release <- struct{}{}
	return <-done
}

type loginResult struct {
	st  *backend.LoginState
	err error
}

// alive reports whether what a login returned still works: its session signs in, or its
// attempt goes on.
func (e *env) alive(r loginResult) bool {
	switch {
	case r.err != nil || r.st == nil:
		return false
	case r.st.SessionToken != "":
		_, err := e.svc.Authenticate(ctx, r.st.SessionToken)
		return err == nil
	default:
		_, err := e.svc.ResumeLogin(ctx, r.st.AttemptToken)
		return err == nil
	}
}

// credentialChanges are an administrator's changes that a login in flight must not outlive,
// each on a user it applies to. enrolled: the user has an authenticator app; required: an
// administrator requires Two-Factor.
var credentialChanges = []struct {
	name              string
	enrolled, require bool
	change            func(e *env, u *backend.User) error
	password          string // the password afterwards
}{
	{"set password", false, false, func(e *env, u *backend.User) error {
		return e.svc.SetUserPassword(ctx, e.admin, u.ID, "the administrator's new one", false)
	}, "the administrator's new one"},
	{"set password from the command line", false, false, func(e *env, u *backend.User) error {
		return e.svc.SetUserPassword(ctx, e.svc.Operator(), u.ID, "the operator's new one", false)
	}, "the operator's new one"},
	{"set a temporary password", true, false, func(e *env, u *backend.User) error {
		return e.svc.SetUserPassword(ctx, e.admin, u.ID, "a temporary one to change", true)
	}, "a temporary one to change"},
	{"require two-factor", false, false, func(e *env, u *backend.User) error {
		_, err := e.svc.RequireTwoFactor(ctx, e.admin, u.ID)
		return err
	}, goodPassword},
	{"disable the account", false, false, func(e *env, u *backend.User) error {
		disabled := true
		_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Disabled: &disabled})
		return err
	}, ""},
	{"disable two-factor", true, true, func(e *env, u *backend.User) error {
		_, err := e.svc.DisableTwoFactor(ctx, e.admin, u.ID)
		return err
	}, goodPassword},
	{"reset two-factor", true, true, func(e *env, u *backend.User) error {
		_, err := e.svc.ResetTwoFactor(ctx, e.admin, u.ID)
		return err
	}, goodPassword},
	{"make administrator", false, false, func(e *env, u *backend.User) error {
		role := backend.RoleAdmin
		_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Role: &role})
		return err
	}, goodPassword},
}

// newChangeUser creates a user for one of credentialChanges.
func (e *env) newChangeUser(name string, enrolled, require bool) *backend.User {
	e.t.Helper()
	u := e.createUser(backend.NewUser{Username: name})
	if enrolled {
		e.enrollApp(e.signIn(name, goodPassword), goodPassword)
	}
	if require {
		if _, err := e.svc.RequireTwoFactor(ctx, e.admin, u.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// TestLoginInFlightOutlivesNoChange pins issue 9 F3: a password step that verified the password
// before an administrator's change, and writes after it, creates neither a session nor a login
// attempt that works; it is answered as a wrong password is. The next login goes by the new
// state: a user required to enroll never gets a full session while "Pending setup on next
// login". Each change, ten times.
func TestLoginInFlightOutlivesNoChange(t *testing.T) {
	t.Parallel()
	for _, tc := range credentialChanges {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newVerifyGate()
			e := newEnv(t, generousLockout, g.config)
			for i := range 10 {
				u := e.newChangeUser(string(rune('a'+i))+"-user", tc.enrolled, tc.require)
				r := during(g, func() loginResult {
					st, err := e.svc.Login(ctx, u.Username, goodPassword)
					return loginResult{st, err}
				}, func() {
					if err := tc.change(e, u); err != nil {
						t.Fatalf("change: %v", err)
					}
				})
				if e.alive(r) {
					t.Fatalf("#%d: the login in flight got %+v, which still works after the change", i, r.st)
				}
				wantCode(t, "the login in flight", r.err, backend.EUNAUTHORIZED)
				if tc.password == "" {
					continue
				}
				st, err := e.svc.Login(ctx, u.Username, tc.password)
				if err != nil {
					t.Fatalf("#%d: the next login: %v", i, err)
				}
				if now := e.user(u.ID); st.Step == backend.StepDone && now.TwoFactorStatus() != backend.StatusNo {
					t.Errorf("#%d: signed in with the password alone while Two-Factor is %q", i, now.TwoFactorStatus())
				}
			}
		})
	}
}

// TestLoginStormOutlivesNoChange pins issue 9 F3 the way it was found: logins with the old
// password, in parallel and with slow hashing, around "Set password" or "Require Two-Factor";
// afterwards none of the sessions they got works. Twenty rounds each.
func TestLoginStormOutlivesNoChange(t *testing.T) {
	t.Parallel()
	for _, tc := range credentialChanges[:4] {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, generousLockout, func(c *backend.Config) {
				c.Passwords.MaxConcurrent = 4
				c.Passwords.OnVerify = func() { time.Sleep(time.Millisecond) }
			})
			for round := range 20 {
				u := e.newChangeUser("user"+string(rune('a'+round)), tc.enrolled, tc.require)
				var stop atomic.Bool
				var mu sync.Mutex
				var results []loginResult
				var wg sync.WaitGroup
				for range 6 {
					wg.Go(func() {
						for !stop.Load() {
							st, err := e.svc.Login(ctx, u.Username, goodPassword)
							mu.Lock()
							results = append(results, loginResult{st, err})
							mu.Unlock()
						}
					})
				}
				time.Sleep(5 * time.Millisecond)
				if err := tc.change(e, u); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
				stop.Store(true)
				wg.Wait()
				for _, r := range results {
					if r.st != nil && r.st.SessionToken != "" && e.alive(r) {
						t.Fatalf("round %d: a login with the old password has a session that works after %s", round, tc.name)
					}
				}
			}
		})
	}
}

// TestLaterStepsRecheckCredentials pins issue 9 F3 for the steps after the password: a login
// attempt made before a change of the user's credentials (here one that ends no login:
// becoming an administrator) goes no further, whichever step it is at, and changes nothing.
func TestLaterStepsRecheckCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	promote := func(u *backend.User) {
		t.Helper()
		role := backend.RoleAdmin
		if _, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Role: &role}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("verify", func(t *testing.T) {
		u, app := e.enrolledUser("verifier")
		e.clock.Advance(30 * time.Second)
		totp := e.login(u.Username, goodPassword, backend.StepVerify)
		recovery := e.login(u.Username, goodPassword, backend.StepVerify)
		promote(u)
		_, err := e.svc.VerifyTOTP(ctx, totp.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
		wantEnded(t, "VerifyTOTP after the change", err)
		_, err = e.svc.VerifyRecoveryCode(ctx, recovery.AttemptToken, app.codes[0])
		wantEnded(t, "VerifyRecoveryCode after the change", err)
		if n, _ := e.svc.RecoveryCodesLeft(ctx, e.signInVerified(u.Username, app)); n != 5 {
			t.Errorf("recovery codes left: %d, want 5 (the refused step used none)", n)
		}
	})

	t.Run("enroll", func(t *testing.T) {
		u := e.createUser(backend.NewUser{Username: "enroller", RequireTwoFactor: true})
		st := e.login(u.Username, goodPassword, backend.StepEnroll)
		id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
		if err != nil {
			t.Fatal(err)
		}
		en, err := e.svc.BeginAppEnrollment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		promote(u)
		res, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, en.Key), e.clock.Now()))
		if !errors.Is(err, backend.ErrLoginEnded) {
			t.Errorf("ConfirmAppEnrollment after the change: got %+v, %v; want %v", res, err, backend.ErrLoginEnded)
		}
		if s := e.user(u.ID).TwoFactorStatus(); s != backend.StatusPending {
			t.Errorf("status: %q, want %q (nothing enrolled)", s, backend.StatusPending)
		}
		_, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
		wantEnded(t, "EnrollmentIdentity after the change", err)
	})

	t.Run("change expired password", func(t *testing.T) {
		u := e.createUser(backend.NewUser{Username: "temporary", MustChangePassword: true})
		st := e.login(u.Username, goodPassword, backend.StepChangePassword)
		promote(u)
		_, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "my own new password")
		wantEnded(t, "ChangeExpiredPassword after the change", err)
		e.login(u.Username, goodPassword, backend.StepChangePassword) // unchanged
	})
}

// signInVerified logs in an enrolled user with the next TOTP code.
func (e *env) signInVerified(username string, app *appEnrollment) *backend.Identity {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	st := e.login(username, goodPassword, backend.StepVerify)
	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(e.t, app.secret, e.clock.Now()))
	if err != nil {
		e.t.Fatalf("VerifyTOTP: %v", err)
	}
	return e.identity(done.SessionToken)
}

// TestPasswordChangeInFlightLoses pins issue 9 F3 for the password a user chooses: a change
// checked against the old password (the user's own Change password, or the change of a
// temporary password at login) that would store after an administrator's Set password is
// refused, and the administrator's password stands.
func TestPasswordChangeInFlightLoses(t *testing.T) {
	t.Parallel()
	const adminSet, userChose = "the administrator's new one", "the user's own choice"
	for _, tc := range []struct {
		name    string
		mustSet bool // a temporary password first: the change is at the login's change_password step
	}{
		{"change password", false},
		{"change expired password", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newVerifyGate()
			e := newEnv(t, generousLockout, g.config)
			for i := range 10 {
				u := e.createUser(backend.NewUser{Username: "user" + string(rune('a'+i)), MustChangePassword: tc.mustSet})
				// The step's own login (signIn, or the password step) verifies first: the
				// gate holds the verification of the change itself.
				var err error
				if tc.mustSet {
					st := e.login(u.Username, goodPassword, backend.StepChangePassword)
					err = during(g, func() error {
						_, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, userChose)
						return err
					}, func() {
						if err := e.svc.SetUserPassword(ctx, e.admin, u.ID, adminSet, false); err != nil {
							t.Fatal(err)
						}
					})
				} else {
					id := e.signIn(u.Username, goodPassword)
					err = during(g, func() error {
						return e.svc.ChangePassword(ctx, id, goodPassword, userChose)
					}, func() {
						if err := e.svc.SetUserPassword(ctx, e.admin, u.ID, adminSet, false); err != nil {
							t.Fatal(err)
						}
					})
				}
				if err == nil {
					t.Errorf("#%d: the change in flight: got no error, want it refused", i)
				}
				if _, err := e.svc.Login(ctx, u.Username, adminSet); err != nil {
					t.Errorf("#%d: the administrator's password afterwards: %v, want it to work", i, err)
				}
				if _, err := e.svc.Login(ctx, u.Username, userChose); err == nil {
					t.Errorf("#%d: the password chosen with the old one works, want the administrator's only", i)
				}
			}
		})
	}
}
