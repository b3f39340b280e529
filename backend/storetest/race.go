package storetest

// The store's decisions under real concurrency: many goroutines, spread over several stores
// on one database (as several servers, or processes on one SQLite file), each with a pool of
// connections, so that the database runs their transactions side by side as far as it can. Each test names the rule it pins; the store is used
// only through backend.Store.

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

// racers is how many goroutines a race runs, and servers how many stores they spread over.
const (
	racers  = 50
	servers = 3
)

// raceEnv is one database seen by several servers, on a clock standing still at t0.
func raceEnv(t *testing.T, o Opener) ([]backend.Store, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(t0)
	return replicas(o(t), servers, c.Now), c
}

func testRaceConsumeTOTPStep(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	const step = 59_000_000
	if n := race(t, racers, func(i int) (bool, error) { return stores[i%servers].ConsumeTOTPStep(ctx, u.ID, step) }); n != 1 {
		t.Fatalf("%d concurrent ConsumeTOTPStep(%d): %d won, want 1", racers, step, n)
	}
	// Steps racing with each other: the latest one wins in the end, and no older step is
	// accepted after a newer one.
	n := race(t, racers, func(i int) (bool, error) {
		return stores[i%servers].ConsumeTOTPStep(ctx, u.ID, step+1+int64(i%2))
	})
	if n < 1 || n > 2 {
		t.Fatalf("steps %d and %d racing: %d won, want 1 or 2", step+1, step+2, n)
	}
	if ok, _ := stores[0].ConsumeTOTPStep(ctx, u.ID, step+2); ok {
		t.Fatal("step+2 accepted again after the race")
	}
}

func testRaceUseRecoveryCode(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	codes := make([]backend.RecoveryCode, 5)
	for i := range codes {
		codes[i] = backend.RecoveryCode{Salt: []byte{byte(i)}, Hash: []byte{0xaa, byte(i)}}
	}
	if err := stores[0].ReplaceRecoveryCodes(ctx, u.ID, codes); err != nil {
		t.Fatal(err)
	}
	id := codes[2].ID
	if n := race(t, racers, func(i int) (bool, error) { return stores[i%servers].UseRecoveryCode(ctx, id) }); n != 1 {
		t.Fatalf("%d concurrent UseRecoveryCode: %d won, want 1", racers, n)
	}
	if left, _ := stores[1].RecoveryCodes(ctx, u.ID); len(left) != 4 {
		t.Fatalf("unused codes after the race: %d, want 4", len(left))
	}
}

func testRaceConsumeSMSCode(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	code := &backend.SMSCode{UserID: u.ID, AttemptHash: "attempt", CodeHash: "code"}
	if _, err := stores[0].ReserveSMSCode(ctx, code, 10*time.Minute, 0, 100); err != nil {
		t.Fatal(err)
	}
	if n := race(t, racers, func(i int) (bool, error) { return stores[i%servers].ConsumeSMSCode(ctx, "attempt", "code") }); n != 1 {
		t.Fatalf("%d concurrent ConsumeSMSCode: %d won, want 1", racers, n)
	}
}

// testRaceLockedLogin: login steps that each read the attempt locked
// (FindLoginAttemptForUpdate) and complete it, at once on two stores: one signs in, and every
// other finds the attempt gone (ENOTFOUND), none fails.
func testRaceLockedLogin(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	if err := stores[0].CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "a1", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var gone atomic.Int32
	n := race(t, racers, func(i int) (bool, error) {
		db := stores[i%servers]
		var ok bool
		err := db.Atomically(ctx, func(ctx context.Context) error {
			if _, _, err := db.FindLoginAttemptForUpdate(ctx, "a1"); backend.ErrorCode(err) == backend.ENOTFOUND {
				gone.Add(1)
				return nil
			} else if err != nil {
				return err
			}
			var err error
			ok, err = db.CompleteLogin(ctx, "a1", &backend.Session{TokenHash: fmt.Sprintf("s%d", i), UserID: u.ID})
			return err
		})
		return ok && err == nil, err
	})
	if n != 1 || gone.Load() != racers-1 {
		t.Fatalf("%d concurrent locked logins of one attempt: %d signed in, %d found it gone; want 1, %d", racers, n, gone.Load(), racers-1)
	}
	sessions := 0
	for i := range racers {
		if _, _, err := stores[0].FindSession(ctx, fmt.Sprintf("s%d", i)); err == nil {
			sessions++
		}
	}
	if sessions != 1 {
		t.Fatalf("%d sessions, want 1", sessions)
	}
}

