package backend_test

import (
	"testing"

	"gatehouse/backend"
)

// TestSheetSaysOldCodesStopped pins issue 11 (web 8): the recovery codes shown after Regenerate,
// or after setting Two-Factor up again over an old setup, are marked as replacing a set, which
// the page says stopped working; the first set is not. The mark is no code.
func TestSheetSaysOldCodesStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	token := e.login("alice", goodPassword, backend.StepDone).SessionToken
	id := e.identity(token)
	sheet := func(what string, want bool) {
		t.Helper()
		sh, err := e.svc.RecoveryCodeSheet(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if sh.Replaced != want || len(sh.Codes) != backend.RecoveryCodeCount {
			t.Errorf("%s: Replaced %v with %d codes, want %v with %d", what, sh.Replaced, len(sh.Codes), want, backend.RecoveryCodeCount)
		}
		for _, c := range sh.Codes {
			if !recoveryCodePattern.MatchString(c) {
				t.Errorf("%s: %q is on the sheet, not a code", what, c)
			}
		}
	}
	e.enrollApp(id, goodPassword)
	sheet("the first set", false)
	id = e.identity(token) // enrolled now
	if _, err := e.svc.RegenerateRecoveryCodes(ctx, id); err != nil {
		t.Fatal(err)
	}
	sheet("after Regenerate", true)
	e.enrollApp(id, goodPassword) // set up again: a new phone
	sheet("after setting it up again", true)
}
