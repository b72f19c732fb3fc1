use super::*;
use crate::jetstream_cluster::test_util::{ca, sa};

#[test]
fn remove_stream_clears_pending_changes() {
    let mut ru = RecoveryUpdates::new();
    ru.add_stream(sa("A", "S", &["p"], 1));
    ru.update_stream(sa("A", "S", &["p"], 1));
    ru.add_or_update_consumer(ca("A", "S", "c1", "g"));
    ru.remove_consumer(ca("A", "S", "c2", "g"));
    ru.add_stream(sa("A", "T", &["p"], 1));
    ru.remove_stream(sa("A", "S", &["p"], 1));
    assert!(ru.remove_streams.contains_key("A:S"));
    assert!(!ru.add_streams.contains_key("A:S"));
    assert!(!ru.update_streams.contains_key("A:S"));
    assert!(!ru.update_consumers.contains_key("A:S"));
    assert!(!ru.remove_consumers.contains_key("A:S"));
    assert!(ru.add_streams.contains_key("A:T"));
}

#[test]
fn consumer_removal_cancels_pending_update() {
    let mut ru = RecoveryUpdates::new();
    ru.add_or_update_consumer(ca("A", "S", "c1", "g"));
    ru.add_or_update_consumer(ca("A", "S", "c2", "g"));
    ru.remove_consumer(ca("A", "S", "c1", "g"));
    let upd = &ru.update_consumers["A:S"];
    assert!(!upd.contains_key("A:S:c1") && upd.contains_key("A:S:c2"));
    assert!(ru.remove_consumers["A:S"].contains_key("A:S:c1"));
    ru.add_or_update_consumer(ca("A", "S", "c1", "g"));
    assert!(ru.update_consumers["A:S"].contains_key("A:S:c1"));
}
