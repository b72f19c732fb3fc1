//! Meta recovery throughput: a generated meta group directory whose WAL
//! holds 100,000 meta entries (stream and consumer creates, updates and
//! deletes, in 1 MiB blocks as a server writes them), recovered with
//! `recover_meta`, in entries per second. When Debian's `nats-server` is
//! installed, the same directory is also recovered by a real server
//! (2.9.10) side by side: the time from its start to its "Recovered
//! JetStream cluster metadata" line, less the same for an empty directory.
//!
//!     cargo bench -p ported --bench meta_recover
//!     META_RECOVER_ENTRIES=20000 cargo bench -p ported --bench meta_recover
//!
//! Prints medians of several runs; not a pass/fail test.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ported::filestore::writer::META_BLOCK_SIZE;
use ported::jetstream_cluster::meta_wal::recover_meta;
use ported::jetstream_cluster::ops::{
    decode_consumer_assignment, decode_stream_assignment, encode_add_consumer_assignment, encode_add_stream_assignment,
    encode_delete_consumer_assignment, encode_delete_stream_assignment, encode_update_stream_assignment,
};
use ported::peer_state::{encode_peer_state, PeerState};
use ported::raft::wire::{Entry, EntryType};
use ported::raft_log::writer::LogWriter;
use ported::raft_log::RaftDirFiles;
use serde_json::json;

const RUNS: usize = 5;
const PEERS: [&str; 3] = ["p0000001", "p0000002", "p0000003"];

fn stream_json(acc: &str, name: &str, max_msgs: i64) -> serde_json::Value {
    json!({
        "client": {"start": "2024-05-06T07:08:09.1Z", "host": "127.0.0.1", "id": 7, "acc": acc, "user": "a",
                   "lang": "go", "ver": "1.22.1", "rtt": 120000, "server": "n1", "cluster": "C1"},
        "created": "2024-05-06T07:08:09.123456789Z",
        "stream": {"name": name, "subjects": [format!("{name}.>")], "retention": "limits", "max_consumers": -1,
                   "max_msgs": max_msgs, "max_bytes": -1, "discard": "old", "max_age": 0, "max_msgs_per_subject": -1,
                   "max_msg_size": -1, "storage": "file", "num_replicas": 3, "duplicate_window": 120000000000u64,
                   "allow_direct": false, "mirror_direct": false, "sealed": false, "deny_delete": false,
                   "deny_purge": false, "allow_rollup_hdrs": false},
        "group": {"name": format!("S-R3F-{name}"), "peers": PEERS, "store": "file", "cluster": "C1"},
        "sync": format!("$JSC.SYNC.{name}"),
        "subject": "$JS.API.STREAM.CREATE", "reply": "_INBOX.abcdefgh.1"
    })
}

fn consumer_json(acc: &str, stream: &str, name: &str) -> serde_json::Value {
    json!({
        "client": {"acc": acc, "server": "n1", "cluster": "C1"},
        "created": "2024-05-06T07:08:10.5Z", "name": name, "stream": stream,
        "consumer": {"durable_name": name, "name": name, "deliver_policy": "all", "ack_policy": "explicit",
                     "ack_wait": 30000000000u64, "max_deliver": -1, "replay_policy": "instant", "max_waiting": 512,
                     "max_ack_pending": 1000, "num_replicas": 0},
        "group": {"name": format!("C-R3F-{stream}-{name}"), "peers": PEERS, "store": "file", "cluster": "C1"}
    })
}

/// A meta log of `n` ops (plus a closing peer-state entry that commits
/// them): about 30% stream creates, 10% stream updates, 5% stream deletes,
/// 40% consumer creates and 15% consumer deletes, over live assets.
fn generate(n: usize) -> (RaftDirFiles, usize) {
    let ps = PeerState { known_peers: PEERS.iter().map(|p| p.to_string()).collect(), cluster_size: 3, ..Default::default() };
    let mut w = LogWriter::new("_meta_", PEERS[0], META_BLOCK_SIZE);
    w.peer_state(&ps);
    let mut streams: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = 0usize;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let pick = (x % 100) as usize;
        let acc = format!("ACC{}", i % 10);
        let op = if streams.is_empty() || pick < 30 {
            let name = format!("STREAM_{i}");
            let sa = decode_stream_assignment(stream_json(&acc, &name, -1).to_string().as_bytes()).expect("stream");
            streams.push((acc, name, Vec::new()));
            encode_add_stream_assignment(&sa)
        } else {
            let at = (x >> 8) as usize % streams.len();
            let (sacc, sname) = (streams[at].0.clone(), streams[at].1.clone());
            match pick {
                30..=39 => {
                    let sa = decode_stream_assignment(stream_json(&sacc, &sname, i as i64).to_string().as_bytes()).expect("stream");
                    encode_update_stream_assignment(&sa)
                }
                40..=44 => {
                    let sa = decode_stream_assignment(stream_json(&sacc, &sname, -1).to_string().as_bytes()).expect("stream");
                    streams.swap_remove(at);
                    encode_delete_stream_assignment(&sa)
                }
                45..=84 => {
                    let cname = format!("C{i}");
                    let ca = decode_consumer_assignment(consumer_json(&sacc, &sname, &cname).to_string().as_bytes()).expect("consumer");
                    streams[at].2.push(cname);
                    encode_add_consumer_assignment(&ca)
                }
                _ => match streams[at].2.pop() {
                    Some(cname) => {
                        let ca = decode_consumer_assignment(consumer_json(&sacc, &sname, &cname).to_string().as_bytes()).expect("consumer");
                        encode_delete_consumer_assignment(&ca)
                    }
                    None => {
                        let sa = decode_stream_assignment(stream_json(&sacc, &sname, i as i64).to_string().as_bytes()).expect("stream");
                        encode_update_stream_assignment(&sa)
                    }
                },
            }
        }
        .expect("encodes");
        bytes += op.len();
        let commit = w.next_index() - 1;
        w.append(1, commit, vec![Entry::new(EntryType::Normal, op)]).expect("append");
    }
    let commit = w.next_index() - 1;
    w.append(1, commit, vec![Entry::new(EntryType::PeerState, encode_peer_state(&ps))]).expect("append");
    (w.files(None), bytes)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn write_dir(files: &RaftDirFiles, dir: &Path) {
    fs::create_dir_all(dir.join("msgs")).expect("mkdir");
    fs::create_dir_all(dir.join("snapshots")).expect("mkdir");
    for (name, data) in &files.store.msgs {
        fs::write(dir.join("msgs").join(name), data).expect("write block");
    }
    if let Some(p) = &files.peer_state {
        fs::write(dir.join("peers.idx"), p).expect("write peers.idx");
    }
}

