"""relaisd's HTTP/1.1 behaviour, black box, through real sockets: persistent
connections and pipelining, request bodies, methods, request targets and
path normalisation, strict framing, limits, static files (types,
validators, conditionals, ranges, sendfile), error pages and timeouts.

Reference: Apache 2.4 (Debian's apache2 2.4.71 was run side by side on
loopback where a detail was in doubt); where relais departs from it on
purpose (README: "Framing is strict") the test says so.

Most tests share one daemon (the module-scoped `site`, started once, with
every file and section they need) to keep the file fast; a test that needs
its own server-wide settings (timeouts, ServerTokens, KeepAlive Off,
virtual hosts) starts its own. Every daemon listens on 127.0.0.1 only.

Workers drop to www-data when the tests run as root: the harness makes
the prefix traversable (relais.open_path; done here too for the
module-scoped daemons) and writes files 0644 / directories 0755.
"""

import email.utils
import hashlib
import os
import re
import select
import socket
import time
from pathlib import Path

import pytest

import relais
from relais import (ConnectionClosed, Relaisd, build_request, open_conn, parse_responses,
                    raw)

# --------------------------------------------------------------------------
# Apache 2.4's canned pages (byte for byte what Debian's apache2 2.4.71 sends
# with ServerSignature Off)

DOCTYPE = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
           '"http://www.w3.org/TR/html4/strict.dtd">\n')


def apache_page(status, title, message):
    return (DOCTYPE + f"<html><head>\n<title>{status} {title}</title>\n</head><body>\n"
            f"<h1>{title}</h1>\n{message}</body></html>\n").encode()


BAD_REQUEST = "<p>Your browser sent a request that this server could not understand.<br />\n"
PAGE_400 = apache_page(400, "Bad Request", BAD_REQUEST + "</p>\n")
PAGE_400_FIELD_SIZE = apache_page(400, "Bad Request", BAD_REQUEST +
                                  "Size of a request header field exceeds server limit.</p>\n")
PAGE_400_FIELDS = apache_page(400, "Bad Request", BAD_REQUEST +
                              "The number of request header fields exceeds this server's "
                              "limit.</p>\n")
PAGE_403 = apache_page(403, "Forbidden",
                       "<p>You don't have permission to access this resource.</p>\n")
PAGE_404 = apache_page(404, "Not Found",
                       "<p>The requested URL was not found on this server.</p>\n")
PAGE_408 = apache_page(408, "Request Timeout",
                       "<p>Server timeout waiting for the HTTP request from the client.</p>\n")
PAGE_413_POST = apache_page(413, "Request Entity Too Large",
                            "The requested resource does not allow request data with POST "
                            "requests, or the amount of data provided in\nthe request exceeds "
                            "the capacity limit.\n")
PAGE_414 = apache_page(414, "Request-URI Too Long",
                       "<p>The requested URL's length exceeds the capacity\n"
                       "limit for this server.<br />\n</p>\n")
PAGE_416 = apache_page(416, "Requested Range Not Satisfiable",
                       "<p>None of the range-specifier values in the Range\n"
                       "request-header field overlap the current extent\n"
                       "of the selected resource.</p>\n")


def page_405(method):
    return apache_page(405, "Method Not Allowed",
                       f"<p>The requested method {method} is not allowed for this URL.</p>\n")


def page_501(method):
    return apache_page(501, "Not Implemented",
                       f"<p>{method} not supported for current URL.<br />\n</p>\n")


def page_301(url):
    return apache_page(301, "Moved Permanently",
                       f'<p>The document has moved <a href="{url}">here</a>.</p>\n')


ERROR_TYPE = "text/html; charset=iso-8859-1"
ALLOW = "GET,POST,OPTIONS,HEAD,TRACE"      # Apache's, TraceEnable On (its default)

# --------------------------------------------------------------------------
# the shared site

MTIME = 1704164645                              # Tue, 02 Jan 2024 03:04:05 GMT
LAST_MODIFIED = "Tue, 02 Jan 2024 03:04:05 GMT"
RANGE_DATA = bytes((i * 7 + 13) % 251 for i in range(1000))
BIG_SIZE = 5 * 1024 * 1024 + 123
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
NOBODY_UID = 65534

SITE_FILES = {
    "htdocs/a.txt": b"hello\n",
    "htdocs/b.css": b"body { color: red }\n",
    "htdocs/c.html": b"<p>c</p>\n",
    "htdocs/d.png": PNG,
    "htdocs/e.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "htdocs/range.txt": RANGE_DATA,
    "htdocs/sub/index.html": b"<h1>sub</h1>\n",
    "htdocs/sub2/index.txt": b"second index name\n",
    "htdocs/sub/deeper/d.txt": b"deeper\n",
    "htdocs/empty/.keep": b"",
    "htdocs/typed/x.css": b"x{}\n",
    "htdocs/typed/y.txt": b"y\n",
    "htdocs/typed/z.html": b"<p>z</p>\n",
    "htdocs/typed/w.png": PNG,
    "htdocs/nofollow/real.txt": b"real file\n",
    "htdocs/nobody.txt": b"owned by nobody\n",
    "htdocs/small/s.txt": b"small\n",
    "secret.txt": b"TOPSECRET outside the docroot\n",
    "htdocs-evil/s.txt": b"TOPSECRET next door\n",
    "aliased/in.txt": b"aliased file\n",
}

SITE_CONF = """\
DirectoryIndex index.html index.txt
LimitRequestLine 512
LimitRequestFieldSize 512
LimitRequestFields 20
LimitRequestBody 1000
Alias /al "{prefix}/aliased"
<Directory "{prefix}/aliased">
    Require all granted
</Directory>
<Directory "{docroot}/nofollow">
    Options -FollowSymLinks
</Directory>
<Directory "{docroot}/follow">
    Options +FollowSymLinks
</Directory>
<Directory "{docroot}/owner">
    Options -FollowSymLinks +SymLinksIfOwnerMatch
</Directory>
<Directory "{docroot}/typed">
    AddType application/x-relais-test .css
    AddDefaultCharset UTF-8
</Directory>
<Directory "{docroot}/small">
    LimitRequestBody 10
</Directory>
"""




def build_site(d):
    for rel, data in SITE_FILES.items():
        d.write(rel, data)
    big = os.urandom(BIG_SIZE)
    d.write("htdocs/big.bin", big)
    d.big_sha256 = hashlib.sha256(big).hexdigest()
    h = d.docroot
    for sub in ("follow", "owner"):
        (h / sub).mkdir(mode=0o755)
    os.symlink("../a.txt", h / "nofollow/link.txt")
    os.symlink("../a.txt", h / "follow/link.txt")
    os.symlink("../a.txt", h / "owner/same.txt")
    os.symlink("../nobody.txt", h / "owner/other.txt")
    if os.geteuid() == 0:
        os.chown(h / "nobody.txt", NOBODY_UID, NOBODY_UID)
    for p in [*d.prefix.rglob("*")]:
        if not p.is_symlink():
            os.utime(p, (MTIME, MTIME))
    d.write_config(extra=SITE_CONF)


