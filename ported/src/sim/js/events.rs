//! The system events that keep `nodeToInfo` current (upstream
//! `events.go` and the route part of `route.go`): statsz heartbeats and
//! pings, updates from remote servers, shutdown events, and the entry a
//! route connection adds. Message shapes follow upstream's JSON tags for the
//! fields these handlers read.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jetstream_cluster::assignments::GoTime;
use crate::jetstream_cluster::server::{NodeInfo, ServerEnv};
use crate::raft::env::{LogLevel, Timestamp};
use crate::sim::cluster::server_hash;

use super::server::{Handler, ServerCore, ServerUpdate, SYSTEM_ACCOUNT};

/// The server version reported (nats-server at the ported commit).
pub const VERSION: &str = "2.14.0-dev";
/// Go: `statsHBInterval`, the steady statsz period.
pub const STATS_HB_INTERVAL: Duration = Duration::from_secs(10);
/// Go: `defaultStatszRateLimit`.
pub const STATSZ_RATE_LIMIT: Duration = Duration::from_secs(1);
/// Go's capability bit `JetStreamEnabled`.
pub const CAP_JETSTREAM: u64 = 1;
/// Go's capability bit `BinaryStreamSnapshot`.
pub const CAP_BINARY_SNAPSHOT: u64 = 2;
/// Go's capability bit `AccountNRG`.
pub const CAP_ACCOUNT_NRG: u64 = 4;

/// `$SYS.SERVER.<id>.STATSZ`.
pub fn server_stats_subj(id: &str) -> String {
    format!("$SYS.SERVER.{id}.STATSZ")
}
/// `$SYS.SERVER.<id>.SHUTDOWN`.
pub fn shutdown_event_subj(id: &str) -> String {
    format!("$SYS.SERVER.{id}.SHUTDOWN")
}
/// Go: `serverStatsPingReqSubj`.
pub const SERVER_STATS_PING_REQ_SUBJ: &str = "$SYS.REQ.SERVER.PING";
/// The `STATSZ` monitoring service subject (`$SYS.REQ.SERVER.PING.STATSZ`).
pub const SERVER_PING_STATSZ_SUBJ: &str = "$SYS.REQ.SERVER.PING.STATSZ";

/// Go: `ServerInfo`, as the internal send loop fills it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub name: String,
    #[serde(default)]
    pub host: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(rename = "ver", default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub jetstream: bool,
    #[serde(default)]
    pub flags: u64,
    #[serde(default)]
    pub seq: u64,
    #[serde(default)]
    pub time: GoTime,
}

impl ServerInfo {
    /// Go: `JetStreamEnabled`.
    pub fn jet_stream_enabled(&self) -> bool {
        self.flags & CAP_JETSTREAM != 0 || self.jetstream
    }
    /// Go: `BinaryStreamSnapshot`.
    pub fn binary_stream_snapshot(&self) -> bool {
        self.flags & CAP_BINARY_SNAPSHOT != 0
    }
    /// Go: `AccountNRG`.
    pub fn account_nrg(&self) -> bool {
        self.flags & CAP_ACCOUNT_NRG != 0
    }
}

/// Go: `JetStreamVarz` inside a statsz.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JetStreamVarz {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
}

/// Go: `ServerStats`, the fields read here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    #[serde(default)]
    pub start: GoTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jetstream: Option<JetStreamVarz>,
}

/// Go: `ServerStatsMsg`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStatsMsg {
    pub server: ServerInfo,
    #[serde(rename = "statsz", default)]
    pub stats: ServerStats,
}

