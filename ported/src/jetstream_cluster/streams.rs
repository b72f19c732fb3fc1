//! The stream layer a server runs: the streams it hosts, their raft groups
//! (`createRaftGroup`), the per-stream monitor loop (`monitorStream`) as a
//! step machine, leader changes (`processStreamLeaderChange`) with their
//! advisories, the meta layer's stream handlers (`processClusterCreateStream`,
//! `processClusterUpdateStream`, `processClusterDeleteStream`,
//! `Server.removeStream`), and the leader's ingest of published messages
//! (`processClusteredInboundMsg`) with its PubAck.
//!
//! What is ported and what not (deliberately, for now):
//! - The monitor has the arms for server quit, monitor quit, raft quit, the
//!   apply queue (with the end-of-replay marker and batches held across
//!   entries), leader changes, assignment updates (`uch`) and migration
//!   monitoring (hand-over to the new peers, then their scale-down). The
//!   compaction/snapshot ticker, interest and direct-access checks and
//!   restores are not ported: stream raft logs are never compacted here, so
//!   a restarted replica rebuilds its memory store by replaying its group's
//!   log (and a lagging one catches up through raft), which is the stand-in
//!   for filestore recovery and for the stream catch-up of batch 35.
//! - Messages live in [`MemStore`] whatever the configured storage.
//! - Consumers are batch 34's: their handlers do nothing here.
//! - `processClusterCreateStream`, `processClusterUpdateStream`,
//!   `processClusterDeleteStream` and the leader's create answer in
//!   `processStreamLeaderChange` send Go's API responses (`stream_api.rs`)
//!   to the reply the assignment carries, which the meta leader's create
//!   and update requests put there (`stream_requests.rs`). Restores are
//!   not ported; `resetClusteredState` is (see their docs for the
//!   differences).
//! - A leader takes a message only once it has applied everything
//!   committed (upstream relies on the same through `isCatchingUp` and the
//!   leader's `clseq` fix-up).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;
use serde_json::value::RawValue;

use super::assignments::{ConsumerAssignment, RaftGroup, StorageType, StreamAssignment};
use super::cluster::StreamMap;
use super::config::StreamConfig;
use super::dedupe::{Dedupe, STREAM_DEFAULT_DUPLICATES};
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::node::NodeHandle;
use super::runtime::{Orphans, RunningAsset, StreamHealthView, StreamRuntime};
use super::server::ServerEnv;
use super::handlers::STREAM_ASSIGNMENT_SUBJ;
use super::stream::Stream;
use super::stream_api::{stream_config_json, set_dynamic_stream_metadata, JsApiStreamCreateResponse, JsApiStreamDeleteResponse, StreamAssignmentResult, StreamInfo, StreamStateJson, ERR_STREAM_STORE_FAILED, JS_API_STREAM_DELETE_RESPONSE_TYPE};
use super::stream_apply::{ApplyError, MsgIdCheck, StreamReplica};
use super::stream_ops::{encode_msg_delete, encode_stream_msg_allow_compress, encode_stream_purge, PurgeRequest, StreamMsg, StreamMsgDelete, StreamPurge};
use crate::raft::env::{LogLevel, Sid};
use super::assignments::GoTime;
use crate::raft::RaftState;
use crate::store::{DiscardPolicy, MemStore, StorageType as StoreStorage, StoreConfig, StreamStore};

/// Upstream's `defaultStoreDirName`.
const DEFAULT_STORE_DIR_NAME: &str = "_js_";
/// Upstream's `streamsDir`.
const STREAMS_DIR: &str = "streams";

impl JetStreamCtx {
/// Port of (*jetStream).createRaftGroup
///
/// Starts (or finds) this server's node of group `rg` when the group has
/// more than one peer and we are one of them; `Ok(None)` otherwise. The
/// storage type picks upstream's WAL kind; here every WAL is the
/// simulator's file WAL.
pub fn create_raft_group(&self, acc: &str, rg: &mut RaftGroup, recovering: bool, _storage: StorageType) -> Result<Option<NodeHandle>, ApiError> {
    let js = self;
    let s = js.server();
    let Some(meta) = js.get_meta_group() else { return Err(ApiError::cluster_not_active()) };
    if rg.peers.len() <= 1 || !RaftGroup::is_member(Some(rg), &meta.id()) {
        return Ok(None);
    }
    loop {
        let Some(node) = s.lookup_raft_node(&rg.name) else { break };
        if node.state() == RaftState::Closed {
            // Wait for it to finish stopping, then replace it.
            node.wait_for_stop();
            if s.lookup_raft_node(&rg.name).is_some_and(|n| n.same_node(&node)) {
                break;
            }
            continue;
        }
        // Same group: make the node's known peers match the assignment.
        let mut want = rg.peers.clone();
        want.sort();
        let mut have: Vec<String> = node.peers().into_iter().map(|p| p.id).collect();
        have.sort();
        if want != have {
            node.update_known_peers(&rg.peers);
            if node.leader() {
                node.propose_known_peers(&rg.peers);
            }
        }
        rg.node = Some(node.clone());
        return Ok(Some(node));
    }
    let Some(sys) = s.system_account() else { return Err(ApiError::general("shutting down")) };
    // Upstream's MaxHAAssets limit is not among the simulated options.
    let store_dir = format!("{}/{sys}/{DEFAULT_STORE_DIR_NAME}/{}", js.config.store_dir, rg.name);
    if s.read_peer_state(&store_dir).is_err() {
        s.bootstrap_raft_node(&store_dir, &rg.peers, true).map_err(|e| ApiError::from_raft(&e))?;
    }
    let n = s.start_raft_node(acc, &rg.name, &store_dir, recovering, false).map_err(|e| ApiError::general(&format!("{e:?}")))?;
    rg.node = Some(n.clone());
    if n.id() == rg.preferred && n.term() == 0 {
        let _ = n.campaign_immediately();
    }
    Ok(Some(n))
}
}

/// The store configuration a stream's JSON configuration asks for.
pub fn store_config_of(cfg: &StreamConfig) -> StoreConfig {
    let x = &cfg.extra;
    let int = |k: &str| x.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
    StoreConfig {
        name: cfg.name.clone(),
        subjects: x.get("subjects").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default(),
        // Every stream keeps its messages in memory here (see the module docs).
        storage: StoreStorage::Memory,
        max_msgs: int("max_msgs"),
        max_bytes: int("max_bytes"),
        max_age: int("max_age"),
        max_msgs_per: int("max_msgs_per_subject"),
        discard: if x.get("discard").and_then(|v| v.as_str()) == Some("new") { DiscardPolicy::New } else { DiscardPolicy::Old },
        discard_new_per: x.get("discard_new_per_subject").and_then(|v| v.as_bool()).unwrap_or(false),
        first_seq: int("first_seq").max(0) as u64,
    }
}

/// Go's `JSPubAckResponse` for a stored message.
#[derive(Serialize)]
struct PubAckResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ApiError>,
    stream: &'a str,
    seq: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    domain: &'a str,
}

/// The dedupe window `checkStreamCfg` leaves a config with: its own, or
/// 2 minutes (the max age if shorter) unless it is a mirror.
fn duplicate_window(cfg: &StreamConfig) -> i64 {
    if cfg.duplicates != 0 || cfg.mirror.is_some() {
        return cfg.duplicates;
    }
    let max_age = store_config_of(cfg).max_age;
    if max_age != 0 && max_age < STREAM_DEFAULT_DUPLICATES {
        max_age
    } else {
        STREAM_DEFAULT_DUPLICATES
    }
}

/// The PubAck of a duplicate as upstream writes it by hand (`mset.pubAck`
/// then the sequence and `,"duplicate": true}`, space included).
fn duplicate_pub_ack(stream: &str, domain: &str, seq: u64) -> String {
    let q = |v: &str| serde_json::to_string(v).unwrap_or_default();
    if domain.is_empty() {
        format!("{{\"stream\":{},\"seq\":{seq},\"duplicate\": true}}", q(stream))
    } else {
        format!("{{\"stream\":{},\"domain\":{},\"seq\":{seq},\"duplicate\": true}}", q(stream), q(domain))
    }
}

