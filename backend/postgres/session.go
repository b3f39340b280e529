package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

var (
	errAttemptNotFound = backend.Errorf(backend.ENOTFOUND, "Login attempt not found.")
	errSessionNotFound = backend.Errorf(backend.ENOTFOUND, "Session not found.")
)

// CreateLoginAttempt stores a; a.TokenHash is its key. A zero a.CreatedAt is set to the
// transaction's time. ENOTFOUND if the user does not exist; ECONFLICT if the token hash is in use.
func (db *DB) CreateLoginAttempt(ctx context.Context, a *backend.LoginAttempt) error {
	err := db.inTx(ctx, false, func(tx *Tx) error { return createLoginAttempt(ctx, tx, a) })
	return wrap("create login attempt", err)
}

// createLoginAttempt inserts a, filling in a zero CreatedAt. The insert is conditional (the
// user exists, the token hash is free) rather than failing on a constraint, which would end an
// enclosing transaction; which condition failed is asked only then.
func createLoginAttempt(ctx context.Context, tx *Tx, a *backend.LoginAttempt) error {
	if a.ExpiresAt.IsZero() {
		return errors.New("login attempt without expiry")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = tx.now
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO login_attempts (token_hash, user_id, step, created_at, expires_at, ip, credentials_version)
		SELECT $1::text, $2::bigint, $3::text, $4::bigint, $5::bigint, $6::text, $7::bigint
		WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
		ON CONFLICT DO NOTHING`,
		a.TokenHash, a.UserID, string(a.Step), ns(a.CreatedAt), ns(a.ExpiresAt), text(a.IP), a.CredentialsVersion)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return notInserted(ctx, tx, a.UserID, "Login attempt exists.")
	}
	return nil
}

// notInserted explains a conditional insert of a row of the user that inserted nothing:
// ENOTFOUND if the user does not exist, else ECONFLICT with message (the key is taken).
func notInserted(ctx context.Context, tx *Tx, userID int64, message string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
		return err
	} else if !exists {
		return errUserNotFound
	}
	return backend.Errorf(backend.ECONFLICT, "%s", message)
}

// FindLoginAttempt returns the attempt with the token hash, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindLoginAttempt(ctx context.Context, tokenHash string) (*backend.LoginAttempt, error) {
	var a backend.LoginAttempt
	var step string
	var created, expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT token_hash, user_id, step, created_at, expires_at, ip, credentials_version
		FROM login_attempts WHERE token_hash = $1`, tokenHash).
		Scan(&a.TokenHash, &a.UserID, &step, &created, &expires, &a.IP, &a.CredentialsVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAttemptNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find login attempt: %w", err)
	}
	a.Step, a.CreatedAt, a.ExpiresAt = backend.LoginStep(step), fromNS(&created), fromNS(&expires)
	return &a, nil
}

