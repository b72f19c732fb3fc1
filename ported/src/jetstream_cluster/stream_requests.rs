//! The meta leader's side of stream create and update requests
//! (`server/jetstream_cluster.go` at 8188ea93a): validate the request
//! against the assignments applied and in flight, choose the group
//! (`createGroupForStream`, `selectPeerGroup` in `placement.rs`), propose
//! the assignment and track it as in flight. Errors are answered to the
//! requester at once; success is answered by the stream's members when
//! they apply the assignment (`processClusterCreateStream`,
//! `processClusterUpdateStream`).
//!
//! The API handlers of `jetstream_api.go` that call these (parsing the
//! request, forwarding it to the meta leader) are not ported: the caller
//! passes the requester's client info, account and decoded configuration.
//! Parts of `stream.go` the requests call are not ported either and are
//! named where they would run.

use serde_json::Value;

use super::assignments::{ClientInfo, ConsumerAssignment, GoTime, StreamAssignment};
use super::cluster::JetStream;
use super::config::{StreamConfig, JS_REQUIRED_LEVEL_METADATA_KEY};
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::leader::sync_subj_for_stream;
use super::ops::{encode_add_consumer_assignment, encode_add_stream_assignment, encode_update_stream_assignment};
use super::placement::{group_name_for_consumer, group_name_for_stream, placement_of, shuffle};
use super::stream_api::{JsApiStreamCreateResponse, JS_SERVER_LEVEL_METADATA_KEY, JS_SERVER_VERSION_METADATA_KEY};
use super::streams::store_config_of;
use crate::raft::env::LogLevel;
use crate::store::subject::subjects_collide;

/// Go: `JSApiStreamUpdateResponseType`.
pub const JS_API_STREAM_UPDATE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.stream_update_response";

impl ApiError {
    /// Go: `NewJSStreamNameExistError` (10058).
    pub fn stream_name_exist() -> Self {
        ApiError { code: 400, err_code: 10058, description: "stream name already in use with a different configuration".into() }
    }
    /// Go: `NewJSStreamInvalidConfigError` (10052), "{err}".
    pub fn stream_invalid_config(err: &str) -> Self {
        ApiError { code: 500, err_code: 10052, description: err.into() }
    }
    /// Go: `NewJSStreamSubjectOverlapError` (10065).
    pub fn stream_subject_overlap() -> Self {
        ApiError { code: 400, err_code: 10065, description: "subjects overlap with an existing stream".into() }
    }
    /// Go: `NewJSStreamOfflineError` (10118).
    pub fn stream_offline() -> Self {
        ApiError { code: 500, err_code: 10118, description: "stream is offline".into() }
    }
    /// Go: `NewJSStreamMirrorNotUpdatableError` (10055).
    pub fn stream_mirror_not_updatable() -> Self {
        ApiError { code: 400, err_code: 10055, description: "stream mirror configuration can not be updated".into() }
    }
    /// Go: `NewJSStreamMoveInProgressError` (10124), "stream move already in progress: {msg}".
    pub fn stream_move_in_progress(msg: &str) -> Self {
        ApiError { code: 400, err_code: 10124, description: format!("stream move already in progress: {msg}") }
    }
    /// Go: `NewJSStreamMoveAndScaleError` (10123).
    pub fn stream_move_and_scale() -> Self {
        ApiError { code: 400, err_code: 10123, description: "can not move and scale a stream in a single update".into() }
    }
}

/// Port of copyStreamMetadata
///
/// Drops the dynamic metadata of `cfg` and carries over the required API
/// level of `prev` (or removes it when `prev` has none).
pub fn copy_stream_metadata(cfg: &mut StreamConfig, prev: Option<&StreamConfig>) {
    if let Some(md) = cfg.metadata.as_mut() {
        md.remove(JS_SERVER_VERSION_METADATA_KEY);
        md.remove(JS_SERVER_LEVEL_METADATA_KEY);
    }
    let key = JS_REQUIRED_LEVEL_METADATA_KEY;
    if let Some(v) = prev.and_then(|p| p.metadata.as_ref()).and_then(|m| m.get(key)) {
        cfg.metadata.get_or_insert_with(Default::default).insert(key.to_string(), v.clone());
        return;
    }
    if let Some(md) = cfg.metadata.as_mut() {
        md.remove(key);
        if md.is_empty() {
            cfg.metadata = None;
        }
    }
}

