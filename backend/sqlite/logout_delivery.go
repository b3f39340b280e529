package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gatehouse/backend"
)

// Back-channel logout deliveries (migration 0015; backend/logout_delivery.go has the rules).

// RecordSessionApp notes that the session signed in to the application; once per pair.
// ENOTFOUND if the application or the user is gone.
func (db *DB) RecordSessionApp(ctx context.Context, sa backend.SessionApp) error {
	_, err := db.execer(ctx).ExecContext(ctx, `
		INSERT INTO oidc_logout_deliveries (session_hash, sid, app_id, user_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_hash, app_id) DO NOTHING`,
		sa.SessionHash, sa.SID, sa.AppID, sa.UserID, db.now(ctx).UnixNano())
	if isForeignKey(err) {
		return errAppNotFound
	} else if err != nil {
		return fmt.Errorf("record session app: %w", err)
	}
	return nil
}

// QueueLogoutDeliveries makes due the waiting rows of the user (0: everyone's) whose session
// is gone, and drops those whose application has no back-channel URI, in one write
// transaction (or the Atomically one ctx carries).
func (db *DB) QueueLogoutDeliveries(ctx context.Context, userID int64) (int, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	defer tx.Rollback()
	const ended = `ended_at IS NULL AND (?1 = 0 OR user_id = ?1)
		AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token_hash = oidc_logout_deliveries.session_hash)`
	if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_logout_deliveries WHERE `+ended+`
		AND NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = app_id AND a.backchannel_logout_uri <> '')`, userID); err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE oidc_logout_deliveries SET ended_at = ?2, next_try_at = ?2 WHERE `+ended,
		userID, tx.now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	return int(n), nil
}

// ClaimLogoutDeliveries leases up to limit due rows with one UPDATE … RETURNING: SQLite has
// one writer, so a row is leased by one claim; another server's claim finds it leased.
func (db *DB) ClaimLogoutDeliveries(ctx context.Context, lease string, d time.Duration, limit int) ([]*backend.LogoutDelivery, error) {
	if _, ok := joined(ctx); !ok {
		// Every server asks every few seconds, and there is seldom anything due: a read on the
		// reader pool first, so that an idle claim does not take the write lock.
		var due bool
		err := db.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM oidc_logout_deliveries
			WHERE ended_at IS NOT NULL AND next_try_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1))`, db.Now().UnixNano()).Scan(&due)
		if err != nil {
			return nil, fmt.Errorf("claim logout deliveries: %w", err)
		} else if !due {
			return nil, nil
		}
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim logout deliveries: %w", err)
	}
	defer tx.Rollback()
	now := tx.now.UnixNano()
	rows, err := tx.QueryContext(ctx, `
		UPDATE oidc_logout_deliveries SET lease = ?1, lease_until = ?2
		WHERE id IN (SELECT id FROM oidc_logout_deliveries
			WHERE ended_at IS NOT NULL AND next_try_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
			ORDER BY next_try_at LIMIT ?4)
		RETURNING id`, lease, tx.now.Add(d).UnixNano(), now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim logout deliveries: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim logout deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim logout deliveries: %w", err)
	}
	ds := make([]*backend.LogoutDelivery, 0, len(ids))
	for _, id := range ids {
		var dl backend.LogoutDelivery
		var ended sql.NullInt64
		err := tx.QueryRowContext(ctx, `
			SELECT d.id, d.app_id, a.client_id, a.name, a.backchannel_logout_uri, d.user_id, d.sid, d.ended_at, d.tries, d.last_error
			FROM oidc_logout_deliveries d JOIN apps a ON a.id = d.app_id WHERE d.id = ?`, id).
			Scan(&dl.ID, &dl.AppID, &dl.ClientID, &dl.AppName, &dl.URI, &dl.UserID, &dl.SID, &ended, &dl.Tries, &dl.LastError)
		if err != nil {
			return nil, fmt.Errorf("claim logout deliveries: %w", err)
		}
		dl.EndedAt = nullTime(ended)
		ds = append(ds, &dl)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim logout deliveries: %w", err)
	}
	return ds, nil
}

// FinishLogoutDelivery records o for the row while it is leased to lease (one conditional
// statement decides), and the application's status in the same transaction.
func (db *DB) FinishLogoutDelivery(ctx context.Context, id int64, lease string, o backend.LogoutOutcome) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("finish logout delivery: %w", err)
	}
	defer tx.Rollback()
	var appID int64
	if o.Delivered || o.GiveUp {
		err = tx.QueryRowContext(ctx, `DELETE FROM oidc_logout_deliveries WHERE id = ? AND lease = ? RETURNING app_id`, id, lease).Scan(&appID)
	} else {
		err = tx.QueryRowContext(ctx, `
			UPDATE oidc_logout_deliveries SET tries = tries + 1, next_try_at = ?, last_error = ?, lease = NULL, lease_until = NULL
			WHERE id = ? AND lease = ? RETURNING app_id`, o.RetryAt.UnixNano(), o.Failure, id, lease).Scan(&appID)
	}
	if err == sql.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("finish logout delivery: %w", err)
	}
	now := tx.now.UnixNano()
	var q string
	var args []any
	switch {
	case o.Delivered:
		q, args = `INSERT INTO oidc_logout_status (app_id, delivered_at) VALUES (?1, ?2)
			ON CONFLICT (app_id) DO UPDATE SET delivered_at = ?2`, []any{appID, now}
	case o.GiveUp:
		q, args = `INSERT INTO oidc_logout_status (app_id, failed_at, failure, given_up_at) VALUES (?1, ?2, ?3, ?2)
			ON CONFLICT (app_id) DO UPDATE SET failed_at = ?2, failure = ?3, given_up_at = ?2`, []any{appID, now, o.Failure}
	default:
		q, args = `INSERT INTO oidc_logout_status (app_id, failed_at, failure) VALUES (?1, ?2, ?3)
			ON CONFLICT (app_id) DO UPDATE SET failed_at = ?2, failure = ?3`, []any{appID, now, o.Failure}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return false, fmt.Errorf("finish logout delivery: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("finish logout delivery: %w", err)
	}
	return true, nil
}

// LogoutDeliveryStatus returns the application's deliveries, in one read.
func (db *DB) LogoutDeliveryStatus(ctx context.Context, appID int64) (*backend.LogoutStatus, error) {
	var st backend.LogoutStatus
	var delivered, failed, gaveUp sql.NullInt64
	var failure sql.NullString
	err := db.querier(ctx).QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM oidc_logout_deliveries WHERE app_id = ?1 AND ended_at IS NOT NULL),
			s.delivered_at, s.failed_at, s.failure, s.given_up_at
		FROM (SELECT 1) LEFT JOIN oidc_logout_status s ON s.app_id = ?1`, appID).
		Scan(&st.Pending, &delivered, &failed, &failure, &gaveUp)
	if err != nil {
		return nil, fmt.Errorf("logout delivery status: %w", err)
	}
	st.DeliveredAt, st.FailedAt, st.GivenUpAt, st.Failure = nullTime(delivered), nullTime(failed), nullTime(gaveUp), failure.String
	return &st, nil
}
