package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/web"
)

// cli runs the command line in-process on dataDir and returns its output and error.
func cli(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append(args, "--data", dataDir), strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

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
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no username", "pw\n", []string{"user", "create", "--password-stdin"}, 2, "needs --username"},
		{"no password", "", []string{"user", "create", "--username", "x", "--password-stdin"}, 2, "no password on standard input"},
		{"taken", "correct horse battery\n", []string{"user", "create", "--username", "ALICE", "--password-stdin"}, 1, "taken"},
		{"common password", "password123\n", []string{"user", "create", "--username", "carol", "--password-stdin"}, 1, "commonly used"},
		{"short password", "short\n", []string{"user", "create", "--username", "carol", "--password-stdin"}, 1, "at least 8"},
		{"bad username", "correct horse battery\n", []string{"user", "create", "--username", "a b", "--password-stdin"}, 1, "A username is"},
		{"bad status", "", []string{"user", "list", "--status", "maybe"}, 2, `Unknown Two-Factor status "maybe"`},
		{"reset unknown", "", []string{"user", "reset-2fa", "nobody"}, 1, `There is no user "nobody"`},
		{"reset no name", "", []string{"user", "reset-2fa"}, 2, "takes one USERNAME"},
		{"bad flag", "", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"tls half", "", []string{"serve", "--tls-cert", "x.pem"}, 2, "go together"},
		{"retention not days", "", []string{"serve", "--audit-retention", "400d"}, 2, "a number of days"},
		{"retention zero", "", []string{"serve", "--audit-retention", "0"}, 2, "a number of days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cli(t, dir, tt.stdin, tt.args...)
			if err == nil {
				t.Fatalf("got no error, want one (output %q)", out)
			}
			if got := exitCode(err); got != tt.code {
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

func TestServerKey(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	if _, err := cli(t, dir, "", "user", "list"); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "secret.key")
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	key, _ := os.ReadFile(keyFile)
	if _, err := cli(t, dir, "", "user", "list"); err != nil {
		t.Fatalf("second open: %v", err)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(key, again) {
		t.Error("the key file changed on the second run")
	}

	// The database without its key: refuse, and do not make a new key.
	os.Remove(keyFile)
	_, err = cli(t, dir, "", "user", "list")
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Errorf("open without key file: got %v, want a key file error", err)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Error("a new key file was made for an existing database")
	}

	t.Setenv("GATEHOUSE_SECRET_KEY", "c2hvcnQ=")
	if _, err := cli(t, t.TempDir(), "", "user", "list"); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") {
		t.Errorf("short env key: got %v, want an error naming GATEHOUSE_SECRET_KEY", err)
	}
}

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
	sys, err := open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"user000000", "user000011"} {
		if _, err := sys.svc.Login(context.Background(), name, "seeded passphrase 1"); err != nil {
			t.Errorf("login as %s: %v", name, err)
		}
	}
	ev, err := sys.svc.AuditLog(context.Background(), sys.svc.Operator(), backend.AuditFilter{Action: backend.AuditUserCreated})
	if err != nil || ev.Total != 3 { // alice, user000000, and the one event for the other 11
		t.Errorf("user_created events: %v, %v; want 3", ev, err)
	}
	sys.Close()

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
			if got := exitCode(err); got != tt.code {
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

// TestHelp: --help is an answer, not a mistake, at every level; a flag mistake is printed once.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"user", "--help"}, {"user", "create", "--help"}, {"serve", "-h"}} {
		out, err := cli(t, t.TempDir(), "", args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: got %v, want help (exit 0)", args, err)
		}
		if !strings.Contains(out, "Usage") {
			t.Errorf("%q: printed %q, want the usage", args, out)
		}
	}
	out, err := cli(t, t.TempDir(), "", "user", "create", "--password", "x")
	var u usageError
	if !errors.As(err, &u) || !u.printed || strings.Count(out, "flag provided but not defined") != 1 {
		t.Errorf("a flag mistake: got %v, printed %q; want it printed once, with exit 2", err, out)
	}
}

