package serverkey

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeKey(t *testing.T, path string, key []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 32)
	enc := base64.StdEncoding.EncodeToString(key)
	private := filepath.Join(dir, "private.key")
	writeKey(t, private, other, 0o600)
	shared := filepath.Join(dir, "shared.key")
	writeKey(t, shared, other, 0o640)

	for _, tc := range []struct {
		name    string
		src     Source
		want    []byte
		wantErr string
	}{
		{"environment", Source{Env: enc}, key, ""},
		{"environment with a newline", Source{Env: enc + "\n"}, key, ""},
		{"environment wins over the data directory", Source{Env: enc, DataDir: dir}, key, ""},
		{"environment, short", Source{Env: "c2hvcnQ="}, nil, "GATEHOUSE_SECRET_KEY: want the base64 encoding of 32 random bytes"},
		{"environment, hex", Source{Env: strings.Repeat("ab", 32)}, nil, "GATEHOUSE_SECRET_KEY: want the base64"},
		{"file", Source{File: private}, other, ""},
		{"file, shared store", Source{File: private, DataDir: ""}, other, ""},
		{"file readable by the group", Source{File: shared}, nil, "can be read or changed by other users (mode 0640): make it private (chmod 600 " + shared + ")"},
		{"file missing", Source{File: filepath.Join(dir, "none")}, nil, "--secret-key-file"},
		{"file is a directory", Source{File: dir}, nil, "is not a regular file"},
		{"both", Source{Env: enc, File: private}, nil, "given twice"},
		{"shared store without a key", Source{}, nil, "with a PostgreSQL database the server key must be given, the same to every server: set GATEHOUSE_SECRET_KEY, or --secret-key-file PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: got %x, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("Load: got %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

// TestDataDirKey: with SQLite and no key given, the data directory's key file is made (0600)
// with a new database, read again afterwards, and its loss with the database still there is
// refused without making a new one.
func TestDataDirKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	src := Source{DataDir: dir, Database: db}
	key, err := Load(src)
	if err != nil || len(key) != 32 {
		t.Fatalf("first Load: %x, %v", key, err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	os.WriteFile(db, nil, 0o600)
	if again, err := Load(src); err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second Load: %x, %v; want the same key", again, err)
	}
	os.Remove(filepath.Join(dir, FileName))
	if _, err := Load(src); err == nil || !strings.Contains(err.Error(), "is missing but the database exists") {
		t.Fatalf("Load without the key file: %v, want the missing key file refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		t.Fatal("a new key file was made for an existing database")
	}
}
