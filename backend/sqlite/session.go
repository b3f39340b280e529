package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

var (
	errAttemptNotFound = backend.Errorf(backend.ENOTFOUND, "Login attempt not found.")
	errSessionNotFound = backend.Errorf(backend.ENOTFOUND, "Session not found.")
)

// CreateLoginAttempt stores a; a.TokenHash is its key. A zero a.CreatedAt is set to the
// transaction's time. ENOTFOUND if the user does not exist; ECONFLICT if the token hash is in use.
func (db *DB) CreateLoginAttempt(ctx context.Context, a *backend.LoginAttempt) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("create login attempt: %w", err)
	}
	defer tx.Rollback()
	if err := createLoginAttempt(ctx, tx, a); err != nil {
		return wrap("create login attempt", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create login attempt: %w", err)
	}
	return nil
}

// createLoginAttempt inserts a, filling in a zero CreatedAt.
func createLoginAttempt(ctx context.Context, tx *Tx, a *backend.LoginAttempt) error {
	if a.ExpiresAt.IsZero() {
		return errors.New("login attempt without expiry")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = tx.now
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO login_attempts (token_hash, user_id, step, created_at, expires_at, ip, credentials_version)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.TokenHash, a.UserID, a.Step, a.CreatedAt.UnixNano(), a.ExpiresAt.UnixNano(), a.IP, a.CredentialsVersion)
	switch {
	case isForeignKey(err):
		return errUserNotFound
	case isUnique(err):
		return backend.Errorf(backend.ECONFLICT, "Login attempt exists.")
	}
	return err
}

// FindLoginAttempt returns the attempt with the token hash, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindLoginAttempt(ctx context.Context, tokenHash string) (*backend.LoginAttempt, error) {
	var a backend.LoginAttempt
	var created, expires sql.NullInt64
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT token_hash, user_id, step, created_at, expires_at, ip, credentials_version
		FROM login_attempts WHERE token_hash = ?`, tokenHash).
		Scan(&a.TokenHash, &a.UserID, &a.Step, &created, &expires, &a.IP, &a.CredentialsVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAttemptNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find login attempt: %w", err)
	}
	a.CreatedAt, a.ExpiresAt = nullTime(created), nullTime(expires)
	return &a, nil
}

// FindLoginAttemptForUpdate reads the attempt and its user inside the Atomically transaction
// ctx carries, which holds the database's write lock from its BEGIN (IMMEDIATE): nobody can
// change either row before that transaction ends. ENOTFOUND if there is no such attempt; an
// error outside an Atomically transaction, where no lock is held.
func (db *DB) FindLoginAttemptForUpdate(ctx context.Context, tokenHash string) (*backend.LoginAttempt, *backend.User, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, nil, errors.New("find login attempt for update: not inside Atomically")
	}
	a, err := db.FindLoginAttempt(ctx, tokenHash)
	if err != nil {
		return nil, nil, err
	}
	u, err := findUserByID(ctx, tx, a.UserID)
	if err != nil {
		return nil, nil, wrap("find login attempt for update", err)
	}
	return a, u, nil
}

// ReplaceLoginAttempt deletes the attempt with oldTokenHash and stores a (its next step, under
// a new token) in one transaction. It reports false, and stores nothing, if the old attempt was
// already gone: of concurrent callers only the one whose DELETE removed the row goes on, so
// each step of a login is passed only once. a.UserID must be the old attempt's user.
func (db *DB) ReplaceLoginAttempt(ctx context.Context, oldTokenHash string, a *backend.LoginAttempt) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("replace login attempt: %w", err)
	}
	defer tx.Rollback()

	userID, ok, err := deleteLoginAttempt(ctx, tx, oldTokenHash)
	if err != nil || !ok {
		return false, wrap("replace login attempt", err)
	}
	if userID != a.UserID {
		return false, fmt.Errorf("replace login attempt: attempt of user %d replaced by one of user %d", userID, a.UserID)
	}
	if err := createLoginAttempt(ctx, tx, a); err != nil {
		return false, wrap("replace login attempt", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("replace login attempt: %w", err)
	}
	return true, nil
}

// deleteLoginAttempt deletes one attempt and returns its user, and whether it was there.
func deleteLoginAttempt(ctx context.Context, tx *Tx, tokenHash string) (int64, bool, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, `DELETE FROM login_attempts WHERE token_hash = ? RETURNING user_id`, tokenHash).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return userID, err == nil, err
}

// DeleteLoginAttempt removes the attempt, if it is there.
func (db *DB) DeleteLoginAttempt(ctx context.Context, tokenHash string) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM login_attempts WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete login attempt: %w", err)
	}
	return nil
}

// CompleteLogin deletes the attempt and creates s in one transaction. It reports false, and
// creates nothing, if the attempt was already gone: of concurrent callers, only the one whose
// DELETE removed the row goes on, so an attempt signs in only once. s.UserID must be the
// attempt's user. Zero s.CreatedAt and s.LastSeenAt are set to the transaction's time.
func (db *DB) CompleteLogin(ctx context.Context, attemptTokenHash string, s *backend.Session) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("complete login: %w", err)
	}
	defer tx.Rollback()

	userID, ok, err := deleteLoginAttempt(ctx, tx, attemptTokenHash)
	if err != nil || !ok {
		return false, wrap("complete login", err)
	}
	if userID != s.UserID {
		return false, fmt.Errorf("complete login: session for user %d from an attempt of user %d", s.UserID, userID)
	}
	if err := createSession(ctx, tx, s); err != nil {
		return false, wrap("complete login", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("complete login: %w", err)
	}
	return true, nil
}

// CreateSession stores s; s.TokenHash is its key. Zero s.CreatedAt and s.LastSeenAt are set to
// the transaction's time. ENOTFOUND if the user does not exist; ECONFLICT if the token hash is
// in use.
func (db *DB) CreateSession(ctx context.Context, s *backend.Session) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	if err := createSession(ctx, tx, s); err != nil {
		return wrap("create session", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// createSession inserts s, filling in its zero times.
func createSession(ctx context.Context, tx *Tx, s *backend.Session) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = tx.now
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = tx.now
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, reauth_at, ip, user_agent, sid, amr)
		VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?)`,
		s.TokenHash, s.UserID, s.CreatedAt.UnixNano(), s.LastSeenAt.UnixNano(), timeValue(s.ReauthAt), s.IP, s.UserAgent,
		s.SID, amrText(s.AMR))
	switch {
	case isForeignKey(err):
		return errUserNotFound
	case isUnique(err):
		return backend.Errorf(backend.ECONFLICT, "Session exists.")
	}
	return err
}

