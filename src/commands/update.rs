//! `porttrack batch update N …` (also spelled `porttrack batch-update`).

use std::collections::BTreeMap;

use clap::Args;

use super::Ctx;
use crate::domain::status::ItemStatus;
use crate::error::Error;
use crate::ops;
use crate::ops::update::{update, UpdateOptions};
use crate::render;

/// The transition rules, shown in `--help`.
const RULES: &str = "\
Rules (all items are judged first; if any is refused, nothing is written):
  at most 15 items per call; LIST takes IDs, ranges and Go names: 1578,1583-1590,applyMetaEntries
  complete/verified: every batch this batch depends on is done, or --override \"reason\" (recorded)
  verified: --evidence RUN where the item's tests passed (a feature: one passed, none failed)
  deferred, n_a, and leaving verified: --reason TEXT
  stub -> verified and n_a -> verified are forbidden; a stub finding in a feature's Rust target blocks complete/verified
  a module: complete once its features and tests are done, verified once they are verified or n_a (no --evidence needed)";

#[derive(Debug, Args)]
#[command(after_help = RULES)]
pub struct UpdateArgs {
    /// Batch number the items belong to
    pub batch: i64,
    /// Features: IDs, ranges and Go names, comma-separated (1578,1583-1590,applyMetaEntries)
    #[arg(long, value_name = "LIST")]
    pub features: Option<String>,
    /// Tests: IDs, ranges and names, comma-separated (2616,TestNRGSimple)
    #[arg(long, value_name = "LIST")]
    pub tests: Option<String>,
    /// Modules: IDs, ranges and names, comma-separated (8,server)
    #[arg(long, value_name = "LIST")]
    pub modules: Option<String>,
    /// New status: not_started, stub, complete, verified, deferred, n_a
    #[arg(long, value_parser = parse_status)]
    pub status: ItemStatus,
    /// Why (required for deferred, n_a, and for leaving verified)
    #[arg(long)]
    pub reason: Option<String>,
    /// Proceed although dependency batches are unfinished; the reason is recorded
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    /// Test-gate run that proves `verified` (see `porttrack evidence list`)
    #[arg(long, value_name = "RUN")]
    pub evidence: Option<i64>,
    /// Who makes the change [default: $PORTTRACK_ACTOR, else $USER]
    #[arg(long, env = "PORTTRACK_ACTOR")]
    pub actor: Option<String>,
    /// Judge every item and show the result without writing anything
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_status(s: &str) -> Result<ItemStatus, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

pub fn run(ctx: &Ctx, args: UpdateArgs) -> anyhow::Result<i32> {
    let options = UpdateOptions {
        batch: args.batch,
        modules: args.modules,
        features: args.features,
        tests: args.tests,
        status: args.status,
        reason: args.reason,
        override_reason: args.override_reason,
        evidence: args.evidence,
        actor: args.actor.unwrap_or_else(default_actor),
        at: crate::clock::now_rfc3339(),
        command: command_line(),
        dry_run: args.dry_run,
    };
    let mut db = ctx.open_db()?;
    // Only complete and verified care about stub findings and the state of
    // the Rust files; other moves skip the scan.
    let (findings, files) = if matches!(args.status, ItemStatus::Complete | ItemStatus::Verified) {
        let project = ctx.project_for(&db)?;
        (ops::stub_findings::batch_findings(&db, &project, args.batch)?, ops::stub_findings::batch_files(&db, &project, args.batch)?)
    } else {
        (BTreeMap::new(), Default::default())
    };
    let outcome = update(&mut db, &options, findings, files)?;
    ctx.emit("batch update", &outcome, render::update::outcome)?;
    let refused = outcome.refused();
    if refused > 0 {
        return Err(Error::Refused(format!("{refused} of {} item(s) refused; nothing was written", outcome.items.len())).into());
    }
    Ok(crate::exit_codes::SUCCESS)
}

/// `$USER`, or "unknown".
pub fn default_actor() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "unknown".to_string())
}

/// This process's command line, shell-quoted, for the audit trail.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+".contains(c)) {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
