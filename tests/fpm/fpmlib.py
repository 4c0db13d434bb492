"""Helpers for the relais-fpm tests (tests/fpm): the FPM under test in a
temporary prefix, nginx in front of it, a FastCGI client, process counting.

Standard library only; builds on tests/e2e/relais.py (Daemon, request, ...)
and tests/interop/incumbents.py (unix_listening, Apache). Everything listens
on 127.0.0.1 free ports or on unix sockets inside the prefix, and every
process is stopped by PID.

    find_fpm_binary()         RELAIS_FPM, $RELAIS_BUILD/relais-fpm, build-test/, build/
    is_reference(binary)      True when <binary> is php-fpm itself (or FPM_REFERENCE=1)
    Fpm(prefix, binary, ...)  the FPM under test (alias RelaisFpm): php-fpm.conf
                              + pools, -F -y -p; stopped by PID
    Nginx(prefix, ...)        nginx -p prefix -c prefix/nginx.conf, daemon off
    fcgi_request(addr, params, stdin=b"")  one FastCGI request -> FcgiResponse
    php_params(script, uri=...)            the params nginx would send
    pool_children(daemon, pool)            pids of a pool's children
    wait_until(fn, timeout)                poll fn() until truthy
"""

import hashlib
import os
import pwd
import re
import signal
import socket
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "e2e"))

import relais  # noqa: E402
from relais import Daemon, DaemonError, _mkdir, _read, descendants, fill  # noqa: E402
import incumbents  # noqa: E402
from incumbents import unix_listening  # noqa: E402

PHP_FPM = "/usr/sbin/php-fpm8.2"
NGINX = "/usr/sbin/nginx"
RUN_USER = "www-data"
IS_ROOT = os.geteuid() == 0


def _have_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --------------------------------------------------------------------------
# which binary

def find_fpm_binary():
    """The FPM under test: $RELAIS_FPM, else $RELAIS_BUILD/relais-fpm, else
    <repo>/build-test/relais-fpm, else <repo>/build/relais-fpm; with
    FPM_REFERENCE=1 and no RELAIS_FPM, php-fpm8.2. None if not found."""
    env = os.environ.get("RELAIS_FPM")
    if env:
        return Path(env).absolute()     # the daemons run from their prefix
    if os.environ.get("FPM_REFERENCE") == "1":
        return Path(PHP_FPM)
    if os.environ.get("RELAIS_BUILD"):
        cands = [Path(os.environ["RELAIS_BUILD"]) / "relais-fpm"]
    else:
        cands = [relais.REPO / "build-test" / "relais-fpm", relais.REPO / "build" / "relais-fpm"]
    for p in cands:
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def is_reference(binary):
    """True when the suite runs against php-fpm itself (the reference)."""
    if os.environ.get("FPM_REFERENCE") == "1":
        return True
    return Path(binary).name.startswith("php-fpm")


# --------------------------------------------------------------------------
# polling

