//! JetStream cluster meta layer (`server/jetstream_cluster.go`): stream and
//! consumer assignments, meta-group entries and snapshots, recovery staging,
//! and the pure functions of batch 33 that work on them.

pub mod assignments;
pub mod checkpoint;
pub mod cluster;
pub mod config;
pub mod meta_snapshot;
pub mod meta_wal;
pub mod node;
pub mod ops;
pub mod recovery;
pub mod stream;
#[cfg(test)]
pub(crate) mod test_util;

/// Name of the meta raft group.
pub const DEFAULT_META_GROUP_NAME: &str = "_meta_";

pub use assignments::{ClientInfo, ConsumerAssignment, RaftGroup, StorageType, StreamAssignment};
pub use cluster::{JetStream, JetStreamCluster, StreamMap};
pub use meta_snapshot::{EncodedMetaSnapshot, MetaAction, MetaSnapshotDiff, MetaSnapshotError};
pub use recovery::RecoveryUpdates;
