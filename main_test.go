package main

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/cli"
	"gatehouse/backend/web"
)

// gatehouse runs the command line in-process on dataDir and returns its output and error.
func gatehouse(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append(args, "--data", dataDir), strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

// TestCommandErrors: mistakes in the command line outside the user commands (those are
// backend/cli's) exit with status 2 and say what is wrong.
func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag", "", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"tls half", "", []string{"serve", "--tls-cert", "x.pem"}, 2, "go together"},
		{"retention not days", "", []string{"serve", "--audit-retention", "400d"}, 2, "a number of days"},
		{"retention zero", "", []string{"serve", "--audit-retention", "0"}, 2, "a number of days"},
		{"user command", "", []string{"user", "reset-2fa"}, 2, "takes one USERNAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := gatehouse(t, dir, tt.stdin, tt.args...)
			if err == nil {
				t.Fatalf("got no error, want one (output %q)", out)
			}
			if got := cli.ExitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			if !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %q / %q, want it to say %q", err, out, tt.want)
			}
		})
	}
}

// TestUserCommandsWired: main hands the user commands its data directory, key and store
// (backend/cli's tests cover the commands themselves): what one command creates, the next
// one sees, and a refused request exits with status 1.
func TestUserCommandsWired(t *testing.T) {
	dir := t.TempDir()
	out, err := gatehouse(t, dir, "correct horse battery\n", "user", "create", "--username", "alice", "--name", "Alice A", "--admin", "--password-stdin")
	if want := `Created admin "alice" (Two-Factor Authentication: No).`; err != nil || !strings.Contains(out, want) {
		t.Fatalf("create admin: %v %q, want %q", err, out, want)
	}
	if out, _ := gatehouse(t, dir, "", "user", "list"); !strings.Contains(out, "Alice A") {
		t.Errorf("list lacks alice:\n%s", out)
	}
	if _, err := gatehouse(t, dir, "correct horse battery\n", "user", "create", "--username", "ALICE", "--password-stdin"); cli.ExitCode(err) != 1 || !strings.Contains(err.Error(), "taken") {
		t.Errorf("create a taken username: %v, want exit 1 and taken", err)
	}
}

// TestAppCommandsWired: `gatehouse app …` reaches backend/cli's application commands on the
// data directory (their behaviour: backend/cli's TestAppCommands), and the usage names them.
func TestAppCommandsWired(t *testing.T) {
	dir := t.TempDir()
	out, err := gatehouse(t, dir, "", "app", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb")
	if err != nil || !strings.Contains(out, `Created application "Wiki".`) || !strings.Contains(out, "Client secret:") {
		t.Fatalf("app create: %v\n%s", err, out)
	}
	if out, _ := gatehouse(t, dir, "", "app", "list"); !strings.Contains(out, "Wiki") {
		t.Errorf("app list lacks Wiki:\n%s", out)
	}
	if _, err := gatehouse(t, dir, "", "app", "create", "--name", "wiki", "--redirect-uri", "https://wiki.example.com/cb"); cli.ExitCode(err) != 1 {
		t.Errorf("app create of a taken name: %v, want exit 1", err)
	}
	if out, _ := gatehouse(t, dir, "", "help"); !strings.Contains(out, "gatehouse app create") {
		t.Errorf("the usage names no app commands:\n%s", out)
	}
}

// TestHelp: --help is an answer, not a mistake, at every level; a flag mistake is printed once
// (the user commands' flags: backend/cli's TestHelp).
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"user", "--help"}, {"user", "create", "--help"}, {"serve", "-h"}} {
		out, err := gatehouse(t, t.TempDir(), "", args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: got %v, want help (exit 0)", args, err)
		}
		if !strings.Contains(out, "Usage") {
			t.Errorf("%q: printed %q, want the usage", args, out)
		}
	}
	// The usage says where the data is, SQLite or PostgreSQL (issue 12 #8).
	if out, _ := gatehouse(t, t.TempDir(), "", "help"); !strings.Contains(out, "--database postgres://… (or GATEHOUSE_DATABASE_URL)") || !strings.Contains(out, "GATEHOUSE_SECRET_KEY or --secret-key-file") {
		t.Errorf("help printed %q, want --database, GATEHOUSE_DATABASE_URL and the key settings", out)
	}
	// user --help prints the program's usage, the user commands' lines in it.
	if out, _ := gatehouse(t, t.TempDir(), "", "user", "--help"); !strings.Contains(out, "gatehouse serve [flags]") || !strings.Contains(out, cli.UsageLines) {
		t.Errorf("user --help printed %q, want the whole usage", out)
	}
	// --help prints the flags' defaults, some from the environment: never a secret's.
	t.Setenv("TWILIO_AUTH_TOKEN", "s3cr3tAuthToken")
	for _, args := range [][]string{{"serve", "--help"}, {"--help"}} {
		if out, _ := gatehouse(t, t.TempDir(), "", args...); strings.Contains(out, "s3cr3tAuthToken") || !strings.Contains(out, "twilio-auth-token") {
			t.Errorf("%q printed the auth token, or no --twilio-auth-token:\n%s", args, out)
		}
	}
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	out, err := gatehouse(t, t.TempDir(), "", "serve", "--nope")
	var u cli.UsageError
	if !errors.As(err, &u) || !u.Printed || strings.Count(out, "flag provided but not defined") != 1 {
		t.Errorf("a flag mistake: got %v, printed %q; want it printed once, with exit 2", err, out)
	}
}

