"""Fixtures for the interop tests: relais paired with, or compared to, the
incumbents (Debian's apache2 2.4 and php-fpm 8.2). pytest 7, stdlib only.

Run:  /usr/bin/python3 -m pytest -q tests/interop
      (packages: php8.2-fpm apache2, installed by scripts/deps.sh)

Helpers live in tests/interop/incumbents.py (see its docstring); the e2e
harness (tests/e2e/relais.py) is importable as `relais`.

Fixtures
  php_fpm          a started PhpFpm: /usr/sbin/php-fpm8.2 -F in tmp_path/php-fpm,
                   pool [www] (pm static, 2 children, www-data when root) on
                   php_fpm.sock (prefix/php.sock, mode 0666)
  make_php_fpm     factory: make_php_fpm(name=None, **kw) -> PhpFpm, not started
                   (kw: max_children, clear_env, pool_extra, global_extra, php_ini)
  apache           an Apache (not started yet) in tmp_path/apache2 on a free port,
                   .php handed to php_fpm.sock as Debian's php8.2-fpm.conf does,
                   tests/interop/php/env.php copied to htdocs/env.php.
                   apache.write_config(extra=...) then apache.start().
  make_apache      factory: make_apache(sock=None, name=None, modules=(),
                   template=None, **placeholders) -> Apache, not started
                   (sock: a PhpFpm, a FcgiRecorder or a path)
  fcgi_recorder    a started FcgiRecorder on tmp_path/recorder.sock: a FastCGI
                   responder that answers with the RAW params it got
  php_fpm_binary, apache_binary   Paths; the test is skipped when missing
  make_relaisd, relaisd, relaisd_binary, free_port   as in tests/e2e

Every daemon is stopped by PID at teardown (SIGTERM, then SIGKILL), and
leftover processes fail the test, as in tests/e2e. The prefixes are made
traversable (o+x) up to pytest's base temp dir when root, so that www-data
(php-fpm's pool, Apache's children) reaches the scripts and the socket.
A failing test shows every daemon's diagnostics in its report.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))

import incumbents  # noqa: E402
import relais  # noqa: E402


def _load_e2e_conftest():
    spec = importlib.util.spec_from_file_location(
        "relais_e2e_conftest", HERE.parent / "e2e" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_e2e = _load_e2e_conftest()
_open_path_to = _e2e._open_path_to

# relaisd fixtures, shared with tests/e2e
relaisd_binary = _e2e.relaisd_binary
free_port = _e2e.free_port
make_relaisd = _e2e.make_relaisd
relaisd = _e2e.relaisd


@pytest.fixture(scope="session")
def php_fpm_binary():
    p = Path(incumbents.PHP_FPM_BINARY)
    if not os.access(p, os.X_OK):
        pytest.skip(f"{p} missing (apt-get install php8.2-fpm, or scripts/deps.sh)")
    return p


@pytest.fixture(scope="session")
def apache_binary():
    p = Path(incumbents.APACHE_BINARY)
    if not os.access(p, os.X_OK):
        pytest.skip(f"{p} missing (apt-get install apache2, or scripts/deps.sh)")
    return p


@pytest.fixture
def _interop_daemons(request, tmp_path_factory):
    """The daemons the test started, torn down (and checked) at the end."""
    daemons = []
    request.node._interop_daemons = daemons
    yield daemons
    relais.teardown_all(daemons)


_unique = relais.unique_path


@pytest.fixture
def make_php_fpm(php_fpm_binary, _interop_daemons, tmp_path, tmp_path_factory):
    def make(name=None, **kw):
        prefix = _unique(tmp_path, "php-fpm", name)
        d = incumbents.PhpFpm(prefix, php_fpm_binary, **kw)
        _open_path_to(prefix, tmp_path_factory.getbasetemp().parent)
        _interop_daemons.append(d)
        return d
    return make


@pytest.fixture
def php_fpm(make_php_fpm):
    return make_php_fpm().start()


@pytest.fixture
def make_apache(apache_binary, _interop_daemons, tmp_path, tmp_path_factory):
    def make(sock=None, name=None, **kw):
        prefix = _unique(tmp_path, "apache2", name)
        d = incumbents.Apache(prefix, apache_binary, sock=sock, **kw)
        _open_path_to(prefix, tmp_path_factory.getbasetemp().parent)
        _interop_daemons.append(d)
        return d
    return make


@pytest.fixture
def apache(make_apache, php_fpm):
    a = make_apache(sock=php_fpm)
    a.install_php()
    return a


@pytest.fixture
def fcgi_recorder(tmp_path, tmp_path_factory):
    _open_path_to(tmp_path, tmp_path_factory.getbasetemp().parent)
    r = incumbents.FcgiRecorder(tmp_path / "recorder.sock").start()
    yield r
    r.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for d in (getattr(item, "_interop_daemons", [])
                  + getattr(item, "_relais_daemons", [])):
            rep.sections.append((f"{d.name} in {d.prefix}", d.diagnostics()))
