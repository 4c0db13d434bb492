"""The process manager: pm = static / dynamic / ondemand, pm.max_requests,
request_terminate_timeout, the signals (SIGUSR2 reload, SIGUSR1 log
reopen, SIGQUIT graceful stop, SIGTERM), the status and ping pages, and
the error_log lines php-fpm writes for each.

Requests go straight to the pool's socket (fpmlib.fcgi_request, params as
nginx sends them); the children are counted by their title ("<binary>:
pool www", relais-fpm's "pool www leader" excluded: fpmlib.pool_children).
Each test is bounded (well under 20 s) and polls with deadlines."""

import json
import os
import re
import signal
import threading
import time

import pytest

import fpmlib
from fpmlib import FcgiClosed, pool_children, wait_until

TS = r"\[\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d(?:\.\d+)?\] "
# log_level = debug: php-fpm adds "pid N, function(), line N: " (relais-fpm
# does not, a documented difference)
DBG = r"DEBUG: (?:pid \d+, \w+\(\), line \d+: )?"

PID_PHP = "<?php echo getmypid();\n"
# busy-waits: sleep() would return early when the child gets SIGQUIT
BUSY_PHP = ("<?php $end = microtime(true) + (float)$_GET['s'];\n"
            "while (microtime(true) < $end) usleep(10000);\n"
            "echo 'done ', getmypid();\n")


def _scripts(fpm):
    fpm.script("pid.php", PID_PHP)
    fpm.script("busy.php", BUSY_PHP)


def _pid_of(fpm, **kw):
    r = fpm.request("pid.php", **kw)
    assert r.status == 200 and r.body.isdigit(), r
    return int(r.body)


def _busy(fpm, seconds, out=None, timeout=15):
    """A request that keeps a child busy <seconds>; appends (response or
    exception, end time) to <out> when given."""
    try:
        r = fpm.request("busy.php", query=f"s={seconds}", timeout=timeout)
    except Exception as e:      # noqa: BLE001
        r = e
    if out is not None:
        out.append((r, time.monotonic()))
    return r


def _start_busy(fpm, n, seconds):
    out = []
    ts = [threading.Thread(target=_busy, args=(fpm, seconds, out)) for _ in range(n)]
    for t in ts:
        t.start()
    return ts, out


def _join(ts, timeout=20):
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "requests still running"


def _count(fpm, pool="www"):
    return len(pool_children(fpm, pool))


def _wait_count(fpm, want, timeout=5, pool="www"):
    """Waits until the pool has <want> children (an int, or a predicate)."""
    ok = want if callable(want) else (lambda n: n == want)
    n = [None]

    def check():
        n[0] = _count(fpm, pool)
        return ok(n[0])
    try:
        wait_until(check, timeout, what=f"{want} children")
    except AssertionError:
        raise AssertionError(f"pool {pool}: {n[0]} children, want {want}\n"
                             + fpm.diagnostics()) from None
    return n[0]


def _status(fpm, query="json", path="/status"):
    r = fpm.request("pid.php", uri=path, query=query)
    assert r.status == 200, r
    return r


# --------------------------------------------------------------------------
# start-up and pm = static

def test_static_children_and_start_log(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 3})
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 3)
    time.sleep(1.2)                 # a maintenance cycle changes nothing
    assert _count(fpm) == 3
    log = fpm.error_log()
    assert re.search(rf"^{TS}NOTICE: fpm is running, pid {fpm.pid}$", log, re.M), log
    assert re.search(rf"^{TS}NOTICE: ready to handle connections$", log, re.M), log
    assert log.index("fpm is running") < log.index("ready to handle connections")
    assert not re.search(r"ERROR|WARNING", log), log
    pids = {_pid_of(fpm) for _ in range(12)}
    assert pids <= set(pool_children(fpm)), (pids, pool_children(fpm))
    if fpmlib.IS_ROOT:
        assert {fpmlib.uid_of(p) for p in pool_children(fpm)} == {33}


def test_debug_log_child_started(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2}, log_level="debug")
    fpm.start()
    _wait_count(fpm, 2)
    kids = pool_children(fpm)
    for pid in kids:
        fpm.wait_for_log(rf"^{TS}{DBG}\[pool www\] child {pid} started$")
    fpm.stop(sig=signal.SIGTERM)
    log = fpm.error_log()
    assert re.search(rf"^{TS}NOTICE: (?:pid \d+, \w+\(\), line \d+: )?Terminating \.\.\.$",
                     log, re.M), log
    assert re.search(rf"^{TS}NOTICE: (?:pid \d+, \w+\(\), line \d+: )?exiting, bye-bye!$",
                     log, re.M), log


