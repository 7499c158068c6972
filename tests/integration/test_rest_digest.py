"""The last resources of Mailman's REST API: /lists/<l>/digest
(mailman/rest/lists.py ListDigest), mass unsubscription (MembersOfList
on_delete), /plugins, /reserved and API 3.0's /templates (root.py)."""
import mailmanclient

from test_rest import call
from test_posting import MEMBERS
from test_rest_held import site  # noqa: F401 (the fixture)

DIGEST = "/lists/ant.example.com/digest"


def digest_state(site):
    st, _, body = call(site, "GET", DIGEST)
    assert st == 200 and "http_etag" in body
    return body["volume"], body["next_digest_number"]


def queued_digests(site):
    out = []
    for p in sorted((site.var / "queue" / "digest").glob("*.pck")):
        out.append(site.ok("qfile", str(p)).stdout)
    return out


def test_digest_get_and_errors(site):
    st, _, body = call(site, "GET", DIGEST)
    assert st == 200
    assert body == {"next_digest_number": 1, "volume": 1, "http_etag": body["http_etag"]}
    assert call(site, "GET", "/lists/bee.example.com/digest")[0] == 404
    # Nothing asked: 200 without a body, as Mailman's okay(response).
    assert call(site, "POST", DIGEST, {})[:3:2] == (200, None)
    st, _, body = call(site, "POST", DIGEST, {"send": "true", "periodic": "true"})
    assert (st, body["description"]) == (400, "send and periodic options are mutually exclusive")
    st, _, body = call(site, "POST", DIGEST, {"send": "maybe"})
    assert (st, body["description"]) == \
        (400, 'Invalid Parameter "send": Invalid boolean value: maybe.')
    st, _, body = call(site, "POST", DIGEST, {"sned": "true"})
    assert (st, body["description"]) == (400, "Unexpected parameters: sned")
    assert digest_state(site) == (1, 1)


def test_digest_send_bump_periodic(site):
    # the digest runner stays off so that the queued digests can be read
    # (test_digest.py sends them)
    site.run("stop", "-q")
    site.write_config(extra=site.extra + "[runner.digest]\nstart: no\n")
    site.ok("start", "-q")
    lists = site.var / "lists" / "ant.example.com"
    lists.mkdir(parents=True, exist_ok=True)
    mbox = lists / "digest.mmdf"
    # No digest.mmdf, or an empty one: nothing is sent, nothing bumped.
    assert call(site, "POST", DIGEST, {"send": "true"})[:3:2] == (202, None)
    mbox.write_bytes(b"")
    assert call(site, "POST", DIGEST, json_body={"send": True})[0] == 202
    assert digest_state(site) == (1, 1) and queued_digests(site) == []
    mbox.write_bytes(b"\x01\x01\x01\x01\nFrom: a@example.org\n\nhi\n\x01\x01\x01\x01\n")
    assert call(site, "POST", DIGEST, {"send": "yes"})[0] == 202
    assert not mbox.exists() and (lists / "digest.1.1.mmdf").exists()
    assert digest_state(site) == (1, 2)
    (info,) = queued_digests(site)
    for text in ("ant.example.com", "digest.1.1.mmdf", "digest_number", "volume"):
        assert text in info
    st, _, conf = call(site, "GET", "/lists/ant.example.com/config/digest_last_sent_at")
    assert st == 200 and conf["digest_last_sent_at"] is not None
    # bump: the same month, so only the number (bump_digest_number_and_volume).
    assert call(site, "POST", DIGEST, {"bump": "true"})[0] == 202
    assert digest_state(site) == (1, 3)
    # bump and send together: the digest gets the bumped number.
    mbox.write_bytes(b"\x01\x01\x01\x01\nFrom: b@example.org\n\nho\n\x01\x01\x01\x01\n")
    assert call(site, "POST", DIGEST, {"bump": "true", "send": "true"})[0] == 202
    assert (lists / "digest.1.4.mmdf").exists() and digest_state(site) == (1, 5)
    # periodic sends only when the list's digest_send_periodic is on.
    mbox.write_bytes(b"\x01\x01\x01\x01\nFrom: c@example.org\n\nhu\n\x01\x01\x01\x01\n")
    assert call(site, "PATCH", "/lists/ant.example.com/config",
                {"digest_send_periodic": "false"})[0] == 204
    assert call(site, "POST", DIGEST, {"periodic": "true"})[0] == 202
    assert mbox.exists() and digest_state(site) == (1, 5)
    assert call(site, "PATCH", "/lists/ant.example.com/config",
                {"digest_send_periodic": "true"})[0] == 204
    assert call(site, "POST", DIGEST, {"periodic": "true"})[0] == 202
    assert not mbox.exists() and (lists / "digest.1.5.mmdf").exists()
    assert digest_state(site) == (1, 6) and len(queued_digests(site)) == 3


def roster(site):
    st, _, body = call(site, "GET", "/lists/ant.example.com/roster/member")
    return sorted(e["email"] for e in body.get("entries", []))


