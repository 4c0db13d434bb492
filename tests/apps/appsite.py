"""Helpers for the application tests (tests/apps): daemons, a small
browser, HTML forms. Standard library only; builds on tests/e2e/relais.py
and tests/interop/incumbents.py. The fixtures are in conftest.py.

  MariaDB(prefix)        mariadbd from a fresh datadir (mariadb-install-db),
                         --skip-networking, socket prefix/mysql.sock;
                         .start() (<= 30 s), .sql("...") through the client
  Site                   one application behind one front end (what a test
                         module's fixture returns): .front .port .docroot
                         .server .php .daemons .browser() .once(name, fn)
                         .diagnostics(); make_server() writes the front end's
                         config (RELAISD_CONF / APACHE_CONF, same SITE_CONF)
  make_site(request, tmp_path_factory, front, name)   a Site torn down at
                         the end of the module
  Browser(port)          urllib + a cookie jar; .get/.post -> Page; redirects
                         followed by hand and kept in .history; each call
                         bounded by HTTP_TIMEOUT
  forms(html) -> [Form], find_form(page, pred, what)
  relaisd_modules(binary), xfail_on_relaisd_without(request, site, module, why)
                         a step needing a module relaisd does not list in
                         `relaisd -M` is xfail (strict=False); once the module
                         is there, failures are real
  need(*paths)           skip (with the apt-get command) unless they exist
  copy_tree(src, dst), chown_tree(path, ids), run_user()
"""

import html.parser
import http.cookiejar
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "e2e"))

import incumbents  # noqa: E402
import relais  # noqa: E402


