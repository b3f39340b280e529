// Package serverkey finds the server key: the 32 random bytes under which Gatehouse seals TOTP
// secrets, Authorization Codes and the recovery codes on show (AES-256-GCM). The key is never in
// the database, so a copy of the database alone opens no secret; without the key no enrolled
// authenticator app can be checked. Every command (serve, the desktop console, user …) finds it
// by the one rule of Load.
//
// The key is written as the standard base64 encoding of its 32 bytes (44 characters), in the
// environment variable and in a key file alike: a new one is `head -c 32 /dev/urandom | base64`.
package serverkey

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gatehouse/backend"
)

// EnvVar is the environment variable that may hold the key.
const EnvVar = "GATEHOUSE_SECRET_KEY"

// FileName is the key file in a SQLite installation's data directory.
const FileName = "secret.key"

// newKeyHint says how to make a key.
const newKeyHint = "`head -c 32 /dev/urandom | base64`"

// Source is where the key may come from.
type Source struct {
	Env  string // the value of GATEHOUSE_SECRET_KEY; "" when unset
	File string // --secret-key-file: a file holding the key, private to the user
	// DataDir is the data directory of a SQLite installation, whose key file is used when
	// neither Env nor File is given (and made with a new database). "" for a shared store
	// (PostgreSQL): each of its servers must be given the key.
	DataDir string
	// Database is the SQLite database file in DataDir: that it exists while the key file does
	// not means the key was lost.
	Database string
}

// Load returns the server key:
//
//   - GATEHOUSE_SECRET_KEY, if set;
//   - else the file given with --secret-key-file, which other users must not be able to read;
//   - else, with SQLite, the data directory's secret.key, made (mode 0600) with a new database.
//     A database without its key file is refused: a new key could not open the secrets
//     already stored.
//
// With PostgreSQL there is no third way: several servers share the database, and a key made
// by one would open nothing the others sealed, so a server without a key refuses to start.
// Both GATEHOUSE_SECRET_KEY and --secret-key-file at once is a mistake too: which one counts
// would be a guess.
func Load(src Source) ([]byte, error) {
	switch {
	case src.Env != "" && src.File != "":
		return nil, fmt.Errorf("the server key is given twice, in %s and with --secret-key-file: give it one way", EnvVar)
	case src.Env != "":
		return Decode(src.Env, EnvVar)
	case src.File != "":
		return readFile(src.File)
	case src.DataDir == "":
		return nil, fmt.Errorf("with a PostgreSQL database the server key must be given, the same to every server: set %s, or --secret-key-file PATH, to the base64 of 32 random bytes (a new one: %s; keep it safe, it opens every enrolled authenticator app)", EnvVar, newKeyHint)
	}
	return dataDirKey(src.DataDir, src.Database)
}

// readFile reads the key file given by path, refusing one that other users can read or write.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--secret-key-file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("--secret-key-file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("--secret-key-file %s can be read or changed by other users (mode %04o): make it private (chmod 600 %s)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--secret-key-file: %w", err)
	}
	return Decode(string(b), path)
}

// dataDirKey reads the data directory's key file, or makes it for a new database.
func dataDirKey(dataDir, database string) ([]byte, error) {
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	if err == nil {
		return Decode(string(b), path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if _, err := os.Stat(database); err == nil {
		return nil, fmt.Errorf("the key file %s is missing but the database exists: restore the key file (or set %s); without it enrolled authenticator apps cannot be checked", path, EnvVar)
	}
	key := make([]byte, backend.SecretKeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	return key, f.Close()
}

// Decode reads a key written as base64 (surrounding space ignored); source names where it came
// from, for the error.
func Decode(s, source string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != backend.SecretKeySize {
		return nil, fmt.Errorf("%s: want the base64 encoding of %d random bytes (e.g. %s)", source, backend.SecretKeySize, newKeyHint)
	}
	return key, nil
}
