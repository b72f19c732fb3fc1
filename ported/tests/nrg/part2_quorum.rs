//! Quorum on a single memory node: losing and regaining it, keeping it
//! across a step-down, peer lag reports, committing only current-term
//! entries, overrun leaders and followers, and a leader not yet caught up.
//! Ports of raft_test.go tests 75, 79, 90 and 107–110 at nats-server
//! 8188ea93a.

use ported::raft::append::{PAE_WARN_THRESHOLD, PAUSE_QUORUM_THRESHOLD};
use ported::raft::internals::PeerTrack;
use ported::raft::{
    decode_append_entry_response, decode_vote_request, AppendEntry, AppendEntryResponse, RaftError, RaftState,
    RaftTimings, Timestamp, VoteResponse,
};
use ported::sim::{server_hash, Cluster, Msg};

use crate::helpers::{cluster, ms, SEC};
use crate::part2_support::{ae, encode, ix, request_if_subscribed, sample_entries, single_node, NATS0, NATS1, NATS2};
use ported::sim::sweep;

/// Port of TestNRGLostQuorum
#[test]
fn test_nrg_lost_quorum() {
    sweep("test_nrg_lost_quorum", || test_nrg_lost_quorum_seeded());
}

fn test_nrg_lost_quorum_seeded() {
    let (mut c, n) = single_node("test_nrg_lost_quorum");
    ix(&mut c, n).add_peer(NATS1);
    // Skip the scale-up grace period: this test is about lost quorum.
    ix(&mut c, n).set_lsut(None);

    assert_eq!(c.node(n).state(), RaftState::Follower);
    assert!(!c.node(n).quorum());
    assert!(ix(&mut c, n).lost_quorum());

    // Grant every vote request, as NATS0.
    let vsubj = c.node(n).vsubj().to_string();
    c.subscribe_with(&vsubj, |m: &Msg| match decode_vote_request(&m.data, &m.reply) {
        Ok(req) => {
            let resp = VoteResponse { term: req.term, peer: NATS0.into(), granted: true, empty: false };
            vec![Msg { subject: m.reply.clone(), reply: String::new(), data: resp.encode() }]
        }
        Err(_) => Vec::new(),
    });

    // As a candidate the peer must be tracked as active.
    c.node(n).switch_to_candidate();
    assert_eq!(c.node(n).state(), RaftState::Candidate);
    assert!(!c.node(n).quorum());
    assert!(ix(&mut c, n).lost_quorum());

    ix(&mut c, n).add_peer(NATS0);

    // Go calls runAsCandidate, which returns once the state changes; here
    // the node's loop runs until then.
    c.unfreeze(&[n]);
    c.run_until(10 * SEC, |c| c.node(n).state() != RaftState::Candidate);
    c.freeze(&[n]);
    assert_eq!(c.node(n).state(), RaftState::Leader);
    assert!(c.node(n).quorum());
    assert!(!ix(&mut c, n).lost_quorum());
}

/// Port of TestNRGQuorumAfterLeaderStepdown
///
/// Go stores `nodeInfo` for each peer so StepDown sees them online; the
/// port's StepDown has no node-info check, so there is nothing to store.
#[test]
fn test_nrg_quorum_after_leader_stepdown() {
    sweep("test_nrg_quorum_after_leader_stepdown", || test_nrg_quorum_after_leader_stepdown_seeded());
}

