//! Issue 15: one porting.db for many agents on many worktrees, merged by
//! git through `porttrack db merge` (the merge driver), with conflicts
//! listed by `porttrack conflicts` and settled by `batch update`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::{git_in, TestDir};

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("porttrack")
}

/// Run git in `dir` like `git_in`, but return (exit code, stdout + stderr)
/// instead of failing (a merge may stop on a conflict).
fn git_status(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "porttrack test")
        .env("GIT_AUTHOR_EMAIL", "test@porttrack.invalid")
        .env("GIT_COMMITTER_NAME", "porttrack test")
        .env("GIT_COMMITTER_EMAIL", "test@porttrack.invalid")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("PORTTRACK_DB")
        .output()
        .expect("run git");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `porttrack --db DB ARGS…` from the test directory.
fn pt(t: &TestDir, db: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    t.run(&all)
}

fn pt_ok(t: &TestDir, db: &Path, args: &[&str]) -> String {
    let (code, out, err) = pt(t, db, args);
    assert_eq!(code, 0, "porttrack --db {} {args:?} exited {code}\n{out}\n{err}", db.display());
    out
}

fn pt_json(t: &TestDir, db: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&pt_ok(t, db, &all)).expect("JSON")
}

/// A repository at `t/repo` holding the built-in plan's porting.db with the
/// merge driver installed; returns (repo, batch 33's feature IDs, test IDs).
fn repo_with_driver(t: &TestDir) -> (PathBuf, Vec<i64>, Vec<i64>) {
    let repo = t.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git_in(&repo, &["init", "-q", "-b", "main"]);
    let db = repo.join("porting.db");
    pt_ok(t, &db, &["init"]);
    pt_ok(t, &db, &["db", "install-merge-driver", "--program", bin().to_str().unwrap()]);
    pt_ok(t, &db, &["db", "checkpoint"]);
    git_in(&repo, &["add", "porting.db", ".gitattributes"]);
    git_in(&repo, &["commit", "-q", "-m", "plan"]);
    let batch = pt_json(t, &db, &["batch", "show", "33"]);
    let ids = |k: &str| batch[k]["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>();
    (repo, ids("features"), ids("tests"))
}

fn worktree(repo: &Path, t: &TestDir, branch: &str) -> PathBuf {
    let dir = t.join(branch);
    git_in(repo, &["worktree", "add", "-q", "-b", branch, dir.to_str().unwrap()]);
    dir
}

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Commit the worktree's database (its WAL folded in first).
fn commit_db(t: &TestDir, dir: &Path, message: &str) {
    pt_ok(t, &dir.join("porting.db"), &["db", "checkpoint"]);
    git_in(dir, &["commit", "-q", "-am", message]);
}

fn change_lines(t: &TestDir, db: &Path) -> BTreeSet<String> {
    pt_ok(t, db, &["db", "dump"]).lines().filter(|l| l.starts_with("change ")).map(str::to_string).collect()
}

fn statuses(t: &TestDir, db: &Path) -> BTreeMap<String, String> {
    pt_ok(t, db, &["db", "dump"])
        .lines()
        .filter_map(|l| l.strip_prefix("item "))
        .map(|l| {
            let mut w = l.split(' ');
            let key = format!("{} {}", w.next().unwrap(), w.next().unwrap());
            (key, w.next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn issue15_two_worktrees_merge_through_the_driver() {
    let t = TestDir::new("merge-two-worktrees");
    let (repo, features, tests) = repo_with_driver(&t);
    let attributes = std::fs::read_to_string(repo.join(".gitattributes")).unwrap();
    assert!(attributes.contains("/porting.db merge=porttrack diff=porttrack"), "{attributes}");
    let (a, b) = (worktree(&repo, &t, "agent-a"), worktree(&repo, &t, "agent-b"));

    // Agent A moves 15 features; agent B defers 10 tests and moves 5 other features.
    pt_ok(&t, &a.join("porting.db"), &["batch", "update", "33", "--features", &list(&features[..15]), "--status", "stub", "--actor", "agent-a"]);
    commit_db(&t, &a, "A: 15 features stubbed");
    pt_ok(&t, &b.join("porting.db"), &["batch", "update", "33", "--tests", &list(&tests[..10]), "--status", "deferred", "--reason", "needs the full server", "--actor", "agent-b"]);
    pt_ok(&t, &b.join("porting.db"), &["batch", "update", "33", "--features", &list(&features[20..25]), "--status", "stub", "--actor", "agent-b"]);
    commit_db(&t, &b, "B: 10 tests deferred, 5 features stubbed");
    let expected: BTreeSet<String> = change_lines(&t, &a.join("porting.db")).union(&change_lines(&t, &b.join("porting.db"))).cloned().collect();
    assert_eq!(expected.len(), 30);

    git_in(&repo, &["merge", "-q", "agent-a"]);
    let (code, out) = git_status(&repo, &["merge", "--no-edit", "agent-b"]);
    assert_eq!(code, 0, "git merge with the driver: {out}");
    let merged = repo.join("porting.db");
    assert_eq!(change_lines(&t, &merged), expected, "the merge is both histories replayed");
    let s = statuses(&t, &merged);
    for f in features[..15].iter().chain(&features[20..25]) {
        assert_eq!(s[&format!("feature {f}")], "stub");
    }
    for id in &tests[..10] {
        assert_eq!(s[&format!("test {id}")], "deferred");
    }
    assert_eq!(s.len(), 30, "nothing else moved: {s:?}");
    pt_ok(&t, &merged, &["audit"]);
    assert_eq!(pt_json(&t, &merged, &["conflicts"])["count"], 0);
    // The committed merge is what the driver wrote: the working tree is clean.
    assert_eq!(git_in(&repo, &["status", "--porcelain", "--untracked-files=no"]).trim(), "");
}

#[test]
fn issue15_a_true_conflict_is_reported_listed_and_settled() {
    let t = TestDir::new("merge-conflict");
    let (repo, features, _) = repo_with_driver(&t);
    let (a, b) = (worktree(&repo, &t, "agent-a"), worktree(&repo, &t, "agent-b"));
    let f = features[3].to_string();
    let other = features[4].to_string();
    pt_ok(&t, &a.join("porting.db"), &["batch", "update", "33", "--features", &f, "--status", "stub", "--actor", "agent-a"]);
    commit_db(&t, &a, "A: stub");
    pt_ok(&t, &b.join("porting.db"), &["batch", "update", "33", "--features", &format!("{f},{other}"), "--status", "deferred", "--reason", "later", "--actor", "agent-b"]);
    commit_db(&t, &b, "B: deferred");

    git_in(&repo, &["merge", "-q", "agent-a"]);
    let (code, out) = git_status(&repo, &["merge", "--no-edit", "agent-b"]);
    assert_ne!(code, 0, "git must report the conflict: {out}");
    assert!(out.contains("CONFLICT") && out.contains("porting.db"), "{out}");
    let db = repo.join("porting.db");
    let c = pt_json(&t, &db, &["conflicts"]);
    assert_eq!(c["count"], 1, "{c}");
    let conflict = &c["conflicts"][0];
    assert_eq!(conflict["item_id"].to_string(), f);
    assert_eq!(conflict["status"], "stub", "the less advanced claim (stub < deferred)");
    let claims: BTreeSet<String> = conflict["claims"].as_array().unwrap().iter().map(|k| format!("{} {}", k["actor"].as_str().unwrap(), k["status"].as_str().unwrap())).collect();
    assert_eq!(claims, ["agent-a stub", "agent-b deferred"].map(String::from).into());
    assert_eq!(t.run(&["--db", db.to_str().unwrap(), "conflicts", "--check"]).0, 1);
    // Both changes are kept; the other feature merged cleanly.
    let s = statuses(&t, &db);
    assert_eq!(s[&format!("feature {other}")], "deferred");
    let history = pt_json(&t, &db, &["history", "--feature", &f]);
    assert_eq!(history["count"], 3, "ours, theirs and the merge's settling change: {history}");
    let audit = pt_ok(&t, &db, &["audit"]);
    assert!(audit.contains("merge conflict"), "audit warns of the open conflict: {audit}");

    // Settled as a normal change (here: to the status it already has).
    pt_ok(&t, &db, &["batch", "update", "33", "--features", &f, "--status", "stub"]);
    assert_eq!(pt_json(&t, &db, &["conflicts"])["count"], 0);
    pt_ok(&t, &db, &["audit"]);
    pt_ok(&t, &db, &["db", "checkpoint"]);
    git_in(&repo, &["add", "porting.db"]);
    git_in(&repo, &["commit", "-q", "--no-edit"]);
}

#[test]
fn issue15_merge_refuses_copies_that_do_not_share_base() {
    let t = TestDir::new("merge-unrelated");
    t.ok(&["init", "--db", "a.db"]);
    t.ok(&["init", "--db", "b.db"]);
    let f = t.json(&["--db", "a.db", "feature", "show", "monitorCluster"])["id"].as_i64().unwrap().to_string();
    t.ok(&["--db", "a.db", "batch", "update", "33", "--features", &f, "--status", "stub"]);
    t.ok(&["--db", "b.db", "batch", "update", "33", "--features", &f, "--status", "stub"]);
    let before = std::fs::read(t.join("b.db")).unwrap();
    let err = t.fails(&["db", "merge", "a.db", "b.db", "a.db", "-o", "out.db"], 5);
    assert!(err.contains("OURS does not descend from BASE"), "{err}");
    assert!(!t.join("out.db").exists());
    assert_eq!(std::fs::read(t.join("b.db")).unwrap(), before, "inputs are never written");
    let err = t.fails(&["db", "merge", "a.db", "missing.db", "a.db"], 5);
    assert!(err.contains("missing.db"), "{err}");
}

#[test]
fn issue15_dump_since_and_diff() {
    let t = TestDir::new("merge-dump");
    let (repo, features, _) = repo_with_driver(&t);
    let db = repo.join("porting.db");
    let f = features[0].to_string();
    assert_eq!(pt_ok(&t, &db, &["db", "dump", "--since", "HEAD"]), "# porttrack db dump --since HEAD\n");
    pt_ok(&t, &db, &["batch", "update", "33", "--features", &f, "--status", "n_a", "--reason", "line one\nline two"]);
    let since = pt_ok(&t, &db, &["db", "dump", "--since", "HEAD"]);
    let lines: Vec<&str> = since.lines().collect();
    assert_eq!(lines.len(), 3, "{since}");
    assert!(lines[1].starts_with("change ") && lines[1].contains(&format!("feature {f} not_started -> n_a")) && lines[1].contains("reason=\"line one\\nline two\""), "{since}");
    assert_eq!(lines[2], format!("item feature {f} n_a"));
    // Stable: the same database dumps the same text.
    assert_eq!(pt_ok(&t, &db, &["db", "dump"]), pt_ok(&t, &db, &["db", "dump"]));
    let err = t.fails(&["--db", db.to_str().unwrap(), "db", "dump", "--since", "no-such-ref"], 3);
    assert!(err.contains("no-such-ref"), "{err}");

    let old = t.join("old.db");
    std::fs::write(&old, Command::new("git").current_dir(&repo).args(["cat-file", "blob", "HEAD:porting.db"]).output().unwrap().stdout).unwrap();
    let (code, out, _) = t.run(&["db", "diff", old.to_str().unwrap(), db.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["items"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["items"][0]["a"]["status"], "not_started");
    assert_eq!(d["items"][0]["b"]["status"], "n_a");
    assert_eq!(d["changes_only_in_b"].as_array().unwrap().len(), 1);
    let (code, out, _) = t.run(&["db", "diff", db.to_str().unwrap(), db.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    // git diff shows the text form through the installed textconv (of the
    // file, so the WAL is folded in first).
    pt_ok(&t, &db, &["db", "checkpoint"]);
    let (_, shown) = git_status(&repo, &["diff", "--", "porting.db"]);
    assert!(shown.contains(&format!("+item feature {f} n_a")), "{shown}");
}

/// Evidence travels with the changes it proves: each side verified a
/// different batch from its own trusted runs; the merge holds both runs
/// (renumbered, re-chained) and both batches stay verified and audit.
#[test]
fn issue15_verified_items_merge_with_their_evidence() {
    use super::util::{fake_project, outcomes};
    let t = TestDir::new("merge-evidence");
    let copies = TestDir::new("merge-evidence-copies");
    t.ok(&["init", "--empty"]);
    std::fs::create_dir_all(t.join("go/p")).unwrap();
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("go/p/p.go"), "package p\n\nfunc A() int { return 1 }\n").unwrap();
    std::fs::write(t.join("go/p/p_test.go"), "package p\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tif A() != 1 {\n\t\tt.Fatal(\"A\")\n\t}\n}\n").unwrap();
    std::fs::write(t.join("src/port.rs"), "/// Port of A\npub fn a() -> i32 {\n    1\n}\n").unwrap();
    fake_project(&t, "");
    t.ok(&["import", "go", "go/p"]);
    std::fs::write(t.join("map.tsv"), "feature\tp/p.go\tA\tsrc/port.rs\tport::a\t\ntest\tp/p_test.go\tTestA\tsrc/port.rs\tport::test_a\t\n").unwrap();
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("port of p");
    outcomes(&t, &[("port::test_a", "ok")]);
    let batches: Vec<i64> = t.json(&["batch", "list"])["batches"].as_array().unwrap().iter().map(|b| b["number"].as_i64().unwrap()).collect();
    assert!(batches.len() >= 2, "{batches:?}");
    let db = t.join("porting.db");
    let keep = |name: &str| {
        t.ok(&["db", "checkpoint"]);
        std::fs::copy(&db, copies.join(name)).unwrap();
    };
    let restore = |name: &str| {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(t.join(&format!("porting.db{suffix}")));
        }
        std::fs::copy(copies.join(name), &db).unwrap();
    };
    keep("base.db");
    // The test batch on one side, the feature batch (which needs the test) on the other.
    let test_batch = t.json(&["test", "show", "TestA"])["batch"]["number"].as_i64().unwrap();
    let feature_batch = t.json(&["feature", "show", "A"])["batch"]["number"].as_i64().unwrap();
    t.json(&["verify", &test_batch.to_string(), "--override", "the features land on the other branch"]);
    keep("ours.db");
    restore("base.db");
    t.json(&["verify", &feature_batch.to_string()]);
    keep("theirs.db");
    let (b, o, th, m) = (copies.join("base.db"), copies.join("ours.db"), copies.join("theirs.db"), copies.join("merged.db"));
    let out = t.ok(&["db", "merge", b.to_str().unwrap(), o.to_str().unwrap(), th.to_str().unwrap(), "-o", m.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["runs_added"].as_u64().is_some_and(|n| n >= 1), "{v}");
    let dump = pt_ok(&t, &m, &["db", "dump"]);
    let runs = |p: &Path| pt_ok(&t, p, &["db", "dump"]).lines().filter(|l| l.starts_with("run ")).map(str::to_string).collect::<BTreeSet<_>>();
    let both: BTreeSet<String> = runs(&o).union(&runs(&th)).cloned().collect();
    assert_eq!(runs(&m), both, "every run of both sides, once");
    assert_eq!(pt_json(&t, &m, &["test", "show", "TestA"])["status"], "verified", "{dump}");
    assert_eq!(pt_json(&t, &m, &["feature", "show", "A"])["status"], "verified", "{dump}");
    pt_ok(&t, &m, &["audit"]);
}

/// A mapping THEIRS changed where OURS kept BASE's is taken; one both
/// changed keeps OURS's and is reported.
#[test]
fn issue15_mapping_edits_merge_three_ways() {
    let t = TestDir::new("merge-mappings");
    t.ok(&["init", "--db", "base.db"]);
    t.ok(&["--db", "base.db", "db", "checkpoint"]);
    for side in ["ours.db", "theirs.db"] {
        std::fs::copy(t.join("base.db"), t.join(side)).unwrap();
    }
    t.ok(&["--db", "theirs.db", "map", "test", "TestNRGSimple", "--target", "batch33::renamed_simple"]);
    t.ok(&["--db", "theirs.db", "map", "test", "TestNRGSimpleElection", "--target", "batch33::theirs_election"]);
    t.ok(&["--db", "ours.db", "map", "test", "TestNRGSimpleElection", "--target", "batch33::ours_election"]);
    let v = t.json(&["db", "merge", "base.db", "ours.db", "theirs.db", "-o", "merged.db"]);
    assert_eq!(v["mappings_taken"], 1, "{v}");
    assert_eq!(v["mapping_conflicts"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(t.json(&["--db", "merged.db", "test", "show", "TestNRGSimple"])["rust_symbol"], "batch33::renamed_simple");
    assert_eq!(t.json(&["--db", "merged.db", "test", "show", "TestNRGSimpleElection"])["rust_symbol"], "batch33::ours_election");
    t.ok(&["--db", "merged.db", "audit"]);
}