/// Why a replica resets its clustered state (upstream's sentinel errors
/// `errFirstSequenceMismatch`, `errCatchupAbortedNoLeader`,
/// `errCatchupTooManyRetries`; any other error is `Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetCause {
    FirstSequenceMismatch,
    CatchupAbortedNoLeader,
    CatchupTooManyRetries,
    Other,
}

/// One hosted stream.
#[derive(Debug)]
pub struct HostedStream {
    pub account: String,
    pub name: String,
    /// Assignment, raft node and lost-quorum throttle.
    pub mset: Stream,
    /// Store, sequences and the apply path.
    pub cs: RefCell<StreamReplica>,
    pub created_unix_nanos: i64,
    /// Whether this replica leads (`mset.isLeader()`).
    pub is_leader: Cell<bool>,
    /// Upstream's `clseq`: the next sequence the leader proposes with.
    pub clseq: Cell<u64>,
    /// Replies awaiting the apply of their message, by proposed sequence.
    pub pending_acks: RefCell<BTreeMap<u64, String>>,
    ingest: RefCell<Vec<Sid>>,
    monitor: RefCell<Option<StreamMonitor>>,
}

impl HostedStream {
    /// Port of (*stream).isMonitorRunning
    ///
    /// Upstream's `inMonitor` flag is set when `monitorStream` starts and
    /// cleared when it returns; here the monitor is a step machine, running
    /// from its creation until one of its arms ends it.
    pub fn is_monitor_running(&self) -> bool {
        self.monitor.borrow().as_ref().is_some_and(|m| !m.exited)
    }

    /// Marks the monitor as running or stopped without running it, as the
    /// Go tests set `mset.inMonitor` by hand. A monitor marked running on a
    /// closed node ends again at its next poll (its raft-quit arm).
    #[cfg(any(test, feature = "testing"))]
    pub fn set_monitor_running_for_test(&self, running: bool) {
        if let Some(m) = self.monitor.borrow_mut().as_mut() {
            m.exited = !running;
        }
    }
}

/// What the stream monitor did on one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamActivity {
    ServerQuit,
    MonitorQuit,
    RaftQuit,
    Apply,
    LeadChange,
    /// The stream's assignment changed (Go: `mset.updateC()`).
    Update,
    /// The migration ticker fired (Go: `mmtc`).
    Migration,
}

/// Go's migration ticker period in monitorStream.
const MIGRATION_TICK: std::time::Duration = std::time::Duration::from_millis(500);

/// Port of (*jetStream).monitorStream as a step machine (the arms listed
/// in the module docs).
#[derive(Debug)]
pub struct StreamMonitor {
    node: NodeHandle,
    is_recovering: bool,
    is_leader: bool,
    quit: bool,
    exited: bool,
    /// A pending signal on upstream's `uch`.
    update: bool,
    /// When the migration ticker fires next; `None` when stopped.
    migration: Option<crate::raft::env::Timestamp>,
}

impl StreamMonitor {
    fn new(node: NodeHandle) -> Self {
        StreamMonitor { node, is_recovering: true, is_leader: false, quit: false, exited: false, update: false, migration: None }
    }

    fn start_migration_monitoring(&mut self, s: &dyn ServerEnv) {
        if self.migration.is_none() {
            self.migration = Some(s.now().add(MIGRATION_TICK));
        }
    }

    fn ready(&self, s: &dyn ServerEnv) -> Vec<StreamActivity> {
        let mut v = Vec::new();
        if self.exited {
            return v;
        }
        if s.quit_closed() {
            v.push(StreamActivity::ServerQuit);
        }
        if self.quit {
            v.push(StreamActivity::MonitorQuit);
        }
        if self.node.is_closed() {
            v.push(StreamActivity::RaftQuit);
        }
        if self.node.apply_q_ready() {
            v.push(StreamActivity::Apply);
        }
        if self.node.lead_change_ready() {
            v.push(StreamActivity::LeadChange);
        }
        if self.update {
            v.push(StreamActivity::Update);
        }
        if self.migration.is_some_and(|t| s.now() >= t) {
            v.push(StreamActivity::Migration);
        }
        v
    }
}

/// The streams a server runs (the stream layer behind [`StreamRuntime`]).
#[derive(Debug, Default)]
pub struct JetStreamStreams {
    streams: RefCell<BTreeMap<(String, String), Rc<HostedStream>>>,
    by_sid: RefCell<BTreeMap<Sid, (String, String)>>,
    /// Errors that stopped a stream's monitor, for tests and logs.
    pub apply_errors: RefCell<Vec<(String, String, String)>>,
    /// Test switch: the next stream store creation fails.
    #[cfg(any(test, feature = "testing"))]
    fail_next_store: Cell<bool>,
}

impl JetStreamStreams {
    pub fn new() -> Rc<Self> {
        Rc::new(JetStreamStreams::default())
    }

    /// Makes the next stream store creation fail (tests of the error path).
    #[cfg(any(test, feature = "testing"))]
    pub fn fail_next_store_for_test(&self) {
        self.fail_next_store.set(true);
    }

    /// The hosted stream, if any.
    pub fn get(&self, acc: &str, stream: &str) -> Option<Rc<HostedStream>> {
        self.streams.borrow().get(&(acc.to_string(), stream.to_string())).cloned()
    }

    /// Every hosted stream.
    pub fn all(&self) -> Vec<Rc<HostedStream>> {
        self.streams.borrow().values().cloned().collect()
    }

    /// Whether any monitor has something to do now.
    pub fn has_ready(&self, js: &JetStreamCtx) -> bool {
        let s = js.server();
        self.all().iter().any(|h| h.monitor.borrow().as_ref().is_some_and(|m| !m.ready(&*s).is_empty()))
    }

    /// Polls every stream monitor once; returns what ran, per stream.
    pub fn poll(&self, js: &JetStreamCtx) -> Vec<(String, StreamActivity)> {
        let s = js.server();
        let mut ran = Vec::new();
        for h in self.all() {
            let pick = {
                let m = h.monitor.borrow();
                let Some(m) = m.as_ref() else { continue };
                let ready = m.ready(&*s);
                if ready.is_empty() {
                    continue;
                }
                ready[(s.rand_u64() % ready.len() as u64) as usize]
            };
            self.run_monitor(js, &h, pick);
            ran.push((h.name.clone(), pick));
        }
        ran
    }

