//! `porttrack import go DIR`: load a Go codebase's inventory.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{existing_dir, Ctx};
use crate::db::LoadReport;
use crate::error::Error;
use crate::golang;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import Go source: every directory becomes a module, every function and
    /// method a feature, every Test*/Benchmark* function a test (rules in
    /// README.md, "Go import rules").
    /// Re-importing keeps IDs, statuses and history of items found again.
    Go(GoArgs),
}

#[derive(Debug, Args)]
pub struct GoArgs {
    /// Directory to import, e.g. path/to/nats-server/server; paths are
    /// recorded relative to its parent (server/raft.go)
    pub dir: PathBuf,
}

#[derive(Serialize)]
struct Imported {
    dir: String,
    #[serde(flatten)]
    report: LoadReport,
}

pub fn run(ctx: &Ctx, cmd: ImportCommand) -> anyhow::Result<i32> {
    let ImportCommand::Go(args) = cmd;
    existing_dir(&args.dir)?;
    let inv = golang::import_dir(&args.dir).map_err(|e| Error::CouldNotRun(format!("import of {} failed: {e}", args.dir.display())))?;
    let mut db = ctx.open_db()?;
    let meta = [("inventory.last_import", args.dir.display().to_string())];
    let report = db.import_inventory(&inv, None, &meta)?;
    let out = Imported { dir: args.dir.display().to_string(), report };
    ctx.emit("import go", &out, |o| {
        let r = &o.report;
        let mut text = format!(
            "Imported {}: {} files; modules +{} added; features +{} added, {} updated, {} unchanged; tests +{} added, {} updated, {} unchanged; {} links; {} new batches\n",
            o.dir, r.files, r.modules_added, r.features_added, r.features_updated, r.features_unchanged, r.tests_added, r.tests_updated, r.tests_unchanged, r.links, r.batches_added
        );
        if r.modules_missing + r.features_missing + r.tests_missing > 0 {
            text.push_str(&format!(
                "Kept {} modules, {} features and {} tests that are no longer in the source (with their status and history)\n",
                r.modules_missing, r.features_missing, r.tests_missing
            ));
        }
        text
    })
}
