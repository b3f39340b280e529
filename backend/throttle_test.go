package backend_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestParallelWrongPasswords: 200 wrong passwords at once for one account verify no more
// passwords than the policy allows, and then the right password is refused like a wrong one.
func TestParallelWrongPasswords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy backend.LockoutPolicy
		max    int64 // real verifications allowed
	}{
		// No delay: only the lock after MaxFailures stops the storm.
		{"lock only", backend.LockoutPolicy{FreeFailures: 1000, MaxFailures: 10}, 10},
		// The defaults on a clock that stands still: the wait after the 3 free failures
		// may stop it even sooner. Requests charged after the 4th failure was counted are
		// told to wait; those charged before it get the wrong password's answer.
		{"defaults", backend.LockoutPolicy{}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 200
			e := newEnv(t, func(c *backend.Config) {
				c.Lockout = tt.policy
				c.Passwords.MaxWaiting = n // all wait their turn: this is about the lockout, TestLoginBusy about the queue
			})
			e.createUser(backend.NewUser{Username: "alice"})
			wrong := e.wrongLoginErr()
			reads0, verify0 := e.store.hashReads.Load(), e.verify.Load()

			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[i] = e.svc.Login(ctx, "alice", fmt.Sprintf("wrong password %d", i))
				})
			}
			close(start)
			wg.Wait()

			for i, err := range errs {
				if !sameError(err, wrong) && !(tt.policy.FreeFailures < 1000 && isWait(err)) && !isLocked(err) {
					t.Errorf("attempt %d: got %v, want %v, a wait or the lock", i, err, wrong)
					break
				}
			}
			real := e.store.hashReads.Load() - reads0
			if real > tt.max || real < 1 {
				t.Errorf("real password verifications: got %d, want 1..%d", real, tt.max)
			}
			if tt.policy.FreeFailures == 1000 && real != tt.max {
				t.Errorf("real password verifications without delays: got %d, want exactly %d", real, tt.max)
			}
			fails := 0
			for _, ev := range e.auditEvents(backend.AuditLoginFailure) {
				if ev.TargetName == "alice" && ev.Detail == "wrong password" {
					fails++
				}
			}
			if int64(fails) != real {
				t.Errorf("audited wrong passwords: got %d, want %d (the real verifications)", fails, real)
			}
			// Every request answered "wrong password" did the same work, one verification, real
			// or dummy; those told to wait or that the account is locked did none (H1).
			checked := 0
			for _, err := range errs {
				if sameError(err, wrong) {
					checked++
				}
			}
			if got := e.verify.Load() - verify0; got != int64(checked) {
				t.Errorf("password verifications, real and dummy: got %d, want %d (the answers of a wrong password)", got, checked)
			}

			// Locked: the right password is told so. Waiting: it is told to wait. Either way
			// it does not sign in.
			_, err := e.svc.Login(ctx, "alice", goodPassword)
			if !isLocked(err) && !(tt.policy.FreeFailures < 1000 && isWait(err)) {
				t.Errorf("the right password after the storm: got %v, want the lock or a wait", err)
			}
			if tt.policy.FreeFailures == 1000 {
				if n := len(e.auditEvents(backend.AuditAccountLocked)); n != 1 {
					t.Errorf("audit %s: got %d events, want 1", backend.AuditAccountLocked, n)
				}
			}
			e.clock.Advance(15 * time.Minute)
			e.login("alice", goodPassword, backend.StepDone)
		})
	}
}

// wrongLoginErr is the answer to a wrong password for an existing user, taken from the
// administrator's account, which the test leaves alone otherwise.
func (e *env) wrongLoginErr() error {
	e.t.Helper()
	_, err := e.svc.Login(ctx, "admin", "not the admin password")
	if backend.ErrorCode(err) != backend.EUNAUTHORIZED {
		e.t.Fatalf("Login with a wrong password: got %v, want code %s", err, backend.EUNAUTHORIZED)
	}
	return err
}

