//! `verify N`: the porting plan's per-item loop run by the tool itself —
//! dependency preflight, stub scan, build gate, test gate over the batch's
//! mapped tests, then status changes decided from the evidence and applied
//! through the same guarded path as `batch update`, 15 items at a time.

use std::collections::{BTreeMap, HashMap};

use crate::domain::test_identity::{libtest_filter, ResultIndex, Resolution};
use std::time::Duration;

use serde::Serialize;

use super::batch::BatchShow;
use super::gate::{build_gate, test_gate, FormatChoice, GateContext, GateReport, GateVerdict, TestGate};
use super::stub_findings::BatchFiles;
use crate::config::Project;
use crate::db::{ChangeInput, Database, ItemRow, MAX_ITEMS};
use crate::domain::evidence::{CommandSource, EvidenceUse, Provenance};
use crate::domain::idlist::ListItem;
use crate::domain::status::{ItemKind, ItemStatus};
use crate::domain::transitions::{judge, rule, Request, Verdict};
use crate::error::Error;
use crate::gate::results::{Format, TestOutcome};

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub batch: i64,
    pub dry_run: bool,
    pub override_reason: Option<String>,
    pub actor: String,
    pub command: String,
    pub progress: bool,
}

/// One item's decided move.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub from: ItemStatus,
    pub to: ItemStatus,
    pub why: String,
}

/// An item left as it is, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub status: ItemStatus,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chunk {
    pub to: ItemStatus,
    pub items: Vec<i64>,
    pub applied: bool,
    pub change_id: Option<i64>,
    pub refused: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub batch: i64,
    pub dry_run: bool,
    /// Why verify stopped before changing statuses, if it did.
    pub stopped: Option<String>,
    /// Whether a rule stopped it (dependencies, a tree or run that is not
    /// trusted), as opposed to a gate that failed.
    pub refused: bool,
    pub unfinished_dependency_count: u64,
    pub unfinished_dependencies: Vec<String>,
    pub stub_findings: BTreeMap<i64, String>,
    /// Why a run now would not be trusted evidence (a dry run still runs).
    pub untrusted: Vec<String>,
    pub build: Option<GateReport>,
    pub test: Option<GateReport>,
    /// The mutation gate over the features it would verify (`[verify]
    /// mutants = true`).
    pub mutants: Option<super::mutants::MutantsReport>,
    /// The `[verify] evidence` files imported before the mutation gate.
    pub evidence_imported: Vec<super::mutants::ImportReport>,
    pub decisions: Vec<Decision>,
    pub kept: Vec<Kept>,
    pub chunks: Vec<Chunk>,
    pub after: Option<BatchShow>,
}

impl VerifyReport {
    pub fn exit_code(&self) -> i32 {
        let gate = |g: &Option<GateReport>| g.as_ref().map(|g| g.verdict);
        let mutants = self.mutants.as_ref().map(|m| m.verdict);
        if [gate(&self.build), gate(&self.test), mutants].contains(&Some(GateVerdict::CouldNotRun)) {
            crate::exit_codes::COULD_NOT_RUN
        } else if (self.stopped.is_some() && self.refused) || self.chunks.iter().any(|c| !c.refused.is_empty()) {
            crate::exit_codes::REFUSED
        } else if [gate(&self.build), gate(&self.test)].contains(&Some(GateVerdict::Failed)) {
            crate::exit_codes::CHECK_FAILED
        } else {
            crate::exit_codes::SUCCESS
        }
    }
}

