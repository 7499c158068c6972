"""bench/run's measuring part: the ceiling, crier and (--peer mailman3) GNU
Mailman 3, side by side, on loopback only. Run it through bench/run, which
installs the tools and builds crier first.

Every figure is taken RUNS times; the table shows the median with min and
max, and each sample keeps the 1-minute load average at the time it was
taken. Results go to OUT/results.md, OUT/results.kv (key=value), OUT/raw.json
(every sample), OUT/fanout.dat and OUT/fanout.svg/.png (gnuplot).
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import targets  # noqa: E402
from clients import (SIZE, CountingSink, PostfixSink, SinkTimeout, gnuplot, lmtp_post,  # noqa: E402
                     log, message_bytes, pipelined_client, smtp_source)
from targets import BenchError, load1  # noqa: E402


# ---------------------------------------------------------------- samples

class Figure:
    """One row of the table: samples per target ("ceiling", "crier",
    "mailman3"), each a (value, load1) pair, or a failure text."""

    def __init__(self, key, title, unit, better="higher"):
        self.key, self.title, self.unit, self.better = key, title, unit, better
        self.samples = {}
        self.failed = {}

    def add(self, target, value):
        self.samples.setdefault(target, []).append((value, load1()))

    def fail(self, target, why):
        self.failed[target] = why

    def stats(self, target):
        vals = [v for v, _ in self.samples.get(target, [])]
        if not vals:
            return None
        loads = [l for _, l in self.samples[target]]
        return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                "n": len(vals), "load_min": min(loads), "load_max": max(loads)}


class Results:
    def __init__(self):
        self.figures = []
        self.by_key = {}

    def figure(self, key, title, unit, better="higher"):
        if key not in self.by_key:
            f = Figure(key, title, unit, better)
            self.figures.append(f)
            self.by_key[key] = f
        return self.by_key[key]


def fmt(v):
    if v is None:
        return "—"
    if v == int(v) and abs(v) < 1000:
        return str(int(v))
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 0.1:
        return f"{v:.2f}"
    return f"{v:.4f}"


# ----------------------------------------------------------- measuring

class Bench:
    def __init__(self, args):
        self.args = args
        self.res = Results()
        self.work = tempfile.mkdtemp(prefix="crier-bench.", dir=args.tmp)
        os.chmod(self.work, 0o755)  # Mailman runs as `list` and must reach its var dir
        self.cleanups = []
        self.errors = []
        self.notes = []
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_start = open("/proc/loadavg").read().split()[:3]
        self.seq = 0

    def want(self, part):
        return not self.args.only or part in self.args.only

    def token(self):
        self.seq += 1
        return f"b{os.getpid()}x{self.seq}x{int(time.time() * 1000)}"

    def verp_figure(self):
        return self.res.figure("verp", f"VERP fan-out messages/s, one post to "
                               f"{self.args.verp_members:,} members (ceiling: the SMTP "
                               "message ceiling)", "msg/s")

    def failed(self, fig, target, err):
        text = f"{fig.title} [{target}]: {err}"
        log("FAILED " + text)
        fig.fail(target, str(err))
        self.errors.append(text)

    def repeat(self, f, target, runs, measure):
        """Adds measure()'s value to figure f for target, runs times; the
        first failure is recorded and ends the series."""
        for _ in range(runs):
            try:
                f.add(target, measure())
            except BenchError as e:
                self.failed(f, target, e)
                return

    def intake_figure(self, conns):
        return self.res.figure(f"intake_{conns}", f"LMTP intake messages/s, {conns} connection"
                               + ("s" if conns > 1 else ""), "msg/s")

    def fanout_figure(self, n):
        return self.res.figure(f"fanout_{n}", f"fan-out recipients/s, one post to {n:,} members",
                               "rcpt/s")

    # ---- the ceiling

    def ceiling(self):
        a = self.args
        log("ceiling: Postfix's smtp-source into smtp-sink")
        sink = PostfixSink()
        self.cleanups.append(sink.close)
        f = self.res.figure("smtp_msgs", f"SMTP messages/s, smtp-source -s {a.smtp_sessions} "
                            "→ smtp-sink (the message ceiling)", "msg/s")
        self.repeat(f, "ceiling", a.runs, lambda: a.smtp_msgs / smtp_source(
            sink.port, a.smtp_msgs, a.smtp_sessions, "rcpt@example.com"))
        # VERP sends one message per recipient: its ceiling is this one.
        self.verp_figure().samples["ceiling"] = list(f.samples.get("ceiling", []))
        for n in a.sizes:
            self.repeat(self.fanout_figure(n), "ceiling", a.runs,
                        lambda: n / pipelined_client(sink.port, n))
        sink.close()
        lsink = PostfixSink(lmtp=True)
        self.cleanups.append(lsink.close)
        for conns in a.conns:
            self.repeat(self.intake_figure(conns), "ceiling", a.runs,
                        lambda: a.intake_msgs / smtp_source(lsink.port, a.intake_msgs, conns,
                                                            "list@example.com", lmtp=True))
        lsink.close()
        # The counting sink's own ceiling: the crier and Mailman figures
        # below are only meaningful well under it.
        cs = CountingSink(self.work)
        self.cleanups.append(cs.close)
        n = max(a.sizes)

        def through_sink():
            cs.arm("ceiling@bench", n)
            secs = pipelined_client(cs.port, n)
            cs.wait_done(30)
            return n / secs
        self.repeat(self.res.figure("sink_rcpts", f"counting sink: pipelined client, {n:,} "
                                    "recipients (the measuring sink's own limit)", "rcpt/s"),
                    "ceiling", a.runs, through_sink)
        cs.close()

    # ---- a list server (crier or mailman3)

    def server(self, name):
        a = self.args
        sink = CountingSink(self.work)
        self.cleanups.append(sink.close)
        t = targets.make(name, os.path.join(self.work, name), sink.port, a)
        self.cleanups.append(t.stop)
        log(f"{name}: setting up lists")
        t.setup(["lat", "fan", "verp"])
        t.add_members("lat", 10)
        # Phase A: the in runner off, so that LMTP intake is measured alone
        # (the messages stay in the in queue and are counted there).
        if self.want("intake"):
            log(f"{name}: LMTP intake")
            t.configure(in_runner=False)
            t.start()
            self.intake(t)
            t.stop()
            t.clear_queues()
        # Phase B: the normal configuration. Start-up samples are taken here
        # (and one more in phase C), all with the same runners.
        log(f"{name}: start-up, idle memory")
        t.configure(in_runner=True)
        fs = self.res.figure("startup", "start-up to a ready LMTP port", "s", better="lower")
        for i in range(max(1, a.runs - (1 if self.want("verp") else 0))):
            if i:
                t.stop()
            fs.add(name, t.start())
        if self.want("idle"):
            time.sleep(a.settle)
            pss, rss, nproc = t.memory()
            self.res.figure("idle_pss", "idle memory, PSS of all processes", "MiB",
                            better="lower").add(name, pss)
            self.res.figure("idle_rss", "idle memory, RSS of all processes", "MiB",
                            better="lower").add(name, rss)
            self.res.figure("idle_procs", "processes", "", better="lower").add(name, nproc)
        if self.want("latency"):
            log(f"{name}: latency")
            self.latency(t, sink)
        if self.want("fanout"):
            self.fanout(t, sink)
        t.stop()
        t.clear_queues()  # what a failed or timed-out post left behind
        # Phase C: VERP for every message (verp_delivery_interval: 1).
        if self.want("verp"):
            log(f"{name}: VERP")
            t.configure(in_runner=True, verp=True)
            fs.add(name, t.start())
            self.verp(t, sink)
            t.stop()
        sink.close()
        log(f"{name}: done")

    def post(self, t, sink, lst, n, sent=None):
        """Posts a fresh message to lst over LMTP with the sink armed for n
        recipients; the time of the 250 and the sink's arm token."""
        tok = self.token()
        sink.arm(tok, n)
        t.wait_idle(60)
        t0 = lmtp_post(t.lmtp_port, t.address(lst), message_bytes(tok + "@bench", t.address(lst)),
                       sent=sent)
        return t0

    def intake(self, t):
        # Nothing is deleted between runs: the accepted entries pile up in
        # the in queue and each run counts its own. Deleting them first
        # made the next run pay for the deletion on ext4 without a journal
        # (this machine's root): creating a file there skips every inode
        # freed in the last minute, one by one (the kernel's
        # recently_deleted()), which took 41% of crier's LMTP CPU in a
        # profile (bench/README.md).
        def run(conns):
            before = t.queued("in")
            secs = smtp_source(t.lmtp_port, t.intake_msgs, conns, t.address("lat"), lmtp=True)
            got = t.queued("in") - before
            if got != t.intake_msgs:
                raise BenchError(f"{got} of {t.intake_msgs} messages in the in queue")
            return t.intake_msgs / secs
        for conns in self.args.conns:
            self.repeat(self.intake_figure(conns), t.name, self.args.runs, lambda: run(conns))

    def latency(self, t, sink):
        a = self.args
        f = self.res.figure("latency_10", "latency, LMTP 250 → last of 10 recipients "
                            f"(median of {a.latency_runs})", "ms", better="lower")
        f2 = self.res.figure("latency_10_data", "latency, end of the LMTP DATA → last of 10 "
                             "recipients (the same posts)", "ms", better="lower")

        def run():
            sent = []
            t0 = self.post(t, sink, "lat", 10, sent=sent)
            t_last = sink.wait_done(t.timeout(10), t.check_failed)[1]
            f2.add(t.name, (t_last - sent[0]) * 1000)
            t.wait_idle(60)
            time.sleep(0.1)
            return (t_last - t0) * 1000
        self.repeat(f, t.name, a.latency_runs, run)

    def fanout(self, t, sink):
        have = 0
        for n in [n for n in self.args.sizes if n <= t.max_size]:
            log(f"{t.name}: list of {n:,} members")
            t0 = time.time()
            t.add_members("fan", n, start=have)
            log(f"{t.name}: {n - have:,} members added in {time.time() - t0:.1f} s")
            have = n

            def run():
                t.wait_idle(60)
                cpu0 = t.cpu_seconds()
                t.reset_peak()
                t0 = self.post(t, sink, "fan", n)
                t_last = sink.wait_done(t.timeout(n), t.check_failed)[1]
                t.wait_idle(120)
                if n in (100000, 1000000):
                    self.res.figure(f"cpu_{n}", f"CPU seconds per {n:,}-recipient post "
                                    "(all processes)", "s", better="lower"
                                    ).add(t.name, t.cpu_seconds() - cpu0)
                    self.res.figure(f"peak_{n}", f"peak RSS per {n:,}-recipient post "
                                    "(largest process)", "MiB", better="lower"
                                    ).add(t.name, t.peak_rss())
                return n / (t_last - t0)
            self.repeat(self.fanout_figure(n), t.name, t.runs, run)

    def verp(self, t, sink):
        a = self.args
        n = a.verp_members
        t.add_members("verp", n)
        left = [t.verp_runs]

        def run():
            left[0] -= 1
            t0 = self.post(t, sink, "verp", n)
            window = min(t.timeout(n, verp=True), a.verp_window)
            try:
                _, t_last, msgs, rcpts, verp = sink.wait_done(window, t.check_failed)
            except SinkTimeout:
                # The rate over the window.
                msgs, rcpts, t_last, verp = sink.progress()
                if msgs < 100:
                    raise
                self.notes.append(f"VERP [{t.name}]: {msgs:,} of {n:,} messages in the first "
                                  f"{window:.0f} s of the post; the rate is over those")
                if left[0]:  # drop the rest of the post before the next one
                    t.stop()
                    t.clear_queues()
                    t.start()
            if verp != msgs or rcpts != msgs:
                raise BenchError(f"{msgs} messages for {rcpts} recipients, {verp} VERPed")
            return msgs / (t_last - t0)
        self.repeat(self.verp_figure(), t.name, t.verp_runs, run)

    # ---- output

    def write(self):
        a = self.args
        ended = datetime.datetime.now(datetime.timezone.utc)
        load_end = open("/proc/loadavg").read().split()[:3]
        cols = ["ceiling", "crier"] + (["mailman3"] if a.peer else [])
        names = {"ceiling": "ceiling", "crier": "crier", "mailman3": "Mailman 3.3.8"}
        head = ["figure"] + [names[c] for c in cols] + ["crier/ceiling"] + \
               (["crier/Mailman 3"] if a.peer else []) + ["load (1 min) during runs"]
        rows = []
        kv = [f"date={self.started.isoformat(timespec='seconds')}",
              f"machine={targets.machine()}", f"runs={a.runs}",
              f"load_start={' '.join(self.load_start)}", f"load_end={' '.join(load_end)}",
              f"duration_seconds={(ended - self.started).total_seconds():.0f}"]
        order = ["startup", "idle_pss", "idle_rss", "idle_procs", "intake_", "fanout_", "verp",
                 "latency_10", "latency_10_data", "cpu_", "peak_", "smtp_msgs", "sink_rcpts"]
        rank = {f.key: min(i for i, k in enumerate(order) if f.key == k or
                           (k.endswith("_") and f.key.startswith(k))) for f in self.res.figures}
        for f in sorted(self.res.figures, key=lambda f: rank[f.key]):  # stable within a rank
            st = {c: f.stats(c) for c in cols}
            if not any(st.values()) and not f.failed:
                continue
            cells = []
            for c in cols:
                s = st[c]
                if s:
                    cell = fmt(s["median"]) + (f" ({fmt(s['min'])}–{fmt(s['max'])})" if s["n"] > 1 else "")
                    if s["n"] == 1 and a.runs > 1 and f.key not in ("idle_pss", "idle_rss", "idle_procs"):
                        cell += " (1 run)"
                    for k in ("median", "min", "max", "n"):
                        kv.append(f"{f.key}.{c}.{k}={s[k]:.6g}")
                elif c in f.failed:
                    cell = "failed"
                    kv.append(f"{f.key}.{c}.failed={f.failed[c][:200]}")
                else:
                    cell = "—"
                cells.append(cell)
            ratios = []
            for other in ["ceiling"] + (["mailman3"] if a.peer else []):
                if st["crier"] and st[other] and st[other]["median"]:
                    r = st["crier"]["median"] / st[other]["median"]
                    ratios.append(f"{r:.2f}")
                    kv.append(f"{f.key}.crier_over_{other}={r:.4g}")
                else:
                    ratios.append("—")
            loads = [s for s in st.values() if s]
            load = (f"{min(s['load_min'] for s in loads):.1f}–{max(s['load_max'] for s in loads):.1f}"
                    if loads else "")
            unit = f" ({f.unit})" if f.unit else ""
            rows.append([f.title + unit] + cells + ratios + [load])
        md = [f"# bench/run, {self.started.strftime('%Y-%m-%d %H:%M UTC')}", "",
              f"Machine: {targets.machine()}.  ",
              f"Load average at start {' '.join(self.load_start)}, at end {' '.join(load_end)}; "
              f"took {(ended - self.started).total_seconds() / 60:.1f} min.  ",
              f"Each figure: median of {a.runs} runs (min–max) unless marked; "
              f"messages of {SIZE:,} bytes; loopback only.  ",
              f"Command: `bench/run {' '.join(sys.argv[1:])}`", "",
              "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        md += ["", "Ratios are crier's median over the other's: above 1 is better for rates, "
               "below 1 is better for times and memory."]
        if self.notes:
            md += ["", "Notes:", ""] + [f"- {x}" for x in self.notes]
        if self.errors:
            md += ["", "Failures:", ""] + [f"- {e}" for e in self.errors]
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "results.md"), "w") as fp:
            fp.write("\n".join(md) + "\n")
        with open(os.path.join(a.out, "results.kv"), "w") as fp:
            fp.write("\n".join(kv) + "\n")
        with open(os.path.join(a.out, "raw.json"), "w") as fp:
            json.dump({f.key: {"title": f.title, "unit": f.unit, "samples": f.samples,
                               "failed": f.failed} for f in self.res.figures}, fp, indent=1)
        self.plot(cols)
        print("\n".join(md))
        print(f"\nwritten to {a.out}/ (results.md, results.kv, raw.json, fanout.*)")

    def plot(self, cols):
        a = self.args
        dat = os.path.join(a.out, "fanout.dat")
        with open(dat, "w") as fp:
            fp.write("# members " + " ".join(f"{c} {c}_min {c}_max" for c in cols) + "\n")
            for n in a.sizes:
                f = self.res.by_key.get(f"fanout_{n}")
                vals = []
                for c in cols:
                    s = f.stats(c) if f else None
                    vals += [f"{s[k]:.1f}" for k in ("median", "min", "max")] if s else ["NaN"] * 3
                fp.write(f"{n} " + " ".join(vals) + "\n")
        gnuplot(dat, cols, self.started.strftime("%Y-%m-%d"))

    def run(self):
        a = self.args
        log(f"work dir {self.work}; results to {a.out}")
        try:
            if self.want("ceiling"):
                self.ceiling()
            for name in ["crier"] + ([a.peer] if a.peer else []):
                if self.want(name):
                    try:
                        self.server(name)
                    except BenchError as e:
                        self.errors.append(f"{name}: {e}")
                        log(f"FAILED {name}: {e}")
        finally:
            for c in reversed(self.cleanups):
                try:
                    c()
                except Exception as e:  # cleanup goes on whatever one step did
                    log(f"cleanup: {e}")
            if not a.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        self.write()
        return 1 if self.errors else 0


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peer", choices=["mailman3"], help="also measure GNU Mailman 3")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    p.add_argument("--latency-runs", type=int, default=7, help="posts for the latency median (7)")
    p.add_argument("--sizes", default="1000 10000 100000 1000000",
                   help="fan-out list sizes (Mailman stops at --peer-max-size)")
    p.add_argument("--peer-max-size", type=int, default=100000)
    p.add_argument("--peer-runs", type=int, default=None,
                   help="fan-out posts per size for Mailman (default: --runs)")
    p.add_argument("--peer-verp-runs", type=int, default=1,
                   help="VERP posts for Mailman (default 1; each further one costs a restart)")
    p.add_argument("--verp-members", type=int, default=10000)
    p.add_argument("--verp-window", type=float, default=60,
                   help="seconds of a VERP post that are measured at most (default 60: "
                   "Mailman needs about 4 minutes for all 10,000)")
    p.add_argument("--conns", default="1 4 16", help="LMTP intake connections")
    p.add_argument("--intake-msgs", type=int, default=1000, help="messages per intake run")
    p.add_argument("--peer-intake-msgs", type=int, default=200,
                   help="messages per intake run into Mailman (it takes about 50/s)")
    p.add_argument("--smtp-msgs", type=int, default=10000)
    p.add_argument("--smtp-sessions", type=int, default=1,
                   help="smtp-source sessions for the message ceiling (1: the fastest here)")
    p.add_argument("--settle", type=float, default=5.0, help="seconds idle before memory is read")
    p.add_argument("--only", default="", help="comma-separated: ceiling,crier,mailman3,"
                   "intake,idle,latency,fanout,verp")
    p.add_argument("--quick", action="store_true",
                   help="a short check of the harness: 1 run, lists of 1,000 and 10,000")
    p.add_argument("--out", default=None, help="output directory (default bench/results/STAMP)")
    p.add_argument("--tmp", default="/tmp", help="where the servers' var dirs go")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args(argv)
    if a.quick:
        a.runs, a.latency_runs, a.sizes = 1, 3, "1000 10000"
        a.intake_msgs, a.peer_intake_msgs, a.smtp_msgs, a.verp_members = 500, 50, 2000, 1000
    a.sizes = sorted(int(x) for x in a.sizes.split())
    a.conns = [int(x) for x in a.conns.split()]
    a.only = set(x for x in a.only.split(",") if x)
    if a.only and not a.only & {"ceiling", "crier", "mailman3"}:
        a.only |= {"ceiling", "crier", "mailman3"}
    if a.only and not a.only & {"intake", "idle", "latency", "fanout", "verp"}:
        a.only |= {"intake", "idle", "latency", "fanout", "verp"}
    if a.out is None:
        a.out = os.path.join(HERE, "results", time.strftime("%Y%m%d-%H%M%S", time.gmtime()))
    a.crier = os.environ.get("CRIER") or os.path.join(os.path.dirname(HERE), "build", "crier")
    return a


def main():
    a = parse_args(sys.argv[1:])
    # SIGTERM (and SIGHUP) unwind like Ctrl-C, so every server is stopped.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    b = Bench(a)
    try:
        sys.exit(b.run())
    except KeyboardInterrupt:
        b.errors.append("interrupted")
        b.write()
        sys.exit(130)


if __name__ == "__main__":
    main()
