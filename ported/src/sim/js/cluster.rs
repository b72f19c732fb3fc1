//! A simulated JetStream cluster: servers started, shut down, killed and
//! restarted on one world (their disk survives), routes that connect and
//! partition, test clients, and the helpers of Go's
//! `jetstream_helpers_test.go` (`createJetStreamClusterExplicit`,
//! `leader`, `waitOnLeader`, `expectNoLeader`, `waitOnPeerCount`,
//! `addInNewServer`, `restartServer`, ...). Everything runs in one thread:
//! each step delivers due messages, runs due raft nodes, polls the meta
//! monitors and fires due server timers, and every step is folded into an
//! event-log digest so a seed can be checked to replay exactly.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;


use crate::jetstream_cluster::js::{JetStreamConfig, JetStreamCtx};
use crate::jetstream_cluster::monitor::MetaMonitor;
use crate::jetstream_cluster::server::{ServerEnv, ServerOpts, SysHandler, Task};
use crate::raft::env::{ClientId, Timestamp};
use crate::raft::RaftTimings;
use crate::sim::world::World;

use super::bus::{Bus, BusMsg, Owner};
use super::runtime::RecordingRuntime;
use crate::jetstream_cluster::streams::JetStreamStreams;
use super::server::{Handler, ServerConfig, ServerCore, SYSTEM_ACCOUNT};

/// A running FNV-1a hash of the event log: cheap enough to take every
/// delivery, and all a replay check needs.
#[derive(Debug, Clone, Copy)]
struct EventDigest(u64);

impl Default for EventDigest {
    fn default() -> Self {
        EventDigest(0xcbf2_9ce4_8422_2325)
    }
}

impl EventDigest {
    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Upper bound on steps in one wait, against livelock.
const STEP_BUDGET: u64 = 5_000_000;

/// One server slot: its configuration and, while it runs, its process.
pub struct JsServer {
    /// How it is configured (kept across restarts).
    pub cfg: ServerConfig,
    /// The running process; `None` while stopped.
    pub core: Option<Rc<ServerCore>>,
    /// Its JetStream.
    pub js: Option<Rc<JetStreamCtx>>,
    /// Its meta monitor.
    pub monitor: Option<MetaMonitor>,
    /// What it runs (survives restarts, like stream directories on disk).
    pub runtime: Rc<RecordingRuntime>,
    /// The stream layer of the running process, when the cluster runs one
    /// ([`JsCluster::stream_layer`]); a new one each start, as memory is.
    pub streams: Option<Rc<JetStreamStreams>>,
    /// Times it was started.
    pub starts: u32,
}

impl JsServer {
    /// Whether the process runs.
    pub fn running(&self) -> bool {
        self.core.is_some()
    }
}

/// A test client connected to a server (Go: a `nats.Conn`).
pub struct Client {
    /// Server it is connected to.
    pub server: usize,
    /// Account it is in.
    pub account: String,
    id: Option<ClientId>,
    /// Messages received and not yet taken.
    pub msgs: VecDeque<BusMsg>,
}

/// A simulated JetStream cluster.
pub struct JsCluster {
    /// Cluster name.
    pub name: String,
    /// Clock, RNG and disk.
    pub world: Rc<World>,
    /// The seed of this run.
    pub seed: u64,
    /// The fabric.
    pub bus: Rc<RefCell<Bus>>,
    /// Server slots, `S-1` first.
    pub servers: Vec<JsServer>,
    /// Test clients.
    pub clients: Vec<Client>,
    /// Raft timings for servers started from now on.
    pub timings: RaftTimings,
    /// Options for servers added from now on.
    pub opts: ServerOpts,
    /// Accounts (besides `$SYS` and `$G`) of servers added from now on.
    pub accounts: Vec<String>,
    /// Steps taken.
    pub steps: u64,
    /// Servers started from now on run the stream layer
    /// ([`JetStreamStreams`]) instead of the recording runtime.
    pub stream_layer: bool,
    digest: EventDigest,
    /// Events folded into the digest.
    pub events: u64,
}

impl Drop for JsCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("simulation seed: {} (replay with JS_SIM_SEED={})", self.seed, self.seed);
            eprintln!("simulated time: {:.3}s, steps: {}", self.world.now.get() as f64 / 1e9, self.steps);
            let log = self.world.log.borrow();
            for l in log.iter().skip(log.len().saturating_sub(60)) {
                eprintln!("  {l}");
            }
        }
    }
}

