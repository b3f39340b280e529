package backend_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestServerKeyCheck: the first Service on a database stores its key's check value (not the
// key); a Service with the same key starts on it again, from another process too; one with
// another key (a replica given the wrong key) is refused with a clear error and changes
// nothing, so the right key still starts. On every store.
func TestServerKeyCheck(t *testing.T) {
	t.Parallel()
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		t.Parallel()
		e := backendtest.New(t, backendtest.WithStore(kind))
		if n := e.CountRows("settings"); n != 1 {
			t.Fatalf("after the first Service: %d settings rows, want 1 (the key check)", n)
		}
		for name, content := range e.Contents() {
			if bytes.Contains(content, e.Key) || bytes.Contains(bytes.ToLower(content), []byte(hex.EncodeToString(e.Key))) {
				t.Errorf("%s holds the server key", name)
			}
		}
		if _, err := backend.New(backend.Config{Store: e.OpenStore(), SecretKey: e.Key}); err != nil {
			t.Fatalf("New with the same key on another store of the database: %v", err)
		}
		other := bytes.Clone(e.Key)
		other[31] ^= 1
		for range 2 {
			svc, err := backend.New(backend.Config{Store: e.OpenStore(), SecretKey: other})
			if svc != nil || !errors.Is(err, backend.ErrWrongServerKey) ||
				!strings.HasPrefix(err.Error(), "the server key is not the one this database was first used with: ") {
				t.Fatalf("New with another key: a Service %v, error %v; want no Service, ErrWrongServerKey", svc != nil, err)
			}
		}
		if _, err := backend.New(backend.Config{Store: e.OpenStore(), SecretKey: e.Key}); err != nil {
			t.Fatalf("New with the right key after a wrong one: %v", err)
		}
	})
}

// TestServerKeyCheckOfAnExistingDatabase: a database that has no check value yet (used before
// the check, or opened by no Service so far) gets it from the first Service, whose key is then
// the database's.
func TestServerKeyCheckOfAnExistingDatabase(t *testing.T) {
	t.Parallel()
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		t.Parallel()
		dir := t.TempDir()
		if kind.Remove != nil {
			t.Cleanup(func() { kind.Remove(dir) })
		}
		st, closeStore, err := kind.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeStore() })
		if err := st.CreateUser(t.Context(), &backend.User{Username: "old", Role: backend.RoleUser}, "h"); err != nil {
			t.Fatal(err)
		}
		if n, err := kind.CountRows(dir, "settings"); err != nil || n != 0 {
			t.Fatalf("before any Service: %d settings rows, %v; want none", n, err)
		}
		key := bytes.Repeat([]byte{9}, backend.SecretKeySize)
		if _, err := backend.New(backend.Config{Store: st, SecretKey: key}); err != nil {
			t.Fatalf("the first Service on the database: %v", err)
		}
		if n, _ := kind.CountRows(dir, "settings"); n != 1 {
			t.Fatalf("after the first Service: %d settings rows, want 1", n)
		}
		_, err = backend.New(backend.Config{Store: st, SecretKey: bytes.Repeat([]byte{8}, backend.SecretKeySize)})
		if !errors.Is(err, backend.ErrWrongServerKey) {
			t.Fatalf("a second key: %v, want ErrWrongServerKey", err)
		}
	})
}
