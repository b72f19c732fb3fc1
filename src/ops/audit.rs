//! `porttrack audit`: re-check that the database is what porttrack wrote
//! and that every `verified` item stands on evidence that meets the rules
//! (README, "What counts as evidence"); with `--rerun`, re-run each
//! evidence run at its commit in a temporary worktree and compare the
//! per-test outcomes. Writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::provenance::{RESULTS_DIR_ENV, RESULTS_DIR_TOKEN};
use crate::config::Project;
use crate::db::{Database, Finding, ItemRow, ResultRow, RunRow};
use crate::domain::evidence::{admit, EvidenceUse};
use crate::domain::mutation;
use crate::domain::status::ItemKind;
use crate::domain::transitions::coverage_gap;
use crate::error::Error;
use crate::gate::results::{Format, TestOutcome};
use crate::git::Repo;

#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub rerun: bool,
    /// Per re-run, killed after this long.
    pub timeout: Duration,
    pub progress: bool,
}

/// One check and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// What was looked at (`212 rows`).
    pub checked: String,
    pub problems: Vec<Finding>,
}

/// One evidence run, run again.
#[derive(Debug, Clone, Serialize)]
pub struct Rerun {
    pub run: i64,
    pub commit: Option<String>,
    pub command: Vec<String>,
    pub agreed: bool,
    /// Recorded results compared with the re-run's.
    pub compared: usize,
    pub disagreements: Vec<String>,
    /// Why the re-run could not be made or judged.
    pub failure: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub passed: bool,
    /// Where Rust files were read and re-runs made.
    pub project_root: String,
    pub checks: Vec<Check>,
    /// Not failures: verified items whose Rust file changed since their
    /// evidence (stale), history from before the chain.
    pub warnings: Vec<Finding>,
    pub reruns: Vec<Rerun>,
}

impl AuditReport {
    pub fn exit_code(&self) -> i32 {
        if self.passed {
            crate::exit_codes::SUCCESS
        } else {
            crate::exit_codes::CHECK_FAILED
        }
    }
}

fn check(name: &'static str, result: Result<(String, Vec<Finding>), Error>) -> Check {
    match result {
        Ok((checked, problems)) => Check { name, passed: problems.is_empty(), checked, problems },
        Err(e) => Check { name, passed: false, checked: String::new(), problems: vec![Finding { subject: name.to_string(), message: format!("could not be checked: {e}") }] },
    }
}

