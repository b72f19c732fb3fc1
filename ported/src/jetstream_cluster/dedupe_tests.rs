//! The dedupe map on its own: ids, the window, disabling, rebuilding.

use std::rc::Rc;

use super::*;
use crate::store::{StorageType, StoreConfig};

const HDR: &[u8] = b"NATS/1.0\r\nNats-Msg-Id: abc\r\n\r\n";

#[test]
fn an_id_is_a_duplicate_only_within_the_window() {
    let mut dd = Dedupe::new(100);
    assert_eq!(get_msg_id(HDR).as_deref(), Some("abc"));
    assert!(!dd.is_duplicate(HDR, 0));
    dd.store_msg_id("abc".into(), 7, 1_000);
    assert_eq!(dd.check_msg_id("abc", 1_099), Some(DedupeEntry { seq: 7, ts: 1_000 }));
    assert!(dd.is_duplicate(HDR, 1_099));
    // Upstream's purge timer drops an entry once it is `window` old.
    assert_eq!(dd.check_msg_id("abc", 1_100), None);
    assert!(!dd.is_duplicate(b"NATS/1.0\r\nOther: abc\r\n\r\n", 1_050), "no id header");
    assert!(!dd.is_duplicate(b"NATS/1.0\r\nNats-Msg-Id:\r\n\r\n", 1_050), "an empty id is no id");
}

#[test]
fn a_staged_entry_is_replaced_when_the_message_is_stored() {
    let mut dd = Dedupe::new(100);
    dd.store_msg_id("abc".into(), 0, 10);
    assert_eq!(dd.check_msg_id("abc", 10).map(|e| e.seq), Some(0));
    dd.store_msg_id("abc".into(), 4, 20);
    assert_eq!(dd.check_msg_id("abc", 20), Some(DedupeEntry { seq: 4, ts: 20 }));
    assert_eq!(dd.len(), 1);
}

#[test]
fn a_zero_window_disables_dedupe() {
    let mut dd = Dedupe::new(0);
    dd.store_msg_id("abc".into(), 1, 1);
    assert!(dd.is_empty());
    assert!(!dd.is_duplicate(HDR, 1));
}

#[test]
fn rebuild_takes_the_ids_of_messages_inside_the_window() {
    let now = Rc::new(std::cell::Cell::new(0i64));
    let clock = now.clone();
    let cfg = StoreConfig { name: "S".into(), subjects: vec!["s".into()], storage: StorageType::Memory, ..Default::default() };
    let mut ms = MemStore::new(&cfg, Rc::new(move || clock.get())).expect("store");
    for (i, t) in [(1, 100), (2, 200), (3, 300)] {
        now.set(t);
        ms.store_msg("s", format!("NATS/1.0\r\nNats-Msg-Id: m{i}\r\n\r\n").as_bytes(), b"x").expect("stored");
    }
    now.set(400);
    ms.store_msg("s", b"", b"no id").expect("stored");
    let mut dd = Dedupe::new(150);
    dd.rebuild(&ms, 400);
    // Window [250, 400]: only m3 (seq 3, t 300).
    assert_eq!(dd.len(), 1);
    assert_eq!(dd.check_msg_id("m3", 400), Some(DedupeEntry { seq: 3, ts: 300 }));
    let mut empty = Dedupe::new(150);
    empty.rebuild(&MemStore::new(&cfg, Rc::new(|| 0)).expect("store"), 400);
    assert!(empty.is_empty());
}

#[test]
fn old_entries_go_when_newer_ones_are_stored() {
    let mut dd = Dedupe::new(100);
    dd.store_msg_id("a".into(), 1, 0);
    dd.store_msg_id("b".into(), 2, 50);
    dd.store_msg_id("c".into(), 3, 100);
    assert_eq!(dd.len(), 2, "a is 100 old when c is stored");
    assert_eq!(dd.check_msg_id("b", 100).map(|e| e.seq), Some(2));
}

#[test]
fn a_leader_change_forgets_only_the_trailing_in_flight_ids() {
    let mut dd = Dedupe::new(1_000);
    dd.store_msg_id("stored".into(), 1, 1);
    dd.store_msg_id("early".into(), 0, 2);
    dd.store_msg_id("applied".into(), 2, 3);
    dd.store_msg_id("x".into(), 0, 4);
    dd.store_msg_id("y".into(), 0, 5);
    dd.clear_inflight();
    assert_eq!(dd.check_msg_id("x", 5), None);
    assert_eq!(dd.check_msg_id("y", 5), None);
    assert_eq!(dd.check_msg_id("applied", 5).map(|e| e.seq), Some(2));
    assert_eq!(dd.check_msg_id("early", 5).map(|e| e.seq), Some(0), "behind an applied one: kept, as upstream's walk stops there");
    assert_eq!(dd.len(), 3);
}
