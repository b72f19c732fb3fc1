use super::*;
use crate::jetstream_cluster::node::{Entry, EntryType};
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};

fn js_with(streams: &[(&str, &str)]) -> JetStream {
    let mut js = JetStream::clustered();
    let cc = js.cluster.as_mut().expect("clustered");
    for (acc, name) in streams {
        cc.streams.entry(acc.to_string()).or_default().insert(name.to_string(), sa(acc, name, &["p1"], 1));
    }
    js
}

fn names<'a>(it: impl Iterator<Item = &'a StreamAssignment>) -> Vec<String> {
    let mut v: Vec<String> = it.map(|s| format!("{}:{}", s.name(), s.group.as_ref().map_or("", |g| g.peers[0].as_str()))).collect();
    v.sort();
    v
}

#[test]
fn stream_assignment_lookup() {
    let js = js_with(&[("A", "S1"), ("B", "S2")]);
    assert_eq!(js.stream_assignment("A", "S1").map(|s| s.name()), Some("S1"));
    assert!(js.stream_assignment("A", "S2").is_none());
    assert!(js.stream_assignment("C", "S1").is_none());
    assert!(JetStream::default().stream_assignment("A", "S1").is_none());
}

#[test]
fn inflight_tracking_counts_operations() {
    let mut cc = JetStreamCluster::default();
    let s = sa("A", "S", &["p1"], 1);
    cc.track_inflight_stream_proposal("A", &s, false);
    cc.track_inflight_stream_proposal("A", &s, true);
    let info = &cc.inflight_streams["A"]["S"];
    assert_eq!((info.ops, info.deleted), (2, true));
    cc.remove_inflight_stream_proposal("A", "S");
    assert_eq!(cc.inflight_streams["A"]["S"].ops, 1);
    cc.remove_inflight_stream_proposal("A", "nope");
    cc.remove_inflight_stream_proposal("Z", "S");
    cc.remove_inflight_stream_proposal("A", "S");
    assert!(cc.inflight_streams.is_empty());
}

#[test]
fn or_inflight_prefers_proposal_and_hides_deletes() {
    let mut js = js_with(&[("A", "S1"), ("A", "S2")]);
    let cc = js.cluster.as_mut().expect("clustered");
    cc.track_inflight_stream_proposal("A", &sa("A", "S1", &["new"], 1), false);
    cc.track_inflight_stream_proposal("A", &sa("A", "S2", &["x"], 1), true);
    cc.track_inflight_stream_proposal("A", &sa("A", "S3", &["y"], 1), false);
    let peer = |s: Option<&StreamAssignment>| s.and_then(|s| s.group.as_ref()).map(|g| g.peers[0].clone());
    assert_eq!(peer(js.stream_assignment_or_inflight("A", "S1")).as_deref(), Some("new"));
    assert!(js.stream_assignment_or_inflight("A", "S2").is_none());
    assert_eq!(peer(js.stream_assignment_or_inflight("A", "S3")).as_deref(), Some("y"));
    assert!(js.stream_assignment_or_inflight("B", "S1").is_none());
    assert_eq!(peer(js.stream_assignment("A", "S1")).as_deref(), Some("p1"));
}

#[test]
fn or_inflight_seq_has_no_duplicates() {
    let mut js = js_with(&[("A", "S1"), ("A", "S2"), ("A", "S4"), ("B", "S9")]);
    let cc = js.cluster.as_mut().expect("clustered");
    cc.track_inflight_stream_proposal("A", &sa("A", "S1", &["new"], 1), false);
    cc.track_inflight_stream_proposal("A", &sa("A", "S2", &["x"], 1), true);
    cc.track_inflight_stream_proposal("A", &sa("A", "S3", &["y"], 1), false);
    assert_eq!(names(js.stream_assignments_or_inflight_seq("A")), vec!["S1:new", "S3:y", "S4:p1"]);
    assert_eq!(names(js.stream_assignments_or_inflight_seq("B")), vec!["S9:p1"]);
    assert!(js.stream_assignments_or_inflight_seq("C").next().is_none());
    assert_eq!(js.stream_assignments_or_inflight_seq("A").take(1).count(), 1);
    assert!(JetStream::default().stream_assignments_or_inflight_seq("A").next().is_none());
}

