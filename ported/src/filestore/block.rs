//! One message block (`msgs/<n>.blk`) held in memory: its recovered state,
//! the scan that rebuilds that state from the records, the index of record
//! offsets that reads go through, and the lookups.
//!
//! The file's bytes are given to the block; nothing here touches the disk.
//! Where upstream truncates a block file at a bad record, the in-memory copy
//! is cut the same way, so later reads see what a server would.

use std::collections::BTreeSet;

use super::compression::{decompress_if_needed, CompressionError};
use super::record::{
    msg_from_buf, verify_checksum, BadRecord, BlockHasher, RecordHeader, StoreMsg, CHECKSUM_SIZE, EBIT,
    MSG_HDR_SIZE, TBIT,
};
use super::LostStreamData;

/// Marks a slot of the record index as a deleted sequence.
const DBIT: u32 = 1 << 30;
/// Marks a slot whose record checksum was already verified.
const CBIT: u32 = 1 << 31;
/// How often a read reloads the block after rebuilding it.
const MAX_LOAD_CHECKS: usize = 8;
/// Most sequences a jump between two records may mark deleted. Upstream
/// has no bound (a crafted block makes it allocate without limit); here a
/// larger jump is treated as a bad record at that point.
pub const MAX_SEQ_GAP: u64 = 1 << 22;

/// A sequence and its timestamp (Go's `msgId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgId {
    /// Sequence.
    pub seq: u64,
    /// Timestamp, Unix nanoseconds.
    pub ts: i64,
}

/// Errors reading a message through a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Sequence outside the block or store.
    #[error("no message found")]
    NotFound,
    /// Sequence past the end of the store.
    #[error("stream EOF")]
    Eof,
    /// The sequence was deleted.
    #[error("deleted message")]
    Deleted,
    /// The record index of the block could not be built.
    #[error("no message cache")]
    NoCache,
    /// The record index does not reach this sequence.
    #[error("partial cache")]
    PartialCache,
    /// The record at this sequence is malformed or fails its checksum.
    #[error("malformed or corrupt message in {file}: {reason}")]
    BadMsg {
        /// Block file name.
        file: String,
        /// What is wrong.
        reason: BadRecord,
    },
    /// The record at the slot is shorter than a header.
    #[error("malformed or corrupt message in {file}: length too short for slot {slot}")]
    ShortSlot {
        /// Block file name.
        file: String,
        /// Slot in the record index.
        slot: u64,
    },
    /// The record found is not the one asked for.
    #[error("sequence numbers for cache load did not match, {want} vs {got}")]
    SeqMismatch {
        /// Sequence asked for.
        want: u64,
        /// Sequence of the record at its slot.
        got: u64,
    },
    /// The block's compression header or stream is bad.
    #[error("{0}")]
    Compression(#[from] CompressionError),
}

/// Where a block scan stopped at a bad record; upstream truncates the file
/// there and everything after it is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Offset of the bad record in the (decompressed) block.
    pub offset: usize,
    /// What was wrong with it.
    pub reason: BadRecord,
}

/// What a block scan found besides the block's new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Messages lost to a truncation or an empty file.
    pub lost: Option<LostStreamData>,
    /// Sequences of the tombstones in the block.
    pub tombstones: Vec<u64>,
    /// Where the scan stopped early, if it did.
    pub truncated: Option<Truncation>,
}

// Offsets of the block's records by sequence (upstream's cache).
#[derive(Debug, Clone)]
struct Cache {
    buf: Vec<u8>,
    idx: Vec<u32>,
    fseq: u64,
}

/// A message block and its state.
#[derive(Debug, Clone)]
pub struct MsgBlock {
    /// Block index (the `<n>` of `<n>.blk`).
    pub index: u32,
    /// First live sequence.
    pub first: MsgId,
    /// Last sequence.
    pub last: MsgId,
    /// Live messages.
    pub msgs: u64,
    /// Bytes of the live messages.
    pub bytes: u64,
    /// Bytes of the block file.
    pub rbytes: u64,
    /// Deleted sequences between first and last.
    pub dmap: BTreeSet<u64>,
    /// Checksum of the last record, as recovered.
    pub lchk: [u8; CHECKSUM_SIZE],
    file: Vec<u8>,
    hasher: BlockHasher,
    cache: Option<Cache>,
    // Store-state rebuilds upstream starts in the background after a read
    // found the block corrupt; the store drains and runs them.
    pending_fs_rebuilds: Vec<Option<LostStreamData>>,
}

