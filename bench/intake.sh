#!/usr/bin/env bash
# LMTP intake: messages/s at 1, 4 and 16 connections (10 KB messages,
# durable: 250 only after fsync), crier beside the ceiling (Postfix's
# smtp-source -L into smtp-sink, the same client and messages), and
# crier's start-up time until LMTP answers. Usage: bench/intake.sh [RUNS]
. "$(dirname "$0")/lib.sh"
runs=${1:-3}
msgs=${MSGS:-2000}
size=10240
work=$(mktemp -d "${BENCH_TMP:-/tmp}/crier-bench.XXXXXX")
sink_pid=
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    crier_cmd "$work/crier" stop -q >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "needs postfix's smtp-source (scripts/install-deps.sh test)" >&2; exit 1; }

rate() { # seconds → messages/s
    awk -v n="$msgs" -v t="$1" 'BEGIN {printf "%.0f", n/t}'
}

echo "# LMTP intake, $msgs messages of $size bytes per run, median of $runs runs (min-max)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"

sink_start

lmtp_port=$(free_port)
port_is_free "$lmtp_port"
crier_setup "$work/crier" "$lmtp_port"
# The in runner off: the accepted messages stay in the in queue, counted there.
printf '[runner.in]\nstart: no\n' >>"$work/crier/mailman.cfg"
crier_cmd "$work/crier" create ant@example.com >/dev/null

# Start-up: `crier start` returns when every runner is ready and LMTP listens.
starts=()
for r in $(seq "$runs"); do
    t0=$(now)
    crier_cmd "$work/crier" start -q
    t1=$(now)
    /usr/bin/python3 -c "import smtplib; smtplib.LMTP('127.0.0.1', $lmtp_port).quit()"
    starts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
    crier_cmd "$work/crier" stop -q
done
crier_cmd "$work/crier" start -q

printf '| connections | ceiling msg/s | crier msg/s | crier/ceiling |\n|---|---|---|---|\n'
for conns in 1 4 16; do
    ceil=() mine=()
    for r in $(seq "$runs"); do
        t0=$(now)
        smtp-source -L -s "$conns" -m "$msgs" -l "$size" -f bench@example.org \
            -t ant@example.com 127.0.0.1:"$sink_port"
        t1=$(now)
        ceil+=("$(rate "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")")
        # Nothing is deleted between runs (see bench/README.md: deleting
        # first slows the next run's file creations on ext4 without a
        # journal); each run counts the entries it added.
        r_=$(intake_run "$work/crier" "$lmtp_port" "$conns" "$msgs") || exit 1
        mine+=("$r_")
    done
    c=$(printf '%s\n' "${ceil[@]}" | median); cm=$(printf '%s\n' "${ceil[@]}" | minmax)
    m=$(printf '%s\n' "${mine[@]}" | median); mm=$(printf '%s\n' "${mine[@]}" | minmax)
    printf '| %s | %s (%s-%s) | %s (%s-%s) | %.2f |\n' "$conns" "$c" ${cm% *} ${cm#* } \
        "$m" ${mm% *} ${mm#* } "$(awk -v a="$m" -v b="$c" 'BEGIN{print a/b}')"
    echo "intake_${conns}_ceiling=$c intake_${conns}_crier=$m" >>"$work/kv"
done
s=$(printf '%s\n' "${starts[@]}" | median); sm=$(printf '%s\n' "${starts[@]}" | minmax)
echo
echo "start-up to LMTP ready: ${s} s (${sm% *}-${sm#* })"
echo "# load at end: $(loadavg)"
echo
cat "$work/kv"
echo "startup_seconds=$s"
