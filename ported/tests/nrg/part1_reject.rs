//! Which append entries a single memory node answers or refuses: ports of
//! raft_test.go tests 51, 53 and 54 at nats-server 8188ea93a. Go's NATS
//! client subscription on the reply subject becomes a probe on the
//! simulated bus; the node itself is frozen (not running), as Go's
//! initialised-but-not-started node does not run its loop either.

use ported::raft::{decode_append_entry_response, AppendEntry, VoteRequest};

use crate::helpers::SEC;
use crate::part1_support::{encode, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGCatchupDontCountTowardQuorum
#[test]
fn test_nrg_catchup_dont_count_toward_quorum() {
    sweep("test_nrg_catchup_dont_count_toward_quorum", || test_nrg_catchup_dont_count_toward_quorum_seeded());
}

fn test_nrg_catchup_dont_count_toward_quorum_seeded() {
    let (mut c, slot) = single_node("test_nrg_catchup_dont_count_toward_quorum");
    c.freeze(&[slot]);
    let entries = sample_entries();

    let ae_reply = "$TEST";
    let sub = c.subscribe(ae_reply);

    let with_reply = |mut ae: AppendEntry| {
        ae.reply = ae_reply.to_string();
        ae
    };
    let ae_missed_msg = with_reply(encode(NATS0, 1, 0, 0, 0, entries.clone()));
    let ae_catchup_trigger = with_reply(encode(NATS0, 1, 0, 1, 1, entries.clone()));
    let ae_heartbeat = with_reply(encode(NATS0, 1, 0, 1, 2, vec![]));

    // We missed everything up to here.
    let aesub = c.node(slot).internals().aesub();
    c.node(slot).process_append_entry(ae_catchup_trigger.clone(), aesub);
    let cs = c.node(slot).internals().catchup().expect("catching up");
    assert_eq!(cs.pterm, 0);
    assert_eq!(cs.pindex, 0);
    assert_eq!(cs.cterm, ae_catchup_trigger.pterm);
    assert_eq!(cs.cindex, ae_catchup_trigger.pindex);

    // We answer that we need a catch-up, giving the catch-up inbox.
    let msg = c.next_msg(sub, SEC).expect("a catch-up request");
    let ar = decode_append_entry_response(&msg.data).expect("decodes");
    assert_eq!(ar.index, 0);
    assert!(!ar.success);
    assert!(msg.reply.starts_with("$NRG.CR"));

    // Catch-up entries are never answered.
    c.node(slot).process_append_entry(ae_missed_msg, cs.sub);
    assert!(c.next_msg(sub, SEC).is_none());
    c.node(slot).process_append_entry(ae_catchup_trigger, cs.sub);
    assert!(c.next_msg(sub, SEC).is_none());

    // All caught up: the catch-up ends and a new entry gets a success.
    let pindex = ae_heartbeat.pindex;
    c.node(slot).process_append_entry(ae_heartbeat, aesub);
    let msg = c.next_msg(sub, SEC).expect("a response");
    let ar = decode_append_entry_response(&msg.data).expect("decodes");
    assert_eq!(ar.index, pindex);
    assert!(ar.success);
    assert_eq!(msg.reply, "");
}

/// Port of TestNRGRejectNewAppendEntryFromPreviousLeader
#[test]
fn test_nrg_reject_new_append_entry_from_previous_leader() {
    sweep("test_nrg_reject_new_append_entry_from_previous_leader", || test_nrg_reject_new_append_entry_from_previous_leader_seeded());
}

fn test_nrg_reject_new_append_entry_from_previous_leader_seeded() {
    let (mut c, slot) = single_node("test_nrg_reject_new_append_entry_from_previous_leader");
    let n = c.node(slot);
    let entries = sample_entries();

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let aesub = n.internals().aesub();

    // Accepted: same term as ours.
    n.set_test_state(Some(1), None, None);
    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.last_log(), (1, 1));

    // We vote in the election of a new leader on a new term.
    n.process_vote_request(&VoteRequest { term: 5, last_term: 1, last_index: 2, candidate: String::new(), reply: String::new() });

    // An entry from the previous term is refused.
    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.last_log(), (1, 1));
}

fn reject_append_entry_during_catchup_from_previous_leader(is_catching_up: bool, old_behavior: bool) {
    let title = match (is_catching_up, old_behavior) {
        (false, false) => "new-entry",
        (false, true) => "new-entry-backward-compatible",
        (true, false) => "catchup",
        (true, true) => "catchup-backward-compatible",
    };
    let (mut c, slot) = single_node(&format!("test_nrg_reject_append_entry_during_catchup_from_previous_leader/{title}"));
    let n = c.node(slot);
    let entries = sample_entries();

    let mut ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let mut ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let aesub = n.internals().aesub();

    // The second entry on our own term starts a catch-up.
    n.set_test_state(Some(1), None, None);
    n.process_append_entry(ae_msg2.clone(), aesub);
    let catchup = n.internals().catchup().expect("catching up");
    assert_eq!(catchup.pterm, 0);
    assert_eq!(catchup.pindex, 0);
    assert_eq!(catchup.cterm, ae_msg2.pterm);
    assert_eq!(catchup.cindex, ae_msg2.pindex);

    // Newer leaders send their own term along with catch-up entries.
    if !old_behavior {
        ae_msg1.lterm = 1;
        ae_msg2.lterm = 1;
    }

    // The first catch-up entry is accepted.
    n.process_append_entry(ae_msg1, catchup.sub);
    assert_eq!(n.last_log(), (1, 1));

    // We vote in the election of a new leader on a new term.
    n.process_vote_request(&VoteRequest { term: 5, last_term: 1, last_index: 2, candidate: String::new(), reply: String::new() });

    // Voting cancelled the catch-up; put it back to see what a catch-up
    // entry after the term moved on does.
    let mut nsub = aesub;
    if is_catching_up {
        nsub = catchup.sub;
        n.internals().set_catchup(Some(catchup));
    }

    n.process_append_entry(ae_msg2, nsub);
    assert_eq!(n.last_log().1, 1);

    if is_catching_up && old_behavior {
        // Without lterm the entry is (wrongly, for compatibility) accepted.
        assert_eq!(n.last_log().0, 2);
    } else {
        assert_eq!(n.last_log().0, 1);
    }
}

/// Port of TestNRGRejectAppendEntryDuringCatchupFromPreviousLeader (all four subtests)
#[test]
fn test_nrg_reject_append_entry_during_catchup_from_previous_leader() {
    sweep("test_nrg_reject_append_entry_during_catchup_from_previous_leader", || test_nrg_reject_append_entry_during_catchup_from_previous_leader_seeded());
}

fn test_nrg_reject_append_entry_during_catchup_from_previous_leader_seeded() {
    for is_catching_up in [false, true] {
        for old_behavior in [false, true] {
            reject_append_entry_during_catchup_from_previous_leader(is_catching_up, old_behavior);
        }
    }
}
