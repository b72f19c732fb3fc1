//! `gate mutants`: run cargo-mutants on each selected feature's Rust
//! function, with the test command narrowed to the tests that exercise the
//! feature, and record every mutant's outcome as evidence (rules in
//! `domain::mutation`). Results are cached by the function body, the test
//! files, Cargo.lock and the tests run: an unchanged feature is never
//! mutated again.
//!
//! cargo-mutants runs `--in-place` in a scratch tree that holds exactly the
//! commit (extracted with `git archive`), never in the user's tree, and the
//! scratch tree keeps its own build directory between runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::gate::GateVerdict;
use super::provenance::{fresh_results_dir, tree_state};
use crate::config::Project;
use crate::db::{Database, ItemKind, ItemRow};
use crate::domain::evidence::{classify, CommandSource, Provenance, ResultsSource, RunOrigin};
use crate::domain::mutation::{self, apply_suppressions, body_hash, cache_key, CacheInputs, Mutant, MutantOutcome, MutationRecord, Shard, Suppression, Tally};
use crate::domain::test_identity::libtest_filter;
use super::test_targets::{targets_for, TestTarget};
use crate::error::Error;
use crate::gate::run::{run, Ended, RunOptions};

/// The cargo-mutants release porttrack is tested with (README, `.ci/run`).
pub const CARGO_MUTANTS_VERSION: &str = "27.1.0";

#[derive(Debug, Clone)]
pub struct MutantsOptions {
    pub batch: Option<i64>,
    /// Feature IDs or names (comma-separated), instead of or within a batch.
    pub features: Option<String>,
    pub shard: Option<Shard>,
    pub jobs: usize,
    /// cargo-mutants' test timeout (seconds).
    pub timeout: Option<u64>,
    /// `gate` or `verify`.
    pub origin: &'static str,
    pub progress: bool,
    /// Write records to the database (false for dry runs).
    pub record: bool,
}

/// One feature's result in this gate.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureMutation {
    pub id: i64,
    pub name: String,
    pub rust_target: Option<String>,
    /// The recorded (or reused) mutation run.
    pub run: Option<i64>,
    /// Reused from an earlier run: nothing was mutated now.
    pub cached: bool,
    pub outcome: String,
    pub failure: Option<String>,
    pub tests: Vec<String>,
    pub tally: Tally,
    pub missed: Vec<Mutant>,
    pub suppressed: Vec<Mutant>,
    pub unused_suppressions: Vec<Suppression>,
    pub unreasoned_suppressions: Vec<Suppression>,
    pub duration_ms: i64,
    /// Why its mutation evidence does not allow verified (None: it does).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MutantsReport {
    pub verdict: GateVerdict,
    pub git_commit: Option<String>,
    pub provenance: Provenance,
    pub untrusted_because: Vec<String>,
    pub tool_version: Option<String>,
    pub shard: Option<String>,
    /// Features mutated now (cargo-mutants ran for each).
    pub mutated: usize,
    /// Features whose earlier result was reused.
    pub cached: usize,
    pub totals: Tally,
    pub features: Vec<FeatureMutation>,
    /// Records made by this gate.
    #[serde(skip)]
    pub records: Vec<MutationRecord>,
    /// Records made or reused by this gate, for `evidence import` elsewhere.
    #[serde(skip)]
    pub exported: Vec<MutationRecord>,
}

/// The file `gate mutants --export` writes and `evidence import` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportFile {
    pub format: String,
    pub records: Vec<MutationRecord>,
}

pub const EXPORT_FORMAT: &str = "porttrack-mutation-evidence-v1";

/// A feature ready to mutate (or to reuse).
#[derive(Debug, Clone)]
struct Prepared {
    item: ItemRow,
    file: String,
    symbol: String,
    first: i64,
    last: i64,
    body: String,
    key: String,
    /// [`mutation::tests_key`] of `tests` and their test files.
    tests_key: String,
    tests: Vec<String>,
    /// The package directory relative to the project root ("" at the root).
    package: String,
    /// Its workspace's directory (cargo-mutants names files relative to it).
    workspace: String,
    suppressions: Vec<Suppression>,
    /// The package's test targets holding `tests` (None: every target).
    targets: Option<Vec<TestTarget>>,
    /// The function's lines (`first..=last`).
    lines: Vec<String>,
    /// Only these of the listed mutants (`evidence import --recheck`).
    only: Option<Vec<String>>,
}

/// What running cargo-mutants on one feature gave.
struct Measured {
    started_at: String,
    duration_ms: i64,
    command: Vec<String>,
    outcome: String,
    failure: Option<String>,
    mutants: Vec<Mutant>,
}

/// The features a gate selects, in ID order: a batch's, or named ones.
pub fn select(db: &Database, batch: Option<i64>, features: Option<&str>) -> Result<Vec<ItemRow>, Error> {
    let mut items: Vec<ItemRow> = match (batch, features) {
        (_, Some(list)) => {
            let mut out = Vec::new();
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let item = super::resolve(db, ItemKind::Feature, part)?;
                if let Some(b) = batch {
                    if item.batch != Some(b) {
                        return Err(Error::usage(format!("feature {part} belongs to batch {}, not batch {b}", item.batch.map_or("none".into(), |n| n.to_string()))));
                    }
                }
                out.push(item);
            }
            if out.is_empty() {
                return Err(Error::usage("--features names no feature"));
            }
            out
        }
        (Some(b), None) => {
            db.batch(b)?.ok_or_else(|| super::batch::no_batch(b))?;
            db.batch_items(b)?.into_iter().filter(|i| i.kind == ItemKind::Feature).collect()
        }
        (None, None) => return Err(Error::usage("give --batch N or --features LIST")),
    };
    items.sort_by_key(|i| i.id);
    items.dedup_by_key(|i| i.id);
    Ok(items)
}

