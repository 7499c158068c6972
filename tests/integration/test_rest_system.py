"""REST system resources, list styles, /lists/find and rosters by role
(reference §9; mailman/rest/root.py, lists.py) through mailmanclient and
raw HTTP."""
import pytest

from test_rest import call, client, rest  # noqa: F401 (the fixture)

mailmanclient = pytest.importorskip("mailmanclient")


def test_configuration(rest):
    c = client(rest)
    sections = c.configuration
    assert "mailman" in sections and "webservice" in sections and "mta" in sections
    assert sections["webservice"]["port"] == str(rest.rest_port)
    assert sections["mailman"]["default_language"] == "en"
    st, _, body = call(rest, "GET", "/system/configuration")
    assert body["sections"] == sorted(body["sections"])
    assert body["self_link"] == f"{rest.base}/system/configuration"
    st, _, body = call(rest, "GET", "/system/configuration/webservice")
    assert body["self_link"] == f"{rest.base}/system/configuration/webservice"
    assert body["hostname"] == "127.0.0.1" and body["admin_user"] == "restadmin"
    st, _, body = call(rest, "GET", "/system/configuration/nosuch")
    assert (st, body) == (404, {"title": "404 Not Found", "description": "404 Not Found"})


def test_pipelines_chains_styles(rest):
    c = client(rest)
    assert c.pipelines["pipelines"] == [
        "default-owner-pipeline", "default-posting-pipeline", "virgin"]
    chains = c.chains["chains"]
    assert chains == sorted(chains) and "header-match" in chains and "hold" in chains
    styles = c.styles
    assert styles["default"] == "legacy-default"
    assert styles["style_names"] == ["legacy-announce", "legacy-default", "private-default"]
    assert [s["name"] for s in styles["styles"]] == styles["style_names"]


def test_find_lists_and_rosters(rest):
    c = client(rest)
    dom = c.create_domain("example.com")
    ant, bee = dom.create_list("ant"), dom.create_list("bee")
    ant.subscribe("anne@example.org", pre_verified=True, pre_confirmed=True, pre_approved=True)
    bee.add_owner("anne@example.org")
    bee.add_moderator("mod@example.org")
    assert [l.list_id for l in c.find_lists("anne@example.org")] == [
        "ant.example.com", "bee.example.com"]
    assert [l.list_id for l in c.find_lists("anne@example.org", role="owner")] == [
        "bee.example.com"]
    st, _, body = call(rest, "GET", "/lists/find?subscriber=nobody@example.org")
    assert st == 404
    st, _, body = call(rest, "POST", "/lists/find", {"subscriber": "anne@example.org",
                                                     "role": "boss"})
    assert st == 400 and body["description"].startswith('Invalid Parameter "role"')
    # By user id: every membership of the user's addresses.
    uid = c.get_user("anne@example.org").user_id
    st, _, body = call(rest, "GET", f"/lists/find?subscriber={uid}")
    assert [e["list_id"] for e in body["entries"]] == ["ant.example.com", "bee.example.com"]

    assert [o.email for o in bee.owners] == ["anne@example.org"]
    assert [m.email for m in bee.moderators] == ["mod@example.org"]
    assert [m.email for m in bee.get_roster("moderator", fields=["email"])] == [
        "mod@example.org"]
    st, _, body = call(rest, "GET", "/lists/bee.example.com/roster/owner?fields=role")
    assert body["entries"][0]["role"] == "owner" and set(body["entries"][0]) == {
        "role", "http_etag"}
    st, _, body = call(rest, "GET", "/lists/bee.example.com/roster/owner?bogus=1")
    assert (st, body["description"]) == (400, "Unexpected parameters: bogus")
    assert call(rest, "GET", "/lists/bee.example.com/roster/boss")[0] == 404
