package cli

import (
	"context"
	"strings"
	"testing"

	"gatehouse/backend"
)

func TestUserSeed(t *testing.T) {
	dir := t.TempDir()
	if _, err := cli(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--admin", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, dir, "seeded passphrase 1\n", "user", "seed", "--count", "12", "--password-stdin")
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if want := "Added 12 test users, user000000 to user000011."; !strings.Contains(out, want) {
		t.Errorf("seed output %q, want %q", out, want)
	}
	out, _ = cli(t, dir, "", "user", "list")
	if got := strings.Count(out, "\n"); got != 14 {
		t.Errorf("list after seed: %d lines, want 14 (header, alice, 12 seeded):\n%s", got, out)
	}
	out, _ = cli(t, dir, "", "user", "list", "--status", "pending")
	if got := strings.Count(out, "Pending"); got != 3 { // 0, 3, 6, 9 are required; 9 is also enrolled by SMS
		t.Errorf("pending after seed: %d users, want 3:\n%s", got, out)
	}

	// Every seeded user has the password given: log in as the first and the last.
	svc, db, err := openTest(t, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"user000000", "user000011"} {
		if _, err := svc.Login(context.Background(), name, "seeded passphrase 1"); err != nil {
			t.Errorf("login as %s: %v", name, err)
		}
	}
	ev, err := svc.AuditLog(context.Background(), svc.Operator(), backend.AuditFilter{Action: backend.AuditUserCreated})
	if err != nil || ev.Total != 3 { // alice, user000000, and the one event for the other 11
		t.Errorf("user_created events: %v, %v; want 3", ev, err)
	}
	db.Close()

	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"twice", "", []string{"user", "seed", "--count", "5"}, 1, "refuses a database with users who are not administrators"},
		{"no count", "", []string{"user", "seed"}, 2, "needs --count"},
		{"too many", "", []string{"user", "seed", "--count", "1000001"}, 2, "needs --count"},
		{"argument", "", []string{"user", "seed", "--count", "5", "extra"}, 2, "no other arguments"},
		{"no password", "", []string{"user", "seed", "--count", "5", "--password-stdin"}, 2, "no password on standard input"},
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

	// A weak password is refused by the password rules, and nothing is added.
	fresh := t.TempDir()
	if _, err := cli(t, fresh, "password123\n", "user", "seed", "--count", "3", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "commonly used") {
		t.Errorf("seed with a common password: got %v, want the password rule", err)
	}
	if out, _ := cli(t, fresh, "", "user", "list"); strings.Count(out, "\n") != 1 {
		t.Errorf("list after a refused seed:\n%s\nwant no users", out)
	}
	// Without --password-stdin the users exist, with a password nobody knows.
	if out, err := cli(t, fresh, "", "user", "seed", "--count", "3"); err != nil || !strings.Contains(out, "Added 3 test users") {
		t.Errorf("seed without a password: %v %q", err, out)
	}
}
