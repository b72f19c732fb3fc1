//! The slice of a clustered stream that batch 33's pure functions touch:
//! its assignment, raft node and lost-quorum advisory throttle, plus the
//! small stream-side helpers `isControlHdr` and `genPeerInfo`.

use std::cell::{RefCell, RefMut};
use std::collections::BTreeSet;
use std::time::Duration;

use super::assignments::{RaftGroup, StreamAssignment};
use super::node::NodeHandle;
use crate::raft::env::Timestamp;

/// Minimum time between two lost-quorum advisories of one stream.
pub const LOST_QUORUM_ADV_INTERVAL: Duration = Duration::from_secs(10);

/// Mutable state of a [`Stream`], behind its lock.
#[derive(Debug, Default)]
pub struct StreamState {
    /// The stream's current assignment.
    pub sa: Option<StreamAssignment>,
    /// The raft node, for replicated streams hosted here.
    pub node: Option<NodeHandle>,
    /// When the last lost-quorum advisory was sent (injected clock).
    pub lqsent: Option<Timestamp>,
}

/// A clustered stream (upstream's `stream`, reduced to the fields used here).
/// Single-threaded like the rest of the port: upstream's `mset.mu` becomes
/// a `RefCell` borrow for the same span.
#[derive(Debug, Default)]
pub struct Stream {
    mu: RefCell<StreamState>,
}

impl Stream {
    /// A stream with the given state.
    pub fn new(state: StreamState) -> Self {
        Stream { mu: RefCell::new(state) }
    }

    fn lock(&self) -> RefMut<'_, StreamState> {
        self.mu.borrow_mut()
    }

    /// Replaces the stream's assignment.
    pub fn set_assignment(&self, sa: Option<StreamAssignment>) {
        self.lock().sa = sa;
    }

    /// The stream's assignment (a copy; upstream reads `mset.sa`).
    pub fn assignment(&self) -> Option<StreamAssignment> {
        self.lock().sa.clone()
    }

    /// Replaces the stream's raft node.
    pub fn set_node(&self, node: Option<NodeHandle>) {
        self.lock().node = node;
    }

    /// Port of (*stream).raftGroup
    ///
    /// The group of the stream's assignment; `None` for no stream, no
    /// assignment or no group. Returns a copy (upstream returns the pointer).
    pub fn raft_group(mset: Option<&Stream>) -> Option<RaftGroup> {
        let mset = mset?;
        let st = mset.lock();
        st.sa.as_ref()?.group.clone()
    }

    /// Port of (*stream).raftNode
    pub fn raft_node(mset: Option<&Stream>) -> Option<NodeHandle> {
        mset?.lock().node.clone()
    }

    /// Port of (*stream).removeNode
    ///
    /// Deletes the stream's raft node, if it has one, and forgets it; the
    /// stream's lock is held throughout, as upstream does.
    pub fn remove_node(&self) {
        let mut st = self.lock();
        if let Some(n) = st.node.take() {
            n.delete();
        }
    }

    /// Port of (*stream).isMigrating
    ///
    /// A stream migrates while its assignment's group has a running node and
    /// a peer count different from the configured replicas. Upstream reads
    /// the assignment under the JetStream lock; here it sits in the stream.
    pub fn is_migrating(mset: Option<&Stream>) -> bool {
        let Some(mset) = mset else { return false };
        let st = mset.lock();
        let Some(sa) = st.sa.as_ref() else { return false };
        let Some(group) = sa.group.as_ref().filter(|g| g.node.is_some()) else { return false };
        sa.config.as_ref().map_or(0, |c| c.replicas) != group.peers.len() as i64
    }

    /// Port of (*stream).shouldSendLostQuorum
    ///
    /// True at most once per [`LOST_QUORUM_ADV_INTERVAL`] of the injected
    /// clock `now`. The first call is always true (upstream's zero time is
    /// long ago).
    pub fn should_send_lost_quorum(&self, now: Timestamp) -> bool {
        let mut st = self.lock();
        let due = match st.lqsent {
            None => true,
            Some(sent) => now.since(sent) >= LOST_QUORUM_ADV_INTERVAL,
        };
        if due {
            st.lqsent = Some(now);
        }
        due
    }
}

/// Port of isControlHdr
///
/// Whether message headers are a NATS control status line (`NATS/1.0 100 `,
/// used for flow control and heartbeats).
pub fn is_control_hdr(hdr: &[u8]) -> bool {
    hdr.starts_with(b"NATS/1.0 100 ")
}

/// New and old peers of a migrating group, as lists and sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerInfoSplit {
    pub new_peers: Vec<String>,
    pub old_peers: Vec<String>,
    pub new_peer_set: BTreeSet<String>,
    pub old_peer_set: BTreeSet<String>,
}

