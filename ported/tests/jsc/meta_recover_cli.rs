//! The `meta_recover` example as an operator runs it: output shape and
//! exit statuses on clean, damaged, unrecoverable and wrong input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::fixture;
use serde_json::Value;

/// The example binary next to this test binary, built when missing (a
/// `cargo test --test jsc` run does not build examples).
fn example_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let bin = profile_dir.join("examples").join(format!("meta_recover{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "ported", "--example", "meta_recover"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("cargo runs");
        assert!(st.success(), "building the example failed");
    }
    bin
}

fn run(args: &[&Path]) -> Output {
    Command::new(example_bin()).args(args).output().expect("example runs")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read dir") {
        let p = e.expect("entry").path();
        let dst = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &dst);
        } else {
            fs::copy(&p, &dst).expect("copy");
        }
    }
}

fn node_copy(tmp: &Path) -> PathBuf {
    let dir = tmp.join("n1");
    copy_dir(&fixture("real_cluster_wal").join("n1"), &dir);
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn prints_the_recovered_assignments_in_meta_snapshot_shape() {
    let o = run(&[&fixture("real_cluster_wal").join("n1")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let streams = v["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 5);
    for s in streams {
        let keys: Vec<&str> = s.as_object().expect("object").keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["account", "assignment", "consumers", "unsupported"]);
    }
    assert!(v["snapshot"]["file"].as_str().expect("snapshot").starts_with("snap.1."));
    assert_eq!(v["peer_state"]["cluster_size"], 3);
    assert!(v["replay"]["commit"].as_u64().expect("commit") > v["snapshot"]["last_index"].as_u64().expect("index"));
    assert_eq!(v["replay"]["repairs"], serde_json::json!([]));
}

#[test]
fn finds_the_meta_group_below_a_store_dir() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_dir(&fixture("real_cluster_wal").join("n2"), &tmp.path().join("jetstream").join("$SYS").join("_js_").join("_meta_"));
    let o = run(&[tmp.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&[&fixture("real_cluster_wal")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a meta group directory"), "{}", stderr(&o));
}

#[test]
fn damaged_wal_recovers_with_exit_3_and_says_what_was_lost() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = node_copy(tmp.path());
    let blk = dir.join("msgs").join("1.blk");
    let mut b = fs::read(&blk).expect("blk");
    let n = b.len();
    b[n - 100] ^= 0x55;
    fs::write(&blk, &b).expect("write");
    let o = run(&[&dir]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("msgs/1.blk: bad record at offset") && e.contains("invalid checksum") && e.contains("truncates"), "{e}");
    let v: Value = serde_json::from_slice(&o.stdout).expect("json still printed");
    assert!(v["streams"].as_array().is_some_and(|s| !s.is_empty()));
    let mut trunc = fs::read(&blk).expect("blk");
    trunc.truncate(n - 5);
    fs::write(&blk, &trunc).expect("write");
    assert_eq!(run(&[&dir]).status.code(), Some(3));
}

#[test]
fn unrecoverable_or_wrong_input_exits_1_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = node_copy(tmp.path());
    let snap = fs::read_dir(dir.join("snapshots")).expect("snapshots").next().expect("one").expect("entry").path();
    let mut s = fs::read(&snap).expect("snap");
    s[30] ^= 1;
    fs::write(&snap, &s).expect("write");
    let o = run(&[&dir]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("checksums did not match"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "nothing printed on failure");

    let dir = tmp.path().join("enc");
    copy_dir(&fixture("real_cluster_wal").join("n1"), &dir);
    fs::write(dir.join("meta.key"), b"k").expect("write");
    let o = run(&[&dir]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("encrypted"), "{}", stderr(&o));

    let o = run(&[&tmp.path().join("missing")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
}

#[test]
fn usage() {
    let o = Command::new(example_bin()).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("usage: meta_recover DIR"));
    let o = Command::new(example_bin()).arg("--help").output().expect("runs");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("exit status"));
    let o = Command::new(example_bin()).args(["a", "b"]).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
}