def _module_daemon(tmp_path_factory, binary, name, setup):
    prefix = tmp_path_factory.mktemp(name) / "relaisd"
    d = Relaisd(prefix, binary=binary)
    relais.open_path(prefix, tmp_path_factory.getbasetemp().parent)
    setup(d)
    d.start()
    return d


def _watch(d, request):
    """Attributes what a test did to a shared daemon to that test: its
    diagnostics on failure, and any sanitizer report (a crashed worker is
    silently replaced otherwise) or the master's death as a failure."""
    request.node._relais_daemons = [d]
    before = {n for n, _ in d.sanitizer_reports()}
    yield d
    new = [(n, t) for n, t in d.sanitizer_reports() if n not in before]
    if new:
        pytest.fail("sanitizer report(s) during this test:\n" +
                    "\n".join(t[-6000:] for _, t in new), pytrace=False)
    if not d.running():
        pytest.fail("relaisd died during this test\n" + d.diagnostics(), pytrace=False)


@pytest.fixture(scope="module")
def _site(tmp_path_factory, relaisd_binary):
    d = _module_daemon(tmp_path_factory, relaisd_binary, "http_site", build_site)
    yield d
    problems = d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def site(_site, request):
    yield from _watch(_site, request)


SLOW_CONF = """\
KeepAliveTimeout 1
MaxKeepAliveRequests 2
RequestReadTimeout header=1-2,MinRate=500 body=1
LimitRequestFieldSize 20000
"""


@pytest.fixture(scope="module")
def _slow(tmp_path_factory, relaisd_binary):
    def setup(d):
        d.write("htdocs/a.txt", b"hello\n")
        d.write_config(extra=SLOW_CONF)
    d = _module_daemon(tmp_path_factory, relaisd_binary, "http_slow", setup)
    yield d
    problems = d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def slow(_slow, request):
    yield from _watch(_slow, request)


# --------------------------------------------------------------------------
# helpers

def req(method="GET", target="/", headers=None, body=None, host="localhost",
        version="HTTP/1.1", close=False):
    return build_request(method, target, headers, body, host, version, close)


def pipeline(port, *requests, methods="GET", timeout=5):
    """Sends <requests> in ONE write, reads until the server closes, and
    returns (responses, seconds it took)."""
    t0 = time.monotonic()
    data = raw(port, b"".join(requests), timeout=timeout)
    return parse_responses(data, methods), time.monotonic() - t0


def etag_of(d, rel):
    st = os.stat(d.prefix / rel)
    return f'"{st.st_size:x}-{st.st_mtime_ns // 1000:x}"'


def assert_error(r, status, page, allow=None):
    assert r.status == status, (r, r.body)
    assert r.body == page
    assert r.headers["Content-Type"] == ERROR_TYPE
    assert r.headers["Content-Length"] == str(len(page))
    if allow is not None:
        assert r.headers["Allow"] == allow


def assert_closes(sock, timeout=2.0):
    assert sock.is_closed(timeout), "the server kept the connection open"


# --------------------------------------------------------------------------
# persistent connections

def test_several_requests_on_one_connection(site):
    with open_conn(site.port) as c:
        for target, body, ctype in (("/a.txt", b"hello\n", "text/plain"),
                                    ("/c.html", b"<p>c</p>\n", "text/html"),
                                    ("/nope", PAGE_404, ERROR_TYPE),
                                    ("/b.css", SITE_FILES["htdocs/b.css"], "text/css")):
            r = c.request("GET", target)
            assert r.version == "HTTP/1.1"
            assert r.body == body, target
            assert r.headers["Content-Type"] == ctype
            assert r.headers["Content-Length"] == str(len(body))
            # an HTTP/1.1 client that did not send "keep-alive" gets neither
            # header (Apache's ap_set_keepalive)
            assert "Connection" not in r.headers and "Keep-Alive" not in r.headers
        assert not c.is_closed(0.3)


def test_pipelining_in_one_write(site):
    rs, _ = pipeline(site.port,
                     req("GET", "/a.txt"),
                     req("HEAD", "/b.css"),
                     req("GET", "/nope"),
                     req("GET", "/e.svg", headers={"X-N": "4"}),
                     req("GET", "/c.html", close=True),
                     req("GET", "/a.txt?never"),
                     methods=["GET", "HEAD", "GET", "GET", "GET"])
    assert [r.status for r in rs] == [200, 200, 404, 200, 200]
    assert rs[0].body == b"hello\n"
    assert rs[1].body == b"" and rs[1].headers["Content-Length"] == "20"
    assert rs[2].body == PAGE_404
    assert rs[3].body == SITE_FILES["htdocs/e.svg"]
    assert rs[4].body == b"<p>c</p>\n"
    assert rs[4].headers["Connection"] == "close"
    time.sleep(0.2)
    assert "/a.txt?never" not in site.access_log()


def test_many_pipelined_requests_come_back_in_order(site):
    names = ["a.txt", "b.css", "c.html", "e.svg", "sub/index.html", "range.txt"] * 5
    reqs = [req("GET", "/" + n) for n in names]
    reqs.append(req("GET", "/a.txt", close=True))
    rs, _ = pipeline(site.port, *reqs)
    assert len(rs) == len(names) + 1
    for n, r in zip(names, rs):
        assert r.status == 200 and r.body == SITE_FILES["htdocs/" + n], n


def test_http10_closes_by_default(site):
    t0 = time.monotonic()
    data = raw(site.port, b"GET /a.txt HTTP/1.0\r\n\r\n", timeout=4)
    assert time.monotonic() - t0 < 2, "HTTP/1.0 without keep-alive must close"
    (r,) = parse_responses(data)
    # Apache answers HTTP/1.0 requests with its own version, HTTP/1.1
    assert r.version == "HTTP/1.1" and r.status == 200
    assert r.headers["Connection"] == "close"
    assert "Keep-Alive" not in r.headers
    assert r.body == b"hello\n"


def test_http10_keep_alive(site):
    with open_conn(site.port) as c:
        c.send_request("GET", "/a.txt", version="HTTP/1.0", host=None,
                       headers={"Connection": "keep-alive"})
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello\n"
        assert r.headers["Connection"] == "Keep-Alive"
        assert r.headers["Keep-Alive"] == "timeout=5, max=100"
        assert not c.is_closed(0.3)
        c.send_request("GET", "/c.html", version="HTTP/1.0", host=None,
                       headers={"Connection": "Keep-Alive"})
        r = c.read_response()
        assert r.body == b"<p>c</p>\n"
        assert r.headers["Keep-Alive"] == "timeout=5, max=99"
        c.send_request("GET", "/a.txt", version="HTTP/1.0", host=None)
        r = c.read_response()
        assert r.status == 200 and r.headers["Connection"] == "close"
        assert_closes(c)


def test_http11_client_sending_keep_alive_gets_the_headers(site):
    with open_conn(site.port) as c:
        r = c.request("GET", "/a.txt", headers={"Connection": "keep-alive"})
        assert r.headers["Connection"] == "Keep-Alive"
        assert r.headers["Keep-Alive"] == "timeout=5, max=100"
        assert not c.is_closed(0.2)


