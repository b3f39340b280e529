package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/backend"
)

// The OpenID Connect provider's tables (0012_oidc.sql): authorization requests, tokens (their
// hashes) and signing keys.

var (
	errAuthRequestNotFound = backend.Errorf(backend.ENOTFOUND, "Authorization request not found.")
	errTokenNotFound       = backend.Errorf(backend.ENOTFOUND, "Token not found.")
)

// amrText and amrList store a list of amr values (or scopes) as space-separated text.
func amrText(v []string) string { return strings.Join(v, " ") }
func amrList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

const authRequestColumns = `id, app_id, client_id, redirect_uri, state, nonce, scopes, response_type, response_mode,
	code_challenge, owner_hash, COALESCE(user_id, 0), sid, amr, auth_time, done, code_hash IS NOT NULL,
	code_used_at IS NOT NULL, created_at, expires_at, prompt, max_age, family_id`

func scanAuthRequest(s scanner) (*backend.AuthRequest, error) {
	var r backend.AuthRequest
	var scopes, amr string
	var authTime, created, expires, maxAge sql.NullInt64
	var prompt string
	err := s.Scan(&r.ID, &r.AppID, &r.ClientID, &r.RedirectURI, &r.State, &r.Nonce, &scopes, &r.ResponseType, &r.ResponseMode,
		&r.CodeChallenge, &r.OwnerHash, &r.UserID, &r.SID, &amr, &authTime, &r.Done, &r.CodeIssued, &r.CodeUsed, &created, &expires,
		&prompt, &maxAge, &r.FamilyID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAuthRequestNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find auth request: %w", err)
	}
	r.Scopes, r.AMR = amrList(scopes), amrList(amr)
	r.AuthTime, r.CreatedAt, r.ExpiresAt = nullTime(authTime), nullTime(created), nullTime(expires)
	r.Prompt, r.MaxAge = amrList(prompt), maxAgeOf(maxAge)
	return &r, nil
}

// maxAgeValue and maxAgeOf store a request's max_age as whole seconds, NULL for none.
func maxAgeValue(d time.Duration) any {
	if d < 0 {
		return nil
	}
	return int64(d / time.Second)
}

func maxAgeOf(v sql.NullInt64) time.Duration {
	if !v.Valid {
		return -1
	}
	return time.Duration(v.Int64) * time.Second
}

