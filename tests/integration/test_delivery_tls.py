"""Outgoing delivery over TLS and with AUTH ([mta] smtp_secure_mode,
smtp_verify_cert, smtp_verify_hostname, smtp_user, smtp_pass), against
aiosmtpd sinks on loopback with certificates made here.

A TLS or AUTH failure is a connection failure (reference §4.3: code 444):
nothing is delivered, the entry goes to the retry queue, and smtp.log says
why."""
import datetime
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import free_port
from test_delivery import inject_out, queue, wait_until

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

USER, PASSWORD = "crier-out", "s3cret-Pa55"


class Sink:
    """Records each transaction, and whether it came through TLS."""

    def __init__(self):
        self.transactions = []

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.transactions.append((envelope.rcpt_tos, tls, bool(session.authenticated)))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca, names):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if names:
        import ipaddress
        alt = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class Certs:
    """A private CA and server certificates: self-signed, or signed by the CA."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("crier test CA", self.ca_key, "crier test CA", self.ca_key, True, None)
        self.ca_file = tmp / "ca.pem"
        self.ca_file.write_bytes(_pem(self.ca))
        self.sni = []  # server names the clients asked for

    def server_context(self, names=("127.0.0.1",), self_signed=False):
        key = ec.generate_private_key(ec.SECP256R1())
        if self_signed:
            cert = _cert(names[0], key, names[0], key, False, names)
        else:
            cert = _cert(names[0], key, "crier test CA", self.ca_key, False, names)
        base = self.tmp / f"server-{x509.random_serial_number()}"
        certfile, keyfile = base.with_suffix(".crt"), base.with_suffix(".key")
        certfile.write_bytes(_pem(cert))
        keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        ctx.sni_callback = lambda sslobj, name, c: self.sni.append(name)
        return ctx


@pytest.fixture
def tls(crier, tmp_path):
    """crier.sink(**Controller kwargs) starts a sink and returns (sink, port);
    crier.start(port, extra, trust_ca, host) starts crier delivering to it."""
    controllers = []
    crier.certs = Certs(tmp_path)

    def sink(**kwargs):
        s, port = Sink(), free_port()
        c = Controller(s, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
        c.start()
        crier.certs.sni.clear()  # the Controller's own probe of an SMTPS sink
        controllers.append(c)
        return s, port

    def start(port, extra="", trust_ca=False, host="127.0.0.1"):
        crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {free_port()}\n"
                                 f"smtp_host: {host}\nsmtp_port: {port}\n" + extra)
        crier.ok("create", "ant@example.com")
        # OpenSSL's default CA paths honour SSL_CERT_FILE: the test CA stands
        # in for the system's store.
        env = {"SSL_CERT_FILE": str(crier.certs.ca_file)} if trust_ca else None
        crier.run("start", "-q", check=0, env=env)

    crier.sink, crier.start = sink, start
    yield crier
    crier.run("stop", "-q")
    for c in controllers:
        c.stop()


def smtp_log(crier):
    return (crier.var / "logs" / "smtp.log").read_text()


def assert_delivered(crier, sink, tls=True, auth=False):
    inject_out(crier, ["a@example.com", "b@example.org"])
    assert wait_until(lambda: sum(len(t[0]) for t in sink.transactions) == 2), smtp_log(crier)
    assert all(t[1] == tls and t[2] == auth for t in sink.transactions), sink.transactions
    assert wait_until(lambda: queue(crier, "out") == [])
    assert queue(crier, "retry") == []


def assert_retried(crier, sink, why):
    inject_out(crier, ["a@example.com", "b@example.org"])
    assert wait_until(lambda: len(queue(crier, "retry")) == 1), smtp_log(crier)
    assert sink.transactions == []
    text = crier.ok("qfile", str(queue(crier, "retry")[0])).stdout
    assert "a@example.com" in text and "b@example.org" in text
    log = smtp_log(crier)
    assert why in log, log
    assert "delivery to a@example.com failed with code 444" in log
    return log


# STARTTLS and SMTPS: the aiosmtpd Controller argument that sets each up.
MODES = {"starttls": "tls_context", "smtps": "ssl_context"}


def tls_sink(tls, mode, **cert):
    return tls.sink(**{MODES[mode]: tls.certs.server_context(**cert)})


@pytest.mark.parametrize("mode", MODES)
def test_self_signed_refused_when_verifying(tls, mode):
    sink, port = tls_sink(tls, mode, self_signed=True)
    tls.start(port, f"smtp_secure_mode: {mode}\n")
    log = assert_retried(tls, sink, f"127.0.0.1:{port}: TLS handshake failed: "
                                    "certificate verification failed: self")
    assert "<d1@example.org>" in log


@pytest.mark.parametrize("mode", MODES)
def test_self_signed_delivered_without_verification(tls, mode):
    sink, port = tls_sink(tls, mode, self_signed=True)
    tls.start(port, f"smtp_secure_mode: {mode.upper()}\nsmtp_verify_cert: no\n")
    assert_delivered(tls, sink)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host,sni", [("127.0.0.1", None), ("localhost", "localhost")])
def test_trusted_ca_delivered(tls, mode, host, sni):
    sink, port = tls_sink(tls, mode, names=("localhost", "127.0.0.1"))
    tls.start(port, f"smtp_secure_mode: {mode}\n", trust_ca=True, host=host)
    assert_delivered(tls, sink)
    # RFC 6066 §3: a name is sent as SNI, an address never.
    assert set(tls.certs.sni) == {sni}


@pytest.mark.parametrize("host,why", [("127.0.0.1", "IP address mismatch"),
                                      ("localhost", "hostname mismatch")])
def test_name_mismatch(tls, host, why):
    sink, port = tls_sink(tls, "starttls", names=("mx.example.org",))
    tls.start(port, "smtp_secure_mode: starttls\n", trust_ca=True, host=host)
    assert_retried(tls, sink, "certificate verification failed: " + why)


def test_name_check_off(tls):
    sink, port = tls_sink(tls, "starttls", names=("mx.example.org",))
    tls.start(port, "smtp_secure_mode: starttls\nsmtp_verify_hostname: no\n", trust_ca=True)
    assert_delivered(tls, sink)


def test_starttls_not_offered_is_not_sent_in_clear(tls):
    sink, port = tls.sink()
    tls.start(port, "smtp_secure_mode: starttls\nsmtp_verify_cert: no\n")
    assert_retried(tls, sink, f"127.0.0.1:{port}: the server does not offer STARTTLS")


def test_smtps_against_a_plain_server(tls):
    sink, port = tls.sink()
    tls.start(port, "smtp_secure_mode: smtps\nsmtp_verify_cert: no\n")
    assert_retried(tls, sink, f"127.0.0.1:{port}: TLS handshake failed: ")


# AUTH

def auth_sink(tls, **kwargs):
    return tls.sink(authenticator=authenticator, auth_require_tls=False, **kwargs)


@pytest.mark.parametrize("exclude", [[], ["PLAIN"]], ids=["plain", "login"])
def test_auth_delivered(tls, exclude):
    sink, port = auth_sink(tls, auth_exclude_mechanism=exclude)
    tls.start(port, f"smtp_user: {USER}\nsmtp_pass: {PASSWORD}\n")
    assert_delivered(tls, sink, tls=False, auth=True)


@pytest.mark.parametrize("exclude", [[], ["PLAIN"]], ids=["plain", "login"])
def test_auth_wrong_password_retried(tls, exclude):
    sink, port = auth_sink(tls, auth_exclude_mechanism=exclude)
    tls.start(port, f"smtp_user: {USER}\nsmtp_pass: wrong-{PASSWORD}\n")
    mech = "LOGIN" if exclude else "PLAIN"
    assert_retried(tls, sink, f"127.0.0.1:{port}: AUTH {mech} as {USER}: 535 5.7.8 "
                              "Authentication credentials invalid")
    for f in (tls.var / "logs").iterdir():
        assert PASSWORD not in f.read_text(), f


def test_auth_not_offered(tls):
    sink, port = tls.sink()
    tls.start(port, f"smtp_user: {USER}\nsmtp_pass: {PASSWORD}\n")
    assert_retried(tls, sink, "the server offers neither AUTH PLAIN nor AUTH LOGIN")


def test_auth_after_starttls(tls):
    # aiosmtpd offers AUTH only once TLS is on: the second EHLO is what counts.
    sink, port = tls.sink(tls_context=tls.certs.server_context(), authenticator=authenticator)
    tls.start(port, f"smtp_secure_mode: starttls\nsmtp_user: {USER}\nsmtp_pass: {PASSWORD}\n",
              trust_ca=True)
    assert_delivered(tls, sink, auth=True)