/// Run every check; `schema` is what opening found about the schema.
pub fn audit(db: &Database, project: &Project, schema: Vec<String>, o: &AuditOptions) -> Result<AuditReport, Error> {
    let mut warnings = Vec::new();
    let mut checks = vec![
        check("sqlite", db.quick_check().map(|bad| ("PRAGMA quick_check".to_string(), bad.into_iter().map(|m| Finding { subject: "database file".into(), message: m }).collect()))),
        check(
            "schema",
            Ok(("tables, columns, indexes, views and triggers against porting.db.schema".to_string(), schema.into_iter().map(|m| Finding { subject: "schema".into(), message: m }).collect())),
        ),
    ];
    let history = db.history_chain();
    if let Ok(h) = &history {
        if h.legacy_rows > 0 {
            warnings.push(Finding { subject: "history".into(), message: format!("{} row(s) predate the hash chain and cannot be checked", h.legacy_rows) });
        }
    }
    checks.push(check("history chain", history.map(|h| (format!("{} history row(s)", h.rows), h.problems))));
    let runs = db.run_chain();
    if let Ok(r) = &runs {
        if r.legacy_rows > 0 {
            warnings.push(Finding { subject: "gate runs".into(), message: format!("{} run(s) predate the hash chain and cannot be checked", r.legacy_rows) });
        }
    }
    checks.push(check("gate-run chain", runs.map(|r| (format!("{} gate run(s) with their results and file hashes", r.rows), r.problems))));
    checks.push(check("mutation chain", db.mutation_chain_problems().map(|(n, p)| (format!("{n} mutation run(s) with their mutants"), p))));
    checks.push(check("history replay", db.replay_problems().map(|p| ("every item's status and evidence against its history".to_string(), p))));
    let (verified, evidence) = match db.verified_items() {
        Ok(items) => {
            let found = evidence_problems(db, project, &items, &mut warnings);
            (items, found)
        }
        Err(e) => (Vec::new(), Err(e)),
    };
    let count = verified.len();
    checks.push(check("evidence", evidence.map(|p| (format!("{count} verified item(s)"), p))));
    checks.push(check("mutation evidence", mutation_problems(db, project, &verified, &mut warnings)));
    checks.push(check("stub guard", stub_problems(db, project, &mut warnings)));

    // What a reviewer should look at: evidence made elsewhere, or by a gate
    // the configuration no longer has.
    let ids: BTreeSet<i64> = verified.iter().filter_map(|i| i.evidence_run).collect();
    for id in &ids {
        if let Some((run, _, _)) = db.gate_run(*id)? {
            let root = project.root.display().to_string();
            if run.cwd != root {
                warnings.push(Finding { subject: format!("gate run {id}"), message: format!("ran in {}, not in the project root {root}", run.cwd) });
            }
            if run.config_sha256 != project.config_sha256 {
                warnings.push(Finding { subject: format!("gate run {id}"), message: "ran with a porttrack.toml that differs from the current one".into() });
            }
        }
    }
    // A merge's unsettled conflict is not a fault of the database, but the
    // item's status is only the less advanced of two claims. (A database
    // that cannot list them fails the checks above.)
    for c in db.open_conflicts().unwrap_or_default() {
        let claims: Vec<String> = c.claims.iter().map(|k| format!("{} by {}", k.status, k.actor)).collect();
        warnings.push(Finding {
            subject: format!("{} {} {}", c.item_kind, c.item_id, c.name),
            message: format!("is in merge conflict ({}), set to {}; settle it with `porttrack batch update` (`porttrack conflicts`)", claims.join(" vs "), c.status),
        });
    }
    let mut reruns = Vec::new();
    if o.rerun {
        for id in ids {
            if let Some((run, results, _)) = db.gate_run(id)? {
                reruns.push(rerun(project, &run, &results, o));
            }
        }
    }
    let passed = checks.iter().all(|c| c.passed) && reruns.iter().all(|r| r.agreed);
    Ok(AuditReport { passed, project_root: project.root.display().to_string(), checks, warnings, reruns })
}

/// Complete and verified features whose Rust target holds a stub finding
/// now (problems) or cannot be read (warnings).
fn stub_problems(db: &Database, project: &Project, warnings: &mut Vec<Finding>) -> Result<(String, Vec<Finding>), Error> {
    use crate::domain::status::ItemStatus;
    let mut done = Vec::new();
    for status in [ItemStatus::Complete, ItemStatus::Verified] {
        let filter = crate::db::ListFilter { status: Some(status), ..Default::default() };
        done.extend(db.list_items(ItemKind::Feature, &filter)?.into_iter().filter(|f| f.rust_file.is_some()));
    }
    let ids: std::collections::HashSet<i64> = done.iter().map(|f| f.id).collect();
    let findings = super::stub_findings::feature_findings(db, project, Some(&ids))?;
    let mut out = Vec::new();
    for f in &done {
        let subject = format!("feature {} {}", f.id, f.qualified_name());
        if let Some(found) = findings.get(&f.id) {
            out.push(Finding { subject, message: format!("is {} but its Rust target has a stub finding at {found}", f.status) });
        } else if let (Some(file), Err(problem)) = (&f.rust_file, crate::project_files::resolve(&project.root, f.rust_file.as_deref().unwrap_or(""))) {
            warnings.push(Finding { subject, message: format!("is {} but its Rust target {file} {problem}", f.status) });
        }
    }
    Ok((format!("{} complete or verified feature(s) with a Rust target", done.len()), out))
}

/// Every verified item's evidence against the rules.
/// With `[verify] mutants = true`, every verified feature with a Rust target
/// must stand on mutation evidence that allows `verified` now (the rule
/// `verify` and `batch update` apply when they move it): a feature verified
/// before the rule was switched on, or whose evidence shows a missed mutant,
/// is a problem. A function or its tests changed since its mutation run is a
/// warning, as a Rust file changed since its test evidence is.
fn mutation_problems(db: &Database, project: &Project, items: &[ItemRow], warnings: &mut Vec<Finding>) -> Result<(String, Vec<Finding>), Error> {
    if !project.config.verify.mutants {
        return Ok(("not required here ([verify] mutants = false)".to_string(), Vec::new()));
    }
    let mut out = Vec::new();
    let mut rust = 0;
    let mut current = super::mutants::Current::new(db, project);
    for item in items.iter().filter(|i| i.kind == ItemKind::Feature) {
        let Some(now) = current.of(item)? else { continue };
        rust += 1;
        let facts = db.mutation_evidence(item.id, now.body.as_deref())?;
        let Some(why) = mutation::problem(facts.as_ref(), now.as_now()) else { continue };
        let f = Finding { subject: format!("feature {} {}", item.id, item.qualified_name()), message: format!("verified, but {why}") };
        if mutation::mark(facts.as_ref(), now.as_now()) == Some("stale") {
            warnings.push(f);
        } else {
            out.push(f);
        }
    }
    Ok((format!("{rust} verified Rust feature(s)"), out))
}