    fn run_monitor(&self, js: &JetStreamCtx, h: &Rc<HostedStream>, activity: StreamActivity) {
        let s = js.server();
        let mut guard = h.monitor.borrow_mut();
        let Some(m) = guard.as_mut() else { return };
        match activity {
            // No snapshots are taken here, so the quit arms just return.
            StreamActivity::ServerQuit | StreamActivity::MonitorQuit | StreamActivity::RaftQuit => m.exited = true,
            StreamActivity::LeadChange => {
                let Some(is_leader) = m.node.lead_change() else { return };
                m.is_leader = is_leader;
                let leaderless = m.node.leaderless();
                drop(guard);
                self.process_stream_leader_change(js, h, is_leader);
                if !is_leader && !leaderless {
                    // A follower does not answer the original request again.
                    if let Some(mut sa) = h.mset.assignment() {
                        super::cluster::JetStream::set_stream_assignment_recovering(&mut sa);
                        h.mset.set_assignment(Some(sa));
                    }
                }
                // A leader change after the assignment update: re-check.
                if is_leader && Stream::is_migrating(Some(&h.mset)) {
                    if let Some(m) = h.monitor.borrow_mut().as_mut() {
                        m.start_migration_monitoring(&*s);
                    }
                }
            }
            StreamActivity::Update => {
                m.update = false;
                if Stream::is_migrating(Some(&h.mset)) {
                    if m.is_leader {
                        m.start_migration_monitoring(&*s);
                    }
                } else {
                    m.migration = None;
                }
            }
            StreamActivity::Migration => {
                m.migration = Some(s.now().add(MIGRATION_TICK));
                let (is_leader, node) = (m.is_leader, m.node.clone());
                drop(guard);
                if !self.check_migration(js, h, is_leader, &node) {
                    if let Some(m) = h.monitor.borrow_mut().as_mut() {
                        m.migration = None;
                    }
                }
            }
            StreamActivity::Apply => {
                let node = m.node.clone();
                for ce in node.apply_q_pop() {
                    let Some(ce) = ce else {
                        m.is_recovering = false;
                        continue;
                    };
                    if ce.entries.is_empty() {
                        // A partial batch must be rejected for CLFS to stay right.
                        h.cs.borrow_mut().reject_batch_state();
                        node.applied(ce.index);
                        continue;
                    }
                    let res = js.apply_stream_entries(&mut h.cs.borrow_mut(), &ce, m.is_recovering);
                    self.flush_replies(&*s, h);
                    match res {
                        Ok(max) if max > 0 => {
                            node.processed(ce.index, max.min(ce.index));
                        }
                        Ok(_) => {
                            node.applied(ce.index);
                        }
                        Err(ApplyError::StreamClosed) => {
                            m.exited = true;
                            return;
                        }
                        Err(e) => {
                            s.log(LogLevel::Error, &format!("Error applying entries to '{} > {}': {e}", h.account, h.name));
                            self.apply_errors.borrow_mut().push((h.account.clone(), h.name.clone(), e.to_string()));
                            // Upstream resets the clustered state or stops on write
                            // errors; without catch-up (batch 35) this port stops.
                            m.exited = true;
                            return;
                        }
                    }
                }
            }
        }
    }

    // PubAcks for applied messages and the leader's API replies.
    fn flush_replies(&self, s: &dyn ServerEnv, h: &HostedStream) {
        let replies = std::mem::take(&mut h.cs.borrow_mut().replies);
        for r in replies {
            if !r.reply.is_empty() {
                s.send_internal_account_msg(&h.account, &r.reply, "", &[], r.json.as_bytes());
            }
        }
        if !h.is_leader.get() {
            h.pending_acks.borrow_mut().clear();
            return;
        }
        let lseq = h.cs.borrow().lseq;
        let clfs = h.cs.borrow().clfs;
        let done: Vec<(u64, String)> = {
            let mut p = h.pending_acks.borrow_mut();
            let keys: Vec<u64> = p.keys().copied().filter(|k| *k < lseq + clfs).collect();
            keys.into_iter().filter_map(|k| p.remove(&k).map(|r| (k, r))).collect()
        };
        let domain = s.opts().js_domain;
        for (proposed, reply) in done {
            // Stored at `proposed + 1 - clfs` when it did not fail.
            let seq = proposed + 1 - clfs.min(proposed + 1);
            let stored = h.cs.borrow().store.load_msg(seq).is_ok();
            let resp = if stored {
                PubAckResponse { error: None, stream: &h.name, seq, domain: &domain }
            } else {
                PubAckResponse { error: Some(ApiError::general("message not stored")), stream: &h.name, seq: 0, domain: &domain }
            };
            if let Ok(j) = crate::go_json::to_vec(&resp) {
                s.send_internal_account_msg(&h.account, &reply, "", &[], &j);
            }
        }
    }

    /// Port of (*stream).setStreamAssignment
    ///
    /// The stream takes the assignment and its group's node, the node learns
    /// the group's peers, and the monitor hears of the update (`uch`). The
    /// info subscription upstream also sets up is not ported.
    pub fn set_stream_assignment(&self, h: &HostedStream, sa: &StreamAssignment) {
        let node = sa.group.as_ref().and_then(|g| g.node.clone());
        h.mset.set_assignment(Some(sa.clone()));
        h.mset.set_node(node.clone());
        if let (Some(n), Some(g)) = (node.as_ref(), sa.group.as_ref()) {
            n.update_known_peers(&g.peers);
        }
        if let Some(m) = h.monitor.borrow_mut().as_mut() {
            m.update = true;
        }
    }

    // monitorStream's migration arm; returns false when monitoring stops.
    // Upstream's `checkClusterInfo` only corrects peers that a stream
    // catch-up (batch 35, not ported) is running for, so it has nothing to
    // do here.
    fn check_migration(&self, js: &JetStreamCtx, h: &HostedStream, is_leader: bool, n: &NodeHandle) -> bool {
        let s = js.server();
        if !is_leader {
            return false;
        }
        let (Some(sa), Some(mut rg)) = (h.mset.assignment(), Stream::raft_group(Some(&h.mset))) else { return false };
        let replicas = sa.config.as_ref().map_or(0, |c| c.replicas).max(0) as usize;
        if rg.peers.len() <= replicas {
            return false;
        }
        rg.node = Some(n.clone());
        let ci = js.cluster_info(Some(&rg));
        let split = super::stream::gen_peer_info(&rg.peers, rg.peers.len() - replicas);
        let Some(meta) = js.get_meta_group() else { return true };
        let our_peer_id = meta.id();
        let acc = &h.account;
        let name = sa.name().to_string();
        if split.new_peer_set.contains(&our_peer_id) {
            // Our consumers must have moved before we scale down.
            for (cname, c) in &sa.consumers {
                if c.unsupported.is_some() {
                    continue;
                }
                if c.group.as_ref().is_some_and(|g| g.peers.iter().any(|p| split.old_peer_set.contains(p))) {
                    s.log(LogLevel::Debug, &format!("Scale down of '{acc} > {name}' blocked by consumer '{cname}'"));
                    return true;
                }
            }
            n.propose_known_peers(&split.new_peers);
            let mut csa = sa.copy_group();
            if let Some(g) = csa.group.as_mut() {
                g.peers = split.new_peers.clone();
                g.preferred = our_peer_id.clone();
                g.cluster = s.cluster_name();
                g.node = None;
            }
            match super::ops::encode_update_stream_assignment(&csa) {
                Ok(entry) => {
                    let _ = meta.forward_proposal(&entry);
                }
                Err(e) => s.log(LogLevel::Warn, &format!("Could not encode the scale down of '{acc} > {name}': {e}")),
            }
            let names: Vec<String> = split.new_peers.iter().map(|p| s.server_name_for_node(p)).collect();
            s.log(LogLevel::Debug, &format!("Scaling down '{acc} > {name}' to {names:?}"));
        } else {
            // The old leader waits for a quorum of the new peers to be
            // current, then hands over.
            let needed = replicas / 2 + 1;
            let current: Vec<&super::leader::PeerInfo> = ci.replicas.iter().filter(|r| r.current && split.new_peer_set.contains(&r.peer)).collect();
            if current.len() >= needed {
                let (peer, leader) = (current[0].peer.clone(), current[0].name.clone());
                s.log(LogLevel::Debug, &format!("Transfer of stream leader for '{acc} > {name}' to '{leader}'"));
                n.propose_known_peers(&split.new_peers);
                let _ = n.step_down(&[peer.as_str()]);
            }
        }
        true
    }

    // Upstream keeps one assignment shared by the meta layer and the
    // stream; here the meta layer's copy learns the group's node.
    fn set_meta_group_node(&self, js: &JetStreamCtx, acc: &str, name: &str, node: Option<NodeHandle>) {
        if let Ok(mut st) = js.st.try_borrow_mut() {
            if let Some(g) = st.cluster.as_mut().and_then(|cc| cc.streams.get_mut(acc)).and_then(|a| a.get_mut(name)).and_then(|x| x.group.as_mut()) {
                g.node = node;
            }
        }
    }

