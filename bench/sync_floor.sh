#!/usr/bin/env bash
# What LMTP intake could reach on this machine if a sync cost nothing but
# its wait: crier runs with every fsync, fdatasync and syncfs replaced by a
# sleep of N microseconds (bench/floor/sync_sleep.c, LD_PRELOAD; NOT
# durable), beside the real, durable crier and the ceiling (smtp-source -L
# into smtp-sink -L), all in one run; then the disk's own floor for one
# durable 10 KB write (bench/floor/disk_floor.c). If intake falls short of
# half the ceiling even when a sync waits less than the disk's floor, no
# durable design reaches it on this machine at that concurrency.
# Usage: bench/sync_floor.sh [CONNS]   (default 4)
# Env: SLEEPS (microseconds, "0 50 100 200 300"), MSGS (3000 per run),
#      REPS (2: each variant runs 2*REPS times, in the order 1..n n..1).
. "$(dirname "$0")/lib.sh"
conns=${1:-4}
msgs=${MSGS:-3000} reps=${REPS:-2}
read -r -a sleeps <<<"${SLEEPS:-0 50 100 200 300}"
[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "needs postfix's smtp-source (scripts/install-deps.sh bench)" >&2; exit 1; }
work=$(mktemp -d "${BENCH_TMP:-/tmp}/crier-floor.XXXXXX")
declare -a dir port label envv
sink_pid=
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    for k in "${!dir[@]}"; do
        crier_cmd "${dir[$k]}" stop -q >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -shared -fPIC -o "$work/sync_sleep.so" "$here/floor/sync_sleep.c"
cc -O2 -pthread -o "$work/disk_floor" "$here/floor/disk_floor.c"

echo "# LMTP intake at $conns connections, $msgs messages of 10240 bytes per run, $((2 * reps)) runs per variant, sync before each run"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"
sink_start

# Variant 0 is the real crier; then one per sleep.
variants=(real "${sleeps[@]}")
for k in "${!variants[@]}"; do
    d=$work/v$k p=$(free_port)
    port_is_free "$p"
    crier_setup "$d" "$p"
    printf '[runner.in]\nstart: no\n' >>"$d/mailman.cfg"
    crier_cmd "$d" create ant@example.com >/dev/null
    if [ "$k" = 0 ]; then
        label[$k]="durable (fsync as usual)"
        crier_cmd "$d" start -q
    else
        label[$k]="sync = sleep ${variants[$k]} µs"
        LD_PRELOAD=$work/sync_sleep.so SYNC_US=${variants[$k]} crier_cmd "$d" start -q
    fi
    dir[$k]=$d port[$k]=$p
done

ceiling() {
    local t0 t1
    t0=$(now)
    smtp-source -L -s "$conns" -m "$msgs" -l 10240 -f bench@example.org \
        -t ant@example.com 127.0.0.1:"$sink_port"
    t1=$(now)
    awk -v n="$msgs" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}'
}
ceil=() got=()
n=${#variants[@]}
for r in $(seq "$reps"); do
    ceil+=("$(ceiling)")
    for k in $(seq 0 $((n - 1))) $(seq $((n - 1)) -1 0); do
        r_=$(SYNC_FIRST=1 intake_run "${dir[$k]}" "${port[$k]}" "$conns" "$msgs") || exit 1
        got[$k]="${got[$k]:-} $r_"
    done
    ceil+=("$(ceiling)")
done
c=$(printf '%s\n' "${ceil[@]}" | median)
cm=$(printf '%s\n' "${ceil[@]}" | minmax)
echo
echo "ceiling (smtp-sink): $c msg/s (${cm% *}-${cm#* }), half: $(awk -v c="$c" 'BEGIN{printf "%.0f", c / 2}')"
echo
printf '| crier | msg/s, median (min-max) | / ceiling |\n|---|---|---|\n'
for k in $(seq 0 $((n - 1))); do
    m=$(printf '%s\n' ${got[$k]} | median)
    mm=$(printf '%s\n' ${got[$k]} | minmax)
    printf '| %s | %s (%s-%s) | %.2f |\n' "${label[$k]}" "$m" ${mm% *} ${mm#* } \
        "$(awk -v a="$m" -v b="$c" 'BEGIN{print a/b}')"
done
echo
echo "disk floor for one durable 10 KB write, $(df -hT "$work" | awk 'NR==2{print $1" ("$2")"}'):"
mkdir "$work/floor"
"$work/disk_floor" "$work/floor" 500
echo "# load at end: $(loadavg)"
