//! `batch update`: every rule of the transition table, all-or-nothing
//! writes, the history, and bad input.

use super::util::{connect, forge_run, snapshot, status_of, trusted_run, TestDir};

/// A built-in database; returns it with the IDs of batch 33's first
/// features and of TestNRGSimple.
fn builtin(name: &str) -> (TestDir, i64, i64) {
    let t = TestDir::new(name);
    t.ok(&["init"]);
    let first = t.json(&["feature", "show", "monitorCluster"])["id"].as_i64().unwrap();
    let test = t.json(&["test", "show", "TestNRGSimple"])["id"].as_i64().unwrap();
    (t, first, test)
}

fn history_len(t: &TestDir) -> usize {
    t.json(&["history"])["count"].as_u64().unwrap() as usize
}

#[test]
fn at_most_fifteen_items_and_the_split_is_shown() {
    let (t, f, _) = builtin("update-fifteen");
    let list = format!("{}-{}", f, f + 15);
    let err = t.fails(&["batch", "update", "33", "--features", &list, "--status", "stub"], 2);
    assert!(err.contains("at most 15 items"), "{err}");
    assert!(err.contains(&format!("--features {}-{} --status stub", f, f + 14)), "{err}");
    assert!(err.contains(&format!("--features {} --status stub", f + 15)), "{err}");
    assert_eq!(history_len(&t), 0);
    // Exactly 15 is fine.
    let list = format!("{}-{}", f, f + 14);
    let v = t.json(&["batch", "update", "33", "--features", &list, "--status", "stub"]);
    assert_eq!(v["applied"], true);
    assert_eq!(v["items"].as_array().unwrap().len(), 15);
    assert_eq!(history_len(&t), 15);
}

#[test]
fn one_bad_item_means_nothing_changes_and_each_says_why() {
    let (t, f, _) = builtin("update-all-or-nothing");
    let (code, out, err) = t.run(&["batch", "update", "33", "--features", &format!("{f},{},1", f + 1), "--status", "stub", "--json"]);
    assert_eq!(code, 4, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["applied"], false);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["result"], "change");
    assert_eq!(items[2]["result"], "refused");
    assert_eq!(items[2]["why"], "belongs to batch 1, not batch 33");
    assert!(err.contains("1 of 3 item(s) refused; nothing was written"), "{err}");
    assert_eq!(status_of(&connect(&t.join("porting.db")), "features", f), "not_started");
    assert_eq!(history_len(&t), 0);
}

#[test]
fn deferred_and_n_a_need_a_reason() {
    let (t, f, test) = builtin("update-reason");
    for status in ["deferred", "n_a"] {
        let err = t.fails(&["batch", "update", "33", "--features", &f.to_string(), "--status", status], 4);
        assert!(err.contains("refused"), "{err}");
        let out = t.run(&["batch", "update", "33", "--features", &f.to_string(), "--status", status]).1;
        assert!(out.contains(&format!("→ {status} needs --reason")), "{out}");
    }
    t.ok(&["batch", "update", "33", "--tests", &test.to_string(), "--status", "deferred", "--reason", "needs the full server"]);
    let h = t.json(&["history", "--test", "TestNRGSimple"]);
    assert_eq!(h["changes"][0]["reason"], "needs the full server");
    assert_eq!(h["changes"][0]["to_status"], "deferred");
}

#[test]
fn dependency_preflight_lists_blockers_and_override_is_recorded() {
    let (t, f, _) = builtin("update-deps");
    let (code, out, _) = t.run(&["batch", "update", "33", "--features", &f.to_string(), "--status", "complete", "--json"]);
    assert_eq!(code, 4);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["unfinished_dependency_count"], 58);
    assert_eq!(v["unfinished_dependencies"].as_array().unwrap().len(), 10);
    assert!(v["unfinished_dependencies"][0].as_str().unwrap().starts_with("batch 32 feature"), "{v}");
    assert!(v["items"][0]["why"].as_str().unwrap().contains("58 dependency item(s) unfinished"));

    // Its Rust target must be readable for the stub guard to check it.
    if let Some(file) = t.json(&["feature", "show", &f.to_string()])["rust_file"].as_str() {
        std::fs::create_dir_all(t.join(file).parent().unwrap()).unwrap();
        std::fs::write(t.join(file), "// the port, as far as this test needs it\n").unwrap();
    }
    let v = t.json(&["batch", "update", "33", "--features", &f.to_string(), "--status", "complete", "--override", "batch 32 lands in parallel", "--actor", "alice"]);
    assert_eq!(v["applied"], true);
    let override_id = v["override_id"].as_i64().unwrap();
    let shown = t.json(&["batch", "show", "33"]);
    assert_eq!(shown["overrides"][0]["id"], override_id);
    assert_eq!(shown["overrides"][0]["reason"], "batch 32 lands in parallel");
    assert_eq!(shown["overrides"][0]["actor"], "alice");
    assert!(shown["overrides"][0]["blocking"].as_str().unwrap().contains("58 unfinished item(s) in batch 32"));
    let out = t.ok(&["batch", "show", "33"]);
    assert!(out.contains("Override #1 by alice"), "{out}");
    let h = t.json(&["history", "--feature", "monitorCluster"]);
    assert_eq!(h["changes"][0]["override_reason"], "batch 32 lands in parallel");
    // Stub and not_started need no dependencies.
    t.ok(&["batch", "update", "33", "--features", &(f + 1).to_string(), "--status", "stub"]);
}

