//! Merging two copies of one database by their histories (`porttrack db
//! merge`, a git merge driver). The rules, with no I/O:
//!
//! - The copies share a prefix of history and of gate runs (BASE's rows,
//!   and anything both have since received in the same order). What each
//!   added after it is united by global ID: a change both copies hold is
//!   one change.
//! - The union is replayed in time order (`at`, then global ID) from the
//!   status each item had at the end of the prefix, through the transition
//!   table (`domain::transitions::rule`).
//! - An item both sides moved, whose last statuses differ, is a conflict:
//!   both sides' changes stay in the history, and one more change, written
//!   by the merge, sets the item to the less advanced claim ([`advancement`])
//!   and records the claims. It stays a conflict until a later change
//!   (`batch update`, `verify`) moves it.
//! - Everything the merge writes itself is derived from its inputs, so
//!   merging OURS with THEIRS or THEIRS with OURS, or a copy with itself,
//!   writes the same rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::global_id::derived_uid;
use super::status::ItemStatus;
use super::transitions::rule;

/// One history row as it travels between copies: local IDs are replaced
/// by global ones (its override is carried whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub uid: String,
    pub change_uid: String,
    pub item_kind: String,
    pub item_id: i64,
    pub batch_id: Option<i64>,
    pub from_status: String,
    pub to_status: String,
    pub reason: Option<String>,
    pub override_rec: Option<OverrideRec>,
    /// Global ID of the evidence run.
    pub evidence_uid: Option<String>,
    pub actor: String,
    pub at: String,
    pub command: String,
    pub merge_claims: Option<String>,
}

/// A dependency override a change used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRec {
    pub batch_id: i64,
    pub reason: String,
    pub blocking: String,
    pub actor: String,
    pub at: String,
    pub command: String,
}

/// The identity and time of a gate run (its content is copied as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKey {
    pub uid: String,
    pub started_at: String,
}

/// One side's claim about an item in a conflict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Claim {
    /// The change that made the claim (that side's last change of the item).
    pub change: String,
    pub status: String,
    pub actor: String,
    pub at: String,
}

/// Which copy a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    Theirs,
    Both,
}

/// A change of the merged history beyond the prefix, in order, with the
/// status it moved from on replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub change: Change,
    pub side: Side,
}

/// An item the merge had to settle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub item_kind: String,
    pub item_id: i64,
    /// Sorted by change ID.
    pub claims: Vec<Claim>,
    pub set_to: String,
}

/// What the merged database is beyond the shared prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Gate runs to append, in order (global IDs; each side's copy is read
    /// from the side named).
    pub runs: Vec<(RunKey, Side)>,
    pub changes: Vec<Planned>,
    pub conflicts: Vec<Conflict>,
    /// Final status of each item the plan touches, with the side whose
    /// change set it (for what that side stored with it).
    pub finals: BTreeMap<(String, i64), (String, Option<String>, Side)>,
}

/// How advanced a status is, for settling a conflict: the less advanced
/// claim wins (`stub`, `not_started`, `deferred`, `n_a`, `complete`,
/// `verified`). A claim of less progress is the one that cannot overstate
/// the port.
pub fn advancement(status: &str) -> u8 {
    match status {
        "stub" => 0,
        "not_started" => 1,
        "deferred" => 2,
        "n_a" => 3,
        "complete" => 4,
        "verified" => 5,
        _ => 0,
    }
}

/// Who the merge's own changes name.
pub const MERGE_ACTOR: &str = "porttrack-merge";
pub const MERGE_COMMAND: &str = "porttrack db merge";

/// How many leading items two sequences share (by key).
pub fn common_prefix<T, K: PartialEq>(a: &[T], b: &[T], key: impl Fn(&T) -> K) -> usize {
    a.iter().zip(b).take_while(|(x, y)| key(x) == key(y)).count()
}

/// The time-order key of a change: when, then the merge's own changes
/// after the others of the same instant (so an item ends on its settled
/// conflict), then its global ID.
pub fn order(c: &Change) -> (&str, bool, &str) {
    (c.at.as_str(), c.merge_claims.is_some(), c.uid.as_str())
}

