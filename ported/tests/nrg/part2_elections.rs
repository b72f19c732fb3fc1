//! Terms, votes and leadership on a single memory node: vote encoding and
//! empty votes, candidate and leader switches, step-down keeping the vote,
//! and entries from a removed leader. Ports of raft_test.go tests 60, 61,
//! 72, 77, 97, 99, 103, 104 and 111 at nats-server 8188ea93a.

use ported::peer_state::{encode_peer_state, PeerState};
use ported::raft::{decode_vote_response, Entry, EntryType, RaftState, VoteRequest, VoteResponse};
use ported::sim::Cluster;

use crate::helpers::{ms, SEC};
use crate::part2_support::{ae, encode, ix, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGVoteResponseEncoding
#[test]
fn test_nrg_vote_response_encoding() {
    sweep("test_nrg_vote_response_encoding", || test_nrg_vote_response_encoding_seeded());
}

fn test_nrg_vote_response_encoding_seeded() {
    for (granted, empty, flags) in [(false, false, 0u8), (true, false, 1), (false, true, 2), (true, true, 3)] {
        let vr = VoteResponse { term: 1, peer: NATS0.into(), granted, empty };
        let res = vr.encode();
        assert_eq!(res[16], flags, "granted {granted}, empty {empty}");
        assert_eq!(decode_vote_response(&res), Ok(vr), "granted {granted}, empty {empty}");
    }
}

fn vote(c: &mut Cluster, n: usize, term: u64, candidate: &str, reply: &str) {
    let vr = VoteRequest { term, last_term: 0, last_index: 0, candidate: candidate.into(), reply: reply.into() };
    c.node(n).process_vote_request(&vr);
}

/// Port of TestNRGInitializeAndScaleUp
#[test]
fn test_nrg_initialize_and_scale_up() {
    sweep("test_nrg_initialize_and_scale_up", || test_nrg_initialize_and_scale_up_seeded());
}

fn test_nrg_initialize_and_scale_up_seeded() {
    let (mut c, n) = single_node("test_nrg_initialize_and_scale_up");
    let ae_msg = encode(ae(NATS0, 1, 1, 0, 0, sample_entries()));

    assert!(ix(&mut c, n).initializing());
    ix(&mut c, n).set_scale_up(true);
    c.node(n).set_observer(true);
    assert_eq!(ix(&mut c, n).term(), 0);

    let vote_reply = "$TEST";
    let sub = c.subscribe(vote_reply);
    // (granted, empty) of the next vote response.
    let next_vote = |c: &mut Cluster| {
        let msg = c.next_msg(sub, SEC).expect("a vote response");
        let vr = decode_vote_response(&msg.data).expect("decodes");
        (vr.granted, vr.empty)
    };

    // Votes for a new leader; while initializing the vote is not "empty",
    // which eases reaching quorum.
    vote(&mut c, n, 1, NATS0, vote_reply);
    assert_eq!(ix(&mut c, n).term(), 1);
    assert_eq!(ix(&mut c, n).vote(), NATS0);
    assert!(ix(&mut c, n).initializing());
    assert!(ix(&mut c, n).scale_up());
    assert!(ix(&mut c, n).observer());
    assert_eq!(next_vote(&mut c), (true, false));

    // An append entry ends scale-up and observer mode.
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_msg, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 1);
    assert!(!ix(&mut c, n).initializing());
    assert!(!ix(&mut c, n).scale_up());
    assert!(!ix(&mut c, n).observer());

    // After a WAL reset the vote is "empty".
    ix(&mut c, n).reset_wal();
    assert_eq!(ix(&mut c, n).pindex(), 0);
    vote(&mut c, n, 2, "_random_", vote_reply);
    assert_eq!(ix(&mut c, n).term(), 2);
    assert_eq!(ix(&mut c, n).vote(), "_random_");
    assert_eq!(next_vote(&mut c), (true, true));

    // A snapshot received in a catch-up also ends scale-up.
    ix(&mut c, n).set_initializing(true);
    ix(&mut c, n).set_scale_up(true);
    c.node(n).set_observer(true);
    let ps = {
        let i = ix(&mut c, n);
        PeerState { known_peers: i.peer_names(), cluster_size: i.csz() as u32, domain_ext: i.ext_st() }
    };
    let snapshot_entries =
        vec![Entry::new(EntryType::Snapshot, Vec::new()), Entry::new(EntryType::PeerState, encode_peer_state(&ps))];
    let ae_snapshot = encode(ae(NATS0, 2, 1, 1, 1, snapshot_entries));
    ix(&mut c, n).create_catchup(&ae_snapshot);
    let csub = ix(&mut c, n).catchup().expect("catching up").sub;
    c.node(n).process_append_entry(ae_snapshot, csub);
    assert!(!ix(&mut c, n).initializing());
    assert!(!ix(&mut c, n).scale_up());
    assert!(!ix(&mut c, n).observer());

    // Initializing without scaling up: still not an "empty" vote.
    ix(&mut c, n).reset_wal();
    assert_eq!(ix(&mut c, n).pindex(), 0);
    ix(&mut c, n).set_initializing(true);
    vote(&mut c, n, 3, "_random_", vote_reply);
    assert_eq!(ix(&mut c, n).term(), 3);
    assert_eq!(ix(&mut c, n).vote(), "_random_");
    assert_eq!(next_vote(&mut c), (true, false));
}

