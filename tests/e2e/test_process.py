"""relaisd's processes and signals, black box: the master and its workers,
-X, -k start/stop/graceful/restart, TERM/HUP/USR1/WINCH as apachectl sends
them, a worker that dies, privileges, a port already in use.

Every daemon runs from a temporary prefix on loopback ports and is stopped
by PID (the fixtures do it; a test that stops it itself checks the exit).
"""

import hashlib
import os
import grp
import pwd
import re
import signal
import socket
import threading
import time

import pytest

from relais import build_request, read_response, request

BIG = 16 * 1024 * 1024          # large enough to stay in flight across a restart


def wait_until(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def alive(pid):
    """True while <pid> exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def count(d, pattern):
    return len(re.findall(pattern, d.error_log(), re.M))


def generations(d):
    """How many times the master said it was configured (start + restarts)."""
    return count(d, r"AH00489: .* configured -- resuming normal operations$")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            out[k] = v.split()
    return out


def start_workers(d, n=2, extra="", args=("-DFOREGROUND",)):
    d.write_config(extra=f"RelaisWorkers {n}\n{extra}")
    d.start(list(args))
    wait_until(lambda: len(d.children()) == n, what=f"{n} workers")
    return d


def write_big(d, name="big.bin"):
    block = hashlib.sha256(b"relais").digest() * 2048          # 64 KiB
    data = block * (BIG // len(block))
    d.write(f"htdocs/{name}", data)
    return hashlib.sha256(data).hexdigest()


class SlowDownload:
    """A GET of a big file whose client reads slowly: the response stays in
    flight (the kernel buffers hold only a small part of it) until finish()."""

    def __init__(self, port, target="/big.bin"):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(build_request("GET", target, close=True))
        self.head = b""
        while b"\r\n\r\n" not in self.head:
            d = self.s.recv(4096)
            assert d, "connection closed before the response head"
            self.head += d
        self.head, _, rest = self.head.partition(b"\r\n\r\n")
        self.h = hashlib.sha256(rest)
        self.n = len(rest)

    def read_some(self, n=256 * 1024):
        while n > 0:
            d = self.s.recv(min(n, 65536))
            assert d, f"connection closed after {self.n} body bytes"
            self.h.update(d)
            self.n += len(d)
            n -= len(d)

    def finish(self):
        """Reads to the end; returns (body length, sha256)."""
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                break
            self.h.update(d)
            self.n += len(d)
        self.s.close()
        return self.n, self.h.hexdigest()


# ==========================================================================
# starting and stopping

def test_foreground_master_and_workers(relaisd):
    relaisd.write("htdocs/a.txt", "hello\n")
    start_workers(relaisd, 2)
    kids = relaisd.children()
    assert len(kids) == 2
    for k in kids:      # workers are the master's children, no deeper tree
        assert int(open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()[1]) == relaisd.pid
    assert relaisd.read_pidfile() == relaisd.pid
    assert relaisd.pidfile.read_text() == f"{relaisd.pid}\n"
    for _ in range(6):
        assert relaisd.get("/a.txt").body == b"hello\n"
    assert relaisd.stop() == 0
    assert not relaisd.pidfile.exists()
    assert not any(alive(k) for k in kids)
    assert re.search(r"\[mpm_event:notice\] \[pid \d+\] AH00491: caught SIGTERM, shutting down$",
                     relaisd.error_log(), re.M)


def test_workers_default_to_one_per_cpu(relaisd):
    relaisd.start()
    n = os.cpu_count()
    wait_until(lambda: len(relaisd.children()) == n, what=f"{n} workers")
    time.sleep(0.2)
    assert len(relaisd.children()) == n


def test_single_process_X(relaisd):
    relaisd.write("htdocs/a.txt", "x")
    relaisd.write_config(extra="RelaisWorkers 4")
    relaisd.start(["-X"])
    assert relaisd.get("/a.txt").body == b"x"
    assert relaisd.children() == []
    assert relaisd.read_pidfile() == relaisd.pid
    assert relaisd.stop() == 0
    assert not relaisd.pidfile.exists()


def test_k_start_returns_ready_and_k_stop_returns_when_gone(relaisd):
    relaisd.write("htdocs/a.txt", "daemon")
    relaisd.write_config(extra="RelaisWorkers 2")
    r = relaisd.run(["-k", "start"])
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    pid = relaisd.read_pidfile()        # written before -k start returned
    assert pid and alive(pid)
    relaisd.pid, relaisd.daemon = pid, True       # the fixture stops it if we fail
    # the port answers at once, no waiting
    assert request(relaisd.port, "GET", "/a.txt").body == b"daemon"
    # detached: not our child, in a session of its own (relais forks twice:
    # setsid in the middle, so the daemon is not a session leader)
    st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    assert int(st[1]) != os.getpid()
    assert os.getsid(pid) != os.getsid(0)
    assert int(st[4]) == 0                           # tty_nr: no controlling terminal
    kids = relaisd.children()
    assert len(kids) == 2
    # a second start sees it running
    r = relaisd.run(["-k", "start"])
    assert r.rc == 0 and f"httpd (pid {pid}) already running" in r.stderr
    r = relaisd.run(["-k", "stop"])
    assert r.rc == 0
    assert not alive(pid)                   # stop returned once it was gone
    assert not any(alive(k) for k in kids)
    assert not relaisd.pidfile.exists()
    relaisd.pid = None
    r = relaisd.run(["-k", "stop"])
    assert "httpd (no pid file) not running" in r.stderr


def test_k_graceful_and_k_restart(relaisd):
    relaisd.write("htdocs/one/id.txt", "one")
    relaisd.write("htdocs/two/id.txt", "two")
    relaisd.write("htdocs/three/id.txt", "three")
    relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/one"')
    relaisd.start(["-k", "start"])
    master = relaisd.pid
    assert relaisd.get("/id/id.txt").body == b"one"
    for cmd, name in (("graceful", "two"), ("restart", "three")):
        relaisd.write_config(extra=f'RelaisWorkers 2\nAlias /id "{{docroot}}/{name}"')
        r = relaisd.run(["-k", cmd])
        assert r.rc == 0, r.stderr
        wait_until(lambda: relaisd.get("/id/id.txt").body == name.encode(), what=cmd)
        assert relaisd.pid == master and alive(master)
        assert relaisd.read_pidfile() == master
    relaisd.wait_for_log(r"AH00493: SIGUSR1 received\.  Doing graceful restart$")
    relaisd.wait_for_log(r"AH00494: SIGHUP received\.  Attempting to restart$")
    assert relaisd.stop(use_k=True) is None
    assert not alive(master) and not relaisd.pidfile.exists()


@pytest.mark.parametrize("cmd", ["graceful", "restart"])
def test_k_restart_when_not_running_starts(relaisd, cmd):
    """As apachectl: "httpd not running, trying to start", then a start."""
    relaisd.write("htdocs/a.txt", "started")
    relaisd.write_config(extra="RelaisWorkers 2")
    r = relaisd.run(["-k", cmd])
    assert (r.rc, r.stdout) == (0, "httpd not running, trying to start\n"), r.stderr
    pid = relaisd.read_pidfile()
    assert pid and alive(pid)
    relaisd.pid, relaisd.daemon = pid, True
    assert request(relaisd.port, "GET", "/a.txt").body == b"started"
    assert relaisd.stop(use_k=True) is None and not alive(pid)


def test_k_graceful_stop(relaisd):
    relaisd.write_config(extra="RelaisWorkers 2")
    relaisd.start(["-k", "start"])
    pid, kids = relaisd.pid, relaisd.children()
    r = relaisd.run(["-k", "graceful-stop"])
    assert r.rc == 0
    wait_until(lambda: not alive(pid), what="the master to exit")
    assert not any(alive(k) for k in kids)
    assert not relaisd.pidfile.exists()
    relaisd.wait_for_log(r"AH00492: caught SIGWINCH, shutting down gracefully$")


def test_listen_port_in_use(relaisd):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", relaisd.port))
        s.listen(1)
        for args in (["-DFOREGROUND"], ["-k", "start"]):
            r = relaisd.run(args)
            assert r.rc != 0, args
            assert "Address already in use" in r.stderr, r.stderr
            assert f"127.0.0.1:{relaisd.port}" in r.stderr, r.stderr
            assert "no listening sockets available, shutting down" in r.stderr
            assert not relaisd.pidfile.exists()
    assert "AH00489" not in relaisd.error_log()


# ==========================================================================
# signals

def test_sigterm_stops_everything(relaisd):
    start_workers(relaisd, 2)
    kids = relaisd.children()
    with socket.create_connection(("127.0.0.1", relaisd.port)) as idle:
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")      # a request half sent
        time.sleep(0.1)
        t0 = time.monotonic()
        assert relaisd.stop() == 0
        assert time.monotonic() - t0 < 3
    assert not any(alive(k) for k in kids)
    assert not relaisd.pidfile.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", relaisd.port), timeout=1).close()


def test_sighup_restart_serves_new_config(relaisd):
    relaisd.write("htdocs/one/id.txt", "one")
    relaisd.write("htdocs/two/id.txt", "two")
    start_workers(relaisd, 2, 'Alias /id "{docroot}/one"')
    old = set(relaisd.children())
    assert relaisd.get("/id/id.txt").body == b"one"
    relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/two"')
    relaisd.signal(signal.SIGHUP)
    relaisd.wait_for_log(r"AH00494: SIGHUP received\.  Attempting to restart$")
    wait_until(lambda: generations(relaisd) == 2, what="the new generation")
    assert relaisd.get("/id/id.txt").body == b"two"
    wait_until(lambda: len(relaisd.children()) == 2 and not old & set(relaisd.children()),
               what="the old workers to be replaced")
    assert relaisd.running()


def test_sigusr1_in_flight_download_completes(relaisd):
    digest = write_big(relaisd)
    relaisd.write("htdocs/one/id.txt", "one")
    relaisd.write("htdocs/two/id.txt", "two")
    start_workers(relaisd, 2, 'Alias /id "{docroot}/one"')
    old = set(relaisd.children())
    dl = SlowDownload(relaisd.port)
    assert dl.head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {BIG}".encode() in dl.head
    dl.read_some()
    relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/two"')
    relaisd.signal(signal.SIGUSR1)
    wait_until(lambda: generations(relaisd) == 2, what="the new generation")
    wait_until(lambda: relaisd.get("/id/id.txt").body == b"two", what="the new config")
    # the download is still going: its worker (old generation) is alive
    dl.read_some()
    assert dl.n < BIG
    assert len(old & set(relaisd.children())) >= 1
    assert dl.finish() == (BIG, digest)
    # then the old workers leave
    wait_until(lambda: not old & set(relaisd.children()), what="the old workers to exit")
    assert len(relaisd.children()) == 2


def test_sigusr1_request_mid_head_completes(relaisd):
    """A request whose head arrives across a graceful restart is answered by
    the old worker, with the old configuration."""
    relaisd.write("htdocs/one/id.txt", "one")
    relaisd.write("htdocs/two/id.txt", "two")
    start_workers(relaisd, 2, 'Alias /id "{docroot}/one"')
    with socket.create_connection(("127.0.0.1", relaisd.port), timeout=5) as c:
        c.sendall(b"GET /id/id.txt HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(0.2)
        relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/two"')
        relaisd.signal(signal.SIGUSR1)
        wait_until(lambda: generations(relaisd) == 2, what="the new generation")
        wait_until(lambda: relaisd.get("/id/id.txt").body == b"two", what="the new config")
        c.sendall(b"X-Late: 1\r\n\r\n")
        r = read_response(c)
        assert (r.status, r.body) == (200, b"one")
        assert r.headers.get("Connection") == "close"       # the old worker is leaving
        assert c.recv(1) == b""


def test_graceful_restart_loop_refuses_nothing(relaisd):
    relaisd.write("htdocs/a.txt", "a")
    start_workers(relaisd, 2)
    stop = threading.Event()
    errors, ok = [], [0]

    def hammer():
        while not stop.is_set():
            try:
                r = request(relaisd.port, "GET", "/a.txt", timeout=5)
                if r.status == 200 and r.body == b"a":
                    ok[0] += 1
                else:
                    errors.append(f"status {r.status}")
            except Exception as e:          # noqa: BLE001 - every failure counts
                errors.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        for i in range(4):
            relaisd.signal(signal.SIGUSR1)
            wait_until(lambda: generations(relaisd) == i + 2, what=f"restart {i + 1}")
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert errors == [], f"{len(errors)} failures (and {ok[0]} good): {errors[:5]}"
    assert ok[0] > 50
    assert count(relaisd, r"AH00493: SIGUSR1 received\.  Doing graceful restart$") == 4
    wait_until(lambda: len(relaisd.children()) == 2, what="one generation left")


def test_graceful_restart_with_broken_config_keeps_running(relaisd):
    relaisd.write("htdocs/one/id.txt", "one")
    start_workers(relaisd, 2, 'Alias /id "{docroot}/one"')
    kids = set(relaisd.children())
    relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/one"\nFoo bar')
    for sig in (signal.SIGUSR1, signal.SIGHUP):
        n = count(relaisd, r"keeping the running configuration")
        relaisd.signal(sig)
        wait_until(lambda: count(relaisd, r"keeping the running configuration") == n + 1,
                   what="the refusal in the error log")
        text = relaisd.error_log()
        assert re.search(r"\[core:error\] \[pid \d+\] AH00526: configuration error, keeping the "
                         r"running configuration: AH00526: Syntax error on line 19 of "
                         + re.escape(str(relaisd.conf)) + r":\\nInvalid command 'Foo'", text), text
        # one line: the message's newline is escaped, as Apache does
        assert relaisd.get("/id/id.txt").body == b"one"
        assert set(relaisd.children()) == kids
    assert generations(relaisd) == 1
    # fixed: the next graceful restart takes it
    relaisd.write("htdocs/two/id.txt", "two")
    relaisd.write_config(extra='RelaisWorkers 2\nAlias /id "{docroot}/two"')
    relaisd.signal(signal.SIGUSR1)
    wait_until(lambda: relaisd.get("/id/id.txt").body == b"two", what="the fixed config")


def test_restart_with_port_in_use_keeps_running(make_relaisd):
    d = make_relaisd(nports=2)
    d.write("htdocs/a.txt", "a")
    start_workers(d, 2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", d.ports[1]))
        s.listen(1)
        d.write_config(extra="RelaisWorkers 2\nListen 127.0.0.1:{port1}")
        d.signal(signal.SIGUSR1)
        d.wait_for_log(r"keeping the running configuration: .*Address already in use")
        assert d.get("/a.txt").body == b"a"
    assert len(d.children()) == 2


def test_sigwinch_graceful_stop_lets_download_finish(relaisd):
    digest = write_big(relaisd)
    start_workers(relaisd, 2)
    kids = relaisd.children()
    dl = SlowDownload(relaisd.port)
    dl.read_some()
    relaisd.signal(signal.SIGWINCH)
    relaisd.wait_for_log(r"AH00492: caught SIGWINCH, shutting down gracefully$")
    time.sleep(0.3)
    assert relaisd.running()                            # waiting for the download
    with pytest.raises(OSError):                        # but takes nothing new
        request(relaisd.port, "GET", "/", timeout=2)
    assert dl.finish() == (BIG, digest)
    assert relaisd.wait_exit(5) == 0
    assert not any(alive(k) for k in kids)
    assert not relaisd.pidfile.exists()


def test_killed_worker_is_replaced(relaisd):
    relaisd.write("htdocs/a.txt", "a")
    start_workers(relaisd, 2)
    kids = relaisd.children()
    victim = kids[0]
    os.kill(victim, signal.SIGKILL)
    relaisd.wait_for_log(rf"\[core:notice\] \[pid {relaisd.pid}\] AH00052: child pid {victim} "
                         r"exit signal Killed \(9\)$")
    wait_until(lambda: len(relaisd.children()) == 2 and victim not in relaisd.children(),
               what="a new worker")
    new = relaisd.children()
    assert kids[1] in new
    for _ in range(6):
        assert relaisd.get("/a.txt").body == b"a"


def test_killed_worker_during_graceful_stop_is_not_replaced(relaisd):
    write_big(relaisd)
    start_workers(relaisd, 2)
    dl = SlowDownload(relaisd.port)
    dl.read_some()
    relaisd.signal(signal.SIGWINCH)
    relaisd.wait_for_log(r"AH00492")
    # the idle worker leaves at once, the busy one stays for its download
    busy = wait_until(lambda: len(relaisd.children()) == 1 and relaisd.children(),
                      what="the idle worker to leave")
    os.kill(busy[0], signal.SIGKILL)
    assert relaisd.wait_exit(5) == 0                    # no respawn while stopping
    assert not alive(busy[0]) and not relaisd.pidfile.exists()
    dl.s.settimeout(2)
    try:
        n = dl.finish()[0]
    except ConnectionResetError:
        n = -1
    assert n < BIG                                      # the download was cut


# ==========================================================================
# privileges

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def ids(pid):
    st = proc_status(pid)
    return [int(x) for x in st["Uid"]], [int(x) for x in st["Gid"]], \
        [int(x) for x in st.get("Groups", [])]


@root_only
def test_workers_drop_to_user_and_group(relaisd):
    relaisd.write("htdocs/a.txt", "readable by nobody")
    start_workers(relaisd, 2, "User nobody\nGroup nogroup")
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    for k in relaisd.children():
        uids, gids, groups = ids(k)
        assert uids == [nobody] * 4, uids
        assert gids == [nogroup] * 4, gids
        assert 0 not in groups, groups
    uids, gids, _ = ids(relaisd.pid)
    assert uids == [0] * 4 and gids == [0] * 4
    assert relaisd.get("/a.txt").body == b"readable by nobody"


@root_only
def test_workers_default_user_is_www_data(relaisd):
    try:
        pw = pwd.getpwnam("www-data")
    except KeyError:
        pytest.skip("no www-data user")
    start_workers(relaisd, 2)
    for k in relaisd.children():
        uids, gids, _ = ids(k)
        assert uids == [pw.pw_uid] * 4 and gids == [grp.getgrnam("www-data").gr_gid] * 4


@pytest.mark.parametrize("line,msg", [
    ("User no-such-user-relais", "AH00543: relaisd: bad user name no-such-user-relais"),
    ("Group no-such-group-relais", "AH00544: relaisd: bad group name no-such-group-relais"),
])
def test_unknown_user_or_group_is_a_syntax_error(relaisd, line, msg):
    """Apache resolves User/Group while reading the configuration: -t
    catches a typo, and a start fails at once (not every worker)."""
    relaisd.write_config(extra=line)
    want = (f"AH00526: Syntax error on line 17 of {relaisd.conf}:\n{msg}\n")
    r = relaisd.run(["-t"])
    assert (r.rc, r.stderr) == (1, want)
    r = relaisd.run(["-DFOREGROUND"])
    assert (r.rc, r.stderr) == (1, want)


@pytest.mark.parametrize("user", ["root", "#0"])
def test_user_root_is_refused(relaisd, user):
    """As Apache (unless rebuilt with BIG_SECURITY_HOLE): refused while
    reading, not by workers dying one after the other."""
    relaisd.write_config(extra=f"User {user}")
    r = relaisd.run(["-t"])
    assert r.rc == 1
    assert r.stderr.startswith(f"AH00526: Syntax error on line 17 of {relaisd.conf}:\n"
                               "Error: relais will not serve pages as root")


def test_numeric_user_is_accepted(relaisd):
    relaisd.write_config(extra="User #65534\nGroup #65534")
    assert relaisd.run(["-t"]).stderr == "Syntax OK\n"
