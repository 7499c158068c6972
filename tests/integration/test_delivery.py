"""Outgoing delivery through the out runner to a real SMTP peer (aiosmtpd):
Mailman's chunking, envelope sender, VERP, and failure handling (reference
§4, §12 items 25-28)."""
import sqlite3
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port

MSG = ("From: anne@example.org\nTo: ant@example.com\nSubject: hello\n"
       "Message-ID: <d1@example.org>\n\nline one\n.\n..two dots\n.leading\nend\n")


class Sink:
    def __init__(self):
        self.transactions = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bad"):
            return "550 5.1.1 no such user"
        if address.startswith("later"):
            return "450 4.2.0 try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.transactions.append((envelope.mail_from, sorted(envelope.rcpt_tos),
                                  envelope.content))
        self.peers = getattr(self, "peers", [])
        self.peers.append(session.peer)
        return "250 OK"


@pytest.fixture
def delivery(crier):
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    crier.sink = sink

    def start(extra=""):
        port = free_port()
        crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {port}\n"
                                 f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n" + extra)
        crier.ok("create", "ant@example.com")
        crier.ok("start", "-q")
    crier.start = start
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def inject_out(crier, rcpts, *meta):
    args = ["inject", "-q", "out", "-m", "recipients=" + "\n".join(rcpts)]
    for m in meta:
        args += ["-m", m]
    crier.ok(*args, "ant@example.com", input=MSG)


def wait_until(pred, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def queue(crier, name):
    return list((crier.var / "queue" / name).glob("*.pck"))


def test_bulk_chunks_and_envelope(delivery):
    delivery.start()
    # (nodecorate: the body must arrive exactly as injected, without footer)
    inject_out(delivery, ["a@example.com", "b@example.org", "c@example.net"], "nodecorate=true")
    assert wait_until(lambda: len(delivery.sink.transactions) == 2)
    senders = {t[0] for t in delivery.sink.transactions}
    assert senders == {"ant-bounces@example.com"}
    assert sorted(t[1] for t in delivery.sink.transactions) == [
        ["a@example.com"], ["b@example.org", "c@example.net"]]
    # The body arrives exactly, dot lines included.
    body = delivery.sink.transactions[0][2].replace(b"\r\n", b"\n")
    assert body.endswith(b"\nline one\n.\n..two dots\n.leading\nend\n")
    assert wait_until(lambda: queue(delivery, "out") == [])
    log = (delivery.var / "logs" / "smtp.log").read_text()
    assert "<d1@example.org> smtp to ant@example.com for 3 recips, completed in" in log
    assert "<d1@example.org> post to ant@example.com from ant-bounces@example.com" in log


def test_max_recipients(delivery):
    delivery.start("[mta]\nmax_recipients: 2\n")
    inject_out(delivery, [f"m{i}@example.com" for i in range(5)])
    assert wait_until(lambda: sum(len(t[1]) for t in delivery.sink.transactions) == 5)
    assert sorted(len(t[1]) for t in delivery.sink.transactions) == [1, 2, 2]


def test_verp(delivery):
    delivery.start()
    inject_out(delivery, ["bob@example.org", "cat@example.net"], "verp=true")
    assert wait_until(lambda: len(delivery.sink.transactions) == 2)
    assert sorted(t[0] for t in delivery.sink.transactions) == [
        "ant-bounces+bob=example.org@example.com", "ant-bounces+cat=example.net@example.com"]


def test_verp_delivery_interval(delivery):
    delivery.start("[mta]\nverp_delivery_interval: 1\n")
    inject_out(delivery, ["bob@example.org"])
    assert wait_until(lambda: len(delivery.sink.transactions) == 1)
    assert delivery.sink.transactions[0][0] == "ant-bounces+bob=example.org@example.com"


def test_permanent_and_temporary_failures(delivery):
    delivery.start()
    delivery.ok("addmembers", "-", "ant@example.com", input="bad@example.com\n")
    inject_out(delivery, ["good@example.com", "bad@example.com", "later@example.com"])
    assert wait_until(lambda: len(queue(delivery, "retry")) == 1)
    assert [t[1] for t in delivery.sink.transactions] == [["good@example.com"]]
    retry = delivery.ok("qfile", str(queue(delivery, "retry")[0])).stdout
    assert "'recipients': 'later@example.com'" in retry
    db = sqlite3.connect(delivery.var / "data" / "mailman.db")
    events = db.execute("SELECT email FROM bounce_event").fetchall()
    db.close()
    assert events == [("bad@example.com",)]
    log = (delivery.var / "logs" / "smtp.log").read_text()
    assert "delivery to bad@example.com failed with code 550" in log
    assert "delivery to later@example.com failed with code 450" in log
    assert "post to ant@example.com from ant-bounces@example.com, " in log
    assert ", 2 failures" in log


def test_unreachable_mta_goes_to_retry(crier):
    dead = free_port()
    port = free_port()
    crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {port}\n"
                             f"smtp_host: 127.0.0.1\nsmtp_port: {dead}\n")
    crier.ok("create", "ant@example.com")
    crier.ok("start", "-q")
    try:
        inject_out(crier, ["a@example.com", "b@example.org"])
        assert wait_until(lambda: len(queue(crier, "retry")) == 1)
        text = crier.ok("qfile", str(queue(crier, "retry")[0])).stdout
        assert "a@example.com" in text and "b@example.org" in text
    finally:
        crier.run("stop", "-q")


