//! How a stream replica applies what its raft group committed
//! (`applyStreamEntries`, `skipBatchIfRecovering`, `applyStreamMsgOp` of
//! `server/jetstream_cluster.go` at 8188ea93a), over the part of the
//! stream (`server/stream.go`) that path touches: the store, the last
//! sequence and the count of failed proposals (CLFS), the batch being
//! assembled, and the clustered branch of `processJetStreamMsg`.
//!
//! Differences from upstream, deliberate:
//! - A malformed entry is an error ([`ApplyError::Corrupt`]) instead of a
//!   panic; the caller (the stream monitor) treats it as upstream treats
//!   the panic's effect, by stopping the stream.
//! - The message-id dedupe map ([`StreamReplica::dedupe`]) is kept as
//!   8188ea93a keeps it on this path: every applied message with an id is
//!   recorded, none is dropped (see [`super::dedupe`]); its window is
//!   measured at the message's own timestamp, as no purge timer runs here.
//! - API replies the leader sends after a delete or purge are collected in
//!   [`StreamReplica::replies`] for the host to publish; whether we lead
//!   is the node's view ([`StreamReplica::leader`]), which upstream asks
//!   the meta layer's assignment for in the purge case.
//! - Not ported on this path: consumers (purge does not reset them),
//!   interest-retention pre-acks, flow-control replies, subject
//!   transforms, counters and message traces; the catch-up that a snapshot ahead of us starts (`processSnapshot`'s
//!   second half, batch 35) reports [`ApplyError::CatchupRequired`].

use serde::Serialize;

use super::dedupe::{get_msg_id, Dedupe};
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::ops::EntryOp;
use super::stream_ops::{decode_batch_msg, decode_msg_delete, decode_msg_op, decode_stream_purge, PurgeRequest, StreamOpError, StreamSnapshot};
use crate::raft::node::CommittedEntry;
use crate::raft::wire::EntryType;
use crate::store::state::{decode_stream_state, is_encoded_stream_state, DeleteBlock, StreamReplicatedState};
use crate::store::{MemStore, StoreError, StreamState, StreamStore};

/// Why applying stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// An entry that does not decode (upstream panics).
    #[error("{0}")]
    Corrupt(#[from] StreamOpError),
    /// Unknown op byte in a normal entry (upstream panics).
    #[error("JetStream Cluster Unknown group entry op type: {0}")]
    UnknownOp(u8),
    /// The store refused in a way the stream cannot continue from.
    #[error("{0}")]
    Store(StoreError),
    /// Upstream's `errLastSeqMismatch`.
    #[error("last sequence mismatch")]
    LastSeqMismatch,
    /// Upstream's `errStreamClosed`.
    #[error("stream closed")]
    StreamClosed,
    /// A snapshot that does not decode; the stream was reset.
    #[error("bad stream state: {0}")]
    BadSnapshot(String),
    /// The snapshot is ahead of us: catch up from `first` to `last`.
    #[error("catchup required for sequences {first}..={last}")]
    CatchupRequired { first: u64, last: u64 },
}

/// A reply the stream leader sends to an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiReply {
    /// The request's subject (upstream passes it to `sendAPIResponse`).
    pub subject: String,
    /// Where the reply goes.
    pub reply: String,
    /// The response JSON.
    pub json: String,
}

/// Upstream's `batchApply`: a batch being assembled from committed entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchApply {
    pub id: String,
    pub count: u64,
    pub entry_start: usize,
    pub max_applied: u64,
    pub entries: Vec<CommittedEntry>,
}

impl BatchApply {
    /// Port of (*batchApply).rejectBatchStateLocked: a failed batch's
    /// messages count as failed proposals (the stream's CLFS).
    pub fn reject_batch_state_locked(&mut self, clfs: &mut u64) {
        *clfs += self.count;
        self.clear_batch_state_locked();
    }

    /// Port of (*batchApply).clearBatchStateLocked
    pub fn clear_batch_state_locked(&mut self) {
        self.id.clear();
        self.count = 0;
        self.entries.clear();
        self.entry_start = 0;
        self.max_applied = 0;
    }
}

