"""Backend connections: one per request by default; kept and reused with
enablereuse=on max=N (FCGI_KEEP_CONN), never more than N per worker
process, waiting requests served as connections free up, and a kept
connection the backend closed never costs a request.
"""

import hashlib
import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import incumbents
from relais import request

CONF = """
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
PidFile logs/relaisd.pid
ErrorLog logs/error_log
LogLevel info
RelaisWorkers 1
DocumentRoot "{prefix}/htdocs"
<Directory "{prefix}/htdocs">
    Require all granted
</Directory>
<FilesMatch "\\.php$">
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</FilesMatch>
{extra}
"""


class CountingRecorder(incumbents.FcgiRecorder):
    """A FcgiRecorder that counts the connections it accepts and how many
    are open at once; <close_after> closes a kept connection after that
    many requests (as php-fpm's pm.max_requests does)."""

    def __init__(self, path, close_after=0, delay=0.0, read_delay=0.0):
        super().__init__(path)
        self.read_delay = read_delay
        self.accepted = 0
        self.open = 0
        self.max_open = 0
        self.close_after = close_after
        self.delay = delay
        self.busy = 0          # requests being answered right now
        self.max_busy = 0
        self._count_lock = threading.Lock()

    def _serve(self, c):
        with self._count_lock:
            self.accepted += 1
            self.open += 1
            self.max_open = max(self.max_open, self.open)
        try:
            time.sleep(self.read_delay)
            if self.close_after or self.delay:
                c = _Limited(c, self.close_after, self.delay, self)
            super()._serve(c)
        finally:
            with self._count_lock:
                self.open -= 1


class _Limited:
    """Wraps a socket: answers are delayed by <delay>, and the connection
    is closed once <n> answers went out (n = 0: never)."""

    def __init__(self, sock, n, delay, rec):
        self._s, self._n, self._delay, self._sent, self._rec = sock, n, delay, 0, rec

    def sendall(self, data):
        if self._delay and data[1:2] == b"\x06":
            rec = self._rec
            with rec._count_lock:
                rec.busy += 1
                rec.max_busy = max(rec.max_busy, rec.busy)
            time.sleep(self._delay)
            with rec._count_lock:
                rec.busy -= 1
        self._s.sendall(data)
        if data[-15:-14] == b"\x03":   # ends with END_REQUEST
            self._sent += 1
            if self._n and self._sent >= self._n:
                self._s.shutdown(2)

    def __getattr__(self, name):
        return getattr(self._s, name)


@pytest.fixture
def setup(make_relaisd, tmp_path):
    made = []

    def start(extra="", **kw):
        rec = CountingRecorder(tmp_path / "fcgi.sock", **kw).start()
        made.append(rec)
        rl = make_relaisd(template=CONF, name="relaisd", sock=str(rec.path))
        rl.write("htdocs/x.php", b"")
        rl.write_config(extra=extra.format(sock=rec.path), sock=str(rec.path))
        rl.start()
        made.append(rl)
        return rl, rec

    yield start
    for d in reversed(made):   # relaisd first: it holds kept connections
        d.stop()


def _get_many(port, n, workers=1, target="/x.php"):
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(lambda _: request(port, "GET", target, timeout=10), range(n)))


def test_one_connection_per_request_by_default(setup):
    rl, rec = setup()
    answers = _get_many(rl.port, 10)
    assert [a.status for a in answers] == [200] * 10
    assert rec.accepted == 10
    # and relaisd did not ask to keep them
    assert all(r["begin"]["flags"] == 0 for r in rec.requests)


def test_enablereuse_keeps_one_connection(setup):
    rl, rec = setup('<Proxy "unix:{sock}|fcgi://localhost" enablereuse=on max=2>\n</Proxy>')
    answers = _get_many(rl.port, 20)
    assert [a.status for a in answers] == [200] * 20
    assert rec.accepted == 1
    assert all(r["begin"]["flags"] == 1 for r in rec.requests)   # FCGI_KEEP_CONN


