-- 0001: users, recovery codes, login attempts, sessions and the audit log.
--
-- Times are INTEGER Unix nanoseconds (UTC); NULL means "none" (the zero time.Time).
-- Booleans are INTEGER 0/1.
-- IDs are AUTOINCREMENT: an ID is never reused, so an ID a caller still holds (a recovery code
-- read before its set was regenerated, an audit event's target) can never name a newer row.

CREATE TABLE users (
	id                   INTEGER PRIMARY KEY AUTOINCREMENT,
	username             TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	display_name         TEXT    NOT NULL DEFAULT '',
	email                TEXT    NOT NULL DEFAULT '',
	role                 TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
	password_hash        TEXT    NOT NULL,
	disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	two_factor_required  INTEGER NOT NULL DEFAULT 0 CHECK (two_factor_required IN (0, 1)),
	method               TEXT    NOT NULL DEFAULT 'none' CHECK (method IN ('none', 'app', 'sms')),
	sms_phone            TEXT,
	must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
	totp_secret          BLOB,    -- sealed (AES-GCM) by the service; never plaintext
	totp_pending         BLOB,    -- sealed, an app enrollment not confirmed yet
	totp_last_step       INTEGER, -- last accepted RFC 6238 time step (NULL: none)
	failed_count         INTEGER NOT NULL DEFAULT 0,
	next_try_at          INTEGER,
	locked_until         INTEGER,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL,

	-- The Two-Factor status, derived exactly as backend.User.TwoFactorStatus does, so that the
	-- admin list can filter and count by it through an index.
	two_factor_status    TEXT GENERATED ALWAYS AS (
		CASE
			WHEN method <> 'none' THEN 'enabled'
			WHEN two_factor_required THEN 'pending'
			ELSE 'no'
		END
	) VIRTUAL
);

-- Login lookup and the list's ORDER BY username use the UNIQUE index on username (NOCASE).
-- Filtered pages walk these in username order and stop at the page; counts are index-only.
CREATE INDEX users_status_username ON users (two_factor_status, username);
CREATE INDEX users_role_username ON users (role, username);
CREATE INDEX users_role_disabled ON users (role, disabled);

CREATE TABLE recovery_codes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	salt       BLOB    NOT NULL,
	hash       BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE login_attempts (
	token_hash TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	step       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	ip         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX login_attempts_user ON login_attempts (user_id);
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);

CREATE TABLE sessions (
	token_hash   TEXT    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	reauth_at    INTEGER,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- The audit log outlives the users it names: no foreign keys, names copied at the time.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	action      TEXT    NOT NULL,
	actor_id    INTEGER,
	actor_name  TEXT    NOT NULL DEFAULT '',
	target_id   INTEGER,
	target_name TEXT    NOT NULL DEFAULT '',
	detail      TEXT    NOT NULL DEFAULT '',
	ip          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_actor_name ON audit_events (actor_name COLLATE NOCASE);
CREATE INDEX audit_events_target_name ON audit_events (target_name COLLATE NOCASE);