/// Run verify. `stub_findings` maps feature IDs of the batch to a stub
/// finding in their Rust target (`path:line rule`).
pub fn verify(db: &mut Database, project: &Project, o: &VerifyOptions, stub_findings: BTreeMap<i64, String>) -> Result<VerifyReport, Error> {
    db.batch(o.batch)?.ok_or_else(|| super::batch::no_batch(o.batch))?;
    let deps = db.unfinished_dependencies(o.batch)?;
    let mut report = VerifyReport {
        batch: o.batch,
        dry_run: o.dry_run,
        stopped: None,
        refused: false,
        unfinished_dependency_count: deps.count,
        unfinished_dependencies: deps.first.clone(),
        stub_findings,
        untrusted: Vec::new(),
        build: None,
        test: None,
        mutants: None,
        evidence_imported: Vec::new(),
        decisions: Vec::new(),
        kept: Vec::new(),
        chunks: Vec::new(),
        after: None,
    };
    let overridden = o.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty());
    if deps.count > 0 && !overridden {
        report.refused = true;
        report.stopped = Some(format!(
            "batch {} depends on unfinished work ({} item(s) in batch {}); pass --override \"reason\" to verify anyway",
            o.batch,
            deps.count,
            deps.batches.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ));
        report.after = Some(super::batch::show(db, o.batch)?);
        return Ok(report);
    }

    let items = db.batch_items(o.batch)?;
    let exercising = db.exercising_tests(o.batch)?;
    // Names go to the test binary: anything but a test path is refused
    // before anything runs, whoever stored it.
    let mut names: Vec<String> = Vec::new();
    for item in &items {
        let own: &[String] = match item.kind {
            ItemKind::Test => item.rust_symbol.as_slice(),
            ItemKind::Feature => exercising.get(&item.id).map_or(&[], Vec::as_slice),
            ItemKind::Module => &[],
        };
        for name in own {
            crate::domain::names::rust_test_path(name).map_err(|why| {
                let how = if item.kind == ItemKind::Test { "maps to" } else { "is exercised by" };
                Error::usage(format!(
                    "{} {} {} {how} test name '{}', which is not valid: {why}; nothing ran (fix it with `porttrack map`)",
                    item.kind.as_str(),
                    item.id,
                    item.qualified_name(),
                    crate::domain::names::escape(name)
                ))
            })?;
            names.push(name.clone());
        }
    }
    names.sort();
    names.dedup();

    // Only a run on the committed state counts: refuse before running
    // anything rather than record runs that prove nothing.
    let tree = super::provenance::tree_state(project, db.path());
    let mut untrusted: Vec<String> = Vec::new();
    if tree.commit.is_none() {
        untrusted.push("no git commit: the project is not a git repository or has no commit yet".into());
    }
    untrusted.extend(tree.dirty.iter().cloned());
    if !untrusted.is_empty() {
        report.untrusted = untrusted.clone();
        if !o.dry_run {
            report.refused = true;
            report.stopped = Some(format!("verify runs only on a clean, committed tree, the only state whose runs count as evidence: {}; commit, then verify", untrusted.join("; ")));
            report.after = Some(super::batch::show(db, o.batch)?);
            return Ok(report);
        }
    }

    let gate = &project.config.gate;
    let timeout = Duration::from_secs(gate.timeout_secs.max(1));
    let context = GateContext { source: CommandSource::Config, origin: "verify", progress: o.progress, record: !o.dry_run };
    let build = build_gate(db, project, &gate.build, timeout, &context)?;
    let build_ok = build.verdict == GateVerdict::Passed;
    let build_commit = build.git_commit.clone();
    let build_trusted = build.provenance == Provenance::Trusted;
    let build_why = build.untrusted_because.join("; ");
    report.build = Some(build);
    if !build_ok {
        report.stopped = Some("the build gate did not pass; nothing moves".into());
        report.after = Some(super::batch::show(db, o.batch)?);
        return Ok(report);
    }
    if !o.dry_run && !build_trusted {
        report.refused = true;
        report.stopped = Some(format!("the build gate's run is not trusted evidence ({build_why}); nothing moves"));
        report.after = Some(super::batch::show(db, o.batch)?);
        return Ok(report);
    }

    let mut results = Vec::new();
    let mut evidence = None;
    if !names.is_empty() {
        let format = match gate.format.as_str() {
            "auto" => FormatChoice::Auto,
            f => f.parse().map_err(|e: String| Error::usage(format!("{}: gate.format: {e}", crate::config::FILE_NAME)))?,
        };
        let argv = with_filters(&gate.test, &names, format);
        let g = TestGate { argv, format, timeout, expect: names.clone(), results_file: None, results_name: gate.results.clone(), batch: Some(o.batch), context };
        let test = test_gate(db, project, &g)?;
        if test.verdict == GateVerdict::CouldNotRun || test.interrupted.is_some() {
            let why = if test.interrupted.is_some() { "the test gate was interrupted" } else { "the test gate could not run" };
            report.test = Some(test);
            report.stopped = Some(format!("{why}; nothing moves"));
            report.after = Some(super::batch::show(db, o.batch)?);
            return Ok(report);
        }
        if !o.dry_run && (test.provenance != Provenance::Trusted || test.git_commit != build_commit) {
            let why = if test.provenance != Provenance::Trusted { test.untrusted_because.join("; ") } else { "HEAD moved between the build and the test gate".to_string() };
            report.test = Some(test);
            report.refused = true;
            report.stopped = Some(format!("the test gate's run is not trusted evidence ({why}); nothing moves"));
            report.after = Some(super::batch::show(db, o.batch)?);
            return Ok(report);
        }
        results = test.results.clone();
        evidence = test.run_id;
        report.test = Some(test);
    }

    let declarations: HashMap<(ItemKind, i64), (ItemStatus, String)> =
        db.declarations(o.batch)?.into_iter().map(|d| ((d.kind, d.id), (d.status, d.reason))).collect();
    let run_label = evidence.map_or("this run".to_string(), |r| format!("run {r}"));
    let index = ResultIndex::new(&results);
    let outcomes: HashMap<&str, Resolution> = names.iter().map(|n| (n.as_str(), index.resolve(n))).collect();
    for item in &items {
        let exercised: &[String] = match item.kind {
            ItemKind::Test => item.rust_symbol.as_slice(),
            ItemKind::Feature => exercising.get(&item.id).map_or(&[], Vec::as_slice),
            ItemKind::Module => &[],
        };
        let decided = decide(item, exercised, &outcomes, &report.stub_findings, declarations.get(&(item.kind, item.id)), project, &run_label);
        match decided {
            Ok((to, why)) if to != item.status => match rule(item.status, to) {
                Ok(_) => report.decisions.push(Decision { kind: item.kind, id: item.id, name: item.qualified_name(), from: item.status, to, why }),
                Err(forbidden) => report.kept.push(Kept { kind: item.kind, id: item.id, name: item.qualified_name(), status: item.status, why: format!("{why}, but {} → {to} is forbidden: {forbidden}", item.status) }),
            },
            Ok((_, why)) | Err(why) => report.kept.push(Kept { kind: item.kind, id: item.id, name: item.qualified_name(), status: item.status, why }),
        }
    }

    if project.config.verify.mutants {
        mutation_gate(db, project, o, &items, &mut report)?;
    }

    if !o.dry_run {
        let files = super::stub_findings::batch_files(db, project, o.batch)?;
        apply(db, o, evidence, files, &mut report)?;
    }
    report.after = Some(super::batch::show(db, o.batch)?);
    Ok(report)
}

