#!/usr/bin/env bash
# P7: peak memory of a test gate over 2 GB of output (goal: under 100 MB),
# beside `tee` copying the same output to a file, the reference for a tool
# that only streams. Two workloads: 2 GB of `yes` (noise, no results), and
# libtest output where each of 20,000 tests prints 100 KB before its
# result. Also prints the log's size (the first and last 64 MB are kept).
# Needs: GNU time (/usr/bin/time). Usage: bench/p7_gate_memory.sh [BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-2000000000}
cargo build --release -q -p porttrack
bin=$PWD/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf '[gate]\nformat = "auto"\ntimeout_secs = 3600\n' > porttrack.toml
"$bin" init --empty >/dev/null 2>&1
tests=20000
per_test=$(( bytes / tests ))
cat > libtest.sh <<SH
#!/bin/sh
# $tests tests, each printing $per_test bytes of noise, then its result line.
echo "running $tests tests"
i=0
while [ \$i -lt $tests ]; do
  head -c $per_test /dev/zero | tr '\\0' 'x' | fold -w 100; echo
  echo "test t::case_\$i ... ok"
  i=\$((i+1))
done
echo "test result: ok. $tests passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s"
SH
measure() { # label, then the command; prints peak RSS in MB and seconds
  local label=$1; shift
  /usr/bin/time -f '%M %e' -o time.txt "$@" > out.txt 2>&1 || true
  # GNU time puts "Command exited with non-zero status N" first when the
  # command fails (the noise gate does: it has no tests).
  read -r kb secs < <(tail -n 1 time.txt)
  echo "$label $((kb / 1024)) MB peak RSS, ${secs} s"
  echo "$((kb / 1024))" > "mb.$label"
}
workloads=${P7_WORKLOADS:-yes libtest}
for w in $workloads; do
  case $w in
    yes) cmd="yes | head -c $bytes" ;;
    libtest) cmd="sh libtest.sh" ;;
  esac
  rm -rf .porttrack
  measure "$w-porttrack" "$bin" gate test -- sh -c "$cmd"
  grep -E 'passed, .* failed' out.txt || true
  log=$(ls -S .porttrack/logs/*.log | head -1)
  echo "P7 $w log kept: $(stat -c %s "$log") bytes"
  measure "$w-tee" sh -c "$cmd | tee tee.log > /dev/null"
done
for w in $workloads; do
  p=$(cat "mb.$w-porttrack"); r=$(cat "mb.$w-tee")
  echo "P7 $w: porttrack $p MB vs tee $r MB peak RSS (goal: porttrack < 100 MB)"
  [ "$p" -lt 100 ] || { echo "P7 $w: over 100 MB" >&2; exit 1; }
done
