//! Installing snapshots: asynchronous checkpoints, forced installs while
//! catch-ups run, checkpoints after a catch-up snapshot, and a leader whose
//! snapshot is corrupt. Ports of raft_test.go tests 80 and 100–102 at
//! nats-server 8188ea93a.

use ported::peer_state::encode_peer_state;
use ported::raft::RaftError;
use ported::sim::SmKind;
use ported::snapshot_file::Snapshot;

use crate::helpers::{cluster, ms};
use crate::part2_support::{ae, encode, ix, leader_of, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGNoLogResetOnCorruptedSendToFollower
///
/// Go ends with `c.waitOnAllCurrent()`, which waits for each server's
/// JetStream meta group, not for this group: with the meta layer absent it
/// amounts to its first 100ms sleep per server, simulated here.
#[test]
fn test_nrg_no_log_reset_on_corrupted_send_to_follower() {
    sweep("test_nrg_no_log_reset_on_corrupted_send_to_follower", || test_nrg_no_log_reset_on_corrupted_send_to_follower_seeded());
}

fn test_nrg_no_log_reset_on_corrupted_send_to_follower_seeded() {
    let mut c = cluster("test_nrg_no_log_reset_on_corrupted_send_to_follower", "R3S", 2);
    let rg = c.create_raft_group("TEST", 2, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let follower = rg.non_leader(&c).expect("a follower");

    // Several append entries.
    for i in 0..10 {
        c.propose_delta(leader, i + 1);
        c.run_for(ms(50));
    }

    // Snapshot and compact.
    c.wait_on_total(&rg, 55);
    c.adder_snapshot(leader).expect("leader snapshots");
    assert_eq!(c.node(leader).wal_mut().state().msgs, 0);

    // The follower loses its state, so it will need the snapshot.
    c.node(follower).wal_mut().truncate(0).expect("truncate");
    c.stop(follower);

    // Subtly corrupt the leader's snapshot file.
    let snapfile = c.node(leader).snapfile().to_string();
    let data = c.world.disk.borrow().file(&snapfile).map(|d| d.to_vec()).expect("snapshot file on disk");
    c.world.disk.borrow_mut().put_file(&snapfile, &data[..data.len() - 1]);

    // The follower asks for the snapshot; the leader must not blow its
    // log away over the corrupt file.
    c.restart(follower);
    c.run_for(ms(100) * c.servers.len() as u32);
    assert_ne!(c.node(leader).wal_mut().state().last_seq, 0);
}

/// Port of TestNRGInstallSnapshotFromCheckpoint
#[test]
fn test_nrg_install_snapshot_from_checkpoint() {
    sweep("test_nrg_install_snapshot_from_checkpoint", || test_nrg_install_snapshot_from_checkpoint_seeded());
}

fn test_nrg_install_snapshot_from_checkpoint_seeded() {
    let (mut c, n) = single_node("test_nrg_install_snapshot_from_checkpoint");
    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    let ae_msg2 = encode(ae(NATS0, 1, 1, 1, 1, entries.clone()));
    let ae_msg3 = encode(ae(NATS0, 1, 2, 1, 2, entries.clone()));
    let ae_msg4 = encode(ae(NATS0, 1, 3, 1, 3, entries));
    let ae_heartbeat = encode(ae(NATS0, 1, 4, 1, 4, vec![]));
    let aesub = ix(&mut c, n).aesub();

    // The first set of messages.
    c.node(n).process_append_entry(ae_msg1, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (1, 0));
    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (2, 1));
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);

    // The first checkpoint: no previous snapshot, one entry to compact.
    let node = c.node(n);
    let ck = node.create_snapshot_checkpoint(false).expect("checkpoint");
    assert_eq!(ck.load_last_snapshot(node), Err(RaftError::NoSnapAvailable));
    let seq = ck.append_entries_seq(node);
    assert_eq!(seq.len(), 1);
    for ae in &seq {
        assert_eq!(ae.as_ref().expect("entry loads").pindex, 0);
    }

    // Install it and read it back.
    ck.install_snapshot(node, b"old").expect("installs");
    let snap = node.internals().load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!(snap.data, b"old");

    // An installed checkpoint is finished: everything aborts.
    assert_eq!(ck.load_last_snapshot(node), Err(RaftError::SnapAborted));
    assert_eq!(ck.append_entries_seq(node), vec![Err(RaftError::SnapAborted)]);
    assert_eq!(ck.install_snapshot(node, &[]), Err(RaftError::SnapAborted));

    // Two more entries to compact next time.
    c.node(n).process_append_entry(ae_msg3, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (3, 2));
    c.node(n).process_append_entry(ae_msg4, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (4, 3));
    c.node(n).applied(3);
    assert_eq!(ix(&mut c, n).applied(), 3);

    // A second checkpoint while one is open fails.
    let node = c.node(n);
    let ck = node.create_snapshot_checkpoint(false).expect("checkpoint");
    assert_eq!(node.create_snapshot_checkpoint(false), Err(RaftError::SnapInProgress));

    // An aborted checkpoint aborts everything; the sequence still yields
    // one item so the error can be seen.
    ck.abort(node);
    assert_eq!(ck.load_last_snapshot(node), Err(RaftError::SnapAborted));
    assert_eq!(ck.append_entries_seq(node), vec![Err(RaftError::SnapAborted)]);
    assert_eq!(ck.install_snapshot(node, &[]), Err(RaftError::SnapAborted));

    // The second checkpoint loads the previous snapshot and both entries.
    let ck = node.create_snapshot_checkpoint(false).expect("checkpoint");
    assert_eq!(ck.load_last_snapshot(node), Ok(b"old".to_vec()));
    let seq = ck.append_entries_seq(node);
    assert_eq!(seq.len(), 2);
    for (i, ae) in seq.iter().enumerate() {
        assert_eq!(ae.as_ref().expect("entry loads").pindex, i as u64 + 1, "entry {i}");
    }
    ck.install_snapshot(node, b"new").expect("installs");
    let mut snap = node.internals().load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!(snap.data, b"new");

    // Commit and apply the last entry for the final edge case.
    c.node(n).process_append_entry(ae_heartbeat, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (4, 4));
    c.node(n).applied(4);
    assert_eq!(ix(&mut c, n).applied(), 4);

    // With an asynchronous snapshot open, a normal install is refused...
    let node = c.node(n);
    let ck = node.create_snapshot_checkpoint(false).expect("checkpoint");
    assert_eq!(node.install_snapshot_data(&[], false), Err(RaftError::SnapInProgress));
    assert_eq!(ck.load_last_snapshot(node), Ok(b"new".to_vec()));

    // ...but the internal install (a snapshot from catch-up) goes ahead and
    // aborts the checkpoint, which must never overwrite it with older data.
    snap.last_index += 1;
    node.internals().install_snapshot(snap).expect("installs");
    assert_eq!(ck.load_last_snapshot(node), Err(RaftError::SnapAborted));

    // The snapshot changed underneath the checkpoint.
    node.internals().set_snapshotting(true);
    assert_eq!(ck.load_last_snapshot(node), Err(RaftError::SnapshotIndexMismatch));
    assert_eq!(RaftError::SnapshotIndexMismatch.to_string(), "snapshot index mismatch");
}

