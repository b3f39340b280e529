// Package postgres implements backend.Store on PostgreSQL (github.com/jackc/pgx/v5, a pgxpool
// of connections), for several gatehouse servers sharing one database.
//
// It keeps the semantics of backend/sqlite method by method: the same error codes, the same
// one conditional UPDATE or DELETE for every use-once decision, one timestamp per transaction
// from the injectable clock, and Atomically as one transaction that every store call made with
// its context joins. What differs is concurrency. SQLite has one writer, so everything a
// transaction reads holds until it commits; PostgreSQL runs transactions side by side. Here
// every transaction runs at READ COMMITTED and takes, before it decides, the lock its decision
// needs (see locks.go): a conditional UPDATE or DELETE locks the row it changes and is
// re-evaluated on the row as committed by whoever held the lock first, so of racing callers
// exactly the right number win, without retries; a read-modify-write (a failure counter, the
// SMS caps, a set replaced) first locks its row with SELECT … FOR NO KEY UPDATE; a decision on
// rows that are not there yet (no administrator yet, the last enabled administrator) takes a
// transaction-level advisory lock that every write changing those rows takes too.
//
// Durability: every commit waits for the WAL to be flushed (synchronous_commit=on is set on
// each connection unless the URL sets it), so a write that returned nil survives a crash of
// the server or of the database.
//
// Nothing here depends on the server's locale: usernames compare and sort by ASCII case
// folding (the generated column username_key, as SQLite's NOCASE), keys and codes are COLLATE
// "C". The admin list's search is ILIKE, which folds case as the database's locale does (ASCII
// at least; all of Unicode under a UTF-8 locale, as SQLite's trigram index).
//
// Times are stored as bigint Unix nanoseconds, NULL for the zero time, exactly the values
// backend/sqlite stores: a time read back equals the one written (timestamptz keeps
// microseconds), comparisons such as expires_at > now behave identically on both stores, and
// an installation copied from SQLite is copied value for value. In psql,
// to_timestamp(expires_at / 1e9) shows one.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gatehouse/backend"
)

var _ backend.Store = (*DB)(nil)

// DB is the PostgreSQL store. Create it with Open; it is safe for concurrent use.
type DB struct {
	// Now is the clock. Each transaction reads it once, at its start, and stamps everything
	// it writes with that time. It defaults to time.Now; tests replace it before use.
	Now func() time.Time

	pool     *pgxpool.Pool
	probe    *pgxpool.Pool // one connection of Ping's own (ping.go)
	host     string        // host:port, for the log
	database string
}

