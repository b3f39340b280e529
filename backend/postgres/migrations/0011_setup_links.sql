-- 0011: a first-administrator link per server that printed one (SQLite's setup_link always
-- allowed several: its key is the token hash). With one row at most, each replica's printed
-- link voided the one printed before, so only the last replica's worked. The constant key goes,
-- the token hash is the key; AddSetupLink keeps the table bounded.
ALTER TABLE setup_link DROP COLUMN one;
ALTER TABLE setup_link ADD PRIMARY KEY (token_hash);
