//! The JetStream API answers of `processClusterCreateStream`,
//! `processStreamLeaderChange` and `processClusterDeleteStream` on the
//! simulated cluster: who answers, on which subject, with which JSON (Go's
//! key order), and the store clean-up of a delete. The assignments are
//! proposed by hand, carrying the request's subject and reply as the meta
//! leader's `jsClusteredStreamRequest` (`stream_requests.rs`) sets them, so
//! that each test controls the peers.

use std::time::Duration;

use ported::jetstream_cluster::assignments::StreamAssignment;
use ported::jetstream_cluster::handlers::STREAM_ASSIGNMENT_SUBJ;
use ported::jetstream_cluster::ops::encode_add_stream_assignment;
use ported::jetstream_cluster::stream_api::{JS_ADVISORY_STREAM_CREATED_PRE, JS_ADVISORY_STREAM_DELETED_PRE};
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};

use super::helpers::*;

const CREATE_REPLY: &str = "_INBOX.create";
const DELETE_REPLY: &str = "_INBOX.delete";

fn with_request(mut sa: StreamAssignment, reply: &str) -> StreamAssignment {
    sa.subject = format!("$JS.API.STREAM.CREATE.{}", sa.name());
    sa.reply = reply.into();
    sa
}

fn replies(c: &JsCluster, cl: usize, subject: &str) -> Vec<serde_json::Value> {
    c.clients[cl].msgs.iter().filter(|m| m.subject == subject).map(|m| serde_json::from_slice(&m.data).expect("a JSON answer")).collect()
}

fn raw_replies(c: &JsCluster, cl: usize, subject: &str) -> Vec<Vec<u8>> {
    c.clients[cl].msgs.iter().filter(|m| m.subject == subject).map(|m| m.data.clone()).collect()
}

fn group_dir(c: &JsCluster, i: usize, sa: &StreamAssignment) -> String {
    let g = sa.group.as_ref().expect("a group");
    format!("{}/{SYSTEM_ACCOUNT}/_js_/{}", c.servers[i].cfg.opts.store_dir, g.name)
}

#[test]
fn the_new_leader_answers_the_create_request_once_with_the_stream_info() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("the_new_leader_answers_the_create_request_once_with_the_stream_info"));
    let user = c.connect(0, GLOBAL_ACCOUNT);
    c.subscribe(user, "_INBOX.>");
    c.subscribe(user, &format!("{JS_ADVISORY_STREAM_CREATED_PRE}.>"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = with_request(assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]), CREATE_REPLY);
    let l = add_stream(&mut c, &sa).expect("stream added");
    c.run_until(Duration::from_secs(2), |c| !replies(c, user, CREATE_REPLY).is_empty());
    // A later leader change does not answer again.
    c.srv(l).jet_stream_stepdown_stream(GLOBAL_ACCOUNT, "TEST").expect("step down");
    c.run_until(Duration::from_secs(5), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|n| n != l));
    c.run_for(Duration::from_secs(1));

    let got = replies(&c, user, CREATE_REPLY);
    assert_eq!(got.len(), 1, "one answer: {got:?}");
    let raw = raw_replies(&c, user, CREATE_REPLY);
    assert_eq!(top_level_keys(&raw[0]), ["type", "config", "created", "state", "cluster", "ts", "did_create"]);
    let r = &got[0];
    assert_eq!(r["type"], "io.nats.jetstream.api.v1.stream_create_response");
    assert_eq!(r["did_create"], true);
    assert_eq!(r["config"]["name"], "TEST");
    assert_eq!(r["config"]["metadata"]["_nats.ver"], "2.14.0-dev");
    assert_eq!(r["config"]["metadata"]["_nats.level"], "4");
    // StreamConfig's field order: name before subjects before storage before num_replicas.
    let text = String::from_utf8_lossy(&raw[0]).into_owned();
    let pos = |k: &str| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k} in {text}"));
    assert!(pos("name") < pos("subjects") && pos("subjects") < pos("storage") && pos("storage") < pos("num_replicas") && pos("num_replicas") < pos("metadata"), "{text}");
    assert_eq!(r["state"]["messages"], 0);
    assert_eq!(r["state"]["first_ts"], "0001-01-01T00:00:00Z");
    assert_eq!(r["state"]["consumer_count"], 0);
    assert_eq!(r["cluster"]["name"], "R3S");
    assert_eq!(r["cluster"]["leader"], c.servers[l].cfg.name.as_str());
    assert_eq!(r["cluster"]["raft_group"], sa.group.as_ref().expect("group").name.as_str());
    let reps = r["cluster"]["replicas"].as_array().expect("replicas");
    assert_eq!(reps.len(), 2, "the other two members: {reps:?}");
    assert!(reps.windows(2).all(|w| w[0]["name"].as_str() <= w[1]["name"].as_str()), "sorted by name");
    assert!(reps.iter().all(|p| p["name"] != c.servers[l].cfg.name.as_str()));
    // The leader of a replicated stream also says it was created.
    let adv: Vec<_> = c.clients[user].msgs.iter().filter(|m| m.subject == format!("{JS_ADVISORY_STREAM_CREATED_PRE}.TEST")).collect();
    assert_eq!(adv.len(), 1);
    assert_eq!(top_level_keys(&adv[0].data), ["type", "id", "timestamp", "stream", "action"]);
    let a: serde_json::Value = serde_json::from_slice(&adv[0].data).expect("json");
    assert_eq!((a["type"].as_str(), a["action"].as_str()), (Some("io.nats.jetstream.advisory.v1.stream_action"), Some("create")));
}

