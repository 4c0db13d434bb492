"""The tutorial "Apache in event mode with PHP-FPM, one pool per user",
step by step, with relais (examples/tutorial/README.md).

As root, in a temporary prefix: copies of Debian's /etc/apache2 and
/etc/php/8.2/fpm (ports, run, log and socket paths rewritten into the
prefix, nothing else), two users whose homes are made with umask 027 as the
tutorial's /etc/skel set-up makes them, www-data in each user's group, the
tutorial's files from examples/tutorial (myuser1 renamed after each user,
the sockets in the prefix), enabled with relaisctl. Then relais-fpm on the
FPM tree and relaisd through relaisctl, and the checks: each vhost serves
its static files and its PHP as its own user, logs in its own files in the
combined format, each user's PHP cannot read the other's files, and adding
the second user with a graceful reload of both daemons loses no request
of the first one's steady stream. The users and their homes are removed at
the end, whatever happens.

Run:  RELAIS_BUILD=<build dir> /usr/bin/python3 -m pytest -q tests/e2e/test_tutorial.py
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import relais
from test_relaisctl import CtlTree, run

TUTORIAL = relais.REPO / "examples" / "tutorial"
FPM_TREE = Path("/etc/php/8.2/fpm")
USERS = ("rltut1", "rltut2")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (users, pools as users)"),
    pytest.mark.skipif(not Path("/etc/apache2/apache2.conf").exists(), reason="no /etc/apache2"),
    pytest.mark.skipif(not (FPM_TREE / "php-fpm.conf").exists(), reason="no /etc/php/8.2/fpm"),
]

INFO_PHP = """<?php
header('Content-Type: text/plain');
$other = $_GET['other'] ?? '';
$secret = @file_get_contents("/home/$other/public_html/secret.txt");
echo "euid=", posix_geteuid(), "\\n";
echo "user=", posix_getpwuid(posix_geteuid())['name'], "\\n";
echo "sapi=", php_sapi_name(), "\\n";
echo "other=", $secret === false ? "denied" : "read:" . trim($secret), "\\n";
echo "own=", trim(file_get_contents(__DIR__ . '/secret.txt')), "\\n";
"""


def sh(*cmd, check=True):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))}: rc {r.returncode}\n{r.stdout}{r.stderr}")
    return r


def drop_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    sh("pkill", "-KILL", "-u", name, check=False)     # only processes of our test users
    sh("userdel", "-r", name, check=False)


@pytest.fixture
def users():
    """The two users, as the tutorial creates them: homes with umask 027
    (/etc/skel and UMASK in login.defs), public_html, www-data in the
    user's group."""
    for u in USERS:
        drop_user(u)
    made = []
    try:
        for u in USERS:
            sh("useradd", "-m", "-K", "UMASK=027", "-s", "/usr/sbin/nologin", u)
            made.append(u)
            sh("usermod", "-a", "-G", u, "www-data")
            pw = pwd.getpwnam(u)
            home = Path(pw.pw_dir)
            assert (home.stat().st_mode & 0o777) == 0o750, oct(home.stat().st_mode)
            html = home / "public_html"
            files = {"index.html": f"static page of {u}\n", "info.php": INFO_PHP,
                     "secret.txt": f"secret of {u}\n"}
            html.mkdir(mode=0o750)
            for name, text in files.items():
                (html / name).write_text(text)
                os.chmod(html / name, 0o640)
            for p in [html] + [html / n for n in files]:
                os.chown(p, pw.pw_uid, pw.pw_gid)
        yield USERS
    finally:
        for u in made:
            sh("gpasswd", "-d", "www-data", u, check=False)
            drop_user(u)


