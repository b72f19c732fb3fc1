use super::*;
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};

#[test]
fn stream_recovery_key_uses_service_account_first() {
    let mut s = sa("ACC", "ORDERS", &["a"], 1);
    assert_eq!(s.recovery_key(), "ACC:ORDERS");
    if let Some(c) = s.client.as_mut() {
        c.service = "SVC".into();
    }
    assert_eq!(s.recovery_key(), "SVC:ORDERS");
    s.client = None;
    assert_eq!(s.recovery_key(), ":ORDERS");
}

#[test]
fn consumer_recovery_keys() {
    let c = ca("ACC", "ORDERS", "proc", "C-R3F-1");
    assert_eq!(c.stream_recovery_key(), "ACC:ORDERS");
    assert_eq!(c.recovery_key(), "ACC:ORDERS:proc");
    let s = sa("ACC", "ORDERS", &["a"], 1);
    assert_eq!(c.stream_recovery_key(), s.recovery_key());
}

#[test]
fn stream_copy_group_is_independent() {
    let orig = with_consumers(sa("A", "S", &["p1", "p2"], 3), vec![ca("A", "S", "c", "C-1")]);
    let mut copy = orig.copy_group();
    assert_eq!(copy, orig);
    let g = copy.group.as_mut().expect("group");
    g.peers.push("p3".into());
    g.peers[0] = "zz".into();
    g.name = "other".into();
    let og = orig.group.as_ref().expect("group");
    assert_eq!(og.peers, vec!["p1", "p2"]);
    assert_eq!(og.name, "S-R3F-S");
    assert_eq!(copy.consumers.len(), 1);
}

#[test]
fn consumer_copy_group_is_independent() {
    let orig = ca("A", "S", "c", "C-1");
    let mut copy = orig.copy_group();
    assert_eq!(copy, orig);
    copy.group.as_mut().expect("group").peers.clear();
    assert_eq!(orig.group.as_ref().expect("group").peers.len(), 3);
}

#[test]
fn missing_peers_compares_with_replicas() {
    assert!(sa("A", "S", &["p1", "p2"], 3).missing_peers());
    assert!(!sa("A", "S", &["p1", "p2", "p3"], 3).missing_peers());
    assert!(!sa("A", "S", &["p1", "p2", "p3"], 1).missing_peers());
    let mut s = sa("A", "S", &[], 1);
    assert!(s.missing_peers());
    s.group = None;
    assert!(s.missing_peers());
}

#[test]
fn is_member_is_nil_safe() {
    let s = sa("A", "S", &["p1", "p2"], 2);
    let g = s.group.as_ref();
    assert!(RaftGroup::is_member(g, "p1"));
    assert!(RaftGroup::is_member(g, "p2"));
    assert!(!RaftGroup::is_member(g, "p3"));
    assert!(!RaftGroup::is_member(g, ""));
    assert!(!RaftGroup::is_member(None, "p1"));
}

#[test]
fn client_info_reductions() {
    let s = sa("A", "S", &["p1"], 1);
    let c = s.client.as_ref().expect("client");
    let snap = c.for_assignment_snap();
    assert_eq!((snap.account.as_str(), snap.server.as_str(), snap.jwt.as_str()), ("A", "", ""));
    let prop = c.for_proposal();
    assert_eq!((prop.server.as_str(), prop.jwt.as_str(), prop.issuer_key.as_str()), ("n1", "", ""));
}

#[test]
fn assignment_json_shape_matches_go_tags() {
    let s = sa("A", "S", &["p1"], 1);
    let v = serde_json::to_value(&s).expect("serialises");
    // serde_json::Value orders keys by name, or by insertion when another
    // crate of the build enables preserve_order; compare them as a set.
    let mut keys: Vec<&str> = v.as_object().expect("object").keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["client", "created", "group", "reply", "stream", "subject", "sync"]);
    assert_eq!(v["group"]["store"], "file");
    assert_eq!(v["group"]["scale_up"], true);
    assert_eq!(v["client"]["acc"], "A");
    let mut bare = s.clone();
    bare.group = None;
    bare.client = None;
    bare.subject.clear();
    let v = serde_json::to_value(&bare).expect("serialises");
    assert!(v["group"].is_null());
    assert!(v.get("client").is_none() && v.get("subject").is_none());
    let c = serde_json::to_value(ca("A", "S", "c", "g")).expect("serialises");
    assert!(c.get("consumer").is_some() && c.get("state").is_none());
}

