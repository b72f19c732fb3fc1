//! Stream tests of `server/jetstream_cluster_1_test.go` at 8188ea93a on the
//! simulated cluster. The client API (`js.AddStream`, `js.PurgeStream`,
//! `js.DeleteMsg`, `js.StreamInfo`) is not ported: streams are added by
//! proposing their assignment to the meta leader, purges and deletes are
//! proposed by the stream leader as its API handler would, and stream info
//! is the replicas' store state. Publishes go over the simulated bus and
//! wait for the leader's PubAck, as `js.Publish` does.

use std::time::Duration;

use ported::jetstream_cluster::stream_events::{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE, JS_STREAM_LEADER_ELECTED_ADVISORY_TYPE};
use ported::jetstream_cluster::stream_ops::PurgeRequest;
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};

use super::helpers::*;

fn streams_of(c: &JsCluster, i: usize) -> std::rc::Rc<ported::jetstream_cluster::streams::JetStreamStreams> {
    c.servers[i].streams.clone().expect("stream layer")
}

#[test]
fn test_jet_stream_cluster_stream_purge() {
    let mut c = stream_cluster("R5S", 5, js_test_seed("TestJetStreamClusterStreamPurge"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo", "bar"], &[0, 2, 4]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(1, GLOBAL_ACCOUNT);
    let (msg, to_send) = (b"Hello JS Clustering", 100u64);
    for i in 0..to_send {
        assert_eq!(publish(&mut c, cl, "foo", msg), Ok(i + 1), "publish {i}");
    }
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 2, 4], Duration::from_secs(5)).expect("replicas agree");
    assert_eq!(st.msgs, to_send, "bad state: {st:?}");

    // Now purge the stream.
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("stream leader");
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    assert!(streams_of(&c, l).propose_purge(&h, None, ""), "purge proposed");
    c.run_until(Duration::from_secs(5), |c| replica_state(c, l, GLOBAL_ACCOUNT, "TEST").is_some_and(|s| s.msgs == 0));
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 2, 4], Duration::from_secs(5)).expect("replicas agree");
    assert!(st.msgs == 0 && st.first_seq == to_send + 1, "Expected no msgs, got: {st:?}");
}

#[test]
fn test_jet_stream_cluster_delete_msg() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("TestJetStreamClusterDeleteMsg"));
    let meta = c.wait_on_leader().expect("meta leader");
    // R=1 make sure delete works.
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["TEST"], &[1]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(0, GLOBAL_ACCOUNT);
    for i in 1..=10u64 {
        assert_eq!(publish(&mut c, cl, "TEST", format!("HELLO JSC-{i}").as_bytes()), Ok(i));
    }
    // An R1 stream deletes and purges in place (upstream's non-clustered path).
    let h = hosted(&c, 1, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    assert_eq!(h.cs.borrow_mut().remove_msg(1), Ok(true));
    assert_eq!(h.cs.borrow_mut().purge(None), Ok(9));
    let st = replica_state(&c, 1, GLOBAL_ACCOUNT, "TEST").expect("state");
    assert_eq!((st.msgs, st.first_seq), (0, 11));
}

