package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gatehouse/backend"
)

var errAppNotFound = backend.Errorf(backend.ENOTFOUND, "Application not found.")

// appColumns are the columns scanApp reads, in order.
const appColumns = `id, client_id, name, public, secret_hash, audience, require_two_factor,
	backchannel_logout_uri, created_at, updated_at`

// scanApp reads the appColumns of one row; the redirect URIs are read by appURIs.
func scanApp(s scanner) (*backend.App, error) {
	var a backend.App
	var created, updated sql.NullInt64
	err := s.Scan(&a.ID, &a.ClientID, &a.Name, &a.Public, &a.SecretHash, &a.Audience, &a.RequireTwoFactor,
		&a.BackchannelLogoutURI, &created, &updated)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = nullTime(created), nullTime(updated)
	return &a, nil
}

// rowQueryer runs queries: a *Tx, or the reader pool.
type rowQueryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// findApp reads the application matching where (with its one argument) and its URIs, in q's
// snapshot; errAppNotFound if there is none.
func findApp(ctx context.Context, q rowQueryer, where string, arg any) (*backend.App, error) {
	a, err := scanApp(q.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
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
func appURIs(ctx context.Context, q rowQueryer, apps []*backend.App) error {
	for _, a := range apps {
		rows, err := q.QueryContext(ctx, `SELECT uri FROM app_uris WHERE app_id = ? AND kind = 'redirect' ORDER BY position`, a.ID)
		if err != nil {
			return err
		}
		a.RedirectURIs = []string{}
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			a.RedirectURIs = append(a.RedirectURIs, u)
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

// putRedirectURIs replaces the application's redirect URIs with uris.
func putRedirectURIs(ctx context.Context, tx *Tx, appID int64, uris []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_uris WHERE app_id = ? AND kind = 'redirect'`, appID); err != nil {
		return err
	}
	for i, u := range uris {
		_, err := tx.ExecContext(ctx, `INSERT INTO app_uris (app_id, kind, position, uri) VALUES (?, 'redirect', ?, ?)`, appID, i, u)
		if isUnique(err) {
			return backend.Errorf(backend.EINVALID, "The redirect URI %q is listed twice.", u)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// errAppNameTaken is the answer to a name in use, ignoring ASCII case.
func errAppNameTaken(name string) error {
	return backend.Errorf(backend.ECONFLICT, "There is already an application named %q.", name)
}

// CreateApp inserts a with its redirect URIs and domains and sets a.ID, a.CreatedAt and a.UpdatedAt.
// ECONFLICT when the name (NOCASE) or client ID is taken; EINVALID for an unknown audience.
func (db *DB) CreateApp(ctx context.Context, a *backend.App) error {
	if !a.Audience.Valid() {
		return backend.Errorf(backend.EINVALID, "Unknown audience %q.", a.Audience)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		INSERT INTO apps (client_id, name, public, secret_hash, audience, require_two_factor,
			backchannel_logout_uri, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ClientID, a.Name, a.Public, a.SecretHash, a.Audience, a.RequireTwoFactor,
		a.BackchannelLogoutURI, tx.now.UnixNano(), tx.now.UnixNano())
	if isUnique(err) {
		if _, ferr := findApp(ctx, tx, `client_id = ?`, a.ClientID); ferr == nil {
			return backend.Errorf(backend.ECONFLICT, "The client ID %q is taken.", a.ClientID)
		}
		return errAppNameTaken(a.Name)
	} else if err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	if err := putRedirectURIs(ctx, tx, id, a.RedirectURIs); err != nil {
		return wrap("create app", err)
	}
	if err := putDomains(ctx, tx, id, a.Domains); err != nil {
		return wrap("create app", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	a.ID, a.CreatedAt, a.UpdatedAt = id, tx.now, tx.now
	return nil
}

// readApp reads one application in one snapshot (the row and its URIs): the Atomically
// transaction ctx carries, or a read transaction of its own.
func (db *DB) readApp(ctx context.Context, op, where string, arg any) (*backend.App, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	a, err := findApp(ctx, tx, where, arg)
	return a, wrap(op, err)
}

// FindAppByID returns the application; ENOTFOUND if there is none.
func (db *DB) FindAppByID(ctx context.Context, id int64) (*backend.App, error) {
	return db.readApp(ctx, "find app", `id = ?`, id)
}

// FindAppForUpdate reads the application inside the Atomically transaction ctx carries, which
// holds the database's write lock from its BEGIN (IMMEDIATE). ENOTFOUND if there is none; an
// error outside an Atomically transaction.
func (db *DB) FindAppForUpdate(ctx context.Context, id int64) (*backend.App, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, errors.New("find app for update: not inside Atomically")
	}
	a, err := findApp(ctx, tx, `id = ?`, id)
	return a, wrap("find app for update", err)
}

// FindAppByClientID returns the application with the client ID; ENOTFOUND if there is none.
func (db *DB) FindAppByClientID(ctx context.Context, clientID string) (*backend.App, error) {
	return db.readApp(ctx, "find app", `client_id = ?`, clientID)
}

// FindAppByName returns the application with the name, ignoring ASCII case (the column's
// NOCASE); ENOTFOUND if there is none.
func (db *DB) FindAppByName(ctx context.Context, name string) (*backend.App, error) {
	return db.readApp(ctx, "find app", `name = ?`, name)
}

// FindApps returns one page of the applications, ordered by name, and the number of all.
func (db *DB) FindApps(ctx context.Context, f backend.AppFilter) ([]*backend.App, int, error) {
	offset, limit := page(f.Offset, f.Limit)
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apps`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY name, id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	apps := []*backend.App{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("find apps: %w", err)
		}
		apps = append(apps, a)
	}
	if err := rows.Close(); err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	if err := appURIs(ctx, tx, apps); err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	if err := appDomains(ctx, tx, apps); err != nil {
		return nil, 0, fmt.Errorf("find apps: %w", err)
	}
	return apps, total, nil
}

// UpdateApp applies upd and returns the updated application. ENOTFOUND if there is none;
// ECONFLICT if the new name is taken; EINVALID for an unknown audience.
func (db *DB) UpdateApp(ctx context.Context, id int64, upd backend.AppUpdate) (*backend.App, error) {
	if upd.Audience != nil && !upd.Audience.Valid() {
		return nil, backend.Errorf(backend.EINVALID, "Unknown audience %q.", *upd.Audience)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("update app: %w", err)
	}
	defer tx.Rollback()
	// COALESCE keeps a column whose field is nil (NULL).
	res, err := tx.ExecContext(ctx, `
		UPDATE apps SET name = COALESCE(?, name), secret_hash = COALESCE(?, secret_hash),
			audience = COALESCE(?, audience), require_two_factor = COALESCE(?, require_two_factor),
			backchannel_logout_uri = COALESCE(?, backchannel_logout_uri), updated_at = ?
		WHERE id = ?`,
		upd.Name, upd.SecretHash, upd.Audience, upd.RequireTwoFactor, upd.BackchannelLogoutURI, tx.now.UnixNano(), id)
	if isUnique(err) {
		return nil, errAppNameTaken(*upd.Name)
	} else if err != nil {
		return nil, fmt.Errorf("update app: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("update app: %w", err)
	} else if n == 0 {
		return nil, errAppNotFound
	}
	if upd.RedirectURIs != nil {
		if err := putRedirectURIs(ctx, tx, id, *upd.RedirectURIs); err != nil {
			return nil, wrap("update app", err)
		}
	}
	if upd.Domains != nil {
		if err := putDomains(ctx, tx, id, *upd.Domains); err != nil {
			return nil, wrap("update app", err)
		}
	}
	a, err := findApp(ctx, tx, `id = ?`, id)
	if err != nil {
		return nil, wrap("update app", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update app: %w", err)
	}
	return a, nil
}

// DeleteApp removes the application; its URIs go with it (ON DELETE CASCADE). ENOTFOUND if
// there is none.
func (db *DB) DeleteApp(ctx context.Context, id int64) error {
	res, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM apps WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete app: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete app: %w", err)
	} else if n == 0 {
		return errAppNotFound
	}
	return nil
}
