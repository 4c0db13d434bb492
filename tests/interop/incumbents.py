"""The incumbents relais is compared with: Debian's php-fpm 8.2 and Apache 2.4,
run from temporary prefixes, plus helpers to compare the CGI environment
($_SERVER) that PHP gets behind each front end.

Standard library only; builds on tests/e2e/relais.py (Daemon, Relaisd,
request, fill, free_port...). Everything listens on 127.0.0.1 or on unix
sockets inside the prefix, and is stopped by PID.

    PhpFpm(prefix)            /usr/sbin/php-fpm8.2 -F with its own php-fpm.conf,
                              one pool [www] on prefix/php.sock
    Apache(prefix, sock=...)  /usr/sbin/apache2 -DFOREGROUND with its own config
                              (APACHE_CONF), .php handed to <sock> the way
                              Debian's conf-available/php8.2-fpm.conf does it
    FcgiRecorder(path)        a FastCGI responder in a thread (no PHP) that
                              answers with the RAW params it received, in the
                              same JSON shape as php/env.php
    server_env(port, target, headers=None, method="GET", body=None, host=...)
                              -> $_SERVER dict of one request to env.php
    php_report(...)           -> the whole JSON env.php printed
    normalize(env, port=None, prefix=None)   port / prefix -> "{port}" / "{prefix}"
    diff_env(a, b, ignore=IGNORE, labels=("a", "b")) -> "" or a readable diff
    env_table(envs, keys)     a Markdown table (request x variable), for reports
    ENV_PHP                   path of tests/interop/php/env.php
"""

import hashlib
import json
import os
import pwd
import re
import socket
import struct
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

import relais  # noqa: E402
from relais import (Daemon, DaemonError, Relaisd, _mkdir,  # noqa: E402
                    fill, request)

PHP_DIR = HERE / "php"
ENV_PHP = PHP_DIR / "env.php"

PHP_FPM_BINARY = "/usr/sbin/php-fpm8.2"
APACHE_BINARY = "/usr/sbin/apache2"
APACHE_MODULES_DIR = "/usr/lib/apache2/modules"
RUN_USER = "www-data"          # pool user / Apache User when we are root
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _is_root():
    return os.geteuid() == 0


def _have_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --------------------------------------------------------------------------
# unix sockets

def unix_listening(path):
    """True if something listens on the unix socket <path>. Reads
    /proc/net/unix (flag __SO_ACCEPTCON) so that no probe connection reaches
    the server; falls back to connect() where /proc is missing."""
    path = str(path)
    try:
        with open("/proc/net/unix") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(0.2)
                s.connect(path)
            return True
        except OSError:
            return False
    for ln in lines:
        fields = ln.split(None, 7)
        if len(fields) == 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
            return True
    return False


# --------------------------------------------------------------------------
# php-fpm

PHP_FPM_CONF = """\
; written by tests/interop/incumbents.py
[global]
pid = {pidfile}
error_log = {error_log}
log_level = notice
daemonize = no
{global_extra}

[www]
{usergroup}
listen = {sock}
listen.mode = 0666
pm = static
pm.max_children = {max_children}
clear_env = {clear_env}
catch_workers_output = yes
{pool_extra}
"""


