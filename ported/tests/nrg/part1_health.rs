//! Health checks while catching up or paused, on a single memory node:
//! ports of raft_test.go tests 44–46 at nats-server 8188ea93a.
//!
//! Go's `Healthy()` may wait up to 10ms watching for forward progress;
//! `Cluster::healthy` runs that wait on the simulated clock. Nobody applies
//! meanwhile, as in Go, where the node is not started and only the test
//! changes its state.

use crate::part1_support::{encode, sample_entries, single_node, NATS0};
use ported::sim::sweep;

/// Port of TestNRGHealthCheckWaitForCatchup
#[test]
fn test_nrg_health_check_wait_for_catchup() {
    sweep("test_nrg_health_check_wait_for_catchup", || test_nrg_health_check_wait_for_catchup_seeded());
}

fn test_nrg_health_check_wait_for_catchup_seeded() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_catchup");
    // Not started in Go: no run loop and no upper layer applying.
    c.freeze(&[slot]);
    let entries = sample_entries();

    c.node(slot).internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_msg3 = encode(NATS0, 1, 2, 1, 2, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 3, 1, 3, vec![]);
    let aesub = c.node(slot).internals().aesub();

    // Into catch-up.
    c.node(slot).process_append_entry(ae_heartbeat.clone(), aesub);
    let cs = c.node(slot).internals().catchup().expect("catching up");
    assert_eq!((cs.pterm, cs.pindex), (0, 0));
    assert_eq!(cs.cterm, ae_heartbeat.term);
    assert_eq!(cs.cindex, ae_heartbeat.pindex);

    c.node(slot).process_append_entry(ae_msg1, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 1);
    assert!(!c.healthy(slot));

    c.node(slot).process_append_entry(ae_msg2, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 2);
    assert_eq!(c.node(slot).commit_index(), 1);
    assert!(!c.healthy(slot));

    // Applying before the next catch-up entry is still not healthy: the
    // catch-up is not over.
    c.node(slot).applied(1);
    assert!(!c.healthy(slot));

    c.node(slot).process_append_entry(ae_msg3, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 3);
    assert_eq!(c.node(slot).commit_index(), 2);
    c.node(slot).applied(2);
    assert!(!c.healthy(slot));

    // The heartbeat ends the catch-up.
    c.node(slot).process_append_entry(ae_heartbeat, aesub);
    assert!(!c.node(slot).is_catching_up());
    assert_eq!(c.node(slot).last_log().0, 3);
    assert_eq!(c.node(slot).commit_index(), 3);
    assert!(!c.healthy(slot));

    // Healthy once the last entry is applied.
    c.node(slot).applied(3);
    assert!(c.healthy(slot));
}

/// Port of TestNRGHealthCheckWaitForDoubleCatchup
#[test]
fn test_nrg_health_check_wait_for_double_catchup() {
    sweep("test_nrg_health_check_wait_for_double_catchup", || test_nrg_health_check_wait_for_double_catchup_seeded());
}

