"""Email commands and the subscription workflows end to end (reference §7):
mail to -request, -join, -leave and -confirm+TOKEN over LMTP, replies and
confirmations caught by an aiosmtpd sink, members checked with
`crier members`. Texts are Mailman 3.3.8's."""
import email
import re
import smtplib
import sqlite3
import time
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port


class Sink:
    def __init__(self):
        self.transactions = []

    async def handle_DATA(self, server, session, envelope):
        self.transactions.append((envelope.mail_from, sorted(envelope.rcpt_tos),
                                  envelope.content.replace(b"\r\n", b"\n")))
        return "250 OK"

    def messages(self, subject_part=None, to=None):
        out = []
        for frm, rcpts, raw in self.transactions:
            msg = email.message_from_bytes(raw)
            subject = subj(msg)
            if subject_part is not None and subject_part not in subject:
                continue
            if to is not None and to not in rcpts:
                continue
            out.append((frm, rcpts, msg))
        return out


def subj(msg):
    return str(make_header(decode_header(msg.get("Subject", "")))).replace("\n ", " ")


def wait_until(pred, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def wait_for(sink, subject_part, to=None, n=1, timeout=20):
    assert wait_until(lambda: len(sink.messages(subject_part, to)) >= n, timeout), (
        subject_part, [(t[1], t[2][:300]) for t in sink.transactions])
    return sink.messages(subject_part, to)[n - 1][2]


RESULTS = "The results of your email commands"


@pytest.fixture
def site(crier):
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    crier.sink = sink
    crier.lmtp_port = free_port()
    crier.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {crier.lmtp_port}\n"
                             f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n")
    crier.ok("create", "-o", "boss@example.org", "ant@example.com")

    def set_attr(name, value):
        db = sqlite3.connect(crier.data_dir / "mailman.db")
        with db:
            row = db.execute("SELECT id FROM mailinglist WHERE list_id='ant.example.com'").fetchone()
            db.execute("DELETE FROM list_attr WHERE list=? AND name=?", (row[0], name))
            db.execute("INSERT INTO list_attr (list, name, value) VALUES (?, ?, ?)",
                       (row[0], name, value))
        db.close()
    crier.set_attr = set_attr

    def send(msg, rcpt="ant-request@example.com", sender="anne@example.org"):
        if isinstance(msg, str):
            msg = msg.encode()
        with smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10) as c:
            return c.sendmail(sender, [rcpt], msg)
    crier.send = send

    def members(role=None):
        args = ["members", "ant@example.com"]
        if role:
            args += ["--role", role]
        out = crier.run(*args).stdout
        return sorted(line.strip() for line in out.splitlines()
                      if line.strip() and not line.endswith(" has no members"))
    crier.members = members
    crier.ok("start", "-q")
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def command(subject="", body="", sender="Anne Person <anne@example.org>",
            to="ant-request@example.com", msgid="c1@example.org", extra=""):
    return (f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{msgid}>\n"
            f"Date: Tue, 01 Dec 2026 10:00:00 +0000\n{extra}\n{body}")


def token_of(msg):
    m = re.search(r"ant-confirm\+([0-9a-f]{40})@example\.com", msg["From"])
    assert m, msg["From"]
    return m.group(1)


def test_help_reply_is_mailmans(site):
    site.send(command(subject="help"))
    reply = wait_for(site.sink, RESULTS)
    assert reply["From"] == "ant-bounces@example.com"
    assert reply["To"] == "anne@example.org"
    assert reply.get_payload() == (
        "The results of your email command are provided below.\n\n"
        "- Original message details:\n"
        "    From: Anne Person <anne@example.org>\n"
        "    Subject: help\n"
        "    Date: Tue, 01 Dec 2026 10:00:00 +0000\n"
        "    Message-ID: <c1@example.org>\n\n"
        "- Results:\n"
        "confirm     - Confirm a subscription or held message request.\n"
        "echo        - Echo back your arguments.\n"
        "end         - Stop processing commands.\n"
        "help        - Get help about available email commands.\n"
        "join        - Join this mailing list.\n"
        "leave       - Leave this mailing list.\n"
        "stop        - An alias for 'end'.\n"
        "subscribe   - An alias for 'join'.\n"
        "unsubscribe - An alias for 'leave'.\n"
        "who         - Get a list of the list members.\n\n"
        "- Done.\n")


