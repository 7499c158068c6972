"""The out runner's SMTP client (deliver_smtp) against MTAs that break the
protocol or misbehave on purpose: raw-socket peers, one thread per
connection, each scripted by a few hooks.

What must hold whatever the peer does: no recipient counted as delivered
unless the final "." got a 2xx after the message was sent, no crash and
no memory error (the runners run under ASan with log_path, and a report
fails the test), memory bounded, and a bounded time before giving up."""
import socket
import sqlite3
import threading
import time

import pytest

from conftest import free_port
from test_delivery import inject_out, queue, wait_until


class Peer:
    """A scripted SMTP server on a free port. hook(verb, line, peer) may
    return bytes to send instead of the normal reply, or STOP to close.
    Normal replies: EHLO with PIPELINING (unless pipelining=False), 250
    to MAIL, RCPT, RSET, 354 to DATA then 250 after the ".", 221 to
    QUIT. delivered: the recipients of each message that got its 250."""

    STOP = object()

    def __init__(self, hook=None, pipelining=True, greeting=b"220 raw\r\n", ehlo=None,
                 data_reply=b"250 queued\r\n"):
        self.hook = hook
        self.pipelining = pipelining
        self.greeting = greeting
        self.ehlo = ehlo
        self.data_reply = data_reply
        self.delivered = []
        self.commands = []
        self.sent = 0
        self.conns = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.stop = threading.Event()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(16)
        self.ls.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.ls.close()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            with self.lock:
                self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    # -- I/O helpers for hooks ------------------------------------------------
    def send(self, c, data):
        c.sendall(data)
        with self.lock:
            self.sent += len(data)

    def _fill(self, c, st, until):
        """Reads until st["buf"] holds until; False at the end of the stream."""
        while until not in st["buf"]:
            if self.stop.is_set():
                return False
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            if not d:
                return False
            st["buf"] += d
        return True

    def readline(self, c, st):
        if not self._fill(c, st, b"\r\n"):
            return None
        line, st["buf"] = st["buf"].split(b"\r\n", 1)
        return line

    def read_message(self, c, st):
        st["buf"] = b"\r\n" + st["buf"]
        if not self._fill(c, st, b"\r\n.\r\n"):
            return None
        msg, st["buf"] = st["buf"].split(b"\r\n.\r\n", 1)
        return msg

    def _serve(self, c):
        c.settimeout(0.2)
        st = {"buf": b"", "rcpts": [], "c": c}
        try:
            if self.greeting:
                self.send(c, self.greeting)
            while not self.stop.is_set():
                line = self.readline(c, st)
                if line is None:
                    return
                verb = line[:4].upper()
                with self.lock:
                    self.commands.append(line)
                out = self.hook(verb, line, self, st) if self.hook else None
                if out is Peer.STOP:
                    return
                if out is not None:
                    self.send(c, out)
                    continue
                if verb == b"EHLO":
                    self.send(c, self.ehlo or (b"250-raw\r\n250 PIPELINING\r\n" if self.pipelining
                                               else b"250 raw\r\n"))
                elif verb == b"MAIL":
                    st["rcpts"] = []
                    self.send(c, b"250 ok\r\n")
                elif verb == b"RCPT":
                    st["rcpts"].append(line[9:-1].decode())
                    self.send(c, b"250 ok\r\n")
                elif verb == b"DATA":
                    self.send(c, b"354 go\r\n")
                    if self.read_message(c, st) is None:
                        return
                    if self.data_reply and self.data_reply.startswith(b"2"):
                        with self.lock:
                            self.delivered.append(list(st["rcpts"]))
                    if self.data_reply:
                        self.send(c, self.data_reply)
                elif verb == b"QUIT":
                    self.send(c, b"221 bye\r\n")
                    return
                else:
                    self.send(c, b"250 ok\r\n")
        except OSError:
            pass
        finally:
            c.close()


@pytest.fixture
def hostile(crier):
    peers = []

    def start(peer, extra="", env=None):
        peers.append(peer)
        crier.asan_dir = crier.tmp / "asan"
        crier.asan_dir.mkdir(exist_ok=True)
        full_env = {"ASAN_OPTIONS": f"log_path={crier.asan_dir}/asan:detect_leaks=0"}
        full_env.update(env or {})
        # One connection unless a test asks for more: these tests follow
        # what one session does with a peer's replies.
        crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                                 f"smtp_host: 127.0.0.1\nsmtp_port: {peer.port}\n"
                                 "max_delivery_threads: 1\n" + extra)
        crier.ok("create", "ant@example.com")
        crier.run("start", "-q", env=full_env, check=0)
        return peer
    crier.start = start
    yield crier
    crier.run("stop", "-q")
    for p in peers:
        p.close()
    reports = list(crier.asan_dir.glob("asan*")) if hasattr(crier, "asan_dir") else []
    assert not reports, "\n".join(r.read_text()[:3000] for r in reports)


