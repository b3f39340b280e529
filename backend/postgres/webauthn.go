package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// Passkeys and security keys (WebAuthn): the credentials people registered and the ceremonies
// begun and not finished. As elsewhere here, a statement that could fail on a constraint is
// written so that it does not (INSERT … WHERE EXISTS, ON CONFLICT DO NOTHING): a failed
// statement would end an enclosing Atomically transaction.

var errNoCeremony = backend.Errorf(backend.ENOTFOUND, "No security key ceremony is in progress.")

var errKeyNotFound = backend.Errorf(backend.ENOTFOUND, "No such security key.")

var errCredentialTaken = backend.Errorf(backend.ECONFLICT, "This security key is registered already.")

// PutWebAuthnCeremony stores c for c.Owner and c.Kind, replacing what that owner had of the
// kind: one INSERT … ON CONFLICT.
func (db *DB) PutWebAuthnCeremony(ctx context.Context, c *backend.WebAuthnCeremony, ttl time.Duration) error {
	c.ExpiresAt = db.now(ctx).Add(ttl)
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO webauthn_ceremonies (owner_hash, kind, user_id, data, expires_at)
		SELECT $1::text, $2::text, $3::bigint, $4::bytea, $5::bigint WHERE EXISTS (SELECT 1 FROM users WHERE id = $3)
		ON CONFLICT (owner_hash, kind) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
			expires_at = excluded.expires_at`,
		c.Owner, c.Kind, c.UserID, c.Data, ns(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put webauthn ceremony: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errUserNotFound
	}
	return nil
}

// TakeWebAuthnCeremony deletes and returns owner's unexpired ceremony of the kind: one
// conditional DELETE … RETURNING; of concurrent callers, the others wait for the row lock and
// then find it gone.
func (db *DB) TakeWebAuthnCeremony(ctx context.Context, owner, kind string) (*backend.WebAuthnCeremony, error) {
	c := &backend.WebAuthnCeremony{Owner: owner, Kind: kind}
	var expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		DELETE FROM webauthn_ceremonies WHERE owner_hash = $1 AND kind = $2 AND expires_at > $3
		RETURNING user_id, data, expires_at`, owner, kind, ns(db.now(ctx))).Scan(&c.UserID, &c.Data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoCeremony
	} else if err != nil {
		return nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	c.ExpiresAt = time.Unix(0, expires).UTC()
	return c, nil
}

// AddWebAuthnCredential inserts c.
func (db *DB) AddWebAuthnCredential(ctx context.Context, c *backend.WebAuthnCredential) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		return insertWebAuthnCredential(ctx, tx, c)
	})
	return wrap("add webauthn credential", err)
}

func insertWebAuthnCredential(ctx context.Context, tx *Tx, c *backend.WebAuthnCredential) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, c.UserID).Scan(&exists); err != nil {
		return err
	} else if !exists {
		return errUserNotFound
	}
	err := tx.QueryRow(ctx, `
		INSERT INTO webauthn_credentials (user_id, credential_id, name, record, sign_count, backup_eligible, backup_state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (credential_id) DO NOTHING
		RETURNING id`,
		c.UserID, c.CredentialID, c.Name, c.Record, int64(c.SignCount), c.BackupEligible, c.BackupState, ns(tx.now)).Scan(&c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errCredentialTaken
	} else if err != nil {
		return err
	}
	c.CreatedAt = tx.now
	return nil
}

