//! Follower catch-up on a single memory node, driven by hand-built append
//! entries: ports of raft_test.go tests 28–31, 38, 40 and 41 at
//! nats-server 8188ea93a. Go calls `processAppendEntry` with `n.aesub` or
//! `n.catchup.sub`; here the same subscription ids are passed.

use ported::raft::internals::CatchupView;
use ported::raft::{RaftError, Wal, WalError, WalState};

use crate::part1_support::{encode, sample_entries, single_node, NATS0, NATS1};
use ported::sim::sweep;

fn catchup_of(n: &mut ported::raft::Raft) -> CatchupView {
    match n.internals().catchup() {
        Some(cs) => cs,
        None => panic!("expected the node to be catching up"),
    }
}

/// Port of TestNRGCatchupDoesNotTruncateUncommittedEntriesWithQuorum
#[test]
fn test_nrg_catchup_does_not_truncate_uncommitted_entries_with_quorum() {
    sweep("test_nrg_catchup_does_not_truncate_uncommitted_entries_with_quorum", || test_nrg_catchup_does_not_truncate_uncommitted_entries_with_quorum_seeded());
}

fn test_nrg_catchup_does_not_truncate_uncommitted_entries_with_quorum_seeded() {
    let (mut c, slot) = single_node("test_nrg_catchup_does_not_truncate_uncommitted_entries_with_quorum");
    let n = c.node(slot);
    let entries = sample_entries();

    // Timeline of the first leader.
    let ae_initial = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    let ae_uncommitted = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_no_quorum = encode(NATS0, 1, 1, 1, 2, entries.clone());

    // Timeline after the leader change.
    let ae_missed = encode(NATS1, 2, 1, 1, 2, entries.clone());
    let ae_catchup_trigger = encode(NATS1, 2, 1, 2, 3, entries.clone());
    let ae_heartbeat2 = encode(NATS1, 2, 2, 2, 4, vec![]);
    let ae_heartbeat3 = encode(NATS1, 2, 4, 2, 4, vec![]);

    let aesub = n.internals().aesub();

    // The first entry is simply stored.
    n.process_append_entry(ae_initial, aesub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    // The heartbeat moves commit up.
    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 1);

    // An entry that has quorum, which we do not know yet: uncommitted for now.
    n.process_append_entry(ae_uncommitted, aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS0);

    // An entry without quorum (again unknown to us).
    n.process_append_entry(ae_no_quorum, aesub);
    assert_eq!(n.wal_mut().state().msgs, 3);
    assert_eq!(n.log_entry(3).expect("entry 3").leader, NATS0);

    // A new leader, and we missed one of the old leader's entries: the
    // last entry is truncated.
    n.process_append_entry(ae_catchup_trigger.clone(), aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert!(!n.is_catching_up());

    // A heartbeat makes us catch up; commit stays as we missed an entry.
    n.process_append_entry(ae_heartbeat2, aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.commit_index(), 1);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 1);
    assert_eq!(cs.pindex, 2);

    // The leader's entry at the no-quorum index is stored.
    n.process_append_entry(ae_missed, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 3);
    assert!(n.is_catching_up());

    // Then the entry that triggered the catch-up.
    n.process_append_entry(ae_catchup_trigger, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 4);
    assert!(n.is_catching_up());
    assert_eq!(n.log_entry(4).expect("entry 4").leader, NATS1);

    // A heartbeat commits and ends the catch-up.
    n.process_append_entry(ae_heartbeat3, aesub);
    assert_eq!(n.commit_index(), 4);
    assert!(!n.is_catching_up());
}

/// Port of TestNRGCatchupCanTruncateMultipleEntriesWithoutQuorum
#[test]
fn test_nrg_catchup_can_truncate_multiple_entries_without_quorum() {
    sweep("test_nrg_catchup_can_truncate_multiple_entries_without_quorum", || test_nrg_catchup_can_truncate_multiple_entries_without_quorum_seeded());
}

