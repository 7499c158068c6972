"""The out runner's asynchronous SMTP client (deliver_smtp): PIPELINING
(RFC 2920) when the MTA offers it and one command at a time when it does
not, many transactions over one connection, [mta] max_delivery_threads
connections side by side, max_sessions_per_connection, multi-line replies,
per-recipient results through a pipelined session, and a stalled MTA that
runs into the (test-shortened) RFC 5321 timeout.

aiosmtpd does not offer PIPELINING by itself; PipeSink adds it to its EHLO
reply and aiosmtpd reads the pipelined commands in order."""
import asyncio
import collections
import os
import random
import signal
import socket
import sqlite3
import threading

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port
from test_daemon import gone
from test_delivery import inject_out, queue, wait_until
from test_faults import daemon, out_pid  # noqa: F401 (daemon: a fixture)
from test_faults import wait_until as wait_value  # returns the value


class PipeSink:
    """Records (peer, sender, recipients) per accepted transaction.

    pipelining: offer PIPELINING. Recipients starting with "bad" get 550
    (a two-line reply), "later" 450. stall: the final "." of the next N
    transactions is answered only after `stall_s` seconds, and those are
    not recorded. drop: the next N messages lose the connection after the
    data arrived, before anything is recorded or answered."""

    def __init__(self, pipelining=True, ehlo=True):
        self.pipelining = pipelining
        self.ehlo = ehlo
        self.lock = threading.Lock()
        self.transactions = []
        self.peers = collections.Counter()  # connection -> transactions
        self.stall = 0
        self.stall_s = 0.0
        self.drop = 0
        self.dropped = []
        self.servers = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.ehlo:
            return ["502 5.5.1 EHLO not here"]
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bad"):
            return "550-5.1.1 no such user\r\n550 5.1.1 (and a second line)"
        if address.startswith("later"):
            return "450 4.2.0 try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            stall = self.stall > 0
            if stall:
                self.stall -= 1
            drop = not stall and self.drop > 0
            if drop:
                self.drop -= 1
                self.dropped.append(list(envelope.rcpt_tos))
        if drop:
            server.transport.abort()
            return "421 going away"
        if stall:
            await asyncio.sleep(self.stall_s)
            return "451 too late"
        with self.lock:
            self.transactions.append((session.peer, envelope.mail_from,
                                      sorted(envelope.rcpt_tos)))
            self.peers[session.peer] += 1
            self.servers.append(server)
        return "250-queued\r\n250 as 1234"

    def delivered(self):
        with self.lock:
            return collections.Counter(r for _, _, rs in self.transactions for r in rs)


@pytest.fixture
def pipe(crier):
    started = []

    def start(extra="", pipelining=True, env=None, ehlo=True):
        sink = PipeSink(pipelining, ehlo)
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        sink.controller = controller
        started.append(controller)
        # One connection unless a test asks for more: these tests follow
        # the transactions of one session.
        crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                                 f"smtp_host: 127.0.0.1\nsmtp_port: {port}\n"
                                 "max_delivery_threads: 1\n" + extra)
        crier.ok("create", "ant@example.com")
        crier.run("start", "-q", env=env, check=0)
        return sink
    crier.start = start
    yield crier
    crier.run("stop", "-q")
    for c in started:
        c.stop()


