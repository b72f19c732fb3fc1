//! Ports of tests from `server/jetstream_cluster_4_test.go` at 8188ea93a.

use ported::jetstream_cluster::node::{Entry, EntryType};
use ported::sim::js::{js_test_seed, JsCluster};

#[test]
fn test_jet_stream_cluster_meta_snapshot_decode_error() {
    let c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, js_test_seed("TestJetStreamClusterMetaSnapshotDecodeError"));

    let js = c.js(c.leader().expect("a leader")).clone();

    let (is_recovering, did_snap, err) = js.apply_meta_entries(&[Entry::new(EntryType::Snapshot, b"not a valid snapshot".to_vec())], None);

    assert!(err.is_err(), "a bad snapshot is an error");
    assert!(!is_recovering);
    assert!(!did_snap);
}
