//! Elections, step-downs and leader transfer in three-node groups: ports
//! of raft_test.go tests 6, 8, 10, 17, 18, 20 and 24 at nats-server
//! 8188ea93a. As in batch33.rs, the Go cluster's JetStream meta leader has
//! no counterpart, a NATS client becomes a probe on the simulated bus,
//! locking nodes becomes freezing them, and sleeps are simulated time.

use std::time::Duration;

use ported::raft::{decode_append_entry, decode_append_entry_response, raft_catchup_reply, AppendEntry, EntryType, RaftState};
use ported::sim::SmKind;

use crate::helpers::{cluster, ms, SEC};
use crate::part1_support::leader_of;
use ported::sim::sweep;

/// Port of TestNRGInlineStepdown
#[test]
fn test_nrg_inline_stepdown() {
    sweep("test_nrg_inline_stepdown", || test_nrg_inline_stepdown_seeded());
}

fn test_nrg_inline_stepdown_seeded() {
    let mut c = cluster("test_nrg_inline_stepdown", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let l = leader_of(&mut c, &rg);

    // Once StepDown returns we are no longer leader.
    c.node(l).step_down(&[]).expect("steps down");
    assert_ne!(c.node(l).state(), RaftState::Leader);
}

/// Port of TestNRGAEFromOldLeader
#[test]
fn test_nrg_ae_from_old_leader() {
    sweep("test_nrg_ae_from_old_leader", || test_nrg_ae_from_old_leader_seeded());
}

fn test_nrg_ae_from_old_leader_seeded() {
    let mut c = cluster("test_nrg_ae_from_old_leader", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let first = leader_of(&mut c, &rg);

    // Watch for catch-up requests.
    let ch = c.subscribe(&raft_catchup_reply(">"));

    // Move to the next term so term 1 can be reused below.
    let _ = c.node(first).step_down(&[]);
    c.run_for(ms(100));
    let leader = leader_of(&mut c, &rg);
    assert_eq!(c.node(first).term(), 2);

    // An append entry with an outdated term. It used to reset the WAL and
    // so trigger a raft-level catch-up.
    let ae = AppendEntry { term: 1, pindex: 0, leader: c.node(leader).id().to_string(), ..Default::default() };
    let payload = ae.encode().expect("encodes");
    let asubj = c.node(leader).asubj().to_string();
    let resp = c.request(&asubj, &payload, SEC).expect("a response");

    // Rejected.
    let ar = decode_append_entry_response(&resp.data).expect("decodes");
    assert!(!ar.success);

    // No reset, so no catch-up.
    assert!(c.no_msg(ch, 2 * SEC));
}

/// Port of TestNRGLeaderTransfer
#[test]
fn test_nrg_leader_transfer() {
    sweep("test_nrg_leader_transfer", || test_nrg_leader_transfer_seeded());
}

fn test_nrg_leader_transfer_seeded() {
    let mut c = cluster("test_nrg_leader_transfer", "R3S", 3);
    let rg = c.create_mem_raft_group("Test", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);

    let asubj = c.node(leader).asubj().to_string();
    let sub = c.subscribe(&asubj);

    let nl = rg.non_leader(&c).expect("a follower");
    let preferred = c.node(nl).id().to_string();
    // Deliberate difference: wait until the leader has heard from the
    // preferred follower. Go steps down at once, and fails when
    // waitOnLeader returns between the quorum's acknowledgement that made
    // the leader and that follower's first response: StepDown then finds
    // it unhealthy and picks another peer (upstream finding, reproduced by
    // `leader_transfer_passes_over_a_preferred_peer_not_yet_heard_from`).
    c.check_for(SEC, ms(1), |c| match c.node(leader).peers().iter().find(|p| p.id == preferred) {
        Some(p) if p.last.is_some() => Ok(()),
        _ => Err("preferred follower not heard from yet".into()),
    });
    let _ = c.node(leader).step_down(&[preferred.as_str()]);
    let new_leader = leader_of(&mut c, &rg);
    assert_eq!(c.node(new_leader).id(), preferred);

    // The transfer went out as an EntryLeaderTransfer naming the preferred peer.
    c.check_for(SEC, Duration::ZERO, |c| {
        let msg = c.next_msg(sub, SEC).ok_or("no message")?;
        let ae = decode_append_entry(&msg.data, None, &msg.reply).map_err(|e| e.to_string())?;
        if let [e] = ae.entries.as_slice() {
            if e.typ == EntryType::LeaderTransfer && e.data == preferred.as_bytes() {
                return Ok(());
            }
        }
        Err("Expect EntryLeaderTransfer".into())
    });
}

/// The race behind TestNRGLeaderTransfer's rare failures (found by the seed
/// sweep: NRG_SIM_SEED=4108482223173715252 on the unmodified port). A
/// leader is `Leader()` once a quorum acknowledged its first entry, which
/// in a group of three is one follower; if the test asks it to step down in
/// favour of the other before that one's first response, StepDown finds
/// the preferred peer not heard from within three heartbeats and transfers
/// to someone else. Here the preferred follower's responses are held on a
/// stalled link so the race is hit every time.
#[test]
fn leader_transfer_passes_over_a_preferred_peer_not_yet_heard_from() {
    let mut c = cluster("leader_transfer_passes_over_a_preferred_peer_not_yet_heard_from", "R3S", 3);
    let rg = c.create_mem_raft_group("Test", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let followers = rg.followers(&c);
    let (slow, other) = (followers[0], followers[1]);
    let (os, ss) = (c.nodes[other].server, c.nodes[slow].server);
    // A fresh leader in a later term, with the slow follower's responses held back.
    c.world.net.borrow_mut().stall(ss, os);
    let other_id = c.node(other).id().to_string();
    let _ = c.node(leader).step_down(&[other_id.as_str()]);
    let leader = c.run_until(5 * SEC, |c| c.nodes[other].raft.leader()).then_some(other).expect("transfer to the fast follower");
    let preferred = c.node(slow).id().to_string();
    let _ = c.node(leader).step_down(&[preferred.as_str()]);
    let now = c.world.now.get();
    {
        let mut rng = c.world.rng.borrow_mut();
        c.world.net.borrow_mut().release(ss, os, now, &mut rng);
    }
    let new_leader = leader_of(&mut c, &rg);
    assert_ne!(c.node(new_leader).id(), preferred, "the preferred peer was passed over");
}

/// Port of TestNRGHeartbeatOnLeaderChange
#[test]
fn test_nrg_heartbeat_on_leader_change() {
    sweep("test_nrg_heartbeat_on_leader_change", || test_nrg_heartbeat_on_leader_change_seeded());
}

fn test_nrg_heartbeat_on_leader_change_seeded() {
    let mut c = cluster("test_nrg_heartbeat_on_leader_change", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    c.wait_on_leader(&rg);

    for i in 0..10 {
        let leader = rg.leader(&c).expect("a leader");
        c.propose_delta(leader, 22);
        c.propose_delta(leader, -11);
        c.propose_delta(leader, -10);
        // Forward progress: each iteration adds one.
        c.wait_on_total(&rg, i + 1);
        // Restart the leader.
        c.stop(leader);
        c.restart(leader);
        c.wait_on_leader(&rg);
    }
}

/// Port of TestNRGElectionTimerAfterObserver
#[test]
fn test_nrg_election_timer_after_observer() {
    sweep("test_nrg_election_timer_after_observer", || test_nrg_election_timer_after_observer_seeded());
}

fn test_nrg_election_timer_after_observer_seeded() {
    let mut c = cluster("test_nrg_election_timer_after_observer", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    c.wait_on_leader(&rg);

    for &m in &rg.members {
        c.node(m).set_observer(true);
    }

    c.run_for(c.timings.max_election_timeout);
    let before = c.world.now.get();
    // Go's clock moves between reading `before` and the calls below.
    c.run_for(Duration::from_micros(1));

    for &m in &rg.members {
        c.node(m).set_observer(false);
    }

    c.run_for(c.timings.max_campaign_timeout);

    for &m in &rg.members {
        let etlr = c.node(m).etlr().expect("election timer was reset");
        assert!(etlr.0 > before, "slot {m}: etlr {} not after {before}", etlr.0);
    }
}

/// Port of TestNRGCandidateDoesntRevertTermAfterOldAE
#[test]
fn test_nrg_candidate_doesnt_revert_term_after_old_ae() {
    sweep("test_nrg_candidate_doesnt_revert_term_after_old_ae", || test_nrg_candidate_doesnt_revert_term_after_old_ae_seeded());
}

fn test_nrg_candidate_doesnt_revert_term_after_old_ae_seeded() {
    let mut c = cluster("test_nrg_candidate_doesnt_revert_term_after_old_ae", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    c.wait_on_leader(&rg);

    // Bump the term a few times (step-downs are not synchronous).
    for _ in 0..3 {
        let l = leader_of(&mut c, &rg);
        let _ = c.node(l).step_down(&[]);
        c.run_for(ms(50));
        c.wait_on_leader(&rg);
    }

    let leader = leader_of(&mut c, &rg);
    let follower = rg.non_leader(&c).expect("a follower");

    assert_eq!(c.node(leader).term(), 4);
    assert_eq!(c.node(follower).term(), 4);

    // Term 4, pterm 4: push every term up to 9 without touching pterm.
    c.freeze(&rg.members);
    for &m in &rg.members {
        let t = c.node(m).term();
        c.node(m).set_test_state(Some(t + 5), None, None);
    }
    c.unfreeze(&rg.members);

    // An entry on a term newer than pterm but older than term, handed to
    // the follower as a candidate.
    let (commit, (pindex, pterm), id) = {
        let l = c.node(leader);
        (l.commit_index(), l.last_log(), l.id().to_string())
    };
    let ae = AppendEntry::new(&id, 6, commit, pterm, pindex, Vec::new());
    c.node(follower).switch_to_candidate();
    c.node(follower).process_append_entry(ae, None);

    // The candidate did not go back to term 6.
    assert_ne!(c.node(follower).term(), 6);
}

/// Port of TestNRGRemoveLeaderPeerDeadlockBug
#[test]
fn test_nrg_remove_leader_peer_deadlock_bug() {
    sweep("test_nrg_remove_leader_peer_deadlock_bug", || test_nrg_remove_leader_peer_deadlock_bug_seeded());
}

fn test_nrg_remove_leader_peer_deadlock_bug_seeded() {
    let mut c = cluster("test_nrg_remove_leader_peer_deadlock_bug", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let n = leader_of(&mut c, &rg);
    let leader = c.node(n).id().to_string();

    // Removing the leader itself used to deadlock.
    c.node(n).propose_remove_peer(&leader).expect("proposes");
    c.wait_on_leader(&rg);

    c.check_for(10 * SEC, ms(200), |c| {
        if c.node(n).group_leader() != leader {
            return Ok(());
        }
        Err("Leader has not moved".into())
    });
}
