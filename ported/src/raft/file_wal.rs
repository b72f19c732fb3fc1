//! A file-backed WAL on the injected file system: an append-only log of
//! checksummed records, recovered on open up to the first torn or corrupt
//! record. Compaction and truncation rewrite the file atomically.
//!
//! This is a small stand-in for Go's filestore, not a port of it: raft only
//! relies on the `WAL` contract (sequence = index, compact, truncate). What
//! it does keep of the filestore is what faults expose: appends are synced
//! at once only with `sync_always` (Go's `SyncAlways`), otherwise when the
//! host calls [`Wal::sync`] (the filestore's `SyncInterval` timer);
//! truncation syncs; loads read the record back from the disk, so a read
//! error or a damaged record surfaces as the error of that load; and a
//! failed sync is kept and returned by every later write, as the filestore
//! keeps its `werr`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::env::{join, Fs, FsError};
use super::wal::{SeqLog, StorageType, Wal, WalError, WalState};

const LOG_FILE: &str = "wal.log";
const KIND_MSG: u8 = 0;
const KIND_BASE: u8 = 1;
// len(4) + kind(1) + seq(8) + crc(4)
const RECORD_OVERHEAD: usize = 17;

/// File-backed WAL.
pub struct FileWal {
    fs: RefCell<Box<dyn Fs>>,
    dir: String,
    log: SeqLog,
    // Where each message's record sits in the file: (offset, length).
    offsets: BTreeMap<u64, (u64, usize)>,
    file_len: u64,
    sync_always: bool,
    // A failed sync, returned by every later write (the filestore's werr).
    werr: Option<WalError>,
    stopped: bool,
}

impl std::fmt::Debug for FileWal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWal").field("dir", &self.dir).field("state", &self.log.state()).finish()
    }
}

impl FileWal {
    /// Opens (or creates) the WAL in `dir`, recovering what is on disk.
    /// With `sync_always` every append is synced before it returns, so an
    /// acknowledged entry survives power loss; without it, only what a
    /// [`Wal::sync`] (or a rewrite) reached does.
    pub fn open(mut fs: Box<dyn Fs>, dir: &str, sync_always: bool) -> Result<FileWal, WalError> {
        fs.create_dir_all(dir)?;
        let path = join(dir, LOG_FILE);
        let buf = match fs.read(&path) {
            Ok(b) => b,
            Err(FsError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let (log, offsets, valid) = parse(&buf);
        let mut w = FileWal {
            fs: RefCell::new(fs),
            dir: dir.to_string(),
            log,
            offsets,
            file_len: valid as u64,
            sync_always,
            werr: None,
            stopped: false,
        };
        if valid != buf.len() {
            // Drop a torn or corrupt tail so later appends follow valid records.
            w.rewrite()?;
        }
        Ok(w)
    }

    /// Removes the message at `seq` (Go: `WAL.RemoveMsg` on the filestore),
    /// leaving a deleted sequence; raft itself never calls this.
    pub fn remove_msg(&mut self, seq: u64) -> Result<bool, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        if !self.log.remove(StorageType::File, seq) {
            return Ok(false);
        }
        self.rewrite()?;
        Ok(true)
    }

    fn path(&self) -> String {
        join(&self.dir, LOG_FILE)
    }

    fn check_writable(&self) -> Result<(), WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        match &self.werr {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn rewrite(&mut self) -> Result<(), WalError> {
        let mut buf = Vec::new();
        let mut last = Vec::with_capacity(8);
        last.extend_from_slice(&self.log.last.to_le_bytes());
        record(&mut buf, KIND_BASE, self.log.first, &last);
        let mut offsets = BTreeMap::new();
        for (seq, m) in &self.log.msgs {
            let at = buf.len();
            record(&mut buf, KIND_MSG, *seq, m);
            offsets.insert(*seq, (at as u64, buf.len() - at));
        }
        let path = self.path();
        self.fs.borrow_mut().write_sync(&path, &buf)?;
        self.offsets = offsets;
        self.file_len = buf.len() as u64;
        Ok(())
    }
}

fn record(buf: &mut Vec<u8>, kind: u8, seq: u64, payload: &[u8]) {
    let body_len = 1 + 8 + payload.len() + 4;
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    let start = buf.len();
    buf.push(kind);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(payload);
    let crc = crc32_ieee(0, &buf[start..]);
    buf.extend_from_slice(&crc.to_le_bytes());
}

// One record at the start of `buf`: (kind, seq, payload, record length), or
// `None` when it is torn or fails its checksum.
fn read_record(buf: &[u8]) -> Option<(u8, u64, &[u8], usize)> {
    if buf.len() < 4 {
        return None;
    }
    let body_len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if body_len < RECORD_OVERHEAD - 4 || 4 + body_len > buf.len() {
        return None;
    }
    let body = &buf[4..4 + body_len];
    let (content, crc) = body.split_at(body_len - 4);
    if crc32_ieee(0, content) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return None;
    }
    Some((content[0], super::wire::le_u64(&content[1..9]), &content[9..], 4 + body_len))
}

// Returns the recovered log, where each message's record is, and how many
// bytes of `buf` were valid. The base record carries the first sequence
// and, for an empty log, the last.
fn parse(buf: &[u8]) -> (SeqLog, BTreeMap<u64, (u64, usize)>, usize) {
    let mut log = SeqLog::default();
    let mut offsets = BTreeMap::new();
    let mut base_last = 0u64;
    let mut pos = 0usize;
    while let Some((kind, seq, payload, len)) = read_record(&buf[pos..]) {
        match kind {
            KIND_BASE if payload.len() == 8 => {
                log = SeqLog::default();
                offsets.clear();
                log.first = seq;
                log.last = seq.saturating_sub(1);
                base_last = super::wire::le_u64(payload);
            }
            // A gap is a removed message, kept as a deleted sequence.
            KIND_MSG if seq > log.last => {
                log.store_at(StorageType::File, seq, payload);
                offsets.insert(seq, (pos as u64, len));
            }
            _ => break,
        }
        pos += len;
    }
    // Removed messages at the tail do not roll the last sequence back.
    log.last = if log.msgs.is_empty() { base_last } else { log.last.max(base_last) };
    (log, offsets, pos)
}

impl Wal for FileWal {
    fn storage_type(&self) -> StorageType {
        StorageType::File
    }

