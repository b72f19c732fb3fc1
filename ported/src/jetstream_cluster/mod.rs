//! JetStream cluster meta layer (`server/jetstream_cluster.go`): stream and
//! consumer assignments, meta-group entries and snapshots, recovery staging,
//! the meta group's set-up, monitor (`monitorCluster`) and entry
//! application (`applyMetaEntries`) with the `process*` handlers' meta-level
//! bookkeeping, peer handling, meta leadership, and the batch-32 accessors.
//! The server comes in through [`server::ServerEnv`] and the stream runtime
//! through [`runtime::StreamRuntime`]; the simulator (`crate::sim::js`)
//! hosts both.

pub mod accounts;
pub mod apply;
pub mod assignments;
pub mod checkpoint;
pub mod cluster;
pub mod config;
pub mod dedupe;
pub mod errors;
pub mod handlers;
pub mod health;
pub mod js;
pub mod leader;
pub mod meta;
pub mod meta_snapshot;
pub mod meta_wal;
pub mod monitor;
pub mod node;
pub mod offline;
pub mod ops;
pub mod peers;
pub mod placement;
pub mod recovery;
pub mod runtime;
pub mod server;
pub mod stream;
pub mod stream_api;
pub mod stream_apply;
pub mod stream_requests;
pub mod stream_events;
pub mod stream_ops;
pub mod streams;
#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod mutation_tests_2;
#[cfg(test)]
mod mutation_tests_3;
#[cfg(test)]
mod mutation_tests_4;

/// Name of the meta raft group.
pub const DEFAULT_META_GROUP_NAME: &str = "_meta_";

pub use assignments::{ClientInfo, ConsumerAssignment, RaftGroup, StorageType, StreamAssignment};
pub use cluster::{JetStream, JetStreamCluster, StreamMap};
pub use meta_snapshot::{EncodedMetaSnapshot, MetaAction, MetaSnapshotDiff, MetaSnapshotError};
pub use recovery::RecoveryUpdates;
