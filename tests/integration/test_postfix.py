"""Postfix in front of crier, end to end on loopback (issue 6, reference §3.1).

A private Postfix (tests/integration/mta_harness.py) is hooked up to crier's
maps with the lines `crier aliases --snippet postfix` prints (docs/mta.md),
once with hash maps and once with regexp maps. Mail is submitted to Postfix over SMTP; what crier's LMTP runner
queued is read back with `crier qfile`. Outgoing mail (Postfix's relayhost)
goes to an aiosmtpd sink.
"""
import shutil
import smtplib

import pytest

from mta_harness import (PrivatePostfix, Sink, check_post_reaches_every_member, free_port,
                         have_postfix, make_crier, maps_mtime, message, private_tmpdir, qfile,
                         set_alias_domain, settle_maps, snippet, wait_entry, wait_for)

pytestmark = pytest.mark.skipif(not have_postfix(), reason="postfix is not installed "
                                "(scripts/install-deps.sh test installs it)")


class Stack:
    def __init__(self, mode, base, crier, postfix, sink):
        self.mode, self.base, self.crier, self.postfix, self.sink = (
            mode, base, crier, postfix, sink)

    def send(self, rcpts, msg, sender="anne@example.org"):
        with self.postfix.smtp() as s:
            return s.sendmail(sender, rcpts, msg)

    def rcpt_codes(self, rcpts):
        """RCPT replies of one new SMTP session (smtpd sees changed maps
        at each new connection)."""
        with self.postfix.smtp() as s:
            s.ehlo()
            s.mail("anne@example.org")
            codes = {r: s.rcpt(r)[0] for r in rcpts}
            s.rset()
        return codes

    def maps_changed(self):
        """What a site does after crier rewrote the maps: nothing in hash
        mode (Postfix notices, routing within 10 s); `postfix reload` in
        regexp mode (regexp tables are read once per process)."""
        if self.mode == "regex":
            self.postfix.reload()
        else:
            assert self.postfix.wait_resolver_fresh(maps_mtime(self.crier), 45), \
                self.postfix.log_tail()

    def misrouted(self):
        """List mail that reached the relay sink instead of crier."""
        return [r for r in self.sink.recipients()
                if r.endswith(("@example.com", "@example.net", "@x.example.net"))]


@pytest.fixture(scope="module", params=["hash", "regex"])
def stack(request):
    mode = request.param
    base = private_tmpdir(f"crier-postfix-{mode}-")
    sink = Sink()
    port = free_port()
    crier = make_crier(base, port, transport_file_type=mode)
    postfix = None
    try:
        crier.ok("create", "ant@example.com")
        crier.ok("create", "cat@example.com")
        crier.ok("create", "ali@example.net")
        set_alias_domain(crier, "example.net", "x.example.net")
        # Postfix gets what `crier aliases --snippet postfix` prints now.
        postfix = PrivatePostfix(base, sink.port, snippet(crier, "postfix"), port=port)
        crier.ok("start", "-q")
        postfix.start()
        yield Stack(mode, base, crier, postfix, sink)
    finally:
        if postfix is not None:
            postfix.stop()
        crier.run("stop", "-q")
        sink.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_hookup_is_the_snippet(stack):
    """The private Postfix runs on the snippet's lines, alias domain
    included."""
    t = "hash" if stack.mode == "hash" else "regexp"
    d = stack.crier.data_dir
    main = (stack.postfix.config_dir / "main.cf").read_text()
    for line in (f"transport_maps = {t}:{d}/postfix_lmtp",
                 f"relay_recipient_maps = {t}:{d}/postfix_lmtp",
                 f"relay_domains = {t}:{d}/postfix_domains",
                 f"virtual_alias_maps = {t}:{d}/postfix_vmap",
                 "virtual_alias_domains = example.net"):
        assert f"\n{line}\n" in main, line


def test_post_reaches_crier_in_queue(stack):
    msgid = f"post-{stack.mode}@example.org"
    assert stack.send(["ant@example.com"], message(msgid, "ant@example.com")) == {}
    entry = wait_entry(stack.crier, "in", msgid.encode())
    assert entry, stack.postfix.log_tail()
    text = qfile(stack.crier, entry)
    assert "X-MailFrom: anne@example.org" in text
    assert "'listid': 'ant.example.com'" in text
    assert "'to_list': 'true'" in text
    assert f"Message-ID: <{msgid}>" in text
    assert stack.misrouted() == []


def test_request_reaches_command_queue(stack):
    msgid = f"request-{stack.mode}@example.org"
    assert stack.send(["ant-request@example.com"],
                      message(msgid, "ant-request@example.com", subject="help")) == {}
    entry = wait_entry(stack.crier, "command", msgid.encode())
    assert entry, stack.postfix.log_tail()
    text = qfile(stack.crier, entry)
    assert "'subaddress': 'request'" in text
    assert "'listid': 'ant.example.com'" in text


