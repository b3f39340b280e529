package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/datadir"
	"gatehouse/backend/sqlite"
)

// testKey is the server key of the tests' data directories (main reads it from the key file).
var testKey = bytes.Repeat([]byte{7}, backend.SecretKeySize)

// openTest opens the System on dataDir as main's wiring does: the data directory made private,
// the real database file in it, and the Service over it with the real clock and argon2id
// parameters (backendtest, with its store). The store closes with t, or before with Close.
func openTest(t *testing.T, dataDir string, logger *slog.Logger) (*backend.Service, *sqlite.DB, error) {
	t.Helper()
	if _, err := datadir.Prepare(dataDir); err != nil {
		return nil, nil, err
	}
	h := backendtest.New(t, backendtest.InDataDir(dataDir, testKey), backendtest.WithRealClock(),
		backendtest.WithConfig(func(c *backend.Config) { c.Logger, c.Passwords = logger, backend.PasswordPolicy{} }))
	return h.Service, h.Store.(*sqlite.DB), nil
}

// testUsage stands for the program's usage, which main hands in.
const testUsage = "Usage:\n" + UsageLines

// cli runs a command line starting with "user" in-process on dataDir, as main runs it, and
// returns its output (standard output and error together) and error.
func cli(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	if len(args) == 0 || args[0] != "user" {
		t.Fatalf("cli %q: the package runs the user commands only", args)
	}
	var out bytes.Buffer
	e := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out, DataDir: dataDir, Usage: testUsage,
		Open: func(dir string, logger *slog.Logger) (*backend.Service, io.Closer, error) {
			svc, db, err := openTest(t, dir, logger)
			if err != nil {
				return nil, nil, err
			}
			return svc, db, nil
		}}
	err := e.User(context.Background(), append(args[1:], "--data", dataDir))
	return out.String(), err
}

// discard is a logger that writes nowhere.
func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
