use super::*;
use crate::jetstream_cluster::cluster::JetStreamCluster;
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};

fn map(sas: Vec<StreamAssignment>) -> StreamMap {
    let mut m = StreamMap::new();
    for s in sas {
        m.entry(s.account().to_string()).or_default().insert(s.name().to_string(), s);
    }
    m
}

fn js(sas: Vec<StreamAssignment>) -> JetStream {
    JetStream { cluster: Some(JetStreamCluster { streams: map(sas), ..Default::default() }), meta_recovering: false }
}

fn sample() -> StreamMap {
    map(vec![
        with_consumers(sa("A", "S1", &["p1", "p2", "p3"], 3), vec![ca("A", "S1", "c1", "C-1"), ca("A", "S1", "c2", "C-2")]),
        sa("A", "S2", &["p1"], 1),
        with_consumers(sa("B", "S1", &["p2"], 1), vec![ca("B", "S1", "x", "C-x")]),
    ])
}

#[test]
fn round_trip() {
    let enc = JetStream::encode_meta_snapshot(&sample(), &|| 0).expect("encodes");
    assert_eq!((enc.streams, enc.consumers), (3, 3));
    let dec = JetStream::decode_meta_snapshot(&enc.data).expect("decodes");
    assert_eq!(dec.len(), 2);
    let s1 = &dec["A"]["S1"];
    let orig = &sample()["A"]["S1"];
    assert_eq!(s1.config, orig.config);
    assert_eq!(s1.group, orig.group);
    assert_eq!((s1.created.clone(), s1.sync.clone()), (orig.created.clone(), orig.sync.clone()));
    assert_eq!(s1.consumers.keys().collect::<Vec<_>>(), vec!["c1", "c2"]);
    assert_eq!(s1.consumers["c2"].config, orig.consumers["c2"].config);
    assert_eq!(dec["B"]["S1"].consumers["x"].group.as_ref().map(|g| g.name.as_str()), Some("C-x"));
    // Snapshot form drops request routing and reduces the client.
    assert!(s1.subject.is_empty() && s1.reply.is_empty());
    let c = s1.client.as_ref().expect("client");
    assert_eq!((c.account.as_str(), c.server.as_str(), c.jwt.as_str()), ("A", "", ""));
    let again = JetStream::encode_meta_snapshot(&dec, &|| 0).expect("re-encodes");
    assert_eq!(again.data, JetStream::encode_meta_snapshot(&dec, &|| 0).expect("stable").data);
    assert_eq!(JetStream::decode_meta_snapshot(&again.data).expect("decodes"), dec);
}

#[test]
fn snapshot_json_shape() {
    let mut m = sample();
    let st = serde_json::value::to_raw_value(&serde_json::json!({"delivered": {"consumer_seq": 1}})).ok();
    if let Some(c) = m.get_mut("A").and_then(|a| a.get_mut("S1")).and_then(|s| s.consumers.get_mut("c1")) {
        c.state = st;
    }
    let enc = JetStream::encode_meta_snapshot(&m, &|| 0).expect("encodes");
    let json: serde_json::Value = serde_json::from_slice(&crate::s2::decode(&enc.data).expect("s2")).expect("json");
    let arr = json.as_array().expect("array");
    assert_eq!(arr.len(), 3);
    let first = &arr[0];
    let mut keys: Vec<&str> = first.as_object().expect("obj").keys().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(keys, vec!["Consumers", "client", "created", "group", "stream", "sync"]);
    let cons = first["Consumers"].as_array().expect("consumers");
    let mut ckeys: Vec<&str> = cons[0].as_object().expect("obj").keys().map(|k| k.as_str()).collect();
    ckeys.sort();
    assert_eq!(ckeys, vec!["client", "consumer", "created", "group", "name", "stream"]);
    assert!(!json.to_string().contains("consumer_seq"), "consumer state must not be in the snapshot");
    assert_eq!(arr[1]["Consumers"], serde_json::json!([]));
}

#[test]
fn empty_snapshot() {
    let enc = JetStream::encode_meta_snapshot(&StreamMap::new(), &|| 0).expect("encodes");
    assert!(enc.data.is_empty());
    assert_eq!((enc.streams, enc.consumers), (0, 0));
    assert!(JetStream::decode_meta_snapshot(&[]).expect("decodes").is_empty());
}

