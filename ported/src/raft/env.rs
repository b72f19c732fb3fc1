//! What a raft node needs from the outside world, injected so that a node
//! never reads the wall clock, never uses unseeded randomness, and never
//! touches a real network or disk by itself: time, random numbers, the
//! message transport (a NATS-like subject bus) and a small file system.

use std::time::Duration;

use super::wal::StorageType;

/// A point on the injected clock, in nanoseconds since the clock's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// `self + d`, saturating.
    pub fn add(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_nanos() as u64))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// Time elapsed since an optional instant; a never-set instant is treated as
/// infinitely long ago, like Go's zero `time.Time`.
pub fn since(now: Timestamp, t: Option<Timestamp>) -> Duration {
    match t {
        Some(t) => now.since(t),
        None => Duration::MAX,
    }
}

/// Identifies a subscription on the transport.
pub type Sid = u64;
/// Identifies a client (connection) on the transport.
pub type ClientId = u64;

/// Transport errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The client is unknown or closed.
    #[error("transport: no such client")]
    NoClient,
}

/// A NATS-like subject bus as seen by one server.
pub trait Transport {
    /// Registers an internal client (Go: `createInternalSystemClient`).
    fn create_client(&mut self) -> ClientId;
    /// Closes a client and drops all of its subscriptions.
    fn close_client(&mut self, client: ClientId);
    /// Subscribes `client` to `subject` (wildcards `*` and `>` allowed).
    fn subscribe(&mut self, client: ClientId, subject: &str) -> Result<Sid, TransportError>;
    /// Removes one subscription.
    fn unsubscribe(&mut self, sid: Sid);
    /// Publishes asynchronously; delivery happens later, never inside this call.
    fn publish(&mut self, subject: &str, reply: &str, data: &[u8]);
}

/// File system errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// No such file or directory.
    #[error("fs: {0}: not found")]
    NotFound(String),
    /// Any other failure (injected faults, full disk, ...).
    #[error("fs: {0}")]
    Io(String),
}

/// The file operations raft and its file-backed WAL use. Paths are plain
/// `/`-separated strings.
pub trait Fs {
    /// Whole-file read.
    fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError>;
    /// Up to `len` bytes at `offset` (fewer at the end of the file).
    fn read_at(&mut self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, FsError> {
        let data = self.read(path)?;
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(len).min(data.len());
        Ok(data[start..end].to_vec())
    }
    /// Atomic replace plus sync (Go: `writeFileWithSync`).
    fn write_sync(&mut self, path: &str, data: &[u8]) -> Result<(), FsError>;
    /// Replace without sync (Go's `os.WriteFile`, which raft.go used for
    /// the term/vote file before 2.11). Only a planted bug writes this way.
    #[cfg(any(test, feature = "testing"))]
    fn write_unsynced(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        self.write_sync(path, data)
    }
    /// Appends bytes; durable only after [`Fs::sync`].
    fn append(&mut self, path: &str, data: &[u8]) -> Result<(), FsError>;
    /// Makes everything written to `path` durable.
    fn sync(&mut self, path: &str) -> Result<(), FsError>;
    /// Removes one file.
    fn remove(&mut self, path: &str) -> Result<(), FsError>;
    /// Removes a directory tree (missing is fine).
    fn remove_all(&mut self, path: &str) -> Result<(), FsError>;
    /// Names of the entries directly inside `dir`.
    fn read_dir(&mut self, dir: &str) -> Result<Vec<String>, FsError>;
    /// Creates a directory and its parents.
    fn create_dir_all(&mut self, dir: &str) -> Result<(), FsError>;
    /// Whether a file or directory exists.
    fn exists(&mut self, path: &str) -> bool;
}

/// Everything a node receives from its host.
pub trait RaftEnv {
    /// Current time on the injected clock.
    fn now(&self) -> Timestamp;
    /// Next value of the injected random source.
    fn rand_u64(&mut self) -> u64;
    /// The subject bus.
    fn transport(&mut self) -> &mut dyn Transport;
    /// The file system holding the node's store directory.
    fn fs(&mut self) -> &mut dyn Fs;
    /// Log sink for warnings and debug lines; ignored by default.
    fn log(&mut self, _level: LogLevel, _msg: &str) {}
    /// Whether the hosting server's JetStream is over its resource limits
    /// for this storage kind (Go: `js.limitsExceeded`). A host without
    /// JetStream never is, which is the default.
    fn jetstream_limits_exceeded(&mut self, _storage: StorageType) -> bool {
        false
    }
    /// The server registry's view of node `id` (Go: `s.nodeToInfo`), which
    /// `StepDown` consults before handing leadership over. A host without
    /// a registry treats every node as known and online, the default.
    fn node_status(&mut self, _id: &str) -> NodeStatus {
        NodeStatus::Online
    }
}

/// What the server's registry of nodes knows about one (Go: an entry of
/// `nodeToInfo` and its `offline` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// Not in the registry.
    Unknown,
    /// Known and reachable as far as the server can tell.
    Online,
    /// Known but marked offline.
    Offline,
}

/// Log levels handed to [`RaftEnv::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Debug detail.
    Debug,
    /// Something unexpected but handled.
    Warn,
    /// Something went wrong.
    Error,
}

/// Joins path segments with `/`.
pub fn join(a: &str, b: &str) -> String {
    if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}