class PhpFpm(Daemon):
    """Debian's php-fpm 8.2 in <prefix>:

        prefix/php-fpm.conf        written from PHP_FPM_CONF (write_config())
        prefix/php.sock            the pool's socket (self.sock)
        prefix/logs/php-fpm.pid    prefix/logs/php-fpm.log (self.error_log())

    Runs in the foreground (-F), as our child, stopped by PID (SIGTERM, then
    SIGKILL; processes left over are reported like relaisd's). The pool runs
    as www-data when we are root (no -R needed), else as the current user.
    php.ini is Debian's /etc/php/8.2/fpm/php.ini unless <php_ini> is given
    (a path, passed as -c; "-n" for none).

    clear_env = yes (php-fpm's default) by default, so $_SERVER holds only
    the FastCGI params (plus USER and HOME, which php-fpm adds) and not the
    test runner's environment. start() waits until the socket listens."""

    name = "php-fpm"

    def __init__(self, prefix, binary=None, *, max_children=2, clear_env="yes",
                 pool_extra="", global_extra="", php_ini=None, user=None):
        super().__init__(prefix, binary or PHP_FPM_BINARY)
        self.logs = self.prefix / "logs"
        self.conf = self.prefix / "php-fpm.conf"
        self.sock = self.prefix / "php.sock"
        self.pidfile = self.logs / "php-fpm.pid"
        self.error_log_path = self.logs / "php-fpm.log"
        self.php_ini = php_ini
        if user is None and _is_root() and _have_user(RUN_USER):
            user = RUN_USER
        self.user = user
        self.values = {"max_children": max_children, "clear_env": clear_env,
                       "pool_extra": pool_extra, "global_extra": global_extra}
        self.write_config()

    def write_config(self, **values):
        """(Re)writes php-fpm.conf; <values>: max_children, clear_env,
        pool_extra, global_extra (raw lines). Returns the text."""
        self.values.update(values)
        ug = f"user = {self.user}\ngroup = {self.user}" if self.user else ""
        v = dict(self.values, pidfile=self.pidfile, error_log=self.error_log_path,
                 sock=self.sock, usergroup=ug)
        text = fill(PHP_FPM_CONF, v)
        self.conf.write_text(text)
        os.chmod(self.conf, 0o644)
        return text

    def argv(self, args):
        a = [str(self.binary), "-F", "-y", str(self.conf), "-p", str(self.prefix)]
        if self.php_ini == "-n":
            a.append("-n")
        elif self.php_ini:
            a += ["-c", str(self.php_ini)]
        if _is_root() and self.user in (None, "root"):
            a.append("-R")
        return a + list(args)

    def marker(self):
        # the master's title is "php-fpm: master process (<conf>)"
        return str(self.conf)

    def start(self, args=(), wait=True, timeout=relais.START_TIMEOUT):
        super().start(args, wait=False)
        if wait:
            self.wait_socket(timeout)
        return self

    def wait_socket(self, timeout=relais.START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not unix_listening(self.sock):
            if not self.running():
                rc = self.proc.returncode if self.proc else None
                self.stop()
                raise DaemonError(f"php-fpm exited (rc {rc}) before listening on "
                                  f"{self.sock}\n" + self.diagnostics())
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"php-fpm not listening on {self.sock} after "
                                  f"{timeout}s\n" + self.diagnostics())
            time.sleep(0.02)

    def run(self, args, timeout=relais.RUN_TIMEOUT, input=None):
        """One-shot: e.g. run(["-t"]) tests the config."""
        return super().run(args, timeout, input)


# --------------------------------------------------------------------------
# Apache

# Modules loaded by default (log_config, unixd, so, version are compiled in).
APACHE_MODULES = ["mpm_event", "authz_core", "authz_host", "dir", "mime", "alias",
                  "env", "setenvif", "headers", "proxy", "proxy_fcgi"]

# How Debian hands PHP to php-fpm (conf-available/php8.2-fpm.conf, with
# the socket replaced). {sock} is the php-fpm socket.
PHP_FPM_HANDLER = """\
<IfModule proxy_fcgi_module>
    <IfModule setenvif_module>
    SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
    </IfModule>
    <FilesMatch ".+\\.ph(?:ar|p|tml)$">
        SetHandler "proxy:unix:{sock}|fcgi://localhost"
    </FilesMatch>
    <FilesMatch ".+\\.phps$">
        Require all denied
    </FilesMatch>
    <FilesMatch "^\\.ph(?:ar|p|ps|tml)$">
        Require all denied
    </FilesMatch>
</IfModule>
"""

# Placeholders: those of Relaisd ({prefix} {docroot} {logs} {port} {port0}..
# {conf} {extra}) and {modules} (LoadModule lines), {usergroup} (User/Group
# www-data when root), {php} (PHP_FPM_HANDLER filled with {sock}), {sock}.
# The runtime files (Mutex, DefaultRuntimeDir, PidFile) are in the prefix,
# so no /etc/apache2/envvars is needed.
# The server-wide part (also used by tests/apps with its own site).
APACHE_HEAD = """\
ServerRoot "{prefix}"
DefaultRuntimeDir "{prefix}/run"
Mutex file:{prefix}/run default
PidFile "{logs}/apache2.pid"
{modules}
{usergroup}
Listen 127.0.0.1:{port}
ServerName localhost
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
MinSpareThreads 4
MaxSpareThreads 16
ErrorLog "{logs}/error_log"
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
CustomLog "{logs}/access_log" combined
TypesConfig /etc/mime.types
KeepAlive On
KeepAliveTimeout 5
"""

