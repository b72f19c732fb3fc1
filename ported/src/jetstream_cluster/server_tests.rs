use super::*;
use crate::jetstream_cluster::test_util::{ca, sa};
use crate::sim::js::JsCluster;

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

#[test]
fn registry_views_active_peers_tracked_servers_and_names() {
    let c = cluster("registry_views_active_peers_tracked_servers_and_names");
    let s = c.srv(0);
    assert_eq!(s.active_peers().len(), 3);
    assert_eq!(s.tracked_jet_stream_servers(), (3, 3));
    let n1 = c.core(1).node.clone();
    assert_eq!(s.server_name_for_node(&n1), "S-2");
    assert_eq!(s.cluster_name_for_node(&n1), "R3S");
    assert_eq!(s.server_name_for_node("nobody12"), "");
    c.core(0).node_to_info.borrow_mut().get_mut(&n1).expect("S-2").offline = true;
    assert_eq!(s.active_peers().len(), 2, "offline peers are not active");
    c.core(0).node_to_info.borrow_mut().insert("nojs1234".into(), NodeInfo { js: false, ..Default::default() });
    assert_eq!(s.tracked_jet_stream_servers(), (3, 4));
    c.core(0).events.set(false);
    assert_eq!(s.tracked_jet_stream_servers(), (-1, -1), "no events, no tracking");
    let id = s.nuid();
    assert_eq!(id.len(), 22);
    assert_ne!(id, s.nuid());
}

#[test]
fn meta_leadership_currency_and_snapshots_from_the_server() {
    let mut c = cluster("meta_leadership_currency_and_snapshots_from_the_server");
    let l = c.leader().expect("a leader");
    let f = c.random_non_leader().expect("a follower");
    assert!(c.srv(l).jet_stream_is_leader() && !c.srv(f).jet_stream_is_leader());
    assert!(c.srv(l).jet_stream_is_clustered() && c.srv(f).jet_stream_is_clustered());
    assert!(c.srv(l).get_jet_stream_cluster().is_some());
    assert!(c.srv(l).jet_stream_is_current() && c.srv(f).jet_stream_is_current());

    c.propose(l, &crate::jetstream_cluster::ops::encode_add_stream_assignment(&sa("$G", "S", &["p1"], 1)).expect("enc")).expect("proposed");
    c.run_for(std::time::Duration::from_millis(50));
    assert!(c.srv(l).jet_stream_snapshot_meta().is_ok(), "the leader snapshots");
    let snap = c.meta_raft(l).expect("node").borrow().snapshot_index();
    assert!(snap > 0);
    let e = c.srv(f).jet_stream_snapshot_meta().expect_err("only the leader");
    assert_eq!(e.description, "raft: not leader");

    c.core(f).shutting_down.set(true);
    assert!(c.srv(f).get_jet_stream_cluster().is_none(), "nothing while shutting down");
    assert!(!c.srv(f).jet_stream_is_stream_leader("$G", "S"));
}

#[test]
fn stream_and_consumer_leadership_and_assignment_from_the_server() {
    let c = cluster("stream_and_consumer_leadership_and_assignment_from_the_server");
    let f = c.random_non_leader().expect("a follower");
    let me = c.core(f).node.clone();
    let js = c.js(f).clone();
    js.process_stream_assignment(sa("$G", "R1", &[me.as_str()], 1));
    js.process_stream_assignment(sa("$G", "R3", &[me.as_str(), "other111", "other222"], 3));
    js.process_stream_assignment(sa("$G", "AWAY", &["other111"], 1));
    let mut c1 = ca("$G", "R1", "c1", "G-1");
    c1.group.as_mut().expect("group").peers = vec![me.clone()];
    js.process_consumer_assignment(c1);
    let s = c.srv(f);
    assert!(s.jet_stream_is_stream_leader("$G", "R1"), "the only peer of an R1 leads it");
    assert!(!s.jet_stream_is_stream_leader("$G", "R3"), "an R3 leads through its group node, which runs nowhere here");
    assert!(!s.jet_stream_is_stream_leader("$G", "AWAY") && !s.jet_stream_is_stream_leader("$G", "NONE"));
    assert!(s.jet_stream_is_consumer_leader("$G", "R1", "c1"));
    assert!(!s.jet_stream_is_consumer_leader("$G", "R1", "nope"));
    assert!(s.jet_stream_is_stream_assigned("$G", "R1") && s.jet_stream_is_stream_assigned("$G", "R3"));
    assert!(!s.jet_stream_is_stream_assigned("$G", "AWAY"));
    assert!(!s.jet_stream_is_stream_assigned("NOACCOUNT", "R1"), "unknown account");
}

#[test]
fn advisories_need_a_listener() {
    let mut c = cluster("advisories_need_a_listener");
    let adv = serde_json::json!({"type": "t"});
    assert!(!c.srv(0).publish_advisory(None, "$JS.EVENT.ADVISORY.X", &adv), "nobody listens");
    let probe = c.connect(1, crate::sim::js::SYSTEM_ACCOUNT);
    c.subscribe(probe, "$JS.EVENT.ADVISORY.>");
    assert!(c.srv(0).publish_advisory(None, "$JS.EVENT.ADVISORY.X", &adv));
    assert!(!c.srv(0).publish_advisory(Some("$G"), "$JS.EVENT.ADVISORY.X", &adv), "interest is per account");
    c.run_for(std::time::Duration::from_millis(10));
    assert_eq!(c.clients[probe].msgs.len(), 1);
    assert_eq!(c.clients[probe].msgs[0].data, br#"{"type":"t"}"#);
}