// lockedBuffer is a buffer that a running command writes while the test reads it.
type lockedBuffer = backendtest.Logs

// TestServePrintsWhereToGo: serve (web.Run reports, main prints) tells on standard output where
// to open Gatehouse, where the SMS sandbox is, and, with no administrator yet, the one-time link
// and the commands that create the first one; none of it goes to the log.
func TestServePrintsWhereToGo(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--sms-sandbox"}, strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "With a built gatehouse program") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	base := regexp.MustCompile(`Open (http://localhost:\d+) in your browser`).FindStringSubmatch(out)
	if base == nil {
		t.Fatalf("serve printed %q, want where to open Gatehouse", out)
	}
	link := regexp.MustCompile(`\n    (` + regexp.QuoteMeta(base[1]) + `/setup/\S+)\n`).FindStringSubmatch(out)
	for _, want := range []string{
		"Gatehouse is running. Open " + base[1] + " in your browser.\n",
		"SMS sandbox: no text message leaves this machine. See them, and text the System, at " + base[1] + "/sms-sandbox\n",
		"\nNo administrator exists yet. Create the first one within 1 hour at:\n\n    " + base[1] + "/setup/",
		web.FirstAdminCLIText(dir, false),
		"user create --data " + dir + " --username NAME",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's standard output lacks %q:\n%s", want, out)
		}
	}
	if link == nil {
		t.Fatalf("no first-administrator link on its own line:\n%s", out)
	}
	if logs := stderr.String(); strings.Contains(logs, strings.TrimPrefix(link[1], base[1]+"/setup/")) || strings.Contains(logs, "Gatehouse is running") {
		t.Errorf("the log has what goes to standard output:\n%s", logs)
	}
}

func TestServerKey(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil {
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
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil {
		t.Fatalf("second open: %v", err)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(key, again) {
		t.Error("the key file changed on the second run")
	}

	// The database without its key: refuse, and do not make a new key.
	os.Remove(keyFile)
	_, err = gatehouse(t, dir, "", "user", "list")
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Errorf("open without key file: got %v, want a key file error", err)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Error("a new key file was made for an existing database")
	}

	t.Setenv("GATEHOUSE_SECRET_KEY", "c2hvcnQ=")
	if _, err := gatehouse(t, t.TempDir(), "", "user", "list"); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") {
		t.Errorf("short env key: got %v, want an error naming GATEHOUSE_SECRET_KEY", err)
	}
}

