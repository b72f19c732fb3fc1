//! The JSON both meta examples print for stream assignments: one object per
//! stream with its account, the assignment as nats-server encodes it, its
//! consumers and, when the server cannot run it, why.

use ported::jetstream_cluster::StreamMap;
use serde_json::{json, Value};

/// `[{account, assignment, consumers, unsupported}, ...]`, by account then stream.
pub fn streams_json(streams: &StreamMap) -> Result<Value, String> {
    let mut list = Vec::new();
    for (account, asa) in streams {
        for sa in asa.values() {
            let consumers: Result<Vec<Value>, _> = sa.consumers.values().map(serde_json::to_value).collect();
            list.push(json!({
                "account": account,
                "assignment": serde_json::to_value(sa).map_err(|e| e.to_string())?,
                "consumers": consumers.map_err(|e| e.to_string())?,
                "unsupported": sa.unsupported.as_ref().map(|u| u.reason.clone()),
            }));
        }
    }
    Ok(Value::Array(list))
}
