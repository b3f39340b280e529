package backend_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// isLocked reports whether err says the account is locked, with when to try again.
func isLocked(err error) bool {
	return backend.ErrorCode(err) == backend.ETOOMANY &&
		strings.HasPrefix(backend.ErrorMessage(err), "Too many failed attempts: try again after ")
}

// lockedAnswer is the answer to any login of an account locked until until: the minute after
// which it may try again, in the server's local time zone.
func lockedAnswer(until time.Time) string {
	at := until.Truncate(time.Minute)
	if at.Before(until) {
		at = at.Add(time.Minute)
	}
	return "Too many failed attempts: try again after " + at.Local().Format("15:04 MST") + ", or ask your administrator."
}

// lockTimesFrom writes the lock ends in the answers s as minutes from start ("start+16 min"),
// so that runs begun at different times compare.
func lockTimesFrom(start time.Time, s string) string {
	base := start.Truncate(time.Minute)
	for k := 240; k >= 0; k-- {
		s = strings.ReplaceAll(s, "after "+base.Add(time.Duration(k)*time.Minute).Local().Format("15:04 MST")+",", fmt.Sprintf("after start+%d min,", k))
	}
	return s
}

// TestLockedLoginSaysSo pins issue 11 (web 4): once an account is locked, the password step
// says so, with when the lock ends and whom to ask, to the right password and a wrong one
// alike; and a name that is no account's, failed as often at the same times, gets the very
// same answer after the same work (no password hash, for either), so the answer reveals nothing. Before the lock a wrong
// password still gets "Incorrect username or password.", and after it the right one signs in.
func TestLockedLoginSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	var lockedAt time.Time
	for i := range 10 {
		e.clock.Advance(31 * time.Second)
		for _, name := range []string{"alice", "ghost"} {
			_, err := e.svc.Login(ctx, name, "wrong password")
			if backend.ErrorMessage(err) != "Incorrect username or password." || backend.ErrorCode(err) != backend.EUNAUTHORIZED {
				t.Fatalf("failure %d of %s: got %v, want Incorrect username or password.", i+1, name, err)
			}
		}
		lockedAt = e.clock.Now()
	}
	e.clock.Advance(90 * time.Second)
	want := lockedAnswer(lockedAt.Add(15 * time.Minute))
	for _, tt := range []struct{ name, username, password string }{
		{"locked, right password", "alice", goodPassword},
		{"locked, wrong password", "alice", "wrong password"},
		{"locked, other case", "ALICE", goodPassword},
		{"unknown name locked alike", "ghost", goodPassword},
		{"unknown name locked alike, other case", "GHOST", "wrong password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.verify.Load()
			st, err := e.svc.Login(ctx, tt.username, tt.password)
			if st != nil || backend.ErrorCode(err) != backend.ETOOMANY || backend.ErrorMessage(err) != want {
				t.Errorf("Login(%s): got %+v, %v; want code %s, %q", tt.username, st, err, backend.ETOOMANY, want)
			}
			// No hash for a locked account or a locked name alike (H1): a flood of refused
			// logins must not take the hashing slots everyone else's logins need.
			if got := e.verify.Load() - before; got != 0 {
				t.Errorf("password verifications: got %d, want 0 (the same for a known and an unknown name)", got)
			}
		})
	}
	// Another unknown name, never tried, is no account's and not locked: a wrong password.
	if _, err := e.svc.Login(ctx, "nobody", goodPassword); backend.ErrorMessage(err) != "Incorrect username or password." {
		t.Errorf("a fresh unknown name: got %v, want Incorrect username or password.", err)
	}
	e.clock.Advance(15 * time.Minute)
	e.login("alice", goodPassword, backend.StepDone)
}

// TestLockedSecondStepSaysSo: a login locked at its second step (the failures of the password
// and the codes share one counter) is told the same: when, and whom to ask.
func TestLockedSecondStepSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("bob")
	st := e.login("bob", goodPassword, backend.StepVerify)
	var lockedAt time.Time
	for range 9 { // the password step was the first of the 10 failures allowed
		e.clock.Advance(31 * time.Second)
		lockedAt = e.clock.Now()
		if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, "000000"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Fatalf("a wrong code: got %v, want code %s", err, backend.EUNAUTHORIZED)
		}
	}
	e.clock.Advance(time.Minute)
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	if want := lockedAnswer(lockedAt.Add(15 * time.Minute)); backend.ErrorMessage(err) != want {
		t.Errorf("the right code while locked: got %v, want %q", err, want)
	}
}
