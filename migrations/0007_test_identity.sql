-- Test identity: a result is the runner's full identity — its container
-- (test binary id `alpha::api`, JUnit classname, TRX class, Go package) and
-- its name within it — and two results are never merged. gate_results was
-- keyed by (run_id, test_name), which forced `test_eq` from two binaries
-- into one row; it is rebuilt keyed by its position in the run.
--
-- Rebuilt: gate_results (old rows keep their name, get container '' and a
-- position in name order). The triggers that read it are dropped and made
-- again for the new matching rule: a mapping's Rust test matches a result by
-- bare name or as `CONTAINER NAME`; `verified` needs one container's test
-- to have passed, none of the matches to have failed or not finished, and
-- the name not to be ambiguous (matching tests in two containers).

DROP TRIGGER tests_verified_needs_evidence_insert;
DROP TRIGGER tests_verified_needs_evidence_update;
DROP TRIGGER features_verified_needs_evidence_update;

CREATE TABLE gate_results_by_identity (
    run_id      INTEGER NOT NULL REFERENCES gate_runs(id),
    seq         INTEGER NOT NULL CHECK (seq >= 0),   -- order in the runner's report
    container   TEXT NOT NULL DEFAULT '',            -- binary id, class or package
    test_name   TEXT NOT NULL,
    -- `CONTAINER NAME`, the form a mapping uses to name the container.
    qualified   TEXT GENERATED ALWAYS AS (CASE WHEN container = '' THEN test_name ELSE container || ' ' || test_name END) VIRTUAL,
    -- `CONTAINER.NAME`: how a class-based runner's test is written in code
    -- (`Namespace.Class.Method`), the form a C# port maps it by.
    dotted      TEXT GENERATED ALWAYS AS (CASE WHEN container = '' THEN NULL ELSE container || '.' || test_name END) VIRTUAL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'skipped', 'timeout', 'incomplete')),
    duration_ms INTEGER,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

INSERT INTO gate_results_by_identity (run_id, seq, container, test_name, outcome, duration_ms)
    SELECT run_id, row_number() OVER (PARTITION BY run_id ORDER BY test_name) - 1, '', test_name, outcome, duration_ms
    FROM gate_results;
DROP TABLE gate_results;
ALTER TABLE gate_results_by_identity RENAME TO gate_results;
CREATE INDEX gate_results_by_name ON gate_results(run_id, test_name);
CREATE INDEX gate_results_by_qualified ON gate_results(run_id, qualified);
CREATE INDEX gate_results_by_dotted ON gate_results(run_id, dotted);

-- Evidence is append-only (dropping the old table dropped any such guard).
CREATE TRIGGER gate_results_append_only_update BEFORE UPDATE ON gate_results
BEGIN
    SELECT RAISE(ABORT, 'gate_results is append-only');
END;
CREATE TRIGGER gate_results_append_only_delete BEFORE DELETE ON gate_results
BEGIN
    SELECT RAISE(ABORT, 'gate_results is append-only');
END;

CREATE TRIGGER tests_verified_needs_evidence_insert BEFORE INSERT ON tests
WHEN NEW.status = 'verified' AND (
    NOT EXISTS (
        SELECT 1 FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test) AND r.outcome = 'passed')
    OR EXISTS (
        SELECT 1 FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test)
          AND r.outcome IN ('failed', 'timeout', 'incomplete'))
    OR (SELECT count(DISTINCT r.container) FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test)) > 1)
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which the test''s Rust test (one test, named unambiguously) passed');
END;

CREATE TRIGGER tests_verified_needs_evidence_update BEFORE UPDATE OF status, evidence_run, rust_test ON tests
WHEN NEW.status = 'verified' AND (
    NOT EXISTS (
        SELECT 1 FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test) AND r.outcome = 'passed')
    OR EXISTS (
        SELECT 1 FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test)
          AND r.outcome IN ('failed', 'timeout', 'incomplete'))
    OR (SELECT count(DISTINCT r.container) FROM gate_results r
        WHERE r.run_id = NEW.evidence_run AND (r.test_name = NEW.rust_test OR r.qualified = NEW.rust_test OR r.dotted = NEW.rust_test)) > 1)
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which the test''s Rust test (one test, named unambiguously) passed');
END;

CREATE TRIGGER features_verified_needs_evidence_update BEFORE UPDATE OF status, evidence_run ON features
WHEN NEW.status = 'verified' AND (
    NOT EXISTS (
        SELECT 1 FROM feature_exercising_tests x JOIN gate_results r ON (r.test_name = x.rust_test OR r.qualified = x.rust_test OR r.dotted = x.rust_test)
        WHERE x.feature_id = NEW.id AND r.run_id = NEW.evidence_run AND r.outcome = 'passed')
    OR EXISTS (
        SELECT 1 FROM feature_exercising_tests x JOIN gate_results r ON (r.test_name = x.rust_test OR r.qualified = x.rust_test OR r.dotted = x.rust_test)
        WHERE x.feature_id = NEW.id AND r.run_id = NEW.evidence_run AND r.outcome IN ('failed', 'timeout', 'incomplete'))
    OR EXISTS (
        SELECT 1 FROM feature_exercising_tests x JOIN gate_results r ON (r.test_name = x.rust_test OR r.qualified = x.rust_test OR r.dotted = x.rust_test)
        WHERE x.feature_id = NEW.id AND r.run_id = NEW.evidence_run
        GROUP BY x.rust_test HAVING count(DISTINCT r.container) > 1))
BEGIN
    SELECT RAISE(ABORT, 'verified needs evidence: a gate run in which a test exercising the feature passed, none failed, and each is named unambiguously');
END;
