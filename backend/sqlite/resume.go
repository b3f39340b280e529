package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

// What a login resumes (login_resumes, migration 0016): one row per login, keyed by the token
// hash of its attempt and then of its session; an OpenID Connect request's ID or a protected
// page's URL.

// PutLoginResume binds r to owner until r.ExpiresAt, replacing what owner had, and drops the
// rows that have expired.
func (db *DB) PutLoginResume(ctx context.Context, owner string, r *backend.LoginResume) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("put login resume: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_resumes WHERE expires_at <= ?`, tx.now.UnixNano()); err != nil {
		return fmt.Errorf("put login resume: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_resumes (owner_hash, auth_request_id, url, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner_hash) DO UPDATE SET auth_request_id = excluded.auth_request_id, url = excluded.url,
		expires_at = excluded.expires_at`,
		owner, nullText(r.AuthRequestID), nullText(r.URL), r.ExpiresAt.UnixNano()); err != nil {
		return fmt.Errorf("put login resume: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put login resume: %w", err)
	}
	return nil
}

// nullText is s as stored where "" is NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MoveLoginResume moves from's row, if any, to to (replacing what to had).
func (db *DB) MoveLoginResume(ctx context.Context, from, to string) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `UPDATE OR REPLACE login_resumes SET owner_hash = ? WHERE owner_hash = ?`, to, from); err != nil {
		return fmt.Errorf("move login resume: %w", err)
	}
	return nil
}

const resumeColumns = `COALESCE(auth_request_id, ''), COALESCE(url, ''), expires_at`

func scanResume(row *sql.Row) (*backend.LoginResume, error) {
	var r backend.LoginResume
	var exp int64
	if err := row.Scan(&r.AuthRequestID, &r.URL, &exp); err != nil {
		return nil, err
	}
	r.ExpiresAt = time.Unix(0, exp).UTC()
	return &r, nil
}

// FindLoginResume returns owner's row, unexpired; ENOTFOUND if none.
func (db *DB) FindLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	r, err := scanResume(db.querier(ctx).QueryRowContext(ctx, `SELECT `+resumeColumns+` FROM login_resumes
		WHERE owner_hash = ? AND expires_at > ?`, owner, db.now(ctx).UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENOTFOUND, "The login resumes nothing.")
	} else if err != nil {
		return nil, fmt.Errorf("find login resume: %w", err)
	}
	return r, nil
}

// TakeLoginResume deletes owner's row, if it has not expired by the transaction's time, and
// returns it (nil if there is none): one conditional DELETE … RETURNING, so two takes cannot
// both have it.
func (db *DB) TakeLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("take login resume: %w", err)
	}
	defer tx.Rollback()
	r, err := scanResume(tx.QueryRowContext(ctx, `DELETE FROM login_resumes WHERE owner_hash = ? AND expires_at > ?
		RETURNING `+resumeColumns, owner, tx.now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("take login resume: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("take login resume: %w", err)
	}
	return r, nil
}
