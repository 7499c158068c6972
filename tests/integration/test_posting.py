"""The posting path end to end (reference §6): a post over LMTP goes
through the incoming runner's chain and the pipeline runner's handlers, then
out to every member at an aiosmtpd sink; holds, rejects, discards and the
owner chain likewise."""
import email
import smtplib
import sqlite3
import time

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

    def with_text(self, needle):
        return [t for t in self.transactions if needle.encode() in t[2]]


def wait_until(pred, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


MEMBERS = ["m1@example.org", "m2@example.org", "m3@example.net"]


def start_sink_site(crier, fqdn="ant@example.com", config="[runner.rest]\nstart: no\n",
                    extra="", sink_class=None):
    """What the posting-path fixtures share: an aiosmtpd Sink on a free port
    as crier's MTA (crier.sink, crier.smtp_port), a free LMTP port
    (crier.lmtp_port), the configuration (config, then the [mta] ports, then
    extra; crier.site_config keeps the first two) and the list fqdn, owned by
    boss@example.org. Returns the sink's controller, for the fixture to stop."""
    sink = (sink_class or Sink)()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    crier.sink = sink
    crier.smtp_port = smtp_port
    crier.lmtp_port = free_port()
    crier.site_config = (f"{config}[mta]\nlmtp_port: {crier.lmtp_port}\n"
                         f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n")
    crier.write_config(extra=crier.site_config + extra)
    crier.ok("create", "-o", "boss@example.org", fqdn)
    return controller


def set_list_attr(crier, name, value, list_id="ant.example.com"):
    """Sets a list attribute straight in the database (no CLI sets every
    attribute), replacing any value it had."""
    db = sqlite3.connect(crier.data_dir / "mailman.db")
    with db:
        row = db.execute("SELECT id FROM mailinglist WHERE list_id=?", (list_id,)).fetchone()
        db.execute("DELETE FROM list_attr WHERE list=? AND name=?", (row[0], name))
        db.execute("INSERT INTO list_attr (list, name, value) VALUES (?, ?, ?)",
                   (row[0], name, value))
    db.close()


@pytest.fixture
def site(crier):
    controller = start_sink_site(crier)
    crier.ok("addmembers", "-", "ant@example.com", input="\n".join(MEMBERS) + "\n")
    crier.set_attr = lambda name, value: set_list_attr(crier, name, value)

    def post(msg, rcpt="ant@example.com", sender="m1@example.org"):
        with smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10) as c:
            return c.sendmail(sender, [rcpt], msg)
    crier.post = post
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def message(msgid, sender="m1@example.org", to="ant@example.com", subject="hello",
            body="line one\n", extra=""):
    return (f"From: Em One <{sender}>\nTo: {to}\nSubject: {subject}\n"
            f"Message-ID: <{msgid}>\n{extra}\n{body}")


def delivered(site, msgid):
    return sorted(r for t in site.sink.with_text(msgid) for r in t[1])


def db_rows(site, sql, *args):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def test_member_post_reaches_every_member_decorated(site):
    site.ok("start", "-q")
    assert site.post(message("p1@example.org")) == {}
    assert wait_until(lambda: delivered(site, "p1@example.org") == sorted(MEMBERS))
    mail_from, _, raw = site.sink.with_text("p1@example.org")[0]
    assert mail_from == "ant-bounces@example.com"
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "[Ant] hello"
    assert msg["List-Id"] == "<ant.example.com>"
    assert msg["List-Post"] == "<mailto:ant@example.com>"
    assert msg["List-Help"] == "<mailto:ant-request@example.com?subject=help>"
    assert msg["List-Unsubscribe"] == "<mailto:ant-leave@example.com>"
    assert msg["Precedence"] == "list"
    assert msg["X-Mailman-Version"] == "3.3.8"
    assert msg["X-Mailman-Rule-Misses"] == (
        "dmarc-mitigation; no-senders; approved; emergency; loop; banned-address; "
        "member-moderation; nonmember-moderation; administrivia; implicit-dest; "
        "max-recipients; max-size; news-moderation; no-subject; digests; suspicious-header")
    assert msg["X-Mailman-Rule-Hits"] is None
    # Mailman's observed order: the hash headers, then the rule misses,
    # then version, precedence, subject, then the List-* headers.
    keys = [k.lower() for k in msg.keys()]
    assert keys.index("x-mailfrom") < keys.index("x-mailman-rule-misses") < \
        keys.index("x-mailman-version") < keys.index("precedence") < keys.index("subject") < \
        keys.index("list-id") < keys.index("list-help") < keys.index("list-owner") < \
        keys.index("list-post") < keys.index("list-subscribe") < keys.index("list-unsubscribe")
    assert msg.get_payload() == (
        "line one\n_______________________________________________\n"
        "Ant mailing list -- ant@example.com\n"
        "To unsubscribe send an email to ant-leave@example.com\n")
    # after-delivery: the next post gets post_id 2 (shown with a %d prefix)
    site.set_attr("subject_prefix", "[Ant %d] ")
    site.post(message("p2@example.org", subject="Re: [Ant 1] hello"))
    assert wait_until(lambda: len(delivered(site, "p2@example.org")) == 3)
    msg2 = email.message_from_bytes(site.sink.with_text("p2@example.org")[0][2])
    assert msg2["Subject"] == "[Ant 2] Re: hello"
    assert "ACCEPT: <p1@example.org>" in (site.var / "logs" / "mailman.log").read_text()


def test_nonmember_post_is_held_and_notices_sent(site):
    site.ok("start", "-q")
    site.post(message("h1@example.org", sender="stranger@example.org"),
              sender="stranger@example.org")
    # the sender's notice and the moderators' notice arrive; no member copy
    assert wait_until(lambda: len(site.sink.with_text("awaits moderator approval")) == 1)
    assert wait_until(lambda: len(site.sink.with_text("requires approval")) == 1)
    frm, rcpts, raw = site.sink.with_text("awaits moderator approval")[0]
    assert rcpts == ["stranger@example.org"]
    notice = email.message_from_bytes(raw)
    assert notice["Subject"] == "Your message to ant@example.com awaits moderator approval"
    assert notice["From"] == "ant-bounces@example.com"
    assert "The message is not from a list member" in notice.get_payload(decode=True).decode()
    # As in Mailman, the notice goes to the -owner address (the MTA brings
    # it back to the owner chain, which sends it to the owners).
    frm, rcpts, raw = site.sink.with_text("requires approval")[0]
    assert rcpts == ["ant-owner@example.com"]
    owner = email.message_from_bytes(raw)
    assert owner["Subject"] == "ant@example.com post from stranger@example.org requires approval"
    parts = owner.get_payload()
    assert len(parts) == 3
    assert parts[1].get_content_type() == "message/rfc822"
    confirm = parts[2].get_payload()[0]
    assert confirm["Subject"].startswith("confirm ")
    assert len(confirm["Subject"].split()[1]) == 40
    assert delivered(site, "h1@example.org") == ["ant-owner@example.com"]  # only the notice
    rows = db_rows(site, "SELECT key FROM request WHERE type=1")
    assert rows == [("<h1@example.org>",)]
    assert db_rows(site, "SELECT m.role FROM member m JOIN address a ON a.id = m.address "
                         "WHERE a.email='stranger@example.org'") == [(4,)]
    assert "HOLD: ant@example.com post from stranger@example.org held, " \
           "message-id=<h1@example.org>: The message is not from a list member" in \
           (site.var / "logs" / "mailman.log").read_text()


def test_hold_notice_text_is_utf8(site):
    """A notice quoting a non-ASCII subject is UTF-8 and says so."""
    site.ok("start", "-q")
    site.post(message("h8@example.org", sender="stranger@example.org",
                      subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?="), sender="stranger@example.org")
    assert wait_until(lambda: len(site.sink.with_text("awaits moderator approval")) == 1)
    notice = email.message_from_bytes(site.sink.with_text("awaits moderator approval")[0][2])
    assert notice.get_content_charset() == "utf-8"
    assert "Grüße" in notice.get_payload(decode=True).decode("utf-8")


def test_implicit_destination_and_no_subject_hold(site):
    site.ok("start", "-q")
    site.post(message("h2@example.org", to="someone@example.net", subject=""))
    assert wait_until(lambda: len(site.sink.with_text("awaits moderator approval")) == 1)
    text = email.message_from_bytes(site.sink.with_text("awaits moderator approval")[0][2])
    body = text.get_payload(decode=True).decode()
    assert "Message has implicit destination" in body
    assert "Message has no subject" in body
    assert wait_until(lambda: len(site.sink.with_text("requires approval")) == 1)
    held = site.sink.with_text("requires approval")[0][2]
    assert b"X-Mailman-Rule-Hits: implicit-dest; no-subject" in held


def test_approved_header_accepts_nonmember(site):
    site.set_attr("moderator_password", "{plaintext}s3cret")
    site.ok("start", "-q")
    site.post(message("a1@example.org", sender="stranger@example.org",
                      extra="Approved: s3cret\n"), sender="stranger@example.org")
    assert wait_until(lambda: delivered(site, "a1@example.org") == sorted(MEMBERS))
    raw = site.sink.with_text("a1@example.org")[0][2]
    assert b"Approved:" not in raw
    assert b"X-Mailman-Rule-Hits: approved" in raw


def test_wrong_password_is_not_approval(site):
    site.set_attr("moderator_password", "{plaintext}s3cret")
    site.ok("start", "-q")
    site.post(message("a2@example.org", sender="stranger@example.org",
                      extra="Approved: guess\n"), sender="stranger@example.org")
    # Two notices, sent separately: wait for both.
    assert wait_until(lambda: len(site.sink.with_text("awaits moderator approval")) == 1
                      and site.sink.with_text("requires approval"))
    assert b"Approved: guess" not in site.sink.with_text("requires approval")[0][2]


def test_loop_and_banned_are_discarded(site):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute("INSERT INTO ban (list, email) SELECT id, 'm2@example.org' FROM mailinglist")
    db.close()
    site.ok("start", "-q")
    site.post(message("l1@example.org", extra="List-Post: ant@example.com\n"))
    site.post(message("b1@example.org", sender="m2@example.org"), sender="m2@example.org")
    site.post(message("ok1@example.org"))
    assert wait_until(lambda: len(delivered(site, "ok1@example.org")) == 3)
    time.sleep(0.5)
    assert delivered(site, "l1@example.org") == []
    assert delivered(site, "b1@example.org") == []
    vette = (site.var / "logs" / "mailman.log").read_text()
    assert "DISCARD: <l1@example.org>" in vette
    assert "DISCARD: <b1@example.org>" in vette


def test_moderated_member_reject_notice(site):
    site.set_attr("default_member_action", "reject")
    site.ok("start", "-q")
    site.post(message("r1@example.org", subject="my post"))
    assert wait_until(lambda: len(site.sink.with_text("was rejected")) == 1)
    frm, rcpts, raw = site.sink.with_text("was rejected")[0]
    assert rcpts == ["m1@example.org"]
    notice = email.message_from_bytes(raw)
    assert notice["Subject"] == "my post"
    assert notice["From"] == "ant-owner@example.com"
    assert "Your message to the Ant mailing-list was rejected" in \
        notice.get_payload()[0].get_payload(decode=True).decode()
    assert "The message comes from a moderated member" in \
        notice.get_payload()[0].get_payload(decode=True).decode()
    assert not [t for t in site.sink.transactions if "m2@example.org" in t[1]]


def test_owner_mail_goes_to_owners_verped_and_undecorated(site):
    site.ok("start", "-q")
    site.post(message("o1@example.org", to="ant-owner@example.com", subject="for the boss"),
              rcpt="ant-owner@example.com")
    assert wait_until(lambda: delivered(site, "o1@example.org") == ["boss@example.org"])
    frm, _, raw = site.sink.with_text("o1@example.org")[0]
    assert frm == "ant-bounces+boss=example.org@example.com"
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "for the boss"
    assert msg["List-Id"] is None
    assert b"mailing list --" not in raw


def test_reply_to_point_to_list_and_avoid_duplicates(site):
    site.set_attr("reply_goes_to_list", "point_to_list")
    site.ok("start", "-q")
    # m2 is named in Cc and keeps receive_list_copy (the default): one copy
    site.post(message("d1@example.org", extra="Cc: Two <m2@example.org>\n"
                                             "Reply-To: m1@example.org\n"))
    assert wait_until(lambda: len(delivered(site, "d1@example.org")) == 3)
    msg = email.message_from_bytes(site.sink.with_text("d1@example.org")[0][2])
    assert msg["Reply-To"] == "m1@example.org, ant@example.com"
    assert msg["CC"] == "Two <m2@example.org>"
    keys = [k for k in msg.keys()]
    assert keys.index("CC") > keys.index("X-Mailman-Rule-Misses")


def test_multipart_alternative_is_wrapped_with_footer(site):
    site.ok("start", "-q")
    body = ("--b\nContent-Type: text/plain\n\nplain\n--b\nContent-Type: text/html\n\n"
            "<p>html</p>\n--b--\n")
    site.post(message("mp1@example.org", body=body,
                      extra='MIME-Version: 1.0\nContent-Type: multipart/alternative; '
                            'boundary="b"\n'))
    assert wait_until(lambda: len(delivered(site, "mp1@example.org")) == 3)
    msg = email.message_from_bytes(site.sink.with_text("mp1@example.org")[0][2])
    assert msg.get_content_type() == "multipart/mixed"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "multipart/alternative"
    assert "Ant mailing list -- ant@example.com" in parts[-1].get_payload(decode=True).decode()
    assert msg["Subject"] == "[Ant] hello"


def held_ids(site):
    out = site.ok("held", "ant@example.com").stdout
    return [int(line.split("\t")[0]) for line in out.splitlines() if "\t" in line]


def test_moderator_accepts_rejects_discards_held_posts(site):
    site.ok("start", "-q")
    for n in (1, 2, 3):
        site.post(message(f"mod{n}@example.org", sender="stranger@example.org",
                          subject=f"held {n}"), sender="stranger@example.org")
    assert wait_until(lambda: len(held_ids(site)) == 3)
    listing = site.ok("held", "ant@example.com").stdout
    assert "\tstranger@example.org\t<mod1@example.org>\theld 1\t" \
           "The message is not from a list member" in listing
    shown = site.ok("held", "-v", "ant@example.com").stdout
    assert "Message-ID: <mod2@example.org>" in shown
    ids = held_ids(site)
    site.ok("held", "--accept", str(ids[0]), "ant@example.com")
    site.ok("held", "--reject", str(ids[1]), "--reason", "off topic", "ant@example.com")
    site.ok("held", "--discard", str(ids[2]), "ant@example.com")
    # accepted: reaches the members, approved, without running the rules again
    # (the moderator notice carries the post too: count member copies only)
    assert wait_until(lambda: [r for r in delivered(site, "mod1@example.org")
                               if r in MEMBERS] == sorted(MEMBERS))
    raw = [t[2] for t in site.sink.with_text("mod1@example.org") if "m1@example.org" in t[1]][0]
    msg = email.message_from_bytes(raw)
    assert msg["X-Mailman-Approved-At"]
    assert msg["Subject"] == "[Ant] held 1"
    # rejected: the sender is told why
    assert wait_until(lambda: len(site.sink.with_text("rejected by the list moderator")) == 1)
    frm, rcpts, raw = site.sink.with_text("rejected by the list moderator")[0]
    notice = email.message_from_bytes(raw)
    assert rcpts == ["stranger@example.org"]
    assert notice["Subject"] == 'Request to mailing list "Ant" rejected'
    body = notice.get_payload(decode=True).decode()
    assert 'Posting of your message titled "held 2"' in body and '"off topic"' in body
    # everything decided is gone; nothing else is delivered
    assert held_ids(site) == []
    assert site.run("held", "--accept", str(ids[2]), "ant@example.com").returncode == 1
    time.sleep(0.5)
    assert [r for t in site.sink.with_text("mod3@example.org") for r in t[1]
            if r in MEMBERS] == []
    assert db_rows(site, "SELECT count(*) FROM message") == [(0,)]


def test_held_verb_errors(site):
    r = site.run("held", "--accept", "x", "ant@example.com")
    assert r.returncode == 2 and "is not a request id" in r.stderr
    r = site.run("held", "nosuch@example.com")
    assert r.returncode != 0
    assert site.ok("held", "ant@example.com").stdout == "ant.example.com has no held messages\n"


MIXED = ('--b\nContent-Type: text/plain\n\nhello\n'
         '--b\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename="x.jpg"\n'
         'Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n'
         '--b\nContent-Type: application/octet-stream; name="run.exe"\n'
         'Content-Transfer-Encoding: base64\n\nTVqQ\n--b--\n')
MIXED_HDR = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'


def test_content_filtering_removes_parts(site):
    site.set_attr("filter_content", "true")
    site.set_attr("filter_types", "image/jpeg")
    site.set_attr("filter_extensions", "exe")
    site.ok("start", "-q")
    site.post(message("f1@example.org", body=MIXED, extra=MIXED_HDR))
    assert wait_until(lambda: len(delivered(site, "f1@example.org")) == 3)
    raw = site.sink.with_text("f1@example.org")[0][2]
    msg = email.message_from_bytes(raw)
    assert msg["X-Content-Filtered-By"] == "Mailman/MimeDel 3.3.8"
    types = [p.get_content_type() for p in msg.walk()]
    assert "image/jpeg" not in types and "application/octet-stream" not in types
    assert b"hello" in raw


def test_content_filtering_collapses_alternatives(site):
    site.set_attr("filter_content", "true")
    site.ok("start", "-q")
    body = ("--b\nContent-Type: text/plain\n\nplain words\n--b\nContent-Type: text/html\n\n"
            "<p>html words</p>\n--b--\n")
    site.post(message("f2@example.org", body=body,
                      extra='MIME-Version: 1.0\nContent-Type: multipart/alternative; '
                            'boundary="b"\n'))
    assert wait_until(lambda: len(delivered(site, "f2@example.org")) == 3)
    raw = site.sink.with_text("f2@example.org")[0][2]
    assert b"html words" not in raw and b"plain words" in raw
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "text/plain"
    assert "Ant mailing list -- ant@example.com" in msg.get_payload(decode=True).decode()


@pytest.mark.parametrize("action", ["discard", "reject", "forward"])
def test_content_filtering_empties_the_post(site, action):
    site.set_attr("filter_content", "true")
    site.set_attr("pass_types", "text/plain\nmultipart")
    site.set_attr("filter_action", action)
    site.ok("start", "-q")
    site.post(message("f3@example.org", body="<p>only html</p>\n",
                      extra="MIME-Version: 1.0\nContent-Type: text/html\n"))
    site.post(message("f4@example.org"))  # a later post still flows
    assert wait_until(lambda: len(delivered(site, "f4@example.org")) == 3)
    if action == "reject":
        assert wait_until(lambda: len(site.sink.with_text("f3@example.org")) == 1)
        frm, rcpts, raw = site.sink.with_text("f3@example.org")[0]
        assert rcpts == ["m1@example.org"]
        assert b"The message's content type was not explicitly allowed" in raw
    elif action == "forward":
        assert wait_until(lambda: len(site.sink.with_text("f3@example.org")) == 1)
        frm, rcpts, raw = site.sink.with_text("f3@example.org")[0]
        assert rcpts == ["boss@example.org"]
        assert b"Content filter message notification" in raw
    else:
        time.sleep(0.5)
        assert site.sink.with_text("f3@example.org") == []
    log = (site.var / "logs" / "mailman.log").read_text()
    assert 'by "default-posting-pipeline" pipeline handler "mime-delete"' in log


def test_acknowledge_and_receive_own_postings(site):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        # m1 wants acknowledgments and not their own posts
        db.execute("UPDATE member SET p_ack = 1, p_rop = 0 WHERE address = "
                   "(SELECT id FROM address WHERE email = 'm1@example.org')")
    db.close()
    site.ok("start", "-q")
    site.post(message("ack1@example.org", subject="news"))
    assert wait_until(lambda: len(site.sink.with_text("post acknowledgment")) == 1)
    frm, rcpts, raw = site.sink.with_text("post acknowledgment")[0]
    assert rcpts == ["m1@example.org"] and frm == "ant-bounces@example.com"
    ack = email.message_from_bytes(raw)
    assert ack["Subject"] == "Ant post acknowledgment"
    assert "was successfully received by the Ant mailing list." in \
        ack.get_payload(decode=True).decode()
    assert "[Ant] news" in ack.get_payload(decode=True).decode()
    assert wait_until(lambda: delivered(site, "ack1@example.org") ==
                      ["m2@example.org", "m3@example.net"])


def test_archive_and_digest_queues(site):
    site.set_attr("digest_size_threshold", "1")  # 1 KB: the second post rotates
    # the digest runner stays off so that the rotated mailbox can be read
    # (test_digest.py sends digests)
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "[runner.digest]\nstart: no\n")
    site.ok("start", "-q")
    site.post(message("ar1@example.org"))
    site.post(message("ar2@example.org", extra="X-No-Archive: yes\n"))
    assert wait_until(lambda: len(delivered(site, "ar2@example.org")) == 3)
    lists = site.var / "lists" / "ant.example.com"
    assert wait_until(lambda: list(lists.glob("digest.1.1.mmdf")))
    mmdf = (lists / "digest.1.1.mmdf").read_bytes()
    assert mmdf.count(b"\x01\x01\x01\x01\n") == 4 and b"<ar1@example.org>" in mmdf
    digest = list((site.var / "queue" / "digest").glob("*.pck"))
    assert len(digest) == 1
    info = site.ok("qfile", str(digest[0])).stdout
    assert "digest.1.1.mmdf" in info
    # no archiver is enabled by default: the archive runner consumes the copy
    assert wait_until(lambda: list((site.var / "queue" / "archive").glob("*")) == [])


def test_prototype_archiver(site):
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "[archiver.prototype]\nenable: yes\n"
                            "[archiver.mhonarc]\nenable: yes\n")
    site.ok("start", "-q")
    site.post(message("ar3@example.org"))
    box = site.var / "archives" / "prototype" / "ant@example.com" / "new"
    assert wait_until(lambda: len(list(box.glob("*"))) == 1)
    assert b"<ar3@example.org>" in next(box.glob("*")).read_bytes()
    log = (site.var / "logs" / "mailman.log").read_text()
    assert "[archiver.mhonarc] (mailman.archiving.mhonarc.MHonArc) is enabled but crier " \
           "cannot run that archiver" in log


def test_header_matches_list_and_antispam(site):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute("INSERT INTO header_match (list, position, header, pattern, chain) "
                   "SELECT id, 0, 'x-virus', 'infected', 'discard' FROM mailinglist")
    db.close()
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "[antispam]\nheader_checks:\n    X-Spam: yes\n")
    site.ok("start", "-q")
    # a list header match in a MIME part (not the top): discarded
    part = ('--b\nContent-Type: text/plain\nX-Virus: =?utf-8?q?INFECTED?=\n\nhi\n--b--\n')
    site.post(message("hm1@example.org", body=part,
                      extra='MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'))
    # the site's antispam check: held ([antispam] jump_chain)
    site.post(message("hm2@example.org", extra="X-Spam: YES\n"))
    site.post(message("hm3@example.org"))
    assert wait_until(lambda: len(delivered(site, "hm3@example.org")) == 3)
    assert wait_until(lambda: len(site.sink.with_text("awaits moderator approval")) == 1)
    assert wait_until(lambda: len(site.sink.with_text("requires approval")) == 1)
    held = site.sink.with_text("requires approval")[0][2]
    assert b"X-Mailman-Rule-Hits: header-match-config-1" in held
    assert b'Header "X-Spam" matched a header rule' in held
    time.sleep(0.3)
    assert [r for r in delivered(site, "hm1@example.org") if r in MEMBERS] == []
    msg = email.message_from_bytes(site.sink.with_text("hm3@example.org")[0][2])
    assert "header-match-config-1; header-match-ant.example.com-0" in msg["X-Mailman-Rule-Misses"]