// IsURL reports whether s is meant as a PostgreSQL connection URL (it begins postgres:// or
// postgresql://), the form Open takes; Open says what is wrong with one it cannot read.
func IsURL(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// urlProblem says which part of a database URL url.Parse could not read, in words that quote
// nothing of it: a password with a / # ? in it ends the host part early, so what url.Parse
// calls the port may be a piece of the password.
func urlProblem(err error) string {
	const encode = "a password with / # ? @ % : in it must be percent-encoded, e.g. %2F for /, %23 for #, %40 for @, %25 for %"
	var esc url.EscapeError
	msg := err.Error()
	switch {
	case errors.As(err, &esc):
		return "a % is not followed by two hexadecimal digits (" + encode + ")"
	case strings.Contains(msg, "invalid port"):
		return "the port after the host is not a number (or " + encode + ")"
	case strings.Contains(msg, "missing ']' in host"):
		return "an IPv6 host in [ ] lacks its ]"
	case strings.Contains(msg, "invalid character") && strings.Contains(msg, "host name"):
		return "the host name holds a character a host name cannot (" + encode + ")"
	}
	return "it cannot be read (" + encode + ")"
}

// openError is an error of Open: its message, with the URL's password cut out, and the error
// it came from, kept for errors.Is and errors.As (backend.IsStoreUnreachable).
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// Open connects to the PostgreSQL database at databaseURL (postgres://USER:PASSWORD@HOST:PORT/
// DATABASE?sslmode=…; pool_max_conns=N sets the pool's size, by default the greater of 4 and
// the number of CPUs) and brings its schema up to date. It refuses, changing nothing, a database
// that holds tables of something else and one whose schema is newer than this program. No error
// it returns contains the URL's password.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	const form = "postgres://USER:PASSWORD@HOST:PORT/DATABASE"
	u, err := url.Parse(databaseURL)
	if err != nil {
		// url.Parse's error quotes the URL, password and all: urlProblem names the part.
		return nil, fmt.Errorf("open store: the database URL is not valid: %s; it must look like %s", urlProblem(err), form)
	} else if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("open store: the database URL must look like %s", form)
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open store: %s", redact(err.Error(), u))
	}
	for name, value := range sessionSettings {
		if _, ok := cfg.ConnConfig.RuntimeParams[name]; !ok {
			cfg.ConnConfig.RuntimeParams[name] = value
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %s", redact(err.Error(), u))
	}
	db := &DB{Now: time.Now, pool: pool, database: cfg.ConnConfig.Database,
		host: fmt.Sprintf("%s:%d", cfg.ConnConfig.Host, cfg.ConnConfig.Port)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		// A database that does not answer (refused, no answer in time, a name that does not
		// resolve) is backend.IsStoreUnreachable: serve waits for it. A refusal (a wrong
		// password, no such database) is not.
		return nil, unreachable(&openError{msg: fmt.Sprintf("open store: connect to database %s on %s: %s", db.database, db.host, redact(err.Error(), u)), err: err})
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		if pgCode(err) == "42501" { // insufficient_privilege: CREATE in the schema
			return nil, fmt.Errorf("%w (the database must belong to the role in the URL: ALTER DATABASE %s OWNER TO %s)", err, db.database, cfg.ConnConfig.User)
		}
		return nil, unreachable(err)
	}
	if db.probe, err = newProbe(cfg); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %s", redact(err.Error(), u))
	}
	return db, nil
}

// sessionSettings are set on every connection, unless the URL sets them.
var sessionSettings = map[string]string{
	// "Saved" means on disk, whatever the server's default.
	"synchronous_commit": "on",
	// A transaction left open by a server that stopped mid-way (paused, cut off by the
	// network) would hold a user's row lock, and every replica's logins of that user would
	// wait for it, until TCP noticed, which can take hours: PostgreSQL ends it instead. No
	// transaction of this store waits on anything but the database (see Atomically).
	"idle_in_transaction_session_timeout": "30s",
	"application_name":                    "gatehouse",
}

// redact removes the URL's password from an error message (pgx's own redaction is best effort).
func redact(msg string, u *url.URL) string {
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "xxxxx")
	}
	if pw := u.Query().Get("password"); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// Close closes every connection of the pool, waiting for those in use to be released.
func (db *DB) Close() error {
	db.pool.Close()
	if db.probe != nil {
		db.probe.Close()
	}
	return nil
}

// Host returns the database server's host:port, for the log.
func (db *DB) Host() string { return db.host }

// Database returns the database's name, for the log.
func (db *DB) Database() string { return db.database }

// Tx is a transaction with the time it began, the one timestamp for everything it writes. A
// joined Tx is part of an Atomically transaction: its commit and rollback are left to that.
type Tx struct {
	pgx.Tx
	now    time.Time
	joined bool
	// failures is the failure state of the users whose row this transaction has locked and
	// read (FindUserForUpdate, UpdateFailures), as it last wrote it: while the lock is held no
	// other transaction can change it, and in this one only UpdateFailures writes it, so
	// UpdateFailures need not read it again (twofactor.go). Only the Atomically transaction's
	// Tx has one: a savepoint's Tx (inTx) is never passed to UpdateFailures.
	failures map[int64]backend.Failures
	// attempts are the login attempts this transaction has locked (FindLoginAttemptForUpdate)
	// and not used yet: only it can delete them, so CompleteLogin knows its answer in advance.
	// Only the Atomically transaction's Tx has them.
	attempts map[string]bool
	// totpLast is the last used TOTP step of the users whose row this transaction has locked,
	// as it read it with the secret (TOTPSecret) or last consumed (ConsumeTOTPStep): no other
	// transaction can change it while the lock is held. Only the Atomically transaction's Tx.
	totpLast map[int64]*int64
	// secret is the TOTP secret and last used step of the user whose row the login step's
	// locked read (FindLoginAttemptForUpdate) has just read, for TOTPSecret to take without a
	// statement of its own. Any statement sent since (Exec, QueryRow, Query, SendBatch, Begin)
	// drops it, and TOTPSecret takes it only when the one write queued since is the user's
	// charge (UpdateFailures): nothing can have changed the secret in between.
	secret *lockedSecret
	// pending are writes queued by later, not sent yet.
	pending []pendingWrite
	// revoked are the users RevokeSessions was called for in this Atomically transaction:
	// their revocations are inserted just before it commits (revocation.go).
	revoked []int64
	// pool, in an Atomically transaction not begun yet (Tx is nil until then), is where it
	// begins: its BEGIN goes with its first statement, one round trip for both.
	pool *pgxpool.Pool
	// conn is the Atomically transaction's connection, once it has begun, held until the
	// transaction ends (atomically releases it): its COMMIT goes with the writes queued last.
	conn *pgxpool.Conn
}

