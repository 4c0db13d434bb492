"""mod_rewrite: relaisd against the table Debian's Apache 2.4 wrote
(tests/rewrite/cases.json, made by tests/rewrite/gen_cases.py).

Each group of cases runs in one relaisd, with the configuration text the
generator gave Apache (only the lines that start the server differ), the
same site in each case's document root and the same FastCGI recorders
behind. Every request must get the outcome Apache gave: status, Location,
Vary, Set-Cookie, and the FastCGI parameters the handler received (or the
static answer). The configuration checks compare `relaisd -t` with
`apache2 -t`, except where relais refuses on purpose what it does not
implement (RewriteMap prg:/dbm:, -U)."""

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "rewrite"))

import gen_cases  # noqa: E402
import incumbents  # noqa: E402
import relais  # noqa: E402

TABLE = json.loads(gen_cases.TABLE.read_text())

# Differences that do not come from mod_rewrite, by (case, target): the
# case fails as an expected failure while only these remain.
KNOWN = {
    ("dir_request_filename", "/sub/"): "mod_dir's index file: relais runs the request again "
        "(E= of the second pass wins); Apache merges a sub-request's environment under the "
        "first pass's",
    ("dir_request_filename", "/"): "the same as /sub/",
}
CASES = [(g["name"], c) for g in TABLE["groups"] for c in g["cases"]]


@pytest.fixture(scope="module")
def recorders(tmp_path_factory):
    base = tmp_path_factory.mktemp("rewrite-rec")
    gen_cases._open_up(base)   # relaisd's workers are not root
    unix = incumbents.FcgiRecorder(base / "recorder.sock").start()
    port = relais.free_port()
    tcp = incumbents.FcgiRecorder(tcp_port=port).start()
    yield unix, port
    unix.stop()
    tcp.stop()


@pytest.fixture(scope="module")
def servers(recorders, tmp_path_factory):
    """One started relaisd per group of the table."""
    unix, rport = recorders
    started = {}
    for g in TABLE["groups"]:
        prefix = tmp_path_factory.mktemp(f"relaisd-{g['name']}")
        text = gen_cases.config(g, gen_cases.RELAISD_HEAD, "{prefix}", unix.path, "{port}", rport)
        d = relais.Relaisd(prefix, template=text)
        d.env["PATH"] = incumbents.SYSTEMD_PATH   # as the Apache class runs it (%{ENV:PATH})
        gen_cases.install_site(prefix, g["cases"])
        gen_cases._open_up(prefix)   # relaisd's workers are not root
        started[g["name"]] = d
        d.start()
    yield started, rport
    problems = []
    for d in started.values():
        problems += d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.mark.parametrize("group,case", CASES, ids=[c["name"] for _, c in CASES])
def test_case_as_apache(servers, group, case):
    started, rport = servers
    d = started[group]
    diffs, known = [], []
    for r in case["requests"]:
        got = gen_cases.outcome(gen_cases.ask(d.port, r, case["name"], d.prefix), d.prefix,
                                d.port, rport)
        want = r["expect"]
        if got == want:
            continue
        why = KNOWN.get((case["name"], r["target"]))
        (known if why else diffs).append(
            f"{r['method']} {r['target']}\n  apache:  {_show(want)}\n"
            f"  relaisd: {_show(got)}\n  {_diff(want, got)}" + (f"\n  known: {why}" if why else ""))
    assert not diffs, (f"{case['name']}: {case['doc']}\n" + "\n".join(diffs + known)
                       + "\n\n" + d.diagnostics(sanitizer=False)[-3000:])
    if known:
        pytest.xfail("\n".join(known))


def _show(o):
    return json.dumps({k: v for k, v in o.items() if k != "fcgi"})


def _diff(want, got):
    """The FastCGI parameters that differ, one per line."""
    a, b = want.get("fcgi"), got.get("fcgi")
    if a is None or b is None:
        return "fcgi: " + ("only apache" if a is not None else "only relaisd" if b is not None
                           else "none")
    return incumbents.diff_env(a, b, ignore=(), labels=("apache", "relaisd")).replace("\n", "\n  ")


ERRORS = TABLE["config_errors"]


@pytest.mark.parametrize("check", ERRORS, ids=[e["name"] for e in ERRORS])
def test_config_check_as_apache(tmp_path, check):
    text = check["text"]
    c = gen_cases.case(check["name"], "", [], server="" if text.startswith("dir:") else text,
                       dir=text[4:] if text.startswith("dir:") else "")
    group = {"name": "t", "main": "", "cases": [c]}
    d = relais.Relaisd(tmp_path / "relaisd",
                       template=gen_cases.config(group, gen_cases.RELAISD_HEAD, "{prefix}",
                                                 tmp_path / "none.sock", "{port}", 1))
    gen_cases.install_site(d.prefix, [c])
    r = d.run(["-t"])
    want = check["apache_ok"] and not check["relais_only"]
    assert (r.rc == 0) == want, f"apache: {check['apache_says']}\nrelaisd: {r.stdout}{r.stderr}"
    if not want:
        assert "Rewrite" in r.stderr + r.stdout
