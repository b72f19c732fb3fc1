use super::*;
use crate::jetstream_cluster::test_util::sa;

#[test]
fn create_error_and_delete_responses_have_go_shapes() {
    let r = JsApiStreamCreateResponse::new(Some(ApiError::stream_create(ERR_STREAM_STORE_FAILED, None)));
    assert_eq!(
        serde_json::to_string(&r).expect("json"),
        r#"{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":500,"err_code":10049,"description":"error creating store for stream"}}"#
    );
    // An API error passes through NewJSStreamCreateError unchanged (Unless).
    let api = ApiError::stream_not_found();
    assert_eq!(ApiError::stream_create("ignored", Some(&api)), api);
    assert_eq!((api.code, api.err_code, api.description.as_str()), (404, 10059, "stream not found"));
    let g = ApiError::stream_general("boom", None);
    assert_eq!((g.code, g.err_code, g.description.as_str()), (500, 10051, "boom"));
    let d = JsApiStreamDeleteResponse { typ: JS_API_STREAM_DELETE_RESPONSE_TYPE, error: None, success: true };
    assert_eq!(serde_json::to_string(&d).expect("json"), r#"{"type":"io.nats.jetstream.api.v1.stream_delete_response","success":true}"#);
    let d = JsApiStreamDeleteResponse { typ: JS_API_STREAM_DELETE_RESPONSE_TYPE, error: Some(g), success: false };
    assert_eq!(
        serde_json::to_string(&d).expect("json"),
        r#"{"type":"io.nats.jetstream.api.v1.stream_delete_response","error":{"code":500,"err_code":10051,"description":"boom"}}"#
    );
}

#[test]
fn assignment_results_omit_what_is_unset() {
    let r = StreamAssignmentResult { account: "A".into(), stream: "S".into(), response: None, update: true };
    assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"account":"A","stream":"S","is_update":true}"#);
    let r = StreamAssignmentResult { account: "A".into(), stream: "S".into(), response: Some(JsApiStreamCreateResponse::new(None)), update: false };
    assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"account":"A","stream":"S","create_response":{"type":"io.nats.jetstream.api.v1.stream_create_response"}}"#);
}

#[test]
fn stream_state_json_follows_go_tags() {
    let st = StreamState { msgs: 2, bytes: 10, first_seq: 3, first_time: 1_700_000_000_000_000_001, last_seq: 5, last_time: 1_700_000_001_000_000_000, num_deleted: 1, deleted: vec![4], ..Default::default() };
    assert_eq!(
        serde_json::to_string(&StreamStateJson::from(&st)).expect("json"),
        r#"{"messages":2,"bytes":10,"first_seq":3,"first_ts":"2023-11-14T22:13:20.000000001Z","last_seq":5,"last_ts":"2023-11-14T22:13:21Z","num_deleted":1,"deleted":[4],"consumer_count":0}"#
    );
    let empty = StreamStateJson::from(&StreamState::default());
    let j = serde_json::to_string(&empty).expect("json");
    assert_eq!(j, r#"{"messages":0,"bytes":0,"first_seq":0,"first_ts":"0001-01-01T00:00:00Z","last_seq":0,"last_ts":"0001-01-01T00:00:00Z","consumer_count":0}"#);
}

#[test]
fn config_keys_come_in_stream_config_order_with_dynamic_metadata() {
    let a = sa("A", "ORD", &["p1"], 1);
    let cfg = set_dynamic_stream_metadata(a.config.as_ref().expect("config"));
    let raw = stream_config_json(&cfg).expect("encodes");
    let v: serde_json::Value = serde_json::from_str(raw.get()).expect("json");
    let keys: Vec<&str> = {
        let mut k = Vec::new();
        let text = raw.get();
        for key in ["name", "subjects", "retention", "storage", "num_replicas", "metadata"] {
            k.push((text.find(&format!("\"{key}\":")).unwrap_or(usize::MAX), key));
        }
        k.sort();
        k.into_iter().map(|(_, key)| key).collect()
    };
    assert_eq!(keys, ["name", "subjects", "retention", "storage", "num_replicas", "metadata"]);
    assert_eq!(v["metadata"], serde_json::json!({"_nats.level": "4", "_nats.ver": "2.14.0-dev"}));
    // The stored config keeps no dynamic metadata.
    assert!(a.config.as_ref().and_then(|c| c.metadata.as_ref()).is_none_or(|m| !m.contains_key(JS_SERVER_VERSION_METADATA_KEY)));
}

#[test]
fn cluster_info_omits_empty_fields() {
    let ci = ClusterInfo { name: "C".into(), leader: "S-1".into(), ..Default::default() };
    assert_eq!(serde_json::to_string(&ci).expect("json"), r#"{"name":"C","leader":"S-1"}"#);
    let adv = StreamActionAdvisory { typ: JS_STREAM_ACTION_ADVISORY_TYPE, id: "X".into(), timestamp: GoTime::from_unix_nanos(0), stream: "S".into(), action: "create", domain: String::new() };
    assert_eq!(
        serde_json::to_string(&adv).expect("json"),
        r#"{"type":"io.nats.jetstream.advisory.v1.stream_action","id":"X","timestamp":"1970-01-01T00:00:00Z","stream":"S","action":"create"}"#
    );
}
