//! Generated meta logs written the way a server writes them (snapshot,
//! WAL blocks, index files) and recovered with `recover_meta`, against a
//! model that applies the same ops one after another.

use std::collections::BTreeMap;

use ported::filestore::writer::META_BLOCK_SIZE;
use ported::filestore::StoreEvent;
use ported::jetstream_cluster::assignments::{ConsumerAssignment, StreamAssignment};
use ported::jetstream_cluster::meta_wal::recover_meta;
use ported::jetstream_cluster::ops::{
    decode_consumer_assignment, decode_stream_assignment, encode_add_consumer_assignment,
    encode_add_consumer_assignment_compressed, encode_add_stream_assignment, encode_delete_consumer_assignment,
    encode_delete_stream_assignment, encode_update_stream_assignment,
};
use ported::jetstream_cluster::{JetStream, StreamMap};
use ported::peer_state::{encode_peer_state, PeerState};
use ported::raft::wire::{Entry, EntryType};
use ported::raft_log::writer::LogWriter;
use ported::snapshot_file::Snapshot;
use serde_json::json;

const PEERS: [&str; 3] = ["S1Nunr6R", "cnrtt3eg", "yrzKKRBu"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn stream(acc: &str, name: &str, version: u64) -> StreamAssignment {
    let j = json!({
        "client": {"acc": acc, "server": "n1"},
        "created": "2024-05-06T07:08:09.123456789Z",
        "stream": {"name": name, "subjects": [format!("{name}.>")], "retention": "limits",
                   "max_msgs": version as i64 + 1, "num_replicas": 3, "storage": "file"},
        "group": {"name": format!("S-R3F-{name}"), "peers": PEERS, "store": "file"},
        "sync": format!("$JSC.SYNC.{name}")
    });
    decode_stream_assignment(j.to_string().as_bytes()).expect("stream")
}

fn consumer(acc: &str, stream: &str, name: &str, version: u64) -> ConsumerAssignment {
    let j = json!({
        "client": {"acc": acc},
        "created": "2024-05-06T07:08:10Z",
        "name": name, "stream": stream,
        "consumer": {"durable_name": name, "ack_policy": "explicit", "max_deliver": version as i64 + 1},
        "group": {"name": format!("C-R3F-{stream}-{name}"), "peers": PEERS, "store": "file"}
    });
    decode_consumer_assignment(j.to_string().as_bytes()).expect("consumer")
}

/// What a test compares: per stream its config and group, per consumer
/// its config and group.
type View = BTreeMap<(String, String), (String, Vec<(String, String)>)>;

fn view(m: &StreamMap) -> View {
    m.iter()
        .flat_map(|(acc, s)| {
            s.iter().map(move |(name, sa)| {
                let cfg = serde_json::to_string(&sa.config).expect("config");
                let cons = sa.consumers.iter().map(|(c, ca)| (c.clone(), serde_json::to_string(&ca.config).expect("config"))).collect();
                ((acc.clone(), name.clone()), (cfg, cons))
            })
        })
        .collect()
}

/// Applies ops one after another, as a live meta layer would.
#[derive(Default)]
struct Model {
    streams: StreamMap,
}

impl Model {
    fn names(&self) -> Vec<(String, String)> {
        self.streams.iter().flat_map(|(a, s)| s.keys().map(move |n| (a.clone(), n.clone()))).collect()
    }
}

/// One generated log: returns the directory files and the model's final state.
fn generate(seed: u64, ops: usize, block_size: u64, snapshot_at: Option<usize>, index_version: Option<u8>) -> (ported::raft_log::RaftDirFiles, StreamMap) {
    let mut rng = Rng(seed | 1);
    let mut w = LogWriter::new("_meta_", PEERS[0], block_size);
    let ps = PeerState { known_peers: PEERS.iter().map(|p| p.to_string()).collect(), cluster_size: 3, ..Default::default() };
    w.peer_state(&ps);
    let mut model = Model::default();
    let mut counter = 0u64;
    for i in 0..ops {
        counter += 1;
        let names = model.names();
        let acc = ["A", "B", "C"][rng.below(3)].to_string();
        let entry = match (rng.below(10), names.is_empty()) {
            (0..=2, _) | (_, true) => {
                let name = format!("S{counter}");
                let sa = stream(&acc, &name, 0);
                model.streams.entry(acc).or_default().insert(name, sa.clone());
                encode_add_stream_assignment(&sa)
            }
            (3, _) => {
                let (a, n) = names[rng.below(names.len())].clone();
                let sa = model.streams.get_mut(&a).and_then(|s| s.remove(&n)).expect("stream");
                if model.streams[&a].is_empty() {
                    model.streams.remove(&a);
                }
                encode_delete_stream_assignment(&sa)
            }
            (4, _) => {
                let (a, n) = names[rng.below(names.len())].clone();
                let old = &model.streams[&a][&n];
                let mut sa = stream(&a, &n, counter);
                sa.consumers = old.consumers.clone();
                model.streams.get_mut(&a).expect("acc").insert(n, sa.clone());
                encode_update_stream_assignment(&sa)
            }
            (5..=7, _) => {
                let (a, n) = names[rng.below(names.len())].clone();
                let sa = model.streams.get_mut(&a).and_then(|s| s.get_mut(&n)).expect("stream");
                let cname = if !sa.consumers.is_empty() && rng.below(2) == 0 {
                    sa.consumers.keys().nth(rng.below(sa.consumers.len())).expect("consumer").clone()
                } else {
                    format!("c{counter}")
                };
                let ca = consumer(&a, &n, &cname, counter);
                sa.consumers.insert(cname, ca.clone());
                if rng.below(3) == 0 { encode_add_consumer_assignment_compressed(&ca) } else { encode_add_consumer_assignment(&ca) }
            }
            _ => {
                let with: Vec<_> = names.iter().filter(|(a, n)| !model.streams[a][n].consumers.is_empty()).cloned().collect();
                if with.is_empty() {
                    let name = format!("S{counter}");
                    let sa = stream(&acc, &name, 0);
                    model.streams.entry(acc).or_default().insert(name, sa.clone());
                    encode_add_stream_assignment(&sa)
                } else {
                    let (a, n) = with[rng.below(with.len())].clone();
                    let sa = model.streams.get_mut(&a).and_then(|s| s.get_mut(&n)).expect("stream");
                    let cname = sa.consumers.keys().nth(rng.below(sa.consumers.len())).expect("consumer").clone();
                    let ca = sa.consumers.remove(&cname).expect("consumer");
                    encode_delete_consumer_assignment(&ca)
                }
            }
        }
        .expect("encodes");
        let commit = w.next_index() - 1;
        w.append(1 + (i as u64) / 50, commit, vec![Entry::new(EntryType::Normal, entry)]).expect("append");
        if snapshot_at == Some(i) {
            let snap = JetStream::encode_meta_snapshot(&model.streams, &|| 0).expect("snapshot");
            let index = w.next_index() - 1;
            w.snapshot(&Snapshot { last_term: 1 + (i as u64) / 50, last_index: index, peer_state: encode_peer_state(&ps), data: snap.data });
        }
    }
    let commit = w.next_index() - 1;
    w.append(1 + ops as u64 / 50, commit, vec![Entry::new(EntryType::PeerState, encode_peer_state(&ps))]).expect("append");
    (w.files(index_version), model.streams)
}

#[test]
fn generated_meta_logs_recover_to_the_model() {
    // (seed, ops, block size, snapshot after op, index file version)
    type Case = (u64, usize, u64, Option<usize>, Option<u8>);
    let cases: [Case; 6] = [
        (1, 300, META_BLOCK_SIZE, None, None),
        (2, 300, 4096, Some(120), None),
        (3, 400, 8192, Some(399), Some(1)),
        (4, 250, 2048, Some(10), Some(2)),
        (5, 500, 16384, Some(250), Some(1)),
        (6, 1, META_BLOCK_SIZE, Some(0), None),
    ];
    let mut consumers_seen = 0;
    for (seed, ops, block, snap, idx) in cases {
        let what = format!("seed {seed} ops {ops} block {block} snapshot {snap:?} index {idx:?}");
        let (files, model) = generate(seed, ops, block, snap, idx);
        let r = recover_meta(&files).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(r.warnings.is_empty() && r.raft.repairs.is_empty(), "{what}: {:?} {:?}", r.warnings, r.raft.warnings);
        assert_eq!(view(&r.streams), view(&model), "{what}");
        assert!(!model.is_empty(), "{what}: something to compare");
        consumers_seen += model.values().flat_map(|s| s.values()).map(|sa| sa.consumers.len()).sum::<usize>();
        assert_eq!(r.raft.commit, ops as u64, "{what}");
        assert_eq!(r.raft.pending.len(), 1, "{what}: the closing peer-state entry");
        let used = r.raft.wal_events.iter().filter(|e| matches!(e, StoreEvent::IndexUsed { .. })).count();
        assert_eq!(used > 0, idx.is_some(), "{what}: index files written as scanned are used");
        if block < 1 << 16 {
            assert!(files.store.block_indices().len() > 1, "{what}: several blocks");
        }
    }
    assert!(consumers_seen > 20, "{consumers_seen}");
}
