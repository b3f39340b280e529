package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

var errSMSEnrollmentNotFound = backend.Errorf(backend.ENOTFOUND, "No SMS setup is pending.")

// BeginSMSEnrollment stores a pending SMS enrollment that owner began for the user (the hash
// of its Authorization Code and the code sealed, expiring ttl after the transaction's time),
// replacing owner's earlier one and no one else's. ENOTFOUND if there is no such user;
// ECONFLICT if another enrollment has the code hash.
func (db *DB) BeginSMSEnrollment(ctx context.Context, owner string, userID int64, codeHash string, sealedCode []byte, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin sms enrollment: %w", err)
	}
	defer tx.Rollback()

	p := &backend.PendingSMSEnrollment{Owner: owner, UserID: userID, SealedCode: sealedCode, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO sms_enrollments (owner_hash, user_id, code_hash, code_sealed, phone, created_at, received_at, expires_at)
		VALUES (?, ?, ?, ?, NULL, ?, NULL, ?)
		ON CONFLICT (owner_hash) DO UPDATE SET user_id = excluded.user_id, code_hash = excluded.code_hash,
			code_sealed = excluded.code_sealed, phone = NULL, created_at = excluded.created_at,
			received_at = NULL, expires_at = excluded.expires_at`,
		owner, userID, codeHash, sealedCode, p.CreatedAt.UnixNano(), p.ExpiresAt.UnixNano())
	switch {
	case isForeignKey(err):
		return nil, errUserNotFound
	case isUnique(err):
		return nil, backend.Errorf(backend.ECONFLICT, "The Authorization Code is in use.")
	case err != nil:
		return nil, fmt.Errorf("begin sms enrollment: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("begin sms enrollment: %w", err)
	}
	return p, nil
}

// AttachSMSPhone records phone on the pending SMS enrollment with the code hash, only if no
// text has arrived for it yet (no phone, and not refused: RefuseSMSSender) and it has not
// expired by the transaction's time, and gives it ttl more for its confirmation. It is one
// conditional UPDATE: of texts racing with the same code, exactly one matches, and a used or
// expired code matches nothing. ENOTFOUND, changing nothing, otherwise.
func (db *DB) AttachSMSPhone(ctx context.Context, codeHash, phone string, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("attach sms phone: %w", err)
	}
	defer tx.Rollback()

	p, err := scanSMSEnrollment(tx.QueryRowContext(ctx, `
		UPDATE sms_enrollments SET phone = ?1, received_at = ?2, expires_at = ?3
		WHERE code_hash = ?4 AND phone IS NULL AND received_at IS NULL AND expires_at > ?2
		RETURNING `+smsEnrollmentColumns,
		phone, tx.now.UnixNano(), tx.now.Add(ttl).UnixNano(), codeHash))
	if err != nil {
		return nil, wrap("attach sms phone", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("attach sms phone: %w", err)
	}
	return p, nil
}

// RefuseSMSSender records that the text with the code hash came from a number that cannot
// receive codes: received_at is set and phone stays NULL, only if no text has arrived for it
// yet and it has not expired, with one conditional UPDATE. The code is used up. ENOTFOUND,
// changing nothing, otherwise.
func (db *DB) RefuseSMSSender(ctx context.Context, codeHash string) (*backend.PendingSMSEnrollment, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("refuse sms sender: %w", err)
	}
	defer tx.Rollback()
	p, err := scanSMSEnrollment(tx.QueryRowContext(ctx, `
		UPDATE sms_enrollments SET received_at = ?1
		WHERE code_hash = ?2 AND phone IS NULL AND received_at IS NULL AND expires_at > ?1
		RETURNING `+smsEnrollmentColumns,
		tx.now.UnixNano(), codeHash))
	if err != nil {
		return nil, wrap("refuse sms sender", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("refuse sms sender: %w", err)
	}
	return p, nil
}

// FindSMSEnrollment returns owner's pending SMS enrollment, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindSMSEnrollment(ctx context.Context, owner string) (*backend.PendingSMSEnrollment, error) {
	p, err := scanSMSEnrollment(db.querier(ctx).QueryRowContext(ctx,
		`SELECT `+smsEnrollmentColumns+` FROM sms_enrollments WHERE owner_hash = ?`, owner))
	if err != nil {
		return nil, wrap("find sms enrollment", err)
	}
	return p, nil
}

const smsEnrollmentColumns = `owner_hash, user_id, code_sealed, COALESCE(phone, ''), created_at, received_at, expires_at`

func scanSMSEnrollment(row scanner) (*backend.PendingSMSEnrollment, error) {
	var p backend.PendingSMSEnrollment
	var created, received, expires sql.NullInt64
	err := row.Scan(&p.Owner, &p.UserID, &p.SealedCode, &p.Phone, &created, &received, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSMSEnrollmentNotFound
	} else if err != nil {
		return nil, err
	}
	p.CreatedAt, p.ReceivedAt, p.ExpiresAt = nullTime(created), nullTime(received), nullTime(expires)
	return &p, nil
}

// RecordInboundSMS remembers an inbound text's MessageSid and sender. fresh is false, and
// nothing is stored, if the MessageSid was recorded before (the primary key decides, so of
// concurrent deliveries exactly one is fresh). recent counts the sender's texts recorded within
// window of the transaction's time, this one included.
func (db *DB) RecordInboundSMS(ctx context.Context, messageSID, sender string, window time.Duration) (fresh bool, recent int, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, `
		INSERT INTO sms_inbound (message_sid, sender, received_at) VALUES (?, ?, ?)
		ON CONFLICT (message_sid) DO NOTHING`, messageSID, sender, tx.now.UnixNano())
	if err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	} else if n == 0 {
		return false, 0, nil
	}
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_inbound WHERE sender = ? AND received_at > ?`,
		sender, tx.now.Add(-window).UnixNano()).Scan(&recent)
	if err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	}
	return true, recent, nil
}

