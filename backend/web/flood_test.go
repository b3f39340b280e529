package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestLockedAccountFlood pins H1: bob is locked, then one address floods POST /login for bob,
// 90 at a time. Alice, from another address, logs in with her password during the flood; the
// flood writes a bounded number of login.throttled rows (the clock stands still: one minute),
// and past refusedBurst of backend's 429s the address is refused before backend is asked.
func TestLockedAccountFlood(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	e.user("bob", backend.RoleUser, false)
	locker := e.clientFrom(loopbackIP(7, 0))
	for range 10 {
		locker.login("bob", "wrong password").wantStatus(t, http.StatusUnauthorized)
		e.clock.Advance(time.Minute) // past each failure's wait
	}

	const flood = refusedBurst + 150
	var sent, limited, other atomic.Int64
	var wg sync.WaitGroup
	for range 90 {
		wg.Go(func() {
			hc := peerClient(loopbackIP(7, 1))
			for sent.Add(1) <= flood {
				st, body, _, err := postForm(hc, e.ts.URL, "/login", url.Values{"username": {"bob"}, "password": {"wrong password"}}, nil)
				switch {
				case err != nil:
					t.Error(err)
					return
				case st == http.StatusTooManyRequests && strings.Contains(body, "from your network"):
					limited.Add(1)
				case st != http.StatusTooManyRequests || !strings.Contains(body, "try again after"):
					other.Add(1)
				}
			}
		})
	}
	for sent.Load() < 200 { // the flood is under way
		time.Sleep(time.Millisecond)
	}
	alice := e.clientFrom(loopbackIP(7, 2))
	r := alice.login("alice", testPassword)
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("alice's login during the flood: got %d, want 303:\n%s", r.StatusCode, excerpt(r.body))
	}
	wg.Wait()
	if n := other.Load(); n > 0 {
		t.Errorf("%d answers to the flood were neither the lock's 429 nor the limiter's", n)
	}
	if got, want := limited.Load(), int64(flood-refusedBurst); got != want {
		t.Errorf("the limiter refused %d of %d, want %d (the rest of backend's 429s)", got, flood, want)
	}
	if n := e.auditCount(backend.AuditLoginThrottled); n < 1 || n > 3 {
		t.Errorf("got %d login.throttled rows for a flood within a minute, want 1 (or a few that raced)", n)
	}
}

// TestAnonymousLogoutWritesNothing pins M1: POST /logout and /login/cancel from a browser that
// has no session or login (or made-up cookies) store no flash, and still say "You have logged
// out."; a real logout says it too.
func TestAnonymousLogoutWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	before := e.h.CountRows("flashes")
	for i := range 20 {
		for _, path := range []string{"/logout", "/login/cancel"} {
			c := e.client()
			if i%2 == 1 {
				u, _ := url.Parse(e.ts.URL)
				c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_session", Value: "made-up"}, {Name: "gatehouse_login", Value: "made-up"}})
			}
			r := c.post(path, nil)
			r.wantRedirect(t, "/login")
			if i == 0 {
				c.follow(r).wantBody(t, backend.LoggedOutNotice)
			}
		}
	}
	if got := e.h.CountRows("flashes") - before; got != 0 {
		t.Errorf("40 logouts of nobody stored %d flashes, want 0", got)
	}
	c := e.client()
	c.signIn("alice")
	c.follow(c.post("/logout", nil)).wantBody(t, backend.LoggedOutNotice)
	if r := c.get("/profile"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the profile after logging out: got %d, want a redirect to the login page", r.StatusCode)
	}
}
