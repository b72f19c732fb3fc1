//! Many writers and hard kills against one database: every acknowledged
//! update is in the history, statuses equal a replay of the history, no
//! chunk is ever partial, and the file stays intact.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{connect, TestDir};

/// A small deterministic generator (xorshift64*), seeded per worker, so a
/// failing schedule can be rerun.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATUSES: [&str; 5] = ["not_started", "stub", "complete", "deferred", "n_a"];

/// The first batch of the built-in plan with no dependencies and at least
/// 30 features (and no tests): its number and feature IDs.
fn roomy_batch(t: &TestDir) -> (String, Vec<i64>) {
    // 30 features, no dependencies, no tests, and none mapped to a Rust
    // target (a mapped target outside this directory blocks `complete`).
    let list = t.json(&["batch", "list"]);
    for b in list["batches"].as_array().unwrap() {
        if !(b["depends_on"].as_array().unwrap().is_empty() && b["features"]["total"].as_i64().unwrap() >= 30 && b["tests"]["total"] == 0) {
            continue;
        }
        let number = b["number"].to_string();
        let items = t.json(&["feature", "list", "--batch", &number]);
        let items = items["items"].as_array().unwrap();
        if items.iter().all(|i| i["rust_target"].is_null()) {
            return (number, items.iter().map(|i| i["id"].as_i64().unwrap()).collect());
        }
    }
    panic!("no batch of 30 unmapped features without dependencies");
}

fn integrity_ok(conn: &rusqlite::Connection) {
    let r: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(r, "ok");
}