/// Plan the merge. `prefix_status` is each item's (status, evidence) at
/// the end of the shared prefix (absent: not_started); `ours` and `theirs`
/// are each side's changes and runs after the prefix.
pub fn plan(
    prefix_status: &HashMap<(String, i64), (String, Option<String>)>,
    ours: &[Change],
    theirs: &[Change],
    ours_runs: &[RunKey],
    theirs_runs: &[RunKey],
) -> Plan {
    let mut runs: Vec<(RunKey, Side)> = Vec::new();
    let their_run_ids: HashSet<&str> = theirs_runs.iter().map(|r| r.uid.as_str()).collect();
    let our_run_ids: HashSet<&str> = ours_runs.iter().map(|r| r.uid.as_str()).collect();
    for r in ours_runs {
        runs.push((r.clone(), if their_run_ids.contains(r.uid.as_str()) { Side::Both } else { Side::Ours }));
    }
    for r in theirs_runs.iter().filter(|r| !our_run_ids.contains(r.uid.as_str())) {
        runs.push((r.clone(), Side::Theirs));
    }
    runs.sort_by(|a, b| (&a.0.started_at, &a.0.uid).cmp(&(&b.0.started_at, &b.0.uid)));

    let all = interleave(ours, theirs);

    // Each side's claim: its last change of the item; a conflict needs a
    // change of each side the other lacks.
    let claim_of = |side: &[Change]| -> BTreeMap<(String, i64), Claim> {
        let mut m = BTreeMap::new();
        for c in side {
            m.insert((c.item_kind.clone(), c.item_id), Claim { change: c.uid.clone(), status: c.to_status.clone(), actor: c.actor.clone(), at: c.at.clone() });
        }
        m
    };
    let (our_claims, their_claims) = (claim_of(ours), claim_of(theirs));
    let only = |side: Side| -> BTreeSet<(String, i64)> { all.iter().filter(|p| p.side == side).map(|p| (p.change.item_kind.clone(), p.change.item_id)).collect() };
    let (ours_only, theirs_only) = (only(Side::Ours), only(Side::Theirs));
    let mut conflicted: BTreeMap<(String, i64), Vec<Claim>> = BTreeMap::new();
    for key in ours_only.intersection(&theirs_only) {
        if let (Some(a), Some(b)) = (our_claims.get(key), their_claims.get(key)) {
            if a.status != b.status {
                let mut claims = vec![a.clone(), b.clone()];
                claims.sort();
                conflicted.insert(key.clone(), claims);
            }
        }
    }

    // Replay: each change moves its item from where the replay has it.
    let mut current: HashMap<(String, i64), (String, Option<String>, Side)> = HashMap::new();
    let status_at = |current: &HashMap<(String, i64), (String, Option<String>, Side)>, key: &(String, i64)| -> String {
        current.get(key).map(|s| s.0.clone()).or_else(|| prefix_status.get(key).map(|s| s.0.clone())).unwrap_or_else(|| "not_started".into())
    };
    let mut changes = Vec::with_capacity(all.len() + conflicted.len());
    for mut p in all {
        let key = (p.change.item_kind.clone(), p.change.item_id);
        let from = status_at(&current, &key);
        // A change that no longer follows the transition table on the
        // merged history is a conflict too (its side's claim stands
        // against the item's state).
        if !conflicted.contains_key(&key) && from != p.change.to_status && !follows_rules(&from, &p.change.to_status) {
            let mut claims: Vec<Claim> = [our_claims.get(&key), their_claims.get(&key)].into_iter().flatten().cloned().collect();
            claims.sort();
            claims.dedup();
            conflicted.insert(key.clone(), claims);
        }
        p.change.from_status = from;
        let evidence = if p.change.to_status == "verified" { p.change.evidence_uid.clone() } else { None };
        current.insert(key, (p.change.to_status.clone(), evidence, p.side));
        changes.push(p);
    }

    // The merge's own change for each conflict, placed after the item's
    // last change.
    let mut conflicts = Vec::new();
    let merge_call = derived_uid(&conflicted.values().flat_map(|cs| cs.iter().map(|c| c.change.as_str())).collect::<Vec<_>>());
    for ((kind, id), claims) in &conflicted {
        let set_to = claims.iter().map(|c| c.status.clone()).min_by_key(|s| advancement(s)).unwrap_or_else(|| "not_started".into());
        let key = (kind.clone(), *id);
        let at = changes.iter().filter(|p| p.change.item_kind == *kind && p.change.item_id == *id).map(|p| p.change.at.clone()).max().unwrap_or_default();
        let shown: Vec<String> = claims.iter().map(|c| format!("{} by {} (change {})", c.status, c.actor, c.change)).collect();
        let change = Change {
            uid: conflict_uid(kind, *id, claims),
            change_uid: merge_call.clone(),
            item_kind: kind.clone(),
            item_id: *id,
            batch_id: changes.iter().rev().find(|p| p.change.item_kind == *kind && p.change.item_id == *id).and_then(|p| p.change.batch_id),
            from_status: String::new(),
            to_status: set_to.clone(),
            reason: Some(format!(
                "merge conflict: the copies claim {}; set to the less advanced ({set_to}) until a change settles it (`porttrack conflicts`)",
                shown.join(" and ")
            )),
            override_rec: None,
            evidence_uid: None,
            actor: MERGE_ACTOR.into(),
            at,
            command: MERGE_COMMAND.into(),
            merge_claims: serde_json::to_string(claims).ok(),
        };
        // Right after the item's last change, so the item ends on it.
        let pos = changes.iter().rposition(|p| p.change.item_kind == *kind && p.change.item_id == *id).map_or(changes.len(), |i| i + 1);
        changes.insert(pos, Planned { change, side: Side::Both });
        conflicts.push(Conflict { item_kind: kind.clone(), item_id: *id, claims: claims.clone(), set_to: set_to.clone() });
        current.insert(key, (set_to, None, Side::Both));
    }
    // Replay once more in final order so every `from` is what precedes it.
    let mut state: HashMap<(String, i64), String> = HashMap::new();
    for p in &mut changes {
        let key = (p.change.item_kind.clone(), p.change.item_id);
        let from = state.get(&key).cloned().or_else(|| prefix_status.get(&key).map(|s| s.0.clone())).unwrap_or_else(|| "not_started".into());
        p.change.from_status = from;
        state.insert(key, p.change.to_status.clone());
    }
    let mut finals = BTreeMap::new();
    for p in &changes {
        let evidence = if p.change.to_status == "verified" { p.change.evidence_uid.clone() } else { None };
        finals.insert((p.change.item_kind.clone(), p.change.item_id), (p.change.to_status.clone(), evidence, p.side));
    }
    Plan { runs, changes, conflicts, finals }
}

