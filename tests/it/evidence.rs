//! Issue 10: every way `verified` could be produced from the command line,
//! reproduced and refused (exit 4, or 2 for a bad name; 5 for a database
//! altered outside porttrack) with a message naming the reason, and
//! nothing written. Built-in items are named by Go name.

use std::time::Duration;

use super::util::{connect, fake_project, forge_run, outcomes, status_of, tamper, trusted_run, TestDir};

/// A built-in database in `t`, with TestNRGSimple mapped to `r::t` in the
/// committed `src/t.rs`, in a committed fake project (see util).
fn project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init"]);
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("src/t.rs"), "#[test]\nfn t() {\n    assert_eq!(1 + 1, 2);\n}\n").unwrap();
    fake_project(&t, "");
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "r::t", "--file", "src/t.rs"]);
    t
}

fn history_count(t: &TestDir) -> u64 {
    t.json(&["history"])["count"].as_u64().unwrap()
}

fn test_status(t: &TestDir, name: &str) -> String {
    t.json(&["test", "show", name])["status"].as_str().unwrap().to_string()
}

/// `batch update 33 --tests TestNRGSimple --status verified --evidence RUN`
/// must be refused with exit 4, its stderr naming `why`, nothing written.
fn refused_as_evidence(t: &TestDir, run: &str, why: &str) {
    let before = history_count(t);
    let err = t.fails(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", run, "--override", "x"], 4);
    assert!(err.contains(&format!("evidence run {run} cannot prove verified")) && err.contains(why), "expected '{why}' in: {err}");
    assert_eq!(test_status(t, "TestNRGSimple"), "not_started");
    assert_eq!(history_count(t), before, "a refusal wrote history");
}

fn run_id(out: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["run_id"].to_string()
}

#[test]
fn issue10_echo_in_a_directory_without_the_port_is_no_evidence() {
    let t = TestDir::new("bypass-echo");
    t.ok(&["init"]);
    let (_, out, _) = t.run(&["gate", "test", "--json", "--", "echo", "test batch33::test_nrg_simple ... ok"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "passed", "the gate itself may pass: {v}");
    assert_eq!(v["provenance"], "adhoc");
    let run = v["run_id"].to_string();
    refused_as_evidence(&t, &run, "marked adhoc (the command was given on the command line");
    assert!(t.ok(&["evidence", "show", &run]).contains("adhoc"));
}

#[test]
fn issue10_an_old_results_file_is_not_this_runs_results() {
    let t = project("bypass-old-results");
    let old = t.join("old.xml");
    std::fs::copy(super::util::fixture("gate/junit.xml"), &old).unwrap();
    let month_ago = std::time::SystemTime::now() - Duration::from_secs(30 * 86_400);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(month_ago).unwrap();
    // Ad hoc: the old file is refused by the gate itself.
    let (code, out, _) = t.run(&["gate", "test", "--batch", "33", "--json", "--results", "old.xml", "--", "true"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("existed before the run started"), "{out}");
    refused_as_evidence(&t, &run_id(&out), "marked adhoc");
    // The committed gate with a --results file it really wrote during the
    // run is still not evidence: porttrack cannot tie the file to the run.
    std::fs::remove_file(&old).unwrap();
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\ntest = [\"sh\", \"-c\", \"sh tests.sh > out.txt\"]\nformat = \"libtest\"\n").unwrap();
    std::fs::write(t.join(".gitignore"), "/porting.db*\n/.porttrack/\n/outcomes.txt\n/exit.txt\n/out.txt\n").unwrap();
    t.commit_all("a gate that writes out.txt");
    outcomes(&t, &[("r::t", "ok")]);
    let (code, out, _) = t.run(&["gate", "test", "--batch", "33", "--json", "--format", "libtest", "--results", "out.txt"]);
    assert_eq!(code, 0, "the results themselves pass: {out}");
    refused_as_evidence(&t, &run_id(&out), "results were read from a file named on the command line");
}

#[test]
fn issue10_an_uncommitted_porttrack_toml_runs_nothing() {
    let t = project("bypass-dirty-config");
    std::fs::write(t.join("fake_results.txt"), "test r::t ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n").unwrap();
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\nbuild = [\"true\"]\ntest = [\"cat\", \"fake_results.txt\"]\nformat = \"libtest\"\n").unwrap();
    let (code, out, err) = t.run(&["verify", "33", "--override", "x"]);
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.contains("porttrack.toml differs from the one committed at HEAD") && out.contains("commit, then verify"), "{out}");
    assert_eq!(t.json(&["evidence", "list"])["runs"].as_array().unwrap().len(), 0, "no gate may run");
    assert_eq!(history_count(&t), 0);
    // The same edit through `gate test`: recorded, marked dirty, refused.
    let (_, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    assert!(out.contains("\"provenance\": \"dirty\""), "{out}");
    refused_as_evidence(&t, &run_id(&out), "marked dirty");
    // An untracked porttrack.toml is no better.
    t.git(&["rm", "-q", "--cached", "porttrack.toml"]);
    t.git(&["commit", "-q", "-m", "untrack porttrack.toml"]);
    let (code, out, _) = t.run(&["verify", "33", "--override", "x"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("porttrack.toml is not committed"), "{out}");
    assert_eq!(history_count(&t), 0);
}

#[test]
fn issue10_a_failed_a_foreign_and_a_dirty_run_are_refused() {
    let t = project("bypass-runs");
    // The command exited 3.
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\ntest = [\"sh\", \"-c\", \"echo 'test r::t ... ok'; exit 3\"]\nformat = \"libtest\"\n").unwrap();
    t.commit_all("a gate that exits 3");
    let (code, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    assert_eq!(code, 1, "{out}");
    refused_as_evidence(&t, &run_id(&out), "did not pass (exited with status 3)");
    // A run recorded for another batch.
    t.git(&["checkout", "-q", "HEAD~1", "--", "porttrack.toml"]);
    t.commit_all("the fake gate again");
    let other = trusted_run(&t, 32, &[("r::t", "ok")]).to_string();
    refused_as_evidence(&t, &other, &format!("run {other} was recorded for batch 32, not batch 33"));
    // A run for no batch.
    outcomes(&t, &[("r::t", "ok")]);
    let (_, out, _) = t.run(&["gate", "test", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "recorded for no batch");
    // A run from a dirty tree: a tracked file edited, then an untracked
    // file under a target root.
    std::fs::write(t.join("src/t.rs"), "#[test]\nfn t() {}\n").unwrap();
    let (_, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "uncommitted changes to tracked files: src/t.rs");
    t.git(&["checkout", "-q", "--", "src/t.rs"]);
    std::fs::write(t.join("src/new.rs"), "").unwrap();
    let (_, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "untracked files under the target roots: src/new.rs");
    std::fs::remove_file(t.join("src/new.rs")).unwrap();
    // Changes hidden from `git status`: an ignored file under a target
    // root, a tracked file git was told not to look at.
    std::fs::write(t.join(".git/info/exclude"), "/src/hidden.rs\n").unwrap();
    std::fs::write(t.join("src/hidden.rs"), "").unwrap();
    let (_, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "ignored files under the target roots: src/hidden.rs");
    std::fs::remove_file(t.join("src/hidden.rs")).unwrap();
    t.git(&["update-index", "--assume-unchanged", "src/t.rs"]);
    std::fs::write(t.join("src/t.rs"), "#[test]\nfn t() {}\n").unwrap();
    let (_, out, _) = t.run(&["gate", "test", "--batch", "33", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "marked assume-unchanged or skip-worktree, whose changes git status hides: src/t.rs");
    t.git(&["update-index", "--no-assume-unchanged", "src/t.rs"]);
    t.git(&["checkout", "-q", "--", "src/t.rs"]);
    // A build gate is not a test gate.
    let (_, out, _) = t.run(&["gate", "build", "--json"]);
    refused_as_evidence(&t, &run_id(&out), "is a build gate");
    // Clean and committed: accepted.
    let good = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &good, "--override", "x"]);
    t.ok(&["audit"]);
}

#[test]
fn issue10_evidence_must_match_the_rust_file_as_it_is() {
    let t = project("bypass-changed-file");
    let run = trusted_run(&t, 33, &[("r::t", "ok")]);
    // Changed after the run: refused for that item.
    std::fs::write(t.join("src/t.rs"), "#[test]\nfn t() {\n    assert!(false);\n}\n").unwrap();
    let (code, out, _) = t.run(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run.to_string(), "--override", "x"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains(&format!("its Rust file src/t.rs changed since run {run}")), "{out}");
    // Remapped to a file the run did not record: refused.
    t.git(&["checkout", "-q", "--", "src/t.rs"]);
    std::fs::write(t.join("src/u.rs"), "").unwrap();
    t.commit_all("another file");
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "r::t", "--file", "src/u.rs"]);
    let (code, out, _) = t.run(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run.to_string(), "--override", "x"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("mapped or remapped after the run"), "{out}");
    assert_eq!(history_count(&t), 0);
}

#[test]
fn issue10_a_remapped_verified_item_loses_verified() {
    let t = project("bypass-remap");
    let run = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run, "--override", "x"]);
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "r::other", "--file", "src/t.rs"]);
    let shown = t.json(&["test", "show", "TestNRGSimple"]);
    assert_eq!(shown["status"], "complete");
    assert!(shown["evidence_run"].is_null());
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from_status"].as_str(), last["to_status"].as_str()), (Some("verified"), Some("complete")));
    assert!(last["reason"].as_str().unwrap().contains("remapped from src/t.rs::r::t to src/t.rs::r::other"), "{last}");
    // Mapping it to what it already is changes nothing.
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "r::other", "--file", "src/t.rs"]);
    assert_eq!(history_count(&t), 2);
    t.ok(&["audit"]);
}