APACHE_CONF = "# written by tests/interop/incumbents.py\n" + APACHE_HEAD + """\
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot "{docroot}"
<Directory "{docroot}">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.php index.html
{php}
{extra}
"""


class Apache(Relaisd):
    """Debian's Apache 2.4 (mpm_event) in <prefix>, with Relaisd's API
    (write_config/write/start/stop/get/request/error_log/access_log...):

        prefix/conf/apache2.conf   written from APACHE_CONF
        prefix/htdocs/             DocumentRoot     prefix/run/  runtime dir
        prefix/logs/               error_log, access_log, apache2.pid

    <sock>: the php-fpm socket .php goes to (a PhpFpm, a FcgiRecorder or a
    path); None leaves PHP unhandled. <modules>: extra module names (e.g.
    ["rewrite"]) loaded after APACHE_MODULES. Directives go in <extra>
    (server level, after the PHP handler), e.g.
        write_config(extra='Alias /al "{prefix}/aliased"\\n'
                           '<Directory "{prefix}/aliased">Require all granted</Directory>')
    or use another template altogether (write_config(template=...)).
    Started with -DFOREGROUND (master + children, as in production); stop()
    sends SIGTERM to the master."""

    name = "apache2"

    def __init__(self, prefix, binary=None, *, sock=None, modules=(), nports=1,
                 template=None, **values):
        self.sock = Path(getattr(sock, "sock", None) or getattr(sock, "path", None)
                         or sock) if sock else None
        self.modules = list(APACHE_MODULES) + [m for m in modules if m not in APACHE_MODULES]
        self.user = RUN_USER if _is_root() and _have_user(RUN_USER) else None
        super().__init__(prefix, binary or APACHE_BINARY, nports=nports,
                         template=template or APACHE_CONF, **values)
        # Relaisd names its file relaisd.conf: rename, and rewrite.
        old = self.conf
        self.conf = self.conf.with_name("apache2.conf")
        old.unlink()
        _mkdir(self.prefix / "run")
        # Apache passes its PATH to CGI/FastCGI (ap_add_common_vars): use
        # systemd's default, the PATH of a Debian apache2.service.
        self.env["PATH"] = SYSTEMD_PATH
        self.write_config()

    def placeholders(self):
        v = super().placeholders()
        mods = "\n".join(f"LoadModule {m}_module {APACHE_MODULES_DIR}/mod_{m}.so"
                         for m in self.modules)
        v.update(modules=mods, sock=self.sock or "",
                 usergroup=f"User {self.user}\nGroup {self.user}" if self.user else "",
                 php=fill(PHP_FPM_HANDLER, {"sock": self.sock}) if self.sock else "")
        return v

    def argv(self, args):
        args = list(args)
        if "-f" not in args:
            args = ["-f", str(self.conf)] + args
        return [str(self.binary), "-d", str(self.prefix)] + args

    def install_php(self, relpath="htdocs/env.php", source=ENV_PHP):
        """Copies a script of tests/interop/php (default env.php) to prefix/<relpath>."""
        return self.write(relpath, Path(source).read_bytes())


# --------------------------------------------------------------------------
# a FastCGI responder that shows the raw params

