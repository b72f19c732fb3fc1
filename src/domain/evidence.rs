//! What counts as evidence for `verified` (README, "What counts as
//! evidence"). Pure rules: the facts about a run (where its command came
//! from, the state of the tree before and after, where its results were
//! read) decide its provenance when it is recorded, and a recorded run is
//! admitted as evidence for an item only when every rule holds.

use serde::Serialize;

/// Where a gate's command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandSource {
    /// `porttrack.toml`'s `[gate]`, as porttrack read it.
    Config,
    /// Given after `--` on the command line.
    CommandLine,
}

impl CommandSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandSource::Config => "config",
            CommandSource::CommandLine => "command_line",
        }
    }
}

/// Where a test gate's per-test results were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultsSource {
    /// The run's own captured output.
    Output,
    /// A file the command wrote into the fresh directory porttrack made
    /// for this run.
    ResultsDir,
    /// A file named with `--results` (porttrack cannot tell who wrote it).
    ExternalFile,
}

impl ResultsSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultsSource::Output => "output",
            ResultsSource::ResultsDir => "results_dir",
            ResultsSource::ExternalFile => "external_file",
        }
    }
}

/// A recorded run's standing as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Every rule held: the committed gate ran on a clean commit.
    Trusted,
    /// The command or its results came from the command line.
    Adhoc,
    /// The tree or the configuration was not the committed state.
    Dirty,
    /// Recorded before porttrack recorded provenance.
    Legacy,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Trusted => "trusted",
            Provenance::Adhoc => "adhoc",
            Provenance::Dirty => "dirty",
            Provenance::Legacy => "legacy",
        }
    }

    pub fn parse(s: &str) -> Provenance {
        match s {
            "trusted" => Provenance::Trusted,
            "adhoc" => Provenance::Adhoc,
            "dirty" => Provenance::Dirty,
            _ => Provenance::Legacy,
        }
    }
}

/// The state of the work tree at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TreeState {
    /// HEAD's commit; None outside git or before the first commit.
    pub commit: Option<String>,
    /// Why the tree is not the committed state (file changes, config).
    pub dirty: Vec<String>,
}

/// Paths that never make a tree dirty: the database (users commit
/// `porting.db`, and every write changes it) and porttrack's own outputs.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    /// Project root relative to the repository top level (`""` when equal).
    pub prefix: String,
    /// `target_roots` of the configuration, relative to the project root.
    pub target_roots: Vec<String>,
    /// The database file relative to the top level, when inside it.
    pub database: Option<String>,
}

/// How many changed paths a reason lists.
pub const SHOWN_PATHS: usize = 5;

/// `paths` as a reason lists them: the first few, then the count.
pub fn list_paths(paths: &[String]) -> String {
    let mut s = paths.iter().take(SHOWN_PATHS).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > SHOWN_PATHS {
        s.push_str(&format!(", … ({} in all)", paths.len()));
    }
    s
}

/// The target roots as paths relative to the repository's top level.
pub fn target_dirs(ex: &Exceptions) -> Vec<String> {
    ex.target_roots
        .iter()
        .map(|r| r.trim_end_matches('/'))
        .map(|r| if ex.prefix.is_empty() { r.to_string() } else if r.is_empty() || r == "." { ex.prefix.clone() } else { format!("{}/{r}", ex.prefix) })
        .collect()
}