def test_join_confirm_by_reply_to_confirm_address(site):
    # -join: no results reply unless something goes wrong
    site.send(command(subject="", body="", to="ant-join@example.com"),
              rcpt="ant-join@example.com")
    conf = wait_for(site.sink, "Your confirmation is needed to join")
    assert subj(conf) == "Your confirmation is needed to join the ant@example.com mailing list."
    assert conf["Auto-Submitted"] == "auto-generated"
    # Mailman sends it without Precedence: bulk; its virgin pipeline's
    # cook-headers then adds Precedence: list, as crier's does
    assert conf["Precedence"] == "list"
    assert conf["To"] == "anne@example.org"
    token = token_of(conf)
    body = conf.get_payload()
    assert body.startswith("Email Address Registration Confirmation\n\n"
                           "Hello, this is the GNU Mailman server at example.com.\n")
    assert f"\n    confirm {token}\n" in body
    assert "in a message to ant-request@example.com:" in body
    assert site.members() == []
    # the pending is Mailman's pendable
    db = sqlite3.connect(site.data_dir / "mailman.db")
    kv = dict(db.execute("SELECT k.key, k.value FROM pended p JOIN pended_kv k ON k.pended = p.id "
                         "WHERE p.token = ?", (token,)).fetchall())
    db.close()
    assert kv["list_id"] == "ant.example.com" and kv["email"] == "anne@example.org"
    assert kv["token_owner"] == "subscriber" and kv["display_name"] == "Anne Person"
    # the reply goes to the -confirm+token address
    site.send(command(subject="Re: " + subj(conf), to=conf["From"], body="> quoted\n"),
              rcpt=conf["From"])
    welcome = wait_for(site.sink, "Welcome to")
    assert subj(welcome) == 'Welcome to the "Ant" mailing list'
    assert welcome["From"] == "ant-request@example.com"
    assert welcome["To"] == "Anne Person <anne@example.org>"
    assert welcome["X-No-Archive"] == "yes"
    assert welcome.get_payload().startswith(
        'Welcome to the "Ant" mailing list!\n\nTo post to this list, send your message to:\n\n'
        "  ant@example.com\n\nYou can unsubscribe or make adjustments to your options via email "
        "by\nsending a message to:\n\n  ant-request@example.com\n\n")
    assert site.members() == ["Anne Person <anne@example.org>"]
    # no results reply for the implicit commands
    time.sleep(0.5)
    assert site.sink.messages(RESULTS) == []
    # the token is used up: a second reply gets "did not match"
    site.send(command(subject="Re: again", to=conf["From"], msgid="c2@example.org"),
              rcpt=conf["From"])
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nConfirmation token did not match\n\n- Done.\n" in reply.get_payload()


def test_join_and_confirm_by_subject_to_request(site):
    site.send(command(subject="join"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nConfirmation email sent to Anne Person <anne@example.org>\n\n- Done.\n" \
        in reply.get_payload()
    conf = wait_for(site.sink, "Your confirmation is needed to join")
    token = token_of(conf)
    site.send(command(subject=f"Re: confirm {token}", msgid="c2@example.org"))
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "- Results:\nConfirmed\n\n- Done.\n" in reply.get_payload()
    wait_for(site.sink, "Welcome to")
    assert site.members() == ["Anne Person <anne@example.org>"]
    # joining again: already a member
    site.send(command(subject="join", msgid="c3@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert ("- Results:\nanne@example.org is already a MemberRole.member of mailing list "
            "ant@example.com\n") in reply.get_payload()


def test_leave_with_confirmation_and_goodbye(site):
    site.set_attr("send_goodbye_message", "true")
    site.send(command(subject="join"))
    token = token_of(wait_for(site.sink, "Your confirmation is needed to join"))
    site.send(command(subject=f"confirm {token}", msgid="c2@example.org"))
    wait_for(site.sink, "Welcome to")
    site.send(command(subject="", to="ant-leave@example.com", msgid="c3@example.org"),
              rcpt="ant-leave@example.com")
    conf = wait_for(site.sink, "Your confirmation is needed to leave")
    assert subj(conf) == ("Your confirmation is needed to leave the ant@example.com "
                               "mailing list.")
    assert conf.get_payload().startswith("Email Address Unsubscription Confirmation\n")
    assert site.members() == ["Anne Person <anne@example.org>"]
    site.send(command(subject="Re: x", to=conf["From"], msgid="c4@example.org"),
              rcpt=conf["From"])
    bye = wait_for(site.sink, "You have been unsubscribed")
    assert subj(bye) == "You have been unsubscribed from the Ant mailing list"
    assert bye["From"] == "ant-bounces@example.com"
    assert wait_until(lambda: site.members() == [])
    # leaving again: not a member
    site.send(command(subject="leave", msgid="c5@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "- Results:\nleave: anne@example.org is not a member of ant@example.com\n" \
        in reply.get_payload()


def test_unknown_command_echo_and_sections(site):
    body = "echo hi there\nfrobnicate now\nend\nhelp\n" + "".join(
        f"line {i}\n" for i in range(20))
    site.send(command(subject="Re: nothing", body=body))
    reply = wait_for(site.sink, RESULTS)
    text = reply.get_payload()
    assert text.startswith("The results of your email command are provided below.\n\n")
    assert ("- Results:\nNo such command: nothing\necho hi there\nNo such command: now\n\n"
            "- Unprocessed:\nhelp\nline 0\nline 1\nline 2\nline 3\nline 4\nline 5\n\n"
            "- Ignored:\n" + "".join(f"line {i}\n" for i in range(6, 20)) +
            "\n- Done.\n") in text
