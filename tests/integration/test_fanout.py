"""A post's recipient list as the pipeline fixes it in the out entry
(member-recipients, avoid-duplicates): who is in it, in which order, and
that a list of thousands of members written in one metadata line reaches
every member through the out runner."""
import smtplib
import sqlite3
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port
from test_posting import Sink, wait_until


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
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    crier.sink = sink
    crier.lmtp_port = free_port()
    crier.base_config = (f"[runner.rest]\nstart: no\n[mta]\nlmtp_port: {crier.lmtp_port}\n"
                         f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n"
                         "[runner.pipeline]\n" +
                         ("roster_cache_min_members: 1\n" if request.param == "cache"
                          else "roster_cache_bytes: 0\n"))
    # The out runner waits, so that the entry the pipeline wrote can be read.
    crier.write_config(extra=crier.base_config + "[runner.out]\nstart: no\n")
    crier.ok("create", "-o", "boss@example.org", "fan@example.com")

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