#[test]
fn or_inflight_seq_all_accounts() {
    let mut js = js_with(&[("A", "S1"), ("A", "S2"), ("B", "S1")]);
    let cc = js.cluster.as_mut().expect("clustered");
    cc.track_inflight_stream_proposal("A", &sa("A", "S1", &["new"], 1), false);
    cc.track_inflight_stream_proposal("B", &sa("B", "S1", &["gone"], 1), true);
    cc.track_inflight_stream_proposal("C", &sa("C", "S7", &["c"], 1), false);
    let mut all: Vec<String> = js
        .stream_assignments_or_inflight_seq_all_accounts()
        .map(|(acc, s)| format!("{acc}/{}/{}", s.name(), s.group.as_ref().map_or("", |g| g.peers[0].as_str())))
        .collect();
    all.sort();
    assert_eq!(all, vec!["A/S1/new", "A/S2/p1", "C/S7/c"]);
    assert_eq!(js.stream_assignments_or_inflight_seq_all_accounts().take(2).count(), 2);
    assert!(JetStream::default().stream_assignments_or_inflight_seq_all_accounts().next().is_none());
}

#[test]
fn cluster_stream_config_copies() {
    let js = js_with(&[("A", "S1")]);
    let mut cfg = js.cluster_stream_config("A", "S1").expect("found");
    assert_eq!((cfg.name.as_str(), cfg.replicas), ("S1", 1));
    assert_eq!(cfg.extra["subjects"], serde_json::json!(["S1.>"]));
    cfg.replicas = 5;
    assert_eq!(js.cluster_stream_config("A", "S1").map(|c| c.replicas), Some(1));
    assert!(js.cluster_stream_config("A", "nope").is_none());
    assert!(js.cluster_stream_config("B", "S1").is_none());
}

#[test]
fn recovering_flags() {
    let mut s = sa("A", "S", &["p1", "p2"], 2);
    s.restore = serde_json::value::to_raw_value(&serde_json::json!({"messages": 1})).ok();
    assert!(!s.responded && !s.recovering && s.restore.is_some());
    JetStream::set_stream_assignment_recovering(&mut s);
    assert!(s.responded && s.recovering && s.restore.is_none());
    let g = s.group.as_ref().expect("group");
    assert!(g.preferred.is_empty() && !g.scale_up);
    assert_eq!(g.peers, vec!["p1", "p2"]);
    s.group = None;
    JetStream::set_stream_assignment_recovering(&mut s);

    let mut c = ca("A", "S", "c", "g");
    assert_eq!(c.group.as_ref().map(|g| g.preferred.as_str()), Some("p2"));
    JetStream::set_consumer_assignment_recovering(&mut c);
    assert!(c.responded && c.recovering);
    assert_eq!(c.group.as_ref().map(|g| g.preferred.as_str()), Some(""));
    let _ = with_consumers;
}

#[test]
fn peer_entries() {
    let e = |t: u8| Entry { typ: EntryType::from_u8(t), data: vec![] };
    assert!(!JetStream::has_peer_entries(&[]));
    assert!(!JetStream::has_peer_entries(&[e(0), e(6), e(2), e(5)]));
    assert!(JetStream::has_peer_entries(&[e(0), e(3)]));
    assert!(JetStream::has_peer_entries(&[e(4)]));
    assert_eq!(EntryType::from_u8(3), EntryType::AddPeer);
    assert_eq!(EntryType::from_u8(4), EntryType::RemovePeer);
    assert_eq!(EntryType::from_u8(99), EntryType::Unknown(99));
}