// findSessionSQL reads a session and its user in one query: every signed-in request needs both.
const findSessionSQL = `
	SELECT s.token_hash, s.user_id, s.created_at, s.last_seen_at, s.reauth_at, s.ip, s.user_agent,
		COALESCE(s.sid, ''), s.amr, u.id, u.username, u.display_name, u.email, u.role, u.disabled, u.two_factor_required, u.method,
		COALESCE(u.sms_phone, ''), u.must_change_password, u.created_at, u.updated_at, u.credentials_version
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.token_hash = ?`

// FindSession returns the session with the token hash, expired or not, and its user; ENOTFOUND
// if there is none.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*backend.Session, *backend.User, error) {
	var s backend.Session
	var u backend.User
	var created, seen, reauth, uCreated, uUpdated sql.NullInt64
	var row *sql.Row
	if tx, ok := joined(ctx); ok {
		row = tx.QueryRowContext(ctx, findSessionSQL, tokenHash)
	} else {
		row = db.findSession.QueryRowContext(ctx, tokenHash)
	}
	var amr string
	err := row.Scan(&s.TokenHash, &s.UserID, &created, &seen, &reauth, &s.IP, &s.UserAgent, &s.SID, &amr,
		&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Role, &u.Disabled,
		&u.TwoFactorRequired, &u.Method, &u.SMSPhone, &u.MustChangePassword, &uCreated, &uUpdated, &u.CredentialsVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errSessionNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ReauthAt = nullTime(created), nullTime(seen), nullTime(reauth)
	s.AMR = amrList(amr)
	u.CreatedAt, u.UpdatedAt = nullTime(uCreated), nullTime(uUpdated)
	return &s, &u, nil
}