/// Run the mutation gate over `items`.
pub fn gate(db: &mut Database, project: &Project, items: Vec<ItemRow>, o: &MutantsOptions) -> Result<MutantsReport, Error> {
    let start = tree_state(project, db.path());
    let tool_version = tool_version(project);
    let settings = format!("timeout={:?}", o.timeout.or(project.config.mutants.timeout_secs));
    let mut exercising = Exercising::new();
    let mut package_files: BTreeMap<String, PackageTestFiles> = BTreeMap::new();
    let mut features = Vec::new();
    let mut exported = Vec::new();
    let mut pending: Vec<Prepared> = Vec::new();
    let mut position = 0usize;
    for item in items {
        let Some(file) = item.rust_file.clone().filter(|f| f.ends_with(".rs")) else { continue };
        // Shards deal the Rust features of the selection, in ID order.
        let mine = o.shard.is_none_or(|s| s.holds(position));
        position += 1;
        if !mine {
            continue;
        }
        let batch_tests = exercising_tests(db, &mut exercising, &item)?;
        match prepare(project, &item, &file, batch_tests, &mut package_files, tool_version.as_deref(), &settings) {
            Err(why) => features.push(unmeasured(&item, why)),
            Ok(p) => match db.cached_mutation_run(item.id, &p.key)? {
                Some(hit) => {
                    let mut f = summarize(&item, Some(hit.id), true, &hit.record, &p);
                    f.problem = mutation::problem(db.mutation_evidence(item.id, Some(&p.body))?.as_ref(), p.now());
                    features.push(f);
                    exported.push(hit.record);
                }
                None if p.tests.is_empty() => features.push(unmeasured(&item, "no test exercises it (no linked test has a Rust test, none is registered), so no mutant can be caught".into())),
                None => pending.push(p),
            },
        }
    }

    let mut records = Vec::new();
    let mutated = pending.len();
    if !pending.is_empty() {
        let commit = start.commit.clone();
        let measured = match (commit.as_deref(), &tool_version) {
            (None, _) => pending.iter().map(|_| could_not_run("no git commit: cargo-mutants runs on the committed tree only")).collect(),
            (_, None) => pending.iter().map(|_| could_not_run(&format!("cargo-mutants is not installed (`cargo mutants --version` failed); install it with `cargo install --locked cargo-mutants@{CARGO_MUTANTS_VERSION}`"))).collect(),
            (Some(c), Some(_)) => measure_all(project, c, &pending, o)?,
        };
        let end = tree_state(project, db.path());
        let origin = RunOrigin { source: CommandSource::Config, results: ResultsSource::ResultsDir, start: start.clone(), end };
        let (provenance, untrusted_because) = classify(&origin);
        for (p, m) in pending.iter().zip(measured) {
            let mut mutants = m.mutants;
            let (unused, unreasoned) = apply_suppressions(&mut mutants, &p.suppressions);
            let record = MutationRecord {
                feature_id: p.item.id,
                batch: p.item.batch,
                started_at: m.started_at,
                duration_ms: m.duration_ms,
                command: m.command,
                outcome: m.outcome,
                failure: m.failure,
                rust_file: p.file.clone(),
                rust_symbol: p.symbol.clone(),
                first_line: p.first,
                last_line: p.last,
                body_hash: p.body.clone(),
                cache_key: p.key.clone(),
                tests_key: Some(p.tests_key.clone()),
                tests: p.tests.clone(),
                git_commit: start.commit.clone(),
                provenance,
                untrusted_because: untrusted_because.clone(),
                config_sha256: project.config_sha256.clone(),
                tool_version: tool_version.clone(),
                shard: o.shard.map(|s| s.to_string()),
                origin: o.origin.to_string(),
                mutants,
            };
            let run = if o.record { Some(db.record_mutation_run(&record)?) } else { None };
            let mut f = summarize(&p.item, run, false, &record, p);
            f.unused_suppressions = unused;
            f.unreasoned_suppressions = unreasoned;
            let facts = run.map(|_| db.mutation_evidence(p.item.id, Some(&p.body))).transpose()?.flatten();
            f.problem = match (o.record, &facts) {
                (true, _) => mutation::problem(facts.as_ref(), p.now()),
                (false, _) => mutation::problem(Some(&preview_facts(&record)), p.now()),
            };
            features.push(f);
            exported.push(record.clone());
            records.push(record);
        }
    }
    features.sort_by_key(|f| f.id);
    let (provenance, untrusted_because) = match records.first() {
        Some(r) => (r.provenance, r.untrusted_because.clone()),
        None => {
            let origin = RunOrigin { source: CommandSource::Config, results: ResultsSource::ResultsDir, start: start.clone(), end: start.clone() };
            classify(&origin)
        }
    };
    let mut totals = Tally::default();
    for f in &features {
        totals.merge(&f.tally);
    }
    let verdict = if records.iter().any(|r| r.outcome == "could_not_run") {
        GateVerdict::CouldNotRun
    } else if features.iter().any(|f| f.problem.is_some()) {
        GateVerdict::Failed
    } else {
        GateVerdict::Passed
    };
    let cached = features.iter().filter(|f| f.cached).count();
    Ok(MutantsReport { verdict, git_commit: start.commit, provenance, untrusted_because, tool_version, shard: o.shard.map(|s| s.to_string()), mutated, cached, totals, features, records, exported })
}

/// Each batch's features with the Rust tests that exercise them, read once.
type Exercising = BTreeMap<i64, BTreeMap<i64, Vec<String>>>;

/// The Rust tests that exercise a feature: its batch's linked and
/// registered tests, or (outside a batch) its registered ones.
fn exercising_tests(db: &Database, exercising: &mut Exercising, item: &ItemRow) -> Result<Vec<String>, Error> {
    Ok(match item.batch {
        Some(b) => {
            if let std::collections::btree_map::Entry::Vacant(e) = exercising.entry(b) {
                e.insert(db.exercising_tests(b)?);
            }
            exercising.get(&b).and_then(|m| m.get(&item.id)).cloned().unwrap_or_default()
        }
        None => db.feature_rust_tests(item.id)?,
    })
}

impl Prepared {
    fn now(&self) -> mutation::Now<'_> {
        mutation::Now { body: Some(&self.body), tests: Some(&self.tests_key) }
    }
}

/// Features' functions and tests as they are now, against which their
/// mutation evidence is judged; each batch's tests and each package's test
/// files are read once however many features are judged.
pub struct Current<'a> {
    db: &'a Database,
    project: &'a Project,
    exercising: Exercising,
    package_files: BTreeMap<String, PackageTestFiles>,
}

/// A feature's function and tests now (see [`mutation::Now`]).
#[derive(Debug, Clone, Default)]
pub struct FeatureNow {
    pub body: Option<String>,
    pub tests: Option<String>,
}

impl FeatureNow {
    pub fn as_now(&self) -> mutation::Now<'_> {
        mutation::Now { body: self.body.as_deref(), tests: self.tests.as_deref() }
    }
}

impl<'a> Current<'a> {
    pub fn new(db: &'a Database, project: &'a Project) -> Self {
        Current { db, project, exercising: Exercising::new(), package_files: BTreeMap::new() }
    }

    /// The feature's function and tests now (None: it has no Rust target).
    /// When the gate could not prepare it (no function, no package) the
    /// body alone is judged, as the gate would report it unmeasured.
    pub fn of(&mut self, item: &ItemRow) -> Result<Option<FeatureNow>, Error> {
        let Some(file) = item.rust_file.as_deref().filter(|f| f.ends_with(".rs")) else { return Ok(None) };
        let tests = exercising_tests(self.db, &mut self.exercising, item)?;
        Ok(Some(match prepare(self.project, item, file, tests, &mut self.package_files, None, "") {
            Ok(p) => FeatureNow { body: Some(p.body), tests: Some(p.tests_key) },
            Err(_) => FeatureNow { body: item.rust_symbol.as_deref().and_then(|s| current_body(self.project, file, s)).map(|b| b.0), tests: None },
        }))
    }
}

/// The facts of a record not written (a dry run), as if it had run `0`.
fn preview_facts(r: &MutationRecord) -> mutation::EvidenceFacts {
    let missed = r.mutants.iter().filter(|m| m.outcome == MutantOutcome::Missed && m.suppressed.is_none()).map(|m| m.description.clone()).collect();
    mutation::EvidenceFacts { run: 0, body_hash: r.body_hash.clone(), tests_key: r.tests_key.clone(), outcome: r.outcome.clone(), failure: r.failure.clone(), provenance: r.provenance, tally: r.tally(), missed }
}

