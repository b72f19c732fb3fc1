-- Globally unique history: copies of one porting.db on many branches and
-- machines are merged by their histories (`porttrack db merge`), so every
-- change and every evidence run carries an ID unique across copies (a
-- UUIDv7, with the writer's actor) beside the local integer IDs users see.
-- The hash chains cover these IDs for rows written from now on.

-- uid: the row's global ID; change_uid: shared by the rows of one call
-- (the global form of change_id); merge_claims: on a row `db merge` wrote
-- for a conflict, the claims it settled (JSON), else NULL.
ALTER TABLE status_history ADD COLUMN uid TEXT;
ALTER TABLE status_history ADD COLUMN change_uid TEXT;
ALTER TABLE status_history ADD COLUMN merge_claims TEXT;
-- Who recorded the run (history rows already name theirs).
ALTER TABLE gate_runs ADD COLUMN uid TEXT;
ALTER TABLE gate_runs ADD COLUMN actor TEXT;

-- Rows written before this migration get an ID derived from what they
-- already are (their chain hash, else their content), so two copies that
-- share those rows derive the same IDs when each is upgraded on its own.
-- The append-only guards are lifted for this one update and restored.
DROP TRIGGER status_history_append_only_update;
DROP TRIGGER gate_runs_append_only_update;
UPDATE status_history SET uid = 'legacy-' || CASE WHEN chain_hash IS NOT NULL THEN substr(chain_hash, 1, 32)
    ELSE lower(hex(item_kind || ':' || item_id || ':' || to_status || ':' || at || ':' || id)) END;
UPDATE status_history SET change_uid = (SELECT h.uid FROM status_history h WHERE h.change_id = status_history.change_id ORDER BY h.id LIMIT 1);
UPDATE gate_runs SET uid = 'legacy-' || CASE WHEN chain_hash IS NOT NULL THEN substr(chain_hash, 1, 32)
    ELSE lower(hex(kind || ':' || started_at || ':' || command || ':' || id)) END;
CREATE TRIGGER status_history_append_only_update BEFORE UPDATE ON status_history
BEGIN
    SELECT RAISE(ABORT, 'status_history is append-only');
END;
CREATE TRIGGER gate_runs_append_only_update BEFORE UPDATE ON gate_runs
BEGIN
    SELECT RAISE(ABORT, 'gate_runs is append-only');
END;

-- Rows up to these IDs carry derived IDs their hashes do not cover.
INSERT OR REPLACE INTO meta (key, value) SELECT 'chain.history_uid_legacy_upto', coalesce(max(id), 0) FROM status_history;
INSERT OR REPLACE INTO meta (key, value) SELECT 'chain.runs_uid_legacy_upto', coalesce(max(id), 0) FROM gate_runs;

CREATE UNIQUE INDEX status_history_by_uid ON status_history(uid);
CREATE INDEX status_history_by_change_uid ON status_history(change_uid);
CREATE UNIQUE INDEX gate_runs_by_uid ON gate_runs(uid);

CREATE TRIGGER status_history_needs_uid BEFORE INSERT ON status_history
WHEN NEW.chain_hash IS NOT NULL AND (NEW.uid IS NULL OR NEW.change_uid IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'history rows need a global ID (uid, change_uid)');
END;
CREATE TRIGGER gate_runs_need_uid BEFORE INSERT ON gate_runs
WHEN NEW.chain_hash IS NOT NULL AND NEW.uid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'gate runs need a global ID (uid)');
END;