def test_sigterm_stops_at_once(make_fpm):
    fpm = make_fpm(global_extra="process_control_timeout = 10s")
    _scripts(fpm)
    fpm.start()
    ts, out = _start_busy(fpm, 1, 8)
    time.sleep(0.5)                 # the request runs
    t0 = time.monotonic()
    rc = fpm.stop(sig=signal.SIGTERM)
    assert time.monotonic() - t0 < 3, "SIGTERM does not wait for running requests"
    assert rc == 0, rc
    _join(ts)
    r = out[0][0]
    assert isinstance(r, (FcgiClosed, ConnectionError)), r
    fpm.wait_for_log(rf"^{TS}NOTICE: Terminating \.\.\.$")
    fpm.wait_for_log(rf"^{TS}NOTICE: exiting, bye-bye!$")


# --------------------------------------------------------------------------
# pm = dynamic

DYNAMIC = {"pm": "dynamic", "pm.max_children": 6, "pm.start_servers": 2,
           "pm.min_spare_servers": 1, "pm.max_spare_servers": 3}


def test_dynamic_spare_servers(make_fpm):
    fpm = make_fpm(settings=DYNAMIC)
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 2)                                 # pm.start_servers
    time.sleep(1.2)
    assert _count(fpm) == 2, "2 idle is within [min_spare, max_spare]: no change"

    seen = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            seen.append(_count(fpm))
            time.sleep(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        ts, out = _start_busy(fpm, 4, 4)
        # 4 busy + at least min_spare 1 idle
        _wait_count(fpm, lambda n: n >= 5, timeout=4)
        _join(ts)
        assert all(isinstance(r, fpmlib.FcgiResponse) and r.status == 200 for r, _ in out), out
        # idle ones above max_spare 3 are killed
        _wait_count(fpm, 3, timeout=6)
        time.sleep(1.2)
        assert _count(fpm) == 3
    finally:
        stop.set()
        sampler.join()
    assert max(seen) <= 6, f"more than pm.max_children: {max(seen)}"


def test_dynamic_max_children_reached(make_fpm):
    fpm = make_fpm(settings={"pm": "dynamic", "pm.max_children": 2, "pm.start_servers": 1,
                             "pm.min_spare_servers": 1, "pm.max_spare_servers": 2,
                             "pm.status_path": "/status"})
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 1)
    seen = []
    ts, out = _start_busy(fpm, 5, 1.5)
    deadline = time.monotonic() + 15
    while any(t.is_alive() for t in ts) and time.monotonic() < deadline:
        seen.append(_count(fpm))
        time.sleep(0.05)
    _join(ts)
    assert max(seen) <= 2, f"more than pm.max_children: {max(seen)}"
    assert all(isinstance(r, fpmlib.FcgiResponse) and r.status == 200 for r, _ in out), \
        "the requests beyond max_children wait in the queue, they are not refused"
    fpm.wait_for_log(rf"^{TS}WARNING: \[pool www\] server reached pm.max_children setting "
                     rf"\(2\), consider raising it$")
    st = json.loads(_status(fpm).body)
    assert st["max children reached"] >= 1, st


# --------------------------------------------------------------------------
# pm = ondemand

def test_ondemand(make_fpm):
    fpm = make_fpm(settings={"pm": "ondemand", "pm.max_children": 3,
                             "pm.process_idle_timeout": "2s"})
    _scripts(fpm)
    fpm.start()
    fpm.wait_for_log(r"ready to handle connections")
    time.sleep(0.5)
    assert _count(fpm) == 0, "ondemand starts no child"
    pid = _pid_of(fpm)
    assert pool_children(fpm) == [pid]
    assert _pid_of(fpm) == pid, "an idle child is reused"
    t0 = time.monotonic()
    _wait_count(fpm, 0, timeout=6)
    assert time.monotonic() - t0 > 1.0, "reaped before pm.process_idle_timeout"
    # php-fpm races here: a connection arriving before the master has
    # buried the reaped child finds it "idle" and spawns none (the request
    # then hangs): give the master its SIGCHLD first
    time.sleep(0.5)
    assert _pid_of(fpm) != pid, "a new child after the idle one was reaped"
    # a request that finds every child busy gets a new one (php-fpm spawns
    # on the listening socket's edge-triggered event: requests arriving in
    # the same instant may share one spawn, so they come 0.3 s apart here)
    out, ts = [], []
    for _ in range(3):
        ts.append(threading.Thread(target=_busy, args=(fpm, 2, out)))
        ts[-1].start()
        time.sleep(0.3)
    _wait_count(fpm, 3, timeout=3)
    _join(ts)
    assert len({r.body for r, _ in out}) == 3, out
    assert _count(fpm) <= 3


