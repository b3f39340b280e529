package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

var errAppNotFound = backend.Errorf(backend.ENOTFOUND, "Application not found.")

// appColumns are the columns scanApp reads, in order.
const appColumns = `id, client_id, name, public, secret_hash, audience, require_two_factor,
	backchannel_logout_uri, created_at, updated_at`

// scanApp reads the appColumns of one row; the redirect URIs are read by appURIs.
func scanApp(row pgx.Row) (*backend.App, error) {
	var a backend.App
	var audience string
	var created, updated int64
	err := row.Scan(&a.ID, &a.ClientID, &a.Name, &a.Public, &a.SecretHash, &audience, &a.RequireTwoFactor,
		&a.BackchannelLogoutURI, &created, &updated)
	if err != nil {
		return nil, err
	}
	a.Audience = backend.AppAudience(audience)
	a.CreatedAt, a.UpdatedAt = fromNS(&created), fromNS(&updated)
	return &a, nil
}

// findApp reads the application matching where (with its one argument, and lock, "" or a
// locking clause) and its URIs; errAppNotFound if there is none.
func findApp(ctx context.Context, q querier, where, lock string, arg any) (*backend.App, error) {
	a, err := scanApp(q.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE `+where+lock, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAppNotFound
	} else if err != nil {
		return nil, err
	}
	if err := appURIs(ctx, q, []*backend.App{a}); err != nil {
		return nil, err
	}
	if err := appDomains(ctx, q, []*backend.App{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// appURIs fills in the redirect URIs of apps, in the order they were given.
func appURIs(ctx context.Context, q querier, apps []*backend.App) error {
	for _, a := range apps {
		rows, err := q.Query(ctx, `SELECT uri FROM app_uris WHERE app_id = $1 AND kind = 'redirect' ORDER BY position`, a.ID)
		if err != nil {
			return err
		}
		uris, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		a.RedirectURIs = append([]string{}, uris...)
	}
	return nil
}

// putRedirectURIs replaces the application's redirect URIs with uris. A URI given twice is
// stored once (ON CONFLICT DO NOTHING) rather than failing the statement, which would end an
// enclosing transaction: the Service refuses duplicates before.
func putRedirectURIs(ctx context.Context, tx *Tx, appID int64, uris []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM app_uris WHERE app_id = $1 AND kind = 'redirect'`, appID); err != nil {
		return err
	}
	for i, u := range uris {
		if _, err := tx.Exec(ctx, `INSERT INTO app_uris (app_id, kind, position, uri) VALUES ($1, 'redirect', $2, $3)
			ON CONFLICT DO NOTHING`, appID, i, u); err != nil {
			return err
		}
	}
	return nil
}

// validAppText checks what is stored as text: PostgreSQL refuses invalid UTF-8 and NUL, which
// the Service's own checks never let through.
func validAppText(ss ...string) error {
	for _, s := range ss {
		if !storable(s) {
			return backend.Errorf(backend.EINVALID, "An application's name or URI holds invalid characters.")
		}
	}
	return nil
}

func errAppNameTaken(name string) error {
	return backend.Errorf(backend.ECONFLICT, "There is already an application named %q.", name)
}

// CreateApp inserts a with its redirect URIs and domains and sets a.ID, a.CreatedAt and a.UpdatedAt.
// ECONFLICT when the name (ignoring ASCII case: the unique name_key) or the client ID is
// taken: the insert is ON CONFLICT DO NOTHING, so a taken name is an answer, not a failed
// statement that would end an enclosing transaction. EINVALID for an unknown audience.
func (db *DB) CreateApp(ctx context.Context, a *backend.App) error {
	if !a.Audience.Valid() {
		return backend.Errorf(backend.EINVALID, "Unknown audience %q.", a.Audience)
	}
	if err := validAppText(append([]string{a.Name, a.ClientID, a.BackchannelLogoutURI}, a.RedirectURIs...)...); err != nil {
		return err
	}
	var id int64
	var now time.Time
	err := db.inTx(ctx, false, func(tx *Tx) error {
		now = tx.now
		err := tx.QueryRow(ctx, `
			INSERT INTO apps (client_id, name, public, secret_hash, audience, require_two_factor,
				backchannel_logout_uri, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT DO NOTHING
			RETURNING id`,
			a.ClientID, a.Name, a.Public, a.SecretHash, string(a.Audience), a.RequireTwoFactor,
			a.BackchannelLogoutURI, ns(tx.now)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, ferr := findApp(ctx, tx, `client_id = $1`, "", a.ClientID); ferr == nil {
				return backend.Errorf(backend.ECONFLICT, "The client ID %q is taken.", a.ClientID)
			}
			return errAppNameTaken(a.Name)
		} else if err != nil {
			return err
		}
		if err := putRedirectURIs(ctx, tx, id, a.RedirectURIs); err != nil {
			return err
		}
		return putDomains(ctx, tx, id, a.Domains)
	})
	if err != nil {
		return wrap("create app", err)
	}
	a.ID, a.CreatedAt, a.UpdatedAt = id, now, now
	return nil
}

