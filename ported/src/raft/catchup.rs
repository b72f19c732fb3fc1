//! Leader side of catch-up: answering a follower's catch-up request with a
//! snapshot when its start was compacted away, then streaming WAL entries to
//! its catch-up inbox with a bound on bytes in flight. Go runs each stream in
//! a goroutine (`runCatchup`); here each is a [`CatchupRunner`] advanced by
//! the leader's run loop.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::env::Timestamp;
use super::node::Raft;
use super::wal::WalError;
use super::wire::{decode_append_entry, AppendEntry, AppendEntryResponse, Entry, EntryType};
use super::{RaftError, RaftState, NO_LEADER};

/// At most this many encoded bytes are in flight per catch-up stream.
pub const MAX_OUTSTANDING: usize = 2 * 1024 * 1024;
/// A catch-up stream with no progress for this long is abandoned.
pub const CATCHUP_ACTIVITY_INTERVAL: Duration = Duration::from_secs(2);

/// State of one catch-up stream (the locals of Go's `runCatchup`).
#[derive(Debug, Clone)]
pub struct CatchupRunner {
    pub(crate) peer: String,
    pub(crate) subj: String,
    pub(crate) term: u64,
    pub(crate) last: u64,
    pub(crate) next: u64,
    pub(crate) total: usize,
    pub(crate) om: BTreeMap<u64, usize>,
    pub(crate) timeout: Timestamp,
    pub(crate) updates: VecDeque<u64>,
}

impl Raft {
    /// Port of (*raft).loadEntry
    pub(crate) fn load_entry(&self, index: u64) -> Result<AppendEntry, RaftError> {
        let msg = self.wal.load_msg(index)?;
        Ok(decode_append_entry(&msg, None, "")?)
    }

    /// Port of (*raft).loadFirstEntry
    pub(crate) fn load_first_entry(&self) -> Result<AppendEntry, RaftError> {
        let st = self.wal.state();
        self.load_entry(st.first_seq)
    }

