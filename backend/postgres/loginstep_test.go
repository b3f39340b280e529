package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// loginStep runs the store calls of a TOTP step (VerifyTOTP: the attempt and its user locked,
// the charge, the secret, the consume, the sign-in) in one Atomically transaction, with tamper
// called after the secret is read, and returns what ConsumeTOTPStep and CompleteLogin
// answered and Atomically's error.
func loginStep(t *testing.T, db *DB, attempt string, step int64, tamper func(tx *Tx)) (consumed, completed bool, err error) {
	t.Helper()
	err = db.Atomically(ctx, func(ctx context.Context) error {
		tx, _ := joined(ctx)
		_, u, err := db.FindLoginAttemptForUpdate(ctx, attempt)
		if err != nil {
			return err
		}
		if err := db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, now time.Time) error { f.Count++; return nil }); err != nil {
			return err
		}
		if _, err := db.TOTPSecret(ctx, u.ID); err != nil {
			return err
		}
		tamper(tx)
		if consumed, err = db.ConsumeTOTPStep(ctx, u.ID, step); err != nil || !consumed {
			return err
		}
		completed, err = db.CompleteLogin(ctx, attempt, &backend.Session{TokenHash: "session " + attempt, UserID: u.ID})
		return err
	})
	return consumed, completed, err
}

// TestLoginStepQueuedWritesAreTheAuthority: in a login step, ConsumeTOTPStep and CompleteLogin
// answer before their statements run (the row locks make the answer certain) and the
// statements go with the COMMIT. Were an answer ever wrong, the statement itself fails, and
// with it the whole transaction: nothing commits, not even the failure charge before it.
func TestLoginStepQueuedWritesAreTheAuthority(t *testing.T) {
	db, _ := newDB(t)
	u := createUser(t, db, "bob", backend.RoleUser)
	if _, err := db.pool.Exec(ctx, `UPDATE users SET method = 'app', totp_secret = '\x01', totp_last_step = 100 WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a1", "a2"} {
		if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: a, UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (count int, last int64, sessions int) {
		t.Helper()
		err := db.pool.QueryRow(ctx, `SELECT failed_count, totp_last_step, (SELECT count(*) FROM sessions) FROM users WHERE id = $1`, u.ID).
			Scan(&count, &last, &sessions)
		if err != nil {
			t.Fatal(err)
		}
		return count, last, sessions
	}

	// As used: a replayed step is refused from the locked read, a later one signs in.
	if consumed, _, err := loginStep(t, db, "a1", 100, func(*Tx) {}); err != nil || consumed {
		t.Fatalf("step 100 again: consumed %v, %v; want false, nil", consumed, err)
	}
	if count, last, sessions := state(); count != 1 || last != 100 || sessions != 0 {
		t.Fatalf("after the replay: count %d, last step %d, %d sessions; want 1, 100, 0", count, last, sessions)
	}
	if consumed, completed, err := loginStep(t, db, "a1", 101, func(*Tx) {}); err != nil || !consumed || !completed {
		t.Fatalf("step 101: consumed %v, completed %v, %v; want true, true, nil", consumed, completed, err)
	}
	if count, last, sessions := state(); count != 2 || last != 101 || sessions != 1 {
		t.Fatalf("after step 101: count %d, last step %d, %d sessions; want 2, 101, 1", count, last, sessions)
	}

	// A last step read wrongly (none): the consume is answered true, but its UPDATE matches
	// no row, and the transaction fails before its COMMIT.
	consumed, _, err := loginStep(t, db, "a2", 50, func(tx *Tx) { tx.totpLast[u.ID] = nil })
	if !consumed || err == nil {
		t.Fatalf("stale last step: consumed %v, %v; want true and an error", consumed, err)
	}
	if count, last, sessions := state(); count != 2 || last != 101 || sessions != 1 {
		t.Fatalf("after the stale step: count %d, last step %d, %d sessions; want 2, 101, 1 (nothing committed)", count, last, sessions)
	}

	// An attempt taken for locked that is gone: CompleteLogin is answered true, its statement
	// inserts no session, and nothing commits (the audit event after it neither).
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_attempts WHERE token_hash = 'a2'`); err != nil {
		t.Fatal(err)
	}
	err = db.Atomically(ctx, func(ctx context.Context) error {
		tx, _ := joined(ctx)
		if _, err := db.FindUserForUpdate(ctx, u.ID); err != nil { // begun: what follows goes with the COMMIT
			return err
		}
		tx.attempts["a2"] = true // wrongly: a2 is gone
		ok, err := db.CompleteLogin(ctx, "a2", &backend.Session{TokenHash: "session a2", UserID: u.ID})
		if !ok || err != nil {
			t.Errorf("CompleteLogin of a2 taken for locked: %v, %v; want true, nil", ok, err)
		}
		return db.AddAuditEvent(ctx, &backend.AuditEvent{Action: "test.after"})
	})
	if err == nil {
		t.Fatal("CompleteLogin of a gone attempt taken for locked: Atomically succeeded, want an error")
	}
	var events int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'test.after'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if _, _, sessions := state(); sessions != 1 || events != 0 {
		t.Fatalf("%d sessions, %d audit events; want 1, 0", sessions, events)
	}
}

