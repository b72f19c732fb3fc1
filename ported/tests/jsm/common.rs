//! Builders shared by the meta-layer tests.

use ported::jetstream_cluster::config::{ConsumerConfig, StreamConfig};
use ported::jetstream_cluster::{ConsumerAssignment, StreamAssignment};

/// Go: `&StreamConfig{Name: name, Storage: FileStorage}` (or `MemoryStorage`).
pub fn stream_config(name: &str, storage: &str) -> StreamConfig {
    let mut cfg = StreamConfig { name: name.to_string(), ..Default::default() };
    cfg.extra.insert("storage".into(), serde_json::Value::String(storage.into()));
    cfg
}

/// Go: `&streamAssignment{Config: cfg}`.
pub fn stream_assignment(cfg: StreamConfig) -> StreamAssignment {
    StreamAssignment { config: Some(cfg), ..Default::default() }
}

/// Go: `&consumerAssignment{Stream: stream, Config: &ConsumerConfig{Name: name}}`.
pub fn consumer_assignment_with_config(stream: &str, name: &str) -> ConsumerAssignment {
    ConsumerAssignment { stream: stream.to_string(), config: Some(ConsumerConfig { name: name.to_string(), ..Default::default() }), ..Default::default() }
}
