//! Helpers for the part-2 ports (raft_test.go tests 57–112): the peer ids
//! the Go tests hard-code, `encode` and the sample stream message,
//! `initSingleMemRaftNode`, and stand-alone nodes on a file WAL for the
//! tests that build their own filestore and restart on it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ported::raft::internals::Internals;
use ported::raft::node::bootstrap_raft_node;
use ported::raft::{AppendEntry, Entry, EntryType, FileWal, Raft, RaftConfig, StorageType, Wal, WalError, WalState};
use ported::sim::world::{SimFs, SimHost};
use ported::sim::{Cluster, NodeSlot, RaftGroup, StateAdder, GLOBAL_ACCOUNT};

use crate::helpers::cluster;

/// Go's `nats0`: node id of a server named "nats-0".
pub const NATS0: &str = "S1Nunr6R";
/// Go's `nats1`.
pub const NATS1: &str = "yrzKKRBu";
/// Go's `nats2`.
pub const NATS2: &str = "cnrtt3eg";

/// The entry the Go tests store: `encodeStreamMsgAllowCompress("foo",
/// "_INBOX.foo", nil, nil, 0, 0, true)`. Its contents never matter, its
/// 41-byte length does (TestNRGSizeAndApplied counts bytes).
pub fn sample_entries() -> Vec<Entry> {
    let mut b = vec![4u8]; // streamMsgOp
    b.extend_from_slice(&0u64.to_le_bytes()); // lseq
    b.extend_from_slice(&0u64.to_le_bytes()); // ts
    for part in [&b"foo"[..], &b"_INBOX.foo"[..], &b""[..]] {
        b.extend_from_slice(&(part.len() as u16).to_le_bytes());
        b.extend_from_slice(part);
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // message length
    b.push(1); // flags: from source or mirror
    vec![Entry::new(EntryType::Normal, b)]
}

/// An append entry literal (Go: `&appendEntry{leader, term, commit, pterm,
/// pindex, entries}`); set `lterm` and `reply` with struct update syntax.
pub fn ae(leader: &str, term: u64, commit: u64, pterm: u64, pindex: u64, entries: Vec<Entry>) -> AppendEntry {
    AppendEntry::new(leader, term, commit, pterm, pindex, entries)
}

/// Port of the test helper `encode`: fills in `buf`.
pub fn encode(mut ae: AppendEntry) -> AppendEntry {
    ae.buf = match ae.encode() {
        Ok(b) => b,
        Err(e) => panic!("encoding append entry: {e}"),
    };
    ae
}

/// Port of initSingleMemRaftNode: a three-server cluster and one
/// initialised memory node on its first server. Go never starts that
/// node's run goroutine, so the node is frozen: its subscriptions still
/// queue what arrives, but no loop processes it.
pub fn single_node(test: &str) -> (Cluster, usize) {
    let mut c = cluster(test, "R3S", 3);
    let n = c.init_single_mem_raft_node();
    c.freeze(&[n]);
    (c, n)
}

/// The node's fields and unexported methods, as the Go tests reach them.
pub fn ix(c: &mut Cluster, n: usize) -> Internals<'_> {
    c.node(n).internals()
}

/// Waits for a leader or fails the test.
pub fn leader_of(c: &mut Cluster, rg: &RaftGroup) -> usize {
    match c.wait_on_leader(rg) {
        Some(l) => l,
        None => panic!("no leader elected for {}", rg.name),
    }
}

/// One try of Go's `nc.Request` inside `checkFor`: with nobody subscribed
/// NATS fails at once ("no responders"), an error worth retrying; a reply
/// and a timeout both end the wait, so neither is an error.
pub fn request_if_subscribed(c: &mut Cluster, subject: &str, data: &[u8], timeout: Duration) -> Result<(), String> {
    if !c.world.net.borrow().has_subscriber(subject) {
        return Err(format!("no responders on {subject}"));
    }
    let _reply_or_timeout = c.request(subject, data, timeout);
    Ok(())
}