/// Go's `JSApiMsgDeleteResponse`.
#[derive(Serialize)]
struct MsgDeleteResponse {
    #[serde(rename = "type")]
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ApiError>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    success: bool,
}

/// Go's `JSApiStreamPurgeResponse`.
#[derive(Serialize)]
pub struct PurgeResponse {
    #[serde(rename = "type")]
    pub typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub success: bool,
    pub purged: u64,
}

pub const JS_API_MSG_DELETE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.stream_msg_delete_response";
pub const JS_API_STREAM_PURGE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.stream_purge_response";

fn api_error(code: i64, err_code: u16, description: String) -> ApiError {
    // The fields are public; this mirrors the generated NewJS*Error helpers.
    ApiError { code, err_code, description }
}

/// What the leader's message-id check decides before a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgIdCheck {
    /// Propose; the id to stage once proposed, if the message has one.
    Propose(Option<String>),
    /// Already stored at this sequence: acknowledge as a duplicate.
    Duplicate(u64),
    /// Proposed but not applied yet (Go: `NewJSStreamDuplicateMessageConflictError`).
    InProcess,
}

/// One replica of a clustered stream, as the apply path sees it.
#[derive(Debug)]
pub struct StreamReplica {
    pub account: String,
    pub name: String,
    pub store: MemStore,
    /// Upstream's `mset.lseq`.
    pub lseq: u64,
    /// Upstream's `mset.clfs`: proposals that failed and used no sequence.
    pub clfs: u64,
    pub closed: bool,
    pub sealed: bool,
    pub mirror: bool,
    pub batch: Option<BatchApply>,
    /// Whether our raft node leads the group now.
    pub leader: bool,
    /// Our meta-group id, for remove-peer entries.
    pub our_id: String,
    /// The peers of our assignment's group, if it has one.
    pub group_peers: Option<Vec<String>>,
    /// Replies to send.
    pub replies: Vec<ApiReply>,
    /// Set when a remove-peer entry for us stopped the stream.
    pub stopped: bool,
    /// Set when a bad snapshot reset the stream's clustered state.
    pub reset: Option<String>,
    /// Upstream's `ddmap`: the ids of messages stored within the
    /// duplicate window (2 minutes unless the config says otherwise).
    pub dedupe: Dedupe,
}

impl StreamReplica {
    /// A replica over `store`, its last sequence taken from the store.
    pub fn new(account: &str, name: &str, store: MemStore) -> Self {
        let mut st = StreamState::default();
        store.fast_state(&mut st);
        StreamReplica {
            account: account.into(),
            name: name.into(),
            store,
            lseq: st.last_seq,
            clfs: 0,
            closed: false,
            sealed: false,
            mirror: false,
            batch: None,
            leader: false,
            our_id: String::new(),
            group_peers: None,
            replies: Vec::new(),
            stopped: false,
            reset: None,
            dedupe: Dedupe::default(),
        }
    }

    /// The message-id check of checkMsgHeadersPreClusteredProposal (its
    /// other header checks are not ported): what the leader does with a
    /// message whose headers are `hdr` before proposing it at `now`.
    pub fn check_msg_id_pre_proposal(&self, hdr: &[u8], now: i64) -> MsgIdCheck {
        let Some(id) = get_msg_id(hdr) else { return MsgIdCheck::Propose(None) };
        match self.dedupe.check_msg_id(&id, now) {
            Some(dde) if dde.seq > 0 => MsgIdCheck::Duplicate(dde.seq),
            Some(_) => MsgIdCheck::InProcess,
            None => MsgIdCheck::Propose(Some(id)),
        }
    }

    /// The message-id part of (*batchStagedDiff).commit: once proposed, an
    /// id is remembered with sequence 0 until the message is applied.
    pub fn stage_msg_id(&mut self, id: String, now: i64) {
        self.dedupe.store_msg_id(id, 0, now);
    }

    /// Port of (*stream).lastSeqAndCLFS
    pub fn last_seq_and_clfs(&self) -> (u64, u64) {
        (self.lseq, self.clfs)
    }

    /// Port of (*stream).setLastSeq
    pub fn set_last_seq(&mut self, lseq: u64) {
        self.lseq = lseq;
    }

