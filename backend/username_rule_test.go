package backend_test

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestUsernameRuleIsTrue pins issue 11 (web 8): what the username rule says is exactly what
// CheckUsername takes. "jürgen" is refused, and the message says why (a–z, no accents): every
// letter it names is taken, every character it does not name is refused.
func TestUsernameRuleIsTrue(t *testing.T) {
	rule := backend.UsernameRule
	for _, want := range []string{"1 to 64 characters", "a–z or A–Z (no accents)", "digits 0–9", ". _ @ + -", "starting with a letter or digit"} {
		if !strings.Contains(rule, want) {
			t.Errorf("the rule %q does not say %q", rule, want)
		}
	}
	for _, name := range []string{"jürgen", "Zoë", "Łukasz", "josé", "straße", "ａｌｉｃｅ"} {
		if err := backend.CheckUsername(name); backend.ErrorMessage(err) != rule {
			t.Errorf("CheckUsername(%q): got %v, want the rule", name, err)
		}
	}
	named := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for r := rune(0); r < 0x250; r++ {
		first, later := string(r)+"x", "x"+string(r)
		inFirst := strings.ContainsRune(named, r)
		inLater := inFirst || strings.ContainsRune("._@+-", r)
		if got := backend.CheckUsername(first) == nil; got != inFirst {
			t.Errorf("CheckUsername(%q): accepted %v, want %v", first, got, inFirst)
		}
		if got := backend.CheckUsername(later) == nil; got != inLater {
			t.Errorf("CheckUsername(%q): accepted %v, want %v", later, got, inLater)
		}
	}
	if err := backend.CheckUsername(strings.Repeat("a", backend.MaxUsernameLength)); err != nil {
		t.Errorf("%d characters: %v, want accepted", backend.MaxUsernameLength, err)
	}
	if err := backend.CheckUsername(strings.Repeat("a", backend.MaxUsernameLength+1)); backend.ErrorMessage(err) != rule {
		t.Errorf("%d characters: %v, want the rule", backend.MaxUsernameLength+1, err)
	}
}
