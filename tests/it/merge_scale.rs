//! Issue 15, through the library (no process per change): merging is
//! commutative and idempotent on random change sequences; many copies
//! with many chunked updates merge pairwise into main without losing a
//! change; copies at an older schema are upgraded before merging.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use porttrack::db::Database;
use porttrack::domain::status::ItemStatus;
use porttrack::ops::merge::{merge, MergeOptions, MergeReport};
use porttrack::ops::stub_findings::BatchFiles;
use porttrack::ops::update::{update, UpdateOptions};
use proptest::prelude::*;

use super::util::TestDir;

/// A checkpointed built-in database at `t/base.db`; returns its path and
/// the first `n` features of batch 33.
fn base(t: &TestDir, n: usize) -> (PathBuf, Vec<i64>) {
    t.ok(&["init", "--db", "base.db"]);
    let v = t.json(&["--db", "base.db", "batch", "show", "33"]);
    let ids = v["features"]["items"].as_array().unwrap().iter().take(n).map(|i| i["id"].as_i64().unwrap()).collect();
    t.ok(&["--db", "base.db", "db", "checkpoint"]);
    (t.join("base.db"), ids)
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
}

/// One guarded status change of `ids` (as `batch update` makes it).
fn change(db: &mut Database, ids: &[i64], status: ItemStatus, actor: &str, at: &str) {
    let features = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let reason = matches!(status, ItemStatus::Deferred | ItemStatus::NA).then(|| "not now".to_string());
    let o = UpdateOptions {
        batch: 33,
        modules: None,
        features: Some(features),
        tests: None,
        status,
        reason,
        override_reason: None,
        evidence: None,
        actor: actor.into(),
        at: at.into(),
        command: "test".into(),
        dry_run: false,
    };
    let out = update(db, &o, BTreeMap::new(), BatchFiles::default()).unwrap();
    assert_eq!(out.refused(), 0, "{out:?}");
}

fn do_merge(base: &Path, ours: &Path, theirs: &Path, out: &Path) -> MergeReport {
    merge(&MergeOptions { base: base.into(), ours: ours.into(), theirs: theirs.into(), out: Some(out.into()) }).unwrap()
}

fn states(path: &Path) -> BTreeMap<(String, i64), String> {
    let db = Database::open(path).unwrap();
    db.item_states().unwrap().into_iter().map(|(k, s)| (k, s.status)).collect()
}

fn change_ids(path: &Path) -> Vec<String> {
    Database::open(path).unwrap().export_history().unwrap().into_iter().map(|(_, c)| c.uid).collect()
}

/// The database passes every integrity check a merge can affect.
fn assert_sound(path: &Path) {
    let db = Database::open(path).unwrap();
    assert_eq!(db.quick_check().unwrap(), Vec::<String>::new());
    assert_eq!(db.history_chain().unwrap().problems, vec![]);
    assert_eq!(db.run_chain().unwrap().problems, vec![]);
    assert_eq!(db.replay_problems().unwrap(), vec![]);
}

const STATUSES: [ItemStatus; 4] = [ItemStatus::Stub, ItemStatus::NotStarted, ItemStatus::Deferred, ItemStatus::NA];

fn apply(path: &Path, ids: &[i64], steps: &[(usize, usize)], actor: &str, odd: u32) {
    let mut db = Database::open(path).unwrap();
    for (n, (item, status)) in steps.iter().enumerate() {
        // Distinct, interleaved instants: the two sides' changes alternate.
        let at = format!("2030-01-01T00:00:{:02}.{:03}Z", n / 10, (n % 10) * 100 + odd as usize);
        let item = ids[*item];
        let status = STATUSES[*status];
        let now = db.item_states().unwrap()[&("feature".to_string(), item)].status.clone();
        if now != status.as_str() {
            change(&mut db, &[item], status, actor, &at);
        }
    }
}