def test_connection_close_is_honoured(site):
    rs, took = pipeline(site.port,
                        req("GET", "/a.txt", headers={"Connection": "close"}),
                        req("GET", "/c.html?after-close"))
    assert len(rs) == 1 and rs[0].status == 200 and rs[0].body == b"hello\n"
    assert rs[0].headers["Connection"] == "close"
    assert took < 3
    # also among other tokens, any case
    rs, _ = pipeline(site.port,
                     req("GET", "/a.txt", headers={"Connection": "TE, Close"}),
                     req("GET", "/c.html?after-close"))
    assert len(rs) == 1
    time.sleep(0.2)
    assert "after-close" not in site.access_log()


def test_max_keepalive_requests(slow):
    # MaxKeepAliveRequests 2: Apache counts keep-alives after the first
    # request, so the connection carries three requests
    reqs = [req("GET", f"/a.txt?n={i}", headers={"Connection": "keep-alive"}) for i in range(5)]
    rs, _ = pipeline(slow.port, *reqs)
    assert [r.status for r in rs] == [200, 200, 200]
    assert rs[0].headers["Keep-Alive"] == "timeout=1, max=2"
    assert rs[1].headers["Keep-Alive"] == "timeout=1, max=1"
    assert rs[2].headers["Connection"] == "close" and "Keep-Alive" not in rs[2].headers
    time.sleep(0.2)
    assert "/a.txt?n=3" not in slow.access_log()


def test_keepalive_timeout_closes_idle_connection(slow):
    with open_conn(slow.port) as c:
        assert c.request("GET", "/a.txt").status == 200
        t0 = time.monotonic()
        assert not c.is_closed(0.5), "closed before KeepAliveTimeout 1"
        assert c.is_closed(3.0), "still open well after KeepAliveTimeout 1"
        assert 0.8 < time.monotonic() - t0 < 3.0


def test_keepalive_timeout_restarts_with_each_request(slow):
    with open_conn(slow.port) as c:
        for i in range(3):          # the 3rd is the last MaxKeepAliveRequests allows
            time.sleep(0.6)
            r = c.request("GET", f"/a.txt?ka={i}")
            assert r.status == 200, i
        assert r.headers["Connection"] == "close"


# --------------------------------------------------------------------------
# request bodies

def test_content_length_body_is_discarded_without_desync(site):
    smuggled = req("GET", "/smuggled-cl")
    rs, _ = pipeline(site.port,
                     req("POST", "/a.txt", body=smuggled),
                     req("GET", "/c.html", body=b"x" * 300),
                     req("GET", "/b.css", close=True))
    assert [r.status for r in rs] == [200, 200, 200]
    assert [r.body for r in rs] == [b"hello\n", b"<p>c</p>\n", SITE_FILES["htdocs/b.css"]]
    time.sleep(0.2)
    assert "smuggled" not in site.access_log()


def test_chunked_body_is_discarded_without_desync(site):
    body = (b"5;ext=1\r\nhello\r\n"
            b"1A\r\n" + req("GET", "/smuggled-chunk")[:26] + b"\r\n"
            b"0\r\nX-Trailer: t\r\n\r\n")
    rs, _ = pipeline(site.port,
                     req("POST", "/a.txt", headers={"Transfer-Encoding": "chunked"}, body=body),
                     req("GET", "/c.html", close=True))
    assert [r.status for r in rs] == [200, 200]
    assert [r.body for r in rs] == [b"hello\n", b"<p>c</p>\n"]
    time.sleep(0.2)
    assert "smuggled" not in site.access_log()


def test_body_arriving_in_pieces_is_discarded(site):
    with open_conn(site.port) as c:
        c.sendall(req("POST", "/a.txt", headers={"Transfer-Encoding": "chunked"}))
        for piece in (b"3\r\nab", b"c\r\n", b"4;x=y\r\nde", b"fg\r\n0\r", b"\n\r\n"):
            time.sleep(0.05)
            c.sendall(piece)
        c.sendall(req("POST", "/b.css", headers={"Content-Length": "10"}) + b"01234")
        time.sleep(0.1)
        c.sendall(b"56789" + req("GET", "/c.html"))
        assert c.read_response().body == b"hello\n"
        assert c.read_response().body == SITE_FILES["htdocs/b.css"]
        assert c.read_response().body == b"<p>c</p>\n"
        assert not c.is_closed(0.2)


def test_expect_100_continue_is_coherent(site):
    """relaisd may send "100 Continue" and read the body, or answer at once
    and close; either way the body must never be taken for a request."""
    body = req("GET", "/smuggled-expect", host="x")
    with open_conn(site.port) as c:
        c.send_request("POST", "/a.txt", headers={"Expect": "100-continue",
                                                  "Content-Length": str(len(body))})
        r = c.read_response()
        if r.status == 100:
            c.sendall(body)
            r = c.read_response()
            assert r.status == 200 and r.body == b"hello\n"
            assert c.request("GET", "/c.html").body == b"<p>c</p>\n"
        else:
            assert r.status == 200 and r.body == b"hello\n"
            assert r.headers["Connection"] == "close"
            c.sendall(body)
            with pytest.raises(ConnectionClosed):
                c.read_response(timeout=3)
    time.sleep(0.2)
    assert "smuggled" not in site.access_log()


def test_expect_other_than_100_continue_is_417(site):
    rs, _ = pipeline(site.port, req("GET", "/a.txt", headers={"Expect": "x-relais"}))
    assert len(rs) == 1 and rs[0].status == 417


def test_limit_request_body_413(site):
    rs, took = pipeline(site.port,
                        req("POST", "/a.txt", body=b"x" * 1001),
                        req("GET", "/a.txt?after-413"))
    assert len(rs) == 1 and took < 3
    assert_error(rs[0], 413, PAGE_413_POST)
    assert rs[0].headers["Connection"] == "close"
    rs, _ = pipeline(site.port, req("POST", "/a.txt", body=b"x" * 1000, close=True))
    assert rs[0].status == 200 and rs[0].body == b"hello\n"
    time.sleep(0.2)
    assert "after-413" not in site.access_log()


def test_limit_request_body_in_a_directory(site):
    rs, _ = pipeline(site.port, req("POST", "/small/s.txt", body=b"x" * 11),
                     req("GET", "/a.txt?after-413"))
    assert len(rs) == 1
    assert_error(rs[0], 413, PAGE_413_POST)
    rs, _ = pipeline(site.port, req("POST", "/small/s.txt", body=b"x" * 10, close=True))
    assert rs[0].status == 200 and rs[0].body == b"small\n"


def test_limit_request_body_chunked_413(site):
    body = b"3E9\r\n" + b"x" * 1001 + b"\r\n0\r\n\r\n"
    rs, _ = pipeline(site.port,
                     req("POST", "/a.txt", headers={"Transfer-Encoding": "chunked"}, body=body),
                     req("GET", "/a.txt?after-413-chunked"))
    assert len(rs) == 1
    assert_error(rs[0], 413, PAGE_413_POST)