// isWait reports whether err tells the person to wait before trying again.
func isWait(err error) bool {
	return backend.ErrorCode(err) == backend.ETOOMANY && strings.HasPrefix(backend.ErrorMessage(err), "Too many failed attempts. Try again in ")
}

// sameError reports whether a and b carry the same code and message.
func sameError(a, b error) bool {
	return a != nil && b != nil && backend.ErrorCode(a) == backend.ErrorCode(b) && backend.ErrorMessage(a) == backend.ErrorMessage(b)
}

// TestSameLoginError: unknown user, wrong password and disabled accounts get the same answer
// after the same work; a locked account's answer says it is locked (TestLockedLoginSaysSo).
func TestSameLoginError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	off := e.createUser(backend.NewUser{Username: "disabled"})
	disabled := true
	if _, err := e.svc.UpdateUser(ctx, e.admin, off.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	e.createUser(backend.NewUser{Username: "locked"})
	for range 10 {
		e.svc.Login(ctx, "locked", "wrong password")
		e.clock.Advance(time.Minute)
	}

	wrong := e.wrongLoginErr()
	for _, tt := range []struct{ name, username, password string }{
		{"unknown user", "nobody", goodPassword},
		{"unknown user, other case", "NOBODY", "some password"},
		{"wrong password", "alice", "wrong password"},
		{"disabled, right password", "disabled", goodPassword},
		{"disabled, wrong password", "disabled", "wrong password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.verify.Load()
			st, err := e.svc.Login(ctx, tt.username, tt.password)
			if !sameError(err, wrong) {
				t.Errorf("Login(%s): got %+v, %v, want %v", tt.username, st, err, wrong)
			}
			if got := e.verify.Load() - before; got != 1 {
				t.Errorf("password verifications: got %d, want 1 (the same work as a wrong password)", got)
			}
		})
	}
	// The lock was real: still there, and recorded.
	if n := len(e.auditEvents(backend.AuditAccountLocked)); n != 1 {
		t.Errorf("audit %s: got %d events, want 1", backend.AuditAccountLocked, n)
	}
}

// failLogins makes n wrong password attempts, each one allowed: the clock moves past any delay
// before each. It fails the test if any was not a real verification.
func (e *env) failLogins(username string, n int) {
	e.t.Helper()
	for range n {
		e.clock.Advance(31 * time.Second)
		before := e.store.hashReads.Load()
		if _, err := e.svc.Login(ctx, username, "wrong password"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			e.t.Fatalf("wrong password: got %v, want code %s", err, backend.EUNAUTHORIZED)
		}
		if e.store.hashReads.Load() == before {
			e.t.Fatalf("wrong password: got throttled, want a real attempt")
		}
	}
}

// TestLockoutWindow: the default policy on a fake clock. 3 failures are free, then the wait
// doubles from 1 s up to 30 s, and the 10th failure locks the account for 15 minutes.
func TestLockoutWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failures int
		wait     time.Duration
		ok       bool
	}{
		{3, 0, true},
		{4, 0, false},
		{4, 999 * time.Millisecond, false},
		{4, time.Second, true},
		{5, 1999 * time.Millisecond, false},
		{5, 2 * time.Second, true},
		{6, 4 * time.Second, true},
		{7, 7 * time.Second, false},
		{8, 16 * time.Second, true},
		{9, 29 * time.Second, false},
		{9, 30 * time.Second, true},
		{10, 30 * time.Second, false},
		{10, 14*time.Minute + 59*time.Second, false},
		{10, 15 * time.Minute, true},
	}
	e := newEnv(t)
	for i, tt := range tests {
		name := fmt.Sprintf("%d failures, %v later", tt.failures, tt.wait)
		t.Run(name, func(t *testing.T) {
			username := fmt.Sprintf("user%d", i)
			e.createUser(backend.NewUser{Username: username})
			e.failLogins(username, tt.failures)
			e.clock.Advance(tt.wait)
			_, err := e.svc.Login(ctx, username, goodPassword)
			if tt.ok && err != nil {
				t.Errorf("the right password: got %v, want signed in", err)
			}
			// Locked: told until when. Waiting: told how long to wait.
			want := backend.ETOOMANY
			if !tt.ok && backend.ErrorCode(err) != want {
				t.Errorf("the right password: got %v, want code %s", err, want)
			}
		})
	}
}

