package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestAppRotateSigningKey: the command makes a new current key, audited; the first run with
// no key yet makes the first one current at once (there is nothing to retire).
func TestAppRotateSigningKey(t *testing.T) {
	dir := t.TempDir()
	kid := regexp.MustCompile(`New signing key ([0-9a-f]{16})`)
	out, err := appCLI(t, dir, "rotate-signing-key")
	if err != nil {
		t.Fatalf("rotate-signing-key: %v\n%s", err, out)
	}
	first := kid.FindStringSubmatch(out)
	if first == nil || !strings.Contains(out, "stays published in the JWKS for 10m0s") {
		t.Fatalf("rotate-signing-key output:\n%s", out)
	}
	out, err = appCLI(t, dir, "rotate-signing-key")
	second := kid.FindStringSubmatch(out)
	if err != nil || second == nil || second[1] == first[1] {
		t.Fatalf("second rotation: %v\n%s", err, out)
	}
	if out, err := appCLI(t, dir, "rotate-signing-key", "Wiki"); err == nil || !strings.Contains(err.Error(), "takes no arguments") {
		t.Fatalf("rotate-signing-key with an APP: %v\n%s", err, out)
	}
}