fn test_nrg_catchup_can_truncate_multiple_entries_without_quorum_seeded() {
    let (mut c, slot) = single_node("test_nrg_catchup_can_truncate_multiple_entries_without_quorum");
    let n = c.node(slot);
    let entries = sample_entries();

    // Timeline of the first leader.
    let ae_initial = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    let ae_no_quorum1 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_no_quorum2 = encode(NATS0, 1, 1, 1, 2, entries.clone());

    // Timeline after the leader change.
    let ae_missed1 = encode(NATS1, 2, 1, 1, 1, entries.clone());
    let ae_missed2 = encode(NATS1, 2, 1, 2, 2, entries.clone());
    let ae_catchup_trigger = encode(NATS1, 2, 1, 2, 3, entries.clone());
    let ae_heartbeat2 = encode(NATS1, 2, 2, 2, 4, vec![]);
    let ae_heartbeat3 = encode(NATS1, 2, 4, 2, 4, vec![]);

    let aesub = n.internals().aesub();

    n.process_append_entry(ae_initial, aesub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 1);

    // Two entries without quorum.
    n.process_append_entry(ae_no_quorum1, aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS0);
    n.process_append_entry(ae_no_quorum2, aesub);
    assert_eq!(n.wal_mut().state().msgs, 3);
    assert_eq!(n.log_entry(3).expect("entry 3").leader, NATS0);

    // New leader, missed entries: truncate the last one.
    n.process_append_entry(ae_catchup_trigger.clone(), aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert!(!n.is_catching_up());

    // A heartbeat starts the catch-up.
    n.process_append_entry(ae_heartbeat2.clone(), aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.commit_index(), 1);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 1);
    assert_eq!(cs.pindex, 2);

    // The leader has a different entry at the no-quorum index: truncate again.
    n.process_append_entry(ae_missed2.clone(), cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert!(!n.is_catching_up());

    // A heartbeat starts the catch-up again.
    n.process_append_entry(ae_heartbeat2, aesub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.commit_index(), 1);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 1);
    assert_eq!(cs.pindex, 1);

    // The missed entries arrive.
    n.process_append_entry(ae_missed1, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert!(n.is_catching_up());
    n.process_append_entry(ae_missed2, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 3);
    assert!(n.is_catching_up());

    // And the entry that triggered the catch-up.
    n.process_append_entry(ae_catchup_trigger, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 4);
    assert!(n.is_catching_up());
    assert_eq!(n.log_entry(4).expect("entry 4").leader, NATS1);

    // A heartbeat commits and ends the catch-up.
    n.process_append_entry(ae_heartbeat3, aesub);
    assert_eq!(n.commit_index(), 4);
    assert!(!n.is_catching_up());
}

/// Port of TestNRGCatchupDoesNotTruncateCommittedEntriesDuringRedelivery
#[test]
fn test_nrg_catchup_does_not_truncate_committed_entries_during_redelivery() {
    sweep("test_nrg_catchup_does_not_truncate_committed_entries_during_redelivery", || test_nrg_catchup_does_not_truncate_committed_entries_during_redelivery_seeded());
}

fn test_nrg_catchup_does_not_truncate_committed_entries_during_redelivery_seeded() {
    let (mut c, slot) = single_node("test_nrg_catchup_does_not_truncate_committed_entries_during_redelivery");
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_heartbeat1 = encode(NATS0, 1, 2, 1, 2, vec![]);
    let ae_msg3 = encode(NATS0, 1, 1, 1, 2, entries.clone());
    let ae_heartbeat2 = encode(NATS0, 1, 3, 1, 3, vec![]);

    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1.clone(), aesub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS0);

    n.process_append_entry(ae_heartbeat1, aesub);
    assert_eq!(n.commit_index(), 2);

    n.process_append_entry(ae_msg3, aesub);
    assert_eq!(n.wal_mut().state().msgs, 3);
    assert_eq!(n.log_entry(3).expect("entry 3").leader, NATS0);

    // A redelivered old entry must not truncate: that would lower commit.
    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.commit_index(), 2);

    n.process_append_entry(ae_heartbeat2, aesub);
    assert_eq!(n.commit_index(), 3);
}

/// Port of TestNRGCatchupFromNewLeaderWithIncorrectPterm
#[test]
fn test_nrg_catchup_from_new_leader_with_incorrect_pterm() {
    sweep("test_nrg_catchup_from_new_leader_with_incorrect_pterm", || test_nrg_catchup_from_new_leader_with_incorrect_pterm_seeded());
}

fn test_nrg_catchup_from_new_leader_with_incorrect_pterm_seeded() {
    let (mut c, slot) = single_node("test_nrg_catchup_from_new_leader_with_incorrect_pterm");
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_msg = encode(NATS0, 1, 0, 1, 0, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 1, 1, 1, vec![]);
    let aesub = n.internals().aesub();

    // The heartbeat starts a catch-up.
    n.process_append_entry(ae_heartbeat.clone(), aesub);
    assert_eq!(n.commit_index(), 0);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 0);
    assert_eq!(cs.pindex, 0);

    // The first catch-up entry has the wrong pterm: the catch-up stops, to
    // be started again with the right pterm.
    n.process_append_entry(ae_msg.clone(), cs.sub);
    assert!(!n.is_catching_up());
    assert_eq!(n.last_log(), (0, 1));

    n.process_append_entry(ae_heartbeat.clone(), aesub);
    assert_eq!(n.commit_index(), 0);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 1);
    assert_eq!(cs.pindex, 0);

    // Now the entry is stored.
    n.process_append_entry(ae_msg, cs.sub);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    // And the heartbeat commits it.
    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 1);
}