/// A stream config's subjects.
fn subjects_of(cfg: &StreamConfig) -> Vec<String> {
    store_config_of(cfg).subjects
}

/// Whether the config keeps messages by limits only (Go: `LimitsPolicy`,
/// the zero value).
fn is_limits_retention(cfg: &StreamConfig) -> bool {
    cfg.extra.get("retention").and_then(Value::as_str).is_none_or(|r| r == "limits")
}

/// Go's `cfg.Sealed`.
fn is_sealed(cfg: &StreamConfig) -> bool {
    cfg.extra.get("sealed").and_then(Value::as_bool).unwrap_or(false)
}

impl JetStream {
    /// Port of (*jetStream).subjectsOverlap
    ///
    /// Whether any of `subjects` collides with a subject of another stream
    /// of the account, applied or in flight (`osa`'s own stream excepted).
    pub fn subjects_overlap(&self, acc: &str, subjects: &[String], osa: Option<&StreamAssignment>) -> bool {
        for sa in self.stream_assignments_or_inflight_seq(acc) {
            if osa.is_some_and(|o| o.name() == sa.name()) {
                continue;
            }
            let Some(cfg) = sa.config.as_ref() else { continue };
            for subj in subjects_of(cfg) {
                if subjects.iter().any(|t| subjects_collide(t, &subj)) {
                    return true;
                }
            }
        }
        false
    }
}

/// Go's `ConsumerConfig.replicas(strCfg)`: 0 or more than the stream's
/// means the stream's, except old-style ephemerals on limits streams (1).
fn consumer_replicas(ca: &ConsumerAssignment, scfg: &StreamConfig) -> usize {
    let Some(cc) = ca.config.as_ref() else { return scfg.replicas.max(0) as usize };
    if cc.replicas == 0 || cc.replicas > scfg.replicas {
        if cc.durable.is_empty() && is_limits_retention(scfg) && cc.replicas == 0 {
            return 1;
        }
        return scfg.replicas.max(0) as usize;
    }
    cc.replicas as usize
}

impl JetStreamCtx {
    /// The account check of `jsClusteredStreamLimitsCheck`: the account
    /// must have JetStream (Go: `selectLimits`' `NewJSNotEnabledForAccountError`).
    /// Simulated accounts carry no JetStream limits, so the tier, stream
    /// count and reservation checks (`tieredStreamAndReservationCount`,
    /// `checkAccountLimits`) have nothing to compare against and are not
    /// ported.
    fn stream_limits_check(&self, acc: &str) -> Option<ApiError> {
        (!self.srv.lookup_account(acc)).then(ApiError::not_enabled_for_account)
    }

    fn answer_error(&self, ci: &ClientInfo, acc: &str, subject: &str, reply: &str, rmsg: &[u8], typ: &'static str, e: ApiError) {
        let resp = JsApiStreamCreateResponse { typ, ..JsApiStreamCreateResponse::new(Some(e)) };
        let request = String::from_utf8_lossy(rmsg);
        self.send_api_err_response(Some(ci), acc, subject, reply, &request, &self.json_response(&resp));
    }

