//! `porttrack import go DIR [--as-of COMMIT]`: load a Go codebase's
//! inventory, or record it as an upstream commit of the one already loaded.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{existing_dir, Ctx};
use crate::db::{LoadReport, SnapshotReport};
use crate::error::Error;
use crate::exit_codes;
use crate::golang::{self, ImportError, ImportOptions, Imported, SkippedFile};
use crate::ops;
use crate::ops::upstream::DiffReport;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import Go source: every directory becomes a module, every function and
    /// method a feature, every Test*/Benchmark* function a test (rules in
    /// README.md, "Go import rules"); testdata/, _- and .-prefixed directories
    /// are left out as go build leaves them out.
    /// Re-importing keeps IDs, statuses and history of items found again;
    /// with --as-of it records a newer upstream commit instead (see `porttrack upstream`).
    /// A file that cannot be read or tokenized is reported (path, line, reason)
    /// and left out; the rest is imported and the exit code is 8 (partial).
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
    /// Keep testdata/ directories, which go build skips (they hold fixtures)
    #[arg(long)]
    pub include_testdata: bool,
    /// Leave out files and directories matching GLOB (repeatable): with a /,
    /// a path relative to DIR ('internal/**'); without, a name at any depth
    /// ('*_gen.go', 'vendor')
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// What the walk left out, reported by both kinds of import.
#[derive(Serialize)]
struct LeftOut {
    /// Files that could not be read or tokenized.
    skipped: Vec<SkippedFile>,
    /// testdata/, _- and .-prefixed directories.
    dirs_skipped: usize,
    /// Files and directories --exclude matched.
    excluded: usize,
}

impl LeftOut {
    fn of(imported: &mut Imported) -> LeftOut {
        LeftOut { skipped: std::mem::take(&mut imported.skipped), dirs_skipped: imported.dirs_skipped, excluded: imported.excluded }
    }

    /// The exit code: partial when files were left out unread.
    fn exit_code(&self) -> i32 {
        if self.skipped.is_empty() {
            exit_codes::SUCCESS
        } else {
            exit_codes::PARTIAL
        }
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        if self.dirs_skipped > 0 {
            text.push_str(&format!("Left out {} testdata/, _ or . directories, as go build does (--include-testdata keeps testdata/)\n", self.dirs_skipped));
        }
        if self.excluded > 0 {
            text.push_str(&format!("Left out {} files and directories matching --exclude\n", self.excluded));
        }
        if !self.skipped.is_empty() {
            let files = if self.skipped.len() == 1 { "file" } else { "files" };
            text.push_str(&format!("Skipped {} {files} that could not be read or tokenized; the rest is imported (partial, exit {}):\n", self.skipped.len(), exit_codes::PARTIAL));
            for s in &self.skipped {
                match s.line {
                    Some(line) => text.push_str(&format!("  {}:{line}: {}\n", s.path, s.reason)),
                    None => text.push_str(&format!("  {}: {}\n", s.path, s.reason)),
                }
            }
        }
        text
    }
}

#[derive(Serialize)]
struct ImportedReport {
    dir: String,
    #[serde(flatten)]
    report: LoadReport,
    #[serde(flatten)]
    left_out: LeftOut,
}

#[derive(Serialize)]
struct Recorded {
    dir: String,
    commit: String,
    #[serde(flatten)]
    snapshot: SnapshotReport,
    drift: DiffReport,
    #[serde(flatten)]
    left_out: LeftOut,
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
    let opts = ImportOptions { include_testdata: args.include_testdata, exclude: args.exclude.clone() };
    let mut imported = golang::import_dir(&args.dir, &opts).map_err(|e| match e {
        ImportError::BadExclude { .. } => Error::usage(e.to_string()),
        _ => Error::CouldNotRun(format!("import of {} failed: {e}", args.dir.display())),
    })?;
    let left_out = LeftOut::of(&mut imported);
    let code = left_out.exit_code();
    let inv = imported.inventory;
    // The command ends after this one write; see ScanData::leave_for_exit.
    let scan = imported.scan;
    let mut db = ctx.open_db()?;
    let dir = args.dir.display().to_string();
    match args.as_of {
        Some(commit) => {
            let (snapshot, drift) = ops::upstream::record(&mut db, &inv, commit.trim(), &crate::clock::now_rfc3339())?;
            let out = Recorded { dir, commit: commit.trim().to_string(), snapshot, drift, left_out };
            ctx.emit("import go", &out, |o| {
                let s = &o.snapshot;
                let mut text = format!(
                    "Recorded {} as upstream {}: {} features and tests; {} new ({} features, {} tests, {} modules) in {} new batches\n",
                    o.dir, o.commit, s.recorded, s.features_added + s.tests_added, s.features_added, s.tests_added, s.modules_added, s.batches_added
                );
                text.push_str(&render::upstream::diff(&o.drift, 20));
                text.push_str(&o.left_out.describe());
                text
            })?;
        }
        None => {
            let meta = [("inventory.last_import", dir.clone())];
            let report = db.import_inventory(&inv, None, &meta)?;
            let out = ImportedReport { dir, report, left_out };
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
                text.push_str(&o.left_out.describe());
                text
            })?;
        }
    }
    scan.leave_for_exit();
    Ok(code)
}
