//! Tunables and per-node configuration: the timing values Go keeps in
//! package variables (tests change them), the `RaftConfig` handed to a new
//! node, and the planted-bug switches, which exist only in test builds
//! (`cfg(test)` or the crate's `testing` feature).

use std::time::Duration;

use super::wal::Wal;

/// Timing knobs (Go: package variables such as `minElectionTimeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftTimings {
    /// Lower bound of the randomised election timeout.
    pub min_election_timeout: Duration,
    /// Upper bound (exclusive) of the randomised election timeout.
    pub max_election_timeout: Duration,
    /// Lower bound of the campaign timeout.
    pub min_campaign_timeout: Duration,
    /// Upper bound (exclusive) of the campaign timeout.
    pub max_campaign_timeout: Duration,
    /// Leader heartbeat interval.
    pub hb_interval: Duration,
    /// Without contact from a quorum for this long, a leader steps down.
    pub lost_quorum_interval: Duration,
    /// How often the leader checks for lost quorum.
    pub lost_quorum_check: Duration,
    /// Election timer used while an observer (effectively "never").
    pub observer_mode_interval: Duration,
    /// After this long a removed peer may rejoin.
    pub peer_remove_timeout: Duration,
}

impl Default for RaftTimings {
    fn default() -> Self {
        let min_campaign = Duration::from_millis(100);
        let hb = Duration::from_secs(1);
        RaftTimings {
            min_election_timeout: Duration::from_secs(4),
            max_election_timeout: Duration::from_secs(9),
            min_campaign_timeout: min_campaign,
            max_campaign_timeout: 8 * min_campaign,
            hb_interval: hb,
            lost_quorum_interval: hb * 10,
            lost_quorum_check: hb * 10,
            observer_mode_interval: Duration::from_secs(48 * 3600),
            peer_remove_timeout: Duration::from_secs(5 * 60),
        }
    }
}

impl RaftTimings {
    /// The faster values nats-server's test package installs in its
    /// `init()` (jetstream_helpers_test.go), which every Go raft test runs
    /// with unless it overrides them.
    pub fn go_test_defaults() -> Self {
        let hb = Duration::from_millis(50);
        RaftTimings {
            hb_interval: hb,
            min_election_timeout: Duration::from_millis(1500),
            max_election_timeout: Duration::from_millis(3500),
            lost_quorum_interval: Duration::from_secs(2),
            lost_quorum_check: 4 * hb,
            ..RaftTimings::default()
        }
    }
}

/// Deliberately wrong behaviours that the simulation must catch. Only in
/// test builds: the normal build has neither this type nor the code paths
/// it switches on.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlantedBugs {
    /// Clear our vote when stepping down (lets a node vote twice in a term).
    pub clear_vote_on_stepdown: bool,
    /// Count acknowledgements from earlier terms towards commit.
    pub count_previous_term_acks: bool,
    /// Send the success response before the entry is written to the WAL.
    pub ack_before_wal_write: bool,
    /// Write the term/vote and peer-state files without syncing them, as
    /// raft.go did before "NRG: Always write term/vote and peer state
    /// synchronously" (53c85c2cd): a power loss can forget a vote.
    pub lazy_term_vote_write: bool,
    /// Process new append entries from a leader of a lower term instead of
    /// rejecting them, as before "NRG: Ignore AEs from older terms"
    /// (be84a5640) and "NRG: Reject lower term as candidate" (296285ba1).
    pub accept_lower_term_entries: bool,
    /// Accept a membership change while another is in flight, as before
    /// "NRG: Avoid concurrent membership changes" (434b02bc9) and "NRG:
    /// Track uncommitted membership entry index in membChangeIndex"
    /// (f8f86a2bf).
    pub concurrent_membership_changes: bool,
}

/// Configuration of one raft node (Go: `RaftConfig`).
pub struct RaftConfig {
    /// Group name.
    pub name: String,
    /// Store directory for `tav.idx`, `peers.idx` and snapshots.
    pub store: String,
    /// The WAL.
    pub log: Box<dyn Wal>,
    /// Track JetStream resource limits (Go: `Track`): while the server's
    /// limits are exceeded the node drops new entries and does not campaign.
    pub track: bool,
    /// Start as an observer.
    pub observer: bool,
    /// Set when the group is recovering after a restart.
    pub recovering: bool,
    /// Set when the peer set is being scaled up.
    pub scale_up: bool,
    /// Planted bugs (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub planted_bugs: PlantedBugs,
}

impl RaftConfig {
    /// A config with the given name, store directory and WAL.
    pub fn new(name: &str, store: &str, log: Box<dyn Wal>) -> Self {
        RaftConfig {
            name: name.to_string(),
            store: store.to_string(),
            log,
            track: false,
            observer: false,
            recovering: false,
            scale_up: false,
            #[cfg(any(test, feature = "testing"))]
            planted_bugs: PlantedBugs::default(),
        }
    }
}
