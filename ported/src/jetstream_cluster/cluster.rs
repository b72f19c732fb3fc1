//! The meta layer's cluster state: applied stream assignments (account →
//! stream → assignment, consumers nested), in-flight proposals, and the
//! lookups batch 33 uses over them.
//!
//! Upstream guards this with `js.mu`; here the borrow checker does: methods
//! that read take `&self`, those that change state take `&mut self`, and a
//! caller sharing the state wraps it in its own lock. Maps are ordered
//! (BTreeMap) so iteration and snapshots are deterministic; Go's maps
//! iterate in random order.

use std::collections::BTreeMap;

use super::assignments::{ClientInfo, ConsumerAssignment, RaftGroup, StreamAssignment};
use super::config::StreamConfig;
use super::js::Signal;
use super::node::{Entry, EntryType, NodeHandle};
use crate::raft::env::Sid;

/// Applied stream assignments: account → stream name → assignment.
pub type StreamMap = BTreeMap<String, BTreeMap<String, StreamAssignment>>;

/// A proposed but not yet applied stream create/update/delete.
#[derive(Debug, Clone, PartialEq)]
pub struct InflightStreamInfo {
    /// Number of proposals in flight for this stream.
    pub ops: u64,
    /// Whether the latest proposal deletes the stream.
    pub deleted: bool,
    /// The latest proposed assignment.
    pub sa: StreamAssignment,
}

/// A proposed but not yet applied consumer create/update/delete.
#[derive(Debug, Clone, PartialEq)]
pub struct InflightConsumerInfo {
    /// Number of proposals in flight for this consumer.
    pub ops: u64,
    /// Whether the latest proposal deletes the consumer.
    pub deleted: bool,
    /// The latest proposed assignment.
    pub ca: ConsumerAssignment,
}

/// Who asked for a peer removal, answered once the removal is applied
/// (Go: `peerRemoveInfo`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerRemoveInfo {
    pub ci: Option<ClientInfo>,
    pub subject: String,
    pub reply: String,
    pub request: String,
}

/// Meta-group state (upstream's `jetStreamCluster`): the meta node, the
/// assignment maps, in-flight proposals, pending peer-removal replies, the
/// monitor's quit/stopped signals and the leader-only subscriptions this
/// port has. The server and internal client fields live in the
/// [`super::js::JetStreamCtx`] that holds this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JetStreamCluster {
    /// The meta group's raft node.
    pub meta: Option<NodeHandle>,
    pub streams: StreamMap,
    /// account → stream name → in-flight proposal.
    pub inflight_streams: BTreeMap<String, BTreeMap<String, InflightStreamInfo>>,
    /// account → stream name → consumer name → in-flight proposal.
    pub inflight_consumers: BTreeMap<String, BTreeMap<String, BTreeMap<String, InflightConsumerInfo>>>,
    /// Start of the last meta snapshot, Unix nanoseconds.
    pub last_meta_snap_time: i64,
    /// Duration of the last meta snapshot, nanoseconds.
    pub last_meta_snap_duration: i64,
    /// Peer id → who asked for its removal (Go: `peerRemoveReply`).
    pub peer_remove_reply: BTreeMap<String, PeerRemoveInfo>,
    /// The meta leader should check stream assignments for a missing sync
    /// subject (Go: `streamsCheck`).
    pub streams_check: bool,
    /// Closed to pop the meta monitor out (Go: `qch`; `None` once JetStream
    /// shut down and took it).
    pub qch: Option<Signal>,
    /// Closed once the meta monitor has stopped (Go: `stopped`).
    pub stopped: Option<Signal>,
    /// The leader's `$JS.API.META.LEADER.STEPDOWN` subscription (Go: `stepdown`).
    pub stepdown: Option<Sid>,
}

impl JetStreamCluster {
    /// A cluster state around a meta node, as `setupMetaGroup` builds it.
    pub fn with_meta(meta: NodeHandle) -> Self {
        JetStreamCluster { meta: Some(meta), qch: Some(Signal::new()), stopped: Some(Signal::new()), ..Default::default() }
    }

