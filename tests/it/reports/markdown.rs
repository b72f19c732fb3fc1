//! `report markdown` of the fixture, checked against committed files
//! (`tests/fixtures/report/*.md`). To accept a deliberate change of the
//! output, run the test with PORTTRACK_BLESS=1 and review the diff.

use std::process::Command;

use super::fixture::Fixture;
use crate::it::util::{fixture, TestDir};

fn check_expected(name: &str, got: &str) {
    let path = fixture(&format!("report/{name}"));
    if std::env::var_os("PORTTRACK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, got).expect("bless");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(got, want, "report markdown differs from {}", path.display());
}

#[test]
fn markdown_since_an_evidence_run_matches_the_expected_file() {
    let t = TestDir::new("md-run");
    let f = Fixture::new(&t);
    let out = t.ok(&["report", "markdown", "--db", f.db_arg(), "--since", "run:1"]);
    check_expected("markdown_since_run1.md", &out);
    let v = t.json(&["report", "markdown", "--db", f.db_arg(), "--since", "run:1"]);
    assert_eq!((v["moved_total"].as_u64(), v["net"]["done"].as_i64(), v["net"]["verified"].as_i64()), (Some(12), Some(8), Some(3)));
    assert_eq!(v["regressions"][0]["name"], "alpha3");
    assert_eq!(v["stale"][0]["name"], "alpha1");
}

#[test]
fn markdown_of_one_batch_without_since_matches_the_expected_file() {
    let t = TestDir::new("md-batch");
    let f = Fixture::new(&t);
    let out = t.ok(&["report", "markdown", "--db", f.db_arg(), "--batch", "1"]);
    check_expected("markdown_batch1.md", &out);
}

/// `--since` a git revision counts the changes after its commit time.
#[test]
fn markdown_since_a_git_commit() {
    let t = TestDir::new("md-git");
    let f = Fixture::new(&t);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(t.path())
            .env("GIT_AUTHOR_DATE", "2026-11-16T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-16T00:00:00Z")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "base"]);
    let v = t.json(&["report", "markdown", "--db", f.db_arg(), "--since", "HEAD"]);
    assert!(v["since"]["resolved"].as_str().unwrap().starts_with("commit "), "{v}");
    assert_eq!(v["since"]["at"], "2026-11-16T00:00:00.000Z");
    // After 11-16: f11 stub, f12/f6/f7/f8/f9/f13 complete, f2 and f3 back.
    assert_eq!((v["moved_total"].as_u64(), v["net"]["done"].as_i64(), v["net"]["verified"].as_i64()), (Some(9), Some(5), Some(-1)));
    let names: Vec<&str> = v["regressions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alpha2", "alpha3"]);
    let err = t.fails(&["report", "markdown", "--db", f.db_arg(), "--since", "no-such-branch"], 2);
    assert!(err.contains("no-such-branch"), "{err}");
    let err = t.fails(&["report", "markdown", "--db", f.db_arg(), "--since", "run:77"], 3);
    assert!(err.contains("77"), "{err}");
    let err = t.fails(&["report", "markdown", "--db", f.db_arg(), "--since", "run:x"], 2);
    assert!(err.contains("run:x"), "{err}");
}
