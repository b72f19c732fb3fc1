#!/usr/bin/env bash
# Writes the sample of Go-parser facts that the importer's real-codebase test
# checks row by row: totals (modules, features, tests, links), every module,
# and every 25th feature and test with its number of linked features.
#   tools/gofacts/sample.sh /usr/share/gocode/src/github.com/nats-io/nats-server/server > tests/fixtures/nats-2.9.10-facts.tsv
set -euo pipefail
dir=${1:?usage: sample.sh GO_DIR}
here="$(cd "$(dirname "$0")" && pwd)"
facts=$(mktemp)
trap 'rm -f "$facts"' EXIT
(cd "$here" && go run main.go "$dir") > "$facts"
cat <<HEAD
# Facts about nats-server 2.9.10's server/ directory (Debian golang-github-nats-io-nats-server-dev),
# established with Go's own parser, independently of porttrack's importer:
#   tools/gofacts/sample.sh /usr/share/gocode/src/github.com/nats-io/nats-server/server
# ($(go version | cut -d' ' -f3) from Debian's golang-go): totals, every module, every 25th feature and test.
# kind	id	path	line	receiver	name	loc	links
HEAD
awk -F'\t' '
  $1 == "M" { nm++; m[nm] = "module\t" $2 "\t" $4 "\t\t\t" $3 "\t\t" }
  $1 == "F" { nf++; per_name[$7]++; if ($2 % 25 == 1) f[++sf] = "feature\t" $2 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 "\t" }
  $1 == "T" { nt++; if ($2 % 25 == 1) t[$2] = "test\t" $2 "\t" $4 "\t" $5 "\t\t" $6 "\t" $7 }
  $1 == "C" { calls[$2] = $3 }
  END {
    links = 0
    for (id = 1; id <= nt; id++) {
      k = split(calls[id], names, ",")
      n = 0
      for (j = 1; j <= k; j++) n += per_name[names[j]]
      links += n
      if (id in t) t[id] = t[id] "\t" n
    }
    print "total\tmodules\t" nm
    print "total\tfeatures\t" nf
    print "total\ttests\t" nt
    print "total\tlinks\t" links
    for (i = 1; i <= nm; i++) print m[i]
    for (i = 1; i <= sf; i++) print f[i]
    for (id = 1; id <= nt; id++) if (id in t) print t[id]
  }' "$facts"