// TestFoldQueuedWrites: the writes a login step queues for its COMMIT (the consume with the
// counter reset, the sign-in, the move of what it resumes, the audit event) go as one statement; parts that
// update or delete rows of one table, and a write that is not a part, are not folded together
// (the CTEs of one statement do not see each other's writes).
func TestFoldQueuedWrites(t *testing.T) {
	tx := &Tx{now: t0, failures: map[int64]backend.Failures{}, attempts: map[string]bool{"a": true}, totpLast: map[int64]*int64{}}
	var e backend.AuditEvent
	step := func() {
		tx.laterPart(nil, consumeTOTP(true), int64(7), int64(1), 0, nil, nil)
		part, args := completeLogin(tx, "a", &backend.Session{TokenHash: "s", UserID: 1}, true)
		tx.laterPart(nil, part, args...)
		tx.laterPart(nil, moveLoginResume, "s", "a")
		tx.laterPart(nil, &foldPart{ctes: `{p}event AS (INSERT INTO audit_events (at, action) VALUES ($1, $2) RETURNING id)`,
			answer: `(SELECT id FROM {p}event)`, scan: &e.ID}, int64(0), "x")
	}
	step()
	if got := fold(tx.pending); len(got) != 1 || len(got[0].args) != 5+10+2+2 {
		t.Fatalf("a login step's writes folded into %d statements; want 1 with 19 arguments", len(got))
	} else if s := got[0].sql; !strings.Contains(s, "w1_session AS") || !strings.Contains(s, "FROM w1_attempt") ||
		!strings.Contains(s, "$19") || strings.Contains(s, "{p}") {
		t.Fatalf("folded statement:\n%s", s)
	}
	tx.pending = nil
	tx.laterPart(nil, moveLoginResume, "b", "a")
	tx.laterPart(nil, moveLoginResume, "c", "b")
	tx.later(nil, updateFailuresSQL, 0, nil, nil, int64(1))
	step()
	if got := fold(tx.pending); len(got) != 4 {
		t.Fatalf("two moves of login_resumes, a counter write, a login step: %d statements, want 4 (move, move, write, the step)", len(got))
	}
}

// TestLoginStepSecretFromTheLockedRead: in a TOTP step the secret comes from the locked read of
// the attempt and its user, with no statement of its own, and the charge, still queued, goes
// into the consume's UPDATE: the step is [BEGIN, the locked read], [one statement, COMMIT].
// A statement sent between the locked read and TOTPSecret (here one that changes the secret)
// makes TOTPSecret read the secret again.
func TestLoginStepSecretFromTheLockedRead(t *testing.T) {
	db, _ := newDB(t)
	u := createUser(t, db, "bob", backend.RoleUser)
	if _, err := db.pool.Exec(ctx, `UPDATE users SET method = 'app', totp_secret = '\x01', totp_last_step = 100 WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a1", "a2"} {
		if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: a, UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	charge := func(ctx context.Context) error {
		return db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, now time.Time) error { f.Count++; return nil })
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		tx, _ := joined(ctx)
		if _, _, err := db.FindLoginAttemptForUpdate(ctx, "a1"); err != nil {
			return err
		}
		if err := charge(ctx); err != nil {
			return err
		}
		secret, err := db.TOTPSecret(ctx, u.ID)
		if err != nil {
			return err
		}
		if string(secret) != "\x01" || len(tx.pending) != 1 || !isCharge(tx.pending[0], u.ID) {
			t.Errorf("TOTPSecret: secret %q, %d writes queued; want \"\\x01\" and the charge still queued (no statement sent)", secret, len(tx.pending))
		}
		if ok, err := db.ConsumeTOTPStep(ctx, u.ID, 101); err != nil || !ok {
			return fmt.Errorf("consume: %v, %v", ok, err)
		}
		if len(tx.pending) != 1 || tx.pending[0].consumes != u.ID || !strings.Contains(tx.pending[0].sql, "failed_count = $3") {
			t.Errorf("after the consume, queued: %d writes (%q); want 1, the consume writing the charge", len(tx.pending), tx.pending[0].sql)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var count int
	var last int64
	if err := db.pool.QueryRow(ctx, `SELECT failed_count, totp_last_step FROM users WHERE id = $1`, u.ID).Scan(&count, &last); err != nil {
		t.Fatal(err)
	} else if count != 1 || last != 101 {
		t.Fatalf("after the step: count %d, last step %d; want 1, 101 (the charge written with the consume)", count, last)
	}

	err = db.Atomically(ctx, func(ctx context.Context) error {
		tx, _ := joined(ctx)
		if _, _, err := db.FindLoginAttemptForUpdate(ctx, "a2"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '\x02' WHERE id = $1`, u.ID); err != nil {
			return err
		}
		if err := charge(ctx); err != nil {
			return err
		}
		if secret, err := db.TOTPSecret(ctx, u.ID); err != nil {
			return err
		} else if string(secret) != "\x02" {
			t.Errorf("TOTPSecret after a statement that changed it: %q, want \"\\x02\"", secret)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