impl MsgBlock {
    /// Port of (*fileStore).initMsgBlock
    ///
    /// Block `index` of the store `name`, holding the block file's bytes.
    pub fn new(name: &str, index: u32, file: Vec<u8>) -> Self {
        MsgBlock {
            index,
            first: MsgId::default(),
            last: MsgId::default(),
            msgs: 0,
            bytes: 0,
            rbytes: file.len() as u64,
            dmap: BTreeSet::new(),
            lchk: [0; CHECKSUM_SIZE],
            file,
            hasher: BlockHasher::new(name, index),
            cache: None,
            pending_fs_rebuilds: Vec::new(),
        }
    }

    /// Name of the block file.
    pub fn file_name(&self) -> String {
        format!("{}.blk", self.index)
    }

    /// The block file's bytes as they stand (after any truncation).
    pub fn file(&self) -> &[u8] {
        &self.file
    }

    /// Port of (*msgBlock).lastChecksum
    ///
    /// The last eight bytes of the block file, zeros when shorter.
    pub fn last_checksum(&self) -> [u8; CHECKSUM_SIZE] {
        let mut lchk = [0; CHECKSUM_SIZE];
        if self.file.len() >= CHECKSUM_SIZE {
            lchk.copy_from_slice(&self.file[self.file.len() - CHECKSUM_SIZE..]);
        }
        lchk
    }

    pub(crate) fn take_pending_fs_rebuilds(&mut self) -> Vec<Option<LostStreamData>> {
        std::mem::take(&mut self.pending_fs_rebuilds)
    }

    /// Port of (*msgBlock).rebuildStateLocked
    ///
    /// Rebuilds the block's state from its file. An empty file loses every
    /// message the state claimed; a bad compression header is an error.
    pub fn rebuild_state(&mut self) -> Result<Rebuilt, LoadError> {
        self.cache = None;
        self.rbytes = self.file.len() as u64;
        if self.file.is_empty() {
            let mut lost = None;
            if self.msgs > 0 {
                let msgs = (self.first.seq..=self.last.seq).filter(|s| !self.dmap.contains(s)).collect();
                lost = Some(LostStreamData { msgs, bytes: self.bytes });
                self.msgs = 0;
                self.bytes = 0;
                self.rbytes = 0;
                self.dmap.clear();
                self.first.seq = self.last.seq.wrapping_add(1);
            }
            return Ok(Rebuilt { lost, ..Rebuilt::default() });
        }
        let buf = decompress_if_needed(&self.file)?;
        Ok(self.rebuild_state_from_buf(&buf))
    }

    /// Port of (*msgBlock).rebuildStateFromBufLocked
    ///
    /// Scans the records of `buf`: counts live messages, collects
    /// tombstones, records erased and skipped sequences as deleted. The
    /// first record that overruns the buffer, fails the length checks or its
    /// checksum ends the scan; the block is cut there (upstream truncates the
    /// file) and the sequences it had claimed past the last good record are
    /// reported lost. A first sequence set beforehand (from an index file)
    /// makes older records count as erased, as upstream.
    pub fn rebuild_state_from_buf(&mut self, buf: &[u8]) -> Rebuilt {
        let start_last_seq = self.last.seq;
        self.msgs = 0;
        self.bytes = 0;
        self.last = MsgId::default();
        self.rbytes = buf.len() as u64;
        let mut first_needs_set = true;
        let mut out = Rebuilt::default();
        let mut max_tomb: Option<MsgId> = None;
        let mut last = 0u64;
        let lbuf = buf.len();
        let mut index = 0usize;

        while index < lbuf {
            let bad = if index + MSG_HDR_SIZE > lbuf {
                Some(BadRecord::Overrun { index, lbuf })
            } else {
                let hdr = RecordHeader::read(&buf[index..]);
                match hdr.sane(index, lbuf) {
                    Err(e) => Some(e),
                    Ok(()) => match verify_checksum(&self.hasher, &hdr, &buf[index..index + hdr.rl as usize]) {
                        Err(e) => Some(e),
                        Ok(()) => {
                            let rec = &buf[index..index + hdr.rl as usize];
                            self.lchk.copy_from_slice(&rec[rec.len() - CHECKSUM_SIZE..]);
                            match self.scan_record(&hdr, &mut last, &mut first_needs_set, &mut max_tomb, &mut out) {
                                Ok(()) => {
                                    index += hdr.rl as usize;
                                    None
                                }
                                Err(e) => Some(e),
                            }
                        }
                    },
                }
            };
            if let Some(reason) = bad {
                self.truncate_file(index);
                let msgs = (self.last.seq.wrapping_add(1)..=start_last_seq).collect();
                out.lost = Some(LostStreamData { msgs, bytes: (lbuf - index) as u64 });
                out.truncated = Some(Truncation { offset: index, reason });
                break;
            }
        }
        self.fix_empty_sequences(max_tomb);
        out
    }