def test_mass_unsubscribe(site):
    ROSTER = "/lists/ant.example.com/roster/member"
    assert roster(site) == sorted(MEMBERS)
    st, _, body = call(site, "DELETE", ROSTER, {})
    assert (st, body["description"]) == (400, "Missing Parameter: emails")
    # A form's repeated key; a non-member and a differently spelt one fail.
    st, _, body = call(site, "DELETE", ROSTER,
                       {"emails": ["m1@example.org", "nobody@example.org", "M2@example.org"]})
    assert st == 200 and "http_etag" in body
    body.pop("http_etag")
    assert body == {"m1@example.org": True, "nobody@example.org": False,
                    "M2@example.org": False}
    assert roster(site) == ["m2@example.org", "m3@example.net"]
    # An owner is not a member: the owner roster URL still removes members only.
    st, _, body = call(site, "DELETE", "/lists/ant.example.com/roster/owner",
                       json_body={"emails": ["boss@example.org", "m2@example.org"]})
    body.pop("http_etag")
    assert body == {"boss@example.org": False, "m2@example.org": True}
    assert call(site, "GET", "/lists/ant.example.com/owner/boss@example.org")[0] == 200
    # "" is no email at all.
    st, _, body = call(site, "DELETE", ROSTER, {"emails": ""})
    assert st == 200 and list(body) == ["http_etag"]
    st, _, body = call(site, "DELETE", ROSTER, json_body={"emails": [1]})
    assert (st, body["description"]) == (400, 'Invalid Parameter "emails": Expected str, got 1.')
    assert call(site, "DELETE", "/lists/bee.example.com/roster/member",
                {"emails": "m3@example.net"})[0] == 404
    assert call(site, "DELETE", "/lists/ant.example.com/roster/bogus",
                {"emails": "m3@example.net"})[0] == 404
    # mailmanclient's call.
    c = mailmanclient.Client(site.base, "restadmin", "restpass")
    result = c.get_list("ant@example.com").mass_unsubscribe(["m3@example.net", "x@example.org"])
    assert result["m3@example.net"] is True and result["x@example.org"] is False
    assert roster(site) == []


def test_plugins(site):
    st, _, body = call(site, "GET", "/plugins")
    assert st == 200 and body["total_size"] == 0 and "entries" not in body
    assert call(site, "GET", "/plugins", base=site.base.replace("3.1", "3.0"))[0] == 404
    site.run("stop", "-q")
    site.write_config(extra=site.extra + "[plugin.zeta]\nclass: zeta.Plugin\nenabled: yes\n"
                                         "configuration: /etc/zeta.cfg\n"
                                         "[plugin.alpha]\nclass: alpha.Plugin\n")
    site.ok("start", "-q")
    st, _, body = call(site, "GET", "/plugins")
    assert st == 200 and body["total_size"] == 2
    for e in body["entries"]:
        assert e.pop("http_etag")
    assert body["entries"] == [
        {"name": "alpha", "class": "alpha.Plugin", "enabled": False},
        {"name": "zeta", "class": "zeta.Plugin", "enabled": True,
         "configuration": "/etc/zeta.cfg"}]
    # No plugin serves a resource of its own.
    assert call(site, "GET", "/plugins/zeta")[0] == 404
    assert call(site, "POST", "/plugins/zeta/x", {"a": "b"})[0] == 404


def test_reserved_and_templates(site):
    assert call(site, "GET", "/reserved/reset")[:3:2] == (204, None)
    assert call(site, "DELETE", "/reserved/uids/orphans")[:3:2] == (204, None)
    st, _, body = call(site, "GET", "/reserved/uids/orphans")
    assert (st, body) == (404, {"title": "404 Not Found", "description": "404 Not Found"})
    assert call(site, "DELETE", "/reserved/reset")[0] == 404
    assert call(site, "GET", "/reserved/reset", auth=None)[0] == 401
    v30 = site.base.replace("3.1", "3.0")
    # API 3.0's template finder finds nothing to serve, as Mailman's.
    st, _, body = call(site, "GET", "/templates/ant@example.com/footer", base=v30)
    assert (st, body["description"]) == (404, "404 Not Found")
    assert call(site, "GET", "/templates/ant@example.com/footer/en", base=v30)[0] == 404
    st, _, body = call(site, "GET", "/templates/bee@example.com/footer", base=v30)
    assert (st, body) == (404, {"title": "404 Not Found"})
    st, _, body = call(site, "GET", "/templates/ant@example.com", base=v30)
    assert (st, body) == (400, {"title": "400 Bad Request"})
    # Removed in 3.1.
    assert call(site, "GET", "/templates/ant@example.com/footer")[0] == 404


def test_digest_bump_starts_a_new_volume(site):
    import sqlite3
    assert call(site, "POST", DIGEST, {"bump": "true"})[0] == 202
    assert digest_state(site) == (1, 2)
    db = sqlite3.connect(site.var / "data" / "mailman.db")
    try:
        where = ("WHERE name = 'digest_last_sent_at' AND list = "
                 "(SELECT id FROM mailinglist WHERE list_id = 'ant.example.com')")
        (sent,) = db.execute("SELECT value FROM list_attr " + where).fetchone()
        year = int(sent[:4])
        with db:
            db.execute("UPDATE list_attr SET value = ? " + where, (f"{year - 1}{sent[4:]}",))
    finally:
        db.close()
    # digest_volume_frequency is monthly: a digest sent last year starts volume 2.
    assert call(site, "POST", DIGEST, {"bump": "true"})[0] == 202
    assert digest_state(site) == (2, 1)
    assert call(site, "POST", DIGEST, {"bump": "true"})[0] == 202
    assert digest_state(site) == (2, 2)
