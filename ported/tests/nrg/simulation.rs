//! Randomised fault simulation of 3- and 5-node groups under the safety
//! invariants of `ported::sim::invariants`, and the planted bugs it must
//! catch. The fault model is `ported::sim::schedule`'s full one: duplicated
//! and reordered messages, drops, delays, partitions, stalled links,
//! crashes, power loss under sync_always and Go's lazy sync (torn final
//! writes included; lost commits under lazy sync are counted against the
//! upstream finding only when a node lost a committed entry to the power
//! loss, see `LAZY_SYNC_POWER_LOSS`),
//! WAL write, fsync and read errors (lost commits after a read error are
//! counted against `WAL_READ_ERROR_RESET` only when a node's log shrank or
//! changed term in place in a turn with a read error), pauses, membership changes (the leader
//! removed too), observers, exhausted resources, memory and file WALs.
//! `NRG_SIM_SEEDS=<n>` runs more seeds (default 1,000); `NRG_SIM_SEED=<s>`
//! replays one seed (all tests in this module then run just that seed).
//! The 10,000-seed run and the planted-bug table are in
//! `ported/bench/nightly.sh`.

use std::time::{Duration, Instant};

use ported::raft::{PlantedBugs, StorageType};
use ported::sim::schedule::{run_schedule, FaultModel, RunStats, ScheduleConfig, LIVENESS};
use ported::sim::shapes::ShapeOutcome;
use ported::sim::SyncPolicy;

