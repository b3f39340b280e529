package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

var errSMSEnrollmentNotFound = backend.Errorf(backend.ENOTFOUND, "No SMS setup is pending.")

// BeginSMSEnrollment stores a pending SMS enrollment that owner began for the user (the hash
// of its Authorization Code and the code sealed, expiring ttl after the transaction's time),
// replacing owner's earlier one and no one else's: one upsert. ENOTFOUND if there is no such
// user; ECONFLICT if another enrollment has the code hash (the unique index decides; inside an
// Atomically transaction the statement runs in a savepoint, so that its failure does not end
// the transaction).
func (db *DB) BeginSMSEnrollment(ctx context.Context, owner string, userID int64, codeHash string, sealedCode []byte, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	var p *backend.PendingSMSEnrollment
	err := db.inTx(ctx, true, func(tx *Tx) error {
		p = &backend.PendingSMSEnrollment{Owner: owner, UserID: userID, SealedCode: sealedCode, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
		tag, err := tx.Exec(ctx, `
			INSERT INTO sms_enrollments (owner_hash, user_id, code_hash, code_sealed, phone, created_at, received_at, expires_at)
			SELECT $1::text, $2::bigint, $3::text, $4::bytea, NULL, $5::bigint, NULL, $6::bigint
			WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
			ON CONFLICT (owner_hash) DO UPDATE SET user_id = excluded.user_id, code_hash = excluded.code_hash,
				code_sealed = excluded.code_sealed, phone = NULL, created_at = excluded.created_at,
				received_at = NULL, expires_at = excluded.expires_at`,
			owner, userID, codeHash, sealedCode, ns(p.CreatedAt), ns(p.ExpiresAt))
		switch {
		case isUnique(err):
			return backend.Errorf(backend.ECONFLICT, "The Authorization Code is in use.")
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return errUserNotFound
		}
		return nil
	})
	if err != nil {
		return nil, wrap("begin sms enrollment", err)
	}
	return p, nil
}

// AttachSMSPhone records phone on the pending SMS enrollment with the code hash, only if it has
// no phone yet and has not expired by the transaction's time, and gives it ttl more for its
// confirmation. It is one conditional UPDATE: of texts racing with the same code (on two
// servers), the first locks the row and the others, once it commits, see a phone and match
// nothing; a used or expired code matches nothing. ENOTFOUND, changing nothing, otherwise.
func (db *DB) AttachSMSPhone(ctx context.Context, codeHash, phone string, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	if !storable(phone) {
		return nil, errSMSEnrollmentNotFound
	}
	now := db.now(ctx)
	p, err := scanSMSEnrollment(db.conn(ctx).QueryRow(ctx, `
		UPDATE sms_enrollments SET phone = $1, received_at = $2, expires_at = $3
		WHERE code_hash = $4 AND phone IS NULL AND received_at IS NULL AND expires_at > $2
		RETURNING `+smsEnrollmentColumns,
		phone, ns(now), ns(now.Add(ttl)), codeHash))
	if err != nil {
		return nil, wrap("attach sms phone", err)
	}
	return p, nil
}

// RefuseSMSSender records that the text with the code hash came from a number that cannot
// receive codes: received_at is set and phone stays NULL, only if no text has arrived for it
// yet and it has not expired, with one conditional UPDATE (racing texts: the row lock makes the
// second re-check the condition on the first's result, and match nothing). The code is used
// up. ENOTFOUND, changing nothing, otherwise.
func (db *DB) RefuseSMSSender(ctx context.Context, codeHash string) (*backend.PendingSMSEnrollment, error) {
	p, err := scanSMSEnrollment(db.conn(ctx).QueryRow(ctx, `
		UPDATE sms_enrollments SET received_at = $1
		WHERE code_hash = $2 AND phone IS NULL AND received_at IS NULL AND expires_at > $1
		RETURNING `+smsEnrollmentColumns,
		ns(db.now(ctx)), codeHash))
	if err != nil {
		return nil, wrap("refuse sms sender", err)
	}
	return p, nil
}

// FindSMSEnrollment returns owner's pending SMS enrollment, expired or not; ENOTFOUND if there
// is none.
func (db *DB) FindSMSEnrollment(ctx context.Context, owner string) (*backend.PendingSMSEnrollment, error) {
	p, err := scanSMSEnrollment(db.conn(ctx).QueryRow(ctx,
		`SELECT `+smsEnrollmentColumns+` FROM sms_enrollments WHERE owner_hash = $1`, owner))
	if err != nil {
		return nil, wrap("find sms enrollment", err)
	}
	return p, nil
}

const smsEnrollmentColumns = `owner_hash, user_id, code_sealed, COALESCE(phone, ''), created_at, received_at, expires_at`

func scanSMSEnrollment(row pgx.Row) (*backend.PendingSMSEnrollment, error) {
	var p backend.PendingSMSEnrollment
	var created, expires int64
	var received *int64
	err := row.Scan(&p.Owner, &p.UserID, &p.SealedCode, &p.Phone, &created, &received, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSMSEnrollmentNotFound
	} else if err != nil {
		return nil, err
	}
	p.CreatedAt, p.ReceivedAt, p.ExpiresAt = fromNS(&created), fromNS(received), fromNS(&expires)
	return &p, nil
}

// RecordInboundSMS remembers an inbound text's MessageSid and sender. fresh is false, and
// nothing is stored, if the MessageSid was recorded before (the primary key decides, so of
// concurrent deliveries exactly one is fresh). recent counts the sender's texts recorded within
// window of the transaction's time, this one included. Insert and count run under the sender's
// advisory lock (locks.go): two texts from one sender arriving at once on two servers count
// each other, where at READ COMMITTED each would count itself alone and both pass a cap of one.
func (db *DB) RecordInboundSMS(ctx context.Context, messageSID, sender string, window time.Duration) (fresh bool, recent int, err error) {
	messageSID, sender = text(messageSID), text(sender)
	err = db.inTx(ctx, false, func(tx *Tx) error {
		if err := lockSender(ctx, tx, sender); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO sms_inbound (message_sid, sender, received_at) VALUES ($1, $2, $3)
			ON CONFLICT (message_sid) DO NOTHING`, messageSID, sender, ns(tx.now))
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return nil
		}
		fresh = true
		return tx.QueryRow(ctx, `SELECT count(*) FROM sms_inbound WHERE sender = $1 AND received_at > $2`,
			sender, ns(tx.now.Add(-window))).Scan(&recent)
	})
	if err != nil {
		return false, 0, fmt.Errorf("record inbound sms: %w", err)
	}
	return fresh, recent, nil
}

// ReserveSMSCode stores c, a login code about to be sent, unless the user was sent one less than
// cooldown ago or perHour within the last hour; then it stores nothing and returns when the
// next may be sent. The user's row is locked first (FOR NO KEY UPDATE), then the limits are read
// and the row inserted: concurrent requests, on any server, take turns and each sees the codes
// the ones before reserved, so they cannot pass the limits together. ENOTFOUND if there is no
// such user.
func (db *DB) ReserveSMSCode(ctx context.Context, c *backend.SMSCode, ttl, cooldown time.Duration, perHour int) (time.Time, error) {
	var retryAt time.Time
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if ok, err := lockUser(ctx, tx, c.UserID); err != nil {
			return err
		} else if !ok {
			return errUserNotFound
		}
		rows, err := tx.Query(ctx, `
			SELECT created_at, attempt_hash FROM sms_codes WHERE user_id = $1 AND created_at > $2 ORDER BY created_at DESC`,
			c.UserID, ns(tx.now.Add(-time.Hour)))
		if err != nil {
			return err
		}
		type sentCode struct {
			at      time.Time
			attempt string
		}
		sent, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sentCode, error) {
			var v int64
			var s sentCode
			err := r.Scan(&v, &s.attempt)
			s.at = fromNS(&v)
			return s, err
		}) // newest first
		if err != nil {
			return err
		}
		if len(sent) >= perHour {
			// The oldest of the last perHour texts leaving the hour frees a place.
			retryAt = sent[perHour-1].at.Add(time.Hour)
			return nil
		}
		// The cooldown is the login attempt's: a new login may have a code at once.
		for _, s := range sent {
			if s.attempt == c.AttemptHash {
				if tx.now.Before(s.at.Add(cooldown)) {
					retryAt = s.at.Add(cooldown)
					return nil
				}
				break
			}
		}
		created, expires := tx.now, tx.now.Add(ttl)
		if err := tx.QueryRow(ctx, `
			INSERT INTO sms_codes (user_id, attempt_hash, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
			RETURNING id`, c.UserID, c.AttemptHash, c.CodeHash, ns(created), ns(expires)).Scan(&c.ID); err != nil {
			return err
		}
		c.CreatedAt, c.ExpiresAt = created, expires
		return nil
	})
	if err != nil {
		return time.Time{}, wrap("reserve sms code", err)
	}
	return retryAt, nil
}

// DeleteSMSCode removes a reserved code whose text was not sent, if it is there.
func (db *DB) DeleteSMSCode(ctx context.Context, id int64) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM sms_codes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete sms code: %w", err)
	}
	return nil
}

// SMSCodeWaiting reports whether the login attempt has a code sent that is unused and
// unexpired.
func (db *DB) SMSCodeWaiting(ctx context.Context, attemptHash string) (bool, error) {
	var waiting bool
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM sms_codes WHERE attempt_hash = $1 AND used_at IS NULL AND expires_at > $2)`,
		attemptHash, ns(db.now(ctx))).Scan(&waiting)
	if err != nil {
		return false, fmt.Errorf("sms code waiting: %w", err)
	}
	return waiting, nil
}

// LatestSMSCode returns the last login code sent for the login attempt, used, expired or not;
// ENOTFOUND if none was.
func (db *DB) LatestSMSCode(ctx context.Context, attemptHash string) (*backend.SMSCode, error) {
	c := backend.SMSCode{AttemptHash: attemptHash}
	var created, expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT id, user_id, code_hash, created_at, expires_at FROM sms_codes
		WHERE attempt_hash = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, attemptHash).
		Scan(&c.ID, &c.UserID, &c.CodeHash, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backend.Errorf(backend.ENOTFOUND, "No code was sent for this login.")
	} else if err != nil {
		return nil, fmt.Errorf("latest sms code: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromNS(&created), fromNS(&expires)
	return &c, nil
}

// ConsumeSMSCode marks the login attempt's code with the hash used, only if it is unused and
// unexpired at the transaction's time, with one conditional UPDATE, and reports whether this
// call used it: of concurrent callers the first locks the row, and the others, once it
// commits, find used_at set (as ConsumeTOTPStep).
func (db *DB) ConsumeSMSCode(ctx context.Context, attemptHash, codeHash string) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE sms_codes SET used_at = $1
		WHERE attempt_hash = $2 AND code_hash = $3 AND used_at IS NULL AND expires_at > $1`,
		ns(db.now(ctx)), attemptHash, codeHash)
	if err != nil {
		return false, fmt.Errorf("consume sms code: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// DeleteExpiredSMS removes login codes sent, inbound texts recorded, and pending SMS
// enrollments expired, before before.
func (db *DB) DeleteExpiredSMS(ctx context.Context, before time.Time) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		for _, q := range []string{
			`DELETE FROM sms_codes WHERE created_at < $1`,
			`DELETE FROM sms_inbound WHERE received_at < $1`,
			`DELETE FROM sms_enrollments WHERE expires_at < $1`,
		} {
			if _, err := tx.Exec(ctx, q, ns(before)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("delete expired sms", err)
}