/// Seed for a test: `JS_SIM_SEED` if set, else one derived from the name.
pub fn js_test_seed(name: &str) -> u64 {
    if let Some(v) = std::env::var("JS_SIM_SEED").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        return v;
    }
    crate::sim::test_seed(name)
}

impl JsCluster {
    /// An empty cluster named `name` on a fresh world.
    pub fn new(name: &str, seed: u64) -> JsCluster {
        JsCluster {
            name: name.to_string(),
            world: World::new(seed),
            seed,
            bus: Rc::new(RefCell::new(Bus::default())),
            servers: Vec::new(),
            clients: Vec::new(),
            timings: RaftTimings::go_test_defaults(),
            opts: ServerOpts::default(),
            accounts: Vec::new(),
            steps: 0,
            stream_layer: false,
            digest: EventDigest::default(),
            events: 0,
        }
    }

    /// Port of createJetStreamClusterExplicit
    ///
    /// `n` servers `S-1`... whose routes name every server, started and
    /// waited on until a meta leader sees all `n` peers.
    pub fn create_jet_stream_cluster_explicit(name: &str, n: usize, seed: u64) -> JsCluster {
        Self::create_jet_stream_cluster_with(name, n, seed, |_| {})
    }

    /// As [`JsCluster::create_jet_stream_cluster_explicit`], with `modify`
    /// adjusting the cluster's options before the servers are added (Go:
    /// `createJetStreamClusterWithTemplateAndModHook`).
    pub fn create_jet_stream_cluster_with(name: &str, n: usize, seed: u64, modify: impl FnOnce(&mut JsCluster)) -> JsCluster {
        let mut c = JsCluster::new(name, seed);
        modify(&mut c);
        for i in 1..=n {
            c.add_server(&format!("S-{i}"), n);
        }
        for i in 0..n {
            c.start_server(i);
        }
        c.wait_on_cluster_ready();
        c
    }

    /// Adds a stopped server slot with `routes` configured routes.
    pub fn add_server(&mut self, name: &str, routes: usize) -> usize {
        let mut opts = self.opts.clone();
        opts.store_dir = format!("/{name}/jetstream");
        let cfg = ServerConfig { name: name.to_string(), cluster: self.name.clone(), routes, opts, timings: self.timings, accounts: self.accounts.clone() };
        self.servers.push(JsServer { cfg, core: None, js: None, monitor: None, runtime: RecordingRuntime::new(self.world.clone()), streams: None, starts: 0 });
        self.servers.len() - 1
    }

    /// The running process of server `i`.
    pub fn core(&self, i: usize) -> &Rc<ServerCore> {
        match self.servers[i].core.as_ref() {
            Some(c) => c,
            None => panic!("server {} is not running", self.servers[i].cfg.name),
        }
    }

    /// Server `i` as the JetStream layer sees it.
    pub fn srv(&self, i: usize) -> &dyn ServerEnv {
        &**self.core(i)
    }

    /// The JetStream of server `i`.
    pub fn js(&self, i: usize) -> &Rc<JetStreamCtx> {
        match self.servers[i].js.as_ref() {
            Some(j) => j,
            None => panic!("server {} runs no JetStream", self.servers[i].cfg.name),
        }
    }

