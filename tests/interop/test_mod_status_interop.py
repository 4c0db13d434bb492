"""mod_status next to Debian's Apache 2.4 (mpm_event, mod_status loaded):
the same configuration and requests to both, then ?auto's keys (set and
order) and value shapes, and the HTML page's structure, compared.

    RELAIS_BUILD=$PWD/build-hstatus /usr/bin/python3 -m pytest -q tests/interop/test_mod_status_interop.py

(Not test_mod_status.py: pytest, run on tests/e2e and tests/interop at once
as `make test` does, refuses two test modules of the same name.)

What differs by design, and is normalised away below: the numbers, the
version and build strings, the Scoreboard letters (Apache: one per thread,
relais: one per worker process, see mod/status.c), the rows of the
per-process and per-request tables (Apache lists threads, relais its
workers' recent requests)."""

import re
import time

STATUS = """
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
"""


def start_both(make_apache, make_relaisd, extra=""):
    a = make_apache(modules=["status"])
    a.write_config(extra=STATUS + extra)
    a.write("htdocs/1k.bin", b"x" * 1024)
    d = make_relaisd()
    # one worker: Apache's test server has one child process too
    d.write_config(extra="RelaisWorkers 1\n" + STATUS + extra)
    d.write("htdocs/1k.bin", b"x" * 1024)
    a.start()
    d.start()
    for s in (a, d):
        for _ in range(5):
            assert s.get("/1k.bin").status == 200
    time.sleep(1.1)     # uptime > 0 on both
    return a, d


def auto_pairs(server):
    r = server.get("/server-status?auto")
    assert r.status == 200, server.diagnostics()
    lines = r.text.split("\n")
    assert lines[0] == "localhost" and lines[-1] == ""
    return r, [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:-1]]


def shape(key, value):
    """The form of a value, as a monitoring parser sees it."""
    if key in ("CurrentTime", "RestartTime"):
        return "time" if re.fullmatch(r"\w+day, \d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \w+", value) else value
    if key == "Scoreboard":
        return "scoreboard" if re.fullmatch(r"[_SRWKDCLGI.]+", value) else value
    if key in ("ServerVersion", "Server Built", "ServerUptime"):
        return "text"
    if re.fullmatch(r"\d+", value):
        return "int"
    if re.fullmatch(r"\d*\.?\d*(e[+-]\d+)?", value) and value not in ("", "."):
        return "int" if "." not in value and "e" not in value else "float"
    return value


def test_auto_keys_and_order_match_apache(make_apache, make_relaisd):
    a, d = start_both(make_apache, make_relaisd)
    ra, pa = auto_pairs(a)
    rd, pd = auto_pairs(d)
    assert ra.headers["Content-Type"] == rd.headers["Content-Type"] == \
        "text/plain; charset=ISO-8859-1"
    ka, kd = [k for k, _ in pa], [k for k, _ in pd]
    # CPULoad appears only once some CPU time was counted
    if "CPULoad" not in ka or "CPULoad" not in kd:
        ka = [k for k in ka if k != "CPULoad"]
        kd = [k for k in kd if k != "CPULoad"]
    assert kd == ka, f"\napache:  {ka}\nrelaisd: {kd}"
    va, vd = dict(pa), dict(pd)
    for k in ka:
        sa, sd = shape(k, va[k]), shape(k, vd[k])
        # an APR %g float may print as an integer ("6", "1194.67")
        if {sa, sd} <= {"int", "float"} and k not in ("Total Accesses", "Total kBytes"):
            continue
        assert sa == sd, (k, va[k], vd[k])
    assert vd["ServerMPM"] == va["ServerMPM"] == "event"
    assert vd["ParentServerConfigGeneration"] == va["ParentServerConfigGeneration"] == "1"
    assert vd["ParentServerMPMGeneration"] == va["ParentServerMPMGeneration"] == "0"
    # both count the five requests (and the status request before none)
    assert int(va["Total Accesses"]) == int(vd["Total Accesses"]) == 5
    assert vd["Processes"] == va["Processes"] == "1"


def test_auto_without_extended_status_matches_apache(make_apache, make_relaisd):
    a, d = start_both(make_apache, make_relaisd, extra="ExtendedStatus Off\n")
    ka = [k for k, _ in auto_pairs(a)[1]]
    kd = [k for k, _ in auto_pairs(d)[1]]
    assert kd == ka
    assert "Total Accesses" not in kd


def skeleton(html):
    """The page with its numbers, versions and per-thread/per-request rows
    taken out: what is left is the structure both must share."""
    out = []
    for ln in html.split("\n"):
        if re.match(r"<tr><td><b>\d+-\d+</b>|</td><td>", ln):
            continue            # a row of the per-request table (3 lines)
        if re.match(r"<tr><td>\d+</td><td>\d+</td>", ln):
            continue            # a process row
        ln = re.sub(r"<pre>[^<]*</pre>", "<pre>SCOREBOARD</pre>", ln)
        ln = re.sub(r"Apache/2\.4\.\d+ \([^)]*\)( relais/[\d.]+)?", "VERSION", ln)
        ln = re.sub(r"Server Built: .*", "Server Built: BUILT", ln)
        ln = re.sub(r"<dt>CPU Usage: .*</dt>", "<dt>CPU Usage: CPU</dt>", ln)
        ln = re.sub(r"(?<![\w/])(\d*\.\d+|\d+)(e[+-]\d+)?(?![\w/])", "N", ln)
        ln = re.sub(r"\w+day, N-\w{3}-N N:N:N \w+", "TIME", ln)
        ln = re.sub(r"Server uptime: .*</dt>", "Server uptime: UP</dt>", ln)
        if ln:
            out.append(ln)
    return out


def test_html_structure_matches_apache(make_apache, make_relaisd):
    a, d = start_both(make_apache, make_relaisd)
    for target in ("/server-status", "/server-status?notable"):
        ha = a.get(target)
        hd = d.get(target)
        assert ha.headers["Content-Type"] == hd.headers["Content-Type"] == \
            "text/html; charset=ISO-8859-1"
        sa, sd = skeleton(ha.text), skeleton(hd.text)
        if target.endswith("notable"):
            # the per-request paragraphs: compare their shape only
            sa = [x for x in sa if not x.startswith(("<b>Server N-N</b>", " N N N(", " <i>"))]
            sd = [x for x in sd if not x.startswith(("<b>Server N-N</b>", " N N N(", " <i>"))]
        assert sd == sa, "\n".join(
            f"{i}: apache {x!r}\n{i}: relaisd {y!r}" for i, (x, y) in enumerate(zip(sa, sd))
            if x != y) or (len(sa), len(sd))


def test_html_without_extended_status_matches_apache(make_apache, make_relaisd):
    a, d = start_both(make_apache, make_relaisd, extra="ExtendedStatus Off\n")
    sa = skeleton(a.get("/server-status").text)
    sd = skeleton(d.get("/server-status").text)
    # Apache lists every thread slot in its PID key (even unused ones):
    # compare up to it
    cut = sa.index("PID Key: <br />")
    assert sd[:cut + 1] == sa[:cut + 1]
    assert sd[-3:] == sa[-3:]
