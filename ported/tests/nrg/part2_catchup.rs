//! Catch-up on a single memory node driven by hand-built append entries,
//! the leader's side of a catch-up, and processed/applied bookkeeping.
//! Ports of raft_test.go tests 65–67, 69–71, 76 and 112 at nats-server
//! 8188ea93a. A Go test's NATS subscription is a probe on the simulated bus.

use ported::raft::{decode_append_entry, decode_append_entry_response, AppendEntry, AppendEntryResponse};
use ported::sim::Cluster;

use crate::helpers::{ms, SEC};
use crate::part2_support::{ae, encode, ix, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGIgnoreEntryAfterCanceledCatchup
#[test]
fn test_nrg_ignore_entry_after_canceled_catchup() {
    sweep("test_nrg_ignore_entry_after_canceled_catchup", || test_nrg_ignore_entry_after_canceled_catchup_seeded());
}

fn test_nrg_ignore_entry_after_canceled_catchup_seeded() {
    let (mut c, n) = single_node("test_nrg_ignore_entry_after_canceled_catchup");
    let entries = sample_entries();
    let ae_msg1 = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    let ae_msg2 = encode(ae(NATS0, 1, 0, 1, 1, entries));
    let aesub = ix(&mut c, n).aesub();

    c.node(n).process_append_entry(ae_msg2, aesub);
    let csub = ix(&mut c, n).catchup().expect("catching up").sub;
    ix(&mut c, n).cancel_catchup();

    // A message on the canceled catch-up is not stored.
    c.node(n).process_append_entry(ae_msg1, csub);
    assert_eq!(ix(&mut c, n).pindex(), 0);
}

/// Port of TestNRGDelayedMessagesAfterCatchupDontCountTowardQuorum
#[test]
fn test_nrg_delayed_messages_after_catchup_dont_count_toward_quorum() {
    sweep("test_nrg_delayed_messages_after_catchup_dont_count_toward_quorum", || test_nrg_delayed_messages_after_catchup_dont_count_toward_quorum_seeded());
}

fn test_nrg_delayed_messages_after_catchup_dont_count_toward_quorum_seeded() {
    let (mut c, n) = single_node("test_nrg_delayed_messages_after_catchup_dont_count_toward_quorum");
    let entries = sample_entries();
    let reply = |ae: AppendEntry| AppendEntry { reply: "$TEST".into(), ..ae };
    let ae_msg1 = encode(reply(ae(NATS0, 1, 0, 0, 0, entries.clone())));
    let ae_msg2 = encode(reply(ae(NATS0, 1, 1, 1, 1, entries.clone())));
    let ae_msg3 = encode(reply(ae(NATS0, 1, 1, 1, 2, entries.clone())));
    let aesub = ix(&mut c, n).aesub();

    // Triggers a catch-up, which then runs partially.
    c.node(n).process_append_entry(ae_msg3.clone(), aesub);
    let csub = ix(&mut c, n).catchup().expect("catching up").sub;
    c.node(n).process_append_entry(ae_msg1, csub);
    c.node(n).process_append_entry(ae_msg2.clone(), csub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).commit()), (2, 1));
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);
    c.node(n).install_snapshot_data(&[], false).expect("snapshot installs");

    let sub = c.subscribe("$TEST");

    // Delayed live messages arrive. None of the old ones may answer
    // success: that would grant quorum on a log that is not up to date.
    let ae_msg1_copy = encode(reply(ae(NATS0, 1, 0, 0, 0, entries)));
    c.node(n).process_append_entry(ae_msg1_copy, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert!(c.no_msg(sub, ms(500)));

    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert!(c.no_msg(sub, ms(500)));

    // The latest one does.
    c.node(n).process_append_entry(ae_msg3, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 3);
    let msg = c.next_msg(sub, ms(500)).expect("a response");
    let ar = decode_append_entry_response(&msg.data).expect("decodes");
    assert_eq!(ar.index, 3);
    assert!(ar.success);
    assert_eq!(msg.reply, "");
}

/// Port of TestNRGStepdownWithHighestTermDuringCatchup
#[test]
fn test_nrg_stepdown_with_highest_term_during_catchup() {
    sweep("test_nrg_stepdown_with_highest_term_during_catchup", || test_nrg_stepdown_with_highest_term_during_catchup_seeded());
}

fn test_nrg_stepdown_with_highest_term_during_catchup_seeded() {
    let (mut c, n) = single_node("test_nrg_stepdown_with_highest_term_during_catchup");
    let entries = sample_entries();
    let ae_msg1 = encode(AppendEntry { lterm: 10, ..ae(NATS0, 1, 0, 0, 0, entries.clone()) });
    let ae_msg2 = encode(AppendEntry { lterm: 20, ..ae(NATS0, 1, 0, 1, 1, entries) });
    let aesub = ix(&mut c, n).aesub();

    // A candidate stores the message, steps down and takes the term.
    c.node(n).switch_to_candidate();
    assert_eq!(ix(&mut c, n).term(), 1);
    c.node(n).process_append_entry(ae_msg1, aesub);
    assert_eq!((ix(&mut c, n).term(), ix(&mut c, n).pindex()), (10, 1));

    // So does a leader.
    ix(&mut c, n).switch_to_leader();
    c.node(n).process_append_entry(ae_msg2, aesub);
    assert_eq!((ix(&mut c, n).term(), ix(&mut c, n).pindex()), (20, 2));
}

