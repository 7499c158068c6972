"""The list servers bench/harness.py measures: crier and GNU Mailman 3
(Debian's mailman3), each a private instance in its own directory with its
own SQLite file, LMTP and REST on free loopback ports, SMTP out to the
harness's counting sink. Both are set up the same way: lists lat (10
members), fan (grown to each size) and verp, all in example.com, members
memberN@example.org, member0 the poster.

Processes are found from the instance's master.pid and /proc (the master
and all its descendants) and are only ever signalled by those PIDs.
"""
import os
import pwd
import re
import signal
import socket
import sqlite3
import subprocess
import time
import uuid

MAILMAN_BIN_DIR = "/usr/lib/mailman3/bin"  # Debian keeps master and runner here
POSTING_QUEUES = ("in", "pipeline", "out", "virgin")


class BenchError(Exception):
    pass


# ------------------------------------------------------------- helpers

def load1():
    return float(open("/proc/loadavg").read().split()[0])


def machine():
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) / 1024 / 1024
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    fs = subprocess.run(["df", "--output=fstype", "/tmp"], capture_output=True, text=True)
    fstype = fs.stdout.split()[-1] if fs.returncode == 0 else "?"
    return (f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, Linux {os.uname().release}, "
            f"/tmp on {fstype}")


def listening(port):
    """PIDs listening on 127.0.0.1:port (empty set: nobody; {0}: someone
    whose PID ss cannot show)."""
    p = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    pids = set()
    for line in p.stdout.splitlines():
        pids |= {int(x) for x in re.findall(r"pid=(\d+)", line)} or {0}
    return pids


def free_port():
    """A port nobody listens on now (bound to 0, then released)."""
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not listening(port):
            return port
    raise BenchError("no free port")


def greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(2)
            return s.recv(512).startswith(b"220")
    except OSError:
        return False


