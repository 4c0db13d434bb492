"""relais-fpm -t / -tt against Debian's php-fpm8.2 -t / -tt, message for
message: the same files are given to both, each in its own copy of a
temporary directory, and their stderr (timestamps and the directory left
out), exit codes and error_log files must be the same.

Every configuration names its error_log under the temporary directory
(php-fpm's default is /var/log/php-fpm.log, and -t creates it); Debian's
own /etc/php/8.2/fpm is read in a private mount namespace where /var/log is
a tmpfs, so that neither daemon writes to the real one. Those cases, and the
ones that run a daemon as another user, need root and are skipped without.

Run:  RELAIS_BUILD=<build dir> /usr/bin/python3 -m pytest -q tests/e2e/test_fpm_conf.py
"""

import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

import relais

PHP_FPM = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
IS_ROOT = os.geteuid() == 0
TIMESTAMP = re.compile(r"^\[\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d\] ", re.M)

GLOBAL = "[global]\nerror_log = @D/fpm.log\n"
POOL = "[www]\nuser = nobody\nlisten = @D/www.sock\npm = static\npm.max_children = 2\n"
STATIC_POOL = "[{name}]\nuser = nobody\nlisten = @D/{name}.sock\npm = static\npm.max_children = 1\n"


@pytest.fixture(scope="module")
def relais_fpm():
    b = relais.find_binary("relais-fpm")
    if b is None:
        pytest.skip("relais-fpm is not built")
    if not os.access(PHP_FPM, os.X_OK):
        pytest.skip("php-fpm8.2 is not installed")
    return str(b)


def _write(d, files):
    for rel, text in files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = text.replace("@D", d)
        with open(path, "wb") as f:
            f.write(data.encode("latin-1"))


def _run(binary, base, files, args, user=None, env=None):
    """Runs <binary> <args> from a fresh copy of <files> under <base>;
    returns (rc, stderr, stdout, {log file: content}) with the copy's path
    replaced by @D and the timestamps removed."""
    d = str(base)
    os.makedirs(d)
    _write(d, files)
    cmd = [binary] + [a.replace("@D", d) for a in args]
    if user:
        os.chmod(d, 0o777)
        cmd = ["setpriv", "--reuid", user, "--regid", "nogroup", "--clear-groups"] + cmd
    e = dict(os.environ)
    e.pop("WATCHDOG_USEC", None)
    e.update(env or {})
    r = subprocess.run(cmd, capture_output=True, cwd=d, env=e, timeout=relais.RUN_TIMEOUT)

    def clean(b):
        return TIMESTAMP.sub("", b.decode("latin-1")).replace(d, "@D")

    logs = {}
    for root, _, names in os.walk(d):
        for n in names:
            if n.endswith(".log"):
                with open(os.path.join(root, n), "rb") as f:
                    logs[os.path.relpath(os.path.join(root, n), d)] = clean(f.read())
    return r.returncode, clean(r.stderr), clean(r.stdout), logs


def compare(relais_fpm, tmp_path, files, args, **kw):
    php = _run(PHP_FPM, tmp_path / "php", files, args, **kw)
    ours = _run(relais_fpm, tmp_path / "relais", files, args, **kw)
    assert ours[1] == php[1], "stderr differs"
    assert ours[0] == php[0], "exit code differs"
    assert ours[3] == php[3], "log files differ"
    return php