def test_notice_through_virgin_is_delivered(delivery):
    delivery.start()
    delivery.ok("create", "-n", "-o", "owner@example.org", "bee@example.com")
    assert wait_until(lambda: any("owner@example.org" in t[1] for t in delivery.sink.transactions))
    (t,) = [t for t in delivery.sink.transactions if "owner@example.org" in t[1]]
    assert t[0] == "bee-bounces@example.com"
    assert b"Subject: Your new mailing list: bee@example.com" in t[2]


def test_parallel_connections(delivery):
    """[mta] max_delivery_threads: that many SMTP sessions deliver the
    chunks of one post at once (Mailman documents the key but ignores it)."""
    delivery.start("[mta]\nmax_recipients: 2\nmax_delivery_threads: 4\n")
    rcpts = [f"m{i:02d}@example.com" for i in range(40)]
    inject_out(delivery, rcpts)
    assert wait_until(lambda: sum(len(t[1]) for t in delivery.sink.transactions) == 40)
    got = sorted(r for t in delivery.sink.transactions for r in t[1])
    assert got == rcpts  # each exactly once
    assert 1 < len(set(delivery.sink.peers)) <= 4
    assert wait_until(lambda: queue(delivery, "out") == [])


def test_parallel_connections_verp_and_failures(delivery):
    delivery.start("[mta]\nmax_delivery_threads: 3\n")
    rcpts = [f"v{i}@example.org" for i in range(7)] + ["bad@example.org", "later@example.org"]
    inject_out(delivery, rcpts, "verp=true")
    assert wait_until(lambda: len(delivery.sink.transactions) == 7)
    assert wait_until(lambda: len(queue(delivery, "retry")) == 1)
    assert sorted(t[0] for t in delivery.sink.transactions) == sorted(
        f"ant-bounces+v{i}=example.org@example.com" for i in range(7))
    retry = delivery.ok("qfile", str(queue(delivery, "retry")[0])).stdout
    assert "'recipients': 'later@example.org'" in retry


def test_entry_that_cannot_go_to_retry_is_shunted_as_it_came(delivery):
    """A temporary failure whose retry entry cannot be written: the handler
    fails and the entry is shunted with its whole recipient list and
    without the retry's marks (nodecorate would send the undecorated
    message undecorated when it is unshunted)."""
    delivery.start()
    retry = delivery.var / "queue" / "retry"
    if retry.is_dir():
        for p in retry.iterdir():
            p.unlink()
        retry.rmdir()
    retry.write_text("not a directory\n")
    inject_out(delivery, ["good@example.com", "later@example.com"])
    assert wait_until(lambda: len(queue(delivery, "shunt")) == 1)
    assert [t[1] for t in delivery.sink.transactions] == [["good@example.com"]]
    text = delivery.ok("qfile", str(queue(delivery, "shunt")[0])).stdout
    assert "'recipients': 'good@example.com\\nlater@example.com'" in text
    assert "nodecorate" not in text and "deliver_until" not in text