    fn store_msg(&mut self, msg: &[u8]) -> Result<u64, WalError> {
        self.check_writable()?;
        let seq = self.log.last + 1;
        let mut buf = Vec::with_capacity(msg.len() + RECORD_OVERHEAD);
        record(&mut buf, KIND_MSG, seq, msg);
        let path = self.path();
        let mut fs = self.fs.borrow_mut();
        fs.append(&path, &buf)?;
        let at = self.file_len;
        self.file_len += buf.len() as u64;
        self.offsets.insert(seq, (at, buf.len()));
        let stored = self.log.store(StorageType::File, msg);
        if self.sync_always {
            // Written but not durable: the store fails, as the filestore's does.
            if let Err(e) = fs.sync(&path) {
                let e: WalError = e.into();
                self.werr = Some(e.clone());
                return Err(e);
            }
        }
        Ok(stored)
    }

    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        // Present and absent sequences as the index says; the bytes come
        // from the disk.
        self.log.load(seq)?;
        let Some(&(at, len)) = self.offsets.get(&seq) else { return Err(WalError::NotFound) };
        let path = self.path();
        let buf = self.fs.borrow_mut().read_at(&path, at, len)?;
        match read_record(&buf) {
            Some((KIND_MSG, s, payload, _)) if s == seq => Ok(payload.to_vec()),
            _ => Err(WalError::Io(FsError::Io(format!("{path}: record {seq} is damaged")))),
        }
    }

    fn compact(&mut self, seq: u64) -> Result<u64, WalError> {
        self.check_writable()?;
        let n = self.log.compact(StorageType::File, seq);
        self.rewrite()?;
        Ok(n)
    }

    fn truncate(&mut self, seq: u64) -> Result<(), WalError> {
        self.check_writable()?;
        self.log.truncate(StorageType::File, seq);
        // Like the filestore, an emptied store starts again after `seq`.
        if seq > 0 && self.log.msgs.is_empty() {
            self.log.first = seq + 1;
        }
        self.rewrite()
    }

