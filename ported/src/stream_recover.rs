//! Recovering a clustered stream's state from what a real server left on
//! disk, the way the server rebuilds it at startup: its stream store (for a
//! file-backed stream, `<store_dir>/jetstream/<account>/streams/<name>/msgs`)
//! is opened first, then the stream's raft group
//! (`<store_dir>/jetstream/<system account>/_js_/<group>/`) is started
//! offline ([`crate::raft_log`]) and everything its log shows committed —
//! the latest stream snapshot first, then the message, delete and purge
//! entries after it — goes through the ported apply path
//! ([`JetStreamCtx::apply_stream_entries`], recovering) onto the store.
//!
//! What is Go's format and what is a stand-in:
//! - Read in Go's format: the raft group's WAL (a filestore: `msgs/<n>.blk`
//!   records and `<n>.idx` files, [`crate::filestore`]), its snapshot file
//!   (`snapshots/snap.<term>.<index>`, the stream snapshot inside in
//!   2.9.10's legacy JSON or 8188ea93a's binary encoding), `peers.idx`,
//!   `tav.idx`, the stream store's message blocks (same filestore read
//!   path) and the stream config (`meta.inf` of the stream store, or the
//!   meta group's assignment).
//! - Stand-in: the stream's messages are replayed into the port of
//!   `memstore.go` ([`MemStore`]), because filestore's write path is not
//!   ported. Only the byte count depends on which store holds the
//!   messages; for a file-backed stream [`StreamRecovery::bytes`] counts
//!   them as filestore does (`fileStoreMsgSize`), so it matches what the
//!   server reports.
//! - Message-id dedupe (`processJetStreamMsg`'s `checkMsgId`,
//!   `rebuildDedupe`, `storeMsgIdLocked` of `server/stream.go`): 2.9.10
//!   replicates a resent `Nats-Msg-Id` and every replica drops it on apply,
//!   counting it as a failed proposal (CLFS). The port's apply path follows
//!   8188ea93a, whose replicas only record ids (the leader dedupes before
//!   proposing), so the replay here adds 2.9.10's drop on top of the
//!   replica's own map ([`StreamReplica::dedupe`]), seeded from the store's
//!   messages. Deliberate difference:
//!   the window is measured against the entry's own timestamp instead of
//!   the wall clock of a purge timer, so a replay long after the fact
//!   drops what the server dropped then. Inside 8188ea93a's atomic batches
//!   (ops 16/17; 2.9.10 has none) no dedupe is applied.
//! - Not modelled: age expiry (the store's age timer never fires here, as
//!   nothing runs after the replay) and consumers.
//!
//! A raft group of a memory-backed stream keeps its log in memory, so only
//! its snapshot (and `peers.idx`, `tav.idx`) is on disk; a snapshot ahead of
//! the store means the server would catch up from a peer
//! ([`StreamRecovery::catchup`]), which an offline replay cannot do.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::Value;

use crate::filestore::{FileStore, LoadError, StoreError as FileStoreError, StoreEvent, StoreFiles};
use crate::jetstream_cluster::stream_apply::{ApplyError, StreamReplica};
use crate::jetstream_cluster::js::JetStreamCtx;
use crate::jetstream_cluster::ops::EntryOp;
use crate::jetstream_cluster::stream_ops::decode_msg_op;
use crate::raft::wire::EntryType;
use crate::raft::CommittedEntry;
use crate::raft_log::{recover_raft_dir, RaftDirFiles, RaftLogError, RaftRecovery};
use crate::store::{DiscardPolicy, MemStore, StorageType, StoreConfig, StoreError, StreamState, StreamStore};