/// Port of TestNRGLeaderCatchupHandling
///
/// Go's `catchupFollower` starts a `runCatchup` goroutine; here the node is
/// not running, so the catch-up stream is advanced once by hand.
#[test]
fn test_nrg_leader_catchup_handling() {
    sweep("test_nrg_leader_catchup_handling", || test_nrg_leader_catchup_handling_seeded());
}

fn test_nrg_leader_catchup_handling_seeded() {
    let (mut c, n) = single_node("test_nrg_leader_catchup_handling");
    let entries = sample_entries();
    let aesub = ix(&mut c, n).aesub();
    for (pterm, pindex) in [(0, 0), (1, 1), (1, 2)] {
        c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, pterm, pindex, entries.clone())), aesub);
    }
    assert_eq!(ix(&mut c, n).pindex(), 3);

    ix(&mut c, n).switch_to_leader();

    let sub = c.subscribe("$TEST");

    // A follower up to date with only the first message.
    let ar = AppendEntryResponse { reply: "$TEST".into(), ..AppendEntryResponse::new(1, 1, "", false) };
    ix(&mut c, n).catchup_follower(ar);
    ix(&mut c, n).run_catchup();

    // It gets everything the leader knows from there on.
    for pindex in [1, 2] {
        let msg = c.next_msg(sub, ms(500)).expect("a catch-up entry");
        let ae = decode_append_entry(&msg.data, None, "").expect("decodes");
        assert_eq!((ae.pterm, ae.pindex), (1, pindex));
    }
}

/// Port of TestNRGNewEntriesFromOldLeaderResetsWALDuringCatchup
#[test]
fn test_nrg_new_entries_from_old_leader_resets_wal_during_catchup() {
    sweep("test_nrg_new_entries_from_old_leader_resets_wal_during_catchup", || test_nrg_new_entries_from_old_leader_resets_wal_during_catchup_seeded());
}

fn test_nrg_new_entries_from_old_leader_resets_wal_during_catchup_seeded() {
    let (mut c, n) = single_node("test_nrg_new_entries_from_old_leader_resets_wal_during_catchup");
    let entries = sample_entries();
    let lterm20 = |ae: AppendEntry| AppendEntry { lterm: 20, ..ae };
    let ae_msg1 = encode(lterm20(ae(NATS0, 20, 0, 0, 0, entries.clone())));
    let ae_msg2 = encode(lterm20(ae(NATS0, 20, 0, 20, 1, entries.clone())));
    let ae_msg3 = encode(lterm20(ae(NATS0, 20, 0, 20, 2, entries.clone())));
    let ae_msg1_fork = encode(AppendEntry { reply: "$TEST".into(), ..ae(NATS0, 1, 0, 0, 0, entries.clone()) });
    let ae_msg2_fork = encode(ae(NATS0, 1, 0, 1, 1, entries));
    let aesub = ix(&mut c, n).aesub();

    let validate_catchup = |c: &mut Cluster| {
        let cs = ix(c, n).catchup().expect("catching up");
        assert_eq!((cs.cterm, cs.cindex), (20, 1));
    };

    // Trigger a catch-up and receive the first missed entry.
    c.node(n).process_append_entry(ae_msg2.clone(), aesub);
    validate_catchup(&mut c);
    let csub = ix(&mut c, n).catchup().expect("catching up").sub;
    c.node(n).process_append_entry(ae_msg1.clone(), csub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).pterm()), (1, 20));

    let sub = c.subscribe("$TEST");

    // This used to count as a stalled catch-up and restart it towards the
    // previous leader (`None` is Go's zero time: long ago).
    ix(&mut c, n).set_catchup_progress(ae_msg1.pindex + 1, None);
    c.node(n).process_append_entry(ae_msg1_fork, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).pterm()), (1, 20));
    validate_catchup(&mut c);

    // We answer with our higher term so the old leader steps down.
    let msg = c.next_msg(sub, SEC).expect("a response");
    let ar = decode_append_entry_response(&msg.data).expect("decodes");
    assert!(!ar.success);
    assert_eq!((ar.index, ar.term), (1, 20));

    // This used to reset the WAL.
    c.node(n).process_append_entry(ae_msg2_fork, aesub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).pterm()), (1, 20));
    validate_catchup(&mut c);

    // The catch-up continues, undisturbed by the old leader.
    c.node(n).process_append_entry(ae_msg2, csub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).pterm()), (2, 20));
    assert!(ix(&mut c, n).catchup().is_none());

    // A remaining catch-up entry is still taken after the state is gone.
    c.node(n).process_append_entry(ae_msg3, csub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).pterm()), (3, 20));
}

/// Port of TestNRGProcessed
#[test]
fn test_nrg_processed() {
    sweep("test_nrg_processed", || test_nrg_processed_seeded());
}

