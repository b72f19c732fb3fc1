//! `gate build` and `gate test`: run the command, parse and judge its
//! results, and record the run as evidence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Project;
use crate::db::{Database, GateRecord};
use crate::domain::test_identity::{ResultIndex, Resolution};
use crate::error::Error;
use crate::gate::parse::{OutputParser, StreamEnd};
use crate::gate::results::{Counts, Format, Parsed, TestOutcome, TestResult};
use crate::gate::run::{run, sha256_file, signal_name, CommandRun, Ended, LogSummary, RunOptions};

/// `auto` or a named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    Auto,
    Fixed(Format),
}

impl std::str::FromStr for FormatChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            Ok(FormatChoice::Auto)
        } else {
            s.parse().map(FormatChoice::Fixed)
        }
    }
}

/// What the gate concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    Passed,
    /// The command ran and the gate failed (see `failures`).
    Failed,
    /// Nothing was measured: the command could not be started.
    CouldNotRun,
}

impl GateVerdict {
    pub fn exit_code(self) -> i32 {
        match self {
            GateVerdict::Passed => crate::exit_codes::SUCCESS,
            GateVerdict::Failed => crate::exit_codes::CHECK_FAILED,
            GateVerdict::CouldNotRun => crate::exit_codes::COULD_NOT_RUN,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub run_id: Option<i64>,
    pub kind: &'static str,
    pub command: Vec<String>,
    pub verdict: GateVerdict,
    /// Every reason the gate did not pass.
    pub failures: Vec<String>,
    pub duration_ms: u64,
    pub exit_code: Option<i32>,
    pub format: Option<Format>,
    /// Every test the runner reported, named or not; equal to the
    /// runner's own summary unless `warnings` says otherwise.
    pub counts: Counts,
    /// Tests that failed or did not finish, as `CONTAINER NAME`.
    pub failed_tests: Vec<String>,
    pub missing_expected: Vec<String>,
    pub warnings: Vec<String>,
    pub log_path: Option<String>,
    /// How much output there was and how much the log left out.
    pub log: LogSummary,
    /// The signal (SIGINT, SIGTERM) that ended the run, if one did.
    pub interrupted: Option<String>,
    #[serde(skip)]
    pub results: Vec<TestResult>,
}

/// Options of a test gate.
#[derive(Debug, Clone)]
pub struct TestGate {
    pub argv: Vec<String>,
    pub format: FormatChoice,
    pub timeout: Duration,
    pub expect: Vec<String>,
    /// Read results from this file (JUnit, TRX) instead of the output.
    pub results_file: Option<PathBuf>,
    pub batch: Option<i64>,
    pub progress: bool,
    /// Write the run to the database (false for dry runs).
    pub record: bool,
}

/// Run a build gate: it passes when the command exits 0 in time.
pub fn build_gate(db: &mut Database, project: &Project, argv: &[String], timeout: Duration, progress: bool, record: bool) -> Result<GateReport, Error> {
    let log = log_path(project, "build");
    let r = run(argv, &run_options(project, timeout, &log, progress), &mut |_| {});
    let mut failures = Vec::new();
    let verdict = match &r.ended {
        Ended::NotStarted(why) => {
            failures.push(why.clone());
            GateVerdict::CouldNotRun
        }
        Ended::TimedOut => {
            failures.push(format!("timed out after {} s", timeout.as_secs()));
            GateVerdict::Failed
        }
        Ended::Interrupted(sig) => {
            failures.push(interrupted_text(*sig));
            GateVerdict::Failed
        }
        Ended::Exited(Some(0)) => GateVerdict::Passed,
        Ended::Exited(code) => {
            failures.push(exit_text(*code));
            GateVerdict::Failed
        }
    };
    finish(db, project, "build", r, verdict, failures, None, Parsed::default(), Vec::new(), None, record)
}

/// Run a test gate (see README, "Gates", for when it fails). The output is
/// parsed as it streams by; a results file is read after the run.
pub fn test_gate(db: &mut Database, project: &Project, g: &TestGate) -> Result<GateReport, Error> {
    let log = log_path(project, "test");
    let fixed = match g.format {
        FormatChoice::Fixed(f) => Some(f),
        FormatChoice::Auto => None,
    };
    let from_output = g.results_file.is_none();
    let cargo = (from_output && crate::gate::cargo::is_cargo(&g.argv) && matches!(fixed, None | Some(Format::Libtest)))
        .then(|| crate::gate::cargo::workspace_targets(&project.root))
        .flatten()
        .map(std::sync::Arc::new);
    let mut parser = OutputParser::new(fixed, cargo);
    let r = run(&g.argv, &run_options(project, g.timeout, &log, g.progress), &mut |line| {
        if from_output {
            parser.line_bytes(line);
        }
    });
    if let Ended::NotStarted(why) = &r.ended {
        let failures = vec![why.clone()];
        return finish(db, project, "test", r, GateVerdict::CouldNotRun, failures, None, Parsed::default(), Vec::new(), g.batch, g.record);
    }
    let end = if r.ended == Ended::TimedOut { StreamEnd::TimedOut } else { StreamEnd::Finished };
    let mut failures = Vec::new();
    let (format, parsed) = match &g.results_file {
        Some(path) => {
            let path = if path.is_absolute() { path.clone() } else { project.root.join(path) };
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = crate::gate::parse::decode(&bytes);
                    match fixed.or_else(|| crate::gate::parse::detect(&text)) {
                        None => (None, Err(None)),
                        Some(f) => (Some(f), crate::gate::parse::parse_ended(f, &text, end).map_err(Some)),
                    }
                }
                Err(e) => {
                    failures.push(format!("cannot read results file {}: {e}", path.display()));
                    (None, Ok(Parsed::default()))
                }
            }
        }
        None => {
            let (f, p) = parser.finish(end);
            (f, p.map_err(Some))
        }
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(None) => {
            failures.push("could not tell the results format; pass --format".into());
            Parsed::default()
        }
        Err(Some(e)) => {
            failures.push(e.to_string());
            Parsed::default()
        }
    };
    if format.is_none() && failures.is_empty() {
        failures.push("could not tell the results format; pass --format".into());
    }
    match &r.ended {
        Ended::TimedOut => failures.push(format!("timed out after {} s", g.timeout.as_secs())),
        Ended::Interrupted(sig) => failures.push(interrupted_text(*sig)),
        Ended::Exited(Some(0)) => {}
        Ended::Exited(code) => failures.push(exit_text(*code)),
        Ended::NotStarted(_) => {}
    }
    let c = parsed.counts();
    if c.total() == 0 {
        failures.push("no tests ran".into());
    } else if c.passed == 0 && c.failed == 0 {
        failures.push(format!("all {} tests were skipped", c.skipped));
    }
    let failed = parsed.results.iter().filter(|t| t.outcome == TestOutcome::Failed).count() as u64 + parsed.anonymous.failed;
    if failed > 0 {
        failures.push(format!("{failed} test(s) failed"));
    }
    let unfinished = parsed.results.iter().filter(|t| matches!(t.outcome, TestOutcome::Timeout | TestOutcome::Incomplete)).count();
    if unfinished > 0 {
        failures.push(format!("{unfinished} test(s) did not finish"));
    }
    let index = ResultIndex::new(&parsed.results);
    let mut missing = Vec::new();
    for e in &g.expect {
        match index.resolve(e) {
            Resolution::Missing => missing.push(e.clone()),
            r @ Resolution::Ambiguous { .. } => failures.push(format!("expected test {}", r.ambiguity(e).unwrap_or_default())),
            Resolution::Found { .. } => {}
        }
    }
    if !missing.is_empty() {
        failures.push(format!("{} expected test(s) missing from the results", missing.len()));
    }
    let verdict = if failures.is_empty() { GateVerdict::Passed } else { GateVerdict::Failed };
    finish(db, project, "test", r, verdict, failures, format, parsed, missing, g.batch, g.record)
}

