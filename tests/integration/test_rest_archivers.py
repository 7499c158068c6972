"""/lists/<l>/archivers (mailman/rest/lists.py ListArchivers): the archivers
enabled site-wide with the list's own switches, and the archive runner
following them."""
import pytest

from test_posting import delivered, message, wait_until
from test_rest import call
from test_rest_held import site as held_site  # noqa: F401 (the fixture)

ARCH = "/lists/ant.example.com/archivers"


@pytest.fixture
def site(held_site):
    """test_rest_held's site with archivers enabled site-wide."""
    held_site.run("stop", "-q")
    held_site.write_config(extra=held_site.extra + "[archiver.prototype]\nenable: yes\n"
                                  "[archiver.mhonarc]\nenable: yes\n"
                                  "[archiver.mail_archive]\nenable: no\n")
    held_site.ok("start", "-q")
    return held_site


def test_archivers_resource(site):
    st, _, body = call(site, "GET", ARCH)
    assert st == 200
    body.pop("http_etag")
    # Only the site's enabled archivers, by their classes' names.
    assert body == {"mhonarc": True, "prototype": True}
    assert call(site, "GET", "/lists/bee.example.com/archivers")[0] == 404
    # Mailman's texts (rest/tests/test_lists.py TestListArchivers).
    st, _, body = call(site, "PUT", ARCH, {"bogus-archiver": "true"})
    assert (st, body["description"]) == (400, "Unexpected parameters: bogus-archiver")
    st, _, body = call(site, "PATCH", ARCH, {"mail-archive": "true"})
    assert (st, body["description"]) == (400, "Unexpected parameters: mail-archive")
    st, _, body = call(site, "PUT", ARCH, {"prototype": "true"})
    assert (st, body["description"]) == (400, "Missing Parameter: mhonarc")
    st, _, body = call(site, "PATCH", ARCH, {"prototype": "Sure", "mhonarc": "no"})
    assert (st, body["description"]) == (400, "Invalid boolean value: sure")
    # ... and nothing was written.
    assert call(site, "GET", ARCH)[2]["mhonarc"] is True
    assert call(site, "PATCH", ARCH, {"mhonarc": "disabled"})[0] == 204
    assert call(site, "PUT", ARCH, json_body={"mhonarc": True, "prototype": False})[0] == 204
    st, _, body = call(site, "GET", ARCH)
    assert (body["mhonarc"], body["prototype"]) == (True, False)


def test_archive_runner_follows_the_list(site):
    box = site.var / "archives" / "prototype" / "ant@example.com" / "new"
    site.post(message("on1@example.org"), "m1@example.org")
    assert wait_until(lambda: len(list(box.glob("*"))) == 1)
    assert call(site, "PATCH", ARCH, {"prototype": "false"})[0] == 204
    site.post(message("off1@example.org"), "m1@example.org")
    assert wait_until(lambda: len(delivered(site, "off1@example.org")) == 3)
    assert wait_until(lambda: list((site.var / "queue" / "archive").glob("*")) == [])
    assert len(list(box.glob("*"))) == 1
    assert call(site, "PATCH", ARCH, {"prototype": "yes"})[0] == 204
    site.post(message("on2@example.org"), "m1@example.org")
    assert wait_until(lambda: len(list(box.glob("*"))) == 2)
