"""LMTP intake against the running daemon (reference §2, §12 items 1-10)."""
import os
import re
import signal
import smtplib
import socket
import textwrap
import time
from pathlib import Path

import pytest

from conftest import free_port

MSG = (b"From: anne@example.org\r\n"
       b"To: ant@example.com\r\n"
       b"Subject: hello\r\n"
       b"Message-ID: <ant>\r\n"
       b"\r\n"
       b"Hello, world.\r\n")


def start_lmtp_only(crier, lmtp_extra="", lists=("ant@example.com",)):
    """A daemon whose LMTP runner queues into `in` and nothing takes the
    entries out; [runner.lmtp] gets lmtp_extra."""
    port = free_port()
    crier.lmtp_port = port
    crier.write_config(extra=textwrap.dedent(f"""\
        [runner.rest]
        start: no
        [runner.bounces]
        start: no
        [runner.in]
        start: no
        [runner.command]
        start: no
        [mta]
        lmtp_port: {port}
        [runner.lmtp]
        """) + textwrap.dedent(lmtp_extra))
    for name in lists:
        crier.ok("create", name)
    crier.ok("start", "-q")


@pytest.fixture
def lmtp(crier):
    start_lmtp_only(crier, lists=("ant@example.com", "test-join@example.com"))
    yield crier
    crier.run("stop", "-q")


def client(crier) -> smtplib.LMTP:
    c = smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10)
    c.ehlo_or_helo_if_needed = lambda: None
    code, _ = c.docmd("LHLO", "tester.example")
    assert code == 250
    return c


def entries(crier, queue):
    return sorted((crier.var / "queue" / queue).glob("*.pck"))


def qfile(crier, path):
    return crier.ok("qfile", str(path)).stdout


def test_greeting_and_lhlo(lmtp):
    with socket.create_connection(("127.0.0.1", lmtp.lmtp_port), timeout=5) as s:
        f = s.makefile("rwb")
        greeting = f.readline().decode()
        assert greeting.startswith("220 ") and "LMTP runner" in greeting
        f.write(b"HELO x\r\n")
        f.flush()
        assert f.readline() == b'500 Error: command "HELO" not recognized\r\n'
        f.write(b"LHLO x\r\n")
        f.flush()
        lines = []
        while True:
            line = f.readline().decode()
            lines.append(line[4:].strip())
            if line[3] == " ":
                break
        for ext in ("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SIZE 33554432"):
            assert ext in lines


def test_rcpt_addressing(lmtp):
    c = client(lmtp)
    c.mail("anne@example.org")
    for rcpt, want in (("ant@example.com", 250), ("TEST-Join@EXAMPLE.com", 250),
                       ("ant+x@example.com", 250), ("ant-request@example.com", 250),
                       ("nosuch@example.com", 550), ("ant@example.org", 550),
                       ("ant-bogus@example.com", 550)):
        code, text = c.rcpt(rcpt)
        assert code == want, (rcpt, code, text)
        if want == 550:
            assert b"Requested action not taken: mailbox unavailable" in text
    c.rset()
    c.quit()


def test_post_is_queued_with_mailman_headers(lmtp):
    c = client(lmtp)
    refused = c.sendmail("anne@example.org", ["ant@example.com", "ant-owner@example.com",
                                              "ant-request@example.com"], MSG)
    assert refused == {}
    c.quit()
    posts = [e for e in entries(lmtp, "in") if "'to_list'" in qfile(lmtp, e)]
    assert len(posts) == 1
    text = qfile(lmtp, posts[0])
    assert "Message-ID-Hash: MS6QLWERIJLGCRF44J7USBFDELMNT2BW" in text
    assert "X-Message-ID-Hash: MS6QLWERIJLGCRF44J7USBFDELMNT2BW" in text
    assert "X-MailFrom: anne@example.org" in text
    assert "'listid': 'ant.example.com'" in text
    owner = [e for e in entries(lmtp, "in") if "'to_owner'" in qfile(lmtp, e)]
    assert len(owner) == 1
    assert "'envsender': 'owner@example.net'" in qfile(lmtp, owner[0])
    (req,) = entries(lmtp, "command")
    assert "'subaddress': 'request'" in qfile(lmtp, req)


