//! monitorStream's update and migration arms on the simulated cluster: a
//! stream whose group is given more peers than its replicas (upstream's
//! stream move, which the meta leader's update request starts; here the
//! test proposes that assignment) is handed to the new peers and scaled
//! down to them, keeping every message.

use std::time::Duration;

use ported::jetstream_cluster::ops::encode_update_stream_assignment;
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT};

use super::helpers::*;

fn meta_peers(c: &JsCluster, i: usize) -> Vec<String> {
    c.streams(i).get(GLOBAL_ACCOUNT).and_then(|a| a.get("TEST")).and_then(|sa| sa.group.clone()).map(|g| g.peers).unwrap_or_default()
}

#[test]
fn a_moved_stream_hands_over_to_its_new_peers_and_scales_down() {
    let mut c = stream_cluster("R5S", 5, js_test_seed("a_moved_stream_hands_over_to_its_new_peers_and_scales_down"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1]);
    add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect(4, GLOBAL_ACCOUNT);
    for i in 1..=10u64 {
        assert_eq!(publish(&mut c, cl, "foo", format!("m{i}").as_bytes()), Ok(i));
    }
    // Move: the old peers first, then the new ones; replicas stay 2.
    let new_peers: Vec<String> = [2usize, 3].iter().map(|&i| c.core(i).node.clone()).collect();
    let mut moved = sa.clone();
    if let Some(g) = moved.group.as_mut() {
        g.peers.extend(new_peers.iter().cloned());
    }
    let meta = c.wait_on_leader().expect("meta leader");
    c.propose(meta, &encode_update_stream_assignment(&moved).expect("encodes")).expect("proposed");

    let done = c.run_until(Duration::from_secs(30), |c| {
        let m = c.leader().unwrap_or(0);
        meta_peers(c, m) == new_peers && hosted(c, 0, GLOBAL_ACCOUNT, "TEST").is_none() && hosted(c, 1, GLOBAL_ACCOUNT, "TEST").is_none()
    });
    let m = c.leader().unwrap_or(0);
    assert!(done, "scaled down to the new peers: {:?}, hosted on 0: {}, 1: {}", meta_peers(&c, m), hosted(&c, 0, GLOBAL_ACCOUNT, "TEST").is_some(), hosted(&c, 1, GLOBAL_ACCOUNT, "TEST").is_some());
    let l = stream_leader(&c, GLOBAL_ACCOUNT, "TEST").expect("a leader");
    assert!([2, 3].contains(&l), "a new peer leads, not {l}");
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "TEST", &[2, 3], Duration::from_secs(5)).expect("new replicas agree");
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (10, 1, 10), "every message moved");
    assert_eq!(publish(&mut c, cl, "foo", b"after"), Ok(11), "the moved stream takes publishes");
}
