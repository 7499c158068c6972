"""Exim 4 in front of crier, end to end on loopback (issue 6, reference §3.2).

A private Exim (Debian's exim4-daemon-light binary with a configuration
file of its own, see mta_harness.PrivateExim) routes a list address to
crier's LMTP port when crier's list data directory exists, with the lines
`crier aliases --snippet exim4` prints (docs/mta.md), alias domains
included. crier runs with [mta] incoming:
mailman.mta.exim4.LMTP, so no Postfix map is involved.
"""
import shutil
import smtplib

import pytest

from mta_harness import (PrivateExim, Sink, check_alias_domain, check_post_reaches_every_member,
                         exim_user_exists, find_exim, free_port, make_crier, message,
                         namespace_works, private_tmpdir, qfile, set_alias_domain, snippet,
                         wait_entry, wait_for)

class Stack:
    def __init__(self, crier, exim, sink):
        self.crier, self.exim, self.sink = crier, exim, sink

    def send(self, rcpts, msg, sender="anne@example.org"):
        with self.exim.smtp() as s:
            return s.sendmail(sender, rcpts, msg)

    def rcpt_codes(self, rcpts):
        with self.exim.smtp() as s:
            s.ehlo()
            s.mail("anne@example.org")
            codes = {r: s.rcpt(r)[0] for r in rcpts}
            s.rset()
        return codes

    def misrouted(self):
        """List mail that reached the relay sink instead of crier."""
        return [r for r in self.sink.recipients()
                if r.endswith(("@example.com", "@example.net", "@x.example.net"))]


@pytest.fixture(scope="module")
def stack():
    exim, root = find_exim()
    if exim is None:
        pytest.skip(root)
    if not exim_user_exists() and not namespace_works():
        pytest.skip("exim4 needs the Debian-exim account; it does not exist and no "
                    "private mount namespace can be made here to supply it")
    base = private_tmpdir("crier-exim-")
    sink = Sink()
    port = free_port()
    crier = make_crier(base, port, incoming="mailman.mta.exim4.LMTP")
    ex = None
    try:
        crier.ok("create", "ant@example.com")
        crier.ok("create", "cat@example.com")
        crier.ok("create", "ali@example.net")
        set_alias_domain(crier, "example.net", "x.example.net")
        # A list domain without lists yet (the domain stays when its only
        # list goes): test_created_list_reachable... creates one there.
        crier.ok("create", "tmp@example.org")
        crier.ok("remove", "tmp@example.org")
        # Exim gets what `crier aliases --snippet exim4` prints now.
        ex = PrivateExim(base, exim, root, snippet(crier, "exim4"), sink.port, port=port)
        crier.ok("start", "-q")
        ex.start()
        yield Stack(crier, ex, sink)
    finally:
        if ex is not None:
            ex.stop()
        crier.run("stop", "-q")
        sink.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_hookup_is_the_snippet(stack):
    conf = stack.exim.conf.read_text()
    assert f"\nCRIER_LISTS = {stack.crier.var / 'lists'}\n" in conf
    assert f"\nCRIER_LMTP_PORT = {stack.crier.lmtp_port}\n" in conf
    assert ("\ndomainlist crier_domains = example.com : example.net : x.example.net : "
            "example.org\n") in conf
    assert "\nCRIER_ALIAS_DOMAINS = x.example.net=example.net\n" in conf


def test_no_postfix_maps_with_exim(stack):
    assert not (stack.crier.data_dir / "postfix_lmtp").exists()
    assert (stack.crier.var / "lists" / "ant.example.com").is_dir()


@pytest.mark.parametrize("address, router", [
    ("ant@example.com", "crier_lists"),
    ("ANT@Example.COM", "crier_lists"),
    ("ant-request@example.com", "crier_lists"),
    ("ant-bounces+bob=example.org@example.com", "crier_lists"),
    ("ant-confirm+0123abcd@example.com", "crier_lists"),
    ("ali@example.net", "crier_lists"),
    ("ali-request@x.example.net", "crier_lists"),
    ("ALI-bounces+bob=example.org@X.Example.NET", "crier_lists"),
    ("nosuch@x.example.net", None),
    ("ant@x.example.net", None),
    ("nosuch@example.com", None),
    ("ant-bogus@example.com", None),
    ("bob@elsewhere.example", "to_sink"),
])
def test_routing(stack, address, router):
    """exim -bt: what Exim would do with each address."""
    r = stack.exim.route(address)
    if router is None:
        assert r.returncode == 2 and "Unrouteable address" in r.stdout, r.stdout + r.stderr
    else:
        assert r.returncode == 0 and f"router = {router}" in r.stdout, r.stdout + r.stderr


