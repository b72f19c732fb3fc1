//! Port of `server/memstore.go` at 8188ea93a: a stream's messages in
//! memory, with per-subject state, the deleted-sequence map, limits and
//! discard policies, purge/compact/truncate and the binary state snapshot.
//!
//! Upstream keeps messages in a Go map and sometimes walks it instead of
//! the sequence range when that is cheaper; here messages live in a
//! `BTreeMap` and every walk is a range walk, which visits the same
//! messages in sequence order. Where upstream's result depended on Go's
//! random map order (the first sequence `filteredStateLocked` reports for
//! last-per-subject scans over sparse stores), this port gives the lowest
//! sequence, the answer the ordered walk gives upstream.
//! `EraseMsg` drops the message like `RemoveMsg`: upstream overwrites the
//! buffers with random bytes before dropping them, which only matters for
//! memory another reader may still see.

use std::collections::{BTreeMap, BTreeSet};

use super::avl::SequenceSet;
use super::state::{encode_stream_state_header, DeleteBlock};
use super::subject::{compare_fn, is_subset_match_tokenized, match_literal, subject_has_wildcard, subject_is_literal, subject_is_subset_match, tokenize_subject_into_slice, FWCS};
use super::{DiscardPolicy, SimpleState, StorageType, StoreClock, StoreConfig, StoreError, StoreMsg, StreamState, StreamStore};

const MS: i64 = 1_000_000;
const SEC: i64 = 1_000 * MS;

/// Port of memStoreMsgSizeRaw
pub fn mem_store_msg_size_raw(slen: usize, hlen: usize, mlen: usize) -> u64 {
    (slen + hlen + mlen + 16) as u64
}

/// Port of memStoreMsgSize
pub fn mem_store_msg_size(subj: &str, hdr: &[u8], msg: &[u8]) -> u64 {
    mem_store_msg_size_raw(subj.len(), hdr.len(), msg.len())
}

type Msgs = BTreeMap<u64, StoreMsg>;

/// A stream's messages in memory (upstream's `memStore`).
pub struct MemStore {
    cfg: StoreConfig,
    state: StreamState,
    /// `None` once stopped (upstream sets `msgs` to nil).
    msgs: Option<Msgs>,
    fss: BTreeMap<String, SimpleState>,
    dmap: SequenceSet,
    maxp: i64,
    /// Whether upstream's `ageChk` timer object exists.
    age_chk: bool,
    /// When that timer fires, if it is armed.
    age_deadline: Option<i64>,
    age_chk_run: bool,
    age_chk_time: i64,
    consumers: usize,
    received_any: bool,
    clock: StoreClock,
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemStore").field("cfg", &self.cfg).field("state", &self.state).finish_non_exhaustive()
    }
}

fn empty_msgs() -> Msgs {
    BTreeMap::new()
}

/// Upstream's walk `for seq := lo; seq < hi; seq++ { if sm, ok := msgs[seq] ... }`.
fn walk(msgs: &Msgs, lo: u64, hi_excl: u64) -> impl Iterator<Item = &StoreMsg> {
    let r = if lo < hi_excl { Some(msgs.range(lo..hi_excl)) } else { None };
    r.into_iter().flatten().map(|(_, sm)| sm)
}

/// Port of (*memStore).recalculateForSubj, over the fields it reads.
fn recalculate_for_subj(msgs: &Msgs, first_seq: u64, last_seq: u64, subj: &str, ss: &mut SimpleState) {
    if ss.first_needs_update {
        let tseq = (ss.first + 1).max(first_seq);
        if let Some(sm) = walk(msgs, tseq, ss.last.saturating_add(1)).find(|sm| sm.subj == subj) {
            ss.first = sm.seq;
            ss.first_needs_update = false;
            if ss.msgs == 1 {
                ss.last = sm.seq;
                ss.last_needs_update = false;
                return;
            }
        }
    }
    if ss.last_needs_update {
        let tseq = ss.last.wrapping_sub(1).min(last_seq);
        if tseq >= ss.first {
            if let Some(sm) = msgs.range(ss.first..=tseq).rev().map(|(_, sm)| sm).find(|sm| sm.subj == subj) {
                ss.last = sm.seq;
                ss.last_needs_update = false;
                if ss.msgs == 1 {
                    ss.first = sm.seq;
                    ss.first_needs_update = false;
                }
            }
        }
    }
}

/// Subjects of `fss` that `filter` matches (upstream's `fss.Match`; an
/// empty filter matches nothing, as in the subject tree).
fn fss_match<'a>(fss: &'a mut BTreeMap<String, SimpleState>, filter: &'a str) -> impl Iterator<Item = (&'a String, &'a mut SimpleState)> {
    let all = filter == FWCS;
    let literal = !filter.is_empty() && subject_is_literal(filter);
    fss.iter_mut().filter(move |(subj, _)| !filter.is_empty() && (all || if literal { subj.as_str() == filter } else { match_literal(subj, filter) }))
}

