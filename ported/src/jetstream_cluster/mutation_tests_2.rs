//! More behaviour the mutation gate (issue 11) found unchecked by the
//! tests registered for batch 33's features: the stream handlers, the
//! meta apply loop's peer entries and the lost-quorum advisory.
//!
//! Not covered here: in processStreamRemoval, `&&` → `||` in "keep the
//! old assignment's unsupported reason unless the removal has one"
//! differs only when both have a reason, and the reason is then never
//! read: deleting a stream looks only at whether there is one (upstream
//! too, `sa.unsupported != nil`). It is declared equivalent on its line
//! (`// porttrack: allow(mutant)`, README "Mutation evidence").

use crate::jetstream_cluster::assignments::{GoTime, StreamAssignment, UnsupportedAssignment};
use crate::jetstream_cluster::node::{Entry, EntryType};
use crate::jetstream_cluster::runtime::StreamRuntime;
use crate::jetstream_cluster::test_util::{r3s_cluster, sa, stream_short_of_a_peer};
use crate::sim::js::{JsCluster, RuntimeCall};


/// A settled cluster and a follower (and its peer id) to call the
/// handlers on directly.
fn follower(test: &str) -> (JsCluster, usize, String) {
    let c = r3s_cluster(test);
    let f = c.random_non_leader().expect("a follower");
    let me = c.core(f).node.clone();
    (c, f, me)
}

fn last_call(c: &JsCluster, i: usize) -> Option<RuntimeCall> {
    c.servers[i].runtime.calls.borrow().last().cloned()
}

fn created_at(mut s: StreamAssignment, nanos: i64) -> StreamAssignment {
    s.created = GoTime::from_unix_nanos(nanos);
    s
}

fn stored(c: &JsCluster, i: usize, stream: &str) -> StreamAssignment {
    c.js(i).st.borrow().cluster.as_ref().expect("clustered").streams["$G"][stream].clone()
}

/// processStreamRemoval deletes an assigned stream whatever its creation
/// time (the time check is only for a stream recovered from disk that was
/// never assigned), tells the stream layer whether we are a member, and
/// deletes an unassigned recovered stream created before the removal.
#[test]
fn stream_removal_deletes_assigned_streams_and_says_whether_we_are_a_member() {
    let (c, f, me) = follower("stream_removal_deletes_assigned_streams_and_says_whether_we_are_a_member");
    let js = c.js(f).clone();
    let rt = c.servers[f].runtime.clone();

    // Assigned here and running, created after the removal was stamped.
    let s = created_at(sa("$G", "S", &[me.as_str()], 1), 3_000);
    js.process_stream_assignment(s.clone());
    assert!(rt.lookup_stream("$G", "S").is_some(), "running");
    js.process_stream_removal(created_at(s, 2_000));
    assert!(rt.lookup_stream("$G", "S").is_none(), "an assigned stream is deleted");
    assert!(matches!(last_call(&c, f), Some(RuntimeCall::DeleteStream { ref stream, is_member: true, .. }) if stream == "S"));

    // Assigned to other servers: deleted as a non-member.
    js.process_stream_assignment(sa("$G", "O", &["other111"], 1));
    js.process_stream_removal(sa("$G", "O", &["other111"], 1));
    assert!(matches!(last_call(&c, f), Some(RuntimeCall::DeleteStream { ref stream, is_member: false, .. }) if stream == "O"), "{:?}", last_call(&c, f));

    // Never assigned, recovered from disk before the removal was stamped.
    let old = created_at(sa("$G", "OLD", &[me.as_str()], 1), 1_000);
    rt.process_cluster_create_stream(&js, "$G", &old);
    js.process_stream_removal(created_at(old, 2_000));
    assert!(rt.lookup_stream("$G", "OLD").is_none(), "created before the removal: deleted");
}

/// processUpdateStreamAssignment keeps the group's node for a member
/// above R1 and forgets it at R1; an update that turns the stream
/// unsupported stops the running stream, and a later update's reason
/// replaces the earlier one.
#[test]
fn stream_update_keeps_the_node_above_r1_and_detects_unsupported() {
    let (c, f, me) = follower("stream_update_keeps_the_node_above_r1_and_detects_unsupported");
    let js = c.js(f).clone();
    let peers = [me.as_str(), "other111", "other222"];
    js.process_stream_assignment(sa("$G", "S", &peers, 3));
    // Any node handle stands in for the stream's group node.
    let node = js.get_meta_group().expect("meta");
    js.st.borrow_mut().cluster.as_mut().and_then(|cc| cc.streams.get_mut("$G")).and_then(|a| a.get_mut("S")).and_then(|s| s.group.as_mut()).expect("group").node = Some(node);

    js.process_update_stream_assignment(sa("$G", "S", &peers, 3));
    assert!(stored(&c, f, "S").group.expect("group").node.is_some(), "an R3 member keeps its node");
    js.process_update_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    assert!(stored(&c, f, "S").group.expect("group").node.is_none(), "scaled down to R1: no node");
    assert_eq!(last_call(&c, f), Some(RuntimeCall::UpdateStream { acc: "$G".into(), stream: "S".into() }));

    let unsupported = |why: &str| {
        let mut u = sa("$G", "S", &[me.as_str()], 1);
        u.unsupported = Some(UnsupportedAssignment { reason: why.into() });
        u
    };
    js.process_update_stream_assignment(unsupported("level 9"));
    assert_eq!(last_call(&c, f), Some(RuntimeCall::StopStream { acc: "$G".into(), stream: "S".into() }));
    // The update's own reason wins over the one already known.
    js.process_update_stream_assignment(unsupported("level 10"));
    assert_eq!(stored(&c, f, "S").unsupported.map(|u| u.reason), Some("level 10".into()));
    assert!(c.world.log.borrow().iter().any(|l| l.contains("Detected unsupported stream '$G > S': level 10")), "{:?}", c.world.log.borrow());
}