fn evidence_problems(db: &Database, project: &Project, items: &[ItemRow], warnings: &mut Vec<Finding>) -> Result<Vec<Finding>, Error> {
    let mut out = Vec::new();
    for item in items {
        let subject = format!("{} {} {}", item.kind.as_str(), item.id, item.qualified_name());
        let mut problem = |m: String| out.push(Finding { subject: subject.clone(), message: m });
        let Some(run) = item.evidence_run else {
            problem("is verified without an evidence run".into());
            continue;
        };
        let Some(facts) = db.run_facts(run)? else {
            problem(format!("its evidence run {run} does not exist"));
            continue;
        };
        let Some(batch) = item.batch else {
            problem("is verified but belongs to no batch".into());
            continue;
        };
        let usage = if facts.origin.as_deref() == Some("verify") { EvidenceUse::Verify } else { EvidenceUse::Update };
        if let Err(why) = admit(&facts, batch, usage) {
            problem(why);
            continue;
        }
        if let Some(gap) = coverage_gap(item.kind, &db.coverage(item, run)?, run) {
            problem(gap);
        }
        match (&item.rust_file, item.kind) {
            (None, ItemKind::Feature) => problem("is verified but has no Rust target".into()),
            (None, ItemKind::Test | ItemKind::Module) => {}
            (Some(file), _) => match db.recorded_hash(run, file)? {
                None => problem(format!("run {run} recorded no hash of its Rust file {file}: it was mapped or remapped after the run")),
                Some(None) => problem(format!("its Rust file {file} did not exist when run {run} was recorded")),
                Some(Some(recorded)) => match crate::project_files::sha256(&project.root, file) {
                    Some(now) if now == recorded => {}
                    Some(_) => warnings.push(Finding { subject: subject.clone(), message: format!("stale: its Rust file {file} changed since run {run}") }),
                    None => warnings.push(Finding { subject: subject.clone(), message: format!("stale: its Rust file {file} cannot be read under {}", project.root.display()) }),
                },
            },
        }
    }
    Ok(out)
}

/// Removes the worktree when the re-run is done, however it ends.
struct Worktree<'a> {
    repo: &'a Repo,
    dir: std::path::PathBuf,
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        self.repo.remove_worktree(&self.dir);
    }
}

