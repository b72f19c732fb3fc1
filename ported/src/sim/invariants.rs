//! Safety invariants checked while a simulation runs: at most one leader
//! per term, at most one vote per node and term, agreement on the term and
//! contents of every committed index (log matching for committed entries),
//! leader completeness, state-machine safety through the chain-of-blocks
//! running hashes, acknowledged entries being stored, commit indexes that
//! never move backwards, membership safety (one configuration change in
//! flight, quorum sized from the configuration in force), and upstream's
//! `assert.Unreachable` sites never firing.
//!
//! A node whose server lost power is not looked at until it restarts: a
//! real power loss stops the process at once, while the simulated one only
//! fails the disk and the network from that instant, so whatever the node
//! still computes in memory is never seen by anyone.

use std::collections::BTreeMap;

use crate::raft::file_wal::crc32_ieee;
use crate::raft::node::WRITE_ERROR_ASSERTION;

/// Upstream's assert.Unreachable in truncateWAL: a truncation below the
/// commit index.
const TRUNCATE_LOST_COMMITS_ASSERTION: &str = "WAL truncate lost commits";
use crate::raft::wire::AppendEntry;
use crate::raft::{EntryType, RaftState};

use super::cluster::Cluster;

/// A committed index a node could not load when the checker came to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedIndex {
    /// Node id.
    pub node: String,
    /// The committed index.
    pub index: u64,
    /// Why it could not be loaded.
    pub error: String,
}

/// Accumulated observations and the first violation found.
#[derive(Debug, Default)]
pub struct Invariants {
    leaders: BTreeMap<u64, String>,
    votes: BTreeMap<(String, u64), String>,
    // index -> (entry term, term of the node that saw it committed)
    committed: BTreeMap<u64, (u64, u64)>,
    // index -> digest of the committed entry's contents
    committed_digest: BTreeMap<u64, u32>,
    seen_commit: BTreeMap<usize, u64>,
    was_leader: BTreeMap<usize, bool>,
    chain: BTreeMap<u64, u32>,
    history_seen: BTreeMap<usize, usize>,
    assertions_seen: BTreeMap<usize, usize>,
    /// First violation, if any.
    pub violation: Option<String>,
    /// Checks performed.
    pub checks: u64,
    /// Committed indexes the checker could not load and so could not
    /// compare (each would otherwise have been checked for agreement).
    pub skipped: Vec<SkippedIndex>,
    /// Upstream's write-error assertion fired this often: each is an
    /// injected disk fault the node saw, not a violation.
    pub write_errors_seen: u64,
    /// Committed entries a node lost to a power loss under a lazy sync
    /// policy: (node, first lost committed index, last index it held).
    /// The mechanism of the upstream finding `LAZY_SYNC_POWER_LOSS`.
    pub lazy_sync_losses: Vec<(String, u64, u64)>,
    /// Every log a power loss under a lazy sync policy cut short, committed
    /// entries lost or not: (node, last index before, after). A follower
    /// that lost entries it acknowledged leaves a leader's later commit
    /// short of a quorum of holders.
    pub lazy_sync_shrinks: Vec<(String, u64, u64)>,
    /// Nodes whose log shrank in a turn in which a WAL read error was
    /// injected on their server: (node, last index before, after). The
    /// mechanism of the upstream finding `WAL_READ_ERROR_RESET`.
    pub read_error_truncations: Vec<(String, u64, u64)>,
    /// Nodes whose log shrank, or whose last entry changed term in place,
    /// in a turn in which a duplicated or late append entry was delivered
    /// to them: (node, last index before, after). The mechanism of the
    /// upstream finding `STALE_APPEND_ENTRY`.
    pub stale_append_rewrites: Vec<(String, u64, u64)>,
    /// Catch-up snapshot entries a node stored in its log in a turn in
    /// which a duplicated or late append entry was delivered to it: (node,
    /// index). The mechanism of the upstream finding `REDELIVERED_SNAPSHOT`.
    pub snapshot_entries_stored: Vec<(String, u64)>,
    /// Nodes that restarted after an injected error on their server's
    /// term/vote, peer or snapshot files: the mechanism of the upstream
    /// finding `TERM_VOTE_FILE_ERROR`.
    pub state_file_error_restarts: Vec<String>,
    /// Memory-WAL nodes among those: they came back with an empty log. The
    /// mechanism of the upstream finding `MEMORY_WAL_RESTART`.
    pub memory_restarts_after_disk_error: Vec<String>,
    /// Peers a leader proposed to add back, finishing a catch-up, although
    /// their removal had committed on it: (leader, peer). The mechanism of
    /// the upstream finding `REMOVED_PEER_READDED`.
    pub removed_peers_readded: Vec<(String, String)>,
    // slot -> (last log index and term, WAL read errors of its server)
    // after its previous turn, kept
    // across a restart (a read error while the WAL is reopened shows as a
    // shrink at the first turn after it).
    log_seen: BTreeMap<usize, (u64, u64, u64)>,
    // slot -> stale append entries delivered to it, at its previous turn.
    stale_seen: BTreeMap<usize, u64>,
    // slot -> state-file errors of its server when it last (re)started.
    state_errors_at_start: BTreeMap<usize, u64>,
    // Whether the node that just ran saw a WAL read error in its turn.
    turn_read_error: bool,
}

