package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

var errSheetNotFound = backend.Errorf(backend.ENOTFOUND, "No recovery codes are waiting to be saved.")

// PutRecoverySheet stores the sealed recovery codes owner received for the user, issued at the
// transaction's time and expiring ttl later. It replaces every earlier sheet of the user,
// whoever received it: the codes on those are void now. The user's row is locked first, so of
// two sheets put at once the second deletes the first and one is left. ENOTFOUND if there is
// no such user.
func (db *DB) PutRecoverySheet(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.RecoverySheet, error) {
	var p *backend.RecoverySheet
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if ok, err := lockUser(ctx, tx, userID); err != nil {
			return err
		} else if !ok {
			return errUserNotFound
		}
		p = &backend.RecoverySheet{Owner: owner, UserID: userID, Sealed: sealed, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_sheets WHERE user_id = $1 OR owner_hash = $2`, userID, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO recovery_sheets (owner_hash, user_id, codes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			owner, userID, sealed, ns(p.CreatedAt), ns(p.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, wrap("put recovery sheet", err)
	}
	return p, nil
}

// FindRecoverySheet returns the sheet owner received, expired or not; ENOTFOUND if there is
// none.
func (db *DB) FindRecoverySheet(ctx context.Context, owner string) (*backend.RecoverySheet, error) {
	p := backend.RecoverySheet{Owner: owner}
	var created, expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT user_id, codes, created_at, expires_at FROM recovery_sheets WHERE owner_hash = $1`, owner).
		Scan(&p.UserID, &p.Sealed, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSheetNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find recovery sheet: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = fromNS(&created), fromNS(&expires)
	return &p, nil
}

// MoveRecoverySheet gives the sheet owner received to newOwner, sealed anew (sealed), keeping
// its times, with one conditional UPDATE. It reports false, changing nothing, if owner has no
// sheet.
func (db *DB) MoveRecoverySheet(ctx context.Context, owner, newOwner string, sealed []byte) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE recovery_sheets SET owner_hash = $1, codes = $2 WHERE owner_hash = $3`,
		newOwner, sealed, owner)
	if err != nil {
		return false, fmt.Errorf("move recovery sheet: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteRecoverySheet removes the sheet owner received, and reports whether there was one, with
// one conditional DELETE: of concurrent callers, one.
func (db *DB) DeleteRecoverySheet(ctx context.Context, owner string) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM recovery_sheets WHERE owner_hash = $1`, owner)
	if err != nil {
		return false, fmt.Errorf("delete recovery sheet: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
