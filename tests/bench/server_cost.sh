#!/bin/bash
# server_cost.sh — what an HTTP server spends per request: server CPU, context switches and
# system calls per request over a 3 s `wrk -t1 -c50` run, plus wrk's rate and p99.
# Needs wrk and perf (linux-perf). Used for docs/performance-history.md ("io: third session").
#
#   tests/bench/server_cost.sh corio 18080 build/servers-rel/samples/servers/http_hello/http_hello 18080
#   tests/bench/server_cost.sh tokio 18081 /tmp/corio-peers-build/bin/tokio_http_hello 18081
#
# usage: server_cost.sh LABEL PORT SERVER_COMMAND...   (the server must listen on 127.0.0.1:PORT)
set -u
name=$1; port=$2; shift 2
"$@" > "/tmp/server_cost.$name.log" 2>&1 &
P=$!
sleep 0.5
perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter -p "$P" -o "/tmp/server_cost.$name.perf" -- sleep 3.2 &
S=$!
sleep 0.1
R=$(wrk -t1 -c50 -d3s --latency "http://127.0.0.1:$port/")
wait "$S"
kill "$P"; wait "$P" 2>/dev/null
req=$(echo "$R" | grep "requests in" | awk '{print $1}')
rps=$(echo "$R" | grep Requests/sec | awk '{print $2}')
p99=$(echo "$R" | grep " 99%" | awk '{print $2}')
tc=$(grep task-clock "/tmp/server_cost.$name.perf" | cut -d, -f1)
cs=$(grep context-switches "/tmp/server_cost.$name.perf" | cut -d, -f1)
sc=$(grep raw_syscalls "/tmp/server_cost.$name.perf" | cut -d, -f1)
python3 -c "print('$name rps=$rps p99=$p99 cpu_us/req=%.2f cs/req=%.3f sys/req=%.2f' % ($tc*1000/$req, $cs/$req, $sc/$req))"
