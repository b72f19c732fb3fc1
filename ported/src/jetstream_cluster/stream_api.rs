//! The JetStream API responses the clustered stream handlers send
//! (`server/jetstream_api.go` and `server/stream.go` at 8188ea93a):
//! `JSApiStreamCreateResponse` with its inlined `StreamInfo`,
//! `JSApiStreamDeleteResponse`, the `streamAssignmentResult` members send
//! to the meta leader, `clusterInfo`, `setDynamicStreamMetadata` and the
//! stream action advisories. Field order and `omitempty` are Go's
//! `encoding/json`'s.
//!
//! Not here: `mirror`, `sources` and `alternates` of `StreamInfo` (mirrors
//! and sources are not run by this port, so Go leaves them out too), and
//! the API audit advisory `sendAPIResponse` also publishes.

use serde::Serialize;
use serde_json::value::RawValue;

use super::assignments::{GoTime, RaftGroup};
use super::config::StreamConfig;
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::leader::PeerInfo;
use super::server::ServerEnv;
use crate::store::{LostStreamData, StreamState};

/// Go: `JSApiStreamCreateResponseType`.
pub use super::handlers::JS_API_STREAM_CREATE_RESPONSE_TYPE;
/// Go: `JSApiStreamDeleteResponseType`.
pub const JS_API_STREAM_DELETE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.stream_delete_response";
/// Go: `JSStreamActionAdvisoryType`.
pub const JS_STREAM_ACTION_ADVISORY_TYPE: &str = "io.nats.jetstream.advisory.v1.stream_action";
/// Go: `JSAdvisoryStreamCreatedPre`.
pub const JS_ADVISORY_STREAM_CREATED_PRE: &str = "$JS.EVENT.ADVISORY.STREAM.CREATED";
/// Go: `JSAdvisoryStreamDeletedPre`.
pub const JS_ADVISORY_STREAM_DELETED_PRE: &str = "$JS.EVENT.ADVISORY.STREAM.DELETED";
/// Go: `VERSION` at 8188ea93a, which `setDynamicStreamMetadata` reports.
pub const SERVER_VERSION: &str = "2.14.0-dev";
/// Go: `JSServerVersionMetadataKey`.
pub const JS_SERVER_VERSION_METADATA_KEY: &str = "_nats.ver";
/// Go: `JSServerLevelMetadataKey`.
pub const JS_SERVER_LEVEL_METADATA_KEY: &str = "_nats.level";
/// Go: `lostQuorumInterval` (`lostQuorumIntervalDefault`, 10 s): a peer
/// not heard from for longer is not reported current.
const LOST_QUORUM_INTERVAL_NANOS: i64 = 10_000_000_000;

/// Go: `StreamState` as JSON (`store.go`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamStateJson {
    pub messages: u64,
    pub bytes: u64,
    pub first_seq: u64,
    pub first_ts: GoTime,
    pub last_seq: u64,
    pub last_ts: GoTime,
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub num_subjects: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjects: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub num_deleted: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<LostJson>,
    pub consumer_count: usize,
}

/// Go: `LostStreamData` as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostJson {
    pub msgs: Option<Vec<u64>>,
    pub bytes: u64,
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

fn go_time_of(nanos: i64) -> GoTime {
    // The store keeps 0 for "no message", Go the zero time.
    if nanos == 0 {
        GoTime::default()
    } else {
        GoTime::from_unix_nanos(nanos)
    }
}

impl From<&StreamState> for StreamStateJson {
    fn from(s: &StreamState) -> Self {
        StreamStateJson {
            messages: s.msgs,
            bytes: s.bytes,
            first_seq: s.first_seq,
            first_ts: go_time_of(s.first_time),
            last_seq: s.last_seq,
            last_ts: go_time_of(s.last_time),
            num_subjects: s.num_subjects,
            // Go's omitempty drops an empty map as well as a nil one.
            subjects: s.subjects.clone().filter(|m| !m.is_empty()),
            num_deleted: s.num_deleted,
            deleted: s.deleted.clone(),
            lost: s.lost.as_ref().map(|l: &LostStreamData| LostJson { msgs: (!l.msgs.is_empty()).then(|| l.msgs.clone()), bytes: l.bytes }),
            consumer_count: s.consumers,
        }
    }
}

