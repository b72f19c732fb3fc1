#!/usr/bin/env bash
# Precision benchmark for `porttrack stub scan`: fetch real trees nobody
# here wrote (bench/precision/corpus.txt, pinned), scan them, draw a seeded
# sample stratified by rule, and check it against the findings labelled by
# reading their code (bench/precision/labels.tsv). Prints precision per rule
# and overall; exit 1 when a sampled finding has no label (they are listed:
# read each and add a line) or a goal is missed (>= 90 % per rule, >= 95 %
# overall, >= 200 findings judged).
# Needs: cargo, pip, npm, python3, and root for apt-get (Debian's Go sources).
# Usage: bench/precision/run.sh        PER_RULE=30 SEED=14 by default;
#        PRECISION_DIR (default ~/.cache/porttrack-precision) holds the trees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${PRECISION_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/porttrack-precision}
gocode=/usr/share/gocode/src
mkdir -p "$dir/py" "$dir/npm"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
debs=()
while read -r kind what version; do
  case "$kind" in
    crates)
      # Vendored again whenever the pinned lock file changes.
      lock="$(dirname "$here/$what")/Cargo.lock"
      stamp=$(sha256sum "$lock" | cut -d' ' -f1)
      if [ ! -d "$dir/crates" ] || [ "$(cat "$dir/crates.lock" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$dir/crates"
        cargo vendor --quiet --locked --versioned-dirs --manifest-path "$here/$what" "$dir/crates" >/dev/null
        echo "$stamp" >"$dir/crates.lock"
      fi ;;
    pypi)
      name=${what%%==*}; ver=${what##*==}
      if ! compgen -G "$dir/py/${name}-${ver}" >/dev/null; then
        (cd "$dir/py" && pip download --quiet --no-binary :all: --no-deps "$what" && tar xzf "${name}-${ver}.tar.gz")
      fi ;;
    npm)
      name=${what%@*}; ver=${what##*@}
      if [ ! -d "$dir/npm/${name}-${ver}" ]; then
        (cd "$dir/npm" && npm pack --silent "$what" >/dev/null && mkdir -p "${name}-${ver}" && tar xzf "${name}-${ver}.tgz" -C "${name}-${ver}" --strip-components=1)
      fi ;;
    deb)
      have=$(dpkg-query -W -f='${Version}' "$what" 2>/dev/null || true)
      if [ "$have" != "$version" ]; then debs+=("$what=$version"); fi ;;
    ''|'#'*) ;;
  esac
done < <(grep -v '^#' "$here/corpus.txt")
if [ ${#debs[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "${debs[@]}"
fi

(cd "$repo" && cargo build -q -p porttrack)
# From the corpus directory, so paths are crates/…, py/…, npm/…; no
# porttrack.toml applies there: the scan runs with its defaults.
(cd "$dir" && "$repo/target/debug/porttrack" stub scan crates py npm "$gocode" --format json >"$dir/findings.json") || true
python3 "$here/sample.py" "$dir/findings.json" "$here/labels.tsv" --root "$dir" --go "$gocode" \
  --per-rule "${PER_RULE:-30}" --seed "${SEED:-14}"
