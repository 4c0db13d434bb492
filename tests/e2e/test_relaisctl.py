"""relaisctl: apache2ctl, a2enmod & co., the FPM actions and the cross-check
of relaisd's configuration against the FPM's.

Every tree is a copy of Debian's /etc/apache2 in pytest's tmp_path (the
real one is never written). The a2enmod comparisons run Debian's own
a2enmod on a second copy, with APACHE_STATE_DIRECTORY in tmp_path so that
its state markers stay out of /var/lib/apache2. Daemons run on free
loopback ports with their pid, run and log directories in the copy, and
are stopped by PID at teardown.

Run:  RELAIS_BUILD=<build dir> /usr/bin/python3 -m pytest -q tests/e2e/test_relaisctl.py
"""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import relais

DEBIAN_TREE = Path("/etc/apache2")
A2ENMOD = Path("/usr/sbin/a2enmod")
IS_ROOT = os.geteuid() == 0

needs_tree = pytest.mark.skipif(not (DEBIAN_TREE / "apache2.conf").exists(),
                                reason="no Debian /etc/apache2")
needs_a2enmod = pytest.mark.skipif(not A2ENMOD.exists(), reason="no Debian a2enmod")
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (users, chown, www-data workers)")


@pytest.fixture(scope="session")
def relaisctl():
    b = relais.find_binary("relaisctl")
    if b is None:
        pytest.skip("relaisctl is not built")
    return b


def copy_tree(dest):
    shutil.copytree(DEBIAN_TREE, dest, symlinks=True)
    return Path(dest)


def links_of(tree):
    """{relative path: link target} of every symlink in <tree>."""
    out = {}
    for root, dirs, files in os.walk(tree):
        for n in dirs + files:
            p = Path(root) / n
            if p.is_symlink():
                out[str(p.relative_to(tree))] = os.readlink(p)
    return out


def run(cmd, env=None, input=None, timeout=30):
    e = dict(os.environ)
    e.pop("APACHE_CONFDIR", None)
    e.pop("APACHE_ENVVARS", None)
    e.update(env or {})
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=e,
                       input=input if input is not None else "", timeout=timeout)
    return relais.Result(r.returncode, r.stdout, r.stderr)


# --------------------------------------------------------------------------
# enmod & co.

@needs_tree
def test_enmod_follows_dependencies(relaisctl, tmp_path):
    tree = copy_tree(tmp_path / "apache2")
    r = run([relaisctl, "-d", tree, "enmod", "proxy_fcgi"])
    assert r.rc == 0, r
    assert r.stdout == ("Considering dependency proxy for proxy_fcgi:\n"
                        "Enabling module proxy.\n"
                        "Enabling module proxy_fcgi.\n"
                        "To activate the new configuration, you need to run:\n"
                        f"  relaisctl -d {tree} restart\n")
    assert r.stderr == ""
    enabled = tree / "mods-enabled"
    assert os.readlink(enabled / "proxy.load") == "../mods-available/proxy.load"
    assert os.readlink(enabled / "proxy.conf") == "../mods-available/proxy.conf"
    assert os.readlink(enabled / "proxy_fcgi.load") == "../mods-available/proxy_fcgi.load"
    assert not (enabled / "proxy_fcgi.conf").exists()      # there is none available

    r = run([relaisctl, "-d", tree, "enmod", "proxy_fcgi"])
    assert (r.rc, r.stdout) == (0, "Considering dependency proxy for proxy_fcgi:\n"
                                   "Module proxy already enabled\n"
                                   "Module proxy_fcgi already enabled\n")

    r = run([relaisctl, "-d", tree, "dismod", "proxy"])
    assert r.rc == 1
    assert r.stderr == ("ERROR: The following modules depend on proxy and need to be "
                        "disabled first: proxy_fcgi\n")
    assert (enabled / "proxy.load").is_symlink()


