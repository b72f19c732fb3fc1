//! Leader side of replication: proposals (local and forwarded), building and
//! sending append entries, heartbeats, acknowledgement tracking, commit
//! (current-term acknowledgements only) and the apply queue contract
//! (`applyCommit`, `Applied`/`Processed`, pausing and resuming applies).

use crate::snapshot_file::Snapshot;

use super::env::since;
use super::node::{CommittedEntry, ProposedEntry, Raft};
use super::peer_id::id_from_bytes;
use super::wal::WalError;
use super::wire::{decode_append_entry_response, AppendEntry, AppendEntryResponse, Entry, EntryType};
use super::{RaftError, RaftState, NO_LEADER};

use super::append::PAUSE_QUORUM_THRESHOLD;

impl Raft {
    /// Port of (*raft).Propose
    pub fn propose(&mut self, data: &[u8]) -> Result<(), RaftError> {
        self.check_can_propose()?;
        self.prop.push_back(ProposedEntry { entry: Entry::new(EntryType::Normal, data), reply: String::new() });
        Ok(())
    }

    /// Port of (*raft).ProposeMulti
    pub fn propose_multi(&mut self, entries: Vec<Entry>) -> Result<(), RaftError> {
        self.check_can_propose()?;
        for e in entries {
            self.prop.push_back(ProposedEntry { entry: e, reply: String::new() });
        }
        Ok(())
    }

    fn check_can_propose(&mut self) -> Result<(), RaftError> {
        if self.state != RaftState::Leader {
            self.debug(&format!("Proposal ignored, not leader (state: {})", self.state));
            return Err(RaftError::NotLeader);
        }
        if let Some(e) = &self.werr {
            return Err(e.clone());
        }
        if self.is_leader_overrun() {
            self.warn(&format!(
                "Leader falling behind, stepping down: pindex {}, commit {}, applied {}",
                self.pindex, self.commit, self.applied
            ));
            // No transfer: every replica is likely overrun and needs time.
            self.stepdown_locked(NO_LEADER);
            self.overrun_count += 1;
            return Err(RaftError::NotLeader);
        }
        Ok(())
    }

    /// Port of (*raft).isLeaderOverrun
    pub(crate) fn is_leader_overrun(&self) -> bool {
        let applied = self.applied.max(self.papplied);
        let commit = self.commit.max(self.papplied);
        let uncommitted = self.pindex > commit && self.pindex - commit > PAUSE_QUORUM_THRESHOLD;
        let unapplied = commit > applied && commit - applied > PAUSE_QUORUM_THRESHOLD;
        uncommitted || unapplied
    }

    /// Port of (*raft).ForwardProposal
    ///
    /// Proposes locally when leader, otherwise publishes to `$NRG.P.<group>`.
    pub fn forward_proposal(&mut self, entry: &[u8]) -> Result<(), RaftError> {
        if self.state == RaftState::Leader {
            return self.propose(entry);
        }
        let subj = self.psubj.clone();
        self.send_rpc(&subj, "", entry);
        Ok(())
    }

    /// Port of (*raft).handleForwardedProposal
    pub(crate) fn handle_forwarded_proposal(&mut self, reply: &str, msg: &[u8]) {
        if self.state != RaftState::Leader || !self.leader_state {
            self.debug("Ignoring forwarded proposal, not leader");
            return;
        }
        if self.werr.is_some() {
            return;
        }
        if self.is_leader_overrun() {
            self.warn("Leader falling behind, stepping down");
            self.stepdown_locked(NO_LEADER);
            self.overrun_count += 1;
            return;
        }
        self.prop.push_back(ProposedEntry { entry: Entry::new(EntryType::Normal, msg), reply: reply.to_string() });
    }

    // The proposal arm of runAsLeader: batch queued proposals into append
    // entries, membership changes go out on their own.
    pub(crate) fn leader_process_proposals(&mut self) {
        const MAX_BATCH: usize = 256 * 1024;
        const MAX_ENTRIES: usize = 512;
        let es: Vec<ProposedEntry> = self.prop.drain(..).collect();
        let mut entries: Vec<Entry> = Vec::new();
        let mut sz = 0usize;
        for pe in &es {
            if pe.entry.changes_membership() {
                self.send_membership_change(pe.entry.clone());
                continue;
            }
            entries.push(pe.entry.clone());
            sz += pe.entry.data.len() + 1;
            if sz < MAX_BATCH && entries.len() < MAX_ENTRIES {
                continue;
            }
            self.send_append_entry(std::mem::take(&mut entries));
            sz = 0;
        }
        if !entries.is_empty() {
            self.send_append_entry(entries);
        }
        for pe in &es {
            if !pe.reply.is_empty() {
                self.send_reply(&pe.reply, &[]);
            }
        }
    }