fn test_nrg_quorum_after_leader_stepdown_seeded() {
    let mut c = cluster("test_nrg_quorum_after_leader_stepdown", "R3S", 3);
    // The production election timeouts and heartbeat, not the test ones.
    let prod = RaftTimings::default();
    c.timings = RaftTimings {
        min_election_timeout: prod.min_election_timeout,
        max_election_timeout: prod.max_election_timeout,
        hb_interval: prod.hb_interval,
        ..RaftTimings::go_test_defaults()
    };
    let n = c.init_single_mem_raft_node();
    c.freeze(&[n]);

    ix(&mut c, n).add_peer(NATS0);
    ix(&mut c, n).add_peer(NATS1);

    // Become leader.
    c.node(n).switch_to_candidate();
    ix(&mut c, n).switch_to_leader();

    // No quorum until at least one peer is seen.
    assert!(!c.node(n).quorum());
    ix(&mut c, n).track_peer(NATS0).expect("tracks");
    assert!(c.node(n).quorum());
    ix(&mut c, n).track_peer(NATS1).expect("tracks");
    assert!(c.node(n).quorum());
    assert_eq!(ix(&mut c, n).peers().len(), 3);
    ix(&mut c, n).set_all_peers_known();

    // After handing off leadership we still report quorum, and every peer
    // timestamp is kept.
    c.node(n).step_down(&[]).expect("steps down");
    assert!(c.node(n).quorum());
    let me = c.node(n).id().to_string();
    let peers = ix(&mut c, n).peers();
    assert_eq!(peers.len(), 3);
    for (id, ps) in peers.iter().filter(|(id, _)| **id != me) {
        assert!(ps.ts.is_some(), "timestamp of {id} kept");
    }

    // With the new leader known, quorum stays, the leader's timestamp is
    // kept and the other follower's cleared.
    ix(&mut c, n).update_leader(NATS0);
    assert_eq!(ix(&mut c, n).leader(), NATS0);
    assert!(c.node(n).quorum());
    let peers = ix(&mut c, n).peers();
    assert_eq!(peers.len(), 3);
    for (id, ps) in peers.iter().filter(|(id, _)| **id != me) {
        assert_eq!(ps.ts.is_some(), id == NATS0, "timestamp of {id}");
    }
}

/// Port of TestNRGPeersResponse
///
/// Go builds bare `raft` values; here a fresh single node gets the same
/// fields overwritten.
#[test]
fn test_nrg_peers_response() {
    sweep("test_nrg_peers_response", || test_nrg_peers_response_seeded());
}

fn test_nrg_peers_response_seeded() {
    let (mut c, n) = single_node("test_nrg_peers_response");
    let track = |li: u64| PeerTrack { ts: None, li, kp: false };

    // As a leader.
    let mut i = ix(&mut c, n);
    i.set_id("me".into());
    i.set_leader("me".into());
    i.set_peers(&[("me", track(0)), ("peer1", track(10)), ("peer2", track(3)), ("peer3", track(0))]);
    i.set_pindex(10);
    i.set_commit(10);
    i.set_applied(10);
    i.set_state(RaftState::Leader);
    for ps in c.node(n).peers() {
        let want = match ps.id.as_str() {
            "me" | "peer1" => (0, true),
            // We persisted 10 entries; they have 3, or none.
            "peer2" => (7, false),
            "peer3" => (10, false),
            other => panic!("unexpected peer ID: {other}"),
        };
        assert_eq!((ps.lag, ps.current), want, "peer {}", ps.id);
    }

    // As a follower.
    let mut i = ix(&mut c, n);
    i.set_leader("leader".into());
    i.set_peers(&[("me", track(0)), ("leader", track(0)), ("peer", track(0))]);
    i.set_pindex(0);
    i.set_commit(0);
    i.set_applied(0);
    i.set_state(RaftState::Follower);
    for ps in c.node(n).peers() {
        // Only we are current; other followers are unknown to us.
        assert_eq!((ps.lag, ps.current), (0, ps.id == "me"), "peer {}", ps.id);
    }

    // Heard from the leader recently: it is current.
    let now = Timestamp(c.world.now.get());
    ix(&mut c, n).set_peer_ts("leader", Some(now));
    let leader = c.node(n).peers().into_iter().find(|p| p.id == "leader").expect("leader listed");
    assert_eq!((leader.lag, leader.current), (0, true));
}

/// Port of TestNRGOnlyCommitIfCurrentTerm
#[test]
fn test_nrg_only_commit_if_current_term() {
    sweep("test_nrg_only_commit_if_current_term", || test_nrg_only_commit_if_current_term_seeded());
}

