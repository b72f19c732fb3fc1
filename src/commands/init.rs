//! `porttrack init`: create a database.

use std::path::Path;

use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::builtin;
use crate::db::{Database, LoadReport, Who};
use crate::error::Error;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing database file (the new one is built first, then swapped in)
    #[arg(long)]
    pub force: bool,
    /// Create a database with the schema but no inventory; load one with `porttrack import go DIR`
    #[arg(long)]
    pub empty: bool,
}

#[derive(Serialize)]
struct Created {
    path: String,
    empty: bool,
    source: Option<String>,
    /// The project root recorded for the database, if one was found.
    project_root: Option<String>,
    /// Where the replaced database was kept (`--force`).
    backup: Option<String>,
    /// Temporary files of an interrupted init that were removed.
    removed_leftovers: Vec<String>,
    #[serde(flatten)]
    loaded: Option<LoadReport>,
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<i32> {
    let path = ctx.db_path();
    let (db, loaded) = if args.empty {
        let root = project_root_entry(&path);
        let db = Database::create(&path, args.force, |db| root.as_ref().map_or(Ok(()), |r| db.set_meta_value(crate::config::ROOT_META, r)))?;
        (db, None)
    } else {
        let (db, report) = create_builtin(&path, args.force)?;
        (db, Some(report))
    };
    let created = Created {
        path: path.display().to_string(),
        empty: args.empty,
        source: (!args.empty).then(builtin::description),
        project_root: ctx.project_root_for(&db).ok().map(|r| r.display().to_string()),
        backup: db.creation().backup.as_ref().map(|b| b.display().to_string()),
        removed_leftovers: db.creation().removed_leftovers.iter().map(|p| p.display().to_string()).collect(),
        loaded,
    };
    ctx.emit("init", &created, |c| {
        let mut out = String::new();
        for f in &c.removed_leftovers {
            out.push_str(&format!("Removed {f}, left by an interrupted init\n"));
        }
        if let Some(b) = &c.backup {
            out.push_str(&format!("Kept the replaced database as {b} (its history and evidence are there)\n"));
        }
        out.push_str(&match &c.loaded {
            Some(l) => format!(
                "Created {} from the built-in plan ({}): {} modules, {} features, {} tests, {} batches\n",
                c.path,
                c.source.as_deref().unwrap_or(""),
                l.modules_added,
                l.features_added,
                l.tests_added,
                l.batches_added
            ),
            None => format!("Created empty database {}; load a codebase with `porttrack import go DIR --db {}`\n", c.path, c.path),
        });
        out
    })
}

/// Create `path` holding the built-in inventory and plan, the upstream
/// drift to the commit the port follows, and the port's mappings.
pub fn create_builtin(path: &Path, replace: bool) -> anyhow::Result<(Database, LoadReport)> {
    let damaged = |e: String| Error::CouldNotRun(format!("built-in data is damaged: {e}"));
    let (inv, plan) = builtin::load().map_err(damaged)?;
    let upstream = builtin::upstream().map_err(damaged)?;
    let mut report = None;
    let root = project_root_entry(path);
    let db = Database::create(path, replace, |db| {
        let mut meta = vec![
            ("inventory.source", builtin::description()),
            (crate::ops::upstream::PLAN_COMMIT_KEY, builtin::SOURCE_COMMIT.to_string()),
            ("plan", "built-in".to_string()),
        ];
        if let Some(r) = &root {
            meta.push((crate::config::ROOT_META, r.clone()));
        }
        report = Some(db.import_inventory(&inv, Some(&plan), &meta)?);
        db.record_upstream(&upstream, builtin::UPSTREAM_COMMIT, &crate::clock::now_rfc3339())?;
        let who = Who { actor: "porttrack init".into(), at: crate::clock::now_rfc3339(), command: super::update::command_line() };
        db.apply_mappings(&builtin::mappings()?, &who)?;
        Ok(())
    })?;
    Ok((db, report.unwrap_or_default()))
}

/// The project root to record for a new database at `path`: the nearest
/// directory holding porttrack.toml from the database's directory upward
/// (stored relative to it, so the pair can move together), else from the
/// working directory (stored absolute: the database lives outside its
/// project). None when there is none.
fn project_root_entry(path: &Path) -> Option<String> {
    let db_dir = crate::config::database_dir(path);
    if let Some(root) = crate::config::find_config_dir(&db_dir) {
        let up = db_dir.strip_prefix(&root).ok()?.components().count();
        return Some(if up == 0 { ".".to_string() } else { vec![".."; up].join("/") });
    }
    crate::config::find_config_dir(Path::new(".")).map(|r| r.display().to_string())
}