def wait_until(fn, timeout=5.0, interval=0.05, what=None):
    """Calls fn() until it returns something truthy; returns it. Raises
    AssertionError after <timeout> s (with <what> and the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what or fn}; last value {v!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# processes

def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


_POOL_TITLE = re.compile(r"\bpool (\S+)(.*)$")


def pool_children(daemon, pool="www"):
    """Pids of the processes below <daemon>'s master that serve <pool>:
    their title is "php-fpm: pool <pool>" (php-fpm) or "relais-fpm: pool
    <pool>" (relais-fpm); relais-fpm's "relais-fpm: pool <pool> leader",
    between the master and the children, is not counted. Zombies are not
    counted either."""
    if daemon.pid is None or not daemon.running():
        return []
    out = []
    for p in descendants(daemon.pid):
        if not relais._alive(p):
            continue
        m = _POOL_TITLE.search(cmdline(p))
        if m and m.group(1) == pool and "leader" not in m.group(2):
            out.append(p)
    return sorted(out)


def pool_leaders(daemon):
    return [p for p in descendants(daemon.pid or 0)
            if relais._alive(p) and re.search(r"\bpool \S+ leader", cmdline(p))]


def uid_of(pid):
    """Effective uid of <pid> (None if gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("Uid:"):
                    return int(ln.split()[2])
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------
# the FPM under test

class Pool:
    """One pool section. <listen>: "unix" (prefix/<name>.sock) or "tcp"
    (127.0.0.1:<free port>). <settings>: pool directives in order (values
    None are left out) after the defaults below; <extra>: raw lines."""

    DEFAULTS = {"pm": "static", "pm.max_children": 2}

    def __init__(self, name, prefix, listen="unix", user=None, settings=None, extra=""):
        self.name = name
        self.user = user
        self.extra = extra
        if listen == "tcp":
            self.port = relais.free_port()
            self.sock = None
            self.listen = f"127.0.0.1:{self.port}"
        else:
            self.port = None
            self.sock = Path(prefix) / "run" / f"{name}.sock"
            self.listen = str(self.sock)
        self.settings = dict(self.DEFAULTS)
        self.settings.update(settings or {})

    @property
    def addr(self):
        """What fcgi_request() and the front ends take: a path or a port."""
        return self.sock if self.sock else self.port

    def text(self):
        lines = [f"[{self.name}]"]
        if self.user:
            lines += [f"user = {self.user}", f"group = {self.user}"]
        lines.append(f"listen = {self.listen}")
        if self.sock:
            if IS_ROOT and _have_user(RUN_USER):
                lines += [f"listen.owner = {RUN_USER}", f"listen.group = {RUN_USER}",
                          "listen.mode = 0660"]
            else:
                lines.append("listen.mode = 0666")
        for k, v in self.settings.items():
            if v is not None:
                lines.append(f"{k} = {v}")
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"


class Fpm(Daemon):
    """The FPM under test (relais-fpm, or php-fpm8.2 as the reference) in
    <prefix>:

        prefix/php-fpm.conf     [global] + one section per pool (write_config())
        prefix/run/             fpm.pid, <pool>.sock
        prefix/log/php-fpm.log  the error_log (self.error_log())
        prefix/htdocs/          scripts (write())
        prefix/tmp/             mode 1777, for files the scripts write

    Started as `<binary> -F -y php-fpm.conf -p prefix` (+ -R with
    <root_pools>), our child in its own session; start() waits until every
    pool listens. stop() sends SIGTERM (or <sig>) to the master by PID, then
    SIGKILL; processes left over fail the test at teardown.

    Pools run as www-data when we are root (unless <user> says otherwise;
    user=False: no user line, for -R root pools)."""

    name = "fpm"

    def __init__(self, prefix, binary, *, pools=None, settings=None, listen="unix",
                 global_extra="", log_level="notice", root_pools=False, php_ini=None,
                 user=None):
        super().__init__(prefix, binary)
        self.is_reference = is_reference(binary)
        self.run_dir = _mkdir(self.prefix / "run")
        self.log_dir = _mkdir(self.prefix / "log")
        self.docroot = _mkdir(self.prefix / "htdocs")
        self.tmp = _mkdir(self.prefix / "tmp", 0o1777)
        self.conf = self.prefix / "php-fpm.conf"
        self.pidfile = self.run_dir / "fpm.pid"
        self.error_log_path = self.log_dir / "php-fpm.log"
        self.global_extra = global_extra
        self.log_level = log_level
        self.root_pools = root_pools
        self.php_ini = php_ini
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            self.env.pop(k, None)
        if user is None:
            user = RUN_USER if IS_ROOT and _have_user(RUN_USER) and not root_pools else None
        self.pools = {}
        if pools is None:
            pools = {"www": settings or {}}
        for name, s in pools.items():
            s = dict(s)
            self.add_pool(name, listen=s.pop("_listen", listen),
                          user=s.pop("_user", user or None), extra=s.pop("_extra", ""),
                          settings=s)
        self.write_config()

    def add_pool(self, name, listen="unix", user=None, settings=None, extra=""):
        self.pools[name] = Pool(name, self.prefix, listen, user, settings, extra)
        return self.pools[name]

    @property
    def pool(self):
        """The first pool."""
        return next(iter(self.pools.values()))

    @property
    def addr(self):
        return self.pool.addr

    @property
    def sock(self):
        return self.pool.sock

    def write_config(self):
        text = ["; written by tests/fpm/fpmlib.py", "[global]",
                f"pid = {self.pidfile}", f"error_log = {self.error_log_path}",
                f"log_level = {self.log_level}", "daemonize = no"]
        if self.global_extra:
            text.append(self.global_extra)
        text.append("")
        for p in self.pools.values():
            text.append(p.text())
        data = "\n".join(text)
        self.conf.write_text(data)
        os.chmod(self.conf, 0o644)
        return data

    def argv(self, args):
        a = [str(self.binary), "-F", "-y", str(self.conf), "-p", str(self.prefix)]
        if self.php_ini == "-n":
            a.append("-n")
        elif self.php_ini:
            a += ["-c", str(self.php_ini)]
        if self.root_pools and IS_ROOT:
            a.append("-R")
        return a + list(args)

    def marker(self):
        return str(self.conf)

    def start(self, args=(), wait=True, timeout=relais.START_TIMEOUT):
        self.write_config()
        super().start(args, wait=False)
        if wait:
            self.wait_pools(timeout)
        return self

    def wait_pools(self, timeout=relais.START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            missing = [p.listen for p in self.pools.values()
                       if not (unix_listening(p.sock) if p.sock else relais._listening(p.port))]
            if not missing:
                return
            if not self.running():
                rc = self.proc.returncode if self.proc else None
                self.stop()
                raise DaemonError(f"{self.name} exited (rc {rc}) before listening on "
                                  f"{missing}\n" + self.diagnostics())
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"{self.name} not listening on {missing} after "
                                  f"{timeout}s\n" + self.diagnostics())
            time.sleep(0.02)

    def script(self, name, code):
        """Writes htdocs/<name> with <code> (PHP source); returns its path."""
        return self.write(f"htdocs/{name}", code)

    def children(self, pool=None):
        """With <pool>: that pool's children (pool_children); else every
        live process below the master."""
        if pool is None:
            return super().children()
        return pool_children(self, pool)

    def request(self, script, uri=None, pool=None, stdin=b"", timeout=10, raise_closed=True,
                **kw):
        """A FastCGI request for htdocs/<script> straight to <pool> (default
        the first one), params as nginx sends them (php_params())."""
        p = self.pools[pool] if pool else self.pool
        path = self.docroot / script
        params = php_params(path, uri or "/" + script, docroot=self.docroot,
                            content_length=len(stdin), **kw)
        return fcgi_request(p.addr, params, stdin, timeout=timeout, raise_closed=raise_closed)

    def log_lines(self, pattern):
        """The error log's lines that match regex <pattern>."""
        rx = re.compile(pattern)
        return [ln for ln in self.error_log().splitlines() if rx.search(ln)]


RelaisFpm = Fpm     # the name the brief used; php-fpm or relais-fpm alike


# --------------------------------------------------------------------------
# nginx

NGINX_CONF = """\
# written by tests/fpm/fpmlib.py
{user}
worker_processes 1;
error_log {logs}/error.log {error_level};
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {logs}/access.log combined;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    client_max_body_size 64m;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {docroot};
        index index.php index.html;
        location ~ [^/]\\.php(/|$) {{
            fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
            try_files $fastcgi_script_name =404;
            set $path_info $fastcgi_path_info;
            fastcgi_param PATH_INFO $path_info;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass {upstream};
            fastcgi_read_timeout 30s;
        }}
        # no try_files: the FPM itself finds the script missing
        location ^~ /nofile/ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass {upstream};
        }}
        # any file as a script: security.limit_extensions applies
        location ^~ /raw/ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass {upstream};
        }}
{extra}
    }}
}}
"""


class Nginx(Daemon):
    """nginx in <prefix> in front of <upstream> (a Pool, Fpm, a socket path
    or a port): prefix/nginx.conf from NGINX_CONF, prefix/htdocs (root;
    or <docroot>),
    prefix/logs/error.log and access.log. Started `nginx -p prefix/ -c
    nginx.conf -e logs/error.log -g 'daemon off; pid logs/nginx.pid;'`;
    workers run as www-data when we are root."""

    name = "nginx"

    def __init__(self, prefix, binary=None, *, upstream=None, extra="", error_level="info",
                 docroot=None):
        super().__init__(prefix, binary or NGINX)
        self.docroot = Path(docroot) if docroot else _mkdir(self.prefix / "htdocs")
        self.logs = self.prefix / "logs"
        _mkdir(self.prefix / "tmp")
        self.conf = self.prefix / "nginx.conf"
        self.pidfile = self.logs / "nginx.pid"
        self.error_log_path = self.logs / "error.log"
        self.access_log_path = self.logs / "access.log"
        self.port = relais.free_port()
        self.ports = [self.port]
        addr = getattr(upstream, "addr", upstream)
        self.upstream = f"unix:{addr}" if isinstance(addr, (str, Path)) else f"127.0.0.1:{addr}"
        self.extra = extra
        self.error_level = error_level
        self.write_config()

    def write_config(self):
        user = f"user {RUN_USER};" if IS_ROOT and _have_user(RUN_USER) else ""
        text = fill(NGINX_CONF, {"user": user, "logs": self.logs, "prefix": self.prefix,
                                 "port": self.port, "docroot": self.docroot,
                                 "upstream": self.upstream, "extra": self.extra,
                                 "error_level": self.error_level})
        self.conf.write_text(text)
        return text

    def argv(self, args):
        return [str(self.binary), "-p", f"{self.prefix}/", "-c", str(self.conf),
                "-e", str(self.error_log_path),
                "-g", f"daemon off; pid {self.pidfile};"] + list(args)

    def marker(self):
        return str(self.conf)

    def start(self, args=(), wait=True, timeout=relais.START_TIMEOUT):
        return super().start(args, wait, timeout)

    def access_log(self):
        return _read(self.access_log_path)

    def request(self, method="GET", target="/", **kw):
        return relais.request(self.port, method, target, **kw)

    def get(self, target="/", **kw):
        return self.request("GET", target, **kw)


# --------------------------------------------------------------------------
# a FastCGI client

FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_END_REQUEST = 1, 2, 3
FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 4, 5, 6, 7
FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT = 9, 10


class FcgiClosed(AssertionError):
    """The FastCGI server closed the connection before FCGI_END_REQUEST."""

    def __init__(self, msg, response):
        super().__init__(msg)
        self.response = response


class FcgiResponse:
    """stdout split into CGI headers and body; .status from Status: (200
    when absent); .stderr (bytes); .app_status, .protocol_status (None when
    no END_REQUEST came: .complete is False then)."""

    def __init__(self):
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.app_status = None
        self.protocol_status = None
        self.complete = False
        self.headers = relais.Headers()
        self.body = b""
        self.status = None
        self.first_stdout_at = None

    def parse(self):
        data = bytes(self.stdout)
        i = data.find(b"\r\n\r\n")
        j = data.find(b"\n\n")
        if i < 0 and j < 0:
            head, self.body = data, b""
        elif i >= 0 and (j < 0 or i < j):
            head, self.body = data[:i], data[i + 4:]
        else:
            head, self.body = data[:j], data[j + 2:]
        items = []
        for ln in head.decode("latin-1").splitlines():
            if ":" in ln:
                k, v = ln.split(":", 1)
                items.append((k.strip(), v.strip()))
        self.headers = relais.Headers(items)
        st = self.headers.get("Status")
        self.status = int(st.split()[0]) if st else (200 if data else None)
        return self

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return (f"<FcgiResponse status={self.status} complete={self.complete} "
                f"app={self.app_status} body={bytes(self.body[:200])!r} "
                f"stderr={bytes(self.stderr[:300])!r}>")


def _nv(name, value):
    name, value = (x.encode() if isinstance(x, str) else x for x in (name, str(value)))
    out = b""
    for n in (len(name), len(value)):
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def _record(type_, rid, content=b""):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (-len(chunk)) % 8
        out += struct.pack(">BBHHBB", 1, type_, rid, len(chunk), pad, 0) + chunk + b"\0" * pad
        if not content:
            return out


def fcgi_connect(addr, timeout=10):
    if isinstance(addr, (str, Path)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(addr))
    else:
        s = socket.create_connection(("127.0.0.1", int(addr)), timeout=timeout)
    return s


def fcgi_send(s, params, stdin=b"", rid=1, keep_conn=False):
    pairs = b"".join(_nv(k, v) for k, v in params.items())
    msg = _record(FCGI_BEGIN_REQUEST, rid, struct.pack(">HB5x", 1, 1 if keep_conn else 0))
    msg += _record(FCGI_PARAMS, rid, pairs) + _record(FCGI_PARAMS, rid)
    if stdin:
        msg += _record(FCGI_STDIN, rid, stdin)
    msg += _record(FCGI_STDIN, rid)
    s.sendall(msg)


def fcgi_read(s, timeout=10, raise_closed=True):
    """Reads one response; FcgiClosed when the server closes first (unless
    not <raise_closed>: the incomplete response is returned)."""
    r = FcgiResponse()
    deadline = time.monotonic() + timeout
    buf = bytearray()

    def need(n):
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete FastCGI response after {timeout}s: {r!r}")
            s.settimeout(left)
            try:
                d = s.recv(1 << 16)
            except socket.timeout:
                raise TimeoutError(f"no complete FastCGI response after {timeout}s: "
                                   f"{r.parse()!r}") from None
            except (ConnectionResetError, BrokenPipeError):
                d = b""
            if not d:
                return False
            buf.extend(d)
        return True

    while True:
        if not need(8):
            break
        _, type_, rid, clen, plen, _ = struct.unpack(">BBHHBB", bytes(buf[:8]))
        if not need(8 + clen + plen):
            break
        content = bytes(buf[8:8 + clen])
        del buf[:8 + clen + plen]
        if type_ == FCGI_STDOUT:
            if content and r.first_stdout_at is None:
                r.first_stdout_at = time.monotonic()
            r.stdout += content
        elif type_ == FCGI_STDERR:
            r.stderr += content
        elif type_ == FCGI_END_REQUEST:
            r.app_status, r.protocol_status = struct.unpack(">IB", content[:5])
            r.complete = True
            return r.parse()
    r.parse()
    if raise_closed:
        raise FcgiClosed(f"connection closed before FCGI_END_REQUEST: {r!r}", r)
    return r


def fcgi_request(addr, params, stdin=b"", timeout=10, raise_closed=True):
    """One FastCGI responder request to <addr> (a unix socket path, or a
    port on 127.0.0.1) on a new connection; returns the FcgiResponse."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    with fcgi_connect(addr, timeout) as s:
        fcgi_send(s, params, stdin)
        return fcgi_read(s, timeout, raise_closed)


def php_params(script_filename, uri="/", method="GET", query="", docroot="/",
               content_length=0, content_type="", extra=None):
    """The params nginx's fastcgi_params give for a request of <uri> served
    by <script_filename>."""
    script_name = uri.split("?")[0]
    p = {
        "QUERY_STRING": query, "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(content_length) if content_length else "",
        "SCRIPT_FILENAME": str(script_filename), "SCRIPT_NAME": script_name,
        "REQUEST_URI": uri + (f"?{query}" if query else ""), "DOCUMENT_URI": script_name,
        "DOCUMENT_ROOT": str(docroot), "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http", "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "fpmtest", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
        "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "80", "SERVER_NAME": "localhost",
        "REDIRECT_STATUS": "200", "HTTP_HOST": "localhost",
    }
    p.update(extra or {})
    return p


def md5(data):
    return hashlib.md5(data).hexdigest()


def send_signal(daemon, sig):
    """<sig> to the master, by PID."""
    os.kill(daemon.pid, sig)


SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 = (signal.SIGQUIT, signal.SIGTERM,
                                      signal.SIGUSR1, signal.SIGUSR2)
