//! The only module that speaks SQL. [`Database`] wraps one connection to a
//! `porting.db` file: opening checks the file before anything is written,
//! every connection gets the same pragmas, and migrations are applied in one
//! transaction tracked by `PRAGMA user_version`.

mod evidence;
mod load;
mod mapping;
mod read;
mod timeline;
mod update;
mod upstream;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::Error;

pub use evidence::{FileHashRow, GateRecord, ResultRow, RunRow};
pub use load::LoadReport;
pub use mapping::{Declaration, MapReport};
pub use read::*;
pub use timeline::Transition;
pub use update::{ChangeInput, ChangeOutcome, ItemOutcome, MAX_ITEMS};
pub use upstream::{DriftFilter, DriftRow, SnapshotReport, UpstreamCommit};
pub(crate) use upstream::find_commit;

/// Ordered, append-only list of migrations. Each file is numbered
/// (`NNNN_name`); the schema version is the number of the last migration
/// applied, so numbers handed out to parallel work keep their meaning when
/// the branches meet.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial", include_str!("../../migrations/0001_initial.sql")),
    ("0002_deferral_declarations", include_str!("../../migrations/0002_deferral_declarations.sql")),
    ("0003_declared_status", include_str!("../../migrations/0003_declared_status.sql")),
    ("0004_evidence_indexes", include_str!("../../migrations/0004_evidence_indexes.sql")),
    ("0006_modules_and_upstream", include_str!("../../migrations/0006_modules_and_upstream.sql")),
    ("0007_test_identity", include_str!("../../migrations/0007_test_identity.sql")),
];

/// The number a migration's name starts with.
fn migration_number(name: &str) -> i64 {
    name.split('_').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// How long a connection waits for another writer before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Schema version this binary writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(name, _)| migration_number(name))
}

pub fn migration_names() -> impl Iterator<Item = &'static str> {
    MIGRATIONS.iter().map(|(name, _)| *name)
}

pub struct Database {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
    busy_timeout: Duration,
}