/// Why a `git status` listing makes the tree dirty, if it does: a tracked
/// file that differs from HEAD, or an untracked file under a target root,
/// apart from the exceptions. Paths are relative to the top level.
pub fn dirty_reasons(changes: &[(String, bool)], ex: &Exceptions) -> Vec<String> {
    let under = |path: &str, dir: &str| dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"));
    let join = |a: &str, b: &str| if a.is_empty() { b.to_string() } else if b.is_empty() || b == "." { a.to_string() } else { format!("{a}/{b}") };
    let own = join(&ex.prefix, ".porttrack");
    let excepted = |path: &str| {
        under(path, &own)
            || ex.database.as_deref().is_some_and(|db| {
                path == db || [format!("{db}-wal"), format!("{db}-shm"), format!("{db}-journal")].iter().any(|s| s == path) || path.starts_with(&format!("{db}.bak-"))
            })
    };
    let roots: Vec<String> = ex.target_roots.iter().map(|r| join(&ex.prefix, r.trim_end_matches('/'))).collect();
    let mut tracked = Vec::new();
    let mut untracked = Vec::new();
    for (path, is_untracked) in changes {
        if excepted(path) {
            continue;
        }
        if !is_untracked {
            tracked.push(path.clone());
        } else if roots.iter().any(|r| under(path, r)) {
            untracked.push(path.clone());
        }
    }
    let list = list_paths;
    let mut reasons = Vec::new();
    if !tracked.is_empty() {
        reasons.push(format!("uncommitted changes to tracked files: {}", list(&tracked)));
    }
    if !untracked.is_empty() {
        reasons.push(format!("untracked files under the target roots: {}", list(&untracked)));
    }
    reasons
}

/// Everything that decides a run's provenance when it is recorded.
#[derive(Debug, Clone)]
pub struct RunOrigin {
    pub source: CommandSource,
    pub results: ResultsSource,
    /// The tree when the command started and when it ended.
    pub start: TreeState,
    pub end: TreeState,
}

/// Provenance of a run, and every reason it is not trusted.
pub fn classify(o: &RunOrigin) -> (Provenance, Vec<String>) {
    let mut adhoc = Vec::new();
    if o.source == CommandSource::CommandLine {
        adhoc.push("the command was given on the command line, not taken from the committed porttrack.toml".to_string());
    }
    if o.results == ResultsSource::ExternalFile {
        adhoc.push("the results were read from a file named on the command line, which porttrack cannot tie to this run".to_string());
    }
    let mut dirty = Vec::new();
    match (&o.start.commit, &o.end.commit) {
        (None, _) => dirty.push("no git commit: the project is not a git repository or has no commit yet".to_string()),
        (Some(a), Some(b)) if a != b => dirty.push(format!("HEAD moved during the run ({a} → {b})")),
        (Some(_), None) => dirty.push("HEAD could not be read when the run ended".to_string()),
        _ => {}
    }
    dirty.extend(o.start.dirty.iter().map(|d| format!("at start: {d}")));
    dirty.extend(o.end.dirty.iter().map(|d| format!("at end: {d}")));
    let provenance = if !adhoc.is_empty() {
        Provenance::Adhoc
    } else if !dirty.is_empty() {
        Provenance::Dirty
    } else {
        Provenance::Trusted
    };
    adhoc.extend(dirty);
    (provenance, adhoc)
}

/// How a status change uses an evidence run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceUse {
    /// `batch update --evidence RUN`: the test gate must have passed.
    Update,
    /// `verify`, with the run it just made: the run must have completed;
    /// each item's own tests decide.
    Verify,
}

/// A recorded run, as far as admitting it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    pub id: i64,
    pub kind: String,
    /// passed, failed, timed_out or could_not_run.
    pub outcome: String,
    pub failure: Option<String>,
    pub provenance: Provenance,
    pub untrusted_because: Option<String>,
    pub batch: Option<i64>,
    pub commit: Option<String>,
    /// `gate` or `verify` (None for legacy runs).
    pub origin: Option<String>,
}