    // One good record of the scan above.
    fn scan_record(
        &mut self,
        hdr: &RecordHeader,
        last: &mut u64,
        first_needs_set: &mut bool,
        max_tomb: &mut Option<MsgId>,
        out: &mut Rebuilt,
    ) -> Result<(), BadRecord> {
        let (raw, ts) = (hdr.raw_seq, hdr.ts);
        if raw & TBIT != 0 {
            let seq = raw & !TBIT;
            out.tombstones.push(seq);
            if max_tomb.is_none_or(|m| seq > m.seq) {
                *max_tomb = Some(MsgId { seq, ts });
            }
            return Ok(());
        }
        let fseq = self.first.seq;
        if raw == 0 || raw & EBIT != 0 || raw < fseq {
            let seq = raw & !EBIT;
            if seq >= fseq {
                self.update_last(last, seq, ts)?;
                if self.msgs == 0 {
                    self.first = MsgId { seq: seq.wrapping_add(1), ts: 0 };
                } else if seq != 0 {
                    self.dmap.insert(seq);
                }
            }
            return Ok(());
        }
        let seq = raw;
        if *first_needs_set {
            self.first = MsgId { seq, ts };
            *first_needs_set = false;
        }
        if seq <= *last {
            return Ok(());
        }
        if !self.dmap.contains(&seq) {
            self.msgs += 1;
            self.bytes += hdr.rl as u64;
        }
        self.update_last(last, seq, ts)
    }

    // Sequences only move up; a jump over missing sequences marks them deleted.
    fn update_last(&mut self, last: &mut u64, seq: u64, ts: i64) -> Result<(), BadRecord> {
        if seq <= *last {
            return Ok(());
        }
        if *last > 0 && seq != *last + 1 && self.msgs != 0 {
            if seq - *last > MAX_SEQ_GAP {
                return Err(BadRecord::SequenceGap { from: *last, to: seq });
            }
            for d in *last + 1..seq {
                self.dmap.insert(d);
            }
        }
        *last = seq;
        self.last = MsgId { seq, ts };
        Ok(())
    }

    // A block without messages: last follows first, or tombstones place both.
    fn fix_empty_sequences(&mut self, max_tomb: Option<MsgId>) {
        if self.msgs != 0 {
            return;
        }
        if self.first.seq > 0 {
            self.last.seq = self.first.seq - 1;
        } else if let Some(t) = max_tomb.filter(|t| t.seq > 0) {
            self.first = MsgId { seq: t.seq + 1, ts: 0 };
            if self.last.seq == 0 {
                self.last = t;
            }
        }
    }

    // Upstream's truncate helper: cut (or, past the end, zero-extend) the
    // file and take the last checksum from the bytes now before the cut.
    fn truncate_file(&mut self, at: usize) {
        self.file.resize(at, 0);
        if at >= CHECKSUM_SIZE {
            self.lchk.copy_from_slice(&self.file[at - CHECKSUM_SIZE..at]);
        }
    }

    /// Port of (*msgBlock).indexCacheBuf
    ///
    /// Builds the offset of every sequence from first to last, marking
    /// holes as deleted. Any disagreement with the block's state (a record
    /// that cannot be read, a first or last sequence that differs, an erased
    /// record not known as deleted) is corruption, and the caller rebuilds.
    /// Checksums are left to the lookups, as upstream.
    fn index_cache_buf(&mut self, buf: Vec<u8>) -> Result<(), ()> {
        let (mb_first, mb_last) = (self.first.seq, self.last.seq);
        if mb_first > mb_last.wrapping_add(1) {
            return Err(());
        }
        let idx_sz = mb_last.wrapping_sub(mb_first).wrapping_add(1);
        let mut idx: Vec<u32> = Vec::new();
        let (mut first, mut last) = (0u64, 0u64);
        let lbuf = buf.len();
        let mut index = 0usize;
        while index < lbuf {
            if index + MSG_HDR_SIZE > lbuf {
                return Err(());
            }
            let hdr = RecordHeader::read(&buf[index..]);
            hdr.sane(index, lbuf).map_err(|_| ())?;
            let rl = hdr.rl as usize;
            if hdr.raw_seq & TBIT != 0 {
                index += rl;
                continue;
            }
            let erased = hdr.raw_seq & EBIT != 0;
            let seq = hdr.raw_seq & !EBIT;
            if seq <= last {
                index += rl;
                continue;
            }
            if seq >= mb_first {
                last = seq;
                if first == 0 {
                    first = seq;
                    if mb_first != first {
                        return Err(());
                    }
                }
                let slot = seq - mb_first;
                if slot != idx.len() as u64 {
                    if slot - idx.len() as u64 > MAX_SEQ_GAP {
                        return Err(());
                    }
                    let mut d = mb_first + idx.len() as u64;
                    while d < seq {
                        idx.push(DBIT);
                        if d != 0 {
                            self.dmap.insert(d);
                        }
                        d += 1;
                    }
                }
                idx.push(index as u32);
                if erased && seq != 0 && !self.dmap.contains(&seq) {
                    return Err(());
                }
            }
            index += rl;
        }
        if idx.len() as u64 != idx_sz || (first > 0 && mb_first != first) || (last > 0 && mb_last != last) {
            return Err(());
        }
        self.cache = Some(Cache { buf, idx, fseq: mb_first });
        Ok(())
    }