    /// Port of (*raft).sendSnapshotToFollower
    ///
    /// Sends our snapshot and its peer state as one append entry whose
    /// (pterm, pindex) is the snapshot's; returns the index it covers.
    pub(crate) fn send_snapshot_to_follower(&mut self, subject: &str) -> Result<u64, RaftError> {
        let snap = match self.load_last_snapshot() {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.stepdown_locked(NO_LEADER);
                return Err(RaftError::NoSnapAvailable);
            }
            Err(e) => {
                self.stepdown_locked(NO_LEADER);
                return Err(e);
            }
        };
        let mut ae = self.build_append_entry(vec![
            Entry::new(EntryType::Snapshot, snap.data.clone()),
            Entry::new(EntryType::PeerState, snap.peer_state.clone()),
        ]);
        ae.pterm = snap.last_term;
        ae.pindex = snap.last_index;
        let mut last_index = snap.last_index;
        let st = self.wal.state();
        if st.first_seq != 0 {
            let fp_index = st.first_seq - 1;
            if last_index < fp_index {
                last_index = fp_index;
                ae.pindex = fp_index;
            }
        }
        let encoding = ae.encode()?;
        let areply = self.areply.clone();
        self.send_rpc(subject, &areply, &encoding);
        Ok(last_index)
    }

    /// Port of (*raft).catchupFollower
    pub(crate) fn catchup_follower(&mut self, ar: AppendEntryResponse) {
        self.debug(&format!("Being asked to catch up follower: {:?}", ar.peer));
        if let Some(old) = self.progress.remove(&ar.peer) {
            self.debug(&format!("Will cancel existing entry for catching up {:?}", ar.peer));
            // The old stream is told our last index and keeps running until
            // it sees it; its clean-up then runs as usual (see finish_catchup).
            let pindex = self.pindex;
            if let Some(r) = self.catchups.get_mut(&old) {
                r.updates.push_back(pindex);
            }
        }
        let mut start = ar.index + 1;
        let st = self.wal.state();
        if start < st.first_seq || (st.msgs == 0 && start <= st.last_seq) {
            self.debug("Need to send snapshot to follower");
            match self.send_snapshot_to_follower(&ar.reply) {
                Err(e) => {
                    self.error(&format!("Error sending snapshot to follower [{}]: {e}", ar.peer));
                    return;
                }
                Ok(last_index) => {
                    start = last_index + 1;
                    if st.msgs == 0 || start > st.last_seq {
                        self.debug("Finished catching up");
                        return;
                    }
                }
            }
        }
        let ae = match self.load_entry(start) {
            Ok(ae) => Ok(ae),
            Err(RaftError::Wal(WalError::Eof)) => {
                self.warn(&format!("Request from follower for entry at index [{start}] beyond our log"));
                // A request past our log means we should not lead.
                self.stepdown_locked(NO_LEADER);
                return;
            }
            Err(e) => {
                self.warn(&format!("Request from follower for entry at index [{start}] errored: {e}"));
                self.load_first_entry()
            }
        };
        let ae = match ae {
            Ok(ae) => ae,
            Err(e) => {
                self.warn(&format!("Could not find a starting entry for catchup request: {e}"));
                // Stepping down avoids cycling on a WAL reset while the
                // follower already holds a snapshot.
                self.stepdown_locked(NO_LEADER);
                return;
            }
        };
        if ae.pindex != ar.index || ae.pterm != ar.term {
            self.debug(&format!(
                "Our first entry [{}:{}] does not match request from follower [{}:{}]",
                ae.pterm, ae.pindex, ar.term, ar.index
            ));
        }
        let now = self.now();
        let mut updates = VecDeque::new();
        updates.push_back(ae.pindex);
        let runner = CatchupRunner {
            peer: ar.peer.clone(),
            subj: ar.reply.clone(),
            term: self.term,
            last: self.pindex,
            next: 0,
            total: 0,
            om: BTreeMap::new(),
            timeout: now.add(CATCHUP_ACTIVITY_INTERVAL),
            updates,
        };
        self.debug(&format!("Running catchup for {:?} [{}:{}] to [{}:{}]", ar.peer, ar.term, ar.index, self.pterm, self.pindex));
        let id = self.next_catchup_id;
        self.next_catchup_id += 1;
        self.catchups.insert(id, runner);
        self.progress.insert(ar.peer, id);
    }

    // Port of runCatchup's sendNext closure: sends entries until the
    // outstanding bytes exceed the bound; true when the stream is done.
    fn catchup_send_next(&mut self, r: &mut CatchupRunner) -> bool {
        let areply = self.areply.clone();
        while r.total <= MAX_OUTSTANDING {
            r.next += 1;
            if r.next > r.last {
                return true;
            }
            let mut ae = match self.load_entry(r.next) {
                Ok(ae) => ae,
                Err(e) => {
                    if e != RaftError::Wal(WalError::Eof) {
                        self.warn(&format!("Got an error loading {} index: {e}", r.next));
                    }
                    return true;
                }
            };
            // Carry the leader's current term so the follower can check it.
            if ae.lterm != r.term {
                ae.lterm = r.term;
                match ae.encode() {
                    Ok(b) => ae.buf = b,
                    Err(e) => {
                        self.warn(&format!("Got an error re-encoding append entry: {e}"));
                        return true;
                    }
                }
            }
            r.om.insert(r.next, ae.buf.len());
            r.total += ae.buf.len();
            let subj = r.subj.clone();
            self.send_rpc(&subj, &areply, &ae.buf);
        }
        false
    }

    /// Port of (*raft).runCatchup
    ///
    /// Advances every catch-up stream: consumes index updates from follower
    /// responses, sends more entries, and ends stalled streams. Returns
    /// whether anything happened.
    pub(crate) fn run_catchup(&mut self) -> bool {
        if self.catchups.is_empty() {
            return false;
        }
        let now = self.now();
        let mut did = false;
        // Each stream is its own goroutine in Go: they take turns in random order.
        let mut ids: Vec<u64> = self.catchups.keys().copied().collect();
        for i in (1..ids.len()).rev() {
            let j = (self.env.rand_u64() % (i as u64 + 1)) as usize;
            ids.swap(i, j);
        }
        for id in ids {
            let Some(mut r) = self.catchups.remove(&id) else { continue };
            let mut done = false;
            if self.state != RaftState::Leader {
                self.debug("Catching up canceled, no longer leader");
                done = true;
            }
            while !done {
                let Some(index) = r.updates.pop_front() else { break };
                did = true;
                r.timeout = now.add(CATCHUP_ACTIVITY_INTERVAL);
                if let Some(sz) = r.om.remove(&index) {
                    r.total = r.total.saturating_sub(sz);
                }
                if r.next == 0 {
                    r.next = index;
                }
                if index > r.last || self.catchup_send_next(&mut r) {
                    self.debug("Finished catching up");
                    done = true;
                }
            }
            if !done && now >= r.timeout {
                self.debug(&format!("Catching up for {:?} stalled", r.peer));
                done = true;
            }
            if done {
                did = true;
                self.finish_catchup(&r.peer);
            } else {
                self.catchups.insert(id, r);
            }
        }
        did
    }

    // The deferred clean-up of runCatchup. Like Go it removes the peer's
    // entry from `progress` whoever owns it now: when this stream was
    // replaced, that is its successor's queue, which then gets no more index
    // updates and ends as stalled unless it finishes first. A peer we did
    // not know joins the group, even one removed a moment ago (Go does
    // not look at `removed` here, only trackPeer does).
    fn finish_catchup(&mut self, peer: &str) {
        self.progress.remove(peer);
        if !self.peers.contains_key(peer) {
            self.debug(&format!("Catchup done for {peer:?}, will add into peers"));
            #[cfg(any(test, feature = "testing"))]
            if self.removed.contains_key(peer) {
                self.removed_readded.push(peer.to_string());
            }
            let _ = self.propose_add_peer(peer);
        }
    }

    pub(crate) fn catchup_deadline(&self) -> Option<Timestamp> {
        self.catchups.values().map(|r| r.timeout).min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::CATCHUP_ACTIVITY_INTERVAL;
    use crate::raft::wire::{decode_append_entry, AppendEntry, AppendEntryResponse, Entry, EntryType};
    use crate::raft::EntryType as Et;
    use crate::sim::{test_seed, Cluster};

    const OTHER_LEADER: &str = "S1Nunr6R";
    const FOLLOWER: &str = "yrzKKRBu";

    // A frozen single node that stored `sizes.len()` entries of term 1 from
    // another leader and then took over, as TestNRGLeaderCatchupHandling does.
    fn leader_with_log(test: &str, sizes: &[usize]) -> (Cluster, usize) {
        let mut c = Cluster::new("R3S", 3, test_seed(test));
        let n = c.init_single_mem_raft_node();
        c.freeze(&[n]);
        let node = c.node(n);
        let aesub = node.aesub;
        for (i, &size) in sizes.iter().enumerate() {
            let pterm = u64::from(i > 0);
            let ae = AppendEntry::new(OTHER_LEADER, 1, 0, pterm, i as u64, vec![Entry::new(EntryType::Normal, vec![7u8; size])]);
            node.process_append_entry(ae.encoded().expect("encodes"), aesub);
        }
        assert_eq!(node.pindex, sizes.len() as u64);
        node.switch_to_leader();
        (c, n)
    }

    fn catchup_request(inbox: &str) -> AppendEntryResponse {
        AppendEntryResponse { reply: inbox.into(), ..AppendEntryResponse::new(0, 0, FOLLOWER, false) }
    }

    fn indexes_received(c: &mut Cluster, probe: usize) -> Vec<u64> {
        c.run_for(Duration::from_millis(50));
        let mut got = Vec::new();
        while let Some(m) = c.probes[probe].msgs.pop_front() {
            got.push(decode_append_entry(&m.data, None, "").expect("decodes").pindex + 1);
        }
        got
    }

    // Go's catchupFollower hands the old stream our last index and lets its
    // goroutine finish: it sends the rest of its stream and then runs its
    // deferred clean-up, which proposes an unknown peer like any other.
    #[test]
    fn a_replaced_catchup_stream_finishes_and_cleans_up() {
        let (mut c, n) = leader_with_log("a_replaced_catchup_stream_finishes_and_cleans_up", &[10, 10, 10]);
        let (old, new) = (c.subscribe("$OLD"), c.subscribe("$NEW"));
        let node = c.node(n);
        node.catchup_follower(catchup_request("$OLD"));
        node.catchup_follower(catchup_request("$NEW"));
        assert_eq!(node.catchups.len(), 2, "both streams are running");
        while node.run_catchup() {}
        assert!(node.catchups.is_empty() && node.progress.is_empty());
        let adds = node.prop.iter().filter(|p| p.entry.typ == Et::AddPeer).count();
        assert_eq!(adds, 2, "each stream's clean-up proposes the unknown peer");
        // Index 4 is the new leader's peer-state entry.
        assert_eq!(indexes_received(&mut c, old), [1, 2, 3, 4], "the old stream ran to its end");
        assert_eq!(indexes_received(&mut c, new), [1, 2, 3, 4]);
    }

    // The clean-up deletes the peer's entry in `progress` whoever owns it: a
    // replaced stream that ends after its successor started takes the
    // successor's index-update queue with it, as in Go.
    #[test]
    fn a_replaced_stream_ending_late_takes_its_successors_updates() {
        const MB: usize = 1024 * 1024;
        let (mut c, n) = leader_with_log("a_replaced_stream_ending_late_takes_its_successors_updates", &[MB; 5]);
        let node = c.node(n);
        node.update_known_peers(&[node.id.clone(), FOLLOWER.to_string()]);
        node.switch_to_leader();
        node.catchup_follower(catchup_request("$OLD"));
        node.run_catchup();
        assert_eq!(node.catchups.len(), 1, "three megabytes out, the stream waits for acknowledgements");
        node.catchup_follower(catchup_request("$NEW"));
        node.run_catchup();
        assert_eq!(node.catchups.len(), 2, "told our last index, the old stream still has entries to send");
        let successor = *node.progress.get(FOLLOWER).expect("the new stream gets the updates");

        // Nothing reaches the old stream any more: it stalls and cleans up.
        c.world.now.set(c.world.now.get() + (CATCHUP_ACTIVITY_INTERVAL + Duration::from_millis(1)).as_nanos() as u64);
        let node = c.node(n);
        node.catchups.get_mut(&successor).expect("still running").timeout = node.now().add(CATCHUP_ACTIVITY_INTERVAL);
        node.run_catchup();
        assert_eq!(node.catchups.keys().copied().collect::<Vec<_>>(), [successor], "only the old stream ended");
        assert!(node.progress.is_empty(), "its clean-up removed the successor's queue");

        // So the follower's acknowledgements no longer move the new stream.
        let term = node.term;
        let _ = node.track_response(&AppendEntryResponse::new(term, 3, FOLLOWER, true));
        assert!(node.catchups[&successor].updates.is_empty());
    }
}
