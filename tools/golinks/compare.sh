#!/usr/bin/env bash
# Precision and recall of porttrack's test→feature links against Go's type
# checker (tools/golinks/main.go) on one Go tree.
#   tools/golinks/compare.sh [--porttrack BIN] [--min-precision P] [--min-recall R] GO_DIR
# A link is (test, feature), each by file and line. The reference holds the
# static calls go/types resolves and, for interface method calls, every
# concrete method of the tree that implements the method ("dynamic").
# Counted only where go/types can judge: tests it saw (build constraints
# leave some out) and features in files it compiled. Prints precision and
# recall against static links alone and against static + dynamic, and the
# links porttrack makes that the reference does not, by name (the first 15).
# Needs go, golang.org/x/tools on GOPATH (Debian: golang-golang-x-tools-dev),
# sqlite3, and a built porttrack (default target/debug/porttrack).
# Exit 1 when precision or recall (static + dynamic) is below the minimum.
# KEEP=1 keeps the work directory (go.tsv, porttrack.tsv) for a closer look.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/target/debug/porttrack"
min_p=0 min_r=0
while [ $# -gt 1 ]; do
  case $1 in
    --porttrack) bin=$2; shift 2 ;;
    --min-precision) min_p=$2; shift 2 ;;
    --min-recall) min_r=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
dir=$(cd "${1:?usage: compare.sh [options] GO_DIR}" && pwd -P)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "work: $work" >&2

(cd "$here" && GO111MODULE=off GOPATH="${GOPATH:-/usr/share/gocode}" go run main.go "$dir") > "$work/go.tsv"
"$bin" init --empty --db "$work/p.db" > /dev/null
"$bin" import go "$dir" --db "$work/p.db" > /dev/null || [ $? = 8 ]
sqlite3 -separator $'\t' "$work/p.db" "
  SELECT ts.path, t.line, fs.path, f.line, CASE WHEN f.receiver = '' THEN f.name ELSE f.receiver || '.' || f.name END, t.name
  FROM feature_tests l JOIN tests t ON t.id = l.test_id JOIN source_files ts ON ts.id = t.file_id
  JOIN features f ON f.id = l.feature_id JOIN source_files fs ON fs.id = f.file_id;" > "$work/porttrack.tsv"

python3 - "$work/go.tsv" "$work/porttrack.tsv" "$min_p" "$min_r" <<'PY'
import sys, collections
go, ours, min_p, min_r = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
files, tests, static, dynamic = set(), set(), set(), set()
for line in open(go):
    c = line.rstrip("\n").split("\t")
    if c[0] == "F": files.add(c[1])
    elif c[0] == "T": tests.add((c[1], c[2]))
    elif c[0] == "L": (static if c[5] == "static" else dynamic).add((c[1], c[2], c[3], c[4]))
names, made, outside = {}, set(), 0
for line in open(ours):
    tp, tl, fp, fl, fname, tname = line.rstrip("\n").split("\t")
    if (tp, tl) not in tests or fp not in files:
        outside += 1
        continue
    k = (tp, tl, fp, fl)
    made.add(k)
    names[k] = (tname, fname)
def pct(a, b): return 100.0 * a / b if b else 100.0
both = static | dynamic
print(f"reference: {len(tests)} tests, {len(static)} static links, {len(dynamic - static)} more through interfaces")
print(f"porttrack: {len(made)} links judged ({outside} outside what go/types compiled)")
p_s, r_s = pct(len(made & static), len(made)), pct(len(made & static), len(static))
p_b, r_b = pct(len(made & both), len(made)), pct(len(made & both), len(both))
print(f"static:            precision {p_s:5.1f} %  recall {r_s:5.1f} %")
print(f"static + dynamic:  precision {p_b:5.1f} %  recall {r_b:5.1f} %")
wrong = collections.Counter(names[k][1] for k in made - both)
print("extra links by feature:", ", ".join(f"{n} {c}" for n, c in wrong.most_common(15)))
missed = collections.Counter(k[2] for k in static - made)
print("missed static links by feature file:", ", ".join(f"{n} {c}" for n, c in missed.most_common(8)))
sys.exit(0 if p_b >= min_p and r_b >= min_r else 1)
PY
