//! WAL contents, snapshots and terms across restarts and leader changes
//! in three-node groups: ports of raft_test.go tests 2, 21 and 25–27 at
//! nats-server 8188ea93a. Translation as in batch33.rs: no meta leader, a
//! NATS client is a probe, locking nodes is freezing them, simulated time.

use ported::raft::append::PAE_DROP_THRESHOLD;
use ported::raft::{raft_append_subj, AppendEntry, NO_LEADER};
use ported::sim::{Cluster, RaftGroup, SmKind};

use crate::helpers::{cluster, ms, SEC};
use crate::part1_support::{leader_of, sample_entries};
use ported::sim::sweep;

/// Port of TestNRGSnapshotAndRestart
#[test]
fn test_nrg_snapshot_and_restart() {
    sweep("test_nrg_snapshot_and_restart", || test_nrg_snapshot_and_restart_seeded());
}

fn test_nrg_snapshot_and_restart_seeded() {
    let mut c = cluster("test_nrg_snapshot_and_restart", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let sm = rg.non_leader(&c).expect("a follower");

    let mut expected_total = 0i64;
    for i in 0..1000 {
        let delta = c.world.rng.borrow_mut().below(222) as i64;
        expected_total += delta;
        c.propose_delta(leader, delta);

        if i == 250 {
            // Let things catch up, snapshot the leader and a member, and
            // stop that member.
            c.run_for(ms(50));
            c.adder_snapshot(leader).expect("leader snapshot");
            c.adder_snapshot(sm).expect("member snapshot");
            c.stop(sm);
        }
    }
    c.restart(sm);
    c.wait_on_total(&rg, expected_total);
}

/// Port of TestNRGTermDoesntRollBackToPtermOnCatchup
#[test]
fn test_nrg_term_doesnt_roll_back_to_pterm_on_catchup() {
    sweep("test_nrg_term_doesnt_roll_back_to_pterm_on_catchup", || test_nrg_term_doesnt_roll_back_to_pterm_on_catchup_seeded());
}

fn test_nrg_term_doesnt_roll_back_to_pterm_on_catchup_seeded() {
    let mut c = cluster("test_nrg_term_doesnt_roll_back_to_pterm_on_catchup", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let lsm = leader_of(&mut c, &rg);

    // Entries with pterm 1 in the log.
    for i in 0..5 {
        c.propose_delta(lsm, 1);
        c.wait_on_total(&rg, i + 1);
    }

    c.freeze(&rg.members);
    for &m in &rg.members {
        let n = c.node(m);
        assert_eq!(n.term(), 1);
        assert_eq!(n.last_log(), (6, 1));
    }
    c.unfreeze(&rg.members);

    // Force a step-down so we move up to term 2.
    c.node(lsm).switch_to_follower(NO_LEADER);
    let leader = leader_of(&mut c, &rg);

    // Everyone is on term 2; followers' logs are cut back to term 1 so
    // that they will need a catch-up.
    c.freeze(&rg.members);
    for &m in &rg.members {
        let n = c.node(m);
        assert_eq!(n.term(), 2);
        if !n.leader() {
            n.truncate_wal(1, 6);
            assert_eq!(n.term(), 2, "term must stay");
            assert_eq!(n.last_log(), (6, 1));
        }
    }
    let ae = {
        let l = c.node(leader);
        let (pindex, pterm) = l.last_log();
        AppendEntry::new(l.id(), l.term(), l.commit_index(), pterm, pindex, Vec::new())
    };
    c.unfreeze(&rg.members);

    let ar_inbox = c.new_inbox();
    let ar_ch = c.subscribe(&ar_inbox);
    c.run_for(ms(100));

    // The entry sends the followers into a catch-up, during which they
    // used to set their term back to pterm.
    let b = ae.encode().expect("encodes");
    c.publish(&raft_append_subj("TEST"), &ar_inbox, &b);

    assert!(c.next_msg(ar_ch, 5 * SEC).is_some(), "first follower responds");
    assert!(c.next_msg(ar_ch, 5 * SEC).is_some(), "second follower responds");
    for &m in &rg.members {
        assert_ne!(c.node(m).term(), 1);
    }
}

// Every member's WAL holds the same entries (the leader term of catch-up
// copies aside).
fn wals_match(c: &mut Cluster, rg: &RaftGroup) -> Result<(), String> {
    let mut expected: Vec<AppendEntry> = Vec::new();
    for &m in &rg.members {
        let n = c.node(m);
        let state = n.wal_mut().state();
        if !expected.is_empty() && (state.last_seq + 1 - state.first_seq) as usize != expected.len() {
            return Err("WAL is different: too many entries".into());
        }
        for index in state.first_seq..=state.last_seq {
            let mut ae = n.log_entry(index).map_err(|e| e.to_string())?;
            ae.buf.clear();
            ae.lterm = 0;
            let seq = index as usize;
            if expected.len() < seq {
                expected.push(ae);
            } else if expected[seq - 1] != ae {
                return Err("WAL is different: stored AEs differ".into());
            }
        }
    }
    Ok(())
}

fn wal_entry_without_quorum_must_truncate(title: &str, diverge: bool) {
    let mut c = cluster(&format!("test_nrg_wal_entry_without_quorum_must_truncate/{title}"), "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let n = leader_of(&mut c, &rg);

    // The leader stores an entry in its WAL and is killed before sending it.
    {
        let node = c.node(n);
        let mut ae = node.internals().build_append_entry(sample_entries());
        ae.buf = ae.encode().expect("encodes");
        node.internals().store_to_wal(&ae).expect("stored");
    }
    c.node(n).stop();

    // Another leader is picked.
    c.wait_on_leader(&rg);

    if diverge {
        // The state diverges: that entry has to be replaced.
        let l = rg.leader(&c).expect("a leader");
        c.propose_delta(l, 11);
    }

    // The old leader comes back with its entry that never had quorum.
    c.restart(n);

    // Its WAL drops that entry; all WALs end up equal.
    let group = rg.clone();
    c.check_for(5 * SEC, ms(200), |c| wals_match(c, &group));
}

/// Port of TestNRGWALEntryWithoutQuorumMustTruncate (both subtests)
#[test]
fn test_nrg_wal_entry_without_quorum_must_truncate() {
    sweep("test_nrg_wal_entry_without_quorum_must_truncate", || test_nrg_wal_entry_without_quorum_must_truncate_seeded());
}

fn test_nrg_wal_entry_without_quorum_must_truncate_seeded() {
    wal_entry_without_quorum_must_truncate("equal", false);
    wal_entry_without_quorum_must_truncate("diverged", true);
}

/// Port of TestNRGTermNoDecreaseAfterWALReset
#[test]
fn test_nrg_term_no_decrease_after_wal_reset() {
    sweep("test_nrg_term_no_decrease_after_wal_reset", || test_nrg_term_no_decrease_after_wal_reset_seeded());
}

fn test_nrg_term_no_decrease_after_wal_reset_seeded() {
    let mut c = cluster("test_nrg_term_no_decrease_after_wal_reset", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let l = leader_of(&mut c, &rg);

    c.node(l).set_test_state(Some(20), None, None);
    let mut ae = c.node(l).internals().build_append_entry(sample_entries());

    let followers: Vec<usize> = rg.members.iter().copied().filter(|&m| m != l).collect();
    for &f in &followers {
        let fnode = c.node(f);
        let sub = fnode.internals().aesub();
        fnode.process_append_entry(ae.clone(), sub);
        // The follower's term moves up.
        assert_eq!(fnode.term(), 20);
    }

    // A lower term, as from an old leader.
    ae.term = 3;
    for &f in &followers {
        let fnode = c.node(f);
        let sub = fnode.internals().aesub();
        fnode.process_append_entry(ae.clone(), sub);
        // Rejected; the term stays.
        assert_eq!(fnode.term(), 20);

        fnode.internals().reset_wal();
        fnode.process_append_entry(ae.clone(), sub);
        // Rejected again after a WAL reset; the term still stays.
        assert_eq!(fnode.term(), 20);
    }
}

fn pending_append_entry_cache_invalidation(title: &str, entries: usize) {
    let mut c = cluster(&format!("test_nrg_pending_append_entry_cache_invalidation/{title}"), "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let l = leader_of(&mut c, &rg);

    c.propose_delta(l, 1);
    c.wait_on_total(&rg, 1);

    // Fill the pending cache with junk that must never be applied.
    c.freeze(&rg.members);
    for &m in &rg.members {
        let n = c.node(m);
        let pindex = n.last_log().0;
        let mut internals = n.internals();
        let pae = internals.pae_mut();
        for i in 0..entries as u64 {
            pae.insert(pindex + 1 + i, AppendEntry::new("", 0, 0, 0, 0, Vec::new()));
        }
    }
    c.unfreeze(&rg.members);

    c.propose_delta(l, 1);
    c.wait_on_total(&rg, 2);
}

/// Port of TestNRGPendingAppendEntryCacheInvalidation (all three subtests)
#[test]
fn test_nrg_pending_append_entry_cache_invalidation() {
    sweep("test_nrg_pending_append_entry_cache_invalidation", || test_nrg_pending_append_entry_cache_invalidation_seeded());
}

fn test_nrg_pending_append_entry_cache_invalidation_seeded() {
    pending_append_entry_cache_invalidation("empty", 1);
    pending_append_entry_cache_invalidation("at limit", PAE_DROP_THRESHOLD);
    pending_append_entry_cache_invalidation("full", PAE_DROP_THRESHOLD + 1);
}
