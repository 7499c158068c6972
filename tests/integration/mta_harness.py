"""Private MTAs on loopback for the end-to-end tests (issue 6).

PrivatePostfix runs a Postfix instance of its own: its own config_directory,
queue_directory and data_directory under a temporary directory, smtpd on
127.0.0.1 and a free port, nothing else listening, hooked up to crier's
maps with what `crier aliases --snippet postfix` prints (docs/mta.md). PrivateExim does the same for Exim 4 with
a configuration file of its own. Sink is the aiosmtpd server both relay
outgoing mail to.

Nothing here touches the system's MTA: each instance is started with its
own configuration, stopped by the pid of its own master (or daemon), and
every wait is bounded.
"""
import os
import pwd
import shutil
import signal
import sqlite3
import smtplib
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from conftest import Crier, free_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls pred until it is true or timeout seconds have passed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def stop_pid(pid, timeout=10.0):
    """SIGTERM to one process we started, then SIGKILL after timeout."""
    if pid is None or not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_for(lambda: not pid_alive(pid), timeout):
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), 5)


def private_tmpdir(prefix):
    """A temporary directory every user can traverse: the MTAs' unprivileged
    processes must reach their queues and crier's maps (pytest's own
    tmp_path sits under a 0700 directory)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


def have_postfix():
    return os.path.exists(POSTFIX) and os.path.exists(POSTCONF)


class Sink:
    """The relay host both MTAs send outgoing mail to (aiosmtpd on a free
    port). transactions holds (mail_from, rcpt_tos, bytes); a recipient
    whose local part starts with "bad" is refused with 550 at RCPT, so a
    test can make the MTA write a bounce."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.transactions = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("bad"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.transactions.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  envelope.content))
        return "250 OK"

    def recipients(self):
        return [r for t in self.transactions for r in t[1]]

    def stop(self):
        self.controller.stop()


# The runners that would consume what the MTA hands to crier are kept off, so
# a test can look at the queue entry the LMTP runner wrote.
QUEUE_ONLY = """\
[runner.rest]
start: no
[runner.in]
start: no
[runner.command]
start: no
[runner.bounces]
start: no
"""