/// Run the mutation gate over the Rust features the tests would verify
/// (or keep verified), and keep at complete those whose tests do not kill
/// their mutants.
fn mutation_gate(db: &mut Database, project: &Project, o: &VerifyOptions, items: &[ItemRow], report: &mut VerifyReport) -> Result<(), Error> {
    let rust = |i: &ItemRow| i.kind == ItemKind::Feature && i.rust_file.as_deref().is_some_and(|f| f.ends_with(".rs"));
    let promoted: Vec<i64> = report.decisions.iter().filter(|d| d.kind == ItemKind::Feature && d.to == ItemStatus::Verified).map(|d| d.id).collect();
    let moving: Vec<i64> = report.decisions.iter().map(|d| d.id).collect();
    let candidates: Vec<ItemRow> = items
        .iter()
        .filter(|i| rust(i) && (promoted.contains(&i.id) || (i.status == ItemStatus::Verified && !moving.contains(&i.id))))
        .cloned()
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    // Committed evidence first, so that only what changed since is mutated.
    if !o.dry_run {
        for rel in &project.config.verify.evidence {
            let recheck = super::mutants::Recheck { count: project.config.verify.recheck, seed: super::mutants::clock_seed() };
            // Its errors name the file (exit 4 when a record fails a check).
            let imported = super::mutants::import(db, project, &project.root.join(rel), Some(recheck))?;
            report.evidence_imported.push(imported);
        }
    }
    let options = super::mutants::MutantsOptions {
        batch: Some(o.batch),
        features: None,
        shard: None,
        jobs: project.config.mutants.jobs,
        timeout: None,
        origin: "verify",
        progress: o.progress,
        record: !o.dry_run,
    };
    let gate = super::mutants::gate(db, project, candidates.clone(), &options)?;
    let problems: HashMap<i64, String> = gate.features.iter().filter_map(|f| f.problem.clone().map(|p| (f.id, p))).collect();
    let mut kept_now = Vec::new();
    report.decisions.retain_mut(|d| match problems.get(&d.id).filter(|_| d.to == ItemStatus::Verified) {
        None => true,
        Some(why) if d.from == ItemStatus::Complete => {
            kept_now.push(Kept { kind: d.kind, id: d.id, name: d.name.clone(), status: d.from, why: format!("{}, but its tests do not kill its mutants: {why}", d.why) });
            false
        }
        Some(why) => {
            d.why = format!("{}, but its tests do not kill its mutants: {why}", d.why);
            d.to = ItemStatus::Complete;
            true
        }
    });
    for item in candidates.iter().filter(|i| i.status == ItemStatus::Verified && !promoted.contains(&i.id)) {
        if let Some(why) = problems.get(&item.id) {
            report.kept.retain(|k| !(k.kind == ItemKind::Feature && k.id == item.id));
            report.decisions.push(Decision { kind: ItemKind::Feature, id: item.id, name: item.qualified_name(), from: ItemStatus::Verified, to: ItemStatus::Complete, why: format!("regression: its tests do not kill its mutants: {why}") });
        }
    }
    report.kept.extend(kept_now);
    report.mutants = Some(gate);
    Ok(())
}

