//! `gate build` and `gate test`: run the command, parse and judge its
//! results, and record the run as evidence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::provenance::{fresh_results_dir, tree_state, with_results_dir, RESULTS_DIR_ENV};
use crate::config::Project;
use crate::db::{Database, GateRecord};
use crate::domain::evidence::{classify, CommandSource, Provenance, ResultsSource, RunOrigin};
use crate::domain::test_identity::{ResultIndex, Resolution};
use crate::error::Error;
use crate::gate::parse::{OutputParser, StreamEnd};
use crate::gate::results::{Counts, Format, Parsed, TestOutcome, TestResult};
use crate::gate::run::{run, signal_name, CommandRun, Ended, LogSummary, RunOptions};

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
    let r = run(argv, &run_options(project, &[], timeout, &log, ctx.progress), &mut |_| {});
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
    let origin = RunOrigin { source: ctx.source, results: ResultsSource::Output, start, end };
    let outcome = Outcome { verdict, failures, format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: None };
    finish(db, project, "build", r, outcome, &origin, None, ctx)
}

/// Run a test gate (see README, "Gates", for when it fails, and "What
/// counts as evidence" for when its run is trusted). The output is parsed
/// as it streams by; a results file is read after the run.
pub fn test_gate(db: &mut Database, project: &Project, g: &TestGate) -> Result<GateReport, Error> {
    let log = log_path(project, "test");
    let start = tree_state(project, db.path());
    let results_dir = match fresh_results_dir(project, "test") {
        Ok(d) => d,
        Err(e) => {
            let r = CommandRun::not_started(&g.argv, &project.root, String::new());
            let failures = vec![format!("cannot make a results directory under {}: {e}", project.root.join(".porttrack/runs").display())];
            let origin = RunOrigin { source: g.context.source, results: ResultsSource::Output, end: start.clone(), start };
            let outcome = Outcome { verdict: GateVerdict::CouldNotRun, failures, format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: None };
            return finish(db, project, "test", r, outcome, &origin, g.batch, &g.context);
        }
    };
    let external = g.results_file.as_ref().map(|p| if p.is_absolute() { p.clone() } else { project.root.join(p) });
    let existed_before = external.as_ref().and_then(|p| std::fs::symlink_metadata(p).ok()).is_some();
    let (results_source, results_path) = match (&external, &g.results_name) {
        (Some(p), _) => (ResultsSource::ExternalFile, Some(p.clone())),
        (None, Some(name)) => (ResultsSource::ResultsDir, Some(results_dir.join(name))),
        (None, None) => (ResultsSource::Output, None),
    };
    let fixed = match g.format {
        FormatChoice::Fixed(f) => Some(f),
        FormatChoice::Auto => None,
    };
    let from_output = results_path.is_none();
    let cargo = (from_output && crate::gate::cargo::is_cargo(&g.argv) && matches!(fixed, None | Some(Format::Libtest)))
        .then(|| crate::gate::cargo::workspace_targets(&project.root))
        .flatten()
        .map(std::sync::Arc::new);
    let mut parser = OutputParser::new(fixed, cargo);
    let argv = with_results_dir(&g.argv, &results_dir);
    let env = [(RESULTS_DIR_ENV.to_string(), results_dir.to_string_lossy().into_owned())];
    let r = run(&argv, &run_options(project, &env, g.timeout, &log, g.context.progress), &mut |line| {
        if from_output {
            parser.line_bytes(line);
        }
    });
    let end_state = tree_state(project, db.path());
    let origin = RunOrigin { source: g.context.source, results: results_source, start, end: end_state };
    let recorded = RecordedResults { dir: results_dir.clone(), path: results_path.clone() };
    if let Ended::NotStarted(why) = &r.ended {
        let outcome = Outcome { verdict: GateVerdict::CouldNotRun, failures: vec![why.clone()], format: None, parsed: Parsed::default(), missing_expected: Vec::new(), results: Some(recorded) };
        return finish(db, project, "test", r, outcome, &origin, g.batch, &g.context);
    }
    let end = if r.ended == Ended::TimedOut { StreamEnd::TimedOut } else { StreamEnd::Finished };
    let mut failures = Vec::new();
    let (format, parsed) = match &results_path {
        Some(path) if existed_before => {
            failures.push(format!("results file {} existed before the run started, so it cannot hold this run's results", path.display()));
            (None, Ok(Parsed::default()))
        }
        Some(path) => match read_results(path) {
            Ok(text) => match fixed.or_else(|| crate::gate::parse::detect(&text)) {
                None => (None, Err(None)),
                Some(f) => (Some(f), crate::gate::parse::parse_ended(f, &text, end).map_err(Some)),
            },
            Err(why) => {
                failures.push(why);
                (None, Ok(Parsed::default()))
            }
        },
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
    let outcome = Outcome { verdict, failures, format, parsed, missing_expected: missing, results: Some(recorded) };
    finish(db, project, "test", r, outcome, &origin, g.batch, &g.context)
}

fn run_options<'a>(project: &'a Project, env: &'a [(String, String)], timeout: Duration, log: &'a Path, progress: bool) -> RunOptions<'a> {
    RunOptions { cwd: &project.root, env, timeout, log: Some(log), log_keep: project.config.gate.log_keep_mb.max(1).saturating_mul(1 << 20), progress }
}

fn interrupted_text(sig: i32) -> String {
    format!("interrupted by {}; every process the command started was ended", signal_name(sig))
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
    let mut warnings = o.parsed.warnings;
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
    let results = o.parsed.results;
    let interrupted = match r.ended {
        Ended::Interrupted(sig) => Some(signal_name(sig)),
        _ => None,
    };
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
        counts: Counts::of(&results).add(o.parsed.anonymous),
        failed_tests: results
            .iter()
            .filter(|t| t.outcome.is_failure())
            .map(|t| if t.outcome == TestOutcome::Failed { t.qualified() } else { format!("{} ({})", t.qualified(), t.outcome.as_str()) })
            .collect(),
        missing_expected: o.missing_expected,
        warnings,
        log_path: r.log_path.as_ref().map(|p| p.display().to_string()),
        log: r.log.clone(),
        interrupted,
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
            counts: report.counts,
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
            // The same rule as history rows' default actor.
            actor: std::env::var("USER").ok().filter(|u| !u.is_empty()),
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