#[test]
fn inflight_consumer_tracking_counts_operations() {
    let mut cc = JetStreamCluster::default();
    let c = ca("A", "S", "C", "C-R3F");
    cc.track_inflight_consumer_proposal("A", "S", &c, false);
    let mut later = c.clone();
    later.group.as_mut().expect("group").preferred = "p3".into();
    cc.track_inflight_consumer_proposal("A", "S", &later, true);
    let info = &cc.inflight_consumers["A"]["S"]["C"];
    assert_eq!((info.ops, info.deleted), (2, true));
    assert_eq!(info.ca, later, "the latest proposal is kept");
    cc.track_inflight_consumer_proposal("A", "S", &ca("A", "S", "D", "D-R3F"), false);

    cc.remove_inflight_consumer_proposal("A", "S", "C");
    assert_eq!(cc.inflight_consumers["A"]["S"]["C"].ops, 1);
    // Unknown account, stream or consumer: nothing changes.
    cc.remove_inflight_consumer_proposal("Z", "S", "C");
    cc.remove_inflight_consumer_proposal("A", "T", "C");
    cc.remove_inflight_consumer_proposal("A", "S", "nope");
    assert_eq!(cc.inflight_consumers["A"]["S"].len(), 2);

    cc.remove_inflight_consumer_proposal("A", "S", "C");
    assert!(!cc.inflight_consumers["A"]["S"].contains_key("C"));
    cc.remove_inflight_consumer_proposal("A", "S", "D");
    assert!(cc.inflight_consumers.is_empty(), "emptied stream and account are dropped");
    assert!(cc.inflight_streams.is_empty(), "stream proposals are tracked apart");
}

#[test]
fn inflight_consumers_of_other_streams_keep_their_account() {
    let mut cc = JetStreamCluster::default();
    cc.track_inflight_consumer_proposal("A", "S1", &ca("A", "S1", "C", "G1"), false);
    cc.track_inflight_consumer_proposal("A", "S2", &ca("A", "S2", "C", "G2"), false);
    cc.remove_inflight_consumer_proposal("A", "S1", "C");
    assert!(!cc.inflight_consumers["A"].contains_key("S1"));
    assert_eq!(cc.inflight_consumers["A"]["S2"]["C"].ops, 1);
}

#[test]
fn clustered_and_meta_recovering_flags() {
    let mut standalone = JetStream::default();
    assert!(!standalone.is_clustered());
    standalone.set_meta_recovering();
    assert!(!standalone.is_meta_recovering(), "only a clustered meta layer recovers");

    let mut js = JetStream::clustered();
    assert!(js.is_clustered());
    assert!(!js.is_meta_recovering());
    js.set_meta_recovering();
    assert!(js.is_meta_recovering());
    js.clear_meta_recovering();
    assert!(!js.is_meta_recovering());
}

#[test]
fn consumer_lookups_prefer_inflight_proposals() {
    let mut js = js_with(&[("A", "S")]);
    let cc = js.cluster.as_mut().expect("clustered");
    let sa_s = cc.streams.get_mut("A").and_then(|a| a.get_mut("S")).expect("S");
    sa_s.consumers.insert("c1".into(), ca("A", "S", "c1", "G-1"));
    sa_s.consumers.insert("c2".into(), ca("A", "S", "c2", "G-2"));
    cc.track_inflight_consumer_proposal("A", "S", &ca("A", "S", "c2", "G-NEW"), false);
    cc.track_inflight_consumer_proposal("A", "S", &ca("A", "S", "c3", "G-3"), false);
    cc.track_inflight_consumer_proposal("A", "S", &ca("A", "S", "c1", "G-1"), true);

    assert_eq!(js.consumer_assignment("A", "S", "c1").map(|c| c.name.as_str()), Some("c1"));
    assert!(js.consumer_assignment("A", "S", "c3").is_none(), "c3 is only proposed");
    assert!(js.consumer_assignment("A", "X", "c1").is_none());
    assert!(js.consumer_assignment_or_inflight("A", "S", "c1").is_none(), "an in-flight delete hides c1");
    let grp = |c: Option<&ConsumerAssignment>| c.and_then(|c| c.group.as_ref()).map(|g| g.name.clone());
    assert_eq!(grp(js.consumer_assignment_or_inflight("A", "S", "c2")), Some("G-NEW".into()));
    assert_eq!(grp(js.consumer_assignment_or_inflight("A", "S", "c3")), Some("G-3".into()));
    let mut seq: Vec<(String, String)> = js
        .consumer_assignments_or_inflight_seq("A", "S")
        .map(|c| (c.name.clone(), c.group.as_ref().map_or(String::new(), |g| g.name.clone())))
        .collect();
    seq.sort();
    assert_eq!(seq, vec![("c2".into(), "G-NEW".into()), ("c3".into(), "G-3".into())], "deleted c1 and the applied c2 are skipped");
    assert_eq!(JetStream::default().consumer_assignments_or_inflight_seq("A", "S").count(), 0);
}

