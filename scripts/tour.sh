#!/usr/bin/env bash
# tour.sh — a one-screen tour of corio: the kv sample server started in the background and a
# scripted session against it (two clients: one subscribes to changes, the other writes), then
# SIGTERM and a graceful exit. Usage: scripts/tour.sh <path to the kv binary>
#
# The client side is plain bash (/dev/tcp), so the tour needs nothing beyond the build.
set -euo pipefail
kv=${1:?usage: tour.sh <kv binary>}

log=$(mktemp)
trap 'rm -f "$log"; [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null || true' EXIT

"$kv" 0 >"$log" 2>/dev/null &
pid=$!
for _ in $(seq 100); do
    grep -q '^listening on' "$log" && break
    sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
[[ -n $port ]] || { echo "tour: the kv server did not start" >&2; exit 1; }

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# send <fd> <line>: prints what the client sends, then the server's answer line.
send() {
    local fd=$1 line=$2 reply
    printf '  %-8s > %s\n' "$3" "$line"
    printf '%s\n' "$line" >&"$fd"
    IFS= read -r -t 5 reply <&"$fd"
    printf '  %-8s < %s\n' "$3" "$reply"
}
# event <fd>: the next pushed line on a subscribed connection.
event() {
    local reply
    IFS= read -r -t 5 reply <&"$1"
    printf '  %-8s < %s\n' "$2" "$reply"
}

say "corio tour: kv server (mpsc + oneshot store actor, broadcast events, watch config) on 127.0.0.1:$port"
exec 3<>"/dev/tcp/127.0.0.1/$port"
exec 4<>"/dev/tcp/127.0.0.1/$port"

say "client B subscribes to keys starting with 'user:' (a broadcast receiver per subscriber)"
send 4 "SUBSCRIBE user:" B

say "client A talks to the store actor: each command is an mpsc message with a oneshot reply"
send 3 "SET user:ada Lovelace" A
event 4 B
send 3 "SET lang C++20" A
send 3 "GET user:ada" A
send 3 "DEL user:ada" A
event 4 B
send 3 "GET user:ada" A

say "bad input gets an error, and the connection keeps working"
send 3 "FROB x" A
send 3 "GET lang" A

say "channel metrics, built in (with_metrics)"
send 3 "STATS" A

exec 3>&- 4>&-
say "SIGTERM: stop accepting, let connections finish, exit 0"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
echo "  kv exited with status $rc"
exit "$rc"