// TouchSession sets the session's LastSeenAt to the transaction's time. A session that is gone
// (ended by a concurrent sign-out or an administrator) is no error: there is nothing to keep
// alive, and the next lookup will not find it.
func (db *DB) TouchSession(ctx context.Context, tokenHash string) error {
	now := db.now(ctx)
	_, err := db.execer(ctx).ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, now.UnixNano(), tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// SetSessionReauth sets the session's ReauthAt to the transaction's time. ENOTFOUND if the
// session is gone: the caller must not believe the password was recorded as confirmed.
func (db *DB) SetSessionReauth(ctx context.Context, tokenHash string) error {
	now := db.now(ctx)
	res, err := db.execer(ctx).ExecContext(ctx, `UPDATE sessions SET reauth_at = ? WHERE token_hash = ?`, now.UnixNano(), tokenHash)
	if err != nil {
		return fmt.Errorf("set session reauth: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set session reauth: %w", err)
	} else if n == 0 {
		return errSessionNotFound
	}
	return nil
}

// DeleteSession ends one session, if it is there.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session and login attempt of the user except the session with
// the token hash except ("" ends all).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	defer tx.Rollback()
	if err := deleteUserSessions(ctx, tx, userID, except); err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user sessions: %w", err)
	}
	return nil
}

// ownedTables hold what a session or login attempt began and only it may see again, keyed by
// its token hash (owner_hash): pending app and SMS setups, recovery code sheets and security key
// ceremonies (a challenge of a logged-out session must not outlive it). Each lives no longer
// than its owner.
var ownedTables = []string{"app_enrollments", "sms_enrollments", "recovery_sheets", "webauthn_ceremonies"}

// deleteUserSessions deletes the user's login attempts and sessions but the one with token hash
// except, and what they owned.
func deleteUserSessions(ctx context.Context, tx *Tx, userID int64, except string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, except); err != nil {
		return err
	}
	for _, t := range ownedTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE user_id = ? AND owner_hash <> ?`, userID, except); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE user_id = ?`, userID)
	return err
}

// DeleteOwned removes what the session or login attempt with the token hash owner began: its
// pending app and SMS setups, its recovery code sheet and its security key ceremonies.
func (db *DB) DeleteOwned(ctx context.Context, owner string) error {
	return db.Atomically(ctx, func(ctx context.Context) error {
		for _, t := range ownedTables {
			if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM `+t+` WHERE owner_hash = ?`, owner); err != nil {
				return fmt.Errorf("delete owned %s: %w", t, err)
			}
		}
		return nil
	})
}

// DeleteExpired removes the sessions last seen before idleBefore, and the login attempts,
// pending app enrollments, recovery code sheets, flashes and the first-administrator link that
// expire before attemptsBefore (strictly before; a zero time removes none of its kind); with
// the latter, also the setups and sheets whose session or attempt has ended. Flashes of
// sessions that are gone go in any case.
// Sessions past an absolute lifetime are the caller's to refuse: this store has no such limit.
func (db *DB) DeleteExpired(ctx context.Context, idleBefore, createdBefore, attemptsBefore time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("delete expired: %w", err)
	}
	defer tx.Rollback()
	if !idleBefore.IsZero() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ?`, idleBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
	}
	if !createdBefore.IsZero() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE created_at < ?`, createdBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM unknown_logins WHERE updated_at < ?`, createdBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
	}
	if !attemptsBefore.IsZero() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE expires_at < ?`, attemptsBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_link WHERE expires_at < ?`, attemptsBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_enrollments WHERE expires_at < ?`, attemptsBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_sheets WHERE expires_at < ?`, attemptsBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM flashes WHERE expires_at < ?`, attemptsBefore.UnixNano()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		// What a session or attempt that has ended (expired above, or deleted without
		// Logout) began goes with it, before its own expiry: no one can reach it again.
		for _, t := range ownedTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE
				NOT EXISTS (SELECT 1 FROM sessions WHERE token_hash = owner_hash) AND
				NOT EXISTS (SELECT 1 FROM login_attempts WHERE token_hash = owner_hash)`); err != nil {
				return fmt.Errorf("delete expired: %w", err)
			}
		}
	}
	// A flash bound to a session that is gone (ended, or just purged) can never be taken.
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM flashes WHERE session_hash <> '' AND session_hash NOT IN (SELECT token_hash FROM sessions)`); err != nil {
		return fmt.Errorf("delete expired: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete expired: %w", err)
	}
	return nil
}
