package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestLoginBusy: a password login refused because the hashing queue is full (backend.ErrBusy)
// is a 429 with Retry-After and the login page saying so, at once, while the logins admitted
// before it are still waiting.
func TestLoginBusy(t *testing.T) {
	gate := make(chan struct{})
	var armed atomic.Bool
	var hashing atomic.Int32
	h := backendtest.New(t, backendtest.WithAdmin("admin", "admin passphrase for tests"), backendtest.WithConfig(func(c *backend.Config) {
		c.Passwords.MaxConcurrent, c.Passwords.MaxWaiting = 1, 1
		c.Passwords.OnVerify = func() { // holds the hashing slot until the gate opens
			if armed.Load() {
				hashing.Add(1)
				<-gate
			}
		}
	}))
	svc := h.Service
	srv, err := NewServer(Config{Service: svc, Logger: h.Logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	armed.Store(true)

	type answer struct {
		status int
		retry  string
		body   string
	}
	post := func() answer {
		res, err := http.PostForm(ts.URL+"/login", url.Values{"username": {"admin"}, "password": {"wrong password"}})
		if err != nil {
			t.Error(err)
			return answer{}
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, res.Header.Get("Retry-After"), string(b)}
	}
	var wg sync.WaitGroup
	wg.Go(func() { post() }) // takes the slot and stops in it
	for hashing.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	answers := make(chan answer, 2)
	for range 2 { // one waits for the slot, one is refused
		wg.Go(func() { answers <- post() })
	}
	got := <-answers
	if got.status != http.StatusTooManyRequests || got.retry != busyRetryAfter || !strings.Contains(got.body, "The System is busy; try again in a moment.") {
		t.Errorf("the answer while the queue is full: status %d, Retry-After %q; want 429, %q and the busy message in the page", got.status, got.retry, busyRetryAfter)
	}
	close(gate)
	wg.Wait()
	if got := <-answers; got.status != http.StatusUnauthorized || got.retry != "" {
		t.Errorf("the login that waited: status %d, Retry-After %q; want 401 and none", got.status, got.retry)
	}
}
