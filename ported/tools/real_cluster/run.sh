#!/usr/bin/env bash
# Runs a 3-node JetStream cluster of Debian's nats-server on 127.0.0.1,
# creates streams and consumers in two accounts (client/main.go, nats.go),
# records what the servers report, shuts the servers down cleanly (which
# makes each write a meta snapshot) and copies the meta-group snapshot files
# plus the reports into the fixture directory.
#
#   ported/tools/real_cluster/run.sh [OUT_DIR]   (default: ported/tests/fixtures/real_cluster)
#
# With --unclean the client runs its create/update/delete scenario
# (client/unclean.go) and the servers are stopped with SIGKILL, so no
# snapshot is written at shutdown and the raft log holds the later entries;
# each server's whole meta-group directory (msgs/, snapshots/, peers.idx,
# tav.idx, meta.inf, meta.sum) is copied.
#
#   ported/tools/real_cluster/run.sh --unclean [OUT_DIR]   (default: ported/tests/fixtures/real_cluster_wal)
#
# With --streams the client runs the stream scenario (client/streams.go:
# R1/R3 file and memory streams, message ids, deletes, a filtered purge, an
# update, leader step-downs), writes stream_info.json, advisories.json and
# ops.json, and the servers are stopped with SIGKILL; each server's whole
# jetstream/ tree (meta group, stream groups, stream stores) is copied.
#
#   ported/tools/real_cluster/run.sh --streams [OUT_DIR]   (default: ported/tests/fixtures/real_cluster_streams)
#
# Needs: nats-server (2.9.10 from Debian), go + golang-github-nats-io-go-nats-dev,
# curl. Only loopback addresses are used; everything else lives in a temp dir.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
UNCLEAN=0
STREAMS=0
if [ "${1:-}" = "--unclean" ]; then UNCLEAN=1; shift; fi
if [ "${1:-}" = "--streams" ]; then STREAMS=1; UNCLEAN=1; shift; fi
if [ "$STREAMS" = 1 ]; then
    OUT="${1:-$HERE/../../tests/fixtures/real_cluster_streams}"
elif [ "$UNCLEAN" = 1 ]; then
    OUT="${1:-$HERE/../../tests/fixtures/real_cluster_wal}"
else
    OUT="${1:-$HERE/../../tests/fixtures/real_cluster}"
fi
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

CPORT=(24221 24222 24223); RPORT=(26221 26222 26223); HPORT=(28221 28222 28223)
ROUTES="nats-route://127.0.0.1:${RPORT[0]}, nats-route://127.0.0.1:${RPORT[1]}, nats-route://127.0.0.1:${RPORT[2]}"
for i in 0 1 2; do
    n=$((i + 1))
    mkdir -p "$TMP/n$n"
    cat > "$TMP/n$n.conf" <<CONF
server_name: n$n
listen: 127.0.0.1:${CPORT[$i]}
http: 127.0.0.1:${HPORT[$i]}
jetstream { store_dir: "$TMP/n$n", max_memory_store: 64MB, max_file_store: 256MB }
cluster { name: C1, listen: 127.0.0.1:${RPORT[$i]}, routes: [ $ROUTES ] }
accounts {
  SYS: { users: [ { user: sys, password: sys } ] }
  ACC_A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  ACC_B: { jetstream: enabled, users: [ { user: b, password: b } ] }
}
system_account: SYS
CONF
    nats-server -c "$TMP/n$n.conf" > "$TMP/n$n.log" 2>&1 &
    PIDS+=($!)
done

echo "waiting for a meta leader"
for _ in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:${HPORT[0]}/jsz" | grep -q '"leader"'; then break; fi
    sleep 1
done
curl -sf "http://127.0.0.1:${HPORT[0]}/jsz" | grep -q '"leader"' || { echo "no meta leader"; cat "$TMP"/n1.log; exit 1; }

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CLIENT_ARGS=()
[ "$UNCLEAN" = 1 ] && CLIENT_ARGS=(-unclean)
if [ "$STREAMS" = 1 ]; then
    (cd "$HERE/client" && GO111MODULE=off GOPATH=/usr/share/gocode go run . -streams "$OUT" "nats://127.0.0.1:${CPORT[0]}")
else
    (cd "$HERE/client" && GO111MODULE=off GOPATH=/usr/share/gocode go run . "${CLIENT_ARGS[@]}" "nats://127.0.0.1:${CPORT[0]}") > "$OUT/client_report.json"
fi
sleep 2
for i in 0 1 2; do
    curl -sf "http://127.0.0.1:${HPORT[$i]}/jsz?accounts=true&streams=true&consumers=true&config=true" > "$OUT/jsz_n$((i + 1)).json"
done

if [ "$UNCLEAN" = 1 ]; then
    echo "killing the servers (SIGKILL)"
    for p in "${PIDS[@]}"; do kill -KILL "$p"; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    if [ "$STREAMS" = 1 ]; then
        for n in 1 2 3; do
            rm -rf "${OUT:?}/n$n"
            mkdir -p "$OUT/n$n"
            (cd "$TMP/n$n" && tar -cf - jetstream) | (cd "$OUT/n$n" && tar -xf -)
            du -sk "$OUT/n$n"
        done
        nats-server --version > "$OUT/server_version.txt"
        echo "fixtures written to $OUT"
        exit 0
    fi
    for n in 1 2 3; do
        meta="$(find "$TMP/n$n" -type d -name _meta_ | head -n1)"
        [ -n "$meta" ] || { echo "n$n: no _meta_ dir"; exit 1; }
        rm -rf "${OUT:?}/n$n"
        mkdir -p "$OUT/n$n"
        # The consumer-store directory (obs/) is empty for a raft log.
        (cd "$meta" && tar --exclude=./obs -cf - .) | (cd "$OUT/n$n" && tar -xf -)
        find "$OUT/n$n" -type f | sort | xargs ls -l
    done
    nats-server --version > "$OUT/server_version.txt"
    echo "fixtures written to $OUT"
    exit 0
fi

echo "shutting down"
for p in "${PIDS[@]}"; do kill -INT "$p"; done
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()

for n in 1 2 3; do
    meta="$(find "$TMP/n$n" -type d -name _meta_ | head -n1)"
    [ -n "$meta" ] || { echo "n$n: no _meta_ dir"; exit 1; }
    mkdir -p "$OUT/n$n"
    rm -f "$OUT/n$n"/snap.*
    cp "$meta"/snapshots/snap.* "$OUT/n$n/"
    cp "$meta"/peers.idx "$OUT/n$n/" 2>/dev/null || true
    ls -l "$OUT/n$n"
done
nats-server --version > "$OUT/server_version.txt"
echo "fixtures written to $OUT"
