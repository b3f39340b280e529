-- 0009: passkeys and security keys (WebAuthn, issue 14), as backend/sqlite's 0017.
--
-- users.method may now be 'webauthn' (the CHECK of 0001 has PostgreSQL's default name).
ALTER TABLE users DROP CONSTRAINT users_method_check;
ALTER TABLE users ADD CONSTRAINT users_method_check CHECK (method IN ('none', 'app', 'sms', 'webauthn'));

-- webauthn_credentials: the keys people registered. credential_id is the authenticator's ID
-- (unique across everyone); record the library's credential record (JSON: public key, flags,
-- authenticator data); sign_count, backup_eligible and backup_state the values checked at each
-- login. Times are Unix nanoseconds; last_used_at and clone_warning_at NULL for none.
CREATE TABLE webauthn_credentials (
	id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id          bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id    bytea   NOT NULL UNIQUE,
	name             text    NOT NULL,
	record           bytea   NOT NULL,
	sign_count       bigint  NOT NULL DEFAULT 0,
	backup_eligible  boolean NOT NULL DEFAULT false,
	backup_state     boolean NOT NULL DEFAULT false,
	created_at       bigint  NOT NULL,
	last_used_at     bigint,
	clone_warning_at bigint
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- webauthn_ceremonies: a registration or login begun and not finished (the library's
-- SessionData, JSON, with its challenge), keyed by the token hash of the session or login
-- attempt that began it and the kind; taken (deleted) once.
CREATE TABLE webauthn_ceremonies (
	owner_hash text   COLLATE "C" NOT NULL,
	kind       text   COLLATE "C" NOT NULL CHECK (kind IN ('registration', 'login')),
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	data       bytea  NOT NULL,
	expires_at bigint NOT NULL,
	PRIMARY KEY (owner_hash, kind)
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user ON webauthn_ceremonies (user_id);
