//! Inputs meant to hurt: lists that would expand to millions of IDs,
//! environment numbers out of range, a database path that is a FIFO, and
//! control characters in data that human output must not pass through.

use std::time::Instant;

use super::util::{snapshot, TestDir};

#[test]
fn three_thousand_repeated_ranges_are_refused_naming_the_value() {
    let t = TestDir::new("hostile-ranges");
    t.ok(&["init"]);
    let before = snapshot(&t.join("porting.db"));
    let list = vec!["1-3783"; 3000].join(",");
    let started = Instant::now();
    let err = t.fails(&["batch", "update", "33", "--features", &list, "--status", "stub"], 2);
    // Printed for the record (a benchmark's job, never asserted on).
    eprintln!("3,000 repeated ranges refused in {:?}", started.elapsed());
    assert!(err.contains("--features: '1-3783,1-3783,") && err.contains("has 3000 entries"), "{err}");
    let err = t.fails(&["batch", "update", "33", "--features", &vec!["1-3783"; 50].join(","), "--status", "stub"], 2);
    assert!(err.contains("names 189150 IDs"), "{err}");
    let err = t.fails(&["batch", "update", "33", "--features", "1-3783,1-3783", "--status", "stub"], 2);
    assert!(err.contains("ID 1 is listed more than once ('1-3783' and '1-3783')"), "{err}");
    assert!(snapshot(&t.join("porting.db")) == before, "nothing written");
}

#[test]
fn an_out_of_range_busy_timeout_is_a_usage_error_not_a_panic() {
    let t = TestDir::new("hostile-busy-env");
    t.ok(&["init", "--empty"]);
    for bad in ["2147483648", "-1", "99999999999999999999", "1e3"] {
        let (code, _, err) = t.cmd().args(["report", "summary"]).env("PORTTRACK_BUSY_TIMEOUT_MS", bad).output().map(|o| (o.status.code(), o.stdout, String::from_utf8_lossy(&o.stderr).into_owned())).unwrap();
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(err.contains(&format!("PORTTRACK_BUSY_TIMEOUT_MS={bad}")), "{bad}: {err}");
    }
    let out = t.cmd().args(["report", "summary"]).env("PORTTRACK_BUSY_TIMEOUT_MS", "2147483647").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_fifo_as_the_database_is_refused_without_hanging() {
    let t = TestDir::new("hostile-fifo");
    let fifo = t.join("porting.db");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let mut cmd = t.cmd();
    cmd.args(["--db", fifo.to_str().unwrap(), "report", "summary"]).timeout(std::time::Duration::from_secs(20));
    let out = cmd.output().expect("porttrack ends");
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a FIFO, not a database file"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn history_escapes_a_reason_that_would_forge_lines() {
    let t = TestDir::new("hostile-history");
    t.ok(&["init"]);
    let forged = "needs a server\n2026-12-02 verified feature 1 by admin\x1b[2K\r";
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "deferred", "--reason", forged]);
    let out = t.ok(&["history", "--test", "TestNRGSimple"]);
    assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
    assert!(out.contains("needs a server\\n2026-12-02 verified feature 1 by admin\\e[2K\\r"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("2026-12-02 verified")), "a forged line: {out}");
    // JSON carries the real text.
    let v = t.json(&["history", "--test", "TestNRGSimple"]);
    assert_eq!(v["changes"][0]["reason"], forged);
    let shown = t.ok(&["test", "show", "TestNRGSimple"]);
    assert!(!shown.contains('\x1b'), "{shown:?}");
}

#[test]
fn stub_scan_escapes_file_names_and_json_keeps_their_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let t = TestDir::new("hostile-stub-names");
    std::fs::create_dir_all(t.join("src")).unwrap();
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n").unwrap();
    std::fs::write(t.join("src/evil\nname.rs"), "fn f() {\n    todo!()\n}\n").unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"src/bad\xffname.rs");
    std::fs::write(t.path().join(raw), "fn g() {\n    todo!()\n}\n").unwrap();
    let (code, out, _) = t.run(&["stub", "scan"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("src/evil\\nname.rs:2:5 rust/todo-macro"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("name.rs")), "the name split a line: {out}");
    let (_, json, _) = t.run(&["stub", "scan", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bad = v["findings"].as_array().unwrap().iter().find(|f| f["path"].as_str().unwrap().contains("bad")).expect("finding in the non-UTF-8 file").clone();
    assert_eq!(bad["path"], "src/bad\u{fffd}name.rs");
    let bytes: Vec<u8> = bad["path_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
    assert_eq!(bytes, b"src/bad\xffname.rs");
    let good = v["findings"].as_array().unwrap().iter().find(|f| f["path"].as_str().unwrap().contains("evil")).unwrap().clone();
    assert!(good.get("path_bytes").is_none(), "{good}");
}

#[test]
fn gate_and_evidence_output_escape_what_the_command_printed() {
    let t = TestDir::new("hostile-gate-output");
    std::fs::write(t.join("porttrack.toml"), "[gate]\nformat = \"libtest\"\ntimeout_secs = 60\n").unwrap();
    t.ok(&["init", "--empty"]);
    let script = "printf 'running 1 test\\ntest evil\\033[2Kname ... FAILED\\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\\n'; exit 101";
    let (code, out, _) = t.run(&["gate", "test", "--", "sh", "-c", script]);
    assert_eq!(code, 1);
    assert!(!out.contains('\x1b'), "{out:?}");
    let (_, json, _) = t.run(&["gate", "test", "--json", "--", "sh", "-c", script]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let run = v["run_id"].to_string();
    let shown = t.ok(&["evidence", "show", &run]);
    assert!(!shown.contains('\x1b'), "{shown:?}");
}

#[test]
fn json_errors_are_one_object_with_the_exit_code_unchanged() {
    let t = TestDir::new("hostile-json-errors");
    t.ok(&["init", "--empty"]);
    for (args, code, kind) in [
        (vec!["feature", "show", "noSuchThing", "--json"], 3, "not_found"),
        (vec!["batch", "update", "1", "--features", "9-3", "--status", "stub", "--json"], 2, "usage"),
        (vec!["--db", "missing.db", "report", "summary", "--json"], 5, "database"),
        (vec!["batch", "show", "--json", "--no-such-flag"], 2, "usage"),
    ] {
        let (got, out, _) = t.run(&args);
        assert_eq!(got, code, "{args:?}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"));
        assert_eq!(v["schema_version"], 1, "{v}");
        assert_eq!(v["error"]["kind"], kind, "{args:?}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{v}");
    }
}
