package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// Forward-auth: the domains applications protect (app_domains). What a login returns to is
// in resume.go. Migration 0006.

// appDomains fills in the protected domains of apps, in the order they were given.
func appDomains(ctx context.Context, q querier, apps []*backend.App) error {
	for _, a := range apps {
		rows, err := q.Query(ctx, `SELECT domain FROM app_domains WHERE app_id = $1 ORDER BY position`, a.ID)
		if err != nil {
			return err
		}
		ds, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		a.Domains = append([]string{}, ds...)
	}
	return nil
}

// putDomains replaces the application's protected domains with domains. ECONFLICT, naming the
// other application, for a domain another one protects: the insert is ON CONFLICT DO NOTHING,
// so a taken domain is an answer, not a failed statement that would end the transaction.
func putDomains(ctx context.Context, tx *Tx, appID int64, domains []string) error {
	if err := validAppText(domains...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM app_domains WHERE app_id = $1`, appID); err != nil {
		return err
	}
	for i, d := range domains {
		tag, err := tx.Exec(ctx, `INSERT INTO app_domains (domain, app_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, d, appID, i)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var other string
			if err := tx.QueryRow(ctx, `SELECT a.name FROM app_domains d JOIN apps a ON a.id = d.app_id WHERE d.domain = $1`, d).Scan(&other); err != nil {
				return err
			}
			return backend.Errorf(backend.ECONFLICT, "The protected domain %q is protected by %s already: a domain belongs to one application.", d, other)
		}
	}
	return nil
}

// FindAppByDomain returns the application protecting the first of keys that is in
// app_domains; ENOTFOUND if none is. One indexed read (the primary key), then the application.
func (db *DB) FindAppByDomain(ctx context.Context, keys ...string) (*backend.App, error) {
	if len(keys) == 0 || len(keys) > 2 || !storable(keys[0]) || !storable(keys[len(keys)-1]) {
		return nil, errAppNotFound
	}
	var a *backend.App
	err := db.readTx(ctx, func(tx *Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT app_id FROM app_domains WHERE domain = ANY($1) ORDER BY domain = $2 DESC LIMIT 1`,
			keys, keys[0]).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAppNotFound
		} else if err != nil {
			return err
		}
		a, err = findApp(ctx, tx, `id = $1`, "", id)
		return err
	})
	return a, wrap("find app by domain", err)
}
