#!/usr/bin/env bash
# Idle footprint: processes, PSS and RSS of a started crier (all runners,
# empty queues), summed over the master and its runners from
# /proc/PID/smaps_rollup. Usage: bench/idle.sh
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/crier-bench.XXXXXX)
trap 'crier_cmd "$work" stop -q >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
crier_setup "$work" "$(free_port)"
crier_cmd "$work" create ant@example.com >/dev/null
crier_cmd "$work" start -q
sleep 2
master=$(cat "$work/var/master.pid")
pids="$master $(pgrep -P "$master" | tr '\n' ' ')"
n=0 pss=0 rss=0
for p in $pids; do
    read -r a b < <(awk '/^Pss:/{p=$2} /^Rss:/{r=$2} END{print p, r}' "/proc/$p/smaps_rollup")
    pss=$((pss + a)); rss=$((rss + b)); n=$((n + 1))
done
echo "# idle crier, $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load: $(loadavg)"
printf '| processes | PSS MiB | RSS MiB |\n|---|---|---|\n| %d | %.1f | %.1f |\n' "$n" \
    "$(awk -v k="$pss" 'BEGIN{print k/1024}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
echo "idle_processes=$n idle_pss_kib=$pss idle_rss_kib=$rss"
