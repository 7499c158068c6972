"""Held messages over REST (reference §9 /lists/<l>/held;
mailman/rest/post_moderation.py): posts held by the chain are listed and
moderated through mailmanclient, and the decisions take effect."""
import email

import pytest

from conftest import free_port
from test_posting import MEMBERS, delivered, message, start_sink_site, wait_until
from test_rest import call

mailmanclient = pytest.importorskip("mailmanclient")


@pytest.fixture
def site(crier):
    crier.rest_port = free_port()
    crier.base = f"http://127.0.0.1:{crier.rest_port}/3.1"
    controller = start_sink_site(
        crier, config=f"[webservice]\nhostname: 127.0.0.1\nport: {crier.rest_port}\n")
    crier.ok("addmembers", "-", "ant@example.com", input="\n".join(MEMBERS) + "\n")
    crier.ok("start", "-q")

    def post(msg, sender):
        import smtplib
        with smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10) as c:
            return c.sendmail(sender, ["ant@example.com"], msg)
    crier.post = post
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def test_held_through_mailmanclient(site):
    c = mailmanclient.Client(site.base, "restadmin", "restpass")
    mlist = c.get_list("ant@example.com")
    assert mlist.held == [] and mlist.get_held_count() == 0
    for n in (1, 2, 3, 4):
        subject = f"held {n}" if n != 4 else "=?utf-8?q?caf=C3=A9?="
        site.post(message(f"mod{n}@example.org", sender="stranger@example.org",
                          subject=subject), "stranger@example.org")
    assert wait_until(lambda: len(mlist.held) == 4)
    assert mlist.get_held_count() == 4
    held = sorted(mlist.held, key=lambda h: h.request_id)
    first = held[0]
    assert first.sender == "stranger@example.org"
    assert first.subject == "held 1"
    assert first.message_id == "<mod1@example.org>"
    assert first.reason == "The message is not from a list member"
    assert "Message-ID: <mod1@example.org>" in first.msg
    assert first.hold_date.startswith("20")
    assert first.self_link == f"{site.base}/lists/ant.example.com/held/{first.request_id}"
    one = mlist.get_held_message(held[3].request_id)
    assert one.subject == "caf\u00e9"
    st, _, body = call(site, "GET", f"/lists/ant.example.com/held/{held[3].request_id}")
    assert body["original_subject"] == "=?utf-8?q?caf=C3=A9?="
    assert set(body) == {"hold_date", "msg", "reason", "sender", "subject", "original_subject",
                         "message_id", "request_id", "self_link", "http_etag"}

    mlist.accept_message(held[0].request_id)
    mlist.reject_message(held[1].request_id, "off topic")
    mlist.discard_message(held[2].request_id)
    mlist.defer_message(held[3].request_id)
    # accepted: reaches every member, approved
    assert wait_until(lambda: [r for r in delivered(site, "mod1@example.org")
                               if r in MEMBERS] == sorted(MEMBERS))
    raw = [t[2] for t in site.sink.with_text("mod1@example.org") if "m1@example.org" in t[1]][0]
    assert email.message_from_bytes(raw)["X-Mailman-Approved-At"]
    # rejected: the sender is told why
    assert wait_until(lambda: len(site.sink.with_text("rejected by the list moderator")) == 1)
    body = email.message_from_bytes(
        site.sink.with_text("rejected by the list moderator")[0][2]).get_payload(decode=True)
    assert b'"off topic"' in body
    # deferred: still held; the others are gone
    assert [h.request_id for h in mlist.held] == [held[3].request_id]
    st, _, body = call(site, "POST", f"/lists/ant.example.com/held/{held[0].request_id}",
                       {"action": "accept"})
    assert (st, body) == (404, {"title": "404 Not Found", "description": "404 Not Found"})


def test_held_errors(site):
    st, _, body = call(site, "GET", "/lists/ant.example.com/held/x")
    assert st == 404
    st, _, body = call(site, "GET", "/lists/ant.example.com/held/99")
    assert st == 404
    st, _, body = call(site, "POST", "/lists/ant.example.com/held/1", {"action": "maybe"})
    assert (st, body["description"]) == (
        400, 'Invalid Parameter "action": Accepted Values are: hold, reject, discard, accept, '
             'defer.')
    st, _, body = call(site, "POST", "/lists/ant.example.com/held/1", {})
    assert (st, body["description"]) == (400, "Missing Parameter: action")
    st, _, body = call(site, "GET", "/lists/nope.example.com/held")
    assert st == 404