/// Why a stream cannot be recovered.
#[derive(Debug, thiserror::Error)]
pub enum StreamRecoverError {
    /// The stream configuration is missing a field or has a bad value.
    #[error("stream config: {0}")]
    Config(String),
    /// The stream store's files cannot be opened.
    #[error("stream store: {0}")]
    Store(#[from] FileStoreError),
    /// A message of the stream store cannot be read or stored.
    #[error("stream store: sequence {seq}: {reason}")]
    StoreMsg {
        /// The message's sequence.
        seq: u64,
        /// What went wrong.
        reason: String,
    },
    /// The raft group's directory cannot be recovered.
    #[error("raft group: {0}")]
    Raft(#[from] RaftLogError),
    /// A committed entry does not apply (upstream stops the stream or panics).
    #[error("raft group: entry at index {index}: {source}")]
    Apply {
        /// Log index of the committed batch.
        index: u64,
        /// Why.
        source: ApplyError,
    },
}

/// Port of fileStoreMsgSize (2.9.10 and 8188ea93a agree): the bytes one
/// message counts for in a file store, record header and checksum included.
pub fn file_store_msg_size(subj: &str, hdr: &[u8], msg: &[u8]) -> u64 {
    if hdr.is_empty() {
        (22 + subj.len() + msg.len() + 8) as u64
    } else {
        (22 + subj.len() + 4 + hdr.len() + msg.len() + 8) as u64
    }
}

fn int_field(cfg: &Value, key: &str) -> Result<i64, StreamRecoverError> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_i64().ok_or_else(|| StreamRecoverError::Config(format!("{key}: not an integer: {v}"))),
    }
}

/// The store configuration of a stream config as nats-server encodes it
/// (the `StreamConfig` JSON of an assignment or of a stream store's
/// `meta.inf`).
pub fn store_config_from_json(cfg: &Value) -> Result<StoreConfig, StreamRecoverError> {
    let obj = cfg.as_object().ok_or_else(|| StreamRecoverError::Config(format!("not a JSON object: {cfg}")))?;
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        other => return Err(StreamRecoverError::Config(format!("name: missing or not a non-empty string: {other:?}"))),
    };
    let subjects = match obj.get("subjects") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| s.as_str().map(str::to_string).ok_or_else(|| StreamRecoverError::Config(format!("subjects: not a string: {s}"))))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(StreamRecoverError::Config(format!("subjects: not a list: {v}"))),
    };
    let storage = match obj.get("storage").and_then(Value::as_str) {
        Some("file") => StorageType::File,
        Some("memory") => StorageType::Memory,
        _ => return Err(StreamRecoverError::Config(format!("storage: not \"file\" or \"memory\": {:?}", obj.get("storage")))),
    };
    let discard = match obj.get("discard").and_then(Value::as_str) {
        None | Some("old") => DiscardPolicy::Old,
        Some("new") => DiscardPolicy::New,
        Some(other) => return Err(StreamRecoverError::Config(format!("discard: not \"old\" or \"new\": {other:?}"))),
    };
    let first_seq = int_field(cfg, "first_seq")?;
    Ok(StoreConfig {
        name,
        subjects,
        storage,
        max_msgs: int_field(cfg, "max_msgs")?,
        max_bytes: int_field(cfg, "max_bytes")?,
        max_age: int_field(cfg, "max_age")?,
        max_msgs_per: int_field(cfg, "max_msgs_per_subject")?,
        discard,
        discard_new_per: obj.get("discard_new_per_subject").and_then(Value::as_bool).unwrap_or(false),
        first_seq: u64::try_from(first_seq).map_err(|_| StreamRecoverError::Config(format!("first_seq: negative: {first_seq}")))?,
    })
}

pub use crate::jetstream_cluster::dedupe::{Dedupe, JS_MSG_ID, STREAM_DEFAULT_DUPLICATES};

/// A stream's configuration as recovery needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    /// What the store enforces.
    pub store: StoreConfig,
    /// The dedupe window, nanoseconds.
    pub duplicates: i64,
}

/// [`store_config_from_json`] plus the dedupe window (`duplicate_window`,
/// defaulted as `checkStreamCfg` does).
pub fn stream_spec_from_json(cfg: &Value) -> Result<StreamSpec, StreamRecoverError> {
    let store = store_config_from_json(cfg)?;
    let dw = int_field(cfg, "duplicate_window")?;
    if dw < 0 {
        return Err(StreamRecoverError::Config(format!("duplicate_window: negative: {dw}")));
    }
    Ok(StreamSpec { store, duplicates: if dw == 0 { STREAM_DEFAULT_DUPLICATES } else { dw } })
}


