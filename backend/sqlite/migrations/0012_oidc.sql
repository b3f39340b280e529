-- 0012: the OpenID Connect provider (issue 13, part 2).
--
-- Sessions gain their public ID (OpenID Connect's "sid": random, no credential) and how
-- their login was proven (amr, space-separated RFC 8176 values). Sessions from before have
-- no sid until they end; their amr is unknown and taken as the password alone.
ALTER TABLE sessions ADD COLUMN sid TEXT;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
CREATE UNIQUE INDEX sessions_sid ON sessions (sid);

-- An audit event about an application names it here, not as a user: the log's User column
-- and username filter are about accounts. The application events of 0011 move over.
ALTER TABLE audit_events ADD COLUMN target_app TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET target_app = target_name, target_name = ''
	WHERE action >= 'app.' AND action < 'app/' AND target_id IS NULL;

-- One authorization request, from /oidc/authorize until its code is exchanged or it expires.
-- owner_hash is the token hash of the login attempt or session that finishes it; once done,
-- user_id, sid, amr and auth_time say who signed in and how. code_hash is the SHA-256 of the
-- code (never the code); code_used_at is set by the one conditional UPDATE that uses it.
CREATE TABLE oidc_auth_requests (
	id             TEXT    PRIMARY KEY,
	app_id         INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	client_id      TEXT    NOT NULL,
	redirect_uri   TEXT    NOT NULL,
	state          TEXT    NOT NULL DEFAULT '',
	nonce          TEXT    NOT NULL DEFAULT '',
	scopes         TEXT    NOT NULL DEFAULT '',
	response_type  TEXT    NOT NULL DEFAULT '',
	response_mode  TEXT    NOT NULL DEFAULT '',
	code_challenge TEXT    NOT NULL DEFAULT '',
	owner_hash     TEXT    NOT NULL DEFAULT '',
	user_id        INTEGER,
	sid            TEXT    NOT NULL DEFAULT '',
	amr            TEXT    NOT NULL DEFAULT '',
	auth_time      INTEGER,
	done           INTEGER NOT NULL DEFAULT 0,
	code_hash      TEXT    UNIQUE,
	code_used_at   INTEGER,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL
);
CREATE INDEX oidc_auth_requests_owner ON oidc_auth_requests (owner_hash);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

-- Access and refresh tokens issued to applications: their SHA-256 only. family_id is shared
-- by every token descended from one code; session_hash binds them to the session that signed
-- in (they stop working when it ends).
CREATE TABLE oidc_tokens (
	token_hash   TEXT    PRIMARY KEY,
	kind         TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
	family_id    TEXT    NOT NULL,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	client_id    TEXT    NOT NULL,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash TEXT    NOT NULL,
	sid          TEXT    NOT NULL DEFAULT '',
	scopes       TEXT    NOT NULL DEFAULT '',
	amr          TEXT    NOT NULL DEFAULT '',
	auth_time    INTEGER,
	used_at      INTEGER,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_hash);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at);

-- The provider's signing keys: the private key sealed with the server key (never in clear),
-- the public one as DER. retired_at NULL is the current key; there is one at most.
CREATE TABLE oidc_signing_keys (
	kid        TEXT    PRIMARY KEY,
	alg        TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	public_der BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER
);
CREATE UNIQUE INDEX oidc_signing_keys_current ON oidc_signing_keys (alg) WHERE retired_at IS NULL;
