//! The hash chains over history rows and gate runs. Each row stores
//! `link(previous row's hash, content)`, where the content is a canonical
//! JSON array of every stored value (a gate run's includes its per-test
//! results and file hashes), so editing, inserting or deleting a row out of
//! band breaks the chain from that row on. The chain is not keyed: it makes
//! a quiet edit visible to `porttrack audit`, and `audit --rerun` is what
//! proves a result.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The hash before the first row.
pub const GENESIS: &str = "";

/// `meta` keys holding each chain's head (the last row's hash) and the
/// last row written before chaining existed.
pub const HISTORY_HEAD: &str = "chain.history_head";
pub const RUNS_HEAD: &str = "chain.runs_head";
pub const HISTORY_LEGACY: &str = "chain.history_legacy_upto";
pub const RUNS_LEGACY: &str = "chain.runs_legacy_upto";
/// The last row whose global ID was derived by migration 0008 (its hash,
/// older than the ID, does not cover it).
pub const HISTORY_UID_LEGACY: &str = "chain.history_uid_legacy_upto";
pub const RUNS_UID_LEGACY: &str = "chain.runs_uid_legacy_upto";

/// The `gate_runs` columns a run's hash covers, in order (all but `id` and
/// `chain_hash`).
pub const RUN_HASHED_COLUMNS: &[&str] = &[
    "kind", "command", "cwd", "started_at", "duration_ms", "exit_code", "outcome", "failure", "format", "tests_passed", "tests_failed",
    "tests_skipped", "git_commit", "git_dirty", "log_path", "log_sha256", "batch_id", "provenance", "untrusted_because", "command_source",
    "config_sha256", "results_source", "results_dir", "results_path", "git_commit_end", "git_dirty_end", "origin",
];

/// Hash of one row given the previous row's hash.
pub fn link(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"porttrack-chain-v1\n");
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    crate::gate::run::hex(&h.finalize())
}

/// One `status_history` row as stored, with its override's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub item_kind: String,
    pub item_id: i64,
    pub batch_id: Option<i64>,
    pub from_status: String,
    pub to_status: String,
    pub reason: Option<String>,
    pub override_id: Option<i64>,
    pub override_reason: Option<String>,
    pub evidence_run: Option<i64>,
    pub actor: String,
    pub at: String,
    pub command: String,
    pub change_id: i64,
    /// Global IDs (see `domain::global_id`) and, on a row a merge wrote
    /// for a conflict, the claims it settled.
    pub ids: GlobalIds,
}

/// A row's global identity, and whether its hash covers it (rows older
/// than the IDs do not: theirs were derived afterwards).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GlobalIds {
    pub uid: String,
    /// History: the call's ID, shared by its rows. Runs: unused.
    pub group_uid: String,
    /// History: merge claims (JSON). Runs: the actor who recorded it.
    pub extra: Option<String>,
    #[serde(skip)]
    pub covered: bool,
}

impl GlobalIds {
    fn extend(&self, content: &mut serde_json::Value) {
        if let (true, serde_json::Value::Array(a)) = (self.covered, content) {
            a.push(json!(["ids", self.uid, self.group_uid, self.extra]));
        }
    }
}

impl HistoryEntry {
    pub fn content(&self) -> String {
        let mut v = json!([
            "history", self.id, self.item_kind, self.item_id, self.batch_id, self.from_status, self.to_status, self.reason,
            self.override_id, self.override_reason, self.evidence_run, self.actor, self.at, self.command, self.change_id
        ]);
        self.ids.extend(&mut v);
        v.to_string()
    }
}

/// One `gate_runs` row as stored, with its results and file hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunEntry {
    pub id: i64,
    /// Every column but `id` and `chain_hash`, in the order
    /// `db::evidence` stores them.
    pub columns: Vec<serde_json::Value>,
    /// The run's results in the runner's order.
    pub results: Vec<ResultEntry>,
    /// (path, sha256).
    pub files: Vec<(String, Option<String>)>,
    /// Global ID; `extra` is the actor who recorded the run.
    pub ids: GlobalIds,
}

/// One `gate_results` row: (seq, container, test name, outcome, duration
/// in ms). Its identity is all of it: two tests with one name in two
/// containers are two entries.
pub type ResultEntry = (i64, String, String, String, Option<i64>);

impl RunEntry {
    pub fn content(&self) -> String {
        let mut results = self.results.clone();
        results.sort();
        let mut files = self.files.clone();
        files.sort();
        let mut v = json!(["gate_run", self.id, self.columns, results, files]);
        self.ids.extend(&mut v);
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> HistoryEntry {
        HistoryEntry {
            id: 1,
            item_kind: "test".into(),
            item_id: 7,
            batch_id: Some(33),
            from_status: "not_started".into(),
            to_status: "verified".into(),
            reason: None,
            override_id: None,
            override_reason: None,
            evidence_run: Some(2),
            actor: "me".into(),
            at: "2026-12-01T00:00:00.000Z".into(),
            command: "porttrack verify 33".into(),
            change_id: 1,
            ids: GlobalIds { uid: "u1".into(), group_uid: "c1".into(), extra: None, covered: true },
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_link() {
        let base = link(GENESIS, &entry().content());
        assert_eq!(base.len(), 64);
        assert_eq!(base, link(GENESIS, &entry().content()), "deterministic");
        assert_ne!(base, link("x", &entry().content()));
        let mut e = entry();
        e.to_status = "complete".into();
        assert_ne!(base, link(GENESIS, &e.content()));
        let mut e = entry();
        e.reason = Some(String::new());
        assert_ne!(base, link(GENESIS, &e.content()), "NULL and '' differ");
        let mut e = entry();
        e.ids.uid = "u2".into();
        assert_ne!(base, link(GENESIS, &e.content()), "the global ID is covered");
        let mut e = entry();
        e.ids.group_uid = "c2".into();
        assert_ne!(base, link(GENESIS, &e.content()), "the call's ID is covered");
        let mut e = entry();
        e.ids.extra = Some("[]".into());
        assert_ne!(base, link(GENESIS, &e.content()), "merge claims are covered");
    }

    #[test]
    fn rows_older_than_global_ids_hash_as_before() {
        let mut e = entry();
        e.ids.covered = false;
        let old = json!([
            "history", e.id, e.item_kind, e.item_id, e.batch_id, e.from_status, e.to_status, e.reason,
            e.override_id, e.override_reason, e.evidence_run, e.actor, e.at, e.command, e.change_id
        ]);
        assert_eq!(e.content(), old.to_string());
        e.ids.uid = "anything".into();
        assert_eq!(e.content(), old.to_string(), "a derived ID is checked apart (audit), not hashed");
    }

    #[test]
    fn run_content_covers_results_in_any_order() {
        let mut r = RunEntry { id: 3, columns: vec![json!("test"), json!(0)], results: vec![(1, "alpha".into(), "b".into(), "passed".into(), None), (0, "alpha".into(), "a".into(), "failed".into(), Some(1))], files: vec![], ids: GlobalIds::default() };
        let c = r.content();
        r.results.reverse();
        assert_eq!(c, r.content());
        let mut moved = r.clone();
        moved.results[0].1 = "beta".into();
        assert_ne!(c, moved.content(), "a result moved to another container changes the content");
        r.results.pop();
        assert_ne!(c, r.content(), "a deleted result changes the content");
    }
}
