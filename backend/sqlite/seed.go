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
// username is taken: within an Atomically transaction too, whose other writes stay (the
// inserts are under a savepoint, rolled back to on a refusal).
func (db *DB) SeedUsers(ctx context.Context, users []*backend.User, passwordHash string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SAVEPOINT seed_users`); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if err := db.seedUsers(ctx, tx, users, passwordHash); err != nil {
		if _, err2 := tx.ExecContext(ctx, `ROLLBACK TO seed_users`); err2 != nil {
			return fmt.Errorf("seed users: %w (and rolling back: %w)", err, err2)
		}
		tx.ExecContext(ctx, `RELEASE seed_users`)
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE seed_users`); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	return nil
}

// seedUsers inserts users in tx.
func (db *DB) seedUsers(ctx context.Context, tx *Tx, users []*backend.User, passwordHash string) error {
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
	return nil
}
