package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/backend/backendtest"
	"gatehouse/backend/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// database runs `gatehouse database ARGS…` in-process and returns its output and error.
func database(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &out, DataDir: t.TempDir(), Usage: testUsage,
		DatabaseFile: "gatehouse.db", DatabaseEnv: "GATEHOUSE_DATABASE_URL"}
	err := e.Database(context.Background(), args)
	return out.String(), err
}

func TestDatabaseCopy(t *testing.T) {
	dir, key := backendtest.DataDir(t)
	h := backendtest.New(t, backendtest.WithStore(backendtest.SQLite), backendtest.InDataDir(dir, key), backendtest.WithAdmin("alice", "correct horse battery"))
	h.Close()
	url := pgtest.Database(t)

	out, err := database(t, "copy", "--data", dir, "--to", url)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	keyFile := filepath.Join(dir, "secret.key")
	for _, want := range []string{
		"Copied " + filepath.Join(dir, "gatehouse.db") + " into database ",
		"1 users and ",
		"--secret-key-file " + keyFile,
		`GATEHOUSE_SECRET_KEY="$(cat ` + keyFile + `)"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("copy output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "postgres://") {
		t.Errorf("copy output shows the database URL:\n%s", out)
	}
	// The counts in one column, whatever the tables' names (issue 12 #15): the longest,
	// webauthn_credentials and the like, pushed theirs out of line.
	col, rows := -1, 0
	for _, line := range regexp.MustCompile(`(?m)^  [a-z_0-9]+ +[0-9]+$`).FindAllString(out, -1) {
		rows++
		at := strings.LastIndex(line, " ") + 1
		if col == -1 {
			col = at
		} else if at != col {
			t.Errorf("table line %q has its count at column %d, want %d:\n%s", line, at, col, out)
		}
	}
	if rows < 10 {
		t.Errorf("%d table lines, want one per table:\n%s", rows, out)
	}

	out, err = database(t, "copy", "--data", dir, "--to", url)
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("second copy: %v (exit %d), want a refusal, exit 1: the database is not empty\n%s", err, ExitCode(err), out)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no target", []string{"copy", "--data", dir}, 2, "needs --to URL"},
		{"not postgres", []string{"copy", "--data", dir, "--to", "mysql://x/y"}, 2, "must be a PostgreSQL URL"},
		{"argument", []string{"copy", "--data", dir, "--to", url, "extra"}, 2, "takes no arguments"},
		{"no subcommand", nil, 2, "name a subcommand: copy"},
		{"unknown", []string{"move"}, 2, `unknown subcommand "move"`},
	}
	t.Setenv("GATEHOUSE_DATABASE_URL", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := database(t, tt.args...)
			if err == nil || ExitCode(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (exit %d), want exit %d with %q", err, ExitCode(err), tt.code, tt.want)
			}
		})
	}

	out, err = database(t, "copy", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "the same server key") {
		t.Errorf("copy --help: %v\n%s", err, out)
	}
}
