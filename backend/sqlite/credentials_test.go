package sqlite

// SQLite alone: its migrations 0005 and 0010 of an older file. The contract tests are in
// backend/storetest.

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/backend"
)

func TestMigration0005(t *testing.T) {
	ms, err := migrations()
	if err != nil || len(ms) < 5 {
		t.Fatal(ms, err)
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	old := openRaw(t, path)
	if err := old.migrateTo(ctx, ms[:4]); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*backend.AuditEvent{
		{Action: "login.failure", TargetName: "my secret password", Detail: "unknown username"},
		{Action: "login.throttled", TargetName: "MY SECRET PASSWORD", Detail: "unknown username"},
		{Action: "login.failure", TargetID: 1, TargetName: "alice", Detail: "wrong password"},
	} {
		// The columns of audit_events at 0004 (AddAuditEvent writes today's).
		if _, err := old.writer.Exec(`INSERT INTO audit_events (at, action, target_id, target_name, detail, actor_name, ip)
			VALUES (0, ?, NULLIF(?, 0), ?, ?, '', '')`, e.Action, e.TargetID, e.TargetName, e.Detail); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.writer.Exec(`INSERT INTO unknown_logins (username, failed_count, updated_at) VALUES ('my secret password', 3, 0)`); err != nil {
		t.Fatal(err)
	}
	old.writer.Close()

	db := openDB(t, path)
	events, _, _ := db.FindAuditEvents(ctx, backend.AuditFilter{})
	var names []string
	for _, e := range events {
		names = append(names, e.TargetName)
	}
	if got, want := strings.Join(names, ", "), "alice, (unknown username), (unknown username)"; got != want {
		t.Errorf("target names after 0005: %s, want %s", got, want)
	}
	var rows int
	db.reader.QueryRow(`SELECT COUNT(*) FROM unknown_logins`).Scan(&rows)
	if rows != 0 {
		t.Errorf("unknown_logins after 0005: %d rows, want none", rows)
	}
}

// TestMigration0010: a database from before the server key check (migration 0009) gets the
// settings table, empty, and keeps its users; the first Service on it stores its key's check
// value, and a Service with another key is refused from then on.
func TestMigration0010(t *testing.T) {
	ms, err := migrations()
	if err != nil || len(ms) < 10 || !strings.HasPrefix(ms[9].name, "0010_") {
		t.Fatal(ms, err)
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	old := openRaw(t, path)
	if err := old.migrateTo(ctx, ms[:9]); err != nil {
		t.Fatal(err)
	}
	if err := old.CreateUser(ctx, &backend.User{Username: "alice", Role: backend.RoleAdmin}, "h"); err != nil {
		t.Fatal(err)
	}
	old.writer.Close()

	db := openDB(t, path)
	var n int
	if err := db.reader.QueryRow(`SELECT count(*) FROM settings`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("settings after the migration: %d rows, %v; want an empty table", n, err)
	}
	if _, err := db.FindUserByUsername(ctx, "alice"); err != nil {
		t.Fatalf("a user from before the migration: %v", err)
	}
	key := bytes.Repeat([]byte{1}, backend.SecretKeySize)
	if _, err := backend.New(backend.Config{Store: db, SecretKey: key}); err != nil {
		t.Fatalf("the first Service on the migrated database: %v", err)
	}
	_, err = backend.New(backend.Config{Store: openDB(t, path), SecretKey: bytes.Repeat([]byte{2}, backend.SecretKeySize)})
	if !errors.Is(err, backend.ErrWrongServerKey) {
		t.Fatalf("another key after the first: %v, want ErrWrongServerKey", err)
	}
}
