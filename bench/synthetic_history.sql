-- A synthetic porting.db of 1,000,000 items (600,000 features in 600
-- batches, 400,000 tests in 400 batches, 4,000 files) whose statuses all
-- come from a year of recorded history (about 1.1 million status changes
-- from 2025-12-01 to 2026-11-30), so the history replays to the table; for
-- benchmark P7 (`report html` on a large database). Documented command:
--   porttrack init --empty --db big.db && sqlite3 big.db < bench/synthetic_history.sql
-- Per item, by its ID modulo 10 — features: 0-3 stub then complete (1 in
-- 97 of those back to stub later), 4-5 stub, 6 deferred, 7 n_a, 8-9 not
-- started; tests: 0-2 complete then verified (by one gate run), 3-4 stub,
-- 5 deferred, 6-9 not started.
PRAGMA foreign_keys = ON;
-- Benchmark data: losing it to a crash costs one rerun, so skip the fsyncs.
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
INSERT INTO source_files (id, path, is_test, lines)
SELECT i, printf('pkg%03d/file%04d%s.go', i % 97, i, CASE WHEN i > 2400 THEN '_test' ELSE '' END), i > 2400, 1000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO batches (id, name, description) SELECT i, printf('synthetic batch %d', i), '' FROM n;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO batch_dependencies (batch_id, depends_on) SELECT i, i - 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600000)
INSERT INTO features (id, file_id, line, receiver, name, loc, body_hash, batch_id, rust_file, rust_symbol)
SELECT i, 1 + (i / 250) % 2400, i % 5000, CASE WHEN i % 3 = 0 THEN 'recv' ELSE '' END, printf('feature%d', i), 10, 'deadbeefdeadbeef',
       1 + (i / 1000), CASE WHEN i % 10 < 4 THEN printf('src/f%d.rs', i / 1000) END, CASE WHEN i % 10 < 4 THEN printf('f%d', i) END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO tests (id, file_id, line, name, loc, body_hash, batch_id, rust_file, rust_test)
SELECT i, 2401 + (i / 250) % 1600, i % 5000, printf('TestSynthetic%d', i), 10, 'deadbeefdeadbeef', 601 + (i - 1) / 1000,
       printf('tests/t%d.rs', i / 1000), printf('synthetic::t%d', i)
FROM n;

-- Every change: kind, item, batch, from, to, and when (day of the year and
-- second of the day, spread by the item ID).
CREATE TEMP TABLE change (kind TEXT, item INTEGER, batch INTEGER, from_status TEXT, to_status TEXT, day INTEGER, sec INTEGER);
INSERT INTO change SELECT 'feature', id, batch_id, 'not_started', 'stub', (id * 7919) % 300, id % 86400 FROM features WHERE id % 10 < 6;
INSERT INTO change SELECT 'feature', id, batch_id, 'stub', 'complete', (id * 7919) % 300 + 1 + id % 60, (id * 13) % 86400 FROM features WHERE id % 10 < 4;
INSERT INTO change SELECT 'feature', id, batch_id, 'complete', 'stub', (id * 7919) % 300 + 62, (id * 17) % 86400 FROM features WHERE id % 10 < 4 AND id % 97 = 0;
INSERT INTO change SELECT 'feature', id, batch_id, 'not_started', 'deferred', (id * 104729) % 365, id % 86400 FROM features WHERE id % 10 = 6;
INSERT INTO change SELECT 'feature', id, batch_id, 'not_started', 'n_a', (id * 104729) % 365, id % 86400 FROM features WHERE id % 10 = 7;
INSERT INTO change SELECT 'test', id, batch_id, 'not_started', 'complete', (id * 7919) % 300, id % 86400 FROM tests WHERE id % 10 < 3;
INSERT INTO change SELECT 'test', id, batch_id, 'complete', 'verified', 301 + id % 60, (id * 13) % 86400 FROM tests WHERE id % 10 < 3;
INSERT INTO change SELECT 'test', id, batch_id, 'not_started', 'stub', (id * 7919) % 365, id % 86400 FROM tests WHERE id % 10 IN (3, 4);
INSERT INTO change SELECT 'test', id, batch_id, 'not_started', 'deferred', (id * 104729) % 365, id % 86400 FROM tests WHERE id % 10 = 5;

-- One passed test-gate run is the evidence of every verified test.
INSERT INTO gate_runs (id, kind, command, cwd, started_at, duration_ms, exit_code, outcome, tests_passed, git_commit, git_dirty)
VALUES (1, 'test', '["cargo","test"]', '.', '2026-09-27T00:00:00.000Z', 1000, 0, 'passed', 120000, '0123456789abcdef0123456789abcdef01234567', 0);
INSERT INTO gate_results (run_id, test_name, outcome) SELECT 1, rust_test, 'passed' FROM tests WHERE id % 10 < 3;

-- History in time order (as commits would write it), then the table set
-- to where the history ends.
INSERT INTO status_history (item_kind, item_id, batch_id, from_status, to_status, reason, evidence_run, actor, at, command, change_id)
SELECT kind, item, batch, from_status, to_status,
       CASE WHEN to_status IN ('deferred', 'n_a') OR from_status = 'complete' AND to_status = 'stub' THEN 'synthetic' END,
       CASE WHEN to_status = 'verified' THEN 1 END, 'bench',
       strftime('%Y-%m-%dT%H:%M:%S.000Z', '2025-12-01', '+' || day || ' days', '+' || sec || ' seconds'), 'bench/synthetic_history.sql',
       day * 100000 + sec
FROM change ORDER BY day, sec, kind, item;
UPDATE features SET status = CASE
    WHEN id % 10 < 4 AND id % 97 = 0 THEN 'stub' WHEN id % 10 < 4 THEN 'complete' WHEN id % 10 < 6 THEN 'stub'
    WHEN id % 10 = 6 THEN 'deferred' WHEN id % 10 = 7 THEN 'n_a' ELSE 'not_started' END;
UPDATE tests SET status = CASE WHEN id % 10 IN (3, 4) THEN 'stub' WHEN id % 10 = 5 THEN 'deferred' ELSE status END WHERE id % 10 >= 3;
UPDATE tests SET status = 'verified', evidence_run = 1 WHERE id % 10 < 3;
DROP TABLE change;
COMMIT;
ANALYZE;
