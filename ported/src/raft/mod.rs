//! Port of nats-server's raft (NRG, `server/raft.go` at 8188ea93a) as an
//! event-driven state machine. The Go run loops (`runAsFollower`,
//! `runAsCandidate`, `runAsLeader`) become [`Raft::deliver`] for incoming
//! messages and [`Raft::tick`] for timers and queued work; time, randomness,
//! the transport and the disk come from an injected [`env::RaftEnv`].
//!
//! Files mirror the concerns of raft.go: `wire` (encodings), `wal` and
//! `file_wal` (the log), `persist` (term/vote and peer-state files), `node`
//! (state and construction), `election`, `append` (follower side), `leader`
//! (proposals, responses, commit), `catchup`, `snapshot`, `membership` and
//! `run` (the event loop).

pub mod append;
pub mod catchup;
pub mod config;
pub mod election;
pub mod env;
#[cfg(test)]
mod exercise;
pub mod file_wal;
#[cfg(any(test, feature = "testing"))]
pub mod internals;
pub mod leader;
pub mod membership;
pub mod node;
pub mod peer_id;
pub mod persist;
pub mod run;
pub mod snapshot;
pub mod wal;
pub mod wire;

#[cfg(any(test, feature = "testing"))]
pub use config::PlantedBugs;
pub use config::{RaftConfig, RaftTimings};
pub use env::{ClientId, Fs, FsError, LogLevel, NodeStatus, RaftEnv, Sid, Timestamp, Transport};
pub use file_wal::FileWal;
pub use node::{CommittedEntry, ForwardProgress, HealthCheck, Peer, Raft};
pub use wal::{MemWal, StorageType, Wal, WalError, WalState};
pub use wire::{
    decode_append_entry, decode_append_entry_response, decode_vote_request, decode_vote_response, AppendEntry,
    AppendEntryResponse, Entry, EntryType, VoteRequest, VoteResponse, WireError,
};

/// Length of a node id.
pub const ID_LEN: usize = 8;
/// No leader known.
pub const NO_LEADER: &str = "";
/// Not voted in this term.
pub const NO_VOTE: &str = "";

/// Subject wildcard covering all raft traffic.
pub const RAFT_ALL_SUBJ: &str = "$NRG.>";

/// `$NRG.V.<group>`: vote requests.
pub fn raft_vote_subj(group: &str) -> String {
    format!("$NRG.V.{group}")
}
/// `$NRG.AE.<group>`: append entries.
pub fn raft_append_subj(group: &str) -> String {
    format!("$NRG.AE.{group}")
}
/// `$NRG.P.<group>`: forwarded proposals.
pub fn raft_prop_subj(group: &str) -> String {
    format!("$NRG.P.{group}")
}
/// `$NRG.RP.<group>`: forwarded remove-peer proposals.
pub fn raft_remove_peer_subj(group: &str) -> String {
    format!("$NRG.RP.{group}")
}
/// `$NRG.R.<suffix>`: reply inboxes.
pub fn raft_reply(suffix: &str) -> String {
    format!("$NRG.R.{suffix}")
}
/// `$NRG.CR.<suffix>`: catch-up inboxes.
pub fn raft_catchup_reply(suffix: &str) -> String {
    format!("$NRG.CR.{suffix}")
}

/// Role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RaftState {
    /// Following a leader (or waiting for one).
    Follower,
    /// Leading the group.
    Leader,
    /// Campaigning.
    Candidate,
    /// Stopped.
    Closed,
}

/// Port of RaftState.String
///
/// Go also has an `UNKNOWN` spelling for values outside the four states;
/// the Rust enum cannot hold such a value.
impl std::fmt::Display for RaftState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RaftState::Follower => "FOLLOWER",
            RaftState::Candidate => "CANDIDATE",
            RaftState::Leader => "LEADER",
            RaftState::Closed => "CLOSED",
        })
    }
}

/// Raft errors (Go: the `err*` values of raft.go).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaftError {
    /// Not the leader.
    #[error("raft: not leader")]
    NotLeader,
    /// Already the leader.
    #[error("raft: already leader")]
    AlreadyLeader,
    /// Peer state could not be decoded.
    #[error("raft: corrupt peer state")]
    CorruptPeers,
    /// An entry could not be loaded.
    #[error("raft: could not load entry from WAL")]
    EntryLoadFailed,
    /// An entry landed at the wrong index.
    #[error("raft: could not store entry to WAL")]
    EntryStoreFailed,
    /// The node is closed.
    #[error("raft: node is closed")]
    NodeClosed,
    /// This node was removed from the group.
    #[error("raft: peer was removed")]
    NodeRemoved,
    /// No snapshot.
    #[error("raft: no snapshot available")]
    NoSnapAvailable,
    /// A snapshot checkpoint is already open.
    #[error("raft: snapshot is already in progress")]
    SnapInProgress,
    /// The checkpoint was aborted.
    #[error("raft: snapshot was aborted")]
    SnapAborted,
    /// Catch-ups are running.
    #[error("raft: snapshot can not be installed while catchups running")]
    CatchupsRunning,
    /// Snapshot failed its checks.
    #[error("raft: snapshot corrupt: {0}")]
    SnapshotCorrupt(String),
    /// Another snapshot was installed since the checkpoint was taken.
    #[error("snapshot index mismatch")]
    SnapshotIndexMismatch,
    /// More than one preferred leader.
    #[error("raft: stepdown requires at most one preferred new leader")]
    TooManyPrefs,
    /// No peer state file.
    #[error("raft: no peerstate")]
    NoPeerState,
    /// Boot cluster size can only change before any leader.
    #[error("raft: can not adjust boot peer size on established group")]
    AdjustBootCluster,
    /// A membership change is in flight.
    #[error("raft: membership change in progress")]
    MembershipChange,
    /// Would remove the last peer.
    #[error("raft: cannot remove the last peer")]
    RemoveLastNode,
    /// No internal client.
    #[error("raft: no internal client")]
    NoInternalClient,
    /// A bootstrap peer id of the wrong length.
    #[error("raft: illegal peer: {0:?}")]
    IllegalPeer(String),
    /// WAL failure.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// File system failure.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Encoding failure.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// [`Raft::tick`] still had work after its step budget: the run loop
    /// is spinning.
    #[error("raft: run loop did not settle within {steps} steps")]
    RunLoopStuck {
        /// The budget that ran out.
        steps: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::RaftState;

    #[test]
    fn raft_state_display_matches_go_spelling() {
        assert_eq!(RaftState::Follower.to_string(), "FOLLOWER");
        assert_eq!(RaftState::Leader.to_string(), "LEADER");
        assert_eq!(RaftState::Candidate.to_string(), "CANDIDATE");
        assert_eq!(RaftState::Closed.to_string(), "CLOSED");
        // Used in log lines such as "Stepping down from {state}".
        assert_eq!(format!("from {}", RaftState::Candidate), "from CANDIDATE");
    }
}