def test_routing_table(lmtp):
    c = client(lmtp)
    rcpts = ["ant-bounces+bob=example.org@example.com", "ant-confirm+abc@example.com",
             "ant-join@example.com", "ant-subscribe@example.com", "ant-leave@example.com",
             "ant-unsubscribe@example.com", "test-join@example.com",
             "test-join-join@example.com"]
    assert c.sendmail("anne@example.org", rcpts, MSG) == {}
    c.quit()
    assert len(entries(lmtp, "bounces")) == 1
    subs = sorted(qfile(lmtp, e).split("'subaddress': '")[1].split("'")[0]
                  for e in entries(lmtp, "command"))
    assert subs == ["confirm", "join", "join", "join", "leave", "leave"]
    posts = [qfile(lmtp, e) for e in entries(lmtp, "in")]
    assert len(posts) == 1 and "'listid': 'test-join.example.com'" in posts[0]


def test_missing_message_id_added(lmtp):
    c = client(lmtp)
    msg = b"From: anne@example.org\r\nSubject: no id\r\n\r\nbody\r\n"
    assert c.sendmail("anne@example.org", ["ant@example.com"], msg) == {}
    c.quit()
    text = qfile(lmtp, entries(lmtp, "in")[0])
    assert "\nMessage-ID: <" in text and "Message-ID-Hash: " in text


def test_defective_message_one_reply_per_recipient(lmtp):
    with socket.create_connection(("127.0.0.1", lmtp.lmtp_port), timeout=5) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b"LHLO x\r\nMAIL FROM:<anne@example.org>\r\n"
                b"RCPT TO:<ant@example.com>\r\nRCPT TO:<ant-owner@example.com>\r\nDATA\r\n")
        f.flush()
        replies = []
        while len(replies) < 5:
            line = f.readline()
            if line[3:4] == b" ":
                replies.append(line)
        assert replies[-1].startswith(b"354")
        f.write(b"Subject: x\r\nthis header line has no colon\r\n\r\nbody\r\n.\r\n")
        f.flush()
        r1, r2 = f.readline(), f.readline()
        assert r1.startswith(b"501 5.6.0 Message has defects")
        assert r2.startswith(b"501 5.6.0 Message has defects")
    assert entries(lmtp, "in") == []


def test_list_created_while_running_is_reachable(lmtp):
    c = client(lmtp)
    c.mail("anne@example.org")
    assert c.rcpt("bee@example.com")[0] == 550
    c.rset()
    lmtp.ok("create", "bee@example.com")
    c.mail("anne@example.org")
    assert c.rcpt("bee@example.com")[0] == 250
    c.quit()


def test_kill_lmtp_runner_after_250_loses_nothing(lmtp):
    from test_daemon import runner_pids, wait_for
    c = client(lmtp)
    for i in range(5):
        msg = MSG.replace(b"<ant>", f"<kill-{i}>".encode())
        assert c.sendmail("anne@example.org", ["ant@example.com"], msg) == {}
    c.close()
    pid = next(p for p, spec in runner_pids(lmtp).items() if spec.startswith("lmtp"))
    os.kill(pid, signal.SIGKILL)
    # Every accepted message is on disk, whatever happens to the runner.
    assert len(entries(lmtp, "in")) == 5
    # The master restarts the runner and intake resumes.
    assert wait_for(lambda: any(s.startswith("lmtp") and p != pid
                                for p, s in runner_pids(lmtp).items()))
    def accepts():
        try:
            c2 = client(lmtp)
            ok = c2.sendmail("anne@example.org", ["ant@example.com"], MSG) == {}
            c2.quit()
            return ok
        except OSError:
            return False
    assert wait_for(accepts)
    assert len(entries(lmtp, "in")) == 6


