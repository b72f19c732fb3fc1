//! The raft node handle the JetStream cluster code holds for a group.
//!
//! Upstream talks to its `RaftNode` interface. Only what this batch's pure
//! code needs is declared here. The raft port's node (`crate::raft::Raft`)
//! does not implement it yet: it is driven through `&mut self` by one
//! thread over a host environment that is not `Send`, while a
//! [`NodeHandle`] is shared across threads.

use std::fmt;
use std::sync::Arc;

/// The parts of a raft node the meta/stream bookkeeping needs.
pub trait RaftNode: Send + Sync {
    /// This server's peer id in the group.
    fn id(&self) -> String;
    /// The raft group's name.
    fn group(&self) -> String;
    /// Stops the node and removes its log and state for good (Go: `Delete`).
    fn delete(&self);
}

/// A shared handle to a running raft node.
#[derive(Clone)]
pub struct NodeHandle(pub Arc<dyn RaftNode>);

impl NodeHandle {
    /// Wraps a node.
    pub fn new(node: impl RaftNode + 'static) -> Self {
        NodeHandle(Arc::new(node))
    }

    /// Whether both handles refer to the same node.
    pub fn same_node(&self, other: &NodeHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RaftNode({}@{})", self.0.id(), self.0.group())
    }
}

/// Log entries as the raft port hands them to the meta layer.
pub use crate::raft::wire::{Entry, EntryType};
