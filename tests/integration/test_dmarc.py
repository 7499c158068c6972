"""DMARC mitigation end to end (reference §6.2 dmarc-mitigation and the
dmarc chain, §6.5 the dmarc handler): a real DNS server (Debian's dnsmasq)
on loopback serves a test zone with _dmarc TXT records, crier's [dmarc]
resolver points at it, and posts go through a running daemon to an
aiosmtpd sink."""
import email
import shutil
import socket
import subprocess
import time
from email.header import decode_header, make_header

import pytest

from test_posting import delivered, message, site, wait_until  # noqa: F401 (site: fixture)

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

# The test zone: p=reject, p=none, an organisational domain whose sp=
# covers its subdomains, and a domain with no record at all (NXDOMAIN).
ZONE = {
    "_dmarc.reject.test": "v=DMARC1; p=reject; rua=mailto:dmarc@reject.test",
    "_dmarc.none.test": "v=DMARC1; p=none;",
    "_dmarc.orgdom.test": "v=DMARC1; p=none; sp=quarantine",
}
POSTERS = ["anne@reject.test", "bob@none.test", "cat@lists.orgdom.test",
           "dan@norecord.test", "eve@orgdom.test"]


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


class Dns:
    def __init__(self, tmp):
        self.port = free_udp_tcp_port()
        self.log = tmp / "dnsmasq.log"
        args = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
                f"--port={self.port}", "--pid-file=", "--local=/test/", "--local-ttl=300",
                "--log-queries", "--log-facility=-"]
        # no shell: no quotes (a comma would start another string)
        args += [f"--txt-record={name},{text}" for name, text in ZONE.items()]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("w"))
        end = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < end, "dnsmasq did not start"
                time.sleep(0.05)

    def queries(self, name):
        return self.log.read_text().count(f"query[TXT] {name} ")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def dns(tmp_path):
    if not shutil.which(DNSMASQ):
        pytest.skip("dnsmasq (Debian's dnsmasq-base) is not installed")
    d = Dns(tmp_path)
    yield d
    d.stop()


def use_resolver(site, address, timeouts=""):
    site.write_config(extra=site.extra + f"[dmarc]\nresolver: {address}\n{timeouts}")
    site.ok("addmembers", "-", "ant@example.com", input="\n".join(POSTERS) + "\n")


@pytest.fixture
def dsite(site, dns):
    use_resolver(site, f"127.0.0.1:{dns.port}")
    site.dns = dns
    return site


def start(site, action, **attrs):
    """Sets the list's dmarc_mitigate_action (and other attributes), starts."""
    site.set_attr("dmarc_mitigate_action", action)
    for name, value in attrs.items():
        site.set_attr(name, value)
    site.ok("start", "-q")


def post_from(site, msgid, sender, **kw):
    assert site.post(message(msgid, sender=sender, **kw), sender=sender) == {}


def delivered_msg(site, msgid, n=None):
    """The first copy delivered to the members (all of them)."""
    n = n or 3 + len(POSTERS)
    assert wait_until(lambda: len(delivered(site, msgid)) == n), delivered(site, msgid)
    return email.message_from_bytes(site.sink.with_text(msgid)[0][2])


def logs(site):
    return "".join(p.read_text() for p in (site.var / "logs").glob("*.log"))


def test_munge_from(dsite):
    start(dsite, "munge_from")
    post_from(dsite, "mf1@reject.test", "anne@reject.test",
              extra="Reply-To: Other <other@example.net>\nCc: cc@example.net\n")
    msg = delivered_msg(dsite, "mf1@reject.test")
    assert msg["From"] == "Em One via Ant <ant@example.com>"
    # no Reply-To munging: the original From joins Reply-To; Cc untouched
    assert msg.get_all("Reply-To") == ["Other <other@example.net>, Em One <anne@reject.test>"]
    assert msg.get_all("Cc") == ["cc@example.net"]
    assert "dmarc-mitigation" in msg["X-Mailman-Rule-Misses"]
    assert msg["X-Mailman-Rule-Hits"] is None
    assert "ant: DMARC lookup for anne@reject.test (_dmarc.reject.test) found p=reject in " \
           "_dmarc.reject.test. = v=DMARC1; p=reject; rua=mailto:dmarc@reject.test" in logs(dsite)
    # Reply-To munged to the list: the original From goes to Cc instead
    dsite.set_attr("reply_goes_to_list", "point_to_list")
    post_from(dsite, "mf2@reject.test", "anne@reject.test")
    msg = delivered_msg(dsite, "mf2@reject.test")
    assert msg["From"] == "Em One via Ant <ant@example.com>"
    assert msg["Reply-To"] == "ant@example.com"
    assert msg.get_all("Cc") == ["Em One <anne@reject.test>"]
    # a From without a display name: the member's name, else the address
    # with its domain cut
    raw = message("mf4@reject.test", sender="anne@reject.test").replace(
        "From: Em One <anne@reject.test>", "From: anne@reject.test")
    assert dsite.post(raw, sender="anne@reject.test") == {}
    msg = delivered_msg(dsite, "mf4@reject.test")
    assert msg["From"] == "anne--- via Ant <ant@example.com>"
    # a name that is not ASCII: decoded, then encoded again with " via Ant"
    raw = message("mf5@reject.test", sender="anne@reject.test").replace(
        "From: Em One <", "From: =?iso-8859-1?q?Ann=E9?= <")
    assert dsite.post(raw, sender="anne@reject.test") == {}
    frm = delivered_msg(dsite, "mf5@reject.test")["From"]
    assert frm.isascii()
    assert str(make_header(decode_header(frm))) == "Ann\u00e9 via Ant <ant@example.com>"