class FcgiRecorder:
    """A FastCGI responder on the unix socket <path>, served by threads of
    this process. Each request gets a 200 application/json answer with the
    same shape as env.php's: {"server": <params as received>, "order":
    [names in order], "sapi": "recorder", "input": {...}, "begin": {...}}.
    No PHP, no fix-ups: this is what the front end really sends.
    .requests: the list of those dicts, in arrival order."""

    def __init__(self, path=None, tcp_port=None):
        """<path>: a unix socket; or <tcp_port>: 127.0.0.1:<tcp_port>."""
        self.path = Path(path) if path else None
        self.port = tcp_port
        self.sock = self.path
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._lsock = None

    def start(self):
        if self.port:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.port))
        else:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(str(self.path))
            os.chmod(self.path, 0o666)
        s.listen(16)
        s.settimeout(0.1)
        self._lsock = s
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(5)
        if self._lsock:
            self._lsock.close()
            self._lsock = None
        if self.path:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self._threads.append(t)

    @staticmethod
    def _recv_exact(c, n):
        buf = bytearray()
        while len(buf) < n:
            d = c.recv(n - len(buf))
            if not d:
                raise EOFError
            buf += d
        return bytes(buf)

    @staticmethod
    def _pairs(data):
        out, i = [], 0
        while i < len(data):
            lens = []
            for _ in range(2):
                b = data[i]
                if b & 0x80:
                    lens.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7FFFFFFF)
                    i += 4
                else:
                    lens.append(b)
                    i += 1
            name = data[i:i + lens[0]].decode("latin-1")
            i += lens[0]
            out.append((name, data[i:i + lens[1]].decode("latin-1")))
            i += lens[1]
        return out

    @staticmethod
    def _record(type_, rid, content=b""):
        return struct.pack(">BBHHBB", 1, type_, rid, len(content), 0, 0) + content

    def _serve(self, c):
        c.settimeout(10)
        reqs = {}
        try:
            while not self._stop.is_set():
                ver, type_, rid, clen, plen, _ = struct.unpack(">BBHHBB", self._recv_exact(c, 8))
                content = self._recv_exact(c, clen)
                self._recv_exact(c, plen)
                if type_ == 1:      # BEGIN_REQUEST
                    role, flags = struct.unpack(">HB", content[:3])
                    reqs[rid] = {"begin": {"role": role, "flags": flags},
                                 "params": bytearray(), "stdin": bytearray()}
                elif type_ == 4:    # PARAMS
                    reqs[rid]["params"] += content
                elif type_ == 5 and content:   # STDIN
                    reqs[rid]["stdin"] += content
                elif type_ == 5:    # end of STDIN: answer
                    r = reqs.pop(rid)
                    pairs = self._pairs(bytes(r["params"]))
                    rep = {"server": dict(pairs), "order": [k for k, _ in pairs],
                           "sapi": "recorder", "begin": r["begin"],
                           "input": {"length": len(r["stdin"]),
                                     "md5": hashlib.md5(r["stdin"]).hexdigest()}}
                    with self._lock:
                        self.requests.append(rep)
                    body = (b"Content-Type: application/json\r\n\r\n"
                            + json.dumps(rep).encode() + b"\n")
                    out = b""
                    for i in range(0, len(body), 65535):
                        out += self._record(6, rid, body[i:i + 65535])
                    out += self._record(6, rid) + self._record(3, rid, struct.pack(">IB3x", 0, 0))
                    c.sendall(out)
                    if not r["begin"]["flags"] & 1:    # no FCGI_KEEP_CONN
                        return
                elif type_ == 9:    # GET_VALUES: answer nothing known
                    c.sendall(self._record(10, 0))
                elif type_ == 2:    # ABORT_REQUEST
                    reqs.pop(rid, None)
                    c.sendall(self._record(3, rid, struct.pack(">IB3x", 0, 0)))
        except (EOFError, OSError, KeyError, struct.error):
            pass
        finally:
            c.close()


# --------------------------------------------------------------------------
# $_SERVER helpers

def php_report(port, target="/env.php", headers=None, method="GET", body=None,
               host="localhost", timeout=relais.IO_TIMEOUT, **kw):
    """Requests <target> (a URL reaching env.php) on 127.0.0.1:<port> and
    returns everything env.php printed (decoded JSON). Raises AssertionError
    with the response when it is not a 200 JSON answer."""
    r = request(port, method, target, headers=headers, body=body, host=host,
                timeout=timeout, **kw)
    if r.status != 200:
        raise AssertionError(f"{method} {target} -> {r.status} {r.reason}\n"
                             f"{r.headers!r}\n{r.body[:2000]!r}")
    try:
        return json.loads(r.body)
    except ValueError:
        raise AssertionError(f"{method} {target}: not JSON: {r.headers!r}\n"
                             f"{r.body[:2000]!r}") from None


def server_env(port, target="/env.php", headers=None, method="GET", body=None, **kw):
    """$_SERVER (a dict name -> str) of one request to env.php; with a
    FcgiRecorder behind the front end, the raw FastCGI params instead."""
    env = php_report(port, target, headers=headers, method=method, body=body, **kw)["server"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in env.items()}