def smtp_log(crier):
    p = crier.var / "logs" / "smtp.log"
    return p.read_text() if p.exists() else ""


def bounces(crier):
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    try:
        return sorted(e for (e,) in db.execute("SELECT email FROM bounce_event"))
    finally:
        db.close()


def asan_reports(crier):
    return [r.read_text() for r in crier.asan_dir.glob("asan*")]


RCPTS = [f"m{i}@example.com" for i in range(3)]


def settled(crier):
    """The out queue is empty and the entry went to retry (temporary
    failures only) or was finished."""
    return queue(crier, "out") == [] and not list((crier.var / "queue" / "out").glob("*.bak"))


def test_reply_to_the_final_dot_before_the_message(hostile):
    """A peer that answers the final "." together with the 354, before the
    message was sent: the message it never had is not counted as
    delivered, and its memory is not freed while still queued for the
    socket (individual copies, freed as each transaction is answered)."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            peer.send(st["c"], b"354 go\r\n250 queued before the message\r\n")
            peer.read_message(st["c"], st)
            return b""
    hostile.start(Peer(hook), "[mta]\nmax_delivery_threads: 1\n")
    inject_out(hostile, RCPTS, "verp=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile) + "\n".join(asan_reports(hostile))
    assert asan_reports(hostile) == []
    log = smtp_log(hostile)
    for r in RCPTS:
        assert f"delivery to {r} failed with code 444" in log, log


def test_data_answered_with_250_is_not_delivery(hostile):
    """DATA answered 250 instead of 354: nothing was sent, so nobody got
    the message; the transaction is not a success."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            return b"250 sure\r\n"
    hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile)
    log = smtp_log(hostile)
    assert "failed with code 444" in log, log
    assert bounces(hostile) == []


def test_peer_answering_250_to_everything_in_advance(hostile):
    """A peer that sends "250" over and over from the start, whatever is
    asked: no message ever went out, so none is counted as delivered."""
    def hook(verb, line, peer, st):
        return b""
    hostile.start(Peer(hook, greeting=b"220 hi\r\n" + b"250 ok\r\n" * 2000))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)


@pytest.mark.parametrize("reply", [b"620 what\r\n", b"150 hm\r\n", b"250-a\r\n550 b\r\n",
                                   b"2x0 no\r\n", b"2500 ok\r\n"],
                         ids=["620", "150", "mixed-codes", "2x0", "no-separator"])
def test_rcpt_reply_that_is_not_smtp(hostile, reply):
    """RFC 5321 §4.2: a reply code's first digit is 2 to 5, every line of a
    reply has the same code. Anything else is a broken peer: a temporary
    failure (444), never a bounce (a code of 500 or more)."""
    def hook(verb, line, peer, st):
        if verb == b"RCPT":
            return reply
    hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile), smtp_log(hostile)
    assert bounces(hostile) == []


def test_thousand_line_ehlo_reply(hostile):
    """A long but valid multi-line reply (1,000 lines of 100 octets; RFC
    5321 bounds a line, not the number of lines) is read, and PIPELINING
    on its last line counts."""
    lines = b"".join(b"250-X-FILLER-%04d " % i + b"x" * 80 + b"\r\n" for i in range(1000))
    peer = hostile.start(Peer(ehlo=b"250-raw\r\n" + lines + b"250 PIPELINING\r\n"))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile), timeout=20), smtp_log(hostile)
    assert sorted(r for t in peer.delivered for r in t) == RCPTS, smtp_log(hostile)
    assert queue(hostile, "retry") == []


@pytest.mark.parametrize("junk", [b"250-" + b"x" * 500 + b"\r\n", b"y" * 4096],
                         ids=["endless-reply", "endless-line"])
def test_endless_reply_is_cut_off(hostile, junk):
    """A peer that sends one reply that never ends (or one line without
    end): crier stops reading after a bound, the transaction is a
    temporary failure, and the peer could not push more than a few MiB."""
    def hook(verb, line, peer, st):
        if verb == b"EHLO":
            try:
                while not peer.stop.is_set():
                    peer.send(st["c"], junk * 64)
            except OSError:
                pass
            return Peer.STOP
    peer = hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=30), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)
    assert peer.sent < 64 * 1024 * 1024, peer.sent


