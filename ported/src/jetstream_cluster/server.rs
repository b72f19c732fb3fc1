//! The server as the JetStream cluster layer sees it: an injected
//! [`ServerEnv`] (identity, options, clock, randomness, the `nodeToInfo`
//! registry, internal messaging, the raft-node registry, deferred tasks)
//! that the host implements, and the server-level functions of
//! `jetstream_cluster.go` and `server.go` that read only through it.
//!
//! Like [`crate::raft::env::RaftEnv`], nothing here touches a real clock,
//! network or disk: the simulator (`crate::sim::js`) is the only host.

use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;

use crate::peer_state::PeerState;
use crate::raft::env::{LogLevel, Sid, Timestamp};
use crate::raft::{RaftError, RaftTimings};

use super::js::JetStreamCtx;
use super::node::NodeHandle;

/// What a server knows about a peer server (Go: `nodeInfo`), kept per
/// node id (the 8-character hash of the server name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub version: String,
    pub cluster: String,
    pub domain: String,
    /// The server's id (Go: the server's public key; here its name-derived id).
    pub id: String,
    pub tags: Vec<String>,
    /// JetStream config from its last statsz; `None` until one arrived.
    pub cfg: Option<Value>,
    /// JetStream stats from its last statsz; `None` until one arrived.
    pub stats: Option<Value>,
    pub offline: bool,
    pub js: bool,
    pub binary_snapshots: bool,
    pub account_nrg: bool,
}

/// The server options the meta layer reads (Go: parts of `Options` and of
/// `JetStreamConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerOpts {
    /// JetStream storage root (Go: `JetStreamConfig.StoreDir`).
    pub store_dir: String,
    /// Sync every write of the meta WAL (Go: `SyncAlways`).
    pub sync_always: bool,
    /// Meta compaction threshold in entries, 0 for none (Go: `JetStreamMetaCompact`).
    pub meta_compact: u64,
    /// Meta compaction threshold in bytes, 0 for none (Go: `JetStreamMetaCompactSize`).
    pub meta_compact_size: u64,
    /// Snapshot the meta layer synchronously (Go: `JetStreamMetaCompactSync`).
    pub meta_compact_sync: bool,
    /// JetStream domain (Go: `JetStreamDomain`).
    pub js_domain: String,
    /// Server tags.
    pub tags: Vec<String>,
    /// Tag prefix whose values must differ among a stream's peers, empty
    /// for none (Go: `JetStreamUniqueTag`).
    pub js_unique_tag: String,
    /// Peers with more HA assets are not chosen for new streams, 0 for no
    /// limit (Go: `JetStreamLimits.MaxHAAssets`).
    pub max_ha_assets: i64,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            store_dir: String::new(),
            sync_always: false,
            meta_compact: 0,
            meta_compact_size: 0,
            meta_compact_sync: false,
            js_domain: String::new(),
            tags: Vec::new(),
            js_unique_tag: String::new(),
            max_ha_assets: 0,
        }
    }
}

/// Callbacks a server-owned subscription can run (Go: the handler passed to
/// `systemSubscribe`). The host calls back into the JetStream layer with the
/// matching function when a message arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysHandler {
    /// `(*Server).jsLeaderStepDownRequest`.
    JsLeaderStepDown,
}

/// Work the meta layer starts with `time.AfterFunc` or `go f()`; the host
/// runs it at the given time on its own turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `(*Server).DisableJetStream`, started by `processRemovePeer` when we
    /// were removed.
    DisableJetStream,
}

/// Why a raft node could not be started.
pub type StartError = RaftError;