    /// Port of (*raft).buildAppendEntry
    pub(crate) fn build_append_entry(&self, entries: Vec<Entry>) -> AppendEntry {
        AppendEntry::new(&self.id, self.term, self.commit, self.pterm, self.pindex, entries)
    }

    /// Port of (*raft).sendAppendEntry
    pub(crate) fn send_append_entry(&mut self, entries: Vec<Entry>) {
        let _ = self.send_append_entry_locked(entries, true);
    }

    /// Port of (*raft).sendAppendEntryLocked
    ///
    /// Stores non-empty entries in our WAL, then publishes to the group.
    pub(crate) fn send_append_entry_locked(&mut self, entries: Vec<Entry>, check_leader: bool) -> Result<(), RaftError> {
        if check_leader && self.state != RaftState::Leader {
            self.debug("Not sending append entry, not leader");
            return Err(RaftError::NotLeader);
        }
        let mut ae = self.build_append_entry(entries);
        ae.buf = ae.encode()?;
        let should_store = ae.should_store();
        if should_store {
            self.store_to_wal(&ae)?;
            self.active = Some(self.now());
            self.cache_pending_entry(ae.clone());
        }
        let (asubj, areply) = (self.asubj.clone(), self.areply.clone());
        self.send_rpc(&asubj, &areply, &ae.buf);
        if self.csz == 1 {
            let _ = self.try_commit(self.pindex);
        }
        Ok(())
    }

    /// Port of (*raft).sendHeartbeat
    pub(crate) fn send_heartbeat(&mut self) {
        self.send_append_entry(Vec::new());
    }

    /// Port of (*raft).sendPeerState
    pub(crate) fn send_peer_state(&mut self) {
        let ps = self.encoded_peer_state();
        let _ = self.send_append_entry_locked(vec![Entry::new(EntryType::PeerState, ps)], true);
    }

    /// Port of (*raft).notActive
    pub(crate) fn not_active(&self) -> bool {
        since(self.now(), self.active) > self.timings.hb_interval
    }

    /// Port of (*raft).handleAppendEntryResponse
    pub(crate) fn handle_append_entry_response(&mut self, reply: &str, msg: &[u8]) {
        match decode_append_entry_response(msg) {
            Ok(mut ar) => {
                ar.reply = reply.to_string();
                self.resp.push_back(ar);
            }
            // Go would dereference nil here; a malformed response is dropped.
            Err(e) => self.warn(&format!("Dropping malformed append entry response: {e}")),
        }
    }

    /// Port of (*raft).processAppendEntryResponse
    pub(crate) fn process_append_entry_response(&mut self, ar: AppendEntryResponse) {
        let _ = self.track_peer(&ar.peer);
        if ar.success {
            // ar.term is the follower's pterm here.
            let mut committed = false;
            let mut err = None;
            if self.track_response(&ar) {
                match self.try_commit(ar.index) {
                    Ok(c) => committed = c,
                    Err(e) => err = Some(e),
                }
            }
            if err == Some(RaftError::NodeRemoved) {
                let _ = self.step_down(&[]);
                self.stop();
            }
            // Let followers apply without waiting for the next entry.
            if committed && self.prop.is_empty() {
                self.send_heartbeat();
            }
        } else if !ar.reply.is_empty() {
            // The follower is behind and gave an inbox: catch it up.
            self.catchup_follower(ar);
        } else if ar.term > self.term {
            self.term = ar.term;
            self.vote = super::NO_VOTE.to_string();
            self.write_term_vote();
            self.warn("Detected another leader with higher term, will stepdown");
            self.stepdown_locked(NO_LEADER);
        }
    }

    /// Port of (*raft).trackResponse
    ///
    /// Records a success response; only responses for our current term
    /// count towards commit.
    pub(crate) fn track_response(&mut self, ar: &AppendEntryResponse) -> bool {
        if self.state != RaftState::Leader {
            return false;
        }
        let known = if let Some(ps) = self.peers.get_mut(&ar.peer) {
            if ar.index > ps.li {
                ps.li = ar.index;
            }
            true
        } else {
            false
        };
        if let Some(runner) = self.progress.get(&ar.peer).and_then(|id| self.catchups.get_mut(id)) {
            runner.updates.push_back(ar.index);
        }
        #[allow(unused_mut)]
        let mut wrong_term = ar.term != self.term;
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.count_previous_term_acks {
            wrong_term = false;
        }
        if ar.index <= self.commit || wrong_term {
            // A follower's success carries its pterm, which a leader of a
            // later term can never have been overtaken by without stepping
            // down first (upstream: assert.AlwaysOrUnreachable).
            if ar.term > self.term {
                self.unreachable("Raft response term mismatch");
            }
            return false;
        }
        if !known {
            return false;
        }
        self.acks.entry(ar.index).or_default().insert(ar.peer.clone());
        true
    }

