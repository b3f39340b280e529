package backend

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// PasswordPolicy configures password hashing and acceptance. Zero fields take the defaults.
type PasswordPolicy struct {
	// Argon2 defaults to OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
	Argon2 Argon2Params
	// MaxConcurrent bounds how many hashes are computed at once (each holds Argon2.MemoryKiB),
	// so a login storm queues instead of exhausting memory. Default: GOMAXPROCS.
	MaxConcurrent int
	// MaxWaiting bounds the password logins waiting for a hashing slot: one more is refused at
	// once with ErrBusy. Default: 32 × MaxConcurrent, about 32 hash times of waiting (1.5 s
	// at 50 ms a hash) for the last in line.
	MaxWaiting int
	// OnVerify, if set, is called after each password verification; tests count them with it.
	OnVerify func()
}

// Password length limits (NIST SP 800-63B): at least 8, and long passphrases welcome. The upper
// bound only keeps hashing cost sane; nothing is ever truncated.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

type passwords struct {
	params   Argon2Params
	sem      chan struct{}
	onVerify func()
	// admitted counts the logins between admit and their release: hashing or waiting to.
	admitted    atomic.Int64
	maxAdmitted int64
	// dummy is a hash of a random password, verified when there is no user to verify against,
	// so that an unknown username costs the same time as a wrong password.
	dummy string
}

func newPasswords(p PasswordPolicy) *passwords {
	if p.Argon2 == (Argon2Params{}) {
		p.Argon2 = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}
	}
	if p.MaxConcurrent <= 0 {
		p.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if p.MaxWaiting <= 0 {
		p.MaxWaiting = 32 * p.MaxConcurrent
	}
	pw := &passwords{params: p.Argon2, sem: make(chan struct{}, p.MaxConcurrent), onVerify: p.OnVerify,
		maxAdmitted: int64(p.MaxConcurrent + p.MaxWaiting)}
	pw.dummy = pw.encode(rand.Text(), p.Argon2)
	return pw
}

// hash returns the PHC-encoded argon2id hash of password.
func (pw *passwords) hash(ctx context.Context, password string) (string, error) {
	if err := pw.acquire(ctx); err != nil {
		return "", err
	}
	defer pw.release()
	return pw.encode(password, pw.params), nil
}

func (pw *passwords) encode(password string, p Argon2Params) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations,
		p.Parallelism, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verify reports whether password matches encoded, with the parameters stored in encoded (so
// raising the defaults keeps old hashes working). An empty encoded verifies against the dummy
// hash and reports false.
func (pw *passwords) verify(ctx context.Context, encoded, password string) (bool, error) {
	if err := pw.acquire(ctx); err != nil {
		return false, err
	}
	defer pw.release()
	if pw.onVerify != nil {
		defer pw.onVerify()
	}
	known := encoded != ""
	if !known {
		encoded = pw.dummy
	}
	p, salt, key, err := DecodeArgon2Hash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(key)))
	return known && subtle.ConstantTimeCompare(got, key) == 1, nil
}

// ErrBusy is the answer to a password login when more are already waiting for the password hash
// than MaxWaiting: the System is saturated, and the client should try again shortly. Nothing
// about the account was looked at or counted.
var ErrBusy = Errorf(ETOOMANY, "The System is busy; try again in a moment.")

// admit takes a place among the logins that may hash or wait to, or refuses at once with
// ErrBusy. The caller calls release when its hash is done. Without this bound a storm queues
// for as long as it takes: on 2 CPUs 1,000 logins took 21 s, and on the same machine under
// load 736 of them had no answer after 2 minutes (the server's write timeout is 60 s), their
// work done for nothing; and a person who reloads while queued is charged an attempt each
// time (ten reloads lock the account).
func (pw *passwords) admit() (release func(), err error) {
	if pw.admitted.Add(1) > pw.maxAdmitted {
		pw.admitted.Add(-1)
		return nil, ErrBusy
	}
	return func() { pw.admitted.Add(-1) }, nil
}

func (pw *passwords) acquire(ctx context.Context) error {
	select {
	case pw.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (pw *passwords) release() { <-pw.sem }

// DecodeArgon2Hash parses a PHC-encoded argon2id hash ("$argon2id$v=19$m=…,t=…,p=…$salt$key").
func DecodeArgon2Hash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err = fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	if _, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: parameters: %w", err)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: key: %w", err)
	}
	return p, salt, key, nil
}

// commonPasswords are the passwords attackers try first: zxcvbn's list of the most common
// passwords from public breaches.
var commonPasswords = func() map[string]bool {
	m := make(map[string]bool)
	for _, p := range frequency.FrequencyLists["passwords"] {
		if len(p) >= MinPasswordLength {
			m[p] = true
		}
	}
	return m
}()

// CheckNewPassword says why password may not be used, or returns nil. Per NIST SP 800-63B: a
// length range, no composition rules, and no password from a breach list. username is refused too.
func CheckNewPassword(password, username string) error {
	return WithFields(checkNewPassword(password, username), FieldPassword)
}

func checkNewPassword(password, username string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return Errorf(EINVALID, "The password contains invalid characters.")
	case n < MinPasswordLength:
		return Errorf(EINVALID, "The password must be at least %d characters long.", MinPasswordLength)
	case n > MaxPasswordLength:
		return Errorf(EINVALID, "The password must be at most %d characters long.", MaxPasswordLength)
	case commonPasswords[strings.ToLower(password)]:
		return Errorf(EINVALID, "That password is one of the most commonly used passwords. Choose another.")
	case username != "" && strings.EqualFold(password, username):
		return Errorf(EINVALID, "The password must not be the username.")
	}
	return nil
}