def test_pipelined_burst_many_sessions(lmtp):
    clients = [client(lmtp) for _ in range(8)]
    for i, c in enumerate(clients):
        for j in range(5):
            msg = MSG.replace(b"<ant>", f"<burst-{i}-{j}>".encode())
            assert c.sendmail("anne@example.org", ["ant@example.com"], msg) == {}
    for c in clients:
        c.quit()
    assert len(entries(lmtp, "in")) == 40


@pytest.fixture
def small_lmtp(crier):
    start_lmtp_only(crier, """\
        max_message_size: 2048
        max_recipients: 2
        command_timeout: 1s
        """)
    yield crier
    crier.run("stop", "-q")


def test_limits_from_config(small_lmtp):
    c = client(small_lmtp)
    code, text = c.docmd("LHLO", "x")
    assert b"SIZE 2048" in text
    c.mail("anne@example.org")
    assert c.rcpt("ant@example.com")[0] == 250
    assert c.rcpt("ant-owner@example.com")[0] == 250
    assert c.rcpt("ant-request@example.com")[0] == 452
    c.rset()
    big = MSG + b"x" * 4096 + b"\r\n"
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail("anne@example.org", ["ant@example.com"], big)
    assert e.value.smtp_code == 552
    c.close()
    # An idle client is cut off at the command timeout.
    with socket.create_connection(("127.0.0.1", small_lmtp.lmtp_port), timeout=10) as s:
        f = s.makefile("rb")
        f.readline()
        start = time.monotonic()
        line = f.readline()
        assert line.startswith(b"421 4.4.2") and time.monotonic() - start < 5


def test_bad_limit_refused(crier):
    crier.write_config(extra="[runner.lmtp]\nmax_line_length: 100\n")
    proc = crier.run("start", check=1)
    assert "[runner.lmtp] max_line_length: invalid value '100'" in proc.stderr


@pytest.mark.parametrize("sync_threads,sync_method", [
    (1, "writeback"), (4, "writeback"), (1, "syncfs"), (2, "fdatasync"), (1, "auto"),
    (2, "auto")])
def test_concurrent_sessions_share_sync_threads(crier, sync_threads, sync_method):
    """16 sessions at once, each sending as fast as its replies come: with
    one sync thread the batches are flushed one after another, with four
    side by side; either way every message answered 250 is in the queue,
    once."""
    import threading
    start_lmtp_only(crier, f"""\
        sync_threads: {sync_threads}
        sync_method: {sync_method}
        """)
    try:
        accepted, errors = [], []

        def sender(i):
            try:
                c = client(crier)
                for j in range(25):
                    mid = f"<conc-{i}-{j}@example.org>"
                    msg = MSG.replace(b"<ant>", mid.encode())
                    assert c.sendmail("anne@example.org", ["ant@example.com"], msg) == {}
                    accepted.append(mid)
                c.quit()
            except Exception as e:  # reported below, with the thread's number
                errors.append(f"session {i}: {e!r}")

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert len(accepted) == 16 * 25
        found = []
        for p in entries(crier, "in"):
            for line in p.read_bytes().split(b"\n"):
                if line.lower().startswith(b"message-id:"):
                    found.append(line.split(b":", 1)[1].strip().decode())
                    break
        assert sorted(found) == sorted(accepted)
    finally:
        crier.run("stop", "-q")
    # At stop the runner logs its group commits. With one thread syncing
    # side by side, the deliveries that arrived during a commit's syncs
    # had their files written meanwhile, at least once in 400.
    log = (crier.var / "logs" / "mailman.log").read_text()
    counts = re.findall(r"lmtp: (\d+) group commits, (\d+) of them with the files written", log)
    assert len(counts) == 1
    commits, ahead = map(int, counts[0])
    assert 1 <= commits <= 16 * 25
    if sync_threads == 1 and sync_method == "writeback":
        assert ahead > 0


@pytest.mark.parametrize("line,key", [("sync_threads: 0", "sync_threads"),
                                      ("sync_method: fsync", "sync_method")])
def test_sync_settings_out_of_range_refused(crier, line, key):
    crier.write_config(extra=f"[runner.lmtp]\n{line}\n")
    proc = crier.run("start", check=1)
    assert key in proc.stderr
