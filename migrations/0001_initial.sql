-- porttrack schema, version 1. Migrations are append-only: never edit a
-- released file, add NNNN_name.sql instead.

-- Facts about the database itself (origin of its inventory, …).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Source files/modules of the codebase being ported.
CREATE TABLE source_files (
    id      INTEGER PRIMARY KEY,
    path    TEXT NOT NULL UNIQUE,
    is_test INTEGER NOT NULL CHECK (is_test IN (0, 1)),
    lines   INTEGER NOT NULL CHECK (lines >= 0)
);

-- Batches are numbered by the plan; the number is what users type.
-- A batch's status is derived from its items and never stored.
CREATE TABLE batches (
    id          INTEGER PRIMARY KEY CHECK (id >= 0),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE batch_dependencies (
    batch_id   INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    depends_on INTEGER NOT NULL REFERENCES batches(id),
    PRIMARY KEY (batch_id, depends_on),
    CHECK (batch_id <> depends_on)
) WITHOUT ROWID;

-- Test-gate runs: the evidence behind `verified`.
CREATE TABLE gate_runs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('build', 'test')),
    command       TEXT NOT NULL,            -- JSON array of argv
    cwd           TEXT NOT NULL,
    started_at    TEXT NOT NULL,            -- RFC 3339, UTC
    duration_ms   INTEGER NOT NULL CHECK (duration_ms >= 0),
    exit_code     INTEGER,                  -- NULL when killed or never started
    outcome       TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'timed_out', 'could_not_run')),
    failure       TEXT,                     -- why the gate did not pass
    format        TEXT,
    tests_passed  INTEGER NOT NULL DEFAULT 0,
    tests_failed  INTEGER NOT NULL DEFAULT 0,
    tests_skipped INTEGER NOT NULL DEFAULT 0,
    git_commit    TEXT,
    git_dirty     INTEGER CHECK (git_dirty IN (0, 1)),
    log_path      TEXT,
    log_sha256    TEXT,
    batch_id      INTEGER REFERENCES batches(id)
);

-- Per-test outcome within a test-gate run.
CREATE TABLE gate_results (
    run_id      INTEGER NOT NULL REFERENCES gate_runs(id),
    test_name   TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'skipped')),
    duration_ms INTEGER,
    PRIMARY KEY (run_id, test_name)
) WITHOUT ROWID;

