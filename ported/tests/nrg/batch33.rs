//! Batch 33 raft tests, ported from `server/raft_test.go` and
//! `server/jetstream_cluster_long_test.go` at nats-server 8188ea93a.
//!
//! Translation notes: a Go cluster's JetStream meta leader
//! (`c.waitOnLeader()`) has no counterpart and is skipped; a NATS client
//! connection becomes a probe on the simulated bus; holding a node's lock
//! (`lockAll`, `lockFollowers`) becomes freezing it; sleeps and timeouts
//! are simulated time.

use std::time::Duration;

use ported::raft::persist::TERM_VOTE_FILE;
use ported::raft::wire::{
    decode_append_entry, decode_vote_request, decode_vote_response, AppendEntryResponse,
    VoteRequest,
};
use ported::raft::{env::join, RaftState, RaftTimings, NO_LEADER, NO_VOTE};
use ported::sim::{encode_delta, Cluster, Msg, RaftGroup, SmKind};

use crate::helpers::{cluster, ms, SEC};
use ported::sim::sweep;

fn leader_or_panic(c: &mut Cluster, rg: &RaftGroup) -> usize {
    match c.wait_on_leader(rg) {
        Some(l) => l,
        None => panic!("no leader elected for {}", rg.name),
    }
}

/// Port of TestNRGSimple
#[test]
fn test_nrg_simple() {
    sweep("test_nrg_simple", || test_nrg_simple_seeded());
}

