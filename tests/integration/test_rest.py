"""The REST API against the running daemon (reference §9, §12 items 42-44),
through Debian's mailmanclient and raw HTTP."""
import base64
import json
import urllib.error
import urllib.request

import pytest

from conftest import free_port

mailmanclient = pytest.importorskip("mailmanclient")

AUTH = "Basic " + base64.b64encode(b"restadmin:restpass").decode()


@pytest.fixture
def rest(crier):
    port = free_port()
    crier.rest_port = port
    crier.base = f"http://127.0.0.1:{port}/3.1"
    crier.write_config(extra=f"""\
        [webservice]
        hostname: 127.0.0.1
        port: {port}
        [mta]
        lmtp_port: {free_port()}
        """)
    crier.ok("start", "-q")
    yield crier
    crier.run("stop", "-q")


def call(rest, method, path, data=None, auth=AUTH, json_body=None, base=None):
    """(status, headers, parsed body or None)."""
    url = (base or rest.base) + path
    body, headers = None, {}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if auth:
        headers["Authorization"] = auth
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, resp.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, e.headers, json.loads(raw) if raw else None


def client(rest):
    return mailmanclient.Client(rest.base, "restadmin", "restpass")


def test_mailmanclient_lifecycle(rest):
    c = client(rest)
    assert c.system["api_version"] == "3.1"
    domain = c.create_domain("example.com", description="Examples")
    assert [d.mail_host for d in c.domains] == ["example.com"]
    mlist = domain.create_list("ant")
    assert mlist.fqdn_listname == "ant@example.com"
    assert mlist.list_id == "ant.example.com"
    assert [l.fqdn_listname for l in c.lists] == ["ant@example.com"]
    # The new list is in Postfix's map at once.
    assert "ant@example.com" in (rest.data_dir / "postfix_lmtp").read_text()

    settings = mlist.settings
    assert settings["subscription_policy"] == "confirm"
    assert settings["display_name"] == "Ant"
    assert settings["posting_address"] == "ant@example.com"
    settings["description"] = "An ant colony"
    settings["max_message_size"] = 100
    settings.save()
    again = c.get_list("ant.example.com").settings
    assert again["description"] == "An ant colony"
    assert again["max_message_size"] == 100

    for who in ("anne@example.org", "bart@example.org"):
        mlist.subscribe(who, display_name=who[:4].title(), pre_verified=True,
                        pre_confirmed=True, pre_approved=True)
    assert sorted(m.email for m in mlist.members) == ["anne@example.org", "bart@example.org"]
    member = mlist.get_member("anne@example.org")
    assert member.display_name == "Anne"
    assert member.role == "member"
    assert member.delivery_mode == "regular"
    assert [m.email for m in c.members] == ["anne@example.org", "bart@example.org"]
    found = mlist.find_members("bart@example.org")
    assert [(m.email, m.list_id) for m in found] == [("bart@example.org", "ant.example.com")]

    mlist.unsubscribe("anne@example.org")
    assert [m.email for m in mlist.members] == ["bart@example.org"]
    assert c.get_list("ant@example.com").member_count == 1

    mlist.delete()
    assert c.lists == []
    assert "ant@example.com" not in (rest.data_dir / "postfix_lmtp").read_text()
    domain_lists = call(rest, "GET", "/domains/example.com/lists")[2]
    assert domain_lists["total_size"] == 0 and "entries" not in domain_lists


def test_owner_and_moderator(rest):
    c = client(rest)
    c.create_domain("example.com")
    mlist = c.get_domain("example.com").create_list("ant")
    mlist.add_owner("own@example.org")
    mlist.add_moderator("mod@example.org")
    assert [o.email for o in mlist.owners] == ["own@example.org"]
    assert [m.email for m in mlist.moderators] == ["mod@example.org"]
    st, _, body = call(rest, "POST", "/members", {
        "list_id": "ant.example.com", "subscriber": "own@example.org", "role": "owner"})
    assert (st, body["description"]) == (
        400, "own@example.org is already an owner of ant@example.com")


def test_auth_401(rest):
    st, headers, body = call(rest, "GET", "/system/versions", auth=None)
    assert st == 401
    assert body == {"title": "401 Unauthorized",
                    "description": "REST API authorization failed"}
    assert headers["WWW-Authenticate"] == 'Basic realm="mailman3-rest",charset="utf-8"'
    bad = "Basic " + base64.b64encode(b"restadmin:nope").decode()
    assert call(rest, "GET", "/system/versions", auth=bad)[0] == 401


def test_404(rest):
    # Routing comes before auth, as in Mailman.
    st, _, body = call(rest, "GET", "/nosuch", auth=None)
    assert (st, body) == (404, {"title": "404 Not Found"})
    st, _, body = call(rest, "GET", "/lists/nope@example.com")
    assert (st, body) == (404, {"title": "404 Not Found", "description": "404 Not Found"})
    st, _, body = call(rest, "GET", "/domains/example.org")
    assert st == 404
    st, _, body = call(rest, "GET", "/nosuch", base=f"http://127.0.0.1:{rest.rest_port}/4.0")
    assert st == 404


def test_versions_and_api_30(rest):
    st, _, body = call(rest, "GET", "/system/versions")
    assert st == 200 and body["api_version"] == "3.1"
    assert body["self_link"] == f"{rest.base}/system/versions"
    assert body["http_etag"].startswith('"') and len(body["http_etag"]) == 42
    st, _, body = call(rest, "GET", "/system/versions",
                       base=f"http://127.0.0.1:{rest.rest_port}/3.0")
    assert body["api_version"] == "3.0"


