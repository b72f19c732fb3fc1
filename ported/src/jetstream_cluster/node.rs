//! The raft node handle the JetStream cluster code holds for a group
//! (upstream's `RaftNode` interface) and its snapshot checkpoint
//! (`RaftNodeCheckpoint`).
//!
//! The ported node ([`crate::raft::Raft`]) is driven through `&mut self` by
//! one thread, so the handle is single-threaded: [`NodeHandle`] is an
//! `Rc<dyn RaftNode>` and `RefCell<Raft>` implements the trait, each method
//! borrowing the node only for the length of the call. That is safe because
//! raft never calls back into the JetStream layer (its output is pulled from
//! the apply queue and the leader-change queue) and publishing only queues a
//! message for later delivery. A call made while the node is already
//! borrowed panics, which is how a lock-order bug shows up here.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::peer_state::PeerState;
use crate::raft::env::Timestamp;
use crate::raft::snapshot::Checkpoint;
use crate::raft::wire::AppendEntry;
use crate::raft::{CommittedEntry, HealthCheck, Peer, Raft, RaftError, RaftState};

/// Log entries as the raft port hands them to the meta layer.
pub use crate::raft::wire::{Entry, EntryType};

/// What the JetStream layer asks of a raft node (Go: `RaftNode`). Every
/// method takes `&self`; implementations keep their own interior state.
pub trait RaftNode {
    /// Queues a normal entry (Go: `Propose`).
    fn propose(&self, entry: &[u8]) -> Result<(), RaftError>;
    /// Queues several entries (Go: `ProposeMulti`).
    fn propose_multi(&self, entries: Vec<Entry>) -> Result<(), RaftError>;
    /// Proposes, or forwards to the leader when not leading (Go: `ForwardProposal`).
    fn forward_proposal(&self, entry: &[u8]) -> Result<(), RaftError>;
    /// Reports a batch as applied; returns (entries, bytes) a snapshot could compact.
    fn applied(&self, index: u64) -> (u64, u64);
    /// Reports a batch as processed (Go: `Processed`).
    fn processed(&self, index: u64, applied: u64) -> (u64, u64);
    /// Takes everything in the apply queue (Go: `ApplyQ().pop()`); `None`
    /// items mark the end of a replay or catch-up.
    fn apply_q_pop(&self) -> Vec<Option<CommittedEntry>>;
    /// Whether the apply queue holds anything (Go: `ApplyQ().ch` is ready).
    fn apply_q_ready(&self) -> bool;
    /// Takes one leadership notification (Go: a receive on `LeadChangeC()`).
    fn lead_change(&self) -> Option<bool>;
    /// Whether a leadership notification is waiting.
    fn lead_change_ready(&self) -> bool;

    /// Installs `data` as a snapshot at the applied index (Go: `InstallSnapshot`).
    fn install_snapshot(&self, data: &[u8], force: bool) -> Result<(), RaftError>;
    /// Opens an asynchronous snapshot (Go: `CreateSnapshotCheckpoint`).
    fn create_snapshot_checkpoint(&self, force: bool) -> Result<Checkpoint, RaftError>;
    /// Go: `checkpoint.LoadLastSnapshot`.
    fn checkpoint_load_last_snapshot(&self, c: &Checkpoint) -> Result<Vec<u8>, RaftError>;
    /// Go: `checkpoint.AppendEntriesSeq`.
    fn checkpoint_append_entries(&self, c: &Checkpoint) -> Vec<Result<AppendEntry, RaftError>>;
    /// Go: `checkpoint.Abort`.
    fn checkpoint_abort(&self, c: &Checkpoint);
    /// Go: `checkpoint.InstallSnapshot`; returns the WAL bytes released.
    fn checkpoint_install_snapshot(&self, c: &Checkpoint, data: &[u8]) -> Result<u64, RaftError>;
    /// Replicates `data` as a snapshot entry (Go: `SendSnapshot`).
    fn send_snapshot(&self, data: &[u8]) -> Result<(), RaftError>;
    /// Whether no snapshot exists yet but entries were applied (Go: `NeedSnapshot`).
    fn need_snapshot(&self) -> bool;
    /// Go: `DrainAndReplaySnapshot`.
    fn drain_and_replay_snapshot(&self) -> bool;