// TestLockoutResets: a success resets the counter, and so does a lock that ran out.
func TestLockoutResets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})

	e.failLogins("alice", 9)
	e.clock.Advance(time.Minute)
	e.login("alice", goodPassword, backend.StepDone)
	// Without the reset the next failure would be the 10th and lock the account.
	e.failLogins("alice", 9)
	e.clock.Advance(time.Minute)
	e.login("alice", goodPassword, backend.StepDone)

	e.failLogins("alice", 10) // locked
	e.clock.Advance(15 * time.Minute)
	// A fresh count: one failure is free again, no lock, no wait.
	e.failLogins("alice", 1)
	if _, err := e.svc.Login(ctx, "alice", goodPassword); err != nil {
		t.Errorf("right password after an expired lock and one failure: got %v, want signed in", err)
	}
}

// TestFailuresShareCounter: password, TOTP and recovery code failures count together.
func TestFailuresShareCounter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")

	e.failLogins("alice", 5)
	e.clock.Advance(time.Minute)
	st := e.login("alice", goodPassword, backend.StepVerify) // 6th charge
	for i := range 3 {                                       // 7th to 9th
		e.clock.Advance(31 * time.Second)
		_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, "000000")
		wantCode(t, fmt.Sprintf("wrong TOTP code %d", i+1), err, backend.EUNAUTHORIZED)
	}
	e.clock.Advance(31 * time.Second)
	_, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, "0000-0000-0000-0000") // 10th: locks
	wantCode(t, "wrong recovery code", err, backend.EUNAUTHORIZED)
	if n := len(e.auditEvents(backend.AuditAccountLocked)); n != 1 {
		t.Errorf("audit %s: got %d events, want 1", backend.AuditAccountLocked, n)
	}

	e.clock.Advance(time.Minute)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	wantCode(t, "the right TOTP code while locked", err, backend.ETOOMANY)
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0])
	wantCode(t, "a right recovery code while locked", err, backend.ETOOMANY)
	_, err = e.svc.Login(ctx, "alice", goodPassword)
	wantCode(t, "the right password while locked", err, backend.ETOOMANY)

	e.clock.Advance(15 * time.Minute)
	st = e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("the right TOTP code after the lock: got %v, want signed in", err)
	}
	// The recovery code refused while locked was not used up.
	st = e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0]); err != nil {
		t.Errorf("the recovery code refused while locked: got %v, want signed in", err)
	}
}

// TestPasswordAloneDoesNotReset: the right password of a two-factor account does not reset the
// counter; only the whole login does.
func TestPasswordAloneDoesNotReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")

	e.failLogins("alice", 8)
	e.clock.Advance(time.Minute)
	st := e.login("alice", goodPassword, backend.StepVerify) // 9th charge, no reset
	e.clock.Advance(time.Minute)
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, "000000") // 10th: locks
	wantCode(t, "wrong TOTP code", err, backend.EUNAUTHORIZED)
	e.clock.Advance(time.Minute)
	_, err = e.svc.Login(ctx, "alice", goodPassword)
	wantCode(t, "the right password after the 10th failure", err, backend.ETOOMANY)

	// The whole login does reset it.
	e.clock.Advance(15 * time.Minute)
	e.failLogins("alice", 5)
	e.clock.Advance(time.Minute)
	st = e.login("alice", goodPassword, backend.StepVerify)
	e.clock.Advance(31 * time.Second) // the password step, too, was charged with a wait
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Fatalf("VerifyTOTP: %v", err)
	}
	e.failLogins("alice", 9)
	e.clock.Advance(time.Minute)
	e.login("alice", goodPassword, backend.StepVerify)
}