fn read_dir(dir: &Path) -> RaftDirFiles {
    let mut entries = Vec::new();
    for sub in ["", "msgs", "snapshots"] {
        for e in fs::read_dir(dir.join(sub)).expect("read dir") {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                let rel = if sub.is_empty() { name } else { format!("{sub}/{name}") };
                entries.push((rel, fs::read(e.path()).expect("read")));
            }
        }
    }
    RaftDirFiles::from_entries(entries)
}

/// Seconds from a real nats-server's start to its "Recovered JetStream
/// cluster metadata" line, for a store whose meta group directory is a copy
/// of `meta` (None: an empty store).
fn nats_server_recovery(meta: Option<&Path>) -> Option<Duration> {
    let tmp = tempfile::tempdir().ok()?;
    let store = tmp.path().join("store");
    let meta_dir = store.join("jetstream").join("$SYS").join("_js_").join("_meta_");
    fs::create_dir_all(&meta_dir).ok()?;
    if let Some(src) = meta {
        for sub in ["msgs", "snapshots"] {
            fs::create_dir_all(meta_dir.join(sub)).ok()?;
            for e in fs::read_dir(src.join(sub)).ok()? {
                let e = e.ok()?;
                fs::copy(e.path(), meta_dir.join(sub).join(e.file_name())).ok()?;
            }
        }
        fs::copy(src.join("peers.idx"), meta_dir.join("peers.idx")).ok()?;
    }
    let conf = tmp.path().join("n.conf");
    let cfg = format!(
        "server_name: bench1\nlisten: 127.0.0.1:-1\njetstream {{ store_dir: \"{}\" }}\ncluster {{ name: C1, listen: 127.0.0.1:-1, routes: [nats-route://127.0.0.1:1] }}\n",
        store.display()
    );
    fs::write(&conf, cfg).ok()?;
    let start = Instant::now();
    let mut child = Command::new("nats-server").args(["-D", "-c"]).arg(&conf).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().ok()?;
    let stderr = child.stderr.take()?;
    let mut found = None;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.contains("Recovered JetStream cluster metadata") {
            found = Some(start.elapsed());
            break;
        }
        if start.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    found
}

fn main() {
    let n: usize = std::env::var("META_RECOVER_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let t = Instant::now();
    let (files, op_bytes) = generate(n);
    let wal_bytes: usize = files.store.msgs.values().map(|b| b.len()).sum();
    println!(
        "generated {n} meta entries in {:.1}s: {} blocks, {:.1} MB WAL ({:.1} MB of ops)",
        t.elapsed().as_secs_f64(),
        files.store.block_indices().len(),
        wal_bytes as f64 / 1e6,
        op_bytes as f64 / 1e6
    );

    let mut streams = 0;
    let mem: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let r = recover_meta(&files).expect("recovers");
            let d = t.elapsed();
            assert!(r.warnings.is_empty() && r.raft.repairs.is_empty());
            assert_eq!(r.raft.commit, n as u64);
            streams = r.streams.values().map(|a| a.len()).sum::<usize>();
            d
        })
        .collect();
    let mem = median(mem);

    let tmp = tempfile::tempdir().expect("tmp");
    write_dir(&files, tmp.path());
    let disk = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let r = recover_meta(&read_dir(tmp.path())).expect("recovers");
                std::hint::black_box(r.streams.len());
                t.elapsed()
            })
            .collect(),
    );
    println!("recovered {streams} streams");
    println!("rust recover_meta (in memory)   {:>8.3}s  {:>10.0} entries/s", mem.as_secs_f64(), n as f64 / mem.as_secs_f64());
    println!("rust read dir + recover_meta    {:>8.3}s  {:>10.0} entries/s", disk.as_secs_f64(), n as f64 / disk.as_secs_f64());

    let go_runs = 3;
    let base: Vec<Duration> = (0..go_runs).filter_map(|_| nats_server_recovery(None)).collect();
    let full: Vec<Duration> = (0..go_runs).filter_map(|_| nats_server_recovery(Some(tmp.path()))).collect();
    if base.len() < go_runs || full.len() < go_runs {
        println!("nats-server not available (or it did not report recovery): Rust numbers only");
        return;
    }
    let go = median(full).saturating_sub(median(base));
    println!(
        "nats-server 2.9.10 recovery      {:>8.3}s  {:>10.0} entries/s  (start to \"Recovered JetStream cluster metadata\", less an empty store)",
        go.as_secs_f64(),
        n as f64 / go.as_secs_f64()
    );
    println!("ratio rust(read + recover) / nats-server: {:.2}", disk.as_secs_f64() / go.as_secs_f64());
}
