//! `porttrack audit`: passes on a database porttrack wrote after `verify`,
//! fails naming the problem after each kind of tampering, and with
//! `--rerun` reproduces the evidence, or says it does not.

use super::util::{connect, fake_project, outcomes, tamper, TestDir};

/// A Go package of two functions and their tests, imported, ported to
/// `src/port.rs` (mapped), with the fake test gate; batch 1 verified.
fn verified_project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    std::fs::create_dir_all(t.join("go/p")).unwrap();
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("go/p/p.go"), "package p\n\nfunc A() int { return 1 }\n\nfunc B() int { return 2 }\n").unwrap();
    std::fs::write(
        t.join("go/p/p_test.go"),
        "package p\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n\nfunc TestB(t *testing.T) {\n\tif B() != 2 {\n\t\tt.Fatal(\"B\")\n\t}\n}\n",
    )
    .unwrap();
    std::fs::write(t.join("src/port.rs"), "/// Port of A\npub fn a() -> i32 {\n    1\n}\n\n/// Port of B\npub fn b() -> i32 {\n    2\n}\n").unwrap();
    fake_project(&t, "");
    t.ok(&["import", "go", "go/p"]);
    std::fs::write(
        t.join("map.tsv"),
        "feature\tp/p.go\tA\tsrc/port.rs\tport::a\t\nfeature\tp/p.go\tB\tsrc/port.rs\tport::b\t\ntest\tp/p_test.go\tTestA\tsrc/port.rs\tport::test_a\t\ntest\tp/p_test.go\tTestB\tsrc/port.rs\tport::test_b\t\n",
    )
    .unwrap();
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("port of p");
    outcomes(&t, &[("port::test_a", "ok"), ("port::test_b", "ok")]);
    t.json(&["verify", "1"]);
    t.json(&["verify", "2"]);
    assert_eq!(t.json(&["feature", "show", "A"])["status"], "verified");
    t
}

/// Audit must fail (exit 1) and name `expected`; prints what it said.
fn audit_fails(t: &TestDir, expected: &str) {
    let (code, out, err) = t.run(&["audit"]);
    assert_eq!(code, 1, "audit passed after tampering:\n{out}{err}");
    assert!(out.contains(expected), "expected '{expected}' in:\n{out}");
    let (_, json, _) = t.run(&["audit", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["passed"], false);
}

#[test]
fn audit_passes_on_what_porttrack_wrote() {
    let t = verified_project("audit-clean");
    let v = t.json(&["audit"]);
    assert_eq!(v["passed"], true, "{v}");
    let names: Vec<&str> = v["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sqlite", "schema", "history chain", "gate-run chain", "mutation chain", "history replay", "evidence", "mutation evidence", "stub guard"]);
    assert!(v["checks"][6]["checked"].as_str().unwrap().starts_with("4 verified item(s)"), "{v}");
    assert!(t.ok(&["audit"]).contains("Audit passed."));
    // A Rust file changed since the evidence is a warning, not a failure.
    std::fs::write(t.join("src/port.rs"), "/// Port of A\npub fn a() -> i32 {\n    1 + 0\n}\n").unwrap();
    let v = t.json(&["audit"]);
    assert_eq!(v["passed"], true);
    assert!(v["warnings"].to_string().contains("stale: its Rust file src/port.rs changed since run"), "{v}");
}

#[test]
fn audit_fails_when_a_verified_target_holds_a_stub() {
    let t = verified_project("audit-stub");
    std::fs::write(t.join("src/port.rs"), "/// Port of A\npub fn a() -> i32 {\n    todo!()\n}\n\n/// Port of B\npub fn b() -> i32 {\n    2\n}\n").unwrap();
    audit_fails(&t, "A: is verified but its Rust target has a stub finding at src/port.rs:3 rust/todo-macro");
}

#[test]
fn audit_fails_after_the_history_table_is_dropped() {
    let t = verified_project("audit-drop");
    connect(&t.join("porting.db")).execute_batch("DROP TABLE status_history").unwrap();
    audit_fails(&t, "schema: table status_history is missing");
}

#[test]
fn audit_fails_after_a_forged_run_and_results() {
    let t = verified_project("audit-forged");
    let run = super::util::forge_run(&connect(&t.join("porting.db")), 2, "passed", &[("port::test_a", "passed")]);
    audit_fails(&t, &format!("gate run {run}: does not match its chain hash"));
    audit_fails(&t, "gate runs: the last run is not the head porttrack recorded");
}

