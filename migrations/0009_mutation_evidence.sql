-- Mutation evidence (issue 11): a feature is verified only when its tests
-- kill its function's mutants. One mutation_runs row is one feature's run of
-- cargo-mutants (or one imported from another machine's shard), keyed by the
-- function body it mutated and the cache key (body, test files, Cargo.lock,
-- tests run); mutation_mutants holds every mutant with its outcome.
-- Rows are append-only and hash-chained like gate runs (src/domain/chain.rs;
-- the head is meta `chain.mutants_head`).

CREATE TABLE mutation_runs (
    id                INTEGER PRIMARY KEY,
    feature_id        INTEGER NOT NULL REFERENCES features(id),
    batch_id          INTEGER REFERENCES batches(id),
    started_at        TEXT NOT NULL,                -- RFC 3339, UTC
    duration_ms       INTEGER NOT NULL CHECK (duration_ms >= 0),
    command           TEXT NOT NULL,                -- JSON array of argv
    -- completed: cargo-mutants ran (or had nothing to mutate) and its
    -- outcomes were read; failed: the unmutated baseline failed or the
    -- outcomes could not be read; timed_out, could_not_run: nothing measured.
    outcome           TEXT NOT NULL CHECK (outcome IN ('completed', 'failed', 'timed_out', 'could_not_run')),
    failure           TEXT,
    rust_file         TEXT NOT NULL,
    rust_symbol       TEXT NOT NULL,
    first_line        INTEGER NOT NULL,
    last_line         INTEGER NOT NULL,
    body_hash         TEXT NOT NULL,                -- SHA-256 of the function's lines
    cache_key         TEXT NOT NULL,
    tests             TEXT NOT NULL,                -- JSON array of the Rust tests run
    git_commit        TEXT,
    provenance        TEXT NOT NULL CHECK (provenance IN ('trusted', 'adhoc', 'dirty')),
    untrusted_because TEXT,
    config_sha256     TEXT,
    tool_version      TEXT,
    shard             TEXT,                         -- K/N of the run that made it
    origin            TEXT NOT NULL CHECK (origin IN ('gate', 'verify', 'import')),
    chain_hash        TEXT NOT NULL
);
CREATE INDEX mutation_runs_by_feature ON mutation_runs(feature_id, id);
CREATE INDEX mutation_runs_by_key ON mutation_runs(feature_id, cache_key);

CREATE TABLE mutation_mutants (
    run_id      INTEGER NOT NULL REFERENCES mutation_runs(id),
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    description TEXT NOT NULL,                      -- cargo-mutants' name of the mutant
    diff        TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL CHECK (outcome IN ('caught', 'missed', 'timeout', 'unviable')),
    duration_ms INTEGER,
    -- The reason of a `// porttrack: allow(mutant) reason` on its line.
    suppressed  TEXT,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER mutation_runs_append_only_update BEFORE UPDATE ON mutation_runs
BEGIN
    SELECT RAISE(ABORT, 'mutation_runs is append-only');
END;
CREATE TRIGGER mutation_runs_append_only_delete BEFORE DELETE ON mutation_runs
BEGIN
    SELECT RAISE(ABORT, 'mutation_runs is append-only');
END;
CREATE TRIGGER mutation_mutants_append_only_update BEFORE UPDATE ON mutation_mutants
BEGIN
    SELECT RAISE(ABORT, 'mutation_mutants is append-only');
END;
CREATE TRIGGER mutation_mutants_append_only_delete BEFORE DELETE ON mutation_mutants
BEGIN
    SELECT RAISE(ABORT, 'mutation_mutants is append-only');
END;
