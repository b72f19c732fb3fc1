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