#[test]
fn null_peers_and_missing_group_decode() {
    let g: RaftGroup = serde_json::from_str(r#"{"name":"g","peers":null,"store":"memory"}"#).expect("decodes");
    assert!(g.peers.is_empty());
    assert_eq!(g.storage, StorageType::Memory);
    assert!(serde_json::from_str::<RaftGroup>(r#"{"name":"g","peers":[],"store":"disk"}"#).is_err());
}

#[test]
fn go_time_formats_and_parses_like_go() {
    // time.Unix(0, 0).UTC() and a nanosecond-precise instant, as json.Marshal writes them.
    assert_eq!(GoTime::from_unix_nanos(0).0, "1970-01-01T00:00:00Z");
    assert_eq!(GoTime::from_unix_nanos(1_715_065_689_123_456_789).0, "2024-05-07T07:08:09.123456789Z");
    assert_eq!(GoTime::from_unix_nanos(1_715_065_689_120_000_000).0, "2024-05-07T07:08:09.12Z");
    assert_eq!(GoTime::from_unix_nanos(951_782_400_000_000_000).0, "2000-02-29T00:00:00Z");
    for n in [0i64, 1, 999_999_999, 1_715_065_689_123_456_789, -1, 4_102_444_800_000_000_000] {
        assert_eq!(GoTime::from_unix_nanos(n).unix_nanos(), Some(n), "round trip of {n}");
    }
    assert_eq!(GoTime("2024-05-06T07:08:09.5+02:00".into()).unix_nanos(), Some(1_714_972_089_500_000_000));
    assert_eq!(GoTime("2024-05-06T07:08:09Z".into()).unix_nanos(), GoTime("2024-05-06T09:08:09+02:00".into()).unix_nanos());
    for bad in ["", "2024-05-06", "2024-13-06T07:08:09Z", "2024-05-06T07:08:09", "2024-05-06T07:08:09.Z", "x024-05-06T07:08:09Z"] {
        assert_eq!(GoTime(bad.into()).unix_nanos(), None, "{bad:?}");
    }
    assert!(GoTime::default().is_zero());
    assert_eq!(GoTime::default().unix_nanos(), None, "year 1 does not fit in i64 nanoseconds");
    assert!(!GoTime::from_unix_nanos(0).is_zero());
    assert!(!GoTime("garbage".into()).is_zero());
}

#[test]
fn go_time_decoding_checks_the_text_like_go() {
    let t: GoTime = serde_json::from_str("\"2024-05-06T07:08:09.5Z\"").expect("a time");
    assert_eq!(t.0, "2024-05-06T07:08:09.5Z", "kept verbatim");
    let z: GoTime = serde_json::from_str("null").expect("null is the zero time");
    assert!(z.is_zero());
    for bad in ["\"x\"", "\"2024-05-06\"", "17", "\"2024-05-06T07:08:09\""] {
        assert!(serde_json::from_str::<GoTime>(bad).is_err(), "{bad}");
    }
    // A stream assignment with a bad time or no config is an error, as upstream's decoder makes it.
    assert!(crate::jetstream_cluster::ops::decode_stream_assignment(br#"{"created":"x","stream":{"name":"S"},"group":null,"sync":""}"#).is_err());
    assert!(crate::jetstream_cluster::ops::decode_stream_assignment(br#"{"created":"2024-01-01T00:00:00Z","group":null,"sync":""}"#).is_err());
    let sa = crate::jetstream_cluster::ops::decode_stream_assignment(br#"{"created":"2024-01-01T00:00:00Z","stream":null,"group":null,"sync":""}"#)
        .expect("a null config is the zero config");
    assert_eq!(sa.name(), "");
}
