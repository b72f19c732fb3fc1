use std::time::Duration;

use super::*;
use crate::jetstream_cluster::server::NodeInfo;
use crate::jetstream_cluster::test_util::{ca, sa};
use crate::sim::js::{JsCluster, SYSTEM_ACCOUNT};

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

fn in_cluster(mut s: StreamAssignment, cluster: &str) -> StreamAssignment {
    if let Some(ci) = s.client.as_mut() {
        ci.cluster = cluster.to_string();
    }
    s
}

/// `s` placed in this test cluster: its client and its group in R3S, where
/// placement looks for replacement peers.
fn in_r3s(s: StreamAssignment) -> StreamAssignment {
    let mut s = in_cluster(s, "R3S");
    if let Some(g) = s.group.as_mut() {
        g.cluster = "R3S".into();
    }
    s
}

#[test]
fn add_peer_reproposes_streams_missing_peers_on_the_leader() {
    let mut c = cluster("add_peer_reproposes_streams_missing_peers_on_the_leader");
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let f = (0..3).find(|&i| i != l).expect("a follower");
    let newcomer = ids[f].clone();
    let have: Vec<&str> = ids.iter().filter(|p| **p != newcomer).map(String::as_str).collect();
    let js = c.js(l).clone();
    // Applied directly on the leader: a short R3 stream, a durable and an
    // ephemeral R1 consumer; an unsupported stream and one in another
    // cluster are left alone.
    js.process_stream_assignment(in_cluster(sa("$G", "SHORT", &have, 3), "R3S"));
    let mut durable = ca("$G", "SHORT", "dur", "C-1");
    durable.group.as_mut().expect("group").peers = have.iter().map(|s| s.to_string()).collect();
    js.process_consumer_assignment(durable);
    let mut eph = ca("$G", "SHORT", "eph", "C-2");
    eph.config.as_mut().expect("config").durable.clear();
    eph.group.as_mut().expect("group").peers = vec![have[0].to_string()];
    js.process_consumer_assignment(eph);
    js.process_stream_assignment(in_cluster(sa("$G", "ELSEWHERE", &have, 3), "OTHER"));
    let mut u = in_cluster(sa("$G", "UNSUPPORTED", &have, 3), "R3S");
    u.unsupported = Some(crate::jetstream_cluster::assignments::UnsupportedAssignment { reason: "x".into() });
    js.process_stream_assignment(u);

    js.process_add_peer("unknown1");
    assert!(js.st.borrow().cluster.as_ref().expect("cc").inflight_streams.is_empty(), "an unknown peer changes nothing");
    c.js(f).process_add_peer(&newcomer);
    assert!(c.js(f).st.borrow().cluster.as_ref().expect("cc").inflight_streams.is_empty(), "only the leader re-assigns");

    js.process_add_peer(&newcomer);
    {
        let st = js.st.borrow();
        let cc = st.cluster.as_ref().expect("cc");
        assert_eq!(cc.inflight_streams["$G"].keys().collect::<Vec<_>>(), vec!["SHORT"]);
        let peers = &cc.inflight_streams["$G"]["SHORT"].sa.group.as_ref().expect("group").peers;
        assert_eq!(peers.len(), 3);
        assert_eq!(peers.last(), Some(&newcomer));
        let cons = &cc.inflight_consumers["$G"]["SHORT"];
        assert_eq!(cons.keys().collect::<Vec<_>>(), vec!["dur"], "the durable follows, the R1 ephemeral does not");
        assert_eq!(&cons["dur"].ca.group.as_ref().expect("group").peers, peers);
    }

    // The proposals commit and apply on every server.
    let ok = c.run_until(Duration::from_secs(5), |c| {
        (0..3).all(|i| {
            c.streams(i).get("$G").and_then(|a| a.get("SHORT")).is_some_and(|s| {
                s.group.as_ref().is_some_and(|g| g.peers.len() == 3) && s.consumers.get("dur").is_some_and(|d| d.group.as_ref().is_some_and(|g| g.peers.len() == 3))
            })
        })
    });
    assert!(ok, "the stream and its durable gained the peer everywhere");
    assert!(js.st.borrow().cluster.as_ref().expect("cc").inflight_streams.is_empty(), "applied proposals leave the in-flight map");
}

#[test]
fn remove_peer_of_ourselves_announces_and_disables_jetstream() {
    let mut c = cluster("remove_peer_of_ourselves_announces_and_disables_jetstream");
    let l = c.leader().expect("a leader");
    let f = (0..3).find(|&i| i != l).expect("a follower");
    let probe = c.connect(l, SYSTEM_ACCOUNT);
    c.subscribe(probe, JS_ADVISORY_SERVER_REMOVED);
    c.run_for(Duration::from_millis(5));
    let me = c.core(f).node.clone();
    c.js(f).process_remove_peer(&me);
    let ok = c.run_until(Duration::from_secs(1), |c| !c.clients[probe].msgs.is_empty() && c.servers[f].js.is_none());
    assert!(ok, "advisory sent and JetStream disabled");
    let adv: serde_json::Value = serde_json::from_slice(&c.clients[probe].msgs[0].data).expect("json");
    assert_eq!(adv["type"], JS_SERVER_REMOVED_ADVISORY_TYPE);
    assert_eq!(adv["server"], c.servers[f].cfg.name.as_str());
    assert_eq!(adv["server_id"], c.core(f).id.as_str());
    assert_eq!(adv["cluster"], "R3S");
    assert_eq!(adv["id"].as_str().map(str::len), Some(22));
    assert!(c.meta_raft(f).is_some_and(|r| r.borrow().is_deleted()), "the meta node was deleted");
}

