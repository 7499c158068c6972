"""A post's recipient list as the pipeline fixes it in the out entry
(member-recipients, avoid-duplicates): who is in it, in which order, and
that a list of thousands of members written in one metadata line reaches
every member through the out runner."""
import smtplib
import sqlite3
import time

import pytest

from test_posting import start_sink_site, wait_until


def unescape(value):
    """docs/queues.md: \\\\, \\n, \\r and \\xHH."""
    out, i = bytearray(), 0
    while i < len(value):
        c = value[i]
        if c != 0x5C:
            out.append(c)
            i += 1
        elif value[i + 1] == ord("x"):
            out.append(int(value[i + 2:i + 4], 16))
            i += 4
        else:
            out.append({ord("\\"): 0x5C, ord("n"): 0x0A, ord("r"): 0x0D}[value[i + 1]])
            i += 2
    return bytes(out)


def out_recipients(site):
    """The recipients of the only entry waiting in the out queue."""
    entries = list((site.var / "queue" / "out").glob("*.pck"))
    if len(entries) != 1:
        return None
    data = entries[0].read_bytes()
    head = data.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if line.startswith(b"recipients:"):
            return unescape(line[len(b"recipients: "):]).decode().split("\n")
    return []


@pytest.fixture(params=["cache", "nocache"])
def site(crier, request):
    """A list whose out entries wait; the pipeline keeps rosters of any size
    between posts (cache), or reads the roster for every post (nocache)."""
    pipeline = "[runner.pipeline]\n" + ("roster_cache_min_members: 1\n" if request.param == "cache"
                                        else "roster_cache_bytes: 0\n")
    # The out runner waits, so that the entry the pipeline wrote can be read.
    controller = start_sink_site(crier, "fan@example.com",
                                 extra=pipeline + "[runner.out]\nstart: no\n")
    crier.base_config = crier.site_config + pipeline

    def post(msgid, sender, extra=""):
        msg = (f"From: {sender}\nTo: fan@example.com\nSubject: hi\n"
               f"Message-ID: <{msgid}>\n{extra}\nbody\n")
        with smtplib.LMTP("127.0.0.1", crier.lmtp_port, timeout=10) as c:
            return c.sendmail(sender, ["fan@example.com"], msg)
    crier.post = post
    yield crier
    crier.run("stop", "-q")
    controller.stop()


def set_pref(site, sql, *args):
    db = sqlite3.connect(site.data_dir / "mailman.db")
    with db:
        db.execute(sql, args)
    db.close()