    /// Port of (*msgBlock).cacheAlreadyLoaded
    fn cache_already_loaded(&self) -> bool {
        let Some(c) = &self.cache else { return false };
        if c.fseq == 0 || c.buf.is_empty() {
            return false;
        }
        let n = self.msgs.wrapping_add(self.dmap.len() as u64).wrapping_add(self.first.seq.wrapping_sub(c.fseq));
        n == c.idx.len() as u64
    }

    /// Port of (*msgBlock).loadMsgsWithLock
    ///
    /// Loads the record index if it is not current. A block found corrupt is
    /// rebuilt from its records and loaded again; the store's state rebuild
    /// that upstream starts in the background is queued for the store.
    pub fn load_msgs(&mut self) -> Result<(), LoadError> {
        for _ in 0..MAX_LOAD_CHECKS {
            if self.cache_already_loaded() {
                return Ok(());
            }
            let buf = decompress_if_needed(&self.file)?;
            if self.index_cache_buf(buf).is_ok() {
                return Ok(());
            }
            let rebuilt = self.rebuild_state();
            self.pending_fs_rebuilds.push(rebuilt.as_ref().ok().and_then(|r| r.lost.clone()));
            rebuilt?;
        }
        Err(LoadError::NoCache)
    }

    /// Port of (*msgBlock).slotInfo
    ///
    /// Offset and length of the record in `slot`, and whether its checksum
    /// was already verified.
    fn slot_info(&self, slot: u64) -> Result<(u32, u32, bool), LoadError> {
        let c = self.cache.as_ref().ok_or(LoadError::NoCache)?;
        let bi = *c.idx.get(slot as usize).ok_or(LoadError::PartialCache)?;
        if bi == DBIT {
            return Err(LoadError::Deleted);
        }
        let (ri, checked) = (bi & !CBIT, bi & CBIT != 0);
        let next = c.idx[slot as usize + 1..].iter().map(|&n| n & !CBIT).find(|&n| n != DBIT);
        let rl = match next.map(|n| n.wrapping_sub(ri)) {
            Some(rl) if rl != 0 => rl,
            _ => (c.buf.len() as u32).wrapping_sub(ri),
        };
        if (rl as usize) < MSG_HDR_SIZE {
            return Err(LoadError::ShortSlot { file: self.file_name(), slot });
        }
        Ok((ri, rl, checked))
    }

    /// Port of (*msgBlock).cacheLookupEx
    ///
    /// Reads `seq` from the loaded record index, verifying the record's
    /// checksum the first time it is read.
    pub fn cache_lookup(&mut self, seq: u64) -> Result<StoreMsg, LoadError> {
        let (fseq, lseq) = (self.first.seq, self.last.seq);
        if lseq == fseq.wrapping_sub(1) || seq < fseq || seq > lseq {
            return Err(LoadError::NotFound);
        }
        if self.dmap.contains(&seq) {
            return Err(LoadError::Deleted);
        }
        let c = match &self.cache {
            Some(c) if c.fseq != 0 && !c.idx.is_empty() && !c.buf.is_empty() => c,
            _ => return Err(LoadError::NoCache),
        };
        if seq < c.fseq {
            return Err(LoadError::PartialCache);
        }
        let slot = seq - c.fseq;
        let (ri, _, checked) = self.slot_info(slot)?;
        let c = self.cache.as_ref().ok_or(LoadError::NoCache)?;
        let li = ri as usize;
        if li >= c.buf.len() {
            return Err(LoadError::PartialCache);
        }
        let hasher = (!checked).then_some(&self.hasher);
        let sm = msg_from_buf(&c.buf[li..], hasher).map_err(|reason| LoadError::BadMsg { file: self.file_name(), reason })?;
        if sm.seq == 0 {
            return Err(LoadError::Deleted);
        }
        if sm.seq != seq {
            self.cache = None;
            return Err(LoadError::SeqMismatch { want: seq, got: sm.seq });
        }
        if let Some(c) = self.cache.as_mut() {
            c.idx[slot as usize] = ri | CBIT;
        }
        Ok(sm)
    }