/// What the stream store held before the raft group replayed.
#[derive(Debug, Clone)]
pub struct StoreLoad {
    /// The store's state as recovered from its files.
    pub state: crate::filestore::StreamState,
    /// Messages loaded.
    pub loaded: u64,
    /// What recovering its files did.
    pub events: Vec<StoreEvent>,
    /// Sequences its recovery found lost.
    pub lost: Vec<u64>,
}

/// The recovered stream.
#[derive(Debug)]
pub struct StreamRecovery {
    /// The stream's configuration as the store saw it.
    pub config: StoreConfig,
    /// The stream store, when one was read.
    pub store: Option<StoreLoad>,
    /// The raft group's replay, when there is a raft group.
    pub raft: Option<RaftRecovery>,
    /// Committed batches applied.
    pub applied: usize,
    /// Replicated messages dropped as duplicates (each a failed proposal).
    pub duplicates: u64,
    /// The stream after the replay.
    pub replica: StreamReplica,
    /// Set when the snapshot is ahead of the store: the sequences a server
    /// would fetch from a peer (first, last).
    pub catchup: Option<(u64, u64)>,
    /// A bad snapshot made the stream reset its clustered state.
    pub reset: Option<String>,
}

/// One remaining message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredMsg {
    pub seq: u64,
    pub subject: String,
    pub ts: i64,
    /// Header bytes.
    pub hdr: Vec<u8>,
    /// Payload bytes.
    pub msg: Vec<u8>,
}

impl StreamRecovery {
    /// The replayed store's state.
    pub fn state(&mut self) -> StreamState {
        self.replica.store.state()
    }

    /// Every remaining message, by sequence.
    pub fn messages(&self) -> Vec<RecoveredMsg> {
        let mut st = StreamState::default();
        self.replica.store.fast_state(&mut st);
        let mut out = Vec::new();
        if st.msgs == 0 {
            return out;
        }
        for seq in st.first_seq..=st.last_seq {
            if let Ok(m) = self.replica.store.load_msg(seq) {
                out.push(RecoveredMsg { seq, subject: m.subj, ts: m.ts, hdr: m.hdr, msg: m.msg });
            }
        }
        out
    }

    /// The stream's bytes as its own storage type counts them.
    pub fn bytes(&mut self) -> u64 {
        match self.config.storage {
            StorageType::Memory => self.state().bytes,
            StorageType::File => self.messages().iter().map(|m| file_store_msg_size(&m.subject, &m.hdr, &m.msg)).sum(),
        }
    }

    /// Messages per subject.
    pub fn subjects(&mut self) -> BTreeMap<String, u64> {
        self.replica.store.subjects_totals(">")
    }
}

/// Opens a stream store's files and copies every live message, at its
/// sequence and time, into `store`; gaps become deleted sequences.
pub fn load_stream_store(name: &str, files: &StoreFiles, store: &mut MemStore, now: &Cell<i64>) -> Result<StoreLoad, StreamRecoverError> {
    let mut fs = FileStore::recover(name, files)?;
    let state = fs.state();
    let lost = fs.lost_data().map(|l| l.msgs.clone()).unwrap_or_default();
    let mut loaded = 0;
    let mut next = 1u64;
    if state.msgs > 0 || state.last_seq > 0 {
        let first = state.first_seq.max(1);
        for seq in first..=state.last_seq {
            let m = match fs.load_msg(seq) {
                Ok(m) => m,
                Err(LoadError::NotFound | LoadError::Deleted) => continue,
                Err(e) => return Err(StreamRecoverError::StoreMsg { seq, reason: e.to_string() }),
            };
            let subj = String::from_utf8(m.subj).map_err(|_| StreamRecoverError::StoreMsg { seq, reason: "subject is not UTF-8".into() })?;
            let msg_err = |e: StoreError| StreamRecoverError::StoreMsg { seq, reason: e.to_string() };
            if seq > next {
                store.skip_msgs(next, seq - next).map_err(msg_err)?;
            }
            now.set(now.get().max(m.ts));
            store.store_raw_msg(&subj, &m.hdr, &m.msg, seq, m.ts, false).map_err(msg_err)?;
            loaded += 1;
            next = seq + 1;
        }
        // Deleted sequences at the end still count as used.
        if state.last_seq >= next {
            store.skip_msgs(next, state.last_seq + 1 - next).map_err(|e| StreamRecoverError::StoreMsg { seq: next, reason: e.to_string() })?;
        }
    }
    Ok(StoreLoad { state, loaded, events: fs.events().to_vec(), lost })
}

