//! Snapshots on a single memory node: ports of raft_test.go tests 32–36,
//! 39 and 43 at nats-server 8188ea93a. Go lists the snapshots directory
//! with `os.ReadDir`; here the simulated disk is listed.

use ported::peer_state::encode_peer_state;
use ported::raft::env::join;
use ported::raft::{Entry, EntryType, MemWal, Raft, RaftConfig, RaftState};
use ported::sim::world::SimHost;
use ported::sim::GLOBAL_ACCOUNT;
use ported::snapshot_file::SNAPSHOTS_DIR;

use crate::part1_support::{encode, read_dir, sample_entries, single_node, NATS0, NATS1};
use ported::sim::sweep;

/// Port of TestNRGDontRemoveSnapshotIfTruncateToApplied
#[test]
fn test_nrg_dont_remove_snapshot_if_truncate_to_applied() {
    sweep("test_nrg_dont_remove_snapshot_if_truncate_to_applied", || test_nrg_dont_remove_snapshot_if_truncate_to_applied_seeded());
}

fn test_nrg_dont_remove_snapshot_if_truncate_to_applied_seeded() {
    let (mut c, slot) = single_node("test_nrg_dont_remove_snapshot_if_truncate_to_applied");
    let world = c.world.clone();
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_msg = encode(NATS0, 1, 0, 0, 0, entries);
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg, aesub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.last_log().1, 1);

    // The upper layer applies.
    n.applied(1);

    // A snapshot is installed.
    n.install_snapshot_data(&[], false).expect("snapshot installs");
    let snapshots = join(n.store_dir(), SNAPSHOTS_DIR);
    assert_eq!(read_dir(&world, &snapshots).len(), 1);

    // Truncating to applied keeps it.
    let (applied, pterm) = (n.applied_index(), n.last_log().1);
    n.truncate_wal(pterm, applied);
    assert_eq!(read_dir(&world, &snapshots).len(), 1);
}

/// Port of TestNRGSnapshotAndTruncateToApplied
#[test]
fn test_nrg_snapshot_and_truncate_to_applied() {
    sweep("test_nrg_snapshot_and_truncate_to_applied", || test_nrg_snapshot_and_truncate_to_applied_seeded());
}

fn test_nrg_snapshot_and_truncate_to_applied_seeded() {
    let (mut c, slot) = single_node("test_nrg_snapshot_and_truncate_to_applied");
    let world = c.world.clone();
    let n = c.node(slot);
    let entries = sample_entries();

    n.internals().add_peer(NATS1);

    // Timeline of the other leader.
    let ae_msg1 = encode(NATS1, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS1, 1, 1, 1, 1, entries.clone());
    // Timeline while we were briefly leader.
    let ae_heartbeat1 = encode(NATS0, 2, 3, 1, 3, vec![]);
    let ae_msg3 = encode(NATS0, 2, 3, 1, 3, entries.clone());
    // The old leader is back.
    let ae_heartbeat2 = encode(NATS1, 3, 3, 1, 3, vec![]);
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS1);

    // The second entry commits the first.
    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS1);

    n.applied(1);

    // As leader, a heartbeat response commits the second entry (and our
    // peer-state entry).
    n.internals().switch_to_leader();
    n.set_test_state(Some(ae_heartbeat1.term), None, None);
    n.internals().process_append_entry_response(ported::raft::AppendEntryResponse::new(
        ae_heartbeat1.term,
        ae_heartbeat1.pindex,
        NATS1,
        true,
    ));
    assert_eq!(n.commit_index(), 3);

    n.applied(3);

    // The snapshot compacts the whole log.
    n.install_snapshot_data(&[], false).expect("snapshot installs");
    let snapshots = join(n.store_dir(), SNAPSHOTS_DIR);
    assert_eq!(read_dir(&world, &snapshots).len(), 1);
    assert_eq!(n.wal_mut().state().msgs, 0);

    // A third entry is stored but stays uncommitted.
    n.internals().store_to_wal(&ae_msg3).expect("stores");
    assert_eq!(n.commit_index(), 3);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(4).expect("entry 4").leader, NATS0);

    // The heartbeat of the returning leader must not lose commits.
    n.internals().stepdown(ported::raft::NO_LEADER);
    n.process_append_entry(ae_heartbeat2, aesub);
    assert_eq!(n.wal_mut().state().msgs, 0);
    assert_eq!(n.commit_index(), 3);
    assert_eq!(n.applied_index(), 3);
}

