package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

var errFlashExists = backend.Errorf(backend.ECONFLICT, "Flash exists.")

// PutFlash stores the status bar's notice for the browser holding the flash token with the hash,
// bound to the session with the token hash sessionHash ("" for a signed-out browser), expiring
// ttl after the transaction's time. ECONFLICT if the token hash is in use: the insert is
// conditional (ON CONFLICT DO NOTHING) rather than failing on the key, which would end an
// enclosing transaction.
func (db *DB) PutFlash(ctx context.Context, tokenHash, sessionHash, notice string, ttl time.Duration) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO flashes (token_hash, session_hash, notice, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`,
		tokenHash, sessionHash, text(notice), ns(db.now(ctx).Add(ttl)))
	if err != nil {
		return fmt.Errorf("put flash: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errFlashExists
	}
	return nil
}

// TakeFlash deletes the flash with the token hash, if it is bound to sessionHash and has not
// expired by the transaction's time, and returns its notice: one conditional DELETE …
// RETURNING, so of concurrent page views exactly one shows it (a second DELETE waits for the
// first's row lock and then finds the row gone). ok is false when there is none.
func (db *DB) TakeFlash(ctx context.Context, tokenHash, sessionHash string) (notice string, ok bool, err error) {
	err = db.conn(ctx).QueryRow(ctx, `
		DELETE FROM flashes WHERE token_hash = $1 AND session_hash = $2 AND expires_at > $3 RETURNING notice`,
		tokenHash, sessionHash, ns(db.now(ctx))).Scan(&notice)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("take flash: %w", err)
	}
	return notice, true, nil
}
