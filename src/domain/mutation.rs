//! Mutation evidence (README, "Mutation evidence"): a feature's tests must
//! kill the mutants cargo-mutants makes of its Rust function. This module
//! holds the rules — which mutants count, what a suppression is, when the
//! evidence allows `verified`, the cache key and the shard a feature
//! belongs to — and the canonical content the evidence chain hashes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::evidence::Provenance;

/// What happened to one mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutantOutcome {
    /// A test failed: the tests see the change.
    Caught,
    /// Every test passed with the mutant in place.
    Missed,
    /// The tests did not finish in time (counted as caught, as cargo-mutants does).
    Timeout,
    /// The mutant did not build; it says nothing about the tests.
    Unviable,
}

impl MutantOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MutantOutcome::Caught => "caught",
            MutantOutcome::Missed => "missed",
            MutantOutcome::Timeout => "timeout",
            MutantOutcome::Unviable => "unviable",
        }
    }

    pub fn parse(s: &str) -> Option<MutantOutcome> {
        match s {
            "caught" => Some(MutantOutcome::Caught),
            "missed" => Some(MutantOutcome::Missed),
            "timeout" => Some(MutantOutcome::Timeout),
            "unviable" => Some(MutantOutcome::Unviable),
            _ => None,
        }
    }

    /// cargo-mutants' `summary` of a mutant scenario in outcomes.json.
    pub fn from_summary(summary: &str) -> Option<MutantOutcome> {
        match summary {
            "CaughtMutant" => Some(MutantOutcome::Caught),
            "MissedMutant" => Some(MutantOutcome::Missed),
            "Timeout" => Some(MutantOutcome::Timeout),
            "Unviable" => Some(MutantOutcome::Unviable),
            _ => None,
        }
    }
}

/// One mutant of a feature's function and what the tests did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutant {
    /// Relative to the project root.
    pub file: String,
    pub line: i64,
    /// cargo-mutants' name: `src/lib.rs:5:10: replace < with <= in clamp`.
    pub description: String,
    pub diff: String,
    pub outcome: MutantOutcome,
    pub duration_ms: Option<i64>,
    /// The reason of the `// porttrack: allow(mutant) reason` that declares
    /// this missed mutant unable to change behaviour.
    pub suppressed: Option<String>,
}

/// One feature's mutation run, as recorded (and as exported for
/// `evidence import`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutationRecord {
    pub feature_id: i64,
    pub batch: Option<i64>,
    pub started_at: String,
    pub duration_ms: i64,
    pub command: Vec<String>,
    /// completed, failed, timed_out or could_not_run.
    pub outcome: String,
    pub failure: Option<String>,
    pub rust_file: String,
    pub rust_symbol: String,
    pub first_line: i64,
    pub last_line: i64,
    pub body_hash: String,
    pub cache_key: String,
    /// [`tests_key`] of the tests run and their test files (None in runs
    /// recorded before it was kept: their tests are not checked).
    #[serde(default)]
    pub tests_key: Option<String>,
    pub tests: Vec<String>,
    pub git_commit: Option<String>,
    pub provenance: Provenance,
    pub untrusted_because: Vec<String>,
    pub config_sha256: Option<String>,
    pub tool_version: Option<String>,
    pub shard: Option<String>,
    /// gate, verify or import.
    pub origin: String,
    pub mutants: Vec<Mutant>,
}

impl MutationRecord {
    /// What the chain hashes for the row with `id`: every stored value,
    /// the mutants in their order (the tests key only when there is one, so
    /// rows recorded before it existed keep their hashes).
    pub fn content(&self, id: i64) -> String {
        let mutants: Vec<serde_json::Value> = self
            .mutants
            .iter()
            .map(|m| json!([m.file, m.line, m.description, m.diff, m.outcome.as_str(), m.duration_ms, m.suppressed]))
            .collect();
        let untrusted = (!self.untrusted_because.is_empty()).then(|| self.untrusted_because.join("; "));
        let mut row = json!([
            "mutation_run", id, self.feature_id, self.batch, self.started_at, self.duration_ms, self.command, self.outcome, self.failure,
            self.rust_file, self.rust_symbol, self.first_line, self.last_line, self.body_hash, self.cache_key, self.tests, self.git_commit,
            self.provenance.as_str(), untrusted, self.config_sha256, self.tool_version, self.shard, self.origin, mutants
        ]);
        if let (Some(k), Some(values)) = (&self.tests_key, row.as_array_mut()) {
            values.push(json!(["tests_key", k]));
        }
        row.to_string()
    }

