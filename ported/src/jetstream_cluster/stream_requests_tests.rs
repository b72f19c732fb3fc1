use std::time::Duration;

use super::*;
use crate::jetstream_cluster::test_util::ca;
use crate::sim::js::{JsCluster, GLOBAL_ACCOUNT};

/// Three servers running the stream layer, so replicated groups get nodes.
fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_with("R3S", 3, crate::sim::test_seed(test), |c| c.stream_layer = true)
}

/// The leader of group `name` as the meta leader's node of it knows it,
/// once it knows one.
fn group_leader(c: &mut JsCluster, name: &str) -> String {
    let known = |c: &mut JsCluster| {
        let l = c.leader().expect("meta leader");
        c.srv(l).lookup_raft_node(name).map(|n| n.group_leader()).filter(|p| !p.is_empty())
    };
    c.run_until(Duration::from_secs(5), |c| known(c).is_some());
    known(c).expect("a group leader")
}

fn cfg(name: &str, subjects: &[&str], replicas: i64) -> StreamConfig {
    let mut c = StreamConfig { name: name.into(), replicas, ..Default::default() };
    c.extra.insert("subjects".into(), serde_json::json!(subjects));
    c
}

fn client(c: &JsCluster) -> ClientInfo {
    ClientInfo { account: GLOBAL_ACCOUNT.into(), cluster: c.name.clone(), ..Default::default() }
}

/// Runs `req` on the meta leader with a reply inbox of a fresh client and
/// returns the answer, if one came.
fn answer(c: &mut JsCluster, req: impl FnOnce(&JetStreamCtx, &str)) -> Option<serde_json::Value> {
    let l = c.leader().expect("meta leader");
    let cl = c.connect(l, GLOBAL_ACCOUNT);
    let inbox = format!("_INBOX.T{cl}");
    c.subscribe(cl, &inbox);
    let js = c.js(l).clone();
    req(&js, &inbox);
    c.run_until(Duration::from_secs(2), |c| !c.clients[cl].msgs.is_empty());
    let m = c.clients[cl].msgs.pop_front()?;
    serde_json::from_slice(&m.data).ok()
}

fn inflight(c: &JsCluster, name: &str) -> Option<StreamAssignment> {
    let l = c.leader().expect("meta leader");
    let st = c.js(l).st.borrow();
    st.cluster.as_ref()?.inflight_streams.get(GLOBAL_ACCOUNT)?.get(name).map(|i| i.sa.clone())
}

fn applied(c: &JsCluster, name: &str) -> Option<StreamAssignment> {
    let l = c.leader().expect("meta leader");
    c.streams(l).get(GLOBAL_ACCOUNT)?.get(name).cloned()
}

#[test]
fn a_create_request_proposes_a_new_group_and_tracks_it_in_flight() {
    let mut c = cluster("a_create_request_proposes_a_new_group_and_tracks_it_in_flight");
    let l = c.leader().expect("meta leader");
    let ci = client(&c);
    c.js(l).js_clustered_stream_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.CREATE.A", "_INBOX.a", b"{}", &cfg("A", &["a.>"], 3));
    let sa = inflight(&c, "A").expect("in flight");
    let g = sa.group.as_ref().expect("group");
    assert_eq!(g.peers.len(), 3);
    assert!(g.name.starts_with("S-R3F-"), "{}", g.name);
    assert!(g.peers.contains(&g.preferred), "a preferred leader among the peers");
    assert_eq!((sa.subject.as_str(), sa.reply.as_str()), ("$JS.API.STREAM.CREATE.A", "_INBOX.a"));
    assert!(sa.sync.starts_with("$JSC.SYNC."), "{}", sa.sync);
    assert_eq!(sa.client.as_ref(), Some(&ci));
    assert!(c.run_until(Duration::from_secs(2), |c| applied(c, "A").is_some()), "the proposal applies");
    assert_eq!(applied(&c, "A").and_then(|a| a.group).map(|g| g.name), Some(g.name.clone()));
    assert!(inflight(&c, "A").is_none(), "and leaves the in-flight map");

    // The same config again: the same group and sync subject, proposed again.
    let l = c.leader().expect("meta leader");
    c.js(l).js_clustered_stream_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.CREATE.A", "_INBOX.b", b"{}", &cfg("A", &["a.>"], 3));
    let again = inflight(&c, "A").expect("in flight again");
    assert_eq!(again.group.as_ref().map(|g| &g.name), Some(&g.name));
    assert_eq!(again.sync, sa.sync);
    assert_eq!(again.reply, "_INBOX.b");
}

