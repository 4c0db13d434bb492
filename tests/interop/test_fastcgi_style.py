"""PHP the mod_fastcgi way (AddHandler + Action + Alias +
FastCgiExternalServer, as the classic php-fpm tutorials set it up), through
relaisd, compared with Debian's Apache.

Debian 12 has no mod_fastcgi. What Apache does with mod_actions and
mod_proxy_fcgi is the same thing: the Action redirects /x.php to
/php7-fcgi/x.php, the Alias maps that below the non-existent file
{prefix}/cgi-bin/php7-fcgi (the walk stops there: PATH_INFO /x.php), and
the handler of <Location /php7-fcgi> sends the request to php-fpm with
Apache's CGI environment, which is what mod_fastcgi builds too
(ap_add_common_vars + ap_add_cgi_vars). `ProxyFCGIBackendType GENERIC`
makes SCRIPT_FILENAME the plain filename, as mod_fastcgi sends it (with
FPM, php-fpm would not look at PATH_TRANSLATED). mod_fastcgi's
-pass-header Authorization is SetEnvIf's `Authorization=$1` there.

php-fpm then runs PATH_TRANSLATED because REDIRECT_URL is set (fpm_main.c,
"pretty much apache specific"): every request below gives the same
$_SERVER through both servers."""

import json

import pytest

import incumbents
from incumbents import diff_env, normalize, server_env

RELAISD_CONF = """\
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
CustomLog "{logs}/access_log" combined
DocumentRoot "{docroot}"
DirectoryIndex index.php index.html
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""

# the tutorial's conf-available/php7.0-fpm.conf
FASTCGI = """\
<IfModule mod_fastcgi.c>
    AddHandler php7-fcgi .php
    Action php7-fcgi /php7-fcgi
    Alias /php7-fcgi "{prefix}/cgi-bin/php7-fcgi"
    FastCgiExternalServer "{prefix}/cgi-bin/php7-fcgi" -socket "@SOCK@" @OPTS@
</IfModule>
"""

# the same with what Debian 12's Apache has
ACTIONS = """\
AddHandler php7-fcgi .php
Action php7-fcgi /php7-fcgi
Alias /php7-fcgi "{prefix}/cgi-bin/php7-fcgi"
<Location /php7-fcgi>
    SetHandler "proxy:unix:@SOCK@|fcgi://localhost"
    ProxyFCGIBackendType GENERIC
    SetEnvIf Authorization "(.+)" Authorization=$1
</Location>
"""

COMMON = """\
Script PUT /env.php
AddType "text/x-foo; charset=utf-8" .foo
Action text/x-foo /env.php
<Directory "{prefix}/cgi-bin">
    Require all granted
</Directory>
Alias /al "{prefix}/aliased"
<Directory "{prefix}/aliased">
    Require all granted
