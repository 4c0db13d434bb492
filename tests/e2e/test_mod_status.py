"""mod_status: SetHandler server-status, ?auto, the HTML page, ExtendedStatus,
the counters shared by the workers (scoreboard) across keep-alive
connections and graceful restarts.

    RELAIS_BUILD=$PWD/build-hstatus /usr/bin/python3 -m pytest -q tests/e2e/test_mod_status.py

The key set and order of ?auto are compared with Debian's Apache in
tests/interop/test_mod_status_interop.py; here the list below is Apache 2.4.71's
(event MPM, ExtendedStatus On, uptime > 0, at least one request)."""

import re
import signal
import time

from relais import open_conn

STATUS_LOCATION = """
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
"""

AUTO_KEYS = [
    "ServerVersion", "ServerMPM", "Server Built", "CurrentTime", "RestartTime",
    "ParentServerConfigGeneration", "ParentServerMPMGeneration", "ServerUptimeSeconds",
    "ServerUptime", "Load1", "Load5", "Load15", "Total Accesses", "Total kBytes",
    "Total Duration", "CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem",
    "CPULoad", "Uptime", "ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq",
    "BusyWorkers", "GracefulWorkers", "IdleWorkers", "Processes", "Stopping", "ConnsTotal",
    "ConnsAsyncWaitIO", "ConnsAsyncWriting", "ConnsAsyncKeepAlive", "ConnsAsyncClosing",
    "Scoreboard",
]
OPTIONAL = {"CPULoad"}      # only when some CPU time was used, as in Apache


def parse_auto(text):
    """(server name, [(key, value)...]) of a ?auto page."""
    lines = text.split("\n")
    assert lines[-1] == "", repr(text[-40:])
    pairs = []
    for ln in lines[1:-1]:
        k, sep, v = ln.partition(":")
        assert sep, ln
        pairs.append((k, v.strip()))
    return lines[0], pairs


def auto(d, target="/server-status?auto"):
    r = d.get(target)
    assert r.status == 200, d.diagnostics()
    assert r.headers["Content-Type"] == "text/plain; charset=ISO-8859-1"
    name, pairs = parse_auto(r.text)
    return name, dict(pairs), [k for k, _ in pairs]


def start(d, extra="", workers=2):
    d.write("htdocs/1k.bin", b"x" * 1024)
    d.write_config(extra=f"RelaisWorkers {workers}\n" + STATUS_LOCATION + extra)
    d.start()
    return d


