//! Removing peers: proposals in a group (one change at a time, quorum
//! without the removed peer, the leader removing itself, down to the last
//! node) and uncommitted membership changes on a single node. Ports of
//! raft_test.go tests 85–89 and 91–94 at nats-server 8188ea93a. Holding a
//! node's lock (`lockFollowers`, `Lock`) is freezing it.

use ported::raft::{Entry, EntryType, RaftError, RaftState};
use ported::sim::{Cluster, RaftGroup, SmKind};

use crate::helpers::{cluster, ms, SEC};
use crate::part2_support::{
    ae, encode, ix, leader_of, request_if_subscribed, sample_entries, single_node, NATS1, NATS2,
};
use ported::sim::sweep;

// Every member reports `want` peers.
fn all_have_peers(c: &mut Cluster, rg: &RaftGroup, want: usize) -> Result<(), String> {
    for &m in &rg.members {
        if c.node(m).peers().len() != want {
            return Err("has not removed peer".into());
        }
    }
    Ok(())
}

fn membership_settled(c: &mut Cluster, n: usize) -> Result<(), String> {
    if c.node(n).membership_change_in_progress() {
        return Err("membership still in progress".into());
    }
    Ok(())
}

/// Port of TestNRGProposeRemovePeer
#[test]
fn test_nrg_propose_remove_peer() {
    sweep("test_nrg_propose_remove_peer", || test_nrg_propose_remove_peer_seeded());
}

