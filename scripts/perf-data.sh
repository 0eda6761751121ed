#!/usr/bin/env bash
# perf-data.sh — take the raw measurements behind the plots of docs/performance.md: interleaved
# rounds of the in-process workloads (corio, Tokio, Go, Asio, in that order in every round) and
# of the two server workloads, as JSON lines (docs/workloads.md) into docs/data/*.jsonl.
# scripts/plots.sh then draws docs/img/*.svg from those files; this script is the slow,
# machine-dependent half, kept apart so that the plots can be redrawn without re-measuring.
#
# Needs the release build of corio (cmake --preset release && cmake --build --preset release -j2
# --target corio_workloads sample_echo sample_http_hello), the peer binaries under
# $PEERS_BUILD/bin (tokio_inproc, go_inproc, asio_inproc) and, for the servers, the peers'
# `run` script in $PEERS (the peer-workload folder kept beside the repository: docs/workloads.md).
#
#   scripts/perf-data.sh inproc [ROUNDS]    # default 5 rounds -> docs/data/inproc.jsonl
#   scripts/perf-data.sh servers [ROUNDS]   # default 3 rounds -> docs/data/servers.jsonl
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
PEERS_BUILD=${PEERS_BUILD:-${TMPDIR:-/tmp}/corio-peers-build}
DATA=$ROOT/docs/data
# The standard set of docs/workloads.md (corio's own select_tasks* have no peers to plot against).
WORKLOADS=(spawn_many spawn_join yield_many ping_pong chained_spawn mpsc_uncontended mpsc_contended
           mpsc_unbounded mpmc_contended oneshot_rpc broadcast_fanout broadcast_lagged watch_updates
           select_two timeout_churn sleep_many)

ASIO_WORKLOADS=()
for w in "${WORKLOADS[@]}"; do [[ $w == mpmc_contended ]] || ASIO_WORKLOADS+=("$w"); done

mode=${1:-}
mkdir -p "$DATA"
case "$mode" in
inproc)
    rounds=${2:-5}
    out=$DATA/inproc.jsonl
    : >"$out.tmp"
    for r in $(seq "$rounds"); do
        echo "perf-data: in-process round $r of $rounds ($(uptime | sed 's/.*load/load/'))" >&2
        "$BUILD/tests/bench/corio_workloads" "${WORKLOADS[@]}" >>"$out.tmp"
        "$PEERS_BUILD/bin/tokio_inproc" "${WORKLOADS[@]}" >>"$out.tmp"
        "$PEERS_BUILD/bin/go_inproc" "${WORKLOADS[@]}" >>"$out.tmp"
        # Asio's peer skips broadcast_* and watch_updates without a line, and rejects the name
        # mpmc_contended (not implemented): leave that one out.
        "$PEERS_BUILD/bin/asio_inproc" "${ASIO_WORKLOADS[@]}" >>"$out.tmp"
    done
    mv "$out.tmp" "$out"
    ;;
servers)
    rounds=${2:-3}
    : "${PEERS:?set PEERS to the peer-workload folder (the one with the run script)}"
    out=$DATA/servers.jsonl
    S=$BUILD/samples/servers
    : >"$out.tmp"
    for r in $(seq "$rounds"); do
        echo "perf-data: servers round $r of $rounds ($(uptime | sed 's/.*load/load/'))" >&2
        (cd "$PEERS" && PEERS_BUILD=$PEERS_BUILD ./run servers \
            "corio:echo=$S/echo/echo" "corio:http=$S/http_hello/http_hello" tokio go asio) >>"$out.tmp"
    done
    mv "$out.tmp" "$out"
    ;;
*)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
echo "perf-data: wrote $out ($(wc -l <"$out") lines)" >&2
