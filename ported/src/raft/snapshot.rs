//! Snapshots: installing one (file write, old file removal, WAL
//! compaction), the asynchronous checkpoint API, restoring the newest valid
//! snapshot at start-up, and loading it for catch-up. The file layout and
//! checksum come from [`crate::snapshot_file`]; the file I/O goes through
//! the injected file system.

use crate::peer_state::decode_peer_state;
use crate::snapshot_file::{snapshot_file_name, term_and_index_from_snap_file, Snapshot, SNAPSHOTS_DIR};

use super::env::{join, FsError};
use super::node::{CommittedEntry, Raft};
use super::wire::{AppendEntry, Entry, EntryType};
use super::{RaftError, RaftState};

/// A pending snapshot (Go: `checkpoint`), created by
/// [`Raft::create_snapshot_checkpoint`]. Hold at most one; finish it with
/// [`Checkpoint::install_snapshot`] or [`Checkpoint::abort`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Term of the entry at `applied`.
    pub term: u64,
    /// Index the snapshot will cover.
    pub applied: u64,
    /// Index covered by the previous snapshot.
    pub papplied: u64,
    /// Where the snapshot file goes.
    pub snap_file: String,
    /// Peer state at checkpoint time.
    pub peerstate: Vec<u8>,
}

impl Checkpoint {
    /// Port of (*checkpoint).LoadLastSnapshot
    pub fn load_last_snapshot(&self, n: &mut Raft) -> Result<Vec<u8>, RaftError> {
        if !n.snapshotting {
            return Err(RaftError::SnapAborted);
        }
        let snap = n.load_last_snapshot()?.ok_or(RaftError::NoSnapAvailable)?;
        if snap.last_index != self.papplied {
            return Err(RaftError::SnapshotIndexMismatch);
        }
        Ok(snap.data)
    }