impl Invariants {
    fn fail(&mut self, c: &Cluster, msg: String) {
        // `NRG_SIM_DUMP=1` prints every node's log and chain history at the
        // first violation, for replaying a failing seed.
        if self.violation.is_none() && std::env::var("NRG_SIM_DUMP").is_ok_and(|v| v == "1") {
            for (slot, n) in c.nodes.iter().enumerate() {
                let r = &n.raft;
                let (pi, pt) = r.last_log();
                let mut line = format!("DUMP slot {slot} {} {:?} t{} commit {} snap {} last {pi}:{pt}:", r.id(), r.state(), r.term(), r.commit_index(), r.snapshot_index());
                for i in r.snapshot_index() + 1..=pi {
                    match r.log_entry(i) {
                        Ok(ae) => line.push_str(&format!(" {i}:{}:{:?}:{:08x}", ae.term, ae.entries.iter().map(|e| e.typ.to_u8()).collect::<Vec<_>>(), entry_digest(&ae))),
                        Err(e) => line.push_str(&format!(" {i}:ERR({e})")),
                    }
                }
                if let Some(sm) = n.sm.as_any().downcast_ref::<super::state_machines::ChainOfBlocks>() {
                    line.push_str(&format!(" | hist {:?}", sm.history));
                }
                eprintln!("{line}");
            }
            eprintln!("DUMP WAL read errors per server {:?}; lazy-sync losses {:?}; read-error shrinks {:?}", c.world.disk.borrow().wal_read_errors, self.lazy_sync_losses, self.read_error_truncations);
            eprintln!("DUMP stale append entries per slot {:?}; stale-AE rewrites {:?}; snapshots stored {:?}; restarts after state-file errors {:?}", c.world.net.borrow().stale_append_entries, self.stale_append_rewrites, self.snapshot_entries_stored, self.state_file_error_restarts);
        }
        if self.violation.is_none() {
            self.violation = Some(format!("[{:.6}s] {msg}", c.world.now.get() as f64 / 1e9));
        }
    }

    /// Checks everything observable after node `slot` ran.
    pub fn check(&mut self, c: &mut Cluster, slot: usize) {
        self.checks += 1;
        self.watch_log_shrink(c, slot);
        self.check_acks(c, slot);
        self.watch_readds(c, slot);
        let name = &c.servers[c.nodes[slot].server].name;
        if c.world.disk.borrow().is_dead(name) {
            return;
        }
        self.check_node(c, slot);
    }

    // A success response may only be sent for an entry the node stored,
    // judged at the moment it was sent (test builds record that; without
    // the record there is nothing to check).
    #[cfg(any(test, feature = "testing"))]
    fn check_acks(&mut self, c: &mut Cluster, slot: usize) {
        let sent = std::mem::take(&mut c.nodes[slot].raft.acks_sent);
        for (index, stored) in sent {
            if index > stored {
                let m = format!("{} acknowledged index {index} but its log ended at {stored}", c.nodes[slot].raft.id());
                self.fail(c, m);
            }
        }
    }