#[test]
fn dependencies_satisfied_when_every_item_is_done() {
    let t = TestDir::new("update-deps-done");
    t.ok(&["init"]);
    // Batch 31 depends on 30; finish 30 (n_a needs a reason) in chunks of 15.
    let ids: Vec<i64> = t.json(&["feature", "list", "--batch", "30"])["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    for chunk in ids.chunks(15) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        t.ok(&["batch", "update", "30", "--features", &list.join(","), "--status", "n_a", "--reason", "test setup"]);
    }
    assert_eq!(t.json(&["batch", "show", "30"])["status"], "done");
    let first31 = t.json(&["feature", "list", "--batch", "31"])["items"][0]["id"].as_i64().unwrap();
    // Its Rust target must be readable for the stub guard to check it.
    if let Some(file) = t.json(&["feature", "show", &first31.to_string()])["rust_file"].as_str() {
        std::fs::create_dir_all(t.join(file).parent().unwrap()).unwrap();
        std::fs::write(t.join(file), "").unwrap();
    }
    let v = t.json(&["batch", "update", "31", "--features", &first31.to_string(), "--status", "complete"]);
    assert_eq!(v["applied"], true);
    assert!(v["override_id"].is_null());
    assert_eq!(t.json(&["batch", "show", "31"])["ready"], true);
}

/// Map TestNRGSimple to `r::t` in `src/t.rs` of the test directory (a
/// committed file, as evidence needs).
fn map_simple(t: &TestDir) {
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("src/t.rs"), "#[test]\nfn t() {\n    assert_eq!(1 + 1, 2);\n}\n").unwrap();
    if !t.join("tests.sh").exists() {
        super::util::fake_project(t, "");
    }
    t.commit_all("map TestNRGSimple");
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "r::t", "--file", "src/t.rs"]);
}