#[test]
fn decode_errors() {
    assert!(matches!(JetStream::decode_meta_snapshot(b"not a valid snapshot"), Err(MetaSnapshotError::S2(_))));
    let not_json = crate::s2::encode(b"{\"not\":\"an array\"}");
    assert!(matches!(JetStream::decode_meta_snapshot(&not_json), Err(MetaSnapshotError::Json(_))));
    let bad_cfg = crate::s2::encode(br#"[{"created":"2024-01-01T00:00:00Z","stream":[1],"group":null,"sync":""}]"#);
    assert!(matches!(JetStream::decode_meta_snapshot(&bad_cfg), Err(MetaSnapshotError::Assignment(_))));
}

#[test]
fn consumer_stream_name_is_rehydrated_and_lowercase_key_accepted() {
    let raw = br#"[{"client":{"acc":"A"},"created":"2024-01-01T00:00:00Z","stream":{"name":"S","num_replicas":1},"group":null,"sync":"x",
      "consumers":[{"name":"c","consumer":{"durable_name":"c"},"group":null}]}]"#;
    let dec = JetStream::decode_meta_snapshot(&crate::s2::encode(raw)).expect("decodes");
    assert_eq!(dec["A"]["S"].consumers["c"].stream, "S");
    let raw = br#"[{"created":"2024-01-01T00:00:00Z","stream":{"name":"S","num_replicas":1},"group":null,"sync":"x","Consumers":null}]"#;
    let dec = JetStream::decode_meta_snapshot(&crate::s2::encode(raw)).expect("null consumers decode");
    assert!(dec[""]["S"].consumers.is_empty());
}

#[test]
fn meta_snapshot_records_stats() {
    let mut j = js(vec![sa("A", "S", &["p"], 1)]);
    // A clock that advances 7ns per reading: start, then end.
    let t = std::cell::Cell::new(1_700_000_000_000_000_000i64);
    let clock = || {
        t.set(t.get() + 7);
        t.get()
    };
    let snap = j.meta_snapshot(&clock).expect("encodes");
    assert_eq!(snap.streams, 1);
    let cc = j.cluster.as_ref().expect("cluster");
    assert_eq!(cc.last_meta_snap_time, 1_700_000_000_000_000_007);
    assert_eq!(cc.last_meta_snap_time, snap.started_unix_nanos);
    assert_eq!(cc.last_meta_snap_duration, 7);
    assert_eq!(cc.last_meta_snap_duration, snap.took_nanos);
}

fn keys_of_streams(v: &[StreamAssignment]) -> Vec<String> {
    v.iter().map(|s| s.recovery_key()).collect()
}

fn keys_of_consumers(v: &[ConsumerAssignment]) -> Vec<String> {
    v.iter().map(|c| c.recovery_key()).collect()
}

#[test]
fn diff_classifies_streams_and_consumers() {
    let current = js(vec![
        with_consumers(sa("A", "KEEP", &["p1"], 1), vec![ca("A", "KEEP", "same", "G1"), ca("A", "KEEP", "gone", "G2"), ca("A", "KEEP", "moved", "G3")]),
        sa("A", "DROP", &["p1"], 1),
        sa("B", "DROP", &["p1"], 1),
    ]);
    let snap = map(vec![
        with_consumers(sa("A", "KEEP", &["p9"], 1), vec![ca("A", "KEEP", "same", "G1"), ca("A", "KEEP", "moved", "G3b"), ca("A", "KEEP", "new", "G4")]),
        with_consumers(sa("C", "NEW", &["p1"], 1), vec![ca("C", "NEW", "n", "G5")]),
    ]);
    let d = current.meta_snapshot_diff(snap);
    assert_eq!(keys_of_streams(&d.remove_streams), vec!["A:DROP", "B:DROP"]);
    assert_eq!(keys_of_streams(&d.add_streams), vec!["C:NEW"]);
    assert_eq!(d.add_streams[0].consumers.len(), 1);
    assert_eq!(keys_of_streams(&d.update_streams), vec!["A:KEEP"]);
    assert_eq!(d.update_streams[0].group.as_ref().map(|g| g.peers[0].as_str()), Some("p9"));
    assert_eq!(keys_of_consumers(&d.remove_consumers), vec!["A:KEEP:gone", "A:KEEP:moved"]);
    assert_eq!(d.remove_consumers[1].group.as_ref().map(|g| g.name.as_str()), Some("G3"));
    assert_eq!(keys_of_consumers(&d.add_consumers), vec!["A:KEEP:moved", "A:KEEP:new", "A:KEEP:same"]);
}

#[test]
fn diff_of_identical_state_only_updates() {
    let j = js(sample().into_values().flat_map(|a| a.into_values()).collect());
    let d = j.meta_snapshot_diff(sample());
    assert!(d.remove_streams.is_empty() && d.add_streams.is_empty() && d.remove_consumers.is_empty());
    assert_eq!(d.update_streams.len(), 3);
    assert_eq!(d.add_consumers.len(), 3);
}

fn snapshot_bytes(sas: Vec<StreamAssignment>) -> Vec<u8> {
    JetStream::encode_meta_snapshot(&map(sas), &|| 0).expect("encodes").data
}

