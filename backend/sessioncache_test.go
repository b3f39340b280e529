package backend_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// callStore's state (its methods are in callstore_test.go).
type callStore struct {
	backend.Store
	mu      sync.Mutex
	calls   map[string]int
	failing atomic.Bool
	stalled atomic.Bool // SessionRevocationsSince hangs (a poll that never returns) while set
}

func (c *callStore) count(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[method]++
}

var errStoreDown = errors.New("store down (test)")

func (c *callStore) down(method string) error {
	for method == "SessionRevocationsSince" && c.stalled.Load() {
		time.Sleep(time.Millisecond)
	}
	if c.failing.Load() {
		return errStoreDown
	}
	return nil
}

// take returns the calls counted since the last take.
func (c *callStore) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.calls
	c.calls = nil
	return m
}

// cacheEnv is newEnv with the store counting every call (callStore), the session cache
// configured by cache and running until the test ends.
// opts are backendtest's (WithStore).
func cacheEnv(t *testing.T, cache backend.SessionCacheConfig, opts ...backendtest.Option) (*env, *callStore) {
	t.Helper()
	var cs *callStore
	e := newEnvWith(t, opts, func(c *backend.Config) {
		cs = &callStore{Store: c.Store}
		c.Store = cs
		c.SessionCache = cache
	})
	runCache(t, e.svc)
	return e, cs
}

// runCache runs svc's session cache until the test ends.
func runCache(t *testing.T, svc *backend.Service) {
	t.Helper()
	t.Cleanup(svc.StartSessionCache())
	if !backend.SessionCacheTrusted(svc) {
		t.Fatal("the session cache is not in use after its start")
	}
}

// waitFor polls cond every 5 ms until it holds, and fails the test after limit. It returns
// how long it took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func TestSessionCacheHitAsksNothingOfTheStore(t *testing.T) {
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		e, cs := cacheEnv(t, backend.SessionCacheConfig{Poll: 50 * time.Millisecond, TouchEvery: time.Hour}, backendtest.WithStore(kind))
		e.createUser(backend.NewUser{Username: "alice"})
		loginAt := e.clock.Now()
		st := e.login("alice", goodPassword, backend.StepDone)
		if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil { // the miss that fills
			t.Fatal(err)
		}
		cs.take()
		start := time.Now()
		for i := range 1000 {
			e.clock.Advance(time.Second)
			id, err := e.svc.Authenticate(ctx, st.SessionToken)
			if err != nil || id.User.Username != "alice" || !id.SignedIn() {
				t.Fatalf("check %d: got %+v, %v; want alice signed in", i, id, err)
			}
		}
		elapsed := time.Since(start)
		calls := cs.take()
		polls := calls["SessionRevocationsSince"]
		delete(calls, "SessionRevocationsSince")
		if len(calls) != 0 {
			t.Fatalf("1000 session checks from the cache called the store: %v; want no call", calls)
		}
		if limit := int(elapsed/(50*time.Millisecond)) + 2; polls > limit {
			t.Fatalf("%d revocation polls in %v at one per 50 ms: want at most %d (per interval, not per check)", polls, elapsed, limit)
		}
		// The last use is in memory only, until the cache writes it (at the latest when it stops).
		s, _, err := e.db.FindSession(ctx, backendHash(st.SessionToken))
		if err != nil || !s.LastSeenAt.Equal(loginAt) {
			t.Fatalf("stored last use after cached checks: %+v, %v; want the login's, %v", s, err, loginAt)
		}
	})
}

