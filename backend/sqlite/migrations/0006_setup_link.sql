-- 0006: the one-time link that creates the first administrator, in the store rather than in the
-- memory of the server that printed it: another server on the same data directory accepts it,
-- and a restart does not void it. Only the hash of its token is kept; there is at most one.
CREATE TABLE setup_link (
	token_hash TEXT    PRIMARY KEY,
	expires_at INTEGER NOT NULL
);
