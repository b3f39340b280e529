package postgres

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/storetest"
)

// TestStore runs the conformance suite of backend.Store (backend/storetest) on PostgreSQL:
// each test on a database of its own, its concurrency tests over several stores (as several
// servers), each with a pool of connections. The tests in this package's other files are
// about PostgreSQL alone: its migrations and their lock, what Open refuses and says, the
// session settings, text it cannot hold, the retry of a deadlock.
func TestStore(t *testing.T) { storetest.Run(t, suiteDatabase) }

// suiteDatabase is storetest's Opener for PostgreSQL: an empty database of the test
// binary's cluster, migrated.
func suiteDatabase(t testing.TB) storetest.DB {
	u := emptyDatabase(t)
	return storetest.DB{
		Open: func(now func() time.Time) backend.Store {
			db := openURL(t, u+"&pool_max_conns="+strconv.Itoa(poolSize))
			if now != nil {
				db.Now = now
			}
			return db
		},
		Exec: func(query string) error {
			conn, err := pgxConnect(u)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, query)
			return err
		},
		CountRows: func(table string) (n int, err error) {
			conn, err := pgxConnect(u)
			if err != nil {
				return 0, err
			}
			defer conn.Close(ctx)
			err = conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n)
			return n, err
		},
	}
}

// emptied holds the URLs of migrated databases that a finished suite test emptied: the next
// test takes one instead of creating and migrating a database (which costs far more than
// the test), so the suite's 60-odd tests run on a few databases.
var emptied struct {
	sync.Mutex
	urls []string
}

// emptyDatabase returns the URL of a migrated database with no rows, t's alone until t
// ends; then, its stores closed, it is emptied (every table but schema_migrations) for the next test, or dropped with the cluster if that fails.
func emptyDatabase(t testing.TB) string {
	t.Helper()
	emptied.Lock()
	var u string
	if n := len(emptied.urls); n > 0 {
		u, emptied.urls = emptied.urls[n-1], emptied.urls[:n-1]
	}
	emptied.Unlock()
	if u == "" {
		c := pgtest.Shared(t)
		name, err := c.CreateDatabase()
		if err != nil {
			t.Fatal(err)
		}
		u = c.URL(name)
		db, err := Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	t.Cleanup(func() { // after the stores' Close, registered later
		if err := empty(u); err != nil {
			t.Logf("empty the database for the next test: %v", err)
			return
		}
		emptied.Lock()
		emptied.urls = append(emptied.urls, u)
		emptied.Unlock()
	})
	return u
}

// empty deletes every row of the database at u but the migrations'.
func empty(u string) error {
	conn, err := pgxConnect(u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// DELETE, not TRUNCATE: the tables are small, and TRUNCATE makes every table and index
	// anew. The foreign keys are not checked (replica), so the order does not matter.
	_, err = conn.Exec(ctx, `SET session_replication_role = replica; DO $$ DECLARE t text; BEGIN
		FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' LOOP
			EXECUTE 'DELETE FROM ' || quote_ident(t);
		END LOOP;
	END $$`)
	return err
}
