#!/usr/bin/env bash
# Benchmark P4: `porttrack verify 33` against the bare test command it wraps
# (the same `cargo test -p ported -- --exact <batch 33's mapped tests>`),
# side by side in one run, printed as a ratio. Goal <= 1.10.
# verify also runs the build gate (cargo build --workspace), the stub scan
# and the status changes; each verify run starts from a fresh built-in
# database so the moves are really made.
# Needs: hyperfine. Usage: bench/p4_verify.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release -q -p porttrack
cargo build -q --workspace --tests
bin=$PWD/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" init --db "$work/fresh.db" >/dev/null
rm -f "$work"/fresh.db-wal "$work"/fresh.db-shm
# The exact test command verify runs, from a dry run.
cp "$work/fresh.db" "$work/probe.db"
bare=$("$bin" verify 33 --db "$work/probe.db" --override bench --dry-run --json | python3 -c 'import json,shlex,sys; print(shlex.join(json.load(sys.stdin)["test"]["command"]))')
echo "bare test command: ${bare:0:120}..."
hyperfine --warmup 1 --runs "$runs" --export-json "$work/p4.json" \
  --prepare "sh -c 'rm -f $work/v.db-wal $work/v.db-shm; cp $work/fresh.db $work/v.db'" \
  -n verify "$bin verify 33 --db $work/v.db --override bench >/dev/null" \
  -n bare "$bare >/dev/null 2>&1"
python3 - "$work/p4.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"P4 verify 33: {r['verify']:.2f} s, bare test command: {r['bare']:.2f} s, ratio {r['verify']/r['bare']:.3f} (goal <= 1.10)")
PY
