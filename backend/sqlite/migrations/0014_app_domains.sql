-- 0014: forward-auth (issue 13, part 3).
--
-- app_domains: the host names an application protects, as an administrator gave them
-- (lower case, a leading "*." for exactly one more label). The domain is the key: each is
-- protected by one application. position keeps the administrator's order.
CREATE TABLE app_domains (
	domain   TEXT    NOT NULL PRIMARY KEY,
	app_id   INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	position INTEGER NOT NULL
);
CREATE INDEX app_domains_app ON app_domains (app_id);

-- login_returns: the page a forward-auth check sent a person from, bound to their login (the
-- token hash of the login attempt, moved to each next step's and at the end to the session's),
-- taken once when the login is complete. expires_at: Unix nanoseconds.
CREATE TABLE login_returns (
	owner_hash TEXT    NOT NULL PRIMARY KEY,
	url        TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX login_returns_expires ON login_returns (expires_at);
