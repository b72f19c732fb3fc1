-- The queries `porttrack batch show 33` runs, for the sqlite3 CLI (benchmark P1).
PRAGMA busy_timeout = 15000;
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA user_version;
SELECT id, name, description FROM batches WHERE id = 33;
SELECT id, name, description FROM batches ORDER BY id;
SELECT id, path FROM source_files;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM features x GROUP BY x.batch_id, x.file_id, x.status;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM tests x GROUP BY x.batch_id, x.file_id, x.status;
SELECT batch_id, depends_on FROM batch_dependencies ORDER BY batch_id, depends_on;
SELECT f.id, s.path, f.line, f.receiver, f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_symbol, f.evidence_run, f.notes FROM features f JOIN source_files s ON s.id = f.file_id WHERE f.batch_id = 33 ORDER BY f.id;
SELECT f.id, s.path, f.line, '', f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_test, f.evidence_run, f.notes FROM tests f JOIN source_files s ON s.id = f.file_id WHERE f.batch_id = 33 ORDER BY f.id;
SELECT id, batch_id, reason, blocking, actor, at, command FROM overrides WHERE batch_id = 33 ORDER BY id;