fn test_nrg_health_check_wait_for_double_catchup_seeded() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_double_catchup");
    // Not started in Go: no run loop and no upper layer applying.
    c.freeze(&[slot]);
    let entries = sample_entries();

    c.node(slot).internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_heartbeat1 = encode(NATS0, 1, 2, 1, 2, vec![]);
    let ae_msg3 = encode(NATS0, 1, 2, 1, 2, entries.clone());
    let ae_heartbeat2 = encode(NATS0, 1, 3, 1, 3, vec![]);
    let aesub = c.node(slot).internals().aesub();

    // Into catch-up.
    c.node(slot).process_append_entry(ae_heartbeat1.clone(), aesub);
    let cs = c.node(slot).internals().catchup().expect("catching up");
    assert_eq!((cs.pterm, cs.pindex), (0, 0));
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat1.term, ae_heartbeat1.pindex));

    c.node(slot).process_append_entry(ae_msg1, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 1);
    assert!(!c.healthy(slot));

    // Missed while catching up.
    c.node(slot).process_append_entry(ae_msg3.clone(), aesub);
    assert!(c.node(slot).is_catching_up());
    assert_eq!(c.node(slot).last_log().0, 1);
    assert!(!c.healthy(slot));

    // The heartbeat is missed too.
    c.node(slot).process_append_entry(ae_heartbeat2.clone(), aesub);
    assert!(c.node(slot).is_catching_up());
    assert_eq!(c.node(slot).last_log().0, 1);
    assert!(!c.healthy(slot));

    // The second catch-up entry reaches the catch-up's target.
    c.node(slot).process_append_entry(ae_msg2, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 2);
    assert_eq!(c.node(slot).commit_index(), 1);
    c.node(slot).applied(1);
    assert!(!c.healthy(slot));

    // Still catching up until a heartbeat or new entry ends it.
    let cs = c.node(slot).internals().catchup().expect("still catching up");
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat1.term, ae_heartbeat1.pindex));

    // A heartbeat from further ahead starts a new catch-up.
    c.node(slot).process_append_entry(ae_heartbeat2.clone(), aesub);
    let cs = c.node(slot).internals().catchup().expect("catching up again");
    assert_eq!((cs.pterm, cs.pindex), (1, 2));
    assert_eq!((cs.cterm, cs.cindex), (ae_heartbeat2.term, ae_heartbeat2.pindex));
    assert!(!c.healthy(slot));

    c.node(slot).process_append_entry(ae_msg3, cs.sub);
    assert_eq!(c.node(slot).last_log().0, 3);
    assert_eq!(c.node(slot).commit_index(), 2);
    c.node(slot).applied(2);
    assert!(!c.healthy(slot));

    // The heartbeat ends the catch-up.
    c.node(slot).process_append_entry(ae_heartbeat2, aesub);
    assert!(!c.node(slot).is_catching_up());
    assert_eq!(c.node(slot).last_log().0, 3);
    assert_eq!(c.node(slot).commit_index(), 3);
    assert!(!c.healthy(slot));

    c.node(slot).applied(3);
    assert!(c.healthy(slot));
}

/// Port of TestNRGHealthCheckWaitForPendingCommitsWhenPaused
#[test]
fn test_nrg_health_check_wait_for_pending_commits_when_paused() {
    sweep("test_nrg_health_check_wait_for_pending_commits_when_paused", || test_nrg_health_check_wait_for_pending_commits_when_paused_seeded());
}

fn test_nrg_health_check_wait_for_pending_commits_when_paused_seeded() {
    let (mut c, slot) = single_node("test_nrg_health_check_wait_for_pending_commits_when_paused");
    // Not started in Go: no run loop and no upper layer applying.
    c.freeze(&[slot]);
    let entries = sample_entries();

    c.node(slot).internals().add_peer(NATS0);

    let ae_msg1 = encode(NATS0, 1, 0, 0, 0, entries.clone());
    let ae_msg2 = encode(NATS0, 1, 1, 1, 1, entries.clone());
    let ae_heartbeat = encode(NATS0, 1, 2, 1, 2, vec![]);
    let aesub = c.node(slot).internals().aesub();

    c.node(slot).process_append_entry(ae_msg1, aesub);
    assert_eq!(c.node(slot).last_log().0, 1);
    assert!(!c.healthy(slot));

    // The second entry moves commit up.
    c.node(slot).process_append_entry(ae_msg2, aesub);
    assert_eq!(c.node(slot).last_log().0, 2);
    assert!(!c.healthy(slot));

    // Healthy once the first entry is applied.
    c.node(slot).applied(1);
    assert!(c.healthy(slot));

    // Paused with nothing pending is still healthy.
    c.node(slot).pause_apply().expect("pauses");
    assert!(c.healthy(slot));

    // The heartbeat commits the second entry while paused.
    c.node(slot).process_append_entry(ae_heartbeat, aesub);
    assert_eq!(c.node(slot).last_log().0, 2);
    assert!(!c.healthy(slot));

    // Resuming commits it, but it still has to be applied.
    c.node(slot).resume_apply();
    assert!(!c.healthy(slot));

    c.node(slot).applied(2);
    assert!(c.healthy(slot));
}
