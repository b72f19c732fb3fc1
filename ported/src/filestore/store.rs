//! A file store recovered from the files of its `msgs/` directory: the
//! block list and stream state a server builds when it opens the store,
//! and the reads and compaction the raft log replay needs.

use super::block::{LoadError, MsgBlock, Rebuilt, Truncation};
use super::files::StoreFiles;
use super::index::{read_index_info, IndexError};
use super::record::{file_store_msg_size_raw, StoreMsg};
use super::LostStreamData;

/// First and last sequence, message and byte counts (Go's `StreamState`,
/// reduced to what the store tracks here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamState {
    /// Live messages.
    pub msgs: u64,
    /// Bytes of the live messages.
    pub bytes: u64,
    /// First sequence.
    pub first_seq: u64,
    /// Timestamp of the first message, Unix nanoseconds (0: none).
    pub first_ts: i64,
    /// Last sequence.
    pub last_seq: u64,
    /// Timestamp of the last message, Unix nanoseconds (0: none).
    pub last_ts: i64,
}

/// Why a store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// `meta.key` is present: the store is encrypted and no key is configured.
    #[error("encrypted store encountered with no main key (meta.key present); decryption is not supported")]
    NoMainKey,
    /// A block has an encryption key file.
    #[error("message block {0} is encrypted ({0}.key present); decryption is not supported")]
    EncryptedBlock(u32),
    /// A block name parses to an index whose block file is not there.
    #[error("open {0}: no such block file")]
    OpenBlock(String),
    /// A block could not be scanned.
    #[error("recovering message block {file}: {source}")]
    Block {
        /// Block file name.
        file: String,
        /// What went wrong.
        source: LoadError,
    },
    /// Applying a tombstone found on recovery failed.
    #[error("applying tombstone for sequence {seq}: {source}")]
    Tombstone {
        /// Sequence the tombstone removes.
        seq: u64,
        /// What went wrong.
        source: LoadError,
    },
}

/// Something recovery did that a reader may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// The full-state file `index.db` is present but not read: servers use
    /// it only to skip the block scans below and rescan when it is stale.
    IndexDbNotRead,
    /// The block's index file was used instead of a scan.
    IndexUsed { block: u32 },
    /// The block's index file was not used, so the block was scanned.
    IndexNotUsed { block: u32, reason: IndexNotUsed },
    /// A scan of the block stopped at a bad record: a server truncates the
    /// block there and loses what follows.
    Truncated { block: u32, truncation: Truncation, lost: Vec<u64> },
    /// An empty file lost the messages its index file claimed.
    EmptyBlockLost { block: u32, lost: Vec<u64> },
    /// A block without any sequence was dropped (a server deletes it).
    EmptyBlockRemoved { block: u32 },
    /// A read found the block inconsistent and rescanned it.
    RebuiltOnRead { block: u32 },
}

/// Why an index file was not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexNotUsed {
    /// It could not be read.
    Unreadable(IndexError),
    /// Its last checksum is not the block's: the block changed after it was written.
    Stale,
}

/// A recovered file store.
#[derive(Debug, Clone)]
pub struct FileStore {
    name: String,
    blks: Vec<MsgBlock>,
    state: StreamState,
    lost: Option<LostStreamData>,
    events: Vec<StoreEvent>,
    // Store-state rebuilds blocks asked for while being read, run once the
    // operation that read them is done (upstream runs them in a goroutine
    // that waits for the store lock).
    deferred_rebuilds: Vec<(u32, Option<LostStreamData>)>,
}