def test_create_errors(rest):
    st, headers, _ = call(rest, "POST", "/domains", {"mail_host": "example.com"})
    assert st == 201
    assert headers["Location"] == f"{rest.base}/domains/example.com"
    st, _, body = call(rest, "POST", "/domains", {"mail_host": "example.com"})
    assert (st, body["description"]) == (400, "Duplicate email host: example.com")
    st, headers, _ = call(rest, "POST", "/lists", {"fqdn_listname": "dog@example.com"})
    assert (st, headers["Location"]) == (201, f"{rest.base}/lists/dog.example.com")
    for data, text in (
            ({"fqdn_listname": "dog@example.com"}, "Mailing list exists"),
            ({"fqdn_listname": "cat@example.com", "bogus": "1", "alpha": "2"},
             "Unexpected parameters: alpha, bogus"),
            ({}, "Missing Parameter: fqdn_listname"),
            ({"fqdn_listname": "cat@example.net"}, "Domain does not exist: example.net"),
            ({"fqdn_listname": "not an address"},
             "Invalid list posting address: not an address"),
    ):
        st, _, body = call(rest, "POST", "/lists", data)
        assert (st, body) == (400, {"title": "400 Bad Request", "description": text})
    st, _, body = call(rest, "POST", "/lists", json_body={"fqdn_listname": "cow@example.com"})
    assert st == 201


def test_config_errors(rest):
    call(rest, "POST", "/domains", {"mail_host": "example.com"})
    call(rest, "POST", "/lists", {"fqdn_listname": "ant@example.com"})
    cfg = "/lists/ant.example.com/config"
    st, _, body = call(rest, "PATCH", cfg, {"subscription_policy": "sometimes"})
    assert (st, body["description"]) == (
        400, 'Invalid Parameter "subscription_policy": Accepted Values are: open, confirm, '
             'moderate, confirm_then_moderate.')
    st, _, body = call(rest, "PATCH", cfg, {"posting_address": "x@example.com"})
    assert (st, body["description"]) == (400, "Read-only attribute: posting_address")
    st, _, body = call(rest, "PATCH", cfg, {"nosuch": "1"})
    assert (st, body["description"]) == (400, "Unknown attribute: nosuch")
    st, _, body = call(rest, "GET", cfg + "/nosuch")
    assert (st, body["description"]) == (404, "Unknown attribute: nosuch")
    st, _, body = call(rest, "PUT", cfg + "/volume", {"volume": "3"})
    assert (st, body["description"]) == (400, "Read-only attribute: volume")
    st, _, body = call(rest, "PATCH", cfg, {"max_num_recipients": "ten"})
    assert body["description"] == ('Invalid Parameter "max_num_recipients": invalid literal '
                                   "for int() with base 10: 'ten'.")
    assert call(rest, "PUT", cfg + "/advertised", {"advertised": "no"})[0] == 204
    assert call(rest, "GET", cfg + "/advertised")[2]["advertised"] is False
    assert call(rest, "PATCH", cfg, json_body={"accept_these_nonmembers":
                                               ["a@example.org", "^b.*"]})[0] == 204
    assert call(rest, "GET", cfg)[2]["accept_these_nonmembers"] == ["a@example.org", "^b.*"]
    st, _, body = call(rest, "PUT", cfg, {"description": "x"})
    assert st == 400 and body["description"].startswith(
        "Missing Parameter: accept_these_nonmembers, acceptable_aliases, admin_immed_notify")


def test_paging(rest):
    st, _, body = call(rest, "GET", "/lists")
    assert "entries" not in body and body["total_size"] == 0
    assert call(rest, "GET", "/lists?count=1&page=2")[2]["start"] == 1
    st, _, body = call(rest, "GET", "/lists?count=1&page=0")
    assert (st, body["title"]) == (400, "Invalid parameter")
    for host in ("a.example", "b.example", "c.example"):
        call(rest, "POST", "/domains", {"mail_host": host})
    st, _, body = call(rest, "GET", "/domains?count=2&page=2")
    assert (body["start"], body["total_size"]) == (2, 3)
    assert [d["mail_host"] for d in body["entries"]] == ["c.example"]


def test_keep_alive_and_big_body(rest):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", rest.rest_port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/3.1/system/versions", headers={"Authorization": AUTH})
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    # Over the bound of every route (the bulk one's): refused from the
    # headers, before any body.
    conn.putrequest("POST", "/3.1/domains")
    conn.putheader("Authorization", AUTH)
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(33 * 1024 * 1024))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()


def test_alias_domain_regenerates_maps(rest):
    assert call(rest, "POST", "/domains", {"mail_host": "example.com"})[0] == 201
    assert call(rest, "POST", "/lists", {"fqdn_listname": "ant@example.com"})[0] == 201
    vmap = rest.data_dir / "postfix_vmap"
    assert "ant@example.com" not in (vmap.read_text() if vmap.exists() else "")
    assert call(rest, "PATCH", "/domains/example.com",
                {"alias_domain": "x.example.net"})[0] == 204
    text = vmap.read_text()
    assert "ant@example.com" in text and "ant@x.example.net" in text
    assert "ant@x.example.net" in (rest.data_dir / "postfix_lmtp").read_text()
    assert "x.example.net" in (rest.data_dir / "postfix_domains").read_text()
    assert call(rest, "PUT", "/domains/example.com",
                {"alias_domain": "y.example.net", "description": "d",
                 "owner": "boss@example.org"})[0] == 204
    assert "ant@y.example.net" in vmap.read_text()
    assert "x.example.net" not in (rest.data_dir / "postfix_domains").read_text()
