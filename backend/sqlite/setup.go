package sqlite

import (
	"context"
	"fmt"
	"time"
)

// AddSetupLink stores the hash of a new first-administrator link, expiring ttl after the
// transaction's time, beside the live links other servers printed: it drops the expired ones
// and keeps the newest keep-1 of the others, so there are at most keep.
func (db *DB) AddSetupLink(ctx context.Context, tokenHash string, ttl time.Duration, keep int) (time.Time, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("add setup link: %w", err)
	}
	defer tx.Rollback()
	expires := tx.now.Add(ttl)
	if _, err := tx.ExecContext(ctx, `DELETE FROM setup_link WHERE expires_at <= ? OR token_hash NOT IN (
		SELECT token_hash FROM setup_link ORDER BY expires_at DESC, token_hash LIMIT ?)`,
		tx.now.UnixNano(), max(keep, 1)-1); err != nil {
		return time.Time{}, fmt.Errorf("add setup link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO setup_link (token_hash, expires_at) VALUES (?, ?)`,
		tokenHash, expires.UnixNano()); err != nil {
		return time.Time{}, fmt.Errorf("add setup link: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return time.Time{}, fmt.Errorf("add setup link: %w", err)
	}
	return expires, nil
}

// DeleteSetupLinks deletes every first-administrator link.
func (db *DB) DeleteSetupLinks(ctx context.Context) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM setup_link`); err != nil {
		return fmt.Errorf("delete setup links: %w", err)
	}
	return nil
}

// SetupLinkValid reports whether the link with the token hash is a live one.
func (db *DB) SetupLinkValid(ctx context.Context, tokenHash string) (bool, error) {
	var n int
	err := db.querier(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM setup_link WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, db.now(ctx).UnixNano()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("setup link: %w", err)
	}
	return n == 1, nil
}

// UseSetupLink deletes the link with the token hash, only if it has not expired by the
// transaction's time, with one conditional DELETE: of concurrent callers with the live link,
// exactly one uses it.
func (db *DB) UseSetupLink(ctx context.Context, tokenHash string) (bool, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM setup_link WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, db.now(ctx).UnixNano())
	if err != nil {
		return false, fmt.Errorf("use setup link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use setup link: %w", err)
	}
	return n == 1, nil
}