def make_crier(base: Path, smtp_port: int, transport_file_type="hash",
               incoming=None, extra=QUEUE_ONLY):
    """A Crier (conftest) in base/var whose LMTP runner listens on a free
    port and whose outgoing mail goes to the MTA under test; the real
    postmap builds the hash maps."""
    crier = Crier(base)
    crier.lmtp_port = free_port()
    crier.smtp_port = smtp_port
    mta = f"incoming: {incoming}\n" if incoming else ""
    crier.write_config(postmap=POSTMAP, transport_file_type=transport_file_type,
                       extra=extra + f"[mta]\n{mta}lmtp_port: {crier.lmtp_port}\n"
                       f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n")
    return crier


def set_alias_domain(crier, mail_host, alias_domain):
    """There is no CLI for alias domains yet: write the store row, then let
    `crier aliases` rewrite the maps."""
    db = sqlite3.connect(crier.var / "data" / "mailman.db")
    with db:
        n = db.execute("UPDATE domain SET alias_domain = ? WHERE mail_host = ?",
                       (alias_domain, mail_host)).rowcount
    db.close()
    assert n == 1, f"no domain {mail_host}"
    crier.ok("aliases")


def settle_maps(crier):
    """Postfix notices a rewritten map by its mtime, in whole seconds:
    waits until a regeneration now gets a newer mtime than the last one."""
    delay = int(maps_mtime(crier)) + 1 - time.time()
    if delay > 0:
        time.sleep(min(delay + 0.05, 1.1))


def queue_files(crier, queue):
    return sorted((crier.var / "queue" / queue).glob("*.pck"))


def wait_entry(crier, queue, needle: bytes, timeout=15.0):
    """The first entry of the queue whose bytes contain needle, waiting up to
    timeout seconds; None if none came."""
    found = []

    def look():
        for f in queue_files(crier, queue):
            try:
                if needle in f.read_bytes():
                    found.append(f)
                    return True
            except OSError:
                pass
        return False
    wait_for(look, timeout, 0.1)
    return found[0] if found else None


def qfile(crier, path):
    return crier.ok("qfile", str(path)).stdout


def message(msgid, to, sender="anne@example.org", subject="hello"):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{msgid}>\r\n\r\nHello from the MTA tests.\r\n").encode()


def check_alias_domain(send, crier, log_tail, tag, list_name, mail_host, alias):
    """Mail to list_name under the alias domain (post and -request) and under
    its mail_host reaches the list: send(rcpts, msg) submits to the MTA,
    log_tail() explains a failure, tag keeps Message-IDs apart."""
    listid = f"'listid': '{list_name}.{mail_host}'"
    addr = f"{list_name}@{alias}"
    msgid = f"{tag}-alias@example.org"
    assert send([addr, f"{list_name}-request@{alias}"], message(msgid, addr)) == {}
    post = wait_entry(crier, "in", msgid.encode())
    assert post, log_tail()
    assert listid in qfile(crier, post)
    req = wait_entry(crier, "command", msgid.encode())
    assert req and "'subaddress': 'request'" in qfile(crier, req)
    msgid = f"{tag}-alias-host@example.org"
    addr = f"{list_name}@{mail_host}"
    assert send([addr], message(msgid, addr)) == {}
    post = wait_entry(crier, "in", msgid.encode())
    assert post, log_tail()
    assert listid in qfile(crier, post)


def check_post_reaches_every_member(stack, members, msgid, log_tail, incoming=None):
    """The full loop through an MTA: members join the list ant@example.com,
    crier restarts with its posting runners on (the MTA modules' other tests
    keep them off), a post submitted to the MTA (stack.send) reaches crier
    over LMTP and comes back through the MTA to every member at stack.sink,
    from ant-bounces@example.com. incoming sets [mta] incoming."""
    crier = stack.crier
    crier.ok("addmembers", "-", "ant@example.com", input="\n".join(members) + "\n")
    crier.run("stop", "-q")
    crier.write_config(extra="[runner.rest]\nstart: no\n[mta]\n" +
                             (f"incoming: {incoming}\n" if incoming else "") +
                             f"lmtp_port: {crier.lmtp_port}\nsmtp_host: 127.0.0.1\n"
                             f"smtp_port: {crier.smtp_port}\n")
    crier.ok("start", "-q")
    assert stack.send(["ant@example.com"], message(msgid, "ant@example.com", sender=members[0]),
                      sender=members[0]) == {}

    def mine():
        return [t for t in stack.sink.transactions if msgid.encode() in t[2]]

    def delivered():
        return sorted(r for t in mine() for r in t[1]) == sorted(members)
    assert wait_for(delivered, 30), (stack.sink.transactions, log_tail())
    assert {t[0] for t in mine()} == {"ant-bounces@example.com"}


def children(ppid, names=None):
    """Pids of the live children of ppid (optionally only those whose
    command name is in names), from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == ppid and (names is None or comm in names):
            out.append(int(d.name))
    return out


def process_start_time(pid):
    """When process pid started, as a time.time() value (to the clock
    tick); infinity once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("inf")
    ticks = int(stat[stat.rindex(")") + 2:].split()[19])
    booted = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    return booted + ticks / os.sysconf("SC_CLK_TCK")


def maps_mtime(crier):
    """When crier last rewrote its Postfix maps."""
    return max((f.stat().st_mtime for f in crier.data_dir.glob("postfix_*")),
               default=0)


def snippet(crier, mta):
    """What `crier aliases --snippet MTA` prints for crier's installation:
    the hookup lines each private MTA below is configured with, so the
    tests run the MTAs with exactly what the command tells a user."""
    return crier.ok("aliases", "--snippet", mta).stdout


class PrivatePostfix:
    """One Postfix instance under base/postfix, hooked up to crier by
    hookup, the main.cf lines of `crier aliases --snippet postfix` (see
    snippet()), taken as they are: start(), stop(), reload(), postconf(),
    smtp()."""

    def __init__(self, base: Path, relay_port: int, hookup: str, port=None):
        self.base = base / "postfix"
        self.config_dir = self.base / "etc"
        self.queue_dir = self.base / "spool"
        self.data_dir = self.base / "lib"
        self.maillog = self.base / "maillog"
        self.relay_port = relay_port
        self.port = port or free_port()
        self.hookup = hookup
        for d in (self.config_dir, self.queue_dir, self.data_dir):
            d.mkdir(parents=True, exist_ok=True)
        # As postfix-files wants: the data directory belongs to mail_owner,
        # the queue directory (Postfix makes its subdirectories) to root.
        owner = pwd.getpwnam("postfix")
        if os.geteuid() == 0:
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        self.write_config()

    def write_config(self):
        main = textwrap.dedent(f"""\
            # A private instance for crier's tests (tests/integration/mta_harness.py).
            compatibility_level = 3.6
            queue_directory = {self.queue_dir}
            data_directory = {self.data_dir}
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mta.crier.test
            mydomain = crier.test
            myorigin = $myhostname
            mydestination =
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            maillog_file = {self.maillog}
            maillog_file_prefixes = {self.base}
            alias_maps =
            alias_database =
            biff = no
            # Outgoing mail for everyone else goes to the sink.
            relayhost = [127.0.0.1]:{self.relay_port}
            smtp_host_lookup = native
            # Retry deferred mail quickly: a test never waits minutes.
            queue_run_delay = 2s
            minimal_backoff_time = 2s
            maximal_backoff_time = 4s
            # --- crier aliases --snippet postfix
            """) + self.hookup
        (self.config_dir / "main.cf").write_text(main)
        # Only the services this instance needs; nothing chrooted, one
        # smtpd on loopback and a private port.
        services = [
            f"127.0.0.1:{self.port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "lmtp unix - - n - - lmtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        (self.config_dir / "master.cf").write_text("\n".join(services) + "\n")

    def cmd(self, *args, check=True, timeout=60):
        proc = subprocess.run([POSTFIX, "-c", str(self.config_dir), *args],
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: exit {proc.returncode}\n"
                               f"{proc.stdout}{proc.stderr}\n{self.log_tail()}")
        return proc

    def postconf(self, *settings):
        """Changes main.cf (postconf -e) and makes the master reread it."""
        subprocess.run([POSTCONF, "-c", str(self.config_dir), "-e", *settings],
                       check=True, timeout=30)
        if self.master_pid():
            self.cmd("reload")

    def reload(self):
        """postfix reload, then waits (bounded) until the processes that
        had the old tables open are gone."""
        master = self.master_pid()
        old = children(master) if master else []
        self.cmd("reload")
        wait_for(lambda: not any(pid_alive(p) for p in old), 15)

    def wait_resolver_fresh(self, since, timeout=45):
        """Waits until every trivial-rewrite process that started before
        `since` (the time the maps were last rewritten) has exited.
        trivial-rewrite keeps its tables open for long-lived clients and
        looks every 10 seconds whether an open table changed, then exits;
        until then routing follows the old maps (smtpd's RCPT checks see a
        change at the next connection). A process started after the change
        opened the new tables and never exits for it: waiting for every
        process that was running failed that way in CI. /proc gives the
        start to the clock tick, so one that started in the tick of the
        change may be either: it is old only if it is gone 12 s later."""
        master = self.master_pid()
        if not master:
            return False
        tick = 1 / os.sysconf("SC_CLK_TCK")

        def fresh(pid):
            start = process_start_time(pid)
            return start > since or (start > since - tick and time.time() > since + 12)
        return wait_for(lambda: all(
            fresh(p) for p in children(master, {"trivial-rewrite"})), timeout, 0.2)

    def master_pid(self):
        try:
            pid = int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def start(self):
        # "start" returns once the master is up (master -w).
        self.cmd("start")
        if not wait_for(lambda: port_open(self.port), 15):
            raise RuntimeError(f"postfix smtpd not listening on {self.port}\n"
                               f"{self.log_tail()}")

    def stop(self):
        stop_pid(self.master_pid())

    def log_tail(self, n=40):
        try:
            return "\n".join(self.maillog.read_text().splitlines()[-n:])
        except OSError:
            return "(no maillog)"

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=20)

    def queue_empty(self):
        """True once nothing waits in Postfix's queues."""
        for q in ("incoming", "active", "deferred", "maildrop"):
            d = self.queue_dir / q
            if d.exists() and any(p.is_file() for p in d.rglob("*")):
                return False
        return True


# ------------------------------------------- packages that Debian won't co-install

# exim4-daemon-light and sendmail-bin each conflict with postfix through the
# virtual package mail-transport-agent: installing one would remove Postfix.
# So their binaries are unpacked (apt-get download + dpkg-deb -x, nothing
# installed, no maintainer script run) into a cache directory and run from
# there, with set-uid/set-gid bits dropped.
UNPACK = {
    "exim4": (["exim4-daemon-light"], [("libidn.so.12", "libidn12")],
              "usr/sbin/exim4"),
    "sendmail": (["sendmail-bin", "sendmail-cf"],
                 [("libwrap.so.0", "libwrap0")], "usr/libexec/sendmail/sendmail"),
}


def cache_root():
    """Where unpacked packages and sendmail's state live: a path with no
    world-writable component (sendmail refuses map files below /tmp)."""
    base = os.environ.get("CRIER_TEST_CACHE")
    if not base:
        base = ("/var/cache/crier-tests" if os.geteuid() == 0
                else os.path.expanduser("~/.cache/crier-tests"))
    root = Path(base)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _system_has_lib(name):
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True)
    return name in out.stdout