    /// Go: `State`.
    fn state(&self) -> RaftState;
    /// (entries, bytes) in the log since the snapshot (Go: `Size`).
    fn size(&self) -> (u64, u64);
    /// (index, commit, applied) (Go: `Progress`).
    fn progress(&self) -> (u64, u64, u64);
    /// Whether we are the announced leader (Go: `Leader`).
    fn leader(&self) -> bool;
    /// Go: `LeaderSince`.
    fn leader_since(&self) -> Option<Timestamp>;
    /// Go: `Quorum`.
    fn quorum(&self) -> bool;
    /// Go: `Current`.
    fn current(&self) -> bool;
    /// Go: `Healthy`.
    fn healthy(&self) -> bool;
    /// Go: `Term`.
    fn term(&self) -> u64;
    /// Go: `Leaderless`.
    fn leaderless(&self) -> bool;
    /// Peer id of the leader, empty when none (Go: `GroupLeader`).
    fn group_leader(&self) -> String;
    /// Go: `HadPreviousLeader`.
    fn had_previous_leader(&self) -> bool;
    /// When the node was created (Go: `Created`).
    fn created(&self) -> Timestamp;
    /// Go: `IsObserver`.
    fn is_observer(&self) -> bool;
    /// Go: `SetObserver`.
    fn set_observer(&self, observer: bool);
    /// Go: `GetWriteErr`.
    fn write_err(&self) -> Option<RaftError>;

    /// Go: `StepDown`, with at most one preferred successor.
    fn step_down(&self, preferred: &[&str]) -> Result<(), RaftError>;
    /// Go: `Campaign`.
    fn campaign(&self) -> Result<(), RaftError>;
    /// Go: `CampaignImmediately`.
    fn campaign_immediately(&self) -> Result<(), RaftError>;

    /// Our peer id in the group (Go: `ID`).
    fn id(&self) -> String;
    /// The group's name (Go: `Group`).
    fn group(&self) -> String;
    /// Go: `Peers`.
    fn peers(&self) -> Vec<Peer>;
    /// Go: `ProposeKnownPeers`.
    fn propose_known_peers(&self, peers: &[String]);
    /// Go: `UpdateKnownPeers`.
    fn update_known_peers(&self, peers: &[String]);
    /// Go: `ProposeAddPeer`.
    fn propose_add_peer(&self, peer: &str) -> Result<(), RaftError>;
    /// Go: `ProposeRemovePeer`.
    fn propose_remove_peer(&self, peer: &str) -> Result<(), RaftError>;
    /// Go: `AdjustClusterSize`.
    fn adjust_cluster_size(&self, csz: usize) -> Result<(), RaftError>;
    /// Go: `AdjustBootClusterSize`.
    fn adjust_boot_cluster_size(&self, csz: usize) -> Result<(), RaftError>;
    /// Go: `ClusterSize`.
    fn cluster_size(&self) -> usize;
    /// Known peers and cluster size. Upstream reaches this through a type
    /// assertion to `*raft` (`currentPeerState`); here it is on the trait.
    fn current_peer_state(&self) -> PeerState;
    /// Go: `MembershipChangeInProgress`.
    fn membership_change_in_progress(&self) -> bool;

    /// Go: `Stop`.
    fn stop(&self);
    /// Go: `WaitForStop`.
    fn wait_for_stop(&self);
    /// Stops the node and removes its log and state for good (Go: `Delete`).
    fn delete(&self);
    /// Go: `IsDeleted`.
    fn is_deleted(&self) -> bool;
    /// Whether the node has shut down (Go: `QuitC()` is closed).
    fn is_closed(&self) -> bool;
}