def wait_until(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def test_counts_every_request_and_its_bytes(relaisd):
    start(relaisd)
    n = 30
    sizes = 0
    for _ in range(n):
        r = relaisd.get("/1k.bin")
        assert r.status == 200
        sizes += len(r.raw)
    # keep-alive and pipelined requests count too
    with open_conn(relaisd.port) as c:
        for _ in range(5):
            r = c.request("GET", "/1k.bin", close=False)
            sizes += len(r.raw)
    n += 5
    time.sleep(1.1)     # uptime > 0: the rates are there
    name, v, keys = auto(relaisd)
    assert name == "localhost"
    assert int(v["Total Accesses"]) >= n
    assert int(v["Total Accesses"]) <= n + 2
    assert int(v["Total kBytes"]) >= sizes // 1024, (sizes, v)
    assert int(v["Total kBytes"]) <= sizes // 1024 + 2
    assert v["ServerMPM"] == "event"
    assert v["ServerVersion"].startswith("Apache/2.4.71 ")
    assert int(v["Processes"]) == 2
    assert int(v["BusyWorkers"]) >= 1          # this request
    assert float(v["ReqPerSec"]) > 0
    assert re.fullmatch(r"[_WRSG.]+", v["Scoreboard"])
    assert len(v["Scoreboard"]) >= 4           # two slots per configured worker
    # a later look counts the first one (once its worker has logged it:
    # the client may have its answer a moment before)
    first = int(v["Total Accesses"])
    assert wait_until(lambda: int(auto(relaisd)[1]["Total Accesses"]) >= first + 1)


def test_auto_keys_in_apaches_order(relaisd):
    start(relaisd)
    for _ in range(3):
        relaisd.get("/1k.bin")
    time.sleep(1.1)
    _, v, keys = auto(relaisd)
    expected = [k for k in AUTO_KEYS if k not in OPTIONAL or k in keys]
    assert keys == expected
    for k in ("Total Accesses", "Total kBytes", "Total Duration", "Uptime", "BusyWorkers",
              "GracefulWorkers", "IdleWorkers", "Processes", "Stopping", "ConnsTotal",
              "ConnsAsyncWaitIO", "ConnsAsyncWriting", "ConnsAsyncKeepAlive",
              "ConnsAsyncClosing", "ParentServerConfigGeneration", "ServerUptimeSeconds"):
        assert re.fullmatch(r"\d+", v[k]), (k, v[k])
    # APR's %g: no leading zero (".5"), never "0.5"
    for k in ("CPUUser", "CPUSystem", "ReqPerSec", "BytesPerSec", "BytesPerReq",
              "DurationPerReq"):
        assert re.fullmatch(r"\d*\.?\d+(e[+-]\d+)?", v[k]) and not v[k].startswith("0."), v[k]
    assert re.fullmatch(r"\w+day, \d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \w+", v["CurrentTime"])
    assert v["ParentServerConfigGeneration"] == "1"
    assert v["ParentServerMPMGeneration"] == "0"


def test_html_page_has_apaches_structure(relaisd):
    start(relaisd)
    relaisd.get("/1k.bin")
    r = relaisd.get("/server-status")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=ISO-8859-1"
    h = r.text
    assert h.startswith('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"')
    assert "<title>Apache Status</title>" in h
    assert "<h1>Apache Server Status for localhost (via 127.0.0.1)</h1>" in h
    for s in ("<dt>Server Version: Apache/2.4.71", "<dt>Server MPM: event</dt>",
              "<dt>Server uptime: ", "<dt>Parent Server Config. Generation: 1</dt>",
              "<dt>Total accesses: ", " requests currently being processed, ",
              '<table rules="all" cellpadding="1%">', "<p>Scoreboard Key:<br />",
              '"<b><code>_</code></b>" Waiting for Connection',
              "<th>Srv</th><th>PID</th><th>Acc</th>",
              "<td nowrap>GET /1k.bin HTTP/1.1</td>",
              "<td nowrap>GET /server-status HTTP/1.1</td></tr>",
              "<th>Slot</th><td>Total megabytes transferred this slot</td>"):
        assert s in h, s
    assert h.endswith("</body></html>\n")
    assert re.search(r"<pre>[_WRSG.\n]+</pre>", h)
    # the Sum row of the process table counts both workers
    assert re.search(r"<tr><td>Sum</td><td>2</td><td>0</td>", h), h

    r = relaisd.get("/server-status?notable&refresh=4")
    assert r.headers["Refresh"] == "4"
    assert "<hr /><h2>Server Details</h2>" in r.text
    assert "<table border" not in r.text
    assert relaisd.get("/server-status?refresh").headers["Refresh"] == "10"

    r = relaisd.request("HEAD", "/server-status?auto")
    assert r.status == 200 and r.body == b""
    assert int(r.headers["Content-Length"]) > 500
    # only GET: anything else goes to the default handler (no such file)
    assert relaisd.request("POST", "/server-status", body=b"x").status == 404


def test_require_denies_other_clients(relaisd):
    relaisd.write_config(extra="""
<Location /server-status>
    SetHandler server-status
    Require ip 192.0.2.0/24
</Location>
<Location /status-local>
    SetHandler server-status
    Require local
</Location>
""")
    relaisd.start()
    r = relaisd.get("/server-status")
    assert r.status == 403
    assert "Apache Status" not in r.text
    assert relaisd.get("/status-local?auto").status == 200


def test_idle_keepalive_connections_are_counted(relaisd):
    start(relaisd)
    conns = []
    try:
        for _ in range(4):
            c = open_conn(relaisd.port)
            assert c.request("GET", "/1k.bin", close=False).status == 200
            conns.append(c)

        def keepalive():
            v = auto(relaisd)[1]
            return v if int(v["ConnsAsyncKeepAlive"]) == 4 else None
        v = wait_until(keepalive)
        assert v, auto(relaisd)[1]
        assert int(v["ConnsTotal"]) >= 5            # with the one asking
        # a connection in the middle of a request head is being read ("R"
        # unless its worker also answers us)
        conns[0].sendall(b"GET /1k.bin HTTP/1.1\r\n")
        v = wait_until(lambda: (lambda x: x if int(x["ConnsAsyncKeepAlive"]) == 3 else None)(
            auto(relaisd)[1]))
        assert v
    finally:
        for c in conns:
            c.close()
    v = wait_until(lambda: (lambda x: x if int(x["ConnsAsyncKeepAlive"]) == 0 and
                            int(x["ConnsTotal"]) == 1 else None)(auto(relaisd)[1]))
    assert v, auto(relaisd)[1]


def test_graceful_restart_keeps_serving_and_shows_the_new_generation(relaisd):
    start(relaisd)
    for _ in range(10):
        relaisd.get("/1k.bin")
    before = int(auto(relaisd)[1]["Total Accesses"])
    # an old worker stays busy with a request whose head is not complete
    slow = open_conn(relaisd.port)
    slow.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: localhost\r\n")
    time.sleep(0.2)
    relaisd.signal(signal.SIGUSR1)
    relaisd.wait_for_log(r"AH00493: SIGUSR1 received")

    def new_gen():
        v = auto(relaisd)[1]
        return v if v["ParentServerMPMGeneration"] == "1" and int(v["Stopping"]) >= 1 else None
    v = wait_until(new_gen)
    assert v, auto(relaisd)[1]
    assert v["ParentServerConfigGeneration"] == "2"
    assert "G" in v["Scoreboard"]
    assert int(v["Processes"]) >= 3
    assert int(v["Total Accesses"]) >= before + 1     # counters survive the restart
    h = relaisd.get("/server-status").text
    assert re.search(r"<td>yes \(old gen\)</td>", h), h
    assert "<dt>Parent Server MPM Generation: 1</dt>" in h

    # the old worker finishes its request, then leaves
    slow.sendall(b"Connection: close\r\n\r\n")
    assert slow.read_response().status == 200
    slow.close()
    v = wait_until(lambda: (lambda x: x if x["Stopping"] == "0" and x["Processes"] == "2"
                            else None)(auto(relaisd)[1]))
    assert v, auto(relaisd)[1]
    assert "G" not in v["Scoreboard"]
    # the old workers' requests still count (their slots keep them)
    assert int(v["Total Accesses"]) >= before + 4


def test_hard_restart_starts_the_counters_over(relaisd):
    start(relaisd)
    for _ in range(10):
        relaisd.get("/1k.bin")
    assert int(auto(relaisd)[1]["Total Accesses"]) >= 10
    relaisd.signal(signal.SIGHUP)
    relaisd.wait_for_log(r"AH00494: SIGHUP received")

    def restarted():
        v = auto(relaisd)[1]
        return v if v["ParentServerMPMGeneration"] == "1" else None
    v = wait_until(restarted)
    assert v
    assert int(v["Total Accesses"]) < 10


def test_extended_status_off_hides_request_details(relaisd):
    start(relaisd, extra="ExtendedStatus Off\n")
    relaisd.get("/1k.bin?secret=1")
    _, v, keys = auto(relaisd)
    for k in ("Total Accesses", "Total kBytes", "CPUUser", "ReqPerSec", "BytesPerReq"):
        assert k not in keys
    assert keys[keys.index("Load15") + 1] == "BusyWorkers"
    h = relaisd.get("/server-status").text
    assert "secret" not in h
    assert "Total accesses" not in h
    assert "PID Key: <br />" in h
    assert "you need to use the <code>ExtendedStatus On</code> directive." in h


def test_see_request_tail(relaisd):
    start(relaisd, extra="SeeRequestTail On\n")
    target = "/1k.bin?" + "a" * 100 + "TAIL"
    relaisd.get(target)
    h = relaisd.get("/server-status").text
    assert "TAIL HTTP/1.1</td>" in h
    assert "GET /1k.bin?aaa" not in h


def test_directives_are_global_only(relaisd):
    relaisd.write_config(extra=STATUS_LOCATION + """
<VirtualHost *:{port}>
    ExtendedStatus On
</VirtualHost>
""")
    r = relaisd.run(["-t"])
    assert r.rc != 0
    assert "ExtendedStatus cannot occur within <VirtualHost> section" in r.stderr
    relaisd.write_config(extra="ExtendedStatus maybe\n")
    r = relaisd.run(["-t"])
    assert r.rc != 0 and "ExtendedStatus must be On or Off" in r.stderr
    relaisd.write_config(extra=STATUS_LOCATION + "ExtendedStatus Off\nSeeRequestTail On\n")
    r = relaisd.run(["-t"])
    assert r.rc == 0, r.stderr
    assert "ExtendedStatus" not in r.stderr      # no longer "accepted and ignored"


def test_loadmodule_status(relaisd):
    """With LoadModule lines, the handler exists only when status_module is
    loaded (as in Debian's tree); ExtendedStatus is core's, always accepted."""
    relaisd.write("htdocs/1k.bin", b"x" * 1024)
    base = ("LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
            "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so\n"
            "LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n"
            "LoadModule log_config_module /usr/lib/apache2/modules/mod_log_config.so\n")
    relaisd.write_config(extra=base + STATUS_LOCATION + "ExtendedStatus On\n")
    relaisd.start()
    assert relaisd.get("/server-status").status == 404      # no handler: no such file
    relaisd.stop()
    relaisd.write_config(extra=base + "LoadModule status_module "
                         "/usr/lib/apache2/modules/mod_status.so\n" + STATUS_LOCATION)
    relaisd.start()
    r = relaisd.get("/server-status?auto")
    assert r.status == 200 and "Total Accesses:" in r.text
