//! Follower side of replication: `processAppendEntry` with its consistency
//! check on (pterm, pindex), WAL storage and truncation, and the follower's
//! half of catch-up (requesting, tracking, cancelling a catch-up stream).

use std::time::Duration;

use crate::peer_state::decode_peer_state;
use crate::snapshot_file::Snapshot;

use super::env::{Sid, Timestamp};
use super::node::{CatchupState, CommittedEntry, Raft};
use super::peer_id::{id_bytes, id_from_bytes};
use super::wal::msg_size;
use super::wire::{decode_append_entry, AppendEntry, AppendEntryResponse, Entry, EntryType};
use super::{RaftError, RaftState, ID_LEN, NO_LEADER, NO_VOTE};

/// Commits further than this ahead of applies pause quorum participation.
pub const PAUSE_QUORUM_THRESHOLD: u64 = 100_000;
/// Pending append entries beyond this are not cached.
pub const PAE_DROP_THRESHOLD: usize = 20_000;
/// Warn when this many append entries are pending.
pub const PAE_WARN_THRESHOLD: u64 = 10_000;
/// Warn every this many pending append entries.
pub const PAE_WARN_MODULO: usize = 5_000;

enum Mismatch {
    Done,
    Continue,
}

impl Raft {
    /// Port of (*raft).handleAppendEntry
    pub(crate) fn handle_append_entry(&mut self, sid: Sid, reply: &str, msg: &[u8]) {
        match decode_append_entry(msg, Some(sid), reply) {
            Ok(ae) => self.entry.push_back(ae),
            Err(_) => self.warn("AppendEntry failed to be placed on internal channel: corrupt entry"),
        }
    }

    // Planted bug (test builds only): new entries of a lower term go on.
    #[cfg(any(test, feature = "testing"))]
    fn accepts_lower_term(&self, is_new: bool) -> bool {
        is_new && self.bugs.accept_lower_term_entries
    }

    #[cfg(not(any(test, feature = "testing")))]
    fn accepts_lower_term(&self, _is_new: bool) -> bool {
        false
    }

    /// Port of (*raft).outOfResources
    pub(crate) fn out_of_resources(&mut self) -> bool {
        if !self.track {
            return false;
        }
        let wtype = self.wtype;
        self.env.jetstream_limits_exceeded(wtype)
    }

    /// Port of (*raft).processAppendEntries
    ///
    /// Entries are always taken off the queue; while closed or out of
    /// resources they are dropped unprocessed.
    pub(crate) fn process_append_entries(&mut self) {
        let mut can_process = true;
        if self.is_closed() {
            self.debug("AppendEntry not processing inbound, closed");
            can_process = false;
        }
        if self.out_of_resources() {
            self.debug("AppendEntry not processing inbound, no resources");
            can_process = false;
        }
        let aes: Vec<AppendEntry> = self.entry.drain(..).collect();
        if can_process {
            for ae in aes {
                let sub = ae.sub;
                self.process_append_entry(ae, sub);
            }
        }
    }