    #[cfg(not(any(test, feature = "testing")))]
    fn check_acks(&mut self, _c: &mut Cluster, _slot: usize) {}

    // Removed peers a catch-up put back (test builds record them).
    #[cfg(any(test, feature = "testing"))]
    fn watch_readds(&mut self, c: &mut Cluster, slot: usize) {
        let readded = std::mem::take(&mut c.nodes[slot].raft.removed_readded);
        let id = c.nodes[slot].raft.id().to_string();
        self.removed_peers_readded.extend(readded.into_iter().map(|p| (id.clone(), p)));
    }

    #[cfg(not(any(test, feature = "testing")))]
    fn watch_readds(&mut self, _c: &mut Cluster, _slot: usize) {}

    fn check_node(&mut self, c: &mut Cluster, slot: usize) {
        let n = &c.nodes[slot].raft;
        let id = n.id().to_string();
        let seen = self.assertions_seen.get(&slot).copied().unwrap_or(0).min(n.assertion_failures().len());
        let fresh: Vec<String> = n.assertion_failures()[seen..].to_vec();
        self.assertions_seen.insert(slot, seen + fresh.len());
        for a in fresh {
            if a == WRITE_ERROR_ASSERTION {
                self.write_errors_seen += 1;
            } else {
                // A truncation below the commit index (truncateWAL's
                // assertion) in a turn with a WAL read error: the entry
                // was dropped because it could not be read back.
                if a == TRUNCATE_LOST_COMMITS_ASSERTION && self.turn_read_error {
                    let last = n.last_log().0;
                    self.read_error_truncations.push((id.clone(), n.commit_index(), last));
                }
                let m = format!("{id}: upstream assertion fired: {a}");
                self.fail(c, m);
            }
        }
        let n = &c.nodes[slot].raft;
        if n.state() == RaftState::Closed {
            return;
        }
        let term = n.term();
        if n.state() == RaftState::Leader {
            match self.leaders.get(&term) {
                Some(other) if *other != id => {
                    let m = format!("two leaders in term {term}: {other} and {id}");
                    self.fail(c, m);
                }
                _ => {
                    self.leaders.insert(term, id.clone());
                }
            }
        }
        let vote = n.vote().to_string();
        if !vote.is_empty() {
            match self.votes.get(&(id.clone(), term)) {
                Some(v) if *v != vote => {
                    let m = format!("{id} voted for {v} and {vote} in term {term}");
                    self.fail(c, m);
                }
                _ => {
                    self.votes.insert((id.clone(), term), vote);
                }
            }
        }

        // A node's commit index only grows (a restart starts it again).
        let commit = n.commit_index();
        let last_commit = self.seen_commit.get(&slot).copied().unwrap_or(0);
        if commit < last_commit {
            let m = format!("{id}: commit index went back from {last_commit} to {commit}");
            self.fail(c, m);
        }

        // Every index committed anywhere has one term and one content.
        let n = &c.nodes[slot].raft;
        let from = last_commit.max(n.snapshot_index());
        for index in from + 1..=commit {
            let ae = match n.log_entry(index) {
                Ok(ae) => ae,
                Err(e) => {
                    self.skipped.push(SkippedIndex { node: id.clone(), index, error: e.to_string() });
                    continue;
                }
            };
            match self.committed.get(&index) {
                Some((t, _)) if *t != ae.term => {
                    let m = format!("index {index} committed with term {t} and {} ({id})", ae.term);
                    self.fail(c, m);
                }
                Some((t, ct)) if term < *ct => {
                    let v = (*t, term);
                    self.committed.insert(index, v);
                }
                Some(_) => {}
                None => {
                    self.committed.insert(index, (ae.term, term));
                }
            }
            // Same term implies same entry by log matching; check it anyway.
            let digest = entry_digest(&ae);
            match self.committed_digest.get(&index) {
                Some(d) if *d != digest => {
                    let m = format!("index {index} committed with different contents ({id}, term {})", ae.term);
                    self.fail(c, m);
                }
                Some(_) => {}
                None => {
                    self.committed_digest.insert(index, digest);
                }
            }
        }
        self.seen_commit.insert(slot, commit.max(last_commit));
        if commit > last_commit && c.nodes[slot].raft.state() == RaftState::Leader {
            self.check_commit_quorum(c, slot, commit);
        }

        // A new leader holds every entry committed in an earlier term that it
        // has not snapshotted (the commit term is bounded from above by the
        // observer's term, so this never over-reports).
        let n = &c.nodes[slot].raft;
        let is_leader = n.leader();
        let was = self.was_leader.insert(slot, is_leader).unwrap_or(false);
        if is_leader && !was {
            let floor = n.snapshot_index();
            let last = n.last_log().0;
            let mut missing: Vec<(u64, u64)> = Vec::new();
            for (&i, &(t, ct)) in self.committed.range(floor + 1..) {
                if ct >= term {
                    continue;
                }
                // An index past the log is missing; one the checker cannot
                // load (an injected read error hits its read too) is
                // recorded as skipped, not taken for missing.
                let lacks = if i > last {
                    true
                } else {
                    match n.log_entry(i) {
                        Ok(ae) => ae.term != t,
                        Err(e) => {
                            self.skipped.push(SkippedIndex { node: id.clone(), index: i, error: e.to_string() });
                            false
                        }
                    }
                };
                if lacks {
                    missing.push((i, t));
                    break;
                }
            }
            if let Some((i, t)) = missing.first() {
                let m = format!("leader {id} (term {term}) lacks committed index {i} of term {t}");
                self.fail(c, m);
            }
        }

        self.check_membership(c, slot);

        // The N-th block yields the same running hash on every replica.
        if let Some(sm) = c.nodes[slot].sm.as_any().downcast_ref::<super::state_machines::ChainOfBlocks>() {
            let seen = self.history_seen.get(&slot).copied().unwrap_or(0).min(sm.history.len());
            let fresh: Vec<(u64, u32)> = sm.history[seen..].to_vec();
            let corrupt = sm.corrupt.clone();
            self.history_seen.insert(slot, sm.history.len());
            for (k, h) in fresh {
                match self.chain.get(&k) {
                    Some(prev) if *prev != h => {
                        let m = format!("block {k}: hash {h:08X} on {id} but {prev:08X} elsewhere");
                        self.fail(c, m);
                    }
                    _ => {
                        self.chain.insert(k, h);
                    }
                }
            }
            if let Some(e) = corrupt {
                let m = format!("{id}: {e}");
                self.fail(c, m);
            }
        }
    }

