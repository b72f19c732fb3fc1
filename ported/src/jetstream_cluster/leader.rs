//! Meta leadership: what a server does when it gains or loses the meta
//! leadership (`processLeaderChange`, its leader-only subscriptions and the
//! domain-leader advisory), the peer list advisories carry
//! (`Server.replicas`), and the system request that makes the meta leader
//! step down (`jsLeaderStepDownRequest`).

use serde::{Deserialize, Serialize};

use crate::raft::env::LogLevel;

use super::assignments::{GoTime, StreamAssignment};
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::node::RaftNode;
use super::ops::encode_update_stream_assignment;
use super::server::{ServerEnv, SysHandler};

/// Go: `JSApiLeaderStepDown`.
pub const JS_API_LEADER_STEP_DOWN: &str = "$JS.API.META.LEADER.STEPDOWN";
/// Go: `JSApiLeaderStepDownResponseType`.
pub const JS_API_LEADER_STEP_DOWN_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.meta_leader_stepdown_response";
/// Go: `JSAdvisoryDomainLeaderElected`.
pub const JS_ADVISORY_DOMAIN_LEADER_ELECTED: &str = "$JS.EVENT.ADVISORY.DOMAIN.LEADER_ELECTED";
/// Go: `JSDomainLeaderElectedAdvisoryType`.
pub const JS_DOMAIN_LEADER_ELECTED_ADVISORY_TYPE: &str = "io.nats.jetstream.advisory.v1.domain_leader_elected";
/// Go: `serverStatsPingReqSubj`.
pub const SERVER_STATS_PING_REQ_SUBJ: &str = "$SYS.REQ.SERVER.PING";
/// Go: `JSRequiredApiLevel`.
pub const JS_REQUIRED_API_LEVEL: &str = "Nats-Required-Api-Level";

/// A replica as advisories and cluster info report it (Go: `PeerInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub name: String,
    pub current: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
    /// Time since last contact, nanoseconds (Go: a `time.Duration`).
    pub active: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lag: u64,
    pub peer: String,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Go: `JSDomainLeaderElectedAdvisory`.
#[derive(Debug, Clone, Serialize)]
pub struct DomainLeaderElectedAdvisory {
    #[serde(rename = "type")]
    pub typ: String,
    pub id: String,
    pub timestamp: GoTime,
    pub leader: String,
    pub replicas: Option<Vec<PeerInfo>>,
    pub cluster: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

/// Placement hints (Go: `Placement`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub preferred: String,
}

/// Go: `JSApiLeaderStepdownRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
struct LeaderStepdownRequest {
    #[serde(default)]
    placement: Option<Placement>,
}

/// Go: `JSApiLeaderStepDownResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderStepDownResponse {
    #[serde(rename = "type")]
    pub typ: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub success: bool,
}

/// Port of sliceHeader
///
/// The value of header `key` in a `NATS/1.0` header block: the key must
/// start a line (after CRLF) and be followed by `:`; leading blanks of the
/// value are skipped and it ends at CRLF.
pub fn slice_header<'a>(key: &str, hdr: &'a [u8]) -> Option<&'a [u8]> {
    let k = key.as_bytes();
    let mut offset = 0;
    let index = loop {
        let rel = hdr.get(offset..)?.windows(k.len()).position(|w| w == k)?;
        let i = offset + rel;
        if i < 2 || i + 1 >= hdr.len() || hdr[i - 1] != b'\n' || hdr[i - 2] != b'\r' {
            offset = i + k.len();
            continue;
        }
        if i + k.len() >= hdr.len() {
            return None;
        }
        if hdr[i + k.len()] != b':' {
            offset = i + k.len();
            continue;
        }
        break i;
    };
    let mut i = index + k.len() + 1;
    while i < hdr.len() && hdr[i] == b' ' {
        i += 1;
    }
    let start = i;
    while i < hdr.len() && !(hdr[i] == b'\r' && i + 1 < hdr.len() && hdr[i + 1] == b'\n') {
        i += 1;
    }
    Some(&hdr[start..i])
}

/// Port of errorOnRequiredApiLevel
///
/// A request asking for a higher API level than ours (or an unreadable
/// one) is rejected.
pub fn error_on_required_api_level(hdr: &[u8]) -> bool {
    let Some(level) = slice_header(JS_REQUIRED_API_LEVEL, hdr).filter(|v| !v.is_empty()) else { return false };
    match std::str::from_utf8(level).ok().and_then(|s| s.parse::<i64>().ok()) {
        Some(min) => super::config::JS_API_LEVEL < min,
        None => true,
    }
}

