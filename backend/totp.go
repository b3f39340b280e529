package backend

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/skip2/go-qrcode"
)

// TOTP parameters (RFC 6238 with the defaults every authenticator app supports).
const (
	totpPeriod     = 30 // seconds per time step
	totpDigits     = otp.DigitsSix
	totpSkew       = 1  // steps accepted either side of now, for clock drift
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommended length
)

// SecretKeySize is the length of the server key that seals TOTP secrets.
const SecretKeySize = 32

// sealer encrypts TOTP secrets with AES-256-GCM under the server key, which lives outside the
// database: a copy of the database alone reveals no secret.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("backend: secret key must be %d bytes, got %d", SecretKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead}, nil
}

// seal encrypts plain, binding it to ad (what it is, and whose), so that a sealed value copied
// to another row, or to another kind of column, fails to open.
func (s *sealer) seal(ad, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(ad, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("open sealed secret: too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret (wrong server key?): %w", err)
	}
	return plain, nil
}

// totpAD binds a TOTP secret, pending or active, to its user.
func totpAD(userID int64) []byte { return fmt.Appendf(nil, "gatehouse totp user %d", userID) }

// appSetupTTL is how long a "Use an App" setup waits for the code that confirms it.
const appSetupTTL = 15 * time.Minute

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// AppEnrollment is what the "Use an App" page shows: a QR code and the same key for typing.
type AppEnrollment struct {
	URI       string // otpauth:// URI the QR code encodes
	Key       string // base32 secret grouped in fours for reading, e.g. "JBSW Y3DP …"
	QRCodePNG []byte // the URI as a PNG QR code
}

// newAppEnrollment builds the otpauth URI (Google Authenticator's key-uri format) and QR code.
func (s *Service) newAppEnrollment(u *User, secret []byte) (*AppEnrollment, error) {
	b32 := base32NoPad.EncodeToString(secret)
	v := url.Values{}
	v.Set("secret", b32)
	v.Set("issuer", s.issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", fmt.Sprint(totpPeriod))
	uri := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + s.issuer + ":" + u.Username, RawQuery: v.Encode()}
	png, err := qrcode.Encode(uri.String(), qrcode.Medium, 256)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return &AppEnrollment{URI: uri.String(), Key: groupKey(b32), QRCodePNG: png}, nil
}

func groupKey(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalizeDigits strips the spaces and hyphens people type into codes.
func normalizeDigits(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// matchTOTP returns the time step whose code equals code, within ±totpSkew steps of now, or -1.
// totp.Validate would not say which step matched, and the step is what replay protection needs.
func matchTOTP(secret []byte, code string, now time.Time) (int64, error) {
	code = normalizeDigits(code)
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" {
		return -1, nil
	}
	b32 := base32NoPad.EncodeToString(secret)
	step := now.Unix() / totpPeriod
	for _, d := range []int64{0, -1, 1} { // most likely first
		st := step + d
		want, err := totp.GenerateCodeCustom(b32, time.Unix(st*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return -1, fmt.Errorf("totp: %w", err)
		}
		if constantTimeEqual(want, code) {
			return st, nil
		}
	}
	return -1, nil
}

// checkTOTP reports whether code is a valid, unused code of the user's active secret, and
// consumes its time step so that it is never accepted again (RFC 6238 §5.2).
func (s *Service) checkTOTP(ctx context.Context, _ *LoginAttempt, u *User, code string) (bool, error) {
	sealed, err := s.store.TOTPSecret(ctx, u.ID)
	if err != nil {
		return false, internal("totp secret", err)
	}
	secret, err := s.sealer.open(totpAD(u.ID), sealed)
	if err != nil {
		return false, err
	}
	step, err := matchTOTP(secret, code, s.now())
	if err != nil || step < 0 {
		return false, err
	}
	return s.store.ConsumeTOTPStep(ctx, u.ID, step)
}
