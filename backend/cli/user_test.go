package cli

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := cli(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--name", "Alice A", "--admin", "--password-stdin")
	if err != nil {
		t.Fatalf("create admin: %v\n%s", err, out)
	}
	if want := `Created admin "alice" (Two-Factor Authentication: No).`; !strings.Contains(out, want) {
		t.Errorf("create output %q, want %q", out, want)
	}
	if out, err := cli(t, dir, "another long secret\n", "user", "create", "--username", "bob", "--require-2fa", "--password-stdin"); err != nil {
		t.Fatalf("create bob: %v\n%s", err, out)
	}

	out, err = cli(t, dir, "", "user", "list")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, want := range []string{"alice", "Alice A", "admin", "bob", "Pending setup on next login"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	out, _ = cli(t, dir, "", "user", "list", "--status", "pending")
	if strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Errorf("list --status pending: got\n%s\nwant bob only", out)
	}

	out, err = cli(t, dir, "", "user", "reset-2fa", "BOB")
	if err == nil || !strings.Contains(err.Error(), "bob has not set up Two-Factor Authentication: there is nothing to reset.") {
		t.Errorf("reset-2fa of a user who has not enrolled: %v %q, want the error that there is nothing to reset", err, out)
	}
	out, err = cli(t, dir, "a brand new secret\n", "user", "set-password", "bob", "--must-change", "--password-stdin")
	if err != nil || !strings.Contains(out, `Password of "bob" set`) {
		t.Errorf("set-password: %v %q", err, out)
	}
}

func TestUserCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := cli(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no username", "pw\n", []string{"user", "create", "--password-stdin"}, 2, "needs --username"},
		{"no password", "", []string{"user", "create", "--username", "x", "--password-stdin"}, 2, "no password on standard input"},
		{"taken", "correct horse battery\n", []string{"user", "create", "--username", "ALICE", "--password-stdin"}, 1, "taken"},
		{"common password", "password123\n", []string{"user", "create", "--username", "carol", "--password-stdin"}, 1, "commonly used"},
		{"short password", "short\n", []string{"user", "create", "--username", "carol", "--password-stdin"}, 1, "at least 8"},
		{"bad username", "correct horse battery\n", []string{"user", "create", "--username", "a b", "--password-stdin"}, 1, "A username is"},
		{"bad status", "", []string{"user", "list", "--status", "maybe"}, 2, `Unknown Two-Factor status "maybe"`},
		{"reset unknown", "", []string{"user", "reset-2fa", "nobody"}, 1, `There is no user "nobody"`},
		{"reset no name", "", []string{"user", "reset-2fa"}, 2, "takes one USERNAME"},
		{"no subcommand", "", []string{"user"}, 2, "name a subcommand"},
		{"unknown subcommand", "", []string{"user", "frobnicate"}, 2, `unknown subcommand "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cli(t, dir, tt.stdin, tt.args...)
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
	// Nothing the refused commands tried was created.
	out, _ := cli(t, dir, "", "user", "list")
	if strings.Contains(out, "carol") || strings.Count(out, "\n") != 2 {
		t.Errorf("list after refused commands:\n%s\nwant only alice", out)
	}
}

// TestHelp: --help is an answer, not a mistake, at every level of the user commands; a flag
// mistake is printed once.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"user", "--help"}, {"user", "create", "--help"}, {"user", "seed", "-h"}} {
		out, err := cli(t, t.TempDir(), "", args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: got %v, want help (exit 0)", args, err)
		}
		if !strings.Contains(out, "Usage") {
			t.Errorf("%q: printed %q, want the usage", args, out)
		}
	}
	out, err := cli(t, t.TempDir(), "", "user", "create", "--password", "x")
	var u UsageError
	if !errors.As(err, &u) || !u.Printed || strings.Count(out, "flag provided but not defined") != 1 {
		t.Errorf("a flag mistake: got %v, printed %q; want it printed once, with exit 2", err, out)
	}
}