    // Raft's commitment rule: a leader commits an index only once a quorum
    // of replicas stores its entry there (by log matching, everything
    // before it too). Replicas are the leader's peers and every other
    // replica of the group: upstream keeps acknowledgements per index
    // (trackResponse, raft.go 3598-3601) and counts them in tryCommit
    // (3538) even from a peer removed since, so a removed replica that
    // acknowledged counts too. A replica the checker cannot look at (down,
    // unknown to the simulation, its entry unreadable) counts as storing
    // it, so this never over-reports; the checker's reads draw no injected
    // errors.
    fn check_commit_quorum(&mut self, c: &mut Cluster, slot: usize, index: u64) {
        let saved = std::mem::replace(&mut c.world.disk.borrow_mut().faults.wal_read_error, 0.0);
        let n = &c.nodes[slot].raft;
        let found = n.log_entry(index).ok().map(|mine| {
            let group = &c.nodes[slot].group;
            let mut replicas: Vec<String> = n.peer_names();
            for other in c.nodes.iter().filter(|o| o.group == *group) {
                if !replicas.iter().any(|p| p == other.raft.id()) {
                    replicas.push(other.raft.id().to_string());
                }
            }
            let holders: Vec<&String> = replicas.iter().filter(|p| self.peer_stores(c, slot, p, index, mine.term)).collect();
            (mine.term, format!("{replicas:?}"), format!("{holders:?}"), holders.len())
        });
        c.world.disk.borrow_mut().faults.wal_read_error = saved;
        let Some((term, replicas, holder_ids, holders)) = found else { return };
        let qn = c.nodes[slot].raft.quorum_needed();
        if holders < qn {
            let id = c.nodes[slot].raft.id().to_string();
            let m = format!("leader {id} committed index {index} (term {term}) held by only {holders} ({holder_ids}) of replicas {replicas} (quorum {qn})");
            self.fail(c, m);
        }
    }

