// Package sqlite implements backend.Store on one SQLite file (modernc.org/sqlite, no cgo).
//
// A DB holds two pools on the same file: one writer connection, whose transactions begin
// IMMEDIATE so that a read-then-write transaction never fails with SQLITE_BUSY halfway, and a
// pool of read-only connections, which WAL lets read while the writer writes. Every commit is
// synced (synchronous=FULL), so a write that returned nil survives kill -9 and power loss.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/backend"
)

var _ backend.Store = (*DB)(nil)

// busyTimeout is how long a connection waits for another one (another process on the same
// file: the desktop console and the web server may share it) before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is the SQLite store. Create it with Open; it is safe for concurrent use.
type DB struct {
	// Now is the clock. Each transaction reads it once, at its start, and stamps everything
	// it writes with that time. It defaults to time.Now; tests replace it before use.
	Now func() time.Time

	path   string
	writer *sql.DB // one connection: SQLite has one writer at a time anyway
	reader *sql.DB // read-only connections

	// The read of every signed-in request (Authenticate: the session with its user) and the
	// user lookup of every login step, prepared once per reader connection. Prepared anew each
	// time, as other queries are, the preparing cost as much as the reading: the session
	// benchmark in the README.
	findSession, findUser *sql.Stmt
}

// Open opens the database file at path, creating it if it does not exist, and brings its
// schema up to date. It refuses, changing nothing, a file that is not a SQLite database and a
// database whose schema is newer than this program.
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db := &DB{Now: time.Now, path: abs}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}

	// busy_timeout comes first: setting journal_mode needs a lock, and without a timeout it
	// fails at once while another process holds one. The _pragma values run in this order.
	//
	// synchronous=FULL: in WAL mode NORMAL already survives a killed process (the commit is in
	// the WAL file, in the OS page cache), but not an OS crash or power loss. FULL syncs the
	// WAL on every commit, so "saved" means saved; the cost is one fsync per write
	// transaction, and writes are rare next to reads here.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	if db.writer, err = sql.Open("sqlite", fileURI(abs, q)); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)

	if err := db.migrate(context.Background()); err != nil {
		db.writer.Close()
		return nil, err
	}

	// Readers open the file read-only (mode=ro): they cannot write even by mistake. The file
	// exists and is in WAL mode by now, so they never need to write to open it.
	q = url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("mode", "ro")
	if db.reader, err = sql.Open("sqlite", fileURI(abs, q)); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	n := max(4, runtime.NumCPU())
	db.reader.SetMaxOpenConns(n)
	db.reader.SetMaxIdleConns(n)
	if err := ping(context.Background(), db.reader); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if db.findSession, err = db.reader.Prepare(findSessionSQL); err == nil {
		db.findUser, err = db.reader.Prepare(findUserByIDSQL)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return db, nil
}

// createPrivate creates the database file, empty, with mode 0600 if it does not exist yet:
// SQLite would create it 0644 (less the umask), readable by every local user, and it creates
// the -wal and -shm files with the database file's mode. An existing file is left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return err
	}
	return f.Close()
}

// fileURI builds a "file:" URI for path, escaped so that '?', '#' and '%' in it are taken as
// part of the name.
func fileURI(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the database. The writer goes last, so that SQLite checkpoints the WAL into
// the main file as the last connection closes.
func (db *DB) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{db.findSession, db.findUser} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Tx is a transaction with the time it began, the one timestamp for everything it writes. A
// joined Tx is part of an Atomically transaction: its Commit and Rollback are left to that.
type Tx struct {
	*sql.Tx
	now    time.Time
	joined bool
}

// Commit commits the transaction, unless it is joined to an enclosing one.
func (tx *Tx) Commit() error {
	if tx.joined {
		return nil
	}
	return tx.Tx.Commit()
}

// Rollback rolls the transaction back, unless it is joined to an enclosing one (whose fn then
// returns the error, and Atomically rolls back).
func (tx *Tx) Rollback() error {
	if tx.joined {
		return nil
	}
	return tx.Tx.Rollback()
}

type txKey struct{}

// Atomically runs fn in one write transaction: every store method fn calls with the context it
// is given joins that transaction, so all of fn's writes commit together, with one sync to disk,
// or not at all (when fn returns an error). Reads in fn see fn's own writes. Called within fn,
// Atomically just runs its fn.
func (db *DB) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*Tx); ok {
		return fn(ctx)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// joined returns the Atomically transaction ctx carries, if any.
func joined(ctx context.Context) (*Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*Tx)
	return tx, ok
}

// beginWrite starts a write transaction on the writer connection, or joins the Atomically
// transaction ctx carries. Because of _txlock=immediate it takes SQLite's write lock at BEGIN
// (waiting up to busyTimeout for other processes), so what it reads cannot change before it
// writes.
func (db *DB) beginWrite(ctx context.Context) (*Tx, error) {
	if outer, ok := joined(ctx); ok {
		return &Tx{Tx: outer.Tx, now: outer.now, joined: true}, nil
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, now: db.Now().UTC()}, nil
}

// execer is where a one-statement write goes: the Atomically transaction ctx carries, or the
// writer connection (which must not be asked for while that transaction holds it).
func (db *DB) execer(ctx context.Context) interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
} {
	if tx, ok := joined(ctx); ok {
		return tx
	}
	return db.writer
}

// querier is where a one-statement read goes: the Atomically transaction ctx carries (to see
// its writes), or the reader pool.
func (db *DB) querier(ctx context.Context) interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
} {
	if tx, ok := joined(ctx); ok {
		return tx
	}
	return db.reader
}

// now is the time to stamp a one-statement write with: the Atomically transaction's, or now.
func (db *DB) now(ctx context.Context) time.Time {
	if tx, ok := joined(ctx); ok {
		return tx.now
	}
	return db.Now().UTC()
}

// beginRead starts a read transaction on the reader pool: several queries see one snapshot.
// Within an Atomically transaction it joins that instead, to see its writes.
func (db *DB) beginRead(ctx context.Context) (*Tx, error) {
	if outer, ok := joined(ctx); ok {
		return &Tx{Tx: outer.Tx, now: outer.now, joined: true}, nil
	}
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, now: db.Now().UTC()}, nil
}

// sqliteCode returns the extended SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a foreign key violation: the row refers to no user.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// timeValue converts t to the stored form: Unix nanoseconds, NULL for the zero time.
func timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullTime converts a stored time back: NULL is the zero time, others are UTC.
func nullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}
