package postgres

import (
	"context"
	"strings"

	"gatehouse/backend"
)

// seedBatch is how many users one INSERT of SeedUsers carries.
const seedBatch = 1000

// SeedUsers inserts users in one transaction (or joins the Atomically one ctx carries, inside
// a savepoint), all with the same password hash: test and benchmark data in bulk for
// backend.Service.SeedUsers (100,000 users in seconds, where CreateUser commits once per user),
// a thousand rows per INSERT. No audit event is written here: the Service writes one for them
// all. ECONFLICT, inserting none, if a username is taken; EINVALID for an unknown role or
// method.
func (db *DB) SeedUsers(ctx context.Context, users []*backend.User, passwordHash string) error {
	for _, u := range users {
		if u.Method == "" {
			u.Method = backend.MethodNone
		}
		if !u.Role.Valid() || !validMethod(u.Method) {
			return backend.Errorf(backend.EINVALID, "Seed user %q: unknown role or method.", u.Username)
		} else if err := validUserText(u); err != nil {
			return err
		}
	}
	err := db.inTx(ctx, true, func(tx *Tx) error {
		for _, u := range users {
			if u.Role == backend.RoleAdmin {
				if err := lockAdmins(ctx, tx); err != nil {
					return err
				}
				break
			}
		}
		for start := 0; start < len(users); start += seedBatch {
			batch := users[start:min(start+seedBatch, len(users))]
			cols := make([][]any, 7)
			for _, u := range batch {
				for i, v := range []any{u.Username, u.DisplayName, u.Email, string(u.Role), u.TwoFactorRequired, string(u.Method), u.SMSPhone} {
					cols[i] = append(cols[i], v)
				}
			}
			// unnest of one array per column: a thousand rows in one statement. RETURNING gives
			// each inserted row's key, to set the IDs by, and a taken name inserts no row.
			rows, err := tx.Query(ctx, `
				INSERT INTO users (username, display_name, email, role, password_hash, disabled,
					two_factor_required, method, sms_phone, must_change_password, created_at, updated_at)
				SELECT u, d, e, r, $8, false, t, m, NULLIF(p, ''), false, $9, $9
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[]) AS s(u, d, e, r, t, m, p)
				ON CONFLICT DO NOTHING
				RETURNING id, username_key`,
				cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], passwordHash, ns(tx.now))
			if err != nil {
				return err
			}
			ids := map[string]int64{}
			for rows.Next() {
				var id int64
				var key string
				if err := rows.Scan(&id, &key); err != nil {
					rows.Close()
					return err
				}
				ids[key] = id
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, u := range batch {
				id, ok := ids[asciiLower(u.Username)]
				if !ok {
					return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
				}
				delete(ids, asciiLower(u.Username)) // a name twice in users: the second is taken
				u.ID, u.CreatedAt, u.UpdatedAt = id, tx.now, tx.now
			}
		}
		return nil
	})
	return wrap("seed users", err)
}

// asciiLower folds A-Z only, as lower() under the "C" collation does for username_key.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