    /// Index of the server named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.cfg.name == name)
    }

    /// Port of RunServerWithConfig for slot `i`: a process starts on the
    /// slot's store, sets up events and JetStream (bootstrapping or
    /// recovering the meta group), then connects routes.
    pub fn start_server(&mut self, i: usize) {
        if self.servers[i].running() {
            return;
        }
        let core = ServerCore::new(self.world.clone(), self.bus.clone(), i, &self.servers[i].cfg);
        core.init_event_tracking();
        let srv: Rc<dyn ServerEnv> = core.clone();
        let streams = self.stream_layer.then(JetStreamStreams::new);
        let runtime: Rc<dyn crate::jetstream_cluster::runtime::StreamRuntime> = match streams.clone() {
            Some(st) => st,
            None => self.servers[i].runtime.clone(),
        };
        self.servers[i].streams = streams;
        let js = JetStreamCtx::new(srv.clone(), runtime, JetStreamConfig { store_dir: self.servers[i].cfg.opts.store_dir.clone(), domain: String::new() });
        *core.js.borrow_mut() = Rc::downgrade(&js);
        // Every configured account but the system account uses JetStream
        // (upstream: accounts configured with JetStream).
        for acc in core.accounts.borrow().iter().filter(|a| a.as_str() != SYSTEM_ACCOUNT) {
            js.enable_account(acc);
        }
        let monitor = match srv.enable_jet_stream_clustering() {
            Ok(m) => m,
            Err(e) => panic!("Can't start JetStream on {}: {e}", core.name),
        };
        core.set_js_clustered(true);
        js.set_started();
        let s = &mut self.servers[i];
        s.core = Some(core);
        s.js = Some(js);
        s.monitor = monitor;
        s.starts += 1;
        self.note(&format!("start {i}"));
        self.connect_routes(i);
    }

    // Route connections from `i` to every running server it can reach.
    fn connect_routes(&mut self, i: usize) {
        for j in 0..self.servers.len() {
            if j == i || !self.servers[j].running() || !self.bus.borrow().connected(i, j) {
                continue;
            }
            let (a, b) = (self.core(i).clone(), self.core(j).clone());
            a.route_connected(&b);
            b.route_connected(&a);
        }
    }

    /// Port of (*Server).Shutdown, as far as JetStream sees it: leaders
    /// hand over, the shutdown event goes out, JetStream stops (the meta
    /// monitor runs to its exit, snapshotting on the way), raft nodes stop.
    pub fn shutdown_server(&mut self, i: usize) {
        let Some(core) = self.servers[i].core.clone() else { return };
        core.stepdown_raft_nodes();
        core.send_shutdown_event();
        core.shutting_down.set(true);
        core.running.set(false);
        if let Some(js) = self.servers[i].js.clone() {
            js.shutdown_cluster();
            self.run_monitor_to_exit(i);
            *core.js.borrow_mut() = std::rc::Weak::new();
        }
        core.shutdown_raft_nodes();
        for n in core.raft_nodes() {
            n.raft.borrow_mut().wait_for_stop();
        }
        core.quit.set(true);
        self.note(&format!("shutdown {i}"));
        self.stop_process(i);
    }

    // Upstream waits on `stopped`; the monitor is polled until it exits.
    fn run_monitor_to_exit(&mut self, i: usize) {
        let Some(m) = self.servers[i].monitor.as_mut() else { return };
        for _ in 0..10_000 {
            if m.exited() {
                break;
            }
            match m.poll() {
                Some(a) => {
                    let line = format!("monitor {i} {a:?}");
                    self.digest.update(line.as_bytes());
                    self.events += 1;
                }
                None => break,
            }
        }
    }

    /// The process of server `i` dies at once (SIGKILL): no shutdown
    /// event, no final snapshot; the disk keeps what was written.
    pub fn kill_server(&mut self, i: usize) {
        if !self.servers[i].running() {
            return;
        }
        self.note(&format!("kill {i}"));
        self.stop_process(i);
    }

    fn stop_process(&mut self, i: usize) {
        let s = &mut self.servers[i];
        s.monitor = None;
        s.js = None;
        s.core = None;
        s.streams = None;
        self.bus.borrow_mut().server_down(i);
    }

    /// Port of (*cluster).restartServer: the same configuration and store.
    pub fn restart_server(&mut self, i: usize) {
        self.start_server(i);
    }

    /// Port of (*cluster).addInNewServer: `S-<n+1>` with one route, to the
    /// first server.
    pub fn add_in_new_server(&mut self) -> usize {
        let name = format!("S-{}", self.servers.len() + 1);
        let i = self.add_server(&name, 1);
        self.start_server(i);
        i
    }

    /// Cuts the routes between the given sides.
    pub fn partition(&mut self, sides: &[Vec<usize>]) {
        self.bus.borrow_mut().partition(sides);
        self.note(&format!("partition {sides:?}"));
    }

    /// Restores every route; routes that were cut connect again.
    pub fn heal(&mut self) {
        let cuts = self.bus.borrow().cuts();
        self.bus.borrow_mut().heal();
        for (a, b) in cuts {
            if self.servers[a].running() && self.servers[b].running() {
                let (x, y) = (self.core(a).clone(), self.core(b).clone());
                x.route_connected(&y);
                y.route_connected(&x);
            }
        }
        self.note("heal");
    }

    /// Connects a test client to server `i` in `account`.
    pub fn connect(&mut self, i: usize, account: &str) -> usize {
        let id = self.clients.len();
        let cid = self.bus.borrow_mut().create_client(i, account, Owner::Client(id));
        self.clients.push(Client { server: i, account: account.to_string(), id: Some(cid), msgs: VecDeque::new() });
        id
    }

    /// Subscribes client `c` to `subject`.
    pub fn subscribe(&mut self, c: usize, subject: &str) {
        if let Some(id) = self.clients[c].id {
            self.bus.borrow_mut().subscribe(id, subject);
        }
    }

    /// Publishes from client `c`.
    pub fn publish(&mut self, c: usize, subject: &str, reply: &str, hdr: &[u8], data: &[u8]) -> bool {
        let Some(id) = self.clients[c].id else { return false };
        let msg = BusMsg { account: String::new(), subject: subject.into(), reply: reply.into(), hdr: hdr.to_vec(), data: data.to_vec() };
        let now = self.world.now.get();
        let mut rng = self.world.rng.borrow_mut();
        self.bus.borrow_mut().publish(id, msg, now, &mut rng)
    }

    /// Request/reply from client `c` (Go: `nc.Request`): a fresh inbox, the
    /// request, and the first reply within `timeout` of simulated time.
    pub fn request(&mut self, c: usize, subject: &str, data: &[u8], timeout: Duration) -> Option<BusMsg> {
        let inbox = format!("_INBOX.{:016x}", self.world.rng.borrow_mut().next_u64());
        self.subscribe(c, &inbox);
        self.clients[c].msgs.clear();
        if !self.publish(c, subject, &inbox, &[], data) {
            return None;
        }
        self.run_until(timeout, |cl| cl.clients[c].msgs.iter().any(|m| m.subject == inbox));
        let pos = self.clients[c].msgs.iter().position(|m| m.subject == inbox)?;
        self.clients[c].msgs.remove(pos)
    }

    fn note(&mut self, what: &str) {
        let line = format!("{} {what}", self.world.now.get());
        self.digest.update(line.as_bytes());
        self.events += 1;
    }

    /// Hash of every event so far (deliveries with their payloads, monitor
    /// activities, timers, starts, stops, partitions), hex.
    pub fn event_digest(&self) -> String {
        format!("{:016x}", self.digest.0)
    }

    fn next_event(&self) -> Option<u64> {
        let mut next = self.bus.borrow().next_time();
        let mut consider = |t: Option<Timestamp>| {
            if let Some(t) = t {
                next = Some(next.map_or(t.0, |x| x.min(t.0)));
            }
        };
        for s in &self.servers {
            let Some(core) = s.core.as_ref() else { continue };
            for n in core.raft_nodes.borrow().values() {
                consider(n.raft.borrow().next_deadline());
            }
            if let Some(m) = s.monitor.as_ref() {
                consider(m.next_deadline());
            }
            if let (Some(st), Some(js)) = (s.streams.as_ref(), s.js.as_ref()) {
                if st.has_ready(js) {
                    consider(Some(Timestamp(self.world.now.get())));
                }
            }
            consider(core.statsz_deadline());
            consider(core.next_task());
        }
        next
    }

    /// Advances to the next event and processes everything due then.
    /// Returns false when nothing is scheduled at all.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.next_event() else { return false };
        let now = self.world.now.get().max(next);
        self.world.now.set(now);
        self.steps += 1;
        for _ in 0..256 {
            let mut any = false;
            loop {
                let popped = self.bus.borrow_mut().pop_due(now);
                let Some((sid, owner, msg)) = popped else { break };
                any = true;
                self.dispatch(sid, owner, msg);
            }
            for i in 0..self.servers.len() {
                any |= self.run_server(i, Timestamp(now));
            }
            if !any {
                break;
            }
        }
        true
    }

    fn dispatch(&mut self, sid: crate::raft::env::Sid, owner: Owner, msg: BusMsg) {
        self.digest.update(&self.world.now.get().to_le_bytes());
        self.digest.update(format!("{owner:?}").as_bytes());
        self.digest.update(msg.subject.as_bytes());
        self.digest.update(&msg.data);
        self.events += 1;
        match owner {
            Owner::Raft { server, group } => {
                let Some(core) = self.servers[server].core.clone() else { return };
                let node = core.raft_nodes.borrow().get(&group).cloned();
                if let Some(n) = node {
                    let mut r = n.raft.borrow_mut();
                    r.deliver(sid, &msg.subject, &msg.reply, &msg.data);
                    tick_or_fail(&mut r);
                }
            }
            Owner::Server(i) => {
                let Some(core) = self.servers[i].core.clone() else { return };
                match core.handler(sid) {
                    Some(Handler::RemoteServerUpdate) => core.remote_server_update(&msg.data),
                    Some(Handler::RemoteServerShutdown) => core.remote_server_shutdown(&msg.subject, &msg.data),
                    Some(Handler::StatszReq) => core.statsz_req(&msg.reply, &msg.data),
                    Some(Handler::StreamIngest) => {
                        if let (Some(st), Some(js)) = (self.servers[i].streams.clone(), self.servers[i].js.clone()) {
                            st.process_inbound(&js, sid, &msg.subject, &msg.reply, &msg.hdr, &msg.data);
                        }
                    }
                    Some(Handler::Sys(SysHandler::JsLeaderStepDown)) => {
                        if let Some(js) = self.servers[i].js.clone() {
                            js.js_leader_step_down_request(&msg.account, &msg.subject, &msg.reply, &msg.hdr, &msg.data);
                        }
                    }
                    None => {}
                }
            }
            Owner::Client(c) => self.clients[c].msgs.push_back(msg),
        }
    }

    // Due raft nodes, the meta monitor, statsz and tasks of server `i`.
    fn run_server(&mut self, i: usize, now: Timestamp) -> bool {
        let Some(core) = self.servers[i].core.clone() else { return false };
        let mut any = false;
        // Ticking a node never touches the registry, so it stays borrowed.
        for n in core.raft_nodes.borrow().values() {
            let due = n.raft.borrow().next_deadline().is_some_and(|d| d <= now);
            if due {
                tick_or_fail(&mut n.raft.borrow_mut());
                any = true;
            }
        }
        if let Some(m) = self.servers[i].monitor.as_mut() {
            for _ in 0..1024 {
                if !m.next_deadline().is_some_and(|d| d <= now) {
                    break;
                }
                match m.poll() {
                    Some(a) => {
                        any = true;
                        let line = format!("{} monitor {i} {a:?}", now.0);
                        self.digest.update(line.as_bytes());
                        self.events += 1;
                    }
                    None => break,
                }
            }
        }
        if let (Some(st), Some(js)) = (self.servers[i].streams.clone(), self.servers[i].js.clone()) {
            for _ in 0..64 {
                let ran = st.poll(&js);
                if ran.is_empty() {
                    break;
                }
                any = true;
                for (name, a) in ran {
                    let line = format!("{} stream {i} {name} {a:?}", now.0);
                    self.digest.update(line.as_bytes());
                    self.events += 1;
                }
            }
        }
        if core.statsz_deadline().is_some_and(|d| d <= now) {
            core.heartbeat_statsz();
            any = true;
        }
        for t in core.take_due_tasks(now) {
            any = true;
            self.note(&format!("task {i} {t:?}"));
            match t {
                Task::DisableJetStream => self.disable_jet_stream(i),
            }
        }
        any
    }

    /// The JetStream part of (*Server).DisableJetStream for a clustered
    /// server that was removed from the meta group: a leader steps down,
    /// the meta node is deleted, JetStream and the raft nodes stop. The
    /// process keeps running. (Upstream waits up to 2s for the transfer.)
    fn disable_jet_stream(&mut self, i: usize) {
        let Some(core) = self.servers[i].core.clone() else { return };
        let Some(js) = self.servers[i].js.clone() else { return };
        js.disabled.set(true);
        if let Some(meta) = js.get_meta_group() {
            if core.is_meta_leader() {
                let _ = meta.step_down(&[]);
            }
            meta.delete();
        }
        js.shutdown_cluster();
        self.run_monitor_to_exit(i);
        core.shutdown_raft_nodes();
        *core.js.borrow_mut() = std::rc::Weak::new();
        self.servers[i].js = None;
        self.servers[i].monitor = None;
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        crate::sim::drive::run_for(self, d, STEP_BUDGET);
    }

    /// Runs until `cond` holds or `budget` passes; returns whether it held.
    pub fn run_until(&mut self, budget: Duration, cond: impl FnMut(&mut JsCluster) -> bool) -> bool {
        crate::sim::drive::run_until(self, budget, STEP_BUDGET, cond)
    }

    /// Port of checkFor: polls `f` every `interval` for at most `total`;
    /// returns the last error if it never succeeds.
    pub fn check_for(&mut self, total: Duration, interval: Duration, mut f: impl FnMut(&mut JsCluster) -> Result<(), String>) -> Result<(), String> {
        let deadline = self.world.now.get() + total.as_nanos() as u64;
        loop {
            match f(self) {
                Ok(()) => return Ok(()),
                Err(e) if self.world.now.get() >= deadline => return Err(e),
                Err(_) => self.run_for(interval),
            }
        }
    }

    /// Port of (*cluster).leader: the server that is meta leader.
    pub fn leader(&self) -> Option<usize> {
        (0..self.servers.len()).find(|&i| self.servers[i].core.as_ref().is_some_and(|c| ServerEnv::is_meta_leader(&**c)))
    }

    /// Port of (*cluster).randomNonLeader: the first running non-leader.
    pub fn random_non_leader(&self) -> Option<usize> {
        (0..self.servers.len()).find(|&i| self.servers[i].core.as_ref().is_some_and(|c| !ServerEnv::is_meta_leader(&**c)))
    }

    /// Port of (*cluster).waitOnLeader: up to 40 simulated seconds; a found
    /// leader is given another 100ms.
    pub fn wait_on_leader(&mut self) -> Result<usize, String> {
        let deadline = self.world.now.get() + 40_000_000_000;
        while self.world.now.get() < deadline {
            if let Some(l) = self.leader() {
                self.run_for(Duration::from_millis(100));
                return Ok(l);
            }
            self.run_for(Duration::from_millis(10));
        }
        Err("Expected a cluster leader, got none".into())
    }

    /// Port of (*cluster).expectNoLeader: within the maximum election
    /// timeout no server may be leader.
    pub fn expect_no_leader(&mut self) -> Result<(), String> {
        let deadline = self.world.now.get() + self.timings.max_election_timeout.as_nanos() as u64;
        while self.world.now.get() < deadline {
            if self.leader().is_none() {
                return Ok(());
            }
            self.run_for(Duration::from_millis(20));
        }
        Err("Expected no leader but have one".into())
    }

    /// Port of (*cluster).waitOnPeerCount
    pub fn wait_on_peer_count(&mut self, n: usize) -> Result<(), String> {
        self.wait_on_leader()?;
        let deadline = self.world.now.get() + 30_000_000_000;
        while self.world.now.get() < deadline {
            match self.leader() {
                None => self.run_for(Duration::from_millis(50)),
                Some(l) => {
                    if self.srv(l).jet_stream_cluster_peers().len() == n {
                        return Ok(());
                    }
                    self.run_for(Duration::from_millis(100));
                }
            }
        }
        let got = self.leader().map_or(0, |l| self.srv(l).jet_stream_cluster_peers().len());
        Err(format!("Expected a cluster peer count of {n}, got {got}"))
    }

    /// Port of (*cluster).waitOnClusterReady: a leader that sees every
    /// server as a peer, then `waitOnLeader`.
    pub fn wait_on_cluster_ready(&mut self) {
        let n = self.servers.len();
        let deadline = self.world.now.get() + 40_000_000_000;
        while self.world.now.get() < deadline {
            match self.leader() {
                None => self.run_for(Duration::from_millis(50)),
                Some(l) => {
                    if self.srv(l).jet_stream_cluster_peers().len() == n {
                        self.run_for(Duration::from_millis(100));
                        if let Err(e) = self.wait_on_leader() {
                            panic!("{e}");
                        }
                        return;
                    }
                    self.run_for(Duration::from_millis(10));
                }
            }
        }
        let seen = self.leader().map_or(0, |l| self.srv(l).jet_stream_cluster_peers().len());
        panic!("Expected a fully formed cluster, only {seen} of {n} peers seen");
    }

    /// Proposes `entry` at server `i`'s meta node (what the meta leader's
    /// API handlers do after encoding an assignment).
    pub fn propose(&self, i: usize, entry: &[u8]) -> Result<(), crate::raft::RaftError> {
        let meta = self.js(i).get_meta_group().ok_or(crate::raft::RaftError::NotLeader)?;
        meta.propose(entry)
    }

    /// The meta raft node of server `i`.
    pub fn meta_raft(&self, i: usize) -> Option<Rc<RefCell<crate::raft::Raft>>> {
        self.servers[i].core.as_ref()?.raft_nodes.borrow().get(crate::jetstream_cluster::DEFAULT_META_GROUP_NAME).map(|n| n.raft.clone())
    }

    /// Server `i`'s applied assignment maps.
    pub fn streams(&self, i: usize) -> crate::jetstream_cluster::StreamMap {
        self.servers[i].js.as_ref().and_then(|js| js.st.borrow().cluster.as_ref().map(|cc| cc.streams.clone())).unwrap_or_default()
    }

    /// Every running server's system account name, for convenience.
    pub fn system_account(&self) -> &'static str {
        SYSTEM_ACCOUNT
    }
}

// A run loop still busy after its step budget is a livelock: fail the run
// (the cluster's drop handler then prints the seed).
fn tick_or_fail(n: &mut crate::raft::Raft) {
    if let Err(e) = n.tick() {
        panic!("{} on {}: {e}", n.group(), n.id());
    }
}

impl crate::sim::drive::Stepped for JsCluster {
    fn world(&self) -> &World {
        &self.world
    }
    fn next_event(&self) -> Option<u64> {
        JsCluster::next_event(self)
    }
    fn step(&mut self) -> bool {
        JsCluster::step(self)
    }
}
