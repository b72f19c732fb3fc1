#!/usr/bin/env bash
# P4: the gate's result parsers on 100,000 results of each format
# (bench/gen_results.py writes them), timed in-process by the release-mode
# example `parse_results` (best and median of RUNS, default 5), with format
# detection (`auto`) timed too. Prints one line per format.
# Needs: python3. Usage: bench/p4_parse.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release -q -p porttrack --example parse_results
bin=$PWD/target/release/examples/parse_results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_results.py "$work" "$n"
status=0
for case in libtest:libtest.txt nextest-junit:nextest-junit.xml go-json:go-test.json trx:results.trx junit:junit.xml; do
  format=${case%%:*} file=$work/${case#*:}
  line=$("$bin" "$format" "$file" "${RUNS:-5}")
  echo "P4 parse $line"
  # Every generated file holds exactly N results; anything else is a parser bug.
  case $line in *": $n results "*) ;; *) echo "P4 $format: expected $n results" >&2; status=1 ;; esac
  echo "P4 detect+parse $("$bin" auto "$file" "${RUNS:-5}")"
done
exit $status
