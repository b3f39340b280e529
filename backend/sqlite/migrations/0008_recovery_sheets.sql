-- 0008: recovery codes on show live in the store (issue 10), as the setups of 0007 do.
--
-- A sheet is the set of recovery codes just handed out, kept until its owner says "I have saved
-- these codes" or it expires, so that a reload, another server on the data directory, or a
-- restarted one shows the same codes to whoever received them. owner_hash is the token hash of
-- the session, or login attempt, that received them (no foreign key, as in 0007: a sheet whose
-- owner has ended is never found again, and is purged once it has expired). The codes are
-- sealed by the service under the server key, bound to the user and the owner: the database
-- alone shows none of them. Times are INTEGER Unix nanoseconds (UTC), as in 0001.
CREATE TABLE recovery_sheets (
	owner_hash TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	codes      BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX recovery_sheets_user ON recovery_sheets (user_id);
CREATE INDEX recovery_sheets_expires ON recovery_sheets (expires_at);