def unpack(name):
    """Downloads and unpacks the packages of UNPACK[name] into
    cache_root()/name/root; returns the main binary."""
    pkgs, libs, binary = UNPACK[name]
    dest = cache_root() / name
    debs = dest / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    want = list(pkgs) + [pkg for lib, pkg in libs if not _system_has_lib(lib)]
    if name == "sendmail" and not shutil.which("m4"):
        want.append("m4")
    subprocess.run(["apt-get", "download", "-q", *want], cwd=debs, check=True,
                   capture_output=True, timeout=300)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest / "root")], check=True,
                       timeout=120)
    path = dest / "root" / binary
    path.chmod(0o755)
    return path


def find_unpacked(name, env_var, system_path):
    """(binary, root of the unpacked tree or None), or (None, reason): the
    binary named by env_var, the system's, or an unpacked copy (unpacked
    on first use when running as root)."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var]), None
    if os.path.exists(system_path):
        return Path(system_path), None
    root = cache_root() / name / "root"
    path = root / UNPACK[name][2]
    if not path.exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            return None, (f"{name} not found: run as root `python3 "
                          f"tests/integration/mta_harness.py unpack {name}`")
        try:
            unpack(name)
        except (subprocess.SubprocessError, OSError) as e:
            return None, f"cannot unpack {name}: {e}"
    return path, root


def library_path(root):
    """LD_LIBRARY_PATH entries for the libraries unpacked under root."""
    if root is None:
        return None
    dirs = [str(d) for d in sorted(root.glob("*lib/*-linux-gnu")) if d.is_dir()]
    dirs += [str(d) for d in sorted(root.glob("usr/lib/*-linux-gnu")) if d.is_dir()]
    return ":".join(dirs) or None


_NAMESPACE_OK = None


def namespace_works():
    """True if this process may make a private mount namespace (root with
    CAP_SYS_ADMIN, util-linux's unshare)."""
    global _NAMESPACE_OK
    if _NAMESPACE_OK is None:
        try:
            _NAMESPACE_OK = subprocess.run(
                ["unshare", "-m", "sh", "-c", "mount --bind /dev/null /dev/null"],
                capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _NAMESPACE_OK = False
    return _NAMESPACE_OK


def in_namespace(binds, argv):
    """argv run in a private mount namespace in which each (file, over) of
    binds is bind-mounted over the host's file: the host never sees it
    (unshare makes the mounts private)."""
    if not binds:
        return list(argv)
    script = ('while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 111; shift 2; '
              'done; shift; exec "$@"')
    flat = [str(x) for pair in binds for x in pair]
    return ["unshare", "-m", "sh", "-c", script, "sh", *flat, "--", *map(str, argv)]


# ---------------------------------------------------------------- Exim 4

EXIM_USER = "Debian-exim"  # compiled into Debian's exim4 (EXIM_USER=ref:...)


def find_exim():
    return find_unpacked("exim4", "CRIER_EXIM", "/usr/sbin/exim4")


def exim_user_exists():
    try:
        pwd.getpwnam(EXIM_USER)
        return True
    except KeyError:
        return False


class PrivateExim:
    """One Exim 4 daemon with a configuration file of its own (exim -C),
    spool and logs under base/exim, listening on 127.0.0.1 and a free port,
    routing list addresses to crier's LMTP port with hookup, what `crier
    aliases --snippet exim4` prints (reference §3.2, docs/mta.md), and
    everything else to the relay sink.

    Debian's binary looks up its compiled-in user Debian-exim before it
    reads any configuration. Where that account does not exist (Postfix
    and the exim4 packages cannot be installed together, and only the
    exim4 packages create it), the daemon runs in a private mount namespace
    whose /etc/passwd and /etc/group are copies with that one account added
    (mapped to nobody/nogroup); nothing on the host changes.
    """

    def __init__(self, base: Path, exim: Path, root, hookup: str, relay_port: int,
                 port=None):
        self.base = base / "exim"
        self.exim = exim
        self.libdir = library_path(root)
        self.hookup = hookup
        self.relay_port = relay_port
        self.port = port or free_port()
        self.conf = self.base / "exim.conf"
        self.spool = self.base / "spool"
        self.logdir = self.base / "log"
        self.proc = None
        self.namespace = not exim_user_exists()
        for d in (self.spool, self.logdir):
            d.mkdir(parents=True, exist_ok=True)
        uid, gid = self._exim_ids()
        if os.geteuid() == 0:
            for d in (self.spool, self.logdir):
                os.chown(d, uid, gid)
        if self.namespace:
            self._write_identity(uid, gid)
        self.write_config()

    def _exim_ids(self):
        if not self.namespace:
            pw = pwd.getpwnam(EXIM_USER)
            return pw.pw_uid, pw.pw_gid
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid

    def _write_identity(self, uid, gid):
        passwd = Path("/etc/passwd").read_text()
        group = Path("/etc/group").read_text()
        (self.base / "passwd").write_text(
            passwd + f"{EXIM_USER}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")
        (self.base / "group").write_text(group + f"{EXIM_USER}:x:{gid}:\n")

    def sections(self):
        """The hookup (`crier aliases --snippet exim4`) cut where it says
        so: the main section's lines, the router, the transport."""
        text = self.hookup
        r = text.index("\n# 2. Routers section")
        t = text.index("\n# 3. Transports section")
        return text[:r + 1], text[r + 1:t + 1], text[t + 1:]

    def write_config(self):
        main, router, transport = self.sections()
        env = "keep_environment = LD_LIBRARY_PATH\n" if self.libdir else \
            "keep_environment =\n"
        conf = "# A private Exim for crier's tests (tests/integration/mta_harness.py).\n" + \
            main + textwrap.dedent(f"""\
            # --- the test's own settings
            hostlist relay_from_hosts = 127.0.0.1

            exim_path = {self.exim}
            spool_directory = {self.spool}
            log_file_path = {self.logdir}/%slog
            pid_file_path = {self.base}/exim.pid
            primary_hostname = mta.crier.test
            qualify_domain = crier.test
            local_interfaces = 127.0.0.1
            daemon_smtp_ports = {self.port}
            host_lookup =
            rfc1413_hosts =
            tls_advertise_hosts =
            acl_smtp_rcpt = acl_check_rcpt
            received_header_text = Received: from $sender_fullhost by $primary_hostname
            """) + env + textwrap.dedent("""\

            begin acl
            acl_check_rcpt:
              accept  hosts = :
              # crier's domains: only the addresses its router accepts.
              deny    domains = +crier_domains
                      !verify = recipient
                      message = 5.1.1 <$local_part@$domain>: no such list address
              accept  domains = +crier_domains
              # Everything else only from loopback (crier's outgoing mail).
              accept  hosts = +relay_from_hosts
              deny    message = 5.7.1 relay not permitted

            begin routers
            """) + router + textwrap.dedent("""\
            # Everything else goes to the relay sink.
            to_sink:
              driver = manualroute
              domains = ! +crier_domains
              route_list = * 127.0.0.1
              self = send
              transport = sink_smtp

            begin transports
            """) + transport + textwrap.dedent(f"""\
            sink_smtp:
              driver = smtp
              port = {self.relay_port}
              allow_localhost
              hosts_try_chunking =

            begin retry
            *   *   F,2m,5s
            """)
        self.conf.write_text(conf)

    def argv(self, *args):
        cmd = [str(self.exim), "-C", str(self.conf), *args]
        binds = [(self.base / "passwd", "/etc/passwd"),
                 (self.base / "group", "/etc/group")] if self.namespace else []
        return in_namespace(binds, cmd)

    def env(self):
        env = dict(os.environ)
        if self.libdir:
            env["LD_LIBRARY_PATH"] = self.libdir
        return env

    def run(self, *args, input=None, timeout=30):
        return subprocess.run(self.argv(*args), input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env())

    def start(self):
        # -bdf: the daemon stays in the foreground, so the pid we hold is
        # the daemon's; -q5s runs the queue for retries.
        self.proc = subprocess.Popen(self.argv("-bdf", "-q5s"), env=self.env(),
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.base / "daemon.err", "w"))
        if not wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 15) \
                or self.proc.poll() is not None:
            err = (self.base / "daemon.err").read_text()
            self.stop()
            raise RuntimeError(f"exim did not start: {err}\n{self.log_tail()}")

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def log_tail(self, n=40):
        out = []
        for name in ("mainlog", "rejectlog", "paniclog"):
            f = self.logdir / name
            if f.exists():
                out.append(f"== {name}\n" + "\n".join(f.read_text().splitlines()[-n:]))
        return "\n".join(out) or "(no exim logs)"

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=20)

    def route(self, address):
        """exim -bt: how Exim would route the address (exit 0 = routable)."""
        return self.run("-bt", address)


