package cli

import (
	"strings"
	"testing"
)

func TestAppDomains(t *testing.T) {
	dir := t.TempDir()
	out, err := appCLI(t, dir, "create", "--name", "Wiki", "--domain", "Wiki.Example.com", "--domain", "*.tools.example.com", "--require-2fa")
	if err != nil {
		t.Fatalf("create with domains only: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Protected domains:       wiki.example.com\n                         *.tools.example.com\n") {
		t.Errorf("create output lacks the domains, lower-cased, in order:\n%s", out)
	}
	// Bad domains: every one named, nothing created.
	out, err = appCLI(t, dir, "create", "--name", "Bad", "--domain", "https://x.example.com/", "--domain", "x.example.com:8443", "--domain", "a.*.example.com", "--domain", "*.com")
	if err == nil {
		t.Fatalf("create with bad domains succeeded:\n%s", out)
	}
	for _, want := range []string{`"https://x.example.com/" must be a host name only`, `"x.example.com:8443" must not have a port`,
		`"a.*.example.com" may have a wildcard only as its first label`, `"*.com" is too wide`} {
		if !strings.Contains(err.Error()+out, want) {
			t.Errorf("bad domains: message lacks %q: %v\n%s", want, err, out)
		}
	}
	// A domain belongs to one application.
	out, err = appCLI(t, dir, "create", "--name", "Grafana", "--domain", "wiki.example.com")
	if err == nil || !strings.Contains(err.Error()+out, `"wiki.example.com" is protected by Wiki already`) {
		t.Fatalf("create with Wiki's domain: %v\n%s", err, out)
	}
	if out, _ := appCLI(t, dir, "list"); strings.Contains(out, "Grafana") || strings.Contains(out, "Bad") {
		t.Fatalf("a refused application was created:\n%s", out)
	}
	out, err = appCLI(t, dir, "edit", "wiki", "--domain", "docs.example.com")
	if err != nil || !strings.Contains(out, "Protected domains:       docs.example.com\n") || strings.Contains(out, "tools") {
		t.Fatalf("edit --domain: %v\n%s", err, out)
	}
	out, err = appCLI(t, dir, "edit", "wiki", "--domain=", "--redirect-uri", "https://wiki.example.com/cb")
	if err != nil || strings.Contains(out, "Protected domains") {
		t.Fatalf("edit --domain= (none): %v\n%s", err, out)
	}
}
