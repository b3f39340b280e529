package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/backend"
)

// appCLI runs `gatehouse app …` (args after "app") in-process on dataDir, as main runs it, and
// returns its output (standard output and error together) and error.
func appCLI(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, DataDir: dataDir, Usage: "Usage:\n" + AppUsageLines,
		Open: func(dir string, logger *slog.Logger) (*backend.Service, io.Closer, error) {
			svc, db, err := openTest(t, dir, logger)
			if err != nil {
				return nil, nil, err
			}
			return svc, db, nil
		}}
	err := e.App(context.Background(), append(args, "--data", dataDir))
	return out.String(), err
}

var secretLine = regexp.MustCompile(`Client secret: +([A-Za-z0-9_-]{43})\n`)

func TestAppCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := appCLI(t, dir, "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb",
		"--redirect-uri", "http://localhost:8080/cb", "--require-2fa", "--admins-only")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed no client secret:\n%s", out)
	}
	secret := m[1]
	for _, want := range []string{`Created application "Wiki".`, "Administrators only", "Require Two-Factor:      Yes",
		"https://wiki.example.com/cb", "http://localhost:8080/cb", "shown only this once"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	clientID := regexp.MustCompile(`Client ID: +(gh-[a-z2-7]{16})`).FindStringSubmatch(out)
	if clientID == nil {
		t.Fatalf("create printed no client ID:\n%s", out)
	}
	// The secret is in no file of the data directory: only its hash is.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the client secret", f)
		}
	}

	if out, err := appCLI(t, dir, "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/"); err != nil || secretLine.MatchString(out) {
		t.Errorf("create public: %v, output\n%s\nwant no secret", err, out)
	}
	out, err = appCLI(t, dir, "list")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "SPA ") || !strings.HasPrefix(lines[2], "Wiki ") ||
		!strings.Contains(lines[1], "public") || !strings.Contains(lines[2], clientID[1]) || strings.Contains(out, secret) {
		t.Errorf("list:\n%s\nwant SPA (public), then Wiki with its client ID, no secret", out)
	}

	// show by name (any case) or by client ID; never the secret.
	for _, ref := range []string{"wiki", clientID[1]} {
		out, err = appCLI(t, dir, "show", ref)
		if err != nil || !strings.Contains(out, "Name:                    Wiki") || strings.Contains(out, secret) {
			t.Errorf("show %s: %v\n%s", ref, err, out)
		}
	}

	// edit: only the flags given change; --redirect-uri replaces the list.
	out, err = appCLI(t, dir, "edit", "Wiki", "--redirect-uri", "https://wiki.example.com/new", "--admins-only=false")
	if err != nil {
		t.Fatalf("edit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Application Wiki saved.") || !strings.Contains(out, "Who may use it:          Everyone") ||
		!strings.Contains(out, "Require Two-Factor:      Yes") || strings.Contains(out, "localhost:8080") || !strings.Contains(out, "/new") {
		t.Errorf("edit output:\n%s", out)
	}

	// secret: a new one, printed once.
	out, err = appCLI(t, dir, "secret", "Wiki")
	m = secretLine.FindStringSubmatch(out)
	if err != nil || m == nil || m[1] == secret || !strings.Contains(out, "the old one no longer works") {
		t.Errorf("secret: %v\n%s\nwant a new secret", err, out)
	}
	svc, db, err := openTest(t, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.AppByRef(context.Background(), svc.Operator(), "Wiki")
	if err != nil || a.CheckSecret(secret) || !a.CheckSecret(m[1]) {
		t.Errorf("after app secret: old secret accepted %v, new %v (%v); want false, true", a.CheckSecret(secret), a.CheckSecret(m[1]), err)
	}
	// Every change is audited as the command line's.
	p, err := svc.AuditLog(context.Background(), svc.Operator(), backend.AuditFilter{Action: "app."})
	if err != nil || p.Total != 4 || p.Events[0].ActorName != "cli" || p.Events[0].IP != "cli" {
		t.Errorf("audit: %v %+v, want 4 application events by cli", err, p)
	}
	db.Close()

	out, err = appCLI(t, dir, "delete", "wiki", "--yes")
	if err != nil || !strings.Contains(out, "Application Wiki deleted.") {
		t.Errorf("delete: %v\n%s", err, out)
	}
	if out, _ := appCLI(t, dir, "list"); strings.Contains(out, "Wiki") {
		t.Errorf("list after delete:\n%s", out)
	}
}

func TestAppCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if out, err := appCLI(t, dir, "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no name", []string{"create", "--redirect-uri", "https://a.example.com/"}, 2, "needs --name and --redirect-uri"},
		{"no redirect URI", []string{"create", "--name", "A"}, 2, "needs --name and --redirect-uri"},
		{"http", []string{"create", "--name", "A", "--redirect-uri", "http://a.example.com/"}, 1, "must use https"},
		{"wildcard", []string{"create", "--name", "A", "--redirect-uri", "https://*.example.com/"}, 1, "wildcard"},
		{"fragment", []string{"create", "--name", "A", "--redirect-uri", "https://a.example.com/#x"}, 1, "fragment"},
		{"taken", []string{"create", "--name", "WIKI", "--redirect-uri", "https://a.example.com/"}, 1, `There is already an application named "WIKI".`},
		{"show unknown", []string{"show", "nothing"}, 1, `There is no application "nothing".`},
		{"show no app", []string{"show"}, 2, "takes one APP"},
		{"edit nothing", []string{"edit", "Wiki"}, 2, "give at least one setting"},
		{"edit unchanged", []string{"edit", "Wiki", "--name", "Wiki"}, 1, "Nothing to change"},
		{"edit bad URI", []string{"edit", "Wiki", "--redirect-uri", "ftp://a.example.com/"}, 1, "must use https"},
		{"delete without --yes", []string{"delete", "Wiki"}, 2, "needs --yes"},
		{"secret of unknown", []string{"secret", "nothing"}, 1, `There is no application "nothing".`},
		{"no subcommand", nil, 2, "name a subcommand"},
		{"unknown subcommand", []string{"frobnicate"}, 2, `unknown subcommand "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := appCLI(t, dir, tt.args...)
			if err == nil {
				t.Fatalf("got no error, want one (output %q)", out)
			}
			if got := ExitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			if !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %q / %q, want it to say %q", err, out, tt.want)
			}
		})
	}
	// The refused commands changed nothing.
	out, _ := appCLI(t, dir, "list")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "https://wiki.example.com/cb") {
		t.Errorf("list after refused commands:\n%s\nwant only Wiki as created", out)
	}
	for _, args := range [][]string{{"--help"}, {"create", "--help"}, {"edit", "-h"}} {
		out, err := appCLI(t, t.TempDir(), args...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage") {
			t.Errorf("%q: got %v, printed %q; want help (exit 0)", args, err, out)
		}
	}
}
