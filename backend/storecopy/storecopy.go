// Package storecopy moves an installation from SQLite to PostgreSQL: it copies every row of a
// data directory's gatehouse.db into an empty PostgreSQL database, as it is (password hashes,
// sealed secrets, hashed codes and tokens, the audit log, IDs), in one PostgreSQL transaction.
//
// It copies by enumeration, not by a list of tables: every table of the SQLite schema must have
// a table of the same name in PostgreSQL with every one of its columns, or nothing is copied.
// A table added by a later migration is copied once both stores have it, and a migration added
// to one store only stops the copy with the table's name instead of leaving its rows behind.
//
// Sealed values (TOTP secrets, Authorization Codes, recovery codes on show) and the keyed
// hashes of unknown usernames stay valid only under the same server key: the PostgreSQL
// servers must be given the SQLite installation's key.
package storecopy

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/backend"
	"gatehouse/backend/postgres"
	gsqlite "gatehouse/backend/sqlite"
)

// Table is what was copied of one table.
type Table struct {
	Name string
	Rows int
}

// Result is what Copy copied: every table of the source, in the order copied (a table after
// those it refers to), with its row count, the same in both databases.
type Result struct {
	Tables   []Table
	Host     string // the PostgreSQL server, host:port
	Database string // the PostgreSQL database's name
}

// Rows returns the number of rows copied of the table name (0 for a table not copied).
func (r *Result) Rows(name string) int {
	for _, t := range r.Tables {
		if t.Name == name {
			return t.Rows
		}
	}
	return 0
}

// migrationsTable is not copied: each store numbers its own migrations, and the PostgreSQL
// store's are applied before the copy. Also left out, found by their type rather than listed:
// FTS5's virtual table and its shadow tables (the user search's index, which PostgreSQL keeps
// as trigram indexes on users) and SQLite's own sqlite_* tables (sqlite_sequence's high-water
// marks are read for the identities).
const migrationsTable = "schema_migrations"

// batchRows is how many rows go to PostgreSQL in one round trip.
const batchRows = 500