fn unmeasured(item: &ItemRow, why: String) -> FeatureMutation {
    FeatureMutation {
        id: item.id,
        name: item.qualified_name(),
        rust_target: item.rust_target(),
        run: None,
        cached: false,
        outcome: "not_run".into(),
        failure: Some(why.clone()),
        tests: Vec::new(),
        tally: Tally::default(),
        missed: Vec::new(),
        suppressed: Vec::new(),
        unused_suppressions: Vec::new(),
        unreasoned_suppressions: Vec::new(),
        duration_ms: 0,
        problem: Some(why),
    }
}

fn summarize(item: &ItemRow, run: Option<i64>, cached: bool, r: &MutationRecord, p: &Prepared) -> FeatureMutation {
    let (unused, unreasoned) = if cached {
        let mut copy = r.mutants.clone();
        apply_suppressions(&mut copy, &p.suppressions)
    } else {
        (Vec::new(), Vec::new())
    };
    FeatureMutation {
        id: item.id,
        name: item.qualified_name(),
        rust_target: item.rust_target(),
        run,
        cached,
        outcome: r.outcome.clone(),
        failure: r.failure.clone(),
        tests: r.tests.clone(),
        tally: r.tally(),
        missed: r.mutants.iter().filter(|m| m.outcome == MutantOutcome::Missed && m.suppressed.is_none()).cloned().collect(),
        suppressed: r.mutants.iter().filter(|m| m.suppressed.is_some()).cloned().collect(),
        unused_suppressions: unused,
        unreasoned_suppressions: unreasoned,
        duration_ms: if cached { 0 } else { r.duration_ms },
        problem: None,
    }
}

/// The current body hash of a feature's Rust function, and its span (None
/// when its function cannot be found).
pub fn current_body(project: &Project, file: &str, symbol: &str) -> Option<(String, i64, i64, Vec<String>)> {
    let mut buf = Vec::new();
    crate::project_files::read_into(&project.root, file, &mut buf).ok()?;
    let (first, last) = crate::targets::target_span(file, &buf, symbol)?;
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    let body: Vec<&str> = lines.get(first.saturating_sub(1)..last.min(lines.len()))?.to_vec();
    Some((body_hash(&body), first as i64, last as i64, body.iter().map(|s| s.to_string()).collect()))
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    project: &Project,
    item: &ItemRow,
    file: &str,
    mut tests: Vec<String>,
    package_files: &mut BTreeMap<String, PackageTestFiles>,
    tool_version: Option<&str>,
    settings: &str,
) -> Result<Prepared, String> {
    let symbol = item.rust_symbol.clone().ok_or_else(|| format!("its Rust target {file} names no function (map one with `porttrack map feature`)"))?;
    crate::project_files::resolve(&project.root, file).map_err(|p| format!("its Rust target {file} {p}"))?;
    let (body, first, last, lines) = current_body(project, file, &symbol).ok_or_else(|| format!("its Rust function {symbol} cannot be found in {file}"))?;
    let package = package_of(&project.root, file).ok_or_else(|| format!("{file} belongs to no Cargo package under the project root"))?;
    let workspace = workspace_of(&project.root, &package);
    if !package_files.contains_key(&package) {
        package_files.insert(package.clone(), test_files(&project.root, &package));
    }
    tests.sort();
    tests.dedup();
    let lock = cargo_lock(&project.root, &package);
    // The targets built depend on the library's module files too, which
    // the test files do not cover: they are part of the key.
    let targets = targets_for(&project.root.join(&package), &tests);
    // The test code of the targets that run: the integration tests' files
    // for a test binary, the library's files holding unit tests for --lib.
    let files: BTreeMap<String, Option<String>> = package_files
        .get(&package)
        .map(|all| {
            all.iter()
                .filter(|(_, (_, code))| match &targets {
                    None => true,
                    Some(ts) => ts.iter().any(|t| matches!((t, code), (TestTarget::Lib, TestCode::Unit) | (TestTarget::Test(_), TestCode::Integration))),
                })
                .map(|(f, (h, _))| (f.clone(), h.clone()))
                .collect()
        })
        .unwrap_or_default();
    let settings = match &targets {
        Some(t) => format!("{settings} targets={}", t.iter().map(TestTarget::cargo_arg).collect::<Vec<_>>().join(" ")),
        None => format!("{settings} targets=all"),
    };
    let key = cache_key(&CacheInputs { body_hash: &body, tests: &tests, test_files: &files, cargo_lock: lock.as_deref(), tool_version, settings: &settings });
    let tests_key = mutation::tests_key(&tests, &files);
    let suppressions = mutation::suppressions(lines.iter().enumerate().map(|(i, l)| (first + i as i64, l.as_str())));
    Ok(Prepared { item: item.clone(), file: file.to_string(), symbol, first, last, body, key, tests_key, tests, package, workspace, suppressions, targets, lines, only: None })
}

/// The directory of the Cargo package holding `file` (relative to root,
/// "" for the root itself): the nearest with a Cargo.toml that has a
/// `[package]`.
fn package_of(root: &Path, file: &str) -> Option<String> {
    let mut dir = Path::new(file).parent();
    while let Some(d) = dir {
        let manifest = root.join(d).join("Cargo.toml");
        if let Ok(text) = crate::project_files::read_named(&manifest) {
            if text.lines().any(|l| l.trim() == "[package]") {
                return Some(d.to_string_lossy().into_owned());
            }
        }
        if d.as_os_str().is_empty() {
            break;
        }
        dir = d.parent();
    }
    None
}

/// The directory of the workspace `package` belongs to: the nearest
/// directory from it upward (inside the root) whose Cargo.toml has a
/// `[workspace]`, else the package itself.
fn workspace_of(root: &Path, package: &str) -> String {
    let mut dir = Some(Path::new(package));
    while let Some(d) = dir {
        if let Ok(text) = crate::project_files::read_named(&root.join(d).join("Cargo.toml")) {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return d.to_string_lossy().into_owned();
            }
        }
        if d.as_os_str().is_empty() {
            break;
        }
        dir = d.parent();
    }
    package.to_string()
}

/// Where a file's test code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestCode {
    /// Under `tests/`: the integration-test binaries.
    Integration,
    /// Under `src/`: the library's unit tests.
    Unit,
}

/// Each test file of a package with its SHA-256 and where it runs.
type PackageTestFiles = BTreeMap<String, (Option<String>, TestCode)>;

/// SHA-256 of every test file of a package: `.rs` files under `tests/`,
/// and files under `src/` whose name marks them as tests or that hold a
/// test module or test (`#[cfg(test)]`, `#[test]`): a unit test written
/// beside the code it tests is test code too.
fn test_files(root: &Path, package: &str) -> PackageTestFiles {
    let mut out = BTreeMap::new();
    let base = root.join(package);
    for dir in ["tests", "src"] {
        for e in walkdir::WalkDir::new(base.join(dir)).follow_links(false).sort_by_file_name().into_iter().filter_map(Result::ok) {
            if !e.file_type().is_file() {
                continue;
            }
            let Ok(rel) = e.path().strip_prefix(root) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            if !rel.ends_with(".rs") {
                continue;
            }
            let named = dir == "tests" || name == "tests.rs" || name.ends_with("_tests.rs") || name.ends_with("_test.rs");
            let holds_tests = || {
                let mut buf = Vec::new();
                crate::project_files::read_into(root, &rel, &mut buf).is_ok() && (memchr::memmem::find(&buf, b"#[cfg(test)]").is_some() || memchr::memmem::find(&buf, b"#[test]").is_some())
            };
            if named || holds_tests() {
                let code = if dir == "tests" { TestCode::Integration } else { TestCode::Unit };
                out.insert(rel.clone(), (crate::project_files::sha256(root, &rel), code));
            }
        }
    }
    out
}

