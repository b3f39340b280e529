package backend_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestLoginBusy: with every hashing slot and waiting place taken, a password login is refused
// at once with ErrBusy, and nothing is counted against the account or audited; once the queue
// drains, logins go through again.
func TestLoginBusy(t *testing.T) {
	gate := make(chan struct{})
	var armed atomic.Bool
	e := newEnv(t, func(c *backend.Config) {
		c.Passwords.MaxConcurrent, c.Passwords.MaxWaiting = 1, 1
		c.Passwords.OnVerify = func() { // holds the hashing slot until the gate opens
			if armed.Load() {
				<-gate
			}
		}
	})
	alice := e.createUser(backend.NewUser{Username: "alice"})
	wrong := e.wrongLoginErr()
	failures0 := len(e.auditEvents(backend.AuditLoginFailure))
	armed.Store(true)
	verify0 := e.verify.Load()

	// The first login takes the slot and stops in it.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() { _, errs[0] = e.svc.Login(ctx, "alice", "wrong password 0") })
	for e.verify.Load() == verify0 {
		time.Sleep(time.Millisecond)
	}
	// Of two more, one waits for the slot and one is refused at once.
	done := make(chan int, 2)
	for i := 1; i <= 2; i++ {
		wg.Go(func() {
			_, errs[i] = e.svc.Login(ctx, "alice", "wrong password")
			done <- i
		})
	}
	first := <-done
	if !errors.Is(errs[first], backend.ErrBusy) || backend.ErrorCode(errs[first]) != backend.ETOOMANY {
		t.Errorf("the login answered while the queue is full: got %v, want ErrBusy (ETOOMANY)", errs[first])
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if i != first && !sameError(err, wrong) {
			t.Errorf("login %d: got %v, want %v", i, err, wrong)
		}
	}

	// Two wrong passwords counted and audited, not three.
	var count int
	stop := errors.New("stop")
	e.db.UpdateFailures(ctx, alice.ID, func(f *backend.Failures, _ time.Time) error { count = f.Count; return stop })
	if count != 2 {
		t.Errorf("failure count: got %d, want 2 (the busy refusal is not an attempt)", count)
	}
	if got := len(e.auditEvents(backend.AuditLoginFailure)) - failures0; got != 2 {
		t.Errorf("login.failure events: got %d, want 2", got)
	}
	e.login("alice", goodPassword, backend.StepDone)
}

// TestLoginCancelledWhileQueued: a login charged to its account, then cancelled while it waits
// for a hashing slot, never had its password checked: the charge is given back, for an account
// and for an unknown username alike, and nothing is audited as a failure.
func TestLoginCancelledWhileQueued(t *testing.T) {
	for _, username := range []string{"alice", "nobody"} {
		t.Run(username, func(t *testing.T) {
			held, gate := make(chan struct{}), make(chan struct{})
			var armed atomic.Bool
			e := newEnv(t, func(c *backend.Config) {
				c.Passwords.MaxConcurrent = 1
				c.Passwords.OnVerify = func() { // holds the hashing slot until the gate opens
					if armed.Load() {
						held <- struct{}{}
						<-gate
					}
				}
			})
			e.createUser(backend.NewUser{Username: "alice"})
			wrong := e.wrongLoginErr()
			count := func() int {
				var n int
				stop := errors.New("stop")
				read := func(f *backend.Failures, _ time.Time) error { n = f.Count; return stop }
				if u, err := e.db.FindUserByUsername(ctx, username); err == nil {
					e.db.UpdateFailures(ctx, u.ID, read)
				} else {
					e.db.UpdateUnknownFailures(ctx, username, read)
				}
				return n
			}
			failures0 := len(e.auditEvents(backend.AuditLoginFailure))
			armed.Store(true)

			// The first login takes the slot and stops in it.
			first := make(chan error, 1)
			go func() { _, err := e.svc.Login(ctx, username, "wrong password 0"); first <- err }()
			<-held
			// The second is charged, waits for the slot, and is cancelled.
			cctx, cancel := context.WithCancel(ctx)
			second := make(chan error, 1)
			go func() { _, err := e.svc.Login(cctx, username, "wrong password 1"); second <- err }()
			for count() < 2 {
				time.Sleep(time.Millisecond)
			}
			cancel()
			if err := <-second; !errors.Is(err, context.Canceled) {
				t.Errorf("the cancelled login: got %v, want context.Canceled", err)
			}
			if n := count(); n != 1 {
				t.Errorf("failure count after the cancelled login: got %d, want 1", n)
			}
			close(gate)
			if err := <-first; !sameError(err, wrong) {
				t.Errorf("the first login: got %v, want %v", err, wrong)
			}
			if n := count(); n != 1 {
				t.Errorf("failure count after both: got %d, want 1", n)
			}
			if got := len(e.auditEvents(backend.AuditLoginFailure)) - failures0; got != 1 {
				t.Errorf("login.failure events: got %d, want 1", got)
			}
		})
	}
}