#[test]
fn replicated_deletes_answer_the_requester_from_the_leader() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("replicated_deletes_answer_the_requester_from_the_leader"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo.>"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(0, GLOBAL_ACCOUNT);
    for i in 1..=5u64 {
        assert_eq!(publish(&mut c, cl, "foo.x", b"m"), Ok(i));
    }
    c.subscribe(cl, "_DEL.>");
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("leader");
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    let st = streams_of(&c, l);
    assert!(st.propose_delete(&h, 3, true, "_DEL.1"));
    assert!(st.propose_delete(&h, 3, true, "_DEL.2"));
    assert!(st.propose_purge(&h, Some(PurgeRequest { subject: "foo.x".into(), keep: 1, sequence: 0 }), "_DEL.3"));
    c.run_until(Duration::from_secs(5), |c| c.clients[cl].msgs.iter().filter(|m| m.subject.starts_with("_DEL.")).count() == 3);
    let got: Vec<(String, String)> =
        c.clients[cl].msgs.iter().filter(|m| m.subject.starts_with("_DEL.")).map(|m| (m.subject.clone(), String::from_utf8_lossy(&m.data).into_owned())).collect();
    assert_eq!(
        got,
        vec![
            ("_DEL.1".to_string(), r#"{"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","success":true}"#.to_string()),
            ("_DEL.2".to_string(), r#"{"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","error":{"code":400,"err_code":10043,"description":"sequence 3 not found"}}"#.to_string()),
            ("_DEL.3".to_string(), r#"{"type":"io.nats.jetstream.api.v1.stream_purge_response","success":true,"purged":3}"#.to_string()),
        ]
    );
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(5)).expect("agree");
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (1, 5, 5));
}

#[test]
fn leader_elected_advisories_go_to_the_account_and_to_sys() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("leader_elected_advisories_go_to_the_account_and_to_sys"));
    let subj = format!("{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE}.TEST");
    let user = c.connect(0, GLOBAL_ACCOUNT);
    c.subscribe(user, &subj);
    let sys = c.connect(1, SYSTEM_ACCOUNT);
    c.subscribe(sys, &subj);
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    c.run_until(Duration::from_secs(2), |c| !c.clients[user].msgs.is_empty() && !c.clients[sys].msgs.is_empty());
    let parse = |c: &JsCluster, cl: usize| -> serde_json::Value { serde_json::from_slice(&c.clients[cl].msgs.front().expect("an advisory").data).expect("json") };
    let (u, s) = (parse(&c, user), parse(&c, sys));
    let raw = |c: &JsCluster, cl: usize| c.clients[cl].msgs.front().expect("an advisory").data.clone();
    let (uk, sk) = (top_level_keys(&raw(&c, user)), top_level_keys(&raw(&c, sys)));
    // Go's field order; `account` only in the system copy, `domain` omitted.
    assert_eq!(uk, ["type", "id", "timestamp", "stream", "leader", "replicas"]);
    assert_eq!(sk, ["type", "id", "timestamp", "account", "stream", "leader", "replicas"]);
    assert_eq!(u["type"], JS_STREAM_LEADER_ELECTED_ADVISORY_TYPE);
    assert_eq!(s["account"], GLOBAL_ACCOUNT);
    assert_eq!(u["stream"], "TEST");
    assert_eq!(u["leader"], c.servers[l].cfg.name.as_str());
    let replicas = u["replicas"].as_array().expect("replicas");
    assert_eq!(replicas.len(), 3);
    for r in replicas {
        assert_eq!(r.as_object().expect("peer info").keys().filter(|k| ["name", "current", "active", "peer"].contains(&k.as_str())).count(), 4);
    }
    assert!(u["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[test]
fn test_jet_stream_cluster_stream_normal_catchup() {
    // The restarted replica catches up through raft, whose log is kept,
    // where upstream's uses the stream catch-up (batch 35).
    let mut c = stream_cluster("R3S", 3, js_test_seed("TestJetStreamClusterStreamNormalCatchup"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo", "bar"], &[0, 1, 2]);
    let sl = add_stream(&mut c, &sa).expect("stream added");
    // The client sits on a server that stays up (nats.go would reconnect).
    let cl = c.connect((sl + 1) % 3, GLOBAL_ACCOUNT);
    let to_send = 10u64;
    for i in 1..=to_send {
        publish(&mut c, cl, "foo", format!("HELLO JSC-{i}").as_bytes()).expect("Unexpected publish error");
    }
    c.shutdown_server(sl);
    assert!(c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some()), "waitOnStreamLeader");
    // Send 10 more while one replica offline.
    for i in to_send..=to_send * 2 {
        let mut r = publish(&mut c, cl, "foo", format!("HELLO JSC-{i}").as_bytes());
        for _ in 0..20 {
            if r.is_ok() {
                break;
            }
            c.run_for(Duration::from_millis(100));
            r = publish(&mut c, cl, "foo", format!("HELLO JSC-{i}").as_bytes());
        }
        r.expect("Unexpected publish error");
    }
    // Delete the first from the second batch.
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("stream leader");
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    c.subscribe(cl, "_DR.1");
    assert!(streams_of(&c, l).propose_delete(&h, to_send, false, "_DR.1"));
    assert!(c.run_until(Duration::from_secs(1), |c| c.clients[cl].msgs.iter().any(|m| m.subject == "_DR.1")), "a delete response");
    let resp = c.clients[cl].msgs.iter().find(|m| m.subject == "_DR.1").expect("response").clone();
    let v: serde_json::Value = serde_json::from_slice(&resp.data).expect("json");
    assert!(v["success"] == true && v.get("error").is_none(), "Got a bad response {v}");

    c.restart_server(sl);
    c.wait_on_leader().expect("checkClusterFormed");
    // waitOnStreamCurrent: the restarted replica has what the others have.
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(20)).expect("caught up");
    assert_eq!((st.msgs, st.last_seq, st.deleted.clone()), (2 * to_send, 2 * to_send + 1, vec![to_send]));
}

#[test]
fn a_new_leader_is_elected_and_keeps_every_acknowledged_message() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_new_leader_is_elected_and_keeps_every_acknowledged_message"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    let other = (0..3).find(|&i| i != l).expect("another server");
    let cl = c.connect(other, GLOBAL_ACCOUNT);
    for i in 1..=20u64 {
        assert_eq!(publish(&mut c, cl, "foo", b"x"), Ok(i));
    }
    c.kill_server(l);
    assert!(c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|n| n != l)), "a new stream leader");
    let mut seq = 20;
    let mut tries = 0;
    while seq < 30 && tries < 100 {
        tries += 1;
        if let Ok(s) = publish(&mut c, cl, "foo", b"y") {
            assert_eq!(s, seq + 1, "sequences continue");
            seq = s;
        }
    }
    assert_eq!(seq, 30);
    c.restart_server(l);
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(20)).expect("all agree");
    assert_eq!((st.msgs, st.last_seq), (30, 30));
}