    /// Upstream's `acc.addStreamWithAssignment`, the part this port runs:
    /// the store (a [`MemStore`]) with the dedupe window `checkStreamCfg`
    /// leaves, the assignment and node, and the monitor when replicated.
    fn add_stream_with_assignment(&self, js: &JetStreamCtx, acc: &str, sa: &StreamAssignment, node: Option<NodeHandle>) -> Result<Rc<HostedStream>, String> {
        let s = js.server();
        let name = sa.name().to_string();
        let cfg = sa.config.as_ref().ok_or("stream assignment without a configuration")?;
        #[cfg(any(test, feature = "testing"))]
        if self.fail_next_store.replace(false) {
            return Err("injected store failure".into());
        }
        let srv = s.clone();
        let store = MemStore::new(&store_config_of(cfg), Rc::new(move || srv.unix_nanos())).map_err(|e| e.to_string())?;
        let mut cs = StreamReplica::new(acc, &name, store);
        cs.dedupe = Dedupe::new(duplicate_window(cfg));
        cs.our_id = js.get_meta_group().map(|m| m.id()).unwrap_or_default();
        cs.group_peers = sa.group.as_ref().map(|g| g.peers.clone());
        let created = sa.created.unix_nanos().unwrap_or_else(|| s.unix_nanos());
        let h = Rc::new(HostedStream {
            account: acc.into(),
            name: name.clone(),
            mset: Stream::default(),
            cs: RefCell::new(cs),
            created_unix_nanos: created,
            is_leader: Cell::new(false),
            clseq: Cell::new(0),
            pending_acks: RefCell::default(),
            ingest: RefCell::default(),
            monitor: RefCell::new(node.clone().map(StreamMonitor::new)),
        });
        h.mset.set_assignment(Some(sa.clone()));
        h.mset.set_node(node);
        self.streams.borrow_mut().insert((acc.into(), name), h.clone());
        Ok(h)
    }

    /// The `StreamInfo` the create responses carry: the running
    /// configuration with the dynamic metadata, created time, store state,
    /// cluster info and the time of the answer.
    pub fn stream_info(&self, js: &JetStreamCtx, h: &HostedStream) -> StreamInfo {
        let s = js.server();
        let sa = h.mset.assignment();
        let cfg = sa.as_ref().and_then(|a| a.config.as_ref()).map(set_dynamic_stream_metadata).unwrap_or_default();
        let state = StreamStateJson::from(&h.cs.borrow_mut().store.state());
        let mut rg = Stream::raft_group(Some(&h.mset));
        if let Some(g) = rg.as_mut() {
            g.node = Stream::raft_node(Some(&h.mset));
        }
        StreamInfo {
            config: stream_config_json(&cfg).unwrap_or_else(|| serde_json::value::to_raw_value(&serde_json::json!({})).expect("an empty object encodes")),
            created: GoTime::from_unix_nanos(h.created_unix_nanos),
            state,
            domain: String::new(),
            cluster: Some(js.cluster_info(rg.as_ref())),
            time_stamp: GoTime::from_unix_nanos(s.unix_nanos()),
        }
    }

    // Marks the assignment answered, on the stream's copy and the meta
    // layer's (upstream shares one); returns (responded before, error).
    fn take_responded(&self, js: &JetStreamCtx, h: &HostedStream) -> (bool, Option<String>) {
        let Some(mut sa) = h.mset.assignment() else { return (true, None) };
        let mut had = sa.responded;
        let mut err = sa.err.clone();
        if let Ok(mut st) = js.st.try_borrow_mut() {
            if let Some(msa) = st.cluster.as_mut().and_then(|cc| cc.streams.get_mut(&h.account)).and_then(|a| a.get_mut(&h.name)) {
                had = had || msa.responded;
                err = err.or_else(|| msa.err.clone());
                msa.responded = true;
            }
        }
        sa.responded = true;
        h.mset.set_assignment(Some(sa));
        (had, err)
    }

    /// Port of (*jetStream).processStreamLeaderChange
    ///
    /// Forgets in-flight message ids, sends the leader-elected or (on a
    /// step-down for lost quorum) the quorum-lost advisory, switches the
    /// stream's leader role, and a new leader answers the create request
    /// once: the stream's info with `did_create`, or the assignment's
    /// error; a replicated stream's leader then sends the create
    /// advisory. The inflight, counter and per-subject expectation maps
    /// upstream clears are not ported.
    pub fn process_stream_leader_change(&self, js: &JetStreamCtx, h: &Rc<HostedStream>, is_leader: bool) {
        let s = js.server();
        let Some(sa) = h.mset.assignment() else { return };
        h.cs.borrow_mut().dedupe.clear_inflight();
        let (has_responded, err) = self.take_responded(js, h);
        if is_leader {
            s.log(LogLevel::Debug, &format!("JetStream cluster new stream leader for '{} > {}'", h.account, h.name));
            s.send_stream_leader_elect_advisory(Some(&h.mset), &h.account, &h.name);
        } else {
            // Stepping down for lost quorum: say so, unless the node is new.
            if let Some(node) = Stream::raft_node(Some(&h.mset)) {
                if !node.quorum() && s.now().since(node.created()) > std::time::Duration::from_secs(5) {
                    s.send_stream_lost_quorum_advisory(Some(&h.mset), &h.account, &h.name);
                }
            }
            h.clseq.set(0);
        }
        self.set_leader(js, h, is_leader);
        if !is_leader || has_responded || !s.lookup_account(&h.account) {
            return;
        }
        let mut resp = JsApiStreamCreateResponse::new(None);
        if let Some(e) = err {
            resp.error = Some(ApiError::stream_create(&e, None));
            js.send_api_err_response(sa.client.as_ref(), &h.account, &sa.subject, &sa.reply, "", &js.json_response(&resp));
        } else {
            resp.info = Some(self.stream_info(js, h));
            resp.did_create = true;
            js.send_api_response(sa.client.as_ref(), &h.account, &sa.subject, &sa.reply, "", &js.json_response(&resp));
            if Stream::raft_node(Some(&h.mset)).is_some() {
                js.send_stream_action_advisory(&h.account, &h.name, true);
            }
        }
    }

    /// Port of (*stream).setLeader, the ingest part: the leader subscribes
    /// to the stream's subjects.
    fn set_leader(&self, js: &JetStreamCtx, h: &Rc<HostedStream>, is_leader: bool) {
        let s = js.server();
        h.is_leader.set(is_leader);
        h.cs.borrow_mut().leader = is_leader;
        if is_leader {
            if h.ingest.borrow().is_empty() {
                let subjects = h.cs.borrow().store_subjects();
                for subj in subjects {
                    if let Some(sid) = s.account_subscribe(&h.account, &subj) {
                        self.by_sid.borrow_mut().insert(sid, (h.account.clone(), h.name.clone()));
                        h.ingest.borrow_mut().push(sid);
                    }
                }
            }
        } else {
            self.unsubscribe_ingest(&*s, h);
        }
    }

    fn unsubscribe_ingest(&self, s: &dyn ServerEnv, h: &HostedStream) {
        for sid in std::mem::take(&mut *h.ingest.borrow_mut()) {
            s.account_unsubscribe(sid);
            self.by_sid.borrow_mut().remove(&sid);
        }
    }

    /// A message published to a stream subject reached this server's
    /// subscription (upstream's `processInboundJetStreamMsg`).
    pub fn process_inbound(&self, js: &JetStreamCtx, sid: Sid, subject: &str, reply: &str, hdr: &[u8], data: &[u8]) {
        let Some(key) = self.by_sid.borrow().get(&sid).cloned() else { return };
        let Some(h) = self.get(&key.0, &key.1) else { return };
        self.process_clustered_inbound_msg(js, &h, subject, reply, hdr, data);
    }

