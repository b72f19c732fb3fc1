//! Stream recovery from real nats-server 2.9.10 store directories left by a
//! SIGKILL (`tests/fixtures/real_cluster_streams/`, made by
//! `ported/tools/real_cluster/run.sh --streams`): `stream_recover` on each
//! server's copy of the R3 file stream's raft group, and on the R1 file
//! stream's store, against the stream info the servers reported before the
//! kill and the messages the client published; then bad input, and every
//! flipped byte and truncation of a real stream WAL block.

use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{fixture, fixture_json};
use ported::filestore::StoreFiles;
use ported::raft_log::RaftDirFiles;
use ported::stream_recover::{recover_stream, stream_spec_from_json, RecoveredMsg, StreamRecovery, StreamSpec};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const DIR: &str = "real_cluster_streams";
const NODES: [&str; 3] = ["n1", "n2", "n3"];

/// The example binary next to this test binary, built (once per run, so a
/// stale binary is never tested: `cargo test` does not build examples).
fn example_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary");
            let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-q", "-p", "ported", "--example", "stream_recover"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let st = cmd.status().expect("cargo runs");
            assert!(st.success(), "building the example failed");
            profile_dir.join("examples").join(format!("stream_recover{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(example_bin()).args(args).output().expect("example runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json: {e}; stderr: {}", stderr(o)))
}

fn jetstream(node: &str) -> PathBuf {
    fixture(DIR).join(node).join("jetstream")
}

/// The raft group directories of `node` whose names start with `prefix`.
fn group_dir(node: &str, prefix: &str) -> PathBuf {
    let sys = jetstream(node).join("SYS").join("_js_");
    let mut found: Vec<PathBuf> = fs::read_dir(&sys)
        .expect("_js_")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    assert_eq!(found.len(), 1, "{node}: one {prefix}* group");
    found.remove(0)
}

fn reported(stream: &str) -> Value {
    let infos = fixture_json(DIR, "stream_info.json");
    infos.as_array().expect("list").iter().find(|s| s["config"]["name"] == stream).expect("reported stream").clone()
}

/// The state fields stream_recover prints, as the servers reported them.
fn reported_state(stream: &str) -> Value {
    let s = &reported(stream)["state"];
    json!({
        "messages": s["messages"],
        "bytes": s["bytes"],
        "first_seq": s["first_seq"],
        "last_seq": s["last_seq"],
        "num_deleted": s["num_deleted"],
        "deleted": s["deleted"],
        "num_subjects": s["num_subjects"],
        "subjects": s["subjects"],
    })
}

fn state_of(v: &Value) -> Value {
    let s = &v["state"];
    json!({
        "messages": s["messages"],
        "bytes": s["bytes"],
        "first_seq": s["first_seq"],
        "last_seq": s["last_seq"],
        "num_deleted": s["num_deleted"],
        "deleted": s["deleted"],
        "num_subjects": s["num_subjects"],
        "subjects": s["subjects"],
    })
}

/// Whether `node`'s copy of the F3 group has a snapshot (its WAL then
/// starts after it); which nodes snapshotted differs from run to run.
fn has_snapshot(node: &str) -> bool {
    let snaps = group_dir(node, "S-R3F-").join("snapshots");
    fs::read_dir(snaps).map(|d| d.flatten().next().is_some()).unwrap_or(false)
}

/// A node whose F3 log was never compacted: it holds every entry from the first.
fn full_wal_node() -> &'static str {
    NODES.into_iter().find(|n| !has_snapshot(n)).expect("a node without an F3 snapshot in the fixture")
}