/// Go: `ClusterInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ClusterInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub raft_group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub leader: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader_since: Option<GoTime>,
    #[serde(rename = "system_account", skip_serializing_if = "std::ops::Not::not")]
    pub system_acc: bool,
    #[serde(rename = "traffic_account", skip_serializing_if = "String::is_empty")]
    pub traffic_acc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<PeerInfo>,
}

/// Go: `StreamInfo`, the fields this port fills.
#[derive(Debug, Clone, Serialize)]
pub struct StreamInfo {
    pub config: Box<RawValue>,
    pub created: GoTime,
    pub state: StreamStateJson,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterInfo>,
    #[serde(rename = "ts")]
    pub time_stamp: GoTime,
}

/// Go: `JSApiStreamCreateResponse` (`ApiResponse`, then `*StreamInfo`
/// inlined, then `did_create`).
#[derive(Debug, Clone, Serialize)]
pub struct JsApiStreamCreateResponse {
    #[serde(rename = "type")]
    pub typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub info: Option<StreamInfo>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub did_create: bool,
}

impl JsApiStreamCreateResponse {
    /// A response carrying only `error` (or nothing yet).
    pub fn new(error: Option<ApiError>) -> Self {
        JsApiStreamCreateResponse { typ: JS_API_STREAM_CREATE_RESPONSE_TYPE, error, info: None, did_create: false }
    }
}

/// Go: `JSApiStreamDeleteResponse`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsApiStreamDeleteResponse {
    #[serde(rename = "type")]
    pub typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub success: bool,
}

/// Go: `streamAssignmentResult`, as members send it to the meta leader on
/// `$SYS.JSC.STREAM.ASSIGNMENT.RESULT` (the restore response is not ported).
#[derive(Debug, Clone, Serialize)]
pub struct StreamAssignmentResult {
    pub account: String,
    pub stream: String,
    #[serde(rename = "create_response", skip_serializing_if = "Option::is_none")]
    pub response: Option<JsApiStreamCreateResponse>,
    #[serde(rename = "is_update", skip_serializing_if = "std::ops::Not::not")]
    pub update: bool,
}

/// Go: `JSStreamActionAdvisory`.
#[derive(Debug, Clone, Serialize)]
pub struct StreamActionAdvisory {
    #[serde(rename = "type")]
    pub typ: &'static str,
    pub id: String,
    pub timestamp: GoTime,
    pub stream: String,
    pub action: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

/// A stream configuration as Go's encoder writes its `StreamConfig`: the
/// keys in the struct's field order (keys this port does not know go
/// last, in their own order; see `config.rs`), with Go's escaping.
pub fn stream_config_json(cfg: &StreamConfig) -> Option<Box<RawValue>> {
    crate::go_json::to_raw_value(cfg).ok()
}

/// Port of setDynamicStreamMetadata
///
/// A copy of `cfg` whose metadata also carries the server version and API
/// level (only ever for responses).
pub fn set_dynamic_stream_metadata(cfg: &StreamConfig) -> StreamConfig {
    let mut c = cfg.clone();
    let md = c.metadata.get_or_insert_with(Default::default);
    md.insert(JS_SERVER_VERSION_METADATA_KEY.into(), SERVER_VERSION.into());
    md.insert(JS_SERVER_LEVEL_METADATA_KEY.into(), super::config::JS_API_LEVEL.to_string());
    c
}

impl ApiError {
    /// Go: `NewJSStreamCreateError(err, Unless(err))` (10049): an API
    /// error passes through, any other error becomes its text.
    pub fn stream_create(err: &str, api: Option<&ApiError>) -> Self {
        api.cloned().unwrap_or(ApiError { code: 500, err_code: 10049, description: err.into() })
    }

    /// Go: `NewJSStreamGeneralError(err, Unless(err))` (10051).
    pub fn stream_general(err: &str, api: Option<&ApiError>) -> Self {
        api.cloned().unwrap_or(ApiError { code: 500, err_code: 10051, description: err.into() })
    }

