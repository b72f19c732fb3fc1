//! Batch 32's stream checks on the simulated cluster: the stream health
//! check (`isStreamHealthy`), the orphan check (`getOrphans`,
//! `checkForOrphans`) and `JetStreamSnapshotStream`; the
//! `TestJetStreamClusterStreamHealthCheck*` tests of
//! `server/jetstream_cluster_1_test.go` at 8188ea93a, and the check's other
//! answers in Go's order. As in the other stream tests, streams are added by
//! proposing their assignment to the meta leader (`js.AddStream` is not
//! ported). The Go tests zero `sa.Created` in their helper; the stream check
//! does not read it, so the port leaves it.

use std::time::Duration;

use ported::jetstream_cluster::assignments::{StorageType, StreamAssignment, UnsupportedAssignment};
use ported::jetstream_cluster::health::StreamHealthError;
use ported::jetstream_cluster::node::NodeHandle;
use ported::jetstream_cluster::runtime::Orphans;
use ported::jetstream_cluster::StreamMap;
use ported::raft::{RaftError, RaftState};
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT};

use super::helpers::*;

/// Every server knows the assignment of `TEST` (Go: `waitForStreamAssignments`).
fn wait_for_stream_assignments(c: &mut JsCluster) {
    let ok = c.run_until(Duration::from_secs(5), |c| (0..c.servers.len()).all(|i| c.js(i).st.borrow().stream_assignment(GLOBAL_ACCOUNT, "TEST").is_some()));
    assert!(ok, "stream assignment not found on every server");
}

/// No server knows the assignment of `TEST` any more.
fn wait_for_no_stream_assignments(c: &mut JsCluster) {
    let ok = c.run_until(Duration::from_secs(5), |c| (0..c.servers.len()).all(|i| c.js(i).st.borrow().stream_assignment(GLOBAL_ACCOUNT, "TEST").is_none()));
    assert!(ok, "stream assignment still available");
}

/// Server `i`'s applied assignment of `TEST`, with its group's node.
fn stream_assignment(c: &JsCluster, i: usize) -> StreamAssignment {
    c.js(i).st.borrow().stream_assignment(GLOBAL_ACCOUNT, "TEST").cloned().expect("assignment")
}

fn group_node(sa: &StreamAssignment) -> NodeHandle {
    sa.group.as_ref().expect("sa.Group initialized").node.clone().expect("sa.Group.node initialized")
}

/// A member of `peers` that does not lead `TEST` (Go: `randomNonStreamLeader`).
fn non_stream_leader(c: &JsCluster, peers: &[usize]) -> usize {
    let l = stream_leader(c, GLOBAL_ACCOUNT, "TEST");
    *peers.iter().find(|&&i| Some(i) != l).expect("a follower")
}

/// An R3 `TEST` on `foo` over servers 0-2 of a 3-server cluster; returns
/// the cluster and the stream leader.
fn r3_test_stream(test: &str) -> (JsCluster, usize) {
    let mut c = stream_cluster("R3S", 3, js_test_seed(test));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    wait_for_stream_assignments(&mut c);
    (c, l)
}

#[test]
fn test_jet_stream_cluster_stream_health_check_must_not_recreate() {
    let (mut c, _) = r3_test_stream("TestJetStreamClusterStreamHealthCheckMustNotRecreate");
    let check_node_is_closed = |sa: &StreamAssignment| assert_eq!(group_node(sa).state(), RaftState::Closed);

    // We manually stop the raft node and ensure it does not get restarted.
    let rs = non_stream_leader(&c, &[0, 1, 2]);
    let sa = stream_assignment(&c, rs);
    let n = group_node(&sa);
    n.stop();
    n.wait_for_stop();

    // We wait for the monitor to exit, so we can set the flag back manually.
    let h = hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    assert!(c.run_until(Duration::from_secs(5), |_| !h.is_monitor_running()), "waiting for monitor to stop");
    h.set_monitor_running_for_test(true);

    // The raft node should be closed. Checking health must not change that.
    // Simulates a race where we shut down while still in the stream monitor.
    let js = c.js(rs).clone();
    check_node_is_closed(&sa);
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Err(StreamHealthError::GroupNodeUnhealthy));
    check_node_is_closed(&sa);

    let meta = c.wait_on_leader().expect("meta leader");
    let del = stream_assignment(&c, meta);
    delete_stream(&mut c, &del).expect("stream deleted");
    wait_for_no_stream_assignments(&mut c);

    // Put the assignment back, as if the health check ran while the
    // deletion was in progress.
    {
        let mut st = js.st.borrow_mut();
        let cc = st.cluster.as_mut().expect("clustered");
        cc.streams = StreamMap::new();
        cc.streams.entry(GLOBAL_ACCOUNT.into()).or_default().insert("TEST".into(), sa.clone());
    }

    // The stream has been deleted. Checking health must not recreate it.
    check_node_is_closed(&sa);
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Err(StreamHealthError::StreamNotFound));
    check_node_is_closed(&sa);
    assert!(hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").is_none(), "the stream was not recreated");
}

