package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gatehouse/backend"
)

// Forward-auth: the domains applications protect (app_domains). What a login returns to is
// in resume.go. Migration 0014.

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
