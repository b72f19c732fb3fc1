//! One module per command group. Each command reads as a story: parse its
//! arguments, open the database, call an operation, render the result.

pub mod audit;
pub mod batch;
pub mod builtin;
pub mod completions;
pub mod conflicts;
pub mod db;
pub mod db_checkpoint;
pub mod db_diff;
pub mod db_dump;
pub mod db_install_merge_driver;
pub mod db_merge;
pub mod evidence;
pub mod gate;
pub mod gate_parse;
pub mod history;
pub mod import;
pub mod init;
pub mod item;
pub mod map;
pub mod module;
pub mod report;
pub mod stub;
pub mod update;
pub mod upstream;
pub mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::db::Database;
use crate::error::Error;
use crate::exit_codes;

/// Default database file, relative to the working directory.
pub const DEFAULT_DB: &str = "porting.db";

/// Environment variable overriding how long a command waits for another
/// writer's lock, in milliseconds (default 15000).
pub const BUSY_TIMEOUT_ENV: &str = "PORTTRACK_BUSY_TIMEOUT_MS";

/// What every command gets: the global options.
pub struct Ctx {
    /// `--db` or `PORTTRACK_DB`, when given.
    db: Option<PathBuf>,
    pub json: bool,
    /// Whether the command already printed its result (a refused update
    /// prints the refusal, then fails with its exit code).
    emitted: std::cell::Cell<bool>,
}

impl Ctx {
    pub fn new(db: Option<PathBuf>, json: bool) -> Ctx {
        Ctx { db, json, emitted: std::cell::Cell::new(false) }
    }

    /// The database file this invocation uses.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB))
    }

    /// Whether a database was named (`--db` or `PORTTRACK_DB`).
    pub fn db_given(&self) -> bool {
        self.db.is_some()
    }

    /// Open the database. A missing default file is created from the
    /// built-in plan (with a line on stderr); a missing explicit file is an
    /// error that says how to create it.
    pub fn open_db(&self) -> anyhow::Result<Database> {
        let mut db = self.open_db_file()?;
        if let Some(ms) = std::env::var(BUSY_TIMEOUT_ENV).ok().filter(|v| !v.is_empty()) {
            // SQLite takes the timeout as a C int of milliseconds.
            let ms: u64 = ms
                .parse()
                .ok()
                .filter(|&n: &u64| n <= i32::MAX as u64)
                .ok_or_else(|| Error::usage(format!("{BUSY_TIMEOUT_ENV}={ms} is not a number of milliseconds from 0 to {}", i32::MAX)))?;
            db.set_busy_timeout(std::time::Duration::from_millis(ms))?;
        }
        Ok(db)
    }

    /// Open the database for `audit`: it must exist, and a schema that
    /// differs from porting.db.schema is returned, not refused.
    pub fn open_db_for_audit(&self) -> anyhow::Result<(Database, Vec<String>)> {
        let path = self.db_path();
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(crate::db::db_error(&path, "does not exist; nothing to audit").into());
        }
        Ok(Database::open_for_audit(&path)?)
    }

    fn open_db_file(&self) -> anyhow::Result<Database> {
        let path = self.db_path();
        if path.exists() {
            return Ok(Database::open(&path)?);
        }
        if self.db.is_some() {
            return Err(crate::db::db_error(&path, format!("does not exist; create it with `porttrack init --db {}`", path.display())).into());
        }
        match init::create_builtin(&path, false) {
            Ok((db, _)) => {
                drop(db);
                eprintln!("porttrack: created {} from the built-in plan ({})", path.display(), crate::builtin::description());
                Ok(Database::open(&path)?)
            }
            // Another process created it first: use theirs.
            Err(_) if path.exists() => Ok(Database::open(&path)?),
            Err(e) => Err(e),
        }
    }

    /// The project `db` belongs to (its root and porttrack.toml), from the
    /// root recorded in the database or the database's location, never
    /// from the working directory: Rust files resolve the same wherever a
    /// command runs.
    pub fn project_for(&self, db: &Database) -> Result<crate::config::Project, Error> {
        let recorded = db.meta_value(crate::config::ROOT_META)?;
        crate::config::for_database(db.path(), recorded.as_deref())
    }

    /// The root of [`Ctx::project_for`], without reading porttrack.toml.
    pub fn project_root_for(&self, db: &Database) -> Result<PathBuf, Error> {
        let recorded = db.meta_value(crate::config::ROOT_META)?;
        Ok(crate::config::root_for_database(db.path(), recorded.as_deref()))
    }

    /// Whether a result was printed already.
    pub fn emitted(&self) -> bool {
        self.emitted.get()
    }

    /// Print human text or, with `--json`, the data as one JSON object.
    pub fn emit<T: serde::Serialize>(&self, command: &str, data: &T, human: impl FnOnce(&T) -> String) -> anyhow::Result<i32> {
        self.emitted.set(true);
        // Human text never carries a control character from data to the
        // terminal; the renderers' own line breaks stay.
        let text = if self.json {
            crate::render::json(command, data)
        } else if crate::render::term::current().color {
            crate::render::escape::coloured_text(&human(data)).into_owned()
        } else {
            crate::render::escape::text(&human(data)).into_owned()
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|_| out.flush()).context("writing output")?;
        Ok(exit_codes::SUCCESS)
    }
}

/// Check that a directory argument exists, naming it otherwise.
pub fn existing_dir(path: &Path) -> Result<(), Error> {
    if path.is_dir() {
        Ok(())
    } else if path.exists() {
        Err(Error::usage(format!("{} is not a directory", path.display())))
    } else {
        Err(Error::usage(format!("directory {} does not exist", path.display())))
    }
}