    // Whether replica `id` of the leader in `slot`'s group stores (or may
    // store) the leader's entry of `term` at `index`.
    fn peer_stores(&self, c: &Cluster, slot: usize, id: &str, index: u64, term: u64) -> bool {
        let group = &c.nodes[slot].group;
        let Some(s) = (0..c.nodes.len()).find(|&s| c.nodes[s].raft.id() == id && c.nodes[s].group == *group) else { return true };
        let r = &c.nodes[s].raft;
        if s == slot || r.state() == RaftState::Closed || c.world.disk.borrow().is_dead(&c.servers[c.nodes[s].server].name) || r.snapshot_index() >= index {
            return true;
        }
        match r.log_entry(index) {
            Ok(ae) => ae.term == term,
            Err(_) => index <= r.last_log().0,
        }
    }

    // Membership safety. Quorum always follows the cluster size. A leader
    // has at most one membership change (add or remove peer) that is not
    // committed, and sizes the group from the peers it knows. (Its guard,
    // `MembershipChangeInProgress`, is not checked: upstream clears it when
    // any membership entry commits, so a new leader can hold a later one
    // unguarded; see the findings tests.)
    fn check_membership(&mut self, c: &mut Cluster, slot: usize) {
        let n = &c.nodes[slot].raft;
        let id = n.id().to_string();
        let (csz, qn) = (n.cluster_size(), n.quorum_needed());
        if qn != csz / 2 + 1 {
            let m = format!("{id}: quorum {qn} for a cluster of {csz}");
            self.fail(c, m);
        }
        if n.state() != RaftState::Leader {
            return;
        }
        let known = n.peer_names().len();
        if known != csz {
            let m = format!("leader {id}: cluster size {csz} but {known} known peers");
            self.fail(c, m);
        }
        let (pindex, _) = n.last_log();
        let mut pending = Vec::new();
        for index in n.commit_index() + 1..=pindex {
            let Ok(ae) = n.log_entry(index) else { continue };
            if ae.entries.iter().any(|e| matches!(e.typ, EntryType::AddPeer | EntryType::RemovePeer)) {
                pending.push(index);
            }
        }
        if pending.len() > 1 {
            let m = format!("leader {id}: {} membership changes in flight at {pending:?}", pending.len());
            self.fail(c, m);
        }
    }

