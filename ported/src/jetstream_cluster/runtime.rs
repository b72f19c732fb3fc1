//! The stream and consumer runtime the meta layer hands work to: the
//! `process*` handlers keep the assignment maps, in-flight proposals and
//! recovery staging themselves and then call these entry points, which
//! create, update, stop or delete the streams and consumers this server
//! runs (upstream: `processClusterCreateStream` and friends in
//! `jetstream_cluster.go`, `lookupStream`/`lookupConsumer`, `removeStream`
//! and `removeConsumer`).
//!
//! Those functions belong to the stream layer, which is not ported yet, so
//! the meta layer reaches them through this trait with their upstream
//! arguments. The runtime receives copies of the assignments; upstream
//! shares pointers and lets the stream code update fields such as
//! `Group.node` in place, which a runtime here does through the
//! [`JetStreamCtx`] it is given.

use serde_json::value::RawValue;

use super::assignments::{ConsumerAssignment, StreamAssignment};
use super::cluster::StreamMap;
use super::js::JetStreamCtx;

/// Streams and consumers this server runs that have no assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orphans {
    /// (account, stream).
    pub streams: Vec<(String, String)>,
    /// (account, stream, consumer, durable).
    pub consumers: Vec<(String, String, String, bool)>,
}

/// What the meta layer needs to know about a stream this server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningAsset {
    /// When it was created here, Unix nanoseconds (Go: `createdTime()`).
    pub created_unix_nanos: i64,
    /// Whether it has been closed (Go: `mset.closed`).
    pub closed: bool,
}

/// What the stream health check reads of a stream this server runs (Go:
/// fields of the `*stream` that `acc.lookupStream` returns).
#[derive(Debug, Clone)]
pub struct StreamHealthView {
    /// The running configuration's replica count (Go: `mset.cfg.Replicas`).
    pub replicas: i64,
    /// The stream's own raft node (Go: `mset.raftNode()`).
    pub node: Option<super::node::NodeHandle>,
    /// Whether its monitor still runs (Go: `mset.isMonitorRunning()`).
    pub monitor_running: bool,
}

