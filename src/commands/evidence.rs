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
written when any record fails a check.";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file `gate mutants --export` wrote
    pub file: std::path::PathBuf,
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
            let report = crate::ops::mutants::import(&mut db, &project, &a.file)?;
            ctx.emit("evidence import", &report, render::mutants::import)
        }
    }
}
