package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

var errSheetNotFound = backend.Errorf(backend.ENOTFOUND, "No recovery codes are waiting to be saved.")

// PutRecoverySheet stores the sealed recovery codes owner received for the user, issued at the
// transaction's time and expiring ttl later. It replaces every earlier sheet of the user,
// whoever received it: the codes on those are void now. ENOTFOUND if there is no such user.
func (db *DB) PutRecoverySheet(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.RecoverySheet, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("put recovery sheet: %w", err)
	}
	defer tx.Rollback()

	p := &backend.RecoverySheet{Owner: owner, UserID: userID, Sealed: sealed, CreatedAt: tx.now, ExpiresAt: tx.now.Add(ttl)}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_sheets WHERE user_id = ? OR owner_hash = ?`, userID, owner); err != nil {
		return nil, fmt.Errorf("put recovery sheet: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO recovery_sheets (owner_hash, user_id, codes, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		owner, userID, sealed, p.CreatedAt.UnixNano(), p.ExpiresAt.UnixNano())
	if isForeignKey(err) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, fmt.Errorf("put recovery sheet: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put recovery sheet: %w", err)
	}
	return p, nil
}

// FindRecoverySheet returns the sheet owner received, expired or not; ENOTFOUND if there is
// none.
func (db *DB) FindRecoverySheet(ctx context.Context, owner string) (*backend.RecoverySheet, error) {
	p := backend.RecoverySheet{Owner: owner}
	var created, expires sql.NullInt64
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT user_id, codes, created_at, expires_at FROM recovery_sheets WHERE owner_hash = ?`, owner).
		Scan(&p.UserID, &p.Sealed, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSheetNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find recovery sheet: %w", err)
	}
	p.CreatedAt, p.ExpiresAt = nullTime(created), nullTime(expires)
	return &p, nil
}

// MoveRecoverySheet gives the sheet owner received to newOwner, sealed anew (sealed), keeping
// its times, with one conditional UPDATE. It reports false, changing nothing, if owner has no
// sheet.
func (db *DB) MoveRecoverySheet(ctx context.Context, owner, newOwner string, sealed []byte) (bool, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `UPDATE recovery_sheets SET owner_hash = ?, codes = ? WHERE owner_hash = ?`,
		newOwner, sealed, owner)
	if err != nil {
		return false, fmt.Errorf("move recovery sheet: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("move recovery sheet: %w", err)
	}
	return n == 1, nil
}

// DeleteRecoverySheet removes the sheet owner received, if there is one.
func (db *DB) DeleteRecoverySheet(ctx context.Context, owner string) (bool, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM recovery_sheets WHERE owner_hash = ?`, owner)
	if err != nil {
		return false, fmt.Errorf("delete recovery sheet: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete recovery sheet: %w", err)
	}
	return n == 1, nil
}
