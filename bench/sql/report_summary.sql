-- The queries `porttrack report summary` runs, for the sqlite3 CLI (benchmark P1).
PRAGMA busy_timeout = 15000;
PRAGMA user_version;
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA temp_store = MEMORY;
SELECT x.batch_id, NULL, x.status, x.first_upstream IS NOT NULL, count(*) FROM modules x GROUP BY x.batch_id, NULL, x.status, x.first_upstream;
SELECT x.batch_id, x.file_id, x.status, x.first_upstream IS NOT NULL, count(*) FROM features x GROUP BY x.batch_id, x.file_id, x.status, x.first_upstream;
SELECT x.batch_id, x.file_id, x.status, x.first_upstream IS NOT NULL, count(*) FROM tests x GROUP BY x.batch_id, x.file_id, x.status, x.first_upstream;
SELECT id, name, description FROM batches ORDER BY id;
-- the paths of the ten files with most work left
SELECT path FROM source_files WHERE id IN (SELECT file_id FROM (SELECT file_id, count(*) AS n FROM features WHERE status NOT IN ('complete','verified','n_a') GROUP BY file_id UNION ALL SELECT file_id, count(*) FROM tests WHERE status NOT IN ('complete','verified','n_a') GROUP BY file_id) GROUP BY file_id ORDER BY sum(n) DESC LIMIT 10);
SELECT 'feature', x.id, x.rust_file, h.sha256 FROM features x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified'
UNION ALL
SELECT 'test', x.id, x.rust_file, h.sha256 FROM tests x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified';
-- upstream drift since the plan and the upstream-changed flags
SELECT u.id, u.commit_id, u.root, u.imported_at, (SELECT count(*) FROM upstream_items i WHERE i.upstream_id = u.id) FROM upstream_commits u ORDER BY u.id;
SELECT value FROM meta WHERE key = 'inventory.commit';
SELECT root FROM upstream_commits WHERE id = (SELECT max(id) FROM upstream_commits);
SELECT 'feature', x.id, CASE WHEN x.receiver = '' THEN x.name ELSE x.receiver || '.' || x.name END, s.path, coalesce(t.line, x.line), x.batch_id, x.status,
       CASE WHEN x.first_upstream IS NULL THEN x.body_hash END, t.body_hash, x.proven_hash
FROM features x JOIN source_files s ON s.id = x.file_id
LEFT JOIN upstream_items t ON t.upstream_id = (SELECT max(id) FROM upstream_commits) AND t.item_kind = 'feature' AND t.item_id = x.id
WHERE substr(s.path, 1, 7) = 'server/' ORDER BY x.id;
SELECT 'test', x.id, x.name, s.path, coalesce(t.line, x.line), x.batch_id, x.status,
       CASE WHEN x.first_upstream IS NULL THEN x.body_hash END, t.body_hash, x.proven_hash
FROM tests x JOIN source_files s ON s.id = x.file_id
LEFT JOIN upstream_items t ON t.upstream_id = (SELECT max(id) FROM upstream_commits) AND t.item_kind = 'test' AND t.item_id = x.id
WHERE substr(s.path, 1, 7) = 'server/' ORDER BY x.id;
