package backend_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestBruteForceSecondFactor throws 10,000 wrong codes (authenticator app and recovery codes)
// from 64 goroutines at one account's login, and 2,000 (text message and recovery codes) at an
// SMS account's, with the default lockout policy, while the clock runs on so that the delays
// between tries pass: not one code is accepted, no more codes are checked than the lockout
// allows before it locks the account, the lock then holds even against the right code, and
// other accounts log in as usual throughout.
func TestBruteForceSecondFactor(t *testing.T) {
	e := newSMSEnv(t)
	_, app := e.enrolledUser("victim")
	e.smsUser("smsvictim", alicePhone)
	_, bystanderApp := e.enrolledUser("bystander")
	e.createUser(backend.NewUser{Username: "passerby"})
	e.clock.Advance(30 * time.Second)

	for _, tc := range []struct {
		name, user string
		n          int
	}{{"app", "victim", 10_000}, {"sms", "smsvictim", 2_000}} {
		t.Run(tc.name, func(t *testing.T) {
			st := e.login(tc.user, goodPassword, backend.StepVerify) // the password step is charged too
			smsCode := ""
			if tc.name == "sms" {
				if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
					t.Fatalf("SendSMSCode: %v", err)
				}
				smsCode = e.lastCode(alicePhone)
			}
			start := e.clock.Now()
			// Codes right at any moment of the attack are never sent: the test is about
			// wrong ones (a random 6-digit code has a 3 in a million chance to be right).
			right := map[string]bool{smsCode: true}
			for d := -2 * time.Minute; d <= 10*time.Minute; d += 30 * time.Second {
				right[totpCode(t, app.secret, start.Add(d))] = true
			}
			failures0 := len(e.auditEvents(backend.AuditSecondFactorFailure))
			locks0 := len(e.auditEvents(backend.AuditAccountLocked))

			// The clock runs on with the attack, not with the wall clock: every try moves it by
			// a share of 5 minutes, so that however fast or slow the machine, the delays between
			// tries (61 s in all) pass during the attack, and the 15-minute lock does not.
			step := 5 * time.Minute / time.Duration(tc.n)

			var accepted, throttled, refused atomic.Int64
			var unexpected atomic.Value
			var next atomic.Int64
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(rand.Uint64(), 0))
					for i := next.Add(1); i <= int64(tc.n); i = next.Add(1) {
						e.clock.Advance(step)
						var err error
						switch {
						case i%2 == 0:
							_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, randomRecoveryCode(r))
						case tc.name == "app":
							_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, wrongDigits(r, right))
						default:
							_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, wrongDigits(r, right))
						}
						switch backend.ErrorCode(err) {
						case "":
							accepted.Add(1)
						case backend.ETOOMANY:
							throttled.Add(1)
						case backend.EUNAUTHORIZED:
							refused.Add(1)
						default:
							unexpected.Store(fmt.Sprint(err))
						}
					}
				})
			}
			// Meanwhile other people log in.
			for range 20 {
				e.login("passerby", goodPassword, backend.StepDone)
			}
			wg.Wait()

			if v := unexpected.Load(); v != nil {
				t.Errorf("unexpected error: %v", v)
			}
			if n := accepted.Load(); n != 0 {
				t.Fatalf("%d wrong codes accepted", n)
			}
			checked := len(e.auditEvents(backend.AuditSecondFactorFailure)) - failures0
			if want := maxFailures - 1; checked != want || refused.Load() != int64(want) {
				t.Errorf("codes checked: %d (refused as wrong: %d), want %d: the lock must engage at %d failures, one spent on the password",
					checked, refused.Load(), want, maxFailures)
			}
			if n := len(e.auditEvents(backend.AuditAccountLocked)) - locks0; n != 1 {
				t.Errorf("audit %s: %d events, want 1", backend.AuditAccountLocked, n)
			}
			if throttled.Load() != int64(tc.n-checked) {
				t.Errorf("throttled: %d, want %d", throttled.Load(), tc.n-checked)
			}
			t.Logf("%d wrong codes: %d checked, %d throttled; the clock ran %v", tc.n, checked, throttled.Load(), e.clock.Now().Sub(start))

			// Locked: the right code is refused too.
			var err error
			if tc.name == "app" {
				_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
			} else {
				_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, smsCode)
			}
			wantCode(t, "the right code while locked", err, backend.ETOOMANY)
		})
	}

	// The bystander, enrolled like the victim, logs in with the app as usual.
	st := e.login("bystander", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, bystanderApp.secret, e.clock.Now())); err != nil {
		t.Errorf("bystander's login: %v", err)
	}
	// And the victims' locks end on time.
	e.clock.Advance(16 * time.Minute)
	st = e.login("victim", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("victim's login after the lock: %v", err)
	}
}

// maxFailures is the lockout policy's default MaxFailures, which these tests run with.
const maxFailures = 10

func wrongDigits(r *rand.Rand, right map[string]bool) string {
	for {
		c := fmt.Sprintf("%06d", r.IntN(1_000_000))
		if !right[c] {
			return c
		}
	}
}

// randomRecoveryCode is a well-formed code no one was given (80 random bits).
func randomRecoveryCode(r *rand.Rand) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 19)
	for i := range b {
		if i%5 == 4 {
			b[i] = '-'
		} else {
			b[i] = alphabet[r.IntN(32)]
		}
	}
	return string(b)
}