/// Both sides' changes in one sequence that keeps each side's own order
/// (a copy's clock may step back; its history order is what it did) and
/// otherwise goes by time: at each step the earlier of the two next
/// changes ([`order`]). A change both hold is taken once. The comparison
/// is symmetric, so swapping the sides gives the same sequence.
fn interleave(ours: &[Change], theirs: &[Change]) -> Vec<Planned> {
    let our_ids: HashSet<&str> = ours.iter().map(|c| c.uid.as_str()).collect();
    let their_ids: HashSet<&str> = theirs.iter().map(|c| c.uid.as_str()).collect();
    let side = |uid: &str| match (our_ids.contains(uid), their_ids.contains(uid)) {
        (true, true) => Side::Both,
        (true, false) => Side::Ours,
        _ => Side::Theirs,
    };
    let mut emitted: HashSet<&str> = HashSet::new();
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(ours.len() + theirs.len());
    loop {
        while i < ours.len() && emitted.contains(ours[i].uid.as_str()) {
            i += 1;
        }
        while j < theirs.len() && emitted.contains(theirs[j].uid.as_str()) {
            j += 1;
        }
        let next = match (ours.get(i), theirs.get(j)) {
            (None, None) => break,
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(b)) if order(a) <= order(b) => a,
            (Some(_), Some(b)) => b,
        };
        emitted.insert(next.uid.as_str());
        out.push(Planned { change: next.clone(), side: side(&next.uid) });
    }
    out
}

