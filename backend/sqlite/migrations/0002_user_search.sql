-- 0002: a trigram full-text index over username, display name and email, so that the admin
-- list's substring search does not scan every user (a LIKE '%x%' scan of 100,000 users takes
-- far longer than the list's 25 ms budget). It is an external-content table: it stores only
-- the index, and the triggers keep it in step with users.

CREATE VIRTUAL TABLE users_search USING fts5 (
	username, display_name, email,
	content = 'users', content_rowid = 'id',
	tokenize = 'trigram case_sensitive 0'
);

INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
	INSERT INTO users_search (rowid, username, display_name, email)
	VALUES (new.id, new.username, new.display_name, new.email);
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
	INSERT INTO users_search (users_search, rowid, username, display_name, email)
	VALUES ('delete', old.id, old.username, old.display_name, old.email);
END;

-- Only when a searched column changes: counters, TOTP steps and flags do not touch the index.
CREATE TRIGGER users_search_update AFTER UPDATE OF username, display_name, email ON users BEGIN
	INSERT INTO users_search (users_search, rowid, username, display_name, email)
	VALUES ('delete', old.id, old.username, old.display_name, old.email);
	INSERT INTO users_search (rowid, username, display_name, email)
	VALUES (new.id, new.username, new.display_name, new.email);
END;
