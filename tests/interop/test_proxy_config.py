"""mod_proxy's configuration for FastCGI backends -- ProxyPass,
ProxyPassMatch, <Proxy>/<ProxyMatch>, ProxySet, ProxyFCGIBackendType,
ProxyFCGISetEnvIf -- and the core's CGIPassAuth: relaisd compared with
Debian's Apache 2.4.71 reading the same directives.

Most comparisons put a FcgiRecorder behind both servers, so what is
compared is the raw FastCGI params (SCRIPT_FILENAME exactly as sent, the
order of the variables); the php-fpm ones compare $_SERVER. Ports and
prefixes are normalised ({port}, {prefix}); the variables of
incumbents.IGNORE and proxy-nokeepalive (Apache's leak) are left out."""

import json
import os
import socket
import threading
import time

import pytest

import incumbents
from test_relaisd_php import _FakeBackend
from incumbents import FcgiRecorder, assert_same_env, normalize, server_env
from relais import fill, request

IGNORE = set(incumbents.IGNORE) | {"proxy-nokeepalive"}

# relaisd's counterpart of incumbents.APACHE_CONF: the same server, the
# same <Directory /> lock-down (a proxied request must not meet it)
RELAISD_CONF = """\
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
CustomLog "{logs}/access_log" combined
TypesConfig /etc/mime.types
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot "{docroot}"
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""


@pytest.fixture
def pair(make_apache, make_relaisd):
    """start(extra, **placeholders) -> (apache, relaisd), both started with
    the same directives <extra> ({prefix} is each server's own)."""
    def start(extra, files=(), **values):
        extra = fill(extra, values)     # then {prefix} & co., per server
        apache = make_apache(sock=None, name="apache2")
        apache.write_config(extra=extra)
        rl = make_relaisd(template=RELAISD_CONF, name="relaisd")
        rl.write_config(extra=extra)
        for d in (apache, rl):
            for rel, content in files:
                d.write(rel, content)
        apache.start()
        rl.start()
        return apache, rl
    return start


def _env(server, target, **kw):
    return normalize(server_env(server.port, target, **kw), port=server.port,
                     prefix=server.prefix)


def _plain_script(env):
    """For SetHandler: Apache sends SCRIPT_FILENAME as proxy_fcgi_canon
    writes it ("proxy:fcgi://localhost/abs/path", FPM style), relaisd the
    path (the runtime's choice; php-fpm reads both alike): compared without
    that prefix."""
    v = env.get("SCRIPT_FILENAME", "")
    if v.startswith(("proxy:fcgi://localhost/", "proxy:fcgi://localhost{prefix}")):
        env = dict(env, SCRIPT_FILENAME=v[len("proxy:fcgi://localhost"):])
    return env


def _same(apache, rl, target, handler=False, **kw):
    """The params (or $_SERVER) of <target> through both servers agree;
    returns relaisd's. <handler>: <target> goes through SetHandler."""
    want, got = _env(apache, target, **kw), _env(rl, target, **kw)
    if handler:
        want, got = _plain_script(want), _plain_script(got)
    assert_same_env(want, got, ignore=IGNORE, labels=("apache", "relaisd"), what=target)
    return got


# files for the SetHandler requests (a missing one maps differently)
SCRIPTS = [(f"htdocs/{d}/x.php", b"not run") for d in ("h", "on")]


def _order(report):
    return [k for k in report["order"] if k not in IGNORE]


# --------------------------------------------------------------------------
# ProxyPass, ProxyPassMatch, <Location>, exclusions, <Proxy> sections

PROXYPASS = r"""
ProxyPass /app/static/ !
ProxyPass /app/ "unix:{sock}|fcgi://localhost/srv/app/"
ProxyPass /up/ "unix:{sock}|fcgi://LocalHost:8000/srv/up/"
ProxyPassMatch "^/m/(.*\.php)$" "unix:{sock}|fcgi://localhost/srv/m/$1"
ProxyPassMatch "^/n/.*\.php$" "unix:{sock}|fcgi://localhost/srv/n"
ProxyPassMatch "^/x/(.*)$" !
ProxyPass /x/ "unix:{sock}|fcgi://localhost/srv/x/"
<Location /loc/>
    ProxyPass "unix:{sock}|fcgi://localhost/srv/loc/"
</Location>
<Location /loc/deny/>
    Require all denied
</Location>
<Location /loc/off/>
    ProxyPass !
</Location>
<Proxy "fcgi://localhost/srv/app/private/">
    Require all denied
</Proxy>
<Proxy "fcgi://localhost/srv/app/open/">
    Require all denied
</Proxy>
<Location /app/open/>
    Require all granted
</Location>
<ProxyMatch "^fcgi://localhost/srv/app/(?<NAME>m[a-z]+)">
    SetEnv FROMPROXY yes
</ProxyMatch>
<Proxy "fcgi://localhost/srv/app/wild/*">
    SetEnv WILD yes
</Proxy>
"""

PROXIED = [
    "/app/x.php",
    "/app/x.php/pi?q=1&r=%20",
    "/app/a%20b.php?x",
    "/app/%7euser/x.php",
    "/app/a+b;c=d.php",
    "/app//x.php",
    "/app/%25.php",
    "/app/open/x.php",
    "/app/mine.php",
    "/app/wild/x.php",
    "/up/y.php",
    "/m/z.php?a=1",
    "/n/k.php",
    "/loc/l.php?z",
]


@pytest.fixture
def proxypass(pair, fcgi_recorder):
    return pair(PROXYPASS, sock=fcgi_recorder.path)


@pytest.mark.parametrize("target", PROXIED)
def test_proxypass_params(proxypass, target):
    """SCRIPT_FILENAME is proxy_fcgi_canon's "proxy:fcgi://host/path"
    (host lowercased, no :8000, the path %-encoded), SCRIPT_NAME the whole
    URI (no PATH_INFO): byte for byte what Apache sends."""
    apache, rl = proxypass
    env = _same(apache, rl, target)
    assert env["SCRIPT_FILENAME"].startswith("proxy:fcgi://localhost/srv/")


def test_proxypass_order_of_params(proxypass):
    apache, rl = proxypass
    a = incumbents.php_report(apache.port, "/app/x.php?q=1")
    r = incumbents.php_report(rl.port, "/app/x.php?q=1")
    assert _order(r) == _order(a)


@pytest.mark.parametrize("target,status", [
    ("/app/static/x.txt", 404),     # ProxyPass ... ! : the file system
    ("/x/y.php", 404),              # ProxyPassMatch ... ! before a ProxyPass
    ("/loc/off/y.php", 404),        # ProxyPass ! in a <Location>
    ("/loc/deny/l.php", 403),       # <Location> applies to proxied requests
    ("/app/private/x.php", 403),    # <Proxy> too
    ("/m/zz.txt", 404),             # no match
    ("/app/a%2Fb.php", 404),        # AllowEncodedSlashes Off
])
def test_proxypass_statuses(proxypass, target, status):
    apache, rl = proxypass
    assert request(apache.port, "GET", target).status == status
    assert request(rl.port, "GET", target).status == status


VHOSTS = """
ProxyPass /main/ "unix:{sock}|fcgi://localhost/srv/main/"
<VirtualHost 127.0.0.1:{port}>
    ServerName localhost
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName v.example
    ProxyPass /main/own/ "unix:{sock}|fcgi://localhost/srv/v-own/"
    ProxyPass /v/ "unix:{sock}|fcgi://localhost/srv/v/"
    <Proxy "fcgi://localhost/srv/v/private">
        Require all denied
    </Proxy>
</VirtualHost>
"""


def test_proxypass_virtual_hosts(pair, fcgi_recorder):
    """A virtual host has the main server's ProxyPass (tried first) and its
    own, and its own <Proxy> sections."""
    apache, rl = pair(VHOSTS.replace("{port}", "{{port}}"), sock=fcgi_recorder.path)
    for target in ("/main/x.php", "/main/own/x.php", "/v/x.php"):
        env = _same(apache, rl, target, host="v.example")
    assert env["SCRIPT_FILENAME"] == "proxy:fcgi://localhost/srv/v/x.php"
    for target, host, status in (("/v/x.php", "localhost", 404),
                                 ("/v/private.php", "v.example", 403)):
        assert request(apache.port, "GET", target, host=host).status == status
        assert request(rl.port, "GET", target, host=host).status == status


def test_proxypass_before_alias(pair, fcgi_recorder):
    extra = ('Alias /app/ "{prefix}/htdocs/"\n'
             'ProxyPass /app/ "unix:{sock}|fcgi://localhost/srv/app/"\n')
    apache, rl = pair(extra, files=[("htdocs/x.php", b"file")], sock=fcgi_recorder.path)
    env = _same(apache, rl, "/app/x.php")
    assert env["SCRIPT_FILENAME"] == "proxy:fcgi://localhost/srv/app/x.php"


def test_proxypass_tcp(pair, free_port):
    """fcgi://127.0.0.1:port: the port stays in SCRIPT_FILENAME."""
    rec = FcgiRecorder(tcp_port=free_port()).start()
    try:
        extra = ('ProxyPass /t/ fcgi://127.0.0.1:{rport}/srv/t/\n'
                 'ProxyPassMatch "^/tm/(.+)$" fcgi://127.0.0.1:{rport}/srv/tm/$1 timeout=5\n')
        apache, rl = pair(extra, rport=rec.port)
        for target in ("/t/x.php", "/t/x.php/pi?q=1", "/tm/y.php?a"):
            env = _same(apache, rl, target)
        assert env["SCRIPT_FILENAME"] == f"proxy:fcgi://127.0.0.1:{rec.port}/srv/tm/y.php"
    finally:
        rec.stop()


def test_proxypass_php_fpm(pair, make_php_fpm, free_port):
    """Behind php-fpm, on its socket and on TCP: the same $_SERVER."""
    port = free_port()
    fpm = make_php_fpm(pool_extra=f"listen = 127.0.0.1:{port}")
    fpm.start(wait=False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    extra = ('ProxyPass /tcp/ fcgi://127.0.0.1:{fport}{prefix}/htdocs/\n'
             '<Location /loc/>\n'
             '    ProxyPass fcgi://127.0.0.1:{fport}{prefix}/htdocs/\n'
             '</Location>\n')
    src = incumbents.ENV_PHP.read_bytes()
    apache, rl = pair(extra, files=[("htdocs/env.php", src)], fport=port)
    for target in ("/tcp/env.php", "/tcp/env.php/a%20b?x=1", "/loc/env.php?y"):
        env = _same(apache, rl, target)
    assert env["SCRIPT_NAME"] == "/loc/env.php"


def test_proxypass_php_fpm_socket(pair, php_fpm):
    extra = 'ProxyPass /app/ "unix:{sock}|fcgi://localhost{prefix}/htdocs/"\n'
    src = incumbents.ENV_PHP.read_bytes()
    apache, rl = pair(extra, files=[("htdocs/env.php", src)], sock=php_fpm.sock)
    env = _same(apache, rl, "/app/env.php/extra?q=1")
    assert env["SCRIPT_FILENAME"] == "{prefix}/htdocs/env.php"
    assert env["PHP_SELF"] == "/app/env.php/extra"


# --------------------------------------------------------------------------
# ProxyFCGIBackendType

BACKEND_TYPE = """
ProxyPass /f/ "unix:{sock}|fcgi://localhost/srv/f/"
ProxyPass /g/ "unix:{sock}|fcgi://localhost/srv/g/"
<Location /g/>
    ProxyFCGIBackendType GENERIC
</Location>
<Location /fpm/>
    ProxyFCGIBackendType FPM
</Location>
ProxyPass /fpm/ "unix:{sock}|fcgi://localhost/srv/fpm/"
<Location /h/>
    ProxyFCGIBackendType GENERIC
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</Location>
"""


@pytest.mark.parametrize("target,script", [
    ("/f/x.php?q", "proxy:fcgi://localhost/srv/f/x.php"),
    ("/fpm/x.php", "proxy:fcgi://localhost/srv/fpm/x.php"),
    ("/g/x.php?q", "/srv/g/x.php"),
    ("/g/x.php/pi?a=1", "/srv/g/x.php/pi"),
    ("/g/a%20b.php", "/srv/g/a%20b.php"),
    ("/h/x.php", "{prefix}/htdocs/h/x.php"),
])
def test_backend_type(pair, fcgi_recorder, target, script):
    """FPM (the default) keeps "proxy:fcgi://host" in SCRIPT_FILENAME,
    GENERIC sends the path alone."""
    apache, rl = pair(BACKEND_TYPE, files=SCRIPTS, sock=fcgi_recorder.path)
    env = _same(apache, rl, target, handler=target.startswith("/h/"))
    assert env["SCRIPT_FILENAME"] == script


# --------------------------------------------------------------------------
# ProxyFCGISetEnvIf

SETENVIF = r"""
ProxyPass /app/ "unix:{sock}|fcgi://localhost/srv/app/"
<Location /h/>
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</Location>
ProxyFCGISetEnvIf "true" A1 "%{reqenv:SCRIPT_NAME}-x"
ProxyFCGISetEnvIf "reqenv('QUERY_STRING') =~ /a=(\d+)/" A2 "got $1"
ProxyFCGISetEnvIf "true" !HTTP_CONNECTION
ProxyFCGISetEnvIf "%{REQUEST_URI} =~ m#^/(app|h)/#" A3 "%{REQUEST_URI}|%{QUERY_STRING}|%{SCRIPT_FILENAME}|%{REQUEST_FILENAME}|%{DOCUMENT_ROOT}|%{HANDLER}|%{HTTP_HOST}|%{CONTEXT_PREFIX}|%{REQUEST_SCHEME}|%{REMOTE_ADDR}"
ProxyFCGISetEnvIf "true" A4
ProxyFCGISetEnvIf "false" A5 "never"
ProxyFCGISetEnvIf "-n %{reqenv:A4}" A6 "A4 is not empty"
ProxyFCGISetEnvIf "-z %{reqenv:A4}" A7 "A4 is empty, A1 is %{reqenv:A1}"
ProxyFCGISetEnvIf "true" SCRIPT_FILENAME "%{reqenv:SCRIPT_FILENAME}.over"
ProxyFCGISetEnvIf "%{QUERY_STRING} =~ /unset/" !QUERY_STRING
ProxyFCGISetEnvIf "true" A8 "%{env:A1}/%{HTTP:Host}/%{tolower:ABC}"
<Location /g/>
    ProxyFCGIBackendType GENERIC
    ProxyFCGISetEnvIf "true" G1 "%{SCRIPT_FILENAME}|%{reqenv:SCRIPT_FILENAME}"
</Location>
ProxyPass /g/ "unix:{sock}|fcgi://localhost/srv/g/"
"""


@pytest.mark.parametrize("target", ["/app/x.php/pi?a=12", "/h/x.php?unset", "/g/y.php?q",
                                    "/app/z.php"])
def test_setenvif(pair, fcgi_recorder, target):
    """Evaluated in order, after the CGI variables (reqenv sees them, and
    GENERIC's SCRIPT_FILENAME); a variable set again keeps its place."""
    apache, rl = pair(SETENVIF, files=SCRIPTS, sock=fcgi_recorder.path)
    env = _same(apache, rl, target, handler=target.startswith("/h/"))
    assert "HTTP_CONNECTION" not in env and env["A4"] == "" and "A5" not in env
    a = incumbents.php_report(apache.port, target)
    r = incumbents.php_report(rl.port, target)
    assert _order(r) == _order(a)


# --------------------------------------------------------------------------
# <Proxy>, ProxySet: the worker's timeout

TIMEOUTS = """
Timeout 20
ProxyTimeout 10
<Proxy "fcgi://slow/">
    ProxySet timeout=1
</Proxy>
<Proxy "unix:{s2}|fcgi://slow2/" timeout=2>
</Proxy>
<Location /a/>
    SetHandler "proxy:unix:{s1}|fcgi://slow"
</Location>
<Location /b/>
    SetHandler "proxy:unix:{s2}|fcgi://slow2"
</Location>
ProxyPass /p/ "unix:{s1}|fcgi://slow3/srv/" timeout=1
ProxyPass /q/ "unix:{s1}|fcgi://slow4/srv/"
ProxySet "unix:{s1}|fcgi://slow4/srv/" connectiontimeout=500ms timeout=2
"""


def _timed(server, target):
    t0 = time.monotonic()
    r = request(server.port, "GET", target, timeout=30)
    return r.status, time.monotonic() - t0


def test_worker_timeouts(pair, tmp_path):
    """A backend that never answers: 504 after the worker's timeout=
    (ProxySet, <Proxy ... timeout=>, ProxyPass ... timeout=), not after
    ProxyTimeout; the worker of SetHandler "proxy:unix:...|fcgi://slow"
    is <Proxy "fcgi://slow/">'s."""
    s1, s2 = _FakeBackend(tmp_path / "s1.sock", None), _FakeBackend(tmp_path / "s2.sock", None)
    try:
        apache, rl = pair(TIMEOUTS, s1=tmp_path / "s1.sock", s2=tmp_path / "s2.sock")
        for target, want in (("/a/x.php", 1), ("/b/x.php", 2), ("/p/x.php", 1),
                             ("/q/x.php", 2)):
            for d in (apache, rl):
                status, took = _timed(d, target)
                assert status == 504, (d.name, target)
                assert want - 0.3 < took < want + 1.5, (d.name, target, took)
    finally:
        s1.close()
        s2.close()


# --------------------------------------------------------------------------
# CGIPassAuth

PASSAUTH = """
<Location /h/>
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</Location>
<Location /on/>
    CGIPassAuth On
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</Location>
ProxyPass /app/ "unix:{sock}|fcgi://localhost/srv/app/"
<Location /app/on/>
    CGIPassAuth On
</Location>
"""


@pytest.mark.parametrize("target", ["/h/x.php", "/on/x.php", "/app/x.php", "/app/on/x.php"])
def test_cgi_pass_auth(pair, fcgi_recorder, target):
    """Authorization reaches the script as HTTP_AUTHORIZATION only where
    CGIPassAuth is On (default Off): the runtime (proxy_fcgi.c) passes the
    header when rl_core_cgi_pass_auth() says so."""
    apache, rl = pair(PASSAUTH, files=SCRIPTS, sock=fcgi_recorder.path)
    hdrs = {"Authorization": "Basic dXNlcjpwdw==", "X-After": "1"}
    env = _same(apache, rl, target, handler=not target.startswith("/app/"), headers=hdrs)
    assert ("HTTP_AUTHORIZATION" in env) == ("/on/" in target)


def test_cgi_pass_auth_proxy_authorization(pair, fcgi_recorder):
    """With CGIPassAuth On Apache passes Proxy-Authorization too
    (HTTP_PROXY_AUTHORIZATION, ap_add_common_vars)."""
    apache, rl = pair(PASSAUTH, files=SCRIPTS, sock=fcgi_recorder.path)
    hdrs = {"Authorization": "Basic dXNlcjpwdw==", "Proxy-Authorization": "Basic eA=="}
    for target in ("/h/x.php", "/on/x.php"):
        env = _same(apache, rl, target, handler=True, headers=hdrs)
    assert env["HTTP_PROXY_AUTHORIZATION"] == "Basic eA=="


def test_cgi_pass_auth_php(pair, php_fpm):
    """PHP builds PHP_AUTH_USER/PW from it, as behind Apache."""
    extra = ('<Location />\n    CGIPassAuth On\n</Location>\n'
             '<FilesMatch "\\.php$">\n    SetHandler "proxy:unix:{sock}|fcgi://localhost"\n'
             '</FilesMatch>\n')
    src = incumbents.ENV_PHP.read_bytes()
    apache, rl = pair(extra, files=[("htdocs/env.php", src)], sock=php_fpm.sock)
    env = _same(apache, rl, "/env.php", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert (env["PHP_AUTH_USER"], env["PHP_AUTH_PW"]) == ("user", "pw")


# --------------------------------------------------------------------------
# relaisd -t: Apache's messages, with file and line

ERRORS = [   # (directives, line of the error among them, message)
    ('ProxyPass /x', 0,
     'ProxyPass|ProxyPassMatch needs a path when not defined in a location'),
    ('ProxyPass /x fcgi://localhost/ foo', 0,
     "Invalid ProxyPass|ProxyPassMatch parameter. Parameter must be in the form 'key=value'."),
    ('ProxyPass /x fcgi://localhost/ foo=1', 0,
     'ProxyPass unknown Worker parameter'),
    ('ProxyPass /x fcgi://localhost/ timeout=0', 0,
     'ProxyPass Timeout must be at least one second'),
    ('ProxyPass /x fcgi://localhost/ connectiontimeout=xx', 0,
     'ProxyPass Connectiontimeout has wrong format'),
    ('ProxyPass /x fcgi://localhost/ enablereuse=maybe', 0,
     'ProxyPass EnableReuse must be On|Off'),
    ('ProxyPass /x fcgi://localhost/ flushpackets=sometimes', 0,
     'ProxyPass flushpackets must be on|off|auto'),
    ('ProxyPass /x fcgi://localhost/ flushwait=2000', 0,
     'ProxyPass flushwait must be <= 1000, or 0 for system default of 10 millseconds.'),
    ('ProxyPass /x fcgi://localhost/ max=-1', 0,
     'ProxyPass Max must be a positive number'),
    ('ProxyPass /x fcgi://localhost/ ttl=0', 0,
     'ProxyPass TTL must be at least one second'),
    ('ProxyPass /x fcgi://localhost/ status=Z', 0,
     'ProxyPass Unknown status parameter option'),
    ('ProxyPass /x fcgi://localhost/ mapping=foo', 0,
     'unknown mapping'),
    ('ProxyPass /x "unix:/tmp/x.sock"', 0,
     'ProxyPass URL must be absolute!: unix:/tmp/x.sock'),
    ('ProxyPass /x "unix:/x.sock|nocolon"', 0,
     'ProxyPass|ProxyPassMatch uses an invalid "unix:" URL'),
    ('ProxyPass /x fcgi://localhost:abc/', 0,
     'ProxyPass Unable to parse URL: fcgi://localhost:abc/'),
    ('ProxyPassMatch ~ /x fcgi://localhost/', 0,
     "ProxyPassMatch invalid syntax ('~' usage)."),
    ('ProxyPassMatch "(" fcgi://localhost/', 0,
     'Regular expression could not be compiled.'),
    ('<Location /l>\nProxyPass /x fcgi://localhost/\n</Location>', 1,
     'ProxyPass|ProxyPassMatch can not have a path when defined in a location.'),
    ('<Directory /tmp>\nProxyPass fcgi://localhost/\n</Directory>', 1,
     'ProxyPass cannot occur within <Directory> section'),
    ('<Files x>\nProxyPass fcgi://localhost/\n</Files>', 1,
     'ProxyPass cannot occur within <Files> section'),
    ('<Proxy fcgi://localhost/ timeout=0>\n</Proxy>', 0,
     '<Proxy Timeout must be at least one second timeout=0; fcgi://localhost/'),
    ('<Proxy fcgi://localhost/ foo=1>\n</Proxy>', 0,
     '<Proxy unknown Worker parameter foo=1; fcgi://localhost/'),
    ('<Proxy * timeout=1>\n</Proxy>', 0,
     '<Proxy> arguments are not supported for wildchar url.'),
    ('<Proxy foo timeout=1>\n</Proxy>', 0,
     '<Proxy> arguments are not supported for non url.'),
    ('<ProxyMatch "(">\n</ProxyMatch>', 0,
     'Regex could not be compiled'),
    ('<Location /x>\n<Proxy fcgi://localhost/>\n</Proxy>\n</Location>', 1,
     '<Proxy not allowed in <Location> context'),
    ('<Proxy fcgi://localhost/>\nProxySet timeout=0\n</Proxy>', 1,
     'ProxySet: Timeout must be at least one second timeout=0; fcgi://localhost/'),
    ('<Proxy fcgi://localhost/>\nProxySet foo\n</Proxy>', 1,
     "Invalid ProxySet parameter. Parameter must be in the form 'key=value'"),
    ('ProxySet fcgi://localhost/ timeout=2', 0,
     "ProxySet can not find 'fcgi://localhost/' Worker."),
    ('ProxyPass /x fcgi://localhost/a/\nProxySet fcgi://localhost/ timeout=2', 1,
     "ProxySet can not find 'fcgi://localhost/' Worker."),
    ('ProxyFCGIBackendType foo', 0,
     "ProxyFCGIBackendType requires one of the following arguments: 'GENERIC', 'FPM'"),
    ('ProxyFCGISetEnvIf true', 0,
     'ProxyFCGISetEnvIf takes two or three arguments, expr-condition env-name expr-value'),
    ('ProxyFCGISetEnvIf "true" !FOO bar', 0,
     'Third argument ("bar") is not allowed when using ProxyFCGISetEnvIf\'s unset mode (!FOO)'),
    ('ProxyFCGISetEnvIf "true" !', 0,
     'ProxyFCGISetEnvIf: "!" is not a valid variable name'),
    ('ProxyFCGISetEnvIf "tru e" FOO', 0,
     'Could not parse expression "tru e": syntax error, unexpected T_ID, expecting \'(\''),
    ('ProxyFCGISetEnvIf "true" FOO "%{NOPE}"', 0,
     'Could not parse expression "%{NOPE}": Variable \'NOPE\' does not exist'),
    ('CGIPassAuth On', 0,
     'CGIPassAuth not allowed here'),
    ('<VirtualHost *:80>\nCGIPassAuth on\n</VirtualHost>', 1,
     'CGIPassAuth not allowed in <VirtualHost> context'),
    ('<Location /l>\nCGIPassAuth maybe\n</Location>', 1,
     'CGIPassAuth must be On or Off'),
    ('ProxyTimeout 0', 0,
     'Proxy Timeout must be at least 1 second.'),
]

EXTRA_LINE = RELAISD_CONF.splitlines().index("{extra}") + 1


@pytest.mark.parametrize("extra,offset,msg", ERRORS,
                         ids=[e[0].replace("\n", "|")[:50] for e in ERRORS])
def test_config_errors(make_relaisd, make_apache, extra, offset, msg):
    """Apache says the same (for the same directives)."""
    line = EXTRA_LINE + offset
    extra = extra.replace("{", "{{").replace("}", "}}")
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=extra)
    r = rl.run(["-t"])
    assert r.rc != 0
    assert r.stderr == f"AH00526: Syntax error on line {line} of {rl.conf}:\n{msg}\n"
    apache = make_apache(sock=None)
    apache.write_config(extra=extra)
    a = apache.run(["-t"])
    assert a.stderr.splitlines()[1:] == [msg], a.stderr


@pytest.mark.parametrize("extra,scheme", [
    ("ProxyPass /x http://127.0.0.1/", "http"),
    ('ProxyPass /x "unix:/run/x.sock|http://localhost/"', "http"),
    ("ProxyPass /x balancer://pool/", "balancer"),
    ("<Proxy http://localhost/>\nProxySet timeout=2\n</Proxy>", "http"),
    ("<Proxy balancer://pool/ timeout=2>\n</Proxy>", "balancer"),
])
def test_config_refuses_other_schemes(make_relaisd, extra, scheme):
    """Apache would accept these (with the module of the scheme): relais
    says at once that it only proxies to FastCGI."""
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=extra)
    r = rl.run(["-t"])
    assert r.rc != 0
    assert "relais only proxies to FastCGI backends" in r.stderr
    assert f"not to the scheme '{scheme}'" in r.stderr


def test_config_accepts(make_relaisd):
    """The other worker parameters are accepted (and ignored): relaisd -t
    is happy where Apache is."""
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=(
        "ProxyPass /a/ fcgi://127.0.0.1:9000/a/ retry=0 acquire=100 keepalive=On smax=1 min=0"
        " lbset=1 route=r1 status=+D-e loadfactor=50 ping=1 hcmethod=GET iobuffersize=0"
        " receivebuffersize=4096 responsefieldsize=8192 flushpackets=auto flushwait=20"
        " connectiontimeout=5ms ttl=30 max=4 disablereuse=off nocanon noquery\n"
        '<Proxy "unix:/run/php/x.sock|fcgi://php/" enablereuse=on>\n'
        "    ProxySet timeout=5\n    Require all granted\n</Proxy>\n"
        '<ProxyMatch "^fcgi://php/(a|b)/">\n    ProxyFCGIBackendType GENERIC\n</ProxyMatch>\n'
        "ProxySet fcgi://php/ max=2\n"
        '<Location /l/>\n    ProxyPass "unix:/run/php/x.sock|fcgi://php/l/"\n'
        "    CGIPassAuth On\n</Location>\n"))
    r = rl.run(["-t"])
    assert (r.rc, r.stderr.splitlines()[-1:]) == (0, ["Syntax OK"]), r.stderr