def test_354_never_arrives(hostile):
    """DATA is never answered: after the (test-shortened) 2-minute DATA
    timeout the transaction, whose message was not sent, is tried once
    more on a new connection, then it is a temporary failure."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            return b""
    peer = hostile.start(Peer(hook), env={"CRIER_SMTP_TIMEOUT": "1"})
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)
    assert sum(1 for c in peer.commands if c.upper() == b"DATA") == 2


def test_mail_refused_while_rcpts_are_pipelined(hostile):
    """MAIL refused with RCPT and DATA already sent behind it: every
    recipient gets MAIL's code (as Mailman: SMTPSenderRefused), not the
    503s that follow."""
    def hook(verb, line, peer, st):
        if verb == b"MAIL":
            return b"550 5.7.1 sender refused\r\n"
        if verb in (b"RCPT", b"DATA"):
            return b"503 5.5.1 no MAIL\r\n"
    hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(bounces(hostile)) == 3), smtp_log(hostile)
    log = smtp_log(hostile)
    assert log.count("failed with code 550") == 3 and "code 503" not in log, log


def test_data_refused_after_rcpts_accepted(hostile):
    """DATA refused with 554 after the RCPTs were accepted: the accepted
    recipients get 554 (permanent), a refused one keeps its own code."""
    def hook(verb, line, peer, st):
        if verb == b"RCPT" and b"<m1@" in line:
            return b"450 4.2.0 later\r\n"
        if verb == b"DATA":
            return b"554 5.3.0 no\r\n"
    hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1), \
        smtp_log(hostile)
    assert bounces(hostile) == ["m0@example.com", "m2@example.com"]
    assert "delivery to m1@example.com failed with code 450" in smtp_log(hostile)


def test_peer_closes_in_the_middle_of_a_reply(hostile):
    def hook(verb, line, peer, st):
        if verb == b"RCPT":
            peer.send(st["c"], b"250-half a repl")
            return Peer.STOP
    peer = hostile.start(Peer(hook))
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1), \
        smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)
    assert peer.conns == 2  # the message was not sent: one more try


def test_421_on_an_idle_connection_is_not_a_failure(hostile):
    """The MTA said "421 timeout" on the idle connection between two
    entries and closed it (Postfix after smtpd_timeout): the next entry
    finds the 421 waiting, and goes over a new connection instead of
    counting it as the answer to MAIL. (Without PIPELINING, where MAIL
    is sent alone.)"""
    peer = Peer(pipelining=False)
    orig = peer.read_message

    def read_then_timeout(c, st):
        msg = orig(c, st)
        if msg is not None and peer.conns == 1:
            # answer, then time the idle session out
            peer.send(c, b"250 queued\r\n")
            time.sleep(0.5)
            peer.send(c, b"421 4.4.2 raw Error: timeout exceeded\r\n")
            c.shutdown(socket.SHUT_RDWR)
            return None
        return msg
    peer.read_message = read_then_timeout
    hostile.start(peer)
    inject_out(hostile, ["a@example.com"], "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and peer.sent > 0)
    time.sleep(1.5)
    inject_out(hostile, ["b@example.com"], "nodecorate=true")
    assert wait_until(lambda: ["b@example.com"] in peer.delivered, timeout=20), smtp_log(hostile)
    assert queue(hostile, "retry") == []
    assert "code 421" not in smtp_log(hostile)


def test_final_reply_may_take_longer_than_five_minutes(hostile):
    """RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the final ".", 5
    for MAIL and RCPT. One command at a time, the reply to "." comes after
    "6 minutes" (CRIER_SMTP_TIMEOUT_DIV=100 turns minutes into 0.6 s): the
    message is delivered, not timed out after 5."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            peer.send(st["c"], b"354 go\r\n")
            peer.read_message(st["c"], st)
            time.sleep(3.6)
            with peer.lock:
                peer.delivered.append(list(st["rcpts"]))
            return b"250 queued\r\n"
    peer = hostile.start(Peer(hook, pipelining=False), "[mta]\nmax_recipients: 10\n",
                         env={"CRIER_SMTP_TIMEOUT_DIV": "100"})
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile), timeout=20), smtp_log(hostile)
    assert queue(hostile, "retry") == [], smtp_log(hostile)
    assert "code 444" not in smtp_log(hostile)
    assert len(peer.delivered) == 1


