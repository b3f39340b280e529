package backend

import (
	"crypto/rand"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfc6238Secret is the SHA1 seed of RFC 6238 Appendix B.
var rfc6238Secret = []byte("12345678901234567890")

// rfc6238Vectors are the SHA1 rows of RFC 6238 Appendix B: Unix time and 8-digit TOTP.
var rfc6238Vectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestRFC6238Vectors(t *testing.T) {
	b32 := base32NoPad.EncodeToString(rfc6238Secret)
	for _, v := range rfc6238Vectors {
		t.Run(fmt.Sprint(v.unix), func(t *testing.T) {
			at := time.Unix(v.unix, 0)
			got, err := totp.GenerateCodeCustom(b32, at, totp.ValidateOpts{
				Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != v.code {
				t.Errorf("pquerna/otp 8 digits: got %s, want %s", got, v.code)
			}

			// Dynamic truncation takes the value mod 10^digits: the 6-digit code is the
			// last 6 digits of the 8-digit one.
			six := v.code[2:]
			step, err := matchTOTP(rfc6238Secret, six, at)
			if err != nil {
				t.Fatal(err)
			}
			if want := v.unix / 30; step != want {
				t.Errorf("matchTOTP(%s) at %d: got step %d, want %d", six, v.unix, step, want)
			}
			// As people type it: grouped.
			if step, _ := matchTOTP(rfc6238Secret, six[:3]+" "+six[3:], at); step != v.unix/30 {
				t.Errorf("matchTOTP(%q) with a space: got step %d, want %d", six[:3]+" "+six[3:], step, v.unix/30)
			}
			// The 8-digit value is not a 6-digit code.
			if step, _ := matchTOTP(rfc6238Secret, v.code, at); step != -1 {
				t.Errorf("matchTOTP(8 digits %s): got step %d, want -1", v.code, step)
			}
		})
	}
}

// TestMatchTOTPWindow checks the ±1 step tolerance and nothing beyond it.
func TestMatchTOTPWindow(t *testing.T) {
	// The code of step 1111111111/30 = 37037037 is 050471.
	const code = "050471"
	base := time.Unix(37037037*30, 0) // the first second of the step
	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"same step, first second", base, 37037037},
		{"same step, last second", base.Add(29 * time.Second), 37037037},
		{"one step later", base.Add(30 * time.Second), 37037037},
		{"one step later, last second", base.Add(59 * time.Second), 37037037},
		{"two steps later", base.Add(60 * time.Second), -1},
		{"one step earlier", base.Add(-1 * time.Second), 37037037},
		{"one step earlier, first second", base.Add(-30 * time.Second), 37037037},
		{"two steps earlier", base.Add(-31 * time.Second), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := matchTOTP(rfc6238Secret, code, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got step %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMatchTOTPRejectsMalformed(t *testing.T) {
	at := time.Unix(1111111111, 0)
	for _, code := range []string{"", "05047", "0504711", "05047a", "+50471", "-50471", "５０４７１", "050471\x00"} {
		step, err := matchTOTP(rfc6238Secret, code, at)
		if err != nil {
			t.Fatalf("matchTOTP(%q): %v", code, err)
		}
		if step != -1 {
			t.Errorf("matchTOTP(%q): got step %d, want -1", code, step)
		}
	}
}

// TestOathtoolAgrees runs an independent TOTP client, oath-toolkit's oathtool, against our codes.
func TestOathtoolAgrees(t *testing.T) {
	oathtool, err := exec.LookPath("oathtool")
	if err != nil {
		t.Fatal("oathtool not installed: install the Debian package oathtool (build/test.sh does)")
	}
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := exec.Command(oathtool, args...).Output()
		if err != nil {
			t.Fatalf("oathtool %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}

	t.Run("RFC 6238 vectors", func(t *testing.T) {
		b32 := base32NoPad.EncodeToString(rfc6238Secret)
		for _, v := range rfc6238Vectors {
			if got := run(t, "--totp", "-b", "-d", "8", "-N", fmt.Sprintf("@%d", v.unix), b32); got != v.code {
				t.Errorf("oathtool 8 digits at %d: got %s, want %s", v.unix, got, v.code)
			}
		}
	})

	t.Run("random secret now", func(t *testing.T) {
		secret := make([]byte, totpSecretSize)
		rand.Read(secret)
		b32 := base32NoPad.EncodeToString(secret)
		now := time.Now()
		// The key as the enrollment page shows it for typing: grouped in fours.
		code := run(t, "--totp", "-b", "-N", fmt.Sprintf("@%d", now.Unix()), groupKey(b32))
		step, err := matchTOTP(secret, code, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Unix() / 30; step != want {
			t.Errorf("oathtool code %s: got step %d, want %d", code, step, want)
		}
	})
}
