//! Meta recovery from real nats-server 2.9.10 meta group directories left by
//! an unclean stop (`tests/fixtures/real_cluster_wal/`, made by
//! `ported/tools/real_cluster/run.sh --unclean`): the recovered assignments
//! against what the servers reported before the kill, and every flipped
//! byte and every truncation of a real WAL block against what Go's
//! filestore does with it.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::common::{assert_config_agrees, fixture, fixture_json, peer_ids, peers_of};
use ported::filestore::{BadRecord, StoreEvent};
use ported::jetstream_cluster::meta_wal::{recover_meta, MetaRecovery, MetaWalError};
use ported::jetstream_cluster::StreamMap;
use ported::raft::RaftError;
use ported::raft_log::{RaftDirFiles, RaftLogError, WalRepair};
use serde_json::Value;

const DIR: &str = "real_cluster_wal";
const NODES: [&str; 3] = ["n1", "n2", "n3"];

/// A node directory's files, as `meta_recover` reads them.
fn node_files(node: &str) -> RaftDirFiles {
    let root = fixture(DIR).join(node);
    let mut entries = Vec::new();
    collect(&root, &root, &mut entries);
    RaftDirFiles::from_entries(entries)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in fs::read_dir(dir).expect("fixture dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("below root").to_string_lossy().replace('\\', "/");
            out.push((rel, fs::read(&p).expect("fixture file")));
        }
    }
}

fn recover(files: &RaftDirFiles) -> MetaRecovery {
    recover_meta(files).expect("recovers")
}

/// Assignments with the fields a server sets locally cleared: the preferred
/// leader hint and nothing else differs between servers.
fn comparable(mut m: StreamMap) -> StreamMap {
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

fn stored(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).expect("raw config")
}

#[test]
fn meta_recover_on_real_fixtures_gives_what_the_servers_reported() {
    let ids = peer_ids(DIR);
    assert_eq!(ids.len(), 3);
    let report = fixture_json(DIR, "client_report.json");
    for node in NODES {
        let r = recover(&node_files(node));
        assert!(r.warnings.is_empty() && r.raft.repairs.is_empty(), "{node}: {:?} {:?}", r.warnings, r.raft.warnings);
        let snap = r.raft.snapshot.as_ref().expect("the removal made a snapshot");
        assert!(r.raft.commit > snap.last_index, "{node}: entries after the snapshot are committed");
        let (mut streams_seen, mut consumers_seen) = (0, 0);
        for acc in report.as_array().expect("accounts") {
            let account = acc["account"].as_str().expect("account");
            let reported: Vec<&Value> = acc["streams"].as_array().expect("streams").iter().collect();
            let names: BTreeSet<&str> = reported.iter().map(|s| s["config"]["name"].as_str().expect("name")).collect();
            let have: BTreeSet<&str> = r.streams.get(account).map(|a| a.keys().map(|k| k.as_str()).collect()).unwrap_or_default();
            assert_eq!(have, names, "{node} {account}");
            for rs in reported {
                let name = rs["config"]["name"].as_str().expect("name");
                let sa = &r.streams[account][name];
                streams_seen += 1;
                assert_eq!(sa.created.0, rs["created"].as_str().expect("created"), "{node} {name}");
                assert_config_agrees(name, &rs["config"], &stored(&sa.config_json), &["name", "subjects", "storage", "num_replicas"]);
                let group = sa.group.as_ref().expect("group");
                assert_eq!(group.peers.iter().cloned().collect::<BTreeSet<_>>(), peers_of(&rs["cluster"], &ids), "{node} {name}");
                assert!(sa.unsupported.is_none());
                let rcons: Vec<&Value> =
                    acc["consumers"].as_array().expect("consumers").iter().filter(|c| c["stream_name"] == rs["config"]["name"]).collect();
                let cnames: BTreeSet<&str> = rcons.iter().map(|c| c["name"].as_str().expect("consumer")).collect();
                assert_eq!(sa.consumers.keys().map(|k| k.as_str()).collect::<BTreeSet<_>>(), cnames, "{node} {name}");
                for rc in rcons {
                    let ca = &sa.consumers[rc["name"].as_str().expect("consumer")];
                    consumers_seen += 1;
                    assert_eq!(ca.created.0, rc["created"].as_str().expect("created"));
                    assert_config_agrees(&ca.name, &rc["config"], &stored(&ca.config_json), &["durable_name", "ack_policy"]);
                    let cg = ca.group.as_ref().expect("consumer group");
                    assert_eq!(cg.peers.iter().cloned().collect::<BTreeSet<_>>(), peers_of(&rc["cluster"], &ids), "{}", ca.name);
                }
            }
        }
        assert_eq!((streams_seen, consumers_seen), (5, 3), "{node}");
        // The ops after the snapshot really are in: the updates' values.
        let orders = stored(&r.streams["ACC_A"]["ORDERS"].config_json);
        assert_eq!((orders["max_msgs"].as_i64(), orders["description"].as_str()), (Some(20000), Some("orders R3 file, updated")));
        let proc_cfg = stored(&r.streams["ACC_A"]["ORDERS"].consumers["proc"].config_json);
        assert_eq!(proc_cfg["max_deliver"].as_i64(), Some(9));
    }
}

