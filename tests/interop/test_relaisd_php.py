"""relaisd in front of Debian's php-fpm (mod_proxy_fcgi style), compared
with Debian's Apache in front of the same php-fpm, variable by variable.

This is the first part of the FastCGI issue: SetHandler "proxy:unix:...",
one backend connection per request, streamed responses. Every request below
gives the same $_SERVER through both servers."""

import hashlib
import json
import os

import pytest

import incumbents
from incumbents import diff_env, normalize, server_env

ALIAS = 'Alias /al "{prefix}/aliased"\n<Directory "{prefix}/aliased">\nRequire all granted\n</Directory>'

RELAISD_CONF = """\
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
CustomLog "{logs}/access_log" combined
DocumentRoot "{docroot}"
DirectoryIndex index.php index.html
<Directory "{docroot}">
    Require all granted
</Directory>
SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
<FilesMatch ".+\\.ph(ar|p|tml)$">
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</FilesMatch>
{extra}
"""

REQUESTS = [
    ("plain", "GET", "/env.php", None, None),
    ("path_info", "GET", "/env.php/extra/path?x=1", None, None),
    ("dir_index", "GET", "/sub/", None, None),
    ("alias", "GET", "/al/env.php/pi?y=2", None, None),
    ("encoded", "GET", "/sub/index.php/a%20b?q=%20&r", None, None),
    ("host_ip", "GET", "/env.php", {"Host": "127.0.0.1:{port}"}, None),
    ("host_no_port", "GET", "/env.php", {"Host": "www.example.test"}, None),
    ("post_auth", "POST", "/env.php?p=1",
     {"Host": "localhost:{port}", "Content-Type": "application/x-www-form-urlencoded",
      "Authorization": "Basic dXNlcjpwdw==", "X-Foo": "bar"}, "a=1&b=2"),
]

# what Apache's mod_proxy adds that relaisd has no reason to send
IGNORE = set(incumbents.IGNORE) | {"proxy-nokeepalive"}


def _site(d):
    src = (incumbents.ENV_PHP).read_bytes()
    for rel in ("htdocs/env.php", "htdocs/sub/index.php", "aliased/env.php"):
        d.write(rel, src)


def _ask(server, method, target, headers, body):
    headers = {k: v.replace("{port}", str(server.port)) for k, v in (headers or {}).items()}
    env = server_env(server.port, target, headers=headers, method=method, body=body)
    return normalize(env, port=server.port, prefix=server.prefix)


@pytest.fixture
def both(make_apache, make_relaisd, php_fpm):
    apache = make_apache(sock=php_fpm, name="apache2")
    _site(apache)
    apache.write_config(extra=ALIAS)
    apache.start()
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(php_fpm.sock))
    _site(rl)
    rl.write_config(extra=ALIAS, sock=str(php_fpm.sock))
    rl.start()
    return apache, rl