fn test_nrg_simple_seeded() {
    let mut c = cluster("test_nrg_simple", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    c.wait_on_leader(&rg);
    // Several state transitions, proposed from random members.
    let m = rg.random_member(&c);
    c.propose_delta(m, 22);
    let m = rg.random_member(&c);
    c.propose_delta(m, -11);
    let m = rg.random_member(&c);
    c.propose_delta(m, -10);
    c.wait_on_total(&rg, 1);
}

/// Port of TestNRGRecoverFromFollowingNoLeader
#[test]
fn test_nrg_recover_from_following_no_leader() {
    sweep("test_nrg_recover_from_following_no_leader", || test_nrg_recover_from_following_no_leader_seeded());
}

fn test_nrg_recover_from_following_no_leader_seeded() {
    let mut c = cluster("test_nrg_recover_from_following_no_leader", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);
    let term = c.node(leader).term();

    // Pause everyone (the leader refuses, as in Go), drop queued applies
    // and force all into followers without a leader.
    for &m in &rg.members {
        let _ = c.node(m).pause_apply();
    }
    for &m in &rg.members {
        c.node(m).apply_q().clear();
        c.node(m).switch_to_follower(NO_LEADER);
    }
    for &m in &rg.members {
        c.node(m).resume_apply();
    }

    // Nobody hears from a leader, so an election on a new term follows.
    c.wait_on_leader(&rg);
    let Some(l) = rg.leader(&c) else { panic!("no leader after recovery") };
    assert_ne!(c.node(l).term(), term);
}

/// Port of TestNRGObserverMode
#[test]
fn test_nrg_observer_mode() {
    sweep("test_nrg_observer_mode", || test_nrg_observer_mode_seeded());
}

fn test_nrg_observer_mode_seeded() {
    let mut c = cluster("test_nrg_observer_mode", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);

    // Observers do not campaign but keep applying commits.
    for &m in &rg.members {
        if !c.node(m).leader() {
            c.node(m).set_observer(true);
        }
    }
    c.propose_delta(leader, 1);
    c.propose_delta(leader, 2);
    c.propose_delta(leader, 3);
    c.wait_on_total(&rg, 6);

    for &m in &rg.members {
        if c.node(m).leader() {
            continue;
        }
        assert!(c.node(m).is_observer());
    }
}

/// Port of TestNRGSimpleElection
#[test]
fn test_nrg_simple_election() {
    sweep("test_nrg_simple_election", || test_nrg_simple_election_seeded());
}

fn test_nrg_simple_election_seeded() {
    let mut c = cluster("test_nrg_simple_election", "R3S", 9);
    let rg = c.create_raft_group("TEST", 9, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);
    let start_term = c.node(leader).term();

    // Vote requests share one subject; responses go to per-node inboxes.
    let vsubj = c.node(leader).vsubj().to_string();
    let vote_reqs = c.subscribe(&vsubj);
    let first_reply = c.node(rg.members[0]).vreply().to_string();
    let vote_resps = c.subscribe(&first_reply);
    for &m in &rg.members[1..] {
        let r = c.node(m).vreply().to_string();
        c.probe_add_subject(vote_resps, &r);
    }

    // Stepping down starts a new election.
    c.node(leader).step_down(&[]).expect("leader steps down");

    let msg = c.next_msg(vote_reqs, SEC).expect("a vote request");
    let vr = decode_vote_request(&msg.data, &msg.reply).expect("decodes");
    assert_ne!(vr.candidate, "");
    // The candidate bumped its term to campaign.
    assert_eq!(vr.term, start_term + 1);
    assert_eq!(vr.last_term, start_term);

    // One response per follower, all granted on the new term.
    //
    // Deliberate difference: a follower may refuse. The candidate wins with
    // five of nine votes, and a follower whose goroutine sees the winner's
    // first append entry before the vote request (both queued, and Go's
    // select picks at random) stores an entry of the new term first and
    // then finds the candidate's log behind its own. Go's test assumes
    // every vote request is handled first; the seed sweep found the other
    // order (NRG_SIM_SEED=18382354458773127670 before this change).
    let mut refused = Vec::new();
    let mut i = 0;
    while i < rg.members.len() - 1 {
        let msg = c.next_msg(vote_resps, SEC).expect("a vote response");
        let re = decode_vote_response(&msg.data).expect("decodes");
        // Ignore old responses still in flight.
        if re.term < vr.term {
            continue;
        }
        if !re.granted {
            refused.push(re.peer.clone());
        }
        assert_eq!(re.term, vr.term);
        assert_eq!(re.term, start_term + 1);
        i += 1;
    }

    // Everyone moved to the new term and voted for the candidate.
    c.freeze(&rg.members);
    for &m in &rg.members {
        let n = c.node(m);
        assert_eq!(n.term(), vr.term);
        assert_eq!(n.term(), start_term + 1);
        if refused.iter().any(|p| p == n.id()) {
            // It refused because it already follows the winner in this term.
            assert_eq!((n.vote(), n.group_leader(), n.last_log().1), ("", vr.candidate.as_str(), vr.term));
        } else {
            assert_eq!(n.vote(), vr.candidate);
        }
    }
    assert!(refused.len() < 4, "the candidate won, so at most three of nine refused: {refused:?}");
}

/// Port of TestNRGStepDownOnSameTermDoesntClearVote
#[test]
fn test_nrg_step_down_on_same_term_doesnt_clear_vote() {
    sweep("test_nrg_step_down_on_same_term_doesnt_clear_vote", || test_nrg_step_down_on_same_term_doesnt_clear_vote_seeded());
}

fn test_nrg_step_down_on_same_term_doesnt_clear_vote_seeded() {
    let mut c = cluster("test_nrg_step_down_on_same_term_doesnt_clear_vote", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let lsm = leader_or_panic(&mut c, &rg);
    let follower = rg.non_leader(&c).expect("a follower");

    // Consume the leader change notification from the election.
    assert!(c.wait_lch(lsm, SEC).is_some());

    let asubj = c.node(lsm).asubj().to_string();
    let sub = c.subscribe(&asubj);
    let msg = c.next_msg(sub, SEC).expect("an append entry");
    c.unsubscribe(sub);

    let mut ae = decode_append_entry(&msg.data, None, &msg.reply).expect("decodes");

    // An old term with a fake leader: the current leader ignores it.
    let reply = c.node(follower).areply().to_string();
    ae.leader = c.node(follower).id().to_string();
    let leader_term = c.node(lsm).term();
    ae.term = leader_term - 1;
    let data = ae.encode().expect("encodes");
    c.publish(&msg.subject, &reply, &data);
    assert!(c.no_msg_lch(lsm, SEC));

    // The same term as the leader: it steps down but keeps its vote.
    ae.term = leader_term;
    let data = ae.encode().expect("encodes");
    c.publish(&msg.subject, &reply, &data);
    assert!(c.wait_lch(lsm, SEC).is_some());
    assert_ne!(c.node(lsm).vote(), NO_VOTE);
}

/// Port of TestNRGUnsuccessfulVoteRequestDoesntResetElectionTimer
#[test]
fn test_nrg_unsuccessful_vote_request_doesnt_reset_election_timer() {
    sweep("test_nrg_unsuccessful_vote_request_doesnt_reset_election_timer", || test_nrg_unsuccessful_vote_request_doesnt_reset_election_timer_seeded());
}

fn test_nrg_unsuccessful_vote_request_doesnt_reset_election_timer_seeded() {
    let mut c = cluster("test_nrg_unsuccessful_vote_request_doesnt_reset_election_timer", "R3S", 3);
    // Long timeouts so no timer fires while the etlr values are compared.
    c.timings = RaftTimings {
        min_election_timeout: Duration::from_secs(5),
        max_election_timeout: Duration::from_secs(10),
        hb_interval: Duration::from_secs(10),
        ..RaftTimings::go_test_defaults()
    };
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);

    // Kick the first node into campaigning rather than wait for a timer.
    let first = rg.members[0];
    c.node(first).campaign().expect("campaign");
    let leader = leader_or_panic(&mut c, &rg);
    let follower = rg.non_leader(&c).expect("a follower");

    // One entry so no heartbeats are needed for the rest of the test.
    c.propose_delta(leader, 1);
    c.wait_on_total(&rg, 1);

    let vsubj = c.node(leader).vsubj().to_string();
    let vreply = c.new_inbox();
    let ch = c.subscribe(&vreply);

    let max = c.timings.max_election_timeout;
    c.node(leader).reset_elect_with_lock(max);
    c.node(follower).reset_elect_with_lock(max);
    let leader_original = c.node(leader).etlr();
    let follower_original = c.node(follower).etlr();
    let fterm = c.node(follower).term();
    let vr = VoteRequest {
        term: fterm - 1,
        last_term: fterm - 1,
        last_index: 0,
        candidate: c.node(follower).id().to_string(),
        reply: String::new(),
    };

    // An obviously stale vote request.
    c.publish(&vsubj, &vreply, &vr.encode());
    for _ in 0..3 {
        assert!(c.next_msg(ch, SEC).is_some(), "every node answers");
    }

    // Neither election timer was reset by it.
    assert_eq!(c.node(leader).etlr(), leader_original);
    assert_eq!(c.node(follower).etlr(), follower_original);
}

/// Port of TestNRGInvalidTAVDoesntPanic
#[test]
fn test_nrg_invalid_tav_doesnt_panic() {
    sweep("test_nrg_invalid_tav_doesnt_panic", || test_nrg_invalid_tav_doesnt_panic_seeded());
}

fn test_nrg_invalid_tav_doesnt_panic_seeded() {
    let mut c = cluster("test_nrg_invalid_tav_doesnt_panic", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);

    // Mangle the TAV file to less than a u64.
    let tav = join(c.node(leader).store_dir(), TERM_VOTE_FILE);
    c.world.disk.borrow_mut().put_file(&tav, &[1, 2, 3, 4]);

    c.stop(leader);
    c.restart(leader);

    // Go waits for all servers to be current; here: all group members.
    c.wait_on_all_current(&rg);
}

/// Port of TestNRGAssumeHighTermAfterCandidateIsolation
#[test]
fn test_nrg_assume_high_term_after_candidate_isolation() {
    sweep("test_nrg_assume_high_term_after_candidate_isolation", || test_nrg_assume_high_term_after_candidate_isolation_seeded());
}

fn test_nrg_assume_high_term_after_candidate_isolation_seeded() {
    let mut c = cluster("test_nrg_assume_high_term_after_candidate_isolation", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    leader_or_panic(&mut c, &rg);

    // A follower back from isolation: much higher term, campaigning.
    let follower = rg.non_leader(&c).expect("a follower");
    let t = c.node(follower).term();
    c.node(follower).set_test_state(Some(t + 100), None, None);
    c.node(follower).switch_state(RaftState::Candidate);
    c.node(follower).request_vote();
    c.run_for(ms(100));

    // Everyone adopts the term even without granting the vote.
    let nterm = c.node(follower).term();
    for &m in &rg.members {
        assert_eq!(c.node(m).term(), nterm);
    }

    // A proposal through the leader moves the candidate back to follower.
    let leader = leader_or_panic(&mut c, &rg);
    c.propose_delta(leader, 1);
    c.wait_on_total(&rg, 1);

    for &m in &rg.members {
        assert_ne!(c.node(m).state(), RaftState::Candidate);
        assert!(c.node(m).term() >= nterm);
    }
}

/// Port of TestNRGSystemClientCleanupFromAccount
///
/// Go counts the system account's clients; the analogue is the transport
/// clients the raft nodes register on the simulated bus.
#[test]
fn test_nrg_system_client_cleanup_from_account() {
    sweep("test_nrg_system_client_cleanup_from_account", || test_nrg_system_client_cleanup_from_account_seeded());
}

fn test_nrg_system_client_cleanup_from_account_seeded() {
    let mut c = cluster("test_nrg_system_client_cleanup_from_account", "R3S", 3);
    let start = c.num_node_clients();

    let mut all = Vec::new();
    for i in 0..5 {
        let rg = c.create_raft_group(&format!("TEST-{i}"), 3, SmKind::Adder);
        c.wait_on_leader(&rg);
        all.push(rg);
    }
    for rg in &all {
        for &m in &rg.members {
            c.node(m).stop();
        }
        for &m in &rg.members {
            c.node(m).wait_for_stop();
        }
    }
    let finish = c.num_node_clients();
    assert_eq!(start, finish);
}

/// Port of TestNRGNoResetOnAppendEntryResponse
#[test]
fn test_nrg_no_reset_on_append_entry_response() {
    sweep("test_nrg_no_reset_on_append_entry_response", || test_nrg_no_reset_on_append_entry_response_seeded());
}

fn test_nrg_no_reset_on_append_entry_response_seeded() {
    let mut c = cluster("test_nrg_no_reset_on_append_entry_response", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);
    c.wait_on_all_current(&rg);

    let follower = rg.non_leader(&c).expect("a follower");
    let lsm = leader;
    assert_eq!(c.wait_lch(lsm, 5 * SEC), Some(true));

    // Answer every non-heartbeat append entry with a failure on a higher
    // term, which used to make the leader reset its whole log.
    let follower_id = c.node(follower).id().to_string();
    c.subscribe_with("$NRG.AE.TEST", move |msg: &Msg| match decode_append_entry(&msg.data, None, &msg.reply) {
        Ok(ae) if !ae.entries.is_empty() => {
            let ar = AppendEntryResponse::new(ae.term + 1, ae.commit, &follower_id, false);
            vec![Msg { subject: msg.reply.clone(), reply: String::new(), data: ar.encode() }]
        }
        _ => Vec::new(),
    });

    c.wait_on_all_current(&rg);

    // Followers may not answer for now.
    let locked = rg.followers(&c);
    c.freeze(&locked);

    c.propose_delta(lsm, 5);

    // The leader steps down.
    c.check_for(10 * SEC, Duration::ZERO, |c| match c.wait_lch(lsm, 5 * SEC) {
        Some(false) => Ok(()),
        Some(true) => Err("Node is still leader!".into()),
        None => Err("no leader change seen".into()),
    });

    c.unfreeze(&locked);

    // Stepped down without blowing its log away.
    c.freeze(&rg.members);
    let n = c.node(leader);
    assert_eq!(n.state(), RaftState::Follower);
    let (pindex, pterm) = n.last_log();
    assert_ne!(pterm, 0);
    assert_ne!(pindex, 0);
}

/// Port of TestNRGCandidateDontStepdownDueToLeaderOfPreviousTerm
#[test]
fn test_nrg_candidate_dont_stepdown_due_to_leader_of_previous_term() {
    sweep("test_nrg_candidate_dont_stepdown_due_to_leader_of_previous_term", || test_nrg_candidate_dont_stepdown_due_to_leader_of_previous_term_seeded());
}

fn test_nrg_candidate_dont_stepdown_due_to_leader_of_previous_term_seeded() {
    let mut c = cluster("test_nrg_candidate_dont_stepdown_due_to_leader_of_previous_term", "R3S", 3);
    c.timings = RaftTimings {
        min_election_timeout: Duration::from_secs(5),
        max_election_timeout: Duration::from_secs(10),
        hb_interval: Duration::from_secs(1),
        ..RaftTimings::go_test_defaults()
    };
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_or_panic(&mut c, &rg);
    // Deliberate difference: let the new leader's first append entries land
    // before its state is rewritten. Go rewrites it at once, and fails when
    // one of those is still in flight: the candidate rejects it with term
    // 100 and the leader steps down before it ever sends a heartbeat of
    // term 50 (seen on one seed in 300: NRG_SIM_SEED=15957570759379305201
    // before this wait). Far below the 1 s heartbeat, so the first append
    // entry seen below is still the term-50 heartbeat.
    c.run_for(Duration::from_millis(50));

    let (candidate_pterm, candidate_pindex, candidate_term) = (50u64, 70u64, 100u64);

    // A candidate that got entries as a follower in an earlier term.
    let candidate = rg.non_leader(&c).expect("a follower");
    c.node(candidate).switch_state(RaftState::Candidate);
    c.node(candidate).set_test_state(Some(candidate_term), Some(candidate_pterm), Some(candidate_pindex));

    // The leader's term is behind the candidate's.
    c.node(leader).set_test_state(Some(candidate_pterm), Some(candidate_pterm), Some(candidate_pindex));

    let asubj = c.node(leader).asubj().to_string();
    let sub = c.subscribe(&asubj);

    // The first append entry is the heartbeat of the previous-term leader.
    let msg = c.next_msg(sub, 5 * SEC).expect("a heartbeat");

    c.freeze(&rg.members);
    let ae = decode_append_entry(&msg.data, None, &msg.reply).expect("decodes");
    assert_eq!(ae.leader, c.node(leader).id());
    // Sent before the leader learnt of the candidate's term.
    assert_eq!(ae.term, candidate_pterm);
    // The candidate did not step down and is still ahead.
    assert_eq!(c.node(candidate).state(), RaftState::Candidate);
    assert!(c.node(candidate).term() > ae.term);
}

/// Port of TestNRGRecoverPindexPtermOnlyIfLogNotEmpty
#[test]
fn test_nrg_recover_pindex_pterm_only_if_log_not_empty() {
    sweep("test_nrg_recover_pindex_pterm_only_if_log_not_empty", || test_nrg_recover_pindex_pterm_only_if_log_not_empty_seeded());
}

fn test_nrg_recover_pindex_pterm_only_if_log_not_empty_seeded() {
    let mut c = cluster("test_nrg_recover_pindex_pterm_only_if_log_not_empty", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    leader_or_panic(&mut c, &rg);

    // Delete the messages and snapshots; only the TAV file keeps a term.
    let gn = rg.members[0];
    c.node(gn).wal_mut().truncate(0).expect("truncate");
    let store = c.node(gn).store_dir().to_string();
    c.world.disk.borrow_mut().remove_all_for_test(&join(&store, "msgs"));
    c.world.disk.borrow_mut().remove_all_for_test(&join(&store, "snapshots"));

    for &m in &rg.members {
        c.stop(m);
    }
    c.restart(gn);

    // An empty log recovers as empty.
    let (pindex, pterm) = c.node(gn).last_log();
    assert_eq!(pterm, 0);
    assert_eq!(pindex, 0);
}

/// Port of TestNRGForwardProposalResponse
#[test]
fn test_nrg_forward_proposal_response() {
    sweep("test_nrg_forward_proposal_response", || test_nrg_forward_proposal_response_seeded());
}

fn test_nrg_forward_proposal_response_seeded() {
    let mut c = cluster("test_nrg_forward_proposal_response", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    leader_or_panic(&mut c, &rg);

    let n = rg.non_leader(&c).expect("a follower");
    let psubj = c.node(n).psubj().to_string();
    let resp = c.request(&psubj, &encode_delta(123), 5 * SEC);
    assert!(resp.is_some(), "forwarded proposal gets a response");

    c.wait_on_total(&rg, 123);
}

fn dont_reject_append_entry_from_replay(restart: bool) {
    let mut c = cluster(&format!("test_nrg_dont_reject_append_entry_from_replay/{restart}"), "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let l = leader_or_panic(&mut c, &rg);

    // Stop everyone but the leader.
    let rs = rg.non_leader(&c).expect("a follower");
    for &m in &rg.members {
        if m != l {
            c.stop(m);
        }
    }

    // The proposal is stored in the leader's log (not committed).
    let (pindex, _, _) = c.node(l).progress();
    c.propose_delta(l, 10);
    c.check_for(2 * SEC, ms(200), |c| {
        if c.node(l).progress().0 == pindex {
            return Err("proposal not stored yet".into());
        }
        Ok(())
    });

    // Optionally the leader restarts and must replay its log.
    if restart {
        c.stop(l);
        c.restart(l);
    }

    // The stopped server gets caught up.
    c.restart(rs);

    // Deliberate difference: 10 s instead of Go's 5. When the leader
    // restarts too, both nodes start their election timers together and,
    // about once in a thousand seeds, time out within a millisecond of
    // each other and split the vote; the retry can then end past 5 s (in
    // Go as well).
    let members = rg.members.clone();
    c.check_for(10 * SEC, ms(200), |c| {
        let mut errs = Vec::new();
        for &m in &members {
            // Kept as in Go: the scan stops at the first other member.
            if m != l && m != rs {
                break;
            }
            let total = c.adder(m).sum;
            if total != 10 {
                errs.push(format!("expected 10 total, got: {total}"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    });
}

/// Port of TestNRGDontRejectAppendEntryFromReplay (both subtests)
#[test]
fn test_nrg_dont_reject_append_entry_from_replay() {
    sweep("test_nrg_dont_reject_append_entry_from_replay", || test_nrg_dont_reject_append_entry_from_replay_seeded());
}

fn test_nrg_dont_reject_append_entry_from_replay_seeded() {
    dont_reject_append_entry_from_replay(false);
    dont_reject_append_entry_from_replay(true);
}

fn simple_catchup(leader_change: bool) {
    let mut c = cluster(&format!("test_nrg_simple_catchup/{leader_change}"), "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    leader_or_panic(&mut c, &rg);

    // Stop one member; it is caught up later.
    let nl = rg.non_leader(&c).expect("a follower");
    c.stop(nl);

    let l = rg.leader(&c).expect("still a leader");
    c.propose_delta(l, 10);

    let members = rg.members.clone();
    c.check_for(2 * SEC, ms(200), |c| {
        let mut errs = Vec::new();
        for &m in &members {
            let total = c.adder(m).sum;
            if m == nl && total != 0 {
                errs.push("expected shutdown server to not get data".to_string());
            } else if m != nl && total != 10 {
                errs.push(format!("expected 10 total, got: {total}"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    });

    if leader_change {
        c.node(l).step_down(&[]).expect("step down");
    }

    c.restart(nl);
    c.wait_on_total(&rg, 10);
}

/// Port of TestNRGSimpleCatchup (both subtests)
#[test]
fn test_nrg_simple_catchup() {
    sweep("test_nrg_simple_catchup", || test_nrg_simple_catchup_seeded());
}

fn test_nrg_simple_catchup_seeded() {
    simple_catchup(false);
    simple_catchup(true);
}

// The convergence check shared by the chain-of-blocks tests: every
// replica running, at `expected` blocks, with equal non-empty hashes.
fn chain_converged(c: &Cluster, rg: &RaftGroup, expected: u64) -> Result<String, String> {
    let mut previous: Option<(String, String)> = None;
    for &m in &rg.members {
        let sm = c.rcob_ref(m);
        let name = format!("{}/{}", c.servers[c.nodes[m].server].name, c.nodes[m].raft.id());
        let (running, blocks, hash) = sm.get_current_hash();
        if !running {
            return Err(format!("node {name} is not running"));
        }
        if blocks != expected {
            return Err(format!("node {name} applied {blocks} blocks out of {expected} expected"));
        }
        if hash.is_empty() {
            return Err(format!("node {name} has empty hash after applying {blocks} blocks"));
        }
        if let Some((pn, ph)) = &previous {
            if *ph != hash {
                return Err(format!("hash mismatch after {expected} blocks: {name} hash: {hash} != {pn} hash: {ph}"));
            }
        }
        if let Some(e) = &sm.corrupt {
            return Err(format!("node {name}: {e}"));
        }
        previous = Some((name, hash));
    }
    Ok(previous.map(|p| p.1).unwrap_or_default())
}

/// Port of TestNRGChainOfBlocksRunInLockstep
#[test]
fn test_nrg_chain_of_blocks_run_in_lockstep() {
    sweep("test_nrg_chain_of_blocks_run_in_lockstep", || test_nrg_chain_of_blocks_run_in_lockstep_seeded());
}

fn test_nrg_chain_of_blocks_run_in_lockstep_seeded() {
    const ITERATIONS: u64 = 50;
    let apply_timeout = 3 * SEC;
    let test_timeout = ITERATIONS as u32 * SEC;

    let mut c = cluster("test_nrg_chain_of_blocks_run_in_lockstep", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::ChainOfBlocks);
    leader_or_panic(&mut c, &rg);
    let start = c.now();

    for iteration in 1..=ITERATIONS {
        assert!(c.now() - start < test_timeout, "Timeout, completed {}/{ITERATIONS} iterations", iteration - 1);

        // This test assumes every proposal goes through.
        let m = rg.random_member(&c);
        c.propose_block(m);

        let group = rg.clone();
        c.check_for(apply_timeout, ms(500), |c| chain_converged(c, &group, iteration).map(|_| ()));
    }
}

/// Port of TestNRGChainOfBlocksStopAndCatchUp
#[test]
fn test_nrg_chain_of_blocks_stop_and_catch_up() {
    sweep("test_nrg_chain_of_blocks_stop_and_catch_up", || test_nrg_chain_of_blocks_stop_and_catch_up_seeded());
}

fn test_nrg_chain_of_blocks_stop_and_catch_up_seeded() {
    const ITERATIONS: u64 = 50;
    const BLOCKS_PER_ITERATION: u64 = 3;
    let apply_timeout = 3 * SEC;
    let test_timeout = 2 * ITERATIONS as u32 * SEC;

    let mut c = cluster("test_nrg_chain_of_blocks_stop_and_catch_up", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::ChainOfBlocks);
    leader_or_panic(&mut c, &rg);
    let start = c.now();
    let mut highest_block_seen = 0u64;

    for iteration in 1..=ITERATIONS {
        assert!(c.now() - start < test_timeout, "Timeout, completed {}/{ITERATIONS} iterations", iteration - 1);

        // Stop a random node.
        let stopped = rg.random_member(&c);
        c.stop(stopped);

        // Snapshot another random (running) node.
        let mut snapshot_node = rg.random_member(&c);
        while snapshot_node == stopped {
            snapshot_node = rg.random_member(&c);
        }
        c.rcob_create_snapshot(snapshot_node);

        // Propose a few blocks through running nodes.
        c.wait_on_leader(&rg);
        for _ in 0..BLOCKS_PER_ITERATION {
            let mut proposer = rg.random_member(&c);
            while proposer == stopped {
                proposer = rg.random_member(&c);
            }
            c.propose_block(proposer);
        }

        c.restart(stopped);

        let expected = iteration * BLOCKS_PER_ITERATION;
        let group = rg.clone();
        c.check_for(apply_timeout, ms(250), |c| {
            for &m in &group.members {
                let blocks = c.rcob_ref(m).blocks_applied;
                if blocks > highest_block_seen {
                    // A new high: every replica must be checked again.
                    highest_block_seen = blocks;
                    return Err(format!("updated highest block to {highest_block_seen}"));
                }
            }
            chain_converged(c, &group, expected).map(|_| ())
        });
    }
}

/// Port of TestLongNRGChainOfBlocks (jetstream_cluster_long_test.go)
///
/// Runs for ten simulated minutes by default; `NRG_LONG_SECS` changes that.
/// Each loop iteration also lets one simulated millisecond pass, standing
/// in for the real time a Go iteration takes.
#[test]
fn test_long_nrg_chain_of_blocks() {
    const GROUP_SIZE: usize = 3;
    let convergence_timeout = 30 * SEC;
    let duration = Duration::from_secs(std::env::var("NRG_LONG_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(600));

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Op {
        StopOne,
        StopAll,
        RestartOne,
        RestartAll,
        Snapshot,
        Propose,
        ProposeLeader,
        Pause,
        Check,
    }
    use Op::*;
    let ops_weighted = [
        StopOne, StopOne, StopOne, StopAll, StopAll, RestartOne, RestartOne, RestartOne, RestartAll, RestartAll,
        RestartAll, Snapshot, Snapshot, Propose, Propose, Propose, Propose, ProposeLeader, ProposeLeader, ProposeLeader,
        ProposeLeader, Pause, Pause, Pause, Pause, Check, Check, Check, Check,
    ];

    let mut c = cluster("test_long_nrg_chain_of_blocks", "Test", 3);
    let rg = c.create_raft_group("ChainOfBlocks", GROUP_SIZE, SmKind::ChainOfBlocks);
    c.wait_on_leader(&rg);

    let pick = |c: &Cluster, nodes: &mut Vec<usize>| -> Option<usize> {
        if nodes.is_empty() {
            return None;
        }
        let i = c.world.rng.borrow_mut().index(nodes.len());
        Some(nodes.swap_remove(i))
    };

    let mut highest_blocks_count = 0u64;
    let mut active: Vec<usize> = rg.members.clone();
    let mut stopped: Vec<usize> = Vec::new();
    let start = c.now();
    let mut stop_cooldown = 0;
    let mut iterations = 0u64;

    while c.now() - start < duration {
        iterations += 1;
        let mut op = ops_weighted[c.world.rng.borrow_mut().index(ops_weighted.len())];
        // Don't stop so often that no progress can be made.
        if op == StopOne || op == StopAll {
            if stop_cooldown > 0 {
                op = Propose;
            } else {
                stop_cooldown = 50;
            }
        }
        if stop_cooldown > 0 {
            stop_cooldown -= 1;
        }

        match op {
            StopOne => {
                if let Some(n) = pick(&c, &mut active) {
                    c.stop(n);
                    stopped.push(n);
                }
            }
            StopAll => {
                for &n in &active {
                    c.stop(n);
                }
                stopped.append(&mut active);
            }
            RestartOne => {
                if let Some(n) = pick(&c, &mut stopped) {
                    c.restart(n);
                    active.push(n);
                }
            }
            RestartAll => {
                for &n in &stopped {
                    c.restart(n);
                }
                active.append(&mut stopped);
            }
            Snapshot => {
                if !active.is_empty() {
                    let n = active[c.world.rng.borrow_mut().index(active.len())];
                    c.rcob_create_snapshot(n);
                }
            }
            Propose => {
                if !active.is_empty() {
                    let n = active[c.world.rng.borrow_mut().index(active.len())];
                    c.propose_block(n);
                }
            }
            ProposeLeader => {
                if let Some(l) = rg.leader(&c) {
                    c.propose_block(l);
                }
            }
            Pause => {
                let d = c.world.rng.borrow_mut().below(250);
                c.run_for(ms(d));
            }
            Check => {
                for &n in &stopped {
                    c.restart(n);
                }
                active.append(&mut stopped);
                let group = rg.clone();
                c.check_for(convergence_timeout, ms(250), |c| {
                    let reference = group.members[0];
                    let (_, reference_blocks, reference_hash) = c.rcob_ref(reference).get_current_hash();
                    for &m in &group.members {
                        let sm = c.rcob_ref(m);
                        let (running, blocks, hash) = sm.get_current_hash();
                        if !running {
                            return Err(format!("node not running: slot {m}"));
                        }
                        if let Some(e) = &sm.corrupt {
                            return Err(format!("slot {m}: {e}"));
                        }
                        if blocks > highest_blocks_count {
                            highest_blocks_count = blocks;
                        }
                        if blocks != reference_blocks {
                            return Err(format!("different number of blocks {blocks} (slot {m}) vs. {reference_blocks} (slot {reference})"));
                        } else if hash != reference_hash {
                            return Err(format!("different hash after {blocks} blocks {hash} (slot {m}) vs. {reference_hash} (slot {reference})"));
                        }
                    }
                    if reference_blocks < highest_blocks_count {
                        return Err(format!("nodes converged below highest known block count: {highest_blocks_count}"));
                    }
                    Ok(())
                });
            }
        }
        c.run_for(ms(1));
    }
    eprintln!(
        "long chain of blocks: {iterations} iterations, highest block {highest_blocks_count}, {:?} simulated",
        c.now() - start
    );
}