#[test]
fn each_server_hosts_a_subset_of_the_recovered_assignments() {
    for (i, node) in NODES.iter().enumerate() {
        let r = recover(&node_files(node));
        let jsz = fixture_json(DIR, &format!("jsz_n{}.json", i + 1));
        let mut hosted = 0;
        for acc in jsz["account_details"].as_array().into_iter().flatten() {
            let account = acc["name"].as_str().expect("account");
            for sd in acc["stream_detail"].as_array().into_iter().flatten() {
                let name = sd["name"].as_str().expect("stream");
                let sa = r.streams.get(account).and_then(|a| a.get(name)).unwrap_or_else(|| panic!("{node}: {account} {name} missing"));
                assert_config_agrees(name, &sd["config"], &stored(&sa.config_json), &["name"]);
                assert_eq!(sa.group.as_ref().expect("group").cluster, "C1");
                hosted += 1;
            }
        }
        assert!(hosted > 0, "{node} hosts nothing?");
    }
}

#[test]
fn every_node_recovers_the_same_assignments() {
    let first = comparable(recover(&node_files("n1")).streams);
    for node in &NODES[1..] {
        assert_eq!(comparable(recover(&node_files(node)).streams), first, "{node}");
    }
}

/// Records of a block as (offset, length, sequence), read independently of
/// the port: a 4-byte length (header bit cleared) and the 8-byte sequence.
fn records(blk: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < blk.len() {
        let rl = (u32::from_le_bytes(blk[at..at + 4].try_into().expect("4")) & 0x7fff_ffff) as usize;
        let seq = u64::from_le_bytes(blk[at + 4..at + 12].try_into().expect("8"));
        out.push((at, rl, seq));
        at += rl;
    }
    out
}

fn with_block(files: &RaftDirFiles, blk: Vec<u8>) -> RaftDirFiles {
    let mut f = files.clone();
    f.store.msgs.insert("1.blk".into(), blk);
    f
}

/// How Go's filestore treats a record whose byte `p` (from the record's
/// start) was changed to `new`: a changed subject length that still fits is
/// invisible to the checksum (it covers subject and payload back to back);
/// every other change fails the length checks or the checksum.
fn accepted_by_filestore(rec: &[u8], p: usize, new: u8) -> bool {
    if p != 20 && p != 21 {
        return false;
    }
    let mut hdr = [rec[20], rec[21]];
    hdr[p - 20] = new;
    let slen = u16::from_le_bytes(hdr) as i64;
    let rl = u32::from_le_bytes(rec[0..4].try_into().expect("4"));
    let shlen = slen + if rl & (1 << 31) != 0 { 4 } else { 0 };
    let dlen = (rl & 0x7fff_ffff) as i64 - 22;
    shlen <= dlen - 8
}

