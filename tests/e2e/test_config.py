"""relaisd's configuration semantics, black box: `-t` and its messages,
Include/Define/If*, the command line's -D/-C/-c, virtual hosts, the
<Directory>/<Files>/<Location> merge, Require, mod_dir, mod_alias,
ErrorDocument, access and error logs.

Reference: Apache 2.4's documented behaviour (checked against Debian's
apache2 2.4 where a detail was in doubt). Every daemon listens on 127.0.0.1
only, from a temporary prefix; the fixtures stop it by PID.
"""

import os
import re
import subprocess
import socket
import time

import pytest

from relais import DEFAULT_CONF, open_conn, raw

# The line of DEFAULT_CONF where {extra} is written: errors in `extra`
# are reported from this line on.
EXTRA_LINE = DEFAULT_CONF.splitlines().index("{extra}") + 1

INVALID = ("Invalid command '{}', perhaps misspelled or defined by a module not "
           "included in the server configuration")

# [Fri Nov 27 08:01:52.272556 2026] [module:level] [pid N] [client ip:port] message
ERRLOG_TIME = r"\[\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}\]"
# 127.0.0.1 - - [27/Nov/2026:08:01:52 +0000]
CLF_TIME = r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]"


def syntax_error(file, line, msg):
    """What -t prints for an error found while running a directive."""
    return f"AH00526: Syntax error on line {line} of {file}:\n{msg}\n"


def read_error(file, line, msg):
    """What -t prints for an error found while reading the tree (sections,
    Include, LoadModule): Apache prints these on one line."""
    return f"Syntax error on line {line} of {file}: {msg}\n"


def check(d, extra, args=()):
    d.write_config(extra=extra)
    return d.run(["-t", *args])


def start(d, extra="", args=("-DFOREGROUND",), **values):
    d.write_config(extra=extra, **values)
    d.start(list(args))
    return d


def body(d, target, port=None, **kw):
    r = d.get(target, port=port, **kw)
    assert r.status == 200, (target, r.status, r.text, d.diagnostics())
    return r.body


def status(d, target, method="GET", **kw):
    return d.request(method, target, **kw).status


def wait_file(path, pattern, timeout=5.0):
    """Waits until regex <pattern> matches the text of <path>; returns the match."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            text = ""
        m = rx.search(text)
        if m:
            return m
        if time.monotonic() > deadline:
            raise AssertionError(f"no /{pattern}/ in {path} after {timeout}s:\n{text}")
        time.sleep(0.05)


def one(lines, needle):
    """The one line of <lines> containing <needle>: lines written by
    different workers may reach the file in any order."""
    found = [ln for ln in lines if needle in ln]
    assert len(found) == 1, (needle, lines)
    return found[0]


def lines_of(path):
    try:
        return open(path, errors="replace").read().splitlines()
    except OSError:
        return []


def wait_lines(path, n, timeout=5.0):
    """The lines of <path> once there are <n> of them (each worker writes its
    own lines when it goes idle); fails if there are more."""
    deadline = time.monotonic() + timeout
    while len(lines_of(path)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = lines_of(path)
    assert len(lines) == n, lines
    return lines


# ==========================================================================
# relaisd -t

def test_syntax_ok(relaisd):
    r = relaisd.run(["-t"])
    assert (r.rc, r.stdout, r.stderr) == (0, "", "Syntax OK\n")


@pytest.mark.parametrize("extra,offset,kind,msg", [
    ("Foo bar", 0, "run", INVALID.format("Foo")),
    ("DocumentRoot /a /b", 0, "run",
     "DocumentRoot takes one argument, Root directory of the document tree"),
    ("<Directory /tmp>\nRequire all granted\n", 0, "read",
     "{conf}:{line}: <Directory> was not closed."),
    ("<Directory /tmp>\n</Location>", 1, "read", "Expected </Directory> but saw </Location>"),
    ("</Directory>", 0, "read", "</Directory> without matching <Directory> section"),
    ("<Directory /tmp>\nOptions Indexes Bogus\n</Directory>", 1, "run", "Illegal option Bogus"),
    ("<Directory /tmp>\nOptions +Indexes FollowSymLinks\n</Directory>", 1, "run",
     "Either all Options must start with + or -, or no Option may."),
    ("<Directory>\n</Directory>", 0, "run", "<Directory> directive requires additional arguments"),
    ("Redirect", 0, "run", "Redirect takes one, two or three arguments, an optional status, "
     "then document to be redirected and destination URL"),
    ("Include conf/nothere.conf", 0, "read",
     "Could not open configuration file {prefix}/conf/nothere.conf: No such file or directory"),
    ("Include conf/nothere/*.conf", 0, "read",
     "Include/IncludeOptional: Could not open directory {prefix}/conf/nothere: "
     "No such file or directory"),
    ("Include conf/*.nomatch", 0, "read",
     "Include/IncludeOptional: No matches for the wildcard '*.nomatch' in '{prefix}/conf', "
     "failing"),
])
def test_syntax_errors(relaisd, extra, offset, kind, msg):
    """Each error: exit code 1, Apache's message naming the file and line."""
    r = check(relaisd, extra)
    line = EXTRA_LINE + offset
    msg = msg.format(conf=relaisd.conf, line=line, prefix=relaisd.prefix)
    want = (syntax_error if kind == "run" else read_error)(relaisd.conf, line, msg)
    assert (r.rc, r.stdout, r.stderr) == (1, "", want)


def test_syntax_error_stops_a_start(relaisd):
    """A broken configuration never starts: same message, exit code 1, no
    pid file, nothing listening."""
    relaisd.write_config(extra="Foo bar")
    r = relaisd.run(["-DFOREGROUND"])
    assert r.rc == 1
    assert r.stderr == syntax_error(relaisd.conf, EXTRA_LINE, INVALID.format("Foo"))
    assert not relaisd.pidfile.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", relaisd.port), timeout=1).close()


def test_error_in_included_file_names_that_file(relaisd):
    relaisd.write("conf/extra/bad.conf", "# line 1\nDocumentRoot\n")
    relaisd.write("conf/extra/unclosed.conf", "# line 1\n<Directory /tmp>\n")
    relaisd.write("conf/extra/unknown.conf", "Bogus on\n")
    bad = relaisd.prefix / "conf/extra/bad.conf"
    r = check(relaisd, "Include conf/extra/bad.conf")
    assert (r.rc, r.stderr) == (1, syntax_error(bad, 2, "DocumentRoot takes one argument, "
                                                "Root directory of the document tree"))
    r = check(relaisd, "IncludeOptional conf/extra/unknown.conf")
    assert (r.rc, r.stderr) == (1, syntax_error(relaisd.prefix / "conf/extra/unknown.conf", 1,
                                                INVALID.format("Bogus")))
    # a section left open in the included file: Apache's nested message
    unclosed = relaisd.prefix / "conf/extra/unclosed.conf"
    r = check(relaisd, "Include conf/extra/unclosed.conf")
    inner = f"Syntax error on line 2 of {unclosed}: {unclosed}:2: <Directory> was not closed."
    assert (r.rc, r.stderr) == (1, read_error(relaisd.conf, EXTRA_LINE, inner))


def test_loadmodule_of_unknown_module(relaisd):
    r = check(relaisd, "LoadModule lua_module modules/mod_lua.so")
    assert r.rc == 1
    assert r.stderr.startswith(f"Syntax error on line {EXTRA_LINE} of {relaisd.conf}: "
                               "Can't load module lua_module"), r.stderr
    assert r.stderr.count("\n") == 1


