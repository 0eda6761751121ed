#!/bin/bash
# servers_compare.sh — tcp_echo and http_hello, interleaved rounds of Tokio, Go and corio's three
# io configurations (io_uring with sockets in the readiness set: the default; io_uring with
# CORIO_IO_NET=ring; epoll), with $PEERS/run (the peer-workload folder kept beside this repository, docs/performance.md); JSON lines on stdout, a table with ./compare.
# Needs the peers built ($PEERS/run build) and the release servers:
#   cmake -S . -B build/servers-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build/servers-rel --target sample_echo sample_http_hello
#
#   tests/bench/servers_compare.sh 5 | tee /tmp/servers.jsonl | $PEERS/compare --baseline tokio
set -eu
rounds=${1:-3}
B=$(cd "$(dirname "$0")/../.." && pwd)/build/servers-rel/samples/servers
PEERS=${PEERS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peers}
cd "$PEERS"
for _ in $(seq "$rounds"); do
    ./run servers tokio go \
        "corio:echo=$B/echo/echo" "corio:http=$B/http_hello/http_hello" \
        "corio_ring:echo=env CORIO_IO_NET=ring $B/echo/echo" \
        "corio_ring:http=env CORIO_IO_NET=ring $B/http_hello/http_hello" \
        "corio_epoll:echo=env CORIO_IO_BACKEND=epoll $B/echo/echo" \
        "corio_epoll:http=env CORIO_IO_BACKEND=epoll $B/http_hello/http_hello"
done
