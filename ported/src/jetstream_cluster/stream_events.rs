//! The advisories a clustered stream's leadership changes publish
//! (`sendStreamLeaderElectAdvisory`, `sendStreamLostQuorumAdvisory` of
//! `server/jetstream_cluster.go` at 8188ea93a; the event types of
//! `server/jetstream_events.go`). Each goes to the stream's account
//! without an `account` field (unless that is the system account), then
//! to the system account with it; fields and their order are Go's.

use serde::Serialize;

use super::assignments::GoTime;
use super::leader::PeerInfo;
use super::server::ServerEnv;
use super::stream::Stream;
use crate::raft::env::LogLevel;

/// Go: `JSStreamLeaderElectedAdvisoryType`.
pub const JS_STREAM_LEADER_ELECTED_ADVISORY_TYPE: &str = "io.nats.jetstream.advisory.v1.stream_leader_elected";
/// Go: `JSStreamQuorumLostAdvisoryType`.
pub const JS_STREAM_QUORUM_LOST_ADVISORY_TYPE: &str = "io.nats.jetstream.advisory.v1.stream_quorum_lost";
/// Go: `JSAdvisoryStreamLeaderElectedPre`.
pub const JS_ADVISORY_STREAM_LEADER_ELECTED_PRE: &str = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED";
/// Go: `JSAdvisoryStreamQuorumLostPre`.
pub const JS_ADVISORY_STREAM_QUORUM_LOST_PRE: &str = "$JS.EVENT.ADVISORY.STREAM.QUORUM_LOST";

/// Go: `JSStreamLeaderElectedAdvisory`.
#[derive(Debug, Clone, Serialize)]
pub struct StreamLeaderElectedAdvisory {
    #[serde(rename = "type")]
    pub typ: String,
    pub id: String,
    pub timestamp: GoTime,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    pub stream: String,
    pub leader: String,
    pub replicas: Option<Vec<PeerInfo>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

/// Go: `JSStreamQuorumLostAdvisory`.
#[derive(Debug, Clone, Serialize)]
pub struct StreamQuorumLostAdvisory {
    #[serde(rename = "type")]
    pub typ: String,
    pub id: String,
    pub timestamp: GoTime,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    pub stream: String,
    pub replicas: Option<Vec<PeerInfo>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

impl dyn ServerEnv + '_ {
/// Port of (*Server).sendStreamLostQuorumAdvisory
///
/// Throttled by the stream ([`Stream::should_send_lost_quorum`]).
pub fn send_stream_lost_quorum_advisory(&self, mset: Option<&Stream>, account: &str, stream: &str) {
    let s = self;
    let Some(mset) = mset else { return };
    let Some(node) = Stream::raft_node(Some(mset)) else { return };
    if !mset.should_send_lost_quorum(s.now()) {
        return;
    }
    s.log(LogLevel::Warn, &format!("JetStream cluster stream '{account} > {stream}' has NO quorum, stalled"));
    let subj = format!("{JS_ADVISORY_STREAM_QUORUM_LOST_PRE}.{stream}");
    let mut adv = StreamQuorumLostAdvisory {
        typ: JS_STREAM_QUORUM_LOST_ADVISORY_TYPE.into(),
        id: s.nuid(),
        timestamp: GoTime::from_unix_nanos(s.unix_nanos()),
        account: String::new(),
        stream: stream.into(),
        replicas: s.replicas(&*node),
        domain: s.opts().js_domain,
    };
    if s.system_account().as_deref() != Some(account) {
        s.publish_advisory(Some(account), &subj, &adv);
    }
    adv.account = account.into();
    s.publish_advisory(None, &subj, &adv);
}

/// Port of (*Server).sendStreamLeaderElectAdvisory
pub fn send_stream_leader_elect_advisory(&self, mset: Option<&Stream>, account: &str, stream: &str) {
    let s = self;
    let Some(mset) = mset else { return };
    let Some(node) = Stream::raft_node(Some(mset)) else { return };
    let subj = format!("{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE}.{stream}");
    let mut adv = StreamLeaderElectedAdvisory {
        typ: JS_STREAM_LEADER_ELECTED_ADVISORY_TYPE.into(),
        id: s.nuid(),
        timestamp: GoTime::from_unix_nanos(s.unix_nanos()),
        account: String::new(),
        stream: stream.into(),
        leader: s.server_name_for_node(&node.group_leader()),
        replicas: s.replicas(&*node),
        domain: s.opts().js_domain,
    };
    if s.system_account().as_deref() != Some(account) {
        s.publish_advisory(Some(account), &subj, &adv);
    }
    adv.account = account.into();
    s.publish_advisory(None, &subj, &adv);
}
}
