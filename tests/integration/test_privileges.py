"""crier never needs root (issue 7, item 5): it refuses root without
--run-as-root, and runs as Debian's `list` user with a var dir that user
owns — a post goes all the way to the members — while the files it
creates belong to that user."""
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from conftest import CRIER_BIN, free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runuser"),
    reason="needs root to switch to the list user")


def list_user():
    try:
        return pwd.getpwnam("list")
    except KeyError:
        pytest.skip("no list user on this system")


class Sink:
    def __init__(self):
        self.rcpts = []

    async def handle_DATA(self, server, session, envelope):
        self.rcpts.extend(envelope.rcpt_tos)
        return "250 OK"


def test_refuses_root_without_run_as_root(tmp_path):
    cfg = tmp_path / "m.cfg"
    cfg.write_text(f"[paths.here]\nvar_dir: {tmp_path}/var\n[mailman]\nlayout: here\n")
    r = subprocess.run([CRIER_BIN, "-C", str(cfg), "lists"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "If you are sure you want to run as root, specify --run-as-root." in r.stderr


def test_runs_as_the_list_user():
    pw = list_user()
    base = Path(tempfile.mkdtemp(prefix="crier-list-"))
    base.chmod(0o755)
    sink = Sink()
    smtp_port, lmtp_port = free_port(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    cfg = base / "mailman.cfg"
    cfg.write_text(f"[mailman]\nlayout: here\nsite_owner: owner@example.net\n"
                   f"[paths.here]\nvar_dir: {base}/var\n"
                   f"[mta]\nincoming: mailman.mta.null.NullMTA\nlmtp_port: {lmtp_port}\n"
                   f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n"
                   f"[runner.rest]\nstart: no\n")
    os.chown(base, pw.pw_uid, pw.pw_gid)
    os.chown(cfg, pw.pw_uid, pw.pw_gid)
    env = {k: v for k, v in os.environ.items() if k != "MAILMAN_VAR_DIR"}
    env["HOME"] = str(base)

    def as_list(*args, input=None):
        return subprocess.run(["runuser", "-u", "list", "--", CRIER_BIN, "-C", str(cfg), *args],
                              input=input, capture_output=True, text=True, timeout=60,
                              cwd=base, env=env)
    try:
        r = as_list("create", "ant@example.com")
        assert r.returncode == 0, r.stderr
        assert as_list("addmembers", "-", "ant@example.com",
                       input="m1@example.org\nm2@example.org\n").returncode == 0
        r = as_list("start", "-q")
        assert r.returncode == 0, r.stderr
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as c:
            c.sendmail("m1@example.org", ["ant@example.com"],
                       "From: m1@example.org\nTo: ant@example.com\nSubject: hi\n"
                       "Message-ID: <priv@example.org>\n\nhello\n")
        end = time.monotonic() + 20
        while time.monotonic() < end and sorted(sink.rcpts) != ["m1@example.org",
                                                                "m2@example.org"]:
            time.sleep(0.05)
        assert sorted(sink.rcpts) == ["m1@example.org", "m2@example.org"]
        # every process runs as list, every file it made belongs to list
        pid = int((base / "var" / "master.pid").read_text().split()[0])
        assert os.stat(f"/proc/{pid}").st_uid == pw.pw_uid
        for p in (base / "var").rglob("*"):
            assert p.lstat().st_uid == pw.pw_uid, p
    finally:
        as_list("stop", "-q")
        controller.stop()
        shutil.rmtree(base, ignore_errors=True)