// readApp reads one application in one snapshot (the row and its URIs).
func (db *DB) readApp(ctx context.Context, op, where string, arg any) (*backend.App, error) {
	var a *backend.App
	err := db.readTx(ctx, func(tx *Tx) (err error) {
		a, err = findApp(ctx, tx, where, "", arg)
		return err
	})
	return a, wrap(op, err)
}

// FindAppByID returns the application; ENOTFOUND if there is none.
func (db *DB) FindAppByID(ctx context.Context, id int64) (*backend.App, error) {
	return db.readApp(ctx, "find app", `id = $1`, id)
}

// FindAppForUpdate reads the application inside the Atomically transaction ctx carries and
// locks its row (SELECT … FOR UPDATE) until that transaction ends: no other writer changes or
// deletes it meanwhile. ENOTFOUND if there is none; an error outside an Atomically transaction.
func (db *DB) FindAppForUpdate(ctx context.Context, id int64) (*backend.App, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, errors.New("find app for update: not inside Atomically")
	}
	a, err := findApp(ctx, tx, `id = $1`, ` FOR UPDATE`, id)
	return a, wrap("find app for update", err)
}

// FindAppByClientID returns the application with the client ID; ENOTFOUND if there is none.
func (db *DB) FindAppByClientID(ctx context.Context, clientID string) (*backend.App, error) {
	if !storable(clientID) {
		return nil, errAppNotFound
	}
	return db.readApp(ctx, "find app", `client_id = $1`, clientID)
}

// FindAppByName returns the application with the name, ignoring ASCII case (name_key);
// ENOTFOUND if there is none.
func (db *DB) FindAppByName(ctx context.Context, name string) (*backend.App, error) {
	if !storable(name) {
		return nil, errAppNotFound
	}
	return db.readApp(ctx, "find app", `name_key = lower($1 COLLATE "C")`, name)
}

// FindApps returns one page of the applications, ordered by name (ignoring ASCII case, as
// SQLite's NOCASE), and the number of all.
func (db *DB) FindApps(ctx context.Context, f backend.AppFilter) ([]*backend.App, int, error) {
	offset, limit := page(f.Offset, f.Limit)
	var apps []*backend.App
	var total int
	err := db.readTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM apps`).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+appColumns+` FROM apps ORDER BY name_key, id LIMIT $1 OFFSET $2`, limit, offset)
		if err != nil {
			return err
		}
		apps, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*backend.App, error) { return scanApp(row) })
		if err != nil {
			return err
		}
		if err := appURIs(ctx, tx, apps); err != nil {
			return err
		}
		return appDomains(ctx, tx, apps)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	if apps == nil {
		apps = []*backend.App{}
	}
	return apps, total, nil
}

// UpdateApp applies upd and returns the updated application. ENOTFOUND if there is none;
// ECONFLICT, changing nothing, if the new name is taken (the statement runs in a savepoint, so
// its unique violation does not end an enclosing transaction); EINVALID for an unknown audience.
func (db *DB) UpdateApp(ctx context.Context, id int64, upd backend.AppUpdate) (*backend.App, error) {
	if upd.Audience != nil && !upd.Audience.Valid() {
		return nil, backend.Errorf(backend.EINVALID, "Unknown audience %q.", *upd.Audience)
	}
	check := []string{}
	for _, s := range []*string{upd.Name, upd.BackchannelLogoutURI, upd.SecretHash} {
		if s != nil {
			check = append(check, *s)
		}
	}
	if upd.RedirectURIs != nil {
		check = append(check, *upd.RedirectURIs...)
	}
	if err := validAppText(check...); err != nil {
		return nil, err
	}
	var audience *string
	if upd.Audience != nil {
		s := string(*upd.Audience)
		audience = &s
	}
	var a *backend.App
	err := db.inTx(ctx, true, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE apps SET name = COALESCE($1, name), secret_hash = COALESCE($2, secret_hash),
				audience = COALESCE($3, audience), require_two_factor = COALESCE($4, require_two_factor),
				backchannel_logout_uri = COALESCE($5, backchannel_logout_uri), updated_at = $6
			WHERE id = $7`,
			upd.Name, upd.SecretHash, audience, upd.RequireTwoFactor, upd.BackchannelLogoutURI, ns(tx.now), id)
		if isUnique(err) {
			return errAppNameTaken(*upd.Name)
		} else if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return errAppNotFound
		}
		if upd.RedirectURIs != nil {
			if err := putRedirectURIs(ctx, tx, id, *upd.RedirectURIs); err != nil {
				return err
			}
		}
		if upd.Domains != nil {
			if err := putDomains(ctx, tx, id, *upd.Domains); err != nil {
				return err
			}
		}
		a, err = findApp(ctx, tx, `id = $1`, "", id)
		return err
	})
	if err != nil {
		return nil, wrap("update app", err)
	}
	return a, nil
}

// DeleteApp removes the application; its URIs go with it (ON DELETE CASCADE). ENOTFOUND if
// there is none.
func (db *DB) DeleteApp(ctx context.Context, id int64) error {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete app: %w", err)
	} else if tag.RowsAffected() == 0 {
		return errAppNotFound
	}
	return nil
}