/// Port of TestNRGCancelCatchupWhenDetectingHigherTermDuringVoteRequest
#[test]
fn test_nrg_cancel_catchup_when_detecting_higher_term_during_vote_request() {
    sweep("test_nrg_cancel_catchup_when_detecting_higher_term_during_vote_request", || test_nrg_cancel_catchup_when_detecting_higher_term_during_vote_request_seeded());
}

fn test_nrg_cancel_catchup_when_detecting_higher_term_during_vote_request_seeded() {
    let (mut c, slot) = single_node("test_nrg_cancel_catchup_when_detecting_higher_term_during_vote_request");
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_catchup_trigger = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let aesub = n.internals().aesub();

    // We missed an entry and must catch up.
    n.process_append_entry(ae_catchup_trigger, aesub);
    let cs = catchup_of(n);
    assert_eq!(cs.pterm, 0);
    assert_eq!(cs.pindex, 0);

    // The first catch-up entry.
    n.process_append_entry(ae_msg1, cs.sub);
    assert!(n.is_catching_up());

    // A vote request on a higher term cancels the catch-up, so later
    // catch-up entries cannot give the previous leader quorum.
    let vr = ported::raft::VoteRequest { term: 2, last_term: 1, last_index: 1, candidate: NATS0.into(), reply: "reply".into() };
    n.process_vote_request(&vr);
    assert!(!n.is_catching_up());
}

/// Port of TestNRGTruncateDownToCommitted
#[test]
fn test_nrg_truncate_down_to_committed() {
    sweep("test_nrg_truncate_down_to_committed", || test_nrg_truncate_down_to_committed_seeded());
}

fn test_nrg_truncate_down_to_committed_seeded() {
    let (mut c, slot) = single_node("test_nrg_truncate_down_to_committed");
    let n = c.node(slot);
    let entries = sample_entries();

    // Timeline while NATS0 leads.
    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    // Timeline after the leader change.
    let ae_msg3 = encode(NATS1, 2, 1, 1, 1, entries.clone());
    let ae_heartbeat = encode(NATS1, 2, 2, 2, 2, vec![]);
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    // The second entry commits the first.
    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS0);

    // Another leader's entry truncates down to commit and is then stored
    // straight away.
    n.process_append_entry(ae_msg3, aesub);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS1);

    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.commit_index(), 2);
}

/// A WAL whose truncation always fails (Go: `mockWALTruncateAlwaysFails`).
struct TruncateAlwaysFails(Box<dyn Wal>);

const TRUNCATE_FAILURE: &str = "test: truncate always fails";

impl Wal for TruncateAlwaysFails {
    fn storage_type(&self) -> ported::raft::StorageType {
        self.0.storage_type()
    }
    fn store_msg(&mut self, msg: &[u8]) -> Result<u64, WalError> {
        self.0.store_msg(msg)
    }
    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        self.0.load_msg(seq)
    }
    fn compact(&mut self, seq: u64) -> Result<u64, WalError> {
        self.0.compact(seq)
    }
    fn truncate(&mut self, _seq: u64) -> Result<(), WalError> {
        Err(WalError::Io(ported::raft::FsError::Io(TRUNCATE_FAILURE.into())))
    }
    fn state(&self) -> WalState {
        self.0.state()
    }
    fn stop(&mut self) {
        self.0.stop()
    }
    fn delete(&mut self) -> Result<(), WalError> {
        self.0.delete()
    }
}

/// Port of TestNRGTruncateDownToCommittedWhenTruncateFails
#[test]
fn test_nrg_truncate_down_to_committed_when_truncate_fails() {
    sweep("test_nrg_truncate_down_to_committed_when_truncate_fails", || test_nrg_truncate_down_to_committed_when_truncate_fails_seeded());
}

fn test_nrg_truncate_down_to_committed_when_truncate_fails_seeded() {
    let (mut c, slot) = single_node("test_nrg_truncate_down_to_committed_when_truncate_fails");
    let n = c.node(slot);
    let inner = n.internals().replace_wal(Box::new(ported::raft::MemWal::new()));
    n.internals().replace_wal(Box::new(TruncateAlwaysFails(inner)));
    let entries = sample_entries();

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_msg3 = encode(NATS1, 2, 1, 1, 1, entries.clone());
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(n.wal_mut().state().msgs, 1);
    assert_eq!(n.log_entry(1).expect("entry 1").leader, NATS0);

    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(n.wal_mut().state().msgs, 2);
    assert_eq!(n.log_entry(2).expect("entry 2").leader, NATS0);

    // Truncating down to commit fails: the error is recorded and pindex
    // and pterm stay as they were.
    let before = n.last_log();
    n.process_append_entry(ae_msg3, aesub);
    let want = RaftError::Wal(WalError::Io(ported::raft::FsError::Io(TRUNCATE_FAILURE.into())));
    assert_eq!(n.get_write_err(), Some(want));
    assert_eq!(n.last_log(), before);
}