func TestSessionCacheRevokedHereRefusedNext(t *testing.T) {
	disabled, admin := true, backend.RoleAdmin
	changes := []struct {
		name   string
		change func(e *env, id *backend.Identity) error
		check  func(t *testing.T, id *backend.Identity, err error)
	}{
		{"logout", func(e *env, id *backend.Identity) error { return e.svc.Logout(ctx, id) }, refused},
		{"disable", func(e *env, id *backend.Identity) error {
			_, err := e.svc.UpdateUser(ctx, e.admin, id.User.ID, backend.UserChanges{Disabled: &disabled})
			return err
		}, refused},
		{"require two-factor", func(e *env, id *backend.Identity) error {
			_, err := e.svc.RequireTwoFactor(ctx, e.admin, id.User.ID)
			return err
		}, refused},
		{"password set by an administrator", func(e *env, id *backend.Identity) error {
			return e.svc.SetUserPassword(ctx, e.admin, id.User.ID, "another good passphrase 1", false)
		}, refused},
		{"made an administrator", func(e *env, id *backend.Identity) error {
			_, err := e.svc.UpdateUser(ctx, e.admin, id.User.ID, backend.UserChanges{Role: &admin})
			return err
		}, func(t *testing.T, id *backend.Identity, err error) {
			if err != nil || !id.IsAdmin() {
				t.Fatalf("next check after the role change: got %+v, %v; want an administrator", id, err)
			}
		}},
	}
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		for _, c := range changes {
			t.Run(c.name, func(t *testing.T) {
				// A poll interval far longer than the test: only the eviction on this server can act.
				e, cs := cacheEnv(t, backend.SessionCacheConfig{Poll: time.Hour}, backendtest.WithStore(kind))
				e.createUser(backend.NewUser{Username: "alice"})
				st := e.login("alice", goodPassword, backend.StepDone)
				id, err := e.svc.Authenticate(ctx, st.SessionToken)
				if err != nil {
					t.Fatal(err)
				}
				cs.take()
				if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil || len(cs.take()) != 0 {
					t.Fatalf("second check: %v, or not from the cache", err)
				}
				if err := c.change(e, id); err != nil {
					t.Fatal(err)
				}
				id, err = e.svc.Authenticate(ctx, st.SessionToken)
				c.check(t, id, err)
			})
		}
	})
}

func refused(t *testing.T, id *backend.Identity, err error) {
	t.Helper()
	if backend.ErrorCode(err) != backend.EUNAUTHORIZED {
		t.Fatalf("next check after the change: got %+v, %v; want the session ended", id, err)
	}
}

func TestSessionCacheOtherServerWithinASecond(t *testing.T) {
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		e, _ := cacheEnv(t, backend.SessionCacheConfig{}, backendtest.WithStore(kind))
		b := e.h.Reopen() // a second server on the same database, default poll (250 ms)
		runCache(t, b)
		disabled := true
		for _, c := range []struct {
			name   string
			change func(id *backend.Identity) error
		}{
			{"logout on A", func(id *backend.Identity) error { return e.svc.Logout(ctx, id) }},
			{"disable on A", func(id *backend.Identity) error {
				_, err := e.svc.UpdateUser(ctx, e.admin, id.User.ID, backend.UserChanges{Disabled: &disabled})
				return err
			}},
		} {
			name := "u" + c.name[:1]
			e.createUser(backend.NewUser{Username: name})
			st := e.login(name, goodPassword, backend.StepDone)
			id := backendtest.Authenticate(t, e.svc, st.SessionToken)
			backendtest.Authenticate(t, b, st.SessionToken) // B has it cached
			if n := backend.CachedSessions(b); n == 0 {
				t.Fatalf("%s: B caches no session", c.name)
			}
			if err := c.change(id); err != nil {
				t.Fatal(err)
			}
			took := waitFor(t, time.Second, c.name+": refused on B", func() bool {
				_, err := b.Authenticate(ctx, st.SessionToken)
				return backend.ErrorCode(err) == backend.EUNAUTHORIZED
			})
			t.Logf("%s: refused on B after %v", c.name, took)
		}
	})
}

func TestSessionCacheIdleTimeoutExact(t *testing.T) {
	e, cs := cacheEnv(t, backend.SessionCacheConfig{TouchEvery: time.Hour})
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	for i := range 4 {
		e.clock.Advance(29 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil {
			t.Fatalf("use %d, 29 min after the last: got %v, want the session", i+1, err)
		}
	}
	if calls := cs.take(); calls["TouchSession"]+calls["TouchSessions"] != 0 {
		t.Fatalf("checks wrote last uses: %v; want them kept in memory", calls)
	}
	e.clock.Advance(30*time.Minute + time.Second)
	_, err := e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "30 min 1 s after the last use", err, backend.EUNAUTHORIZED)
	e.clock.Advance(-10 * time.Minute)
	_, err = e.svc.Authenticate(ctx, st.SessionToken)
	wantCode(t, "after it ended, with the clock turned back", err, backend.EUNAUTHORIZED)
}

func TestSessionCacheLastUsesWritten(t *testing.T) {
	e, cs := cacheEnv(t, backend.SessionCacheConfig{TouchEvery: 50 * time.Millisecond})
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	e.clock.Advance(20 * time.Minute)
	backendtest.Authenticate(t, e.svc, st.SessionToken)
	want := e.clock.Now()
	waitFor(t, 2*time.Second, "the last use written", func() bool {
		s, _, err := e.db.FindSession(ctx, backendHash(st.SessionToken))
		return err == nil && !s.LastSeenAt.Before(want)
	})
	if calls := cs.take(); calls["TouchSession"] != 0 {
		t.Fatalf("TouchSession called %d times; want only batched TouchSessions", calls["TouchSession"])
	}
}