    /// Port of (*stream).processClusteredInboundMsg (the proposal path; R1
    /// streams store directly as upstream's non-clustered path does).
    pub fn process_clustered_inbound_msg(&self, js: &JetStreamCtx, h: &Rc<HostedStream>, subject: &str, reply: &str, hdr: &[u8], data: &[u8]) -> bool {
        let s = js.server();
        if !h.is_leader.get() {
            return false;
        }
        let Some(node) = Stream::raft_node(Some(&h.mset)) else {
            // R1: store now and acknowledge.
            let res = {
                let mut cs = h.cs.borrow_mut();
                let r = crate::store::StreamStore::store_msg(&mut cs.store, subject, hdr, data);
                if let Ok((seq, _)) = r {
                    cs.lseq = seq;
                }
                r
            };
            if !reply.is_empty() {
                let domain = s.opts().js_domain;
                let resp = match res {
                    Ok((seq, _)) => PubAckResponse { error: None, stream: &h.name, seq, domain: &domain },
                    Err(e) => PubAckResponse { error: Some(ApiError::general(&e.to_string())), stream: &h.name, seq: 0, domain: &domain },
                };
                if let Ok(j) = crate::go_json::to_vec(&resp) {
                    s.send_internal_account_msg(&h.account, reply, "", &[], &j);
                }
            }
            return true;
        };
        let (_, commit, applied) = node.progress();
        if applied < commit {
            return false;
        }
        let (lseq, clfs) = h.cs.borrow().last_seq_and_clfs();
        if h.clseq.get() == 0 || h.clseq.get() < lseq + clfs {
            h.clseq.set(lseq + clfs);
        }
        // Dedupe before proposing (8188ea93a; replicas do not drop on apply).
        let check = h.cs.borrow().check_msg_id_pre_proposal(hdr, s.unix_nanos());
        let staged = match check {
            MsgIdCheck::Propose(id) => id,
            MsgIdCheck::Duplicate(dseq) => {
                if !reply.is_empty() {
                    let ack = duplicate_pub_ack(&h.name, &s.opts().js_domain, dseq);
                    s.send_internal_account_msg(&h.account, reply, "", &[], ack.as_bytes());
                }
                return true;
            }
            MsgIdCheck::InProcess => {
                if !reply.is_empty() {
                    let domain = s.opts().js_domain;
                    let resp = PubAckResponse { error: Some(ApiError::duplicate_message_conflict()), stream: &h.name, seq: 0, domain: &domain };
                    if let Ok(j) = crate::go_json::to_vec(&resp) {
                        s.send_internal_account_msg(&h.account, reply, "", &[], &j);
                    }
                }
                return true;
            }
        };
        let m = StreamMsg { subject: subject.into(), reply: reply.into(), hdr: hdr.to_vec(), msg: data.to_vec(), lseq: h.clseq.get(), ts: s.unix_nanos(), sourced: false };
        let esm = encode_stream_msg_allow_compress(&m);
        if node.propose(&esm).is_err() {
            return false;
        }
        if let Some(id) = staged {
            h.cs.borrow_mut().stage_msg_id(id, s.unix_nanos());
        }
        if !reply.is_empty() {
            h.pending_acks.borrow_mut().insert(h.clseq.get(), reply.to_string());
        }
        h.clseq.set(h.clseq.get() + 1);
        true
    }

    /// The leader proposes a message delete (upstream's `jsClusteredMsgDeleteRequest`, its proposal).
    pub fn propose_delete(&self, h: &HostedStream, seq: u64, no_erase: bool, reply: &str) -> bool {
        let Some(node) = Stream::raft_node(Some(&h.mset)) else { return false };
        let md = StreamMsgDelete { stream: h.name.clone(), seq, no_erase, reply: reply.into(), ..Default::default() };
        node.propose(&encode_msg_delete(&md)).is_ok()
    }

    /// The leader proposes a purge (upstream's `jsStreamReplicaPurgeRequest`, its proposal).
    pub fn propose_purge(&self, h: &HostedStream, req: Option<PurgeRequest>, reply: &str) -> bool {
        let Some(node) = Stream::raft_node(Some(&h.mset)) else { return false };
        let sp = StreamPurge { stream: h.name.clone(), last_seq: h.cs.borrow().lseq, reply: reply.into(), request: req, ..Default::default() };
        node.propose(&encode_stream_purge(&sp)).is_ok()
    }

    /// Port of (*stream).resetClusteredState
    ///
    /// Returns whether the caller's monitor should stop. A closed stream,
    /// or one whose node was deleted, is never revived. Otherwise the node
    /// steps down and is stopped (the catch-up could not reach a leader) or
    /// deleted, the stream stops (its data dropped only on a first-sequence
    /// mismatch), and the assignment, its node forgotten and marked
    /// resetting, is created again with the member consumers.
    ///
    /// Differences from Go: the simulator models no server or account
    /// resource limits, so `js.limitsExceeded`/`jsa.limitsExceeded` never
    /// hold here; the part upstream runs on a goroutine after the monitor
    /// has quit runs inline, the monitor being a step machine that is told
    /// to quit first.
    pub fn reset_clustered_state(&self, js: &JetStreamCtx, h: &Rc<HostedStream>, err: Option<ResetCause>) -> bool {
        let s = js.server();
        let node = Stream::raft_node(Some(&h.mset));
        let sa = h.mset.assignment();
        let (acc, name) = (h.account.clone(), h.name.clone());
        if h.cs.borrow().closed || node.as_ref().is_some_and(|n| n.is_deleted()) {
            s.log(LogLevel::Warn, &format!("Will not reset stream '{acc} > {name}', stream is closed"));
            return true;
        }
        if let Some(n) = node.as_ref() {
            let _ = n.step_down(&[]);
        }
        if js.is_shutting_down() {
            s.log(LogLevel::Debug, &format!("Will not reset stream '{acc} > {name}', JetStream shutting down"));
            return false;
        }
        if let Some(n) = node.as_ref() {
            if matches!(err, Some(ResetCause::CatchupAbortedNoLeader | ResetCause::CatchupTooManyRetries)) {
                n.stop();
            } else {
                n.delete();
            }
        }
        let should_delete = err == Some(ResetCause::FirstSequenceMismatch);
        // signalMonitorQuit, then mset.stop(shouldDelete, false).
        if self.drop_stream(js, &acc, &name).is_some() {
            let mut cs = h.cs.borrow_mut();
            if should_delete {
                StreamStore::delete(&mut cs.store);
            } else {
                StreamStore::stop(&mut cs.store);
            }
        }
        let Some(mut sa) = sa else { return true };
        if js.is_shutting_down() {
            return true;
        }
        s.log(LogLevel::Warn, &format!("Resetting stream cluster state for '{} > {}'", sa.account(), sa.name()));
        sa.resetting = !should_delete;
        if let Some(g) = sa.group.as_mut() {
            g.node = None;
        }
        let mut consumers = Vec::new();
        if let Some(our_id) = js.get_meta_group().map(|m| m.id()) {
            for ca in sa.consumers.values_mut() {
                if ca.unsupported.is_some() {
                    continue;
                }
                if RaftGroup::is_member(ca.group.as_ref(), &our_id) {
                    if let Some(g) = ca.group.as_mut() {
                        g.node = None;
                    }
                    consumers.push(ca.clone());
                }
            }
        }
        self.process_cluster_create_stream(js, &acc, &sa);
        for ca in &consumers {
            self.process_cluster_create_consumer(js, None, ca, None, false);
        }
        true
    }

    fn drop_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str) -> Option<Rc<HostedStream>> {
        let h = self.streams.borrow_mut().remove(&(acc.to_string(), stream.to_string()))?;
        self.unsubscribe_ingest(&*js.server(), &h);
        if let Some(m) = h.monitor.borrow_mut().as_mut() {
            m.quit = true;
            m.exited = true;
        }
        h.cs.borrow_mut().closed = true;
        Some(h)
    }
}

impl StreamReplica {
    /// The subjects the stream's store was configured with.
    pub fn store_subjects(&self) -> Vec<String> {
        self.store.config().subjects.clone()
    }
}

impl dyn ServerEnv + '_ {
    /// Port of (*Server).removeStream: we are no longer a member; the
    /// leader hands over to the new preferred peer, the node is deleted
    /// (which ends the monitor) and the stream stops.
    pub fn remove_stream(&self, h: &HostedStream, nsa: &StreamAssignment) {
        self.log(LogLevel::Debug, &format!("JetStream removing stream '{} > {}' from this server", nsa.account(), nsa.name()));
        if let Some(n) = Stream::raft_node(Some(&h.mset)) {
            let preferred = nsa.group.as_ref().map(|g| g.preferred.clone()).unwrap_or_default();
            let _ = if preferred.is_empty() { n.step_down(&[]) } else { n.step_down(&[preferred.as_str()]) };
            n.delete();
        }
        h.mset.set_node(None);
        if let Some(m) = h.monitor.borrow_mut().as_mut() {
            m.quit = true;
            m.exited = true;
        }
        let mut cs = h.cs.borrow_mut();
        cs.closed = true;
        crate::store::StreamStore::stop(&mut cs.store);
    }
}

