-- A synthetic porting.db of 1,000,000 items (600,000 features, 400,000
-- tests in 1,000 batches over 4,000 files, statuses spread over all six),
-- for benchmark P1's large-database case. Documented command:
--   porttrack init --empty --db big.db && sqlite3 big.db < bench/synthetic.sql
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
INSERT INTO source_files (id, path, is_test, lines)
SELECT i, printf('pkg%03d/file%04d%s.go', i % 97, i, CASE WHEN i > 2400 THEN '_test' ELSE '' END), i > 2400, 1000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO batches (id, name, description) SELECT i, printf('synthetic batch %d', i), '' FROM n;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO batch_dependencies (batch_id, depends_on) SELECT i, i - 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600000)
INSERT INTO features (id, file_id, line, receiver, name, loc, body_hash, batch_id, status)
SELECT i, 1 + (i / 250) % 2400, i % 5000, CASE WHEN i % 3 = 0 THEN 'recv' ELSE '' END, printf('feature%d', i), 10, 'deadbeefdeadbeef',
       1 + (i / 600) % 600,
       CASE abs(random()) % 10 WHEN 0 THEN 'stub' WHEN 1 THEN 'complete' WHEN 2 THEN 'deferred' WHEN 3 THEN 'n_a' ELSE 'not_started' END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO tests (id, file_id, line, name, loc, body_hash, batch_id, status)
SELECT i, 2401 + (i / 250) % 1600, i % 5000, printf('TestSynthetic%d', i), 10, 'deadbeefdeadbeef',
       601 + (i / 1000) % 400,
       CASE abs(random()) % 10 WHEN 0 THEN 'stub' WHEN 1 THEN 'complete' WHEN 2 THEN 'deferred' WHEN 3 THEN 'n_a' ELSE 'not_started' END
FROM n;
COMMIT;
ANALYZE;