@needs_tree
def test_enmod_conflict(relaisctl, tmp_path):
    tree = copy_tree(tmp_path / "apache2")
    assert (tree / "mods-enabled" / "mpm_event.load").exists()
    r = run([relaisctl, "-d", tree, "enmod", "mpm_prefork"])
    assert r.rc == 1
    assert r.stdout == ("Considering conflict mpm_event for mpm_prefork:\n"
                        "Considering conflict mpm_worker for mpm_prefork:\n")
    assert r.stderr == ("ERROR: Module mpm_event is enabled - cannot proceed due to conflicts. "
                        "It needs to be disabled first!\n")
    assert not (tree / "mods-enabled" / "mpm_prefork.load").exists()


@needs_tree
def test_quiet_errors_and_exit_codes(relaisctl, tmp_path):
    tree = copy_tree(tmp_path / "apache2")
    ctl = [relaisctl, "-d", tree]
    # -q keeps "Enabling module", drops the hint (as a2enmod)
    r = run(ctl + ["-q", "enmod", "rewrite"])
    assert (r.rc, r.stdout, r.stderr) == (0, "Enabling module rewrite.\n", "")
    r = run(ctl + ["enmod", "rewrite", "-q"])
    assert (r.rc, r.stdout, r.stderr) == (0, "", "")
    r = run(ctl + ["enmod", "rewrite"])
    assert (r.rc, r.stdout) == (0, "Module rewrite already enabled\n")
    r = run(ctl + ["enmod", "foo"])
    assert (r.rc, r.stdout, r.stderr) == (1, "", "ERROR: Module foo does not exist!\n")
    r = run(ctl + ["enmod", "foo*"])
    assert (r.rc, r.stderr) == (1, "ERROR: No module found matching foo*!\n")
    r = run(ctl + ["enmod", "-x", "rewrite"])
    assert (r.rc, r.stderr) == (2, "Unknown option: x\n")
    r = run(ctl + ["dismod", "rewrite"])
    assert r.rc == 0 and r.stdout.startswith("Module rewrite disabled.\n")
    assert not (tree / "mods-enabled" / "rewrite.load").exists()
    r = run(ctl + ["dismod", "rewrite"])
    assert (r.rc, r.stdout) == (0, "Module rewrite already disabled\n")
    # an essential module asks first; -f does not
    r = run(ctl + ["dismod", "dir"], input="no\n")
    assert r.rc == 1 and r.stdout.endswith("retry by passing '-f': Aborting\n")
    assert (tree / "mods-enabled" / "dir.load").is_symlink()
    r = run(ctl + ["dismod", "-f", "dir"])
    assert r.rc == 0 and not (tree / "mods-enabled" / "dir.load").exists()


@needs_tree
def test_sites_and_confs(relaisctl, tmp_path):
    tree = copy_tree(tmp_path / "apache2")
    ctl = [relaisctl, "-d", tree]
    r = run(ctl + ["ensite", "default-ssl"])
    assert r.rc == 0
    assert r.stdout == ("Enabling site default-ssl.\n"
                        "To activate the new configuration, you need to run:\n"
                        f"  relaisctl -d {tree} graceful\n")
    assert os.readlink(tree / "sites-enabled/default-ssl.conf") == \
        "../sites-available/default-ssl.conf"
    r = run(ctl + ["dissite", "000-default", "default-ssl"])
    assert r.rc == 0
    assert r.stdout.startswith("Site 000-default disabled.\nSite default-ssl disabled.\n")
    assert list((tree / "sites-enabled").iterdir()) == []
    r = run(ctl + ["enconf", "php8.2-fpm"]) if (tree / "conf-available/php8.2-fpm.conf").exists() \
        else run(ctl + ["enconf", "javascript-common"])
    assert r.rc == 0 and r.stdout.startswith("Enabling conf ")
    r = run(ctl + ["disconf", "security"])
    assert (r.rc, r.stdout.splitlines()[0]) == (0, "Conf security disabled.")
    # the tree from $APACHE_CONFDIR when there is no -d
    r = run([relaisctl, "ensite", "000-default"], env={"APACHE_CONFDIR": str(tree)})
    assert r.rc == 0 and (tree / "sites-enabled/000-default.conf").is_symlink()


