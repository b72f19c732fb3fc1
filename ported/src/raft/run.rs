//! The event loop replacing Go's `run`, `runAsFollower`, `runAsCandidate`
//! and `runAsLeader` goroutine: [`Raft::deliver`] is the subscription
//! callback side (decode and queue), [`Raft::tick`] runs the select loop of
//! the current role over queued work and due timers until nothing is left,
//! and [`Raft::next_deadline`] tells the host when to call `tick` again.

use super::env::{Sid, Timestamp};
use super::node::{Raft, RunCtx, SubKind};
use super::wire::VoteResponse;
use super::{RaftError, RaftState, NO_LEADER};

/// Events one [`Raft::tick`] may handle before it reports the loop stuck.
/// Far above what any real burst needs: a tick handles the messages and
/// timers due at one instant.
pub const TICK_STEP_BUDGET: u64 = 1_000_000;

impl Raft {
    /// Hands a message that arrived on subscription `sid` to its handler
    /// (Go: the `handle*` subscription callbacks). Work is queued; call
    /// [`Raft::tick`] afterwards.
    pub fn deliver(&mut self, sid: Sid, _subject: &str, reply: &str, data: &[u8]) {
        let Some(kind) = self.subs.get(&sid).copied() else { return };
        match kind {
            SubKind::VoteResponse => self.handle_vote_response(data),
            SubKind::VoteRequest => self.handle_vote_request(reply, data),
            SubKind::AppendEntryResponse => self.handle_append_entry_response(reply, data),
            SubKind::AppendEntry => self.handle_append_entry(sid, reply, data),
            SubKind::ForwardedProposal => self.handle_forwarded_proposal(reply, data),
            SubKind::ForwardedRemovePeer => self.handle_forwarded_remove_peer_proposal(reply, data),
        }
    }

