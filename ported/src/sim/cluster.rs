//! A simulated cluster of servers hosting raft groups, and the group
//! helpers of raft_helpers_test.go: `create_raft_group` (file WAL on the
//! simulated disk), `create_mem_raft_group`, `wait_on_leader`,
//! `wait_on_total`, `init_single_mem_raft_node`, plus probes that subscribe
//! to subjects like the Go tests' NATS client. All waiting is bounded by
//! simulated time and a step budget; nothing sleeps on the wall clock.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use crate::raft::env::{ClientId, Sid};
use crate::raft::node::bootstrap_raft_node;
#[cfg(any(test, feature = "testing"))]
use crate::raft::PlantedBugs;
use crate::raft::{FileWal, HealthCheck, MemWal, Raft, RaftConfig, RaftError, RaftState, RaftTimings, StorageType, Wal};

use super::net::{Msg, Owner};
use super::state_machines::{encode_delta, ChainOfBlocks, StateAdder, StateMachine};
use super::world::{SimFs, SimHost, World};

/// Account name used for all groups.
pub const GLOBAL_ACCOUNT: &str = "$G";
/// Upper bound on simulation steps in one wait, against livelock.
const STEP_BUDGET: u64 = 20_000_000;

/// A simulated server.
#[derive(Debug, Clone)]
pub struct Server {
    /// Server name.
    pub name: String,
    /// Node id used by raft (8 characters).
    pub id: String,
}

impl Server {
    /// A server and its node id.
    pub fn named(name: &str) -> Server {
        Server { id: server_hash(name), name: name.to_string() }
    }
}

/// Which state machine a group runs (Go: `smFactory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmKind {
    /// [`StateAdder`].
    Adder,
    /// [`ChainOfBlocks`].
    ChainOfBlocks,
}

/// One raft node of a group and its state machine.
pub struct NodeSlot {
    /// Index of the hosting server.
    pub server: usize,
    /// Group name.
    pub group: String,
    /// Raft store directory.
    pub store: String,
    /// WAL directory (file storage).
    pub wal_dir: String,
    /// WAL kind.
    pub storage: StorageType,
    /// The node (kept after stop, like the Go helpers keep `a.n`).
    pub raft: Raft,
    /// The replicated state machine.
    pub sm: Box<dyn StateMachine>,
    /// Planted bugs for this node (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub bugs: PlantedBugs,
    /// Held like a Go test holding the node's lock: messages queue up but
    /// the node and its state machine do not run.
    pub frozen: bool,
    /// Busy until this simulated time (the goroutine has not been scheduled
    /// yet): what arrives meanwhile queues up, so several select cases can
    /// be ready when it runs.
    pub busy_until: u64,
    /// When the file WAL's sync timer next fires (`u64::MAX`: never).
    pub next_wal_sync: u64,
}

/// How a file WAL reaches the disk: Go's server options `sync_always` and
/// `sync_interval`, which `createRaftGroup` and `setupMetaGroup` hand to the
/// WAL's filestore (`SyncAlways`, `SyncInterval`), for the meta, stream and
/// consumer groups alike. Memory WALs have nothing to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Every append is synced before it returns (`sync_always: true`).
    Always,
    /// Appends reach the disk when the filestore's timer syncs, every
    /// interval (the first time after half to all of one).
    Interval(Duration),
}

impl SyncPolicy {
    /// The server's default: `sync_always` false, `sync_interval` 2 minutes.
    pub const GO_DEFAULT: SyncPolicy = SyncPolicy::Interval(Duration::from_secs(120));
    /// What Go's raft test helpers give their WALs (`createWAL`: 5 minutes).
    pub const GO_TEST_HELPER: SyncPolicy = SyncPolicy::Interval(Duration::from_secs(300));
}

/// Receives messages on subjects, like a test's NATS subscription.
pub struct Probe {
    client: ClientId,
    sids: Vec<Sid>,
    /// Messages received and not yet taken.
    pub msgs: VecDeque<Msg>,
    responder: Option<Box<dyn FnMut(&Msg) -> Vec<Msg>>>,
}

/// Handle on a probe.
pub type ProbeId = usize;

/// A raft group: cluster slots of its members.
#[derive(Debug, Clone)]
pub struct RaftGroup {
    /// Group name.
    pub name: String,
    /// Cluster slots.
    pub members: Vec<usize>,
}

impl RaftGroup {
    /// Leader of the group (Go: `smGroup.leader`).
    pub fn leader(&self, c: &Cluster) -> Option<usize> {
        self.members.iter().copied().find(|&m| c.nodes[m].raft.leader())
    }

