"""Self-check of the interop harness, and the reference of what Debian's
Apache 2.4 (mod_proxy_fcgi, configured like conf-available/php8.2-fpm.conf)
gives PHP-FPM for a set of requests. No relaisd involved.

Two views of every request:
  php   $_SERVER as php/env.php prints it behind Debian's php-fpm 8.2, i.e.
        after php-fpm's fix-ups (it strips "proxy:fcgi://localhost" from
        SCRIPT_FILENAME, adds PHP_SELF, FCGI_ROLE, USER, HOME, REQUEST_TIME*,
        PHP_AUTH_*)
  raw   the FastCGI params exactly as Apache sends them (FcgiRecorder)

The expected values below are what Apache 2.4.71 (Debian 12) produced; they
are tabulated in tests/interop/README.md. Regenerate that table with
    INTEROP_TABLE=/tmp/t.md /usr/bin/python3 -m pytest -q tests/interop -k reference
"""

import os
import time
import re

import incumbents
from incumbents import (FcgiRecorder, diff_env, env_table, normalize, php_report,
                        server_env, unix_listening)
import relais

ALIAS = """\
Alias /al "{prefix}/aliased"
<Directory "{prefix}/aliased">
    Require all granted
</Directory>
"""

# (label, method, target, headers, body); "{port}" in a header is the server's port
REQUESTS = [
    ("plain", "GET", "/env.php", None, None),
    ("path_info", "GET", "/env.php/extra/path?x=1", None, None),
    ("dir_index", "GET", "/sub/", None, None),
    ("alias", "GET", "/al/env.php/pi?y=2", None, None),
    ("encoded", "GET", "/sub/index.php/a%20b?q=%20&r", None, None),
    ("post_auth", "POST", "/env.php?p=1",
     {"Host": "localhost:{port}", "Content-Type": "application/x-www-form-urlencoded",
      "Authorization": "Basic dXNlcjpwdw==", "X-Foo": "bar"}, "a=1&b=2"),
]

P = "{prefix}"
# Same for every request (php view; the raw view has them too, except
# those in PHP_ADDED).
COMMON = {
    "REQUEST_SCHEME": "http", "SERVER_PROTOCOL": "HTTP/1.1",
    "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_NAME": "localhost",
    "SERVER_ADDR": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
    "SERVER_ADMIN": "[no address given]", "SERVER_SIGNATURE": "",
    "DOCUMENT_ROOT": f"{P}/htdocs", "PATH": incumbents.SYSTEMD_PATH,
    "HTTP_CONNECTION": "close", "proxy-nokeepalive": "1", "FCGI_ROLE": "RESPONDER",
}
# Never sent by mod_proxy_fcgi here (no REDIRECT_STATUS, unlike mod_fastcgi + Action)
ABSENT = ("REDIRECT_STATUS", "HTTPS", "AUTH_TYPE", "REMOTE_USER", "HTTP_PROXY")
# What php-fpm adds or rewrites: absent from the raw params
PHP_ADDED = ("PHP_SELF", "FCGI_ROLE", "USER", "HOME", "REQUEST_TIME", "REQUEST_TIME_FLOAT",
             "PHP_AUTH_USER", "PHP_AUTH_PW")

