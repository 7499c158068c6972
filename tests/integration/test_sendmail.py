"""Sendmail in front of crier, end to end on loopback (issue 6).

A private sendmail (Debian's sendmail-bin, unpacked, see
mta_harness.PrivateSendmail) routes the list domains through a mailertable
to an LMTP mailer pointing at crier, with what `crier aliases --snippet
sendmail` prints (docs/mta.md).
Unlike Postfix and Exim, this sendmail setup cannot tell a list address
from an unknown one at RCPT time: it accepts every address of a list
domain, and crier's 550 at LMTP time turns into a bounce to the sender.
"""
import shutil

import pytest

from mta_harness import (PrivateSendmail, Sink, check_alias_domain,
                         check_post_reaches_every_member, find_sendmail, free_port, make_crier,
                         message, namespace_works, private_tmpdir, qfile, sendmail_needs_hosts,
                         set_alias_domain, snippet, wait_entry, wait_for)

class Stack:
    def __init__(self, crier, sendmail, sink):
        self.crier, self.sendmail, self.sink = crier, sendmail, sink

    def send(self, rcpts, msg, sender="anne@example.org"):
        with self.sendmail.smtp() as s:
            return s.sendmail(sender, rcpts, msg)

    def dsn_to(self, sender, needle: bytes, timeout=20):
        """The bounce the sink got for sender that mentions needle."""
        found = []

        def look():
            found[:] = [t for t in self.sink.transactions
                        if t[0] in ("", "<>") and sender in t[1] and needle in t[2]]
            return bool(found)
        wait_for(look, timeout, 0.1)
        return found[0] if found else None


@pytest.fixture(scope="module")
def stack():
    sendmail, root = find_sendmail()
    if sendmail is None:
        pytest.skip(root)
    if sendmail_needs_hosts() and not namespace_works():
        pytest.skip("sendmail needs a qualified host name, and no private mount "
                    "namespace can be made here to give it one")
    base = private_tmpdir("crier-sendmail-")
    sink = Sink()
    port = free_port()
    crier = make_crier(base, port, incoming="mailman.mta.exim4.LMTP")
    sm = None
    try:
        crier.ok("create", "ant@example.com")
        crier.ok("create", "cat@example.com")
        crier.ok("create", "ali@example.info")
        set_alias_domain(crier, "example.info", "x.example.info")
        # sendmail gets what `crier aliases --snippet sendmail` prints now.
        sm = PrivateSendmail(sendmail, root, snippet(crier, "sendmail"), sink.port, port=port)
        crier.ok("start", "-q")
        sm.start()
        yield Stack(crier, sm, sink)
    finally:
        if sm is not None:
            sm.stop()
            sm.cleanup()
        crier.run("stop", "-q")
        sink.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_hookup_is_the_snippet(stack):
    sm = stack.sendmail
    mc = sm.mc.read_text()
    assert f"FEATURE(`mailertable', `hash -o {sm.base}/mailertable')dnl\n" in mc
    assert f"\tT=DNS/RFC822/SMTP, A=TCP $h {stack.crier.lmtp_port}\n" in mc
    assert (sm.base / "mailertable").read_text() == (
        "example.com\tcrier:[127.0.0.1]\nexample.info\tcrier:[127.0.0.1]\n"
        "x.example.info\tcrier:[127.0.0.1]\n")
    assert (sm.base / "relay-domains").read_text() == \
        "example.com\nexample.info\nx.example.info\n"


@pytest.mark.parametrize("address, mailer", [
    ("ant@example.com", "crier"),
    ("ant-bounces+bob=example.org@example.com", "crier"),
    ("nosuch@example.com", "crier"),
    ("ali@x.example.info", "crier"),
    ("bob@example.net", "relay"),
])
def test_routing(stack, address, mailer):
    """sendmail -bt: the mailertable sends whole list domains to crier."""
    assert stack.sendmail.route(address).startswith(f"mailer {mailer}, host [127.0.0.1]")


def test_post_reaches_crier_in_queue(stack):
    assert stack.send(["ant@example.com"], message("sm-post@example.org",
                                                   "ant@example.com")) == {}
    entry = wait_entry(stack.crier, "in", b"sm-post@example.org")
    assert entry, stack.sendmail.log_tail()
    text = qfile(stack.crier, entry)
    assert "X-MailFrom: anne@example.org" in text
    assert "'listid': 'ant.example.com'" in text and "'to_list': 'true'" in text