    /// Port of (*jetStreamCluster).isLeader
    ///
    /// Not clustered (`None`) counts as leader.
    pub fn is_leader(cc: Option<&Self>) -> bool {
        match cc {
            None => true,
            Some(cc) => cc.meta.as_ref().is_some_and(|m| m.leader()),
        }
    }

    /// Port of (*jetStreamCluster).isStreamAssigned
    ///
    /// Whether our meta peer is a member of the stream's group; always true
    /// when not clustered.
    pub fn is_stream_assigned(cc: Option<&Self>, account: &str, stream: &str) -> bool {
        let Some(cc) = cc else { return true };
        let Some(meta) = cc.meta.as_ref() else { return false };
        let Some(sa) = cc.streams.get(account).and_then(|a| a.get(stream)) else { return false };
        RaftGroup::is_member(sa.group.as_ref(), &meta.id())
    }

    /// Port of (*jetStreamCluster).isStreamLeader
    ///
    /// We are a member and either the only peer or our group node leads.
    pub fn is_stream_leader(cc: Option<&Self>, account: &str, stream: &str) -> bool {
        let Some(cc) = cc else { return true };
        let Some(meta) = cc.meta.as_ref() else { return false };
        let Some(sa) = cc.streams.get(account).and_then(|a| a.get(stream)) else { return false };
        let Some(rg) = sa.group.as_ref() else { return false };
        Self::leads_group(rg, &meta.id())
    }

    /// Port of (*jetStreamCluster).isConsumerLeader
    pub fn is_consumer_leader(cc: Option<&Self>, account: &str, stream: &str, consumer: &str) -> bool {
        let Some(cc) = cc else { return true };
        let Some(meta) = cc.meta.as_ref() else { return false };
        let Some(sa) = cc.streams.get(account).and_then(|a| a.get(stream)) else { return false };
        let Some(ca) = sa.consumers.get(consumer) else { return false };
        // Upstream dereferences the group unchecked; no group leads nothing.
        let Some(rg) = ca.group.as_ref() else { return false };
        Self::leads_group(rg, &meta.id())
    }

    fn leads_group(rg: &RaftGroup, our_id: &str) -> bool {
        rg.peers.iter().any(|p| p == our_id) && (rg.peers.len() == 1 || rg.node.as_ref().is_some_and(|n| n.leader()))
    }

    /// Port of (*jetStreamCluster).trackInflightStreamProposal
    pub fn track_inflight_stream_proposal(&mut self, acc_name: &str, sa: &StreamAssignment, deleted: bool) {
        let streams = self.inflight_streams.entry(acc_name.to_string()).or_default();
        match streams.get_mut(sa.name()) {
            Some(inflight) => {
                inflight.ops += 1;
                inflight.deleted = deleted;
                inflight.sa = sa.clone();
            }
            None => {
                let info = InflightStreamInfo { ops: 1, deleted, sa: sa.clone() };
                streams.insert(sa.name().to_string(), info);
            }
        }
    }

    /// Port of (*jetStreamCluster).removeInflightStreamProposal
    pub fn remove_inflight_stream_proposal(&mut self, acc_name: &str, stream_name: &str) {
        let Some(streams) = self.inflight_streams.get_mut(acc_name) else { return };
        let Some(inflight) = streams.get_mut(stream_name) else { return };
        if inflight.ops > 1 {
            inflight.ops -= 1;
            return;
        }
        streams.remove(stream_name);
        if streams.is_empty() {
            self.inflight_streams.remove(acc_name);
        }
    }

    /// Port of (*jetStreamCluster).trackInflightConsumerProposal
    ///
    /// Records one more proposal in flight for the consumer, remembering
    /// the latest proposed assignment and whether it deletes the consumer.
    pub fn track_inflight_consumer_proposal(&mut self, acc_name: &str, stream_name: &str, ca: &ConsumerAssignment, deleted: bool) {
        let consumers = self
            .inflight_consumers
            .entry(acc_name.to_string())
            .or_default()
            .entry(stream_name.to_string())
            .or_default();
        match consumers.get_mut(&ca.name) {
            Some(inflight) => {
                inflight.ops += 1;
                inflight.deleted = deleted;
                inflight.ca = ca.clone();
            }
            None => {
                let info = InflightConsumerInfo { ops: 1, deleted, ca: ca.clone() };
                consumers.insert(ca.name.clone(), info);
            }
        }
    }

