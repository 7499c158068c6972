"""REST users, addresses and preferences (reference §9; mailman/rest/users.py,
addresses.py, preferences.py) through mailmanclient and raw HTTP."""
import datetime
import hashlib
import pprint

import pytest

from test_rest import AUTH, call, client, rest  # noqa: F401 (the fixture)

mailmanclient = pytest.importorskip("mailmanclient")


class PyEnum:
    """Stands for a Mailman enum member in pformat: <Cls.name: value>."""

    def __init__(self, cls, name, value):
        self.text = f"<{cls}.{name}: {value}>"

    def __repr__(self):
        return self.text


DELIVERY_MODE = {"regular": 1, "plaintext_digests": 2, "mime_digests": 3, "summary_digests": 4}
DELIVERY_STATUS = {"enabled": 1, "by_user": 2, "by_bounces": 3, "by_moderator": 4, "unknown": 5}


def mailman_etag(body):
    """The etag Mailman computes for this resource: its Python values."""
    d = {k: v for k, v in body.items() if k != "http_etag"}
    for k in ("created_on", "registered_on", "verified_on"):
        if k in d:
            d[k] = datetime.datetime.fromisoformat(d[k])
    if "delivery_mode" in d:
        d["delivery_mode"] = PyEnum("DeliveryMode", d["delivery_mode"],
                                    DELIVERY_MODE[d["delivery_mode"]])
    if "delivery_status" in d:
        d["delivery_status"] = PyEnum("DeliveryStatus", d["delivery_status"],
                                      DELIVERY_STATUS[d["delivery_status"]])
    food = pprint.pformat(d).encode("raw-unicode-escape")
    return '"{}"'.format(hashlib.sha1(food).hexdigest())


def test_users_through_mailmanclient(rest):
    c = client(rest)
    anne = c.create_user("anne@example.com", "secret", "Anne Person")
    assert anne.display_name == "Anne Person"
    assert anne.password.startswith("$6$rounds=60000$")
    assert anne.is_server_owner is False
    assert len(anne.user_id) == 32
    assert [a.email for a in anne.addresses] == ["anne@example.com"]
    assert c.get_user("anne@example.com").user_id == anne.user_id
    assert [u.user_id for u in c.users] == [anne.user_id]

    old_hash = anne.password
    anne.display_name = "Anne X"
    anne.is_server_owner = True
    anne.password = "other"
    anne.save()
    again = c.get_user(anne.user_id)
    assert again.display_name == "Anne X" and again.is_server_owner is True
    assert again.password != old_hash
    st = call(rest, "POST", f"/users/{anne.user_id}/login", {"cleartext_password": "other"})[0]
    assert st == 204
    st, _, body = call(rest, "POST", f"/users/{anne.user_id}/login",
                       {"cleartext_password": "secret"})
    assert (st, body) == (403, {"title": "403 Forbidden", "description": "403 Forbidden"})
    assert [e["user_id"] for e in call(rest, "GET", "/owners")[2]["entries"]] == [anne.user_id]

    # A second address, verified and made preferred.
    addr = anne.add_address("anne@example.org")
    assert addr.email == "anne@example.org"
    assert sorted(a.email for a in anne.addresses) == ["anne@example.com", "anne@example.org"]
    a = c.get_address("anne@example.org")
    assert a.verified is False
    assert anne.preferred_address is None
    st, _, body = call(rest, "POST", f"/users/{anne.user_id}/preferred_address",
                       {"email": "anne@example.org"})
    assert (st, body["description"]) == (
        400, "anne@example.org must be verified before setting as primary")
    a.verify()
    assert c.get_address("anne@example.org").verified is True
    anne.preferred_address = "anne@example.org"
    assert anne.preferred_address.email == "anne@example.org"
    anne.preferred_address = None
    assert c.get_user(anne.user_id).preferred_address is None
    a.unverify()
    assert c.get_address("anne@example.org").verified is False

    # Preferences at each level.
    prefs = anne.preferences
    assert dict(prefs) == {}
    prefs["receive_list_copy"] = False
    prefs["delivery_mode"] = "mime_digests"
    prefs.save()
    got = c.get_user(anne.user_id).preferences
    assert got["receive_list_copy"] is False and got["delivery_mode"] == "mime_digests"
    aprefs = c.get_address("anne@example.com").preferences
    aprefs["acknowledge_posts"] = True
    aprefs.save()
    assert c.get_address("anne@example.com").preferences["acknowledge_posts"] is True
    aprefs.delete()
    assert dict(c.get_address("anne@example.com").preferences) == {}
    system = c.preferences
    assert dict(system) == {
        "acknowledge_posts": False, "delivery_mode": "regular", "delivery_status": "enabled",
        "hide_address": True, "preferred_language": "en", "receive_list_copy": True,
        "receive_own_postings": True}

    c.get_address("anne@example.org").delete()
    assert [a.email for a in anne.addresses] == ["anne@example.com"]
    anne.delete()
    assert c.users == []
    assert call(rest, "GET", "/addresses")[2]["total_size"] == 0