#[test]
fn issue10_the_stub_guard_is_the_same_from_any_directory() {
    let t = TestDir::new("bypass-cwd");
    t.ok(&["init"]);
    std::fs::write(t.join("porttrack.toml"), "").unwrap();
    std::fs::create_dir_all(t.join("ported/src/raft")).unwrap();
    std::fs::write(t.join("ported/src/raft/append.rs"), "impl Raft {\n    fn process_append_entry(&self) {\n        todo!()\n    }\n}\n").unwrap();
    t.ok(&["map", "feature", "raft.processAppendEntry", "--rust", "ported/src/raft/append.rs::raft::Raft::process_append_entry"]);
    let batch = t.json(&["feature", "show", "raft.processAppendEntry"])["batch"]["number"].to_string();
    let elsewhere = TestDir::new("bypass-cwd-elsewhere");
    let db = t.join("porting.db");
    let db = db.to_str().unwrap();
    let (code, out, err) = elsewhere.run(&["batch", "update", &batch, "--features", "raft.processAppendEntry", "--status", "complete", "--override", "x", "--db", db]);
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.contains("stub finding at ported/src/raft/append.rs:3 rust/todo-macro"), "{out}");
    // A database whose project moved away refuses rather than passes: the
    // target cannot be checked.
    std::fs::remove_file(t.join("ported/src/raft/append.rs")).unwrap();
    let (code, out, _) = elsewhere.run(&["batch", "update", &batch, "--features", "raft.processAppendEntry", "--status", "complete", "--override", "x", "--db", db]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("cannot be checked for stubs: ported/src/raft/append.rs does not exist"), "{out}");
    assert_eq!(history_count(&t), 0);
}