    /// Port of (*raft).tryCommit
    ///
    /// Commits through `index` once acknowledgements plus ourselves reach quorum.
    pub(crate) fn try_commit(&mut self, index: u64) -> Result<bool, RaftError> {
        let mut acks = self.acks.get(&index).map_or(0, |a| a.len());
        if self.peers.contains_key(&self.id) {
            acks += 1;
        }
        if acks < self.qn {
            return Ok(false);
        }
        let mut i = self.commit + 1;
        while i <= index {
            if let Err(e) = self.apply_commit(i) {
                if e != RaftError::NodeClosed && e != RaftError::NodeRemoved {
                    self.error(&format!("Got an error applying commit for {i}: {e}"));
                }
                return Err(e);
            }
            i += 1;
        }
        Ok(true)
    }

    /// Port of (*raft).applyCommit
    ///
    /// Marks `index` committed and queues its entries for the upper layer;
    /// peer-state and membership entries are handled here.
    pub(crate) fn apply_commit(&mut self, index: u64) -> Result<(), RaftError> {
        if self.state == RaftState::Closed {
            return Err(RaftError::NodeClosed);
        }
        if index <= self.commit {
            self.debug(&format!("Ignoring apply commit for {index}, already processed"));
            return Ok(());
        }
        if self.state == RaftState::Leader {
            self.acks.remove(&index);
        }
        let ae = match self.pae.remove(&index) {
            Some(ae) => ae,
            None => {
                if index < self.papplied {
                    return Ok(());
                }
                match self.load_entry(index) {
                    Ok(ae) => ae,
                    Err(e) => {
                        if !matches!(e, RaftError::Wal(WalError::Closed | WalError::Eof)) {
                            self.warn(&format!("Got an error loading {index} index: {e} - will reset"));
                            if self.state == RaftState::Leader {
                                let next = self.select_next_leader();
                                self.stepdown_locked(&next);
                            }
                            self.reset_wal();
                            self.cancel_catchup();
                        }
                        return Err(RaftError::EntryLoadFailed);
                    }
                }
            }
        };

        self.commit = index;
        let mut committed = Vec::new();
        let mut result = Ok(());
        for e in &ae.entries {
            match e.typ {
                EntryType::Normal => committed.push(e.clone()),
                EntryType::OldSnapshot => committed.push(Entry::new(EntryType::Snapshot, e.data.clone())),
                EntryType::Snapshot => {
                    committed.push(e.clone());
                    // Without a snapshot of our own, adopt the leader's.
                    if ae.entries.len() == 1 && self.snapfile.is_empty() && ae.commit > 0 {
                        let snap = Snapshot {
                            last_term: ae.pterm,
                            last_index: ae.commit,
                            peer_state: self.encoded_peer_state(),
                            data: e.data.clone(),
                        };
                        let _ = self.install_snapshot(snap);
                    }
                }
                EntryType::PeerState => {
                    if self.state != RaftState::Leader {
                        if let Ok(ps) = crate::peer_state::decode_peer_state(&e.data) {
                            self.process_peer_state(&ps);
                        }
                    }
                }
                EntryType::AddPeer => {
                    let new_peer = id_from_bytes(&e.data);
                    self.debug(&format!("Added peer {new_peer:?}"));
                    self.add_peer(&new_peer);
                    committed.push(e.clone());
                    self.memb_change_index = 0;
                }
                EntryType::RemovePeer => {
                    let peer = id_from_bytes(&e.data);
                    self.debug(&format!("Removing peer {peer:?}"));
                    self.remove_peer(&peer);
                    committed.push(e.clone());
                    self.memb_change_index = 0;
                    if peer == self.id && self.state == RaftState::Leader {
                        result = Err(RaftError::NodeRemoved);
                        break;
                    }
                }
                _ => {}
            }
        }
        // Even an empty batch goes up, so the upper layer calls Applied.
        self.apply.push_back(Some(CommittedEntry { index, entries: committed }));
        result
    }

    /// Port of (*raft).Applied
    pub fn applied(&mut self, index: u64) -> (u64, u64) {
        self.processed(index, index)
    }