#[test]
fn create_requests_that_cannot_be_placed_or_conflict_are_answered_with_errors() {
    let mut c = cluster("create_requests_that_cannot_be_placed_or_conflict_are_answered_with_errors");
    let ci = client(&c);
    let req = |cfg: StreamConfig| {
        let ci = ci.clone();
        move |js: &JetStreamCtx, inbox: &str| js.js_clustered_stream_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.CREATE.X", inbox, b"{}", &cfg)
    };
    let err = |v: Option<serde_json::Value>| v.expect("an answer")["error"]["err_code"].as_u64();

    let v = answer(&mut c, req(cfg("BIG", &["big"], 5))).expect("an answer");
    assert_eq!(v["type"], "io.nats.jetstream.api.v1.stream_create_response");
    assert_eq!(v["error"]["err_code"], 10005);
    assert_eq!(v["error"]["description"], "no suitable peers for placement");
    assert!(inflight(&c, "BIG").is_none(), "nothing proposed");

    let mut sealed = cfg("S", &["s"], 1);
    sealed.extra.insert("sealed".into(), serde_json::json!(true));
    let v = answer(&mut c, req(sealed)).expect("an answer");
    assert_eq!((v["error"]["err_code"].as_u64(), v["error"]["description"].as_str()), (Some(10052), Some("stream configuration for create can not be sealed")));

    let l = c.leader().expect("meta leader");
    c.js(l).js_clustered_stream_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.CREATE.A", "", b"{}", &cfg("A", &["a.*"], 1));
    assert_eq!(err(answer(&mut c, req(cfg("B", &["a.b"], 1)))), Some(10065), "a.b overlaps the in-flight A's a.*");
    assert_eq!(err(answer(&mut c, req(cfg("A", &["a.*"], 3)))), Some(10058), "same name, other config");
    let no_js = ClientInfo { account: "NOPE".into(), ..ci.clone() };
    let v = answer(&mut c, |js, inbox| js.js_clustered_stream_request(&no_js, "NOPE", "$JS.API.STREAM.CREATE.C", inbox, b"{}", &cfg("C", &["c"], 1)));
    // The answer goes to the requester's account, where this client is not.
    assert!(v.is_none());
    assert!(inflight(&c, "C").is_none(), "an account without JetStream gets nothing proposed");
}

/// Creates stream `name` with `r` replicas through the request and waits
/// until the meta leader applied it.
fn create(c: &mut JsCluster, name: &str, subjects: &[&str], r: i64) -> StreamAssignment {
    let l = c.leader().expect("meta leader");
    let ci = client(c);
    c.js(l).js_clustered_stream_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.CREATE", "", b"{}", &cfg(name, subjects, r));
    assert!(c.run_until(Duration::from_secs(2), |c| applied(c, name).is_some()), "{name} applied");
    applied(c, name).expect("applied")
}

