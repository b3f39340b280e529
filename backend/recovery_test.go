package backend

import (
	"regexp"
	"strings"
	"testing"
)

var recoveryCodePattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

func TestNewRecoveryCodes(t *testing.T) {
	seen := make(map[string]bool)
	for range 200 {
		shown, stored := newRecoveryCodes()
		if len(shown) != RecoveryCodeCount || len(stored) != RecoveryCodeCount {
			t.Fatalf("got %d shown and %d stored codes, want %d", len(shown), len(stored), RecoveryCodeCount)
		}
		for i, c := range shown {
			if !recoveryCodePattern.MatchString(c) {
				t.Errorf("code %q: got a code outside XXXX-XXXX-XXXX-XXXX over Crockford's base32", c)
			}
			if seen[c] {
				t.Errorf("code %q: got it twice", c)
			}
			seen[c] = true
			canon := NormalizeRecoveryCode(c)
			if canon != strings.ReplaceAll(c, "-", "") {
				t.Errorf("NormalizeRecoveryCode(%q): got %q, want the code without hyphens", c, canon)
			}
			// Stored: a salted hash, not the code.
			if len(stored[i].Salt) < 16 {
				t.Errorf("salt: got %d bytes, want at least 16", len(stored[i].Salt))
			}
			if got, want := stored[i].Hash, recoveryHash(stored[i].Salt, canon); string(got) != string(want) {
				t.Errorf("stored hash of %q does not match its code", c)
			}
			if strings.Contains(string(stored[i].Hash), canon) {
				t.Errorf("stored hash contains the code %q", canon)
			}
		}
	}
	// 16 symbols of a 32-letter alphabet: 80 bits.
	if bits := recoveryLength * 5; bits < 80 {
		t.Errorf("recovery code strength: got %d bits, want at least 80", bits)
	}
	if len(recoveryAlphabet) != 32 {
		t.Errorf("alphabet: got %d symbols, want 32", len(recoveryAlphabet))
	}
}

// TestNewRecoveryCodesUseWholeAlphabet guards against a biased or shrunken alphabet.
func TestNewRecoveryCodesUseWholeAlphabet(t *testing.T) {
	counts := make(map[rune]int)
	for range 100 {
		shown, _ := newRecoveryCodes()
		for _, c := range shown {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
		}
	}
	// 8000 symbols: each of 32 is expected 250 times.
	for _, r := range recoveryAlphabet {
		if n := counts[r]; n < 150 || n > 350 {
			t.Errorf("symbol %q: got %d of 8000, want about 250", r, n)
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct {
		typed string
		want  string
	}{
		{"7KQ4-XW2P-D9TB-FA3H", "7KQ4XW2PD9TBFA3H"},
		{"7kq4-xw2p-d9tb-fa3h", "7KQ4XW2PD9TBFA3H"},
		{"7KQ4XW2PD9TBFA3H", "7KQ4XW2PD9TBFA3H"},
		{" 7kq4 xw2p d9tb fa3h ", "7KQ4XW2PD9TBFA3H"},
		{"7KQ4-XW2P-D9TB-FA3H\t", "7KQ4XW2PD9TBFA3H"},
		{"7K-Q4X-W2PD9-TBFA3H", "7KQ4XW2PD9TBFA3H"},
		{"OIL0-0000-0000-0000", "0110000000000000"}, // O reads as 0, I and L as 1
		{"oil0-0000-0000-0000", "0110000000000000"},
		{"7KQ4-XW2P-D9TB-FA3", ""},   // too short
		{"7KQ4-XW2P-D9TB-FA3HX", ""}, // too long
		{"7KQ4-XW2P-D9TB-FA3U", ""},  // U is not in the alphabet
		{"7KQ4-XW2P-D9TB-FA3!", ""},  // nor is punctuation
		{"7KQ4-XW2P-D9TB-FA3É", ""},  // nor anything non-ASCII
		{"７KQ4-XW2P-D9TB-FA3H", ""},  // full-width digit
		{"", ""},
		{"----", ""},
	}
	for _, tt := range tests {
		if got := NormalizeRecoveryCode(tt.typed); got != tt.want {
			t.Errorf("NormalizeRecoveryCode(%q): got %q, want %q", tt.typed, got, tt.want)
		}
	}
}