fn running(h: &HostedStream) -> RunningAsset {
    RunningAsset { created_unix_nanos: h.created_unix_nanos, closed: h.cs.borrow().closed }
}

impl StreamRuntime for JetStreamStreams {
    /// Port of (*jetStream).processClusterCreateStream
    ///
    /// Creates the raft group, then adds the stream or updates the running
    /// one. A running stream with the same configuration and group only
    /// answers the requester (a duplicate assignment in another group
    /// drops the old node and goes on). A failure is recorded on the
    /// assignment, deletes the group's node and, once per assignment, is
    /// reported to the meta leader as a `streamAssignmentResult`. Then the
    /// monitor starts, or an R1 stream leads at once.
    ///
    /// Differences from Go: restores (`sa.Restore`, `processStreamRestore`)
    /// are not ported; `updateWithAdvisory` is the store's configuration
    /// update (no update advisory, no cluster subscriptions); out-of-space
    /// errors do not occur on the simulated store; a running stream gets a
    /// new monitor when its node changes (upstream: when the group had no
    /// node before), the monitor being a step machine owned by the stream;
    /// `mset.setCreatedTime` is not needed, the created time being fixed
    /// from the assignment when the stream is added.
    fn process_cluster_create_stream(&self, js: &JetStreamCtx, acc: &str, sa: &StreamAssignment) {
        let s = js.server();
        let mut sa = sa.clone();
        let storage = sa.group.as_ref().map_or(StorageType::File, |g| g.storage);
        let recovering = sa.recovering;
        let name = sa.name().to_string();
        let mut err: Option<(String, Option<ApiError>)> = None;
        if let Some(rg) = sa.group.as_mut() {
            if let Err(e) = js.create_raft_group(acc, rg, recovering, storage) {
                err = Some((e.description.clone(), Some(e)));
            }
        }
        let node = sa.group.as_ref().and_then(|g| g.node.clone());
        // Upstream sets the node on the shared assignment (`rg.node = n`);
        // here the meta layer's copy gets it.
        self.set_meta_group_node(js, acc, &name, node.clone());

        let mut hosted = None;
        if err.is_none() {
            if let Some(h) = self.get(acc, &name) {
                let osa = h.mset.assignment();
                if let Some(osa) = osa.as_ref().filter(|o| o.config == sa.config) {
                    let (og, ng) = (osa.group.as_ref(), sa.group.as_ref());
                    if og.map(|g| (&g.name, &g.peers)) == ng.map(|g| (&g.name, &g.peers)) {
                        // It exists, so it succeeded: just answer this caller.
                        if !sa.recovering {
                            let info = self.stream_info(js, &h);
                            let resp = JsApiStreamCreateResponse { info: Some(info), ..JsApiStreamCreateResponse::new(None) };
                            js.send_api_response(sa.client.as_ref(), acc, &sa.subject, &sa.reply, "", &js.json_response(&resp));
                        }
                        return;
                    }
                    // An old bug could leave several assignments of one
                    // stream in different groups; the last one wins.
                    s.log(LogLevel::Warn, &format!("JetStream cluster detected duplicate assignment for stream {name:?} for account {acc:?}"));
                    if let Some(on) = og.and_then(|g| g.node.as_ref()) {
                        if !node.as_ref().is_some_and(|n| n.same_node(on)) {
                            on.delete();
                        }
                    }
                }
                if let Some(n) = node.clone() {
                    let same = Stream::raft_node(Some(&h.mset)).is_some_and(|o| o.same_node(&n));
                    if !same {
                        *h.monitor.borrow_mut() = Some(StreamMonitor::new(n));
                    }
                }
                self.set_stream_assignment(&h, &sa);
                if let Some(cfg) = sa.config.as_ref() {
                    let new_cfg = store_config_of(cfg);
                    if h.cs.borrow().store.config() != &new_cfg {
                        if let Err(e) = StreamStore::update_config(&mut h.cs.borrow_mut().store, &new_cfg) {
                            s.log(LogLevel::Warn, &format!("JetStream cluster error updating stream {name:?} for account {acc:?}: {e}"));
                            if let Some(mut osa) = osa {
                                if let Some(og) = osa.group.as_mut() {
                                    let _ = js.create_raft_group(acc, og, osa.recovering, storage);
                                }
                                h.mset.set_assignment(Some(osa));
                            }
                            if let Some(n) = node.as_ref() {
                                n.delete();
                            }
                            err = Some((e.to_string(), None));
                        }
                    }
                }
                hosted = Some(h);
            } else {
                match self.add_stream_with_assignment(js, acc, &sa, node.clone()) {
                    Ok(h) => hosted = Some(h),
                    Err(e) => {
                        s.log(LogLevel::Warn, &format!("Stream create failed for '{acc} > {name}': {e}"));
                        err = Some((ERR_STREAM_STORE_FAILED.to_string(), None));
                    }
                }
            }
        }

        if let Some((e, api)) = err {
            if js.is_shutting_down() {
                s.log(LogLevel::Debug, "Could not create stream, JetStream shutting down");
                return;
            }
            let has_responded = {
                let mut st = js.st.borrow_mut();
                match st.cluster.as_mut().and_then(|cc| cc.streams.get_mut(acc)).and_then(|a| a.get_mut(&name)) {
                    Some(msa) => {
                        msa.err = Some(e.clone());
                        msa.responded
                    }
                    None => sa.responded,
                }
            };
            if let Some(n) = node.as_ref() {
                n.delete();
            }
            if !has_responded {
                let result = StreamAssignmentResult {
                    account: acc.to_string(),
                    stream: name.clone(),
                    response: Some(JsApiStreamCreateResponse::new(Some(ApiError::stream_create(&e, api.as_ref())))),
                    update: false,
                };
                // To the meta leader, which forwards it to the requester.
                if let Ok(b) = crate::go_json::to_vec(&result) {
                    s.send_internal_msg(STREAM_ASSIGNMENT_SUBJ, "", &[], &b);
                }
            }
            return;
        }
        if let (Some(h), None) = (hosted, node) {
            // A single replica leads at once.
            self.process_stream_leader_change(js, &h, true);
        }
    }