fn update(c: &mut JsCluster, cfg: &StreamConfig, peer_set: &[String]) -> Option<serde_json::Value> {
    let ci = client(c);
    let cfg = cfg.clone();
    let peer_set = peer_set.to_vec();
    answer(c, move |js, inbox| js.js_clustered_stream_update_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.UPDATE", inbox, b"{}", &cfg, &peer_set))
}

#[test]
fn update_requests_check_the_stream_first() {
    let mut c = cluster("update_requests_check_the_stream_first");
    let v = update(&mut c, &cfg("NONE", &["n"], 1), &[]).expect("an answer");
    assert_eq!(v["type"], JS_API_STREAM_UPDATE_RESPONSE_TYPE);
    assert_eq!(v["error"]["err_code"], 10059);

    create(&mut c, "A", &["a"], 1);
    create(&mut c, "B", &["b"], 1);
    let v = update(&mut c, &cfg("A", &["a", "b"], 1), &[]).expect("an answer");
    assert_eq!(v["error"]["err_code"], 10065, "b is B's");
    let mut mirror = cfg("A", &["a"], 1);
    mirror.mirror = Some(serde_json::json!({"name": "B"}));
    assert_eq!(update(&mut c, &mirror, &[]).expect("an answer")["error"]["err_code"], 10055);
    let mut moved = cfg("A", &["a"], 3);
    moved.extra.insert("placement".into(), serde_json::json!({"tags": ["x"]}));
    assert_eq!(update(&mut c, &moved, &[]).expect("an answer")["error"]["err_code"], 10123, "no move and scale at once");

    // Every peer offline.
    let l = c.leader().expect("meta leader");
    let peer = applied(&c, "A").and_then(|a| a.group).expect("group").peers[0].clone();
    c.core(l).node_to_info.borrow_mut().get_mut(&peer).expect("known").offline = true;
    assert_eq!(update(&mut c, &cfg("A", &["a"], 1), &[]).expect("an answer")["error"]["err_code"], 10118);
}

#[test]
fn scaling_renames_groups_only_to_or_from_one_peer() {
    let mut c = cluster("scaling_renames_groups_only_to_or_from_one_peer");
    let r1 = create(&mut c, "A", &["a"], 1).group.expect("group");
    let ci = client(&c);
    let up = |c: &JsCluster, r: i64| {
        let l = c.leader().expect("meta leader");
        c.js(l).js_clustered_stream_update_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.UPDATE.A", "", b"{}", &cfg("A", &["a"], r), &[]);
        inflight(c, "A").expect("in flight").group.expect("group")
    };
    let r3 = up(&c, 3);
    assert_eq!(r3.peers.len(), 3);
    assert_eq!(r3.peers[0], r1.peers[0], "the existing peer stays first");
    assert_eq!(r3.preferred, r1.peers[0], "the singleton leads the scale-up");
    assert!(r3.scale_up);
    assert!(r3.name.starts_with("S-R3F-") && r3.name != r1.name, "{}", r3.name);
    assert!(c.run_until(Duration::from_secs(2), |c| inflight(c, "A").is_none()), "applied");

    // Down to R2: same group, the current leader first (the meta leader
    // is a member and knows it).
    let leader = group_leader(&mut c, &r3.name);
    let r2 = up(&c, 2);
    assert_eq!(r2.name, r3.name, "a replicated group keeps its name");
    assert!(!r2.scale_up && r2.peers.len() == 2);
    assert_eq!(r2.peers[0], leader, "the current leader is kept");
    assert!(c.run_until(Duration::from_secs(2), |c| inflight(c, "A").is_none()), "applied");
    let r1b = up(&c, 1);
    assert!(r1b.name.starts_with("S-R1F-") && r1b.name != r1.name, "{}", r1b.name);
    assert_eq!(r1b.peers.len(), 1);
    assert!(c.run_until(Duration::from_secs(2), |c| inflight(c, "A").is_none()), "applied");
    let plain = up(&c, 1);
    assert_eq!((plain.name.as_str(), &plain.peers), (r1b.name.as_str(), &r1b.peers), "no replica change, no move");
    assert!(plain.preferred.is_empty(), "a plain update keeps no preferred leader");
}

#[test]
fn scaling_a_stream_remaps_its_following_consumers() {
    let mut c = cluster("scaling_a_stream_remaps_its_following_consumers");
    let sa = create(&mut c, "A", &["a"], 3);
    let peers = sa.group.as_ref().expect("group").peers.clone();
    // A durable with R0 follows the stream; an R1 ephemeral on the peer
    // that stays (the leader) is left alone.
    let keep = group_leader(&mut c, &sa.group.as_ref().expect("group").name);
    let l = c.leader().expect("meta leader");
    let js = c.js(l).clone();
    let mut dur = ca(GLOBAL_ACCOUNT, "A", "dur", "C-R3F-dur");
    dur.group.as_mut().expect("group").peers = peers.clone();
    js.process_consumer_assignment(dur);
    let mut eph = ca(GLOBAL_ACCOUNT, "A", "eph", "C-R1F-eph");
    if let Some(cfg) = eph.config.as_mut() {
        cfg.durable.clear();
    }
    eph.group.as_mut().expect("group").peers = vec![keep.clone()];
    js.process_consumer_assignment(eph);

    js.js_clustered_stream_update_request(&client(&c), GLOBAL_ACCOUNT, "$JS.API.STREAM.UPDATE.A", "", b"{}", &cfg("A", &["a"], 1), &[]);
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("cc");
    let new_peers = cc.inflight_streams[GLOBAL_ACCOUNT]["A"].sa.group.as_ref().expect("group").peers.clone();
    assert_eq!(new_peers, vec![keep.clone()]);
    let cons = &cc.inflight_consumers[GLOBAL_ACCOUNT]["A"];
    assert_eq!(cons.keys().collect::<Vec<_>>(), vec!["dur"], "only the durable is remapped");
    let g = cons["dur"].ca.group.as_ref().expect("group");
    assert_eq!(g.peers, new_peers);
    assert!(g.name.starts_with("C-R1F-"), "a consumer going to one peer is renamed: {}", g.name);
}

#[test]
fn a_move_adds_the_new_peers_after_the_ones_that_go() {
    let mut c = cluster("a_move_adds_the_new_peers_after_the_ones_that_go");
    let sa = create(&mut c, "A", &["a"], 1);
    let old = sa.group.as_ref().expect("group").peers[0].clone();
    let l = c.leader().expect("meta leader");
    // Only the other servers carry the tag the new placement asks for.
    for i in 0..3 {
        let id = c.core(i).node.clone();
        let tags = if id == old { vec![] } else { vec!["x".to_string()] };
        c.core(l).node_to_info.borrow_mut().get_mut(&id).expect("known").tags = tags;
    }
    let mut moved = cfg("A", &["a"], 1);
    moved.extra.insert("placement".into(), serde_json::json!({"tags": ["x"]}));
    c.js(l).js_clustered_stream_update_request(&client(&c), GLOBAL_ACCOUNT, "$JS.API.STREAM.UPDATE.A", "", b"{}", &moved, &[]);
    let g = inflight(&c, "A").expect("in flight").group.expect("group");
    assert_eq!(g.peers.len(), 2, "the old peer, then the new one: {:?}", g.peers);
    assert_eq!(g.peers[0], old);
    assert_ne!(g.peers[1], old);
    assert_eq!(g.preferred, old, "an R1 moving prefers its first peer");
    assert_eq!(g.name, sa.group.as_ref().expect("group").name, "a move keeps the group name");

    // Another move while two peers serve one replica is refused.
    let v = update(&mut c, &cfg("A", &["a"], 1), std::slice::from_ref(&g.peers[1])).expect("an answer");
    assert_eq!(v["error"]["err_code"], 10124, "{v}");
    assert!(v["error"]["description"].as_str().is_some_and(|d| d.starts_with("stream move already in progress: ")), "{v}");
}

#[test]
fn copy_stream_metadata_keeps_only_the_required_level() {
    let mut prev = cfg("A", &["a"], 1);
    prev.metadata = Some([(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), "1".to_string())].into());
    let mut cfg1 = cfg("A", &["a"], 1);
    cfg1.metadata = Some([(JS_SERVER_VERSION_METADATA_KEY.to_string(), "x".to_string()), ("k".to_string(), "v".to_string())].into());
    copy_stream_metadata(&mut cfg1, Some(&prev));
    let md = cfg1.metadata.clone().expect("metadata");
    assert_eq!(md.len(), 2);
    assert_eq!(md[JS_REQUIRED_LEVEL_METADATA_KEY], "1");
    assert_eq!(md["k"], "v");
    let mut cfg2 = cfg("A", &["a"], 1);
    cfg2.metadata = Some([(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), "2".to_string())].into());
    copy_stream_metadata(&mut cfg2, None);
    assert_eq!(cfg2.metadata, None, "emptied metadata is nil");
}
