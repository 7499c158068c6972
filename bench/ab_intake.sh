#!/usr/bin/env bash
# LMTP intake of two crier builds side by side: one instance of each (in
# runner off, so the entries stay in the in queue and are counted there),
# smtp-source -L runs in A B B A order so that neither build always runs
# first on the shared disk, `sync` before each run, nothing deleted
# between runs (bench/README.md: deleting first slows the next creations
# on ext4 without a journal).
# Usage: bench/ab_intake.sh BIN_A BIN_B [CONNS...]   (default CONNS: 1 4 16)
# Env: MSGS (per run, 3000), REPS (A B B A rounds, 4: 8 runs per build).
# Prints each build's median and runs, then B against A pair by pair.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [CONNS...]" >&2; exit 2; }
bins=("$1" "$2")
shift 2
[ $# -gt 0 ] || set -- 1 4 16
msgs=${MSGS:-3000} reps=${REPS:-4}
for b in "${bins[@]}"; do
    [ -x "$b" ] || { echo "$b: not an executable" >&2; exit 2; }
done
command -v smtp-source >/dev/null || { echo "needs postfix's smtp-source (scripts/install-deps.sh test)" >&2; exit 1; }
declare -a port dir
cleanup() {
    for k in "${!dir[@]}"; do
        "${bins[$k]}" -C "${dir[$k]}/mailman.cfg" $ROOT_FLAG stop -q >/dev/null 2>&1 || true
        rm -rf "$(dirname "${dir[$k]}")"
    done
}
trap cleanup EXIT
echo "# LMTP intake, A=${bins[0]} B=${bins[1]}, $msgs messages of 10240 bytes per run, $((2 * reps)) runs per build, A B B A, sync before each run"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"
for k in 0 1; do
    d=$(mktemp -d "${BENCH_TMP:-/tmp}/crier-bench.XXXXXX")/crier
    p=$(free_port)
    port_is_free "$p"
    crier_setup "$d" "$p"
    printf '[runner.in]\nstart: no\n' >>"$d/mailman.cfg"
    port[$k]=$p dir[$k]=$d
    "${bins[$k]}" -C "$d/mailman.cfg" $ROOT_FLAG create ant@example.com >/dev/null
    "${bins[$k]}" -C "$d/mailman.cfg" $ROOT_FLAG start -q
done
for c in "$@"; do
    got=("" "")
    for r in $(seq "$reps"); do
        for k in 0 1 1 0; do
            r_=$(SYNC_FIRST=1 intake_run "${dir[$k]}" "${port[$k]}" "$c" "$msgs") || exit 1
            got[$k]="${got[$k]} $r_"
        done
    done
    for k in 0 1; do
        m=$(printf '%s\n' ${got[$k]} | median); mm=$(printf '%s\n' ${got[$k]} | minmax)
        echo "connections=$c $( [ $k = 0 ] && echo A || echo B) msg/s median $m (${mm% *}-${mm#* }) runs:${got[$k]}"
    done
    # Each A run with the B run next to it (A B, then B A): the geometric
    # mean of the pairs' ratios, its 95 % confidence interval (normal
    # approximation), and in how many pairs B was faster.
    paste <(printf '%s\n' ${got[0]}) <(printf '%s\n' ${got[1]}) | awk -v c="$c" '
        { l = log($2 / $1); s += l; ss += l * l; n++; w += ($2 > $1) }
        END {
            m = s / n; sd = n > 1 ? sqrt((ss - n * m * m) / (n - 1)) : 0; h = 1.96 * sd / sqrt(n)
            printf "connections=%s B/A %.3f (95%% CI %.3f-%.3f over %d pairs), B faster in %d of %d\n",
                c, exp(m), exp(m - h), exp(m + h), n, w, n
        }'
done
echo "# load at end: $(loadavg)"
