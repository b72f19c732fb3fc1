//! Helpers for the part-1 ports (raft_test.go tests 1–56): the fixed peer
//! ids the Go tests use, the `encode` helper, a single memory node on its
//! own (`initSingleMemRaftNode`), and group helpers shared by several files.

use ported::raft::{AppendEntry, Entry, EntryType, Fs};
use ported::sim::{Cluster, RaftGroup, World};
use std::rc::Rc;

use crate::helpers::cluster;

/// Go's `nats0`: the node id of a server named "nats-0".
pub const NATS0: &str = "S1Nunr6R";
/// Go's `nats1`: the node id of a server named "nats-1".
pub const NATS1: &str = "yrzKKRBu";
/// Go's `nats2`: the node id of a server named "nats-2".
pub const NATS2: &str = "cnrtt3eg";

/// The single normal entry the Go tests store. Go fills it with an encoded
/// stream message (subject "foo", reply "_INBOX.foo"); the tests only need
/// some payload to be stored, never its contents.
pub fn sample_entries() -> Vec<Entry> {
    vec![Entry::new(EntryType::Normal, b"foo _INBOX.foo".to_vec())]
}

/// Port of the test helper `encode`: an append entry with its encoding in `buf`.
pub fn encode(leader: &str, term: u64, commit: u64, pterm: u64, pindex: u64, entries: Vec<Entry>) -> AppendEntry {
    match AppendEntry::new(leader, term, commit, pterm, pindex, entries).encoded() {
        Ok(ae) => ae,
        Err(e) => panic!("encoding append entry: {e}"),
    }
}

/// Port of initSingleMemRaftNode: a cluster of three servers and one
/// initialised (not running) memory node on the first, in slot `n`.
pub fn single_node(test: &str) -> (Cluster, usize) {
    let mut c = cluster(test, "R3S", 3);
    let n = c.init_single_mem_raft_node();
    (c, n)
}

/// Entries of a directory on the simulated disk (Go: `os.ReadDir`).
pub fn read_dir(world: &Rc<World>, dir: &str) -> Vec<String> {
    let mut fs = ported::sim::world::SimFs::new(world.clone());
    match fs.read_dir(dir) {
        Ok(names) => names,
        Err(e) => panic!("reading {dir}: {e}"),
    }
}

/// Waits for a leader or fails the test (Go: `rg.waitOnLeader()` followed
/// by using the leader).
pub fn leader_of(c: &mut Cluster, rg: &RaftGroup) -> usize {
    match c.wait_on_leader(rg) {
        Some(l) => l,
        None => panic!("no leader elected for {}", rg.name),
    }
}
