//! Group membership: the peer map, cluster size and quorum, peer-state
//! entries, add/remove-peer proposals (one change in flight at a time) and
//! tracking when peers were last heard from.

use crate::peer_state::{encode_peer_state, PeerState};

use super::env::since;
use super::node::{Lps, ProposedEntry, Raft};
use super::peer_id::{id_bytes, id_from_bytes};
use super::wire::{Entry, EntryType};
use super::{RaftError, RaftState, ID_LEN};

impl Raft {
    /// Port of (*raft).peerNames
    pub(crate) fn peer_names(&self) -> Vec<String> {
        self.peers.iter().filter(|(_, p)| p.kp).map(|(n, _)| n.clone()).collect()
    }

    /// Port of (*raft).currentPeerStateLocked and (*raft).currentPeerState
    ///
    /// The known peers, cluster size and domain extension state. Upstream's
    /// `currentPeerState` only wraps the locked variant in the read lock,
    /// which `&self` stands for here, so one function ports both.
    pub(crate) fn current_peer_state(&self) -> PeerState {
        PeerState { known_peers: self.peer_names(), cluster_size: self.csz as u32, domain_ext: self.ext_st }
    }

    // encodePeerState(currentPeerState), used by snapshots and peer-state entries.
    pub(crate) fn encoded_peer_state(&self) -> Vec<u8> {
        encode_peer_state(&self.current_peer_state())
    }

    /// Port of (*raft).processPeerState
    pub(crate) fn process_peer_state(&mut self, ps: &PeerState) {
        self.csz = ps.cluster_size as usize;
        self.qn = self.csz / 2 + 1;
        let mut old = std::mem::take(&mut self.peers);
        for peer in &ps.known_peers {
            let mut lp = old.remove(peer).unwrap_or_default();
            lp.kp = true;
            self.peers.insert(peer.clone(), lp);
        }
        self.debug(&format!("Update peers from leader to {:?}", self.peers.keys().collect::<Vec<_>>()));
        self.write_peer_state(ps);
    }

    /// Port of (*raft).addPeer
    pub(crate) fn add_peer(&mut self, peer: &str) {
        self.removed.remove(peer);
        self.peers.entry(peer.to_string()).or_insert_with(Lps::default).kp = true;
        self.adjust_cluster_size_and_quorum();
        let ps = self.current_peer_state();
        self.write_peer_state(&ps);
    }

    /// Port of (*raft).removePeer
    pub(crate) fn remove_peer(&mut self, peer: &str) {
        let now = self.now();
        self.removed.insert(peer.to_string(), now);
        if self.peers.remove(peer).is_some() {
            self.adjust_cluster_size_and_quorum();
            let ps = self.current_peer_state();
            self.write_peer_state(&ps);
        }
    }

    /// Port of (*raft).adjustClusterSizeAndQuorum
    pub(crate) fn adjust_cluster_size_and_quorum(&mut self) {
        let pcsz = self.csz;
        let ncsz = self.peers.values().filter(|p| p.kp).count();
        self.csz = ncsz;
        self.qn = ncsz / 2 + 1;
        if ncsz > pcsz {
            self.debug(&format!("Expanding our clustersize: {pcsz} -> {ncsz}"));
            self.lsut = Some(self.now());
        } else if ncsz < pcsz {
            self.debug(&format!("Decreasing our clustersize: {pcsz} -> {ncsz}"));
            if self.state == RaftState::Leader {
                // Go sends this from a goroutine once the lock is released;
                // the leader loop sends it on its next turn, and leaving
                // leadership first cancels it (see switch_state).
                self.hb_pending = true;
            }
        }
        if ncsz != pcsz {
            let _ = self.recreate_internal_subs_locked();
        }
    }

    /// Port of (*raft).trackPeer
    pub(crate) fn track_peer(&mut self, peer: &str) -> Result<(), RaftError> {
        let now = self.now();
        let mut is_removed = false;
        if let Some(rts) = self.removed.get(peer) {
            // Removed peers may rejoin after a while.
            is_removed = since(now, Some(*rts)) < self.timings.peer_remove_timeout;
        }
        let mut need_peer_add = false;
        if self.state == RaftState::Leader {
            match self.peers.get(peer) {
                Some(lp) if lp.kp => {}
                _ => need_peer_add = !is_removed,
            }
        }
        if let Some(ps) = self.peers.get_mut(peer) {
            ps.ts = Some(now);
        }
        if need_peer_add {
            let _ = self.propose_add_peer(peer);
        }
        Ok(())
    }

    // The guard against a second membership change in flight. Planted bug
    // (test builds only): no guard.
    fn membership_changing(&self) -> bool {
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.concurrent_membership_changes {
            return false;
        }
        self.memb_change_index > 0
    }