impl MemStore {
    /// Port of newMemStore
    pub fn new(cfg: &StoreConfig, clock: StoreClock) -> Result<MemStore, StoreError> {
        if cfg.storage != StorageType::Memory {
            return Err(StoreError::WrongStorage);
        }
        let mut ms = MemStore {
            cfg: cfg.clone(),
            state: StreamState::default(),
            msgs: Some(empty_msgs()),
            fss: BTreeMap::new(),
            dmap: SequenceSet::new(),
            maxp: cfg.max_msgs_per,
            age_chk: false,
            age_deadline: None,
            age_chk_run: false,
            age_chk_time: 0,
            consumers: 0,
            received_any: false,
            clock,
        };
        if cfg.first_seq > 0 {
            ms.purge_from(cfg.first_seq)?;
        }
        Ok(ms)
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn msgs(&self) -> &Msgs {
        static EMPTY: Msgs = BTreeMap::new();
        self.msgs.as_ref().unwrap_or(&EMPTY)
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    /// The deleted-sequence map (upstream's tests read `ms.dmap`).
    pub fn dmap(&self) -> &SequenceSet {
        &self.dmap
    }

    /// Port of (*memStore).storeRawMsg
    fn store_raw_msg_locked(&mut self, subj: &str, hdr: &[u8], msg: &[u8], mut seq: u64, ts: i64, discard_new_check: bool) -> Result<(), StoreError> {
        if self.msgs.is_none() {
            return Err(StoreError::Closed);
        }
        let mut asl = false;
        let have_ss = !subj.is_empty() && self.fss.contains_key(subj);
        if have_ss {
            asl = self.maxp > 0 && self.fss[subj].msgs >= self.maxp as u64;
        }
        // Clustered streams check the limits before proposing and must not
        // refuse here, or replicas would drift: they pass false.
        if discard_new_check && self.cfg.discard == DiscardPolicy::New {
            // A rollup restores the per-subject limit after it is stored.
            if asl && self.cfg.discard_new_per && header_value(hdr, JS_MSG_ROLLUP).is_none() {
                return Err(StoreError::MaxMsgsPerSubject);
            }
            if self.cfg.max_msgs > 0 && self.state.msgs >= self.cfg.max_msgs as u64 && !asl {
                return Err(StoreError::MaxMsgs);
            }
            if self.cfg.max_bytes > 0 && self.state.bytes + mem_store_msg_size(subj, hdr, msg) > self.cfg.max_bytes as u64 {
                if !asl {
                    return Err(StoreError::MaxBytes);
                }
                // At the subject's limit: would dropping its oldest make room?
                let (first_seq, last_seq) = (self.state.first_seq, self.state.last_seq);
                let msgs = self.msgs.as_ref().ok_or(StoreError::Closed)?;
                let ss = self.fss.get_mut(subj).ok_or(StoreError::MaxBytes)?;
                if ss.first_needs_update || ss.last_needs_update {
                    recalculate_for_subj(msgs, first_seq, last_seq, subj, ss);
                }
                match msgs.get(&ss.first) {
                    Some(sm) if mem_store_msg_size(&sm.subj, &sm.hdr, &sm.msg) >= mem_store_msg_size(subj, hdr, msg) => {}
                    _ => return Err(StoreError::MaxBytes),
                }
            }
        }

        if seq != self.state.last_seq + 1 {
            if seq > 0 {
                return Err(StoreError::SequenceMismatch);
            }
            seq = self.state.last_seq + 1;
        }
        if self.state.msgs == 0 {
            self.state.first_seq = seq;
            self.state.first_time = ts;
        }
        let sm = StoreMsg { subj: subj.to_string(), hdr: hdr.to_vec(), msg: msg.to_vec(), seq, ts };
        if let Some(m) = self.msgs.as_mut() {
            m.insert(seq, sm);
        }
        self.state.msgs += 1;
        self.state.bytes += mem_store_msg_size(subj, hdr, msg);
        self.state.last_seq = seq;
        self.state.last_time = ts;

        if !subj.is_empty() {
            if let Some(ss) = self.fss.get_mut(subj) {
                ss.msgs += 1;
                ss.last = seq;
                ss.last_needs_update = false;
                if self.maxp > 0 && ss.msgs > self.maxp as u64 {
                    self.enforce_per_subject_limit(subj);
                }
            } else {
                self.fss.insert(subj.to_string(), SimpleState::new(1, seq, seq));
            }
        }
        self.enforce_msg_limit();
        self.enforce_bytes_limit();
        if !self.age_chk && self.cfg.max_age > 0 {
            self.start_age_chk();
        }
        Ok(())
    }

    /// Port of (*memStore).enforcePerSubjectLimit
    fn enforce_per_subject_limit(&mut self, subj: &str) {
        if self.maxp <= 0 {
            return;
        }
        loop {
            let (first_seq, last_seq) = (self.state.first_seq, self.state.last_seq);
            let Some(ss) = self.fss.get_mut(subj) else { return };
            if ss.msgs <= self.maxp as u64 {
                return;
            }
            if ss.first_needs_update || ss.last_needs_update {
                recalculate_for_subj(self.msgs.as_ref().unwrap_or(&empty_msgs()), first_seq, last_seq, subj, ss);
            }
            let first = ss.first;
            if !self.remove_msg_locked(first, false) {
                return;
            }
        }
    }

    /// Port of (*memStore).enforceMsgLimit
    fn enforce_msg_limit(&mut self) {
        if self.cfg.discard != DiscardPolicy::Old || self.cfg.max_msgs <= 0 {
            return;
        }
        while self.state.msgs > self.cfg.max_msgs as u64 {
            self.delete_first_msg_or_panic();
        }
    }

    /// Port of (*memStore).enforceBytesLimit
    fn enforce_bytes_limit(&mut self) {
        if self.cfg.discard != DiscardPolicy::Old || self.cfg.max_bytes <= 0 {
            return;
        }
        while self.state.bytes > self.cfg.max_bytes as u64 {
            self.delete_first_msg_or_panic();
        }
    }

    /// Port of (*memStore).deleteFirstMsgOrPanic
    fn delete_first_msg_or_panic(&mut self) {
        if !self.delete_first_msg() {
            panic!("jetstream memstore has inconsistent state, can't find first seq msg");
        }
    }

    /// Port of (*memStore).deleteFirstMsg
    fn delete_first_msg(&mut self) -> bool {
        self.remove_msg_locked(self.state.first_seq, false)
    }

    /// Port of (*memStore).startAgeChk
    fn start_age_chk(&mut self) {
        if self.age_chk {
            return;
        }
        if self.cfg.max_age != 0 {
            self.age_chk = true;
            self.age_deadline = Some(self.now() + self.cfg.max_age);
        }
    }

    /// Port of (*memStore).resetAgeChk (without message TTLs).
    fn reset_age_chk(&mut self, delta: i64) {
        if self.age_chk_run {
            return;
        }
        if self.cfg.max_age <= 0 {
            // Upstream's clearTimer: stop and forget the timer.
            self.age_chk = false;
            self.age_deadline = None;
            return;
        }
        let mut fire_in = self.cfg.max_age;
        if delta == 0 && self.state.msgs > 0 && 2 * SEC < fire_in {
            fire_in = 2 * SEC;
        }
        if delta > 0 && (fire_in == 0 || delta < fire_in) {
            fire_in = delta;
        }
        fire_in = fire_in.max(250 * MS);
        let expires = self.now() + fire_in;
        if self.age_chk_time > 0 && expires > self.age_chk_time {
            return;
        }
        self.age_chk_time = expires;
        self.age_chk = true;
        self.age_deadline = Some(expires);
    }

    /// Port of (*memStore).cancelAgeChk
    fn cancel_age_chk(&mut self) {
        if self.age_chk {
            self.age_chk = false;
            self.age_deadline = None;
            self.age_chk_time = 0;
        }
    }

    /// Port of (*memStore).expireMsgs (MaxAge only: TTLs and subject
    /// delete markers are not ported).
    pub fn expire_msgs(&mut self) {
        let max_age = self.cfg.max_age;
        let mut min_age = self.now() - max_age;
        self.age_chk_run = true;
        let mut stopped_at: Option<i64> = None;
        if max_age > 0 {
            let mut start = 0;
            while let Ok((sm, seq)) = self.load_next_msg_locked(FWCS, true, start) {
                if sm.ts > min_age {
                    stopped_at = Some(sm.ts);
                    break;
                }
                self.remove_msg_locked(seq, false);
                min_age = self.now() - max_age;
                start = seq + 1;
            }
        }
        self.age_chk_run = false;
        self.age_chk_time = 0;
        if self.state.msgs == 0 {
            self.cancel_age_chk();
        } else {
            match stopped_at {
                None => self.reset_age_chk(0),
                Some(ts) => self.reset_age_chk(ts - min_age),
            }
        }
    }

    /// Port of (*memStore).purge: drops everything, next sequence `fseq`
    /// (0: after the last).
    fn purge_from(&mut self, fseq: u64) -> Result<u64, StoreError> {
        let purged = self.msgs().len() as u64;
        let fseq = if fseq == 0 {
            self.state.last_seq + 1
        } else if fseq < self.state.last_seq {
            return Err(StoreError::PartialPurge);
        } else {
            fseq
        };
        self.state.first_seq = fseq;
        self.state.last_seq = fseq - 1;
        self.state.first_time = 0;
        self.state.bytes = 0;
        self.state.msgs = 0;
        if self.msgs.is_some() {
            self.msgs = Some(empty_msgs());
        }
        self.fss = BTreeMap::new();
        self.dmap.empty();
        Ok(purged)
    }

    /// Port of (*memStore).reset
    fn reset(&mut self) {
        self.state.first_seq = 0;
        self.state.first_time = 0;
        self.state.last_seq = 0;
        self.state.last_time = self.now();
        self.state.msgs = 0;
        self.state.bytes = 0;
        self.msgs = Some(empty_msgs());
        self.fss = BTreeMap::new();
        self.dmap.empty();
    }

    /// Port of (*memStore).updateFirstSeq
    fn update_first_seq(&mut self, seq: u64) {
        if seq != self.state.first_seq {
            return; // An interior delete.
        }
        let next = walk(self.msgs(), self.state.first_seq + 1, self.state.last_seq.saturating_add(1)).next().map(|sm| (sm.seq, sm.ts));
        let old_first = self.state.first_seq;
        match next {
            Some((s, ts)) => {
                self.state.first_seq = s;
                self.state.first_time = ts;
            }
            None => {
                self.state.first_seq = self.state.last_seq + 1;
                self.state.first_time = 0;
            }
        }
        if old_first == self.state.first_seq - 1 {
            self.dmap.delete(old_first);
        } else {
            for s in old_first..self.state.first_seq {
                self.dmap.delete(s);
            }
        }
    }

    /// Port of (*memStore).removeSeqPerSubject
    fn remove_seq_per_subject(&mut self, subj: &str, seq: u64) {
        let Some(ss) = self.fss.get_mut(subj) else { return };
        if ss.msgs == 1 {
            self.fss.remove(subj);
            return;
        }
        ss.msgs -= 1;
        if ss.msgs == 1 {
            if !ss.last_needs_update && seq != ss.last {
                ss.first = ss.last;
                ss.first_needs_update = false;
                return;
            }
            if !ss.first_needs_update && seq != ss.first {
                ss.last = ss.first;
                ss.last_needs_update = false;
                return;
            }
        }
        // First and last are recomputed lazily, when next needed.
        ss.first_needs_update = seq == ss.first || ss.first_needs_update;
        ss.last_needs_update = seq == ss.last || ss.last_needs_update;
    }

    /// Port of (*memStore).removeMsg
    fn remove_msg_locked(&mut self, seq: u64, _secure: bool) -> bool {
        let Some(sm) = self.msgs.as_mut().and_then(|m| m.remove(&seq)) else { return false };
        let mut sz = mem_store_msg_size(&sm.subj, &sm.hdr, &sm.msg);
        if self.state.msgs > 0 {
            self.state.msgs -= 1;
            sz = sz.min(self.state.bytes);
            self.state.bytes -= sz;
        }
        self.dmap.insert(seq);
        self.update_first_seq(seq);
        self.remove_seq_per_subject(&sm.subj, seq);
        true
    }

    /// Port of (*memStore).compact
    fn compact_locked(&mut self, mut seq: u64) -> Result<u64, StoreError> {
        if seq == 0 {
            return self.purge_from(0);
        }
        let (mut purged, mut bytes) = (0u64, 0u64);
        if self.state.first_seq > seq {
            return Ok(0);
        }
        if seq <= self.state.last_seq {
            let fseq = self.state.first_seq;
            let next = walk(self.msgs(), seq, self.state.last_seq + 1).next().map(|sm| (sm.seq, sm.ts));
            if let Some((s, ts)) = next {
                self.state.first_seq = s;
                self.state.first_time = ts;
                seq = s;
            } else {
                seq = self.state.last_seq + 1;
            }
            for s in (fseq..seq).rev() {
                if let Some(sm) = self.msgs.as_ref().and_then(|m| m.get(&s)) {
                    bytes += mem_store_msg_size(&sm.subj, &sm.hdr, &sm.msg);
                    purged += 1;
                    let subj = sm.subj.clone();
                    self.remove_seq_per_subject(&subj, s);
                    if let Some(m) = self.msgs.as_mut() {
                        m.remove(&s);
                    }
                } else if !self.dmap.is_empty() {
                    self.dmap.delete(s);
                }
            }
            purged = purged.min(self.state.msgs);
            self.state.msgs -= purged;
            bytes = bytes.min(self.state.bytes);
            self.state.bytes -= bytes;
        } else {
            // Past the end: empty the store so that the next message gets `seq`.
            purged = self.msgs().len() as u64;
            self.state.bytes = 0;
            self.state.msgs = 0;
            self.state.first_seq = seq;
            self.state.first_time = 0;
            self.state.last_seq = seq - 1;
            self.msgs = Some(empty_msgs());
            self.fss = BTreeMap::new();
            self.dmap.empty();
        }
        Ok(purged)
    }

    /// Port of (*memStore).filteredStateLocked
    fn filtered_state_locked(&mut self, mut sseq: u64, filter: &str, last_per_subject: bool) -> SimpleState {
        if sseq < self.state.first_seq {
            sseq = self.state.first_seq;
        }
        if sseq > self.state.last_seq {
            return SimpleState::default();
        }
        let filter = if filter.is_empty() { FWCS } else { filter };
        let is_all = filter == FWCS;
        if is_all && sseq <= self.state.first_seq {
            let total = if last_per_subject { self.fss.len() as u64 } else { self.state.msgs };
            return SimpleState::new(total, self.state.first_seq, self.state.last_seq);
        }
        let wc = subject_has_wildcard(filter);
        let fsa = tokenize_subject_into_slice(filter);
        let is_match = |subj: &str| is_all || if wc { is_subset_match_tokenized(&tokenize_subject_into_slice(subj), &fsa) } else { subj == filter };

        let mut ss = SimpleState::default();
        let update = |ss: &mut SimpleState, f: &SimpleState| {
            let (msgs, first, last) = if last_per_subject { (1, f.last, f.last) } else { (f.msgs, f.first, f.last) };
            ss.msgs += msgs;
            if ss.first == 0 || first < ss.first {
                ss.first = first;
            }
            if last > ss.last {
                ss.last = last;
            }
        };
        let (mut have_partial, mut total_skipped) = (false, 0u64);
        let (first_seq, last_seq) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        for (subj, fss) in fss_match(&mut self.fss, filter) {
            if fss.first_needs_update || fss.last_needs_update {
                recalculate_for_subj(msgs, first_seq, last_seq, subj, fss);
            }
            if sseq <= fss.first {
                update(&mut ss, fss);
            } else if sseq <= fss.last {
                have_partial = true;
                update(&mut ss, fss);
            } else {
                total_skipped += fss.msgs;
            }
        }
        if !have_partial {
            return ss;
        }

        // Scan the messages: either the range itself, or what to exclude.
        let (mut first, last) = (ss.first, ss.last);
        let mut need_scan_first = false;
        if first < sseq {
            first = sseq;
            need_scan_first = true;
        }
        let to_scan = last.wrapping_sub(first);
        let to_exclude = first.wrapping_sub(first_seq).wrapping_add(last_seq).wrapping_sub(ss.last);
        let mut seen: Option<BTreeSet<&str>> = if last_per_subject { Some(BTreeSet::new()) } else { None };
        let unseen = |seen: &Option<BTreeSet<&str>>, s: &str| seen.as_ref().is_none_or(|m| !m.contains(s));
        if to_scan < to_exclude {
            ss.msgs = 0;
            ss.first = 0;
            for sm in walk(msgs, first, last.saturating_add(1)) {
                if unseen(&seen, &sm.subj) && is_match(&sm.subj) {
                    ss.msgs += 1;
                    if ss.first == 0 {
                        ss.first = sm.seq;
                    }
                    if let Some(s) = seen.as_mut() {
                        s.insert(&sm.subj);
                    }
                }
            }
        } else {
            ss.first = first;
            ss.msgs += total_skipped;
            let mut adjust = 0u64;
            for sm in walk(msgs, first_seq, first) {
                if unseen(&seen, &sm.subj) && is_match(&sm.subj) {
                    // Last per subject: only subjects wholly before `first` are excluded.
                    let tss = if last_per_subject { self.fss.get(&sm.subj) } else { None };
                    if tss.is_none_or(|t| t.last < first) {
                        adjust += 1;
                    }
                    if let Some(s) = seen.as_mut() {
                        s.insert(&sm.subj);
                    }
                }
            }
            for sm in walk(msgs, last.saturating_add(1), last_seq) {
                if unseen(&seen, &sm.subj) && is_match(&sm.subj) {
                    adjust += 1;
                    if let Some(s) = seen.as_mut() {
                        s.insert(&sm.subj);
                    }
                }
            }
            ss.msgs = ss.msgs.wrapping_sub(adjust);
            if need_scan_first {
                if let Some(sm) = walk(msgs, first, last).find(|sm| is_match(&sm.subj)) {
                    ss.first = sm.seq;
                }
            }
        }
        ss
    }

    /// Port of (*memStore).shouldLinearScan
    fn should_linear_scan(&self, filter: &str, wc: bool, start: u64) -> bool {
        const LINEAR_SCAN_MAX_FSS: usize = 256;
        let is_all = filter == FWCS;
        is_all || 2 * (self.state.last_seq - start) < self.fss.len() as u64 || (wc && self.fss.len() > LINEAR_SCAN_MAX_FSS)
    }

    /// Port of (*memStore).nextWildcardMatchLocked (see the note on
    /// visiting order inside).
    pub fn next_wildcard_match_locked(&mut self, filter: &str, start: u64) -> (u64, u64, bool) {
        let mut found = false;
        let (mut first, mut last) = (self.state.last_seq, 0u64);
        let (fs, ls) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        for (subj, ss) in fss_match(&mut self.fss, filter) {
            recalculate_for_subj(msgs, fs, ls, subj, ss);
            if start > ss.last {
                continue;
            }
            found = true;
            first = first.min(ss.first);
            last = last.max(ss.last);
            // Upstream stops at the first subject whose first sequence is
            // at or before `start`, in its subject tree's visiting order
            // (insertion history, not sorted), which a BTreeMap cannot
            // reproduce. Visiting every match gives bounds never narrower
            // than upstream's, so the message a scan finds is the same.
        }
        if !found {
            return (0, 0, false);
        }
        (first.max(start), last, true)
    }

    /// Port of (*memStore).nextLiteralMatchLocked
    pub fn next_literal_match_locked(&mut self, filter: &str, start: u64) -> (u64, u64, bool) {
        let (fs, ls) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        let Some(ss) = self.fss.get_mut(filter) else { return (0, 0, false) };
        recalculate_for_subj(msgs, fs, ls, filter, ss);
        if start > ss.last {
            return (0, 0, false);
        }
        (start.max(ss.first), ss.last, true)
    }

    /// Port of (*memStore).loadNextMsgLocked
    fn load_next_msg_locked(&mut self, filter: &str, wc: bool, mut start: u64) -> Result<(StoreMsg, u64), (StoreError, u64)> {
        if start < self.state.first_seq {
            start = self.state.first_seq;
        }
        if start > self.state.last_seq || self.state.msgs == 0 {
            return Err((StoreError::Eof, self.state.last_seq));
        }
        let filter = if filter.is_empty() { FWCS } else { filter };
        let is_all = filter == FWCS;
        let (mut fseq, mut lseq) = (start, self.state.last_seq);
        if !self.should_linear_scan(filter, wc, start) {
            let (f, l, found) = if wc { self.next_wildcard_match_locked(filter, start) } else { self.next_literal_match_locked(filter, start) };
            if !found {
                return Err((StoreError::Eof, self.state.last_seq));
            }
            (fseq, lseq) = (f, l);
        }
        let eq: fn(&str, &str) -> bool = if wc { match_literal } else { |a, b| a == b };
        match walk(self.msgs(), fseq, lseq.saturating_add(1)).find(|sm| is_all || eq(&sm.subj, filter)) {
            Some(sm) => Ok((sm.clone(), sm.seq)),
            None => Err((StoreError::Eof, self.state.last_seq)),
        }
    }

    /// Port of (*memStore).loadLastLocked
    fn load_last_locked(&mut self, subject: &str) -> Result<StoreMsg, StoreError> {
        let seq = if subject.is_empty() || subject == FWCS {
            Some(self.state.last_seq)
        } else if subject_is_literal(subject) {
            let (fs, ls) = (self.state.first_seq, self.state.last_seq);
            let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
            match self.fss.get_mut(subject) {
                Some(ss) if ss.msgs > 0 => {
                    if ss.last_needs_update {
                        recalculate_for_subj(msgs, fs, ls, subject, ss);
                    }
                    Some(ss.last)
                }
                _ => None,
            }
        } else {
            let ss = self.filtered_state_locked(1, subject, true);
            (ss.msgs > 0).then_some(ss.last)
        };
        seq.and_then(|s| self.msgs().get(&s)).cloned().ok_or(StoreError::MsgNotFound)
    }

    /// Port of (*memStore).allLastSeqsLocked
    fn all_last_seqs_locked(&mut self) -> Vec<u64> {
        if self.msgs().is_empty() {
            return Vec::new();
        }
        let (fs, ls) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        let mut seqs: Vec<u64> = self
            .fss
            .iter_mut()
            .map(|(subj, ss)| {
                if ss.last_needs_update {
                    recalculate_for_subj(msgs, fs, ls, subj, ss);
                }
                ss.last
            })
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// Port of (*memStore).filterIsAll
    fn filter_is_all(&mut self, filters: &[&str]) -> bool {
        if filters.len() != self.cfg.subjects.len() {
            return false;
        }
        let mut f: Vec<&str> = filters.to_vec();
        f.sort_unstable();
        self.cfg.subjects.sort();
        f.iter().zip(self.cfg.subjects.iter()).all(|(subj, cfg)| subject_is_subset_match(cfg, subj))
    }
}

static EMPTY_MSGS: Msgs = BTreeMap::new();

/// Upstream's `JSMsgRollup` header.
const JS_MSG_ROLLUP: &str = "Nats-Rollup";

/// Port of sliceHeader: the value of header `key` in a NATS header block
/// (`NATS/1.0\r\nKey: value\r\n...`).
pub fn header_value<'a>(hdr: &'a [u8], key: &str) -> Option<&'a [u8]> {
    if hdr.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(hdr).ok()?;
    for line in text.split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            if k == key {
                let v = v.trim_start_matches([' ', '\t']);
                let start = v.as_ptr() as usize - hdr.as_ptr() as usize;
                return Some(&hdr[start..start + v.len()]);
            }
        }
    }
    None
}