def smtp_log(crier):
    return (crier.var / "logs" / "smtp.log").read_text()


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_many_transactions_over_one_connection(pipe, pipelining):
    sink = pipe.start("[mta]\nmax_recipients: 1\n", pipelining=pipelining)
    rcpts = [f"m{i:03d}@example.com" for i in range(120)]
    inject_out(pipe, rcpts, "nodecorate=true")
    assert wait_until(lambda: sum(sink.delivered().values()) == 120), smtp_log(pipe)
    assert sorted(sink.delivered()) == rcpts
    assert set(sink.delivered().values()) == {1}
    assert len(sink.peers) == 1  # one connection, reused
    assert wait_until(lambda: queue(pipe, "out") == [])
    assert queue(pipe, "retry") == []
    assert "<d1@example.org> smtp to ant@example.com for 120 recips" in smtp_log(pipe)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_results_per_recipient_and_multiline_replies(pipe, pipelining):
    """A refused RCPT keeps its code (a two-line 550 is one reply), the
    final reply (two lines here) applies to the accepted ones."""
    sink = pipe.start("[mta]\nmax_recipients: 3\n", pipelining=pipelining)
    pipe.ok("addmembers", "-", "ant@example.com", input="bad1@example.com\n")
    rcpts = ["a@example.com", "bad1@example.com", "later1@example.com",
             "b@example.com", "c@example.com", "d@example.com", "bad2@example.com",
             "later2@example.com", "bad3@example.com"]
    inject_out(pipe, rcpts)
    assert wait_until(lambda: len(queue(pipe, "retry")) == 1), smtp_log(pipe)
    assert sorted(sink.delivered()) == ["a@example.com", "b@example.com", "c@example.com",
                                        "d@example.com"]
    retry = pipe.ok("qfile", str(queue(pipe, "retry")[0])).stdout
    assert "later1@example.com" in retry and "later2@example.com" in retry
    assert "@example.com\\nbad" not in retry and "'bad" not in retry
    log = smtp_log(pipe)
    assert ("delivery to bad1@example.com failed with code 550, 5.1.1 no such user "
            "5.1.1 (and a second line)") in log, log
    assert "delivery to later2@example.com failed with code 450" in log
    assert ", 5 failures" in log
    db = sqlite3.connect(pipe.var / "data" / "mailman.db")
    events = sorted(e for (e,) in db.execute("SELECT email FROM bounce_event"))
    db.close()
    assert events == ["bad1@example.com", "bad2@example.com", "bad3@example.com"]


def test_helo_when_ehlo_is_refused(pipe):
    """As Python's smtplib (Mailman): EHLO refused, HELO, no extensions."""
    sink = pipe.start("[mta]\nmax_recipients: 2\n", ehlo=False)
    rcpts = [f"m{i}@example.com" for i in range(5)]
    inject_out(pipe, rcpts)
    assert wait_until(lambda: sorted(sink.delivered()) == rcpts), smtp_log(pipe)
    assert len(sink.peers) == 1


def test_connection_closed_while_idle_is_replaced(pipe):
    """The connection stays open from one entry to the next; when the MTA
    closed it meanwhile, the next entry goes over a new one, without a
    retry."""
    sink = pipe.start()
    inject_out(pipe, ["a@example.com"])
    assert wait_until(lambda: sum(sink.delivered().values()) == 1), smtp_log(pipe)
    # Close the idle session from the server's side (aiosmtpd's loop).
    transport = sink.servers[-1].transport
    sink.controller.loop.call_soon_threadsafe(transport.close)
    assert wait_until(transport.is_closing)
    inject_out(pipe, ["b@example.com", "c@example.org"])
    assert wait_until(lambda: sum(sink.delivered().values()) == 3), smtp_log(pipe)
    assert len(sink.peers) == 2
    assert queue(pipe, "retry") == []


def test_four_connections_each_recipient_once(pipe):
    sink = pipe.start("[mta]\nmax_recipients: 2\nmax_delivery_threads: 4\n")
    rcpts = [f"m{i:03d}@example.com" for i in range(200)]
    inject_out(pipe, rcpts, "nodecorate=true")
    assert wait_until(lambda: sum(sink.delivered().values()) == 200), smtp_log(pipe)
    assert sorted(sink.delivered()) == rcpts
    assert set(sink.delivered().values()) == {1}
    assert len(sink.peers) == 4, sink.peers
    assert wait_until(lambda: queue(pipe, "out") == [])


def test_default_zero_means_four_connections(pipe):
    """[mta] max_delivery_threads: 0, Mailman's default, means
    DELIVER_OUT_CONNECTIONS (4) connections."""
    sink = pipe.start("[mta]\nmax_recipients: 2\nmax_delivery_threads: 0\n")
    rcpts = [f"z{i:03d}@example.com" for i in range(200)]
    inject_out(pipe, rcpts, "nodecorate=true")
    assert wait_until(lambda: sum(sink.delivered().values()) == 200), smtp_log(pipe)
    assert set(sink.delivered().values()) == {1}
    assert len(sink.peers) == 4, sink.peers


