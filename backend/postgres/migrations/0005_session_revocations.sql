-- 0005: session revocations, as backend/sqlite's
-- 0013: a row per user whose cached sessions every server must forget (backend/sessioncache.go).
--
-- Ids come from the identity in the order rows are committed: RevokeSessions inserts them
-- just before its transaction commits, under an advisory lock (revocation.go), so a server
-- reading "id > last seen" can never see a later id before an earlier one is committed.
-- No foreign key: a row may outlive its user, and must not block deleting one.
CREATE TABLE session_revocations (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint NOT NULL,
	at      bigint NOT NULL
);
CREATE INDEX session_revocations_at ON session_revocations (at);
