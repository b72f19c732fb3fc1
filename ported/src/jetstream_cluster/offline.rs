//! Rebuilding a meta group's assignments without a running cluster: the
//! replay a restarting server does (`setupMetaGroup` marks the meta layer
//! recovering, `monitorCluster` stages every committed batch through
//! `applyMetaEntries` and applies the staged changes at the end-of-replay
//! marker), run over entries a caller decoded from disk.
//!
//! The server is [`OfflineServer`]: an identity and nothing else (no
//! peers, no network, no clock, every message dropped). The meta node is
//! [`OfflineNode`]: the node of a server that is not running, which has its
//! peer id and reports itself closed. No stream runtime runs
//! ([`NoRuntime`]), so the result is the assignment maps alone.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::peer_state::{ExtensionState, PeerState};
use crate::raft::env::{LogLevel, Sid, Timestamp};
use crate::raft::snapshot::Checkpoint;
use crate::raft::wire::AppendEntry;
use crate::raft::{CommittedEntry, Peer, RaftError, RaftState, RaftTimings};

use super::apply::ApplyError;
use super::cluster::{JetStreamCluster, StreamMap};
use super::js::{JetStreamConfig, JetStreamCtx};
use super::node::{Entry, NodeHandle, RaftNode};
use super::recovery::RecoveryUpdates;
use super::runtime::NoRuntime;
use super::server::{NodeInfo, ServerEnv, ServerOpts, StartError, SysHandler, Task};

/// A server that is not running: `peer_id` is its meta node id (the hash of
/// its name), every account is taken to exist, and log lines are kept.
pub struct OfflineServer {
    peer_id: String,
    meta_leader: Cell<bool>,
    clustered: Cell<bool>,
    rand: Cell<u64>,
    js: RefCell<std::rc::Weak<JetStreamCtx>>,
    /// Log lines (warnings, errors and debug) in order.
    pub log: RefCell<Vec<String>>,
}

impl OfflineServer {
    /// An offline server whose meta node id is `peer_id`.
    pub fn new(peer_id: &str) -> Rc<OfflineServer> {
        Rc::new(OfflineServer {
            peer_id: peer_id.to_string(),
            meta_leader: Cell::new(false),
            clustered: Cell::new(false),
            rand: Cell::new(0x9E37_79B9_7F4A_7C15),
            js: RefCell::new(std::rc::Weak::new()),
            log: RefCell::new(Vec::new()),
        })
    }
}