// TestUserUnlock: `user unlock` lifts a lock after too many failed attempts (the way back for an
// administrator, who cannot unlock their own account), and says so when there is none.
func TestUserUnlock(t *testing.T) {
	dir := t.TempDir()
	if out, err := cli(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--admin", "--password-stdin"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if _, err := cli(t, dir, "", "user", "unlock", "alice"); err == nil || !strings.Contains(err.Error(), "alice is not locked.") {
		t.Errorf("unlock of an account not locked: %v, want that alice is not locked", err)
	}
	sys, err := openCLI(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	u, err := sys.svc.UserByUsername(context.Background(), sys.svc.Operator(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	lock := func(f *backend.Failures, now time.Time) error {
		f.Count, f.LockedUntil = 10, now.Add(15*time.Minute)
		return nil
	}
	if err := sys.db.UpdateFailures(context.Background(), u.ID, lock); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.svc.Login(context.Background(), "alice", "correct horse battery"); err == nil {
		t.Fatal("locked: the right password signed in")
	}
	// A disabled account that is also locked reads Disabled (backend's AccountState), as on the
	// web and in the console.
	bob, err := sys.svc.CreateUser(context.Background(), sys.svc.Operator(), backend.NewUser{Username: "bob", Password: "bobs long password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.db.UpdateFailures(context.Background(), bob.ID, lock); err != nil {
		t.Fatal(err)
	}
	off := true
	if _, err := sys.svc.UpdateUser(context.Background(), sys.svc.Operator(), bob.ID, backend.UserChanges{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	sys.Close()
	out, err := cli(t, dir, "", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		want := map[string]backend.AccountState{"alice": backend.AccountLocked, "bob": backend.AccountDisabled}[f[0]]
		if want != "" && !slices.Contains(f, want.Label()) {
			t.Errorf("user list: %q, want the account %s", line, want.Label())
		}
	}

	out, err = cli(t, dir, "", "user", "unlock", "ALICE")
	if err != nil || !strings.Contains(out, `"alice" is unlocked.`) {
		t.Errorf("unlock: %v %q", err, out)
	}
	sys, err = openCLI(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if _, err := sys.svc.Login(context.Background(), "alice", "correct horse battery"); err != nil {
		t.Errorf("after unlock: %v, want the login to go on", err)
	}
}

// TestDataDirectoryPrivate pins issue 9 F10: in a data directory that already existed with
// looser modes (0755, database files 0644 as earlier versions and SQLite made them), other local
// users could read the hashes, phones and audit log. Opening it makes all of it private; a
// directory that other users can write to is refused with a clear error and left alone.
func TestDataDirectoryPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := cli(t, dir, "", "user", "list"); err != nil {
		t.Fatal(err)
	}
	// Loosen everything, as an older install or a hand-made directory would have it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Chmod(filepath.Join(dir, e.Name()), 0o644)
	}
	if _, err := cli(t, dir, "", "user", "list"); err != nil {
		t.Fatalf("open a loose data directory: %v", err)
	}
	checkMode := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	checkMode(dir, 0o700)
	entries, _ = os.ReadDir(dir)
	if len(entries) < 2 {
		t.Fatalf("data directory holds %d files, want the database and the key", len(entries))
	}
	for _, e := range entries {
		checkMode(filepath.Join(dir, e.Name()), 0o600)
	}

	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o1777) // like /tmp
	_, err := cli(t, shared, "", "user", "list")
	if err == nil || !strings.Contains(err.Error(), "can be written by other users") || !strings.Contains(err.Error(), shared) {
		t.Errorf("open a world-writable data directory: got %v, want a clear refusal naming it", err)
	}
	if entries, _ := os.ReadDir(shared); len(entries) != 0 {
		t.Errorf("the refused directory was written to: %d files", len(entries))
	}
	checkMode(shared, 0o777)
}

// firstAdminEnv names the data directory of TestHelperFirstAdmin; firstAdminAtEnv the moment
// (Unix nanoseconds) when it tries.
const firstAdminEnv, firstAdminAtEnv = "GATEHOUSE_TEST_FIRST_ADMIN_DIR", "GATEHOUSE_TEST_FIRST_ADMIN_AT"

// TestHelperFirstAdmin is not a test: TestFirstAdminTwoProcesses runs the test binary with it,
// as a process of its own that opens the data directory and creates the first administrator,
// as a desktop console does.
func TestHelperFirstAdmin(t *testing.T) {
	dir := os.Getenv(firstAdminEnv)
	if dir == "" {
		return
	}
	sys, err := open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	at, _ := strconv.ParseInt(os.Getenv(firstAdminAtEnv), 10, 64)
	time.Sleep(time.Until(time.Unix(0, at)))
	_, err = sys.svc.CreateFirstAdmin(context.Background(), backend.NewUser{Username: os.Getenv("GATEHOUSE_TEST_USERNAME"), Password: "first admin passphrase"})
	sys.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, backend.ErrorMessage(err))
		os.Exit(1)
	}
	os.Exit(0)
}

// TestFirstAdminTwoProcesses pins issue 10 (the first administrator): a lock in process memory
// serialized CreateFirstAdmin, so two processes on one data directory (two consoles, a console
// and a server, two servers) could each make a "first" administrator. Six processes try at
// the same moment: exactly one succeeds, the others are told an administrator exists.
func TestFirstAdminTwoProcesses(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	if _, err := cli(t, dir, "", "user", "list"); err != nil { // the database and key, made once
		t.Fatal(err)
	}
	at := strconv.FormatInt(time.Now().Add(2*time.Second).UnixNano(), 10)
	const n = 6
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperFirstAdmin$")
		cmds[i].Env = append(os.Environ(), firstAdminEnv+"="+dir, firstAdminAtEnv+"="+at, fmt.Sprintf("GATEHOUSE_TEST_USERNAME=admin%d", i))
		outs[i] = &strings.Builder{}
		cmds[i].Stderr = outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	created := 0
	for i, cmd := range cmds {
		err := cmd.Wait()
		switch {
		case err == nil:
			created++
		case cmd.ProcessState.ExitCode() == 1 && strings.Contains(outs[i].String(), "An administrator already exists"):
		default:
			t.Errorf("process %d: %v: %s", i, err, outs[i].String())
		}
	}
	out, err := cli(t, dir, "", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	if admins := strings.Count(out, " admin "); created != 1 || admins != 1 {
		t.Errorf("%d processes created an administrator, and the list shows %d; want 1 and 1:\n%s", created, admins, out)
	}
}

// TestFirstAdminLinkAnotherServer pins issue 10 (the first-administrator link): the link lived in
// the memory of the server that printed it, so another server on the same data directory, or
// the same one restarted, refused it. Only its hash is in the store now: the link printed by one
// server creates the administrator on another, once.
func TestFirstAdminLinkAnotherServer(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Two servers, each with its own store and Service on the data directory, as two processes.
	servers := make([]*web.Server, 2)
	for i := range servers {
		sys, err := open(dir, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sys.Close() })
		if servers[i], err = web.NewServer(web.Config{Service: sys.svc, Logger: logger}); err != nil {
			t.Fatal(err)
		}
	}
	link, err := servers[0].FirstAdminURL(context.Background(), "http://gatehouse.test")
	if err != nil || link == "" {
		t.Fatalf("FirstAdminURL: %q, %v", link, err)
	}
	post := func(srv *web.Server) int {
		t.Helper()
		form := url.Values{"username": {"root"}, "password": {"first admin passphrase"}, "confirm_password": {"first admin passphrase"}}
		req := httptest.NewRequest(http.MethodPost, link, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := post(servers[1]); got != http.StatusSeeOther {
		t.Fatalf("the link on the other server: status %d, want 303 (administrator created)", got)
	}
	if got := post(servers[0]); got != http.StatusNotFound {
		t.Errorf("the used link again, on the server that printed it: status %d, want 404", got)
	}
	out, _ := cli(t, dir, "", "user", "list")
	if !strings.Contains(out, "root") || strings.Count(out, " admin ") != 1 {
		t.Errorf("user list after the link was used:\n%s", out)
	}
}