// ReserveSMSCode stores c, a login code about to be sent, unless c's login attempt was sent one
// less than cooldown ago or the user perHour within the last hour (whatever the attempt);
// then it stores nothing and returns when the next may be sent. The limits are read and the row inserted in one immediate write
// transaction, so concurrent requests take turns and cannot pass the limits together.
// ENOTFOUND if there is no such user.
func (db *DB) ReserveSMSCode(ctx context.Context, c *backend.SMSCode, ttl, cooldown time.Duration, perHour int) (time.Time, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	defer tx.Rollback()

	rows, err := tx.QueryContext(ctx, `
		SELECT created_at, attempt_hash = ? FROM sms_codes WHERE user_id = ? AND created_at > ? ORDER BY created_at DESC`,
		c.AttemptHash, c.UserID, tx.now.Add(-time.Hour).UnixNano())
	if err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	var sent []time.Time   // newest first: the user's, for the hourly cap
	var lastHere time.Time // the newest to this attempt, for the cooldown
	for rows.Next() {
		var ns int64
		var here bool
		if err := rows.Scan(&ns, &here); err != nil {
			rows.Close()
			return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
		}
		at := time.Unix(0, ns).UTC()
		sent = append(sent, at)
		if here && lastHere.IsZero() {
			lastHere = at
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	if len(sent) >= perHour {
		// The oldest of the last perHour texts leaving the hour frees a place.
		return sent[perHour-1].Add(time.Hour), nil
	}
	if !lastHere.IsZero() && tx.now.Before(lastHere.Add(cooldown)) {
		return lastHere.Add(cooldown), nil
	}

	c.CreatedAt, c.ExpiresAt = tx.now, tx.now.Add(ttl)
	res, err := tx.ExecContext(ctx, `
		INSERT INTO sms_codes (user_id, attempt_hash, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		c.UserID, c.AttemptHash, c.CodeHash, c.CreatedAt.UnixNano(), c.ExpiresAt.UnixNano())
	if isForeignKey(err) {
		return time.Time{}, errUserNotFound
	} else if err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return time.Time{}, fmt.Errorf("reserve sms code: %w", err)
	}
	return time.Time{}, nil
}

// DeleteSMSCode removes a reserved code whose text was not sent, if it is there.
func (db *DB) DeleteSMSCode(ctx context.Context, id int64) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM sms_codes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete sms code: %w", err)
	}
	return nil
}

// SMSCodeWaiting reports whether the login attempt has a code sent that is unused and
// unexpired.
func (db *DB) SMSCodeWaiting(ctx context.Context, attemptHash string) (bool, error) {
	var n int
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT count(*) FROM sms_codes WHERE attempt_hash = ? AND used_at IS NULL AND expires_at > ?`,
		attemptHash, db.now(ctx).UnixNano()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sms code waiting: %w", err)
	}
	return n > 0, nil
}

// LatestSMSCode returns the last login code sent for the login attempt, used, expired or not;
// ENOTFOUND if none was.
func (db *DB) LatestSMSCode(ctx context.Context, attemptHash string) (*backend.SMSCode, error) {
	c := backend.SMSCode{AttemptHash: attemptHash}
	var created, expires sql.NullInt64
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT id, user_id, code_hash, created_at, expires_at FROM sms_codes
		WHERE attempt_hash = ? ORDER BY created_at DESC, id DESC LIMIT 1`, attemptHash).
		Scan(&c.ID, &c.UserID, &c.CodeHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENOTFOUND, "No code was sent for this login.")
	} else if err != nil {
		return nil, fmt.Errorf("latest sms code: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = nullTime(created), nullTime(expires)
	return &c, nil
}

// ConsumeSMSCode marks the login attempt's code with the hash used, only if it is unused and
// unexpired at the transaction's time, with one conditional UPDATE, and reports whether this
// call used it. The writer connection runs one statement at a time, so of concurrent callers
// exactly one finds used_at still NULL.
func (db *DB) ConsumeSMSCode(ctx context.Context, attemptHash, codeHash string) (bool, error) {
	now := db.now(ctx).UnixNano()
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE sms_codes SET used_at = ?1
		WHERE attempt_hash = ?2 AND code_hash = ?3 AND used_at IS NULL AND expires_at > ?1`,
		now, attemptHash, codeHash)
	if err != nil {
		return false, fmt.Errorf("consume sms code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("consume sms code: %w", err)
	}
	return n > 0, nil
}

// DeleteExpiredSMS removes login codes sent, inbound texts recorded, and pending SMS
// enrollments expired, before before.
func (db *DB) DeleteExpiredSMS(ctx context.Context, before time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("delete expired sms: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM sms_codes WHERE created_at < ?`,
		`DELETE FROM sms_inbound WHERE received_at < ?`,
		`DELETE FROM sms_enrollments WHERE expires_at < ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, before.UnixNano()); err != nil {
			return fmt.Errorf("delete expired sms: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete expired sms: %w", err)
	}
	return nil
}