MODULES_CONF = """\
ServerRoot "{prefix}"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
DocumentRoot "{docroot}"
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""


def test_directive_of_a_module_not_loaded(make_relaisd):
    """Once a LoadModule appears, a module counts only when loaded; the
    message names the LoadModule line to add."""
    d = make_relaisd(MODULES_CONF)
    assert d.run(["-t"]).stderr == "Syntax OK\n"
    r = check(d, "Alias /x /tmp")
    line = MODULES_CONF.splitlines().index("{extra}") + 1
    msg = (INVALID.format("Alias") + " (relais has it in mod_alias: add "
           "\"LoadModule alias_module modules/mod_alias.so\")")
    assert (r.rc, r.stderr) == (1, syntax_error(d.conf, line, msg))
    # in a false <IfModule> it is skipped; once loaded it works
    assert check(d, "<IfModule alias_module>\nAlias /x /tmp\n</IfModule>").stderr == "Syntax OK\n"
    r = check(d, "LoadModule alias_module modules/mod_alias.so\nAlias /x /tmp")
    assert (r.rc, r.stderr) == (0, "Syntax OK\n")


def test_mpm_directives_listed_as_ignored(relaisd):
    r = check(relaisd, "StartServers 4\nMaxRequestWorkers 150\nThreadsPerChild 25\n"
                       "<IfModule mpm_event_module>\nMinSpareThreads 25\n</IfModule>")
    assert r.rc == 0
    assert r.stderr == ("relaisd: directives accepted and ignored: StartServers "
                        "MaxRequestWorkers ThreadsPerChild MinSpareThreads\n"
                        "  (MPM sizing: the event engine has no thread pools to size; the others "
                        "belong to modules relais does not implement yet)\nSyntax OK\n")


@pytest.mark.skipif(not os.path.exists("/etc/apache2/apache2.conf"), reason="no Debian apache2 tree")
def test_debian_stock_tree_passes_t(relaisd):
    """Debian's /etc/apache2 with the variables of its envvars, as apache2ctl reads them."""
    env = subprocess.run(["sh", "-c", "set -a; . /etc/apache2/envvars; env -0"],
                         capture_output=True, check=True).stdout
    vars_ = dict(kv.split("=", 1) for kv in env.decode().split("\0") if "=" in kv)
    r = subprocess.run([str(relaisd.binary), "-d", "/etc/apache2", "-f", "/etc/apache2/apache2.conf",
                        "-t"], env=vars_, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr.endswith("Syntax OK\n"), r.stderr
    assert "IndexOptions" in r.stderr and "StartServers" in r.stderr


def test_stub_modules(relaisd):
    # a module relais only stubs is not there unless loaded
    r = check(relaisd, "<IfModule mod_autoindex.c>\nFrobnicate\n</IfModule>")
    assert (r.rc, r.stderr) == (0, "Syntax OK\n")
    # loaded, its cosmetic directives are accepted and listed
    r = check(relaisd, "LoadModule authz_core_module x.so\nLoadModule mime_module x.so\n"
                       "LoadModule autoindex_module x.so\n"
                       "IndexOptions FancyIndexing")
    assert r.rc == 0 and "accepted and ignored: IndexOptions" in r.stderr, r.stderr
    # access restrictions are never silently ignored: mod_access_compat is a
    # real module (tests/interop/test_app_modules.py), an error when not loaded
    conf = "<Directory />\nOrder deny,allow\nDeny from all\n</Directory>"
    r = check(relaisd, "LoadModule authz_core_module x.so\nLoadModule mime_module x.so\n"
                       "LoadModule access_compat_module x.so\n" + conf)
    assert (r.rc, r.stderr) == (0, "Syntax OK\n")
    r = check(relaisd, "LoadModule authz_core_module x.so\nLoadModule mime_module x.so\n" + conf)
    assert r.rc == 1
    assert "Invalid command 'Order'" in r.stderr and "mod_access_compat" in r.stderr, r.stderr


def test_dash_S_lists_virtual_hosts(make_relaisd):
    d = make_relaisd(nports=2)
    extra = ("<VirtualHost *:{port}>\nServerName a.test\n</VirtualHost>\n"
             "<VirtualHost 127.0.0.1:{port1}>\nServerName b.test\n</VirtualHost>")
    d.write_config(extra=extra)
    r = d.run(["-S"])
    assert r.rc == 0, r.stderr
    conf = str(d.conf)
    assert r.stdout.splitlines() == [
        "VirtualHost configuration:",
        f"{'*:' + str(d.port):22} a.test ({conf}:{EXTRA_LINE})",
        f"{'127.0.0.1:' + str(d.ports[1]):22} b.test ({conf}:{EXTRA_LINE + 3})",
        f'ServerRoot: "{d.prefix}"',
        f'Main DocumentRoot: "{d.docroot}"',
        f'PidFile: "{d.pidfile}"',
    ]


def test_dash_M_lists_modules(make_relaisd, relaisd):
    # no LoadModule: every module relais has, like a static Apache
    r = relaisd.run(["-M"])
    assert r.rc == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "Loaded Modules:"
    assert " core_module (static)" in lines
    assert " log_config_module (static)" in lines
    for m in ("alias", "dir", "mime", "authz_core", "authz_host", "reqtimeout"):
        assert f" {m}_module (shared)" in lines
    assert not any("mpm_prefork" in ln or "mpm_worker" in ln for ln in lines)
    # with LoadModule lines: only those (and the static ones)
    d = make_relaisd(MODULES_CONF)
    lines = d.run(["-M"]).stdout.splitlines()
    assert " mime_module (shared)" in lines and " authz_core_module (shared)" in lines
    assert " alias_module (shared)" not in lines and " dir_module (shared)" not in lines
    assert " core_module (static)" in lines


# ==========================================================================
# Include, Define, If*, -D / -C / -c

def test_include_glob_order_relative_to_server_root(relaisd):
    """Include with a glob, relative to the ServerRoot, reads the matches in
    alphabetical order: the last DocumentRoot wins."""
    for name in ("b", "c", "a"):
        relaisd.write(f"htdocs/{name}/id.txt", name)
    relaisd.write("conf/conf.d/20-c.conf", 'DocumentRoot "{}/c"\n'.format(relaisd.docroot))
    relaisd.write("conf/conf.d/10-b.conf", 'DocumentRoot "{}/b"\n'.format(relaisd.docroot))
    relaisd.write("conf/conf.d/30-a.conf", 'DocumentRoot "{}/a"\n'.format(relaisd.docroot))
    relaisd.write("conf/conf.d/40-x.txt", "Bogus directive\n")   # not matched by *.conf
    start(relaisd, "Include conf/conf.d/*.conf")
    assert body(relaisd, "/id.txt") == b"a"


def test_include_optional_without_match_and_directory(relaisd):
    relaisd.write("htdocs/x/id.txt", "x")
    relaisd.write("conf/dir/one.conf", 'Alias /one "{}/x"\n'.format(relaisd.docroot))
    start(relaisd, "IncludeOptional conf/nothere/*.conf\nIncludeOptional conf/*.none\n"
                   "IncludeOptional conf/missing.conf\n"
                   "Include conf/dir")
    assert body(relaisd, "/one/id.txt") == b"x"


def test_define_and_variables(relaisd):
    relaisd.write("htdocs/v1/id.txt", "v1")
    relaisd.write("htdocs/v2/id.txt", "v2")
    relaisd.env["RELAIS_TEST_SUBDIR"] = "v2"
    start(relaisd, 'Define V1DIR "{docroot}/v1"\n'
                   'Alias /def "${V1DIR}"\n'
                   'Alias /env "{docroot}/${RELAIS_TEST_SUBDIR}"')
    assert body(relaisd, "/def/id.txt") == b"v1"
    assert body(relaisd, "/env/id.txt") == b"v2"


def test_undefined_variable_warns(relaisd):
    r = check(relaisd, "Alias /u /tmp/${NOT_DEFINED_ANYWHERE}")
    assert r.rc == 0
    assert "AH00111: Config variable ${NOT_DEFINED_ANYWHERE} is not defined" in r.stderr
    assert r.stderr.endswith("Syntax OK\n")


def test_ifdefine_with_dash_D(relaisd):
    relaisd.write("htdocs/on/id.txt", "on")
    relaisd.write("htdocs/off/id.txt", "off")
    extra = ('<IfDefine SWITCH>\nAlias /sw "{docroot}/on"\n</IfDefine>\n'
             '<IfDefine !SWITCH>\nAlias /sw "{docroot}/off"\nBogusOnlyWhenDefined\n</IfDefine>')
    start(relaisd, extra.replace("BogusOnlyWhenDefined\n", ""))
    assert body(relaisd, "/sw/id.txt") == b"off"
    relaisd.stop()
    start(relaisd, extra.replace("!SWITCH", "SWITCHX"), args=["-DFOREGROUND", "-DSWITCH"])
    assert body(relaisd, "/sw/id.txt") == b"on"


def test_ifmodule_forms(relaisd):
    relaisd.write("htdocs/yes/id.txt", "yes")
    start(relaisd, '<IfModule mod_alias.c>\nAlias /a1 "{docroot}/yes"\n</IfModule>\n'
                   '<IfModule alias_module>\nAlias /a2 "{docroot}/yes"\n</IfModule>\n'
                   '<IfModule !mod_alias.c>\nAlias /a3 "{docroot}/yes"\n</IfModule>\n'
                   '<IfModule !nosuch_module>\nAlias /a4 "{docroot}/yes"\n</IfModule>\n'
                   '<IfModule mod_nosuch.c>\nNotARealDirective x\n</IfModule>')
    assert body(relaisd, "/a1/id.txt") == b"yes"
    assert body(relaisd, "/a2/id.txt") == b"yes"
    assert status(relaisd, "/a3/id.txt") == 404
    assert body(relaisd, "/a4/id.txt") == b"yes"


def test_ifversion(relaisd):
    relaisd.write("htdocs/yes/id.txt", "yes")
    start(relaisd, '<IfVersion >= 2.4>\nAlias /v1 "{docroot}/yes"\n</IfVersion>\n'
                   '<IfVersion < 2.4>\nAlias /v2 "{docroot}/yes"\n</IfVersion>\n'
                   '<IfVersion >= 2.4.1>\nAlias /v3 "{docroot}/yes"\n</IfVersion>\n'
                   # missing parts are zero: "= 2.4" is 2.4.0
                   '<IfVersion = 2.4>\nAlias /v6 "{docroot}/yes"\n</IfVersion>\n'
                   '<IfVersion > 2.4>\nAlias /v7 "{docroot}/yes"\n</IfVersion>\n'
                   '<IfVersion ~ ^2\\.4\\.>\nAlias /v4 "{docroot}/yes"\n</IfVersion>\n'
                   '<IfVersion !~ ^2\\.4>\nAlias /v5 "{docroot}/yes"\n</IfVersion>')
    assert body(relaisd, "/v1/id.txt") == b"yes"
    assert status(relaisd, "/v2/id.txt") == 404
    assert body(relaisd, "/v3/id.txt") == b"yes"
    assert body(relaisd, "/v4/id.txt") == b"yes"
    assert status(relaisd, "/v5/id.txt") == 404
    assert status(relaisd, "/v6/id.txt") == 404
    assert body(relaisd, "/v7/id.txt") == b"yes"


def test_ifversion_is_the_announced_version(relaisd):
    relaisd.write("htdocs/yes/id.txt", "yes")
    start(relaisd, '<IfVersion = 2.4.71>\nAlias /v "{docroot}/yes"\n</IfVersion>')
    assert relaisd.get("/").headers["Server"] == "Apache/2.4.71 (Unix) relais/0.1"
    assert body(relaisd, "/v/id.txt") == b"yes"


def test_dash_c_directive_after_the_config(make_relaisd):
    """-c "Listen ...": one more port; -c runs after the file, so its
    DocumentRoot wins, while -C runs before and is overridden."""
    d = make_relaisd(nports=2)
    d.write("htdocs/c/id.txt", "c")
    d.write("htdocs/id.txt", "main")
    d.write_config()
    d.start(["-DFOREGROUND", "-c", f"Listen 127.0.0.1:{d.ports[1]}",
             "-C", f'DocumentRoot "{d.docroot}/c"'])
    d.wait_listening(ports=[d.ports[1]])
    assert body(d, "/id.txt") == b"main"
    assert body(d, "/id.txt", port=d.ports[1]) == b"main"
    d.stop()
    d.start(["-DFOREGROUND", "-c", f'DocumentRoot "{d.docroot}/c"'])
    assert body(d, "/id.txt") == b"c"


def test_dash_C_define(relaisd):
    relaisd.write("htdocs/x/id.txt", "x")
    relaisd.write_config(extra='<IfDefine FROM_C>\nAlias /c "{docroot}/x"\n</IfDefine>')
    relaisd.start(["-DFOREGROUND", "-C", "Define FROM_C"])
    assert body(relaisd, "/c/id.txt") == b"x"


# ==========================================================================
# virtual hosts

VHOSTS = """\
<VirtualHost *:{port}>
    ServerName a.test
    DocumentRoot "{docroot}/a"
</VirtualHost>
<VirtualHost *:{port}>
    ServerName B.Test
    ServerAlias www.b.test *.wild.test
    DocumentRoot "{docroot}/b"
</VirtualHost>
<VirtualHost *:{port}>
    DocumentRoot "{docroot}/nameless"
</VirtualHost>
"""


@pytest.fixture
def vhosts(relaisd):
    for v in ("a", "b", "nameless"):
        relaisd.write(f"htdocs/{v}/id.txt", v)
    relaisd.write("htdocs/id.txt", "main")
    return start(relaisd, VHOSTS)


@pytest.mark.parametrize("host,want", [
    ("a.test", b"a"),
    ("b.test", b"b"),                   # ServerName is case-insensitive
    ("B.TEST", b"b"),
    ("www.b.test", b"b"),
    ("x.wild.test", b"b"),              # ServerAlias wildcard
    ("deep.x.wild.test", b"b"),
    ("WWW.B.Test:{port}", b"b"),        # with the port
    ("a.test.", b"a"),                  # trailing dot
    ("unknown.test", b"a"),             # no match: the first vhost
    ("wild.test", b"a"),
    ("localhost", b"nameless"),         # a vhost without ServerName has the main one's
])
def test_name_based_vhost(vhosts, host, want):
    host = host.format(port=vhosts.port)
    assert body(vhosts, "/id.txt", host=host) == want


def test_vhost_without_host_header(vhosts):
    data = raw(vhosts.port, b"GET /id.txt HTTP/1.0\r\n\r\n")
    assert data.endswith(b"\r\n\r\na")


def test_vhost_absolute_uri_wins_over_host(vhosts):
    r = vhosts.get("http://www.b.test/id.txt", host="a.test")
    assert (r.status, r.body) == (200, b"b")


def _can_bind(ip, port):
    try:
        with socket.socket() as s:
            s.bind((ip, port))
        return True
    except OSError:
        return False


def test_ip_based_vhost_wins_over_wildcard(relaisd):
    """A vhost on the exact address wins over *:port whatever the Host; the
    other address gets the name-based ones."""
    if not _can_bind("127.0.0.2", relaisd.port):
        pytest.skip("cannot bind 127.0.0.2")
    for v in ("star", "ip1", "ip2"):
        relaisd.write(f"htdocs/{v}/id.txt", v)
    start(relaisd, "Listen 127.0.0.2:{port}\n"
                   "<VirtualHost *:{port}>\nServerName star.test\n"
                   'DocumentRoot "{docroot}/star"\n</VirtualHost>\n'
                   "<VirtualHost 127.0.0.1:{port}>\nServerName ip1.test\n"
                   'DocumentRoot "{docroot}/ip1"\n</VirtualHost>\n'
                   "<VirtualHost 127.0.0.2:{port}>\nServerName ip2.test\n"
                   'DocumentRoot "{docroot}/ip2"\n</VirtualHost>\n')
    assert body(relaisd, "/id.txt", host="star.test") == b"ip1"
    assert body(relaisd, "/id.txt", host="ip2.test") == b"ip1"
    with open_conn(relaisd.port, host="127.0.0.2") as c:
        r = c.request("GET", "/id.txt", host="star.test")
        assert (r.status, r.body) == (200, b"ip2")


def test_ip_vhost_and_name_vhosts_on_another_address(relaisd):
    if not _can_bind("127.0.0.2", relaisd.port):
        pytest.skip("cannot bind 127.0.0.2")
    for v in ("star1", "star2", "ip2"):
        relaisd.write(f"htdocs/{v}/id.txt", v)
    start(relaisd, "Listen 127.0.0.2:{port}\n"
                   "<VirtualHost 127.0.0.2:{port}>\nServerName ip2.test\n"
                   'DocumentRoot "{docroot}/ip2"\n</VirtualHost>\n'
                   "<VirtualHost *:{port}>\nServerName star1.test\n"
                   'DocumentRoot "{docroot}/star1"\n</VirtualHost>\n'
                   "<VirtualHost *:{port}>\nServerName star2.test\n"
                   'DocumentRoot "{docroot}/star2"\n</VirtualHost>\n')
    assert body(relaisd, "/id.txt", host="star2.test") == b"star2"
    assert body(relaisd, "/id.txt", host="ip2.test") == b"star1"
    with open_conn(relaisd.port, host="127.0.0.2") as c:
        assert c.request("GET", "/id.txt", host="star2.test").body == b"ip2"


def test_main_server_when_no_vhost_has_the_address(make_relaisd):
    d = make_relaisd(nports=2)
    d.write("htdocs/id.txt", "main")
    d.write("htdocs/v/id.txt", "v")
    start(d, "Listen 127.0.0.1:{port1}\n<VirtualHost *:{port1}>\nServerName v.test\n"
             'DocumentRoot "{docroot}/v"\n</VirtualHost>')
    assert body(d, "/id.txt", host="v.test") == b"main"
    assert body(d, "/id.txt", port=d.ports[1], host="other.test") == b"v"


def test_vhost_own_logs(relaisd):
    relaisd.write("htdocs/a/id.txt", "a")
    relaisd.write("htdocs/b/id.txt", "b")
    start(relaisd, "<VirtualHost *:{port}>\nServerName a.test\n"
                   'DocumentRoot "{docroot}/a"\n'
                   'ErrorLog "{logs}/a_error"\nCustomLog "{logs}/a_access" common\n'
                   "</VirtualHost>\n"
                   "<VirtualHost *:{port}>\nServerName b.test\n"
                   'DocumentRoot "{docroot}/b"\n</VirtualHost>')
    logs = relaisd.logs
    assert body(relaisd, "/id.txt", host="a.test") == b"a"
    assert status(relaisd, "/missing", host="a.test") == 404
    assert body(relaisd, "/id.txt", host="b.test") == b"b"
    assert status(relaisd, "/missing-b", host="b.test") == 404
    a_lines = wait_lines(logs / "a_access", 2)
    assert re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "GET /id\.txt HTTP/1\.1" 200 1',
                        one(a_lines, "GET /id.txt"))
    main = wait_lines(relaisd.access_log_path, 2)
    assert all("/missing-b" in ln or "/id.txt" in ln for ln in main)
    # LogLevel info is inherited from the main server
    wait_file(logs / "a_error", rf"AH00128: File does not exist: {re.escape(str(relaisd.docroot))}"
                                r"/a/missing$")
    relaisd.wait_for_log(r"AH00128: File does not exist: .*/b/missing-b$")
    assert "missing-b" not in open(logs / "a_error").read()
    assert "/a/missing" not in relaisd.error_log()