    // A log that shrank in the same turn a WAL read error was injected on
    // the node's server: a truncation or reset the read error caused.
    fn watch_log_shrink(&mut self, c: &mut Cluster, slot: usize) {
        let (last, last_term) = c.nodes[slot].raft.last_log();
        let server = &c.servers[c.nodes[slot].server].name;
        let errs = c.world.disk.borrow().wal_read_errors.get(server).copied().unwrap_or(0);
        // Stale deliveries anywhere: a redelivered catch-up request reaches
        // the leader, which then sends its snapshot twice.
        let stale = c.world.net.borrow().stale_append_entries.values().sum::<u64>();
        let stale_here = c.world.net.borrow().stale_append_entries.get(&slot).copied().unwrap_or(0);
        self.turn_read_error = false;
        let here_before = self.stale_seen.insert(slot, stale_here).unwrap_or(0);
        let snap = c.nodes[slot].raft.snapshot_index();
        if let Some((before, term_before, errs_before)) = self.log_seen.insert(slot, (last, last_term, errs)) {
            self.turn_read_error = errs > errs_before;
            // Shrunk, or the last entry's term changed in place (Go's
            // truncateWAL to its own pindex adopts the leader's pterm).
            let rewritten = last < before || (last == before && last_term != term_before);
            let id = c.nodes[slot].raft.id().to_string();
            if rewritten && errs > errs_before {
                self.read_error_truncations.push((id.clone(), before, last));
            }
            // Also a store and a reset in one turn: an entry acknowledged in
            // this turn that the log no longer holds.
            if (rewritten || acked_past(c, slot, last)) && stale_here > here_before {
                self.stale_append_rewrites.push((id.clone(), before, last));
            }
            // A catch-up snapshot is installed, never stored as an entry:
            // one in the log, once a duplicated or late append entry or
            // catch-up request was delivered anywhere, is a redelivered copy.
            // It goes in at the end of the log, possibly in place of an
            // entry the log already had there (a truncation and a store in
            // one turn), so the last few entries are looked at every turn.
            if stale > 0 {
                let saved = std::mem::replace(&mut c.world.disk.borrow_mut().faults.wal_read_error, 0.0);
                let r = &c.nodes[slot].raft;
                for i in last.saturating_sub(3).max(snap) + 1..=last {
                    let Ok(ae) = r.log_entry(i) else { continue };
                    if ae.entries.iter().any(|e| e.typ == EntryType::Snapshot) && !self.snapshot_entries_stored.iter().any(|(n, x)| *n == id && *x == i) {
                        self.snapshot_entries_stored.push((id.clone(), i));
                    }
                }
                c.world.disk.borrow_mut().faults.wal_read_error = saved;
            }
        }
    }

    /// A node that lost power under a lazy sync policy restarted with its
    /// log ending at `after`, having held up to `before`: if that dropped
    /// an entry already known committed, the run shows the mechanism of the
    /// lazy-sync finding (acknowledged, unsynced, lost).
    pub fn restarted_after_lazy_sync_power_loss(&mut self, node: &str, before: u64, after: u64) {
        if after < before {
            self.lazy_sync_shrinks.push((node.to_string(), before, after));
            if let Some((&first, _)) = self.committed.range(after + 1..=before).next() {
                self.lazy_sync_losses.push((node.to_string(), first, before));
            }
        }
    }

    /// Node `slot` (re)started with its server's state-file error count at
    /// `errors`: if that grew since its previous start, the error may have
    /// shut it down (a failed term/vote write) or been hit as it read its
    /// files back.
    pub fn node_started(&mut self, slot: usize, node: &str, errors: u64, memory: bool) {
        // Errors are injected only once the group exists.
        if errors > self.state_errors_at_start.insert(slot, errors).unwrap_or(0) {
            self.state_file_error_restarts.push(node.to_string());
            if memory {
                self.memory_restarts_after_disk_error.push(node.to_string());
            }
        }
    }

    /// A restarted node replays its history from scratch.
    pub fn node_restarted(&mut self, slot: usize) {
        self.history_seen.insert(slot, 0);
        self.seen_commit.insert(slot, 0);
        self.was_leader.insert(slot, false);
        self.assertions_seen.insert(slot, 0);
    }
}

// Whether node `slot` acknowledged, in the turn that just ran, an index
// past `last` (test builds record what was sent; without the record, no).
#[cfg(any(test, feature = "testing"))]
fn acked_past(c: &Cluster, slot: usize, last: u64) -> bool {
    c.nodes[slot].raft.acks_sent.iter().any(|(index, _)| *index > last)
}

#[cfg(not(any(test, feature = "testing")))]
fn acked_past(_c: &Cluster, _slot: usize, _last: u64) -> bool {
    false
}

// What a committed entry says, independent of how it travelled: the lterm a
// catch-up re-encoding adds is not part of it.
fn entry_digest(ae: &AppendEntry) -> u32 {
    let mut crc = crc32_ieee(0, &ae.term.to_le_bytes());
    for e in &ae.entries {
        crc = crc32_ieee(crc, &[e.typ.to_u8()]);
        crc = crc32_ieee(crc, &(e.data.len() as u64).to_le_bytes());
        crc = crc32_ieee(crc, &e.data);
    }
    crc
}