A2_SEQUENCE = [
    ("a2enmod", "enmod", ["proxy_fcgi"]),
    ("a2enmod", "enmod", ["proxy_fcgi"]),
    ("a2enmod", "enmod", ["-q", "rewrite"]),
    ("a2enmod", "enmod", ["nope"]),
    ("a2enmod", "enmod", ["nope*"]),
    ("a2enmod", "enmod", ["mpm_prefork"]),
    ("a2enmod", "enmod", ["-x"]),
    ("a2dismod", "dismod", ["proxy"]),
    ("a2dismod", "dismod", ["-q", "proxy_fcgi"]),
    ("a2dismod", "dismod", ["proxy"]),
    ("a2dismod", "dismod", ["proxy"]),
    ("a2dismod", "dismod", ["nope"]),
    ("a2enmod", "enmod", ["proxy_h*"]),
    ("a2enmod", "enmod", ["ssl", "headers.load"]),
    ("a2dismod", "dismod", ["proxy*"]),
    ("a2dismod", "dismod", ["-f", "dir"]),
    ("a2enconf", "enconf", ["charset"]),
    ("a2disconf", "disconf", ["charset", "security"]),
    ("a2disconf", "disconf", ["charset"]),
    ("a2ensite", "ensite", ["default-ssl"]),
    ("a2dissite", "dissite", ["000-default", "default-ssl"]),
    ("a2dissite", "dissite", ["000-default"]),
]


@needs_tree
@needs_a2enmod
def test_same_as_a2enmod(relaisctl, tmp_path):
    """Each step on two copies: Debian's a2enmod & co. on one, relaisctl on
    the other; stdout, stderr, exit code and the links must match (the hint
    names relaisctl where a2enmod names the service)."""
    theirs, ours = copy_tree(tmp_path / "theirs"), copy_tree(tmp_path / "ours")
    state = tmp_path / "state"
    state.mkdir()
    init = os.readlink("/proc/1/exe") if os.access("/proc/1/exe", os.R_OK) else ""
    service = "systemctl {} apache2" if "systemd" in init else "service apache2 {}"
    for tool, action, args in A2_SEQUENCE:
        a = run([f"/usr/sbin/{tool}"] + args,
                env={"APACHE_CONFDIR": str(theirs), "APACHE_STATE_DIRECTORY": str(state)})
        b = run([relaisctl, "-d", ours, action] + args)
        b_out = (b.stdout.replace(f"  relaisctl -d {ours} restart", "  " + service.format("restart"))
                 .replace(f"  relaisctl -d {ours} graceful", "  " + service.format("reload"))
                 .replace(str(ours), str(theirs)))
        what = f"{tool} {' '.join(args)}"
        assert (b.rc, b_out, b.stderr.replace(str(ours), str(theirs))) == \
            (a.rc, a.stdout, a.stderr), what
        assert links_of(ours) == links_of(theirs), what


# --------------------------------------------------------------------------
# apache2ctl: a copy of the tree on a free port, everything in tmp_path



