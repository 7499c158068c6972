#!/usr/bin/env bash
# LMTP intake with different [runner.lmtp] sync_threads, side by side: one
# crier instance per value (in runner off), smtp-source -L runs alternating
# between them so that every value sees the same moments of a shared disk.
# Usage: bench/sync_threads.sh [VALUE...] (default: 1 2 4). A value is a
# number of threads, optionally with a sync_method: 4, 1/syncfs, 2/auto.
# A value given twice gets two instances whose runs are counted together,
# so "1/auto 1/writeback 1/writeback 1/auto" runs in A B B A order (the
# order of runs matters on a shared disk).
# Env: MSGS (per run, 1000), REPS (runs per instance, 4), CONNS ("4 16"),
# SYNC_FIRST=1 to run sync(1) before each run, so that no run pays for
# the previous one's unwritten pages.
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || set -- 1 2 4
msgs=${MSGS:-1000} reps=${REPS:-4} conns_list=${CONNS:-"4 16"}
[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "needs postfix's smtp-source (scripts/install-deps.sh test)" >&2; exit 1; }
declare -a port dir value
cleanup() {
    for k in "${!dir[@]}"; do
        crier_cmd "${dir[$k]}" stop -q >/dev/null 2>&1 || true
        rm -rf "$(dirname "${dir[$k]}")"
    done
}
trap cleanup EXIT
sync_note=$([ "${SYNC_FIRST:-0}" != 1 ] || echo ", sync before each run")
echo "# LMTP intake by sync_threads[/sync_method], $msgs messages of 10240 bytes per run, $reps runs per instance$sync_note"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"
for t in "$@"; do
    d=$(mktemp -d "${BENCH_TMP:-/tmp}/crier-bench.XXXXXX")/crier
    p=$(free_port)
    port_is_free "$p"
    crier_setup "$d" "$p"
    printf '[runner.in]\nstart: no\n[runner.lmtp]\nsync_threads: %s\n' "${t%%/*}" >>"$d/mailman.cfg"
    [ "${t#*/}" = "$t" ] || printf 'sync_method: %s\n' "${t#*/}" >>"$d/mailman.cfg"
    # Known to the cleanup before it starts, should the start fail.
    port+=("$p") dir+=("$d") value+=("$t")
    crier_cmd "$d" create ant@example.com >/dev/null
    crier_cmd "$d" start -q
done
# The values, each once, in order of first appearance.
values=()
for t in "$@"; do
    [[ " ${values[*]} " == *" $t "* ]] || values+=("$t")
done
for c in $conns_list; do
    declare -A got=()
    for r in $(seq "$reps"); do
        for k in "${!dir[@]}"; do
            t=${value[$k]}
            # Nothing is deleted between runs (bench/README.md: deleting
            # first slows the next creations on ext4 without a journal).
            r_=$(intake_run "${dir[$k]}" "${port[$k]}" "$c" "$msgs") || exit 1
            got[$t]="${got[$t]:-} $r_"
        done
    done
    for t in "${values[@]}"; do
        m=$(printf '%s\n' ${got[$t]} | median); mm=$(printf '%s\n' ${got[$t]} | minmax)
        echo "connections=$c sync_threads=$t msg/s median $m (${mm% *}-${mm#* }) runs:${got[$t]}"
    done
    unset got
done
echo "# load at end: $(loadavg)"
