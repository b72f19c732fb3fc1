//! A raft node's store directory read offline and started the way a
//! server starts it after a restart, before it hears from any peer: the
//! directory's files are put on a simulated disk, its WAL is the file store
//! recovered from `msgs/` ([`crate::filestore`]), and the ported raft node
//! ([`crate::raft::Raft::start`], `initRaftNode`) loads term and vote, the
//! latest snapshot and the peer state, compacts the WAL to the snapshot and
//! replays it. What it queues for the upper layer — the snapshot first, then
//! every batch its log records as committed — is collected; entries stored
//! beyond the commit index are listed as pending.
//!
//! Nothing touches a real disk: where the node repairs its log (truncating
//! a misaligned or damaged tail, resetting it), the in-memory store changes
//! and the result says so; files it rewrites land on the simulated disk.

pub mod writer;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::filestore::{FileStore, LoadError, StoreError, StoreEvent, StoreFiles, StreamState};
use crate::raft::wire::{decode_append_entry, Entry};
use crate::raft::{CommittedEntry, FsError, LogLevel, Raft, RaftConfig, RaftEnv, RaftError, RaftTimings, StorageType, Wal, WalError, WalState};
use crate::sim::world::{SimHost, World};
use crate::snapshot_file::{term_and_index_from_snap_file, SNAPSHOTS_DIR};

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
    /// The node does not start (corrupt snapshot or peer state, no peer
    /// state, a WAL that cannot be compacted to the snapshot).
    #[error("raft node: {0}")]
    Start(RaftError),
}

/// A repair the node made to its WAL while starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalRepair {
    /// Everything above this index was dropped.
    Truncated(u64),
    /// The whole log was dropped.
    Reset,
}

/// The snapshot the node loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// File name in `snapshots/`.
    pub file: String,
    /// Term of the last entry it covers.
    pub last_term: u64,
    /// Index of the last entry it covers.
    pub last_index: u64,
}

/// What starting a raft node on its directory gave.
#[derive(Debug, Clone)]
pub struct RaftRecovery {
    /// Current term after replay.
    pub term: u64,
    /// Vote after replay (empty: none).
    pub vote: String,
    /// The snapshot the node loaded, if any.
    pub snapshot: Option<SnapshotInfo>,
    /// Cluster size after replay.
    pub cluster_size: usize,
    /// Peer ids after replay.
    pub peers: Vec<String>,
    /// The WAL as recovered from its files, before the node compacted it.
    pub wal: StreamState,
    /// What recovering the WAL's files did, and any rescans while replaying.
    pub wal_events: Vec<StoreEvent>,
    /// WAL messages its recovery found lost.
    pub wal_lost: Vec<u64>,
    /// Index and term of the last replayed entry.
    pub last_log: (u64, u64),
    /// Highest commit index recorded in the log (or the snapshot's index).
    pub commit: u64,
    /// What the upper layer receives, in order; the snapshot (as one
    /// `Snapshot` entry) first when there is one.
    pub committed: Vec<CommittedEntry>,
    /// Entries replayed but beyond the commit index, by index.
    pub pending: Vec<(u64, Vec<Entry>)>,
    /// Repairs the node made to its WAL while starting.
    pub repairs: Vec<WalRepair>,
    /// The node's warnings while starting (why it repaired its WAL).
    pub warnings: Vec<String>,
}

/// The raft node's WAL: a recovered file store, read-only.
#[derive(Clone)]
pub struct StoreWal {
    store: Rc<RefCell<FileStore>>,
    repairs: Rc<RefCell<Vec<WalRepair>>>,
    stopped: bool,
}

impl StoreWal {
    /// A WAL over `store`.
    pub fn new(store: FileStore) -> Self {
        StoreWal { store: Rc::new(RefCell::new(store)), repairs: Rc::new(RefCell::new(Vec::new())), stopped: false }
    }
}

impl std::fmt::Debug for StoreWal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWal").field("state", &self.store.borrow().state()).finish()
    }
}

// Store errors as raft sees them: end of store and missing messages keep
// their meaning, everything else (a deleted or corrupt message) is a
// failure, as any other filestore error is to upstream's raft.
fn wal_error(e: LoadError) -> WalError {
    match e {
        LoadError::Eof => WalError::Eof,
        LoadError::NotFound => WalError::NotFound,
        other => WalError::Io(FsError::Io(other.to_string())),
    }
}

impl Wal for StoreWal {
    fn storage_type(&self) -> StorageType {
        StorageType::File
    }
    fn store_msg(&mut self, _msg: &[u8]) -> Result<u64, WalError> {
        Err(WalError::Io(FsError::Io("the recovered WAL is read-only".into())))
    }
    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        self.store.borrow_mut().load_msg(seq).map(|m| m.msg).map_err(wal_error)
    }
    fn compact(&mut self, seq: u64) -> Result<u64, WalError> {
        self.store.borrow_mut().compact(seq).map_err(wal_error)
    }
    fn truncate(&mut self, seq: u64) -> Result<(), WalError> {
        self.repairs.borrow_mut().push(if seq == 0 { WalRepair::Reset } else { WalRepair::Truncated(seq) });
        self.store.borrow_mut().truncate(seq).map_err(wal_error)
    }
    fn state(&self) -> WalState {
        let st = self.store.borrow().state();
        let span = if st.last_seq >= st.first_seq { st.last_seq - st.first_seq + 1 } else { 0 };
        WalState { msgs: st.msgs, bytes: st.bytes, first_seq: st.first_seq, last_seq: st.last_seq, num_deleted: span.saturating_sub(st.msgs) }
    }
    fn stop(&mut self) {
        self.stopped = true;
    }
    fn delete(&mut self) -> Result<(), WalError> {
        Err(WalError::Io(FsError::Io("the recovered WAL is read-only".into())))
    }
}