def test_html_to_plaintext_and_dkim_headers_removed(site):
    site.set_attr("filter_content", "true")
    site.set_attr("collapse_alternatives", "false")
    site.set_attr("convert_html_to_plaintext", "true")
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "remove_dkim_headers: yes\n"
                            "[mailman]\nhtml_to_plain_text_command: /bin/sed -e s/<[^>]*>//g "
                            "$filename\n")
    site.ok("start", "-q")
    site.post(message("html1@example.org", body="<p>Hello <b>world</b></p>\n",
                      extra="MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
                            "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; b=abc\n"
                            "Authentication-Results: mx.example.org; dkim=pass\n"))
    assert wait_until(lambda: len(delivered(site, "html1@example.org")) == 3)
    raw = site.sink.with_text("html1@example.org")[0][2]
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "text/plain"
    assert "Hello world" in msg.get_payload(decode=True).decode()
    assert msg["X-Content-Filtered-By"] == "Mailman/MimeDel 3.3.8"
    assert msg["DKIM-Signature"] is None and msg["Authentication-Results"] is None


def test_personalized_delivery_full(site):
    site.set_attr("personalize", "full")
    tdir = site.var / "templates" / "lists" / "ant.example.com" / "en"
    tdir.mkdir(parents=True)
    (tdir / "list:member:regular:footer.txt").write_text(
        "-- \nSent to $user_email ($user_name_or_address) by $display_name\n")
    site.ok("start", "-q")
    site.post(message("pz1@example.org", extra="Cc: m2@example.org\n"))
    assert wait_until(lambda: len(site.sink.with_text("pz1@example.org")) == 3)
    by_rcpt = {t[1][0]: email.message_from_bytes(t[2]) for t in
               site.sink.with_text("pz1@example.org")}
    assert sorted(by_rcpt) == sorted(MEMBERS)  # one transaction each
    for rcpt, msg in by_rcpt.items():
        assert msg["To"] == rcpt
        assert f"Sent to {rcpt} ({rcpt}) by Ant" in msg.get_payload(decode=True).decode()
    # m2 is named in Cc: its copy is flagged, the others are not
    assert by_rcpt["m2@example.org"]["X-Mailman-Copy"] == "yes"
    assert by_rcpt["m3@example.net"]["X-Mailman-Copy"] is None
    # full personalization puts the list in Cc (cook-headers)
    assert "ant@example.com" in by_rcpt["m3@example.net"]["Cc"]


