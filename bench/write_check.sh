#!/usr/bin/env bash
# Benchmark W1: the check every write command runs before it writes (the
# ends of both hash chains, the changed items replayed from their history,
# the schema against porting.db.schema at open; see src/db/integrity.rs),
# on the synthetic 1,000,000-item database (bench/synthetic.sql) with a
# history of 30,000 rows. Goal: < 100 ms per write command.
# Printed side by side with what it replaces, SQLite's PRAGMA quick_check
# on the same file, and with `batch show` of the same batch (read only) and
# a dry run of the write (everything but the commit).
# Needs: hyperfine, sqlite3. Usage: bench/write_check.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release -q -p porttrack
bin=$PWD/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/big.db
"$bin" init --empty --db "$db" >/dev/null
sqlite3 "$db" < bench/synthetic.sql
# A history to check against: 2,000 chunked updates of 15 not_started
# features of batch 2 (30,000 rows), written by porttrack itself; the
# measured batch's features have no history, like the synthetic rows.
batch=7
ids=$(sqlite3 "$db" "SELECT group_concat(id) FROM (SELECT id FROM features WHERE batch_id = $batch AND status = 'not_started' ORDER BY id LIMIT 15)")
other=$(sqlite3 "$db" "SELECT group_concat(id) FROM (SELECT id FROM features WHERE batch_id = 2 AND status = 'not_started' ORDER BY id LIMIT 15)")
for i in $(seq 1 1000); do
  "$bin" batch update 2 --features "$other" --status stub --reason "bench $i" --db "$db" >/dev/null
  "$bin" batch update 2 --features "$other" --status not_started --reason "bench $i" --db "$db" >/dev/null
done
echo "history rows: $(sqlite3 "$db" 'SELECT count(*) FROM status_history'), items: $(sqlite3 "$db" 'SELECT (SELECT count(*) FROM features) + (SELECT count(*) FROM tests)')"

ms() { python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['results'][0]['mean']*1000))" "$1"; }
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/write.json" \
  --prepare "$bin batch update $batch --features $ids --status not_started --reason reset --db $db" \
  "$bin batch update $batch --features $ids --status stub --reason bench --db $db" >/dev/null
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/dry.json" \
  "$bin batch update $batch --features $ids --status stub --reason bench --dry-run --db $db" >/dev/null
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/read.json" "$bin batch show $batch --db $db" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$work/quick.json" "sqlite3 $db -init /dev/null 'PRAGMA quick_check'" >/dev/null
write=$(ms "$work/write.json"); dry=$(ms "$work/dry.json"); read=$(ms "$work/read.json"); quick=$(ms "$work/quick.json")
echo "W1 write command (batch update of 15 items, 1,000,000 items): ${write} ms (goal < 100); read-only batch show ${read} ms"
# A dry run opens the file (schema check), runs the pre-write check and
# the judgement in the write transaction, and rolls back: everything but
# the commit's fsync, so it bounds what the check costs.
python3 -c "import sys; w,d,q=map(float,sys.argv[1:]); print(f'W1 check + judgement <= dry run = {d:.1f} ms (the rest, {w-d:.1f} ms, is the commit); PRAGMA quick_check {q:.1f} ms ({q/w:.1f}x a whole write command)')" "$write" "$dry" "$quick"
