"""REST bans, header matches and queues (reference §9; mailman/rest/bans.py,
header_matches.py, queues.py) through mailmanclient and raw HTTP."""
import pytest

from test_rest import call, client, rest  # noqa: F401 (the fixture)

mailmanclient = pytest.importorskip("mailmanclient")


@pytest.fixture
def ant(rest):
    c = client(rest)
    return c, c.create_domain("example.com").create_list("ant")


def test_bans(rest, ant):
    c, mlist = ant
    bans = mlist.bans
    ban = bans.add("bad@example.org")
    assert ban.email == "bad@example.org" and ban.list_id == "ant.example.com"
    assert "bad@example.org" in mlist.bans
    bans.add("^.*@spam\\.example$")
    assert sorted(b.email for b in mlist.bans) == ["^.*@spam\\.example$", "bad@example.org"]
    st, _, body = call(rest, "POST", "/lists/ant.example.com/bans", {"email": "bad@example.org"})
    assert (st, body["description"]) == (400, "Address is already banned")
    st, _, body = call(rest, "POST", "/lists/ant.example.com/bans", {"email": "nope"})
    assert (st, body["description"]) == (
        400, 'Invalid Parameter "email": Expected a valid email address or regular '
             'expression, got nope.')
    # An address banned through a pattern is banned (GET shows it).
    st, _, body = call(rest, "GET", "/lists/ant.example.com/bans/x@spam.example")
    assert st == 200 and body["email"] == "x@spam.example"
    st, headers, _ = call(rest, "POST", "/bans", {"email": "^evil"})
    assert (st, headers["Location"]) == (201, f"{rest.base}/bans/%5Eevil")
    assert [b.email for b in c.bans] == ["^evil"]
    assert "list_id" not in call(rest, "GET", "/bans")[2]["entries"][0]
    # Subscribing a banned address fails.
    st, _, body = call(rest, "POST", "/members", {
        "list_id": "ant.example.com", "subscriber": "bad@example.org", "pre_verified": "1",
        "pre_confirmed": "1", "pre_approved": "1"})
    assert (st, body["description"]) == (400, "Membership is banned")
    mlist.bans.remove("bad@example.org")
    st, _, body = call(rest, "DELETE", "/lists/ant.example.com/bans/bad@example.org")
    assert (st, body["description"]) == (404, "Email is not banned: bad@example.org")
    assert call(rest, "DELETE", "/bans/%5Eevil")[0] == 204
    assert list(c.bans) == []


def test_header_matches(rest, ant):
    c, mlist = ant
    hm = mlist.header_matches
    first = hm.add("X-Spam", "yes", action="discard")
    hm.add("Subject", "viagra", tag="Spam")
    hm.add("From", "^nobody")
    got = [(m.position, m.header, m.pattern) for m in mlist.header_matches]
    assert got == [(0, "x-spam", "yes"), (1, "subject", "viagra"), (2, "from", "^nobody")]
    assert first.action == "discard"
    st, _, body = call(rest, "GET", "/lists/ant.example.com/header-matches/1")
    assert body["tag"] == "Spam" and "action" not in body
    assert body["self_link"] == f"{rest.base}/lists/ant.example.com/header-matches/1"
    st, _, body = call(rest, "POST", "/lists/ant.example.com/header-matches",
                       {"header": "x-spam", "pattern": "yes"})
    assert (st, body["description"]) == (400, "This header match already exists")
    st, _, body = call(rest, "POST", "/lists/ant.example.com/header-matches",
                       {"header": "x", "pattern": "(", "action": "hold"})
    assert (st, body["description"]) == (
        400, 'Invalid Parameter "pattern": Expected a valid regexp, got (.')
    assert [m.pattern for m in hm.find(header="subject")] == ["viagra"]
    assert hm.find(action="hold") == []
    # Moving the last to the top shifts the others down.
    assert call(rest, "PATCH", "/lists/ant.example.com/header-matches/2",
                {"position": "0", "action": "hold"})[0] == 204
    got = [(m["position"], m["header"], m.get("action")) for m in
           call(rest, "GET", "/lists/ant.example.com/header-matches")[2]["entries"]]
    assert got == [(0, "from", "hold"), (1, "x-spam", "discard"), (2, "subject", None)]
    st, _, body = call(rest, "PATCH", "/lists/ant.example.com/header-matches/0",
                       {"position": "3"})
    assert (st, body["description"]) == (
        400, "There are 3 header matches for this list, the new position cannot be 3 or higher")
    st, _, body = call(rest, "PUT", "/lists/ant.example.com/header-matches/0", {"header": "a"})
    assert (st, body["description"]) == (400, "Missing Parameter: pattern")
    st, _, body = call(rest, "GET", "/lists/ant.example.com/header-matches/7")
    assert (st, body["description"]) == (404, "No header match at this position: 7")
    assert call(rest, "DELETE", "/lists/ant.example.com/header-matches/0")[0] == 204
    assert [m.header for m in mlist.header_matches] == ["x-spam", "subject"]
    assert call(rest, "DELETE", "/lists/ant.example.com/header-matches")[0] == 204
    assert call(rest, "GET", "/lists/ant.example.com/header-matches")[2]["total_size"] == 0


def test_queues(rest, ant):
    c, mlist = ant
    queues = c.queues
    assert {"in", "out", "shunt", "bad", "virgin"} <= set(queues)
    shunt = queues["shunt"]
    assert shunt.files == []
    text = "From: anne@example.org\nTo: ant@example.com\nSubject: hi\n\nhello\n"
    st, headers, _ = call(rest, "POST", "/queues/shunt", {"list_id": "ant.example.com",
                                                          "text": text})
    assert st == 201
    base = headers["Location"].rsplit("/", 1)[1]
    assert headers["Location"] == f"{rest.base}/queues/shunt/{base}"
    st, _, body = call(rest, "GET", "/queues/shunt")
    assert (body["count"], body["files"]) == (1, [base])
    assert body["directory"].endswith("/shunt")
    st, _, body = call(rest, "GET", "/queues")
    assert body["self_link"] == f"{rest.base}/queues"
    assert [q["count"] for q in body["entries"] if q["name"] == "shunt"] == [1]
    st, _, body = call(rest, "POST", "/queues/shunt", {"list_id": "nope.example.com",
                                                       "text": text})
    assert (st, body["description"]) == (400, "No such list: nope.example.com")
    st, _, body = call(rest, "POST", "/queues/nosuch", {"list_id": "ant.example.com",
                                                        "text": text})
    assert (st, body["description"]) == (400, "'nosuch'")
    assert call(rest, "GET", "/queues/nosuch")[0] == 404
    assert call(rest, "DELETE", f"/queues/shunt/{base}")[0] == 204
    st, _, body = call(rest, "DELETE", f"/queues/shunt/{base}")
    assert (st, body["description"]) == (404, f"No such queue file: {base}")
    st, _, body = call(rest, "DELETE", "/queues/nosuch/x")
    assert (st, body["description"]) == (404, "No such queue: nosuch")
    assert c.queues["shunt"].files == []
    # mailmanclient's inject, into a queue a runner works on: the message goes.
    c.queues["in"].inject("ant.example.com", text)
