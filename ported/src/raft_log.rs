//! A raft node's store directory read offline, and its log replayed the way
//! a server does at startup before it hears from any peer (the recovery
//! half of `(*Server).initRaftNode` in `server/raft.go`): term and vote
//! from `tav.idx`, the latest snapshot from `snapshots/`, the peer state
//! from the snapshot or `peers.idx`, and the WAL (a file store, see
//! [`crate::filestore`]) compacted to the snapshot and replayed entry by
//! entry. Entries up to the highest commit index the log itself records
//! are committed and handed on, in order, the snapshot first; what follows
//! is stored but not yet known to be committed.
//!
//! Pure over the directory's bytes ([`RaftDirFiles`]). Where the server
//! would write (truncating the WAL, rewriting `peers.idx` or `tav.idx`,
//! deleting unreadable snapshot names), nothing is written and the result
//! says what would have happened.

pub mod writer;

use std::collections::{BTreeMap, BTreeSet};

use crate::filestore::{FileStore, LoadError, StoreError, StoreEvent, StoreFiles, StreamState};
use crate::peer_state::{decode_peer_state, PeerState, PeerStateError, ID_LEN};
use crate::raft::wire::{decode_append_entry, AppendEntry, Entry, EntryType, WireError};
use crate::snapshot_file::{term_and_index_from_snap_file, SnapshotCodec, SnapshotError, SNAPSHOTS_DIR};

/// Term-and-vote file of a raft node.
pub const TERM_VOTE_FILE: &str = "tav.idx";
/// Peer-state file of a raft node.
pub const PEER_STATE_FILE: &str = "peers.idx";

/// The files of a raft node's store directory that recovery reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaftDirFiles {
    /// `tav.idx`, when present.
    pub term_vote: Option<Vec<u8>>,
    /// `peers.idx`, when present.
    pub peer_state: Option<Vec<u8>>,
    /// Files of `snapshots/`, by name.
    pub snapshots: BTreeMap<String, Vec<u8>>,
    /// The WAL's store files.
    pub store: StoreFiles,
}

impl RaftDirFiles {
    /// Sorts `(path relative to the node's directory, contents)` pairs into
    /// the files recovery reads; anything else is ignored.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, Vec<u8>)>) -> RaftDirFiles {
        let mut files = RaftDirFiles::default();
        let mut store = Vec::new();
        for (path, data) in entries {
            let path = path.replace('\\', "/");
            if path == TERM_VOTE_FILE {
                files.term_vote = Some(data);
            } else if path == PEER_STATE_FILE {
                files.peer_state = Some(data);
            } else if let Some(name) = path.strip_prefix(&format!("{SNAPSHOTS_DIR}/")) {
                if !name.contains('/') {
                    files.snapshots.insert(name.to_string(), data);
                }
            } else {
                store.push((path, data));
            }
        }
        files.store = StoreFiles::from_entries(store);
        files
    }

    /// Whether nothing here belongs to a raft node (no WAL blocks, no
    /// snapshot, no peer state).
    pub fn is_empty(&self) -> bool {
        self.store.block_indices().is_empty() && self.snapshots.is_empty() && self.peer_state.is_none()
    }
}

/// Why a raft node's directory cannot be recovered; a server fails to start
/// the group on each of these.
#[derive(Debug, thiserror::Error)]
pub enum RaftLogError {
    /// The WAL's store cannot be opened.
    #[error("WAL: {0}")]
    Store(#[from] StoreError),
    /// The latest snapshot is corrupt.
    #[error("snapshot {file}: {source}")]
    Snapshot {
        /// Snapshot file name.
        file: String,
        /// What is wrong with it.
        source: SnapshotError,
    },
    /// The latest snapshot claims index 0 (a server at 8188ea93a dereferences
    /// a missing snapshot here and crashes).
    #[error("snapshot {0} has last index 0")]
    ZeroIndexSnapshot(String),
    /// A peer state (in the snapshot or `peers.idx`) does not decode.
    #[error("{what}: {source}")]
    PeerState {
        /// Where it came from.
        what: String,
        /// What is wrong with it.
        source: PeerStateError,
    },
    /// No snapshot and no `peers.idx`.
    #[error("no peer state: neither a snapshot nor peers.idx")]
    NoPeerState,
    /// Compacting the WAL to the snapshot failed.
    #[error("compacting the WAL to the snapshot: {0}")]
    Compact(LoadError),
}

/// Entries that became committed during replay, as they reach the upper
/// layer (Go's `CommittedEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEntry {
    /// Log index (the snapshot's last index for the snapshot).
    pub index: u64,
    /// The entries passed up; may be empty (peer-state entries are
    /// consumed by raft itself).
    pub entries: Vec<Entry>,
}