impl ServerCore {
    /// Port of (*Server).initEventTracking (the subscriptions the JetStream
    /// layer depends on), followed by `startStatszTimer`.
    pub fn init_event_tracking(&self) {
        let subs = [
            (server_stats_subj("*"), Handler::RemoteServerUpdate),
            (shutdown_event_subj("*"), Handler::RemoteServerShutdown),
            (SERVER_STATS_PING_REQ_SUBJ.to_string(), Handler::StatszReq),
            (SERVER_PING_STATSZ_SUBJ.to_string(), Handler::StatszReq),
        ];
        for (subject, h) in subs {
            if self.subscribe(&subject, h).is_none() {
                self.log(LogLevel::Error, &format!("Error setting up internal tracking for {subject}"));
                return;
            }
        }
        self.start_statsz_timer();
    }

    /// Port of (*Server).startStatszTimer
    ///
    /// The first statsz goes out after 250ms; the interval then doubles up
    /// to the steady period.
    pub fn start_statsz_timer(&self) {
        self.cstatsz.set(Duration::from_millis(250));
        self.statsz_next.set(Some(self.now().add(self.cstatsz.get())));
    }

    /// When the statsz timer fires next.
    pub fn statsz_deadline(&self) -> Option<Timestamp> {
        self.statsz_next.get()
    }

    /// Port of (*Server).heartbeatStatsz
    pub fn heartbeat_statsz(&self) {
        let c = self.cstatsz.get();
        if c < STATS_HB_INTERVAL {
            self.cstatsz.set((c * 2).min(STATS_HB_INTERVAL));
        }
        self.statsz_next.set(Some(self.now().add(self.cstatsz.get())));
        self.send_statsz(&server_stats_subj(&self.id));
    }

    // Go: `limitStatsz`, only the broadcast subject is rate limited.
    fn limit_statsz(&self, subj: &str) -> bool {
        if subj != server_stats_subj(&self.id) {
            return false;
        }
        let interval = STATSZ_RATE_LIMIT.min(self.cstatsz.get());
        let now = self.now();
        if let Some(last) = self.last_statsz.get() {
            if now.since(last) < interval {
                self.statsz_next.set(Some(last.add(interval)));
                return true;
            }
        }
        self.last_statsz.set(Some(now));
        false
    }

    /// The server-info header the internal send loop stamps on messages
    /// that carry one (Go: `pm.si` filled in `internalSendLoop`).
    pub fn server_info(&self) -> ServerInfo {
        let seq = self.info_seq.get() + 1;
        self.info_seq.set(seq);
        ServerInfo {
            name: self.name.clone(),
            host: "127.0.0.1".into(),
            id: self.id.clone(),
            cluster: self.cluster.clone(),
            domain: self.opts.borrow().js_domain.clone(),
            version: VERSION.into(),
            tags: self.opts.borrow().tags.clone(),
            jetstream: true,
            flags: CAP_JETSTREAM | CAP_BINARY_SNAPSHOT | CAP_ACCOUNT_NRG,
            seq,
            time: GoTime::from_unix_nanos(self.unix_nanos()),
        }
    }

    /// Port of (*Server).sendStatsz
    ///
    /// Sends our statsz to `subj` and, as upstream does because we do not
    /// hear our own, records our JetStream stats in our registry entry.
    /// Only the statistics the JetStream layer reads are filled.
    pub fn send_statsz(&self, subj: &str) {
        if self.limit_statsz(subj) || !self.events.get() {
            return;
        }
        let js_enabled = self.jet_stream().is_some();
        let mut msg = ServerStatsMsg::default();
        msg.stats.start = GoTime::from_unix_nanos(super::server::EPOCH_UNIX_NANOS + self.started.0 as i64);
        if js_enabled {
            let stats = serde_json::json!({
                "memory": 0, "storage": 0, "reserved_memory": 0, "reserved_storage": 0,
                "accounts": self.accounts.borrow().len() - 1, "ha_assets": self.num_raft_nodes(),
                "api": {"level": crate::jetstream_cluster::config::JS_API_LEVEL, "total": 0, "errors": 0}
            });
            let cfg = self.node_info(&self.node).and_then(|ni| ni.cfg);
            let mut ours = self.node_to_info.borrow_mut();
            if let Some(ni) = ours.get_mut(&self.node) {
                ni.stats = Some(stats.clone());
                ni.tags = self.opts.borrow().tags.clone();
            }
            msg.stats.jetstream = Some(JetStreamVarz { config: cfg, stats: Some(stats) });
        }
        msg.server = self.server_info();
        match crate::go_json::to_vec(&msg) {
            Ok(b) => self.publish(SYSTEM_ACCOUNT, subj, "", &[], &b),
            Err(e) => self.log(LogLevel::Warn, &format!("statsz: {e}")),
        }
    }

