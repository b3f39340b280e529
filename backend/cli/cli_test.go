package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/datadir"
	"gatehouse/backend/sqlite"
)

// testKey is the server key of the tests' data directories (main reads it from the key file).
var testKey = bytes.Repeat([]byte{7}, backend.SecretKeySize)

// openTest opens the System on dataDir as main's wiring does: a real database file in the
// data directory, made private, and the Service over it.
func openTest(dataDir string, logger *slog.Logger) (*backend.Service, *sqlite.DB, error) {
	if _, err := datadir.Prepare(dataDir); err != nil {
		return nil, nil, err
	}
	db, err := sqlite.Open(filepath.Join(dataDir, "gatehouse.db"))
	if err != nil {
		return nil, nil, err
	}
	svc, err := backend.New(backend.Config{Store: db, SecretKey: testKey, Logger: logger})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, db, nil
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
			svc, db, err := openTest(dir, logger)
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