/// Port of TestNRGSendAppendEntryNotLeader
#[test]
fn test_nrg_send_append_entry_not_leader() {
    sweep("test_nrg_send_append_entry_not_leader", || test_nrg_send_append_entry_not_leader_seeded());
}

fn test_nrg_send_append_entry_not_leader_seeded() {
    let (mut c, n) = single_node("test_nrg_send_append_entry_not_leader");
    assert_eq!(c.node(n).state(), RaftState::Follower);
    assert_eq!(ix(&mut c, n).pindex(), 0);

    let asubj = c.node(n).asubj().to_string();
    let sub = c.subscribe(&asubj);

    // sendAppendEntry checks leadership itself: a follower neither stores
    // nor sends.
    ix(&mut c, n).send_append_entry(vec![Entry::new(EntryType::Normal, Vec::new())]);
    assert_eq!(ix(&mut c, n).pindex(), 0);
    assert!(c.no_msg(sub, ms(250)));
}

/// Port of TestNRGReportLeaderAfterNoopEntry
#[test]
fn test_nrg_report_leader_after_noop_entry() {
    sweep("test_nrg_report_leader_after_noop_entry", || test_nrg_report_leader_after_noop_entry_seeded());
}

fn test_nrg_report_leader_after_noop_entry_seeded() {
    let (mut c, n) = single_node("test_nrg_report_leader_after_noop_entry");
    assert_eq!(c.node(n).state(), RaftState::Follower);
    assert_eq!(ix(&mut c, n).term(), 0);
    assert!(!c.node(n).leader());

    c.node(n).switch_to_candidate();
    assert_eq!(c.node(n).state(), RaftState::Candidate);
    assert_eq!(ix(&mut c, n).term(), 1);
    assert!(!c.node(n).leader());

    // Leader state, but not yet an up-to-date leader: the no-op entry
    // went out and is not applied.
    ix(&mut c, n).switch_to_leader();
    assert_eq!(c.node(n).state(), RaftState::Leader);
    assert_eq!(ix(&mut c, n).term(), 1);
    assert_eq!(ix(&mut c, n).pindex(), 1);
    assert_eq!(ix(&mut c, n).applied(), 0);
    assert!(!c.node(n).leader());

    // Once it is committed and applied, we report leadership.
    ix(&mut c, n).set_commit(1);
    c.node(n).applied(1);
    assert_eq!(ix(&mut c, n).applied(), 1);
    assert!(c.node(n).leader());
}

/// Port of TestNRGAppendEntryResurrectsLeader
#[test]
fn test_nrg_append_entry_resurrects_leader() {
    sweep("test_nrg_append_entry_resurrects_leader", || test_nrg_append_entry_resurrects_leader_seeded());
}

fn test_nrg_append_entry_resurrects_leader_seeded() {
    let (mut c, n) = single_node("test_nrg_append_entry_resurrects_leader");
    let s2 = "z3WIzPtj"; // S-2

    ix(&mut c, n).add_peer(s2);
    assert_eq!(ix(&mut c, n).peers().len(), 2);
    assert_eq!(c.node(n).cluster_size(), 2);

    // S-2 proposes removing itself; a heartbeat commits it.
    let aesub = ix(&mut c, n).aesub();
    let ae_remove_peer = encode(ae(s2, 1, 0, 0, 0, vec![Entry::new(EntryType::RemovePeer, s2.as_bytes())]));
    c.node(n).process_append_entry(ae_remove_peer, aesub);
    c.node(n).process_append_entry(encode(ae(s2, 1, 1, 1, 1, vec![])), aesub);
    assert_eq!(ix(&mut c, n).peers().len(), 1);
    assert_eq!(c.node(n).cluster_size(), 1);

    // Another entry from the removed leader must not bring it back.
    c.node(n).process_append_entry(encode(ae(s2, 1, 1, 1, 1, vec![])), aesub);
    assert_eq!(ix(&mut c, n).peers().len(), 1);
    assert_eq!(c.node(n).cluster_size(), 1);
}

