package sqlite

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/storetest"
)

// TestStore runs the conformance suite of backend.Store (backend/storetest) on SQLite: each
// test on a new file, its concurrency tests over several DBs (connection pools, as several
// processes) on that one file. The tests in this package's other files are about SQLite
// alone: its connections and pragmas, the file (its modes, garbage, a crash), the busy
// timeout, its own migrations, the page walk of FindUsers and the batches of DeleteAuditEvents.
func TestStore(t *testing.T) { storetest.Run(t, opener) }

// migrated is a new database file as Open leaves it, made once: each test's file starts as a
// copy of it, which costs less than migrating a file anew (TestMigrations does that).
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "gatehouse-sqlite-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gatehouse.db")
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// opener is storetest's Opener for SQLite: a new file in t.TempDir.
func opener(t testing.TB) storetest.DB {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	b, err := migrated()
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		t.Fatalf("a new database: %v", err)
	}
	return storetest.DB{
		Open: func(now func() time.Time) backend.Store {
			db := openDB(t, path)
			if now != nil {
				db.Now = now
			}
			return db
		},
		Exec: func(query string) error {
			db := openDB(t, path)
			_, err := db.writer.Exec(query)
			return err
		},
		CountRows: func(table string) (n int, err error) {
			db := openDB(t, path)
			err = db.reader.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n)
			return n, err
		},
	}
}

// TestDeleteAuditEventsInBatches: DeleteAuditEvents deletes in batches of auditDeleteBatch,
// one transaction each; with a batch smaller than what goes, the suite's test still holds.
func TestDeleteAuditEventsInBatches(t *testing.T) {
	defer func(n int64) { auditDeleteBatch = n }(auditDeleteBatch)
	auditDeleteBatch = 2
	storetest.DeleteAuditEvents(t, opener)
}