/// The server, as injected into the JetStream layer.
pub trait ServerEnv {
    /// Server name.
    fn name(&self) -> String;
    /// Server id (Go: `ID()`).
    fn id(&self) -> String;
    /// Our node id, the hash of our name (Go: `Node()`).
    fn node(&self) -> String;
    /// Cluster name.
    fn cluster_name(&self) -> String;
    /// Whether the cluster name was chosen dynamically (Go: `isClusterNameDynamic`).
    fn is_cluster_name_dynamic(&self) -> bool;
    /// Number of configured routes (Go: `configuredRoutes`).
    fn configured_routes(&self) -> usize;
    /// Whether a solicited leaf node shares the system account (Go:
    /// `canExtendOtherDomain`).
    fn can_extend_other_domain(&self) -> bool;
    /// Whether the server is running (Go: `isRunning`).
    fn is_running(&self) -> bool;
    /// Whether the server is shutting down (Go: `s.quitCh` closed, `isShuttingDown`).
    fn is_shutting_down(&self) -> bool;
    /// Whether the server's quit channel is closed (Go: `s.quitCh`), which
    /// happens at the end of a clean shutdown.
    fn quit_closed(&self) -> bool;
    /// Whether system events are enabled (Go: `eventsEnabled`).
    fn events_enabled(&self) -> bool;
    /// The meta-leader flag (Go: `s.isMetaLeader`).
    fn is_meta_leader(&self) -> bool;
    /// Sets the meta-leader flag.
    fn set_meta_leader(&self, leader: bool);
    /// The clustered flag (Go: `s.jsClustered`).
    fn js_clustered(&self) -> bool;
    /// Sets the clustered flag.
    fn set_js_clustered(&self, clustered: bool);
    /// Current options (reloadable upstream, so read each time).
    fn opts(&self) -> ServerOpts;
    /// Raft timings nodes of this server run with.
    fn raft_timings(&self) -> RaftTimings;

    /// Injected clock.
    fn now(&self) -> Timestamp;
    /// Injected clock as Unix nanoseconds (Go: `time.Now().UnixNano()`).
    fn unix_nanos(&self) -> i64;
    /// Injected randomness.
    fn rand_u64(&self) -> u64;
    /// Log sink.
    fn log(&self, level: LogLevel, msg: &str);

    /// One entry of the `nodeToInfo` registry.
    fn node_info(&self, node: &str) -> Option<NodeInfo>;
    /// Every entry of the registry, ordered by node id. Go's `sync.Map`
    /// ranges in an unspecified order; the port's order is deterministic.
    fn node_infos(&self) -> Vec<(String, NodeInfo)>;

    /// The system account's name, if there is one.
    fn system_account(&self) -> Option<String>;
    /// Whether an account exists here or can be fetched (Go:
    /// `lookupOrFetchAccount`); the error text on failure.
    fn lookup_or_fetch_account(&self, account: &str, is_member: bool) -> Result<(), String>;
    /// Whether an account is registered here (Go: `LookupAccount` succeeds).
    fn lookup_account(&self, account: &str) -> bool;
    /// Queues a system-account message (Go: `sendInternalMsg(Locked)`).
    fn send_internal_msg(&self, subject: &str, reply: &str, hdr: &[u8], msg: &[u8]);
    /// Queues a message in `account` (Go: `sendInternalAccountMsgWithReply`).
    fn send_internal_account_msg(&self, account: &str, subject: &str, reply: &str, hdr: &[u8], msg: &[u8]);
    /// Whether anyone in `account` listens on `subject` (Go: `Account.sl.HasInterest`).
    fn has_interest(&self, account: &str, subject: &str) -> bool;
    /// A server-owned subscription in the system account (Go: `systemSubscribe`).
    fn sys_subscribe(&self, subject: &str, handler: SysHandler) -> Option<Sid>;
    /// Removes a server-owned subscription (Go: `sysUnsubscribe`).
    fn sys_unsubscribe(&self, sid: Sid);
    /// A subscription in `account` whose messages go to the stream layer
    /// (upstream: a stream's internal client subscribing to its subjects);
    /// `None` where there is no bus.
    fn account_subscribe(&self, _account: &str, _subject: &str) -> Option<Sid> {
        None
    }
    /// Removes a subscription made by [`ServerEnv::account_subscribe`].
    fn account_unsubscribe(&self, _sid: Sid) {}

    /// Writes the initial peer state of a new group (Go: `bootstrapRaftNode`).
    fn bootstrap_raft_node(&self, store: &str, known_peers: &[String], all_peers_known: bool) -> Result<(), RaftError>;
    /// Reads a group's `peers.idx` (Go: `readPeerState`).
    fn read_peer_state(&self, store: &str) -> Result<PeerState, RaftError>;
    /// Writes a group's `peers.idx` (Go: `writePeerState`).
    fn write_peer_state(&self, store: &str, ps: &PeerState) -> Result<(), RaftError>;
    /// Starts a raft node on a file WAL in `store` and registers it (Go:
    /// `newFileStoreWithCreated` + `startRaftNode`).
    fn start_raft_node(&self, account: &str, group: &str, store: &str, recovering: bool, observer: bool) -> Result<NodeHandle, StartError>;
    /// Go: `lookupRaftNode`.
    fn lookup_raft_node(&self, group: &str) -> Option<NodeHandle>;
    /// Go: `numRaftNodes`.
    fn num_raft_nodes(&self) -> usize;

