//! Raft node directories as a server leaves them, for building inputs in
//! tests and benchmarks: append entries stored one per WAL message (as
//! `(*raft).storeToWAL` does), snapshots, `peers.idx` and `tav.idx`. The
//! port itself never writes a node's directory.

use crate::filestore::writer::StoreWriter;
use crate::peer_state::{encode_peer_state, PeerState};
use crate::raft::wire::{AppendEntry, Entry, WireError};
use crate::snapshot_file::{snapshot_file_name, Snapshot, SnapshotCodec};

use super::RaftDirFiles;

/// Builds a raft node's directory entry by entry.
pub struct LogWriter {
    group: String,
    leader: String,
    store: StoreWriter,
    pterm: u64,
    pindex: u64,
    files: RaftDirFiles,
}

impl LogWriter {
    /// A log for `group` whose entries come from `leader` (an 8-byte id),
    /// stored in blocks of `block_size` bytes.
    pub fn new(group: &str, leader: &str, block_size: u64) -> Self {
        LogWriter {
            group: group.to_string(),
            leader: leader.to_string(),
            store: StoreWriter::new(group, block_size),
            pterm: 0,
            pindex: 0,
            files: RaftDirFiles::default(),
        }
    }

    /// Starts the log after `index` of `term` (what a compacted log looks
    /// like): the next entry gets index `index + 1`.
    pub fn start_after(&mut self, term: u64, index: u64) {
        self.pterm = term;
        self.pindex = index;
    }

    /// Index the next entry gets.
    pub fn next_index(&self) -> u64 {
        self.pindex + 1
    }

    /// Stores an append entry of `term` carrying `entries` and the leader's
    /// `commit` index; returns its log index.
    pub fn append(&mut self, term: u64, commit: u64, entries: Vec<Entry>) -> Result<u64, WireError> {
        let ae = AppendEntry::new(&self.leader, term, commit, self.pterm, self.pindex, entries);
        let index = self.pindex + 1;
        let ts = 1_700_000_000_000_000_000 + index as i64;
        self.store.store(index, ts, b"", b"", &ae.encode()?);
        self.pterm = term;
        self.pindex = index;
        Ok(index)
    }

    /// Stores raw bytes as the next WAL message (for damaged entries).
    pub fn append_raw(&mut self, msg: &[u8]) -> u64 {
        self.pindex += 1;
        self.store.store(self.pindex, self.pindex as i64, b"", b"", msg);
        self.pindex
    }

    /// Adds a tombstone for `seq` to the WAL.
    pub fn tombstone(&mut self, seq: u64) {
        self.store.tombstone(seq, 0);
    }

    /// Adds a snapshot file, checksummed for the group.
    pub fn snapshot(&mut self, snap: &Snapshot) {
        let name = snapshot_file_name(snap.last_term, snap.last_index);
        self.files.snapshots.insert(name, SnapshotCodec::new(&self.group).encode(snap));
    }

    /// Sets `peers.idx`.
    pub fn peer_state(&mut self, ps: &PeerState) {
        self.files.peer_state = Some(encode_peer_state(ps));
    }

    /// Sets `tav.idx`.
    pub fn term_vote(&mut self, term: u64, vote: &str) {
        let mut buf = term.to_le_bytes().to_vec();
        buf.extend_from_slice(vote.as_bytes());
        self.files.term_vote = Some(buf);
    }

    /// The directory's files; `index_version` adds pre-2.10 index files.
    pub fn files(&self, index_version: Option<u8>) -> RaftDirFiles {
        let mut files = self.files.clone();
        files.store = self.store.files(index_version);
        files
    }
}
