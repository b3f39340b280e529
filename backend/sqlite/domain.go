package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/backend"
)

// Forward-auth: the domains applications protect (app_domains) and the page a login returns
// to (login_returns). Migration 0014.

// appDomains fills in the protected domains of apps, in the order they were given.
func appDomains(ctx context.Context, q rowQueryer, apps []*backend.App) error {
	for _, a := range apps {
		rows, err := q.QueryContext(ctx, `SELECT domain FROM app_domains WHERE app_id = ? ORDER BY position`, a.ID)
		if err != nil {
			return err
		}
		a.Domains = []string{}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return err
			}
			a.Domains = append(a.Domains, d)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// putDomains replaces the application's protected domains with domains. ECONFLICT, naming the
// other application, for a domain another one protects.
func putDomains(ctx context.Context, tx *Tx, appID int64, domains []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_domains WHERE app_id = ?`, appID); err != nil {
		return err
	}
	for i, d := range domains {
		_, err := tx.ExecContext(ctx, `INSERT INTO app_domains (domain, app_id, position) VALUES (?, ?, ?)`, d, appID, i)
		if isUnique(err) {
			var other string
			if err := tx.QueryRowContext(ctx, `SELECT a.name FROM app_domains d JOIN apps a ON a.id = d.app_id WHERE d.domain = ?`, d).Scan(&other); err != nil {
				return err
			}
			return backend.Errorf(backend.ECONFLICT, "The protected domain %q is protected by %s already: a domain belongs to one application.", d, other)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// FindAppByDomain returns the application protecting the first of keys that is in
// app_domains; ENOTFOUND if none is. One indexed read (the primary key).
func (db *DB) FindAppByDomain(ctx context.Context, keys ...string) (*backend.App, error) {
	if len(keys) == 0 || len(keys) > 2 {
		return nil, errAppNotFound
	}
	second := keys[0]
	if len(keys) == 2 {
		second = keys[1]
	}
	var id int64
	err := db.querier(ctx).QueryRowContext(ctx, `SELECT app_id FROM app_domains WHERE domain IN (?1, ?2)
		ORDER BY domain = ?1 DESC LIMIT 1`, keys[0], second).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAppNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find app by domain: %w", err)
	}
	return db.FindAppByID(ctx, id)
}

// PutLoginReturn binds url to owner until expiresAt, replacing what owner had, and drops the
// rows that have expired.
func (db *DB) PutLoginReturn(ctx context.Context, owner, url string, expiresAt time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("put login return: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_returns WHERE expires_at <= ?`, tx.now.UnixNano()); err != nil {
		return fmt.Errorf("put login return: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_returns (owner_hash, url, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (owner_hash) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at`,
		owner, url, expiresAt.UnixNano()); err != nil {
		return fmt.Errorf("put login return: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put login return: %w", err)
	}
	return nil
}

// MoveLoginReturn moves from's URL, if any, to to.
func (db *DB) MoveLoginReturn(ctx context.Context, from, to string) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `UPDATE OR REPLACE login_returns SET owner_hash = ? WHERE owner_hash = ?`, to, from); err != nil {
		return fmt.Errorf("move login return: %w", err)
	}
	return nil
}

// TakeLoginReturn deletes owner's URL, if it has not expired by the transaction's time, and
// returns it ("" if there is none): one conditional DELETE … RETURNING, so two takes cannot
// both have it.
func (db *DB) TakeLoginReturn(ctx context.Context, owner string) (string, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return "", fmt.Errorf("take login return: %w", err)
	}
	defer tx.Rollback()
	var url string
	err = tx.QueryRowContext(ctx, `DELETE FROM login_returns WHERE owner_hash = ? AND expires_at > ? RETURNING url`,
		owner, tx.now.UnixNano()).Scan(&url)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("take login return: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("take login return: %w", err)
	}
	return url, nil
}
