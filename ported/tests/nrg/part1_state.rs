//! State switches of a single memory node driven by hand: ports of
//! raft_test.go tests 11, 14 and 50 at nats-server 8188ea93a.

use ported::raft::{AppendEntryResponse, RaftState, VoteRequest, NO_VOTE};

use crate::helpers::ms;
use crate::part1_support::{encode, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGSwitchStateClearsQueues
///
/// Go builds a bare node with only its proposal and response queues and
/// pushes into them directly. Here the node is a real (not running) one:
/// the proposal goes in through `Propose` while leader, the response
/// through the node's response subscription on the simulated bus.
#[test]
fn test_nrg_switch_state_clears_queues() {
    sweep("test_nrg_switch_state_clears_queues", || test_nrg_switch_state_clears_queues_seeded());
}

fn test_nrg_switch_state_clears_queues_seeded() {
    let (mut c, slot) = single_node("test_nrg_switch_state_clears_queues");
    c.freeze(&[slot]);
    c.node(slot).switch_state(RaftState::Leader);
    assert_eq!(c.node(slot).internals().prop_len(), 0);
    assert_eq!(c.node(slot).internals().resp_len(), 0);

    c.node(slot).propose(&[]).expect("leader takes proposals");
    let areply = c.node(slot).areply().to_string();
    c.publish(&areply, "", &AppendEntryResponse::default().encode());
    c.run_for(ms(10));
    assert_eq!(c.node(slot).internals().prop_len(), 1);
    assert_eq!(c.node(slot).internals().resp_len(), 1);

    c.node(slot).switch_state(RaftState::Follower);
    assert_eq!(c.node(slot).internals().prop_len(), 0);
    assert_eq!(c.node(slot).internals().resp_len(), 0);
}

/// Port of TestNRGUnsuccessfulVoteRequestCampaignEarly
#[test]
fn test_nrg_unsuccessful_vote_request_campaign_early() {
    sweep("test_nrg_unsuccessful_vote_request_campaign_early", || test_nrg_unsuccessful_vote_request_campaign_early_seeded());
}

fn test_nrg_unsuccessful_vote_request_campaign_early_seeded() {
    let (mut c, slot) = single_node("test_nrg_unsuccessful_vote_request_campaign_early");
    let n = c.node(slot);
    let vr = |term, last_term, last_index| VoteRequest {
        term,
        last_term,
        last_index,
        candidate: NATS0.to_string(),
        reply: String::new(),
    };
    n.internals().set_etlr(None);

    // A follower votes for a candidate, resetting its election timer.
    n.process_vote_request(&vr(1, 0, 0));
    assert_eq!(n.term(), 1);
    assert_eq!(n.vote(), NATS0);
    assert!(n.etlr().is_some());
    n.internals().set_etlr(None);

    // A follower denies an outdated candidate and campaigns early.
    n.set_test_state(None, Some(1), Some(100));
    n.process_vote_request(&vr(2, 1, 2));
    assert_eq!(n.term(), 2);
    assert_eq!(n.vote(), NO_VOTE);
    assert!(n.etlr().is_some());
    n.internals().set_etlr(None);

    // Switching to candidate resets the timer.
    n.set_test_state(None, Some(2), Some(200));
    n.switch_to_candidate();
    assert_eq!(n.term(), 3);
    assert_eq!(n.state(), RaftState::Candidate);
    assert!(n.etlr().is_some());
    n.internals().set_etlr(None);

    // A candidate denies an outdated candidate on a newer term and
    // restarts its campaign.
    n.process_vote_request(&vr(4, 1, 2));
    assert_eq!(n.term(), 4);
    assert_eq!(n.vote(), NO_VOTE);
    assert!(n.etlr().is_some());
    n.internals().set_etlr(None);

    n.set_test_state(None, Some(4), Some(400));
    n.switch_to_candidate();
    assert_eq!(n.term(), 5);
    assert_eq!(n.state(), RaftState::Candidate);
    assert!(n.etlr().is_some());
    n.internals().set_etlr(None);

    // A candidate denies an outdated candidate on the same term and must
    // not reset its timer: that would let a candidate we refuse keep us
    // from ever winning.
    n.process_vote_request(&vr(5, 1, 2));
    assert_eq!(n.term(), 5);
    assert_eq!(n.vote(), NO_VOTE);
    assert_eq!(n.etlr(), None);
}

#[derive(Clone, Copy, Debug)]
enum SwitchTo {
    Follower,
    Candidate,
    Leader,
}

fn signal_lead_change_false_if_campaign_immediately(to: SwitchTo) {
    let (mut c, slot) = single_node(&format!("test_nrg_signal_lead_change_false_if_campaign_immediately/{to:?}"));
    let n = c.node(slot);
    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, sample_entries());

    // Campaigning immediately marks us as the preferred leader.
    n.campaign_immediately().expect("campaigns");
    match to {
        SwitchTo::Follower => {}
        SwitchTo::Candidate => n.switch_to_candidate(),
        SwitchTo::Leader => {
            n.switch_to_candidate();
            n.internals().switch_to_leader();
            assert_eq!(n.lead_change_c(), None, "no leadership signal yet");
        }
    }

    let aesub = n.internals().aesub();
    n.process_append_entry(ae_msg1, aesub);

    assert_eq!(n.lead_change_c(), Some(false), "expected a leader change signal");
    assert_eq!(n.state(), RaftState::Follower);
    assert_eq!(n.group_leader(), NATS0);
    assert_eq!(n.term(), 1);
}

/// Port of TestNRGSignalLeadChangeFalseIfCampaignImmediately (all three subtests)
#[test]
fn test_nrg_signal_lead_change_false_if_campaign_immediately() {
    sweep("test_nrg_signal_lead_change_false_if_campaign_immediately", || test_nrg_signal_lead_change_false_if_campaign_immediately_seeded());
}

fn test_nrg_signal_lead_change_false_if_campaign_immediately_seeded() {
    for to in [SwitchTo::Follower, SwitchTo::Candidate, SwitchTo::Leader] {
        signal_lead_change_false_if_campaign_immediately(to);
    }
}