    /// Port of (*jetStreamCluster).removeInflightConsumerProposal
    ///
    /// One proposal for the consumer was applied: count it down, and drop
    /// the entry (then an emptied stream and account) when none is left.
    pub fn remove_inflight_consumer_proposal(&mut self, acc_name: &str, stream_name: &str, consumer_name: &str) {
        let Some(streams) = self.inflight_consumers.get_mut(acc_name) else { return };
        let Some(consumers) = streams.get_mut(stream_name) else { return };
        let Some(inflight) = consumers.get_mut(consumer_name) else { return };
        if inflight.ops > 1 {
            inflight.ops -= 1;
            return;
        }
        consumers.remove(consumer_name);
        if consumers.is_empty() {
            streams.remove(stream_name);
        }
        if streams.is_empty() {
            self.inflight_consumers.remove(acc_name);
        }
    }
}

/// The JetStream context as far as the meta layer's pure code needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JetStream {
    /// Cluster state; `None` when not clustered.
    pub cluster: Option<JetStreamCluster>,
    /// Whether the meta layer is replaying its log.
    pub meta_recovering: bool,
}

impl JetStream {
    /// A clustered context with empty state.
    pub fn clustered() -> Self {
        JetStream { cluster: Some(JetStreamCluster::default()), meta_recovering: false }
    }

    /// Port of (*jetStream).isClustered and (*jetStream).isClusteredNoLock
    ///
    /// Whether the meta layer runs clustered. Upstream keeps a second,
    /// atomic copy of this fact so callers already holding other locks can
    /// read it without the JetStream lock; with no lock on this struct both
    /// read the same thing.
    pub fn is_clustered(&self) -> bool {
        self.cluster.is_some()
    }

    /// Port of (*jetStream).setMetaRecovering
    ///
    /// Marks the meta layer as replaying its log; ignored when not clustered.
    pub fn set_meta_recovering(&mut self) {
        if self.cluster.is_some() {
            self.meta_recovering = true;
        }
    }

    /// Port of (*jetStream).clearMetaRecovering
    pub fn clear_meta_recovering(&mut self) {
        self.meta_recovering = false;
    }

    /// Port of (*jetStream).isMetaRecovering
    pub fn is_meta_recovering(&self) -> bool {
        self.meta_recovering
    }

    /// Port of (*jetStream).streamAssignment
    pub fn stream_assignment(&self, account: &str, stream: &str) -> Option<&StreamAssignment> {
        self.cluster.as_ref()?.streams.get(account)?.get(stream)
    }

    /// Port of (*jetStream).streamAssignmentOrInflight
    ///
    /// An in-flight proposal wins over the applied assignment; an in-flight
    /// delete hides the stream.
    pub fn stream_assignment_or_inflight(&self, account: &str, stream: &str) -> Option<&StreamAssignment> {
        let cc = self.cluster.as_ref()?;
        if let Some(inflight) = cc.inflight_streams.get(account).and_then(|s| s.get(stream)) {
            return (!inflight.deleted).then_some(&inflight.sa);
        }
        cc.streams.get(account)?.get(stream)
    }

