-- 0011: applications (issue 13, part 1): the company's other applications that trust a
-- Gatehouse login, registered by administrators.
--
-- client_id is random and stable (not secret); secret_hash is the hex SHA-256 of the 32-byte
-- random client secret, never the secret, and '' for a public application (no secret, PKCE).
-- Names are unique ignoring ASCII case, as usernames are (NOCASE). Times are INTEGER Unix
-- nanoseconds (UTC), as in 0001.
CREATE TABLE apps (
	id                     INTEGER PRIMARY KEY,
	client_id              TEXT    NOT NULL UNIQUE,
	name                   TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	public                 INTEGER NOT NULL DEFAULT 0,
	secret_hash            TEXT    NOT NULL DEFAULT '',
	audience               TEXT    NOT NULL DEFAULT 'everyone' CHECK (audience IN ('everyone', 'admins')),
	require_two_factor     INTEGER NOT NULL DEFAULT 0,
	backchannel_logout_uri TEXT    NOT NULL DEFAULT '',
	created_at             INTEGER NOT NULL,
	updated_at             INTEGER NOT NULL
);

-- An application's URIs, matched exactly. kind is 'redirect' now; OpenID Connect's
-- post-logout redirect URIs (part 2) are the same kind of list. position keeps the order the
-- administrator gave.
CREATE TABLE app_uris (
	app_id   INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	kind     TEXT    NOT NULL CHECK (kind IN ('redirect')),
	position INTEGER NOT NULL,
	uri      TEXT    NOT NULL,
	PRIMARY KEY (app_id, kind, uri)
);