/// processStreamAssignment answers the meta leader once when a member
/// cannot find the stream's account: a member that has not responded
/// sends the create error.
#[test]
fn stream_assignment_answers_a_missing_account_when_not_yet_responded() {
    let (mut c, f, me) = follower("stream_assignment_answers_a_missing_account_when_not_yet_responded");
    let probe = c.connect(f, crate::sim::js::SYSTEM_ACCOUNT);
    c.subscribe(probe, crate::jetstream_cluster::handlers::STREAM_ASSIGNMENT_SUBJ);
    let mut s = sa("NOPE", "S", &[me.as_str()], 1);
    s.responded = false;
    c.js(f).process_stream_assignment(s);
    c.run_for(std::time::Duration::from_millis(10));
    let m = c.clients[probe].msgs.pop_front().expect("a result for the leader");
    let v: serde_json::Value = serde_json::from_slice(&m.data).expect("json");
    assert_eq!((v["account"].as_str(), v["stream"].as_str()), (Some("NOPE"), Some("S")));
    assert_eq!(v["create_response"]["error"]["err_code"], 10035);
}

/// applyMetaEntries processes an add-peer entry once the meta layer has
/// recovered: the leader re-assigns a stream missing a peer to it.
#[test]
fn an_add_peer_entry_applies_after_recovery() {
    let c = r3s_cluster("an_add_peer_entry_applies_after_recovery");
    let (js, newcomer, _) = stream_short_of_a_peer(&c);
    assert!(!js.is_meta_recovering());
    let (_, _, res) = js.apply_meta_entries(&[Entry::new(EntryType::AddPeer, newcomer.as_bytes().to_vec())], None);
    res.expect("applied");
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("clustered");
    let peers = cc.inflight_streams.get("$G").and_then(|a| a.get("SHORT")).and_then(|p| p.sa.group.as_ref()).map(|g| g.peers.clone());
    assert_eq!(peers.and_then(|p| p.last().cloned()), Some(newcomer), "re-proposed with the new peer");
}

/// sendStreamLostQuorumAdvisory publishes for a stream outside the
/// system account twice: in the stream's own account (without the
/// account field) and in the system account (with it).
#[test]
fn the_lost_quorum_advisory_goes_to_the_stream_account_too() {
    use crate::jetstream_cluster::assignments::{ClientInfo, RaftGroup, StorageType};
    use crate::jetstream_cluster::config::StreamConfig;
    use crate::jetstream_cluster::leader::sync_subj_for_stream;
    use crate::jetstream_cluster::ops::encode_add_stream_assignment;
    use crate::jetstream_cluster::stream_events::JS_ADVISORY_STREAM_QUORUM_LOST_PRE;
    use crate::sim::js::SYSTEM_ACCOUNT;
    use std::time::Duration;

    let mut c = JsCluster::create_jet_stream_cluster_with("R3S", 3, crate::sim::test_seed("the_lost_quorum_advisory_goes_to_the_stream_account_too"), |c| c.stream_layer = true);
    let meta = c.wait_on_leader().expect("meta leader");
    let mut cfg = StreamConfig { name: "TEST".into(), replicas: 3, ..Default::default() };
    cfg.extra.insert("subjects".into(), serde_json::json!(["foo"]));
    cfg.extra.insert("storage".into(), serde_json::json!("memory"));
    let group = RaftGroup { name: "S-R3M-TEST".into(), peers: (0..3).map(|i| c.core(i).node.clone()).collect(), storage: StorageType::Memory, cluster: "R3S".into(), ..Default::default() };
    let mut s = StreamAssignment {
        client: Some(ClientInfo { account: "$G".into(), cluster: "R3S".into(), ..Default::default() }),
        created: GoTime::from_unix_nanos(c.srv(meta).unix_nanos()),
        config: Some(cfg),
        group: Some(group),
        sync: sync_subj_for_stream(c.srv(meta)),
        ..Default::default()
    };
    s.config_json = serde_json::value::to_raw_value(&s.config).expect("a config encodes");
    c.propose(meta, &encode_add_stream_assignment(&s).expect("encodes")).expect("proposed");
    let hosted = |c: &JsCluster| c.servers[0].streams.as_ref().and_then(|r| r.get("$G", "TEST"));
    assert!(c.run_until(Duration::from_secs(10), |c| hosted(c).is_some()), "the stream runs on server 0");

    let subj = format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.TEST");
    let (acc, sys) = (c.connect(0, "$G"), c.connect(0, SYSTEM_ACCOUNT));
    c.subscribe(acc, &subj);
    c.subscribe(sys, &subj);
    let h = hosted(&c).expect("hosted");
    c.srv(0).send_stream_lost_quorum_advisory(Some(&h.mset), "$G", "TEST");
    c.run_for(Duration::from_millis(10));
    let json = |m: &crate::sim::js::bus::BusMsg| serde_json::from_slice::<serde_json::Value>(&m.data).expect("json");
    assert_eq!(c.clients[acc].msgs.len(), 1, "one advisory in the stream's account");
    assert_eq!(json(&c.clients[acc].msgs[0])["account"], serde_json::Value::Null, "no account field there");
    assert_eq!(c.clients[sys].msgs.len(), 1, "one in the system account");
    assert_eq!(json(&c.clients[sys].msgs[0])["account"], "$G");
}