    /// Runs `task` after `after` of simulated time (Go: `time.AfterFunc`, `go f()`).
    fn schedule(&self, after: Duration, task: Task);
    /// The JetStream context, if enabled (Go: `getJetStream`).
    fn jet_stream(&self) -> Option<Rc<JetStreamCtx>>;
    /// The JetStream health errors this host can report (the JetStream
    /// part of `healthz`: meta group present and current). Empty when healthy.
    fn healthz_error(&self) -> String;
    /// Removes a directory tree on the server's disk; missing is fine
    /// (Go: `os.RemoveAll`).
    fn remove_all(&self, path: &str);
    /// Removes a directory if it is empty (Go: `os.Remove`, which fails on
    /// a non-empty one; the error is ignored where upstream ignores it).
    fn remove_dir(&self, path: &str);
}

impl dyn ServerEnv + '_ {
    /// A 22-character unique id from the server's random source (Go:
    /// `nuid.Next()`, whose prefix and sequence come from crypto/rand).
    pub fn nuid(&self) -> String {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(22);
        let mut r = 0u64;
        for i in 0..22 {
            if i % 10 == 0 {
                r = self.rand_u64();
            }
            out.push(DIGITS[(r % 62) as usize] as char);
            r /= 62;
        }
        out
    }

    /// Port of (*Server).publishAdvisory
    ///
    /// Sends `adv` as JSON in `account` (the system account when `None`)
    /// if anyone there listens on `subject`; returns whether it was sent.
    /// Gateway interest is not modelled.
    pub fn publish_advisory(&self, account: Option<&str>, subject: &str, adv: &impl serde::Serialize) -> bool {
        let acc = match account {
            Some(a) => a.to_string(),
            None => match self.system_account() {
                Some(a) => a,
                None => return false,
            },
        };
        if !self.has_interest(&acc, subject) {
            return false;
        }
        match crate::go_json::to_vec(adv) {
            Ok(ej) => {
                self.send_internal_account_msg(&acc, subject, "", &[], &ej);
                true
            }
            Err(e) => {
                self.log(LogLevel::Warn, &format!("Advisory could not be serialized for account {acc:?}: {e}"));
                false
            }
        }
    }

    /// Port of (*Server).ActivePeers
    ///
    /// Node ids of every registry entry not marked offline (ordered).
    pub fn active_peers(&self) -> Vec<String> {
        self.node_infos().into_iter().filter(|(_, ni)| !ni.offline).map(|(k, _)| k).collect()
    }

    /// Port of (*Server).trackedJetStreamServers
    ///
    /// (servers with JetStream, all servers) in the registry; (-1, -1) when
    /// not running or events are off.
    pub fn tracked_jet_stream_servers(&self) -> (i64, i64) {
        if !self.is_running() || !self.events_enabled() {
            return (-1, -1);
        }
        let infos = self.node_infos();
        let js = infos.iter().filter(|(_, ni)| ni.js).count() as i64;
        (js, infos.len() as i64)
    }

    /// Port of (*Server).serverNameForNode
    pub fn server_name_for_node(&self, node: &str) -> String {
        self.node_info(node).map(|ni| ni.name).unwrap_or_default()
    }

    /// Port of (*Server).clusterNameForNode
    pub fn cluster_name_for_node(&self, node: &str) -> String {
        self.node_info(node).map(|ni| ni.cluster).unwrap_or_default()
    }

    /// Port of (*Server).JetStreamIsClustered
    pub fn jet_stream_is_clustered(&self) -> bool {
        self.js_clustered()
    }

    /// Port of (*Server).JetStreamIsLeader
    pub fn jet_stream_is_leader(&self) -> bool {
        self.is_meta_leader()
    }

    /// Port of (*Server).getJetStreamCluster
    ///
    /// The JetStream context, unless shutting down. Upstream also returns
    /// its cluster pointer; callers here read it from the context.
    pub fn get_jet_stream_cluster(&self) -> Option<Rc<JetStreamCtx>> {
        if self.is_shutting_down() {
            return None;
        }
        let js = self.jet_stream()?;
        let clustered = js.st.borrow().cluster.is_some();
        clustered.then_some(js)
    }

    /// Port of (*Server).JetStreamIsCurrent
    ///
    /// Not clustered counts as current; otherwise the meta node decides.
    pub fn jet_stream_is_current(&self) -> bool {
        let Some(js) = self.jet_stream() else { return false };
        let meta = {
            let st = js.st.borrow();
            match st.cluster.as_ref() {
                None => return true,
                Some(cc) => cc.meta.clone(),
            }
        };
        meta.is_some_and(|m| m.current())
    }

    /// Port of (*Server).JetStreamSnapshotMeta
    ///
    /// The meta leader installs a snapshot of the current assignments.
    pub fn jet_stream_snapshot_meta(&self) -> Result<(), super::errors::ApiError> {
        let js = self.jet_stream().ok_or_else(super::errors::ApiError::not_enabled)?;
        let (is_leader, meta) = {
            let st = js.st.borrow();
            let cc = st.cluster.as_ref();
            (super::cluster::JetStreamCluster::is_leader(cc), cc.and_then(|cc| cc.meta.clone()))
        };
        if !is_leader {
            return Err(super::errors::ApiError::from_raft(&RaftError::NotLeader));
        }
        let now = || self.unix_nanos();
        let snap = js.st.borrow_mut().meta_snapshot(&now).map_err(|e| super::errors::ApiError::general(&e.to_string()))?;
        match meta {
            Some(m) => m.install_snapshot(&snap.data, false).map_err(|e| super::errors::ApiError::from_raft(&e)),
            None => Err(super::errors::ApiError::from_raft(&RaftError::NotLeader)),
        }
    }

    /// Port of (*Server).JetStreamIsStreamLeader
    pub fn jet_stream_is_stream_leader(&self, account: &str, stream: &str) -> bool {
        let Some(js) = self.get_jet_stream_cluster() else { return false };
        let st = js.st.borrow();
        super::cluster::JetStreamCluster::is_stream_leader(st.cluster.as_ref(), account, stream)
    }

    /// Port of (*Server).JetStreamIsConsumerLeader
    pub fn jet_stream_is_consumer_leader(&self, account: &str, stream: &str, consumer: &str) -> bool {
        let Some(js) = self.get_jet_stream_cluster() else { return false };
        let st = js.st.borrow();
        super::cluster::JetStreamCluster::is_consumer_leader(st.cluster.as_ref(), account, stream, consumer)
    }

    /// Port of (*Server).JetStreamIsStreamAssigned
    ///
    /// Whether our meta peer is in the stream's group; false for an
    /// unknown account.
    pub fn jet_stream_is_stream_assigned(&self, account: &str, stream: &str) -> bool {
        let Some(js) = self.get_jet_stream_cluster() else { return false };
        if !self.lookup_account(account) {
            return false;
        }
        let st = js.st.borrow();
        super::cluster::JetStreamCluster::is_stream_assigned(st.cluster.as_ref(), account, stream)
    }

    /// Port of (*Server).JetStreamClusterPeers
    ///
    /// Names of the meta group's peers that are online, run JetStream and
    /// have sent statsz; empty unless we are the meta leader.
    pub fn jet_stream_cluster_peers(&self) -> Vec<String> {
        let Some(js) = self.jet_stream() else { return Vec::new() };
        let st = js.st.borrow();
        let cc = st.cluster.as_ref();
        if !super::cluster::JetStreamCluster::is_leader(cc) {
            return Vec::new();
        }
        let Some(meta) = cc.and_then(|cc| cc.meta.as_ref()) else { return Vec::new() };
        let mut nodes = Vec::new();
        for p in meta.peers() {
            let Some(ni) = self.node_info(&p.id) else { continue };
            if ni.offline || !ni.js || ni.stats.is_none() {
                continue;
            }
            nodes.push(ni.name);
        }
        nodes
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