/// Port of genPeerInfo
///
/// Peers before `split` are old, from `split` on new. Upstream panics when
/// `split` exceeds the list; here it is clamped to the list length.
pub fn gen_peer_info(peers: &[String], split: usize) -> PeerInfoSplit {
    let split = split.min(peers.len());
    let (old, new) = peers.split_at(split);
    PeerInfoSplit {
        new_peers: new.to_vec(),
        old_peers: old.to_vec(),
        new_peer_set: new.iter().cloned().collect(),
        old_peer_set: old.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jetstream_cluster::test_util::mem_node;

    fn sa_with_group() -> StreamAssignment {
        let json = r#"{"created":"2024-01-01T00:00:00Z","stream":{"name":"S"},"group":{"name":"S-R3F-x","peers":["a","b","c"],"store":"file"},"sync":"_"}"#;
        crate::jetstream_cluster::ops::decode_stream_assignment(json.as_bytes()).expect("assignment")
    }

    #[test]
    fn control_headers() {
        assert!(is_control_hdr(b"NATS/1.0 100 Idle Heartbeat\r\n\r\n"));
        assert!(is_control_hdr(b"NATS/1.0 100 FlowControl Request\r\n"));
        assert!(!is_control_hdr(b"NATS/1.0 100"));
        assert!(!is_control_hdr(b"NATS/1.0 404 No Messages\r\n"));
        assert!(!is_control_hdr(b"NATS/1.0\r\nFoo: bar\r\n\r\n"));
        assert!(!is_control_hdr(b""));
    }

    #[test]
    fn gen_peer_info_splits() {
        let peers: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        let p = gen_peer_info(&peers, 3);
        assert_eq!(p.old_peers, vec!["a", "b", "c"]);
        assert_eq!(p.new_peers, vec!["d", "e"]);
        assert!(p.old_peer_set.contains("b") && !p.old_peer_set.contains("d"));
        assert!(p.new_peer_set.contains("e") && !p.new_peer_set.contains("a"));
        let p = gen_peer_info(&peers, 0);
        assert!(p.old_peers.is_empty() && p.new_peers.len() == 5);
        let p = gen_peer_info(&peers, 9);
        assert_eq!(p.old_peers.len(), 5);
        assert!(p.new_peers.is_empty());
    }

    #[test]
    fn raft_group_accessor() {
        assert!(Stream::raft_group(None).is_none());
        let mset = Stream::default();
        assert!(Stream::raft_group(Some(&mset)).is_none());
        mset.set_assignment(Some(sa_with_group()));
        let rg = Stream::raft_group(Some(&mset)).expect("group");
        assert_eq!(rg.name, "S-R3F-x");
        assert_eq!(rg.peers, vec!["a", "b", "c"]);
        let mut sa = sa_with_group();
        sa.group = None;
        mset.set_assignment(Some(sa));
        assert!(Stream::raft_group(Some(&mset)).is_none());
    }

    #[test]
    fn raft_node_accessor() {
        assert!(Stream::raft_node(None).is_none());
        let mset = Stream::default();
        assert!(Stream::raft_node(Some(&mset)).is_none());
        let (_world, raft) = mem_node("raft_node_accessor");
        let node = NodeHandle::from_raft(raft.clone());
        mset.set_node(Some(node.clone()));
        let got = Stream::raft_node(Some(&mset)).expect("node");
        assert!(got.same_node(&node));
        assert_eq!(got.id(), raft.borrow().id());
        let (_w2, other) = mem_node("raft_node_accessor_other");
        assert!(!got.same_node(&NodeHandle::from_raft(other)));
    }

    #[test]
    fn remove_node_deletes_and_forgets_the_node() {
        let mset = Stream::default();
        mset.remove_node();
        assert!(Stream::raft_node(Some(&mset)).is_none(), "no node: nothing to do");

        let (world, raft) = mem_node("remove_node_deletes_and_forgets_the_node");
        let store = raft.borrow().store_dir().to_string();
        assert!(world.disk.borrow().exists(&store));
        mset.set_node(Some(NodeHandle::from_raft(raft.clone())));
        mset.remove_node();
        assert!(raft.borrow().is_deleted(), "the node was deleted");
        assert!(!world.disk.borrow().exists(&store), "its store is gone");
        assert!(Stream::raft_node(Some(&mset)).is_none());
        mset.remove_node();
        assert!(Stream::raft_node(Some(&mset)).is_none(), "deleted once, then nothing to do");
    }

    #[test]
    fn migrating_needs_node_and_peer_mismatch() {
        assert!(!Stream::is_migrating(None));
        let mset = Stream::default();
        assert!(!Stream::is_migrating(Some(&mset)));
        let mut sa = sa_with_group();
        sa.config.as_mut().expect("config").replicas = 3;
        mset.set_assignment(Some(sa.clone()));
        assert!(!Stream::is_migrating(Some(&mset)), "no node, not migrating");
        let (_world, raft) = mem_node("migrating_needs_node_and_peer_mismatch");
        sa.group.as_mut().expect("group").node = Some(NodeHandle::from_raft(raft));
        mset.set_assignment(Some(sa.clone()));
        assert!(!Stream::is_migrating(Some(&mset)), "3 peers for R3");
        sa.config.as_mut().expect("config").replicas = 1;
        mset.set_assignment(Some(sa.clone()));
        assert!(Stream::is_migrating(Some(&mset)), "3 peers for R1");
        sa.group = None;
        mset.set_assignment(Some(sa));
        assert!(!Stream::is_migrating(Some(&mset)));
    }

    #[test]
    fn lost_quorum_throttle() {
        let mset = Stream::default();
        let t0 = Timestamp(5_000_000_000);
        assert!(mset.should_send_lost_quorum(t0));
        assert!(!mset.should_send_lost_quorum(t0));
        assert!(!mset.should_send_lost_quorum(t0.add(Duration::from_millis(9_999))));
        assert!(mset.should_send_lost_quorum(t0.add(LOST_QUORUM_ADV_INTERVAL)));
        assert!(!mset.should_send_lost_quorum(t0.add(Duration::from_secs(15))));
        assert!(mset.should_send_lost_quorum(t0.add(Duration::from_secs(20))));
    }
}
