# Shared helpers for the bench scripts (sourced, not run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CRIER=${CRIER:-$top/build/crier}
ROOT_FLAG=$([ "$(id -u)" = 0 ] && echo --run-as-root || true)
export PATH=$PATH:/usr/sbin

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Refuses a port that something already listens on (a benchmark of someone
# else's server is worse than none).
port_is_free() {
    ! ss -Hltn "sport = :$1" | grep -q .
}

now() { date +%s.%N; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
minmax() { sort -g | awk 'NR==1{mn=$1} {mx=$1} END {print mn" "mx}'; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

machine() {
    echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(df -hT /tmp | awk 'NR==2{print $2}') /tmp"
}

# A private crier instance in $1 with LMTP on $2.
crier_setup() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    cat >"$dir/mailman.cfg" <<CFG
[mailman]
layout: bench
[paths.bench]
var_dir: $dir/var
[mta]
incoming: mailman.mta.null.NullMTA
lmtp_port: $port
[runner.rest]
start: no
CFG
}

# Starts the ceiling's sink, smtp-sink -L, on a free port: sets sink_port
# and sink_pid (the caller stops it).
sink_start() {
    sink_port=$(free_port)
    port_is_free "$sink_port"
    smtp-sink -L -u nobody -c 127.0.0.1:"$sink_port" 256 >/dev/null 2>&1 &
    sink_pid=$!
    sleep 0.3
}

crier_cmd() { "$CRIER" -C "$1/mailman.cfg" $ROOT_FLAG "${@:2}"; }

# One LMTP intake run: $4 messages of 10 KB over $3 connections into the
# crier instance in $1 listening on $2, with its in runner off; prints the
# messages per second. Fails unless every message is in the in queue
# (counted there: nothing is deleted between runs). SYNC_FIRST=1 runs
# sync(1) first, so that no run pays for the previous one's dirty pages.
intake_run() {
    local dir=$1 port=$2 conns=$3 msgs=$4 n0 n t0 t1
    n0=$(find "$dir/var/queue/in" -name '*.pck' | wc -l)
    [ "${SYNC_FIRST:-0}" != 1 ] || sync
    t0=$(now)
    smtp-source -L -s "$conns" -m "$msgs" -l 10240 -f bench@example.org \
        -t ant@example.com 127.0.0.1:"$port"
    t1=$(now)
    n=$(($(find "$dir/var/queue/in" -name '*.pck' | wc -l) - n0))
    [ "$n" = "$msgs" ] || { echo "$dir: queued $n of $msgs" >&2; return 1; }
    awk -v n="$msgs" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}'
}
