-- 0007: OpenID Connect Back-Channel Logout 1.0, as backend/sqlite's 0015: one row per
-- (session, application) the session signed in to; the transaction that ends the session
-- sets ended_at and next_try_at, and a server claims due rows (FOR UPDATE SKIP LOCKED, then
-- lease and lease_until) so that two servers never send one logout at once. Deleted once
-- delivered or given up.
CREATE TABLE oidc_logout_deliveries (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_hash text   COLLATE "C" NOT NULL,
	sid          text   COLLATE "C" NOT NULL DEFAULT '',
	app_id       bigint NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   bigint NOT NULL,
	ended_at     bigint,
	next_try_at  bigint,
	tries        integer NOT NULL DEFAULT 0,
	lease        text   COLLATE "C",
	lease_until  bigint,
	last_error   text   NOT NULL DEFAULT '',
	UNIQUE (session_hash, app_id)
);
CREATE INDEX oidc_logout_deliveries_user ON oidc_logout_deliveries (user_id);
CREATE INDEX oidc_logout_deliveries_due ON oidc_logout_deliveries (next_try_at) WHERE ended_at IS NOT NULL;

-- What an application's page says about its deliveries.
CREATE TABLE oidc_logout_status (
	app_id       bigint PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	delivered_at bigint,
	failed_at    bigint,
	failure      text   NOT NULL DEFAULT '',
	given_up_at  bigint
);