#[test]
fn deleting_a_stream_removes_its_group_everywhere() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("deleting_a_stream_removes_its_group_everywhere"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let group = sa.group.as_ref().expect("group").name.clone();
    assert!((0..3).all(|i| c.core(i).raft_nodes().iter().any(|n| n.handle.group() == group)));
    delete_stream(&mut c, &sa).expect("deleted");
    let gone = |c: &JsCluster, i: usize| c.core(i).raft_nodes().iter().filter(|n| n.handle.group() == group).all(|n| n.handle.is_deleted());
    assert!(c.run_until(Duration::from_secs(5), |c| (0..3).all(|i| gone(c, i))), "group nodes deleted");
}

#[test]
fn a_server_moved_out_of_the_group_removes_its_replica() {
    use ported::jetstream_cluster::ops::encode_update_stream_assignment;
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_server_moved_out_of_the_group_removes_its_replica"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let group = sa.group.as_ref().expect("group").name.clone();
    // The meta leader moves the stream off S-3 (upstream: a placement change).
    let mut nsa = sa.clone();
    if let Some(g) = nsa.group.as_mut() {
        g.peers.truncate(2);
    }
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_update_stream_assignment(&nsa).expect("encodes")).expect("proposed");
    assert!(c.run_until(Duration::from_secs(5), |c| hosted(c, 2, GLOBAL_ACCOUNT, "TEST").is_none()), "S-3 removed its replica");
    assert!(c.core(2).raft_nodes().iter().filter(|n| n.handle.group() == group).all(|n| n.handle.is_deleted()), "and deleted its node");
    assert!(hosted(&c, 0, GLOBAL_ACCOUNT, "TEST").is_some() && hosted(&c, 1, GLOBAL_ACCOUNT, "TEST").is_some());
}

