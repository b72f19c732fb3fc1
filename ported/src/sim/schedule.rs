//! Random fault schedules over a chain-of-blocks group of three or five
//! nodes: the simulation behind the invariant tests. One seed fixes the
//! group's storage (file or memory WALs) and sync policy, the network's
//! fault rates and the disk's error rates, then a stream of uniformly
//! random events: proposals, snapshots, isolation, partitions, stalled
//! links, process crashes, power loss (of one server, in the middle of a
//! write, or of a majority at once), pauses, step-downs, peers removed
//! (the leader too) and added, observers, exhausted resources. In most
//! five-node runs one composite shape from [`super::shapes`] also plays.
//! The checker of [`super::invariants`] runs after every node turn; after
//! the faults the group is healed and must elect a leader and converge
//! within bounded simulated time. A failing seed replays exactly.
//!
//! The full model includes the faults Go's raft does not survive:
//! duplicated and reordered messages (append entries and catch-up streams
//! included), power loss under lazy sync (Go's default), read errors on the
//! WAL, write and read errors on the term/vote and peer files, and
//! membership changes in memory-WAL groups. A violation they cause is put
//! down to a recorded upstream finding only when the run's trace shows that
//! finding's mechanism (see the finding constants below and
//! `tests/nrg/findings.rs`); any other violation fails the run.
//! [`FaultModel`] turns each off.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[cfg(any(test, feature = "testing"))]
use crate::raft::PlantedBugs;
use crate::raft::{RaftState, StorageType};

use super::cluster::{Cluster, RaftGroup, SmKind, SyncPolicy};
use super::invariants::{Invariants, SkippedIndex};
use super::net::APPEND_ENTRY_SUBJECTS;
use super::shapes::{stale_acks_across_elections, stale_vote_across_split, ShapeOutcome};

/// Prefix of a failure that is about progress, not safety.
pub const LIVENESS: &str = "liveness: ";

/// Upstream finding (Jepsen, NATS 2.12.1; `tests/nrg/findings.rs`): under
/// Go's lazy sync policy an append is acknowledged once written, not
/// synced (processAppendEntry answers after storeToWAL; the filestore
/// syncs on its `sync_interval` timer), so a majority losing power before
/// the timer fires loses committed entries.
pub const LAZY_SYNC_POWER_LOSS: &str = "lazy-sync-power-loss";

/// A liveness failure after healing in a run where a node lost committed
/// entries to [`LAZY_SYNC_POWER_LOSS`]: counted apart from the safety
/// violations that finding explains.
pub const LAZY_SYNC_POWER_LOSS_LIVENESS: &str = "lazy-sync-power-loss/liveness";

/// A liveness failure after healing in a run where a node's log was cut
/// by [`WAL_READ_ERROR_RESET`]'s mechanism: counted apart.
pub const WAL_READ_ERROR_RESET_LIVENESS: &str = "wal-read-error-reset/liveness";

/// Upstream finding (`tests/nrg/findings.rs`): a read error on a committed
/// WAL entry makes the node reset or truncate its WAL: at apply time
/// (applyCommit, raft.go 3436-3448, dropping entries below its commit
/// index) or when the entry at an append's pindex cannot be loaded
/// (processAppendEntry: raft.go 4140 `eae, _ := n.loadEntry(ae.pindex)`
/// drops the error, so an unreadable entry looks absent; 4162 then resets
/// the WAL, dropping entries it acknowledged, and 4146-4150, when the
/// unreadable entry is its last, truncate to its own pindex and adopt the
/// leader's pterm, keeping an entry of another term), or as it replays its
/// WAL at a restart. The checker attributes lost commits to it only when a
/// node's log shrank, or its last entry changed term in place, in a turn
/// with a WAL read error on its server.
pub const WAL_READ_ERROR_RESET: &str = "wal-read-error-reset";

/// Upstream finding (`tests/nrg/findings.rs`): a duplicated or late append
/// entry makes a follower drop entries it already acknowledged.
/// processAppendEntry's `ae.pindex <= n.pindex` arm truncates the WAL to
/// the entry's pindex when the terms there match (raft.go 4166-4172), or
/// resets it when the entry at pindex cannot be loaded (4163); the leader
/// has counted the dropped entries towards commit. Go relies on routes
/// delivering each append entry once and in order. The checker attributes
/// lost commits to it only when a node's log shrank, or its last entry
/// changed term in place, or it acknowledged an index its log no longer
/// holds (a store and a reset in one turn), in a turn in which a
/// duplicated or late append entry was delivered to it
/// (`Network::stale_append_entries`).
pub const STALE_APPEND_ENTRY: &str = "stale-append-entry";

/// Upstream finding (`tests/nrg/findings.rs`): a redelivered catch-up
/// snapshot passes processAppendEntry's consistency check once the first
/// copy is installed and goes to storeToWAL as a log entry (raft.go
/// 4279-4292), where the leader's real next entry belongs. Attributed when
/// a node's log holds a snapshot entry stored in a turn in which a
/// duplicated or late append entry reached it.
pub const REDELIVERED_SNAPSHOT: &str = "redelivered-catchup-snapshot";

/// Upstream finding (`tests/nrg/findings.rs`): a failed term/vote write
/// shuts the node down, but processVoteRequest has already granted the
/// vote and sends it (raft.go 4968-4984: writeTermVote, then sendReply);
/// restarted, the node has forgotten it and can vote again in that term
/// (initRaftNode also ignores a failed read of the file). Attributed to a
/// double vote by a node that restarted after a state-file error on its
/// server, or to two leaders of a term when such a restart happened.
pub const TERM_VOTE_FILE_ERROR: &str = "term-vote-file-error";