# name -> (files, expected exit code[, more arguments]); c.conf is the file
# given with -y.
CASES = {
    # --- accepted ---
    "static": ({"c.conf": GLOBAL + POOL}, 0),
    "dynamic-default-start": ({"c.conf": GLOBAL + POOL + "pm = dynamic\npm.max_children = 9\n"
                               "pm.min_spare_servers = 2\npm.max_spare_servers = 6\n"}, 0),
    "ondemand-status-ping": ({"c.conf": GLOBAL + POOL + "pm = ondemand\npm.process_idle_timeout = 5s\n"
                              "listen.backlog = -7\npm.status_path = /status\nping.path = /ping\n"
                              "pm.status_listen = 127.0.0.1:9011\n"}, 0),
    "values-and-arrays": ({"c.conf": GLOBAL + "log_level = notice\nemergency_restart_threshold = 10\n"
                           "emergency_restart_interval = 1m\nprocess_control_timeout = 10s\n"
                           "rlimit_core = unlimited\nsyslog.facility = local3\nsystemd_interval = 30\n"
                           + POOL + "env[PATH] = /usr/bin:/bin\nenv[TMPDIR] = /tmp/$pool\n"
                           "php_value[memory_limit] = 128M\n"
                           "php_value[error_reporting] = E_ALL & ~E_DEPRECATED & ~E_STRICT\n"
                           "php_flag[display_errors] = off\nphp_admin_flag[log_errors] = \"on\"\n"
                           "php_admin_value[error_log] = log/$pool.log\nphp_value[session.cookie_path] = x\n"
                           "request_terminate_timeout = 2h\nrequest_slowlog_timeout = 1.5m\n"
                           "slowlog = @D/$pool.slow.log\ncatch_workers_output = yes\nclear_env = no\n"
                           "security.limit_extensions = \".php  .php8\"\nprocess.dumpable = true\n"
                           "access.log = @D/access.log\naccess.format = \"%R %{mili}d %{kilo}M %C%%\"\n"
                           "access.suppress_path[] = /ping\naccess.suppress_path[] = /status\n"}, 0),
    "ini-syntax": ({"c.conf": "; a comment\n" + GLOBAL.replace("fpm.log", "\"fpm.log\"  ; x") + "\n"
                    "[\"w\" 'w']\r\nuser = 'nobody'\nlisten = \"@D/${NO_SUCH_VAR}w.sock\"\n"
                    "pm = static\npm.max_children = (1 | 2) & ~0 ^ !0\n"
                    "php_value[c] = \"C:\\path\\\"\nphp_value[E_ALL] = a$b \\$x PHP_OS\n"
                    "php_value[t] = yes\t\nphp_value[n] = none ; x\nphp_value[z] = NULL\n"
                    "\xef\xbb\xbfphp_value[bom] = 1\n"}, 0),
    "includes-and-prefix": ({"c.conf": "[global]\nerror_log = fpm.log\npid = run.pid\n"
                             "include = pool.d/*.conf\n",
                             "pool.d/a.conf": STATIC_POOL.format(name="a").replace("@D/", "")
                             + "slowlog = slow.log\naccess.log = a.log\nchdir = .\n",
                             "pool.d/b.conf": STATIC_POOL.format(name="b") + "prefix = @D/pool.d\n"
                             "listen = b.sock\n[A]\npm.max_children = 3\n",
                             "pool.d/skip.conf.off": "[x]\nfoo = 1\n"}, 0, ["-p", "@D"]),
    "quiet-log-level": ({"c.conf": GLOBAL + "log_level = warning\n" + POOL + "include = @D/*.none\n"
                         "pm = dynamic\npm.min_spare_servers = 1\npm.max_spare_servers = 2\n"}, 0),
    "long-lines": ({"c.conf": GLOBAL + "log_limit = 600\n" + POOL + "php_value[a] = " + "y" * 2100
                    + "\nphp_value[b] = " + "z" * 1990 + "\n"}, 0),
    # --- refused while reading ---
    "unknown-entry": ({"c.conf": GLOBAL + POOL + "pm.max_childs = 5\n"}, 78),
    "bad-values": ({"c.conf": GLOBAL + POOL + "request_terminate_timeout = 30x\n"}, 78),
    "bad-boolean": ({"c.conf": GLOBAL + POOL + "catch_workers_output = maybe\n"}, 78),
    "bad-pm": ({"c.conf": GLOBAL + POOL + "pm = sometimes\n"}, 78),
    "syntax-quote": ({"c.conf": GLOBAL + POOL + "php_value[x] = \"unterminated\n"}, 78),
    "syntax-equals": ({"c.conf": GLOBAL + POOL + "a = b = c\n"}, 78),
    "syntax-section": ({"c.conf": GLOBAL + "[www\n"}, 78),
    "arrays-refused": ({"c.conf": GLOBAL + POOL + "access.suppress_path[x] = rel\n"}, 78),
    "array-in-global": ({"c.conf": GLOBAL + "env[A] = 1\n" + POOL}, 78),
    "pool-in-global": ({"c.conf": GLOBAL + "pid = /run/$pool.pid\n" + POOL}, 78),
    "include-error-lines": ({"c.conf": GLOBAL + "include = @D/inc.conf\n" + POOL,
                             "inc.conf": "\n\n[www]\nnope = 1\n"}, 78),
    "include-shifts-lines": ({"c.conf": GLOBAL + "include = @D/inc.conf\n" + POOL + "nope = 1\n",
                              "inc.conf": "; four\n; lines\n; of\n; comments\n"}, 78),
    "include-loop": ({"c.conf": GLOBAL + "include = @D/loop.conf\n" + POOL,
                      "loop.conf": "include = @D/loop.conf\n"}, 78),
    # --- refused by the checks ---
    "no-pool": ({"c.conf": GLOBAL}, 78),
    "no-listen": ({"c.conf": GLOBAL + "[www]\nuser = nobody\npm = static\npm.max_children = 1\n"}, 78),
    "dynamic-spares": ({"c.conf": GLOBAL + POOL + "pm = dynamic\npm.min_spare_servers = 1\n"
                        "pm.max_spare_servers = 2\npm.start_servers = 5\n"}, 78),
    "max-children": ({"c.conf": GLOBAL + POOL + "pm.max_children = 0\n"}, 78),
    "ping-path": ({"c.conf": GLOBAL + POOL + "ping.path = ping\n"}, 78),
    "status-path": ({"c.conf": GLOBAL + POOL + "pm.status_path = /st@tus\n"}, 78),
    "same-listen": ({"c.conf": GLOBAL + POOL + "[two]\nuser = nobody\nlisten = @D/www.sock\n"
                     "pm = static\npm.max_children = 1\n"}, 78),
    "slowlog-needed": ({"c.conf": GLOBAL + POOL + "request_slowlog_timeout = 5\n"}, 78),
    "chdir-missing": ({"c.conf": GLOBAL + POOL + "chdir = /nonexistent-rl\n"}, 78),
    "access-log-dir": ({"c.conf": GLOBAL + POOL + "access.log = @D/nodir/a.log\n"}, 78),
    "access-format": ({"c.conf": GLOBAL + POOL + "access.log = @D/a.log\naccess.format = \"%{bad}d\"\n"}, 78),
    "events-mechanism": ({"c.conf": GLOBAL + "events.mechanism = kqueue\n" + POOL}, 78),
    "ondemand-poll": ({"c.conf": GLOBAL + "events.mechanism = poll\n" + POOL + "pm = ondemand\n"}, 78),
    "log-limit": ({"c.conf": GLOBAL + "log_limit = 100\n" + POOL}, 78),
    "unknown-user": ({"c.conf": GLOBAL + POOL + "user = nosuchuser-rl\n"}, 78),
    "unknown-socket-owner": ({"c.conf": GLOBAL + POOL + "listen.owner = nosuchuser-rl\n"}, 78),
}