#[test]
fn losing_quorum_sends_the_quorum_lost_advisory() {
    use ported::jetstream_cluster::stream_events::{JS_ADVISORY_STREAM_QUORUM_LOST_PRE, JS_STREAM_QUORUM_LOST_ADVISORY_TYPE};
    let mut c = stream_cluster("R3S", 3, js_test_seed("losing_quorum_sends_the_quorum_lost_advisory"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    let subj = format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.TEST");
    let sys = c.connect(l, SYSTEM_ACCOUNT);
    c.subscribe(sys, &subj);
    // Past upstream's 5s grace for a new node, the two followers go away.
    c.run_for(Duration::from_secs(6));
    for i in (0..3).filter(|&i| i != l) {
        c.kill_server(i);
    }
    assert!(c.run_until(Duration::from_secs(30), |c| !c.clients[sys].msgs.is_empty()), "an advisory");
    let m = c.clients[sys].msgs.front().expect("advisory").clone();
    assert_eq!(top_level_keys(&m.data), ["type", "id", "timestamp", "account", "stream", "replicas"]);
    let v: serde_json::Value = serde_json::from_slice(&m.data).expect("json");
    assert_eq!(v["type"], JS_STREAM_QUORUM_LOST_ADVISORY_TYPE);
    assert_eq!(v["stream"], "TEST");
    assert!(hosted(&c, l, GLOBAL_ACCOUNT, "TEST").is_some_and(|h| !h.is_leader.get()), "the leader stepped down");
}

#[test]
fn stream_current_leader_and_stepdown_on_the_server_api() {
    let mut c = stream_cluster("R5S", 5, js_test_seed("stream_current_leader_and_stepdown_on_the_server_api"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    assert!(c.run_until(Duration::from_secs(5), |c| (0..3).all(|i| c.srv(i).jet_stream_is_stream_current(GLOBAL_ACCOUNT, "TEST"))), "members current");
    // Not a member: the assignment is known but the stream does not run here.
    assert!(!c.srv(3).jet_stream_is_stream_current(GLOBAL_ACCOUNT, "TEST"));
    assert!(!c.srv(0).jet_stream_is_stream_current(GLOBAL_ACCOUNT, "NOPE"));
    // The node the stream layer created is on the meta layer's assignment.
    assert!(c.srv(l).jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "TEST"));
    assert_eq!((0..3).filter(|&i| c.srv(i).jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "TEST")).count(), 1);
    let err = c.srv(3).jet_stream_stepdown_stream(GLOBAL_ACCOUNT, "TEST").expect_err("not running here");
    assert_eq!((err.code, err.err_code, err.description.as_str()), (404, 10059, "stream not found"));
    c.srv(l).jet_stream_stepdown_stream(GLOBAL_ACCOUNT, "TEST").expect("stepdown");
    assert!(c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|n| n != l)), "another leader");
}

