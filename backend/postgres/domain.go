package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// Forward-auth: the domains applications protect (app_domains) and the page a login returns
// to (login_returns). Migration 0006.

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

// PutLoginReturn binds url to owner until expiresAt, replacing what owner had, and drops the
// rows that have expired.
func (db *DB) PutLoginReturn(ctx context.Context, owner, url string, expiresAt time.Time) error {
	if !storable(url) || !storable(owner) {
		return backend.Errorf(backend.EINVALID, "The address to return to holds invalid characters.")
	}
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_returns WHERE expires_at <= $1`, ns(tx.now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO login_returns (owner_hash, url, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (owner_hash) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at`, owner, url, ns(expiresAt))
		return err
	})
	return wrap("put login return", err)
}

// MoveLoginReturn moves from's URL, if any, to to (replacing what to had): one statement, which
// deletes from's row and inserts what it held as to's, over to's if there is one. Inside an
// Atomically transaction that has begun (a login step's), nothing waits for its answer: it is
// queued (Tx.laterPart) and goes with the transaction's next statement or its COMMIT.
func (db *DB) MoveLoginReturn(ctx context.Context, from, to string) error {
	if tx, ok := joined(ctx); ok && tx.Tx != nil {
		tx.laterPart(func(br pgx.BatchResults) error {
			_, err := br.Exec()
			return wrap("move login return", err)
		}, moveLoginReturn, to, from)
		return nil
	}
	_, err := db.conn(ctx).Exec(ctx, moveLoginReturn.sql(), to, from)
	return wrap("move login return", unreachable(err))
}

// moveLoginReturn is MoveLoginReturn's statement.
var moveLoginReturn = &foldPart{
	ctes: `{p}taken AS (DELETE FROM login_returns WHERE owner_hash = $2 RETURNING url, expires_at),
		{p}given AS (
			INSERT INTO login_returns (owner_hash, url, expires_at) SELECT $1::text, url, expires_at FROM {p}taken
			ON CONFLICT (owner_hash) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at
		)`,
	tables: []string{"login_returns"},
}

// TakeLoginReturn deletes owner's URL, if it has not expired by the transaction's time, and
// returns it ("" if there is none): one conditional DELETE … RETURNING, so two takes cannot
// both have it.
func (db *DB) TakeLoginReturn(ctx context.Context, owner string) (string, error) {
	if !storable(owner) {
		return "", nil
	}
	var url string
	err := db.conn(ctx).QueryRow(ctx, `DELETE FROM login_returns WHERE owner_hash = $1 AND expires_at > $2 RETURNING url`,
		owner, ns(db.now(ctx))).Scan(&url)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("take login return: %w", unreachable(err))
	}
	return url, nil
}