# --------------------------------------------------------------------------
# methods

def test_head(site):
    rs, _ = pipeline(site.port, req("HEAD", "/range.txt"), req("HEAD", "/nope"),
                     req("GET", "/a.txt", close=True), methods=["HEAD", "HEAD", "GET"])
    assert [r.status for r in rs] == [200, 404, 200]
    assert rs[0].headers["Content-Length"] == "1000"
    assert rs[0].headers["Content-Type"] == "text/plain"
    assert rs[0].headers["ETag"] == etag_of(site, "htdocs/range.txt")
    assert rs[0].body == b"" and rs[1].body == b""
    assert rs[2].body == b"hello\n"      # no stray body bytes before it


def test_options(site):
    rs, _ = pipeline(site.port, req("OPTIONS", "/a.txt"), req("OPTIONS", "/nope"),
                     req("GET", "/a.txt", close=True))
    assert [r.status for r in rs] == [200, 200, 200]
    for r in rs[:2]:
        assert r.headers["Allow"] == ALLOW
        assert r.headers["Content-Length"] == "0" and r.body == b""
    assert rs[2].body == b"hello\n"


def test_options_asterisk(site):
    rs, _ = pipeline(site.port, req("OPTIONS", "*"), req("GET", "/a.txt", close=True))
    assert [r.status for r in rs] == [200, 200]
    assert rs[0].headers["Content-Length"] == "0" and rs[0].body == b""
    assert "Allow" not in rs[0].headers          # Apache's bare answer
    assert rs[1].body == b"hello\n"
    # "*" is for OPTIONS only
    rs, _ = pipeline(site.port, req("GET", "*"), req("GET", "/a.txt"))
    assert len(rs) == 1
    assert_error(rs[0], 400, PAGE_400)


def test_trace_echoes_the_request_head(site):
    rs, _ = pipeline(site.port, req("TRACE", "/a.txt?q=1", headers=[("X-Foo", "  bar baz "),
                                                                   ("Connection", "close")]))
    (r,) = rs
    assert r.status == 200
    assert r.headers["Content-Type"] == "message/http"
    assert r.body == (b"TRACE /a.txt?q=1 HTTP/1.1\r\nHost: localhost\r\nX-Foo: bar baz\r\n"
                      b"Connection: close\r\n\r\n")


def test_trace_disabled_405(relaisd):
    # Debian's security.conf sets TraceEnable Off
    relaisd.write("htdocs/a.txt", b"a\n")
    relaisd.write_config(extra="TraceEnable Off")
    relaisd.start()
    r = relaisd.request("TRACE", "/a.txt")
    assert r.status == 405
    assert r.headers["Allow"] == "GET,POST,OPTIONS,HEAD,TRACE"
    assert b"TRACE" in r.body and b"message/http" not in r.body
    relaisd.wait_for_log(r"AH00669: TRACE denied by server configuration")
    assert relaisd.request("GET", "/a.txt").status == 200


def test_unknown_method_501(site):
    rs, _ = pipeline(site.port, req("FOO", "/a.txt"), req("GET", "/a.txt?after-501"))
    assert len(rs) == 1
    assert_error(rs[0], 501, page_501("FOO"), allow=ALLOW)
    assert rs[0].headers["Connection"] == "close"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_put_delete_on_a_static_file_405(site, method):
    rs, _ = pipeline(site.port, req(method, "/a.txt", body=b"new content"),
                     req("GET", "/a.txt", close=True))
    assert len(rs) == 2
    assert_error(rs[0], 405, page_405(method), allow=ALLOW)
    assert rs[1].status == 200 and rs[1].body == b"hello\n"
    assert (site.docroot / "a.txt").read_bytes() == b"hello\n"


def test_connect_405(site):
    rs, _ = pipeline(site.port, req("CONNECT", "localhost:443"),
                     req("GET", "/a.txt", close=True))
    assert rs[0].status == 405
    assert rs[0].headers["Allow"] == ALLOW
    assert rs[0].body == page_405("CONNECT")
    # Apache keeps the connection; closing it is as good for a client that
    # may start tunnelling right away. Either way nothing is mistaken.
    if len(rs) == 2:
        assert rs[1].body == b"hello\n"
    else:
        assert rs[0].headers["Connection"] == "close"


# --------------------------------------------------------------------------
# request targets

def test_absolute_form_target(site):
    p = site.port
    rs, _ = pipeline(p,
                     req("GET", f"http://localhost:{p}/a.txt", host="elsewhere.example"),
                     req("GET", f"http://LOCALHOST:{p}/c.html", host=None),
                     req("GET", f"http://localhost:{p}", host=None),
                     req("GET", f"http://localhost:{p}/nope?x=1", host=None, close=True))
    # (no path is "/": the docroot has no index, so 403)
    assert [r.status for r in rs] == [200, 200, 403, 404]
    assert rs[0].body == b"hello\n" and rs[1].body == b"<p>c</p>\n"
    assert rs[2].body == PAGE_403 and rs[3].body == PAGE_404


def test_absolute_form_selects_the_virtual_host(make_relaisd):
    d = make_relaisd()
    d.write("a/who.txt", b"a\n")
    d.write("b/who.txt", b"b\n")
    d.write("htdocs/who.txt", b"main\n")
    d.write_config(extra="""\
<Directory "{prefix}">
    Require all granted
</Directory>
<VirtualHost 127.0.0.1:{port}>
    ServerName a.test
    DocumentRoot "{prefix}/a"
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName b.test
    ServerAlias *.b.test
    DocumentRoot "{prefix}/b"
</VirtualHost>
""")
    d.start()
    p = d.port
    rs, _ = pipeline(p,
                     req("GET", "/who.txt", host="b.test"),
                     req("GET", "/who.txt", host=f"B.Test:{p}"),
                     req("GET", "/who.txt", host="www.b.test."),
                     req("GET", "/who.txt", host="unknown.test"),
                     # the absolute-form's authority wins over Host (RFC 9112 3.2.2)
                     req("GET", f"http://b.test:{p}/who.txt", host="a.test"),
                     req("GET", "http://a.test/who.txt", host="b.test"),
                     req("GET", f"http://b.test:{p}/who.txt", host=None, close=True))
    assert [r.body for r in rs] == [b"b\n", b"b\n", b"b\n", b"a\n", b"b\n", b"a\n", b"b\n"]


def test_origin_form_without_slash_is_400(site):
    rs, _ = pipeline(site.port, req("GET", "a.txt"), req("GET", "/a.txt"))
    assert len(rs) == 1
    assert_error(rs[0], 400, PAGE_400)


# --------------------------------------------------------------------------
# path normalisation

ESCAPES = [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
    "/%2e./secret.txt", "/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
    "//../secret.txt", "/./../secret.txt", "/sub/deeper/../../../secret.txt",
    "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub/..%5c..%5csecret.txt",
    "/%252e%252e/secret.txt", "/..//secret.txt", "/../htdocs-evil/s.txt",
    "/%2e%2e/htdocs-evil/s.txt", "/al/../secret.txt", "/al/%2e%2e/secret.txt",
    "/al/../../secret.txt", "/al/..%2fsecret.txt", "/al/%2e%2e%2f%2e%2e%2fsecret.txt",
]