    /// Port of (*raft).processAppendEntry
    ///
    /// `sub` is the subscription the entry arrived on: the live append-entry
    /// subscription, a catch-up inbox, or `None` when replaying the WAL.
    pub fn process_append_entry(&mut self, mut ae: AppendEntry, sub: Option<Sid>) {
        if !self.lxfer {
            self.reset_election_timeout();
        }
        if self.state == RaftState::Closed || self.werr.is_some() {
            return;
        }

        // During catch-up the leader's current term travels in lterm.
        let lterm = if ae.lterm != 0 { ae.lterm } else { ae.term };

        if self.state == RaftState::Leader {
            if lterm >= self.term {
                if lterm > self.term {
                    self.term = lterm;
                    self.vote = NO_VOTE.to_string();
                    self.write_term_vote();
                } else {
                    self.unreachable("Two leaders using the same term");
                }
                self.debug(&format!("Received append entry from another leader, stepping down to {:?}", ae.leader));
                let leader = ae.leader.clone();
                self.stepdown_locked(&leader);
            } else {
                let ar = AppendEntryResponse::new(self.term, self.pindex, &self.id, false);
                self.debug("AppendEntry ignoring old term from another leader");
                self.send_rpc(&ae.reply, "", &ar.encode());
                return;
            }
        }

        if self.state == RaftState::Candidate && lterm >= self.term {
            if lterm > self.term {
                self.term = lterm;
                self.vote = NO_VOTE.to_string();
                self.write_term_vote();
            }
            self.debug(&format!("Received append entry in candidate state from {:?}, converting to follower", ae.leader));
            let leader = ae.leader.clone();
            self.stepdown_locked(&leader);
        }

        let mut catching_up = self.catchup.is_some();
        let is_new = sub.is_some() && sub == self.aesub;
        let catchup_sub = self.catchup.as_ref().and_then(|c| c.sub);

        // Drop stale catch-up traffic from an older catch-up stream.
        if !is_new && sub.is_some() && (ae.lterm == 0 || ae.pindex < self.pindex) && (!catching_up || sub != catchup_sub) {
            self.debug("AppendEntry ignoring old entry from previous catchup");
            return;
        }

        if lterm > self.term {
            self.term = lterm;
            self.vote = NO_VOTE.to_string();
            if is_new {
                self.write_term_vote();
            }
            if self.state != RaftState::Follower {
                let leader = ae.leader.clone();
                self.stepdown_locked(&leader);
            }
        } else if lterm < self.term && sub.is_some() && (is_new || ae.lterm != 0) && !self.accepts_lower_term(is_new) {
            // Replays (sub = None) always continue.
            if !is_new {
                self.debug("AppendEntry ignoring old entry from previous catchup");
                return;
            }
            self.debug(&format!("Rejected AppendEntry from a leader ({}) with term {lterm} which is less than ours", ae.leader));
            let ar = AppendEntryResponse::new(self.term, self.pindex, &self.id, false);
            self.send_rpc(&ae.reply, "", &ar.encode());
            return;
        }

        if catching_up {
            let done = self.catchup.as_ref().is_some_and(|cs| self.pterm >= cs.cterm && self.pindex >= cs.cindex);
            if done {
                self.cancel_catchup();
                catching_up = false;
            } else if is_new {
                if self.catchup_stalled() {
                    self.debug("Catchup may be stalled, will request again");
                    let inbox = self.create_catchup(&ae);
                    let ar = AppendEntryResponse::new(self.pterm, self.pindex, &self.id, false);
                    self.send_rpc(&ae.reply, &inbox, &ar.encode());
                }
                // New entries wait until the catch-up is done.
                return;
            }
        }

        if is_new && self.leader != ae.leader && self.state == RaftState::Follower {
            self.debug(&format!("AppendEntry updating leader to {:?}", ae.leader));
            let leader = ae.leader.clone();
            self.update_leader(&leader);
            self.write_term_vote();
            self.reset_election_timeout();
            self.update_lead_change(false);
        }

        // Tracked only after the checks above so an old leader is never tracked.
        if is_new && ae.leader != NO_LEADER && ae.leader == self.leader {
            let now = self.now();
            if let Some(ps) = self.peers.get_mut(&ae.leader) {
                ps.ts = Some(now);
            }
        }

        // Stop accepting entries while applies lag far behind commits.
        let applied = self.applied.max(self.papplied);
        let commit = self.commit.max(self.papplied);
        if sub.is_some() && (commit > applied || self.quorum_paused) {
            let diff = commit - applied;
            if self.quorum_paused {
                if diff > PAE_WARN_THRESHOLD {
                    return;
                }
                self.quorum_paused = false;
                self.warn(&format!("Quorum resumed: commit {commit}, applied {applied}"));
            } else if diff > PAUSE_QUORUM_THRESHOLD {
                self.quorum_paused = true;
                self.overrun_count += 1;
                self.warn(&format!("Quorum paused, falling behind: commit {commit} != applied {applied}"));
                return;
            }
        }

        if ae.pterm != self.pterm || ae.pindex != self.pindex {
            if ae.pindex <= self.pindex {
                match self.handle_behind_or_equal(&ae, is_new) {
                    Mismatch::Done => return,
                    Mismatch::Continue => {}
                }
            } else if catching_up {
                self.install_catchup_snapshot(&mut ae);
                return;
            } else {
                self.debug(&format!(
                    "AppendEntry did not match [{}:{}] with [{}:{}]",
                    ae.pterm, ae.pindex, self.pterm, self.pindex
                ));
                let inbox = self.create_catchup(&ae);
                let ar = AppendEntryResponse::new(self.pterm, self.pindex, &self.id, false);
                self.send_rpc(&ae.reply, &inbox, &ar.encode());
                return;
            }
        }

        #[allow(unused_mut)]
        let mut early_ack = false;
        // Planted bug (test builds only): acknowledge before the entry is durable.
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.ack_before_wal_write && sub.is_some() && is_new && ae.should_store() {
            early_ack = true;
            let ar = AppendEntryResponse::new(ae.term, ae.pindex + 1, &self.id, true);
            self.acks_sent.push((ar.index, self.pindex));
            self.send_rpc(&ae.reply, "", &ar.encode());
        }

        if ae.should_store() {
            if sub.is_some() {
                if let Err(e) = self.store_to_wal(&ae) {
                    if e != RaftError::Wal(super::wal::WalError::Closed) {
                        self.warn(&format!("Error storing entry to WAL: {e}"));
                    }
                    return;
                }
                self.cache_pending_entry(ae.clone());
                self.reset_initializing();
            } else {
                // Replay at startup: the entry is already in the WAL.
                self.pterm = ae.term;
                self.pindex = ae.pindex + 1;
            }
        }

        for e in &ae.entries {
            match e.typ {
                EntryType::LeaderTransfer => {
                    // Only live entries; never replays or catch-ups.
                    if is_new && e.data[..] == *id_bytes(&self.id) {
                        if !self.observer && !self.paused {
                            self.lxfer = true;
                            let _ = self.xfer_campaign();
                        } else if self.paused {
                            self.lxfer = true;
                        }
                    }
                }
                EntryType::AddPeer => {
                    self.memb_change_index = self.pindex;
                    if e.data.len() == ID_LEN {
                        // Tracked now, official only once committed.
                        self.peers.entry(id_from_bytes(&e.data)).or_default();
                    }
                }
                EntryType::RemovePeer => {
                    self.memb_change_index = self.pindex;
                }
                _ => {}
            }
        }

        let ae_commit = ae.commit;
        let ae_reply = ae.reply.clone();
        if ae_commit > self.commit {
            if catching_up {
                self.send_catchup_signal();
            }
            if self.paused {
                self.hcommit = ae_commit;
                self.debug(&format!("Paused, not applying {ae_commit}"));
            } else {
                let mut index = self.commit + 1;
                while index <= ae_commit {
                    if self.apply_commit(index).is_err() {
                        break;
                    }
                    index += 1;
                }
            }
        }

        // Success only ever answers live entries: catch-up and replayed
        // entries must never count towards quorum.
        if sub.is_some() && is_new && !early_ack {
            let ar = AppendEntryResponse::new(self.pterm, self.pindex, &self.id, true);
            #[cfg(any(test, feature = "testing"))]
            self.acks_sent.push((ar.index, self.pindex));
            self.send_rpc(&ae_reply, "", &ar.encode());
        }
    }

