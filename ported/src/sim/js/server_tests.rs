use super::*;
use crate::jetstream_cluster::DEFAULT_META_GROUP_NAME;
use crate::raft::RaftState;
use crate::sim::js::JsCluster;

#[test]
fn the_raft_node_registry() {
    let mut c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed("the_raft_node_registry"));
    let l = c.leader().expect("a leader");
    let core = c.core(l).clone();
    let srv: &dyn ServerEnv = &*core;
    assert_eq!(srv.num_raft_nodes(), 1);
    let meta = srv.lookup_raft_node(DEFAULT_META_GROUP_NAME).expect("the meta node is registered");
    assert!(meta.same_node(&c.js(l).get_meta_group().expect("meta")));
    assert!(srv.lookup_raft_node("nope").is_none());

    let extra = core.raft_nodes()[0].clone();
    core.register_raft_node("OTHER", extra);
    assert_eq!(srv.num_raft_nodes(), 2);
    core.unregister_raft_node("OTHER");
    assert_eq!(srv.num_raft_nodes(), 1);
    core.unregister_raft_node("OTHER");
    assert_eq!(srv.num_raft_nodes(), 1, "unregistering twice is harmless");

    // At shutdown a leader hands over and every node turns observer.
    core.stepdown_raft_nodes();
    assert!(!meta.leader() && meta.is_observer());
    let r = c.wait_on_leader();
    assert!(r.is_ok(), "{r:?}");
    assert_ne!(c.leader(), Some(l), "leadership moved to another server");
    core.shutdown_raft_nodes();
    assert_eq!(meta.state(), RaftState::Closed);
}
