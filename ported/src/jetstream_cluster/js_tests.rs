use std::time::Duration;

use super::*;
use crate::jetstream_cluster::assignments::RaftGroup;
use crate::sim::js::JsCluster;

#[test]
fn accessors_of_the_meta_group_and_signals() {
    let c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed("accessors_of_the_meta_group_and_signals"));
    let js = c.js(0).clone();
    let meta = js.get_meta_group().expect("clustered");
    assert_eq!(meta.id(), c.core(0).node);
    assert_eq!(js.server().name(), "S-1");
    let q = js.cluster_quit_c().expect("quit signal");
    let s = js.cluster_stopped_c().expect("stopped signal");
    assert!(!q.is_closed() && !s.is_closed());
    assert_eq!(js.cluster_quit_c(), Some(q.clone()), "the same channel every time");
    assert!(!js.is_shutting_down());

    let (offline, _) = JetStreamCtx::offline("p1");
    offline.st.borrow_mut().cluster = None;
    assert!(offline.get_meta_group().is_none());
    assert!(offline.cluster_quit_c().is_none() && offline.cluster_stopped_c().is_none());
    assert!(!offline.is_leaderless(), "not clustered: not leaderless");
    assert!(!offline.is_group_leaderless(Some(&RaftGroup::default())));

    js.shutdown_cluster();
    assert!(q.is_closed(), "JetStream's shutdown closes the monitor's quit signal");
    assert!(js.is_shutting_down());
    assert!(js.cluster_quit_c().is_none() && js.get_meta_group().is_none(), "taken by the shutdown");
}

#[test]
fn leaderless_only_after_the_lost_quorum_interval() {
    let mut c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed("leaderless_only_after_the_lost_quorum_interval"));
    let f = c.random_non_leader().expect("a follower");
    let js = c.js(f).clone();
    assert!(!js.is_leaderless(), "a leader is known");
    let others: Vec<usize> = (0..3).filter(|&i| i != f).collect();
    c.partition(&[vec![f], others]);
    c.run_for(Duration::from_secs(11));
    let meta = js.get_meta_group().expect("meta");
    assert!(meta.leaderless(), "cut off, the follower campaigned and lost its leader");
    assert!(js.is_leaderless(), "created long ago, so it reports it");

    // A group: only a member with a running node can tell.
    let me = c.core(f).node.clone();
    let mut rg = RaftGroup { name: "G".into(), peers: vec![me.clone()], ..Default::default() };
    assert!(!js.is_group_leaderless(None));
    assert!(!js.is_group_leaderless(Some(&rg)), "no node (an R1): it has a leader if we are here");
    rg.node = Some(meta.clone());
    assert!(js.is_group_leaderless(Some(&rg)), "a leaderless node that had a leader, after start-up");
    rg.peers = vec!["other111".into()];
    assert!(!js.is_group_leaderless(Some(&rg)), "not a member: cannot say");
}