#[test]
fn meta_leadership_and_group_membership_predicates() {
    use crate::jetstream_cluster::node::NodeHandle;
    use crate::jetstream_cluster::test_util::mem_node;
    assert!(JetStreamCluster::is_leader(None), "not clustered counts as leader");
    assert!(JetStreamCluster::is_stream_assigned(None, "A", "S"));
    assert!(JetStreamCluster::is_stream_leader(None, "A", "S"));
    assert!(JetStreamCluster::is_consumer_leader(None, "A", "S", "c"));
    let mut cc = JetStreamCluster::default();
    assert!(!JetStreamCluster::is_leader(Some(&cc)), "no meta node");
    assert!(!JetStreamCluster::is_stream_assigned(Some(&cc), "A", "S"));

    // A single-node meta group that elects itself.
    let (world, raft) = mem_node("meta_leadership_and_group_membership_predicates");
    let me = raft.borrow().id().to_string();
    cc.meta = Some(NodeHandle::from_raft(raft.clone()));
    assert!(!JetStreamCluster::is_leader(Some(&cc)));
    for _ in 0..200 {
        let now = world.now.get();
        let next = raft.borrow().next_deadline().map_or(now + 1_000_000, |d| d.0.max(now));
        world.now.set(next);
        raft.borrow_mut().tick().expect("run loop");
        loop {
            let item = raft.borrow_mut().apply_q().pop_front();
            match item {
                Some(Some(ce)) => {
                    raft.borrow_mut().applied(ce.index);
                }
                Some(None) => {}
                None => break,
            }
        }
        if raft.borrow().leader() {
            break;
        }
    }
    assert!(JetStreamCluster::is_leader(Some(&cc)), "the meta node leads");

    let mut r1 = sa("A", "S", &[me.as_str()], 1);
    r1.consumers.insert("c".into(), ca("A", "S", "c", "G"));
    if let Some(g) = r1.consumers.get_mut("c").and_then(|c| c.group.as_mut()) {
        g.peers = vec![me.clone()];
    }
    cc.streams.entry("A".into()).or_default().insert("S".into(), r1);
    let mut r3 = sa("A", "R3", &[me.as_str(), "p2", "p3"], 3);
    cc.streams.entry("A".into()).or_default().insert("R3".into(), r3.clone());
    cc.streams.entry("A".into()).or_default().insert("AWAY".into(), sa("A", "AWAY", &["p2"], 1));
    assert!(JetStreamCluster::is_stream_assigned(Some(&cc), "A", "S"));
    assert!(!JetStreamCluster::is_stream_assigned(Some(&cc), "A", "AWAY"));
    assert!(!JetStreamCluster::is_stream_assigned(Some(&cc), "A", "NONE"));
    assert!(JetStreamCluster::is_stream_leader(Some(&cc), "A", "S"), "the only peer");
    assert!(!JetStreamCluster::is_stream_leader(Some(&cc), "A", "R3"), "no group node");
    r3.group.as_mut().expect("group").node = cc.meta.clone();
    cc.streams.entry("A".into()).or_default().insert("R3".into(), r3);
    assert!(JetStreamCluster::is_stream_leader(Some(&cc), "A", "R3"), "its group node leads");
    assert!(!JetStreamCluster::is_stream_leader(Some(&cc), "A", "AWAY"));
    assert!(JetStreamCluster::is_consumer_leader(Some(&cc), "A", "S", "c"));
    assert!(!JetStreamCluster::is_consumer_leader(Some(&cc), "A", "S", "missing"));
    assert!(!JetStreamCluster::is_consumer_leader(Some(&cc), "A", "R3", "c"));
}