    /// Port of (*raft).ProposeAddPeer
    pub fn propose_add_peer(&mut self, peer: &str) -> Result<(), RaftError> {
        if self.state != RaftState::Leader {
            return Err(RaftError::NotLeader);
        }
        if let Some(e) = &self.werr {
            return Err(e.clone());
        }
        if self.membership_changing() {
            return Err(RaftError::MembershipChange);
        }
        self.prop.push_back(ProposedEntry { entry: Entry::new(EntryType::AddPeer, id_bytes(peer)), reply: String::new() });
        Ok(())
    }

    /// Port of (*raft).ProposeRemovePeer
    ///
    /// Followers forward the request to the leader on `$NRG.RP.<group>`.
    pub fn propose_remove_peer(&mut self, peer: &str) -> Result<(), RaftError> {
        if let Some(e) = &self.werr {
            return Err(e.clone());
        }
        if self.state != RaftState::Leader {
            let subj = self.rpsubj.clone();
            self.send_rpc(&subj, "", &id_bytes(peer));
            return Ok(());
        }
        if self.membership_changing() {
            return Err(RaftError::MembershipChange);
        }
        if self.peers.len() <= 1 {
            return Err(RaftError::RemoveLastNode);
        }
        self.prop.push_back(ProposedEntry { entry: Entry::new(EntryType::RemovePeer, id_bytes(peer)), reply: String::new() });
        Ok(())
    }

    /// Port of (*raft).handleForwardedRemovePeerProposal
    pub(crate) fn handle_forwarded_remove_peer_proposal(&mut self, reply: &str, msg: &[u8]) {
        if msg.len() != ID_LEN {
            self.warn(&format!("Received invalid peer name for remove proposal: {msg:?}"));
            return;
        }
        if self.state != RaftState::Leader || !self.leader_state {
            self.debug("Ignoring forwarded peer removal proposal, not leader");
            return;
        }
        if self.werr.is_some() {
            return;
        }
        if self.membership_changing() {
            self.debug("Ignoring forwarded peer removal proposal, membership changing");
            return;
        }
        self.prop.push_back(ProposedEntry { entry: Entry::new(EntryType::RemovePeer, msg), reply: reply.to_string() });
    }

    /// Port of (*raft).sendMembershipChange
    ///
    /// Returns whether the change was stored and sent.
    pub(crate) fn send_membership_change(&mut self, e: Entry) -> bool {
        if !e.changes_membership() || self.membership_changing() {
            return false;
        }
        // Set first: a single-node group commits inside the send.
        self.memb_change_index = self.pindex + 1;
        let typ = e.typ;
        let peer = id_from_bytes(&e.data);
        if self.send_append_entry_locked(vec![e], true).is_err() {
            self.memb_change_index = 0;
            return false;
        }
        match typ {
            EntryType::AddPeer => self.add_peer(&peer),
            EntryType::RemovePeer => {
                self.remove_peer(&peer);
                if self.csz == 1 {
                    let _ = self.try_commit(self.pindex);
                }
            }
            _ => {}
        }
        true
    }

    /// Port of (*raft).ProposeKnownPeers
    pub fn propose_known_peers(&mut self, known_peers: &[String]) {
        if self.state != RaftState::Leader {
            return;
        }
        self.update_known_peers_locked(known_peers);
        self.send_peer_state();
    }

    /// Port of (*raft).UpdateKnownPeers
    pub fn update_known_peers(&mut self, known_peers: &[String]) {
        self.update_known_peers_locked(known_peers);
    }

    /// Port of (*raft).updateKnownPeersLocked
    pub(crate) fn update_known_peers_locked(&mut self, known_peers: &[String]) {
        let ps = PeerState { known_peers: known_peers.to_vec(), cluster_size: known_peers.len() as u32, domain_ext: self.ext_st };
        self.process_peer_state(&ps);
    }

    /// Port of (*raft).AdjustBootClusterSize
    pub fn adjust_boot_cluster_size(&mut self, csz: usize) -> Result<(), RaftError> {
        if !self.leader.is_empty() || self.pleader {
            return Err(RaftError::AdjustBootCluster);
        }
        self.csz = csz.max(2);
        self.qn = self.csz / 2 + 1;
        Ok(())
    }

    /// Port of (*raft).AdjustClusterSize
    pub fn adjust_cluster_size(&mut self, csz: usize) -> Result<(), RaftError> {
        if self.state != RaftState::Leader {
            return Err(RaftError::NotLeader);
        }
        self.csz = csz.max(2);
        self.qn = self.csz / 2 + 1;
        self.send_peer_state();
        Ok(())
    }
}