</Directory>
"""

REQUESTS = [
    ("plain", "GET", "/env.php", None, None),
    ("path_info", "GET", "/env.php/extra/path?x=1", None, None),
    ("dir_index", "GET", "/sub/", None, None),
    ("alias", "GET", "/al/env.php?y=2", None, None),
    ("encoded", "GET", "/sub/index.php/a%20b?q=%20&r", None, None),
    ("post", "POST", "/env.php?p=1",
     {"Host": "localhost:{port}", "Content-Type": "application/x-www-form-urlencoded",
      "X-Foo": "bar"}, "a=1&b=2"),
    ("auth", "GET", "/env.php",
     {"Authorization": "Basic dXNlcjpwdw=="}, None),
    # Script PUT: /upload/x.bin -> /env.php/upload/x.bin -> the Action
    ("script_put", "PUT", "/upload/x.bin", {"Content-Type": "application/octet-stream"},
     "some bytes"),
    # an Action for a content type (its parameters left out)
    ("content_type", "GET", "/a.foo?z=1", None, None),
]

# what Apache's mod_proxy adds that mod_fastcgi does not send
IGNORE = set(incumbents.IGNORE) | {"proxy-nokeepalive"}


def _site(d):
    src = incumbents.ENV_PHP.read_bytes()
    for rel in ("htdocs/env.php", "htdocs/sub/index.php", "aliased/env.php", "htdocs/err.php"):
        d.write(rel, src)
    d.write("cgi-bin/README", b"php7-fcgi is not a file: FastCgiExternalServer\n")
    d.write("htdocs/a.foo", b"foo\n")


def _fastcgi(sock, opts="-pass-header Authorization -idle-timeout 60"):
    return FASTCGI.replace("@SOCK@", str(sock)).replace("@OPTS@", opts)


def _ask(server, method, target, headers=None, body=None):
    headers = {k: v.replace("{port}", str(server.port)) for k, v in (headers or {}).items()}
    env = server_env(server.port, target, headers=headers, method=method, body=body)
    return normalize(env, port=server.port, prefix=server.prefix)


def _relaisd(make_relaisd, sock, extra="", name="relaisd", **kw):
    rl = make_relaisd(template=RELAISD_CONF, name=name)
    _site(rl)
    rl.write_config(extra=COMMON + _fastcgi(sock, **kw) + extra)
    return rl.start()


@pytest.fixture
def both(make_apache, make_relaisd, php_fpm):
    apache = make_apache(name="apache2", modules=("actions",))
    _site(apache)
    apache.write_config(extra=COMMON + ACTIONS.replace("@SOCK@", str(php_fpm.sock))
                        + "ErrorDocument 404 /err.php\n")
    apache.start()
    rl = _relaisd(make_relaisd, php_fpm.sock, "ErrorDocument 404 /err.php\n")
    return apache, rl


@pytest.mark.parametrize("label,method,target,headers,body", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_environment_as_apache(both, label, method, target, headers, body):
    apache, rl = both
    want = _ask(apache, method, target, headers, body)
    got = _ask(rl, method, target, headers, body)
    d = diff_env(want, got, ignore=IGNORE, labels=("apache", "relaisd"))
    assert d == "", f"{label}:\n{d}\n\n{rl.diagnostics()}"
    # what makes php-fpm run the right script
    assert got["REDIRECT_STATUS"] == "200" and got["REDIRECT_HANDLER"] == "php7-fcgi"
    assert got["SCRIPT_FILENAME"].endswith(".php") and "REDIRECT_URL" in got


def _json_env(server, response):
    env = {k: v if isinstance(v, str) else json.dumps(v)
           for k, v in json.loads(response.body)["server"].items()}
    return normalize(env, port=server.port, prefix=server.prefix)


def test_what_php_fpm_was_given(both):
    """php-fpm keeps what it was sent as ORIG_*: mod_fastcgi's variables."""
    _, rl = both
    rep = incumbents.php_report(rl.port, "/env.php/x?a=b")
    assert rep["file"] == str(rl.prefix / "htdocs/env.php")
    env = _ask(rl, "GET", "/env.php/x?a=b")
    assert env["ORIG_SCRIPT_FILENAME"] == "{prefix}/cgi-bin/php7-fcgi"
    assert env["ORIG_SCRIPT_NAME"] == "/php7-fcgi"
    assert env["ORIG_PATH_INFO"] == "/env.php/x"
    assert env["ORIG_PATH_TRANSLATED"] == "{prefix}/htdocs/env.php/x"
    assert (env["REDIRECT_URL"], env["REDIRECT_QUERY_STRING"]) == ("/env.php/x", "a=b")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/env.php", "/x")
    assert env["QUERY_STRING"] == "a=b" and env["REQUEST_URI"] == "/env.php/x?a=b"


def test_missing_script_errordocument_env(both):
    """mod_actions (no "virtual") answers 404 itself for a file that is not
    there; the ErrorDocument then gets the REDIRECT_* variables of both
    redirects, the same through both servers."""
    apache, rl = both
    a = apache.get("/missing.php?q=1")
    r = rl.get("/missing.php?q=1")
    want, got = _json_env(apache, a), _json_env(rl, r)
    assert diff_env(want, got, ignore=IGNORE, labels=("apache", "relaisd")) == ""
    assert got["REDIRECT_STATUS"] == "404" and got["REDIRECT_URL"] == "/err.php"
    assert got["REDIRECT_REDIRECT_STATUS"] == "404"
    assert got["REDIRECT_REDIRECT_REQUEST_METHOD"] == "GET"
    assert "REDIRECT_QUERY_STRING" not in got and got["QUERY_STRING"] == ""
    rl.wait_for_log(r"\[actions:info\] .*AH00652: File does not exist: .*/htdocs/missing\.php")
    # a POST's ErrorDocument is asked for with GET
    got = _json_env(rl, rl.request("POST", "/missing.php", body="a=1"))
    assert got["REQUEST_METHOD"] == "GET"
    assert got["REDIRECT_REDIRECT_REQUEST_METHOD"] == "POST"


def test_missing_script_errordocument_status(both):
    apache, rl = both
    a, r = apache.get("/missing.php"), rl.get("/missing.php")
    assert (r.status, r.headers.get("Content-Type")) == (a.status, a.headers.get("Content-Type"))
    assert r.status == 404


def test_missing_script_without_errordocument(make_apache, make_relaisd, php_fpm):
    apache = make_apache(name="apache2", modules=("actions",))
    apache.write_config(extra=COMMON + ACTIONS.replace("@SOCK@", str(php_fpm.sock)))
    apache.start()
    rl = _relaisd(make_relaisd, php_fpm.sock)
    a, r = apache.get("/missing.php"), rl.get("/missing.php")
    assert (r.status, r.body) == (a.status, a.body) == (404, a.body)