func TestSessionCacheUnknownTokensGrowNothing(t *testing.T) {
	e, _ := cacheEnv(t, backend.SessionCacheConfig{Size: 3})
	for range 5000 {
		b := make([]byte, 32)
		rand.Read(b)
		if _, err := e.svc.Authenticate(ctx, base64.RawURLEncoding.EncodeToString(b)); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Fatalf("random token: got %v, want EUNAUTHORIZED", err)
		}
	}
	if n := backend.CachedSessions(e.svc); n != 0 {
		t.Fatalf("after 5000 unknown tokens the cache holds %d sessions; want 0", n)
	}
	// Real sessions beyond the size evict others, and every one still checks right.
	var tokens []string
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		e.createUser(backend.NewUser{Username: name})
		tokens = append(tokens, e.login(name, goodPassword, backend.StepDone).SessionToken)
	}
	for range 3 {
		for _, tok := range tokens {
			backendtest.Authenticate(t, e.svc, tok)
		}
	}
	if n := backend.CachedSessions(e.svc); n > 3 {
		t.Fatalf("cache of size 3 holds %d sessions", n)
	}
}

func TestSessionCacheFailsClosed(t *testing.T) {
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		for _, stall := range []bool{false, true} {
			name := map[bool]string{false: "polls fail", true: "a poll hangs"}[stall]
			t.Run(name, func(t *testing.T) {
				e, cs := cacheEnv(t, backend.SessionCacheConfig{}, backendtest.WithStore(kind))
				t.Cleanup(func() { cs.stalled.Store(false) }) // before the cache stops
				e.createUser(backend.NewUser{Username: "alice"})
				st := e.login("alice", goodPassword, backend.StepDone)
				backendtest.Authenticate(t, e.svc, st.SessionToken)
				cs.stalled.Store(stall)
				cs.failing.Store(true)
				// The store is down: the server cannot learn of revocations, and must stop
				// answering from memory within the second it promises.
				took := waitFor(t, time.Second, "checks refused with the store down", func() bool {
					_, err := e.svc.Authenticate(ctx, st.SessionToken)
					return err != nil
				})
				t.Logf("refused %v after the store went down", took)
				for range 20 {
					if id, err := e.svc.Authenticate(ctx, st.SessionToken); err == nil {
						t.Fatalf("check with the store down: got %+v; want an error", id)
					} else if backend.ErrorCode(err) != backend.EINTERNAL {
						t.Fatalf("check with the store down: got %v; want EINTERNAL (unavailable), not a verdict", err)
					}
					time.Sleep(20 * time.Millisecond)
				}
				cs.stalled.Store(false)
				cs.failing.Store(false)
				waitFor(t, 2*time.Second, "checks answered again", func() bool {
					_, err := e.svc.Authenticate(ctx, st.SessionToken)
					return err == nil
				})
			})
		}
	})
}

// backendHash is the store key of a session token (hex SHA-256, as the Service's hashToken).
func backendHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TestSessionCacheIdleSeenElsewhere: a session B cached long ago but used on A since is not
// ended by B as idle: B reads the store's last use (A's, written in A's batch) before it
// decides.
func TestSessionCacheIdleSeenElsewhere(t *testing.T) {
	e, _ := cacheEnv(t, backend.SessionCacheConfig{TouchEvery: 20 * time.Millisecond})
	b := e.h.Reopen()
	runCache(t, b)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	backendtest.Authenticate(t, b, st.SessionToken)
	for range 3 {
		e.clock.Advance(20 * time.Minute)
		backendtest.Authenticate(t, e.svc, st.SessionToken)
		now := e.clock.Now()
		waitFor(t, 2*time.Second, "A's last use written", func() bool {
			s, _, err := e.db.FindSession(ctx, backendHash(st.SessionToken))
			return err == nil && !s.LastSeenAt.Before(now)
		})
	}
	// 60 minutes after B's last sight of it, 0 after A's.
	if _, err := b.Authenticate(ctx, st.SessionToken); err != nil {
		t.Fatalf("B, an hour after it last saw the session, which A saw just now: %v; want the session", err)
	}
}