impl StreamStore for MemStore {
    /// Port of (*memStore).StoreMsg
    fn store_msg(&mut self, subj: &str, hdr: &[u8], msg: &[u8]) -> Result<(u64, i64), StoreError> {
        let (seq, ts) = (self.state.last_seq + 1, self.now());
        // An R1 stream stores without an expected sequence: the store
        // applies the discard-new limits itself.
        self.store_raw_msg_locked(subj, hdr, msg, seq, ts, true).map(|_| (seq, ts))
    }

    /// Port of (*memStore).StoreRawMsg
    fn store_raw_msg(&mut self, subj: &str, hdr: &[u8], msg: &[u8], seq: u64, ts: i64, discard_new_check: bool) -> Result<(), StoreError> {
        let res = self.store_raw_msg_locked(subj, hdr, msg, seq, ts, discard_new_check);
        // The first message may need expiring before the MaxAge timer set at start.
        if !self.received_any && self.cfg.max_age != 0 && ts > 0 {
            self.received_any = true;
            self.reset_age_chk(50 * MS);
        }
        res
    }

    /// Port of (*memStore).SkipMsg
    fn skip_msg(&mut self, mut seq: u64) -> Result<u64, StoreError> {
        let now = self.now();
        if seq != self.state.last_seq + 1 {
            if seq > 0 {
                return Err(StoreError::SequenceMismatch);
            }
            seq = self.state.last_seq + 1;
        }
        self.state.last_seq = seq;
        self.state.last_time = now;
        if self.state.msgs == 0 {
            self.state.first_seq = seq + 1;
            self.state.first_time = 0;
        } else {
            self.dmap.insert(seq);
        }
        Ok(seq)
    }

