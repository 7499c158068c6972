"""The REST API over HTTPS: [webservice] use_https with crier's
tls_certificate / tls_key (Mailman leaves TLS to a proxy; crier can serve it
itself). Certificates come from a private CA made by the test."""
import base64
import json
import ssl
import urllib.error
import urllib.request

import pytest

from conftest import free_port

pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from test_delivery_tls import _cert, _pem  # noqa: E402

AUTH = "Basic " + base64.b64encode(b"restadmin:restpass").decode()


@pytest.fixture
def https(crier, tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("crier test CA", ca_key, "crier test CA", ca_key, True, None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("127.0.0.1", key, "crier test CA", ca_key, False, ["127.0.0.1"])
    (tmp_path / "ca.pem").write_bytes(_pem(ca))
    (tmp_path / "rest.crt").write_bytes(_pem(cert))
    (tmp_path / "rest.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    port = free_port()
    crier.rest_port = port
    crier.ca = tmp_path / "ca.pem"

    def start(cert=tmp_path / "rest.crt", keyfile=tmp_path / "rest.key", check=0):
        crier.write_config(extra=f"[mta]\nlmtp_port: {free_port()}\n"
                                 f"[webservice]\nhostname: 127.0.0.1\nport: {port}\n"
                                 f"use_https: yes\ntls_certificate: {cert}\ntls_key: {keyfile}\n")
        return crier.run("start", "-q", check=check)
    crier.start_https = start
    yield crier
    crier.run("stop", "-q")


def test_rest_over_https(https):
    https.start_https()
    ctx = ssl.create_default_context(cafile=str(https.ca))
    req = urllib.request.Request(f"https://127.0.0.1:{https.rest_port}/3.1/system/versions",
                                 headers={"Authorization": AUTH})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        body = json.loads(r.read())
    assert r.status == 200
    assert body["self_link"] == f"https://127.0.0.1:{https.rest_port}/3.1/system/versions"
    # plain HTTP on the HTTPS port gets no answer it can use
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://127.0.0.1:{https.rest_port}/3.1/system/versions",
                               timeout=5).read()


def test_bad_certificate_is_a_clear_start_error(https, tmp_path):
    missing = tmp_path / "nosuch.crt"
    proc = https.start_https(cert=missing, check=None)
    assert proc.returncode != 0
    log = (https.var / "logs" / "mailman.log").read_text()
    assert f"[webservice] tls_certificate {missing}" in log or \
        f"[webservice] tls_certificate {missing}" in proc.stderr
