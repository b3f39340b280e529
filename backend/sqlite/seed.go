package sqlite

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// SeedUsers inserts users in one transaction (or joins the Atomically one ctx carries), all
// with the same password hash: test and benchmark data in bulk for backend.Service.SeedUsers
// (100,000 users in seconds, where CreateUser commits, and syncs, once per user). No audit
// event is written here: the Service writes one for them all. ECONFLICT, inserting none, if a
// username is taken.
func (db *DB) SeedUsers(ctx context.Context, users []*backend.User, passwordHash string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO users (username, display_name, email, role, password_hash, disabled,
			two_factor_required, method, sms_phone, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, NULLIF(?, ''), 0, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	defer stmt.Close()
	for _, u := range users {
		if u.Method == "" {
			u.Method = backend.MethodNone
		}
		if !u.Role.Valid() || !validMethod(u.Method) {
			return backend.Errorf(backend.EINVALID, "Seed user %q: unknown role or method.", u.Username)
		}
		res, err := stmt.ExecContext(ctx, u.Username, u.DisplayName, u.Email, u.Role, passwordHash,
			u.TwoFactorRequired, u.Method, u.SMSPhone, tx.now.UnixNano(), tx.now.UnixNano())
		if isUnique(err) {
			return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
		} else if err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	return nil
}
