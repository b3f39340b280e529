package location

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/cli"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/serverkey"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	ctx     = context.Background()
	discard = slog.New(slog.NewTextHandler(io.Discard, nil))
	testKey = bytes.Repeat([]byte{7}, backend.SecretKeySize)
)

// withPassword is the test database's URL with a password in it (the test cluster ignores it):
// what must never reach a log.
func withPassword(u string) string {
	return strings.Replace(u, "postgres://postgres@", "postgres://postgres:pa55-w0rd-x@", 1)
}

func TestAddFlags(t *testing.T) {
	t.Setenv(DatabaseEnv, "postgres://from-env/db")
	for _, tc := range []struct {
		args []string
		want Where
	}{
		{nil, Where{Database: "postgres://from-env/db"}},
		{[]string{"--database", "postgres://flag/db", "--secret-key-file", "/k"}, Where{Database: "postgres://flag/db", KeyFile: "/k"}},
		{[]string{"--database", ""}, Where{}},
	} {
		var w Where
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		w.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if w != tc.want {
			t.Errorf("flags %q: got %+v, want %+v", tc.args, w, tc.want)
		}
	}

	// --help shows the environment's URL as the default, without its password.
	t.Setenv(DatabaseEnv, "postgres://gh:pa55-w0rd-x@db.example:5432/gatehouse?password=pa55-w0rd-x")
	var help bytes.Buffer
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(&help)
	new(Where).AddFlags(fs)
	fs.PrintDefaults()
	if !strings.Contains(help.String(), "postgres://gh:xxxxx@db.example:5432/gatehouse?password=xxxxx") || strings.Contains(help.String(), "pa55-w0rd-x") {
		t.Errorf("--help:\n%s\nwant the default URL without its password", help.String())
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Setenv(serverkey.EnvVar, "")
	dir := filepath.Join(t.TempDir(), "data")
	st, err := Open(ctx, Where{DataDir: dir}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, f := range []string{DatabaseFile, serverkey.FileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the data directory lacks %s: %v", f, err)
		}
	}
	if fmt.Sprint(st.Log) != fmt.Sprint([]any{"store", "sqlite", "data_directory", dir}) {
		t.Errorf("Log = %v", st.Log)
	}
}

// TestOpenPostgres: with --database, the store is PostgreSQL, the key must be given (the
// environment or a private file), the data directory is left alone, and the log names the
// host and database but never the password. Two servers given one key share everything.
func TestOpenPostgres(t *testing.T) {
	u := withPassword(pgtest.Database(t))
	dir := filepath.Join(t.TempDir(), "data")

	t.Setenv(serverkey.EnvVar, "")
	if st, err := Open(ctx, Where{DataDir: dir, Database: u}, discard); err == nil {
		st.Close()
		t.Fatal("PostgreSQL without a server key: opened, want refused")
	} else if !strings.Contains(err.Error(), "server key must be given") {
		t.Fatalf("PostgreSQL without a server key: %v", err)
	}
	if st, err := Open(ctx, Where{Database: "mysql://root@localhost/db"}, discard); err != ErrNotPostgres {
		if st != nil {
			st.Close()
		}
		t.Fatalf("a MySQL URL: %v, want ErrNotPostgres", err)
	}

	t.Setenv(serverkey.EnvVar, base64.StdEncoding.EncodeToString(testKey))
	a, err := Open(ctx, Where{DataDir: dir, Database: u}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !bytes.Equal(a.Key, testKey) {
		t.Errorf("key %x, want the environment's", a.Key)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("with PostgreSQL the data directory was made")
	}
	if log := fmt.Sprint(a.Log); !strings.Contains(log, "store postgres host 127.0.0.1:") || strings.Contains(log, "pa55-w0rd-x") {
		t.Errorf("Log = %s: want the host and database, never the password", log)
	}

	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(testKey)), 0o600)
	t.Setenv(serverkey.EnvVar, "")
	b, err := Open(ctx, Where{Database: u, KeyFile: keyFile}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u1 := &backend.User{Username: "ann", Role: backend.RoleUser}
	if err := a.CreateUser(ctx, u1, "h"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.FindUserByUsername(ctx, "ann"); err != nil || got.ID != u1.ID || !bytes.Equal(b.Key, a.Key) {
		t.Fatalf("the second server: %v, %v, key %x; want the first one's user and key", got, err, b.Key)
	}
}

// TestUserCommandsOnPostgres: the user commands take --database and --secret-key-file through
// cli.Env.StoreFlags, as main wires them, and work on PostgreSQL.
func TestUserCommandsOnPostgres(t *testing.T) {
	t.Setenv(serverkey.EnvVar, "")
	t.Setenv(DatabaseEnv, "")
	u := pgtest.Database(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(testKey)+"\n"), 0o600)
	dataDir := filepath.Join(t.TempDir(), "unused")
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		var w Where
		e := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out, DataDir: dataDir, Usage: "usage",
			StoreFlags: w.AddFlags,
			Open: func(dir string, logger *slog.Logger) (*backend.Service, io.Closer, error) {
				w.DataDir = dir
				st, err := Open(ctx, w, logger)
				if err != nil {
					return nil, nil, err
				}
				svc, err := backend.New(backend.Config{Store: st.Store, SecretKey: st.Key, Logger: logger,
					Passwords: backend.PasswordPolicy{Argon2: backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}}})
				if err != nil {
					st.Close()
					return nil, nil, err
				}
				return svc, closer(st.Close), nil
			}}
		err := e.User(ctx, args)
		return out.String(), err
	}
	out, err := run("a long passphrase for ann\n", "create", "--username", "ann", "--admin", "--password-stdin", "--database", u, "--secret-key-file", keyFile)
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	out, err = run("", "list", "--database", u, "--secret-key-file", keyFile)
	if err != nil || !strings.Contains(out, "ann") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("the user commands on PostgreSQL made a data directory")
	}
	if out, err := run("", "list", "--database", u); err == nil || !strings.Contains(err.Error(), "server key must be given") {
		t.Fatalf("user list without a key: %v\n%s", err, out)
	}
}

type closer func() error

func (c closer) Close() error { return c() }