// lockedSecret is Tx.secret.
type lockedSecret struct {
	userID int64
	sealed []byte
	last   *int64
}

// pendingWrite is a write queued by later; read reads its answer from the batch it was sent
// in (its command tag, or a RETURNING row).
type pendingWrite struct {
	sql  string
	args []any
	read func(pgx.BatchResults) error
	// consumes is the user whose TOTP step this write consumes (ConsumeTOTPStep), 0 for
	// other writes: a failure state written after it goes into the same UPDATE (UpdateFailures).
	consumes int64
	// part, if not nil, is the write as data-modifying CTEs, which commit may fold with the
	// writes next to it into one statement (fold.go).
	part *foldPart
}

// later queues a write to be sent with the transaction's next statement, in one round trip
// (pgx.Batch): a write whose answer the caller does not wait for, such as a failure counter's
// new value under a row lock this transaction holds, or an audit event. PostgreSQL runs it
// before that statement, so the order of the transaction's statements is the order of the
// calls; only the round trip is shared. Its error (or read's) is the next statement's, and
// ends the transaction as its own would have. Exec and QueryRow carry the queued writes, and
// so does the commit (atomically); Query, SendBatch and Begin send them first, alone.
//
// read must fail only when the statement does (a RETURNING row it scans, a command tag it
// checks against what the transaction's locks guarantee): the writes queued last are sent
// with the COMMIT, and PostgreSQL commits them unless one of them fails in the database.
func (tx *Tx) later(read func(pgx.BatchResults) error, sql string, args ...any) {
	tx.pending = append(tx.pending, pendingWrite{sql: sql, args: args, read: read})
}

// withPending sends the queued writes and then the statement sql in one batch, and returns
// the results with the queued writes' answers read and checked.
func (tx *Tx) withPending(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	begin := tx.Tx == nil
	if begin {
		b.BeginTx(pgx.TxOptions{})
	}
	pending := tx.pending
	tx.pending = nil
	for _, p := range pending {
		b.Queue(p.sql, p.args...)
	}
	if sql != "" {
		b.Queue(sql, args...)
	}
	var br pgx.BatchResults
	if begin {
		c, err := tx.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		tx.conn = c
		br = c.SendBatch(ctx, b)
		tx.Tx = br.Tx()
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("begin: %w", err)
		}
	} else {
		br = tx.Tx.SendBatch(ctx, b)
	}
	if err := readPending(br, pending); err != nil {
		br.Close()
		return nil, err
	}
	return br, nil
}

// readPending reads the answers of the queued writes sent at the head of br.
func readPending(br pgx.BatchResults, pending []pendingWrite) error {
	for _, p := range pending {
		if p.read == nil {
			if _, err := br.Exec(); err != nil {
				return err
			}
			continue
		}
		if err := p.read(br); err != nil {
			return err
		}
	}
	return nil
}

