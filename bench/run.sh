#!/usr/bin/env bash
# porttrack benchmarks, each measured side by side with a reference tool in
# one run and printed as a ratio (porttrack time / reference time).
#   P1  batch show 33 and report summary vs the sqlite3 CLI running the same
#       queries (bench/sql/*.sql) on the same file; report summary on a
#       synthetic 1,000,000-item database (bench/synthetic.sql).
#   P3  import go into a fresh database vs ctags -R --languages=Go on the same
#       files, on two trees side by side: the Go 1.19 standard library
#       (Debian golang-1.19-src, /usr/share/go-1.19/src) and nats-server
#       2.9.10's server/ (golang-github-nats-io-nats-server-dev). ctags is
#       told to leave out what the import leaves out (testdata/, _ and .
#       directories); a second stdlib line keeps testdata/ on both sides.
# Needs: hyperfine, sqlite3, universal-ctags (apt-get install -y hyperfine
# sqlite3 universal-ctags golang-go golang-github-nats-io-nats-server-dev).
# Usage: bench/run.sh [p1|p3|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
cargo build --release -q -p porttrack
root=$PWD
bin=$root/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mean wall time in ms of one command, from hyperfine's JSON export
measure() { # name prepare command...
  local name=$1 prep=$2; shift 2
  hyperfine -N --warmup 3 --runs "${RUNS:-30}" ${prep:+--prepare "$prep"} --export-json "$work/$name.json" "$@" >/dev/null
  python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['results'][0]['mean']*1000))" "$work/$name.json"
}
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

if [ "$which" = all ] || [ "$which" = p1 ]; then
  (cd "$work" && "$bin" init >/dev/null)
  for case in "batch show 33:batch_show_33" "report summary:report_summary"; do
    cmd=${case%%:*}; sql=${case##*:}
    # shellcheck disable=SC2086
    ours=$(cd "$work" && measure "p1-$sql" "" "$bin $cmd --db $work/porting.db")
    ref=$(cd "$work" && measure "p1-$sql-sqlite" "" "sqlite3 $work/porting.db -init /dev/null \".read $root/bench/sql/$sql.sql\"")
    echo "P1 $cmd: porttrack ${ours} ms, sqlite3 ${ref} ms, ratio $(ratio "$ours" "$ref") (goal <= 1.30)"
  done
  "$bin" init --empty --db "$work/big.db" >/dev/null
  sqlite3 "$work/big.db" < bench/synthetic.sql
  ours=$(RUNS=10 measure p1-big "" "$bin report summary --db $work/big.db")
  ref=$(RUNS=10 measure p1-big-sqlite "" "sqlite3 $work/big.db -init /dev/null \".read $root/bench/sql/report_summary.sql\"")
  echo "P1 report summary, 1,000,000 items: porttrack ${ours} ms (goal <= 150), sqlite3 ${ref} ms, ratio $(ratio "$ours" "$ref")"
fi

if [ "$which" = all ] || [ "$which" = p3 ]; then
  "$bin" init --empty --db "$work/empty.db" >/dev/null
  rm -f "$work"/empty.db-wal "$work"/empty.db-shm
  fresh="sh -c 'rm -f $work/imp.db-wal $work/imp.db-shm; cp $work/empty.db $work/imp.db'"
  set -f  # the ctags globs below are for ctags
  skips="--exclude=testdata --exclude=_* --exclude=.*"
  p3() { # label dir [import options] -- [ctags options]
    local label=$1 dir=$2; shift 2
    local ours_opts=() ctags_opts=()
    while [ "$1" != -- ]; do ours_opts+=("$1"); shift; done; shift
    ctags_opts=("$@")
    local ours ref key=${label//[^A-Za-z0-9]/_}
    # The import exits 8 when a file does not tokenize; the benchmark trees have none.
    ours=$(measure "p3-$key" "$fresh" "$bin import go $dir ${ours_opts[*]} --db $work/imp.db")
    ref=$(measure "p3-$key-ctags" "" "ctags -R --languages=Go ${ctags_opts[*]} -f $work/tags $dir")
    printf 'P3 %-40s porttrack %8s ms, ctags %8s ms, ratio %s (goal <= 1.00)\n' "$label:" "$ours" "$ref" "$(ratio "$ours" "$ref")"
  }
  stdlib=/usr/share/go-1.19/src
  nats=/usr/share/gocode/src/github.com/nats-io/nats-server/server
  # shellcheck disable=SC2086
  p3 "Go 1.19 standard library" "$stdlib" -- $skips
  p3 "Go 1.19 standard library with testdata/" "$stdlib" --include-testdata -- --exclude=_* --exclude=.*
  # shellcheck disable=SC2086
  p3 "nats-server 2.9.10 server/" "$nats" -- $skips
fi