/// Port of TestNRGIgnoreDoubleSnapshot
#[test]
fn test_nrg_ignore_double_snapshot() {
    sweep("test_nrg_ignore_double_snapshot", || test_nrg_ignore_double_snapshot_seeded());
}

fn test_nrg_ignore_double_snapshot_seeded() {
    let (mut c, slot) = single_node("test_nrg_ignore_double_snapshot");
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    let ae_msg2 = encode(NATS0, 2, 1, 1, 1, entries.clone());
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.last_log().0, 1);
    assert_eq!(n.commit_index(), 0);

    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 1);

    n.applied(1);

    // A second entry, only to move pterm up.
    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.last_log(), (2, 2));
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.term(), 2);

    n.install_snapshot_data(&[], false).expect("snapshot installs");
    let snap = n.internals().load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!((snap.last_term, snap.last_index), (1, 1));

    // Snapshotting again does not overwrite it.
    assert_eq!(n.install_snapshot_data(&[], false), Err(ported::raft::RaftError::NoSnapAvailable));
    let snap = n.internals().load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!((snap.last_term, snap.last_index), (1, 1));
}

fn snapshot_entries(n: &mut Raft) -> Vec<Entry> {
    vec![
        Entry::new(EntryType::Snapshot, Vec::new()),
        Entry::new(EntryType::PeerState, encode_peer_state(&n.internals().current_peer_state())),
    ]
}

/// Port of TestNRGDontSwitchToCandidateWithInflightSnapshot
#[test]
fn test_nrg_dont_switch_to_candidate_with_inflight_snapshot() {
    sweep("test_nrg_dont_switch_to_candidate_with_inflight_snapshot", || test_nrg_dont_switch_to_candidate_with_inflight_snapshot_seeded());
}

fn test_nrg_dont_switch_to_candidate_with_inflight_snapshot_seeded() {
    let (mut c, slot) = single_node("test_nrg_dont_switch_to_candidate_with_inflight_snapshot");
    let n = c.node(slot);
    let snapshot = snapshot_entries(n);

    let ae_trigger_catchup = encode(NATS0, 1, 1, 1, 1, vec![]);
    let ae_catchup_snapshot = encode(NATS0, 1, 1, 1, 1, snapshot);
    let aesub = n.internals().aesub();

    // Into catch-up.
    n.process_append_entry(ae_trigger_catchup, aesub);
    let cs = n.internals().catchup().expect("catching up");
    assert_eq!(cs.pterm, 0);
    assert_eq!(cs.pindex, 0);

    // A snapshot arrives; the upper layer has yet to apply it.
    n.process_append_entry(ae_catchup_snapshot, cs.sub);
    assert_eq!(n.last_log().0, 1);
    assert_eq!(n.commit_index(), 1);

    // No campaign while the snapshot is unprocessed.
    n.switch_to_candidate();
    assert_eq!(n.state(), RaftState::Follower);

    n.applied(1);

    n.switch_to_candidate();
    assert_eq!(n.state(), RaftState::Candidate);
}

/// Port of TestNRGDontSwitchToCandidateWithMultipleInflightSnapshots
#[test]
fn test_nrg_dont_switch_to_candidate_with_multiple_inflight_snapshots() {
    sweep("test_nrg_dont_switch_to_candidate_with_multiple_inflight_snapshots", || test_nrg_dont_switch_to_candidate_with_multiple_inflight_snapshots_seeded());
}