def test_organisational_domain_and_no_policy(dsite):
    start(dsite, "munge_from")
    # lists.orgdom.test has no record; orgdom.test's sp=quarantine covers it
    post_from(dsite, "org1@lists.orgdom.test", "cat@lists.orgdom.test")
    msg = delivered_msg(dsite, "org1@lists.orgdom.test")
    assert msg["From"] == "Em One via Ant <ant@example.com>"
    assert msg["Reply-To"] == "Em One <cat@lists.orgdom.test>"
    assert dsite.dns.queries("_dmarc.lists.orgdom.test") == 1
    assert dsite.dns.queries("_dmarc.orgdom.test") == 1
    # p=none, p=none at the organisational domain itself, no record at all:
    # untouched
    for sender in ["bob@none.test", "eve@orgdom.test", "dan@norecord.test"]:
        msgid = "np-" + sender
        post_from(dsite, msgid, sender)
        msg = delivered_msg(dsite, msgid)
        assert msg["From"] == f"Em One <{sender}>", sender
        assert msg["Reply-To"] is None
        assert msg.get_content_type() == "text/plain"
    assert dsite.dns.queries("_dmarc.norecord.test") == 1


def test_unconditional_munges_without_a_policy(dsite):
    start(dsite, "munge_from", dmarc_mitigate_unconditionally="true")
    post_from(dsite, "u1@norecord.test", "dan@norecord.test")
    assert delivered_msg(dsite, "u1@norecord.test")["From"] == \
        "Em One via Ant <ant@example.com>"


def test_wrap_message(dsite):
    start(dsite, "wrap_message",
          dmarc_wrapped_message_text="This post was wrapped because its sender's domain "
                                     "publishes a strict DMARC policy. The original is attached. "
                                     "Grüße.")
    post_from(dsite, "w1@reject.test", "anne@reject.test", subject="wrapped",
              extra="Cc: cc@example.net\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                    "X-Private: secret\n")
    msg = delivered_msg(dsite, "w1@reject.test")
    assert msg["From"] == "Em One via Ant <ant@example.com>"
    assert msg["Reply-To"] == "Em One <anne@reject.test>"
    assert msg["Cc"] == "cc@example.net"  # wrapping copies the other header
    assert msg["Subject"] == "[Ant] wrapped"
    assert msg["To"] == "ant@example.com"
    assert msg["Date"] == "Mon, 1 Jan 2024 00:00:00 +0000"
    assert msg["List-Id"] == "<ant.example.com>"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Message-ID"] != "<w1@reject.test>"
    assert msg["X-Private"] is None  # only Mailman's keepers stay outside
    assert msg.get_content_type() == "multipart/mixed"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0]["Content-Disposition"] == "inline"
    # UTF-8 bytes labelled utf-8 (GMime alone would pick ISO-8859-1 bytes)
    assert parts[0].get_content_charset() == "utf-8"
    assert parts[0].get_payload(decode=True).decode("utf-8") == (
        "This post was wrapped because its sender's domain publishes a strict\n"
        "DMARC policy.  The original is attached.  Grüße.")
    assert parts[1].get_content_type() == "message/rfc822"
    assert parts[1]["Content-Disposition"] == "inline"
    inner = parts[1].get_payload()[0]
    assert inner["From"] == "Em One <anne@reject.test>"
    assert inner["Message-ID"] == "<w1@reject.test>"
    assert inner["X-Private"] == "secret"
    assert inner.get_payload() == "line one\n"
    # the footer is decoration of the wrapper, after the wrapped post
    assert "Ant mailing list -- ant@example.com" in parts[-1].get_payload(decode=True).decode()


def test_wrap_message_without_text(dsite):
    start(dsite, "wrap_message")
    post_from(dsite, "w2@reject.test", "anne@reject.test")
    msg = delivered_msg(dsite, "w2@reject.test")
    assert msg["From"] == "Em One via Ant <ant@example.com>"
    # message/rfc822 on its own; decoration then puts it in a multipart
    assert msg.get_content_type() == "multipart/mixed"
    rfc822 = [p for p in msg.get_payload() if p.get_content_type() == "message/rfc822"]
    assert len(rfc822) == 1
    assert rfc822[0].get_payload()[0]["From"] == "Em One <anne@reject.test>"


