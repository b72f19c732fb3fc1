#!/usr/bin/env bash
# Raft benchmarks of the port, printed side by side with their references:
#  P5   the 17 batch-33 raft_test.go ports (ported/tests/nrg/batch33.rs),
#       each run alone (median of RUNS) in the debug and the release test
#       binary, and all 17 in one process, beside what the Go tests wait for
#       as their source shows it (ported/bench/p5_go_waits.tsv says exactly
#       how each wait is counted) and beside the simulated time the port's
#       run covers. Goal: the 17 together <= 2 s.
#  P6   1,000 fault seeds of the simulation, release build. Goal <= 60 s.
#  TPUT commit throughput of a three-node group in the simulator.
#  PLANTED (only when asked for) the planted-bug table: first catching seed
#       and catches of 1,000, full model and random schedules only.
# P6, TPUT and PLANTED are `cargo bench -p ported --bench raft` (ported/benches/raft.rs).
# Needs: cargo, python3. Usage: ported/bench/raft.sh [p5|p6|throughput|planted]...
# Environment: RUNS (default 3) runs per P5 test; NRG_BENCH_SEEDS for P6.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(p5 p6 throughput)
want() { local w; for w in "${what[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

test_bin() {
  # Builds the nrg integration test binary of the given profile, prints its path.
  cargo test -p ported --test nrg --no-run "$@" 2>&1 |
    sed -n 's/.*Executable tests\/nrg.rs (\(.*\))$/\1/p' | tail -n 1
}

if want p5; then
  debug_bin=$(test_bin)
  release_bin=$(test_bin --release)
  [ -x "$debug_bin" ] && [ -x "$release_bin" ] || { echo "could not build the nrg test binaries" >&2; exit 1; }
  # One seed per test, as one run of a Go test is one interleaving (CI runs
  # each port over 20 seeds; that is 20 runs, not one slower run).
  NRG_TEST_SEEDS=1 RUNS=${RUNS:-3} python3 - "$here/p5_go_waits.tsv" "$debug_bin" "$release_bin" <<'PY'
import collections, os, re, statistics, subprocess, sys, time

tsv, debug_bin, release_bin = sys.argv[1:4]
runs = int(os.environ.get("RUNS", "3"))
go = collections.OrderedDict()   # rust test -> [go name, typical ms, setup ms, budget ms]
for line in open(tsv):
    if line.startswith("#") or not line.strip():
        continue
    g, r, item, rule, count, each, budget = line.rstrip("\n").split("\t")
    e = go.setdefault(r, [g, 0, 0, 0])
    e[1] += int(count) * int(each)
    e[3] += int(count) * int(budget)
    if rule.startswith("SETUP"):
        e[2] += int(count) * int(each)
tests = list(go)

def run(binary, names, threads, env=None, extra=()):
    t = time.perf_counter()
    p = subprocess.run([binary, "--exact", "--test-threads", str(threads), "-q", *extra, *names],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{names} failed:\n{p.stdout}\n{p.stderr}")
    return dt, p.stderr

def median_run(binary, name):
    return statistics.median(run(binary, [name], 1)[0] for _ in range(runs))

# Simulated time each test's clusters covered (printed by the simulator
# when NRG_SIM_TIME=1); summed over the clusters of a test.
env = dict(os.environ, NRG_SIM_TIME="1")
sim = collections.defaultdict(float)
_, err = run(release_bin, tests, 1, env, ("--nocapture",))
for m in re.finditer(r"^nrg-sim-time (\S+) ([0-9.]+)$", err, re.M):
    sim[m.group(1)] += float(m.group(2))

rows = []
for t in tests:
    rows.append((t, go[t], sim.get(t, float("nan")), median_run(debug_bin, t), median_run(release_bin, t)))

print(f"P5  {len(tests)} batch-33 raft tests; Rust times are the median of {runs} runs of each test alone (process start included)")
hdr = f"{'Go test':<55} {'Go waits s':>10} {'(no setup)':>10} {'Go budget s':>11} {'Rust sim s':>10} {'debug ms':>9} {'release ms':>10} {'Go/debug':>9}"
print(hdr)
print("-" * len(hdr))
tot = [0.0] * 6
for t, (g, typ, setup, budget), s, d, r in rows:
    print(f"{g:<55} {typ/1e3:>10.2f} {(typ-setup)/1e3:>10.2f} {budget/1e3:>11.0f} {s:>10.2f} {d*1e3:>9.1f} {r*1e3:>10.1f} {typ/1e3/d:>8.0f}x")
    for i, v in enumerate((typ / 1e3, (typ - setup) / 1e3, budget / 1e3, s, d, r)):
        tot[i] += v
print("-" * len(hdr))
print(f"{'sum of the tests run one by one':<55} {tot[0]:>10.2f} {tot[1]:>10.2f} {tot[2]:>11.0f} {tot[3]:>10.2f} {tot[4]*1e3:>9.1f} {tot[5]*1e3:>10.1f} {tot[0]/tot[4]:>8.0f}x")
together = {}
for label, binary in (("debug", debug_bin), ("release", release_bin)):
    for threads in (1, 2):
        together[(label, threads)] = statistics.median(run(binary, tests, threads)[0] for _ in range(runs))
for (label, threads), dt in together.items():
    print(f"P5  all {len(tests)} in one {label} process, {threads} test thread(s): {dt:.3f} s; goal <= 2 s: "
          f"{'met' if dt <= 2.0 else 'NOT met'} (ratio {dt/2.0:.2f} of the goal); "
          f"Go waits {tot[0]:.1f} s are {tot[0]/dt:.0f}x that ({tot[1]/dt:.0f}x without cluster setup)")
PY
fi

if want p6 || want throughput || want planted; then
  args=()
  want p6 && args+=(p6)
  want throughput && args+=(throughput)
  want planted && args+=(planted)
  cargo bench -q -p ported --bench raft -- "${args[@]}" 2>&1 | grep -E '^(P6|TPUT|PLANTED|seed )'
fi
