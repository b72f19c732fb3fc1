//! Stream tests of `server/jetstream_cluster_3_test.go` at 8188ea93a on the
//! simulated cluster, with the same stand-ins as `jetstream_cluster_1.rs`:
//! streams are added, updated and deleted by proposing their assignments to
//! the meta leader, as its API handlers would, or (`stream_request`) through
//! the meta leader's ported create and update requests.

use std::time::Duration;

use ported::jetstream_cluster::stream::Stream;
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT};

use super::helpers::*;

#[test]
fn test_jet_stream_cluster_stream_recreate_changes_raft_group() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("TestJetStreamClusterStreamRecreateChangesRaftGroup"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(0, GLOBAL_ACCOUNT);
    publish(&mut c, cl, "foo", b"").expect("publish");
    // checkState: every replica holds the same state.
    wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(2)).expect("checkState");

    let rs = (c.world.rng.borrow_mut().next_u64() % 3) as usize;
    let mset = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("lookupStream");
    let old = Stream::raft_node(Some(&mset.mset)).expect("raft node").group();

    // Recreate the stream: a new assignment gets a fresh group name.
    delete_stream(&mut c, &sa).expect("DeleteStream");
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("AddStream");
    for _ in 0..2 {
        publish(&mut c, cl, "foo", b"").expect("publish");
    }
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(2)).expect("checkState");
    assert_eq!(st.msgs, 2, "the recreated stream starts empty: {st:?}");

    // Expect the group to change.
    let mset = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("lookupStream");
    let n = Stream::raft_node(Some(&mset.mset)).expect("raft node");
    assert_ne!(old, n.group());
}

#[test]
fn test_jet_stream_cluster_stream_raft_group_changes_when_moving_to_or_off_r1() {
    let mut c = stream_cluster("R5S", 5, js_test_seed("TestJetStreamClusterStreamRaftGroupChangesWhenMovingToOrOffR1"));
    c.wait_on_leader().expect("meta leader");
    let rs = (c.world.rng.borrow_mut().next_u64() % 5) as usize;
    let cl = c.connect(rs, GLOBAL_ACCOUNT);

    // The group of the stream as its leader's meta layer has it.
    let require_group_prefix = |c: &mut JsCluster, prefix: &str| {
        c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some());
        let sl = stream_leader(c, GLOBAL_ACCOUNT, "TEST").expect("stream leader");
        let st = c.js(sl).st.borrow();
        let sa = st.stream_assignment(GLOBAL_ACCOUNT, "TEST").expect("stream assignment");
        let group = sa.group.as_ref().expect("no group");
        assert!(group.name.starts_with(prefix), "expected group prefix {prefix:?}, got {:?} (seed {})", group.name, c.seed);
    };

    let mut cfg = nats_stream_config("TEST", &["foo"], 1);
    stream_request(&mut c, cl, &cfg, false).expect("AddStream");
    require_group_prefix(&mut c, "S-R1F-");

    cfg.replicas = 3;
    stream_request(&mut c, cl, &cfg, true).expect("UpdateStream to R3");
    require_group_prefix(&mut c, "S-R3F-");

    cfg.replicas = 1;
    stream_request(&mut c, cl, &cfg, true).expect("UpdateStream to R1");
    require_group_prefix(&mut c, "S-R1F-");

    cfg.replicas = 5;
    stream_request(&mut c, cl, &cfg, true).expect("UpdateStream to R5");
    require_group_prefix(&mut c, "S-R5F-");

    cfg.replicas = 3;
    stream_request(&mut c, cl, &cfg, true).expect("UpdateStream to R3");
    // The group MUST remain the same as what it was for R5.
    // Changing it would violate replication safety.
    require_group_prefix(&mut c, "S-R5F-");
}