-- SHA-256 of each Rust target file when the run was recorded (NULL: the
-- file did not exist), so a later edit can flag `verified` items as stale.
CREATE TABLE gate_file_hashes (
    run_id INTEGER NOT NULL REFERENCES gate_runs(id),
    path   TEXT NOT NULL,
    sha256 TEXT,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;

-- Functions and methods of the source. `batch_id` is the item's batch
-- membership (at most one batch per item).
CREATE TABLE features (
    id           INTEGER PRIMARY KEY,
    file_id      INTEGER NOT NULL REFERENCES source_files(id),
    line         INTEGER NOT NULL,
    receiver     TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    loc          INTEGER NOT NULL,
    body_hash    TEXT NOT NULL,
    batch_id     INTEGER REFERENCES batches(id),
    status       TEXT NOT NULL DEFAULT 'not_started'
                 CHECK (status IN ('not_started', 'stub', 'complete', 'verified', 'deferred', 'n_a')),
    rust_file    TEXT,
    rust_symbol  TEXT,
    evidence_run INTEGER REFERENCES gate_runs(id),
    notes        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX features_by_batch ON features(batch_id, file_id, status);
CREATE INDEX features_by_name ON features(name);

-- Tests of the source.
CREATE TABLE tests (
    id           INTEGER PRIMARY KEY,
    file_id      INTEGER NOT NULL REFERENCES source_files(id),
    line         INTEGER NOT NULL,
    name         TEXT NOT NULL,
    loc          INTEGER NOT NULL,
    body_hash    TEXT NOT NULL,
    batch_id     INTEGER REFERENCES batches(id),
    status       TEXT NOT NULL DEFAULT 'not_started'
                 CHECK (status IN ('not_started', 'stub', 'complete', 'verified', 'deferred', 'n_a')),
    rust_file    TEXT,
    rust_test    TEXT,
    evidence_run INTEGER REFERENCES gate_runs(id),
    notes        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tests_by_batch ON tests(batch_id, file_id, status);
CREATE INDEX tests_by_name ON tests(name);

-- Which features a test exercises (its body calls them by name).
CREATE TABLE feature_tests (
    feature_id INTEGER NOT NULL REFERENCES features(id),
    test_id    INTEGER NOT NULL REFERENCES tests(id),
    PRIMARY KEY (feature_id, test_id)
) WITHOUT ROWID;
CREATE INDEX feature_tests_by_test ON feature_tests(test_id, feature_id);

-- Rust tests written for a feature beyond the ported source tests.
CREATE TABLE feature_rust_tests (
    feature_id INTEGER NOT NULL REFERENCES features(id),
    rust_test  TEXT NOT NULL,
    PRIMARY KEY (feature_id, rust_test)
) WITHOUT ROWID;

-- Dependency overrides granted to a status change.
CREATE TABLE overrides (
    id        INTEGER PRIMARY KEY,
    batch_id  INTEGER NOT NULL REFERENCES batches(id),
    reason    TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    blocking  TEXT NOT NULL,                -- what was unfinished, as shown to the user
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    command   TEXT NOT NULL
);

-- Append-only audit trail of every status change.
CREATE TABLE status_history (
    id              INTEGER PRIMARY KEY,
    item_kind       TEXT NOT NULL CHECK (item_kind IN ('feature', 'test')),
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
    change_id       INTEGER NOT NULL          -- rows written by one call share it
);
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

-- `verified` is only ever written with a reference to evidence that proves
-- it: for a test, its Rust test passed in that run; for a feature, at least
-- one test exercising it passed in that run and none failed.
CREATE TRIGGER tests_verified_needs_evidence_insert BEFORE INSERT ON tests
WHEN NEW.status = 'verified' AND NOT EXISTS (
    SELECT 1 FROM gate_results r
    WHERE r.run_id = NEW.evidence_run AND r.test_name = NEW.rust_test AND r.outcome = 'passed')
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which the test''s Rust test passed');
END;
CREATE TRIGGER tests_verified_needs_evidence_update BEFORE UPDATE OF status, evidence_run, rust_test ON tests
WHEN NEW.status = 'verified' AND NOT EXISTS (
    SELECT 1 FROM gate_results r
    WHERE r.run_id = NEW.evidence_run AND r.test_name = NEW.rust_test AND r.outcome = 'passed')
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which the test''s Rust test passed');
END;

-- Rust test names that exercise a feature: mapped Rust tests of linked
-- source tests, and Rust tests registered for the feature itself.
CREATE VIEW feature_exercising_tests AS
    SELECT ft.feature_id, t.rust_test AS rust_test
    FROM feature_tests ft JOIN tests t ON t.id = ft.test_id
    WHERE t.rust_test IS NOT NULL
    UNION
    SELECT feature_id, rust_test FROM feature_rust_tests;

CREATE TRIGGER features_verified_needs_evidence_update BEFORE UPDATE OF status, evidence_run ON features
WHEN NEW.status = 'verified' AND (
    NOT EXISTS (
        SELECT 1 FROM feature_exercising_tests x JOIN gate_results r ON r.test_name = x.rust_test
        WHERE x.feature_id = NEW.id AND r.run_id = NEW.evidence_run AND r.outcome = 'passed')
    OR EXISTS (
        SELECT 1 FROM feature_exercising_tests x JOIN gate_results r ON r.test_name = x.rust_test
        WHERE x.feature_id = NEW.id AND r.run_id = NEW.evidence_run AND r.outcome = 'failed'))
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which a test exercising the feature passed and none failed');
END;
CREATE TRIGGER features_verified_needs_evidence_insert BEFORE INSERT ON features
WHEN NEW.status = 'verified'
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: insert the feature first, then verify it');
END;
