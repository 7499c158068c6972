#!/usr/bin/env bash
# Member import: `crier addmembers` of N new members into an empty list
# (release build, SQLite, one process), median of RUNS runs; and
# `crier members` listing them back. Usage: bench/members.sh [N] [RUNS]
. "$(dirname "$0")/lib.sh"
n=${1:-100000}
runs=${2:-3}
work=$(mktemp -d /tmp/crier-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
seq 1 "$n" | sed 's/.*/Member & <member&@example.org>/' >"$work/members.txt"
echo "# addmembers of $n members, median of $runs runs (min-max)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"
adds=() lists=()
for r in $(seq "$runs"); do
    crier_setup "$work/c$r" "$(free_port)"
    crier_cmd "$work/c$r" create big@example.com >/dev/null
    t0=$(now)
    crier_cmd "$work/c$r" addmembers "$work/members.txt" big@example.com
    t1=$(now)
    got=$(crier_cmd "$work/c$r" members -c big@example.com)
    [ "$got" = "$n" ] || { echo "only $got members" >&2; exit 1; }
    t2=$(now)
    crier_cmd "$work/c$r" members big@example.com >/dev/null
    t3=$(now)
    adds+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')")
    lists+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.2f", b-a}')")
done
a=$(printf '%s\n' "${adds[@]}" | median); am=$(printf '%s\n' "${adds[@]}" | minmax)
l=$(printf '%s\n' "${lists[@]}" | median); lm=$(printf '%s\n' "${lists[@]}" | minmax)
printf '| operation | seconds | members/s |\n|---|---|---|\n'
printf '| addmembers %s | %s (%s-%s) | %.0f |\n' "$n" "$a" ${am% *} ${am#* } "$(awk -v n="$n" -v t="$a" 'BEGIN{print n/t}')"
printf '| members (list them) | %s (%s-%s) | %.0f |\n' "$l" ${lm% *} ${lm#* } "$(awk -v n="$n" -v t="$l" 'BEGIN{print n/t}')"
echo "# load at end: $(loadavg)"
echo "addmembers_${n}_seconds=$a"
echo "members_list_${n}_seconds=$l"
