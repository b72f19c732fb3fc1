#!/usr/bin/env bash
# Issue 15 at full size: 8 copies of the built-in database, each with N
# chunked updates (7 features per update, default N = 200, i.e. 11,200
# changes), merged pairwise into main with `db merge`'s library path; the
# test checks that every acknowledged change ID is present and the result
# passes the integrity checks, and prints how long writing and merging took.
# CI runs the same test with N = 25 (tests/it/merge_scale.rs).
# Usage: bench/merge_scale.sh [N] [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
updates=${1:-200}
profile=()
if [[ "${2:-}" == "--release" ]]; then profile=(--release); fi
PORTTRACK_MERGE_UPDATES=$updates cargo test "${profile[@]}" -q --test tests issue15_eight_copies -- --nocapture 2>&1 | grep -E "merge scale|test result|panicked|FAILED"