// commit commits the Atomically transaction, with the writes still queued in the same round
// trip: [queued writes…, COMMIT] in one batch, which PostgreSQL runs in order and, at the
// first that fails, skips the rest of, COMMIT included (one Sync ends the batch). Queued
// writes next to each other that are foldPart go as one statement (fold). The transaction's
// connection then is outside any transaction, and atomically releases it.
func (tx *Tx) commit(ctx context.Context) error {
	if len(tx.pending) == 0 || tx.Tx == nil {
		if err := tx.flush(ctx); err != nil {
			return err
		}
		if err := tx.Tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	b := &pgx.Batch{}
	pending := fold(tx.pending)
	tx.pending = nil
	for _, p := range pending {
		b.Queue(p.sql, p.args...)
	}
	b.Queue("commit")
	br := tx.conn.SendBatch(ctx, b)
	err := readPending(br, pending)
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
		if err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("commit: %w", cerr)
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
	}
	if tx.conn.Conn().PgConn().TxStatus() == 'I' {
		// Committed (or, if the batch failed, ended by the server): the pgx.Tx, which
		// did not send this COMMIT itself, must not send a ROLLBACK after it.
		tx.Tx = nil
	}
	return err
}

// flush sends the queued writes, if any, and begins the transaction if it has not begun.
func (tx *Tx) flush(ctx context.Context) error {
	if len(tx.pending) == 0 && tx.Tx != nil {
		return nil
	}
	br, err := tx.withPending(ctx, "", nil)
	if err != nil {
		return err
	}
	return br.Close()
}

// Exec runs sql, with the queued writes in the same round trip.
func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tx.secret = nil
	if len(tx.pending) == 0 && tx.Tx != nil {
		return tx.Tx.Exec(ctx, sql, args...)
	}
	br, err := tx.withPending(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow runs sql, with the queued writes in the same round trip.
func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	tx.secret = nil
	if len(tx.pending) == 0 && tx.Tx != nil {
		return tx.Tx.QueryRow(ctx, sql, args...)
	}
	br, err := tx.withPending(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{br.QueryRow(), br}
}

// Query runs sql after sending the queued writes.
func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	tx.secret = nil
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.Tx.Query(ctx, sql, args...)
}

// SendBatch sends b after the queued writes.
func (tx *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	tx.secret = nil
	if err := tx.flush(ctx); err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return tx.Tx.SendBatch(ctx, b)
}

// Begin starts a savepoint after sending the queued writes.
func (tx *Tx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx.secret = nil
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.Tx.Begin(ctx)
}

// batchRow is the row of a statement sent in a batch: scanning it closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type txKey struct{}

// joined returns the Atomically transaction ctx carries, if any.
func joined(ctx context.Context) (*Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*Tx)
	return tx, ok
}

// Atomically runs fn in one transaction: every store method fn calls with the context it is
// given joins it, so all of fn's writes commit together, with one flush of the WAL, or not at
// all (when fn returns an error). Reads in fn see fn's own writes, and the locks fn's calls
// take (a user row, the administrators) are held until it ends. Called within fn, Atomically
// just runs its fn.
//
// If PostgreSQL ends the transaction to break a deadlock (two transactions each waiting for a
// row the other holds: a logout deleting its session, then its setups, while an administrator's
// change deletes the user's setups, then the sessions), or with a serialization failure, the
// transaction is rolled back whole and fn runs again from the start, up to retries times: what
// it decided, it decides again on what is committed by then. fn must therefore do nothing but
// store work (as backend.Store asks) and keep no state from an earlier run.
func (db *DB) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := joined(ctx); ok {
		return fn(ctx)
	}
	for try := 0; ; try++ {
		err := db.atomically(ctx, fn)
		if !retryable(err) || try == retries {
			return unreachable(err)
		}
	}
}

// retries is how many times Atomically runs fn again after a deadlock or a serialization
// failure.
const retries = 3

// retryable reports whether err ended a transaction that may simply run again.
func retryable(err error) bool {
	c := pgCode(err)
	return c == "40P01" || c == "40001" // deadlock_detected, serialization_failure
}