/// Port of isJSONObjectOrArray
pub fn is_json_object_or_array(req: &[u8]) -> bool {
    req.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')).is_some_and(|b| *b == b'{' || *b == b'[')
}

/// Port of syncSubject
///
/// `<pre>.<8 random base-62 digits>`.
pub fn sync_subject(pre: &str, s: &dyn ServerEnv) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // Go draws a non-negative int63.
    let mut l = s.rand_u64() >> 1;
    let mut out = format!("{pre}.");
    for _ in 0..8 {
        out.push(DIGITS[(l % 62) as usize] as char);
        l /= 62;
    }
    out
}

/// Port of syncSubjForStream
pub fn sync_subj_for_stream(s: &dyn ServerEnv) -> String {
    sync_subject("$JSC.SYNC", s)
}

impl dyn ServerEnv + '_ {
    /// Port of (*Server).replicas
    ///
    /// The group's peers that the registry knows, with currency, lag and
    /// time since last contact.
    pub fn replicas(&self, node: &dyn RaftNode) -> Option<Vec<PeerInfo>> {
        let now = self.now();
        let mut out = Vec::new();
        for rp in node.peers() {
            let Some(si) = self.node_info(&rp.id) else { continue };
            let active = rp.last.map_or(0, |l| now.since(l).as_nanos() as i64);
            out.push(PeerInfo { name: si.name, current: rp.current, offline: si.offline, active, lag: rp.lag, peer: rp.id });
        }
        // A Go nil slice: no replicas known encodes as null.
        (!out.is_empty()).then_some(out)
    }

    /// Port of (*Server).sendDomainLeaderElectAdvisory
    pub fn send_domain_leader_elect_advisory(&self) {
        let Some(js) = self.get_jet_stream_cluster() else { return };
        let Some(node) = js.get_meta_group() else { return };
        let adv = DomainLeaderElectedAdvisory {
            typ: JS_DOMAIN_LEADER_ELECTED_ADVISORY_TYPE.to_string(),
            id: self.nuid(),
            timestamp: GoTime::from_unix_nanos(self.unix_nanos()),
            leader: node.group_leader(),
            replicas: self.replicas(&*node),
            cluster: self.cluster_name(),
            domain: self.opts().js_domain,
        };
        self.publish_advisory(None, JS_ADVISORY_DOMAIN_LEADER_ELECTED, &adv);
    }

    /// Port of (*Server).getStepDownPreferredPlacement
    ///
    /// The peer to hand leadership to: the named preferred server, or any
    /// online peer other than us matching the cluster and tags. Upstream
    /// picks by random map order; here the first match in peer order.
    pub fn get_step_down_preferred_placement(&self, group: &dyn RaftNode, placement: Option<&Placement>) -> Result<String, ApiError> {
        let Some(placement) = placement else { return Ok(String::new()) };
        if !placement.preferred.is_empty() {
            let preferred = group
                .peers()
                .into_iter()
                .find(|p| self.node_info(&p.id).is_some_and(|ni| ni.name == placement.preferred))
                .map(|p| p.id)
                .unwrap_or_default();
            if preferred == group.id() {
                return Err(ApiError::cluster_no_peers(&format!("preferred server {:?} is already leader", placement.preferred)));
            }
            if preferred.is_empty() {
                return Err(ApiError::cluster_no_peers(&format!("preferred server {:?} not known", placement.preferred)));
            }
            return Ok(preferred);
        }
        let our_id = group.id();
        let possible = group.peers().into_iter().find(|p| {
            let Some(ni) = self.node_info(&p.id) else { return false };
            !ni.offline
                && p.id != our_id
                && (placement.cluster.is_empty() || ni.cluster == placement.cluster)
                && placement.tags.iter().all(|t| ni.tags.contains(t))
        });
        possible.map(|p| p.id).ok_or_else(|| ApiError::cluster_no_peers("no replacement peer connected"))
    }
}

impl JetStreamCtx {
    /// Port of (*jetStream).processLeaderChange
    ///
    /// Records the meta leadership on the server, announces it, forgets
    /// peer-removal replies and in-flight proposals, steps an observer
    /// leader down, (un)subscribes the leader-only handlers, and as new
    /// leader repairs stream assignments left without a sync subject.
    pub fn process_leader_change(&self, is_leader: bool) {
        let s = &self.srv;
        s.set_meta_leader(is_leader);
        if is_leader {
            s.log(LogLevel::Debug, "Self is new JetStream cluster metadata leader");
            s.send_domain_leader_elect_advisory();
        } else {
            let node = self.get_meta_group().map(|m| m.group_leader()).unwrap_or_default();
            let msg = if node.is_empty() {
                "JetStream cluster no metadata leader".to_string()
            } else {
                let srv = s.server_name_for_node(&node);
                let clst = s.cluster_name_for_node(&node);
                match (srv.is_empty(), clst.is_empty()) {
                    (true, _) => "JetStream cluster new remote metadata leader".to_string(),
                    (false, true) => format!("JetStream cluster new metadata leader: {srv}"),
                    (false, false) => format!("JetStream cluster new metadata leader: {srv}/{clst}"),
                }
            };
            s.log(LogLevel::Debug, &msg);
        }

        let mut st = self.st.borrow_mut();
        let Some(cc) = st.cluster.as_mut() else { return };
        cc.peer_remove_reply.clear();
        cc.inflight_streams.clear();
        cc.inflight_consumers.clear();

        if is_leader {
            if let Some(meta) = cc.meta.clone().filter(|m| m.is_observer()) {
                drop(st);
                let _ = meta.step_down(&[]);
                return;
            }
        }
        if is_leader {
            self.start_updates_sub(cc);
        } else {
            self.stop_updates_sub(cc);
        }

        if is_leader && cc.streams_check {
            let meta = cc.meta.clone();
            let broken: Vec<(String, StreamAssignment)> = st
                .stream_assignments_or_inflight_seq_all_accounts()
                .filter(|(_, sa)| sa.unsupported.is_none() && sa.sync.is_empty())
                .map(|(acc, sa)| (acc.to_string(), sa.clone()))
                .collect();
            let Some(cc) = st.cluster.as_mut() else { return };
            for (acc, sa) in broken {
                s.log(LogLevel::Warn, &format!("Stream assignment corrupt for stream '{acc} > {}'", sa.name()));
                // A fresh assignment with only the replicated fields and a new sync subject.
                let nsa = StreamAssignment {
                    group: sa.group.clone(),
                    config: sa.config.clone(),
                    config_json: sa.config_json.clone(),
                    subject: sa.subject.clone(),
                    reply: sa.reply.clone(),
                    client: sa.client.clone(),
                    created: sa.created.clone(),
                    sync: sync_subj_for_stream(&**s),
                    restore: None,
                    consumers: Default::default(),
                    responded: false,
                    recovering: false,
                    reassigning: false,
                    resetting: false,
                    err: None,
                    unsupported: None,
                };
                if let (Some(meta), Ok(buf)) = (meta.as_ref(), encode_update_stream_assignment(&nsa)) {
                    let _ = meta.propose(&buf);
                }
                cc.track_inflight_stream_proposal(&acc, &nsa, false);
            }
            cc.streams_check = false;
        }
    }

