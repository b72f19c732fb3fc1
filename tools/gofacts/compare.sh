#!/usr/bin/env bash
# Full row-by-row comparison of porttrack's Go importer with Go's own parser
# (gofacts) on one tree: modules, features (path, line, receiver, name, LOC)
# and tests (path, line, name, LOC). Links: tools/golinks/compare.sh.
#   tools/gofacts/compare.sh /usr/share/gocode/src/github.com/nats-io/nats-server/server
# Needs go, sqlite3 and a built target/debug/porttrack. Exit 1 on any difference.
set -euo pipefail
dir=$(cd "${1:?usage: compare.sh GO_DIR}" && pwd)
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && go run main.go "$dir") > "$work/go.raw"
awk -F'\t' '
  $1 == "M" { print "M\t" $2 "\t" $3 "\t" $4 }
  $1 == "F" { print "F\t" $2 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 }
  $1 == "T" { print "T\t" $2 "\t" $4 "\t" $5 "\t" $6 "\t" $7 }' "$work/go.raw" > "$work/go.tsv"
db="$work/p.db"
"$root/target/debug/porttrack" init --empty --db "$db" > /dev/null
start=$(date +%s.%N)
"$root/target/debug/porttrack" import go "$dir" --db "$db" > /dev/null || [ $? = 8 ]
end=$(date +%s.%N)
sqlite3 -separator $'\t' "$db" "
  SELECT 'M', id, name, dir FROM modules ORDER BY id;
  SELECT 'F', f.id, s.path, f.line, f.receiver, f.name, f.loc FROM features f JOIN source_files s ON s.id = f.file_id ORDER BY f.id;
  SELECT 'T', t.id, s.path, t.line, t.name, t.loc FROM tests t JOIN source_files s ON s.id = t.file_id ORDER BY t.id;" > "$work/porttrack.tsv"
for k in M F T; do
  printf '%s: go/parser %d, porttrack %d\n' "$k" "$(grep -c "^$k" "$work/go.tsv")" "$(grep -c "^$k" "$work/porttrack.tsv")"
done
printf 'import go (debug build): %.2f s\n' "$(echo "$end - $start" | bc)"
if diff <(sort "$work/go.tsv") <(sort "$work/porttrack.tsv") > "$work/diff"; then
  echo "identical, row by row"
else
  head -40 "$work/diff"
  echo "differences: $(grep -c '^[<>]' "$work/diff") lines"
  exit 1
fi