    /// Port of (*jetStream).streamAssignmentsOrInflightSeq
    ///
    /// An account's in-flight (not deleted) assignments, then its applied
    /// assignments that have no in-flight entry.
    pub fn stream_assignments_or_inflight_seq<'a>(
        &'a self,
        account: &'a str,
    ) -> impl Iterator<Item = &'a StreamAssignment> + 'a {
        let cc = self.cluster.as_ref();
        let inflight = cc.and_then(|cc| cc.inflight_streams.get(account));
        let pending = inflight.into_iter().flat_map(|m| m.values()).filter(|i| !i.deleted).map(|i| &i.sa);
        let applied = cc
            .and_then(|cc| cc.streams.get(account))
            .into_iter()
            .flat_map(|m| m.values())
            .filter(move |sa| !inflight.is_some_and(|m| m.contains_key(sa.name())));
        pending.chain(applied)
    }

    /// Port of (*jetStream).streamAssignmentsOrInflightSeqAllAccounts
    ///
    /// `(account, assignment)` over every account, in-flight first.
    pub fn stream_assignments_or_inflight_seq_all_accounts(
        &self,
    ) -> impl Iterator<Item = (&str, &StreamAssignment)> + '_ {
        let cc = self.cluster.as_ref();
        let pending = cc.into_iter().flat_map(|cc| cc.inflight_streams.iter()).flat_map(|(acc, m)| {
            m.values().filter(|i| !i.deleted).map(move |i| (acc.as_str(), &i.sa))
        });
        let applied = cc.into_iter().flat_map(move |cc| {
            cc.streams.iter().flat_map(move |(acc, m)| {
                let inflight = cc.inflight_streams.get(acc);
                m.values()
                    .filter(move |sa| !inflight.is_some_and(|i| i.contains_key(sa.name())))
                    .map(move |sa| (acc.as_str(), sa))
            })
        });
        pending.chain(applied)
    }

    /// Port of (*jetStream).consumerAssignment
    pub fn consumer_assignment(&self, account: &str, stream: &str, consumer: &str) -> Option<&ConsumerAssignment> {
        self.stream_assignment(account, stream)?.consumers.get(consumer)
    }

    /// Port of (*jetStream).consumerAssignmentOrInflight
    ///
    /// An in-flight proposal wins over the applied consumer; an in-flight
    /// delete hides it.
    pub fn consumer_assignment_or_inflight(&self, account: &str, stream: &str, consumer: &str) -> Option<&ConsumerAssignment> {
        let cc = self.cluster.as_ref()?;
        if let Some(inflight) = cc.inflight_consumers.get(account).and_then(|s| s.get(stream)).and_then(|c| c.get(consumer)) {
            return (!inflight.deleted).then_some(&inflight.ca);
        }
        self.consumer_assignment(account, stream, consumer)
    }

    /// Port of (*jetStream).consumerAssignmentsOrInflightSeq
    ///
    /// A stream's in-flight (not deleted) consumers, then its applied
    /// consumers without an in-flight entry.
    pub fn consumer_assignments_or_inflight_seq<'a>(
        &'a self,
        account: &'a str,
        stream: &'a str,
    ) -> impl Iterator<Item = &'a ConsumerAssignment> + 'a {
        let cc = self.cluster.as_ref();
        let inflight = cc.and_then(|cc| cc.inflight_consumers.get(account)).and_then(|s| s.get(stream));
        let pending = inflight.into_iter().flat_map(|m| m.values()).filter(|i| !i.deleted).map(|i| &i.ca);
        let applied = self
            .stream_assignment(account, stream)
            .into_iter()
            .flat_map(|sa| sa.consumers.values())
            .filter(move |ca| !inflight.is_some_and(|m| m.contains_key(&ca.name)));
        pending.chain(applied)
    }

    /// Port of (*jetStream).clusterStreamConfig
    ///
    /// A copy of an applied stream's config. `None` when not clustered,
    /// unknown, or its config was never decoded (upstream assumes it was).
    pub fn cluster_stream_config(&self, acc_name: &str, stream_name: &str) -> Option<StreamConfig> {
        self.stream_assignment(acc_name, stream_name)?.config.clone()
    }

    /// Port of (*jetStream).setStreamAssignmentRecovering
    ///
    /// Marks an assignment as replayed: already answered, recovering, no
    /// restore, and no preferred leader or scale-up hint.
    pub fn set_stream_assignment_recovering(sa: &mut StreamAssignment) {
        sa.responded = true;
        sa.recovering = true;
        sa.restore = None;
        if let Some(g) = sa.group.as_mut() {
            g.preferred.clear();
            g.scale_up = false;
        }
    }

    /// Port of (*jetStream).setConsumerAssignmentRecovering
    pub fn set_consumer_assignment_recovering(ca: &mut ConsumerAssignment) {
        ca.responded = true;
        ca.recovering = true;
        if let Some(g) = ca.group.as_mut() {
            g.preferred.clear();
            g.scale_up = false;
        }
    }

    /// Port of (*jetStream).hasPeerEntries
    ///
    /// Whether a committed batch adds or removes a peer.
    pub fn has_peer_entries(entries: &[Entry]) -> bool {
        entries
            .iter()
            .any(|e| matches!(e.typ, EntryType::AddPeer | EntryType::RemovePeer))
    }
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
