//! `porttrack evidence list|show`: recorded gate runs.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::db::{FileHashRow, ResultRow, RunRow};
use crate::error::Error;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Recorded gate runs, newest first
    List(ListArgs),
    /// One run: command, outcome, per-test results, file hashes
    Show(ShowArgs),
    /// Record mutation evidence exported by `gate mutants --export FILE` on another machine (a CI shard)
    #[command(after_help = IMPORT_RULES)]
    Import(ImportArgs),
}

const IMPORT_RULES: &str = "\
Each record must be a trusted run of porttrack's mutation gate (clean tree,
committed porttrack.toml) on a commit this repository has, with the
porttrack.toml committed there, for a feature mapped here to the same Rust
function, whose body at that commit hashes to what the run recorded.
Records already here are skipped. All or nothing: exit 4 and nothing
written when any record fails a check.

--recheck N distrusts the file's findings too (it is a file anyone can
edit): each record whose function and tests are unchanged at HEAD must list
exactly the mutants cargo-mutants lists in that function today, and N of
its caught, timed-out or unviable mutants, drawn with --seed, are mutated
again on HEAD (clean tree required) and must come out the same. A
mismatch refuses the whole file (exit 4); a recheck that cannot run
exits 7. Without --seed the seed is drawn from the clock and printed, so a
failing draw can be replayed.";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file `gate mutants --export` wrote
    pub file: std::path::PathBuf,
    /// Also re-run this many of the recorded outcomes (see below)
    #[arg(long, value_name = "N")]
    pub recheck: Option<usize>,
    /// The seed of --recheck's draw [default: from the clock]
    #[arg(long, value_name = "S", requires = "recheck")]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many runs to show
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Run ID
    pub run: i64,
}

#[derive(Serialize)]
pub struct RunList {
    pub runs: Vec<RunRow>,
}

#[derive(Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRow,
    pub results: Vec<ResultRow>,
    pub files: Vec<FileHashRow>,
}

pub fn run(ctx: &Ctx, cmd: EvidenceCommand) -> anyhow::Result<i32> {
    match cmd {
        EvidenceCommand::List(a) => {
            let db = ctx.open_db()?;
            let runs = RunList { runs: db.gate_runs(a.limit.max(0))? };
            ctx.emit("evidence list", &runs, render::gate::run_list)
        }
        EvidenceCommand::Show(a) => {
            let db = ctx.open_db()?;
            let (run, results, files) = db
                .gate_run(a.run)?
                .ok_or_else(|| Error::not_found_with_hint("evidence run", a.run.to_string(), "; `porttrack evidence list` shows recorded runs"))?;
            ctx.emit("evidence show", &RunDetail { run, results, files }, render::gate::run_detail)
        }
        EvidenceCommand::Import(a) => {
            let mut db = ctx.open_db()?;
            let project = ctx.project_for(&db)?;
            let recheck = a.recheck.map(|count| crate::ops::mutants::Recheck { count, seed: a.seed.unwrap_or_else(crate::ops::mutants::clock_seed) });
            let report = crate::ops::mutants::import(&mut db, &project, &a.file, recheck)?;
            ctx.emit("evidence import", &report, render::mutants::import)
        }
    }
}
