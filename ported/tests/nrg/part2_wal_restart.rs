//! Restarting a node on its own file WAL: truncation of removed, invalid
//! or misaligned entries at start-up, and replayed membership entries.
//! Ports of raft_test.go tests 68, 81, 82 and 105 at nats-server 8188ea93a.
//! Go builds a filestore in a temp dir; here a file WAL on the simulated
//! disk, reopened on restart like `newFileStore(fcfg, scfg)`.

use std::cell::RefCell;
use std::rc::Rc;

use ported::raft::{Entry, EntryType};
use ported::sim::Cluster;

use crate::helpers::cluster;
use crate::part2_support::{
    ae, bootstrap, encode, file_wal, init_file_node, ix, sample_entries, stop_node, wal_summary, SharedWal, NATS0,
};
use ported::sim::sweep;

const STORE: &str = "/S-1/raft-test";
const WAL_DIR: &str = "/S-1/raft-test-wal";

// Go: newFileStore, bootstrapRaftNode(cfg, nil, false), initRaftNode.
fn fresh_node(test: &str) -> (Cluster, usize) {
    let mut c = cluster(test, "R3S", 3);
    let wal = file_wal(&c, WAL_DIR);
    bootstrap(&c, STORE, &[], false);
    let n = init_file_node(&mut c, None, STORE, Box::new(wal));
    (c, n)
}

// Go: n.Stop(); n.WaitForStop(); fs.Stop(); then a new filestore on the
// same directory and initRaftNode on it.
fn restart(c: &mut Cluster, n: usize) {
    stop_node(c, n);
    let wal = file_wal(c, WAL_DIR);
    init_file_node(c, Some(n), STORE, Box::new(wal));
}

/// Port of TestNRGTruncateOnStartup
#[test]
fn test_nrg_truncate_on_startup() {
    sweep("test_nrg_truncate_on_startup", || test_nrg_truncate_on_startup_seeded());
}

fn test_nrg_truncate_on_startup_seeded() {
    let mut c = cluster("test_nrg_truncate_on_startup", "R3S", 3);
    let fs = Rc::new(RefCell::new(file_wal(&c, WAL_DIR)));
    bootstrap(&c, STORE, &[], false);
    let n = init_file_node(&mut c, None, STORE, Box::new(SharedWal(fs.clone())));

    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    let mut ae_msg2 = encode(ae(NATS0, 1, 0, 1, 1, entries));

    // Two messages stored the normal way.
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_msg1, aesub);
    c.node(n).process_append_entry(ae_msg2.clone(), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert_eq!(wal_summary(c.node(n).wal_mut().state()), (2, 1, 2, 0));

    // A truncation only half done before a hard kill.
    assert_eq!(fs.borrow_mut().remove_msg(2), Ok(true));
    assert_eq!(wal_summary(c.node(n).wal_mut().state()), (1, 1, 2, 1));

    // On restart the removed message is truncated away.
    restart(&mut c, n);
    assert_eq!(wal_summary(c.node(n).wal_mut().state()), (1, 1, 1, 0));

    // An invalid append entry stored by hand.
    ae_msg2.pindex = 0;
    let ae_msg2 = encode(ae_msg2);
    c.node(n).wal_mut().store_msg(&ae_msg2.buf).expect("stores");
    assert_eq!(wal_summary(c.node(n).wal_mut().state()), (2, 1, 2, 0));

    // On restart the invalid entry is truncated away.
    restart(&mut c, n);
    assert_eq!(wal_summary(c.node(n).wal_mut().state()), (1, 1, 1, 0));
}

/// Port of TestNRGTruncateLogWithMisalignedSnapshotGap
#[test]
fn test_nrg_truncate_log_with_misaligned_snapshot_gap() {
    sweep("test_nrg_truncate_log_with_misaligned_snapshot_gap", || test_nrg_truncate_log_with_misaligned_snapshot_gap_seeded());
}

