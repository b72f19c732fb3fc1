//! What `processClusterUpdateStream` and `processClusterCreateStream` do
//! to a stream that already runs here, on the simulated cluster (issue 11,
//! the gate's missed mutants at 773a1da): an update of a replicated stream
//! that keeps its group leaves every replica's raft node and leader alone
//! and is answered by the leader only; a scale-down to one replica that is
//! not the leader makes that replica lead; a create assignment repeated
//! with another configuration updates the running stream; one repeated
//! in another group (the duplicate assignment) moves the stream to the
//! new group's node and deletes the old one. And of
//! `processClusterDeleteStream`: the stop-gap removal of the group's
//! directory also runs for a stream stopped here that had no node.

use std::time::Duration;

use ported::jetstream_cluster::assignments::ClientInfo;
use ported::jetstream_cluster::ops::{encode_add_stream_assignment, encode_update_stream_assignment};
use ported::jetstream_cluster::stream::Stream;
use ported::jetstream_cluster::stream_events::JS_ADVISORY_STREAM_LEADER_ELECTED_PRE;
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT};

use super::helpers::*;

fn replies(c: &JsCluster, cl: usize, subject: &str) -> usize {
    c.clients[cl].msgs.iter().filter(|m| m.subject == subject).count()
}

/// `js.UpdateStream(cfg)` with its answer on `reply`, so every answer is counted.
fn update_request(c: &mut JsCluster, cl: usize, cfg: &ported::jetstream_cluster::config::StreamConfig, reply: &str) {
    c.subscribe(cl, reply);
    let ci = ClientInfo { account: GLOBAL_ACCOUNT.into(), cluster: c.name.clone(), ..Default::default() };
    let meta = c.wait_on_leader().expect("meta leader");
    let subject = format!("$JS.API.STREAM.UPDATE.{}", cfg.name);
    c.js(meta).clone().js_clustered_stream_update_request(&ci, GLOBAL_ACCOUNT, &subject, reply, b"{}", cfg, &[]);
}