def test_reject(dsite):
    start(dsite, "reject")
    post_from(dsite, "rj1@reject.test", "anne@reject.test", subject="strict post")
    assert wait_until(lambda: len(dsite.sink.with_text("was rejected")) == 1)
    frm, rcpts, raw = dsite.sink.with_text("was rejected")[0]
    assert rcpts == ["anne@reject.test"]
    notice = email.message_from_bytes(raw)
    assert notice["From"] == "ant-owner@example.com"
    assert notice["Subject"] == "strict post"
    text = notice.get_payload()[0].get_payload(decode=True).decode()
    assert ("You are not allowed to post to this mailing list From: a domain which\n"
            "publishes a DMARC policy of reject or quarantine, and your message has\n"
            "been automatically rejected.  If you think that your messages are\n"
            "being rejected in error, contact the mailing list owner at\n"
            "ant-owner@example.com.") in text
    original = notice.get_payload()[1].get_payload()[0]
    assert original["X-Mailman-Rule-Hits"] == "dmarc-mitigation"
    assert delivered(dsite, "rj1@reject.test") == ["anne@reject.test"]  # the notice only
    assert "REJECT: <rj1@reject.test>" in logs(dsite)
    # a list's own notice replaces the default text; p=none still passes
    dsite.set_attr("dmarc_moderation_notice", "Strict DMARC domains may not post here.")
    post_from(dsite, "rj2@reject.test", "anne@reject.test")
    assert wait_until(lambda: len(dsite.sink.with_text("may not post here")) == 1)
    post_from(dsite, "rj3@none.test", "bob@none.test")
    delivered_msg(dsite, "rj3@none.test")


def test_discard(dsite):
    start(dsite, "discard")
    post_from(dsite, "dc1@reject.test", "anne@reject.test")
    post_from(dsite, "dc2@none.test", "bob@none.test")
    delivered_msg(dsite, "dc2@none.test")
    assert wait_until(lambda: "DISCARD: <dc1@reject.test>; DMARC moderation" in logs(dsite))
    assert delivered(dsite, "dc1@reject.test") == []


def test_answers_are_cached(dsite):
    start(dsite, "discard")
    post_from(dsite, "c1@reject.test", "anne@reject.test")
    assert wait_until(lambda: "DISCARD: <c1@reject.test>" in logs(dsite))
    # the record's TTL (300 s) is within cache_lifetime: no second query,
    # even with the server gone
    dsite.dns.stop()
    post_from(dsite, "c2@reject.test", "anne@reject.test")
    assert wait_until(lambda: "DISCARD: <c2@reject.test>" in logs(dsite))
    assert dsite.dns.queries("_dmarc.reject.test") == 1


def test_dns_server_down_is_no_policy(site):
    # nothing listens on the port: refused at once
    use_resolver(site, f"127.0.0.1:{free_udp_tcp_port()}")
    start(site, "reject")
    post_from(site, "down1@reject.test", "anne@reject.test")
    msg = delivered_msg(site, "down1@reject.test")
    assert msg["From"] == "Em One <anne@reject.test>"
    assert "DNSException: Unable to query DMARC policy for anne@reject.test " \
           "(_dmarc.reject.test)" in logs(site)


def test_silent_dns_server_times_out_as_no_policy(site):
    # a server that never answers: the lookup gives up at resolver_lifetime
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        use_resolver(site, f"127.0.0.1:{silent.getsockname()[1]}",
                     "resolver_timeout: 0.5s\nresolver_lifetime: 1s\n")
        start(site, "munge_from")
        t0 = time.monotonic()
        post_from(site, "slow1@reject.test", "anne@reject.test")
        msg = delivered_msg(site, "slow1@reject.test")
        elapsed = time.monotonic() - t0
    assert msg["From"] == "Em One <anne@reject.test>"
    print(f"silent DNS server: post delivered after {elapsed:.2f}s")
    assert 1.0 <= elapsed < 8, elapsed
    assert "Unable to query DMARC policy for anne@reject.test" in logs(site)


def test_hostile_from_domains(dsite):
    start(dsite, "reject")
    # longer than any DNS name (253): no lookup; an empty domain; no '@'
    long_domain = "a." * 2000 + "test"
    for i, sender in enumerate([f"x@{long_domain}", "x@", "x"]):
        raw = message(f"h{i}@example.org").replace("From: Em One <m1@example.org>",
                                                   f"From: Em One <{sender}>")
        assert dsite.post(raw) == {}
    post_from(dsite, "h-ok@none.test", "bob@none.test")
    delivered_msg(dsite, "h-ok@none.test")
    assert "a.a.a.a" not in dsite.dns.log.read_text()
    # handled, not shunted: without a valid sender the no-senders rule discards
    for i in range(3):
        assert wait_until(lambda: f"DISCARD: <h{i}@example.org>" in logs(dsite))
