//! White-box access for the ported Go tests. Many `TestNRG*` tests drive a
//! single node by hand: they read and write its fields under its lock and
//! call unexported methods (`processAppendEntryResponse`, `storeToWAL`,
//! `switchToLeader`...). [`Raft::internals`] gives integration tests the same
//! reach without widening the visibility of the core. Nothing in the raft
//! core calls into this module.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::peer_state::{ExtensionState, PeerState};
use crate::snapshot_file::Snapshot;

use super::catchup::CatchupRunner;
use super::env::{Sid, Timestamp};
use super::node::{CatchupState, Lps, Raft};
use super::wire::{AppendEntry, AppendEntryResponse, Entry};
use super::wal::Wal;
use super::{RaftError, RaftState};

/// Mutable white-box view of one node; see [`Raft::internals`].
pub struct Internals<'a>(&'a mut Raft);

/// A copy of the follower's catch-up bookkeeping (Go: `n.catchup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatchupView {
    /// Subscription of the catch-up inbox.
    pub sub: Option<Sid>,
    /// Term the catch-up runs up to.
    pub cterm: u64,
    /// Index the catch-up runs up to.
    pub cindex: u64,
    /// Our last term when the catch-up started.
    pub pterm: u64,
    /// Our last index when progress was last seen.
    pub pindex: u64,
    /// When progress was last seen (`None`: Go's zero time).
    pub active: Option<Timestamp>,
    /// Whether the catch-up signal went to the upper layer.
    pub signal: bool,
}

/// What a node tracks about one peer (Go: `lps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerTrack {
    /// Last contact (`None`: Go's zero time).
    pub ts: Option<Timestamp>,
    /// Last index known replicated on the peer.
    pub li: u64,
    /// Whether the peer is a known (committed) member.
    pub kp: bool,
}

impl Raft {
    /// White-box access to this node, for the ported Go tests.
    pub fn internals(&mut self) -> Internals<'_> {
        Internals(self)
    }
}

// Getter and setter per plain field, named after the Go field.
macro_rules! fields {
    ($($field:ident, $set:ident: $ty:ty;)*) => {
        impl Internals<'_> {
            $(
                #[doc = concat!("Go field `", stringify!($field), "`.")]
                pub fn $field(&self) -> $ty {
                    self.0.$field.clone()
                }
                #[doc = concat!("Overwrites Go field `", stringify!($field), "`.")]
                pub fn $set(&mut self, v: $ty) {
                    self.0.$field = v;
                }
            )*
        }
    };
}

fields! {
    term, set_term: u64;
    pterm, set_pterm: u64;
    pindex, set_pindex: u64;
    commit, set_commit: u64;
    processed, set_processed: u64;
    applied, set_applied: u64;
    papplied, set_papplied: u64;
    hcommit, set_hcommit: u64;
    bytes, set_bytes: u64;
    memb_change_index, set_memb_change_index: u64;
    csz, set_csz: usize;
    qn, set_qn: usize;
    id, set_id: String;
    leader, set_leader: String;
    vote, set_vote: String;
    snapfile, set_snapfile: String;
    initializing, set_initializing: bool;
    scale_up, set_scale_up: bool;
    observer, set_observer: bool;
    paused, set_paused: bool;
    quorum_paused, set_quorum_paused: bool;
    snapshotting, set_snapshotting: bool;
    leader_state, set_leader_state: bool;
    lsut, set_lsut: Option<Timestamp>;
    etlr, set_etlr: Option<Timestamp>;
    aflr, set_aflr: u64;
    ext_st, set_ext_st: ExtensionState;
}

