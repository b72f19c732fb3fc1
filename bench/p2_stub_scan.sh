#!/usr/bin/env bash
# Benchmark P2: `porttrack stub scan` over a large tree no one here wrote —
# the crate sources under ~/.cargo/registry/src plus Debian's Go sources in
# /usr/share/gocode/src — against rg searching the same files for the same
# trigger patterns in the same run. Prints lines scanned, both mean times and
# the ratio (porttrack / rg; goal <= 1.25).
# Needs: hyperfine, ripgrep, and Go sources (apt-get install -y hyperfine
# ripgrep golang-github-nats-io-nats-server-dev pulls a tree of them).
# Usage: bench/p2_stub_scan.sh [DIR...]   (default: the two trees above)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p porttrack
bin=$PWD/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then trees=("$@"); else trees=("$HOME/.cargo/registry/src" /usr/share/gocode/src); fi
# The file types the scan reads, as rg globs, so both read the same files.
globs=()
for ext in rs cs go py ts tsx mts cts js jsx mjs cjs; do globs+=(-g "*.$ext"); done

# The scan's trigger patterns (src/stubscan/rules/mod.rs) of the Rust, C#
# and Go rule sets with the comment and suppression ones: rg reports every
# line matching one; the scan lexes the files they hit and runs its rules
# there. (The tree has almost no Python or TypeScript, and their patterns'
# Unicode word boundaries would only slow rg down.)
patterns=(
  'todo!' 'unimplemented!'
  '(?:panic|unreachable)!\s*[(\[{][^;]*?(?i-u:implemented|todo|stub|fixme|placeholder)'
  '#\[ignore' '#\[(?:\w+::)*test\b'
  'NotImplementedException' 'Skip|Ignore'
  '\[(?:Fact|Theory|Test|TestMethod|TestCase|SkippableFact|SkippableTheory)\b'
  'panic\([^\n]*?(?i-u:implemented|todo|stub|fixme|placeholder)' '\.Skip' 'func Test'
  'TODO|FIXME|XXX|[Ss]tub|STUB|[Pp]laceholder|PLACEHOLDER|[Nn]ot (?:yet )?implemented|[Uu]nimplemented'
  'porttrack:'
)
rg_cmd="rg -n --no-heading"
for g in "${globs[@]}"; do rg_cmd+=" '$g'"; done
# (?-u) as in the scan: ASCII \w and \b.
for p in "${patterns[@]}"; do rg_cmd+=" -e '(?-u)$p'"; done
rg_cmd+=" ${trees[*]}"
# rg -l stops reading a file at its first match: a lower bound for any
# scan that must see every match.
rg_l_cmd=${rg_cmd/rg -n --no-heading/rg -l}

files=$(rg --files "${globs[@]}" "${trees[@]}" | wc -l)
lines=$(rg --files -0 "${globs[@]}" "${trees[@]}" | xargs -0 cat | wc -l)
findings=$(cd "$work" && "$bin" stub scan "${trees[@]}" | tail -n 1 || true)
echo "P2 tree: ${trees[*]}: $files files, $lines lines; scan: $findings"

# Both write their results into a pipe (rg treats /dev/null as --quiet), and
# both exit 1 when they find nothing / find something, hence -i.
hyperfine -N -i --warmup 2 --runs "${RUNS:-15}" --output=pipe --export-json "$work/p2.json" \
  -n porttrack "$bin stub scan ${trees[*]}" -n rg "$rg_cmd" -n rg-l "$rg_l_cmd" >/dev/null
read -r ours ref ref_l < <(python3 -c "
import json, sys
r = {x['command']: x['mean'] * 1000 for x in json.load(open(sys.argv[1]))['results']}
print('%.1f %.1f %.1f' % (r['porttrack'], r['rg'], r['rg-l']))" "$work/p2.json")
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
echo "P2 stub scan: porttrack ${ours} ms, rg ${ref} ms, ratio $(ratio "$ours" "$ref") (goal <= 1.25)"
echo "P2 reference: rg -l (first match per file only) ${ref_l} ms, ratio $(ratio "$ours" "$ref_l")"