#[test]
fn test_jet_stream_cluster_meta_recovery_add_and_update_stream() {
    use ported::jetstream_cluster::node::{Entry, EntryType};
    use ported::jetstream_cluster::ops::{encode_add_stream_assignment, encode_update_stream_assignment};
    use ported::jetstream_cluster::assignments::{ClientInfo, StreamAssignment};
    use ported::jetstream_cluster::config::StreamConfig;
    use ported::jetstream_cluster::RecoveryUpdates;
    let mut c = stream_cluster("R3S", 3, js_test_seed("TestJetStreamClusterMetaRecoveryAddAndUpdateStream"));
    let meta = c.wait_on_leader().expect("meta leader");
    let js = c.js(meta).clone();
    let ci = ClientInfo { account: GLOBAL_ACCOUNT.into(), cluster: "R3S".into(), ..Default::default() };
    let mut cfg = StreamConfig { name: "TEST".into(), replicas: 3, ..Default::default() };
    cfg.extra.insert("storage".into(), serde_json::json!("file"));
    let rg = js.create_group_for_stream(&ci, &cfg).expect("createGroupForStream");
    let mut sa = StreamAssignment { client: Some(ci), config: Some(cfg), group: Some(rg), ..Default::default() };
    sa.config_json = serde_json::value::to_raw_value(&sa.config).expect("a config encodes");

    // Need to be recovering so that we accumulate recoveryUpdates.
    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();

    // We create a new stream, and we'll update it shortly after.
    let entries = vec![Entry::new(EntryType::Normal, encode_add_stream_assignment(&sa).expect("encode"))];
    let (_, _, err) = js.apply_meta_entries(&entries, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 1);
    assert_eq!(ru.update_streams.len(), 0);
    assert_eq!(ru.remove_streams.len(), 0);

    // Now update the stream. The recovery updates should contain both the
    // add and the update; with only the update the stream would not be
    // created below.
    if let Some(cfg) = sa.config.as_mut() {
        cfg.extra.insert("subjects".into(), serde_json::json!(["foo"]));
    }
    sa.config_json = serde_json::value::to_raw_value(&sa.config).expect("a config encodes");
    let entries = vec![Entry::new(EntryType::Normal, encode_update_stream_assignment(&sa).expect("encode"))];
    let (_, _, err) = js.apply_meta_entries(&entries, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 1);
    assert_eq!(ru.update_streams.len(), 1);
    assert_eq!(ru.remove_streams.len(), 0);

    let subjects = |js: &ported::jetstream_cluster::js::JetStreamCtx| -> Option<usize> {
        let st = js.st.borrow();
        let sa = st.stream_assignment(GLOBAL_ACCOUNT, "TEST")?;
        Some(sa.config.as_ref()?.extra.get("subjects").and_then(|s| s.as_array()).map_or(0, |a| a.len()))
    };
    // Check the stream is properly added.
    for sa in ru.add_streams.values() {
        js.process_stream_assignment(sa.clone());
    }
    assert_eq!(subjects(&js), Some(0), "require_NotNil and no subjects");

    // Check the stream is properly updated.
    for sa in ru.update_streams.values() {
        js.process_update_stream_assignment(sa.clone());
    }
    assert_eq!(subjects(&js), Some(1), "require_NotNil and one subject");
}

#[test]
fn test_jet_stream_cluster_stream_upscale_peers_after_downscale() {
    let mut c = stream_cluster("R5S", 5, js_test_seed("TestJetStreamClusterStreamUpscalePeersAfterDownscale"));
    let check_peer_set = |c: &mut JsCluster| {
        c.check_for(Duration::from_secs(5), Duration::from_millis(500), |c| {
            for i in 0..c.servers.len() {
                let h = hosted(c, i, GLOBAL_ACCOUNT, "TEST").ok_or_else(|| format!("stream not found on S-{}", i + 1))?;
                let n = ported::jetstream_cluster::stream::Stream::raft_node(Some(&h.mset)).ok_or("no raft node")?;
                let peers = n.peers();
                if peers.len() != 5 {
                    return Err(format!("expected 5 peers, got {}", peers.len()));
                }
            }
            Ok(())
        })
    };
    c.wait_on_leader().expect("meta leader");
    let rs = (c.world.rng.borrow_mut().next_u64() % 5) as usize;
    let cl = c.connect(rs, GLOBAL_ACCOUNT);
    // js.AddStream and js.UpdateStream through the meta leader's ported
    // create and update requests (see `stream_request`).
    stream_request(&mut c, cl, &nats_stream_config("TEST", &["foo"], 5), false).expect("AddStream");
    check_peer_set(&mut c).expect("5 peers");

    stream_request(&mut c, cl, &nats_stream_config("TEST", &["foo"], 3), true).expect("UpdateStream to R3");
    stream_request(&mut c, cl, &nats_stream_config("TEST", &["foo"], 5), true).expect("UpdateStream to R5");
    check_peer_set(&mut c).expect("5 peers after the upscale");
}

