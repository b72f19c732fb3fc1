//! Quorum accounting of a leader, on a single memory node driven by hand:
//! ports of raft_test.go tests 47–49 and 52 at nats-server 8188ea93a.

use ported::raft::{AppendEntryResponse, NO_LEADER};

use crate::part1_support::{encode, sample_entries, single_node, NATS0, NATS1, NATS2};
use ported::sim::sweep;

/// Port of TestNRGAppendEntryCanEstablishQuorumAfterLeaderChange
#[test]
fn test_nrg_append_entry_can_establish_quorum_after_leader_change() {
    sweep("test_nrg_append_entry_can_establish_quorum_after_leader_change", || test_nrg_append_entry_can_establish_quorum_after_leader_change_seeded());
}

fn test_nrg_append_entry_can_establish_quorum_after_leader_change_seeded() {
    let (mut c, slot) = single_node("test_nrg_append_entry_can_establish_quorum_after_leader_change");
    let n = c.node(slot);
    let entries = sample_entries();

    n.internals().add_peer(NATS0);

    let ae_msg = encode(NATS0, 1, 0, 0, 0, entries);
    let ae_heartbeat_response = AppendEntryResponse::new(1, 2, NATS0, true);
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg, aesub);
    assert_eq!(n.last_log().0, 1);
    assert_eq!(n.internals().aflr(), 0);

    // As the new leader we cannot know whether the stored entry has quorum;
    // becoming leader sends an entry of our own.
    n.internals().switch_to_leader();
    assert_eq!(n.internals().aflr(), 2);
    assert_eq!(n.commit_index(), 0);

    // Its successful response moves commit up.
    n.internals().process_append_entry_response(ae_heartbeat_response);
    assert_eq!(n.commit_index(), 2);
    assert_eq!(n.internals().aflr(), 2);

    // Applying it clears the applied floor.
    n.applied(2);
    assert_eq!(n.internals().aflr(), 0);
}

/// Port of TestNRGQuorumAccounting
#[test]
fn test_nrg_quorum_accounting() {
    sweep("test_nrg_quorum_accounting", || test_nrg_quorum_accounting_seeded());
}

fn test_nrg_quorum_accounting_seeded() {
    let (mut c, slot) = single_node("test_nrg_quorum_accounting");
    let n = c.node(slot);

    n.internals().add_peer(NATS1);
    n.internals().add_peer(NATS2);

    let ae_heartbeat1_response = AppendEntryResponse::new(1, 1, NATS1, true);
    let ae_heartbeat2_response = AppendEntryResponse::new(1, 1, NATS2, true);

    // Five members: two other responses are needed for quorum.
    n.adjust_boot_cluster_size(5).expect("adjusts");
    assert_eq!(n.cluster_size(), 5);
    assert_eq!(n.internals().qn(), 3);

    // Becoming leader sends an entry.
    n.internals().switch_to_leader();
    n.set_test_state(Some(1), None, None);
    assert_eq!(n.last_log().0, 1);

    // One response is not quorum.
    n.internals().process_append_entry_response(ae_heartbeat1_response);
    assert_eq!(n.commit_index(), 0);

    // Two are.
    n.internals().process_append_entry_response(ae_heartbeat2_response);
    assert_eq!(n.commit_index(), 1);
}

/// Port of TestNRGRevalidateQuorumAfterLeaderChange
#[test]
fn test_nrg_revalidate_quorum_after_leader_change() {
    sweep("test_nrg_revalidate_quorum_after_leader_change", || test_nrg_revalidate_quorum_after_leader_change_seeded());
}

fn test_nrg_revalidate_quorum_after_leader_change_seeded() {
    let (mut c, slot) = single_node("test_nrg_revalidate_quorum_after_leader_change");
    let n = c.node(slot);

    n.internals().add_peer(NATS1);
    n.internals().add_peer(NATS2);

    let ae_heartbeat1_response = AppendEntryResponse::new(1, 1, NATS1, true);
    let ae_heartbeat2_response = AppendEntryResponse::new(6, 2, NATS2, true);

    n.adjust_boot_cluster_size(5).expect("adjusts");
    assert_eq!(n.cluster_size(), 5);
    assert_eq!(n.internals().qn(), 3);

    // Leader on term 1; becoming leader sends an entry.
    let term = n.term();
    n.set_test_state(Some(term + 1), None, None);
    n.internals().switch_to_leader();
    assert_eq!(n.term(), 1);
    assert_eq!(n.last_log().0, 1);

    // One follower stored it: one acknowledgement is tracked.
    n.internals().process_append_entry_response(ae_heartbeat1_response);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(n.internals().acks().len(), 1);

    // We step down; whether the first entry has quorum is now unknown.
    n.internals().stepdown(NO_LEADER);

    // Leader again, on a much later term.
    n.set_test_state(Some(6), None, None);
    n.internals().switch_to_leader();
    assert_eq!(n.term(), 6);

    // The earlier acknowledgement may no longer hold: counting restarts
    // and one new response does not commit.
    n.internals().process_append_entry_response(ae_heartbeat2_response);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(n.internals().acks().len(), 1);
}

/// Port of TestNRGIgnoreTrackResponseWhenNotLeader
#[test]
fn test_nrg_ignore_track_response_when_not_leader() {
    sweep("test_nrg_ignore_track_response_when_not_leader", || test_nrg_ignore_track_response_when_not_leader_seeded());
}

fn test_nrg_ignore_track_response_when_not_leader_seeded() {
    let (mut c, slot) = single_node("test_nrg_ignore_track_response_when_not_leader");
    let n = c.node(slot);

    n.internals().add_peer(NATS1);
    // Quorum stays at two, so the new leader's first entry does not commit by itself.
    n.internals().set_lsut(None);

    let term = n.term();
    n.set_test_state(Some(term + 1), None, None);
    n.internals().switch_to_leader();
    assert_eq!(n.term(), 1);
    assert_eq!(n.last_log(), (1, 1));
    assert_eq!(n.commit_index(), 0);

    n.internals().stepdown(NO_LEADER);
    assert_eq!(n.last_log(), (1, 1));
    assert_eq!(n.commit_index(), 0);

    // A response that would commit is ignored: we no longer lead.
    let ar = AppendEntryResponse::new(1, 1, "peer", true);
    n.internals().track_response(&ar);
    assert_eq!(n.commit_index(), 0);
}
