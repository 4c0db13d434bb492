"""FastCGI backend failures behind relaisd, end to end: php-fpm's child
killed mid-request, php-fpm stopped, backends that stall or send malformed
records. The spec: a missing or refusing socket gives 503, a backend that
closes mid-response or sends garbage 502, no answer within ProxyTimeout
(or Timeout) 504; each within its timeout, with one error-log line naming
the socket and the cause, the client connection kept in sync (the error
says "Connection: close" and the server closes, or the next request on the
same connection is answered), and the next request succeeds once the
backend is back. When the response head is already out, only a cut
connection can tell the client: the response is truncated.

test_relaisd_php.test_broken_backends covers a non-FastCGI reply, an
immediate close and a backend that never answers (status and log line)."""

import os
import re
import signal
import socket
import struct
import threading
import time

import pytest

from incumbents import FcgiRecorder
from relais import ConnectionClosed, ResponseError, open_conn, request
from test_relaisd_php import RELAISD_CONF, _FakeBackend

SLACK = 3.0          # seconds a failure may take beyond its timeout
STDOUT, STDIN = 6, 5

# PHP's output buffer (output_buffering = 4096 in Debian's php.ini) is
# flushed so that what the script echoes reaches relaisd at once; the pid
# file is written through a rename so that the test never reads half of it.
PID_PHP = ("$f = '{piddir}/' . basename(__FILE__) . '.pid';"
           " file_put_contents($f . '.tmp', getmypid()); rename($f . '.tmp', $f);")
SCRIPTS = {
    "ok.php": "<?php echo 'ok';",
    "hang.php": "<?php " + PID_PHP + " sleep(30); echo 'too late';",
    "partial.php": ("<?php while (ob_get_level()) ob_end_flush();"
                    " header('Content-Type: text/plain'); echo 'partial'; flush(); "
                    + PID_PHP + " sleep(30); echo 'too late';"),
}


# --------------------------------------------------------------------------
# helpers

def _wait_pid(path, timeout=5.0):
    """The pid a script wrote to <path>."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError(f"no pid in {path} after {timeout}s")


def _log_line(rl, mark, sock, errno_, what, timeout=SLACK):
    """Waits for the error-log line of a backend failure written after
    offset <mark> — "[proxy_fcgi:error] ... (<errno>)<strerror>: FCGI: <what>
    unix:<sock>" — and checks that it is the only new line naming <sock>."""
    pat = (rf"^.*\[proxy_fcgi:error\].*\({errno_}\)[^:\n]*: FCGI: {what} "
           rf"unix:{re.escape(str(sock))}$")
    rl.wait_for_log(pat, timeout=timeout, log=lambda: rl.error_log()[mark:])
    new = [ln for ln in rl.error_log()[mark:].splitlines() if str(sock) in ln]
    assert len(new) == 1, f"expected one line naming {sock}, got:\n" + "\n".join(new)
    return new[0]


def _in_sync(c, r, target="/ok.txt", body=b"ok"):
    """After the error response <r> on keep-alive connection <c>: either it
    said "Connection: close" and the server closes, or the next request on
    the same connection gets its right answer."""
    if "close" in r.headers.get("Connection", "").lower():
        assert c.is_closed(SLACK), f"{r.status} said Connection: close, connection left open"
        return
    c.send_request("GET", target)
    r2 = c.read_response(timeout=SLACK)
    assert (r2.status, r2.body) == (200, body), (r2, r2.raw[:300])


def _until_ok(port, target, body, window=5.0):
    """Requests <target> on new connections until it gives 200 <body>,
    for at most <window> s (the backend coming back)."""
    deadline = time.monotonic() + window
    last = None
    while True:
        try:
            r = request(port, "GET", target, timeout=max(0.5, deadline - time.monotonic()))
            if (r.status, r.body) == (200, body):
                return r
            last = r
        except (ResponseError, OSError) as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"{target} not back to 200 within {window}s: {last!r}")
        time.sleep(0.1)