impl FileStore {
    /// Port of (*fileStore).recoverMsgs with the tombstone pass of newFileStoreWithCreated
    ///
    /// Opens the store named `name` (its raft group name for a raft log)
    /// from the files of its `msgs/` directory: every `<n>.blk` in index
    /// order, each from its index file when that still matches the block,
    /// otherwise by scanning it; then the tombstones found are applied.
    /// Encrypted stores are refused. The full-state file `index.db` is not
    /// read (see [`StoreEvent::IndexDbNotRead`]); upstream only trusts it when
    /// it matches the blocks, which it never does after an unclean stop with
    /// writes since it was last saved, and otherwise recovers exactly as here.
    pub fn recover(name: &str, files: &StoreFiles) -> Result<FileStore, StoreError> {
        if files.meta_key {
            return Err(StoreError::NoMainKey);
        }
        if let Some(index) = files.block_key_indices().first() {
            return Err(StoreError::EncryptedBlock(*index));
        }
        let mut fs = FileStore {
            name: name.to_string(),
            blks: Vec::new(),
            state: StreamState::default(),
            lost: None,
            events: Vec::new(),
            deferred_rebuilds: Vec::new(),
        };
        if files.has_index_db() {
            fs.events.push(StoreEvent::IndexDbNotRead);
        }
        let mut tombs = Vec::new();
        for index in files.block_indices() {
            let mut mb = fs.recover_msg_block(files, index, &mut tombs)?;
            if mb.first.seq == 0 {
                fs.events.push(StoreEvent::EmptyBlockRemoved { block: index });
                continue;
            }
            fs.account_recovered_block(&mut mb);
            fs.blks.push(mb);
        }
        if fs.blks.is_empty() {
            fs.new_msg_block_for_write();
        }
        if fs.lost.is_some() {
            let last = fs.blks.len() - 1;
            let mut i = 0;
            fs.blks.retain(|mb| {
                let keep = !(mb.msgs == 0 && mb.rbytes == 0 && i != last);
                i += 1;
                keep
            });
        }
        for seq in tombs {
            match fs.remove_msg(seq) {
                Ok(_) | Err(LoadError::Eof) | Err(LoadError::NotFound) => {}
                Err(source) => return Err(StoreError::Tombstone { seq, source }),
            }
            fs.remove_from_lost_data(seq);
        }
        Ok(fs)
    }

    /// Port of (*fileStore).recoverMsgBlock
    fn recover_msg_block(&mut self, files: &StoreFiles, index: u32, tombs: &mut Vec<u64>) -> Result<MsgBlock, StoreError> {
        let file_name = format!("{index}.blk");
        let blk = files.msgs.get(&file_name).ok_or_else(|| StoreError::OpenBlock(file_name.clone()))?;
        let mut mb = MsgBlock::new(&self.name, index, blk.clone());
        let lchk = mb.last_checksum();
        let idx = files.msgs.get(&format!("{index}.idx")).map(|v| v.as_slice());
        match read_index_info(&mut mb, idx) {
            Ok(()) if (mb.rbytes == 0 && mb.msgs == 0) || lchk == mb.lchk => {
                self.events.push(StoreEvent::IndexUsed { block: index });
                return Ok(mb);
            }
            Ok(()) => self.events.push(StoreEvent::IndexNotUsed { block: index, reason: IndexNotUsed::Stale }),
            Err(IndexError::Missing) => {}
            Err(e) => self.events.push(StoreEvent::IndexNotUsed { block: index, reason: IndexNotUsed::Unreadable(e) }),
        }
        let was_empty = mb.file().is_empty();
        let rebuilt = mb.rebuild_state().map_err(|source| StoreError::Block { file: file_name, source })?;
        self.note_rebuild(index, was_empty, &rebuilt);
        self.add_lost_data(rebuilt.lost);
        tombs.extend(rebuilt.tombstones);
        Ok(mb)
    }

    fn note_rebuild(&mut self, block: u32, was_empty: bool, r: &Rebuilt) {
        let lost = r.lost.as_ref().map(|l| l.msgs.clone()).unwrap_or_default();
        if let Some(t) = &r.truncated {
            self.events.push(StoreEvent::Truncated { block, truncation: t.clone(), lost });
        } else if was_empty && r.lost.is_some() {
            self.events.push(StoreEvent::EmptyBlockLost { block, lost });
        }
    }

    // The per-block part of recoverMsgs' loop: fold the block into the
    // store's state; an empty block takes sequences that follow it.
    fn account_recovered_block(&mut self, mb: &mut MsgBlock) {
        let st = &mut self.state;
        if st.msgs == 0 {
            (st.first_seq, st.last_seq, st.first_ts, st.last_ts) = (0, 0, 0, 0);
        }
        let fseq = mb.first.seq;
        if st.first_seq == 0 || (fseq < st.first_seq && mb.first.ts != 0) {
            st.first_seq = fseq;
            st.first_ts = mb.first.ts;
        }
        if mb.last.seq >= st.last_seq {
            st.last_seq = mb.last.seq;
            st.last_ts = mb.last.ts;
        }
        st.msgs += mb.msgs;
        st.bytes += mb.bytes;
        if mb.msgs == 0 {
            mb.first.seq = st.last_seq + 1;
            mb.first.ts = 0;
            mb.last.seq = st.last_seq;
            mb.last.ts = st.last_ts;
        }
    }