@pytest.mark.parametrize("flag", ["-t", "-tt"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_php_fpm(relais_fpm, tmp_path, name, flag):
    files, rc, *more = CASES[name]
    php = compare(relais_fpm, tmp_path, files, [flag, "-y", "@D/c.conf"] + (more[0] if more else []))
    assert php[0] == rc, php[1]


def test_user_required_as_root(relais_fpm, tmp_path):
    if not IS_ROOT:
        pytest.skip("needs root")
    files = {"c.conf": GLOBAL + "[www]\nlisten = @D/s.sock\npm = static\npm.max_children = 1\n"}
    php = compare(relais_fpm, tmp_path / "a", files, ["-t", "-y", "@D/c.conf"])
    assert php[0] == 78 and "user has not been defined" in php[1]
    php = compare(relais_fpm, tmp_path / "b", files, ["-t", "-R", "-y", "@D/c.conf"])
    assert php[0] == 0


def test_not_root(relais_fpm):
    """As another user: no user needed, user/group/chroot/priority are not
    mentioned by -t (php-fpm only says they are ignored when it starts)."""
    if not IS_ROOT:
        pytest.skip("needs root to become nobody")
    base = tempfile.mkdtemp(prefix="rl-fpm-e2e-")      # pytest's are 0700
    try:
        os.chmod(base, 0o755)
        files = {"c.conf": GLOBAL + "[www]\nlisten = @D/s.sock\npm = static\npm.max_children = 1\n"
                 "group = nogroup\nchroot = /\nprocess.priority = 5\n"}
        php = compare(relais_fpm, pathlib.Path(base), files, ["-tt", "-y", "@D/c.conf"], user="nobody")
        assert php[0] == 0
        php = compare(relais_fpm, pathlib.Path(base) / "b", {"c.conf": "[global]\nerror_log = /root/x.log\n"},
                      ["-t", "-y", "@D/c.conf"], user="nobody")
        assert php[0] == 78 and "Permission denied" in php[1]
    finally:
        shutil.rmtree(base)


def test_command_line(relais_fpm, tmp_path):
    files = {"c.conf": GLOBAL + POOL + "php_value[d] = ${foo}\nphp_value[e] = ${bar}\n",
             "etc/php-fpm.conf": GLOBAL + POOL}
    for i, args in enumerate((["--test", "--fpm-config", "@D/c.conf"], ["-tyc.conf"],
                              ["-tt", "-d", "foo=bar", "-dbar", "-n", "-c", "/x", "-y", "c.conf"],
                              ["-tt", "-F", "-g", "cli.pid", "-p", "@D", "-y", "c.conf"],
                              ["-t", "-p", "@D"], ["-t", "-p", "/nonexistent-rl"],
                              ["-t", "-y", "@D/missing.conf"], ["-t", "-p", "@D", "-y", "@D"])):
        compare(relais_fpm, tmp_path / str(i), files, args)
    for args, rc in ((["-Z"], 64), (["-t", "-y"], 64), (["-t", "operand"], 64), (["-h"], 0)):
        php = _run(PHP_FPM, tmp_path / ("u" + args[-1]), {}, args)
        ours = _run(relais_fpm, tmp_path / ("r" + args[-1]), {}, args)
        assert ours[0] == php[0] == rc
        usage = re.compile(r"^Usage: \S+")
        assert usage.sub("Usage:", ours[2]) == usage.sub("Usage:", php[2])
        assert ours[2].startswith("Usage: relais-fpm ")
    ours = _run(relais_fpm, tmp_path / "v", {}, ["-v"])
    version = subprocess.run([PHP_FPM, "-n", "-v"], capture_output=True, text=True).stdout.split()[1]
    assert ours[0] == 0 and "relais-fpm" in ours[2] and "PHP " + version in ours[2]


def test_debian_stock_configuration(relais_fpm, tmp_path):
    """/etc/php/8.2/fpm/php-fpm.conf and its pool.d/*.conf, read as they
    are, with /var/log a tmpfs of a private mount namespace."""
    if not IS_ROOT or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare")
    if not os.path.isfile("/etc/php/8.2/fpm/php-fpm.conf"):
        pytest.skip("no /etc/php/8.2/fpm/php-fpm.conf")
    results = {}
    for who, binary in (("php", PHP_FPM), ("relais", relais_fpm)):
        for flag in ("-t", "-tt"):
            script = ("mount -t tmpfs none /var/log && %s %s; echo \"rc=$?\"; "
                      "cat /var/log/php8.2-fpm.log" % (binary, flag))
            r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                               timeout=relais.RUN_TIMEOUT)
            if r.returncode != 0 and b"rc=" not in r.stdout:
                pytest.skip("unshare -m is not allowed here: %s" % r.stderr.decode(errors="replace"))
            results[who, flag] = (TIMESTAMP.sub("", r.stderr.decode()), TIMESTAMP.sub("", r.stdout.decode()))
    for flag in ("-t", "-tt"):
        assert results["relais", flag] == results["php", flag]
    assert "configuration file /etc/php/8.2/fpm/php-fpm.conf test is successful" in results["php", "-t"][0]
    assert "rc=0" in results["php", "-t"][1]