/// Why replay stopped before the end of the WAL. Each is where a server
/// truncates (or, for [`ReplayStop::ApplyLoadFailed`], resets) its WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayStop {
    /// The first entry does not follow the snapshot (or the log start): the
    /// WAL is truncated back to the snapshot.
    Misaligned { index: u64, pindex: u64, expected: u64 },
    /// An entry could not be read or decoded: the WAL is truncated before it.
    LoadFailed { index: u64, error: String },
    /// An entry does not follow its predecessor: the WAL is truncated before it.
    Corrupt { index: u64, pindex: u64 },
    /// An entry does not continue the replayed log: its previous term is not
    /// the term of the entry before it, or an entry before it carried
    /// nothing. A server would repair or truncate its WAL, or start a
    /// catch-up, here; those paths need a leader and are not followed
    /// offline.
    Diverged { index: u64, pterm: u64, pindex: u64, expected_pterm: u64, expected_pindex: u64 },
    /// A committed entry could not be read back while applying: a server
    /// resets its WAL and waits for a leader.
    ApplyLoadFailed { index: u64, error: String },
}

impl ReplayStop {
    /// The log index replay stopped at.
    pub fn index(&self) -> u64 {
        match self {
            ReplayStop::Misaligned { index, .. }
            | ReplayStop::LoadFailed { index, .. }
            | ReplayStop::Corrupt { index, .. }
            | ReplayStop::Diverged { index, .. }
            | ReplayStop::ApplyLoadFailed { index, .. } => *index,
        }
    }
}

impl std::fmt::Display for ReplayStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayStop::Misaligned { index, pindex, expected } => write!(
                f,
                "misaligned WAL: entry {index} follows index {pindex}, expected {expected}; a server truncates the WAL to {expected}"
            ),
            ReplayStop::LoadFailed { index, error } => {
                write!(f, "could not load entry {index} from the WAL ({error}); a server truncates the WAL before it")
            }
            ReplayStop::Corrupt { index, pindex } => write!(
                f,
                "corrupt WAL: entry {index} follows index {pindex}; a server truncates the WAL before it"
            ),
            ReplayStop::Diverged { index, pterm, pindex, expected_pterm, expected_pindex } => write!(
                f,
                "entry {index} follows {pterm}:{pindex} but the log is at {expected_pterm}:{expected_pindex}; a server repairs this with a leader"
            ),
            ReplayStop::ApplyLoadFailed { index, error } => {
                write!(f, "could not load committed entry {index} ({error}); a server resets its WAL")
            }
        }
    }
}

/// The latest snapshot, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// File name in `snapshots/`.
    pub file: String,
    /// Term of the last entry it covers.
    pub last_term: u64,
    /// Index of the last entry it covers.
    pub last_index: u64,
}

