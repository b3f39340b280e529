package storecopy_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/postgres"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
	"gatehouse/backend/storecopy"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	adminPW = "admin passphrase 1"
	alicePW = "alice passphrase 1"
	bobPW   = "bob passphrase 1"
	carolPW = "carol passphrase 1"
	bobCell = "+16502530001"
)

// installation is a SQLite installation populated through the Service, and closed.
type installation struct {
	dir   string
	key   []byte
	env   *backendtest.Env
	app   *backendtest.App // alice's authenticator app
	audit []*backend.AuditEvent
}

// populate makes a SQLite data directory with an administrator, a user with an authenticator
// app and recovery codes (one used), one enrolled by SMS, one locked, one required to enroll,
// failures of an unknown username, an open session and a login in progress, and their audit
// events; then closes it, as a stopped server leaves it.
func populate(t *testing.T) *installation {
	t.Helper()
	ctx := t.Context()
	dir, key := backendtest.DataDir(t)
	e := backendtest.New(t, backendtest.WithStore(backendtest.SQLite), backendtest.InDataDir(dir, key),
		backendtest.WithAdmin("admin", adminPW), backendtest.WithSMS("https://gatehouse.example"))
	svc := e.Service
	for _, nu := range []backend.NewUser{
		{Username: "alice", DisplayName: "Alice App", Email: "alice@example.com", Password: alicePW},
		{Username: "bob", DisplayName: "Bob SMS", Password: bobPW},
		{Username: "carol", Password: carolPW},
		{Username: "dave", Password: "dave passphrase 1", RequireTwoFactor: true},
	} {
		backendtest.CreateUser(t, svc, e.Admin, nu)
	}

	alice := backendtest.SignIn(t, svc, "alice", alicePW)
	app := backendtest.EnrollApp(t, svc, alice, alicePW, e.Clock.Now())
	e.Clock.Advance(30 * time.Second)
	st := backendtest.Login(t, svc, "alice", alicePW, backend.StepVerify)
	if _, err := svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.RecoveryCodes[4]); err != nil {
		t.Fatalf("recovery code on SQLite: %v", err)
	}

	bob := backendtest.SignIn(t, svc, "bob", bobPW)
	if err := svc.ConfirmPassword(ctx, bob, bobPW); err != nil {
		t.Fatal(err)
	}
	en, err := svc.BeginSMSEnrollment(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReceiveSMS(ctx, backend.InboundSMS{MessageSID: smstest.NewSID("SM"), AccountSID: e.Twilio.AccountSID,
		From: bobCell, To: smstest.PhoneNumber, Body: en.Code}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmSMSEnrollment(ctx, bob); err != nil {
		t.Fatal(err)
	}
	st = backendtest.Login(t, svc, "bob", bobPW, backend.StepVerify)
	if _, err := svc.SendSMSCode(ctx, st.AttemptToken); err != nil { // a login code sent, pending
		t.Fatal(err)
	}

	for range 10 { // carol's account locks
		svc.Login(ctx, "carol", "wrong password")
		e.Clock.Advance(31 * time.Second)
	}
	if _, err := svc.Login(ctx, "carol", carolPW); backend.ErrorCode(err) == "" {
		t.Fatal("carol is not locked on SQLite")
	}
	svc.Login(ctx, "nobody", "wrong password")

	page, err := svc.AuditLog(ctx, e.Admin, backend.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	return &installation{dir: dir, key: key, env: e, app: app, audit: page.Events}
}

// sqliteCounts returns the row count of every table of the SQLite database, its own and the
// search index's aside.
func sqliteCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	m := map[string]int{}
	for _, n := range names {
		var c int
		if err := db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		m[n] = c
	}
	return m
}

// pgDump returns every row of every table of the PostgreSQL database, as text, by table.
func pgDump(t *testing.T, url string) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range names {
		var s string
		if err := conn.QueryRow(t.Context(), `SELECT coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '') FROM `+pgx.Identifier{n}.Sanitize()+` x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		m[n] = s
	}
	return m
}

// sqliteDump returns every row of every table of the SQLite database, as text, by table.
func sqliteDump(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := map[string]string{}
	for name := range sqliteCounts(t, path) {
		rows, err := db.Query(`SELECT * FROM "` + name + `" ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var b strings.Builder
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
		m[name] = b.String()
	}
	return m
}

func TestCopy(t *testing.T) {
	ctx := t.Context()
	in := populate(t)
	path := backendtest.SQLitePath(in.dir)
	before := sqliteCounts(t, path)
	for _, table := range []string{"users", "recovery_codes", "sessions", "login_attempts", "audit_events", "sms_codes", "sms_inbound", "unknown_logins"} {
		if before[table] == 0 {
			t.Fatalf("the SQLite installation has no rows in %s: populate more", table)
		}
	}
	url := pgtest.Database(t)

	res, err := storecopy.Copy(ctx, path, url)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}

	// Every table of the SQLite schema, and only those, with as many rows in both.
	got := map[string]int{}
	for _, tb := range res.Tables {
		got[tb.Name] = tb.Rows
	}
	if !reflect.DeepEqual(got, before) {
		t.Errorf("copied tables %v, want SQLite's %v", got, before)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range before {
		if table == "audit_events" {
			n++ // the copy's own event
		}
		var c int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&c); err != nil {
			t.Errorf("count %s in PostgreSQL: %v", table, err)
		} else if c != n {
			t.Errorf("%s: %d rows in PostgreSQL, want %d", table, c, n)
		}
	}
	conn.Close(ctx)

	// The PostgreSQL store with the same key: the System as it was.
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := in.env.Clock
	clock.Advance(30 * time.Second) // alice's app used its step at enrollment's login
	db.Now = clock.Now
	svc, err := backend.New(backend.Config{Store: db, SecretKey: in.key, Now: clock.Now, Logger: in.env.Logger})
	if err != nil {
		t.Fatal(err)
	}

	st := backendtest.Login(t, svc, "alice", alicePW, backend.StepVerify)
	code := backendtest.TOTP(t, in.app.Key, clock.Now())
	if st, err := svc.VerifyTOTP(ctx, st.AttemptToken, code); err != nil || st.Step != backend.StepDone {
		t.Fatalf("TOTP login on PostgreSQL: %v, %v", st, err)
	}
	st = backendtest.Login(t, svc, "alice", alicePW, backend.StepVerify)
	if _, err := svc.VerifyTOTP(ctx, st.AttemptToken, code); err == nil {
		t.Error("the same TOTP code was accepted twice")
	}
	if st, err := svc.VerifyRecoveryCode(ctx, st.AttemptToken, in.app.RecoveryCodes[0]); err != nil || st.Step != backend.StepDone {
		t.Fatalf("recovery code login on PostgreSQL: %v, %v", st, err)
	}
	st = backendtest.Login(t, svc, "alice", alicePW, backend.StepVerify)
	if _, err := svc.VerifyRecoveryCode(ctx, st.AttemptToken, in.app.RecoveryCodes[4]); err == nil {
		t.Error("the recovery code used on SQLite was accepted on PostgreSQL")
	}

	admin := backendtest.SignIn(t, svc, "admin", adminPW)
	bob, err := svc.UserByUsername(ctx, admin, "bob")
	if err != nil || bob.Method != backend.MethodSMS || bob.SMSPhone != bobCell {
		t.Errorf("bob on PostgreSQL: %+v, %v; want enrolled by SMS with %s", bob, err, bobCell)
	}
	if _, err := svc.Login(ctx, "carol", carolPW); err == nil {
		t.Error("carol's lock did not survive the copy")
	}
	dave, err := svc.UserByUsername(ctx, admin, "dave")
	if err != nil || dave.TwoFactorStatus() != backend.StatusPending {
		t.Errorf("dave on PostgreSQL: %+v, %v; want Pending setup on next login", dave, err)
	}

	// The old audit log, as it was, and new events after it.
	page, err := svc.AuditLog(ctx, admin, backend.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	old := page.Events[len(page.Events)-len(in.audit):]
	if !reflect.DeepEqual(old, in.audit) {
		t.Errorf("audit log on PostgreSQL ends with\n%v\nwant SQLite's\n%v", old, in.audit)
	}
	if len(page.Events) <= len(in.audit) || page.Events[0].ID <= in.audit[0].ID {
		t.Errorf("no new audit events after the copy's: %d events, newest %d", len(page.Events), page.Events[0].ID)
	}
	// The copy itself is audited (issue 12 #15), by cli, with what it copied, right after the
	// copied events.
	ev := page.Events[len(page.Events)-len(in.audit)-1]
	wantDetail := fmt.Sprintf("copied from %s: ", path)
	if ev.Action != backend.AuditDatabaseCopied || ev.ActorName != "cli" || !strings.HasPrefix(ev.Detail, wantDetail) ||
		!strings.Contains(ev.Detail, fmt.Sprintf("users %d", before["users"])) || !strings.Contains(ev.Detail, fmt.Sprintf("audit_events %d", before["audit_events"])) {
		t.Errorf("the event after the copied ones: %+v, want %s by cli, detail %q and each table's rows", ev, backend.AuditDatabaseCopied, wantDetail)
	}

	// New rows get new IDs, past the copied ones.
	u := backendtest.CreateUser(t, svc, admin, backend.NewUser{Username: "erin", Password: "erin passphrase 1"})
	if u.ID <= dave.ID {
		t.Errorf("new user's ID %d, want more than the copied %d", u.ID, dave.ID)
	}
}

// TestCopyUnnamedTable: a table the copy does not name (added by a later migration to both
// stores) is copied, IDs and all; one in SQLite only stops the copy, which leaves no row.
func TestCopyUnnamedTable(t *testing.T) {
	ctx := t.Context()
	in := populate(t)
	path := backendtest.SQLitePath(in.dir)
	sdb, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`CREATE TABLE later_table (id INTEGER PRIMARY KEY AUTOINCREMENT, flag INTEGER NOT NULL, v BLOB NOT NULL);
		INSERT INTO later_table (flag, v) VALUES (1, x'00ff'), (0, x'01');
		INSERT INTO later_table (id, flag, v) VALUES (9, 0, x'02'); DELETE FROM later_table WHERE id = 9`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()

	url := pgtest.Database(t)
	_, err = storecopy.Copy(ctx, path, url)
	if err == nil || !strings.Contains(err.Error(), "table later_table has no counterpart in PostgreSQL") {
		t.Fatalf("Copy with a table PostgreSQL lacks: %v, want its name in a refusal", err)
	}
	for table, rows := range pgDump(t, url) {
		if table != "schema_migrations" && rows != "" {
			t.Errorf("refused copy left rows in %s: %s", table, rows)
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, flag boolean NOT NULL, v bytea NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	res, err := storecopy.Copy(ctx, path, url)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if n := res.Rows("later_table"); n != 2 {
		t.Errorf("later_table: %d rows copied, want 2", n)
	}
	var rows string
	if err := conn.QueryRow(ctx, `SELECT string_agg(format('%s %s %s', id, flag, encode(v, 'hex')), ',' ORDER BY id) FROM later_table`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != "1 t 00ff,2 f 01" {
		t.Errorf("later_table in PostgreSQL: %q, want %q", rows, "1 t 00ff,2 f 01")
	}
	var next int64
	if err := conn.QueryRow(ctx, `INSERT INTO later_table (flag, v) VALUES (true, '\x00') RETURNING id`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next != 10 {
		t.Errorf("next later_table ID %d, want 10 (past SQLite's high-water mark, 9)", next)
	}
}

// TestCopyRefusals: each refusal says why and changes nothing, in either database.
func TestCopyRefusals(t *testing.T) {
	ctx := t.Context()
	in := populate(t)
	path := backendtest.SQLitePath(in.dir)
	wantSQLite := sqliteDump(t, path)

	full := pgtest.Database(t)
	if _, err := storecopy.Copy(ctx, path, full); err != nil {
		t.Fatalf("first copy: %v", err)
	}
	// A database with only a new user in it is not empty either.
	withUser := pgtest.Database(t)
	{
		db, err := postgres.Open(ctx, withUser)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := backend.New(backend.Config{Store: db, SecretKey: in.key, Passwords: backend.PasswordPolicy{Argon2: backendtest.CheapArgon2}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateFirstAdmin(ctx, backend.NewUser{Username: "root", Password: "root passphrase 1"}); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}

	// A database a server opened with another key, and nothing else: its key check differs.
	otherKey := pgtest.Database(t)
	openedWith(t, otherKey, make([]byte, 32))

	sqlExec := func(path, stmt string) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	// Older and newer schemas: copies of the installation with their record of migrations changed.
	copyOf := func(edit string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "gatehouse.db")
		sqlExec(path, "VACUUM INTO '"+p+"'")
		sqlExec(p, edit)
		return p
	}
	older := copyOf(`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`)
	newer := copyOf(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1000, '1000_future.sql', 0)`)

	tests := []struct {
		name      string
		path      string
		url       func() string
		inUse     bool
		want      string
		touchesPG bool
	}{
		{"target has data", path, func() string { return full }, false, "is not empty (rows in ", true},
		{"target has a user", path, func() string { return withUser }, false, "is not empty (rows in audit_events, users)", true},
		{"target opened with another key", path, func() string { return otherKey }, false, "was first used with another server key than this installation's (key_check differs)", true},
		{"server running", path, func() string { return pgtest.Database(t) }, true, "is in use by another program (gatehouse serve or the desktop console): stop every gatehouse on this data directory", false},
		{"older schema", older, func() string { return pgtest.Database(t) }, false, "not the newest", false},
		{"newer schema", newer, func() string { return pgtest.Database(t) }, false, "newer than this gatehouse", false},
		{"no database", filepath.Join(t.TempDir(), "gatehouse.db"), func() string { return pgtest.Database(t) }, false, "no Gatehouse database at", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url()
			wantPG := pgDump(t, url)
			_, statErr := os.Stat(tt.path)
			var wantSrc map[string]string
			if statErr == nil {
				wantSrc = sqliteDump(t, tt.path)
			}
			if tt.inUse {
				db, err := sqlite.Open(tt.path) // as gatehouse serve holds it
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
			}
			res, err := storecopy.Copy(ctx, tt.path, url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Copy: %v, %v; want an error with %q", res, err, tt.want)
			}
			if got := pgDump(t, url); !reflect.DeepEqual(got, wantPG) {
				t.Errorf("PostgreSQL changed by a refused copy:\n%v\nwas\n%v", got, wantPG)
			}
			if !tt.touchesPG && len(wantPG) != 0 {
				t.Errorf("PostgreSQL had tables before: %v", wantPG)
			}
			if _, err := os.Stat(tt.path); statErr != nil && err == nil {
				t.Errorf("a refused copy made %s", tt.path)
			} else if statErr == nil && !reflect.DeepEqual(sqliteDump(t, tt.path), wantSrc) {
				t.Errorf("SQLite changed by a refused copy")
			}
		})
	}
	if got := sqliteDump(t, path); !reflect.DeepEqual(got, wantSQLite) {
		t.Errorf("the installation changed")
	}
}

// openedWith opens the PostgreSQL database url with a Service of the server key key and closes
// it: what a server started on the database before the copy leaves there (the key check).
func openedWith(t *testing.T, url string, key []byte) {
	t.Helper()
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := backend.New(backend.Config{Store: db, SecretKey: key, Passwords: backend.PasswordPolicy{Argon2: backendtest.CheapArgon2}}); err != nil {
		t.Fatal(err)
	}
}

// TestCopyIntoDatabaseOpenedWithTheSameKey: a server started on the new database with the
// installation's key before the copy (say, to try the settings) leaves only the key check
// there; the copy takes that database and the System is there afterwards.
func TestCopyIntoDatabaseOpenedWithTheSameKey(t *testing.T) {
	ctx := t.Context()
	in := populate(t)
	url := pgtest.Database(t)
	openedWith(t, url, in.key)
	res, err := storecopy.Copy(ctx, backendtest.SQLitePath(in.dir), url)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if n := res.Rows("settings"); n != 1 {
		t.Errorf("settings: %d rows copied, want 1 (the key check)", n)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := backend.New(backend.Config{Store: db, SecretKey: in.key, Passwords: backend.PasswordPolicy{Argon2: backendtest.CheapArgon2}}); err != nil {
		t.Errorf("the installation's key on the copy: %v", err)
	}
}