    /// First member that is not leader (Go: `nonLeader`).
    pub fn non_leader(&self, c: &Cluster) -> Option<usize> {
        self.members.iter().copied().find(|&m| !c.nodes[m].raft.leader())
    }

    /// Members that are not leader (Go: `followers`).
    pub fn followers(&self, c: &Cluster) -> Vec<usize> {
        self.members.iter().copied().filter(|&m| !c.nodes[m].raft.leader()).collect()
    }

    /// A random member, from the simulation RNG (Go: `randomMember`).
    pub fn random_member(&self, c: &Cluster) -> usize {
        let i = c.world.rng.borrow_mut().index(self.members.len());
        self.members[i]
    }
}

/// Node id for a server name: Go's `getHash` of it (see
/// [`crate::jetstream_cluster::placement::get_hash`]).
pub fn server_hash(name: &str) -> String {
    crate::jetstream_cluster::placement::get_hash(name)
}

// A node whose run loop spins is a livelock in the port: fail the run (the
// cluster's drop handler then prints the seed and the recent log).
fn tick_or_fail(n: &mut Raft, seed: u64) {
    if let Err(e) = n.tick() {
        panic!("{} on {} (seed {seed}): {e}", n.group(), n.id());
    }
}

/// A simulated cluster.
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Clock, RNG, network and disk.
    pub world: Rc<World>,
    /// The seed of this run.
    pub seed: u64,
    /// Servers.
    pub servers: Vec<Server>,
    /// All raft nodes of all groups.
    pub nodes: Vec<NodeSlot>,
    /// Test subscriptions.
    pub probes: Vec<Probe>,
    /// Timings for nodes created from now on (Go's package variables, as
    /// the Go test package sets them).
    pub timings: RaftTimings,
    /// Planted bugs for nodes created from now on (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub bugs: PlantedBugs,
    /// How file WALs created from now on reach the disk.
    pub wal_sync: SyncPolicy,
    /// Whether a restarted node starts with `RaftConfig::recovering`, as
    /// JetStream's groups do after a server restart (createRaftGroup while
    /// the meta layer recovers). Go's raft test helpers restart without it.
    pub restart_recovering: bool,
    /// `RaftConfig::track` for nodes created from now on. Go's test helpers
    /// leave it off; JetStream's groups turn it on.
    pub track: bool,
    /// Simulation steps taken.
    pub steps: u64,
    /// Last log index of each file-WAL node that lost power under a lazy
    /// sync policy, as it was in memory just before (the entries a
    /// majority power loss can take with it); read at its restart.
    pub lazy_sync_power_loss: std::collections::BTreeMap<usize, u64>,
    /// Called after every node turn with the slot that ran (invariant checks).
    pub after_tick: Option<Box<dyn FnMut(&mut Cluster, usize)>>,
    /// Go's scheduler: the chance that a node's goroutine runs late after
    /// a message arrives, and by at most how many nanoseconds. Drawn from
    /// the seed, so runs differ in how often queues fill up before a turn.
    pub sched_lag: (f64, u64),
    dirs: u64,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // `NRG_SIM_TIME=1` reports the simulated time this cluster covered,
        // under the test thread's name (ported/bench/raft.sh, P5).
        if std::env::var("NRG_SIM_TIME").is_ok_and(|v| v == "1") {
            let thread = std::thread::current();
            eprintln!("nrg-sim-time {} {:.3}", thread.name().unwrap_or("main"), self.world.now.get() as f64 / 1e9);
        }
        if std::thread::panicking() {
            eprintln!("simulation seed: {} (replay with NRG_SIM_SEED={})", self.seed, self.seed);
            eprintln!("simulated time: {:.3}s, steps: {}", self.world.now.get() as f64 / 1e9, self.steps);
            let log = self.world.log.borrow();
            let start = log.len().saturating_sub(60);
            for l in log.iter().skip(start) {
                eprintln!("  {l}");
            }
        }
    }
}

