//! Real nats-server 2.9.10 meta snapshots (made by
//! `ported/tools/real_cluster/run.sh`) read through the Rust code and
//! compared with what the servers reported about the same cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use crate::common::{self, assert_config_agrees, fixture, fixture_json, peers_of};
use ported::jetstream_cluster::{JetStream, StreamMap};
use ported::peer_state::decode_peer_state;
use ported::snapshot_file::{term_and_index_from_snap_file, SnapshotCodec, SnapshotError};
use serde_json::Value;

const NODES: [&str; 3] = ["n1", "n2", "n3"];

fn snap_file(node: &str) -> PathBuf {
    let dir = fixture("real_cluster").join(node);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("node fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("snap.")))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

fn json(name: &str) -> Value {
    fixture_json("real_cluster", name)
}

fn peer_ids() -> BTreeMap<String, String> {
    common::peer_ids("real_cluster")
}

fn decode(node: &str) -> (ported::snapshot_file::Snapshot, StreamMap) {
    let snap = SnapshotCodec::new("_meta_").read_file(&snap_file(node)).expect("checksum verifies");
    let streams = JetStream::decode_meta_snapshot(&snap.data).expect("meta snapshot decodes");
    (snap, streams)
}

#[test]
fn header_and_peer_state_of_real_server_snapshots() {
    let ids = peer_ids();
    assert_eq!(ids.len(), 3);
    let all: BTreeSet<String> = ids.values().cloned().collect();
    for node in NODES {
        let path = snap_file(node);
        let (snap, _) = decode(node);
        let (term, index) = term_and_index_from_snap_file(&path.to_string_lossy()).expect("name");
        assert_eq!((snap.last_term, snap.last_index), (term, index));
        assert!(snap.last_index > 0);
        let ps = decode_peer_state(&snap.peer_state).expect("peer state");
        assert_eq!(ps.cluster_size, 3);
        assert_eq!(ps.known_peers.iter().cloned().collect::<BTreeSet<_>>(), all, "{node}");
        let idx = fs::read(fixture("real_cluster").join(node).join("peers.idx")).expect("peers.idx");
        let from_idx = decode_peer_state(&idx).expect("peers.idx decodes");
        assert_eq!(from_idx.known_peers.iter().cloned().collect::<BTreeSet<_>>(), all);
    }
}

#[test]
fn decodes_real_server_snapshot() {
    let ids = peer_ids();
    let (_, streams) = decode("n1");
    let report = json("client_report.json");
    let mut seen = 0;
    let mut consumers_seen = 0;
    for acc in report.as_array().expect("accounts") {
        let account = acc["account"].as_str().expect("account");
        let reported: Vec<&Value> = acc["streams"].as_array().expect("streams").iter().collect();
        assert_eq!(streams.get(account).map_or(0, |a| a.len()), reported.len(), "{account}");
        for rs in reported {
            let name = rs["config"]["name"].as_str().expect("name");
            let sa = &streams[account][name];
            seen += 1;
            assert_eq!(sa.created.0, rs["created"].as_str().expect("created"), "{name}");
            let stored: Value = serde_json::from_str(sa.config_json.get()).expect("raw config");
            assert_config_agrees(name, &rs["config"], &stored, &["name", "subjects", "retention", "storage", "num_replicas"]);
            let cfg = sa.config.as_ref().expect("decoded config");
            assert_eq!(cfg.replicas, rs["config"]["num_replicas"].as_i64().expect("replicas"));
            let group = sa.group.as_ref().expect("group");
            assert_eq!(group.peers.len() as i64, cfg.replicas, "{name}");
            assert_eq!(group.peers.iter().cloned().collect::<BTreeSet<_>>(), peers_of(&rs["cluster"], &ids), "{name}");
            assert_eq!(group.cluster, "C1");
            assert_eq!(serde_json::to_value(group.storage).expect("storage"), rs["config"]["storage"]);
            assert!(sa.sync.starts_with("$JSC.SYNC."), "{}", sa.sync);
            assert!(sa.unsupported.is_none(), "{name}: {:?}", sa.unsupported);
            assert_eq!(sa.account(), account);

            let rcons: Vec<&Value> = acc["consumers"].as_array().expect("consumers").iter()
                .filter(|c| c["stream_name"] == rs["config"]["name"]).collect();
            assert_eq!(sa.consumers.len(), rcons.len(), "{name} consumers");
            for rc in rcons {
                let cname = rc["name"].as_str().expect("consumer name");
                let ca = &sa.consumers[cname];
                consumers_seen += 1;
                assert_eq!(ca.stream, name);
                assert_eq!(ca.created.0, rc["created"].as_str().expect("created"));
                let stored: Value = serde_json::from_str(ca.config_json.get()).expect("raw config");
                assert_config_agrees(cname, &rc["config"], &stored, &["durable_name", "ack_policy", "deliver_policy"]);
                let cg = ca.group.as_ref().expect("consumer group");
                assert_eq!(cg.peers.iter().cloned().collect::<BTreeSet<_>>(), peers_of(&rc["cluster"], &ids), "{cname}");
                assert_eq!(ca.recovery_key(), format!("{account}:{name}:{cname}"));
            }
        }
    }
    assert_eq!((seen, consumers_seen), (4, 6));
}

/// The preferred-leader hint of a group is set locally by whichever server
/// processed the assignment, so it legitimately differs between servers.
fn without_preferred(mut m: StreamMap) -> StreamMap {
    for sa in m.values_mut().flat_map(|a| a.values_mut()) {
        if let Some(g) = sa.group.as_mut() {
            g.preferred.clear();
        }
        for ca in sa.consumers.values_mut() {
            if let Some(g) = ca.group.as_mut() {
                g.preferred.clear();
            }
        }
    }
    m
}

#[test]
fn every_node_holds_the_same_assignments() {
    let first = without_preferred(decode("n1").1);
    assert_eq!(first.values().map(|a| a.len()).sum::<usize>(), 4);
    for node in &NODES[1..] {
        let other = without_preferred(decode(node).1);
        assert_eq!(other, first, "{node}");
    }
}

#[test]
fn rust_reencoded_real_snapshot_round_trips() {
    let (_, streams) = decode("n2");
    let enc = JetStream::encode_meta_snapshot(&streams, &|| 0).expect("encodes");
    assert_eq!((enc.streams, enc.consumers), (4, 6));
    let back = JetStream::decode_meta_snapshot(&enc.data).expect("decodes");
    for (acc, asa) in &streams {
        for (name, sa) in asa {
            let b = &back[acc][name];
            assert_eq!((b.config.as_ref(), b.group.as_ref(), &b.created), (sa.config.as_ref(), sa.group.as_ref(), &sa.created));
            assert_eq!(b.consumers.keys().collect::<Vec<_>>(), sa.consumers.keys().collect::<Vec<_>>());
        }
    }
}

/// A real assignment proposed again (an update, or a new leader's
/// re-proposal) carries its config as 8188ea93a's encodeAddStreamAssignment
/// writes it: re-marshalled from the decoded config, in the struct's field
/// order and with `encoding/json`'s escaping (`orders.\u003e`), which for
/// these 2.9.10 configs is exactly the bytes the server stored.
#[test]
fn real_assignments_proposed_again_carry_gos_config_bytes() {
    #[derive(serde::Deserialize)]
    struct Proposal<'a> {
        #[serde(borrow)]
        stream: &'a serde_json::value::RawValue,
    }
    let (_, streams) = decode("n2");
    let mut wildcards = 0;
    for sa in streams.values().flat_map(|a| a.values()) {
        let entry = ported::jetstream_cluster::ops::encode_add_stream_assignment(sa).expect("encodes");
        assert!(!entry.contains(&b'>'), "{}: Go escapes every >", sa.name());
        let p: Proposal = serde_json::from_slice(&entry[1..]).expect("a proposal");
        assert_eq!(p.stream.get(), sa.config_json.get(), "{}", sa.name());
        wildcards += sa.config_json.get().matches("\\u003e").count();
    }
    assert!(wildcards > 0, "the fixture's streams have wildcard subjects");
}

/// Each stream and consumer config of the real snapshot, decoded and
/// written again by the port, is Go's bytes: the fields in the order of
/// upstream's struct, typed and kept ones alike, with Go's escaping. (The
/// configs 2.9.10 wrote hold a subset of 8188ea93a's fields in the same
/// order; none of these consumers sets `idle_heartbeat`, the one field
/// 8188ea93a moved.)
#[test]
fn real_configs_reencode_to_gos_bytes() {
    let (_, streams) = decode("n2");
    let mut checked = 0;
    for asa in streams.values() {
        for sa in asa.values() {
            let cfg = sa.config.as_ref().expect("a decoded config");
            assert_eq!(String::from_utf8_lossy(&ported::go_json::to_vec(cfg).expect("encodes")), sa.config_json.get(), "{}", sa.name());
            checked += 1;
            for ca in sa.consumers.values() {
                let cc = ca.config.as_ref().expect("a decoded consumer config");
                assert!(!ca.config_json.get().contains("idle_heartbeat"));
                assert_eq!(String::from_utf8_lossy(&ported::go_json::to_vec(cc).expect("encodes")), ca.config_json.get(), "{}", ca.name);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10, "4 streams and 6 consumers");
}

#[test]
fn flipped_byte_or_truncation_is_rejected() {
    let buf = fs::read(snap_file("n1")).expect("snapshot");
    let codec = SnapshotCodec::new("_meta_");
    for i in 0..buf.len() {
        let mut b = buf.clone();
        b[i] ^= 0x01;
        match codec.decode(&b) {
            Err(SnapshotError::ChecksumMismatch { .. }) => {}
            other => panic!("flip at {i}: {other:?}"),
        }
    }
    for n in [0, 10, 27, 28, buf.len() / 2, buf.len() - 1] {
        assert!(codec.decode(&buf[..n]).is_err(), "truncated to {n} accepted");
    }
    assert!(SnapshotCodec::new("S-R3F-other").decode(&buf).is_err());
}
