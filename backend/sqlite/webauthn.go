package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

// Passkeys and security keys (WebAuthn): the credentials people registered and the ceremonies
// begun and not finished.

var errNoCeremony = backend.Errorf(backend.ENOTFOUND, "No security key ceremony is in progress.")

var errKeyNotFound = backend.Errorf(backend.ENOTFOUND, "No such security key.")

// PutWebAuthnCeremony stores c for c.Owner and c.Kind, replacing what that owner had of the
// kind: one INSERT … ON CONFLICT.
func (db *DB) PutWebAuthnCeremony(ctx context.Context, c *backend.WebAuthnCeremony, ttl time.Duration) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("put webauthn ceremony: %w", err)
	}
	defer tx.Rollback()
	c.ExpiresAt = tx.now.Add(ttl)
	_, err = tx.ExecContext(ctx, `
		INSERT INTO webauthn_ceremonies (owner_hash, kind, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (owner_hash, kind) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
			expires_at = excluded.expires_at`,
		c.Owner, c.Kind, c.UserID, c.Data, c.ExpiresAt.UnixNano())
	if isForeignKey(err) {
		return errUserNotFound
	} else if err != nil {
		return fmt.Errorf("put webauthn ceremony: %w", err)
	}
	return wrap("put webauthn ceremony", tx.Commit())
}

// TakeWebAuthnCeremony deletes and returns owner's unexpired ceremony of the kind: one
// conditional DELETE … RETURNING, so a challenge is answered once, however many answers race.
func (db *DB) TakeWebAuthnCeremony(ctx context.Context, owner, kind string) (*backend.WebAuthnCeremony, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	defer tx.Rollback()
	c := &backend.WebAuthnCeremony{Owner: owner, Kind: kind}
	var expires int64
	err = tx.QueryRowContext(ctx, `
		DELETE FROM webauthn_ceremonies WHERE owner_hash = ? AND kind = ? AND expires_at > ?
		RETURNING user_id, data, expires_at`, owner, kind, tx.now.UnixNano()).Scan(&c.UserID, &c.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCeremony
	} else if err != nil {
		return nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	c.ExpiresAt = time.Unix(0, expires).UTC()
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	return c, nil
}

// AddWebAuthnCredential inserts c.
func (db *DB) AddWebAuthnCredential(ctx context.Context, c *backend.WebAuthnCredential) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("add webauthn credential: %w", err)
	}
	defer tx.Rollback()
	if err := insertWebAuthnCredential(ctx, tx, c); err != nil {
		return err
	}
	return wrap("add webauthn credential", tx.Commit())
}

var errCredentialTaken = backend.Errorf(backend.ECONFLICT, "This security key is registered already.")