impl RaftNode for RefCell<Raft> {
    fn propose(&self, entry: &[u8]) -> Result<(), RaftError> {
        self.borrow_mut().propose(entry)
    }
    fn propose_multi(&self, entries: Vec<Entry>) -> Result<(), RaftError> {
        self.borrow_mut().propose_multi(entries)
    }
    fn forward_proposal(&self, entry: &[u8]) -> Result<(), RaftError> {
        self.borrow_mut().forward_proposal(entry)
    }
    fn applied(&self, index: u64) -> (u64, u64) {
        self.borrow_mut().applied(index)
    }
    fn processed(&self, index: u64, applied: u64) -> (u64, u64) {
        self.borrow_mut().processed(index, applied)
    }
    fn apply_q_pop(&self) -> Vec<Option<CommittedEntry>> {
        self.borrow_mut().apply_q().drain(..).collect()
    }
    fn apply_q_ready(&self) -> bool {
        !self.borrow_mut().apply_q().is_empty()
    }
    fn lead_change(&self) -> Option<bool> {
        self.borrow_mut().lead_change_c()
    }
    fn lead_change_ready(&self) -> bool {
        !self.borrow().leadc.is_empty()
    }
    fn install_snapshot(&self, data: &[u8], force: bool) -> Result<(), RaftError> {
        self.borrow_mut().install_snapshot_data(data, force)
    }
    fn create_snapshot_checkpoint(&self, force: bool) -> Result<Checkpoint, RaftError> {
        self.borrow_mut().create_snapshot_checkpoint(force)
    }
    fn checkpoint_load_last_snapshot(&self, c: &Checkpoint) -> Result<Vec<u8>, RaftError> {
        c.load_last_snapshot(&mut self.borrow_mut())
    }
    fn checkpoint_append_entries(&self, c: &Checkpoint) -> Vec<Result<AppendEntry, RaftError>> {
        c.append_entries_seq(&mut self.borrow_mut())
    }
    fn checkpoint_abort(&self, c: &Checkpoint) {
        c.abort(&mut self.borrow_mut())
    }
    fn checkpoint_install_snapshot(&self, c: &Checkpoint, data: &[u8]) -> Result<u64, RaftError> {
        c.install_snapshot(&mut self.borrow_mut(), data)
    }
    fn send_snapshot(&self, data: &[u8]) -> Result<(), RaftError> {
        self.borrow_mut().send_snapshot(data)
    }
    fn need_snapshot(&self) -> bool {
        self.borrow().need_snapshot()
    }
    fn drain_and_replay_snapshot(&self) -> bool {
        self.borrow_mut().drain_and_replay_snapshot()
    }
    fn state(&self) -> RaftState {
        self.borrow().state()
    }
    fn size(&self) -> (u64, u64) {
        self.borrow().size()
    }
    fn progress(&self) -> (u64, u64, u64) {
        self.borrow().progress()
    }
    fn leader(&self) -> bool {
        self.borrow().leader()
    }
    fn leader_since(&self) -> Option<Timestamp> {
        self.borrow().leader_since()
    }
    fn quorum(&self) -> bool {
        self.borrow().quorum()
    }
    fn current(&self) -> bool {
        self.borrow_mut().current()
    }
    fn healthy(&self) -> bool {
        // Go's Healthy sleeps up to 10 ms waiting for the upper layer to
        // apply more. Here that layer runs on this thread and is the caller,
        // so nothing can be applied meanwhile: the probe's ten polls run at
        // once and end as Go's do without progress (not healthy, falling
        // behind noted), without the 10 ms of clock.
        let mut node = self.borrow_mut();
        let mut probe = match node.healthy() {
            HealthCheck::Done(h) => return h,
            HealthCheck::Probing(p) => p,
        };
        loop {
            if let Some(h) = node.check_forward_progress(&mut probe) {
                return h;
            }
        }
    }
    fn term(&self) -> u64 {
        self.borrow().term()
    }
    fn leaderless(&self) -> bool {
        self.borrow().leaderless()
    }
    fn group_leader(&self) -> String {
        self.borrow().group_leader().to_string()
    }
    fn had_previous_leader(&self) -> bool {
        self.borrow().had_previous_leader()
    }
    fn created(&self) -> Timestamp {
        self.borrow().created()
    }
    fn is_observer(&self) -> bool {
        self.borrow().is_observer()
    }
    fn set_observer(&self, observer: bool) {
        self.borrow_mut().set_observer(observer)
    }
    fn write_err(&self) -> Option<RaftError> {
        self.borrow().get_write_err()
    }
    fn step_down(&self, preferred: &[&str]) -> Result<(), RaftError> {
        self.borrow_mut().step_down(preferred)
    }
    fn campaign(&self) -> Result<(), RaftError> {
        self.borrow_mut().campaign()
    }
    fn campaign_immediately(&self) -> Result<(), RaftError> {
        self.borrow_mut().campaign_immediately()
    }
    fn id(&self) -> String {
        self.borrow().id().to_string()
    }
    fn group(&self) -> String {
        self.borrow().group().to_string()
    }
    fn peers(&self) -> Vec<Peer> {
        self.borrow().peers()
    }
    fn propose_known_peers(&self, peers: &[String]) {
        self.borrow_mut().propose_known_peers(peers)
    }
    fn update_known_peers(&self, peers: &[String]) {
        self.borrow_mut().update_known_peers(peers)
    }
    fn propose_add_peer(&self, peer: &str) -> Result<(), RaftError> {
        self.borrow_mut().propose_add_peer(peer)
    }
    fn propose_remove_peer(&self, peer: &str) -> Result<(), RaftError> {
        self.borrow_mut().propose_remove_peer(peer)
    }
    fn adjust_cluster_size(&self, csz: usize) -> Result<(), RaftError> {
        self.borrow_mut().adjust_cluster_size(csz)
    }
    fn adjust_boot_cluster_size(&self, csz: usize) -> Result<(), RaftError> {
        self.borrow_mut().adjust_boot_cluster_size(csz)
    }
    fn cluster_size(&self) -> usize {
        self.borrow().cluster_size()
    }
    fn current_peer_state(&self) -> PeerState {
        self.borrow().current_peer_state()
    }
    fn membership_change_in_progress(&self) -> bool {
        self.borrow().membership_change_in_progress()
    }
    fn stop(&self) {
        self.borrow_mut().stop()
    }
    fn wait_for_stop(&self) {
        self.borrow_mut().wait_for_stop()
    }
    fn delete(&self) {
        self.borrow_mut().delete()
    }
    fn is_deleted(&self) -> bool {
        self.borrow().is_deleted()
    }
    fn is_closed(&self) -> bool {
        self.borrow().state() == RaftState::Closed
    }
}