# Variables that vary by nature between two runs or two servers. Not
# ignored, on purpose: PHP_SELF (php-fpm derives it from SCRIPT_NAME and
# PATH_INFO, so it checks what we send), REMOTE_ADDR, SERVER_ADDR, USER,
# HOME. Ports and prefixes differ between two servers: normalize() first.
IGNORE = frozenset({
    "REQUEST_TIME", "REQUEST_TIME_FLOAT",   # clock
    "REMOTE_PORT",                          # client's ephemeral port
    "SERVER_SOFTWARE",                      # "Apache/2.4.x (Debian)" vs relaisd's
    "SERVER_SIGNATURE",                     # carries the software name (ServerSignature)
    "UNIQUE_ID",                            # mod_unique_id, if loaded
})


def normalize(env, port=None, prefix=None):
    """A copy of <env> with the port number <port> replaced by "{port}" (as a
    whole number: SERVER_PORT, HTTP_HOST "localhost:1234", SERVER_SIGNATURE)
    and the path <prefix> by "{prefix}" in every value, so that two servers
    on different ports and prefixes compare equal."""
    out = {}
    pat = re.compile(rf"(?<!\d){port}(?!\d)") if port else None
    for k, v in env.items():
        if prefix:
            v = v.replace(str(prefix), "{prefix}")
        if pat:
            v = pat.sub("{port}", v)
        out[k] = v
    return out


def diff_env(a, b, ignore=IGNORE, labels=("a", "b")):
    """"" when <a> and <b> (dicts) agree on every variable not in <ignore>,
    else one line per difference, sorted by name:
        SCRIPT_NAME          a='/env.php'  b='/x/env.php'
        HTTP_X_FOO           only in a: 'bar'
    """
    la, lb = labels
    w = max([len(k) for k in set(a) | set(b)] + [8])
    lines = []
    for k in sorted((set(a) | set(b)) - set(ignore)):
        if k not in b:
            lines.append(f"{k:<{w}}  only in {la}: {a[k]!r}")
        elif k not in a:
            lines.append(f"{k:<{w}}  only in {lb}: {b[k]!r}")
        elif a[k] != b[k]:
            lines.append(f"{k:<{w}}  {la}={a[k]!r}  {lb}={b[k]!r}")
    return "\n".join(lines)


def assert_same_env(a, b, ignore=IGNORE, labels=("a", "b"), what=""):
    d = diff_env(a, b, ignore, labels)
    assert not d, f"$_SERVER differs{' for ' + what if what else ''}:\n{d}"


# The CGI/1.1 + Apache variables the comparisons care most about.
CGI_KEYS = ("REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "SCRIPT_NAME",
            "SCRIPT_FILENAME", "PATH_INFO", "PATH_TRANSLATED", "PHP_SELF",
            "DOCUMENT_ROOT", "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT",
            "REQUEST_SCHEME", "SERVER_PROTOCOL", "GATEWAY_INTERFACE",
            "REDIRECT_STATUS", "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT",
            "REMOTE_ADDR", "HTTP_HOST", "HTTPS", "CONTENT_TYPE", "CONTENT_LENGTH",
            "AUTH_TYPE", "REMOTE_USER", "HTTP_AUTHORIZATION", "SERVER_ADMIN",
            "PHP_AUTH_USER", "PHP_AUTH_PW", "HTTP_CONNECTION", "proxy-nokeepalive",
            "FCGI_ROLE", "SERVER_SIGNATURE", "SERVER_SOFTWARE", "PATH", "USER", "HOME")


def env_table(envs, keys=CGI_KEYS):
    """A Markdown table, one row per (label, env) of <envs> and one column
    per key... transposed: one row per key, one column per request, which
    reads better for a handful of requests. '∅' marks an absent variable."""
    labels = [lbl for lbl, _ in envs]
    rows = ["| variable | " + " | ".join(f"`{lbl}`" for lbl in labels) + " |",
            "|---|" + "---|" * len(labels)]
    for k in keys:
        if not any(k in e for _, e in envs):
            continue
        cells = [("`" + e[k].replace("|", "\\|") + "`" if e[k] != "" else '`""`')
                 if k in e else "∅" for _, e in envs]
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