    /// Port of (*msgBlock).fetchMsgEx
    ///
    /// Reads `seq`, loading the record index first when needed.
    pub fn fetch_msg(&mut self, seq: u64) -> Result<StoreMsg, LoadError> {
        if seq < self.first.seq || seq > self.last.seq {
            return Err(LoadError::NotFound);
        }
        if self.dmap.contains(&seq) {
            return Err(LoadError::Deleted);
        }
        if !self.cache_already_loaded() {
            self.load_msgs()?;
        }
        self.cache_lookup(seq)
    }

    /// The effects of (*msgBlock).truncate on the block held in memory
    ///
    /// Drops every message above `tseq` and cuts the file after `tseq`'s
    /// record; returns the messages and bytes removed. `tseq` must be a
    /// sequence of this block with a record. Nothing is written.
    pub fn truncate_after(&mut self, tseq: u64, ts: i64) -> Result<(u64, u64), LoadError> {
        if !self.cache_already_loaded() {
            self.load_msgs()?;
        }
        let fseq = self.cache.as_ref().map_or(0, |c| c.fseq);
        let (ri, rl, _) = self.slot_info(tseq.wrapping_sub(fseq))?;
        let eof = ri as usize + rl as usize;
        let (mut purged, mut bytes) = (0u64, 0u64);
        let mut seq = self.last.seq;
        while seq > tseq {
            if !self.dmap.remove(&seq) {
                if let Ok(m) = self.cache_lookup(seq) {
                    if self.msgs > 0 {
                        let rl = super::record::file_store_msg_size_raw(m.subj.len(), m.hdr.len(), m.msg.len()).min(self.bytes);
                        self.msgs -= 1;
                        self.bytes -= rl;
                        purged += 1;
                        bytes += rl;
                    }
                }
            }
            seq -= 1;
        }
        let mut buf = decompress_if_needed(&self.file)?;
        buf.truncate(eof);
        if buf.len() >= CHECKSUM_SIZE {
            self.lchk.copy_from_slice(&buf[buf.len() - CHECKSUM_SIZE..]);
        }
        self.file = buf;
        self.rbytes = self.file.len() as u64;
        self.last = MsgId { seq: tseq, ts };
        self.cache = None;
        Ok((purged, bytes))
    }

    /// Port of (*msgBlock).selectNextFirst
    ///
    /// Moves the first sequence past deleted ones (dropping them from the
    /// delete map) and takes the new first message's timestamp.
    pub fn select_next_first(&mut self) {
        let (fseq, lseq) = (self.first.seq, self.last.seq);
        let mut seq = fseq.wrapping_add(1);
        while seq <= lseq && self.dmap.remove(&seq) {
            seq += 1;
        }
        self.first.seq = seq;
        if seq > lseq {
            self.first.ts = 0;
            return;
        }
        let sm = match self.cache_lookup(seq) {
            Ok(sm) => Some(sm),
            Err(_) => self.fetch_msg(seq).ok(),
        };
        self.first.ts = sm.map_or(0, |m| m.ts);
    }

    /// Port of (*msgBlock).numPriorTombsLocked
    ///
    /// Tombstones in this block for sequences below its first message and
    /// not below the store's first sequence.
    pub fn num_prior_tombs(&mut self, store_first_seq: u64) -> usize {
        if !self.cache_already_loaded() && self.load_msgs().is_err() {
            return 0;
        }
        let Some(c) = &self.cache else { return 0 };
        let buf = &c.buf;
        let (mut fseq, mut tombs, mut index) = (0u64, 0usize, 0usize);
        while index < buf.len() {
            if index + MSG_HDR_SIZE > buf.len() {
                return tombs;
            }
            let hdr = RecordHeader::read(&buf[index..]);
            let seq = hdr.raw_seq;
            if seq & TBIT != 0 {
                let seq = seq & !TBIT;
                if seq >= store_first_seq && (fseq == 0 || seq < fseq) {
                    tombs += 1;
                }
            } else if seq != 0 && seq & EBIT == 0 && fseq == 0 {
                fseq = seq;
            }
            if hdr.rl == 0 {
                // Upstream would loop here for ever; a zero length cannot
                // reach this point through a loaded index.
                return tombs;
            }
            index += hdr.rl as usize;
        }
        tombs
    }
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;
