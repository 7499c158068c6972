"""The bounce runner: VERP and RFC 3464 DSNs become bounce events;
unrecognised bounces are forwarded per forward_unrecognized_bounces_to
(reference §5, §12 items 40-41)."""
import smtplib
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import free_port

DSN = (Path(__file__).resolve().parents[1] / "unit" / "data" / "bounce" /
       "postfix-dsn.eml").read_bytes()


@pytest.fixture
def bouncing(crier):
    port = free_port()
    crier.lmtp_port = port
    crier.write_config(extra=f"""\
        [runner.rest]
        start: no
        [runner.virgin]
        start: no
        [mta]
        lmtp_port: {port}
        """)
    crier.ok("create", "-o", "owner@example.com", "ant@example.com")
    crier.ok("addmembers", "-", "ant@example.com", input="bob@example.org\ncarol@example.org\n")
    crier.ok("start", "-q")
    yield crier
    crier.run("stop", "-q")


def send(crier, rcpt, msg):
    c = smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10)
    c.ehlo_or_helo_if_needed = lambda: None
    c.docmd("LHLO", "x")
    assert c.sendmail("", [rcpt], msg) == {}
    c.quit()


def events(crier):
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    try:
        return db.execute("SELECT list_id, email, context FROM bounce_event ORDER BY id").fetchall()
    finally:
        db.close()