def _read_truncated(c, timeout):
    """Reads a response that must be cut short: returns (bytes received,
    seconds taken). Fails if a complete response arrives or nothing within
    <timeout> (a hang)."""
    t0 = time.monotonic()
    try:
        r = c.read_response(timeout=timeout)
    except ConnectionClosed as e:
        return e.data, time.monotonic() - t0
    raise AssertionError(f"a complete response instead of a cut connection: {r} {r.raw[:300]!r}")


def _peek_until(c, needle, timeout=5.0):
    """Waits until the bytes waiting on <c> contain <needle> (not consumed)."""
    deadline = time.monotonic() + timeout
    while True:
        c.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = c.recv(1 << 16, socket.MSG_PEEK)
        except socket.timeout:
            data = b""
        if needle in data:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} from relaisd within {timeout}s: {data!r}")
        time.sleep(0.02)


# --------------------------------------------------------------------------
# relaisd in front of php-fpm

@pytest.fixture
def fpm_site(make_php_fpm, make_relaisd, tmp_path):
    """php-fpm with ONE child (so that the next request needs the respawned
    one) behind relaisd; scripts of SCRIPTS in htdocs, their pid files in
    tmp_path/pids. Returns (php_fpm, relaisd, piddir)."""
    piddir = tmp_path / "pids"
    piddir.mkdir()
    os.chmod(piddir, 0o777)      # the pool runs as www-data
    fpm = make_php_fpm(max_children=1).start()
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(fpm.sock))
    for name, src in SCRIPTS.items():
        rl.write("htdocs/" + name, src.replace("{piddir}", str(piddir)))
    rl.write("htdocs/ok.txt", b"ok")
    rl.write_config(extra="Timeout 10\nProxyTimeout 8", sock=str(fpm.sock))
    rl.start()
    return fpm, rl, piddir


def _kill_child(fpm, pid):
    assert pid in fpm.children(), f"{pid} is not a child of our php-fpm {fpm.pid}"
    os.kill(pid, signal.SIGKILL)
    return time.monotonic()


def test_child_killed_before_head(fpm_site):
    """kill -9 of the child running a script that has sent nothing: 502
    at once, one log line, the connection goes on; php-fpm's master
    respawns the child and the next request gets PHP's answer."""
    fpm, rl, piddir = fpm_site
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        c.send_request("GET", "/hang.php")
        t0 = _kill_child(fpm, _wait_pid(piddir / "hang.php.pid"))
        r = c.read_response(timeout=SLACK)
        assert r.status == 502, (r, r.raw[:300])
        assert time.monotonic() - t0 < SLACK
        _log_line(rl, mark, fpm.sock, r"\d+", "connection closed early by")
        _in_sync(c, r, "/ok.php")      # the respawned child answers
    _until_ok(rl.port, "/ok.php", b"ok")
    assert rl.running()


def test_child_killed_mid_body(fpm_site):
    """kill -9 of the child after the head and part of the body went out:
    the client gets the head and that part, then the connection is cut
    (no chunked terminator) at once; the next connection works."""
    fpm, rl, piddir = fpm_site
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        c.send_request("GET", "/partial.php")
        pid = _wait_pid(piddir / "partial.php.pid")
        _peek_until(c, b"partial")
        _kill_child(fpm, pid)
        data, took = _read_truncated(c, SLACK)
    assert took < SLACK
    assert data.startswith(b"HTTP/1.1 200 ") and b"partial" in data, data
    assert b"\r\n0\r\n\r\n" not in data and b"too late" not in data, data
    _log_line(rl, mark, fpm.sock, r"\d+", "connection closed early by")
    _until_ok(rl.port, "/ok.php", b"ok")
    assert rl.running()


