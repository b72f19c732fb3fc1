//! Builders for assignments used by this module's unit tests.

use super::assignments::{ConsumerAssignment, StreamAssignment};
use super::ops::{decode_consumer_assignment, decode_stream_assignment};

/// A decoded stream assignment in `account` with the given peers and replicas.
pub(crate) fn sa(account: &str, name: &str, peers: &[&str], replicas: i64) -> StreamAssignment {
    let json = serde_json::json!({
        "client": {"acc": account, "server": "n1", "jwt": "secret-jwt", "issuer_key": "IK"},
        "created": "2024-05-06T07:08:09.123456789Z",
        "stream": {"name": name, "subjects": [format!("{name}.>")], "retention": "limits",
                   "num_replicas": replicas, "storage": "file"},
        "group": {"name": format!("S-R{replicas}F-{name}"), "peers": peers, "store": "file",
                  "preferred": peers.first().copied().unwrap_or(""), "scale_up": true},
        "sync": format!("$JSC.SYNC.{name}"),
        "subject": "$JS.API.STREAM.CREATE",
        "reply": "_INBOX.1"
    });
    decode_stream_assignment(json.to_string().as_bytes()).expect("valid test assignment")
}

/// A decoded consumer assignment of `stream` in `account`, in raft group `group`.
pub(crate) fn ca(account: &str, stream: &str, name: &str, group: &str) -> ConsumerAssignment {
    let json = serde_json::json!({
        "client": {"acc": account, "jwt": "secret-jwt"},
        "created": "2024-05-06T07:08:10Z",
        "name": name,
        "stream": stream,
        "consumer": {"durable_name": name, "ack_policy": "explicit", "num_replicas": 0},
        "group": {"name": group, "peers": ["p1", "p2", "p3"], "store": "file", "preferred": "p2"}
    });
    decode_consumer_assignment(json.to_string().as_bytes()).expect("valid test consumer")
}

/// `sa` with consumers attached.
pub(crate) fn with_consumers(mut s: StreamAssignment, cas: Vec<ConsumerAssignment>) -> StreamAssignment {
    for c in cas {
        s.consumers.insert(c.name.clone(), c);
    }
    s
}