#[test]
fn test_jet_stream_cluster_stream_health_check_must_not_delete_early() {
    let (c, _) = r3_test_stream("TestJetStreamClusterStreamHealthCheckMustNotDeleteEarly");

    // We manually clear the node on the stream.
    let rs = non_stream_leader(&c, &[0, 1, 2]);
    let sa = stream_assignment(&c, rs);
    hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("hosted").mset.set_node(None);
    let node = group_node(&sa);

    // The check compares the assignment's node with the stream's, which is
    // not set up yet here. It must not delete the node.
    assert_eq!(c.js(rs).is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Err(StreamHealthError::StreamNodeMissing));
    assert_eq!(node.state(), RaftState::Follower);
}

#[test]
fn test_jet_stream_cluster_stream_health_check_only_reports_skew() {
    let (c, _) = r3_test_stream("TestJetStreamClusterStreamHealthCheckOnlyReportsSkew");

    // Confirm the stream and assignment raft nodes are equal.
    let rs = non_stream_leader(&c, &[0, 1, 2]);
    let mut sa = stream_assignment(&c, rs);
    let mset_node = ported::jetstream_cluster::stream::Stream::raft_node(Some(&hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").expect("hosted").mset)).expect("stream node");
    let node = group_node(&sa);
    assert!(mset_node.same_node(&node));

    // Simulate stopping and restarting a new instance.
    node.stop();
    node.wait_for_stop();
    let group = sa.group.as_mut().expect("group");
    let node = c.js(rs).create_raft_group(GLOBAL_ACCOUNT, group, false, StorageType::File).expect("createRaftGroup").expect("a member's node");
    assert_ne!(node.state(), RaftState::Closed);
    assert!(!node.same_node(&mset_node), "a new instance");

    // The assignment's node is renewed, the stream still has the old one.
    // The check reports it and must not delete the node.
    assert_eq!(c.js(rs).is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Err(StreamHealthError::NodeSkew));
    assert_eq!(StreamHealthError::NodeSkew.to_string(), "cluster node skew detected");
    assert_ne!(node.state(), RaftState::Closed);
}

/// Upstream's test goes on to mark the stream as catching up, which must
/// take precedence; the port has no stream catch-up (batch 35), so that
/// part is not ported.
#[test]
fn test_jet_stream_cluster_stream_health_check_stream_catchup() {
    let (c, sl) = r3_test_stream("TestJetStreamClusterStreamHealthCheckStreamCatchup");
    let sa = stream_assignment(&c, sl);
    let js = c.js(sl).clone();
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Ok(()));

    // Check we can report unhealthy.
    let group = sa.group.as_ref().expect("group").name.clone();
    let raft = c.core(sl).raft_nodes().into_iter().find(|r| r.handle.group() == group).expect("the stream's node").raft;
    raft.borrow_mut().internals().set_commit(0);
    let err = js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa));
    assert_eq!(err, Err(StreamHealthError::GroupNodeUnhealthy));
    assert_eq!(err.map_err(|e| e.to_string()), Err("group node unhealthy".to_string()));
}