/// Port of TestNRGMustNotResetVoteOnStepDownOrLeaderTransfer
#[test]
fn test_nrg_must_not_reset_vote_on_step_down_or_leader_transfer() {
    sweep("test_nrg_must_not_reset_vote_on_step_down_or_leader_transfer", || test_nrg_must_not_reset_vote_on_step_down_or_leader_transfer_seeded());
}

fn test_nrg_must_not_reset_vote_on_step_down_or_leader_transfer_seeded() {
    let (mut c, n) = single_node("test_nrg_must_not_reset_vote_on_step_down_or_leader_transfer");

    // Vote for a new leader.
    vote(&mut c, n, 1, NATS0, "");
    assert_eq!(ix(&mut c, n).term(), 1);
    assert_eq!(ix(&mut c, n).vote(), NATS0);

    // Stepping down as leader keeps the vote.
    ix(&mut c, n).set_state(RaftState::Leader);
    c.node(n).step_down(&[]).expect("steps down");
    assert_eq!(ix(&mut c, n).vote(), NATS0);

    // So does a leader transfer; the vote clears only once the intended
    // leader campaigns on a higher term.
    let transfer = vec![Entry::new(EntryType::LeaderTransfer, NATS0.as_bytes())];
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 0, 0, transfer)), aesub);
    assert_eq!(ix(&mut c, n).term(), 1);
    assert_eq!(ix(&mut c, n).vote(), NATS0);
}

/// Port of TestNRGSwitchToCandidateResetsVote
#[test]
fn test_nrg_switch_to_candidate_resets_vote() {
    sweep("test_nrg_switch_to_candidate_resets_vote", || test_nrg_switch_to_candidate_resets_vote_seeded());
}

fn test_nrg_switch_to_candidate_resets_vote_seeded() {
    let (mut c, n) = single_node("test_nrg_switch_to_candidate_resets_vote");
    assert_eq!(ix(&mut c, n).term(), 0);
    ix(&mut c, n).set_vote(NATS0.into());
    c.node(n).switch_to_candidate();

    // The term went up and the vote was reset...
    assert_eq!(ix(&mut c, n).term(), 1);
    assert_eq!(ix(&mut c, n).vote(), "");

    // ...on disk too.
    assert_eq!(ix(&mut c, n).read_term_vote(), Ok((1, String::new())));
}

/// Port of TestNRGInitSingleMemRaftNodeDefaults
#[test]
fn test_nrg_init_single_mem_raft_node_defaults() {
    sweep("test_nrg_init_single_mem_raft_node_defaults", || test_nrg_init_single_mem_raft_node_defaults_seeded());
}

fn test_nrg_init_single_mem_raft_node_defaults_seeded() {
    let (mut c, n) = single_node("test_nrg_init_single_mem_raft_node_defaults");
    let node = c.node(n);
    assert_eq!(node.id(), "esFhDys3");
    let peers = node.peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].id, "esFhDys3");
    assert_eq!(node.cluster_size(), 1);
    assert!(node.quorum());
}

/// Port of TestNRGSwitchToCandidateResetsQuorumPaused
#[test]
fn test_nrg_switch_to_candidate_resets_quorum_paused() {
    sweep("test_nrg_switch_to_candidate_resets_quorum_paused", || test_nrg_switch_to_candidate_resets_quorum_paused_seeded());
}

fn test_nrg_switch_to_candidate_resets_quorum_paused_seeded() {
    let (mut c, n) = single_node("test_nrg_switch_to_candidate_resets_quorum_paused");

    // As if the follower had been overrun.
    ix(&mut c, n).set_quorum_paused(true);
    assert_eq!(ix(&mut c, n).term(), 0);

    // A candidate has applied all it committed, so the pause can go.
    c.node(n).switch_to_candidate();
    assert_eq!(ix(&mut c, n).term(), 1);
    assert!(!ix(&mut c, n).quorum_paused());
}