fn proptest_cases() -> u32 {
    std::env::var("PORTTRACK_MERGE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12)
}

/// OURS/THEIRS swapped gives the same statuses and history; merging a
/// merge with itself, or with a side it already holds, changes nothing.
/// (One built-in base for every case: making it is the slow part.)
#[test]
fn issue15_merge_is_commutative_and_idempotent() {
    let t = TestDir::new("merge-prop");
    let (base, ids) = base(&t, 5);
    let steps = || proptest::collection::vec((0usize..5, 0usize..4), 0..7);
    let config = ProptestConfig { cases: proptest_cases(), max_shrink_iters: 20, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let case = std::cell::Cell::new(0);
    let result = runner.run(&(steps(), steps()), |(ours_steps, theirs_steps)| {
        case.set(case.get() + 1);
        let dir = t.join(&format!("case{}", case.get()));
        std::fs::create_dir(&dir).unwrap();
        let (ours, theirs) = (dir.join("ours.db"), dir.join("theirs.db"));
        copy(&base, &ours);
        copy(&base, &theirs);
        apply(&ours, &ids, &ours_steps, "ours", 0);
        apply(&theirs, &ids, &theirs_steps, "theirs", 1);
        let (m1, m2, m3, m4) = (dir.join("m1.db"), dir.join("m2.db"), dir.join("m3.db"), dir.join("m4.db"));
        let r1 = do_merge(&base, &ours, &theirs, &m1);
        let r2 = do_merge(&base, &theirs, &ours, &m2);
        prop_assert_eq!(states(&m1), states(&m2));
        prop_assert_eq!(change_ids(&m1), change_ids(&m2), "the same history in the same order");
        prop_assert_eq!(r1.conflicts.len(), r2.conflicts.len());
        let all: BTreeSet<String> = change_ids(&ours).into_iter().chain(change_ids(&theirs)).collect();
        let merged: BTreeSet<String> = change_ids(&m1).into_iter().collect();
        prop_assert!(all.is_subset(&merged), "a change was lost");
        prop_assert_eq!(merged.len(), all.len() + r1.conflicts.len());
        assert_sound(&m1);
        let again = do_merge(&m1, &m1, &m1, &m3);
        prop_assert!(again.conflicts.is_empty());
        prop_assert_eq!(states(&m3), states(&m1));
        prop_assert_eq!(change_ids(&m3), change_ids(&m1));
        do_merge(&base, &m1, &ours, &m4);
        prop_assert_eq!(states(&m4), states(&m1));
        prop_assert_eq!(change_ids(&m4), change_ids(&m1));
        std::fs::remove_dir_all(&dir).unwrap();
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Updates per copy: the CI run is modest; `bench/merge_scale.sh` runs 200.
fn updates_per_copy() -> usize {
    std::env::var("PORTTRACK_MERGE_UPDATES").ok().and_then(|v| v.parse().ok()).unwrap_or(25)
}

#[test]
fn issue15_eight_copies_of_chunked_updates_merge_pairwise_into_main() {
    let t = TestDir::new("merge-scale");
    let copies = 8;
    let (base, ids) = base(&t, 56);
    let updates = updates_per_copy();
    let started = Instant::now();
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut paths = Vec::new();
    for w in 0..copies {
        let path = t.join(&format!("w{w}.db"));
        copy(&base, &path);
        let mut db = Database::open(&path).unwrap();
        let chunk = &ids[w * 7..w * 7 + 7];
        for u in 0..updates {
            let status = if u % 2 == 0 { ItemStatus::Stub } else { ItemStatus::NotStarted };
            let at = porttrack::clock::now_rfc3339();
            change(&mut db, chunk, status, &format!("agent-{w}"), &at);
        }
        drop(db);
        acknowledged.extend(change_ids(&path));
        paths.push(path);
    }
    let written = started.elapsed();
    let main = t.join("main.db");
    copy(&base, &main);
    let merging = Instant::now();
    for w in &paths {
        let out = t.join("next.db");
        let r = do_merge(&base, &main, w, &out);
        assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
        std::fs::rename(&out, &main).unwrap();
    }
    let merged_in = merging.elapsed();
    let have: BTreeSet<String> = change_ids(&main).into_iter().collect();
    let lost: Vec<&String> = acknowledged.difference(&have).collect();
    assert!(lost.is_empty(), "{} acknowledged change(s) lost, e.g. {:?}", lost.len(), lost.first());
    assert_eq!(have.len(), copies * updates * 7);
    assert_sound(&main);
    let s = states(&main);
    let expect = if updates % 2 == 1 { "stub" } else { "not_started" };
    for id in &ids {
        assert_eq!(s[&("feature".to_string(), *id)], expect, "feature {id}");
    }
    eprintln!(
        "merge scale: {copies} copies x {updates} updates ({} changes): written in {:.2?}, merged pairwise into main in {:.2?}",
        have.len(),
        written,
        merged_in
    );
}

/// BASE and THEIRS at schema 7 (before global IDs), OURS upgraded and
/// moved on: the merge upgrades both old copies first, and their rows
/// keep the IDs derived from them.
#[test]
fn issue15_copies_at_an_older_schema_are_upgraded_before_merging() {
    let t = TestDir::new("merge-upgrade");
    let (current, ids) = base(&t, 3);
    let old = t.join("old.db");
    copy(&current, &old);
    downgrade_to_7(&old);
    let (ours, theirs) = (t.join("ours.db"), t.join("theirs.db"));
    copy(&old, &ours);
    copy(&old, &theirs);
    old_style_history(&theirs, &[(ids[0], "stub"), (ids[1], "stub")]);
    let mut db = Database::open(&ours).unwrap();
    change(&mut db, &[ids[2]], ItemStatus::Stub, "ours", &porttrack::clock::now_rfc3339());
    drop(db);
    let out = t.join("merged.db");
    let r = do_merge(&old, &ours, &theirs, &out);
    let upgraded: Vec<(&str, i64)> = r.upgraded.iter().map(|u| (u.copy, u.from_version)).collect();
    assert_eq!(upgraded, [("base", 7), ("theirs", 7)]);
    assert!(r.conflicts.is_empty());
    let s = states(&out);
    for id in &ids {
        assert_eq!(s[&("feature".to_string(), *id)], "stub");
    }
    assert!(change_ids(&out).iter().filter(|u| u.starts_with("legacy-")).count() == 2, "{:?}", change_ids(&out));
    assert_sound(&out);
    t.ok(&["--db", out.to_str().unwrap(), "audit"]);
}

/// Undo migration 0008 on a database without history: what a schema-7
/// porttrack wrote.
fn downgrade_to_7(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "DROP INDEX status_history_by_uid; DROP INDEX status_history_by_change_uid; DROP INDEX gate_runs_by_uid;
         DROP TRIGGER status_history_needs_uid; DROP TRIGGER gate_runs_need_uid;
         ALTER TABLE status_history DROP COLUMN uid; ALTER TABLE status_history DROP COLUMN change_uid; ALTER TABLE status_history DROP COLUMN merge_claims;
         ALTER TABLE gate_runs DROP COLUMN uid; ALTER TABLE gate_runs DROP COLUMN actor;
         DELETE FROM meta WHERE key IN ('chain.history_uid_legacy_upto', 'chain.runs_uid_legacy_upto');
         PRAGMA user_version = 7; PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
}

/// Status changes as a schema-7 porttrack wrote them: chained, no global IDs.
fn old_style_history(path: &Path, moves: &[(i64, &str)]) {
    use porttrack::domain::chain::{link, GlobalIds, HistoryEntry, HISTORY_HEAD};
    let c = rusqlite::Connection::open(path).unwrap();
    for (n, (item, to)) in moves.iter().enumerate() {
        let (last, prev): (i64, String) =
            c.query_row("SELECT id, coalesce(chain_hash, '') FROM status_history ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap_or((0, String::new()));
        let at = format!("2026-01-01T00:00:0{n}.000Z");
        let e = HistoryEntry {
            id: last + 1,
            item_kind: "feature".into(),
            item_id: *item,
            batch_id: Some(33),
            from_status: "not_started".into(),
            to_status: to.to_string(),
            reason: None,
            override_id: None,
            override_reason: None,
            evidence_run: None,
            actor: "old".into(),
            at: at.clone(),
            command: "old".into(),
            change_id: last + 1,
            ids: GlobalIds::default(),
        };
        let hash = link(&prev, &e.content());
        c.execute(
            "INSERT INTO status_history (id, item_kind, item_id, batch_id, from_status, to_status, actor, at, command, change_id, chain_hash)
             VALUES (?1, 'feature', ?2, 33, 'not_started', ?3, 'old', ?4, 'old', ?1, ?5)",
            rusqlite::params![e.id, item, to, at, hash],
        )
        .unwrap();
        c.execute("UPDATE features SET status = ?2 WHERE id = ?1", rusqlite::params![item, to]).unwrap();
        c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", rusqlite::params![HISTORY_HEAD, hash]).unwrap();
    }
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
}