/// Every byte of n1's block, each flipped two ways (all bits, and one bit
/// that moves with the position), against an independent model of Go's
/// filestore: the block is truncated at the damaged record, except for a
/// subject length that still fits, which only raft's decoding rejects.
#[test]
fn every_flipped_byte_of_a_real_wal_block_is_handled_as_go_does() {
    let mut checked = 0usize;
    // (truncated by the filestore, accepted but compacted away, accepted and rejected by raft)
    let mut seen = [0usize; 3];
    {
        let node = "n1";
        let files = node_files(node);
        let blk = files.store.msgs["1.blk"].clone();
        let recs = records(&blk);
        let clean = comparable(recover(&files).streams);
        let snap_index = recover(&files).raft.snapshot.expect("snapshot").last_index;
        // What recovery gives when the block ends before record k.
        let cut: Vec<StreamMap> = recs.iter().map(|&(o, _, _)| comparable(recover(&with_block(&files, blk[..o].to_vec())).streams)).collect();
        for &(o, rl, seq) in &recs {
            let k = recs.iter().position(|r| r.0 == o).expect("record");
            for p in 0..rl {
                for mask in [0xffu8, 1 << ((o + p) % 8)] {
                    let mut bad = blk.clone();
                    bad[o + p] ^= mask;
                    let what = format!("{node}: byte {} (record {k} seq {seq}, +{p}) ^ {mask:#04x}", o + p);
                    let out = catch_unwind(AssertUnwindSafe(|| recover_meta(&with_block(&files, bad.clone()))))
                        .unwrap_or_else(|_| panic!("{what}: panicked"));
                    let r = out.unwrap_or_else(|e| panic!("{what}: {e}"));
                    let truncated_at = r.raft.wal_events.iter().find_map(|e| match e {
                        StoreEvent::Truncated { truncation, .. } => Some((truncation.offset, truncation.reason.clone())),
                        _ => None,
                    });
                    if accepted_by_filestore(&blk[o..o + rl], p, bad[o + p]) {
                        assert_eq!(truncated_at, None, "{what}");
                        if seq <= snap_index {
                            // Compacted away under the snapshot before it is read.
                            assert_eq!(comparable(r.streams), clean, "{what}");
                            assert!(r.raft.repairs.is_empty(), "{what}");
                            seen[1] += 1;
                        } else {
                            // Raft truncates its log before the entry it cannot
                            // read (to the snapshot when it is the first one).
                            let first_after_snapshot = seq == snap_index + 1;
                            let to = if first_after_snapshot { snap_index } else { seq - 1 };
                            assert_eq!(r.raft.repairs, vec![WalRepair::Truncated(to)], "{what}: {:?}", r.raft.warnings);
                            assert_eq!(comparable(r.streams), cut[k], "{what}");
                            seen[2] += 1;
                        }
                    } else {
                        let (off, reason) = truncated_at.unwrap_or_else(|| panic!("{what}: not truncated"));
                        assert_eq!(off, o, "{what}");
                        assert!(matches!(reason, BadRecord::Checksum | BadRecord::Sanity { .. } | BadRecord::Overrun { .. }), "{what}: {reason:?}");
                        assert!(r.raft.repairs.is_empty(), "{what}: {:?}", r.raft.warnings);
                        assert_eq!(comparable(r.streams), cut[k], "{what}");
                        seen[0] += 1;
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * node_files("n1").store.msgs["1.blk"].len());
    assert!(seen.iter().all(|&n| n > 0), "every outcome occurs: {seen:?}");
}

#[test]
fn every_truncation_of_a_real_wal_block_is_handled_as_go_does() {
    let files = node_files("n1");
    let blk = files.store.msgs["1.blk"].clone();
    let recs = records(&blk);
    let cut: Vec<StreamMap> = recs.iter().map(|&(o, _, _)| comparable(recover(&with_block(&files, blk[..o].to_vec())).streams)).collect();
    for len in 0..blk.len() {
        let k = recs.iter().rposition(|r| r.0 <= len).expect("record");
        let r = recover(&with_block(&files, blk[..len].to_vec()));
        let truncated = r.raft.wal_events.iter().find_map(|e| match e {
            StoreEvent::Truncated { truncation, .. } => Some(truncation.offset),
            _ => None,
        });
        if len == recs[k].0 {
            assert_eq!(truncated, None, "cut at {len}, a record boundary");
        } else {
            assert_eq!(truncated, Some(recs[k].0), "cut at {len}");
        }
        assert_eq!(comparable(r.streams), cut[k], "cut at {len}");
        assert!(r.raft.repairs.is_empty(), "cut at {len}: {:?}", r.raft.warnings);
    }
    // The cuts really lose entries: before the first entry after the
    // snapshot, only the snapshot's assignments remain.
    assert_ne!(cut[0], comparable(recover(&files).streams));
}

#[test]
fn flipped_bytes_of_the_other_files_never_panic() {
    let files = node_files("n1");
    let clean = comparable(recover(&files).streams);
    let blk = files.store.msgs["1.blk"].clone();
    let prefixes: Vec<StreamMap> =
        records(&blk).iter().map(|&(o, _, _)| comparable(recover(&with_block(&files, blk[..o].to_vec())).streams)).collect();
    let idx = files.store.msgs["1.idx"].clone();
    for i in 0..idx.len() {
        let mut f = files.clone();
        f.store.msgs.get_mut("1.idx").expect("idx")[i] ^= 0xff;
        let r = catch_unwind(AssertUnwindSafe(|| recover_meta(&f))).unwrap_or_else(|_| panic!("idx byte {i}: panicked"));
        // The index file is stale either way, but the fields it sets before
        // failing are where the block scan starts (as upstream): a damaged
        // first sequence or delete map can hide log entries, so recovery
        // gives the assignments of the whole log or of a prefix of it.
        let streams = comparable(r.expect("recovers").streams);
        assert!(streams == clean || prefixes.contains(&streams), "idx byte {i}");
    }
    let (snap_name, snap) = files.snapshots.iter().next().map(|(n, b)| (n.clone(), b.clone())).expect("snapshot");
    for i in 0..snap.len() {
        let mut f = files.clone();
        f.snapshots.get_mut(&snap_name).expect("snap")[i] ^= 0x01;
        match recover_meta(&f) {
            Err(MetaWalError::Raft(RaftLogError::Start(RaftError::SnapshotCorrupt(_)))) => {}
            other => panic!("snapshot byte {i}: {:?}", other.map(|r| r.streams.len())),
        }
    }
    for name in ["peers.idx", "tav.idx"] {
        let buf = if name == "peers.idx" { files.peer_state.clone() } else { files.term_vote.clone() }.expect("file");
        for i in 0..buf.len() {
            let mut f = files.clone();
            let mut b = buf.clone();
            b[i] ^= 0xff;
            if name == "peers.idx" { f.peer_state = Some(b) } else { f.term_vote = Some(b) }
            // The snapshot carries the peers, so peers.idx is not read; the
            // term and vote never change the assignments.
            let r = catch_unwind(AssertUnwindSafe(|| recover_meta(&f))).unwrap_or_else(|_| panic!("{name} byte {i}: panicked"));
            assert_eq!(comparable(r.expect("recovers").streams), clean, "{name} byte {i}");
        }
    }
}
