package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// errUserNotFound is the answer for every user ID or username that does not exist.
var errUserNotFound = backend.Errorf(backend.ENOTFOUND, "User not found.")

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, username, display_name, email, role, disabled, two_factor_required, method,
	COALESCE(sms_phone, ''), must_change_password, locked_until, created_at, updated_at, credentials_version`

// userColumnsOf is userColumns of the table named alias in a query.
func userColumnsOf(alias string) string {
	return alias + `.id, ` + alias + `.username, ` + alias + `.display_name, ` + alias + `.email, ` + alias + `.role, ` +
		alias + `.disabled, ` + alias + `.two_factor_required, ` + alias + `.method, COALESCE(` + alias + `.sms_phone, ''), ` +
		alias + `.must_change_password, ` + alias + `.locked_until, ` + alias + `.created_at, ` + alias + `.updated_at, ` +
		alias + `.credentials_version`
}

// scanUser reads the userColumns of one row.
func scanUser(row pgx.Row) (*backend.User, error) {
	var u backend.User
	var role, method string
	var locked *int64
	var created, updated int64
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &role, &u.Disabled,
		&u.TwoFactorRequired, &method, &u.SMSPhone, &u.MustChangePassword, &locked, &created, &updated,
		&u.CredentialsVersion)
	if err != nil {
		return nil, err
	}
	u.Role, u.Method = backend.Role(role), backend.Method(method)
	u.LockedUntil, u.CreatedAt, u.UpdatedAt = fromNS(locked), fromNS(&created), fromNS(&updated)
	return &u, nil
}

// findUserByID reads one user; errUserNotFound if there is none.
func findUserByID(ctx context.Context, q querier, id int64, lock string) (*backend.User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUserNotFound
	}
	return u, err
}

// validUserText checks what CreateUser and SeedUsers store as text: PostgreSQL refuses invalid
// UTF-8 and NUL, which the Service's own checks never let through.
func validUserText(u *backend.User) error {
	for _, s := range []string{u.Username, u.DisplayName, u.Email, u.SMSPhone} {
		if !storable(s) {
			return backend.Errorf(backend.EINVALID, "User %q: a name, email or phone holds invalid characters.", text(u.Username))
		}
	}
	return nil
}

// CreateUser inserts u with the given password hash and sets u.ID, u.CreatedAt and u.UpdatedAt.
// An empty u.Method means none. EINVALID for an unknown role or method; ECONFLICT when the
// username is taken (compared ignoring ASCII case, as SQLite's NOCASE: the unique username_key).
// The insert is ON CONFLICT DO NOTHING, so a taken name is an answer, not a failed statement
// (which would end an enclosing transaction): of two servers creating the same name at once,
// the second waits for the first to commit, then inserts nothing. An administrator is created
// under the administrators lock (locks.go).
func (db *DB) CreateUser(ctx context.Context, u *backend.User, passwordHash string) error {
	method := u.Method
	if method == "" {
		method = backend.MethodNone
	}
	if !u.Role.Valid() {
		return backend.Errorf(backend.EINVALID, "Unknown role %q.", u.Role)
	} else if !validMethod(method) {
		return backend.Errorf(backend.EINVALID, "Unknown two-factor method %q.", method)
	} else if err := validUserText(u); err != nil {
		return err
	}
	var id int64
	var now time.Time
	err := db.inTx(ctx, false, func(tx *Tx) error {
		now = tx.now
		if u.Role == backend.RoleAdmin {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO users (username, display_name, email, role, password_hash, disabled,
				two_factor_required, method, sms_phone, must_change_password, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), $10, $11, $11)
			ON CONFLICT DO NOTHING
			RETURNING id`,
			u.Username, u.DisplayName, u.Email, string(u.Role), passwordHash, u.Disabled,
			u.TwoFactorRequired, string(method), u.SMSPhone, u.MustChangePassword, ns(tx.now)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
		}
		return err
	})
	if err != nil {
		return wrap("create user", err)
	}
	u.ID, u.Method, u.CreatedAt, u.UpdatedAt = id, method, now, now
	return nil
}

// validMethod reports whether m is a known method, none included.
func validMethod(m backend.Method) bool {
	return m == backend.MethodNone || m == backend.MethodApp || m == backend.MethodSMS
}

// FindUserByID returns the user; ENOTFOUND if there is none.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*backend.User, error) {
	u, err := findUserByID(ctx, db.conn(ctx), id, "")
	return u, wrap("find user", err)
}

// FindUserForUpdate reads the user inside the Atomically transaction ctx carries and locks the
// row (SELECT … FOR NO KEY UPDATE) until that transaction ends: every other writer of the row
// (a failure counter charged, a TOTP step consumed, an administrator's change, another step's
// FindUserForUpdate) waits, so what the caller decides on it still holds when it commits.
// ENOTFOUND if there is no such user; an error outside an Atomically transaction, where no lock
// would outlive the read.
func (db *DB) FindUserForUpdate(ctx context.Context, id int64) (*backend.User, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, errors.New("find user for update: not inside Atomically")
	}
	// The failure counter comes with the row: the login step that locks it next charges it
	// (UpdateFailures), which then has it without reading the row again.
	var f backend.Failures
	var next *int64
	u, err := findUserByID(ctx, extraColumns{tx, []any{&f.Count, &next, &f.SecondFactor, &f.Streak}}, id, ` FOR NO KEY UPDATE`)
	if err == nil && tx.failures != nil {
		f.NextTryAt, f.LockedUntil = fromNS(next), u.LockedUntil
		tx.failures[id] = f
	}
	return u, wrap("find user for update", err)
}

