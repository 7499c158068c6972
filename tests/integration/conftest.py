"""Shared fixtures: each test gets its own var dir, mailman.cfg and crier runner.

CRIER_BIN names the binary under test (the Makefile passes the ASan build).
"""
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

CRIER_BIN = os.environ.get(
    "CRIER_BIN", str(Path(__file__).resolve().parents[2] / "build-test" / "crier"))
ROOT_FLAG = ["--run-as-root"] if os.geteuid() == 0 else []


class Crier:
    """Runs crier against one private configuration."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.var = tmp / "var"
        self.cfg = tmp / "mailman.cfg"
        self.postfix_cfg = tmp / "postfix.cfg"
        self.extra = ""
        self.postmap = "/bin/true"
        self.transport_file_type = "hash"
        self.default_lmtp_port = free_port()
        self.default_rest_port = free_port()
        self.write_config()

    def write_config(self, extra: str = None, postmap: str = None,
                     transport_file_type: str = None):
        if extra is not None:
            self.extra = extra
        if postmap is not None:
            self.postmap = postmap
        if transport_file_type is not None:
            self.transport_file_type = transport_file_type
        self.postfix_cfg.write_text(textwrap.dedent(f"""\
            [postfix]
            postmap_command: {self.postmap}
            transport_file_type: {self.transport_file_type}
            """))
        extra = textwrap.dedent(self.extra)
        # Never the default ports (8024, 8001): something else may have
        # them. Tests that name their own keep theirs.
        ports = ""
        if getattr(self, "keep_default_ports", False):
            pass  # tests of the default settings (the maps name 8024)
        elif "lmtp_port" not in extra:
            ports += f"lmtp_port: {self.default_lmtp_port}\n"
        web = "" if "[webservice]" in extra or getattr(self, "keep_default_ports", False) else \
            f"\n[webservice]\nport: {self.default_rest_port}\n"
        self.cfg.write_text(textwrap.dedent(f"""\
            [mailman]
            layout: testing
            site_owner: owner@example.net

            [paths.testing]
            var_dir: {self.var}

            [mta]
            configuration: {self.postfix_cfg}
            """) + ports + web + extra)

    @property
    def data_dir(self) -> Path:
        return self.var / "data"

    def run(self, *args, input=None, check=None, env=None):
        """Runs crier; check=N asserts the exit status is N."""
        full_env = dict(os.environ)
        full_env.pop("MAILMAN_CONFIG_FILE", None)
        full_env.pop("MAILMAN_VAR_DIR", None)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [CRIER_BIN, "-C", str(self.cfg), *ROOT_FLAG, *args],
            input=input, capture_output=True, text=True, timeout=120,
            cwd=self.tmp, env=full_env)
        if check is not None:
            assert proc.returncode == check, (
                f"exit {proc.returncode}, want {check}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def ok(self, *args, input=None):
        return self.run(*args, input=input, check=0)


@pytest.fixture
def crier(tmp_path):
    return Crier(tmp_path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_postmap() -> bool:
    return shutil.which("postmap") is not None or os.path.exists("/usr/sbin/postmap")
