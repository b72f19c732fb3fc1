//! More behaviour the mutation gate (issue 11) found unchecked by the
//! tests registered for batch 33's features: the stream handlers, the
//! meta apply loop's peer entries and the lost-quorum advisory.

use crate::jetstream_cluster::assignments::{GoTime, StreamAssignment};
use crate::jetstream_cluster::runtime::StreamRuntime;
use crate::jetstream_cluster::test_util::sa;
use crate::sim::js::{JsCluster, RuntimeCall};

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

/// A settled cluster and a follower (and its peer id) to call the
/// handlers on directly.
fn follower(test: &str) -> (JsCluster, usize, String) {
    let c = cluster(test);
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
