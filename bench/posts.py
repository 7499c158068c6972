#!/usr/bin/python3
"""Where the time of one post goes: posts over LMTP to a list of N members
through crier's whole posting path (in, pipeline, out) into the harness's
counting sink, and prints for each post the time from the LMTP 250 to the
first and to the last recipient's DATA at the sink. The first is the fixed
cost of a post (the queue hops), the rest is delivery. Extra configuration
(--config) is appended to the instance's mailman.cfg, so that settings can
be compared in one sitting, e.g.

    bench/posts.py 100000 --config '[mta]' 'max_delivery_threads: 1'
    bench/posts.py 100000 --config '[mta]' 'max_delivery_threads: 4'

Usage: bench/posts.py MEMBERS [--posts K] [--config LINE...]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import targets  # noqa: E402
from clients import CountingSink, lmtp_post, message_bytes  # noqa: E402


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(prog="bench/posts.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("members", type=int)
    p.add_argument("--posts", type=int, default=7, help="posts (default 7)")
    p.add_argument("--config", nargs="*", default=[], help="lines appended to mailman.cfg")
    p.add_argument("--crier", default=os.path.join(top, "build", "crier"))
    p.add_argument("--tmp", default="/tmp")
    a = p.parse_args(argv)
    extra = "".join(line + "\n" for line in a.config)

    class Crier(targets.Crier):
        def config(self):
            return super().config() + extra

    work = tempfile.mkdtemp(prefix="crier-posts.", dir=a.tmp)
    sink = CountingSink(work)
    t = Crier(os.path.join(work, "crier"), sink.port,
              argparse.Namespace(crier=a.crier, intake_msgs=0, runs=1))
    n = a.members
    try:
        t.setup(["fan"])
        t.add_members("fan", n)
        t.start()
        print(f"# one post to {n:,} members, {a.posts} times; config: {a.config or 'default'}")
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {targets.machine()}, "
              f"load {targets.load1()}")
        total, first_ms = [], []
        for i in range(a.posts):
            tok = f"posts{i}x{time.time_ns()}"
            sink.arm(tok, n)
            t.wait_idle(60)
            t0 = lmtp_post(t.lmtp_port, t.address("fan"),
                           message_bytes(tok + "@bench", t.address("fan")))
            first, last = sink.wait_done(t.timeout(n), t.check_failed)[:2]
            first_ms.append((first - t0) * 1000)
            total.append((last - t0) * 1000)
            print(f"post {i}: first DATA {first_ms[-1]:.2f} ms, last {total[-1]:.2f} ms after "
                  f"the 250: {n / (last - t0):,.0f} recipients/s")
        med = statistics.median(total)
        print(f"median: first DATA {statistics.median(first_ms):.2f} ms, last {med:.2f} ms: "
              f"{n / med * 1000:,.0f} recipients/s")
    finally:
        t.stop()
        sink.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