    pub fn tally(&self) -> Tally {
        tally(&self.mutants)
    }
}

/// Mutants counted by outcome; `missed` leaves out the suppressed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub caught: u64,
    pub missed: u64,
    pub timeout: u64,
    pub unviable: u64,
    /// Missed mutants declared equivalent by a suppression.
    pub suppressed: u64,
}

impl Tally {
    /// Mutants that built: the ones that say something about the tests.
    pub fn viable(&self) -> u64 {
        self.caught + self.missed + self.timeout + self.suppressed
    }

    pub fn merge(&mut self, other: &Tally) {
        self.caught += other.caught;
        self.missed += other.missed;
        self.timeout += other.timeout;
        self.unviable += other.unviable;
        self.suppressed += other.suppressed;
    }

    /// Killed (caught or timed out) over viable mutants that were not
    /// declared equivalent; None when there are none.
    pub fn score(&self) -> Option<f64> {
        let judged = self.caught + self.timeout + self.missed;
        (judged > 0).then(|| (self.caught + self.timeout) as f64 / judged as f64)
    }
}

pub fn tally(mutants: &[Mutant]) -> Tally {
    let mut t = Tally::default();
    for m in mutants {
        match (m.outcome, &m.suppressed) {
            (MutantOutcome::Missed, Some(_)) => t.suppressed += 1,
            (MutantOutcome::Missed, None) => t.missed += 1,
            (MutantOutcome::Caught, _) => t.caught += 1,
            (MutantOutcome::Timeout, _) => t.timeout += 1,
            (MutantOutcome::Unviable, _) => t.unviable += 1,
        }
    }
    t
}

/// What `verified` sees of a feature's latest usable mutation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceFacts {
    pub run: i64,
    pub body_hash: String,
    /// The run's [`tests_key`] (None: recorded before it was kept).
    pub tests_key: Option<String>,
    pub outcome: String,
    pub failure: Option<String>,
    pub provenance: Provenance,
    pub tally: Tally,
    /// Descriptions of the missed (unsuppressed) mutants.
    pub missed: Vec<String>,
}

/// A feature's function and tests as they are now: what its mutation
/// evidence must have been made with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Now<'a> {
    /// SHA-256 of the function's lines (None: it cannot be found).
    pub body: Option<&'a str>,
    /// [`tests_key`] of the tests that exercise it now (None: not known,
    /// so not checked).
    pub tests: Option<&'a str>,
}

/// Why the mutation evidence does not allow `verified` for a function
/// as it is `now`, or None when it does: a trusted, completed run for this
/// very body and these very tests (a weakened test no longer stands on the
/// mutants its earlier version killed), at least one viable mutant, every
/// viable one caught or timed out (a suppressed one is declared, and
/// listed, instead).
pub fn problem(evidence: Option<&EvidenceFacts>, now: Now<'_>) -> Option<String> {
    let body_now = now.body;
    let Some(body) = body_now else {
        return Some("its Rust function cannot be found in its file, so it cannot be mutated".into());
    };
    let Some(e) = evidence else {
        return Some("no mutation evidence for its current function body (run `porttrack gate mutants`)".into());
    };
    let run = e.run;
    if e.provenance != Provenance::Trusted {
        return Some(format!("mutation run {run} is marked {}; only a run on a clean commit counts", e.provenance.as_str()));
    }
    if e.body_hash != body {
        return Some(format!("its function changed since mutation run {run}: the evidence is stale"));
    }
    if tests_changed(e, now) {
        return Some(format!("its tests changed since mutation run {run} (a test it ran, or a file of test code its test targets compile): the evidence is stale"));
    }
    if e.outcome != "completed" {
        return Some(format!("mutation run {run} did not complete ({})", e.failure.as_deref().unwrap_or(&e.outcome)));
    }
    if e.tally.viable() == 0 {
        return Some(format!("mutation run {run} had no viable mutant, so its tests were never put to the test"));
    }
    if e.tally.viable() == e.tally.suppressed {
        return Some(format!("every viable mutant of mutation run {run} is suppressed; at least one must be caught"));
    }
    if e.tally.missed > 0 {
        let shown: Vec<&str> = e.missed.iter().take(3).map(String::as_str).collect();
        let more = if e.missed.len() > shown.len() { format!(" (and {} more)", e.missed.len() - shown.len()) } else { String::new() };
        return Some(format!("{} mutant(s) missed in mutation run {run}: {}{more}", e.tally.missed, shown.join("; ")));
    }
    None
}

