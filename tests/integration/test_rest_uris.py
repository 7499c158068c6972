"""Template URIs (mailman/rest/uris.py): /uris, /domains/<d>/uris and
/lists/<l>/uris over REST, and the template lookup using them before
template_dir and the built-in texts (list, then domain, then site), end to
end: a post over LMTP reaches the members of an aiosmtpd sink with the
footer the URI names."""
import base64
import email
import http.server
import threading

import pytest

from test_posting import message, wait_until
from test_rest import call
from test_rest_held import site  # noqa: F401 (the fixture)

FOOTER = "list:member:regular:footer"
HEADER = "list:member:regular:header"
LURIS = "/lists/ant.example.com/uris"


def test_uris_resources(site):
    base30 = site.base.replace("/3.1", "/3.0")
    assert call(site, "POST", "/domains", {"mail_host": "example.org"})[0] == 201
    st, _, body = call(site, "GET", LURIS)
    assert st == 200
    assert (body["total_size"], "entries" in body) == (0, False)
    assert body["self_link"] == f"{site.base}/lists/ant.example.com/uris"
    # API 3.0 has none of them.
    assert call(site, "GET", LURIS, base=base30)[0] == 404
    assert call(site, "GET", "/uris", base=base30)[0] == 404
    # PATCH some, with or without credentials (both or neither).
    st, _, body = call(site, "PATCH", LURIS, {FOOTER: "http://example.com/f", "username": "u"})
    assert (st, body["description"]) == (400, "Specify both username and password, or neither")
    st, _, body = call(site, "PATCH", LURIS, {"domain:admin:notice:new-list": "file:///x"})
    assert (st, body["description"]) == (
        400, "Unexpected parameters: domain:admin:notice:new-list")
    assert call(site, "PATCH", LURIS, {FOOTER: "http://example.com/$list_id/f",
                                       "username": "u", "password": "p"})[0] == 204
    assert call(site, "PATCH", LURIS, {HEADER: "file:///srv/h.txt"})[0] == 204
    st, _, body = call(site, "GET", LURIS)
    assert body["total_size"] == 2
    footer, header = body["entries"]
    assert footer == {"uri": "http://example.com/$list_id/f", "name": FOOTER,
                      "self_link": f"{site.base}/lists/ant.example.com/uris/{FOOTER}",
                      "username": "u", "password": "p", "http_etag": footer["http_etag"]}
    assert header["name"] == HEADER and "username" not in header
    st, _, one = call(site, "GET", f"{LURIS}/{HEADER}")
    assert (st, one["uri"]) == (200, "file:///srv/h.txt")
    assert set(one) == {"uri", "self_link", "http_etag"}
    assert call(site, "GET", f"{LURIS}/list:user:notice:hold")[0] == 404
    assert call(site, "GET", f"{LURIS}/no:such:template")[0] == 404
    assert call(site, "GET", "/lists/bee.example.com/uris")[0] == 404
    # PUT on one needs its name; an empty URI deletes.
    st, _, body = call(site, "PUT", f"{LURIS}/{HEADER}", {"username": "a", "password": "b"})
    assert (st, body["description"]) == (400, f"Missing Parameter: {HEADER}")
    assert call(site, "PUT", f"{LURIS}/{HEADER}", {HEADER: ""})[0] == 204
    assert call(site, "GET", f"{LURIS}/{HEADER}")[0] == 404
    # A PUT of the whole resource needs every list:* name.
    st, _, body = call(site, "PUT", LURIS, {FOOTER: "file:///f"})
    assert st == 400 and body["description"].startswith("Missing Parameter: list:admin:")
    # Domains take list:* and domain:* names; the site every name.
    duris = "/domains/example.com/uris"
    assert call(site, "PATCH", duris, {"domain:admin:notice:new-list": "file:///d"})[0] == 204
    assert call(site, "GET", duris)[2]["entries"][0]["self_link"] == \
        f"{site.base}/domains/example.com/uris/domain:admin:notice:new-list"
    assert call(site, "GET", "/domains/nowhere.example/uris")[0] == 404
    assert call(site, "PATCH", "/uris", {FOOTER: "file:///s"})[0] == 204
    st, _, body = call(site, "GET", "/uris")
    assert [e["self_link"] for e in body["entries"]] == [f"{site.base}/uris/{FOOTER}"]
    # DELETE all of a resource's, or one; other contexts keep theirs.
    assert call(site, "DELETE", LURIS)[0] == 204
    assert call(site, "GET", LURIS)[2]["total_size"] == 0
    assert call(site, "GET", duris)[2]["total_size"] == 1
    assert call(site, "DELETE", f"/uris/{FOOTER}")[0] == 204
    assert call(site, "GET", "/uris")[2]["total_size"] == 0


