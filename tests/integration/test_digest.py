"""Digests end to end (reference §6.5 to-digest, Mailman's DigestRunner):
posts over LMTP go to regular members at once and, past the list's
digest_size_threshold, as a MIME digest to MIME-digest members and an
RFC 1153 digest to plain-digest members, at an aiosmtpd sink."""
import email
import smtplib
import sqlite3

import pytest

from test_posting import set_list_attr, start_sink_site, wait_until


def received(sink, rcpt):
    return [email.message_from_bytes(t[2]) for t in sink.transactions if rcpt in t[1]]


@pytest.fixture
def site(crier):
    controller = start_sink_site(crier)
    crier.ok("addmembers", "-", "ant@example.com", input="reg@example.org\n")
    crier.ok("addmembers", "-d", "mime", "-", "ant@example.com", input="mime@example.org\n")
    crier.ok("addmembers", "-d", "plain", "-", "ant@example.com", input="Plain@Example.org\n")
    crier.threshold = lambda kb: set_threshold(crier, kb)
    crier.threshold(0.001)
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def set_threshold(site, kb):
    set_list_attr(site, "digest_size_threshold", str(kb))


def post(site, n, subject=None):
    msg = (f"From: Poster Person <reg@example.org>\nTo: ant@example.com\n"
           f"Subject: {subject or f'topic number {n}'}\nMessage-ID: <d{n}@example.org>\n"
           f"Date: Tue, 01 Dec 2026 10:0{n}:00 +0000\n"
           f"X-Secret: not-in-plain\n\nbody of post {n}\n")
    with smtplib.LMTP("127.0.0.1", site.lmtp_port, timeout=10) as c:
        assert c.sendmail("reg@example.org", ["ant@example.com"], msg) == {}


def test_digests_reach_digest_members(site):
    site.ok("start", "-q")
    for n in (1, 2, 3):
        post(site, n)
        # one at a time: each post is over the tiny threshold, so each
        # makes a digest of its own
        assert wait_until(lambda: len(received(site.sink, "mime@example.org")) == n and
                          len(received(site.sink, "Plain@Example.org")) == n)
    assert wait_until(lambda: len(received(site.sink, "reg@example.org")) == 3)
    regular = received(site.sink, "reg@example.org")
    assert sorted(m["Message-ID"] for m in regular) == [
        "<d1@example.org>", "<d2@example.org>", "<d3@example.org>"]
    # no one gets both a regular copy and a digest
    for t in site.sink.transactions:
        assert len(t[1]) == 1

    mimes = received(site.sink, "mime@example.org")
    plains = received(site.sink, "Plain@Example.org")
    assert sorted(m["Subject"] for m in mimes) == [
        "Ant Digest, Vol 1, Issue 1", "Ant Digest, Vol 1, Issue 2", "Ant Digest, Vol 1, Issue 3"]
    assert sorted(m["Subject"] for m in plains) == sorted(m["Subject"] for m in mimes)

    for m in mimes + plains:
        assert m["From"] == "ant-request@example.com"
        assert m["To"] == "ant@example.com"
        assert m["Reply-To"] == "ant@example.com"
        assert m["Date"] and m["Message-ID"]
        # as Mailman, digests carry the full RFC 2369 set, List-Post too
        assert m["List-Id"] == "<ant.example.com>"
        assert m["List-Post"] == "<mailto:ant@example.com>"

    mime = next(m for m in mimes if m["Subject"].endswith("Issue 2"))
    assert mime.get_content_type() == "multipart/mixed"
    parts = mime.get_payload()
    masthead, toc, digest, footer = parts
    assert masthead["Content-Description"] == "Ant Digest, Vol 1, Issue 2"
    assert "Send Ant mailing list submissions to\n\tant@example.com" in masthead.get_payload()
    assert "\tant-request@example.com" in masthead.get_payload()
    assert toc["Content-Description"] == "Today's Topics (1 messages)"
    assert toc.get_payload() == "Today's Topics:\n\n   1. topic number 2 (Poster Person)\n"
    assert digest.get_content_type() == "multipart/digest"
    inner = digest.get_payload()
    assert len(inner) == 1 and inner[0].get_content_type() == "message/rfc822"
    post2 = inner[0].get_payload(0)
    assert post2["Message-ID"] == "<d2@example.org>"
    assert post2["Subject"] == "[Ant] topic number 2"
    assert post2["Message"] == "1"
    assert "body of post 2" in post2.get_payload()
    assert footer["Content-Description"] == "Digest Footer"
    assert "Ant mailing list -- ant@example.com" in footer.get_payload()
    assert mime.epilogue.strip() == "End of Ant Digest, Vol 1, Issue 2"

    plain = next(m for m in plains if m["Subject"].endswith("Issue 3"))
    assert plain.get_content_type() == "text/plain"
    text = plain.get_payload()
    assert text.startswith("Send Ant mailing list submissions to\n\tant@example.com\n")
    assert "Today's Topics:\n\n   1. topic number 3 (Poster Person)\n\n\n" + "-" * 70 in text
    # plain_digest_keep_headers, in that order
    assert "\nMessage: 1\nDate: Tue, 01 Dec 2026 10:03:00 +0000\n" \
           "From: Poster Person <reg@example.org>\nSubject: [Ant] topic number 3\n" \
           "To: ant@example.com\nMessage-ID: <d3@example.org>\n\nbody of post 3\n" in text
    assert "X-Secret" not in text
    assert "\n\nbody of post 3\n" in text
    assert "Subject: Digest Footer\n\n_______" in text
    assert text.endswith("End of Ant Digest, Vol 1, Issue 3\n" + "*" * 33 + "\n")

    # the mailbox is gone; to-digest set digest_last_sent_at when it queued
    list_dir = site.var / "lists" / "ant.example.com"
    assert wait_until(lambda: not list(list_dir.glob("digest.*.mmdf")))
    rows = sqlite3.connect(site.data_dir / "mailman.db").execute(
        "SELECT value FROM list_attr WHERE name='digest_last_sent_at'").fetchall()
    assert rows and rows[0][0]