#[test]
fn issue10_names_are_data_never_arguments() {
    let t = project("bypass-names");
    let victim = t.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let option = format!("--logfile={}", victim.display());
    let err = t.fails(&["map", "test", "TestNRGSimpleElection", &format!("--rust={option}")], 2);
    assert!(err.contains(&format!("test name '{option}' is not valid")) && err.contains("starts with '-'"), "{err}");
    assert!(t.json(&["test", "show", "TestNRGSimpleElection"])["rust_symbol"].as_str() != Some(option.as_str()));
    // The same name in a mapping file.
    std::fs::write(t.join("m.tsv"), format!("test\tserver/raft_test.go\tTestNRGSimpleElection\tsrc/t.rs\t{option}\t\n")).unwrap();
    let err = t.fails(&["map", "import", "m.tsv"], 2);
    assert!(err.contains(&format!("m.tsv:1: test name '{option}' is not valid")), "{err}");
    // Stored behind porttrack's back, verify refuses it before running.
    let conn = connect(&t.join("porting.db"));
    conn.execute("UPDATE tests SET rust_test = ?1 WHERE name = 'TestNRGSimpleElection'", [&option]).unwrap();
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\nbuild = [\"true\"]\ntest = [\"cargo\", \"test\", \"--manifest-path\", \"none/Cargo.toml\"]\n").unwrap();
    t.commit_all("a cargo gate");
    let err = t.fails(&["verify", "33", "--override", "x"], 2);
    assert!(err.contains(&format!("TestNRGSimpleElection maps to test name '{option}', which is not valid")) || err.contains(&format!("is exercised by test name '{option}'")), "{err}");
    assert!(err.contains("nothing ran"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(t.json(&["evidence", "list"])["runs"].as_array().unwrap().len(), 0);
}

#[test]
fn issue10_targets_are_regular_files_inside_the_project() {
    let t = project("bypass-targets");
    let outside = TestDir::new("bypass-targets-outside");
    std::fs::write(outside.join("secret.rs"), "fn secret() {}\n").unwrap();
    for (target, why) in [
        ("../../../../etc/passwd.rs::root", "'..' component"),
        ("/etc/passwd.rs::root", "is absolute"),
        ("src/missing.rs::x", "does not exist"),
    ] {
        let err = t.fails(&["map", "feature", "monitorCluster", "--rust", target], 2);
        assert!(err.contains(why), "{target}: {err}");
    }
    std::os::unix::fs::symlink(outside.join("secret.rs"), t.join("src/link.rs")).unwrap();
    let err = t.fails(&["map", "feature", "monitorCluster", "--rust", "src/link.rs::secret"], 2);
    assert!(err.contains("outside the project root"), "{err}");
    let fifo = t.join("src/fifo.rs");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let err = t.fails(&["map", "feature", "monitorCluster", "--rust", "src/fifo.rs::x"], 2);
    assert!(err.contains("is a FIFO, not a regular file"), "{err}");
    std::fs::write(t.join("m.tsv"), "feature\tserver/jetstream_cluster.go\tjetStream.monitorCluster\t../../etc/passwd.rs\troot\t\n").unwrap();
    let err = t.fails(&["map", "import", "m.tsv"], 2);
    assert!(err.contains("m.tsv:1: rust_file '../../etc/passwd.rs' is not valid"), "{err}");
    assert!(t.json(&["feature", "show", "monitorCluster"])["rust_file"].as_str().is_none_or(|f| f.starts_with("ported/")));
}

#[test]
fn issue10_a_fifo_target_never_hangs_a_read() {
    let t = project("bypass-fifo");
    let run = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run, "--override", "x"]);
    std::fs::remove_file(t.join("src/t.rs")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(t.join("src/t.rs")).status().unwrap().success());
    for args in [&["report", "summary"][..], &["batch", "show", "33"], &["test", "show", "TestNRGSimple"], &["audit"]] {
        let out = t.cmd().args(args).timeout(Duration::from_secs(30)).output().unwrap();
        assert!(out.status.code().is_some(), "{args:?} hung on a FIFO");
    }
    let summary = t.json(&["report", "summary"]);
    assert_eq!(summary["stale"][0]["rust_file"], "src/t.rs", "an unreadable file is stale: {summary}");
}

