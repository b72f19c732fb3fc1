//! Ports of tests from `server/jetstream_cluster_1_test.go` at 8188ea93a,
//! run on the simulated cluster (`ported::sim::js`).

use std::time::Duration;

use ported::jetstream_cluster::leader::{LeaderStepDownResponse, JS_API_LEADER_STEP_DOWN};
use ported::jetstream_cluster::node::{Entry, EntryType};
use ported::jetstream_cluster::ops::{
    encode_add_consumer_assignment, encode_add_consumer_assignment_compressed, encode_add_stream_assignment,
    encode_delete_consumer_assignment, encode_delete_stream_assignment,
};
use ported::jetstream_cluster::{ConsumerAssignment, RecoveryUpdates};
use ported::sim::js::{js_test_seed, JsCluster, SYSTEM_ACCOUNT};

use super::common::{consumer_assignment_with_config, stream_assignment, stream_config};

fn cluster(name: &str, n: usize, test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit(name, n, js_test_seed(test))
}

fn normal(buf: Vec<u8>) -> Entry {
    Entry::new(EntryType::Normal, buf)
}

#[test]
fn test_jet_stream_cluster_leader() {
    let mut c = cluster("JSC", 3, "TestJetStreamClusterLeader");

    // Kill our current leader and force an election.
    let l = c.leader().expect("a leader");
    c.shutdown_server(l);
    let r = c.wait_on_leader();
    assert!(r.is_ok(), "{r:?}");

    // Now killing our current leader should leave us leaderless.
    let l = c.leader().expect("a leader");
    c.shutdown_server(l);
    let r = c.expect_no_leader();
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn test_jet_stream_cluster_expand() {
    let mut c = cluster("JSC", 2, "TestJetStreamClusterExpand");

    c.add_in_new_server();
    let r = c.wait_on_peer_count(3);
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn test_jet_stream_cluster_peer_offline() {
    let mut c = cluster("R5S", 5, "TestJetStreamClusterPeerOffline");

    let ml = c.leader().expect("a leader");
    let rs = c.random_non_leader().expect("a non-leader");
    let rs_name = c.servers[rs].cfg.name.clone();

    let check_peer = |c: &mut JsCluster, ml: usize, should_be_offline: bool| {
        c.check_for(Duration::from_secs(5), Duration::from_millis(50), |c| {
            let found = c.srv(ml).jet_stream_cluster_peers().contains(&rs_name);
            if !should_be_offline && !found {
                return Err(format!("Server {rs_name:?} not in the peers list"));
            } else if should_be_offline && found {
                return Err(format!("Server {rs_name:?} should not be in the peers list"));
            }
            let ok = c.srv(ml).node_infos().into_iter().any(|(_, si)| si.name == rs_name && si.offline == should_be_offline);
            if !ok {
                return Err(if should_be_offline {
                    format!("Server {rs_name:?} should be marked as online")
                } else {
                    format!("Server {rs_name:?} is still marked as online")
                });
            }
            Ok(())
        })
    };

    // Shutdown the server and make sure that it is now showing as offline.
    c.shutdown_server(rs);
    check_peer(&mut c, ml, true).expect("offline after shutdown");

    // Now restart that server and check that is no longer offline.
    c.restart_server(rs);

    // Make sure that we have a leader (there can always be a re-election).
    c.wait_on_leader().expect("a leader");
    let ml = c.leader().expect("a leader");

    // Now check that rs is not offline.
    check_peer(&mut c, ml, false).expect("online after restart");
}

#[test]
fn test_jet_stream_cluster_leader_stepdown() {
    let mut c = cluster("JSC", 3, "TestJetStreamClusterLeaderStepdown");

    c.wait_on_leader().expect("a leader");
    let cl = c.leader().expect("a leader");
    // Now ask the system account to have the leader stepdown.
    let s = c.random_non_leader().expect("a non-leader");
    let nc = c.connect(s, SYSTEM_ACCOUNT);

    let resp = c.request(nc, JS_API_LEADER_STEP_DOWN, &[], Duration::from_secs(1)).expect("Error on stepdown request: timeout");
    let sdr: LeaderStepDownResponse = serde_json::from_slice(&resp.data).expect("a stepdown response");
    assert!(sdr.error.is_none() && sdr.success, "Unexpected error for leader stepdown: {:?}", sdr.error);

    c.wait_on_leader().expect("a leader");
    assert_ne!(Some(cl), c.leader(), "Expected a new metaleader, got same");
}

#[test]
fn test_jet_stream_cluster_meta_recovery_updates_deletes_consumers() {
    let c = cluster("R3S", 3, "TestJetStreamClusterMetaRecoveryUpdatesDeletesConsumers");

    let js = c.js(c.leader().expect("a leader")).clone();

    let create = vec![
        normal(encode_add_stream_assignment(&stream_assignment(stream_config("TEST", "file"))).expect("encode")),
        normal(encode_add_consumer_assignment(&consumer_assignment_with_config("TEST", "consumer")).expect("encode")),
    ];

    let delete = vec![normal(encode_delete_stream_assignment(&stream_assignment(stream_config("TEST", "file"))).expect("encode"))];

    // Need to be recovering so that we accumulate recoveryUpdates.
    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();

    // Push recovery entries that create the stream & consumer.
    let (_, _, err) = js.apply_meta_entries(&create, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.update_consumers.len(), 1);

    // Now push another recovery entry that deletes the stream. The
    // entry that creates the consumer should now be gone.
    let (_, _, err) = js.apply_meta_entries(&delete, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.remove_streams.len(), 1);
    assert_eq!(ru.update_consumers.len(), 0);
}

#[test]
fn test_jet_stream_cluster_meta_recovery_recreate_file_stream_as_memory() {
    let c = cluster("R3S", 3, "TestJetStreamClusterMetaRecoveryRecreateFileStreamAsMemory");

    let js = c.js(c.leader().expect("a leader")).clone();

    let create_file_stream = vec![normal(encode_add_stream_assignment(&stream_assignment(stream_config("TEST", "file"))).expect("encode"))];
    let delete_file_stream = vec![normal(encode_delete_stream_assignment(&stream_assignment(stream_config("TEST", "file"))).expect("encode"))];
    // Upstream builds this one with FileStorage too.
    let create_memory_stream = vec![normal(encode_add_stream_assignment(&stream_assignment(stream_config("TEST", "file"))).expect("encode"))];
    let create_consumer = vec![normal(encode_add_consumer_assignment(&consumer_assignment_with_config("TEST", "consumer")).expect("encode"))];

    // Need to be recovering so that we accumulate recoveryUpdates.
    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();

    // We created a file-based stream first, but deleted it shortly after.
    let (_, _, err) = js.apply_meta_entries(&create_file_stream, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 1);
    assert_eq!(ru.remove_streams.len(), 0);

    // Now push another recovery entry that deletes the stream.
    // The file-based stream should not have been created.
    let (_, _, err) = js.apply_meta_entries(&delete_file_stream, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 0);
    assert_eq!(ru.remove_streams.len(), 1);

    // Now stage a memory-based stream to be created.
    let (_, _, err) = js.apply_meta_entries(&create_memory_stream, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 1);
    assert_eq!(ru.remove_streams.len(), 1);
    assert_eq!(ru.update_consumers.len(), 0);

    // Also create a consumer on that memory-based stream.
    let (_, _, err) = js.apply_meta_entries(&create_consumer, Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.add_streams.len(), 1);
    assert_eq!(ru.remove_streams.len(), 1);
    assert_eq!(ru.update_consumers.len(), 1);
}

#[test]
fn test_jet_stream_cluster_meta_recovery_consumer_create_and_remove() {
    type Encoder = fn(&ConsumerAssignment) -> Result<Vec<u8>, ported::jetstream_cluster::ops::OpError>;
    let tests: [(&str, Encoder); 2] =
        [("simple", encode_add_consumer_assignment), ("compressed", encode_add_consumer_assignment_compressed)];
    for (title, encode_add) in tests {
        let c = cluster("R3S", 3, &format!("TestJetStreamClusterMetaRecoveryConsumerCreateAndRemove/{title}"));

        let js = c.js(c.leader().expect("a leader")).clone();

        let ca = ConsumerAssignment { stream: "TEST".into(), name: "consumer".into(), ..Default::default() };
        let create_consumer = vec![normal(encode_add(&ca).expect("encode"))];
        let delete_consumer = vec![normal(encode_delete_consumer_assignment(&ca).expect("encode"))];

        // Need to be recovering so that we accumulate recoveryUpdates.
        js.set_meta_recovering();
        let mut ru = RecoveryUpdates::new();
        let len_of = |m: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, ConsumerAssignment>>| m.get(":TEST").map_or(0, |c| c.len());

        // Creating the consumer should append to update consumers list.
        let (_, _, err) = js.apply_meta_entries(&create_consumer, Some(&mut ru));
        err.unwrap_or_else(|e| panic!("{title}: {e}"));
        assert_eq!(len_of(&ru.update_consumers), 1, "{title}");
        assert_eq!(ru.remove_consumers.len(), 0, "{title}");

        // Deleting the consumer should append to remove consumers list and remove from update list.
        let (_, _, err) = js.apply_meta_entries(&delete_consumer, Some(&mut ru));
        err.unwrap_or_else(|e| panic!("{title}: {e}"));
        assert_eq!(len_of(&ru.remove_consumers), 1, "{title}");
        assert_eq!(len_of(&ru.update_consumers), 0, "{title}");

        // When re-creating the consumer, add to update list.
        let (_, _, err) = js.apply_meta_entries(&create_consumer, Some(&mut ru));
        err.unwrap_or_else(|e| panic!("{title}: {e}"));
        assert_eq!(len_of(&ru.remove_consumers), 1, "{title}");
        assert_eq!(len_of(&ru.update_consumers), 1, "{title}");
    }
}