/// SHA-256 of the Cargo.lock governing `package` (the nearest upward).
fn cargo_lock(root: &Path, package: &str) -> Option<String> {
    let mut dir = Some(Path::new(package));
    while let Some(d) = dir {
        let rel = d.join("Cargo.lock").to_string_lossy().into_owned();
        if let Some(h) = crate::project_files::sha256(root, &rel) {
            return Some(h);
        }
        dir = d.parent();
    }
    None
}

/// `cargo mutants --version`, e.g. `27.1.0` (None: not installed).
pub fn tool_version(project: &Project) -> Option<String> {
    let out = duct::cmd("cargo", ["mutants", "--version"]).dir(&project.root).stdout_capture().stderr_null().unchecked().run().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().last().map(str::to_string)
}

fn could_not_run(why: &str) -> Measured {
    Measured { started_at: crate::clock::now_rfc3339(), duration_ms: 0, command: Vec::new(), outcome: "could_not_run".into(), failure: Some(why.into()), mutants: Vec::new() }
}

/// Environment variable overriding `[mutants] scratch_dir`.
pub const SCRATCH_ENV: &str = "PORTTRACK_MUTANTS_DIR";

/// The scratch directory of this project's mutation runs.
fn scratch_root(project: &Project) -> PathBuf {
    // Where builds happen changes no outcome, so the environment may move
    // it (bench/mutants_batch33.sh measures cold builds this way).
    if let Some(d) = std::env::var_os(SCRATCH_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    match &project.config.mutants.scratch_dir {
        Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
        Some(d) => project.root.join(d),
        None => {
            let id = crate::gate::run::hex(&<sha2::Sha256 as sha2::Digest>::digest(project.root.to_string_lossy().as_bytes()));
            std::env::temp_dir().join(format!("porttrack-mutants-{}", &id[..16]))
        }
    }
}

/// Run cargo-mutants for every pending feature, `jobs` scratch trees side
/// by side; results in the order of `pending`.
fn measure_all(project: &Project, commit: &str, pending: &[Prepared], o: &MutantsOptions) -> Result<Vec<Measured>, Error> {
    let jobs = o.jobs.max(1).min(pending.len().max(1));
    let scratch = scratch_root(project);
    let repo = crate::git::Repo::at(&project.root);
    let prefix = repo.as_ref().and_then(|r| r.relative(&project.root)).unwrap_or_default();
    let toplevel = repo.as_ref().map(|r| r.toplevel.clone()).unwrap_or_else(|| project.root.clone());
    // cargo-mutants mutates each scratch tree in place: two gates sharing
    // one would each test the other's mutants and record wrong outcomes.
    let _locks = lock_scratch_trees(&scratch, jobs)?;
    let results_dir = fresh_results_dir(project, "mutants").map_err(|e| Error::usage(format!("cannot make a results directory under {}: {e}", project.root.join(".porttrack/runs").display())))?;
    let mut slots: Vec<Option<Measured>> = (0..pending.len()).map(|_| None).collect();
    // SIGINT or SIGTERM ends the run in progress; nothing after it starts.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = &stop;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|k| {
                let scratch = scratch.clone();
                let toplevel = toplevel.clone();
                let prefix = prefix.clone();
                let results_dir = results_dir.clone();
                s.spawn(move || {
                    let tree = scratch.join(format!("tree-{k}"));
                    let target = scratch.join(format!("target-{k}"));
                    let ready = extract(&toplevel, commit, &tree);
                    let mut out = Vec::new();
                    for (i, p) in pending.iter().enumerate().filter(|(i, _)| i % jobs == k) {
                        let m = match &ready {
                            _ if stop.load(std::sync::atomic::Ordering::SeqCst) => could_not_run("not run: the gate was interrupted"),
                            Err(why) => could_not_run(why),
                            Ok(()) => {
                                if o.progress {
                                    eprintln!("porttrack: mutating {} ({})", p.item.qualified_name(), p.symbol);
                                }
                                let root = if prefix.is_empty() { tree.clone() } else { tree.join(&prefix) };
                                measure(project, &Scratch { tree: &tree, root: &root, target: &target }, &results_dir.join(format!("feature-{}", p.item.id)), p, o)
                            }
                        };
                        if m.failure.as_deref().is_some_and(|f| f.starts_with("interrupted by")) {
                            stop.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        out.push((i, m));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, m) in done {
                    slots[i] = Some(m);
                }
            }
        }
    });
    Ok(slots.into_iter().map(|m| m.unwrap_or_else(|| could_not_run("the worker running it stopped"))).collect())
}

/// Exclusive locks on scratch trees `0..jobs` under `scratch`, held until
/// the returned files are dropped (the kernel releases them if porttrack
/// dies). A tree another gate holds is refused, not waited for.
fn lock_scratch_trees(scratch: &Path, jobs: usize) -> Result<Vec<std::fs::File>, Error> {
    std::fs::create_dir_all(scratch).map_err(|e| Error::CouldNotRun(format!("cannot make the scratch directory {}: {e}", scratch.display())))?;
    (0..jobs)
        .map(|k| {
            let path = scratch.join(format!("tree-{k}.lock"));
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::CouldNotRun(format!("cannot open the lock file {}: {e}", path.display())))?;
            match file.try_lock() {
                Ok(()) => Ok(file),
                Err(std::fs::TryLockError::WouldBlock) => Err(Error::CouldNotRun(format!(
                    "another `porttrack gate mutants` is using the scratch tree {} (lock {}); wait for it to finish, or give this one its own [mutants] scratch_dir or {SCRATCH_ENV}",
                    scratch.join(format!("tree-{k}")).display(),
                    path.display()
                ))),
                Err(std::fs::TryLockError::Error(e)) => Err(Error::CouldNotRun(format!("cannot lock {}: {e}", path.display()))),
            }
        })
        .collect()
}

