//! Meta-group membership as the JetStream layer reacts to it: a peer joins
//! (`processAddPeer`), a peer is removed (`processRemovePeer`, with the
//! streams it served re-placed: `removePeerFromStream`,
//! `remapStreamAssignment`), the meta
//! leader checks the cluster size (`checkClusterSize`), and a group picks a
//! preferred leader (`raftGroup.setPreferred`).

use serde::Serialize;

use crate::raft::env::LogLevel;

use super::assignments::{ConsumerAssignment, GoTime, RaftGroup, StreamAssignment};
use super::cluster::JetStreamCluster;
use super::js::JetStreamCtx;
use super::ops::{encode_add_consumer_assignment, encode_add_stream_assignment, encode_delete_consumer_assignment};
use super::server::{ServerEnv, Task};

/// Go: `JSAdvisoryServerRemoved`.
pub const JS_ADVISORY_SERVER_REMOVED: &str = "$JS.EVENT.ADVISORY.SERVER.REMOVED";
/// Go: `JSServerRemovedAdvisoryType`.
pub const JS_SERVER_REMOVED_ADVISORY_TYPE: &str = "io.nats.jetstream.advisory.v1.server_removed";

/// Go: `JSServerRemovedAdvisory`.
#[derive(Debug, Clone, Serialize)]
pub struct ServerRemovedAdvisory {
    #[serde(rename = "type")]
    pub typ: String,
    pub id: String,
    pub timestamp: GoTime,
    pub server: String,
    pub server_id: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

impl JetStreamCtx {
    /// Port of (*jetStream).processAddPeer
    ///
    /// On the meta leader: every supported stream (applied or in flight)
    /// that lacks peers and lives in the new peer's cluster is proposed
    /// again with the peer added, and so are its durable or replicated
    /// consumers, in the same peer set. The proposals are tracked as in
    /// flight. Upstream ranges over the in-flight maps while adding to them;
    /// here the streams are collected first.
    pub fn process_add_peer(&self, peer: &str) {
        let mut st = self.st.borrow_mut();
        let Some(cc) = st.cluster.as_ref() else { return };
        let Some(meta) = cc.meta.clone() else { return };
        if !JetStreamCluster::is_leader(Some(cc)) {
            return;
        }
        let Some(si) = self.srv.node_info(peer) else { return };

        let mut proposals: Vec<(String, StreamAssignment, Vec<ConsumerAssignment>)> = Vec::new();
        for (acc_name, sa) in st.stream_assignments_or_inflight_seq_all_accounts() {
            if sa.unsupported.is_some() || !sa.missing_peers() {
                continue;
            }
            if si.cluster != sa.client.as_ref().map_or("", |c| c.cluster.as_str()) {
                continue;
            }
            let mut csa = sa.copy_group();
            if let Some(g) = csa.group.as_mut() {
                g.peers.push(peer.to_string());
            }
            let peers = csa.group.as_ref().map(|g| g.peers.clone()).unwrap_or_default();
            let mut ccas = Vec::new();
            for ca in st.consumer_assignments_or_inflight_seq(acc_name, csa.name()) {
                if ca.unsupported.is_some() {
                    continue;
                }
                // Ephemerals are R1: only durables or replicated consumers follow.
                let durable = ca.config.as_ref().is_some_and(|c| !c.durable.is_empty());
                if durable || ca.group.as_ref().is_some_and(|g| g.peers.len() > 1) {
                    let mut cca = ca.copy_group();
                    if let Some(g) = cca.group.as_mut() {
                        g.peers = peers.clone();
                    }
                    ccas.push(cca);
                }
            }
            proposals.push((acc_name.to_string(), csa, ccas));
        }

        let Some(cc) = st.cluster.as_mut() else { return };
        for (acc_name, csa, ccas) in proposals {
            self.propose_encoded(&meta, encode_add_stream_assignment(&csa));
            cc.track_inflight_stream_proposal(&acc_name, &csa, false);
            for cca in ccas {
                self.propose_encoded(&meta, encode_add_consumer_assignment(&cca));
                cc.track_inflight_consumer_proposal(&acc_name, csa.name(), &cca, false);
            }
        }
    }

