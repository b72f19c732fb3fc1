//! `gate build` and `gate test`: run the command, parse and judge its
//! results, and record the run as evidence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::provenance::{fresh_results_dir, tree_state, with_results_dir, RESULTS_DIR_ENV};
use crate::config::Project;
use crate::db::{Database, GateRecord};
use crate::domain::evidence::{classify, CommandSource, Provenance, ResultsSource, RunOrigin};
use crate::error::Error;
use crate::gate::results::{Counts, Format, Parsed, TestOutcome, TestResult};
use crate::gate::run::{run, run_with_env, CommandRun, Ended};

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
    /// What the run counts for as evidence (trusted, adhoc, dirty), and why
    /// it is not trusted.
    pub provenance: Provenance,
    pub untrusted_because: Vec<String>,
    /// HEAD when the command started.
    pub git_commit: Option<String>,
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

/// How a gate was asked for, the same for build and test gates.
#[derive(Debug, Clone, Copy)]
pub struct GateContext {
    /// Whether the command came from porttrack.toml or the command line.
    pub source: CommandSource,
    /// `gate` or `verify`, recorded with the run.
    pub origin: &'static str,
    pub progress: bool,
    /// Write the run to the database (false for dry runs).
    pub record: bool,
}

/// Options of a test gate.
#[derive(Debug, Clone)]
pub struct TestGate {
    pub argv: Vec<String>,
    pub format: FormatChoice,
    pub timeout: Duration,
    pub expect: Vec<String>,
    /// Read results from this file (JUnit, TRX) instead of the output; a
    /// file porttrack cannot tie to the run, so the run is ad hoc.
    pub results_file: Option<PathBuf>,
    /// Read results from this file of the run's fresh results directory
    /// (`gate.results` of porttrack.toml).
    pub results_name: Option<String>,
    pub batch: Option<i64>,
    pub context: GateContext,
}

/// Run a build gate: it passes when the command exits 0 in time.
pub fn build_gate(db: &mut Database, project: &Project, argv: &[String], timeout: Duration, ctx: &GateContext) -> Result<GateReport, Error> {
    let log = log_path(project, "build");
    let start = tree_state(project, db.path());
    let r = run(argv, &project.root, timeout, Some(&log), ctx.progress);
    let end = tree_state(project, db.path());
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
    let origin = RunOrigin { source: ctx.source, results: ResultsSource::Output, start, end };
    let outcome = Outcome { verdict, failures, format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: None };
    finish(db, project, "build", r, outcome, &origin, None, ctx)
}