    /// Port of (*checkpoint).AppendEntriesSeq
    ///
    /// The entries the snapshot will compact away, in order; stops at the
    /// first error (including an abort).
    pub fn append_entries_seq(&self, n: &mut Raft) -> Vec<Result<AppendEntry, RaftError>> {
        let mut out = Vec::new();
        for index in self.papplied + 1..=self.applied {
            if !n.snapshotting {
                out.push(Err(RaftError::SnapAborted));
                return out;
            }
            match n.load_entry(index) {
                Ok(ae) => out.push(Ok(ae)),
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
        out
    }

    /// Port of (*checkpoint).Abort
    pub fn abort(&self, n: &mut Raft) {
        n.snapshotting = false;
    }

    /// Port of (*checkpoint).InstallSnapshot
    ///
    /// Returns how many WAL bytes the compaction released.
    pub fn install_snapshot(&self, n: &mut Raft, data: &[u8]) -> Result<u64, RaftError> {
        if !n.snapshotting {
            return Err(RaftError::SnapAborted);
        }
        let res = self.install_inner(n, data);
        n.snapshotting = false;
        res
    }

    fn install_inner(&self, n: &mut Raft, data: &[u8]) -> Result<u64, RaftError> {
        n.debug(&format!("Installing snapshot of {} bytes [{}:{}]", data.len(), self.term, self.applied));
        let snap = Snapshot {
            last_term: self.term,
            last_index: self.applied,
            peer_state: self.peerstate.clone(),
            data: data.to_vec(),
        };
        let encoded = n.codec.encode(&snap);
        n.env.fs().write_sync(&self.snap_file, &encoded)?;
        if !n.snapfile.is_empty() && n.snapfile != self.snap_file {
            let old = n.snapfile.clone();
            let _ = n.env.fs().remove(&old);
        }
        n.snapfile = self.snap_file.clone();
        if let Err(e) = n.wal.compact(snap.last_index + 1) {
            let e: RaftError = e.into();
            n.set_write_err_locked(e.clone());
            return Err(e);
        }
        let compacted = n.bytes;
        n.papplied = snap.last_index;
        n.bytes = n.wal.state().bytes;
        Ok(compacted.saturating_sub(n.bytes))
    }
}

impl Raft {
    /// Port of (*raft).InstallSnapshot
    ///
    /// Installs `data` as the snapshot at our applied index and compacts the
    /// WAL up to it.
    pub fn install_snapshot_data(&mut self, data: &[u8], force: bool) -> Result<(), RaftError> {
        let c = self.create_snapshot_checkpoint_locked(force)?;
        self.debug(&format!("Installing snapshot of {} bytes [{}:{}]", data.len(), c.term, c.applied));
        let snap = Snapshot { last_term: c.term, last_index: c.applied, peer_state: c.peerstate, data: data.to_vec() };
        self.install_snapshot(snap)
    }

    /// Port of (*raft).installSnapshot
    pub(crate) fn install_snapshot(&mut self, snap: Snapshot) -> Result<(), RaftError> {
        // Also cancels any asynchronous checkpoint in flight.
        let res = self.install_snapshot_inner(&snap);
        self.snapshotting = false;
        res
    }

    fn install_snapshot_inner(&mut self, snap: &Snapshot) -> Result<(), RaftError> {
        let snap_dir = join(&self.sd, SNAPSHOTS_DIR);
        let sfile = join(&snap_dir, &snapshot_file_name(snap.last_term, snap.last_index));
        let encoded = self.codec.encode(snap);
        // Not a write error: snapshots are retried, the node keeps running.
        self.env.fs().write_sync(&sfile, &encoded)?;
        if !self.snapfile.is_empty() && self.snapfile != sfile {
            let old = self.snapfile.clone();
            let _ = self.env.fs().remove(&old);
        }
        self.snapfile = sfile;
        if let Err(e) = self.wal.compact(snap.last_index + 1) {
            let e: RaftError = e.into();
            self.set_write_err_locked(e.clone());
            return Err(e);
        }
        self.papplied = snap.last_index;
        self.bytes = self.wal.state().bytes;
        Ok(())
    }

    /// Port of (*raft).CreateSnapshotCheckpoint
    pub fn create_snapshot_checkpoint(&mut self, force: bool) -> Result<Checkpoint, RaftError> {
        self.create_snapshot_checkpoint_locked(force)
    }

    /// Port of (*raft).createSnapshotCheckpointLocked
    pub(crate) fn create_snapshot_checkpoint_locked(&mut self, force: bool) -> Result<Checkpoint, RaftError> {
        if self.state == RaftState::Closed {
            return Err(RaftError::NodeClosed);
        }
        if self.snapshotting {
            return Err(RaftError::SnapInProgress);
        }
        if let Some(e) = &self.werr {
            return Err(e.clone());
        }
        // A long-running catch-up may be overridden so the log cannot grow forever.
        if !force && !self.progress.is_empty() {
            return Err(RaftError::CatchupsRunning);
        }
        if self.applied == 0 {
            self.debug("Not snapshotting as there are no applied entries");
            return Err(RaftError::NoSnapAvailable);
        }
        let term = match self.load_entry(self.applied) {
            Ok(ae) => ae.term,
            Err(_) => {
                self.debug(&format!("Not snapshotting as entry {} is not available", self.applied));
                return Err(RaftError::NoSnapAvailable);
            }
        };
        let peerstate = self.encoded_peer_state();
        let snap_dir = join(&self.sd, SNAPSHOTS_DIR);
        let snap_file = join(&snap_dir, &snapshot_file_name(term, self.applied));
        self.snapshotting = true;
        Ok(Checkpoint { term, applied: self.applied, papplied: self.papplied, snap_file, peerstate })
    }

    /// Port of (*raft).NeedSnapshot
    pub fn need_snapshot(&self) -> bool {
        self.snapfile.is_empty() && self.applied > 1
    }

    /// Port of (*raft).SendSnapshot
    ///
    /// Replicates `data` as a snapshot entry without a leader check (used on
    /// scale-up).
    pub fn send_snapshot(&mut self, data: &[u8]) -> Result<(), RaftError> {
        let _ = self.send_append_entry_locked(vec![Entry::new(EntryType::Snapshot, data)], false);
        Ok(())
    }

    /// Port of (*raft).setupLastSnapshot
    ///
    /// Restores the newest snapshot at start-up: sets pterm, pindex and
    /// commit (not applied), queues it for the upper layer and compacts the
    /// WAL. Older and unparsable snapshot files are removed.
    pub(crate) fn setup_last_snapshot(&mut self) -> Result<(), RaftError> {
        let snap_dir = join(&self.sd, SNAPSHOTS_DIR);
        let names = match self.env.fs().read_dir(&snap_dir) {
            Ok(n) => n,
            Err(FsError::NotFound(_)) => return Err(RaftError::NoSnapAvailable),
            Err(e) => return Err(e.into()),
        };
        let mut best: Option<(u64, u64, String)> = None;
        for name in &names {
            let sfile = join(&snap_dir, name);
            match term_and_index_from_snap_file(name) {
                Ok((term, index)) => {
                    let newer = match &best {
                        None => true,
                        Some((bt, bi, _)) => term > *bt || (term == *bt && index > *bi),
                    };
                    if newer {
                        best = Some((term, index, sfile));
                    }
                }
                Err(_) => {
                    self.debug(&format!("Removing snapshot, can't parse name: {name:?}"));
                    let _ = self.env.fs().remove(&sfile);
                }
            }
        }
        let Some((_, _, latest)) = best else { return Ok(()) };
        self.snapfile = latest.clone();
        let Some(snap) = self.load_last_snapshot()? else { return Ok(()) };
        self.pindex = snap.last_index;
        self.pterm = snap.last_term;
        // Only commit: applied moves once the upper layer applies the snapshot.
        self.commit = snap.last_index;
        self.papplied = snap.last_index;
        let ps = decode_peer_state(&snap.peer_state).map_err(|_| RaftError::CorruptPeers)?;
        self.process_peer_state(&ps);
        self.ext_st = ps.domain_ext;
        self.apply.push_back(Some(CommittedEntry { index: self.commit, entries: vec![Entry::new(EntryType::Snapshot, snap.data)] }));
        if let Err(e) = self.wal.compact(snap.last_index + 1) {
            let e: RaftError = e.into();
            self.set_write_err_locked(e.clone());
            return Err(e);
        }
        for name in &names {
            let sfile = join(&snap_dir, name);
            if sfile != latest {
                self.debug(&format!("Removing old snapshot: {sfile:?}"));
                let _ = self.env.fs().remove(&sfile);
            }
        }
        Ok(())
    }

    /// Port of (*raft).loadLastSnapshot
    ///
    /// `Ok(None)` for a snapshot at index 0 (an old server bug), which is
    /// removed; Go returns a nil snapshot there.
    pub(crate) fn load_last_snapshot(&mut self) -> Result<Option<Snapshot>, RaftError> {
        if self.snapfile.is_empty() {
            return Err(RaftError::NoSnapAvailable);
        }
        let path = self.snapfile.clone();
        let buf = match self.env.fs().read(&path) {
            Ok(b) => b,
            Err(e) => {
                self.warn(&format!("Error reading snapshot: {e}"));
                return Err(e.into());
            }
        };
        let snap = match self.codec.decode(&buf) {
            Ok(s) => s,
            Err(e) => {
                self.warn(&format!("Snapshot corrupt: {e}"));
                return Err(RaftError::SnapshotCorrupt(e.to_string()));
            }
        };
        if snap.last_index == 0 {
            self.warn("Snapshot with last index 0 is invalid, cleaning up");
            let _ = self.env.fs().remove(&path);
            self.snapfile.clear();
            return Ok(None);
        }
        Ok(Some(snap))
    }

    /// Port of (*raft).DrainAndReplaySnapshot
    ///
    /// Pauses applies, empties the apply queue and queues the snapshot again.
    pub fn drain_and_replay_snapshot(&mut self) -> bool {
        let snap = match self.load_last_snapshot() {
            Ok(Some(s)) => s,
            _ => return false,
        };
        self.warn("Draining and replaying snapshot");
        self.pause_apply_locked();
        self.apply.clear();
        // After draining: a pending catch-up still owes the upper layer its end marker.
        self.cancel_catchup();
        self.commit = snap.last_index;
        self.apply.push_back(Some(CommittedEntry { index: self.commit, entries: vec![Entry::new(EntryType::Snapshot, snap.data)] }));
        true
    }

    /// Name of the current snapshot file (empty if none).
    pub fn snapfile(&self) -> &str {
        &self.snapfile
    }
}