/// A one-word mark of why [`problem`] objects, for tables: missing,
/// stale, untrusted, failed, missed or insufficient.
pub fn mark(evidence: Option<&EvidenceFacts>, now: Now<'_>) -> Option<&'static str> {
    problem(evidence, now)?;
    Some(match (evidence, now.body) {
        (None, _) | (_, None) => "missing",
        (Some(e), Some(b)) if e.provenance != Provenance::Trusted => if e.body_hash == b { "untrusted" } else { "missing" },
        (Some(e), Some(b)) if e.body_hash != b || tests_changed(e, now) => "stale",
        (Some(e), _) if e.outcome != "completed" => "failed",
        (Some(e), _) if e.tally.missed > 0 => "missed",
        _ => "insufficient",
    })
}

/// Whether the tests that exercise the function now differ from those the
/// evidence ran (a run that kept no tests key is not checked).
fn tests_changed(e: &EvidenceFacts, now: Now<'_>) -> bool {
    matches!((&e.tests_key, now.tests), (Some(then), Some(now)) if then != now)
}

/// A `// porttrack: allow(mutant) reason` comment in a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub line: i64,
    /// Empty when none was given (such a suppression suppresses nothing).
    pub reason: String,
}

/// Suppressions of mutants in `lines` (1-based line numbers with text).
/// Other rules in the same list are the stub scan's business.
pub fn suppressions<'a>(lines: impl Iterator<Item = (i64, &'a str)>) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (n, text) in lines {
        let Some(at) = text.find("porttrack:") else { continue };
        let before = text[..at].trim_end();
        if !before.ends_with("//") {
            continue;
        }
        let rest = text[at + "porttrack:".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("allow") else { continue };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('(') else { continue };
        let Some((rules, reason)) = rest.split_once(')') else { continue };
        if rules.split(',').any(|r| r.trim() == "mutant") {
            out.push(Suppression { line: n, reason: reason.trim().to_string() });
        }
    }
    out
}

/// Apply suppressions to the missed mutants they stand on (the mutant's
/// line or the line before); returns the suppressions that declared
/// nothing (no missed mutant there) and those without a reason.
pub fn apply_suppressions(mutants: &mut [Mutant], sups: &[Suppression]) -> (Vec<Suppression>, Vec<Suppression>) {
    let mut used = vec![false; sups.len()];
    for m in mutants.iter_mut().filter(|m| m.outcome == MutantOutcome::Missed) {
        if let Some((i, s)) = sups.iter().enumerate().find(|(_, s)| !s.reason.is_empty() && (s.line == m.line || s.line + 1 == m.line)) {
            m.suppressed = Some(s.reason.clone());
            used[i] = true;
        }
    }
    let unused = sups.iter().zip(&used).filter(|(s, u)| !**u && !s.reason.is_empty()).map(|(s, _)| s.clone()).collect();
    let unreasoned = sups.iter().filter(|s| s.reason.is_empty()).cloned().collect();
    (unused, unreasoned)
}

/// SHA-256 of a function's text (its lines, as in the file).
pub fn body_hash(lines: &[&str]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    crate::gate::run::hex(&h.finalize())
}

/// Everything a cached result depends on.
#[derive(Debug, Clone)]
pub struct CacheInputs<'a> {
    pub body_hash: &'a str,
    /// The Rust tests run, sorted.
    pub tests: &'a [String],
    /// (path, SHA-256) of the package's test files.
    pub test_files: &'a BTreeMap<String, Option<String>>,
    pub cargo_lock: Option<&'a str>,
    pub tool_version: Option<&'a str>,
    /// The mutation settings that change outcomes (the test timeout).
    pub settings: &'a str,
}

/// What a feature's tests are: the Rust tests run and the SHA-256 of each
/// file of test code their targets compile. Part of the cache key, and kept
/// apart so that evidence whose tests changed is seen to be stale.
pub fn tests_key(tests: &[String], test_files: &BTreeMap<String, Option<String>>) -> String {
    let content = json!(["porttrack-mutants-tests-v1", tests, test_files]).to_string();
    crate::gate::run::hex(&Sha256::digest(content.as_bytes()))
}

