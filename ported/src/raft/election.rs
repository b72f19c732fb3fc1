//! Elections and role changes: election and campaign timers, the switches
//! between follower, candidate and leader, vote requests and responses,
//! step-down and leader transfer, observer mode.

use std::time::Duration;

use crate::peer_state::ExtensionState;

use super::env::since;
use super::node::{Raft, RunCtx};
use super::wire::{Entry, EntryType, VoteRequest, VoteResponse};
use super::{RaftError, RaftState, NO_LEADER, NO_VOTE};

impl Raft {
    /// Port of randElectionTimeout
    pub(crate) fn rand_election_timeout(&mut self) -> Duration {
        let (min, max) = (self.timings.min_election_timeout, self.timings.max_election_timeout);
        self.rand_duration(min, max)
    }

    /// Port of randCampaignTimeout
    pub(crate) fn rand_campaign_timeout(&mut self) -> Duration {
        let (min, max) = (self.timings.min_campaign_timeout, self.timings.max_campaign_timeout);
        self.rand_duration(min, max)
    }

    /// Port of (*raft).resetElectionTimeout
    pub(crate) fn reset_election_timeout(&mut self) {
        let et = self.rand_election_timeout();
        self.reset_elect(et);
    }

    /// Port of (*raft).resetElectionTimeoutWithLock
    ///
    /// Re-arms the election timer with a fresh random election timeout, for
    /// callers outside the node's own loop (upstream takes the node lock
    /// first; here `&mut self` stands for it).
    pub fn reset_election_timeout_with_lock(&mut self) {
        self.reset_election_timeout();
    }

    /// Port of (*raft).resetElect
    pub(crate) fn reset_elect(&mut self, et: Duration) {
        let now = self.now();
        self.etlr = Some(now);
        self.elect = now.add(et);
    }

    /// Port of (*raft).resetElectWithLock
    pub fn reset_elect_with_lock(&mut self, et: Duration) {
        self.reset_elect(et);
    }

    /// Port of (*raft).Campaign
    pub fn campaign(&mut self) -> Result<(), RaftError> {
        let et = self.rand_campaign_timeout();
        self.campaign_locked(et)
    }

    /// Port of (*raft).CampaignImmediately
    pub fn campaign_immediately(&mut self) -> Result<(), RaftError> {
        self.maybe_leader = true;
        self.reset_initializing();
        let et = self.timings.min_campaign_timeout / 2;
        self.campaign_locked(et)
    }

    /// Port of (*raft).campaign
    pub(crate) fn campaign_locked(&mut self, et: Duration) -> Result<(), RaftError> {
        self.debug("Starting campaign");
        if self.state == RaftState::Leader {
            return Err(RaftError::AlreadyLeader);
        }
        self.reset_elect(et);
        Ok(())
    }

    /// Port of (*raft).xferCampaign
    pub(crate) fn xfer_campaign(&mut self) -> Result<(), RaftError> {
        self.debug("Starting transfer campaign");
        if self.state == RaftState::Leader {
            self.lxfer = false;
            return Err(RaftError::AlreadyLeader);
        }
        self.reset_elect(Duration::from_millis(10));
        Ok(())
    }

    /// Port of (*raft).switchState
    ///
    /// Returns whether leadership changed.
    pub fn switch_state(&mut self, state: RaftState) -> bool {
        let pstate = self.state;
        if pstate == RaftState::Closed {
            return false;
        }
        self.state = state;
        self.reset_election_timeout();
        let mut lead_change = false;
        if pstate == RaftState::Leader && state != RaftState::Leader {
            lead_change = true;
            self.update_lead_change(false);
            self.resp.clear();
            self.prop.clear();
            // Go's heartbeat goroutine for a shrunk group would find us no
            // longer leader and send nothing; drop the owed heartbeat.
            self.hb_pending = false;
        } else if state == RaftState::Leader && pstate != RaftState::Leader {
            lead_change = true;
            self.pae.clear();
        }
        self.write_term_vote();
        lead_change
    }

    /// Port of (*raft).switchToFollower
    pub fn switch_to_follower(&mut self, leader: &str) {
        self.switch_to_follower_locked(leader);
    }

    /// Port of (*raft).switchToFollowerLocked
    pub(crate) fn switch_to_follower_locked(&mut self, leader: &str) {
        if self.state == RaftState::Closed {
            return;
        }
        self.debug("Switching to follower");
        self.aflr = 0;
        self.leader_state = false;
        self.leader_since = None;
        self.lxfer = false;
        // Acks from one term say nothing about another.
        self.acks.clear();
        self.update_leader(leader);
        self.switch_state(RaftState::Follower);
    }