/// Whether `run` may prove `verified` for items of `batch`; Err says why not.
pub fn admit(run: &RunFacts, batch: i64, usage: EvidenceUse) -> Result<(), String> {
    let id = run.id;
    if run.kind != "test" {
        return Err(format!("run {id} is a {} gate, not a test gate", run.kind));
    }
    match run.provenance {
        Provenance::Trusted => {}
        Provenance::Legacy => return Err(format!("run {id} was recorded before porttrack recorded where evidence comes from; re-run it with `porttrack verify {batch}`")),
        p => {
            let why = run.untrusted_because.as_deref().unwrap_or("no reason recorded");
            return Err(format!("run {id} is marked {} ({why}); only a run of the committed porttrack.toml gate on a clean commit counts", p.as_str()));
        }
    }
    if run.commit.is_none() {
        return Err(format!("run {id} recorded no git commit"));
    }
    match (run.outcome.as_str(), usage) {
        ("passed", _) | ("failed", EvidenceUse::Verify) => {}
        ("failed", EvidenceUse::Update) => {
            let why = run.failure.as_deref().unwrap_or("it failed");
            return Err(format!("the test gate of run {id} did not pass ({why}); outside `verify` only a passing gate proves anything"));
        }
        (other, _) => return Err(format!("run {id} did not complete (outcome {other}); it proves nothing")),
    }
    match run.batch {
        Some(b) if b == batch => Ok(()),
        Some(b) => Err(format!("run {id} was recorded for batch {b}, not batch {batch}")),
        None => Err(format!("run {id} was recorded for no batch; record one with `porttrack gate test --batch {batch}` or `porttrack verify {batch}`")),
    }
}

