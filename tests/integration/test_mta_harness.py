"""The MTA harness's own helpers, without an MTA."""
import os
import shutil
import subprocess
import time

from mta_harness import PrivatePostfix


class FakeMaster(PrivatePostfix):
    """A PrivatePostfix whose "master" is this process, so that its
    children named trivial-rewrite are the resolver processes."""

    def __init__(self):  # no Postfix instance
        pass

    def master_pid(self):
        return os.getpid()


def spawn_resolver(tmp_path):
    exe = tmp_path / "trivial-rewrite"
    if not exe.exists():
        shutil.copy(shutil.which("sleep"), exe)
    return subprocess.Popen([str(exe), "60"])


def touch_maps(tmp_path):
    f = tmp_path / "postfix_lmtp.db"
    f.write_text("maps")
    return f.stat().st_mtime


def test_resolver_started_right_after_the_change_is_fresh(tmp_path):
    """A trivial-rewrite started within the clock tick after the maps
    changed opened the new maps and never exits: /proc's start time (in
    ticks) may put it before the change, and waiting for it to exit timed
    out."""
    since = touch_maps(tmp_path)
    p = spawn_resolver(tmp_path)
    try:
        assert FakeMaster().wait_resolver_fresh(since, 20)
    finally:
        p.kill()
        p.wait()


def test_resolver_older_than_the_change_is_waited_for(tmp_path):
    p = spawn_resolver(tmp_path)
    try:
        time.sleep(0.1)
        since = touch_maps(tmp_path)
        t0 = time.monotonic()
        assert not FakeMaster().wait_resolver_fresh(since, 14)
        assert time.monotonic() - t0 >= 13
        p.kill()
        p.wait()
        assert FakeMaster().wait_resolver_fresh(since, 2)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
