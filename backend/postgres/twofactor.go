package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// UpdateFailures reads the user's failure state, calls fn with it and the transaction's time,
// and stores what fn leaves in the state, all in one transaction. The read is SELECT … FOR NO
// KEY UPDATE: concurrent callers, on this server or another, wait for the row and each reads
// what the one before stored, so no charge is lost and parallel guesses cannot bypass the
// counter. A row lock rather than a serializable transaction: the callers all want the same
// row, which a lock makes take turns at once, where serializable would fail all but one of them
// and have them retry, each retry racing again. fn's error is returned as is and nothing is
// stored. ENOTFOUND if there is no such user. fn must not call the store: it runs while the row
// is locked.
//
// It always runs in an Atomically transaction (its own, if ctx carries none), whose row lock
// it takes with the read, or already holds (a login step's FindUserForUpdate or
// FindLoginAttemptForUpdate, or an earlier UpdateFailures: the step's charge, then its reset):
// then the state is the one that transaction read or wrote last (Tx.failures), which nobody
// else can have changed since, and the read is skipped. The write is queued (Tx.later) and sent
// with the transaction's next statement or its COMMIT, so the charge is still written, under
// the same lock, before anything after it runs (the secret's read, the code's check). A charge
// of its own is two round trips ([BEGIN, the locked read], [the write, COMMIT]) instead of four.
func (db *DB) UpdateFailures(ctx context.Context, userID int64, fn func(f *backend.Failures, now time.Time) error) error {
	tx, ok := joined(ctx)
	if !ok {
		return db.Atomically(ctx, func(ctx context.Context) error { return db.UpdateFailures(ctx, userID, fn) })
	}
	f, locked := tx.failures[userID]
	if !locked {
		var next, until *int64
		err := tx.QueryRow(ctx, `
			SELECT failed_count, next_try_at, locked_until, second_factor_failed, lock_streak FROM users WHERE id = $1 FOR NO KEY UPDATE`,
			userID).Scan(&f.Count, &next, &until, &f.SecondFactor, &f.Streak)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUserNotFound
		} else if err != nil {
			return fmt.Errorf("update failures: %w", err)
		}
		f.NextTryAt, f.LockedUntil = fromNS(next), fromNS(until)
		tx.failures[userID] = f
	}
	if err := fn(&f, tx.now); err != nil {
		return err
	}
	tx.failures[userID] = f
	// A TOTP step of this user's consumed and still queued (the login step's, before its
	// reset): the state is written by that UPDATE, one statement for both. It runs under the
	// same row lock, so nothing can come between them; the consume's condition and its
	// failure if it matches no row stay as they were.
	for i := range tx.pending {
		if p := &tx.pending[i]; p.consumes == userID {
			p.part = consumeTOTP(true)
			p.sql = p.part.sql()
			p.args = append(p.args[:2:2], f.Count, nullNS(f.NextTryAt), nullNS(f.LockedUntil), f.SecondFactor, f.Streak)
			return nil
		}
	}
	// The user's failure state written last and still queued (a failed step's charge, then
	// its delay): this state replaces it, under the same lock, with nothing in between.
	if n := len(tx.pending); n > 0 && isCharge(tx.pending[n-1], userID) {
		tx.pending[n-1].args = failuresArgs(f, userID)
		return nil
	}
	// Nothing waits for this write's answer: it goes with the step's next statement (the
	// secret's read after a charge, the audit event after a reset) or its COMMIT, which
	// PostgreSQL runs after it.
	tx.later(func(br pgx.BatchResults) error {
		// The row is locked by this transaction, which read it: it is there.
		if tag, err := br.Exec(); err != nil {
			return fmt.Errorf("update failures: %w", err)
		} else if tag.RowsAffected() == 0 {
			return errUserNotFound
		}
		return nil
	}, updateFailuresSQL, failuresArgs(f, userID)...)
	return nil
}

// updateFailuresSQL writes a user's failure state (failuresArgs).
const updateFailuresSQL = `
	UPDATE users SET failed_count = $1, next_try_at = $2, locked_until = $3, second_factor_failed = $4, lock_streak = $5
	WHERE id = $6`

