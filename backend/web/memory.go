package web

import (
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Per-IP rate limit of the login and code endpoints: a burst of loginBurst, then one request
// per loginRate. The per-account lockout is backend's; this one stops a single address from
// spraying guesses across many accounts.
const (
	loginRate     = 2 * time.Second
	loginBurst    = 10
	maxTrackedIPs = 10000
)

// ipLimiter is a token bucket per client IP, in a bounded map.
type ipLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	max   int
	m     map[string]*ipBucket
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(every time.Duration, burst, max int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, max: max, m: make(map[string]*ipBucket)}
}

// allow takes a token from ip's bucket, reporting whether there was one.
func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[ip]
	if b == nil {
		if len(l.m) >= l.max {
			l.prune(now)
		}
		b = &ipBucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.m[ip] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// prune forgets buckets that have refilled (forgetting them changes nothing); if the map is
// still full, under a flood of addresses, it forgets half of them rather than grow.
func (l *ipLimiter) prune(now time.Time) {
	full := l.every * time.Duration(l.burst)
	for ip, b := range l.m {
		if now.Sub(b.seen) > full {
			delete(l.m, ip)
		}
	}
	for ip := range l.m {
		if len(l.m) < l.max/2 {
			break
		}
		delete(l.m, ip)
	}
}

// rateLimited applies the per-IP limit to a handler.
func (s *Server) rateLimited(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.limiter.allow(clientIP(r), s.now()) {
			s.log.Warn("rate limited", "path", logPath(r), "ip", clientIP(r))
			w.Header().Set("Retry-After", "30")
			s.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts",
				"Too many attempts from your network. Wait a minute, then go back and try again.")
			return
		}
		h(w, r)
	})
}

// codeSheets keeps a set of recovery codes, just handed out by backend, until its owner says
// "I have saved these codes" (or codeSheetTTL passes): long enough to show, print and download
// them, never longer. The key is the hash of the browser's session (or login) token, so only
// that browser can see them; they are never in a cookie or a URL, and never on disk.
type codeSheets struct {
	mu sync.Mutex
	m  map[string]codeSheet
}

// codeSheet is what the recovery codes page shows.
type codeSheet struct {
	Username string
	Codes    []string
	Issued   time.Time
	expires  time.Time
}

const codeSheetTTL = 15 * time.Minute

func newCodeSheets() *codeSheets { return &codeSheets{m: make(map[string]codeSheet)} }

func (c *codeSheets) put(key string, sh codeSheet, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	sh.Issued, sh.expires = now, now.Add(codeSheetTTL)
	c.m[key] = sh
}

func (c *codeSheets) get(key string, now time.Time) (codeSheet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sh, ok := c.m[key]
	if !ok || now.After(sh.expires) {
		delete(c.m, key)
		return codeSheet{}, false
	}
	return sh, true
}

func (c *codeSheets) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// setupLink is the one-time link to create the first administrator: one token at a time, valid
// for setupLinkTTL, used up by the account it creates.
type setupLink struct {
	mu      sync.Mutex
	hash    string
	expires time.Time
}

const setupLinkTTL = time.Hour

func (l *setupLink) issue(now time.Time) string {
	token := randomToken()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hash, l.expires = tokenKey(token), now.Add(setupLinkTTL)
	return token
}

// valid reports whether token is the live link.
func (l *setupLink) valid(token string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.validLocked(token, now)
}

func (l *setupLink) validLocked(token string, now time.Time) bool {
	return l.hash != "" && now.Before(l.expires) &&
		subtle.ConstantTimeCompare([]byte(tokenKey(token)), []byte(l.hash)) == 1
}

// use runs create while holding the link, if token is the live link, and uses the link up when
// create reports success. Holding the link serializes submissions: two racing forms cannot both
// create a first administrator. It reports false if the link was not valid.
func (l *setupLink) use(token string, now time.Time, create func() bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.validLocked(token, now) {
		return false
	}
	if create() {
		l.hash = ""
	}
	return true
}

// memo is a small in-memory map whose entries end at a time of their own: the SMS pages keep
// what backend does not keep at all (when a login code was sent), so that a reload shows the
// same page again.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v       V
	expires time.Time
}

// maxMemo bounds a memo: entries are per login attempt, and each ends within
// minutes, so a full memo means a flood, which drops the oldest half rather than grow.
const maxMemo = 10000

func newMemo[K comparable, V any]() *memo[K, V] { return &memo[K, V]{m: make(map[K]memoEntry[V])} }

func (c *memo[K, V]) put(k K, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxMemo {
		for key, e := range c.m {
			if !now.Before(e.expires) || len(c.m) >= maxMemo/2 {
				delete(c.m, key)
			}
		}
	}
	c.m[k] = memoEntry[V]{v: v, expires: expires}
}

func (c *memo[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		delete(c.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *memo[K, V]) drop(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