    /// Port of (*jetStream).processClusterUpdateStream
    ///
    /// A stream remapped to a new group drops its old node and monitor; a
    /// stream scaled up from R1 gets a node and a monitor; one scaled down
    /// to R1 loses them (and the meta copy forgets the node). Then the
    /// stream takes the new assignment (its node learns the assignment's
    /// peers, as `setStreamAssignment` does) and configuration, and a
    /// replica scaled down to R1 that leads takes the leader role. A stream
    /// not running here is created through `processStreamAssignment` (we
    /// are expanding into this server).
    ///
    /// The leader (or a single replica being promoted) answers the
    /// requester once with the stream's info, as the create answer carries
    /// it (`JSApiStreamUpdateResponse` is the same shape without
    /// `did_create`; mirror and source infos are not on the simulator).
    ///
    /// Not ported: the update advisory of `updateWithAdvisory`, the error
    /// result of a failed update (the store's configuration update is only
    /// logged), and the
    /// cluster subscriptions for sync and catch-up (`startClusterSubs`,
    /// `stopClusterSubs`, `clearAllCatchupPeers`: batch 35's catch-up).
    fn process_cluster_update_stream(&self, js: &JetStreamCtx, acc: &str, osa: &StreamAssignment, sa: &StreamAssignment) {
        let s = js.server();
        let mut sa = sa.clone();
        let mut already_running = osa.group.as_ref().is_some_and(|g| g.node.is_some());
        let old_num_replicas = osa.group.as_ref().map_or(0, |g| g.peers.len());
        let num_replicas = sa.group.as_ref().map_or(0, |g| g.peers.len());
        let mut needs_node = sa.group.as_ref().is_none_or(|g| g.node.is_none());
        let storage = sa.group.as_ref().map_or(StorageType::File, |g| g.storage);
        let recovering = sa.recovering;
        let name = sa.name().to_string();
        let set_meta_node = |node: Option<NodeHandle>| {
            if let Ok(mut st) = js.st.try_borrow_mut() {
                if let Some(g) = st.cluster.as_mut().and_then(|cc| cc.streams.get_mut(acc)).and_then(|a| a.get_mut(&name)).and_then(|x| x.group.as_mut()) {
                    g.node = node;
                }
            }
        };

        // Answered once: by this update, not by a leader change it causes
        // (upstream marks the one shared assignment).
        let has_responded = sa.responded;
        sa.responded = true;
        if let Ok(mut st) = js.st.try_borrow_mut() {
            if let Some(msa) = st.cluster.as_mut().and_then(|cc| cc.streams.get_mut(acc)).and_then(|a| a.get_mut(&name)) {
                msa.responded = true;
            }
        }

        let Some(h) = self.get(acc, &name) else {
            js.process_stream_assignment(sa);
            return;
        };
        let old_group = osa.group.as_ref().map(|g| g.name.as_str()).unwrap_or_default();
        let new_group = sa.group.as_ref().map(|g| g.name.clone()).unwrap_or_default();
        if old_group != new_group {
            s.log(LogLevel::Warn, &format!("JetStream cluster detected stream remapping for '{acc} > {name}' from {old_group:?} to {new_group:?}"));
            h.mset.remove_node();
            if let Some(m) = h.monitor.borrow_mut().as_mut() {
                m.quit = true;
            }
            already_running = false;
            needs_node = true;
            if let Some(g) = sa.group.as_mut() {
                g.node = None;
            }
            set_meta_node(None);
        }

        // porttrack: allow(mutant) `>=` adds only num_replicas == 1, where createRaftGroup starts no node for a single-peer group, so the monitor is set to none: it was none, or quit by the remapping above
        if !already_running && num_replicas > 1 {
            if needs_node {
                if let Some(rg) = sa.group.as_mut() {
                    if let Err(e) = js.create_raft_group(acc, rg, recovering, storage) {
                        s.log(LogLevel::Warn, &format!("JetStream cluster error creating raft group for '{acc} > {name}': {e}"));
                    }
                }
                set_meta_node(sa.group.as_ref().and_then(|g| g.node.clone()));
            }
            let node = sa.group.as_ref().and_then(|g| g.node.clone());
            *h.monitor.borrow_mut() = node.map(StreamMonitor::new);
        } else if num_replicas == 1 && already_running {
            // Scaled down to R1: no node and no monitor any more.
            h.mset.remove_node();
            if let Some(m) = h.monitor.borrow_mut().as_mut() {
                m.quit = true;
                m.exited = true;
            }
            if let Some(g) = sa.group.as_mut() {
                g.node = None;
            }
            set_meta_node(None);
        }

        let node = sa.group.as_ref().and_then(|g| g.node.clone());
        self.set_stream_assignment(&h, &sa);
        h.cs.borrow_mut().group_peers = sa.group.as_ref().map(|g| g.peers.clone());
        if let Some(cfg) = sa.config.as_ref() {
            if let Err(e) = StreamStore::update_config(&mut h.cs.borrow_mut().store, &store_config_of(cfg)) {
                s.log(LogLevel::Warn, &format!("JetStream cluster error updating stream {name:?} for account {acc:?}: {e}"));
            }
        }

        // Go's `mset.IsLeader()`: a stream without a node leads.
        let is_leader = node.is_none() || h.is_leader.get();
        // Scaled down to R1: the one replica leads, whether or not it led.
        // porttrack: allow(mutant) `>=` adds only R1 -> R1, whose leader change has no node to advertise, no proposal in flight and an answer already marked given above
        if is_leader && num_replicas == 1 && old_num_replicas > 1 {
            self.process_stream_leader_change(js, &h, true);
        }
        // The missing sync subject bug: the next leader repairs it.
        if is_leader && osa.sync.is_empty() {
            if let Some(n) = node {
                let _ = n.step_down(&[]);
            }
            return;
        }
        // Go's `mset.IsLeader()` for the answer: the node's view. A single
        // replica being promoted answers as if it led.
        let answers = node.as_ref().is_none_or(|n| n.leader()) || (!has_responded && !already_running);
        if !answers || has_responded || recovering {
            return;
        }
        let resp = JsApiStreamCreateResponse {
            typ: super::stream_requests::JS_API_STREAM_UPDATE_RESPONSE_TYPE,
            info: Some(self.stream_info(js, &h)),
            ..JsApiStreamCreateResponse::new(None)
        };
        js.send_api_response(sa.client.as_ref(), acc, &sa.subject, &sa.reply, "", &js.json_response(&resp));
    }

    /// Port of (*jetStream).processClusterDeleteStream
    ///
    /// Deletes the stream's node and store if it runs here (the leader
    /// also sends the delete advisory), always deletes the assignment's
    /// node, removes the group's directory when the stream did not stop
    /// here or had no node (with its consumers' groups when it did not
    /// stop), removes the stream's store directory and the account's if
    /// empty, then answers the requester: the leader does, every member
    /// does when the group had no leader, and the meta leader does too when
    /// every peer is offline. Nothing is sent while recovering or when the
    /// account is gone.
    ///
    /// Differences from Go: the monitor is a step machine, told to quit
    /// instead of waited for (`signalMonitorQuit`, `monitorWg.Wait`); the
    /// memory store's delete cannot fail, so the error answer
    /// (`NewJSStreamGeneralError` of `mset.stop`'s error) never goes out.
    fn process_cluster_delete_stream(&self, js: &JetStreamCtx, sa: &StreamAssignment, is_member: bool, was_leader: bool) {
        let s = js.server();
        let (acc_name, name) = (sa.account().to_string(), sa.name().to_string());
        let node = sa.group.as_ref().and_then(|g| g.node.clone());
        // porttrack: allow(mutant) read only for an answer, and the assignment has a node only when a meta snapshot removes it, marked recovering, which never answers (upstream the same)
        let had_leader = node.as_ref().is_none_or(|n| !n.leaderless());
        let offline = s.all_peers_offline(sa.group.as_ref()) || sa.unsupported.is_some();
        let is_meta_leader = super::cluster::JetStreamCluster::is_leader(js.st.borrow().cluster.as_ref());
        let recovering = sa.recovering;

        let mut stopped = false;
        let acc = s.lookup_account(&acc_name);
        if acc {
            if let Some(h) = self.drop_stream(js, &acc_name, &name) {
                // Deleting the node ends the monitor.
                if let Some(n) = Stream::raft_node(Some(&h.mset)) {
                    n.delete();
                }
                // mset.stop(true, wasLeader): the store goes, the leader says so.
                if was_leader {
                    js.send_stream_action_advisory(&acc_name, &name, false);
                }
                h.mset.set_node(None);
                StreamStore::delete(&mut h.cs.borrow_mut().store);
                stopped = true;
            } else if is_member {
                s.log(LogLevel::Warn, &format!("JetStream failed to lookup running stream while removing stream '{acc_name} > {name}' from this server"));
            }
        } else if is_member {
            s.log(LogLevel::Warn, &format!("JetStream failed to lookup account while removing stream '{acc_name} > {name}' from this server"));
        }
        if let Some(n) = node.as_ref() {
            n.delete();
        }
        let store_dir = js.config.store_dir.clone();
        // A stop gap for a missing account or stream, or no node to delete.
        if !stopped || node.is_none() {
            if let (Some(sys), Some(g)) = (s.system_account(), sa.group.as_ref()) {
                s.remove_all(&format!("{store_dir}/{sys}/{DEFAULT_STORE_DIR_NAME}/{}", g.name));
                if !stopped {
                    for ca in sa.consumers.values() {
                        if let Some(cg) = ca.group.as_ref() {
                            if is_member {
                                if let Some(cn) = cg.node.as_ref() {
                                    cn.delete();
                                }
                            }
                            s.remove_all(&format!("{store_dir}/{sys}/{DEFAULT_STORE_DIR_NAME}/{}", cg.name));
                        }
                    }
                }
            }
        }
        let acc_dir = format!("{store_dir}/{acc_name}");
        let stream_dir = format!("{acc_dir}/{STREAMS_DIR}");
        s.remove_all(&format!("{stream_dir}/{name}"));
        s.remove_dir(&stream_dir);
        s.remove_dir(&acc_dir);

        // Only the leader answers, unless there was none; with every peer
        // offline the meta leader answers as well.
        if (!is_member || (had_leader && !was_leader)) && !(offline && is_meta_leader) {
            return;
        }
        if !acc || recovering {
            return;
        }
        let resp = JsApiStreamDeleteResponse { typ: JS_API_STREAM_DELETE_RESPONSE_TYPE, error: None, success: true };
        js.send_api_response(sa.client.as_ref(), &acc_name, &sa.subject, &sa.reply, "", &js.json_response(&resp));
    }