    /// Port of (*Server).statszReq
    ///
    /// Answers a statsz ping; with no reply subject the answer goes to our
    /// broadcast subject and resets its rate limit. Event filter options
    /// are not modelled: any well-formed options are answered.
    pub fn statsz_req(&self, reply: &str, msg: &[u8]) {
        if !self.events.get() {
            return;
        }
        let mut reply = reply.to_string();
        if reply.is_empty() {
            reply = server_stats_subj(&self.id);
            self.last_statsz.set(None);
        }
        if !msg.is_empty() {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(msg) {
                let resp = serde_json::json!({"server": self.server_info(), "error": {"code": 400, "description": e.to_string()}});
                self.publish(SYSTEM_ACCOUNT, &reply, "", &[], resp.to_string().as_bytes());
                return;
            }
        }
        self.send_statsz(&reply);
    }

    /// Port of (*Server).remoteServerUpdate
    ///
    /// A statsz from another server: track the server, then replace its
    /// registry entry with what it reports (online, its JetStream config
    /// and stats). Account NRG status changes are not acted on.
    pub fn remote_server_update(&self, msg: &[u8]) {
        if msg.is_empty() {
            self.log(LogLevel::Debug, "Received empty server info for remote server update");
            return;
        }
        let ssm: ServerStatsMsg = match serde_json::from_slice(msg) {
            Ok(m) => m,
            Err(_) => {
                self.log(LogLevel::Debug, "Received bad server info for remote server update");
                return;
            }
        };
        let si = ssm.server;
        if self.running.get() && self.events.get() && si.id != self.id {
            self.update_remote_server(&si);
        }
        if !self.same_domain(&si.domain) {
            return;
        }
        let (cfg, stats) = match ssm.stats.jetstream {
            Some(j) => (j.config, j.stats),
            None => (None, None),
        };
        let node = server_hash(&si.name);
        let info = NodeInfo {
            name: si.name.clone(),
            version: si.version.clone(),
            cluster: si.cluster.clone(),
            domain: si.domain.clone(),
            id: si.id.clone(),
            tags: si.tags.clone(),
            cfg,
            stats,
            offline: false,
            js: si.jet_stream_enabled(),
            binary_snapshots: si.binary_stream_snapshot(),
            account_nrg: si.account_nrg(),
        };
        self.node_to_info.borrow_mut().insert(node, info);
    }

    /// Port of (*Server).updateRemoteServer
    ///
    /// Tracks the remote server by id; a new one goes through
    /// `processNewServer`, a known one must have a higher sequence.
    pub fn update_remote_server(&self, si: &ServerInfo) {
        let now = self.now();
        let known = self.sys_servers.borrow().get(&si.id).copied();
        match known {
            None => {
                self.sys_servers.borrow_mut().insert(si.id.clone(), ServerUpdate { seq: si.seq, ltime: now });
                self.process_new_server(si);
            }
            Some(su) => {
                if si.seq <= su.seq {
                    self.log(LogLevel::Error, &format!("Received out of order remote server update from: {:?}", si.id));
                    return;
                }
                self.sys_servers.borrow_mut().insert(si.id.clone(), ServerUpdate { seq: si.seq, ltime: now });
            }
        }
    }