// failuresArgs are updateFailuresSQL's arguments.
func failuresArgs(f backend.Failures, userID int64) []any {
	return []any{f.Count, nullNS(f.NextTryAt), nullNS(f.LockedUntil), f.SecondFactor, f.Streak, userID}
}

// isCharge reports whether w is UpdateFailures' write of the user's failure state.
func isCharge(w pendingWrite, userID int64) bool {
	return w.sql == updateFailuresSQL && w.args[5] == any(userID)
}

// UpdateUnknownFailures is UpdateFailures for a username that names no account, keyed by
// nameHash, a keyed hash of the name (never the name: see backend.Store). The counter's row is
// created on first use (INSERT … ON CONFLICT DO NOTHING: of first uses racing, one inserts and
// the others wait for it) and then read locked, as UpdateFailures reads a user's. EINVALID for
// a key that is not a hex SHA-256.
func (db *DB) UpdateUnknownFailures(ctx context.Context, nameHash string, fn func(f *backend.Failures, now time.Time) error) error {
	if !isHexSHA256(nameHash) {
		// Whatever is passed here is stored: only ever a fixed-size hash.
		return backend.Errorf(backend.EINVALID, "An unknown username's counter key must be a hex SHA-256.")
	}
	return db.updateFailures(ctx, "update unknown failures", func(tx *Tx) (pgx.Row, error) {
		if _, err := tx.Exec(ctx, `INSERT INTO unknown_logins (name_hash, updated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			nameHash, ns(tx.now)); err != nil {
			return nil, err
		}
		// A name that is no account's has no second factor: no streak (backend.LockoutPolicy.lockFor).
		return tx.QueryRow(ctx, `
			SELECT failed_count, next_try_at, locked_until, false, 0 FROM unknown_logins WHERE name_hash = $1 FOR UPDATE`, nameHash), nil
	}, nil, fn, func(tx *Tx, f *backend.Failures) error {
		_, err := tx.Exec(ctx, `
			UPDATE unknown_logins SET failed_count = $2, next_try_at = $3, locked_until = $4, updated_at = $5
			WHERE name_hash = $1`,
			nameHash, f.Count, nullNS(f.NextTryAt), nullNS(f.LockedUntil), ns(tx.now))
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

// updateFailures is the locked read, fn, write of one failure counter in one transaction.
// read returns the locked row of failed_count, next_try_at, locked_until, second_factor_failed
// and lock_streak; with no row
// updateFailures returns missing. write stores what fn left.
func (db *DB) updateFailures(ctx context.Context, what string, read func(tx *Tx) (pgx.Row, error), missing error,
	fn func(f *backend.Failures, now time.Time) error, write func(tx *Tx, f *backend.Failures) error) error {
	var fnErr error
	err := db.inTx(ctx, false, func(tx *Tx) error {
		row, err := read(tx)
		if err != nil {
			return err
		}
		var f backend.Failures
		var next, locked *int64
		err = row.Scan(&f.Count, &next, &locked, &f.SecondFactor, &f.Streak)
		if errors.Is(err, pgx.ErrNoRows) && missing != nil {
			return missing
		} else if err != nil {
			return err
		}
		f.NextTryAt, f.LockedUntil = fromNS(next), fromNS(locked)
		if fnErr = fn(&f, tx.now); fnErr != nil {
			return fnErr
		}
		return write(tx, &f)
	})
	if fnErr != nil {
		return fnErr
	}
	return wrap(what, err)
}

var errAppEnrollmentNotFound = backend.Errorf(backend.ENOTFOUND, "No authenticator app setup is in progress.")

// BeginAppEnrollment stores the sealed secret of an app enrollment that owner began for the
// user, expiring ttl after the transaction's time, replacing owner's earlier one (and no one
// else's): one upsert. ENOTFOUND if there is no such user.
func (db *DB) BeginAppEnrollment(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.PendingAppEnrollment, error) {
	now := db.now(ctx)
	p := &backend.PendingAppEnrollment{Owner: owner, UserID: userID, Sealed: sealed, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	// INSERT … SELECT … WHERE EXISTS: a missing user inserts nothing, instead of failing on the
	// foreign key (which would end an enclosing transaction).
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO app_enrollments (owner_hash, user_id, secret, created_at, expires_at)
		SELECT $1::text, $2::bigint, $3::bytea, $4::bigint, $5::bigint WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
		ON CONFLICT (owner_hash) DO UPDATE SET user_id = excluded.user_id, secret = excluded.secret,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		owner, userID, sealed, ns(p.CreatedAt), ns(p.ExpiresAt))
	if err != nil {
		return nil, fmt.Errorf("begin app enrollment: %w", err)
	} else if tag.RowsAffected() == 0 {
		return nil, errUserNotFound
	}
	return p, nil
}

// FindAppEnrollment returns owner's pending app enrollment, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindAppEnrollment(ctx context.Context, owner string) (*backend.PendingAppEnrollment, error) {
	p := backend.PendingAppEnrollment{Owner: owner}
	var created, expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT user_id, secret, created_at, expires_at FROM app_enrollments WHERE owner_hash = $1`, owner).
		Scan(&p.UserID, &p.Sealed, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAppEnrollmentNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find app enrollment: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = fromNS(&created), fromNS(&expires)
	return &p, nil
}

// TOTPSecret returns the sealed active secret; ENOTFOUND if the user has none.
//
// In a second-factor step the secret is read right after the failure counter is charged
// (UpdateFailures, queued under the row lock). The step's locked read of the attempt and its
// user (FindLoginAttemptForUpdate) has read the secret and the last used time step already
// (Tx.secret): if the transaction has done nothing since but queue this user's charge, that
// is the secret, since no one else can change the locked row and this transaction has not,
// and no statement is sent. The charge stays queued, to go with the step's COMMIT (into the
// consume's UPDATE, ConsumeTOTPStep): it is still decided, under the lock, before the code is
// checked, and no other transaction could see it before it commits anyway. Otherwise, with
// the charge the last write queued, the charge becomes the statement that reads the secret,
// UPDATE … RETURNING totp_secret. Either way the last used step is known, and the row lock
// keeps it as read until the transaction ends: the step's ConsumeTOTPStep then knows its
// answer (Tx.totpLast).
func (db *DB) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	var b []byte
	var err error
	tx, ok := joined(ctx)
	if ok && tx.secret != nil && tx.secret.userID == userID && len(tx.pending) == 1 && isCharge(tx.pending[0], userID) {
		b, tx.totpLast[userID] = tx.secret.sealed, tx.secret.last
		tx.secret = nil
	} else if ok && len(tx.pending) > 0 && isCharge(tx.pending[len(tx.pending)-1], userID) {
		charge := tx.pending[len(tx.pending)-1]
		tx.pending = tx.pending[:len(tx.pending)-1]
		var last *int64
		err = tx.QueryRow(ctx, updateFailuresSQL+` RETURNING totp_secret, totp_last_step`, charge.args...).Scan(&b, &last)
		if err == nil {
			tx.totpLast[userID] = last
		}
	} else {
		err = db.conn(ctx).QueryRow(ctx, `SELECT totp_secret FROM users WHERE id = $1`, userID).Scan(&b)
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, errUserNotFound
	case err != nil:
		return nil, fmt.Errorf("totp secret: %w", err)
	case b == nil:
		return nil, backend.Errorf(backend.ENOTFOUND, "No authenticator app secret is set up.")
	}
	return b, nil
}

// EnableTwoFactor records a completed enrollment in one transaction: it sets the method (with
// e.SealedTOTP and e.TOTPStep as the last used step for the app, or e.SMSPhone for SMS, and
// clears the other method's data), ends every pending app and SMS enrollment of the user, and
// replaces the recovery codes with codes; it is a new credentials version. ENOTFOUND if there
// is no such user; EINVALID if e.Method is not app or sms; ECONFLICT, changing nothing, if
// e.Owner's enrollment is no longer pending (see backend.Store).
//
// It locks the user's row first, so that two enrollments of one user (two sessions confirming
// at once) replace the recovery codes one after the other, the second deleting the first one's
// codes; then the owner's pending enrollment is deleted by one conditional DELETE, which only
// one of two confirmations of the same setup matches.
func (db *DB) EnableTwoFactor(ctx context.Context, userID int64, e backend.Enrollment, codes []backend.RecoveryCode) error {
	var secret []byte // NULL unless the method uses them
	var step *int64
	var phone *string
	switch e.Method {
	case backend.MethodApp:
		if len(e.SealedTOTP) == 0 {
			return backend.Errorf(backend.EINVALID, "The authenticator app secret is missing.")
		}
		secret, step = e.SealedTOTP, &e.TOTPStep
	case backend.MethodSMS:
		if e.SMSPhone == "" {
			return backend.Errorf(backend.EINVALID, "The phone number is missing.")
		}
		phone = &e.SMSPhone
	default:
		return backend.Errorf(backend.EINVALID, "Unknown two-factor method %q.", e.Method)
	}

	err := db.inTx(ctx, false, func(tx *Tx) error {
		if ok, err := lockUser(ctx, tx, userID); err != nil {
			return err
		} else if !ok {
			return errUserNotFound
		}
		// The owner's pending enrollment goes first, only if it is still there, unexpired, and
		// the one confirmed (the same secret; the phone its text came from): of two
		// confirmations racing, the second finds nothing, and a setup is confirmed only by the
		// session or login that began it.
		confirm := `DELETE FROM app_enrollments WHERE owner_hash = $1 AND user_id = $2 AND secret = $3 AND expires_at > $4`
		var arg any = secret
		if e.Method == backend.MethodSMS {
			confirm = `DELETE FROM sms_enrollments WHERE owner_hash = $1 AND user_id = $2 AND phone = $3 AND expires_at > $4`
			arg = e.SMSPhone
		}
		tag, err := tx.Exec(ctx, confirm, e.Owner, userID, arg, ns(tx.now))
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ECONFLICT, "The setup has expired or was replaced. Start it again.")
		}
		// Every other setup of the user was begun over the second factor this one replaces.
		if err := deletePendingEnrollments(ctx, tx, userID); err != nil {
			return err
		}
		delete(tx.totpLast, userID)
		if _, err := tx.Exec(ctx, `
			UPDATE users SET method = $1, totp_secret = $2, totp_last_step = $3, sms_phone = $4, updated_at = $5,
				credentials_version = credentials_version + 1
			WHERE id = $6`,
			string(e.Method), secret, step, phone, ns(tx.now), userID); err != nil {
			return err
		}
		return replaceRecoveryCodes(ctx, tx, userID, codes)
	})
	return wrap("enable two-factor", err)
}