// TestParallelWrongCodes: 200 wrong second-factor codes at once on one login check no more
// codes than the failures the account has left.
func TestParallelWrongCodes(t *testing.T) {
	for _, method := range []string{"totp", "recovery"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *backend.Config) { c.Lockout = backend.LockoutPolicy{FreeFailures: 1000, MaxFailures: 10} })
			_, app := e.enrolledUser("alice")
			e.clock.Advance(30 * time.Second)
			st := e.login("alice", goodPassword, backend.StepVerify) // 1 charged
			right := totpCode(t, app.secret, e.clock.Now())
			totp0, rec0 := e.store.totpReads.Load(), e.store.recoveryReads.Load()

			const n = 200
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					if method == "totp" {
						code := fmt.Sprintf("%06d", i)
						if code == right {
							code = fmt.Sprintf("%06d", n+i)
						}
						_, errs[i] = e.svc.VerifyTOTP(ctx, st.AttemptToken, code)
					} else {
						_, errs[i] = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, fmt.Sprintf("0000-0000-0000-%04d", i))
					}
				})
			}
			close(start)
			wg.Wait()

			checks := e.store.totpReads.Load() - totp0
			if method == "recovery" {
				checks = e.store.recoveryReads.Load() - rec0
			}
			if checks != 9 {
				t.Errorf("codes checked: got %d, want 9 (10 failures allowed, 1 spent on the password step)", checks)
			}
			counts := map[string]int{}
			for _, err := range errs {
				counts[backend.ErrorCode(err)]++
			}
			if counts[backend.EUNAUTHORIZED] != 9 || counts[backend.ETOOMANY] != n-9 {
				t.Errorf("answers: got %v, want 9 %s and %d %s", counts, backend.EUNAUTHORIZED, n-9, backend.ETOOMANY)
			}
			// Locked: even the right code is refused now.
			_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, right)
			wantCode(t, "the right code while locked", err, backend.ETOOMANY)
		})
	}
}

// TestLockByRightPasswordAudited: when the attempt that reaches the limit has the right password
// but a second factor is still due, the account is locked all the same, and the audit log says so.
func TestLockByRightPasswordAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")
	e.failLogins("alice", 9)
	e.clock.Advance(time.Minute)
	st := e.login("alice", goodPassword, backend.StepVerify) // the 10th attempt
	e.clock.Advance(time.Minute)
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	wantCode(t, "the right code after the 10th attempt", err, backend.ETOOMANY)
	if n := len(e.auditEvents(backend.AuditAccountLocked)); n != 1 {
		t.Errorf("audit %s: got %d events, want 1", backend.AuditAccountLocked, n)
	}
}

// TestRightPasswordDoesNotDelaySecondStep: after failures that impose a wait, the right
// password leads straight to a second step that is not itself kept waiting.
func TestRightPasswordDoesNotDelaySecondStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, app := e.enrolledUser("alice")
	e.failLogins("alice", 8) // the next wait is 30 s
	e.clock.Advance(31 * time.Second)
	st := e.login("alice", goodPassword, backend.StepVerify)
	e.clock.Advance(time.Second)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("the right code right after the right password: got %v, want signed in", err)
	}
}

