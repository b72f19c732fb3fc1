//! `gate build` and `gate test`: run the command, parse and judge its
//! results, and record the run as evidence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Project;
use crate::db::{Database, GateRecord};
use crate::error::Error;
use crate::gate::results::{Counts, Format, Parsed, TestOutcome, TestResult};
use crate::gate::run::{run, sha256_file, CommandRun, Ended};

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
    pub counts: Counts,
    pub failed_tests: Vec<String>,
    pub missing_expected: Vec<String>,
    pub warnings: Vec<String>,
    pub log_path: Option<String>,
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
    let r = run(argv, &project.root, timeout, Some(&log), progress);
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
        Ended::Exited(Some(0)) => GateVerdict::Passed,
        Ended::Exited(code) => {
            failures.push(exit_text(*code));
            GateVerdict::Failed
        }
    };
    finish(db, project, "build", r, verdict, failures, None, Parsed::default(), Vec::new(), None, record)
}

/// Run a test gate (see README, "Gates", for when it fails).
pub fn test_gate(db: &mut Database, project: &Project, g: &TestGate) -> Result<GateReport, Error> {
    let log = log_path(project, "test");
    let r = run(&g.argv, &project.root, g.timeout, Some(&log), g.progress);
    if let Ended::NotStarted(why) = &r.ended {
        let failures = vec![why.clone()];
        return finish(db, project, "test", r, GateVerdict::CouldNotRun, failures, None, Parsed::default(), Vec::new(), g.batch, g.record);
    }
    let mut failures = Vec::new();
    let input = match &g.results_file {
        Some(path) => {
            let path = if path.is_absolute() { path.clone() } else { project.root.join(path) };
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(text),
                Err(e) => {
                    failures.push(format!("cannot read results file {}: {e}", path.display()));
                    None
                }
            }
        }
        None => Some(r.output.clone()),
    };
    let (format, parsed) = match input {
        None => (None, Parsed::default()),
        Some(text) => {
            let format = match g.format {
                FormatChoice::Fixed(f) => Some(f),
                FormatChoice::Auto => crate::gate::parse::detect(&text),
            };
            match format {
                None => {
                    failures.push("could not tell the results format; pass --format".into());
                    (None, Parsed::default())
                }
                Some(f) => match crate::gate::parse::parse(f, &text) {
                    Ok(p) => (Some(f), p),
                    Err(e) => {
                        failures.push(e.to_string());
                        (Some(f), Parsed::default())
                    }
                },
            }
        }
    };
    match &r.ended {
        Ended::TimedOut => failures.push(format!("timed out after {} s", g.timeout.as_secs())),
        Ended::Exited(Some(0)) => {}
        Ended::Exited(code) => failures.push(exit_text(*code)),
        Ended::NotStarted(_) => {}
    }
    let c = parsed.counts();
    if parsed.results.is_empty() {
        failures.push("no tests ran".into());
    } else if c.passed == 0 && c.failed == 0 {
        failures.push(format!("all {} tests were skipped", c.skipped));
    }
    if c.failed > 0 {
        failures.push(format!("{} test(s) failed", c.failed));
    }
    let names: std::collections::HashSet<&str> = parsed.results.iter().map(|r| r.name.as_str()).collect();
    let missing: Vec<String> = g.expect.iter().filter(|e| !names.contains(e.as_str())).cloned().collect();
    if !missing.is_empty() {
        failures.push(format!("{} expected test(s) missing from the results", missing.len()));
    }
    let verdict = if failures.is_empty() { GateVerdict::Passed } else { GateVerdict::Failed };
    finish(db, project, "test", r, verdict, failures, format, parsed, missing, g.batch, g.record)
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
    // A name run by two test binaries gets one merged result (failed wins).
    let results = crate::gate::parse::merge_by_name(&parsed.results);
    let mut report = GateReport {
        run_id: None,
        kind,
        command: r.argv.clone(),
        verdict,
        failures,
        duration_ms: r.duration.as_millis() as u64,
        exit_code,
        format,
        counts: Counts::of(&results),
        failed_tests: results.iter().filter(|t| t.outcome == TestOutcome::Failed).map(|t| t.name.clone()).collect(),
        missing_expected,
        warnings: parsed.warnings,
        log_path: r.log_path.as_ref().map(|p| p.display().to_string()),
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