fn run_options<'a>(project: &'a Project, timeout: Duration, log: &'a Path, progress: bool) -> RunOptions<'a> {
    RunOptions { cwd: &project.root, timeout, log: Some(log), log_keep: project.config.gate.log_keep_mb.max(1).saturating_mul(1 << 20), progress }
}

fn interrupted_text(sig: i32) -> String {
    format!("interrupted by {}; every process the command started was ended", signal_name(sig))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    db: &mut Database,
    project: &Project,
    kind: &'static str,
    r: CommandRun,
    verdict: GateVerdict,
    failures: Vec<String>,
    format: Option<Format>,
    parsed: Parsed,
    missing_expected: Vec<String>,
    batch: Option<i64>,
    record: bool,
) -> Result<GateReport, Error> {
    let exit_code = match r.ended {
        Ended::Exited(c) => c,
        _ => None,
    };
    let outcome = match (&r.ended, verdict) {
        (_, GateVerdict::CouldNotRun) => "could_not_run",
        (Ended::TimedOut, _) => "timed_out",
        (_, GateVerdict::Passed) => "passed",
        (_, GateVerdict::Failed) => "failed",
    };
    let mut warnings = parsed.warnings;
    if r.ended_leftovers > 0 {
        warnings.push(format!("ended {} process(es) the command left running", r.ended_leftovers));
    }
    if r.log.omitted_bytes > 0 {
        warnings.push(format!(
            "the command printed {} bytes; the log keeps the first and the last {} MB",
            r.log.output_bytes,
            project.config.gate.log_keep_mb.max(1)
        ));
    }
    // Results are kept as the runner reported them: the same name in two
    // binaries is two results, never merged.
    let results = parsed.results;
    let interrupted = match r.ended {
        Ended::Interrupted(sig) => Some(signal_name(sig)),
        _ => None,
    };
    let mut report = GateReport {
        run_id: None,
        kind,
        command: r.argv.clone(),
        verdict,
        failures,
        duration_ms: r.duration.as_millis() as u64,
        exit_code,
        format,
        counts: Counts::of(&results).add(parsed.anonymous),
        failed_tests: results
            .iter()
            .filter(|t| t.outcome.is_failure())
            .map(|t| if t.outcome == TestOutcome::Failed { t.qualified() } else { format!("{} ({})", t.qualified(), t.outcome.as_str()) })
            .collect(),
        missing_expected,
        warnings,
        log_path: r.log_path.as_ref().map(|p| p.display().to_string()),
        log: r.log.clone(),
        interrupted,
        results,
    };
    if record {
        let (git_commit, git_dirty) = git_state(&project.root);
        let file_hashes = db.mapped_rust_files()?.into_iter().map(|f| (f.clone(), sha256_file(&project.root.join(&f)))).collect();
        let rec = GateRecord {
            kind,
            command: r.argv,
            cwd: r.cwd.display().to_string(),
            started_at: r.started_at,
            duration_ms: report.duration_ms,
            exit_code,
            outcome,
            failure: (!report.failures.is_empty()).then(|| report.failures.join("; ")),
            format: format.map(|f| f.as_str().to_string()),
            git_commit,
            git_dirty,
            log_path: report.log_path.clone(),
            log_sha256: r.log_sha256,
            batch,
            results: report.results.clone(),
            counts: report.counts,
            file_hashes,
        };
        report.run_id = Some(db.record_gate_run(&rec)?);
    }
    Ok(report)
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exited with status {c}"),
        None => "killed by a signal".to_string(),
    }
}

/// `.porttrack/logs/<time>-<kind>.log` under the project root.
fn log_path(project: &Project, kind: &str) -> PathBuf {
    let stamp: String = crate::clock::now_rfc3339().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    project.root.join(".porttrack").join("logs").join(format!("{stamp}-{kind}-{}.log", std::process::id()))
}

/// HEAD's commit and whether tracked files differ from it (None outside git).
fn git_state(root: &Path) -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| duct::cmd("git", args).dir(root).stderr_null().stdout_capture().unchecked().run().ok().filter(|o| o.status.success());
    let commit = git(&["rev-parse", "HEAD"]).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = commit.as_ref().and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"])).map(|o| !o.stdout.is_empty());
    (commit, dirty)
}
