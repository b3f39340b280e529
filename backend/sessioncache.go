package backend

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The session cache answers session checks from memory: a request with a session this server
// has seen recently costs no store read and no store write (issue 13: "the forward-auth check
// writes nothing"; issue 12: a session check on PostgreSQL as fast as on SQLite).
//
// What it holds. Each session it has checked, by token hash, with a copy of its user as read
// with it (one FindSession on a miss). Only sessions found in the store are kept: a flood of
// random tokens is a flood of misses and grows nothing. At most SessionCacheConfig.Size
// sessions are kept; beyond that an arbitrary one makes room.
//
// Timeouts stay exact. Every hit checks the idle and absolute timeouts and Disabled on the
// cached values, with the last use kept in memory (cachedSession.seen). A session that looks
// idle is read from the store again before it is ended: another server may have seen it
// since. The last uses are written to the store by one TouchSessions every TouchEvery (a
// minute, the precision the store had before, when a check wrote at most once a minute).
//
// Revocation stays exact. Keys of revocation are user IDs, not session hashes: every change
// that ends a session or changes what its user may do (a logout, an expired session ended, an
// administrator's Disable, Two-Factor disabled or reset, a role change, a password set, an
// enrollment, a password confirmed) goes through one of a few store methods (UpdateUser,
// SetPassword, EnableTwoFactor, DeleteUserSessions, DeleteSession, SetSessionReauth: a new
// method that changes a user's row or sessions belongs in that list), and the Service's store
// (revokingStore) adds a RevokeSessions of the user to that method's transaction. "Forget
// every cached session of this user" is what all of them need: the Service does not know the
// hashes of a user's other sessions, and a role or name change concerns all of them. A user's
// other sessions on other servers cost one more read each, after a change that is rare.
//   - On this server, the user's entries are evicted once the transaction has committed and
//     before the Service method returns: the very next check reads the store.
//   - Every server polls SessionRevocationsSince(last ID seen) every Poll (250 ms): one
//     indexed read per server, not per request, and evicts the users it names.
//   - Fail closed: a hit is answered only if a poll that began less than 3 Polls ago (at most
//     900 ms) succeeded. If polls fail (the store is down), the cache is emptied and every
//     check goes to the store, which then fails too: a server that cannot learn of
//     revocations does not answer from what it remembers.
//   - A fill races an eviction: a read begun before a revocation committed could put the old
//     session back after the eviction. Every eviction bumps a generation; a fill is kept only
//     if no eviction happened since its read began.
//
// The cache runs only between Service.StartSessionCache and its stop (web.Run runs it).
// Without it, Authenticate reads the store on every check and touches the session once a
// minute, as before: the desktop console and the command line, which check a session now and
// then, need no background loop. Their changes still write revocations, so the servers on the
// same store learn of a Disable made in the console or by `gatehouse user` within a second.

// SessionCacheConfig sizes the session cache (Config.SessionCache). Zero values take the
// defaults.
type SessionCacheConfig struct {
	Size       int           // sessions kept at most; default 100,000 (some 60 MB)
	Poll       time.Duration // how often revocations are read; default 250 ms
	TouchEvery time.Duration // how often last uses are written; default 1 min
}

const (
	defaultCacheSize = 100_000
	// maxStale bounds how old the last successful poll may be for a hit: a revocation
	// committed on another server is honoured here within it (issue 13: within 1 s).
	maxStale = 900 * time.Millisecond
	// pollPage is how many revocations one read returns; a poll reads pages until one is short.
	pollPage = 1000
	// revocationKeep is how long revocations are kept (PurgeExpired): a server reads them
	// within a second, and one that could not is emptied anyway.
	revocationKeep = time.Hour
)

// sessionCache is the Service's cache of sessions; see above.
type sessionCache struct {
	size       int
	poll       time.Duration
	touchEvery time.Duration
	stale      time.Duration // a hit needs a poll begun less than this ago
	base       time.Time     // the reference of mono: monotonic

	running      atomic.Bool
	trustedUntil atomic.Int64 // mono time until which hits may be answered; 0: none

	mu      sync.RWMutex
	entries map[string]*cachedSession
	byUser  map[int64][]string   // token hashes of each user's entries
	pending map[string]time.Time // last uses of sessions evicted before they were written
	gen     uint64               // bumped by every eviction (see fills)

	lastID  int64 // the last revocation seen; the poll loop's alone
	cleared bool  // a poll failed: empty the cache again at the next success; the poll loop's alone
}

