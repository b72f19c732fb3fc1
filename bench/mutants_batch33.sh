#!/usr/bin/env bash
# M1 (issue 11): the mutation gate on ported/, batch 33.
#   - cold: `gate mutants --batch 33` with an empty scratch directory (every
#     build from nothing) and an empty database;
#   - warm build: the same again into a second empty database, reusing the
#     scratch trees' build directories: mutants per minute;
#   - warm, nothing changed: the same gate again on that database (every
#     result cached, no cargo-mutants run; goal < 5 s).
# Extra arguments go to each `gate mutants` (e.g. `--shard 0/8` or
# `--features isControlHdr` for a sample; `--jobs 2`). Run it on a clean
# checkout: only then are the runs trusted (and cached). Figures
# (README, Benchmarks M2; 2-core machine, load 6-10) on the sample
# `--features isControlHdr,streamAssignment.copyGroup,raftGroup.isMember,streamAssignment.recoveryKey`:
# cold 171 s, warm build 3.3 mutants/min (8 mutants, baselines included),
# nothing changed 0.36 s. The full batch takes about an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
# porttrack's own speed does not matter here (cargo-mutants' builds do),
# so the debug build the tests use is enough.
cargo build --locked -q
P=$PWD/target/debug/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PORTTRACK_MUTANTS_DIR="$work/scratch"

for db in cold warm; do
  "$P" init --db "$work/$db.db" >/dev/null
done

gate() { # gate DB OUT: run the gate, print its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$P" gate mutants --batch 33 "${@:3}" --json --db "$work/$1.db" >"$work/$2.json" || true
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

cold=$(gate cold cold "$@")
warm_build=$(gate warm warm "$@")
warm=$(gate warm cached "$@")

python3 - "$work" "$cold" "$warm_build" "$warm" <<'PY'
import json, sys
work, cold, warm_build, warm = sys.argv[1], *map(float, sys.argv[2:])
def load(name):
    return json.load(open(f"{work}/{name}.json"))
for name, wall in (("cold", cold), ("warm", warm_build)):
    r = load(name)
    t = r["totals"]
    tested = t["caught"] + t["timeout"] + t["missed"] + t["suppressed"] + t["unviable"]
    mutating_s = sum(f["duration_ms"] for f in r["features"]) / 1000
    rate = tested / (mutating_s / 60) if mutating_s else 0
    print(f"{name:5} build: {len(r['features'])} features, {r['mutated']} mutated, {tested} mutants "
          f"({t['caught']} caught, {t['timeout']} timeout, {t['missed']} missed, {t['unviable']} unviable, {t['suppressed']} declared) "
          f"in {wall:.1f} s wall; {rate:.1f} mutants/min")
c = load("cached")
print(f"warm, nothing changed: {c['cached']} cached, {c['mutated']} mutated, {warm:.2f} s wall (goal < 5 s)")
PY