class CtlTree(relais.Daemon):
    """relaisd driven through relaisctl -d <tree>: the tree is a copy of
    Debian's whose envvars points the run, lock and log directories and the
    PidFile into the copy, whose Listen and <VirtualHost> use a free port
    and whose DocumentRoot is <copy>/htdocs."""

    name = "relaisd"

    def __init__(self, prefix, ctl):
        super().__init__(prefix, ctl)
        self.tree = copy_tree(self.prefix / "apache2")
        self.port = relais.free_port()
        self.ports = [self.port]
        self.docroot = self.prefix / "htdocs"
        self.docroot.mkdir()
        (self.docroot / "index.html").write_text("hello from the copy\n")
        self.pidfile = self.prefix / "run" / "apache2.pid"
        self.error_log_path = self.prefix / "log" / "error.log"
        (self.prefix / "log").mkdir()
        self._edit("envvars", [
            (r"(?m)^export APACHE_PID_FILE=.*$", f"export APACHE_PID_FILE={self.pidfile}"),
            (r"(?m)^export APACHE_RUN_DIR=.*$", f"export APACHE_RUN_DIR={self.prefix}/run"),
            (r"(?m)^export APACHE_LOCK_DIR=.*$", f"export APACHE_LOCK_DIR={self.prefix}/lock"),
            (r"(?m)^export APACHE_LOG_DIR=.*$", f"export APACHE_LOG_DIR={self.prefix}/log")])
        self._edit("ports.conf", [(r"(?m)^Listen 80$", f"Listen 127.0.0.1:{self.port}")])
        self._edit("sites-available/000-default.conf", [
            (r"\*:80>", f"*:{self.port}>"), (r"/var/www/html", str(self.docroot))])
        with open(self.tree / "apache2.conf", "a") as f:
            f.write(f'<Directory "{self.docroot}">\n    Require all granted\n</Directory>\n'
                    "LogLevel notice\n")      # the restarts' AH00493/AH00494

    def _edit(self, rel, subs):
        p = self.tree / rel
        if p.is_symlink():
            target = p.resolve()
            p.unlink()
            p.write_text(target.read_text())
        text = p.read_text()
        for pattern, repl in subs:
            text, n = re.subn(pattern, repl.replace("\\", "\\\\"), text)
            assert n, f"{pattern} not in {p}"
        p.write_text(text)

    def argv(self, args):
        return [str(self.binary), "-d", str(self.tree)] + list(args)

    def marker(self):
        return str(self.tree)

    def get(self, target="/", **kw):
        return relais.request(self.port, "GET", target, **kw)

    def ctl(self, *args, timeout=relais.RUN_TIMEOUT):
        return self.run(list(args), timeout=timeout)

    def start_ctl(self):
        r = self.ctl("start")
        assert r.rc == 0, r
        pid = self.read_pidfile()
        assert pid and relais._alive(pid), self.diagnostics()
        self.pid, self.proc = pid, None
        self.wait_listening()
        return r


@pytest.fixture
def ctl_tree(request, relaisctl, tmp_path, tmp_path_factory):
    if not (DEBIAN_TREE / "apache2.conf").exists():
        pytest.skip("no Debian /etc/apache2")
    d = CtlTree(tmp_path / "ctl", relaisctl)
    relais.open_path(d.docroot, tmp_path_factory.getbasetemp().parent)
    request.node._relais_daemons = [d]
    yield d
    problems = d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def test_usage(relaisctl):
    r = run([relaisctl])
    assert r.rc == 1 and r.stderr.startswith("Usage: ")
    r = run([relaisctl, "help"])
    assert r.rc == 1 and "configtest" in r.stderr


@needs_root
def test_start_status_graceful_stop(ctl_tree):
    d = ctl_tree
    r = d.ctl("status")
    assert (r.rc, r.stdout) == (3, "relaisd is not running\n")
    r = d.ctl("--no-fpm", "configtest")
    assert r.rc == 0, r
    assert r.stderr.endswith("Syntax OK\n") and "AH00111" not in r.stderr
    d.start_ctl()
    assert (d.prefix / "lock").is_dir()          # apache2ctl's mkdir of APACHE_LOCK_DIR
    resp = d.get("/")
    assert (resp.status, resp.body) == (200, b"hello from the copy\n"), d.diagnostics()
    r = d.ctl("status")
    assert (r.rc, r.stdout) == (0, f"relaisd is running (pid {d.pid})\n")
    r = d.ctl("-S")
    assert r.rc == 0 and f"*:{d.port}" in r.stdout and str(d.pidfile) in r.stdout
    r = d.ctl("graceful")
    assert r.rc == 0, r
    d.wait_for_log(r"AH00493: SIGUSR1 received")
    assert d.read_pidfile() == d.pid and d.get("/").status == 200
    r = d.ctl("restart")
    assert r.rc == 0, r
    d.wait_for_log(r"AH00494: SIGHUP received")
    assert d.get("/").status == 200
    r = d.ctl("stop")
    assert r.rc == 0, r
    assert not relais._alive(d.pid)
    r = d.ctl("status")
    assert r.rc == 3
    d.pid = None


