//! The shared simulated world: one clock, one seeded RNG, the network and
//! the disk, plus the per-node host that implements [`RaftEnv`] over them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use crate::raft::env::{ClientId, Fs, FsError, LogLevel, NodeStatus, RaftEnv, Sid, Timestamp, Transport, TransportError};
use crate::raft::StorageType;

use super::disk::SimDisk;
use super::net::{Network, Owner};
use super::rng::SimRng;

/// Clock, randomness, network and disk of one simulation run.
#[derive(Debug)]
pub struct World {
    /// Simulated time in nanoseconds.
    pub now: Cell<u64>,
    /// The single random source.
    pub rng: RefCell<SimRng>,
    /// The subject bus.
    pub net: RefCell<Network>,
    /// The disk.
    pub disk: RefCell<SimDisk>,
    /// Recent log lines (warnings and errors; debug too when verbose).
    pub log: RefCell<VecDeque<String>>,
    /// Print log lines as they happen (`NRG_SIM_LOG=1`).
    pub verbose: bool,
    /// Servers whose JetStream is over its resource limits.
    pub limits_exceeded: RefCell<BTreeSet<usize>>,
    /// The servers' registry of nodes (Go: `nodeToInfo`): node id to
    /// whether it is marked offline. The cluster registers its servers.
    pub node_registry: RefCell<BTreeMap<String, bool>>,
}

impl World {
    /// A world for `seed`.
    pub fn new(seed: u64) -> Rc<World> {
        Rc::new(World {
            now: Cell::new(0),
            rng: RefCell::new(SimRng::new(seed)),
            net: RefCell::new(Network::default()),
            disk: RefCell::new(SimDisk::default()),
            log: RefCell::new(VecDeque::new()),
            verbose: std::env::var("NRG_SIM_LOG").is_ok_and(|v| v == "1"),
            limits_exceeded: RefCell::new(BTreeSet::new()),
            node_registry: RefCell::new(BTreeMap::new()),
        })
    }

    /// Appends a log line (kept bounded).
    pub fn log_line(&self, line: String) {
        if self.verbose {
            eprintln!("[{:>12.6}s] {line}", self.now.get() as f64 / 1e9);
        }
        let mut log = self.log.borrow_mut();
        if log.len() >= 400 {
            log.pop_front();
        }
        log.push_back(format!("[{:.6}s] {line}", self.now.get() as f64 / 1e9));
    }
}

/// File system view over the simulated disk.
#[derive(Debug, Clone)]
pub struct SimFs {
    world: Rc<World>,
}

impl SimFs {
    /// A view of `world`'s disk.
    pub fn new(world: Rc<World>) -> Self {
        SimFs { world }
    }
}

impl Fs for SimFs {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().read(path, &mut rng)
    }
    fn read_at(&mut self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().read_at(path, offset, len, &mut rng)
    }
    fn write_sync(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().write_sync(path, data, &mut rng)
    }
    #[cfg(any(test, feature = "testing"))]
    fn write_unsynced(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().write_unsynced(path, data, &mut rng)
    }
    fn append(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().append(path, data, &mut rng)
    }
    fn sync(&mut self, path: &str) -> Result<(), FsError> {
        let mut rng = self.world.rng.borrow_mut();
        self.world.disk.borrow_mut().sync(path, &mut rng)
    }
    fn remove(&mut self, path: &str) -> Result<(), FsError> {
        self.world.disk.borrow_mut().remove(path)
    }
    fn remove_all(&mut self, path: &str) -> Result<(), FsError> {
        self.world.disk.borrow_mut().remove_all(path)
    }
    fn read_dir(&mut self, dir: &str) -> Result<Vec<String>, FsError> {
        self.world.disk.borrow().read_dir(dir)
    }
    fn create_dir_all(&mut self, dir: &str) -> Result<(), FsError> {
        self.world.disk.borrow_mut().create_dir_all(dir)
    }
    fn exists(&mut self, path: &str) -> bool {
        self.world.disk.borrow().exists(path)
    }
}

/// Transport of one node: publishes from its server, owns subscriptions
/// for its cluster slot.
#[derive(Debug, Clone)]
pub struct SimTransport {
    world: Rc<World>,
    server: usize,
    server_name: String,
    slot: usize,
}

impl Transport for SimTransport {
    fn create_client(&mut self) -> ClientId {
        self.world.net.borrow_mut().create_client(Some(self.server), Owner::Node(self.slot))
    }
    fn close_client(&mut self, client: ClientId) {
        self.world.net.borrow_mut().close_client(client);
    }
    fn subscribe(&mut self, client: ClientId, subject: &str) -> Result<Sid, TransportError> {
        self.world.net.borrow_mut().subscribe(client, subject).ok_or(TransportError::NoClient)
    }
    fn unsubscribe(&mut self, sid: Sid) {
        self.world.net.borrow_mut().unsubscribe(sid);
    }
    fn publish(&mut self, subject: &str, reply: &str, data: &[u8]) {
        // A server whose power failed in the middle of a write is gone: the
        // process does not get to send anything after it.
        if self.world.disk.borrow().is_dead(&self.server_name) {
            return;
        }
        let now = self.world.now.get();
        let mut rng = self.world.rng.borrow_mut();
        self.world.net.borrow_mut().publish(Some(self.server), subject, reply, data, now, &mut rng);
    }
}

/// The environment of one simulated raft node.
#[derive(Debug)]
pub struct SimHost {
    world: Rc<World>,
    transport: SimTransport,
    fs: SimFs,
    name: String,
}

impl SimHost {
    /// Host for the node in cluster `slot`, running on `server`.
    pub fn new(world: Rc<World>, server: usize, slot: usize, name: &str) -> Self {
        SimHost {
            transport: SimTransport { world: world.clone(), server, server_name: name.to_string(), slot },
            fs: SimFs::new(world.clone()),
            world,
            name: name.to_string(),
        }
    }
}

impl RaftEnv for SimHost {
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
    fn jetstream_limits_exceeded(&mut self, _storage: StorageType) -> bool {
        self.world.limits_exceeded.borrow().contains(&self.transport.server)
    }
    fn node_status(&mut self, id: &str) -> NodeStatus {
        match self.world.node_registry.borrow().get(id) {
            None => NodeStatus::Unknown,
            Some(true) => NodeStatus::Offline,
            Some(false) => NodeStatus::Online,
        }
    }
}
