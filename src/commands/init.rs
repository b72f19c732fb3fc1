//! `porttrack init`: create a database.

use std::path::Path;

use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::builtin;
use crate::db::{Database, LoadReport};
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
    #[serde(flatten)]
    loaded: Option<LoadReport>,
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<i32> {
    let path = ctx.db_path();
    let loaded = if args.empty {
        Database::create(&path, args.force, |_| Ok(()))?;
        None
    } else {
        Some(create_builtin(&path, args.force)?)
    };
    let created = Created {
        path: path.display().to_string(),
        empty: args.empty,
        source: (!args.empty).then(builtin::description),
        loaded,
    };
    ctx.emit("init", &created, |c| match &c.loaded {
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
    })
}

/// Create `path` holding the built-in inventory and plan, the upstream
/// drift to the commit the port follows, and the port's mappings.
pub fn create_builtin(path: &Path, replace: bool) -> anyhow::Result<LoadReport> {
    let damaged = |e: String| Error::CouldNotRun(format!("built-in data is damaged: {e}"));
    let (inv, plan) = builtin::load().map_err(damaged)?;
    let upstream = builtin::upstream().map_err(damaged)?;
    let mut report = None;
    Database::create(path, replace, |db| {
        let meta = [
            ("inventory.source", builtin::description()),
            (crate::ops::upstream::PLAN_COMMIT_KEY, builtin::SOURCE_COMMIT.to_string()),
            ("plan", "built-in".to_string()),
        ];
        report = Some(db.import_inventory(&inv, Some(&plan), &meta)?);
        db.record_upstream(&upstream, builtin::UPSTREAM_COMMIT, &crate::clock::now_rfc3339())?;
        db.apply_mappings(&builtin::mappings()?)?;
        Ok(())
    })?;
    Ok(report.unwrap_or_default())
}