    /// The state (*fileStore).newMsgBlockForWrite gives a new last block:
    /// next index, sequences following the store's; no file is created.
    fn new_msg_block_for_write(&mut self) {
        let index = self.blks.last().map_or(1, |mb| mb.index + 1);
        let mut mb = MsgBlock::new(&self.name, index, Vec::new());
        mb.first.seq = self.state.last_seq + 1;
        mb.last.seq = self.state.last_seq;
        self.blks.push(mb);
    }

    /// Port of (*fileStore).addLostData
    fn add_lost_data(&mut self, ld: Option<LostStreamData>) {
        let Some(ld) = ld else { return };
        match &mut self.lost {
            None => self.lost = Some(ld),
            Some(cur) => {
                let mut added = false;
                for seq in ld.msgs {
                    if !cur.msgs.contains(&seq) {
                        cur.msgs.push(seq);
                        added = true;
                    }
                }
                if added {
                    cur.msgs.sort_unstable();
                    cur.bytes += ld.bytes;
                }
            }
        }
    }

    /// Port of (*fileStore).removeFromLostData
    fn remove_from_lost_data(&mut self, seq: u64) {
        if let Some(ld) = &mut self.lost {
            if let Some(i) = ld.msgs.iter().position(|&s| s == seq) {
                ld.msgs.remove(i);
                if ld.msgs.is_empty() {
                    self.lost = None;
                }
            }
        }
    }

    /// Port of (*fileStore).rebuildStateLocked
    fn rebuild_state_locked(&mut self, ld: Option<LostStreamData>) {
        self.add_lost_data(ld);
        let st = &mut self.state;
        (st.msgs, st.bytes, st.first_seq, st.last_seq) = (0, 0, 0, 0);
        for mb in &self.blks {
            st.msgs += mb.msgs;
            st.bytes += mb.bytes;
            if st.first_seq == 0 || (mb.first.seq < st.first_seq && mb.first.ts != 0) {
                st.first_seq = mb.first.seq;
                st.first_ts = mb.first.ts;
            }
            if mb.last.seq >= st.last_seq {
                st.last_seq = mb.last.seq;
                st.last_ts = mb.last.ts;
            }
        }
    }

    // Collects the store rebuilds block `i` queued while it was read.
    fn defer_rebuilds(&mut self, i: usize) {
        let block = self.blks[i].index;
        for ld in self.blks[i].take_pending_fs_rebuilds() {
            self.deferred_rebuilds.push((block, ld));
        }
    }

    // Runs the deferred store rebuilds once the operation is over.
    fn settle(&mut self) {
        for i in 0..self.blks.len() {
            self.defer_rebuilds(i);
        }
        for (block, ld) in std::mem::take(&mut self.deferred_rebuilds) {
            self.events.push(StoreEvent::RebuiltOnRead { block });
            self.rebuild_state_locked(ld);
        }
    }

    /// Port of (*fileStore).selectMsgBlockWithIndex
    ///
    /// The first block whose last sequence is not below `seq` (upstream's
    /// linear and binary searches agree on sorted blocks).
    fn select_msg_block(&self, seq: u64) -> Option<usize> {
        let st = &self.state;
        if seq < st.first_seq || seq > st.last_seq || st.msgs == 0 {
            return None;
        }
        self.blks.iter().position(|mb| seq <= mb.last.seq)
    }

    /// Port of (*fileStore).msgForSeqLocked (`LoadMsg`)
    ///
    /// The message at `seq` (0: the first). Past the last sequence is
    /// [`LoadError::Eof`].
    pub fn load_msg(&mut self, seq: u64) -> Result<StoreMsg, LoadError> {
        let seq = if seq == 0 { self.state.first_seq } else { seq };
        let lseq = self.state.last_seq;
        let Some(i) = self.select_msg_block(seq) else {
            return Err(if seq <= lseq { LoadError::NotFound } else { LoadError::Eof });
        };
        let r = self.blks[i].fetch_msg(seq);
        self.settle();
        r
    }

    /// The state effects of (*fileStore).removeMsg on the tombstone pass of
    /// recovery
    ///
    /// Removes `seq` as a limit would: no new tombstone, no secure erase.
    /// Subject, TTL and schedule tracking, inline block compaction (which
    /// rewrites the file with the same live records) and callbacks do not
    /// apply to a raft log and are left out.
    pub fn remove_msg(&mut self, seq: u64) -> Result<bool, LoadError> {
        if seq == 0 {
            return Err(LoadError::NotFound);
        }
        let Some(i) = self.select_msg_block(seq) else {
            return Err(if seq <= self.state.last_seq { LoadError::NotFound } else { LoadError::Eof });
        };
        let r = self.remove_msg_from_block(i, seq);
        self.settle();
        r
    }