# ==========================================================================
# <Directory>, <Files>, <Location>, Require

def test_directory_by_depth(relaisd):
    """Sections sort by depth whatever their order in the file: the deeper
    one overrides the shallower one."""
    for f in ("d1/f.txt", "d1/d2/f.txt", "d1/d2/d3/f.txt"):
        relaisd.write(f"htdocs/{f}", f)
    start(relaisd, '<Directory "{docroot}/d1/d2">\nRequire all granted\n</Directory>\n'
                   '<Directory "{docroot}/d1">\nRequire all denied\n</Directory>\n'
                   '<Directory "{docroot}/d1/d2/d3/">\nRequire all denied\n</Directory>')
    assert status(relaisd, "/d1/f.txt") == 403
    assert body(relaisd, "/d1/d2/f.txt") == b"d1/d2/f.txt"
    assert status(relaisd, "/d1/d2/d3/f.txt") == 403
    assert status(relaisd, "/d1/d2/d3/") == 403


def test_directory_wildcard(relaisd):
    relaisd.write("htdocs/user1/f.txt", "1")
    relaisd.write("htdocs/userx/f.txt", "x")
    relaisd.write("htdocs/user1/sub/f.txt", "s")
    start(relaisd, '<Directory "{docroot}/user[0-9]">\nRequire all denied\n</Directory>')
    assert status(relaisd, "/user1/f.txt") == 403
    assert status(relaisd, "/user1/sub/f.txt") == 403
    assert body(relaisd, "/userx/f.txt") == b"x"