#[test]
fn stream_health_check_answers_in_go_order() {
    let (mut c, l) = r3_test_stream("stream_health_check_answers_in_go_order");
    let sa = stream_assignment(&c, l);

    // No assignment, or one without a group.
    let js = c.js(l).clone();
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, None), Err(StreamHealthError::AssignmentOrGroupMissing));
    let mut no_group = sa.clone();
    no_group.group = None;
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&no_group)), Err(StreamHealthError::AssignmentOrGroupMissing));
    // An unsupported assignment is healthy whatever else holds.
    let mut unsupported = no_group.clone();
    unsupported.unsupported = Some(UnsupportedAssignment { reason: "unsupported feature".into() });
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&unsupported)), Ok(()));
    // The stream must run here: not in another account, nor on a server
    // outside the group.
    assert_eq!(js.is_stream_healthy("OTHER", Some(&sa)), Err(StreamHealthError::StreamNotFound));
    assert_eq!(StreamHealthError::StreamNotFound.to_string(), "stream not found");

    // A group without a node (upstream: not created yet).
    let mut nodeless = sa.clone();
    if let Some(g) = nodeless.group.as_mut() {
        g.node = None;
    }
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&nodeless)), Err(StreamHealthError::GroupNodeMissing));

    // A monitor that stopped.
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    h.set_monitor_running_for_test(false);
    assert_eq!(js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)), Err(StreamHealthError::MonitorNotRunning));
    // A write error on the node is reported before the monitor.
    let group = sa.group.as_ref().expect("group").name.clone();
    let raft = c.core(l).raft_nodes().into_iter().find(|r| r.handle.group() == group).expect("the stream's node").raft;
    raft.borrow_mut().set_write_err(RaftError::Fs(ported::raft::env::FsError::Io("disk gone".into())));
    let werr = js.is_stream_healthy(GLOBAL_ACCOUNT, Some(&sa)).expect_err("a write error");
    assert!(matches!(werr, StreamHealthError::NodeWriteError(_)), "{werr:?}");
    assert!(werr.to_string().starts_with("node write error: "), "{werr}");

    // An R1 stream needs no more than running here; a server outside its
    // group does not run it.
    let meta = c.wait_on_leader().expect("meta leader");
    let r1 = assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["bar"], &[2]);
    add_stream(&mut c, &r1).expect("R1 added");
    let applied = |c: &JsCluster, i: usize| c.js(i).st.borrow().stream_assignment(GLOBAL_ACCOUNT, "R1").cloned();
    assert!(c.run_until(Duration::from_secs(5), |c| applied(c, 0).is_some() && applied(c, 2).is_some()), "R1 assigned");
    let on2 = applied(&c, 2).expect("assigned");
    assert_eq!(c.js(2).is_stream_healthy(GLOBAL_ACCOUNT, Some(&on2)), Ok(()));
    assert_eq!(c.js(0).is_stream_healthy(GLOBAL_ACCOUNT, Some(&on2)), Err(StreamHealthError::StreamNotFound));
}

/// `getOrphans` lists what runs here without an assignment in the meta
/// layer's maps (the account's own, not another's with the same stream
/// name), and `checkForOrphans` deletes exactly those once the meta group
/// is healthy. Upstream's consumer half has no consumers to find here
/// (batch 34).
#[test]
fn orphaned_streams_are_found_and_deleted_on_the_server_running_them() {
    let (mut c, _) = r3_test_stream("orphaned_streams_are_found_and_deleted_on_the_server_running_them");
    let rs = non_stream_leader(&c, &[0, 1, 2]);
    let js = c.js(rs).clone();
    let known = c.streams(rs);
    assert_eq!(js.runtime.get_orphans(&known), Orphans::default(), "every hosted stream is assigned");

    // The same name in another account does not cover ours.
    let mut elsewhere = StreamMap::new();
    elsewhere.entry("OTHER".into()).or_default().insert("TEST".into(), stream_assignment(&c, rs));
    let want = Orphans { streams: vec![(GLOBAL_ACCOUNT.to_string(), "TEST".to_string())], consumers: vec![] };
    assert_eq!(js.runtime.get_orphans(&elsewhere), want);

    // A crash left our copy without its assignment: only this server
    // deletes it, with its raft node.
    let node = group_node(&stream_assignment(&c, rs));
    js.st.borrow_mut().cluster.as_mut().expect("clustered").streams.remove(GLOBAL_ACCOUNT);
    assert_eq!(js.runtime.get_orphans(&c.streams(rs)), want);
    assert!(c.run_until(Duration::from_secs(5), |c| c.js(rs).get_meta_group().is_some_and(|m| m.healthy())), "meta current");
    js.check_for_orphans();
    assert!(hosted(&c, rs, GLOBAL_ACCOUNT, "TEST").is_none(), "orphan deleted");
    assert!(node.is_deleted(), "its node deleted");
    assert_eq!(js.runtime.get_orphans(&c.streams(rs)), Orphans::default());
    for i in (0..3).filter(|&i| i != rs) {
        assert!(hosted(&c, i, GLOBAL_ACCOUNT, "TEST").is_some(), "server {i} keeps its replica");
    }
}

