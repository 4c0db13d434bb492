"""`make run`: scripts/run-example.sh serves examples/demo, PHP included.

The script is run as `make run` runs it (its own build dir from RELAIS_BUILD,
or the one the relaisd fixture finds), on a free port, with its logs, pid
files and php-fpm socket in a temp dir (DEMO_LOGS). PHP comes from the
build's relais-fpm (the script falls back to Debian's php-fpm 8.2 only when
relais-fpm is not built). SIGTERM to the script must leave nothing behind:
not the script, not relaisd or its workers, not relais-fpm, its pool leader
or its children.
"""

import os
import pwd
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import relais
from relais import request

SCRIPT = relais.REPO / "scripts" / "run-example.sh"
START_TIMEOUT = 20.0    # php-fpm, then relaisd (ASan builds start slower)
STOP_TIMEOUT = 15.0     # the script's SIGTERM to everything gone

pytestmark = pytest.mark.skipif(relais.find_binary("relais-fpm") is None,
                                reason="relais-fpm is not built")




def _starttime(pid):
    st = relais._stat(pid)
    return st[2] if st else None


def _tree(pid):
    """{pid: starttime} of <pid> and every process below it."""
    pids = [pid] + relais.descendants(pid)
    return {p: t for p in pids if (t := _starttime(p)) is not None}


def _read_pid(path):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Demo:
    """The script as a child of the test, in its own session."""

    def __init__(self, build, logs, port):
        self.logs, self.port = logs, port
        self.out = logs.parent / "run-example.out"
        env = dict(os.environ, PORT=str(port), DEMO_LOGS=str(logs))
        env.pop("PHP_FPM", None)
        # sanitizer reports of relaisd (an ASan build in build-test) land here
        self.san = logs.parent / "sanitizer"
        self.san.mkdir(mode=0o1777)
        os.chmod(self.san, 0o1777)
        san = f"log_path={self.san}/report"
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), san]))
        env["UBSAN_OPTIONS"] = ":".join(filter(None, [env.get("UBSAN_OPTIONS"), san]))
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen([str(SCRIPT), str(build)], env=env,
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        try:
            return self.out.read_text(errors="replace")
        except OSError:
            return ""

    def diagnostics(self):
        parts = [f"--- run-example.sh output:\n{self.output()}"]
        for name in ("error.log", "php-fpm.log", "php-fpm.stderr"):
            p = self.logs / name
            if p.exists():
                parts.append(f"--- {name}:\n{relais._tail(p.read_text(errors='replace'), 30)}")
        for p in sorted(self.san.iterdir()):
            parts.append(f"--- sanitizer {p.name}:\n{relais._tail(p.read_text(errors='replace'), 60)}")
        return "\n".join(parts)

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits for the script's "relais demo on" line: php-fpm listens and
        relaisd listens."""
        deadline = time.monotonic() + timeout
        while "relais demo on http://" not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"run-example.sh exited (rc {self.proc.returncode}) before "
                            f"serving\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                pytest.fail(f"run-example.sh not serving after {timeout} s\n{self.diagnostics()}")
            time.sleep(0.05)

    def kill_everything(self):
        """Teardown after a failure: SIGKILL to the script's session and to
        the servers' (each started with setsid), by the pids we know."""
        groups = [self.proc.pid] + [p for p in (_read_pid(self.logs / "relaisd.pid"),
                                                 _read_pid(self.logs / "php-fpm.pid")) if p]
        for g in groups:
            try:
                os.killpg(g, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture
def demo(relaisd_binary, tmp_path, tmp_path_factory, free_port):
    logs = tmp_path / "logs"
    logs.mkdir()
    relais.open_path(logs, tmp_path_factory.getbasetemp().parent)
    d = Demo(relaisd_binary.parent, logs, free_port())
    yield d
    if d.proc.poll() is None:
        d.kill_everything()


def test_demo_serves_php_and_stops_cleanly(demo):
    demo.wait_ready()
    httpd_pid = _read_pid(demo.logs / "relaisd.pid")
    fpm_pid = _read_pid(demo.logs / "php-fpm.pid")
    assert httpd_pid and fpm_pid, demo.diagnostics()

    # / is index.php, run by php-fpm's pool "demo"
    r = request(demo.port, "GET", "/", timeout=10)
    assert r.status == 200, f"{r.status} {r.body[:500]!r}\n{demo.diagnostics()}"
    assert r.headers["Content-Type"].startswith("text/html")
    body = r.text
    assert '<code id="pool">demo</code>' in body, body
    assert re.search(r"PHP SAPI</th><td><code>fpm-fcgi</code>", body), body
    m = re.search(r"PHP process id</th><td><code>(\d+)</code>", body)
    assert m, body
    php_pid = int(m.group(1))
    assert php_pid in relais.descendants(fpm_pid), "the PHP process is not one of php-fpm's"
    assert re.search(r"Process manager</th><td><code>relais-fpm: master process \(", body), body
    assert re.search(r"Runs as user</th><td><code>%s</code>" % (
        "www-data" if os.geteuid() == 0 else re.escape(pwd.getpwuid(os.geteuid()).pw_name)), body), body
    assert "<?php" not in body

    # static files next to it, the static start page, the second vhost
    r = request(demo.port, "GET", "/style.css")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
    assert r.body == (relais.REPO / "examples/demo/htdocs/style.css").read_bytes()
    r = request(demo.port, "GET", "/index.html")
    assert r.status == 200 and b"It works" in r.body
    r = request(demo.port, "GET", "/", host="docs.localhost")
    assert r.status == 200 and b"<?php" not in r.body
    assert request(demo.port, "GET", "/no-such-page").status == 404

    # the two daemons' status pages
    r = request(demo.port, "GET", "/server-status?auto")
    assert r.status == 200 and re.search(r"(?m)^Total Accesses: \d+$", r.text), r.text
    r = request(demo.port, "GET", "/fpm-status?json")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json", r.text
    assert '"pool":"demo"' in r.text and '"process manager":"static"' in r.text
    r = request(demo.port, "GET", "/fpm-ping")
    assert (r.status, r.text) == (200, "pong")
    assert re.search(r"Opcache</th><td><code>on</code>", body), body

    # every process of the demo, then SIGTERM to the script alone
    procs = {demo.proc.pid: _starttime(demo.proc.pid)}
    procs.update(_tree(httpd_pid))
    procs.update(_tree(fpm_pid))
    assert len(_tree(fpm_pid)) >= 3, "php-fpm: a master and 2 children expected"
    demo.proc.send_signal(signal.SIGTERM)
    try:
        demo.proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"run-example.sh still running {STOP_TIMEOUT} s after SIGTERM\n"
                    f"{demo.diagnostics()}")
    assert demo.proc.returncode == 143, demo.diagnostics()
    deadline = time.monotonic() + 2.0     # workers follow their masters out
    while True:
        alive = {p for p, t in procs.items() if relais._alive(p, t)}
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not alive, (f"left behind: {sorted(alive)}: "
                       + ", ".join(relais._cmdline(p) for p in sorted(alive)))
    assert "relais demo stopped" in demo.output()
    reports = sorted(demo.san.iterdir())
    assert not reports, demo.diagnostics()