def test_bulk_delivery_decorated_once(site):
    tdir = site.var / "templates" / "site" / "en"
    tdir.mkdir(parents=True)
    (tdir / "list:member:regular:header.txt").write_text("Header for $display_name\n")
    site.ok("start", "-q")
    site.post(message("bk1@example.org"))
    assert wait_until(lambda: len(delivered(site, "bk1@example.org")) == 3)
    assert len(site.sink.with_text("bk1@example.org")) == 1  # one bulk transaction
    body = email.message_from_bytes(site.sink.with_text("bk1@example.org")[0][2]).get_payload()
    assert body.startswith("Header for Ant\nline one\n")
    assert body.count("mailing list -- ant@example.com") == 1


def test_hold_notices_obey_the_daily_limit(site):
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "max_autoresponses_per_day: 2\n")
    site.ok("start", "-q")
    for n in range(4):
        site.post(message(f"lim{n}@example.org", sender="stranger@example.org"),
                  sender="stranger@example.org")
    assert wait_until(lambda: len(held_ids(site)) == 4)
    assert wait_until(lambda: len(site.sink.with_text("Last autoresponse notification")) == 1)
    time.sleep(0.5)
    to_sender = [t for t in site.sink.transactions if t[1] == ["stranger@example.org"]]
    assert len([t for t in to_sender if b"awaits moderator approval" in t[2]]) == 2
    assert len(to_sender) == 3


