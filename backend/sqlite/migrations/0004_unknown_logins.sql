-- 0004: failure counters for usernames that name no account. Login attempts for them are
-- counted and throttled exactly like real ones, so that neither the answer, its timing, nor the
-- lockout tells an attacker which usernames exist. Rows nobody has tried for a day are purged.
CREATE TABLE unknown_logins (
	username     TEXT    PRIMARY KEY COLLATE NOCASE,
	failed_count INTEGER NOT NULL DEFAULT 0,
	next_try_at  INTEGER,
	locked_until INTEGER,
	updated_at   INTEGER NOT NULL
);
CREATE INDEX unknown_logins_updated ON unknown_logins (updated_at);