/// The status an item should have given the evidence, and why; Err(why)
/// when the evidence says nothing about it.
fn decide(
    item: &ItemRow,
    exercised: &[String],
    outcomes: &HashMap<&str, Resolution>,
    stub_findings: &BTreeMap<i64, String>,
    declared: Option<&(ItemStatus, String)>,
    project: &Project,
    run: &str,
) -> Result<(ItemStatus, String), String> {
    let outcome = |t: &String| outcomes.get(t.as_str()).and_then(Resolution::outcome);
    let passed: Vec<&String> = exercised.iter().filter(|t| outcome(t) == Some(TestOutcome::Passed)).collect();
    let failed: Vec<&String> = exercised.iter().filter(|t| outcome(t).is_some_and(TestOutcome::is_failure)).collect();
    // A bare name that is a test in two binaries says nothing until the
    // mapping names its binary.
    if let Some(why) = exercised.iter().find_map(|t| outcomes.get(t.as_str()).and_then(|r| r.ambiguity(t))) {
        return Err(why);
    }
    let was_verified = item.status == ItemStatus::Verified;
    if let Some(t) = failed.first() {
        return if was_verified {
            Ok((ItemStatus::Complete, format!("regression: {t} failed in {run}")))
        } else {
            Err(format!("{t} failed in {run}"))
        };
    }
    match item.kind {
        ItemKind::Test => match (item.rust_symbol.as_ref(), passed.first()) {
            (Some(_), Some(t)) => Ok((ItemStatus::Verified, format!("{t} passed in {run}"))),
            (Some(t), None) => Err(format!("{t} did not run")),
            (None, _) => match declared {
                Some((status, reason)) if item.status == ItemStatus::NotStarted => Ok((*status, reason.clone())),
                _ => Err("no Rust test mapped".into()),
            },
        },
        ItemKind::Feature => {
            let Some(file) = item.rust_file.as_ref() else {
                return match declared {
                    Some((status, reason)) if item.status == ItemStatus::NotStarted => Ok((*status, reason.clone())),
                    _ => Err("no Rust target mapped".into()),
                };
            };
            if let Err(problem) = crate::project_files::resolve(&project.root, file) {
                return Err(format!("Rust target {file} {problem}"));
            }
            if let Some(finding) = stub_findings.get(&item.id) {
                return if matches!(item.status, ItemStatus::Complete | ItemStatus::Verified) {
                    Ok((ItemStatus::Stub, format!("stub finding at {finding}")))
                } else {
                    Err(format!("stub finding at {finding}"))
                };
            }
            match passed.first() {
                Some(t) => Ok((ItemStatus::Verified, format!("{t} passed in {run} ({} of {} exercising tests passed)", passed.len(), exercised.len()))),
                None if exercised.is_empty() => Ok((ItemStatus::Complete, "Rust target exists; no test exercises it yet".into())),
                None => Ok((ItemStatus::Complete, "Rust target exists; none of its tests ran".into())),
            }
        }
        ItemKind::Module => Err("a module follows its features and tests (batch update --modules)".into()),
    }
}