def test_virtual_action_hands_missing_files_to_php(make_relaisd, php_fpm):
    """With "virtual", the Action does not check the file: php-fpm says."""
    rl = _relaisd(make_relaisd, php_fpm.sock,
                  "<Location /app>\nAction php7-fcgi /php7-fcgi virtual\n</Location>\n")
    assert rl.get("/missing.php").status == 404
    r = rl.get("/app/missing.php")
    assert (r.status, r.body) == (404, b"File not found.\n")
    rl.wait_for_log(r"AH01071: Got error 'Primary script unknown'")


def test_authorization_only_with_pass_header(make_relaisd, php_fpm):
    rl = _relaisd(make_relaisd, php_fpm.sock, opts="-idle-timeout 60")
    env = server_env(rl.port, "/env.php", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert not {"Authorization", "HTTP_AUTHORIZATION", "PHP_AUTH_USER"} & set(env)
    assert env["REDIRECT_STATUS"] == "200"


def test_vhosts_have_their_own_servers(make_relaisd, make_php_fpm):
    """A <VirtualHost> that includes its own conf-available file talks to
    its own pool; the other one to the other pool."""
    pools = {n: make_php_fpm(name=f"fpm-{n}", pool_extra=f"env[POOL] = {n}").start()
             for n in ("a", "b")}
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd")
    _site(rl)
    vhosts = ""
    for n, fpm in pools.items():
        rl.write(f"conf-available/php-{n}.conf", _fastcgi(fpm.sock).replace(
            "{prefix}", str(rl.prefix)))
        vhosts += (f"<VirtualHost 127.0.0.1:{{port}}>\nServerName {n}.test\n"
                   f"Include conf-available/php-{n}.conf\n</VirtualHost>\n")
    rl.write_config(extra=COMMON + vhosts)
    rl.start()
    for n in ("a", "b", "a"):
        env = server_env(rl.port, "/env.php", host=f"{n}.test")
        assert env["POOL"] == n and env["HTTP_HOST"] == f"{n}.test"
    # another name: the first virtual host of the address, as in Apache
    assert server_env(rl.port, "/env.php", host="other.test")["POOL"] == "a"


def test_ifmodule_and_loadmodule(make_relaisd, php_fpm):
    """<IfModule mod_fastcgi.c> holds without LoadModule lines (every
    module built in), and follows LoadModule fastcgi_module otherwise."""
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd")
    mods = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"
                   for m in ("mime", "alias", "dir", "authz_core", "actions"))
    rl.write_config(extra=mods + COMMON + _fastcgi(php_fpm.sock))
    assert rl.run(["-M"]).stdout.count("fastcgi_module") == 0
    rl.write("htdocs/x.php", b"<?php echo 'php ran';")
    rl.start()
    assert rl.get("/x.php").body == b"<?php echo 'php ran';"    # as Apache without it
    rl.stop()
    rl.write_config(extra=mods + "LoadModule fastcgi_module /usr/lib/apache2/modules/mod_fastcgi.so\n"
                    + COMMON + _fastcgi(php_fpm.sock))
    assert " fastcgi_module (shared)" in rl.run(["-M"]).stdout.splitlines()
    rl.start()
    assert rl.get("/x.php").body == b"php ran"


@pytest.mark.parametrize("line,msg", [
    ("FastCgiExternalServer /x/php", "FastCgiExternalServer /x/php: -socket or -host option missing"),
    ("FastCgiExternalServer /x/php -socket a -host h:1",
     "FastCgiExternalServer /x/php: -host and -socket are mutually exclusive options"),
    ("FastCgiExternalServer /x/php -host h", 
     "FastCgiExternalServer /x/php: invalid value for -host: missing port specification"),
    ("FastCgiExternalServer /x/php -socket a -idle-timeout 0",
     'FastCgiExternalServer /x/php: invalid value for -idle-timeout: "0" must be >= 1'),
    ("FastCgiExternalServer /x/php -socket a -bogus",
     "FastCgiExternalServer /x/php: invalid option: -bogus"),
    ("FastCgiExternalServer /x/php -socket a\nFastCgiExternalServer /x//php -host h:1",
     'FastCgiExternalServer: redefinition of previously defined class "/x/php"'),
    ("Action php-script /cgi-bin/php fake", "unrecognized option 'fake'"),
    ("Script TRACE /x", "TRACE not allowed for Script"),
    ("FastCgiServer /x/php.fcgi", "FastCgiServer: relais does not start FastCGI applications"),
])
def test_directive_errors(make_relaisd, line, msg):
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd")
    rl.write_config(extra=line)
    r = rl.run(["-t"])
    assert r.rc == 1 and msg in r.stderr, r.stderr