#[test]
fn test_jet_stream_cluster_dont_revive_removed_stream() {
    use ported::jetstream_cluster::ops::encode_update_stream_assignment;
    let mut c = stream_cluster("R3S", 3, js_test_seed("TestJetStreamClusterDontReviveRemovedStream"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");

    // Wait for stream to be assigned on all servers.
    c.check_for(Duration::from_secs(2), Duration::from_millis(200), |c| {
        for i in 0..3 {
            if !c.srv(i).jet_stream_is_stream_assigned(GLOBAL_ACCOUNT, "TEST") {
                return Err(format!("stream not yet assigned on {}", c.servers[i].cfg.name));
            }
        }
        Ok(())
    })
    .expect("assigned everywhere");

    let sl = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("stream leader");
    let rs = (0..3).find(|&i| i != sl).expect("a non-leader");
    let mset = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("lookupStream");

    // Simulate the stream being scaled down, quickly after it was scaled up
    // (the meta leader keeps the stream leader as the one peer).
    let mut nsa = reconfigured(&sa, |cfg| cfg.replicas = 1);
    if let Some(g) = nsa.group.as_mut() {
        g.peers = vec![c.core(sl).node.clone()];
    }
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_update_stream_assignment(&nsa).expect("encodes")).expect("proposed");

    // Wait for the stream to not be assigned on the servers (except the leader).
    c.check_for(Duration::from_secs(2), Duration::from_millis(200), |c| {
        for i in (0..3).filter(|&i| i != sl) {
            if c.srv(i).jet_stream_is_stream_assigned(GLOBAL_ACCOUNT, "TEST") {
                return Err(format!("stream still assigned on {}", c.servers[i].cfg.name));
            }
        }
        if !mset.cs.borrow().closed {
            return Err("stream not closed yet".into());
        }
        Ok(())
    })
    .expect("removed from the others");

    // Simulating the stream was catching up and is resetting after timing out.
    assert!(streams_of(&c, rs).reset_clustered_state(c.js(rs), &mset, None));

    // Allow for some time here: resetClusteredState might restart the stream.
    // Confirm the stream is not revived.
    c.run_for(Duration::from_millis(200));
    assert!(hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").is_none(), "ErrJetStreamStreamNotFound");
}

#[test]
fn resetting_a_replica_recreates_it_with_a_new_node() {
    use ported::jetstream_cluster::stream::Stream;
    use ported::jetstream_cluster::streams::ResetCause;
    let mut c = stream_cluster("R3S", 3, js_test_seed("resetting_a_replica_recreates_it_with_a_new_node"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let sl = add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(sl, GLOBAL_ACCOUNT);
    for i in 1..=5u64 {
        assert_eq!(publish(&mut c, cl, "foo", b"m"), Ok(i));
    }
    wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(5)).expect("agree");
    let causes = [(ResetCause::Other, true, true), (ResetCause::CatchupAbortedNoLeader, false, true), (ResetCause::FirstSequenceMismatch, true, false)];
    for (round, (cause, deleted, resetting)) in causes.into_iter().enumerate() {
        let rs = (0..3).find(|&i| stream_leader(&c, GLOBAL_ACCOUNT, "TEST") != Some(i)).expect("a follower");
        let old = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("hosted");
        let old_node = Stream::raft_node(Some(&old.mset)).expect("node");
        assert!(streams_of(&c, rs).reset_clustered_state(c.js(rs), &old, Some(cause)), "{cause:?}: the monitor stops");
        assert!(old.cs.borrow().closed, "{cause:?}: the old stream stopped");
        assert_eq!(old_node.is_deleted(), deleted, "{cause:?}: node deleted or only stopped");
        let new = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("recreated");
        assert!(!std::rc::Rc::ptr_eq(&old, &new), "{cause:?}: a new stream");
        assert_eq!(new.mset.assignment().map(|a| a.resetting), Some(resetting), "{cause:?}: resetting flag");
        if deleted {
            let n = Stream::raft_node(Some(&new.mset)).expect("a new node");
            assert!(!n.same_node(&old_node), "{cause:?}: a new node");
        }
        // Once closed, the old stream is not reset again.
        assert!(streams_of(&c, rs).reset_clustered_state(c.js(rs), &old, Some(cause)));
        assert!(hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").is_some_and(|h| std::rc::Rc::ptr_eq(&h, &new)), "{cause:?}: not reset twice");
        assert_eq!(publish(&mut c, cl, "foo", b"m"), Ok(6 + round as u64));
        let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(20)).expect("caught up");
        assert_eq!(st.msgs, 6 + round as u64, "{cause:?}");
    }
}
