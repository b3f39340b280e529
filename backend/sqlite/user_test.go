package sqlite

// SQLite alone: its two ways of paging a search (walkThreshold) and its FTS index migration.
// The contract tests are in backend/storetest.

import (
	"fmt"
	"path/filepath"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/storetest"
)

func ptr[T any](v T) *T { return &v }

func createUser(t testing.TB, db *DB, username string, role backend.Role) *backend.User {
	t.Helper()
	u := &backend.User{Username: username, DisplayName: "Name of " + username, Email: username + "@example.com", Role: role}
	if err := db.CreateUser(ctx, u, "hash-"+username); err != nil {
		t.Fatalf("CreateUser %q: %v", username, err)
	}
	return u
}

// TestFindUsersBothWays: SQLite finds a page of search results in one of two ways, by the
// number of matches (walkThreshold); both give the suite's answers. (The suite runs the
// default alone.)
func TestFindUsersBothWays(t *testing.T) {
	for _, walk := range []int{0, 1 << 30} {
		t.Run(fmt.Sprintf("walkThreshold=%d", walk), func(t *testing.T) {
			defer func(w int) { walkThreshold = w }(walkThreshold)
			walkThreshold = walk
			storetest.FindUsers(t, opener)
		})
	}
}

func TestSearchIndexBuiltForExistingUsers(t *testing.T) {
	ms, err := migrations()
	if err != nil || len(ms) < 2 {
		t.Fatal(ms, err)
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	old := openRaw(t, path)
	if err := old.migrateTo(ctx, ms[:1]); err != nil {
		t.Fatal(err)
	}
	createUser(t, old, "legacy", backend.RoleUser)
	old.writer.Close()

	db := openDB(t, path)
	if _, n, err := db.FindUsers(ctx, backend.UserFilter{Search: "egac"}); err != nil || n != 1 {
		t.Fatalf("search for a user created before 0002: %d, %v; want 1", n, err)
	}
}