// deletePendingEnrollments ends every app and SMS setup of the user in progress, whoever began
// it.
func deletePendingEnrollments(ctx context.Context, tx *Tx, userID int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM app_enrollments WHERE user_id = $1`, userID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM sms_enrollments WHERE user_id = $1`, userID)
	return err
}

// consumeTOTP is the queued consume of a TOTP step ($1) of a user ($2), which fails if it
// matched no row (division_by_zero: no COMMIT); withFailures, it writes the user's failure
// state ($3 … $7) too.
func consumeTOTP(withFailures bool) *foldPart {
	set := `totp_last_step = $1`
	if withFailures {
		set += `, failed_count = $3, next_try_at = $4, locked_until = $5, second_factor_failed = $6, lock_streak = $7`
	}
	return &foldPart{ctes: `
		{p}consumed AS (
			UPDATE users SET ` + set + `
			WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)
			RETURNING 1
		)`, answer: `1 / (SELECT count(*) FROM {p}consumed)`, tables: []string{"users"}}
}

// ConsumeTOTPStep marks the TOTP time step as used, only if it is later than the last used
// step, and reports whether this call consumed it. It is one conditional UPDATE (RFC 6238
// §5.2: a code must not be accepted twice): of concurrent callers with the same step, one
// locks the row and sets the step; the others wait for its lock and then, at READ COMMITTED,
// evaluate the condition again on the row as it committed, find the step used and match no row.
// A step not later than the last one (a replay, or an older code still inside the ±1 window)
// is refused. It returns false, not ENOTFOUND, for an unknown user.
//
// In a second-factor step, whose transaction holds the user's row lock and has read the last
// used step with the secret (TOTPSecret, Tx.totpLast), the answer is known before the UPDATE
// runs: nobody else can consume a step meanwhile. A step not later than the last is refused
// then and there (the UPDATE would match no row). A later one is accepted, and its conditional
// UPDATE is queued (Tx.later) to go with the COMMIT, one round trip fewer: written so that it
// fails, and the whole transaction with it (COMMIT included: PostgreSQL skips the rest of the
// batch), if it matched no row. The UPDATE stays the authority; the lock only lets the answer
// be given before it runs.
func (db *DB) ConsumeTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	if tx, ok := joined(ctx); ok {
		if last, read := tx.totpLast[userID]; read {
			if last != nil && *last >= step {
				return false, nil
			}
			tx.totpLast[userID] = &step
			read := func(br pgx.BatchResults) error {
				if _, err := br.Exec(); err != nil {
					return fmt.Errorf("consume totp step: %w", err)
				}
				return nil
			}
			if n := len(tx.pending); n > 0 && isCharge(tx.pending[n-1], userID) {
				// The step's charge, still queued (TOTPSecret): the consume's UPDATE writes
				// it, one statement and one row version for both, under the same lock, and
				// if the consume matches no row, the charge fails with it, as the whole
				// transaction would.
				charge := tx.pending[n-1]
				tx.pending = tx.pending[:n-1]
				tx.laterPart(read, consumeTOTP(true), append([]any{step, userID}, charge.args[:5]...)...)
			} else {
				tx.laterPart(read, consumeTOTP(false), step, userID)
			}
			tx.pending[len(tx.pending)-1].consumes = userID
			return true, nil
		}
	}
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE users SET totp_last_step = $1
		WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)`, step, userID)
	if err != nil {
		return false, fmt.Errorf("consume totp step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReplaceRecoveryCodes voids the user's recovery codes and stores codes instead, setting their
// IDs in the slice, under the user's row lock: of two regenerations at once, the second deletes
// the first one's codes, and one set of five is left. ENOTFOUND if there is no such user.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []backend.RecoveryCode) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if ok, err := lockUser(ctx, tx, userID); err != nil {
			return err
		} else if !ok {
			return errUserNotFound
		}
		return replaceRecoveryCodes(ctx, tx, userID, codes)
	})
	return wrap("replace recovery codes", err)
}

// replaceRecoveryCodes deletes the user's codes, used or not, and inserts codes (in one round
// trip: a batch), setting their IDs. The caller holds the user's row lock.
func replaceRecoveryCodes(ctx context.Context, tx *Tx, userID int64, codes []backend.RecoveryCode) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM recovery_codes WHERE user_id = $1`, userID)
	for _, c := range codes {
		b.Queue(`INSERT INTO recovery_codes (user_id, salt, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			userID, c.Salt, c.Hash, ns(tx.now))
	}
	res := tx.SendBatch(ctx, b)
	if _, err := res.Exec(); err != nil {
		res.Close()
		return err
	}
	for i := range codes {
		if err := res.QueryRow().Scan(&codes[i].ID); err != nil {
			res.Close()
			return err
		}
	}
	return res.Close()
}

// RecoveryCodes returns the user's unused recovery codes (hashes only), oldest first. An
// unknown user has none.
func (db *DB) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT id, salt, hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY id`, userID)
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
// and reports whether this call used it: of concurrent callers, the first locks the row and the
// others, once it commits, find used_at set (as ConsumeTOTPStep).
func (db *DB) UseRecoveryCode(ctx context.Context, codeID int64) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL`,
		ns(db.now(ctx)), codeID)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
