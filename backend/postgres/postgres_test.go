package postgres

// PostgreSQL alone: its migrations and their lock, what Open refuses and what its errors
// hide, session settings, text it cannot hold, a deadlock broken and retried. The contract
// tests are in backend/storetest (store_test.go).

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// t0 is the fake clock's first reading, with nanoseconds: the store keeps them.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// An opener opens stores on one test's database: each call is another pool of connections to
// the same data, as another server would open it, with the clock now (nil: the real time).
// The store tests below use only backend.Store through it, so that they can run on any store.
type opener func(now func() time.Time) backend.Store

// poolSize is the connections of each store a test opens: enough for the races below to run
// at once in PostgreSQL, not merely queue for a connection.
const poolSize = 20

// newOpener makes a new database and returns its opener; the stores close when t ends.
func newOpener(t testing.TB) opener {
	t.Helper()
	u := pgtest.Database(t)
	return func(now func() time.Time) backend.Store {
		t.Helper()
		db := openURL(t, u+"&pool_max_conns="+strconv.Itoa(poolSize))
		if now != nil {
			db.Now = now
		}
		return db
	}
}

// openURL opens the store at url and closes it when t ends.
func openURL(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newDB opens a store on a new database with a clock standing still at t0.
func newDB(t testing.TB) (*DB, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(t0)
	return newOpener(t)(c.Now).(*DB), c
}

// wantCode fails unless err carries the domain error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := backend.ErrorCode(err); got != code {
		t.Fatalf("error %v: got code %q, want %q", err, got, code)
	}
}

func createUser(t testing.TB, s backend.Store, username string, role backend.Role) *backend.User {
	t.Helper()
	u := &backend.User{Username: username, Role: role}
	if err := s.CreateUser(ctx, u, "hash of "+username); err != nil {
		t.Fatalf("CreateUser(%s): %v", username, err)
	}
	return u
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("migrations: got %v, want 0001_init.sql first", ms)
	}
	u := pgtest.Database(t)
	for i := range 3 { // opening again applies nothing twice
		db, err := Open(ctx, u)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != len(ms) {
			t.Fatalf("Open #%d: schema version %d, %v; want %d", i, v, err, len(ms))
		}
		var n int
		db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
		if n != len(ms) {
			t.Fatalf("Open #%d: %d migrations recorded, want %d", i, n, len(ms))
		}
		db.Close()
	}
}

// TestOpenConcurrently: replicas starting at once on a new database all open it, and the
// migrations run once: the migrations lock makes them take turns.
func TestOpenConcurrently(t *testing.T) {
	u := pgtest.Database(t)
	const n = 8
	opened := storetest.Race(t, n, func(int) (bool, error) {
		db, err := Open(ctx, u)
		if err != nil {
			return false, err
		}
		return true, db.Close()
	})
	if opened != n {
		t.Fatalf("%d of %d concurrent Opens succeeded", opened, n)
	}
	db := openURL(t, u)
	var recorded, versions int
	db.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&recorded, &versions)
	if ms, _ := migrations(); recorded != len(ms) || versions != len(ms) {
		t.Fatalf("after %d concurrent Opens: %d migrations recorded (%d versions), want %d", n, recorded, versions, len(ms))
	}
}

// schema describes the database's tables and columns, to see that Open changed nothing.
func schema(t *testing.T, u string) string {
	t.Helper()
	db, err := pgxConnect(u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	rows, err := db.Query(ctx, `
		SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_schema = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, c)
	}
	var migs string
	db.QueryRow(ctx, `SELECT COALESCE(string_agg(version || ' ' || name, ','), '') FROM schema_migrations`).Scan(&migs)
	return strings.Join(cols, "\n") + "\nmigrations: " + migs
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	u := pgtest.Database(t)
	openURL(t, u).Close()
	pgtest.Exec(t, u, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`)
	before := schema(t, u)

	db, err := Open(ctx, u)
	if err == nil {
		db.Close()
		t.Fatal("Open of a newer database: got nil error")
	}
	ms, _ := migrations()
	want := "database schema version 999 is newer than this gatehouse (" + strconv.Itoa(len(ms)) + "); upgrade gatehouse"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: got %q, want it to contain %q", err, want)
	}
	if got := schema(t, u); got != before {
		t.Fatalf("Open of a newer database changed it:\n%s\nwant\n%s", got, before)
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	u := pgtest.Database(t)
	pgtest.Exec(t, u, `CREATE TABLE photos (id bigint PRIMARY KEY); CREATE TABLE schema_info (v int)`)
	before := schema(t, u)
	db, err := Open(ctx, u)
	if err == nil {
		db.Close()
		t.Fatal("Open of another program's database: got nil error")
	} else if !strings.Contains(err.Error(), "is not a gatehouse database") {
		t.Fatalf("Open: got %v, want \"is not a gatehouse database\"", err)
	}
	if got := schema(t, u); got != before || strings.Contains(got, "users.") {
		t.Fatalf("the foreign database changed:\n%s\nwant\n%s", got, before)
	}

	// Another schema of the same database is another matter: with search_path naming an
	// empty one, Gatehouse makes its tables there.
	pgtest.Exec(t, u, `CREATE SCHEMA gatehouse`)
	db = openURL(t, u+"&search_path=gatehouse")
	if _, _, err := db.FindUsers(ctx, backend.UserFilter{}); err != nil {
		t.Fatal(err)
	}
}

// TestOpenErrorsHideThePassword: what Open says about a URL it cannot use never contains the
// URL's password (it goes to the log and the terminal).
func TestOpenErrorsHideThePassword(t *testing.T) {
	const pw = "s3cret-Pa55word"
	c := pgtest.Shared(t)
	for _, u := range []string{
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/no_such_database?sslmode=disable", pw, c.Port()),
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:1/gatehouse?sslmode=disable&connect_timeout=2", pw),
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:notaport/gatehouse", pw),
		fmt.Sprintf("postgres://postgres@127.0.0.1:%d/gatehouse?password=%s&sslmode=bogus", c.Port(), pw),
		fmt.Sprintf("postgres://postgres:%s@[::1/gatehouse", pw),
		fmt.Sprintf("mysql://root:%s@127.0.0.1/gatehouse", pw),
		fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/gatehouse?sslmode=disable", url.QueryEscape(pw+"/é"), c.Port()+1),
	} {
		db, err := Open(ctx, u)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q): got nil error", u)
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), url.QueryEscape(pw)) {
			t.Errorf("Open: the error shows the password: %v", err)
		}
		t.Logf("%v", err)
	}
}

