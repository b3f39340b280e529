package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// The OpenID Connect provider's tables (0004_oidc.sql), as backend/sqlite's oidc.go. Every
// use-once decision is one conditional UPDATE: at READ COMMITTED a second UPDATE of the same
// row waits for the first to commit, re-reads the row and finds the condition false.

var (
	errAuthRequestNotFound = backend.Errorf(backend.ENOTFOUND, "Authorization request not found.")
	errTokenNotFound       = backend.Errorf(backend.ENOTFOUND, "Token not found.")
)

const authRequestColumns = `id, app_id, client_id, redirect_uri, state, nonce, scopes, response_type, response_mode,
	code_challenge, owner_hash, COALESCE(user_id, 0), sid, amr, auth_time, done, code_hash IS NOT NULL,
	code_used_at IS NOT NULL, created_at, expires_at, prompt, max_age, family_id`

func scanAuthRequest(row pgx.Row) (*backend.AuthRequest, error) {
	var r backend.AuthRequest
	var scopes, amr string
	var authTime, maxAge *int64
	var created, expires int64
	var prompt string
	err := row.Scan(&r.ID, &r.AppID, &r.ClientID, &r.RedirectURI, &r.State, &r.Nonce, &scopes, &r.ResponseType, &r.ResponseMode,
		&r.CodeChallenge, &r.OwnerHash, &r.UserID, &r.SID, &amr, &authTime, &r.Done, &r.CodeIssued, &r.CodeUsed, &created, &expires,
		&prompt, &maxAge, &r.FamilyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAuthRequestNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find auth request: %w", err)
	}
	r.Scopes, r.AMR = fields(scopes), fields(amr)
	r.AuthTime, r.CreatedAt, r.ExpiresAt = fromNS(authTime), fromNS(&created), fromNS(&expires)
	r.Prompt, r.MaxAge = fields(prompt), -1
	if maxAge != nil {
		r.MaxAge = time.Duration(*maxAge) * time.Second
	}
	return &r, nil
}

// maxAgeValue stores a request's max_age as whole seconds, NULL for none.
func maxAgeValue(d time.Duration) *int64 {
	if d < 0 {
		return nil
	}
	v := int64(d / time.Second)
	return &v
}

func join(v []string) string { return strings.Join(v, " ") }

