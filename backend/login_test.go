package backend_test

import (
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
)

func TestLoginSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	e.createUser(backend.NewUser{Username: "plain"})
	e.createUser(backend.NewUser{Username: "required", RequireTwoFactor: true})
	e.createUser(backend.NewUser{Username: "temporary", MustChangePassword: true})
	_, app := e.enrolledUser("enrolled")
	e.createUser(backend.NewUser{Username: "required.temporary", RequireTwoFactor: true, MustChangePassword: true})

	tests := []struct {
		username string
		want     backend.LoginStep
	}{
		{"plain", backend.StepDone},
		{"PLAIN", backend.StepDone}, // usernames are case-insensitive
		{"  plain ", backend.StepDone},
		{"required", backend.StepEnroll},
		{"temporary", backend.StepChangePassword},
		{"enrolled", backend.StepVerify},
		{"required.temporary", backend.StepEnroll}, // the second factor comes first
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			st, err := e.svc.Login(ctx, tt.username, goodPassword)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if st.Step != tt.want {
				t.Errorf("step: got %s, want %s", st.Step, tt.want)
			}
			if st.User == nil || st.User.Username != trimmedLower(tt.username) {
				t.Errorf("user: got %+v, want %s", st.User, trimmedLower(tt.username))
			}
			if tt.want == backend.StepDone {
				if st.SessionToken == "" || st.AttemptToken != "" {
					t.Errorf("signed in: got session %q attempt %q, want a session token only", st.SessionToken, st.AttemptToken)
				}
				if want := e.clock.Now().Add(12 * time.Hour); !st.ExpiresAt.Equal(want) {
					t.Errorf("session ExpiresAt: got %v, want %v", st.ExpiresAt, want)
				}
				e.identity(st.SessionToken)
				return
			}
			if st.AttemptToken == "" || st.SessionToken != "" {
				t.Errorf("step %s: got session %q attempt %q, want an attempt token only", st.Step, st.SessionToken, st.AttemptToken)
			}
			if want := e.clock.Now().Add(10 * time.Minute); !st.ExpiresAt.Equal(want) {
				t.Errorf("attempt ExpiresAt: got %v, want %v", st.ExpiresAt, want)
			}
			// A reloaded page finds the same step.
			again, err := e.svc.ResumeLogin(ctx, st.AttemptToken)
			if err != nil || again.Step != tt.want {
				t.Errorf("ResumeLogin: got %+v, %v, want step %s", again, err, tt.want)
			}
			// An attempt is not a session.
			_, err = e.svc.Authenticate(ctx, st.AttemptToken)
			wantCode(t, "Authenticate with the attempt token", err, backend.EUNAUTHORIZED)
		})
	}

	t.Run("verify then change password", func(t *testing.T) {
		enrolled, err := e.svc.UserByUsername(ctx, e.admin, "enrolled")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetUserPassword(ctx, e.admin, enrolled.ID, "temporary pass 1", true); err != nil {
			t.Fatal(err)
		}
		st := e.login("enrolled", "temporary pass 1", backend.StepVerify)
		e.clock.Advance(30 * time.Second)
		st2, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
		if err != nil {
			t.Fatalf("VerifyTOTP: %v", err)
		}
		if st2.Step != backend.StepChangePassword || st2.AttemptToken == st.AttemptToken {
			t.Fatalf("after the second factor: got step %s (new token: %v), want %s under a new token", st2.Step, st2.AttemptToken != st.AttemptToken, backend.StepChangePassword)
		}
		_, err = e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "my own new password")
		wantCode(t, "ChangeExpiredPassword with the verify step's token", err, backend.EUNAUTHORIZED)
		_, err = e.svc.ChangeExpiredPassword(ctx, st2.AttemptToken, "password123")
		wantCode(t, "ChangeExpiredPassword with a common password", err, backend.EINVALID)
		done, err := e.svc.ChangeExpiredPassword(ctx, st2.AttemptToken, "my own new password")
		if err != nil || done.Step != backend.StepDone {
			t.Fatalf("ChangeExpiredPassword: got %+v, %v, want signed in", done, err)
		}
		e.identity(done.SessionToken)
		if _, err := e.svc.Login(ctx, "enrolled", "temporary pass 1"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Errorf("the temporary password afterwards: got %v, want code %s", err, backend.EUNAUTHORIZED)
		}
		e.login("enrolled", "my own new password", backend.StepVerify)
	})

	t.Run("change password then done", func(t *testing.T) {
		st := e.login("temporary", goodPassword, backend.StepChangePassword)
		_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, "123456")
		wantCode(t, "VerifyTOTP at the change_password step", err, backend.ECONFLICT)
		_, err = e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "temporary") // the username
		wantCode(t, "ChangeExpiredPassword to the username", err, backend.EINVALID)
		done, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "my own new password")
		if err != nil || done.Step != backend.StepDone {
			t.Fatalf("ChangeExpiredPassword: got %+v, %v, want signed in", done, err)
		}
		_, err = e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "another new password")
		wantEnded(t, "ChangeExpiredPassword again with the spent token", err)
		// The flag is cleared: the next login is an ordinary one.
		e.login("temporary", "my own new password", backend.StepDone)
	})
}

