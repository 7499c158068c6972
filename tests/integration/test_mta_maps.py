"""The MTA's view of the lists, as create/remove/aliases leave it (reference §3)."""
import os
import shutil
import subprocess

import pytest

from conftest import have_postmap

POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"


@pytest.fixture(autouse=True)
def default_ports(crier):
    """These tests check the maps for the default settings (LMTP on 8024);
    they start no daemon, so no port is used."""
    crier.keep_default_ports = True
    crier.write_config()



def test_create_writes_maps(crier):
    crier.ok("create", "ant@example.com")
    lmtp = (crier.data_dir / "postfix_lmtp").read_text()
    assert "ant@example.com                       lmtp:[127.0.0.1]:8024\n" in lmtp
    lines = [l for l in lmtp.splitlines() if "lmtp:[" in l]
    assert len(lines) == 9
    assert (crier.data_dir / "postfix_domains").read_text().endswith(
        "\nexample.com example.com\n\n")
    assert not (crier.data_dir / "postfix_vmap").exists()
    # The list's data directory exists (Exim finds lists by it).
    assert (crier.var / "lists" / "ant.example.com").is_dir()


def test_maps_follow_lmtp_settings(crier):
    crier.write_config(extra="[mta]\nlmtp_host: 127.0.0.5\nlmtp_port: 9999\n")
    crier.ok("create", "ant@example.com")
    assert "lmtp:[127.0.0.5]:9999" in (crier.data_dir / "postfix_lmtp").read_text()


def test_remove_updates_maps(crier):
    crier.ok("create", "ant@example.com")
    crier.ok("create", "bee@example.com")
    crier.ok("remove", "ant@example.com")
    lmtp = (crier.data_dir / "postfix_lmtp").read_text()
    assert "ant@example.com" not in lmtp and "bee@example.com" in lmtp


@pytest.mark.skipif(not have_postmap(), reason="postfix's postmap not installed")
def test_real_postmap_hash(crier):
    crier.write_config(postmap=POSTMAP)
    crier.ok("create", "ant@example.com")
    for f in ("postfix_lmtp", "postfix_domains"):
        assert (crier.data_dir / f"{f}.db").exists(), f
    out = subprocess.run([POSTMAP, "-q", "ant-request@example.com",
                          f"hash:{crier.data_dir}/postfix_lmtp"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "lmtp:[127.0.0.1]:8024"


def test_regex_mode_never_runs_postmap(crier):
    crier.write_config(postmap="/bin/false", transport_file_type="regex")
    crier.ok("create", "ant@example.com")
    lmtp = (crier.data_dir / "postfix_lmtp").read_text()
    assert "/^ant-bounces(\\+.*)?@example\\.com$/ " in lmtp
    assert (crier.data_dir / "postfix_domains").read_text().endswith(
        "\n/^example\\.com$/ example.com\n\n")


def test_failing_postmap_leaves_no_list(crier):
    crier.ok("create", "ant@example.com")
    crier.write_config(postmap="/bin/false")
    proc = crier.run("create", "bee@example.com", check=1)
    assert "command failure: /bin/false" in proc.stderr
    crier.write_config(postmap="/bin/true")
    assert crier.ok("lists", "-q").stdout == "ant@example.com\n"
    # The maps were written again without the list that failed.
    assert "bee@" not in (crier.data_dir / "postfix_lmtp").read_text()
    crier.ok("create", "bee@example.com")


def test_aliases_to_directory(crier, tmp_path):
    crier.ok("create", "ant@example.com")
    out = tmp_path / "maps"
    out.mkdir()
    crier.ok("aliases", "-d", str(out))
    assert (out / "postfix_lmtp").read_text().count("lmtp:[") == 9
    proc = crier.run("aliases", "-d", str(tmp_path / "nope"), check=2)
    assert "does not exist" in proc.stderr


def test_exim4_module(crier):
    crier.write_config(extra="[mta]\nincoming: mailman.mta.exim4.LMTP\n")
    crier.ok("create", "ant@example.com")
    assert (crier.var / "lists" / "ant.example.com").is_dir()
    assert not (crier.data_dir / "postfix_lmtp").exists()
    crier.ok("remove", "ant@example.com")
    assert not (crier.var / "lists" / "ant.example.com").exists()


def test_null_module(crier):
    crier.write_config(extra="[mta]\nincoming: mailman.mta.null.NullMTA\n")
    crier.ok("create", "ant@example.com")
    crier.ok("aliases")
    assert not (crier.data_dir / "postfix_lmtp").exists()


def test_unknown_module_refused(crier):
    crier.write_config(extra="[mta]\nincoming: mailman.mta.qmail.LMTP\n")
    proc = crier.run("create", "ant@example.com", check=1)
    assert "[mta] incoming: invalid value 'mailman.mta.qmail.LMTP'; expected one of:" \
        in proc.stderr
