package backendtest

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"gatehouse/backend"
)

// DataDir makes a data directory in tb.TempDir as `gatehouse` makes one on first use, with a
// new server key in its key file (secret.key, base64, mode 0600), for a test that starts
// gatehouse processes on it; it returns the directory and the key (for InDataDir). The
// processes must not be given GATEHOUSE_SECRET_KEY, which would take the key file's place.
func DataDir(tb testing.TB) (dir string, key []byte) {
	tb.Helper()
	dir = tb.TempDir()
	key = make([]byte, backend.SecretKeySize)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return dir, key
}
