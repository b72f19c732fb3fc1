-- Modules are items like features and tests: one per directory of the
-- source, named by the directory's last component, with a status, a batch
-- and history. Progress counts all three kinds.
CREATE TABLE modules (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    dir      TEXT NOT NULL UNIQUE,          -- relative to the imported directory's parent
    batch_id INTEGER REFERENCES batches(id),
    status   TEXT NOT NULL DEFAULT 'not_started'
             CHECK (status IN ('not_started', 'stub', 'complete', 'verified', 'deferred', 'n_a')),
    notes    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX modules_by_batch ON modules(batch_id, status);
CREATE INDEX modules_by_name ON modules(name);

ALTER TABLE source_files ADD COLUMN module_id INTEGER REFERENCES modules(id);
CREATE INDEX source_files_by_module ON source_files(module_id);

-- A database made before modules existed: each file's directory becomes a
-- module (numbered by name, then directory), all in one new batch.
INSERT INTO modules (id, name, dir)
SELECT row_number() OVER (ORDER BY name, dir), name, dir
FROM (
    SELECT DISTINCT d.dir, CASE WHEN instr(d.dir, '/') = 0 THEN d.dir
                                ELSE substr(d.dir, length(rtrim(d.dir, replace(d.dir, '/', ''))) + 1) END AS name
    FROM (SELECT CASE WHEN instr(path, '/') = 0 THEN '.'
                      ELSE substr(path, 1, length(rtrim(path, replace(path, '/', ''))) - 1) END AS dir
          FROM source_files) d
);
UPDATE source_files SET module_id = (
    SELECT m.id FROM modules m
    WHERE m.dir = CASE WHEN instr(source_files.path, '/') = 0 THEN '.'
                       ELSE substr(source_files.path, 1, length(rtrim(source_files.path, replace(source_files.path, '/', ''))) - 1) END);
INSERT INTO batches (id, name, description)
SELECT coalesce((SELECT max(id) FROM batches), 0) + 1, 'Modules', (SELECT count(*) FROM modules) || ' modules'
WHERE EXISTS (SELECT 1 FROM modules);
UPDATE modules SET batch_id = (SELECT max(id) FROM batches);

-- status_history's item_kind CHECK must admit 'module'. SQLite cannot
-- change a CHECK in place, so the table is rebuilt with the same columns
-- (0005's chain_hash included), rows, IDs, indexes and triggers. (Dropping a table fires no
-- triggers, so the append-only guard does not stop the rebuild.)
CREATE TABLE status_history_new (
    id              INTEGER PRIMARY KEY,
    item_kind       TEXT NOT NULL CHECK (item_kind IN ('feature', 'test', 'module')),
    item_id         INTEGER NOT NULL,
    batch_id        INTEGER,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    reason          TEXT,
    override_id     INTEGER REFERENCES overrides(id),
    evidence_run    INTEGER REFERENCES gate_runs(id),
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL,
    command         TEXT NOT NULL,
    change_id       INTEGER NOT NULL,         -- rows written by one call share it
    chain_hash      TEXT                      -- 0005's hash chain
);
INSERT INTO status_history_new (id, item_kind, item_id, batch_id, from_status, to_status, reason, override_id, evidence_run, actor, at, command, change_id, chain_hash)
SELECT id, item_kind, item_id, batch_id, from_status, to_status, reason, override_id, evidence_run, actor, at, command, change_id, chain_hash FROM status_history;
DROP TABLE status_history;
ALTER TABLE status_history_new RENAME TO status_history;
CREATE INDEX status_history_by_item ON status_history(item_kind, item_id);
CREATE INDEX status_history_by_batch ON status_history(batch_id);
CREATE TRIGGER status_history_append_only_update BEFORE UPDATE ON status_history
BEGIN
    SELECT RAISE(ABORT, 'status_history is append-only');
END;
CREATE TRIGGER status_history_append_only_delete BEFORE DELETE ON status_history
BEGIN
    SELECT RAISE(ABORT, 'status_history is append-only');
END;
CREATE TRIGGER status_history_needs_chain_hash BEFORE INSERT ON status_history
WHEN NEW.chain_hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'history rows are written by porttrack only (no chain hash)');
END;