    /// Port of (*jetStream).startUpdatesSub
    ///
    /// Only the meta stepdown handler is ported; the assignment-result,
    /// peer-remove, stream-move and account-purge handlers belong to the API
    /// layer (batch 34 and jetstream_api.go) and are not subscribed.
    fn start_updates_sub(&self, cc: &mut super::cluster::JetStreamCluster) {
        if cc.stepdown.is_none() {
            cc.stepdown = self.srv.sys_subscribe(JS_API_LEADER_STEP_DOWN, SysHandler::JsLeaderStepDown);
        }
    }

    /// Port of (*jetStream).stopUpdatesSub (for the handlers started above).
    fn stop_updates_sub(&self, cc: &mut super::cluster::JetStreamCluster) {
        if let Some(sid) = cc.stepdown.take() {
            self.srv.sys_unsubscribe(sid);
        }
    }

    /// Port of (*Server).jsLeaderStepDownRequest
    ///
    /// A system-account request asking the meta leader to step down,
    /// optionally naming where leadership should go. Answers with success
    /// or the error. The caller (the host's subscription) passes the
    /// request's account, headers and body; upstream parses them from the
    /// client connection (`getRequestInfo`).
    pub fn js_leader_step_down_request(&self, account: &str, subject: &str, reply: &str, hdr: &[u8], msg: &[u8]) {
        let s = &self.srv;
        if s.system_account().as_deref() != Some(account) {
            s.log(LogLevel::Warn, &format!("JetStream API stepdown request from non-system account: {account:?}"));
            return;
        }
        if s.get_jet_stream_cluster().is_none() {
            return;
        }
        let (is_leader, meta) = {
            let st = self.st.borrow();
            let cc = st.cluster.as_ref();
            (super::cluster::JetStreamCluster::is_leader(cc), cc.and_then(|cc| cc.meta.clone()))
        };
        let (true, Some(meta)) = (is_leader, meta) else { return };

        let request = String::from_utf8_lossy(msg).into_owned();
        let mut resp = LeaderStepDownResponse { typ: JS_API_LEADER_STEP_DOWN_RESPONSE_TYPE.to_string(), error: None, success: false };
        let respond_err = |resp: &LeaderStepDownResponse| {
            if let Ok(json) = crate::go_json::to_string(resp) {
                self.send_api_err_response(None, account, subject, reply, &request, &json);
            }
        };
        if error_on_required_api_level(hdr) {
            resp.error = Some(ApiError::required_api_level());
            respond_err(&resp);
            return;
        }
        let mut preferred = String::new();
        if is_json_object_or_array(msg) {
            let req: LeaderStepdownRequest = match serde_json::from_slice(msg) {
                Ok(r) => r,
                Err(e) => {
                    resp.error = Some(ApiError::invalid_json(&e.to_string()));
                    respond_err(&resp);
                    return;
                }
            };
            match s.get_step_down_preferred_placement(&*meta, req.placement.as_ref()) {
                Ok(p) => preferred = p,
                Err(e) => {
                    resp.error = Some(e);
                    respond_err(&resp);
                    return;
                }
            }
        }
        let prefs: Vec<&str> = if preferred.is_empty() { Vec::new() } else { vec![preferred.as_str()] };
        match meta.step_down(&prefs) {
            Ok(()) => resp.success = true,
            Err(e) => resp.error = Some(ApiError::from_raft(&e)),
        }
        if let Ok(json) = crate::go_json::to_string(&resp) {
            self.send_api_response(None, account, subject, reply, &request, &json);
        }
    }
}


#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
