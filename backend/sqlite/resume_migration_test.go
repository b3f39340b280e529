package sqlite

import (
	"path/filepath"
	"testing"
	"time"
)

// TestResumeMigrationCarriesLoginsUnderWay: migration 0016 moves what logins under way
// resume, pending sign-ins (the newest of each login's) and pages, into login_resumes; a
// login that had both goes back to the sign-in; a complete request stays bound only to its
// session and resumes nothing.
func TestResumeMigrationCarriesLoginsUnderWay(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := -1
	for i, m := range ms {
		if m.name == "0016_login_resumes.sql" {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no migration 0016_login_resumes.sql")
	}
	db := openRaw(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err := db.migrateTo(ctx, ms[:before]); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UnixNano()
	for _, q := range []string{
		`INSERT INTO apps (id, client_id, name, created_at, updated_at) VALUES (1, 'gh-a', 'A', 0, 0)`,
		`INSERT INTO oidc_auth_requests (id, app_id, client_id, redirect_uri, owner_hash, created_at, expires_at) VALUES
			('old', 1, 'gh-a', 'https://a/cb', 'attempt-1', 1, ?1),
			('new', 1, 'gh-a', 'https://a/cb', 'attempt-1', 2, ?1),
			('other', 1, 'gh-a', 'https://a/cb', 'attempt-3', 1, ?1)`,
		`INSERT INTO oidc_auth_requests (id, app_id, client_id, redirect_uri, owner_hash, done, created_at, expires_at) VALUES
			('complete', 1, 'gh-a', 'https://a/cb', 'session-9', 1, 1, ?1)`,
		`INSERT INTO login_returns (owner_hash, url, expires_at) VALUES
			('attempt-1', 'https://wiki.example.com/both', ?1), ('attempt-2', 'https://wiki.example.com/page', ?1)`,
	} {
		if _, err := db.writer.Exec(q, exp); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.migrateTo(ctx, ms); err != nil {
		t.Fatal(err)
	}
	for owner, want := range map[string][2]string{
		"attempt-1": {"new", ""},
		"attempt-2": {"", "https://wiki.example.com/page"},
		"attempt-3": {"other", ""},
	} {
		r, err := db.FindLoginResume(ctx, owner)
		if err != nil || r.AuthRequestID != want[0] || r.URL != want[1] || r.ExpiresAt.UnixNano() != exp {
			t.Errorf("%s after the migration: got %+v, %v; want request %q, URL %q", owner, r, err, want[0], want[1])
		}
	}
	if _, err := db.FindLoginResume(ctx, "session-9"); err == nil {
		t.Error("a complete request's session resumes it")
	}
	var owner string
	db.writer.QueryRow(`SELECT owner_hash FROM oidc_auth_requests WHERE id = 'complete'`).Scan(&owner)
	if owner != "session-9" {
		t.Errorf("the complete request's session: %q, want session-9 kept", owner)
	}
	var n int
	db.writer.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'login_returns'`).Scan(&n)
	if n != 0 {
		t.Error("login_returns is still there")
	}
}
