#!/usr/bin/env bash
# The nightly-size runs of the raft port, all in release:
#  1. the full fault model on NIGHTLY_SIM_SEEDS seeds (default 10,000), 3 and
#     5 nodes alternating: 0 unexplained invariant violations expected;
#     violations a recorded upstream finding explains (its mechanism in the
#     run's trace, see ported/src/sim/schedule.rs) are counted per finding;
#  2. every ported TestNRG* test on NIGHTLY_TEST_SEEDS seeds each (default
#     1,000), and the rest of the nrg suite;
#  3. the planted-bug table on NIGHTLY_PLANTED_SEEDS seeds (default 1,000);
#  4. the findings searches, and sync_always under majority power loss, on
#     NIGHTLY_FINDING_SEEDS seeds (default 10,000).
# CI runs the same tests at 20 seeds per ported test and 1,000 schedules
# (cargo test --workspace). Needs: cargo. Usage: ported/bench/nightly.sh
# A failure prints its seed and the NRG_SIM_SEED=<n> command that replays it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
sim_seeds=${NIGHTLY_SIM_SEEDS:-10000}
test_seeds=${NIGHTLY_TEST_SEEDS:-1000}
planted_seeds=${NIGHTLY_PLANTED_SEEDS:-1000}
finding_seeds=${NIGHTLY_FINDING_SEEDS:-10000}

bin=$(cargo test -p ported --release --test nrg --no-run 2>&1 | sed -n 's/.*Executable tests\/nrg.rs (\(.*\))$/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "could not build the nrg test binary" >&2; exit 1; }

echo "== full fault model, $sim_seeds seeds"
NRG_SIM_SEEDS=$sim_seeds "$bin" --exact simulation::sim_invariants_hold_on_random_fault_schedules --nocapture 2>&1 | grep -E 'seeds,|failed|panicked'

echo "== every TestNRG* port on $test_seeds seeds, the rest of the nrg suite once"
NRG_TEST_SEEDS=$test_seeds "$bin" --skip simulation:: --skip findings:: --test-threads 2 -q

echo "== planted bugs, $planted_seeds seeds each"
NRG_BENCH_SEEDS=$planted_seeds cargo bench -q -p ported --bench raft -- planted 2>&1 | grep -E '^PLANTED'

echo "== upstream findings and sync_always, up to $finding_seeds seeds"
NRG_FINDING_SEEDS=$finding_seeds "$bin" findings:: --nocapture --test-threads 2 2>&1 | grep -E 'seed [0-9]+ \(replay|test result|panicked'