@pytest.mark.parametrize("label,method,target,headers,body", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_environment_as_apache(both, label, method, target, headers, body):
    apache, rl = both
    want = _ask(apache, method, target, headers, body)
    got = _ask(rl, method, target, headers, body)
    d = diff_env(want, got, ignore=IGNORE, labels=("apache", "relaisd"))
    assert d == "", f"{label}:\n{d}\n\n{rl.diagnostics()}"


def test_response_streams_and_errors(both, tmp_path):
    _, rl = both
    rl.write("htdocs/big.php", b"<?php header('X-Big: yes'); http_response_code(201);"
                               b" echo str_repeat('x', 3000000);")
    r = rl.get("/big.php")
    assert r.status == 201 and r.headers["X-Big"] == "yes"
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert len(r.body) == 3000000 and set(r.body) == {ord("x")}
    h = rl.request("HEAD", "/big.php")
    assert h.status == 201 and h.body == b""
    # php-fpm answers a missing script with 404 and says why on stderr
    r = rl.get("/missing.php")
    assert (r.status, r.body) == (404, b"File not found.\n")
    rl.wait_for_log(r"\[proxy_fcgi:error\] .*AH01071: Got error 'Primary script unknown'")
    # a request for a socket nobody listens on: 503 and a line naming it
    rl.write_config(extra=ALIAS + '\n<Location "/dead">\nSetHandler "proxy:unix:'
                    + str(tmp_path / "nobody.sock") + '|fcgi://localhost"\n</Location>',
                    sock=str(both[1].prefix / "unused"))
    rl.stop()
    rl.start()
    r = rl.get("/dead/x.php")
    assert r.status == 503
    rl.wait_for_log(r"FCGI: attempt to connect to unix:.*nobody\.sock")


def test_location_headers(both):
    """PHP turns "Location:" into a 302 unless the script sets another
    status: relaisd answers as Apache does. "Location: /path" with status
    200 is CGI's internal redirect, which the FastCGI issue asks for;
    Apache's mod_proxy_fcgi passes it to the client as is (checked here
    too, so that a change on either side shows)."""
    apache, rl = both
    scripts = {
        "go.php": b"<?php header('Location: /target.txt'); echo 'not this';",
        "away.php": b"<?php header('Location: http://example.com/x');",
        "go200.php": b"<?php header('Location: /target.txt'); http_response_code(200); echo 'no';",
        "gophp.php": b"<?php header('Location: /env.php?from=go'); http_response_code(200);",
    }
    for d in both:
        d.write("htdocs/target.txt", b"the target\n")
        for name, src in scripts.items():
            d.write("htdocs/" + name, src)
    for name in ("go.php", "away.php"):
        a, r = apache.get("/" + name), rl.get("/" + name)
        assert (r.status, r.headers.get("Location"), r.body) == \
               (a.status, a.headers.get("Location"), a.body), name
    a = apache.get("/go200.php")
    assert (a.status, a.headers.get("Location"), a.body) == (200, "/target.txt", b"no")
    r = rl.get("/go200.php")
    assert (r.status, r.headers.get("Location"), r.body) == (200, None, b"the target\n")
    r = rl.get("/gophp.php")
    assert r.status == 200 and b'"QUERY_STRING":"from=go"' in r.body
    assert b'"REQUEST_METHOD":"GET"' in r.body


class _FakeBackend:
    """A unix socket that answers with <reply> (None: never answers)."""

    def __init__(self, path, reply):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o666)      # the workers are not root
        self.sock.listen(8)
        self.reply = reply
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            c.recv(65536)
            if self.reply is not None:
                c.sendall(self.reply)
                c.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("reply,status,log,timeouts", [
    (b"HTTP/1.1 200 OK\r\n\r\nnot FastCGI", 502, r"FCGI: protocol error from unix:.*bad\.sock",
     "Timeout 1"),
    (b"", 502, r"FCGI: connection closed early by unix:.*bad\.sock", "Timeout 1"),
    (None, 504, r"FCGI: timed out reading the response of unix:.*bad\.sock", "Timeout 1"),
    # ProxyTimeout overrides Timeout for backends
    (None, 504, r"FCGI: timed out reading the response of unix:.*bad\.sock",
     "Timeout 60\nProxyTimeout 1"),
])
def test_broken_backends(make_relaisd, tmp_path, reply, status, log, timeouts):
    sock = tmp_path / "bad.sock"
    backend = _FakeBackend(sock, reply)
    try:
        rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(sock))
        rl.write("htdocs/x.php", b"<?php echo 1;")
        rl.write_config(extra=timeouts, sock=str(sock))
        rl.start()
        r = rl.get("/x.php", timeout=10)
        assert r.status == status, r
        rl.wait_for_log(log)
        # the connection and the server are fine afterwards
        rl.write("htdocs/ok.txt", b"ok")
        assert rl.get("/ok.txt").body == b"ok"
    finally:
        backend.close()


