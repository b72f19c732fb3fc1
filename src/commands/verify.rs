//! `porttrack verify N`: let the tests move the batch forward.

use clap::Args;

use super::Ctx;
use crate::ops::verify::{verify, VerifyOptions};
use crate::render;

const STEPS: &str = "\
Steps: dependency preflight (stops unless --override) -> stub scan of the
batch's Rust targets -> build gate -> test gate over the batch's mapped
tests -> per item: a test whose Rust test passed becomes verified; a feature
with a passing exercising test, none failing, an existing Rust target and no
stub finding becomes verified; one with a Rust target but no passing test
becomes complete; verified items whose tests now fail move back; declared
deferrals are recorded. Changes go through `batch update`'s rules, at most
15 items per transaction, linked to the evidence run. Nothing moves when a
gate could not run.

What counts as evidence (README, \"What counts as evidence\"):
  - a run porttrack itself made of the gates in porttrack.toml as committed
    at HEAD; `gate test -- CMD`, `--results FILE` and an uncommitted
    porttrack.toml are recorded but marked adhoc or dirty, never accepted;
  - on a clean tree at start and end: no tracked file changed or hidden
    from git status, no untracked or ignored file under target_roots (the
    database and .porttrack/ excepted), HEAD recorded and unchanged; verify
    refuses to run otherwise (exit 4);
  - results from the run's own output, or from gate.results, a file the
    command writes into the fresh $PORTTRACK_RESULTS_DIR;
  - a run that completed (not timed out, not could-not-run) for this batch,
    whose recorded file hashes match the items' Rust files now;
  - mapped Rust test names are identifier paths (never starting with '-').
Every run and history row is hash-chained; `porttrack audit` re-checks
everything, `porttrack audit --rerun` re-runs the evidence.

Mutation evidence ([verify] mutants = true in porttrack.toml): verify runs
`porttrack gate mutants` for the Rust features it would verify (cached
results are reused), and such a feature becomes verified only with a
trusted mutation run for its current function body with at least one
viable mutant and every viable mutant caught or timed out; otherwise it
stays complete and its missed mutants are listed with their diffs. The
files named by [verify] evidence (`gate mutants --export` output) are
imported first, as `porttrack evidence import FILE --recheck N` does with N
= [verify] recheck (default 6), so only what changed since is mutated. See
`porttrack gate mutants --help` and `porttrack evidence import --help`.";

#[derive(Debug, Args)]
#[command(after_help = STEPS)]
pub struct VerifyArgs {
    /// Batch number
    pub batch: i64,
    /// Run the gates and show what would move, writing nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Proceed although dependency batches are unfinished; recorded
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    /// Who makes the change [default: $PORTTRACK_ACTOR, else $USER]
    #[arg(long, env = "PORTTRACK_ACTOR")]
    pub actor: Option<String>,
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> anyhow::Result<i32> {
    let mut db = ctx.open_db()?;
    let project = ctx.project_for(&db)?;
    let options = VerifyOptions {
        batch: args.batch,
        dry_run: args.dry_run,
        override_reason: args.override_reason,
        actor: args.actor.unwrap_or_else(super::update::default_actor),
        command: super::update::command_line(),
        progress: super::gate::progress(ctx),
    };
    let findings = crate::ops::stub_findings::batch_findings(&db, &project, args.batch)?;
    let mut report = verify(&mut db, &project, &options, findings)?;
    if let Some(after) = report.after.as_mut() {
        crate::ops::batch::mark_upstream(&db, after)?;
    }
    ctx.emit("verify", &report, render::verify::report)?;
    Ok(report.exit_code())
}