func insertWebAuthnCredential(ctx context.Context, tx *Tx, c *backend.WebAuthnCredential) error {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO webauthn_credentials (user_id, credential_id, name, record, sign_count, backup_eligible, backup_state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.UserID, c.CredentialID, c.Name, c.Record, c.SignCount, c.BackupEligible, c.BackupState, tx.now.UnixNano())
	switch {
	case isUnique(err):
		return errCredentialTaken
	case isForeignKey(err):
		return errUserNotFound
	case err != nil:
		return fmt.Errorf("add webauthn credential: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("add webauthn credential: %w", err)
	}
	c.CreatedAt = tx.now
	return nil
}

// EnableWebAuthn enrolls the user with c, only if they are not enrolled: the conditional
// UPDATE on method = 'none' decides, so of two enrollments racing one wins.
func (db *DB) EnableWebAuthn(ctx context.Context, c *backend.WebAuthnCredential, codes []backend.RecoveryCode) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("enable webauthn: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE users SET method = 'webauthn', totp_secret = NULL, totp_last_step = NULL, sms_phone = NULL,
			updated_at = ?, credentials_version = credentials_version + 1
		WHERE id = ? AND method = 'none'`, tx.now.UnixNano(), c.UserID)
	if err != nil {
		return fmt.Errorf("enable webauthn: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("enable webauthn: %w", err)
	} else if n == 0 {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, c.UserID).Scan(&exists); err != nil {
			return fmt.Errorf("enable webauthn: %w", err)
		} else if !exists {
			return errUserNotFound
		}
		return backend.Errorf(backend.ECONFLICT, "Two-Factor Authentication is set up already.")
	}
	if err := deletePendingEnrollments(ctx, tx, c.UserID); err != nil {
		return fmt.Errorf("enable webauthn: %w", err)
	}
	if err := replaceRecoveryCodes(ctx, tx, c.UserID, codes); err != nil {
		return fmt.Errorf("enable webauthn: %w", err)
	}
	if err := insertWebAuthnCredential(ctx, tx, c); err != nil {
		return err
	}
	return wrap("enable webauthn", tx.Commit())
}

// WebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) WebAuthnCredentials(ctx context.Context, userID int64) ([]*backend.WebAuthnCredential, error) {
	rows, err := db.querier(ctx).QueryContext(ctx, `
		SELECT id, user_id, credential_id, name, record, sign_count, backup_eligible, backup_state,
			created_at, last_used_at, clone_warning_at
		FROM webauthn_credentials WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("webauthn credentials: %w", err)
	}
	defer rows.Close()
	var out []*backend.WebAuthnCredential
	for rows.Next() {
		c := &backend.WebAuthnCredential{}
		var created int64
		var used, cloned sql.NullInt64
		if err := rows.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.Name, &c.Record, &c.SignCount, &c.BackupEligible,
			&c.BackupState, &created, &used, &cloned); err != nil {
			return nil, fmt.Errorf("webauthn credentials: %w", err)
		}
		c.CreatedAt, c.LastUsedAt, c.CloneWarningAt = time.Unix(0, created).UTC(), nullTime(used), nullTime(cloned)
		out = append(out, c)
	}
	return out, wrap("webauthn credentials", rows.Err())
}

// UseWebAuthnCredential stores a successful assertion's counter, flags and record, only if the
// counter is still prevCount: one conditional UPDATE.
func (db *DB) UseWebAuthnCredential(ctx context.Context, id int64, prevCount uint32, c *backend.WebAuthnCredential) (bool, error) {
	now := db.now(ctx)
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?, record = ?, last_used_at = ?
		WHERE id = ? AND sign_count = ?`, c.SignCount, c.BackupState, c.Record, now.UnixNano(), id, prevCount)
	if err != nil {
		return false, fmt.Errorf("use webauthn credential: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use webauthn credential: %w", err)
	}
	if n == 1 {
		c.LastUsedAt = now
	}
	return n == 1, nil
}

// MarkWebAuthnCloned records the first time the credential's counter went backwards.
func (db *DB) MarkWebAuthnCloned(ctx context.Context, id int64) error {
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE webauthn_credentials SET clone_warning_at = COALESCE(clone_warning_at, ?) WHERE id = ?`,
		db.now(ctx).UnixNano(), id)
	return oneRow("mark webauthn cloned", res, err)
}

// RenameWebAuthnCredential sets the name of the user's credential.
func (db *DB) RenameWebAuthnCredential(ctx context.Context, userID, id int64, name string) error {
	res, err := db.execer(ctx).ExecContext(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	return oneRow("rename webauthn credential", res, err)
}

// DeleteWebAuthnCredential removes the user's credential and bumps the user's credentials
// version, in one transaction.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("delete webauthn credential: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, userID)
	if err := oneRow("delete webauthn credential", res, err); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET updated_at = ?, credentials_version = credentials_version + 1 WHERE id = ?`,
		tx.now.UnixNano(), userID)
	if err != nil {
		return fmt.Errorf("delete webauthn credential: %w", err)
	}
	return wrap("delete webauthn credential", tx.Commit())
}

// DeleteExpiredWebAuthn removes the ceremonies that expired before before.
func (db *DB) DeleteExpiredWebAuthn(ctx context.Context, before time.Time) error {
	_, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, before.UnixNano())
	return wrap("delete expired webauthn", err)
}

// oneRow turns an UPDATE or DELETE of one credential into errKeyNotFound when it matched none.
func oneRow(op string, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	} else if n == 0 {
		return errKeyNotFound
	}
	return nil
}