/// `JetStreamSnapshotStream` (upstream's tests of it snapshot and then
/// restart a replica that must catch up from the snapshot, batch 35's
/// stream catch-up, so they are not ported): the node takes the stream's
/// state snapshot and compacts, the stream goes on, and the errors.
#[test]
fn jet_stream_snapshot_stream_installs_the_state_snapshot_in_the_group() {
    let (mut c, l) = r3_test_stream("jet_stream_snapshot_stream_installs_the_state_snapshot_in_the_group");
    let cl = c.connect(l, GLOBAL_ACCOUNT);
    for i in 0..10u64 {
        assert_eq!(publish(&mut c, cl, "foo", b"HELLO JSC"), Ok(i + 1));
    }
    wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(5)).expect("replicas agree");
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("stream leader");
    let group = stream_assignment(&c, l).group.expect("group").name;
    let raft = c.core(l).raft_nodes().into_iter().find(|r| r.handle.group() == group).expect("the stream's node").raft;
    assert_eq!(raft.borrow().snapshot_index(), 0, "no snapshot yet");

    c.srv(l).jet_stream_snapshot_stream(GLOBAL_ACCOUNT, "TEST").expect("snapshot");
    let applied = raft.borrow().applied_index();
    assert!(applied > 0);
    assert_eq!(raft.borrow().snapshot_index(), applied, "the snapshot covers what was applied");
    let snap = raft.borrow_mut().internals().load_last_snapshot().expect("readable").expect("a snapshot");
    assert_eq!(snap.last_index, applied);
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    assert_eq!(snap.data, h.cs.borrow().state_snapshot(), "the stream's state snapshot");

    // The stream goes on after it.
    assert_eq!(publish(&mut c, cl, "foo", b"after"), Ok(11));
    wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(5)).expect("replicas agree");

    let err = c.srv(l).jet_stream_snapshot_stream(GLOBAL_ACCOUNT, "NOPE").expect_err("no such stream");
    assert_eq!((err.code, err.err_code, err.description.as_str()), (404, 10059, "stream not found"));
    assert!(c.srv(l).jet_stream_snapshot_stream("NOACCOUNT", "TEST").is_err(), "no such account");

    // An R1 stream has no node to snapshot.
    let meta = c.wait_on_leader().expect("meta leader");
    let r1 = assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["bar"], &[2]);
    add_stream(&mut c, &r1).expect("R1 added");
    assert_eq!(c.srv(2).jet_stream_snapshot_stream(GLOBAL_ACCOUNT, "R1"), Ok(()));

    // Not clustered.
    let f = non_stream_leader(&c, &[0, 1, 2]);
    let cc = c.js(f).st.borrow_mut().cluster.take();
    let err = c.srv(f).jet_stream_snapshot_stream(GLOBAL_ACCOUNT, "TEST").expect_err("not clustered");
    assert_eq!((err.code, err.err_code), (500, 10006));
    c.js(f).st.borrow_mut().cluster = cc;
    // A follower snapshots its own replica.
    c.srv(f).jet_stream_snapshot_stream(GLOBAL_ACCOUNT, "TEST").expect("a follower's snapshot");
}
