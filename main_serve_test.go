package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"gatehouse/backend/cli"
	"gatehouse/backend/postgres/pgtest"
)

// serveInProcess runs serve in the background with args until the test ends; it returns its
// standard output and log.
func serveInProcess(t *testing.T, args ...string) (stdout, stderr *lockedBuffer, done <-chan error) {
	t.Helper()
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() {
		ch <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), stdout, stderr)
		close(ch) // the cleanup's read, after the test's, returns at once
	}()
	t.Cleanup(func() {
		cancel()
		<-ch
	})
	return stdout, stderr, ch
}

// waitFor waits until buf holds want, or fails t after d.
func waitFor(t *testing.T, buf *lockedBuffer, want string, d time.Duration, log *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, no %q; log:\n%s", d, want, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeWaitsForTheDatabase pins issue 12 (#5): a replica started before its PostgreSQL
// exited at once (open store: … connection refused), and systemd soon stopped restarting it.
// serve keeps trying, with a WARN line per attempt, and comes up once the database does.
func TestServeWaitsForTheDatabase(t *testing.T) {
	cluster := pgtest.New(t, pgtest.Options{})
	u := cluster.Database(t)
	if err := cluster.Stop(); err != nil { // the same port, nothing listening on it
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_DATABASE_URL", u)
	t.Setenv("GATEHOUSE_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	stdout, stderr, done := serveInProcess(t, "--addr", "127.0.0.1:0")
	waitFor(t, stderr, "level=WARN msg=\"the database does not answer: trying again\" in=1s", 10*time.Second, stderr)
	waitFor(t, stderr, "in=2s", 10*time.Second, stderr)
	select {
	case err := <-done:
		t.Fatalf("serve ended while the database was down: %v\n%s", err, stderr.String())
	default:
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stdout, "Gatehouse is running", 40*time.Second, stderr)
	if !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("the WARN lines do not say why:\n%s", stderr.String())
	}
}

// TestServeRefusesAtOnce: a database that answers with a refusal (here: no such database) is
// no outage to wait out: serve exits with the error.
func TestServeRefusesAtOnce(t *testing.T) {
	c := pgtest.Shared(t)
	t.Setenv("GATEHOUSE_DATABASE_URL", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/no_such_database?sslmode=disable", c.Port()))
	t.Setenv("GATEHOUSE_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	_, stderr, done := serveInProcess(t, "--addr", "127.0.0.1:0")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("serve: got %v, want the database's refusal", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still runs 20 s after the database refused it:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "trying again") {
		t.Errorf("serve waited for a database that refused it:\n%s", stderr.String())
	}
}

// TestServeWarnsOfSQLiteWithAKey pins issue 12 (#2): with a server key given but the URL lost
// (an env file's unquoted & ends it in a shell), a replica started alone on a new SQLite and
// said nothing. It says so with a WARN line naming the data directory; without a key, as on
// one machine, it does not.
func TestServeWarnsOfSQLiteWithAKey(t *testing.T) {
	t.Setenv("GATEHOUSE_DATABASE_URL", "")
	for _, key := range []string{base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)), ""} {
		t.Run(fmt.Sprintf("key=%v", key != ""), func(t *testing.T) {
			t.Setenv("GATEHOUSE_SECRET_KEY", key)
			dir := t.TempDir()
			stdout, stderr, _ := serveInProcess(t, "--addr", "127.0.0.1:0", "--data", dir)
			waitFor(t, stdout, "Gatehouse is running", 20*time.Second, stderr)
			want := "level=WARN msg=\"a server key is given but no database URL (--database, GATEHOUSE_DATABASE_URL): this server runs on the embedded SQLite in " + dir
			if got := strings.Contains(stderr.String(), want); got != (key != "") {
				t.Errorf("the log has %q: %v, want %v:\n%s", want, got, key != "", stderr.String())
			}
		})
	}
}

// TestServePublicURLHTTPS pins issue 12 (#6): an http public URL on a host that is not loopback
// failed with an error about the OpenID Connect issuer; it is a --public-url mistake.
func TestServePublicURLHTTPS(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://login.test:8443", "--public-url (GATEHOUSE_PUBLIC_URL) must use https; http only for localhost"},
		{"login.test", "is not an absolute URL"},
		{"http://localhost:8080", ""},
		{"http://[::1]:8080", ""},
		{"https://login.test:8443", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Setenv("GATEHOUSE_SECRET_KEY", "")
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			stdout, stderr, done := serveInProcess(t, "--addr", addr, "--data", t.TempDir(), "--public-url", tc.url)
			if tc.want == "" {
				waitFor(t, stdout, "Gatehouse is running", 20*time.Second, stderr)
				return
			}
			err = <-done
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "issuer") || cli.ExitCode(err) != 2 {
				t.Errorf("serve --public-url %s: got %v (exit %d), want %q, exit 2", tc.url, err, cli.ExitCode(err), tc.want)
			}
		})
	}
}