// FindLoginAttemptForUpdate reads the attempt and its user in one statement inside the
// Atomically transaction ctx carries, and locks both rows until it ends: the attempt FOR
// UPDATE, so that no other transaction can complete, replace or delete it meanwhile (they wait,
// and once this one has used it, find it gone), and the user FOR NO KEY UPDATE, as
// FindUserForUpdate, whose failure counter comes with it (Tx.failures), and its TOTP secret
// and last used step, for the step's TOTPSecret (Tx.secret). A transaction that
// waited for either lock reads the rows as committed by the one it waited for (READ COMMITTED
// re-reads locked rows): an attempt used meanwhile is not found. ENOTFOUND if there is no such
// attempt; an error outside an Atomically transaction.
//
// Two locks in one statement can meet an administrator's change that locks the user and then
// deletes the user's attempts: PostgreSQL ends one of the two as a deadlock, and Atomically
// runs it again.
func (db *DB) FindLoginAttemptForUpdate(ctx context.Context, tokenHash string) (*backend.LoginAttempt, *backend.User, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, nil, errors.New("find login attempt for update: not inside Atomically")
	}
	if !storable(tokenHash) {
		return nil, nil, errAttemptNotFound
	}
	var a backend.LoginAttempt
	var step string
	var created, expires int64
	var f backend.Failures
	var next *int64
	var secret lockedSecret
	u, err := scanUser(extraRow{tx.QueryRow(ctx, `
		SELECT `+userColumnsOf("u")+`, u.failed_count, u.next_try_at, u.second_factor_failed, u.lock_streak,
			u.totp_secret, u.totp_last_step,
			a.token_hash, a.user_id, a.step, a.created_at, a.expires_at, a.ip, a.credentials_version
		FROM login_attempts a JOIN users u ON u.id = a.user_id
		WHERE a.token_hash = $1
		FOR UPDATE OF a FOR NO KEY UPDATE OF u`, tokenHash),
		[]any{&f.Count, &next, &f.SecondFactor, &f.Streak, &secret.sealed, &secret.last, &a.TokenHash, &a.UserID, &step, &created, &expires, &a.IP, &a.CredentialsVersion}})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, errAttemptNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("find login attempt for update: %w", err)
	}
	a.Step, a.CreatedAt, a.ExpiresAt = backend.LoginStep(step), fromNS(&created), fromNS(&expires)
	if tx.failures != nil {
		f.NextTryAt, f.LockedUntil = fromNS(next), u.LockedUntil
		tx.failures[u.ID] = f
		tx.attempts[a.TokenHash] = true
		secret.userID = u.ID
		tx.secret = &secret
	}
	return &a, u, nil
}

// ReplaceLoginAttempt deletes the attempt with oldTokenHash and stores a (its next step, under
// a new token) in one transaction. It reports false, and stores nothing, if the old attempt was
// already gone: of concurrent callers the first DELETE takes the row and the others, once it
// commits, find nothing to delete, so each step of a login is passed only once. a.UserID must
// be the old attempt's user.
func (db *DB) ReplaceLoginAttempt(ctx context.Context, oldTokenHash string, a *backend.LoginAttempt) (bool, error) {
	var ok bool
	err := db.inTx(ctx, false, func(tx *Tx) error {
		userID, found, err := deleteLoginAttempt(ctx, tx, oldTokenHash)
		if err != nil || !found {
			return err
		}
		if userID != a.UserID {
			return fmt.Errorf("attempt of user %d replaced by one of user %d", userID, a.UserID)
		}
		if err := createLoginAttempt(ctx, tx, a); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, wrap("replace login attempt", err)
	}
	return ok, nil
}

// deleteLoginAttempt deletes one attempt and returns its user, and whether it was there.
func deleteLoginAttempt(ctx context.Context, tx *Tx, tokenHash string) (int64, bool, error) {
	delete(tx.attempts, tokenHash)
	var userID int64
	err := tx.QueryRow(ctx, `DELETE FROM login_attempts WHERE token_hash = $1 RETURNING user_id`, tokenHash).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return userID, err == nil, err
}

// DeleteLoginAttempt removes the attempt, if it is there.
func (db *DB) DeleteLoginAttempt(ctx context.Context, tokenHash string) error {
	if tx, ok := joined(ctx); ok {
		delete(tx.attempts, tokenHash)
	}
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM login_attempts WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete login attempt: %w", err)
	}
	return nil
}