def test_paths_cannot_leave_the_document_root(site):
    p = site.port
    targets = ESCAPES + [f"http://localhost:{p}/../secret.txt",
                         f"http://localhost:{p}/%2e%2e/secret.txt"]
    for t in targets:
        rs, _ = pipeline(p, req("GET", t, close=True))
        (r,) = rs
        assert b"TOPSECRET" not in r.body, t
        # Apache answers 400 to a path that climbs above "/" (AH10244);
        # relais clamps it at "/" (src/http/uri.h) and finds nothing: 404
        assert r.status in (400, 404), (t, r.status)
        assert r.body == (PAGE_400 if r.status == 400 else PAGE_404), t


def test_encoded_slash_and_nul_are_404(site):
    for t in ("/sub%2Findex.html", "/sub%2findex.html", "/a.txt%00", "/a.txt%00.html",
              "/%00/a.txt", "/al%2Fin.txt"):
        rs, _ = pipeline(site.port, req("GET", t, close=True))
        assert_error(rs[0], 404, PAGE_404)


def test_malformed_escape_is_400(site):
    for t in ("/%zz", "/a.txt%4", "/%g0/a.txt"):
        rs, _ = pipeline(site.port, req("GET", t), req("GET", "/a.txt"))
        assert len(rs) == 1, t
        assert_error(rs[0], 400, PAGE_400)


def test_dot_segments_and_slash_runs_resolve_inside(site):
    cases = {
        "/sub/./index.html": b"<h1>sub</h1>\n",
        "/sub/deeper/../index.html": b"<h1>sub</h1>\n",
        "//sub//index.html": b"<h1>sub</h1>\n",
        "/sub///deeper//d.txt": b"deeper\n",
        "/%2e/a.txt": b"hello\n",
        "/sub/%2e%2e/a.txt": b"hello\n",
        "/sub/deeper/%2E%2E/%2e%2e/a.txt": b"hello\n",
        "/%61.txt": b"hello\n",
        "/al/in.txt": b"aliased file\n",
        "/al//./in.txt": b"aliased file\n",
        "/al/x/../in.txt": b"aliased file\n",
    }
    reqs = [req("GET", t) for t in cases] + [req("GET", "/a.txt", close=True)]
    rs, _ = pipeline(site.port, *reqs)
    assert len(rs) == len(cases) + 1
    for (t, body), r in zip(cases.items(), rs):
        assert (r.status, r.body) == (200, body), t


# --------------------------------------------------------------------------
# strict framing: 400 (or the status named), connection closed, and the
# request pipelined behind it never processed

GOOD = b"GET /a.txt?after-bad HTTP/1.1\r\nHost: localhost\r\n\r\n"
H = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n"