def wait_until(pred, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


FAILED_ONLY = DSN.replace(b"Final-Recipient: rfc822; carol@example.org\r\nAction: delayed\r\n"
                          b"Status: 4.4.1\r\n\r\n", b"")


def test_verp_dsn_registers_event(bouncing):
    assert FAILED_ONLY != DSN
    send(bouncing, "ant-bounces+bob=example.org@example.com", FAILED_ONLY)
    assert wait_until(lambda: events(bouncing) == [("ant.example.com", "bob@example.org", 1)])
    log = (bouncing.var / "logs" / "bounce.log").read_text()
    assert "ant.example.com: bob@example.org bounce registered" in log
    # Processed: the entry left the queue.
    assert wait_until(lambda: not list((bouncing.var / "queue" / "bounces").glob("*.pck")))


def test_verp_with_delayed_recipient_is_dropped(bouncing):
    # Mailman: a VERP'd bounce whose DSN reports any delay is not counted.
    send(bouncing, "ant-bounces+bob=example.org@example.com", DSN)
    assert wait_until(lambda: not list((bouncing.var / "queue" / "bounces").glob("*.pck")))
    time.sleep(0.2)
    assert events(bouncing) == []


def test_plain_dsn_registers_permanent_only(bouncing):
    # To the bare -bounces address: no VERP, the DSN names bob (failed) and
    # carol (delayed); only the permanent failure counts.
    send(bouncing, "ant-bounces@example.com", DSN.replace(b"+bob=example.org", b""))
    assert wait_until(lambda: events(bouncing) == [("ant.example.com", "bob@example.org", 1)])


def test_unrecognised_bounce_forwarded_to_admins(bouncing):
    msg = (b"From: postmaster@example.org\r\nTo: ant-bounces@example.com\r\n"
           b"Subject: something odd\r\nMessage-ID: <odd@example.org>\r\n\r\nno idea\r\n")
    send(bouncing, "ant-bounces@example.com", msg)
    virgin = bouncing.var / "queue" / "virgin"
    assert wait_until(lambda: len(list(virgin.glob("*.pck"))) == 1)
    out = bouncing.ok("qfile", str(next(virgin.glob("*.pck")))).stdout
    assert "Subject: Uncaught bounce notification" in out
    assert "To: ant-owner@example.com" in out
    assert "From: owner@example.net" in out
    assert "'recipients': 'owner@example.com'" in out
    assert "Content-Type: message/rfc822" in out and "Subject: something odd" in out
    assert events(bouncing) == []


def test_discard_disposition_and_process_bounces(crier):
    import sqlite3 as _s
    port = free_port()
    crier.lmtp_port = port
    crier.write_config(extra=f"[runner.rest]\nstart: no\n[runner.virgin]\nstart: no\n"
                             f"[mta]\nlmtp_port: {port}\n")
    crier.ok("create", "ant@example.com")
    crier.ok("start", "-q")
    try:
        # No owners: the notice goes to the site owner.
        msg = b"From: x@example.org\r\nSubject: odd\r\nMessage-ID: <o2@x>\r\n\r\n?\r\n"
        send(crier, "ant-bounces@example.com", msg)
        virgin = crier.var / "queue" / "virgin"
        assert wait_until(lambda: len(list(virgin.glob("*.pck"))) == 1)
        out = crier.ok("qfile", str(next(virgin.glob("*.pck")))).stdout
        assert "'recipients': 'owner@example.net'" in out
    finally:
        crier.run("stop", "-q")


@pytest.fixture
def scoring(crier):
    port = free_port()
    crier.lmtp_port = port
    crier.write_config(extra=f"""\
        [runner.rest]
        start: no
        [runner.virgin]
        start: no
        [mta]
        lmtp_port: {port}
        [runner.bounces]
        sleep_time: 0.2s
        """)
    crier.ok("create", "ant@example.com")
    crier.ok("addmembers", "-", "ant@example.com",
             input="bob@example.org\ncarol@example.org\ndave@example.org\n")
    yield crier
    crier.run("stop", "-q")


def add_events(crier, email, days_ago):
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    now = time.time()
    for d in days_ago:
        db.execute("INSERT INTO bounce_event (list_id, email, timestamp, message_id, context)"
                   " VALUES ('ant.example.com', ?, ?, '<x>', 1)",
                   (email, int((now - d * 86400) * 1e6)))
    db.commit()
    db.close()


def score(crier, email):
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    try:
        row = db.execute("SELECT m.bounce_score FROM member m JOIN address a ON a.id = m.address"
                         " WHERE a.email = ?", (email,)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def unprocessed(crier):
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    try:
        return db.execute("SELECT count(*) FROM bounce_event WHERE processed = 0").fetchone()[0]
    finally:
        db.close()


def test_scoring(scoring):
    # bob: five bounces on five days within the week → disabled by bounces.
    add_events(scoring, "bob@example.org", [5, 4, 3, 2, 1])
    # carol: two on the same day count once.
    add_events(scoring, "carol@example.org", [1.0, 1.0])
    # dave: the first bounce is stale (older than 7d) → the score starts again.
    add_events(scoring, "dave@example.org", [20, 1])
    # a non-member's bounce is just marked processed.
    add_events(scoring, "zed@example.org", [1])
    scoring.ok("start", "-q")
    assert wait_until(lambda: unprocessed(scoring) == 0)
    assert score(scoring, "bob@example.org") == 5
    assert score(scoring, "carol@example.org") == 1
    assert score(scoring, "dave@example.org") == 1
    assert scoring.ok("members", "-n", "bybounces", "ant@example.com").stdout == \
        "bob@example.org\n"
    assert scoring.ok("members", "-n", "enabled", "ant@example.com").stdout == \
        "carol@example.org\ndave@example.org\n"
    log = (scoring.var / "logs" / "bounce.log").read_text()
    assert "Disabling delivery for member bob@example.org on list ant.example.com." in log


def virgin_subjects(crier):
    out = []
    for e in sorted((crier.var / "queue" / "virgin").glob("*.pck")):
        text = crier.ok("qfile", str(e)).stdout
        subj = next((l[9:] for l in text.splitlines() if l.startswith("Subject: ")), None)
        rcpt = text.split("'recipients': '")[1].split("'")[0] if "'recipients'" in text else None
        out.append((subj, rcpt))
    return out


def test_warning_then_removal(scoring):
    scoring.ok("create", "-o", "owner@example.com", "bee@example.com")
    scoring.ok("addmembers", "-", "bee@example.com", input="bob@example.org\n")
    db = sqlite3.connect(scoring.var / "data" / "mailman.db")
    now = time.time()
    for d in [5, 4, 3, 2, 1]:
        db.execute("INSERT INTO bounce_event (list_id, email, timestamp, message_id, context)"
                   " VALUES ('bee.example.com', 'bob@example.org', ?, '<x>', 1)",
                   (int((now - d * 86400) * 1e6),))
    db.commit()
    scoring.ok("start", "-q")
    warning = ("Your subscription for Bee mailing list has been disabled", "bob@example.org")
    assert wait_until(lambda: warning in virgin_subjects(scoring))
    # One warning per interval (7 days by default), not one per tick.
    time.sleep(0.6)
    assert virgin_subjects(scoring).count(warning) == 1
    # All warnings sent, the last one long ago: the member is removed.
    db.execute("UPDATE member SET total_warnings_sent = 3, last_warning_sent = ?"
               " WHERE list = (SELECT id FROM mailinglist WHERE list_id = 'bee.example.com')",
               (int((now - 30 * 86400) * 1e6),))
    db.commit()
    db.close()
    assert wait_until(lambda: scoring.ok("members", "bee@example.com").stdout ==
                      "bee.example.com has no members\n")
    removal = ("bob@example.org unsubscribed from Bee mailing list due to bounces",
               "owner@example.com")
    assert wait_until(lambda: removal in virgin_subjects(scoring))
    log = (scoring.var / "logs" / "bounce.log").read_text()
    assert "Removed bob@example.org as a member of Bee mailing list due to excessive bounces" \
        in log


@pytest.mark.parametrize("sample,who", [("exim.eml", "dave@exim.example.org"),
                                        ("postfix-plain.eml", "gone@example.net")])
def test_non_dsn_bounce_formats_register_events(bouncing, sample, who):
    data = (Path(__file__).parent.parent / "unit" / "data" / "bounce" / sample).read_bytes()
    send(bouncing, "ant-bounces@example.com", data.replace(b"\n", b"\r\n"))
    assert wait_until(lambda: ("ant.example.com", who, 1) in events(bouncing))
    assert "Uncaught bounce" not in (bouncing.var / "logs" / "bounce.log").read_text()


def test_owner_notices_on_disable_and_increment(scoring):
    db = sqlite3.connect(scoring.var / "data" / "mailman.db")
    with db:
        row = db.execute("SELECT id FROM mailinglist WHERE list_id='ant.example.com'").fetchone()
        db.execute("INSERT INTO list_attr (list, name, value) VALUES "
                   "(?, 'bounce_notify_owner_on_bounce_increment', 'true')", (row[0],))
    db.close()
    add_events(scoring, "bob@example.org", [5, 4, 3, 2, 1])
    scoring.ok("start", "-q")
    assert wait_until(lambda: unprocessed(scoring) == 0)
    assert wait_until(lambda: len(virgin_subjects(scoring)) >= 6), virgin_subjects(scoring)
    subjects = [s for s, _ in virgin_subjects(scoring)]
    # four increments below the threshold, then (no probes) the fifth, and
    # the disable notice (bounce_notify_owner_on_disable is on by default)
    assert subjects.count("bob@example.org's bounce score incremented on Ant") == 5
    assert subjects.count("bob@example.org's subscription disabled on Ant") == 1
    texts = [scoring.ok("qfile", str(e)).stdout
             for e in (scoring.var / "queue" / "virgin").glob("*.pck")]
    assert any("bob@example.org's subscription has been disabled on ant@example.com due to "
               "their bounce score" in t and "'recipients': 'owner@example.net'" in t
               for t in texts)
    assert any("bob@example.org's bounce score on ant@example.com has been incremented." in t
               for t in texts)


def test_probe_instead_of_disabling_then_probe_bounce_disables(scoring):
    scoring.write_config(extra=f"[runner.rest]\nstart: no\n[runner.virgin]\nstart: no\n"
                         f"[mta]\nlmtp_port: {scoring.lmtp_port}\nverp_probes: yes\n"
                         f"[runner.bounces]\nsleep_time: 0.2s\n")
    add_events(scoring, "bob@example.org", [5, 4, 3, 2, 1])
    scoring.ok("start", "-q")
    assert wait_until(lambda: unprocessed(scoring) == 0)
    assert wait_until(lambda: len(virgin_subjects(scoring)) == 1)
    entry = next((scoring.var / "queue" / "virgin").glob("*.pck"))
    text = scoring.ok("qfile", str(entry)).stdout
    assert "Subject: Ant mailing list probe message" in text
    assert "This is a probe message." in text and "Precedence:" not in text
    sender = text.split("'sender': '")[1].split("'")[0]
    assert sender.startswith("ant-bounces+") and sender.endswith("@example.com")
    # not disabled yet, score reset
    assert scoring.ok("members", "-n", "bybounces", "ant@example.com").stdout == ""
    assert score(scoring, "bob@example.org") == 0
    # the probe bounces: delivery is disabled
    bounce = (f"From: MAILER-DAEMON@example.org\r\nTo: {sender}\r\n"
              f"Subject: Undelivered\r\nMessage-ID: <pb@example.org>\r\n\r\ngone\r\n").encode()
    send(scoring, sender, bounce)
    assert wait_until(lambda: scoring.ok("members", "-n", "bybounces", "ant@example.com").stdout
                      == "bob@example.org\n")
    assert "Probe bounced for bob@example.org on list ant.example.com" in \
        (scoring.var / "logs" / "bounce.log").read_text()


def test_dsn_with_ten_thousand_recipients(bouncing):
    blocks = "".join(f"Final-Recipient: rfc822; u{i}@example.net\r\nAction: failed\r\n"
                     f"Status: 5.1.1\r\n\r\n" for i in range(10000))
    dsn = ("From: MAILER-DAEMON@example.net\r\nTo: ant-bounces@example.com\r\n"
           "Subject: Undelivered\r\nMessage-ID: <big@example.net>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
           "--B\r\nContent-Type: text/plain\r\n\r\nlots\r\n"
           "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
           "Reporting-MTA: dns; example.net\r\n\r\n" + blocks + "--B--\r\n").encode()
    assert len(dsn) > 500_000
    t0 = time.monotonic()
    send(bouncing, "ant-bounces@example.com", dsn)
    bounces = bouncing.var / "queue" / "bounces"
    assert wait_until(lambda: not list(bounces.glob("*.pck")) and not list(bounces.glob("*.bak")),
                      timeout=60)
    assert wait_until(lambda: len(events(bouncing)) == 10000, timeout=30)
    assert time.monotonic() - t0 < 60
    # nothing was shunted, and the runner still serves
    assert not list((bouncing.var / "queue" / "shunt").glob("*.pck"))
    send(bouncing, "ant-bounces+bob=example.org@example.com", FAILED_ONLY)
    assert wait_until(lambda: ("ant.example.com", "bob@example.org", 1) in events(bouncing))