// testRaceLoginSteps: a login attempt is completed once, and replaced by its next step once.
func testRaceLoginSteps(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	expires := t0.Add(10 * time.Minute)
	for _, a := range []string{"a1", "a2"} {
		if err := stores[0].CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: a, UserID: u.ID, Step: backend.StepVerify, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	n := race(t, racers, func(i int) (bool, error) {
		return stores[i%servers].CompleteLogin(ctx, "a1", &backend.Session{TokenHash: fmt.Sprintf("s%d", i), UserID: u.ID})
	})
	if n != 1 {
		t.Fatalf("%d concurrent CompleteLogin of one attempt: %d signed in, want 1", racers, n)
	}
	n = race(t, racers, func(i int) (bool, error) {
		return stores[i%servers].ReplaceLoginAttempt(ctx, "a2", &backend.LoginAttempt{TokenHash: fmt.Sprintf("next%d", i),
			UserID: u.ID, Step: backend.StepEnroll, ExpiresAt: expires})
	})
	if n != 1 {
		t.Fatalf("%d concurrent ReplaceLoginAttempt of one attempt: %d replaced it, want 1", racers, n)
	}
	sessions := 0
	for i := range racers {
		if _, _, err := stores[0].FindSession(ctx, fmt.Sprintf("s%d", i)); err == nil {
			sessions++
		}
	}
	if sessions != 1 {
		t.Fatalf("sessions stored: %d, want 1", sessions)
	}
}

func testRaceSetupLink(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	// Servers printing a link at once each keep theirs, up to keep: none lost below the
	// bound, none kept beyond it.
	const keep = backend.SetupLinksKept
	for _, added := range []int{keep / 2, 3 * keep} {
		stores[0].DeleteSetupLinks(ctx)
		race(t, added, func(i int) (bool, error) {
			_, err := stores[i%servers].AddSetupLink(ctx, fmt.Sprintf("link%d", i), time.Hour, keep)
			return true, err
		})
		valid := 0
		for i := range added {
			if ok, _ := stores[0].SetupLinkValid(ctx, fmt.Sprintf("link%d", i)); ok {
				valid++
			}
		}
		if want := min(added, keep); valid != want {
			t.Errorf("%d links added at once, keep %d: got %d valid, want %d", added, keep, valid, want)
		}
	}
	live := "link0"
	stores[0].DeleteSetupLinks(ctx)
	if _, err := stores[0].AddSetupLink(ctx, live, time.Hour, keep); err != nil {
		t.Fatal(err)
	}
	if n := race(t, racers, func(i int) (bool, error) { return stores[i%servers].UseSetupLink(ctx, live) }); n != 1 {
		t.Fatalf("%d concurrent UseSetupLink: %d used it, want 1", racers, n)
	}
}

// testRaceFailureCounter: concurrent increments of one failure counter, on three servers,
// all count: a user's and an unknown username's.
func testRaceFailureCounter(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	const nameHash = "a0b1c2d3e4f5a0b1c2d3e4f5a0b1c2d3e4f5a0b1c2d3e4f5a0b1c2d3e4f5a0b1"
	const n = 200
	inc := func(f *backend.Failures, _ time.Time) error { f.Count++; return nil }
	race(t, n, func(i int) (bool, error) {
		s := stores[i%servers]
		if i%2 == 0 {
			return true, s.UpdateFailures(ctx, u.ID, inc)
		}
		return true, s.UpdateUnknownFailures(ctx, nameHash, inc)
	})
	var user, unknown int
	stores[1].UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { user = f.Count; return nil })
	stores[2].UpdateUnknownFailures(ctx, nameHash, func(f *backend.Failures, _ time.Time) error { unknown = f.Count; return nil })
	if user != n/2 || unknown != n/2 {
		t.Fatalf("after %d concurrent increments of each: user's count %d, unknown name's %d; want %d", n/2, user, unknown, n/2)
	}
}

