package storetest

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// testSMSCooldownPerAttempt pins issue 11 (web 8): the resend cooldown belongs to the login
// attempt, so a new login is not refused "Send code" because of the previous login's code; the
// hourly cap counts every code to the user, whatever the attempt.
func testSMSCooldownPerAttempt(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "carol", backend.RoleUser)
	reserve := func(attempt string) time.Time {
		t.Helper()
		retry, err := db.ReserveSMSCode(ctx, &backend.SMSCode{UserID: u.ID, AttemptHash: attempt, CodeHash: "c"}, 10*time.Minute, 30*time.Second, 5)
		if err != nil {
			t.Fatal(err)
		}
		return retry
	}
	if retry := reserve("first login"); !retry.IsZero() {
		t.Fatalf("first code: retry %v", retry)
	}
	c.Advance(time.Second)
	if retry := reserve("second login"); !retry.IsZero() {
		t.Errorf("a new login a second later: retry %v, want none (the cooldown was the first login's)", retry)
	}
	c.Advance(time.Second)
	if retry, want := reserve("second login"), t0.Add(31*time.Second); !retry.Equal(want) {
		t.Errorf("the same login again: retry %v, want %v", retry, want)
	}
	for i, attempt := range []string{"third", "fourth", "fifth"} {
		c.Advance(time.Second)
		if retry := reserve(attempt); !retry.IsZero() {
			t.Fatalf("code %d, another login: retry %v, want none", i+3, retry)
		}
	}
	c.Advance(time.Second)
	if retry, want := reserve("sixth"), t0.Add(time.Hour); !retry.Equal(want) {
		t.Errorf("a 6th code within the hour, another login: retry %v, want %v (the hourly cap is the user's)", retry, want)
	}
}