def test_directory_match_after_plain_sections(relaisd):
    """Regex sections apply after every plain <Directory>, whatever the
    depth; <Directory ~ re> is the same as <DirectoryMatch re>."""
    for f in ("priv1/f.txt", "privx/f.txt", "priv2/f.txt", "tilde7/f.txt", "123/f.txt",
              "x/456/f.txt", "12/f.txt"):
        relaisd.write(f"htdocs/{f}", "ok")
    start(relaisd, '<DirectoryMatch "/priv[0-9]+">\nRequire all denied\n</DirectoryMatch>\n'
                   '<Directory "{docroot}/priv2">\nRequire all granted\n</Directory>\n'
                   '<Directory ~ "/tilde[0-9]">\nRequire all denied\n</Directory>\n'
                   # the example of Apache's documentation: a trailing slash
                   '<DirectoryMatch "^{docroot}/(.+/)?[0-9]{{3}}/">\nRequire all denied\n'
                   '</DirectoryMatch>')
    assert status(relaisd, "/priv1/f.txt") == 403
    assert status(relaisd, "/priv2/f.txt") == 403
    assert body(relaisd, "/privx/f.txt") == b"ok"
    assert status(relaisd, "/tilde7/f.txt") == 403
    assert status(relaisd, "/123/f.txt") == 403
    assert status(relaisd, "/x/456/f.txt") == 403
    assert body(relaisd, "/12/f.txt") == b"ok"


def test_files_and_filesmatch(relaisd):
    for f in (".htpasswd", ".htaccess", "sub/.htfoo", "secret.txt", "sub/secret.txt",
              "public.txt", "x.bak", "notes.txt"):
        relaisd.write(f"htdocs/{f}", "data")
    start(relaisd, '<FilesMatch "^\\.ht">\nRequire all denied\n</FilesMatch>\n'
                   '<Files "secret.txt">\nRequire all denied\n</Files>\n'
                   '<Files "*.bak">\nRequire all denied\n</Files>\n'
                   '<Files ~ "^notes">\nRequire all denied\n</Files>')
    for t in ("/.htpasswd", "/.htaccess", "/sub/.htfoo", "/secret.txt", "/sub/secret.txt",
              "/x.bak", "/notes.txt"):
        assert status(relaisd, t) == 403, t
    assert body(relaisd, "/public.txt") == b"data"


def test_files_nested_in_directory(relaisd):
    relaisd.write("htdocs/nest/x.txt", "n")
    relaisd.write("htdocs/nest/deeper/x.txt", "d")
    relaisd.write("htdocs/x.txt", "top")
    start(relaisd, '<Directory "{docroot}/nest">\n<Files "x.txt">\nRequire all denied\n'
                   '</Files>\n</Directory>')
    assert status(relaisd, "/nest/x.txt") == 403
    assert status(relaisd, "/nest/deeper/x.txt") == 403
    assert body(relaisd, "/x.txt") == b"top"