-- Upstream drift: the plan numbers items at one commit, the port follows
-- another. Each `import go DIR --as-of COMMIT` records every item present at
-- that commit with its extent and body hash there; IDs never change.
CREATE TABLE upstream_commits (
    id          INTEGER PRIMARY KEY,
    commit_id   TEXT NOT NULL UNIQUE,
    root        TEXT NOT NULL,                -- path prefix of the items it covers (server/)
    imported_at TEXT NOT NULL
);
CREATE TABLE upstream_items (
    upstream_id INTEGER NOT NULL REFERENCES upstream_commits(id),
    item_kind   TEXT NOT NULL CHECK (item_kind IN ('feature', 'test')),
    item_id     INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    loc         INTEGER NOT NULL,
    body_hash   TEXT NOT NULL,
    PRIMARY KEY (upstream_id, item_kind, item_id)
) WITHOUT ROWID;

-- An item first seen at an upstream commit names it: it is not in the
-- plan's inventory, and the plan's progress counts it apart. The body hash
-- the port followed when an item last became complete or verified is kept,
-- so a later upstream change is flagged.
ALTER TABLE features ADD COLUMN first_upstream INTEGER REFERENCES upstream_commits(id);
ALTER TABLE features ADD COLUMN proven_hash TEXT;
ALTER TABLE tests ADD COLUMN first_upstream INTEGER REFERENCES upstream_commits(id);
ALTER TABLE tests ADD COLUMN proven_hash TEXT;
ALTER TABLE modules ADD COLUMN first_upstream INTEGER REFERENCES upstream_commits(id);
-- Progress counts plan items apart from those first seen upstream; the
-- count stays a scan of a covering index.
DROP INDEX features_by_batch;
CREATE INDEX features_by_batch ON features(batch_id, file_id, status, first_upstream);
DROP INDEX tests_by_batch;
CREATE INDEX tests_by_batch ON tests(batch_id, file_id, status, first_upstream);
UPDATE features SET proven_hash = body_hash WHERE status IN ('complete', 'verified');
UPDATE tests SET proven_hash = body_hash WHERE status IN ('complete', 'verified');

-- A module is verified only when every feature and test of the plan in it
-- is verified or n_a, and at least one is verified: its evidence is its
-- items'. (Items first seen upstream are outside the plan.)
CREATE TRIGGER modules_verified_needs_verified_items_update BEFORE UPDATE OF status ON modules
WHEN NEW.status = 'verified' AND (
    EXISTS (SELECT 1 FROM features f JOIN source_files s ON s.id = f.file_id
            WHERE s.module_id = NEW.id AND f.first_upstream IS NULL AND f.status NOT IN ('verified', 'n_a'))
    OR EXISTS (SELECT 1 FROM tests t JOIN source_files s ON s.id = t.file_id
               WHERE s.module_id = NEW.id AND t.first_upstream IS NULL AND t.status NOT IN ('verified', 'n_a'))
    OR NOT EXISTS (SELECT 1 FROM features f JOIN source_files s ON s.id = f.file_id
                   WHERE s.module_id = NEW.id AND f.first_upstream IS NULL AND f.status = 'verified'
                   UNION ALL
                   SELECT 1 FROM tests t JOIN source_files s ON s.id = t.file_id
                   WHERE s.module_id = NEW.id AND t.first_upstream IS NULL AND t.status = 'verified'))
BEGIN
    SELECT RAISE(ABORT, 'a module is verified only when every feature and test in it is verified or n_a');
END;
CREATE TRIGGER modules_verified_needs_verified_items_insert BEFORE INSERT ON modules
WHEN NEW.status = 'verified'
BEGIN
    SELECT RAISE(ABORT, 'a module is verified only when every feature and test in it is verified or n_a');
END;
