-- Evidence porttrack produced itself, and history that cannot be rewritten
-- quietly (README, "What counts as evidence").

-- Where a gate run's command and results came from, the tree before and
-- after, and what that makes the run: trusted (the committed gate on a
-- clean commit), adhoc, dirty, or legacy (recorded before these columns).
ALTER TABLE gate_runs ADD COLUMN provenance TEXT NOT NULL DEFAULT 'legacy' CHECK (provenance IN ('trusted', 'adhoc', 'dirty', 'legacy'));
ALTER TABLE gate_runs ADD COLUMN untrusted_because TEXT;
ALTER TABLE gate_runs ADD COLUMN command_source TEXT CHECK (command_source IN ('config', 'command_line'));
ALTER TABLE gate_runs ADD COLUMN config_sha256 TEXT;
ALTER TABLE gate_runs ADD COLUMN results_source TEXT CHECK (results_source IN ('output', 'results_dir', 'external_file'));
ALTER TABLE gate_runs ADD COLUMN results_dir TEXT;
ALTER TABLE gate_runs ADD COLUMN results_path TEXT;
ALTER TABLE gate_runs ADD COLUMN git_commit_end TEXT;
ALTER TABLE gate_runs ADD COLUMN git_dirty_end INTEGER CHECK (git_dirty_end IN (0, 1));
ALTER TABLE gate_runs ADD COLUMN origin TEXT CHECK (origin IN ('gate', 'verify'));
-- link(previous run's chain_hash, the run's content with its results and
-- file hashes); see src/domain/chain.rs.
ALTER TABLE gate_runs ADD COLUMN chain_hash TEXT;
-- link(previous row's chain_hash, the row's content).
ALTER TABLE status_history ADD COLUMN chain_hash TEXT;

-- Rows recorded before the chain existed carry no hash; audit names them.
INSERT OR REPLACE INTO meta (key, value) SELECT 'chain.history_legacy_upto', coalesce(max(id), 0) FROM status_history;
INSERT OR REPLACE INTO meta (key, value) SELECT 'chain.runs_legacy_upto', coalesce(max(id), 0) FROM gate_runs;

-- Evidence is append-only, like the history.
CREATE TRIGGER gate_runs_append_only_update BEFORE UPDATE ON gate_runs
BEGIN
    SELECT RAISE(ABORT, 'gate_runs is append-only');
END;
CREATE TRIGGER gate_runs_append_only_delete BEFORE DELETE ON gate_runs
BEGIN
    SELECT RAISE(ABORT, 'gate_runs is append-only');
END;
CREATE TRIGGER gate_results_append_only_update BEFORE UPDATE ON gate_results
BEGIN
    SELECT RAISE(ABORT, 'gate_results is append-only');
END;
CREATE TRIGGER gate_results_append_only_delete BEFORE DELETE ON gate_results
BEGIN
    SELECT RAISE(ABORT, 'gate_results is append-only');
END;
CREATE TRIGGER gate_file_hashes_append_only_update BEFORE UPDATE ON gate_file_hashes
BEGIN
    SELECT RAISE(ABORT, 'gate_file_hashes is append-only');
END;
CREATE TRIGGER gate_file_hashes_append_only_delete BEFORE DELETE ON gate_file_hashes
BEGIN
    SELECT RAISE(ABORT, 'gate_file_hashes is append-only');
END;

-- New rows are chained by porttrack; a row without a hash was not.
CREATE TRIGGER gate_runs_need_chain_hash BEFORE INSERT ON gate_runs
WHEN NEW.chain_hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'gate runs are recorded by porttrack only (no chain hash)');
END;
CREATE TRIGGER status_history_needs_chain_hash BEFORE INSERT ON status_history
WHEN NEW.chain_hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'history rows are written by porttrack only (no chain hash)');
END;

-- `verified` needs a trusted run of the item's own batch that completed.
CREATE TRIGGER tests_verified_needs_trusted_evidence BEFORE UPDATE OF status, evidence_run ON tests
WHEN NEW.status = 'verified' AND NOT EXISTS (
    SELECT 1 FROM gate_runs g
    WHERE g.id = NEW.evidence_run AND g.kind = 'test' AND g.provenance = 'trusted'
      AND g.outcome IN ('passed', 'failed') AND g.batch_id IS NEW.batch_id)
BEGIN
    SELECT RAISE(ABORT, 'verified needs trusted evidence: a completed run of the committed test gate for the item''s batch');
END;
CREATE TRIGGER features_verified_needs_trusted_evidence BEFORE UPDATE OF status, evidence_run ON features
WHEN NEW.status = 'verified' AND NOT EXISTS (
    SELECT 1 FROM gate_runs g
    WHERE g.id = NEW.evidence_run AND g.kind = 'test' AND g.provenance = 'trusted'
      AND g.outcome IN ('passed', 'failed') AND g.batch_id IS NEW.batch_id)
BEGIN
    SELECT RAISE(ABORT, 'verified needs trusted evidence: a completed run of the committed test gate for the item''s batch');
END;