impl Database {
    /// Open an existing porttrack database. The file is checked before
    /// anything is written to it: not SQLite, not porttrack's, or from a
    /// newer porttrack → [`Error::Database`] naming the file.
    pub fn open(path: &Path) -> Result<Database, Error> {
        let meta = std::fs::metadata(path).map_err(|e| db_error(path, format!("cannot open: {e}")))?;
        if meta.is_dir() {
            return Err(db_error(path, "is a directory, not a database file"));
        }
        // Reading a FIFO or a device would block or never end.
        if !meta.is_file() {
            return Err(db_error(path, "is not a regular file (a FIFO, socket or device), not a database file"));
        }
        check_sqlite_header(path)?;
        let read_only = meta.permissions().readonly();
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, e))?;
        let mut db = Database { conn, path: path.to_path_buf(), read_only, busy_timeout: BUSY_TIMEOUT };
        let version = db.user_version()?;
        if version > schema_version() {
            return Err(db_error(
                path,
                format!("schema version {version} is newer than this porttrack understands ({}); upgrade porttrack", schema_version()),
            ));
        }
        if version == 0 {
            return Err(db_error(path, "is a SQLite file but not a porttrack database (no schema); create one with `porttrack init`"));
        }
        db.configure()?;
        if version < schema_version() {
            db.migrate()?;
        }
        Ok(db)
    }

    /// Create a new database at `path` with the current schema. The file is
    /// built beside its destination and renamed into place, so a crash or an
    /// error never leaves a half-made database, and `replace` swaps an
    /// existing file only once the new one is complete.
    pub fn create(path: &Path, replace: bool, fill: impl FnOnce(&mut Database) -> Result<(), Error>) -> Result<Database, Error> {
        if path.exists() && !replace {
            return Err(db_error(path, "already exists; pass --force to replace it"));
        }
        let tmp = sibling(path, &format!(".porttrack-new-{}", std::process::id()));
        remove_db_files(&tmp);
        let result = (|| {
            let conn = Connection::open(&tmp).map_err(|e| sql_error(path, e))?;
            let mut db = Database { conn, path: path.to_path_buf(), read_only: false, busy_timeout: BUSY_TIMEOUT };
            db.configure()?;
            db.migrate()?;
            fill(&mut db)?;
            // Fold the WAL into the main file so the rename moves everything.
            db.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|e| sql_error(path, e))?;
            drop(db);
            // Empty after the checkpoint; SQLite keeps them when a
            // connection closes without checkpointing.
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(sibling(&tmp, suffix));
            }
            if replace {
                // Stale WAL files of the replaced database must not be
                // mistaken for the new one's.
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(sibling(path, suffix));
                }
                std::fs::rename(&tmp, path).map_err(|e| db_error(path, format!("cannot move the new database into place: {e}")))
            } else {
                // A hard link never replaces: if another process created the
                // file meanwhile, theirs wins and we report it.
                let linked = std::fs::hard_link(&tmp, path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => db_error(path, "already exists; pass --force to replace it"),
                    _ => db_error(path, format!("cannot create: {e}")),
                });
                let _ = std::fs::remove_file(&tmp);
                linked
            }
        })();
        if let Err(e) = result {
            remove_db_files(&tmp);
            return Err(e);
        }
        Database::open(path)
    }

    /// An in-memory database with the current schema (for tests and dry runs).
    pub fn in_memory() -> Result<Database, Error> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| sql_error(&path, e))?;
        let mut db = Database { conn, path, read_only: false, busy_timeout: BUSY_TIMEOUT };
        db.configure()?;
        db.migrate()?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait at most `timeout` for another writer (default [`BUSY_TIMEOUT`]).
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.busy_timeout = timeout;
        self.conn.busy_timeout(timeout).map_err(|e| sql_error(&self.path, e))
    }

    fn configure(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql_error(&path, e))?;
        if !self.read_only {
            let mode: String =
                self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| sql_error(&path, e))?;
            if mode != "wal" && mode != "memory" {
                return Err(db_error(&path, format!("cannot switch to WAL journal mode (got {mode})")));
            }
        }
        // Statement journals stay in memory instead of spilling to a temp
        // file; the WAL is folded into the database by SQLite's automatic
        // checkpoints rather than on every close, which would cost each
        // short command two extra fsyncs.
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;")
            .map_err(|e| sql_error(&path, e))?;
        self.conn
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map(|_| ())
            .map_err(|e| sql_error(&path, e))
    }

    fn user_version(&self) -> Result<i64, Error> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| sql_error(&self.path, e))
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        self.write(|tx| {
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (_, sql) in MIGRATIONS.iter().filter(|(name, _)| migration_number(name) > current) {
                tx.execute_batch(sql)?;
            }
            // PRAGMA cannot take a bound parameter; the value is our own count.
            tx.execute_batch(&format!("PRAGMA user_version = {}", schema_version()))?;
            Ok(())
        })
        .map_err(|e| match e {
            Error::Database { message, .. } => db_error(&path, format!("migration failed: {message}")),
            other => other,
        })
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction: the write lock is taken
    /// up front, so validation inside `f` sees exactly what it will change.
    /// Any error rolls everything back.
    pub fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>) -> Result<T, Error> {
        self.write_checked(|tx| f(tx).map_err(|e| sql_error(Path::new(""), e)))
    }

    /// Like [`Database::write`], for closures that may refuse with a typed
    /// [`Error`] after inspecting the database.
    pub fn write_checked<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, Error>) -> Result<T, Error> {
        self.transaction(|tx| f(tx).map(|v| (v, true)))
    }

    /// One `BEGIN IMMEDIATE` transaction whose closure decides whether to
    /// commit (`true`) or roll back (`false`, e.g. a dry run or a refusal
    /// that still returns a report).
    pub fn transaction<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, bool), Error>) -> Result<T, Error> {
        if self.read_only {
            return Err(db_error(&self.path, "is read-only; nothing was written"));
        }
        let busy_timeout = self.busy_timeout;
        let path = self.path.clone();
        let fix = |e: Error| match with_path(e, &path) {
            Error::Busy { path, .. } => Error::Busy { path, timeout_ms: busy_timeout.as_millis() as u64 },
            other => other,
        };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| fix(sql_error(&path, e)))?;
        let (value, commit) = f(&tx).map_err(fix)?;
        if commit {
            tx.commit().map_err(|e| fix(sql_error(&path, e)))?;
        }
        Ok(value)
    }

    /// A consistent read of several queries.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        f(&self.conn).map_err(|e| match sql_error(&self.path, e) {
            Error::Busy { path, .. } => Error::Busy { path, timeout_ms: self.busy_timeout.as_millis() as u64 },
            other => other,
        })
    }
}

/// Error for a database problem, naming the file.
pub fn db_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Database { path: path.to_path_buf(), message: message.into() }
}

