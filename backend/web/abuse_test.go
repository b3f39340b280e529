package web

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sqlite"
)

// loopbackIP is the n-th address of 127.0.0.0/8 from 127.<block>.0.2 on: Linux answers on all of
// loopback, so a test can be many clients, each with its own address, without leaving the machine.
func loopbackIP(block byte, n int) net.IP {
	return net.IPv4(127, block, byte(n/250), byte(2+n%250))
}

// peerClient is a client whose connections come from ip; it follows no redirect.
func peerClient(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}
}

// postForm posts a same-origin form with a cookie and returns the status, the body and how long
// the answer took.
func postForm(hc *http.Client, base, path string, form url.Values, cookie *http.Cookie) (int, string, time.Duration, error) {
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	start := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b), time.Since(start), err
}

// TestBruteForceCodesOverHTTP: 2,000 wrong authenticator-app and recovery codes posted to one
// login from 200 client addresses (10 each: within every address's failure limit, so only the
// account's lockout stands in the way), 32 at a time, while the clock runs on: no code is
// accepted, no answer is a 5xx, the lock engages within the lockout's limit, and another
// account logs in from a fresh address meanwhile.
func TestBruteForceCodesOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.user("victim", backend.RoleUser, false)
	e.user("bob", backend.RoleUser, false)
	c := e.client()
	c.signIn("victim")
	key, _ := c.enrollFromProfile()
	c.post("/logout", nil)

	// The attacker knows the password: the login waits for the second factor.
	c.login("victim", testPassword).wantRedirect(t, "/login/verify")
	var attempt *http.Cookie
	u, _ := url.Parse(e.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == e.srv.attemptCk {
			attempt = ck
		}
	}
	if attempt == nil {
		t.Fatal("no login cookie after the password step")
	}
	start := e.clock.Now()
	right := map[string]bool{}
	for d := -2 * time.Minute; d <= 10*time.Minute; d += 30 * time.Second {
		e.clock.Set(start.Add(d))
		right[e.code(key)] = true
	}
	e.clock.Set(start)

	const ips, perIP = 200, 10
	// The clock runs on with the attack, not with the wall clock: every request moves it by a
	// share of 5 minutes, so that however fast or slow the machine, the delays between tries
	// (61 s in all) pass during the attack, and the 15-minute lock does not.
	step := 5 * time.Minute / (ips * perIP)
	var mu sync.Mutex
	statuses := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for i := int(next.Add(1)) - 1; i < ips*perIP; i = int(next.Add(1)) - 1 {
				e.clock.Advance(step)
				hc := peerClient(loopbackIP(1, i/perIP))
				path, code := "/login/verify", ""
				if i%2 == 0 {
					path, code = "/login/recovery", fmt.Sprintf("%04X-%04X-%04X-%04X", r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16))
				} else {
					for code = fmt.Sprintf("%06d", r.IntN(1e6)); right[code]; code = fmt.Sprintf("%06d", r.IntN(1e6)) {
					}
				}
				st, _, _, err := postForm(hc, e.ts.URL, path, url.Values{"code": {code}}, attempt)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				statuses[st]++
				mu.Unlock()
			}
		})
	}
	// Bob logs in meanwhile, from his own address.
	bob := peerClient(loopbackIP(2, 0))
	if st, _, _, err := postForm(bob, e.ts.URL, "/login", url.Values{"username": {"bob"}, "password": {testPassword}}, nil); err != nil || st != http.StatusSeeOther {
		t.Errorf("bob's login during the attack: status %d, %v", st, err)
	}
	wg.Wait()

	for st, n := range statuses {
		if st != http.StatusUnauthorized && st != http.StatusTooManyRequests {
			t.Errorf("%d answers with status %d; want only 401 (wrong code) and 429 (throttled, locked)", n, st)
		}
	}
	count := map[string]int{}
	for _, action := range []string{backend.AuditSecondFactorFailure, backend.AuditAccountLocked, backend.AuditLoginSuccess, backend.AuditLoginThrottled} {
		p, err := e.svc.AuditLog(context.Background(), e.svc.Operator(), backend.AuditFilter{Action: action, Username: "victim"})
		if err != nil {
			t.Fatal(err)
		}
		count[action] = p.Total
	}
	if count[backend.AuditSecondFactorFailure] != 9 || count[backend.AuditAccountLocked] != 1 {
		t.Errorf("victim's audit: %d wrong codes checked, %d locks; want 9 (10 allowed, one spent on the password) and 1", count[backend.AuditSecondFactorFailure], count[backend.AuditAccountLocked])
	}
	if count[backend.AuditLoginSuccess] != 1 { // the enrollment's login only
		t.Errorf("victim signed in %d times, want 1 (before the attack)", count[backend.AuditLoginSuccess])
	}
	t.Logf("%d requests from %d addresses: statuses %v; audit %v", ips*perIP, ips, statuses, count)

	// Locked: the right code is refused as well.
	if st, _, _, _ := postForm(peerClient(loopbackIP(2, 1)), e.ts.URL, "/login/verify", url.Values{"code": {e.code(key)}}, attempt); st != http.StatusTooManyRequests {
		t.Errorf("the right code during the lock: status %d, want 429", st)
	}
}