def test_one_digest_holds_several_posts(site):
    """Below the threshold posts wait in digest.mmdf; the post that crosses
    it sends them all in one digest, numbered in the table of contents."""
    mbox = site.var / "lists" / "ant.example.com" / "digest.mmdf"
    site.threshold(30)
    site.ok("start", "-q")
    post(site, 1, subject="Re: [Ant] a reply whose subject is long enough to be wrapped "
                          "in the table of contents")
    assert wait_until(lambda: len(received(site.sink, "reg@example.org")) == 1)
    size = mbox.stat().st_size
    site.threshold(size * 1.5 / 1024)
    post(site, 2)
    assert wait_until(lambda: received(site.sink, "mime@example.org") and
                      received(site.sink, "Plain@Example.org"))
    assert not mbox.exists()
    mime = received(site.sink, "mime@example.org")[0]
    assert mime["Subject"] == "Ant Digest, Vol 1, Issue 1"
    toc = mime.get_payload()[1]
    assert toc["Content-Description"] == "Today's Topics (2 messages)"
    # the subject prefix is left out, "Re:" kept; as in Mailman, " 1." starts
    # with a space, so wrap() keeps the line whole and the author moves to
    # a line of its own past 70 columns
    assert toc.get_payload() == (
        "Today's Topics:\n\n"
        "   1. Re: a reply whose subject is long enough to be wrapped in the table of contents\n"
        "      (Poster Person)\n"
        "   2. topic number 2 (Poster Person)\n")
    inner = mime.get_payload()[2].get_payload()
    assert [m.get_payload(0)["Message-ID"] for m in inner] == [
        "<d1@example.org>", "<d2@example.org>"]
    assert [m.get_payload(0)["Message"] for m in inner] == ["1", "2"]
    text = received(site.sink, "Plain@Example.org")[0].get_payload()
    assert text.index("Message: 1\n") < text.index("\n" + "-" * 30 + "\n\nMessage: 2\n")
    assert "body of post 1" in text and "body of post 2" in text