@pytest.mark.parametrize("leftover", ["socket_removed", "socket_left"])
def test_php_fpm_stopped(fpm_site, leftover):
    """php-fpm stopped (SIGTERM to its master, by PID) during a request:
    that request gets 502; afterwards, with the socket file gone, 503
    "No such file or directory", with a stale socket file nobody listens
    on, 503 "Connection refused" — each with Connection: close, and one log
    line. php-fpm started again in the same prefix: 200."""
    fpm, rl, piddir = fpm_site
    sock = fpm.sock
    # in flight while php-fpm stops
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        c.send_request("GET", "/hang.php")
        _wait_pid(piddir / "hang.php.pid")
        fpm.stop()
        r = c.read_response(timeout=SLACK)
        assert r.status == 502, (r, r.raw[:300])
        _log_line(rl, mark, sock, r"\d+", "connection closed early by")
        _in_sync(c, r)
    # nobody there
    if leftover == "socket_removed":
        if sock.exists():
            sock.unlink()
        errno_, cause = 2, "No such file or directory"
    else:
        if not sock.exists():       # a socket file nobody listens on
            with socket.socket(socket.AF_UNIX) as s:
                s.bind(str(sock))
            os.chmod(sock, 0o666)   # as php-fpm's: relaisd's workers are not root
        errno_, cause = 111, "Connection refused"
    assert sock.exists() == (leftover == "socket_left")
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        t0 = time.monotonic()
        c.send_request("GET", "/ok.php")
        r = c.read_response(timeout=SLACK)
        assert r.status == 503, (r, r.raw[:300])
        assert time.monotonic() - t0 < SLACK
        line = _log_line(rl, mark, sock, errno_, "attempt to connect to")
        assert cause in line, line
        _in_sync(c, r)
    # back
    fpm.start()
    _until_ok(rl.port, "/ok.php", b"ok")
    assert rl.running()


# --------------------------------------------------------------------------
# scripted FastCGI backends

STALL = object()     # a step: say nothing more until relaisd closes


class _ScriptedBackend(_FakeBackend):
    """A FastCGI backend on the unix socket <path> that reads each request
    whole (up to the empty STDIN record), then plays <steps>: bytes are
    sent, a number is a pause in seconds, STALL waits (at most 10 s) for
    relaisd to close the connection (then .peer_closed is set). The
    connection is closed after the last step."""

    def __init__(self, path, steps):
        self.steps = steps
        self.peer_closed = threading.Event()
        super().__init__(path, None)

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._play, args=(c,), daemon=True).start()

    def _play(self, c):
        c.settimeout(10)
        try:
            while True:
                _, type_, _, clen, plen, _ = struct.unpack(
                    ">BBHHBB", FcgiRecorder._recv_exact(c, 8))
                FcgiRecorder._recv_exact(c, clen + plen)
                if type_ == STDIN and clen == 0:
                    break
            for step in self.steps:
                if step is STALL:
                    if c.recv(1) == b"":
                        self.peer_closed.set()
                    return
                if isinstance(step, (int, float)):
                    time.sleep(step)
                else:
                    c.sendall(step)
        except (OSError, EOFError, struct.error):
            pass
        finally:
            c.close()


def _stdout(content):
    return FcgiRecorder._record(STDOUT, 1, content)


def _header(version, type_, clen, rid=1, plen=0):
    return struct.pack(">BBHHBB", version, type_, rid, clen, plen, 0)


HEAD = b"Content-Type: text/html\r\n\r\n"
END = FcgiRecorder._record(STDOUT, 1) + FcgiRecorder._record(3, 1, struct.pack(">IB3x", 0, 0))


@pytest.fixture
def scripted(make_relaisd, tmp_path):
    """scripted(steps) -> (relaisd, backend, sock): relaisd with ProxyTimeout
    1 in front of a _ScriptedBackend playing <steps>."""
    made = []

    def make(steps):
        sock = tmp_path / "fcgi.sock"
        backend = _ScriptedBackend(sock, steps)
        made.append(backend)
        rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(sock))
        rl.write("htdocs/x.php", b"<?php echo 1;")
        rl.write("htdocs/ok.txt", b"ok")
        rl.write_config(extra="Timeout 30\nProxyTimeout 1", sock=str(sock))
        rl.start()
        return rl, backend, sock

    yield make
    for b in made:
        b.close()


MALFORMED = [
    # id, steps, errno, log, head sent first
    ("version_2", [_header(2, STDOUT, len(HEAD) + 2) + HEAD + b"hi" + END],
     r"\d+", "protocol error from", False),
    ("short_record", [_header(1, STDOUT, 100) + b"Content-Type: text/html\r\n"],
     r"\d+", "connection closed early by", False),
    ("bad_cgi_head", [_stdout(b"no colon in this line\r\n\r\nbody") + END],
     r"\d+", "malformed response header from", False),
    ("garbage_after_head", [_stdout(HEAD + b"first"), 0.3,
                            b"HTTP/1.1 200 OK\r\nnot a FastCGI record\r\n\r\n"],
     r"\d+", "protocol error from", True),
]


