package backend_test

import (
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
