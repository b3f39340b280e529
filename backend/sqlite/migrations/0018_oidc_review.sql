-- 0018: the OpenID Connect provider's review fixes (issue 13).
--
-- prompt (space-separated, the values Gatehouse acts on) and max_age (seconds, NULL for
-- none) of an authorization request: a session older than it asked for logs in again.
-- family_id is the token family its code was exchanged for: a code presented again revokes
-- it (RFC 6749 §4.1.2).
ALTER TABLE oidc_auth_requests ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN max_age INTEGER;
ALTER TABLE oidc_auth_requests ADD COLUMN family_id TEXT NOT NULL DEFAULT '';

-- The requests of an application that wait for a login nobody has begun, counted at every
-- new request against backend.MaxPendingAuthRequests.
CREATE INDEX oidc_auth_requests_waiting ON oidc_auth_requests (app_id, expires_at) WHERE owner_hash = '' AND done = 0;