#[test]
fn an_r1_stream_answers_at_once_without_a_create_advisory() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("an_r1_stream_answers_at_once_without_a_create_advisory"));
    let user = c.connect(1, GLOBAL_ACCOUNT);
    c.subscribe(user, "_INBOX.>");
    c.subscribe(user, "$JS.EVENT.ADVISORY.>");
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = with_request(assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["r1"], &[2]), CREATE_REPLY);
    add_stream(&mut c, &sa).expect("stream added");
    c.run_until(Duration::from_secs(2), |c| !replies(c, user, CREATE_REPLY).is_empty());
    let got = replies(&c, user, CREATE_REPLY);
    assert_eq!(got.len(), 1);
    // No node: clusterInfo names this server as leader and nothing else.
    assert_eq!(got[0]["cluster"], serde_json::json!({"name": "R3S", "leader": c.servers[2].cfg.name}));
    assert_eq!(got[0]["did_create"], true);
    assert!(c.clients[user].msgs.iter().all(|m| !m.subject.starts_with("$JS.EVENT.ADVISORY.")), "no advisories for R1");
}

#[test]
fn a_repeated_assignment_is_answered_by_every_member_running_it() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_repeated_assignment_is_answered_by_every_member_running_it"));
    let user = c.connect(0, GLOBAL_ACCOUNT);
    c.subscribe(user, "_INBOX.>");
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    c.run_for(Duration::from_secs(1));
    // The same config and group again, as a retried create would be.
    let again = with_request(sa.clone(), "_INBOX.again");
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_add_stream_assignment(&again).expect("encodes")).expect("proposed");
    c.run_until(Duration::from_secs(3), |c| replies(c, user, "_INBOX.again").len() == 3);
    c.run_for(Duration::from_secs(1));
    let got = replies(&c, user, "_INBOX.again");
    assert_eq!(got.len(), 3, "each member that runs it answers: {got:?}");
    for r in &got {
        assert!(r.get("did_create").is_none(), "not created again: {r}");
        assert_eq!(r["config"]["name"], "TEST");
    }
}

#[test]
fn only_the_leader_answers_a_delete_and_the_group_directory_goes() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("only_the_leader_answers_a_delete_and_the_group_directory_goes"));
    let user = c.connect(0, GLOBAL_ACCOUNT);
    c.subscribe(user, "_INBOX.>");
    c.subscribe(user, &format!("{JS_ADVISORY_STREAM_DELETED_PRE}.>"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(1, GLOBAL_ACCOUNT);
    assert_eq!(publish(&mut c, cl, "foo", b"x"), Ok(1));
    for i in 0..3 {
        assert!(!c.world.disk.borrow().paths_under(&group_dir(&c, i, &sa)).is_empty(), "server {i} has the group");
    }
    let mut del = sa.clone();
    del.subject = "$JS.API.STREAM.DELETE.TEST".into();
    del.reply = DELETE_REPLY.into();
    delete_stream(&mut c, &del).expect("deleted");
    c.run_for(Duration::from_secs(1));
    let raw = raw_replies(&c, user, DELETE_REPLY);
    assert_eq!(raw.len(), 1, "one answer");
    assert_eq!(String::from_utf8_lossy(&raw[0]), r#"{"type":"io.nats.jetstream.api.v1.stream_delete_response","success":true}"#);
    for i in 0..3 {
        assert_eq!(c.world.disk.borrow().paths_under(&group_dir(&c, i, &sa)), Vec::<String>::new(), "server {i} removed the group");
    }
    let adv: Vec<_> = c.clients[user].msgs.iter().filter(|m| m.subject == format!("{JS_ADVISORY_STREAM_DELETED_PRE}.TEST")).collect();
    assert_eq!(adv.len(), 1, "the leader's delete advisory");
    let a: serde_json::Value = serde_json::from_slice(&adv[0].data).expect("json");
    assert_eq!(a["action"], "delete");
}

#[test]
fn the_meta_leader_answers_a_delete_when_every_peer_is_offline() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("the_meta_leader_answers_a_delete_when_every_peer_is_offline"));
    let meta = c.wait_on_leader().expect("meta leader");
    let peer = (meta + 1) % 3;
    let user = c.connect(meta, GLOBAL_ACCOUNT);
    c.subscribe(user, "_INBOX.>");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["r1"], &[peer]);
    add_stream(&mut c, &sa).expect("stream added");
    let peer_id = c.core(peer).node.clone();
    c.shutdown_server(peer);
    c.run_until(Duration::from_secs(2), |c| c.srv(meta).node_info(&peer_id).is_some_and(|si| si.offline));
    assert!(c.srv(meta).all_peers_offline(sa.group.as_ref()), "the only peer is offline");
    let mut del = sa.clone();
    del.reply = DELETE_REPLY.into();
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &ported::jetstream_cluster::ops::encode_delete_stream_assignment(&del).expect("encodes")).expect("proposed");
    c.run_until(Duration::from_secs(3), |c| !replies(c, user, DELETE_REPLY).is_empty());
    c.run_for(Duration::from_secs(1));
    let got = replies(&c, user, DELETE_REPLY);
    assert_eq!(got, vec![serde_json::json!({"type": "io.nats.jetstream.api.v1.stream_delete_response", "success": true})], "the meta leader alone answers");
}

