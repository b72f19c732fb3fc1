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
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a regular file"), "{}", String::from_utf8_lossy(&out.stderr));
}