#[test]
fn remove_peer_on_the_leader_replaces_the_peer_in_its_streams() {
    let c = cluster("remove_peer_on_the_leader_replaces_the_peer_in_its_streams");
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let js = c.js(l).clone();
    // S (R2) loses ids[1] and gains ids[2]; T (R1 elsewhere) is left alone.
    let s2 = in_r3s(sa("$G", "S", &[&ids[0], &ids[1]], 2));
    js.process_stream_assignment(s2);
    js.process_stream_assignment(in_cluster(sa("$G", "T", &[&ids[0]], 1), "R3S"));
    let mut dur = ca("$G", "S", "dur", "C-1");
    dur.group.as_mut().expect("group").peers = vec![ids[0].clone(), ids[1].clone()];
    js.process_consumer_assignment(dur);
    let mut gone = ca("$G", "S", "eph_gone", "C-2");
    gone.config.as_mut().expect("config").durable.clear();
    gone.group.as_mut().expect("group").peers = vec![ids[1].clone()];
    js.process_consumer_assignment(gone);
    let mut stays = ca("$G", "S", "eph_stays", "C-3");
    stays.config.as_mut().expect("config").durable.clear();
    stays.group.as_mut().expect("group").peers = vec![ids[0].clone()];
    js.process_consumer_assignment(stays);

    js.disabled.set(true);
    js.process_remove_peer(&ids[1]);
    assert!(js.st.borrow().cluster.as_ref().expect("cc").inflight_streams.is_empty(), "a disabled JetStream ignores it");
    js.disabled.set(false);
    js.process_remove_peer(&ids[1]);
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("cc");
    assert_eq!(cc.inflight_streams["$G"].keys().collect::<Vec<_>>(), vec!["S"], "only S had the peer");
    let g = cc.inflight_streams["$G"]["S"].sa.group.clone().expect("group");
    assert_eq!(g.peers, vec![ids[0].clone(), ids[2].clone()], "the staying peer first, then its replacement");
    assert!(g.preferred.is_empty(), "placement does not pick the leader");
    let cons = &cc.inflight_consumers["$G"]["S"];
    assert_eq!(cons.keys().collect::<Vec<_>>(), vec!["dur", "eph_gone"]);
    assert_eq!(cons["dur"].ca.group.as_ref().expect("group").peers, g.peers, "the durable follows");
    assert!(!cons["dur"].deleted && cons["eph_gone"].deleted, "the ephemeral on the removed peer goes");
}

#[test]
fn remap_drops_a_peer_it_cannot_replace_only_from_a_running_replicated_group() {
    let c = cluster("remap_drops_a_peer_it_cannot_replace_only_from_a_running_replicated_group");
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let js = c.js(l).clone();
    let peers: Vec<&str> = ids.iter().map(String::as_str).collect();
    // R3 on all three servers: nobody is left to take the removed peer's place.
    let mut full = in_r3s(sa("$G", "FULL", &peers, 3));
    let mut no_node = full.clone();
    assert!(!js.remap_stream_assignment(&mut no_node, &ids[2]));
    assert_eq!(no_node.group.as_ref().expect("group").peers, ids, "no node here: left as it is");
    let (_world, raft) = crate::jetstream_cluster::test_util::mem_node("remap_drops_a_peer");
    full.group.as_mut().expect("group").node = Some(crate::jetstream_cluster::node::NodeHandle::from_raft(raft));
    assert!(!js.remap_stream_assignment(&mut full, &ids[0]));
    assert_eq!(full.group.as_ref().expect("group").peers, vec![ids[2].clone(), ids[1].clone()], "dropped, the last peer in its place");
    let mut r1 = in_r3s(sa("$G", "ONE", &[&ids[0]], 1));
    assert!(js.remap_stream_assignment(&mut r1, &ids[0]), "an R1 moves to another server");
    assert_ne!(r1.group.as_ref().expect("group").peers, vec![ids[0].clone()]);
    assert!(!js.remove_peer_from_stream(&r1, "not-a-member"), "not a member: nothing to do");
}

#[test]
fn remove_peer_leaves_unsupported_streams_with_the_peer_alone() {
    let c = cluster("remove_peer_leaves_unsupported_streams_with_the_peer_alone");
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let js = c.js(l).clone();
    // Both R2 on the peer that goes; this server cannot run U, so its
    // assignment is kept as it was, as upstream keeps an unsupported one.
    let r2 = |name: &str| in_r3s(sa("$G", name, &[&ids[0], &ids[1]], 2));
    let mut u = r2("U");
    u.unsupported = Some(crate::jetstream_cluster::assignments::UnsupportedAssignment { reason: "x".into() });
    js.process_stream_assignment(u);
    js.process_stream_assignment(r2("S"));
    js.process_remove_peer(&ids[1]);
    let st = js.st.borrow();
    let inflight = &st.cluster.as_ref().expect("cc").inflight_streams["$G"];
    assert_eq!(inflight.keys().collect::<Vec<_>>(), vec!["S"], "only the supported stream is re-assigned");
}

