package backend

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// LockoutPolicy throttles guessing. One counter per account covers the password and every second
// factor, so an attacker cannot spread guesses across them.
type LockoutPolicy struct {
	FreeFailures int           // failures allowed before any delay; default 3
	BaseDelay    time.Duration // delay after the first failure past FreeFailures, doubling each time; default 1 s
	MaxDelay     time.Duration // the delay grows no further; default 30 s
	MaxFailures  int           // consecutive failures that lock the account; default 10
	LockFor      time.Duration // how long a lock lasts; default 15 min
	MaxLockFor   time.Duration // the longest a lock doubled by second-factor failures lasts; default 24 h
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.FreeFailures <= 0 {
		p.FreeFailures = 3
	}
	p.BaseDelay = orDefault(p.BaseDelay, time.Second)
	p.MaxDelay = orDefault(p.MaxDelay, 30*time.Second)
	if p.MaxFailures <= 0 {
		p.MaxFailures = 10
	}
	p.LockFor = orDefault(p.LockFor, 15*time.Minute)
	p.MaxLockFor = max(orDefault(p.MaxLockFor, 24*time.Hour), p.LockFor)
	return p
}

// lockFor is how long the lock that f's count has just reached lasts. A count with a
// second-factor failure in it was run up by someone who has the password: were every such lock
// LockFor, the next count would start afresh when it ran out, and a code guesser would get
// MaxFailures guesses every LockFor for ever (about 37 an hour: a six-digit code falls within a
// year more often than not; security review M2). So each lock such a count reaches in a row,
// with no success between, doubles, up to MaxLockFor: with the defaults a year then holds
// about 3,300 guesses (9 a day), not 320,000.
// A count of wrong passwords alone is anyone's to run up, knowing only the name: its lock stays
// LockFor, so a stranger can lock nobody out for longer than that, and does not end the streak
// either (else a few wrong passwords would buy the guesser a short lock again).
func (p LockoutPolicy) lockFor(f *Failures) time.Duration {
	if !f.SecondFactor {
		return p.LockFor
	}
	d := p.LockFor
	for i := 0; i < f.Streak && d < p.MaxLockFor; i++ {
		d *= 2
	}
	return min(d, p.MaxLockFor)
}

