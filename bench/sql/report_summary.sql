-- The queries `porttrack report summary` runs, for the sqlite3 CLI (benchmark P1).
PRAGMA busy_timeout = 15000;
PRAGMA user_version;
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA temp_store = MEMORY;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM features x GROUP BY x.batch_id, x.file_id, x.status;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM tests x GROUP BY x.batch_id, x.file_id, x.status;
SELECT id, name, description FROM batches ORDER BY id;
-- the paths of the ten files with most work left
SELECT path FROM source_files WHERE id IN (SELECT file_id FROM (SELECT file_id, count(*) AS n FROM features WHERE status NOT IN ('complete','verified','n_a') GROUP BY file_id UNION ALL SELECT file_id, count(*) FROM tests WHERE status NOT IN ('complete','verified','n_a') GROUP BY file_id) GROUP BY file_id ORDER BY sum(n) DESC LIMIT 10);
SELECT 'feature', x.id, x.rust_file, h.sha256 FROM features x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified'
UNION ALL
SELECT 'test', x.id, x.rust_file, h.sha256 FROM tests x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified';