# ---------------------------------------------------------------- Sendmail

def find_sendmail():
    return find_unpacked("sendmail", "CRIER_SENDMAIL", "/usr/lib/sm.bin/sendmail")


def sendmail_needs_hosts():
    """sendmail sleeps a minute at start ("My unqualified host name ...
    unknown") unless the host's name resolves to a qualified one."""
    try:
        return "." not in socket.getfqdn(socket.gethostname())
    except OSError:
        return True


class PrivateSendmail:
    """One sendmail daemon (sendmail -C FILE -bD) compiled from a .mc of its
    own with the cf macros of Debian's sendmail-cf: list domains routed by a
    mailertable to the "crier" LMTP mailer with hookup, what `crier aliases
    --snippet sendmail` prints (docs/mta.md), everything else to the relay
    sink (SMART_HOST). Its state lives under
    cache_root()/run, because sendmail refuses map and class files below a
    world-writable directory such as /tmp.

    Where the host's name is not qualified, the daemon runs in a private
    mount namespace whose /etc/hosts gives it one."""

    def __init__(self, sendmail: Path, root, hookup: str, relay_port: int, port=None):
        run = cache_root() / "run"
        run.mkdir(exist_ok=True)
        self.base = Path(tempfile.mkdtemp(prefix="sendmail-", dir=run))
        self.base.chmod(0o755)
        self.sendmail = sendmail
        self.root = root
        self.libdir = library_path(root)
        self.hookup = hookup
        self.relay_port = relay_port
        self.port = port or free_port()
        self.proc = None
        self.queue = self.base / "mqueue"
        self.queue.mkdir(mode=0o700)
        self.mc = self.base / "sendmail.mc"
        self.cf = self.base / "sendmail.cf"
        self.binds = []
        if sendmail_needs_hosts():
            host = socket.gethostname()
            (self.base / "hosts").write_text(
                f"127.0.0.1 {host}.crier.test {host}\n" + Path("/etc/hosts").read_text())
            self.binds.append((self.base / "hosts", "/etc/hosts"))
        (self.base / "service.switch").write_text("hosts files\naliases files\n")
        self.write_maps()
        self.write_config()

    def tool(self, name):
        """A program of the unpacked tree (makemap, m4) or of the system."""
        if self.root is not None:
            for rel in (f"usr/libexec/sendmail/{name}", f"usr/bin/{name}"):
                if (self.root / rel).exists():
                    return str(self.root / rel)
        return shutil.which(name) or f"/usr/sbin/{name}"

    def cf_dir(self):
        root = self.root if self.root is not None else Path("/")
        return root / "usr" / "share" / "sendmail" / "cf"

    def env(self):
        env = dict(os.environ)
        if self.libdir:
            env["LD_LIBRARY_PATH"] = self.libdir
        return env

    def sections(self):
        """The hookup (`crier aliases --snippet sendmail`) cut where it
        says so: the .mc lines before and after the MAILER() lines, the
        mailertable and the relay-domains contents. Its /etc/mail files
        are this instance's."""
        text = self.hookup.replace("/etc/mail/", f"{self.base}/")
        mc, rest = text.split(f"\n# {self.base}/mailertable", 1)
        table, relay = rest.split(f"\n# {self.base}/relay-domains", 1)
        features, mailer = mc.split("dnl After the MAILER() lines:\n", 1)

        def entries(part):
            return "".join(line + "\n" for line in part.splitlines()[1:]
                           if line and not line.startswith("#"))
        return features, mailer.rstrip("\n") + "\n", entries(table), entries(relay)

    def write_maps(self):
        _, _, table, relay = self.sections()
        (self.base / "relay-domains").write_text(relay)
        (self.base / "mailertable").write_text(table)

    def write_config(self):
        features, mailer, _, _ = self.sections()
        b = self.base
        mc = textwrap.dedent(f"""\
            divert(-1)
            A private sendmail for crier's tests (tests/integration/mta_harness.py).
            divert(0)dnl
            VERSIONID(`crier tests')dnl
            OSTYPE(`linux')dnl
            define(`confDOMAIN_NAME', `mta.crier.test')dnl
            define(`QUEUE_DIR', `{b}/mqueue')dnl
            define(`confPID_FILE', `{b}/sendmail.pid')dnl
            define(`STATUS_FILE', `{b}/statistics')dnl
            define(`confHELP_FILE', `')dnl
            undefine(`ALIAS_FILE')dnl
            define(`confSERVICE_SWITCH_FILE', `{b}/service.switch')dnl
            define(`confDONT_PROBE_INTERFACES', `True')dnl
            define(`confTO_IDENT', `0s')dnl
            define(`SMART_HOST', `relay:[127.0.0.1]')dnl
            define(`RELAY_MAILER_ARGS', `TCP $h {self.relay_port}')dnl
            define(`confLOG_LEVEL', `9')dnl
            FEATURE(`no_default_msa')dnl
            FEATURE(`accept_unresolvable_domains')dnl
            DAEMON_OPTIONS(`Port={self.port}, Addr=127.0.0.1, Name=MTA')dnl
            dnl --- crier aliases --snippet sendmail
            """) + features + "MAILER(`smtp')dnl\n" + mailer
        self.mc.write_text(mc)
        cf = subprocess.run([self.tool("m4"), f"-D_CF_DIR_={self.cf_dir()}/",
                             str(self.cf_dir() / "m4" / "cf.m4"), str(self.mc)],
                            capture_output=True, text=True, env=self.env(), timeout=60)
        if cf.returncode != 0:
            raise RuntimeError(f"m4: {cf.stderr}")
        self.cf.write_text(cf.stdout)
        mt = self.base / "mailertable"
        subprocess.run([self.tool("makemap"), "-C", str(self.cf), "hash", str(mt)],
                       stdin=open(mt), check=True, env=self.env(), timeout=60)

    def argv(self, *args):
        return in_namespace(self.binds, [self.sendmail, "-C", str(self.cf), *args])

    def run(self, *args, input=None, timeout=30):
        return subprocess.run(self.argv(*args), input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env())

    def start(self):
        # -bD: the daemon stays in the foreground (the pid we hold is its);
        # -q5s: retries come quickly.
        self.proc = subprocess.Popen(self.argv("-bD", "-q5s"), env=self.env(),
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.base / "daemon.err", "w"))
        if not wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 20) \
                or self.proc.poll() is not None:
            err = (self.base / "daemon.err").read_text()
            self.stop()
            raise RuntimeError(f"sendmail did not start: {err}")

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self):
        """sendmail logs to syslog only; the queue says what is stuck."""
        q = self.run("-bp")
        return f"queue:\n{q.stdout}{q.stderr}"

    def route(self, address):
        """sendmail -bt: the mailer, host and user the address resolves to."""
        r = self.run("-bt", input=f"/parse {address}\n")
        for line in r.stdout.splitlines():
            if line.startswith("mailer "):
                return line
        return r.stdout + r.stderr

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=20)


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "unpack" and sys.argv[2] in UNPACK:
        print(unpack(sys.argv[2]))
    else:
        sys.exit("usage: mta_harness.py unpack exim4|sendmail")
