"""API 3.0 against 3.1 (reference §9; mailman/core/api.py): user and member
ids are decimal integers (Python's uuid.int) under 3.0 and 32 hex digits
under 3.1, in bodies, links and URLs."""
import uuid

import pytest

from test_rest import call, client, rest  # noqa: F401 (the fixture)
from test_rest_users import mailman_etag

mailmanclient = pytest.importorskip("mailmanclient")


def test_ids_in_both_versions(rest):
    c = client(rest)
    dom = c.create_domain("example.com")
    ant = dom.create_list("ant")
    member = ant.subscribe("anne@example.org", pre_verified=True, pre_confirmed=True,
                           pre_approved=True)
    hex_mid = member.member_id
    hex_uid = c.get_user("anne@example.org").user_id
    int_mid, int_uid = uuid.UUID(hex=hex_mid).int, uuid.UUID(hex=hex_uid).int
    base30 = rest.base.replace("/3.1", "/3.0")

    st, _, m = call(rest, "GET", f"/members/{int_mid}", base=base30)
    assert st == 200
    assert m["member_id"] == int_mid and isinstance(m["member_id"], int)
    assert m["self_link"] == f"{base30}/members/{int_mid}"
    assert m["user"] == f"{base30}/users/{int_uid}"
    st, _, u = call(rest, "GET", f"/users/{int_uid}", base=base30)
    assert u["user_id"] == int_uid and u["self_link"] == f"{base30}/users/{int_uid}"
    # The etag is Mailman's: pformat sees the integer.
    assert u["http_etag"] == mailman_etag(u)
    st, _, a = call(rest, "GET", "/addresses/anne@example.org", base=base30)
    assert a["user"] == f"{base30}/users/{int_uid}"
    # Each version reads its own form only.
    assert call(rest, "GET", f"/members/{hex_mid}", base=base30)[0] == 404
    assert call(rest, "GET", f"/members/{int_mid}")[0] == 404
    assert call(rest, "GET", f"/members/{hex_mid}")[2]["member_id"] == hex_mid
    assert call(rest, "GET", f"/users/{int_uid}/preferences", base=base30)[0] == 200
    st, _, body = call(rest, "GET", f"/members/{int_mid}/preferences", base=base30)
    assert body["self_link"] == f"{base30}/members/{int_mid}/preferences"
    # find by user id, subscribe by user id.
    st, _, body = call(rest, "GET", f"/members/find?subscriber={int_uid}", base=base30)
    assert [e["member_id"] for e in body["entries"]] == [int_mid]
    bee = dom.create_list("bee")
    c.get_user("anne@example.org").preferred_address = "anne@example.org"
    st, headers, body = call(rest, "POST", "/members", {
        "list_id": bee.list_id, "subscriber": str(int_uid), "pre_verified": "1",
        "pre_confirmed": "1", "pre_approved": "1"}, base=base30)
    assert st == 201, body
    assert headers["Location"].startswith(f"{base30}/members/")
    new_id = int(headers["Location"].rsplit("/", 1)[1])
    assert call(rest, "GET", f"/members/{new_id}", base=base30)[2]["email"] == "anne@example.org"
    st, _, body = call(rest, "POST", "/addresses/anne@example.org/user", {"user_id": "zz"},
                       base=base30)
    assert st == 409

    # mailmanclient against 3.0.
    c30 = mailmanclient.Client(base30, "restadmin", "restpass")
    user = c30.get_user("anne@example.org")
    assert user.user_id == int_uid
    assert [a.email for a in user.addresses] == ["anne@example.org"]
    assert sorted(m.list_id for m in c30.members) == ["ant.example.com", "bee.example.com"]
