//! `porttrack gate mutants`: mutate each selected feature's Rust function
//! with cargo-mutants and record whether its tests kill the mutants.

use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::domain::mutation::Shard;
use crate::error::Error;
use crate::ops::mutants::{gate, select, ExportFile, MutantsOptions, EXPORT_FORMAT};
use crate::render;

pub const MUTANTS_RULES: &str = "\
For each selected feature with a Rust target, cargo-mutants (pinned:
cargo-mutants 27.1.0, `cargo install --locked cargo-mutants@27.1.0`)
mutates its function only, in a scratch copy of HEAD, and runs only the
tests that exercise the feature (its linked tests' Rust tests and the Rust
tests registered for it), after an unmutated baseline that must pass;
only the test targets holding them are built (--lib, --test NAME),
without debug info.
Each mutant is recorded: file, line, description, diff, outcome (caught,
missed, timeout, unviable), duration, with the tests run, the commit and
the function body's hash.
A feature's mutation evidence allows verified when a trusted run (clean
commit, committed porttrack.toml) for its current function body had at
least one viable mutant and every viable one was caught or timed out. A
missed mutant that cannot change behaviour may be declared with
`// porttrack: allow(mutant) REASON` on its line or the line before; the
reason is required, and unused declarations are reported.
Results are cached by (function body, tests run, targets built, the test
code those targets compile, Cargo.lock, cargo-mutants version, timeout):
an unchanged feature is never mutated again.
--shard K/N (0 <= K < N) deals the selection's Rust features round-robin
in ID order; --export FILE writes this run's records for
`porttrack evidence import FILE` on another machine.
Exit 0: every feature's evidence allows verified; 1: some does not;
7: cargo-mutants could not run.";

#[derive(Debug, Args)]
#[command(after_help = MUTANTS_RULES)]
pub struct MutantsArgs {
    /// The features of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Features by ID or Go name, comma-separated (within --batch, if given)
    #[arg(long, value_name = "LIST")]
    pub features: Option<String>,
    /// Only this shard of the features: K/N, 0 <= K < N
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Features mutated in parallel [default: porttrack.toml mutants.jobs, else 1]
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,
    /// cargo-mutants' test timeout in seconds [default: mutants.timeout_secs, else cargo-mutants' own]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Also write the records of this run to FILE (for `evidence import`)
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

pub fn run(ctx: &Ctx, a: MutantsArgs) -> anyhow::Result<i32> {
    if a.jobs == Some(0) {
        return Err(Error::usage("--jobs 0: give at least 1").into());
    }
    if a.timeout == Some(0) {
        return Err(Error::usage("--timeout 0: give at least 1 second").into());
    }
    let mut db = ctx.open_db()?;
    let project = ctx.project_for(&db)?;
    let items = select(&db, a.batch, a.features.as_deref())?;
    let options = MutantsOptions {
        batch: a.batch,
        features: a.features,
        shard: a.shard,
        jobs: a.jobs.unwrap_or(project.config.mutants.jobs),
        timeout: a.timeout,
        origin: "gate",
        progress: super::gate::progress(ctx),
        record: true,
    };
    let report = gate(&mut db, &project, items, &options)?;
    if let Some(path) = &a.export {
        let file = ExportFile { format: EXPORT_FORMAT.into(), records: report.exported.clone() };
        let text = serde_json::to_string_pretty(&file).map_err(|e| Error::usage(format!("cannot encode the export: {e}")))?;
        std::fs::write(path, text).map_err(|e| Error::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    ctx.emit("gate mutants", &report, render::mutants::report)?;
    Ok(report.verdict.exit_code())
}