    fn remove_msg_from_block(&mut self, i: usize, seq: u64) -> Result<bool, LoadError> {
        let mb = &mut self.blks[i];
        if seq < mb.first.seq || mb.dmap.contains(&seq) {
            return Ok(false);
        }
        let fifo = seq == mb.first.seq;
        let is_empty = mb.msgs == 1;
        let loaded = mb.load_msgs();
        self.defer_rebuilds(i);
        loaded?;
        let mb = &mut self.blks[i];
        let sm = match mb.cache_lookup(seq) {
            Ok(sm) => sm,
            Err(LoadError::NotFound) | Err(LoadError::Deleted) => return Ok(false),
            Err(e) => return Err(e),
        };
        let msz = file_store_msg_size_raw(sm.subj.len(), sm.hdr.len(), sm.msg.len());
        let st = &mut self.state;
        st.msgs = st.msgs.saturating_sub(1);
        st.bytes = st.bytes.saturating_sub(msz);
        mb.msgs = mb.msgs.saturating_sub(1);
        mb.bytes = mb.bytes.saturating_sub(msz);
        if fifo {
            mb.select_next_first();
            if !is_empty && seq == st.first_seq {
                st.first_seq = mb.first.seq;
                st.first_ts = mb.first.ts;
            }
        } else if !is_empty {
            mb.dmap.insert(seq);
        }
        if is_empty {
            let first_needs_update = seq == self.state.first_seq;
            self.remove_msg_block(i);
            if first_needs_update {
                self.select_next_first();
            }
        }
        Ok(true)
    }

    /// The state effects of (*fileStore).removeMsgBlock
    ///
    /// The tombstone upstream writes to remember the last sequence is left
    /// out (it only matters at the next restart); a block still holding
    /// tombstones for earlier blocks is kept.
    fn remove_msg_block(&mut self, i: usize) {
        if i == self.blks.len() - 1 {
            self.new_msg_block_for_write();
        }
        let first = self.state.first_seq;
        let tombs = self.blks[i].num_prior_tombs(first);
        self.defer_rebuilds(i);
        if tombs > 0 {
            return;
        }
        self.blks.remove(i);
    }

    /// Port of (*fileStore).selectNextFirst
    fn select_next_first(&mut self) {
        while self.blks.len() > 1 && self.blks[0].msgs == 0 {
            self.blks.remove(0);
        }
        match self.blks.first() {
            Some(mb) => {
                self.state.first_seq = mb.first.seq;
                self.state.first_ts = mb.first.ts;
            }
            None => {
                self.state.first_seq = self.state.last_seq + 1;
                self.state.first_ts = 0;
            }
        }
    }

    /// The state effects of (*fileStore).purge
    ///
    /// Drops every message; the store restarts at `fseq` when that is past
    /// its end. Directory shuffling and the remembering tombstone are left
    /// out.
    fn purge(&mut self, fseq: u64) -> u64 {
        let purged = self.state.msgs;
        let st = &mut self.state;
        st.first_seq = st.last_seq + 1;
        st.first_ts = 0;
        st.bytes = 0;
        st.msgs = 0;
        if fseq > st.first_seq {
            st.first_seq = fseq;
            st.last_seq = fseq - 1;
        }
        let index = self.blks.last().map_or(1, |mb| mb.index + 1);
        let mut lmb = MsgBlock::new(&self.name, index, Vec::new());
        lmb.first.seq = self.state.first_seq;
        lmb.last.seq = self.state.last_seq;
        lmb.last.ts = self.state.last_ts;
        self.blks = vec![lmb];
        purged
    }

