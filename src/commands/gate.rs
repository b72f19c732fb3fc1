//! `porttrack gate build|test|parse`: run a command as a gate and record
//! the run as evidence.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::Ctx;
use crate::error::Error;
use crate::ops::gate::{build_gate, test_gate, FormatChoice, TestGate};
use crate::render;

const GATE_RULES: &str = "\
A test gate fails when the command exits non-zero, times out, runs zero
tests, only skips, or an expected test is missing from the results.
Exit 0: passed; 1: ran and failed; 7: could not run (nothing measured).
The run, its per-test results, the git commit and the hashes of mapped
Rust files are recorded; see `porttrack evidence list`.";

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
    /// Read results from this file (JUnit XML, TRX) instead of the output
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
            let project = ctx.project()?;
            let argv = if a.command.is_empty() { project.config.gate.build.clone() } else { a.command };
            let timeout = Duration::from_secs(a.timeout.unwrap_or(project.config.gate.timeout_secs).max(1));
            let mut db = ctx.open_db()?;
            let report = build_gate(&mut db, &project, &argv, timeout, progress(ctx), true)?;
            ctx.emit("gate build", &report, render::gate::report)?;
            Ok(report.verdict.exit_code())
        }
        GateCommand::Test(a) => {
            let project = ctx.project()?;
            // The configured results file goes with the configured command.
            let results_file = a.results.or_else(|| if a.command.is_empty() { project.config.gate.results.as_ref().map(PathBuf::from) } else { None });
            let argv = if a.command.is_empty() { project.config.gate.test.clone() } else { a.command };
            let timeout = Duration::from_secs(a.timeout.unwrap_or(project.config.gate.timeout_secs).max(1));
            let mut db = ctx.open_db()?;
            if let Some(b) = a.batch {
                db.batch(b)?.ok_or_else(|| crate::ops::batch::no_batch(b))?;
            }
            let g = TestGate { argv, format: a.format, timeout, expect: a.expect, results_file, batch: a.batch, progress: progress(ctx), record: true };
            let report = test_gate(&mut db, &project, &g)?;
            ctx.emit("gate test", &report, render::gate::report)?;
            Ok(report.verdict.exit_code())
        }
        GateCommand::Parse(a) => super::gate_parse::run(ctx, a),
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
