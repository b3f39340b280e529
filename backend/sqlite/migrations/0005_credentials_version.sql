-- 0005: a credentials version on users and login attempts, and unknown usernames counted under
-- a keyed hash instead of in clear (issue 9, F1, F3, F7).
--
-- users.credentials_version goes up with every change of what a login is checked against or
-- leads to: the password (and must-change flag), Two-Factor (required, enrolled, disabled,
-- reset), the role, disabled. A login step that verified a password or a code against one
-- version refuses to create a session or the next attempt if the row has another by then: a
-- login in flight does not outlive "Set password" or "Require Two-Factor". A login attempt
-- keeps the version it was created under, and every later step checks it again.
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_attempts ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;

-- The counters of 0004 held the typed name, whatever it was (a password typed in the wrong
-- field, or megabytes). They are now keyed by an HMAC of the case-folded name under a key
-- derived from the server key, which is not in the database: fixed size, and useless to a
-- reader of the file. The old rows are counters that expire within hours: they go.
DROP TABLE unknown_logins;
CREATE TABLE unknown_logins (
	name_hash    TEXT    PRIMARY KEY, -- hex HMAC-SHA256 of the case-folded username
	failed_count INTEGER NOT NULL DEFAULT 0,
	next_try_at  INTEGER,
	locked_until INTEGER,
	updated_at   INTEGER NOT NULL
);
CREATE INDEX unknown_logins_updated ON unknown_logins (updated_at);

-- The audit events written before this for unknown usernames named them in clear, and a
-- password typed in the username field with them: the name goes (the pages it held are reused;
-- VACUUM would give them back to the file system).
UPDATE audit_events SET target_name = '(unknown username)'
WHERE target_id IS NULL AND detail = 'unknown username' AND action IN ('login.failure', 'login.throttled');
