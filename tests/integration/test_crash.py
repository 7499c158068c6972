"""Crash safety through the whole posting path (issue 7 item 1).

Posts stream in over LMTP to a list of 50 members and fan out to an
aiosmtpd sink (10 recipients per SMTP transaction) while crier's processes
are killed with SIGKILL in turn: the master, then each runner of the path
(in, pipeline, out, lmtp, virgin), several rounds. A killed runner is
restarted by its master; a killed master takes its runners with it
(PR_SET_PDEATHSIG) and `crier start --force` brings everything back.

Afterwards every message that got 250 has reached every member at least
once. Duplicates are counted per crash; the goal is at most one SMTP
transaction's worth (10 recipients) per crash. Bounded: under 90 s.

The figures in docs/reliability.md come from `CRIER_BIN=$PWD/build-test/crier
/usr/bin/python3 -m pytest -s -q tests/integration/test_crash.py`."""
import os
import signal
import smtplib
import threading
import time

import pytest

from conftest import free_port
from test_daemon import gone, runner_pids
from test_faults import Sink, start_sink, wait_until

MEMBERS = [f"m{i}@example.org" for i in range(50)]
CHUNK = 10
CONNECTIONS = 4  # [mta] max_delivery_threads 0, the default: four connections
ROUNDS = 2
TARGETS = ["master", "in", "pipeline", "out", "lmtp", "virgin"]
KILL_GAP = 1.2  # seconds of traffic between two kills


def post_msg(n):
    return (f"From: {MEMBERS[0]}\nTo: ant@example.com\nSubject: crash {n}\n"
            f"Message-ID: <crash-{n}@example.org>\n\nbody {n}\n")


class Poster(threading.Thread):
    """Posts one message per LMTP session, as fast as the server answers
    (with a short pause), and remembers which ones got 250."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.accepted = []
        self.failed = 0
        self.n = 0

    def run(self):
        while not self.stop.is_set():
            n = self.n
            self.n += 1
            try:
                with smtplib.LMTP("127.0.0.1", self.port, timeout=10) as c:
                    refused = c.sendmail(MEMBERS[0], ["ant@example.com"], post_msg(n))
                if not refused:
                    self.accepted.append(f"<crash-{n}@example.org>")
            except (OSError, smtplib.SMTPException):
                self.failed += 1
                time.sleep(0.05)
            time.sleep(0.1)


def master_pid(crier):
    try:
        return int((crier.var / "master.pid").read_text())
    except (OSError, ValueError):
        return None


def pid_of(crier, name):
    return next((p for p, s in runner_pids(crier).items() if s.split(":")[0] == name), None)


@pytest.fixture
def site(crier):
    sink = Sink(delay=0.03)
    smtp_port = free_port()
    controller = start_sink(sink, smtp_port)
    crier.sink = sink
    crier.lmtp_port = free_port()
    crier.write_config(extra=f"""\
[runner.rest]
start: no
[runner.retry]
sleep_time: 0.5s
[mta]
lmtp_port: {crier.lmtp_port}
smtp_host: 127.0.0.1
smtp_port: {smtp_port}
max_recipients: {CHUNK}
""")
    crier.ok("create", "-o", "boss@example.org", "ant@example.com")
    crier.ok("addmembers", "-", "ant@example.com", input="\n".join(MEMBERS) + "\n")
    yield crier
    crier.run("stop", "-q")
    for pid in runner_pids(crier):  # a master killed last leaves none; ours only
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    controller.stop()


def kill_master(crier):
    mpid = master_pid(crier)
    old = set(runner_pids(crier))
    os.kill(mpid, signal.SIGKILL)
    assert wait_until(lambda: gone(mpid), timeout=5)
    assert wait_until(lambda: not (old & set(runner_pids(crier))), timeout=10), \
        "runners outlived their master"
    crier.ok("start", "-q", "--force")


def kill_runner(crier, name):
    pid = wait_until(lambda: pid_of(crier, name), timeout=10)
    assert pid, f"no {name} runner"
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: gone(pid), timeout=5)
    assert wait_until(lambda: (pid_of(crier, name) or pid) != pid, timeout=10), \
        f"{name} was not restarted"


def test_kill_every_process_of_the_posting_path(site):
    t_start = time.monotonic()
    site.ok("start", "-q")
    poster = Poster(site.lmtp_port)
    poster.start()
    deliveries = site.sink.deliveries
    dups = lambda: sum(c - 1 for c in deliveries().values())  # noqa: E731
    kills = []  # (what, duplicates seen at the kill)
    try:
        for _ in range(ROUNDS):
            for what in TARGETS:
                time.sleep(KILL_GAP)
                kills.append((what, dups()))
                if what == "master":
                    kill_master(site)
                else:
                    kill_runner(site, what)
        time.sleep(KILL_GAP)
    finally:
        poster.stop.set()
        poster.join(15)
    accepted = list(poster.accepted)
    assert len(accepted) >= 20, f"only {len(accepted)} posts accepted"
    want = {(m, r) for m in accepted for r in MEMBERS}
    ok = wait_until(lambda: want <= set(deliveries()), timeout=40)
    got = deliveries()
    missing = want - set(got)
    assert ok, (f"{len(missing)} of {len(want)} deliveries missing, e.g. "
                f"{sorted(missing)[:5]}")
    # Let a late resend show before counting.
    time.sleep(1.0)
    final = dups()
    marks = [d for _, d in kills] + [final]
    per_kill = [(w, b - a) for (w, a), b in zip(kills, marks[1:])]
    elapsed = time.monotonic() - t_start
    extra = {m for m, _ in got} - set(accepted)
    print(f"\ncrash test: {len(accepted)} posts got 250 ({poster.failed} refused or cut "
          f"during kills, {len(extra)} more delivered without a 250), "
          f"{len(want)} deliveries wanted, all made; {len(kills)} kills; "
          f"{final} duplicate deliveries, per kill {per_kill}; {elapsed:.1f} s")
    # A kill repeats at most the transactions the MTA took but whose reply
    # was not read: one per connection (the one pipelined behind it has not
    # sent its message yet).
    for what, n in per_kill:
        assert n <= CONNECTIONS * CHUNK, (f"{n} duplicates after killing {what}: more than "
                                          f"one transaction per connection")
    assert elapsed < 90