// atomically is one try of Atomically.
//
// The transaction begins with its first statement (Tx.pool), and writes queued by Tx.later
// go with the statement after them or with the COMMIT (Tx.commit): fewer round trips, the
// same statements in the same order.
func (db *DB) atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	t := &Tx{now: db.Now().UTC(), failures: map[int64]backend.Failures{}, attempts: map[string]bool{},
		totpLast: map[int64]*int64{}, pool: db.pool}
	defer func() {
		if t.Tx != nil {
			t.Tx.Rollback(context.WithoutCancel(ctx))
		}
		if t.conn != nil {
			t.conn.Release()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, t)); err != nil {
		return err
	}
	if t.Tx == nil && len(t.pending) == 0 && len(t.revoked) == 0 {
		return nil // no statement: nothing to commit
	}
	queueRevocations(t)
	return t.commit(ctx)
}

// inTx runs fn in a transaction: the Atomically one ctx carries, or one of its own, committed
// if fn returns nil and rolled back otherwise. With savepoint, a joined fn runs inside a
// savepoint, rolled back if fn fails: for a method that may fail (with a domain error the
// caller may act on) after it has written, or on a statement whose error would abort the
// whole transaction in PostgreSQL, which, unlike SQLite, ends a transaction at its first
// failed statement.
func (db *DB) inTx(ctx context.Context, savepoint bool, fn func(tx *Tx) error) (err error) {
	defer func() { err = unreachable(err) }()
	if outer, ok := joined(ctx); ok {
		if !savepoint {
			return fn(outer)
		}
		sp, err := outer.Begin(ctx)
		if err != nil {
			return err
		}
		defer sp.Rollback(context.WithoutCancel(ctx))
		if err := fn(&Tx{Tx: sp, now: outer.now, joined: true}); err != nil {
			return err
		}
		return sp.Commit(ctx)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&Tx{Tx: tx, now: db.Now().UTC()}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// readTx runs fn in a read-only REPEATABLE READ transaction, so that its queries see one
// snapshot (a page and its count), or in the Atomically transaction ctx carries, to see its
// writes.
func (db *DB) readTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	defer func() { err = unreachable(err) }()
	if outer, ok := joined(ctx); ok {
		return fn(outer)
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&Tx{Tx: tx, now: db.Now().UTC()}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// inSnapshot runs fn in a REPEATABLE READ transaction of its own, again (up to 10 times) if
// it fails with a serialization failure or a deadlock, for a method whose statements decide
// on other tables' rows; fn must be safe to run again. Joined to an Atomically transaction,
// fn runs once in it.
func (db *DB) inSnapshot(ctx context.Context, fn func(tx *Tx) error) (err error) {
	defer func() { err = unreachable(err) }()
	if outer, ok := joined(ctx); ok {
		return fn(outer)
	}
	for range 10 {
		err = func() error {
			tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
			if err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
			if err := fn(&Tx{Tx: tx, now: db.Now().UTC()}); err != nil {
				return err
			}
			return tx.Commit(ctx)
		}()
		if !retryable(err) {
			return err
		}
	}
	return err
}

// querier is what runs one statement: a transaction or the pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conn is where a one-statement read or write goes: the Atomically transaction ctx carries, or
// the pool (the statement is then its own transaction).
func (db *DB) conn(ctx context.Context) querier {
	if tx, ok := joined(ctx); ok {
		return tx
	}
	return pooled{db.pool}
}

// now is the time to stamp a one-statement write with: the Atomically transaction's, or now.
func (db *DB) now(ctx context.Context) time.Time {
	if tx, ok := joined(ctx); ok {
		return tx.now
	}
	return db.Now().UTC()
}

// pgCode returns the SQLSTATE of the PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// wrap adds context to internal errors and passes domain errors (and nil) through unchanged.
func wrap(op string, err error) error {
	var e *backend.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ns is t as stored: Unix nanoseconds.
func ns(t time.Time) int64 { return t.UnixNano() }

// nullNS is t as stored where the zero time is NULL.
func nullNS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano()
	return &v
}

// fromNS converts a stored time back: NULL is the zero time, others are UTC.
func fromNS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.Unix(0, *v).UTC()
}

// storable reports whether PostgreSQL can hold s as text: valid UTF-8 without NUL. (SQLite
// holds any bytes.) A key that is not storable matches no stored row.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// text is s made storable, for free text that comes from outside and is only ever shown (a
// browser's User-Agent, an audit event's detail): each run of invalid bytes, and each NUL,
// becomes U+FFFD, instead of the insert failing, and the login or the change with it.
func text(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