#[test]
fn a_failed_create_reports_to_the_meta_leader_once() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_failed_create_reports_to_the_meta_leader_once"));
    let sys = c.connect(0, SYSTEM_ACCOUNT);
    c.subscribe(sys, STREAM_ASSIGNMENT_SUBJ);
    let meta = c.wait_on_leader().expect("meta leader");
    let peer = (meta + 1) % 3;
    let sa = with_request(assignment(&c, meta, GLOBAL_ACCOUNT, "BAD", &["bad"], &[peer]), CREATE_REPLY);
    // The member's stream store cannot be created (upstream: a store
    // failure in addStreamWithAssignment).
    c.servers[peer].streams.as_ref().expect("stream layer").fail_next_store_for_test();
    let entry = encode_add_stream_assignment(&sa).expect("encodes");
    c.propose(meta, &entry).expect("proposed");
    c.run_until(Duration::from_secs(3), |c| !replies(c, sys, STREAM_ASSIGNMENT_SUBJ).is_empty());
    c.run_for(Duration::from_secs(1));
    let raw = raw_replies(&c, sys, STREAM_ASSIGNMENT_SUBJ);
    assert_eq!(raw.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(&raw[0]),
        r#"{"account":"$G","stream":"BAD","create_response":{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":500,"err_code":10049,"description":"error creating store for stream"}}}"#
    );
    assert!(hosted(&c, peer, GLOBAL_ACCOUNT, "BAD").is_none());
    let err = c.streams(peer).get(GLOBAL_ACCOUNT).and_then(|a| a.get("BAD")).and_then(|sa| sa.err.clone());
    assert_eq!(err.as_deref(), Some("error creating store for stream"), "recorded on the assignment");
}

#[test]
fn an_update_is_answered_once_with_the_stream_info() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("an_update_is_answered_once_with_the_stream_info"));
    let meta = c.wait_on_leader().expect("meta leader");
    let cl = c.connect(meta, GLOBAL_ACCOUNT);
    let mut cfg = nats_stream_config("TEST", &["foo"], 1);
    let created = stream_request(&mut c, cl, &cfg, false).expect("AddStream");
    assert_eq!(created["type"], "io.nats.jetstream.api.v1.stream_create_response");
    assert_eq!(created["did_create"], true);

    // R1 -> R3: the promoted single replica answers before any election.
    cfg.replicas = 3;
    let reply = "_INBOX.update";
    c.subscribe(cl, reply);
    let ci = ported::jetstream_cluster::assignments::ClientInfo { account: GLOBAL_ACCOUNT.into(), cluster: c.name.clone(), ..Default::default() };
    let meta = c.wait_on_leader().expect("meta leader");
    c.js(meta).clone().js_clustered_stream_update_request(&ci, GLOBAL_ACCOUNT, "$JS.API.STREAM.UPDATE.TEST", reply, b"{}", &cfg, &[]);
    c.run_for(Duration::from_secs(3));
    let answers = replies(&c, cl, reply);
    assert_eq!(answers.len(), 1, "one answer: {answers:?}");
    let v = &answers[0];
    assert_eq!(v["type"], "io.nats.jetstream.api.v1.stream_update_response");
    assert!(v.get("did_create").is_none() && v.get("error").is_none(), "{v}");
    assert_eq!(v["config"]["num_replicas"], 3);
    assert_eq!(v["config"]["metadata"]["_nats.level"], "4", "dynamic metadata in the answer");
    assert!(v["cluster"]["raft_group"].as_str().is_some_and(|g| g.starts_with("S-R3F-")), "{v}");
    let keys = top_level_keys(&raw_replies(&c, cl, reply)[0]);
    assert_eq!(keys, ["type", "config", "created", "state", "cluster", "ts"], "Go's field order");
}
