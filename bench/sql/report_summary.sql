-- The queries `porttrack report summary` runs, for the sqlite3 CLI (benchmark P1).
PRAGMA busy_timeout = 15000;
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA user_version;
SELECT id, path FROM source_files;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM features x GROUP BY x.batch_id, x.file_id, x.status;
SELECT x.batch_id, x.file_id, x.status, count(*) FROM tests x GROUP BY x.batch_id, x.file_id, x.status;
SELECT id, name, description FROM batches ORDER BY id;
