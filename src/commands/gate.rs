//! `porttrack gate build|test|parse`: run a command as a gate and record
//! the run as evidence.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::Ctx;
use crate::error::Error;
use crate::domain::evidence::CommandSource;
use crate::ops::gate::{build_gate, test_gate, FormatChoice, GateContext, TestGate};
use crate::render;

const GATE_RULES: &str = "\
A test gate fails when the command exits non-zero, times out, runs zero
tests, only skips, or an expected test is missing from the results.
Exit 0: passed; 1: ran and failed; 7: could not run (nothing measured).
The run, its per-test results, the git commit and the hashes of mapped
Rust files are recorded; see `porttrack evidence list`.
Only a run of the command in porttrack.toml as committed, on a clean tree,
with results from its output or from gate.results (a file it writes into
$PORTTRACK_RESULTS_DIR, a fresh directory per run) is trusted evidence for
`verified`; a command after `--` or --results FILE makes the run adhoc, an
uncommitted change makes it dirty (see `porttrack verify --help`).";

#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Run the build command [default: porttrack.toml gate.build, else cargo build --workspace]
    #[command(after_help = GATE_RULES)]
    Build(BuildArgs),
    /// Run the test command and judge its per-test results
    #[command(after_help = GATE_RULES)]
    Test(TestArgs),
    /// Parse a test-results file and print what it holds (records nothing)
    Parse(super::gate_parse::GateParseArgs),
    /// Mutate features' Rust functions (cargo-mutants) and record whether their tests kill the mutants
    Mutants(super::gate_mutants::MutantsArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Kill the command (and everything it started) after this many seconds
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// The command, after `--` [default: from porttrack.toml]
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Results format: auto, libtest, nextest-junit, go-json, trx, junit
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    pub format: FormatChoice,
    /// Kill the command (and everything it started) after this many seconds
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// A test that must appear in the results; repeat for more
    #[arg(long = "expect", value_name = "NAME")]
    pub expect: Vec<String>,
    /// Read results from this file (JUnit XML, TRX) instead of the output; it must not exist before the run, and the run is ad hoc (not evidence for verified)
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Record the run against this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// The command, after `--` [default: from porttrack.toml]
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

fn parse_format(s: &str) -> Result<FormatChoice, String> {
    s.parse()
}

pub fn run(ctx: &Ctx, cmd: GateCommand) -> anyhow::Result<i32> {
    match cmd {
        GateCommand::Build(a) => {
            let mut db = ctx.open_db()?;
            let project = ctx.project_for(&db)?;
            let source = if a.command.is_empty() { CommandSource::Config } else { CommandSource::CommandLine };
            let argv = if a.command.is_empty() { project.config.gate.build.clone() } else { a.command };
            let timeout = Duration::from_secs(a.timeout.unwrap_or(project.config.gate.timeout_secs).max(1));
            let context = GateContext { source, origin: "gate", progress: progress(ctx), record: true };
            let report = build_gate(&mut db, &project, &argv, timeout, &context)?;
            ctx.emit("gate build", &report, render::gate::report)?;
            Ok(report.verdict.exit_code())
        }
        GateCommand::Test(a) => {
            let mut db = ctx.open_db()?;
            let project = ctx.project_for(&db)?;
            let source = if a.command.is_empty() { CommandSource::Config } else { CommandSource::CommandLine };
            let argv = if a.command.is_empty() { project.config.gate.test.clone() } else { a.command };
            let timeout = Duration::from_secs(a.timeout.unwrap_or(project.config.gate.timeout_secs).max(1));
            if let Some(b) = a.batch {
                db.batch(b)?.ok_or_else(|| crate::ops::batch::no_batch(b))?;
            }
            // The configured results file, unless one was named here.
            let results_name = if a.results.is_none() && source == CommandSource::Config { project.config.gate.results.clone() } else { None };
            let context = GateContext { source, origin: "gate", progress: progress(ctx), record: true };
            let g = TestGate { argv, format: a.format, timeout, expect: a.expect, results_file: a.results, results_name, batch: a.batch, context };
            let report = test_gate(&mut db, &project, &g)?;
            ctx.emit("gate test", &report, render::gate::report)?;
            Ok(report.verdict.exit_code())
        }
        GateCommand::Parse(a) => super::gate_parse::run(ctx, a),
        GateCommand::Mutants(a) => super::gate_mutants::run(ctx, a),
    }
}

/// A progress line only for people watching a terminal.
pub fn progress(ctx: &Ctx) -> bool {
    use std::io::IsTerminal;
    !ctx.json && std::io::stderr().is_terminal()
}

/// Refuse an empty command vector early, naming the setting.
pub fn non_empty(argv: &[String], what: &str) -> Result<(), Error> {
    if argv.is_empty() {
        Err(Error::usage(format!("no {what} command: give one after `--` or set gate.{what} in porttrack.toml")))
    } else {
        Ok(())
    }
}