// extraColumns is a querier for findUserByID that reads more columns than userColumns, after
// them, into extra.
type extraColumns struct {
	*Tx
	extra []any
}

func (q extraColumns) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	sql = strings.Replace(sql, userColumns, userColumns+", failed_count, next_try_at, second_factor_failed, lock_streak", 1)
	return extraRow{q.Tx.QueryRow(ctx, sql, args...), q.extra}
}

// extraRow scans its extra destinations after the caller's.
type extraRow struct {
	pgx.Row
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// FindUserByUsername returns the user, matching ignoring ASCII case; ENOTFOUND if there is none.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*backend.User, error) {
	if !storable(username) {
		return nil, errUserNotFound // no stored name holds such bytes
	}
	u, err := scanUser(db.conn(ctx).QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE username_key = lower($1 COLLATE "C")`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUsers returns one page of the users matching f, ordered by username ignoring ASCII case,
// and the number of all users matching f, both from one snapshot. The search is a
// case-insensitive substring match (ILIKE, folding case as the database's locale does, ASCII at
// least) on username, display name and email, through the trigram indexes from 3 characters
// on. EINVALID for an unknown status or role.
//
// Inside an Atomically transaction, a filter by the administrator role takes the
// administrators lock first (locks.go), so the answer holds until that transaction ends: "no
// administrator yet", on which the first one is created, cannot change in between, as under
// SQLite's write lock.
func (db *DB) FindUsers(ctx context.Context, f backend.UserFilter) ([]*backend.User, int, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		// The generated users.two_factor_status column (migration 0001) holds the status keys.
		if !f.Status.Valid() {
			return nil, 0, backend.Errorf(backend.EINVALID, "Unknown two-factor status %q.", f.Status)
		}
		code := string(f.Status)
		where = append(where, `two_factor_status = `+arg(code))
	}
	if f.Role != "" {
		if !f.Role.Valid() {
			return nil, 0, backend.Errorf(backend.EINVALID, "Unknown role %q.", f.Role)
		}
		where = append(where, `role = `+arg(string(f.Role)))
	}
	if f.Search != "" {
		if !storable(f.Search) {
			return []*backend.User{}, 0, nil // no stored text holds such bytes
		}
		p := arg("%" + escapeLike(f.Search) + "%")
		where = append(where, `(username ILIKE `+p+` OR display_name ILIKE `+p+` OR email ILIKE `+p+`)`)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	offset, limit := page(f.Offset, f.Limit)

	var users []*backend.User
	var total int
	err := db.readTx(ctx, func(tx *Tx) error {
		if _, ok := joined(ctx); ok && f.Role == backend.RoleAdmin {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`+cond, args...).Scan(&total); err != nil {
			return err
		}
		n := len(args)
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users`+cond+
			` ORDER BY username_key LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, limit, offset)...)
		if err != nil {
			return err
		}
		users, err = collectUsers(rows)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	return users, total, nil
}

