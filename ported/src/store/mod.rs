//! JetStream's stream store (`server/store.go` at 8188ea93a): the
//! [`StreamStore`] interface every stream writes through, the state types it
//! reports, the binary stream-state snapshot a replicated stream sends its
//! followers, and [`MemStore`], the port of `server/memstore.go`.
//!
//! Differences from upstream, all deliberate:
//! - Time comes from an injected [`StoreClock`] (the simulator's clock in
//!   `sim`, a manual clock in tests), never from the host.
//! - Upstream's timers (`time.AfterFunc` for age expiry) become a deadline
//!   the owner reads with [`StreamStore::age_check_deadline`] and fires with
//!   [`StreamStore::fire_age_check`], as the monitors' timers do.
//! - Per-message TTLs, message scheduling, subject-delete markers and the
//!   storage callbacks are not ported (no batch-33 path sets them);
//!   [`StoreConfig`] has no fields for them, so they cannot be asked for.
//! - The per-subject state lives in a `BTreeMap` instead of upstream's
//!   subject tree (`stree`); matching visits subjects in sorted order, which
//!   none of the callers depends on.
//! - A file-backed store for restarts is not here yet: streams on the
//!   simulator keep their messages in memory, and a restarted replica
//!   catches up through raft.

pub mod avl;
pub mod memstore;
pub mod state;
pub mod subject;

pub use avl::SequenceSet;
pub use memstore::MemStore;
pub use state::{decode_stream_state, DeleteBlock, StreamReplicatedState};

use std::collections::BTreeMap;
use std::rc::Rc;

/// Where a stream keeps its messages (Go's `StorageType`, same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageType {
    File = 22,
    #[default]
    Memory = 33,
}

/// What happens at a limit (Go's `DiscardPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiscardPolicy {
    /// Remove the oldest messages.
    #[default]
    Old,
    /// Refuse the new message.
    New,
}

/// The part of a stream's configuration a store reads (Go's `StreamConfig`
/// fields of the same names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreConfig {
    pub name: String,
    pub subjects: Vec<String>,
    pub storage: StorageType,
    /// 0 or negative: unlimited.
    pub max_msgs: i64,
    /// 0 or negative: unlimited.
    pub max_bytes: i64,
    /// Nanoseconds; 0: unlimited.
    pub max_age: i64,
    /// Per-subject message limit; 0 or negative: unlimited.
    pub max_msgs_per: i64,
    pub discard: DiscardPolicy,
    /// With [`DiscardPolicy::New`], refuse at the per-subject limit too.
    pub discard_new_per: bool,
    /// The first sequence of a new stream; 0 means 1.
    pub first_seq: u64,
}

/// Errors of the store (Go's `Err*` in store.go; same messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("store is closed")]
    Closed,
    #[error("no message found")]
    MsgNotFound,
    #[error("stream store EOF")]
    Eof,
    #[error("maximum messages exceeded")]
    MaxMsgs,
    #[error("maximum bytes exceeded")]
    MaxBytes,
    #[error("maximum messages per subject exceeded")]
    MaxMsgsPerSubject,
    #[error("expected sequence does not match store")]
    SequenceMismatch,
    #[error("stream state snapshot is corrupt")]
    CorruptStreamState,
    #[error("bad stream state encoding")]
    BadStreamStateEncoding,
    #[error("too many matching results for request")]
    TooManyResults,
    #[error("config required")]
    ConfigRequired,
    #[error("memStore requires memory storage type in config")]
    WrongStorage,
    #[error("partial purges not supported on memory store")]
    PartialPurge,
}

/// A stored message (Go's `StoreMsg`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreMsg {
    pub subj: String,
    pub hdr: Vec<u8>,
    pub msg: Vec<u8>,
    pub seq: u64,
    /// Unix nanoseconds.
    pub ts: i64,
}

/// Messages lost on recovery (Go's `LostStreamData`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LostStreamData {
    pub msgs: Vec<u64>,
    pub bytes: u64,
}

/// A stream's state (Go's `StreamState`). Times are Unix nanoseconds; 0 is
/// Go's zero `time.Time`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamState {
    pub msgs: u64,
    pub bytes: u64,
    pub first_seq: u64,
    pub first_time: i64,
    pub last_seq: u64,
    pub last_time: i64,
    pub num_subjects: usize,
    pub subjects: Option<BTreeMap<String, u64>>,
    pub num_deleted: usize,
    pub deleted: Vec<u64>,
    pub lost: Option<LostStreamData>,
    pub consumers: usize,
}

/// State of the messages of one subject or filter (Go's `SimpleState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimpleState {
    pub msgs: u64,
    pub first: u64,
    pub last: u64,
    /// `first` is stale and must be recomputed before use.
    pub(crate) first_needs_update: bool,
    /// `last` is stale and must be recomputed before use.
    pub(crate) last_needs_update: bool,
}

impl SimpleState {
    /// A state with the given counts and no pending recalculation.
    pub fn new(msgs: u64, first: u64, last: u64) -> Self {
        SimpleState { msgs, first, last, first_needs_update: false, last_needs_update: false }
    }
}

