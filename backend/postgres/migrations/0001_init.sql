-- 0001: the schema as backend/sqlite's migrations 0001 to 0009 leave it, in PostgreSQL's types.
--
-- Times are bigint Unix nanoseconds (UTC), NULL for "none" (the zero time.Time): the values
-- SQLite stores, exact to the nanosecond (timestamptz keeps microseconds); to_timestamp(x / 1e9)
-- shows one. IDs are bigint identities: never reused, so an ID a caller still holds (a recovery
-- code read before its set was regenerated, an audit event's target) never names a newer row.
-- Keys and codes compared byte for byte (token hashes, roles, actions) are COLLATE "C", so that
-- equality, ordering and ranges do not depend on the database's locale.
--
-- Secrets are as in SQLite: TOTP secrets, Authorization Codes and the recovery codes on show
-- sealed by the service (AES-GCM, under a server key that is not in the database); recovery
-- codes, SMS codes and tokens only as hashes.

CREATE TABLE users (
	id                   bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username             text    NOT NULL,
	-- Usernames are unique and ordered ignoring ASCII case, as SQLite's NOCASE: lower() under
	-- the "C" collation folds A-Z only, whatever the database's locale.
	username_key         text    COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(username COLLATE "C")) STORED,
	display_name         text    NOT NULL DEFAULT '',
	email                text    NOT NULL DEFAULT '',
	role                 text    COLLATE "C" NOT NULL CHECK (role IN ('admin', 'user')),
	password_hash        text    NOT NULL,
	disabled             boolean NOT NULL DEFAULT false,
	two_factor_required  boolean NOT NULL DEFAULT false,
	method               text    COLLATE "C" NOT NULL DEFAULT 'none' CHECK (method IN ('none', 'app', 'sms')),
	sms_phone            text,
	must_change_password boolean NOT NULL DEFAULT false,
	totp_secret          bytea,   -- sealed (AES-GCM) by the service; never plaintext
	totp_last_step       bigint,  -- last accepted RFC 6238 time step (NULL: none)
	failed_count         integer NOT NULL DEFAULT 0,
	next_try_at          bigint,
	locked_until         bigint,
	created_at           bigint  NOT NULL,
	updated_at           bigint  NOT NULL,
	-- Goes up with every change of what a login is checked against or leads to (SQLite 0005).
	credentials_version  bigint  NOT NULL DEFAULT 0,

	-- The Two-Factor status, derived exactly as backend.User.TwoFactorStatus does, so that the
	-- admin list can filter and count by it through an index.
	two_factor_status    text    COLLATE "C" NOT NULL GENERATED ALWAYS AS (
		CASE
			WHEN method <> 'none' THEN 'enabled'
			WHEN two_factor_required THEN 'pending'
			ELSE 'no'
		END
	) STORED
);

CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE INDEX users_status_username ON users (two_factor_status, username_key);
CREATE INDEX users_role_username ON users (role, username_key);
CREATE INDEX users_role_disabled ON users (role, disabled);

-- The admin list's substring search (ILIKE '%…%' on username, display name and email) through
-- trigram indexes, as SQLite's migration 0002 does with FTS5: without them a search scans every
-- user. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_search_username ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_search_display_name ON users USING gin (display_name gin_trgm_ops);
CREATE INDEX users_search_email ON users USING gin (email gin_trgm_ops);

CREATE TABLE recovery_codes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	salt       bytea  NOT NULL,
	hash       bytea  NOT NULL,
	created_at bigint NOT NULL,
	used_at    bigint
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE login_attempts (
	token_hash          text   COLLATE "C" PRIMARY KEY,
	user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	step                text   COLLATE "C" NOT NULL,
	created_at          bigint NOT NULL,
	expires_at          bigint NOT NULL,
	ip                  text   NOT NULL DEFAULT '',
	credentials_version bigint NOT NULL DEFAULT 0 -- the user's when the attempt was created
);
CREATE INDEX login_attempts_user ON login_attempts (user_id);
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);

