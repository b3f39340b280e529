package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// migrationFiles are the schema changes, numbered from 0001 without gaps. A released file is
// never edited: a change is a new file. (A future migration that rebuilds a table must run with
// foreign_keys off, which SQLite ignores inside a transaction: give it its own mechanism then.)
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order, checking their numbering.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", base, i+1)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion returns the version of the newest migration applied to the database.
// (Not part of backend.Store: for diagnostics and the command line.)
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.querier(ctx).QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// migrate brings the schema up to date, one migration per write transaction, each recorded in
// schema_migrations in the same transaction. Immediate transactions make two processes that
// open a new file at once take turns: the second sees the first's work and skips it.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.migrateTo(ctx, ms); err != nil {
		return err
	}
	return db.checkSchemaEdits(ctx)
}

// checkSchemaEdits checks what a migration did by editing a table's SQL text in place
// (writable_schema) rather than by a statement SQLite checks: 0017 widens users' CHECK on
// method with a replace() that changes nothing if the text is not exactly what 0001 wrote, and
// the migration would still be recorded. A users table that refuses 'webauthn' would make
// every enrollment with a key fail, so Open refuses the database instead, saying why.
func (db *DB) checkSchemaEdits(ctx context.Context) error {
	var users string
	err := db.writer.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'users'`).Scan(&users)
	if err != nil {
		return fmt.Errorf("open store: check schema: %w", err)
	}
	if !strings.Contains(users, `'sms', 'webauthn')`) {
		return fmt.Errorf("open store: %s: its users table does not admit the method 'webauthn' (migration 0017 edits the CHECK on users.method in place, and that edit did not take); refusing to use it: restore a backup, or ask for help with the table's SQL", db.path)
	}
	return nil
}

// migrateTo applies ms, the migrations this program knows.
func (db *DB) migrateTo(ctx context.Context, ms []migration) error {
	// Connecting runs the pragmas; this is where a file that is not a database shows.
	if err := ping(ctx, db.writer); err != nil {
		return db.openError(err)
	}
	for {
		done, err := db.migrateOne(ctx, ms)
		if err != nil {
			return err
		} else if done {
			return nil
		}
	}
}

// migrateOne applies the next migration, if any, and reports whether the schema is current.
func (db *DB) migrateOne(ctx context.Context, ms []migration) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, db.openError(err)
	}
	defer tx.Rollback()

	var known bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations')`).Scan(&known)
	if err != nil {
		return false, db.openError(err)
	}
	if !known {
		// A database with tables but no record of migrations belongs to something else:
		// adding our tables to it would be a silent rewrite.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema`).Scan(&n); err != nil {
			return false, db.openError(err)
		}
		if n > 0 {
			return false, fmt.Errorf("open store: %s is a SQLite database but not a gatehouse database; refusing to change it", db.path)
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		)`)
		if err != nil {
			return false, fmt.Errorf("migrate: %w", err)
		}
	}

	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	if cur > len(ms) {
		return false, fmt.Errorf("open store: database schema version %d is newer than this gatehouse (%d); upgrade gatehouse", cur, len(ms))
	}
	if cur == len(ms) {
		return true, nil
	}

	m := ms[cur]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, tx.now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return false, nil
}

// ping opens a connection, retrying for up to busyTimeout while the file is busy. Setting
// journal_mode=WAL on a new file that another process is setting up at the same moment can
// fail with SQLITE_BUSY without SQLite's busy handler being consulted; the race is seen in
// TestOpenConcurrently.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// openError explains errors that mean the file itself is wrong.
func (db *DB) openError(err error) error {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("open store: %s is not a SQLite database (or is encrypted or damaged); refusing to change it: %w", db.path, err)
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("open store: database %s is damaged; restore it from a backup: %w", db.path, err)
	}
	return fmt.Errorf("open store %s: %w", db.path, err)
}

// Check runs SQLite's integrity check and returns an error describing the damage, if any.
// (Not part of backend.Store: for the command line and tests. It reads the whole file.)
func (db *DB) Check(ctx context.Context) error {
	rows, err := db.querier(ctx).QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("check store: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("check store: %w", err)
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check store: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("check store: database %s is damaged: %s", db.path, strings.Join(msgs, "; "))
	}
	return nil
}