def test_files_override_directory(relaisd):
    relaisd.write("htdocs/d/open.txt", "o")
    relaisd.write("htdocs/d/f.txt", "f")
    start(relaisd, '<Directory "{docroot}/d">\nRequire all denied\n</Directory>\n'
                   '<Files "open.txt">\nRequire all granted\n</Files>')
    assert body(relaisd, "/d/open.txt") == b"o"
    assert status(relaisd, "/d/f.txt") == 403


def test_location_and_locationmatch(relaisd):
    for f in ("loc/f.txt", "locx.txt", "lm/42/f.txt", "lm/x/f.txt", "loc2/f.txt"):
        relaisd.write(f"htdocs/{f}", "ok")
    start(relaisd, '<Location "/loc">\nRequire all denied\n</Location>\n'
                   '<Location "/loc2/">\nRequire all denied\n</Location>\n'
                   '<LocationMatch "^/lm/[0-9]+/">\nRequire all denied\n</LocationMatch>')
    assert status(relaisd, "/loc") == 403
    assert status(relaisd, "/loc/") == 403
    assert status(relaisd, "/loc/f.txt") == 403
    assert body(relaisd, "/locx.txt") == b"ok"      # Apache 2.4: whole path segments
    assert status(relaisd, "/loc2/f.txt") == 403
    assert status(relaisd, "/lm/42/f.txt") == 403
    assert body(relaisd, "/lm/x/f.txt") == b"ok"


def test_location_overrides_directory_and_files(relaisd):
    relaisd.write("htdocs/mo/open/f.txt", "open")
    relaisd.write("htdocs/mo/f.txt", "closed")
    relaisd.write("htdocs/pub/f.secret", "s")
    start(relaisd, '<Directory "{docroot}/mo">\nRequire all denied\n</Directory>\n'
                   '<Location "/mo/open">\nRequire all granted\n</Location>\n'
                   '<Files "*.secret">\nRequire all denied\n</Files>\n'
                   '<Location "/pub">\nRequire all granted\n</Location>')
    assert body(relaisd, "/mo/open/f.txt") == b"open"
    assert status(relaisd, "/mo/f.txt") == 403
    assert body(relaisd, "/pub/f.secret") == b"s"


def test_require_ip_denied_logs_ah01630(relaisd):
    relaisd.write("htdocs/ten/f.txt", "t")
    relaisd.write("htdocs/lo/f.txt", "l")
    start(relaisd, '<Directory "{docroot}/ten">\nRequire ip 10.0.0.0/8\n</Directory>\n'
                   '<Directory "{docroot}/lo">\nRequire ip 127.0.0.1\n</Directory>')
    assert body(relaisd, "/lo/f.txt") == b"l"
    r = relaisd.get("/ten/f.txt")
    assert r.status == 403
    assert r.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert b"<title>403 Forbidden</title>" in r.body
    path = re.escape(f"{relaisd.docroot}/ten/f.txt")
    m = relaisd.wait_for_log(rf"^{ERRLOG_TIME} \[authz_core:error\] \[pid (\d+)\] "
                             rf"\[client 127\.0\.0\.1:(\d+)\] AH01630: client denied by server "
                             rf"configuration: {path}$")
    assert int(m.group(1)) in relaisd.children()
    relaisd.wait_for_access_log(r'"GET /ten/f\.txt HTTP/1\.1" 403 \d+')


@pytest.mark.parametrize("rules,want", [
    ("Require local", 200),
    ("Require ip 127.0.0.0/8 ::1", 200),
    ("Require ip 127.0.0.2", 403),
    ("Require ip 127.0.0", 200),                              # partial address
    ("Require all denied", 403),
    ("<RequireAll>\nRequire all granted\nRequire not ip 127.0.0.1\n</RequireAll>", 403),
    ("<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.0/8\n</RequireAll>", 200),
    ("<RequireAny>\nRequire ip 10.1.2.3\nRequire ip 127.0.0.0/8\n</RequireAny>", 200),
    ("<RequireAny>\nRequire ip 10.1.2.3\nRequire ip 192.168.0.0/16\n</RequireAny>", 403),
    ("<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 127.0.0.1\n"
     "</RequireNone>\n</RequireAll>", 403),
    ("<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10.0.0.0/8\n"
     "</RequireNone>\n</RequireAll>", 200),
    ("<RequireAll>\nRequire local\n<RequireAny>\nRequire ip 10.0.0.1\nRequire ip 127.0.0.1\n"
     "</RequireAny>\n</RequireAll>", 200),
])
def test_require(relaisd, rules, want):
    relaisd.write("htdocs/z/f.txt", "z")
    start(relaisd, f'<Directory "{{docroot}}/z">\n{rules}\n</Directory>')
    assert status(relaisd, "/z/f.txt") == want


@pytest.mark.parametrize("rules,offset,msg", [
    ("Require not ip 10.0.0.1\nRequire all granted", 1,
     "negative Require directive has no effect in <RequireAny> directive"),
    ("<RequireAny>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAny>", 3,
     "negative Require directive has no effect in <RequireAny> directive"),
    ("<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>", 1,
     "<RequireNone> directive has no effect in <RequireAny> directive"),
    ("<RequireAll>\n</RequireAll>", 1,
     "<RequireAll> directive contains no authorization directives"),
    ("Require all maybe", 1, "'all' requires the argument 'granted' or 'denied'"),
    ("Require ip 300.1.1.1", 1, "ip address '300.1.1.1' appears to be invalid"),
    ("Require nosuchprovider x", 1, "Unknown Authz provider: nosuchprovider"),
])
def test_require_errors(relaisd, rules, offset, msg):
    r = check(relaisd, f'<Directory "{{docroot}}/z">\n{rules}\n</Directory>')
    assert (r.rc, r.stderr) == (1, syntax_error(relaisd.conf, EXTRA_LINE + offset, msg))


def test_require_all_with_only_negatives_is_an_error(relaisd):
    # Apache reports it after the read ("AH01624: ... / AH00014: Configuration
    # check failed"); relais at the section's line
    r = check(relaisd, '<Directory "{docroot}">\n<RequireAll>\n<RequireNone>\n'
                       'Require ip 10.0.0.1\n</RequireNone>\n</RequireAll>\n</Directory>')
    assert r.rc == 1
    assert ("AH01624: <RequireAll> directive contains only negative authorization "
            "directives") in r.stderr


def test_require_method(relaisd):
    relaisd.write("htdocs/m/f.txt", "m")
    start(relaisd, '<Location "/m">\nRequire method GET HEAD\n</Location>')
    assert body(relaisd, "/m/f.txt") == b"m"
    assert status(relaisd, "/m/f.txt", "HEAD") == 200
    assert status(relaisd, "/m/f.txt", "DELETE") == 403
    assert status(relaisd, "/m/f.txt", "POST", body=b"x") == 403
    relaisd.wait_for_log(r"AH01630: client denied by server configuration: .*/m/f\.txt$")


def test_require_expr(relaisd):
    relaisd.write("htdocs/e/f.txt", "e")
    relaisd.write("htdocs/q/f.txt", "q")
    start(relaisd, '<Location "/e">\n'
                   'Require expr "%{{HTTP:X-Token}} == \'s3cret\' && %{{REQUEST_METHOD}} -in {{\'GET\', \'HEAD\'}}"\n'
                   '</Location>\n'
                   '<Directory "{docroot}/q">\n'
                   'Require expr %{{QUERY_STRING}} =~ /^k=[0-9]+$/\n'
                   '</Directory>')
    assert status(relaisd, "/e/f.txt") == 403
    assert status(relaisd, "/e/f.txt", headers={"X-Token": "wrong"}) == 403
    assert body(relaisd, "/e/f.txt", headers={"X-Token": "s3cret"}) == b"e"
    assert status(relaisd, "/e/f.txt", "POST", headers={"X-Token": "s3cret"}, body=b"x") == 403
    assert body(relaisd, "/q/f.txt?k=42") == b"q"
    assert status(relaisd, "/q/f.txt?k=x") == 403
    assert status(relaisd, "/q/f.txt") == 403