/// The stream/consumer runtime, as the meta layer calls it.
pub trait StreamRuntime {
    /// Go: `(*jetStream).processClusterCreateStream(acc, sa)`; we are a member.
    fn process_cluster_create_stream(&self, js: &JetStreamCtx, acc: &str, sa: &StreamAssignment);
    /// Go: `(*jetStream).processClusterUpdateStream(acc, osa, sa)`; we are a member.
    fn process_cluster_update_stream(&self, js: &JetStreamCtx, acc: &str, osa: &StreamAssignment, sa: &StreamAssignment);
    /// Go: `(*jetStream).processClusterDeleteStream(sa, isMember, wasLeader)`.
    fn process_cluster_delete_stream(&self, js: &JetStreamCtx, sa: &StreamAssignment, is_member: bool, was_leader: bool);
    /// Go: `acc.lookupStream(name)`: the stream if this server runs it.
    fn lookup_stream(&self, acc: &str, stream: &str) -> Option<RunningAsset>;
    /// Go: `(*Server).removeStream(mset, nsa)`: drop our copy of a stream we
    /// are no longer a member of.
    fn remove_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str, nsa: &StreamAssignment);
    /// Go: `mset.stop(false, false)` for a stream that became unsupported.
    fn stop_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str);
    /// Go: `(*jetStream).processClusterCreateConsumer(oca, ca, state, wasExisting)`; we are a member.
    fn process_cluster_create_consumer(
        &self,
        js: &JetStreamCtx,
        oca: Option<&ConsumerAssignment>,
        ca: &ConsumerAssignment,
        state: Option<&RawValue>,
        was_existing: bool,
    );
    /// Go: `(*jetStream).processClusterDeleteConsumer(ca, wasLeader)`.
    fn process_cluster_delete_consumer(&self, js: &JetStreamCtx, ca: &ConsumerAssignment, was_leader: bool);
    /// Go: `mset.lookupConsumer(name)`: the consumer if this server runs it.
    fn lookup_consumer(&self, acc: &str, stream: &str, consumer: &str) -> Option<RunningAsset>;
    /// Go: `(*Server).removeConsumer(o, nca)`.
    fn remove_consumer(&self, js: &JetStreamCtx, acc: &str, stream: &str, consumer: &str, nca: &ConsumerAssignment);
    /// Go: `(*jetStream).getOrphans`: what runs here without an assignment in `streams`.
    fn get_orphans(&self, streams: &StreamMap) -> Orphans;
    /// Go: `mset.delete()` of an orphaned stream.
    fn delete_stream(&self, js: &JetStreamCtx, acc: &str, stream: &str) -> Result<(), String>;
    /// Go: `o.delete()` of an orphaned consumer.
    fn delete_consumer(&self, js: &JetStreamCtx, acc: &str, stream: &str, consumer: &str) -> Result<(), String>;
    /// Go: `mset.raftNode()` of a stream this server runs; `None` for no
    /// such stream or no node (a runtime that runs nothing has none).
    fn stream_raft_node(&self, _acc: &str, _stream: &str) -> Option<super::node::NodeHandle> {
        None
    }
    /// Go: `acc.lookupStream(name)` as the health check reads the stream;
    /// `None` when it does not run here. A runtime that keeps no stream
    /// state (configuration, node, monitor) has none to report.
    fn stream_health(&self, _acc: &str, _stream: &str) -> Option<StreamHealthView> {
        None
    }
    /// Go: `mset.stateSnapshotLocked()` of a stream this server runs;
    /// `None` when it does not run here or the runtime keeps no store.
    fn stream_state_snapshot(&self, _acc: &str, _stream: &str) -> Option<Vec<u8>> {
        None
    }
}

/// A runtime that runs nothing: for a server whose meta state is rebuilt
/// offline (no streams or consumers run there, so there is nothing to
/// create, stop or delete, and lookups find nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRuntime;

impl StreamRuntime for NoRuntime {
    fn process_cluster_create_stream(&self, _: &JetStreamCtx, _: &str, _: &StreamAssignment) {}
    fn process_cluster_update_stream(&self, _: &JetStreamCtx, _: &str, _: &StreamAssignment, _: &StreamAssignment) {}
    fn process_cluster_delete_stream(&self, _: &JetStreamCtx, _: &StreamAssignment, _: bool, _: bool) {}
    fn lookup_stream(&self, _: &str, _: &str) -> Option<RunningAsset> {
        None
    }
    fn remove_stream(&self, _: &JetStreamCtx, _: &str, _: &str, _: &StreamAssignment) {}
    fn stop_stream(&self, _: &JetStreamCtx, _: &str, _: &str) {}
    fn process_cluster_create_consumer(&self, _: &JetStreamCtx, _: Option<&ConsumerAssignment>, _: &ConsumerAssignment, _: Option<&RawValue>, _: bool) {}
    fn process_cluster_delete_consumer(&self, _: &JetStreamCtx, _: &ConsumerAssignment, _: bool) {}
    fn lookup_consumer(&self, _: &str, _: &str, _: &str) -> Option<RunningAsset> {
        None
    }
    fn remove_consumer(&self, _: &JetStreamCtx, _: &str, _: &str, _: &str, _: &ConsumerAssignment) {}
    fn get_orphans(&self, _: &StreamMap) -> Orphans {
        Orphans::default()
    }
    fn delete_stream(&self, _: &JetStreamCtx, _: &str, _: &str) -> Result<(), String> {
        Err("no stream runs here".into())
    }
    fn delete_consumer(&self, _: &JetStreamCtx, _: &str, _: &str, _: &str) -> Result<(), String> {
        Err("no consumer runs here".into())
    }
}