def _load_e2e_conftest():
    spec = importlib.util.spec_from_file_location(
        "relais_e2e_conftest_apps", HERE.parent / "e2e" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_open_path_to = _load_e2e_conftest()._open_path_to

HOST = "127.0.0.1"
HTTP_TIMEOUT = 20.0         # one HTTP exchange (WordPress' install is the slowest)
MARIADB_START_TIMEOUT = 30.0
RUN_USER = incumbents.RUN_USER      # www-data: php-fpm's pool, the servers' User

APT_HINT = ("apt-get install --no-install-recommends php8.2-fpm apache2 php wordpress "
            "wordpress-theme-twentytwentythree dokuwiki mariadb-server php8.2-mysql "
            "php8.2-xml php8.2-gd php8.2-mbstring php8.2-intl   (or scripts/deps.sh)")


def need(*paths):
    """Skips the test (module) unless every path exists."""
    missing = [str(p) for p in paths if not os.path.exists(p)]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: {APT_HINT}")


def is_root():
    return os.geteuid() == 0


def run_user():
    """(uid, gid) of the pool user when we are root and it exists, else None."""
    if not is_root():
        return None
    try:
        pw = pwd.getpwnam(RUN_USER)
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid


def chown_tree(path, ids):
    """chown -R <ids> (uid, gid) <path>, without following symlinks."""
    if ids is None:
        return
    uid, gid = ids
    os.chown(path, uid, gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)


def copy_tree(src, dst):
    """A copy of <src> in <dst> (which may exist), symlinks resolved: the
    packages link to /etc and /var/lib, or to ../../../php/... relatively,
    which would not resolve from the copy. Dangling links are dropped."""
    shutil.copytree(src, dst, symlinks=False, ignore_dangling_symlinks=True,
                    dirs_exist_ok=True)
    return Path(dst)


# --------------------------------------------------------------------------
# MariaDB

class MariaDB(relais.Daemon):
    """Debian's mariadbd from a fresh datadir in <prefix>:

        prefix/data/         initialised by mariadb-install-db (root: unix
                             password auth off -> "normal", no test db)
        prefix/mysql.sock    the only listener (--skip-networking)
        prefix/logs/error_log, prefix/logs/mariadb.pid

    Runs as the mysql user when we are root (the prefix is chowned to it and
    its parents made traversable), else as ourselves. --no-defaults: nothing
    from /etc/mysql applies. Small InnoDB sizes keep the datadir and the
    start fast. stop() sends SIGTERM to the PID we started."""

    name = "mariadb"
    BINARY = "/usr/sbin/mariadbd"
    INSTALL_DB = "/usr/bin/mariadb-install-db"
    CLIENT = "/usr/bin/mariadb"
    SIZES = ["--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M",
             "--innodb-data-file-path=ibdata1:4M:autoextend"]

    def __init__(self, prefix, binary=None):
        super().__init__(prefix, binary or self.BINARY)
        self.datadir = self.prefix / "data"
        self.sock = self.prefix / "mysql.sock"
        self.pidfile = self.prefix / "logs" / "mariadb.pid"
        self.error_log_path = self.prefix / "logs" / "error_log"
        self.user = "mysql" if is_root() and _have_user("mysql") else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            chown_tree(self.prefix, (pw.pw_uid, pw.pw_gid))

    def common_args(self):
        a = ["--no-defaults", f"--datadir={self.datadir}"] + self.SIZES
        if self.user:
            a.append(f"--user={self.user}")
        elif is_root():
            a.append("--user=root")
        return a

    def install_db(self, timeout=30):
        argv = [self.INSTALL_DB] + self.common_args() + [
            "--auth-root-authentication-method=normal", "--skip-test-db",
            "--skip-name-resolve"]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, cwd=self.prefix)
        (self.prefix / "install_db.log").write_bytes(r.stdout)
        if r.returncode != 0:
            raise relais.DaemonError(f"{' '.join(argv)} exited {r.returncode}:\n"
                                     + r.stdout.decode(errors="replace")[-3000:])

    def argv(self, args):
        return [str(self.binary)] + self.common_args() + [
            f"--socket={self.sock}", f"--pid-file={self.pidfile}", "--skip-networking",
            f"--log-error={self.error_log_path}", "--skip-name-resolve",
            "--skip-log-bin"] + list(args)

    def marker(self):
        return str(self.datadir)

    def start(self, args=(), wait=True, timeout=MARIADB_START_TIMEOUT):
        if not self.datadir.exists():
            self.install_db()
        super().start(args, wait=False)
        if wait:
            deadline = time.monotonic() + timeout
            while True:
                if not self.running():
                    rc = self.proc.returncode if self.proc else None
                    self.stop()
                    raise relais.DaemonError(f"mariadbd exited (rc {rc})\n" + self.diagnostics())
                if incumbents.unix_listening(self.sock):
                    try:
                        self.sql("SELECT 1", timeout=5)
                        return self
                    except relais.DaemonError:
                        pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise relais.DaemonError(f"mariadbd not ready after {timeout}s\n"
                                             + self.diagnostics())
                time.sleep(0.05)
        return self

    def sql(self, statements, timeout=10):
        """Runs <statements> as root through the socket; returns stdout."""
        r = subprocess.run([self.CLIENT, "--no-defaults", f"--socket={self.sock}",
                            "-uroot", "--batch", "-e", statements],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise relais.DaemonError(f"mariadb -e {statements!r}: rc {r.returncode}\n"
                                     + r.stderr.decode(errors="replace"))
        return r.stdout.decode(errors="replace")


def _have_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --------------------------------------------------------------------------
# relaisd's modules (for the xfail probes)

_modules_cache = {}


def relaisd_modules(binary):
    """The module names (without _module) `relaisd -M` lists for a minimal
    config, cached per binary."""
    binary = str(binary)
    if binary not in _modules_cache:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            conf = Path(d) / "m.conf"
            conf.write_text(f'ServerRoot "{d}"\nListen 127.0.0.1:{relais.free_port()}\n'
                            f'DocumentRoot "{d}"\nErrorLog "{d}/error_log"\n')
            r = subprocess.run([binary, "-M", "-f", str(conf)], capture_output=True,
                               timeout=10, stdin=subprocess.DEVNULL)
        _modules_cache[binary] = set(re.findall(r"(\w+)_module", r.stdout.decode()))
    return _modules_cache[binary]


# --------------------------------------------------------------------------
# front ends

# Shared by both servers: the application is the DocumentRoot, .htaccess
# files apply, .php goes to the pool as in the brief. {sock} the pool's
# socket. <Directory /> denies, like Debian's apache2.conf.
SITE_CONF = """\
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot "{docroot}"
<Directory "{docroot}">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
</Directory>
DirectoryIndex index.php index.html
<FilesMatch \\.php$>
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</FilesMatch>
{extra}
"""

RELAISD_CONF = """\
# written by tests/apps/conftest.py (no LoadModule: every built-in module is on)
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
{usergroup}
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
CustomLog "{logs}/access_log" combined
TypesConfig /etc/mime.types
KeepAlive On
KeepAliveTimeout 5
""" + SITE_CONF

APACHE_CONF = ("# written by tests/apps/conftest.py\n" + incumbents.APACHE_HEAD
               + SITE_CONF)

# Apache loads what relaisd has built in and the applications use.
APACHE_EXTRA_MODULES = ["rewrite", "expires", "access_compat"]

class Site:
    """One application behind one front end. .daemons (started ones, in
    start order) are torn down in reverse by teardown(). .once(name, fn)
    runs a step at most once and replays its result or its exception, so
    that the tests of a module may run in any order (or alone) and a step
    that failed fails its dependents with the same error."""

    def __init__(self, front, base):
        self.front = front
        self.base = Path(base)
        self.daemons = []
        self.server = None
        self.php = None
        self._steps = {}

    # -- building
    def add(self, daemon):
        self.daemons.append(daemon)
        _open_path_to(daemon.prefix, self.base.parent.parent)
        return daemon

    def start_php(self, max_children=4):
        need(incumbents.PHP_FPM_BINARY)
        self.php = self.add(incumbents.PhpFpm(self.base / "php-fpm", max_children=max_children))
        self.php.start()
        return self.php

    def make_server(self):
        """The front end (not started), its htdocs empty: copy the
        application into .docroot, then start_server()."""
        prefix = self.base / "server"
        ug = ""
        if run_user():
            ug = f"User {RUN_USER}\nGroup {RUN_USER}"
        if self.front == "apache":
            s = incumbents.Apache(prefix, sock=self.php.sock, modules=APACHE_EXTRA_MODULES,
                                  template=APACHE_CONF)
        else:
            s = relais.Relaisd(prefix, template=RELAISD_CONF)
        s.write_config(sock=str(self.php.sock), usergroup=ug, extra="")
        self.server = self.add(s)
        return s

    def start_server(self):
        _open_path_to(self.docroot, self.base.parent.parent)
        self.server.start()
        return self.server

    @property
    def docroot(self):
        return self.server.docroot

    @property
    def port(self):
        return self.server.port

    def browser(self):
        return Browser(self.port)

    # -- steps
    def once(self, name, fn):
        if name not in self._steps:
            try:
                self._steps[name] = (True, fn())
            except BaseException as e:   # noqa: B902 (pytest's outcomes too)
                self._steps[name] = (False, e)
        ok, v = self._steps[name]
        if ok:
            return v
        if isinstance(v, (AssertionError, relais.DaemonError)):
            raise AssertionError(f"step {name!r} failed: {v}") from None
        raise v

    # -- reports
    def diagnostics(self):
        parts = []
        for d in self.daemons:
            parts.append(d.diagnostics())
            if getattr(d, "access_log", None):
                parts.append(f"--- access log tail:\n{relais._tail(d.access_log(), 30)}")
        return "\n".join(parts)

    def teardown(self):
        problems = []
        for d in reversed(self.daemons):
            problems += d.teardown()
        return problems


def make_site(request, tmp_path_factory, front, name):
    """A Site in a fresh tmp dir; its daemons are stopped at the end of the
    module (teardown problems fail the last test)."""
    base = tmp_path_factory.mktemp(f"{name}-{front}")
    site = Site(front, base)

    def fin():
        problems = site.teardown()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)
    request.addfinalizer(fin)
    return site


