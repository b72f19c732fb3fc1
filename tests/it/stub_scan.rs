//! `porttrack stub scan`: every rule on its positive and negative fixture
//! (tests/fixtures/stub/<rule id>/), output formats, suppressions,
//! baselines, exit codes and the link to tracked features.

use std::path::Path;

use serde_json::Value;

use super::util::{connect, fixture, TestDir};

/// Rule id, positive fixture file, and the lines its findings must be on.
const CASES: &[(&str, &str, &[usize])] = &[
    ("rust/todo-macro", "positive.rs", &[5, 9]),
    ("rust/unimplemented-macro", "positive.rs", &[9]),
    ("rust/panic-placeholder", "positive.rs", &[4, 5, 6]),
    ("rust/default-body-todo", "positive.rs", &[4, 9, 14]),
    ("rust/ignore-without-reason", "positive.rs", &[4, 10]),
    ("rust/test-without-assertion", "positive.rs", &[9, 14, 21]),
    ("cs/not-implemented", "positive.cs", &[7, 10]),
    ("cs/trivial-assert", "positive.cs", &[9, 15]),
    ("cs/skip-without-reason", "positive.cs", &[5, 12]),
    ("cs/test-without-assertion", "positive.cs", &[5, 12, 20]),
    ("go/panic-placeholder", "positive.go", &[4, 8]),
    ("go/skip-without-reason", "positive_test.go", &[6, 13]),
    ("go/test-without-assertion", "positive_test.go", &[5, 9]),
    ("py/not-implemented", "positive.py", &[3, 6]),
    ("py/pass-body", "positive.py", &[1, 6]),
    ("py/test-without-assertion", "test_positive.py", &[4, 8]),
    ("ts/throw-not-implemented", "positive.ts", &[2, 7]),
    ("ts/test-without-assertion", "positive.test.ts", &[4, 8]),
    ("comment/todo", "positive.rs", &[3, 9, 14]),
    ("comment/todo-note", "positive.rs", &[2, 4, 9]),
    ("comment/placeholder", "positive.go", &[4, 9]),
    ("suppress/missing-reason", "positive.rs", &[3]),
];

/// A test directory holding a copy of one fixture directory (so the
/// repository's .porttrackignore does not apply and paths are short).
fn with_fixture(name: &str, rule: &str) -> TestDir {
    let t = TestDir::new(name);
    let dir = fixture(&format!("stub/{rule}"));
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("fixture entry").path();
        std::fs::copy(&path, t.path().join(path.file_name().expect("file name"))).expect("copy fixture");
    }
    t
}

/// Run a scan with --format json; return the exit code and the document.
fn scan_json(t: &TestDir, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["stub", "scan", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = t.run(&all);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}\nstderr: {err}"));
    assert_eq!(v["schema_version"], 1, "{v}");
    (code, v)
}

fn findings(v: &Value) -> Vec<(String, String, usize)> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| (f["path"].as_str().unwrap_or("").to_string(), f["rule"].as_str().unwrap_or("").to_string(), f["line"].as_u64().unwrap_or(0) as usize))
        .collect()
}

#[test]
fn every_rule_finds_its_positive_fixture_and_not_its_negative() {
    for &(rule, positive, lines) in CASES {
        let t = with_fixture("rule", rule);
        let (code, v) = scan_json(&t, &[positive]);
        assert_eq!(code, 1, "{rule}: findings exit 1: {v}");
        let got: Vec<(String, usize)> = findings(&v).into_iter().map(|(_, r, l)| (r, l)).collect();
        let want: Vec<(String, usize)> = lines.iter().map(|&l| (rule.to_string(), l)).collect();
        assert_eq!(got, want, "{rule} on {positive}");

        let negative = positive.replace("positive", "negative");
        let (code, v) = scan_json(&t, &[&negative]);
        assert_eq!((code, findings(&v)), (0, vec![]), "{rule} on {negative}");
    }
}

/// Copy a fixture tree (directories included) into the test directory.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let path = entry.expect("fixture entry").path();
        let dest = to.join(path.file_name().expect("file name"));
        if path.is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy fixture");
        }
    }
}

