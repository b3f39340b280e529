-- 0010: the OpenID Connect provider's review fixes (issue 13), as backend/sqlite's 0018.
--
-- prompt and max_age (seconds, NULL for none) of an authorization request; family_id, the
-- token family its code was exchanged for (a code presented again revokes it).
ALTER TABLE oidc_auth_requests ADD COLUMN prompt text NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN max_age bigint;
ALTER TABLE oidc_auth_requests ADD COLUMN family_id text COLLATE "C" NOT NULL DEFAULT '';

-- The requests of an application that wait for a login nobody has begun.
CREATE INDEX oidc_auth_requests_waiting ON oidc_auth_requests (app_id, expires_at) WHERE owner_hash = '' AND NOT done;