def test_autorespond_postings_respond_and_discard(site):
    site.set_attr("autorespond_postings", "respond_and_discard")
    site.set_attr("autoresponse_postings_text", "We are closed for the holidays.")
    site.ok("start", "-q")
    site.post(message("ar9@example.org"))
    site.post(message("ar10@example.org", extra="X-Ack: no\n"))
    assert wait_until(lambda: len(site.sink.with_text("closed for the holidays")) == 1)
    frm, rcpts, raw = site.sink.with_text("closed for the holidays")[0]
    reply = email.message_from_bytes(raw)
    assert rcpts == ["m1@example.org"]
    assert reply["Subject"] == 'Auto-response for your message to the "Ant" mailing list'
    assert reply["X-Mailer"] == "The Mailman Replybot"
    time.sleep(0.5)
    assert delivered(site, "ar9@example.org") == []
    assert delivered(site, "ar10@example.org") == []
    assert "<ar9@example.org> list post replied and discarded" in \
        (site.var / "logs" / "mailman.log").read_text()


def test_task_runner_removes_orphaned_requests_and_messages(site):
    site.write_config(extra=f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {site.lmtp_port}\n"
                            f"smtp_host: 127.0.0.1\nsmtp_port: {site.smtp_port}\n"
                            "[runner.task]\nsleep_time: 0.3s\n")
    site.ok("start", "-q")
    site.post(message("or1@example.org", sender="stranger@example.org"),
              sender="stranger@example.org")
    site.post(message("or2@example.org", sender="stranger@example.org"),
              sender="stranger@example.org")
    assert wait_until(lambda: len(held_ids(site)) == 2)
    files = [p for p in (site.var / "messages").rglob("*") if p.is_file()]
    assert len(files) == 2
    # the data of the first held post is gone (as when it expires)
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM pended WHERE id IN (SELECT pended FROM pended_kv WHERE "
                   "key = '_mod_message_id' AND value = '<or1@example.org>')")
    db.close()
    assert wait_until(lambda: len(held_ids(site)) == 1)
    assert wait_until(lambda: len([p for p in (site.var / "messages").rglob("*")
                                   if p.is_file()]) == 1)
    assert db_rows(site, "SELECT message_id FROM message") == [("<or2@example.org>",)]
    assert "Task runner deleted 1 orphaned requests" in \
        (site.var / "logs" / "mailman.log").read_text()
