-- 0009: the light-blue status bar is a one-time flash the server sets (issue 11), never a query
-- string anyone can put in a link.
--
-- A flash is the sentence of the status bar after a change the server just made for one
-- browser, kept until that browser's next page view or until it expires. token_hash is the hash
-- of the random token in the browser's flash cookie; session_hash is the token hash of the
-- session it was set for, '' for a browser nobody is signed in to (logged out, the first
-- administrator created). A flash is taken only with both, by one conditional DELETE … RETURNING:
-- another session, even with the cookie, finds nothing. No foreign key, as in 0007: a flash whose
-- session has ended is never found again, and is purged with the expired sessions. Times are
-- INTEGER Unix nanoseconds (UTC), as in 0001.
CREATE TABLE flashes (
	token_hash   TEXT    PRIMARY KEY,
	session_hash TEXT    NOT NULL,
	notice       TEXT    NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX flashes_expires ON flashes (expires_at);