fn test_nrg_only_commit_if_current_term_seeded() {
    let (mut c, n) = single_node("test_nrg_only_commit_if_current_term");
    let entries = sample_entries();
    let (s1, s2, s3) = (server_hash("S-1"), server_hash("S-2"), server_hash("S-3"));

    ix(&mut c, n).add_peer(&s2);
    ix(&mut c, n).add_peer(&s3);
    assert_eq!(c.node(n).peers().len(), 3);

    // We led twice and stored two entries; another server led term 3
    // unknown to us; leading again we store a third at index 3.
    for (term, pterm, pindex) in [(1, 0, 0), (2, 1, 1), (4, 2, 2)] {
        let m = encode(ae(&s1, term, 0, pterm, pindex, entries.clone()));
        ix(&mut c, n).store_to_wal(&m).expect("stores");
    }

    // Leader state for the responses below.
    ix(&mut c, n).switch_to_leader();
    ix(&mut c, n).set_term(4);
    assert_eq!(ix(&mut c, n).commit(), 0);

    // Quorum on entries of earlier terms does not move commit...
    let ok = |term, index| AppendEntryResponse::new(term, index, &s2, true);
    ix(&mut c, n).process_append_entry_response(ok(1, 1));
    assert_eq!(ix(&mut c, n).commit(), 0);
    ix(&mut c, n).process_append_entry_response(ok(2, 2));
    assert_eq!(ix(&mut c, n).commit(), 0);
    // ...only quorum on an entry of our current term does; otherwise the
    // term-3 leader could still overwrite index 2.
    ix(&mut c, n).process_append_entry_response(ok(4, 3));
    assert_eq!(ix(&mut c, n).commit(), 3);
}

fn set_marks(c: &mut Cluster, n: usize, pindex: u64, commit: u64, applied: u64) {
    let mut i = ix(c, n);
    i.set_pindex(pindex);
    i.set_commit(commit);
    i.set_applied(applied);
}

// The shared body of the "Uncommitted" and "Unapplied" subtests: at the
// threshold proposals go through, above it the leader steps down.
fn overrun_case(c: &mut Cluster, n: usize, at: (u64, u64), over: (u64, u64)) {
    ix(c, n).set_state(RaftState::Leader);
    set_marks(c, n, at.0, at.1, 0);
    c.node(n).propose(&[]).expect("proposal at the threshold");
    c.node(n).propose_multi(Vec::new()).expect("proposal at the threshold");
    assert_eq!(c.node(n).state(), RaftState::Leader);

    set_marks(c, n, over.0, over.1, 0);
    assert_eq!(c.node(n).propose(&[]), Err(RaftError::NotLeader));
    assert_eq!(c.node(n).state(), RaftState::Follower);

    ix(c, n).set_state(RaftState::Leader);
    assert_eq!(c.node(n).propose_multi(Vec::new()), Err(RaftError::NotLeader));
    assert_eq!(c.node(n).state(), RaftState::Follower);
}

/// Port of TestNRGLeaderStepsDownIfOverrun (both subtests)
#[test]
fn test_nrg_leader_steps_down_if_overrun() {
    sweep("test_nrg_leader_steps_down_if_overrun", || test_nrg_leader_steps_down_if_overrun_seeded());
}

fn test_nrg_leader_steps_down_if_overrun_seeded() {
    let (mut c, n) = single_node("test_nrg_leader_steps_down_if_overrun");

    // Only a leader accepts proposals.
    assert_eq!(c.node(n).propose(&[]), Err(RaftError::NotLeader));
    assert_eq!(c.node(n).propose_multi(Vec::new()), Err(RaftError::NotLeader));

    ix(&mut c, n).switch_to_leader();
    c.node(n).propose(&[]).expect("leader proposes");
    c.node(n).propose_multi(Vec::new()).expect("leader proposes");
    assert_eq!(c.node(n).state(), RaftState::Leader);

    // Too many uncommitted entries in the log.
    let t = PAUSE_QUORUM_THRESHOLD;
    overrun_case(&mut c, n, (t, 0), (t + 1, 0));
    // Too many unapplied entries.
    overrun_case(&mut c, n, (t, t), (t + 1, t + 1));
}