#[test]
fn verified_needs_evidence_that_covers_the_item() {
    let (t, _, test) = builtin("update-verified-test");
    let db = t.join("porting.db");
    let conn = connect(&db);
    map_simple(&t);
    let ts = test.to_string();
    let base = ["batch", "update", "33", "--tests", ts.as_str(), "--status", "verified", "--override", "batch 32 in parallel"];
    let with = |run: &str| -> Vec<String> { base.iter().map(|s| s.to_string()).chain(["--evidence".to_string(), run.to_string()]).collect() };
    let run = |run: &str, code: i32| -> String {
        let a = with(run);
        let (got, out, err) = t.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(got, code, "{a:?}\n{out}{err}");
        format!("{out}{err}")
    };
    // No evidence at all.
    assert!(t.run(&base).1.contains("needs --evidence RUN"));
    // Unknown run.
    assert!(run("99", 3).contains("evidence run not found: 99"));
    // A run whose gate failed proves nothing outside verify.
    let failed = trusted_run(&t, 33, &[("r::t", "FAILED")]).to_string();
    assert!(run(&failed, 4).contains(&format!("the test gate of run {failed} did not pass")));
    // A run that did not include it.
    let other = trusted_run(&t, 33, &[("r::something_else", "ok")]).to_string();
    assert!(run(&other, 4).contains(&format!("its Rust test r::t did not pass in run {other}")));
    // A run that could not run proves nothing.
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\ntest = [\"porttrack-no-such-runner\"]\n").unwrap();
    t.commit_all("a runner that is missing");
    let (code, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    assert_eq!(code, 7, "{out}");
    let broken = serde_json::from_str::<serde_json::Value>(&out).unwrap()["run_id"].to_string();
    assert!(run(&broken, 4).contains("did not complete (outcome could_not_run)"));
    assert_eq!(status_of(&conn, "tests", test), "not_started");
    assert_eq!(history_len(&t), 0, "refusals write nothing");
    // A passing run.
    t.git(&["checkout", "-q", "HEAD~1", "--", "porttrack.toml"]);
    t.commit_all("the fake runner again");
    let good = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    run(&good, 0);
    assert_eq!(status_of(&conn, "tests", test), "verified");
    let shown = t.json(&["test", "show", &ts]);
    assert_eq!(shown["evidence_run"].to_string(), good);
    assert_eq!(shown["history"][0]["evidence_run"].to_string(), good);
    // Leaving verified needs a reason.
    assert!(t.run(&["batch", "update", "33", "--tests", &ts, "--status", "complete", "--override", "x"]).1.contains("leaving verified"));
    t.ok(&["batch", "update", "33", "--tests", &ts, "--status", "complete", "--override", "x", "--reason", "regressed"]);
    assert!(connect(&db).query_row("SELECT evidence_run IS NULL FROM tests WHERE id = ?1", [test], |r| r.get::<_, bool>(0)).unwrap());
    t.ok(&["audit"]);
}

#[test]
fn a_feature_is_verified_only_by_tests_that_exercise_it() {
    let (t, _, _) = builtin("update-verified-feature");
    // createRaftGroup is called on a *jetStream by TestJetStreamClusterParallelCreateRaftGroup
    // (the raft tests call the test helper (*cluster).createRaftGroup instead).
    let feature = t.json(&["feature", "show", "jetStream.createRaftGroup"])["id"].as_i64().unwrap();
    let fs = feature.to_string();
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("src/group.rs"), "/// Port of (*jetStream).createRaftGroup\npub fn create_raft_group() -> u8 {\n    1\n}\n").unwrap();
    super::util::fake_project(&t, "");
    t.ok(&["map", "feature", &fs, "--rust", "src/group.rs::create_raft_group"]);
    let args = |run: &str| -> Vec<String> {
        ["batch", "update", "33", "--features", fs.as_str(), "--status", "verified", "--override", "parallel", "--evidence", run].iter().map(|s| s.to_string()).collect()
    };
    let run = |a: Vec<String>| t.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    // With no linked test mapped to a Rust test and none registered, nothing exercises it.
    let conn = connect(&t.join("porting.db"));
    let linked: Vec<String> = t.json(&["feature", "show", &fs])["links"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect();
    assert!(linked.iter().any(|n| n == "TestJetStreamClusterParallelCreateRaftGroup"), "{linked:?}");
    conn.execute("UPDATE tests SET rust_test = NULL WHERE id IN (SELECT test_id FROM feature_tests WHERE feature_id = ?1)", [feature]).unwrap();
    conn.execute("DELETE FROM feature_rust_tests", []).unwrap();
    let r1 = trusted_run(&t, 33, &[("batch33::test_parallel_create_raft_group", "ok")]).to_string();
    assert!(run(args(&r1)).1.contains("no test exercises it"));
    // Two exercising tests: one failed, so the gate failed and proves nothing.
    t.ok(&["map", "test", "TestJetStreamClusterParallelCreateRaftGroup", "--rust", "batch33::test_parallel_create_raft_group"]);
    t.ok(&["map", "feature", &fs, "--rust", "src/group.rs::create_raft_group", "--test", "jsc::create_raft_group_unit"]);
    let r2 = trusted_run(&t, 33, &[("batch33::test_parallel_create_raft_group", "ok"), ("jsc::create_raft_group_unit", "FAILED")]).to_string();
    let (code, out, err) = run(args(&r2));
    assert!(code == 4 && err.contains("did not pass"), "{code} {out} {err}");
    // Both pass: verified.
    let r3 = trusted_run(&t, 33, &[("batch33::test_parallel_create_raft_group", "ok"), ("jsc::create_raft_group_unit", "ok")]).to_string();
    let (code, _, err) = run(args(&r3));
    assert_eq!(code, 0, "{err}");
    assert_eq!(status_of(&conn, "features", feature), "verified");
}

#[test]
fn the_database_itself_refuses_verified_without_evidence() {
    let (t, f, test) = builtin("update-db-guard");
    let conn = connect(&t.join("porting.db"));
    let err = conn.execute("UPDATE features SET status = 'verified' WHERE id = ?1", [f]).unwrap_err().to_string();
    assert!(err.contains("verified needs"), "{err}");
    let err = conn.execute("UPDATE tests SET status = 'verified' WHERE id = ?1", [test]).unwrap_err().to_string();
    assert!(err.contains("verified needs"), "{err}");
    map_simple(&t);
    let failed = trusted_run(&t, 33, &[("r::t", "FAILED")]);
    let err = conn.execute("UPDATE tests SET status = 'verified', evidence_run = ?2 WHERE id = ?1", [test, failed]).unwrap_err().to_string();
    assert!(err.contains("verified needs evidence"), "{err}");
    // Raw SQL with a real passing run gets past the triggers, but not past
    // the history: the next write refuses the database and audit names it.
    let passed = trusted_run(&t, 33, &[("r::t", "ok")]);
    conn.execute("UPDATE tests SET status = 'verified', evidence_run = ?2 WHERE id = ?1", [test, passed]).unwrap();
    let err = conn.execute("UPDATE tests SET evidence_run = ?2 WHERE id = ?1", [test, failed]).unwrap_err().to_string();
    assert!(err.contains("verified needs evidence"), "{err}");
    let err = t.fails(&["batch", "update", "33", "--tests", &test.to_string(), "--status", "complete", "--reason", "x", "--override", "x"], 5);
    assert!(err.contains("its history says not_started") && err.contains("changed outside porttrack"), "{err}");
    // A forged run for another batch is no evidence to the database either.
    let forged = forge_run(&conn, 32, "passed", &[("r::t", "passed")]);
    let err = conn.execute("UPDATE tests SET status = 'verified', evidence_run = ?2 WHERE id = ?1", [test, forged]).unwrap_err().to_string();
    assert!(err.contains("verified needs trusted evidence"), "{err}");
    let (code, out, _) = t.run(&["audit"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("test {test}: is verified (evidence {passed}) but its history says not_started")), "{out}");
    assert!(out.contains(&format!("gate run {forged}: does not match its chain hash")), "{out}");
}

#[test]
fn forbidden_transitions() {
    let (t, _, test) = builtin("update-forbidden");
    let ts = test.to_string();
    t.ok(&["batch", "update", "33", "--tests", &ts, "--status", "stub"]);
    map_simple(&t);
    let run = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    let out = t.run(&["batch", "update", "33", "--tests", &ts, "--status", "verified", "--evidence", &run, "--override", "x"]).1;
    assert!(out.contains("stub → verified is forbidden"), "{out}");
}

#[test]
fn history_filters_and_records_everything() {
    let (t, f, test) = builtin("update-history");
    let fl = format!("{f},{}", f + 1);
    let v = t.json(&["batch", "update", "33", "--features", &fl, "--tests", "TestNRGSimple", "--status", "stub", "--actor", "bob", "--reason", "scaffolding"]);
    let change = v["change_id"].as_i64().unwrap();
    let h = t.json(&["history", "--batch", "33"]);
    assert_eq!(h["count"], 3);
    for row in h["changes"].as_array().unwrap() {
        assert_eq!(row["change_id"], change);
        assert_eq!(row["actor"], "bob");
        assert_eq!(row["reason"], "scaffolding");
        assert_eq!(row["from_status"], "not_started");
        assert_eq!(row["to_status"], "stub");
        assert!(row["at"].as_str().unwrap().ends_with('Z'));
        let cmd = row["command"].as_str().unwrap();
        assert!(cmd.contains("batch update 33") && cmd.contains("--actor bob"), "{cmd}");
    }
    assert_eq!(t.json(&["history", "--test", &test.to_string()])["count"], 1);
    assert_eq!(t.json(&["history", "--feature", &f.to_string()])["count"], 1);
    assert_eq!(t.json(&["history", "--batch", "32"])["count"], 0);
    t.fails(&["history", "--batch", "33", "--test", "1"], 2);
    let shown = t.json(&["feature", "show", &f.to_string()]);
    assert_eq!(shown["history"][0]["change_id"], change);
    let out = t.ok(&["history"]);
    assert!(out.contains("scaffolding") && out.contains("3 change(s)"), "{out}");
}

#[test]
fn batch_update_spelling_and_dry_run() {
    let (t, f, _) = builtin("update-alias");
    let fs = f.to_string();
    let v = t.json(&["batch-update", "33", "--features", &fs, "--status", "stub", "--dry-run"]);
    assert_eq!((v["applied"].as_bool(), v["dry_run"].as_bool()), (Some(false), Some(true)));
    assert_eq!(v["items"][0]["result"], "change");
    assert_eq!(history_len(&t), 0);
    let v = t.json(&["batch-update", "33", "--features", &fs, "--status", "stub"]);
    assert_eq!(v["applied"], true);
    // Same status again: nothing to change, nothing written.
    let v = t.json(&["batch-update", "33", "--features", &fs, "--status", "stub"]);
    assert_eq!((v["applied"].as_bool(), v["items"][0]["result"].as_str()), (Some(false), Some("unchanged")));
    assert_eq!(history_len(&t), 1);
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let (t, f, _) = builtin("update-bad-input");
    let fs = f.to_string();
    let db = t.join("porting.db");
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["--features", "99999"], 3, "feature not found: 99999"),
        (vec!["--features", "noSuchFunction"], 3, "noSuchFunction"),
        (vec!["--tests", "TestNoSuch"], 3, "TestNoSuch"),
        (vec!["--features", "String"], 2, "'String' is ambiguous"),
        (vec!["--features", &format!("{f},{f}")], 2, "listed more than once"),
        (vec!["--features", &format!("{f},jetStream.monitorCluster")], 2, "listed more than once"),
        (vec!["--features", "1600-1590"], 2, "'1600-1590' is reversed"),
        (vec!["--features", "1-99999999999999999999"], 2, "99999999999999999999"),
        (vec!["--features", ""], 2, "empty list"),
        (vec!["--features", "1589,,1590"], 2, "empty entry"),
        (vec!["--features", "1"], 4, "belongs to batch 1, not batch 33"),
        (vec![], 2, "nothing to update"),
    ]
    .into_iter()
    .map(|(a, c, m)| (a.into_iter().map(String::from).collect(), c, m))
    .collect();
    for (extra, code, msg) in cases {
        let mut args: Vec<String> = ["batch", "update", "33", "--status", "stub"].iter().map(|s| s.to_string()).collect();
        args.extend(extra);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, out, err) = t.run(&argv);
        assert_eq!(got, code, "{argv:?}\n{out}\n{err}");
        assert!(err.contains(msg) || out.contains(msg), "{argv:?}: expected '{msg}' in\n{out}\n{err}");
    }
    assert!(t.fails(&["batch", "update", "33", "--features", &fs, "--status", "done"], 2).contains("'done'"));
    assert!(t.fails(&["batch", "update", "999", "--features", &fs, "--status", "stub"], 3).contains("batch not found: 999"));
    assert!(t.run(&["batch", "update", "33", "--features", &fs, "--status", "n_a"]).1.contains("needs --reason"));
    assert!(t.fails(&["batch", "update", "33", "--features", &fs, "--status", "verified", "--evidence", "12345", "--override", "x"], 3).contains("12345"));
    assert_eq!(history_len(&t), 0);
    assert_eq!(status_of(&connect(&db), "features", f), "not_started");
}