// Copy copies the SQLite database at sqlitePath into the PostgreSQL database at databaseURL,
// creating its tables (the PostgreSQL store's migrations) if it has none. It refuses, changing
// nothing in either database, when:
//
//   - the SQLite database is open in another process (gatehouse serve or the desktop console):
//     Copy holds an exclusive lock on it from before it reads until it is done, so no write
//     can be made there that the copy would miss;
//   - the SQLite schema is not the newest this program knows (or is newer);
//   - the PostgreSQL database holds any row (beyond the record of its migrations), or tables
//     of something else;
//   - a table or column of the SQLite schema has no counterpart in PostgreSQL.
//
// All rows are written in one PostgreSQL transaction, which first locks every table of the
// store: a server started on the database meanwhile waits, and sees either nothing or all.
// Each table's row count is compared in that transaction before it commits. No error contains
// the URL's password.
func Copy(ctx context.Context, sqlitePath, databaseURL string) (*Result, error) {
	src, err := openSource(ctx, sqlitePath)
	if err != nil {
		return nil, err
	}
	defer src.close()
	tables, err := src.tables(ctx)
	if err != nil {
		return nil, err
	}

	// Creates the tables of an empty database; refuses a foreign or newer one.
	pg, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	res := &Result{Host: pg.Host(), Database: pg.Database()}
	pg.Close()

	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to database %s on %s: %s", res.Database, res.Host, redact(err.Error(), databaseURL))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("copy: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	dst, err := targetTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := lockEmpty(ctx, tx, dst, res); err != nil {
		return nil, err
	}
	if err := sameSettings(ctx, src, tx, res); err != nil {
		return nil, err
	}
	if err := match(tables, dst); err != nil {
		return nil, err
	}
	seqs, err := src.sequences(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		n, err := copyTable(ctx, src, tx, t, dst[t.name])
		if err != nil {
			return nil, fmt.Errorf("copy table %s: %w", t.name, err)
		}
		if err := setIdentities(ctx, tx, dst[t.name], seqs[t.name]); err != nil {
			return nil, fmt.Errorf("copy table %s: %w", t.name, err)
		}
		var got int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()).Scan(&got); err != nil {
			return nil, fmt.Errorf("copy table %s: count: %w", t.name, err)
		}
		if got != n {
			return nil, fmt.Errorf("copy table %s: %d rows read from SQLite, %d in PostgreSQL: nothing copied", t.name, n, got)
		}
		res.Tables = append(res.Tables, Table{Name: t.name, Rows: n})
	}
	// The copy is a command-line change like any other: audited, by "cli", in its own
	// transaction (the event is there if and only if the rows are). Its time is the
	// database's: no clock of the Service's is at hand here.
	counts := make([]string, len(res.Tables))
	for i, t := range res.Tables {
		counts[i] = fmt.Sprintf("%s %d", t.Name, t.Rows)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO audit_events (at, action, actor_name, target_name, detail, ip, target_app)
		VALUES ((extract(epoch FROM clock_timestamp()) * 1e9)::bigint, $1, 'cli', '', $2, '', '')`,
		backend.AuditDatabaseCopied, "copied from "+sqlitePath+": "+strings.Join(counts, ", ")); err != nil {
		return nil, fmt.Errorf("copy: audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	return res, nil
}

// source is the SQLite database, held under an exclusive lock in one transaction.
type source struct {
	path string
	db   *sql.DB
	conn *sql.Conn
}

// openSource opens the SQLite database at path without creating or migrating it, takes the
// exclusive lock and checks its schema version.
func openSource(ctx context.Context, path string) (*source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("no Gatehouse database at %s: give the data directory of the installation to copy (--data)", abs)
	}
	// locking_mode EXCLUSIVE: in WAL mode SQLite then takes the file's exclusive lock for the
	// transaction below, which fails while any other connection has the file open (a running
	// server or console keeps its connections) and keeps any from opening it until Close.
	// mode=rw: never create a file.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(2000)")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Set("mode", "rw")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("copy: open %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	s := &source{path: abs, db: db}
	if s.conn, err = db.Conn(ctx); err == nil {
		_, err = s.conn.ExecContext(ctx, `BEGIN EXCLUSIVE`)
	}
	if err != nil {
		s.close()
		var se *sqlite.Error
		if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED) {
			return nil, fmt.Errorf("%s is in use by another program (gatehouse serve or the desktop console): stop every gatehouse on this data directory, then copy again", abs)
		}
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
			return nil, fmt.Errorf("%s is not a Gatehouse database", abs)
		}
		return nil, fmt.Errorf("copy: open %s: %w", abs, err)
	}
	if err := s.checkVersion(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *source) close() {
	if s.conn != nil {
		s.conn.ExecContext(context.Background(), `ROLLBACK`)
		s.conn.Close()
	}
	s.db.Close()
}

// newestSQLiteVersion is the schema version of a new SQLite database: what the store's
// migrations make of an empty file, which is the newest this program knows.
func newestSQLiteVersion(ctx context.Context) (int, error) {
	dir, err := os.MkdirTemp("", "gatehouse-schema-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := gsqlite.Open(filepath.Join(dir, "new.db"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.SchemaVersion(ctx)
}

// checkVersion refuses a database that is not Gatehouse's, or not at the newest schema:
// its tables would not be the ones the PostgreSQL store's migrations make.
func (s *source) checkVersion(ctx context.Context) error {
	var known bool
	if err := s.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)`, migrationsTable).Scan(&known); err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
			return fmt.Errorf("%s is not a Gatehouse database", s.path)
		}
		return fmt.Errorf("copy: read %s: %w", s.path, err)
	}
	if !known {
		return fmt.Errorf("%s is not a Gatehouse database (it has no %s table)", s.path, migrationsTable)
	}
	var v int
	if err := s.conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+migrationsTable).Scan(&v); err != nil {
		return fmt.Errorf("copy: read %s: %w", s.path, err)
	}
	newest, err := newestSQLiteVersion(ctx)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	switch {
	case v > newest:
		return fmt.Errorf("%s is at schema version %d, newer than this gatehouse (%d): copy it with the gatehouse that wrote it", s.path, v, newest)
	case v < newest:
		return fmt.Errorf("%s is at schema version %d, not the newest (%d): run any command of this gatehouse on it first, e.g. `gatehouse user list --data %s`, which brings it up to date, then copy again",
			s.path, v, newest, filepath.Dir(s.path))
	}
	return nil
}