def test_plain_digest_scrubs_attachments(site):
    """The RFC 1153 digest keeps text/plain parts and replaces the others by
    Mailman's note; encoded subjects are shown decoded."""
    site.ok("start", "-q")
    msg = ("From: reg@example.org\nTo: ant@example.com\n"
           "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nMessage-ID: <att@example.org>\n"
           "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
           "--XX\nContent-Type: text/plain\n\nthe text part\n"
           "--XX\nContent-Type: application/octet-stream; name=blob.bin\n"
           "Content-Disposition: attachment; filename=blob.bin\n"
           "Content-Transfer-Encoding: base64\n\nAAECAwQF\n--XX--\n")
    with smtplib.LMTP("127.0.0.1", site.lmtp_port, timeout=10) as c:
        assert c.sendmail("reg@example.org", ["ant@example.com"], msg) == {}
    assert wait_until(lambda: received(site.sink, "mime@example.org") and
                      received(site.sink, "Plain@Example.org"))
    plain = received(site.sink, "Plain@Example.org")[0]
    text = plain.get_payload(decode=True).decode(plain.get_content_charset())
    assert "   1. Grüße (reg@example.org)\n" in text
    assert "Subject: [Ant] Grüße\n" in text
    # the newline before a boundary belongs to the boundary (RFC 2046 5.1.1),
    # so, as in Mailman, the note follows the text part's last line directly
    assert ("\n\nthe text part-------------- next part --------------\n"
            "A message part incompatible with plain text digests has been removed ...\n"
            "Name: blob.bin\nType: application/octet-stream\nSize: 6 bytes\n"
            "Desc: not available\n") in text
    mime = received(site.sink, "mime@example.org")[0]
    toc = mime.get_payload()[1]
    assert "   1. Grüße (reg@example.org)\n" in \
        toc.get_payload(decode=True).decode(toc.get_content_charset())
    inner = mime.get_payload()[2].get_payload()[0].get_payload(0)
    assert inner.get_content_type() == "multipart/mixed"
    assert inner.get_payload()[1].get_payload(decode=True) == b"\x00\x01\x02\x03\x04\x05"


def test_digest_waits_while_the_posting_path_is_busy(site):
    """The digest runner leaves a digest waiting while an entry sits in the
    in, pipeline or out queue (its roster scan would slow a fan-out), and
    builds it once they are empty."""
    import time
    site.ok("start", "-q")
    # An entry claimed in out that nothing will finish: the path is busy.
    busy = site.var / "queue" / "out" / f"{time.time():.7f}+{'0' * 40}.bak"
    busy.write_text("crier-queue 1\nmessage-size: 1\n\n\n")
    post(site, 1)
    assert wait_until(lambda: len(received(site.sink, "reg@example.org")) == 1)
    digests = site.var / "queue" / "digest"
    assert wait_until(lambda: list(digests.glob("*.pck")), timeout=5)
    time.sleep(1.0)
    assert received(site.sink, "mime@example.org") == []
    assert list(digests.glob("*.pck")), "the digest entry was taken while out was busy"
    busy.unlink()
    assert wait_until(lambda: len(received(site.sink, "mime@example.org")) == 1 and
                      len(received(site.sink, "Plain@Example.org")) == 1)



def test_digest_waits_at_most_30_s_after_it_was_queued(site, tmp_path):
    """A digest queued more than RUNNER_YIELD_MAX_S (30 s) ago is built at
    once, even while the posting path is busy."""
    import time
    out = site.var / "queue" / "out"
    digests = site.var / "queue" / "digest"
    site.ok("start", "-q")
    busy = out / f"{time.time():.7f}+{'0' * 40}.bak"
    busy.write_text("crier-queue 1\nmessage-size: 1\n\n\n")
    post(site, 1)
    assert wait_until(lambda: list(digests.glob("*.pck")), timeout=10)
    site.ok("stop", "-q")
    # The digest entry put aside while crier starts again (whose out
    # runner would recover the marker), then back under a name a minute old.
    [entry] = list(digests.glob("*.pck"))
    aside = tmp_path / entry.name
    entry.rename(aside)
    busy.unlink()
    site.ok("start", "-q")
    busy.write_text("crier-queue 1\nmessage-size: 1\n\n\n")
    aside.rename(digests / f"{time.time() - 60:.7f}+{entry.name.split('+')[1]}")
    assert wait_until(lambda: len(received(site.sink, "mime@example.org")) == 1 and
                      len(received(site.sink, "Plain@Example.org")) == 1, timeout=10)
    assert busy.exists()
    busy.unlink()
