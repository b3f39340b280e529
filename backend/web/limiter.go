package web

import (
	"context"
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
//
// Backend's own 429 (a throttled or locked account, a busy System) is given back to that
// bucket, since nothing was checked, but is charged to a second, larger one (refusedBurst,
// then one per refusedEvery: 600 in 10 minutes): without it one address could send a locked
// account's logins without end, each a lookup and a counter write (H1). And an address has
// at most maxInFlight limited requests served at once, the others wait their turn: one
// address's flood cannot fill the System's queue for the password hash (backend.ErrBusy)
// that every other address's logins need.
const (
	failureBurst    = 150
	failureEvery    = 10 * time.Second
	refusedBurst    = 600
	refusedEvery    = time.Second
	maxInFlight     = 4
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
// Every other answer was a refusal, and stays charged. Backend's 429 costs a token of the
// refused bucket instead, taken before h runs too and given back for any other answer.
func (s *Server) limitFailures(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := s.clientAddr(r)
		key := limiterKey(addr)
		now := s.now()
		b, wait := s.limiter.take(key, now)
		var rb *bucket
		if b != nil {
			if rb, wait = s.refused.take(key, now); rb == nil {
				s.limiter.refund(b, now)
				b = nil
			}
		}
		if b == nil {
			s.log.Warn("rate limited", "path", logPath(r), "ip", addr.String())
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts",
				"Too many failed attempts from your network. Wait a minute, then go back and try again.")
			return
		}
		done, err := s.inFlight.enter(r.Context(), key)
		if err != nil { // the client went away while waiting its turn: nothing was checked
			s.limiter.refund(b, s.now())
			s.refused.refund(rb, s.now())
			return
		}
		defer done()
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		st := rec.status
		if st < 400 || st == http.StatusTooManyRequests {
			s.limiter.refund(b, s.now())
		}
		if st != http.StatusTooManyRequests {
			s.refused.refund(rb, s.now())
		}
	})
}

// inFlight bounds the requests of one address served at once (maxInFlight): the others wait,
// in no particular order. Its map holds only the addresses with a request in progress.
type inFlight struct {
	mu  sync.Mutex
	max int
	m   map[string]chan struct{}
	n   map[string]int // requests holding or waiting for a slot of m[key]
}

func newInFlight(max int) *inFlight {
	return &inFlight{max: max, m: make(map[string]chan struct{}), n: make(map[string]int)}
}

// enter waits for a slot of key's, or for ctx to end. done gives the slot back.
func (f *inFlight) enter(ctx context.Context, key string) (done func(), err error) {
	f.mu.Lock()
	slots := f.m[key]
	if slots == nil {
		slots = make(chan struct{}, f.max)
		f.m[key] = slots
	}
	f.n[key]++
	f.mu.Unlock()
	leave := func() {
		f.mu.Lock()
		if f.n[key]--; f.n[key] == 0 {
			delete(f.m, key)
			delete(f.n, key)
		}
		f.mu.Unlock()
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}
