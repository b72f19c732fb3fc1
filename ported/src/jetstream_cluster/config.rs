//! Typed views of the stream and consumer configurations carried inside
//! assignments, and the decoding step that flags configs this server level
//! cannot run ("unsupported" assignments).
//!
//! Only the fields the cluster meta code reads are typed; every other field
//! is kept verbatim in `extra`. A config is written with its fields in the
//! order of upstream's struct (as `encoding/json` writes a struct), typed
//! and kept fields alike, so a config Go wrote re-encodes to Go's bytes.
//! Upstream decodes into the full Go structs instead, so it also writes
//! the zero values of fields without `omitempty` that the input lacked;
//! the port writes only what it read. Other differences are noted where
//! they matter.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The JetStream API level of the reference server (8188ea93a).
pub const JS_API_LEVEL: i64 = 4;

/// Metadata key holding the API level an asset requires.
pub const JS_REQUIRED_LEVEL_METADATA_KEY: &str = "_nats.req.level";

/// Top-level JSON keys of upstream's StreamConfig at 8188ea93a; any other key
/// makes a stream assignment unsupported.
const STREAM_CONFIG_KEYS: &[&str] = &[
    "name", "description", "subjects", "retention", "max_consumers", "max_msgs", "max_bytes",
    "max_age", "max_msgs_per_subject", "max_msg_size", "discard", "storage", "num_replicas",
    "no_ack", "duplicate_window", "placement", "mirror", "sources", "compression", "first_seq",
    "subject_transform", "republish", "allow_direct", "mirror_direct", "discard_new_per_subject",
    "sealed", "deny_delete", "deny_purge", "allow_rollup_hdrs", "consumer_limits",
    "allow_msg_ttl", "subject_delete_marker_ttl", "allow_msg_counter", "allow_atomic",
    "allow_msg_schedules", "persist_mode", "allow_batched", "metadata",
];

/// Top-level JSON keys of upstream's ConsumerConfig at 8188ea93a.
const CONSUMER_CONFIG_KEYS: &[&str] = &[
    "durable_name", "name", "description", "deliver_policy", "opt_start_seq", "opt_start_time",
    "ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject", "filter_subjects",
    "replay_policy", "rate_limit_bps", "sample_freq", "max_waiting", "max_ack_pending",
    "flow_control", "headers_only", "max_batch", "max_expires", "max_bytes", "deliver_subject",
    "deliver_group", "idle_heartbeat", "inactive_threshold", "num_replicas", "mem_storage",
    "direct", "sourcing", "metadata", "pause_until", "priority_groups", "priority_policy",
    "priority_timeout",
];

/// A stream configuration: typed where the meta layer needs it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct StreamConfig {
    /// Stream name.
    #[serde(default)]
    pub name: String,
    /// Configured replica count.
    #[serde(rename = "num_replicas", default)]
    pub replicas: i64,
    /// Deduplication window in nanoseconds.
    #[serde(rename = "duplicate_window", default)]
    pub duplicates: i64,
    /// Mirror source, if this stream is a mirror.
    #[serde(default)]
    pub mirror: Option<Value>,
    /// Free-form metadata (also carries the required API level).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// All other fields, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A consumer configuration: typed where the meta layer needs it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ConsumerConfig {
    /// Durable name (empty for ephemerals).
    #[serde(rename = "durable_name", default)]
    pub durable: String,
    /// Consumer name.
    #[serde(default)]
    pub name: String,
    /// Replica count; 0 inherits the stream's.
    #[serde(rename = "num_replicas", default)]
    pub replicas: i64,
    /// Keep state in memory regardless of the stream's storage.
    #[serde(rename = "mem_storage", default)]
    pub mem_storage: bool,
    /// Free-form metadata (also carries the required API level).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// All other fields, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Writes `extra`'s fields and the typed ones (by `typed`, which writes
