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

import test_posting
from test_posting import set_list_attr, start_sink_site, wait_until


class Sink(test_posting.Sink):
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


def wait_for(sink, subject_part, to=None, n=1, timeout=20):
    assert wait_until(lambda: len(sink.messages(subject_part, to)) >= n, timeout), (
        subject_part, [(t[1], t[2][:300]) for t in sink.transactions])
    return sink.messages(subject_part, to)[n - 1][2]


RESULTS = "The results of your email commands"


@pytest.fixture
def site(crier):
    controller = start_sink_site(crier, sink_class=Sink)
    crier.set_attr = lambda name, value: set_list_attr(crier, name, value)

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
    assert reply.get_payload(decode=True).decode() == (
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
    body = conf.get_payload(decode=True).decode()
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
    assert welcome.get_payload(decode=True).decode().startswith(
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
    assert "- Results:\nConfirmation token did not match\n\n- Done.\n" in reply.get_payload(decode=True).decode()


def test_join_and_confirm_by_subject_to_request(site):
    site.send(command(subject="join"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nConfirmation email sent to Anne Person <anne@example.org>\n\n- Done.\n" \
        in reply.get_payload(decode=True).decode()
    conf = wait_for(site.sink, "Your confirmation is needed to join")
    token = token_of(conf)
    site.send(command(subject=f"Re: confirm {token}", msgid="c2@example.org"))
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "- Results:\nConfirmed\n\n- Done.\n" in reply.get_payload(decode=True).decode()
    wait_for(site.sink, "Welcome to")
    assert site.members() == ["Anne Person <anne@example.org>"]
    # joining again: already a member
    site.send(command(subject="join", msgid="c3@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert ("- Results:\nanne@example.org is already a MemberRole.member of mailing list "
            "ant@example.com\n") in reply.get_payload(decode=True).decode()


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
    assert conf.get_payload(decode=True).decode().startswith("Email Address Unsubscription Confirmation\n")
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
        in reply.get_payload(decode=True).decode()


def test_unknown_command_echo_and_sections(site):
    body = "echo hi there\nfrobnicate now\nend\nhelp\n" + "".join(
        f"line {i}\n" for i in range(20))
    site.send(command(subject="Re: nothing", body=body))
    reply = wait_for(site.sink, RESULTS)
    text = reply.get_payload(decode=True).decode()
    assert text.startswith("The results of your email command are provided below.\n\n")
    assert ("- Results:\nNo such command: nothing\necho hi there\nNo such command: now\n\n"
            "- Unprocessed:\nhelp\nline 0\nline 1\nline 2\nline 3\nline 4\nline 5\n\n"
            "- Ignored:\n" + "".join(f"line {i}\n" for i in range(6, 20)) +
            "\n- Done.\n") in text


def db_rows(site, sql, *args):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def verify(site, email_addr):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute("UPDATE address SET verified_on = 1700000000000000 WHERE email = ?",
                   (email_addr,))
    db.close()


def join_and_confirm(site, n=1):
    site.send(command(subject="join", msgid=f"j{n}@example.org"))
    conf = wait_for(site.sink, "Your confirmation is needed to join", n=n)
    site.send(command(subject=f"confirm {token_of(conf)}", msgid=f"k{n}@example.org"))
    return conf


def test_open_policy_unverified_address_still_confirms(site):
    site.set_attr("subscription_policy", "open")
    join_and_confirm(site)
    wait_for(site.sink, "Welcome to")
    assert site.members() == ["Anne Person <anne@example.org>"]
    # once verified, an open list subscribes at once
    site.ok("delmembers", "-l", "ant@example.com", "-m", "anne@example.org")
    site.send(command(subject="join", msgid="again@example.org"))
    wait_for(site.sink, "Welcome to", n=2)
    assert site.members() == ["Anne Person <anne@example.org>"]
    assert len(site.sink.messages("Your confirmation is needed")) == 1


@pytest.mark.parametrize("policy", ["moderate", "confirm_then_moderate"])
def test_moderated_policies_ask_the_moderator(site, policy):
    site.set_attr("subscription_policy", policy)
    join_and_confirm(site)
    notice = wait_for(site.sink, "New subscription request")
    assert subj(notice) == "New subscription request to Ant from anne@example.org"
    assert notice["From"] == "ant-owner@example.com"
    assert notice["To"] == "ant-owner@example.com"
    assert notice.get_payload(decode=True).decode() == (
        "Your authorization is required for a mailing list subscription request\n"
        "approval:\n\n    For:  Anne Person <anne@example.org>\n    List: ant@example.com\n")
    assert site.members() == []
    rows = db_rows(site, "SELECT p.token FROM pended p JOIN pended_kv k ON k.pended = p.id "
                         "WHERE k.key = 'token_owner' AND k.value = 'moderator'")
    assert len(rows) == 1
    mod_token = rows[0][0]
    assert db_rows(site, "SELECT type, key, data_token FROM request") == [
        (2, "anne@example.org", mod_token)]
    # joining again while the request waits: pending
    site.send(command(subject="join", msgid="again@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert ("- Results:\nAnne Person <anne@example.org> has a pending subscription for "
            "ant@example.com\n") in reply.get_payload(decode=True).decode()
    # the moderator approves with the moderator's token
    site.send(command(subject=f"confirm {mod_token}", sender="boss@example.org",
                      msgid="mod@example.org"), sender="boss@example.org")
    reply = wait_for(site.sink, RESULTS, to="boss@example.org")
    assert "- Results:\nConfirmed\n" in reply.get_payload(decode=True).decode()
    wait_for(site.sink, "Welcome to")
    assert site.members() == ["Anne Person <anne@example.org>"]
    assert db_rows(site, "SELECT * FROM request") == []


def test_moderate_policy_verified_address_goes_straight_to_moderator(site):
    site.set_attr("subscription_policy", "moderate")
    site.ok("addmembers", "-", "ant@example.com", input="anne@example.org\n")
    site.ok("delmembers", "-l", "ant@example.com", "-m", "anne@example.org")
    verify(site, "anne@example.org")
    site.send(command(subject="join"))
    wait_for(site.sink, "New subscription request")
    assert site.sink.messages("Your confirmation is needed") == []


def test_unsubscription_open_policy_leaves_at_once(site):
    site.set_attr("unsubscription_policy", "open")
    join_and_confirm(site)
    wait_for(site.sink, "Welcome to")
    site.send(command(subject="unsubscribe", msgid="u@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "- Results:\nAnne Person <anne@example.org> left ant@example.com\n" \
        in reply.get_payload(decode=True).decode()
    assert site.members() == []


def test_leave_unknown_and_unverified(site):
    site.send(command(subject="leave", sender="nobody@example.org"), sender="nobody@example.org")
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nNo registered user for email address: nobody@example.org\n" \
        in reply.get_payload(decode=True).decode()
    site.send(command(subject="join", msgid="j@example.org"))
    wait_for(site.sink, "Your confirmation is needed")
    site.send(command(subject="leave", msgid="l@example.org"))
    reply = wait_for(site.sink, RESULTS, to="anne@example.org", n=2)
    assert "- Results:\nInvalid or unverified email address: anne@example.org\n" \
        in reply.get_payload(decode=True).decode()


def test_join_arguments(site):
    site.send(command(subject="join digest=mime address=Other@Example.org"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nConfirmation email sent to other@example.org\n" in reply.get_payload(decode=True).decode()
    conf = wait_for(site.sink, "Your confirmation is needed", to="other@example.org")
    site.send(command(subject=f"confirm {token_of(conf)}", msgid="k@example.org"))
    welcome = wait_for(site.sink, "Welcome to")
    assert subj(welcome) == 'Welcome to the "Ant" mailing list (Digest mode)'
    out = site.run("members", "--digest", "mime", "ant@example.com").stdout
    assert "other@example.org" in out
    site.send(command(subject="join digest=weekly", msgid="b@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "- Results:\njoin bad argument: digest=weekly\n" in reply.get_payload(decode=True).decode()


def test_banned_and_posting_address(site):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        row = db.execute("SELECT id FROM mailinglist").fetchone()
        db.execute("INSERT INTO ban (list, email) VALUES (?, 'anne@example.org')", (row[0],))
    db.close()
    site.send(command(subject="join"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nanne@example.org is not allowed to subscribe to ant@example.com\n" \
        in reply.get_payload(decode=True).decode()
    site.send(command(subject="join address=ant@example.com", msgid="p@example.org"))
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "- Results:\nList posting address not allowed\n" in reply.get_payload(decode=True).decode()


def test_who_follows_roster_visibility(site):
    site.ok("addmembers", "-", "ant@example.com",
            input="Bee <bee@example.org>\ncee@example.org\n")
    site.send(command(subject="who"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nYou are not authorized to see the membership list.\n" \
        in reply.get_payload(decode=True).decode()
    site.set_attr("member_roster_visibility", "public")
    site.send(command(subject="who", msgid="w2@example.org"))
    reply = wait_for(site.sink, RESULTS, n=2)
    assert ("- Results:\nMembers of the ant@example.com mailing list:\n"
            "    Bee <bee@example.org>\n    cee@example.org\n\n- Done.\n") in reply.get_payload(decode=True).decode()
    site.send(command(subject="who mode=digest", msgid="w3@example.org"))
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "- Results:\nMembers of the ant@example.com mailing list:\n\n" in reply.get_payload(decode=True).decode()
    site.send(command(subject="who bogus", msgid="w4@example.org"))
    reply = wait_for(site.sink, RESULTS, n=4)
    assert "- Results:\nUnrecognized or invalid argument(s):\nbogus\n" in reply.get_payload(decode=True).decode()


def test_help_for_one_command(site):
    site.send(command(subject="help join"))
    reply = wait_for(site.sink, RESULTS)
    assert ("- Results:\njoin [digest=<no|mime|plain>] [address=user@example.com]\n"
            "Join this mailing list.\n"
            "You will be asked to confirm your subscription request and you may be\n"
            "issued a provisional password.\n\n") in reply.get_payload(decode=True).decode()
    site.send(command(subject="help nosuch", msgid="h2@example.org"))
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "- Results:\nhelp: no such command: nosuch\n" in reply.get_payload(decode=True).decode()


def test_bulk_precedence_is_dropped_unless_x_ack(site):
    site.send(command(subject="help", extra="Precedence: bulk\n"))
    site.send(command(subject="echo acked", extra="Precedence: list\nX-Ack: yes\n",
                      msgid="ack@example.org"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\necho acked\n" in reply.get_payload(decode=True).decode()
    time.sleep(0.5)
    assert len(site.sink.messages(RESULTS)) == 1
    assert "Precedence: bulk message discarded by: ant-request@example.com" in \
        (site.var / "logs" / "mailman.log").read_text()


def test_multipart_uses_first_text_plain(site):
    msg = ("From: anne@example.org\nTo: ant-request@example.com\nSubject: \n"
           "Message-ID: <mp@example.org>\nMIME-Version: 1.0\n"
           "Content-Type: multipart/alternative; boundary=b\n\n"
           "--b\nContent-Type: text/html\n\n<p>help</p>\n"
           "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
           "ZWNobyBiYXNlNjQK\n--b--\n")
    site.send(msg)
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nIgnoring non-text/plain MIME parts\necho base64\n\n- Done.\n" \
        in reply.get_payload(decode=True).decode()


# ---- hostile input ----

def test_forged_and_expired_tokens(site):
    forged = "0123456789abcdef0123456789abcdef01234567"
    site.send(command(subject=f"confirm {forged}"))
    reply = wait_for(site.sink, RESULTS)
    assert "- Results:\nConfirmation token did not match\n\n- Done.\n" in reply.get_payload(decode=True).decode()
    # a forged token on the -confirm address gets the same answer
    addr = f"ant-confirm+{forged}@example.com"
    site.send(command(subject="", to=addr, msgid="f2@example.org"), rcpt=addr)
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "Confirmation token did not match" in reply.get_payload(decode=True).decode()
    # garbage after the +
    addr = "ant-confirm+../../etc/passwd%00@example.com"
    site.send(command(subject="", to=addr, msgid="f3@example.org"), rcpt=addr)
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "Confirmation token did not match" in reply.get_payload(decode=True).decode()
    # an expired token
    site.send(command(subject="join", msgid="j@example.org"))
    conf = wait_for(site.sink, "Your confirmation is needed")
    token = token_of(conf)
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute("UPDATE pended SET expires = 1 WHERE token = ?", (token,))
    db.close()
    site.send(command(subject="", to=conf["From"], msgid="e@example.org"), rcpt=conf["From"])
    reply = wait_for(site.sink, RESULTS, n=5)
    assert "- Results:\nConfirmation token did not match\n" in reply.get_payload(decode=True).decode()
    assert site.members() == []
    # "confirm" alone
    site.send(command(subject="confirm", msgid="n@example.org"))
    reply = wait_for(site.sink, RESULTS, n=6)
    assert "- Results:\nNo confirmation token found\n" in reply.get_payload(decode=True).decode()


def test_five_thousand_lines(site):
    body = "".join(f"line {i}\n" for i in range(5000))
    site.send(command(subject="echo first", body=body))
    reply = wait_for(site.sink, RESULTS, timeout=60)
    text = reply.get_payload(decode=True).decode()
    assert "- Results:\necho first\nNo such command: 0\n" in text
    assert "\n- Ignored:\nline 10\n" in text and "\nline 4999\n\n- Done.\n" in text
    # the runner is still there
    site.send(command(subject="echo alive", msgid="a@example.org"))
    assert "echo alive" in wait_for(site.sink, RESULTS, n=2).get_payload(decode=True).decode()


def test_long_lines_and_binary_body(site):
    long_word = "x" * 10000
    site.send(command(subject="echo short", body=f"{long_word}\necho {long_word}\n"))
    reply = wait_for(site.sink, RESULTS)
    assert f"No such command: {long_word}\necho {long_word}\n" in reply.get_payload(decode=True).decode()
    binary = bytes(range(256)) * 40
    msg = (b"From: anne@example.org\nTo: ant-request@example.com\nSubject: echo bin\n"
           b"Message-ID: <bin@example.org>\n\n" + binary + b"\n")
    site.send(msg)
    reply = wait_for(site.sink, RESULTS, n=2)
    assert "- Results:\necho bin\n" in reply.get_payload(decode=True).decode("utf-8", "replace")
    msg = (b"From: anne@example.org\nTo: ant-request@example.com\nSubject: echo oct\n"
           b"Message-ID: <oct@example.org>\nMIME-Version: 1.0\n"
           b"Content-Type: application/octet-stream\n\n" + binary + b"\n")
    site.send(msg)
    reply = wait_for(site.sink, RESULTS, n=3)
    assert "- Results:\nIgnoring non-text/plain MIME parts\necho oct\n\n- Done.\n" in \
        reply.get_payload(decode=True).decode()
    site.send(command(subject="echo alive", msgid="a@example.org"))
    assert "echo alive" in wait_for(site.sink, RESULTS, n=4).get_payload(decode=True).decode()
    shunt = site.var / "queue" / "shunt"
    assert not shunt.exists() or not any(shunt.iterdir())


def test_autoresponse_limit(site):
    site.run("stop", "-q")
    site.write_config(extra=site.extra + "max_autoresponses_per_day: 2\n")
    site.ok("start", "-q")
    for i in range(4):
        site.send(command(subject=f"echo {i}", msgid=f"a{i}@example.org"))
    last = wait_for(site.sink, "Last autoresponse notification for today")
    assert last["From"] == "ant-owner@example.com"
    assert last.get_payload(decode=True).decode() == (
        "We have received a message from your address <anne@example.org>\n"
        "requesting an automated response from the ant@example.com mailing\n"
        "list.\n\n"
        "The number we have seen today: 2.  In order to avoid problems such as\n"
        "mail loops between email robots, we will not be sending you any\n"
        "further responses today.  Please try again tomorrow.\n\n"
        "If you believe this message is in error, or if you have any questions,\n"
        "please contact the list owner at ant-owner@example.com.\n")
    time.sleep(1)
    assert len(site.sink.messages(RESULTS)) == 2
    assert len(site.sink.messages("Last autoresponse")) == 1


def held_token(site, msgid):
    site.send(f"From: stranger@example.org\nTo: ant@example.com\nSubject: held post\n"
              f"Message-ID: <{msgid}>\n\nbody of {msgid}\n", rcpt="ant@example.com",
              sender="stranger@example.org")
    owner = wait_for(site.sink, f"post from stranger@example.org requires approval",
                     n=len(site.sink.messages("requires approval")) + 1)
    return owner.get_payload()[2].get_payload()[0]["Subject"].split()[1]


def test_confirm_held_message(site):
    site.ok("addmembers", "-", "ant@example.com", input="m1@example.org\n")
    site.set_attr("moderator_password", "{plaintext}secret")
    # with the password: accepted, the members get it
    token = held_token(site, "held1@example.org")
    site.send(command(subject=f"Re: confirm {token}", sender="boss@example.org",
                      extra="Approved: secret\n", msgid="mod1@example.org"),
              sender="boss@example.org")
    reply = wait_for(site.sink, RESULTS, to="boss@example.org")
    assert "- Results:\nMessage accepted\n" in reply.get_payload(decode=True).decode()
    assert wait_until(lambda: any(b"held1@example.org" in t[2] and "m1@example.org" in t[1]
                                  for t in site.sink.transactions))
    # a wrong password: nothing happens
    token = held_token(site, "held2@example.org")
    site.send(command(subject=f"confirm {token}", sender="boss@example.org",
                      body="Approved: wrong\n", msgid="mod2@example.org"),
              sender="boss@example.org")
    reply = wait_for(site.sink, RESULTS, to="boss@example.org", n=2)
    assert "- Results:\nInvalid Approved: password\n" in reply.get_payload(decode=True).decode()
    assert len(db_rows(site, "SELECT * FROM request WHERE type = 1")) == 1
    # no Approved: at all: discarded
    site.send(command(subject=f"confirm {token}", sender="boss@example.org",
                      msgid="mod3@example.org"), sender="boss@example.org")
    reply = wait_for(site.sink, RESULTS, to="boss@example.org", n=3)
    assert "- Results:\nMessage discarded\n" in reply.get_payload(decode=True).decode()
    assert db_rows(site, "SELECT * FROM request WHERE type = 1") == []