    /// When the node next needs [`Raft::tick`]; `None` once closed and torn down.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let now = self.now();
        if self.state == RaftState::Closed {
            return if self.torn_down { None } else { Some(now) };
        }
        if self.has_queued_work() || self.restart_loop {
            return Some(now);
        }
        // The loop we are in decides what wakes us, even when the state was
        // changed from outside and the loop has not noticed yet.
        match &self.run {
            RunCtx::Idle => Some(now),
            RunCtx::Leader { hb_next, lq_next, .. } => {
                let mut d = (*hb_next).min(*lq_next);
                if let Some(c) = self.catchup_deadline() {
                    d = d.min(c);
                }
                Some(d)
            }
            RunCtx::Follower | RunCtx::Candidate { .. } => Some(self.elect),
        }
    }

    fn has_queued_work(&self) -> bool {
        !self.entry.is_empty()
            || !self.resp.is_empty()
            || !self.prop.is_empty()
            || !self.reqs.is_empty()
            || !self.votes.is_empty()
            || (self.hb_pending && self.state == RaftState::Leader)
            || self.catchups.values().any(|r| !r.updates.is_empty())
            || (self.state != RaftState::Leader && !self.catchups.is_empty())
    }

    /// Port of (*raft).run
    ///
    /// Runs the current role's loop until no queued work or due timer is
    /// left. Never blocks and never reads the wall clock. A loop that still
    /// finds work after [`TICK_STEP_BUDGET`] events is spinning (a livelock
    /// in the port, or a host that keeps feeding it): that is reported as
    /// [`RaftError::RunLoopStuck`] for the host to fail on, never swallowed.
    pub fn tick(&mut self) -> Result<(), RaftError> {
        for _ in 0..self.tick_budget {
            if !self.step() {
                return Ok(());
            }
        }
        self.error("run loop did not settle");
        Err(RaftError::RunLoopStuck { steps: self.tick_budget })
    }

    fn loop_matches_state(&self) -> bool {
        matches!(
            (&self.run, self.state),
            (RunCtx::Follower, RaftState::Follower)
                | (RunCtx::Candidate { .. }, RaftState::Candidate)
                | (RunCtx::Leader { .. }, RaftState::Leader)
        )
    }

    fn switch_loop(&mut self) {
        self.restart_loop = false;
        self.exit_loop();
        self.enter_loop();
    }

    // One event of the current loop. Like Go's `for n.State() == X { select
    // {...} }`, a loop re-checks the state only after handling an event: a
    // state change made from outside while it waits is noticed after its
    // next event, one made while handling an event right away.
    fn step(&mut self) -> bool {
        if self.state == RaftState::Closed {
            // The quit channel wakes every loop at once.
            if !self.torn_down {
                self.teardown();
            }
            return false;
        }
        if self.state != RaftState::Leader && !self.catchups.is_empty() {
            // Catch-up streams end when leadership is lost.
            return self.run_catchup();
        }
        if matches!(self.run, RunCtx::Idle) || self.restart_loop {
            self.switch_loop();
            return true;
        }
        let did = match &self.run {
            RunCtx::Follower => self.run_as_follower(),
            RunCtx::Candidate { .. } => self.run_as_candidate(),
            RunCtx::Leader { .. } => self.run_as_leader(),
            RunCtx::Idle => false,
        };
        if did && self.state != RaftState::Closed && !self.loop_matches_state() {
            self.switch_loop();
        }
        did
    }

    fn exit_loop(&mut self) {
        if let RunCtx::Leader { fsub, rpsub, .. } = std::mem::replace(&mut self.run, RunCtx::Idle) {
            self.unsubscribe(fsub);
            self.unsubscribe(rpsub);
        }
    }

    fn enter_loop(&mut self) {
        match self.state {
            RaftState::Follower => self.run = RunCtx::Follower,
            RaftState::Candidate => {
                self.votes.clear();
                self.run = RunCtx::Candidate { votes: Default::default(), empty_votes: Default::default() };
                self.request_vote();
                // Our own vote.
                let me = VoteResponse { term: self.term, peer: self.id.clone(), granted: true, empty: false };
                self.votes.push_back(me);
            }
            RaftState::Leader => {
                let (psubj, rpsubj) = (self.psubj.clone(), self.rpsubj.clone());
                let fsub = match self.subscribe(&psubj, SubKind::ForwardedProposal) {
                    Ok(s) => s,
                    Err(e) => {
                        self.warn(&format!("Error subscribing to forwarded proposals: {e}"));
                        self.stepdown_locked(NO_LEADER);
                        return;
                    }
                };
                let rpsub = match self.subscribe(&rpsubj, SubKind::ForwardedRemovePeer) {
                    Ok(s) => s,
                    Err(e) => {
                        self.warn(&format!("Error subscribing to forwarded remove peer proposals: {e}"));
                        self.unsubscribe(Some(fsub));
                        self.stepdown_locked(NO_LEADER);
                        return;
                    }
                };
                // Go starts the tickers once the leader goroutine runs, just
                // after the switch; a microsecond models that gap so the first
                // tick sees the peer-state send as more than an interval ago.
                let start = self.now().add(std::time::Duration::from_micros(1));
                self.run = RunCtx::Leader {
                    fsub: Some(fsub),
                    rpsub: Some(rpsub),
                    hb_next: start.add(self.timings.hb_interval),
                    lq_next: start.add(self.timings.lost_quorum_check),
                };
            }
            RaftState::Closed => {}
        }
    }

    // Go's `select` takes one of the ready cases at random. `ready` lists
    // a loop's cases in source order; returns the chosen one's position.
    // The random source is only consulted when there is a choice.
    fn select_case(&mut self, ready: &[bool]) -> Option<usize> {
        let count = ready.iter().filter(|r| **r).count() as u64;
        let nth = match count {
            0 => return None,
            1 => 0,
            _ => self.env.rand_u64() % count,
        };
        ready.iter().enumerate().filter(|(_, r)| **r).nth(nth as usize).map(|(i, _)| i)
    }

    /// Port of (*raft).runAsFollower
    ///
    /// One turn of the follower's select loop: one ready case, chosen at
    /// random among new entries, the election timer, vote responses,
    /// append entry responses, proposals and vote requests.
    fn run_as_follower(&mut self) -> bool {
        let ready = [
            !self.entry.is_empty(),
            self.now() >= self.elect,
            !self.votes.is_empty(),
            !self.resp.is_empty(),
            !self.prop.is_empty(),
            !self.reqs.is_empty(),
        ];
        match self.select_case(&ready) {
            None => return false,
            Some(0) => self.process_append_entries(),
            Some(1) => {
                if self.out_of_resources() {
                    self.reset_election_timeout();
                    self.debug("Not switching to candidate, no resources");
                } else if self.observer {
                    let et = self.timings.observer_mode_interval;
                    self.reset_elect(et);
                    self.debug("Not switching to candidate, observer only");
                } else if self.is_catching_up() {
                    self.debug("Not switching to candidate, catching up");
                    if self.catchup_stalled() {
                        self.cancel_catchup();
                    }
                    self.reset_election_timeout();
                } else {
                    self.switch_to_candidate();
                    self.restart_loop = true;
                }
            }
            Some(2) => {
                self.debug("Ignoring old vote response, we have stepped down");
                self.votes.pop_front();
            }
            Some(3) => self.resp.clear(),
            Some(4) => self.prop.clear(),
            Some(_) => {
                if let Some(vr) = self.reqs.pop_front() {
                    self.process_vote_request(&vr);
                }
            }
        }
        true
    }

    /// Port of (*raft).runAsCandidate
    ///
    /// One turn of the candidate's select loop (entering the loop sends the
    /// vote request and counts our own vote): one ready case at random
    /// among new entries, append entry responses, proposals, the election
    /// timer, vote responses and vote requests.
    fn run_as_candidate(&mut self) -> bool {
        let ready = [
            !self.entry.is_empty(),
            !self.resp.is_empty(),
            !self.prop.is_empty(),
            self.now() >= self.elect,
            !self.votes.is_empty(),
            !self.reqs.is_empty(),
        ];
        match self.select_case(&ready) {
            None => return false,
            Some(0) => self.process_append_entries(),
            Some(1) => self.resp.clear(),
            Some(2) => self.prop.clear(),
            Some(3) => {
                self.switch_to_candidate();
                self.restart_loop = true;
            }
            Some(4) => {
                if let Some(v) = self.votes.pop_front() {
                    self.candidate_process_vote(v);
                }
            }
            Some(_) => {
                if let Some(vr) = self.reqs.pop_front() {
                    self.process_vote_request(&vr);
                }
            }
        }
        true
    }

    /// Port of (*raft).runAsLeader
    ///
    /// One turn of the leader's select loop: one ready case at random among
    /// append entry responses, proposals, the heartbeat and lost-quorum
    /// tickers, vote responses, vote requests and new entries. Two more
    /// take part the way Go's goroutines would: the heartbeat a shrunk group
    /// is owed, and the catch-up streams with something to do.
    fn run_as_leader(&mut self) -> bool {
        let now = self.now();
        let (hb_next, lq_next) = match &self.run {
            RunCtx::Leader { hb_next, lq_next, .. } => (*hb_next, *lq_next),
            _ => return false,
        };
        let catchup_due = self.catchups.values().any(|r| !r.updates.is_empty() || now >= r.timeout);
        let ready = [
            !self.resp.is_empty(),
            !self.prop.is_empty(),
            now >= hb_next,
            now >= lq_next,
            !self.votes.is_empty(),
            !self.reqs.is_empty(),
            !self.entry.is_empty(),
            self.hb_pending,
            catchup_due,
        ];
        match self.select_case(&ready) {
            None => return false,
            Some(0) => {
                let ars: Vec<_> = self.resp.drain(..).collect();
                for ar in ars {
                    self.process_append_entry_response(ar);
                }
            }
            Some(1) => self.leader_process_proposals(),
            Some(2) => {
                let hb = self.timings.hb_interval;
                self.set_leader_timers(Some(advance(hb_next, hb, now)), None);
                if self.not_active() {
                    self.send_heartbeat();
                }
            }
            Some(3) => {
                let lq = self.timings.lost_quorum_check;
                self.set_leader_timers(None, Some(advance(lq_next, lq, now)));
                if self.lost_quorum() {
                    self.stepdown(NO_LEADER);
                }
            }
            Some(4) => {
                if let Some(v) = self.votes.pop_front() {
                    if v.term > self.term {
                        self.stepdown(NO_LEADER);
                    }
                }
            }
            Some(5) => {
                if let Some(vr) = self.reqs.pop_front() {
                    self.process_vote_request(&vr);
                }
            }
            Some(6) => self.process_append_entries(),
            Some(7) => {
                self.hb_pending = false;
                self.send_heartbeat();
            }
            Some(_) => {
                self.run_catchup();
            }
        }
        true
    }

    fn set_leader_timers(&mut self, hb: Option<Timestamp>, lq: Option<Timestamp>) {
        if let RunCtx::Leader { hb_next, lq_next, .. } = &mut self.run {
            if let Some(h) = hb {
                *hb_next = h;
            }
            if let Some(l) = lq {
                *lq_next = l;
            }
        }
    }
}