// lockLength is a lock's length in the audit log's words: "15 minutes", "2 hours".
func lockLength(d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// delay is the wait imposed after count consecutive failures.
func (p LockoutPolicy) delay(count int) time.Duration {
	if count <= p.FreeFailures {
		return 0
	}
	d := p.BaseDelay
	for i := p.FreeFailures + 1; i < count && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// locked is chargeAttempt's answer while the account is locked until until, at every step (the
// password, a second factor, a password confirmation): the person who has the right password
// learns why it is not taken, when to come back, and who can help. It reveals nothing at the
// password step: a name that is no account's is counted and locked exactly as an account is
// (unknownCounter), after the same number of failures, for as long, so it gets the same answer
// at the same time.
//
// The time is the lock's end rounded up to the minute (so that "after" it is true), in the
// server's local time zone (time.Local: the TZ variable, else the system's zone), with the
// zone's name, for a reader in another zone. The desktop console, on the machine that holds the
// data, says the same.
func locked(until time.Time) error {
	at := until.Truncate(time.Minute)
	if at.Before(until) {
		at = at.Add(time.Minute)
	}
	return Errorf(ETOOMANY, "Too many failed attempts: try again after %s, or ask your administrator.", at.Local().Format("15:04 MST"))
}

// throttled is returned by chargeAttempt while the account must wait after a failure. Unknown
// usernames wait alike, so saying so reveals nothing, and the person who mistyped learns why a
// right password was not taken and how long to wait.
func throttled(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs == 1 {
		return Errorf(ETOOMANY, "Too many failed attempts. Try again in 1 second.")
	}
	return Errorf(ETOOMANY, "Too many failed attempts. Try again in %d seconds.", secs)
}

// chargeAttempt counts an attempt as a failure BEFORE the secret is checked, in one write
// transaction, and refuses it if the account is locked or must wait (see delayNext). Charging
// first is what makes parallel guessing useless: however many requests run at once, each one has
// taken a slot of the counter before it learns anything, so no more than MaxFailures secrets are
// ever checked between successes. A success resets the counter (resetFailures). secondFactor
// says the attempt is a second factor's, after a right password (see lockFor). lock, when not
// zero, reports that this attempt locked the account: if it fails, the account stays locked
// that long.
func (s *Service) chargeAttempt(ctx context.Context, userID int64, secondFactor bool) (lock time.Duration, err error) {
	return s.charge(ctx, s.counter(userID), secondFactor)
}

// A counter updates one failure counter: an account's, or an unknown username's.
type counter func(ctx context.Context, fn func(f *Failures, now time.Time) error) error

func (s *Service) counter(userID int64) counter {
	return func(ctx context.Context, fn func(f *Failures, now time.Time) error) error {
		return s.store.UpdateFailures(ctx, userID, fn)
	}
}

// unknownCounter counts the attempts for a username that names no account exactly as an
// account's are counted, so that the work done, its timing and the lockout are the same whether
// the account exists or not. The counter is keyed by unknownName's hash, never the name.
func (s *Service) unknownCounter(nameHash string) counter {
	return func(ctx context.Context, fn func(f *Failures, now time.Time) error) error {
		return s.store.UpdateUnknownFailures(ctx, nameHash, fn)
	}
}

// newNameKey derives the key that hashes unknown usernames from the server key, as newCodeKey
// does for SMS codes.
func newNameKey(secretKey []byte) []byte {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte("gatehouse unknown username key"))
	return m.Sum(nil)
}

// unknownName is what is kept of a username that names no account (issue 9, F1 and F7): what
// is typed there may be a password typed in the wrong field, or megabytes, and is neither
// stored nor audited. hash, HMAC-SHA256 under the name key of the case-folded name, keys its
// failure counter: fixed size, counted case-insensitively like real names, and useless without
// the server key. fingerprint, its first 16 bits, goes in the audit log (kept 400 days), so an
// administrator sees one name tried again and again; it is too short to confirm a guess at
// what was typed even for someone holding a backup of the data directory and the server key
// (L2: 32 bits confirmed a guess among millions; 16 match one name in 65,536).
func (s *Service) unknownName(username string) (hash, fingerprint string) {
	m := hmac.New(sha256.New, s.nameKey)
	// Real usernames are ASCII (CheckUsername), where this folds exactly as the store's NOCASE.
	m.Write([]byte(strings.ToLower(username)))
	hash = hex.EncodeToString(m.Sum(nil))
	return hash, hash[:4]
}

func (s *Service) charge(ctx context.Context, update counter, secondFactor bool) (lock time.Duration, err error) {
	err = update(ctx, func(f *Failures, now time.Time) error {
		if now.Before(f.LockedUntil) {
			return locked(f.LockedUntil)
		} else if now.Before(f.NextTryAt) {
			return throttled(f.NextTryAt.Sub(now))
		}
		if !f.LockedUntil.IsZero() { // a lock that has run out starts a fresh count, the streak goes on
			*f = Failures{Streak: f.Streak}
		}
		f.Count++
		f.SecondFactor = f.SecondFactor || secondFactor
		if f.Count >= s.lockout.MaxFailures {
			lock = s.lockout.lockFor(f)
			f.LockedUntil = now.Add(lock)
			if f.SecondFactor {
				f.Streak++
			}
		}
		return nil
	})
	return lock, err
}

// delayNext makes the account wait before its next attempt, after a failure: the wait grows
// with the count of failures. It is set only once an attempt has failed, so a right password
// never makes its own second step wait.
func (s *Service) delayNext(ctx context.Context, update counter) error {
	return update(ctx, func(f *Failures, now time.Time) error {
		if next := now.Add(s.lockout.delay(f.Count)); next.After(f.NextTryAt) {
			f.NextTryAt = next
		}
		return nil
	})
}

// resetFailures clears the counter, and the streak of locks, after a success.
func (s *Service) resetFailures(ctx context.Context, userID int64) error {
	return s.store.UpdateFailures(ctx, userID, func(f *Failures, now time.Time) error {
		*f = Failures{}
		return nil
	})
}
