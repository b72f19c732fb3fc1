//! Helpers shared by the jsc integration tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

/// Path of a file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name)
}

/// Decodes a lowercase hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Reads a fixture as text.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture readable")
}

/// A JSON fixture file.
pub fn fixture_json(dir: &str, name: &str) -> Value {
    serde_json::from_str(&fixture_text(&format!("{dir}/{name}"))).expect("fixture json")
}

/// Server name → raft peer id, from every server's `jsz` meta_cluster in
/// the fixture directory `dir` (`peer` is the hash of the leader's name,
/// i.e. the leader's peer id; the leader also lists its replicas).
pub fn peer_ids(dir: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for n in 1..=3 {
        let jsz = fixture_json(dir, &format!("jsz_n{n}.json"));
        let meta = &jsz["meta_cluster"];
        if let (Some(l), Some(p)) = (meta["leader"].as_str(), meta["peer"].as_str()) {
            m.insert(l.to_string(), p.to_string());
        }
        for r in meta["replicas"].as_array().into_iter().flatten() {
            m.insert(r["name"].as_str().expect("name").to_string(), r["peer"].as_str().expect("peer").to_string());
        }
    }
    m
}

/// Peer ids of the servers a reported `cluster` object (leader and
/// replicas) names.
pub fn peers_of(cluster: &Value, ids: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut names = vec![cluster["leader"].as_str().expect("leader").to_string()];
    for r in cluster["replicas"].as_array().into_iter().flatten() {
        names.push(r["name"].as_str().expect("name").to_string());
    }
    names.iter().map(|n| ids.get(n).unwrap_or_else(|| panic!("no peer id for {n}")).clone()).collect()
}

/// Every key the server reported must carry the same value in the stored
/// config, and the stored config must have the `required` keys.
pub fn assert_config_agrees(what: &str, reported: &Value, stored: &Value, required: &[&str]) {
    for key in required {
        assert!(stored.get(key).is_some(), "{what}: stored config lacks {key}");
    }
    for (k, v) in reported.as_object().expect("object") {
        if let Some(sv) = stored.get(k) {
            assert_eq!(sv, v, "{what}: field {k}");
        }
    }
}
