package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gatehouse/backend"
)

// AddAuditEvent stores e and sets e.ID and e.At (the transaction's time).
func (db *DB) AddAuditEvent(ctx context.Context, e *backend.AuditEvent) error {
	now := db.now(ctx)
	res, err := db.execer(ctx).ExecContext(ctx, `
		INSERT INTO audit_events (at, action, actor_id, actor_name, target_id, target_name, detail, ip, target_app)
		VALUES (?, ?, NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?, ?)`,
		now.UnixNano(), e.Action, e.ActorID, e.ActorName, e.TargetID, e.TargetName, e.Detail, e.IP, e.TargetApp)
	if err != nil {
		return fmt.Errorf("add audit event: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("add audit event: %w", err)
	}
	e.ID, e.At = id, now
	return nil
}

// DeleteAuditEvents removes the events recorded before before (strictly) and reports how many
// went. It deletes in batches, each its own transaction, so that a first purge of years of
// events does not hold the write lock (and every login) for seconds.
func (db *DB) DeleteAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.execer(ctx).ExecContext(ctx, `
			DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)`,
			before.UnixNano(), auditDeleteBatch)
		if err != nil {
			return total, fmt.Errorf("delete audit events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete audit events: %w", err)
		}
		total += n
		if n < auditDeleteBatch {
			return total, nil
		}
	}
}

// auditDeleteBatch is how many audit events DeleteAuditEvents deletes per transaction.
var auditDeleteBatch int64 = 5000 // a variable for tests

// FindAuditEvents returns one page of the events matching f, newest first, and the number of
// all events matching f. f.Action matches exactly, or as a prefix when it ends in "."; so does
// each of f.Actions, of which an event must match one; f.Since
// is inclusive and f.Until exclusive.
func (db *DB) FindAuditEvents(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEvent, int, error) {
	var where []string
	var args []any
	if a := f.Action; strings.HasSuffix(a, ".") {
		// A range instead of LIKE, so that the action index serves it: "login." <= action <
		// "login/" ('/' follows '.') is every action starting with "login.".
		where = append(where, `action >= ? AND action < ?`)
		args = append(args, a, a[:len(a)-1]+"/")
	} else if a != "" {
		where = append(where, `action = ?`)
		args = append(args, a)
	}
	if len(f.Actions) > 0 {
		var alts []string
		for _, a := range f.Actions {
			if strings.HasSuffix(a, ".") {
				alts = append(alts, `(action >= ? AND action < ?)`)
				args = append(args, a, a[:len(a)-1]+"/")
			} else {
				alts = append(alts, `action = ?`)
				args = append(args, a)
			}
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	if f.Username != "" {
		where = append(where, `(actor_name = ? COLLATE NOCASE OR target_name = ? COLLATE NOCASE)`)
		args = append(args, f.Username, f.Username)
	}
	if !f.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, `at < ?`)
		args = append(args, f.Until.UnixNano())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	offset, limit := page(f.Offset, f.Limit)

	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	defer tx.Rollback()

	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, at, action, COALESCE(actor_id, 0), actor_name, COALESCE(target_id, 0), target_name, detail, ip, target_app
		FROM audit_events`+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	events := []*backend.AuditEvent{}
	for rows.Next() {
		var e backend.AuditEvent
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.ActorID, &e.ActorName, &e.TargetID, &e.TargetName, &e.Detail, &e.IP, &e.TargetApp); err != nil {
			return nil, 0, fmt.Errorf("find audit events: %w", err)
		}
		e.At = nullTime(at)
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	return events, total, nil
}
