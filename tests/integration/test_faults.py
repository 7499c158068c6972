"""Faults around the runners (issue 7 items 1-2, the parts without the
posting pipeline): the MTA down or dropping connections, the database
locked, an entry that fails every time, and kill -9 of the out runner and
of the master while a fan-out is under way. Every wait is bounded.

The figures quoted in docs/reliability.md come from
`CRIER_BIN=$PWD/build-test/crier /usr/bin/python3 -m pytest -s -q
tests/integration/test_faults.py` (the tests print them)."""
import asyncio
import collections
import os
import signal
import smtplib
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port
from test_daemon import gone, runner_pids

DSN = (Path(__file__).resolve().parents[1] / "unit" / "data" / "bounce" /
       "postfix-dsn.eml").read_bytes()
FAILED_ONLY = DSN.replace(b"Final-Recipient: rfc822; carol@example.org\r\nAction: delayed\r\n"
                          b"Status: 4.4.1\r\n\r\n", b"")


def msg(n):
    return (f"From: anne@example.org\nTo: ant@example.com\nSubject: fault {n}\n"
            f"Message-ID: <fault-{n}@example.org>\n\nbody {n}\n")


class Sink:
    """An SMTP peer that records (Message-ID, recipient) per transaction.

    delay: seconds between taking a message and answering 250.
    drop_before: the next N DATA commands lose the connection before the
      message is accepted (nothing recorded: the MTA did not take it).
    drop_after: the next N DATA commands record the message, then lose the
      connection before the 250 reaches crier (the lost-reply case that
      makes duplicates)."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.drop_before = 0
        self.drop_after = 0
        self.lock = threading.Lock()
        self.transactions = []  # [(msgid, [rcpts])]
        self.dropped = []       # ("before"|"after", n recipients)

    async def handle_DATA(self, server, session, envelope):
        msgid = "?"
        for line in envelope.content.split(b"\n"):
            if line.lower().startswith(b"message-id:"):
                msgid = line.split(b":", 1)[1].strip().decode()
                break
        with self.lock:
            how = None
            if self.drop_before:
                self.drop_before -= 1
                how = "before"
            elif self.drop_after:
                self.drop_after -= 1
                how = "after"
            if how != "before":
                self.transactions.append((msgid, list(envelope.rcpt_tos)))
            if how:
                self.dropped.append((how, len(envelope.rcpt_tos)))
        if self.delay:
            # After recording: a client that dies now leaves a message the
            # MTA took without crier seeing the 250 (the worst case).
            await asyncio.sleep(self.delay)
        if how:
            server.transport.abort()
            return "421 going away"
        return "250 OK"

    def deliveries(self):
        with self.lock:
            return collections.Counter((m, r) for m, ts in self.transactions for r in ts)


def start_sink(sink, port):
    c = Controller(sink, hostname="127.0.0.1", port=port)
    c.start()
    return c


def wait_until(pred, timeout=15.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()


def pck(crier, name):
    return sorted((crier.var / "queue" / name).glob("*.pck"))


def entries(crier, name):
    """Waiting and claimed entries of a queue."""
    d = crier.var / "queue" / name
    return sorted(list(d.glob("*.pck")) + list(d.glob("*.bak")))


def log(crier, name):
    p = crier.var / "logs" / name
    return p.read_text() if p.exists() else ""


def inject_out(crier, n, rcpts):
    crier.ok("inject", "-q", "out", "-m", "recipients=" + "\n".join(rcpts),
             "ant@example.com", input=msg(n))


def configure(crier, smtp_port, extra=""):
    crier.lmtp_port = free_port()
    crier.write_config(extra=f"""\
