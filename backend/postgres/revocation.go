package postgres

import (
	"context"
	"fmt"
	"time"

	"gatehouse/backend"
)

// lockRevocations is the advisory lock (second key) under which revocations get their IDs.
//
// An identity hands out IDs when rows are inserted, not when they commit: two transactions
// can commit IDs 6 and then 5, and a server that read 6 and moved its mark past it would
// never see 5. So RevokeSessions only notes the user in the Atomically transaction, and the
// rows are inserted at its very end, under this lock, in the same round trip as nothing but
// the commit (queueRevocations): IDs are then handed out in commit order. The lock is held
// for that last step only, by transactions that wait for nothing else once they have it, so
// it can be part of no deadlock; revocations (logouts, administrators' changes) are rare
// beside session checks, which take no lock.
const lockRevocations = 3

// RevokeSessions records that every server must forget the user's cached sessions; inside an
// Atomically transaction at its commit, else in a transaction of its own.
func (db *DB) RevokeSessions(ctx context.Context, userID int64) error {
	if tx, ok := joined(ctx); ok {
		tx.revoked = append(tx.revoked, userID)
		return nil
	}
	return db.Atomically(ctx, func(ctx context.Context) error { return db.RevokeSessions(ctx, userID) })
}

// queueRevocations queues the lock and the insert of t's revocations before its commit.
func queueRevocations(t *Tx) {
	if len(t.revoked) == 0 {
		return
	}
	t.later(nil, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryClass, lockRevocations)
	t.later(nil, `INSERT INTO session_revocations (user_id, at) SELECT u, $2 FROM unnest($1::bigint[]) AS u`, t.revoked, ns(t.now))
	t.revoked = nil
}

// SessionRevocationsSince returns up to limit revocations with an ID above afterID, in ID
// order. Outside a transaction it reads on Ping's connection (ping.go), not the pool's: every
// server polls it every 250 ms, and a poll queued behind a login storm's busy connections would
// make the server distrust its session cache, sending every check to the database in the
// storm.
func (db *DB) SessionRevocationsSince(ctx context.Context, afterID int64, limit int) ([]backend.SessionRevocation, error) {
	q := db.conn(ctx)
	if _, ok := joined(ctx); !ok && db.probe != nil {
		q = pooled{db.probe}
	}
	rows, err := q.Query(ctx, `
		SELECT id, user_id, at FROM session_revocations WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
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
		r.At = fromNS(&at)
		revs = append(revs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session revocations: %w", err)
	}
	return revs, nil
}

// DeleteSessionRevocations removes the revocations recorded before before.
func (db *DB) DeleteSessionRevocations(ctx context.Context, before time.Time) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM session_revocations WHERE at < $1`, ns(before)); err != nil {
		return fmt.Errorf("delete session revocations: %w", err)
	}
	return nil
}

// TouchSessions sets each session's LastSeenAt to the time given for it unless it is later
// already: one UPDATE for all of them.
func (db *DB) TouchSessions(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	hashes := make([]string, 0, len(seen))
	times := make([]int64, 0, len(seen))
	for h, t := range seen {
		hashes, times = append(hashes, h), append(times, ns(t))
	}
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE sessions s SET last_seen_at = v.seen
		FROM unnest($1::text[], $2::bigint[]) AS v (token_hash, seen)
		WHERE s.token_hash = v.token_hash AND s.last_seen_at < v.seen`, hashes, times)
	if err != nil {
		return fmt.Errorf("touch sessions: %w", err)
	}
	return nil
}