/// History rows `(id, item_id, from, to, change_id, reason)` in commit order.
fn history(conn: &rusqlite::Connection) -> Vec<(i64, i64, String, String, i64, Option<String>)> {
    let mut stmt = conn.prepare("SELECT id, item_id, from_status, to_status, change_id, reason FROM status_history ORDER BY id").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Replaying the history from not_started gives exactly the statuses in the
/// table, and every row starts where the previous one for its item ended.
fn replay_matches(conn: &rusqlite::Connection, ids: &[i64]) {
    let mut status: BTreeMap<i64, String> = ids.iter().map(|&i| (i, "not_started".to_string())).collect();
    for (id, item, from, to, _, _) in history(conn) {
        let cur = status.get_mut(&item).expect("history of an unexpected item");
        assert_eq!(*cur, from, "history row {id}: item {item} was {cur}, row says {from}");
        *cur = to;
    }
    for (&item, want) in &status {
        let got: String = conn.query_row("SELECT status FROM features WHERE id = ?1", [item], |r| r.get(0)).unwrap();
        assert_eq!(&got, want, "feature {item}: table says {got}, history replays to {want}");
    }
}

#[test]
fn eight_writers_two_hundred_updates_each() {
    const WORKERS: u64 = 8;
    const UPDATES: u64 = 200;
    let t = TestDir::new("concurrency");
    t.ok(&["init"]);
    let (batch, ids) = roomy_batch(&t);
    let bin = assert_cmd::cargo::cargo_bin("porttrack");
    let started = Instant::now();
    let acknowledged: Vec<Vec<(i64, BTreeSet<i64>, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (ids, bin, dir, batch) = (&ids, &bin, t.path(), &batch);
                s.spawn(move || {
                    let seed = 0x9e37_79b9_7f4a_7c15 ^ (w + 1);
                    let mut rng = Rng(seed);
                    let mut acks = Vec::new();
                    for n in 0..UPDATES {
                        let k = 1 + rng.below(15) as usize;
                        let mut chunk = BTreeSet::new();
                        while chunk.len() < k {
                            chunk.insert(ids[rng.below(ids.len() as u64) as usize]);
                        }
                        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
                        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
                        let out = Command::new(bin)
                            .current_dir(dir)
                            .env_remove("PORTTRACK_DB")
                            .args(["batch", "update", batch, "--features", &list.join(","), "--status", status])
                            .args(["--reason", &format!("worker {w} update {n}"), "--actor", &format!("w{w}"), "--json"])
                            .output()
                            .unwrap();
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        assert!(!stderr.contains("locked"), "worker {w} (seed {seed:#x}) update {n}: {stderr}");
                        assert_eq!(out.status.code(), Some(0), "worker {w} (seed {seed:#x}) update {n}: {stderr}{}", String::from_utf8_lossy(&out.stdout));
                        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                        let changed: BTreeSet<i64> = v["items"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|i| i["result"] == "change")
                            .map(|i| i["id"].as_i64().unwrap())
                            .collect();
                        if let Some(change) = v["change_id"].as_i64() {
                            acks.push((change, changed, status.to_string()));
                        } else {
                            assert!(changed.is_empty(), "changes without a change id: {v}");
                        }
                    }
                    acks
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    let conn = connect(&t.join("porting.db"));
    integrity_ok(&conn);
    let rows = history(&conn);
    let mut by_change: BTreeMap<i64, (BTreeSet<i64>, BTreeSet<String>)> = BTreeMap::new();
    for (_, item, _, to, change, _) in &rows {
        let e = by_change.entry(*change).or_default();
        e.0.insert(*item);
        e.1.insert(to.clone());
    }
    let mut acked_rows = 0;
    for (change, items, status) in acknowledged.iter().flatten() {
        let (got, tos) = by_change.get(change).unwrap_or_else(|| panic!("acknowledged change {change} is missing from the history"));
        assert_eq!(got, items, "change {change}: history rows differ from the acknowledged items");
        assert_eq!(tos.iter().collect::<Vec<_>>(), [status], "change {change}");
        acked_rows += items.len();
    }
    assert_eq!(acked_rows, rows.len(), "history holds rows no writer acknowledged");
    replay_matches(&conn, &ids);
    // 8 writers interleaving still leave one unbroken hash chain.
    t.ok(&["audit"]);
    eprintln!("{WORKERS} writers x {UPDATES} updates: {} changes, {} history rows in {elapsed:?}", by_change.len(), rows.len());
}

#[test]
fn killed_writers_leave_whole_chunks_or_nothing() {
    const RUNS: usize = 200;
    let t = TestDir::new("crash");
    t.ok(&["init"]);
    let (batch, ids) = roomy_batch(&t);
    let chunk: Vec<i64> = ids[..15].to_vec();
    let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
    let list = list.join(",");
    let bin = assert_cmd::cargo::cargo_bin("porttrack");
    let conn = connect(&t.join("porting.db"));
    let seed = 0x5eed_cafe_u64;
    let mut rng = Rng(seed);
    // Kill delays scale with how long an update takes on this machine right
    // now, so that kills land both before and after completion however
    // loaded the machine is (a fixed window assumed a fast, idle machine).
    let window_us = {
        let mut took: Vec<u128> = (0..5)
            .map(|i| {
                let started = std::time::Instant::now();
                let target = if i % 2 == 0 { "stub" } else { "not_started" };
                let status = Command::new(&bin)
                    .current_dir(t.path())
                    .env_remove("PORTTRACK_DB")
                    .args(["batch", "update", &batch, "--features", &list, "--status", target, "--reason", "calibrate"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success(), "calibration update {i} failed");
                started.elapsed().as_micros()
            })
            .collect();
        took.sort_unstable();
        (took[2] * 2).max(1_000) as u64
    };
    let (mut killed, mut finished) = (0, 0);
    for run in 0..RUNS {
        // All 15 items always share one status (a partial chunk would split
        // them), so the target is simply the other one.
        let current: String = conn.query_row("SELECT status FROM features WHERE id = ?1", [chunk[0]], |r| r.get(0)).unwrap();
        let target = if current == "stub" { "not_started" } else { "stub" };
        let mut child = Command::new(&bin)
            .current_dir(t.path())
            .env_remove("PORTTRACK_DB")
            .args(["batch", "update", &batch, "--features", &list, "--status", target, "--reason", &format!("crash-{run}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(window_us)));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap();
                killed += 1;
            }
        }
        child.wait().unwrap();
        let statuses: BTreeSet<String> = chunk
            .iter()
            .map(|&id| conn.query_row("SELECT status FROM features WHERE id = ?1", [id], |r| r.get::<_, String>(0)).unwrap())
            .collect();
        assert_eq!(statuses.len(), 1, "run {run} (seed {seed:#x}): chunk split across {statuses:?}");
        let rows: i64 = conn.query_row("SELECT count(*) FROM status_history WHERE reason = ?1", [format!("crash-{run}")], |r| r.get(0)).unwrap();
        assert!(rows == 0 || rows == 15, "run {run} (seed {seed:#x}): {rows} history rows");
    }
    integrity_ok(&conn);
    replay_matches(&conn, &ids);
    // Every chunk that committed is chained; none that died left a trace.
    t.ok(&["audit"]);
    assert!(killed > 20 && finished > 20, "kills should land both before and after completion: {killed} killed, {finished} finished (window {window_us} µs)");
    eprintln!("{RUNS} runs, kill window {window_us} µs: {killed} killed mid-run, {finished} finished");
}
