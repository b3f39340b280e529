package backend

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Fuzz targets for the parsers of codes people type. `go test` runs their seed corpora
// (testdata/fuzz/FuzzXxx); the README has the command that fuzzes each for minutes.

// FuzzNormalizeRecoveryCode: whatever is typed, the result is "" or a canonical code (16
// symbols of the alphabet), normalising it again changes nothing, and the code as printed
// (grouped, lower case) reads back as itself.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{
		"7KQ4-XW2P-D9TB-FA3H", "7kq4 xw2p d9tb fa3h", "7KQ4XW2PD9TBFA3H", "OIL0-1111-2222-3333",
		"7KQ4-XW2P-D9TB-FA3", "7KQ4-XW2P-D9TB-FA3HX", "UUUU-UUUU-UUUU-UUUU", "ǅǅǅǅǅǅǅǅǅǅǅǅǅǅǅǅ",
		"ı111-1111-1111-1111", "\t7KQ4\t-XW2P-D9TB-FA3H ", "", "----", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		c := NormalizeRecoveryCode(typed)
		if c == "" {
			return
		}
		if len(c) != recoveryLength || strings.Trim(c, recoveryAlphabet) != "" {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, not a code", typed, c)
		}
		if again := NormalizeRecoveryCode(c); again != c {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, but it normalises again to %q", typed, c, again)
		}
		if printed := NormalizeRecoveryCode(strings.ToLower(groupCode(c))); printed != c {
			t.Fatalf("code %q as printed reads back as %q", c, printed)
		}
	})
}

// FuzzMatchTOTP: whatever is typed, a match is only ever a 6-digit code (after spaces and
// hyphens go) equal to the RFC 6238 code of a step within ±1 of now, and the right code of now
// always matches.
func FuzzMatchTOTP(f *testing.F) {
	secret := []byte("12345678901234567890") // RFC 6238's test secret
	for _, s := range []string{"287082", "287 082", "287-082", "28708", "2870822", "abcdef", "٢٨٧٠٨٢", "２８７０８２", "", "\x00"} {
		f.Add(s, int64(59))
	}
	f.Add("081804", int64(1111111109))
	f.Fuzz(func(t *testing.T, code string, unix int64) {
		if unix < 0 || unix > 1<<40 {
			unix = 1111111109
		}
		now := time.Unix(unix, 0)
		step, err := matchTOTP(secret, code, now)
		if err != nil {
			t.Fatalf("matchTOTP(%q): %v", code, err)
		}
		b32 := base32NoPad.EncodeToString(secret)
		opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		if step >= 0 {
			d := step - unix/totpPeriod
			digits := normalizeDigits(code)
			want, _ := totp.GenerateCodeCustom(b32, time.Unix(step*totpPeriod, 0), opts)
			if d < -totpSkew || d > totpSkew || digits != want || !utf8.ValidString(code) {
				t.Fatalf("matchTOTP(%q, %d) = step %d (code %s)", code, unix, step, want)
			}
		}
		right, _ := totp.GenerateCodeCustom(b32, now, opts)
		if st, err := matchTOTP(secret, right, now); err != nil || st != unix/totpPeriod {
			t.Fatalf("the right code %s at %d: step %d, %v", right, unix, st, err)
		}
	})
}

// FuzzNormalizePhone: whatever is typed (or arrives as a text's sender), a number that is
// accepted comes out in E.164 form, reads back as itself, and formats and masks without fault.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"+1 650-253-0067", "(650) 253-0067", "650.253.0067", "+44 20 7946 0018", "020 7946 0018",
		"+1", "+", "0", "+999999999999999", "tel:+16502530067", "+1 650 253 0067 ext. 12", "１６５０２５３００６７",
		strings.Repeat("9", 70), "\x00", "",
	} {
		f.Add(s, "US")
	}
	f.Add("020 7946 0018", "GB")
	f.Add("650 253 0067", "zz")
	f.Fuzz(func(t *testing.T, number, region string) {
		e164, err := NormalizePhone(number, region)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("NormalizePhone(%q, %q): %v, want EINVALID", number, region, err)
			}
			return
		}
		if len(e164) < 3 || e164[0] != '+' || strings.Trim(e164[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164", number, region, e164)
		}
		if again, err := NormalizePhone(e164, ""); err != nil || again != e164 {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", e164, again, err)
		}
		if m := MaskPhone(e164); strings.Contains(m, e164[1:len(e164)-2]) {
			t.Fatalf("MaskPhone(%q) = %q shows the number", e164, m)
		}
		FormatPhone(e164)
	})
}
