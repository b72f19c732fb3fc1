//! Seeds for simulated tests. A test's clusters take their seed from
//! [`test_seed`]; [`sweep`] runs a ported Go test over many seeds, since Go
//! samples a new interleaving on every run and one fixed seed would test
//! one interleaving for ever. A failing seed is printed with the command
//! that replays it.
//!
//! Environment: `NRG_SIM_SEED=<n>` replays one seed (every test then runs
//! just that seed); `NRG_TEST_SEEDS=<n>` sets how many seeds [`sweep`]
//! runs (default [`DEFAULT_SWEEP_SEEDS`]).

use std::cell::Cell;

/// Seeds per ported test when `NRG_TEST_SEEDS` is not set.
pub const DEFAULT_SWEEP_SEEDS: u64 = 20;

thread_local! {
    // The seed of the sweep iteration running on this thread, and whether
    // the test asked for it.
    static SWEEP: Cell<Option<(u64, bool)>> = const { Cell::new(None) };
}

fn env_u64(var: &str) -> Option<u64> {
    std::env::var(var).ok().and_then(|v| v.trim().parse().ok())
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Seed for a test: `NRG_SIM_SEED` if set; inside [`sweep`], the current
/// iteration's seed; otherwise a fixed value derived from the test name.
pub fn test_seed(name: &str) -> u64 {
    if let Some(v) = env_u64("NRG_SIM_SEED") {
        return v;
    }
    if let Some((seed, _)) = SWEEP.with(|s| s.get()) {
        SWEEP.with(|s| s.set(Some((seed, true))));
        return seed;
    }
    name_hash(name)
}

/// The `i`-th seed [`sweep`] gives test `name`; the first is the fixed
/// seed [`test_seed`] gives outside a sweep.
pub fn sweep_seed(name: &str, i: u64) -> u64 {
    name_hash(name).wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Runs `body` once per seed: `NRG_TEST_SEEDS` seeds (default
/// [`DEFAULT_SWEEP_SEEDS`]), or only `NRG_SIM_SEED` when that is set. A
/// body that never asks for a seed is deterministic and runs once. On a
/// failure the seed and the command to replay it are printed and the
/// panic goes on.
pub fn sweep(name: &str, body: impl Fn() + std::panic::RefUnwindSafe) {
    if env_u64("NRG_SIM_SEED").is_some() {
        body();
        return;
    }
    let n = env_u64("NRG_TEST_SEEDS").unwrap_or(DEFAULT_SWEEP_SEEDS).max(1);
    for i in 0..n {
        let seed = sweep_seed(name, i);
        SWEEP.with(|s| s.set(Some((seed, false))));
        let res = std::panic::catch_unwind(&body);
        let used = SWEEP.with(|s| s.replace(None)).is_some_and(|(_, used)| used);
        if let Err(panic) = res {
            eprintln!(
                "{name} failed on seed {seed} ({} of {n}); replay: NRG_SIM_SEED={seed} cargo test -p ported --test nrg {name}",
                i + 1
            );
            std::panic::resume_unwind(panic);
        }
        if !used {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_runs_each_seed_and_stops_early_without_one() {
        thread_local! {
            static SEEN: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        fn seeded() {
            SEEN.with(|s| s.borrow_mut().push(test_seed("seeded")));
        }
        fn unseeded() {
            SEEN.with(|s| s.borrow_mut().push(0));
        }
        if env_u64("NRG_SIM_SEED").is_some() || env_u64("NRG_TEST_SEEDS").is_some() {
            return; // the counts below assume the defaults
        }
        sweep("seeded", seeded);
        let seen = SEEN.with(|s| s.take());
        assert_eq!(seen.len() as u64, DEFAULT_SWEEP_SEEDS);
        assert_eq!(seen[0], test_seed("seeded"), "the first seed is the test's fixed one");
        assert_eq!(seen.iter().collect::<std::collections::BTreeSet<_>>().len(), seen.len(), "all seeds differ");
        sweep("unseeded", unseeded);
        assert_eq!(SEEN.with(|s| s.take()).len(), 1, "nothing seeded: one run is enough");
        assert_eq!(test_seed("seeded"), seen[0], "outside a sweep the fixed seed again");
    }
}