/// a field and says whether the key is one of them) in the order of
/// `order`, upstream's struct; keys upstream does not know (an unsupported
/// config) follow in the order they were read.
fn serialize_in_go_order<S: Serializer>(
    s: S,
    order: &[&str],
    extra: &Map<String, Value>,
    mut typed: impl FnMut(&str, &mut S::SerializeMap) -> Result<bool, S::Error>,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    for &key in order {
        if !typed(key, &mut m)? {
            if let Some(v) = extra.get(key) {
                m.serialize_entry(key, v)?;
            }
        }
    }
    for (k, v) in extra.iter().filter(|(k, _)| !order.contains(&k.as_str())) {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

/// Go's `omitempty` on a map: an empty one is left out like a nil one.
fn metadata_entry<M: SerializeMap>(m: &mut M, metadata: &Option<BTreeMap<String, String>>) -> Result<(), M::Error> {
    match metadata {
        Some(md) if !md.is_empty() => m.serialize_entry("metadata", md),
        _ => Ok(()),
    }
}

impl Serialize for StreamConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_in_go_order(s, STREAM_CONFIG_KEYS, &self.extra, |key, m| {
            match key {
                "name" => m.serialize_entry(key, &self.name)?,
                "num_replicas" => m.serialize_entry(key, &self.replicas)?,
                "duplicate_window" if !is_zero(&self.duplicates) => m.serialize_entry(key, &self.duplicates)?,
                "mirror" => {
                    if let Some(v) = &self.mirror {
                        m.serialize_entry(key, v)?;
                    }
                }
                "metadata" => metadata_entry(m, &self.metadata)?,
                "duplicate_window" => {}
                _ => return Ok(false),
            }
            Ok(true)
        })
    }
}

impl Serialize for ConsumerConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_in_go_order(s, CONSUMER_CONFIG_KEYS, &self.extra, |key, m| {
            match key {
                "durable_name" if !self.durable.is_empty() => m.serialize_entry(key, &self.durable)?,
                "name" if !self.name.is_empty() => m.serialize_entry(key, &self.name)?,
                "num_replicas" => m.serialize_entry(key, &self.replicas)?,
                "mem_storage" if !is_false(&self.mem_storage) => m.serialize_entry(key, &self.mem_storage)?,
                "metadata" => metadata_entry(m, &self.metadata)?,
                "durable_name" | "name" | "mem_storage" => {}
                _ => return Ok(false),
            }
            Ok(true)
        })
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// Errors decoding an assignment's configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration is not a JSON object of the expected shape.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Port of getRequiredApiLevel
pub fn get_required_api_level(metadata: Option<&BTreeMap<String, String>>) -> Option<&str> {
    metadata
        .and_then(|m| m.get(JS_REQUIRED_LEVEL_METADATA_KEY))
        .map(String::as_str)
        .filter(|l| !l.is_empty())
}

/// Port of supportsRequiredApiLevel
///
/// Go's `strconv.Atoi` accepts an optional sign, so does this.
pub fn supports_required_api_level(metadata: Option<&BTreeMap<String, String>>) -> bool {
    match get_required_api_level(metadata) {
        Some(l) => l.parse::<i64>().map(|v| v <= JS_API_LEVEL).unwrap_or(false),
        None => true,
    }
}

/// The first top-level key not known to upstream's config struct, as Go's
/// strict decoder reports it. Nested unknown keys are not checked here
/// (upstream would also reject those).
fn first_unknown_key(raw: &str, known: &[&str]) -> Result<Option<String>, serde_json::Error> {
    if is_null(raw) {
        return Ok(None);
    }
    let obj: Map<String, Value> = serde_json::from_str(raw)?;
    Ok(obj.keys().find(|k| !known.contains(&k.as_str())).cloned())
}

/// A JSON `null`: Go's decoder leaves the config at its zero value.
fn is_null(raw: &str) -> bool {
    raw.trim() == "null"
}

/// Decodes a config, taking `null` as the zero value like Go's decoder.
fn from_json_or_zero<C: serde::de::DeserializeOwned + Default>(raw: &str) -> Result<C, serde_json::Error> {
    if is_null(raw) {
        return Ok(C::default());
    }
    serde_json::from_str(raw)
}

/// Why an assignment is held but not run; computed the way
/// `newUnsupportedStreamAssignment`/`newUnsupportedConsumerAssignment` do.
fn unsupported_reason(unknown: Option<String>, metadata: Option<&BTreeMap<String, String>>) -> String {
    if let Some(key) = unknown {
        return format!("unsupported - config error: unknown field \"{key}\"");
    }
    match get_required_api_level(metadata) {
        Some(req) if !supports_required_api_level(metadata) => {
            format!("unsupported - required API level: {req}, current API level: {JS_API_LEVEL}")
        }
        _ => "stopped".to_string(),
    }
}

/// Result of decoding an assignment's raw config.
#[derive(Debug, Clone)]
pub struct DecodedConfig<C> {
    /// The config.
    pub config: C,
    /// `Some(reason)` when the assignment must be kept but not run.
    pub unsupported: Option<String>,
}

