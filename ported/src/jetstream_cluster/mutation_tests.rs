//! Behaviour the mutation gate (issue 11) found unchecked by the tests
//! registered for batch 33's features: each test pins one observable
//! effect upstream's function has, beside the feature's existing tests.

use crate::jetstream_cluster::server::NodeInfo;
use crate::sim::js::JsCluster;

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

/// checkClusterSize adjusts only when fewer servers run JetStream than
/// the cluster size: with every expected peer registered and running
/// JetStream it leaves the size alone and proposes no peer state.
#[test]
fn check_cluster_size_leaves_a_cluster_of_jetstream_servers_alone() {
    let c = cluster("check_cluster_size_leaves_a_cluster_of_jetstream_servers_alone");
    let l = c.leader().expect("a leader");
    let meta = c.js(l).get_meta_group().expect("meta");
    // A fourth expected peer, registered and running JetStream.
    meta.adjust_cluster_size(4).expect("the leader adjusts");
    let js4 = NodeInfo { name: "S-4".into(), cluster: "R3S".into(), id: "JS4".into(), js: true, ..Default::default() };
    c.core(l).node_to_info.borrow_mut().insert(crate::sim::cluster::server_hash("S-4"), js4);
    let before = meta.progress();
    c.js(l).check_cluster_size();
    assert_eq!(meta.cluster_size(), 4, "as many JetStream servers as the size");
    assert_eq!(meta.progress(), before, "no peer state was proposed");
}