    /// Go: `NewJSStreamNotFoundError` (10059).
    pub fn stream_not_found() -> Self {
        ApiError { code: 404, err_code: 10059, description: "stream not found".into() }
    }
}

/// Go: `errStreamStoreFailed`, what clients see of a store failure.
pub const ERR_STREAM_STORE_FAILED: &str = "error creating store for stream";

impl dyn ServerEnv + '_ {
    /// Port of (*Server).allPeersOffline
    ///
    /// Whether no peer of `rg` is known to be online (unknown peers do
    /// not count as online).
    pub fn all_peers_offline(&self, rg: Option<&RaftGroup>) -> bool {
        let Some(rg) = rg else { return false };
        !rg.peers.iter().any(|p| self.node_info(p).is_some_and(|si| !si.offline))
    }
}

impl JetStreamCtx {
    /// Port of (*jetStream).clusterInfo
    ///
    /// The group's leader, when it leads, and the other members as peer
    /// infos sorted by name. Without a node (R1) the server itself leads.
    /// Upstream's `IsSystemAccount` and `GetTrafficAccountName` are not
    /// on the simulated node: a stream group is never the system
    /// account's, so both stay empty.
    pub fn cluster_info(&self, rg: Option<&RaftGroup>) -> ClusterInfo {
        let s = &self.srv;
        let Some((rg, n)) = rg.and_then(|g| g.node.as_ref().map(|n| (g, n))) else {
            return ClusterInfo { name: s.cluster_name(), leader: s.name(), ..Default::default() };
        };
        let mut ci = ClusterInfo {
            name: s.cluster_name(),
            leader: s.server_name_for_node(&n.group_leader()),
            leader_since: n.leader_since().map(|t| GoTime::from_unix_nanos(s.unix_nanos() - s.now().since(t).as_nanos() as i64)),
            raft_group: rg.name.clone(),
            ..Default::default()
        };
        let now = s.now();
        // Leaderless: do not leave ourselves out.
        let id = if ci.leader.is_empty() { String::new() } else { n.id() };
        for rp in n.peers() {
            if rp.id == id || !RaftGroup::is_member(Some(rg), &rp.id) {
                continue;
            }
            let last_seen = rp.last.map_or(0, |l| now.since(l).as_nanos() as i64);
            let current = rp.current && last_seen <= LOST_QUORUM_INTERVAL_NANOS;
            let mut pi = PeerInfo { name: String::new(), current, offline: true, active: last_seen, lag: rp.lag, peer: rp.id.clone() };
            match s.node_info(&rp.id) {
                Some(si) => {
                    pi.name = si.name;
                    pi.offline = si.offline;
                }
                None => {
                    pi.name = format!("Server name unknown at this time (peerID: {})", rp.id);
                    pi.lag = 0;
                }
            }
            ci.replicas.push(pi);
        }
        ci.replicas.sort_by(|a, b| a.name.cmp(&b.name));
        ci
    }

    /// Port of (*Server).jsonResponse: the JSON, or empty (with a warning)
    /// when it does not encode.
    pub fn json_response(&self, v: &impl Serialize) -> String {
        match crate::go_json::to_string(v) {
            Ok(s) => s,
            Err(e) => {
                self.srv.log(crate::raft::env::LogLevel::Warn, &format!("Problem marshaling JSON for JetStream API: {e}"));
                String::new()
            }
        }
    }

    /// Port of (*stream).sendCreateAdvisory and sendDeleteAdvisoryLocked:
    /// the stream action advisory in the stream's own account (upstream's
    /// `outq` sends from the account's internal client).
    pub fn send_stream_action_advisory(&self, account: &str, stream: &str, create: bool) {
        let s = &self.srv;
        let adv = StreamActionAdvisory {
            typ: JS_STREAM_ACTION_ADVISORY_TYPE,
            id: s.nuid(),
            timestamp: GoTime::from_unix_nanos(s.unix_nanos()),
            stream: stream.into(),
            action: if create { "create" } else { "delete" },
            domain: s.opts().js_domain,
        };
        let pre = if create { JS_ADVISORY_STREAM_CREATED_PRE } else { JS_ADVISORY_STREAM_DELETED_PRE };
        if let Ok(j) = crate::go_json::to_vec(&adv) {
            s.send_internal_account_msg(account, &format!("{pre}.{stream}"), "", &[], &j);
        }
    }
}

#[cfg(test)]
#[path = "stream_api_tests.rs"]
mod tests;