fn test_nrg_truncate_log_with_misaligned_snapshot_gap_seeded() {
    let (mut c, n) = fresh_node("test_nrg_truncate_log_with_misaligned_snapshot_gap");
    let entries = sample_entries();
    let aesub = ix(&mut c, n).aesub();
    let msgs = [(0, 0, 0), (0, 1, 1), (2, 1, 2)].map(|(commit, pterm, pindex)| encode(ae(NATS0, 1, commit, pterm, pindex, entries.clone())));
    for (i, m) in msgs.iter().enumerate() {
        c.node(n).process_append_entry(m.clone(), aesub);
        assert_eq!(ix(&mut c, n).pindex(), i as u64 + 1);
    }

    // Applied back down to 1, then a snapshot.
    c.node(n).applied(1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    let st = c.node(n).wal_mut().state();
    assert_eq!((st.first_seq, st.last_seq), (2, 3));

    // Compact further so the WAL no longer lines up with the snapshot.
    c.node(n).wal_mut().compact(3).expect("compacts");
    let st = c.node(n).wal_mut().state();
    assert_eq!((st.first_seq, st.last_seq), (3, 3));

    // On restart the gap is detected and the WAL truncated: the missing
    // entries cannot be skipped.
    restart(&mut c, n);
    let st = c.node(n).wal_mut().state();
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (0, 2, 1));
    assert_eq!(ix(&mut c, n).pindex(), 1);

    // The missing messages can be stored again.
    let aesub = ix(&mut c, n).aesub();
    for (i, m) in msgs[1..].iter().enumerate() {
        c.node(n).process_append_entry(encode(m.clone()), aesub);
        assert_eq!(ix(&mut c, n).pindex(), i as u64 + 2);
    }
}

/// Port of TestNRGTruncateLogWithMissingSnapshot
#[test]
fn test_nrg_truncate_log_with_missing_snapshot() {
    sweep("test_nrg_truncate_log_with_missing_snapshot", || test_nrg_truncate_log_with_missing_snapshot_seeded());
}

fn test_nrg_truncate_log_with_missing_snapshot_seeded() {
    let (mut c, n) = fresh_node("test_nrg_truncate_log_with_missing_snapshot");
    let entries = sample_entries();
    let aesub = ix(&mut c, n).aesub();
    for (i, (commit, pterm, pindex)) in [(0, 0, 0), (0, 1, 1), (2, 1, 2)].into_iter().enumerate() {
        c.node(n).process_append_entry(encode(ae(NATS0, 1, commit, pterm, pindex, entries.clone())), aesub);
        assert_eq!(ix(&mut c, n).pindex(), i as u64 + 1);
    }

    // A snapshot that only compacted, without installing a snapshot file.
    c.node(n).wal_mut().compact(2).expect("compacts");
    let st = c.node(n).wal_mut().state();
    assert_eq!((st.first_seq, st.last_seq), (2, 3));

    // On restart the gap is detected and the WAL truncated.
    restart(&mut c, n);
    let st = c.node(n).wal_mut().state();
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (0, 0, 0));
    assert_eq!(ix(&mut c, n).pindex(), 0);
}

/// Port of TestNRGReplayAddPeerKeepsClusterSize
#[test]
fn test_nrg_replay_add_peer_keeps_cluster_size() {
    sweep("test_nrg_replay_add_peer_keeps_cluster_size", || test_nrg_replay_add_peer_keeps_cluster_size_seeded());
}

fn test_nrg_replay_add_peer_keeps_cluster_size_seeded() {
    let mut c = cluster("test_nrg_replay_add_peer_keeps_cluster_size", "R3S", 3);
    let wal = file_wal(&c, WAL_DIR);

    // Peer state of a three-node group.
    let me = c.servers[0].id.clone();
    let (peer_a, peer_b) = ("yrzKKRBu", "cnrtt3eg");
    bootstrap(&c, STORE, &[me.clone(), peer_a.to_string(), peer_b.to_string()], true);
    let n = init_file_node(&mut c, None, STORE, Box::new(wal));
    assert_eq!(c.node(n).cluster_size(), 3);

    // A normal entry and an EntryAddPeer, both committed; the latter used
    // to break the restart.
    let ae_msg1 = encode(ae(&me, 2, 0, 0, 0, sample_entries()));
    let ae_msg2 = encode(ae(&me, 2, 2, 2, 1, vec![Entry::new(EntryType::AddPeer, peer_a.as_bytes())]));
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_msg1, aesub);
    c.node(n).process_append_entry(ae_msg2, aesub);

    // Restart, replaying both entries. With the bug the replayed AddPeer
    // made the size 1 before the peer state was read.
    restart(&mut c, n);
    assert_eq!(c.node(n).cluster_size(), 3);
    assert_eq!(ix(&mut c, n).qn(), 2);

    stop_node(&mut c, n);
}