// TestOpenSaysWhatIsWrong pins issue 12 (#10, #11): a URL it cannot read says which part is
// wrong without quoting it (the password may be in that part); a role that does not own the
// database is told to make it the owner; and only a database that does not answer is
// backend.IsStoreUnreachable (what serve waits for), not one that refuses.
func TestOpenSaysWhatIsWrong(t *testing.T) {
	const pw = "pa55/wo#rd"
	c := pgtest.Shared(t)
	u := pgtest.Database(t)
	name := strings.TrimPrefix(strings.SplitN(u, "?", 2)[0], fmt.Sprintf("postgres://postgres@127.0.0.1:%d/", c.Port()))
	role := "not_owner_" + name
	pgtest.Exec(t, u, `CREATE ROLE `+role+` LOGIN PASSWORD 'x'`)
	t.Cleanup(func() { pgtest.Exec(t, c.URL("postgres"), `DROP ROLE IF EXISTS `+role) })
	for _, tc := range []struct {
		name, url, want string
		unreachable     bool
	}{
		{"bad escape", "postgres://gatehouse:pa%zzss@127.0.0.1:5432/gatehouse", "a % is not followed by two hexadecimal digits", false},
		{"slash in password", "postgres://gatehouse:" + pw + "@127.0.0.1:5432/gatehouse", "the port after the host is not a number (or a password with / # ? @ % : in it must be percent-encoded", false},
		{"bad port", "postgres://gatehouse@127.0.0.1:54x2/gatehouse", "the port after the host is not a number", false},
		{"IPv6", "postgres://gatehouse@[::1/gatehouse", "an IPv6 host in [ ] lacks its ]", false},
		{"not the owner", fmt.Sprintf("postgres://%s:x@127.0.0.1:%d/%s?sslmode=disable", role, c.Port(), name),
			fmt.Sprintf("permission denied for schema public (SQLSTATE 42501) (the database must belong to the role in the URL: ALTER DATABASE %s OWNER TO %s)", name, role), false},
		{"no such database", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/no_such_database?sslmode=disable", c.Port()), "does not exist", false},
		{"refused", "postgres://postgres@127.0.0.1:1/gatehouse?sslmode=disable", "connection refused", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(ctx, tc.url)
			if err == nil {
				db.Close()
				t.Fatal("Open: got nil error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "wo#rd") || strings.Contains(err.Error(), "pa%zz") {
				t.Errorf("Open: the error quotes the password: %v", err)
			}
			if got := backend.IsStoreUnreachable(err); got != tc.unreachable {
				t.Errorf("IsStoreUnreachable(%v): got %v, want %v", err, got, tc.unreachable)
			}
		})
	}
}

// TestTextPostgreSQLCannotHold: SQLite stores any bytes, PostgreSQL refuses invalid UTF-8 and
// NUL in text. What comes from outside and is only shown (a User-Agent, an audit detail) is
// stored with U+FFFD in their place instead of failing the login; what is looked up by such
// text finds nothing, as nothing stored holds it.
func TestTextPostgreSQLCannotHold(t *testing.T) {
	db, _ := newDB(t)
	bob := createUser(t, db, "bob", backend.RoleUser)
	s := &backend.Session{TokenHash: "s1", UserID: bob.ID, UserAgent: "Mozilla\xff\x00/5.0", IP: "203.0.113.9"}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession with a User-Agent of invalid UTF-8: %v", err)
	}
	got, _, err := db.FindSession(ctx, "s1")
	if err != nil || got.UserAgent != "Mozilla\uFFFD\uFFFD/5.0" {
		t.Errorf("FindSession: User-Agent %q, %v; want %q", got.UserAgent, err, "Mozilla\uFFFD\uFFFD/5.0")
	}
	e := &backend.AuditEvent{Action: "login.failure", TargetName: "x\xfe", Detail: "typed \x00"}
	if err := db.AddAuditEvent(ctx, e); err != nil {
		t.Fatalf("AddAuditEvent: %v", err)
	}
	for _, name := range []string{"bob\x00", "b\xffob", "\xff"} {
		_, err := db.FindUserByUsername(ctx, name)
		wantCode(t, err, backend.ENOTFOUND)
		if _, n, err := db.FindUsers(ctx, backend.UserFilter{Search: name}); err != nil || n != 0 {
			t.Errorf("FindUsers(Search %q): %d, %v; want 0, nil", name, n, err)
		}
		if _, n, err := db.FindAuditEvents(ctx, backend.AuditFilter{Username: name}); err != nil || n != 0 {
			t.Errorf("FindAuditEvents(Username %q): %d, %v; want 0, nil", name, n, err)
		}
	}
	wantCode(t, db.CreateUser(ctx, &backend.User{Username: "eve", DisplayName: "E\x00ve", Role: backend.RoleUser}, "h"), backend.EINVALID)
}