func trimmedLower(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c == ' ' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// TestForcedEnrollment: a user required to use two-factor and not enrolled can only enroll,
// and enrolling signs them in.
func TestForcedEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	st := e.login("bob", goodPassword, backend.StepEnroll)

	// No way around the enroll step.
	_, err := e.svc.Authenticate(ctx, st.AttemptToken)
	wantCode(t, "Authenticate with the enroll step's token", err, backend.EUNAUTHORIZED)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, "123456")
	wantCode(t, "VerifyTOTP at the enroll step", err, backend.ECONFLICT)
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, "0000-0000-0000-0000")
	wantCode(t, "VerifyRecoveryCode at the enroll step", err, backend.ECONFLICT)
	_, err = e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "my own new password")
	wantCode(t, "ChangeExpiredPassword at the enroll step", err, backend.ECONFLICT)

	id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatalf("EnrollmentIdentity: %v", err)
	}
	if id.SignedIn() || id.IsAdmin() || id.User.ID != u.ID {
		t.Errorf("enrollment identity: got signed in %v, admin %v, user %d, want false, false, %d", id.SignedIn(), id.IsAdmin(), id.User.ID, u.ID)
	}
	// An enrollment identity is not a session: it cannot act as the user otherwise.
	_, err = e.svc.RecoveryCodesLeft(ctx, id)
	wantCode(t, "RecoveryCodesLeft with the enrollment identity", err, backend.EUNAUTHORIZED)
	wantCode(t, "ChangePassword with the enrollment identity", e.svc.ChangePassword(ctx, id, goodPassword, "another new password"), backend.EUNAUTHORIZED)
	wantCode(t, "ConfirmPassword with the enrollment identity", e.svc.ConfirmPassword(ctx, id, goodPassword), backend.EUNAUTHORIZED)
	wantCode(t, "DisableOwnTwoFactor with the enrollment identity", e.svc.DisableOwnTwoFactor(ctx, id), backend.EFORBIDDEN)

	// The password was given moments ago: no ConfirmPassword needed.
	app := e.enrollApp(id, "")
	checkRecoveryCodes(t, app.codes)
	if app.login == nil || app.login.Step != backend.StepDone || app.login.SessionToken == "" {
		t.Fatalf("enrollment at login: got login state %+v, want signed in", app.login)
	}
	if got := e.identity(app.login.SessionToken); got.User.ID != u.ID || !got.SignedIn() {
		t.Errorf("session after enrollment: got user %d signed in %v, want %d, true", got.User.ID, got.SignedIn(), u.ID)
	}
	if s := e.user(u.ID).TwoFactorStatus(); s != backend.StatusEnabled {
		t.Errorf("status: got %q, want %q", s, backend.StatusEnabled)
	}

	// The attempt is spent.
	_, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	wantEnded(t, "EnrollmentIdentity after enrolling", err)
	_, err = e.svc.ResumeLogin(ctx, st.AttemptToken)
	wantEnded(t, "ResumeLogin after enrolling", err)
	_, err = e.svc.Authenticate(ctx, st.AttemptToken)
	wantCode(t, "Authenticate with the spent attempt token", err, backend.EUNAUTHORIZED)

	// Next time: the second factor.
	e.login("bob", goodPassword, backend.StepVerify)
}

// TestEnrollmentIdentityOnlyAtEnrollStep: the verify step is not an enroll step.
func TestEnrollmentIdentityOnlyAtEnrollStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	e.enrolledUser("alice")
	e.createUser(backend.NewUser{Username: "temporary", MustChangePassword: true})
	for _, st := range []*backend.LoginState{
		e.login("alice", goodPassword, backend.StepVerify),
		e.login("temporary", goodPassword, backend.StepChangePassword),
	} {
		_, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
		wantCode(t, "EnrollmentIdentity at step "+string(st.Step), err, backend.ECONFLICT)
	}
	for _, token := range []string{"", "not a token", e.admin.User.Username} {
		_, err := e.svc.EnrollmentIdentity(ctx, token)
		wantCode(t, "EnrollmentIdentity("+token+")", err, backend.EUNAUTHORIZED)
	}
}

