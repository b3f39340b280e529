package backendtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/postgres"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/sqlite"

	"github.com/jackc/pgx/v5"
)

// A StoreKind is one implementation of backend.Store, as the tests open it.
type StoreKind struct {
	Name string
	// Open opens the store of the data directory dir, making it if it is new, with the
	// clock now (nil: the real time), and returns it with the function that closes it. Each
	// call is another connection to the same data, as another process would open it.
	Open func(dir string, now func() time.Time) (store backend.Store, close func() error, err error)
	// Remove, if set, deletes the data of the data directory dir kept outside it (a
	// PostgreSQL database); New calls it when the test that made the directory ends.
	Remove func(dir string) error
	// Contents returns everything the store of dir holds, as it holds it, by name: for a test
	// that a secret is nowhere in clear, or that the data grew by no more than it should.
	Contents func(dir string) (map[string][]byte, error)
	// CountRows counts the rows of a table of the store of dir (both stores have the same
	// tables): for a test that something the Service cannot show (a purged row) is gone.
	CountRows func(dir, table string) (int, error)
}

// SQLite is the embedded store, backend/sqlite: the file gatehouse.db in the data directory,
// as main keeps it.
var SQLite = StoreKind{Name: "sqlite", Open: func(dir string, now func() time.Time) (backend.Store, func() error, error) {
	db, err := sqlite.Open(SQLitePath(dir))
	if err != nil {
		return nil, nil, err
	}
	if now != nil {
		db.Now = now
	}
	return db, db.Close, nil
},
	// The database file and what SQLite keeps beside it (WAL, shared memory, journal).
	Contents: func(dir string) (map[string][]byte, error) {
		files, err := filepath.Glob(SQLitePath(dir) + "*")
		if err != nil {
			return nil, err
		}
		m := map[string][]byte{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				return nil, err
			}
			m[filepath.Base(f)] = b
		}
		return m, nil
	},
	CountRows: func(dir, table string) (int, error) {
		db, err := sql.Open("sqlite", "file:"+SQLitePath(dir)+"?mode=ro")
		if err != nil {
			return 0, err
		}
		defer db.Close()
		var n int
		err = db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n)
		return n, err
	},
}

// SQLitePath is the SQLite database file of the data directory dir.
func SQLitePath(dir string) string { return filepath.Join(dir, "gatehouse.db") }

// PostgreSQL is backend/postgres on the test binary's throwaway cluster (pgtest: started on
// first use, stopped when the binary ends), one new database for each data directory, dropped
// when the test that made the directory ends. PostgreSQL not installed fails the test.
var PostgreSQL = StoreKind{Name: "postgres",
	Open: func(dir string, now func() time.Time) (backend.Store, func() error, error) {
		c, err := pgtest.Start()
		if err != nil {
			return nil, nil, err
		}
		url, err := c.DatabaseFor(dir)
		if err != nil {
			return nil, nil, err
		}
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			return nil, nil, err
		}
		if now != nil {
			db.Now = now
		}
		return db, db.Close, nil
	},
	Remove: func(dir string) error {
		c, err := pgtest.Start()
		if err != nil {
			return err
		}
		return c.DropDatabaseFor(dir)
	},
	// Each table's rows in PostgreSQL's text form (bytea in hex), by table name.
	Contents: func(dir string) (map[string][]byte, error) {
		m := map[string][]byte{}
		err := withPostgres(dir, func(ctx context.Context, conn *pgx.Conn) error {
			rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
				WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
			if err != nil {
				return err
			}
			tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, table := range tables {
				var text string
				if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+
					pgx.Identifier{table}.Sanitize()+` t`).Scan(&text); err != nil {
					return fmt.Errorf("read %s: %w", table, err)
				}
				m[table] = []byte(text)
			}
			return nil
		})
		return m, err
	},
	CountRows: func(dir, table string) (n int, err error) {
		err = withPostgres(dir, func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n)
		})
		return n, err
	},
}

// withPostgres runs fn on a connection of its own to the PostgreSQL database of dir.
func withPostgres(dir string, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	c, err := pgtest.Start()
	if err != nil {
		return err
	}
	url, err := c.DatabaseFor(dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return fn(ctx, conn)
}

// Stores lists every store the tests run on; the first is the default. A new store is a new
// entry here.
var Stores = []StoreKind{SQLite, PostgreSQL}

// StoreEnv names the store New opens by default (one of Stores' names), so that a whole test
// run can use another: GATEHOUSE_TEST_STORE=sqlite.
const StoreEnv = "GATEHOUSE_TEST_STORE"

// defaultStore is the store StoreEnv names, or the first of Stores.
func defaultStore(tb testing.TB) StoreKind {
	tb.Helper()
	name := os.Getenv(StoreEnv)
	if name == "" {
		return Stores[0]
	}
	for _, k := range Stores {
		if k.Name == name {
			return k
		}
	}
	tb.Fatalf("%s=%s: no such store (the stores are %v)", StoreEnv, name, storeNames())
	return StoreKind{}
}

func storeNames() []string {
	var names []string
	for _, k := range Stores {
		names = append(names, k.Name)
	}
	return names
}

// Contents is everything e's store holds, as it holds it, by name (StoreKind.Contents): the
// SQLite files, or PostgreSQL's tables as text.
func (e *Env) Contents() map[string][]byte {
	e.T.Helper()
	m, err := e.Kind.Contents(e.Dir)
	if err != nil {
		e.T.Fatalf("read the %s store: %v", e.Kind.Name, err)
	}
	return m
}

// CountRows counts the rows of a table of e's store.
func (e *Env) CountRows(table string) int {
	e.T.Helper()
	n, err := e.Kind.CountRows(e.Dir, table)
	if err != nil {
		e.T.Fatalf("count the rows of %s in the %s store: %v", table, e.Kind.Name, err)
	}
	return n
}

// EachStore runs test once on every store of Stores, as a subtest named for it; give kind to
// New with WithStore.
func EachStore(t *testing.T, test func(t *testing.T, kind StoreKind)) {
	t.Helper()
	for _, k := range Stores {
		t.Run(k.Name, func(t *testing.T) { test(t, k) })
	}
}
