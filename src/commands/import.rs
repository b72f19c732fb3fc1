//! `porttrack import go DIR [--as-of COMMIT]`: load a Go codebase's
//! inventory, or record it as an upstream commit of the one already loaded.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{existing_dir, Ctx};
use crate::db::{LoadReport, SnapshotReport};
use crate::error::Error;
use crate::golang;
use crate::ops;
use crate::ops::upstream::DiffReport;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import Go source: every directory becomes a module, every function and
    /// method a feature, every Test*/Benchmark* function a test (rules in
    /// README.md, "Go import rules").
    /// Re-importing keeps IDs, statuses and history of items found again;
    /// with --as-of it records a newer upstream commit instead (see `porttrack upstream`).
    Go(GoArgs),
}

#[derive(Debug, Args)]
pub struct GoArgs {
    /// Directory to import, e.g. path/to/nats-server/server; paths are
    /// recorded relative to its parent (server/raft.go)
    pub dir: PathBuf,
    /// DIR is the source at upstream COMMIT: keep every item's plan fields and
    /// ID, record its body hash at COMMIT, add items new upstream (new IDs,
    /// batches named for their file), and report what changed, is new or gone
    #[arg(long, value_name = "COMMIT")]
    pub as_of: Option<String>,
}

#[derive(Serialize)]
struct Imported {
    dir: String,
    #[serde(flatten)]
    report: LoadReport,
}

#[derive(Serialize)]
struct Recorded {
    dir: String,
    commit: String,
    #[serde(flatten)]
    snapshot: SnapshotReport,
    drift: DiffReport,
}

pub fn run(ctx: &Ctx, cmd: ImportCommand) -> anyhow::Result<i32> {
    let ImportCommand::Go(args) = cmd;
    // A directory that is not there is an input that cannot be read (exit
    // 7, as README's table says); a file given for it is a usage error.
    if !args.dir.exists() {
        return Err(Error::CouldNotRun(format!("cannot read {}: directory does not exist", args.dir.display())).into());
    }
    existing_dir(&args.dir)?;
    if let Some(commit) = &args.as_of {
        if commit.trim().is_empty() || commit.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::usage(format!("--as-of {commit:?}: give the upstream commit (a hash or tag, no spaces)")).into());
        }
    }
    let inv = golang::import_dir(&args.dir).map_err(|e| Error::CouldNotRun(format!("import of {} failed: {e}", args.dir.display())))?;
    let mut db = ctx.open_db()?;
    let dir = args.dir.display().to_string();
    match args.as_of {
        Some(commit) => {
            let (snapshot, drift) = ops::upstream::record(&mut db, &inv, commit.trim(), &crate::clock::now_rfc3339())?;
            let out = Recorded { dir, commit: commit.trim().to_string(), snapshot, drift };
            ctx.emit("import go", &out, |o| {
                let s = &o.snapshot;
                let mut text = format!(
                    "Recorded {} as upstream {}: {} features and tests; {} new ({} features, {} tests, {} modules) in {} new batches\n",
                    o.dir, o.commit, s.recorded, s.features_added + s.tests_added, s.features_added, s.tests_added, s.modules_added, s.batches_added
                );
                text.push_str(&render::upstream::diff(&o.drift, 20));
                text
            })
        }
        None => {
            let meta = [("inventory.last_import", dir.clone())];
            let report = db.import_inventory(&inv, None, &meta)?;
            let out = Imported { dir, report };
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
    }
}
