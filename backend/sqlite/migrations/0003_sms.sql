-- 0003: text messages — enrollment by text, login codes, and the inbound texts seen.
--
-- Codes are stored only as keyed hashes (the key derives from the server key, which is not in
-- the database). Times are INTEGER Unix nanoseconds (UTC), as in 0001.

-- A pending enrollment by text, one per user: the Authorization Code shown, and once its text
-- has arrived, the sender's number awaiting the user's confirmation.
CREATE TABLE sms_enrollments (
	user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	code_hash   TEXT    NOT NULL UNIQUE,
	phone       TEXT,             -- E.164; NULL until the text arrives
	created_at  INTEGER NOT NULL,
	received_at INTEGER,
	expires_at  INTEGER NOT NULL  -- the code's end; once received, the confirmation's
);
CREATE INDEX sms_enrollments_expires ON sms_enrollments (expires_at);

-- Login codes sent by text. A row is also the record of one text sent, for the resend
-- cooldown and the hourly cap, so it outlives its login attempt (no foreign key to it).
CREATE TABLE sms_codes (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	attempt_hash TEXT    NOT NULL,
	code_hash    TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	used_at      INTEGER
);
CREATE INDEX sms_codes_user_created ON sms_codes (user_id, created_at);
CREATE INDEX sms_codes_attempt ON sms_codes (attempt_hash, code_hash);

-- Inbound texts by Twilio MessageSid: a delivery retried is recognised, and texts per sender
-- are counted.
CREATE TABLE sms_inbound (
	message_sid TEXT    PRIMARY KEY,
	sender      TEXT    NOT NULL,
	received_at INTEGER NOT NULL
);
CREATE INDEX sms_inbound_sender ON sms_inbound (sender, received_at);
CREATE INDEX sms_inbound_received ON sms_inbound (received_at);