def test_member_preferences(rest):
    c = client(rest)
    dom = c.create_domain("example.com")
    ant = dom.create_list("ant")
    member = ant.subscribe("bart@example.org", pre_verified=True, pre_confirmed=True,
                           pre_approved=True)
    prefs = member.preferences
    prefs["delivery_status"] = "by_user"
    prefs.save()
    assert c.get_member("ant.example.com", "bart@example.org").preferences[
        "delivery_status"] == "by_user"
    st, _, body = call(rest, "GET", f"/members/{member.member_id}/all/preferences")
    assert st == 200
    assert body["delivery_status"] == "by_user"
    assert body["delivery_mode"] == "regular"
    assert body["preferred_language"] == "en"
    assert "hide_address" not in body
    assert body["self_link"] == f"{rest.base}/members/{member.member_id}/all/preferences"
    assert body["http_etag"] == mailman_etag(body)
    # The memberships of an address (it has a user: subscribing made one).
    st, _, body = call(rest, "GET", "/addresses/bart@example.org/memberships")
    assert [e["list_id"] for e in body["entries"]] == ["ant.example.com"]


def test_representations_and_etags(rest):
    st, headers, _ = call(rest, "POST", "/users", {"email": "Cris@Example.com",
                                                   "display_name": "Cris"})
    assert st == 201
    user_url = headers["Location"]
    uid = user_url.rsplit("/", 1)[1]
    st, _, user = call(rest, "GET", f"/users/{uid}")
    assert set(user) == {"created_on", "is_server_owner", "self_link", "user_id", "password",
                         "display_name", "http_etag"}
    assert user["self_link"] == user_url and user["user_id"] == uid
    assert user["http_etag"] == mailman_etag(user)
    st, _, addr = call(rest, "GET", "/addresses/cris@example.com")
    assert addr["email"] == "cris@example.com" and addr["original_email"] == "Cris@Example.com"
    assert addr["display_name"] == "Cris"
    assert addr["user"] == user_url
    assert "verified_on" not in addr
    assert addr["http_etag"] == mailman_etag(addr)
    call(rest, "POST", "/addresses/cris@example.com/verify")
    st, _, addr = call(rest, "GET", "/addresses/Cris@example.com")
    assert "verified_on" in addr and addr["http_etag"] == mailman_etag(addr)
    st, _, prefs = call(rest, "GET", "/system/preferences")
    assert prefs["http_etag"] == mailman_etag(prefs)
    assert call(rest, "PATCH", f"/users/{uid}/preferences",
                {"delivery_mode": "plaintext_digests", "hide_address": "false"})[0] == 204
    st, _, prefs = call(rest, "GET", f"/users/{uid}/preferences")
    assert prefs == {"delivery_mode": "plaintext_digests", "hide_address": False,
                     "self_link": f"{rest.base}/users/{uid}/preferences",
                     "http_etag": mailman_etag(prefs)}
    st, _, coll = call(rest, "GET", "/users")
    assert coll["entries"][0]["http_etag"] == user["http_etag"]


