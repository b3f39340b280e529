package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
)

// AddAuditEvent stores e and sets e.ID and e.At (the transaction's time). Its text is stored
// as text() makes it: an event is never lost to a byte PostgreSQL cannot hold.
//
// Inside an Atomically transaction that has begun, the insert is queued (Tx.later) and goes
// with the transaction's next statement or its COMMIT: nothing in the transaction waits for
// it, and it commits with the change it records or not at all. e.ID is then set when it has
// been sent, by the time Atomically returns.
func (db *DB) AddAuditEvent(ctx context.Context, e *backend.AuditEvent) error {
	now := db.now(ctx)
	const insert = `
		INSERT INTO audit_events (at, action, actor_id, actor_name, target_id, target_name, detail, ip, target_app)
		VALUES ($1, $2, NULLIF($3, 0), $4, NULLIF($5, 0), $6, $7, $8, $9)
		RETURNING id`
	args := []any{ns(now), text(e.Action), e.ActorID, text(e.ActorName), e.TargetID, text(e.TargetName), text(e.Detail), text(e.IP), text(e.TargetApp)}
	e.At = now
	if tx, ok := joined(ctx); ok && tx.Tx != nil && tx.failures != nil {
		tx.laterPart(func(br pgx.BatchResults) error {
			if err := br.QueryRow().Scan(&e.ID); err != nil {
				return fmt.Errorf("add audit event: %w", err)
			}
			return nil
		}, &foldPart{ctes: `{p}event AS (` + insert + `)`, answer: `(SELECT id FROM {p}event)`, scan: &e.ID}, args...)
		return nil
	}
	if err := db.conn(ctx).QueryRow(ctx, insert, args...).Scan(&e.ID); err != nil {
		return fmt.Errorf("add audit event: %w", err)
	}
	return nil
}

// DeleteAuditEvents removes the events recorded before before (strictly) and reports how many
// went. It deletes in batches, each its own transaction, so that a first purge of years of
// events does not hold one long transaction (and its locks) for seconds.
func (db *DB) DeleteAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.conn(ctx).Exec(ctx, `
			DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)`,
			ns(before), auditDeleteBatch)
		if err != nil {
			return total, fmt.Errorf("delete audit events: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < auditDeleteBatch {
			return total, nil
		}
	}
}

// auditDeleteBatch is how many audit events DeleteAuditEvents deletes per transaction.
var auditDeleteBatch int64 = 5000 // a variable for tests

// FindAuditEvents returns one page of the events matching f, newest first, and the number of
// all events matching f, both from one snapshot. f.Action matches exactly, or as a prefix when
// it ends in "."; so does each of f.Actions, of which an event must match one; f.Username
// matches the actor's or the target's name ignoring ASCII case; f.Since is inclusive and
// f.Until exclusive.
func (db *DB) FindAuditEvents(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEvent, int, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !storable(f.Action) || !storable(f.Username) {
		return []*backend.AuditEvent{}, 0, nil // no stored text holds such bytes
	}
	if a := f.Action; strings.HasSuffix(a, ".") {
		// A range instead of LIKE, so that the action index serves it: "login." <= action <
		// "login/" ('/' follows '.'; the column is COLLATE "C") is every action starting with
		// "login.".
		where = append(where, `action >= `+arg(a)+` AND action < `+arg(a[:len(a)-1]+"/"))
	} else if a != "" {
		where = append(where, `action = `+arg(a))
	}
	if len(f.Actions) > 0 {
		var alts []string
		for _, a := range f.Actions {
			if !storable(a) {
				continue // matches nothing stored; the other alternatives may
			}
			if strings.HasSuffix(a, ".") {
				alts = append(alts, `(action >= `+arg(a)+` AND action < `+arg(a[:len(a)-1]+"/")+`)`)
			} else {
				alts = append(alts, `action = `+arg(a))
			}
		}
		if len(alts) == 0 {
			return []*backend.AuditEvent{}, 0, nil
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	if f.Username != "" {
		p := arg(f.Username)
		where = append(where, `(lower(actor_name COLLATE "C") = lower(`+p+` COLLATE "C") OR lower(target_name COLLATE "C") = lower(`+p+` COLLATE "C"))`)
	}
	if !f.Since.IsZero() {
		where = append(where, `at >= `+arg(ns(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, `at < `+arg(ns(f.Until)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	offset, limit := page(f.Offset, f.Limit)

	var events []*backend.AuditEvent
	var total int
	err := db.readTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_events`+cond, args...).Scan(&total); err != nil {
			return err
		}
		n := len(args)
		rows, err := tx.Query(ctx, `
			SELECT id, at, action, COALESCE(actor_id, 0), actor_name, COALESCE(target_id, 0), target_name, detail, ip, target_app
			FROM audit_events`+cond+` ORDER BY id DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
			append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		events = []*backend.AuditEvent{}
		for rows.Next() {
			var e backend.AuditEvent
			var at int64
			if err := rows.Scan(&e.ID, &at, &e.Action, &e.ActorID, &e.ActorName, &e.TargetID, &e.TargetName, &e.Detail, &e.IP, &e.TargetApp); err != nil {
				return err
			}
			e.At = fromNS(&at)
			events = append(events, &e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	return events, total, nil
}
