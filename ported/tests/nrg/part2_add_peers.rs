//! Adding peers to a running group: growth one change at a time, no
//! majority formed from new nodes alone, and a group shrunk to one node
//! growing back. Ports of raft_test.go tests 95, 96 and 98 at nats-server
//! 8188ea93a. `c.addMemRaftNode` starts a node on a new server that knows
//! every server of the cluster as a peer.

use ported::raft::RaftState;
use ported::sim::{Cluster, SmKind};

use crate::helpers::{cluster, ms, SEC};
use crate::part2_support::leader_of;
use ported::sim::sweep;

fn cluster_size_is(c: &mut Cluster, n: usize, want: usize) -> Result<(), String> {
    if c.node(n).cluster_size() != want {
        return Err("node additions still in progress".into());
    }
    Ok(())
}

/// Port of TestNRGAddPeers
#[test]
fn test_nrg_add_peers() {
    sweep("test_nrg_add_peers", || test_nrg_add_peers_seeded());
}

fn test_nrg_add_peers_seeded() {
    let mut c = cluster("test_nrg_add_peers", "R3S", 3);
    let mut rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    assert_eq!(c.node(leader).cluster_size(), 3);

    for _ in 0..6 {
        rg.members.push(c.add_mem_raft_node("TEST", SmKind::Adder));
    }

    c.check_for(SEC, ms(10), |c| cluster_size_is(c, leader, 9));
    assert_eq!(c.node(leader).cluster_size(), 9);
}

/// Port of TestNRGDisjointMajorities
///
/// With both original followers blocked (a majority), the leader must not
/// commit additions with the votes of new nodes alone: the blocked
/// followers could be a partition with a history of their own.
#[test]
fn test_nrg_disjoint_majorities() {
    sweep("test_nrg_disjoint_majorities", || test_nrg_disjoint_majorities_seeded());
}

fn test_nrg_disjoint_majorities_seeded() {
    let mut c = cluster("test_nrg_disjoint_majorities", "R3S", 3);
    let rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);
    let leader = leader_of(&mut c, &rg);
    assert_eq!(rg.followers(&c).len(), 2);

    // Block all followers, a majority.
    let locked = rg.followers(&c);
    assert_eq!(locked.len(), 2);
    c.freeze(&locked);

    // One node added: cluster size 4.
    c.add_mem_raft_node("TEST", SmKind::Adder);
    c.check_for(SEC, ms(10), |c| cluster_size_is(c, leader, 4));

    // Another addition cannot make progress.
    c.add_mem_raft_node("TEST", SmKind::Adder);
    c.run_for(SEC);

    assert_eq!(c.node(leader).cluster_size(), 4);
    assert!(c.node(leader).membership_change_in_progress());

    c.unfreeze(&locked);
}

/// Port of TestNRGSingleNodeElection
#[test]
fn test_nrg_single_node_election() {
    sweep("test_nrg_single_node_election", || test_nrg_single_node_election_seeded());
}

fn test_nrg_single_node_election_seeded() {
    let mut c = cluster("test_nrg_single_node_election", "R3S", 3);
    let mut rg = c.create_mem_raft_group("TEST", 3, SmKind::Adder);

    // Remove the leader, twice.
    for _ in 0..2 {
        let leader = leader_of(&mut c, &rg);
        let id = c.node(leader).id().to_string();
        c.node(leader).propose_remove_peer(&id).expect("proposal accepted");
        c.check_for(SEC, ms(10), |c| {
            if c.node(leader).state() == RaftState::Leader {
                return Err("Removed node is still leader".into());
            }
            Ok(())
        });
        assert!(!c.node(leader).membership_change_in_progress());
    }

    // The last follower becomes leader on its own.
    let new_leader = leader_of(&mut c, &rg);
    assert_eq!(c.node(new_leader).peers().len(), 1);
    assert_eq!(c.node(new_leader).cluster_size(), 1);
    assert!(!c.node(new_leader).membership_change_in_progress());

    c.propose_delta(new_leader, 1);
    c.propose_delta(new_leader, 10);
    c.propose_delta(new_leader, 100);
    c.wait_on_total(&rg, 111);

    // Two nodes added back.
    rg.members.push(c.add_mem_raft_node("TEST", SmKind::Adder));
    rg.members.push(c.add_mem_raft_node("TEST", SmKind::Adder));

    c.check_for(SEC, ms(10), |c| cluster_size_is(c, new_leader, 3));
    c.check_for(SEC, ms(10), |c| {
        if c.node(new_leader).membership_change_in_progress() {
            return Err("membership still in progress".into());
        }
        Ok(())
    });

    c.wait_on_total(&rg, 111);
    assert_eq!(c.node(new_leader).cluster_size(), 3);
    assert!(!c.node(new_leader).membership_change_in_progress());
}