/// Issue 14: the false-positive shapes found on real trees (crates,
/// Python sdists, zod, Go) are not findings; each fixture file ends with a
/// planted hollow test or stub that still is.
#[test]
fn issue_14_false_positive_shapes_are_not_findings() {
    let t = TestDir::new("shapes");
    copy_tree(&fixture("stub/shapes"), t.path());
    let (code, v) = scan_json(&t, &["."]);
    assert_eq!(code, 1);
    let want = [
        ("comment/notes.go", "comment/todo", 13),
        ("comment/notes.go", "comment/todo", 18),
        ("comment/notes.py", "py/pass-body", 6),
        ("comment/notes.py", "comment/todo", 7),
        ("py/src/pkg/callbacks.py", "py/pass-body", 1),
        ("py/tests/test_shapes.py", "py/test-without-assertion", 56),
        ("rust/tests/shapes.rs", "rust/test-without-assertion", 101),
        ("rust/tests/shapes.rs", "rust/test-without-assertion", 127),
        ("rust/tests/shapes.rs", "rust/todo-macro", 129),
        ("ts/schema.test.ts", "ts/test-without-assertion", 28),
    ];
    let want: Vec<(String, String, usize)> = want.iter().map(|&(p, r, l)| (p.to_string(), r.to_string(), l)).collect();
    assert_eq!(findings(&v), want, "{v}");

    // The cross-file helper counts only within its project (the nearest
    // Cargo.toml): the same test beside another manifest is hollow.
    std::fs::create_dir_all(t.join("other/tests")).expect("mkdir");
    std::fs::write(t.join("other/Cargo.toml"), "[package]\nname = \"other\"\n").expect("write");
    std::fs::write(t.join("other/tests/t.rs"), "#[test]\nfn uses_foreign_helper() {\n    roundtrip(\"1\");\n}\n").expect("write");
    let (_, v) = scan_json(&t, &["other"]);
    assert_eq!(findings(&v), [("other/tests/t.rs".to_string(), "rust/test-without-assertion".to_string(), 1)], "{v}");
}

/// Issue 14, second round: what a reviewer of the precision corpus read as
/// deliberate (build probes, silenced lints, documented non-implementations,
/// cfg fallbacks, test code's failing match arms) or as checked (static
/// assertions and check macros defined elsewhere, asserting `Drop`s,
/// should_panic siblings, documented validators, benchmarks, stated
/// intent). The planted stubs beside them are still found.
#[test]
fn issue_14_reviewed_shapes_are_not_findings() {
    let t = TestDir::new("reviewed");
    copy_tree(&fixture("stub/reviewed"), t.path());
    let (code, v) = scan_json(&t, &["."]);
    assert_eq!(code, 1);
    let want = [
        ("comment/invariant.go", "comment/todo", 10),
        ("go/isatty_test.go", "go/test-without-assertion", 10),
        ("probe/src/nightly.rs", "rust/unimplemented-macro", 15),
        ("py/tests/test_reviewed.py", "py/test-without-assertion", 52),
        ("rust/src/lib.rs", "rust/todo-macro", 36),
        ("rust/src/lib.rs", "rust/todo-macro", 41),
        ("rust/src/lib.rs", "rust/unimplemented-macro", 48),
        ("rust/src/lib.rs", "rust/test-without-assertion", 168),
        ("rust/tests/reqs.rs", "rust/ignore-without-reason", 20),
        ("ts/refine.test.ts", "ts/test-without-assertion", 13),
        ("user/src/lib.rs", "rust/test-without-assertion", 6),
    ];
    let want: Vec<(String, String, usize)> = want.iter().map(|&(p, r, l)| (p.to_string(), r.to_string(), l)).collect();
    assert_eq!(findings(&v), want, "{v}");

    // An exported check macro counts in every crate of the scan; a
    // crate's own macro only in its project.
    std::fs::remove_dir_all(t.join("macros")).expect("rm macros");
    let (_, v) = scan_json(&t, &["user"]);
    let lines: Vec<usize> = findings(&v).into_iter().map(|(_, _, l)| l).collect();
    assert_eq!(lines, [1, 6], "without the macro's crate `baked` is hollow: {v}");
}