    fn propose_encoded(&self, meta: &super::node::NodeHandle, enc: Result<Vec<u8>, super::ops::OpError>) {
        match enc {
            // Like upstream, a failed proposal is not reported here.
            Ok(buf) => {
                let _ = meta.propose(&buf);
            }
            Err(e) => self.srv.log(LogLevel::Warn, &format!("JetStream cluster could not encode proposal: {e}")),
        }
    }

    /// Port of (*jetStream).processRemovePeer
    ///
    /// If the removed peer is us: publish the server-removed advisory and
    /// disable JetStream (as a task, upstream's `go s.DisableJetStream()`).
    /// The meta leader then re-assigns every supported stream the peer was
    /// a member of (`removePeerFromStreamLocked`). The streams are
    /// collected first: placement reads the state that upstream's caller
    /// holds locked.
    pub fn process_remove_peer(&self, peer: &str) {
        if self.disabled.get() {
            return;
        }
        let (is_leader, is_us) = {
            let st = self.st.borrow();
            let Some(cc) = st.cluster.as_ref() else { return };
            let Some(meta) = cc.meta.as_ref() else { return };
            (JetStreamCluster::is_leader(Some(cc)), meta.id() == peer)
        };

        if is_us {
            self.srv.log(LogLevel::Error, "JetStream being DISABLED, our server was removed from the cluster");
            let adv = ServerRemovedAdvisory {
                typ: JS_SERVER_REMOVED_ADVISORY_TYPE.to_string(),
                id: self.srv.nuid(),
                timestamp: GoTime::from_unix_nanos(self.srv.unix_nanos()),
                server: self.srv.name(),
                server_id: self.srv.id(),
                cluster: self.srv.cluster_name(),
                domain: self.srv.opts().js_domain,
            };
            self.srv.publish_advisory(None, JS_ADVISORY_SERVER_REMOVED, &adv);
            self.srv.schedule(std::time::Duration::ZERO, Task::DisableJetStream);
        }

        if !is_leader {
            return;
        }
        let members: Vec<StreamAssignment> = {
            let st = self.st.borrow();
            st.stream_assignments_or_inflight_seq_all_accounts()
                .filter(|(_, sa)| sa.unsupported.is_none() && RaftGroup::is_member(sa.group.as_ref(), peer))
                .map(|(_, sa)| sa.clone())
                .collect()
        };
        for sa in members {
            self.remove_peer_from_stream_locked(&sa, peer);
        }
    }

    /// Port of (*jetStream).removePeerFromStream
    ///
    /// As [`JetStreamCtx::remove_peer_from_stream_locked`]; upstream takes
    /// the lock that the `Locked` variant expects held, and here each
    /// step borrows the state itself.
    pub fn remove_peer_from_stream(&self, sa: &StreamAssignment, peer: &str) -> bool {
        self.remove_peer_from_stream_locked(sa, peer)
    }

    /// Port of (*jetStream).removePeerFromStreamLocked
    ///
    /// On the meta leader: a copy of `sa` whose group replaces `peer`
    /// (`remapStreamAssignment`) is proposed and tracked, replaced or not;
    /// its durable consumers follow the new peers with no preferred leader,
    /// and ephemerals on the removed peer are deleted. Whether the peer was
    /// replaced; false when it is not a member.
    pub fn remove_peer_from_stream_locked(&self, sa: &StreamAssignment, peer: &str) -> bool {
        if !RaftGroup::is_member(sa.group.as_ref(), peer) {
            return false;
        }
        let Some(meta) = self.get_meta_group() else { return false };
        let mut csa = sa.copy_group();
        let replaced = self.remap_stream_assignment(&mut csa, peer);
        let acc = sa.account().to_string();
        if !replaced {
            self.srv.log(LogLevel::Warn, &format!("JetStream cluster could not replace peer for stream '{acc} > {}'", sa.name()));
        }
        self.propose_encoded(&meta, encode_add_stream_assignment(&csa));
        let cas: Vec<ConsumerAssignment> = {
            let mut st = self.st.borrow_mut();
            if let Some(cc) = st.cluster.as_mut() {
                cc.track_inflight_stream_proposal(&acc, &csa, false);
            }
            st.consumer_assignments_or_inflight_seq(&acc, sa.name()).filter(|ca| ca.unsupported.is_none()).cloned().collect()
        };
        let peers = csa.group.as_ref().map(|g| g.peers.clone()).unwrap_or_default();
        for ca in cas {
            // Ephemerals are R1: only durables follow the stream.
            let durable = ca.config.as_ref().is_some_and(|c| !c.durable.is_empty());
            let (cca, deleted) = if durable {
                let mut cca = ca.copy_group();
                if let Some(g) = cca.group.as_mut() {
                    g.peers = peers.clone();
                    g.preferred.clear();
                }
                self.propose_encoded(&meta, encode_add_consumer_assignment(&cca));
                (cca, false)
            } else if RaftGroup::is_member(ca.group.as_ref(), peer) {
                self.propose_encoded(&meta, encode_delete_consumer_assignment(&ca));
                (ca, true)
            } else {
                continue;
            };
            if let Some(cc) = self.st.borrow_mut().cluster.as_mut() {
                cc.track_inflight_consumer_proposal(&acc, csa.name(), &cca, deleted);
            }
        }
        replaced
    }