    /// Port of (*raft).switchToCandidate
    pub fn switch_to_candidate(&mut self) {
        if self.state == RaftState::Closed {
            return;
        }
        if self.observer || self.paused || self.processed < self.commit {
            let et = self.timings.min_election_timeout / 4;
            self.reset_elect(et);
            return;
        }
        if self.state != RaftState::Candidate {
            self.debug("Switching to candidate");
        } else {
            let now = self.now();
            if self.lost_quorum_locked() && since(now, self.llqrt) > Duration::from_secs(20) {
                // Lets the upper layer alert on lost quorum.
                self.update_lead_change(false);
                self.llqrt = Some(now);
            }
        }
        self.term += 1;
        self.vote = NO_VOTE.to_string();
        self.quorum_paused = false;
        self.update_leader(NO_LEADER);
        self.switch_state(RaftState::Candidate);
    }

    /// Port of (*raft).switchToLeader
    pub(crate) fn switch_to_leader(&mut self) {
        if self.state == RaftState::Closed {
            return;
        }
        self.debug("Switching to leader");
        self.lxfer = false;
        let id = self.id.clone();
        self.update_leader(&id);
        self.switch_state(RaftState::Leader);
        // The peer state plays the part of the new leader's no-op entry; the
        // upper layer hears of leadership once it is applied.
        self.send_peer_state();
        self.aflr = self.pindex;
    }

    /// Port of (*raft).updateLeader
    pub(crate) fn update_leader(&mut self, new_leader: &str) {
        let was_leader = self.leader == self.id;
        self.leader = new_leader.to_string();
        self.has_leader = !new_leader.is_empty();
        if !self.pleader && new_leader != NO_LEADER {
            self.pleader = true;
            if self.maybe_leader {
                self.maybe_leader = false;
                if self.id != new_leader {
                    self.update_lead_change(false);
                }
            }
        }
        // Followers only track the leader; leaders keep tracking everyone.
        if new_leader != self.id && !was_leader {
            for (peer, ps) in self.peers.iter_mut() {
                ps.li = 0;
                if peer == new_leader {
                    continue;
                }
                ps.ts = None;
            }
        }
    }

    /// Port of (*raft).stepdown
    pub(crate) fn stepdown(&mut self, new_leader: &str) {
        self.stepdown_locked(new_leader);
    }

    /// Port of (*raft).stepdownLocked
    pub(crate) fn stepdown_locked(&mut self, new_leader: &str) {
        self.debug("Stepping down");
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.clear_vote_on_stepdown {
            self.vote = NO_VOTE.to_string();
        }
        self.switch_to_follower_locked(new_leader);
    }

    /// Port of (*raft).selectNextLeader
    ///
    /// The peer that has replicated the most; among equals, the first in
    /// Go's random map order, drawn here from the injected random source.
    pub(crate) fn select_next_leader(&mut self) -> String {
        let mut next = NO_LEADER.to_string();
        let mut hli = 0u64;
        for peer in self.peers_in_map_order() {
            let Some(ps) = self.peers.get(&peer) else { continue };
            if peer == self.id || ps.li <= hli {
                continue;
            }
            hli = ps.li;
            next = peer;
        }
        next
    }

    // The peer ids in the order a Go `range` over the peers map would visit
    // them: random, from the injected source, so that one seed replays.
    pub(crate) fn peers_in_map_order(&mut self) -> Vec<String> {
        let mut ids: Vec<String> = self.peers.keys().cloned().collect();
        for i in (1..ids.len()).rev() {
            let j = (self.env.rand_u64() % (i as u64 + 1)) as usize;
            ids.swap(i, j);
        }
        ids
    }

    // StepDown's test of a transfer target: known to the server registry,
    // not marked offline, and heard from within three heartbeats.
    fn healthy_transfer_target(&mut self, peer: &str) -> bool {
        let now = self.now();
        let window = self.timings.hb_interval * 3;
        let Some(ts) = self.peers.get(peer).map(|ps| ps.ts) else { return false };
        self.env.node_status(peer) == super::env::NodeStatus::Online && since(now, ts) < window
    }

