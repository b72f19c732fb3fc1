//! Raft simulator benchmarks, printed with their goals and ratios; not
//! pass/fail tests (ported/bench/raft.sh runs these beside P5).
//!
//!     cargo bench -p ported --bench raft            # p6 and throughput
//!     cargo bench -p ported --bench raft -- p6      # or: throughput, planted
//!
//! P6: the 1,000 fault seeds of `simulation::sim_invariants_hold_on_random_fault_schedules`
//! (the full fault model of `sim::schedule`: odd seeds five nodes, even
//! seeds three, 6 s of faults then healing and settling), wall clock against
//! the goal of 60 s. `NRG_BENCH_SEEDS` changes the count.
//!
//! Planted (not run by default): for each planted bug, over
//! `NRG_BENCH_SEEDS` seeds (default 1,000), the first seed whose schedule
//! ends in a safety violation and how many do, with the full model and
//! with random schedules only (no composite shape).
//!
//! Throughput: a healthy three-node group on file WALs over the simulated
//! disk and network (Go test timings, 0.2-2 ms one-way delays), committing
//! small adder entries; entries applied on every replica per simulated
//! second and per wall-clock second, closed-loop (one proposal in flight)
//! and pipelined (a batch of proposals every simulated millisecond). The
//! simulator models message delays but charges no time for CPU or disk
//! work, so the pipelined simulated rate follows the offered load; the
//! closed-loop rate is the latency bound (about three one-way delays per
//! commit), and the wall-clock rates are what the port itself costs.

use std::time::{Duration, Instant};

use ported::raft::PlantedBugs;
use ported::sim::schedule::{run_schedule, FaultModel, ScheduleConfig, LIVENESS};
use ported::sim::shapes::ShapeOutcome;
use ported::sim::{Cluster, SmKind};

const P6_GOAL: Duration = Duration::from_secs(60);