/// Run a test gate (see README, "Gates", for when it fails, and "What
/// counts as evidence" for when its run is trusted).
pub fn test_gate(db: &mut Database, project: &Project, g: &TestGate) -> Result<GateReport, Error> {
    let log = log_path(project, "test");
    let start = tree_state(project, db.path());
    let results_dir = match fresh_results_dir(project, "test") {
        Ok(d) => d,
        Err(e) => {
            let r = CommandRun { argv: g.argv.clone(), cwd: project.root.clone(), started_at: crate::clock::now_rfc3339(), duration: Duration::ZERO, ended: Ended::NotStarted(String::new()), output: String::new(), log_path: None, log_sha256: None };
            let failures = vec![format!("cannot make a results directory under {}: {e}", project.root.join(".porttrack/runs").display())];
            let origin = RunOrigin { source: g.context.source, results: ResultsSource::Output, end: start.clone(), start };
            let outcome = Outcome { verdict: GateVerdict::CouldNotRun, failures, format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: None };
            return finish(db, project, "test", r, outcome, &origin, g.batch, &g.context);
        }
    };
    let external = g.results_file.as_ref().map(|p| if p.is_absolute() { p.clone() } else { project.root.join(p) });
    let existed_before = external.as_ref().and_then(|p| std::fs::symlink_metadata(p).ok()).is_some();
    let argv = with_results_dir(&g.argv, &results_dir);
    let env = [(RESULTS_DIR_ENV.to_string(), results_dir.to_string_lossy().into_owned())];
    let r = run_with_env(&argv, &project.root, &env, g.timeout, Some(&log), g.context.progress);
    let end = tree_state(project, db.path());
    let (results_source, results_path) = match (&external, &g.results_name) {
        (Some(p), _) => (ResultsSource::ExternalFile, Some(p.clone())),
        (None, Some(name)) => (ResultsSource::ResultsDir, Some(results_dir.join(name))),
        (None, None) => (ResultsSource::Output, None),
    };
    let origin = RunOrigin { source: g.context.source, results: results_source, start, end };
    let recorded = RecordedResults { dir: results_dir.clone(), path: results_path.clone() };
    if let Ended::NotStarted(why) = &r.ended {
        let outcome = Outcome { verdict: GateVerdict::CouldNotRun, failures: vec![why.clone()], format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: Some(recorded) };
        return finish(db, project, "test", r, outcome, &origin, g.batch, &g.context);
    }
    let mut failures = Vec::new();
    let input = match &results_path {
        Some(path) if existed_before => {
            failures.push(format!("results file {} existed before the run started, so it cannot hold this run's results", path.display()));
            None
        }
        Some(path) => match read_results(path) {
            Ok(text) => Some(text),
            Err(why) => {
                failures.push(why);
                None
            }
        },
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
    let outcome = Outcome { verdict, failures, format, parsed, missing_expected: missing, results: Some(recorded) };
    finish(db, project, "test", r, outcome, &origin, g.batch, &g.context)
}

/// Read a results file the run should have written (it did not exist
/// when the run started): a regular file of at most
/// [`crate::project_files::MAX_BYTES`].
fn read_results(path: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("the command wrote no results file {shown}"),
        _ => format!("cannot read results file {shown}: {e}"),
    })?;
    let meta = file.metadata().map_err(|e| format!("cannot read results file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("results file {shown} is a {}, not a regular file", crate::project_files::kind_of(&meta)));
    }
    let mut bytes = Vec::new();
    file.take(crate::project_files::MAX_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read results file {shown}: {e}"))?;
    if bytes.len() as u64 > crate::project_files::MAX_BYTES {
        return Err(format!("results file {shown} is larger than {} bytes", crate::project_files::MAX_BYTES));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Where a test gate's results could be written and were read.
struct RecordedResults {
    dir: PathBuf,
    path: Option<PathBuf>,
}

/// What a gate concluded, before it is recorded.
struct Outcome {
    verdict: GateVerdict,
    failures: Vec<String>,
    format: Option<Format>,
    parsed: Parsed,
    missing_expected: Vec<String>,
    results: Option<RecordedResults>,
}

#[allow(clippy::too_many_arguments)]
fn finish(db: &mut Database, project: &Project, kind: &'static str, r: CommandRun, o: Outcome, origin: &RunOrigin, batch: Option<i64>, ctx: &GateContext) -> Result<GateReport, Error> {
    let exit_code = match r.ended {
        Ended::Exited(c) => c,
        _ => None,
    };
    let outcome = match (&r.ended, o.verdict) {
        (_, GateVerdict::CouldNotRun) => "could_not_run",
        (Ended::TimedOut, _) => "timed_out",
        (_, GateVerdict::Passed) => "passed",
        (_, GateVerdict::Failed) => "failed",
    };
    let (provenance, untrusted_because) = classify(origin);
    // A name run by two test binaries gets one merged result (failed wins).
    let results = crate::gate::parse::merge_by_name(&o.parsed.results);
    let mut report = GateReport {
        run_id: None,
        kind,
        command: r.argv.clone(),
        verdict: o.verdict,
        provenance,
        untrusted_because,
        git_commit: origin.start.commit.clone(),
        failures: o.failures,
        duration_ms: r.duration.as_millis() as u64,
        exit_code,
        format: o.format,
        counts: Counts::of(&results),
        failed_tests: results.iter().filter(|t| t.outcome == TestOutcome::Failed).map(|t| t.name.clone()).collect(),
        missing_expected: o.missing_expected,
        warnings: o.parsed.warnings,
        log_path: r.log_path.as_ref().map(|p| p.display().to_string()),
        results,
    };
    if ctx.record {
        let file_hashes = db.mapped_rust_files()?.into_iter().map(|f| (f.clone(), crate::project_files::sha256(&project.root, &f))).collect();
        let rec = GateRecord {
            kind,
            command: r.argv,
            cwd: r.cwd.display().to_string(),
            started_at: r.started_at,
            duration_ms: report.duration_ms,
            exit_code,
            outcome,
            failure: (!report.failures.is_empty()).then(|| report.failures.join("; ")),
            format: o.format.map(|f| f.as_str().to_string()),
            git_commit: origin.start.commit.clone(),
            git_dirty: origin.start.commit.as_ref().map(|_| !origin.start.dirty.is_empty()),
            log_path: report.log_path.clone(),
            log_sha256: r.log_sha256,
            batch,
            results: report.results.clone(),
            file_hashes,
            provenance: report.provenance,
            untrusted_because: report.untrusted_because.clone(),
            command_source: ctx.source,
            config_sha256: project.config_sha256.clone(),
            results_source: o.results.as_ref().map(|_| origin.results),
            results_dir: o.results.as_ref().map(|x| x.dir.display().to_string()),
            results_path: o.results.as_ref().and_then(|x| x.path.as_ref()).map(|p| p.display().to_string()),
            git_commit_end: origin.end.commit.clone(),
            git_dirty_end: origin.end.commit.as_ref().map(|_| !origin.end.dirty.is_empty()),
            origin: ctx.origin,
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