impl Cluster {
    /// Port of createJetStreamClusterExplicit: cluster `name` of `n`
    /// servers named `S-1`, `S-2`... as in Go, so node ids match Go's.
    pub fn new(name: &str, n: usize, seed: u64) -> Cluster {
        let servers: Vec<Server> = (1..=n).map(|i| Server::named(&format!("S-{i}"))).collect();
        let world = World::new(seed);
        let sched_lag = {
            let mut rng = world.rng.borrow_mut();
            let p = [0.0, 0.05, 0.2, 0.5][rng.index(4)];
            (p, rng.range(20_000, 500_000))
        };
        for s in &servers {
            world.node_registry.borrow_mut().insert(s.id.clone(), false);
        }
        Cluster {
            name: name.to_string(),
            world,
            seed,
            servers,
            nodes: Vec::new(),
            probes: Vec::new(),
            timings: RaftTimings::go_test_defaults(),
            #[cfg(any(test, feature = "testing"))]
            bugs: PlantedBugs::default(),
            wal_sync: SyncPolicy::GO_TEST_HELPER,
            restart_recovering: false,
            track: false,
            steps: 0,
            lazy_sync_power_loss: Default::default(),
            after_tick: None,
            sched_lag,
            dirs: 0,
        }
    }

    /// Current simulated time.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.world.now.get())
    }

    /// The raft node in `slot`.
    pub fn node(&mut self, slot: usize) -> &mut Raft {
        &mut self.nodes[slot].raft
    }

    /// The adder state machine in `slot`.
    pub fn adder(&mut self, slot: usize) -> &mut StateAdder {
        match self.nodes[slot].sm.as_any_mut().downcast_mut::<StateAdder>() {
            Some(a) => a,
            None => panic!("slot {slot} does not run a StateAdder"),
        }
    }

    /// The chain-of-blocks state machine in `slot`.
    pub fn rcob(&mut self, slot: usize) -> &mut ChainOfBlocks {
        match self.nodes[slot].sm.as_any_mut().downcast_mut::<ChainOfBlocks>() {
            Some(a) => a,
            None => panic!("slot {slot} does not run a ChainOfBlocks"),
        }
    }

    /// Read-only chain-of-blocks access.
    pub fn rcob_ref(&self, slot: usize) -> &ChainOfBlocks {
        match self.nodes[slot].sm.as_any().downcast_ref::<ChainOfBlocks>() {
            Some(a) => a,
            None => panic!("slot {slot} does not run a ChainOfBlocks"),
        }
    }

    fn new_dir(&mut self, server: usize, what: &str) -> String {
        self.dirs += 1;
        format!("/{}/{what}-{}", self.servers[server].name, self.dirs)
    }

    fn open_wal(&self, storage: StorageType, dir: &str) -> Result<Box<dyn Wal>, RaftError> {
        Ok(match storage {
            StorageType::Memory => Box::new(MemWal::new()),
            StorageType::File => {
                let always = self.wal_sync == SyncPolicy::Always;
                Box::new(FileWal::open(Box::new(SimFs::new(self.world.clone())), dir, always)?)
            }
        })
    }

    // When a freshly opened file WAL first syncs (Go's setSyncTimer: between
    // half the interval and the interval, so stores spread out).
    fn first_wal_sync(&self, storage: StorageType) -> u64 {
        match (storage, self.wal_sync) {
            (StorageType::File, SyncPolicy::Interval(d)) => {
                let d = d.as_nanos() as u64;
                self.world.now.get() + d / 2 + self.world.rng.borrow_mut().below(d / 2)
            }
            _ => u64::MAX,
        }
    }

    fn start_node(&self, slot: usize, server: usize, group: &str, store: &str, wal: Box<dyn Wal>) -> Result<Raft, RaftError> {
        let host = SimHost::new(self.world.clone(), server, slot, &self.servers[server].name);
        #[allow(unused_mut)]
        let mut cfg = RaftConfig::new(group, store, wal);
        cfg.track = self.track;
        // A restarted node keeps the bugs it was created with.
        #[cfg(any(test, feature = "testing"))]
        {
            cfg.planted_bugs = self.nodes.get(slot).map_or(self.bugs, |n| n.bugs);
        }
        cfg.recovering = self.restart_recovering && self.nodes.get(slot).is_some();
        Raft::start(Box::new(host), &self.servers[server].id, GLOBAL_ACCOUNT, cfg, self.timings)
    }

    /// Port of (*cluster).createRaftGroupWithPeers
    pub fn create_raft_group_with_peers(&mut self, name: &str, servers: &[usize], kind: SmKind, storage: StorageType) -> RaftGroup {
        let peers: Vec<String> = servers.iter().map(|&s| self.servers[s].id.clone()).collect();
        let mut members = Vec::new();
        for &s in servers {
            members.push(self.add_node(name, s, &peers, kind, storage));
        }
        RaftGroup { name: name.to_string(), members }
    }

    /// A node of group `name` on `server`, bootstrapped with `peers`;
    /// returns its slot, or the error its disk gave it (nothing is added).
    pub fn add_node_on(&mut self, name: &str, server: usize, peers: &[String], kind: SmKind, storage: StorageType) -> Result<usize, RaftError> {
        self.try_add_node(name, server, peers, kind, storage)
    }

    fn add_node(&mut self, name: &str, server: usize, peers: &[String], kind: SmKind, storage: StorageType) -> usize {
        match self.try_add_node(name, server, peers, kind, storage) {
            Ok(slot) => slot,
            Err(e) => panic!("starting raft node for {name} on {}: {e}", self.servers[server].name),
        }
    }

    fn try_add_node(&mut self, name: &str, server: usize, peers: &[String], kind: SmKind, storage: StorageType) -> Result<usize, RaftError> {
        let store = self.new_dir(server, "nrg");
        let wal_dir = self.new_dir(server, "wal");
        bootstrap_raft_node(&mut SimFs::new(self.world.clone()), &store, peers, true)?;
        let slot = self.nodes.len();
        let raft = self.open_wal(storage, &wal_dir).and_then(|wal| self.start_node(slot, server, name, &store, wal));
        // Nothing of a node that failed to start stays subscribed under
        // its would-be slot.
        let raft = raft.inspect_err(|_| self.world.net.borrow_mut().close_clients_of(Owner::Node(slot)))?;
        let next_wal_sync = self.first_wal_sync(storage);
        let sm: Box<dyn StateMachine> = match kind {
            SmKind::Adder => Box::new(StateAdder::default()),
            SmKind::ChainOfBlocks => Box::new(ChainOfBlocks::new(&self.servers[server].name, raft.id())),
        };
        self.nodes.push(NodeSlot {
            server,
            group: name.to_string(),
            store,
            wal_dir,
            storage,
            raft,
            sm,
            #[cfg(any(test, feature = "testing"))]
            bugs: self.bugs,
            frozen: false,
            busy_until: 0,
            next_wal_sync,
        });
        self.drive_sm(slot);
        Ok(slot)
    }

    /// Port of (*cluster).createRaftGroupEx: members on random servers.
    pub fn create_raft_group_ex(&mut self, name: &str, n: usize, kind: SmKind, storage: StorageType) -> RaftGroup {
        assert!(n <= self.servers.len(), "Members > Peers: {n} vs {}", self.servers.len());
        let mut servers: Vec<usize> = (0..self.servers.len()).collect();
        {
            let mut rng = self.world.rng.borrow_mut();
            for i in (1..servers.len()).rev() {
                let j = rng.index(i + 1);
                servers.swap(i, j);
            }
        }
        servers.truncate(n);
        self.create_raft_group_with_peers(name, &servers, kind, storage)
    }

    /// Port of (*cluster).createRaftGroup (file-backed WAL).
    pub fn create_raft_group(&mut self, name: &str, n: usize, kind: SmKind) -> RaftGroup {
        self.create_raft_group_ex(name, n, kind, StorageType::File)
    }

    /// Port of (*cluster).createMemRaftGroup
    pub fn create_mem_raft_group(&mut self, name: &str, n: usize, kind: SmKind) -> RaftGroup {
        self.create_raft_group_ex(name, n, kind, StorageType::Memory)
    }

    /// Port of (*cluster).addInNewServer: one more server, `S-<n+1>`.
    pub fn add_in_new_server(&mut self) -> usize {
        let name = format!("S-{}", self.servers.len() + 1);
        let server = Server::named(&name);
        self.world.node_registry.borrow_mut().insert(server.id.clone(), false);
        self.servers.push(server);
        self.servers.len() - 1
    }

    /// Marks a server offline (or back online) in every server's registry
    /// of nodes, as a missed statsz heartbeat or a shutdown notice would.
    pub fn set_offline(&mut self, server: usize, offline: bool) {
        let id = self.servers[server].id.clone();
        self.world.node_registry.borrow_mut().insert(id, offline);
    }

    /// Port of (*cluster).addNodeEx: a node of group `name` on a new
    /// server, bootstrapped with every server of the cluster as a peer.
    pub fn add_node_ex(&mut self, name: &str, kind: SmKind, storage: StorageType) -> usize {
        let server = self.add_in_new_server();
        let peers: Vec<String> = self.servers.iter().map(|s| s.id.clone()).collect();
        self.add_node(name, server, &peers, kind, storage)
    }

    /// Port of (*cluster).addRaftNode
    pub fn add_raft_node(&mut self, name: &str, kind: SmKind) -> usize {
        self.add_node_ex(name, kind, StorageType::File)
    }

    /// Port of (*cluster).addMemRaftNode
    pub fn add_mem_raft_node(&mut self, name: &str, kind: SmKind) -> usize {
        self.add_node_ex(name, kind, StorageType::Memory)
    }

    /// Port of initSingleMemRaftNode
    ///
    /// A single-member memory group on the first server, initialised but
    /// not started (no end-of-replay marker, no run loop until ticked).
    pub fn init_single_mem_raft_node(&mut self) -> usize {
        let server = 0;
        let store = self.new_dir(server, "nrg");
        let id = self.servers[server].id.clone();
        {
            let mut fs = SimFs::new(self.world.clone());
            if let Err(e) = bootstrap_raft_node(&mut fs, &store, &[id.clone()], true) {
                panic!("bootstrap: {e}");
            }
        }
        let slot = self.nodes.len();
        let host = SimHost::new(self.world.clone(), server, slot, &self.servers[server].name);
        let cfg = RaftConfig::new("TEST", &store, Box::new(MemWal::new()));
        let raft = match Raft::init(Box::new(host), &id, GLOBAL_ACCOUNT, cfg, self.timings) {
            Ok(n) => n,
            Err(e) => panic!("init raft node: {e}"),
        };
        self.nodes.push(NodeSlot {
            server,
            group: "TEST".into(),
            store,
            wal_dir: String::new(),
            storage: StorageType::Memory,
            raft,
            sm: Box::new(StateAdder::default()),
            #[cfg(any(test, feature = "testing"))]
            bugs: PlantedBugs::default(),
            frozen: false,
            busy_until: 0,
            next_wal_sync: u64::MAX,
        });
        slot
    }

    /// Go's `lockAll`/`lockFollowers`: freeze the given nodes.
    pub fn freeze(&mut self, slots: &[usize]) {
        for &s in slots {
            self.nodes[s].frozen = true;
        }
    }

    /// Releases frozen nodes.
    pub fn unfreeze(&mut self, slots: &[usize]) {
        for &s in slots {
            self.nodes[s].frozen = false;
        }
    }

    /// Waits up to `d` for the adder's leader-change channel (Go:
    /// `require_ChanRead(t, lsm.lch, d)`).
    pub fn wait_lch(&mut self, slot: usize, d: Duration) -> Option<bool> {
        self.run_until(d, |c| c.adder(slot).lch.is_some());
        self.adder(slot).take_lch()
    }

    /// Runs for `d` and reports whether the adder's leader-change channel
    /// stayed empty (Go: `require_NoChanRead(t, lsm.lch, d)`).
    pub fn no_msg_lch(&mut self, slot: usize, d: Duration) -> bool {
        !self.run_until(d, |c| c.adder(slot).lch.is_some())
    }

    /// Port of (*stateAdder).stop: stop the node and wait for it.
    pub fn stop(&mut self, slot: usize) {
        let n = &mut self.nodes[slot];
        n.raft.stop();
        n.raft.wait_for_stop();
        n.sm.stopped();
    }

    /// Port of (*stateAdder).restart: a stopped node comes back on the same
    /// store (file WALs are reopened; memory WALs start empty).
    pub fn restart(&mut self, slot: usize) {
        if let Err(e) = self.try_restart(slot) {
            panic!("restarting the node in slot {slot}: {e}");
        }
    }

    /// Like [`Cluster::restart`], but a node that cannot start (its disk
    /// failed it) stays down and the error is returned.
    pub fn try_restart(&mut self, slot: usize) -> Result<(), RaftError> {
        if self.nodes[slot].raft.state() != RaftState::Closed {
            return Ok(());
        }
        self.nodes[slot].raft.wait_for_stop();
        let (server, group, store, wal_dir, storage) = {
            let n = &self.nodes[slot];
            (n.server, n.group.clone(), n.store.clone(), n.wal_dir.clone(), n.storage)
        };
        let raft = self.open_wal(storage, &wal_dir).and_then(|wal| self.start_node(slot, server, &group, &store, wal))?;
        // A node that shut itself down (a write error) never had its state
        // machine stopped: do it now, the restart rebuilds it from the log.
        self.nodes[slot].sm.stopped();
        self.nodes[slot].sm.restarting();
        self.nodes[slot].raft = raft;
        self.nodes[slot].next_wal_sync = self.first_wal_sync(storage);
        self.drive_sm(slot);
        Ok(())
    }

    /// Power loss on the server of `slot`: the node dies without cleanup
    /// and unsynced disk data is lost (torn if so configured).
    pub fn crash(&mut self, slot: usize) {
        let server = self.nodes[slot].server;
        if self.nodes[slot].storage == StorageType::File && self.wal_sync != SyncPolicy::Always {
            // Also when the node already shut itself down (a write failed as
            // power went): its in-memory log is what it had acknowledged.
            let last = self.nodes[slot].raft.last_log().0;
            self.lazy_sync_power_loss.insert(slot, last);
        }
        self.nodes[slot].raft.stop();
        self.nodes[slot].raft.wait_for_stop();
        self.nodes[slot].sm.stopped();
        let name = self.servers[server].name.clone();
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().power_loss(&name, &mut rng);
    }

    // Go's smLoop for one node: apply committed batches, then Applied().
    fn drive_sm(&mut self, slot: usize) {
        let n = &mut self.nodes[slot];
        loop {
            let mut any = false;
            while let Some(item) = n.raft.apply_q().pop_front() {
                any = true;
                n.sm.apply_entry(item.as_ref());
                if let Some(ce) = item {
                    n.raft.applied(ce.index);
                }
            }
            while let Some(b) = n.raft.lead_change_c() {
                any = true;
                n.sm.leader_change(b);
            }
            if !any {
                break;
            }
        }
    }

    fn run_after_tick(&mut self, slot: usize) {
        if let Some(mut f) = self.after_tick.take() {
            f(self, slot);
            self.after_tick = Some(f);
        }
    }

    fn next_event(&self) -> Option<u64> {
        let mut next = self.world.net.borrow().next_time();
        for n in self.nodes.iter().filter(|n| !n.frozen) {
            if let Some(d) = n.raft.next_deadline() {
                let at = d.0.max(n.busy_until);
                next = Some(next.map_or(at, |x| x.min(at)));
                if n.next_wal_sync != u64::MAX {
                    next = Some(next.map_or(n.next_wal_sync, |x| x.min(n.next_wal_sync)));
                }
            }
        }
        next
    }

    /// Advances to the next event time and processes everything due then.
    /// Returns false if nothing is scheduled at all.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.next_event() else { return false };
        let now = self.world.now.get().max(next);
        self.world.now.set(now);
        self.steps += 1;
        self.run_wal_sync_timers(now);
        loop {
            let popped = self.world.net.borrow_mut().pop_due(now);
            let Some((sid, owner, msg)) = popped else { break };
            match owner {
                Owner::Node(slot) => {
                    self.nodes[slot].raft.deliver(sid, &msg.subject, &msg.reply, &msg.data);
                    // The run loop usually wakes for each message as it
                    // arrives; sometimes its goroutine is scheduled late and
                    // more work piles up first.
                    if self.nodes[slot].frozen || self.nodes[slot].busy_until > now {
                        continue;
                    }
                    let (p, max) = self.sched_lag;
                    if p > 0.0 && self.world.rng.borrow_mut().chance(p) {
                        self.nodes[slot].busy_until = now + self.world.rng.borrow_mut().range(1, max);
                        continue;
                    }
                    tick_or_fail(&mut self.nodes[slot].raft, self.seed);
                    self.drive_sm(slot);
                    self.run_after_tick(slot);
                }
                Owner::Probe(p) => self.probe_receive(p, msg),
            }
        }
        for _ in 0..64 {
            let mut any = false;
            for slot in 0..self.nodes.len() {
                if self.nodes[slot].frozen || self.nodes[slot].busy_until > now {
                    continue;
                }
                let due = self.nodes[slot].raft.next_deadline().is_some_and(|d| d.0 <= now);
                if due {
                    any = true;
                    tick_or_fail(&mut self.nodes[slot].raft, self.seed);
                }
                self.drive_sm(slot);
                if due {
                    self.run_after_tick(slot);
                }
            }
            if !any {
                break;
            }
        }
        true
    }

    // The filestore's sync timer of every running file WAL that is due. A
    // failed sync is kept by the WAL and fails the node's next write.
    fn run_wal_sync_timers(&mut self, now: u64) {
        let SyncPolicy::Interval(every) = self.wal_sync else { return };
        for n in self.nodes.iter_mut() {
            if n.frozen || n.next_wal_sync > now || n.raft.state() == RaftState::Closed {
                continue;
            }
            n.next_wal_sync = now + every.as_nanos() as u64;
            let _ = n.raft.wal_mut().sync();
        }
    }

    /// Runs the simulation for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        crate::sim::drive::run_for(self, d, STEP_BUDGET);
    }

    /// Runs until `cond` holds (checked after every step) or `budget` of
    /// simulated time passes; returns whether it held.
    pub fn run_until(&mut self, budget: Duration, cond: impl FnMut(&mut Cluster) -> bool) -> bool {
        crate::sim::drive::run_until(self, budget, STEP_BUDGET, cond)
    }

    /// Port of checkFor: polls `f` every `interval` of simulated time for
    /// at most `total`; panics with the last error (and the seed) if it
    /// never succeeds.
    pub fn check_for(&mut self, total: Duration, interval: Duration, mut f: impl FnMut(&mut Cluster) -> Result<(), String>) {
        let deadline = self.world.now.get() + total.as_nanos() as u64;
        loop {
            let res = f(self);
            match res {
                Ok(()) => return,
                Err(e) if self.world.now.get() >= deadline => panic!("check_for timed out after {total:?}: {e}"),
                Err(_) => {
                    if interval.is_zero() {
                        if !self.step() {
                            self.world.now.set(deadline);
                        }
                    } else {
                        self.run_for(interval);
                    }
                }
            }
        }
    }

    /// Port of (smGroup).waitOnLeader: polls every 100ms for up to 10
    /// simulated seconds.
    pub fn wait_on_leader(&mut self, rg: &RaftGroup) -> Option<usize> {
        let expires = self.world.now.get() + Duration::from_secs(10).as_nanos() as u64;
        while self.world.now.get() < expires {
            if let Some(l) = rg.leader(self) {
                return Some(l);
            }
            self.run_for(Duration::from_millis(100));
        }
        None
    }

    /// Port of (smGroup).waitOnTotal: every running adder reaches
    /// `expected` within 5 simulated seconds.
    pub fn wait_on_total(&mut self, rg: &RaftGroup, expected: i64) {
        let members = rg.members.clone();
        self.check_for(Duration::from_secs(5), Duration::from_millis(200), |c| {
            let mut errs = Vec::new();
            for &m in &members {
                if c.nodes[m].raft.state() == RaftState::Closed {
                    continue;
                }
                let total = c.adder(m).sum;
                if total != expected {
                    errs.push(format!("Adder on {} has wrong total: {total} vs {expected}", c.servers[c.nodes[m].server].name));
                }
            }
            if errs.is_empty() {
                Ok(())
            } else {
                Err(errs.join("; "))
            }
        });
    }

    /// Port of (*stateAdder).proposeDelta (forwarded as needed).
    pub fn propose_delta(&mut self, slot: usize, delta: i64) {
        let _ = self.nodes[slot].raft.forward_proposal(&encode_delta(delta));
    }

    /// Port of (*stateAdder).snapshot: installs the adder's sum as the
    /// snapshot.
    pub fn adder_snapshot(&mut self, slot: usize) -> Result<(), crate::raft::RaftError> {
        let sum = self.adder(slot).sum;
        self.nodes[slot].raft.install_snapshot_data(&encode_delta(sum), false)
    }

    /// Port of (*RCOBStateMachine).proposeBlock
    pub fn propose_block(&mut self, slot: usize) {
        let data = self.rcob(slot).next_block();
        let _ = self.nodes[slot].raft.forward_proposal(&data);
    }

    /// Port of (*RCOBStateMachine).createSnapshot
    pub fn rcob_create_snapshot(&mut self, slot: usize) {
        let Some(data) = self.rcob(slot).snapshot_data() else { return };
        if self.nodes[slot].raft.install_snapshot_data(&data, false).is_ok() {
            self.rcob(slot).blocks_applied_since_snapshot = 0;
        }
    }

    /// Subscribes a test probe to `subject` (a client reachable from all servers).
    pub fn subscribe(&mut self, subject: &str) -> ProbeId {
        let id = self.probes.len();
        let client = self.world.net.borrow_mut().create_client(None, Owner::Probe(id));
        let sid = self.world.net.borrow_mut().subscribe(client, subject);
        self.probes.push(Probe { client, sids: sid.into_iter().collect(), msgs: VecDeque::new(), responder: None });
        id
    }

    /// Subscribes a probe whose handler may answer each message with
    /// messages to publish (Go: `nc.Subscribe` with a callback).
    pub fn subscribe_with(&mut self, subject: &str, handler: impl FnMut(&Msg) -> Vec<Msg> + 'static) -> ProbeId {
        let id = self.subscribe(subject);
        self.probes[id].responder = Some(Box::new(handler));
        id
    }

    /// Adds a subject to an existing probe.
    pub fn probe_add_subject(&mut self, probe: ProbeId, subject: &str) {
        let client = self.probes[probe].client;
        if let Some(sid) = self.world.net.borrow_mut().subscribe(client, subject) {
            self.probes[probe].sids.push(sid);
        }
    }

    /// Removes a probe's subscriptions.
    pub fn unsubscribe(&mut self, probe: ProbeId) {
        let client = self.probes[probe].client;
        self.world.net.borrow_mut().close_client(client);
        self.probes[probe].sids.clear();
    }

    fn probe_receive(&mut self, p: ProbeId, msg: Msg) {
        let out = match self.probes[p].responder.as_mut() {
            Some(h) => h(&msg),
            None => {
                self.probes[p].msgs.push_back(msg);
                return;
            }
        };
        for m in out {
            self.publish(&m.subject, &m.reply, &m.data);
        }
    }

    /// Publishes from the test client.
    pub fn publish(&mut self, subject: &str, reply: &str, data: &[u8]) {
        let now = self.world.now.get();
        let mut rng = self.world.rng.borrow_mut();
        self.world.net.borrow_mut().publish(None, subject, reply, data, now, &mut rng);
    }

    /// A fresh `_INBOX.` subject.
    pub fn new_inbox(&mut self) -> String {
        let v = self.world.rng.borrow_mut().next_u64();
        format!("_INBOX.{v:016x}")
    }

    /// Waits up to `timeout` of simulated time for the next probe message
    /// (Go: `require_ChanRead` / `sub.NextMsg`).
    pub fn next_msg(&mut self, probe: ProbeId, timeout: Duration) -> Option<Msg> {
        self.run_until(timeout, |c| !c.probes[probe].msgs.is_empty());
        self.probes[probe].msgs.pop_front()
    }

    /// Runs for `d` and reports whether the probe stayed silent (Go:
    /// `require_NoChanRead`).
    pub fn no_msg(&mut self, probe: ProbeId, d: Duration) -> bool {
        !self.run_until(d, |c| !c.probes[probe].msgs.is_empty())
    }

    /// Publishes a request and waits for the first reply (Go: `nc.Request`).
    pub fn request(&mut self, subject: &str, data: &[u8], timeout: Duration) -> Option<Msg> {
        let inbox = self.new_inbox();
        let p = self.subscribe(&inbox);
        self.publish(subject, &inbox, data);
        let m = self.next_msg(p, timeout);
        self.unsubscribe(p);
        m
    }

    /// Number of transport clients held by raft nodes: the analogue of the
    /// system account's client count.
    pub fn num_node_clients(&self) -> usize {
        self.world.net.borrow().num_node_clients()
    }

    /// Go's `n.Healthy()` on the node in `slot`: when commits wait to be
    /// applied, the forward-progress probe runs on the simulated clock, a
    /// millisecond at a time, while every node and state machine (this
    /// node's included, unless frozen) keeps running.
    pub fn healthy(&mut self, slot: usize) -> bool {
        let mut probe = match self.nodes[slot].raft.healthy() {
            HealthCheck::Done(h) => return h,
            HealthCheck::Probing(p) => p,
        };
        loop {
            self.run_for(Duration::from_millis(1));
            if let Some(h) = self.nodes[slot].raft.check_forward_progress(&mut probe) {
                return h;
            }
        }
    }

    /// Port of (*cluster).waitOnAllCurrent for the given group: every
    /// running member reports current within 10 simulated seconds.
    pub fn wait_on_all_current(&mut self, rg: &RaftGroup) {
        let members = rg.members.clone();
        self.check_for(Duration::from_secs(10), Duration::from_millis(100), |c| {
            for &m in &members {
                if c.nodes[m].raft.state() == RaftState::Closed {
                    continue;
                }
                if !c.nodes[m].raft.current() {
                    return Err(format!("node in slot {m} not current"));
                }
            }
            Ok(())
        });
    }
}

impl crate::sim::drive::Stepped for Cluster {
    fn world(&self) -> &World {
        &self.world
    }
    fn next_event(&self) -> Option<u64> {
        Cluster::next_event(self)
    }
    fn step(&mut self) -> bool {
        Cluster::step(self)
    }
}