    /// Port of (*raft).StepDown
    ///
    /// Steps down, first asking a healthy follower (the preferred one if
    /// given) to take over via an `EntryLeaderTransfer`. Healthy means known
    /// to the server registry and not offline ([`super::env::RaftEnv::node_status`],
    /// Go: `nodeToInfo`) and heard from within three heartbeats. Without a
    /// usable preference the first healthy peer in Go's random map order is
    /// chosen.
    pub fn step_down(&mut self, preferred: &[&str]) -> Result<(), RaftError> {
        if self.state != RaftState::Leader {
            return Err(RaftError::NotLeader);
        }
        if preferred.len() > 1 {
            return Err(RaftError::TooManyPrefs);
        }
        self.debug("Being asked to stepdown");
        let mut maybe_leader = preferred.first().map(|p| p.to_string()).unwrap_or_default();
        let mut has_preference = !maybe_leader.is_empty();
        if maybe_leader == self.id {
            maybe_leader = NO_LEADER.to_string();
            has_preference = false;
        }
        if !maybe_leader.is_empty() && !self.healthy_transfer_target(&maybe_leader) {
            maybe_leader = NO_LEADER.to_string();
        }
        if maybe_leader.is_empty() {
            for peer in self.peers_in_map_order() {
                if peer != self.id && self.healthy_transfer_target(&peer) {
                    maybe_leader = peer;
                    break;
                }
            }
        }
        if has_preference && maybe_leader.is_empty() {
            let p = preferred.first().copied().unwrap_or_default();
            self.debug(&format!("Can not transfer to preferred peer {p:?}"));
        }
        if !maybe_leader.is_empty() {
            self.debug(&format!("Selected {maybe_leader:?} for new leader, stepping down due to leadership transfer"));
            let e = Entry::new(EntryType::LeaderTransfer, super::peer_id::id_bytes(&maybe_leader));
            self.send_append_entry(vec![e]);
        }
        self.stepdown(NO_LEADER);
        Ok(())
    }

    /// Port of (*raft).requestVote
    ///
    /// Persists the self-vote before the request goes out.
    pub fn request_vote(&mut self) {
        if self.state != RaftState::Candidate {
            return;
        }
        self.vote = self.id.clone();
        self.write_term_vote();
        let vr = VoteRequest {
            term: self.term,
            last_term: self.pterm,
            last_index: self.pindex,
            candidate: self.id.clone(),
            reply: String::new(),
        };
        self.debug(&format!("Sending out voteRequest {vr:?}"));
        let (subj, reply) = (self.vsubj.clone(), self.vreply.clone());
        self.send_rpc(&subj, &reply, &vr.encode());
    }

    /// Port of (*raft).processVoteRequest
    ///
    /// Grants at most one vote per term, only to a candidate whose log is at
    /// least as up to date, persisting term and vote before replying.
    pub fn process_vote_request(&mut self, vr: &VoteRequest) {
        self.debug(&format!("Received a voteRequest {vr:?}"));
        let mut vresp = VoteResponse { term: self.term, peer: self.id.clone(), granted: false, empty: self.pindex == 0 };

        if vr.term < self.term {
            self.send_reply(&vr.reply, &vresp.encode());
            return;
        }
        if vr.term > self.term {
            if self.state != RaftState::Follower {
                self.debug(&format!("Stepping down from {}, detected higher term: {} vs {}", self.state, vr.term, self.term));
                self.stepdown_locked(NO_LEADER);
            }
            self.cancel_catchup();
            self.term = vr.term;
            self.vote = NO_VOTE.to_string();
            self.write_term_vote();
        }

        let vote_ok = self.vote == NO_VOTE || self.vote == vr.candidate;
        if vote_ok && vresp.empty && self.initializing {
            // While initializing an empty log still counts towards quorum.
            vresp.empty = false;
        }
        if vote_ok && (vr.last_term > self.pterm || vr.last_term == self.pterm && vr.last_index >= self.pindex) {
            vresp.granted = true;
            self.term = vr.term;
            self.vote = vr.candidate.clone();
            self.write_term_vote();
            self.reset_election_timeout();
        } else if self.vote == NO_VOTE && self.state != RaftState::Candidate {
            // Our log is better and we have not voted: campaign sooner.
            let et = self.rand_campaign_timeout();
            self.reset_elect(et);
        }
        vresp.term = self.term;
        self.send_reply(&vr.reply, &vresp.encode());
    }

