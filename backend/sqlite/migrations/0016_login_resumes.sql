-- 0016: one binding of what a login resumes (issue 13's leftovers).
--
-- login_resumes: what a login goes back to once it is complete, bound to the token hash of its
-- login attempt (moved to each next step's, and at the end to the session's), taken once: an
-- OpenID Connect sign-in (auth_request_id) or a protected page (url), exactly one of them.
-- expires_at: Unix nanoseconds. It replaces login_returns (pages only) and the pending
-- requests' owner_hash (sign-ins only): oidc_auth_requests.owner_hash now names only the
-- session a complete request was completed for.
CREATE TABLE login_resumes (
	owner_hash      TEXT    NOT NULL PRIMARY KEY,
	auth_request_id TEXT,
	url             TEXT,
	expires_at      INTEGER NOT NULL,
	CHECK ((auth_request_id IS NULL) <> (url IS NULL))
);
CREATE INDEX login_resumes_expires ON login_resumes (expires_at);

-- Logins under way carry on: their pending sign-ins (the newest of each login's), then their
-- pages (a login that had both goes back to the sign-in, as it did).
INSERT OR IGNORE INTO login_resumes (owner_hash, auth_request_id, expires_at)
	SELECT owner_hash, id, expires_at FROM oidc_auth_requests
	WHERE owner_hash <> '' AND done = 0
	ORDER BY created_at DESC, id;
UPDATE oidc_auth_requests SET owner_hash = '' WHERE done = 0;
INSERT OR IGNORE INTO login_resumes (owner_hash, url, expires_at)
	SELECT owner_hash, url, expires_at FROM login_returns;
DROP TABLE login_returns;