// fields is the list join stored, nil for none.
func fields(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// CreateAuthRequest stores r and sets r.CreatedAt, dropping the application's expired requests
// first, and refuses (ETOOMANY) when it has maxPending requests waiting (not complete; a login waiting for one holds it in login_resumes). The
// application's row is locked (FOR NO KEY UPDATE, which the requests' foreign key checks do
// not wait for) so that concurrent requests to one application count, delete and insert one
// at a time; deleting only that application's rows under its lock keeps two applications'
// requests from deadlocking on each other's expired rows. ENOTFOUND if its application is
// gone.
func (db *DB) CreateAuthRequest(ctx context.Context, r *backend.AuthRequest, maxPending int) error {
	for _, v := range []string{r.ID, r.ClientID, r.RedirectURI, r.State, r.Nonce, join(r.Scopes), r.ResponseType, r.ResponseMode,
		r.CodeChallenge, join(r.Prompt)} {
		if !storable(v) {
			return backend.Errorf(backend.EINVALID, "An authorization parameter holds invalid characters.")
		}
	}
	var created time.Time
	err := db.inTx(ctx, true, func(tx *Tx) error {
		now := ns(tx.now)
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, r.AppID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAppNotFound
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE app_id = $1 AND expires_at <= $2`, r.AppID, now); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM oidc_auth_requests
			WHERE app_id = $1 AND owner_hash = '' AND NOT done AND expires_at > $2 LIMIT $3) AS waiting`, r.AppID, now, maxPending).Scan(&n); err != nil {
			return err
		}
		if n >= maxPending {
			return backend.Errorf(backend.ETOOMANY, "Too many authorization requests are waiting.")
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO oidc_auth_requests (id, app_id, client_id, redirect_uri, state, nonce, scopes, response_type,
				response_mode, code_challenge, prompt, max_age, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT DO NOTHING`,
			r.ID, r.AppID, r.ClientID, r.RedirectURI, r.State, r.Nonce, join(r.Scopes), r.ResponseType, r.ResponseMode,
			r.CodeChallenge, join(r.Prompt), maxAgeValue(r.MaxAge), now, ns(r.ExpiresAt))
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ECONFLICT, "Authorization request exists.")
		}
		created = tx.now
		return nil
	})
	if err != nil {
		return wrap("create auth request", err)
	}
	r.CreatedAt = created
	return nil
}

// FindAuthRequest returns the request, expired or not; ENOTFOUND if there is none.
func (db *DB) FindAuthRequest(ctx context.Context, id string) (*backend.AuthRequest, error) {
	if !storable(id) {
		return nil, errAuthRequestNotFound
	}
	return scanAuthRequest(db.conn(ctx).QueryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id))
}

// FindAuthRequestByCode returns the request whose code has the hash; ENOTFOUND if none.
func (db *DB) FindAuthRequestByCode(ctx context.Context, codeHash string) (*backend.AuthRequest, error) {
	return scanAuthRequest(db.conn(ctx).QueryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE code_hash = $1`, codeHash))
}

// CompleteAuthRequest marks the request done for r's session, once: one conditional UPDATE.
func (db *DB) CompleteAuthRequest(ctx context.Context, r *backend.AuthRequest) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE oidc_auth_requests SET done = true, owner_hash = $1, user_id = $2, sid = $3, amr = $4, auth_time = $5
		WHERE id = $6 AND NOT done AND expires_at > $7`,
		r.OwnerHash, r.UserID, r.SID, join(r.AMR), nullNS(r.AuthTime), r.ID, ns(db.now(ctx)))
	if err != nil {
		return false, fmt.Errorf("complete auth request: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SetAuthCode stores the code's hash on the complete request, once; the code lives
// backend.AuthCodeTTL from now at most.
func (db *DB) SetAuthCode(ctx context.Context, id, codeHash string) (bool, error) {
	now := db.now(ctx)
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE oidc_auth_requests SET code_hash = $1, expires_at = LEAST(expires_at, $2)
		WHERE id = $3 AND done AND code_hash IS NULL AND expires_at > $4`,
		codeHash, ns(now.Add(backend.AuthCodeTTL)), id, ns(now))
	if err != nil {
		return false, fmt.Errorf("set auth code: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ExchangeCode uses the code (one conditional UPDATE, RFC 6749 §4.1.2) and inserts the tokens
// in the same transaction: of concurrent exchanges of one code exactly one UPDATE changes the
// row, and only that one inserts tokens and keeps their family on the request. A loser that
// finds the code used revokes that family: it takes the request's row (FOR UPDATE) first, so
// the losers revoke one at a time.
func (db *DB) ExchangeCode(ctx context.Context, id string, tokens []*backend.OIDCToken) (ok, replayed bool, err error) {
	family := ""
	if len(tokens) > 0 {
		family = tokens[0].FamilyID
	}
	err = db.inTx(ctx, false, func(tx *Tx) error {
		ok, replayed = false, false
		tag, err := tx.Exec(ctx, `
			UPDATE oidc_auth_requests SET code_used_at = $1, family_id = $3
			WHERE id = $2 AND done AND code_hash IS NOT NULL AND code_used_at IS NULL AND expires_at > $1`,
			ns(tx.now), id, family)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			ok = true
			return insertTokens(ctx, tx, tokens)
		}
		var used *int64
		var fam string
		err = tx.QueryRow(ctx, `SELECT code_used_at, family_id FROM oidc_auth_requests WHERE id = $1 FOR UPDATE`, id).Scan(&used, &fam)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && used == nil) {
			return nil
		} else if err != nil {
			return err
		}
		replayed = true
		if fam == "" {
			return nil
		}
		_, err = tx.Exec(ctx, `DELETE FROM oidc_tokens WHERE family_id = $1`, fam)
		return err
	})
	if err != nil {
		return false, false, wrap("exchange code", err)
	}
	return ok, replayed, nil
}

func insertTokens(ctx context.Context, tx *Tx, tokens []*backend.OIDCToken) error {
	for _, t := range tokens {
		_, err := tx.Exec(ctx, `
			INSERT INTO oidc_tokens (token_hash, kind, family_id, app_id, client_id, user_id, session_hash, sid, scopes,
				amr, auth_time, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			t.Hash, t.Kind, t.FamilyID, t.AppID, t.ClientID, t.UserID, t.SessionHash, t.SID, join(t.Scopes),
			join(t.AMR), nullNS(t.AuthTime), ns(tx.now), ns(t.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		t.CreatedAt = tx.now
	}
	return nil
}

// RotateRefreshToken uses the refresh token (one conditional UPDATE) and inserts tokens in the
// same transaction; a token used before is a replay, and its family is revoked, committed.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, tokens []*backend.OIDCToken) (ok, replayed bool, err error) {
	err = db.inTx(ctx, false, func(tx *Tx) error {
		ok, replayed = false, false
		tag, err := tx.Exec(ctx, `
			UPDATE oidc_tokens SET used_at = $1 WHERE token_hash = $2 AND kind = 'refresh' AND used_at IS NULL AND expires_at > $1`,
			ns(tx.now), oldHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			ok = true
			return insertTokens(ctx, tx, tokens)
		}
		var family string
		var used *int64
		// Locked (FOR UPDATE): every replayer takes the old token's row before any other of
		// its family, as the rotation's UPDATE does, so they revoke the family one at a time
		// and never wait on each other's rows; a DELETE of the family while other
		// transactions queue on that row can otherwise deadlock. The next one finds the row
		// gone: the family is revoked already.
		err = tx.QueryRow(ctx, `SELECT family_id, used_at FROM oidc_tokens WHERE token_hash = $1 AND kind = 'refresh' FOR UPDATE`, oldHash).
			Scan(&family, &used)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && used == nil) {
			return nil
		} else if err != nil {
			return err
		}
		replayed = true
		_, err = tx.Exec(ctx, `DELETE FROM oidc_tokens WHERE family_id = $1`, family)
		return err
	})
	if err != nil {
		return false, false, wrap("rotate refresh token", err)
	}
	return ok, replayed, nil
}

// FindOIDCToken returns the token with the hash; ENOTFOUND if none.
func (db *DB) FindOIDCToken(ctx context.Context, hash string) (*backend.OIDCToken, error) {
	var t backend.OIDCToken
	var scopes, amr string
	var authTime, used *int64
	var created, expires int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT token_hash, kind, family_id, app_id, client_id, user_id, session_hash, sid, scopes, amr, auth_time, used_at,
			created_at, expires_at
		FROM oidc_tokens WHERE token_hash = $1`, hash).
		Scan(&t.Hash, &t.Kind, &t.FamilyID, &t.AppID, &t.ClientID, &t.UserID, &t.SessionHash, &t.SID, &scopes, &amr, &authTime, &used,
			&created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errTokenNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	t.Scopes, t.AMR = fields(scopes), fields(amr)
	t.AuthTime, t.UsedAt, t.CreatedAt, t.ExpiresAt = fromNS(authTime), fromNS(used), fromNS(&created), fromNS(&expires)
	return &t, nil
}

// RevokeOIDCFamily deletes every token of the family.
func (db *DB) RevokeOIDCFamily(ctx context.Context, familyID string) (int64, error) {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM oidc_tokens WHERE family_id = $1`, familyID)
	if err != nil {
		return 0, fmt.Errorf("revoke token family: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PutSigningKey stores k as the current key: with first only if there is none (the insert is
// ON CONFLICT DO NOTHING on the one-current-key index, so of servers racing exactly one
// inserts), else retiring the current one in the same transaction.
func (db *DB) PutSigningKey(ctx context.Context, k *backend.SigningKey, first bool) (bool, error) {
	var ok bool
	err := db.inTx(ctx, false, func(tx *Tx) error {
		if !first {
			if _, err := tx.Exec(ctx, `UPDATE oidc_signing_keys SET retired_at = $1 WHERE retired_at IS NULL`, ns(tx.now)); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO oidc_signing_keys (kid, alg, sealed, public_der, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, k.KID, k.Alg, k.Sealed, k.Public, ns(tx.now))
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() == 1
		k.CreatedAt = tx.now
		return nil
	})
	if err != nil {
		return false, wrap("put signing key", err)
	}
	return ok, nil
}

// SigningKeys returns every key, the current one first, then the retired ones newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*backend.SigningKey, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT kid, alg, sealed, public_der, created_at, retired_at FROM oidc_signing_keys
		ORDER BY retired_at IS NOT NULL, COALESCE(retired_at, 0) DESC, created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	var out []*backend.SigningKey
	for rows.Next() {
		var k backend.SigningKey
		var created int64
		var retired *int64
		if err := rows.Scan(&k.KID, &k.Alg, &k.Sealed, &k.Public, &created, &retired); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		k.CreatedAt, k.RetiredAt = fromNS(&created), fromNS(retired)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// DeleteExpiredOIDC removes expired requests and tokens, tokens whose session is gone, and keys
// retired before keysBefore.
func (db *DB) DeleteExpiredOIDC(ctx context.Context, before, keysBefore time.Time) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM oidc_auth_requests WHERE expires_at < $1`, []any{ns(before)}},
			{`DELETE FROM oidc_tokens WHERE expires_at < $1`, []any{ns(before)}},
			{`DELETE FROM oidc_tokens t WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE token_hash = t.session_hash)`, nil},
			{`DELETE FROM oidc_signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1`, []any{ns(keysBefore)}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("delete expired oidc", err)
}