/// Upstream finding (`tests/nrg/findings.rs`): a memory-WAL group keeps its
/// term/vote and peer files on disk (createRaftGroup gives it a memory
/// store for the WAL only, jetstream_cluster.go 2778); a write error on
/// them shuts the node down (setWriteErrLocked, raft.go 4787-4811), and it
/// comes back with an empty log, whose vote any candidate gets
/// (processVoteRequest's up-to-date check, raft.go 4966-4967), so a few
/// such restarts elect a leader without committed entries. The planned
/// stops of the schedule wait until the others hold the whole log; this
/// stop is unplanned. Attributed when a memory-WAL node restarted after a
/// state-file error on its server.
pub const MEMORY_WAL_RESTART: &str = "memory-wal-restart-after-disk-error";

/// Upstream finding (`tests/nrg/findings.rs`): a catch-up request that
/// reaches the leader after the requester's removal committed puts the
/// removed replica back in the group. trackPeer refuses to re-add a peer
/// on the removed list (raft.go 3639-3651), but catchupFollower still runs
/// the catch-up and runCatchup's deferred clean-up proposes every peer
/// missing from `n.peers` (3211-3223). The group then counts a replica
/// whose server dropped it, so it needs one member more than it has for a
/// quorum, and a memory-WAL member restarted empty has a vote that counts
/// only when every member answers (runAsCandidate 3711-3726): no candidate
/// can win. Only a liveness failure can follow; attributed when, at the
/// failure, the live members' configuration holds a replica the schedule
/// let go whose re-addition a leader proposed this way.
pub const REMOVED_PEER_READDED_LIVENESS: &str = "removed-peer-readded/liveness";

/// A liveness failure after healing in a run with [`MEMORY_WAL_RESTART`]'s mechanism.
pub const MEMORY_WAL_RESTART_LIVENESS: &str = "memory-wal-restart-after-disk-error/liveness";
/// A liveness failure after healing in a run with [`STALE_APPEND_ENTRY`]'s mechanism.
pub const STALE_APPEND_ENTRY_LIVENESS: &str = "stale-append-entry/liveness";
/// A liveness failure after healing in a run with [`REDELIVERED_SNAPSHOT`]'s mechanism.
pub const REDELIVERED_SNAPSHOT_LIVENESS: &str = "redelivered-catchup-snapshot/liveness";
/// A liveness failure after healing in a run with [`TERM_VOTE_FILE_ERROR`]'s mechanism.
pub const TERM_VOTE_FILE_ERROR_LIVENESS: &str = "term-vote-file-error/liveness";

/// What losing committed (acknowledged) entries looks like to the checker.
pub const LOST_COMMITS: &[&str] = &["held by only", "committed with term", "committed with different contents", "lacks committed index", "elsewhere", "lost commits", "would lose commits", "commit index went back"];

/// A violation the run ended with that a recorded upstream finding explains,
/// because the run's trace shows that finding's mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The finding (e.g. [`LAZY_SYNC_POWER_LOSS`]).
    pub finding: &'static str,
    /// The violation the checker reported.
    pub violation: String,
    /// The mechanism seen in the trace.
    pub evidence: String,
}

/// After healing, a leader must be elected within this much simulated time.
pub const LEADER_AFTER_HEAL: Duration = Duration::from_secs(30);
/// After healing, the replicas must converge within this much simulated time.
pub const CONVERGE_AFTER_HEAL: Duration = Duration::from_secs(60);

/// Which faults a schedule may draw. [`FaultModel::default`] is the full
/// model the invariant tests run with 0 unexplained violations; the
/// switches take faults out (or, for additions, put harsher ones in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultModel {
    /// Play a composite fault shape in most five-node runs.
    pub shapes: bool,
    /// Let duplication and reordering reach append entries and catch-up
    /// streams too (on by default: lost commits are attributed to
    /// `STALE_APPEND_ENTRY` or `REDELIVERED_SNAPSHOT` by their mechanism).
    pub append_entry_faults: bool,
    /// Force this sync policy for file WALs (default: drawn per seed,
    /// sync_always or an interval; power loss under either, see below).
    pub sync: Option<SyncPolicy>,
    /// Allow power loss whatever the sync policy (on by default: lost
    /// commits it causes are attributed to `LAZY_SYNC_POWER_LOSS` when the
    /// trace shows a node losing a committed entry to it).
    pub power_loss_under_lazy_sync: bool,
    /// Weight of the "a majority loses power at once" event.
    pub correlated_power_loss: u64,
    /// Force the WAL kind (default: drawn per seed, a quarter memory).
    pub storage: Option<StorageType>,
    /// Inject read errors into WAL loads (on by default: lost commits are
    /// attributed to `WAL_READ_ERROR_RESET` when a node's log shrank in a
    /// turn with a read error on its server).
    pub wal_read_errors: bool,
    /// Inject write and read errors into the term/vote and peer files (on
    /// by default: attributed to `TERM_VOTE_FILE_ERROR` or
    /// `MEMORY_WAL_RESTART` by their mechanism).
    pub state_file_errors: bool,
    /// Change membership in memory-WAL groups too (on by default). A replica that restarts
    /// empty with a stale peer state can then win an election with the
    /// vote of a brand-new replica (an empty log counts while a node is
    /// initializing) and erase committed entries.
    pub memory_membership_changes: bool,
    /// Add replicas whatever the group's state, able to campaign at once.
    /// By default a replica joins only a healed group whose members are all
    /// up and in sync, as an operator scales a stream up; it stays an
    /// observer until it has applied its own addition, and the network stays
    /// quiet (no drops, duplicates or reordering) until it has. Go's raft
    /// does not survive an election while a new replica is catching up: a
    /// candidate counts votes from any peer, members or not, and a new
    /// replica grants any candidate (its log is empty) with a vote that
    /// counts as full while it is initializing, so a lagging member plus the
    /// new replica outvote a committed entry; and the new replica itself,
    /// applying old peer-state entries as it catches up, adopts the older,
    /// smaller peer set and can win with one lagging member's vote.
    pub unguarded_additions: bool,
    /// Keep crashing and restarting nodes (and failing their disks, which
    /// shuts them down) after a replica was added. By default a seed stops
    /// doing so once it added one: a node that restarts replays its WAL only
    /// up to the commit index its stored entries carry, so it can re-apply
    /// an older peer-state entry and miss the committed addition, and two
    /// such nodes form a majority of the old, smaller group.
    pub additions_with_restarts: bool,
}