    /// The state effects of (*fileStore).compact
    ///
    /// Removes every message below `seq`, as raft does to its log up to a
    /// snapshot. The tombstones upstream writes for the removed messages and
    /// the rewrite of a mostly-empty first block only matter at the next
    /// restart and are left out.
    pub fn compact(&mut self, seq: u64) -> Result<u64, LoadError> {
        if seq == 0 || seq > self.state.last_seq {
            return Ok(self.purge(seq));
        }
        if self.state.first_seq > seq {
            return Ok(0);
        }
        let Some(si) = self.select_msg_block(seq) else { return Ok(0) };
        let mut purged = 0u64;
        let mut bytes = 0u64;
        for mb in &self.blks[..si] {
            purged += mb.msgs;
            bytes += mb.bytes;
        }
        self.blks.drain(..si);
        let last = self.blks.len() - 1;
        let smb = &mut self.blks[0];
        if smb.first.seq != seq {
            let loaded = smb.load_msgs();
            self.defer_rebuilds(0);
            if let Err(e) = loaded {
                self.settle();
                return Err(e);
            }
            let smb = &mut self.blks[0];
            for mseq in smb.first.seq..seq {
                match smb.cache_lookup(mseq) {
                    Err(LoadError::Deleted) => {
                        smb.dmap.remove(&mseq);
                    }
                    Ok(sm) => {
                        let sz = file_store_msg_size_raw(sm.subj.len(), sm.hdr.len(), sm.msg.len());
                        if smb.msgs > 0 {
                            smb.msgs -= 1;
                            let sz = sz.min(smb.bytes);
                            smb.bytes -= sz;
                            bytes += sz;
                            purged += 1;
                        }
                    }
                    Err(_) => {}
                }
            }
            if smb.msgs == 0 {
                let next_first = smb.last.seq + 1;
                if last != 0 {
                    self.blks.remove(0);
                }
                self.state.first_seq = next_first;
                self.state.first_ts = 0;
            } else {
                smb.first.seq = if smb.first.seq < seq { seq - 1 } else { smb.first.seq - 1 };
                smb.select_next_first();
                self.state.first_seq = smb.first.seq;
                self.state.first_ts = smb.first.ts;
            }
        } else {
            self.state.first_seq = smb.first.seq;
            self.state.first_ts = smb.first.ts;
        }
        self.settle();
        let purged = purged.min(self.state.msgs);
        self.state.msgs -= purged;
        if self.state.msgs == 0 {
            self.state.first_seq = self.state.last_seq + 1;
            self.state.first_ts = 0;
        }
        self.state.bytes -= bytes.min(self.state.bytes);
        Ok(purged)
    }

    /// The state effects of (*fileStore).Truncate and (*fileStore).reset
    ///
    /// Removes every message above `seq` (0: everything), as raft does to
    /// drop a damaged or diverged tail of its log. The block holding `seq`
    /// is cut after it, later blocks are dropped. Tombstones upstream writes
    /// to remember the new last sequence, and the per-subject state, are left
    /// out; a compressed block is cut like a plain one (upstream rewrites it
    /// uncompressed).
    pub fn truncate(&mut self, seq: u64) -> Result<(), LoadError> {
        if seq == 0 {
            self.blks.clear();
            self.state = StreamState::default();
            return Ok(());
        }
        let si = self.select_msg_block(seq);
        let lsm = match si {
            Some(i) => match self.blks[i].fetch_msg(seq) {
                Ok(m) => Some(m),
                Err(LoadError::NotFound) | Err(LoadError::Deleted) => None,
                Err(e) => {
                    self.settle();
                    return Err(e);
                }
            },
            None => None,
        };
        let last_ts = match (&lsm, si) {
            (Some(m), _) => m.ts,
            (None, Some(i)) => self.blks[i].last.ts,
            (None, None) => self.state.last_ts,
        };
        let remove_smb = si.is_some_and(|i| self.blks[i].first.seq > seq);
        let keep = match si {
            Some(i) if !remove_smb => i + 1,
            Some(i) => i,
            None => 0,
        };
        let (mut purged, mut bytes) = (0u64, 0u64);
        for mb in self.blks.drain(keep..) {
            purged += mb.msgs;
            bytes += mb.bytes;
        }
        if let Some(i) = si.filter(|_| !remove_smb) {
            let (p, b) = self.blks[i].truncate_after(seq, last_ts)?;
            purged += p;
            bytes += b;
        }
        // Upstream keeps the new write block only when it wrote a tombstone.
        self.state.last_seq = seq;
        self.state.last_ts = last_ts;
        if lsm.is_none() || remove_smb {
            self.new_msg_block_for_write();
        }
        self.settle();
        self.state.msgs -= purged.min(self.state.msgs);
        self.state.bytes -= bytes.min(self.state.bytes);
        Ok(())
    }

    /// Port of (*fileStore).FastState
    pub fn state(&self) -> StreamState {
        self.state
    }

    /// Messages recovery found lost (Go's `LostStreamData`).
    pub fn lost_data(&self) -> Option<&LostStreamData> {
        self.lost.as_ref()
    }

    /// What recovery and later reads did, in order.
    pub fn events(&self) -> &[StoreEvent] {
        &self.events
    }

    /// The recovered blocks, in order.
    pub fn blocks(&self) -> &[MsgBlock] {
        &self.blks
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
