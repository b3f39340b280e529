package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"gatehouse/backend"
)

// KeyCheck stores check as the database's server key check value unless it has one, and
// returns the one it has: one INSERT … ON CONFLICT DO UPDATE that changes nothing but makes
// RETURNING give the row there.
func (db *DB) KeyCheck(ctx context.Context, check []byte) ([]byte, error) {
	if len(check) == 0 {
		return nil, backend.Errorf(backend.EINVALID, "No key check value.")
	}
	var q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	} = db.writer
	if tx, ok := joined(ctx); ok {
		q = tx
	}
	var stored []byte
	err := q.QueryRowContext(ctx, `
		INSERT INTO settings (name, value) VALUES ('key_check', ?)
		ON CONFLICT (name) DO UPDATE SET value = settings.value
		RETURNING value`, check).Scan(&stored)
	if err != nil {
		return nil, fmt.Errorf("key check: %w", err)
	}
	return stored, nil
}