/// The key under which an unchanged feature reuses its result.
pub fn cache_key(i: &CacheInputs<'_>) -> String {
    let content = json!(["porttrack-mutants-v1", i.body_hash, i.tests, i.test_files, i.cargo_lock, i.tool_version, i.settings]).to_string();
    crate::gate::run::hex(&Sha256::digest(content.as_bytes()))
}

/// `K/N` of `--shard`: 0 ≤ K < N, as cargo-mutants counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("shard '{s}' is not K/N with 0 <= K < N (e.g. 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the `position`-th feature (in ID order) is this shard's:
    /// whole features are dealt round-robin, so each feature's evidence is
    /// made on one machine and the shards together cover every feature once.
    pub fn holds(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(line: i64, outcome: MutantOutcome) -> Mutant {
        Mutant { file: "src/lib.rs".into(), line, description: format!("m{line}"), diff: String::new(), outcome, duration_ms: None, suppressed: None }
    }

    fn facts(t: Tally) -> EvidenceFacts {
        EvidenceFacts { run: 3, body_hash: "b".into(), tests_key: Some("t".into()), outcome: "completed".into(), failure: None, provenance: Provenance::Trusted, tally: t, missed: vec!["m5".into()] }
    }

    fn body(b: &str) -> Now<'_> {
        Now { body: Some(b), tests: None }
    }

    #[test]
    fn verified_needs_a_viable_mutant_and_none_missed() {
        let ok = Tally { caught: 2, timeout: 1, ..Tally::default() };
        assert_eq!(problem(Some(&facts(ok)), body("b")), None);
        assert!(problem(None, body("b")).unwrap().contains("no mutation evidence"));
        assert!(problem(Some(&facts(ok)), Now::default()).unwrap().contains("cannot be found"));
        assert!(problem(Some(&facts(ok)), body("c")).unwrap().contains("stale"));
        let missed = Tally { caught: 2, missed: 1, ..Tally::default() };
        assert_eq!(problem(Some(&facts(missed)), body("b")).unwrap(), "1 mutant(s) missed in mutation run 3: m5");
        assert!(problem(Some(&facts(Tally { unviable: 4, ..Tally::default() })), body("b")).unwrap().contains("no viable mutant"));
        assert!(problem(Some(&facts(Tally { suppressed: 2, ..Tally::default() })), body("b")).unwrap().contains("every viable mutant"));
        let mut dirty = facts(ok);
        dirty.provenance = Provenance::Dirty;
        assert!(problem(Some(&dirty), body("b")).unwrap().contains("marked dirty"));
        let mut failed = facts(ok);
        failed.outcome = "failed".into();
        failed.failure = Some("the unmutated baseline failed".into());
        assert!(problem(Some(&failed), body("b")).unwrap().contains("did not complete (the unmutated baseline failed)"));
    }

    #[test]
    fn evidence_for_other_tests_is_stale() {
        let ok = Tally { caught: 2, ..Tally::default() };
        assert_eq!(problem(Some(&facts(ok)), Now { body: Some("b"), tests: Some("t") }), None);
        let changed = Now { body: Some("b"), tests: Some("u") };
        assert!(problem(Some(&facts(ok)), changed).unwrap().contains("its tests changed since mutation run 3"));
        assert_eq!(mark(Some(&facts(ok)), changed), Some("stale"));
        let mut old = facts(ok);
        old.tests_key = None;
        assert_eq!(problem(Some(&old), changed), None, "a run that kept no tests key is judged by its body");
        let files: BTreeMap<String, Option<String>> = [("tests/a.rs".to_string(), Some("h".to_string()))].into();
        let k = tests_key(&["t1".into()], &files);
        assert_ne!(k, tests_key(&["t2".into()], &files));
        assert_ne!(k, tests_key(&["t1".into()], &[("tests/a.rs".to_string(), Some("g".to_string()))].into()));
    }

    #[test]
    fn marks_name_the_problem_in_a_word() {
        let ok = Tally { caught: 1, ..Tally::default() };
        assert_eq!(mark(Some(&facts(ok)), body("b")), None);
        assert_eq!(mark(None, body("b")), Some("missing"));
        assert_eq!(mark(Some(&facts(ok)), body("c")), Some("stale"));
        assert_eq!(mark(Some(&facts(Tally { missed: 1, ..ok })), body("b")), Some("missed"));
        assert_eq!(mark(Some(&facts(Tally::default())), body("b")), Some("insufficient"));
    }

    #[test]
    fn suppressions_need_a_reason_and_a_missed_mutant() {
        let text = ["fn f() {", "    if x < lo { // porttrack: allow(mutant) x == lo gives lo either way", "    // porttrack: allow(mutant)", "    y", "    // porttrack: allow(mutant, rust/todo) never missed", "}"];
        let sups = suppressions(text.iter().enumerate().map(|(i, l)| (i as i64 + 1, *l)));
        assert_eq!(sups.len(), 3);
        assert_eq!(sups[0], Suppression { line: 2, reason: "x == lo gives lo either way".into() });
        let mut ms = vec![mutant(2, MutantOutcome::Missed), mutant(4, MutantOutcome::Missed), mutant(2, MutantOutcome::Caught)];
        let (unused, unreasoned) = apply_suppressions(&mut ms, &sups);
        assert_eq!(ms[0].suppressed.as_deref(), Some("x == lo gives lo either way"));
        assert_eq!(ms[1].suppressed, None, "a suppression without a reason suppresses nothing");
        assert_eq!((unused.len(), unused[0].line), (1, 5));
        assert_eq!(unreasoned.len(), 1);
        let t = tally(&ms);
        assert_eq!((t.caught, t.missed, t.suppressed, t.viable()), (1, 1, 1, 3));
        assert_eq!(t.score(), Some(0.5));
        assert!(suppressions([(1, "let s = \"porttrack: allow(mutant) x\";")].into_iter()).is_empty(), "only comments");
    }

    #[test]
    fn cache_key_covers_every_input() {
        let files: BTreeMap<String, Option<String>> = [("tests/a.rs".to_string(), Some("h".to_string()))].into();
        let tests = vec!["a".to_string()];
        let base = CacheInputs { body_hash: "b", tests: &tests, test_files: &files, cargo_lock: Some("l"), tool_version: Some("27.1.0"), settings: "" };
        let k = cache_key(&base);
        assert_eq!(k, cache_key(&base.clone()));
        assert_ne!(k, cache_key(&CacheInputs { body_hash: "c", ..base.clone() }));
        assert_ne!(k, cache_key(&CacheInputs { cargo_lock: None, ..base.clone() }));
        let other: BTreeMap<String, Option<String>> = [("tests/a.rs".to_string(), Some("g".to_string()))].into();
        assert_ne!(k, cache_key(&CacheInputs { test_files: &other, ..base.clone() }));
        assert_ne!(k, cache_key(&CacheInputs { tests: &[], ..base }));
    }

    #[test]
    fn shards_deal_features_round_robin() {
        let s: Shard = "1/3".parse().unwrap();
        assert_eq!(s.to_string(), "1/3");
        assert_eq!((0..7).filter(|&i| s.holds(i)).collect::<Vec<_>>(), [1, 4]);
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains(bad), "{bad}");
        }
        let all: usize = (0..3).map(|k| (0..10).filter(|&i| Shard { index: k, count: 3 }.holds(i)).count()).sum();
        assert_eq!(all, 10);
    }

    #[test]
    fn content_changes_with_every_mutant() {
        let r = MutationRecord {
            feature_id: 1, batch: Some(1), started_at: "t".into(), duration_ms: 1, command: vec![], outcome: "completed".into(), failure: None,
            rust_file: "src/lib.rs".into(), rust_symbol: "f".into(), first_line: 1, last_line: 3, body_hash: "b".into(), cache_key: "k".into(),
            tests_key: None, tests: vec![], git_commit: Some("c".into()), provenance: Provenance::Trusted, untrusted_because: vec![], config_sha256: None,
            tool_version: None, shard: None, origin: "gate".into(), mutants: vec![mutant(2, MutantOutcome::Caught)],
        };
        let mut other = r.clone();
        other.mutants[0].outcome = MutantOutcome::Missed;
        assert_ne!(r.content(1), other.content(1));
        assert_ne!(r.content(1), r.content(2));
        let keyed = MutationRecord { tests_key: Some("t".into()), ..r.clone() };
        assert_ne!(r.content(1), keyed.content(1), "the tests key is chained when there is one");
        assert!(!r.content(1).contains("tests_key"), "rows without one hash as they did before it existed");
    }
}
