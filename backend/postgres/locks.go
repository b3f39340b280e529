package postgres

import "context"

// The locks this store takes, beyond the row locks of its UPDATEs and DELETEs.
//
// A user's row, locked with SELECT … FOR NO KEY UPDATE (lockUser), is the mutex of everything
// that reads and then writes that user's state: FindUserForUpdate, the failure counter, the
// SMS caps, the sets replaced whole (recovery codes, the sheet on show, the enrollment). FOR
// NO KEY UPDATE rather than FOR UPDATE: it excludes every other writer of the row (an UPDATE
// that keeps the key takes the same lock) but not the KEY SHARE lock that an insert referring
// to the user (a session, a login attempt, an SMS code) takes for its foreign key, so
// signing in does not wait for the counter of a guess in flight.
//
// Decisions on rows that may not exist yet cannot lock a row: "there is no administrator yet"
// (the first administrator) and "this is the last enabled administrator". They take the
// administrators lock, a transaction-level advisory lock (pg_advisory_xact_lock, released at
// commit or rollback), and so does every write that changes who is an enabled administrator.
// The lock is exclusive: two first-administrator forms, or two administrators demoting each
// other on two servers, take turns, and the second decides on what the first committed (each
// statement at READ COMMITTED sees what was committed before it began).
//
// The texts from one sender are counted under the sender's lock (RecordInboundSMS), an advisory
// lock keyed by a hash of the number: two texts arriving at once on two servers both count.
//
// Deadlocks: a transaction takes its user row before the administrators lock, never after
// (UpdateUser locks the row first; the Service's changes begin with FindUserForUpdate), and
// holds one user's row at a time; a method that replaces a user's rows locks the user first.
// Transactions of the Service that delete a session's rows in different orders (a logout, an
// administrator's change) can still wait for each other: PostgreSQL ends one after a second
// (deadlock_timeout), and Atomically runs it again. The migration lock is taken alone.

// advisoryClass is the first key of every advisory lock of this store ("gate"): other
// programs using advisory locks in the same database pick other numbers.
const advisoryClass = 0x67617465

// Advisory locks, the second key.
const (
	lockMigrations     = 1 // one migrator at a time (two replicas starting at once)
	lockAdministrators = 2 // who is an enabled administrator (see above)
)

// lockAdmins takes the administrators lock until tx ends.
func lockAdmins(ctx context.Context, tx *Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryClass, lockAdministrators)
	return err
}

// lockUser locks the user's row until tx ends and reports whether the user exists.
func lockUser(ctx context.Context, tx *Tx, userID int64) (bool, error) {
	rows, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID)
	if err != nil {
		return false, err
	}
	return rows.RowsAffected() == 1, nil
}

// lockSender takes the lock of the inbound texts from sender until tx ends. Its key is a
// single bigint (a hash of the number), which PostgreSQL keeps apart from the two-part keys
// above.
func lockSender(ctx context.Context, tx *Tx, sender string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse sms sender ' || $1, 0))`, sender)
	return err
}