// TestNoUserEnumeration: a login with an unknown username and one with a known username and a
// wrong password get the same status and page (but for the username typed back), and take the
// same time: over 500 tries each, sent in pairs one right after the other (in turns, which goes
// first) from fresh client addresses with the real argon2id parameters, the median of the paired
// differences is under 5 ms.
func TestNoUserEnumeration(t *testing.T) {
	t.Parallel()                       // 1,000 real argon2id hashes: let the other tests run meanwhile
	const tries, knownUsers = 500, 125 // 4 wrong passwords per user: below the delay (3 free, 1 s after the 4th)
	h := backendtest.New(t, backendtest.WithRealClock(),
		backendtest.WithConfig(func(c *backend.Config) { c.Passwords = backend.PasswordPolicy{} })) // the real argon2id parameters
	db, svc, logger := h.Store.(*sqlite.DB), h.Service, h.Logger
	ctx := context.Background()
	first, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "known000", Password: testPassword, Role: backend.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := db.PasswordHash(ctx, first.ID) // the real parameters; one hash serves all
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < knownUsers; i++ {
		if err := db.CreateUser(ctx, &backend.User{Username: fmt.Sprintf("known%03d", i), Role: backend.RoleUser}, hash); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := NewServer(Config{Service: svc, Logger: logger, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	var known, unknown []time.Duration
	var knownBody, unknownBody string
	var knownStatus, unknownStatus int
	for i := range tries {
		var kd, ud time.Duration
		var kerr, uerr error
		kname, uname := fmt.Sprintf("known%03d", i%knownUsers), fmt.Sprintf("ghost%03d", i%knownUsers)
		tryKnown := func() {
			knownStatus, knownBody, kd, kerr = postForm(peerClient(loopbackIP(3, 2*i)), ts.URL, "/login", url.Values{"username": {kname}, "password": {"wrong password " + kname}}, nil)
			knownBody = strings.ReplaceAll(knownBody, kname, "USERNAME")
		}
		tryUnknown := func() {
			unknownStatus, unknownBody, ud, uerr = postForm(peerClient(loopbackIP(3, 2*i+1)), ts.URL, "/login", url.Values{"username": {uname}, "password": {"wrong password " + uname}}, nil)
			unknownBody = strings.ReplaceAll(unknownBody, uname, "USERNAME")
		}
		// One after the other, not at once: two at once queue for the hashing slots when
		// there are fewer than two (GOMAXPROCS=1), and the path that reaches its hash first
		// wins every time, which is the queue's doing, not the login's.
		if i%2 == 0 {
			tryKnown()
			tryUnknown()
		} else {
			tryUnknown()
			tryKnown()
		}
		if kerr != nil || uerr != nil {
			t.Fatal(kerr, uerr)
		}
		if knownStatus != unknownStatus || knownBody != unknownBody {
			t.Fatalf("try %d: known user got %d, unknown user %d; bodies equal: %v", i, knownStatus, unknownStatus, knownBody == unknownBody)
		}
		if knownStatus != http.StatusUnauthorized {
			t.Fatalf("try %d: status %d, want 401", i, knownStatus)
		}
		known, unknown = append(known, kd), append(unknown, ud)
	}
	diffs := make([]time.Duration, tries)
	for i := range diffs {
		diffs[i] = known[i] - unknown[i]
	}
	mk, mu, md := median(known), median(unknown), median(diffs)
	t.Logf("median: known user, wrong password %v; unknown user %v; difference %v (median of paired differences %v)", mk, mu, mk-mu, md)
	// The two of a pair ran moments apart, so the median of their differences cancels what the
	// machine's load does to both; the difference of the two medians does not, on a busy machine.
	// What is left of the load is noise, and on a busy machine (a slow one, one CPU, the rest of
	// the suite running) it moves the median by more than 5 ms either way: the test fails only
	// when the median is beyond 5 ms with 99.99% confidence. The bounds are order statistics,
	// whatever the distribution: how many differences fall below the true median is
	// binomial(n, 1/2), within 4 standard deviations (sqrt(n)/2 each) of n/2. On a quiet
	// machine they are a fraction of a millisecond apart; a login that skips the hash or the
	// writes for one kind of username moves both far past 5 ms.
	s := slices.Sorted(slices.Values(diffs))
	k := int(4 * math.Sqrt(float64(tries)) / 2)
	lo, hi := s[tries/2-k], s[tries/2+k]
	t.Logf("median of paired differences within %v..%v (99.99%%)", lo, hi)
	if lo >= 5*time.Millisecond || hi <= -5*time.Millisecond {
		t.Errorf("median of paired time differences %v (99.99%% within %v..%v), want under 5ms", md, lo, hi)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
