//! Randomised fault simulation of 3- and 5-node groups under the safety
//! invariants of `ported::sim::invariants`, and the planted bugs it must
//! catch. Five-node runs also play composite fault shapes
//! (`ported::sim::shapes`) aimed at the moments two of the planted bugs need.
//! `NRG_SIM_SEEDS=<n>` runs more seeds; `NRG_SIM_SEED=<s>` replays one seed
//! (all tests in this module then run just that seed).

use std::time::{Duration, Instant};

use ported::raft::PlantedBugs;
use ported::sim::schedule::{run_schedule, ScheduleConfig, LIVENESS};
use ported::sim::shapes::ShapeOutcome;

fn seeds() -> Vec<u64> {
    if let Some(s) = std::env::var("NRG_SIM_SEED").ok().and_then(|v| v.trim().parse().ok()) {
        return vec![s];
    }
    let n = std::env::var("NRG_SIM_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1000u64);
    (0..n).collect()
}

fn config(seed: u64, bugs: PlantedBugs) -> ScheduleConfig {
    // Odd seeds run five nodes, even seeds three.
    ScheduleConfig { nodes: if seed % 2 == 1 { 5 } else { 3 }, duration: Duration::from_secs(6), bugs }
}

/// Safety holds and replicas converge on every seed.
#[test]
fn sim_invariants_hold_on_random_fault_schedules() {
    let start = Instant::now();
    let seeds = seeds();
    let (mut blocks, mut shapes, mut shapes_done) = (0, 0, 0);
    for &seed in &seeds {
        match run_schedule(seed, config(seed, PlantedBugs::default())) {
            Ok(stats) => {
                blocks += stats.blocks;
                shapes += u64::from(stats.shape.is_some());
                shapes_done += u64::from(stats.shape == Some(ShapeOutcome::Done));
            }
            Err(e) => panic!("seed {seed} failed (replay with NRG_SIM_SEED={seed}): {e}"),
        }
    }
    eprintln!(
        "{} seeds, {blocks} blocks in total, {shapes} composite fault shapes ({shapes_done} ran to the end), {:?}",
        seeds.len(),
        start.elapsed()
    );
}

fn first_catching_seed(bugs: PlantedBugs) -> Option<(u64, String)> {
    // Only a safety violation counts as catching the bug.
    seeds()
        .into_iter()
        .find_map(|seed| run_schedule(seed, config(seed, bugs)).err().filter(|e| !e.starts_with(LIVENESS)).map(|e| (seed, e)))
}

/// Planted bug: clearing the vote on step-down lets a node vote twice in a term.
#[test]
fn sim_catches_planted_clear_vote_on_stepdown() {
    let bugs = PlantedBugs { clear_vote_on_stepdown: true, ..PlantedBugs::default() };
    let found = first_catching_seed(bugs);
    eprintln!("clear_vote_on_stepdown caught by: {found:?}");
    assert!(found.is_some(), "planted bug not caught");
}

/// Planted bug: counting previous-term acknowledgements towards commit.
/// NATS followers never acknowledge catch-up entries, so an old-term
/// success response can only be one that waited on a stalled link while
/// leadership moved away and back; the schedule's stale-acknowledgement
/// shape (`ported::sim::shapes`) builds that "Figure 8" in five-node runs,
/// and the checker sees the overwritten commit.
#[test]
fn sim_catches_planted_previous_term_acks() {
    let bugs = PlantedBugs { count_previous_term_acks: true, ..PlantedBugs::default() };
    let found = first_catching_seed(bugs);
    eprintln!("count_previous_term_acks caught by: {found:?}");
    assert!(found.is_some(), "planted bug not caught");
}

/// Planted bug: acknowledging an entry before writing it to the WAL.
#[test]
fn sim_catches_planted_ack_before_wal_write() {
    let bugs = PlantedBugs { ack_before_wal_write: true, ..PlantedBugs::default() };
    let found = first_catching_seed(bugs);
    eprintln!("ack_before_wal_write caught by: {found:?}");
    assert!(found.is_some(), "planted bug not caught");
}
