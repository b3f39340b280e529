package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// TestLoginConfirmsPassword pins issue 11 (web 6): logging in counts as a fresh confirmation of
// the password for ReauthWindow (10 minutes), counted from when the password was given, so
// Setup Two-Factor, Regenerate and an administrator's guarded actions right after logging in do
// not ask for it again; once the window has passed they do.
func TestLoginConfirmsPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := e.svc.Operator()
	e.createUser(backend.NewUser{Username: "alice"})
	bob, bobApp := e.enrolledUser("bob")
	e.createUser(backend.NewUser{Username: "root", Role: backend.RoleAdmin})
	carol := e.createUser(backend.NewUser{Username: "carol"})
	e.createUser(backend.NewUser{Username: "dave", RequireTwoFactor: true})

	t.Run("password only", func(t *testing.T) {
		id := e.signIn("alice", goodPassword)
		e.clock.Advance(9 * time.Minute)
		if e.svc.NeedsPasswordConfirmation(id) {
			t.Error("9 minutes after logging in: NeedsPasswordConfirmation true, want false")
		}
		if _, err := e.svc.BeginAppEnrollment(ctx, id); err != nil {
			t.Errorf("Setup Two-Factor 9 minutes after logging in: %v, want no password asked", err)
		}
		e.clock.Advance(time.Minute + time.Second)
		_, err := e.svc.BeginAppEnrollment(ctx, id)
		wantCode(t, "Setup Two-Factor 10 minutes 1 second after logging in", err, backend.EREAUTH)
		if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.BeginAppEnrollment(ctx, id); err != nil {
			t.Errorf("Setup Two-Factor once confirmed: %v", err)
		}
	})

	t.Run("from the password step, not the second", func(t *testing.T) {
		e.clock.Advance(30 * time.Second) // a fresh TOTP step
		st := e.login("bob", goodPassword, backend.StepVerify)
		e.clock.Advance(4 * time.Minute) // the phone was in the other room
		done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, bobApp.secret, e.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		id := e.identity(done.SessionToken)
		e.clock.Advance(5 * time.Minute) // 9 minutes after the password
		if _, err := e.svc.RegenerateRecoveryCodes(ctx, id); err != nil {
			t.Errorf("Regenerate 9 minutes after the password: %v, want no password asked", err)
		}
		e.clock.Advance(time.Minute + time.Second) // 10 minutes 1 second after it, 6 after signing in
		_, err = e.svc.RegenerateRecoveryCodes(ctx, id)
		wantCode(t, "Regenerate 10 minutes 1 second after the password", err, backend.EREAUTH)
	})

	t.Run("administrator", func(t *testing.T) {
		root := e.signIn("root", goodPassword)
		if _, err := e.svc.DisableTwoFactor(ctx, root, bob.ID); err != nil {
			t.Errorf("Disable Two-Factor right after logging in: %v, want no password asked", err)
		}
		e.clock.Advance(10*time.Minute + time.Second)
		err := e.svc.SetUserPassword(ctx, root, carol.ID, "a password set by someone", false)
		wantCode(t, "Set password 10 minutes 1 second after logging in", err, backend.EREAUTH)
	})

	t.Run("a new password at login counts from then", func(t *testing.T) {
		if err := e.svc.SetUserPassword(ctx, op, carol.ID, "a temporary password", true); err != nil {
			t.Fatal(err)
		}
		st := e.login("carol", "a temporary password", backend.StepChangePassword)
		e.clock.Advance(8 * time.Minute)
		done, err := e.svc.ChangeExpiredPassword(ctx, st.AttemptToken, "carols own new password")
		if err != nil {
			t.Fatal(err)
		}
		id := e.identity(done.SessionToken)
		e.clock.Advance(9 * time.Minute) // 17 minutes after the temporary password, 9 after her own
		if _, err := e.svc.BeginAppEnrollment(ctx, id); err != nil {
			t.Errorf("Setup Two-Factor 9 minutes after choosing her password: %v, want no password asked", err)
		}
		e.clock.Advance(time.Minute + time.Second)
		_, err = e.svc.BeginAppEnrollment(ctx, id)
		wantCode(t, "Setup Two-Factor 10 minutes 1 second after choosing her password", err, backend.EREAUTH)
	})

	t.Run("enrolled at login", func(t *testing.T) {
		st := e.login("dave", goodPassword, backend.StepEnroll)
		enroller, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
		if err != nil {
			t.Fatal(err)
		}
		app := e.enrollApp(enroller, goodPassword)
		if app.login == nil || app.login.Step != backend.StepDone {
			t.Fatalf("after the enrollment: %+v, want signed in", app.login)
		}
		id := e.identity(app.login.SessionToken)
		if _, err := e.svc.RegenerateRecoveryCodes(ctx, id); err != nil {
			t.Errorf("Regenerate right after enrolling at login: %v, want no password asked", err)
		}
	})
}