    /// Port of (*memStore).SkipMsgs
    fn skip_msgs(&mut self, mut seq: u64, num: u64) -> Result<(), StoreError> {
        let now = self.now();
        if seq != self.state.last_seq + 1 {
            if seq > 0 {
                return Err(StoreError::SequenceMismatch);
            }
            seq = self.state.last_seq + 1;
        }
        let lseq = seq + num - 1;
        self.state.last_seq = lseq;
        self.state.last_time = now;
        if self.state.msgs == 0 {
            self.state.first_seq = lseq + 1;
            self.state.first_time = 0;
        } else {
            for s in seq..=lseq {
                self.dmap.insert(s);
            }
        }
        Ok(())
    }

    /// Port of (*memStore).LoadMsg
    fn load_msg(&self, seq: u64) -> Result<StoreMsg, StoreError> {
        match self.msgs().get(&seq) {
            Some(sm) => Ok(sm.clone()),
            None if seq <= self.state.last_seq => Err(StoreError::MsgNotFound),
            None => Err(StoreError::Eof),
        }
    }

    /// Port of (*memStore).LoadNextMsg
    fn load_next_msg(&mut self, filter: &str, wc: bool, start: u64) -> Result<(StoreMsg, u64), (StoreError, u64)> {
        self.load_next_msg_locked(filter, wc, start)
    }

