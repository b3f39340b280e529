-- 0004: the OpenID Connect provider (issue 13, part 2), as backend/sqlite's 0012.
--
-- Sessions gain their public ID (OpenID Connect's "sid": random, no credential) and how
-- their login was proven (amr, space-separated RFC 8176 values).
ALTER TABLE sessions ADD COLUMN sid text COLLATE "C" UNIQUE;
ALTER TABLE sessions ADD COLUMN amr text COLLATE "C" NOT NULL DEFAULT 'pwd';

-- An audit event about an application names it here, not as a user.
ALTER TABLE audit_events ADD COLUMN target_app text NOT NULL DEFAULT '';
UPDATE audit_events SET target_app = target_name, target_name = ''
	WHERE action LIKE 'app.%' AND target_id IS NULL;

-- One authorization request; code_hash is the SHA-256 of the code, never the code.
CREATE TABLE oidc_auth_requests (
	id             text    COLLATE "C" PRIMARY KEY,
	app_id         bigint  NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	client_id      text    COLLATE "C" NOT NULL,
	redirect_uri   text    COLLATE "C" NOT NULL,
	state          text    NOT NULL DEFAULT '',
	nonce          text    NOT NULL DEFAULT '',
	scopes         text    NOT NULL DEFAULT '',
	response_type  text    NOT NULL DEFAULT '',
	response_mode  text    NOT NULL DEFAULT '',
	code_challenge text    COLLATE "C" NOT NULL DEFAULT '',
	owner_hash     text    COLLATE "C" NOT NULL DEFAULT '',
	user_id        bigint,
	sid            text    COLLATE "C" NOT NULL DEFAULT '',
	amr            text    NOT NULL DEFAULT '',
	auth_time      bigint,
	done           boolean NOT NULL DEFAULT false,
	code_hash      text    COLLATE "C" UNIQUE,
	code_used_at   bigint,
	created_at     bigint  NOT NULL,
	expires_at     bigint  NOT NULL
);
CREATE INDEX oidc_auth_requests_owner ON oidc_auth_requests (owner_hash);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

-- Access and refresh tokens issued to applications: their SHA-256 only.
CREATE TABLE oidc_tokens (
	token_hash   text   COLLATE "C" PRIMARY KEY,
	kind         text   COLLATE "C" NOT NULL CHECK (kind IN ('access', 'refresh')),
	family_id    text   COLLATE "C" NOT NULL,
	app_id       bigint NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	client_id    text   COLLATE "C" NOT NULL,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash text   COLLATE "C" NOT NULL,
	sid          text   COLLATE "C" NOT NULL DEFAULT '',
	scopes       text   NOT NULL DEFAULT '',
	amr          text   NOT NULL DEFAULT '',
	auth_time    bigint,
	used_at      bigint,
	created_at   bigint NOT NULL,
	expires_at   bigint NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_hash);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at);

-- The signing keys: the private key sealed with the server key. One current key at most.
CREATE TABLE oidc_signing_keys (
	kid        text   COLLATE "C" PRIMARY KEY,
	alg        text   COLLATE "C" NOT NULL,
	sealed     bytea  NOT NULL,
	public_der bytea  NOT NULL,
	created_at bigint NOT NULL,
	retired_at bigint
);
CREATE UNIQUE INDEX oidc_signing_keys_current ON oidc_signing_keys (alg) WHERE retired_at IS NULL;