def test_recipients_filtered_and_sorted(site):
    members = ["zed@example.org", "Amy@Example.org", "bob@example.com", "me@example.net",
               "nomail@example.org", "bounced@example.org", "digest@example.org",
               "userdigest@example.org", "cc-off@example.org", "cc-on@example.org",
               "0zero@example.org"]
    site.ok("addmembers", "-", "fan@example.com", input="\n".join(members) + "\n")
    addr = "(SELECT id FROM address WHERE email = ?)"
    # each preference at one of its three levels: member, address, user
    # (addmembers sets the member's delivery mode and status: cleared where
    # the address's or the user's is to count)
    set_pref(site, f"UPDATE member SET p_status = 2 WHERE address = {addr}", "nomail@example.org")
    set_pref(site, f"UPDATE member SET p_status = NULL WHERE address = {addr}",
             "bounced@example.org")
    set_pref(site, f"UPDATE address SET p_status = 3 WHERE id = {addr}", "bounced@example.org")
    set_pref(site, f"UPDATE member SET p_mode = 3 WHERE address = {addr}", "digest@example.org")
    set_pref(site, f"UPDATE member SET p_mode = NULL WHERE address = {addr}",
             "userdigest@example.org")
    set_pref(site, "UPDATE users SET p_mode = 2 WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "userdigest@example.org")
    set_pref(site, "UPDATE users SET p_rop = 0 WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "me@example.net")
    set_pref(site, f"UPDATE address SET p_rlc = 0 WHERE id = {addr}", "cc-off@example.org")
    site.ok("start", "-q")
    assert site.post("f1@example.org", "me@example.net",
                     extra="Cc: cc-off@example.org, cc-on@example.org\n") == {}
    assert wait_until(lambda: out_recipients(site) is not None)
    # sorted by bytes: digits, then upper case, then lower case; the sender
    # (receive_own_postings off), the nomail, bounced and digest members and
    # the Cc'd member without receive_list_copy are left out
    assert out_recipients(site) == ["0zero@example.org", "amy@example.org", "bob@example.com",
                                    "cc-on@example.org", "zed@example.org"]


def test_thousands_of_members_in_one_entry_reach_the_sink(site):
    n = 5000
    # added in an order unlike the sorted one
    emails = [f"m{(i * 7919) % n}@example.org" for i in range(n)]
    site.ok("addmembers", "-", "fan@example.com", input="\n".join(emails) + "\n")
    site.ok("start", "-q")
    assert site.post("f2@example.org", "m1@example.org") == {}
    assert wait_until(lambda: out_recipients(site) is not None)
    got = out_recipients(site)
    assert got == sorted(emails)
    site.ok("stop", "-q")
    site.write_config(extra=site.base_config)
    site.ok("start", "-q")
    def rcpts():
        return [r for t in site.sink.transactions for r in t[1]]
    assert wait_until(lambda: len(rcpts()) >= n, timeout=30)
    time.sleep(0.2)
    assert sorted(rcpts()) == sorted(emails)
    assert not list((site.var / "queue" / "out").glob("*.pck"))


def take_out_entry(site):
    """The recipients of the waiting out entry, which is then removed."""
    assert wait_until(lambda: out_recipients(site) is not None)
    got = out_recipients(site)
    for p in (site.var / "queue" / "out").glob("*.pck"):
        p.unlink()
    return got


def test_roster_changes_reach_the_next_post(site):
    """Whatever changes the roster between two posts shows in the second
    one, also when the pipeline kept the first one's roster: a member
    added or removed, and preferences changed by crier or straight in the
    database, at member, address and user level."""
    members = ["a@example.org", "b@example.org", "c@example.org", "d@example.org",
               "e@example.org", "f@example.org"]
    site.ok("addmembers", "-", "fan@example.com", input="\n".join(members) + "\n")
    site.ok("start", "-q")
    assert site.post("r1@example.org", "a@example.org") == {}
    assert take_out_entry(site) == members
    # the same roster again (the kept one, with the cache)
    assert site.post("r2@example.org", "b@example.org") == {}
    assert take_out_entry(site) == members
    site.ok("delmembers", "-l", "fan@example.com", "-m", "b@example.org")
    site.ok("addmembers", "-", "fan@example.com", input="g@example.org\n")
    addr = "(SELECT id FROM address WHERE email = ?)"
    set_pref(site, f"UPDATE member SET p_status = 2 WHERE address = {addr}", "c@example.org")
    set_pref(site, f"UPDATE member SET p_mode = NULL WHERE address = {addr}", "d@example.org")
    set_pref(site, "UPDATE users SET p_mode = 2 WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "d@example.org")
    assert site.post("r3@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org", "e@example.org", "f@example.org",
                                    "g@example.org"]
    # back: the user's preference cleared, the address's status set
    set_pref(site, "UPDATE users SET p_mode = NULL WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "d@example.org")
    set_pref(site, f"UPDATE member SET p_status = NULL WHERE address = {addr}", "e@example.org")
    set_pref(site, f"UPDATE address SET p_status = 3 WHERE id = {addr}", "e@example.org")
    assert site.post("r4@example.org", "a@example.org",
                     extra="Cc: f@example.org\n") == {}
    assert take_out_entry(site) == ["a@example.org", "d@example.org", "f@example.org",
                                    "g@example.org"]


def test_roster_follows_list_recreation_address_changes_and_user_deletion(site):
    """Paths that change a roster without touching a preference: the list
    removed and created again under the same List-ID (a new list row, the
    same key), a membership moved to another address (changeaddress), an
    address's user deleted (ON DELETE SET NULL), users merged."""
    site.ok("addmembers", "-", "fan@example.com", input="a@example.org\nb@example.org\n")
    site.ok("start", "-q")
    assert site.post("q1@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org", "b@example.org"]
    site.ok("stop", "-q")
    site.ok("remove", "fan@example.com")
    site.ok("create", "-o", "boss@example.org", "fan@example.com")
    site.ok("addmembers", "-", "fan@example.com", input="a@example.org\nc@example.org\n")
    site.ok("create", "-o", "boss@example.org", "other@example.com")
    site.ok("addmembers", "-", "other@example.com", input="e@example.org\n")
    site.ok("start", "-q")
    assert site.post("q2@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org", "c@example.org"]
    # c's membership moves to e's address
    set_pref(site, "UPDATE member SET address = (SELECT id FROM address WHERE email = ?) "
                   "WHERE address = (SELECT id FROM address WHERE email = ?) AND list = "
                   "(SELECT id FROM mailinglist WHERE list_id = 'fan.example.com')",
             "e@example.org", "c@example.org")
    assert site.post("q3@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org", "e@example.org"]
    # e's user wants digests; then the user goes, and with it the preference
    set_pref(site, "UPDATE member SET p_mode = NULL WHERE address = "
                   "(SELECT id FROM address WHERE email = ?)", "e@example.org")
    set_pref(site, "UPDATE users SET p_mode = 2 WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "e@example.org")
    assert site.post("q4@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org"]
    set_pref(site, "DELETE FROM users WHERE id = (SELECT user_row FROM address WHERE email = ?)",
             "e@example.org")
    assert site.post("q5@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org", "e@example.org"]
    # e's address joins a's user, whose preference is digests
    set_pref(site, "UPDATE users SET p_mode = 2 WHERE id = (SELECT user_row FROM address "
                   "WHERE email = ?)", "c@example.org")
    set_pref(site, "UPDATE address SET user_row = (SELECT user_row FROM address WHERE email = ?)"
                   " WHERE email = ?", "c@example.org", "e@example.org")
    assert site.post("q6@example.org", "a@example.org") == {}
    assert take_out_entry(site) == ["a@example.org"]


def out_entry(site):
    """The metadata (unescaped) and the message of the waiting out entry,
    which is then removed."""
    assert wait_until(lambda: out_recipients(site) is not None)
    path = next((site.var / "queue" / "out").glob("*.pck"))
    head, msg = path.read_bytes().split(b"\n\n", 1)
    path.unlink()
    meta = {}
    for line in head.split(b"\n"):
        key, _, value = line.partition(b":")
        meta[key.decode()] = unescape(value[1:]).decode()
    return meta, msg.decode()


def test_explicit_recipients_and_the_sender_alike_with_and_without_the_cache(site):
    """avoid-duplicates and the sender's own copy: the sender named in Cc
    too, the same member named twice in different case, a member with and
    one without receive_list_copy, a non-member; then a roster of one
    member who is the sender (an empty list) and of one other member."""
    members = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    site.ok("addmembers", "-", "fan@example.com", input="\n".join(members) + "\n")
    addr = "(SELECT id FROM address WHERE email = ?)"
    set_pref(site, f"UPDATE member SET p_rop = 0, p_rlc = 0 WHERE address = {addr}",
             "a@example.org")
    set_pref(site, f"UPDATE member SET p_rlc = 0 WHERE address = {addr}", "b@example.org")
    site.ok("start", "-q")
    for n in range(2):  # the second post finds the kept roster
        assert site.post(f"x{n}@example.org", "a@example.org",
                         extra="Cc: A@example.org, B@Example.org, b@example.org, "
                               "c@example.org, C@EXAMPLE.ORG, x@example.net\n") == {}
        meta, msg = out_entry(site)
        assert meta["recipients"].split("\n") == ["c@example.org", "d@example.org"]
        assert meta["add_dup_header"] == "c@example.org"
        assert "\nCC: A@example.org, c@example.org, x@example.net\n" in msg
    site.ok("delmembers", "-l", "fan@example.com", "-m", "b@example.org", "-m",
            "c@example.org", "-m", "d@example.org")
    assert site.post("x2@example.org", "a@example.org") == {}
    meta, _ = out_entry(site)
    assert meta["recipients"] == ""
    site.ok("addmembers", "-", "fan@example.com", input="d@example.org\n")
    site.ok("delmembers", "-l", "fan@example.com", "-m", "a@example.org")
    assert site.post("x3@example.org", "d@example.org", extra="Cc: D@example.org\n") == {}
    meta, msg = out_entry(site)
    assert meta["recipients"] == "d@example.org"
    assert meta["add_dup_header"] == "d@example.org"