    /// Port of (*Server).jsClusteredStreamRequest
    ///
    /// On the meta leader: a create request for `config` from `ci` in
    /// `acc`. An assignment of the same name (applied or in flight) must
    /// have the same configuration (after carrying over its required API
    /// level metadata) and is proposed again with its group and sync
    /// subject; otherwise a new group is chosen and given a preferred
    /// leader. A sealed config, subjects overlapping another stream, an
    /// account without JetStream and no suitable peers are answered as
    /// errors. A proposal that raft accepts is tracked as in flight.
    ///
    /// Left out: `checkStreamCfg` (stream.go; the config is taken as the
    /// caller gives it, with no defaults filled in or checks made — the
    /// stream layer applies the dedupe-window default itself), the source
    /// index names set before the comparison (sources are not run by this
    /// port), and the account limits (see `stream_limits_check`). Go's
    /// `reflect.DeepEqual` of the configs is the comparison of the decoded
    /// configs here (fields kept verbatim compare as JSON values).
    pub fn js_clustered_stream_request(&self, ci: &ClientInfo, acc: &str, subject: &str, reply: &str, rmsg: &[u8], config: &StreamConfig) {
        const TYPE: &str = super::stream_api::JS_API_STREAM_CREATE_RESPONSE_TYPE;
        let s = &*self.srv;
        if s.get_jet_stream_cluster().is_none() {
            return;
        }
        let mut cfg = config.clone();
        let fail = |e: ApiError| self.answer_error(ci, acc, subject, reply, rmsg, TYPE, e);

        let (mut rg, mut sync_subject, self_sa) = {
            let st = self.st.borrow();
            match st.stream_assignment_or_inflight(acc, &cfg.name) {
                Some(osa) => {
                    copy_stream_metadata(&mut cfg, osa.config.as_ref());
                    if osa.config.as_ref() != Some(&cfg) {
                        drop(st);
                        return fail(ApiError::stream_name_exist());
                    }
                    // An equal assignment: proposed again as it is.
                    (osa.group.clone(), osa.sync.clone(), Some(osa.clone()))
                }
                None => (None, String::new(), None),
            }
        };
        if is_sealed(&cfg) {
            return fail(ApiError::stream_invalid_config("stream configuration for create can not be sealed"));
        }
        if self.st.borrow().subjects_overlap(acc, &subjects_of(&cfg), self_sa.as_ref()) {
            return fail(ApiError::stream_subject_overlap());
        }
        if let Some(e) = self.stream_limits_check(acc) {
            return fail(e);
        }
        if rg.is_none() {
            match self.create_group_for_stream(ci, &cfg) {
                Ok(mut nrg) => {
                    super::assignments::RaftGroup::set_preferred(Some(&mut nrg), s);
                    rg = Some(nrg);
                }
                Err(e) => return fail(ApiError::cluster_no_peers(&e.to_string())),
            }
        }
        if sync_subject.is_empty() {
            sync_subject = sync_subj_for_stream(s);
        }
        let sa = StreamAssignment {
            group: rg,
            sync: sync_subject,
            config_json: super::stream_api::stream_config_json(&cfg).unwrap_or_else(|| StreamAssignment::default().config_json),
            config: Some(cfg),
            subject: subject.to_string(),
            reply: reply.to_string(),
            client: Some(ci.clone()),
            created: GoTime::from_unix_nanos(s.unix_nanos()),
            ..Default::default()
        };
        self.propose_and_track(acc, &sa, encode_add_stream_assignment(&sa));
    }

    /// Proposes an encoded stream assignment to the meta group and, when
    /// raft takes it, tracks it as in flight; whether it was taken.
    fn propose_and_track(&self, acc: &str, sa: &StreamAssignment, enc: Result<Vec<u8>, super::ops::OpError>) -> bool {
        let buf = match enc {
            Ok(b) => b,
            Err(e) => {
                self.srv.log(LogLevel::Warn, &format!("JetStream cluster could not encode stream assignment: {e}"));
                return false;
            }
        };
        let mut st = self.st.borrow_mut();
        let Some(cc) = st.cluster.as_mut() else { return false };
        let Some(meta) = cc.meta.clone() else { return false };
        if meta.propose(&buf).is_err() {
            return false;
        }
        cc.track_inflight_stream_proposal(acc, sa, false);
        true
    }

    /// The current leader of group `rg` as our own node of it knows it,
    /// and the move statistics of `clusterInfo` for it. Upstream asks the
    /// stream leader for its stream info (`sysRequest` of
    /// `clusterStreamInfoT`, waiting up to 2 s); requests that block are
    /// not ported, so a meta leader outside the group knows no leader, as
    /// upstream after a timed-out request.
    fn local_group_info(&self, rg: &super::assignments::RaftGroup) -> Option<super::stream_api::ClusterInfo> {
        let node = self.srv.lookup_raft_node(&rg.name)?;
        let mut g = rg.clone();
        g.node = Some(node);
        Some(self.cluster_info(Some(&g)))
    }

