//! Test gates and `verify`, driven by small fake test commands (scripts
//! printing libtest output) so every gate outcome can be produced on demand.

use super::util::{connect, fake_project, outcomes, TestDir};

fn project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    fake_project(&t, "");
    t
}

fn gate_test(t: &TestDir, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["gate", "test", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = t.run(&args);
    let v = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (code, v, err)
}

#[test]
fn all_pass() {
    let t = project("gate-pass");
    outcomes(&t, &[("a::one", "ok"), ("a::two", "ok")]);
    let (code, v, err) = gate_test(&t, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["verdict"], "passed");
    assert_eq!(v["counts"]["passed"], 2);
    let run = v["run_id"].as_i64().unwrap();
    let shown = t.json(&["evidence", "show", &run.to_string()]);
    assert_eq!(shown["outcome"], "passed");
    assert_eq!(shown["results"].as_array().unwrap().len(), 2);
    assert_eq!(shown["command"], serde_json::json!(["sh", "tests.sh"]));
    let log = shown["log_path"].as_str().unwrap();
    assert!(std::fs::read_to_string(log).unwrap().contains("test a::one ... ok"));
    assert_eq!(shown["log_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(t.json(&["evidence", "list"])["runs"][0]["id"], run);
}

#[test]
fn some_fail() {
    let t = project("gate-fail");
    outcomes(&t, &[("a::one", "ok"), ("a::two", "FAILED")]);
    std::fs::write(t.join("exit.txt"), "101").unwrap();
    let (code, v, _) = gate_test(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "failed");
    // Named with its test binary (cargo's `Running tests/fake.rs` header).
    assert_eq!(v["failed_tests"], serde_json::json!(["fake a::two"]));
    let failures = v["failures"].to_string();
    assert!(failures.contains("exited with status 101") && failures.contains("1 test(s) failed"), "{failures}");
    assert_eq!(t.json(&["evidence", "show", &v["run_id"].to_string()])["outcome"], "failed");
}

#[test]
fn timeout_kills_and_fails() {
    let t = project("gate-timeout");
    outcomes(&t, &[("a::one", "ok")]);
    std::fs::write(t.join("sleep.txt"), "30").unwrap();
    let started = std::time::Instant::now();
    let (code, v, _) = gate_test(&t, &["--timeout", "1"]);
    assert_eq!(code, 1);
    assert!(started.elapsed().as_secs() < 15, "the timeout did not kill the command");
    assert!(v["failures"].to_string().contains("timed out after 1 s"), "{v}");
    assert_eq!(t.json(&["evidence", "show", &v["run_id"].to_string()])["outcome"], "timed_out");
}

#[test]
fn zero_tests_fail() {
    let t = project("gate-zero");
    outcomes(&t, &[]);
    let (code, v, _) = gate_test(&t, &[]);
    assert_eq!(code, 1);
    assert!(v["failures"].to_string().contains("no tests ran"), "{v}");
}

#[test]
fn only_skipped_fails() {
    let t = project("gate-skipped");
    outcomes(&t, &[("a::one", "ignored"), ("a::two", "ignored")]);
    let (code, v, _) = gate_test(&t, &[]);
    assert_eq!(code, 1);
    assert!(v["failures"].to_string().contains("all 2 tests were skipped"), "{v}");
}

#[test]
fn expected_test_missing_fails() {
    let t = project("gate-expect");
    outcomes(&t, &[("a::one", "ok")]);
    let (code, v, _) = gate_test(&t, &["--expect", "a::one", "--expect", "a::gone"]);
    assert_eq!(code, 1);
    assert_eq!(v["missing_expected"], serde_json::json!(["a::gone"]));
}

#[test]
fn command_not_found_could_not_run() {
    let t = project("gate-not-found");
    let (code, v, _) = gate_test(&t, &["--", "porttrack-no-such-command", "--flag"]);
    assert_eq!(code, 7);
    assert_eq!(v["verdict"], "could_not_run");
    assert!(v["failures"].to_string().contains("porttrack-no-such-command"), "{v}");
    let (code, v, _) = {
        let (c, o, e) = t.run(&["gate", "build", "--json", "--", "porttrack-no-such-command"]);
        (c, serde_json::from_str::<serde_json::Value>(&o).unwrap_or_default(), e)
    };
    assert_eq!(code, 7, "{v}");
}

#[test]
fn build_gate_passes_and_fails_on_exit_status() {
    let t = project("gate-build");
    assert_eq!(t.run(&["gate", "build"]).0, 0);
    let (code, out, _) = t.run(&["gate", "build", "--", "sh", "-c", "echo broken >&2; exit 2"]);
    assert_eq!(code, 1);
    assert!(out.contains("build gate FAILED") && out.contains("exited with status 2"), "{out}");
}

/// A Go package of 40 functions and 20 tests (TestFi calls Fi), imported
/// and mapped: features to `src/big.rs`, tests to `big::test_f{i}`.
fn ported_project(name: &str) -> TestDir {
    let t = project(name);
    std::fs::create_dir_all(t.join("go/big")).unwrap();
    std::fs::create_dir_all(t.join("src")).unwrap();
    let mut go = String::from("package big\n\n");
    let mut rust = String::new();
    for i in 1..=40 {
        go.push_str(&format!("func F{i}() int {{ return {i} }}\n\n"));
        rust.push_str(&format!("/// Port of F{i}\npub fn f{i}() -> i32 {{\n    {i}\n}}\n\n"));
    }
    std::fs::write(t.join("go/big/big.go"), go).unwrap();
    std::fs::write(t.join("src/big.rs"), rust).unwrap();
    let mut go_tests = String::from("package big\n\nimport \"testing\"\n\n");
    for i in 1..=20 {
        go_tests.push_str(&format!("func TestF{i}(t *testing.T) {{\n\tif F{i}() != {i} {{\n\t\tt.Fatal(\"wrong\")\n\t}}\n}}\n\n"));
    }
    std::fs::write(t.join("go/big/big_test.go"), go_tests).unwrap();
    t.ok(&["import", "go", "go/big"]);
    let mut map = String::new();
    for i in 1..=40 {
        map.push_str(&format!("feature\tbig/big.go\tF{i}\tsrc/big.rs\tbig::f{i}\t\n"));
    }
    for i in 1..=20 {
        map.push_str(&format!("test\tbig/big_test.go\tTestF{i}\tsrc/big.rs\tbig::test_f{i}\t\n"));
    }
    std::fs::write(t.join("map.tsv"), map).unwrap();
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("port of big");
    t
}

fn set_results(t: &TestDir, failing: &[usize]) {
    let lines: Vec<(String, &str)> = (1..=20).map(|i| (format!("big::test_f{i}"), if failing.contains(&i) { "FAILED" } else { "ok" })).collect();
    let refs: Vec<(&str, &str)> = lines.iter().map(|(n, o)| (n.as_str(), *o)).collect();
    outcomes(t, &refs);
}

fn statuses(t: &TestDir, kind: &str, batch: &str) -> Vec<(String, String)> {
    t.json(&[kind, "list", "--batch", batch])["items"].as_array().unwrap().iter().map(|i| (i["name"].as_str().unwrap().to_string(), i["status"].as_str().unwrap().to_string())).collect()
}

#[test]
fn verify_moves_only_what_the_evidence_proves_in_chunks_of_fifteen() {
    let t = ported_project("verify-moves");
    set_results(&t, &[]);
    let v = t.json(&["verify", "1"]);
    let run = v["test"]["run_id"].as_i64().unwrap();
    let chunks = v["chunks"].as_array().unwrap();
    assert!(chunks.iter().all(|c| c["items"].as_array().unwrap().len() <= 15 && c["applied"] == true), "{chunks:?}");
    assert_eq!(chunks.len(), 4, "20 verified + 20 complete in chunks of 15: {chunks:?}");
    let st = statuses(&t, "feature", "1");
    for (name, status) in &st {
        let i: usize = name.trim_start_matches('F').parse().unwrap();
        assert_eq!(status, if i <= 20 { "verified" } else { "complete" }, "{name}");
    }
    // History links every change to the evidence run.
    let h = t.json(&["history", "--batch", "1"]);
    assert_eq!(h["count"], 40);
    assert!(h["changes"].as_array().unwrap().iter().all(|c| c["evidence_run"] == run), "{h}");
    let per_change: std::collections::BTreeMap<i64, usize> = h["changes"].as_array().unwrap().iter().fold(Default::default(), |mut m, c| {
        *m.entry(c["change_id"].as_i64().unwrap()).or_default() += 1;
        m
    });
    assert!(per_change.values().all(|&n| n <= 15), "{per_change:?}");
    assert!(t.ok(&["verify", "1"]).contains("Batch 1: big/big.go  [done]"));

    // Batch 2 (the tests) depends on batch 1, which is now done.
    let v = t.json(&["verify", "2"]);
    assert!(v["stopped"].is_null(), "{v}");
    assert!(statuses(&t, "test", "2").iter().all(|(_, s)| s == "verified"));
}

#[test]
fn a_failing_test_demotes_a_verified_item() {
    let t = ported_project("verify-demote");
    set_results(&t, &[]);
    t.json(&["verify", "1"]);
    t.json(&["verify", "2"]);
    set_results(&t, &[3]);
    let (code, out, _) = t.run(&["verify", "2", "--json"]);
    assert_eq!(code, 1, "the test gate failed: {out}");
    let st = statuses(&t, "test", "2");
    assert_eq!(st.iter().find(|(n, _)| n == "TestF3").unwrap().1, "complete");
    assert_eq!(st.iter().filter(|(_, s)| s == "verified").count(), 19);
    let h = t.json(&["history", "--test", "TestF3"]);
    let last = h["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from_status"].as_str(), last["to_status"].as_str()), (Some("verified"), Some("complete")));
    assert!(last["reason"].as_str().unwrap().contains("regression: big::test_f3 failed"), "{last}");
    t.run(&["verify", "1"]);
    let f3 = t.json(&["feature", "show", "F3"]);
    assert_eq!(f3["status"], "complete");
}

#[test]
fn nothing_moves_when_a_gate_cannot_run() {
    let t = ported_project("verify-cannot-run");
    std::fs::write(
        t.join("porttrack.toml"),
        "[gate]\nbuild = [\"true\"]\ntest = [\"porttrack-no-such-runner\"]\nformat = \"libtest\"\n",
    )
    .unwrap();
    t.commit_all("a runner that is missing");
    let (code, out, _) = t.run(&["verify", "1", "--json"]);
    assert_eq!(code, 7, "{out}");
    assert!(statuses(&t, "feature", "1").iter().all(|(_, s)| s == "not_started"));
    assert_eq!(t.json(&["history"])["count"], 0);
    std::fs::write(t.join("porttrack.toml"), "[gate]\nbuild = [\"false\"]\n").unwrap();
    t.commit_all("a build that fails");
    let (code, out, _) = t.run(&["verify", "1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the build gate did not pass; nothing moves"), "{out}");
    assert_eq!(t.json(&["history"])["count"], 0);
}

#[test]
fn verify_stops_at_unfinished_dependencies_unless_overridden() {
    let t = ported_project("verify-deps");
    set_results(&t, &[]);
    let (code, out, _) = t.run(&["verify", "2"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("depends on unfinished work") && out.contains("--override"), "{out}");
    assert_eq!(t.json(&["evidence", "list"])["runs"].as_array().unwrap().len(), 0, "no gate may run");
    let v = t.json(&["verify", "2", "--override", "tests first"]);
    assert!(v["chunks"].as_array().unwrap().iter().all(|c| c["applied"] == true));
    assert_eq!(t.json(&["batch", "show", "2"])["overrides"].as_array().unwrap().len(), 2);
}

#[test]
fn dry_run_records_nothing() {
    let t = ported_project("verify-dry");
    set_results(&t, &[]);
    let v = t.json(&["verify", "1", "--dry-run"]);
    assert_eq!(v["decisions"].as_array().unwrap().len(), 40);
    assert!(v["chunks"].as_array().unwrap().is_empty());
    assert_eq!(t.json(&["history"])["count"], 0);
    assert_eq!(t.json(&["evidence", "list"])["runs"].as_array().unwrap().len(), 0);
    let conn = connect(&t.join("porting.db"));
    let n: i64 = conn.query_row("SELECT count(*) FROM gate_runs", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn gate_parse_detects_every_format_of_the_fixtures() {
    let t = TestDir::new("gate-parse");
    for (file, format, counts) in [
        ("libtest.txt", "libtest", (11, 3, 2)),
        ("libtest-nocapture.txt", "libtest", (11, 3, 2)),
        ("nextest-junit.xml", "nextest-junit", (9, 2, 0)),
        ("go-test.json", "go-json", (9, 3, 1)),
        ("results.trx", "trx", (4, 3, 1)),
        ("junit.xml", "junit", (5, 2, 1)),
    ] {
        let path = super::util::fixture(&format!("gate/{file}"));
        let v = t.json(&["gate", "parse", path.to_str().unwrap()]);
        assert_eq!(v["format"], format, "{file}");
        let c = &v["counts"];
        assert_eq!((c["passed"].as_u64(), c["failed"].as_u64(), c["skipped"].as_u64()), (Some(counts.0), Some(counts.1), Some(counts.2)), "{file}");
    }
    std::fs::write(t.join("nothing.txt"), "hello\n").unwrap();
    assert!(t.fails(&["gate", "parse", "nothing.txt"], 2).contains("--format"));
    t.fails(&["gate", "parse", "missing.txt"], 7);
}

#[test]
fn test_gate_reads_a_results_file_written_into_its_fresh_directory() {
    let t = TestDir::new("gate-results-file");
    t.ok(&["init", "--empty"]);
    std::fs::copy(super::util::fixture("gate/nextest-junit.xml"), t.join("junit-fixture.xml")).unwrap();
    // The committed command writes its JUnit file where porttrack says.
    fake_project(&t, "results = \"junit.xml\"\n");
    std::fs::write(
        t.join("porttrack.toml"),
        "[gate]\ntest = [\"sh\", \"-c\", \"cp junit-fixture.xml \\\"$PORTTRACK_RESULTS_DIR/junit.xml\\\"\"]\nresults = \"junit.xml\"\n",
    )
    .unwrap();
    t.commit_all("junit gate");
    let (code, v, _) = gate_test(&t, &["--format", "nextest-junit"]);
    assert_eq!(code, 1, "two tests failed in the fixture: {v}");
    assert_eq!(v["format"], "nextest-junit");
    assert_eq!(v["provenance"], "trusted", "{v}");
    // The fixture runs one name in two binaries: two results, as nextest
    // counted them.
    assert_eq!(v["counts"]["passed"], 9);
    assert_eq!(v["counts"]["failed"], 2);
    assert_eq!(v["failed_tests"], serde_json::json!(["ptfix tests::fails", "ptfix::api tests::shared_name"]));
    let shown = t.json(&["evidence", "show", &v["run_id"].to_string()]);
    assert_eq!(shown["results_source"], "results_dir");
    assert!(shown["results_path"].as_str().unwrap().contains("/.porttrack/runs/"), "{shown}");

    // A command that writes nothing there fails the gate.
    std::fs::write(t.join("porttrack.toml"), "[gate]\ntest = [\"true\"]\nresults = \"junit.xml\"\n").unwrap();
    t.commit_all("a gate that writes no results");
    let (code, v, _) = gate_test(&t, &[]);
    assert_eq!(code, 1);
    assert!(v["failures"].to_string().contains("wrote no results file"), "{v}");
}

#[test]
fn verify_records_declared_deferrals_and_not_applicable_items() {
    let t = project("verify-declared");
    std::fs::create_dir_all(t.join("go/p")).unwrap();
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("go/p/p.go"), "package p\n\nfunc A() int { return 1 }\n\nfunc (e *entry) returnToPool() {}\n").unwrap();
    std::fs::write(t.join("go/p/p_test.go"), "package p\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n\nfunc TestServer(t *testing.T) {\n\tt.Fatal(\"needs a server\")\n}\n").unwrap();
    std::fs::write(t.join("src/a.rs"), "/// Port of A\npub fn a() -> i32 {\n    1\n}\n").unwrap();
    t.ok(&["import", "go", "go/p"]);
    std::fs::write(
        t.join("map.tsv"),
        "feature\tp/p.go\tA\tsrc/a.rs\tp::a\t\n\
         n_a-feature\tp/p.go\tentry.returnToPool\t\t\tRust frees entries by ownership; there is no pool\n\
         test\tp/p_test.go\tTestA\tsrc/a.rs\tp::test_a\t\n\
         deferred-test\tp/p_test.go\tTestServer\t\t\tneeds the full server\n",
    )
    .unwrap();
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("port of p");
    outcomes(&t, &[("p::test_a", "ok")]);
    t.json(&["verify", "1"]);
    let pool = t.json(&["feature", "show", "entry.returnToPool"]);
    assert_eq!(pool["status"], "n_a");
    assert!(pool["history"][0]["reason"].as_str().unwrap().contains("no pool"), "{pool}");
    assert_eq!(t.json(&["feature", "show", "A"])["status"], "verified");
    t.json(&["verify", "2"]);
    let server = t.json(&["test", "show", "TestServer"]);
    assert_eq!(server["status"], "deferred");
    assert!(server["history"][0]["reason"].as_str().unwrap().contains("needs the full server"));
    assert_eq!(t.json(&["test", "show", "TestA"])["status"], "verified");
}

/// The real `cargo test` output where `tests::test_eq` is a test of two
/// packages' libraries: a bare mapping is ambiguous and is refused with the
/// candidates; one naming the binary is judged by that binary's test only.
#[test]
fn same_name_in_two_binaries_needs_the_binary_in_the_mapping() {
    let t = project("gate-identity");
    std::fs::create_dir_all(t.join("go/p")).unwrap();
    std::fs::write(t.join("go/p/p.go"), "package p\n\nfunc A() int { return 1 }\n").unwrap();
    std::fs::write(
        t.join("go/p/p_test.go"),
        "package p\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n\nfunc TestB(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n\nfunc TestC(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n",
    )
    .unwrap();
    t.ok(&["import", "go", "go/p"]);
    t.ok(&["map", "test", "TestA", "--rust", "tests::test_eq"]);
    t.ok(&["map", "test", "TestB", "--rust", "alpha tests::test_eq"]);
    t.ok(&["map", "test", "TestC", "--rust", "alpha::api test_eq"]);
    // The committed gate replays the real run's output (a run porttrack
    // trusts: committed configuration, clean tree).
    let fixture = super::util::fixture("gate/real/cargo-test-two-binaries.txt");
    std::fs::copy(&fixture, t.join("two-binaries.txt")).unwrap();
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\nbuild = [\"true\"]\ntest = [\"sh\", \"-c\", \"cat two-binaries.txt; exit 101\"]\nformat = \"libtest\"\n").unwrap();
    t.commit_all("a gate that replays the real output");
    let (code, v, _) = gate_test(&t, &["--batch", "2"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["provenance"], "trusted", "{v}");
    assert_eq!(v["counts"], serde_json::json!({"passed": 7, "failed": 1, "skipped": 2}));
    assert_eq!(v["failed_tests"], serde_json::json!(["alpha::api test_eq"]));
    let run = v["run_id"].as_i64().unwrap().to_string();
    let shown = t.json(&["evidence", "show", &run]);
    let results = shown["results"].as_array().unwrap();
    assert_eq!(results.len(), 10, "never merged: {shown}");
    assert_eq!((results[5]["container"].as_str(), results[5]["test_name"].as_str(), results[5]["outcome"].as_str()), (Some("alpha::api"), Some("test_eq"), Some("failed")));
    let human = t.ok(&["evidence", "show", &run]);
    assert!(human.contains("beta_pkg::api") && human.contains("alpha::bin/tool"), "{human}");

    // Outside `verify` only a passing gate proves anything; `verify` judges
    // this failing run test by test, each by its own identity.
    let (code, out, err) = t.run(&["verify", "2", "--json", "--override", "batch 1 is next"]);
    assert_eq!(code, 1, "the gate failed: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kept: Vec<String> = v["kept"].as_array().unwrap().iter().map(|k| format!("{} {}", k["name"].as_str().unwrap(), k["why"].as_str().unwrap())).collect();
    assert!(kept.iter().any(|k| k.starts_with("TestA") && k.contains("tests::test_eq is ambiguous: it names 2 tests (alpha tests::test_eq, beta_pkg tests::test_eq)")), "{kept:?}");
    assert!(kept.iter().any(|k| k.starts_with("TestC") && k.contains("failed")), "{kept:?}");
    assert_eq!(t.json(&["test", "show", "TestB"])["status"], "verified");
    assert_eq!(t.json(&["test", "show", "TestA"])["status"], "not_started");
    let run = t.json(&["test", "show", "TestB"])["evidence_run"].to_string();

    // The database refuses an ambiguous mapping by itself too.
    let conn = connect(&t.join("porting.db"));
    let id: i64 = conn.query_row("SELECT id FROM tests WHERE name = 'TestA'", [], |r| r.get(0)).unwrap();
    let e = conn.execute("UPDATE tests SET status = 'verified', evidence_run = ?1 WHERE id = ?2", rusqlite::params![run.parse::<i64>().unwrap(), id]).unwrap_err();
    assert!(e.to_string().contains("named unambiguously"), "{e}");
}

/// A `go test -json` run killed at the gate's timeout: the test that was
/// running is recorded as `timeout`, named in the output.
#[test]
fn a_go_test_running_at_the_gate_timeout_is_recorded_as_timeout() {
    let t = project("gate-go-timeout");
    let script = r#"echo '{"Action":"run","Package":"example.com/p","Test":"TestQuick"}'; echo '{"Action":"pass","Package":"example.com/p","Test":"TestQuick","Elapsed":0}'; echo '{"Action":"run","Package":"example.com/p","Test":"TestHangs"}'; sleep 60"#;
    let (code, v, err) = gate_test(&t, &["--format", "go-json", "--timeout", "2", "--", "sh", "-c", script]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["failed_tests"], serde_json::json!(["example.com/p TestHangs (timeout)"]));
    let failures = v["failures"].to_string();
    assert!(failures.contains("timed out after 2 s") && failures.contains("1 test(s) did not finish"), "{failures}");
    let shown = t.json(&["evidence", "show", &v["run_id"].to_string()]);
    let outcomes: Vec<&str> = shown["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["passed", "timeout"]);
    let human = t.ok(&["evidence", "show", &v["run_id"].to_string()]);
    assert!(human.contains("TestHangs") && human.contains("timeout"), "{human}");
}
