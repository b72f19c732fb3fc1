//! The raft write-ahead log as a pluggable store (Go's `WAL` interface over
//! a stream store): the store sequence of each message is its raft index.
//! Holds the trait and the in-memory implementation (memstore semantics).

use std::collections::BTreeMap;

use super::env::FsError;

/// Which kind of store backs the WAL (affects byte accounting only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    /// File-backed.
    File,
    /// In memory.
    Memory,
}

/// WAL errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalError {
    /// Sequence beyond the last one (Go: `ErrStoreEOF`).
    #[error("stream store EOF")]
    Eof,
    /// Sequence not present (Go: `ErrStoreMsgNotFound`).
    #[error("no message found")]
    NotFound,
    /// The store is stopped (Go: `ErrStoreClosed`).
    #[error("store is closed")]
    Closed,
    /// Disk failure.
    #[error("wal i/o: {0}")]
    Io(#[from] FsError),
}

/// Summary of the WAL contents (Go: `StreamState`, the fields raft reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalState {
    /// Number of messages.
    pub msgs: u64,
    /// Accounted bytes.
    pub bytes: u64,
    /// First sequence.
    pub first_seq: u64,
    /// Last sequence.
    pub last_seq: u64,
    /// Sequences between first and last that hold no message.
    pub num_deleted: u64,
}

/// The store raft logs to.
pub trait Wal {
    /// Storage kind.
    fn storage_type(&self) -> StorageType;
    /// Appends a message; returns its sequence.
    fn store_msg(&mut self, msg: &[u8]) -> Result<u64, WalError>;
    /// Loads the message at `seq`.
    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError>;
    /// Removes everything below `seq`; returns how many were removed.
    fn compact(&mut self, seq: u64) -> Result<u64, WalError>;
    /// Removes everything above `seq`; `0` resets the store.
    fn truncate(&mut self, seq: u64) -> Result<(), WalError>;
    /// Current state.
    fn state(&self) -> WalState;
    /// Makes everything stored durable (the filestore's sync timer); a
    /// no-op for stores with nothing to sync.
    fn sync(&mut self) -> Result<(), WalError> {
        Ok(())
    }
    /// Stops the store; later calls fail with [`WalError::Closed`].
    fn stop(&mut self);
    /// Deletes the store's data.
    fn delete(&mut self) -> Result<(), WalError>;
}

/// Accounted size of one stored message, as the Go stores compute it for a
/// message with an empty subject and no header.
pub fn msg_size(st: StorageType, len: usize) -> u64 {
    match st {
        // record length + seq + ts + subject length + payload + hash
        StorageType::File => (22 + len + 8) as u64,
        // payload + seq + timestamp
        StorageType::Memory => (len + 16) as u64,
    }
}

/// Sequence bookkeeping shared by the memory and file WALs; mirrors the
/// memstore rules for first/last sequence on store, compact and truncate.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeqLog {
    pub(crate) msgs: BTreeMap<u64, Vec<u8>>,
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) bytes: u64,
}

impl SeqLog {
    pub(crate) fn store(&mut self, st: StorageType, msg: &[u8]) -> u64 {
        let seq = self.last + 1;
        self.store_at(st, seq, msg);
        seq
    }

    pub(crate) fn load(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        match self.msgs.get(&seq) {
            Some(m) => Ok(m.clone()),
            None if seq <= self.last => Err(WalError::NotFound),
            None => Err(WalError::Eof),
        }
    }

    pub(crate) fn compact(&mut self, st: StorageType, seq: u64) -> u64 {
        if seq == 0 {
            let n = self.msgs.len() as u64;
            self.reset_keep_last();
            return n;
        }
        if self.first > seq {
            return 0;
        }
        if seq <= self.last {
            let keep = self.msgs.split_off(&seq);
            let removed = std::mem::replace(&mut self.msgs, keep);
            for m in removed.values() {
                self.bytes = self.bytes.saturating_sub(msg_size(st, m.len()));
            }
            self.first = self.msgs.keys().next().copied().unwrap_or(seq);
            removed.len() as u64
        } else {
            // Past the end: empty, and the next store gets `seq`.
            let n = self.msgs.len() as u64;
            self.msgs.clear();
            self.bytes = 0;
            self.first = seq;
            self.last = seq - 1;
            n
        }
    }