// EnableWebAuthn enrolls the user with c, only if they are not enrolled: the conditional
// UPDATE on method = 'none' decides (of two racing, the second waits for the row lock and
// then matches nothing). In a savepoint: a key taken meanwhile undoes the UPDATE.
func (db *DB) EnableWebAuthn(ctx context.Context, c *backend.WebAuthnCredential, codes []backend.RecoveryCode) error {
	err := db.inTx(ctx, true, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE users SET method = 'webauthn', totp_secret = NULL, totp_last_step = NULL, sms_phone = NULL,
				updated_at = $1, credentials_version = credentials_version + 1
			WHERE id = $2 AND method = 'none'`, ns(tx.now), c.UserID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, c.UserID).Scan(&exists); err != nil {
				return err
			} else if !exists {
				return errUserNotFound
			}
			return backend.Errorf(backend.ECONFLICT, "Two-Factor Authentication is set up already.")
		}
		if tx.totpLast != nil {
			delete(tx.totpLast, c.UserID)
		}
		if err := deletePendingEnrollments(ctx, tx, c.UserID); err != nil {
			return err
		}
		if err := replaceRecoveryCodes(ctx, tx, c.UserID, codes); err != nil {
			return err
		}
		return insertWebAuthnCredential(ctx, tx, c)
	})
	return wrap("enable webauthn", err)
}

// WebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) WebAuthnCredentials(ctx context.Context, userID int64) ([]*backend.WebAuthnCredential, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT id, user_id, credential_id, name, record, sign_count, backup_eligible, backup_state,
			created_at, last_used_at, clone_warning_at
		FROM webauthn_credentials WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("webauthn credentials: %w", err)
	}
	defer rows.Close()
	var out []*backend.WebAuthnCredential
	for rows.Next() {
		c := &backend.WebAuthnCredential{}
		var created, count int64
		var used, cloned *int64
		if err := rows.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.Name, &c.Record, &count, &c.BackupEligible,
			&c.BackupState, &created, &used, &cloned); err != nil {
			return nil, fmt.Errorf("webauthn credentials: %w", err)
		}
		c.SignCount = uint32(count)
		c.CreatedAt, c.LastUsedAt, c.CloneWarningAt = time.Unix(0, created).UTC(), fromNS(used), fromNS(cloned)
		out = append(out, c)
	}
	return out, wrap("webauthn credentials", rows.Err())
}

// UseWebAuthnCredential stores a successful assertion's counter, flags and record, only if the
// counter is still prevCount: one conditional UPDATE.
func (db *DB) UseWebAuthnCredential(ctx context.Context, id int64, prevCount uint32, c *backend.WebAuthnCredential) (bool, error) {
	now := db.now(ctx)
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE webauthn_credentials SET sign_count = $1, backup_state = $2, record = $3, last_used_at = $4
		WHERE id = $5 AND sign_count = $6`, int64(c.SignCount), c.BackupState, c.Record, ns(now), id, int64(prevCount))
	if err != nil {
		return false, fmt.Errorf("use webauthn credential: %w", err)
	}
	if tag.RowsAffected() == 1 {
		c.LastUsedAt = now
	}
	return tag.RowsAffected() == 1, nil
}

// MarkWebAuthnCloned records the first time the credential's counter went backwards.
func (db *DB) MarkWebAuthnCloned(ctx context.Context, id int64) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE webauthn_credentials SET clone_warning_at = COALESCE(clone_warning_at, $1) WHERE id = $2`, ns(db.now(ctx)), id)
	if err != nil {
		return fmt.Errorf("mark webauthn cloned: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errKeyNotFound
	}
	return nil
}

// RenameWebAuthnCredential sets the name of the user's credential.
func (db *DB) RenameWebAuthnCredential(ctx context.Context, userID, id int64, name string) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE webauthn_credentials SET name = $1 WHERE id = $2 AND user_id = $3`, name, id, userID)
	if err != nil {
		return fmt.Errorf("rename webauthn credential: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errKeyNotFound
	}
	return nil
}

// DeleteWebAuthnCredential removes the user's credential and bumps the user's credentials
// version, in one transaction.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return errKeyNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE users SET updated_at = $1, credentials_version = credentials_version + 1 WHERE id = $2`,
			ns(tx.now), userID)
		return err
	})
	return wrap("delete webauthn credential", err)
}

// DeleteExpiredWebAuthn removes the ceremonies that expired before before.
func (db *DB) DeleteExpiredWebAuthn(ctx context.Context, before time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < $1`, ns(before))
	return wrap("delete expired webauthn", err)
}