#[test]
fn todo_notes_are_opt_in_and_unknown_opt_ins_are_refused() {
    let t = with_fixture("todo-note", "comment/todo");
    let (code, v) = scan_json(&t, &["negative.rs"]);
    assert_eq!((code, findings(&v)), (0, vec![]), "a note is no finding by default");
    std::fs::write(t.join("porttrack.toml"), "[stub]\nenable = [\"comment/todo-note\"]\n").expect("write");
    let (_, v) = scan_json(&t, &["negative.rs"]);
    assert_eq!(findings(&v), [("negative.rs".to_string(), "comment/todo-note".to_string(), 11)]);
    std::fs::write(t.join("porttrack.toml"), "[stub]\nenable = [\"comment/todo\"]\n").expect("write");
    let err = t.fails(&["stub", "scan", "negative.rs"], 2);
    assert!(err.contains("`comment/todo`") && err.contains("comment/todo-note"), "{err}");
}

#[test]
fn unused_and_unknown_suppressions_are_findings() {
    let t = with_fixture("unused", "suppress/unused");
    let (code, v) = scan_json(&t, &["positive.py"]);
    assert_eq!(code, 1);
    let got: Vec<(String, usize)> = findings(&v).into_iter().map(|(_, r, l)| (r, l)).collect();
    assert_eq!(got, [("suppress/unused".to_string(), 2), ("suppress/unused".to_string(), 7), ("py/not-implemented".to_string(), 8)]);
    assert!(v["findings"][1]["message"].as_str().unwrap_or("").contains("unknown rule `py/no-such-rule`"), "{v}");
    let (code, v) = scan_json(&t, &["negative.py"]);
    assert_eq!((code, v["suppressed"].as_u64()), (0, Some(1)), "{v}");
}

#[test]
fn a_suppression_without_reason_still_suppresses() {
    let t = with_fixture("no-reason", "suppress/missing-reason");
    let (_, v) = scan_json(&t, &["positive.rs"]);
    assert_eq!(v["suppressed"], 1, "{v}");
    let (code, v) = scan_json(&t, &["negative.rs"]);
    assert_eq!((code, v["suppressed"].as_u64()), (0, Some(2)), "same-line and line-before forms: {v}");
}

#[test]
fn human_output_groups_by_file_and_counts() {
    let t = with_fixture("human", "rust/todo-macro");
    std::fs::copy(t.join("positive.rs"), t.join("again.rs")).expect("copy");
    let (code, out, _) = t.run(&["stub", "scan", "positive.rs", "again.rs", "negative.rs"]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "again.rs:5:5 rust/todo-macro `todo!()` left in code", "{out}");
    assert_eq!(lines[2], "", "a blank line between files: {out}");
    assert_eq!(lines[3], "positive.rs:5:5 rust/todo-macro `todo!()` left in code", "{out}");
    assert_eq!(lines.last().copied(), Some("4 findings in 2 files (3 files scanned)"), "{out}");
    let (code, out, _) = t.run(&["stub", "scan", "negative.rs"]);
    assert_eq!((code, out.as_str()), (0, "no stub findings in 1 file\n"));
}

#[test]
fn sarif_has_the_2_1_0_structure() {
    let t = with_fixture("sarif", "rust/panic-placeholder");
    let (code, out, err) = t.run(&["stub", "scan", "--format", "sarif", "positive.rs"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("SARIF is not JSON ({e}):\n{out}"));
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().is_some_and(|s| s.contains("sarif-2.1.0")), "{v}");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "porttrack");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    for (id, _, _) in CASES {
        assert!(ids.contains(id), "{id} missing from tool.driver.rules");
    }
    assert!(rules.iter().all(|r| r["shortDescription"]["text"].as_str().is_some_and(|d| !d.is_empty())), "every rule is described");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert_eq!(rules[r["ruleIndex"].as_u64().expect("ruleIndex") as usize]["id"], id);
        assert!(r["message"]["text"].as_str().is_some_and(|m| !m.is_empty()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "positive.rs");
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1) && loc["region"]["startColumn"].as_u64().is_some_and(|c| c >= 1), "{loc}");
    }
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startColumn"], 14);
}

