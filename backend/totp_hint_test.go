package backend_test

import (
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestTOTPFailureClockHint pins issue 11 (web 8): a wrong authenticator-app code at login says
// to check the phone's clock, the usual cause of right codes refused; nothing before the
// password step, and no other kind of code, says so.
func TestTOTPFailureClockHint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")
	const hint = "check that your phone's time is set automatically"

	st := e.login("alice", goodPassword, backend.StepVerify)
	// A code from a phone 2 minutes slow: what the hint is for.
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now().Add(-2*time.Minute)))
	if backend.ErrorCode(err) != backend.EUNAUTHORIZED || !strings.Contains(backend.ErrorMessage(err), hint) {
		t.Errorf("a code from a slow phone: got %v, want %s with the clock hint", err, backend.EUNAUTHORIZED)
	}
	e.clock.Advance(31 * time.Second)
	if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, "0000-0000-0000-0000"); strings.Contains(backend.ErrorMessage(err), hint) {
		t.Errorf("a wrong recovery code: got %v, want no clock hint", err)
	}
	for _, name := range []string{"alice", "nobody"} {
		e.clock.Advance(31 * time.Second)
		if _, err := e.svc.Login(ctx, name, "wrong password"); strings.Contains(backend.ErrorMessage(err), hint) {
			t.Errorf("a wrong password for %s: got %v, want no clock hint", name, err)
		}
	}
}