/// Where the node's directory sits on the simulated disk.
const NODE_DIR: &str = "/recover";
/// The id the offline node runs under: 8 bytes no server id hashes to
/// (ids are base-62), so the node is never one of its own peers.
const OFFLINE_ID: &str = "~offline";

/// Starts the raft node of group `group` on its directory's files and
/// collects what it hands the upper layer during replay.
pub fn recover_raft_dir(group: &str, files: &RaftDirFiles) -> Result<RaftRecovery, RaftLogError> {
    let store = FileStore::recover(group, &files.store)?;
    let wal_state = store.state();
    let wal_lost = store.lost_data().map(|l| l.msgs.clone()).unwrap_or_default();
    let wal = StoreWal::new(store);
    let (store, repairs) = (wal.store.clone(), wal.repairs.clone());

    let world = World::new(0);
    {
        let mut disk = world.disk.borrow_mut();
        disk.create_dir_all(NODE_DIR).map_err(|e| RaftLogError::Start(e.into()))?;
        if let Some(b) = &files.term_vote {
            disk.put_file(&format!("{NODE_DIR}/{TERM_VOTE_FILE}"), b);
        }
        if let Some(b) = &files.peer_state {
            disk.put_file(&format!("{NODE_DIR}/{PEER_STATE_FILE}"), b);
        }
        for (name, b) in &files.snapshots {
            disk.put_file(&format!("{NODE_DIR}/{SNAPSHOTS_DIR}/{name}"), b);
        }
    }
    let host = WarnLog { host: SimHost::new(world.clone(), 0, 0, group), warnings: Rc::new(RefCell::new(Vec::new())) };
    let warnings = host.warnings.clone();
    let mut cfg = RaftConfig::new(group, NODE_DIR, Box::new(wal));
    cfg.recovering = true;
    let mut n = Raft::start(Box::new(host), OFFLINE_ID, "$SYS", cfg, RaftTimings::default()).map_err(RaftLogError::Start)?;

    let mut committed = Vec::new();
    while let Some(item) = n.apply_q().pop_front() {
        match item {
            Some(ce) => committed.push(ce),
            None => break,
        }
    }
    let (pindex, pterm) = n.last_log();
    let commit = n.commit_index();
    let mut pending = Vec::new();
    for index in commit + 1..=pindex {
        let msg = store.borrow_mut().load_msg(index);
        if let Ok(ae) = msg.map_err(|_| ()).and_then(|m| decode_append_entry(&m.msg, None, "").map_err(|_| ())) {
            pending.push((index, ae.entries));
        }
    }
    // The node keeps the snapshot it loaded and deletes the others.
    let snap_dir = format!("{NODE_DIR}/{SNAPSHOTS_DIR}");
    let kept = world.disk.borrow().read_dir(&snap_dir).unwrap_or_default();
    let snapshot = kept
        .into_iter()
        .filter_map(|file| {
            term_and_index_from_snap_file(&file).ok().map(|(last_term, last_index)| SnapshotInfo { file, last_term, last_index })
        })
        .filter(|s| s.last_index == n.snapshot_index() && s.last_index > 0)
        .max_by_key(|s| s.last_term);
    let recovery = RaftRecovery {
        term: n.term(),
        vote: n.vote().to_string(),
        snapshot,
        cluster_size: n.cluster_size(),
        peers: n.peers().into_iter().map(|p| p.id).collect(),
        wal: wal_state,
        wal_events: store.borrow().events().to_vec(),
        wal_lost,
        last_log: (pindex, pterm),
        commit,
        committed,
        pending,
        repairs: repairs.borrow().clone(),
        warnings: warnings.borrow().clone(),
    };
    Ok(recovery)
}

// The simulator host, keeping the node's warnings for the result.
struct WarnLog {
    host: SimHost,
    warnings: Rc<RefCell<Vec<String>>>,
}

impl RaftEnv for WarnLog {
    fn now(&self) -> crate::raft::Timestamp {
        self.host.now()
    }
    fn rand_u64(&mut self) -> u64 {
        self.host.rand_u64()
    }
    fn transport(&mut self) -> &mut dyn crate::raft::Transport {
        self.host.transport()
    }
    fn fs(&mut self) -> &mut dyn crate::raft::Fs {
        self.host.fs()
    }
    fn log(&mut self, level: LogLevel, msg: &str) {
        if level != LogLevel::Debug {
            self.warnings.borrow_mut().push(msg.to_string());
        }
        self.host.log(level, msg);
    }
}

#[cfg(test)]
#[path = "raft_log_tests.rs"]
mod tests;