def test_request_reaches_command_queue(stack):
    assert stack.send(["ant-request@example.com"],
                      message("sm-request@example.org", "ant-request@example.com")) == {}
    entry = wait_entry(stack.crier, "command", b"sm-request@example.org")
    assert entry, stack.sendmail.log_tail()
    assert "'subaddress': 'request'" in qfile(stack.crier, entry)


def test_unknown_address_bounced_not_refused(stack):
    """What this setup does with an unknown address of a list domain: the
    RCPT is accepted, crier refuses it over LMTP, sendmail bounces."""
    assert stack.send(["nosuch@example.com"], message("sm-unknown@example.org",
                                                      "nosuch@example.com")) == {}
    dsn = stack.dsn_to("anne@example.org", b"sm-unknown@example.org")
    assert dsn, (stack.sink.transactions, stack.sendmail.log_tail())
    assert b"nosuch@example.com" in dsn[2] and b"550" in dsn[2]


def test_verp_address_reaches_bounces_queue(stack):
    rcpt = "ant-bounces+bob=example.org@example.com"
    assert stack.send([rcpt], message("sm-verp@example.org", rcpt), sender="") == {}
    entry = wait_entry(stack.crier, "bounces", b"sm-verp@example.org")
    assert entry, stack.sendmail.log_tail()
    assert "'subaddress': 'bounces'" in qfile(stack.crier, entry)


def test_bounce_for_verp_envelope_travels_back(stack):
    sender = "ant-bounces+bad-bob=example.net@example.com"
    assert stack.send(["bad-bob@example.net"],
                      message("sm-dsn@example.org", "bad-bob@example.net", sender=sender),
                      sender=sender) == {}
    entry = wait_entry(stack.crier, "bounces", b"sm-dsn@example.org", timeout=20)
    assert entry, stack.sendmail.log_tail()
    text = qfile(stack.crier, entry)
    assert "'listid': 'ant.example.com'" in text and "bad-bob@example.net" in text


def test_alias_domain(stack):
    """Both names of a domain with an alias_domain go to crier, which takes
    the alias address as the list's."""
    check_alias_domain(stack.send, stack.crier, stack.sendmail.log_tail, "sm", "ali",
                       "example.info", "x.example.info")


def test_created_list_reachable_removed_list_bounced(stack):
    """Routing is by domain: a new list of a routed domain works at once; a
    removed list's mail is refused by crier and bounced by sendmail."""
    stack.crier.ok("create", "bee@example.info")
    stack.crier.ok("remove", "cat@example.com")
    assert stack.send(["bee@example.info"], message("sm-created@example.org",
                                                   "bee@example.info")) == {}
    entry = wait_entry(stack.crier, "in", b"sm-created@example.org")
    assert entry, stack.sendmail.log_tail()
    assert "'listid': 'bee.example.info'" in qfile(stack.crier, entry)
    assert stack.send(["cat@example.com"], message("sm-removed@example.org",
                                                   "cat@example.com")) == {}
    assert stack.dsn_to("anne@example.org", b"sm-removed@example.org"), \
        stack.sendmail.log_tail()


def test_crier_outgoing_relays_through_sendmail(stack):
    before = len(stack.sink.transactions)
    stack.crier.ok("inject", "-q", "out", "-m", "recipients=dee@example.net",
                   "ant@example.com",
                   input=message("sm-out@example.com", "ant@example.com").decode())
    assert wait_for(lambda: any(b"sm-out@example.com" in t[2]
                                for t in stack.sink.transactions[before:]), 20)
    t = next(t for t in stack.sink.transactions if b"sm-out@example.com" in t[2])
    assert t[0] == "ant-bounces@example.com" and t[1] == ["dee@example.net"]


def test_post_reaches_every_member_through_sendmail(stack):
    """The full loop through sendmail; see test_postfix.py's twin."""
    check_post_reaches_every_member(stack, ["m1@example.net", "m2@example.net"],
                                    "sm-fanout@example.org", stack.sendmail.log_tail,
                                    incoming="mailman.mta.exim4.LMTP")