/// Map a SQLite error: lock timeouts become [`Error::Busy`], the rest
/// [`Error::Database`] with SQLite's own words.
pub fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy { path: path.to_path_buf(), timeout_ms: 0 },
        Some(ErrorCode::ReadOnly) => db_error(path, "is read-only; nothing was written"),
        Some(ErrorCode::NotADatabase) => db_error(path, "is not a SQLite database"),
        Some(ErrorCode::DatabaseCorrupt) => db_error(path, format!("is corrupt ({e}); restore it from a backup")),
        _ => db_error(path, e.to_string()),
    }
}

/// Errors raised inside a transaction closure do not know the file; fill it in.
fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Database { path: p, message } if p.as_os_str().is_empty() => Error::Database { path: path.to_path_buf(), message },
        Error::Busy { path: p, timeout_ms } if p.as_os_str().is_empty() => Error::Busy { path: path.to_path_buf(), timeout_ms },
        other => other,
    }
}

fn check_sqlite_header(path: &Path) -> Result<(), Error> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|e| db_error(path, format!("cannot open: {e}")))?;
    let n = file.read(&mut header).map_err(|e| db_error(path, format!("cannot read: {e}")))?;
    if n == 0 {
        return Err(db_error(path, "is empty, not a porttrack database; create one with `porttrack init`"));
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(db_error(path, "is not a SQLite database"));
    }
    Ok(())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut db = Database::in_memory().unwrap();
        assert_eq!(db.user_version().unwrap(), schema_version());
        db.migrate().unwrap();
        assert_eq!(db.user_version().unwrap(), schema_version());
    }

    /// A database from before modules (schema 4, with files and history)
    /// gains one module per directory in a new batch, and keeps its history
    /// rows, which may now name modules and stay append-only.
    #[test]
    fn schema_4_database_gains_modules_and_keeps_history() {
        let conn = Connection::open_in_memory().unwrap();
        for (name, sql) in MIGRATIONS.iter().filter(|(name, _)| migration_number(name) <= 4) {
            conn.execute_batch(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO batches (id, name) VALUES (1, 'one'), (2, 'two');
             INSERT INTO source_files (id, path, is_test, lines) VALUES (1, 'server/raft.go', 0, 10), (2, 'server/avl/seqset.go', 0, 5), (3, 'top.go', 0, 1);
             INSERT INTO status_history (item_kind, item_id, batch_id, from_status, to_status, actor, at, command, change_id)
             VALUES ('feature', 1, 1, 'not_started', 'stub', 'me', 'then', 'x', 1);",
        )
        .unwrap();
        let mut db = Database { conn, path: PathBuf::from(":memory:"), read_only: false, busy_timeout: BUSY_TIMEOUT };
        db.migrate().unwrap();
        assert_eq!(db.user_version().unwrap(), schema_version());
        let modules: Vec<(i64, String, String, i64)> = db
            .read(|c| {
                let mut stmt = c.prepare("SELECT id, name, dir, batch_id FROM modules ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                rows.collect()
            })
            .unwrap();
        let m = |id, name: &str, dir: &str| (id, name.to_string(), dir.to_string(), 3);
        assert_eq!(modules, [m(1, ".", "."), m(2, "avl", "server/avl"), m(3, "server", "server")]);
        let files: Vec<(String, i64)> = db
            .read(|c| c.prepare("SELECT path, module_id FROM source_files ORDER BY id")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .unwrap();
        assert_eq!(files, [("server/raft.go".to_string(), 3), ("server/avl/seqset.go".to_string(), 2), ("top.go".to_string(), 1)]);
        let err = db
            .write(|tx| {
                let n: i64 = tx.query_row("SELECT count(*) FROM status_history WHERE at = 'then'", [], |r| r.get(0))?;
                assert_eq!(n, 1, "history row lost");
                tx.execute(
                    "INSERT INTO status_history (item_kind, item_id, from_status, to_status, actor, at, command, change_id)
                     VALUES ('module', 1, 'not_started', 'stub', 'me', 'now', 'x', 2)",
                    [],
                )?;
                tx.execute("UPDATE status_history SET actor = 'someone else'", [])
            })
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    #[test]
    fn history_is_append_only() {
        let mut db = Database::in_memory().unwrap();
        let err = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO status_history (item_kind, item_id, from_status, to_status, actor, at, command, change_id)
                     VALUES ('feature', 1, 'not_started', 'stub', 'me', 'now', 'x', 1)",
                    [],
                )?;
                tx.execute("DELETE FROM status_history", [])
            })
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}