// CompleteLogin deletes the attempt and creates s in one transaction. It reports false, and
// creates nothing, if the attempt was already gone: of concurrent callers only the one whose
// DELETE removed the row goes on (as ReplaceLoginAttempt), so an attempt signs in only once.
// s.UserID must be the attempt's user. Zero s.CreatedAt and s.LastSeenAt are set to the
// transaction's time.
//
// The DELETE and the INSERT are one statement (the INSERT reads the DELETE's RETURNING), one
// round trip of the login step: the session is inserted only from the row this statement
// deleted, so the guarantee is the DELETE's, as before.
//
// Inside the Atomically transaction that has locked the attempt (FindLoginAttemptForUpdate),
// the answer is known before the statement runs: nobody else can have deleted the attempt, so
// this call's DELETE is the one that removes it. The statement is then queued (Tx.later) and
// goes with the step's COMMIT, one round trip fewer, written so that it fails, and the whole
// transaction with it, if it inserted no session (as ConsumeTOTPStep's queued UPDATE).
func (db *DB) CompleteLogin(ctx context.Context, attemptTokenHash string, s *backend.Session) (bool, error) {
	if tx, ok := joined(ctx); ok && tx.attempts[attemptTokenHash] {
		delete(tx.attempts, attemptTokenHash) // deleted by this statement, once sent
		part, args := completeLogin(tx, attemptTokenHash, s, true)
		tx.laterPart(func(br pgx.BatchResults) error {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("complete login: %w", err)
			}
			return nil
		}, part, args...)
		return true, nil
	}
	var ok bool
	err := db.inTx(ctx, false, func(tx *Tx) error {
		var userID *int64
		var inserted bool
		part, args := completeLogin(tx, attemptTokenHash, s, false)
		err := tx.QueryRow(ctx, part.sql(), args...).Scan(&userID, &inserted)
		switch {
		case err != nil:
			return err
		case userID == nil: // the attempt was gone
			return nil
		case *userID == s.UserID && !inserted:
			return notInserted(ctx, tx, s.UserID, "Session exists.")
		}
		if err := checkCompleted(userID, inserted, s.UserID); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, wrap("complete login", err)
	}
	return ok, nil
}

// completeLogin is CompleteLogin's statement, which deletes the attempt and inserts the session
// from the row it deleted, with its arguments, filling in s's zero times. It answers the
// attempt's user and whether the session was inserted, learning of a token hash in use from
// the answer rather than from the error that would end an enclosing transaction; queued, it
// must fail instead (division_by_zero, or the unique violation) unless it inserted the session,
// and may be folded with the writes queued next to it (foldPart).
func completeLogin(tx *Tx, attemptTokenHash string, s *backend.Session, queued bool) (*foldPart, []any) {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = tx.now
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = tx.now
	}
	onConflict, answer := `ON CONFLICT DO NOTHING`, `(SELECT user_id FROM {p}attempt), EXISTS (SELECT 1 FROM {p}session)`
	if queued {
		onConflict, answer = ``, `1 / (SELECT count(*) FROM {p}session)`
	}
	return &foldPart{ctes: `
		{p}attempt AS (
			DELETE FROM login_attempts WHERE token_hash = $1 RETURNING user_id
		), {p}session AS (
			INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, reauth_at, ip, user_agent, sid, amr)
			SELECT $2::text, user_id, $4::bigint, $5::bigint, $6::bigint, $7::text, $8::text, NULLIF($9::text, ''), $10::text
			FROM {p}attempt WHERE user_id = $3::bigint AND EXISTS (SELECT 1 FROM users WHERE id = $3::bigint)
			` + onConflict + `
			RETURNING 1
		)`, answer: answer, tables: []string{"login_attempts"}},
		[]any{attemptTokenHash, s.TokenHash, s.UserID, ns(s.CreatedAt), ns(s.LastSeenAt), nullNS(s.ReauthAt), text(s.IP), text(s.UserAgent),
			s.SID, strings.Join(s.AMR, " ")}
}

// checkCompleted checks completeLogin's answer for an attempt that was there: the attempt
// deleted was userID's, and the session was inserted.
func checkCompleted(attemptUser *int64, inserted bool, userID int64) error {
	switch {
	case attemptUser == nil:
		return errors.New("the login attempt was gone")
	case *attemptUser != userID:
		return fmt.Errorf("session for user %d from an attempt of user %d", userID, *attemptUser)
	case !inserted:
		return fmt.Errorf("session of user %d not inserted", userID)
	}
	return nil
}

// CreateSession stores s; s.TokenHash is its key. Zero s.CreatedAt and s.LastSeenAt are set to
// the transaction's time. ENOTFOUND if the user does not exist; ECONFLICT if the token hash is
// in use.
func (db *DB) CreateSession(ctx context.Context, s *backend.Session) error {
	err := db.inTx(ctx, false, func(tx *Tx) error { return createSession(ctx, tx, s) })
	return wrap("create session", err)
}