    fn state(&self) -> WalState {
        self.log.state()
    }

    fn sync(&mut self) -> Result<(), WalError> {
        self.check_writable()?;
        let path = self.path();
        if let Err(e) = self.fs.borrow_mut().sync(&path) {
            let e: WalError = e.into();
            self.werr = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.stopped = true;
    }

    fn delete(&mut self) -> Result<(), WalError> {
        self.stopped = true;
        self.log = SeqLog::default();
        self.offsets.clear();
        let dir = self.dir.clone();
        self.fs.borrow_mut().remove_all(&dir)?;
        Ok(())
    }
}

// The byte-at-a-time table of the reflected IEEE polynomial.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE) continuing from `crc`; `crc32_ieee(0, data)` is the
/// checksum of `data`.
pub fn crc32_ieee(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_reference_value() {
        assert_eq!(crc32_ieee(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_ieee(crc32_ieee(0, b"1234"), b"56789"), 0xCBF4_3926);
    }

    #[test]
    fn rewritten_log_reopens_with_same_state() {
        for (first, msgs, last_if_empty) in [(1u64, 3u64, 0u64), (10, 2, 0), (7, 0, 6), (0, 0, 0), (5, 0, 3)] {
            let mut log = SeqLog { first, last: if msgs == 0 { last_if_empty } else { first - 1 }, ..Default::default() };
            for i in 0..msgs {
                log.msgs.insert(first + i, vec![i as u8]);
                log.last = first + i;
            }
            let mut buf = Vec::new();
            record(&mut buf, KIND_BASE, log.first, &log.last.to_le_bytes());
            for (seq, m) in &log.msgs {
                record(&mut buf, KIND_MSG, *seq, m);
            }
            let (got, _, valid) = parse(&buf);
            assert_eq!(valid, buf.len());
            assert_eq!((got.first, got.last, got.msgs.len() as u64), (log.first, log.last, msgs));
        }
    }

    #[test]
    fn parse_stops_at_torn_record() {
        let mut buf = Vec::new();
        record(&mut buf, KIND_BASE, 1, &0u64.to_le_bytes());
        record(&mut buf, KIND_MSG, 1, b"one");
        let good = buf.len();
        record(&mut buf, KIND_MSG, 2, b"two");
        for cut in good..buf.len() {
            let (log, _, valid) = parse(&buf[..cut]);
            assert_eq!(valid, good);
            assert_eq!(log.state().last_seq, 1);
        }
        let mut flipped = buf.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 1;
        assert_eq!(parse(&flipped).0.state().last_seq, 1);
    }
}

#[cfg(test)]
mod removal_tests {
    use super::*;
    use crate::sim::world::{SimFs, World};

    fn open(world: &std::rc::Rc<World>) -> FileWal {
        match FileWal::open(Box::new(SimFs::new(world.clone())), "/S-1/wal", true) {
            Ok(w) => w,
            Err(e) => panic!("open: {e}"),
        }
    }

    #[test]
    fn removed_messages_stay_deleted_across_reopen() {
        let world = World::new(1);
        let mut w = open(&world);
        for m in [b"a", b"b", b"c", b"d"] {
            w.store_msg(m).expect("store");
        }
        assert_eq!(w.remove_msg(2), Ok(true));
        assert_eq!(w.remove_msg(4), Ok(true));
        assert_eq!(w.remove_msg(4), Ok(false));
        let st = w.state();
        assert_eq!((st.msgs, st.first_seq, st.last_seq, st.num_deleted), (2, 1, 4, 2));

        let mut w = open(&world);
        assert_eq!(w.state(), st);
        assert_eq!(w.load_msg(2), Err(WalError::NotFound));
        assert_eq!(w.load_msg(3).expect("kept"), b"c".to_vec());
        assert_eq!(w.store_msg(b"e"), Ok(5));

        // Truncating below every message empties the store after `seq`.
        w.compact(5).expect("compact");
        w.truncate(3).expect("truncate");
        let st = w.state();
        assert_eq!((st.msgs, st.first_seq, st.last_seq), (0, 4, 3));
        assert_eq!(open(&world).state(), st);
    }
}