    /// Port of (*raft).handleVoteRequest
    pub(crate) fn handle_vote_request(&mut self, reply: &str, msg: &[u8]) {
        match super::wire::decode_vote_request(msg, reply) {
            Ok(vr) => self.reqs.push_back(vr),
            Err(_) => {
                let g = self.group.clone();
                self.error(&format!("Received malformed vote request for {g:?}"));
            }
        }
    }

    /// Port of (*raft).handleVoteResponse
    pub(crate) fn handle_vote_response(&mut self, msg: &[u8]) {
        let vr = match super::wire::decode_vote_response(msg) {
            Ok(vr) => vr,
            Err(_) => {
                let g = self.group.clone();
                self.error(&format!("Received malformed vote response for {g:?}"));
                return;
            }
        };
        if self.state != RaftState::Candidate && self.state != RaftState::Leader {
            self.debug("Ignoring old vote response, we have stepped down");
            return;
        }
        self.votes.push_back(vr);
    }

    /// Port of (*raft).wonElection
    pub(crate) fn won_election(&self, votes: usize) -> bool {
        votes >= self.quorum_needed()
    }

    // The vote-response arm of runAsCandidate.
    pub(crate) fn candidate_process_vote(&mut self, vresp: VoteResponse) {
        let (nterm, csz) = (self.term, self.csz);
        if vresp.granted && nterm == vresp.term {
            let _ = self.track_peer(&vresp.peer);
            let (won, all) = match &mut self.run {
                RunCtx::Candidate { votes, empty_votes } => {
                    if !vresp.empty {
                        votes.insert(vresp.peer.clone());
                    } else {
                        empty_votes.insert(vresp.peer.clone());
                    }
                    (votes.len(), votes.len() + empty_votes.len() == csz)
                }
                _ => return,
            };
            // Win on a quorum of normal votes, or on hearing from the whole
            // cluster when some voters have empty logs.
            if self.won_election(won) || all {
                self.switch_to_leader();
                self.restart_loop = true;
            }
        } else if vresp.term > nterm {
            self.debug(&format!("Stepping down from candidate, detected higher term: {} vs {}", vresp.term, self.term));
            self.term = vresp.term;
            self.vote = NO_VOTE.to_string();
            self.write_term_vote();
            self.lxfer = false;
            self.stepdown_locked(NO_LEADER);
        }
    }

    /// Port of (*raft).SetObserver
    ///
    /// Observer on or off with the domain extension state reset to
    /// undetermined.
    pub fn set_observer(&mut self, is_observer: bool) {
        self.set_observer_with_ext(is_observer, ExtensionState::UNDETERMINED);
    }

    /// Port of (*raft).setObserver
    ///
    /// Observer on or off together with what is known about the domain
    /// extension (the leaf-node layer records whether the JetStream domain
    /// is extended); the state is persisted with the next peer state.
    pub fn set_observer_with_ext(&mut self, is_observer: bool, ext_st: ExtensionState) {
        self.set_observer_locked(is_observer, ext_st);
    }