// createSession inserts s, filling in its zero times; a conditional insert, as
// createLoginAttempt's. The User-Agent is stored as text() makes it: it is whatever the
// browser sent.
func createSession(ctx context.Context, tx *Tx, s *backend.Session) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = tx.now
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = tx.now
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, reauth_at, ip, user_agent, sid, amr)
		SELECT $1::text, $2::bigint, $3::bigint, $4::bigint, $5::bigint, $6::text, $7::text, NULLIF($8::text, ''), $9::text
		WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
		ON CONFLICT DO NOTHING`,
		s.TokenHash, s.UserID, ns(s.CreatedAt), ns(s.LastSeenAt), nullNS(s.ReauthAt), text(s.IP), text(s.UserAgent),
		s.SID, strings.Join(s.AMR, " "))
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return notInserted(ctx, tx, s.UserID, "Session exists.")
	}
	return nil
}

// findSessionSQL reads a session and its user in one query: every signed-in request needs both.
// (pgx prepares it once per connection and reuses it.)
const findSessionSQL = `
	SELECT s.token_hash, s.user_id, s.created_at, s.last_seen_at, s.reauth_at, s.ip, s.user_agent,
		COALESCE(s.sid, ''), s.amr, u.id, u.username, u.display_name, u.email, u.role, u.disabled, u.two_factor_required, u.method,
		COALESCE(u.sms_phone, ''), u.must_change_password, u.created_at, u.updated_at, u.credentials_version
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.token_hash = $1`

// FindSession returns the session with the token hash, expired or not, and its user; ENOTFOUND
// if there is none.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*backend.Session, *backend.User, error) {
	var s backend.Session
	var u backend.User
	var role, method string
	var created, seen, uCreated, uUpdated int64
	var reauth *int64
	var amr string
	err := db.conn(ctx).QueryRow(ctx, findSessionSQL, tokenHash).Scan(&s.TokenHash, &s.UserID, &created, &seen, &reauth, &s.IP, &s.UserAgent,
		&s.SID, &amr,
		&u.ID, &u.Username, &u.DisplayName, &u.Email, &role, &u.Disabled,
		&u.TwoFactorRequired, &method, &u.SMSPhone, &u.MustChangePassword, &uCreated, &uUpdated, &u.CredentialsVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, errSessionNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ReauthAt = fromNS(&created), fromNS(&seen), fromNS(reauth)
	s.AMR = fields(amr)
	u.Role, u.Method, u.CreatedAt, u.UpdatedAt = backend.Role(role), backend.Method(method), fromNS(&uCreated), fromNS(&uUpdated)
	return &s, &u, nil
}

// TouchSession sets the session's LastSeenAt to the transaction's time. A session that is gone
// (ended by a concurrent sign-out or an administrator) is no error: there is nothing to keep
// alive, and the next lookup will not find it.
func (db *DB) TouchSession(ctx context.Context, tokenHash string) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, ns(db.now(ctx)), tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// SetSessionReauth sets the session's ReauthAt to the transaction's time. ENOTFOUND if the
// session is gone: the caller must not believe the password was recorded as confirmed.
func (db *DB) SetSessionReauth(ctx context.Context, tokenHash string) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE sessions SET reauth_at = $1 WHERE token_hash = $2`, ns(db.now(ctx)), tokenHash)
	if err != nil {
		return fmt.Errorf("set session reauth: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errSessionNotFound
	}
	return nil
}

// DeleteSession ends one session, if it is there.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session and login attempt of the user except the session with
// the token hash except ("" ends all), and what they owned.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	err := db.inTx(ctx, false, func(tx *Tx) error { return deleteUserSessions(ctx, tx, userID, except) })
	return wrap("delete user sessions", err)
}