class Fpm(relais.Daemon):
    """relais-fpm on the copy of Debian's FPM tree, in the foreground."""

    name = "relais-fpm"

    def __init__(self, prefix, binary):
        super().__init__(prefix, binary)
        self.tree = self.prefix / "php"
        shutil.copytree(FPM_TREE, self.tree, symlinks=True)
        self.run_dir = self.prefix / "run"
        self.run_dir.mkdir(exist_ok=True)
        self.log_dir = self.prefix / "log"
        self.log_dir.mkdir(exist_ok=True)
        self.pidfile = self.run_dir / "php8.2-fpm.pid"
        self.error_log_path = self.log_dir / "php8.2-fpm.log"
        conf = self.tree / "php-fpm.conf"
        text = conf.read_text()
        for pattern, repl in ((r"(?m)^pid = .*$", f"pid = {self.pidfile}"),
                              (r"(?m)^error_log = .*$", f"error_log = {self.error_log_path}"),
                              (r"(?m)^include=.*$", f"include={self.tree}/pool.d/*.conf")):
            text, n = re.subn(pattern, repl, text)
            assert n == 1, pattern
        conf.write_text(text)
        www = self.tree / "pool.d" / "www.conf"
        www.write_text(www.read_text().replace("/run/php/", f"{self.run_dir}/"))

    def argv(self, args):
        return [str(self.binary), "-F", "-y", str(self.tree / "php-fpm.conf")] + list(args)

    def marker(self):
        return str(self.tree)

    def wait_socket(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not Path(path).is_socket():
            assert time.monotonic() < deadline, self.diagnostics()
            assert self.running(), self.diagnostics()
            time.sleep(0.05)


def tutorial_file(rel, user, run_dir, port):
    """One of the tutorial's files for <user>: myuser1 renamed, sockets in
    <run_dir>, port 80 the test's."""
    text = (TUTORIAL / rel).read_text()
    return (text.replace("myuser1", user).replace("/run/php/", f"{run_dir}/")
            .replace("*:80>", f"*:{port}>"))


def add_user_site(tree, fpm, user, port):
    (fpm.tree / "pool.d" / f"{user}.conf").write_text(
        tutorial_file("php/pool.d/myuser1.conf", user, fpm.run_dir, port))
    (tree / "sites-available" / f"{user}.conf").write_text(
        tutorial_file("apache2/sites-available/myuser1.conf", user, fpm.run_dir, port))


def info(port, user, other):
    r = relais.request(port, "GET", f"/info.php?other={other}", host=f"{user}.example.com",
                       timeout=10)
    assert r.status == 200, (r.status, r.body[:500])
    return dict(line.split("=", 1) for line in r.text.splitlines())


def stop_both(relaisctl, web, fpm):
    """relaisctl stop, then SIGQUIT to relais-fpm (a graceful stop that must
    end with 0); fails the test on crashes, leftovers or sanitizer
    reports."""
    problems = []
    if web.pid and relais._alive(web.pid):
        run([relaisctl, "-d", web.tree, "stop"])
        problems += web.teardown()
    if fpm.running():
        rc = fpm.stop(sig=signal.SIGQUIT)
        if rc != 0:
            problems.append(f"relais-fpm exited {rc}\n{fpm.diagnostics()}")
    problems += fpm.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


COMBINED = re.compile(r'^127\.0\.0\.1 - - \[[^\]]+\] "GET (\S+) HTTP/1\.1" (\d{3}) \d+ "[^"]*" "[^"]*"$')


def test_tutorial_two_users(users, tmp_path, tmp_path_factory):
    relaisctl = relais.find_binary("relaisctl")
    fpm_binary = relais.find_binary("relais-fpm")
    if relaisctl is None or fpm_binary is None:
        pytest.skip("relaisctl or relais-fpm is not built")
    web = CtlTree(tmp_path / "web", relaisctl)
    fpm = Fpm(tmp_path / "fpm", fpm_binary)
    relais.open_path(fpm.run_dir, tmp_path_factory.getbasetemp().parent)
    tree, port = web.tree, web.port
    try:
        # the tutorial's server-wide files, then its modules, confs and site
        for rel in ("conf-available/fqdn.conf", "conf-available/php7.0-fpm.conf",
                    "mods-available/fastcgi.load", "mods-available/fastcgi.conf"):
            (tree / rel).write_text(tutorial_file("apache2/" + rel, "", fpm.run_dir, port))
        ctl = [relaisctl, "-d", tree]
        for step in (["enmod", "actions", "fastcgi", "alias"], ["enconf", "fqdn", "php7.0-fpm"]):
            r = run(ctl + step)
            assert r.rc == 0, r
        add_user_site(tree, fpm, USERS[0], port)
        r = run(ctl + ["ensite", USERS[0]])
        assert r.rc == 0 and f"Enabling site {USERS[0]}." in r.stdout, r

        fpm.start(args=(), wait=False)
        fpm.wait_socket(fpm.run_dir / f"php8.2-fpm-{USERS[0]}.sock")
        r = run(ctl + ["configtest", "-y", fpm.tree / "php-fpm.conf"])
        assert r.rc == 0 and "Syntax OK" in r.stderr + r.stdout, r
        web.start_ctl()

        u1, u2 = USERS
        uid1 = pwd.getpwnam(u1).pw_uid
        r = relais.request(port, "GET", "/", host=f"{u1}.example.com")
        assert r.status == 200 and r.text == f"static page of {u1}\n", (r.status, r.body[:300])
        got = info(port, u1, u2)
        assert got == {"euid": str(uid1), "user": u1, "sapi": "fpm-fcgi", "other": "denied",
                       "own": f"secret of {u1}"}, got

        # the second user, added while the first one's site is busy
        add_user_site(tree, fpm, u2, port)
        assert run(ctl + ["ensite", u2]).rc == 0
        stop, failures, served = threading.Event(), [], [0]

        def stream():
            while not stop.is_set():
                try:
                    r = relais.request(port, "GET", "/info.php", host=f"{u1}.example.com",
                                       timeout=10)
                    if r.status != 200 or f"user={u1}" not in r.text:
                        failures.append((r.status, r.body[:200]))
                    served[0] += 1
                except Exception as e:          # a refused or reset connection
                    failures.append(repr(e))

        t = threading.Thread(target=stream)
        t.start()
        try:
            time.sleep(0.5)
            fpm.signal(signal.SIGUSR2)            # as relaisctl fpm-reload does
            r = run(ctl + ["graceful"])
            assert r.rc == 0, r
            deadline = time.monotonic() + 15
            while not Path(fpm.run_dir / f"php8.2-fpm-{u2}.sock").is_socket():
                assert time.monotonic() < deadline, fpm.diagnostics()
                time.sleep(0.05)
            deadline = time.monotonic() + 15
            while relais.request(port, "GET", "/", host=f"{u2}.example.com").status != 200:
                assert time.monotonic() < deadline, web.diagnostics()
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            stop.set()
            t.join(30)
        assert served[0] > 10 and not failures, (served[0], failures[:5])

        uid2 = pwd.getpwnam(u2).pw_uid
        r = relais.request(port, "GET", "/", host=f"{u2}.example.com")
        assert r.status == 200 and r.text == f"static page of {u2}\n"
        assert info(port, u2, u1) == {"euid": str(uid2), "user": u2, "sapi": "fpm-fcgi",
                                      "other": "denied", "own": f"secret of {u2}"}
        assert info(port, u1, u2)["other"] == "denied"

        # each vhost logs into its own files, in the combined format
        for u in USERS:
            log = web.prefix / "log" / f"{u}_access.log"
            deadline = time.monotonic() + 5
            while not (log.exists() and "/info.php" in log.read_text()):
                assert time.monotonic() < deadline, f"{log} lacks /info.php"
                time.sleep(0.1)
            lines = log.read_text().splitlines()
            assert lines and all(COMBINED.match(line) for line in lines), lines[:5]
            assert (web.prefix / "log" / f"{u}_error.log").exists()
        # the first user's stream went to its own log only
        log1 = (web.prefix / "log" / f"{u1}_access.log").read_text().splitlines()
        log2 = (web.prefix / "log" / f"{u2}_access.log").read_text().splitlines()
        assert sum(1 for line in log1 if '"GET /info.php HTTP' in line) >= served[0]
        assert not any('"GET /info.php HTTP' in line for line in log2), log2
    finally:
        stop_both(relaisctl, web, fpm)


def test_debian_trees_serve_php(tmp_path, tmp_path_factory):
    """Debian's stock trees, as a newcomer has them after `apt install
    apache2 php8.2-fpm`: Apache's with proxy_fcgi and conf-available/
    php8.2-fpm.conf enabled (a2enmod proxy_fcgi setenvif; a2enconf
    php8.2-fpm, done with relaisctl), php-fpm's with its www pool. Only
    ports and paths are rewritten; relais-fpm and relaisd serve a PHP page
    of the default site, through the www pool, as www-data."""
    relaisctl = relais.find_binary("relaisctl")
    fpm_binary = relais.find_binary("relais-fpm")
    if relaisctl is None or fpm_binary is None:
        pytest.skip("relaisctl or relais-fpm is not built")
    if not (Path("/etc/apache2/conf-available/php8.2-fpm.conf")).exists():
        pytest.skip("no conf-available/php8.2-fpm.conf")
    web = CtlTree(tmp_path / "web", relaisctl)
    fpm = Fpm(tmp_path / "fpm", fpm_binary)
    relais.open_path(fpm.run_dir, tmp_path_factory.getbasetemp().parent)
    tree, port = web.tree, web.port
    conf = tree / "conf-available" / "php8.2-fpm.conf"
    conf.write_text(conf.read_text().replace("/run/php/", f"{fpm.run_dir}/"))
    (web.docroot / "index.php").write_text(
        "<?php echo php_sapi_name(), ' ', posix_getpwuid(posix_geteuid())['name'], ' ',"
        " $_SERVER['SCRIPT_FILENAME'], ' ', getenv('HTTP_AUTHORIZATION') ?: '-';\n")
    os.chmod(web.docroot / "index.php", 0o644)
    try:
        ctl = [relaisctl, "-d", tree]
        r = run(ctl + ["enmod", "proxy_fcgi", "setenvif"])
        assert r.rc == 0, r
        r = run(ctl + ["enconf", "php8.2-fpm"])
        assert r.rc == 0 and "Enabling conf php8.2-fpm." in r.stdout, r
        fpm.start(args=(), wait=False)
        fpm.wait_socket(fpm.run_dir / "php8.2-fpm.sock")
        web.start_ctl()
        r = relais.request(port, "GET", "/index.php", headers={"Authorization": "Basic eDp5"})
        assert r.status == 200, (r.status, r.body[:300], web.diagnostics())
        assert r.text == f"fpm-fcgi www-data {web.docroot}/index.php Basic eDp5", r.text
        assert relais.request(port, "GET", "/index.phps").status == 403
    finally:
        stop_both(relaisctl, web, fpm)
