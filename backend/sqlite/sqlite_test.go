package sqlite

// SQLite alone: its connections and pragmas, the file (locks, modes, garbage, another
// program's), its migrations. The contract tests are in backend/storetest (store_test.go).

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

var ctx = context.Background()

// t0 is the fake clock's first reading.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// clock is a fake clock: every reading is one second after the previous one, so a test can
// tell which reading a timestamp came from.
type clock struct {
	mu    sync.Mutex
	next  time.Time
	calls int
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(time.Second)
	c.calls++
	return t
}

// newDB opens a store on a new file in t.TempDir with a fake clock.
func newDB(t testing.TB) (*DB, *clock) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	c := &clock{next: t0}
	db.Now = c.Now
	return db, c
}

// openDB opens the store at path and closes it at the end of the test.
func openDB(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenConnectionSettings(t *testing.T) {
	db, _ := newDB(t)
	for _, tc := range []struct {
		conn       string
		db         *sql.DB
		name, want string
	}{
		{"writer", db.writer, "journal_mode", "wal"},
		{"writer", db.writer, "busy_timeout", "10000"},
		{"writer", db.writer, "foreign_keys", "1"},
		{"writer", db.writer, "synchronous", "2"}, // FULL
		{"reader", db.reader, "journal_mode", "wal"},
		{"reader", db.reader, "busy_timeout", "10000"},
		{"reader", db.reader, "foreign_keys", "1"},
	} {
		if got := pragma(t, tc.db, tc.name); got != tc.want {
			t.Errorf("%s: PRAGMA %s = %q, want %q", tc.conn, tc.name, got, tc.want)
		}
	}
	if got := db.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	if got := db.reader.Stats().MaxOpenConnections; got < 2 {
		t.Errorf("reader MaxOpenConnections = %d, want several", got)
	}
	// The reader pool is read-only: a write through it fails.
	if _, err := db.reader.Exec(`DELETE FROM users`); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("write through the reader pool: got %v, want a readonly error", err)
	}
}

// TestOpenWaitsForLock proves busy_timeout is set before journal_mode: switching a file to WAL
// needs a lock, and while another process holds it, Open must wait rather than fail.
func TestOpenWaitsForLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	other, err := sql.Open("sqlite", path) // rollback journal, as another program might leave it
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec(`CREATE TABLE held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	releasing, released := make(chan struct{}), make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond) // the other program holds the lock a while
		close(releasing)
		other.Exec(`ROLLBACK`)
		close(released)
	}()
	db, err := Open(path)
	select {
	case <-releasing:
	default:
		t.Fatalf("Open returned before the lock was released: %v", err)
	}
	<-released
	// The file has a foreign table now, so Open refuses it; what matters is that it waited for
	// the lock and then looked at the file, instead of failing at once with SQLITE_BUSY.
	if err == nil {
		db.Close()
		t.Fatal("Open of a foreign database: got nil error")
	}
	if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
		t.Fatalf("Open did not wait for the lock: %v", err)
	}
	if !strings.Contains(err.Error(), "not a gatehouse database") {
		t.Fatalf("Open: got %v, want the foreign-database error", err)
	}
}

// TestOpenCreatesPrivateFiles pins issue 9 F10: the database and its -wal and -shm files were
// created 0644 (SQLite's default less the umask), so in a data directory with looser modes any
// local user could read the password hashes, phone numbers and the audit log. They are 0600
// whatever the umask.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db := openDB(t, path)
	// A write makes sure the -wal and -shm files exist while the store is open.
	if err := db.AddAuditEvent(ctx, &backend.AuditEvent{Action: backend.AuditLogout}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), got)
		}
	}
}

func TestOpenRefusesGarbage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"text", []byte("this is not a database, it is a shopping list: eggs, milk\n")},
		{"binary", bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1024)},
		{"damaged header", append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xff}, 4096)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gatehouse.db")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open of a garbage file: got nil error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a SQLite database") &&
				!strings.Contains(err.Error(), "damaged") {
				t.Errorf("Open: got %q, want a clear error naming the file", err)
			}
			t.Logf("Open: %v", err)
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, tc.content) {
				t.Error("Open changed the garbage file")
			}
		})
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatal("Open of another program's database: got nil error")
	} else if !strings.Contains(err.Error(), "not a gatehouse database") {
		t.Fatalf("Open: got %v, want \"not a gatehouse database\"", err)
	}
	other, _ = sql.Open("sqlite", path)
	defer other.Close()
	var n int
	other.QueryRow(`SELECT COUNT(*) FROM sqlite_schema`).Scan(&n)
	if n != 1 {
		t.Fatalf("the foreign database has %d schema objects, want 1 (unchanged)", n)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db := openDB(t, path)
	if _, err := db.writer.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	schema := func() string {
		var s string
		db.writer.QueryRow(`SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_schema ORDER BY name)`).Scan(&s)
		return s
	}
	before := schema()
	db.Close()

	ms, _ := migrations()
	db2, err := Open(path)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer database: got nil error")
	}
	want := "database schema version 999 is newer than this gatehouse (" + strconv.Itoa(len(ms)) + "); upgrade gatehouse"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: got %q, want it to contain %q", err, want)
	}

	db = openRaw(t, path)
	if got := schema(); got != before {
		t.Fatalf("Open of a newer database changed its schema:\n%s\nwant\n%s", got, before)
	}
}

// openRaw opens a DB on path without migrating, for looking at what Open left.
func openRaw(t *testing.T, path string) *DB {
	w, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &DB{writer: w, reader: w, path: path, Now: time.Now}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("migrations: got %v, want 0001_init.sql first", ms)
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	for i := range 3 { // reopening applies nothing twice
		db, err := Open(path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != len(ms) {
			t.Fatalf("Open #%d: schema version %d, %v; want %d", i, v, err, len(ms))
		}
		var n int
		db.reader.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
		if n != len(ms) {
			t.Fatalf("Open #%d: %d migrations recorded, want %d", i, n, len(ms))
		}
		db.Close()
	}
}

// TestOpenConcurrently: two processes (here: two DBs) opening a new file at once both succeed
// and the migrations run once.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 4 {
		wg.Go(func() {
			db, err := Open(path)
			if err != nil {
				t.Error(err)
				failed.Add(1)
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	db := openDB(t, path)
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOpenChecksUsersMethods: a database whose users table does not admit 'webauthn' as a
// method (migration 0017's in-place edit of its CHECK did not take) is refused by Open with
// an error that says so, not opened to fail at the first key enrollment.
func TestOpenChecksUsersMethods(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	openDB(t, path).Close()
	raw := openRaw(t, path)
	for _, q := range []string{
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_schema SET sql = replace(sql, ', ''webauthn''', '') WHERE type = 'table' AND name = 'users'`,
		`PRAGMA writable_schema = RESET`,
	} {
		if _, err := raw.writer.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.writer.Close()

	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database whose users table refuses 'webauthn': got nil error")
	}
	if want := "does not admit the method 'webauthn'"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: got %q, want it to contain %q", err, want)
	}
}
