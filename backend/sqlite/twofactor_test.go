package sqlite

// SQLite alone: no SQLITE_BUSY between connections to one file, and its migration 0006. The
// contract tests are in backend/storetest.

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

func TestNoBusyErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	dbs := []*DB{openDB(t, path), openDB(t, path)}
	var users []*backend.User
	for _, name := range []string{"u0", "u1", "u2", "u3"} {
		users = append(users, createUser(t, dbs[0], name, backend.RoleUser))
	}
	var errs atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			db := dbs[g%2]
			u := users[g%len(users)]
			for i := range 200 {
				var err error
				switch i % 4 {
				case 0, 1:
					err = db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { f.Count++; return nil })
				case 2:
					_, err = db.UpdateUser(ctx, u.ID, backend.UserUpdate{DisplayName: ptr("n")})
				case 3:
					_, _, err = db.FindUsers(ctx, backend.UserFilter{Search: "u"})
				}
				if err != nil {
					errs.Add(1)
					t.Errorf("goroutine %d, op %d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := errs.Load(); n != 0 {
		t.Fatalf("%d errors, want 0", n)
	}
	total := 0
	for _, u := range users {
		dbs[0].UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { total += f.Count; return nil })
	}
	if total != 8*100 {
		t.Fatalf("total count %d, want %d", total, 8*100)
	}
}

func TestMigrateSetupOwner(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if !strings.HasPrefix(m.name, "0007_") {
			before = append(before, m)
			continue
		}
		break
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	old := openRaw(t, path)
	if err := old.migrateTo(ctx, before); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, username, role, password_hash, method, totp_secret, totp_pending, created_at, updated_at)
			VALUES (1, 'bob', 'user', 'h', 'app', x'01', x'02', 0, 0)`,
		`INSERT INTO sms_enrollments (user_id, code_hash, created_at, expires_at) VALUES (1, 'c', 0, 1)`,
	} {
		if _, err := old.writer.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.writer.Close()

	db := openDB(t, path)
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
	u, err := db.FindUserByUsername(ctx, "bob")
	if err != nil || u.Method != backend.MethodApp {
		t.Fatalf("bob after the migration: %+v, %v; want enrolled with the app", u, err)
	}
	if s, err := db.TOTPSecret(ctx, u.ID); err != nil || string(s) != "\x01" {
		t.Errorf("bob's secret after the migration: %q, %v", s, err)
	}
	var n int
	db.reader.QueryRow(`SELECT COUNT(*) FROM sms_enrollments`).Scan(&n)
	if n != 0 {
		t.Errorf("SMS setups without an owner after the migration: %d, want 0", n)
	}
	if page, total, err := db.FindUsers(ctx, backend.UserFilter{Search: "bo"}); err != nil || total != 1 || page[0].ID != u.ID {
		t.Errorf("search after the migration: %v, %d, %v; want bob", page, total, err)
	}
	if err := db.Check(ctx); err != nil {
		t.Error(err)
	}
}
