//! The only module that speaks SQL. [`Database`] wraps one connection to a
//! `porting.db` file: opening checks the file before anything is written,
//! every connection gets the same pragmas, and migrations are applied in one
//! transaction tracked by `PRAGMA user_version`.

mod chain;
mod evidence;
mod integrity;
mod load;
mod mapping;
mod merge;
mod mutation;
mod read;
mod timeline;
mod schema;
mod update;
mod upstream;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::Error;

pub use evidence::{FileHashRow, GateRecord, ResultRow, RunRow};
pub use load::LoadReport;
pub use integrity::{ChainReport, Finding};
pub use mapping::{Declaration, MapReport, Who};
pub use merge::{ItemState, OpenConflict, RunCopy, RunSummary};
pub use mutation::{MutantRow, MutationRunRow};
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
    ("0005_evidence_provenance", include_str!("../../migrations/0005_evidence_provenance.sql")),
    ("0006_modules_and_upstream", include_str!("../../migrations/0006_modules_and_upstream.sql")),
    ("0007_test_identity", include_str!("../../migrations/0007_test_identity.sql")),
    ("0008_global_ids", include_str!("../../migrations/0008_global_ids.sql")),
    ("0009_mutation_evidence", include_str!("../../migrations/0009_mutation_evidence.sql")),
    ("0010_mutation_tests_key", include_str!("../../migrations/0010_mutation_tests_key.sql")),
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
    creation: Creation,
}

/// What [`Database::create`] did besides creating the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Creation {
    /// Where the replaced database was kept (`porting.db.bak-<time>`).
    pub backup: Option<PathBuf>,
    /// Temporary files of an interrupted `init` that were removed.
    pub removed_leftovers: Vec<PathBuf>,
}

impl Database {
    /// Open an existing porttrack database. The file is checked before
    /// anything is written to it: not a regular file, not SQLite, not
    /// porttrack's, from a newer porttrack, or a schema that differs from
    /// `porting.db.schema` → [`Error::Database`] naming the file.
    pub fn open(path: &Path) -> Result<Database, Error> {
        let (db, diffs) = Database::open_unchecked(path)?;
        if !diffs.is_empty() {
            return Err(db_error(
                path,
                format!("its schema differs from porting.db.schema ({}): it was altered outside porttrack; nothing was written (`porttrack audit` lists every problem)", schema::summary(&diffs)),
            ));
        }
        Ok(db)
    }