    fn reset_keep_last(&mut self) {
        self.msgs.clear();
        self.bytes = 0;
        self.first = self.last + 1;
    }

    pub(crate) fn truncate(&mut self, st: StorageType, seq: u64) {
        if seq == 0 {
            self.msgs.clear();
            self.bytes = 0;
            self.first = 0;
            self.last = 0;
            return;
        }
        let removed = self.msgs.split_off(&(seq + 1));
        for m in removed.values() {
            self.bytes = self.bytes.saturating_sub(msg_size(st, m.len()));
        }
        self.last = seq;
    }

    /// Removes one message; the first sequence moves past it (to `last + 1`
    /// when nothing is left), the last sequence stays.
    pub(crate) fn remove(&mut self, st: StorageType, seq: u64) -> bool {
        let Some(m) = self.msgs.remove(&seq) else { return false };
        self.bytes = self.bytes.saturating_sub(msg_size(st, m.len()));
        if seq == self.first {
            self.first = self.msgs.keys().next().copied().unwrap_or(self.last + 1);
        }
        true
    }

    /// Stores `msg` at `seq`, past the last sequence (a gap is kept as
    /// deleted sequences).
    pub(crate) fn store_at(&mut self, st: StorageType, seq: u64, msg: &[u8]) {
        if self.msgs.is_empty() {
            self.first = seq;
        }
        self.msgs.insert(seq, msg.to_vec());
        self.last = seq;
        self.bytes += msg_size(st, msg.len());
    }

    pub(crate) fn state(&self) -> WalState {
        let msgs = self.msgs.len() as u64;
        let span = if msgs == 0 { 0 } else { self.last + 1 - self.first };
        WalState { msgs, bytes: self.bytes, first_seq: self.first, last_seq: self.last, num_deleted: span.saturating_sub(msgs) }
    }
}

/// In-memory WAL (Go: memstore). Its contents do not survive a restart.
#[derive(Debug, Default)]
pub struct MemWal {
    log: SeqLog,
    stopped: bool,
}

impl MemWal {
    /// An empty store.
    pub fn new() -> Self {
        MemWal::default()
    }
}

impl Wal for MemWal {
    fn storage_type(&self) -> StorageType {
        StorageType::Memory
    }

    fn store_msg(&mut self, msg: &[u8]) -> Result<u64, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        Ok(self.log.store(StorageType::Memory, msg))
    }

    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        self.log.load(seq)
    }

    fn compact(&mut self, seq: u64) -> Result<u64, WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        Ok(self.log.compact(StorageType::Memory, seq))
    }

    fn truncate(&mut self, seq: u64) -> Result<(), WalError> {
        if self.stopped {
            return Err(WalError::Closed);
        }
        self.log.truncate(StorageType::Memory, seq);
        Ok(())
    }

    fn state(&self) -> WalState {
        self.log.state()
    }

    fn stop(&mut self) {
        self.stopped = true;
    }

    fn delete(&mut self) -> Result<(), WalError> {
        self.log = SeqLog::default();
        self.stopped = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_follow_memstore_rules() {
        let mut w = MemWal::new();
        assert_eq!(w.store_msg(b"a").unwrap(), 1);
        assert_eq!(w.store_msg(b"b").unwrap(), 2);
        assert_eq!(w.store_msg(b"c").unwrap(), 3);
        assert_eq!(w.load_msg(4), Err(WalError::Eof));
        w.compact(3).unwrap();
        assert_eq!(w.state().first_seq, 3);
        assert_eq!(w.load_msg(2), Err(WalError::NotFound));
        w.compact(10).unwrap();
        let st = w.state();
        assert_eq!((st.msgs, st.first_seq, st.last_seq), (0, 10, 9));
        assert_eq!(w.store_msg(b"d").unwrap(), 10);
        w.truncate(0).unwrap();
        assert_eq!(w.state(), WalState::default());
        assert_eq!(w.store_msg(b"e").unwrap(), 1);
        w.store_msg(b"f").unwrap();
        w.truncate(1).unwrap();
        assert_eq!(w.state().last_seq, 1);
        assert_eq!(w.state().bytes, msg_size(StorageType::Memory, 1));
    }
}