// CreateAuthRequest stores r and sets r.CreatedAt, dropping the application's expired requests first, and
// refuses (ETOOMANY) when r's application has maxPending requests waiting (not complete): under the
// write lock, so the count cannot change before the insert. ENOTFOUND if its application is
// gone.
func (db *DB) CreateAuthRequest(ctx context.Context, r *backend.AuthRequest, maxPending int) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	defer tx.Rollback()
	now := tx.now.UnixNano()
	if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE app_id = ? AND expires_at <= ?`, r.AppID, now); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM oidc_auth_requests
		WHERE app_id = ? AND owner_hash = '' AND done = 0 AND expires_at > ? LIMIT ?)`, r.AppID, now, maxPending).Scan(&n); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	if n >= maxPending {
		return backend.Errorf(backend.ETOOMANY, "Too many authorization requests are waiting.")
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO oidc_auth_requests (id, app_id, client_id, redirect_uri, state, nonce, scopes, response_type,
			response_mode, code_challenge, prompt, max_age, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AppID, r.ClientID, r.RedirectURI, r.State, r.Nonce, amrText(r.Scopes), r.ResponseType, r.ResponseMode,
		r.CodeChallenge, amrText(r.Prompt), maxAgeValue(r.MaxAge), now, r.ExpiresAt.UnixNano())
	switch {
	case isForeignKey(err):
		return errAppNotFound
	case isUnique(err):
		return backend.Errorf(backend.ECONFLICT, "Authorization request exists.")
	case err != nil:
		return fmt.Errorf("create auth request: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	r.CreatedAt = tx.now
	return nil
}

// FindAuthRequest returns the request, expired or not; ENOTFOUND if there is none.
func (db *DB) FindAuthRequest(ctx context.Context, id string) (*backend.AuthRequest, error) {
	return scanAuthRequest(db.querier(ctx).QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = ?`, id))
}

// FindAuthRequestByCode returns the request whose code has the hash; ENOTFOUND if none.
func (db *DB) FindAuthRequestByCode(ctx context.Context, codeHash string) (*backend.AuthRequest, error) {
	return scanAuthRequest(db.querier(ctx).QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE code_hash = ?`, codeHash))
}

// affectedOne reports whether a conditional write changed a row.
func affectedOne(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return n > 0, nil
}

// CompleteAuthRequest marks the request done for r's session, once: one conditional UPDATE.
func (db *DB) CompleteAuthRequest(ctx context.Context, r *backend.AuthRequest) (bool, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE oidc_auth_requests SET done = 1, owner_hash = ?, user_id = ?, sid = ?, amr = ?, auth_time = ?
		WHERE id = ? AND done = 0 AND expires_at > ?`,
		r.OwnerHash, r.UserID, r.SID, amrText(r.AMR), timeValue(r.AuthTime), r.ID, db.now(ctx).UnixNano())
	return affectedOne("complete auth request", res, err)
}

// SetAuthCode stores the code's hash on the complete request, once. The code lives
// backend.AuthCodeTTL from now at most.
func (db *DB) SetAuthCode(ctx context.Context, id, codeHash string) (bool, error) {
	now := db.now(ctx)
	res, err := db.execer(ctx).ExecContext(ctx, `
		UPDATE oidc_auth_requests SET code_hash = ?, expires_at = MIN(expires_at, ?)
		WHERE id = ? AND done = 1 AND code_hash IS NULL AND expires_at > ?`,
		codeHash, now.Add(backend.AuthCodeTTL).UnixNano(), id, now.UnixNano())
	if isUnique(err) {
		return false, nil
	}
	return affectedOne("set auth code", res, err)
}

// ExchangeCode uses the code (one conditional UPDATE: RFC 6749 §4.1.2, a code is used once)
// and inserts the tokens in the same transaction. The provider library reads the code, mints
// tokens and deletes the code only afterwards, so two requests with one code could both get
// tokens; here the UPDATE's "code_used_at IS NULL" decides, under the write lock, and the loser
// inserts nothing. The winner keeps its tokens' family on the request; a loser that finds the
// code used revokes that family (the code was used twice).
func (db *DB) ExchangeCode(ctx context.Context, id string, tokens []*backend.OIDCToken) (ok, replayed bool, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, false, fmt.Errorf("exchange code: %w", err)
	}
	defer tx.Rollback()
	family := ""
	if len(tokens) > 0 {
		family = tokens[0].FamilyID
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE oidc_auth_requests SET code_used_at = ?, family_id = ?
		WHERE id = ? AND done = 1 AND code_hash IS NOT NULL AND code_used_at IS NULL AND expires_at > ?`,
		tx.now.UnixNano(), family, id, tx.now.UnixNano())
	if ok, err = affectedOne("exchange code", res, err); err != nil {
		return false, false, err
	}
	if !ok {
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT code_used_at, family_id FROM oidc_auth_requests WHERE id = ?`, id).Scan(&used, &family)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !used.Valid) {
			return false, false, nil
		} else if err != nil {
			return false, false, fmt.Errorf("exchange code: %w", err)
		}
		if family != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE family_id = ?`, family); err != nil {
				return false, false, fmt.Errorf("revoke token family: %w", err)
			}
		}
		return false, true, wrap("exchange code", tx.Commit())
	}
	if err := insertTokens(ctx, tx, tokens); err != nil {
		return false, false, err
	}
	if err := tx.Commit(); err != nil {
		return false, false, fmt.Errorf("exchange code: %w", err)
	}
	return true, false, nil
}

func insertTokens(ctx context.Context, tx *Tx, tokens []*backend.OIDCToken) error {
	for _, t := range tokens {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO oidc_tokens (token_hash, kind, family_id, app_id, client_id, user_id, session_hash, sid, scopes,
				amr, auth_time, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.Hash, t.Kind, t.FamilyID, t.AppID, t.ClientID, t.UserID, t.SessionHash, t.SID, amrText(t.Scopes),
			amrText(t.AMR), timeValue(t.AuthTime), tx.now.UnixNano(), t.ExpiresAt.UnixNano())
		switch {
		case isForeignKey(err):
			return backend.Errorf(backend.ENOTFOUND, "The application or user of the token is gone.")
		case err != nil:
			return fmt.Errorf("insert token: %w", err)
		}
		t.CreatedAt = tx.now
	}
	return nil
}