#[test]
fn apply_while_recovering_stages_updates() {
    let current = js(vec![with_consumers(sa("A", "KEEP", &["p1"], 1), vec![ca("A", "KEEP", "gone", "G2")]), sa("A", "DROP", &["p1"], 1)]);
    let buf = snapshot_bytes(vec![
        with_consumers(sa("A", "KEEP", &["p1"], 1), vec![ca("A", "KEEP", "k", "G1")]),
        with_consumers(sa("A", "NEW", &["p1"], 1), vec![ca("A", "NEW", "n", "G5")]),
    ]);
    let mut ru = RecoveryUpdates::new();
    let actions = current.apply_meta_snapshot(&buf, &mut ru, true).expect("applies");
    assert!(actions.is_empty());
    assert_eq!(ru.remove_streams.keys().collect::<Vec<_>>(), vec!["A:DROP"]);
    assert!(ru.remove_streams["A:DROP"].recovering);
    let added = &ru.add_streams["A:NEW"];
    assert!(added.consumers.is_empty(), "new streams are staged without consumers");
    assert!(added.recovering && added.responded);
    assert_eq!(ru.update_streams.keys().collect::<Vec<_>>(), vec!["A:KEEP"]);
    assert_eq!(ru.update_consumers["A:NEW"].keys().collect::<Vec<_>>(), vec!["A:NEW:n"]);
    assert_eq!(ru.update_consumers["A:KEEP"].keys().collect::<Vec<_>>(), vec!["A:KEEP:k"]);
    assert_eq!(ru.remove_consumers["A:KEEP"].keys().collect::<Vec<_>>(), vec!["A:KEEP:gone"]);
    assert!(ru.update_consumers["A:KEEP"]["A:KEEP:k"].recovering);
    assert!(ru.update_streams["A:KEEP"].group.as_ref().is_some_and(|g| g.preferred.is_empty()));
}

#[test]
fn apply_outside_recovery_returns_ordered_actions() {
    let current = js(vec![with_consumers(sa("A", "KEEP", &["p1"], 1), vec![ca("A", "KEEP", "gone", "G2")]), sa("A", "DROP", &["p1"], 1)]);
    let buf = snapshot_bytes(vec![
        with_consumers(sa("A", "KEEP", &["p1"], 1), vec![ca("A", "KEEP", "k", "G1")]),
        with_consumers(sa("A", "NEW", &["p1"], 1), vec![ca("A", "NEW", "n", "G5")]),
    ]);
    let mut ru = RecoveryUpdates::new();
    let actions = current.apply_meta_snapshot(&buf, &mut ru, false).expect("applies");
    assert_eq!(ru, RecoveryUpdates::new());
    let summary: Vec<String> = actions
        .iter()
        .map(|a| match a {
            MetaAction::RemoveStream(s) => format!("-S {}", s.recovery_key()),
            MetaAction::AddStream(s) => format!("+S {} ({})", s.recovery_key(), s.consumers.len()),
            MetaAction::UpdateStream(s) => format!("~S {}", s.recovery_key()),
            MetaAction::RemoveConsumer(c) => format!("-C {}", c.recovery_key()),
            MetaAction::AddConsumer(c) => format!("+C {}", c.recovery_key()),
        })
        .collect();
    assert_eq!(summary, vec!["-S A:DROP", "+S A:NEW (1)", "+C A:NEW:n", "~S A:KEEP", "-C A:KEEP:gone", "+C A:KEEP:k"]);
    for a in &actions {
        let rec = match a {
            MetaAction::RemoveStream(s) | MetaAction::AddStream(s) | MetaAction::UpdateStream(s) => s.recovering && s.consumers.values().all(|c| c.recovering),
            MetaAction::RemoveConsumer(c) | MetaAction::AddConsumer(c) => c.recovering,
        };
        assert!(rec, "{a:?} not marked recovering");
    }
}

#[test]
fn apply_rejects_invalid_snapshot() {
    let current = js(vec![sa("A", "S", &["p1"], 1)]);
    let mut ru = RecoveryUpdates::new();
    assert!(current.apply_meta_snapshot(b"not a valid snapshot", &mut ru, false).is_err());
    assert_eq!(ru, RecoveryUpdates::new());
}

#[test]
fn apply_empty_snapshot_removes_everything() {
    let current = js(vec![sa("A", "S", &["p1"], 1), sa("B", "T", &["p1"], 1)]);
    let mut ru = RecoveryUpdates::new();
    let actions = current.apply_meta_snapshot(&[], &mut ru, false).expect("applies");
    assert_eq!(actions.len(), 2);
    assert!(actions.iter().all(|a| matches!(a, MetaAction::RemoveStream(_))));
}
