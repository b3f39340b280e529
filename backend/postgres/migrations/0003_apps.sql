-- 0003: applications (issue 13, part 1), as backend/sqlite's 0011: the company's other
-- applications that trust a Gatehouse login, registered by administrators.
--
-- client_id is random and stable (not secret); secret_hash is the hex SHA-256 of the 32-byte
-- random client secret, never the secret, and '' for a public application (no secret, PKCE).
-- Names are unique ignoring ASCII case (name_key, as users.username_key).
CREATE TABLE apps (
	id                     bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id              text    COLLATE "C" NOT NULL UNIQUE,
	name                   text    NOT NULL,
	name_key               text    COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED,
	public                 boolean NOT NULL DEFAULT false,
	secret_hash            text    COLLATE "C" NOT NULL DEFAULT '',
	audience               text    COLLATE "C" NOT NULL DEFAULT 'everyone' CHECK (audience IN ('everyone', 'admins')),
	require_two_factor     boolean NOT NULL DEFAULT false,
	backchannel_logout_uri text    NOT NULL DEFAULT '',
	created_at             bigint  NOT NULL,
	updated_at             bigint  NOT NULL
);
CREATE UNIQUE INDEX apps_name_key ON apps (name_key);

-- An application's URIs, matched exactly (byte for byte: COLLATE "C"). position keeps the
-- order the administrator gave.
CREATE TABLE app_uris (
	app_id   bigint  NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	kind     text    COLLATE "C" NOT NULL CHECK (kind IN ('redirect')),
	position integer NOT NULL,
	uri      text    COLLATE "C" NOT NULL,
	PRIMARY KEY (app_id, kind, uri)
);
