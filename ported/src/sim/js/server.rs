//! One simulated NATS server as the JetStream layer sees it: identity and
//! options, accounts (`$SYS`, `$G` and any added), the `nodeToInfo`
//! registry, the raft-node registry, server-owned subscriptions on the
//! [`super::bus::Bus`] standing in for upstream's internal clients, deferred
//! tasks, and the raft hosts of its nodes. [`ServerCore`] implements
//! [`ServerEnv`]; everything it does goes through the world's clock, RNG,
//! disk and the bus.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::jetstream_cluster::js::JetStreamCtx;
use crate::jetstream_cluster::node::NodeHandle;
use crate::jetstream_cluster::server::{NodeInfo, ServerEnv, ServerOpts, StartError, SysHandler, Task};
use crate::peer_state::{ExtensionState, PeerState};
use crate::raft::env::{join, ClientId, Fs, LogLevel, RaftEnv, Sid, Timestamp, Transport, TransportError};
use crate::raft::persist::{read_peer_state, write_peer_state};
use crate::raft::{FileWal, Raft, RaftConfig, RaftError, RaftTimings, ID_LEN};
use crate::sim::cluster::server_hash;
use crate::sim::world::{SimFs, World};

use super::bus::{Bus, BusMsg, Owner};

/// The system account's name (Go: `DEFAULT_SYSTEM_ACCOUNT`).
pub const SYSTEM_ACCOUNT: &str = "$SYS";
/// The global account's name (Go: `DEFAULT_GLOBAL_ACCOUNT`).
pub const GLOBAL_ACCOUNT: &str = "$G";
/// Unix time of the simulation's clock origin (2025-01-01T00:00:00Z), so
/// timestamps look like real ones.
pub const EPOCH_UNIX_NANOS: i64 = 1_735_689_600_000_000_000;

/// What a server-owned subscription runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// A JetStream handler.
    Sys(SysHandler),
    /// `remoteServerUpdate` (statsz from others).
    RemoteServerUpdate,
    /// `remoteServerShutdown`.
    RemoteServerShutdown,
    /// `statszReq` (statsz pings).
    StatszReq,
    /// A stream leader's subscription to its subjects.
    StreamIngest,
}

/// A raft node of this server: the handle JetStream holds and the node the
/// host drives.
#[derive(Clone)]
pub struct RegisteredNode {
    /// What `lookupRaftNode` returns.
    pub handle: NodeHandle,
    /// The node itself.
    pub raft: Rc<RefCell<Raft>>,
}

/// Go: `serverUpdate`, what `sys.servers` keeps per remote server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerUpdate {
    pub seq: u64,
    pub ltime: Timestamp,
}

/// The injected server of one simulated process.
pub struct ServerCore {
    pub(crate) world: Rc<World>,
    pub(crate) bus: Rc<RefCell<Bus>>,
    /// Index of the server in its cluster.
    pub index: usize,
    /// Server name.
    pub name: String,
    /// Server id. Upstream's is an nkey public key; here it is derived from
    /// the name so it survives restarts.
    pub id: String,
    /// Node id: the hash of the name (Go: `getHash`).
    pub node: String,
    /// Cluster name.
    pub cluster: String,
    /// Configured routes (Go: `len(opts.Routes)`).
    pub routes: usize,
    pub(crate) opts: RefCell<ServerOpts>,
    pub(crate) timings: RaftTimings,
    pub(crate) running: Cell<bool>,
    pub(crate) shutting_down: Cell<bool>,
    pub(crate) quit: Cell<bool>,
    pub(crate) events: Cell<bool>,
    pub(crate) meta_leader: Cell<bool>,
    pub(crate) js_clustered: Cell<bool>,
    pub(crate) accounts: RefCell<BTreeSet<String>>,
    /// The `nodeToInfo` registry.
    pub node_to_info: RefCell<BTreeMap<String, NodeInfo>>,
    /// Remote servers heard from (Go: `sys.servers`).
    pub sys_servers: RefCell<BTreeMap<String, ServerUpdate>>,
    pub(crate) raft_nodes: RefCell<BTreeMap<String, RegisteredNode>>,
    pub(crate) sys_client: ClientId,
    pub(crate) handlers: RefCell<BTreeMap<Sid, Handler>>,
    /// Internal clients in user accounts (streams' subscriptions).
    pub(crate) account_clients: RefCell<BTreeMap<String, ClientId>>,
    pub(crate) tasks: RefCell<Vec<(Timestamp, u64, Task)>>,
    pub(crate) task_seq: Cell<u64>,
    pub(crate) js: RefCell<Weak<JetStreamCtx>>,
    /// Outgoing sequence of server-info messages (Go: `sys.seq`).
    pub(crate) info_seq: Cell<u64>,
    /// Current statsz interval (Go: `sys.cstatsz`) and the next send.
    pub(crate) cstatsz: Cell<Duration>,
    pub(crate) statsz_next: Cell<Option<Timestamp>>,
    pub(crate) last_statsz: Cell<Option<Timestamp>>,
    pub(crate) started: Timestamp,
}

