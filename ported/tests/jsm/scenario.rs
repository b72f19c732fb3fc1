//! The seeded meta scenario on 3 and 5 servers (see
//! `ported::sim::js::scenario`). `JS_SIM_SEEDS=N` runs N seeds per size
//! (default 250, so 500 in all); `JS_SIM_SEED=S` replays one seed.

use ported::sim::js::scenario::{run_meta_scenario, ScenarioConfig, ScenarioReport};

fn seeds() -> Vec<u64> {
    if let Some(s) = std::env::var("JS_SIM_SEED").ok().and_then(|v| v.trim().parse().ok()) {
        return vec![s];
    }
    let n = std::env::var("JS_SIM_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(250u64);
    (1..=n).collect()
}

fn sweep(servers: usize) -> Vec<ScenarioReport> {
    let cfg = ScenarioConfig { servers, ..ScenarioConfig::default() };
    let mut reports = Vec::new();
    for seed in seeds() {
        match run_meta_scenario(seed * 7919 + servers as u64, &cfg) {
            Ok(r) => reports.push(r),
            Err(e) => panic!("{e}\nreplay: JS_SIM_SEED={seed} cargo test -p ported --test jsm scenario::meta_scenario_converges_{servers}_servers"),
        }
    }
    reports
}

fn summarize(servers: usize, reports: &[ScenarioReport]) {
    let sum = |f: fn(&ScenarioReport) -> usize| reports.iter().map(f).sum::<usize>();
    eprintln!(
        "{servers} servers, {} seeds: {} applied, {} settled ({} took effect), {} kills, {} shutdowns, {} restarts, {} partitions, {:.0} simulated s",
        reports.len(),
        sum(|r| r.applied),
        sum(|r| r.settled),
        sum(|r| r.settled_applied),
        sum(|r| r.kills),
        sum(|r| r.shutdowns),
        sum(|r| r.restarts),
        sum(|r| r.partitions),
        reports.iter().map(|r| r.sim_secs).sum::<f64>()
    );
}

#[test]
fn meta_scenario_converges_3_servers() {
    let reports = sweep(3);
    summarize(3, &reports);
    assert!(reports.iter().all(|r| r.applied + r.settled > 0), "every seed made proposals");
    assert!(reports.iter().map(|r| r.kills + r.shutdowns).sum::<usize>() > 0, "servers were stopped");
}

#[test]
fn meta_scenario_converges_5_servers() {
    let reports = sweep(5);
    summarize(5, &reports);
    assert!(reports.iter().all(|r| r.applied + r.settled > 0), "every seed made proposals");
    assert!(reports.iter().map(|r| r.partitions).sum::<usize>() > 0, "the network was partitioned");
}

#[test]
fn same_seed_same_event_digest() {
    let cfg = ScenarioConfig::default();
    let a = run_meta_scenario(4242, &cfg).expect("seed 4242");
    let b = run_meta_scenario(4242, &cfg).expect("seed 4242 again");
    assert_eq!(a.digest, b.digest, "a seed replays the same event sequence");
    assert_eq!(a, b);
    let other = run_meta_scenario(4243, &cfg).expect("seed 4243");
    assert_ne!(a.digest, other.digest, "another seed gives another run");
}
