#!/usr/bin/env bash
# Writes the sample of go/types links that the importer's real-codebase test
# scores porttrack's links against (precision and recall): every 10th test the
# type checker saw, with all its reference links, and the non-test files it
# compiled (links into other files are not judged).
#   tools/golinks/sample.sh /usr/share/gocode/src/github.com/nats-io/nats-server/server > tests/fixtures/nats-2.9.10-golinks.tsv
# Needs go and golang.org/x/tools on GOPATH (Debian: golang-go, golang-golang-x-tools-dev).
set -euo pipefail
dir=$(cd "${1:?usage: sample.sh GO_DIR}" && pwd -P)
here="$(cd "$(dirname "$0")" && pwd)"
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
(cd "$here" && GO111MODULE=off GOPATH="${GOPATH:-/usr/share/gocode}" go run main.go "$dir") > "$ref"
cat <<HEAD
# Reference links of nats-server 2.9.10's server/ directory (Debian golang-github-nats-io-nats-server-dev),
# established with Go's type checker (go/types through golang.org/x/tools/go/packages), independently of porttrack:
#   tools/golinks/sample.sh /usr/share/gocode/src/github.com/nats-io/nats-server/server
# ($(go version | cut -d' ' -f3) from Debian's golang-go): every 10th test with its links; the files compiled.
# file	path
# test	path	line	name
# link	test path	test line	feature path	feature line	static|dynamic
HEAD
awk -F'\t' '
  $1 == "F" { print "file\t" $2 }
  $1 == "T" { n++; if (n % 10 == 1) { keep[$2 "\t" $3] = 1; print "test\t" $2 "\t" $3 "\t" $4 } }
  $1 == "L" && (($2 "\t" $3) in keep) { print "link\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 }' "$ref"
