"""The FPM under test behind the two front ends it must serve: nginx
(fastcgi_pass to the pool's socket, Debian's fastcgi_params +
SCRIPT_FILENAME) and Debian's Apache (mod_proxy_fcgi, SetHandler
"proxy:unix:<sock>|fcgi://localhost"). What PHP sees ($_SERVER, $_GET,
$_POST, $_FILES, $_COOKIE, php://input), what the client gets (status,
headers, bodies, fastcgi_finish_request), what lands in the front end's
error log, and the pool's php_value/php_admin_value/env[]/clear_env.

Every test runs against both front ends (the `stack` fixture); the pool is
[www], pm static, 3 children, www-data when root."""

import json
import os
import re
import threading
import time

import pytest

import fpmlib
from fpmlib import md5, wait_until

POOL = {
    "pm": "static",
    "pm.max_children": 3,
    "php_admin_value[memory_limit]": "64M",
    "php_value[date.timezone]": "Pacific/Auckland",
    "php_flag[short_open_tag]": "on",
    "env[RELAIS_FPM_TEST]": "from-pool",
    "clear_env": "yes",
    "request_terminate_timeout": "2s",
}

INFO_PHP = r"""<?php
$in = file_get_contents('php://input');
$files = [];
foreach ($_FILES as $k => $f) {
    $files[$k] = ['name' => $f['name'], 'size' => $f['size'], 'error' => $f['error'],
                  'md5' => $f['error'] === 0 ? md5_file($f['tmp_name']) : null];
}
header('Content-Type: application/json');
echo json_encode([
    'server' => $_SERVER, 'get' => $_GET, 'post' => $_POST, 'cookie' => $_COOKIE,
    'files' => $files, 'sapi' => php_sapi_name(),
    'input' => ['length' => strlen($in), 'md5' => md5($in)],
    'euid' => function_exists('posix_geteuid') ? posix_geteuid() : null,
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
"""

SCRIPTS = {
    "info.php": INFO_PHP,
    "hello.php": "<?php header('Content-Type: text/plain'); echo \"hello\\n\";\n",
    "status.php": r"""<?php
switch ($_GET['c'] ?? '') {
case '404': http_response_code(404); echo "gone\n"; break;
case '302': header('Location: /elsewhere.php?x=1'); break;
case '201': header('HTTP/1.1 201 Created'); header('X-Custom: one'); header('X-Custom: two', false);
            header('X-Other: yes'); setcookie('sess', 'abc123', ['path' => '/']); echo "made\n"; break;
}
""",
    "big.php": r"""<?php
header('Content-Type: application/octet-stream');
$n = (int)$_GET['mib'];
$chunk = '';
for ($i = 0; $i < 1024; $i++) { $chunk .= sprintf("%07d\n", $i); }   // 8 KiB
$chunk = str_repeat($chunk, 128);                                   // 1 MiB
for ($i = 0; $i < $n; $i++) { echo $chunk; }
""",
    "warn.php": "<?php echo $undefined_relais_variable; echo \"after warning\\n\";\n",
    "exit3.php": "<?php echo \"before exit\\n\"; exit(3);\n",
    "fatal.php": "<?php echo \"\"; relais_no_such_function(); echo \"unreachable\\n\";\n",
    "ini.php": r"""<?php
header('Content-Type: application/json');
$r = ['memory_limit' => ini_get('memory_limit'),
      'set_memory_limit' => ini_set('memory_limit', '256M'),
      'after' => ini_get('memory_limit'),
      'timezone' => ini_get('date.timezone'),
      'set_timezone' => ini_set('date.timezone', 'UTC'),
      'timezone_after' => ini_get('date.timezone'),
      'short_open_tag' => ini_get('short_open_tag'),
      'env' => getenv('RELAIS_FPM_TEST'), 'env_server' => $_SERVER['RELAIS_FPM_TEST'] ?? null,
      'runner_env' => getenv('RELAIS_FPM_RUNNER'), 'path' => getenv('PATH')];
echo json_encode($r), "\n";
""",
    "sleep.php": "<?php sleep((int)$_GET['s']); echo \"slept\\n\";\n",
    "raw/secret.txt": "<?php echo 'this text file ran as PHP';\n",
}

FINISH_PHP = r"""<?php
echo "answered\n";
fastcgi_finish_request();
sleep(2);
file_put_contents('{marker}', 'done ' . getmypid());
"""

APACHE_EXTRA = """\
<Directory "{docroot}/raw">
    <FilesMatch "\\.txt$">
        SetHandler "proxy:unix:{sock}|fcgi://localhost"
    </FilesMatch>
</Directory>
"""


