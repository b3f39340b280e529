-- 0013: session revocations (issue 13, "Sessions
-- end everywhere"). Each server keeps the sessions it has checked in memory
-- (backend/sessioncache.go); a row here, written in the transaction of the change, tells every
-- server to forget what it holds of the user: their sessions ended or their rights changed
-- (logout, disable, Two-Factor change or reset, password set, role change). Servers read the
-- rows after the last id they saw, every 250 ms; rows older than an hour are deleted.
--
-- AUTOINCREMENT: an id is never reused, even after the newest row is deleted, so "after the
-- last id seen" never skips a row. SQLite has one writer, so ids are committed in order.
CREATE TABLE session_revocations (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX session_revocations_at ON session_revocations (at);