[runner.rest]
start: no
[mta]
lmtp_port: {crier.lmtp_port}
smtp_host: 127.0.0.1
smtp_port: {smtp_port}
""" + extra)


@pytest.fixture
def daemon(crier):
    yield crier
    crier.run("stop", "-q")
    # A master killed by a test leaves its runners; stop them by pid, ours only.
    for pid in runner_pids(crier):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def rcpts_of(n, count):
    return [f"r{n}-{i}@example.com" for i in range(count)]


def want(ns, count):
    return {(f"<fault-{n}@example.org>", r) for n in ns for r in rcpts_of(n, count)}


# ---- 1. the MTA is down, then comes up -----------------------------------

def test_mta_down_then_up(daemon):
    port = free_port()
    configure(daemon, port, "[mta]\nmax_recipients: 2\n[runner.retry]\nsleep_time: 0.5s\n")
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    for n in range(3):
        inject_out(daemon, n, rcpts_of(n, 5))
    assert wait_until(lambda: len(entries(daemon, "retry")) + len(entries(daemon, "out")) == 3
                      and "<fault-2@example.org> delivery to r2-4@example.com failed with "
                          "code 444" in log(daemon, "smtp.log"))
    smtp = log(daemon, "smtp.log")
    assert "<fault-0@example.org>: cannot connect" in smtp or "Connection refused" in smtp, smtp
    sink = Sink()
    t0 = time.monotonic()
    controller = start_sink(sink, port)
    try:
        assert wait_until(lambda: set(sink.deliveries()) == want(range(3), 5), timeout=10)
        recovered = time.monotonic() - t0
        assert wait_until(lambda: not entries(daemon, "retry") and not entries(daemon, "out"))
        time.sleep(1.2)  # two more retry periods: nothing is sent again
        counts = sink.deliveries()
        assert set(counts) == want(range(3), 5) and set(counts.values()) == {1}
        print(f"\nMTA down: 15 recipients delivered exactly once {recovered:.2f} s "
              f"after the MTA came up (retry sleep_time 0.5 s)")
        assert pck(daemon, "shunt") == []
    finally:
        controller.stop()


# ---- 2. the MTA drops the connection during DATA, then recovers ----------

def test_mta_drops_connection_during_data(daemon):
    sink = Sink()
    sink.drop_before = 2
    sink.drop_after = 2
    port = free_port()
    controller = start_sink(sink, port)
    try:
        # One connection: the sink drops them in a known order.
        configure(daemon, port, "[mta]\nmax_recipients: 5\nmax_delivery_threads: 1\n"
                                "[runner.retry]\nsleep_time: 0.5s\n")
        daemon.ok("create", "ant@example.com")
        daemon.ok("start", "-q")
        for n in range(4):
            inject_out(daemon, n, rcpts_of(n, 10))
        assert wait_until(lambda: want(range(4), 10) <= set(sink.deliveries()), timeout=20)
        assert wait_until(lambda: not entries(daemon, "retry") and not entries(daemon, "out"))
        counts = sink.deliveries()
        assert set(counts) == want(range(4), 10)
        dups = sum(c - 1 for c in counts.values())
        # Only the messages the MTA took before the connection went are sent
        # again: one transaction's worth per lost reply, nothing for the rest.
        lost_replies = sum(n for how, n in sink.dropped if how == "after")
        assert [h for h, _ in sink.dropped] == ["before", "before", "after", "after"]
        assert dups == lost_replies <= 2 * 5
        assert "failed with code 444" in log(daemon, "smtp.log")
        print(f"\nMTA drops: 4 dropped transactions (2 after accepting), "
              f"{dups} duplicate deliveries of 40")
    finally:
        controller.stop()


# ---- 5. kill -9 of the out runner and of the master during a fan-out -----

def out_pid(crier):
    return next((p for p, s in runner_pids(crier).items() if s.startswith("out:")), None)


def master_pid(crier):
    try:
        return int((crier.var / "master.pid").read_text())
    except (OSError, ValueError):
        return None


KILL_ENTRIES, KILL_RCPTS, KILL_CHUNK = 20, 50, 10


@pytest.mark.parametrize("conns", [1, 0])
def test_kill_out_runner_and_master_during_fanout(daemon, conns):
    """With one connection a kill repeats at most one transaction; with the
    default (0: four connections) at most one per connection: the MTA took
    its message but the reply was not read."""
    sink = Sink(delay=0.03)
    port = free_port()
    controller = start_sink(sink, port)
    try:
        configure(daemon, port, f"[mta]\nmax_recipients: {KILL_CHUNK}\n"
                                f"max_delivery_threads: {conns}\n"
                                "[runner.retry]\nsleep_time: 0.5s\n")
        daemon.ok("create", "ant@example.com")
        daemon.ok("start", "-q")
        daemon.ok("stop", "-q")  # queue everything first: the kills land mid-fan-out
        for n in range(KILL_ENTRIES):
            inject_out(daemon, n, rcpts_of(n, KILL_RCPTS))
        daemon.ok("start", "-q")
        total = KILL_ENTRIES * KILL_RCPTS
        delivered = lambda: len(sink.deliveries())  # noqa: E731
        dups = lambda: sum(c - 1 for c in sink.deliveries().values())  # noqa: E731
        kills, dups_at = [], []
        for k in range(3):
            # Kill once some more mail went out since the last restart.
            floor = delivered() + 40
            assert wait_until(lambda: delivered() >= floor or delivered() == total, timeout=20)
            pid = wait_until(lambda: out_pid(daemon), timeout=10)
            assert pid and delivered() < total, "delivery finished before the kill"
            dups_at.append(dups())
            os.kill(pid, signal.SIGKILL)
            t_kill = time.monotonic()
            assert wait_until(lambda: gone(pid), timeout=5)
            at_kill = delivered()
            assert wait_until(lambda: (out_pid(daemon) or pid) != pid, timeout=10)
            assert wait_until(lambda: delivered() > at_kill or delivered() == total, timeout=10)
            kills.append(("out", time.monotonic() - t_kill))
        # The master: its runners get SIGTERM from the kernel (parent death),
        # finish the entry in hand and exit; only then may a new start run.
        assert wait_until(lambda: delivered() >= floor + 40 or delivered() == total, timeout=20)
        mpid = master_pid(daemon)
        old_runners = set(runner_pids(daemon))
        dups_at.append(dups())
        os.kill(mpid, signal.SIGKILL)
        t_kill = time.monotonic()
        assert wait_until(lambda: gone(mpid), timeout=5)
        assert wait_until(lambda: not (old_runners & set(runner_pids(daemon))), timeout=15), \
            "runners outlived their master"
        orphans_gone = time.monotonic() - t_kill
        proc = daemon.run("start", "-q", check=2)
        assert "did not exit cleanly (stale_lock).  Try using --force" in proc.stderr
        daemon.ok("start", "-q", "--force")
        assert wait_until(lambda: set(sink.deliveries()) == want(range(KILL_ENTRIES), KILL_RCPTS),
                          timeout=60), f"{len(sink.deliveries())} of {total} delivered"
        kills.append(("master", time.monotonic() - t_kill))
        assert wait_until(lambda: not entries(daemon, "out") and not entries(daemon, "retry"))
        dups_at.append(dups())
        per_kill = [b - a for a, b in zip(dups_at, dups_at[1:])]
        print(f"\nkill -9: {total} deliveries, {dups()} duplicates after 3 runner kills and "
              f"1 master kill (per kill {per_kill}); "
              f"runners gone {orphans_gone:.2f} s after the master; "
              f"recovery {[(w, round(t, 2)) for w, t in kills]}")
        assert pck(daemon, "shunt") == [] and pck(daemon, "bad") == []
        assert all(d <= (conns or 4) * KILL_CHUNK for d in per_kill), per_kill
    finally:
        controller.stop()


# ---- 3. the database locked by another process ---------------------------

def lock_db(path):
    """BEGIN EXCLUSIVE from another process. crier's database is in WAL
    mode, where this stops writers only: readers go on."""
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.execute("BEGIN EXCLUSIVE")
    db.execute("CREATE TABLE IF NOT EXISTS fault_lock (x)")
    return db


def unlock_db(db):
    db.execute("ROLLBACK")
    db.close()


def write_entry(crier, queue, meta, body):
    """A queue entry as the LMTP runner writes it (docs/queues.md), without
    the CLI, which needs the database."""
    head = f"crier-queue 1\nmessage-size: {len(body)}\n".encode()
    head += b"".join(f"{k}: {v}\n".encode() for k, v in meta.items()) + b"\n"
    d = crier.var / "queue" / queue
    d.mkdir(parents=True, exist_ok=True)
    base = f"{time.time():.7f}+{os.urandom(20).hex()}"
    (d / f"{base}.pck.tmp").write_bytes(head + body)
    os.rename(d / f"{base}.pck.tmp", d / f"{base}.pck")


def lmtp_rcpt(crier, rcpt, timeout=20):
    t0 = time.monotonic()
    c = smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=timeout)
    c.ehlo_or_helo_if_needed = lambda: None
    c.docmd("LHLO", "x")
    c.mail("anne@example.org")
    code, text = c.rcpt(rcpt)
    c.close()
    return code, time.monotonic() - t0


def test_locked_store_lmtp_answers(daemon):
    configure(daemon, free_port())
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    lock = lock_db(daemon.data_dir / "mailman.db")
    try:
        code, secs = lmtp_rcpt(daemon, "ant@example.com")
        code2, _ = lmtp_rcpt(daemon, "nosuch@example.com")
    finally:
        unlock_db(lock)
    print(f"\nLMTP, database locked (BEGIN EXCLUSIVE): RCPT {code} after {secs:.2f} s")
    assert code == 250 and secs < 2, (code, secs)
    assert code2 == 550


def db_rows(crier, sql):
    c = sqlite3.connect(crier.data_dir / "mailman.db")
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def test_locked_store_bounces_are_retried(daemon):
    """The bounces runner cannot write its event while another process
    holds the write lock past the 5 s busy timeout: the entry goes back to
    the queue and is retried after a back-off (logged), not shunted."""
    configure(daemon, free_port(), "[runner.virgin]\nstart: no\n")
    daemon.ok("create", "ant@example.com")
    daemon.ok("addmembers", "-", "ant@example.com", input="bob@example.org\n")
    daemon.ok("start", "-q")
    lock = lock_db(daemon.data_dir / "mailman.db")
    t0 = time.monotonic()
    try:
        write_entry(daemon, "bounces", {"listid": "ant.example.com", "subaddress": "bounces"},
                    FAILED_ONLY)
        assert wait_until(lambda: "temporary failure" in log(daemon, "mailman.log"), timeout=10)
        time.sleep(max(0.0, 7 - (time.monotonic() - t0)))  # past the 5 s busy timeout
        assert pck(daemon, "shunt") == []
    finally:
        unlock_db(lock)
    assert wait_until(lambda: db_rows(daemon, "SELECT email FROM bounce_event") ==
                      [("bob@example.org",)], timeout=15)
    took = time.monotonic() - t0
    retries = log(daemon, "mailman.log").count("temporary failure")
    print(f"\nbounces, database locked 7 s: retried {retries} times, event recorded "
          f"{took:.1f} s after the entry was queued; nothing shunted")
    assert pck(daemon, "shunt") == [] and not entries(daemon, "bounces")
    assert "runner bounces: " in log(daemon, "mailman.log")


def test_locked_store_incoming_is_retried(daemon):
    """A post from a non-member is held: the in runner must write the held
    message and its request. With the write lock held past the busy
    timeout, the entry is retried after a back-off, then held once."""
    configure(daemon, free_port(), "[runner.virgin]\nstart: no\n")
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    lock = lock_db(daemon.data_dir / "mailman.db")
    t0 = time.monotonic()
    try:
        write_entry(daemon, "in", {"listid": "ant.example.com", "to_list": "true"},
                    b"From: stranger@example.org\nTo: ant@example.com\nSubject: locked\n"
                    b"Message-ID: <locked-1@example.org>\n\nhello\n")
        assert wait_until(lambda: "temporary failure" in log(daemon, "mailman.log"), timeout=10)
        time.sleep(max(0.0, 7 - (time.monotonic() - t0)))
        assert pck(daemon, "shunt") == []
    finally:
        unlock_db(lock)
    assert wait_until(lambda: db_rows(daemon, "SELECT count(*) FROM request") == [(1,)],
                      timeout=15)
    assert wait_until(lambda: not entries(daemon, "in"))
    took = time.monotonic() - t0
    text = log(daemon, "mailman.log")
    print(f"\nin, database locked 7 s: retried {text.count('temporary failure')} times, "
          f"held {took:.1f} s after the entry was queued; nothing shunted")
    assert "runner in: " in text and "temporary failure" in text
    assert pck(daemon, "shunt") == []
    assert db_rows(daemon, "SELECT count(*) FROM request") == [(1,)]
    assert "HOLD: ant@example.com post from stranger@example.org held" in text


LMTP_ONLY = "".join(f"[runner.{n}]\nstart: no\n" for n in (
    "archive", "bad", "bounces", "command", "digest", "in", "nntp", "out", "pipeline",
    "retry", "shunt", "task", "virgin"))


def lmtp_pid(crier):
    return next((p for p, s in runner_pids(crier).items() if s.startswith("lmtp:")), None)


def restart_lmtp(crier, before=None):
    """kill -9 the LMTP runner; the master starts a new one. before() runs
    while the master is stopped (SIGSTOP), so that the new runner starts
    only after it."""
    mpid = master_pid(crier)
    pid = lmtp_pid(crier)
    listening = log(crier, "mailman.log").count("lmtp: listening")
    os.kill(mpid, signal.SIGSTOP)
    try:
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: gone(pid), timeout=5)
        if before:
            before()
    finally:
        os.kill(mpid, signal.SIGCONT)
    assert wait_until(lambda: (lmtp_pid(crier) or pid) != pid, timeout=10)
    # It listens once its first try to open the store is over (up to the
    # 5 s busy timeout when the database is locked).
    assert wait_until(lambda: log(crier, "mailman.log").count("lmtp: listening") > listening,
                      timeout=15)


def test_unreadable_store_lmtp_answers_451(daemon):
    """An LMTP runner that could never read the list names (restarted while
    the database file is not a database) answers 451 4.3.0 to every RCPT:
    it cannot tell a list from a stranger. Once the file is good, 250/550."""
    configure(daemon, free_port(), LMTP_ONLY)
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    db = daemon.data_dir / "mailman.db"
    good = daemon.data_dir / "good.db"
    os.rename(db, good)
    db.write_bytes(b"this is not an SQLite database\n" * 200)
    restart_lmtp(daemon)
    c = smtplib.LMTP("127.0.0.1", daemon.lmtp_port, timeout=20)
    c.ehlo("x")
    c.mail("anne@example.org")
    code, text = c.rcpt("ant@example.com")
    assert (code, text[:5]) == (451, b"4.3.0"), (code, text)
    code, text = c.rcpt("nosuch@example.com")
    assert (code, text[:5]) == (451, b"4.3.0"), (code, text)
    c.rset()
    os.replace(good, db)
    c.mail("anne@example.org")
    assert c.rcpt("ant@example.com")[0] == 250
    assert c.rcpt("nosuch@example.com")[0] == 550
    c.close()
    assert "lmtp: cannot open the database" in log(daemon, "mailman.log")


def test_locked_store_at_start_lmtp_answers_451(daemon):
    """The database held with an exclusive lock (locking_mode=EXCLUSIVE:
    readers are shut out too) when the LMTP runner is restarted: it cannot
    read the list names and answers 451, then 250 once the lock is gone.
    Only the LMTP runner runs: the lock can be had only when no other
    process has the database open."""
    configure(daemon, free_port(), LMTP_ONLY)
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    locks = []

    def lock():
        db = sqlite3.connect(daemon.data_dir / "mailman.db", isolation_level=None, timeout=10)
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        db.execute("CREATE TABLE IF NOT EXISTS fault_lock (x)")
        db.execute("COMMIT")  # the exclusive lock stays with the connection
        locks.append(db)
    try:
        restart_lmtp(daemon, lock)
        code, secs = lmtp_rcpt(daemon, "ant@example.com", timeout=30)
    finally:
        for db in locks:
            db.close()
    print(f"\nLMTP restarted with the database exclusively locked: RCPT {code} "
          f"after {secs:.1f} s")
    assert code == 451
    assert lmtp_rcpt(daemon, "ant@example.com")[0] == 250
    assert lmtp_rcpt(daemon, "nosuch@example.com")[0] == 550


# ---- 4. an entry that fails every time -----------------------------------

def test_failing_entry_is_shunted_and_others_go_on(daemon):
    class Picky(Sink):
        tempfail = True

        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.startswith("later") and self.tempfail:
                return "450 4.2.0 try again"
            envelope.rcpt_tos.append(address)
            return "250 OK"
    sink = Picky()
    port = free_port()
    controller = start_sink(sink, port)
    try:
        # The retry queue cannot be written (a file where its directory
        # should be): every entry with a temporary failure fails out.
        configure(daemon, port, "[runner.retry]\nstart: no\n")
        daemon.ok("create", "ant@example.com")
        (daemon.var / "queue").mkdir(parents=True, exist_ok=True)
        (daemon.var / "queue" / "retry").write_text("not a directory\n")
        daemon.ok("start", "-q")
        inject_out(daemon, 0, ["later@example.com", "now0@example.com"])
        for n in range(1, 4):
            inject_out(daemon, n, [f"now{n}@example.com"])
        assert wait_until(lambda: len(pck(daemon, "shunt")) == 1)
        assert wait_until(lambda: {m for m, _ in sink.deliveries()} >=
                          {f"<fault-{n}@example.org>" for n in range(1, 4)})
        assert "runner out: shunting" in log(daemon, "mailman.log")
        text = daemon.ok("qfile", str(pck(daemon, "shunt")[0])).stdout
        assert "'whichq': 'out'" in text
        # The administrator repairs the cause, then unshunts.
        (daemon.var / "queue" / "retry").unlink()
        sink.tempfail = False
        daemon.ok("unshunt")
        assert wait_until(lambda: ("<fault-0@example.org>", "later@example.com")
                          in sink.deliveries())
        assert wait_until(lambda: not entries(daemon, "out") and not pck(daemon, "shunt"))
    finally:
        controller.stop()
