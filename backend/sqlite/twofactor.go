package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

// UpdateFailures reads the user's failure state, calls fn with it and the transaction's time,
// and stores what fn leaves in the state, all in one immediate write transaction: concurrent
// callers (in this process or another) run one after the other, so no failure is lost and
// parallel guesses cannot bypass the counter. fn's error is returned as is and nothing is
// stored. ENOTFOUND if there is no such user. fn must not call the store: it runs while the
// store's only writer connection is held.
func (db *DB) UpdateFailures(ctx context.Context, userID int64, fn func(f *backend.Failures, now time.Time) error) error {
	return db.updateFailures(ctx, "update failures",
		`SELECT failed_count, next_try_at, locked_until, second_factor_failed, lock_streak FROM users WHERE id = ?`, userID, errUserNotFound, fn,
		func(tx *Tx, f *backend.Failures) error {
			_, err := tx.ExecContext(ctx, `
				UPDATE users SET failed_count = ?, next_try_at = ?, locked_until = ?, second_factor_failed = ?, lock_streak = ?
				WHERE id = ?`,
				f.Count, timeValue(f.NextTryAt), timeValue(f.LockedUntil), f.SecondFactor, f.Streak, userID)
			return err
		})
}

// UpdateUnknownFailures is UpdateFailures for a username that names no account, keyed by
// nameHash, a keyed hash of the name (never the name: see backend.Store), in one write
// transaction; the row is created on first use. EINVALID for a key that is not a hex SHA-256.
func (db *DB) UpdateUnknownFailures(ctx context.Context, nameHash string, fn func(f *backend.Failures, now time.Time) error) error {
	if !isHexSHA256(nameHash) {
		// Whatever is passed here is stored: only ever a fixed-size hash.
		return backend.Errorf(backend.EINVALID, "An unknown username's counter key must be a hex SHA-256.")
	}
	return db.updateFailures(ctx, "update unknown failures",
		// A name that is no account's has no second factor: no streak (backend.LockoutPolicy.lockFor).
		`SELECT failed_count, next_try_at, locked_until, 0, 0 FROM unknown_logins WHERE name_hash = ?`, nameHash, nil, fn,
		func(tx *Tx, f *backend.Failures) error {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO unknown_logins (name_hash, failed_count, next_try_at, locked_until, updated_at)
				VALUES (?1, ?2, ?3, ?4, ?5)
				ON CONFLICT (name_hash) DO UPDATE SET failed_count = ?2, next_try_at = ?3, locked_until = ?4, updated_at = ?5`,
				nameHash, f.Count, timeValue(f.NextTryAt), timeValue(f.LockedUntil), tx.now.UnixNano())
			return err
		})
}

// isHexSHA256 reports whether s is 64 lowercase hex digits.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// updateFailures is the read, fn, write of one failure counter in one write transaction.
// read selects failed_count, next_try_at, locked_until, second_factor_failed and lock_streak by
// key; with no row it returns missing, or starts a fresh counter when missing is nil. write
// stores what fn left.
func (db *DB) updateFailures(ctx context.Context, what, read string, key any, missing error,
	fn func(f *backend.Failures, now time.Time) error, write func(tx *Tx, f *backend.Failures) error) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()

	var f backend.Failures
	var next, locked sql.NullInt64
	err = tx.QueryRowContext(ctx, read, key).Scan(&f.Count, &next, &locked, &f.SecondFactor, &f.Streak)
	switch {
	case errors.Is(err, sql.ErrNoRows) && missing != nil:
		return missing
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, err)
	}
	f.NextTryAt, f.LockedUntil = nullTime(next), nullTime(locked)

	if err := fn(&f, tx.now); err != nil {
		return err
	}
	if err := write(tx, &f); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

var errAppEnrollmentNotFound = backend.Errorf(backend.ENOTFOUND, "No authenticator app setup is in progress.")

// BeginAppEnrollment stores the sealed secret of an app enrollment that owner began for the
// user, expiring ttl after the transaction's time, replacing owner's earlier one (and no one
// else's). ENOTFOUND if there is no such user.
func (db *DB) BeginAppEnrollment(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.PendingAppEnrollment, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin app enrollment: %w", err)
	}
	defer tx.Rollback()

	p := &backend.PendingAppEnrollment{Owner: owner, UserID: userID, Sealed: sealed, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO app_enrollments (owner_hash, user_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (owner_hash) DO UPDATE SET user_id = excluded.user_id, secret = excluded.secret,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		owner, userID, sealed, p.CreatedAt.UnixNano(), p.ExpiresAt.UnixNano())
	if isForeignKey(err) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, fmt.Errorf("begin app enrollment: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("begin app enrollment: %w", err)
	}
	return p, nil
}

// FindAppEnrollment returns owner's pending app enrollment, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindAppEnrollment(ctx context.Context, owner string) (*backend.PendingAppEnrollment, error) {
	p := backend.PendingAppEnrollment{Owner: owner}
	var created, expires sql.NullInt64
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT user_id, secret, created_at, expires_at FROM app_enrollments WHERE owner_hash = ?`, owner).
		Scan(&p.UserID, &p.Sealed, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAppEnrollmentNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find app enrollment: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = nullTime(created), nullTime(expires)
	return &p, nil
}

// TOTPSecret returns the sealed active secret; ENOTFOUND if the user has none.
func (db *DB) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	b, err := db.secret(ctx, `SELECT totp_secret FROM users WHERE id = ?`, userID)
	if err != nil {
		return nil, wrap("totp secret", err)
	}
	return b, nil
}

// secret reads one BLOB column of a user: ENOTFOUND if the user or the value is missing.
func (db *DB) secret(ctx context.Context, query string, userID int64) ([]byte, error) {
	var b []byte
	err := db.querier(ctx).QueryRowContext(ctx, query, userID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, err
	} else if b == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "No authenticator app secret is set up.")
	}
	return b, nil
}