// cachedSession is one session and its user as read from the store, and its last use.
type cachedSession struct {
	session Session
	user    User
	seen    atomic.Int64 // Unix ns of the last use, by the Service's clock
	written atomic.Int64 // seen as last in the store
}

func newSessionCache(cfg SessionCacheConfig) *sessionCache {
	c := &sessionCache{
		size:       cfg.Size,
		poll:       orDefault(cfg.Poll, 250*time.Millisecond),
		touchEvery: orDefault(cfg.TouchEvery, time.Minute),
		base:       time.Now(),
		entries:    map[string]*cachedSession{},
		byUser:     map[int64][]string{},
		pending:    map[string]time.Time{},
	}
	if c.size <= 0 {
		c.size = defaultCacheSize
	}
	c.stale = min(3*c.poll, maxStale)
	return c
}

// mono is the time since the cache was made, on the monotonic clock: whether a poll is recent
// does not depend on the wall clock (or a test's fake one).
func (c *sessionCache) mono() int64 { return int64(time.Since(c.base)) }

// active reports whether the cache runs (StartSessionCache): whether Authenticate fills the cache and
// leaves last uses to it.
func (c *sessionCache) active() bool { return c.running.Load() }

// lookup returns the cached session with the hash if a hit may be answered from it.
func (c *sessionCache) lookup(hash string) *cachedSession {
	if !c.active() || c.mono() >= c.trustedUntil.Load() {
		return nil
	}
	c.mu.RLock()
	e := c.entries[hash]
	c.mu.RUnlock()
	return e
}

// generation is the eviction count, read before a fill's store read.
func (c *sessionCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// lastUse is this server's last use of the session not yet known to be in the store, if any.
func (c *sessionCache) lastUse(hash string) time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var t time.Time
	if e := c.entries[hash]; e != nil {
		t = time.Unix(0, e.seen.Load())
	}
	if p, ok := c.pending[hash]; ok && p.After(t) {
		t = p
	}
	return t
}