# --------------------------------------------------------------------------
# pm.max_requests, request_terminate_timeout

def test_max_requests_recycles(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1, "pm.max_requests": 3})
    _scripts(fpm)
    fpm.start()
    pids = [_pid_of(fpm) for _ in range(7)]
    a, b, c = pids[0], pids[3], pids[6]
    assert pids == [a, a, a, b, b, b, c], pids
    assert len({a, b, c}) == 3
    fpm.wait_for_log(rf"^{TS}NOTICE: \[pool www\] child {a} exited with code 0 after "
                     rf"[0-9.]+ seconds from start$")
    fpm.wait_for_log(rf"^{TS}NOTICE: \[pool www\] child {b} started$")
    _wait_count(fpm, 1)


def test_request_terminate_timeout(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 1,
                             "request_terminate_timeout": "1s"})
    _scripts(fpm)
    fpm.start()
    before = _pid_of(fpm)
    t0 = time.monotonic()
    with pytest.raises(FcgiClosed) as ei:
        fpm.request("busy.php", query="s=20", timeout=10)
    took = time.monotonic() - t0
    assert 0.9 < took < 4, took
    assert not ei.value.response.complete
    fpm.wait_for_log(rf"^{TS}WARNING: \[pool www\] child {before}, script "
                     rf"'{re.escape(str(fpm.docroot))}/busy\.php' \(request: \"GET "
                     rf"/busy\.php\?s=20\"\) execution timed out \([0-9.]+ sec\), terminating$")
    fpm.wait_for_log(rf"^{TS}WARNING: \[pool www\] child {before} exited on signal 15 "
                     rf"\(SIGTERM\) after [0-9.]+ seconds from start$")
    fpm.wait_for_log(rf"^{TS}NOTICE: \[pool www\] child \d+ started$")
    after = _pid_of(fpm)
    assert after != before
    for _ in range(5):
        assert _pid_of(fpm) == after


# --------------------------------------------------------------------------
# signals

def test_reload_usr2_loses_no_request(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2},
                   global_extra="process_control_timeout = 10s")
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 2)
    master, old = fpm.pid, set(pool_children(fpm))
    results, stop = [], threading.Event()

    def stream():
        while not stop.is_set():
            try:
                r = fpm.request("pid.php", timeout=10)
                results.append(r.status if r.complete else r)
            except Exception as e:      # noqa: BLE001
                results.append(e)
            time.sleep(0.01)

    streams = [threading.Thread(target=stream) for _ in range(2)]
    for t in streams:
        t.start()
    try:
        busy_ts, busy_out = _start_busy(fpm, 1, 1.5)
        time.sleep(0.5)
        n_before = len(results)
        os.kill(fpm.pid, signal.SIGUSR2)
        fpm.wait_for_log(rf"^{TS}NOTICE: Reloading in progress \.\.\.$")
        wait_until(lambda: len(re.findall(r"NOTICE: ready to handle connections",
                                          fpm.error_log())) >= 2, 10,
                   what="ready to handle connections after the reload")
        _wait_count(fpm, lambda n: n == 2 and not set(pool_children(fpm)) & old, 5)
        n_after = len(results)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in streams:
            t.join(15)
    _join(busy_ts)
    bad = [r for r in results if r != 200]
    assert not bad, f"{len(bad)} of {len(results)} requests failed: {bad[:5]}"
    assert n_before > 5 and len(results) > n_after, (n_before, n_after, len(results))
    r = busy_out[0][0]
    assert isinstance(r, fpmlib.FcgiResponse) and r.status == 200 and r.body.startswith(b"done"), \
        "the request running during the reload completes"
    assert fpm.pid == master and fpm.running(), "the master keeps its pid"


