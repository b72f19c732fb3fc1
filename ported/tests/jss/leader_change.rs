//! Leader changes of a stream group that must not look like a lost
//! quorum: the checks of upstream's processStreamLeaderChange that the
//! ported Go tests leave open (found by the mutation gate, issue 11).

use std::time::Duration;

use ported::jetstream_cluster::stream_events::{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE, JS_ADVISORY_STREAM_QUORUM_LOST_PRE};
use ported::sim::js::{js_test_seed, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};

use super::helpers::*;

/// A leader that steps down while its followers are up still has quorum:
/// upstream sends the quorum-lost advisory only when the node has no
/// quorum (and is past its 5 s grace), so a plain stepdown sends none,
/// however old the group is; the new leader's election is advised.
#[test]
fn a_stepdown_with_quorum_sends_no_quorum_lost_advisory() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_stepdown_with_quorum_sends_no_quorum_lost_advisory"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    let sys = c.connect(meta, SYSTEM_ACCOUNT);
    c.subscribe(sys, &format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.TEST"));
    c.subscribe(sys, &format!("{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE}.TEST"));
    // Well past the grace a new node gets.
    c.run_for(Duration::from_secs(8));
    c.clients[sys].msgs.clear();
    c.srv(l).jet_stream_stepdown_stream(GLOBAL_ACCOUNT, "TEST").expect("stepdown");
    assert!(c.run_until(Duration::from_secs(10), |c| stream_leader(c, GLOBAL_ACCOUNT, "TEST").is_some_and(|n| n != l)), "another leader");
    c.run_for(Duration::from_secs(2));
    assert!(hosted(&c, l, GLOBAL_ACCOUNT, "TEST").is_some_and(|h| !h.is_leader.get()), "the old leader stepped down");
    let subjects: Vec<String> = c.clients[sys].msgs.iter().map(|m| m.subject.clone()).collect();
    assert!(!subjects.iter().any(|s| s.starts_with(JS_ADVISORY_STREAM_QUORUM_LOST_PRE)), "no quorum-lost advisory: {subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with(JS_ADVISORY_STREAM_LEADER_ELECTED_PRE)), "the new leader is advised: {subjects:?}");
}

/// Upstream's grace for a new node is strict: a stream group that lost
/// quorum within 5 s of its node's creation is not advised as stalled, at
/// exactly 5 s neither, just after it is. The group's own stepdown (2 s
/// after its followers go, with the Go test timings) falls inside the
/// grace; the leader-change notifications at the boundary are then
/// delivered directly, as the stream monitor would on a leader change.
#[test]
fn the_quorum_lost_grace_is_five_seconds_from_the_nodes_creation() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("the_quorum_lost_grace_is_five_seconds_from_the_nodes_creation"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    let h = hosted(&c, l, GLOBAL_ACCOUNT, "TEST").expect("hosted");
    let node = ported::jetstream_cluster::stream::Stream::raft_node(Some(&h.mset)).expect("node");
    let sys = c.connect(l, SYSTEM_ACCOUNT);
    c.subscribe(sys, &format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.TEST"));
    for i in (0..3).filter(|&i| i != l) {
        c.kill_server(i);
    }
    let grace_end = node.created().add(Duration::from_secs(5));
    let now = c.srv(l).now();
    assert!(now.0 < grace_end.0, "the stream came up within its grace");
    c.run_for(grace_end.since(now));
    assert_eq!(c.srv(l).now(), grace_end);
    assert!(!node.quorum(), "the followers are gone");
    assert!(!h.is_leader.get(), "the group stepped down inside the grace");
    assert!(c.clients[sys].msgs.is_empty(), "no advisory inside the grace");
    let streams = c.servers[l].streams.clone().expect("stream layer");
    let js = c.js(l).clone();
    streams.process_stream_leader_change(&js, &h, false);
    c.run_for(Duration::from_millis(1));
    assert!(c.clients[sys].msgs.is_empty(), "none at exactly 5 s");
    streams.process_stream_leader_change(&js, &h, false);
    assert!(c.run_until(Duration::from_millis(100), |c| !c.clients[sys].msgs.is_empty()), "one just after the grace");
}
