#!/usr/bin/env bash
# Regenerates docs/report-html.png, README's screenshot of `report html`:
# the built-in database after `verify 33` (the ported tests run: a few
# minutes), rendered by headless Chromium (apt-get install -y chromium).
# Usage: tools/readme_screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p porttrack
bin=$PWD/target/release/porttrack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" init --db "$work/porting.db" >/dev/null
"$bin" verify 33 --override "batch 32 is ported alongside" --db "$work/porting.db" >"$work/verify.log" 2>&1 || { tail -20 "$work/verify.log"; exit 1; }
"$bin" report html --db "$work/porting.db" -o "$work/report.html"
# The flags that keep Chromium off the network and let it run as root.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,1500 \
  --screenshot="$PWD/docs/report-html.png" "file://$work/report.html" 2>/dev/null
echo "wrote docs/report-html.png"
