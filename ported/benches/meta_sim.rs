//! The JetStream meta layer on the simulator, printed as figures with
//! their ratios; not pass/fail tests.
//!
//!     cargo bench -p ported --bench meta_sim               # both
//!     cargo bench -p ported --bench meta_sim -- speed      # or: seeds
//!
//! speed: one 5-server meta scenario (random assignment proposals at the
//! meta leader, kills, restarts, partitions, then healing and the
//! convergence checks; see `ported::sim::js::scenario`) per seed;
//! simulated seconds covered per wall-clock second, which is also how many
//! times faster than real time the simulated cluster runs. Raft runs with
//! Go's test timings (50ms heartbeats), so the simulated seconds are busy.
//! `JS_BENCH_SPEED_SEEDS` (default 20) sets how many.
//!
//! seeds: the CI sweep, 250 seeds on 3 servers and 250 on 5 (the
//! `scenario::meta_scenario_converges_*` tests), wall time in all and per
//! seed beside the sweep's simulated time. `JS_BENCH_SEEDS` changes the
//! per-size count.

use std::time::Instant;

use ported::sim::js::scenario::{run_meta_scenario, ScenarioConfig};

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn speed() {
    let n = env_count("JS_BENCH_SPEED_SEEDS", 20);
    let cfg = ScenarioConfig { servers: 5, ..ScenarioConfig::default() };
    let start = Instant::now();
    let mut sim = 0.0;
    let mut events = 0usize;
    for seed in 1..=n {
        match run_meta_scenario(seed * 7919 + 5, &cfg) {
            Ok(r) => {
                sim += r.sim_secs;
                events += r.applied + r.settled + r.kills + r.shutdowns + r.restarts + r.partitions;
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "speed  5-server meta scenario, {n} seeds: {sim:.0} simulated s in {wall:.2} wall s = {:.0} simulated s per wall s ({events} proposals and faults)",
        sim / wall.max(1e-9)
    );
}

fn seeds() {
    let n = env_count("JS_BENCH_SEEDS", 250);
    let start = Instant::now();
    let mut sim = 0.0;
    let mut failures = 0;
    for servers in [3usize, 5] {
        let cfg = ScenarioConfig { servers, ..ScenarioConfig::default() };
        for seed in 1..=n {
            match run_meta_scenario(seed * 7919 + servers as u64, &cfg) {
                Ok(r) => sim += r.sim_secs,
                Err(e) => {
                    failures += 1;
                    eprintln!("{e}");
                }
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let total = 2 * n;
    println!(
        "seeds  {total} meta scenario seeds (3 and 5 servers): {wall:.2} s wall, {:.1} ms per seed, {sim:.0} simulated s ({:.0}x real time), {failures} failures",
        wall * 1e3 / total.max(1) as f64,
        sim / wall.max(1e-9)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |w: &str| args.is_empty() || args.iter().any(|a| a == w);
    if want("speed") {
        speed();
    }
    if want("seeds") {
        seeds();
    }
}
