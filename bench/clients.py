"""The peers bench/harness.py talks to: the counting sink (bench/sink.py in
its own process), Postfix's smtp-sink and smtp-source, a pipelined SMTP
client for the recipients/s ceiling, an LMTP client that posts one
message and tells when its 250 arrived; and the gnuplot call for the
fan-out curve."""
import os
import select
import shutil
import socket
import subprocess
import sys
import time

from targets import BenchError, free_port, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 10240  # bytes per message, as in the reference figures


def log(msg):
    from targets import load1
    print(f"[{time.strftime('%H:%M:%S')} load {load1():.2f}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------- the sinks

class SinkTimeout(BenchError):
    pass


class CountingSink:
    """bench/sink.py in its own process (so its work never competes with
    the driver's clock for the GIL)."""

    def __init__(self, work):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "sink.py"), str(self.port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(work, "sink.err"), "wb"),
                                     text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise BenchError(f"counting sink did not start: {line!r}")

    def arm(self, token, n):
        self.token = token
        self.proc.stdin.write(f"arm {token} {n}\n")
        self.proc.stdin.flush()

    def status(self):
        self.proc.stdin.write("status\n")
        self.proc.stdin.flush()
        end = time.time() + 10
        while True:
            r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, end - time.time()))
            if not r:
                return None
            words = self.proc.stdout.readline().split()
            if words[:1] == ["status"]:
                return words

    def progress(self):
        """(msgs, rcpts, t_last, verp) counted so far for the armed token."""
        st = self.status()
        if not st:
            raise BenchError("the counting sink does not answer")
        return int(st[1]), int(st[2]), float(st[3]), int(st[4])

    def wait_done(self, timeout, check=None):
        """(t_first, t_last, msgs, rcpts, verp) once the armed count is
        reached; BenchError with the progress so far on timeout. check() is
        called every second (it raises when the server gave up)."""
        end = time.time() + timeout
        while True:
            r, _, _ = select.select([self.proc.stdout], [], [], min(1.0, max(0.0, end - time.time())))
            if not r and check and time.time() < end:
                check()
                continue
            if not r:
                st = self.status() or ["status", "?", "?"]
                raise SinkTimeout(f"timed out after {timeout:.0f} s: the sink saw {st[1]} "
                                  f"messages, {st[2]} recipients")
            words = self.proc.stdout.readline().split()
            if words[:1] == ["done"] and words[6:7] == [self.token]:
                return float(words[1]), float(words[2]), int(words[3]), int(words[4]), int(words[5])

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class PostfixSink:
    """Postfix's smtp-sink (-L: as an LMTP server). As root it needs -u."""

    def __init__(self, lmtp=False):
        self.port = free_port()
        args = ["smtp-sink"] + (["-L"] if lmtp else [])
        if os.getuid() == 0:
            args += ["-u", "nobody"]
        self.proc = subprocess.Popen(args + [f"127.0.0.1:{self.port}", "1000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, 10, self.proc)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -------------------------------------------------------------- clients

def message_bytes(msgid, to, sender="member0@example.org", size=SIZE, crlf=False):
    head = (f"From: Member Zero <{sender}>\nTo: {to}\nSubject: bench {msgid}\n"
            f"Message-ID: <{msgid}>\nDate: {email_date()}\n\n")
    line = "abcdefghij" * 7 + "\n"
    body = (line * (size // len(line) + 1))[:max(0, size - len(head))]
    text = head + body.rsplit("\n", 1)[0] + "\n"
    return text.replace("\n", "\r\n").encode() if crlf else text


def email_date():
    import email.utils
    return email.utils.formatdate(localtime=False)


def pipelined_client(port, n, per_txn=500, size=SIZE):
    """One SMTP session delivering one SIZE-byte message to n recipients in
    transactions of per_txn, pipelined (RFC 2920): the commands of a
    transaction go in one write, the next transaction's commands go with the
    end of the current data. Returns the seconds from the first MAIL to the
    last 250."""
    body = message_bytes("ceiling@bench", "list@example.com", crlf=True) + b".\r\n"
    rcpts = [f"RCPT TO:<member{i}@example.com>\r\n".encode() for i in range(n)]
    groups = []
    for i in range(0, n, per_txn):
        chunk = rcpts[i:i + per_txn]
        groups.append((b"MAIL FROM:<bench@example.org>\r\n" + b"".join(chunk) + b"DATA\r\n",
                       len(chunk) + 2))
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()

    def replies(count):
        nonlocal buf
        while buf.count(b"\n") < count:
            got = s.recv(1 << 20)
            if not got:
                raise BenchError("the sink closed the connection")
            buf += got
        lines = bytes(buf).split(b"\r\n")
        mine, rest = lines[:count], lines[count:]
        buf = bytearray(b"\r\n".join(rest))
        bad = [x for x in mine if x[:1] not in (b"2", b"3")]
        if bad:
            raise BenchError(f"the sink refused: {bad[0]!r}")

    replies(1)
    s.sendall(b"EHLO bench.example.org\r\n")
    while b"\n250 " not in b"\n" + bytes(buf):
        buf += s.recv(65536)
    buf = bytearray()
    t0 = time.time()
    s.sendall(groups[0][0])
    replies(groups[0][1])
    for k in range(len(groups)):
        if k + 1 < len(groups):
            s.sendall(body + groups[k + 1][0])
            replies(1 + groups[k + 1][1])
        else:
            s.sendall(body)
            replies(1)
    t1 = time.time()
    s.sendall(b"QUIT\r\n")
    s.close()
    return t1 - t0


def smtp_source(port, msgs, sessions, rcpt, lmtp=False, timeout=300):
    """Postfix's smtp-source: msgs SIZE-byte messages over `sessions`
    parallel sessions; seconds taken. Its exit status is checked (a dead
    sink would otherwise give absurd rates)."""
    args = ["smtp-source"] + (["-L"] if lmtp else []) + [
        "-s", str(sessions), "-m", str(msgs), "-l", str(SIZE),
        "-f", "bench@example.org", "-t", rcpt, f"127.0.0.1:{port}"]
    t0 = time.time()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    t1 = time.time()
    if p.returncode != 0:
        raise BenchError(f"smtp-source failed ({p.returncode}): {p.stdout.decode()[-300:]}")
    return t1 - t0


def lmtp_post(port, rcpt, msg, sender="member0@example.org", sent=None):
    """Posts msg (text, LF line ends) over LMTP to one recipient; returns
    time.time() when the 250 after the data arrived. With a list for
    `sent`, appends the time the last byte of the data was sent."""
    data = msg.replace("\n", "\r\n").encode()
    data = b"\r\n".join(b"." + x if x.startswith(b".") else x for x in data.split(b"\r\n"))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        f = s.makefile("rb")

        def reply(what):
            while True:
                line = f.readline()
                if not line.startswith(b"2") and not line.startswith(b"3"):
                    raise BenchError(f"LMTP {what}: {line.strip()[:200]!r}")
                if line[3:4] != b"-":
                    return

        reply("greeting")
        for cmd in (b"LHLO bench.example.org", f"MAIL FROM:<{sender}>".encode(),
                    f"RCPT TO:<{rcpt}>".encode(), b"DATA"):
            s.sendall(cmd + b"\r\n")
            reply(cmd.split()[0].decode())
        s.sendall(data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        if sent is not None:
            sent.append(time.time())
        reply("end of data")
        t = time.time()
        s.sendall(b"QUIT\r\n")
    return t


def gnuplot(dat, cols, date):
    """fanout.svg and fanout.png beside dat (columns: members, then median,
    min and max per target in cols)."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plot")
        return
    titles = {"ceiling": "ceiling (pipelined client → smtp-sink)", "crier": "crier",
              "mailman3": "GNU Mailman 3.3.8"}
    plots = ", ".join(
        f"'{dat}' using 1:{2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i} with yerrorlines title '{titles[c]}'"
        for i, c in enumerate(cols))
    out = os.path.dirname(dat)
    for term, ext in (("svg size 800,520 dynamic", "svg"), ("pngcairo size 800,520", "png")):
        script = (f"set terminal {term}\nset output '{os.path.join(out, 'fanout.' + ext)}'\n"
                  "set logscale xy\nset xrange [500:2000000]\n"
                  "set xlabel 'list members'\nset ylabel 'recipients/s (median, min-max)'\n"
                  f"set title 'Fan-out of one {SIZE // 1024} KB post, bench/run {date}'\n"
                  "set key below\nset grid\nset datafile missing 'NaN'\n"
                  "set format y '%.0s%c'\nset format x '%.0s%c'\n"
                  f"plot {plots}\n")
        p = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True)
        if p.returncode:
            log(f"gnuplot ({ext}) failed: {p.stderr.decode()[-300:]}")
