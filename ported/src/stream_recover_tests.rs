//! Config decoding, filestore byte accounting and the replay on hand-built
//! raft and store inputs; the real server's files are in tests/jsc.

use super::*;
use serde_json::json;

#[test]
fn store_config_takes_limits_and_storage_from_the_stream_config() {
    let cfg = store_config_from_json(&json!({
        "name": "F3", "subjects": ["f3.>", "f3x"], "storage": "file", "max_msgs": -1,
        "max_bytes": 1000, "max_age": 5, "max_msgs_per_subject": 8, "discard": "new",
        "discard_new_per_subject": true, "first_seq": 7
    }))
    .expect("config");
    assert_eq!(cfg.name, "F3");
    assert_eq!(cfg.subjects, vec!["f3.>".to_string(), "f3x".to_string()]);
    assert_eq!(cfg.storage, StorageType::File);
    assert_eq!((cfg.max_msgs, cfg.max_bytes, cfg.max_age, cfg.max_msgs_per), (-1, 1000, 5, 8));
    assert_eq!(cfg.discard, DiscardPolicy::New);
    assert!(cfg.discard_new_per);
    assert_eq!(cfg.first_seq, 7);
}

#[test]
fn store_config_names_the_bad_value() {
    let cases = [
        (json!([1]), "not a JSON object"),
        (json!({"storage": "file"}), "name"),
        (json!({"name": "S", "storage": "disk"}), "storage"),
        (json!({"name": "S", "storage": "file", "max_msgs": "10"}), "max_msgs"),
        (json!({"name": "S", "storage": "file", "subjects": "a"}), "subjects"),
        (json!({"name": "S", "storage": "file", "discard": "oldest"}), "oldest"),
        (json!({"name": "S", "storage": "file", "first_seq": -1}), "first_seq"),
    ];
    for (v, want) in cases {
        let err = store_config_from_json(&v).expect_err("bad config").to_string();
        assert!(err.contains(want), "{v}: {err}");
    }
}

#[test]
fn file_store_msg_size_counts_header_length_only_with_headers() {
    assert_eq!(file_store_msg_size("f3.a", b"", b"hello"), 22 + 4 + 5 + 8);
    assert_eq!(file_store_msg_size("f3.a", b"NATS/1.0\r\n\r\n", b"hello"), 22 + 4 + 4 + 12 + 5 + 8);
}

#[test]
fn without_store_or_raft_group_the_stream_is_empty() {
    let spec = stream_spec_from_json(&json!({"name": "M1", "storage": "memory"})).expect("config");
    assert_eq!(spec.duplicates, STREAM_DEFAULT_DUPLICATES);
    let mut r = recover_stream("ACC", &spec, None, None).expect("recover");
    assert_eq!(r.state().msgs, 0);
    assert!(r.messages().is_empty());
    assert!(r.raft.is_none() && r.store.is_none() && r.catchup.is_none());
}

#[test]
fn dedupe_drops_an_id_within_the_window_only() {
    let hdr = b"NATS/1.0\r\nNats-Msg-Id: a-1\r\n\r\n";
    let mut dd = Dedupe::new(100);
    // What the apply path does with a stored message's headers.
    let store = |dd: &mut Dedupe, hdr: &[u8], ts: i64| {
        if let Some(id) = crate::jetstream_cluster::dedupe::get_msg_id(hdr) {
            dd.store_msg_id(id, 1, ts);
        }
    };
    assert!(!dd.is_duplicate(hdr, 10));
    store(&mut dd, hdr, 10);
    assert!(dd.is_duplicate(hdr, 109));
    assert!(!dd.is_duplicate(hdr, 110));
    assert!(!dd.is_duplicate(b"NATS/1.0\r\nNats-Msg-Id: a-2\r\n\r\n", 20));
    // No header, or an empty id: never a duplicate, never remembered.
    store(&mut dd, b"", 30);
    store(&mut dd, b"NATS/1.0\r\nNats-Msg-Id: \r\n\r\n", 30);
    assert_eq!(dd.len(), 1);
    assert!(!dd.is_duplicate(b"", 30));
}