    /// Port of (*Server).processNewServer
    ///
    /// Adds a newly discovered server to the registry unless it is there.
    /// (Upstream first nudges gateways about leaf nodes; not modelled.)
    pub fn process_new_server(&self, si: &ServerInfo) {
        if !self.same_domain(&si.domain) {
            return;
        }
        let node = server_hash(&si.name);
        self.node_to_info.borrow_mut().entry(node).or_insert_with(|| NodeInfo {
            name: si.name.clone(),
            version: si.version.clone(),
            cluster: si.cluster.clone(),
            domain: si.domain.clone(),
            id: si.id.clone(),
            tags: si.tags.clone(),
            cfg: None,
            stats: None,
            offline: false,
            js: si.jet_stream_enabled(),
            binary_snapshots: si.binary_stream_snapshot(),
            account_nrg: si.account_nrg(),
        });
    }

    /// Port of (*Server).sameDomain
    pub fn same_domain(&self, domain: &str) -> bool {
        let ours = self.opts.borrow().js_domain.clone();
        domain.is_empty() || ours.is_empty() || domain == ours
    }

    /// Port of (*Server).remoteServerShutdown
    ///
    /// Marks the server of a shutdown event offline and forgets it.
    pub fn remote_server_shutdown(&self, subject: &str, msg: &[u8]) {
        if !self.events.get() {
            return;
        }
        let toks: Vec<&str> = subject.split('.').collect();
        if toks.len() < 4 {
            self.log(LogLevel::Debug, &format!("Received remote server shutdown on bad subject {subject:?}"));
            return;
        }
        if msg.is_empty() {
            self.log(LogLevel::Error, &format!("Remote server sent invalid (empty) shutdown message to {subject:?}"));
            return;
        }
        let si: ServerInfo = match serde_json::from_slice(msg) {
            Ok(si) => si,
            Err(_) => {
                self.log(LogLevel::Debug, "Received bad server info for remote server shutdown");
                return;
            }
        };
        let node = server_hash(&si.name);
        if let Some(ni) = self.node_to_info.borrow_mut().get_mut(&node) {
            ni.offline = true;
        }
        let sid = toks[2];
        if self.sys_servers.borrow().contains_key(sid) {
            self.process_remote_server_shutdown(sid);
        }
    }

    /// Port of (*Server).processRemoteServerShutdown
    ///
    /// Marks the registry entry with this server id offline and stops
    /// tracking it (account remote-server counts are not modelled).
    pub fn process_remote_server_shutdown(&self, sid: &str) {
        if let Some(ni) = self.node_to_info.borrow_mut().values_mut().find(|ni| ni.id == sid) {
            ni.offline = true;
        }
        self.sys_servers.borrow_mut().remove(sid);
    }

    /// Port of (*Server).sendShutdownEvent
    ///
    /// The last system message: our shutdown event. Nothing more is sent
    /// from the system client after it.
    pub fn send_shutdown_event(&self) {
        if !self.events.get() {
            return;
        }
        let si = self.server_info();
        if let Ok(b) = crate::go_json::to_vec(&si) {
            self.publish(SYSTEM_ACCOUNT, &shutdown_event_subj(&self.id), "", &[], &b);
        }
        self.events.set(false);
        self.statsz_next.set(None);
    }

    /// The registry entry a route connection adds for the remote server
    /// (the `nodeToInfo.Store` of upstream's `addRoute`): online, no stats
    /// yet, our version and cluster.
    pub fn route_connected(&self, remote: &ServerCore) {
        if !self.same_domain(&remote.opts.borrow().js_domain) {
            return;
        }
        let info = NodeInfo {
            name: remote.name.clone(),
            version: VERSION.into(),
            cluster: self.cluster.clone(),
            domain: remote.opts.borrow().js_domain.clone(),
            id: remote.id.clone(),
            tags: Vec::new(),
            cfg: None,
            stats: None,
            offline: false,
            js: true,
            binary_snapshots: true,
            account_nrg: false,
        };
        self.node_to_info.borrow_mut().insert(remote.node.clone(), info);
    }
}


#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
