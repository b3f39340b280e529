-- 0007: a Two-Factor setup in progress belongs to whoever began it (issue 9, F4).
--
-- A pending app enrollment and a pending SMS enrollment are keyed by their owner: the token
-- hash of the session, or of the login attempt at the enroll step, that began them. Only that
-- owner finds them again, so another session of the same user can neither see nor confirm
-- them. There is no foreign key on owner_hash (it names a row of sessions or of
-- login_attempts): a setup whose owner has ended is never found again, and is purged once it
-- has expired. Times are INTEGER Unix nanoseconds (UTC), as in 0001.
--
-- The setups kept per user until now have no owner: they are dropped, and whoever was in the
-- middle of one starts it again.

-- "Use an App": the new secret, sealed by the service under the server key exactly as
-- users.totp_secret is (it becomes that value when a code confirms it).
CREATE TABLE app_enrollments (
	owner_hash TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX app_enrollments_user ON app_enrollments (user_id);
CREATE INDEX app_enrollments_expires ON app_enrollments (expires_at);

ALTER TABLE users DROP COLUMN totp_pending;

-- "Use SMS": the Authorization Code's keyed hash (what the inbound webhook looks up) and the
-- code itself sealed under the server key, so that its owner's page can show it again.
DROP TABLE sms_enrollments;
CREATE TABLE sms_enrollments (
	owner_hash  TEXT    PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash   TEXT    NOT NULL UNIQUE,
	code_sealed BLOB    NOT NULL,
	phone       TEXT,             -- E.164; NULL until the text arrives
	created_at  INTEGER NOT NULL,
	received_at INTEGER,
	expires_at  INTEGER NOT NULL  -- the code's end; once received, the confirmation's
);
CREATE INDEX sms_enrollments_user ON sms_enrollments (user_id);
CREATE INDEX sms_enrollments_expires ON sms_enrollments (expires_at);