    /// Port of (*jetStreamCluster).remapStreamAssignment
    ///
    /// Replaces `remove_peer` in `sa`'s group by placement, keeping the
    /// other peers and never choosing the removed one; the preferred
    /// leader is cleared. When no peer fits, a replicated group running
    /// here (it has a node) just drops the peer; an R1 or a group without
    /// a node is left as it is, so the stream is not bricked. Whether the
    /// peer was replaced.
    pub fn remap_stream_assignment(&self, sa: &mut StreamAssignment, remove_peer: &str) -> bool {
        let Some(g) = sa.group.as_ref() else { return false };
        let (retain, ignore): (Vec<String>, Vec<String>) = g.peers.iter().cloned().partition(|p| p != remove_peer);
        let placed = self.select_peer_group(g.peers.len(), &g.cluster, sa.config.as_ref(), &retain, 0, &ignore);
        let Some(g) = sa.group.as_mut() else { return false };
        match placed {
            Ok(new_peers) => {
                g.peers = new_peers;
                g.preferred.clear();
                true
            }
            Err(_) => {
                if g.node.is_none() || g.peers.len() == 1 {
                    return false;
                }
                if let Some(i) = g.peers.iter().position(|p| p == remove_peer) {
                    g.peers.swap_remove(i);
                }
                false
            }
        }
    }

    /// Port of (*jetStream).checkClusterSize
    ///
    /// When fewer peers are known than the cluster size and every expected
    /// peer has registered, count those running JetStream (mixed-mode
    /// clusters) and shrink the meta group's cluster size to that.
    pub fn check_cluster_size(&self) {
        let Some(n) = self.get_meta_group() else { return };
        let ps = n.current_peer_state();
        let cluster_size = ps.cluster_size as usize;
        if ps.known_peers.len() >= cluster_size {
            return;
        }
        let peers = self.srv.active_peers();
        if peers.len() < cluster_size {
            return;
        }
        self.srv.log(LogLevel::Debug, "Checking JetStream cluster size");
        let total_js = peers.iter().filter(|p| self.srv.node_info(p).is_some_and(|ni| ni.js)).count();
        if total_js < cluster_size {
            self.srv.log(LogLevel::Debug, &format!("Adjusting JetStream cluster size from {cluster_size} to {total_js}"));
            if let Err(e) = n.adjust_cluster_size(total_js) {
                self.srv.log(LogLevel::Warn, &format!("Error adjusting JetStream cluster size: {e}"));
            }
        }
    }
}

impl RaftGroup {
    /// Port of (*raftGroup).setPreferred
    ///
    /// The only peer, else a random online peer (per the server's
    /// `nodeToInfo`), else a random peer. Randomness comes from the server.
    pub fn set_preferred(rg: Option<&mut RaftGroup>, s: &dyn ServerEnv) {
        let Some(rg) = rg else { return };
        if rg.peers.is_empty() {
            return;
        }
        if rg.peers.len() == 1 {
            rg.preferred = rg.peers[0].clone();
            return;
        }
        let online: Vec<&String> = rg.peers.iter().filter(|p| s.node_info(p).is_some_and(|ni| !ni.offline)).collect();
        rg.preferred = match online.len() {
            0 => rg.peers[(s.rand_u64() % rg.peers.len() as u64) as usize].clone(),
            1 => online[0].clone(),
            n => online[(s.rand_u64() % n as u64) as usize].clone(),
        };
    }
}


#[cfg(test)]
#[path = "peers_tests.rs"]
mod tests;
