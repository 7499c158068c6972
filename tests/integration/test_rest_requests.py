"""Subscription workflows over REST (mailman/rest/members.py on_post and
on_delete, sub_moderation.py): 202 with a token when the subscriber or a
moderator must act, /lists/<l>/requests to see and decide, the mail the
workflows send reaching an aiosmtpd sink."""
import pytest

from test_posting import wait_until
from test_rest import call
from test_rest_held import site  # noqa: F401 (the fixture)

mailmanclient = pytest.importorskip("mailmanclient")

REQ = "/lists/ant.example.com/requests"


def policy(site, **kw):
    assert call(site, "PATCH", "/lists/ant.example.com/config", kw)[0] == 204


def roster(site):
    st, _, body = call(site, "GET", "/lists/ant.example.com/roster/member")
    return sorted(m["email"] for m in body.get("entries", []))


def mail_to(site, rcpt, needle):
    return [t for t in site.sink.transactions if rcpt in t[1] and needle.encode() in t[2]]


def test_confirm_policy_needs_the_subscriber(site):
    # legacy-default: subscription_policy confirm; an unverified address.
    st, _, body = call(site, "POST", "/members",
                       {"list_id": "ant.example.com", "subscriber": "anne@example.org"})
    assert st == 202
    assert body["token_owner"] == "subscriber" and len(body["token"]) == 40
    assert "anne@example.org" not in roster(site)
    # The confirmation request goes out, naming the token.
    assert wait_until(lambda: mail_to(site, "anne@example.org", body["token"]))
    st, _, again = call(site, "POST", "/members",
                        {"list_id": "ant.example.com", "subscriber": "anne@example.org"})
    assert (st, again["description"]) == (409, "Subscription request already pending")
    # The pending shows among the list's requests (owner subscriber).
    st, _, reqs = call(site, "GET", f"{REQ}?token_owner=subscriber")
    assert [e["email"] for e in reqs["entries"]] == ["anne@example.org"]
    assert call(site, "GET", f"{REQ}?token_owner=moderator")[2]["total_size"] == 0
    # Anyone holding the token can confirm it, the REST admin too.
    assert call(site, "POST", f"{REQ}/{body['token']}", {"action": "accept"})[0] == 204
    assert "anne@example.org" in roster(site)


def test_moderated_subscription(site):
    policy(site, subscription_policy="moderate")
    st, _, body = call(site, "POST", "/members", {
        "list_id": "ant.example.com", "subscriber": "bart@example.org",
        "display_name": "Bart", "pre_verified": "true"})
    assert (st, body["token_owner"]) == (202, "moderator")
    token = body["token"]
    st, _, reqs = call(site, "GET", REQ)
    assert reqs["total_size"] == 1
    entry = reqs["entries"][0]
    assert {k: entry[k] for k in ("token", "type", "list_id", "email", "display_name",
                                  "token_owner")} == {
        "token": token, "type": "subscription", "list_id": "ant.example.com",
        "email": "bart@example.org", "display_name": "Bart", "token_owner": "moderator"}
    assert "when" in entry and "http_etag" in entry
    assert call(site, "GET", f"{REQ}/count")[2]["count"] == 1
    assert call(site, "GET", f"{REQ}/count?token_owner=moderator")[2]["count"] == 1
    st, _, one = call(site, "GET", f"{REQ}/{token}")
    assert (st, one["email"]) == (200, "bart@example.org")
    assert call(site, "GET", f"{REQ}/{'0' * 40}")[0] == 404
    st, _, bad = call(site, "GET", f"{REQ}?token_owner=boss")
    assert (st, bad["description"]) == (
        400, 'Invalid Parameter "token_owner": Accepted Values are: no_one, subscriber, '
             'moderator.')
    st, _, bad = call(site, "POST", f"{REQ}/{token}", {"action": "maybe"})
    assert st == 400
    # defer (and hold) leave it; accept subscribes; the token is then gone.
    assert call(site, "POST", f"{REQ}/{token}", {"action": "defer"})[0] == 204
    assert call(site, "POST", f"{REQ}/{token}", {"action": "hold"})[0] == 204
    assert "bart@example.org" not in roster(site)
    assert call(site, "POST", f"{REQ}/{token}", {"action": "accept"})[0] == 204
    assert "bart@example.org" in roster(site)
    assert call(site, "POST", f"{REQ}/{token}", {"action": "accept"})[0] == 404
    assert call(site, "GET", f"{REQ}/count")[2]["count"] == 0


