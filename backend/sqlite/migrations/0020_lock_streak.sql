-- 0020: the failure counter says whether a second factor failed in it, and how many locks in a
-- row such counts reached, each doubling the next (security review M2: backend.LockoutPolicy).
ALTER TABLE users ADD COLUMN second_factor_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN lock_streak INTEGER NOT NULL DEFAULT 0;
