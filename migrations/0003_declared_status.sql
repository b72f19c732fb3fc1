-- A declaration may also say an item does not apply to the port at all
-- (n_a), e.g. Go's sync.Pool helpers in a language with ownership.
ALTER TABLE deferral_declarations ADD COLUMN status TEXT NOT NULL DEFAULT 'deferred' CHECK (status IN ('deferred', 'n_a'));