impl Default for FaultModel {
    fn default() -> Self {
        FaultModel {
            shapes: true,
            append_entry_faults: true,
            sync: None,
            power_loss_under_lazy_sync: true,
            correlated_power_loss: 1,
            storage: None,
            wal_read_errors: true,
            state_file_errors: true,
            memory_membership_changes: true,
            unguarded_additions: false,
            additions_with_restarts: false,
        }
    }
}

/// Shape of one simulated run.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleConfig {
    /// Group size (3 or 5).
    pub nodes: usize,
    /// Simulated time under faults.
    pub duration: Duration,
    /// Which faults may be drawn.
    pub faults: FaultModel,
    /// Bugs planted in every node (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub bugs: PlantedBugs,
}

impl ScheduleConfig {
    /// The full fault model over `nodes` nodes for `duration`.
    pub fn new(nodes: usize, duration: Duration) -> Self {
        ScheduleConfig {
            nodes,
            duration,
            faults: FaultModel::default(),
            #[cfg(any(test, feature = "testing"))]
            bugs: PlantedBugs::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Fault and workload events applied.
    pub events: u64,
    /// Highest block count reached by a replica.
    pub blocks: u64,
    /// Invariant checks performed.
    pub checks: u64,
    /// Outcome of the composite fault shape, when the run used one.
    pub shape: Option<ShapeOutcome>,
    /// Storage of the group's WALs.
    pub storage: Option<StorageType>,
    /// Sync policy of the group's file WALs.
    pub sync: Option<SyncPolicy>,
    /// Power losses (single servers and majorities).
    pub power_losses: u64,
    /// Disk errors injected.
    pub disk_errors: u64,
    /// Write errors the nodes saw (upstream's write-error assertion).
    pub write_errors_seen: u64,
    /// Peers removed (the leader among them).
    pub removals: u64,
    /// Removal requests whose target was the leader at the time.
    pub leader_removal_requests: u64,
    /// Peers added.
    pub additions: u64,
    /// Committed indexes the checker could not load.
    pub skipped: Vec<SkippedIndex>,
    /// The run ended in a violation a recorded upstream finding explains
    /// (any other violation is an `Err` of [`run_schedule`]).
    pub explained: Option<Explained>,
}

// The sim's view of one member: paused until, removed from the group.
#[derive(Debug, Clone, Copy, Default)]
struct MemberState {
    paused_until: Option<u64>,
    removed: bool,
    // An added replica held as an observer until its addition is applied.
    learner: bool,
}

struct Run {
    c: Cluster,
    rg: RaftGroup,
    inv: Rc<RefCell<Invariants>>,
    members: Vec<MemberState>,
    storage: StorageType,
    power_loss_ok: bool,
    max_members: usize,
    stats: RunStats,
    // The drawn configuration, for failure messages.
    setting: String,
    // Whether nodes may still go down (see FaultModel::additions_with_restarts).
    restarts_ok: bool,
    additions_with_restarts: bool,
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    StaleAcks,
    StaleVote,
}

/// Runs one seed; `Err` carries the first invariant violation.
pub fn run_schedule(seed: u64, cfg: ScheduleConfig) -> Result<RunStats, String> {
    let faults = cfg.faults;
    let mut c = Cluster::new("SIM", cfg.nodes, seed);
    #[cfg(any(test, feature = "testing"))]
    {
        c.bugs = cfg.bugs;
    }
    // The groups JetStream makes: resource limits tracked, restarts recover.
    c.track = true;
    c.restart_recovering = true;
    let mut disk_faults = super::disk::DiskFaults::default();
    let (storage, sync) = {
        let mut rng = c.world.rng.borrow_mut();
        // Tight, overlapping election windows make split votes and
        // competing candidates common.
        let min_et = rng.range(100, 1500);
        c.timings.min_election_timeout = Duration::from_millis(min_et);
        c.timings.max_election_timeout = Duration::from_millis(min_et + rng.range(20, 2000));
        c.timings.hb_interval = Duration::from_millis(rng.range(20, 100));
        c.timings.lost_quorum_check = 4 * c.timings.hb_interval;
        let storage = faults.storage.unwrap_or(if rng.chance(0.25) { StorageType::Memory } else { StorageType::File });
        let sync = faults.sync.unwrap_or_else(|| match rng.below(4) {
            0 | 1 => SyncPolicy::Always,
            2 => SyncPolicy::GO_DEFAULT,
            _ => SyncPolicy::Interval(Duration::from_millis(rng.range(20, 2000))),
        });
        let mut net = c.world.net.borrow_mut();
        net.cfg.drop = if rng.chance(0.5) { 0.0 } else { rng.below(5) as f64 / 100.0 };
        net.cfg.dup = if rng.chance(0.3) { 0.0 } else { rng.range(1, 30) as f64 / 1000.0 };
        net.cfg.reorder = if rng.chance(0.3) { 0.0 } else { rng.range(1, 30) as f64 / 1000.0 };
        if !faults.append_entry_faults {
            net.cfg.in_order = APPEND_ENTRY_SUBJECTS.iter().map(|s| s.to_string()).collect();
        }
        net.cfg.max_delay = rng.range(1, 20) * 1_000_000;
        net.cfg.long_delay = if rng.chance(0.5) { 0.0 } else { 0.02 };
        net.cfg.long_delay_max = rng.range(100, 3000) * 1_000_000;
        drop(net);
        // Drawn now, applied once the group exists (its creation must work).
        let disk = &mut disk_faults;
        if rng.chance(0.5) {
            disk.wal_write_error = rng.range(1, 10) as f64 / 1000.0;
            disk.wal_sync_error = rng.range(1, 10) as f64 / 1000.0;
        }
        if faults.wal_read_errors {
            disk.wal_read_error = rng.range(1, 10) as f64 / 1000.0;
        }
        if faults.state_file_errors {
            disk.state_write_error = rng.range(1, 10) as f64 / 1000.0;
            disk.state_read_error = rng.range(1, 10) as f64 / 1000.0;
        }
        disk.torn_writes = rng.chance(0.7);
        (storage, sync)
    };
    c.wal_sync = sync;
    // Most five-node runs also play one composite fault shape (see
    // `shapes`), once, at a random point of the schedule. Both shapes need
    // five nodes, so three-node runs skip this draw.
    let mut shape_at = None;
    if cfg.nodes >= 5 && faults.shapes {
        let mut rng = c.world.rng.borrow_mut();
        let roll = rng.below(100);
        let at = Duration::from_millis(rng.range(200, 3000)).as_nanos() as u64;
        shape_at = match roll {
            0..=39 => Some((at, Shape::StaleAcks)),
            40..=69 => Some((at, Shape::StaleVote)),
            _ => None,
        };
    }
    let rg = c.create_raft_group_ex("SIM", cfg.nodes, SmKind::ChainOfBlocks, storage);
    c.world.disk.borrow_mut().faults = disk_faults;
    for &m in &rg.members {
        c.rcob(m).max_block_size = 64;
    }
    let inv = Rc::new(RefCell::new(Invariants::default()));
    let hook = inv.clone();
    c.after_tick = Some(Box::new(move |c: &mut Cluster, slot| hook.borrow_mut().check(c, slot)));

    let setting = {
        let net = c.world.net.borrow();
        let disk = c.world.disk.borrow();
        format!(
            "{} nodes, {storage:?} WAL, {sync:?}, drop {} dup {} reorder {}, disk errors w{} s{} r{}, state-file errors w{} r{}, torn {}",
            cfg.nodes,
            net.cfg.drop,
            net.cfg.dup,
            net.cfg.reorder,
            disk.faults.wal_write_error,
            disk.faults.wal_sync_error,
            disk.faults.wal_read_error,
            disk.faults.state_write_error,
            disk.faults.state_read_error,
            disk.faults.torn_writes
        )
    };
    let mut run = Run {
        members: vec![MemberState::default(); rg.members.len()],
        rg,
        c,
        inv,
        storage,
        // A memory WAL has nothing on disk to lose; a file WAL survives
        // power loss only if every append was synced.
        power_loss_ok: storage == StorageType::File && (sync == SyncPolicy::Always || faults.power_loss_under_lazy_sync),
        max_members: cfg.nodes + 2,
        stats: RunStats { storage: Some(storage), sync: (storage == StorageType::File).then_some(sync), ..RunStats::default() },
        setting,
        restarts_ok: true,
        additions_with_restarts: faults.additions_with_restarts,
    };

    let end = run.c.world.now.get() + cfg.duration.as_nanos() as u64;
    while run.c.world.now.get() < end {
        let wait = run.c.world.rng.borrow_mut().range(10, 250);
        run.c.run_for(Duration::from_millis(wait));
        if run.violated() {
            break;
        }
        run.housekeeping();
        run.stats.events += 1;
        if let Some((_, shape)) = shape_at.filter(|(t, _)| run.c.world.now.get() >= *t && run.restarts_ok) {
            shape_at = None;
            let rg = run.current_group();
            run.unpause_all();
            run.stats.shape = Some(match shape {
                Shape::StaleAcks => stale_acks_across_elections(&mut run.c, &rg, &run.inv),
                Shape::StaleVote => stale_vote_across_split(&mut run.c, &rg, &run.inv),
            });
            if run.violated() {
                break;
            }
            continue;
        }
        run.random_event(faults);
    }
    run.heal_and_settle()
}

impl Run {
    fn violated(&self) -> bool {
        self.inv.borrow().violation.is_some()
    }

    fn server_name(&self, slot: usize) -> String {
        self.c.servers[self.c.nodes[slot].server].name.clone()
    }

    fn running(&self, slot: usize) -> bool {
        self.c.nodes[slot].raft.state() != RaftState::Closed
    }

    // Members not removed from the group, as a group.
    fn current_group(&self) -> RaftGroup {
        let members = self.rg.members.iter().zip(&self.members).filter(|(_, st)| !st.removed).map(|(m, _)| *m).collect();
        RaftGroup { name: self.rg.name.clone(), members }
    }

    fn live_members(&self) -> Vec<usize> {
        self.current_group().members
    }

    fn index_of(&self, slot: usize) -> Option<usize> {
        self.rg.members.iter().position(|&m| m == slot)
    }

    fn pick(&self, from: &[usize]) -> usize {
        from[self.c.world.rng.borrow_mut().index(from.len())]
    }

    fn leader(&self) -> Option<usize> {
        self.current_group().leader(&self.c)
    }

    // Every turn: a server that lost power mid-write gets its power loss,
    // pauses run out, and replicas whose removal committed are let go (the
    // meta layer tells their servers to drop them).
    fn housekeeping(&mut self) {
        let now = self.c.world.now.get();
        for i in 0..self.rg.members.len() {
            let slot = self.rg.members[i];
            if self.c.world.disk.borrow().is_dead(&self.server_name(slot)) {
                self.power_loss(slot);
            }
            if self.members[i].paused_until.is_some_and(|t| t <= now) {
                self.members[i].paused_until = None;
                self.c.unfreeze(&[slot]);
            }
            if self.members[i].learner && self.running(slot) {
                let id = self.c.nodes[slot].raft.id().to_string();
                let added = self.c.rcob_ref(slot).membership.iter().any(|(t, p)| *t == crate::raft::EntryType::AddPeer && *p == id);
                if added {
                    self.members[i].learner = false;
                    self.c.node(slot).set_observer(false);
                }
            }
        }
        let removed: Vec<String> = self
            .live_members()
            .iter()
            .filter_map(|&m| self.c.nodes[m].sm.as_any().downcast_ref::<super::ChainOfBlocks>())
            .flat_map(|sm| sm.membership.iter().filter(|(t, _)| *t == crate::raft::EntryType::RemovePeer).map(|(_, p)| p.clone()))
            .collect();
        for i in 0..self.rg.members.len() {
            let slot = self.rg.members[i];
            if !self.members[i].removed && removed.iter().any(|p| p == self.c.nodes[slot].raft.id()) {
                self.members[i] = MemberState { paused_until: None, removed: true, learner: false };
                self.c.unfreeze(&[slot]);
                if self.running(slot) {
                    self.c.stop(slot);
                }
                self.stats.removals += 1;
            }
        }
    }

    fn power_loss(&mut self, slot: usize) {
        self.unpause(slot);
        self.c.crash(slot);
        self.stats.power_losses += 1;
    }

    fn unpause(&mut self, slot: usize) {
        if let Some(i) = self.index_of(slot) {
            self.members[i].paused_until = None;
        }
        self.c.unfreeze(&[slot]);
    }

    fn unpause_all(&mut self) {
        for slot in self.rg.members.clone() {
            self.unpause(slot);
        }
    }

    // A memory WAL restarts empty, so a member may only go down while every
    // other member is up and holds the leader's whole log: the group never
    // loses what a majority of memories held.
    fn may_go_down(&self, slot: usize) -> bool {
        if self.storage == StorageType::File {
            return true;
        }
        let Some(l) = self.leader() else { return false };
        let last = self.c.nodes[l].raft.last_log();
        self.live_members().iter().filter(|&&m| m != slot).all(|&m| self.running(m) && self.c.nodes[m].raft.last_log() == last)
    }

    fn random_event(&mut self, faults: FaultModel) {
        let live = self.live_members();
        let n_servers = self.c.servers.len();
        let pick = self.pick(&live);
        let running = self.running(pick);
        let roll = self.c.world.rng.borrow_mut().below(100 + faults.correlated_power_loss);
        match roll {
            0..=29 => {
                if running {
                    for _ in 0..3 {
                        self.c.propose_block(pick);
                    }
                }
            }
            30..=37 => {
                if let Some(l) = self.leader() {
                    self.c.propose_block(l);
                    // Now and then the leader is cut off right after it
                    // appended, leaving the entry on itself and maybe a few
                    // followers: leader churn with partially replicated
                    // entries from earlier terms (Raft's "Figure 8").
                    if self.c.world.rng.borrow_mut().chance(0.3) {
                        let d = Duration::from_millis(self.c.world.rng.borrow_mut().range(0, 5));
                        self.c.run_for(d);
                        let server = self.c.nodes[l].server;
                        self.c.world.net.borrow_mut().isolate(server, n_servers);
                    }
                }
            }
            38..=42 => {
                if running {
                    self.c.rcob_create_snapshot(pick);
                }
            }
            43..=45 => {
                let server = self.c.nodes[pick].server;
                self.c.world.net.borrow_mut().isolate(server, n_servers);
            }
            46..=48 => {
                // A member's link towards the leader stalls until the next
                // heal: its responses arrive late, possibly after the leader
                // lost and regained leadership.
                if let Some(l) = self.leader() {
                    let (from, to) = (self.c.nodes[pick].server, self.c.nodes[l].server);
                    self.c.world.net.borrow_mut().stall(from, to);
                }
            }
            49..=52 => {
                let split = 1 + self.c.world.rng.borrow_mut().index(n_servers - 1);
                let (a, b): (Vec<usize>, Vec<usize>) = (0..n_servers).partition(|s| *s < split);
                self.c.world.net.borrow_mut().partition(&[a, b]);
            }
            53..=62 => self.heal_network(),
            63..=72 if !self.restarts_ok => {}
            63..=66 => {
                // The process dies; what it wrote is in the page cache.
                if running && self.may_go_down(pick) {
                    self.unpause(pick);
                    self.c.stop(pick);
                }
            }
            67..=69 => {
                if running && self.power_loss_ok {
                    self.power_loss(pick);
                }
            }
            70..=72 => {
                if running && self.power_loss_ok {
                    // Power fails in the middle of the server's next write.
                    let name = self.server_name(pick);
                    self.c.world.disk.borrow_mut().crash_during_next_append(&name);
                }
            }
            73..=79 => self.restart_dead(),
            80..=82 => {
                if running {
                    let _ = self.c.node(pick).step_down(&[]);
                }
            }
            83..=85 => {
                // The process stops being scheduled for a while (a GC pause,
                // SIGSTOP, a VM migration): messages queue up meanwhile.
                if running {
                    let d = Duration::from_millis(self.c.world.rng.borrow_mut().range(20, 3000));
                    if let Some(i) = self.index_of(pick) {
                        self.members[i].paused_until = Some(self.c.world.now.get() + d.as_nanos() as u64);
                    }
                    self.c.freeze(&[pick]);
                }
            }
            86..=91 if self.storage == StorageType::Memory && !faults.memory_membership_changes => {}
            86..=88 => self.remove_peer(),
            89..=91 => self.add_peer(faults.unguarded_additions),
            92..=94 => {
                let learner = self.index_of(pick).is_some_and(|i| self.members[i].learner);
                if running && !learner {
                    let observer = !self.c.node(pick).is_observer();
                    self.c.node(pick).set_observer(observer);
                }
            }
            95..=97 => {
                let server = self.c.nodes[pick].server;
                let mut limits = self.c.world.limits_exceeded.borrow_mut();
                if !limits.remove(&server) {
                    limits.insert(server);
                }
            }
            98..=99 => {
                if running {
                    self.c.rcob_create_snapshot(pick);
                }
            }
            _ => {
                // A majority loses power at once (a rack, a data centre).
                if !self.power_loss_ok || !self.restarts_ok {
                    return;
                }
                let mut victims = live.clone();
                let majority = victims.len() / 2 + 1;
                while victims.len() > majority {
                    let i = self.c.world.rng.borrow_mut().index(victims.len());
                    victims.remove(i);
                }
                for v in victims {
                    if self.running(v) {
                        self.power_loss(v);
                    }
                }
            }
        }
    }

    // Runs in short slices, letting removed replicas go and restarting nodes
    // that went down (a write error kept from before the heal can still end
    // one) between them, until `cond` holds, a violation is found (true) or
    // `budget` passes (false).
    fn settle(&mut self, budget: Duration, mut cond: impl FnMut(&Run) -> bool) -> bool {
        let deadline = self.c.world.now.get() + budget.as_nanos() as u64;
        loop {
            if self.violated() || cond(self) {
                return true;
            }
            if self.c.world.now.get() >= deadline {
                return false;
            }
            let inv = self.inv.clone();
            self.c.run_until(Duration::from_millis(100), |_| inv.borrow().violation.is_some());
            self.housekeeping();
            self.restart_dead();
        }
    }

    // A replica the schedule let go (its removal committed and its server
    // dropped it) that a leader, finishing a catch-up, proposed to add back
    // and that the live members' configuration still counts.
    fn phantom_member(&self, inv: &Invariants) -> Option<String> {
        let live = self.live_members();
        for (leader, peer) in &inv.removed_peers_readded {
            let dropped = self.rg.members.iter().zip(&self.members).any(|(&m, st)| st.removed && self.c.nodes[m].raft.id() == peer);
            let counted: Vec<&str> = live
                .iter()
                .map(|&m| &self.c.nodes[m].raft)
                .filter(|n| n.state() != RaftState::Closed && n.peer_names().iter().any(|p| p == peer))
                .map(|n| n.id())
                .collect();
            if dropped && !counted.is_empty() {
                let csz = live.iter().map(|&m| self.c.nodes[m].raft.cluster_size()).max().unwrap_or(0);
                return Some(format!(
                    "{leader} proposed {peer} again after its removal, finishing a catch-up; its server dropped it, yet {} count it (cluster size up to {csz}, {} live members)",
                    counted.join(", "),
                    live.len()
                ));
            }
        }
        None
    }

    fn heal_network(&mut self) {
        let now = self.c.world.now.get();
        let mut rng = self.c.world.rng.borrow_mut();
        let mut net = self.c.world.net.borrow_mut();
        net.heal();
        net.release_all(now, &mut rng);
    }

    // A random member (the leader among them) asks for a random member to
    // be removed; followers forward the request to the leader.
    fn remove_peer(&mut self) {
        let live = self.live_members();
        if live.len() <= 3 {
            return;
        }
        let asker = self.pick(&live);
        let victim = self.pick(&live);
        if !self.running(asker) {
            return;
        }
        let id = self.c.node(victim).id().to_string();
        if self.leader() == Some(victim) {
            self.stats.leader_removal_requests += 1;
        }
        let _ = self.c.node(asker).propose_remove_peer(&id);
    }

    // A new server joins with a replica that knows the current members; the
    // leader proposes it once it hears from it or has caught it up.
    fn add_peer(&mut self, unguarded: bool) {
        let live = self.live_members();
        if live.len() >= self.max_members {
            return;
        }
        if !unguarded {
            // A settled group: one leader that hears a quorum, everyone else
            // a current follower of it in its term, with its whole log.
            let Some(l) = self.leader() else { return };
            let (last, term) = (self.c.nodes[l].raft.last_log(), self.c.nodes[l].raft.term());
            let paused = self.members.iter().any(|m| !m.removed && (m.paused_until.is_some() || m.learner));
            let settled = self.c.nodes[l].raft.quorum()
                && live.iter().all(|&m| {
                    let n = &mut self.c.nodes[m].raft;
                    n.last_log() == last && n.term() == term && (m == l || (n.state() == RaftState::Follower && n.current()))
                });
            if paused || !settled {
                return;
            }
            self.heal_network();
        }
        let mut peers: Vec<String> = live.iter().map(|&m| self.c.nodes[m].raft.id().to_string()).collect();
        let server = self.c.add_in_new_server();
        peers.push(self.c.servers[server].id.clone());
        let Ok(slot) = self.c.add_node_on(&self.rg.name, server, &peers, SmKind::ChainOfBlocks, self.storage) else { return };
        self.c.rcob(slot).max_block_size = 64;
        self.rg.members.push(slot);
        self.members.push(MemberState { learner: !unguarded, ..MemberState::default() });
        if !unguarded {
            self.c.node(slot).set_observer(true);
            self.join_quietly(slot);
        }
        self.stats.additions += 1;
        if !self.additions_with_restarts {
            // Nodes stop going down from here on (FaultModel::additions_with_restarts).
            self.restarts_ok = false;
            let mut disk = self.c.world.disk.borrow_mut();
            disk.disarm();
            disk.faults.wal_write_error = 0.0;
            disk.faults.wal_sync_error = 0.0;
        }
    }

    // Holds the network fault-free until the new replica `slot` has applied
    // its own addition (or a few seconds pass), then restores the faults.
    fn join_quietly(&mut self, slot: usize) {
        let saved = {
            let mut net = self.c.world.net.borrow_mut();
            let saved = (net.cfg.drop, net.cfg.dup, net.cfg.reorder, net.cfg.long_delay);
            (net.cfg.drop, net.cfg.dup, net.cfg.reorder, net.cfg.long_delay) = (0.0, 0.0, 0.0, 0.0);
            saved
        };
        let inv = self.inv.clone();
        let id = self.c.nodes[slot].raft.id().to_string();
        self.c.run_until(Duration::from_secs(5), |c| {
            inv.borrow().violation.is_some()
                || c.rcob_ref(slot).membership.iter().any(|(t, p)| *t == crate::raft::EntryType::AddPeer && *p == id)
        });
        self.housekeeping();
        let mut net = self.c.world.net.borrow_mut();
        (net.cfg.drop, net.cfg.dup, net.cfg.reorder, net.cfg.long_delay) = saved;
    }

    fn restart_dead(&mut self) {
        for slot in self.live_members() {
            if self.c.world.disk.borrow().is_dead(&self.server_name(slot)) {
                self.power_loss(slot);
            }
            if !self.running(slot) && self.c.try_restart(slot).is_ok() {
                note_restart(&mut self.c, slot, &self.inv);
            }
        }
    }

    // Heal everything, restart everyone and let the group settle; safety is
    // checked throughout, a leader must appear and the replicas converge.
    fn heal_and_settle(mut self) -> Result<RunStats, String> {
        let mut outcome = Ok(());
        if !self.violated() {
            self.heal_network();
            {
                let mut net = self.c.world.net.borrow_mut();
                net.cfg.drop = 0.0;
                net.cfg.dup = 0.0;
                net.cfg.reorder = 0.0;
            }
            {
                let mut disk = self.c.world.disk.borrow_mut();
                disk.disarm();
                disk.faults = Default::default();
            }
            self.c.world.limits_exceeded.borrow_mut().clear();
            self.unpause_all();
            self.restart_dead();
            for i in 0..self.rg.members.len() {
                let slot = self.rg.members[i];
                if self.running(slot) && !self.members[i].removed && !self.members[i].learner {
                    self.c.node(slot).set_observer(false);
                }
            }
            let elected = self.settle(LEADER_AFTER_HEAL, |r| r.leader().is_some());
            match self.leader() {
                Some(l) => self.c.propose_block(l),
                None if !elected => {
                    let states: Vec<String> = self
                        .live_members()
                        .iter()
                        .map(|&m| {
                            let n = &self.c.nodes[m].raft;
                            format!("{}:{:?} t{} last {:?} commit {}", n.id(), n.state(), n.term(), n.last_log(), n.commit_index())
                        })
                        .collect();
                    outcome = Err(format!("{LIVENESS}no leader within {LEADER_AFTER_HEAL:?} of healing: {}", states.join(", ")))
                }
                None => {}
            }
        }
        if outcome.is_ok() && !self.violated() {
            let converged = self.settle(CONVERGE_AFTER_HEAL, |r| {
                let members = r.live_members();
                let first = r.c.rcob_ref(members[0]).get_current_hash();
                members.iter().all(|&m| {
                    let h = r.c.rcob_ref(m).get_current_hash();
                    h.0 && h.1 == first.1 && h.2 == first.2
                })
            });
            if !converged {
                let states: Vec<String> = self
                    .live_members()
                    .iter()
                    .map(|&m| {
                        let n = &self.c.nodes[m].raft;
                        format!("{}:{:?} t{} {:?} {:?}", n.id(), n.state(), n.term(), n.progress(), self.c.rcob_ref(m).get_current_hash())
                    })
                    .collect();
                outcome = Err(format!("{LIVENESS}replicas did not converge within {CONVERGE_AFTER_HEAL:?}: {}", states.join(", ")));
            }
        }
        let inv = self.inv.borrow();
        self.stats.checks = inv.checks;
        self.stats.blocks = self.live_members().iter().map(|&m| self.c.rcob_ref(m).blocks_applied).max().unwrap_or(0);
        self.stats.disk_errors = self.c.world.disk.borrow().injected_errors;
        self.stats.write_errors_seen = inv.write_errors_seen;
        self.stats.skipped = inv.skipped.clone();
        let sync = self.stats.sync;
        if let Some(v) = &inv.violation {
            // A violation is put down to a finding only if the run's trace
            // shows that finding's mechanism; any other fails the run.
            if let Some((finding, evidence)) = explain(&inv, v, sync) {
                self.stats.explained = Some(Explained { finding, violation: format!("{v} ({})", self.setting), evidence });
                return Ok(self.stats.clone());
            }
            return Err(format!("{v} ({})", self.setting));
        }
        // A group that lost committed entries (its membership changes among
        // them) to a finding's mechanism may also not recover; only then is
        // a liveness failure put down to that finding.
        if let Err(e) = &outcome {
            if let Some(evidence) = self.phantom_member(&inv) {
                self.stats.explained = Some(Explained { finding: REMOVED_PEER_READDED_LIVENESS, violation: format!("{e} ({})", self.setting), evidence });
                return Ok(self.stats.clone());
            }
            if let Some((finding, evidence)) = explain_liveness(&inv, sync) {
                self.stats.explained = Some(Explained { finding, violation: format!("{e} ({})", self.setting), evidence: format!("{evidence}; the group did not recover") });
                return Ok(self.stats.clone());
            }
        }
        outcome.map(|_| self.stats.clone()).map_err(|e| format!("{e} ({})", self.setting))
    }
}

// The finding whose mechanism the trace shows for violation `v`, and that
// mechanism.
fn explain(inv: &Invariants, v: &str, sync: Option<SyncPolicy>) -> Option<(&'static str, String)> {
    if LOST_COMMITS.iter().any(|k| v.contains(k)) {
        return lost_commits_mechanism(inv, sync, v.contains("held by only"));
    }
    // A second vote in a term by a node restarted after a term/vote file
    // error, or the second leader such a vote elected.
    let double_vote = v.contains(" voted for ") && inv.state_file_error_restarts.iter().any(|n| v.contains(&format!("{n} voted for ")));
    if double_vote || (v.contains("two leaders in term") && !inv.state_file_error_restarts.is_empty()) {
        let evidence = format!("{} restarted after a term/vote file error on its server", inv.state_file_error_restarts.join(", "));
        return Some((TERM_VOTE_FILE_ERROR, evidence));
    }
    None
}

// Lost commits: which finding's mechanism the trace shows, if any.
fn lost_commits_mechanism(inv: &Invariants, sync: Option<SyncPolicy>, short_commit: bool) -> Option<(&'static str, String)> {
    if let Some((node, before, after)) = inv.read_error_truncations.first() {
        return Some((WAL_READ_ERROR_RESET, format!("{node}'s log went from {before} to {after} in a turn with a WAL read error on its server")));
    }
    if let Some((node, first, before)) = inv.lazy_sync_losses.first() {
        return Some((LAZY_SYNC_POWER_LOSS, format!("{node} lost committed index {first} (held up to {before}) to a power loss under {sync:?}")));
    }
    // A commit short of holders: a follower lost what it acknowledged.
    if let Some((node, before, after)) = inv.lazy_sync_shrinks.first().filter(|_| short_commit) {
        return Some((LAZY_SYNC_POWER_LOSS, format!("{node}'s log went from {before} to {after} in a power loss under {sync:?}, after it acknowledged entries")));
    }
    if let Some((node, before, after)) = inv.stale_append_rewrites.first() {
        return Some((STALE_APPEND_ENTRY, format!("{node}'s log went from {before} to {after} in a turn in which a duplicated or late append entry reached it")));
    }
    if let Some((node, index)) = inv.snapshot_entries_stored.first() {
        return Some((REDELIVERED_SNAPSHOT, format!("{node} stored a catch-up snapshot as log entry {index} after a duplicated or late append entry or catch-up request was delivered")));
    }
    if let Some(node) = inv.memory_restarts_after_disk_error.first() {
        return Some((MEMORY_WAL_RESTART, format!("{node}, a memory-WAL node, restarted empty after a disk error on its server's state files stopped it")));
    }
    None
}

// A liveness failure after healing: the finding whose mechanism cost the
// group committed entries or a consistent vote, if any.
fn explain_liveness(inv: &Invariants, sync: Option<SyncPolicy>) -> Option<(&'static str, String)> {
    let (finding, evidence) = lost_commits_mechanism(inv, sync, false).or_else(|| {
        let n = inv.state_file_error_restarts.first()?;
        Some((TERM_VOTE_FILE_ERROR, format!("{n} restarted after a term/vote file error on its server")))
    })?;
    let liveness = match finding {
        WAL_READ_ERROR_RESET => WAL_READ_ERROR_RESET_LIVENESS,
        LAZY_SYNC_POWER_LOSS => LAZY_SYNC_POWER_LOSS_LIVENESS,
        STALE_APPEND_ENTRY => STALE_APPEND_ENTRY_LIVENESS,
        REDELIVERED_SNAPSHOT => REDELIVERED_SNAPSHOT_LIVENESS,
        MEMORY_WAL_RESTART => MEMORY_WAL_RESTART_LIVENESS,
        _ => TERM_VOTE_FILE_ERROR_LIVENESS,
    };
    Some((liveness, evidence))
}

/// Restarts every member that is down (a server that lost power in the
/// middle of a write gets its power loss first); a node whose disk fails
/// the restart stays down.
pub(crate) fn restart_dead(c: &mut Cluster, members: &[usize], inv: &Rc<RefCell<Invariants>>) {
    for &m in members {
        let server = c.servers[c.nodes[m].server].name.clone();
        if c.world.disk.borrow().is_dead(&server) {
            c.crash(m);
        }
        if c.nodes[m].raft.state() == RaftState::Closed && c.try_restart(m).is_ok() {
            note_restart(c, m, inv);
        }
    }
}

/// Tells the checker node `slot` restarted, and what a power loss under a
/// lazy sync policy took from its log, if it had one.
pub(crate) fn note_restart(c: &mut Cluster, slot: usize, inv: &Rc<RefCell<Invariants>>) {
    let mut inv = inv.borrow_mut();
    if let Some(before) = c.lazy_sync_power_loss.remove(&slot) {
        inv.restarted_after_lazy_sync_power_loss(c.nodes[slot].raft.id(), before, c.nodes[slot].raft.last_log().0);
    }
    let server = &c.servers[c.nodes[slot].server].name;
    let errors = c.world.disk.borrow().state_file_errors.get(server).copied().unwrap_or(0);
    inv.node_started(slot, c.nodes[slot].raft.id(), errors, c.nodes[slot].storage == StorageType::Memory);
    inv.node_restarted(slot);
}