// pgxConnect opens one connection to the database at u, beside the store.
func pgxConnect(u string) (*pgx.Conn, error) { return pgx.Connect(ctx, u) }

// TestSessionSettings: every connection commits durably and ends a transaction left idle,
// unless the URL says otherwise.
func TestSessionSettings(t *testing.T) {
	u := pgtest.Database(t)
	show := func(db *DB, name string) string {
		var v string
		if err := db.pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	db := openURL(t, u)
	for name, want := range map[string]string{"synchronous_commit": "on", "idle_in_transaction_session_timeout": "30s", "application_name": "gatehouse"} {
		if got := show(db, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	db = openURL(t, u+"&application_name=replica-2&idle_in_transaction_session_timeout=200ms")
	if got := show(db, "application_name"); got != "replica-2" {
		t.Errorf("application_name from the URL: %q, want replica-2", got)
	}
	// A transaction left idle is ended by the server: its locks do not outlive the timeout.
	u1 := createUser(t, db, "bob", backend.RoleUser)
	err := db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := db.FindUserForUpdate(ctx, u1.ID); err != nil {
			return err
		}
		time.Sleep(time.Second)
		return db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "test.late"})
	})
	if err == nil {
		t.Fatal("a transaction idle past idle_in_transaction_session_timeout committed")
	}
	other := openURL(t, u)
	if _, err := other.ConsumeTOTPStep(ctx, u1.ID, 1); err != nil {
		t.Fatalf("the row after the idle transaction ended: %v", err)
	}
}

// TestAtomicallyRetriesADeadlock: a logout (its login attempt, then its setups) and an
// administrator's change of the same user (the setups, then the attempts) wait for each other;
// PostgreSQL ends one of them, which Atomically runs again: both succeed.
func TestAtomicallyRetriesADeadlock(t *testing.T) {
	db, _ := newDB(t)
	u := createUser(t, db, "bob", backend.RoleUser)
	if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "A", UserID: u.ID, Step: backend.StepEnroll, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginAppEnrollment(ctx, "A", u.ID, []byte("secret"), time.Hour); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	holding := make(chan struct{})
	var once sync.Once
	errs := make(chan error, 2)
	go func() { // the logout
		errs <- db.Atomically(ctx, func(ctx context.Context) error {
			runs.Add(1)
			if err := db.DeleteLoginAttempt(ctx, "A"); err != nil {
				return err
			}
			once.Do(func() {
				close(holding)
				waitForLockWait(t, db) // the change waits for the attempt
			})
			return db.DeleteOwned(ctx, "A")
		})
	}()
	go func() { // the administrator's change
		<-holding
		errs <- db.Atomically(ctx, func(ctx context.Context) error {
			runs.Add(1)
			if _, err := db.FindUserForUpdate(ctx, u.ID); err != nil {
				return err
			}
			_, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{ClearEnrollment: true, EndSessions: true})
			return err
		})
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction of the deadlock failed: %v", err)
		}
	}
	if n := runs.Load(); n < 3 {
		t.Errorf("%d runs of the two transactions: want 3 or more (no deadlock was broken?)", n)
	}
	if _, err := db.FindAppEnrollment(ctx, "A"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("the setup survived both: %v", err)
	}
}

// waitForLockWait waits until a session of db's database waits for a lock.
func waitForLockWait(t *testing.T, db *DB) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var waiting int
		err := db.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Error(err)
			return
		} else if waiting > 0 {
			return
		}
	}
	t.Error("no transaction waited for a lock within 30 s")
}
