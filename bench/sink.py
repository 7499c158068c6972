"""A counting SMTP sink for bench/harness.py (Postfix's smtp-sink does not
count recipients, so it cannot tell when the last one of a post arrived).

Listens on 127.0.0.1:PORT, offers PIPELINING, accepts everything, and
discards the data. The driver talks to it over stdin/stdout, one line each:

    arm TOKEN N     count transactions whose data contains TOKEN; when their
                    recipients reach N, print
                    "done T_FIRST T_LAST MSGS RCPTS VERP TOKEN" (times: time.time()
                    at the end of the first and of the last counted DATA;
                    VERP: transactions whose MAIL FROM has a '+' and a '=')
    status          print "status MSGS RCPTS T_LAST VERP" for the armed token
    quit            exit

It handles commands in bulk per received chunk, so one process keeps up
with far more recipients per second than the servers it measures (the
harness measures and reports its own ceiling too).
Usage: python3 sink.py PORT
"""
import asyncio
import sys
import time

GREETING = b"220 bench-sink ESMTP\r\n"
EHLO = b"250-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n"
OK_MAIL = b"250 2.1.0 Ok\r\n"
OK_RCPT = b"250 2.1.5 Ok\r\n"
OK = b"250 2.0.0 Ok\r\n"
GO = b"354 End data with <CR><LF>.<CR><LF>\r\n"
BYE = b"221 2.0.0 Bye\r\n"
WHAT = b"502 5.5.2 Error: command not recognized\r\n"
MAX_LINE = 65536  # a command line longer than this ends the session


class Counter:
    def __init__(self):
        self.token = None
        self.target = 0
        self.reset()

    def reset(self):
        self.msgs = self.rcpts = self.verp = 0
        self.t_first = self.t_last = 0.0
        self.reported = False

    def arm(self, token, target):
        self.token = token.encode()
        self.target = target
        self.reset()

    def delivered(self, data, mail_from, rcpts):
        if self.token is None or data.find(self.token) < 0:
            return
        now = time.time()
        if not self.msgs:
            self.t_first = now
        self.t_last = now
        self.msgs += 1
        self.rcpts += rcpts
        if b"+" in mail_from and b"=" in mail_from:
            self.verp += 1
        if not self.reported and self.rcpts >= self.target:
            self.reported = True
            say(f"done {self.t_first:.6f} {self.t_last:.6f} {self.msgs} {self.rcpts} {self.verp} "
                f"{self.token.decode()}")


COUNTER = Counter()


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Session(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""
        self.in_data = False
        self.mail_from = b""
        self.rcpts = 0
        transport.write(GREETING)

    def data_received(self, chunk):
        buf = self.buf + chunk if self.buf else chunk
        out = []
        pos = 0
        end = len(buf)
        while pos < end:
            if self.in_data:
                # The data ends with CRLF.CRLF, or is the "." line alone.
                if buf.startswith(b".\r\n", pos):
                    stop, nxt = pos, pos + 3
                else:
                    i = buf.find(b"\r\n.\r\n", pos)
                    if i < 0:
                        break
                    stop, nxt = i + 2, i + 5
                COUNTER.delivered(buf[pos:stop], self.mail_from, self.rcpts)
                out.append(OK)
                self.in_data = False
                self.mail_from = b""
                self.rcpts = 0
                pos = nxt
                continue
            i = buf.find(b"\r\n", pos)
            if i < 0:
                if end - pos > MAX_LINE:
                    self.transport.close()
                    return
                break
            verb = buf[pos:pos + 4].upper()
            if verb == b"RCPT":
                self.rcpts += 1
                out.append(OK_RCPT)
            elif verb == b"MAIL":
                self.mail_from = buf[pos:i]
                self.rcpts = 0
                out.append(OK_MAIL)
            elif verb == b"DATA":
                self.in_data = True
                out.append(GO)
            elif verb in (b"EHLO", b"LHLO"):
                out.append(EHLO)
            elif verb in (b"HELO", b"NOOP"):
                out.append(b"250 bench-sink\r\n")
            elif verb == b"RSET":
                self.mail_from = b""
                self.rcpts = 0
                out.append(OK)
            elif verb == b"QUIT":
                out.append(BYE)
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            else:
                out.append(WHAT)
            pos = i + 2
        self.buf = buf[pos:]
        if out:
            self.transport.write(b"".join(out))


async def control():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        words = line.decode().split()
        if not words:
            continue
        if words[0] == "arm" and len(words) == 3:
            COUNTER.arm(words[1], int(words[2]))
        elif words[0] == "status":
            say(f"status {COUNTER.msgs} {COUNTER.rcpts} {COUNTER.t_last:.6f} {COUNTER.verp}")
        elif words[0] == "quit":
            return


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, "127.0.0.1", port, backlog=512)
    say("ready")
    try:
        await control()
    finally:
        server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
