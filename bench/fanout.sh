#!/usr/bin/env bash
# Bulk fan-out: one 10 KB post's out entry with N recipients (default 1,000,
# 10,000 and 100,000) delivered by crier's out runner to Postfix's smtp-sink,
# recipients/s from the moment the entry appears until it is gone; beside
# smtp-source sending the same recipients in 500-recipient transactions (a
# reference: smtp-source does not pipeline, crier's client does).
# Usage: bench/fanout.sh [RUNS] [SIZES...]
. "$(dirname "$0")/lib.sh"
runs=${1:-3}
shift || true
sizes=${*:-1000 10000 100000}
work=$(mktemp -d /tmp/crier-bench.XXXXXX)
sink_pid=
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    crier_cmd "$work/c" stop -q >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
[ -x "$CRIER" ] || { echo "build crier first (make)" >&2; exit 1; }
sink_port=$(free_port)
port_is_free "$sink_port"
smtp-sink -u nobody -c 127.0.0.1:"$sink_port" 1000 >/dev/null 2>&1 &
sink_pid=$!
sleep 0.3
crier_setup "$work/c" "$(free_port)"
printf '[mta]\nsmtp_host: 127.0.0.1\nsmtp_port: %s\n' "$sink_port" >>"$work/c/mailman.cfg"
crier_cmd "$work/c" create ant@example.com >/dev/null
crier_cmd "$work/c" start -q
out="$work/c/var/queue/out"

echo "# bulk fan-out of one 10 KB post, median of $runs runs (min-max)"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(machine), load at start: $(loadavg)"
printf '| recipients | smtp-source rcpt/s | crier rcpt/s | crier peak RSS MiB |\n|---|---|---|---|\n'
for n in $sizes; do
    ref=() mine=() rss=()
    for r in $(seq "$runs"); do
        # Reference: the same recipients, 500 per transaction, one session.
        t0=$(now)
        smtp-source -s 1 -m $((n / 500 > 0 ? n / 500 : 1)) -r $((n < 500 ? n : 500)) -l 10240 \
            -f bench@example.org -t rcpt@example.com 127.0.0.1:"$sink_port"
        t1=$(now)
        ref+=("$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')")
        # crier: write the out entry (docs/queues.md format), time until it is gone.
        /usr/bin/python3 - "$out" "$n" <<'PY'
import hashlib, os, sys, time
out, n = sys.argv[1], int(sys.argv[2])
rcpts = "\\n".join(f"member{i}@example.com" for i in range(n))
msg = ("From: anne@example.org\nTo: ant@example.com\nSubject: bench\n"
       "Message-ID: <bench@example.org>\n\n" + "x" * 10000 + "\n").encode()
head = f"crier-queue 1\nmessage-size: {len(msg)}\nlistid: ant.example.com\nrecipients: {rcpts}\n\n"
t = time.time()
base = f"{t:.7f}+" + hashlib.sha1(os.urandom(16)).hexdigest()
tmp = os.path.join(out, base + ".pck.tmp")
with open(tmp, "wb") as f:
    f.write(head.encode() + msg)
open("/tmp/crier-bench-start", "w").write(repr(time.time()))
os.rename(tmp, os.path.join(out, base + ".pck"))
PY
        # Wait while the entry is waiting (.pck) or in hand (.bak).
        while [ -n "$(find "$out" -maxdepth 1 \( -name '*.pck' -o -name '*.bak' \) -print -quit)" ]; do
            sleep 0.005
        done
        t1=$(now)
        t0=$(cat /tmp/crier-bench-start)
        mine+=("$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')")
        # Check that all of them went out, and none failed.
        grep -q "for $n recips, completed" "$work/c/var/logs/smtp.log" ||
            { echo "crier did not deliver $n recipients (see smtp.log)" >&2; exit 1; }
        ! grep -q "failures" "$work/c/var/logs/smtp.log" ||
            { echo "crier had delivery failures (see smtp.log)" >&2; exit 1; }
        # This instance's out runner (never another crier on the machine).
        pid=$(pgrep -P "$(cat "$work/c/var/master.pid")" -f -- "--runner=out:0:1" | head -1)
        rss+=("$(awk '/VmHWM/{printf "%.1f", $2/1024}' /proc/"$pid"/status)")
    done
    rm -f /tmp/crier-bench-start
    a=$(printf '%s\n' "${ref[@]}" | median); am=$(printf '%s\n' "${ref[@]}" | minmax)
    b=$(printf '%s\n' "${mine[@]}" | median); bm=$(printf '%s\n' "${mine[@]}" | minmax)
    m=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
    printf '| %s | %s (%s-%s) | %s (%s-%s) | %s |\n' "$n" "$a" ${am% *} ${am#* } "$b" ${bm% *} ${bm#* } "$m"
    echo "fanout_${n}_smtp_source=$a fanout_${n}_crier=$b fanout_${n}_rss_mib=$m" >>"$work/kv"
done
echo "# load at end: $(loadavg)"
cat "$work/kv"