#[test]
fn remove_peer_from_stream_says_whether_it_replaced_the_peer_and_warns_when_not() {
    let c = cluster("remove_peer_from_stream_says_whether_it_replaced_the_peer_and_warns_when_not");
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let js = c.js(l).clone();
    let warned = |name: &str| c.world.log.borrow().iter().any(|l| l.contains(&format!("could not replace peer for stream '$G > {name}'")));
    let one = in_r3s(sa("$G", "ONE", &[&ids[0]], 1));
    assert!(js.remove_peer_from_stream(&one, &ids[0]), "an R1 moves to another server");
    assert!(!warned("ONE"), "{:?}", c.world.log.borrow());
    {
        let st = js.st.borrow();
        let moved = &st.cluster.as_ref().expect("cc").inflight_streams["$G"]["ONE"].sa;
        assert_ne!(moved.group.as_ref().expect("group").peers, vec![ids[0].clone()], "proposed on its new server");
    }
    // R3 on all three servers, no node here: nobody can take the place.
    let peers: Vec<&str> = ids.iter().map(String::as_str).collect();
    let full = in_r3s(sa("$G", "FULL", &peers, 3));
    assert!(!js.remove_peer_from_stream(&full, &ids[2]));
    assert!(warned("FULL"), "the meta leader says it could not replace the peer: {:?}", c.world.log.borrow());
    let st = js.st.borrow();
    assert!(st.cluster.as_ref().expect("cc").inflight_streams["$G"].contains_key("FULL"), "proposed all the same");
}

#[test]
fn check_cluster_size_shrinks_to_the_jetstream_servers_of_a_mixed_cluster() {
    let c = cluster("check_cluster_size_shrinks");
    let l = c.leader().expect("a leader");
    let meta = c.js(l).get_meta_group().expect("meta");
    assert_eq!(meta.cluster_size(), 3);
    c.js(l).check_cluster_size();
    assert_eq!(meta.cluster_size(), 3, "as many known peers as the size: nothing to do");

    // The group expects a fourth peer, which does not run JetStream.
    meta.adjust_cluster_size(4).expect("the leader adjusts");
    assert_eq!(meta.cluster_size(), 4);
    c.js(l).check_cluster_size();
    assert_eq!(meta.cluster_size(), 4, "until every expected peer registered, nothing changes");

    let nojs = NodeInfo { name: "S-4".into(), cluster: "R3S".into(), id: "NOJS".into(), js: false, ..Default::default() };
    c.core(l).node_to_info.borrow_mut().insert(crate::sim::cluster::server_hash("S-4"), nojs);
    c.js(l).check_cluster_size();
    assert_eq!(meta.cluster_size(), 3, "shrunk to the JetStream servers");
}

#[test]
fn set_preferred_picks_an_online_peer() {
    let c = cluster("set_preferred_picks_an_online_peer");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let s = c.srv(0);

    RaftGroup::set_preferred(None, s);
    let mut empty = RaftGroup::default();
    RaftGroup::set_preferred(Some(&mut empty), s);
    assert!(empty.preferred.is_empty());

    let mut one = RaftGroup { peers: vec!["solo1234".into()], ..Default::default() };
    RaftGroup::set_preferred(Some(&mut one), s);
    assert_eq!(one.preferred, "solo1234", "the only peer, known or not");

    c.core(0).node_to_info.borrow_mut().get_mut(&ids[1]).expect("S-2").offline = true;
    let mut g = RaftGroup { peers: vec![ids[1].clone(), "unknown1".into(), ids[2].clone()], ..Default::default() };
    RaftGroup::set_preferred(Some(&mut g), s);
    assert_eq!(g.preferred, ids[2], "the only online peer");

    let mut none_online = RaftGroup { peers: vec!["unknown1".into(), "unknown2".into()], ..Default::default() };
    let mut picked = std::collections::BTreeSet::new();
    for _ in 0..32 {
        RaftGroup::set_preferred(Some(&mut none_online), s);
        picked.insert(none_online.preferred.clone());
    }
    assert_eq!(picked.into_iter().collect::<Vec<_>>(), vec!["unknown1".to_string(), "unknown2".to_string()], "a random peer");

    let mut both = RaftGroup { peers: vec![ids[0].clone(), ids[2].clone(), ids[1].clone()], ..Default::default() };
    let mut picked = std::collections::BTreeSet::new();
    for _ in 0..32 {
        RaftGroup::set_preferred(Some(&mut both), s);
        picked.insert(both.preferred.clone());
    }
    assert_eq!(picked.len(), 2, "a random online peer");
    assert!(!picked.contains(&ids[1]), "never the offline one");
}