impl ServerEnv for OfflineServer {
    // An offline replay reads a copy of the meta group and has no store
    // directory of its own to clean.
    fn remove_all(&self, _: &str) {}
    fn remove_dir(&self, _: &str) {}
    fn name(&self) -> String {
        String::new()
    }
    fn id(&self) -> String {
        String::new()
    }
    fn node(&self) -> String {
        self.peer_id.clone()
    }
    fn cluster_name(&self) -> String {
        String::new()
    }
    fn is_cluster_name_dynamic(&self) -> bool {
        false
    }
    fn configured_routes(&self) -> usize {
        0
    }
    fn can_extend_other_domain(&self) -> bool {
        false
    }
    fn is_running(&self) -> bool {
        false
    }
    fn is_shutting_down(&self) -> bool {
        false
    }
    fn quit_closed(&self) -> bool {
        false
    }
    fn events_enabled(&self) -> bool {
        false
    }
    fn is_meta_leader(&self) -> bool {
        self.meta_leader.get()
    }
    fn set_meta_leader(&self, leader: bool) {
        self.meta_leader.set(leader);
    }
    fn js_clustered(&self) -> bool {
        self.clustered.get()
    }
    fn set_js_clustered(&self, clustered: bool) {
        self.clustered.set(clustered);
    }
    fn opts(&self) -> ServerOpts {
        ServerOpts::default()
    }
    fn raft_timings(&self) -> RaftTimings {
        RaftTimings::default()
    }
    fn now(&self) -> Timestamp {
        Timestamp(0)
    }
    fn unix_nanos(&self) -> i64 {
        0
    }
    fn rand_u64(&self) -> u64 {
        // A fixed sequence (SplitMix64): the replay itself draws no randomness.
        let x = self.rand.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rand.set(x);
        let z = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn log(&self, level: LogLevel, msg: &str) {
        self.log.borrow_mut().push(format!("{level:?} {msg}"));
    }
    fn node_info(&self, _: &str) -> Option<NodeInfo> {
        None
    }
    fn node_infos(&self) -> Vec<(String, NodeInfo)> {
        Vec::new()
    }
    fn system_account(&self) -> Option<String> {
        Some("$SYS".into())
    }
    fn lookup_or_fetch_account(&self, _: &str, _: bool) -> Result<(), String> {
        Ok(())
    }
    fn lookup_account(&self, _: &str) -> bool {
        true
    }
    fn send_internal_msg(&self, _: &str, _: &str, _: &[u8], _: &[u8]) {}
    fn send_internal_account_msg(&self, _: &str, _: &str, _: &str, _: &[u8], _: &[u8]) {}
    fn has_interest(&self, _: &str, _: &str) -> bool {
        false
    }
    fn sys_subscribe(&self, _: &str, _: SysHandler) -> Option<Sid> {
        None
    }
    fn sys_unsubscribe(&self, _: Sid) {}
    fn bootstrap_raft_node(&self, _: &str, _: &[String], _: bool) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn read_peer_state(&self, _: &str) -> Result<PeerState, RaftError> {
        Err(RaftError::NoPeerState)
    }
    fn write_peer_state(&self, _: &str, _: &PeerState) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn start_raft_node(&self, _: &str, _: &str, _: &str, _: bool, _: bool) -> Result<NodeHandle, StartError> {
        Err(RaftError::NodeClosed)
    }
    fn lookup_raft_node(&self, _: &str) -> Option<NodeHandle> {
        None
    }
    fn num_raft_nodes(&self) -> usize {
        0
    }
    fn schedule(&self, _: Duration, _: Task) {}
    fn jet_stream(&self) -> Option<Rc<JetStreamCtx>> {
        self.js.borrow().upgrade()
    }
    fn healthz_error(&self) -> String {
        "JetStream is not running".into()
    }
}

/// The meta node of a server that is not running: it knows its peer id and
/// group; it leads nothing, proposes nothing and reports itself closed.
#[derive(Debug, Clone)]
pub struct OfflineNode {
    id: String,
    group: String,
}

impl OfflineNode {
    /// The stopped node `id` of `group`.
    pub fn new(id: &str, group: &str) -> Self {
        OfflineNode { id: id.to_string(), group: group.to_string() }
    }
}

impl RaftNode for OfflineNode {
    fn propose(&self, _: &[u8]) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn propose_multi(&self, _: Vec<Entry>) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn forward_proposal(&self, _: &[u8]) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn applied(&self, _: u64) -> (u64, u64) {
        (0, 0)
    }
    fn processed(&self, _: u64, _: u64) -> (u64, u64) {
        (0, 0)
    }
    fn apply_q_pop(&self) -> Vec<Option<CommittedEntry>> {
        Vec::new()
    }
    fn apply_q_ready(&self) -> bool {
        false
    }
    fn lead_change(&self) -> Option<bool> {
        None
    }
    fn lead_change_ready(&self) -> bool {
        false
    }
    fn install_snapshot(&self, _: &[u8], _: bool) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn create_snapshot_checkpoint(&self, _: bool) -> Result<Checkpoint, RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn checkpoint_load_last_snapshot(&self, _: &Checkpoint) -> Result<Vec<u8>, RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn checkpoint_append_entries(&self, _: &Checkpoint) -> Vec<Result<AppendEntry, RaftError>> {
        vec![Err(RaftError::NodeClosed)]
    }
    fn checkpoint_abort(&self, _: &Checkpoint) {}
    fn checkpoint_install_snapshot(&self, _: &Checkpoint, _: &[u8]) -> Result<u64, RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn send_snapshot(&self, _: &[u8]) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn need_snapshot(&self) -> bool {
        false
    }
    fn drain_and_replay_snapshot(&self) -> bool {
        false
    }
    fn state(&self) -> RaftState {
        RaftState::Closed
    }
    fn size(&self) -> (u64, u64) {
        (0, 0)
    }
    fn progress(&self) -> (u64, u64, u64) {
        (0, 0, 0)
    }
    fn leader(&self) -> bool {
        false
    }
    fn leader_since(&self) -> Option<Timestamp> {
        None
    }
    fn quorum(&self) -> bool {
        false
    }
    fn current(&self) -> bool {
        false
    }
    fn healthy(&self) -> bool {
        false
    }
    fn term(&self) -> u64 {
        0
    }
    fn leaderless(&self) -> bool {
        true
    }
    fn group_leader(&self) -> String {
        String::new()
    }
    fn had_previous_leader(&self) -> bool {
        false
    }
    fn created(&self) -> Timestamp {
        Timestamp(0)
    }
    fn is_observer(&self) -> bool {
        false
    }
    fn set_observer(&self, _: bool) {}
    fn write_err(&self) -> Option<RaftError> {
        None
    }
    fn step_down(&self, _: &[&str]) -> Result<(), RaftError> {
        Err(RaftError::NotLeader)
    }
    fn campaign(&self) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn campaign_immediately(&self) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn group(&self) -> String {
        self.group.clone()
    }
    fn peers(&self) -> Vec<Peer> {
        Vec::new()
    }
    fn propose_known_peers(&self, _: &[String]) {}
    fn update_known_peers(&self, _: &[String]) {}
    fn propose_add_peer(&self, _: &str) -> Result<(), RaftError> {
        Err(RaftError::NotLeader)
    }
    fn propose_remove_peer(&self, _: &str) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn adjust_cluster_size(&self, _: usize) -> Result<(), RaftError> {
        Err(RaftError::NotLeader)
    }
    fn adjust_boot_cluster_size(&self, _: usize) -> Result<(), RaftError> {
        Err(RaftError::NodeClosed)
    }
    fn cluster_size(&self) -> usize {
        0
    }
    fn current_peer_state(&self) -> PeerState {
        PeerState { known_peers: Vec::new(), cluster_size: 0, domain_ext: ExtensionState::UNDETERMINED }
    }
    fn membership_change_in_progress(&self) -> bool {
        false
    }
    fn stop(&self) {}
    fn wait_for_stop(&self) {}
    fn delete(&self) {}
    fn is_deleted(&self) -> bool {
        false
    }
    fn is_closed(&self) -> bool {
        true
    }
}

/// Where an offline replay stopped.
#[derive(Debug, thiserror::Error)]
#[error("meta entry batch {batch}: {source}")]
pub struct RecoverError {
    /// Index of the batch (in the order given) that failed.
    pub batch: usize,
    /// What was wrong with it.
    pub source: ApplyError,
}

/// The result of an offline replay.
#[derive(Debug, Clone)]
pub struct MetaRecovery {
    /// Account → stream → assignment, consumers nested.
    pub streams: StreamMap,
    /// What the replay logged.
    pub log: Vec<String>,
}

impl JetStreamCtx {
    /// A JetStream context of an offline server whose meta node is
    /// `peer_id`, in the state `setupMetaGroup` leaves a recovering server
    /// in: clustered, meta layer recovering, no assignments.
    pub fn offline(peer_id: &str) -> (Rc<JetStreamCtx>, Rc<OfflineServer>) {
        let srv = OfflineServer::new(peer_id);
        let js = JetStreamCtx::new(srv.clone(), Rc::new(NoRuntime), JetStreamConfig::default());
        *srv.js.borrow_mut() = Rc::downgrade(&js);
        {
            let node = NodeHandle::new(OfflineNode::new(peer_id, super::DEFAULT_META_GROUP_NAME));
            let mut st = js.st.borrow_mut();
            st.cluster = Some(JetStreamCluster::with_meta(node));
            st.meta_recovering = true;
        }
        (js, srv)
    }
}

/// The entries of one stored append entry that raft hands to the upper
/// layer when it commits it (upstream's `applyCommit`): normal entries,
/// snapshots (an old-style snapshot as a snapshot), and peer additions and
/// removals. Peer-state and leader-transfer entries stay in raft.
pub fn upper_layer_entries(entries: &[Entry]) -> Vec<Entry> {
    use crate::raft::wire::EntryType;
    entries
        .iter()
        .filter_map(|e| match e.typ {
            EntryType::Normal | EntryType::Snapshot | EntryType::AddPeer | EntryType::RemovePeer => Some(e.clone()),
            EntryType::OldSnapshot => Some(Entry::new(EntryType::Snapshot, e.data.clone())),
            _ => None,
        })
        .collect()
}

/// Replays a meta group's committed batches as a restarting server does
/// and returns the assignments it ends with.
///
/// `batches` are the entries of each committed append entry in log order,
/// as raft passes them up ([`upper_layer_entries`] filters a stored append
/// entry); when the group has a snapshot, the first batch is
/// `[EntrySnapshot]` with the snapshot's data (how raft hands a snapshot to
/// the upper layer at start-up), followed by the entries after the
/// snapshot's index. A restarting server applies only what it knows is
/// committed (up to the highest commit index its log records). `peer_id` is the meta node id of the server whose disk
/// this is (it decides group membership; use `""` when unknown). Every
/// batch is staged; the staged changes apply once all were read, as at the
/// end-of-replay marker.
pub fn recover_meta_state(peer_id: &str, batches: &[Vec<Entry>]) -> Result<MetaRecovery, RecoverError> {
    let (js, srv) = JetStreamCtx::offline(peer_id);
    let mut ru = RecoveryUpdates::new();
    for (i, batch) in batches.iter().enumerate() {
        let (_, _, res) = js.apply_meta_entries(batch, Some(&mut ru));
        res.map_err(|source| RecoverError { batch: i, source })?;
    }
    js.process_recovery_updates(ru);
    js.clear_meta_recovering();
    let streams = js.st.borrow().cluster.as_ref().map(|cc| cc.streams.clone()).unwrap_or_default();
    let log = srv.log.borrow().clone();
    Ok(MetaRecovery { streams, log })
}


#[cfg(test)]
#[path = "offline_tests.rs"]
mod tests;
