#!/bin/sh
# Writes ported/tests/fixtures/go_vectors/stream_encodings.tsv (see main.go);
# `gen.sh verify` has Go decode the port's encodings (rust_stream_msgs.tsv)
# and writes rust_verified_by_go.tsv.
# Builds in a temporary GOPATH: a copy of Debian's nats-server 2.9.10
# server package with our porttrack_vectors_ext.go.txt added, 8188ea93a's
# server/avl from the read-only mirror, and our cmp/slices stand-ins.
# Nothing copied into the temporary GOPATH is committed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mirror=${NATS_MIRROR:-/work/.mirror/nats-io+nats-server/repo}
fx=$here/../../tests/fixtures/go_vectors
mode=gen; [ "${1:-}" = verify ] && mode=verify
out=$fx/stream_encodings.tsv
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
G=$T/src/github.com/nats-io/nats-server/v2
mkdir -p "$G/server/avl" "$T/src/cmp" "$T/src/slices" "$T/src/gen"
cp -r /usr/share/gocode/src/github.com/nats-io/nats-server/server /usr/share/gocode/src/github.com/nats-io/nats-server/logger \
      /usr/share/gocode/src/github.com/nats-io/nats-server/conf /usr/share/gocode/src/github.com/nats-io/nats-server/internal "$G/"
rm -f "$G"/server/*_test.go
cp "$here/porttrack_vectors_ext.go.txt" "$G/server/zz_porttrack_vectors.go"
git -C "$mirror" show 8188ea93a:server/avl/seqset.go > "$G/server/avl/seqset.go"
cp "$here/shim/cmp/cmp.go" "$T/src/cmp/"
cp "$here/shim/slices/slices.go" "$T/src/slices/"
cp "$here/main.go" "$T/src/gen/"
mkdir -p "$(dirname "$out")"
if [ $mode = verify ]; then
  out=$fx/rust_verified_by_go.tsv
  (cd "$T/src/gen" && GO111MODULE=off GOPATH=$T:/usr/share/gocode go run main.go verify "$fx/rust_stream_msgs.tsv") > "$out.tmp"
else
  (cd "$T/src/gen" && GO111MODULE=off GOPATH=$T:/usr/share/gocode go run main.go) > "$out.tmp"
fi
mv "$out.tmp" "$out"
wc -l "$out"