class Stack:
    """A front end (nginx or apache) in front of an Fpm."""

    def __init__(self, kind, fpm, front):
        self.kind, self.fpm, self.front = kind, fpm, front
        self.port = front.port
        self.docroot = front.docroot

    def request(self, method="GET", target="/", **kw):
        kw.setdefault("timeout", 15)
        kw.setdefault("host", f"localhost:{self.port}")
        return fpmlib.relais.request(self.port, method, target, **kw)

    def get(self, target, **kw):
        return self.request("GET", target, **kw)

    def json(self, target, method="GET", **kw):
        r = self.request(method, target, **kw)
        assert r.status == 200, (r, r.body[:2000], self.diag())
        return json.loads(r.body)

    def front_log(self):
        return self.front.error_log()

    def wait_front_log(self, pattern, timeout=5):
        return self.front.wait_for_log(pattern, timeout)

    def diag(self):
        return self.front.diagnostics() + "\n" + self.fpm.diagnostics()


def _make_stack(kind, make_fpm, make_nginx, make_apache, settings=None):
    fpm = make_fpm(settings=settings or POOL)
    fpm.env["RELAIS_FPM_RUNNER"] = "runner-env"
    fpm.start()
    if kind == "nginx":
        front = make_nginx(fpm.pool)
    else:
        front = make_apache(sock=fpm.sock, extra=APACHE_EXTRA)
    for name, code in SCRIPTS.items():
        front.write(f"htdocs/{name}", code)
    front.write("htdocs/finish.php", FINISH_PHP.replace("{marker}", str(fpm.tmp / "finished")))
    front.start()
    return Stack(kind, fpm, front)


@pytest.fixture(params=["nginx", "apache"])
def stack(request, make_fpm, make_nginx, make_apache):
    return _make_stack(request.param, make_fpm, make_nginx, make_apache)


# --------------------------------------------------------------------------
# what PHP sees

