//! Stream tests of `server/jetstream_cluster_2_test.go` at 8188ea93a on the
//! simulated cluster (same stand-ins as `jetstream_cluster_1.rs`), and the
//! message-id dedupe of a clustered stream: the leader drops a known
//! `Nats-Msg-Id` before proposing, and every replica records the ids it
//! applies, so a new leader dedupes too.

use std::time::Duration;

use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT};

use super::helpers::*;

/// `js.PublishMsg` with a `Nats-Msg-Id` header: the PubAck as JSON.
fn send_msg_id(c: &mut JsCluster, cl: usize, subject: &str, id: &str, data: &[u8]) -> Result<serde_json::Value, String> {
    let inbox = format!("_INBOX.msgid.{id}.{}", c.world.now.get());
    c.subscribe(cl, &inbox);
    c.clients[cl].msgs.clear();
    let hdr = format!("NATS/1.0\r\nNats-Msg-Id: {id}\r\n\r\n");
    if !c.publish(cl, subject, &inbox, hdr.as_bytes(), data) {
        return Err("not connected".into());
    }
    c.run_until(Duration::from_secs(2), |c| c.clients[cl].msgs.iter().any(|m| m.subject == inbox));
    let pos = c.clients[cl].msgs.iter().position(|m| m.subject == inbox).ok_or("no PubAck")?;
    let m = c.clients[cl].msgs.remove(pos).ok_or("no PubAck")?;
    serde_json::from_slice(&m.data).map_err(|e| e.to_string())
}

fn is_duplicate(pa: &serde_json::Value) -> bool {
    pa["duplicate"].as_bool() == Some(true)
}

#[test]
fn test_jet_stream_cluster_msg_id_duplicate_bug() {
    let mut c = stream_cluster("MSL", 3, js_test_seed("TestJetStreamClusterMsgIdDuplicateBug"));
    let meta = c.wait_on_leader().expect("meta leader");
    // Replicas: 2.
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1]);
    add_stream(&mut c, &sa).expect("AddStream");
    let cl = c.connect(2, GLOBAL_ACCOUNT);

    let pa = send_msg_id(&mut c, cl, "foo", "1", b"HELLO WORLD").expect("first publish");
    assert!(pa.get("error").is_none() && !is_duplicate(&pa), "Unexpected error: {pa}");
    // This should fail with duplicate detected.
    let pa = send_msg_id(&mut c, cl, "foo", "1", b"HELLO WORLD").expect("a PubAck");
    assert!(is_duplicate(&pa), "Expected duplicate but got none: {pa}");
    // This should be fine.
    let pa = send_msg_id(&mut c, cl, "foo", "2", b"HELLO WORLD").expect("third publish");
    assert!(pa.get("error").is_none() && !is_duplicate(&pa), "Unexpected error: {pa}");
}

#[test]
fn duplicates_are_not_replicated_and_every_replica_records_the_ids() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("duplicates_are_not_replicated_and_every_replica_records_the_ids"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("AddStream");
    let cl = c.connect(0, GLOBAL_ACCOUNT);
    for i in 0..10 {
        let pa = send_msg_id(&mut c, cl, "foo", &i.to_string(), b"OK").expect("publish");
        assert_eq!(pa["seq"].as_u64(), Some(i + 1), "publish {i}: {pa}");
    }
    let pa = send_msg_id(&mut c, cl, "foo", "8", b"OK").expect("a PubAck");
    assert!(is_duplicate(&pa), "Expected msg to be a duplicate: {pa}");
    assert_eq!(pa["seq"].as_u64(), Some(9), "the original's sequence: {pa}");
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(2)).expect("replicas equal");
    assert_eq!((st.msgs, st.last_seq), (10, 10), "the duplicate was not stored: {st:?}");
    for i in 0..3 {
        let h = hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted");
        let cs = h.cs.borrow();
        assert_eq!(cs.clfs, 0, "server {i}: a duplicate dropped before proposing costs no sequence");
        assert_eq!(cs.dedupe.len(), 10, "server {i}: every applied id is recorded");
        let now = c.srv(i).unix_nanos();
        assert_eq!(cs.dedupe.check_msg_id("8", now).map(|e| e.seq), Some(9), "server {i}: id 8 at seq 9");
    }

    // Leader takeover: the new leader knows the ids from its own apply.
    let old = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("leader");
    c.kill_server(old);
    let ok = c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|l| l != old));
    assert!(ok, "a new stream leader");
    let cl = c.connect((old + 1) % 3, GLOBAL_ACCOUNT);
    let pa = send_msg_id(&mut c, cl, "foo", "8", b"OK").expect("a PubAck");
    assert!(is_duplicate(&pa), "Make sure this gets rejected: {pa}");
    let pa = send_msg_id(&mut c, cl, "foo", "10", b"OK").expect("publish");
    assert_eq!(pa["seq"].as_u64(), Some(11), "a new id is stored: {pa}");
}