    /// Port of (*batchApply).rejectBatchState
    pub fn reject_batch_state(&mut self) {
        if let Some(b) = self.batch.as_mut() {
            b.reject_batch_state_locked(&mut self.clfs);
        }
    }

    fn batch_active(&self) -> bool {
        self.batch.as_ref().is_some_and(|b| !b.id.is_empty())
    }

    /// The clustered path of (*stream).processJetStreamMsgWithBatch: the
    /// leader-assigned sequence is checked against ours, the message is
    /// stored at it, and a refused store counts as a failed proposal.
    pub fn process_jet_stream_msg(&mut self, subject: &str, hdr: &[u8], msg: &[u8], lseq: u64, ts: i64) -> Result<(), ApplyError> {
        if self.closed {
            return Err(ApplyError::StreamClosed);
        }
        if self.sealed {
            return Err(ApplyError::Store(StoreError::Closed));
        }
        let clfs = self.clfs;
        if lseq > 0 && lseq != self.lseq + clfs {
            // With no state at all (or as a mirror) we can start where the leader is.
            let mut recovered = false;
            if self.lseq == 0 || self.mirror {
                let mut st = StreamState::default();
                self.store.fast_state(&mut st);
                if st.first_seq == 0 {
                    self.store.compact(lseq + 1).map_err(ApplyError::Store)?;
                    self.lseq = lseq;
                    recovered = true;
                }
            }
            if !recovered {
                return Err(ApplyError::LastSeqMismatch);
            }
        }
        let seq = lseq + 1 - clfs;
        // Clustered: limits were checked before proposing, so no discard-new check here.
        match self.store.store_raw_msg(subject, hdr, msg, seq, ts, false) {
            Ok(()) => {
                self.lseq = seq;
                // Leader or not, remember the id so that whoever leads next
                // dedupes (a staged entry of ours gets its sequence).
                if let Some(id) = get_msg_id(hdr) {
                    self.dedupe.store_msg_id(id, seq, ts);
                }
                Ok(())
            }
            Err(e @ (StoreError::MaxMsgs | StoreError::MaxBytes | StoreError::MaxMsgsPerSubject | StoreError::Closed)) => {
                if e != StoreError::Closed {
                    self.clfs += 1;
                }
                Err(ApplyError::Store(e))
            }
            Err(e) => Err(ApplyError::Store(e)),
        }
    }

    /// Port of (*stream).purge (without consumers).
    pub fn purge(&mut self, preq: Option<&PurgeRequest>) -> Result<u64, ApplyError> {
        if self.closed {
            return Err(ApplyError::StreamClosed);
        }
        let mlseq = self.lseq;
        let purged = match preq {
            Some(r) => self.store.purge_ex(&r.subject, r.sequence, r.keep),
            None => self.store.purge(),
        }
        .map_err(ApplyError::Store)?;
        let mut st = StreamState::default();
        self.store.fast_state(&mut st);
        if st.last_seq > mlseq {
            self.set_last_seq(st.last_seq);
        }
        Ok(purged)
    }

    /// Port of (*stream).removeMsg / deleteMsg.
    pub fn remove_msg(&mut self, seq: u64) -> Result<bool, ApplyError> {
        if self.closed {
            return Err(ApplyError::StreamClosed);
        }
        self.store.remove_msg(seq).map_err(ApplyError::Store)
    }

    /// Port of (*stream).eraseMsg
    pub fn erase_msg(&mut self, seq: u64) -> Result<bool, ApplyError> {
        if self.closed {
            return Err(ApplyError::StreamClosed);
        }
        self.store.erase_msg(seq).map_err(ApplyError::Store)
    }

    /// Port of (*stream).processSnapshotDeletes
    pub fn process_snapshot_deletes(&mut self, snap: &StreamReplicatedState) -> Result<(), ApplyError> {
        let mut st = StreamState::default();
        self.store.fast_state(&mut st);
        // A first sequence past ours always moves us up.
        if snap.first_seq > st.first_seq {
            self.store.compact(snap.first_seq).map_err(ApplyError::Store)?;
            self.store.fast_state(&mut st);
            self.lseq = st.last_seq;
        }
        if !snap.deleted.is_empty() {
            self.store.sync_deleted(&snap.deleted);
        }
        Ok(())
    }