def test_request_bodies(both):
    ap, rl = both
    body = os.urandom(1 << 20)
    import hashlib
    rep = incumbents.php_report(rl.port, "/env.php", method="POST", body=body,
                                headers={"Content-Type": "application/octet-stream"})
    assert rep["input"] == {"length": len(body), "md5": hashlib.md5(body).hexdigest()}
    # chunked request bodies reach PHP de-chunked, with a CONTENT_LENGTH
    from relais import open_conn
    with open_conn(rl.port) as c:
        c.sendall(b"POST /env.php HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: text/plain\r\nConnection: close\r\n\r\n"
                  b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    import json
    rep = json.loads(r.body)
    assert rep["input"] == {"length": 11, "md5": hashlib.md5(b"hello world").hexdigest()}
    # a chunked body larger than what is held in memory is spooled to a file
    big = os.urandom(3 << 20)
    with open_conn(rl.port) as c:
        c.sendall(b"POST /env.php HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
        for i in range(0, len(big), 100000):
            piece = big[i:i + 100000]
            c.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        c.sendall(b"0\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    assert json.loads(r.body)["input"] == {"length": len(big),
                                           "md5": hashlib.md5(big).hexdigest()}
    # bodies are streamed, never held whole: beyond PHP's post_max_size
    # both servers answer alike (PHP's warning, an empty php://input)
    huge = b"x" * (17 << 20)
    answers = [incumbents.relais.request(port, "POST", "/env.php", body=huge,
                                         headers={"Content-Type": "application/octet-stream"})
               for port in (ap.port, rl.port)]
    assert [a.status for a in answers] == [200, 200]
    assert json.loads(answers[0].body)["input"] == json.loads(answers[1].body)["input"]


def test_client_gone_mid_stream(both):
    """A client that leaves during a streamed response costs nothing: the
    backend connection is closed with the request, the worker goes on."""
    import socket
    import time
    _, rl = both
    rl.write("htdocs/huge.php", b"<?php for ($i = 0; $i < 400; $i++) echo str_repeat('y', 65536);")
    rl.write("htdocs/slow.php", b"<?php usleep(300000); echo 'late';")
    for target in ("/huge.php", "/slow.php"):
        s = socket.create_connection(("127.0.0.1", rl.port))
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        if target == "/huge.php":
            s.recv(65536)
        s.close()
    time.sleep(0.6)
    r = rl.get("/env.php")
    assert r.status == 200
    assert rl.running()


def test_slow_client_frees_php_at_once(both, tmp_path):
    """A client that reads nothing for a while: PHP's 8 MiB answer is
    taken in full (memory, then a temporary file), so the PHP worker is
    free long before the client has read it; the client then gets every
    byte, in order."""
    import socket
    import time
    _, rl = both
    done = tmp_path / "php-done"
    rl.write("htdocs/big.php", (
        "<?php for ($i = 0; $i < 128; $i++) echo str_pad(\"$i:\", 65536, '.');"
        f" file_put_contents('{done}', 'x');").encode())
    os.chmod(tmp_path, 0o777)
    s = socket.create_connection(("127.0.0.1", rl.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    deadline = time.monotonic() + 5
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done.exists(), "PHP still writes: the slow client holds its worker"
    s.settimeout(10)
    data = bytearray()
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        data += d
    s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    # de-chunk
    out, i = bytearray(), 0
    while True:
        j = body.index(b"\r\n", i)
        n = int(body[i:j], 16)
        if n == 0:
            break
        out += body[j + 2:j + 2 + n]
        i = j + 2 + n + 2
    expected = b"".join(f"{i}:".encode().ljust(65536, b".") for i in range(128))
    assert bytes(out) == expected


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_response_framing_as_apache(both, method):
    """Same status and body through both servers. A long answer is chunked
    by both; a small one PHP gives whole relaisd sends with a
    Content-Length (Apache chunks it: a length is as valid and lets an
    HTTP/1.0 client keep its connection). HEAD: neither header, no body,
    as Apache."""
    from relais import request
    apache, rl = both
    for d in (apache, rl):
        d.write("htdocs/small.php", b"<?php echo 'hello';")
        d.write("htdocs/long.php", b"<?php for ($i = 0; $i < 64; $i++) "
                b"{ echo str_repeat('z', 8192); flush(); usleep(1000); }")
    for target in ("/small.php", "/long.php"):
        got = []
        for d in (apache, rl):
            r = request(d.port, method, target)
            got.append((r.status, r.header("Content-Length"), r.header("Transfer-Encoding"),
                        len(r.body)))
        if method == "GET" and target == "/small.php":
            assert got[0] == (200, None, "chunked", 5)
            assert got[1] == (200, "5", None, 5)
        else:
            assert got[0] == got[1], (target, got)



def test_fallback_resource_as_apache(make_apache, make_relaisd, php_fpm):
    """FallbackResource /app/index.php: a front controller gets the same
    $_SERVER (REQUEST_URI the client's, SCRIPT_NAME the controller's)."""
    extra = '<Directory "{docroot}/app">\n    FallbackResource /app/index.php\n</Directory>'
    apache = make_apache(sock=php_fpm, name="apache2")
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(php_fpm.sock))
    for d in (apache, rl):
        d.write("htdocs/app/index.php", incumbents.ENV_PHP.read_bytes())
        d.write_config(extra=extra, sock=str(php_fpm.sock))
        d.start()
    for target in ("/app/blog/hello-world?p=2", "/app/"):
        envs = [_ask(d, "GET", target, None, None) for d in (apache, rl)]
        d = diff_env(envs[0], envs[1], ignore=IGNORE, labels=("apache", "relaisd"))
        assert not d, (target, d)


@pytest.mark.parametrize("directive,kept", [("Header always unset X-App", False),
                                            ("Header unset X-App", True)])
def test_script_headers_are_always_headers(make_apache, make_relaisd, php_fpm, directive, kept):
    """A script's header fields are in Apache's err_headers_out: only
    "Header always" reaches them (the hardening line for X-Powered-By)."""
    from relais import request
    apache = make_apache(sock=php_fpm, name="apache2", modules=["headers"])
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd", sock=str(php_fpm.sock))
    for d in (apache, rl):
        d.write("htdocs/h.php", b"<?php header('X-App: 1'); echo 'x';")
        d.write_config(extra=directive, sock=str(php_fpm.sock))
        d.start()
    got = [request(d.port, "GET", "/h.php").header("X-App") for d in (apache, rl)]
    assert got == (["1", "1"] if kept else [None, None])
