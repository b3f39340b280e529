-- 0013: the failure counter's second-factor mark and lock streak, as backend/sqlite's 0020.
ALTER TABLE users ADD COLUMN second_factor_failed boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN lock_streak integer NOT NULL DEFAULT 0;
