package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// Back-channel logout deliveries (migration 0007; backend/logout_delivery.go has the rules).

// RecordSessionApp notes that the session signed in to the application; once per pair.
// ENOTFOUND if the application or the user is gone.
func (db *DB) RecordSessionApp(ctx context.Context, sa backend.SessionApp) error {
	if !storable(sa.SessionHash) || !storable(sa.SID) {
		return backend.Errorf(backend.EINVALID, "A session key holds invalid characters.")
	}
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO oidc_logout_deliveries (session_hash, sid, app_id, user_id, created_at)
		SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::bigint
		WHERE EXISTS (SELECT 1 FROM apps WHERE id = $3) AND EXISTS (SELECT 1 FROM users WHERE id = $4)
		ON CONFLICT (session_hash, app_id) DO NOTHING`,
		sa.SessionHash, sa.SID, sa.AppID, sa.UserID, ns(db.now(ctx)))
	if err != nil {
		return fmt.Errorf("record session app: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// Already recorded, or the application or user is gone: tell them apart.
		var n int
		if err := db.conn(ctx).QueryRow(ctx, `SELECT count(*) FROM oidc_logout_deliveries WHERE session_hash = $1 AND app_id = $2`,
			sa.SessionHash, sa.AppID).Scan(&n); err != nil {
			return fmt.Errorf("record session app: %w", err)
		}
		if n == 0 {
			return errAppNotFound
		}
	}
	return nil
}

// QueueLogoutDeliveries makes due the waiting rows of the user (0: everyone's) whose session
// is gone, and drops those whose application has no back-channel URI. In the transaction that
// deleted the sessions it sees their rows gone (its own writes).
func (db *DB) QueueLogoutDeliveries(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := db.inTx(ctx, false, func(tx *Tx) error {
		const ended = `ended_at IS NULL AND ($1::bigint = 0 OR user_id = $1)
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token_hash = oidc_logout_deliveries.session_hash)`
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_logout_deliveries WHERE `+ended+`
			AND NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = app_id AND a.backchannel_logout_uri <> '')`, userID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE oidc_logout_deliveries SET ended_at = $2, next_try_at = $2 WHERE `+ended,
			userID, ns(tx.now))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("queue logout deliveries: %w", err)
	}
	return int(n), nil
}

// ClaimLogoutDeliveries leases up to limit due rows in one statement: the rows are picked
// FOR UPDATE SKIP LOCKED, so servers claiming at once take different rows, and one that waits
// for none re-checks the lease on the row it locked.
func (db *DB) ClaimLogoutDeliveries(ctx context.Context, lease string, d time.Duration, limit int) ([]*backend.LogoutDelivery, error) {
	now := db.now(ctx)
	rows, err := db.conn(ctx).Query(ctx, `
		WITH picked AS (
			SELECT id FROM oidc_logout_deliveries
			WHERE ended_at IS NOT NULL AND next_try_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			ORDER BY next_try_at LIMIT $4
			FOR UPDATE SKIP LOCKED)
		UPDATE oidc_logout_deliveries d SET lease = $1, lease_until = $2
		FROM picked, apps a
		WHERE d.id = picked.id AND a.id = d.app_id
		RETURNING d.id, d.app_id, a.client_id, a.name, a.backchannel_logout_uri, d.user_id, d.sid, d.ended_at, d.tries, d.last_error`,
		lease, ns(now.Add(d)), ns(now), limit)
	if err != nil {
		return nil, unreachable(fmt.Errorf("claim logout deliveries: %w", err))
	}
	defer rows.Close()
	var ds []*backend.LogoutDelivery
	for rows.Next() {
		var dl backend.LogoutDelivery
		var ended *int64
		if err := rows.Scan(&dl.ID, &dl.AppID, &dl.ClientID, &dl.AppName, &dl.URI, &dl.UserID, &dl.SID, &ended, &dl.Tries, &dl.LastError); err != nil {
			return nil, fmt.Errorf("claim logout deliveries: %w", err)
		}
		dl.EndedAt = fromNS(ended)
		ds = append(ds, &dl)
	}
	if err := rows.Err(); err != nil {
		return nil, unreachable(fmt.Errorf("claim logout deliveries: %w", err))
	}
	return ds, nil
}

// FinishLogoutDelivery records o for the row while it is leased to lease (one conditional
// statement decides), and the application's status in the same transaction.
func (db *DB) FinishLogoutDelivery(ctx context.Context, id int64, lease string, o backend.LogoutOutcome) (bool, error) {
	ok := false
	err := db.inTx(ctx, false, func(tx *Tx) error {
		var appID int64
		var err error
		if o.Delivered || o.GiveUp {
			err = tx.QueryRow(ctx, `DELETE FROM oidc_logout_deliveries WHERE id = $1 AND lease = $2 RETURNING app_id`, id, lease).Scan(&appID)
		} else {
			err = tx.QueryRow(ctx, `
				UPDATE oidc_logout_deliveries SET tries = tries + 1, next_try_at = $1, last_error = $2, lease = NULL, lease_until = NULL
				WHERE id = $3 AND lease = $4 RETURNING app_id`, ns(o.RetryAt), text(o.Failure), id, lease).Scan(&appID)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		now := ns(tx.now)
		switch {
		case o.Delivered:
			_, err = tx.Exec(ctx, `INSERT INTO oidc_logout_status (app_id, delivered_at) VALUES ($1, $2)
				ON CONFLICT (app_id) DO UPDATE SET delivered_at = $2`, appID, now)
		case o.GiveUp:
			_, err = tx.Exec(ctx, `INSERT INTO oidc_logout_status (app_id, failed_at, failure, given_up_at) VALUES ($1, $2, $3, $2)
				ON CONFLICT (app_id) DO UPDATE SET failed_at = $2, failure = $3, given_up_at = $2`, appID, now, text(o.Failure))
		default:
			_, err = tx.Exec(ctx, `INSERT INTO oidc_logout_status (app_id, failed_at, failure) VALUES ($1, $2, $3)
				ON CONFLICT (app_id) DO UPDATE SET failed_at = $2, failure = $3`, appID, now, text(o.Failure))
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("finish logout delivery: %w", err)
	}
	return ok, nil
}

// LogoutDeliveryStatus returns the application's deliveries, in one read.
func (db *DB) LogoutDeliveryStatus(ctx context.Context, appID int64) (*backend.LogoutStatus, error) {
	var st backend.LogoutStatus
	var delivered, failed, gaveUp *int64
	var failure *string
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT (SELECT count(*) FROM oidc_logout_deliveries WHERE app_id = $1 AND ended_at IS NOT NULL),
			s.delivered_at, s.failed_at, s.failure, s.given_up_at
		FROM (SELECT 1) AS one LEFT JOIN oidc_logout_status s ON s.app_id = $1`, appID).
		Scan(&st.Pending, &delivered, &failed, &failure, &gaveUp)
	if err != nil {
		return nil, unreachable(fmt.Errorf("logout delivery status: %w", err))
	}
	st.DeliveredAt, st.FailedAt, st.GivenUpAt = fromNS(delivered), fromNS(failed), fromNS(gaveUp)
	if failure != nil {
		st.Failure = *failure
	}
	return &st, nil
}