    /// The schema version a database file holds, read without upgrading
    /// or writing it (its WAL included).
    pub fn stored_schema_version(path: &Path) -> Result<i64, Error> {
        check_sqlite_header(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|e| sql_error(path, e))?;
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| sql_error(path, e))
    }

    /// Open for `porttrack audit`: like [`Database::open`], but a schema
    /// that differs is returned (every difference) instead of refused.
    pub fn open_for_audit(path: &Path) -> Result<(Database, Vec<String>), Error> {
        Database::open_unchecked(path)
    }

    fn open_unchecked(path: &Path) -> Result<(Database, Vec<String>), Error> {
        let meta = std::fs::metadata(path).map_err(|e| db_error(path, format!("cannot open: {e}")))?;
        if !meta.is_file() {
            return Err(db_error(path, format!("is a {}, not a database file", crate::project_files::kind_of(&meta))));
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
        let mut db = Database { conn, path: path.to_path_buf(), read_only, busy_timeout: BUSY_TIMEOUT, creation: Creation::default() };
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
        let diffs = db.read(schema::differences)?;
        Ok((db, diffs))
    }

    /// Create a new database at `path` with the current schema. The file is
    /// built beside its destination and renamed into place, so a crash or an
    /// error never leaves a half-made database; `replace` swaps an existing
    /// file only once the new one is complete, and keeps the old one as
    /// `<path>.bak-<time>` ([`Database::creation`] says where). Temporary
    /// files an interrupted create left behind are removed first.
    pub fn create(path: &Path, replace: bool, fill: impl FnOnce(&mut Database) -> Result<(), Error>) -> Result<Database, Error> {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !replace {
                return Err(db_error(path, "already exists; pass --force to replace it"));
            }
            if !meta.is_file() {
                return Err(db_error(path, format!("is a {}, not a database file; porttrack replaces only database files", crate::project_files::kind_of(&meta))));
            }
        }
        let mut creation = Creation { backup: None, removed_leftovers: remove_leftovers(path) };
        let tmp = sibling(path, &format!("{TMP_MARK}{}", std::process::id()));
        remove_db_files(&tmp);
        let result = (|| {
            let conn = Connection::open(&tmp).map_err(|e| sql_error(path, e))?;
            let mut db = Database { conn, path: path.to_path_buf(), read_only: false, busy_timeout: BUSY_TIMEOUT, creation: Creation::default() };
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
            if replace && path.exists() {
                creation.backup = Some(keep_backup(path)?);
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
        let mut db = Database::open(path)?;
        db.creation = creation;
        Ok(db)
    }

    /// What [`Database::create`] did besides creating the file.
    pub fn creation(&self) -> &Creation {
        &self.creation
    }

    /// An in-memory database with the current schema (for tests and dry runs).
    pub fn in_memory() -> Result<Database, Error> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| sql_error(&path, e))?;
        let mut db = Database { conn, path, read_only: false, busy_timeout: BUSY_TIMEOUT, creation: Creation::default() };
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
        // file; every page read is checked for malformed cells, so a
        // corrupt page of a table a command touches is refused.
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cell_size_check = ON;")
            .map_err(|e| sql_error(&path, e))?;
        // A writer that is the last connection to close folds the WAL into
        // the database and removes it (SQLite's default): users commit
        // porting.db to git, and a main file missing its recent changes, or
        // a stale -wal left beside a file git replaced, would lose or corrupt
        // work. It costs a short command two fsyncs. Readers never
        // checkpoint on close.
        self.conn
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, self.read_only)
            .map(|_| ())
            .map_err(|e| sql_error(&path, e))
    }

    fn user_version(&self) -> Result<i64, Error> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| sql_error(&self.path, e))
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        // Unchecked: the integrity check reads columns older schemas lack.
        let apply = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<()> {
            let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (_, sql) in MIGRATIONS.iter().filter(|(name, _)| migration_number(name) > current) {
                tx.execute_batch(sql)?;
            }
            // PRAGMA cannot take a bound parameter; the value is our own count.
            tx.execute_batch(&format!("PRAGMA user_version = {}", schema_version()))
        };
        self.transaction_unchecked(|tx| apply(tx).map(|()| ((), true)).map_err(|e| sql_error(Path::new(""), e)))
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
    /// that still returns a report). Before the closure runs, the database
    /// is checked for rows changed outside porttrack at the ends of both
    /// hash chains; a database that fails is refused, nothing written.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, bool), Error>) -> Result<T, Error> {
        let path = self.path.clone();
        self.transaction_unchecked(|tx| {
            if let Some(why) = integrity::before_write(tx).map_err(|e| sql_error(&path, e))? {
                return Err(db_error(&path, format!("{why}; nothing was written (`porttrack audit` lists every problem)")));
            }
            f(tx)
        })
    }

    fn transaction_unchecked<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, bool), Error>) -> Result<T, Error> {
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
    use std::os::unix::fs::OpenOptionsExt;
    let mut header = [0u8; 16];
    // Non-blocking, so a FIFO swapped in after the type check cannot hang
    // the open; the type is checked again on what was opened.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| db_error(path, format!("cannot open: {e}")))?;
    let meta = file.metadata().map_err(|e| db_error(path, format!("cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(db_error(path, format!("is a {}, not a database file", crate::project_files::kind_of(&meta))));
    }
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

/// Marks the temporary file a create builds (`porting.db.porttrack-new-PID`).
const TMP_MARK: &str = ".porttrack-new-";

/// Remove what an interrupted create of `path` left: temporary files whose
/// process is gone. Returns the files removed.
fn remove_leftovers(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return Vec::new() };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!("{}{TMP_MARK}", name.to_string_lossy());
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return removed };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
        let alive = pid.is_some_and(|p| {
            // SAFETY: signal 0 only asks whether the process exists.
            p == std::process::id() as i32 || unsafe { libc::kill(p, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
        });
        if pid.is_some() && !alive && std::fs::remove_file(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    removed.sort();
    removed
}

/// Keep the database at `path` as `<path>.bak-<time>` (a hard link to the
/// same bytes, its WAL moved beside it) before it is replaced.
fn keep_backup(path: &Path) -> Result<PathBuf, Error> {
    let stamp: String = crate::clock::now_rfc3339().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let mut backup = sibling(path, &format!(".bak-{stamp}"));
    let mut n = 1;
    while std::fs::symlink_metadata(&backup).is_ok() {
        n += 1;
        backup = sibling(path, &format!(".bak-{stamp}-{n}"));
    }
    if std::fs::hard_link(path, &backup).is_err() {
        std::fs::copy(path, &backup).map_err(|e| db_error(path, format!("cannot keep a backup at {}: {e}; nothing was replaced", backup.display())))?;
    }
    // The WAL holds committed changes not yet folded into the file: it
    // belongs with the backup, under the backup's name.
    let wal = sibling(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, sibling(&backup, "-wal")).map_err(|e| db_error(path, format!("cannot move its WAL beside the backup: {e}")))?;
    }
    let _ = std::fs::remove_file(sibling(path, "-shm"));
    Ok(backup)
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
        let mut db = Database { conn, path: PathBuf::from(":memory:"), read_only: false, busy_timeout: BUSY_TIMEOUT, creation: Creation::default() };
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
                    "INSERT INTO status_history (item_kind, item_id, from_status, to_status, actor, at, command, change_id, chain_hash, uid, change_uid)
                     VALUES ('module', 1, 'not_started', 'stub', 'me', 'now', 'x', 2, 'h', 'u', 'c')",
                    [],
                )?;
                tx.execute("UPDATE status_history SET actor = 'someone else'", [])
            })
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    /// A schema-7 database's chained history gains global IDs derived from
    /// each row (the same in every copy), its chain still checks, the rows
    /// of one call share a call ID, and rows written afterwards are covered.
    #[test]
    fn schema_7_history_gains_derived_global_ids() {
        use crate::domain::chain::{link, GlobalIds, HistoryEntry};
        let conn = Connection::open_in_memory().unwrap();
        for (name, sql) in MIGRATIONS.iter().filter(|(name, _)| migration_number(name) <= 7) {
            conn.execute_batch(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        conn.execute_batch("PRAGMA user_version = 7;").unwrap();
        let mut prev = String::new();
        for (id, change) in [(1, 1), (2, 1), (3, 2)] {
            let e = HistoryEntry {
                id,
                item_kind: "feature".into(),
                item_id: id,
                batch_id: None,
                from_status: "not_started".into(),
                to_status: "stub".into(),
                reason: None,
                override_id: None,
                override_reason: None,
                evidence_run: None,
                actor: "me".into(),
                at: "then".into(),
                command: "x".into(),
                change_id: change,
                ids: GlobalIds::default(),
            };
            let hash = link(&prev, &e.content());
            conn.execute(
                "INSERT INTO status_history (id, item_kind, item_id, from_status, to_status, actor, at, command, change_id, chain_hash) VALUES (?1, 'feature', ?1, 'not_started', 'stub', 'me', 'then', 'x', ?2, ?3)",
                rusqlite::params![id, change, hash],
            )
            .unwrap();
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('chain.history_head', ?1)", [&hash]).unwrap();
            prev = hash;
        }
        let mut db = Database { conn, path: PathBuf::from(":memory:"), read_only: false, busy_timeout: BUSY_TIMEOUT, creation: Creation::default() };
        db.migrate().unwrap();
        let rows: Vec<(i64, String, String, String)> =
            db.read(|c| c.prepare("SELECT id, uid, change_uid, chain_hash FROM status_history ORDER BY id")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect()).unwrap();
        for (id, uid, _, hash) in &rows {
            assert_eq!(*uid, format!("legacy-{}", &hash[..32]), "row {id}");
            assert_eq!(db.read(|c| chain::check_history_row(c, *id)).unwrap(), None, "row {id}");
        }
        assert_eq!(rows[0].2, rows[1].2, "one call, one call ID");
        assert_ne!(rows[0].2, rows[2].2);
        assert_eq!(db.history_chain().unwrap().problems, vec![]);
        let new = db
            .write(|tx| {
                chain::append_history(
                    tx,
                    &chain::NewHistory { item_kind: "feature", item_id: 9, from_status: "not_started", to_status: "stub", actor: "me", at: "now", command: "x", change_id: 3, ..Default::default() },
                )
            })
            .unwrap();
        let (entry, _) = db.read(|c| chain::history_entry(c, new)).unwrap().unwrap();
        assert!(entry.ids.covered && entry.ids.uid.len() == 36, "{entry:?}");
        assert_eq!(db.history_chain().unwrap().problems, vec![]);
        // A derived ID its hash does not cover is still checked.
        db.read(|c| c.execute_batch("DROP TRIGGER status_history_append_only_update; UPDATE status_history SET uid = 'legacy-x' WHERE id = 1;")).unwrap();
        assert!(db.read(|c| chain::check_history_row(c, 1)).unwrap().unwrap().contains("global ID"));
        assert_eq!(db.history_chain().unwrap().problems.len(), 1);
    }

    #[test]
    fn history_is_append_only() {
        let mut db = Database::in_memory().unwrap();
        let err = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO status_history (item_kind, item_id, from_status, to_status, actor, at, command, change_id, chain_hash, uid, change_uid)
                     VALUES ('feature', 1, 'not_started', 'stub', 'me', 'now', 'x', 1, 'h', 'u', 'c')",
                    [],
                )?;
                tx.execute("DELETE FROM status_history", [])
            })
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        let err = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO status_history (item_kind, item_id, from_status, to_status, actor, at, command, change_id)
                     VALUES ('feature', 1, 'not_started', 'stub', 'me', 'now', 'x', 1)",
                    [],
                )
            })
            .unwrap_err();
        assert!(err.to_string().contains("written by porttrack only"), "{err}");
    }

    #[test]
    fn evidence_is_append_only_and_chained() {
        let mut db = Database::in_memory().unwrap();
        let err = db.write(|tx| tx.execute("INSERT INTO gate_runs (kind, command, cwd, started_at, duration_ms, outcome) VALUES ('test', '[]', '.', 'now', 0, 'passed')", [])).unwrap_err();
        assert!(err.to_string().contains("recorded by porttrack only"), "{err}");
        use rusqlite::types::Value::{Integer as I, Null as N, Text as T};
        let t = |s: &str| T(s.to_string());
        let columns = vec![
            t("test"), t("[]"), t("."), t("now"), I(0), N, t("passed"), N, N, I(1), I(0), I(0), N, N, N, N, N,
            t("trusted"), N, t("config"), N, t("output"), N, N, N, N, t("gate"),
        ];
        assert_eq!(columns.len(), chain::RUN_HASHED_COLUMNS.len());
        let run = db.write(|tx| chain::append_run(tx, columns, &[(0, String::new(), "a".into(), "passed".into(), None)], &[("a.rs".into(), Some("h".into()))], None, Some("me"))).unwrap();
        assert_eq!(db.read(|c| chain::check_run(c, run)).unwrap(), None);
        for sql in ["UPDATE gate_results SET outcome = 'passed'", "DELETE FROM gate_results", "DELETE FROM gate_runs", "UPDATE gate_file_hashes SET sha256 = NULL"] {
            let err = db.write(|tx| tx.execute(sql, [])).map(|_| ()).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        // With the guard dropped, a deleted result breaks the run's hash.
        db.read(|c| c.execute_batch("DROP TRIGGER gate_results_append_only_delete; DELETE FROM gate_results;")).unwrap();
        assert!(db.read(|c| chain::check_run(c, run)).unwrap().unwrap().contains("does not match its chain hash"));
    }
}