// TestAdminHelpUnlocks: an administrator who sets a new password, or resets or disables the
// user's Two-Factor Authentication, also lifts the lock.
func TestAdminHelpUnlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		help func(e *env, admin *backend.Identity, u *backend.User) error
		pw   string
	}{
		{"set password", func(e *env, admin *backend.Identity, u *backend.User) error {
			return e.svc.SetUserPassword(ctx, admin, u.ID, "a brand new passphrase", false)
		}, "a brand new passphrase"},
		{"reset two-factor", func(e *env, admin *backend.Identity, u *backend.User) error {
			_, err := e.svc.ResetTwoFactor(ctx, admin, u.ID)
			return err
		}, goodPassword},
		{"disable two-factor", func(e *env, admin *backend.Identity, u *backend.User) error {
			_, err := e.svc.DisableTwoFactor(ctx, admin, u.ID)
			return err
		}, goodPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.createUser(backend.NewUser{Username: "root", Role: backend.RoleAdmin})
			admin := e.signIn("root", goodPassword)
			if err := e.svc.ConfirmPassword(ctx, admin, goodPassword); err != nil {
				t.Fatal(err)
			}
			u, _ := e.enrolledUser("alice")
			e.failLogins("alice", 10)
			if _, err := e.svc.Login(ctx, "alice", goodPassword); err == nil {
				t.Fatal("locked account: got signed in, want refused")
			}
			if err := tt.help(e, admin, u); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Login(ctx, "alice", tt.pw); err != nil {
				t.Errorf("after the administrator's help: got %v, want the login to go on", err)
			}
		})
	}
}

// TestUnknownUsernameThrottledAlike: attempts for a username that names no account are counted
// and throttled exactly like those for a real account, so the lockout reveals nothing either.
func TestUnknownUsernameThrottledAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	for _, name := range []string{"alice", "nobody"} {
		for range 4 { // 3 free failures, then the 4th imposes a wait
			if _, err := e.svc.Login(ctx, name, "wrong password"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
				t.Fatalf("%s: wrong password: got %v, want %s", name, err, backend.EUNAUTHORIZED)
			}
		}
		before := len(e.auditEvents(backend.AuditLoginThrottled))
		_, err := e.svc.Login(ctx, strings.ToUpper(name), "wrong password")
		if want := "Too many failed attempts. Try again in 1 second."; backend.ErrorMessage(err) != want {
			t.Errorf("%s: the 5th attempt: got %v, want %q", name, err, want)
		}
		if got := len(e.auditEvents(backend.AuditLoginThrottled)) - before; got != 1 {
			t.Errorf("%s: throttled attempts recorded: got %d, want 1", name, got)
		}
	}
}

// TestUnlockUser: administrators see that an account is locked, and until when, and can lift the
// lock; an account that is not locked cannot be unlocked.
func TestUnlockUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.createUser(backend.NewUser{Username: "alice"})
	if e.svc.Locked(e.user(alice.ID)) {
		t.Fatal("a new account: locked, want not locked")
	}
	_, err := e.svc.UnlockUser(ctx, e.admin, alice.ID)
	if backend.ErrorCode(err) != backend.ECONFLICT || backend.ErrorMessage(err) != "alice is not locked." {
		t.Errorf("UnlockUser of an account not locked: got %v, want conflict %q", err, "alice is not locked.")
	}
	e.failLogins("alice", 10)
	u := e.user(alice.ID)
	if !e.svc.Locked(u) || !u.LockedUntil.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Errorf("after 10 failures: locked %v until %v, want locked until %v", e.svc.Locked(u), u.LockedUntil, e.clock.Now().Add(15*time.Minute))
	}
	e.createUser(backend.NewUser{Username: "user"})
	_, err = e.svc.UnlockUser(ctx, e.signIn("user", goodPassword), alice.ID)
	wantCode(t, "UnlockUser by a user", err, backend.EFORBIDDEN)

	u, err = e.svc.UnlockUser(ctx, e.admin, alice.ID)
	if err != nil || e.svc.Locked(u) || e.svc.Locked(e.user(alice.ID)) {
		t.Fatalf("UnlockUser: %+v, %v; want unlocked", u, err)
	}
	e.login("alice", goodPassword, backend.StepDone)
	if ev := e.auditEvents(backend.AuditUnlock); len(ev) != 1 || ev[0].ActorName != "admin" || ev[0].TargetName != "alice" {
		t.Errorf("audit %s: %+v, want one, by admin, of alice", backend.AuditUnlock, ev)
	}
	// A lock that has run out is not a lock.
	e.failLogins("alice", 10)
	e.clock.Advance(15 * time.Minute)
	if e.svc.Locked(e.user(alice.ID)) {
		t.Error("15 minutes after the lock: locked, want not locked")
	}
}

