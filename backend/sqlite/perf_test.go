package sqlite

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
)

// fill100k inserts n users with a realistic mix of statuses and roles, in one transaction.
func fillUsers(t testing.TB, db *DB, n int) {
	t.Helper()
	tx, err := db.writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO users (username, display_name, email, role, password_hash,
		two_factor_required, method, created_at, updated_at) VALUES (?, ?, ?, ?, 'h', ?, ?, 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	first := []string{"anna", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	last := []string{"smith", "jones", "miller", "garcia", "chen", "kowalski", "nguyen", "okafor"}
	for i := range n {
		f, l := first[r.IntN(len(first))], last[r.IntN(len(last))]
		role := backend.RoleUser
		if i%500 == 0 {
			role = backend.RoleAdmin
		}
		method := []backend.Method{backend.MethodNone, backend.MethodNone, backend.MethodApp, backend.MethodSMS}[r.IntN(4)]
		_, err := stmt.Exec(fmt.Sprintf("%s.%s%d", f, l, i), f+" "+l, fmt.Sprintf("%s.%s%d@corp.example", f, l, i),
			role, r.IntN(3) == 0, method)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
}

// TestAdminListLatency measures the admin list's queries at 100,000 users: each filter's page
// plus count must have a p99 of at most 25 ms. It takes a while, so it runs only when
// GATEHOUSE_PERF=1 (or without -race, which slows SQLite's Go code several times over).
func TestAdminListLatency(t *testing.T) {
	if os.Getenv("GATEHOUSE_PERF") == "" {
		t.Skip("set GATEHOUSE_PERF=1 to run (best without -race)")
	}
	db := openDB(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	fillUsers(t, db, 100_000)

	for _, tc := range []struct {
		name string
		f    backend.UserFilter
	}{
		{"first page", backend.UserFilter{}},
		{"deep page", backend.UserFilter{Offset: 50_000}},
		{"status enabled", backend.UserFilter{Status: backend.StatusEnabled}},
		{"status pending", backend.UserFilter{Status: backend.StatusPending}},
		{"status no, page 100", backend.UserFilter{Status: backend.StatusNo, Offset: 5000}},
		{"role admin", backend.UserFilter{Role: backend.RoleAdmin}},
		{"admins pending", backend.UserFilter{Role: backend.RoleAdmin, Status: backend.StatusPending}},
		{"search common", backend.UserFilter{Search: "smith"}},
		{"search rare", backend.UserFilter{Search: "kowalski9999"}},
		{"search + status", backend.UserFilter{Search: "anna", Status: backend.StatusEnabled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d []time.Duration
			for range 100 {
				start := time.Now()
				if _, _, err := db.FindUsers(ctx, tc.f); err != nil {
					t.Fatal(err)
				}
				d = append(d, time.Since(start))
			}
			slices.Sort(d)
			p50, p99 := d[len(d)/2], d[len(d)*99/100]
			t.Logf("p50 %v, p99 %v", p50, p99)
			if p99 > 25*time.Millisecond {
				t.Errorf("p99 %v, want <= 25ms", p99)
			}
		})
	}
	start := time.Now()
	if _, err := db.CountUsersByStatus(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("CountUsersByStatus: %v", time.Since(start))
}
