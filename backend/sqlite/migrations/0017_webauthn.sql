-- 0017: passkeys and security keys (WebAuthn, issue 14).
--
-- users.method may now be 'webauthn'. SQLite cannot alter a CHECK constraint, and rebuilding
-- users would cascade-delete every row that refers to it (foreign_keys is on, and cannot be
-- turned off inside the migration's transaction). Widening a CHECK changes nothing stored, so
-- this uses SQLite's documented procedure for such changes (https://sqlite.org/lang_altertable.html,
-- "making other kinds of table schema changes"): edit the table's SQL text in sqlite_schema,
-- then reload it (writable_schema = RESET). The CREATE TABLEs below change the schema cookie,
-- so every other connection reloads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
	SET sql = replace(sql, '(''none'', ''app'', ''sms'')', '(''none'', ''app'', ''sms'', ''webauthn'')')
	WHERE type = 'table' AND name = 'users';
PRAGMA writable_schema = RESET;

-- webauthn_credentials: the keys people registered. credential_id is the authenticator's ID
-- (unique across everyone); record the library's credential record (JSON: public key, flags,
-- authenticator data); sign_count, backup_eligible and backup_state the values checked at each
-- login. Times are Unix nanoseconds; last_used_at and clone_warning_at NULL for none.
CREATE TABLE webauthn_credentials (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id    BLOB    NOT NULL UNIQUE,
	name             TEXT    NOT NULL,
	record           BLOB    NOT NULL,
	sign_count       INTEGER NOT NULL DEFAULT 0,
	backup_eligible  INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
	backup_state     INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
	created_at       INTEGER NOT NULL,
	last_used_at     INTEGER,
	clone_warning_at INTEGER
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- webauthn_ceremonies: a registration or login begun and not finished (the library's
-- SessionData, JSON, with its challenge), keyed by the token hash of the session or login
-- attempt that began it and the kind; taken (deleted) once.
CREATE TABLE webauthn_ceremonies (
	owner_hash TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('registration', 'login')),
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	data       BLOB    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (owner_hash, kind)
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user ON webauthn_ceremonies (user_id);