def xfail_on_relaisd_without(request, site, module, why):
    """Marks the running test xfail (strict=False) when the front end is
    relaisd and `relaisd -M` does not list <module>_module: the step needs a
    piece relaisd does not have yet. Once it has it, failures are real."""
    if site.front != "relaisd":
        return
    if module not in relaisd_modules(site.server.binary):
        request.node.add_marker(pytest.mark.xfail(
            reason=f"relaisd has no mod_{module} yet: {why}", strict=False))


# --------------------------------------------------------------------------
# HTTP: a small browser

class Page:
    def __init__(self, method, url, status, headers, body):
        self.method, self.url, self.status = method, url, status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", errors="replace")

    def header(self, name, default=None):
        return self.headers.get(name, default) if self.headers is not None else default

    def __repr__(self):
        return f"<{self.method} {self.url} -> {self.status}>"

    def describe(self, limit=2500):
        hdrs = "".join(f"  {k}: {v}\n" for k, v in (self.headers.items() if self.headers else []))
        return (f"{self.method} {self.url} -> {self.status}\n{hdrs}"
                f"  body ({len(self.body)} bytes): {self.text[:limit]!r}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """Talks to 127.0.0.1:<port> like a browser would, as far as these
    applications care: cookies (http.cookiejar), form posts, redirects
    (followed by hand: POST -> GET on 301/302/303). .history lists every
    exchange ("METHOD url -> status"); describe() adds it to a message."""

    def __init__(self, port):
        self.port = port
        self.root = f"http://{HOST}:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.history = []

    def url(self, path):
        return path if path.startswith("http") else self.root + path

    def _one(self, method, url, data, headers, timeout):
        req = urllib.request.Request(url, data=data, method=method,
                                     headers=dict({"User-Agent": "relais-apps-test"},
                                                  **(headers or {})))
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                page = Page(method, url, resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            page = Page(method, url, e.code, e.headers, e.read() if e.fp else b"")
        self.history.append(f"{method} {url} -> {page.status}")
        return page

    def request(self, method, path, form=None, body=None, headers=None, follow=True,
                timeout=HTTP_TIMEOUT):
        """One request (plus its redirects when <follow>); <form>: a dict or a
        list of pairs, sent as application/x-www-form-urlencoded; <body>:
        raw bytes. Returns the last Page."""
        headers = dict(headers or {})
        data = body
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        url = self.url(path)
        page = self._one(method, url, data, headers, timeout)
        hops = 0
        while follow and page.status in (301, 302, 303, 307, 308) and page.header("Location"):
            hops += 1
            assert hops <= 10, self.describe(page, "too many redirects")
            url = urllib.parse.urljoin(url, page.header("Location"))
            assert url.startswith(self.root), self.describe(page, "redirected off the site")
            if page.status in (301, 302, 303) and method != "HEAD":
                method, data = "GET", None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            page = self._one(method, url, data, headers, timeout)
        return page

    def submit(self, page, form, values, **kw):
        """Posts <values> to <form>'s action, resolved against <page>'s URL
        (a form without an action posts back to the page)."""
        url = urllib.parse.urljoin(page.url, form.action) if form.action else page.url
        method = (form.attrs.get("method") or "get").upper()
        if method == "GET":
            sep = "&" if "?" in url else "?"
            return self.get(url + sep + urllib.parse.urlencode(values), **kw)
        return self.post(url, values, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form=None, **kw):
        return self.request("POST", path, form=form, **kw)

    def cookies(self):
        return {c.name: c.value for c in self.jar}

    def describe(self, page, what=""):
        hist = "\n".join(f"  {h}" for h in self.history[-12:])
        return (f"{what}\n{page.describe() if page is not None else ''}\n"
                f"history (last 12):\n{hist}\ncookies: {sorted(self.cookies())}")


# --------------------------------------------------------------------------
# HTML forms

class Form:
    def __init__(self, attrs):
        self.attrs = attrs
        self.fields = []        # [(name, value)] as a browser would submit them (no buttons)
        self.buttons = []       # [(name, value)]

    @property
    def id(self):
        return self.attrs.get("id")

    @property
    def action(self):
        return self.attrs.get("action")

    def get(self, name, default=None):
        for k, v in self.fields:
            if k == name:
                return v
        return default

    def values(self, **overrides):
        """The fields as a list of pairs, with <overrides> (name -> value;
        names with [] may be given as d__title for d[title]) replacing or
        adding values."""
        ov = {k.replace("__", "[", 1) + "]" if "__" in k else k: v for k, v in overrides.items()}
        out = [(k, ov.get(k, v)) for k, v in self.fields]
        have = {k for k, _ in out}
        out += [(k, v) for k, v in ov.items() if k not in have]
        return out


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.cur = None
        self.textarea = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.cur = Form(a)
            self.forms.append(self.cur)
            return
        if self.cur is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            t = a.get("type", "text").lower()
            if t in ("checkbox", "radio"):
                if "checked" in a:
                    self.cur.fields.append((name, a.get("value", "on")))
            elif t in ("submit", "image", "button", "reset"):
                self.cur.buttons.append((name, a.get("value", "")))
            else:
                self.cur.fields.append((name, a.get("value", "")))
        elif tag == "button" and name:
            self.cur.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
        elif tag == "select" and name:
            self.select = [name, None, None]       # name, first, selected
        elif tag == "option" and self.select is not None:
            v = a.get("value", "")
            if self.select[1] is None:
                self.select[1] = v
            if "selected" in a:
                self.select[2] = v

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None and self.cur is not None:
            name, text = self.textarea
            self.cur.fields.append((name, text[1:] if text.startswith("\n") else text))
            self.textarea = None
        elif tag == "select" and self.select is not None and self.cur is not None:
            name, first, sel = self.select
            v = sel if sel is not None else first
            if v is not None:
                self.cur.fields.append((name, v))
            self.select = None
        elif tag == "form":
            self.cur = None


def forms(text):
    """The <form>s of an HTML page, as Form objects."""
    p = _FormParser()
    p.feed(text)
    p.close()
    return p.forms


def find_form(page, pred, what):
    for f in forms(page.text):
        if pred(f):
            return f
    raise AssertionError(f"no {what} form in:\n{page.describe()}")
