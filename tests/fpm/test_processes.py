"""More of the FPM's processes and protocol: FCGI_GET_VALUES, the slowlog,
chroot, and (relais-fpm only) a pool leader that dies and is replaced.

Each test runs against relais-fpm, and against php-fpm 8.2 with
FPM_REFERENCE=1 where the behaviour is php-fpm's too."""

import os
import re
import signal
import struct
import time

import pytest

import fpmlib
from fpmlib import _nv, _record, wait_until

IS_ROOT = os.geteuid() == 0


def get_values(addr, names):
    """Sends FCGI_GET_VALUES for <names>; returns {name: value} of the
    GET_VALUES_RESULT."""
    with fpmlib.fcgi_connect(addr) as s:
        s.sendall(_record(9, 0, b"".join(_nv(n, "") for n in names)))
        s.settimeout(5)
        data = b""
        while len(data) < 8:
            chunk = s.recv(4096)
            assert chunk, "connection closed before GET_VALUES_RESULT"
            data += chunk
        _, type_, rid, clen, plen, _ = struct.unpack(">BBHHBB", data[:8])
        while len(data) < 8 + clen + plen:
            chunk = s.recv(4096)
            assert chunk
            data += chunk
    assert (type_, rid) == (10, 0), (type_, rid)
    body, out = data[8:8 + clen], {}
    while body:
        nl, vl = body[0], body[1]        # short names and values only here
        out[body[2:2 + nl].decode()] = body[2 + nl:2 + nl + vl].decode()
        body = body[2 + nl + vl:]
    return out


def test_get_values(make_fpm, is_php_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 3})
    fpm.start()
    got = get_values(fpm.addr, ["FCGI_MPXS_CONNS", "FCGI_MAX_CONNS", "FCGI_MAX_REQS"])
    assert got.get("FCGI_MPXS_CONNS") == "0", got
    if not is_php_fpm:
        # php-fpm knows the names but leaves their values unset: relais-fpm
        # gives pm.max_children, so a front end can size its kept connections
        assert got == {"FCGI_MPXS_CONNS": "0", "FCGI_MAX_CONNS": "3", "FCGI_MAX_REQS": "3"}, got


SLOW = """<?php
function inner($n) { usleep(2500000); return $n; }
function outer() { return inner(7); }
echo outer();
"""


def test_slowlog(make_fpm, is_php_fpm):
    """request_slowlog_timeout: the warning in the error log and the PHP
    backtrace in the slowlog, php-fpm's format; the request completes
    (relais-fpm reads the backtrace without stopping the child)."""
    if is_php_fpm and not IS_ROOT:
        pytest.skip("php-fpm's slowlog ptraces the child: root only here")
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2,
                             "request_slowlog_timeout": "1s",
                             "slowlog": None})
    for p in fpm.pools.values():
        p.settings["slowlog"] = str(fpm.log_dir / "slow.log")
    path = fpm.script("slow.php", SLOW)
    fpm.start()
    r = fpm.request("slow.php")
    assert r.status == 200 and r.body == b"7", r
    lines = wait_until(lambda: fpm.log_lines(r"executing too slow"), what="slowlog warning")
    assert re.search(r"WARNING: \[pool www\] child \d+, script '%s' \(request: \"GET "
                     r"/slow\.php\"\) executing too slow \(\d+\.\d+ sec\), logging"
                     % re.escape(str(path)), lines[0]), lines
    slow = wait_until(lambda: (fpm.log_dir / "slow.log").exists()
                      and "outer()" in (fpm.log_dir / "slow.log").read_text()
                      and (fpm.log_dir / "slow.log").read_text(), what="the slowlog")
    assert re.search(r"\n\[\d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d\]  \[pool www\] pid \d+\n"
                     r"script_filename = %s\n" % re.escape(str(path)), slow), slow
    frames = re.findall(r"(?m)^\[0x[0-9a-f]{16}\] (\S+) (\S+):(\d+)$", slow)
    assert [f[0] for f in frames] == ["usleep()", "inner()", "outer()"], slow
    assert [int(f[2]) for f in frames] == [2, 3, 4], slow


