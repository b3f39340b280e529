package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// What a login resumes (login_resumes, migration 0008): one row per login, keyed by the token
// hash of its attempt and then of its session; an OpenID Connect request's ID or a protected
// page's URL.

// PutLoginResume binds r to owner until r.ExpiresAt, replacing what owner had, and drops the
// rows that have expired.
func (db *DB) PutLoginResume(ctx context.Context, owner string, r *backend.LoginResume) error {
	if !storable(r.URL) || !storable(r.AuthRequestID) || !storable(owner) {
		return backend.Errorf(backend.EINVALID, "The address to return to holds invalid characters.")
	}
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_resumes WHERE expires_at <= $1`, ns(tx.now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO login_resumes (owner_hash, auth_request_id, url, expires_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (owner_hash) DO UPDATE SET auth_request_id = excluded.auth_request_id, url = excluded.url,
			expires_at = excluded.expires_at`, owner, nullText(r.AuthRequestID), nullText(r.URL), ns(r.ExpiresAt))
		return err
	})
	return wrap("put login resume", err)
}

// nullText is s as stored where "" is NULL.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MoveLoginResume moves from's row, if any, to to (replacing what to had): one statement, which
// deletes from's row and inserts what it held as to's, over to's if there is one. Inside an
// Atomically transaction that has begun (a login step's), nothing waits for its answer: it is
// queued (Tx.laterPart) and goes with the transaction's next statement or its COMMIT.
func (db *DB) MoveLoginResume(ctx context.Context, from, to string) error {
	if tx, ok := joined(ctx); ok && tx.Tx != nil {
		tx.laterPart(func(br pgx.BatchResults) error {
			_, err := br.Exec()
			return wrap("move login resume", err)
		}, moveLoginResume, to, from)
		return nil
	}
	_, err := db.conn(ctx).Exec(ctx, moveLoginResume.sql(), to, from)
	return wrap("move login resume", unreachable(err))
}

// moveLoginResume is MoveLoginResume's statement.
var moveLoginResume = &foldPart{
	ctes: `{p}taken AS (DELETE FROM login_resumes WHERE owner_hash = $2 RETURNING auth_request_id, url, expires_at),
		{p}given AS (
			INSERT INTO login_resumes (owner_hash, auth_request_id, url, expires_at)
			SELECT $1::text, auth_request_id, url, expires_at FROM {p}taken
			ON CONFLICT (owner_hash) DO UPDATE SET auth_request_id = excluded.auth_request_id, url = excluded.url,
				expires_at = excluded.expires_at
		)`,
	tables: []string{"login_resumes"},
}

const resumeColumns = `COALESCE(auth_request_id, ''), COALESCE(url, ''), expires_at`

func scanResume(row pgx.Row) (*backend.LoginResume, error) {
	var r backend.LoginResume
	var exp int64
	if err := row.Scan(&r.AuthRequestID, &r.URL, &exp); err != nil {
		return nil, err
	}
	r.ExpiresAt = fromNS(&exp)
	return &r, nil
}

// FindLoginResume returns owner's row, unexpired; ENOTFOUND if none.
func (db *DB) FindLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	errNone := backend.Errorf(backend.ENOTFOUND, "The login resumes nothing.")
	if !storable(owner) {
		return nil, errNone
	}
	r, err := scanResume(db.conn(ctx).QueryRow(ctx, `SELECT `+resumeColumns+` FROM login_resumes
		WHERE owner_hash = $1 AND expires_at > $2`, owner, ns(db.now(ctx))))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNone
	} else if err != nil {
		return nil, fmt.Errorf("find login resume: %w", unreachable(err))
	}
	return r, nil
}

// TakeLoginResume deletes owner's row, if it has not expired by the transaction's time, and
// returns it (nil if there is none): one conditional DELETE … RETURNING, so two takes cannot
// both have it.
func (db *DB) TakeLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	if !storable(owner) {
		return nil, nil
	}
	r, err := scanResume(db.conn(ctx).QueryRow(ctx, `DELETE FROM login_resumes WHERE owner_hash = $1 AND expires_at > $2
		RETURNING `+resumeColumns, owner, ns(db.now(ctx))))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("take login resume: %w", unreachable(err))
	}
	return r, nil
}