#[test]
fn audit_fails_after_a_result_is_deleted() {
    let t = verified_project("audit-deleted-result");
    let run = t.json(&["test", "show", "TestB"])["evidence_run"].as_i64().unwrap();
    tamper(&connect(&t.join("porting.db")), &format!("DELETE FROM gate_results WHERE run_id = {run} AND test_name = 'port::test_a'"));
    audit_fails(&t, &format!("gate run {run}: does not match its chain hash"));
    // It is the last run: no write is accepted until it is dealt with.
    let err = t.fails(&["batch", "update", "2", "--tests", "TestB", "--status", "complete", "--reason", "x"], 5);
    assert!(err.contains(&format!("gate run {run} does not match its chain hash")) && err.contains("nothing was written"), "{err}");
}

#[test]
fn audit_fails_after_a_history_row_is_edited() {
    let t = verified_project("audit-history-edit");
    tamper(&connect(&t.join("porting.db")), "UPDATE status_history SET actor = 'someone else' WHERE id = 1");
    audit_fails(&t, "history row 1 (feature 1 not_started → verified): does not match its chain hash");
    // Removing the last row is found too.
    let t = verified_project("audit-history-truncate");
    tamper(&connect(&t.join("porting.db")), "DELETE FROM status_history WHERE id = (SELECT max(id) FROM status_history)");
    audit_fails(&t, "history: the last row is not the head porttrack recorded");
    audit_fails(&t, "but its history says not_started");
}

/// A real (tiny) Rust crate ported from a Go package, with porttrack.toml
/// running cargo: the evidence is reproducible from the commit alone.
fn cargo_project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    for (path, text) in [
        ("go/f/f.go", "package f\n\nfunc F() int { return 1 }\n"),
        ("go/f/f_test.go", "package f\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) {\n\tif F() != 1 {\n\t\tt.Fatal(\"F\")\n\t}\n}\n"),
        ("Cargo.toml", "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"),
        ("src/lib.rs", "/// Port of F\npub fn f() -> i32 {\n    1\n}\n"),
        ("tests/t.rs", "#[test]\nfn t_f() {\n    assert_eq!(fixture::f(), 1);\n}\n"),
        (
            "porttrack.toml",
            "target_roots = [\"src\", \"tests\"]\n[gate]\nbuild = [\"cargo\", \"build\", \"--offline\", \"-q\"]\ntest = [\"cargo\", \"test\", \"--offline\"]\nformat = \"libtest\"\ntimeout_secs = 600\n",
        ),
        (".gitignore", "/target\n/Cargo.lock\n/porting.db*\n/.porttrack/\n"),
        ("map.tsv", "feature\tf/f.go\tF\tsrc/lib.rs\tfixture::f\t\ntest\tf/f_test.go\tTestF\ttests/t.rs\tt_f\t\n"),
    ] {
        std::fs::create_dir_all(t.join(path).parent().unwrap()).unwrap();
        std::fs::write(t.join(path), text).unwrap();
    }
    t.ok(&["import", "go", "go/f"]);
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("port of f");
    t.json(&["verify", "1"]);
    t.json(&["verify", "2"]);
    assert_eq!(t.json(&["test", "show", "TestF"])["status"], "verified");
    t
}

#[test]
fn audit_rerun_reproduces_the_evidence_and_catches_a_changed_test() {
    let t = cargo_project("audit-rerun");
    let v = t.json(&["audit", "--rerun"]);
    assert_eq!(v["passed"], true, "{v}");
    let reruns = v["reruns"].as_array().unwrap();
    assert_eq!(reruns.len(), 2, "one re-run per evidence run: {v}");
    assert!(reruns.iter().all(|r| r["agreed"] == true && r["compared"] == 1), "{v}");
    assert!(t.git(&["worktree", "list"]).lines().count() == 1, "the temporary worktrees are gone");

    // The ported test is changed to fail after the evidence was recorded,
    // and the evidence commit now holds it: `git replace` swaps the commit
    // the evidence names for one with the failing test, the way history
    // can be rewritten under a tracker without changing commit IDs.
    let evidence_commit = t.json(&["evidence", "show", &t.json(&["test", "show", "TestF"])["evidence_run"].to_string()])["git_commit"].as_str().unwrap().to_string();
    std::fs::write(t.join("tests/t.rs"), "#[test]\nfn t_f() {\n    assert_eq!(fixture::f(), 2);\n}\n").unwrap();
    let failing = t.commit_all("t_f now fails");
    t.git(&["replace", &evidence_commit, &failing]);
    let (code, out, _) = t.run(&["audit", "--rerun"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DISAGREES") && out.contains("t_f: passed when recorded, failed on re-run"), "{out}");
    // The static checks alone cannot see it.
    t.ok(&["audit"]);
}

#[test]
fn audit_rerun_catches_evidence_that_came_from_outside_the_commit() {
    // The fake gate reads its results from an ignored file: the tree was
    // clean and the command committed, so the run was trusted, but the
    // commit alone does not reproduce it.
    let t = verified_project("audit-rerun-ignored");
    t.ok(&["audit"]);
    let (code, out, _) = t.run(&["audit", "--rerun"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("port::test_a: passed when recorded, did not run on re-run"), "{out}");
}