/// What replaying a raft node's directory gave.
#[derive(Debug, Clone)]
pub struct RaftRecovery {
    /// Current term after replay.
    pub term: u64,
    /// Vote after replay (empty: none).
    pub vote: String,
    /// Term and vote as `tav.idx` holds them.
    pub stored_term_vote: Option<(u64, String)>,
    /// The snapshot used, if any.
    pub snapshot: Option<SnapshotInfo>,
    /// Snapshot names that do not parse (a server deletes them).
    pub unparsable_snapshots: Vec<String>,
    /// Cluster size after replay.
    pub cluster_size: u32,
    /// Known peers after replay (`true`: counted in the cluster size).
    pub peers: BTreeMap<String, bool>,
    /// The WAL's state after compaction to the snapshot, before replay.
    pub wal: StreamState,
    /// What opening the WAL did.
    pub wal_events: Vec<StoreEvent>,
    /// WAL messages its recovery found lost.
    pub wal_lost: Vec<u64>,
    /// Number of WAL entries replayed.
    pub replayed: u64,
    /// Term of the last replayed entry.
    pub pterm: u64,
    /// Index of the last replayed entry.
    pub pindex: u64,
    /// Highest commit index recorded in the log (or the snapshot's index).
    pub commit: u64,
    /// What the upper layer receives, in order; the snapshot (as one
    /// `Snapshot` entry) first when there is one.
    pub committed: Vec<CommittedEntry>,
    /// Entries replayed but beyond the commit index, by index.
    pub pending: Vec<(u64, Vec<Entry>)>,
    /// Why replay ended early, if it did.
    pub stop: Option<ReplayStop>,
}

// The node state replay moves, as in upstream's raft struct.
struct Node {
    term: u64,
    vote: String,
    pterm: u64,
    pindex: u64,
    commit: u64,
    papplied: u64,
    csz: u32,
    peers: BTreeMap<String, bool>,
    committed: Vec<CommittedEntry>,
    stop: Option<ReplayStop>,
}

/// Port of (*raft).readTermVote
///
/// The term (0 when the file is shorter than 8 bytes) and the vote (empty
/// when the file is shorter than 16 bytes; otherwise everything after the
/// term, as upstream).
pub fn read_term_vote(buf: &[u8]) -> (u64, String) {
    if buf.len() < 8 {
        return (0, String::new());
    }
    let term = u64::from_le_bytes([buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7]]);
    if buf.len() < 8 + ID_LEN {
        return (term, String::new());
    }
    (term, String::from_utf8_lossy(&buf[8..]).into_owned())
}

/// Port of (*raft).setupLastSnapshot's choice of file
///
/// The name with the highest term, then index; names that do not parse
/// are returned separately.
fn latest_snapshot(names: impl Iterator<Item = String>) -> (Option<(String, u64, u64)>, Vec<String>) {
    let mut best: Option<(String, u64, u64)> = None;
    let mut bad = Vec::new();
    for name in names {
        match term_and_index_from_snap_file(&name) {
            Ok((term, index)) => {
                let newer = best.as_ref().is_none_or(|(_, bt, bi)| term > *bt || (term == *bt && index > *bi));
                if newer {
                    best = Some((name, term, index));
                }
            }
            Err(_) => bad.push(name),
        }
    }
    (best, bad)
}

impl Node {
    /// Port of (*raft).processPeerState, without rewriting `peers.idx`
    fn process_peer_state(&mut self, ps: &PeerState) {
        self.csz = ps.cluster_size;
        self.peers = ps.known_peers.iter().map(|p| (p.clone(), true)).collect();
    }

    /// Port of (*raft).adjustClusterSizeAndQuorum
    fn adjust_cluster_size(&mut self) {
        self.csz = self.peers.values().filter(|kp| **kp).count() as u32;
    }

    /// Port of (*raft).addPeer, without rewriting `peers.idx`
    fn add_peer(&mut self, peer: &str) {
        self.peers.insert(peer.to_string(), true);
        self.adjust_cluster_size();
    }

    /// Port of (*raft).removePeer, without rewriting `peers.idx`
    fn remove_peer(&mut self, peer: &str) {
        if self.peers.remove(peer).is_some() {
            self.adjust_cluster_size();
        }
    }