def wait_port(port, timeout, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{proc.args[0]} exited with {proc.returncode}")
        if greets(port):
            return
        time.sleep(0.02)
    raise BenchError(f"nothing answered on port {port} within {timeout} s")


def children():
    """{ppid: [pid, ...]} for every process now."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids = children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def alive(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# ---------------------------------------------------------- the targets

class Target:
    name = ""
    max_size = 10 ** 9

    def __init__(self, root, sink_port, args):
        self.root = root
        self.var = os.path.join(root, "var")
        self.cfg = os.path.join(root, "mailman.cfg")
        self.sink_port = sink_port
        self.args = args
        self.lmtp_port = free_port()
        self.rest_port = free_port()
        self.in_runner, self.verp = True, False
        self.pids = []
        os.makedirs(self.var, exist_ok=True)
        self.configure()

    # -- the same for both

    def address(self, lst):
        return f"{lst}@example.com"

    def common_config(self):
        return (f"[mailman]\nlayout: bench\nsite_owner: owner@example.com\n"
                f"[webservice]\nhostname: 127.0.0.1\nport: {self.rest_port}\n"
                f"admin_user: restadmin\nadmin_pass: benchpass\n"
                f"[mta]\nincoming: mailman.mta.null.NullMTA\n"
                f"lmtp_host: 127.0.0.1\nlmtp_port: {self.lmtp_port}\n"
                f"smtp_host: 127.0.0.1\nsmtp_port: {self.sink_port}\n"
                f"verp_delivery_interval: {1 if self.verp else 0}\n"
                f"[runner.in]\nstart: {'yes' if self.in_runner else 'no'}\n")

    def configure(self, in_runner=True, verp=False):
        self.in_runner, self.verp = in_runner, verp
        with open(self.cfg, "w") as fp:
            fp.write(self.config())

    def master_pid(self):
        try:
            return int(open(os.path.join(self.var, "master.pid")).read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def processes(self):
        m = self.master_pid()
        return [p for p in tree(m) if alive(p)] if m and alive(m) else []

    def start(self):
        """Starts the instance; seconds from the start command until LMTP
        greets."""
        for port in (self.lmtp_port, self.rest_port):
            if listening(port):
                raise BenchError(f"port {port} already has a listener: refusing to measure it")
        t0 = time.time()
        self.launch()
        end = t0 + self.start_timeout
        while not greets(self.lmtp_port):
            if time.time() > end:
                raise BenchError(f"{self.name}: LMTP not ready after {self.start_timeout} s")
            time.sleep(0.02)
        secs = time.time() - t0
        self.pids = self.processes()
        owners = listening(self.lmtp_port)
        if not owners & set(self.pids) and 0 not in owners:
            raise BenchError(f"port {self.lmtp_port} is served by PIDs {owners}, not by {self.name}")
        return secs

    def signal_all(self, pids, timeout):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            end = time.time() + timeout
            while time.time() < end and any(alive(p) for p in pids):
                time.sleep(0.05)
            if not any(alive(p) for p in pids):
                return

    def stop(self):
        pids = self.processes() or [p for p in self.pids if alive(p)]
        if pids:
            self.shutdown(pids)
            self.signal_all([p for p in pids if alive(p)], 30)
        self.pids = []

    def queue_files(self, q, suffixes=(".pck", ".bak")):
        d = os.path.join(self.var, "queue", q)
        try:
            return [f for f in os.listdir(d) if f.endswith(suffixes)]
        except FileNotFoundError:
            return []

    def queued(self, q):
        return len(self.queue_files(q, (".pck",)))

    def clear_queue(self, q):
        d = os.path.join(self.var, "queue", q)
        for f in self.queue_files(q, (".pck", ".bak", ".tmp", ".psv")):
            os.unlink(os.path.join(d, f))

    def check_failed(self):
        """Raises when a message went to shunt, bad or retry (the sink
        refuses nothing), or the master died."""
        for q in ("shunt", "bad", "retry"):
            files = self.queue_files(q, (".pck", ".psv", ".bak"))
            if files:
                raise BenchError(f"{self.name} moved a message to {q} (see {self.var}/logs/; "
                                 f"--keep keeps them)")
        if self.pids and not alive(self.pids[0]):
            raise BenchError(f"{self.name}'s master (PID {self.pids[0]}) is gone")

    def clear_queues(self):
        qdir = os.path.join(self.var, "queue")
        for q in os.listdir(qdir) if os.path.isdir(qdir) else []:
            self.clear_queue(q)

    def wait_idle(self, timeout):
        """Until the queues of the posting path are empty (digest, archive
        and the others may keep entries: crier has no digest runner yet); a
        message moved to shunt, bad or retry is an error."""
        end = time.time() + timeout
        while True:
            self.check_failed()
            busy = [q for q in POSTING_QUEUES if self.queue_files(q)]
            if not busy:
                return
            if time.time() > end:
                raise BenchError(f"{self.name}: queues {busy} still busy after {timeout} s")
            time.sleep(0.05)

    def memory(self):
        pss = rss = 0
        pids = self.processes()
        for p in pids:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        return pss / 1024, rss / 1024, len(pids)

    def cpu_seconds(self):
        ticks = 0
        for p in self.processes():
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(x) for x in f[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def reset_peak(self):
        for p in self.processes():
            try:
                with open(f"/proc/{p}/clear_refs", "w") as fp:
                    fp.write("5")  # resets VmHWM to the current RSS
            except OSError:
                pass

    def peak_rss(self):
        peak = 0
        for p in self.processes():
            try:
                for line in open(f"/proc/{p}/status"):
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return peak / 1024

    def member_file(self, start, n):
        path = os.path.join(self.root, f"members-{start}-{n}.txt")
        with open(path, "w") as fp:
            fp.writelines(f"member{i}@example.org\n" for i in range(start, n))
        return path

    def run(self, *verb, timeout=600):
        p = subprocess.run(self.command(*verb), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise BenchError(f"{self.name} {' '.join(verb)}: exit {p.returncode}: "
                             f"{(p.stderr or p.stdout)[-400:]}")
        return p.stdout


class Crier(Target):
    name = "crier"
    start_timeout = 60

    def __init__(self, root, sink_port, args):
        self.binary = args.crier
        if not os.access(self.binary, os.X_OK):
            raise BenchError(f"no crier binary at {self.binary} (make)")
        super().__init__(root, sink_port, args)
        self.intake_msgs = args.intake_msgs
        self.runs = self.verp_runs = args.runs

    def config(self):
        return self.common_config() + f"[paths.bench]\nvar_dir: {self.var}\n"

    def command(self, *verb):
        root = ["--run-as-root"] if os.getuid() == 0 else []
        return [self.binary, "-C", self.cfg] + root + list(verb)

    def setup(self, lists):
        for lst in lists:
            self.run("create", "-q", self.address(lst))

    def add_members(self, lst, n, start=0):
        if n > start:
            self.run("addmembers", "-W", self.member_file(start, n), self.address(lst), timeout=1800)

    def launch(self):
        self.run("start", "-q", timeout=self.start_timeout)

    def shutdown(self, pids):
        try:
            self.run("stop", "-q", timeout=60)
        except (BenchError, subprocess.TimeoutExpired):
            pass

    def timeout(self, n, verp=False):
        return 60 + n / (500 if verp else 5000)


class Mailman3(Target):
    """Debian's mailman3, run privately: its own mailman.cfg (Debian's
    bin_dir, a var dir owned by `list`, SQLite), as the `list` user when the
    harness runs as root (Mailman refuses root)."""
    name = "mailman3"
    start_timeout = 180
    max_size = 100000

    def __init__(self, root, sink_port, args):
        if not os.path.exists("/usr/bin/mailman"):
            raise BenchError("Debian's mailman3 is not installed (bench/run --peer mailman3 installs it)")
        super().__init__(root, sink_port, args)
        self.max_size = args.peer_max_size
        self.intake_msgs = args.peer_intake_msgs
        self.runs = args.peer_runs or args.runs
        self.verp_runs = min(args.peer_verp_runs, args.runs)
        self.db = os.path.join(self.var, "data", "mailman.db")
        if os.getuid() == 0:
            ent = pwd.getpwnam("list")
            for d, _, files in os.walk(self.root):
                for x in [d] + [os.path.join(d, f) for f in files]:
                    os.chown(x, ent.pw_uid, ent.pw_gid)

    def config(self):
        return (self.common_config() +
                f"[paths.bench]\nvar_dir: {self.var}\nbin_dir: {MAILMAN_BIN_DIR}\n"
                f"[database]\nclass: mailman.database.sqlite.SQLiteDatabase\n"
                f"url: sqlite:///{self.var}/data/mailman.db\n")

    def command(self, *verb):
        user = ["runuser", "-u", "list", "--"] if os.getuid() == 0 else []
        return user + ["mailman", "-C", self.cfg] + list(verb)

    def setup(self, lists):
        for lst in lists:
            self.run("create", self.address(lst))

    def launch(self):
        out = open(os.path.join(self.root, "start.log"), "ab")
        p = subprocess.run(self.command("start", "--force"), stdout=out, stderr=out, timeout=60)
        if p.returncode != 0:
            raise BenchError(f"mailman start: exit {p.returncode} (see {self.root}/start.log)")

    def shutdown(self, pids):
        # `mailman stop` returns long before its processes are gone, and the
        # master alone takes about 15 s to bring the runners down: TERM every
        # process of the tree at once, then wait for them (signal_all).
        pass

    def timeout(self, n, verp=False):
        return 120 + n / (20 if verp else 200)

    def add_members(self, lst, n, start=0):
        """The first members ever (the 10 of lat) through `mailman
        addmembers`; every other membership as a copy of member0's rows
        straight into Mailman's SQLite file: its own addmembers manages
        40-90 members/s, hours for the large lists."""
        if n <= start:
            return
        db = sqlite3.connect(self.db, timeout=120)
        try:
            have = db.execute("SELECT COUNT(*) FROM member WHERE role = 1").fetchone()[0]
            if not have:
                path = self.member_file(start, n)
                os.chmod(path, 0o644)
                self.run("addmembers", "-W", path, self.address(lst), timeout=1800)
            else:
                with db:
                    self._insert(db, f"{lst}.example.com", start, n)
            got = db.execute("SELECT COUNT(*) FROM member WHERE list_id = ? AND role = 1",
                             (f"{lst}.example.com",)).fetchone()[0]
            if got != n:
                raise BenchError(f"mailman3: {got} members in {lst}, wanted {n}")
        finally:
            db.close()

    def _row(self, db, table, rowid):
        cur = db.execute(f"SELECT * FROM {table} WHERE id = ?", (rowid,))
        cols = [c[0] for c in cur.description]
        return dict(zip(cols, cur.fetchone()))

    def _copy(self, db, table, rows):
        if not rows:
            return
        cols = list(rows[0])
        db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                       f"({', '.join('?' * len(cols))})", [tuple(r[c] for c in cols) for r in rows])

    def _next_id(self, db, table):
        return db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]

    def _insert(self, db, list_id, start, n):
        addr0 = self._row(db, "address", db.execute(
            "SELECT id FROM address WHERE email = 'member0@example.org'").fetchone()[0])
        user0 = self._row(db, "user", addr0["user_id"])
        mem0 = self._row(db, "member", db.execute(
            "SELECT id FROM member WHERE address_id = ? AND role = 1 ORDER BY id LIMIT 1",
            (addr0["id"],)).fetchone()[0])
        pref_user = self._row(db, "preferences", user0["preferences_id"])
        pref_addr = self._row(db, "preferences", addr0["preferences_id"])
        pref_mem = self._row(db, "preferences", mem0["preferences_id"])
        hex_uuid = len(str(user0["_user_id"])) == 32

        def new_uuid():
            return uuid.uuid4().hex if hex_uuid else str(uuid.uuid4())

        ids = dict(db.execute("SELECT email, id FROM address WHERE email LIKE 'member%@example.org'"))
        # Users and addresses that do not exist yet (shared by all lists).
        missing = [i for i in range(start, n) if f"member{i}@example.org" not in ids]
        pid, uid, aid = (self._next_id(db, t) for t in ("preferences", "user", "address"))
        p_rows, u_rows, a_rows = [], [], []
        for i in missing:
            p_rows += [dict(pref_user, id=pid), dict(pref_addr, id=pid + 1)]
            u_rows.append(dict(user0, id=uid, _user_id=new_uuid(), preferences_id=pid))
            a_rows.append(dict(addr0, id=aid, email=f"member{i}@example.org",
                               _original=None, user_id=uid, preferences_id=pid + 1))
            ids[f"member{i}@example.org"] = aid
            pid, uid, aid = pid + 2, uid + 1, aid + 1
        self._copy(db, "preferences", p_rows)
        self._copy(db, "user", u_rows)
        self._copy(db, "address", a_rows)
        # Their memberships in this list.
        p_rows, m_rows = [], []
        mid = self._next_id(db, "member")
        for i in range(start, n):
            p_rows.append(dict(pref_mem, id=pid))
            m_rows.append(dict(mem0, id=mid, _member_id=new_uuid(), list_id=list_id,
                               address_id=ids[f"member{i}@example.org"], preferences_id=pid))
            pid, mid = pid + 1, mid + 1
        self._copy(db, "preferences", p_rows)
        self._copy(db, "member", m_rows)


def make(name, root, sink_port, args):
    return {"crier": Crier, "mailman3": Mailman3}[name](root, sink_port, args)