fn test_nrg_propose_remove_peer_seeded() {
    let mut c = cluster("test_nrg_propose_remove_peer", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let n = leader_of(&mut c, &rg);
    leader_of(&mut c, &rg);

    let peer = rg.non_leader(&c).expect("a follower");
    let peer_id = c.node(peer).id().to_string();
    c.node(n).propose_remove_peer(&peer_id).expect("proposal accepted");

    c.check_for(10 * SEC, ms(200), |c| all_have_peers(c, &rg, 2));
}

/// Port of TestNRGProposeRemovePeerConcurrent
#[test]
fn test_nrg_propose_remove_peer_concurrent() {
    sweep("test_nrg_propose_remove_peer_concurrent", || test_nrg_propose_remove_peer_concurrent_seeded());
}

fn test_nrg_propose_remove_peer_concurrent_seeded() {
    let mut c = cluster("test_nrg_propose_remove_peer_concurrent", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let n = leader_of(&mut c, &rg);
    let locked = rg.followers(&c);
    c.freeze(&locked);

    // Removing the first follower is accepted...
    let first = c.node(locked[0]).id().to_string();
    c.node(n).propose_remove_peer(&first).expect("proposal accepted");
    c.check_for(2 * SEC, ms(200), |c| {
        if c.node(n).membership_change_in_progress() {
            Ok(())
        } else {
            Err("membership not in progress".into())
        }
    });

    // ...the second, while that change is in flight, is not.
    let second = c.node(locked[1]).id().to_string();
    assert_eq!(c.node(n).propose_remove_peer(&second), Err(RaftError::MembershipChange));

    c.unfreeze(&locked);

    // Exactly one removal happens.
    c.check_for(10 * SEC, ms(200), |c| all_have_peers(c, &rg, 2));
}

// A single node that stored, but not committed, an entry removing NATS2,
// then became leader for term 2 (shared by tests 87 and 89).
fn leader_with_uncommitted_removal(test: &str) -> (Cluster, usize) {
    let (mut c, n) = single_node(test);
    ix(&mut c, n).add_peer(NATS1);
    ix(&mut c, n).add_peer(NATS2);

    let entries = vec![Entry::new(EntryType::RemovePeer, NATS2.as_bytes())];
    let ae_remove_peer = encode(ae(NATS1, 1, 0, 0, 0, entries));
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_remove_peer, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 1);
    assert!(!c.healthy(n));

    ix(&mut c, n).set_term(2);
    ix(&mut c, n).switch_to_leader();
    (c, n)
}

/// Port of TestNRGUncommittedMembershipChangeOnNewLeader
#[test]
fn test_nrg_uncommitted_membership_change_on_new_leader() {
    sweep("test_nrg_uncommitted_membership_change_on_new_leader", || test_nrg_uncommitted_membership_change_on_new_leader_seeded());
}

fn test_nrg_uncommitted_membership_change_on_new_leader_seeded() {
    let (mut c, n) = leader_with_uncommitted_removal("test_nrg_uncommitted_membership_change_on_new_leader");
    assert_eq!(c.node(n).propose_remove_peer(NATS1), Err(RaftError::MembershipChange));
}

/// Port of TestNRGUncommittedMembershipChangeGetsTruncated
#[test]
fn test_nrg_uncommitted_membership_change_gets_truncated() {
    sweep("test_nrg_uncommitted_membership_change_gets_truncated", || test_nrg_uncommitted_membership_change_gets_truncated_seeded());
}

fn test_nrg_uncommitted_membership_change_gets_truncated_seeded() {
    let (mut c, n) = single_node("test_nrg_uncommitted_membership_change_gets_truncated");
    let ae_msg = encode(ae(NATS1, 1, 0, 0, 0, sample_entries()));
    let ae_add_peer = encode(ae(NATS1, 1, 0, 1, 1, vec![Entry::new(EntryType::AddPeer, NATS1.as_bytes())]));

    // A membership change in the log.
    let aesub = ix(&mut c, n).aesub();
    c.node(n).process_append_entry(ae_msg, aesub);
    c.node(n).process_append_entry(ae_add_peer, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2);
    assert!(c.node(n).membership_change_in_progress());
    assert_eq!(ix(&mut c, n).memb_change_index(), 2);

    // Truncating after it keeps it in progress.
    let (pterm, pindex) = (ix(&mut c, n).pterm(), ix(&mut c, n).pindex());
    c.node(n).truncate_wal(pterm, pindex);
    assert!(c.node(n).membership_change_in_progress());
    assert_eq!(ix(&mut c, n).memb_change_index(), 2);

    // Truncating it away ends it.
    c.node(n).truncate_wal(pterm, pindex - 1);
    assert!(!c.node(n).membership_change_in_progress());
    assert_eq!(ix(&mut c, n).memb_change_index(), 0);
}

/// Port of TestNRGUncommittedMembershipChangeOnNewLeaderForwardedRemovePeerProposal
#[test]
fn test_nrg_uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal() {
    sweep("test_nrg_uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal", || test_nrg_uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal_seeded());
}

fn test_nrg_uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal_seeded() {
    let (mut c, n) = leader_with_uncommitted_removal(
        "test_nrg_uncommitted_membership_change_on_new_leader_forwarded_remove_peer_proposal",
    );
    ix(&mut c, n).set_leader_state(true);
    // Go runs runAsLeader in a goroutine: the node's loop runs from here.
    c.unfreeze(&[n]);
    let rpsubj = ix(&mut c, n).rpsubj();

    // A forwarded peer removal, retried until the leader is subscribed.
    let before = c.node(n).progress().0;
    assert!(c.node(n).membership_change_in_progress());
    c.check_for(2 * SEC, ms(200), |c| request_if_subscribed(c, &rpsubj, NATS1.as_bytes(), ms(100)));

    // It is not accepted.
    c.run_for(ms(200));
    assert_eq!(c.node(n).progress().0, before);
    assert!(c.node(n).membership_change_in_progress());
}

/// Port of TestNRGProposeRemovePeerQuorum
#[test]
fn test_nrg_propose_remove_peer_quorum() {
    sweep("test_nrg_propose_remove_peer_quorum", || test_nrg_propose_remove_peer_quorum_seeded());
}

fn test_nrg_propose_remove_peer_quorum_seeded() {
    let mut c = cluster("test_nrg_propose_remove_peer_quorum", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let followers = rg.followers(&c);
    assert_eq!(followers.len(), 2);

    // Block follower 0 and remove follower 1: no quorum for the change.
    c.freeze(&followers[..1]);
    let removed = c.node(followers[1]).id().to_string();
    c.node(leader).propose_remove_peer(&removed).expect("proposal accepted");
    c.run_for(SEC);
    assert!(c.node(leader).membership_change_in_progress());

    // Once the follower is back the change completes.
    c.unfreeze(&followers[..1]);
    c.check_for(10 * SEC, ms(200), |c| membership_settled(c, leader));
}

/// Port of TestNRGProposeRemovePeerLeader
///
/// The leader removes itself while one follower is blocked: its own ack
/// must not count towards quorum, so nothing happens until the follower
/// is back; then the change commits and a new leader takes over.
#[test]
fn test_nrg_propose_remove_peer_leader() {
    sweep("test_nrg_propose_remove_peer_leader", || test_nrg_propose_remove_peer_leader_seeded());
}

fn test_nrg_propose_remove_peer_leader_seeded() {
    let mut c = cluster("test_nrg_propose_remove_peer_leader", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let followers = rg.followers(&c);
    let leader_id = c.node(leader).id().to_string();
    assert_eq!(followers.len(), 2);

    c.freeze(&followers[..1]);
    c.node(leader).propose_remove_peer(&leader_id).expect("proposal accepted");
    c.run_for(SEC);
    assert!(c.node(leader).membership_change_in_progress());

    c.unfreeze(&followers[..1]);
    c.check_for(10 * SEC, ms(200), |c| membership_settled(c, leader));

    // The old leader steps down.
    c.check_for(10 * SEC, ms(200), |c| match c.wait_on_leader(&rg) {
        Some(l) if c.node(l).id() != leader_id => Ok(()),
        _ => Err("leader has not changed yet".into()),
    });

    let new_leader = leader_of(&mut c, &rg);
    assert_eq!(c.node(leader).state(), RaftState::Closed);
    assert_ne!(c.node(new_leader).id(), leader_id);
    assert_eq!(c.node(new_leader).peers().len(), 2);
    assert!(!c.node(new_leader).membership_change_in_progress());
}

/// Port of TestNRGProposeRemovePeerAll
#[test]
fn test_nrg_propose_remove_peer_all() {
    sweep("test_nrg_propose_remove_peer_all", || test_nrg_propose_remove_peer_all_seeded());
}

fn test_nrg_propose_remove_peer_all_seeded() {
    let mut c = cluster("test_nrg_propose_remove_peer_all", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let followers = rg.followers(&c);
    assert_eq!(followers.len(), 2);
    assert_eq!(c.node(leader).peers().len(), 3);

    for (i, &f) in followers.iter().enumerate() {
        let id = c.node(f).id().to_string();
        c.node(leader).propose_remove_peer(&id).expect("proposal accepted");
        c.check_for(2 * SEC, ms(10), |c| {
            if c.node(leader).peers().len() == 2 - i {
                Ok(())
            } else {
                Err("membership still in progress".into())
            }
        });
    }

    // The leader is the only one left, and cannot be removed.
    let peers = c.node(leader).peers();
    let leader_id = c.node(leader).id().to_string();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].id, leader_id);
    assert_eq!(c.node(leader).propose_remove_peer(&leader_id), Err(RaftError::RemoveLastNode));
}

/// Port of TestNRGLeaderResurrectsRemovedPeers
#[test]
fn test_nrg_leader_resurrects_removed_peers() {
    sweep("test_nrg_leader_resurrects_removed_peers", || test_nrg_leader_resurrects_removed_peers_seeded());
}

fn test_nrg_leader_resurrects_removed_peers_seeded() {
    let mut c = cluster("test_nrg_leader_resurrects_removed_peers", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    let followers = rg.followers(&c);
    assert_eq!(followers.len(), 2);

    // Remove one follower.
    let removed = c.node(followers[0]).id().to_string();
    c.node(leader).propose_remove_peer(&removed).expect("proposal accepted");
    c.check_for(2 * SEC, ms(10), |c| {
        if c.node(leader).peers().len() == 2 {
            Ok(())
        } else {
            Err("membership still in progress".into())
        }
    });

    // Restarting the leader must not bring the removed peer back.
    c.stop(leader);
    c.stop(followers[1]);

    c.restart(leader);
    assert_eq!(c.node(leader).peers().len(), 2);

    c.restart(followers[1]);
    assert_eq!(c.node(leader).peers().len(), 2);
}