def test_chroot(make_fpm, tmp_path):
    """chroot: the pool's PHP sees only its jail; SCRIPT_FILENAME is the
    path inside it."""
    if not IS_ROOT:
        pytest.skip("chroot needs root")
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1})
    jail = fpm.prefix / "jail"
    fpm.write("jail/www/in.php", "<?php echo getcwd(), ' ', file_exists('/etc/passwd') ? 'y' : 'n',"
              " ' ', posix_geteuid(), ' ', file_get_contents('/www/data.txt');\n")
    fpm.write("jail/www/data.txt", "inside")
    for p in fpm.pools.values():
        p.settings["chroot"] = str(jail)
        p.settings["chdir"] = "/www"
    fpm.start()
    params = fpmlib.php_params("/www/in.php", "/in.php", docroot="/www")
    r = fpmlib.fcgi_request(fpm.addr, params)
    uid = fpmlib.pwd.getpwnam("www-data").pw_uid
    assert r.status == 200 and r.body == f"/www n {uid} inside".encode(), r


def test_leader_dies_and_is_replaced(make_fpm, relais_only):
    """relais-fpm's pool leader (the process that became the pool's user and
    started PHP) killed: the children keep serving, the master logs it and
    starts a new leader, and children made after that come from it."""
    relais_only("php-fpm has no pool leader")
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2, "pm.max_requests": 3})
    fpm.script("pid.php", "<?php echo getmypid();\n")
    fpm.start()
    wait_until(lambda: fpm.log_lines(r"ready to handle connections"), what="ready")
    leaders = fpmlib.pool_leaders(fpm)
    assert len(leaders) == 1, leaders
    os.kill(leaders[0], signal.SIGKILL)
    wait_until(lambda: fpm.log_lines(r"\[pool www\] the pool's leader exited on signal 9 "
                                     r"\(SIGKILL\), starting a new one"), what="the warning")
    new = wait_until(lambda: [p for p in fpmlib.pool_leaders(fpm) if p != leaders[0]],
                     what="a new leader")
    # enough requests to recycle both children (pm.max_requests = 3)
    pids = set()
    for _ in range(12):
        r = fpm.request("pid.php")
        assert r.status == 200, r
        pids.add(int(r.body))
    assert len(pids) >= 3, pids
    started = fpm.log_lines(r"NOTICE: \[pool www\] child \d+ started")
    assert started, fpm.error_log()
    assert fpmlib.pool_leaders(fpm) == new


def test_children_failing_at_start_are_throttled(make_fpm, relais_only):
    """A child that cannot start (here: its chdir inside the chroot was
    removed after the start) is not respawned in a tight loop: after three
    in a row, one a second (php-fpm respawns as fast as they die)."""
    relais_only("php-fpm respawns failing children in a loop")
    if not IS_ROOT:
        pytest.skip("chroot needs root")
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2})
    fpm.write("jail/www/in.php", "<?php echo 1;\n")
    for p in fpm.pools.values():
        p.settings["chroot"] = str(fpm.prefix / "jail")
        p.settings["chdir"] = "/www"
    fpm.start()
    kids = wait_until(lambda: len(fpm.children("www")) == 2 and fpm.children("www"),
                      what="two children")
    (fpm.prefix / "jail/www/in.php").unlink()
    (fpm.prefix / "jail/www").rmdir()
    for pid in kids:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: fpm.log_lines(r"WARNING: \[pool www\] 3 children in a row failed as "
                                     r"they started: starting one a second until one lives"),
               what="the throttle warning")
    n0 = len(fpm.log_lines(r"exited with code 78"))
    time.sleep(2.5)
    n1 = len(fpm.log_lines(r"exited with code 78"))
    assert 1 <= n1 - n0 <= 4, (n0, n1)
    assert fpm.log_lines(r"failed to chdir"), fpm.error_log()
    # the directory is back: the pool recovers by itself
    fpm.write("jail/www/in.php", "<?php echo 1;\n")
    r = wait_until(lambda: fpm.children("www") and fpmlib.fcgi_request(
        fpm.addr, fpmlib.php_params("/www/in.php", "/in.php", docroot="/www")), timeout=10,
        what="a working child")
    assert r.status == 200 and r.body == b"1", r


def test_no_pcntl(make_fpm):
    """Debian's php-fpm has no pcntl; libphp8.2 has it built in: relais-fpm
    removes its functions, so that a script cannot fork or take the
    signals of the child it runs in."""
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1})
    fpm.script("pcntl.php", "<?php echo json_encode([function_exists('pcntl_fork'), "
                            "function_exists('pcntl_signal'), function_exists('pcntl_exec')]);\n")
    fpm.start()
    r = fpm.request("pcntl.php")
    assert r.status == 200 and r.body == b"[false,false,false]", r