    /// The first half of (*stream).processSnapshot: deletes and CLFS from
    /// the snapshot, then whether a catch-up is needed
    /// (`calculateSyncRequest`); the catch-up itself is batch 35's.
    pub fn process_snapshot(&mut self, snap: &StreamReplicatedState) -> Result<(), ApplyError> {
        self.process_snapshot_deletes(snap)?;
        self.clfs = snap.failed;
        let mut st = StreamState::default();
        self.store.fast_state(&mut st);
        if st.last_seq >= snap.last_seq {
            return Ok(());
        }
        Err(ApplyError::CatchupRequired { first: st.last_seq + 1, last: snap.last_seq })
    }

    /// Port of (*stream).stateSnapshot: the binary state a leader snapshots.
    pub fn state_snapshot(&self) -> Vec<u8> {
        self.store.encoded_stream_state(self.clfs)
    }

    /// Port of (*stream).skipBatchIfRecovering: whether a batch met in the
    /// middle while recovering was already applied (its first message is
    /// below what we have); if so the batch state is cleared.
    pub fn skip_batch_if_recovering(&mut self, buf: &[u8]) -> Result<bool, ApplyError> {
        let b = decode_batch_msg(&buf[1..])?;
        let m = decode_msg_op(b.op, b.mbuf)?;
        let (last, clfs) = self.last_seq_and_clfs();
        if m.lseq.wrapping_sub(clfs) < last {
            if let Some(batch) = self.batch.as_mut() {
                batch.clear_batch_state_locked();
            }
            return Ok(true);
        }
        Ok(false)
    }

    // Upstream's onBadState: the owner of a bad snapshot resets.
    fn on_bad_state(&mut self, is_recovering: bool, err: String) -> ApplyError {
        if is_recovering || self.leader {
            self.reset = Some(err.clone());
        }
        ApplyError::BadSnapshot(err)
    }

    fn apply_delete(&mut self, buf: &[u8], is_recovering: bool) -> Result<(), ApplyError> {
        let md = decode_msg_delete(buf)?;
        let res = if md.no_erase { self.remove_msg(md.seq) } else { self.erase_msg(md.seq) };
        let leader = self.leader && !is_recovering;
        let respond = |s: &mut Self, error: Option<ApiError>, success: bool| {
            let r = MsgDeleteResponse { typ: JS_API_MSG_DELETE_RESPONSE_TYPE, error, success };
            s.replies.push(ApiReply { subject: md.subject.clone(), reply: md.reply.clone(), json: crate::go_json::to_string(&r).unwrap_or_default() });
        };
        match res {
            Err(ApplyError::Store(StoreError::Eof)) => {
                if leader {
                    respond(self, Some(api_error(500, 10057, StoreError::Eof.to_string())), false);
                }
            }
            Err(e) => {
                if leader {
                    respond(self, Some(api_error(500, 10057, e.to_string())), false);
                }
            }
            Ok(false) => {
                if leader {
                    respond(self, Some(api_error(400, 10043, format!("sequence {} not found", md.seq))), false);
                }
            }
            Ok(true) => {
                if leader {
                    respond(self, None, true);
                }
            }
        }
        Ok(())
    }

    fn apply_purge(&mut self, buf: &[u8], is_recovering: bool) -> Result<(), ApplyError> {
        let mut sp = decode_stream_purge(buf)?;
        // Without an explicit sequence, purge up to what the leader had:
        // a replay at start must not purge what came after.
        if sp.request.as_ref().is_none_or(|r| r.sequence == 0) {
            let purge_seq = sp.last_seq + 1;
            match sp.request.as_mut() {
                None => sp.request = Some(PurgeRequest { sequence: purge_seq, ..Default::default() }),
                Some(r) if r.keep == 0 => r.sequence = purge_seq,
                Some(_) if is_recovering => return Ok(()),
                Some(_) => {}
            }
        }
        let res = self.purge(sp.request.as_ref());
        if self.leader && !is_recovering {
            let r = match &res {
                Ok(purged) => PurgeResponse { typ: JS_API_STREAM_PURGE_RESPONSE_TYPE, error: None, success: true, purged: *purged },
                Err(e) => PurgeResponse { typ: JS_API_STREAM_PURGE_RESPONSE_TYPE, error: Some(api_error(500, 10051, e.to_string())), success: false, purged: 0 },
            };
            self.replies.push(ApiReply { subject: sp.subject.clone(), reply: sp.reply.clone(), json: crate::go_json::to_string(&r).unwrap_or_default() });
        }
        Ok(())
    }
}