// TestVerifyCannotBeSkipped: a login at the verify step has no session, whatever it is used as.
func TestVerifyCannotBeSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")
	st := e.login("alice", goodPassword, backend.StepVerify)

	_, err := e.svc.Authenticate(ctx, st.AttemptToken)
	wantCode(t, "Authenticate with the verify step's token", err, backend.EUNAUTHORIZED)
	_, err = e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "my own new password")
	wantCode(t, "ChangeExpiredPassword at the verify step", err, backend.ECONFLICT)
	e.clock.Advance(30 * time.Second)
	code := totpCode(t, app.secret, e.clock.Now())
	_, err = e.svc.VerifyTOTP(ctx, "", code)
	wantEnded(t, "VerifyTOTP without a token", err)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, "")
	wantCode(t, "VerifyTOTP without a code", err, backend.EINVALID)

	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, code)
	if err != nil || done.Step != backend.StepDone {
		t.Fatalf("VerifyTOTP: got %+v, %v, want signed in", done, err)
	}
	// The attempt's token is dead; the session's is new.
	if done.SessionToken == st.AttemptToken {
		t.Errorf("session token: got the attempt's token, want a new one")
	}
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0])
	wantEnded(t, "VerifyRecoveryCode with the spent attempt", err)
	_, err = e.svc.ResumeLogin(ctx, st.AttemptToken)
	wantEnded(t, "ResumeLogin with the spent attempt", err)
	_, err = e.svc.Authenticate(ctx, st.AttemptToken)
	wantCode(t, "Authenticate with the spent attempt", err, backend.EUNAUTHORIZED)

	// Cancelling ends an attempt too.
	st = e.login("alice", goodPassword, backend.StepVerify)
	if err := e.svc.CancelLogin(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0])
	wantEnded(t, "VerifyRecoveryCode after CancelLogin", err)
}

// TestAttemptExpires: a login attempt lives AttemptTTL (10 minutes).
func TestAttemptExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")
	e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})

	st := e.login("alice", goodPassword, backend.StepVerify)
	e.clock.Advance(10*time.Minute - time.Second)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("VerifyTOTP 1 s before the attempt expires: got %v, want signed in", err)
	}

	st = e.login("alice", goodPassword, backend.StepVerify)
	e.clock.Advance(10 * time.Minute)
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	wantEnded(t, "VerifyTOTP when the attempt has expired", err)
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0])
	wantEnded(t, "VerifyRecoveryCode when the attempt has expired", err)
	e.clock.Advance(-5 * time.Minute) // and it is gone, not just late
	_, err = e.svc.ResumeLogin(ctx, st.AttemptToken)
	wantEnded(t, "ResumeLogin of an expired attempt", err)
	e.clock.Advance(5 * time.Minute)

	st = e.login("bob", goodPassword, backend.StepEnroll)
	e.clock.Advance(11 * time.Minute)
	_, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	wantEnded(t, "EnrollmentIdentity when the attempt has expired", err)
}

// TestForcedEnrollmentThenChangePassword: a required user with a temporary password enrolls,
// then chooses a password, then is signed in.
func TestForcedEnrollmentThenChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true, MustChangePassword: true})
	app := e.enrollApp(e.enrollmentIdentity("bob"), "")
	if app.login == nil || app.login.Step != backend.StepChangePassword || app.login.AttemptToken == "" || app.login.SessionToken != "" {
		t.Fatalf("after enrolling: got %+v, want step %s with an attempt token only", app.login, backend.StepChangePassword)
	}
	checkRecoveryCodes(t, app.codes)
	_, err := e.svc.Authenticate(ctx, app.login.AttemptToken)
	wantCode(t, "Authenticate at the change_password step", err, backend.EUNAUTHORIZED)
	done, err := e.svc.ChangeExpiredPassword(ctx, app.login.AttemptToken, "my own new password")
	if err != nil || done.Step != backend.StepDone {
		t.Fatalf("ChangeExpiredPassword: got %+v, %v, want signed in", done, err)
	}
	e.identity(done.SessionToken)
}