    // The `ae.pindex <= n.pindex` arm of processAppendEntry: either the
    // entry is already known, or our log must be truncated back to it.
    fn handle_behind_or_equal(&mut self, ae: &AppendEntry, is_new: bool) -> Mismatch {
        self.debug(&format!(
            "AppendEntry detected pindex less than/equal to ours: [{}:{}] vs [{}:{}]",
            ae.pterm, ae.pindex, self.pterm, self.pindex
        ));
        let mut success = false;
        if ae.pindex < self.commit {
            success = true;
        } else {
            match self.load_entry(ae.pindex) {
                Err(_) => {
                    if ae.pterm == self.pterm && is_new {
                        // Already processed (restart around a snapshot).
                        success = true;
                    } else if ae.pindex == self.pindex {
                        // Only the terms differ: take the leader's.
                        self.truncate_wal(ae.pterm, ae.pindex);
                    } else {
                        match self.load_last_snapshot() {
                            Ok(Some(snap)) if snap.last_index == ae.pindex && snap.last_term == ae.pterm => {
                                // The entry is covered by our snapshot.
                                self.truncate_wal(snap.last_term, snap.last_index);
                                if ae.pterm == self.pterm && ae.pindex == self.pindex {
                                    return Mismatch::Continue;
                                }
                            }
                            _ => self.reset_wal(),
                        }
                    }
                }
                Ok(eae) if eae.term == ae.pterm => {
                    self.truncate_wal(ae.pterm, ae.pindex);
                    if ae.pterm == self.pterm && ae.pindex == self.pindex {
                        return Mismatch::Continue;
                    }
                }
                Ok(eae) => {
                    // Conflicting term: drop it and what follows, never below commit.
                    if eae.pindex < self.commit {
                        success = true;
                        self.unreachable("Truncate to earlier entry would lose commits");
                    } else {
                        self.truncate_wal(eae.pterm, eae.pindex);
                    }
                }
            }
        }
        if !success {
            self.cancel_catchup();
        }
        // No reply either way: a "success" here could grant quorum on a log
        // that is not up to date.
        Mismatch::Done
    }

