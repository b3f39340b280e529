package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The per-address limit of the login and code endpoints counts failures: wrong passwords,
// unknown names, wrong codes, every refused answer. The per-account lockout is backend's; this
// one stops a single address from spraying guesses across many accounts, while a whole office
// behind one address (a NAT, a proxy that is not trusted) logs in freely: successes cost
// nothing.
//
// Sizing: an address may fail failureBurst times at once, then once per failureEvery (360 an
// hour). 300 people logging in with password and code within 10 minutes, a third of them
// mistyping once or twice (about 120 failures), stay within the 150 + 60 that 10 minutes
// allow; one address guessing across accounts gets 150 tries, then 6 a minute.
const (
	failureBurst    = 150
	failureEvery    = 10 * time.Second
	maxTrackedAddrs = 10000
)

// failureLimiter is a token bucket per client address (limiterKey), in a bounded map. A request
// takes a token before the handler runs, charge before check as backend's lockout does, so that
// parallel requests cannot all be checked on one token; a request whose answer shows nothing
// was guessed gives it back (refund).
//
// golang.org/x/time/rate has no refund, hence this small bucket of its own.
type failureLimiter struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	max   int
	m     map[string]*bucket
	// overflow is the one bucket that new addresses share while the map is full of buckets
	// that still carry information: forgetting one of them (a throttled one above all) would
	// hand its address a fresh burst. Sharing costs the newcomers, never the throttled.
	overflow *bucket
	// nextSweep is when a full map may next be swept: a sweep is a pass over the whole map,
	// and a flood of new addresses must not buy one per request.
	nextSweep time.Time
}

// bucket holds tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newFailureLimiter(burst int, every time.Duration, max int) *failureLimiter {
	return &failureLimiter{
		burst: float64(burst), every: every, max: max,
		m: make(map[string]*bucket), overflow: &bucket{tokens: float64(burst)},
	}
}

// refill brings b's tokens up to now.
func (l *failureLimiter) refill(b *bucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = math.Min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
}

// take takes a token from key's bucket. It returns the bucket, to refund to, or, when there is
// no token, nil and how long until there is one.
func (l *failureLimiter) take(key string, now time.Time) (*bucket, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.max {
			l.sweep(now)
		}
		if len(l.m) < l.max {
			b = &bucket{tokens: l.burst, at: now}
			l.m[key] = b
		} else {
			b = l.overflow
		}
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return nil, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return b, 0
}

// refund gives back a token taken from b.
func (l *failureLimiter) refund(b *bucket, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(b, now)
	b.tokens = math.Min(l.burst, b.tokens+1)
}

// sweep forgets the buckets that have refilled: a full bucket says nothing an absent one does
// not. Buckets with fewer tokens stay, however full the map.
func (l *failureLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	for key, b := range l.m {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.m, key)
		}
	}
	if len(l.m) >= l.max {
		l.nextSweep = now.Add(l.every)
	}
}

// limitFailures applies the per-address failure limit to a handler: a token is taken before h
// runs (none left: 429), and given back when the answer is a success (2xx, 3xx) or backend's own
// 429, which it gives before checking anything (a throttled or locked account, a busy System).
// Every other answer was a refusal, and stays charged.
func (s *Server) limitFailures(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := s.clientAddr(r)
		b, wait := s.limiter.take(limiterKey(addr), s.now())
		if b == nil {
			s.log.Warn("rate limited", "path", logPath(r), "ip", addr.String())
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts",
				"Too many failed attempts from your network. Wait a minute, then go back and try again.")
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if st := rec.status; st < 400 || st == http.StatusTooManyRequests {
			s.limiter.refund(b, s.now())
		}
	})
}
