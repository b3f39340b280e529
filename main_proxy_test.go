package main

import (
	"fmt"
	"strings"
	"testing"

	"gatehouse/backend/cli"
)

// TestTrustedProxiesFlag: serve --trusted-proxies (or GATEHOUSE_TRUSTED_PROXIES) takes address
// ranges and single addresses, separated by commas; anything else stops start-up with one clear
// line and exit status 2 (issue 9 F11).
func TestTrustedProxiesFlag(t *testing.T) {
	got, err := parseTrustedProxies(" 10.0.0.0/8, 127.0.0.1 ,::1/128,192.168.7.9/24,")
	if want := "[10.0.0.0/8 127.0.0.1/32 ::1/128 192.168.7.0/24]"; err != nil || fmt.Sprint(got) != want {
		t.Errorf("got %v, %v; want %s", got, err, want)
	}
	if got, err := parseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: got %v, %v; want none", got, err)
	}
	dir := t.TempDir()
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8;127.0.0.1", "10.0.0.0/8,,300.1.1.1"} {
		_, err := gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0", "--trusted-proxies", bad)
		if err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--trusted-proxies") || !strings.Contains(err.Error(), "is not an address range") {
			t.Errorf("--trusted-proxies %q: %v (exit %d), want a usage error naming the flag", bad, err, cli.ExitCode(err))
		}
	}
	t.Setenv("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/99")
	if _, err := gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0"); err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), `"10.0.0.0/99"`) {
		t.Errorf("GATEHOUSE_TRUSTED_PROXIES=10.0.0.0/99: %v, want a usage error", err)
	}
}