@pytest.mark.parametrize("steps,errno_,what,head_first",
                         [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_records(scripted, steps, errno_, what, head_first):
    """Records relaisd cannot use: 502 when nothing was sent yet (and the
    keep-alive connection stays in sync), a cut connection after the head
    and the part of the body that came before the garbage; one log line
    naming the socket either way; the server keeps working."""
    rl, _, sock = scripted(steps)
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        t0 = time.monotonic()
        c.send_request("GET", "/x.php")
        if head_first:
            data, took = _read_truncated(c, SLACK)
            assert data.startswith(b"HTTP/1.1 200 ") and b"first" in data, data
            assert b"not a FastCGI" not in data, data
        else:
            r = c.read_response(timeout=SLACK)
            assert r.status == 502, (r, r.raw[:300])
            _in_sync(c, r)
        assert time.monotonic() - t0 < SLACK
    _log_line(rl, mark, sock, errno_, what)
    assert request(rl.port, "GET", "/ok.txt").body == b"ok"
    assert rl.running()


def test_silent_backend_keepalive(scripted):
    """A backend that reads the request and says nothing: 504 after
    ProxyTimeout (1 s), not before, not much later; relaisd closes the
    backend connection and the client connection stays in sync."""
    rl, backend, sock = scripted([STALL])
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        t0 = time.monotonic()
        c.send_request("GET", "/x.php")
        r = c.read_response(timeout=1 + SLACK)
        took = time.monotonic() - t0
        assert r.status == 504, (r, r.raw[:300])
        assert 0.9 <= took < 1 + SLACK, took
        _in_sync(c, r)
    _log_line(rl, mark, sock, 110, "timed out reading the response of")
    assert backend.peer_closed.wait(SLACK), "relaisd kept the backend connection open"


def test_backend_stalls_after_head(scripted):
    """A backend that sends the head and the start of the body, then
    stalls: the client gets those, then the connection is cut after
    ProxyTimeout (bounded, no hang), with the log line; relaisd closes the
    backend connection; the next connection works."""
    rl, backend, sock = scripted([_stdout(HEAD + b"first"), STALL])
    mark = len(rl.error_log())
    with open_conn(rl.port) as c:
        t0 = time.monotonic()
        c.send_request("GET", "/x.php")
        _peek_until(c, b"first", SLACK)
        data, _ = _read_truncated(c, 1 + SLACK)
        took = time.monotonic() - t0
    assert data.startswith(b"HTTP/1.1 200 ") and b"first" in data, data
    assert 0.9 <= took < 1 + SLACK, took
    _log_line(rl, mark, sock, 110, "timed out reading the response of")
    assert backend.peer_closed.wait(SLACK), "relaisd kept the backend connection open"
    assert request(rl.port, "GET", "/ok.txt").body == b"ok"


@pytest.mark.parametrize("case", ["502", "504", "503"])
def test_pipelined_after_error(scripted, case):
    """A request pipelined behind one that fails (its bytes already in
    relaisd's buffer when the backend fails): after a 502 or 504 it is
    answered in order on the same connection; a 503 says Connection: close
    and nothing follows it."""
    steps = {"502": [_stdout(b"no colon\r\n\r\n") + END], "504": [STALL], "503": []}[case]
    rl, _, sock = scripted(steps)
    if case == "503":
        sock.unlink()           # nobody there: connect() fails
    with open_conn(rl.port) as c:
        c.sendall(b"GET /x.php HTTP/1.1\r\nHost: localhost\r\n\r\n"
                  b"GET /ok.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        r = c.read_response(timeout=1 + SLACK)
        assert r.status == int(case), (r, r.raw[:300])
        if case == "503":
            assert r.headers.get("Connection") == "close"
            assert c.is_closed(SLACK)
        else:
            r2 = c.read_response(timeout=SLACK)
            assert (r2.status, r2.body) == (200, b"ok"), (r2, r2.raw[:300])
            assert not c.is_closed(0.2)