/// Opens a file WAL in `dir` on the simulated disk (Go: `newFileStore`).
pub fn file_wal(c: &Cluster, dir: &str) -> FileWal {
    match FileWal::open(Box::new(SimFs::new(c.world.clone())), dir, true) {
        Ok(w) => w,
        Err(e) => panic!("opening file WAL {dir}: {e}"),
    }
}

/// Go: `s.bootstrapRaftNode(cfg, peers, allPeersKnown)` on the first server.
pub fn bootstrap(c: &Cluster, store: &str, peers: &[String], all_peers_known: bool) {
    let mut fs = SimFs::new(c.world.clone());
    if let Err(e) = bootstrap_raft_node(&mut fs, store, peers, all_peers_known) {
        panic!("bootstrap: {e}");
    }
}

/// Go: `s.initRaftNode(globalAccountName, cfg)` on the first server; the
/// node lives in cluster slot `slot` (frozen: no run goroutine). A new
/// slot is added when `slot` is `None`; otherwise the stopped node there is
/// replaced, like the Go tests reassigning `n` after a restart.
pub fn init_file_node(c: &mut Cluster, slot: Option<usize>, store: &str, wal: Box<dyn Wal>) -> usize {
    let slot = slot.unwrap_or(c.nodes.len());
    let host = SimHost::new(c.world.clone(), 0, slot, &c.servers[0].name);
    let cfg = RaftConfig::new("TEST", store, wal);
    let id = c.servers[0].id.clone();
    let raft = match Raft::init(Box::new(host), &id, GLOBAL_ACCOUNT, cfg, c.timings) {
        Ok(n) => n,
        Err(e) => panic!("init raft node: {e}"),
    };
    if slot < c.nodes.len() {
        c.nodes[slot].raft = raft;
        return slot;
    }
    c.nodes.push(NodeSlot {
        server: 0,
        group: "TEST".into(),
        store: store.to_string(),
        wal_dir: String::new(),
        storage: StorageType::File,
        raft,
        sm: Box::new(StateAdder::default()),
        bugs: Default::default(),
        frozen: true,
        busy_until: 0,
        next_wal_sync: u64::MAX,
    });
    slot
}

/// Go: `n.Stop(); n.WaitForStop()` (which also stops the WAL).
pub fn stop_node(c: &mut Cluster, slot: usize) {
    c.node(slot).stop();
    c.node(slot).wait_for_stop();
}

/// A file WAL the test keeps a handle on while the node owns it, so it
/// can call filestore-only methods (Go: `n.wal.RemoveMsg`).
pub struct SharedWal(pub Rc<RefCell<FileWal>>);

impl Wal for SharedWal {
    fn storage_type(&self) -> StorageType {
        self.0.borrow().storage_type()
    }
    fn store_msg(&mut self, msg: &[u8]) -> Result<u64, WalError> {
        self.0.borrow_mut().store_msg(msg)
    }
    fn load_msg(&self, seq: u64) -> Result<Vec<u8>, WalError> {
        self.0.borrow().load_msg(seq)
    }
    fn compact(&mut self, seq: u64) -> Result<u64, WalError> {
        self.0.borrow_mut().compact(seq)
    }
    fn truncate(&mut self, seq: u64) -> Result<(), WalError> {
        self.0.borrow_mut().truncate(seq)
    }
    fn state(&self) -> WalState {
        self.0.borrow().state()
    }
    fn sync(&mut self) -> Result<(), WalError> {
        self.0.borrow_mut().sync()
    }
    fn stop(&mut self) {
        self.0.borrow_mut().stop()
    }
    fn delete(&mut self) -> Result<(), WalError> {
        self.0.borrow_mut().delete()
    }
}

/// (msgs, first, last, deleted) of a WAL state, for compact assertions.
pub fn wal_summary(st: WalState) -> (u64, u64, u64, u64) {
    (st.msgs, st.first_seq, st.last_seq, st.num_deleted)
}
