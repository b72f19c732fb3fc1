//! `porttrack audit [--rerun]`: re-check the database and the evidence
//! behind every verified item. Writes nothing.

use std::time::Duration;

use clap::Args;

use super::Ctx;
use crate::ops::audit::{audit, AuditOptions};
use crate::render;

const CHECKS: &str = "\
Checks: SQLite's quick_check; the schema against porting.db.schema; the hash
chains of history rows and of gate runs (with their per-test results and
file hashes); every item's status and evidence replayed from its history;
every verified item's evidence: it exists, is a trusted run (the committed
gate on a clean commit) of the item's batch that completed, the item's tests
passed in it, and it recorded the item's Rust file; no complete or verified
feature's Rust target holds a stub finding. Warnings (not failures): a Rust
file changed since its evidence (stale), evidence made outside the project
root or with a porttrack.toml that has changed since. With --rerun, each evidence run is run again at its
commit in a temporary git worktree and every recorded per-test outcome must
come out the same (set CARGO_TARGET_DIR to share a build cache).
Exit 0: every check passed; 1: a problem was found (each names its row or
item); 5: the database cannot be opened.";

#[derive(Debug, Args)]
#[command(after_help = CHECKS)]
pub struct AuditArgs {
    /// Also re-run every evidence run at its commit and compare outcomes
    #[arg(long)]
    pub rerun: bool,
    /// Kill a re-run after this many seconds [default: gate.timeout_secs of porttrack.toml]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

pub fn run(ctx: &Ctx, args: AuditArgs) -> anyhow::Result<i32> {
    let (db, schema) = ctx.open_db_for_audit()?;
    let project = ctx.project_for(&db)?;
    let options = AuditOptions {
        rerun: args.rerun,
        timeout: Duration::from_secs(args.timeout.unwrap_or(project.config.gate.timeout_secs).max(1)),
        progress: super::gate::progress(ctx),
    };
    let report = audit(&db, &project, schema, &options)?;
    ctx.emit("audit", &report, render::audit::report)?;
    Ok(report.exit_code())
}