// EnableTwoFactor records a completed enrollment in one transaction: it sets the method (with
// e.SealedTOTP and e.TOTPStep as the last used step for the app, or e.SMSPhone for SMS, and
// clears the other method's data), ends every pending app and SMS enrollment of the user, and
// replaces the recovery codes with codes; it is a new credentials version. ENOTFOUND if there is no such user; EINVALID if
// e.Method is not app or sms; ECONFLICT, changing nothing, if e.Owner's enrollment is no longer
// pending (see backend.Store).
func (db *DB) EnableTwoFactor(ctx context.Context, userID int64, e backend.Enrollment, codes []backend.RecoveryCode) error {
	var secret, step, phone any // NULL unless the method uses them
	switch e.Method {
	case backend.MethodApp:
		if len(e.SealedTOTP) == 0 {
			return backend.Errorf(backend.EINVALID, "The authenticator app secret is missing.")
		}
		secret, step = e.SealedTOTP, e.TOTPStep
	case backend.MethodSMS:
		if e.SMSPhone == "" {
			return backend.Errorf(backend.EINVALID, "The phone number is missing.")
		}
		phone = e.SMSPhone
	default:
		return backend.Errorf(backend.EINVALID, "Unknown two-factor method %q.", e.Method)
	}

	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}
	defer tx.Rollback()

	// The owner's pending enrollment is deleted first, only if it is still there, unexpired,
	// and the one confirmed (the same secret; the phone its text came from): of two
	// confirmations racing, the second finds nothing, and a setup is confirmed only by the
	// session or login that began it.
	confirm := `DELETE FROM app_enrollments WHERE owner_hash = ? AND user_id = ? AND secret = ? AND expires_at > ?`
	arg := secret
	if e.Method == backend.MethodSMS {
		confirm = `DELETE FROM sms_enrollments WHERE owner_hash = ? AND user_id = ? AND phone = ? AND expires_at > ?`
		arg = phone
	}
	res, err := tx.ExecContext(ctx, confirm, e.Owner, userID, arg, tx.now.UnixNano())
	if err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	} else if n == 0 {
		return conflictOrNotFound(ctx, tx, userID)
	}
	// Every other setup of the user was begun over the second factor this one replaces.
	if err := deletePendingEnrollments(ctx, tx, userID); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}

	res, err = tx.ExecContext(ctx, `
		UPDATE users SET method = ?, totp_secret = ?, totp_last_step = ?, sms_phone = ?, updated_at = ?,
			credentials_version = credentials_version + 1
		WHERE id = ?`,
		e.Method, secret, step, phone, tx.now.UnixNano(), userID)
	if err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	} else if n == 0 {
		return errUserNotFound
	}
	if err := replaceRecoveryCodes(ctx, tx, userID, codes); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	}
	return nil
}