// ownedTables hold what a session or login attempt began and only it may see again, keyed by
// its token hash (owner_hash): pending app and SMS setups, recovery code sheets and security key
// ceremonies (a challenge of a logged-out session must not outlive it). Each lives no longer
// than its owner.
var ownedTables = []string{"app_enrollments", "sms_enrollments", "recovery_sheets", "webauthn_ceremonies"}

// deleteUserSessions deletes the user's login attempts and sessions but the one with token hash
// except, and what they owned. (A logout deletes its session before what it owned, an
// enrollment and clearEnrollment the setups before the sessions: if two such transactions
// meet, PostgreSQL breaks the deadlock and Atomically runs the one it ended again.)
func deleteUserSessions(ctx context.Context, tx *Tx, userID int64, except string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_attempts WHERE user_id = $1`, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, except); err != nil {
		return err
	}
	for _, t := range ownedTables {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE user_id = $1 AND owner_hash <> $2`, userID, except); err != nil {
			return err
		}
	}
	return nil
}

// DeleteOwned removes what the session or login attempt with the token hash owner began: its
// pending app and SMS setups, its recovery code sheet and its security key ceremonies.
func (db *DB) DeleteOwned(ctx context.Context, owner string) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		for _, t := range ownedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE owner_hash = $1`, owner); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return nil
	})
	return wrap("delete owned", err)
}

// DeleteExpired removes the sessions last seen before idleBefore or created before
// createdBefore (and unknown-username counters last changed before it), and the login attempts,
// pending app enrollments, recovery code sheets and the first-administrator link that expire
// before attemptsBefore (strictly before; a zero time removes none of its kind); with the
// latter, also the setups and sheets whose session or attempt has ended.
func (db *DB) DeleteExpired(ctx context.Context, idleBefore, createdBefore, attemptsBefore time.Time) error {
	var stmts []string
	var args []int64
	add := func(t time.Time, qs ...string) {
		if t.IsZero() {
			return
		}
		for _, q := range qs {
			stmts, args = append(stmts, q), append(args, ns(t))
		}
	}
	add(idleBefore, `DELETE FROM sessions WHERE last_seen_at < $1`)
	add(createdBefore, `DELETE FROM sessions WHERE created_at < $1`, `DELETE FROM unknown_logins WHERE updated_at < $1`)
	add(attemptsBefore,
		`DELETE FROM login_attempts WHERE expires_at < $1`,
		`DELETE FROM setup_link WHERE expires_at < $1`,
		`DELETE FROM app_enrollments WHERE expires_at < $1`,
		`DELETE FROM recovery_sheets WHERE expires_at < $1`,
		`DELETE FROM flashes WHERE expires_at < $1`)
	err := db.inTx(ctx, false, func(tx *Tx) error {
		for i, q := range stmts {
			if _, err := tx.Exec(ctx, q, args[i]); err != nil {
				return err
			}
		}
		// A flash bound to a session that is gone (ended, or just purged) can never be
		// taken. A flash is put only for a session already committed, so no flash this
		// statement sees has a session it does not.
		_, err := tx.Exec(ctx, `
			DELETE FROM flashes f WHERE session_hash <> '' AND NOT EXISTS (SELECT 1 FROM sessions WHERE token_hash = f.session_hash)`)
		return err
	})
	if err != nil || attemptsBefore.IsZero() {
		return wrap("delete expired", err)
	}
	// What a session or attempt that has ended (expired above, or deleted without Logout)
	// began goes with it, before its own expiry: no one can reach it again. At REPEATABLE
	// READ, with retries: at READ COMMITTED, a sheet moved to a session created after this
	// statement's snapshot (MoveRecoverySheet, as a login completes) would be checked again as
	// moved against the old snapshot, where its new owner does not exist yet, and deleted.
	// Here that is a serialization failure instead, and the retry sees the new session.
	err = db.inSnapshot(ctx, func(tx *Tx) error {
		for _, t := range ownedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` o WHERE
				NOT EXISTS (SELECT 1 FROM sessions WHERE token_hash = o.owner_hash) AND
				NOT EXISTS (SELECT 1 FROM login_attempts WHERE token_hash = o.owner_hash)`); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("delete expired", err)
}
