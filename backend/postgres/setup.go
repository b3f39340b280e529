package postgres

import (
	"context"
	"fmt"
	"time"
)

// ReplaceSetupLink stores the hash of a new first-administrator link, expiring ttl after the
// transaction's time, and voids any earlier one: one upsert of the table's only row (its
// primary key is a constant), so two servers printing a link at once leave one link.
func (db *DB) ReplaceSetupLink(ctx context.Context, tokenHash string, ttl time.Duration) (time.Time, error) {
	expires := db.now(ctx).Add(ttl)
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO setup_link (one, token_hash, expires_at) VALUES (true, $1, $2)
		ON CONFLICT (one) DO UPDATE SET token_hash = excluded.token_hash, expires_at = excluded.expires_at`,
		tokenHash, ns(expires))
	if err != nil {
		return time.Time{}, fmt.Errorf("replace setup link: %w", err)
	}
	return expires, nil
}

// SetupLinkValid reports whether the link with the token hash is the live one.
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