/// The clock a store stamps messages with: Unix nanoseconds.
pub type StoreClock = Rc<dyn Fn() -> i64>;

/// Port of store.go's `StreamStore` interface, the methods the port uses.
pub trait StreamStore {
    /// Go: `StoreMsg(subject, hdr, msg, ttl)`: next sequence, now.
    fn store_msg(&mut self, subj: &str, hdr: &[u8], msg: &[u8]) -> Result<(u64, i64), StoreError>;
    /// Go: `StoreRawMsg(subject, hdr, msg, seq, ts, ttl, discardNewCheck)`.
    fn store_raw_msg(&mut self, subj: &str, hdr: &[u8], msg: &[u8], seq: u64, ts: i64, discard_new_check: bool) -> Result<(), StoreError>;
    /// Go: `SkipMsg(seq)`.
    fn skip_msg(&mut self, seq: u64) -> Result<u64, StoreError>;
    /// Go: `SkipMsgs(seq, num)`.
    fn skip_msgs(&mut self, seq: u64, num: u64) -> Result<(), StoreError>;
    /// Go: `LoadMsg(seq, nil)`.
    fn load_msg(&self, seq: u64) -> Result<StoreMsg, StoreError>;
    /// Go: `LoadNextMsg(filter, wc, start, nil)`: the message and its sequence.
    fn load_next_msg(&mut self, filter: &str, wc: bool, start: u64) -> Result<(StoreMsg, u64), (StoreError, u64)>;
    /// Go: `LoadLastMsg(subject, nil)`.
    fn load_last_msg(&mut self, subject: &str) -> Result<StoreMsg, StoreError>;
    /// Go: `RemoveMsg(seq)`.
    fn remove_msg(&mut self, seq: u64) -> Result<bool, StoreError>;
    /// Go: `EraseMsg(seq)`.
    fn erase_msg(&mut self, seq: u64) -> Result<bool, StoreError>;
    /// Go: `Purge()`.
    fn purge(&mut self) -> Result<u64, StoreError>;
    /// Go: `PurgeEx(subject, seq, keep)`.
    fn purge_ex(&mut self, subject: &str, seq: u64, keep: u64) -> Result<u64, StoreError>;
    /// Go: `Compact(seq)`.
    fn compact(&mut self, seq: u64) -> Result<u64, StoreError>;
    /// Go: `Truncate(seq)`.
    fn truncate(&mut self, seq: u64) -> Result<(), StoreError>;
    /// Go: `GetSeqFromTime(t)`, `t` in Unix nanoseconds.
    fn get_seq_from_time(&self, ts: i64) -> u64;
    /// Go: `FilteredState(seq, subject)`.
    fn filtered_state(&mut self, seq: u64, subject: &str) -> SimpleState;
    /// Go: `SubjectsState(filterSubject)`.
    fn subjects_state(&mut self, filter: &str) -> BTreeMap<String, SimpleState>;
    /// Go: `SubjectsTotals(filterSubject)`.
    fn subjects_totals(&mut self, filter: &str) -> BTreeMap<String, u64>;
    /// Go: `AllLastSeqs()`.
    fn all_last_seqs(&mut self) -> Vec<u64>;
    /// Go: `MultiLastSeqs(filters, maxSeq, maxAllowed)`.
    fn multi_last_seqs(&mut self, filters: &[&str], max_seq: u64, max_allowed: i64) -> Result<Vec<u64>, StoreError>;
    /// Go: `SubjectForSeq(seq)`.
    fn subject_for_seq(&self, seq: u64) -> Result<String, StoreError>;
    /// Go: `NumPending(sseq, filter, lastPerSubject)`: (total, valid through).
    fn num_pending(&mut self, sseq: u64, filter: &str, last_per_subject: bool) -> (u64, u64);
    /// Go: `State()`.
    fn state(&mut self) -> StreamState;
    /// Go: `FastState(&state)`.
    fn fast_state(&self, state: &mut StreamState);
    /// Go: `EncodedStreamState(failed)`.
    fn encoded_stream_state(&self, failed: u64) -> Vec<u8>;
    /// Go: `SyncDeleted(dbs)`.
    fn sync_deleted(&mut self, dbs: &[DeleteBlock]);
    /// Go: `Type()`.
    fn storage_type(&self) -> StorageType;
    /// Go: `UpdateConfig(cfg)`.
    fn update_config(&mut self, cfg: &StoreConfig) -> Result<(), StoreError>;
    /// Go: `Stop()`.
    fn stop(&mut self);
    /// Go: `Delete(inline)`.
    fn delete(&mut self);
    /// Go: `AddConsumer(o)`: counts a consumer.
    fn add_consumer(&mut self);
    /// Go: `RemoveConsumer(o)`.
    fn remove_consumer(&mut self);
    /// Go: `Utilization()`: (total, reported).
    fn utilization(&self) -> (u64, u64);
    /// Go: `FlushAllPending()`.
    fn flush_all_pending(&mut self) {}
    /// When upstream's age-check timer would fire (Unix nanoseconds).
    fn age_check_deadline(&self) -> Option<i64>;
    /// Runs what upstream's age-check timer runs (`expireMsgs`).
    fn fire_age_check(&mut self);
}
