package postgres

import (
	"context"
	"fmt"
	"time"
)

// AddSetupLink stores the hash of a new first-administrator link, expiring ttl after the
// transaction's time, beside the live links other servers printed. Under the administrators
// lock (the links are for the first one), so servers adding at once take turns and each trims
// what the others committed: the DELETE, which sees the table as it was before the INSERT of
// the same statement, keeps the newest keep-1 of the others and drops the expired ones.
func (db *DB) AddSetupLink(ctx context.Context, tokenHash string, ttl time.Duration, keep int) (time.Time, error) {
	var expires time.Time
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		expires = tx.now.Add(ttl)
		_, err := tx.Exec(ctx, `
			WITH added AS (INSERT INTO setup_link (token_hash, expires_at) VALUES ($1, $2) RETURNING token_hash)
			DELETE FROM setup_link WHERE expires_at <= $3 OR token_hash IN (
				SELECT token_hash FROM setup_link ORDER BY expires_at DESC, token_hash OFFSET $4)`,
			tokenHash, ns(expires), ns(tx.now), max(keep, 1)-1)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("add setup link: %w", err)
	}
	return expires, nil
}

// SetupLinkValid reports whether the link with the token hash is a live one.
func (db *DB) SetupLinkValid(ctx context.Context, tokenHash string) (bool, error) {
	var ok bool
	err := db.conn(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM setup_link WHERE token_hash = $1 AND expires_at > $2)`,
		tokenHash, ns(db.now(ctx))).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("setup link: %w", err)
	}
	return ok, nil
}

// UseSetupLink deletes the link with the token hash, only if it has not expired by the
// transaction's time, with one conditional DELETE: of concurrent callers with the live link,
// the first deletes it and the others, once it commits, find nothing.
func (db *DB) UseSetupLink(ctx context.Context, tokenHash string) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM setup_link WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, ns(db.now(ctx)))
	if err != nil {
		return false, fmt.Errorf("use setup link: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteSetupLinks deletes every first-administrator link.
func (db *DB) DeleteSetupLinks(ctx context.Context) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM setup_link`); err != nil {
		return fmt.Errorf("delete setup links: %w", err)
	}
	return nil
}