FRAMING = {
    "cl_and_te": (H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "te_and_cl": (H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    "two_content_lengths": (H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    "content_length_list": (H + b"Content-Length: 3, 4\r\n\r\nabcd", 400),
    "content_length_not_a_number": (H + b"Content-Length: 1a\r\n\r\n1a", 400),
    "content_length_negative": (H + b"Content-Length: -1\r\n\r\n", 400),
    "te_not_chunked_last": (H + b"Transfer-Encoding: chunked, identity\r\n\r\n", 400),
    "te_unknown": (H + b"Transfer-Encoding: x-relais\r\n\r\n", 400),
    "obs_fold": (H + b"X-A: a\r\n  folded\r\n\r\n", 400),
    "obs_fold_tab": (H + b"X-A: a\r\n\tfolded\r\n\r\n", 400),
    "bare_cr_in_value": (H + b"X-A: a\rb\r\n\r\n", 400),
    "bare_cr_line_end": (H + b"X-A: ab\r\r\n\r\n", 400),
    "space_before_colon": (H + b"X-A : b\r\n\r\n", 400),
    "tab_before_colon": (H + b"X-A\t: b\r\n\r\n", 400),
    "no_colon": (H + b"X-A b\r\n\r\n", 400),
    "bad_field_name": (H + b"X(A): b\r\n\r\n", 400),
    "leading_space_header": (b"GET /a.txt HTTP/1.1\r\n Host: localhost\r\n\r\n", 400),
    "missing_host_http11": (b"GET /a.txt HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    "two_hosts": (H + b"Host: other\r\n\r\n", 400),
    "bad_host": (b"GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    "host_with_slash": (b"GET /a.txt HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    "garbage": (b"\x01\x02\x03garbage\r\n\r\n", 400),
    "lowercase_version": (b"GET /a.txt http/1.1\r\nHost: localhost\r\n\r\n", 400),
    "extra_token": (b"GET /a.txt HTTP/1.1 x\r\nHost: localhost\r\n\r\n", 400),
    "method_only": (b"GET\r\n\r\n", 400),
    "http09": (b"GET /a.txt\r\n\r\n", 400),
    "http2_request_line": (b"GET /a.txt HTTP/2.0\r\nHost: localhost\r\n\r\n", 505),
    "http3_request_line": (b"GET /a.txt HTTP/3.0\r\nHost: localhost\r\n\r\n", 505),
}


@pytest.mark.parametrize("name", list(FRAMING))
def test_bad_framing_answers_and_closes(site, name):
    data, status = FRAMING[name]
    tag = f"after-bad-{name}".encode()
    t0 = time.monotonic()
    out = raw(site.port, data + GOOD.replace(b"after-bad", tag), timeout=4)
    assert time.monotonic() - t0 < 3, "the connection was not closed"
    rs = parse_responses(out)
    assert len(rs) == 1, f"{len(rs)} responses: the request behind the bad one was processed"
    r = rs[0]
    assert r.status == status, (r, r.body)
    assert r.headers["Connection"] == "close"
    assert r.headers["Content-Type"] == ERROR_TYPE
    assert r.headers["Content-Length"] == str(len(r.body))
    if status == 400:
        assert r.body == PAGE_400
    else:
        assert f"<title>{status} ".encode() in r.body
    site.wait_for_access_log(rf'" {status} \d+ ')
    time.sleep(0.1)
    assert tag.decode() not in site.access_log()


def test_duplicate_identical_content_length_is_accepted(site):
    rs, _ = pipeline(site.port, H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                     req("GET", "/c.html", close=True))
    assert [r.body for r in rs] == [b"hello\n", b"<p>c</p>\n"]


def test_invalid_chunk_size_is_400(site):
    # as Apache: the body of a static request is read before the answer, so
    # a bad chunk is a 400 (and nothing after it is read as a request)
    for size_line in (b"zz\r\n", b"-1\r\n", b"5 5\r\n", b"0x5\r\n", b"\r\n"):
        t0 = time.monotonic()
        out = raw(site.port, req("POST", "/a.txt", headers={"Transfer-Encoding": "chunked"})
                  + size_line + b"abcde\r\n0\r\n\r\n" + GOOD.replace(b"after-bad", b"after-chunk"),
                  timeout=4)
        assert time.monotonic() - t0 < 3, size_line
        rs = parse_responses(out)
        assert len(rs) == 1, size_line
        assert_error(rs[0], 400, PAGE_400)
        assert rs[0].headers["Connection"] == "close"
    time.sleep(0.2)
    assert "after-chunk" not in site.access_log()


def test_bad_chunk_after_a_good_one_is_400(site):
    with open_conn(site.port) as c:
        c.sendall(req("POST", "/a.txt", headers={"Transfer-Encoding": "chunked"}) +
                  b"3\r\nabc\r\n")
        time.sleep(0.2)
        c.sendall(b"3\r\nabcX\r\n0\r\n\r\n" + GOOD)     # data not followed by CRLF
        r = c.read_response()
        assert_error(r, 400, PAGE_400)
        assert_closes(c)


# --------------------------------------------------------------------------
# limits

def test_request_line_too_long_414(site):
    target = "/" + "a" * 600
    rs, took = pipeline(site.port, req("GET", target), GOOD)
    assert len(rs) == 1 and took < 3
    assert_error(rs[0], 414, PAGE_414)
    assert rs[0].headers["Connection"] == "close"
    # at the limit it is fine: 512 bytes of request line
    line = "GET /" + "a" * (512 - len("GET / HTTP/1.1")) + " HTTP/1.1"
    assert len(line) == 512
    rs, _ = pipeline(site.port, (line + "\r\nHost: localhost\r\n\r\n").encode(),
                     req("GET", "/a.txt", close=True))
    assert [r.status for r in rs] == [404, 200]


def test_header_field_too_long_400(site):
    rs, _ = pipeline(site.port, req("GET", "/a.txt", headers={"X-Big": "b" * 600}), GOOD)
    assert len(rs) == 1
    assert_error(rs[0], 400, PAGE_400_FIELD_SIZE)
    assert rs[0].headers["Connection"] == "close"
    ok = req("GET", "/a.txt", headers={"X-Big": "b" * (512 - len("X-Big: "))}, close=True)
    rs, _ = pipeline(site.port, ok)
    assert rs[0].status == 200


def test_header_field_too_long_after_the_buffer_grew(site):
    # the head outgrows the first read buffer before the bad field arrives
    with open_conn(site.port) as c:
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n")
        for i in range(8):
            c.sendall(f"X-Fill-{i}: {'f' * 400}\r\n".encode())
            time.sleep(0.02)
        c.sendall(b"X-Big: " + b"b" * 600 + b"\r\n\r\n" + GOOD)
        r = c.read_response()
        assert_error(r, 400, PAGE_400_FIELD_SIZE)
        assert_closes(c)
    site.wait_for_access_log(r'"GET /a.txt HTTP/1.1" 400 ')


def test_too_many_header_fields_400(site):
    fields = [(f"X-F{i}", "v") for i in range(20)]   # + Host = 21 > LimitRequestFields 20
    rs, _ = pipeline(site.port, req("GET", "/a.txt", headers=fields), GOOD)
    assert len(rs) == 1
    assert_error(rs[0], 400, PAGE_400_FIELDS)
    # 20 fields: Host, 18 of ours and Connection
    rs, _ = pipeline(site.port, req("GET", "/a.txt", headers=fields[:18], close=True))
    assert rs[0].status == 200


# --------------------------------------------------------------------------
# static files

def test_content_types(site):
    cases = {
        "/a.txt": "text/plain", "/b.css": "text/css", "/c.html": "text/html",
        "/d.png": "image/png", "/e.svg": "image/svg+xml",
        # <Directory typed>: AddType override, AddDefaultCharset on text/plain and
        # text/html only
        "/typed/x.css": "application/x-relais-test",
        "/typed/y.txt": "text/plain; charset=UTF-8",
        "/typed/z.html": "text/html; charset=UTF-8",
        "/typed/w.png": "image/png",
    }
    reqs = [req("GET", t) for t in cases] + [req("GET", "/a.txt", close=True)]
    rs, _ = pipeline(site.port, *reqs)
    for (t, ctype), r in zip(cases.items(), rs):
        assert r.status == 200, t
        assert r.headers["Content-Type"] == ctype, t
    assert rs[3].body == PNG


def test_validators(site):
    rs, _ = pipeline(site.port, req("GET", "/a.txt", close=True))
    r = rs[0]
    assert r.headers["ETag"] == etag_of(site, "htdocs/a.txt")
    assert r.headers["Last-Modified"] == LAST_MODIFIED
    assert r.headers["Accept-Ranges"] == "bytes"


def test_conditional_get(site):
    etag = etag_of(site, "htdocs/a.txt")
    cases = [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": f'"zz", {etag}'}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"zz"'}, 200),
        ({"If-None-Match": "W/" + etag}, 304),          # weak comparison
        ({"If-Modified-Since": LAST_MODIFIED}, 304),
        ({"If-Modified-Since": "Wed, 03 Jan 2024 00:00:00 GMT"}, 304),
        ({"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}, 200),
        ({"If-Modified-Since": "not a date"}, 200),
        # If-None-Match wins over If-Modified-Since
        ({"If-None-Match": '"zz"', "If-Modified-Since": LAST_MODIFIED}, 200),
        ({"If-Match": '"zz"'}, 412),
        ({"If-Match": etag}, 200),
        ({"If-Match": "*"}, 200),
        ({"If-Match": "W/" + etag}, 412),              # strong comparison
        ({"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}, 412),
        ({"If-Unmodified-Since": LAST_MODIFIED}, 200),
    ]
    reqs = [req("GET", "/a.txt", headers=h) for h, _ in cases]
    rs, _ = pipeline(site.port, *reqs, req("GET", "/c.html", close=True))
    assert len(rs) == len(cases) + 1
    for (h, status), r in zip(cases, rs):
        assert r.status == status, h
        if status == 304:
            assert r.body == b"" and r.headers["ETag"] == etag, h
            assert "Content-Length" not in r.headers, h
        elif status == 412:
            # as Apache's default handler: the entity's headers, empty body
            assert r.body == b"" and r.headers["Content-Length"] == "0", h
            assert r.headers["ETag"] == etag, h
        else:
            assert r.body == b"hello\n", h
    assert rs[-1].body == b"<p>c</p>\n"           # the 304s carried no body


def test_head_conditional_304(site):
    etag = etag_of(site, "htdocs/a.txt")
    rs, _ = pipeline(site.port, req("HEAD", "/a.txt", headers={"If-None-Match": etag}),
                     req("GET", "/a.txt", close=True), methods=["HEAD", "GET"])
    assert [r.status for r in rs] == [304, 200]


def test_single_ranges(site):
    cases = [("bytes=0-9", 0, 9), ("bytes=10-19", 10, 19), ("bytes=-10", 990, 999),
             ("bytes=990-", 990, 999), ("bytes=995-5000", 995, 999), ("bytes=0-0", 0, 0),
             ("bytes=999-999", 999, 999)]
    reqs = [req("GET", "/range.txt", headers={"Range": h}) for h, _, _ in cases]
    rs, _ = pipeline(site.port, *reqs, req("GET", "/a.txt", close=True))
    for (h, a, b), r in zip(cases, rs):
        assert r.status == 206, h
        assert r.headers["Content-Range"] == f"bytes {a}-{b}/1000", h
        assert r.headers["Content-Length"] == str(b - a + 1), h
        assert r.headers["Content-Type"] == "text/plain", h
        assert r.body == RANGE_DATA[a:b + 1], h
    assert rs[-1].body == b"hello\n"


def parse_multipart(r):
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", r.headers["Content-Type"])
    assert m, r.headers["Content-Type"]
    sep = b"--" + m.group(1).encode()
    chunks = r.body.split(sep)
    assert chunks[0] in (b"", b"\r\n"), chunks[0]
    assert chunks[-1] in (b"--\r\n", b"--"), chunks[-1]
    parts = []
    for ch in chunks[1:-1]:
        assert ch.startswith(b"\r\n") and ch.endswith(b"\r\n")
        head, _, data = ch[2:-2].partition(b"\r\n\r\n")
        # Apache writes "Content-type" and "Content-range"
        fields = {k.lower(): v for k, v in (ln.split(": ", 1)
                                            for ln in head.decode().split("\r\n"))}
        parts.append((fields, data))
    return parts


def test_multiple_ranges(site):
    rs, _ = pipeline(site.port, req("GET", "/range.txt",
                                    headers={"Range": "bytes=0-4,100-109,-3"}, close=True))
    r = rs[0]
    assert r.status == 206
    assert "Content-Range" not in r.headers
    assert r.headers["Content-Length"] == str(len(r.body))
    parts = parse_multipart(r)
    assert len(parts) == 3
    for (fields, data), (a, b) in zip(parts, [(0, 4), (100, 109), (997, 999)]):
        assert fields["content-type"] == "text/plain"
        assert fields["content-range"] == f"bytes {a}-{b}/1000"
        assert data == RANGE_DATA[a:b + 1]


def test_unsatisfiable_range_416(site):
    rs, _ = pipeline(site.port, req("GET", "/range.txt", headers={"Range": "bytes=1000-"}),
                     req("GET", "/range.txt", headers={"Range": "bytes=5000-6000"}),
                     req("GET", "/a.txt", close=True))
    assert len(rs) == 3
    for r in rs[:2]:
        assert_error(r, 416, PAGE_416)
    assert rs[2].body == b"hello\n"                 # 416 keeps the connection


def test_invalid_range_is_ignored(site):
    for h in ("bytes=x-y", "lines=0-5", "bytes=5-2"):
        rs, _ = pipeline(site.port, req("GET", "/range.txt", headers={"Range": h}, close=True))
        assert rs[0].status == 200 and rs[0].body == RANGE_DATA, h


def test_if_range(site):
    etag = etag_of(site, "htdocs/range.txt")
    rng = {"Range": "bytes=0-9"}
    rs, _ = pipeline(site.port,
                     req("GET", "/range.txt", headers={**rng, "If-Range": etag}),
                     req("GET", "/range.txt", headers={**rng, "If-Range": '"other"'}),
                     req("GET", "/range.txt", headers={**rng, "If-Range": LAST_MODIFIED}),
                     req("GET", "/range.txt", headers={**rng, "If-Range":
                                                       "Mon, 01 Jan 2024 00:00:00 GMT"}),
                     req("GET", "/a.txt", close=True))
    assert [r.status for r in rs] == [206, 200, 206, 200, 200]
    assert rs[0].body == RANGE_DATA[:10] and rs[2].body == RANGE_DATA[:10]
    assert rs[1].body == RANGE_DATA and rs[3].body == RANGE_DATA


def test_large_file_with_back_pressure(site):
    with open_conn(site.port, timeout=20) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        c.sendall(req("GET", "/big.bin") + req("HEAD", "/big.bin") +
                  req("GET", "/big.bin", headers={"Range": "bytes=4000000-4000099"}) +
                  req("GET", "/a.txt"))
        # read a little, then stall: the server must wait for the socket
        head = c.recv(4096)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        time.sleep(0.5)
        rest = bytearray(head)
        want_min = BIG_SIZE + 200
        while len(rest) < want_min:
            d = c.recv(1 << 20)
            assert d, "connection closed early"
            rest += d
        # re-parse what we got plus what is still to come
        rest += raw_drain(c)
        rs = parse_responses(bytes(rest), ["GET", "HEAD", "GET", "GET"])
    assert [r.status for r in rs] == [200, 200, 206, 200]
    assert rs[0].headers["Content-Length"] == str(BIG_SIZE)
    assert hashlib.sha256(rs[0].body).hexdigest() == site.big_sha256
    assert rs[1].headers["Content-Length"] == str(BIG_SIZE) and rs[1].body == b""
    big = (site.docroot / "big.bin").read_bytes()
    assert rs[2].body == big[4000000:4000100]
    assert rs[3].body == b"hello\n"


def test_request_arriving_while_a_response_is_blocked(site):
    """The next request (or the rest of a body) arrives while a large
    response waits for the client to read: it must wait its turn."""
    with open_conn(site.port, timeout=20) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        c.sendall(req("GET", "/big.bin"))
        time.sleep(0.3)                    # the server is blocked on a full socket
        c.sendall(req("GET", "/a.txt"))
        time.sleep(0.2)
        c.sendall(req("POST", "/big.bin", headers={"Content-Length": "10"}) + b"01234")
        time.sleep(0.2)
        c.sendall(b"56789" + req("GET", "/c.html", close=True))
        data = bytearray()
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            data += d
    rs = parse_responses(bytes(data))
    assert [r.status for r in rs] == [200, 200, 200, 200]
    assert hashlib.sha256(rs[0].body).hexdigest() == site.big_sha256
    assert rs[1].body == b"hello\n"
    assert hashlib.sha256(rs[2].body).hexdigest() == site.big_sha256
    assert rs[3].body == b"<p>c</p>\n"


def test_response_waits_for_the_body(site):
    with open_conn(site.port) as c:
        c.sendall(req("POST", "/a.txt", headers={"Content-Length": "10"}) + b"01234")
        assert not select.select([c], [], [], 0.3)[0], "answered before the body was in"
        c.sendall(b"56789" + req("GET", "/c.html"))
        assert c.read_response().body == b"hello\n"
        assert c.read_response().body == b"<p>c</p>\n"
        assert not c.is_closed(0.2)


def raw_drain(sock, quiet=0.5):
    """Whatever arrives on <sock> until it stays quiet for <quiet> s."""
    out = bytearray()
    sock.settimeout(quiet)
    while True:
        try:
            d = sock.recv(1 << 16)
        except socket.timeout:
            return bytes(out)
        if not d:
            return bytes(out)
        out += d


def test_directory_without_slash_redirects(site):
    p = site.port
    host = f"localhost:{p}"
    rs, _ = pipeline(p, req("GET", "/sub", host=host),
                     req("GET", "/sub?a=1&b=%2F", host=host),
                     req("HEAD", "/sub/deeper", host=host),
                     req("GET", "/al/../sub", host=host, close=True),
                     methods=["GET", "GET", "HEAD", "GET"])
    assert [r.status for r in rs] == [301, 301, 301, 301]
    assert rs[0].headers["Location"] == f"http://{host}/sub/"
    assert rs[0].body == page_301(f"http://{host}/sub/")
    assert rs[0].headers["Content-Type"] == ERROR_TYPE
    assert rs[1].headers["Location"] == f"http://{host}/sub/?a=1&b=%2F"
    assert rs[1].body == page_301(f"http://{host}/sub/?a=1&amp;b=%2F")
    assert rs[2].headers["Location"] == f"http://{host}/sub/deeper/"
    assert rs[3].headers["Location"] == f"http://{host}/sub/"


def test_directory_index(site):
    rs, _ = pipeline(site.port, req("GET", "/sub/"), req("GET", "/sub2/"),
                     req("GET", "/"), req("GET", "/empty/", close=True))
    assert (rs[0].status, rs[0].body) == (200, b"<h1>sub</h1>\n")
    assert rs[0].headers["Content-Type"] == "text/html"
    assert (rs[1].status, rs[1].body) == (200, b"second index name\n")
    # no index and no Indexes: 403
    assert_error(rs[2], 403, PAGE_403)
    assert_error(rs[3], 403, PAGE_403)


def test_symlinks_follow_the_options(site):
    rs, _ = pipeline(site.port,
                     req("GET", "/nofollow/link.txt"),
                     req("GET", "/nofollow/real.txt"),
                     req("GET", "/follow/link.txt"),
                     req("GET", "/owner/same.txt"),
                     req("GET", "/owner/other.txt", close=True))
    assert_error(rs[0], 403, PAGE_403)
    assert (rs[1].status, rs[1].body) == (200, b"real file\n")
    assert (rs[2].status, rs[2].body) == (200, b"hello\n")
    # SymLinksIfOwnerMatch: the link and a.txt are both root's...
    assert (rs[3].status, rs[3].body) == (200, b"hello\n")
    if os.geteuid() == 0:
        # ...nobody.txt is not the link owner's
        assert_error(rs[4], 403, PAGE_403)


# --------------------------------------------------------------------------
# error pages, Date, Server

def test_404_is_apaches(site):
    rs, _ = pipeline(site.port, req("GET", "/no/such/file.html", close=True))
    r = rs[0]
    assert_error(r, 404, PAGE_404)
    assert r.reason == "Not Found"
    assert list(r.headers)[:2] == ["Date", "Server"]


def test_date_header(site):
    rs, _ = pipeline(site.port, req("GET", "/a.txt"), req("GET", "/nope", close=True))
    for r in rs:
        d = r.headers["Date"]
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|"
                            r"Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT", d), d
        assert abs(email.utils.parsedate_to_datetime(d).timestamp() - time.time()) < 5


def test_server_header_full_by_default(site):
    rs, _ = pipeline(site.port, req("GET", "/a.txt"), req("GET", "/nope", close=True))
    for r in rs:
        assert re.match(r"Apache/2\.4\.\d+ \(Unix\)( |$)", r.headers["Server"]), r.headers


@pytest.mark.parametrize("tokens,banner", [("Prod", "Apache"), ("Major", "Apache/2"),
                                           ("Minor", "Apache/2.4")])
def test_server_tokens(make_relaisd, tokens, banner):
    d = make_relaisd()
    d.write("htdocs/a.txt", b"hello\n")
    d.write_config(extra=f"ServerTokens {tokens}\nKeepAlive Off\n")
    d.start()
    rs, _ = pipeline(d.port, req("GET", "/a.txt"), req("GET", "/nope"))
    # KeepAlive Off: one response per connection, even in HTTP/1.1
    assert len(rs) == 1 and rs[0].headers["Connection"] == "close"
    assert rs[0].headers["Server"] == banner
    rs, _ = pipeline(d.port, req("GET", "/nope"))
    assert rs[0].headers["Server"] == banner
    assert_error(rs[0], 404, PAGE_404)


# --------------------------------------------------------------------------
# timeouts (RequestReadTimeout header=1-2,MinRate=500 body=1; KeepAliveTimeout 1)

def trickle(c, data, step=1, interval=0.3, limit=6.0):
    """Sends <data> <step> bytes every <interval> s until the server answers
    or closes (or <limit> s pass); returns the seconds it took."""
    t0 = time.monotonic()
    for i in range(0, len(data), step):
        try:
            c.sendall(data[i:i + step])
        except (BrokenPipeError, ConnectionResetError):
            break
        readable, _, _ = select.select([c], [], [], interval)
        if readable or time.monotonic() - t0 > limit:
            break
    return time.monotonic() - t0


def test_slowloris_header_gets_408(slow):
    with open_conn(slow.port) as c:
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n")
        took = trickle(c, b"X-Slow: " + b"s" * 40)
        got = raw_drain(c, 1.0)
    assert 0.8 < took < 2.6, took
    (r,) = parse_responses(got)
    assert_error(r, 408, PAGE_408)
    assert r.headers["Connection"] == "close"


def test_slow_request_line_is_cut_off(slow):
    """Apache closes silently when the request line times out, relais
    answers 408: either way within the bound."""
    with open_conn(slow.port) as c:
        took = trickle(c, b"GET /" + b"a" * 40)
        got = raw_drain(c, 1.0)
    assert 0.8 < took < 2.6, took
    if got:
        (r,) = parse_responses(got)
        assert_error(r, 408, PAGE_408)


def test_header_min_rate_extends_up_to_the_maximum(slow):
    # ~1000 bytes/s against MinRate=500: each second of data buys two more,
    # up to the 2 s maximum
    with open_conn(slow.port) as c:
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Long: ")
        took = trickle(c, b"l" * 10000, step=100, interval=0.1)
        got = raw_drain(c, 1.0)
    assert 1.6 < took < 3.0, f"cut off after {took:.2f}s, expected at the 2 s maximum"
    (r,) = parse_responses(got)
    assert_error(r, 408, PAGE_408)


def test_silent_connection_is_closed_without_response(slow):
    with open_conn(slow.port) as c:
        t0 = time.monotonic()
        assert c.is_closed(4.0), "an idle new connection was kept past the header timeout"
        took = time.monotonic() - t0
        try:
            assert c.recv(100) == b""       # closed, and nothing was sent
        except ConnectionResetError:
            pass
    assert 0.8 < took < 3.0


def test_body_read_timeout(slow):
    with open_conn(slow.port) as c:
        c.sendall(req("POST", "/a.txt", headers={"Content-Length": "100"}) + b"0123456789")
        t0 = time.monotonic()
        select.select([c], [], [], 4.0)
        took = time.monotonic() - t0
        got = raw_drain(c, 1.0)
        assert c.is_closed(0.5)
    # as Apache: the body of a static request is read before the answer
    assert 0.8 < took < 2.5, took
    (r,) = parse_responses(got)
    assert_error(r, 408, PAGE_408)
    assert r.headers["Connection"] == "close"
