#!/usr/bin/env bash
# Benchmark P8: `report html` (the whole page: one history replay, every
# batch, the drill-downs) beside the sqlite3 CLI reading the rows the page
# is computed from (bench/sql/report_html.sql), on
#   1. the built-in database after `verify 33` (goal: under 1 s), and
#   2. a synthetic 1,000,000-item database with a year of history,
#      bench/synthetic_history.sql (goal: under 10 s).
# Needs: hyperfine, sqlite3 (apt-get install -y hyperfine sqlite3). Case 1
# runs `verify 33` first (the ported tests: a few minutes); case 2 builds
# the synthetic database first (a few minutes).
# Usage: bench/p8_report_html.sh [builtin|big|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
cargo build --release -q -p porttrack
root=$PWD
bin=$root/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mean wall time in ms of one command, from hyperfine's JSON export
measure() { # name command...
  local name=$1; shift
  hyperfine -N --warmup 2 --runs "${RUNS:-20}" --export-json "$work/$name.json" "$@" >/dev/null
  python3 -c "import json,sys; print('%.0f' % (json.load(open(sys.argv[1]))['results'][0]['mean']*1000))" "$work/$name.json"
}
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

if [ "$which" = all ] || [ "$which" = builtin ]; then
  "$bin" init --db "$work/porting.db" >/dev/null
  "$bin" verify 33 --override "batch 32 is ported alongside" --db "$work/porting.db" >"$work/verify.log" 2>&1 || { tail -20 "$work/verify.log"; exit 1; }
  changes=$(sqlite3 "$work/porting.db" "SELECT count(*) FROM status_history")
  ours=$(measure p7-builtin "$bin report html --db $work/porting.db -o $work/builtin.html")
  ref=$(measure p7-builtin-sqlite "sqlite3 $work/porting.db -init /dev/null \".read $root/bench/sql/report_html.sql\"")
  size=$(stat -c %s "$work/builtin.html")
  echo "P8 report html, built-in database after verify 33 ($changes changes, page $((size / 1024)) KiB): porttrack ${ours} ms (goal < 1000), sqlite3 ${ref} ms, ratio $(ratio "$ours" "$ref")"
fi

if [ "$which" = all ] || [ "$which" = big ]; then
  "$bin" init --empty --db "$work/big.db" >/dev/null
  sqlite3 "$work/big.db" < bench/synthetic_history.sql
  changes=$(sqlite3 "$work/big.db" "SELECT count(*) FROM status_history")
  ours=$(RUNS=${RUNS:-5} measure p7-big "$bin report html --db $work/big.db -o $work/big.html")
  ref=$(RUNS=${RUNS:-5} measure p7-big-sqlite "sqlite3 $work/big.db -init /dev/null \".read $root/bench/sql/report_html.sql\"")
  size=$(stat -c %s "$work/big.html")
  echo "P8 report html, 1,000,000 items, $changes changes over a year (page $((size / 1024)) KiB): porttrack ${ours} ms (goal < 10000), sqlite3 ${ref} ms, ratio $(ratio "$ours" "$ref")"
fi