fn follower_pauses_quorum_if_overrun(new: bool) {
    let (mut c, n) = single_node(&format!("test_nrg_follower_pauses_quorum_if_overrun/{new}"));
    let sub = c.subscribe("$TEST");
    let ae_heartbeat = encode(AppendEntry { reply: "$TEST".into(), ..ae(NATS0, 1, 0, 0, 0, vec![]) });

    // A replayed entry arrives on no subscription.
    let aesub = if new { ix(&mut c, n).aesub() } else { None };
    let wait = ms(200);

    // Live entries get a success answer, replays none.
    let expect_answer = |c: &mut Cluster| {
        if new {
            let msg = c.next_msg(sub, wait).expect("a response");
            let ar = decode_append_entry_response(&msg.data).expect("decodes");
            assert!(ar.success);
            assert_eq!(msg.reply, "");
        } else {
            assert!(c.no_msg(sub, wait));
        }
    };

    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    expect_answer(&mut c);

    // Exactly at the threshold we still process.
    ix(&mut c, n).set_commit(PAUSE_QUORUM_THRESHOLD);
    ix(&mut c, n).set_applied(0);
    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    expect_answer(&mut c);

    // Over it we pause until well below it again.
    ix(&mut c, n).set_commit(PAUSE_QUORUM_THRESHOLD + 1);
    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    assert!(c.no_msg(sub, wait));
    assert_eq!(ix(&mut c, n).quorum_paused(), new);

    // Still paused just above the lower threshold.
    let commit = ix(&mut c, n).commit();
    ix(&mut c, n).set_applied(commit - PAE_WARN_THRESHOLD - 1);
    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    assert!(c.no_msg(sub, wait));
    assert_eq!(ix(&mut c, n).quorum_paused(), new);

    // At the lower threshold we resume.
    ix(&mut c, n).set_applied(commit - PAE_WARN_THRESHOLD);
    c.node(n).process_append_entry(ae_heartbeat.clone(), aesub);
    assert!(!ix(&mut c, n).quorum_paused());
    expect_answer(&mut c);

    if new {
        // No underflow: shortly after a snapshot install we resume.
        let mut i = ix(&mut c, n);
        i.set_quorum_paused(true);
        i.set_applied(PAE_WARN_THRESHOLD);
        i.set_papplied(PAE_WARN_THRESHOLD);
        i.set_commit(0);
        c.node(n).process_append_entry(ae_heartbeat, aesub);
        assert!(!ix(&mut c, n).quorum_paused());
        expect_answer(&mut c);
    }
}

/// Port of TestNRGFollowerPausesQuorumIfOverrun (both subtests)
#[test]
fn test_nrg_follower_pauses_quorum_if_overrun() {
    sweep("test_nrg_follower_pauses_quorum_if_overrun", || test_nrg_follower_pauses_quorum_if_overrun_seeded());
}

fn test_nrg_follower_pauses_quorum_if_overrun_seeded() {
    follower_pauses_quorum_if_overrun(false);
    follower_pauses_quorum_if_overrun(true);
}

/// Port of TestNRGIgnoreForwardedProposalIfNotCaughtUpLeader
#[test]
fn test_nrg_ignore_forwarded_proposal_if_not_caught_up_leader() {
    sweep("test_nrg_ignore_forwarded_proposal_if_not_caught_up_leader", || test_nrg_ignore_forwarded_proposal_if_not_caught_up_leader_seeded());
}

fn test_nrg_ignore_forwarded_proposal_if_not_caught_up_leader_seeded() {
    let (mut c, n) = single_node("test_nrg_ignore_forwarded_proposal_if_not_caught_up_leader");
    ix(&mut c, n).add_peer(NATS1);
    ix(&mut c, n).add_peer(NATS2);

    ix(&mut c, n).set_term(1);
    ix(&mut c, n).switch_to_leader();
    // Go runs runAsLeader in a goroutine: the node's loop runs from here.
    c.unfreeze(&[n]);

    // Leader, but marked as not caught up yet.
    ix(&mut c, n).set_leader_state(false);
    let psubj = c.node(n).psubj().to_string();

    // A forwarded proposal, retried until the leader is subscribed.
    let before = c.node(n).progress().0;
    c.check_for(2 * SEC, ms(200), |c| request_if_subscribed(c, &psubj, &[], ms(100)));

    // It is not accepted.
    c.run_for(ms(200));
    assert_eq!(c.node(n).progress().0, before);
}