def test_unknown_addresses_refused_at_rcpt(stack):
    codes = stack.rcpt_codes(["nosuch@example.com", "ant-bogus@example.com",
                              "nosuch@example.net", "ant@example.com",
                              "ant-owner@example.com", "ali@example.net"])
    assert codes == {"nosuch@example.com": 550, "ant-bogus@example.com": 550,
                     "nosuch@example.net": 550, "ant@example.com": 250,
                     "ant-owner@example.com": 250, "ali@example.net": 250}
    # The whole session is refused when no recipient is left.
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        stack.send(["nosuch@example.com"], message("refused@example.org", "x"))
    assert e.value.recipients["nosuch@example.com"][0] == 550


def test_verp_address_reaches_bounces_queue(stack):
    msgid = f"verp-{stack.mode}@example.org"
    rcpt = "ant-bounces+bob=example.org@example.com"
    assert stack.send([rcpt], message(msgid, rcpt), sender="") == {}
    entry = wait_entry(stack.crier, "bounces", msgid.encode())
    assert entry, stack.postfix.log_tail()
    text = qfile(stack.crier, entry)
    assert "'subaddress': 'bounces'" in text and "'listid': 'ant.example.com'" in text


def test_bounce_for_verp_envelope_travels_back(stack):
    """Postfix relays a message whose envelope sender is a VERP -bounces
    address; the relay refuses the recipient, so Postfix writes a DSN to
    that sender, which its maps route back to crier's bounces queue."""
    msgid = f"dsn-{stack.mode}@example.org"
    sender = "ant-bounces+bad-bob=example.org@example.com"
    assert stack.send(["bad-bob@example.org"], message(msgid, "bad-bob@example.org",
                                                       sender=sender),
                      sender=sender) == {}
    entry = wait_entry(stack.crier, "bounces", msgid.encode(), timeout=20)
    assert entry, stack.postfix.log_tail()
    text = qfile(stack.crier, entry)
    assert "'listid': 'ant.example.com'" in text
    assert "multipart/report" in text and "report-type=delivery-status" in text
    assert "bad-bob@example.org" in text
    assert f"To: {sender}" in text


def test_alias_domain_through_vmap(stack):
    vmap = (stack.crier.data_dir / "postfix_vmap").read_text()
    assert "x.example.net" in vmap
    msgid = f"alias-{stack.mode}@example.org"
    assert stack.send(["ali@example.net", "ali-request@example.net"],
                      message(msgid, "ali@example.net")) == {}
    post = wait_entry(stack.crier, "in", msgid.encode())
    assert post, stack.postfix.log_tail()
    assert "'listid': 'ali.example.net'" in qfile(stack.crier, post)
    req = wait_entry(stack.crier, "command", msgid.encode())
    assert req and "'subaddress': 'request'" in qfile(stack.crier, req)
    assert stack.misrouted() == []
    # The alias domain itself is a list domain with only its lists' addresses.
    assert stack.rcpt_codes(["ali@x.example.net", "ali-bounces+b=example.org@x.example.net",
                             "ant@x.example.net"]) == {
        "ali@x.example.net": 250, "ali-bounces+b=example.org@x.example.net": 250,
        "ant@x.example.net": 550}


def test_created_list_reachable_removed_list_refused(stack):
    crier = stack.crier
    settle_maps(crier)
    crier.ok("create", "bee@example.com")
    crier.ok("remove", "cat@example.com")
    if stack.mode == "hash":
        # smtpd checks for changed tables before each connection: the next
        # session already knows both changes.
        assert stack.rcpt_codes(["bee@example.com", "cat@example.com"]) == {
            "bee@example.com": 250, "cat@example.com": 550}
    stack.maps_changed()
    assert stack.rcpt_codes(["bee@example.com", "cat@example.com",
                             "bee-join@example.com"]) == {
        "bee@example.com": 250, "cat@example.com": 550, "bee-join@example.com": 250}
    msgid = f"created-{stack.mode}@example.org"
    assert stack.send(["bee@example.com"], message(msgid, "bee@example.com")) == {}
    entry = wait_entry(crier, "in", msgid.encode())
    assert entry, stack.postfix.log_tail()
    assert "'listid': 'bee.example.com'" in qfile(crier, entry)
    assert stack.misrouted() == []


def test_crier_outgoing_relays_through_postfix(stack):
    """crier's out runner submits to Postfix (smtp_host/smtp_port), which
    relays to the sink: the path every post to members will take."""
    before = len(stack.sink.transactions)
    stack.crier.ok("inject", "-q", "out", "-m", "recipients=dee@example.org",
                   "ant@example.com",
                   input=message(f"out-{stack.mode}@example.com", "ant@example.com")
                   .decode())
    assert wait_for(lambda: len(stack.sink.transactions) > before, 20), \
        stack.postfix.log_tail()
    mail_from, rcpts, _ = stack.sink.transactions[-1]
    assert rcpts == ["dee@example.org"]
    assert mail_from == "ant-bounces@example.com"


def test_post_reaches_every_member_through_postfix(stack):
    """The full loop: a post submitted to Postfix reaches crier over LMTP,
    goes through in -> pipeline -> out, and comes back through Postfix to
    every member at the sink."""
    check_post_reaches_every_member(stack, ["m1@example.org", "m2@example.org",
                                            "m3@elsewhere.example"],
                                    f"fanout-{stack.mode}@example.org", stack.postfix.log_tail)
