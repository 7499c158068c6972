"""The daemon's life as an administrator sees it: start, status, stop,
restart of a dead runner, stale pid files, a second start."""
import os
import signal
import subprocess
import time

import pytest

from conftest import CRIER_BIN, ROOT_FLAG


def runner_pids(crier):
    """pid → runner spec of this instance's runner processes (ours only)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmd]
        if str(crier.cfg) in args and "runner" in args:
            out[int(pid)] = next(a for a in args if a.startswith("--runner="))[9:]
    return out


def gone(pid):
    """Exited (a zombie not yet reaped by init counts as exited)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return pred()


@pytest.fixture
def daemon(crier):
    # (conftest gives every instance free LMTP and REST ports)
    crier.write_config(extra="[runner.rest]\nstart: no\n")
    yield crier
    crier.run("stop", "-q")


def test_start_status_stop(daemon):
    proc = daemon.ok("start")
    assert proc.stdout == "Starting Mailman's master runner\nGenerating MTA alias maps\n"
    status = daemon.run("status", check=1)
    pid = int((daemon.var / "master.pid").read_text())
    assert status.stdout == f"crier is running (master pid: {pid})\n"
    runners = runner_pids(daemon)
    names = sorted(spec.split(":")[0] for spec in runners.values())
    assert names == ["archive", "bounces", "command", "digest", "in", "lmtp", "nntp", "out",
                     "pipeline", "retry", "task", "virgin"]
    start = time.monotonic()
    assert daemon.ok("stop").stdout == "Shutting down Mailman's master runner\n"
    assert time.monotonic() - start < 5
    # stop returns once every process is gone.
    assert gone(pid)
    assert runner_pids(daemon) == {}
    assert daemon.run("status", check=0).stdout == "crier is not running\n"
    log = (daemon.var / "logs" / "mailman.log").read_text()
    assert "master stopped" in log


def test_second_start_refused(daemon):
    daemon.ok("start", "-q")
    proc = daemon.run("start", check=2)
    assert "Error: crier is already running" in proc.stderr


def test_stale_pid_file(daemon):
    (daemon.var).mkdir(exist_ok=True)
    (daemon.var / "master.pid").write_text("999999\n")
    assert daemon.run("status", check=2).stdout == "crier is stopped (stale pid: 999999)\n"
    proc = daemon.run("start", check=2)
    assert "did not exit cleanly (stale_lock).  Try using --force" in proc.stderr
    daemon.ok("start", "-q", "--force")
    daemon.run("status", check=1)


def test_dead_runner_is_restarted(daemon):
    daemon.ok("start", "-q")
    before = {spec: pid for pid, spec in runner_pids(daemon).items()}
    victim = before["out:0:1"]
    os.kill(victim, signal.SIGKILL)

    def replaced():
        now = {spec: pid for pid, spec in runner_pids(daemon).items()}
        return now.get("out:0:1") not in (None, victim)
    assert wait_for(replaced)
    assert "runner out killed by signal 9; restarting" in \
        (daemon.var / "logs" / "mailman.log").read_text()


def test_max_restarts(daemon):
    daemon.write_config(extra="[runner.rest]\nstart: no\n[runner.virgin]\nmax_restarts: 1\n")
    daemon.ok("start", "-q")
    for _ in range(2):
        pid = wait_for(lambda: next((p for p, s in runner_pids(daemon).items()
                                     if s == "virgin:0:1"), None))
        assert pid
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pid not in runner_pids(daemon))
    time.sleep(0.5)
    assert "virgin:0:1" not in runner_pids(daemon).values()
    assert "runner virgin died 2 times; not restarting it" in \
        (daemon.var / "logs" / "mailman.log").read_text()


def test_reopen_and_restart(daemon):
    daemon.ok("start", "-q")
    log = daemon.var / "logs" / "mailman.log"
    log.rename(daemon.var / "logs" / "mailman.log.1")
    assert daemon.ok("reopen").stdout == "Reopening the Mailman runners\n"
    assert wait_for(lambda: log.exists() and "reopening logs" in log.read_text())
    old = set(runner_pids(daemon))
    assert daemon.ok("restart").stdout == "Restarting the Mailman runners\n"
    assert wait_for(lambda: len(runner_pids(daemon)) == 12 and
                    not (set(runner_pids(daemon)) & old))


def test_foreground_stops_on_sigterm(daemon):
    proc = subprocess.Popen([CRIER_BIN, "-C", str(daemon.cfg), *ROOT_FLAG, "start", "-F", "-q"],
                            cwd=daemon.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(runner_pids(daemon)) == 12)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert runner_pids(daemon) == {}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_config_does_not_start(daemon):
    daemon.write_config(extra="[runner.out]\ninstances: 3\n")
    proc = daemon.run("start", check=1)
    assert "[runner.out] instances: invalid value '3'; expected a power of two" in proc.stderr
    assert runner_pids(daemon) == {}
    assert not (daemon.var / "master.pid").exists()


def test_sliced_runner_instances(daemon):
    daemon.write_config(extra="[runner.rest]\nstart: no\n[runner.out]\ninstances: 2\n")
    daemon.ok("start", "-q")
    specs = sorted(runner_pids(daemon).values())
    assert "out:0:2" in specs and "out:1:2" in specs


def test_mailman_logger_files(daemon):
    """[logging.X] paths: smtp.log and bounce.log exist beside mailman.log."""
    daemon.ok("start", "-q")
    logs = daemon.var / "logs"
    for name in ("mailman.log", "smtp.log", "bounce.log", "debug.log", "plugins.log"):
        assert (logs / name).exists(), name


def test_task_runner_evicts_expired_pendings(daemon):
    import sqlite3
    daemon.write_config(extra="[runner.rest]\nstart: no\n[runner.task]\nsleep_time: 0.2s\n")
    daemon.ok("create", "ant@example.com")  # creates the database
    db = sqlite3.connect(daemon.var / "data" / "mailman.db")
    now_us = int(time.time() * 1e6)
    db.execute("INSERT INTO pended (token, type, expires) VALUES (?, ?, ?)",
               ("a" * 40, "subscription", now_us - 1_000_000))
    db.execute("INSERT INTO pended (token, type, expires) VALUES (?, ?, ?)",
               ("b" * 40, "subscription", now_us + 3600_000_000))
    db.commit()
    daemon.ok("start", "-q")

    def tokens():
        return [r[0][0] for r in db.execute("SELECT token FROM pended ORDER BY token")]
    assert wait_for(lambda: tokens() == ["b"])
    db.close()