// TestLogoutAtEnrollStep: "Log out" on the enroll page ends the login.
func TestLogoutAtEnrollStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	st := e.login("bob", goodPassword, backend.StepEnroll)
	id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	wantEnded(t, "EnrollmentIdentity after Logout", err)
}

// TestCreateFirstAdmin: only while there is no administrator.
func TestCreateFirstAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	need, err := e.svc.NeedsFirstAdmin(ctx)
	if err != nil || need {
		t.Errorf("NeedsFirstAdmin with an administrator: got %v, %v, want false, nil", need, err)
	}
	_, err = e.svc.CreateFirstAdmin(ctx, backend.NewUser{Username: "intruder", Password: goodPassword})
	wantCode(t, "CreateFirstAdmin when there is one", err, backend.ECONFLICT)
	if _, err := e.svc.Login(ctx, "intruder", goodPassword); err == nil {
		t.Errorf("login as the refused first admin: got signed in, want refused")
	}
}

// TestSecondEnrollStepAfterEnrolling: a required user who started two logins (two tabs, or an
// attacker who knows the password) and enrolled in one cannot use the other to enroll a new
// authenticator: that would sign in without the second factor now in place.
func TestSecondEnrollStepAfterEnrolling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	first := e.login("bob", goodPassword, backend.StepEnroll)
	second := e.login("bob", goodPassword, backend.StepEnroll)

	id, err := e.svc.EnrollmentIdentity(ctx, first.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	app := e.enrollApp(id, "")

	e.clock.Advance(time.Minute)
	id2, err := e.svc.EnrollmentIdentity(ctx, second.AttemptToken)
	wantEnded(t, "EnrollmentIdentity of the other login after enrolling", err)
	if err == nil {
		if en, err := e.svc.BeginAppEnrollment(ctx, id2); err == nil {
			res, err := e.svc.ConfirmAppEnrollment(ctx, id2, totpCode(t, decodeKey(t, en.Key), e.clock.Now()))
			if err == nil && res.Login != nil && res.Login.Step == backend.StepDone {
				t.Errorf("the other login re-enrolled a new authenticator and signed in without the enrolled second factor")
			}
		}
	}
	// The enrolled authenticator is still the one that works.
	e.clock.Advance(30 * time.Second)
	st := e.login("bob", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("the first enrollment's authenticator: got %v, want signed in", err)
	}
}

// TestOtherLoginsEndWithTemporaryPassword: logins begun with an administrator's temporary
// password end when the user replaces it; they cannot set a password of their own afterwards.
func TestOtherLoginsEndWithTemporaryPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	e.createUser(backend.NewUser{Username: "bob", Password: "temporary password 1", MustChangePassword: true})
	first := e.login("bob", "temporary password 1", backend.StepChangePassword)
	second := e.login("bob", "temporary password 1", backend.StepChangePassword)

	done, err := e.svc.ChangeExpiredPassword(ctx, first.AttemptToken, "bob's own password")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ChangeExpiredPassword(ctx, second.AttemptToken, "someone else's password")
	wantEnded(t, "ChangeExpiredPassword of the other login", err)
	if _, err := e.svc.Login(ctx, "bob", "someone else's password"); err == nil {
		t.Errorf("the other login's password: got accepted, want refused")
	}
	e.login("bob", "bob's own password", backend.StepDone)
	e.identity(done.SessionToken)
}

// TestLoginAuditSaysHow: the audit log records the factor that completed each login.
func TestLoginAuditSaysHow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")
	e.createUser(backend.NewUser{Username: "bob"})
	e.clock.Advance(time.Minute)

	e.signIn("bob", goodPassword)
	st := e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0]); err != nil {
		t.Fatal(err)
	}
	st = e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range e.auditEvents(backend.AuditLoginSuccess) {
		got = append(got, ev.TargetName+": "+ev.Detail)
	}
	// Newest first.
	want := []string{"alice: password and authenticator app code", "alice: password and recovery code", "bob: password"}
	if len(got) < 3 || !slices.Equal(got[:3], want) {
		t.Errorf("login.success details: got %q, want %q first", got, want)
	}
}

// TestTemporaryPasswordMustChange: the new password chosen at the change_password step may not
// be the temporary one an administrator gave out.
func TestTemporaryPasswordMustChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice", MustChangePassword: true})
	st := e.login("alice", goodPassword, backend.StepChangePassword)
	_, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, goodPassword)
	wantCode(t, "the temporary password again", err, backend.EINVALID)
	if _, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "a password of my own"); err != nil {
		t.Errorf("a new password: got %v, want signed in", err)
	}
}
