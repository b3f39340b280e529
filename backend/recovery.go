package backend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a set has (the help article's "5 unique codes").
const RecoveryCodeCount = 5

// recoveryAlphabet is Crockford's base32: no I, L, O or U, so nothing reads as something else,
// and 32 symbols make each character exactly 5 bits. A code is 16 characters: 80 bits, far
// beyond guessing, so a fast salted hash is a safe way to store it.
const (
	recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	recoveryLength   = 16
)

// newRecoveryCodes returns a fresh set: the codes to show once, and what to store.
func newRecoveryCodes() (shown []string, stored []RecoveryCode) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryLength)
		rand.Read(b)
		for i := range b {
			b[i] = recoveryAlphabet[b[i]&31] // 256 is a multiple of 32: uniform
		}
		salt := make([]byte, 16)
		rand.Read(salt)
		shown = append(shown, groupCode(string(b)))
		stored = append(stored, RecoveryCode{Salt: salt, Hash: recoveryHash(salt, string(b))})
	}
	return shown, stored
}

// groupCode writes a code in hyphen-separated groups of four: 7KQ4-XW2P-D9TB-FA3H.
func groupCode(code string) string {
	var parts []string
	for i := 0; i < len(code); i += 4 {
		parts = append(parts, code[i:min(i+4, len(code))])
	}
	return strings.Join(parts, "-")
}

// NormalizeRecoveryCode turns what a person typed into the canonical code: case, spaces and
// hyphens do not matter, and the letters Crockford's base32 leaves out read as the digits they
// look like (O as 0, I and L as 1). It returns "" if the result cannot be a recovery code.
func NormalizeRecoveryCode(typed string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		case !strings.ContainsRune(recoveryAlphabet, r):
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryLength {
		return ""
	}
	return b.String()
}

func recoveryHash(salt []byte, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

// checkRecoveryCode reports whether typed is one of the user's unused recovery codes, and uses it
// up. The store marks it used with one conditional UPDATE, so of two requests racing with the
// same code exactly one succeeds.
func (s *Service) checkRecoveryCode(ctx context.Context, _ *LoginAttempt, u *User, typed string) (bool, error) {
	code := NormalizeRecoveryCode(typed)
	if code == "" {
		return false, nil
	}
	codes, err := s.store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		return false, internal("recovery codes", err)
	}
	for _, c := range codes {
		if subtle.ConstantTimeCompare(recoveryHash(c.Salt, code), c.Hash) == 1 {
			return s.store.UseRecoveryCode(ctx, c.ID)
		}
	}
	return false, nil
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