/// seq → (subject, payload SHA-256) of every message the client published
/// to `stream` and the server acknowledged as new (not a duplicate).
fn published(stream: &str) -> BTreeMap<u64, (String, String)> {
    let ops = fixture_json(DIR, "ops.json");
    let mut out = BTreeMap::new();
    for o in ops.as_array().expect("ops") {
        if o["op"] != "publish" || o["stream"] != stream || o["reply"]["duplicate"] == true {
            continue;
        }
        let seq = o["reply"]["seq"].as_u64().expect("acked seq");
        let payload = o["payload"].as_str().expect("payload");
        let digest: String = Sha256::digest(payload.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert!(out.insert(seq, (o["subject"].as_str().expect("subject").to_string(), digest)).is_none(), "seq {seq} acked twice");
    }
    out
}

/// The printed messages agree with the state and with what was published.
fn assert_messages_published(stream: &str, v: &Value) {
    let pubs = published(stream);
    let msgs = v["messages"].as_array().expect("messages");
    assert_eq!(msgs.len() as u64, v["state"]["messages"].as_u64().expect("count"));
    let mut per_subject: BTreeMap<String, u64> = BTreeMap::new();
    for m in msgs {
        let seq = m["seq"].as_u64().expect("seq");
        let (subj, digest) = pubs.get(&seq).unwrap_or_else(|| panic!("{stream}: seq {seq} was never acknowledged"));
        assert_eq!(m["subject"], subj.as_str(), "{stream} seq {seq}");
        assert_eq!(m["payload_sha256"], digest.as_str(), "{stream} seq {seq}");
        *per_subject.entry(subj.clone()).or_default() += 1;
    }
    assert_eq!(serde_json::to_value(&per_subject).expect("map"), v["state"]["subjects"]);
    // The deleted sequences are the gaps, and nothing else.
    let first = v["state"]["first_seq"].as_u64().expect("first");
    let last = v["state"]["last_seq"].as_u64().expect("last");
    let live: Vec<u64> = msgs.iter().map(|m| m["seq"].as_u64().expect("seq")).collect();
    let gaps: Vec<u64> = (first..=last).filter(|s| !live.contains(s)).collect();
    assert_eq!(v["state"]["deleted"], json!(gaps));
}

#[test]
fn stream_recover_on_real_fixtures_gives_what_the_servers_reported() {
    let want = reported_state("F3");
    for node in NODES {
        let dir = group_dir(node, "S-R3F-");
        let o = run(&[dir.as_os_str()]);
        assert_eq!(o.status.code(), Some(0), "{node}: {}", stderr(&o));
        let v = json_out(&o);
        assert_eq!((v["account"].as_str(), v["stream"].as_str()), (Some("ACC_A"), Some("F3")), "{node}");
        assert_eq!(v["config_from"], "ACC_A/streams/F3/meta.inf");
        assert_eq!(v["storage"], "file");
        assert_eq!(state_of(&v), want, "{node}");
        assert_eq!(v["catchup_required"], Value::Null);
        assert_messages_published("F3", &v);
    }
    // The R1 streams have no raft group in 2.9.10; the file one is its store.
    let f1 = NODES
        .into_iter()
        .map(|n| jetstream(n).join("ACC_A").join("streams").join("F1"))
        .find(|d| d.is_dir())
        .expect("one server holds F1");
    let o = run(&[f1.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_out(&o);
    assert_eq!(v["raft"], Value::Null);
    assert_eq!(state_of(&v), reported_state("F1"));
    assert_messages_published("F1", &v);
}

#[test]
fn no_messages_leaves_the_list_out_and_the_state_in() {
    let dir = group_dir(full_wal_node(), "S-R3F-");
    let o = run(&[std::ffi::OsStr::new("--no-messages"), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_out(&o);
    assert_eq!(v["messages"], Value::Null);
    assert_eq!(state_of(&v), reported_state("F3"));
}

#[test]
fn the_wal_alone_replays_to_the_same_state_dropping_resent_ids() {
    let dir = group_dir(full_wal_node(), "S-R3F-");
    let o = run(&[std::ffi::OsStr::new("--no-store"), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_out(&o);
    assert_eq!(v["store"], Value::Null);
    assert_eq!(v["raft"]["snapshot"], Value::Null);
    assert_eq!(state_of(&v), reported_state("F3"));
    assert_messages_published("F3", &v);
    let resent = fixture_json(DIR, "ops.json")
        .as_array()
        .expect("ops")
        .iter()
        .filter(|o| o["stream"] == "F3" && o["reply"]["duplicate"] == true)
        .count();
    assert_eq!(resent, 4);
    assert_eq!(v["raft"]["duplicates_dropped"], resent);
}

#[test]
fn a_compacted_wal_without_its_store_needs_a_catchup() {
    let compacted: Vec<&str> = NODES.into_iter().filter(|n| has_snapshot(n)).collect();
    assert!(!compacted.is_empty(), "the fixture has an F3 snapshot");
    for node in compacted {
        let dir = group_dir(node, "S-R3F-");
        let o = run(&[std::ffi::OsStr::new("--no-store"), dir.as_os_str()]);
        assert_eq!(o.status.code(), Some(4), "{node}: {}", stderr(&o));
        assert!(stderr(&o).contains("catch up from a peer"), "{}", stderr(&o));
        let v = json_out(&o);
        let snap = v["raft"]["snapshot"]["last_index"].as_u64().expect("snapshot");
        assert!(snap > 0);
        assert!(v["catchup_required"]["last"].as_u64().expect("last") <= reported("F3")["state"]["last_seq"].as_u64().expect("reported"));
        assert_eq!(v["state"]["messages"], 0);
    }
}

#[test]
fn a_memory_streams_group_has_no_log_on_disk() {
    for node in NODES {
        let dir = group_dir(node, "S-R3M-");
        let o = run(&[dir.as_os_str()]);
        let v = json_out(&o);
        assert_eq!(v["stream"], "M3");
        assert_eq!(v["config_from"], "meta group assignment");
        assert_eq!(v["storage"], "memory");
        assert_eq!(v["raft"]["wal"]["msgs"], 0, "{node}");
        assert_eq!(v["state"]["messages"], 0, "{node}");
        // With a snapshot the server would fetch the messages from a peer.
        let want = if v["raft"]["snapshot"].is_null() { 0 } else { 4 };
        assert_eq!(o.status.code(), Some(want), "{node}: {}", stderr(&o));
    }
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

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[std::ffi::OsStr::new("--bogus"), std::ffi::OsStr::new("x")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--bogus"));
    let o = run(&[std::ffi::OsStr::new("--config")]);
    assert_eq!(o.status.code(), Some(2));

    let missing = tmp.path().join("nope");
    let o = run(&[missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));

    let o = run(&[tmp.path().as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a raft group directory"), "{}", stderr(&o));

    let meta = jetstream("n1").join("SYS").join("_js_").join("_meta_");
    let o = run(&[meta.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("meta_recover"), "{}", stderr(&o));

    // A group directory on its own: which stream it is cannot be known.
    // (Same name: the WAL's record checksums are keyed by the group's name.)
    let group = group_dir(full_wal_node(), "S-R3F-");
    let alone = tmp.path().join(group.file_name().expect("name"));
    copy_dir(&group, &alone);
    let o = run(&[alone.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--config"), "{}", stderr(&o));
    // ... unless its config is given.
    let cfg = jetstream(full_wal_node()).join("ACC_A").join("streams").join("F3").join("meta.inf");
    let o = run(&[std::ffi::OsStr::new("--config"), cfg.as_os_str(), alone.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(state_of(&json_out(&o)), reported_state("F3"));

    for (bad, names) in [
        (json!({"name": "F3", "storage": "disk"}), "storage"),
        (json!({"name": "F3", "storage": "file", "max_msgs_per_subject": "8"}), "max_msgs_per_subject"),
        (json!({"storage": "file"}), "name"),
    ] {
        let f = tmp.path().join("bad.json");
        fs::write(&f, bad.to_string()).expect("write");
        let o = run(&[std::ffi::OsStr::new("--config"), f.as_os_str(), alone.as_os_str()]);
        assert_eq!(o.status.code(), Some(1), "{bad}");
        assert!(stderr(&o).contains(names), "{bad}: {}", stderr(&o));
    }
    let f = tmp.path().join("notjson.json");
    fs::write(&f, "{\"name\":\u{1b}").expect("write");
    let o = run(&[std::ffi::OsStr::new("--config"), f.as_os_str(), alone.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains('\u{1b}'), "raw control character printed");
}

// ---- the library on damaged copies of a full F3 WAL ----

fn files_below(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            for f in fs::read_dir(&p).expect("subdir").flatten() {
                out.push((format!("{name}/{}", f.file_name().to_string_lossy()), fs::read(f.path()).expect("file")));
            }
        } else {
            out.push((name, fs::read(&p).expect("file")));
        }
    }
    out
}

fn spec() -> StreamSpec {
    let p = jetstream(full_wal_node()).join("ACC_A").join("streams").join("F3").join("meta.inf");
    let v: Value = serde_json::from_slice(&fs::read(p).expect("meta.inf")).expect("json");
    stream_spec_from_json(&v).expect("spec")
}

fn recover_with(files: &[(String, Vec<u8>)]) -> Result<StreamRecovery, String> {
    let group = group_dir(full_wal_node(), "S-R3F-");
    let name = group.file_name().expect("name").to_string_lossy().into_owned();
    let raft = RaftDirFiles::from_entries(files.to_vec());
    recover_stream("ACC_A", &spec(), None, Some((&name, &raft))).map_err(|e| e.to_string())
}

fn wal_files() -> Vec<(String, Vec<u8>)> {
    files_below(&group_dir(full_wal_node(), "S-R3F-"))
}

fn with_block(files: &[(String, Vec<u8>)], blk: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    files.iter().map(|(n, b)| (n.clone(), if n == "msgs/1.blk" { blk.clone() } else { b.clone() })).collect()
}

// Whatever recovery makes of it, the result is a consistent stream no
// further than the undamaged one.
fn assert_consistent(r: &mut StreamRecovery, full: &[RecoveredMsg], full_last: u64, what: &str) {
    let st = r.state();
    let msgs = r.messages();
    assert_eq!(msgs.len() as u64, st.msgs, "{what}");
    // Records are checksummed: what survives is what was written.
    for m in &msgs {
        if let Some(f) = full.iter().find(|f| f.seq == m.seq) {
            assert_eq!(f, m, "{what}: seq {} changed", m.seq);
        }
    }
    assert!(st.last_seq <= full_last, "{what}: last {} beyond {full_last}", st.last_seq);
    assert_eq!(r.subjects().values().sum::<u64>(), st.msgs, "{what}");
}

#[test]
fn every_flipped_byte_of_a_real_stream_wal_block_is_an_error_or_a_consistent_stream() {
    let files = wal_files();
    let mut full = recover_with(&files).expect("undamaged");
    let full_last = full.state().last_seq;
    let full_msgs = full.messages();
    let blk = files.iter().find(|(n, _)| n == "msgs/1.blk").expect("block").1.clone();
    let (mut intact, mut shorter, mut err) = (0, 0, 0);
    // Every byte, flipped in all bits (one variant per position keeps the
    // run short; meta_recover's tests try every bit on the meta WAL).
    for p in 0..blk.len() {
        let mut b = blk.clone();
        b[p] ^= 0xff;
        let damaged = with_block(&files, b);
        let res = catch_unwind(AssertUnwindSafe(|| recover_with(&damaged)));
        match res.unwrap_or_else(|_| panic!("panicked with byte {p} flipped")) {
            Ok(mut r) => {
                assert_consistent(&mut r, &full_msgs, full_last, &format!("byte {p}"));
                if r.state() == full.state() {
                    intact += 1;
                } else {
                    shorter += 1;
                }
            }
            Err(e) => {
                assert!(!e.is_empty());
                err += 1;
            }
        }
    }
    // A flip in a record makes the server truncate the block there: the
    // stream is shorter. Only bytes no check covers leave it whole.
    assert!(shorter > blk.len() / 2, "intact {intact} shorter {shorter} errors {err}");
}

#[test]
fn every_truncation_of_a_real_stream_wal_block_is_a_prefix_of_the_stream() {
    let files = wal_files();
    let mut full = recover_with(&files).expect("undamaged");
    let full_last = full.state().last_seq;
    let full_msgs = full.messages();
    let blk = files.iter().find(|(n, _)| n == "msgs/1.blk").expect("block").1.clone();
    let mut prev_last = 0;
    for len in 0..=blk.len() {
        let damaged = with_block(&files, blk[..len].to_vec());
        let res = catch_unwind(AssertUnwindSafe(|| recover_with(&damaged)));
        match res.unwrap_or_else(|_| panic!("panicked at length {len}")) {
            Ok(mut r) => {
                assert_consistent(&mut r, &full_msgs, full_last, &format!("length {len}"));
                let last = r.state().last_seq;
                assert!(last >= prev_last, "length {len}: a longer block recovered less ({last} < {prev_last})");
                prev_last = last;
            }
            Err(e) => assert!(!e.is_empty()),
        }
    }
    assert_eq!(prev_last, full_last);
}

#[test]
fn flipped_bytes_of_the_stream_store_never_panic() {
    let sdir = jetstream(full_wal_node()).join("ACC_A").join("streams").join("F3");
    let store: Vec<(String, Vec<u8>)> = files_below(&sdir).into_iter().filter(|(n, _)| n.starts_with("msgs/")).collect();
    let blk = store.iter().find(|(n, _)| n == "msgs/1.blk").expect("block").1.clone();
    let spec = spec();
    for p in (0..blk.len()).step_by(3) {
        let mut b = blk.clone();
        b[p] ^= 0x5a;
        let damaged: Vec<(String, Vec<u8>)> =
            store.iter().map(|(n, x)| (n.clone(), if n == "msgs/1.blk" { b.clone() } else { x.clone() })).collect();
        let sf = StoreFiles::from_entries(damaged);
        let res = catch_unwind(AssertUnwindSafe(|| recover_stream("ACC_A", &spec, Some(&sf), None).map(|mut r| (r.state().msgs, r.messages().len()))));
        if let Ok((msgs, listed)) = res.unwrap_or_else(|_| panic!("panicked with store byte {p} flipped")) {
            assert_eq!(msgs, listed as u64, "byte {p}");
        }
    }
}

#[test]
fn flipped_bytes_of_the_snapshot_and_peer_files_never_panic() {
    let node = NODES.into_iter().find(|n| has_snapshot(n)).expect("a node with an F3 snapshot");
    let group = group_dir(node, "S-R3F-");
    let name = group.file_name().expect("name").to_string_lossy().into_owned();
    let files = files_below(&group);
    let sdir = jetstream(node).join("ACC_A").join("streams").join("F3");
    let store = StoreFiles::from_entries(files_below(&sdir).into_iter().filter(|(n, _)| n.starts_with("msgs/")));
    let spec = spec();
    let whole = RaftDirFiles::from_entries(files.clone());
    let full = recover_stream("ACC_A", &spec, Some(&store), Some((&name, &whole))).expect("undamaged").state().msgs;
    let mut errors = 0;
    for (target, _) in files.iter().filter(|(n, _)| n.starts_with("snapshots/") || n == "peers.idx" || n == "tav.idx") {
        let orig = &files.iter().find(|(n, _)| n == target).expect("file").1;
        for p in 0..orig.len() {
            let damaged: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(n, b)| {
                    let mut b = b.clone();
                    if n == target {
                        b[p] ^= 0x41;
                    }
                    (n.clone(), b)
                })
                .collect();
            let raft = RaftDirFiles::from_entries(damaged);
            let res = catch_unwind(AssertUnwindSafe(|| recover_stream("ACC_A", &spec, Some(&store), Some((&name, &raft))).map(|mut r| r.state().msgs)));
            match res.unwrap_or_else(|_| panic!("{target}: panicked with byte {p} flipped")) {
                // The store holds what the stream had; damage adds nothing.
                Ok(msgs) => assert!(msgs <= full, "{target} byte {p}: {msgs} messages, undamaged {full}"),
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    errors += 1;
                }
            }
        }
    }
    // A snapshot's checksum covers it: most flips there are refused.
    assert!(errors > 0, "no flipped byte was refused");
}

#[test]
fn a_wal_written_by_nats_servers_own_code_recovers_to_the_state_go_decodes() {
    // tests/fixtures/stream_wal_go: 200 replicated messages written by
    // nats-server 2.9.10's file store and raft encoders
    // (tools/stream_wal_go gen), and the state its own decoders give.
    let dir = fixture("stream_wal_go");
    let o = run(&[std::ffi::OsStr::new("--config"), dir.join("config.json").as_os_str(), dir.join("S-R3F-bench").as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_out(&o);
    let go = fixture_json("stream_wal_go", "go_state.json");
    for k in ["messages", "bytes", "first_seq", "last_seq", "num_subjects"] {
        assert_eq!(v["state"][k], go[k], "{k}");
    }
    assert_eq!(v["raft"]["duplicates_dropped"], 0);
    let payload: Vec<u8> = (0..64).map(|i| b'a' + (i % 26) as u8).collect();
    let digest: String = Sha256::digest(&payload).iter().map(|b| format!("{b:02x}")).collect();
    for (i, m) in v["messages"].as_array().expect("messages").iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(m["seq"], seq);
        assert_eq!(m["subject"], format!("bench.s{}", seq % 16));
        assert_eq!(m["payload_sha256"], digest.as_str());
        assert_eq!(m["hdr_len"], format!("NATS/1.0\r\nNats-Msg-Id: m-{seq}\r\n\r\n").len());
    }
}