fn test_nrg_processed_seeded() {
    let (mut c, n) = single_node("test_nrg_processed");
    let entries = sample_entries();
    let msgs: Vec<AppendEntry> =
        (0..5u64).map(|i| encode(ae(NATS0, 1, i + 1, u64::from(i > 0), i, entries.clone()))).collect();
    let aesub = ix(&mut c, n).aesub();
    // (pindex, commit, processed, applied)
    let marks = |c: &mut Cluster| {
        let i = ix(c, n);
        (i.pindex(), i.commit(), i.processed(), i.applied())
    };

    // Three entries stored and committed, none processed.
    for (i, m) in msgs[..3].iter().enumerate() {
        c.node(n).process_append_entry(m.clone(), aesub);
        let i = i as u64 + 1;
        assert_eq!(marks(&mut c), (i, i, 0, 0));
    }

    // Processed moves processed and applied separately.
    c.node(n).processed(1, 0);
    assert_eq!(marks(&mut c), (3, 3, 1, 0));
    c.node(n).processed(2, 1);
    assert_eq!(marks(&mut c), (3, 3, 2, 1));

    // Applied moves both to the same value.
    c.node(n).applied(3);
    assert_eq!(marks(&mut c), (3, 3, 3, 3));

    // The remaining entries.
    for (i, m) in msgs[3..].iter().enumerate() {
        c.node(n).process_append_entry(m.clone(), aesub);
        let i = i as u64 + 4;
        assert_eq!(marks(&mut c), (i, i, 3, 3));
    }

    // An applied above processed is clamped down to it.
    c.node(n).processed(4, 5);
    assert_eq!(marks(&mut c), (5, 5, 4, 4));
}

/// Port of TestNRGParallelCatchupRollback
#[test]
fn test_nrg_parallel_catchup_rollback() {
    sweep("test_nrg_parallel_catchup_rollback", || test_nrg_parallel_catchup_rollback_seeded());
}

fn test_nrg_parallel_catchup_rollback_seeded() {
    let (mut c, n) = single_node("test_nrg_parallel_catchup_rollback");
    let entries = sample_entries();
    let sub = c.subscribe("$TEST");

    let ae_msg1 = encode(AppendEntry { lterm: 1, ..ae(NATS0, 1, 0, 0, 0, entries.clone()) });
    let ae_msg2 = encode(AppendEntry { lterm: 1, ..ae(NATS0, 1, 0, 1, 1, entries) });
    let ae_heartbeat = encode(AppendEntry { reply: "$TEST".into(), ..ae(NATS0, 1, 0, 1, 2, vec![]) });
    let aesub = ix(&mut c, n).aesub();

    // Trigger a catch-up.
    c.node(n).process_append_entry(ae_msg2.clone(), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 0);
    let cs = ix(&mut c, n).catchup().expect("catching up");
    assert_eq!((cs.cterm, cs.cindex), (ae_msg2.pterm, ae_msg2.pindex));
    let csub = cs.sub;

    // Receive the missed messages.
    c.node(n).process_append_entry(ae_msg1.clone(), csub);
    assert_eq!(ix(&mut c, n).pindex(), 1);
    c.node(n).process_append_entry(ae_msg2, csub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert!(ix(&mut c, n).catchup().is_none());

    // The heartbeat gets a success answer so the leader can commit.
    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    let msg = c.next_msg(sub, SEC).expect("a response");
    let ar = decode_append_entry_response(&msg.data).expect("decodes");
    assert!(ar.success);
    assert_eq!((ar.term, ar.index), (ae_heartbeat.term, ae_heartbeat.pindex));

    // A catch-up entry received again (parallel catch-ups): our log is
    // ahead, so it must not truncate.
    c.node(n).process_append_entry(ae_msg1, csub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
}

/// Port of TestNRGProcessAppendEntryTermMismatchDoesNotRegressCommit
#[test]
fn test_nrg_process_append_entry_term_mismatch_does_not_regress_commit() {
    sweep("test_nrg_process_append_entry_term_mismatch_does_not_regress_commit", || test_nrg_process_append_entry_term_mismatch_does_not_regress_commit_seeded());
}

fn test_nrg_process_append_entry_term_mismatch_does_not_regress_commit_seeded() {
    let (mut c, n) = single_node("test_nrg_process_append_entry_term_mismatch_does_not_regress_commit");
    let entries = sample_entries();
    let aesub = ix(&mut c, n).aesub();

    // Five entries stored, then committed by a heartbeat.
    for i in 0..5u64 {
        c.node(n).process_append_entry(encode(ae(NATS0, 1, i, u64::from(i > 0), i, entries.clone())), aesub);
    }
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 5, 1, 5, vec![])), aesub);
    assert_eq!((ix(&mut c, n).commit(), ix(&mut c, n).pindex()), (5, 5));

    // A mismatched pterm takes the truncation path, which must not move
    // commit backwards.
    let ae_bad_pterm = encode(ae(NATS0, 2, 5, 2, 5, entries));
    c.node(n).process_append_entry(ae_bad_pterm, aesub);
    assert_eq!(ix(&mut c, n).commit(), 5);
}
