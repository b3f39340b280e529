package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrationFiles are the schema changes, numbered from 0001 without gaps. A released file is
// never edited: a change is a new file. The numbers are this store's own: 0001 creates the
// schema as backend/sqlite's migrations 0001 to 0009 leave it; 0002 is its 0010.
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
	if err := db.conn(ctx).QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// migrate brings the schema up to date.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return db.migrateTo(ctx, ms)
}

// migrateTo applies ms, the migrations this program knows, one per transaction, each recorded
// in schema_migrations in the same transaction. Each transaction first takes the migrations
// lock (an advisory lock, released when it ends): replicas starting at once take turns, and
// the second sees the first one's work and skips it.
func (db *DB) migrateTo(ctx context.Context, ms []migration) error {
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
func (db *DB) migrateOne(ctx context.Context, ms []migration) (done bool, err error) {
	err = db.inTx(ctx, false, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryClass, lockMigrations); err != nil {
			return fmt.Errorf("open store: lock the schema: %w", err)
		}
		// The tables go in the first schema of the search_path (public, unless the URL or the
		// role says otherwise), as unqualified names in queries find them.
		var schema *string
		var known bool
		err := tx.QueryRow(ctx, `SELECT current_schema(),
			EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations')`).
			Scan(&schema, &known)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		if schema == nil {
			return errors.New("open store: no schema to create tables in: the search_path names none that exists")
		}
		if !known {
			// A schema with tables but no record of migrations belongs to something else:
			// adding our tables to it would be a silent rewrite.
			var n int
			err := tx.QueryRow(ctx, `
				SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`).Scan(&n)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("open store: database %s (schema %s) holds tables but is not a gatehouse database; refusing to change it", db.database, *schema)
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_migrations (
				version    integer PRIMARY KEY,
				name       text    NOT NULL,
				applied_at bigint  NOT NULL
			)`); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}

		var cur int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if cur > len(ms) {
			return fmt.Errorf("open store: database schema version %d is newer than this gatehouse (%d); upgrade gatehouse", cur, len(ms))
		}
		if cur == len(ms) {
			done = true
			return nil
		}
		m := ms[cur]
		// The simple protocol runs a file of several statements.
		if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, ns(tx.now)); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		return nil
	})
	return done, err
}