/// An R3 stream whose subjects change keeps its group: no remapping (the
/// old node is neither removed nor replaced, no second monitor), no
/// scale-down to R1 (the node stays), no leader change (the leader is not
/// elected again, so no second leader-elected advisory), and only the
/// leader answers (the followers were not promoted single replicas).
/// The replicas keep running as before: the leader stores and answers a
/// purge.
#[test]
fn an_update_keeping_the_group_keeps_the_nodes_and_only_the_leader_answers() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("an_update_keeping_the_group_keeps_the_nodes_and_only_the_leader_answers"));
    let meta = c.wait_on_leader().expect("meta leader");
    let cl = c.connect(meta, GLOBAL_ACCOUNT);
    c.subscribe(cl, &format!("{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE}.>"));
    let mut cfg = nats_stream_config("TEST", &["foo"], 3);
    stream_request(&mut c, cl, &cfg, false).expect("AddStream");
    c.run_until(Duration::from_secs(5), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some());
    c.run_for(Duration::from_secs(1));
    let leader = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("a stream leader");
    let nodes: Vec<_> = (0..3).map(|i| Stream::raft_node(Some(&hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted").mset)).expect("a node")).collect();
    let elected = |c: &JsCluster| c.clients[cl].msgs.iter().filter(|m| m.subject == format!("{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE}.TEST")).count();
    let elected_before = elected(&c);
    assert_eq!(elected_before, 1, "one leader elected");

    cfg.extra.insert("subjects".into(), serde_json::json!(["foo", "bar"]));
    update_request(&mut c, cl, &cfg, "_INBOX.update");
    c.run_for(Duration::from_secs(3));

    assert_eq!(replies(&c, cl, "_INBOX.update"), 1, "the leader alone answers");
    for (i, n) in nodes.iter().enumerate() {
        let h = hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("still hosted");
        let now = Stream::raft_node(Some(&h.mset)).unwrap_or_else(|| panic!("server {i} lost its node"));
        assert!(now.same_node(n), "server {i} keeps its raft node");
        assert_eq!(h.is_leader.get(), i == leader, "server {i}'s leader role is unchanged");
    }
    assert_eq!(elected(&c), elected_before, "no new leader");
    for i in 0..3 {
        let h = hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted");
        assert_eq!(h.cs.borrow().store.config().subjects, ["foo", "bar"], "server {i} took the new configuration");
    }
    let pub_cl = c.connect((leader + 1) % 3, GLOBAL_ACCOUNT);
    assert_eq!(publish(&mut c, pub_cl, "foo", b"x"), Ok(1), "the leader still stores");
    assert_eq!(wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(3)).map(|s| s.msgs), Ok(1));
    // The leader's monitor is the one it had, past its recovery: it still
    // answers a purge it applies (a recovering apply does not answer).
    c.subscribe(cl, "_INBOX.purge");
    let h = hosted(&c, leader, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    assert!(c.servers[leader].streams.clone().expect("stream layer").propose_purge(&h, None, "_INBOX.purge"), "purge proposed");
    c.run_until(Duration::from_secs(3), |c| replies(c, cl, "_INBOX.purge") > 0);
    assert_eq!(replies(&c, cl, "_INBOX.purge"), 1, "the leader answers the purge");
    assert_eq!(replica_state(&c, leader, GLOBAL_ACCOUNT, "TEST").map(|s| s.msgs), Some(0));
}

/// Scaling R3 down to a single replica that did not lead: that replica
/// takes the leader role (upstream: `mset.IsLeader()` is true once the node
/// is gone, and a scale-down from more than one replica to one runs the
/// leader change), and it stores what is published.
#[test]
fn a_scale_down_to_a_follower_makes_it_the_leader() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_scale_down_to_a_follower_makes_it_the_leader"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let leader = add_stream(&mut c, &sa).expect("stream added");
    let follower = (leader + 1) % 3;
    c.run_for(Duration::from_secs(1));
    assert!(!hosted(&c, follower, GLOBAL_ACCOUNT, "TEST").expect("hosted").is_leader.get());

    let meta = c.wait_on_leader().expect("meta leader");
    let current = c.streams(meta).get(GLOBAL_ACCOUNT).and_then(|a| a.get("TEST")).cloned().expect("the meta's assignment");
    let mut nsa = reconfigured(&current, |cfg| cfg.replicas = 1);
    if let Some(g) = nsa.group.as_mut() {
        g.peers = vec![c.core(follower).node.clone()];
        g.preferred = String::new();
    }
    c.propose(meta, &encode_update_stream_assignment(&nsa).expect("encodes")).expect("proposed");
    c.run_until(Duration::from_secs(5), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST") == Some(follower));
    c.run_for(Duration::from_secs(1));

    let h = hosted(&c, follower, GLOBAL_ACCOUNT, "TEST").expect("the kept replica");
    assert!(Stream::raft_node(Some(&h.mset)).is_none(), "R1: no node");
    assert!(h.is_leader.get(), "the single replica leads");
    assert_eq!(stream_leader(&c, GLOBAL_ACCOUNT, "TEST"), Some(follower));
    let cl = c.connect(leader, GLOBAL_ACCOUNT);
    assert_eq!(publish(&mut c, cl, "foo", b"x"), Ok(1));
    assert_eq!(replica_state(&c, follower, GLOBAL_ACCOUNT, "TEST").map(|s| s.msgs), Some(1));
}

/// A create assignment for a running stream with the same group but
/// other subjects is not the short-circuit answer: the running stream
/// takes the new configuration (upstream: `updateWithAdvisory` when the
/// configuration differs).
#[test]
fn a_repeated_create_with_another_config_updates_the_running_stream() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_repeated_create_with_another_config_updates_the_running_stream"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let leader = add_stream(&mut c, &sa).expect("stream added");
    c.run_for(Duration::from_secs(1));
    let again = reconfigured(&sa, |cfg| {
        cfg.extra.insert("subjects".into(), serde_json::json!(["foo", "bar"]));
    });
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_add_stream_assignment(&again).expect("encodes")).expect("proposed");
    c.run_for(Duration::from_secs(2));
    for i in 0..3 {
        let h = hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted");
        let subjects = h.cs.borrow().store.config().subjects.clone();
        assert_eq!(subjects, ["foo", "bar"], "server {i}'s store has the new subjects");
    }
    assert_eq!(stream_leader(&c, GLOBAL_ACCOUNT, "TEST"), Some(leader), "not answered as a new stream: same leader");
}