impl std::fmt::Debug for ServerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCore").field("name", &self.name).field("running", &self.running.get()).finish()
    }
}

/// How a server is configured.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub name: String,
    pub cluster: String,
    pub routes: usize,
    pub opts: ServerOpts,
    pub timings: RaftTimings,
    /// Accounts configured besides `$SYS` and `$G`.
    pub accounts: Vec<String>,
}

impl ServerCore {
    /// A server process at start: running, events on, itself in its
    /// registry (Go: `NewServer` places a JetStream server in `nodeToInfo`),
    /// the system and global accounts registered and a system client.
    pub fn new(world: Rc<World>, bus: Rc<RefCell<Bus>>, index: usize, cfg: &ServerConfig) -> Rc<ServerCore> {
        let node = server_hash(&cfg.name);
        let id = format!("N{node}{}", server_hash(&format!("{}#id", cfg.name)));
        let sys_client = bus.borrow_mut().create_client(index, SYSTEM_ACCOUNT, Owner::Server(index));
        let now = Timestamp(world.now.get());
        let core = ServerCore {
            world,
            bus,
            index,
            name: cfg.name.clone(),
            id: id.clone(),
            node: node.clone(),
            cluster: cfg.cluster.clone(),
            routes: cfg.routes,
            opts: RefCell::new(cfg.opts.clone()),
            timings: cfg.timings,
            running: Cell::new(true),
            shutting_down: Cell::new(false),
            quit: Cell::new(false),
            events: Cell::new(true),
            meta_leader: Cell::new(false),
            js_clustered: Cell::new(false),
            accounts: RefCell::new(
                [SYSTEM_ACCOUNT.to_string(), GLOBAL_ACCOUNT.to_string()].into_iter().chain(cfg.accounts.iter().cloned()).collect(),
            ),
            node_to_info: RefCell::new(BTreeMap::new()),
            sys_servers: RefCell::new(BTreeMap::new()),
            raft_nodes: RefCell::new(BTreeMap::new()),
            sys_client,
            handlers: RefCell::new(BTreeMap::new()),
            account_clients: RefCell::new(BTreeMap::new()),
            tasks: RefCell::new(Vec::new()),
            task_seq: Cell::new(0),
            js: RefCell::new(Weak::new()),
            info_seq: Cell::new(0),
            cstatsz: Cell::new(Duration::from_millis(250)),
            statsz_next: Cell::new(None),
            last_statsz: Cell::new(None),
            started: now,
        };
        core.node_to_info.borrow_mut().insert(
            node,
            NodeInfo {
                name: cfg.name.clone(),
                version: super::events::VERSION.to_string(),
                cluster: cfg.cluster.clone(),
                domain: cfg.opts.js_domain.clone(),
                id,
                tags: cfg.opts.tags.clone(),
                cfg: Some(serde_json::json!({"max_memory": 2u64 << 30, "max_storage": 2u64 << 30, "compress_ok": true})),
                stats: None,
                offline: false,
                js: true,
                binary_snapshots: true,
                account_nrg: true,
            },
        );
        Rc::new(core)
    }

    /// Adds an account (Go: configured accounts), with JetStream when it
    /// is not the system account and JetStream runs.
    pub fn add_account(&self, name: &str) {
        self.accounts.borrow_mut().insert(name.to_string());
        if let Some(js) = self.js.borrow().upgrade().filter(|_| name != SYSTEM_ACCOUNT) {
            js.enable_account(name);
        }
    }

    /// A server-owned subscription running `handler`.
    pub fn subscribe(&self, subject: &str, handler: Handler) -> Option<Sid> {
        let sid = self.bus.borrow_mut().subscribe(self.sys_client, subject)?;
        self.handlers.borrow_mut().insert(sid, handler);
        Some(sid)
    }

