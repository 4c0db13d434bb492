"""Fixtures for the relais-fpm tests: the FPM under test (relais-fpm, or
php-fpm8.2 as the reference) behind nginx and Debian's Apache, its process
manager, and its pools' isolation. pytest 7, standard library only.

Run:  /usr/bin/python3 -m pytest -q tests/fpm                  (relais-fpm)
      RELAIS_FPM=/usr/sbin/php-fpm8.2 /usr/bin/python3 -m pytest -q tests/fpm
      FPM_REFERENCE=1 /usr/bin/python3 -m pytest -q tests/fpm  (the same)

The binary: $RELAIS_FPM if set, else $RELAIS_BUILD/relais-fpm, else
<repo>/build-test/relais-fpm, else <repo>/build/relais-fpm (skipped when
none). Against php-fpm (FPM_REFERENCE=1, or a binary named php-fpm*),
`is_php_fpm` is True: tests of a deliberate relais difference call
relais_only(reason) (a skip against php-fpm) or assert php-fpm's behaviour.

Fixtures
  fpm_binary      Path of the FPM under test
  is_php_fpm      True when that is php-fpm itself
  make_fpm        factory: make_fpm(name=None, settings=None, pools=None,
                  listen="unix"|"tcp", global_extra="", log_level="notice",
                  root_pools=False, php_ini=None, user=None) -> Fpm, not
                  started (see fpmlib.Fpm). settings: pool [www]'s directives
                  as a dict ({"pm": "dynamic", "pm.max_children": 4, ...});
                  pools: {name: settings} for several (settings may hold
                  "_listen", "_user", "_extra").
  fpm             make_fpm() started: [www], pm static, 2 children
  make_nginx      factory: make_nginx(upstream, name=None, extra="") -> Nginx
  make_apache     as in tests/interop: make_apache(sock=..., name=None, ...)
  free_port       as in tests/e2e

Files: test_frontends.py (nginx + Apache in front), test_pm.py (process
manager, signals, status), test_fcgi.py (FastCGI connection handling),
test_isolation.py (pools as two system users; root only).

Every daemon is stopped by PID at teardown (front ends first), and leftover
processes fail the test, as in tests/e2e. The prefixes are made traversable
(o+x) when root, so that www-data reaches the scripts and the sockets.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "e2e"))

import fpmlib  # noqa: E402
import relais  # noqa: E402
import incumbents  # noqa: E402


def _load_e2e_conftest():
    spec = importlib.util.spec_from_file_location(
        "relais_e2e_conftest_fpm", HERE.parent / "e2e" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_e2e = _load_e2e_conftest()
_open_path_to = _e2e._open_path_to
free_port = _e2e.free_port


@pytest.fixture(scope="session")
def fpm_binary():
    b = fpmlib.find_fpm_binary()
    if b is None or not os.access(b, os.X_OK):
        pytest.skip(f"no FPM to test (RELAIS_FPM, RELAIS_BUILD, build-test/, build/): {b}")
    return b


@pytest.fixture(scope="session")
def is_php_fpm(fpm_binary):
    return fpmlib.is_reference(fpm_binary)


@pytest.fixture
def relais_only(is_php_fpm):
    """relais_only(reason): skips the test when running against php-fpm
    (a deliberate difference of relais-fpm)."""
    def skip(reason):
        if is_php_fpm:
            pytest.skip(f"relais-only: {reason}")
    return skip


@pytest.fixture
def _fpm_daemons(request):
    daemons = []
    request.node._fpm_daemons = daemons
    yield daemons
    relais.teardown_all(daemons)


_unique = relais.unique_path


@pytest.fixture
def make_fpm(fpm_binary, _fpm_daemons, tmp_path, tmp_path_factory):
    def make(name=None, **kw):
        prefix = _unique(tmp_path, "fpm", name)
        prefix.mkdir(parents=True)
        _open_path_to(prefix, tmp_path_factory.getbasetemp().parent)
        d = fpmlib.Fpm(prefix, fpm_binary, **kw)
        _fpm_daemons.append(d)
        return d
    return make


@pytest.fixture
def fpm(make_fpm):
    return make_fpm().start()


@pytest.fixture(scope="session")
def nginx_binary():
    p = Path(fpmlib.NGINX)
    if not os.access(p, os.X_OK):
        pytest.skip(f"{p} missing (apt-get install nginx-light)")
    return p


@pytest.fixture(scope="session")
def apache_binary():
    p = Path(incumbents.APACHE_BINARY)
    if not os.access(p, os.X_OK):
        pytest.skip(f"{p} missing (apt-get install apache2)")
    return p


@pytest.fixture
def make_nginx(nginx_binary, _fpm_daemons, tmp_path, tmp_path_factory):
    def make(upstream, name=None, **kw):
        prefix = _unique(tmp_path, "nginx", name)
        prefix.mkdir(parents=True)
        _open_path_to(prefix, tmp_path_factory.getbasetemp().parent)
        d = fpmlib.Nginx(prefix, nginx_binary, upstream=upstream, **kw)
        _fpm_daemons.append(d)
        return d
    return make


@pytest.fixture
def make_apache(apache_binary, _fpm_daemons, tmp_path, tmp_path_factory):
    def make(sock=None, name=None, **kw):
        prefix = _unique(tmp_path, "apache2", name)
        prefix.mkdir(parents=True)
        _open_path_to(prefix, tmp_path_factory.getbasetemp().parent)
        d = incumbents.Apache(prefix, apache_binary, sock=sock, **kw)
        _fpm_daemons.append(d)
        return d
    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for d in getattr(item, "_fpm_daemons", []):
            rep.sections.append((f"{d.name} in {d.prefix}", d.diagnostics()))