// collectUsers reads every row of rows as a user.
func collectUsers(rows pgx.Rows) ([]*backend.User, error) {
	defer rows.Close()
	users := []*backend.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// page normalises a filter's offset and limit.
func page(offset, limit int) (int, int) {
	if limit <= 0 {
		limit = backend.DefaultPageSize
	}
	return max(offset, 0), limit
}

// escapeLike escapes LIKE's wildcards in s for use with the default escape character '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountUsersByStatus counts all users by Two-Factor status; every status is present.
func (db *DB) CountUsersByStatus(ctx context.Context) (backend.StatusCounts, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT two_factor_status, count(*) FROM users GROUP BY two_factor_status`)
	if err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	defer rows.Close()
	counts := backend.StatusCounts{}
	for _, s := range backend.Statuses {
		counts[s] = 0
	}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, fmt.Errorf("count users: %w", err)
		}
		st := backend.TwoFactorStatus(code)
		if !st.Valid() {
			return nil, fmt.Errorf("count users: the database has users of an unknown two-factor status %q", code)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	return counts, nil
}

// UpdateUser applies upd and returns the updated user. It stores what it is given: whether
// the update may leave no enabled administrator is the Service's to decide (CountEnabledAdmins).
// The row is read locked (FOR NO KEY UPDATE), changed and written in one transaction, so that
// two updates of different fields both land; a change of role or disabled then takes the
// administrators lock too (after the row: locks.go). ENOTFOUND if there is no such user;
// EINVALID for an unknown role.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd backend.UserUpdate) (*backend.User, error) {
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, backend.Errorf(backend.EINVALID, "Unknown role %q.", *upd.Role)
	}
	for _, p := range []*string{upd.DisplayName, upd.Email} {
		if p != nil && !storable(*p) {
			return nil, backend.Errorf(backend.EINVALID, "The name or email holds invalid characters.")
		}
	}
	var u *backend.User
	err := db.inTx(ctx, false, func(tx *Tx) error {
		cur, err := findUserByID(ctx, tx, id, ` FOR NO KEY UPDATE`)
		if err != nil {
			return err
		}
		next := *cur
		if v := upd.DisplayName; v != nil {
			next.DisplayName = *v
		}
		if v := upd.Email; v != nil {
			next.Email = *v
		}
		if v := upd.Role; v != nil {
			next.Role = *v
		}
		if v := upd.Disabled; v != nil {
			next.Disabled = *v
		}
		if v := upd.TwoFactorRequired; v != nil {
			next.TwoFactorRequired = *v
		}
		if v := upd.MustChangePassword; v != nil {
			next.MustChangePassword = *v
		}
		if upd.Role != nil || upd.Disabled != nil {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		// A change of what a login is checked against or leads to is a new credentials version
		// (clearEnrollment makes its own); a new name or email is not.
		bump := 0
		if next.Role != cur.Role || next.Disabled != cur.Disabled || next.TwoFactorRequired != cur.TwoFactorRequired ||
			next.MustChangePassword != cur.MustChangePassword {
			bump = 1
		}
		_, err = tx.Exec(ctx, `
			UPDATE users SET display_name = $1, email = $2, role = $3, disabled = $4,
				two_factor_required = $5, must_change_password = $6, updated_at = $7,
				credentials_version = credentials_version + $8
			WHERE id = $9`,
			next.DisplayName, next.Email, string(next.Role), next.Disabled, next.TwoFactorRequired, next.MustChangePassword,
			ns(tx.now), bump, id)
		if err != nil {
			return err
		}
		if upd.ClearEnrollment {
			if err := clearEnrollment(ctx, tx, id); err != nil {
				return err
			}
		}
		if upd.EndSessions {
			if err := deleteUserSessions(ctx, tx, id, ""); err != nil {
				return err
			}
		}
		u, err = findUserByID(ctx, tx, id, "")
		return err
	})
	if err != nil {
		return nil, wrap("update user", err)
	}
	return u, nil
}

// CountEnabledAdmins counts the administrators who are not disabled. Inside an Atomically
// transaction it first takes the administrators lock (locks.go), which every write changing
// who is an enabled administrator takes too, so the count holds until that transaction ends:
// of two administrators demoting each other at once, on one server or two, the second counts
// after the first has committed and is refused.
func (db *DB) CountEnabledAdmins(ctx context.Context) (int, error) {
	if tx, ok := joined(ctx); ok {
		if err := lockAdmins(ctx, tx); err != nil {
			return 0, fmt.Errorf("count enabled admins: %w", err)
		}
	}
	var n int
	err := db.conn(ctx).QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count enabled admins: %w", err)
	}
	return n, nil
}

// clearEnrollment removes the user's second factor: method, secrets, phone, security keys, recovery codes (and
// any sheet of them still on show) and any pending setup (app or SMS, whoever began it). It is
// a new credentials version.
func clearEnrollment(ctx context.Context, tx *Tx, userID int64) error {
	delete(tx.totpLast, userID)
	_, err := tx.Exec(ctx, `
		UPDATE users SET method = 'none', totp_secret = NULL,
			totp_last_step = NULL, sms_phone = NULL, updated_at = $1,
			credentials_version = credentials_version + 1
		WHERE id = $2`, ns(tx.now), userID)
	if err != nil {
		return err
	}
	if err := deletePendingEnrollments(ctx, tx, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_sheets WHERE user_id = $1`, userID); err != nil {
		return err
	}
	// Security keys, and any key ceremony begun (webauthn.go).
	if _, err := tx.Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1`, userID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM webauthn_ceremonies WHERE user_id = $1`, userID); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
	return err
}

// PasswordHash returns the user's encoded password hash; ENOTFOUND if there is no such user.
func (db *DB) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := db.conn(ctx).QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errUserNotFound
	} else if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	return hash, nil
}

// SetPassword stores a new password hash and the must-change flag, a new credentials version.
// When endSessionsExcept is non-nil, every session and login attempt of the user ends except the
// session whose token hash it points to ("" ends them all). ENOTFOUND if there is no such user.
// The UPDATE locks the row first, so a login step deciding on the old credentials version
// (FindUserForUpdate) either commits before it or sees the new one.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error {
	err := db.inTx(ctx, false, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3,
				credentials_version = credentials_version + 1
			WHERE id = $4`,
			hash, mustChange, ns(tx.now), userID)
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return errUserNotFound
		}
		if endSessionsExcept != nil {
			return deleteUserSessions(ctx, tx, userID, *endSessionsExcept)
		}
		return nil
	})
	return wrap("set password", err)
}