def test_usr1_reopens_log(make_fpm):
    fpm = make_fpm()
    fpm.start()
    fpm.wait_for_log(r"ready to handle connections")
    old = fpm.error_log_path.with_name("php-fpm.log.1")
    os.rename(fpm.error_log_path, old)
    os.kill(fpm.pid, signal.SIGUSR1)
    wait_until(fpm.error_log_path.exists, 5, what="a new error_log")
    fpm.wait_for_log(rf"^{TS}NOTICE: error log file re-opened$")
    assert "re-opened" not in old.read_text()
    assert fpm.running()
    _scripts(fpm)
    assert _pid_of(fpm)


def test_sigquit_waits_for_running_request(make_fpm):
    fpm = make_fpm(global_extra="process_control_timeout = 10s")
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 2)
    ts, out = _start_busy(fpm, 1, 2)
    time.sleep(0.5)
    os.kill(fpm.pid, signal.SIGQUIT)
    fpm.wait_for_log(rf"^{TS}NOTICE: Finishing \.\.\.$")
    rc = fpm.proc.wait(10)
    exited = time.monotonic()
    _join(ts)
    r, ended = out[0]
    assert isinstance(r, fpmlib.FcgiResponse) and r.status == 200, r
    assert r.body.startswith(b"done "), r
    assert exited >= ended - 0.2, "the master left before the running request ended"
    assert rc == 0
    fpm.wait_for_log(rf"^{TS}NOTICE: exiting, bye-bye!$")


# --------------------------------------------------------------------------
# status and ping

def test_status_and_ping(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2,
                             "pm.status_path": "/status", "ping.path": "/ping",
                             "ping.response": "pong"})
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 2)
    time.sleep(1.1)         # the figures are those of the last maintenance
    r = _status(fpm, query="")
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    plain = dict(re.findall(r"^([a-z ]+):\s+(.*)$", r.text, re.M))
    for k in ("pool", "process manager", "start time", "start since", "accepted conn",
              "listen queue", "max listen queue", "listen queue len", "idle processes",
              "active processes", "total processes", "max active processes",
              "max children reached", "slow requests"):
        assert k in plain, (k, r.text)
    assert plain["pool"] == "www" and plain["process manager"] == "static"
    assert int(plain["total processes"]) == 2

    for _ in range(5):
        _pid_of(fpm)
    r = _status(fpm, query="json")
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    st = json.loads(r.body)
    assert st["pool"] == "www"
    assert st["process manager"] == "static"
    assert st["accepted conn"] >= int(plain["accepted conn"]) + 5, (plain, st)
    assert st["idle processes"] + st["active processes"] == st["total processes"] == 2, st
    assert st["active processes"] >= 1, "the status request itself is active"

    full = json.loads(_status(fpm, query="json&full").body)
    procs = full["processes"]
    assert sorted(p["pid"] for p in procs) == pool_children(fpm), (procs, pool_children(fpm))
    assert any(p["request uri"].startswith("/status") and p["state"] == "Running"
               for p in procs), procs
    assert all(p["state"] in ("Idle", "Running", "Finishing", "Reading headers",
                              "Getting request informations", "Ending") for p in procs)

    r = fpm.request("pid.php", uri="/ping")
    assert r.status == 200 and r.body == b"pong", r
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers


# --------------------------------------------------------------------------
# a child dies; a TCP pool

def test_killed_child_is_replaced(make_fpm):
    fpm = make_fpm(settings={"pm": "static", "pm.max_children": 2})
    _scripts(fpm)
    fpm.start()
    _wait_count(fpm, 2)
    victim = pool_children(fpm)[0]
    os.kill(victim, signal.SIGKILL)         # one of our own processes, by pid
    fpm.wait_for_log(rf"^{TS}WARNING: \[pool www\] child {victim} exited on signal 9 "
                     rf"\(SIGKILL\) after [0-9.]+ seconds from start$")
    fpm.wait_for_log(rf"^{TS}NOTICE: \[pool www\] child \d+ started$")
    _wait_count(fpm, lambda n: n == 2 and victim not in pool_children(fpm))
    for _ in range(6):
        assert _pid_of(fpm) in pool_children(fpm)


def test_tcp_listen_and_allowed_clients(make_fpm):
    fpm = make_fpm(listen="tcp", settings={"pm": "static", "pm.max_children": 1,
                                           "listen.allowed_clients": "127.0.0.1"})
    _scripts(fpm)
    fpm.start()
    assert isinstance(fpm.addr, int)
    assert _pid_of(fpm) == pool_children(fpm)[0]
