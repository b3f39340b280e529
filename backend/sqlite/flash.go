package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

var errFlashExists = backend.Errorf(backend.ECONFLICT, "Flash exists.")

// PutFlash stores the status bar's notice for the browser holding the flash token with the hash,
// bound to the session with the token hash sessionHash ("" for a signed-out browser), expiring
// ttl after the transaction's time. ECONFLICT if the token hash is in use.
func (db *DB) PutFlash(ctx context.Context, tokenHash, sessionHash, notice string, ttl time.Duration) error {
	now := db.now(ctx)
	_, err := db.execer(ctx).ExecContext(ctx, `
		INSERT INTO flashes (token_hash, session_hash, notice, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, sessionHash, notice, now.Add(ttl).UnixNano())
	if isUnique(err) {
		return errFlashExists
	} else if err != nil {
		return fmt.Errorf("put flash: %w", err)
	}
	return nil
}

// TakeFlash deletes the flash with the token hash, if it is bound to sessionHash and has not
// expired by the transaction's time, and returns its notice: one conditional DELETE … RETURNING,
// so of concurrent page views exactly one shows it. ok is false when there is none.
func (db *DB) TakeFlash(ctx context.Context, tokenHash, sessionHash string) (notice string, ok bool, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return "", false, fmt.Errorf("take flash: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `
		DELETE FROM flashes WHERE token_hash = ? AND session_hash = ? AND expires_at > ? RETURNING notice`,
		tokenHash, sessionHash, tx.now.UnixNano()).Scan(&notice)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("take flash: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", false, fmt.Errorf("take flash: %w", err)
	}
	return notice, true, nil
}