#[test]
fn issue10_init_force_keeps_the_old_database() {
    let t = project("bypass-init-force");
    let run = trusted_run(&t, 33, &[("r::t", "ok")]).to_string();
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run, "--override", "x"]);
    let v = t.json(&["init", "--force"]);
    let backup = t.path().join(v["backup"].as_str().expect("a backup is named"));
    assert!(backup.to_string_lossy().contains("porting.db.bak-"), "{v}");
    assert_eq!(history_count(&t), 0, "the new database starts empty");
    // The backup is a whole database with the history and evidence.
    let b = super::util::connect(&backup);
    assert_eq!(status_of(&b, "tests", t.json(&["test", "show", "TestNRGSimple"])["id"].as_i64().unwrap()), "verified");
    let rows: i64 = b.query_row("SELECT count(*) FROM status_history", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
    let out = t.ok(&["init", "--force"]);
    assert!(out.contains("Kept the replaced database as") && out.contains("porting.db.bak-"), "{out}");
    // Leftovers of an interrupted init (a process that is gone) are removed.
    std::fs::write(t.join("porting.db.porttrack-new-999999999"), "half").unwrap();
    std::fs::write(t.join("porting.db.porttrack-new-999999999-wal"), "half").unwrap();
    let v = t.json(&["init", "--force"]);
    assert_eq!(v["removed_leftovers"].as_array().unwrap().len(), 2, "{v}");
    assert!(!t.join("porting.db.porttrack-new-999999999").exists());
}

#[test]
fn issue10_a_fifo_socket_or_device_db_is_refused_at_once() {
    let t = TestDir::new("bypass-fifo-db");
    assert!(std::process::Command::new("mkfifo").arg(t.join("fifo.db")).status().unwrap().success());
    let _socket = std::os::unix::net::UnixListener::bind(t.join("socket.db")).unwrap();
    for (db, what) in [("fifo.db", "FIFO"), ("socket.db", "socket"), ("/dev/null", "device")] {
        for args in [&["batch", "show", "33", "--db", db][..], &["init", "--force", "--db", db], &["audit", "--db", db]] {
            let out = t.cmd().args(args).timeout(Duration::from_secs(20)).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(5), "{args:?}: {err}");
            assert!(err.contains(db) && err.contains(&format!("is a {what}")), "{args:?}: {err}");
        }
    }
}

