//! Help text, exit codes, and how the database file is chosen and created.

use super::util::TestDir;

#[test]
fn help_lists_commands_and_exit_codes() {
    let t = TestDir::new("help");
    let out = t.ok(&["--help"]);
    for word in ["init", "import", "batch", "feature", "test", "report", "Exit codes:", "database busy"] {
        assert!(out.contains(word), "--help lacks {word}:\n{out}");
    }
}

#[test]
fn every_command_has_help_text() {
    let t = TestDir::new("every-help");
    let commands: &[&[&str]] = &[
        &["init"],
        &["import", "go"],
        &["batch", "show"],
        &["batch", "list"],
        &["feature", "show"],
        &["feature", "list"],
        &["test", "show"],
        &["test", "list"],
        &["report", "summary"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = t.ok(&args);
        assert!(out.lines().next().is_some_and(|l| l.len() > 10), "{cmd:?} has no description:\n{out}");
        assert!(out.contains("--db"), "{cmd:?} help lacks the global --db:\n{out}");
        assert!(out.contains("--json"), "{cmd:?} help lacks --json:\n{out}");
    }
}

#[test]
fn unknown_command_is_a_usage_error() {
    let t = TestDir::new("unknown-cmd");
    let err = t.fails(&["frobnicate"], 2);
    assert!(err.contains("frobnicate"), "{err}");
    assert!(!t.join("porting.db").exists(), "a usage error must not create the database");
}

#[test]
fn default_database_is_created_once_with_a_note() {
    let t = TestDir::new("default-db");
    let (code, out, err) = t.run(&["batch", "show", "33"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Batch 33: JS Cluster Streams"), "{out}");
    assert!(err.contains("created porting.db from the built-in plan"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    let (_, _, err2) = t.run(&["batch", "show", "33"]);
    assert!(err2.is_empty(), "second run must not create again: {err2}");
}

#[test]
fn explicit_missing_database_suggests_init() {
    let t = TestDir::new("explicit-missing");
    let err = t.fails(&["batch", "list", "--db", "nope.db"], 5);
    assert!(err.contains("nope.db") && err.contains("porttrack init --db nope.db"), "{err}");
    assert!(!t.join("nope.db").exists());
    // The environment variable counts as explicit too.
    let out = t.cmd().env("PORTTRACK_DB", "env.db").args(["batch", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("env.db"));
}

#[test]
fn database_from_environment_variable() {
    let t = TestDir::new("env-db");
    t.ok(&["init", "--db", "custom.db"]);
    let out = t.cmd().env("PORTTRACK_DB", "custom.db").args(["batch", "show", "33", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!t.join("porting.db").exists(), "the default file must not be touched");
}

#[test]
fn init_never_replaces_without_force() {
    let t = TestDir::new("init-force");
    t.ok(&["init", "--empty"]);
    let before = super::util::snapshot(&t.join("porting.db"));
    let err = t.fails(&["init"], 5);
    assert!(err.contains("porting.db") && err.contains("--force"), "{err}");
    assert_eq!(before, super::util::snapshot(&t.join("porting.db")), "refused init changed the file");
    let v = t.json(&["report", "summary"]);
    assert_eq!(v["overall"]["total"], 0);
    t.ok(&["init", "--force"]);
    let v = t.json(&["report", "summary"]);
    assert_eq!(v["overall"]["total"], 6942);
}

#[test]
fn init_reports_what_it_loaded() {
    let t = TestDir::new("init-json");
    let v = t.json(&["init"]);
    assert_eq!(v["modules_added"], 12);
    assert_eq!(v["features_added"], 3673);
    assert_eq!(v["tests_added"], 3257);
    assert_eq!(v["batches_added"], 253);
    assert_eq!(v["empty"], false);
}

#[test]
fn closed_stdout_is_not_an_error() {
    use std::process::{Command, Stdio};
    let t = TestDir::new("broken-pipe");
    t.ok(&["init"]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("porttrack"))
        .current_dir(t.path())
        .args(["feature", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
}