    fn lookup_stream(&self, acc: &str, stream: &str) -> Option<RunningAsset> {
        self.get(acc, stream).map(|h| running(&h))
    }

    fn remove_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str, nsa: &StreamAssignment) {
        let Some(h) = self.drop_stream(js, acc, stream) else { return };
        js.server().remove_stream(&h, nsa);
    }

    /// Go: `mset.stop(false, false)`: the node stops, data stays.
    fn stop_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str) {
        let Some(h) = self.drop_stream(js, acc, stream) else { return };
        if let Some(n) = Stream::raft_node(Some(&h.mset)) {
            n.stop();
        }
    }

    // Consumers are batch 34's (see the module docs).
    fn process_cluster_create_consumer(&self, _: &JetStreamCtx, _: Option<&ConsumerAssignment>, _: &ConsumerAssignment, _: Option<&RawValue>, _: bool) {}
    fn process_cluster_delete_consumer(&self, _: &JetStreamCtx, _: &ConsumerAssignment, _: bool) {}
    fn lookup_consumer(&self, _: &str, _: &str, _: &str) -> Option<RunningAsset> {
        None
    }
    fn remove_consumer(&self, _: &JetStreamCtx, _: &str, _: &str, _: &str, _: &ConsumerAssignment) {}

    /// Port of (*jetStream).getOrphans
    ///
    /// Every stream this server runs whose account has no assignment of
    /// that name in `streams`. Upstream walks `js.accounts` and each
    /// account's streams; here the runtime's streams are keyed by account.
    /// Upstream also lists the public consumers of assigned streams that
    /// their assignment does not know; consumers are not run by this port
    /// (batch 34), so that half finds nothing.
    fn get_orphans(&self, streams: &StreamMap) -> Orphans {
        let mut o = Orphans::default();
        for (acc, name) in self.streams.borrow().keys() {
            if streams.get(acc).and_then(|a| a.get(name)).is_none() {
                o.streams.push((acc.clone(), name.clone()));
            }
        }
        o
    }

    fn delete_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str) -> Result<(), String> {
        let h = self.drop_stream(js, acc, stream).ok_or_else(|| format!("stream {acc} > {stream} not found"))?;
        if let Some(n) = Stream::raft_node(Some(&h.mset)) {
            n.delete();
        }
        h.cs.borrow_mut().store.stop();
        Ok(())
    }

    fn delete_consumer(&self, _: &JetStreamCtx, _: &str, _: &str, _: &str) -> Result<(), String> {
        Err("consumers are not run by this port yet".into())
    }

    fn stream_raft_node(&self, acc: &str, stream: &str) -> Option<NodeHandle> {
        Stream::raft_node(Some(&self.get(acc, stream)?.mset))
    }

    fn stream_state_snapshot(&self, acc: &str, stream: &str) -> Option<Vec<u8>> {
        Some(self.get(acc, stream)?.cs.borrow().state_snapshot())
    }

    fn stream_health(&self, acc: &str, stream: &str) -> Option<StreamHealthView> {
        let h = self.get(acc, stream)?;
        let replicas = h.mset.assignment().and_then(|sa| sa.config.map(|c| c.replicas)).unwrap_or(0);
        Some(StreamHealthView { replicas, node: Stream::raft_node(Some(&h.mset)), monitor_running: h.is_monitor_running() })
    }
}

impl super::cluster::JetStreamCluster {
    /// Port of (*jetStreamCluster).isStreamCurrent
    ///
    /// Current when the group's node is (or there is none) and the stream
    /// runs here. Upstream also says no while the stream catches up from a
    /// snapshot; this port has no stream catch-up (batch 35), so a running
    /// stream is never catching up.
    pub fn is_stream_current(cc: Option<&Self>, s: &dyn ServerEnv, runtime: &dyn StreamRuntime, account: &str, stream: &str) -> bool {
        let Some(cc) = cc else { return true };
        let Some(sa) = cc.streams.get(account).and_then(|a| a.get(stream)) else { return false };
        let Some(rg) = sa.group.as_ref() else { return false };
        if rg.node.as_ref().is_none_or(|n| n.current()) {
            return s.lookup_account(account) && runtime.lookup_stream(account, stream).is_some();
        }
        false
    }
}

impl dyn ServerEnv + '_ {
    /// Port of (*Server).JetStreamIsStreamCurrent
    pub fn jet_stream_is_stream_current(&self, account: &str, stream: &str) -> bool {
        let Some(js) = self.get_jet_stream_cluster() else { return false };
        let st = js.st.borrow();
        super::cluster::JetStreamCluster::is_stream_current(st.cluster.as_ref(), self, &*js.runtime, account, stream)
    }

    /// Port of (*Server).JetStreamSnapshotStream
    ///
    /// Installs the stream's state snapshot (`stateSnapshot`) in its raft
    /// node, compacting the node's log; nothing for a stream without a node
    /// (R1). Errors as upstream's: JetStream off (or shutting down), not
    /// clustered, no such account, no such stream here, or the node's own.
    /// The port's stream logs are otherwise never compacted (module docs):
    /// a replica left behind the snapshot would need the stream catch-up of
    /// batch 35, which is not ported.
    pub fn jet_stream_snapshot_stream(&self, account: &str, stream: &str) -> Result<(), ApiError> {
        let js = match self.jet_stream() {
            Some(js) if !self.is_shutting_down() => js,
            _ => return Err(ApiError::not_enabled_for_account()),
        };
        if js.st.borrow().cluster.is_none() {
            return Err(ApiError::cluster_not_active());
        }
        self.lookup_or_fetch_account(account, true).map_err(|e| ApiError::general(&e))?;
        if js.runtime.lookup_stream(account, stream).is_none() {
            return Err(ApiError { code: 404, err_code: 10059, description: "stream not found".into() });
        }
        let Some(node) = js.runtime.stream_raft_node(account, stream) else { return Ok(()) };
        let Some(snap) = js.runtime.stream_state_snapshot(account, stream) else { return Ok(()) };
        node.install_snapshot(&snap, false).map_err(|e| ApiError::from_raft(&e))
    }

    /// Port of (*Server).JetStreamStepdownStream
    pub fn jet_stream_stepdown_stream(&self, account: &str, stream: &str) -> Result<(), ApiError> {
        let Some(js) = self.get_jet_stream_cluster() else { return Err(ApiError::not_enabled()) };
        if js.st.borrow().cluster.is_none() {
            return Err(ApiError::cluster_not_active());
        }
        if !self.lookup_account(account) {
            return Err(ApiError::general("account not found"));
        }
        if js.runtime.lookup_stream(account, stream).is_none() {
            return Err(ApiError { code: 404, err_code: 10059, description: "stream not found".into() });
        }
        if let Some(node) = js.runtime.stream_raft_node(account, stream) {
            let _ = node.step_down(&[]);
        }
        Ok(())
    }
}
