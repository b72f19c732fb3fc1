//! Batch 33 raft tests, ported from `server/raft_test.go` and
//! `server/jetstream_cluster_long_test.go` at nats-server 8188ea93a.

use ported::raft::RaftState;
use ported::sim::SmKind;

use crate::helpers::cluster;

/// Port of TestNRGSimple
#[test]
fn test_nrg_simple() {
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
    for &m in &rg.members {
        assert_ne!(c.node(m).state(), RaftState::Closed);
    }
}
