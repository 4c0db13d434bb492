"""Fixtures for the application tests: Debian's wordpress and dokuwiki
packages, copied into a temporary prefix, served by relaisd (and by Debian's
Apache 2.4, as the reference that proves the test itself right) in front of
Debian's php-fpm 8.2, with MariaDB for WordPress. pytest 7, stdlib only.

Run:  /usr/bin/python3 -m pytest -q tests/apps
      (packages: scripts/deps.sh installs them; a test is skipped, naming
      the apt-get command, when one is missing)

Each test module builds one site per front end (module-scoped fixture
`front`, params "apache" and "relaisd"), in <pytest tmp>/<app>-<front>N/:

    mariadb/     datadir, mysql.sock, logs/error_log (WordPress only)
    php-fpm/     incumbents.PhpFpm: pool [www] as www-data when root,
                 Debian's fpm php.ini and conf.d
    server/      relaisd or apache2 prefix; server/htdocs IS the application
                 (a copy of the package's files): DocumentRoot with
                 AllowOverride All, DirectoryIndex index.php, <FilesMatch
                 \\.php$> SetHandler "proxy:unix:<sock>|fcgi://localhost",
                 User/Group www-data when root (as Debian runs Apache)

The system locations (/usr/share/wordpress, /etc/wordpress,
/usr/share/dokuwiki, /etc/dokuwiki, /var/lib/dokuwiki) are only read.
Every daemon is our child, stopped by PID at the end of the module; the
problems found then (crashes, leftovers, sanitizer reports) fail the last
test, and a failing test shows every daemon's diagnostics. Helpers:
appsite.py.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import appsite  # noqa: E402
import incumbents  # noqa: E402  (appsite put tests/interop on sys.path)
import relais  # noqa: E402

FRONTS = ["apache", "relaisd"]


@pytest.fixture(scope="module", params=FRONTS)
def front(request):
    """"apache" or "relaisd"; skips when that server is not there."""
    if request.param == "apache":
        appsite.need(incumbents.APACHE_BINARY)
    elif relais.find_binary("relaisd") is None:
        dirs = ", ".join(str(d) for d in relais.build_dirs())
        pytest.skip(f"relaisd is not built (looked in {dirs})")
    return request.param


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for v in getattr(item, "funcargs", {}).values():
            if isinstance(v, appsite.Site):
                rep.sections.append((f"{v.front} site in {v.base}", v.diagnostics()))