// deletePendingEnrollments ends every app and SMS setup of the user in progress, whoever began
// it.
func deletePendingEnrollments(ctx context.Context, tx *Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_enrollments WHERE user_id = ?`, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sms_enrollments WHERE user_id = ?`, userID)
	return err
}

// conflictOrNotFound explains an enrollment that matched nothing: ENOTFOUND if the user does
// not exist, else ECONFLICT.
func conflictOrNotFound(ctx context.Context, tx *Tx, userID int64) error {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&exists); err != nil {
		return fmt.Errorf("enable two-factor: %w", err)
	} else if !exists {
		return errUserNotFound
	}
	return backend.Errorf(backend.ECONFLICT, "The setup has expired or was replaced. Start it again.")
}

// ConsumeTOTPStep marks the TOTP time step as used, only if it is later than the last used
// step, and reports whether this call consumed it. It is one conditional UPDATE (RFC 6238
// §5.2: a code must not be accepted twice): of concurrent callers with the same step, the
// write lock lets exactly one see the old value and win; the others match no row. A step not
// later than the last one (a replay, or an older code still inside the ±1 window) is refused.
// It returns false, not ENOTFOUND, for an unknown user.
func (db *DB) ConsumeTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE users SET totp_last_step = ?1
		WHERE id = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?1)`, step, userID)
	if err != nil {
		return false, fmt.Errorf("consume totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("consume totp step: %w", err)
	}
	return n == 1, nil
}

// ReplaceRecoveryCodes voids the user's recovery codes and stores codes instead, setting their
// IDs in the slice. ENOTFOUND if there is no such user.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []backend.RecoveryCode) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	defer tx.Rollback()

	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&ok); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	} else if !ok {
		return errUserNotFound
	}
	if err := replaceRecoveryCodes(ctx, tx, userID, codes); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return nil
}

// replaceRecoveryCodes deletes the user's codes, used or not, and inserts codes.
func replaceRecoveryCodes(ctx context.Context, tx *Tx, userID int64, codes []backend.RecoveryCode) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for i, c := range codes {
		res, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, salt, hash, created_at) VALUES (?, ?, ?, ?)`,
			userID, c.Salt, c.Hash, tx.now.UnixNano())
		if err != nil {
			return err
		}
		if codes[i].ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// RecoveryCodes returns the user's unused recovery codes (hashes only), oldest first. An
// unknown user has none.
func (db *DB) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	rows, err := db.querier(ctx).QueryContext(ctx, `SELECT id, salt, hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("recovery codes: %w", err)
	}
	defer rows.Close()
	codes := []backend.RecoveryCode{}
	for rows.Next() {
		var c backend.RecoveryCode
		if err := rows.Scan(&c.ID, &c.Salt, &c.Hash); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		codes = append(codes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recovery codes: %w", err)
	}
	return codes, nil
}

// UseRecoveryCode marks the code used, only if it is still unused, with one conditional UPDATE,
// and reports whether this call used it: of concurrent callers, exactly one wins.
func (db *DB) UseRecoveryCode(ctx context.Context, codeID int64) (bool, error) {
	now := db.now(ctx)
	res, err := db.execer(ctx).ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`,
		now.UnixNano(), codeID)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return n == 1, nil
}

// wrap adds context to internal errors and passes domain errors (and nil) through unchanged.
func wrap(op string, err error) error {
	var e *backend.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