/// Port of TestNRGInstallSnapshotForce
#[test]
fn test_nrg_install_snapshot_force() {
    sweep("test_nrg_install_snapshot_force", || test_nrg_install_snapshot_force_seeded());
}

fn test_nrg_install_snapshot_force_seeded() {
    let (mut c, n) = single_node("test_nrg_install_snapshot_force");
    let ae_msg = encode(ae(NATS0, 1, 0, 0, 0, sample_entries()));
    let ae_heartbeat = encode(ae(NATS0, 1, 1, 1, 1, vec![]));
    let aesub = ix(&mut c, n).aesub();

    c.node(n).process_append_entry(ae_msg, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (1, 0));
    c.node(n).process_append_entry(ae_heartbeat, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (1, 1));
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);

    // A catch-up in progress blocks snapshots unless forced.
    ix(&mut c, n).add_idle_catchup("blockSnapshots");

    assert_eq!(c.node(n).install_snapshot_data(&[], false), Err(RaftError::CatchupsRunning));
    assert_eq!(ix(&mut c, n).papplied(), 0);

    c.node(n).install_snapshot_data(&[], true).expect("forced install");
    assert_eq!(ix(&mut c, n).papplied(), 1);
}

/// Port of TestNRGInstallSnapshotFromCheckpointAfterTruncateToSnapshot
#[test]
fn test_nrg_install_snapshot_from_checkpoint_after_truncate_to_snapshot() {
    sweep("test_nrg_install_snapshot_from_checkpoint_after_truncate_to_snapshot", || test_nrg_install_snapshot_from_checkpoint_after_truncate_to_snapshot_seeded());
}