/// Drop from the plan the leading changes and runs OURS already holds in
/// the same place and form, so a merge rewrites only from the first
/// difference on (merging a copy into main is then proportional to what
/// is new, not to main's history). A kept change must not name a run that
/// is rewritten. Returns how many changes and runs were kept.
pub fn keep_leading(plan: &mut Plan, ours: &[Change], ours_runs: &[RunKey]) -> (usize, usize) {
    let runs = plan.runs.iter().zip(ours_runs).take_while(|((k, _), o)| k.uid == o.uid).count();
    let rewritten: HashSet<&str> = ours_runs[runs..].iter().map(|r| r.uid.as_str()).collect();
    let changes = plan
        .changes
        .iter()
        .zip(ours)
        .take_while(|(p, o)| p.change == **o && p.change.evidence_uid.as_deref().is_none_or(|u| !rewritten.contains(u)))
        .count();
    plan.runs.drain(..runs);
    plan.changes.drain(..changes);
    (changes, runs)
}

/// An item's mapping: its Rust file and its Rust symbol (a feature) or
/// Rust test (a test).
pub type Mapping = (Option<String>, Option<String>);

/// What a merge changes in OURS's mappings: THEIRS's edits since BASE
/// where OURS left the mapping as BASE had it. When both edited one
/// item's mapping differently, OURS's stays and the item is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappingMerge {
    pub set: Vec<((String, i64), Mapping)>,
    /// A feature's extra Rust tests THEIRS added, and those it removed.
    pub add_tests: Vec<(i64, String)>,
    pub remove_tests: Vec<(i64, String)>,
    pub both_changed: Vec<(String, i64)>,
}

pub fn merge_mappings(
    base: &BTreeMap<(String, i64), Mapping>,
    ours: &BTreeMap<(String, i64), Mapping>,
    theirs: &BTreeMap<(String, i64), Mapping>,
    tests: [&BTreeSet<(i64, String)>; 3],
) -> MappingMerge {
    let none: Mapping = (None, None);
    let mut out = MappingMerge::default();
    let keys: BTreeSet<&(String, i64)> = base.keys().chain(ours.keys()).chain(theirs.keys()).collect();
    for key in keys {
        let (b, o, t) = (base.get(key).unwrap_or(&none), ours.get(key).unwrap_or(&none), theirs.get(key).unwrap_or(&none));
        if t == b || t == o {
            continue;
        }
        if o == b {
            out.set.push((key.clone(), t.clone()));
        } else {
            out.both_changed.push(key.clone());
        }
    }
    let [b, o, t] = tests;
    out.add_tests = t.iter().filter(|x| !b.contains(*x) && !o.contains(*x)).cloned().collect();
    out.remove_tests = b.iter().filter(|x| !t.contains(*x) && o.contains(*x)).cloned().collect();
    out
}

fn follows_rules(from: &str, to: &str) -> bool {
    match (from.parse::<ItemStatus>(), to.parse::<ItemStatus>()) {
        (Ok(f), Ok(t)) => rule(f, t).is_ok(),
        _ => false,
    }
}