def member_copy(site, msgid, rcpt="m2@example.org"):
    for t in site.sink.with_text(msgid):
        if rcpt in t[1]:
            return email.message_from_bytes(t[2]).get_payload(decode=True).decode()
    return None


def test_footer_uri_end_to_end(site, tmp_path):
    footer = tmp_path / "footer.txt"
    footer.write_text("-- \nFrom a file for $display_name ($listname)\n")
    assert call(site, "PATCH", LURIS, {FOOTER: f"file://{footer}"})[0] == 204
    site.post(message("uri1@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "uri1@example.org") is not None)
    body = member_copy(site, "uri1@example.org")
    assert body.startswith("line one\n")
    assert "From a file for Ant (ant@example.com)" in body
    # file:// is read at each lookup: an edit shows at once.
    footer.write_text("-- \nEdited\n")
    site.post(message("uri2@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "uri2@example.org") is not None)
    assert "Edited" in member_copy(site, "uri2@example.org")
    # Without a list URI, the domain's, then the site's; template_dir after.
    assert call(site, "DELETE", f"{LURIS}/{FOOTER}")[0] == 204
    site_footer = tmp_path / "site.txt"
    site_footer.write_text("Site footer\n")
    assert call(site, "PATCH", "/uris", {FOOTER: f"file://{site_footer}"})[0] == 204
    site.post(message("uri3@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "uri3@example.org") is not None)
    assert "Site footer" in member_copy(site, "uri3@example.org")
    # A URI that cannot be read is skipped (and logged).
    assert call(site, "PATCH", "/domains/example.com/uris",
                {FOOTER: f"file://{tmp_path}/missing.txt"})[0] == 204
    site.post(message("uri4@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "uri4@example.org") is not None)
    assert "Site footer" in member_copy(site, "uri4@example.org")
    assert "Cannot retrieve template list:member:regular:footer for example.com" in \
        (site.var / "logs" / "mailman.log").read_text()


class TemplateServer(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        TemplateServer.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/missing":
            self.send_error(404)
            return
        body = f"Header over HTTP {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TemplateServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    TemplateServer.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_header_uri_over_http(site, web):
    assert call(site, "PATCH", "/domains/example.com/uris",
                {HEADER: f"{web}/$list_id/header", "username": "tpl",
                 "password": "secret"})[0] == 204
    site.post(message("web1@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "web1@example.org") is not None)
    assert member_copy(site, "web1@example.org").startswith(
        "Header over HTTP /ant.example.com/header\n")
    auth = "Basic " + base64.b64encode(b"tpl:secret").decode()
    assert TemplateServer.seen[0] == ("/ant.example.com/header", auth)
    # Cached: a second post does not fetch again.
    site.post(message("web2@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "web2@example.org") is not None)
    assert "Header over HTTP" in member_copy(site, "web2@example.org")
    assert len(TemplateServer.seen) == 1
    # A 404 is an empty template, as Mailman.
    assert call(site, "PATCH", LURIS, {HEADER: f"{web}/missing"})[0] == 204
    site.post(message("web3@example.org"), "m1@example.org")
    assert wait_until(lambda: member_copy(site, "web3@example.org") is not None)
    assert member_copy(site, "web3@example.org").startswith("line one\n")