    /// Port of (*raft).Processed
    ///
    /// Returns the entries and estimated bytes a snapshot could now compact.
    pub fn processed(&mut self, index: u64, applied: u64) -> (u64, u64) {
        if index > self.commit {
            return (0, 0);
        }
        if index > self.processed {
            self.processed = index;
        }
        let applied = applied.min(index);
        if applied > self.applied {
            self.applied = applied;
        }
        // Leadership is announced once our first entries as leader are processed.
        if self.aflr > 0 && self.processed >= self.aflr {
            self.aflr = 0;
            if self.state == RaftState::Leader {
                if !self.leader_state {
                    self.leader_state = true;
                    self.leader_since = Some(self.now());
                }
                self.update_lead_change(true);
            }
        }
        let mut entries = 0;
        let mut bytes = 0;
        if self.applied > self.papplied {
            entries = self.applied - self.papplied;
        }
        let msgs = self.pindex.saturating_sub(self.papplied);
        if msgs > 0 {
            bytes = entries * self.bytes / msgs;
        }
        (entries, bytes)
    }

    /// Port of (*raft).PauseApply
    pub fn pause_apply(&mut self) -> Result<(), RaftError> {
        if self.state == RaftState::Leader {
            return Err(RaftError::AlreadyLeader);
        }
        self.pause_apply_locked();
        Ok(())
    }

    /// Port of (*raft).pauseApplyLocked
    pub(crate) fn pause_apply_locked(&mut self) {
        if self.state != RaftState::Follower {
            self.stepdown_locked(NO_LEADER);
        }
        self.debug("Pausing our apply channel");
        self.paused = true;
        if self.hcommit < self.commit {
            self.hcommit = self.commit;
        }
        // No campaigning while paused and catching up.
        let et = self.timings.observer_mode_interval;
        self.reset_elect(et);
    }

    /// Port of (*raft).ResumeApply
    pub fn resume_apply(&mut self) {
        if !self.paused {
            return;
        }
        self.debug("Resuming our apply channel");
        self.reset_election_timeout();
        if self.hcommit > self.commit {
            let mut index = self.commit + 1;
            while index <= self.hcommit {
                if let Err(e) = self.apply_commit(index) {
                    self.warn(&format!("Got error on apply commit during replay: {e}"));
                    break;
                }
                if self.state == RaftState::Closed {
                    return;
                }
                index += 1;
            }
        }
        self.paused = false;
        self.hcommit = 0;
        if self.lxfer {
            let _ = self.xfer_campaign();
        } else {
            self.reset_election_timeout();
        }
    }

    /// Port of (*raft).lostQuorum
    pub(crate) fn lost_quorum(&self) -> bool {
        self.lost_quorum_locked()
    }

    /// Port of (*raft).lostQuorumLocked
    pub(crate) fn lost_quorum_locked(&self) -> bool {
        let now = self.now();
        if !self.resp.is_empty() || (self.lsut.is_some() && since(now, self.lsut) < self.timings.lost_quorum_interval) {
            return false;
        }
        let mut nc = 0;
        for (id, peer) in &self.peers {
            if *id == self.id || since(now, peer.ts) < self.timings.lost_quorum_interval {
                nc += 1;
                if nc >= self.qn {
                    return false;
                }
            }
        }
        true
    }

    /// Port of (*raft).Quorum
    pub fn quorum(&self) -> bool {
        let now = self.now();
        let mut nc = 0;
        for (id, peer) in &self.peers {
            if *id == self.id || since(now, peer.ts) < self.timings.lost_quorum_interval {
                nc += 1;
                if nc >= self.qn {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::raft::wire::AppendEntryResponse;
    use crate::sim::{test_seed, Cluster};

    const PEER1: &str = "yrzKKRBu";

    #[test]
    fn track_response_asserts_no_success_from_a_later_term() {
        let mut c = Cluster::new("R3S", 3, test_seed("track_response_asserts_no_success_from_a_later_term"));
        let slot = c.init_single_mem_raft_node();
        c.freeze(&[slot]);
        let n = c.node(slot);
        n.update_known_peers(&[n.id().to_string(), PEER1.to_string()]);
        n.term = 3;
        n.switch_to_leader();
        let term = n.term();

        // An earlier term is ignored quietly: stale, but possible.
        assert!(!n.track_response(&AppendEntryResponse::new(term - 1, 5, PEER1, true)));
        assert!(n.assertion_failures().is_empty());
        // The current term counts.
        assert!(n.track_response(&AppendEntryResponse::new(term, 5, PEER1, true)));
        assert!(n.assertion_failures().is_empty());
        // A later term cannot happen while we lead: the assertion fires.
        assert!(!n.track_response(&AppendEntryResponse::new(term + 1, 6, PEER1, true)));
        assert_eq!(n.assertion_failures(), ["Raft response term mismatch"]);
    }
}
