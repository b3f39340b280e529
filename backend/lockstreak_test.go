package backend_test

import (
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestSecondFactorLocksEscalate (security review M2): locks reached by wrong codes after the
// right password double each time, up to the cap, until a login succeeds; locks reached by
// wrong passwords alone stay the base length, and do not end a streak.
func TestSecondFactorLocksEscalate(t *testing.T) {
	t.Parallel()
	const code, password, mixed, success = "code", "password", "mixed", "success"
	tests := []struct {
		name   string
		policy backend.LockoutPolicy
		steps  []string        // each a run of failures up to a lock (code, password, mixed) or a login
		want   []time.Duration // the length of each lock, in order
	}{
		{"codes double", backend.LockoutPolicy{}, []string{code, code, code},
			[]time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour}},
		{"a success resets", backend.LockoutPolicy{}, []string{code, code, success, code},
			[]time.Duration{15 * time.Minute, 30 * time.Minute, 15 * time.Minute}},
		{"passwords never lengthen", backend.LockoutPolicy{}, []string{password, password, password},
			[]time.Duration{15 * time.Minute, 15 * time.Minute, 15 * time.Minute}},
		{"passwords keep the streak", backend.LockoutPolicy{}, []string{code, password, code},
			[]time.Duration{15 * time.Minute, 15 * time.Minute, 30 * time.Minute}},
		// Codes, then a wrong password reaching the lock: a code failed in the count.
		{"a last wrong password does not shorten", backend.LockoutPolicy{}, []string{mixed, mixed},
			[]time.Duration{15 * time.Minute, 30 * time.Minute}},
		{"capped", backend.LockoutPolicy{LockFor: 10 * time.Hour}, []string{code, code, code},
			[]time.Duration{10 * time.Hour, 20 * time.Hour, 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *backend.Config) { c.Lockout = tt.policy })
			u, app := e.enrolledUser("alice")
			var got []time.Duration
			for _, step := range tt.steps {
				if step == success {
					st := e.login("alice", goodPassword, backend.StepVerify)
					if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
						t.Fatalf("the right code: got %v, want signed in", err)
					}
					continue
				}
				switch step {
				case password:
					e.failLogins("alice", 10)
				case code, mixed:
					e.clock.Advance(31 * time.Second)
					st := e.login("alice", goodPassword, backend.StepVerify) // the 1st charge
					codes := 9
					if step == mixed {
						codes = 8
					}
					for range codes {
						e.clock.Advance(31 * time.Second)
						_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, "000000")
						wantCode(t, "a wrong code", err, backend.EUNAUTHORIZED)
					}
					if step == mixed {
						e.failLogins("alice", 1)
					}
				}
				d := e.user(u.ID).LockedUntil.Sub(e.clock.Now())
				got = append(got, d)
				e.clock.Advance(d)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("locks: got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("lock %d: got %v, want %v (all: %v)", i+1, got[i], tt.want[i], got)
				}
			}
			// Each lock's audit event says how long it lasts.
			events := e.auditEvents(backend.AuditAccountLocked)
			if len(events) != len(tt.want) {
				t.Fatalf("audit %s: got %d events, want %d", backend.AuditAccountLocked, len(events), len(tt.want))
			}
			for i, ev := range events { // newest first
				want := lockWords(tt.want[len(tt.want)-1-i])
				if !strings.HasSuffix(ev.Detail, "locked for "+want) {
					t.Errorf("audit %s: got detail %q, want it to end %q", backend.AuditAccountLocked, ev.Detail, "locked for "+want)
				}
			}
		})
	}
}

func lockWords(d time.Duration) string {
	switch d {
	case 15 * time.Minute:
		return "15 minutes"
	case 30 * time.Minute:
		return "30 minutes"
	case time.Hour:
		return "1 hour"
	case 10 * time.Hour:
		return "10 hours"
	case 20 * time.Hour:
		return "20 hours"
	case 24 * time.Hour:
		return "24 hours"
	}
	return d.String()
}