fn test_nrg_install_snapshot_from_checkpoint_after_truncate_to_snapshot_seeded() {
    let (mut c, n) = single_node("test_nrg_install_snapshot_from_checkpoint_after_truncate_to_snapshot");
    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    let ae_heartbeat1 = encode(ae(NATS0, 1, 1, 1, 1, vec![]));
    let ae_msg2 = encode(ae(NATS0, 1, 100, 1, 100, entries));
    let ae_heartbeat2 = encode(ae(NATS0, 1, 101, 1, 101, vec![]));
    let aesub = ix(&mut c, n).aesub();

    // The first message.
    c.node(n).process_append_entry(ae_msg1, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (1, 0));
    c.node(n).process_append_entry(ae_heartbeat1, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (1, 1));
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);

    // A normal snapshot sets papplied.
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    assert_eq!(ix(&mut c, n).papplied(), 1);

    // Caught up by a leader with a snapshot.
    let mut i = ix(&mut c, n);
    let snap = Snapshot {
        last_term: 1,
        last_index: 100,
        peer_state: encode_peer_state(&i.current_peer_state()),
        data: b"catchup".to_vec(),
    };
    i.set_pterm(snap.last_term);
    i.set_pindex(snap.last_index);
    i.set_commit(snap.last_index);
    i.install_snapshot(snap).expect("installs");
    assert_eq!(i.papplied(), 100);
    assert_eq!(i.applied(), 1);

    // Uncommitted entries truncated back to that snapshot.
    c.node(n).truncate_wal(1, 100);
    assert_eq!(ix(&mut c, n).papplied(), 100);

    // Nothing applied since the previous snapshot: nothing to snapshot.
    assert_eq!(c.node(n).create_snapshot_checkpoint(false), Err(RaftError::NoSnapAvailable));

    // Only the previous snapshot applied: still nothing new.
    c.node(n).applied(100);
    assert_eq!(ix(&mut c, n).applied(), 100);
    assert_eq!(c.node(n).create_snapshot_checkpoint(false), Err(RaftError::NoSnapAvailable));

    // A second message makes a snapshot possible.
    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (101, 100));
    c.node(n).process_append_entry(ae_heartbeat2, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (101, 101));
    c.node(n).applied(101);
    assert_eq!(ix(&mut c, n).applied(), 101);

    // The checkpoint loads the catch-up snapshot and the one new entry.
    let node = c.node(n);
    let ck = node.create_snapshot_checkpoint(false).expect("checkpoint");
    assert_eq!(ck.load_last_snapshot(node), Ok(b"catchup".to_vec()));
    let seq = ck.append_entries_seq(node);
    assert_eq!(seq.len(), 1);
    for ae in &seq {
        assert_eq!(ae.as_ref().expect("entry loads").pindex, 100);
    }
}
