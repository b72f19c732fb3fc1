//! Health checks while catching up or paused, on a single memory node:
//! ports of raft_test.go tests 44–46 at nats-server 8188ea93a.
//!
//! Go's `Healthy()` may sleep up to 10ms watching for forward progress; no
//! other party runs while the node is driven by hand here, as in Go, where
//! the node is not started and only the test changes its state.

use crate::part1_support::{encode, sample_entries, single_node, NATS0};

/// Port of TestNRGHealthCheckWaitForCatchup
#[test]
fn test_nrg_health_check_wait_for_catchup() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_catchup");
    let n = c.node(slot);
    let entries = sample_entries();

    n.internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_msg3 = encode(NATS0, 1, 2, 1, 2, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 3, 1, 3, vec![]);
    let aesub = n.internals().aesub();

    // Into catch-up.
    n.process_append_entry(ae_heartbeat.clone(), aesub);
    let cs = n.internals().catchup().expect("catching up");
    assert_eq!((cs.pterm, cs.pindex), (0, 0));
    assert_eq!(cs.cterm, ae_heartbeat.term);
    assert_eq!(cs.cindex, ae_heartbeat.pindex);

    n.process_append_entry(ae_msg1, cs.sub);
    assert_eq!(n.last_log().0, 1);
    assert!(!n.healthy());

    n.process_append_entry(ae_msg2, cs.sub);
    assert_eq!(n.last_log().0, 2);
    assert_eq!(n.commit_index(), 1);
    assert!(!n.healthy());

    // Applying before the next catch-up entry is still not healthy: the
    // catch-up is not over.
    n.applied(1);
    assert!(!n.healthy());

    n.process_append_entry(ae_msg3, cs.sub);
    assert_eq!(n.last_log().0, 3);
    assert_eq!(n.commit_index(), 2);
    n.applied(2);
    assert!(!n.healthy());

    // The heartbeat ends the catch-up.
    n.process_append_entry(ae_heartbeat, aesub);
    assert!(!n.is_catching_up());
    assert_eq!(n.last_log().0, 3);
    assert_eq!(n.commit_index(), 3);
    assert!(!n.healthy());

    // Healthy once the last entry is applied.
    n.applied(3);
    assert!(n.healthy());
}

/// Port of TestNRGHealthCheckWaitForDoubleCatchup
#[test]
fn test_nrg_health_check_wait_for_double_catchup() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_double_catchup");
    let n = c.node(slot);
    let entries = sample_entries();

    n.internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_heartbeat1 = encode(NATS0, 1, 2, 1, 2, vec![]);
    let ae_msg3 = encode(NATS0, 1, 2, 1, 2, entries.clone());
    let ae_heartbeat2 = encode(NATS0, 1, 3, 1, 3, vec![]);
    let aesub = n.internals().aesub();

    // Into catch-up.
    n.process_append_entry(ae_heartbeat1.clone(), aesub);
    let cs = n.internals().catchup().expect("catching up");
    assert_eq!((cs.pterm, cs.pindex), (0, 0));
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat1.term, ae_heartbeat1.pindex));

    n.process_append_entry(ae_msg1, cs.sub);
    assert_eq!(n.last_log().0, 1);
    assert!(!n.healthy());

    // Missed while catching up.
    n.process_append_entry(ae_msg3.clone(), aesub);
    assert!(n.is_catching_up());
    assert_eq!(n.last_log().0, 1);
    assert!(!n.healthy());

    // The heartbeat is missed too.
    n.process_append_entry(ae_heartbeat2.clone(), aesub);
    assert!(n.is_catching_up());
    assert_eq!(n.last_log().0, 1);
    assert!(!n.healthy());

    // The second catch-up entry reaches the catch-up's target.
    n.process_append_entry(ae_msg2, cs.sub);
    assert_eq!(n.last_log().0, 2);
    assert_eq!(n.commit_index(), 1);
    n.applied(1);
    assert!(!n.healthy());

    // Still catching up until a heartbeat or new entry ends it.
    let cs = n.internals().catchup().expect("still catching up");
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat1.term, ae_heartbeat1.pindex));

    // A heartbeat from further ahead starts a new catch-up.
    n.process_append_entry(ae_heartbeat2.clone(), aesub);
    let cs = n.internals().catchup().expect("catching up again");
    assert_eq!((cs.pterm, cs.pindex), (1, 2));
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat2.term, ae_heartbeat2.pindex));
    assert!(!n.healthy());

    n.process_append_entry(ae_msg3, cs.sub);
    assert_eq!(n.last_log().0, 3);
    assert_eq!(n.commit_index(), 2);
    n.applied(2);
    assert!(!n.healthy());

    // The heartbeat ends the catch-up.
    n.process_append_entry(ae_heartbeat2, aesub);
    assert!(!n.is_catching_up());
    assert_eq!(n.last_log().0, 3);
    assert_eq!(n.commit_index(), 3);
    assert!(!n.healthy());

    n.applied(3);
    assert!(n.healthy());
}

/// Port of TestNRGHealthCheckWaitForPendingCommitsWhenPaused
#[test]
fn test_nrg_health_check_wait_for_pending_commits_when_paused() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_pending_commits_when_paused");
    let n = c.node(slot);
    let entries = sample_entries();

    n.internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 2, 1, 2, vec![]);
    let aesub = n.internals().aesub();

    n.process_append_entry(ae_msg1, aesub);
    assert_eq!(n.last_log().0, 1);
    assert!(!n.healthy());

    // The second entry moves commit up.
    n.process_append_entry(ae_msg2, aesub);
    assert_eq!(n.last_log().0, 2);
    assert!(!n.healthy());

    // Healthy once the first entry is applied.
    n.applied(1);
    assert!(n.healthy());

    // Paused with nothing pending is still healthy.
    n.pause_apply().expect("pauses");
    assert!(n.healthy());

    // The heartbeat commits the second entry while paused.
    n.process_append_entry(ae_heartbeat, aesub);
    assert_eq!(n.last_log().0, 2);
    assert!(!n.healthy());

    // Resuming commits it, but it still has to be applied.
    n.resume_apply();
    assert!(!n.healthy());

    n.applied(2);
    assert!(n.healthy());
}
