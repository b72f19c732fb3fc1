//! Random fault schedules over a 3- or 5-node chain-of-blocks group: the
//! simulation behind the invariant tests. Uniform random events (proposals,
//! snapshots, isolation, partitions, stalled links, crashes, torn writes,
//! stops, restarts, step-downs) plus, in most five-node runs, one composite
//! shape from [`super::shapes`]. One seed fixes everything; a failing seed
//! replays exactly.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

#[cfg(any(test, feature = "testing"))]
use crate::raft::PlantedBugs;
use crate::raft::RaftState;

use super::cluster::{Cluster, SmKind};
use super::invariants::Invariants;
use super::shapes::{stale_acks_across_elections, stale_vote_across_split, ShapeOutcome};

/// Prefix of a failure that is about progress, not safety.
pub const LIVENESS: &str = "liveness: ";

/// Shape of one simulated run.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleConfig {
    /// Group size (3 or 5).
    pub nodes: usize,
    /// Simulated time under faults.
    pub duration: Duration,
    /// Bugs planted in every node (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub bugs: PlantedBugs,
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
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    StaleAcks,
    StaleVote,
}

/// Runs one seed; `Err` carries the first invariant violation.
pub fn run_schedule(seed: u64, cfg: ScheduleConfig) -> Result<RunStats, String> {
    let mut c = Cluster::new("SIM", cfg.nodes, seed);
    c.wal_sync = super::cluster::SyncPolicy::Always;
    #[cfg(any(test, feature = "testing"))]
    {
        c.bugs = cfg.bugs;
    }
    {
        let mut rng = c.world.rng.borrow_mut();
        // Tight, overlapping election windows make split votes and
        // competing candidates common.
        let min_et = rng.range(100, 1500);
        c.timings.min_election_timeout = Duration::from_millis(min_et);
        c.timings.max_election_timeout = Duration::from_millis(min_et + rng.range(20, 2000));
        c.timings.hb_interval = Duration::from_millis(rng.range(20, 100));
        c.timings.lost_quorum_check = 4 * c.timings.hb_interval;
        let mut net = c.world.net.borrow_mut();
        net.tap = true;
        net.cfg.drop = if rng.chance(0.5) { 0.0 } else { rng.below(5) as f64 / 100.0 };
        // NATS routes are TCP: no duplicates, FIFO per connection. raft.go
        // relies on that (a redelivered catch-up snapshot entry is stored
        // as a log entry), so duplicate and reorder faults stay off here.
        net.cfg.dup = 0.0;
        net.cfg.reorder = 0.0;
        net.cfg.max_delay = rng.range(1, 20) * 1_000_000;
        net.cfg.long_delay = if rng.chance(0.5) { 0.0 } else { 0.02 };
        net.cfg.long_delay_max = rng.range(100, 3000) * 1_000_000;
    }
    // Most five-node runs also play one composite fault shape (see
    // `shapes`), once, at a random point of the schedule. Both shapes need
    // five nodes, so three-node runs skip this draw.
    let mut shape_at = None;
    if cfg.nodes >= 5 {
        let mut rng = c.world.rng.borrow_mut();
        let roll = rng.below(100);
        let at = Duration::from_millis(rng.range(200, 3000)).as_nanos() as u64;
        shape_at = match roll {
            0..=39 => Some((at, Shape::StaleAcks)),
            40..=69 => Some((at, Shape::StaleVote)),
            _ => None,
        };
    }
    let rg = c.create_raft_group("SIM", cfg.nodes, SmKind::ChainOfBlocks);
    for &m in &rg.members {
        c.rcob(m).max_block_size = 64;
    }
    let inv = Rc::new(RefCell::new(Invariants::default()));
    let hook = inv.clone();
    c.after_tick = Some(Box::new(move |c: &mut Cluster, slot| hook.borrow_mut().check(c, slot)));

    let mut stats = RunStats::default();
    let end = c.world.now.get() + cfg.duration.as_nanos() as u64;
    let n_servers = c.servers.len();
    while c.world.now.get() < end {
        let wait = c.world.rng.borrow_mut().range(10, 250);
        c.run_for(Duration::from_millis(wait));
        if inv.borrow().violation.is_some() {
            break;
        }
        stats.events += 1;
        if let Some((_, shape)) = shape_at.filter(|(t, _)| c.world.now.get() >= *t) {
            shape_at = None;
            stats.shape = Some(match shape {
                Shape::StaleAcks => stale_acks_across_elections(&mut c, &rg, &inv),
                Shape::StaleVote => stale_vote_across_split(&mut c, &rg, &inv),
            });
            if inv.borrow().violation.is_some() {
                break;
            }
            continue;
        }
        let roll = c.world.rng.borrow_mut().below(100);
        let pick = rg.random_member(&c);
        let running = c.nodes[pick].raft.state() != RaftState::Closed;
        match roll {
            0..=39 => {
                if running {
                    for _ in 0..3 {
                        c.propose_block(pick);
                    }
                }
            }
            40..=47 => {
                if let Some(l) = rg.leader(&c) {
                    c.propose_block(l);
                }
            }
            48..=53 => {
                if running {
                    c.rcob_create_snapshot(pick);
                }
            }
            54..=56 => {
                let server = c.nodes[pick].server;
                c.world.net.borrow_mut().isolate(server, n_servers);
            }
            57..=59 => {
                // A member's link towards the leader stalls until the next
                // heal: its responses arrive late, possibly after the leader
                // lost and regained leadership.
                if let Some(l) = rg.leader(&c) {
                    let (from, to) = (c.nodes[pick].server, c.nodes[l].server);
                    c.world.net.borrow_mut().stall(from, to);
                }
            }
            60..=63 => {
                let split = 1 + c.world.rng.borrow_mut().index(n_servers - 1);
                let (a, b): (Vec<usize>, Vec<usize>) = (0..n_servers).partition(|s| *s < split);
                c.world.net.borrow_mut().partition(&[a, b]);
            }
            64..=75 => {
                let now = c.world.now.get();
                let mut rng = c.world.rng.borrow_mut();
                let mut net = c.world.net.borrow_mut();
                net.heal();
                net.release_all(now, &mut rng);
            }
            76..=80 => {
                if running {
                    c.crash(pick);
                }
            }
            81..=84 => {
                if running {
                    // Power fails in the middle of the node's next append.
                    let name = c.servers[c.nodes[pick].server].name.clone();
                    c.world.disk.borrow_mut().crash_during_next_append(&name);
                }
            }
            85..=88 => {
                if running {
                    c.stop(pick);
                }
            }
            89..=95 => restart_dead(&mut c, &rg.members, &inv),
            _ => {
                if running {
                    let _ = c.node(pick).step_down(&[]);
                }
            }
        }
        // A node that died on a failed write lost power: apply it to its disk.
        for &m in &rg.members {
            let server = c.servers[c.nodes[m].server].name.clone();
            if c.world.disk.borrow().is_dead(&server) {
                c.crash(m);
            }
        }
    }
    // Heal, restart everyone and let the group settle; safety is checked
    // throughout, and the replicas must converge.
    {
        let now = c.world.now.get();
        let mut rng = c.world.rng.borrow_mut();
        let mut net = c.world.net.borrow_mut();
        net.heal();
        net.release_all(now, &mut rng);
        net.cfg.drop = 0.0;
        net.cfg.dup = 0.0;
    }
    c.world.disk.borrow_mut().disarm();
    restart_dead(&mut c, &rg.members, &inv);
    c.run_for(Duration::from_secs(2));
    if let Some(l) = c.wait_on_leader(&rg) {
        c.propose_block(l);
    }
    let members = rg.members.clone();
    let converged = c.run_until(Duration::from_secs(60), |c| {
        let first = c.rcob_ref(members[0]).get_current_hash();
        members.iter().all(|&m| {
            let h = c.rcob_ref(m).get_current_hash();
            h.0 && h.1 == first.1 && h.2 == first.2
        })
    });
    let inv = inv.borrow();
    stats.checks = inv.checks;
    stats.blocks = members.iter().map(|&m| c.rcob_ref(m).blocks_applied).max().unwrap_or(0);
    if let Some(v) = &inv.violation {
        return Err(v.clone());
    }
    if !converged {
        let states: Vec<String> = members
            .iter()
            .map(|&m| {
                let n = &c.nodes[m].raft;
                format!("{}:{:?} t{} {:?} {:?}", n.id(), n.state(), n.term(), n.progress(), c.rcob_ref(m).get_current_hash())
            })
            .collect();
        return Err(format!("{LIVENESS}replicas did not converge: {}", states.join(", ")));
    }
    // The cluster's Drop prints the seed only on panic; this is a clean end.
    Ok(stats)
}

pub(crate) fn restart_dead(c: &mut Cluster, members: &[usize], inv: &Rc<RefCell<Invariants>>) {
    for &m in members {
        let server = c.servers[c.nodes[m].server].name.clone();
        if c.world.disk.borrow().is_dead(&server) {
            c.crash(m);
        }
        if c.nodes[m].raft.state() == RaftState::Closed && c.try_restart(m).is_ok() {
            inv.borrow_mut().node_restarted(m);
        }
    }
}
