//! Decode + apply of a meta snapshot with 10,000 streams × 5 consumers, and
//! the same decode work in Go's own S2 + encoding/json when Go is present
//! (`ported/tools/bench_go`, Debian Go in GOPATH mode).
//!
//!     cargo bench -p ported --bench meta_snapshot
//!
//! Prints the median of several runs; not a pass/fail test.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ported::jetstream_cluster::ops::{decode_consumer_assignment, decode_stream_assignment};
use ported::jetstream_cluster::{JetStream, RecoveryUpdates, StreamMap};
use serde_json::json;

const STREAMS: usize = 10_000;
const CONSUMERS: usize = 5;
const RUNS: usize = 7;

fn build() -> StreamMap {
    let mut m = StreamMap::new();
    for i in 0..STREAMS {
        let acc = format!("ACC{}", i % 20);
        let name = format!("STREAM_{i}");
        let peers = [format!("p{:07}", i % 7), format!("q{:07}", i % 11), format!("r{:07}", i % 13)];
        let sa = json!({
            "client": {"acc": acc, "cluster": "C1"},
            "created": "2024-05-06T07:08:09.123456789Z",
            "stream": {"name": name, "subjects": [format!("{name}.>")], "retention": "limits",
                       "max_consumers": -1, "max_msgs": -1, "max_bytes": -1, "discard": "old",
                       "max_age": 0, "max_msgs_per_subject": -1, "max_msg_size": -1,
                       "storage": "file", "num_replicas": 3, "duplicate_window": 120000000000u64,
                       "allow_direct": false, "mirror_direct": false, "sealed": false,
                       "deny_delete": false, "deny_purge": false, "allow_rollup_hdrs": false},
            "group": {"name": format!("S-R3F-{i:08x}"), "peers": peers, "store": "file", "cluster": "C1"},
            "sync": format!("$JSC.SYNC.{i:x}")
        });
        let mut sa = decode_stream_assignment(sa.to_string().as_bytes()).expect("bench stream");
        for c in 0..CONSUMERS {
            let cname = format!("C{c}");
            let ca = json!({
                "client": {"acc": acc, "cluster": "C1"},
                "created": "2024-05-06T07:08:10.5Z",
                "name": cname, "stream": name,
                "consumer": {"durable_name": cname, "name": cname, "deliver_policy": "all",
                             "ack_policy": "explicit", "ack_wait": 30000000000u64, "max_deliver": -1,
                             "replay_policy": "instant", "max_waiting": 512, "max_ack_pending": 1000,
                             "num_replicas": 0},
                "group": {"name": format!("C-R3F-{i:08x}{c}"), "peers": peers, "store": "file", "cluster": "C1"}
            });
            let ca = decode_consumer_assignment(ca.to_string().as_bytes()).expect("bench consumer");
            sa.consumers.insert(cname, ca);
        }
        m.entry(acc).or_default().insert(name, sa);
    }
    m
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(mut f: F) -> Duration {
    median((0..RUNS).map(|_| { let t = Instant::now(); f(); t.elapsed() }).collect())
}

fn run_go(path: &PathBuf) -> Option<(Duration, Duration)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools").join("bench_go");
    let out = Command::new("go")
        .args(["run", "main.go"])
        .arg(path)
        .current_dir(&dir)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("go benchmark failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| -> Option<Duration> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        Some(Duration::from_nanos(line.split_whitespace().nth(1)?.parse().ok()?))
    };
    Some((field("decode_ns")?, field("s2_ns")?))
}

fn main() {
    let streams = build();
    let enc = JetStream::encode_meta_snapshot(&streams, &|| 0).expect("encodes");
    let json_len = ported::s2::decode(&enc.data).expect("s2").len();
    println!("meta snapshot: {} streams, {} consumers, {} bytes JSON, {} bytes S2", enc.streams, enc.consumers, json_len, enc.data.len());

    let encode = time(|| { JetStream::encode_meta_snapshot(&streams, &|| 0).expect("encodes"); });
    let s2_only = time(|| { ported::s2::decode(&enc.data).expect("s2"); });
    let decode = time(|| { JetStream::decode_meta_snapshot(&enc.data).expect("decodes"); });
    let empty = JetStream::clustered();
    let apply_new = time(|| {
        let mut ru = RecoveryUpdates::new();
        let actions = empty.apply_meta_snapshot(&enc.data, &mut ru, false).expect("applies");
        assert_eq!(actions.len(), STREAMS * (1 + CONSUMERS));
    });
    let mut full = JetStream::clustered();
    if let Some(cc) = full.cluster.as_mut() {
        cc.streams = streams.clone();
    }
    let apply_same = time(|| {
        let mut ru = RecoveryUpdates::new();
        full.apply_meta_snapshot(&enc.data, &mut ru, true).expect("applies");
        assert_eq!(ru.update_streams.len(), STREAMS);
    });
    let mb = json_len as f64 / 1e6;
    let row = |what: &str, d: Duration| println!("  {what:<44} {:>9.2} ms  {:>7.1} MB/s JSON", d.as_secs_f64() * 1e3, mb / d.as_secs_f64());
    println!("rust (median of {RUNS}):");
    row("encode (JSON + S2)", encode);
    row("S2 block decode", s2_only);
    row("decode (S2 + JSON + configs)", decode);
    row("decode + apply onto empty state", apply_new);
    row("decode + apply onto identical state (recov.)", apply_same);

    let path = std::env::temp_dir().join("ported_meta_snapshot_bench.s2");
    if std::fs::write(&path, &enc.data).is_err() {
        return;
    }
    match run_go(&path) {
        Some((go_decode, go_s2)) => {
            println!("go 1.19 (klauspost s2 + encoding/json, same bytes):");
            row("S2 block decode", go_s2);
            row("decode (S2 + JSON + configs)", go_decode);
            println!("ratio rust/go: S2 decode {:.2}, full decode {:.2}, decode+apply(empty)/go decode {:.2}",
                s2_only.as_secs_f64() / go_s2.as_secs_f64(),
                decode.as_secs_f64() / go_decode.as_secs_f64(),
                apply_new.as_secs_f64() / go_decode.as_secs_f64());
        }
        None => println!("go benchmark not run (go or Debian Go packages missing)"),
    }
    let _ = std::fs::remove_file(&path);
}