/// Whether the Rust file `file` of an item is what the run saw: `recorded`
/// is the run's hash row for it (None: the run has no row, Some(None): the
/// file was missing then), `current` its hash now. None when it matches.
pub fn file_mismatch(run: i64, file: &str, recorded: Option<Option<&str>>, current: Option<&str>) -> Option<String> {
    match (recorded, current) {
        (None, _) => Some(format!("run {run} recorded no hash of its Rust file {file}: the item was mapped or remapped after the run")),
        (Some(None), _) => Some(format!("its Rust file {file} did not exist when run {run} was recorded")),
        (Some(Some(_)), None) => Some(format!("its Rust file {file} cannot be read now")),
        (Some(Some(r)), Some(c)) if r != c => Some(format!("its Rust file {file} changed since run {run}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(commit: &str) -> TreeState {
        TreeState { commit: Some(commit.into()), dirty: Vec::new() }
    }

    fn origin() -> RunOrigin {
        RunOrigin { source: CommandSource::Config, results: ResultsSource::Output, start: clean("c1"), end: clean("c1") }
    }

    #[test]
    fn only_the_committed_gate_on_a_clean_commit_is_trusted() {
        assert_eq!(classify(&origin()), (Provenance::Trusted, vec![]));
        let mut o = origin();
        o.source = CommandSource::CommandLine;
        assert_eq!(classify(&o).0, Provenance::Adhoc);
        let mut o = origin();
        o.results = ResultsSource::ExternalFile;
        assert_eq!(classify(&o).0, Provenance::Adhoc);
        let mut o = origin();
        o.end.dirty.push("uncommitted changes to tracked files: a.rs".into());
        let (p, why) = classify(&o);
        assert_eq!(p, Provenance::Dirty);
        assert_eq!(why, ["at end: uncommitted changes to tracked files: a.rs"]);
        let mut o = origin();
        o.end.commit = Some("c2".into());
        assert!(classify(&o).1[0].contains("HEAD moved"));
        let mut o = origin();
        o.start.commit = None;
        assert!(classify(&o).1[0].contains("no git commit"));
        // Ad hoc wins, and every reason is kept.
        let mut o = origin();
        o.source = CommandSource::CommandLine;
        o.start.dirty.push("x".into());
        let (p, why) = classify(&o);
        assert_eq!((p, why.len()), (Provenance::Adhoc, 2));
    }

    #[test]
    fn dirty_means_tracked_changes_or_untracked_files_under_target_roots() {
        let ex = Exceptions { prefix: String::new(), target_roots: vec!["src".into(), "ported".into()], database: Some("porting.db".into()) };
        let c = |p: &str, u: bool| (p.to_string(), u);
        assert!(dirty_reasons(&[c("porting.db", false), c("porting.db-wal", true), c(".porttrack/logs/x.log", true), c("notes.txt", true), c("porting.db.bak-1", true)], &ex).is_empty());
        let r = dirty_reasons(&[c("porttrack.toml", false), c("src/new.rs", true), c("srcx/new.rs", true)], &ex);
        assert_eq!(r, ["uncommitted changes to tracked files: porttrack.toml", "untracked files under the target roots: src/new.rs"]);
        // A project inside a larger repository.
        let ex = Exceptions { prefix: "proj".into(), target_roots: vec!["src".into()], database: None };
        assert!(dirty_reasons(&[c("src/x.rs", true), c("proj/.porttrack/r", true)], &ex).is_empty());
        assert_eq!(dirty_reasons(&[c("proj/src/x.rs", true)], &ex).len(), 1);
        let many: Vec<(String, bool)> = (0..7).map(|i| (format!("f{i}"), false)).collect();
        assert!(dirty_reasons(&many, &ex)[0].ends_with("… (7 in all)"));
    }

    fn run() -> RunFacts {
        RunFacts { id: 4, kind: "test".into(), outcome: "passed".into(), failure: None, provenance: Provenance::Trusted, untrusted_because: None, batch: Some(33), commit: Some("c".into()), origin: Some("gate".into()) }
    }

    #[test]
    fn admitted_only_when_every_rule_holds() {
        assert_eq!(admit(&run(), 33, EvidenceUse::Update), Ok(()));
        let refused = |r: RunFacts, u: EvidenceUse| admit(&r, 33, u).unwrap_err();
        assert!(refused(RunFacts { batch: Some(32), ..run() }, EvidenceUse::Update).contains("for batch 32, not batch 33"));
        assert!(refused(RunFacts { batch: None, ..run() }, EvidenceUse::Update).contains("for no batch"));
        assert!(refused(RunFacts { kind: "build".into(), ..run() }, EvidenceUse::Update).contains("build gate"));
        assert!(refused(RunFacts { provenance: Provenance::Adhoc, untrusted_because: Some("cmd".into()), ..run() }, EvidenceUse::Update).contains("marked adhoc (cmd)"));
        assert!(refused(RunFacts { provenance: Provenance::Dirty, ..run() }, EvidenceUse::Verify).contains("marked dirty"));
        assert!(refused(RunFacts { provenance: Provenance::Legacy, ..run() }, EvidenceUse::Verify).contains("before porttrack recorded"));
        assert!(refused(RunFacts { commit: None, ..run() }, EvidenceUse::Update).contains("no git commit"));
        let failed = RunFacts { outcome: "failed".into(), failure: Some("exited with status 3".into()), ..run() };
        assert!(refused(failed.clone(), EvidenceUse::Update).contains("did not pass (exited with status 3)"));
        assert_eq!(admit(&failed, 33, EvidenceUse::Verify), Ok(()));
        for o in ["timed_out", "could_not_run"] {
            assert!(refused(RunFacts { outcome: o.into(), ..run() }, EvidenceUse::Verify).contains("did not complete"));
        }
    }

    #[test]
    fn file_hashes_must_match_what_the_run_saw() {
        assert_eq!(file_mismatch(1, "a.rs", Some(Some("h")), Some("h")), None);
        assert!(file_mismatch(1, "a.rs", None, Some("h")).unwrap().contains("remapped"));
        assert!(file_mismatch(1, "a.rs", Some(None), Some("h")).unwrap().contains("did not exist"));
        assert!(file_mismatch(1, "a.rs", Some(Some("h")), None).unwrap().contains("cannot be read"));
        assert!(file_mismatch(1, "a.rs", Some(Some("h")), Some("g")).unwrap().contains("changed since run 1"));
    }
}
