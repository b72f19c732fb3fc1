//! What nodes track about their peers: last contact and replicated index,
//! as the leader sees every peer and a follower only its leader. Ports of
//! raft_test.go tests 74 and 106 at nats-server 8188ea93a.

use std::time::Duration;

use ported::raft::{RaftState, Timestamp};
use ported::sim::{Cluster, RaftGroup, SmKind};

use crate::helpers::{cluster, SEC};
use crate::part2_support::{ix, leader_of};
use ported::sim::sweep;

// Go's checkLastSeen over a node's Raftz peers: every peer seen at all was
// seen within the last second.
fn check_last_seen(c: &mut Cluster, n: usize) {
    let now = Timestamp(c.world.now.get());
    for (id, ps) in ix(c, n).peers() {
        let Some(ts) = ps.ts else { continue };
        let elapsed = now.since(ts);
        assert!(elapsed < Duration::from_secs(1), "peer {id} last seen {elapsed:?} ago");
    }
}

/// Port of TestNRGTrackPeerActive
///
/// Go watches the JetStream meta group through the Raftz monitoring
/// endpoint, whose `last_seen` is the time since each peer's `ts`. The
/// meta group is a raft group over all servers; here a plain group over
/// all three servers stands in for it and its peer map is read directly.
#[test]
fn test_nrg_track_peer_active() {
    sweep("test_nrg_track_peer_active", || test_nrg_track_peer_active_seeded());
}

fn test_nrg_track_peer_active_seeded() {
    let mut c = cluster("test_nrg_track_peer_active", "R3S", 3);
    let rg = c.create_raft_group("_meta_", 3, SmKind::Adder);
    let ml = leader_of(&mut c, &rg);
    let rs = rg.non_leader(&c).expect("a non-leader");
    let preferred = rg.members.iter().copied().find(|&m| m != ml && m != rs).expect("a third server");

    c.run_for(2 * SEC);
    check_last_seen(&mut c, rs);

    let preferred_id = c.node(preferred).id().to_string();
    c.node(ml).step_down(&[preferred_id.as_str()]).expect("steps down");

    c.run_for(2 * SEC);
    check_last_seen(&mut c, rs);
}

// Go's checkPeerData: a leader has an index and a timestamp for every other
// peer; a follower has no index for anyone and a timestamp only for its
// leader. No peer lags, and each is current exactly when the reporting
// node leads, or the peer is itself or its leader.
fn check_peer_data(c: &mut Cluster, rg: &RaftGroup) {
    for &m in &rg.members {
        let (id, leader) = {
            let i = ix(c, m);
            (i.id(), i.leader())
        };
        let is_leader = c.node(m).state() == RaftState::Leader;
        for (pid, ps) in ix(c, m).peers() {
            if is_leader && pid != id {
                assert_ne!(ps.li, 0, "require last replicated index to be set");
                assert!(ps.ts.is_some(), "require last seen timestamp to be set");
                continue;
            }
            assert_eq!(ps.li, 0, "require equal, but got: {} != 0", ps.li);
            if pid != leader {
                assert!(ps.ts.is_none(), "require zero ts, but got: {:?}", ps.ts);
            }
        }
        for ps in c.node(m).peers() {
            assert_eq!(ps.lag, 0);
            assert_eq!(ps.current, ps.id == id || ps.id == leader || is_leader, "peer {} seen from {id}", ps.id);
        }
    }
}

/// Port of TestNRGTrackPeerLag
#[test]
fn test_nrg_track_peer_lag() {
    sweep("test_nrg_track_peer_lag", || test_nrg_track_peer_lag_seeded());
}

fn test_nrg_track_peer_lag_seeded() {
    let mut c = cluster("test_nrg_track_peer_lag", "R3S", 3);
    let rg = c.create_raft_group("TEST", 3, SmKind::Adder);
    let ls = leader_of(&mut c, &rg);

    for i in 0..5 {
        c.propose_delta(ls, 10);
        c.wait_on_total(&rg, 10 * (i + 1));
    }
    check_peer_data(&mut c, &rg);

    c.node(ls).step_down(&[]).expect("steps down");
    let ls = leader_of(&mut c, &rg);

    for i in 0..5 {
        c.propose_delta(ls, 10);
        c.wait_on_total(&rg, 50 + 10 * (i + 1));
    }
    check_peer_data(&mut c, &rg);
}