// Next tick of a Go ticker: ticks missed while busy are dropped.
fn advance(mut t: Timestamp, every: std::time::Duration, now: Timestamp) -> Timestamp {
    while t <= now {
        t = t.add(every);
    }
    t
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::raft::RaftError;

    use crate::raft::node::{CatchupState, RunCtx};
    use crate::raft::wire::{AppendEntry, AppendEntryResponse, Entry, EntryType, VoteRequest, VoteResponse};
    use crate::raft::RaftState;
    use crate::sim::{test_seed, Cluster};

    const PEER1: &str = "yrzKKRBu";

    #[test]
    fn run_as_follower_handles_one_event_per_turn() {
        let mut c = Cluster::new("R3S", 3, test_seed("run_as_follower_handles_one_event_per_turn"));
        let slot = c.init_single_mem_raft_node();
        c.freeze(&[slot]);
        let n = c.node(slot);
        n.run = RunCtx::Follower;
        let now = n.now();
        n.reset_elect(Duration::from_secs(1));
        assert!(!n.run_as_follower(), "nothing to do before the timer fires");

        // New entries.
        let mut ae = match AppendEntry::new(PEER1, 1, 0, 0, 0, vec![Entry::new(EntryType::Normal, b"x".to_vec())]).encoded() {
            Ok(ae) => ae,
            Err(e) => panic!("encoding: {e}"),
        };
        ae.sub = n.aesub;
        n.entry.push_back(ae);
        assert!(n.run_as_follower());
        assert!(n.entry.is_empty());
        assert_eq!(n.last_log(), (1, 1));

        // Stale leader and candidate traffic is dropped, one queue per
        // turn, in the order the random select picks.
        n.votes.push_back(VoteResponse { term: 1, peer: PEER1.into(), granted: true, empty: false });
        n.resp.push_back(AppendEntryResponse::new(1, 1, PEER1, true));
        assert!(n.run_as_follower());
        assert_eq!(n.votes.len() + n.resp.len(), 1, "one case per turn");
        assert!(n.run_as_follower());
        assert!(n.votes.is_empty() && n.resp.is_empty());

        // A vote request is answered.
        n.reqs.push_back(VoteRequest { term: 5, last_term: 1, last_index: 1, candidate: PEER1.into(), reply: String::new() });
        assert!(n.run_as_follower());
        assert!(n.reqs.is_empty());
        assert_eq!((n.term(), n.vote()), (5, PEER1));

        // Timer fired as an observer: parked, still a follower.
        n.set_observer(true);
        n.elect = now;
        assert!(n.run_as_follower());
        assert_eq!(n.state(), RaftState::Follower);
        assert_eq!(n.election_deadline(), now.add(n.timings.observer_mode_interval));
        n.set_observer(false);

        // Timer fired while catching up: a stalled catch-up is dropped.
        n.catchup = Some(CatchupState { sub: None, cterm: 5, cindex: 9, pterm: 1, pindex: 1, active: None, signal: false });
        n.elect = now;
        assert!(n.run_as_follower());
        assert_eq!(n.state(), RaftState::Follower);
        assert!(!n.is_catching_up());
        assert!(n.election_deadline() > now);
        assert!(!n.restart_loop);

        // Timer fired otherwise: campaign.
        n.elect = now;
        assert!(n.run_as_follower());
        assert_eq!(n.state(), RaftState::Candidate);
        assert_eq!(n.term(), 6);
        assert!(n.restart_loop, "the candidate loop takes over");
    }

    #[test]
    fn tick_reports_a_run_loop_that_does_not_settle() {
        let mut c = Cluster::new("R3S", 3, test_seed("tick_reports_a_run_loop_that_does_not_settle"));
        let slot = c.init_single_mem_raft_node();
        c.freeze(&[slot]);
        let n = c.node(slot);
        n.tick().expect("an idle node settles");
        n.tick_budget = 4;
        for term in 1..=6 {
            n.reqs.push_back(VoteRequest { term, last_term: 0, last_index: 0, candidate: PEER1.into(), reply: String::new() });
        }
        assert_eq!(n.tick(), Err(RaftError::RunLoopStuck { steps: 4 }), "six events do not fit a budget of four");
        assert_eq!(n.reqs.len(), 2, "the loop stopped where the budget ran out");
        assert_eq!(n.tick(), Ok(()), "the rest fits");
        assert!(n.reqs.is_empty());
    }

    #[test]
    fn out_of_resources_drops_entries_and_keeps_a_follower_from_campaigning() {
        let mut c = Cluster::new("R3S", 3, test_seed("out_of_resources_drops_entries_and_keeps_a_follower_from_campaigning"));
        c.track = true;
        let rg = c.create_mem_raft_group("TEST", 3, crate::sim::SmKind::Adder);
        let l = c.wait_on_leader(&rg).expect("a leader");
        let f = rg.members.iter().copied().find(|&m| m != l).expect("a follower");
        let f_server = c.nodes[f].server;
        assert!(!c.node(f).out_of_resources());
        c.world.limits_exceeded.borrow_mut().insert(f_server);
        assert!(c.node(f).out_of_resources(), "the host says the limits are exceeded");
        let before = c.node(f).last_log();
        c.propose_delta(l, 7);
        c.run_for(Duration::from_millis(500));
        assert!(c.node(l).last_log().0 > before.0, "the leader stored the entry");
        assert_eq!(c.node(f).last_log(), before, "entries are dropped while over the limits");

        // Cut off from the leader, it still does not campaign.
        let n_servers = c.servers.len();
        c.world.net.borrow_mut().isolate(f_server, n_servers);
        let term = c.node(f).term();
        c.run_for(c.timings.max_election_timeout * 3);
        assert_eq!((c.node(f).state(), c.node(f).term()), (RaftState::Follower, term));

        // Back within its limits it campaigns as usual.
        c.world.limits_exceeded.borrow_mut().remove(&f_server);
        c.run_for(c.timings.max_election_timeout * 2);
        assert!(c.node(f).term() > term, "campaigns once resources are back");
    }

    // Go sends the heartbeat of a shrinking group from a goroutine
    // (adjustClusterSizeAndQuorum); once that leader has stepped down the
    // goroutine finds it is no longer leader and sends nothing.
    #[test]
    fn stepping_down_with_a_heartbeat_pending_does_not_spin() {
        let mut c = Cluster::new("R3S", 3, test_seed("stepping_down_with_a_heartbeat_pending_does_not_spin"));
        let rg = c.create_mem_raft_group("TEST", 3, crate::sim::SmKind::Adder);
        let l = c.wait_on_leader(&rg).expect("a leader");
        let victim = rg.members.iter().copied().find(|&m| m != l).expect("a follower");
        let victim_id = c.node(victim).id().to_string();
        c.freeze(&[l]);
        let n = c.node(l);
        n.propose_remove_peer(&victim_id).expect("leader accepts the change");
        // The proposal arm sends the change and shrinks the group at once...
        n.leader_process_proposals();
        assert!(n.hb_pending, "a heartbeat is owed to the smaller group");
        // ...and before the heartbeat goes out, a response with a higher
        // term arrives in the same batch.
        let term = n.term();
        n.resp.push_back(AppendEntryResponse::new(term + 1, 0, &victim_id, false));
        n.tick().expect("run loop settles");
        assert_eq!(n.state(), RaftState::Follower);
        let now = n.now();
        let next = n.next_deadline().expect("still running");
        assert!(next > now, "a follower with nothing queued sleeps until its election timer, not {next:?} = now");
        c.unfreeze(&[l]);
        c.run_for(Duration::from_secs(1));
    }

    // Go's select picks among ready cases at random; over a few draws both
    // orders of two ready cases appear.
    #[test]
    fn select_picks_among_ready_cases_at_random() {
        let mut c = Cluster::new("R3S", 3, test_seed("select_picks_among_ready_cases_at_random"));
        let slot = c.init_single_mem_raft_node();
        c.freeze(&[slot]);
        let n = c.node(slot);
        n.run = RunCtx::Follower;
        n.reset_elect(Duration::from_secs(60));
        let mut first = std::collections::BTreeSet::new();
        for _ in 0..16 {
            n.votes.push_back(VoteResponse { term: 1, peer: PEER1.into(), granted: true, empty: false });
            n.resp.push_back(AppendEntryResponse::new(1, 1, PEER1, true));
            assert!(n.run_as_follower());
            first.insert(if n.votes.is_empty() { "votes" } else { "responses" });
            assert!(n.run_as_follower());
        }
        assert_eq!(first.len(), 2, "both cases went first at some point");
        assert_eq!(n.select_case(&[false, true, false]), Some(1), "a single ready case needs no draw");
        assert_eq!(n.select_case(&[false, false]), None);
    }
}