NONE = None     # the variable must be absent
EXPECTED = {
    "plain": dict(
        REQUEST_METHOD="GET", REQUEST_URI="/env.php", QUERY_STRING="",
        SCRIPT_NAME="/env.php", SCRIPT_FILENAME=f"{P}/htdocs/env.php",
        PATH_INFO=NONE, PATH_TRANSLATED=NONE, PHP_SELF="/env.php",
        CONTEXT_PREFIX="", CONTEXT_DOCUMENT_ROOT=f"{P}/htdocs",
        SERVER_PORT="80", HTTP_HOST="localhost",
        CONTENT_TYPE=NONE, CONTENT_LENGTH=NONE, HTTP_AUTHORIZATION=NONE),
    "path_info": dict(
        REQUEST_METHOD="GET", REQUEST_URI="/env.php/extra/path?x=1", QUERY_STRING="x=1",
        SCRIPT_NAME="/env.php", SCRIPT_FILENAME=f"{P}/htdocs/env.php",
        PATH_INFO="/extra/path", PATH_TRANSLATED=f"{P}/htdocs/extra/path",
        PHP_SELF="/env.php/extra/path",
        CONTEXT_PREFIX="", CONTEXT_DOCUMENT_ROOT=f"{P}/htdocs",
        SERVER_PORT="80", HTTP_HOST="localhost"),
    "dir_index": dict(
        REQUEST_METHOD="GET", REQUEST_URI="/sub/", QUERY_STRING="",
        SCRIPT_NAME="/sub/index.php", SCRIPT_FILENAME=f"{P}/htdocs/sub/index.php",
        PATH_INFO=NONE, PATH_TRANSLATED=NONE, PHP_SELF="/sub/index.php",
        CONTEXT_PREFIX="", CONTEXT_DOCUMENT_ROOT=f"{P}/htdocs"),
    "alias": dict(
        REQUEST_METHOD="GET", REQUEST_URI="/al/env.php/pi?y=2", QUERY_STRING="y=2",
        SCRIPT_NAME="/al/env.php", SCRIPT_FILENAME=f"{P}/aliased/env.php",
        # PATH_TRANSLATED maps PATH_INFO as a URI: DocumentRoot, not the alias
        PATH_INFO="/pi", PATH_TRANSLATED=f"{P}/htdocs/pi", PHP_SELF="/al/env.php/pi",
        CONTEXT_PREFIX="/al", CONTEXT_DOCUMENT_ROOT=f"{P}/aliased",
        DOCUMENT_ROOT=f"{P}/htdocs"),
    "encoded": dict(
        REQUEST_METHOD="GET", REQUEST_URI="/sub/index.php/a%20b?q=%20&r",
        QUERY_STRING="q=%20&r", SCRIPT_NAME="/sub/index.php",
        SCRIPT_FILENAME=f"{P}/htdocs/sub/index.php",
        PATH_INFO="/a b", PATH_TRANSLATED=f"{P}/htdocs/a b", PHP_SELF="/sub/index.php/a b"),
    "post_auth": dict(
        REQUEST_METHOD="POST", REQUEST_URI="/env.php?p=1", QUERY_STRING="p=1",
        SCRIPT_NAME="/env.php", SCRIPT_FILENAME=f"{P}/htdocs/env.php",
        PATH_INFO=NONE, PHP_SELF="/env.php",
        SERVER_PORT="{port}", HTTP_HOST="localhost:{port}",
        CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH="7",
        HTTP_X_FOO="bar",
        # only through Debian's SetEnvIfNoCase ^Authorization$ line
        HTTP_AUTHORIZATION="Basic dXNlcjpwdw==",
        PHP_AUTH_USER="user", PHP_AUTH_PW="pw"),
}


def _setup(apache):
    apache.install_php()
    apache.install_php("htdocs/sub/index.php")
    apache.install_php("aliased/env.php")
    apache.write_config(extra=ALIAS)
    return apache.start()


def _ask(server, method, target, headers, body):
    headers = {k: v.replace("{port}", str(server.port)) for k, v in (headers or {}).items()}
    env = server_env(server.port, target, headers=headers, method=method, body=body)
    return normalize(env, port=server.port, prefix=server.prefix)


def _check(label, env, expected, raw):
    errs = []
    for k, v in expected.items():
        if raw and k in PHP_ADDED:
            v = NONE
        if raw and k == "SCRIPT_FILENAME":
            v = "proxy:fcgi://localhost" + v
        if v is NONE:
            if k in env:
                errs.append(f"{label}: {k} should be absent, is {env[k]!r}")
        elif env.get(k) != v:
            errs.append(f"{label}: {k} = {env.get(k)!r}, expected {v!r}")
    return errs


def test_apache_reference_environment(make_apache, php_fpm, fcgi_recorder):
    """Apache + php-fpm, and Apache + the raw recorder, for REQUESTS."""
    via_php = _setup(make_apache(sock=php_fpm, name="apache2"))
    via_raw = _setup(make_apache(sock=fcgi_recorder, name="apache2-raw"))
    php, raw, errs = [], [], []
    for label, method, target, headers, body in REQUESTS:
        e = _ask(via_php, method, target, headers, body)
        r = _ask(via_raw, method, target, headers, body)
        php.append((label, e))
        raw.append((label, r))
        expected = dict(COMMON, **{k: NONE for k in ABSENT}, **EXPECTED[label])
        if os.geteuid() == 0:
            expected.update(USER="www-data", HOME="/var/www")
        errs += _check(f"{label} (php)", e, expected, raw=False)
        errs += _check(f"{label} (raw)", r, expected, raw=True)
        # the raw params are exactly the php view minus php-fpm's additions,
        # plus SCRIPT_FILENAME's proxy: prefix
        r2 = dict(r, SCRIPT_FILENAME=r["SCRIPT_FILENAME"].replace("proxy:fcgi://localhost", ""))
        d = diff_env(r2, e, ignore=set(incumbents.IGNORE) | set(PHP_ADDED),
                     labels=("raw", "php"))
        if d:
            errs.append(f"{label}: raw vs php:\n{d}")
    table = ("### php view ($_SERVER behind php-fpm)\n\n" + env_table(php) +
             "\n\n### raw view (FastCGI params from Apache)\n\n" + env_table(raw) + "\n")
    print(table)
    if os.environ.get("INTEROP_TABLE"):
        with open(os.environ["INTEROP_TABLE"], "w") as f:
            f.write(table)
    assert not errs, "\n".join(errs) + "\n\n" + table

    # the param order Apache uses (useful for byte-level comparisons)
    order = fcgi_recorder.requests[1]["order"]
    assert order[0] == "proxy-nokeepalive" and order[-2:] == ["PATH_INFO", "PATH_TRANSLATED"]
    assert fcgi_recorder.requests[-1]["input"] == php_report(
        via_php.port, "/env.php", method="POST", body="a=1&b=2")["input"]
    # Apache does not check that the script exists: php-fpm answers 404
    r = via_php.get("/missing.php")
    assert (r.status, r.body) == (404, b"File not found.\n")
    via_php.wait_for_log(r"AH01071: Got error 'Primary script unknown'")
    # mod_dir's redirect for a directory without its slash
    r = via_php.get("/sub")
    assert r.status == 301 and r.headers["Location"] == "http://localhost/sub/"