// put keeps s and u, used at now, unless an eviction happened since gen was read.
func (c *sessionCache) put(gen uint64, s *Session, u *User, now time.Time) {
	e := &cachedSession{session: *s, user: *u}
	e.seen.Store(now.UnixNano())
	e.written.Store(s.LastSeenAt.UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if old := c.entries[s.TokenHash]; old != nil {
		if seen := old.seen.Load(); seen > e.seen.Load() {
			e.seen.Store(seen)
		}
		c.removeLocked(s.TokenHash)
	}
	for len(c.entries) >= c.size {
		for h := range c.entries { // an arbitrary one: map order is random
			c.removeLocked(h)
			break
		}
	}
	c.entries[s.TokenHash] = e
	c.byUser[u.ID] = append(c.byUser[u.ID], s.TokenHash)
}

// removeLocked drops one entry, keeping its last use if it is not written yet (while there is
// room: a use lost only makes the session look idle a little earlier to other servers).
func (c *sessionCache) removeLocked(hash string) {
	e := c.entries[hash]
	if e == nil {
		return
	}
	delete(c.entries, hash)
	if seen := e.seen.Load(); seen > e.written.Load() && len(c.pending) < c.size {
		c.pending[hash] = time.Unix(0, seen)
	}
	hs := c.byUser[e.user.ID]
	for i, h := range hs {
		if h == hash {
			hs = append(hs[:i], hs[i+1:]...)
			break
		}
	}
	if len(hs) == 0 {
		delete(c.byUser, e.user.ID)
	} else {
		c.byUser[e.user.ID] = hs
	}
}

// evict forgets every cached session of the users.
func (c *sessionCache) evict(userIDs ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range userIDs {
		for _, h := range append([]string(nil), c.byUser[id]...) {
			c.removeLocked(h)
		}
	}
}

// clear forgets every cached session.
func (c *sessionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h := range c.entries {
		c.removeLocked(h)
	}
}

// len is the number of cached sessions.
func (c *sessionCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// pollOnce reads the revocations since the last one seen and evicts their users; on success
// hits may be answered for stale more.
func (c *sessionCache) pollOnce(ctx context.Context, st Store) error {
	start := c.mono()
	for {
		revs, err := st.SessionRevocationsSince(ctx, c.lastID, pollPage)
		if err != nil {
			// Fail closed: what this server holds may have been revoked since.
			c.trustedUntil.Store(0)
			c.clear()
			c.cleared = true
			return err
		}
		if len(revs) > 0 {
			users := make([]int64, len(revs))
			for i, r := range revs {
				users[i] = r.UserID
			}
			c.evict(users...)
			c.lastID = revs[len(revs)-1].ID
		}
		if len(revs) < pollPage {
			break
		}
	}
	if c.cleared {
		// Sessions read while polls failed: a revocation may have been pruned unseen.
		c.clear()
		c.cleared = false
	}
	c.trustedUntil.Store(start + int64(c.stale))
	return nil
}

// flush writes the last uses not in the store yet, in one TouchSessions.
func (c *sessionCache) flush(ctx context.Context, st Store) error {
	seen := map[string]time.Time{}
	written := map[*cachedSession]int64{}
	c.mu.Lock()
	for h, t := range c.pending {
		seen[h] = t
	}
	pending := c.pending
	c.pending = map[string]time.Time{}
	for h, e := range c.entries {
		if s := e.seen.Load(); s > e.written.Load() {
			if t := time.Unix(0, s); t.After(seen[h]) {
				seen[h] = t
			}
			written[e] = s
		}
	}
	c.mu.Unlock()
	if err := st.TouchSessions(ctx, seen); err != nil {
		c.mu.Lock()
		for h, t := range pending {
			if len(c.pending) < c.size {
				c.pending[h] = t
			}
		}
		c.mu.Unlock()
		return err
	}
	for e, s := range written {
		e.written.Store(s)
	}
	return nil
}

// StartSessionCache starts the session cache: it reads the revocations once, then polls them
// every Poll and writes the sessions' last uses every TouchEvery, until stop is called, which
// writes them once more and returns when it is done. The web server runs it for as long as it
// serves; while it runs, Authenticate answers from the cache. One cache runs per Service: a
// second Start while one runs starts nothing (its stop does nothing).
func (s *Service) StartSessionCache() (stop func()) {
	c := s.sessions
	if !c.running.CompareAndSwap(false, true) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	if err := c.pollOnce(pctx, s.store); err != nil {
		s.log.Error("session cache: cannot read revocations; checking every session in the store until it can", "err", err)
	}
	pcancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runSessionCache(ctx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// runSessionCache is the session cache's loops, until ctx ends.
func (s *Service) runSessionCache(ctx context.Context) {
	c := s.sessions
	var wg sync.WaitGroup
	wg.Go(func() { s.pollRevocations(ctx) })
	// Writing last uses has its own loop: a long batch must not delay the polls (and so make
	// every check go to the store for its duration).
	wg.Go(func() {
		t := time.NewTicker(c.touchEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			fctx, cancel := context.WithTimeout(ctx, c.touchEvery)
			if err := c.flush(fctx, s.store); err != nil && ctx.Err() == nil {
				s.log.Error("session cache: write last uses", "err", err)
			}
			cancel()
		}
	})
	<-ctx.Done()
	c.running.Store(false)
	c.trustedUntil.Store(0)
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.flush(fctx, s.store); err != nil {
		s.log.Error("session cache: write last uses", "err", err)
	}
	c.clear()
}

// pollRevocations polls every Poll until ctx ends. A poll that takes longer than a few
// intervals is given up (the cache distrusts itself meanwhile): the loop goes on once the
// store answers again.
func (s *Service) pollRevocations(ctx context.Context) {
	c := s.sessions
	t := time.NewTicker(c.poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, max(4*c.poll, 2*time.Second))
		err := c.pollOnce(pctx, s.store)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !failing {
				s.log.Error("session cache: cannot read revocations; checking every session in the store until it can", "err", err)
			}
			failing = true
		} else if failing {
			s.log.Info("session cache: reading revocations again")
			failing = false
		}
	}
}

// fromCache answers a check from a cached session used at now, or returns nil when the store
// must decide: the session looks idle or too old (the store may know of a later use on
// another server, and ends it otherwise), or its user is disabled.
func (s *Service) fromCache(e *cachedSession, now time.Time) *Identity {
	seen := time.Unix(0, e.seen.Load())
	if s.sessionOver(&e.session, &e.user, seen, now) {
		return nil
	}
	for {
		old := e.seen.Load()
		if now.UnixNano() <= old || e.seen.CompareAndSwap(old, now.UnixNano()) {
			break
		}
	}
	sess, u := e.session, e.user // copies: the caller may change its own
	sess.LastSeenAt = now
	return &Identity{User: &u, session: &sess}
}

// revokingStore is the Store the Service works on: the methods that end a user's sessions or
// change what a session may do also record a RevokeSessions of the user in their transaction,
// and once it has committed (or failed) evict the user from this server's cache.
type revokingStore struct {
	Store
	cache *sessionCache
}

// evictions collects the users to evict once the outermost Atomically returns.
type evictions struct{ users []int64 }

type evictionsKey struct{}

// Atomically runs fn in the store's transaction and then evicts the users fn's changes
// revoked. Evicting after the commit, not before, is what keeps a concurrent check from
// putting the old session back (and fills check the generation for the same reason).
func (r *revokingStore) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(evictionsKey{}).(*evictions); ok {
		return r.Store.Atomically(ctx, fn)
	}
	ev := &evictions{}
	err := r.Store.Atomically(context.WithValue(ctx, evictionsKey{}, ev), fn)
	r.cache.evict(ev.users...)
	return err
}

// revoking runs change in a transaction with the revocation of the user it returns (0: none).
// When the change ends sessions (ends), the same transaction also owes their applications a
// back-channel logout (Store.QueueLogoutDeliveries; backend/logout_delivery.go).
func (r *revokingStore) revoking(ctx context.Context, ends bool, change func(ctx context.Context) (int64, error)) error {
	return r.Atomically(ctx, func(ctx context.Context) error {
		userID, err := change(ctx)
		if err != nil || userID == 0 {
			return err
		}
		if ends {
			if _, err := r.Store.QueueLogoutDeliveries(ctx, userID); err != nil {
				return err
			}
		}
		ev := ctx.Value(evictionsKey{}).(*evictions)
		ev.users = append(ev.users, userID)
		return r.Store.RevokeSessions(ctx, userID)
	})
}

// sessionUser is the user of the session with the hash; 0 if there is no such session.
func (r *revokingStore) sessionUser(ctx context.Context, hash string) (int64, error) {
	sess, _, err := r.Store.FindSession(ctx, hash)
	if ErrorCode(err) == ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return sess.UserID, nil
}

func (r *revokingStore) UpdateUser(ctx context.Context, id int64, upd UserUpdate) (u *User, err error) {
	err = r.revoking(ctx, upd.EndSessions, func(ctx context.Context) (int64, error) {
		u, err = r.Store.UpdateUser(ctx, id, upd)
		return id, err
	})
	return u, err
}

func (r *revokingStore) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error {
	return r.revoking(ctx, endSessionsExcept != nil, func(ctx context.Context) (int64, error) {
		return userID, r.Store.SetPassword(ctx, userID, hash, mustChange, endSessionsExcept)
	})
}

func (r *revokingStore) EnableTwoFactor(ctx context.Context, userID int64, e Enrollment, codes []RecoveryCode) error {
	return r.revoking(ctx, false, func(ctx context.Context) (int64, error) {
		return userID, r.Store.EnableTwoFactor(ctx, userID, e, codes)
	})
}

func (r *revokingStore) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	return r.revoking(ctx, true, func(ctx context.Context) (int64, error) {
		return userID, r.Store.DeleteUserSessions(ctx, userID, except)
	})
}

func (r *revokingStore) DeleteSession(ctx context.Context, tokenHash string) error {
	return r.revoking(ctx, true, func(ctx context.Context) (int64, error) {
		userID, err := r.sessionUser(ctx, tokenHash)
		if err != nil || userID == 0 {
			return 0, err
		}
		return userID, r.Store.DeleteSession(ctx, tokenHash)
	})
}

func (r *revokingStore) SetSessionReauth(ctx context.Context, tokenHash string) error {
	return r.revoking(ctx, false, func(ctx context.Context) (int64, error) {
		userID, err := r.sessionUser(ctx, tokenHash)
		if err != nil {
			return 0, err
		}
		if err := r.Store.SetSessionReauth(ctx, tokenHash); err != nil {
			return 0, err
		}
		return userID, nil
	})
}
