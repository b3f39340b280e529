package postgres

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// KeyCheck stores check as the database's server key check value unless it has one, and
// returns the one it has: one INSERT … ON CONFLICT DO UPDATE that changes nothing but makes
// RETURNING give the row there, also when another server inserted it a moment ago (DO
// NOTHING would wait for that insert and then return no row: the statement's snapshot
// predates it).
func (db *DB) KeyCheck(ctx context.Context, check []byte) ([]byte, error) {
	if len(check) == 0 {
		return nil, backend.Errorf(backend.EINVALID, "No key check value.")
	}
	var stored []byte
	err := db.conn(ctx).QueryRow(ctx, `
		INSERT INTO settings (name, value) VALUES ('key_check', $1)
		ON CONFLICT (name) DO UPDATE SET value = settings.value
		RETURNING value`, check).Scan(&stored)
	if err != nil {
		return nil, fmt.Errorf("key check: %w", err)
	}
	return stored, nil
}