// testRaceReserveSMSCode: the resend cooldown and the hourly cap hold when requests race on
// several servers.
func testRaceReserveSMSCode(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	for _, tc := range []struct {
		name     string
		cooldown time.Duration
		perHour  int
		want     int
	}{{"cooldown", 30 * time.Second, 5, 1}, {"hourly cap", 0, 3, 3}} {
		u := createUser(t, stores[0], "user with "+tc.name, backend.RoleUser)
		n := race(t, racers, func(i int) (bool, error) {
			retry, err := stores[i%servers].ReserveSMSCode(ctx, &backend.SMSCode{UserID: u.ID, AttemptHash: "a", CodeHash: fmt.Sprint(i)},
				time.Minute, tc.cooldown, tc.perHour)
			return retry.IsZero(), err
		})
		if n != tc.want {
			t.Errorf("%s: %d concurrent reservations, %d stored, want %d", tc.name, racers, n, tc.want)
		}
	}
}

// testRaceReplacedSets: what is replaced whole (the recovery codes, the sheet on show, the
// enrollment) is replaced once per caller: racing replacements leave one set.
func testRaceReplacedSets(t *testing.T, o Opener) {
	stores, c := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	const n = 20
	race(t, n, func(i int) (bool, error) {
		codes := make([]backend.RecoveryCode, 5)
		for j := range codes {
			codes[j] = backend.RecoveryCode{Salt: []byte{byte(i)}, Hash: []byte{byte(j)}}
		}
		return true, stores[i%servers].ReplaceRecoveryCodes(ctx, u.ID, codes)
	})
	codes, err := stores[0].RecoveryCodes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 5 || slices.ContainsFunc(codes, func(c backend.RecoveryCode) bool { return c.Salt[0] != codes[0].Salt[0] }) {
		t.Fatalf("after %d concurrent ReplaceRecoveryCodes: %d codes, want the 5 of one set", n, len(codes))
	}

	race(t, n, func(i int) (bool, error) {
		_, err := stores[i%servers].PutRecoverySheet(ctx, fmt.Sprintf("owner%d", i), u.ID, []byte("codes"), time.Hour)
		return true, err
	})
	sheets := 0
	for i := range n {
		if _, err := stores[0].FindRecoverySheet(ctx, fmt.Sprintf("owner%d", i)); err == nil {
			sheets++
		}
	}
	if sheets != 1 {
		t.Fatalf("after %d concurrent PutRecoverySheet: %d sheets, want 1", n, sheets)
	}

	// Two sessions each confirm their own app setup, many times over, at once: one enables,
	// and the recovery codes are its set alone.
	for _, owner := range []string{"A", "B"} {
		if _, err := stores[0].BeginAppEnrollment(ctx, owner, u.ID, []byte("secret "+owner), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Second)
	won := race(t, racers, func(i int) (bool, error) {
		owner := []string{"A", "B"}[i%2]
		codes := make([]backend.RecoveryCode, 5)
		for j := range codes {
			codes[j] = backend.RecoveryCode{Salt: []byte(owner), Hash: []byte{byte(i), byte(j)}}
		}
		err := stores[i%servers].EnableTwoFactor(ctx, u.ID, backend.Enrollment{Method: backend.MethodApp,
			SealedTOTP: []byte("secret " + owner), TOTPStep: 1, Owner: owner}, codes)
		if backend.ErrorCode(err) == backend.ECONFLICT {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("%d concurrent confirmations of two setups: %d enabled, want 1", racers, won)
	}
	if codes, _ := stores[0].RecoveryCodes(ctx, u.ID); len(codes) != 5 {
		t.Fatalf("recovery codes after the confirmations: %d, want 5", len(codes))
	}
}

// testRaceAttachSMSPhone: texts with the same Authorization Code arriving at once on several
// servers attach one phone.
func testRaceAttachSMSPhone(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	if _, err := stores[0].BeginSMSEnrollment(ctx, "owner", u.ID, "code", []byte("sealed"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	phones := make(chan string, racers)
	n := race(t, racers, func(i int) (bool, error) {
		phone := fmt.Sprintf("+1650253%04d", i)
		_, err := stores[i%servers].AttachSMSPhone(ctx, "code", phone, 10*time.Minute)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, err
		}
		phones <- phone
		return true, nil
	})
	if n != 1 {
		t.Fatalf("%d concurrent AttachSMSPhone: %d attached, want 1", racers, n)
	}
	if p, err := stores[1].FindSMSEnrollment(ctx, "owner"); err != nil || p.Phone != <-phones {
		t.Fatalf("the enrollment's phone is not the one attached: %+v, %v", p, err)
	}
}

// testRaceRecordInboundSMS: one delivery retried at once is fresh once, and texts from one
// sender arriving at once each count the others: the counts they see are 1, 2, … n.
func testRaceRecordInboundSMS(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	n := race(t, racers, func(i int) (bool, error) {
		fresh, _, err := stores[i%servers].RecordInboundSMS(ctx, "SM1", "+16502530000", time.Hour)
		return fresh, err
	})
	if n != 1 {
		t.Fatalf("%d concurrent deliveries of one MessageSid: %d fresh, want 1", racers, n)
	}
	counts := make(chan int, racers)
	race(t, racers, func(i int) (bool, error) {
		_, recent, err := stores[i%servers].RecordInboundSMS(ctx, fmt.Sprintf("SM-%d", i), "+16502539999", time.Hour)
		counts <- recent
		return true, err
	})
	close(counts)
	var got []int
	for c := range counts {
		got = append(got, c)
	}
	slices.Sort(got)
	for i, c := range got {
		if c != i+1 {
			t.Fatalf("counts seen by %d texts from one sender: %v, want 1 to %d once each", racers, got, racers)
		}
	}
}

// testRaceUsers: a username is taken once, whatever its case; two administrators' edits of
// different fields of one user both land.
func testRaceUsers(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	n := race(t, racers, func(i int) (bool, error) {
		name := []string{"dup", "DUP", "Dup"}[i%3]
		err := stores[i%servers].CreateUser(ctx, &backend.User{Username: name, Role: backend.RoleUser}, "h")
		if backend.ErrorCode(err) == backend.ECONFLICT {
			return false, nil
		}
		return err == nil, err
	})
	if n != 1 {
		t.Fatalf("%d concurrent CreateUser of one name: %d created, want 1", racers, n)
	}

	u := createUser(t, stores[0], "bob", backend.RoleUser)
	race(t, racers, func(i int) (bool, error) {
		upd := backend.UserUpdate{}
		if v := fmt.Sprint(i); i%2 == 0 {
			upd.DisplayName = &v
		} else {
			v += "@example.com"
			upd.Email = &v
		}
		_, err := stores[i%servers].UpdateUser(ctx, u.ID, upd)
		return true, err
	})
	got, err := stores[0].FindUserByID(ctx, u.ID)
	if err != nil || got.DisplayName == "" || got.Email == "" {
		t.Fatalf("after concurrent edits of the name and of the email: %q, %q (%v); want both set", got.DisplayName, got.Email, err)
	}
}

// testRaceAtomicallyStep: whole login steps racing, each one Atomically transaction that
// locks the user (FindUserForUpdate), charges the counter, consumes the step and signs in, as
// the Service's verify step does: one signs in, every one is charged.
func testRaceAtomicallyStep(t *testing.T, o Opener) {
	stores, _ := raceEnv(t, o)
	u := createUser(t, stores[0], "bob", backend.RoleUser)
	if err := stores[0].CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "a", UserID: u.ID, Step: backend.StepVerify,
		ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	n := race(t, racers, func(i int) (bool, error) {
		s := stores[i%servers]
		signedIn := false
		err := s.Atomically(ctx, func(ctx context.Context) error {
			if _, err := s.FindUserForUpdate(ctx, u.ID); err != nil {
				return err
			}
			if err := s.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { f.Count++; return nil }); err != nil {
				return err
			}
			if ok, err := s.ConsumeTOTPStep(ctx, u.ID, 7); err != nil || !ok {
				return err
			}
			ok, err := s.CompleteLogin(ctx, "a", &backend.Session{TokenHash: fmt.Sprint("s", i), UserID: u.ID})
			signedIn = ok
			return err
		})
		return signedIn, err
	})
	var count int
	stores[0].UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { count = f.Count; return nil })
	if n != 1 || count != racers {
		t.Fatalf("%d concurrent steps: %d signed in, %d charged; want 1, %d", racers, n, count, racers)
	}
}