// RotateRefreshToken uses the refresh token (one conditional UPDATE) and inserts tokens in
// the same transaction; a token used before is a replay, and its family is revoked, committed.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, tokens []*backend.OIDCToken) (ok, replayed bool, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, false, fmt.Errorf("rotate refresh token: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE oidc_tokens SET used_at = ? WHERE token_hash = ? AND kind = 'refresh' AND used_at IS NULL AND expires_at > ?`,
		tx.now.UnixNano(), oldHash, tx.now.UnixNano())
	if ok, err = affectedOne("rotate refresh token", res, err); err != nil {
		return false, false, err
	}
	if !ok {
		var family string
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT family_id, used_at FROM oidc_tokens WHERE token_hash = ? AND kind = 'refresh'`, oldHash).
			Scan(&family, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !used.Valid) {
			return false, false, nil
		} else if err != nil {
			return false, false, fmt.Errorf("rotate refresh token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE family_id = ?`, family); err != nil {
			return false, false, fmt.Errorf("revoke token family: %w", err)
		}
		return false, true, wrap("rotate refresh token", tx.Commit())
	}
	if err := insertTokens(ctx, tx, tokens); err != nil {
		return false, false, err
	}
	if err := tx.Commit(); err != nil {
		return false, false, fmt.Errorf("rotate refresh token: %w", err)
	}
	return true, false, nil
}

// FindOIDCToken returns the token with the hash; ENOTFOUND if none.
func (db *DB) FindOIDCToken(ctx context.Context, hash string) (*backend.OIDCToken, error) {
	var t backend.OIDCToken
	var scopes, amr string
	var authTime, used, created, expires sql.NullInt64
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT token_hash, kind, family_id, app_id, client_id, user_id, session_hash, sid, scopes, amr, auth_time, used_at,
			created_at, expires_at
		FROM oidc_tokens WHERE token_hash = ?`, hash).
		Scan(&t.Hash, &t.Kind, &t.FamilyID, &t.AppID, &t.ClientID, &t.UserID, &t.SessionHash, &t.SID, &scopes, &amr, &authTime, &used,
			&created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	t.Scopes, t.AMR = amrList(scopes), amrList(amr)
	t.AuthTime, t.UsedAt, t.CreatedAt, t.ExpiresAt = nullTime(authTime), nullTime(used), nullTime(created), nullTime(expires)
	return &t, nil
}

// RevokeOIDCFamily deletes every token of the family.
func (db *DB) RevokeOIDCFamily(ctx context.Context, familyID string) (int64, error) {
	res, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM oidc_tokens WHERE family_id = ?`, familyID)
	if err != nil {
		return 0, fmt.Errorf("revoke token family: %w", err)
	}
	return res.RowsAffected()
}

// PutSigningKey stores k as the current key: with first only if there is none, else retiring
// the current one. The partial unique index (one current key) backs the rule.
func (db *DB) PutSigningKey(ctx context.Context, k *backend.SigningKey, first bool) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("put signing key: %w", err)
	}
	defer tx.Rollback()
	if first {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_signing_keys WHERE retired_at IS NULL`).Scan(&n); err != nil {
			return false, fmt.Errorf("put signing key: %w", err)
		}
		if n > 0 {
			return false, nil
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE oidc_signing_keys SET retired_at = ? WHERE retired_at IS NULL`, tx.now.UnixNano()); err != nil {
		return false, fmt.Errorf("retire signing keys: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_signing_keys (kid, alg, sealed, public_der, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.KID, k.Alg, k.Sealed, k.Public, tx.now.UnixNano()); err != nil {
		return false, fmt.Errorf("put signing key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("put signing key: %w", err)
	}
	k.CreatedAt = tx.now
	return true, nil
}

// SigningKeys returns every key, the current one first, then the retired ones newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*backend.SigningKey, error) {
	rows, err := db.querier(ctx).QueryContext(ctx, `
		SELECT kid, alg, sealed, public_der, created_at, retired_at FROM oidc_signing_keys
		ORDER BY retired_at IS NOT NULL, COALESCE(retired_at, 0) DESC, created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	var out []*backend.SigningKey
	for rows.Next() {
		var k backend.SigningKey
		var created, retired sql.NullInt64
		if err := rows.Scan(&k.KID, &k.Alg, &k.Sealed, &k.Public, &created, &retired); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		k.CreatedAt, k.RetiredAt = nullTime(created), nullTime(retired)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// DeleteExpiredOIDC removes expired requests and tokens, tokens whose session is gone, and keys
// retired before keysBefore.
func (db *DB) DeleteExpiredOIDC(ctx context.Context, before, keysBefore time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("delete expired oidc: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM oidc_auth_requests WHERE expires_at < ?`, []any{before.UnixNano()}},
		{`DELETE FROM oidc_tokens WHERE expires_at < ?`, []any{before.UnixNano()}},
		{`DELETE FROM oidc_tokens WHERE session_hash NOT IN (SELECT token_hash FROM sessions)`, nil},
		{`DELETE FROM oidc_signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?`, []any{keysBefore.UnixNano()}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("delete expired oidc: %w", err)
		}
	}
	return wrap("delete expired oidc", tx.Commit())
}