/// The same configuration assigned again in another group (the old
/// duplicate-assignment bug): each replica deletes the old group's node,
/// runs on the new group's node, and the stream gets a leader there that
/// stores what is published.
#[test]
fn a_duplicate_assignment_in_another_group_moves_the_stream_to_the_new_node() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_duplicate_assignment_in_another_group_moves_the_stream_to_the_new_node"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    c.run_for(Duration::from_secs(1));
    let old: Vec<_> = (0..3).map(|i| Stream::raft_node(Some(&hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted").mset)).expect("a node")).collect();
    let mut dup = sa.clone();
    let new_group = format!("{}X", sa.group.as_ref().expect("group").name);
    if let Some(g) = dup.group.as_mut() {
        g.name = new_group.clone();
    }
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_add_stream_assignment(&dup).expect("encodes")).expect("proposed");
    c.run_until(Duration::from_secs(5), |c| {
        stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|l| hosted(c, l, GLOBAL_ACCOUNT, "TEST").and_then(|h| Stream::raft_node(Some(&h.mset))).is_some_and(|n| n.group() == new_group && n.leader()))
    });
    for (i, o) in old.iter().enumerate() {
        assert!(o.is_deleted(), "server {i} deleted the old group's node");
        let h = hosted(&c, i, GLOBAL_ACCOUNT, "TEST").expect("hosted");
        let n = Stream::raft_node(Some(&h.mset)).expect("a node");
        assert_eq!(n.group(), new_group, "server {i} runs on the new group");
    }
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("a leader in the new group");
    let cl = c.connect((l + 1) % 3, GLOBAL_ACCOUNT);
    assert_eq!(publish(&mut c, cl, "foo", b"x"), Ok(1));
    assert_eq!(wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[0, 1, 2], Duration::from_secs(3)).map(|s| s.msgs), Ok(1));
}

/// Deleting an R1 stream (stopped here, no node in the assignment, as a
/// removal entry never carries one) still removes whatever is left in its
/// group's directory under the system account: upstream's stop gap runs
/// when the stream was not stopped *or* there was no node to delete.
#[test]
fn deleting_a_stream_without_a_node_removes_its_group_directory() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("deleting_a_stream_without_a_node_removes_its_group_directory"));
    let meta = c.wait_on_leader().expect("meta leader");
    let peer = (meta + 1) % 3;
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["r1"], &[peer]);
    add_stream(&mut c, &sa).expect("stream added");
    let g = sa.group.as_ref().expect("a group");
    let dir = format!("{}/{}/_js_/{}", c.servers[peer].cfg.opts.store_dir, ported::sim::js::SYSTEM_ACCOUNT, g.name);
    let stray = format!("{dir}/left-over");
    c.world.disk.borrow_mut().put_file(&stray, b"x");
    assert!(c.world.disk.borrow().paths_under(&dir).contains(&stray));
    delete_stream(&mut c, &sa).expect("deleted");
    c.run_for(Duration::from_secs(1));
    assert_eq!(c.world.disk.borrow().paths_under(&dir), Vec::<String>::new(), "the group's directory is gone");
}