// TestServeRefusesAnotherServerKey: serve started with a server key other than the one its
// database was first used with (a replica given the wrong GATEHOUSE_SECRET_KEY) refuses to
// start, saying why, instead of failing on every sealed secret at runtime.
func TestServeRefusesAnotherServerKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GATEHOUSE_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, backend.SecretKeySize)))
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, backend.SecretKeySize)))
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "the server key is not the one this database was first used with: ") {
		t.Fatalf("serve with another key: %v, want the refusal\n%s", err, stderr.String())
	}
	if strings.Contains(stdout.String(), "Gatehouse is running") {
		t.Errorf("serve said it runs: %s", stdout.String())
	}
}

// TestDataDirectoryPrivate pins issue 9 F10: in a data directory that already existed with
// looser modes (0755, database files 0644 as earlier versions and SQLite made them), other local
// users could read the hashes, phones and audit log. Opening it makes all of it private; a
// directory that other users can write to is refused with a clear error and left alone.
func TestDataDirectoryPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil {
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
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil {
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
	_, err := gatehouse(t, shared, "", "user", "list")
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
	if _, err := gatehouse(t, dir, "", "user", "list"); err != nil { // the database and key, made once
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
	out, err := gatehouse(t, dir, "", "user", "list")
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
	out, _ := gatehouse(t, dir, "", "user", "list")
	if !strings.Contains(out, "root") || strings.Count(out, " admin ") != 1 {
		t.Errorf("user list after the link was used:\n%s", out)
	}
}

// TestVersion: `gatehouse version` and `gatehouse --version` print backend's version text. A
// program built with go build from a git checkout of this source names the commit it was built
// from, "(modified)" for a tree with changes, and the Go release that built it.
func TestVersion(t *testing.T) {
	t.Parallel() // a go build of the whole program: let the package's other tests run meanwhile
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, nil, &out, &out); err != nil || out.String() != backend.VersionText()+"\n" {
			t.Errorf("%q: got %v, %q; want %q", args, err, out.String(), backend.VersionText()+"\n")
		}
	}

	// The source as it is now, committed in a repository of its own (go stamps no VCS
	// information in a git worktree, whose .git is a file), then changed.
	src := t.TempDir()
	files, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "the source under test")
	head := git("rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	want := ", commit " + head + " (modified), " + strings.TrimSpace(string(goVersion)) + "\n"
	if err != nil || !strings.HasPrefix(string(out), "Gatehouse v0.0.0-") || !strings.HasSuffix(string(out), want) {
		t.Errorf("built gatehouse --version: %v, %q; want Gatehouse v0.0.0-… ending %q", err, out, want)
	}
}

// TestDesktopLoginSaysLocked (issue 11, web 4, for the console): App.Login of a locked account
// answers with backend's sentence, when the lock ends and whom to ask, which the console's Log
// in screen shows on its form (not signed out: nobody was signed in, issue 11 desktop 2), for
// an unknown name alike.
func TestDesktopLoginSaysLocked(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "hank", Password: "hanks long password"})
	ha := e.app()
	for range 10 {
		e.clock.Advance(31 * time.Second)
		ha.Login("hank", "wrong password")
		ha.Login("ghost", "wrong password")
	}
	until := e.clock.Now().Add(15 * time.Minute).Truncate(time.Minute).Add(time.Minute)
	want := "Too many failed attempts: try again after " + until.Local().Format("15:04 MST") + ", or ask your administrator."
	for _, name := range []string{"hank", "ghost"} {
		_, err := ha.Login(name, "hanks long password")
		if v := wantCode(t, ha, err, backend.ETOOMANY); v.Message != want || v.SignedOut {
			t.Errorf("Login(%s) while locked: %+v, want %q, not signed out", name, v, want)
		}
	}
}