    /// Port of (*memStore).LoadLastMsg
    fn load_last_msg(&mut self, subject: &str) -> Result<StoreMsg, StoreError> {
        self.load_last_locked(subject)
    }

    /// Port of (*memStore).RemoveMsg
    fn remove_msg(&mut self, seq: u64) -> Result<bool, StoreError> {
        Ok(self.remove_msg_locked(seq, false))
    }

    /// Port of (*memStore).EraseMsg
    fn erase_msg(&mut self, seq: u64) -> Result<bool, StoreError> {
        Ok(self.remove_msg_locked(seq, true))
    }

    /// Port of (*memStore).Purge
    fn purge(&mut self) -> Result<u64, StoreError> {
        self.purge_from(0)
    }

    /// Port of (*memStore).PurgeEx
    fn purge_ex(&mut self, subject: &str, sequence: u64, keep: u64) -> Result<u64, StoreError> {
        if subject.is_empty() || subject == FWCS {
            if keep == 0 && sequence == 0 {
                return self.purge_from(0);
            }
            if sequence > 1 {
                return self.compact_locked(sequence);
            } else if keep > 0 {
                let (msgs, lseq) = (self.state.msgs, self.state.last_seq);
                if keep >= msgs {
                    return Ok(0);
                }
                return self.compact_locked(lseq - keep + 1);
            }
            return Ok(0);
        }
        let eq = compare_fn(subject);
        let mut purged = 0u64;
        let mut ss = self.filtered_state_locked(1, subject, false);
        if ss.msgs > 0 {
            if keep > 0 {
                if keep >= ss.msgs {
                    return Ok(0);
                }
                ss.msgs -= keep;
            }
            let last = if sequence > 1 { sequence - 1 } else { ss.last };
            let seqs: Vec<u64> = walk(self.msgs(), ss.first, last.saturating_add(1)).filter(|sm| eq(&sm.subj, subject)).map(|sm| sm.seq).collect();
            for seq in seqs {
                if self.remove_msg_locked(seq, false) {
                    purged += 1;
                    if purged >= ss.msgs {
                        break;
                    }
                }
            }
        }
        Ok(purged)
    }