def test_php_fpm_pool(php_fpm, make_apache):
    """The pool runs as www-data (root) or as us, pm static with 2 children,
    and everything goes away at stop()."""
    assert unix_listening(php_fpm.sock)
    assert os.stat(php_fpm.sock).st_mode & 0o777 == 0o666
    # php-fpm listens first, then forks its children
    deadline = time.monotonic() + 5
    while len(php_fpm.children()) != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(php_fpm.children()) == 2
    apache = make_apache(sock=php_fpm)
    apache.install_php()
    apache.start()
    rep = php_report(apache.port)
    assert rep["sapi"] == "fpm-fcgi"
    if os.geteuid() == 0:
        assert rep["euid"] == 33            # www-data
    assert rep["file"] == str(apache.docroot / "env.php")
    kids = php_fpm.children() + apache.children()
    apache.stop()
    php_fpm.stop()
    assert not relais._listening(apache.port)
    assert not unix_listening(php_fpm.sock) and not php_fpm.sock.exists()
    assert not [p for p in kids if relais._alive(p)]
    assert not php_fpm.problems and not apache.problems


def test_apache_config_and_hooks(make_apache, tmp_path):
    """apache2 -t accepts the generated config, with an extra module and
    directives; without a socket no PHP handler is written."""
    a = make_apache(modules=["rewrite"])
    text = a.write_config(extra="AcceptPathInfo On\nRewriteEngine On\n")
    assert "SetHandler" not in text
    assert "LoadModule rewrite_module" in text
    r = a.run(["-t"])
    assert r.rc == 0, r.stderr
    assert "Syntax OK" in r.stderr


def test_helpers():
    a = {"A": "1", "SERVER_PORT": "8080", "HTTP_HOST": "localhost:8080",
         "DOCUMENT_ROOT": "/tmp/x/htdocs", "REQUEST_TIME": "1", "ONLY_A": "x"}
    b = {"A": "2", "SERVER_PORT": "9090", "HTTP_HOST": "localhost:9090",
         "DOCUMENT_ROOT": "/tmp/y/htdocs", "REQUEST_TIME": "2", "ONLY_B": "y"}
    na, nb = normalize(a, 8080, "/tmp/x"), normalize(b, 9090, "/tmp/y")
    assert na["HTTP_HOST"] == nb["HTTP_HOST"] == "localhost:{port}"
    assert na["DOCUMENT_ROOT"] == "{prefix}/htdocs"
    d = diff_env(na, nb, labels=("apache", "relaisd"))
    lines = d.splitlines()
    assert len(lines) == 3, d
    assert re.match(r"A +apache='1'  relaisd='2'$", lines[0])
    assert "ONLY_A" in lines[1] and "only in apache: 'x'" in lines[1]
    assert "ONLY_B" in lines[2] and "only in relaisd: 'y'" in lines[2]
    assert diff_env(na, na) == ""
    t = env_table([("r1", {"SCRIPT_NAME": "/a|b", "QUERY_STRING": ""})])
    assert "| SCRIPT_NAME | `/a\\|b` |" in t and '| QUERY_STRING | `""` |' in t


def test_fcgi_recorder_keep_conn(tmp_path):
    """The recorder honours FCGI_KEEP_CONN and decodes long name-value pairs."""
    import socket
    import struct
    rec = FcgiRecorder(tmp_path / "r.sock").start()
    try:
        def rec_(t, rid, c=b""):
            return struct.pack(">BBHHBB", 1, t, rid, len(c), 0, 0) + c
        long_v = b"v" * 300
        params = bytes([1, 0x80, 0, 1, 44]) + b"A" + long_v
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(rec.path))
            for rid in (1, 2):
                s.sendall(rec_(1, rid, struct.pack(">HB5x", 1, 1)) + rec_(4, rid, params)
                          + rec_(4, rid) + rec_(5, rid, b"xy") + rec_(5, rid))
                data = b""
                while not data.endswith(rec_(3, rid, struct.pack(">IB3x", 0, 0))):
                    data += s.recv(65536)
        assert [r["server"] for r in rec.requests] == [{"A": long_v.decode()}] * 2
        assert rec.requests[0]["input"]["length"] == 2
    finally:
        rec.stop()
    assert not rec.path.exists()


def test_apache_sock_argument(make_apache, tmp_path):
    """sock= may be a plain path: it is written into the handler line."""
    a = make_apache(sock=tmp_path / "x.sock")
    assert f'SetHandler "proxy:unix:{tmp_path}/x.sock|fcgi://localhost"' in a.conf.read_text()