/// Make `tree` hold exactly `commit` of the repository at `toplevel` (kept
/// when it already does, so its builds stay warm).
fn extract(toplevel: &Path, commit: &str, tree: &Path) -> Result<(), String> {
    let marker = tree.with_extension("commit");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(commit) && tree.is_dir() {
        return Ok(());
    }
    let _ = std::fs::remove_file(&marker);
    if tree.exists() {
        std::fs::remove_dir_all(tree).map_err(|e| format!("cannot clear the scratch tree {}: {e}", tree.display()))?;
    }
    std::fs::create_dir_all(tree).map_err(|e| format!("cannot make the scratch tree {}: {e}", tree.display()))?;
    if commit.starts_with('-') {
        return Err(format!("'{commit}' is not a commit"));
    }
    let archive = duct::cmd("git", ["archive", "--format=tar", commit]).dir(toplevel);
    // `-m`: the files get the extraction time, not the commit's. cargo judges
    // freshness by mtime, and the build directory outlives the tree: with
    // the commit's time a source older than the last mutant's build passed
    // for fresh, and the baseline ran that mutant's stale binary.
    let tar = duct::cmd("tar", ["-x", "-m", "-C"]).before_spawn({
        let t = tree.to_path_buf();
        move |c| {
            c.arg(&t);
            Ok(())
        }
    });
    let out = archive.pipe(tar).stderr_capture().unchecked().run().map_err(|e| format!("cannot extract commit {commit}: {e}"))?;
    if !out.status.success() {
        return Err(format!("cannot extract commit {commit}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    std::fs::write(&marker, commit).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(())
}

/// The mutants cargo-mutants lists in `p`'s function, by name.
fn list(dir: &Path, p: &Prepared, in_package: &str) -> Result<Vec<String>, String> {
    let argv = ["mutants", "--list", "--json", "--colors", "never", "--no-config", "-d"];
    let out = duct::cmd("cargo", argv)
        .before_spawn({
            let d = dir.to_path_buf();
            let f = in_package.to_string();
            move |c| {
                c.arg(&d).arg("--file").arg(&f);
                Ok(())
            }
        })
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run cargo mutants: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo mutants --list failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo mutants --list printed no JSON list: {e}"))?;
    Ok(listed
        .iter()
        .filter(|m| m["file"].as_str() == Some(in_package))
        .filter(|m| m["span"]["start"]["line"].as_i64().is_some_and(|l| (p.first..=p.last).contains(&l)))
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect())
}

/// One worker's scratch tree: the extracted repository, the project root
/// inside it, and its build directory.
struct Scratch<'a> {
    tree: &'a Path,
    root: &'a Path,
    target: &'a Path,
}

fn measure(project: &Project, scratch: &Scratch<'_>, out_dir: &Path, p: &Prepared, o: &MutantsOptions) -> Measured {
    let (root, target) = (scratch.root, scratch.target);
    let started_at = crate::clock::now_rfc3339();
    let clock = Instant::now();
    let dir = if p.package.is_empty() { root.to_path_buf() } else { root.join(&p.package) };
    // cargo-mutants names files relative to the workspace.
    let in_package = in_package(p);
    let names = match list(&dir, p, &in_package) {
        Ok(n) => n,
        Err(why) => return Measured { started_at, duration_ms: clock.elapsed().as_millis() as i64, command: Vec::new(), outcome: "could_not_run".into(), failure: Some(why), mutants: Vec::new() },
    };
    let names = match &p.only {
        Some(only) => names.into_iter().filter(|n| only.contains(n)).collect(),
        None => names,
    };
    if names.is_empty() {
        let duration_ms = clock.elapsed().as_millis() as i64;
        return Measured { started_at, duration_ms, command: Vec::new(), outcome: "completed".into(), failure: None, mutants: Vec::new() };
    }
    let _ = std::fs::create_dir_all(out_dir);
    let pattern = format!("^(?:{})$", names.iter().map(|n| regex::escape(n)).collect::<Vec<_>>().join("|"));
    // cargo-mutants 27.1.0 tests the struct-field mutants of the whole file
    // whatever `--re` says (read_outcomes drops them), each a rebuild; a
    // diff that adds exactly the function's lines keeps only the mutants
    // inside it.
    let diff = out_dir.join("function.diff");
    if let Err(e) = std::fs::write(&diff, span_diff(&in_package, p.first, &p.lines)) {
        return Measured { started_at, duration_ms: clock.elapsed().as_millis() as i64, command: Vec::new(), outcome: "could_not_run".into(), failure: Some(format!("cannot write {}: {e}", diff.display())), mutants: Vec::new() };
    }
    let mut argv: Vec<String> = ["cargo", "mutants", "--in-place", "--no-config", "--colors", "never", "--no-shuffle", "--baseline", "run"].map(String::from).to_vec();
    argv.extend(["-d".into(), dir.to_string_lossy().into_owned(), "--file".into(), in_package.clone(), "--re".into(), pattern, "--in-diff".into(), diff.to_string_lossy().into_owned(), "-o".into(), out_dir.to_string_lossy().into_owned()]);
    if let Some(t) = o.timeout.or(project.config.mutants.timeout_secs) {
        argv.extend(["--timeout".into(), t.to_string()]);
    }
    // Only the test targets holding the tests are built and linked for
    // each mutant (`--cargo-arg` reaches the build phase too, which
    // `--cargo-test-arg` does not).
    for t in p.targets.iter().flatten() {
        argv.push(format!("--cargo-arg={}", t.cargo_arg()));
    }
    argv.extend(["--".into(), "--".into(), "--exact".into()]);
    let mut filters: Vec<String> = p.tests.iter().map(|t| libtest_filter(t).to_string()).collect();
    filters.sort();
    filters.dedup();
    argv.extend(filters);
    // No debug info: no outcome depends on it, and writing and linking it
    // is a large part of each mutant's rebuild. (opt-level 1 was measured
    // too: simulator tests ran ~4x faster, but a mutant's incremental
    // rebuild took ~4x longer, and most mutants are caught in under a
    // second, so the debug profile's opt-level stays.)
    let env = [
        ("CARGO_TARGET_DIR".to_string(), target.to_string_lossy().into_owned()),
        ("CARGO_PROFILE_DEV_DEBUG".to_string(), "0".to_string()),
        ("CARGO_PROFILE_TEST_DEBUG".to_string(), "0".to_string()),
    ];
    let log = out_dir.join("cargo-mutants.log");
    let timeout = Duration::from_secs(project.config.gate.timeout_secs.max(1));
    let options = RunOptions { cwd: &dir, env: &env, timeout, log: Some(&log), log_keep: project.config.gate.log_keep_mb.max(1).saturating_mul(1 << 20), progress: false };
    // cargo-mutants puts each mutated file back itself, unless it is
    // killed: until it has exited, the tree no longer counts as the commit
    // and the next run extracts it afresh.
    let marker = scratch.tree.with_extension("commit");
    let marked = std::fs::read_to_string(&marker).ok();
    let _ = std::fs::remove_file(&marker);
    let r = run(&argv, &options, &mut |_| {});
    if let (Ended::Exited(_), Some(commit)) = (&r.ended, &marked) {
        let _ = std::fs::write(&marker, commit);
    }
    let duration_ms = clock.elapsed().as_millis() as i64;
    let failed = |outcome: &str, why: String| Measured { started_at: started_at.clone(), duration_ms, command: argv.clone(), outcome: outcome.into(), failure: Some(why), mutants: Vec::new() };
    match &r.ended {
        Ended::NotStarted(why) => return failed("could_not_run", why.clone()),
        Ended::TimedOut => return failed("timed_out", format!("cargo mutants ran longer than {} s (gate.timeout_secs)", timeout.as_secs())),
        Ended::Interrupted(sig) => return failed("could_not_run", format!("interrupted by {}", crate::gate::run::signal_name(*sig))),
        Ended::Exited(_) => {}
    }
    match read_outcomes(&out_dir.join("mutants.out"), p, &in_package, &names) {
        Ok(mutants) => Measured { started_at, duration_ms, command: argv, outcome: "completed".into(), failure: None, mutants },
        Err(why) => failed("failed", why),
    }
}

/// A unified diff that adds `lines` as lines `first..` of `file`: what
/// `--in-diff` needs to keep the mutants of those lines only.
fn span_diff(file: &str, first: i64, lines: &[String]) -> String {
    let mut out = format!("--- a/{file}\n+++ b/{file}\n@@ -{},0 +{first},{} @@\n", first - 1, lines.len());
    for l in lines {
        out.push('+');
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The mutants of outcomes.json, with paths relative to the project root;
/// Err when the baseline failed or the file cannot be read.
/// Only the mutants `--list` placed in the function count: cargo-mutants
/// 27.1.0 also tests some field-deletion mutants of other functions that
/// `--re` should have left out.
fn read_outcomes(out: &Path, p: &Prepared, in_package: &str, listed: &[String]) -> Result<Vec<Mutant>, String> {
    let path = out.join("outcomes.json");
    let text = crate::project_files::read_named(&path).map_err(|e| format!("cargo mutants wrote no readable {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let outcomes = v["outcomes"].as_array().ok_or_else(|| format!("{} has no outcomes", path.display()))?;
    let mut mutants = Vec::new();
    let mut baseline_ok = false;
    for o in outcomes {
        let summary = o["summary"].as_str().unwrap_or("");
        if o["scenario"].as_str() == Some("Baseline") {
            baseline_ok = summary == "Success";
            continue;
        }
        let m = &o["scenario"]["Mutant"];
        let Some(name) = m["name"].as_str() else { continue };
        if !listed.iter().any(|l| l == name) {
            continue;
        }
        let outcome = MutantOutcome::from_summary(summary).ok_or_else(|| format!("unknown outcome '{summary}' of {name} in {}", path.display()))?;
        let file = m["file"].as_str().unwrap_or(in_package);
        let file = if p.workspace.is_empty() { file.to_string() } else { format!("{}/{file}", p.workspace) };
        let diff = o["diff_path"].as_str().map(|d| crate::project_files::read_named(&out.join(d)).unwrap_or_default()).unwrap_or_default();
        let duration: f64 = o["phase_results"].as_array().map_or(0.0, |ps| ps.iter().filter_map(|ph| ph["duration"].as_f64()).sum());
        mutants.push(Mutant { file, line: m["span"]["start"]["line"].as_i64().unwrap_or(0), description: name.to_string(), diff, outcome, duration_ms: Some((duration * 1000.0) as i64), suppressed: None });
    }
    if !baseline_ok {
        return Err("the unmutated baseline did not pass: the tests fail (or do not build) without any mutant, so no mutant can be judged".into());
    }
    let left = untested(listed, &mutants);
    if let Some(first) = left.first() {
        // A run cut short (a signal, a crash) still writes outcomes.json with
        // what it finished; the rest must not read as "no viable mutant".
        return Err(format!("cargo mutants stopped before testing {} of the {} mutant(s) it listed (first: {first}): it was interrupted or crashed; see cargo-mutants.log", left.len(), listed.len()));
    }
    Ok(mutants)
}

/// The listed mutants without an outcome.
fn untested<'a>(listed: &'a [String], tested: &[Mutant]) -> Vec<&'a str> {
    listed.iter().filter(|l| !tested.iter().any(|m| &m.description == *l)).map(String::as_str).collect()
}

/// Why each Rust feature among `items` may not become verified for want of
/// mutation evidence (feature ID → why); features without a problem, and
/// non-Rust targets, are absent.
pub fn problems(db: &Database, project: &Project, items: &[ItemRow]) -> Result<BTreeMap<i64, String>, Error> {
    let mut out = BTreeMap::new();
    let mut current = Current::new(db, project);
    for item in items.iter().filter(|i| i.kind == ItemKind::Feature) {
        let Some(now) = current.of(item)? else { continue };
        let facts = db.mutation_evidence(item.id, now.body.as_deref())?;
        if let Some(why) = mutation::problem(facts.as_ref(), now.as_now()) {
            out.insert(item.id, why);
        }
    }
    Ok(out)
}

/// A feature's mutation evidence as `feature show` presents it.
#[derive(Debug, Clone, Serialize)]
pub struct MutationShown {
    /// Whether `verified` needs it (`[verify] mutants = true`).
    pub required: bool,
    /// The run the evidence comes from (None: never mutated).
    pub run: Option<i64>,
    pub body_current: bool,
    pub tally: Tally,
    pub missed: Vec<Mutant>,
    pub suppressed: Vec<Mutant>,
    /// Suppressions in its function now that declare no missed mutant.
    pub unused_suppressions: Vec<Suppression>,
    /// Why it does not allow verified (None: it does).
    pub problem: Option<String>,
}

/// The mutation evidence of a feature with a Rust target (None otherwise).
pub fn shown(db: &Database, project: &Project, item: &ItemRow) -> Result<Option<MutationShown>, Error> {
    let (Some(file), Some(symbol)) = (item.rust_file.as_deref().filter(|f| f.ends_with(".rs")), item.rust_symbol.as_deref()) else { return Ok(None) };
    let now = current_body(project, file, symbol);
    let feature_now = Current::new(db, project).of(item)?.unwrap_or_default();
    let body = now.as_ref().map(|b| b.0.clone());
    let facts = db.mutation_evidence(item.id, body.as_deref())?;
    let run = match &facts {
        Some(f) => db.mutation_run(f.run)?,
        None => None,
    };
    let (missed, suppressed, unused) = match (&run, &now) {
        (Some(r), Some((_, first, _, lines))) => {
            let sups = mutation::suppressions(lines.iter().enumerate().map(|(i, l)| (first + i as i64, l.as_str())));
            let mut copy = r.record.mutants.clone();
            let (unused, _) = apply_suppressions(&mut copy, &sups);
            let missed = r.record.mutants.iter().filter(|m| m.outcome == MutantOutcome::Missed && m.suppressed.is_none()).cloned().collect();
            (missed, r.record.mutants.iter().filter(|m| m.suppressed.is_some()).cloned().collect(), unused)
        }
        _ => (Vec::new(), Vec::new(), Vec::new()),
    };
    Ok(Some(MutationShown {
        required: project.config.verify.mutants,
        run: facts.as_ref().map(|f| f.run),
        body_current: facts.as_ref().zip(body.as_ref()).is_some_and(|(f, b)| &f.body_hash == b),
        tally: facts.as_ref().map(|f| f.tally).unwrap_or_default(),
        missed,
        suppressed,
        unused_suppressions: unused,
        problem: mutation::problem(facts.as_ref(), mutation::Now { body: body.as_deref(), tests: feature_now.tests.as_deref() }),
    }))
}

/// What `evidence import` did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: String,
    /// (feature ID, new mutation run ID) of each record imported.
    pub imported: Vec<(i64, i64)>,
    /// Records already recorded here (same feature, cache key and mutants).
    pub already: usize,
    /// What `--recheck` re-ran (None without it).
    pub recheck: Option<RecheckReport>,
}

/// `evidence import --recheck N --seed S`: before anything is imported,
/// check that each record lists every mutant cargo-mutants finds in its
/// function, then run N of the claimed outcomes again, drawn with the seed.
#[derive(Debug, Clone, Copy)]
pub struct Recheck {
    pub count: usize,
    pub seed: u64,
}

/// What a recheck found (every claim it re-ran held, or the import was refused).
#[derive(Debug, Clone, Serialize)]
pub struct RecheckReport {
    pub seed: u64,
    /// Records whose mutant lists were compared with cargo-mutants' own.
    pub listed: usize,
    /// Records skipped: the function or its tests changed since the run,
    /// so they cannot verify anything here and are not worth re-running.
    pub stale: usize,
    pub mutants: Vec<Rechecked>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rechecked {
    pub feature_id: i64,
    /// cargo-mutants' name of the mutant in the current tree.
    pub mutant: String,
    pub claimed: MutantOutcome,
    pub found: MutantOutcome,
}

/// Read an `--export` file and record its runs here, after checking each
/// as local evidence is checked: a trusted run made by porttrack's gate on
/// a commit this repository has, from the porttrack.toml committed there,
/// of a feature mapped here to the same function, whose body at that
/// commit hashes to what the run recorded. All or nothing.
pub fn import(db: &mut Database, project: &Project, path: &Path, recheck: Option<Recheck>) -> Result<ImportReport, Error> {
    let shown = path.display().to_string();
    let text = crate::project_files::read_named(path).map_err(|e| Error::usage(format!("{shown} {e}")))?;
    let file: ExportFile = serde_json::from_str(&text).map_err(|e| Error::usage(format!("{shown} is not a mutation evidence export: {e}")))?;
    if file.format != EXPORT_FORMAT {
        return Err(Error::usage(format!("{shown} has format '{}', not {EXPORT_FORMAT}", crate::domain::names::escape(&file.format))));
    }
    let repo = crate::git::Repo::at(&project.root).ok_or_else(|| Error::Refused(format!("{} is not a git repository, so no imported run can be checked", project.root.display())))?;
    let prefix = repo.relative(&project.root).unwrap_or_default();
    let in_repo = |rel: &str| if prefix.is_empty() { rel.to_string() } else { format!("{prefix}/{rel}") };
    let mut fresh = Vec::new();
    let mut already = 0;
    for (n, r) in file.records.iter().enumerate() {
        let refuse = |why: String| Error::Refused(format!("{shown}: record {} (feature {}) cannot be imported: {why}; nothing was imported", n + 1, r.feature_id));
        if r.provenance != Provenance::Trusted {
            return Err(refuse(format!("it is marked {} ({})", r.provenance.as_str(), r.untrusted_because.join("; "))));
        }
        if !matches!(r.origin.as_str(), "gate" | "verify") {
            return Err(refuse(format!("its origin is '{}', not a run of porttrack's gate", crate::domain::names::escape(&r.origin))));
        }
        let commit = r.git_commit.as_deref().ok_or_else(|| refuse("it recorded no commit".into()))?;
        if !repo.has_commit(commit) {
            return Err(refuse(format!("commit {commit} is not in this repository")));
        }
        let committed_config = repo.committed_sha256(commit, &in_repo(crate::config::FILE_NAME));
        if committed_config != r.config_sha256 {
            return Err(refuse(format!("its porttrack.toml is not the one committed at {commit}")));
        }
        let item = db.item(ItemKind::Feature, r.feature_id)?.ok_or_else(|| refuse("no such feature here".into()))?;
        if item.rust_file.as_deref() != Some(r.rust_file.as_str()) || item.rust_symbol.as_deref() != Some(r.rust_symbol.as_str()) {
            return Err(refuse(format!("it mutated {}::{}, but the feature is mapped to {} here", r.rust_file, r.rust_symbol, item.rust_target().unwrap_or_else(|| "nothing".into()))));
        }
        let blob = repo.committed_text(commit, &in_repo(&r.rust_file)).ok_or_else(|| refuse(format!("{} is not in commit {commit}", r.rust_file)))?;
        let lines: Vec<&str> = blob.lines().collect();
        let span = crate::targets::target_span(&r.rust_file, blob.as_bytes(), &r.rust_symbol);
        let body = span.and_then(|(a, b)| lines.get(a.saturating_sub(1)..b.min(lines.len()))).map(body_hash);
        if span.map(|(a, b)| (a as i64, b as i64)) != Some((r.first_line, r.last_line)) || body.as_deref() != Some(r.body_hash.as_str()) {
            return Err(refuse(format!("its function body hash does not match {}::{} at commit {commit}", r.rust_file, r.rust_symbol)));
        }
        if r.outcome == "completed" && r.mutants.iter().any(|m| m.file != r.rust_file || !(r.first_line..=r.last_line).contains(&m.line)) {
            return Err(refuse("it holds a mutant outside the feature's function".into()));
        }
        if db.cached_mutation_run(r.feature_id, &r.cache_key)?.is_some_and(|hit| hit.record.mutants == r.mutants && hit.record.body_hash == r.body_hash) {
            already += 1;
            continue;
        }
        fresh.push(r.clone());
    }
    // Nothing new to import, nothing to distrust.
    let recheck = match recheck.filter(|_| !fresh.is_empty()) {
        Some(rc) => Some(recheck_claims(db, project, &file.records, rc, &shown)?),
        None => None,
    };
    let mut imported = Vec::new();
    for mut r in fresh {
        r.origin = "import".into();
        let id = db.record_mutation_run(&r)?;
        imported.push((r.feature_id, id));
    }
    Ok(ImportReport { file: shown, imported, already, recheck })
}

/// A seed for a recheck when none is given: the draw should differ from
/// run to run (a fixed one could be steered around); reports print it.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// cargo-mutants' name `file:line:col: what` with its line moved by `delta`.
fn shifted(name: &str, delta: i64) -> Option<String> {
    let (file, rest) = name.split_once(':')?;
    let (line, rest) = rest.split_once(':')?;
    let line: i64 = line.parse().ok()?;
    Some(format!("{file}:{}:{rest}", line + delta))
}

/// A tiny seeded generator (SplitMix64): the draw only has to be
/// reproducible from the printed seed, not unpredictable.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The import's second line of defence: an export is a file anyone can
/// edit, and its integrity checks cover what the run was of, not what it
/// found. Every fresh record's mutant list must be cargo-mutants' own list
/// for the function (a missed mutant cannot be dropped), and `count` of its
/// caught, timed-out or unviable claims, drawn with `seed`, are run again
/// on HEAD and must come out the same (a missed one cannot be relabelled).
fn recheck_claims(db: &Database, project: &Project, records: &[MutationRecord], rc: Recheck, shown: &str) -> Result<RecheckReport, Error> {
    let start = tree_state(project, db.path());
    let commit = start.commit.clone().ok_or_else(|| Error::Refused("--recheck runs mutants on the committed tree, and there is no git commit here".into()))?;
    if !start.dirty.is_empty() {
        return Err(Error::Refused(format!("--recheck runs mutants on HEAD, but the tree is not the commit ({}); commit first", start.dirty.join("; "))));
    }
    let tool = tool_version(project).ok_or_else(|| Error::CouldNotRun(format!("--recheck needs cargo-mutants (`cargo install --locked cargo-mutants@{CARGO_MUTANTS_VERSION}`)")))?;
    let settings = format!("timeout={:?}", project.config.mutants.timeout_secs);
    let mut exercising = Exercising::new();
    let mut package_files: BTreeMap<String, PackageTestFiles> = BTreeMap::new();
    let (mut listed_n, mut stale) = (0, 0);
    // (prepared feature, current name, claimed outcome) of every re-runnable claim.
    let mut prepared: Vec<Prepared> = Vec::new();
    let mut claims: Vec<(usize, String, MutantOutcome)> = Vec::new();
    for (n, r) in records.iter().enumerate() {
        if r.outcome != "completed" {
            continue;
        }
        let refuse = |why: String| Error::Refused(format!("{shown}: record {} (feature {}) fails the recheck: {why}; nothing was imported", n + 1, r.feature_id));
        let Some(item) = db.item(ItemKind::Feature, r.feature_id)? else { continue };
        let tests = exercising_tests(db, &mut exercising, &item)?;
        let Ok(p) = prepare(project, &item, &r.rust_file, tests, &mut package_files, Some(tool.as_str()), &settings) else {
            stale += 1;
            continue;
        };
        if p.body != r.body_hash || r.tests_key.as_deref() != Some(p.tests_key.as_str()) {
            stale += 1;
            continue;
        }
        let dir = if p.package.is_empty() { project.root.clone() } else { project.root.join(&p.package) };
        let listed = list(&dir, &p, &in_package(&p)).map_err(Error::CouldNotRun)?;
        let delta = p.first - r.first_line;
        let claimed: Vec<(String, MutantOutcome)> = r.mutants.iter().map(|m| (shifted(&m.description, delta).unwrap_or_else(|| m.description.clone()), m.outcome)).collect();
        if let Some(left_out) = listed.iter().find(|l| !claimed.iter().any(|(c, _)| c == *l)) {
            return Err(refuse(format!("cargo-mutants lists {left_out}, which the record does not hold")));
        }
        if let Some((extra, _)) = claimed.iter().find(|(c, _)| !listed.contains(c)) {
            return Err(refuse(format!("it holds {extra}, which cargo-mutants does not list in that function")));
        }
        listed_n += 1;
        let at = prepared.len();
        for (name, outcome) in claimed {
            if outcome != MutantOutcome::Missed {
                claims.push((at, name, outcome));
            }
        }
        prepared.push(p);
    }
    // A partial Fisher-Yates shuffle: the first `count` are the draw.
    let mut state = rc.seed;
    let take = rc.count.min(claims.len());
    for i in 0..take {
        let j = i + (splitmix(&mut state) % (claims.len() - i) as u64) as usize;
        claims.swap(i, j);
    }
    claims.truncate(take);
    claims.sort();
    let mut pending: Vec<Prepared> = Vec::new();
    for (at, name, _) in &claims {
        match pending.iter_mut().find(|p| p.item.id == prepared[*at].item.id) {
            Some(p) => p.only.get_or_insert_with(Vec::new).push(name.clone()),
            None => {
                let mut p = prepared[*at].clone();
                p.only = Some(vec![name.clone()]);
                pending.push(p);
            }
        }
    }
    let options = MutantsOptions { batch: None, features: None, shard: None, jobs: 1, timeout: None, origin: "gate", progress: false, record: false };
    let measured = if pending.is_empty() { Vec::new() } else { measure_all(project, &commit, &pending, &options)? };
    let mut mutants = Vec::new();
    for (p, m) in pending.iter().zip(measured) {
        if m.outcome != "completed" {
            return Err(Error::CouldNotRun(format!("rechecking feature {} ({}) did not complete: {}", p.item.id, p.item.qualified_name(), m.failure.unwrap_or(m.outcome))));
        }
        for (_, name, claimed) in claims.iter().filter(|(at, _, _)| prepared[*at].item.id == p.item.id) {
            let found = m.mutants.iter().find(|x| &x.description == name).map(|x| x.outcome).ok_or_else(|| Error::CouldNotRun(format!("rechecking feature {}: cargo-mutants gave no outcome for {name}", p.item.id)))?;
            let killed = |o: MutantOutcome| matches!(o, MutantOutcome::Caught | MutantOutcome::Timeout);
            let same = if killed(*claimed) { killed(found) } else { found == *claimed };
            if !same {
                return Err(Error::Refused(format!(
                    "{shown}: feature {} ({}): {name} is recorded {}, but run again here it is {}; nothing was imported",
                    p.item.id,
                    p.item.qualified_name(),
                    claimed.as_str(),
                    found.as_str()
                )));
            }
            mutants.push(Rechecked { feature_id: p.item.id, mutant: name.clone(), claimed: *claimed, found });
        }
    }
    Ok(RecheckReport { seed: rc.seed, listed: listed_n, stale, mutants })
}

/// The feature's file as cargo-mutants names it (relative to the workspace).
fn in_package(p: &Prepared) -> String {
    if p.workspace.is_empty() { p.file.clone() } else { p.file.strip_prefix(&format!("{}/", p.workspace)).unwrap_or(&p.file).to_string() }
}

/// [`mutation::mark`] of a feature with a Rust target (None otherwise).
pub fn mark_of(current: &mut Current<'_>, item: &ItemRow) -> Result<Option<&'static str>, Error> {
    if item.rust_symbol.is_none() {
        return Ok(None);
    }
    let Some(now) = current.of(item)? else { return Ok(None) };
    let facts = current.db.mutation_evidence(item.id, now.body.as_deref())?;
    Ok(mutation::mark(facts.as_ref(), now.as_now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_mutants_without_an_outcome_are_named() {
        let listed = vec!["a.rs:1:1: replace f with 0".to_string(), "a.rs:2:1: replace g with 1".to_string()];
        let tested = vec![Mutant { file: "a.rs".into(), line: 1, description: listed[0].clone(), diff: String::new(), outcome: MutantOutcome::Caught, duration_ms: None, suppressed: None }];
        assert_eq!(untested(&listed, &tested), vec!["a.rs:2:1: replace g with 1"]);
        assert!(untested(&listed[..1], &tested).is_empty());
    }

    /// A tree extracted from an old commit must look newer than any build
    /// made before it, or cargo reuses that build for changed sources.
    #[test]
    fn an_extracted_tree_is_newer_than_the_builds_before_it() {
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("lib.rs"), "pub fn f() {}\n").unwrap();
        let old = [("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z"), ("GIT_AUTHOR_DATE", "2001-01-01T00:00:00Z")];
        let git = |args: &[&str]| crate::git::test_git(&repo, args, &old);
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "old"]);
        let before = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
        let tree = d.path().join("tree-0");
        extract(&repo, "HEAD", &tree).unwrap();
        let mtime = std::fs::metadata(tree.join("lib.rs")).unwrap().modified().unwrap();
        assert!(mtime >= before, "extracted with the commit's time ({mtime:?}), not now");
    }

    #[test]
    fn unit_tests_beside_the_code_count_as_test_files_of_the_library() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for (rel, text) in [
            ("p/Cargo.toml", "[package]\nname = \"p\"\n"),
            ("p/src/lib.rs", "pub mod a;\npub mod b;\n"),
            ("p/src/a.rs", "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n"),
            ("p/src/b.rs", "pub fn g() {}\n"),
            ("p/src/b_tests.rs", "\n"),
            ("p/tests/it.rs", "#[test]\nfn i() {}\n"),
        ] {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::write(root.join(rel), text).unwrap();
        }
        let files = test_files(root, "p");
        let kinds: Vec<(&str, TestCode)> = files.iter().map(|(f, (_, k))| (f.as_str(), *k)).collect();
        assert_eq!(kinds, vec![("p/src/a.rs", TestCode::Unit), ("p/src/b_tests.rs", TestCode::Unit), ("p/tests/it.rs", TestCode::Integration)]);
        assert!(files.values().all(|(h, _)| h.is_some()));
    }
}