// TestDisabledRightPasswordCountedAsWrong pins issue 9 F5: the right password for a disabled
// account is counted as a wrong one is, so the answers, and the waits they impose, are the same
// for right and wrong guesses: nothing tells that a guess was right.
func TestDisabledRightPasswordCountedAsWrong(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	disabled := true
	var users []*backend.User
	for _, name := range []string{"right", "wrong"} {
		u := e.createUser(backend.NewUser{Username: name})
		if _, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	// Quick attempts that meet the growing waits, then slow ones that reach the lock.
	for i := range 26 {
		_, right := e.svc.Login(ctx, "right", goodPassword)
		_, wrong := e.svc.Login(ctx, "wrong", "wrong password")
		if !sameError(right, wrong) {
			t.Fatalf("attempt %d: the right password got %v, a wrong one %v; want the same answer", i+1, right, wrong)
		}
		if i < 14 {
			e.clock.Advance(1500 * time.Millisecond)
		} else {
			e.clock.Advance(31 * time.Second)
		}
	}
	if r, w := e.user(users[0].ID).LockedUntil, e.user(users[1].ID).LockedUntil; !r.Equal(w) || r.IsZero() {
		t.Errorf("locked until: right passwords %v, wrong ones %v; want the same lock", r, w)
	}
}

// TestOwnLockStays pins issue 9 F6: an administrator's own lock is lifted by none of their
// changes to their own account (Unlock, Set password, Disable or Reset Two-Factor): the
// changes are made, the lock stands. Another administrator's help, or the command line's,
// lifts it.
func TestOwnLockStays(t *testing.T) {
	t.Parallel()
	const newPassword = "a brand new passphrase"
	for _, tt := range []struct {
		name   string
		change func(e *env, self *backend.Identity, u *backend.User) error
	}{
		{"unlock", func(e *env, self *backend.Identity, u *backend.User) error {
			_, err := e.svc.UnlockUser(ctx, self, u.ID)
			wantCode(e.t, "UnlockUser of one's own account", err, backend.EFORBIDDEN)
			return nil
		}},
		{"set password", func(e *env, self *backend.Identity, u *backend.User) error {
			return e.svc.SetUserPassword(ctx, self, u.ID, newPassword, false)
		}},
		{"disable two-factor", func(e *env, self *backend.Identity, u *backend.User) error {
			_, err := e.svc.DisableTwoFactor(ctx, self, u.ID)
			return err
		}},
		{"reset two-factor", func(e *env, self *backend.Identity, u *backend.User) error {
			_, err := e.svc.ResetTwoFactor(ctx, self, u.ID)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			root := e.createUser(backend.NewUser{Username: "root", Role: backend.RoleAdmin})
			app := e.enrollApp(e.signIn("root", goodPassword), goodPassword)
			self := e.signInVerified("root", app)
			if err := e.svc.ConfirmPassword(ctx, self, goodPassword); err != nil {
				t.Fatal(err)
			}
			e.failLogins("root", 10)
			if !e.svc.Locked(e.user(root.ID)) {
				t.Fatal("after 10 failures: not locked")
			}
			if err := tt.change(e, self, root); err != nil {
				t.Fatalf("the change to one's own account: %v", err)
			}
			if !e.svc.Locked(e.user(root.ID)) {
				t.Errorf("after %s on one's own account: the lock is lifted, want it to stand", tt.name)
			}
			for _, pw := range []string{goodPassword, newPassword} {
				if _, err := e.svc.Login(ctx, "root", pw); err == nil {
					t.Errorf("after %s on one's own account: logged in, want the lock to stand", tt.name)
				}
			}
			// The command line lifts it: the way back for a locked-out administrator.
			if _, err := e.svc.UnlockUser(ctx, e.svc.Operator(), root.ID); err != nil {
				t.Errorf("UnlockUser from the command line: %v", err)
			}
		})
	}
}