    /// Port of (*raft).applyCommit on replay (no pending cache, follower)
    ///
    /// Moves the commit to `index` and hands its entries up: normal entries
    /// and snapshots as they are, old-style snapshots as snapshots, peer
    /// changes after applying them; peer-state entries are applied and not
    /// handed up, leader transfers are dropped. Installing a snapshot found
    /// in the log when the node has none is a write and is left out.
    fn apply_commit(&mut self, wal: &mut FileStore, index: u64) -> Result<(), ()> {
        if index <= self.commit {
            return Ok(());
        }
        if index < self.papplied {
            return Ok(());
        }
        let ae = match load_entry(wal, index) {
            Ok(ae) => ae,
            Err(EntryLoad::Store(LoadError::Eof)) => return Err(()),
            Err(e) => {
                self.stop = Some(ReplayStop::ApplyLoadFailed { index, error: e.to_string() });
                return Err(());
            }
        };
        self.commit = index;
        let mut committed = Vec::new();
        for e in ae.entries {
            match e.typ {
                EntryType::Normal | EntryType::Snapshot => committed.push(e),
                EntryType::OldSnapshot => committed.push(Entry::new(EntryType::Snapshot, e.data)),
                EntryType::PeerState => {
                    if let Ok(ps) = decode_peer_state(&e.data) {
                        self.process_peer_state(&ps);
                    }
                }
                EntryType::AddPeer => {
                    self.add_peer(&String::from_utf8_lossy(&e.data));
                    committed.push(e);
                }
                EntryType::RemovePeer => {
                    self.remove_peer(&String::from_utf8_lossy(&e.data));
                    committed.push(e);
                }
                EntryType::LeaderTransfer | EntryType::Catchup | EntryType::Unknown(_) => {}
            }
        }
        self.committed.push(CommittedEntry { index, entries: committed });
        Ok(())
    }

    /// Port of (*raft).processAppendEntry for a replayed entry (no
    /// subscription: follower, not catching up, nothing written back)
    ///
    /// Takes on a higher term (clearing the vote), advances the log position,
    /// tracks peers being added, and applies what the entry's commit index
    /// newly covers. An entry that does not continue the log ends replay
    /// ([`ReplayStop::Diverged`]).
    fn process_append_entry(&mut self, wal: &mut FileStore, ae: &AppendEntry, index: u64) {
        let lterm = if ae.lterm != 0 { ae.lterm } else { ae.term };
        if lterm > self.term {
            self.term = lterm;
            self.vote.clear();
        }
        if ae.pterm != self.pterm || ae.pindex != self.pindex {
            self.stop = Some(ReplayStop::Diverged {
                index,
                pterm: ae.pterm,
                pindex: ae.pindex,
                expected_pterm: self.pterm,
                expected_pindex: self.pindex,
            });
            return;
        }
        // A stored entry without entries does not move the log on, so the
        // next entry no longer follows it.
        if ae.should_store() {
            self.pterm = ae.term;
            self.pindex = ae.pindex + 1;
        }
        for e in &ae.entries {
            if e.typ == EntryType::AddPeer && e.data.len() == ID_LEN {
                let peer = String::from_utf8_lossy(&e.data).into_owned();
                self.peers.entry(peer).or_insert(false);
            }
        }
        if ae.commit > self.commit {
            for i in self.commit + 1..=ae.commit {
                if self.apply_commit(wal, i).is_err() {
                    break;
                }
            }
        }
    }
}

#[derive(Debug)]
enum EntryLoad {
    Store(LoadError),
    Decode(WireError),
}

impl std::fmt::Display for EntryLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryLoad::Store(e) => write!(f, "{e}"),
            EntryLoad::Decode(e) => write!(f, "{e}"),
        }
    }
}

/// Port of (*raft).loadEntry
fn load_entry(wal: &mut FileStore, index: u64) -> Result<AppendEntry, EntryLoad> {
    let sm = wal.load_msg(index).map_err(EntryLoad::Store)?;
    decode_append_entry(&sm.msg, None, "").map_err(EntryLoad::Decode)
}