    /// The handler of a server-owned subscription.
    pub fn handler(&self, sid: Sid) -> Option<Handler> {
        self.handlers.borrow().get(&sid).copied()
    }

    /// Publishes from the system client in `account`.
    pub(crate) fn publish(&self, account: &str, subject: &str, reply: &str, hdr: &[u8], data: &[u8]) {
        if !self.events.get() {
            return;
        }
        let msg = BusMsg { account: account.to_string(), subject: subject.into(), reply: reply.into(), hdr: hdr.to_vec(), data: data.to_vec() };
        let now = self.world.now.get();
        let mut rng = self.world.rng.borrow_mut();
        self.bus.borrow_mut().publish_from(self.index, true, msg, now, &mut rng);
    }

    /// Registered raft nodes, by group.
    pub fn raft_nodes(&self) -> Vec<RegisteredNode> {
        self.raft_nodes.borrow().values().cloned().collect()
    }

    /// Port of (*Server).registerRaftNode
    pub fn register_raft_node(&self, group: &str, n: RegisteredNode) {
        self.raft_nodes.borrow_mut().insert(group.to_string(), n);
    }

    /// Port of (*Server).unregisterRaftNode
    pub fn unregister_raft_node(&self, group: &str) {
        self.raft_nodes.borrow_mut().remove(group);
    }

    /// Port of (*Server).stepdownRaftNodes
    ///
    /// At shutdown every node steps down (a leader hands over) and turns
    /// observer so it is not elected again.
    pub fn stepdown_raft_nodes(&self) {
        for n in self.raft_nodes() {
            let _ = n.handle.step_down(&[]);
            n.handle.set_observer(true);
        }
    }

    /// Port of (*Server).shutdownRaftNodes
    pub fn shutdown_raft_nodes(&self) {
        for n in self.raft_nodes() {
            n.handle.stop();
        }
    }

    /// Due tasks, removed from the queue in (time, order) order.
    pub(crate) fn take_due_tasks(&self, now: Timestamp) -> Vec<Task> {
        let mut tasks = self.tasks.borrow_mut();
        if tasks.is_empty() {
            return Vec::new();
        }
        tasks.sort_by_key(|(at, seq, _)| (*at, *seq));
        let n = tasks.iter().take_while(|(at, _, _)| *at <= now).count();
        tasks.drain(..n).map(|(_, _, t)| t).collect()
    }

    /// When the next task is due.
    pub(crate) fn next_task(&self) -> Option<Timestamp> {
        self.tasks.borrow().iter().map(|(at, _, _)| *at).min()
    }

    fn log_line(&self, level: LogLevel, msg: &str) {
        if level != LogLevel::Debug || self.world.verbose {
            self.world.log_line(format!("{} {level:?} {msg}", self.name));
        }
    }
}

