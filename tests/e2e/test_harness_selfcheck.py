"""Self-check of the e2e harness (relais.py, conftest.py), without relaisd.

The HTTP helpers are tested against Python's http.server and a socket that
sends fixed bytes; the process handling against a stand-in daemon (a Python
script with relaisd's command line) written to tmp_path.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import relais
from relais import (ConnectionClosed, DaemonError, Relaisd, ResponseError, build_request,
                    fill, free_port, is_closed, open_conn, open_tls, parse_responses, raw,
                    read_response, request)


# --------------------------------------------------------------------------
# a reference server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/len":
            self._send(200, b"hello", [("Content-Type", "text/plain")])
        elif self.path == "/cookies":
            self._send(200, b"", [("Set-Cookie", "a=1"), ("set-cookie", "b=2"),
                                  ("X-Multi", "x"), ("X-MULTI", "y")])
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Trailer")
            self.end_headers()
            self.wfile.write(b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: done\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
            self.close_connection = True
        elif self.path in ("/204", "/304"):
            self._send(int(self.path[1:]))
        else:
            self._send(404, b"not found")

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(200, b"echo:" + body)


@pytest.fixture(scope="module")
def pyserver():
    srv = ThreadingHTTPServer((relais.HOST, free_port()), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def fixed_bytes():
    """Returns serve(data) -> port: one connection gets <data>, then a close."""
    socks = []

    def serve(data):
        ls = socket.socket()
        ls.bind((relais.HOST, free_port()))
        ls.listen(1)
        socks.append(ls)

        def run():
            c, _ = ls.accept()
            c.recv(65536)
            c.sendall(data)
            c.close()
        threading.Thread(target=run, daemon=True).start()
        return ls.getsockname()[1]
    yield serve
    for s in socks:
        s.close()


# --------------------------------------------------------------------------
# HTTP helpers

def test_free_port_is_loopback_free_and_unique():
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20
    for p in ports:
        with socket.socket() as s:
            s.bind((relais.HOST, p))


def test_fill_leaves_apache_braces_alone():
    used = set()
    out = fill('Listen {port}\nLogFormat "%{Referer}i ${X} {nope} [0-9]{3}"', {"port": 9}, used)
    assert out == 'Listen 9\nLogFormat "%{Referer}i ${X} {nope} [0-9]{3}"'
    assert used == {"port"}


def test_fill_unescapes_doubled_braces_like_format():
    t = 'LogFormat "%{{X-Test}}i {port}" [0-9]{{3}} {{port}} {{{port}}}'
    assert fill(t, {"port": 9}) == t.format(port=9)


def test_request_content_length(pyserver):
    r = request(pyserver, "GET", "/len")
    assert (r.version, r.status, r.reason) == ("HTTP/1.1", 200, "OK")
    assert r.body == b"hello" and r.text == "hello"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["CONTENT-LENGTH"] == "5"
    assert "Content-Type" in r.headers and "X-Nope" not in r.headers
    assert r.raw.startswith(b"HTTP/1.1 200 OK\r\n") and r.raw.endswith(b"\r\n\r\nhello")


def test_repeated_headers(pyserver):
    r = request(pyserver, "GET", "/cookies")
    assert r.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert r.headers["x-multi"] == "x, y"
    assert ("set-cookie", "b=2") in r.headers.list


def test_chunked_with_trailer(pyserver):
    r = request(pyserver, "GET", "/chunked")
    assert r.chunked and r.body == b"hello"
    assert r.trailers["x-trailer"] == "done"
    assert r.raw.endswith(b"0\r\nX-Trailer: done\r\n\r\n")


def test_body_until_close(pyserver):
    r = request(pyserver, "GET", "/close", close=False)
    assert r.body == b"until close"


def test_keepalive_pipelining_and_bodiless(pyserver):
    with open_conn(pyserver) as c:
        c.sendall(build_request("GET", "/len") + build_request("HEAD", "/len")
                  + build_request("GET", "/204") + build_request("GET", "/304")
                  + build_request("GET", "/chunked") + build_request("GET", "/missing"))
        a = c.read_response()
        b = c.read_response("HEAD")
        assert (a.status, a.body) == (200, b"hello")
        assert (b.status, b.body, b.headers["content-length"]) == (200, b"", "5")
        assert c.read_response().status == 204
        assert c.read_response().status == 304
        assert c.read_response().body == b"hello"
        assert c.read_response().status == 404
        assert not c.is_closed(0.2)
        assert c.request("GET", "/len").body == b"hello"
        c.send_request("GET", "/len", close=True)
        assert c.read_response().body == b"hello"
        assert c.is_closed(2)
        with pytest.raises(ConnectionClosed):
            c.read_response()


def test_expect_100_continue(pyserver):
    with open_conn(pyserver) as c:
        c.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        r = c.read_response("POST")
        assert r.status == 100 and r.body == b""
        c.sendall(b"abc")
        r = c.read_response("POST")
        assert (r.status, r.body) == (200, b"echo:abc")


def test_read_response_leaves_next_bytes_in_socket(pyserver):
    with open_conn(pyserver) as c:
        c.sendall(build_request("GET", "/len") * 2)
        read_response(c)
        time.sleep(0.1)
        rest = b""
        while not rest.endswith(b"hello"):
            rest += c.recv(4096)
        assert rest.startswith(b"HTTP/1.1 200 OK\r\n")


def test_plain_socket_works_too(pyserver):
    with socket.create_connection((relais.HOST, pyserver)) as s:
        s.sendall(build_request("GET", "/len") * 2)
        assert read_response(s).body == b"hello"
        assert read_response(s).body == b"hello"


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command")
def test_tls_pipelining(tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv = ThreadingHTTPServer((relais.HOST, free_port()), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with open_tls(srv.server_address[1]) as c:
            c.sendall(build_request("GET", "/len") + build_request("GET", "/chunked")
                      + build_request("HEAD", "/len"))
            assert read_response(c).body == b"hello"
            assert read_response(c).trailers["x-trailer"] == "done"
            assert not is_closed(c, 0.3)
            assert read_response(c, "HEAD").headers["content-length"] == "5"
            c.sendall(build_request("GET", "/len", close=True))
            assert read_response(c).body == b"hello"
            assert is_closed(c, 2)
    finally:
        srv.shutdown()
        srv.server_close()


def test_raw_and_parse_responses(pyserver):
    data = raw(pyserver, build_request("GET", "/len") + build_request("HEAD", "/len")
               + build_request("GET", "/chunked", close=True))
    rs = parse_responses(data, ["GET", "HEAD", "GET"])
    assert [r.status for r in rs] == [200, 200, 200]
    assert [r.body for r in rs] == [b"hello", b"", b"hello"]
    assert b"".join(r.raw for r in rs) == data


def test_raw_returns_on_timeout_without_error(pyserver):
    t = time.monotonic()
    data = raw(pyserver, build_request("GET", "/len"), timeout=0.5)
    assert 0.4 < time.monotonic() - t < 3
    assert parse_responses(data)[0].body == b"hello"


def test_build_request_shape():
    assert build_request("POST", "/x", {"X-A": "1"}, b"hi", close=True) == (
        b"POST /x HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\nhi")
    assert build_request("GET", "/", host=None, version="HTTP/1.0") == b"GET / HTTP/1.0\r\n\r\n"


@pytest.mark.parametrize("data, error", [
    (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "both"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nX: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n", "folding"),
    (b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "bad header"),
    (b"HTTQ/1.1 200 OK\r\n\r\n", "status line"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
])
def test_strict_parser_rejects(fixed_bytes, data, error):
    with open_conn(fixed_bytes(data)) as c:
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(ResponseError, match=error):
            read_response(c)


def test_lenient_parser_and_truncation(fixed_bytes):
    with open_conn(fixed_bytes(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")) as c:
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert read_response(c, strict=False).body == b"ok"
    with open_conn(fixed_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort")) as c:
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(ConnectionClosed, match="4 of 9 bytes missing"):
            read_response(c)
    with open_conn(fixed_bytes(b"")) as c:
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert is_closed(c, 2)
        with pytest.raises(ConnectionClosed, match="before a response"):
            read_response(c)


def test_timeout(fixed_bytes):
    ls = socket.socket()
    ls.bind((relais.HOST, free_port()))
    ls.listen(1)
    with ls, open_conn(ls.getsockname()[1]) as c:
        t = time.monotonic()
        with pytest.raises(relais.ResponseTimeout):
            read_response(c, timeout=0.3)
        assert time.monotonic() - t < 2


# --------------------------------------------------------------------------
# process handling, against a stand-in for relaisd

FAKE = r'''
import os, re, select, signal, socket, sys, time
args = sys.argv[1:]
text = open(args[args.index("-f") + 1]).read()
def directive(name):
    m = re.search(r'^\s*' + name + r'\s+"?([^"\s]+)', text, re.M)
    return m.group(1)
ports = [int(p) for p in re.findall(r"^Listen\s+127\.0\.0\.1:(\d+)", text, re.M)]
mode = os.environ.get("FAKE_MODE", "")
if "-t" in args:
    print("Syntax OK", file=sys.stderr)
    sys.exit(0)
if mode == "fail":
    print("AH00526: Syntax error on line 3: fake failure", file=sys.stderr)
    sys.exit(1)
k = args[args.index("-k") + 1] if "-k" in args else None
if k == "stop":
    os.kill(int(open(directive("PidFile")).read()), signal.SIGTERM)
    sys.exit(0)

def log(msg):
    with open(directive("ErrorLog"), "a") as f:
        f.write(f"[pid {os.getpid()}] {msg}\n")

def worker(socks):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            try:
                c, _ = s.accept()
            except BlockingIOError:
                continue
            c.setblocking(True)
            req = b""
            while b"\r\n\r\n" not in req:
                d = c.recv(4096)
                if not d:
                    break
                req += d
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
            c.close()
            with open(directive("CustomLog"), "a") as f:
                f.write(req.split(b"\r\n")[0].decode() + " 200\n")

def serve(notify=None):
    socks = []
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        s.listen(128)
        s.setblocking(False)
        socks.append(s)
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            worker(socks)
        kids.append(pid)
    with open(directive("PidFile"), "w") as f:
        f.write(f"{os.getpid()}\n")
    log("resuming normal operations")
    if mode == "asan":
        path = re.search(r"log_path=([^:]+)", os.environ["ASAN_OPTIONS"]).group(1)
        with open(f"{path}.{kids[0]}", "w") as f:
            f.write("==1==ERROR: AddressSanitizer: heap-use-after-free\n")
    if notify is not None:
        os.write(notify, b"x")
    def term(*_):
        if mode == "noexit":
            return
        if mode == "crash":
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        if mode != "orphan":
            for pid in kids:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
        log("caught SIGTERM, shutting down")
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    while True:
        signal.pause()

if k == "start":
    r, w = os.pipe()
    if os.fork():
        os.close(w)
        sys.exit(0 if os.read(r, 1) else 1)
    os.setsid()
    if os.fork():
        os._exit(0)
    fd = os.open(os.devnull, os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(fd, i)
    serve(w)
else:
    serve()
'''


@pytest.fixture
def fake_bin(tmp_path):
    p = tmp_path / "fake-relaisd"
    p.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE))
    p.chmod(0o755)
    return p


@pytest.fixture
def fake(make_relaisd, fake_bin):
    return make_relaisd(binary=fake_bin)


def _dead(pids):
    return all(not relais._alive(p) for p in pids)


def test_foreground_start_request_stop(fake):
    fake.start()
    assert fake.running() and len(fake.children()) == 2
    r = fake.get("/hello")
    assert (r.status, r.body) == (200, b"ok\n")
    fake.wait_for_access_log(r"GET /hello HTTP/1.1 200")
    assert "resuming normal operations" in fake.error_log()
    assert fake.read_pidfile() == fake.pid
    kids = fake.children()
    assert fake.stop() == 0
    assert _dead(kids + [fake.pid or 0]) and not fake.running()
    assert "shutting down" in fake.error_log()
    assert fake.teardown() == []


def test_run_one_shot(fake):
    r = fake.run(["-t"])
    assert r.rc == 0 and "Syntax OK" in r.stderr
    rc, out, err = fake.run(["-t"])
    assert (rc, out) == (0, "")


def test_daemon_start_and_stop_with_k(fake):
    fake.start(["-k", "start"])
    assert fake.daemon and fake.pid == fake.read_pidfile()
    assert fake.get("/").status == 200
    master, kids = fake.pid, fake.children()
    assert len(kids) == 2
    fake.stop(use_k=True)
    assert _dead([master] + kids)
    assert fake.teardown() == []


def test_daemon_stop_by_signal(fake):
    fake.start(["-k", "start"])
    master = fake.pid
    fake.stop()
    assert _dead([master])


def test_start_failure_carries_stderr(fake):
    fake.env["FAKE_MODE"] = "fail"
    with pytest.raises(DaemonError, match="(?s)exited.*fake failure"):
        fake.start(timeout=5)
    assert not fake.running()


def test_start_timeout_when_port_never_listens(make_relaisd, fake_bin):
    d = make_relaisd(binary=fake_bin, nports=2,
                     template=relais.DEFAULT_CONF + "# also {port1}\n")
    d.conf.write_text(d.conf.read_text().replace(f"Listen 127.0.0.1:{d.port}\n", ""))
    t = time.monotonic()
    with pytest.raises(DaemonError, match="not listening"):
        d.start(timeout=1)
    assert time.monotonic() - t < 5
    assert not d.running()


def test_waits_only_for_ports_in_the_config(make_relaisd, fake_bin):
    d = make_relaisd(binary=fake_bin, nports=3)
    assert d.wait_ports == [d.port]
    d.write_config(extra="Listen 127.0.0.1:{port2}")
    assert d.wait_ports == [d.ports[0], d.ports[2]]
    d.start()
    assert d.request(port=d.ports[2]).status == 200


def test_sigterm_ignored_means_sigkill(fake):
    fake.env["FAKE_MODE"] = "noexit"
    fake.start()
    kids = fake.children()
    fake.stop(timeout=0.5)
    assert _dead(kids)
    problems = fake.teardown()
    assert any("ignored SIGTERM" in p for p in problems)
    assert fake.teardown() == []


def test_crash_is_reported(fake):
    fake.env["FAKE_MODE"] = "crash"
    fake.start()
    fake.stop()
    assert any("SIGSEGV" in p for p in fake.teardown())


def test_orphaned_workers_are_killed_and_reported(fake):
    fake.env["FAKE_MODE"] = "orphan"
    fake.start()
    kids = fake.children()
    assert fake.stop() == 0
    assert _dead(kids)
    assert any("still alive" in p for p in fake.teardown())


def test_daemon_started_by_run_is_swept(fake):
    fake.allow_leftovers = True
    assert fake.run(["-k", "start"]).rc == 0
    pid = fake.read_pidfile()
    assert relais._alive(pid)
    fake.teardown()
    assert _dead([pid])


def test_sanitizer_report_is_a_problem(fake):
    fake.env["FAKE_MODE"] = "asan"
    fake.start()
    deadline = time.monotonic() + 5
    while not fake.sanitizer_reports() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "heap-use-after-free" in fake.diagnostics()
    problems = fake.teardown()
    assert any("heap-use-after-free" in p for p in problems)
    for f in fake.sanitizer_dir.iterdir():
        f.unlink()


def test_signal_and_wait_exit(fake):
    fake.start()
    fake.signal(signal.SIGTERM)
    assert fake.wait_exit(5) == 0
    assert fake.stop() == 0


def test_prefix_is_reachable_by_dropped_workers(fake):
    if os.geteuid() != 0:
        pytest.skip("only root drops privileges")
    st = os.stat(fake.prefix.parent)
    assert st.st_mode & 0o011 == 0o011
    assert os.stat(fake.sanitizer_dir).st_mode & 0o7777 == 0o1777


def test_relaisd_instance_defaults(tmp_path, fake_bin):
    d = Relaisd(tmp_path / "p", binary=fake_bin)
    try:
        text = d.conf.read_text()
        assert f"Listen 127.0.0.1:{d.port}" in text
        assert f'DocumentRoot "{d.docroot}"' in text
        assert '%{Referer}i' in text
        assert d.pidfile == d.logs / "relaisd.pid"
        assert d.error_log_path == d.logs / "error_log"
        assert d.access_log_path == d.logs / "access_log"
        assert d.write("htdocs/a/b.txt", "x").read_bytes() == b"x"
        assert d.argv(["-t"])[1:] == ["-f", str(d.conf), "-t"]
    finally:
        assert d.teardown() == []