impl Internals<'_> {
    /// Overwrites the state without any transition (Go: `n.state.Store`).
    pub fn set_state(&mut self, state: RaftState) {
        self.0.state = state;
    }

    /// The append-entry subscription (Go: `n.aesub`).
    pub fn aesub(&self) -> Option<Sid> {
        self.0.aesub
    }

    /// Remove-peer proposal subject (Go: `n.rpsubj`).
    pub fn rpsubj(&self) -> String {
        self.0.rpsubj.clone()
    }

    /// The apply queue (Go: `n.apply`).
    pub fn apply_q(&mut self) -> &mut VecDeque<Option<super::CommittedEntry>> {
        &mut self.0.apply
    }

    /// The catch-up in progress, if any (Go: `n.catchup`).
    pub fn catchup(&self) -> Option<CatchupView> {
        self.0.catchup.as_ref().map(|c| CatchupView {
            sub: c.sub,
            cterm: c.cterm,
            cindex: c.cindex,
            pterm: c.pterm,
            pindex: c.pindex,
            active: c.active,
            signal: c.signal,
        })
    }

    /// Puts back (or clears) the catch-up state (Go: `n.catchup = saved`).
    /// Subscriptions are not touched, as in Go.
    pub fn set_catchup(&mut self, cs: Option<CatchupView>) {
        self.0.catchup = cs.map(|c| CatchupState {
            sub: c.sub,
            cterm: c.cterm,
            cindex: c.cindex,
            pterm: c.pterm,
            pindex: c.pindex,
            active: c.active,
            signal: c.signal,
        });
    }

    /// Overwrites the progress marks of the running catch-up (Go: writes to
    /// `n.catchup.pindex` and `n.catchup.active`); no-op without one.
    pub fn set_catchup_progress(&mut self, pindex: u64, active: Option<Timestamp>) {
        if let Some(cs) = self.0.catchup.as_mut() {
            cs.pindex = pindex;
            cs.active = active;
        }
    }

    /// Peers and what is tracked about them (Go: `n.peers`).
    pub fn peers(&self) -> BTreeMap<String, PeerTrack> {
        self.0.peers.iter().map(|(id, p)| (id.clone(), PeerTrack { ts: p.ts, li: p.li, kp: p.kp })).collect()
    }

    /// Replaces the peer map (Go: building a `raft` with a `peers` literal).
    pub fn set_peers(&mut self, peers: &[(&str, PeerTrack)]) {
        self.0.peers = peers
            .iter()
            .map(|(id, p)| (id.to_string(), Lps { ts: p.ts, li: p.li, kp: p.kp }))
            .collect();
    }

    /// Sets the last-contact time of one known peer.
    pub fn set_peer_ts(&mut self, peer: &str, ts: Option<Timestamp>) {
        if let Some(p) = self.0.peers.get_mut(peer) {
            p.ts = ts;
        }
    }

    /// Marks every peer as known (Go: `ps.kp = true` for all peers).
    pub fn set_all_peers_known(&mut self) {
        for p in self.0.peers.values_mut() {
            p.kp = true;
        }
    }

    /// Registers a catch-up stream that does nothing, so snapshots see
    /// catch-ups running (Go: a bare queue in `n.progress`).
    pub fn add_idle_catchup(&mut self, peer: &str) {
        let runner = CatchupRunner {
            peer: peer.to_string(),
            subj: String::new(),
            term: self.0.term,
            last: self.0.pindex,
            next: 0,
            total: 0,
            om: BTreeMap::new(),
            timeout: Timestamp(u64::MAX),
            updates: VecDeque::new(),
        };
        let id = self.0.next_catchup_id;
        self.0.next_catchup_id += 1;
        self.0.catchups.insert(id, runner);
        self.0.progress.insert(peer.to_string(), id);
    }

    /// Go: `n.peerNames()`.
    pub fn peer_names(&self) -> Vec<String> {
        self.0.peer_names()
    }

    /// Go: `n.currentPeerState()`.
    pub fn current_peer_state(&self) -> PeerState {
        self.0.current_peer_state()
    }

    /// Go: `n.readTermVote()`.
    pub fn read_term_vote(&mut self) -> Result<(u64, String), RaftError> {
        self.0.read_term_vote()
    }

    /// Go: `n.addPeer(peer)`.
    pub fn add_peer(&mut self, peer: &str) {
        self.0.add_peer(peer)
    }

    /// Go: `n.trackPeer(peer)`.
    pub fn track_peer(&mut self, peer: &str) -> Result<(), RaftError> {
        self.0.track_peer(peer)
    }

    /// Go: `n.updateLeader(leader)`.
    pub fn update_leader(&mut self, leader: &str) {
        self.0.update_leader(leader)
    }

    /// Go: `n.lostQuorum()`.
    pub fn lost_quorum(&self) -> bool {
        self.0.lost_quorum()
    }

    /// Go: `n.switchToLeader()`.
    pub fn switch_to_leader(&mut self) {
        self.0.switch_to_leader()
    }

    /// Go: `n.resetWAL()`.
    pub fn reset_wal(&mut self) {
        self.0.reset_wal()
    }

    /// Go: `n.storeToWAL(ae)`.
    pub fn store_to_wal(&mut self, ae: &AppendEntry) -> Result<(), RaftError> {
        self.0.store_to_wal(ae)
    }

    /// Go: `n.applyCommit(index)`.
    pub fn apply_commit(&mut self, index: u64) -> Result<(), RaftError> {
        self.0.apply_commit(index)
    }

    /// Go: `n.createCatchup(ae)`; returns the catch-up inbox.
    pub fn create_catchup(&mut self, ae: &AppendEntry) -> String {
        self.0.create_catchup(ae)
    }

    /// Go: `n.cancelCatchup()`.
    pub fn cancel_catchup(&mut self) {
        self.0.cancel_catchup()
    }

    /// Go: `n.setupLastSnapshot()`.
    pub fn setup_last_snapshot(&mut self) -> Result<(), RaftError> {
        self.0.setup_last_snapshot()
    }

    /// Go: `n.loadLastSnapshot()`.
    pub fn load_last_snapshot(&mut self) -> Result<Option<Snapshot>, RaftError> {
        self.0.load_last_snapshot()
    }

    /// Go: `n.installSnapshot(snap)`.
    pub fn install_snapshot(&mut self, snap: Snapshot) -> Result<(), RaftError> {
        self.0.install_snapshot(snap)
    }

    /// Go: `n.sendAppendEntry(entries)`.
    pub fn send_append_entry(&mut self, entries: Vec<Entry>) {
        self.0.send_append_entry(entries)
    }

    /// Go: `n.processAppendEntryResponse(ar)`.
    pub fn process_append_entry_response(&mut self, ar: AppendEntryResponse) {
        self.0.process_append_entry_response(ar)
    }

    /// Go: `n.catchupFollower(ar)`.
    pub fn catchup_follower(&mut self, ar: AppendEntryResponse) {
        self.0.catchup_follower(ar)
    }

    /// Acknowledgements per index not yet committed (Go: `n.acks`).
    pub fn acks(&self) -> BTreeMap<u64, BTreeSet<String>> {
        self.0.acks.clone()
    }

    /// The pending append entry cache (Go: `n.pae`).
    pub fn pae_mut(&mut self) -> &mut BTreeMap<u64, AppendEntry> {
        &mut self.0.pae
    }

    /// Swaps in another WAL and returns the old one (Go: `n.wal = ...`).
    pub fn replace_wal(&mut self, wal: Box<dyn Wal>) -> Box<dyn Wal> {
        std::mem::replace(&mut self.0.wal, wal)
    }

    /// Proposals queued (Go: `n.prop.len()`).
    pub fn prop_len(&self) -> usize {
        self.0.prop.len()
    }

    /// Append entry responses queued (Go: `n.resp.len()`).
    pub fn resp_len(&self) -> usize {
        self.0.resp.len()
    }

    /// Go: `n.buildAppendEntry(entries)`.
    pub fn build_append_entry(&self, entries: Vec<Entry>) -> AppendEntry {
        self.0.build_append_entry(entries)
    }

    /// Go: `n.trackResponse(ar)`.
    pub fn track_response(&mut self, ar: &AppendEntryResponse) -> bool {
        self.0.track_response(ar)
    }

    /// Go: `n.stepdown(newLeader)`.
    pub fn stepdown(&mut self, new_leader: &str) {
        self.0.stepdown(new_leader)
    }

    /// One turn of every catch-up stream (what Go's `runCatchup`
    /// goroutines do between two waits); returns whether any moved.
    pub fn run_catchup(&mut self) -> bool {
        self.0.run_catchup()
    }
}