/// Decodes a raw stream config the way `decodeStreamAssignmentConfig` does:
/// unknown fields or a too-new required API level mark it unsupported, a
/// mirror's dedupe window is cleared (`fixCfgMirrorWithDedupWindow`).
pub fn decode_stream_config(raw: &str) -> Result<DecodedConfig<StreamConfig>, ConfigError> {
    let mut config: StreamConfig = from_json_or_zero(raw)?;
    let unknown = first_unknown_key(raw, STREAM_CONFIG_KEYS)?;
    fix_cfg_mirror_with_dedup_window(&mut config);
    let supported = unknown.is_none() && supports_required_api_level(config.metadata.as_ref());
    let unsupported = (!supported).then(|| unsupported_reason(unknown, config.metadata.as_ref()));
    Ok(DecodedConfig { config, unsupported })
}

/// Decodes a raw consumer config as `decodeConsumerAssignmentConfig` does.
pub fn decode_consumer_config(raw: &str) -> Result<DecodedConfig<ConsumerConfig>, ConfigError> {
    let config: ConsumerConfig = from_json_or_zero(raw)?;
    let unknown = first_unknown_key(raw, CONSUMER_CONFIG_KEYS)?;
    let supported = unknown.is_none() && supports_required_api_level(config.metadata.as_ref());
    let unsupported = (!supported).then(|| unsupported_reason(unknown, config.metadata.as_ref()));
    Ok(DecodedConfig { config, unsupported })
}

/// Port of fixCfgMirrorWithDedupWindow
pub fn fix_cfg_mirror_with_dedup_window(cfg: &mut StreamConfig) {
    if cfg.mirror.is_some() && cfg.duplicates != 0 {
        cfg.duplicates = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_config_keeps_unknown_typed_fields_verbatim() {
        let raw = r#"{"name":"S","subjects":["a.>"],"retention":"limits","num_replicas":3,"storage":"file"}"#;
        let d = decode_stream_config(raw).expect("decodes");
        assert_eq!(d.config.name, "S");
        assert_eq!(d.config.replicas, 3);
        assert!(d.unsupported.is_none());
        let back: Value = serde_json::to_value(&d.config).expect("encodes");
        assert_eq!(back, serde_json::from_str::<Value>(raw).expect("json"));
    }

    #[test]
    fn null_config_decodes_to_the_zero_value() {
        let s = decode_stream_config(" null ").expect("null stream config");
        assert_eq!(s.config, StreamConfig::default());
        assert!(s.unsupported.is_none());
        let c = decode_consumer_config("null").expect("null consumer config");
        assert_eq!(c.config, ConsumerConfig::default());
        assert!(c.unsupported.is_none());
        assert!(decode_consumer_config("[1]").is_err(), "other non-objects still fail");
    }

    #[test]
    fn unknown_field_is_unsupported() {
        let d = decode_stream_config(r#"{"name":"S","num_replicas":1,"future_knob":true}"#).expect("decodes");
        assert_eq!(d.unsupported.as_deref(), Some("unsupported - config error: unknown field \"future_knob\""));
        let d = decode_consumer_config(r#"{"durable_name":"C","ack_policy":"explicit","zzz":1}"#).expect("decodes");
        assert_eq!(d.unsupported.as_deref(), Some("unsupported - config error: unknown field \"zzz\""));
    }

    #[test]
    fn required_api_level() {
        let mut m = BTreeMap::new();
        assert!(supports_required_api_level(None));
        m.insert(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), "4".to_string());
        assert!(supports_required_api_level(Some(&m)));
        m.insert(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), "5".to_string());
        assert!(!supports_required_api_level(Some(&m)));
        m.insert(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), "x".to_string());
        assert!(!supports_required_api_level(Some(&m)));
        m.insert(JS_REQUIRED_LEVEL_METADATA_KEY.to_string(), String::new());
        assert!(supports_required_api_level(Some(&m)));
        let d = decode_stream_config(r#"{"name":"S","num_replicas":1,"metadata":{"_nats.req.level":"9"}}"#).expect("ok");
        assert_eq!(d.unsupported.as_deref(), Some("unsupported - required API level: 9, current API level: 4"));
    }

    #[test]
    fn mirror_clears_dedupe_window() {
        let d = decode_stream_config(r#"{"name":"M","num_replicas":1,"mirror":{"name":"O"},"duplicate_window":120000000000}"#).expect("ok");
        assert_eq!(d.config.duplicates, 0);
        let d = decode_stream_config(r#"{"name":"S","num_replicas":1,"duplicate_window":5}"#).expect("ok");
        assert_eq!(d.config.duplicates, 5);
    }

    #[test]
    fn malformed_config_is_an_error() {
        assert!(decode_stream_config("[1,2]").is_err());
        assert!(decode_stream_config(r#"{"name":5}"#).is_err());
        assert!(decode_consumer_config("not json").is_err());
    }
}
