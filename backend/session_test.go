package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
)

func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)

	// Each use keeps it alive for another 30 minutes.
	for i := range 4 {
		e.clock.Advance(29 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil {
			t.Fatalf("use %d, 29 min after the last: got %v, want the session", i+1, err)
		}
	}
	e.clock.Advance(30*time.Minute + time.Second)
	_, err := e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "30 min 1 s after the last use", err, backend.EUNAUTHORIZED)
	// It is gone, not just late.
	e.clock.Advance(-10 * time.Minute)
	_, err = e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "after it ended, with the clock turned back", err, backend.EUNAUTHORIZED)
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	if want := t0.Add(12 * time.Hour); !st.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt: got %v, want %v", st.ExpiresAt, want)
	}
	id := e.identity(st.SessionToken)
	if got := e.svc.SessionExpiresAt(id); !got.Equal(st.ExpiresAt) {
		t.Errorf("SessionExpiresAt: got %v, want %v", got, st.ExpiresAt)
	}

	// Used every 20 minutes for 12 hours: never idle, still ends.
	for e.clock.Now().Before(t0.Add(12*time.Hour - 20*time.Minute)) {
		e.clock.Advance(20 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil {
			t.Fatalf("at %v: got %v, want the session", e.clock.Now().Sub(t0), err)
		}
	}
	e.clock.Advance(t0.Add(12 * time.Hour).Sub(e.clock.Now()))
	if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil {
		t.Fatalf("at exactly 12 h: got %v, want the session", err)
	}
	e.clock.Advance(time.Second)
	_, err := e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "12 h 1 s after login", err, backend.EUNAUTHORIZED)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	other := e.login("alice", goodPassword, backend.StepDone)
	if err := e.svc.Logout(ctx, e.identity(st.SessionToken)); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "after Logout", err, backend.EUNAUTHORIZED)
	if _, err := e.svc.Authenticate(ctx, other.SessionToken); err != nil {
		t.Errorf("another session after Logout: got %v, want it alive", err)
	}
	for _, token := range []string{"", "garbage", other.SessionToken + "x"} {
		_, err := e.svc.Authenticate(ctx, token)
		wantCode(t, "Authenticate("+token+")", err, backend.EUNAUTHORIZED)
	}
}

// TestSessionsEndOnAdminChange: when an administrator disables a user, changes their two-factor
// settings or sets their password, every session and login attempt of the user ends at once.
func TestSessionsEndOnAdminChange(t *testing.T) {
	t.Parallel()
	disable := func(e *env, id int64) error {
		yes := true
		_, err := e.svc.UpdateUser(ctx, e.admin, id, backend.UserChanges{Disabled: &yes})
		return err
	}
	tests := []struct {
		name     string
		enrolled bool
		change   func(e *env, id int64) error
	}{
		{"disable user", false, disable},
		{"disable then enable user", false, func(e *env, id int64) error {
			if err := disable(e, id); err != nil {
				return err
			}
			no := false
			_, err := e.svc.UpdateUser(ctx, e.admin, id, backend.UserChanges{Disabled: &no})
			return err
		}},
		{"require two-factor", false, func(e *env, id int64) error {
			_, err := e.svc.RequireTwoFactor(ctx, e.admin, id)
			return err
		}},
		{"require two-factor, enrolled", true, func(e *env, id int64) error {
			_, err := e.svc.RequireTwoFactor(ctx, e.admin, id)
			return err
		}},
		{"disable two-factor", true, func(e *env, id int64) error {
			_, err := e.svc.DisableTwoFactor(ctx, e.admin, id)
			return err
		}},
		{"reset two-factor", true, func(e *env, id int64) error {
			_, err := e.svc.ResetTwoFactor(ctx, e.admin, id)
			return err
		}},
		{"set password", false, func(e *env, id int64) error {
			return e.svc.SetUserPassword(ctx, e.admin, id, "a brand new password", false)
		}},
		{"set password, must change", true, func(e *env, id int64) error {
			return e.svc.SetUserPassword(ctx, e.admin, id, "a brand new password", true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, generousLockout)
			var u *backend.User
			var sessions []string
			var attempt string
			if tt.enrolled {
				var app *appEnrollment
				u, app = e.enrolledUser("alice")
				for i := range 2 {
					e.clock.Advance(30 * time.Second)
					st := e.login("alice", goodPassword, backend.StepVerify)
					done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
					if err != nil {
						t.Fatalf("sign in %d: %v", i, err)
					}
					sessions = append(sessions, done.SessionToken)
				}
				attempt = e.login("alice", goodPassword, backend.StepVerify).AttemptToken
			} else {
				u = e.createUser(backend.NewUser{Username: "alice"})
				for range 2 {
					sessions = append(sessions, e.login("alice", goodPassword, backend.StepDone).SessionToken)
				}
			}

			if err := tt.change(e, u.ID); err != nil {
				t.Fatalf("change: %v", err)
			}
			for _, token := range sessions {
				_, err := e.svc.Authenticate(ctx, token)
				wantCode(t, "a session of the user after the change", err, backend.EUNAUTHORIZED)
			}
			if attempt != "" {
				_, err := e.svc.ResumeLogin(ctx, attempt)
				wantEnded(t, "a login attempt of the user after the change", err)
			}
			if _, err := e.svc.Authenticate(ctx, e.adminToken); err != nil {
				t.Errorf("the administrator's session: got %v, want it alive", err)
			}
		})
	}
}

// signInTOTP logs in with the password and the app's code of the next time step.
func (e *env) signInTOTP(username, password string, app *appEnrollment) string {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	st := e.login(username, password, backend.StepVerify)
	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(e.t, app.secret, e.clock.Now()))
	if err != nil {
		e.t.Fatalf("VerifyTOTP: %v", err)
	}
	return done.SessionToken
}

// TestChangePassword: the user's other sessions and logins end; the current session stays.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")
	current := e.signInTOTP("alice", goodPassword, app)
	other := e.signInTOTP("alice", goodPassword, app)
	attempt := e.login("alice", goodPassword, backend.StepVerify).AttemptToken
	id := e.identity(current)

	wantCode(t, "ChangePassword with a wrong current password", e.svc.ChangePassword(ctx, id, "not my password", "my new passphrase"), backend.EUNAUTHORIZED)
	wantCode(t, "ChangePassword to a common password", e.svc.ChangePassword(ctx, id, goodPassword, "password123"), backend.EINVALID)
	wantCode(t, "ChangePassword to a short password", e.svc.ChangePassword(ctx, id, goodPassword, "short"), backend.EINVALID)
	if _, err := e.svc.Authenticate(ctx, other); err != nil {
		t.Fatalf("refused changes end nothing: got %v for another session, want it alive", err)
	}

	if err := e.svc.ChangePassword(ctx, id, goodPassword, "my new passphrase"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, current); err != nil {
		t.Errorf("the session that changed the password: got %v, want it alive", err)
	}
	_, err := e.svc.Authenticate(ctx, other)
	wantCode(t, "another session after ChangePassword", err, backend.EUNAUTHORIZED)
	_, err = e.svc.ResumeLogin(ctx, attempt)
	wantEnded(t, "a login attempt after ChangePassword", err)

	_, err = e.svc.Login(ctx, "alice", goodPassword)
	wantCode(t, "the old password", err, backend.EUNAUTHORIZED)
	e.login("alice", "my new passphrase", backend.StepVerify)
	if n := len(e.auditEvents(backend.AuditPasswordChanged)); n != 1 {
		t.Errorf("audit %s: got %d events, want 1", backend.AuditPasswordChanged, n)
	}
}
