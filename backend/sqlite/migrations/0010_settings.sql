-- 0010: a place for the few values that belong to the database as a whole, one row each.
--
-- The first is the server key's check value ('key_check'): HMAC-SHA256 of the server key over
-- a fixed label (backend/keycheck.go), never the key, stored by the first Service that opens
-- the database. A server started with another key (a replica given the wrong key file) would
-- fail to open every sealed secret at its first login; it refuses to start instead.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