impl ServerEnv for ServerCore {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn node(&self) -> String {
        self.node.clone()
    }
    fn cluster_name(&self) -> String {
        self.cluster.clone()
    }
    fn is_cluster_name_dynamic(&self) -> bool {
        self.cluster.is_empty()
    }
    fn configured_routes(&self) -> usize {
        self.routes
    }
    fn can_extend_other_domain(&self) -> bool {
        false
    }
    fn is_running(&self) -> bool {
        self.running.get()
    }
    fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }
    fn quit_closed(&self) -> bool {
        self.quit.get()
    }
    fn events_enabled(&self) -> bool {
        self.events.get()
    }
    fn is_meta_leader(&self) -> bool {
        self.meta_leader.get()
    }
    fn set_meta_leader(&self, leader: bool) {
        self.meta_leader.set(leader);
    }
    fn js_clustered(&self) -> bool {
        self.js_clustered.get()
    }
    fn set_js_clustered(&self, clustered: bool) {
        self.js_clustered.set(clustered);
    }
    fn opts(&self) -> ServerOpts {
        self.opts.borrow().clone()
    }
    fn raft_timings(&self) -> RaftTimings {
        self.timings
    }
    fn now(&self) -> Timestamp {
        Timestamp(self.world.now.get())
    }
    fn unix_nanos(&self) -> i64 {
        EPOCH_UNIX_NANOS + self.world.now.get() as i64
    }
    fn rand_u64(&self) -> u64 {
        self.world.rng.borrow_mut().next_u64()
    }
    fn log(&self, level: LogLevel, msg: &str) {
        self.log_line(level, msg);
    }
    fn node_info(&self, node: &str) -> Option<NodeInfo> {
        self.node_to_info.borrow().get(node).cloned()
    }
    fn node_infos(&self) -> Vec<(String, NodeInfo)> {
        self.node_to_info.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
    fn system_account(&self) -> Option<String> {
        Some(SYSTEM_ACCOUNT.to_string())
    }
    fn lookup_or_fetch_account(&self, account: &str, _is_member: bool) -> Result<(), String> {
        // No account resolver is modelled: configured accounts only.
        if self.accounts.borrow().contains(account) {
            Ok(())
        } else {
            Err("account not found".into())
        }
    }
    fn lookup_account(&self, account: &str) -> bool {
        self.accounts.borrow().contains(account)
    }
    fn send_internal_msg(&self, subject: &str, reply: &str, hdr: &[u8], msg: &[u8]) {
        self.publish(SYSTEM_ACCOUNT, subject, reply, hdr, msg);
    }
    fn send_internal_account_msg(&self, account: &str, subject: &str, reply: &str, hdr: &[u8], msg: &[u8]) {
        self.publish(account, subject, reply, hdr, msg);
    }
    fn has_interest(&self, account: &str, subject: &str) -> bool {
        self.bus.borrow().has_interest(account, subject)
    }
    fn sys_subscribe(&self, subject: &str, handler: SysHandler) -> Option<Sid> {
        self.subscribe(subject, Handler::Sys(handler))
    }
    fn sys_unsubscribe(&self, sid: Sid) {
        self.handlers.borrow_mut().remove(&sid);
        self.bus.borrow_mut().unsubscribe(sid);
    }
    fn account_subscribe(&self, account: &str, subject: &str) -> Option<Sid> {
        let client = *self
            .account_clients
            .borrow_mut()
            .entry(account.to_string())
            .or_insert_with(|| self.bus.borrow_mut().create_client(self.index, account, Owner::Server(self.index)));
        let sid = self.bus.borrow_mut().subscribe(client, subject)?;
        self.handlers.borrow_mut().insert(sid, Handler::StreamIngest);
        Some(sid)
    }
    fn account_unsubscribe(&self, sid: Sid) {
        self.sys_unsubscribe(sid);
    }
    fn remove_all(&self, path: &str) {
        let _ = SimFs::new(self.world.clone()).remove_all(path);
    }
    fn remove_dir(&self, path: &str) {
        let mut fs = SimFs::new(self.world.clone());
        if fs.read_dir(path).is_ok_and(|e| e.is_empty()) {
            let _ = fs.remove_all(path);
        }
    }

    /// Upstream's `(*Server).bootstrapRaftNode` with this server's options
    /// (the raft-level part is `raft::node::bootstrap_raft_node`): writes the
    /// initial peer state; when not every peer is known the expected size is
    /// at least 2 and at least the number of configured routes (gateways are
    /// not modelled).
    fn bootstrap_raft_node(&self, store: &str, known_peers: &[String], all_peers_known: bool) -> Result<(), RaftError> {
        for p in known_peers {
            if p.len() != ID_LEN {
                return Err(RaftError::IllegalPeer(p.clone()));
            }
        }
        let mut expected = known_peers.len();
        if !all_peers_known {
            expected = expected.max(2).max(self.routes);
        }
        let mut fs = SimFs::new(self.world.clone());
        fs.create_dir_all(store)?;
        write_peer_state(
            &mut fs,
            store,
            &PeerState { known_peers: known_peers.to_vec(), cluster_size: expected as u32, domain_ext: ExtensionState::UNDETERMINED },
        )
    }
    fn read_peer_state(&self, store: &str) -> Result<PeerState, RaftError> {
        read_peer_state(&mut SimFs::new(self.world.clone()), store)
    }
    fn write_peer_state(&self, store: &str, ps: &PeerState) -> Result<(), RaftError> {
        write_peer_state(&mut SimFs::new(self.world.clone()), store, ps)
    }

    /// What upstream's `newFileStoreWithCreated` + `(*Server).startRaftNode`
    /// do for a group here: open its WAL (the file WAL stand-in for the
    /// filestore, under `<store>/msgs`), start the node (`raft::Raft::start`)
    /// and register it.
    fn start_raft_node(&self, account: &str, group: &str, store: &str, recovering: bool, observer: bool) -> Result<NodeHandle, StartError> {
        let sync_always = self.opts.borrow().sync_always;
        let wal = FileWal::open(Box::new(SimFs::new(self.world.clone())), &join(store, "msgs"), sync_always).map_err(RaftError::Wal)?;
        let mut cfg = RaftConfig::new(group, store, Box::new(wal));
        cfg.recovering = recovering;
        cfg.observer = observer;
        let host = JsRaftHost {
            world: self.world.clone(),
            transport: JsTransport { world: self.world.clone(), bus: self.bus.clone(), server: self.index, account: account.to_string(), group: group.to_string() },
            fs: SimFs::new(self.world.clone()),
            name: self.name.clone(),
        };
        let n = Raft::start(Box::new(host), &self.node, account, cfg, self.timings)?;
        let raft = Rc::new(RefCell::new(n));
        let handle = NodeHandle::from_raft(raft.clone());
        self.register_raft_node(group, RegisteredNode { handle: handle.clone(), raft });
        Ok(handle)
    }

    /// Port of (*Server).lookupRaftNode
    fn lookup_raft_node(&self, group: &str) -> Option<NodeHandle> {
        self.raft_nodes.borrow().get(group).map(|n| n.handle.clone())
    }

    /// Port of (*Server).numRaftNodes
    fn num_raft_nodes(&self) -> usize {
        self.raft_nodes.borrow().len()
    }

    fn schedule(&self, after: Duration, task: Task) {
        let seq = self.task_seq.get() + 1;
        self.task_seq.set(seq);
        self.tasks.borrow_mut().push((self.now().add(after), seq, task));
    }
    fn jet_stream(&self) -> Option<Rc<JetStreamCtx>> {
        self.js.borrow().upgrade()
    }
    fn healthz_error(&self) -> String {
        let Some(js) = self.jet_stream() else { return "JetStream not enabled".into() };
        let meta = js.get_meta_group();
        match meta {
            None => String::new(),
            Some(m) if m.leaderless() => "JetStream has not established contact with a meta leader".into(),
            Some(m) if !m.healthy() => "JetStream is not current with the meta leader".into(),
            Some(_) => String::new(),
        }
    }
}