#[test]
fn issue10_a_dropped_history_table_is_refused_before_any_write() {
    let t = project("bypass-drop-history");
    connect(&t.join("porting.db")).execute_batch("DROP TABLE status_history").unwrap();
    let before = super::util::snapshot(&t.join("porting.db"));
    let err = t.fails(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "stub"], 5);
    assert!(err.contains("table status_history is missing") && err.contains("nothing was written"), "{err}");
    assert_eq!(before, super::util::snapshot(&t.join("porting.db")));
    let (code, out, _) = t.run(&["audit"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("schema: table status_history is missing"), "{out}");
}

#[test]
fn issue10_a_forged_run_is_refused_as_evidence() {
    let t = project("bypass-forged-run");
    let conn = connect(&t.join("porting.db"));
    // Behind the triggers' back: a row that claims everything.
    let forged = forge_run(&conn, 33, "passed", &[("r::t", "passed")]).to_string();
    let err = t.fails(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &forged, "--override", "x"], 5);
    assert!(err.contains(&format!("gate run {forged} does not match its chain hash")), "{err}");
    assert_eq!(test_status(&t, "TestNRGSimple"), "not_started");
    // A real run edited afterwards (its result flipped to passed, the
    // triggers put back exactly): the evidence no longer holds its place in
    // the chain.
    let t = project("bypass-forged-run-2");
    let failed = trusted_run(&t, 33, &[("r::t", "FAILED")]);
    trusted_run(&t, 33, &[("r::other", "ok")]);
    tamper(&connect(&t.join("porting.db")), &format!("UPDATE gate_results SET outcome = 'passed' WHERE run_id = {failed}; UPDATE gate_runs SET outcome = 'passed', failure = NULL WHERE id = {failed};"));
    refused_as_evidence(&t, &failed.to_string(), &format!("gate run {failed} does not match its chain hash"));
}

#[test]
fn an_upgraded_database_keeps_its_history_as_legacy() {
    // A database as porttrack wrote it before evidence was chained (schema 4).
    let t = TestDir::new("upgrade-legacy");
    let conn = rusqlite::Connection::open(t.join("old.db")).unwrap();
    for name in ["0001_initial", "0002_deferral_declarations", "0003_declared_status", "0004_evidence_indexes"] {
        conn.execute_batch(&std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("migrations/{name}.sql"))).unwrap()).unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 4;
         INSERT INTO source_files (id, path, is_test, lines) VALUES (1, 'p/p.go', 0, 9), (2, 'p/p_test.go', 1, 9);
         INSERT INTO batches (id, name) VALUES (1, 'p');
         INSERT INTO features (id, file_id, line, name, loc, body_hash, batch_id) VALUES (1, 1, 3, 'A', 1, 'h', 1);
         INSERT INTO tests (id, file_id, line, name, loc, body_hash, batch_id, rust_test) VALUES (1, 2, 3, 'TestA', 3, 'h', 1, 'p::test_a');
         INSERT INTO gate_runs (id, kind, command, cwd, started_at, duration_ms, exit_code, outcome, batch_id) VALUES (1, 'test', '[]', '.', 'then', 1, 0, 'passed', 1);
         INSERT INTO gate_results (run_id, test_name, outcome) VALUES (1, 'p::test_a', 'passed');
         UPDATE tests SET status = 'verified', evidence_run = 1 WHERE id = 1;
         UPDATE features SET status = 'stub' WHERE id = 1;
         INSERT INTO status_history (id, item_kind, item_id, batch_id, from_status, to_status, evidence_run, actor, at, command, change_id)
             VALUES (1, 'test', 1, 1, 'not_started', 'verified', 1, 'me', 'then', 'x', 1),
                    (2, 'feature', 1, 1, 'not_started', 'stub', NULL, 'me', 'then', 'x', 2);",
    )
    .unwrap();
    drop(conn);
    // Opening migrates it; its rows keep working and new rows are chained.
    t.ok(&["batch", "update", "1", "--features", "A", "--status", "not_started", "--db", "old.db"]);
    t.ok(&["batch", "update", "1", "--features", "A", "--status", "stub", "--db", "old.db"]);
    let (code, out, _) = t.run(&["audit", "--db", "old.db"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("warning: history: 2 row(s) predate the hash chain"), "{out}");
    assert!(out.contains("ok   history chain   4 history row(s)"), "{out}");
    // Evidence from before provenance was recorded does not meet the rules.
    assert!(out.contains("test 1 TestA: run 1 was recorded before porttrack recorded where evidence comes from"), "{out}");
}