/// The ID of the merge's change for a conflict, derived from the claims.
pub fn conflict_uid(kind: &str, id: i64, claims: &[Claim]) -> String {
    let id = id.to_string();
    let mut parts = vec!["conflict", kind, id.as_str()];
    parts.extend(claims.iter().map(|c| c.change.as_str()));
    derived_uid(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(uid: &str, item: i64, from: &str, to: &str, at: &str) -> Change {
        Change {
            uid: uid.into(),
            change_uid: uid.into(),
            item_kind: "feature".into(),
            item_id: item,
            batch_id: Some(1),
            from_status: from.into(),
            to_status: to.into(),
            reason: None,
            override_rec: None,
            evidence_uid: None,
            actor: "a".into(),
            at: at.into(),
            command: "c".into(),
            merge_claims: None,
        }
    }

    #[test]
    fn the_less_advanced_claim_wins_in_the_issue_order() {
        let order = ["stub", "not_started", "deferred", "n_a", "complete", "verified"];
        assert!(order.windows(2).all(|w| advancement(w[0]) < advancement(w[1])));
    }

    #[test]
    fn disjoint_items_replay_in_time_order_without_conflict() {
        let ours = [change("o1", 1, "not_started", "complete", "t2")];
        let theirs = [change("t1", 2, "not_started", "deferred", "t1")];
        let p = plan(&HashMap::new(), &ours, &theirs, &[], &[]);
        assert!(p.conflicts.is_empty());
        assert_eq!(p.changes.iter().map(|c| c.change.uid.as_str()).collect::<Vec<_>>(), ["t1", "o1"]);
        assert_eq!(p.finals[&("feature".to_string(), 1)].0, "complete");
    }

    #[test]
    fn a_change_both_hold_is_one_change() {
        let shared = change("s", 1, "not_started", "complete", "t1");
        let p = plan(&HashMap::new(), std::slice::from_ref(&shared), std::slice::from_ref(&shared), &[], &[]);
        assert_eq!(p.changes.len(), 1);
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn different_claims_keep_both_and_settle_on_the_less_advanced() {
        let ours = [change("o", 1, "not_started", "complete", "t1")];
        let theirs = [change("t", 1, "not_started", "deferred", "t2")];
        let p = plan(&HashMap::new(), &ours, &theirs, &[], &[]);
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!(p.conflicts[0].set_to, "deferred");
        let uids: Vec<&str> = p.changes.iter().map(|c| c.change.uid.as_str()).collect();
        assert_eq!(&uids[..2], ["o", "t"]);
        let last = &p.changes[2].change;
        assert_eq!((last.from_status.as_str(), last.to_status.as_str(), last.actor.as_str()), ("deferred", "deferred", MERGE_ACTOR));
        assert_eq!(p.changes[1].change.from_status, "complete", "replayed from the merged state");
        // Swapped sides: the same rows.
        let q = plan(&HashMap::new(), &theirs, &ours, &[], &[]);
        let rows = |p: &Plan| p.changes.iter().map(|c| c.change.clone()).collect::<Vec<_>>();
        assert_eq!(rows(&p), rows(&q));
    }

    #[test]
    fn what_ours_holds_in_place_is_not_rewritten() {
        let ours = [change("o1", 1, "not_started", "stub", "t1"), change("o2", 2, "not_started", "stub", "t2")];
        let theirs = [change("t0", 4, "not_started", "stub", "t0")];
        let mut p = plan(&HashMap::new(), &ours, &theirs, &[], &[]);
        assert_eq!(keep_leading(&mut p, &ours, &[]), (0, 0), "theirs' t0 comes first: everything moves");
        let theirs = [change("t1", 3, "not_started", "stub", "t3")];
        let mut p = plan(&HashMap::new(), &ours, &theirs, &[], &[]);
        assert_eq!(keep_leading(&mut p, &ours, &[]), (2, 0));
        assert_eq!(p.changes.len(), 1);
        assert_eq!(p.finals.len(), 3, "final states still cover every touched item");
    }

    #[test]
    fn mappings_take_their_edits_where_ours_kept_base() {
        let k = |id: i64| ("test".to_string(), id);
        let m = |f: &str| (Some(f.to_string()), Some("t".to_string()));
        let base: BTreeMap<_, _> = [(k(1), m("a")), (k(2), m("a")), (k(3), m("a"))].into();
        let ours: BTreeMap<_, _> = [(k(1), m("a")), (k(2), m("o")), (k(3), m("o"))].into();
        let theirs: BTreeMap<_, _> = [(k(1), m("t")), (k(2), m("a")), (k(3), m("t")), (k(4), m("t"))].into();
        let none = BTreeSet::new();
        let theirs_tests: BTreeSet<(i64, String)> = [(1, "x".to_string())].into();
        let r = merge_mappings(&base, &ours, &theirs, [&none, &none, &theirs_tests]);
        assert_eq!(r.set, vec![(k(1), m("t")), (k(4), m("t"))]);
        assert_eq!(r.both_changed, vec![k(3)]);
        assert_eq!(r.add_tests, vec![(1, "x".to_string())]);
        assert!(r.remove_tests.is_empty());
    }

    #[test]
    fn the_same_status_on_both_sides_is_no_conflict() {
        let ours = [change("o", 1, "not_started", "complete", "t1")];
        let theirs = [change("t", 1, "not_started", "complete", "t2")];
        let p = plan(&HashMap::new(), &ours, &theirs, &[], &[]);
        assert!(p.conflicts.is_empty());
        assert_eq!(p.changes.len(), 2, "no change ID is lost");
    }
}