/// Run `run`'s recorded command again at its commit, in a temporary
/// worktree, and compare every recorded per-test outcome.
fn rerun(project: &Project, run: &RunRow, recorded: &[ResultRow], o: &AuditOptions) -> Rerun {
    let started = Instant::now();
    let mut r = Rerun { run: run.id, commit: run.git_commit.clone(), command: run.command.clone(), agreed: false, compared: 0, disagreements: Vec::new(), failure: None, duration_ms: 0 };
    match rerun_outcomes(project, run, o) {
        Ok(outcomes) => {
            for x in recorded {
                r.compared += 1;
                let id = crate::gate::results::qualified(&x.container, &x.test_name);
                let now = outcomes.get(&id).map(|o| o.as_str());
                if now != Some(x.outcome.as_str()) {
                    r.disagreements.push(format!("{id}: {} when recorded, {} on re-run", x.outcome, now.unwrap_or("did not run")));
                }
            }
            r.agreed = r.disagreements.is_empty();
        }
        Err(why) => r.failure = Some(why),
    }
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

fn rerun_outcomes(project: &Project, run: &RunRow, o: &AuditOptions) -> Result<BTreeMap<String, TestOutcome>, String> {
    let commit = run.git_commit.as_deref().ok_or("the run recorded no commit")?;
    let repo = Repo::at(&project.root).ok_or_else(|| format!("{} is not in a git repository", project.root.display()))?;
    if !repo.has_commit(commit) {
        return Err(format!("commit {commit} is not in the repository at {}", repo.toplevel.display()));
    }
    let tmp = tempfile::Builder::new().prefix("porttrack-audit-").tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let wt = Worktree { repo: &repo, dir: tmp.path().join("worktree") };
    repo.add_worktree(&wt.dir, commit)?;
    let rel = repo.relative(&project.root).unwrap_or_default();
    let cwd = if rel.is_empty() { wt.dir.clone() } else { wt.dir.join(&rel) };
    let results_dir = tmp.path().join("results");
    std::fs::create_dir(&results_dir).map_err(|e| format!("cannot make {}: {e}", results_dir.display()))?;
    let argv = replay_argv(&run.command, run.results_dir.as_deref(), &results_dir);
    let env = [(RESULTS_DIR_ENV.to_string(), results_dir.to_string_lossy().into_owned())];
    let log = tmp.path().join("rerun.log");
    let fixed: Option<Format> = run.format.as_deref().map(str::parse).transpose()?;
    let from_output = !matches!(run.results_source.as_deref(), Some("results_dir" | "external_file"));
    let cargo = (from_output && crate::gate::cargo::is_cargo(&argv) && matches!(fixed, None | Some(Format::Libtest)))
        .then(|| crate::gate::cargo::workspace_targets(&cwd))
        .flatten()
        .map(std::sync::Arc::new);
    let mut parser = crate::gate::parse::OutputParser::new(fixed, cargo);
    let options = crate::gate::run::RunOptions { cwd: &cwd, env: &env, timeout: o.timeout, log: Some(&log), log_keep: project.config.gate.log_keep_mb.max(1).saturating_mul(1 << 20), progress: o.progress };
    let out = crate::gate::run::run(&argv, &options, &mut |line| {
        if from_output {
            parser.line_bytes(line);
        }
    });
    match &out.ended {
        crate::gate::run::Ended::NotStarted(why) => return Err(format!("could not run: {why}")),
        crate::gate::run::Ended::TimedOut => return Err(format!("timed out after {} s", o.timeout.as_secs())),
        crate::gate::run::Ended::Interrupted(sig) => return Err(format!("interrupted by {}", crate::gate::run::signal_name(*sig))),
        crate::gate::run::Ended::Exited(_) => {}
    }
    let parsed = match (run.results_source.as_deref(), run.results_path.as_deref().and_then(|p| Path::new(p).file_name())) {
        (Some("results_dir"), Some(name)) => {
            let text = crate::project_files::read_named(&results_dir.join(name)).map_err(|e| format!("the re-run's results file {e}"))?;
            let format = fixed.or_else(|| crate::gate::parse::detect(&text)).ok_or("the re-run's results format cannot be told")?;
            crate::gate::parse::parse(format, &text).map_err(|e| e.to_string())?
        }
        (Some("external_file"), _) => return Err("its results came from a file named on the command line, which a re-run cannot reproduce".into()),
        _ => match parser.finish(crate::gate::parse::StreamEnd::Finished) {
            (Some(_), Ok(p)) => p,
            (None, _) => return Err("the re-run's results format cannot be told".into()),
            (Some(_), Err(e)) => return Err(e.to_string()),
        },
    };
    // Keyed by the runner's full identity; a test reported twice keeps its
    // last report.
    Ok(parsed.results.into_iter().map(|t| (t.qualified(), t.outcome)).collect())
}

/// The recorded command with the original run's results directory (and
/// any `{results_dir}` left in it) pointing at the re-run's.
fn replay_argv(command: &[String], recorded_dir: Option<&str>, dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy();
    command
        .iter()
        .map(|a| {
            let a = match recorded_dir {
                Some(old) if !old.is_empty() => a.replace(old, &d),
                _ => a.clone(),
            };
            a.replace(RESULTS_DIR_TOKEN, &d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_results_directory_is_swapped_for_the_reruns() {
        let argv: Vec<String> = ["dotnet", "test", "--logger", "trx;LogFileName=/p/.porttrack/runs/r1/out.trx"].map(String::from).to_vec();
        let got = replay_argv(&argv, Some("/p/.porttrack/runs/r1"), Path::new("/tmp/a/results"));
        assert_eq!(got[3], "trx;LogFileName=/tmp/a/results/out.trx");
        assert_eq!(replay_argv(&argv[..2], None, Path::new("/x")), argv[..2]);
    }
}