// sourceTable is a table of the SQLite schema, with the columns it stores.
type sourceTable struct {
	name    string
	columns []string // stored columns (not generated ones), in the table's order
	refs    []string // tables it refers to by foreign key
}

// tables lists the tables to copy, each after the tables it refers to.
func (s *source) tables(ctx context.Context) ([]sourceTable, error) {
	rows, err := s.conn.QueryContext(ctx, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> ? ORDER BY name`, migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("copy: list tables: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	var ts []sourceTable
	for _, n := range names {
		t := sourceTable{name: n}
		// hidden: 0 stored, 1 hidden (virtual tables), 2 and 3 generated (computed, not copied).
		cols, err := s.strings(ctx, `SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid`, n)
		if err != nil {
			return nil, fmt.Errorf("copy: columns of %s: %w", n, err)
		}
		t.columns = cols
		refs, err := s.strings(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("copy: foreign keys of %s: %w", n, err)
		}
		t.refs = refs
		ts = append(ts, t)
	}
	return order(ts)
}

func (s *source) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// sequences returns the AUTOINCREMENT high-water mark of each table that has one: IDs up to it
// were handed out (some perhaps deleted since) and must never be handed out again.
func (s *source) sequences(ctx context.Context) (map[string]int64, error) {
	m := map[string]int64{}
	var exists bool
	if err := s.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence')`).Scan(&exists); err != nil || !exists {
		return m, err
	}
	rows, err := s.conn.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return nil, fmt.Errorf("copy: read sqlite_sequence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, fmt.Errorf("copy: read sqlite_sequence: %w", err)
		}
		m[name] = seq
	}
	return m, rows.Err()
}

