"""Fixtures for relais' black-box tests (pytest 7, standard library only).

Run:  make test                       (RELAIS_BUILD=<abs build-test dir>)
      /usr/bin/python3 -m pytest -q tests/e2e      (build-test/, else build/)

The binary: $RELAIS_BUILD/relaisd when RELAIS_BUILD is set, else
<repo>/build-test/relaisd, else <repo>/build/relaisd. A test that asks for a
relaisd fixture is skipped when none is built.

Fixtures
  relaisd          a Relaisd (tests/e2e/relais.py), not started yet, in
                   tmp_path/relaisd with one free port and DEFAULT_CONF
                   written; stopped at teardown whatever happens.
  make_relaisd     factory for more instances, or other configs/ports:
                   make_relaisd(template=None, nports=1, binary=None, name=None,
                   **placeholders) -> Relaisd (each in its own prefix).
  relaisd_binary   Path of the binary (skips the test if there is none).
  free_port        a function: free_port() -> int.

Relaisd (prefix layout: conf/relaisd.conf, htdocs/, logs/, sanitizer/)
  .port .ports .prefix .docroot .logs .conf .pidfile .env (dict, for Popen)
  .write_config(template=None, **values)  placeholders {port} {port0} {port1}..
        {prefix} {docroot} {logs} {conf} {user} {group} {extra}; {{ and }} give
        { and } as in str.format; other braces (%{Referer}i, ${VAR}, a{2})
        stay as they are. DEFAULT_CONF ends with {extra}; string values may
        use the placeholders too: write_config(extra="Listen 127.0.0.1:{port1}").
  .write("htdocs/a.txt", b"...")  a file under the prefix (dirs 0755, file 0644)
  .start(args=["-DFOREGROUND"], wait=True, timeout=10)  waits until every port
        of the config listens; else raises DaemonError with stderr + error_log.
        args=["-k", "start"] runs the launcher, then reads the PidFile.
  .stop(timeout=10, sig=SIGTERM, use_k=False) -> exit code; SIGKILL after the
        timeout; kills anything of this instance that outlives the master.
  .run(["-t"]) -> Result(rc, stdout, stderr)       one-shot invocations
  .pid .running() .children() .signal(sig) .wait_exit() .read_pidfile()
  .error_log() .access_log() .access_log_lines() .wait_for_log(regex)
  .wait_for_access_log(regex) .sanitizer_reports() .diagnostics()
  .request(method, target, headers=..., body=...) / .get(target) -> Response
  .allow_leftovers = True   for a test that leaves processes on purpose

Teardown fails the test (an error "at teardown") when the master died of a
signal like SIGSEGV, ignored SIGTERM, left processes behind, or when any
ASan/UBSan/LSan report was written (ASAN_OPTIONS/UBSAN_OPTIONS log_path point
to prefix/sanitizer/, which also catches reports from workers whose stderr is
gone). A failing test shows each instance's diagnostics in its report.

HTTP helpers (from relais import ...)
  request(port, method="GET", target="/", headers=None, body=None,
          host="localhost", version="HTTP/1.1", close=True, timeout=5) -> Response
  raw(port, data, timeout=5, shutdown=False) -> bytes  (until close or timeout)
  open_conn(port) -> Conn (a socket) with .send_request(...), .read_response(
          method="GET"), .request(...), .is_closed(timeout)
  open_tls(port, server_name="localhost", alpn=None) -> ssl.SSLSocket
  is_closed(sock, timeout=1) -> True if the peer closes within timeout
  read_response(sock, method="GET", timeout=5, strict=True) -> Response
          exactly one response; HEAD/1xx/204/304 have no body; ConnectionClosed,
          ResponseTimeout, ResponseError (all AssertionErrors) otherwise
  parse_responses(data, methods="GET") -> [Response]
  build_request(method, target, headers, body, host, version, close) -> bytes
  Response: .status .reason .version .headers .body .text .trailers .chunked .raw
  Headers: h["content-type"] (case-insensitive, repeats joined by ", "),
          h.get_all("set-cookie"), h.list (pairs as received)

Example

    from relais import open_conn, raw, parse_responses

    def test_index_and_pipelining(relaisd):
        relaisd.write("htdocs/index.html", "<h1>hi</h1>\\n")
        relaisd.write_config(extra="DirectoryIndex index.html")
        relaisd.start()

        r = relaisd.get("/")
        assert r.status == 200, relaisd.diagnostics()
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.body == b"<h1>hi</h1>\\n"

        with open_conn(relaisd.port) as c:
            c.sendall(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
                      b"HEAD / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
            assert c.read_response().status == 200
            assert c.read_response("HEAD").body == b""
            assert not c.is_closed(0.2)

        data = raw(relaisd.port, b"GET / HTTP/1.0\\r\\n\\r\\n")
        assert parse_responses(data)[0].status == 200
        relaisd.wait_for_access_log(r'"GET / HTTP/1.0" 200 12')

        assert relaisd.run(["-t"]).rc == 0
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import relais  # noqa: E402



@pytest.fixture(scope="session")
def relaisd_binary():
    b = relais.find_binary("relaisd")
    if b is None:
        dirs = ", ".join(str(d) for d in relais.build_dirs())
        pytest.skip(f"relaisd is not built (looked in {dirs})")
    return b


@pytest.fixture
def free_port():
    return relais.free_port


@pytest.fixture
def make_relaisd(request, tmp_path, tmp_path_factory):
    instances = []
    request.node._relais_daemons = instances
    default_binary = None

    def make(template=None, *, nports=1, binary=None, name=None, **values):
        nonlocal default_binary
        if binary is None:
            default_binary = default_binary or request.getfixturevalue("relaisd_binary")
            binary = default_binary
        prefix = tmp_path / (name or ("relaisd" if not instances else f"relaisd{len(instances)}"))
        d = relais.Relaisd(prefix, binary=binary, nports=nports, template=template, **values)
        relais.open_path(prefix, tmp_path_factory.getbasetemp().parent)
        instances.append(d)
        return d

    yield make

    problems = []
    for d in instances:
        problems += d.teardown()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def relaisd(make_relaisd):
    return make_relaisd()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for d in getattr(item, "_relais_daemons", []):
            rep.sections.append((f"{d.name} in {d.prefix}", d.diagnostics()))


# the name the other suites use (tests/interop, tests/fpm, tests/apps)
_open_path_to = relais.open_path
