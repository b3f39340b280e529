package backend_test

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestDisableSentenceMatchesTheUser pins issue 11 (web 8): Disable Two-Factor's confirmation
// promises to remove a setup only from a user who has one. A user pending setup is told only
// that the requirement goes, and that is all Disable then does.
func TestDisableSentenceMatchesTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pending := e.createUser(backend.NewUser{Username: "pat", RequireTwoFactor: true})
	enrolled, _ := e.enrolledUser("erin")
	if _, err := e.svc.RequireTwoFactor(ctx, e.admin, enrolled.ID); err != nil {
		t.Fatal(err)
	}
	optedIn, _ := e.enrolledUser("olga")

	for _, tt := range []struct {
		name      string
		u         *backend.User
		removes   bool
		mustMatch string
	}{
		{"pending setup", e.user(pending.ID), false, "pat will no longer be required to use Two-Factor Authentication. They have not set it up yet"},
		{"required, enrolled", e.user(enrolled.ID), true, "erin will no longer be required to use Two-Factor Authentication, and their current setup and recovery codes will be removed."},
		{"opted in", e.user(optedIn.ID), true, "Two-Factor Authentication will be turned off for olga. The authenticator app, any security keys or passkeys and the recovery codes will be removed."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, offered := e.svc.UserAction(e.admin, tt.u, backend.ActionDisableTwoFactor)
			if !offered {
				t.Fatal("Disable Two-Factor not offered")
			}
			if !strings.Contains(a.Confirm, tt.mustMatch) {
				t.Errorf("confirmation %q, want it to say %q", a.Confirm, tt.mustMatch)
			}
			if promises := strings.Contains(a.Confirm, "removed"); promises != tt.removes {
				t.Errorf("confirmation %q promises a removal: %v, want %v", a.Confirm, promises, tt.removes)
			}
		})
	}
	before := e.user(pending.ID)
	after, err := e.svc.DisableTwoFactor(ctx, e.admin, pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.TwoFactorStatus() != backend.StatusNo || after.Method != before.Method || after.SMSPhone != before.SMSPhone {
		t.Errorf("after Disable of a pending user: %+v, want status No and nothing else changed", after)
	}
}