/// Port of the recovery part of (*Server).initRaftNode
///
/// Recovers the raft node of group `group` from its directory's files.
pub fn recover_raft_dir(group: &str, files: &RaftDirFiles) -> Result<RaftRecovery, RaftLogError> {
    let mut wal = FileStore::recover(group, &files.store)?;
    let stored_term_vote = files.term_vote.as_deref().map(read_term_vote);
    let mut n = Node {
        term: 0,
        vote: String::new(),
        pterm: 0,
        pindex: 0,
        commit: 0,
        papplied: 0,
        csz: 0,
        peers: BTreeMap::new(),
        committed: Vec::new(),
        stop: None,
    };
    if let Some((term, vote)) = &stored_term_vote {
        if *term > 0 {
            n.term = *term;
            n.vote = vote.clone();
        }
    }

    let (latest, unparsable_snapshots) = latest_snapshot(files.snapshots.keys().cloned());
    let mut snapshot = None;
    if let Some((file, _, _)) = latest {
        let codec = SnapshotCodec::new(group);
        let snap = codec
            .decode(&files.snapshots[&file])
            .map_err(|source| RaftLogError::Snapshot { file: file.clone(), source })?;
        if snap.last_index == 0 {
            return Err(RaftLogError::ZeroIndexSnapshot(file));
        }
        n.pindex = snap.last_index;
        n.pterm = snap.last_term;
        n.commit = snap.last_index;
        n.papplied = snap.last_index;
        let ps = decode_peer_state(&snap.peer_state)
            .map_err(|source| RaftLogError::PeerState { what: format!("snapshot {file} peer state"), source })?;
        n.process_peer_state(&ps);
        n.committed.push(CommittedEntry { index: n.commit, entries: vec![Entry::new(EntryType::Snapshot, snap.data)] });
        wal.compact(snap.last_index + 1).map_err(RaftLogError::Compact)?;
        snapshot = Some(SnapshotInfo { file, last_term: snap.last_term, last_index: snap.last_index });
    }
    if n.peers.is_empty() {
        let buf = files.peer_state.as_deref().ok_or(RaftLogError::NoPeerState)?;
        let ps = decode_peer_state(buf)
            .map_err(|source| RaftLogError::PeerState { what: PEER_STATE_FILE.to_string(), source })?;
        n.process_peer_state(&ps);
    }

    let state = wal.state();
    let mut replayed = 0u64;
    if state.msgs > 0 {
        for index in state.first_seq..=state.last_seq {
            let loaded = load_entry(&mut wal, index);
            if index == state.first_seq {
                let misaligned = match &loaded {
                    Ok(ae) => ae.pindex != index - 1 || n.pindex != ae.pindex,
                    Err(_) => false,
                };
                if misaligned {
                    let pindex = loaded.as_ref().map_or(0, |ae| ae.pindex);
                    n.stop = Some(ReplayStop::Misaligned { index, pindex, expected: n.pindex });
                    break;
                }
                if let Ok(ae) = &loaded {
                    n.pterm = ae.pterm;
                    n.pindex = ae.pindex;
                    if ae.commit > 0 && ae.commit > n.commit {
                        n.commit = ae.commit;
                    }
                }
            }
            let ae = match loaded {
                Ok(ae) => ae,
                Err(e) => {
                    n.stop = Some(ReplayStop::LoadFailed { index, error: e.to_string() });
                    break;
                }
            };
            if ae.pindex != index - 1 {
                n.stop = Some(ReplayStop::Corrupt { index, pindex: ae.pindex });
                break;
            }
            n.process_append_entry(&mut wal, &ae, index);
            if n.stop.is_some() {
                break;
            }
            replayed += 1;
        }
    }

    let mut pending = Vec::new();
    for index in n.commit + 1..=n.pindex {
        if let Ok(ae) = load_entry(&mut wal, index) {
            pending.push((index, ae.entries));
        }
    }
    let wal_lost = wal.lost_data().map(|l| l.msgs.clone()).unwrap_or_default();
    Ok(RaftRecovery {
        term: n.term,
        vote: n.vote,
        stored_term_vote,
        snapshot,
        unparsable_snapshots,
        cluster_size: n.csz,
        peers: n.peers,
        wal: state,
        wal_events: wal.events().to_vec(),
        wal_lost,
        replayed,
        pterm: n.pterm,
        pindex: n.pindex,
        commit: n.commit,
        committed: n.committed,
        pending,
        stop: n.stop,
    })
}

/// Known peer ids that count toward the cluster size.
pub fn counted_peers(peers: &BTreeMap<String, bool>) -> BTreeSet<String> {
    peers.iter().filter(|(_, kp)| **kp).map(|(p, _)| p.clone()).collect()
}

#[cfg(test)]
#[path = "raft_log_tests.rs"]
mod tests;