/// A shared handle to a raft node.
#[derive(Clone)]
pub struct NodeHandle(pub Rc<dyn RaftNode>);

impl NodeHandle {
    /// Wraps a node.
    pub fn new(node: impl RaftNode + 'static) -> Self {
        NodeHandle(Rc::new(node))
    }

    /// A handle on a ported raft node shared with the host that drives it.
    pub fn from_raft(node: Rc<RefCell<Raft>>) -> Self {
        NodeHandle(node)
    }

    /// Whether both handles refer to the same node.
    pub fn same_node(&self, other: &NodeHandle) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&other.0))
    }

    /// Opens a snapshot checkpoint bound to this node (Go:
    /// `CreateSnapshotCheckpoint` returning a `RaftNodeCheckpoint`).
    pub fn create_snapshot_checkpoint(&self, force: bool) -> Result<NodeCheckpoint, RaftError> {
        let c = self.0.create_snapshot_checkpoint(force)?;
        Ok(NodeCheckpoint { node: self.clone(), c })
    }
}

impl PartialEq for NodeHandle {
    /// Handles are equal when they share the node.
    fn eq(&self, other: &Self) -> bool {
        self.same_node(other)
    }
}

impl std::ops::Deref for NodeHandle {
    type Target = dyn RaftNode;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RaftNode({}@{})", self.0.id(), self.0.group())
    }
}

/// An open snapshot of a node's state (Go: `RaftNodeCheckpoint`): what
/// the meta layer compacts asynchronously. Finish it with
/// [`RaftNodeCheckpoint::install_snapshot`] or [`RaftNodeCheckpoint::abort`].
pub trait RaftNodeCheckpoint {
    /// Data of the snapshot the checkpoint builds on.
    fn load_last_snapshot(&self) -> Result<Vec<u8>, RaftError>;
    /// The append entries the new snapshot will compact away, in order.
    fn append_entries_seq(&self) -> Vec<Result<AppendEntry, RaftError>>;
    /// Gives the checkpoint up.
    fn abort(&self);
    /// Installs `data` as the snapshot; returns the WAL bytes released.
    fn install_snapshot(&self, data: &[u8]) -> Result<u64, RaftError>;
}

/// A checkpoint bound to the node that opened it.
#[derive(Debug, Clone)]
pub struct NodeCheckpoint {
    node: NodeHandle,
    /// The checkpoint's position.
    pub c: Checkpoint,
}

impl RaftNodeCheckpoint for NodeCheckpoint {
    fn load_last_snapshot(&self) -> Result<Vec<u8>, RaftError> {
        self.node.checkpoint_load_last_snapshot(&self.c)
    }
    fn append_entries_seq(&self) -> Vec<Result<AppendEntry, RaftError>> {
        self.node.checkpoint_append_entries(&self.c)
    }
    fn abort(&self) {
        self.node.checkpoint_abort(&self.c)
    }
    fn install_snapshot(&self, data: &[u8]) -> Result<u64, RaftError> {
        self.node.checkpoint_install_snapshot(&self.c, data)
    }
}

/// A checkpoint over a node the caller holds by `&mut` (the raft port's
/// own tests and the simulator drive nodes that way).
pub struct CheckpointOn<'a> {
    /// The checkpoint.
    pub c: &'a Checkpoint,
    /// The node that opened it.
    pub n: RefCell<&'a mut Raft>,
}

impl<'a> CheckpointOn<'a> {
    /// Binds `c` to `n`.
    pub fn new(c: &'a Checkpoint, n: &'a mut Raft) -> Self {
        CheckpointOn { c, n: RefCell::new(n) }
    }
}

impl RaftNodeCheckpoint for CheckpointOn<'_> {
    fn load_last_snapshot(&self) -> Result<Vec<u8>, RaftError> {
        self.c.load_last_snapshot(&mut self.n.borrow_mut())
    }
    fn append_entries_seq(&self) -> Vec<Result<AppendEntry, RaftError>> {
        self.c.append_entries_seq(&mut self.n.borrow_mut())
    }
    fn abort(&self) {
        self.c.abort(&mut self.n.borrow_mut())
    }
    fn install_snapshot(&self, data: &[u8]) -> Result<u64, RaftError> {
        self.c.install_snapshot(&mut self.n.borrow_mut(), data)
    }
}