fn seeds() -> Vec<u64> {
    if let Some(s) = std::env::var("NRG_SIM_SEED").ok().and_then(|v| v.trim().parse().ok()) {
        return vec![s];
    }
    let n = std::env::var("NRG_SIM_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1000u64);
    (0..n).collect()
}

fn config(seed: u64, faults: FaultModel, bugs: PlantedBugs) -> ScheduleConfig {
    // Odd seeds run five nodes, even seeds three.
    let mut cfg = ScheduleConfig::new(if seed % 2 == 1 { 5 } else { 3 }, Duration::from_secs(6));
    cfg.faults = faults;
    cfg.bugs = bugs;
    cfg
}

#[derive(Default)]
struct Totals {
    blocks: u64,
    shapes: u64,
    shapes_done: u64,
    memory: u64,
    lazy_sync: u64,
    power_losses: u64,
    disk_errors: u64,
    write_errors_seen: u64,
    removals: u64,
    leader_removal_requests: u64,
    additions: u64,
    skipped: u64,
    // Violations explained by a recorded upstream finding, per finding.
    explained: std::collections::BTreeMap<&'static str, u64>,
}

impl Totals {
    fn add(&mut self, s: &RunStats) {
        self.blocks += s.blocks;
        self.shapes += u64::from(s.shape.is_some());
        self.shapes_done += u64::from(s.shape == Some(ShapeOutcome::Done));
        self.memory += u64::from(s.storage == Some(StorageType::Memory));
        self.lazy_sync += u64::from(matches!(s.sync, Some(SyncPolicy::Interval(_))));
        self.power_losses += s.power_losses;
        self.disk_errors += s.disk_errors;
        self.write_errors_seen += s.write_errors_seen;
        self.removals += s.removals;
        self.leader_removal_requests += s.leader_removal_requests;
        self.additions += s.additions;
        self.skipped += s.skipped.len() as u64;
        if let Some(x) = &s.explained {
            *self.explained.entry(x.finding).or_default() += 1;
        }
    }
}

/// Safety holds, a leader appears after healing and the replicas converge,
/// on every seed of the full fault model.
#[test]
fn sim_invariants_hold_on_random_fault_schedules() {
    let start = Instant::now();
    let seeds = seeds();
    let mut t = Totals::default();
    for &seed in &seeds {
        match run_schedule(seed, config(seed, FaultModel::default(), PlantedBugs::default())) {
            Ok(stats) => {
                if let Some(x) = &stats.explained {
                    if std::env::var("NRG_SIM_VERBOSE").is_ok_and(|v| v == "1") {
                        eprintln!("seed {seed}: upstream finding {}: {} [{}]", x.finding, x.violation, x.evidence);
                    }
                }
                t.add(&stats)
            }
            Err(e) => panic!("seed {seed} failed (replay with NRG_SIM_SEED={seed}): {e}"),
        }
    }
    eprintln!(
        "{} seeds, 0 unexplained violations, explained by upstream findings: {:?}, {:?}: {} blocks; {} memory-WAL groups, {} file groups on lazy sync; {} power losses; \
         {} disk errors injected, {} write errors seen by nodes; {} peers removed ({} requests named the leader), {} added; {} composite shapes \
         ({} ran to the end); {} committed indexes the checker could not load",
        seeds.len(),
        t.explained,
        start.elapsed(),
        t.blocks,
        t.memory,
        t.lazy_sync,
        t.power_losses,
        t.disk_errors,
        t.write_errors_seen,
        t.removals,
        t.leader_removal_requests,
        t.additions,
        t.shapes,
        t.shapes_done,
        t.skipped
    );
}

fn first_catching_seed(faults: FaultModel, bugs: PlantedBugs) -> Option<(u64, String)> {
    // Only a safety violation counts as catching the bug.
    seeds().into_iter().find_map(|seed| {
        run_schedule(seed, config(seed, faults, bugs)).err().filter(|e| !e.starts_with(LIVENESS)).map(|e| (seed, e))
    })
}

fn assert_caught(name: &str, faults: FaultModel, bugs: PlantedBugs) {
    let found = first_catching_seed(faults, bugs);
    eprintln!("{name} caught by: {found:?}");
    assert!(found.is_some(), "planted bug {name} not caught");
}

// Random schedules only: no composite shape built for any bug.
fn no_shapes() -> FaultModel {
    FaultModel { shapes: false, ..FaultModel::default() }
}

/// Planted bug: clearing the vote on step-down lets a node vote twice in a term.
#[test]
fn sim_catches_planted_clear_vote_on_stepdown() {
    assert_caught("clear_vote_on_stepdown", FaultModel::default(), PlantedBugs { clear_vote_on_stepdown: true, ..PlantedBugs::default() });
}

/// Planted bug: counting previous-term acknowledgements towards commit.
/// NATS followers never acknowledge catch-up entries, so an old-term
/// success response is one that waited on a stalled link, or was
/// duplicated or reordered, while leadership moved away and back; the
/// schedule's stale-acknowledgement shape (`ported::sim::shapes`) also
/// builds that "Figure 8" in five-node runs.
#[test]
fn sim_catches_planted_previous_term_acks() {
    assert_caught("count_previous_term_acks", FaultModel::default(), PlantedBugs { count_previous_term_acks: true, ..PlantedBugs::default() });
}

/// Planted bug: acknowledging an entry before writing it to the WAL.
#[test]
fn sim_catches_planted_ack_before_wal_write() {
    assert_caught("ack_before_wal_write", FaultModel::default(), PlantedBugs { ack_before_wal_write: true, ..PlantedBugs::default() });
}

/// Planted bug (53c85c2cd, "NRG: Always write term/vote and peer state
/// synchronously"): an unsynced term/vote file forgets a vote on power
/// loss, so the node can vote again in the same term.
#[test]
fn sim_catches_planted_lazy_term_vote_write() {
    assert_caught("lazy_term_vote_write", no_shapes(), PlantedBugs { lazy_term_vote_write: true, ..PlantedBugs::default() });
}

/// Planted bug (be84a5640, "NRG: Ignore AEs from older terms"): a
/// follower takes entries from a deposed leader.
#[test]
fn sim_catches_planted_accept_lower_term_entries() {
    assert_caught("accept_lower_term_entries", no_shapes(), PlantedBugs { accept_lower_term_entries: true, ..PlantedBugs::default() });
}

/// Planted bug (434b02bc9, "NRG: Avoid concurrent membership changes"):
/// a leader starts a membership change while another is in flight.
#[test]
fn sim_catches_planted_concurrent_membership_changes() {
    assert_caught(
        "concurrent_membership_changes",
        no_shapes(),
        PlantedBugs { concurrent_membership_changes: true, ..PlantedBugs::default() },
    );
}