def test_user_errors(rest):
    c = client(rest)
    c.create_user("dave@example.com", "pw")
    st, _, body = call(rest, "POST", "/users", {"email": "dave@example.com"})
    assert (st, body["description"]) == (400, "User already exists: dave@example.com")
    st, _, body = call(rest, "POST", "/users", {"email": "not-an-address"})
    assert (st, body["description"]) == (400, "Invalid email address not-an-address")
    st, _, body = call(rest, "POST", "/users", {"display_name": "x"})
    assert (st, body["description"]) == (400, "Invalid email address Missing Parameter: email")
    # An existing address without a user gets one.
    call(rest, "POST", "/domains", {"mail_host": "example.com"})
    call(rest, "POST", "/lists", {"fqdn_listname": "ant@example.com"})
    call(rest, "POST", "/members", {"list_id": "ant.example.com", "subscriber": "non@example.com",
                                    "role": "nonmember"})
    assert call(rest, "GET", "/addresses/non@example.com/user")[0] == 404
    st, headers, _ = call(rest, "POST", "/users", {"email": "non@example.com"})
    assert st == 201
    assert call(rest, "GET", "/addresses/non@example.com")[2]["user"] == headers["Location"]

    uid = c.get_user("dave@example.com").user_id
    st, _, body = call(rest, "PATCH", f"/users/{uid}", {"email": "x@example.com"})
    assert (st, body["description"]) == (400, "Unknown attribute: email")
    st, _, body = call(rest, "PUT", f"/users/{uid}", {"display_name": "Dave"})
    assert (st, body["description"]) == (
        400, "Missing Parameter: cleartext_password, is_server_owner")
    assert call(rest, "PUT", f"/users/{uid}", {"display_name": "Dave", "is_server_owner": "no",
                                               "cleartext_password": "pw2"})[0] == 204
    assert call(rest, "POST", f"/users/{uid}/login", {"cleartext_password": "pw2"})[0] == 204
    assert call(rest, "GET", "/users/0123456789abcdef0123456789abcdef")[0] == 404
    assert call(rest, "GET", "/users/nobody@example.com")[0] == 404
    assert call(rest, "GET", "/users/zzz")[0] == 404
    # Dashed and braced forms of the hex id are read as Python's UUID() reads them.
    dashed = "{%s-%s-%s-%s-%s}" % (uid[:8], uid[8:12], uid[12:16], uid[16:20], uid[20:])
    assert call(rest, "GET", f"/users/{dashed}")[2]["user_id"] == uid

    # Addresses of a user: another user's address, and absorbing it.
    other_id = c.create_user("erin@example.com", "pw").user_id
    st, _, body = call(rest, "POST", f"/users/{uid}/addresses", {"email": "erin@example.com"})
    assert (st, body["description"]) == (400, "Address belongs to other user")
    st, _, body = call(rest, "POST", f"/users/{uid}/addresses", {"email": "bad"})
    assert (st, body["description"]) == (400, "Invalid email address")
    st, headers, _ = call(rest, "POST", f"/users/{uid}/addresses",
                          {"email": "erin@example.com", "absorb_existing": "1"})
    assert (st, headers["Location"]) == (201, f"{rest.base}/addresses/erin@example.com")
    assert call(rest, "GET", f"/users/{other_id}")[0] == 404
    emails = [e["email"] for e in call(rest, "GET", f"/users/{uid}/addresses")[2]["entries"]]
    assert emails == ["dave@example.com", "erin@example.com"]

    # /addresses/<email>/user: unlink, then link to an existing user.
    assert call(rest, "DELETE", "/addresses/erin@example.com/user")[0] == 204
    assert "user" not in call(rest, "GET", "/addresses/erin@example.com")[2]
    st, _, body = call(rest, "POST", "/addresses/erin@example.com/user",
                       {"user_id": "0123456789abcdef0123456789abcdef"})
    assert (st, body["description"]) == (400, "No user with ID 0123456789abcdef0123456789abcdef")
    st, _, body = call(rest, "POST", "/addresses/erin@example.com/user", {"user_id": uid})
    assert (st, body) == (200, None)
    st, _, body = call(rest, "POST", "/addresses/erin@example.com/user", {"user_id": uid})
    assert (st, body) == (409, {"title": "409 Conflict", "description": "409 Conflict"})
    assert call(rest, "DELETE", "/addresses/erin@example.com/user")[0] == 204
    st, headers, _ = call(rest, "POST", "/addresses/erin@example.com/user",
                          {"display_name": "Erin"})
    assert st == 201
    assert call(rest, "GET", "/addresses/erin@example.com")[2]["user"] == headers["Location"]
    st, _, body = call(rest, "PATCH", "/addresses/erin@example.com", {})
    assert (st, body["description"]) == (400, "Missing Parameter: display_name")
    assert call(rest, "PATCH", "/addresses/erin@example.com", {"display_name": "E"})[0] == 204
    assert call(rest, "GET", "/addresses/erin@example.com")[2]["display_name"] == "E"
    assert call(rest, "DELETE", "/addresses/nobody@example.com")[0] == 404

    # Preferences: validation.
    st, _, body = call(rest, "PATCH", f"/users/{uid}/preferences", {"delivery_mode": "x"})
    assert (st, body["description"]) == (
        400, 'Invalid Parameter "delivery_mode": Accepted Values are: regular, '
             'plaintext_digests, mime_digests, summary_digests.')
    st, _, body = call(rest, "PUT", f"/users/{uid}/preferences", {"hide_address": "true"})
    assert st == 400 and body["description"].startswith("Missing Parameter: acknowledge_posts")
    assert call(rest, "PATCH", "/system/preferences", {"hide_address": "true"})[0] == 405


def test_domain_owners(rest):
    c = client(rest)
    dom = c.create_domain("example.com")
    dom.add_owner("own@example.com")
    assert [o.addresses[0].email for o in dom.owners] == ["own@example.com"]
    st = call(rest, "POST", "/domains/example.com/owners",
              {"owner": ["two@example.com", "three@example.com"]})[0]
    assert st == 204
    assert call(rest, "GET", "/domains/example.com/owners")[2]["total_size"] == 3
    assert call(rest, "DELETE", "/domains/example.com/owners")[0] == 204
    assert call(rest, "GET", "/domains/example.com/owners")[2]["total_size"] == 0
    assert call(rest, "GET", "/domains/example.org/owners")[0] == 404