/// Recovers stream `name` of `account`: the stream store first (when
/// `store_files` is given), then the raft group `group` on `raft_files`
/// (when given), replayed onto it as a restarting server does.
pub fn recover_stream(
    account: &str,
    spec: &StreamSpec,
    store_files: Option<&StoreFiles>,
    raft: Option<(&str, &RaftDirFiles)>,
) -> Result<StreamRecovery, StreamRecoverError> {
    let config = &spec.store;
    let now = Rc::new(Cell::new(0i64));
    let clock_now = now.clone();
    // The memory store holds the messages whatever the stream's storage.
    let mem_cfg = StoreConfig { storage: StorageType::Memory, ..config.clone() };
    let mut store = MemStore::new(&mem_cfg, Rc::new(move || clock_now.get()))
        .map_err(|e| StreamRecoverError::Config(e.to_string()))?;
    let loaded = match store_files {
        Some(files) => Some(load_stream_store(&config.name, files, &mut store, &now)?),
        None => None,
    };
    let mut replica = StreamReplica::new(account, &config.name, store);
    replica.dedupe = Dedupe::new(spec.duplicates);
    let mut st = StreamState::default();
    replica.store.fast_state(&mut st);
    // The replay's clock is the entries' own time: "now" is the last message.
    replica.dedupe.rebuild(&replica.store, st.last_time);
    let mut applied = 0;
    let mut duplicates = 0;
    let mut catchup = None;
    let raft = match raft {
        Some((group, files)) => {
            let r = recover_raft_dir(group, files)?;
            let (js, _srv) = JetStreamCtx::offline("");
            for ce in &r.committed {
                match apply_with_dedupe(&js, &mut replica, &now, ce, &mut duplicates) {
                    Ok(()) => applied += 1,
                    // The store is behind the snapshot: a server asks a peer
                    // for the rest; the entries after it still apply on top
                    // once it has them, so the replay stops here.
                    Err(ApplyError::CatchupRequired { first, last }) => {
                        catchup = Some((first, last));
                        break;
                    }
                    Err(source) => return Err(StreamRecoverError::Apply { index: ce.index, source }),
                }
            }
            Some(r)
        }
        None => None,
    };
    let reset = replica.reset.clone();
    Ok(StreamRecovery { config: config.clone(), store: loaded, raft, applied, duplicates, replica, catchup, reset })
}

fn is_msg_op(op: u8) -> bool {
    op == EntryOp::StreamMsg as u8 || op == EntryOp::CompressedStreamMsg as u8
}

// One committed batch through the apply path, entry by entry so that the
// dedupe check of processJetStreamMsg (lseq in step, then the message id)
// sees each stored message; a batch with atomic-batch entries goes through
// whole.
fn apply_with_dedupe(
    js: &JetStreamCtx,
    mset: &mut StreamReplica,
    now: &Cell<i64>,
    ce: &CommittedEntry,
    duplicates: &mut u64,
) -> Result<(), ApplyError> {
    let batched = ce.entries.iter().any(|e| {
        e.typ == EntryType::Normal && e.data.first().is_some_and(|&op| op == EntryOp::BatchMsg as u8 || op == EntryOp::BatchCommitMsg as u8)
    });
    if batched {
        return js.apply_stream_entries(mset, ce, true).map(|_| ());
    }
    for e in &ce.entries {
        let msg = match e.data.split_first() {
            Some((&op, rest)) if e.typ == EntryType::Normal && is_msg_op(op) => Some(decode_msg_op(op, rest)?),
            _ => None,
        };
        if let Some(m) = &msg {
            now.set(now.get().max(m.ts));
            let (_, clfs) = mset.last_seq_and_clfs();
            if m.lseq > 0 && m.lseq == mset.lseq + clfs && mset.dedupe.is_duplicate(&m.hdr, m.ts) {
                mset.clfs += 1;
                *duplicates += 1;
                continue;
            }
        }
        // The apply path records the id of what it stores.
        js.apply_stream_entries(mset, &CommittedEntry { index: ce.index, entries: vec![e.clone()] }, true)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "stream_recover_tests.rs"]
mod tests;
