package sqlite

import (
	"context"
	"fmt"
	"time"

	"gatehouse/backend"
)

// RevokeSessions records that every server must forget the user's cached sessions, in the
// Atomically transaction ctx carries or on its own. SQLite has one writer, so IDs (never
// reused: AUTOINCREMENT) are committed in order.
func (db *DB) RevokeSessions(ctx context.Context, userID int64) error {
	_, err := db.execer(ctx).ExecContext(ctx, `INSERT INTO session_revocations (user_id, at) VALUES (?, ?)`,
		userID, db.now(ctx).UnixNano())
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// SessionRevocationsSince returns up to limit revocations with an ID above afterID, in ID order.
func (db *DB) SessionRevocationsSince(ctx context.Context, afterID int64, limit int) ([]backend.SessionRevocation, error) {
	rows, err := db.querier(ctx).QueryContext(ctx, `
		SELECT id, user_id, at FROM session_revocations WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("session revocations: %w", err)
	}
	defer rows.Close()
	var revs []backend.SessionRevocation
	for rows.Next() {
		var r backend.SessionRevocation
		var at int64
		if err := rows.Scan(&r.ID, &r.UserID, &at); err != nil {
			return nil, fmt.Errorf("session revocations: %w", err)
		}
		r.At = time.Unix(0, at).UTC()
		revs = append(revs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session revocations: %w", err)
	}
	return revs, nil
}

// DeleteSessionRevocations removes the revocations recorded before before.
func (db *DB) DeleteSessionRevocations(ctx context.Context, before time.Time) error {
	if _, err := db.execer(ctx).ExecContext(ctx, `DELETE FROM session_revocations WHERE at < ?`, before.UnixNano()); err != nil {
		return fmt.Errorf("delete session revocations: %w", err)
	}
	return nil
}

// TouchSessions sets each session's LastSeenAt to the time given for it unless it is later
// already, in one write transaction (one sync to disk for all of them).
func (db *DB) TouchSessions(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		tx, _ := joined(ctx)
		stmt, err := tx.PrepareContext(ctx, `UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2 AND last_seen_at < ?1`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for h, t := range seen {
			if _, err := stmt.ExecContext(ctx, t.UnixNano(), h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch sessions: %w", err)
	}
	return nil
}