def test_require_expr_syntax_error_names_the_line(relaisd):
    relaisd.write_config(extra='<Location "/x">\nRequire expr "%{{REQUEST_URI}} == "\n</Location>')
    res = relaisd.run(["-t"])
    assert res.rc == 1
    assert "Cannot parse expression in require line" in res.stderr
    assert re.search(r"Syntax error on line \d+ of .*relaisd\.conf", res.stderr), res.stderr


def test_if_elseif_else(relaisd):
    relaisd.write("htdocs/m/f.txt", "m")
    start(relaisd, '<Location "/m">\n'
                   '<If "%{{HTTP:X-Mode}} == \'a\'">\nForceType text/x-a\n</If>\n'
                   '<ElseIf "%{{HTTP:X-Mode}} -in {{\'b\', \'bb\'}}">\nForceType text/x-b\n</ElseIf>\n'
                   '<Else>\nForceType text/x-c\n</Else>\n'
                   '</Location>\n'
                   '<If "%{{QUERY_STRING}} =~ /(^|&)deny(&|$)/">\nRequire all denied\n</If>')
    def ctype(mode):
        r = relaisd.get("/m/f.txt", headers={"X-Mode": mode} if mode else None)
        assert r.status == 200, r.status
        return r.headers["Content-Type"]
    assert ctype("a") == "text/x-a"
    assert ctype("bb") == "text/x-b"
    assert ctype("z") == "text/x-c"
    assert ctype(None) == "text/x-c"
    assert status(relaisd, "/m/f.txt?x=1&deny") == 403
    assert status(relaisd, "/m/f.txt?denyx") == 200


def test_if_file_test_inside_filesmatch(relaisd):
    """The shape of Debian's php8.2-fpm.conf: <FilesMatch> holding <If -f>."""
    relaisd.write("htdocs/here.txt", "h")
    start(relaisd, '<FilesMatch "\\.txt$">\n<If "-f %{{REQUEST_FILENAME}}">\n'
                   'Require all denied\n</If>\n</FilesMatch>')
    assert status(relaisd, "/here.txt") == 403
    assert status(relaisd, "/gone.txt") == 404


@pytest.mark.parametrize("conf,msg", [
    ('<Else>\nRequire all denied\n</Else>', "without previous <If> or <ElseIf>"),
    ('<If "%{{REQUEST_URI}} =~ ">\n</If>', "Cannot parse condition clause"),
    ('<If "true">\n</If>\nServerAdmin x@y\n<Else>\n</Else>', "without previous <If> or <ElseIf>"),
])
def test_if_errors(relaisd, conf, msg):
    relaisd.write_config(extra=conf)
    res = relaisd.run(["-t"])
    assert res.rc == 1 and msg in res.stderr, res.stderr
    assert re.search(r"Syntax error on line \d+ of .*relaisd\.conf", res.stderr), res.stderr


def test_require_in_vhost_merges_with_main_directory(relaisd):
    relaisd.write("htdocs/v/f.txt", "v")
    start(relaisd, "<VirtualHost *:{port}>\nServerName v.test\n"
                   '<Directory "{docroot}/v">\nRequire all denied\n</Directory>\n'
                   "</VirtualHost>\n<VirtualHost *:{port}>\nServerName w.test\n</VirtualHost>")
    assert status(relaisd, "/v/f.txt", host="v.test") == 403
    assert body(relaisd, "/v/f.txt", host="w.test") == b"v"


# ==========================================================================
# Options, DirectoryIndex, DirectorySlash

def test_options_indexes_without_index_is_403(relaisd):
    relaisd.write("htdocs/idx/f.txt", "f")
    relaisd.write("htdocs/noidx/f.txt", "f")
    start(relaisd, '<Directory "{docroot}/idx">\nOptions Indexes\n</Directory>')
    assert status(relaisd, "/idx/") == 403
    assert status(relaisd, "/noidx/") == 403
    relaisd.wait_for_log(r"\[autoindex:error\] .*AH01276: Cannot serve directory "
                         + re.escape(f"{relaisd.docroot}/noidx"))


def test_directory_index_first_existing(relaisd):
    relaisd.write("htdocs/two/second.html", "second")
    relaisd.write("htdocs/two/index.html", "index")
    relaisd.write("htdocs/one/index.html", "only")
    relaisd.write("htdocs/plain/index.html", "plain")
    start(relaisd, '<Directory "{docroot}/two">\nDirectoryIndex nope.html second.html '
                   'index.html\n</Directory>\n'
                   '<Directory "{docroot}/one">\nDirectoryIndex nope.html second.html '
                   'index.html\n</Directory>')
    assert body(relaisd, "/two/") == b"second"
    assert body(relaisd, "/one/") == b"only"
    assert body(relaisd, "/plain/") == b"plain"      # default: index.html
    relaisd.wait_for_access_log(r'"GET /two/ HTTP/1\.1" 200 6 ')


def test_directory_slash(relaisd):
    relaisd.write("htdocs/dir/index.html", "idx")
    relaisd.write("htdocs/noslash/index.html", "idx")
    start(relaisd, '<Directory "{docroot}/noslash">\nDirectorySlash Off\n</Directory>')
    r = relaisd.get("/dir?a=1")
    assert r.status == 301
    # the harness sends "Host: localhost": no port there means ServerName's
    # port, else 80 (Apache's UseCanonicalName Off)
    assert r.headers["Location"] == "http://localhost/dir/?a=1"
    r = relaisd.get("/dir", host=f"example.test:{relaisd.port}")
    assert r.headers["Location"] == f"http://example.test:{relaisd.port}/dir/"
    r = relaisd.get("/noslash")
    assert r.status != 301 and "Location" not in r.headers
    assert r.status == 403
    assert body(relaisd, "/noslash/") == b"idx"


# ==========================================================================
# Alias, Redirect

def test_alias_outside_docroot(relaisd):
    relaisd.write("outside/f.txt", "outside")
    relaisd.write("outside/sub/g.txt", "g")
    relaisd.write("htdocs/f.txt", "inside")
    start(relaisd, 'Alias /ext "{prefix}/outside"\n'
                   'Alias /file.txt "{prefix}/outside/f.txt"\n'
                   '<Directory "{prefix}/outside">\nRequire all granted\n</Directory>')
    assert body(relaisd, "/ext/f.txt") == b"outside"
    assert body(relaisd, "/ext/sub/g.txt") == b"g"
    assert body(relaisd, "/file.txt") == b"outside"
    assert body(relaisd, "/f.txt") == b"inside"
    assert status(relaisd, "/extra/f.txt") == 404        # not the alias /ext
    # never out of the alias target
    for t in ("/ext/../conf/relaisd.conf", "/ext/%2e%2e/conf/relaisd.conf",
              "/ext/sub/../../conf/relaisd.conf", "/ext/..%2fconf/relaisd.conf"):
        r = relaisd.get(t)
        assert r.status in (400, 404), (t, r.status)
        assert b"ServerRoot" not in r.body


def test_alias_to_denied_directory(relaisd):
    relaisd.write("outside/f.txt", "outside")
    start(relaisd, 'Alias /ext "{prefix}/outside"\n'
                   '<Directory "{prefix}/outside">\nRequire all denied\n</Directory>')
    assert status(relaisd, "/ext/f.txt") == 403


def test_aliasmatch(relaisd):
    relaisd.write("outside/x.txt", "x")
    relaisd.write("outside/b/y.txt", "y")
    start(relaisd, 'AliasMatch "^/am/(.*)\\.text$" "{prefix}/outside/$1.txt"\n'
                   'AliasMatch "^/swap/([a-z])/([a-z])$" "{prefix}/outside/$2/$1.txt"\n'
                   '<Directory "{prefix}/outside">\nRequire all granted\n</Directory>')
    assert body(relaisd, "/am/x.text") == b"x"
    assert body(relaisd, "/swap/y/b") == b"y"
    assert status(relaisd, "/am/x.txt") == 404


