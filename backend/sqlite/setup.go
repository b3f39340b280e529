package sqlite

import (
	"context"
	"fmt"
	"time"
)

// ReplaceSetupLink stores the hash of a new first-administrator link, expiring ttl after the
// transaction's time, and voids any earlier one.
func (db *DB) ReplaceSetupLink(ctx context.Context, tokenHash string, ttl time.Duration) (time.Time, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("replace setup link: %w", err)
	}
	defer tx.Rollback()
	expires := tx.now.Add(ttl)
	if _, err := tx.ExecContext(ctx, `DELETE FROM setup_link`); err != nil {
		return time.Time{}, fmt.Errorf("replace setup link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO setup_link (token_hash, expires_at) VALUES (?, ?)`,
		tokenHash, expires.UnixNano()); err != nil {
		return time.Time{}, fmt.Errorf("replace setup link: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return time.Time{}, fmt.Errorf("replace setup link: %w", err)
	}
	return expires, nil
}

// SetupLinkValid reports whether the link with the token hash is the live one.
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
