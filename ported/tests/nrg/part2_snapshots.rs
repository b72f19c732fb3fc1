//! Snapshots: install, restore and replay around them on a single memory
//! node, plus catch-up from a snapshot in a group. Ports of raft_test.go
//! tests 57, 58, 62–64, 73 and 78 at nats-server 8188ea93a.

use ported::raft::AppendEntry;
use ported::sim::SmKind;

use crate::helpers::{cluster, ms, SEC};
use crate::part2_support::{ae, encode, ix, leader_of, sample_entries, single_node, NATS0, NATS1};
use ported::sim::sweep;

fn snapshot_catchup(restart: bool) {
    let mut c = cluster(&format!("test_nrg_snapshot_catchup/{restart}"), "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let l = leader_of(&mut c, &rg);
    let others: Vec<usize> = rg.members.iter().copied().filter(|&m| m != l).collect();
    let (s1, s2) = (others[0], others[1]);

    // Stop one non-leader server.
    c.stop(s1);

    // Both online servers apply the delta.
    c.propose_delta(l, 10);
    let members = rg.members.clone();
    c.check_for(5 * SEC, ms(200), |c| {
        let mut errs = Vec::new();
        for &m in members.iter().filter(|&&m| m != s1) {
            let total = c.adder(m).sum;
            if total != 10 {
                errs.push(format!("expected 10 total, got: {total}"));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
    });

    // Stop the last non-leader, then snapshot so the outdated server
    // must catch up from it.
    c.stop(s2);
    c.adder_snapshot(l).expect("leader snapshots");

    // A new entry is stored in the leader's log.
    let (pindex, _, _) = c.node(l).progress();
    c.propose_delta(l, 10);
    c.check_for(2 * SEC, ms(200), |c| {
        if c.node(l).progress().0 == pindex {
            return Err("proposal not stored yet".into());
        }
        Ok(())
    });

    // Optionally the leader restarts and replays its log.
    if restart {
        c.stop(l);
        c.restart(l);
    }

    // The stopped server is caught up.
    c.restart(s1);
    // Deliberate difference: 10 s instead of Go's 5. When the leader
    // restarts too, both nodes start their election timers together and,
    // about once in a thousand seeds, time out within a millisecond of
    // each other and split the vote; the retry can then end past 5 s (in
    // Go as well).
    c.check_for(10 * SEC, ms(200), |c| {
        let mut errs = Vec::new();
        for &m in &members {
            // As in Go, the scan ends at the server still stopped.
            if m == s2 {
                break;
            }
            let total = c.adder(m).sum;
            if total != 20 {
                errs.push(format!("expected 20 total, got: {total}"));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
    });
}

/// Port of TestNRGSnapshotCatchup (both subtests)
#[test]
fn test_nrg_snapshot_catchup() {
    sweep("test_nrg_snapshot_catchup", || test_nrg_snapshot_catchup_seeded());
}

fn test_nrg_snapshot_catchup_seeded() {
    snapshot_catchup(false);
    snapshot_catchup(true);
}

/// Port of TestNRGSnapshotRecovery
#[test]
fn test_nrg_snapshot_recovery() {
    sweep("test_nrg_snapshot_recovery", || test_nrg_snapshot_recovery_seeded());
}

fn test_nrg_snapshot_recovery_seeded() {
    let (mut c, n) = single_node("test_nrg_snapshot_recovery");
    let ae_msg = encode(ae(NATS0, 1, 1, 0, 0, sample_entries()));

    // Store one entry.
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_msg, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 1);
    assert_eq!(ix(&mut c, n).commit(), 1);
    assert_eq!(ix(&mut c, n).applied(), 0);

    // Apply it and snapshot.
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");

    // Restoring the snapshot leaves applied alone: the apply queue is async.
    let mut i = ix(&mut c, n);
    i.set_pindex(0);
    i.set_commit(0);
    i.set_processed(0);
    i.set_applied(0);
    i.setup_last_snapshot().expect("snapshot restores");
    assert_eq!(i.pindex(), 1);
    assert_eq!(i.commit(), 1);
    assert_eq!(i.processed(), 0);
    assert_eq!(i.applied(), 0);
}

/// Port of TestNRGReplayOnSnapshotSameTerm
#[test]
fn test_nrg_replay_on_snapshot_same_term() {
    sweep("test_nrg_replay_on_snapshot_same_term", || test_nrg_replay_on_snapshot_same_term_seeded());
}

fn test_nrg_replay_on_snapshot_same_term_seeded() {
    let (mut c, n) = single_node("test_nrg_replay_on_snapshot_same_term");
    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 1, 0, 0, entries.clone()));
    let ae_msg2 = encode(ae(NATS0, 1, 1, 1, 1, entries.clone()));
    let ae_msg3 = encode(ae(NATS0, 1, 1, 1, 2, entries));
    let aesub = ix(&mut c, n).aesub();

    c.node(n).process_append_entry(ae_msg1, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 1);

    // Commit, apply, snapshot.
    ix(&mut c, n).apply_commit(1).expect("commit 1");
    assert_eq!(ix(&mut c, n).commit(), 1);
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    let snap = ix(&mut c, n).load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!(snap.last_index, 1);

    c.node(n).process_append_entry(ae_msg2.clone(), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    c.node(n).process_append_entry(ae_msg3, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 3);

    // The entry matching our snapshot arrives again (a repeat, or a late
    // copy of one received in a catch-up): same term, so no truncation.
    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 3);
}

/// Port of TestNRGReplayOnSnapshotDifferentTerm
#[test]
fn test_nrg_replay_on_snapshot_different_term() {
    sweep("test_nrg_replay_on_snapshot_different_term", || test_nrg_replay_on_snapshot_different_term_seeded());
}

fn test_nrg_replay_on_snapshot_different_term_seeded() {
    let (mut c, n) = single_node("test_nrg_replay_on_snapshot_different_term");
    let entries = sample_entries();
    let ae_msg1 = encode(AppendEntry { lterm: 2, ..ae(NATS0, 1, 1, 0, 0, entries.clone()) });
    let ae_msg2 = encode(AppendEntry { lterm: 2, ..ae(NATS0, 2, 1, 1, 1, entries.clone()) });
    let ae_msg3 = encode(AppendEntry { lterm: 2, ..ae(NATS0, 2, 1, 2, 2, entries) });
    let aesub = ix(&mut c, n).aesub();

    c.node(n).process_append_entry(ae_msg1, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 1);

    ix(&mut c, n).apply_commit(1).expect("commit 1");
    assert_eq!(ix(&mut c, n).commit(), 1);
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    let snap = ix(&mut c, n).load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!(snap.last_index, 1);

    // As if the snapshot came from another leader and is not applied yet.
    ix(&mut c, n).set_applied(0);

    c.node(n).process_append_entry(ae_msg2.clone(), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    c.node(n).process_append_entry(ae_msg3.clone(), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 3);

    // The entry matching our snapshot again: truncate back to the snapshot
    // (not a full reset), after which it is stored again.
    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);

    // And the third entry follows.
    c.node(n).process_append_entry(ae_msg3, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 3);
}

/// Port of TestNRGSizeAndApplied
#[test]
fn test_nrg_size_and_applied() {
    sweep("test_nrg_size_and_applied", || test_nrg_size_and_applied_seeded());
}

fn test_nrg_size_and_applied_seeded() {
    let (mut c, n) = single_node("test_nrg_size_and_applied");
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, sample_entries()));
    let ae_msg2 = encode(ae(NATS0, 1, 0, 1, 1, sample_entries()));

    // The WAL starts empty.
    assert_eq!(c.node(n).size(), (0, 0));

    ix(&mut c, n).store_to_wal(&ae_msg1).expect("stores");
    assert_eq!(c.node(n).size(), (1, 105));
    ix(&mut c, n).store_to_wal(&ae_msg2).expect("stores");
    assert_eq!(c.node(n).size(), (2, 210));

    // Applying reports what part of the WAL could be compacted.
    ix(&mut c, n).set_commit(1);
    assert_eq!(c.node(n).applied(1), (1, 105));
    ix(&mut c, n).set_commit(2);
    assert_eq!(c.node(n).applied(2), (2, 210));

    // A snapshot corrects papplied and bytes.
    ix(&mut c, n).set_applied(1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    assert_eq!(ix(&mut c, n).papplied(), 1);
    assert_eq!(ix(&mut c, n).bytes(), 105);
    assert_eq!(c.node(n).size(), (1, 105));

    assert_eq!(c.node(n).applied(2), (1, 105));

    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");
    assert_eq!(ix(&mut c, n).papplied(), 2);
    assert_eq!(ix(&mut c, n).bytes(), 0);
    assert_eq!(c.node(n).size(), (0, 0));
}

/// Port of TestNRGDrainAndReplaySnapshot
#[test]
fn test_nrg_drain_and_replay_snapshot() {
    sweep("test_nrg_drain_and_replay_snapshot", || test_nrg_drain_and_replay_snapshot_seeded());
}

fn test_nrg_drain_and_replay_snapshot_seeded() {
    let (mut c, n) = single_node("test_nrg_drain_and_replay_snapshot");
    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    let ae_msg2 = encode(ae(NATS0, 1, 0, 1, 1, entries.clone()));
    let ae_msg3 = encode(ae(NATS0, 1, 0, 1, 2, entries.clone()));
    let ae_heartbeat1 = encode(ae(NATS0, 1, 3, 1, 3, vec![]));
    let ae_msg4 = encode(ae(NATS0, 1, 3, 1, 3, entries));
    let ae_heartbeat2 = encode(ae(NATS0, 1, 4, 1, 4, vec![]));
    let aesub = ix(&mut c, n).aesub();

    // (apply queue length, commit, hcommit)
    let state = |c: &mut ported::sim::Cluster| {
        let mut i = ix(c, n);
        (i.apply_q().len(), i.commit(), i.hcommit())
    };

    // Entries staged as normal.
    assert_eq!(c.node(n).apply_q().len(), 0);
    for m in [ae_msg1, ae_msg2, ae_msg3, ae_heartbeat1] {
        c.node(n).process_append_entry(m, aesub);
    }
    assert_eq!(ix(&mut c, n).pindex(), 3);
    assert_eq!(state(&mut c), (3, 3, 0));

    // Without a snapshot there is nothing to replay.
    assert!(!c.node(n).drain_and_replay_snapshot());
    assert_eq!(state(&mut c), (3, 3, 0));

    // A snapshot that needs upper-layer catch-up, which then times out.
    c.node(n).applied(1);
    c.node(n).install_snapshot_data(b"snapshot", false).expect("snapshot installs");

    assert!(c.node(n).drain_and_replay_snapshot());
    assert!(ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (1, 1, 3));

    // Snapshot processing succeeds; resuming restores the apply queue.
    c.node(n).resume_apply();
    assert!(!ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (3, 3, 0));

    // Snapshot processing times out more than once.
    assert!(c.node(n).drain_and_replay_snapshot());
    assert!(ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (1, 1, 3));

    // New messages meanwhile keep the highest known commit up to date.
    c.node(n).process_append_entry(ae_msg4, aesub);
    c.node(n).process_append_entry(ae_heartbeat2, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 4);
    assert!(ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (1, 1, 4));

    // Replaying again keeps it.
    assert!(c.node(n).drain_and_replay_snapshot());
    assert!(ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (1, 1, 4));

    // Resuming applies everything.
    c.node(n).resume_apply();
    assert!(!ix(&mut c, n).paused());
    assert_eq!(state(&mut c), (4, 4, 0));
}

/// Port of TestNRGSendSnapshotInstallsSnapshot
#[test]
fn test_nrg_send_snapshot_installs_snapshot() {
    sweep("test_nrg_send_snapshot_installs_snapshot", || test_nrg_send_snapshot_installs_snapshot_seeded());
}

fn test_nrg_send_snapshot_installs_snapshot_seeded() {
    let (mut c, n) = single_node("test_nrg_send_snapshot_installs_snapshot");
    ix(&mut c, n).add_peer(NATS0);
    ix(&mut c, n).add_peer(NATS1);

    assert_eq!(ix(&mut c, n).pindex(), 0);
    assert_eq!(ix(&mut c, n).snapfile(), "");

    // Become candidate, then leader.
    assert_eq!(ix(&mut c, n).term(), 0);
    c.node(n).switch_to_candidate();
    assert_eq!(ix(&mut c, n).term(), 1);

    // Leadership starts with a no-op (peer state) entry.
    ix(&mut c, n).switch_to_leader();
    assert_eq!(ix(&mut c, n).pindex(), 1);
    assert_eq!(ix(&mut c, n).snapfile(), "");
    ix(&mut c, n).apply_commit(1).expect("commit 1");
    assert_eq!(ix(&mut c, n).snapfile(), "");

    // On scale-up a snapshot is sent.
    c.node(n).send_snapshot(b"snapshot_data").expect("sends");
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert_eq!(ix(&mut c, n).snapfile(), "");

    // Applying it installs it.
    ix(&mut c, n).apply_commit(2).expect("commit 2");
    assert_ne!(ix(&mut c, n).snapfile(), "");

    let snap = ix(&mut c, n).load_last_snapshot().expect("loads").expect("a snapshot");
    assert_eq!(snap.last_term, 1);
    assert_eq!(snap.last_index, 1);
    assert_eq!(snap.data, b"snapshot_data");

    // And it can be drained and replayed.
    assert!(c.node(n).drain_and_replay_snapshot());
}