def test_verp_over_four_connections(pipe):
    sink = pipe.start("[mta]\nmax_delivery_threads: 4\n")
    rcpts = [f"v{i:02d}@example.org" for i in range(30)]
    inject_out(pipe, rcpts, "verp=true")
    assert wait_until(lambda: sum(sink.delivered().values()) == 30), smtp_log(pipe)
    assert set(sink.delivered().values()) == {1}
    assert sorted(t[1] for t in sink.transactions) == sorted(
        f"ant-bounces+v{i:02d}=example.org@example.com" for i in range(30))
    assert 1 < len(sink.peers) <= 4


def test_max_sessions_per_connection(pipe):
    sink = pipe.start("[mta]\nmax_recipients: 1\nmax_sessions_per_connection: 5\n")
    rcpts = [f"m{i:02d}@example.com" for i in range(20)]
    inject_out(pipe, rcpts)
    assert wait_until(lambda: sum(sink.delivered().values()) == 20), smtp_log(pipe)
    assert set(sink.delivered().values()) == {1}
    assert sorted(sink.peers.values()) == [5, 5, 5, 5]


def test_drop_during_data_retries_only_that_transaction(pipe):
    """The MTA drops the connection once it has a message: that
    transaction's recipients get 444 and go to retry; the next one, whose
    commands were pipelined behind it but whose message was not sent, is
    sent again on a new connection instead."""
    sink = pipe.start("[mta]\nmax_recipients: 2\n")
    sink.drop = 1
    rcpts = [f"m{i}@example.com" for i in range(6)]
    inject_out(pipe, rcpts, "nodecorate=true")
    assert wait_until(lambda: len(queue(pipe, "retry")) == 1), smtp_log(pipe)
    assert wait_until(lambda: queue(pipe, "out") == [])
    assert sink.dropped == [["m0@example.com", "m1@example.com"]]
    assert sorted(sink.delivered()) == rcpts[2:]
    retry = pipe.ok("qfile", str(queue(pipe, "retry")[0])).stdout
    assert "'recipients': 'm0@example.com\\nm1@example.com'" in retry, retry
    assert "failed with code 444" in smtp_log(pipe)
    assert len(sink.peers) == 1  # the rest went over the second connection


def test_stalled_mta_times_out_and_retries(pipe):
    """The MTA sits on the final "." past the timeout (RFC 5321: 10 minutes;
    CRIER_SMTP_TIMEOUT caps it at 1 s here): 444, retry queue, and the retry
    delivers it once the MTA answers again."""
    sink = pipe.start("[mta]\nmax_recipients: 2\n[runner.retry]\nsleep_time: 0.5s\n",
                      env={"CRIER_SMTP_TIMEOUT": "1"})
    sink.stall = 1
    sink.stall_s = 4
    rcpts = [f"m{i}@example.com" for i in range(4)]
    inject_out(pipe, rcpts, "nodecorate=true")
    assert wait_until(lambda: "failed with code 444" in smtp_log(pipe), timeout=10)
    assert wait_until(lambda: sorted(sink.delivered()) == rcpts, timeout=20), smtp_log(pipe)
    assert set(sink.delivered().values()) == {1}
    assert wait_until(lambda: queue(pipe, "retry") == [] and queue(pipe, "out") == [])


