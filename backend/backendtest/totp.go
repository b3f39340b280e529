package backendtest

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTP is the code an authenticator app holding key shows at the time at: RFC 6238 with
// SHA-1, 6 digits and 30-second steps, computed by pquerna/otp rather than by backend. key is
// base32, as shown for typing (spaces are ignored). A key that is not fails tb with Errorf, so
// that TOTP may be called from any goroutine, and gives no code.
func TOTP(tb testing.TB, key string, at time.Time) string {
	tb.Helper()
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(key, " ", ""), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Errorf("TOTP code of key %q: %v", key, err)
		return ""
	}
	return code
}

// DecodeKey reads a key shown for typing (base32, grouped in fours) back into the secret.
func DecodeKey(tb testing.TB, key string) []byte {
	tb.Helper()
	b, err := base32NoPad.DecodeString(strings.ReplaceAll(key, " ", ""))
	if err != nil {
		tb.Fatalf("decode key %q: %v", key, err)
	}
	return b
}

// EncodeKey is the base32 key of a secret, as an app stores it.
func EncodeKey(secret []byte) string { return base32NoPad.EncodeToString(secret) }