def test_user_and_home_in_the_environment(make_fpm):
    """Started as root, php-fpm gives the pool's processes the pool user's
    USER and HOME, after clear_env (fpm_env_init_child())."""
    if not IS_ROOT:
        pytest.skip("the pool runs as another user only when started as root")
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1, "clear_env": "yes",
                             "env[KEPT]": "1"})
    fpm.script("env.php", "<?php echo json_encode([getenv('USER'), getenv('HOME'), "
                          "$_SERVER['USER'] ?? null, getenv('KEPT'), getenv('PATH')]);\n")
    fpm.start()
    r = fpm.request("env.php")
    pw = fpmlib.pwd.getpwnam("www-data")
    assert r.status == 200 and r.body == (
        '["www-data","%s","www-data","1",false]' % pw.pw_dir.replace("/", "\\/")).encode(), r


def test_not_root_ignores_user_and_group(fpm_binary, tmp_path, tmp_path_factory):
    """Started by another user than root, the pool runs as that user and
    php-fpm's two notices say why user/group are not applied."""
    import shutil
    import subprocess
    if not IS_ROOT or shutil.which("setpriv") is None:
        pytest.skip("needs root (to become nobody) and setpriv")
    prefix = tmp_path / "nb"
    prefix.mkdir()
    os.chmod(prefix, 0o777)
    fpmlib.relais.open_path(prefix, tmp_path_factory.getbasetemp().parent)
    conf = prefix / "php-fpm.conf"
    conf.write_text("[global]\npid = fpm.pid\nerror_log = fpm.log\n[nb]\nuser = www-data\n"
                    "group = www-data\nlisten = nb.sock\npm = static\npm.max_children = 1\n")
    os.chmod(conf, 0o644)
    p = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          str(fpm_binary), "-F", "-y", str(conf), "-p", str(prefix)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        log = prefix / "fpm.log"
        wait_until(lambda: log.exists() and "ready to handle connections" in log.read_text(),
                   what="the start")
        text = re.sub(r"(?m)^\[[^\]]+\] ", "", log.read_text())
        assert text.startswith(
            "NOTICE: [pool nb] 'user' directive is ignored when FPM is not running as root\n"
            "NOTICE: [pool nb] 'group' directive is ignored when FPM is not running as root\n"
            "NOTICE: fpm is running, pid %d\n" % p.pid), text
        kids = wait_until(lambda: [c for c in fpmlib.descendants(p.pid)
                                   if re.search(r"pool nb$", fpmlib.cmdline(c))], what="a child")
        assert fpmlib.uid_of(kids[0]) == fpmlib.pwd.getpwnam("nobody").pw_uid
    finally:
        os.kill(p.pid, signal.SIGQUIT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
            raise
    assert p.returncode == 0


@pytest.mark.parametrize("logging", ["1", "0"])
def test_fastcgi_logging(make_fpm, logging):
    """fastcgi.logging: PHP's messages reach the web server as FCGI_STDERR
    ("PHP message: ...") only when it is on (the default)."""
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1,
                             "php_admin_value[fastcgi.logging]": logging,
                             "php_admin_value[log_errors]": "1",
                             "php_admin_value[error_log]": None})
    fpm.script("warn.php", "<?php error_log('hello from php'); echo 'ok';\n")
    fpm.start()
    r = fpm.request("warn.php")
    assert r.status == 200 and r.body == b"ok", r
    if logging == "1":
        assert r.stderr == b"PHP message: hello from php", r
    else:
        assert r.stderr == b"", r


def test_access_log_response_headers(make_fpm):
    """access.format's %{Name}o: a header the script set; PHP's default
    Content-type is not one of them."""
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1,
                             "access.log": None,
                             "access.format": '"%{X-Test}o|%{Content-type}o|%{X-None}o|%s"'})
    for p in fpm.pools.values():
        p.settings["access.log"] = str(fpm.log_dir / "access.log")
    fpm.script("h.php", "<?php header('X-Test: v1'); echo 'x';\n")
    fpm.script("t.php", "<?php header('Content-type: text/plain'); echo 'x';\n")
    fpm.start()
    assert fpm.request("h.php").status == 200
    assert fpm.request("t.php").status == 200
    log = fpm.log_dir / "access.log"
    lines = wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 2
                       and log.read_text().splitlines(), what="two access log lines")
    assert lines == ["v1|-|-|200", "-|text/plain;charset=UTF-8|-|200"], lines