    /// Port of (*memStore).Compact
    fn compact(&mut self, seq: u64) -> Result<u64, StoreError> {
        self.compact_locked(seq)
    }

    /// Port of (*memStore).Truncate
    fn truncate(&mut self, seq: u64) -> Result<(), StoreError> {
        if seq == 0 {
            self.reset();
            return Ok(());
        }
        let (mut purged, mut bytes) = (0u64, 0u64);
        let last_time = self.msgs().get(&seq).map_or(self.state.last_time, |sm| sm.ts);
        let mut i = self.state.last_seq;
        while i > seq {
            if let Some(sm) = self.msgs.as_mut().and_then(|m| m.remove(&i)) {
                purged += 1;
                bytes += mem_store_msg_size(&sm.subj, &sm.hdr, &sm.msg);
                self.remove_seq_per_subject(&sm.subj, i);
            } else if !self.dmap.is_empty() {
                self.dmap.delete(i);
            }
            i -= 1;
        }
        self.state.last_seq = seq;
        self.state.last_time = last_time;
        purged = purged.min(self.state.msgs);
        self.state.msgs -= purged;
        bytes = bytes.min(self.state.bytes);
        self.state.bytes -= bytes;
        Ok(())
    }

    /// Port of (*memStore).GetSeqFromTime
    fn get_seq_from_time(&self, ts: i64) -> u64 {
        let msgs = self.msgs();
        if msgs.is_empty() {
            return self.state.last_seq + 1;
        }
        if msgs.get(&self.state.first_seq).is_some_and(|m| ts <= m.ts) {
            return self.state.first_seq;
        }
        // The last sequence may be gone: last does not go backwards.
        let Some(lmsg) = walk(msgs, self.state.first_seq + 1, self.state.last_seq + 1).last() else {
            return self.state.last_seq + 1;
        };
        if ts == lmsg.ts {
            return lmsg.seq;
        }
        if ts > lmsg.ts {
            return self.state.last_seq + 1;
        }
        // Binary search that steps over interior deletes.
        let (mut fseq, mut lseq) = (self.state.first_seq, self.state.last_seq);
        let mut seq = lseq + 1;
        'search: while fseq <= lseq {
            let mid = fseq + (lseq - fseq) / 2;
            let mut off = 0;
            let (cts, cseq) = loop {
                match msgs.get(&(mid + off)) {
                    Some(m) => break (m.ts, m.seq),
                    None => {
                        off += 1;
                        if mid + off > lseq {
                            // Go on to the left, ignoring the deletes just skipped.
                            if mid == 0 {
                                break 'search;
                            }
                            lseq = mid - 1;
                            continue 'search;
                        }
                    }
                }
            };
            if cts >= ts {
                seq = cseq;
                if mid == fseq {
                    break;
                }
                lseq = mid - 1;
            } else {
                fseq = mid + off + 1;
            }
        }
        seq
    }

    /// Port of (*memStore).FilteredState
    fn filtered_state(&mut self, seq: u64, subject: &str) -> SimpleState {
        self.filtered_state_locked(seq, subject, false)
    }

    /// Port of (*memStore).SubjectsState
    fn subjects_state(&mut self, filter: &str) -> BTreeMap<String, SimpleState> {
        let mut out = BTreeMap::new();
        if self.fss.is_empty() {
            return out;
        }
        let filter = if filter.is_empty() { FWCS } else { filter };
        let (fs, ls) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        for (subj, ss) in fss_match(&mut self.fss, filter) {
            if ss.first_needs_update || ss.last_needs_update {
                recalculate_for_subj(msgs, fs, ls, subj, ss);
            }
            out.insert(subj.clone(), SimpleState::new(ss.msgs, ss.first, ss.last));
        }
        out
    }

    /// Port of (*memStore).SubjectsTotals
    fn subjects_totals(&mut self, filter: &str) -> BTreeMap<String, u64> {
        let is_all = filter.is_empty() || filter == FWCS;
        let fsa = tokenize_subject_into_slice(filter);
        fss_match(&mut self.fss, filter)
            .filter(|(subj, _)| is_all || is_subset_match_tokenized(&tokenize_subject_into_slice(subj), &fsa))
            .map(|(subj, ss)| (subj.clone(), ss.msgs))
            .collect()
    }

    /// Port of (*memStore).AllLastSeqs
    fn all_last_seqs(&mut self) -> Vec<u64> {
        self.all_last_seqs_locked()
    }

    /// Port of (*memStore).MultiLastSeqs
    fn multi_last_seqs(&mut self, filters: &[&str], mut max_seq: u64, max_allowed: i64) -> Result<Vec<u64>, StoreError> {
        if self.msgs().is_empty() {
            return Ok(Vec::new());
        }
        if max_seq == 0 && max_allowed <= 0 && self.filter_is_all(filters) {
            return Ok(self.all_last_seqs_locked());
        }
        if max_seq == 0 {
            max_seq = self.state.last_seq;
        }
        let mut seqs = Vec::new();
        let mut seen = BTreeSet::new();
        let (fs, ls) = (self.state.first_seq, self.state.last_seq);
        let msgs = self.msgs.as_ref().map_or(&EMPTY_MSGS, |m| m);
        for filter in filters {
            for (subj, ss) in fss_match(&mut self.fss, filter) {
                if ss.last_needs_update {
                    recalculate_for_subj(msgs, fs, ls, subj, ss);
                }
                let found = if ss.last <= max_seq {
                    Some(ss.last)
                } else if ss.msgs > 1 {
                    msgs.range(1..=max_seq).rev().find(|(_, sm)| &sm.subj == subj).map(|(s, _)| *s)
                } else {
                    None
                };
                if let Some(s) = found {
                    if seen.insert(s) {
                        seqs.push(s);
                    }
                }
            }
            if max_allowed > 0 && seqs.len() as i64 > max_allowed {
                return Err(StoreError::TooManyResults);
            }
        }
        seqs.sort_unstable();
        Ok(seqs)
    }

    /// Port of (*memStore).SubjectForSeq
    fn subject_for_seq(&self, seq: u64) -> Result<String, StoreError> {
        if seq < self.state.first_seq {
            return Err(StoreError::MsgNotFound);
        }
        self.msgs().get(&seq).map(|sm| sm.subj.clone()).ok_or(StoreError::MsgNotFound)
    }

    /// Port of (*memStore).NumPending
    fn num_pending(&mut self, sseq: u64, filter: &str, last_per_subject: bool) -> (u64, u64) {
        let ss = self.filtered_state_locked(sseq, filter, last_per_subject);
        (ss.msgs, self.state.last_seq)
    }

    /// Port of (*memStore).State
    fn state(&mut self) -> StreamState {
        let mut state = self.state.clone();
        state.consumers = self.consumers;
        state.num_subjects = self.fss.len();
        state.deleted = Vec::new();
        let num_deleted = (state.last_seq + 1).wrapping_sub(state.first_seq).wrapping_sub(state.msgs) as i64;
        if num_deleted > 0 {
            let (fseq, lseq) = (state.first_seq, state.last_seq);
            let mut stale = Vec::new();
            self.dmap.range(|seq| {
                if seq < fseq || seq > lseq {
                    stale.push(seq);
                } else {
                    state.deleted.push(seq);
                }
                true
            });
            for s in stale {
                self.dmap.delete(s);
            }
        }
        if !state.deleted.is_empty() {
            state.num_deleted = state.deleted.len();
        }
        state
    }

    /// Port of (*memStore).FastState
    fn fast_state(&self, state: &mut StreamState) {
        state.msgs = self.state.msgs;
        state.bytes = self.state.bytes;
        state.first_seq = self.state.first_seq;
        state.first_time = self.state.first_time;
        state.last_seq = self.state.last_seq;
        state.last_time = self.state.last_time;
        if state.last_seq > state.first_seq {
            let nd = (state.last_seq - state.first_seq + 1) as i64 - state.msgs as i64;
            state.num_deleted = nd.max(0) as usize;
        }
        state.consumers = self.consumers;
        state.num_subjects = self.fss.len();
    }

    /// Port of (*memStore).EncodedStreamState
    fn encoded_stream_state(&self, failed: u64) -> Vec<u8> {
        let nd = ((self.state.last_seq + 1) as i128 - self.state.first_seq as i128 - self.state.msgs as i128).max(0) as u64;
        let mut b = encode_stream_state_header(self.state.msgs, self.state.bytes, self.state.first_seq, self.state.last_seq, failed, nd);
        if nd > 0 {
            b.extend_from_slice(&self.dmap.encode());
        }
        b
    }

    /// Port of (*memStore).SyncDeleted
    fn sync_deleted(&mut self, dbs: &[DeleteBlock]) {
        if dbs.is_empty() {
            return;
        }
        // One shared map: if the single block says the same, nothing to do.
        if dbs.len() == 1 && dbs[0].state() == self.dmap.state() {
            return;
        }
        let lseq = self.state.last_seq;
        for db in dbs {
            if db.state().0 > lseq {
                continue;
            }
            let mut seqs = Vec::new();
            db.range(|s| {
                seqs.push(s);
                true
            });
            for s in seqs {
                self.remove_msg_locked(s, false);
            }
        }
    }

    fn storage_type(&self) -> StorageType {
        StorageType::Memory
    }

    /// Port of (*memStore).UpdateConfig
    fn update_config(&mut self, cfg: &StoreConfig) -> Result<(), StoreError> {
        if cfg.storage != StorageType::Memory {
            return Err(StoreError::WrongStorage);
        }
        self.cfg = cfg.clone();
        self.enforce_msg_limit();
        self.enforce_bytes_limit();
        if !self.age_chk && self.cfg.max_age != 0 {
            self.start_age_chk();
        }
        if self.age_chk && self.cfg.max_age == 0 {
            self.age_chk = false;
            self.age_deadline = None;
            self.age_chk_time = 0;
        }
        let new_maxp = cfg.max_msgs_per.max(-1);
        let old = self.maxp;
        self.maxp = new_maxp;
        // A lower limit, or one newly set, is applied to what is stored.
        if self.maxp > 0 && (old == 0 || self.maxp < old) {
            let lm = self.maxp as u64;
            let over: Vec<String> = self.fss.iter().filter(|(_, ss)| ss.msgs > lm).map(|(s, _)| s.clone()).collect();
            for subj in over {
                self.enforce_per_subject_limit(&subj);
            }
        }
        if cfg.max_age != 0 {
            self.expire_msgs();
        }
        Ok(())
    }

    /// Port of (*memStore).Stop
    fn stop(&mut self) {
        if self.msgs.is_none() {
            return;
        }
        self.age_chk = false;
        self.age_deadline = None;
        self.age_chk_time = 0;
        self.msgs = None;
        // Stopped messages cannot come back: as upstream, stop purges.
        let _ = self.purge_from(0);
    }

    /// Port of (*memStore).Delete
    fn delete(&mut self) {
        self.stop();
    }

    /// Port of (*memStore).AddConsumer
    fn add_consumer(&mut self) {
        self.consumers += 1;
    }

    /// Port of (*memStore).RemoveConsumer
    fn remove_consumer(&mut self) {
        self.consumers = self.consumers.saturating_sub(1);
    }

    /// Port of (*memStore).Utilization
    fn utilization(&self) -> (u64, u64) {
        (self.state.bytes, self.state.bytes)
    }

    fn age_check_deadline(&self) -> Option<i64> {
        self.age_deadline
    }

    fn fire_age_check(&mut self) {
        self.age_deadline = None;
        self.expire_msgs();
    }
}

#[cfg(test)]
#[path = "memstore_tests.rs"]
mod tests;