def test_reject_and_discard(site):
    policy(site, subscription_policy="moderate")
    tokens = {}
    for who in ("cris@example.org", "dave@example.org"):
        st, _, body = call(site, "POST", "/members", {
            "list_id": "ant.example.com", "subscriber": who, "pre_verified": "true"})
        assert st == 202
        tokens[who] = body["token"]
    assert call(site, "POST", f"{REQ}/{tokens['cris@example.org']}",
                {"action": "reject", "reason": "Not on the guest list"})[0] == 204
    assert call(site, "POST", f"{REQ}/{tokens['dave@example.org']}",
                {"action": "discard"})[0] == 204
    assert call(site, "GET", f"{REQ}/count")[2]["count"] == 0
    assert roster(site) == sorted(["m1@example.org", "m2@example.org", "m3@example.net"])
    assert wait_until(lambda: mail_to(site, "cris@example.org", "Not on the guest list"))
    assert not mail_to(site, "dave@example.org", "")


def test_unsubscription_workflows(site):
    st, _, m = call(site, "GET", "/lists/ant.example.com/member/m1@example.org")
    member = m["self_link"].replace(site.base, "")
    # Under a moderated unsubscription_policy a member's leaving waits.
    policy(site, unsubscription_policy="moderate")
    st, _, body = call(site, "DELETE", member)
    assert (st, body["token_owner"]) == (202, "moderator")
    st, _, reqs = call(site, "GET", f"{REQ}?request_type=unsubscription")
    assert [e["type"] for e in reqs["entries"]] == ["unsubscription"]
    assert call(site, "GET", REQ)[2]["total_size"] == 0  # subscriptions only by default
    assert "m1@example.org" in roster(site)
    assert call(site, "POST", f"{REQ}/{body['token']}", {"action": "accept"})[0] == 204
    assert "m1@example.org" not in roster(site)
    # pre_approved skips the moderator; pre_confirmed=false asks the member.
    st, _, body = call(site, "DELETE", "/lists/ant.example.com/member/m2@example.org",
                       {"pre_approved": "true"})
    assert st == 204
    policy(site, unsubscription_policy="confirm")
    st, _, body = call(site, "DELETE", "/lists/ant.example.com/member/m3@example.net",
                       {"pre_confirmed": "false"})
    assert (st, body["token_owner"]) == (202, "subscriber")
    assert wait_until(lambda: mail_to(site, "m3@example.net", body["token"]))
    assert roster(site) == ["m3@example.net"]


def test_invitation_and_mailmanclient(site):
    st, _, body = call(site, "POST", "/members", {
        "list_id": "ant.example.com", "subscriber": "erin@example.org", "invitation": "true"})
    assert (st, body["token_owner"]) == (202, "subscriber")
    assert wait_until(lambda: mail_to(site, "erin@example.org", body["token"]))
    assert "erin@example.org" not in roster(site)
    # mailmanclient's moderation calls.
    c = mailmanclient.Client(site.base, "restadmin", "restpass")
    ant = c.get_list("ant.example.com")
    ant.settings["subscription_policy"] = "moderate"
    ant.settings.save()
    pending = ant.subscribe("fred@example.org", pre_verified=True)
    assert pending["token_owner"] == "moderator"
    assert [r["email"] for r in ant.get_requests(token_owner="moderator")] == \
        ["fred@example.org"]
    assert ant.get_requests_count(token_owner="moderator") == 1
    ant.moderate_request(pending["token"], "accept")
    assert "fred@example.org" in roster(site)
    # Direct subscriptions still answer 201.
    member = ant.subscribe("gina@example.org", pre_verified=True, pre_confirmed=True,
                           pre_approved=True)
    assert member.email == "gina@example.org"
