-- The queries `porttrack batch show 33` runs, for the sqlite3 CLI (benchmark P1).
PRAGMA busy_timeout = 15000;
PRAGMA user_version;
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA temp_store = MEMORY;
SELECT id, name, description FROM batches WHERE id = 33;
SELECT batch_id, depends_on FROM batch_dependencies ORDER BY batch_id, depends_on;
SELECT x.status, count(*) FROM modules x WHERE x.batch_id = 32 GROUP BY x.status;
SELECT x.status, count(*) FROM features x WHERE x.batch_id = 32 GROUP BY x.status;
SELECT x.status, count(*) FROM tests x WHERE x.batch_id = 32 GROUP BY x.status;
SELECT id, name, description FROM batches WHERE id = 32;
SELECT f.id, s.path, f.line, f.receiver, f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_symbol, f.evidence_run, f.notes FROM features f JOIN source_files s ON s.id = f.file_id WHERE f.batch_id = 33 ORDER BY f.id;
SELECT f.id, s.path, f.line, '', f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_test, f.evidence_run, f.notes FROM tests f JOIN source_files s ON s.id = f.file_id WHERE f.batch_id = 33 ORDER BY f.id;
SELECT f.id, s.path, 0, '', f.name, (SELECT coalesce(sum(x.lines), 0) FROM source_files x WHERE x.module_id = f.id), '', f.batch_id, f.status, NULL, NULL, NULL, f.notes FROM modules f JOIN (SELECT id, dir AS path FROM modules) s ON s.id = f.id WHERE f.batch_id = 33 ORDER BY f.id;
SELECT x.status, count(*) FROM modules x WHERE x.batch_id = 33 GROUP BY x.status;
SELECT x.status, count(*) FROM features x WHERE x.batch_id = 33 GROUP BY x.status;
SELECT x.status, count(*) FROM tests x WHERE x.batch_id = 33 GROUP BY x.status;
SELECT id, batch_id, reason, blocking, actor, at, command FROM overrides WHERE batch_id = 33 ORDER BY id;
SELECT 'feature', x.id, x.rust_file, h.sha256 FROM features x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified' AND x.batch_id = 33
UNION ALL
SELECT 'test', x.id, x.rust_file, h.sha256 FROM tests x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified' AND x.batch_id = 33;
-- upstream drift of the batch since the plan
SELECT u.id, u.commit_id, u.root, u.imported_at, (SELECT count(*) FROM upstream_items i WHERE i.upstream_id = u.id) FROM upstream_commits u ORDER BY u.id;
SELECT value FROM meta WHERE key = 'inventory.commit';
SELECT root FROM upstream_commits WHERE id = (SELECT max(id) FROM upstream_commits);
SELECT 'feature', x.id, CASE WHEN x.receiver = '' THEN x.name ELSE x.receiver || '.' || x.name END, s.path, coalesce(t.line, x.line), x.batch_id, x.status,
       CASE WHEN x.first_upstream IS NULL THEN x.body_hash END, t.body_hash, x.proven_hash
FROM features x JOIN source_files s ON s.id = x.file_id
LEFT JOIN upstream_items t ON t.upstream_id = (SELECT max(id) FROM upstream_commits) AND t.item_kind = 'feature' AND t.item_id = x.id
WHERE substr(s.path, 1, 7) = 'server/' AND x.batch_id = 33 ORDER BY x.id;
SELECT 'test', x.id, x.name, s.path, coalesce(t.line, x.line), x.batch_id, x.status,
       CASE WHEN x.first_upstream IS NULL THEN x.body_hash END, t.body_hash, x.proven_hash
FROM tests x JOIN source_files s ON s.id = x.file_id
LEFT JOIN upstream_items t ON t.upstream_id = (SELECT max(id) FROM upstream_commits) AND t.item_kind = 'test' AND t.item_id = x.id
WHERE substr(s.path, 1, 7) = 'server/' AND x.batch_id = 33 ORDER BY x.id;
