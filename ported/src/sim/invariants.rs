//! Safety invariants checked while a simulation runs: at most one leader
//! per term, at most one vote per node and term, agreement on the term and
//! contents of every committed index (log matching for committed entries), leader
//! completeness, state-machine safety through the chain-of-blocks running
//! hashes, acknowledged entries being stored, and upstream's
//! `assert.Unreachable` sites never firing.

use std::collections::BTreeMap;

use crate::raft::file_wal::crc32_ieee;
use crate::raft::wire::{decode_append_entry_response, AppendEntry};
use crate::raft::RaftState;

use super::cluster::Cluster;

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
    /// First violation, if any.
    pub violation: Option<String>,
    /// Checks performed.
    pub checks: u64,
}

impl Invariants {
    fn fail(&mut self, c: &Cluster, msg: String) {
        if self.violation.is_none() {
            self.violation = Some(format!("[{:.6}s] {msg}", c.world.now.get() as f64 / 1e9));
        }
    }

    /// Checks everything observable after node `slot` ran.
    pub fn check(&mut self, c: &mut Cluster, slot: usize) {
        self.checks += 1;
        self.check_acks(c);
        self.check_node(c, slot);
    }

    // A success response may only be sent for an entry the node stored.
    fn check_acks(&mut self, c: &mut Cluster) {
        let tapped: Vec<_> = std::mem::take(&mut c.world.net.borrow_mut().tapped);
        for (from, subject, data) in tapped {
            let Some(server) = from else { continue };
            if !subject.starts_with("$NRG.R.") {
                continue;
            }
            let Ok(ar) = decode_append_entry_response(&data) else { continue };
            if !ar.success {
                continue;
            }
            let Some(slot) = c.nodes.iter().position(|n| n.server == server && n.raft.id() == ar.peer) else { continue };
            let (pindex, _) = c.nodes[slot].raft.last_log();
            if ar.index > pindex {
                let m = format!("{} acknowledged index {} but its log ends at {pindex}", ar.peer, ar.index);
                self.fail(c, m);
            }
        }
    }

    fn check_node(&mut self, c: &mut Cluster, slot: usize) {
        let n = &c.nodes[slot].raft;
        let id = n.id().to_string();
        if let Some(a) = n.assertion_failures().first() {
            let m = format!("{id}: upstream assertion fired: {a}");
            self.fail(c, m);
        }
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

        // Every index committed anywhere has one term and one content.
        let commit = n.commit_index();
        let from = self.seen_commit.get(&slot).copied().unwrap_or(0).max(n.snapshot_index());
        for index in from + 1..=commit {
            let Ok(ae) = n.log_entry(index) else { continue };
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
        self.seen_commit.insert(slot, commit);

        // A new leader holds every entry committed in an earlier term that it
        // has not snapshotted (the commit term is bounded from above by the
        // observer's term, so this never over-reports).
        let is_leader = n.leader();
        let was = self.was_leader.insert(slot, is_leader).unwrap_or(false);
        if is_leader && !was {
            let floor = n.snapshot_index();
            let missing: Vec<(u64, u64)> = self
                .committed
                .range(floor + 1..)
                .filter(|(_, (_, ct))| *ct < term)
                .filter(|(i, (t, _))| n.log_entry(**i).map(|ae| ae.term != *t).unwrap_or(true))
                .map(|(i, (t, _))| (*i, *t))
                .take(1)
                .collect();
            if let Some((i, t)) = missing.first() {
                let m = format!("leader {id} (term {term}) lacks committed index {i} of term {t}");
                self.fail(c, m);
            }
        }

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

    /// A restarted node replays its history from scratch.
    pub fn node_restarted(&mut self, slot: usize) {
        self.history_seen.insert(slot, 0);
        self.seen_commit.insert(slot, 0);
        self.was_leader.insert(slot, false);
    }
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