def test_max_bounds_connections_and_queues_the_rest(setup):
    rl, rec = setup('<Proxy "unix:{sock}|fcgi://localhost" enablereuse=on max=2>\n</Proxy>',
                    delay=0.05)
    answers = _get_many(rl.port, 24, workers=8)
    assert [a.status for a in answers] == [200] * 24
    assert rec.max_open <= 2 and rec.max_busy == 2
    assert rec.accepted <= 2


def test_max_without_reuse_still_bounds(setup):
    rl, rec = setup('<Proxy "unix:{sock}|fcgi://localhost" max=1>\n</Proxy>', delay=0.05)
    answers = _get_many(rl.port, 8, workers=4)
    assert [a.status for a in answers] == [200] * 8
    assert rec.max_busy == 1   # (a closed connection may linger a moment at the backend)
    assert rec.accepted == 8


def test_backend_closing_kept_connections_costs_nothing(setup):
    """php-fpm's pm.max_requests closes a kept connection after N requests:
    the next request goes on a new connection, never fails."""
    rl, rec = setup('<Proxy "unix:{sock}|fcgi://localhost" enablereuse=on max=1>\n</Proxy>',
                    close_after=3)
    answers = _get_many(rl.port, 15)
    assert [a.status for a in answers] == [200] * 15
    assert rec.accepted == 5


def test_idle_connections_expire_after_ttl(setup):
    rl, rec = setup('<Proxy "unix:{sock}|fcgi://localhost" enablereuse=on max=1 ttl=1>\n'
                    '</Proxy>')
    assert request(rl.port, "GET", "/x.php").status == 200
    assert rec.open == 1
    deadline = time.monotonic() + 5
    while rec.open and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rec.open == 0   # relaisd let go of the idle connection
    assert request(rl.port, "GET", "/x.php").status == 200
    assert rec.accepted == 2


def test_reuse_with_php_fpm(make_relaisd, make_php_fpm, tmp_path):
    """Against the real php-fpm, whose children exit after pm.max_requests:
    every request succeeds and the same child serves consecutive ones."""
    fpm = make_php_fpm(max_children=1, pool_extra="pm.max_requests = 4\n")
    fpm.start()
    rl = make_relaisd(template=CONF, name="relaisd", sock=str(fpm.sock))
    rl.write("htdocs/pid.php", b"<?php echo getmypid();")
    rl.write_config(extra=f'<Proxy "unix:{fpm.sock}|fcgi://localhost" enablereuse=on max=1>\n'
                          '</Proxy>', sock=str(fpm.sock))
    rl.start()
    answers = _get_many(rl.port, 12, target="/pid.php")
    assert [a.status for a in answers] == [200] * 12
    pids = [a.body for a in answers]
    assert len(set(pids)) == 3   # 4 requests per child, on its kept connection


def test_request_body_streams_with_back_pressure(setup):
    """A 32 MiB upload to a backend that reads nothing for a second:
    relaisd holds a few dozen KiB of it, not the body (the client waits),
    and the backend then gets every byte, with the client's length."""
    rl, rec = setup(read_delay=1.0)
    body = os.urandom(32 << 20)

    def rss_kb():
        total = 0
        for pid in rl.children():
            with open(f"/proc/{pid}/status") as f:
                total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        return total

    base = rss_kb()
    s = socket.create_connection(("127.0.0.1", rl.port))
    s.sendall(b"POST /x.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    sent = [0]

    def send():
        view = memoryview(body)
        while sent[0] < len(body):
            sent[0] += s.send(view[sent[0]:sent[0] + 65536])

    t = threading.Thread(target=send, daemon=True)
    t.start()
    time.sleep(0.7)
    grown = rss_kb() - base
    assert grown < 4096, f"relaisd grew by {grown} KiB during the upload"
    assert sent[0] < len(body), "the whole body was taken while the backend read nothing"
    t.join(20)
    s.settimeout(10)
    data = b""
    while True:
        d = s.recv(1 << 16)
        if not d:
            break
        data += d
    s.close()
    assert data.startswith(b"HTTP/1.1 200")
    rep = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert rep["input"] == {"length": len(body), "md5": hashlib.md5(body).hexdigest()}
    assert rep["server"]["CONTENT_LENGTH"] == str(len(body))