def test_redirect_forms(relaisd):
    start(relaisd, "Redirect /old http://example.com/new\n"
                   "Redirect permanent /perm http://example.com/p\n"
                   "Redirect temp /tmp2 http://example.com/t\n"
                   "Redirect seeother /see http://example.com/s\n"
                   "Redirect 307 /r307 http://example.com/7\n"
                   "Redirect gone /gone\n"
                   "RedirectPermanent /rp http://example.com/rp\n"
                   "RedirectTemp /rt http://example.com/rt\n"
                   'RedirectMatch "^/rm/(\\d+)/(.*)$" "http://example.com/n/$2/$1"\n'
                   'RedirectMatch 301 "\\.php$" "http://example.com/php"')
    cases = [
        ("/old", 302, "http://example.com/new"),
        ("/old/x/y.html", 302, "http://example.com/new/x/y.html"),
        ("/old/x?q=1&b=2", 302, "http://example.com/new/x?q=1&b=2"),
        ("/perm/a", 301, "http://example.com/p/a"),
        ("/tmp2", 302, "http://example.com/t"),
        ("/see", 303, "http://example.com/s"),
        ("/r307/z", 307, "http://example.com/7/z"),
        ("/rp", 301, "http://example.com/rp"),
        ("/rt", 302, "http://example.com/rt"),
        ("/rm/42/abc", 302, "http://example.com/n/abc/42"),
        ("/rm/42/abc?q=1", 302, "http://example.com/n/abc/42?q=1"),
        ("/x/index.php", 301, "http://example.com/php"),
    ]
    for target, st, loc in cases:
        r = relaisd.get(target)
        assert (r.status, r.headers.get("Location")) == (st, loc), target
    assert status(relaisd, "/oldx") == 404                  # whole segments only
    r = relaisd.get("/gone/x")
    assert r.status == 410 and "Location" not in r.headers
    assert b"<title>410 Gone</title>" in r.body
    r = relaisd.get("/old")
    assert b'<p>The document has moved <a href="http://example.com/new">here</a>.</p>' in r.body


def test_redirect_in_location_and_directory(relaisd):
    relaisd.write("htdocs/rd/f.txt", "f")
    start(relaisd, '<Location "/inloc">\nRedirect permanent "http://example.com/two"\n'
                   '</Location>\n'
                   '<Directory "{docroot}/rd">\nRedirect /rd http://example.com/rd2\n</Directory>')
    r = relaisd.get("/inloc")
    assert (r.status, r.headers.get("Location")) == (301, "http://example.com/two")
    r = relaisd.get("/inloc/zz")
    assert (r.status, r.headers.get("Location")) == (301, "http://example.com/two")
    r = relaisd.get("/rd/f.txt?x=1")
    assert (r.status, r.headers.get("Location")) == (302, "http://example.com/rd2/f.txt?x=1")


# ==========================================================================
# ErrorDocument

def test_error_document_text(relaisd):
    start(relaisd, 'ErrorDocument 404 "Custom not found"')
    r = relaisd.get("/nothere")
    assert (r.status, r.body) == (404, b"Custom not found")
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Length"] == "16"


def test_error_document_local_path(relaisd):
    relaisd.write("htdocs/errors/404.html", "<h1>custom 404</h1>\n")
    start(relaisd, "ErrorDocument 404 /errors/404.html")
    r = relaisd.get("/nothere")
    assert r.status == 404
    assert r.body == b"<h1>custom 404</h1>\n"
    assert r.headers["Content-Type"].startswith("text/html")
    relaisd.wait_for_access_log(r'"GET /nothere HTTP/1\.1" 404 20 ')
    # HEAD: the status, no body
    r = relaisd.request("HEAD", "/nothere")
    assert (r.status, r.body) == (404, b"")


def test_error_document_url_redirects(relaisd):
    start(relaisd, "ErrorDocument 404 http://example.com/nf")
    r = relaisd.get("/nothere")
    assert (r.status, r.headers.get("Location")) == (302, "http://example.com/nf")


def test_error_document_per_directory(relaisd):
    relaisd.write("htdocs/sub/f.txt", "f")
    start(relaisd, 'ErrorDocument 404 "top"\n'
                   '<Directory "{docroot}/sub">\nErrorDocument 404 "sub"\n</Directory>')
    assert relaisd.get("/sub/missing").body == b"sub"
    assert relaisd.get("/missing").body == b"top"


def test_error_document_missing_target(relaisd):
    """An ErrorDocument that is itself missing: the original status and
    Apache's page (with its note about the ErrorDocument)."""
    start(relaisd, "ErrorDocument 404 /errors/nothere.html")
    r = relaisd.get("/nothere")
    assert r.status == 404
    assert b"<title>404 Not Found</title>" in r.body


# ==========================================================================
# access logs

def test_combined_log(relaisd):
    relaisd.write("htdocs/a.txt", "hello\n")
    start(relaisd)
    relaisd.get("/a.txt?x=1", headers={"Referer": "http://ref.test/p", "User-Agent": "t/1.0"})
    relaisd.get("/missing")
    lines = wait_lines(relaisd.access_log_path, 2)
    assert re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "GET /a\.txt\?x=1 HTTP/1\.1" 200 6 '
                        r'"http://ref\.test/p" "t/1\.0"', one(lines, "/a.txt")), lines
    assert re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "GET /missing HTTP/1\.1" 404 236 '
                        r'"-" "-"', one(lines, "/missing")), lines


def test_common_and_vhost_combined(relaisd):
    relaisd.write("htdocs/a.txt", "hello\n")
    start(relaisd, 'CustomLog "{logs}/common_log" common\n'
                   'CustomLog "{logs}/vhost_log" vhost_combined')
    r = relaisd.get("/a.txt", headers={"User-Agent": "ua"})
    h = relaisd.request("HEAD", "/a.txt")
    logs = relaisd.logs
    common = wait_lines(logs / "common_log", 2)
    assert re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "GET /a\.txt HTTP/1\.1" 200 6',
                        one(common, '"GET ')), common
    assert re.fullmatch(rf'127\.0\.0\.1 - - {CLF_TIME} "HEAD /a\.txt HTTP/1\.1" 200 -',
                        one(common, '"HEAD ')), common
    vh = wait_lines(logs / "vhost_log", 2)
    assert re.fullmatch(rf'localhost:{relaisd.port} 127\.0\.0\.1 - - {CLF_TIME} '
                        rf'"GET /a\.txt HTTP/1\.1" 200 {len(r.raw)} "-" "ua"', one(vh, '"GET ')), vh
    assert re.fullmatch(rf'localhost:{relaisd.port} 127\.0\.0\.1 - - {CLF_TIME} '
                        rf'"HEAD /a\.txt HTTP/1\.1" 200 {len(h.raw)} "-" "-"', one(vh, '"HEAD ')), vh
    wait_lines(relaisd.access_log_path, 2)      # and the combined one still gets them


def test_custom_log_format(relaisd):
    relaisd.write("htdocs/dir/a.txt", "12345")
    start(relaisd, 'LogFormat "%{X-Test}i|%>s|%b|%B|%D|%v|%p|%q|%U|%m|%H|%a|%{Host}i|%%" '
                   'mine\nCustomLog "{logs}/custom_log" mine')
    # write_config leaves braces that are not its placeholders alone
    assert "%{X-Test}i|" in relaisd.conf.read_text()
    relaisd.get("/dir/a.txt?k=v&z", headers={"X-Test": "hello world"})
    relaisd.request("HEAD", "/dir/a.txt", host="h.test")
    relaisd.get("/missing")
    lines = wait_lines(relaisd.logs / "custom_log", 3)
    p = relaisd.port
    assert re.fullmatch(rf"hello world\|200\|5\|5\|\d+\|localhost\|{p}\|\?k=v&z\|/dir/a\.txt\|"
                        r"GET\|HTTP/1\.1\|127\.0\.0\.1\|localhost\|%", one(lines, "hello")), lines
    assert re.fullmatch(rf"-\|200\|-\|0\|\d+\|localhost\|{p}\|\|/dir/a\.txt\|HEAD\|HTTP/1\.1\|"
                        r"127\.0\.0\.1\|h\.test\|%", one(lines, "|HEAD|")), lines
    assert re.fullmatch(rf"-\|404\|236\|236\|\d+\|localhost\|{p}\|\|/missing\|GET\|HTTP/1\.1\|"
                        r"127\.0\.0\.1\|localhost\|%", one(lines, "/missing")), lines


