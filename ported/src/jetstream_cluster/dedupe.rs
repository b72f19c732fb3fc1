//! A stream's message-id dedupe state (upstream's `ddmap` of
//! `server/stream.go` at 8188ea93a): the `Nats-Msg-Id` of each message
//! stored within the duplicate window, with its sequence and time.
//!
//! How 8188ea93a uses it in a clustered stream: the leader checks a
//! message's id against it before proposing (`checkMsgHeadersPreClusteredProposal`)
//! and stages the id with sequence 0 once the proposal is made
//! (`batchStagedDiff.commit`); every replica, leader or not, records the id
//! with its sequence when it applies the message (`processJetStreamMsg`),
//! so a new leader dedupes too. A replica does not drop a duplicate on
//! apply (that check runs only for non-clustered streams). 2.9.10 did:
//! its leader proposed every message and each replica dropped a known id
//! on apply, counting a failed proposal; `crate::stream_recover` keeps
//! that behaviour for replaying 2.9.10 logs.
//!
//! Difference from Go: upstream purges entries `window` old from a timer
//! (`purgeMsgIds`); here the age is checked at lookup against the time the
//! caller passes, which is what the timer's purge leaves visible (entries
//! at least `window` old are gone), without the timer's lateness.

use std::collections::{BTreeMap, VecDeque};

use crate::store::memstore::header_value;
use crate::store::{MemStore, StreamState, StreamStore};

/// Go: `JSMsgId`.
pub const JS_MSG_ID: &str = "Nats-Msg-Id";
/// Go: `StreamDefaultDuplicates` (2 minutes), used when a config has none.
pub const STREAM_DEFAULT_DUPLICATES: i64 = 120_000_000_000;

/// One remembered id (Go's `ddentry`): the sequence it was stored at (0
/// while only proposed) and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeEntry {
    pub seq: u64,
    pub ts: i64,
}

/// Port of getMsgId: the `Nats-Msg-Id` header, if set and not empty.
pub fn get_msg_id(hdr: &[u8]) -> Option<String> {
    header_value(hdr, JS_MSG_ID).filter(|v| !v.is_empty()).map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The ids seen within the window.
#[derive(Debug, Clone)]
pub struct Dedupe {
    window: i64,
    ids: BTreeMap<String, DedupeEntry>,
    /// Upstream's `ddarr`: every store in order (id and the time stored).
    arr: VecDeque<(String, i64)>,
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(STREAM_DEFAULT_DUPLICATES)
    }
}

impl Dedupe {
    /// An empty map for a window of `window` nanoseconds (0 or less: disabled).
    pub fn new(window: i64) -> Self {
        Dedupe { window, ids: BTreeMap::new(), arr: VecDeque::new() }
    }

    /// The window, nanoseconds.
    pub fn window(&self) -> i64 {
        self.window
    }

    /// Port of (*stream).checkMsgId: the entry for `id` if it is still
    /// within the window at `now`.
    pub fn check_msg_id(&self, id: &str, now: i64) -> Option<DedupeEntry> {
        self.ids.get(id).copied().filter(|e| now.saturating_sub(e.ts) < self.window)
    }

    /// Whether headers `hdr` carry an id seen within the window at `now`.
    pub fn is_duplicate(&self, hdr: &[u8], now: i64) -> bool {
        get_msg_id(hdr).is_some_and(|id| self.check_msg_id(&id, now).is_some())
    }

    /// Port of (*stream).storeMsgIdLocked: remembers `id` at `seq` and
    /// `ts` (replacing an earlier entry, as the leader's update of a staged
    /// entry does). A window of 0 or less disables dedupe. Entries `window`
    /// older than `ts` are dropped first, as upstream's purge timer would
    /// have by then.
    pub fn store_msg_id(&mut self, id: String, seq: u64, ts: i64) {
        if self.window <= 0 {
            return;
        }
        while let Some((old, t)) = self.arr.front() {
            if ts.saturating_sub(*t) < self.window {
                break;
            }
            if self.ids.get(old).is_some_and(|e| e.ts == *t) {
                self.ids.remove(old);
            }
            self.arr.pop_front();
        }
        self.ids.insert(id.clone(), DedupeEntry { seq, ts });
        self.arr.push_back((id, ts));
    }

    /// The in-flight part of (*jetStream).processStreamLeaderChange: ids
    /// staged by a proposal (sequence 0) at the end of the order are
    /// forgotten, so that a new leader does not report them in process.
    pub fn clear_inflight(&mut self) {
        while let Some((id, _)) = self.arr.back() {
            if self.ids.get(id).is_none_or(|e| e.seq != 0) {
                break;
            }
            self.ids.remove(id);
            self.arr.pop_back();
        }
    }

    /// Port of (*stream).rebuildDedupe: the ids of `store`'s messages
    /// stored within the window before `now`.
    pub fn rebuild(&mut self, store: &MemStore, now: i64) {
        if self.window <= 0 {
            return;
        }
        let sseq = store.get_seq_from_time(now.saturating_sub(self.window));
        if sseq == 0 {
            return;
        }
        let mut st = StreamState::default();
        store.fast_state(&mut st);
        for seq in sseq..=st.last_seq {
            if let Ok(m) = store.load_msg(seq) {
                if let Some(id) = get_msg_id(&m.hdr) {
                    self.store_msg_id(id, m.seq, m.ts);
                }
            }
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
#[path = "dedupe_tests.rs"]
mod tests;