fn test_nrg_dont_switch_to_candidate_with_multiple_inflight_snapshots_seeded() {
    let (mut c, slot) = single_node("test_nrg_dont_switch_to_candidate_with_multiple_inflight_snapshots");
    let n = c.node(slot);
    let snapshot = snapshot_entries(n);

    let ae_snapshot1 = encode(NATS0, 1, 0, 0, 0, snapshot.clone());
    let ae_snapshot2 = encode(NATS0, 1, 1, 1, 1, snapshot);
    let ae_heartbeat = encode(NATS0, 1, 2, 1, 2, vec![]);
    let aesub = n.internals().aesub();

    // Two snapshots sent to us.
    n.process_append_entry(ae_snapshot1, aesub);
    assert_eq!((n.last_log().0, n.commit_index(), n.applied_index()), (1, 0, 0));
    n.process_append_entry(ae_snapshot2, aesub);
    assert_eq!((n.last_log().0, n.commit_index(), n.applied_index()), (2, 1, 0));
    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!((n.last_log().0, n.commit_index(), n.applied_index()), (2, 2, 0));

    for i in 1..=2 {
        // Blocked while a snapshot is unprocessed.
        n.switch_to_candidate();
        assert_eq!(n.state(), RaftState::Follower);
        n.applied(i);
    }

    n.switch_to_candidate();
    assert_eq!(n.state(), RaftState::Candidate);
}

/// Port of TestNRGMultipleStopsDontPanic
#[test]
fn test_nrg_multiple_stops_dont_panic() {
    sweep("test_nrg_multiple_stops_dont_panic", || test_nrg_multiple_stops_dont_panic_seeded());
}

fn test_nrg_multiple_stops_dont_panic_seeded() {
    let (mut c, slot) = single_node("test_nrg_multiple_stops_dont_panic");
    let n = c.node(slot);
    for _ in 0..10 {
        n.stop();
    }
    assert_eq!(n.state(), RaftState::Closed);
}

/// Port of TestNRGMemoryWALEmptiesSnapshotsDir
#[test]
fn test_nrg_memory_wal_empties_snapshots_dir() {
    sweep("test_nrg_memory_wal_empties_snapshots_dir", || test_nrg_memory_wal_empties_snapshots_dir_seeded());
}

fn test_nrg_memory_wal_empties_snapshots_dir_seeded() {
    let (mut c, slot) = single_node("test_nrg_memory_wal_empties_snapshots_dir");
    let entries = sample_entries();

    let ae_msg = encode(NATS0, 1, 0, 0, 0, entries);
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    {
        let n = c.node(slot);
        let aesub = n.internals().aesub();
        n.process_append_entry(ae_msg, aesub);
        assert_eq!(n.last_log().0, 1);
        assert_eq!(n.commit_index(), 0);

        n.process_append_entry(ae_heartbeat, aesub);
        assert_eq!(n.commit_index(), 1);

        n.applied(1);
        n.install_snapshot_data(&[], false).expect("snapshot installs");

        n.stop();
        n.wait_for_stop();
    }

    // The node comes back on the same store with a fresh memory WAL.
    let sd = c.node(slot).store_dir().to_string();
    let server = c.nodes[slot].server;
    let host = SimHost::new(c.world.clone(), server, slot, &c.servers[server].name);
    let cfg = RaftConfig::new("TEST", &sd, Box::new(MemWal::new()));
    let id = c.servers[server].id.clone();
    let n = match Raft::init(Box::new(host), &id, GLOBAL_ACCOUNT, cfg, c.timings) {
        Ok(n) => n,
        Err(e) => panic!("init raft node: {e}"),
    };
    c.nodes[slot].raft = n;

    // A memory WAL cannot back a snapshot, so the directory was emptied.
    let files = read_dir(&c.world, &join(&sd, SNAPSHOTS_DIR));
    assert_eq!(files.len(), 0);
}