#[test]
fn read_only_database_file() {
    use std::os::unix::fs::PermissionsExt;
    let (t, f, _) = builtin("update-read-only");
    let db = t.join("porting.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(&db);
    let err = t.fails(&["batch", "update", "33", "--features", &f.to_string(), "--status", "stub"], 5);
    assert!(err.contains("porting.db") && err.contains("read-only"), "{err}");
    assert_eq!(before, snapshot(&db));
    // Reading still works.
    t.ok(&["batch", "show", "33"]);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn a_lock_held_past_the_timeout_is_busy_not_partial() {
    let (t, f, _) = builtin("update-busy");
    let conn = connect(&t.join("porting.db"));
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = t
        .cmd()
        .env(porttrack::commands::BUSY_TIMEOUT_ENV, "200")
        .args(["batch", "update", "33", "--features", &f.to_string(), "--status", "stub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("busy") && err.contains("200 ms") && err.contains("nothing was written"), "{err}");
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(history_len(&t), 0);
}

/// Users commit porting.db to git: once a write command has ended, the main
/// file alone holds its change and no -wal is left beside it.
#[test]
fn a_finished_update_leaves_everything_in_the_main_file() {
    let (t, f, _) = builtin("update-checkpoint");
    t.ok(&["batch", "update", "33", "--features", &f.to_string(), "--status", "stub"]);
    let db = t.join("porting.db");
    let wal = t.join("porting.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "a -wal is left after the command ended");
    let copy = t.join("committed.db");
    std::fs::copy(&db, &copy).unwrap();
    assert_eq!(status_of(&connect(&copy), "features", f), "stub");
}