def test_post_reaches_crier_in_queue(stack):
    assert stack.send(["ant@example.com"], message("exim-post@example.org",
                                                   "ant@example.com")) == {}
    entry = wait_entry(stack.crier, "in", b"exim-post@example.org")
    assert entry, stack.exim.log_tail()
    text = qfile(stack.crier, entry)
    assert "X-MailFrom: anne@example.org" in text
    assert "'listid': 'ant.example.com'" in text and "'to_list': 'true'" in text
    assert stack.misrouted() == []


def test_request_reaches_command_queue(stack):
    assert stack.send(["ant-request@example.com"],
                      message("exim-request@example.org", "ant-request@example.com")) == {}
    entry = wait_entry(stack.crier, "command", b"exim-request@example.org")
    assert entry, stack.exim.log_tail()
    assert "'subaddress': 'request'" in qfile(stack.crier, entry)


def test_unknown_addresses_refused_at_rcpt(stack):
    codes = stack.rcpt_codes(["nosuch@example.com", "ant-bogus@example.com",
                              "nosuch@example.org", "ant@example.com", "ant-owner@example.com"])
    assert codes == {"nosuch@example.com": 550, "ant-bogus@example.com": 550,
                     "nosuch@example.org": 550, "ant@example.com": 250,
                     "ant-owner@example.com": 250}
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        stack.send(["nosuch@example.com"], message("exim-refused@example.org", "x"))


def test_verp_address_reaches_bounces_queue(stack):
    rcpt = "ant-bounces+bob=example.org@example.com"
    assert stack.send([rcpt], message("exim-verp@example.org", rcpt), sender="") == {}
    entry = wait_entry(stack.crier, "bounces", b"exim-verp@example.org")
    assert entry, stack.exim.log_tail()
    text = qfile(stack.crier, entry)
    assert "'subaddress': 'bounces'" in text and "'listid': 'ant.example.com'" in text


def test_bounce_for_verp_envelope_travels_back(stack):
    sender = "ant-bounces+bad-bob=elsewhere.example@example.com"
    assert stack.send(["bad-bob@elsewhere.example"],
                      message("exim-dsn@example.org", "bad-bob@elsewhere.example",
                              sender=sender),
                      sender=sender) == {}
    entry = wait_entry(stack.crier, "bounces", b"exim-dsn@example.org", timeout=20)
    assert entry, stack.exim.log_tail()
    text = qfile(stack.crier, entry)
    assert "'listid': 'ant.example.com'" in text
    assert "bad-bob@elsewhere.example" in text and f"To: {sender}" in text


def test_alias_domain(stack):
    """A domain with an alias_domain: both names reach the list (the router
    maps the alias to the mail_host whose directory it checks), crier
    takes the alias address as the list's, and only that list's addresses
    exist under the alias."""
    assert stack.rcpt_codes(["ali@x.example.net", "ali-owner@x.example.net",
                             "ali@example.net", "ant@x.example.net",
                             "nosuch@x.example.net"]) == {
        "ali@x.example.net": 250, "ali-owner@x.example.net": 250, "ali@example.net": 250,
        "ant@x.example.net": 550, "nosuch@x.example.net": 550}
    check_alias_domain(stack.send, stack.crier, stack.exim.log_tail, "exim", "ali",
                       "example.net", "x.example.net")
    assert stack.misrouted() == []


def test_created_list_reachable_removed_list_refused(stack):
    """Exim checks the list directory at every routing: no reload, no wait."""
    stack.crier.ok("create", "bee@example.org")
    stack.crier.ok("remove", "cat@example.com")
    assert stack.rcpt_codes(["bee@example.org", "bee-leave@example.org",
                             "cat@example.com"]) == {
        "bee@example.org": 250, "bee-leave@example.org": 250, "cat@example.com": 550}
    assert stack.send(["bee@example.org"], message("exim-created@example.org",
                                                   "bee@example.org")) == {}
    entry = wait_entry(stack.crier, "in", b"exim-created@example.org")
    assert entry, stack.exim.log_tail()
    assert "'listid': 'bee.example.org'" in qfile(stack.crier, entry)


def test_crier_outgoing_relays_through_exim(stack):
    before = len(stack.sink.transactions)
    stack.crier.ok("inject", "-q", "out", "-m", "recipients=dee@elsewhere.example",
                   "ant@example.com",
                   input=message("exim-out@example.com", "ant@example.com").decode())
    assert wait_for(lambda: len(stack.sink.transactions) > before, 20), stack.exim.log_tail()
    mail_from, rcpts, _ = stack.sink.transactions[-1]
    assert rcpts == ["dee@elsewhere.example"] and mail_from == "ant-bounces@example.com"


def test_post_reaches_every_member_through_exim(stack):
    """The full loop through Exim; see test_postfix.py's twin."""
    check_post_reaches_every_member(stack, ["m1@elsewhere.example", "m2@elsewhere.example"],
                                    "exim-fanout@example.org", stack.exim.log_tail,
                                    incoming="mailman.mta.exim4.LMTP")