    // The catch-up arm for an entry ahead of us: it must be the leader's
    // snapshot plus peer state, installed as our own snapshot.
    fn install_catchup_snapshot(&mut self, ae: &mut AppendEntry) {
        let ok_shape = ae.entries.len() == 2
            && ae.entries[0].typ == EntryType::Snapshot
            && ae.entries[1].typ == EntryType::PeerState;
        if !ok_shape {
            self.warn("Expected first catchup entry to be a snapshot and peerstate, will retry");
            self.cancel_catchup();
            return;
        }
        match decode_peer_state(&ae.entries[1].data) {
            Ok(ps) => self.process_peer_state(&ps),
            Err(_) => {
                self.warn("Could not parse snapshot peerstate correctly");
                self.cancel_catchup();
                return;
            }
        }
        let had_previous_snapshot = !self.snapfile.is_empty();
        self.pindex = ae.pindex;
        self.pterm = ae.pterm;
        self.commit = ae.pindex;
        let snap = Snapshot {
            last_term: self.pterm,
            last_index: self.pindex,
            peer_state: self.encoded_peer_state(),
            data: ae.entries[0].data.clone(),
        };
        if let Err(e) = self.install_snapshot(snap) {
            self.set_write_err_locked(e);
            return;
        }
        self.reset_initializing();
        if !had_previous_snapshot {
            // A first snapshot from another server lets the upper layer
            // coalesce the catch-up entries that follow.
            self.send_catchup_signal();
        }
        let first: Entry = ae.entries[0].clone();
        self.apply.push_back(Some(CommittedEntry { index: self.commit, entries: vec![first] }));
        if had_previous_snapshot {
            self.send_catchup_signal();
        }
    }

    /// Port of (*raft).storeToWAL
    ///
    /// The stored sequence must be `pindex + 1`; otherwise the WAL is reset.
    pub(crate) fn store_to_wal(&mut self, ae: &AppendEntry) -> Result<(), RaftError> {
        if let Some(e) = &self.werr {
            return Err(e.clone());
        }
        let seq = match self.wal.store_msg(&ae.buf) {
            Ok(seq) => seq,
            Err(e) => {
                self.set_write_err_locked(e.clone().into());
                return Err(e.into());
            }
        };
        if ae.pindex + 1 != seq {
            self.warn(&format!(
                "Wrong index, ae is {:?}, index stored was {seq}, n.pindex is {}, will reset",
                (ae.term, ae.pterm, ae.pindex),
                self.pindex
            ));
            if self.state == RaftState::Leader {
                let next = self.select_next_leader();
                self.stepdown_locked(&next);
            }
            self.reset_wal();
            self.cancel_catchup();
            return Err(RaftError::EntryStoreFailed);
        }
        self.bytes += msg_size(self.wtype, ae.buf.len());
        self.pterm = ae.term;
        self.pindex = seq;
        Ok(())
    }

    /// Port of (*raft).cachePendingEntry
    pub(crate) fn cache_pending_entry(&mut self, ae: AppendEntry) {
        let l = self.pae.len();
        if l < PAE_DROP_THRESHOLD {
            self.pae.insert(self.pindex, ae);
            let l = l + 1;
            if l as u64 >= PAE_WARN_THRESHOLD && l % PAE_WARN_MODULO == 0 {
                self.warn(&format!("{l} append entries pending"));
            }
        } else {
            // We might have cached a different entry at this index before.
            self.pae.remove(&self.pindex);
        }
    }