def test_timeout_while_the_message_is_being_written(hostile):
    """The peer says 354 and stops reading: the 12 MB message cannot all
    be written; the (test-shortened) timeout fires with most of it still
    queued, and the message (an individual copy, freed when its
    transaction is done) is not touched after that."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            peer.send(st["c"], b"354 go\r\n")
            peer.stop.wait(15)
            return Peer.STOP
    hostile.start(Peer(hook), env={"CRIER_SMTP_TIMEOUT": "1"})
    body = ("x" * 998 + "\n") * (12 * 1024)
    msg = ("From: a@example.org\nTo: ant@example.com\nSubject: big\n"
           "Message-ID: <big@example.org>\n\n" + body)
    hostile.ok("inject", "-q", "out", "-m", "recipients=m0@example.com", "-m", "verp=true",
               "ant@example.com", input=msg)
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=30), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)


def test_server_taking_fewer_connections_than_max_delivery_threads(hostile):
    """The MTA takes two connections from us and answers "421" to the
    greeting of any more (Postfix: smtpd_client_connection_count_limit):
    the fan-out goes over the two that work; nobody goes to retry."""
    live = []

    class Limited(Peer):
        def _serve(self, c):
            with self.lock:
                busy = len(live) >= 2
                if not busy:
                    live.append(c)
            if busy:
                try:
                    self.send(c, b"421 4.7.0 too many connections\r\n")
                finally:
                    c.close()
                return
            try:
                super()._serve(c)
            finally:
                with self.lock:
                    live.remove(c)
    peer = hostile.start(Limited(), "[mta]\nmax_recipients: 1\nmax_delivery_threads: 6\n")
    rcpts = [f"m{i:02d}@example.com" for i in range(40)]
    inject_out(hostile, rcpts, "nodecorate=true")
    assert wait_until(lambda: settled(hostile), timeout=30), smtp_log(hostile)
    assert sorted(r for t in peer.delivered for r in t) == rcpts, smtp_log(hostile)
    assert queue(hostile, "retry") == []


def test_reply_trickled_forever_times_out(hostile):
    """A peer that answers MAIL with a multi-line reply, one short line
    every 0.2 s, forever: the wait for a reply is a deadline for the
    whole reply (test-shortened to 1 s), not restarted by each line."""
    def hook(verb, line, peer, st):
        if verb == b"MAIL":
            while not peer.stop.wait(0.2):
                peer.send(st["c"], b"250-wait for it\r\n")
            return Peer.STOP
    peer = hostile.start(Peer(hook), env={"CRIER_SMTP_TIMEOUT": "1"})
    inject_out(hostile, RCPTS, "nodecorate=true")
    assert wait_until(lambda: settled(hostile) and len(queue(hostile, "retry")) == 1,
                      timeout=20), smtp_log(hostile)
    assert "failed with code 444" in smtp_log(hostile)
    assert peer.conns == 2


def test_wait_for_the_final_reply_starts_when_the_message_is_sent(hostile):
    """RFC 5321 §4.5.3.2.6: the 10 minutes for the reply to "." start once
    it is sent. A slow reader takes "14 minutes" over a 12 MB message
    (CRIER_SMTP_TIMEOUT_DIV=60: a minute is a second), each write making
    progress within the 3 minutes for a block: delivered, not timed out
    10 minutes after the 354."""
    def hook(verb, line, peer, st):
        if verb == b"DATA":
            c = st["c"]
            peer.send(c, b"354 go\r\n")
            st["buf"] = b"\r\n" + st["buf"]
            end = time.monotonic() + 14
            while b"\r\n.\r\n" not in st["buf"][-8:]:
                left = end - time.monotonic()
                if left > 0:
                    time.sleep(min(left, 0.05))
                try:
                    st["buf"] = st["buf"][-8:] + c.recv(48 * 1024)
                except socket.timeout:
                    continue
            with peer.lock:
                peer.delivered.append(list(st["rcpts"]))
            st["buf"] = b""
            return b"250 queued\r\n"
    peer = hostile.start(Peer(hook), env={"CRIER_SMTP_TIMEOUT_DIV": "60"})
    body = ("x" * 998 + "\n") * (12 * 1024)
    msg = ("From: a@example.org\nTo: ant@example.com\nSubject: big\n"
           "Message-ID: <big@example.org>\n\n" + body)
    hostile.ok("inject", "-q", "out", "-m", "recipients=m0@example.com", "-m", "nodecorate=true",
               "ant@example.com", input=msg)
    assert wait_until(lambda: settled(hostile), timeout=40), smtp_log(hostile)
    assert queue(hostile, "retry") == [], smtp_log(hostile)
    assert peer.delivered == [["m0@example.com"]]
