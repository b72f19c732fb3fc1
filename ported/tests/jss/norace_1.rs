//! Stream tests of `server/norace_1_test.go` at 8188ea93a on the simulated
//! cluster (see `jetstream_cluster_1.rs` for the stand-ins).

use std::time::Duration;

use ported::jetstream_cluster::stream_events::JS_ADVISORY_STREAM_QUORUM_LOST_PRE;
use ported::sim::js::{js_test_seed, GLOBAL_ACCOUNT};

use super::helpers::*;

#[test]
fn test_no_race_jet_stream_cluster_stream_create_and_lost_quorum() {
    let mut c = stream_cluster("R5S", 3, js_test_seed("TestNoRaceJetStreamClusterStreamCreateAndLostQuorum"));
    let subj = format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.*");
    let s = (c.world.rng.borrow_mut().next_u64() % 3) as usize;
    let nc = c.connect(s, GLOBAL_ACCOUNT);
    c.subscribe(nc, &subj);

    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "NO-LQ-START", &[], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("AddStream");
    // checkSubsPending(sub, 0)
    assert_eq!(c.clients[nc].msgs.len(), 0, "no lost-quorum advisory");

    // stopAll
    for i in 0..3 {
        c.shutdown_server(i);
    }
    // Start up the one we were connected to first.
    c.restart_server(s);
    let nc = c.connect(s, GLOBAL_ACCOUNT);
    c.subscribe(nc, &subj);

    // restartAll
    for i in (0..3).filter(|&i| i != s) {
        c.restart_server(i);
    }
    let ok = c.run_until(Duration::from_secs(20), |c| stream_leader(c, GLOBAL_ACCOUNT, "NO-LQ-START").is_some());
    assert!(ok, "waitOnStreamLeader");

    assert_eq!(c.clients[nc].msgs.len(), 0, "no lost-quorum advisory: {:?}", c.clients[nc].msgs.front().map(|m| String::from_utf8_lossy(&m.data).into_owned()));
}