fn p6() {
    let n: u64 = std::env::var("NRG_BENCH_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1000);
    let start = Instant::now();
    let (mut blocks, mut events, mut shapes, mut failures) = (0u64, 0u64, 0u64, 0u64);
    let mut explained: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for seed in 0..n {
        let cfg = ScheduleConfig::new(if seed % 2 == 1 { 5 } else { 3 }, Duration::from_secs(6));
        match run_schedule(seed, cfg) {
            Ok(stats) => {
                blocks += stats.blocks;
                events += stats.events;
                shapes += u64::from(stats.shape == Some(ShapeOutcome::Done));
                if let Some(x) = &stats.explained {
                    *explained.entry(x.finding).or_default() += 1;
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("seed {seed} failed (replay with NRG_SIM_SEED={seed}): {e}");
            }
        }
    }
    let wall = start.elapsed();
    println!(
        "P6  {n} fault seeds: {:.2} s wall ({:.1} ms/seed; {events} fault events, {shapes} composite shapes run through, {blocks} blocks, {failures} unexplained violations; explained by upstream findings: {explained:?})",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1e3 / n.max(1) as f64
    );
    let scaled = wall.as_secs_f64() * 1000.0 / n.max(1) as f64;
    println!(
        "P6  goal <= {} s for 1,000 seeds: {:.2} s scaled to 1,000; ratio {:.3} of the goal ({:.0}x under)",
        P6_GOAL.as_secs(),
        scaled,
        scaled / P6_GOAL.as_secs_f64(),
        P6_GOAL.as_secs_f64() / scaled.max(1e-9)
    );
}

/// Entries applied by every replica of the group.
fn applied_everywhere(c: &mut Cluster, members: &[usize]) -> i64 {
    members.iter().map(|&m| c.adder(m).sum).min().unwrap_or(0)
}

fn report(name: &str, entries: i64, sim: Duration, wall: Duration) {
    let per_sim = entries as f64 / sim.as_secs_f64();
    let per_wall = entries as f64 / wall.as_secs_f64();
    println!(
        "TPUT {name}: {entries} entries in {:.2} s simulated / {:.3} s wall: {per_sim:.0} entries/s simulated, {per_wall:.0} entries/s wall clock (simulator runs {:.1}x real time)",
        sim.as_secs_f64(),
        wall.as_secs_f64(),
        sim.as_secs_f64() / wall.as_secs_f64()
    );
}

fn group(seed: u64) -> (Cluster, Vec<usize>, usize) {
    let mut c = Cluster::new("BENCH", 3, seed);
    let rg = c.create_raft_group("TPUT", 3, SmKind::Adder);
    let leader = match c.wait_on_leader(&rg) {
        Some(l) => l,
        None => panic!("no leader elected for the throughput group"),
    };
    (c, rg.members.clone(), leader)
}

fn throughput_closed_loop(sim_for: Duration) {
    let (mut c, members, leader) = group(1);
    let start_sim = c.now();
    let wall = Instant::now();
    let mut expected = 0i64;
    while c.now() - start_sim < sim_for {
        c.propose_delta(leader, 1);
        expected += 1;
        let m = members.clone();
        if !c.run_until(Duration::from_secs(5), |c| applied_everywhere(c, &m) >= expected) {
            panic!("entry {expected} was not applied everywhere within 5 simulated seconds");
        }
    }
    let entries = applied_everywhere(&mut c, &members);
    report("closed loop, 1 in flight", entries, c.now() - start_sim, wall.elapsed());
}

fn throughput_pipelined(sim_for: Duration, batch: usize) {
    let (mut c, members, leader) = group(2);
    let start_sim = c.now();
    let wall = Instant::now();
    let mut proposed = 0i64;
    while c.now() - start_sim < sim_for {
        for _ in 0..batch {
            c.propose_delta(leader, 1);
        }
        proposed += batch as i64;
        c.run_for(Duration::from_millis(1));
    }
    let m = members.clone();
    if !c.run_until(Duration::from_secs(10), |c| applied_everywhere(c, &m) >= proposed) {
        panic!("pipelined entries were not all applied within 10 simulated seconds");
    }
    let entries = applied_everywhere(&mut c, &members);
    report(&format!("pipelined, {batch} per simulated ms"), entries, c.now() - start_sim, wall.elapsed());
}

fn planted_row(seeds: u64, faults: FaultModel, bugs: PlantedBugs) -> (Option<u64>, u64) {
    let mut first = None;
    let mut caught = 0;
    for seed in 0..seeds {
        let mut cfg = ScheduleConfig::new(if seed % 2 == 1 { 5 } else { 3 }, Duration::from_secs(6));
        cfg.faults = faults;
        cfg.bugs = bugs;
        if run_schedule(seed, cfg).err().is_some_and(|e| !e.starts_with(LIVENESS)) {
            caught += 1;
            first.get_or_insert(seed);
        }
    }
    (first, caught)
}

fn planted() {
    let n: u64 = std::env::var("NRG_BENCH_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1000);
    let none = PlantedBugs::default();
    let bugs = [
        ("clear_vote_on_stepdown", PlantedBugs { clear_vote_on_stepdown: true, ..none }),
        ("count_previous_term_acks", PlantedBugs { count_previous_term_acks: true, ..none }),
        ("ack_before_wal_write", PlantedBugs { ack_before_wal_write: true, ..none }),
        ("lazy_term_vote_write (53c85c2cd)", PlantedBugs { lazy_term_vote_write: true, ..none }),
        ("accept_lower_term_entries (be84a5640)", PlantedBugs { accept_lower_term_entries: true, ..none }),
        ("concurrent_membership_changes (434b02bc9)", PlantedBugs { concurrent_membership_changes: true, ..none }),
    ];
    let random_only = FaultModel { shapes: false, ..FaultModel::default() };
    println!("PLANTED {n} seeds per bug and model; a catch is a safety violation");
    println!("PLANTED {:<42} {:>18} {:>12} {:>18} {:>12}", "bug", "first (full)", "caught", "first (random)", "caught");
    for (name, b) in bugs {
        let (f1, c1) = planted_row(n, FaultModel::default(), b);
        let (f2, c2) = planted_row(n, random_only, b);
        let show = |f: Option<u64>| f.map_or("none".to_string(), |s| s.to_string());
        println!("PLANTED {name:<42} {:>18} {:>7} of {n} {:>18} {:>7} of {n}", show(f1), c1, show(f2), c2);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("p6") {
        p6();
    }
    if args.iter().any(|a| a == "planted") {
        planted();
    }
    if want("throughput") {
        throughput_closed_loop(Duration::from_secs(10));
        throughput_pipelined(Duration::from_secs(5), 50);
        throughput_pipelined(Duration::from_secs(2), 1000);
    }
}