    /// Port of (*Server).jsClusteredStreamUpdateRequest
    ///
    /// On the meta leader: an update of stream `cfg.name` in `acc`, with
    /// `peer_set` the new peers of a move request (empty otherwise). The
    /// stream must exist (applied or in flight) and have a peer online;
    /// a mirror cannot change, nor may subjects overlap another stream's.
    /// Then, on a copy of the group:
    /// - a replica change scales up by selecting new peers around the
    ///   existing ones (a group going to or from one peer gets a new name,
    ///   an R1 being scaled up prefers its one peer) or down by keeping the
    ///   current leader and then the online peers in order (a group left
    ///   with one peer is renamed); consumers that must follow get the
    ///   stream's peers (renamed when going to or from one peer), those
    ///   left with peers outside the stream get a random subset of its
    ///   peers;
    /// - a move (new placement or an explicit peer set) adds the new
    ///   peers after the ones that go, and gives every consumer a random
    ///   part of the new peers;
    /// - anything else clears the preferred leader.
    ///
    /// A move while one is under way, or a move with a replica change, is
    /// refused. The update is proposed with the old creation time and
    /// tracked; the changed consumers are proposed after it.
    ///
    /// Left out: `setStaticStreamMetadata` and `jsa.configUpdateCheck`
    /// (stream.go: the new config is taken as given, without the checks of
    /// fields that cannot change or the API-level metadata); the delay
    /// upstream puts on the "stream is offline" answer (`errRespDelay`);
    /// the account limits of a scale-up (see `stream_limits_check`); the
    /// stream-info and consumer-info requests to the leaders (see
    /// `local_group_info`; a consumer left with no peer of the stream gets
    /// no state carried over).
    pub fn js_clustered_stream_update_request(&self, ci: &ClientInfo, acc: &str, subject: &str, reply: &str, rmsg: &[u8], cfg: &StreamConfig, peer_set: &[String]) {
        const TYPE: &str = JS_API_STREAM_UPDATE_RESPONSE_TYPE;
        let s = &*self.srv;
        if s.get_jet_stream_cluster().is_none() {
            return;
        }
        let (meta, osa, consumer_cas) = {
            let st = self.st.borrow();
            let Some(meta) = st.cluster.as_ref().and_then(|cc| cc.meta.clone()) else { return };
            let osa = st.stream_assignment_or_inflight(acc, &cfg.name).cloned();
            let cas: Vec<ConsumerAssignment> = st.consumer_assignments_or_inflight_seq(acc, &cfg.name).cloned().collect();
            (meta, osa, cas)
        };
        let fail = |e: ApiError| self.answer_error(ci, acc, subject, reply, rmsg, TYPE, e);
        let Some(osa) = osa else { return fail(ApiError::stream_not_found()) };
        let Some(ocfg) = osa.config.clone() else { return fail(ApiError::stream_not_found()) };
        if s.all_peers_offline(osa.group.as_ref()) {
            return fail(ApiError::stream_offline());
        }
        if !s.lookup_account(acc) {
            return fail(ApiError::not_enabled_for_account());
        }
        let new_cfg = cfg.clone();
        if new_cfg.mirror.is_some() && new_cfg.mirror != ocfg.mirror {
            return fail(ApiError::stream_mirror_not_updatable());
        }
        if self.st.borrow().subjects_overlap(acc, &subjects_of(cfg), Some(&osa)) {
            return fail(ApiError::stream_subject_overlap());
        }

        let Some(mut rg) = osa.copy_group().group else { return fail(ApiError::stream_not_found()) };
        let mut peer_set = peer_set.to_vec();
        let o_replicas = ocfg.replicas.max(0) as usize;
        let new_replicas = new_cfg.replicas.max(0) as usize;
        let (is_move_request, mut is_move_cancel) = (!peer_set.is_empty(), false);
        let is_move_request = if is_move_request {
            // A cancel names the stream's first peers again.
            if peer_set.len() == o_replicas && peer_set.len() <= rg.peers.len() {
                is_move_cancel = peer_set.iter().zip(rg.peers.iter()).all(|(a, b)| a == b);
            }
            true
        } else {
            let np = placement_of(&new_cfg);
            np.is_some() && placement_of(&ocfg) != np
        };
        let is_replica_change = new_cfg.replicas != ocfg.replicas;
        let mut consumers: Vec<ConsumerAssignment> = Vec::new();

        if is_move_request && !is_move_cancel && o_replicas != rg.peers.len() {
            let msg = if s.all_peers_offline(Some(&rg)) {
                format!("all {} peers offline", rg.peers.len())
            } else {
                match self.local_group_info(&rg) {
                    Some(info) => {
                        let current = usize::from(!info.leader.is_empty()) + info.replicas.iter().filter(|r| r.current).count();
                        let lag: u64 = info.replicas.iter().map(|r| r.lag).sum();
                        format!("total peers: {}, current peers: {current}, combined lag: {lag}", rg.peers.len())
                    }
                    None => "error retrieving info: no stream info without a node of the group".to_string(),
                }
            };
            return fail(ApiError::stream_move_in_progress(&msg));
        }
        if is_move_request && is_replica_change {
            return fail(ApiError::stream_move_and_scale());
        }

        rg.scale_up = false;
        if is_replica_change {
            let is_scale_up = new_replicas > rg.peers.len();
            if is_scale_up {
                if let Some(e) = self.stream_limits_check(acc) {
                    return fail(e);
                }
                if rg.cluster.is_empty() {
                    // Older assignments may lack a cluster: placement, else the requester's.
                    rg.cluster = placement_of(&new_cfg).map(|p| p.cluster).filter(|c| !c.is_empty()).unwrap_or_else(|| ci.cluster.clone());
                }
                let peers = match self.select_peer_group(new_replicas, &rg.cluster, Some(&new_cfg), &rg.peers, 0, &[]) {
                    Ok(p) => p,
                    Err(e) => return fail(ApiError::cluster_no_peers(&e.to_string())),
                };
                // Raft does not record single nodes, so their group can be renamed.
                if peers.len() == 1 || o_replicas == 1 {
                    rg.name = group_name_for_stream(s, &peers, rg.storage);
                }
                if rg.peers.len() == 1 {
                    rg.preferred = rg.peers[0].clone();
                }
                rg.scale_up = true;
                rg.peers = peers;
            } else {
                // Keep the current leader if we know it, then online peers.
                let cur_leader = if s.all_peers_offline(Some(&rg)) {
                    String::new()
                } else {
                    self.srv.lookup_raft_node(&rg.name).map(|n| n.group_leader()).unwrap_or_default()
                };
                let mut selected: Vec<String> = Vec::with_capacity(new_replicas);
                if !cur_leader.is_empty() {
                    selected.push(cur_leader.clone());
                }
                for peer in &rg.peers {
                    if selected.len() == new_replicas {
                        break;
                    }
                    if *peer == cur_leader {
                        continue;
                    }
                    if s.node_info(peer).is_some_and(|ni| !ni.offline) {
                        selected.push(peer.clone());
                    }
                }
                rg.peers = selected;
                // Must rename, or a later scale-up could reuse a stale group.
                if rg.peers.len() == 1 {
                    rg.name = group_name_for_stream(s, &rg.peers, rg.storage);
                }
            }

            for ca in &consumer_cas {
                let Some((cg, ccfg)) = ca.group.as_ref().zip(ca.config.as_ref()) else { continue };
                let num_peers = cg.peers.len();
                // Legacy ephemerals show R0: only named ones follow automatically.
                let is_auto_scale = ccfg.replicas == 0 && (!ccfg.durable.is_empty() || !ccfg.name.is_empty());
                if is_auto_scale || num_peers > rg.peers.len() || !is_limits_retention(cfg) {
                    let mut cca = ca.copy_group();
                    let Some(g) = cca.group.as_mut() else { continue };
                    g.preferred = if num_peers == 1 && is_scale_up { cg.peers[0].clone() } else { String::new() };
                    g.peers = rg.peers.clone();
                    if g.peers.len() == 1 || num_peers == 1 {
                        g.name = group_name_for_consumer(s, &g.peers, g.storage);
                    }
                    if let Some(c) = cca.config.as_mut().filter(|c| c.replicas != 0) {
                        c.replicas = rg.peers.len() as i64;
                    }
                    consumers.push(cca);
                } else if !is_scale_up {
                    // Left alone, but its peers must stay within the stream's.
                    let need_replace = cg.peers.iter().filter(|p| !rg.peers.contains(p)).count();
                    if need_replace > 0 {
                        let mut new_peers = rg.peers.clone();
                        shuffle(s, &mut new_peers);
                        new_peers.truncate(cg.peers.len());
                        let mut cca = ca.copy_group();
                        let Some(g) = cca.group.as_mut() else { continue };
                        g.peers = new_peers.clone();
                        if g.peers.len() == 1 || num_peers == 1 {
                            g.name = group_name_for_consumer(s, &g.peers, g.storage);
                        }
                        if let Some(c) = cca.config.as_mut().filter(|c| c.replicas != 0) {
                            c.replicas = new_peers.len() as i64;
                        }
                        consumers.push(cca);
                    }
                }
            }
        } else if is_move_request {
            if peer_set.is_empty() {
                let nrg = match self.create_group_for_stream(ci, &new_cfg) {
                    Ok(g) => g,
                    Err(e) => return fail(ApiError::cluster_no_peers(&e.to_string())),
                };
                // The peers that go first, then the new group.
                peer_set.extend(rg.peers.iter().filter(|p| !nrg.peers.contains(p)).cloned());
                peer_set.extend(nrg.peers.iter().cloned());
            }
            if rg.peers.len() == 1 {
                rg.preferred = peer_set.first().cloned().unwrap_or_default();
            }
            rg.peers = peer_set.clone();
            for ca in &consumer_cas {
                let mut cca = ca.copy_group();
                let r = consumer_replicas(ca, &ocfg);
                let Some(g) = cca.group.as_mut() else { continue };
                let nr = new_replicas.min(peer_set.len());
                // The kept part of the new peers, shuffled, with this
                // consumer's current peers moved to its end.
                let mut rand_peer_set = peer_set[peer_set.len() - nr..].to_vec();
                shuffle(s, &mut rand_peer_set);
                let mut drop_peer_set = Vec::new();
                for p in &g.peers {
                    match rand_peer_set.iter().position(|rp| rp == p) {
                        Some(i) if nr > 0 => rand_peer_set.swap(i, nr - 1),
                        _ => drop_peer_set.push(p.clone()),
                    }
                }
                let c_peer_set = rand_peer_set[nr.saturating_sub(r)..].to_vec();
                g.peers = if peer_set.len() == new_replicas {
                    c_peer_set
                } else {
                    drop_peer_set.into_iter().chain(c_peer_set).collect()
                };
                if !g.preferred.is_empty() && !g.peers.contains(&g.preferred) {
                    g.preferred.clear();
                }
                consumers.push(cca);
            }
        } else {
            rg.preferred.clear();
        }

        let sync = if osa.sync.is_empty() { sync_subj_for_stream(s) } else { osa.sync.clone() };
        let sa = StreamAssignment {
            group: Some(rg),
            sync,
            created: osa.created.clone(),
            config_json: super::stream_api::stream_config_json(&new_cfg).unwrap_or_else(|| StreamAssignment::default().config_json),
            config: Some(new_cfg),
            subject: subject.to_string(),
            reply: reply.to_string(),
            client: Some(ci.clone()),
            ..Default::default()
        };
        if !self.propose_and_track(acc, &sa, encode_update_stream_assignment(&sa)) {
            return;
        }
        for ca in consumers {
            match encode_add_consumer_assignment(&ca) {
                // Like upstream, a failed consumer proposal is not reported.
                Ok(b) => {
                    let _ = meta.propose(&b);
                }
                Err(e) => {
                    s.log(LogLevel::Warn, &format!("JetStream cluster could not encode consumer assignment: {e}"));
                    continue;
                }
            }
            if let Some(cc) = self.st.borrow_mut().cluster.as_mut() {
                cc.track_inflight_consumer_proposal(acc, &cfg.name, &ca, false);
            }
        }
    }
}

#[cfg(test)]
#[path = "stream_requests_tests.rs"]
mod tests;