// order sorts tables so that each comes after the tables it refers to (a reference to itself
// aside: its rows are copied in rowid order, older first).
func order(ts []sourceTable) ([]sourceTable, error) {
	byName := map[string]sourceTable{}
	for _, t := range ts {
		byName[t.name] = t
	}
	var out []sourceTable
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("copy: the foreign keys of table %s form a cycle", name)
		case 2:
			return nil
		}
		t, ok := byName[name]
		if !ok {
			return fmt.Errorf("copy: a foreign key refers to table %s, which does not exist", name)
		}
		state[name] = 1
		for _, r := range t.refs {
			if r != name {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		out = append(out, t)
		return nil
	}
	for _, t := range ts {
		if err := visit(t.name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// targetColumn is a column of a PostgreSQL table.
type targetColumn struct {
	name      string
	typ       string // pg_type.typname: int8, text, bytea, bool, …
	identity  bool   // GENERATED … AS IDENTITY
	generated bool   // GENERATED ALWAYS AS (…) STORED: computed, never written
}

type targetTable struct {
	name    string
	columns map[string]targetColumn
}

// targetTables lists the tables of the store's schema (the first of the search_path) and their
// columns.
func targetTables(ctx context.Context, tx pgx.Tx) (map[string]*targetTable, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.relname, a.attname, t.typname, a.attidentity <> '', a.attgenerated <> ''
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("copy: list PostgreSQL tables: %w", err)
	}
	defer rows.Close()
	m := map[string]*targetTable{}
	for rows.Next() {
		var table string
		var col targetColumn
		if err := rows.Scan(&table, &col.name, &col.typ, &col.identity, &col.generated); err != nil {
			return nil, fmt.Errorf("copy: list PostgreSQL tables: %w", err)
		}
		t := m[table]
		if t == nil {
			t = &targetTable{name: table, columns: map[string]targetColumn{}}
			m[table] = t
		}
		t.columns[col.name] = col
	}
	return m, rows.Err()
}

// lockEmpty locks every table of the store against every other transaction (a server started
// on the database meanwhile waits for the copy) and refuses a database that holds any row.
func lockEmpty(ctx context.Context, tx pgx.Tx, dst map[string]*targetTable, res *Result) error {
	names := make([]string, 0, len(dst))
	for n := range dst {
		names = append(names, n)
	}
	sort.Strings(names)
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = pgx.Identifier{n}.Sanitize()
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(ids, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("copy: lock the PostgreSQL tables: %w", err)
	}
	var full []string
	for i, n := range names {
		if n == migrationsTable || n == settingsTable {
			continue
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+ids[i]+`)`).Scan(&any); err != nil {
			return fmt.Errorf("copy: read %s: %w", n, err)
		}
		if any {
			full = append(full, n)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("database %s on %s is not empty (rows in %s): copy only into a new, empty database; nothing was copied",
			res.Database, res.Host, strings.Join(full, ", "))
	}
	return nil
}

// settingsTable holds the values of the database as a whole (the server key's check value,
// backend/keycheck.go). A PostgreSQL database a Gatehouse has already opened, with nothing else
// in it, has such a row: it counts as empty as long as each of its settings agrees with the
// installation's, and the installation's own rows replace them.
const settingsTable = "settings"

// sameSettings refuses a target whose settings differ from the source's (it was first used
// with another server key: the copied secrets could not be opened there) and deletes the
// target's rows the copy brings again.
func sameSettings(ctx context.Context, src *source, tx pgx.Tx, res *Result) error {
	rows, err := src.conn.QueryContext(ctx, `SELECT name, value FROM `+settingsTable)
	if err != nil {
		return fmt.Errorf("copy: read %s: %w", settingsTable, err)
	}
	have := map[string][]byte{}
	for rows.Next() {
		var name string
		var value []byte
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return fmt.Errorf("copy: read %s: %w", settingsTable, err)
		}
		have[name] = value
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copy: read %s: %w", settingsTable, err)
	}
	for name, value := range have {
		var theirs []byte
		err := tx.QueryRow(ctx, `DELETE FROM `+settingsTable+` WHERE name = $1 RETURNING value`, name).Scan(&theirs)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy: read %s: %w", settingsTable, err)
		}
		if !bytes.Equal(theirs, value) {
			return fmt.Errorf("database %s on %s was first used with another server key than this installation's (%s differs): "+
				"copy only into a new, empty database, or one opened only with this installation's key; nothing was copied",
				res.Database, res.Host, name)
		}
	}
	return nil
}

// match checks that every table and column of the source has its counterpart.
func match(ts []sourceTable, dst map[string]*targetTable) error {
	var problems []string
	for _, t := range ts {
		d := dst[t.name]
		if d == nil {
			problems = append(problems, fmt.Sprintf("table %s has no counterpart in PostgreSQL", t.name))
			continue
		}
		for _, c := range t.columns {
			dc, ok := d.columns[c]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("column %s.%s has no counterpart in PostgreSQL", t.name, c))
			case dc.generated:
				problems = append(problems, fmt.Sprintf("column %s.%s is stored in SQLite but computed in PostgreSQL", t.name, c))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("copy: the two schemas differ, nothing was copied: %s", strings.Join(problems, "; "))
	}
	return nil
}

// copyTable copies the rows of t, in rowid order, and returns how many it read.
func copyTable(ctx context.Context, src *source, tx pgx.Tx, t sourceTable, d *targetTable) (int, error) {
	quoted := make([]string, len(t.columns))
	params := make([]string, len(t.columns))
	overriding := ""
	for i, c := range t.columns {
		quoted[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		params[i] = fmt.Sprintf("$%d", i+1)
		if d.columns[c].identity {
			// The IDs are copied as they are: audit events and other rows name them.
			overriding = " OVERRIDING SYSTEM VALUE"
		}
	}
	insert := fmt.Sprintf("INSERT INTO %s (%s)%s VALUES (%s)", pgx.Identifier{t.name}.Sanitize(),
		strings.Join(quoted, ", "), overriding, strings.Join(params, ", "))
	sel := fmt.Sprintf(`SELECT %s FROM "%s"`, strings.Join(quoted, ", "), strings.ReplaceAll(t.name, `"`, `""`))
	if hasRowid(ctx, src, t.name) {
		sel += " ORDER BY rowid"
	}
	rows, err := src.conn.QueryContext(ctx, sel)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	n := 0
	batch := &pgx.Batch{}
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		err := tx.SendBatch(ctx, batch).Close()
		batch = &pgx.Batch{}
		return err
	}
	for rows.Next() {
		vals := make([]any, len(t.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		for i, c := range t.columns {
			v, err := convert(vals[i], d.columns[c].typ)
			if err != nil {
				return 0, fmt.Errorf("row %d, column %s: %w", n+1, c, err)
			}
			vals[i] = v
		}
		batch.Queue(insert, vals...)
		n++
		if batch.Len() == batchRows {
			if err := flush(); err != nil {
				return 0, fmt.Errorf("write: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if err := flush(); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	return n, nil
}

// hasRowid reports whether the table has a rowid (is not WITHOUT ROWID).
func hasRowid(ctx context.Context, src *source, table string) bool {
	var wr bool
	err := src.conn.QueryRowContext(ctx, `SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, table).Scan(&wr)
	return err == nil && !wr
}

// convert turns a value as SQLite stores it into the PostgreSQL column type's: booleans are
// 0 and 1 in SQLite; a BLOB column may hold text and a TEXT column bytes (SQLite's types are
// the values', not the columns').
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bool":
		switch x := v.(type) {
		case int64:
			if x != 0 && x != 1 {
				return nil, fmt.Errorf("%d is not a boolean (0 or 1)", x)
			}
			return x == 1, nil
		case bool:
			return x, nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text", "varchar":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			if !utf8.Valid(x) {
				return nil, errors.New("bytes that are not text (UTF-8) for a text column")
			}
			return string(x), nil
		}
	case "int2", "int4", "int8":
		if x, ok := v.(int64); ok {
			return x, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("a %T for a column of type %s", v, typ)
}

// setIdentities moves each identity column's sequence past the highest ID copied, and past
// SQLite's high-water mark seq (IDs of deleted rows are not handed out again either).
func setIdentities(ctx context.Context, tx pgx.Tx, d *targetTable, seq int64) error {
	names := make([]string, 0)
	for _, c := range d.columns {
		if c.identity {
			names = append(names, c.name)
		}
	}
	slices.Sort(names)
	for _, c := range names {
		col := pgx.Identifier{c}.Sanitize()
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE((SELECT max(`+col+`) FROM `+
			pgx.Identifier{d.name}.Sanitize()+`), 0), $3::bigint) + 1, false)`, pgx.Identifier{d.name}.Sanitize(), c, seq)
		if err != nil {
			return fmt.Errorf("set the identity of %s: %w", c, err)
		}
	}
	return nil
}

// redact removes the URL's password from an error message.
func redact(msg, databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(the database URL is not valid)"
	}
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	if q := u.Query(); q.Get("password") != "" {
		msg = strings.ReplaceAll(msg, q.Get("password"), "xxxxx")
	}
	return msg
}