def raw_sink(port, chunks, stop):
    """A minimal SMTP peer offering PIPELINING that keeps every chunk
    recv() returned, to see what crier put in one write."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(5)
    ls.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.sendall(b"220 raw\r\n")
        buf, in_data = b"", False
        while True:
            d = c.recv(65536)
            if not d:
                break
            chunks.append(d)
            buf += d
            out = b""
            while True:
                if in_data:
                    i = buf.find(b"\r\n.\r\n")
                    if i < 0:
                        break
                    buf, in_data = buf[i + 5:], False
                    out += b"250 ok\r\n"
                    continue
                i = buf.find(b"\r\n")
                if i < 0:
                    break
                line, buf = buf[:i].upper(), buf[i + 2:]
                if line.startswith(b"EHLO"):
                    out += b"250-raw\r\n250 PIPELINING\r\n"
                elif line.startswith(b"DATA"):
                    out += b"354 go\r\n"
                    in_data, buf = True, b"\r\n" + buf
                elif line.startswith(b"QUIT"):
                    out += b"221 bye\r\n"
                else:
                    out += b"250 ok\r\n"
            if out:
                c.sendall(out)
        c.close()
    ls.close()


def test_next_group_rides_with_the_message(crier):
    """RFC 2920: MAIL, RCPT and DATA in one write, and the next
    transaction's group right behind the previous message's "."."""
    port = free_port()
    chunks, stop = [], threading.Event()
    t = threading.Thread(target=raw_sink, args=(port, chunks, stop), daemon=True)
    t.start()
    crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                             f"smtp_host: 127.0.0.1\nsmtp_port: {port}\nmax_recipients: 2\n")
    crier.ok("create", "ant@example.com")
    crier.ok("start", "-q")
    try:
        inject_out(crier, [f"m{i}@example.com" for i in range(6)], "nodecorate=true")
        assert wait_until(lambda: queue(crier, "out") == [])
        # (What one recv() returns is what one write sent on loopback,
        # unless the machine is very busy: only look for the junctions.)
        stream = b"".join(chunks)
        assert b"MAIL FROM:<ant-bounces@example.com>\r\nRCPT TO:<m0@example.com>\r\n" in stream
        assert any(b"\r\n.\r\nMAIL FROM:" in c for c in chunks), chunks
    finally:
        crier.run("stop", "-q")
        stop.set()
        t.join(5)


class SlowSink(PipeSink):
    """Takes each message, then answers after 50-250 ms (so that four
    connections answer out of order)."""

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(random.uniform(0.05, 0.25))
        return reply


def test_kill_out_runner_with_four_connections(daemon):
    """kill -9 of the out runner in a fan-out over four pipelined
    connections: the progress log, written as answers come in out of order,
    lets the new runner skip what was answered; everyone gets the message,
    and only transactions in flight or answered since the last record go
    out twice."""
    sink = SlowSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    chunk, n = 5, 400
    daemon.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                             f"smtp_host: 127.0.0.1\nsmtp_port: {port}\n"
                             f"max_recipients: {chunk}\nmax_delivery_threads: 4\n")
    daemon.ok("create", "ant@example.com")
    daemon.ok("start", "-q")
    try:
        rcpts = [f"k{i:03d}@example.com" for i in range(n)]
        inject_out(daemon, rcpts, "nodecorate=true")
        assert wait_until(lambda: sum(sink.delivered().values()) >= 60)
        pid = wait_value(lambda: out_pid(daemon), timeout=10)
        assert isinstance(pid, int) and pid > 1 and sum(sink.delivered().values()) < n, "finished before the kill"
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: gone(pid), timeout=5)
        assert wait_until(lambda: sorted(sink.delivered()) == rcpts, timeout=30)
        assert wait_until(lambda: queue(daemon, "out") == [] and queue(daemon, "retry") == [])
        dups = sum(c - 1 for c in sink.delivered().values())
        print(f"\nkill -9 with 4 connections: {dups} duplicates of {n}")
        # in flight: one message per connection, plus the answered ones
        # since the last record (under max_recipients)
        assert dups <= 4 * chunk + chunk, dups
    finally:
        controller.stop()


@pytest.mark.parametrize("before", ["unit bulk 1\ndone 2\n", "done 2\n"],
                         ids=["max_recipients-changed", "no-unit"])
def test_progress_cut_another_way_is_not_trusted(crier, before):
    """A fan-out resumed after a crash with max_recipients changed in
    between: the progress log numbers transactions (here: two chunks of
    one recipient answered), which mean other recipients now. It is
    ignored and everyone gets the message (repeats are allowed, losses
    are not)."""
    sink = PipeSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        base = (f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                f"smtp_host: 127.0.0.1\nsmtp_port: {port}\n")
        crier.write_config(extra=base + "max_recipients: 1\n")
        crier.ok("create", "ant@example.com")
        rcpts = [f"p{i}@example.com" for i in range(4)]
        inject_out(crier, rcpts, "nodecorate=true")
        [entry] = queue(crier, "out")
        entry.with_suffix(".prg").write_text(before)
        crier.write_config(extra=base + "max_recipients: 10\n")
        crier.ok("start", "-q")
        assert wait_until(lambda: queue(crier, "out") == [])
        assert wait_until(lambda: sorted(sink.delivered()) == rcpts), sink.delivered()
    finally:
        crier.run("stop", "-q")
        controller.stop()