/// Apply decisions grouped by target status and reason, 15 items per
/// transaction, through the same judge as `batch update`.
fn apply(db: &mut Database, o: &VerifyOptions, evidence: Option<i64>, files: BatchFiles, report: &mut VerifyReport) -> Result<(), Error> {
    let mut groups: BTreeMap<(ItemStatus, bool), Vec<&Decision>> = BTreeMap::new();
    for d in &report.decisions {
        // Regressions and declarations carry a reason; group them apart.
        let needs_reason = d.from == ItemStatus::Verified || matches!(d.to, ItemStatus::Deferred | ItemStatus::NA);
        groups.entry((d.to, needs_reason)).or_default().push(d);
    }
    let mut chunks = Vec::new();
    for ((to, needs_reason), decisions) in groups {
        for part in decisions.chunks(MAX_ITEMS) {
            let reason = needs_reason.then(|| part.iter().map(|d| format!("{} {}: {}", d.kind.as_str(), d.id, d.why)).collect::<Vec<_>>().join("; "));
            let ids = |k: ItemKind| part.iter().filter(|d| d.kind == k).map(|d| ListItem::Id(d.id)).collect::<Vec<_>>();
            let input = ChangeInput {
                modules: Vec::new(),
                features: ids(ItemKind::Feature),
                tests: ids(ItemKind::Test),
                request: Request { batch: o.batch, to: Some(to), reason: reason.or_else(|| Some(format!("verify {}", o.batch))), override_reason: o.override_reason.clone(), evidence_run: evidence },
                actor: o.actor.clone(),
                at: crate::clock::now_rfc3339(),
                command: o.command.clone(),
                dry_run: false,
                stub_findings: report.stub_findings.clone(),
                target_problems: files.target_problems.clone(),
                current_hashes: files.current_hashes.clone(),
                mutation_problems: files.mutation_problems.clone(),
                evidence_use: EvidenceUse::Verify,
            };
            let outcome = db.change_status(&input, judge)?;
            chunks.push(Chunk {
                to,
                items: part.iter().map(|d| d.id).collect(),
                applied: outcome.applied,
                change_id: outcome.change_id,
                refused: outcome
                    .items
                    .iter()
                    .filter_map(|i| match &i.verdict {
                        Verdict::Refused(why) => Some(format!("{} {}: {why}", i.kind.as_str(), i.id)),
                        _ => None,
                    })
                    .collect(),
            });
        }
    }
    report.chunks = chunks;
    Ok(())
}

/// The configured test command, narrowed to the mapped tests when it is
/// cargo's libtest (`-- --exact NAME…`); other runners run whole.
pub fn with_filters(test: &[String], names: &[String], format: FormatChoice) -> Vec<String> {
    let mut argv = test.to_vec();
    let libtest = matches!(format, FormatChoice::Auto | FormatChoice::Fixed(Format::Libtest));
    if libtest && test.first().is_some_and(|p| p == "cargo") && test.get(1).is_some_and(|s| s == "test") {
        if !argv.iter().any(|a| a == "--") {
            argv.push("--".into());
        }
        argv.push("--exact".into());
        let mut filters: Vec<String> = names.iter().map(|n| libtest_filter(n).to_string()).collect();
        filters.sort();
        filters.dedup();
        argv.extend(filters);
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_test_is_narrowed_to_the_mapped_tests() {
        let names = vec!["a::b".to_string(), "ported::nrg c".to_string()];
        let cargo: Vec<String> = ["cargo", "test", "-p", "ported"].map(String::from).to_vec();
        assert_eq!(with_filters(&cargo, &names, FormatChoice::Auto), ["cargo", "test", "-p", "ported", "--", "--exact", "a::b", "c"]);
        let with_sep: Vec<String> = ["cargo", "test", "--", "--test-threads=2"].map(String::from).to_vec();
        assert_eq!(with_filters(&with_sep, &names, FormatChoice::Auto), ["cargo", "test", "--", "--test-threads=2", "--exact", "a::b", "c"]);
        let go: Vec<String> = ["go", "test", "-json", "./..."].map(String::from).to_vec();
        assert_eq!(with_filters(&go, &names, FormatChoice::Auto), go);
        assert_eq!(with_filters(&cargo, &names, FormatChoice::Fixed(Format::NextestJunit)), cargo);
    }
}