def test_superglobals_and_sapi(stack):
    rep = stack.json("/info.php/extra/path?a=1&b=two%20words&arr[]=x&arr[]=y")
    s = rep["server"]
    assert rep["sapi"] == "fpm-fcgi"
    assert s["SCRIPT_FILENAME"] == f"{stack.docroot}/info.php", s
    assert s["SCRIPT_NAME"] == "/info.php", s
    assert s["PATH_INFO"] == "/extra/path", s
    assert s["PHP_SELF"] == "/info.php/extra/path", s
    assert s["REQUEST_URI"] == "/info.php/extra/path?a=1&b=two%20words&arr[]=x&arr[]=y", s
    assert s["QUERY_STRING"] == "a=1&b=two%20words&arr[]=x&arr[]=y", s
    assert s["DOCUMENT_ROOT"] == str(stack.docroot), s
    assert s["REQUEST_METHOD"] == "GET"
    assert s["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert s["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert s["REMOTE_ADDR"] == "127.0.0.1"
    assert s["SERVER_PORT"] == str(stack.port)
    # Debian's fastcgi_params: HTTP_HOST is nginx's $host (no port)
    assert s["HTTP_HOST"] == ("localhost" if stack.kind == "nginx" else f"localhost:{stack.port}")
    assert float(s["REQUEST_TIME_FLOAT"]) == pytest.approx(time.time(), abs=30)
    assert rep["get"] == {"a": "1", "b": "two words", "arr": ["x", "y"]}
    if fpmlib.IS_ROOT:
        assert rep["euid"] == 33, "the pool runs as www-data"


def test_post_urlencoded(stack):
    rep = stack.json("/info.php?q=1", method="POST",
                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                     body="name=J%C3%BCrgen&list[]=1&list[]=2&empty=")
    assert rep["post"] == {"name": "Jürgen", "list": ["1", "2"], "empty": ""}
    assert rep["get"] == {"q": "1"}
    assert rep["server"]["REQUEST_METHOD"] == "POST"
    assert rep["server"]["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert rep["server"]["CONTENT_LENGTH"] == str(len("name=J%C3%BCrgen&list[]=1&list[]=2&empty="))


def test_multipart_upload(stack):
    data = os.urandom(300 * 1024) + b"\r\n--not-the-boundary\r\n"
    boundary = "----relaisfpmtestboundary7MA4YWxkTrZu0gW"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
            f"a title\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"up\"; "
            f"filename=\"blob.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    rep = stack.json("/info.php", method="POST", body=body,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert rep["post"] == {"title": "a title"}
    assert rep["files"] == {"up": {"name": "blob.bin", "size": len(data), "error": 0,
                                   "md5": md5(data)}}


def test_cookies(stack):
    rep = stack.json("/info.php", headers={"Cookie": "a=1; b=hello%20world; c[k]=v"})
    assert rep["cookie"] == {"a": "1", "b": "hello world", "c": {"k": "v"}}
    assert rep["server"]["HTTP_COOKIE"] == "a=1; b=hello%20world; c[k]=v"


def test_php_input_1mib(stack):
    body = os.urandom(1 << 20)
    rep = stack.json("/info.php", method="PUT", body=body,
                     headers={"Content-Type": "application/octet-stream"})
    assert rep["input"] == {"length": 1 << 20, "md5": md5(body)}
    assert rep["server"]["CONTENT_LENGTH"] == str(1 << 20)


# --------------------------------------------------------------------------
# what the client gets

def test_status_codes_and_headers(stack):
    r = stack.get("/status.php?c=404")
    assert r.status == 404 and r.body == b"gone\n", r

    r = stack.get("/status.php?c=302")
    assert r.status == 302, r
    assert r.headers["Location"] in ("/elsewhere.php?x=1",
                                     f"http://localhost:{stack.port}/elsewhere.php?x=1"), r.headers

    r = stack.get("/status.php?c=201")
    assert r.status == 201 and r.body == b"made\n", r
    # Apache merges the repeated field into one line
    assert ", ".join(r.headers.get_all("X-Custom")) == "one, two", r.headers
    assert r.headers["X-Other"] == "yes"
    assert any(c.startswith("sess=abc123") for c in r.headers.get_all("Set-Cookie")), r.headers
    assert "X-Powered-By" not in r.headers       # Debian's php.ini: expose_php = Off

    r = stack.get("/hello.php")
    assert r.status == 200 and r.body == b"hello\n"
    assert r.headers["Content-Type"].startswith("text/plain")


def test_head(stack):
    r = stack.request("HEAD", "/hello.php")
    assert r.status == 200, r
    assert r.body == b""
    assert r.headers["Content-Type"].startswith("text/plain")


def test_large_response(stack):
    r = stack.get("/big.php?mib=5", timeout=30)
    assert r.status == 200, r
    assert len(r.body) == 5 << 20
    chunk = b"".join(b"%07d\n" % i for i in range(1024)) * 128
    assert md5(r.body) == md5(chunk * 5)


def test_fastcgi_finish_request(stack):
    marker = stack.fpm.tmp / "finished"
    t0 = time.monotonic()
    r = stack.get("/finish.php")
    took = time.monotonic() - t0
    assert r.status == 200 and r.body == b"answered\n", r
    assert took < 1.5, f"the answer waited for the script's sleep ({took:.2f}s)"
    assert not marker.exists()
    text = wait_until(lambda: marker.exists() and marker.read_text(), timeout=5,
                      what="the marker the script writes after its sleep")
    assert text.startswith("done ")
    assert time.monotonic() - t0 >= 1.9


# --------------------------------------------------------------------------
# errors

def test_missing_script(stack):
    if stack.kind == "nginx":
        target = "/nofile/missing.php"        # no try_files: the FPM finds it missing
    else:
        target = "/missing.php"
    r = stack.get(target)
    assert r.status == 404, r
    assert r.body == b"File not found.\n", r
    if stack.kind == "nginx":
        stack.wait_front_log(r'FastCGI sent in stderr: "Primary script unknown"')
    else:
        stack.wait_front_log(r"AH01071: Got error 'Primary script unknown'")
    assert stack.get("/hello.php").status == 200


def test_security_limit_extensions(stack):
    r = stack.get("/raw/secret.txt")
    assert r.status == 403, r
    assert r.body == b"Access denied.\n", r
    assert b"ran as PHP" not in r.body
    pat = (r"Access to the script '[^']*/raw/secret\.txt' has been denied "
           r"\(see security\.limit_extensions\)")
    if stack.kind == "nginx":
        stack.wait_front_log(r'FastCGI sent in stderr: "' + pat)
    else:
        stack.wait_front_log(r"AH01071: Got error '" + pat)
    # (php-fpm does not write it to its own error_log: only to the front end)


def test_php_warning_reaches_front_log(stack):
    r = stack.get("/warn.php")
    assert r.status == 200 and r.body == b"after warning\n", r
    msg = r"PHP message: PHP Warning:  Undefined variable \$undefined_relais_variable in \S+/warn\.php on line 1"
    if stack.kind == "nginx":
        stack.wait_front_log(r'FastCGI sent in stderr: "' + msg)
    else:
        stack.wait_front_log(r"AH01071: Got error '" + msg)


def test_exit_and_fatal_then_next_request(stack):
    r = stack.get("/exit3.php")
    assert r.status == 200 and r.body == b"before exit\n", r
    r = stack.get("/fatal.php")
    assert r.status == 500, r
    assert b"unreachable" not in r.body
    msg = r"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function relais_no_such_function\(\)"
    stack.wait_front_log(msg)
    for _ in range(5):          # every child still serves
        r = stack.get("/hello.php")
        assert r.status == 200 and r.body == b"hello\n", r


def test_request_terminate_timeout_front_end(stack):
    """request_terminate_timeout = 2s: the child is killed; the front end
    answers an error promptly (nginx 502; Apache 503), the FPM logs it, and
    the pool goes on serving."""
    t0 = time.monotonic()
    r = stack.get("/sleep.php?s=20", timeout=15)
    took = time.monotonic() - t0
    assert took < 6, took
    if stack.kind == "nginx":
        assert r.status == 502, r
        # php-fpm: a reset (the child dies with its socket's input unread);
        # a plain close reads "upstream prematurely closed connection"
        stack.wait_front_log(r"(recv\(\) failed \(104: Connection reset by peer\)|upstream "
                             r"prematurely closed (connection|FastCGI stdout)) while reading "
                             r"response header from upstream")
    else:
        assert r.status == 503, r
        stack.wait_front_log(r"AH01075: Error dispatching request to :")
    stack.fpm.wait_for_log(r"WARNING: \[pool www\] child \d+, script '[^']*/sleep\.php' "
                           r"\(request: \"GET /sleep\.php\?s=20\"\) execution timed out "
                           r"\([0-9.]+ sec\), terminating")
    stack.fpm.wait_for_log(r"WARNING: \[pool www\] child \d+ exited on signal 15 \(SIGTERM\) "
                           r"after [0-9.]+ seconds from start")
    stack.fpm.wait_for_log(r"NOTICE: \[pool www\] child \d+ started")
    for _ in range(4):
        r = stack.get("/hello.php")
        assert r.status == 200 and r.body == b"hello\n", r


# --------------------------------------------------------------------------
# the pool's PHP settings and environment

def test_pool_ini_and_env(stack):
    rep = stack.json("/ini.php")
    assert rep["memory_limit"] == "64M"
    assert rep["set_memory_limit"] is False, "php_admin_value cannot be changed by ini_set"
    assert rep["after"] == "64M"
    assert rep["timezone"] == "Pacific/Auckland"
    assert rep["set_timezone"] == "Pacific/Auckland", "php_value can be changed by ini_set"
    assert rep["timezone_after"] == "UTC"
    assert rep["short_open_tag"] == "1"
    assert rep["env"] == "from-pool"
    assert rep["env_server"] == "from-pool"
    assert rep["runner_env"] is False, "clear_env = yes: the FPM's environment is not passed"


def test_clear_env_no(make_fpm):
    """clear_env = no: the workers keep the FPM's environment (no front end
    needed: the request goes straight to the pool)."""
    fpm = make_fpm(settings={"clear_env": "no", "env[ADDED]": "by-pool"})
    fpm.env["RELAIS_FPM_RUNNER"] = "runner-env"
    fpm.script("e.php", "<?php echo json_encode([getenv('RELAIS_FPM_RUNNER'), getenv('ADDED')]);")
    fpm.start()
    r = fpm.request("e.php")
    assert r.status == 200, r
    assert json.loads(r.body) == ["runner-env", "by-pool"]


def test_concurrent_requests(stack):
    """A few dozen requests from 6 clients over 3 children: all answered."""
    errors, done = [], []

    def client():
        for _ in range(6):
            try:
                r = stack.get("/hello.php")
                (done if r.status == 200 and r.body == b"hello\n" else errors).append(r)
            except Exception as e:       # noqa: BLE001
                errors.append(e)

    ts = [threading.Thread(target=client) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors, errors[:3]
    assert len(done) == 36


def test_nginx_kept_upstream_connections(make_fpm, make_nginx):
    """nginx with `fastcgi_keep_conn on` and an upstream keepalive pool:
    requests (GET and POST) reuse the FPM connections (FCGI_KEEP_CONN)."""
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2})
    fpm.start()
    extra = """
        location ^~ /kept/ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_keep_conn on;
            fastcgi_pass kept;
        }
    }
    upstream kept {
        server unix:%s;
        keepalive 4;
""" % fpm.sock
    ngx = make_nginx(fpm.pool, extra=extra)
    ngx.write("htdocs/kept/info.php", INFO_PHP)
    ngx.start()
    for i in range(10):
        body = "x=%d" % i
        r = fpmlib.relais.request(ngx.port, "POST", f"/kept/info.php?i={i}", body=body,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, (r, r.body[:500])
        rep = json.loads(r.body)
        assert rep["get"] == {"i": str(i)} and rep["post"] == {"x": str(i)}, rep
        r = fpmlib.relais.request(ngx.port, "GET", "/kept/info.php")
        assert r.status == 200 and json.loads(r.body)["input"]["length"] == 0
