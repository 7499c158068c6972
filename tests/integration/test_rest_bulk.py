"""crier's bulk-subscribe extension (docs/rest.md "Crier extensions"):
POST /<api>/lists/<list>/roster/member/bulk subscribes many members in one
request and one transaction, with one result per address."""
import http.client
import json

from test_rest import AUTH, call, rest  # noqa: F401  (the fixture)

BULK = "/lists/ant.example.com/roster/member/bulk"


def setup_list(rest):
    assert call(rest, "POST", "/domains", {"mail_host": "example.com"})[0] == 201
    assert call(rest, "POST", "/lists", {"fqdn_listname": "ant@example.com"})[0] == 201


def roster(rest):
    status, _, body = call(rest, "GET", "/lists/ant.example.com/roster/member")
    assert status == 200
    return {m["email"]: m for m in body.get("entries", [])}


def test_bulk_results_per_address(rest):
    setup_list(rest)
    assert call(rest, "POST", "/lists/ant.example.com/bans", {"email": "bad@example.org"})[0] == 201
    assert call(rest, "POST", "/members", {
        "list_id": "ant.example.com", "subscriber": "old@example.org",
        "pre_verified": "true", "pre_confirmed": "true", "pre_approved": "true"})[0] == 201
    members = [
        {"email": "Anne@Example.org", "display_name": "Anne Person"},
        {"email": "bart@example.org", "delivery_mode": "mime_digests"},
        {"email": "old@example.org"},
        {"email": "anne@example.org"},              # twice in one request
        {"email": "not an address"},
        {"email": "bad@example.org"},
        {"email": "ant@example.com"},
        {"email": "cris@example.org", "display_name": "Cris\r\nBcc: x@y"},
        {"email": "dave@example.org", "colour": "red"},
        {"display_name": "Nobody"},
        {"email": "erin@example.org", "delivery_mode": "weekly"},
        "frank@example.org",
    ]
    status, _, body = call(rest, "POST", BULK, json_body={"members": members})
    assert status == 200, body
    assert body["total_size"] == len(members)
    assert body["subscribed"] == 2
    got = [(e["email"], e["status"], e.get("description")) for e in body["entries"]]
    assert got == [
        ("Anne@Example.org", 201, None),
        ("bart@example.org", 201, None),
        ("old@example.org", 409, "Member already subscribed"),
        ("anne@example.org", 409, "Member already subscribed"),
        ("not an address", 400, "Invalid email address: not an address"),
        ("bad@example.org", 400, "Membership is banned"),
        ("ant@example.com", 400, "List posting address cannot subscribe"),
        ("cris@example.org", 400,
         'Invalid Parameter "display_name": line breaks are not allowed.'),
        ("dave@example.org", 400, "Unexpected parameters: colour"),
        (None, 400, "Missing Parameter: email"),
        ("erin@example.org", 400, 'Invalid Parameter "delivery_mode": Accepted Values are: '
         'regular, plaintext_digests, mime_digests, summary_digests.'),
        (None, 400, "A member entry must be an object"),
    ]
    r = roster(rest)
    assert sorted(r) == ["anne@example.org", "bart@example.org", "old@example.org"]
    assert r["anne@example.org"]["display_name"] == "Anne Person"
    assert r["bart@example.org"]["delivery_mode"] == "mime_digests"
    assert r["anne@example.org"]["role"] == "member"


def test_bulk_request_errors(rest):
    setup_list(rest)
    # A form body, a missing or mistyped list, extra keys, an unknown list.
    assert call(rest, "POST", BULK, {"members": "x"})[0] == 400
    status, _, body = call(rest, "POST", BULK, json_body={})
    assert (status, body["description"]) == (400, "Missing Parameter: members")
    status, _, body = call(rest, "POST", BULK, json_body={"members": [], "x": 1, "a": 2})
    assert (status, body["description"]) == (400, "Unexpected parameters: a, x")
    assert call(rest, "POST", BULK, json_body={"members": {}})[0] == 400
    status, _, body = call(rest, "POST", "/lists/bee.example.com/roster/member/bulk",
                           json_body={"members": []})
    assert status == 404
    status, _, body = call(rest, "POST", BULK, json_body={"members": []})
    assert (status, body["total_size"], body["subscribed"]) == (200, 0, 0)
    # Only POST; unauthenticated is 401; Mailman's paths are untouched.
    assert call(rest, "GET", BULK)[0] == 405
    assert call(rest, "POST", BULK, json_body={"members": []}, auth=None)[0] == 401
    assert call(rest, "POST", "/lists/ant.example.com/roster/owner/bulk",
                json_body={"members": []})[0] == 404


def test_bulk_body_bounds(rest):
    setup_list(rest)
    # Other resources keep the 1 MiB bound: a 2 MiB body is read, then 413.
    big = b"description=" + b"x" * (2 * 1024 * 1024)
    conn = http.client.HTTPConnection("127.0.0.1", rest.rest_port, timeout=20)
    conn.request("POST", "/3.1/domains", body=big, headers={
        "Authorization": AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["title"] == "413 Payload Too Large"
    conn.close()
    # The bulk endpoint takes it (here 30,000 members, about 1.5 MiB).
    members = [{"email": f"m{i:05d}@example.org"} for i in range(30000)]
    status, _, body = call(rest, "POST", BULK, json_body={"members": members})
    assert (status, body["subscribed"]) == (200, 30000)
    status, _, body = call(rest, "GET", "/lists/ant.example.com")
    assert body["member_count"] == 30000