@needs_root
def test_graceful_with_a_broken_config_keeps_the_server(ctl_tree):
    d = ctl_tree
    d.start_ctl()
    with open(d.tree / "apache2.conf", "a") as f:
        f.write("NoSuchDirective on\n")
    r = d.ctl("graceful")
    assert r.rc != 0
    assert "NoSuchDirective" in r.stderr
    assert r.stdout == ("Action 'graceful' failed.\n"
                        "The relaisd error log may have more information.\n")
    assert "AH00493" not in d.error_log()           # nothing was signalled
    assert d.get("/").status == 200
    r = d.ctl("--no-fpm", "configtest")
    assert r.rc != 0 and "Action 'configtest' failed." in r.stdout


def test_relaisd_reads_envvars(tmp_path):
    """relaisd -t on the copy without APACHE_* in the environment: the
    tree's envvars supplies them (no AH00111); a variable set in the
    environment wins over the file."""
    relaisd = relais.find_binary("relaisd")
    if relaisd is None or not (DEBIAN_TREE / "apache2.conf").exists():
        pytest.skip("no relaisd or no Debian tree")
    tree = copy_tree(tmp_path / "apache2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
    env.pop("LANG", None)

    def t(*args, extra=None):
        e = dict(env, **(extra or {}))
        r = subprocess.run([str(relaisd)] + list(args), capture_output=True, text=True,
                           env=e, timeout=30)
        return relais.Result(r.returncode, r.stdout, r.stderr)

    for args in (["-d", tree, "-f", tree / "apache2.conf", "-t"],
                 ["-f", tree / "apache2.conf", "-t"]):
        r = t(*args)
        assert r.rc == 0, r.stderr
        assert "AH00111" not in r.stderr and r.stderr.endswith("Syntax OK\n")
    r = t("-d", tree, "-S")
    assert 'PidFile: "/var/run/apache2/apache2.pid"' in r.stdout, r
    r = t("-d", tree, "-S", extra={"APACHE_PID_FILE": str(tmp_path / "mine.pid")})
    assert f'PidFile: "{tmp_path}/mine.pid"' in r.stdout, r
    # APACHE_ENVVARS names another file, as apache2ctl
    other = tmp_path / "other-envvars"
    other.write_text((tree / "envvars").read_text().replace(
        "/var/run/apache2$SUFFIX/apache2.pid", "/run/elsewhere.pid"))
    r = t("-d", tree, "-S", extra={"APACHE_ENVVARS": str(other)})
    assert 'PidFile: "/run/elsewhere.pid"' in r.stdout, r
    # a broken envvars stops relaisd, as it would stop apache2ctl
    (tree / "envvars").write_text("if then (\n")
    r = t("-d", tree, "-t")
    assert r.rc == 1 and f"relaisd: could not read {tree}/envvars" in r.stderr, r


# --------------------------------------------------------------------------
# the FPM actions, against a relais-fpm on a temporary configuration

class FpmD(relais.Daemon):
    name = "relais-fpm"

    def __init__(self, prefix, binary, pools):
        super().__init__(prefix, binary)
        self.conf = self.prefix / "php-fpm.conf"
        self.pidfile = self.prefix / "fpm.pid"
        self.error_log_path = self.prefix / "fpm.log"
        self.write_config(pools)

    def write_config(self, pools):
        text = (f"[global]\npid = {self.pidfile}\nerror_log = {self.error_log_path}\n"
                "daemonize = no\n")
        for name, settings in pools.items():
            text += f"[{name}]\npm = static\npm.max_children = 1\n"
            text += "".join(f"{k} = {v}\n" for k, v in settings.items())
        self.conf.write_text(text)

    def argv(self, args):
        return [str(self.binary), "-F", "-y", str(self.conf)] + list(args)

    def marker(self):
        return str(self.conf)

    def start_and_wait(self, sock):
        self.start(args=[])
        deadline = time.monotonic() + relais.START_TIMEOUT
        while not (Path(sock).exists() and self.read_pidfile() == self.pid):
            assert self.running() and time.monotonic() < deadline, self.diagnostics()
            time.sleep(0.05)


@pytest.fixture
def make_fpm(request, tmp_path):
    binary = relais.find_binary("relais-fpm")
    if binary is None:
        pytest.skip("relais-fpm is not built")
    made = []

    def make(pools, name="fpm"):
        d = FpmD(tmp_path / name, binary, pools)
        made.append(d)
        return d
    yield make
    problems = []
    for d in made:
        problems += d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@needs_root
def test_fpm_actions(relaisctl, make_fpm):
    fpm = make_fpm({})
    sock = fpm.prefix / "www.sock"
    fpm.write_config({"www": {"user": "nobody", "listen": sock}})
    ctl = [relaisctl, "-y", fpm.conf]
    r = run(ctl + ["fpm-test"])
    assert r.rc == 0 and f"configuration file {fpm.conf} test is successful" in r.stderr, r
    r = run([relaisctl, "fpm-test", "-y", fpm.conf])        # -y after the action too
    assert r.rc == 0, r
    r = run(ctl + ["fpm-reload"])
    assert r.rc == 1 and "not running" in r.stderr
    fpm.start_and_wait(sock)
    r = run(ctl + ["fpm-reopen"])
    assert r.rc == 0, r
    fpm.wait_for_log(r"NOTICE: error log file re-opened")
    r = run(ctl + ["fpm-reload"])
    assert r.rc == 0, r
    fpm.wait_for_log(r"NOTICE: Reloading in progress")
    fpm.wait_for_log(r"(?s)Reloading in progress.*ready to handle connections")
    r = run(ctl + ["fpm-stop"])
    assert (r.rc, r.stderr) == (0, ""), r
    assert fpm.wait_exit(5) == 0
    fpm.wait_for_log(r"NOTICE: exiting, bye-bye!")
    r = run(ctl + ["fpm-stop"])
    assert (r.rc, r.stderr) == (0, "relais-fpm (no pid file) not running\n")
    fpm.write_config({"www": {"user": "nobody", "listen": sock, "pm.max_children": "0"}})
    r = run(ctl + ["fpm-test"])
    assert r.rc == 78 and "pm.max_children" in r.stderr


# --------------------------------------------------------------------------
# the cross-check

SITE = """\
<VirtualHost *:{port}>
    ServerName {name}.test
    DocumentRoot {docroot}
    <FilesMatch "\\.php$">
        SetHandler "proxy:unix:{sock}|fcgi://localhost"
    </FilesMatch>
</VirtualHost>
"""


def add_site(d, name, sock, docroot=None):
    docroot = docroot or d.docroot
    (d.tree / "sites-available" / f"{name}.conf").write_text(
        SITE.format(port=d.port, name=name, docroot=docroot, sock=sock))
    r = d.ctl("ensite", "-q", name)
    assert r.rc == 0, r
    return d.tree / "sites-enabled" / f"{name}.conf"


def warnings(r):
    return [ln for ln in r.stderr.splitlines() if ln.startswith("relaisctl: warning: ")]


@needs_root
def test_cross_check(ctl_tree, make_fpm):
    d = ctl_tree
    fpm = make_fpm({})
    good = fpm.prefix / "good.sock"
    rootonly = fpm.prefix / "rootonly.sock"
    missing = fpm.prefix / "nobody-listens.sock"
    fpm.write_config({
        "good": {"user": "www-data", "listen": good, "listen.owner": "www-data",
                 "listen.group": "www-data"},
        "rootonly": {"user": "nobody", "listen": rootonly, "listen.mode": "0660"},
    })
    os.chmod(fpm.prefix, 0o755)
    relais.open_path(fpm.prefix, d.prefix.parent)
    add_site(d, "good", good)
    conf = fpm.conf

    # everything agrees: no warning, exit 0
    r = d.ctl("-y", conf, "configtest")
    assert r.rc == 0 and warnings(r) == [], r

    site = add_site(d, "missing", missing)
    r = d.ctl("-y", conf, "configtest")
    assert r.rc == 0, r
    assert warnings(r) == [f"relaisctl: warning: {site}:5: handler socket {missing}: no pool of "
                           f"{conf} listens there"]
    r = d.ctl("-W", "-y", conf, "configtest")
    assert r.rc == 1 and "Action 'configtest' failed." in r.stdout
    d.ctl("dissite", "-q", "missing")

    site = add_site(d, "rootonly", rootonly)
    r = d.ctl("-y", conf, "configtest")
    assert r.rc == 0
    assert warnings(r) == [
        f"relaisctl: warning: {site}:5: handler socket {rootonly}: relaisd's User www-data "
        f"(Group www-data) cannot connect: pool rootonly creates it 0660 root:root "
        f"(listen.owner, listen.group, listen.mode)"]
    # an ACL naming the web server's user settles it
    fpm.write_config({
        "good": {"user": "www-data", "listen": good, "listen.owner": "www-data",
                 "listen.group": "www-data"},
        "rootonly": {"user": "nobody", "listen": rootonly, "listen.acl_users": "www-data"},
    })
    r = d.ctl("-y", conf, "configtest")
    assert (r.rc, warnings(r)) == (0, []), r
    d.ctl("dissite", "-q", "rootonly")

    # a pool user that cannot read the DocumentRoot
    private = d.prefix / "private"
    private.mkdir(mode=0o700)
    (private / "htdocs").mkdir()
    site = add_site(d, "private", good, docroot=private / "htdocs")
    r = d.ctl("-y", conf, "configtest")
    assert r.rc == 0
    assert warnings(r) == [
        f"relaisctl: warning: {site}:5: pool good (user www-data) cannot read DocumentRoot "
        f"{private}/htdocs: {private} is 0700 root:root"]
    d.ctl("dissite", "-q", "private")

    # a chroot'ed pool that cannot see the DocumentRoot
    jail = d.prefix / "jail"
    jail.mkdir()
    fpm.write_config({"good": {"user": "www-data", "listen": good, "listen.owner": "www-data",
                               "chroot": jail}})
    r = d.ctl("-y", conf, "configtest")
    site = d.tree / "sites-enabled" / "good.conf"
    assert warnings(r) == [
        f"relaisctl: warning: {site}:5: DocumentRoot {d.docroot} is outside pool good's chroot "
        f"{jail}: the pool looks for the scripts in {jail}{d.docroot}, which does not exist "
        f"(\"Primary script unknown\")"]

    # an FPM configuration that does not load is an error
    conf.write_text("[global]\nerror_log = /dev/null\n[www]\nbogus = 1\n")
    r = d.ctl("-y", conf, "configtest")
    assert r.rc == 1 and "unknown entry 'bogus'" in r.stderr, r


@needs_root
def test_cross_check_proxypassmatch_and_debian_conf(ctl_tree, make_fpm):
    """Debian's php8.2-fpm.conf (SetHandler at server level) and a
    ProxyPassMatch in a vhost, with proxy_fcgi enabled through relaisctl."""
    d = ctl_tree
    if not (d.tree / "conf-available/php8.2-fpm.conf").exists():
        pytest.skip("no php8.2-fpm.conf in Debian's tree")
    fpm = make_fpm({})
    sock = fpm.prefix / "a.sock"
    fpm.write_config({"a": {"user": "www-data", "listen": sock, "listen.owner": "www-data"}})
    for args in (["enmod", "-q", "proxy_fcgi"], ["dismod", "-q", "-f", "status"],
                 ["enconf", "-q", "php8.2-fpm"]):
        assert d.ctl(*args).rc == 0
    site = d.tree / "sites-available" / "pp.conf"
    site.write_text(f"<VirtualHost *:{d.port}>\n    ServerName pp.test\n"
                    f"    DocumentRoot {d.docroot}\n"
                    f"    ProxyPassMatch \"^/(.*\\.php)$\" \"unix:{sock}|fcgi://localhost"
                    f"{d.docroot}/$1\"\n</VirtualHost>\n")
    assert d.ctl("ensite", "-q", "pp").rc == 0
    r = d.ctl("-y", fpm.conf, "configtest")
    assert r.rc == 0, r
    debian = d.tree / "conf-enabled" / "php8.2-fpm.conf"
    w = warnings(r)
    assert len(w) == 1, r.stderr
    assert re.fullmatch(rf"relaisctl: warning: {re.escape(str(debian))}:\d+: handler socket "
                        rf"/run/php/php8.2-fpm.sock: no pool of {re.escape(str(fpm.conf))} "
                        rf"listens there", w[0]), w