#[test]
fn baseline_subtracts_old_findings_and_survives_line_shifts() {
    let t = with_fixture("baseline", "rust/todo-macro");
    let (code, _, err) = t.run(&["stub", "scan", "positive.rs", "--write-baseline", "base.json"]);
    assert_eq!(code, 0, "writing a baseline adopts every finding: {err}");
    let base: Value = serde_json::from_str(&std::fs::read_to_string(t.join("base.json")).expect("baseline written")).expect("baseline is JSON");
    assert_eq!(base["entries"].as_array().map(Vec::len), Some(2));
    assert!(base["entries"].as_array().into_iter().flatten().all(|e| e.get("line").is_none()), "no line numbers: {base}");

    // Shift every line and add one new placeholder.
    let old = std::fs::read_to_string(t.join("positive.rs")).expect("read");
    std::fs::write(t.join("positive.rs"), format!("// moved\n\n{old}\npub fn fresh() {{\n    todo!(\"new\")\n}}\n")).expect("write");
    let (code, v) = scan_json(&t, &["positive.rs", "--baseline", "base.json"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v), [("positive.rs".to_string(), "rust/todo-macro".to_string(), 15)]);
    assert_eq!(v["baselined"], 2);

    // Paths are relative to the scan root: the tree scanned from its
    // parent and from inside has one baseline.
    std::fs::create_dir_all(t.join("tree/src")).expect("mkdir");
    std::fs::write(t.join("tree/src/a.rs"), "fn a() { todo!() }\n").expect("write");
    t.ok(&["stub", "scan", "tree", "--write-baseline", "outer.json"]);
    let inner = t.join("tree");
    let out = assert_cmd::Command::cargo_bin("porttrack").expect("binary").current_dir(&inner).args(["stub", "scan", ".", "--baseline", "../outer.json"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let outer: Value = serde_json::from_str(&std::fs::read_to_string(t.join("outer.json")).expect("read")).expect("json");
    assert_eq!(outer["entries"][0]["path"], "src/a.rs");

    std::fs::write(t.join("bad.json"), "{}").expect("write");
    let err = t.fails(&["stub", "scan", "positive.rs", "--baseline", "bad.json"], 2);
    assert!(err.contains("not a porttrack baseline"), "{err}");
    t.fails(&["stub", "scan", "positive.rs", "--baseline", "missing.json"], 2);
}

#[test]
fn usage_errors_exit_2() {
    let t = TestDir::new("stub-usage");
    t.fails(&["stub", "scan", "--format", "xml"], 2);
    let err = t.fails(&["stub", "scan", "no/such/dir"], 2);
    assert!(err.contains("no/such/dir"), "{err}");
}

#[test]
fn default_roots_config_helpers_gitignore_binaries_and_symlinks() {
    let t = TestDir::new("stub-roots");
    let w = |rel: &str, text: &[u8]| {
        let p = t.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    w("porttrack.toml", b"target_roots = [\"lib\"]\n[stub]\nassertion_helpers = [\"expect_*\"]\n");
    w("lib/a.rs", b"fn a() { todo!() }\n#[test]\nfn t() { expect_ok(a()); }\n");
    w("lib/gen/b.rs", b"fn b() { todo!() }\n");
    w("lib/.gitignore", b"gen/\n");
    w("lib/blob.rs", b"todo!()\0binary");
    w("elsewhere/c.rs", b"fn c() { todo!() }\n");
    std::os::unix::fs::symlink(t.join("elsewhere"), t.join("lib/link")).expect("symlink");
    // .gitignore applies inside a git repository, as for git itself.
    std::fs::create_dir(t.join(".git")).expect("mkdir .git");
    let (code, v) = scan_json(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v), [("lib/a.rs".to_string(), "rust/todo-macro".to_string(), 1)], "{v}");
    assert_eq!(v["files_scanned"], 1, "binary, ignored and symlinked files are not scanned: {v}");
}

#[test]
fn findings_name_the_tracked_feature_and_no_database_is_created() {
    let t = TestDir::new("stub-feature");
    let src = "impl Raft {\n    fn other(&self) -> u8 {\n        todo!()\n    }\n\n    fn process_append_entry(&self) {\n        let s = \"}\";\n        unimplemented!()\n    }\n}\n";
    std::fs::create_dir_all(t.join("ported/src/raft")).expect("mkdir");
    std::fs::write(t.join("ported/src/raft/append.rs"), src).expect("write");

    let (_, v) = scan_json(&t, &["ported"]);
    assert!(!t.join("porting.db").exists(), "a scan never creates the database");
    assert!(v["findings"][1].get("feature").is_none(), "{v}");

    t.ok(&["init"]);
    let id: i64 = connect(&t.join("porting.db"))
        .query_row("SELECT id FROM features WHERE name = 'processAppendEntry'", [], |r| r.get(0))
        .expect("feature processAppendEntry");
    connect(&t.join("porting.db"))
        .execute("UPDATE features SET rust_file = 'ported/src/raft/append.rs', rust_symbol = 'raft::Raft::process_append_entry' WHERE id = ?1", [id])
        .expect("map feature");
    let (code, v) = scan_json(&t, &["ported"]);
    assert_eq!(code, 1);
    assert!(v["findings"][0].get("feature").is_none(), "todo!() in `other` is outside the target: {v}");
    assert_eq!(v["findings"][1]["rule"], "rust/unimplemented-macro");
    assert_eq!(v["findings"][1]["feature"]["id"], id);
    assert_eq!(v["findings"][1]["feature"]["go_name"], "raft.processAppendEntry");
    let out = t.run(&["stub", "scan", "ported"]).1;
    assert!(out.contains(&format!("[feature {id} raft.processAppendEntry]")), "{out}");

    let err = t.fails(&["stub", "scan", "ported", "--db", "missing.db"], 5);
    assert!(err.contains("missing.db"), "{err}");
}

#[test]
fn this_repository_scans_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::cargo_bin("porttrack").expect("binary").current_dir(root).env_remove("PORTTRACK_DB").args(["stub", "scan", "src", "tests"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "porttrack's own code has stub findings:\n{text}");
}

#[test]
fn completing_a_feature_with_a_stub_in_its_target_is_refused() {
    let t = TestDir::new("stub-update");
    t.ok(&["init"]);
    let conn = connect(&t.join("porting.db"));
    let (id, batch): (i64, i64) = conn
        .query_row("SELECT id, batch_id FROM features WHERE receiver = 'raft' AND name = 'processAppendEntry'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("feature raft.processAppendEntry");
    conn.execute("UPDATE features SET rust_file = 'ported/src/raft/append.rs', rust_symbol = 'raft::Raft::process_append_entry' WHERE id = ?1", [id]).expect("map");
    std::fs::create_dir_all(t.join("ported/src/raft")).expect("mkdir");
    std::fs::write(t.join("ported/src/raft/append.rs"), "impl Raft {\n    fn process_append_entry(&self) {\n        unimplemented!()\n    }\n}\n").expect("write");
    let args = ["batch", "update", &batch.to_string(), "--features", &id.to_string(), "--status", "complete", "--override", "batch 30 in parallel"].map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = t.run(&args);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("stub finding at ported/src/raft/append.rs:3 rust/unimplemented-macro"), "{out}");

    // A finding in another function of the same file blocks only that
    // function's feature.
    std::fs::write(
        t.join("ported/src/raft/append.rs"),
        "impl Raft {\n    fn process_append_entry(&self) -> u8 {\n        1\n    }\n\n    fn store_to_wal(&self) {\n        todo!()\n    }\n}\n",
    )
    .expect("write");
    let store: i64 = conn.query_row("SELECT id FROM features WHERE receiver = 'raft' AND name = 'storeToWAL'", [], |r| r.get(0)).expect("storeToWAL");
    conn.execute("UPDATE features SET rust_file = 'ported/src/raft/append.rs', rust_symbol = 'raft::Raft::store_to_wal' WHERE id = ?1", [store]).expect("map");
    t.ok(&args);
    assert_eq!(super::util::status_of(&conn, "features", id), "complete");
    let store_batch: i64 = conn.query_row("SELECT batch_id FROM features WHERE id = ?1", [store], |r| r.get(0)).expect("batch");
    let (code, out, _) = t.run(&["batch", "update", &store_batch.to_string(), "--features", &store.to_string(), "--status", "complete", "--override", "x"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("stub finding at ported/src/raft/append.rs:7 rust/todo-macro"), "{out}");
}
