package sqlite

// SQLite alone: its migration 0005 of an older file. The contract tests are in backend/storetest.

import (
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
		if err := old.AddAuditEvent(ctx, e); err != nil {
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
