#!/usr/bin/env bash
# Writes the sample of Go-parser facts that the importer's real-codebase test
# checks row by row: totals (modules, features, tests), every module, and
# every 25th feature and test. (Links: tools/golinks/sample.sh.)
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
# kind	id	path	line	receiver	name	loc
HEAD
awk -F'\t' '
  $1 == "M" { nm++; m[nm] = "module\t" $2 "\t" $4 "\t\t\t" $3 "\t" }
  $1 == "F" { nf++; if ($2 % 25 == 1) f[++sf] = "feature\t" $2 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 }
  $1 == "T" { nt++; if ($2 % 25 == 1) t[++st] = "test\t" $2 "\t" $4 "\t" $5 "\t\t" $6 "\t" $7 }
  END {
    print "total\tmodules\t" nm
    print "total\tfeatures\t" nf
    print "total\ttests\t" nt
    for (i = 1; i <= nm; i++) print m[i]
    for (i = 1; i <= sf; i++) print f[i]
    for (i = 1; i <= st; i++) print t[i]
  }' "$facts"
