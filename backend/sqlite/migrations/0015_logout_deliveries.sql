-- 0015: OpenID Connect Back-Channel Logout 1.0 (issue 13, "Sessions end everywhere").
--
-- One row per (session, application) the session signed in to, written when the application
-- exchanged its code (it then holds an ID token with the session's sid). While the session is
-- live the row waits (ended_at NULL). The transaction that ends the session (a logout, an
-- administrator's Disable or Two-Factor change, a password set, an expiry) sets ended_at and
-- next_try_at: the row is then a logout token to deliver, to the application's
-- backchannel_logout_uri as it is when it is sent. A server claims due rows by setting lease
-- and lease_until in one conditional UPDATE; a row is deleted once delivered or given up.
-- No row is kept for an application without a back-channel URI once its session has ended.
CREATE TABLE oidc_logout_deliveries (
	id           INTEGER PRIMARY KEY,
	session_hash TEXT    NOT NULL,
	sid          TEXT    NOT NULL DEFAULT '',
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	ended_at     INTEGER,
	next_try_at  INTEGER,
	tries        INTEGER NOT NULL DEFAULT 0,
	lease        TEXT,
	lease_until  INTEGER,
	last_error   TEXT    NOT NULL DEFAULT '',
	UNIQUE (session_hash, app_id)
);
CREATE INDEX oidc_logout_deliveries_user ON oidc_logout_deliveries (user_id);
CREATE INDEX oidc_logout_deliveries_due ON oidc_logout_deliveries (next_try_at) WHERE ended_at IS NOT NULL;

-- What an application's page says about its deliveries: the last one delivered, the last
-- attempt that failed and why (an HTTP status or a network error, never the token).
CREATE TABLE oidc_logout_status (
	app_id          INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	delivered_at    INTEGER,
	failed_at       INTEGER,
	failure         TEXT    NOT NULL DEFAULT '',
	given_up_at     INTEGER
);