    /// Port of (*raft).truncateWAL
    ///
    /// Drops entries after `index`, invalidates a snapshot beyond it and
    /// clamps commit ≥ processed ≥ applied to the new last index.
    pub fn truncate_wal(&mut self, term: u64, index: u64) {
        self.debug(&format!("Truncating and repairing WAL to Term {term} Index {index}"));
        if term == 0 && index == 0 {
            if self.commit > 0 {
                self.warn("Resetting WAL state");
            } else {
                self.debug("Clearing WAL state (no commits)");
            }
        }
        if index < self.commit {
            self.unreachable("WAL truncate lost commits");
        }
        match self.wal.truncate(index) {
            Err(e) => {
                self.warn(&format!("Error truncating WAL: {e}"));
                self.set_write_err_locked(e.into());
            }
            Ok(()) => {
                self.pterm = term;
                self.pindex = index;
                if self.memb_change_index > 0 && self.memb_change_index > index {
                    self.memb_change_index = 0;
                }
            }
        }
        if let Ok(Some(snap)) = self.load_last_snapshot() {
            if snap.last_index > index {
                let f = std::mem::take(&mut self.snapfile);
                let _ = self.env.fs().remove(&f);
            }
        }
        if self.commit > self.pindex {
            self.commit = self.pindex;
        }
        if self.processed > self.commit {
            self.processed = self.commit;
        }
        if self.applied > self.processed {
            self.applied = self.processed;
        }
        self.bytes = self.wal.state().bytes;
    }

    /// Port of (*raft).resetWAL
    pub(crate) fn reset_wal(&mut self) {
        self.truncate_wal(0, 0);
    }

    /// Port of (*raft).resetInitializing
    pub(crate) fn reset_initializing(&mut self) {
        self.initializing = false;
        if self.scale_up {
            self.scale_up = false;
            self.set_observer_locked(false, crate::peer_state::ExtensionState::UNDETERMINED);
        }
    }

    /// Port of (*raft).createCatchup
    ///
    /// Subscribes a fresh catch-up inbox and returns it; the leader streams
    /// the missing entries there.
    pub(crate) fn create_catchup(&mut self, ae: &AppendEntry) -> String {
        if let Some(old) = self.catchup.as_ref().and_then(|c| c.sub) {
            self.unsubscribe(Some(old));
        }
        let now = self.now();
        self.catchup = Some(CatchupState {
            sub: None,
            cterm: ae.pterm,
            cindex: ae.pindex,
            pterm: self.pterm,
            pindex: self.pindex,
            active: Some(now),
            signal: false,
        });
        let inbox = self.new_catchup_inbox();
        let sub = self.subscribe(&inbox, super::node::SubKind::AppendEntry).ok();
        if let Some(cs) = self.catchup.as_mut() {
            cs.sub = sub;
        }
        inbox
    }

    /// Port of (*raft).cancelCatchup
    pub(crate) fn cancel_catchup(&mut self) {
        if let Some(sub) = self.catchup.as_ref().and_then(|c| c.sub) {
            self.unsubscribe(Some(sub));
        }
        self.cancel_catchup_signal();
        self.catchup = None;
    }

    /// Port of (*raft).catchupStalled
    ///
    /// Stalled means no progress on pindex for two seconds.
    pub(crate) fn catchup_stalled(&mut self) -> bool {
        let now: Timestamp = self.now();
        let pindex = self.pindex;
        match self.catchup.as_mut() {
            None => false,
            Some(cs) if cs.pindex == pindex => super::env::since(now, cs.active) > Duration::from_secs(2),
            Some(cs) => {
                cs.pindex = pindex;
                cs.active = Some(now);
                false
            }
        }
    }

    /// Port of (*raft).sendCatchupSignal
    pub(crate) fn send_catchup_signal(&mut self) {
        match self.catchup.as_mut() {
            Some(cs) if !cs.signal => cs.signal = true,
            _ => return,
        }
        self.apply.push_back(Some(CommittedEntry { index: 0, entries: vec![Entry::new(EntryType::Catchup, Vec::new())] }));
    }

    /// Port of (*raft).cancelCatchupSignal
    pub(crate) fn cancel_catchup_signal(&mut self) {
        if self.catchup.as_ref().is_some_and(|c| c.signal) {
            self.apply.push_back(None);
        }
    }

    // Go's antithesis `assert.Unreachable`: recorded so tests can check it.
    pub(crate) fn unreachable(&mut self, what: &str) {
        self.error(&format!("unreachable: {what}"));
        self.assert_failures.push(what.to_string());
    }

    /// Assertions from upstream's `assert.Unreachable` sites that fired.
    pub fn assertion_failures(&self) -> &[String] {
        &self.assert_failures
    }
}