    /// Port of (*raft).setObserverLocked
    pub(crate) fn set_observer_locked(&mut self, is_observer: bool, ext_st: ExtensionState) {
        let was_observer = self.observer;
        self.observer = is_observer;
        self.ext_st = ext_st;
        if was_observer && !is_observer {
            let et = self.rand_election_timeout();
            self.reset_elect(et);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::peer_state::ExtensionState;
    use crate::sim::{test_seed, Cluster};

    fn single_node(test: &str) -> (Cluster, usize) {
        let mut c = Cluster::new("R3S", 3, test_seed(test));
        let slot = c.init_single_mem_raft_node();
        (c, slot)
    }

    #[test]
    fn election_deadline_is_where_the_timer_was_last_armed() {
        let (mut c, slot) = single_node("election_deadline_is_where_the_timer_was_last_armed");
        let n = c.node(slot);
        n.reset_elect_with_lock(Duration::from_secs(3));
        let armed = n.etlr().expect("timer armed");
        assert_eq!(n.election_deadline(), armed.add(Duration::from_secs(3)));
        n.reset_elect_with_lock(Duration::from_millis(250));
        let armed = n.etlr().expect("timer armed");
        assert_eq!(n.election_deadline(), armed.add(Duration::from_millis(250)));
    }

    #[test]
    fn reset_election_timeout_with_lock_uses_the_election_range() {
        let (mut c, slot) = single_node("reset_election_timeout_with_lock_uses_the_election_range");
        let n = c.node(slot);
        let (min, max) = (n.timings.min_election_timeout, n.timings.max_election_timeout);
        assert!(n.timings.max_campaign_timeout < min, "ranges must not overlap for this test to tell them apart");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20 {
            n.internals().set_etlr(None);
            n.reset_election_timeout_with_lock();
            let armed = n.etlr().expect("timer re-armed");
            let et = n.election_deadline().since(armed);
            assert!(et >= min && et < max, "{et:?} outside [{min:?}, {max:?})");
            seen.insert(et);
        }
        assert!(seen.len() > 1, "timeouts are randomised");
    }

    #[test]
    fn set_observer_with_ext_records_extension_state() {
        let (mut c, slot) = single_node("set_observer_with_ext_records_extension_state");
        let n = c.node(slot);
        n.set_observer_with_ext(true, ExtensionState::EXTENDED);
        assert!(n.is_observer());
        assert_eq!(n.current_peer_state().domain_ext, ExtensionState::EXTENDED);

        // Leaving observer mode re-arms the election timer.
        n.internals().set_etlr(None);
        n.set_observer_with_ext(false, ExtensionState::NOT_EXTENDED);
        assert!(!n.is_observer());
        assert_eq!(n.current_peer_state().domain_ext, ExtensionState::NOT_EXTENDED);
        assert!(n.etlr().is_some());

        // SetObserver forgets what was known about the extension.
        n.set_observer(true);
        assert!(n.is_observer());
        assert_eq!(n.current_peer_state().domain_ext, ExtensionState::UNDETERMINED);
    }

    // The EntryLeaderTransfer target of the leader's last WAL entry.
    fn transfer_target(n: &crate::raft::Raft) -> Option<String> {
        let (last, _) = n.last_log();
        let ae = n.log_entry(last).ok()?;
        let e = ae.entries.iter().find(|e| e.typ == crate::raft::EntryType::LeaderTransfer)?;
        Some(crate::raft::peer_id::id_from_bytes(&e.data))
    }

    fn stepped_down_group(test: &str, seed_offset: u64) -> (Cluster, usize, Vec<usize>) {
        let mut c = Cluster::new("R3S", 3, test_seed(test).wrapping_add(seed_offset));
        let rg = c.create_mem_raft_group("TEST", 3, crate::sim::SmKind::Adder);
        let l = c.wait_on_leader(&rg).expect("a leader");
        // Every follower answers a heartbeat or two, so all are healthy.
        c.run_for(Duration::from_millis(200));
        c.freeze(&[l]);
        let followers = rg.members.iter().copied().filter(|&m| m != l).collect();
        (c, l, followers)
    }

    #[test]
    fn step_down_skips_peers_the_server_registry_marks_offline() {
        let test = "step_down_skips_peers_the_server_registry_marks_offline";
        let (mut c, l, followers) = stepped_down_group(test, 0);
        let (a, b) = (followers[0], followers[1]);
        let (a_id, b_id) = (c.node(a).id().to_string(), c.node(b).id().to_string());
        let a_server = c.nodes[a].server;
        c.set_offline(a_server, true);
        c.node(l).step_down(&[a_id.as_str()]).expect("leader steps down");
        assert_eq!(transfer_target(c.node(l)), Some(b_id.clone()), "the offline preference is passed over");

        // A node the registry does not know is no target either.
        let (mut c, l, followers) = stepped_down_group(test, 1);
        let (a, b) = (followers[0], followers[1]);
        let (a_id, b_id) = (c.node(a).id().to_string(), c.node(b).id().to_string());
        c.world.node_registry.borrow_mut().remove(&b_id);
        c.node(l).step_down(&[b_id.as_str()]).expect("leader steps down");
        assert_eq!(transfer_target(c.node(l)), Some(a_id));
    }

    #[test]
    fn step_down_picks_its_target_in_random_map_order() {
        let test = "step_down_picks_its_target_in_random_map_order";
        // Whether each run handed over to the follower with the lower id.
        let mut lower = std::collections::BTreeSet::new();
        for offset in 0..12 {
            let (mut c, l, followers) = stepped_down_group(test, offset);
            let mut ids: Vec<String> = followers.iter().map(|&f| c.node(f).id().to_string()).collect();
            ids.sort();
            c.node(l).step_down(&[]).expect("leader steps down");
            let target = transfer_target(c.node(l)).expect("a healthy follower was chosen");
            assert!(ids.contains(&target));
            lower.insert(target == ids[0]);
        }
        assert_eq!(lower.len(), 2, "neither follower is favoured by its id");
    }
}