impl JetStreamCtx {
    /// Port of (*jetStream).applyStreamMsgOp
    pub fn apply_stream_msg_op(&self, mset: &mut StreamReplica, op: u8, mbuf: &[u8], _is_recovering: bool) -> Result<(), ApplyError> {
        let m = decode_msg_op(op, mbuf)?;
        // Flow control has no payload and is answered, not stored (not ported: no replies here).
        if m.msg.is_empty() && !m.hdr.is_empty() && !m.reply.is_empty() && super::stream::is_control_hdr(&m.hdr) {
            return Ok(());
        }
        let (last, clfs) = mset.last_seq_and_clfs();
        // Below what we have: already applied.
        if m.lseq.wrapping_sub(clfs) < last {
            return Ok(());
        }
        // The first message is special: lseq 0 would be "-1" under the stream.
        if m.lseq == 0 && last != 0 {
            return Ok(());
        }
        // A skip has no subject, time, header or payload.
        if m.subject.is_empty() && m.ts == 0 && m.msg.is_empty() && m.hdr.is_empty() {
            let last = mset.store.skip_msg(0).map_err(ApplyError::Store)?;
            mset.set_last_seq(last);
            return Ok(());
        }
        let mut res = mset.process_jet_stream_msg(&m.subject, &m.hdr, &m.msg, m.lseq, m.ts);
        if res == Err(ApplyError::LastSeqMismatch) {
            // No messages but the leader is past us (a stale snapshot on its
            // side): reset to its sequence and retry.
            let mut st = StreamState::default();
            mset.store.fast_state(&mut st);
            if st.msgs == 0 {
                res = match mset.store.compact(m.lseq + 1) {
                    Ok(_) => mset.process_jet_stream_msg(&m.subject, &m.hdr, &m.msg, m.lseq, m.ts),
                    Err(e) => Err(ApplyError::Store(e)),
                };
            }
        }
        match res {
            Ok(()) => Ok(()),
            // Limits the leader checked, and a closed store, do not stop the stream.
            Err(ApplyError::Store(StoreError::MaxMsgs | StoreError::MaxBytes | StoreError::MaxMsgsPerSubject | StoreError::Closed)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn apply_batch_entries(&self, mset: &mut StreamReplica, entries: &[raft_entry::Entry], is_recovering: bool) -> Result<(), ApplyError> {
        for entry in entries {
            let b = decode_batch_msg(&entry.data[1..])?;
            let (op, buf) = (b.op, b.mbuf.to_vec());
            self.apply_stream_msg_op(mset, op, &buf, is_recovering)?;
        }
        Ok(())
    }

    /// Port of (*jetStream).applyStreamEntries: returns the index up to
    /// which the entries may be reported applied while a batch is still
    /// open (0 otherwise).
    pub fn apply_stream_entries(&self, mset: &mut StreamReplica, ce: &CommittedEntry, is_recovering: bool) -> Result<u64, ApplyError> {
        for (i, e) in ce.entries.iter().enumerate() {
            if e.typ == EntryType::Catchup {
                continue;
            }
            // A batch left open when something else arrives is abandoned.
            if e.typ != EntryType::Normal && mset.batch_active() {
                mset.reject_batch_state();
            }
            match e.typ {
                EntryType::Normal => {
                    let buf = &e.data;
                    let Some(&op) = buf.first() else { return Err(ApplyError::Corrupt(StreamOpError::BadStreamMsg)) };
                    if op == EntryOp::BatchMsg as u8 || op == EntryOp::BatchCommitMsg as u8 {
                        let commit = op == EntryOp::BatchCommitMsg as u8;
                        let b = decode_batch_msg(&buf[1..])?;
                        let batch = mset.batch.get_or_insert_with(BatchApply::default);
                        if !batch.id.is_empty() && b.batch_id != batch.id {
                            mset.reject_batch_state();
                        }
                        if b.batch_seq == 1 {
                            mset.reject_batch_state();
                            let batch = mset.batch.get_or_insert_with(BatchApply::default);
                            batch.entry_start = i;
                            batch.max_applied = ce.index.saturating_sub(1);
                        }
                        let batch = mset.batch.get_or_insert_with(BatchApply::default);
                        batch.id = b.batch_id.clone();
                        // Recovering into the middle of a batch that was compacted
                        // after being applied: skip it.
                        if is_recovering && b.batch_seq > 1 && batch.count == 0 && mset.skip_batch_if_recovering(buf)? {
                            continue;
                        }
                        let batch = mset.batch.get_or_insert_with(BatchApply::default);
                        batch.count += 1;
                        // A gap: the batch cannot be accepted.
                        if b.batch_seq != batch.count {
                            mset.reject_batch_state();
                            continue;
                        }
                        if !commit {
                            continue;
                        }
                        // Commit: apply what earlier committed entries held of the
                        // batch, then this entry's part up to the commit.
                        let mut batch = mset.batch.take().unwrap_or_default();
                        let held = std::mem::take(&mut batch.entries);
                        let entry_start = batch.entry_start;
                        let mut res = Ok(());
                        for (j, bce) in held.iter().enumerate() {
                            let from = if j == 0 { entry_start } else { 0 };
                            res = self.apply_batch_entries(mset, bce.entries.get(from..).unwrap_or(&[]), is_recovering);
                            if res.is_err() {
                                break;
                            }
                        }
                        if res.is_ok() {
                            let part = if held.is_empty() { ce.entries.get(entry_start..=i) } else { ce.entries.get(..=i) };
                            res = self.apply_batch_entries(mset, part.unwrap_or(&[]), is_recovering);
                        }
                        batch.clear_batch_state_locked();
                        mset.batch = Some(batch);
                        res?;
                        continue;
                    } else if mset.batch_active() {
                        // Anything else abandons an open batch.
                        mset.reject_batch_state();
                    }
                    if op == EntryOp::StreamMsg as u8 || op == EntryOp::CompressedStreamMsg as u8 {
                        self.apply_stream_msg_op(mset, op, &buf[1..], is_recovering)?;
                    } else if op == EntryOp::DeleteMsg as u8 {
                        mset.apply_delete(&buf[1..], is_recovering)?;
                    } else if op == EntryOp::PurgeStream as u8 {
                        mset.apply_purge(&buf[1..], is_recovering)?;
                    } else {
                        return Err(ApplyError::UnknownOp(op));
                    }
                }
                EntryType::Snapshot => {
                    let ss = if is_encoded_stream_state(&e.data) {
                        decode_stream_state(&e.data).map_err(|err| mset.on_bad_state(is_recovering, err.to_string()))?
                    } else {
                        let snap: StreamSnapshot = serde_json::from_slice(&e.data).map_err(|err| mset.on_bad_state(is_recovering, err.to_string()))?;
                        StreamReplicatedState {
                            msgs: snap.msgs,
                            bytes: snap.bytes,
                            first_seq: snap.first_seq,
                            last_seq: snap.last_seq,
                            failed: snap.failed,
                            deleted: if snap.deleted.is_empty() { Vec::new() } else { vec![DeleteBlock::Slice(snap.deleted)] },
                        }
                    };
                    mset.process_snapshot(&ss)?;
                }
                EntryType::RemovePeer => {
                    let peer = String::from_utf8_lossy(&e.data);
                    if peer == mset.our_id.as_str() {
                        let should_remove = mset.group_peers.as_ref().is_none_or(|p| !p.iter().any(|x| x == &mset.our_id));
                        if should_remove {
                            mset.closed = true;
                            mset.stopped = true;
                        }
                    }
                }
                _ => {}
            }
        }
        // An open batch keeps this entry until its commit arrives.
        if let Some(b) = mset.batch.as_mut().filter(|b| !b.id.is_empty()) {
            b.entries.push(ce.clone());
            return Ok(b.max_applied);
        }
        Ok(0)
    }

}

use crate::raft::wire as raft_entry;

#[cfg(test)]
#[path = "stream_apply_tests.rs"]
mod tests;
