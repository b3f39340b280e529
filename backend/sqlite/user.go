package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse/backend"
)

// errUserNotFound is the answer for every user ID or username that does not exist.
var errUserNotFound = backend.Errorf(backend.ENOTFOUND, "User not found.")

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, username, display_name, email, role, disabled, two_factor_required, method,
	COALESCE(sms_phone, ''), must_change_password, locked_until, created_at, updated_at, credentials_version`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanUser reads the userColumns of one row.
func scanUser(s scanner) (*backend.User, error) {
	var u backend.User
	var locked, created, updated sql.NullInt64
	err := s.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Role, &u.Disabled,
		&u.TwoFactorRequired, &u.Method, &u.SMSPhone, &u.MustChangePassword, &locked, &created, &updated,
		&u.CredentialsVersion)
	if err != nil {
		return nil, err
	}
	u.LockedUntil, u.CreatedAt, u.UpdatedAt = nullTime(locked), nullTime(created), nullTime(updated)
	return &u, nil
}

// queryer is what both *sql.DB and *Tx can run a query on.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// findUserByID reads one user; errUserNotFound if there is none.
const findUserByIDSQL = `SELECT ` + userColumns + ` FROM users WHERE id = ?`

func findUserByID(ctx context.Context, q queryer, id int64) (*backend.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, findUserByIDSQL, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	}
	return u, err
}

// CreateUser inserts u with the given password hash and sets u.ID, u.CreatedAt and u.UpdatedAt.
// An empty u.Method means none. EINVALID for an unknown role or method; ECONFLICT when the
// username is taken (compared case-insensitively, ASCII letters only: SQLite's NOCASE).
func (db *DB) CreateUser(ctx context.Context, u *backend.User, passwordHash string) error {
	method := u.Method
	if method == "" {
		method = backend.MethodNone
	}
	if !u.Role.Valid() {
		return backend.Errorf(backend.EINVALID, "Unknown role %q.", u.Role)
	} else if !validMethod(method) {
		return backend.Errorf(backend.EINVALID, "Unknown two-factor method %q.", method)
	}

	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, `
		INSERT INTO users (username, display_name, email, role, password_hash, disabled,
			two_factor_required, method, sms_phone, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?)`,
		u.Username, u.DisplayName, u.Email, u.Role, passwordHash, u.Disabled,
		u.TwoFactorRequired, method, u.SMSPhone, u.MustChangePassword, tx.now.UnixNano(), tx.now.UnixNano())
	if isUnique(err) {
		return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
	} else if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u.ID, u.Method, u.CreatedAt, u.UpdatedAt = id, method, tx.now, tx.now
	return nil
}

// validMethod reports whether m is a known method, none included.
func validMethod(m backend.Method) bool {
	return m == backend.MethodNone || m == backend.MethodApp || m == backend.MethodSMS
}

// FindUserByID returns the user; ENOTFOUND if there is none.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*backend.User, error) {
	var u *backend.User
	var err error
	if tx, ok := joined(ctx); ok {
		u, err = findUserByID(ctx, tx, id)
	} else if u, err = scanUser(db.findUser.QueryRowContext(ctx, id)); errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound
	}
	if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, err
}

// FindUserForUpdate reads the user inside the Atomically transaction ctx carries, which holds
// the database's write lock from its BEGIN (IMMEDIATE): nobody can change the row before that
// transaction ends, so what the caller decides on it still holds when it commits. ENOTFOUND if
// there is no such user; an error outside an Atomically transaction, where no lock is held.
func (db *DB) FindUserForUpdate(ctx context.Context, id int64) (*backend.User, error) {
	tx, ok := joined(ctx)
	if !ok {
		return nil, errors.New("find user for update: not inside Atomically")
	}
	u, err := findUserByID(ctx, tx, id)
	return u, wrap("find user for update", err)
}

// FindUserByUsername returns the user, matching case-insensitively; ENOTFOUND if there is none.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*backend.User, error) {
	// The column is COLLATE NOCASE, so "=" compares case-insensitively and uses its index.
	u, err := scanUser(db.querier(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// FindUsers returns one page of the users matching f, ordered by username, and the number of
// all users matching f. The search is a case-insensitive substring match on username, display
// name and email: through the trigram index from 3 characters on (Unicode case folding), by
// LIKE below that (ASCII case folding). EINVALID for an unknown status or role.
func (db *DB) FindUsers(ctx context.Context, f backend.UserFilter) ([]*backend.User, int, error) {
	var where []string
	var args []any
	if f.Status != "" {
		// The generated users.two_factor_status column (migration 0001) holds the status keys.
		if !f.Status.Valid() {
			return nil, 0, backend.Errorf(backend.EINVALID, "Unknown two-factor status %q.", f.Status)
		}
		code := string(f.Status)
		where = append(where, `two_factor_status = ?`)
		args = append(args, code)
	}
	if f.Role != "" {
		if !f.Role.Valid() {
			return nil, 0, backend.Errorf(backend.EINVALID, "Unknown role %q.", f.Role)
		}
		where = append(where, `role = ?`)
		args = append(args, f.Role)
	}
	var match string // the full-text query, when the search uses the trigram index
	if f.Search != "" {
		if utf8.RuneCountInString(f.Search) >= 3 {
			// The trigram index finds substrings of 3 characters or more: the search as one
			// quoted phrase matches the rows containing it in any of the three columns.
			match = `"` + strings.ReplaceAll(f.Search, `"`, `""`) + `"`
		} else {
			// Shorter ones have no trigram to look up; they scan.
			p := "%" + escapeLike(f.Search) + "%"
			where = append(where, `(username LIKE ? ESCAPE '\' OR display_name LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\')`)
			args = append(args, p, p, p)
		}
	}
	// cond is the WHERE clause. walk makes the full-text match a filter on rows visited in
	// username order (the unary + keeps SQLite from driving the query by it), which stops
	// after one page when many users match; otherwise SQLite fetches the matches and sorts them,
	// which is quicker when few match.
	cond := func(walk bool) (string, []any) {
		w, a := where, args
		if match != "" {
			in := `id IN (SELECT rowid FROM users_search WHERE users_search MATCH ?)`
			if walk {
				in = "+" + in
			}
			w, a = append(slices.Clip(w), in), append(slices.Clip(a), match)
		}
		if len(w) == 0 {
			return "", nil
		}
		return " WHERE " + strings.Join(w, " AND "), a
	}
	offset, limit := page(f.Offset, f.Limit)

	// One read transaction: the page and the count come from the same snapshot.
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer tx.Rollback()

	countSQL, countArgs := cond(false)
	countSQL = `SELECT COUNT(*) FROM users` + countSQL
	if match != "" && len(where) == 0 {
		// The index has one row per user: counting there skips a lookup per match.
		countSQL, countArgs = `SELECT COUNT(*) FROM users_search WHERE users_search MATCH ?`, []any{match}
	}
	var total int
	if err := tx.QueryRowContext(ctx, countSQL, countArgs...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	pageCond, pageArgs := cond(total >= walkThreshold)
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+pageCond+
		` ORDER BY username LIMIT ? OFFSET ?`, append(pageArgs, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	users := []*backend.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	return users, total, nil
}

// walkThreshold is the number of search matches from which FindUsers finds a page by walking
// the users in username order instead of sorting the matches. Measured at 100,000 users.
var walkThreshold = 1000 // a variable for tests

// page normalises a filter's offset and limit.
func page(offset, limit int) (int, int) {
	if limit <= 0 {
		limit = backend.DefaultPageSize
	}
	return max(offset, 0), limit
}

// escapeLike escapes LIKE's wildcards in s for use with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountUsersByStatus counts all users by Two-Factor status; every status is present.
func (db *DB) CountUsersByStatus(ctx context.Context) (backend.StatusCounts, error) {
	rows, err := db.querier(ctx).QueryContext(ctx, `SELECT two_factor_status, COUNT(*) FROM users GROUP BY two_factor_status`)
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
// ENOTFOUND if there is no such user; EINVALID for an unknown role.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd backend.UserUpdate) (*backend.User, error) {
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, backend.Errorf(backend.EINVALID, "Unknown role %q.", *upd.Role)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	defer tx.Rollback()

	u, err := findUserByID(ctx, tx, id)
	if err != nil {
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			return nil, err
		}
		return nil, fmt.Errorf("update user: %w", err)
	}
	before := *u

	if v := upd.DisplayName; v != nil {
		u.DisplayName = *v
	}
	if v := upd.Email; v != nil {
		u.Email = *v
	}
	if v := upd.Role; v != nil {
		u.Role = *v
	}
	if v := upd.Disabled; v != nil {
		u.Disabled = *v
	}
	if v := upd.TwoFactorRequired; v != nil {
		u.TwoFactorRequired = *v
	}
	if v := upd.MustChangePassword; v != nil {
		u.MustChangePassword = *v
	}
	// A change of what a login is checked against or leads to is a new credentials version
	// (clearEnrollment makes its own); a new name or email is not.
	bump := 0
	if u.Role != before.Role || u.Disabled != before.Disabled || u.TwoFactorRequired != before.TwoFactorRequired ||
		u.MustChangePassword != before.MustChangePassword {
		bump = 1
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE users SET display_name = ?, email = ?, role = ?, disabled = ?,
			two_factor_required = ?, must_change_password = ?, updated_at = ?,
			credentials_version = credentials_version + ?
		WHERE id = ?`,
		u.DisplayName, u.Email, u.Role, u.Disabled, u.TwoFactorRequired, u.MustChangePassword,
		tx.now.UnixNano(), bump, id)
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}

	if upd.ClearEnrollment {
		if err := clearEnrollment(ctx, tx, id); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}
	if upd.EndSessions {
		if err := deleteUserSessions(ctx, tx, id, ""); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}

	if u, err = findUserByID(ctx, tx, id); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// CountEnabledAdmins counts the administrators who are not disabled. Inside an Atomically
// transaction it reads under that transaction's write lock (BEGIN IMMEDIATE), so the count holds
// until it commits.
func (db *DB) CountEnabledAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.querier(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count enabled admins: %w", err)
	}
	return n, nil
}

// clearEnrollment removes the user's second factor: method, secrets, phone, security keys, recovery codes (and
// any sheet of them still on show) and any pending setup (app or SMS, whoever began it). It is
// a new credentials version.
func clearEnrollment(ctx context.Context, tx *Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE users SET method = 'none', totp_secret = NULL,
			totp_last_step = NULL, sms_phone = NULL, updated_at = ?,
			credentials_version = credentials_version + 1
		WHERE id = ?`, tx.now.UnixNano(), userID)
	if err != nil {
		return err
	}
	if err := deletePendingEnrollments(ctx, tx, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_sheets WHERE user_id = ?`, userID); err != nil {
		return err
	}
	// Security keys, and any key ceremony begun (webauthn.go).
	if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE user_id = ?`, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE user_id = ?`, userID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID)
	return err
}

// PasswordHash returns the user's encoded password hash; ENOTFOUND if there is no such user.
func (db *DB) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := db.querier(ctx).QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errUserNotFound
	} else if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	return hash, nil
}

// SetPassword stores a new password hash and the must-change flag, a new credentials version.
// When endSessionsExcept is non-nil, every session and login attempt of the user ends except the
// session whose token hash it points to ("" ends them all). ENOTFOUND if there is no such user.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, `
		UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ?,
			credentials_version = credentials_version + 1
		WHERE id = ?`,
		hash, mustChange, tx.now.UnixNano(), userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set password: %w", err)
	} else if n == 0 {
		return errUserNotFound
	}
	if endSessionsExcept != nil {
		if err := deleteUserSessions(ctx, tx, userID, *endSessionsExcept); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}