CREATE TABLE sessions (
	token_hash   text   COLLATE "C" PRIMARY KEY,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   bigint NOT NULL,
	last_seen_at bigint NOT NULL,
	reauth_at    bigint,
	ip           text   NOT NULL DEFAULT '',
	user_agent   text   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_created ON sessions (created_at);

-- The audit log outlives the users it names: no foreign keys, names copied at the time.
CREATE TABLE audit_events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          bigint NOT NULL,
	action      text   COLLATE "C" NOT NULL,
	actor_id    bigint,
	actor_name  text   NOT NULL DEFAULT '',
	target_id   bigint,
	target_name text   NOT NULL DEFAULT '',
	detail      text   NOT NULL DEFAULT '',
	ip          text   NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_actor_name ON audit_events (lower(actor_name COLLATE "C"));
CREATE INDEX audit_events_target_name ON audit_events (lower(target_name COLLATE "C"));

-- Login codes sent by text (SQLite 0003). A row is also the record of one text sent, for the
-- resend cooldown and the hourly cap, so it outlives its login attempt (no foreign key to it).
CREATE TABLE sms_codes (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	attempt_hash text   COLLATE "C" NOT NULL,
	code_hash    text   COLLATE "C" NOT NULL,
	created_at   bigint NOT NULL,
	expires_at   bigint NOT NULL,
	used_at      bigint
);
CREATE INDEX sms_codes_user_created ON sms_codes (user_id, created_at);
CREATE INDEX sms_codes_attempt ON sms_codes (attempt_hash, code_hash);
CREATE INDEX sms_codes_created ON sms_codes (created_at);

-- Inbound texts by Twilio MessageSid: a delivery retried is recognised, and texts per sender
-- are counted.
CREATE TABLE sms_inbound (
	message_sid text   COLLATE "C" PRIMARY KEY,
	sender      text   COLLATE "C" NOT NULL,
	received_at bigint NOT NULL
);
CREATE INDEX sms_inbound_sender ON sms_inbound (sender, received_at);
CREATE INDEX sms_inbound_received ON sms_inbound (received_at);

-- Failure counters for usernames that name no account (SQLite 0004, 0005), keyed by an HMAC of
-- the case-folded name under a key derived from the server key: never the typed name.
CREATE TABLE unknown_logins (
	name_hash    text    COLLATE "C" PRIMARY KEY, -- hex HMAC-SHA256 of the case-folded username
	failed_count integer NOT NULL DEFAULT 0,
	next_try_at  bigint,
	locked_until bigint,
	updated_at   bigint  NOT NULL
);
CREATE INDEX unknown_logins_updated ON unknown_logins (updated_at);

-- The one-time link that creates the first administrator (SQLite 0006): only its hash. There is
-- at most one, which the primary key on the constant column one says to the database: a new link
-- is one upsert, so two servers printing a link at once leave one, the later.
CREATE TABLE setup_link (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	token_hash text    COLLATE "C" NOT NULL,
	expires_at bigint  NOT NULL
);

-- Two-Factor setups in progress belong to whoever began them (SQLite 0007): owner_hash is the
-- token hash of the session, or login attempt, that began it; no foreign key on it (it names a
-- row of sessions or of login_attempts), a setup whose owner has ended is never found again and
-- is purged.

-- "Use an App": the new secret, sealed as users.totp_secret is.
CREATE TABLE app_enrollments (
	owner_hash text   COLLATE "C" PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret     bytea  NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX app_enrollments_user ON app_enrollments (user_id);
CREATE INDEX app_enrollments_expires ON app_enrollments (expires_at);

-- "Use SMS": the Authorization Code's keyed hash (what the inbound webhook looks up) and the
-- code sealed, so that its owner's page can show it again.
CREATE TABLE sms_enrollments (
	owner_hash  text   COLLATE "C" PRIMARY KEY,
	user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash   text   COLLATE "C" NOT NULL UNIQUE,
	code_sealed bytea  NOT NULL,
	phone       text,            -- E.164; NULL until the text arrives
	created_at  bigint NOT NULL,
	received_at bigint,
	expires_at  bigint NOT NULL  -- the code's end; once received, the confirmation's
);
CREATE INDEX sms_enrollments_user ON sms_enrollments (user_id);
CREATE INDEX sms_enrollments_expires ON sms_enrollments (expires_at);

-- Recovery codes on show (SQLite 0008), sealed, bound to the session or login that received them.
CREATE TABLE recovery_sheets (
	owner_hash text   COLLATE "C" PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	codes      bytea  NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX recovery_sheets_user ON recovery_sheets (user_id);
CREATE INDEX recovery_sheets_expires ON recovery_sheets (expires_at);

-- The status bar's one-time flash (sqlite 0009): bound to the browser's flash token (its hash)
-- and to the session it was set for ('' when nobody is signed in), taken once by one
-- conditional DELETE ... RETURNING, purged when expired or when its session is gone.
CREATE TABLE flashes (
	token_hash   text   COLLATE "C" PRIMARY KEY,
	session_hash text   COLLATE "C" NOT NULL,
	notice       text   NOT NULL,
	expires_at   bigint NOT NULL
);
CREATE INDEX flashes_expires ON flashes (expires_at);