def test_log_empty_header_is_empty_unset_is_dash(relaisd):
    relaisd.write("htdocs/a.txt", "a")
    start(relaisd, 'LogFormat "[%{{Referer}}i] [%{{X-None}}i]" eh\nCustomLog "{logs}/eh_log" eh')
    relaisd.get("/a.txt", headers={"Referer": ""})
    assert wait_lines(relaisd.logs / "eh_log", 1) == ["[] [-]"]


def test_log_time_D_counts_microseconds(relaisd):
    """%D is in microseconds, %T in seconds."""
    relaisd.write("htdocs/a.txt", "a")
    start(relaisd, 'LogFormat "%D %T %{ms}T %{us}T" t\nCustomLog "{logs}/t_log" t')
    relaisd.get("/a.txt")
    m = wait_file(relaisd.logs / "t_log", r"^(\d+) (\d+) (\d+) (\d+)$")
    us, s, ms, us2 = map(int, m.groups())
    assert 0 < us < 5_000_000 and s == us // 1_000_000
    assert abs(ms - us2 // 1000) <= 1 and abs(us2 - us) < 1_000_000


def test_custom_log_env_condition_without_variables(relaisd):
    """env=!VAR logs everything when VAR is never set, env=VAR nothing."""
    relaisd.write("htdocs/a.txt", "a")
    start(relaisd, 'CustomLog "{logs}/neg_log" common env=!dontlog\n'
                   'CustomLog "{logs}/pos_log" common env=dolog')
    relaisd.get("/a.txt")
    wait_file(relaisd.logs / "neg_log", r'"GET /a\.txt HTTP/1\.1" 200 1$')
    relaisd.wait_for_access_log(r"/a\.txt")
    assert lines_of(relaisd.logs / "pos_log") == []


def test_setenvif_and_setenv_reach_the_log(relaisd):
    relaisd.write("htdocs/api/users.txt", "u")
    relaisd.write("htdocs/pic.png", b"\x89PNG")
    start(relaisd, 'SetEnvIf Request_URI "^/api/(\\w+)" API=$1\n'
                   'SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1\n'
                   'SetEnvIf Request_URI "\\.png$" dontlog\n'
                   'SetEnv STATIC yes\n'
                   'LogFormat "%U api=%{API}e auth=%{HTTP_AUTHORIZATION}e s=%{STATIC}e" envf\n'
                   'CustomLog "{logs}/env_log" envf env=!dontlog')
    relaisd.get("/api/users.txt", headers={"authorization": "Basic dTpw"})
    relaisd.get("/pic.png")
    relaisd.get("/api/")
    lines = wait_lines(relaisd.logs / "env_log", 2)
    assert lines[0] == "/api/users.txt api=users auth=Basic dTpw s=yes", lines
    assert lines[1] == "/api/ api=- auth=- s=yes", lines
    assert not any("png" in l for l in lines)


def test_browsermatch_and_require_env(relaisd):
    relaisd.write("htdocs/b/f.txt", "b")
    relaisd.write("htdocs/s/f.txt", "s")
    start(relaisd, 'BrowserMatchNoCase "^curl/" is_curl\n'
                   '<Directory "{docroot}/b">\nRequire env is_curl\n</Directory>\n'
                   # SetEnv runs after the access checks, as in Apache
                   '<Directory "{docroot}/s">\nSetEnv late 1\nRequire env late\n</Directory>\n'
                   '<Directory "{docroot}/b">\nSetEnvIf X-Unlock "^yes$" !is_curl\n</Directory>')
    assert body(relaisd, "/b/f.txt", headers={"User-Agent": "CURL/8.0"}) == b"b"
    assert status(relaisd, "/b/f.txt", headers={"User-Agent": "Mozilla/5.0"}) == 403
    # a section rule runs after the server-level ones and can unset
    assert status(relaisd, "/b/f.txt", headers={"User-Agent": "curl/8", "X-Unlock": "yes"}) == 403
    assert status(relaisd, "/s/f.txt") == 403


# ==========================================================================
# error log format and LogLevel

def test_error_log_line_format(relaisd):
    start(relaisd)
    m = relaisd.wait_for_log(r"^\[(\w{3}) (\w{3}) (\d{2}) (\d{2}:\d{2}:\d{2})\.(\d{6}) (\d{4})\] "
                             r"\[mpm_event:notice\] \[pid (\d+)\] AH00489: Apache/2\.4\.71 "
                             r"\(Unix\) relais/0\.1 configured -- resuming normal operations$")
    assert int(m.group(7)) == relaisd.pid
    stamp = time.mktime(time.strptime(" ".join(m.group(i) for i in (1, 2, 3, 4, 6)),
                                      "%a %b %d %H:%M:%S %Y"))
    assert abs(stamp - time.time()) < 60


def _missing_then_denied(d):
    """A 404 (core, info) then a 403 (authz_core, error): once the second is
    in the log, the first would be too if its level were enabled."""
    assert status(d, "/missing-file") == 404
    assert status(d, "/den/f.txt") == 403
    d.wait_for_log(r"AH01630: client denied")
    return d.error_log()


@pytest.mark.parametrize("level,shown", [
    ("info", True),
    ("warn", False),
    ("warn core:info", True),
    ("info core:warn", False),
    ("error", False),
])
def test_loglevel(relaisd, level, shown):
    relaisd.write("htdocs/den/f.txt", "f")
    tmpl = DEFAULT_CONF.replace("LogLevel info", f"LogLevel {level}")
    relaisd.write_config(tmpl, extra='<Directory "{docroot}/den">\nRequire all denied\n'
                                     '</Directory>')
    relaisd.start()
    text = _missing_then_denied(relaisd)
    rx = (rf"^{ERRLOG_TIME} \[core:info\] \[pid \d+\] \[client 127\.0\.0\.1:\d+\] AH00128: "
          rf"File does not exist: {re.escape(str(relaisd.docroot))}/missing-file$")
    assert bool(re.search(rx, text, re.M)) == shown, text


def test_loglevel_crit_hides_errors(relaisd):
    relaisd.write("htdocs/den/f.txt", "f")
    tmpl = DEFAULT_CONF.replace("LogLevel info", "LogLevel crit")
    relaisd.write_config(tmpl, extra='<Directory "{docroot}/den">\nRequire all denied\n'
                                     '</Directory>')
    relaisd.start()
    assert status(relaisd, "/den/f.txt") == 403
    relaisd.wait_for_access_log(r"/den/f\.txt")
    time.sleep(0.2)
    assert "AH01630" not in relaisd.error_log()


def test_bad_loglevel_is_a_syntax_error(relaisd):
    r = check(relaisd, "LogLevel loud")
    assert r.rc == 1
    assert r.stderr.startswith(f"AH00526: Syntax error on line {EXTRA_LINE} of {relaisd.conf}:\n")


# ==========================================================================
# relative paths resolve against the ServerRoot

def test_relative_paths_use_server_root(relaisd):
    relaisd.write("site/id.txt", "site")
    tmpl = DEFAULT_CONF.replace('DocumentRoot "{docroot}"', "DocumentRoot site") \
                       .replace('<Directory "{docroot}">', "<Directory site>") \
                       .replace('ErrorLog "{logs}/error_log"', "ErrorLog logs/error_log") \
                       .replace('CustomLog "{logs}/access_log"', "CustomLog logs/access_log")
    relaisd.write_config(tmpl)
    relaisd.start()
    assert body(relaisd, "/id.txt") == b"site"
    relaisd.wait_for_access_log(r'"GET /id\.txt HTTP/1\.1" 200 4 ')
    relaisd.wait_for_log("AH00489")