/// The transport of a raft node on a server: an internal client in the
/// group's account.
#[derive(Debug, Clone)]
pub struct JsTransport {
    world: Rc<World>,
    bus: Rc<RefCell<Bus>>,
    server: usize,
    account: String,
    group: String,
}

impl Transport for JsTransport {
    fn create_client(&mut self) -> ClientId {
        self.bus.borrow_mut().create_client(self.server, &self.account, Owner::Raft { server: self.server, group: self.group.clone() })
    }
    fn close_client(&mut self, client: ClientId) {
        self.bus.borrow_mut().close_client(client);
    }
    fn subscribe(&mut self, client: ClientId, subject: &str) -> Result<Sid, TransportError> {
        self.bus.borrow_mut().subscribe(client, subject).ok_or(TransportError::NoClient)
    }
    fn unsubscribe(&mut self, sid: Sid) {
        self.bus.borrow_mut().unsubscribe(sid);
    }
    fn publish(&mut self, subject: &str, reply: &str, data: &[u8]) {
        let msg = BusMsg { account: self.account.clone(), subject: subject.into(), reply: reply.into(), hdr: Vec::new(), data: data.to_vec() };
        let now = self.world.now.get();
        let mut rng = self.world.rng.borrow_mut();
        self.bus.borrow_mut().publish_from(self.server, true, msg, now, &mut rng);
    }
}

/// The environment of a raft node on a simulated JetStream server.
pub struct JsRaftHost {
    world: Rc<World>,
    transport: JsTransport,
    fs: SimFs,
    name: String,
}

impl RaftEnv for JsRaftHost {
    fn now(&self) -> Timestamp {
        Timestamp(self.world.now.get())
    }
    fn rand_u64(&mut self) -> u64 {
        self.world.rng.borrow_mut().next_u64()
    }
    fn transport(&mut self) -> &mut dyn Transport {
        &mut self.transport
    }
    fn fs(&mut self) -> &mut dyn Fs {
        &mut self.fs
    }
    fn log(&mut self, level: LogLevel, msg: &str) {
        if level != LogLevel::Debug || self.world.verbose {
            self.world.log_line(format!("{} {level:?} {msg}", self.name));
        }
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
