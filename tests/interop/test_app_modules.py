"""mod_headers (Header, RequestHeader), mod_expires, mod_access_compat
(Order, Allow, Deny, Satisfy), <Limit>/<LimitExcept> and mod_php's
php_value: relaisd compared with Debian's Apache 2.4.71 reading the same
directives.

The directives sit in <Directory>/<Files> sections of the server
configuration, and in the .htaccess files of applications (WordPress's
wp-config.php protection, DokuWiki's data/). What is compared: the status
and the response's header fields (all of them but Date, Server, Connection,
Keep-Alive and the framing), the FastCGI params a recorder behind both
servers receives, Expires - Date, and the messages of -t for wrong
directives."""

import email.utils
import json
import os
import re

import pytest

from relais import fill, request

# relaisd's counterpart of incumbents.APACHE_CONF (no LoadModule: every
# module relais has is in, as in a static build)
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
DirectoryIndex index.php index.html
{extra}
"""

MODULES = ["expires", "access_compat"]   # loaded by the test Apache beyond APACHE_MODULES
OLD = 1577836800        # mtime of the files: 2020, so that both send strong ETags
# relaisd answers a whole small FastCGI response with a Content-Length,
# Apache chunked (a documented difference)
SKIP = {"date", "server", "connection", "keep-alive", "content-length", "transfer-encoding"}


@pytest.fixture
def pair(make_apache, make_relaisd, fcgi_recorder):
    """start(extra, files, modules) -> (apache, relaisd), both started with
    the same directives <extra> ({sock}: the FastCGI recorder's socket;
    {docroot} & co. are each server's own) and the same <files> [(relpath,
    content)] (mtime OLD unless the content is a (text, mtime) pair). With
    <modules> (more for Apache), relaisd gets Apache's LoadModule lines:
    only those modules are in."""
    def start(extra, files=(), modules=()):
        extra = fill(extra, {"sock": fcgi_recorder.sock})
        apache = make_apache(sock=None, name="apache2", modules=MODULES + list(modules))
        apache.write_config(extra=extra)
        template = RELAISD_CONF
        if modules:     # the same LoadModule lines as Apache's
            template = "".join(f"LoadModule {m}_module x.so\n" for m in apache.modules) + template
        rl = make_relaisd(template=template, name="relaisd")
        rl.write_config(extra=extra)
        for d in (apache, rl):
            for rel, content in files:
                text, mtime = content if isinstance(content, tuple) else (content, OLD)
                os.utime(d.write(rel, text), (mtime, mtime))
        apache.start()
        rl.start()
        return apache, rl
    return start


def fields(resp):
    """The header fields to compare: {lower-case name: [values in order]}.
    Allow is a set (Apache lists the methods in the order of a hash table
    with a random seed)."""
    out = {}
    for k, v in resp.headers.list:
        if k.lower() == "allow":
            v = ",".join(sorted(v.split(",")))
        if k.lower() == "location":
            # to a Host without a port, Apache redirects to port 80 (its
            # UseCanonicalPhysicalPort Off), relaisd to the port it listens on
            v = re.sub(r"^http://localhost:\d+/", "http://localhost/", v)
        if k.lower() not in SKIP:
            out.setdefault(k.lower(), []).append(v)
    return out


def same(apache, rl, method, target, **kw):
    """One request to both: same status and the same fields. Returns
    (apache's response, relaisd's)."""
    a = request(apache.port, method, target, **kw)
    r = request(rl.port, method, target, **kw)
    fa, fr = fields(a), fields(r)
    diff = {k: (fa.get(k), fr.get(k)) for k in set(fa) | set(fr) if fa.get(k) != fr.get(k)}
    assert (r.status, diff) == (a.status, {}), f"{method} {target}: (apache, relaisd)"
    return a, r


def statuses(server, cases):
    return [request(server.port, m, t, headers=h).status for m, t, h in cases]


def seconds(date):
    return int(email.utils.parsedate_to_datetime(date).timestamp())


# --------------------------------------------------------------------------
# mod_headers

HEADERS = r"""
SetEnvIf Request_URI "\.txt$" TXT=yes
<Directory "{docroot}/h">
    SetEnv FOO bar
    Header set X-Set one
    Header set X-Set two
    Header add X-Add a
    Header add X-Add b
    Header append X-App one
    Header append X-App "two"
    Header merge X-Merge a
    Header merge X-Merge a
    Header merge X-Merge "b, c"
    Header merge X-Merge b
    Header onsuccess set X-Onsuccess yes
    Header always set X-Always yes
    Header always add X-Always-Add %{FOO}e
    Header unset Last-Modified
    Header edit* X-Add "^(.)$" "<$1&$0\\$1>"
    Header edit ETag "^\"" "'"
    Header setifempty X-Set never
    Header setifempty X-Empty filled
    Header set X-Tags "[%{FOO}e] [%{NOPE}e] 100%% %"
    Header set X-Escapes "a\tb"
    Header set X-Env yes env=TXT
    Header set X-NotEnv yes env=!TXT
    Header set X-Expr "expr=%{REQUEST_URI} for %{req:X-In}"
    Header set X-If yes "expr=%{REQUEST_URI} =~ /\.html$/"
    Header echo ^X-In
    Header set X-Note-Src noted
    Header note X-Note-Src the-note
    Header set Server nobody
    Header unset Date
</Directory>
<Files ctype.txt>
    Header set Content-Type "application/x-custom"
</Files>
<Files edit.txt>
    Header edit Content-Type "^text/" "app/"
</Files>
<Directory "{docroot}/h/deny">
    Require all denied
</Directory>
<Directory "{docroot}/h/sub">
    Redirect /h/sub/old /h/x.html
</Directory>
"""

HFILES = [("htdocs/h/x.html", "<p>x</p>\n"), ("htdocs/h/y.txt", "y\n"),
          ("htdocs/h/ctype.txt", "c\n"), ("htdocs/h/edit.txt", "e\n"),
          ("htdocs/h/deny/x.html", "no\n"), ("htdocs/h/sub/x.html", "x\n")]


def test_header_actions(pair):
    """Every action on a 200, conditions, tags and expressions; on a 404,
    a 403, a 405 and a redirect only "always" applies."""
    apache, rl = pair(HEADERS, HFILES)
    ask = {"X-In": "in", "X-Inner": "echoed", "X-Other": "not"}
    _, r = same(apache, rl, "GET", "/h/x.html", headers=ask)
    f = fields(r)
    assert f["x-set"] == ["two"] and f["x-add"] == ["<a&a$1>", "<b&b$1>"]
    assert f["x-app"] == ["one, two"] and f["x-merge"] == ["a, b, c"]
    assert f["x-tags"] == ["[bar] [(null)] 100% %"] and f["x-escapes"] == ["a\tb"]
    assert f["x-expr"] == ["/h/x.html for in"] and f["x-in"] == ["in"]
    assert f["x-inner"] == ["echoed"] and "x-other" not in f
    assert "last-modified" not in f and f["etag"][0].startswith("'")
    assert r.headers.get_all("Server") != ["nobody"] and len(r.headers.get_all("Date")) == 1
    same(apache, rl, "GET", "/h/y.txt")
    same(apache, rl, "HEAD", "/h/x.html")
    same(apache, rl, "GET", "/h/x.html", headers={"If-None-Match": "*"})   # 304
    same(apache, rl, "GET", "/h/x.html", headers={"If-Match": '"nope"'})   # 412
    _, r = same(apache, rl, "GET", "/h/ctype.txt")
    assert r.headers["Content-Type"] == "application/x-custom"
    _, r = same(apache, rl, "GET", "/h/edit.txt")
    assert r.headers["Content-Type"] == "app/plain"
    for target, method, status in (("/h/missing", "GET", 404), ("/h/deny/x.html", "GET", 403),
                                   ("/h/x.html", "PUT", 405), ("/h/sub/old", "GET", 302)):
        _, r = same(apache, rl, method, target)
        assert r.status == status, target
        assert "x-always" in fields(r) and "x-onsuccess" not in fields(r), target


def test_header_always_and_onsuccess_on_fastcgi(pair, fcgi_recorder):
    """A FastCGI answer is a handler's: both lists apply; RequestHeader
    reaches the backend (and Header echo sees its result)."""
    apache, rl = pair(r"""
<Directory "{docroot}/app">
    <FilesMatch "\.php$">
        SetHandler "proxy:unix:{sock}|fcgi://localhost"
    </FilesMatch>
    SetEnv FOO bar
    RequestHeader set X-Added "added %{FOO}e"
    RequestHeader unset X-Drop
    RequestHeader append X-App more
    RequestHeader merge X-Merge one
    RequestHeader edit X-Edit "^a+" "b"
    RequestHeader edit* X-Edits "a" "b"
    RequestHeader setifempty X-Empty filled
    RequestHeader add X-Cond yes env=FOO
    RequestHeader add X-NotCond yes env=!FOO
    Header set X-Out yes
    Header always set X-Err yes
    Header echo ^X-(Added|App|Edit)$
</Directory>
""", [("htdocs/app/x.php", "not run\n")])
    ask = {"X-Drop": "x", "X-App": "first", "X-Merge": "one", "X-Edit": "aaab",
           "X-Edits": "banana"}
    params = []
    for server in (apache, rl):
        r = request(server.port, "GET", "/app/x.php", headers=ask)
        assert r.status == 200, r.body
        params.append({k: v for k, v in json.loads(r.body)["server"].items()
                       if k.startswith("HTTP_X_")})
    assert params[1] == params[0]
    assert params[1] == {"HTTP_X_ADDED": "added bar", "HTTP_X_APP": "first, more",
                         "HTTP_X_MERGE": "one", "HTTP_X_EDIT": "bb",
                         "HTTP_X_EDITS": "bbnbnb", "HTTP_X_EMPTY": "filled",
                         "HTTP_X_COND": "yes"}
    same(apache, rl, "GET", "/app/x.php", headers=ask)


def test_header_early_and_server_level(pair):
    """Server-level entries apply everywhere, sections' after them; "early"
    runs before anything else (a request header then seen by Require)."""
    apache, rl = pair(r"""
Header always set X-Early yes early
RequestHeader set X-Secret open early
Header set X-Server server
<Directory "{docroot}/e">
    Header set X-Server dir
    Header append X-Server more
    SetEnvIf X-Secret ^open$ SECRET_OK
    Require env SECRET_OK
</Directory>
""", [("htdocs/e/x.html", "x\n"), ("htdocs/x.html", "x\n")])
    for target in ("/e/x.html", "/x.html", "/missing"):
        same(apache, rl, "GET", target)
    _, r = same(apache, rl, "GET", "/e/x.html", headers={"X-Secret": "closed"})
    assert r.status == 200 and r.headers["X-Server"] == "dir, more"


# --------------------------------------------------------------------------
# mod_expires

EXPIRES = r"""
ExpiresActive On
ExpiresByType text/html "access plus 1 hour"
<Directory "{docroot}/x">
    ExpiresByType image/* A600
    ExpiresByType application/json "now plus 1 minute 30 seconds"
    ExpiresDefault "access plus 2 days"
    <FilesMatch "\.php$">
        SetHandler "proxy:unix:{sock}|fcgi://localhost"
    </FilesMatch>
</Directory>
<Directory "{docroot}/x/mod">
    ExpiresDefault "modification plus 1 day"
    ExpiresByType text/html M3600
</Directory>
<Directory "{docroot}/x/public">
    Header merge Cache-Control public
    Header always set Cache-Control no-store "expr=%{REQUEST_URI} =~ /nostore/"
</Directory>
<Directory "{docroot}/x/set">
    Header set Expires "Thu, 01 Jan 1970 00:00:00 GMT"
</Directory>
<Directory "{docroot}/x/off">
    ExpiresActive Off
</Directory>
<Directory "{docroot}/x/sub">
    ExpiresByType text/plain A10
</Directory>
Redirect /x/old /x/a.html
"""


def test_expires(pair, fcgi_recorder):
    """Expires - Date is the interval, max-age too; 4xx get nothing, a
    redirect and a 304 do; an existing Cache-Control gets max-age added."""
    now = int(__import__("time").time())
    files = [(f"htdocs/x/{p}", "x\n") for p in (
        "a.html", "b.png", "c.txt", "app.php", "public/a.html", "public/nostore.html",
        "set/a.html", "off/a.html", "sub/a.png", "sub/a.txt")]
    files += [("htdocs/x/mod/a.html", ("x\n", now - 100)),
              ("htdocs/x/mod/a.txt", ("x\n", now - 86400 * 3))]
    apache, rl = pair(EXPIRES, files)
    want = {"/x/a.html": 3600, "/x/b.png": 600, "/x/c.txt": 172800, "/x/app.php": 90,
            "/x/public/a.html": 3600, "/x/sub/a.txt": 10}
    for target, interval in want.items():
        for server in (apache, rl):
            r = request(server.port, "GET", target)
            assert r.status == 200, (server.name, target)
            cc = r.headers["Cache-Control"]
            assert f"max-age={interval}" in cc.split(", "), (server.name, target, cc)
            assert seconds(r.headers["Expires"]) - seconds(r.headers["Date"]) == interval
    # the merge with Cache-Control: mod_expires first, then Header
    for server in (apache, rl):
        r = request(server.port, "GET", "/x/public/a.html")
        assert r.headers["Cache-Control"] == "max-age=3600, public"
    # a wildcard of the enclosing section is not inherited by one with its own lines
    for target in ("/x/sub/a.png", "/x/off/a.html", "/x/set/a.html", "/x/public/nostore.html",
                   "/x/missing", "/x/mod/a.txt"):
        a, r = (request(s.port, "GET", target) for s in (apache, rl))
        assert r.status == a.status
        for name in ("Cache-Control", "Expires"):
            # Apache writes "always" fields (err_headers_out) first, relaisd last
            want = sorted(a.headers.get_all(name))
            assert sorted(r.headers.get_all(name)) == want, (target, name)
    # modification time: the same Expires from both
    a, r = (request(s.port, "GET", "/x/mod/a.html") for s in (apache, rl))
    assert r.headers["Expires"] == a.headers["Expires"]
    assert seconds(r.headers["Expires"]) == now - 100 + 3600
    for target, hdrs in (("/x/old", None), ("/x/a.html", {"If-None-Match": "*"})):
        for server in (apache, rl):
            r = request(server.port, "GET", target, headers=hdrs)
            assert r.status in (302, 304)
            assert seconds(r.headers["Expires"]) - seconds(r.headers["Date"]) == 3600


# --------------------------------------------------------------------------
# mod_access_compat

ACCESS = r"""
SetEnvIf X-Let-In yes LET_IN
<Directory "{docroot}/wp">
    <Files wp-config.php>
        Order allow,deny
        Deny from all
    </Files>
</Directory>
<Directory "{docroot}/dokuwiki/data">
    Order allow,deny
    Deny from all
</Directory>
<Directory "{docroot}/da">
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
</Directory>
<Directory "{docroot}/partial">
    Order deny,allow
    Deny from all
    Allow from 127.0 10.0.0.0/8 ::1/128 192.168.1.0/255.255.255.0
</Directory>
<Directory "{docroot}/ad">
    Order allow,deny
    Allow from all
    Deny from 127.0.0.0/8
</Directory>
<Directory "{docroot}/ad/reset">
    Satisfy Any
</Directory>
<Directory "{docroot}/noallow">
    Order allow,deny
</Directory>
<Directory "{docroot}/mutual">
    Order mutual-failure
    Allow from 127.0.0.1
    Deny from 10.0.0.0/8
</Directory>
<Directory "{docroot}/env">
    Order deny,allow
    Deny from all
    Allow from env=LET_IN
</Directory>
<Directory "{docroot}/notenv">
    Order allow,deny
    Allow from env=!LET_IN
</Directory>
<Directory "{docroot}/host">
    Order deny,allow
    Deny from all
    Allow from localhost
</Directory>
<Directory "{docroot}/any-deny-require-other">
    Order deny,allow
    Deny from all
    Require ip 10.9.9.9
    Satisfy Any
</Directory>
<Directory "{docroot}/any-deny-require-granted">
    Order deny,allow
    Deny from all
    Require all granted
    Satisfy Any
</Directory>
<Directory "{docroot}/all-deny-require-granted">
    Order deny,allow
    Deny from all
    Require all granted
</Directory>
<Directory "{docroot}/any-allow-require-denied">
    Order allow,deny
    Allow from all
    Require all denied
    Satisfy any
</Directory>
<Directory "{docroot}/all-allow-require-denied">
    Order allow,deny
    Allow from all
    Require all denied
</Directory>
<Directory "{docroot}/inherit">
    Order allow,deny
    Allow from 127.0.0.1
</Directory>
<Directory "{docroot}/inherit/sub">
    Require all denied
</Directory>
"""

DIRS = ["wp", "dokuwiki/data", "da", "partial", "ad", "ad/reset", "noallow", "mutual", "env",
        "notenv", "host", "any-deny-require-other", "any-deny-require-granted",
        "all-deny-require-granted", "any-allow-require-denied", "all-allow-require-denied",
        "inherit", "inherit/sub"]


def test_access_compat(pair):
    """Order/Allow/Deny alone and with Require under Satisfy All and Any,
    as WordPress's and DokuWiki's .htaccess files write them."""
    files = [(f"htdocs/{d}/x.html", "x\n") for d in DIRS]
    files += [("htdocs/wp/wp-config.php", "<?php secret\n"), ("htdocs/wp/index.html", "wp\n"),
              ("htdocs/dokuwiki/data/pages/start.txt", "page\n")]
    apache, rl = pair(ACCESS, files)
    cases = [("GET", f"/{d}/x.html", None) for d in DIRS]
    cases += [("GET", "/wp/wp-config.php", None), ("GET", "/wp/", None),
              ("GET", "/dokuwiki/data/pages/start.txt", None),
              ("GET", "/env/x.html", {"X-Let-In": "yes"}),
              ("GET", "/notenv/x.html", {"X-Let-In": "yes"}),
              ("POST", "/da/x.html", None), ("HEAD", "/dokuwiki/data/x.html", None)]
    want = statuses(apache, cases)
    assert statuses(rl, cases) == want
    assert want[DIRS.index("wp")] == 200 and 403 in want
    assert statuses(rl, [("GET", "/wp/wp-config.php", None)]) == [403]
    rl.wait_for_log(r"\[access_compat:error\] .* AH01797: client denied by server "
                    r"configuration: .*/htdocs/wp/wp-config.php")


# --------------------------------------------------------------------------
# <Limit> and <LimitExcept>

LIMIT = r"""
<Directory "{docroot}/limit-get-post">
    <Limit GET POST>
        Require all denied
    </Limit>
</Directory>
<Directory "{docroot}/except-get">
    <LimitExcept GET>
        Require all denied
    </LimitExcept>
</Directory>
<Directory "{docroot}/limit-post-only">
    <Limit POST>
        Require all denied
    </Limit>
    Require all granted
</Directory>
<Directory "{docroot}/denied-but-post">
    Require all denied
    <Limit POST PUT>
        Require all granted
    </Limit>
</Directory>
<Directory "{docroot}/all-limited">
    <RequireAll>
        Require all granted
        <Limit POST>
            Require all denied
        </Limit>
    </RequireAll>
</Directory>
<Directory "{docroot}/order-limit">
    Order allow,deny
    Deny from all
    <Limit POST>
        Order deny,allow
        Allow from all
    </Limit>
</Directory>
<Directory "{docroot}/satisfy-limit">
    Order allow,deny
    Allow from all
    <Limit GET>
        Satisfy Any
    </Limit>
    Require all denied
</Directory>
<Directory "{docroot}/nested">
    <LimitExcept OPTIONS>
        <Limit POST>
            Require all denied
        </Limit>
        Header set X-Inside-Limit yes
    </LimitExcept>
</Directory>
"""

LDIRS = ["limit-get-post", "except-get", "limit-post-only", "denied-but-post", "all-limited",
         "order-limit", "satisfy-limit", "nested"]


def test_limit(pair):
    """Access directives inside <Limit>/<LimitExcept> count for those
    methods (HEAD is GET); other directives apply to every method."""
    apache, rl = pair(LIMIT, [(f"htdocs/{d}/x.html", "x\n") for d in LDIRS])
    cases = [(m, f"/{d}/x.html", None) for d in LDIRS
             for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")]
    assert statuses(rl, cases) == statuses(apache, cases)
    _, r = same(apache, rl, "GET", "/nested/x.html")
    assert r.headers["X-Inside-Limit"] == "yes"


# --------------------------------------------------------------------------
# configuration errors: Apache's words

ERRORS = [
    ("Header foo X y", "first argument must be 'add', 'set', 'setifempty', 'append', "
     "'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'."),
    ("Header always", "first argument must be 'add', 'set', 'setifempty', 'append', "
     "'merge', 'unset', 'echo', 'note', 'edit', or 'edit*'."),
    ("Header set X", "Header requires three arguments"),
    ("Header set X y z", "Unknown parameter: z"),
    ("Header set X y env=", "error: missing environment variable name. envclause should "
     "be in the form env=envar "),
    ("Header set X y z w", "Too many arguments to directive"),
    ("Header set X y z w v", "Header has too many arguments"),
    ("Header unset X y z", "header unset takes two arguments"),
    ("Header echo X y z", "Header echo takes two arguments"),
    ("Header edit X y", "Header edit requires a match and a substitution"),
    ("Header edit X ( y", "Header edit regex could not be compiled"),
    ("RequestHeader echo X", "Header echo only valid on Header directives"),
    ("RequestHeader note X y", "RequestHeader does not support the 'note' action"),
    ("Header set X %z", "Unrecognized header format %z"),
    ('Header set X "expr=%{foo"', "Can't parse value expression : syntax error, unexpected "
     "T_ERROR, expecting T_VAR_END or ':': Unterminated string or variable"),
    ("ExpiresActive maybe", "ExpiresActive must be On or Off"),
    ('ExpiresByType text "access plus 1 hour"', "Invalid mimetype: should contain a slash"),
    ('ExpiresByType text/html "access plus x hour"', "'ExpiresByType text/html access plus "
     "x hour': bad expires code, numeric value expected <num> 'x'"),
    ('ExpiresByType text/html "access plus 1"', "'ExpiresByType text/html access plus 1': "
     "bad expires code, missing <type>"),
    ('ExpiresDefault "now plus 1 m"', "'ExpiresDefault now plus 1 m': bad expires code, "
     "unrecognised <type>'m'"),
    ('ExpiresDefault "later plus 1 day"', "'ExpiresDefault later plus 1 day': bad expires "
     "code, unrecognised <base> 'later'"),
    ("Order foo", "unknown order"),
    ("Order allow,deny deny", "order takes one argument, 'allow,deny', 'deny,allow', or "
     "'mutual-failure'"),
    ("Allow all", "allow requires at least two arguments, 'from' followed by hostnames or "
     "IP-address wildcards"),
    ("Deny to all", "allow and deny must be followed by 'from'"),
    ("Allow from 1.2.3.4/99", "The specified network mask is invalid."),
    ("Allow from 1.2.3.4/0", "The specified network mask is invalid."),
    ("Allow from 1.2.3.999", "The specified IP address is invalid."),
    ("Allow from 10.1/16", "The specified IP address is invalid."),
    ("Allow from a/8", "An IP address was expected"),
    ("Satisfy some", "Satisfy either 'any' or 'all'."),
    ("<Limit TRACE>\n</Limit>", "TRACE cannot be controlled by <Limit>, see TraceEnable"),
    ("<Limit>\n</Limit>", "<Limit> directive requires additional arguments"),
    ("<Limit GET>\n<Limit POST>\n</Limit>\n</Limit>", "<Limit> directive excludes all methods"),
    ("<LimitExcept GET>\n<LimitExcept GET>\n</LimitExcept>\n</LimitExcept>",
     "<LimitExcept> directive specifies methods already excluded"),
]


@pytest.mark.parametrize("lines,msg", ERRORS, ids=[e[0].replace("\n", "|")[:40] for e in ERRORS])
def test_config_errors(make_relaisd, make_apache, lines, msg):
    """relaisd -t and apache2 -t say the same, at the same line."""
    extra = '<Directory "{docroot}">\n' + lines.replace("{", "{{").replace("}", "}}") + \
        "\n</Directory>"
    # the line of the directive at fault: the first, or the inner section
    line = RELAISD_CONF.splitlines().index("{extra}") + 2 + (lines.count("\n") > 1)
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=extra)
    r = rl.run(["-t"])
    assert (r.rc != 0, r.stderr.splitlines()[1:]) == (True, [msg]), r.stderr
    assert r.stderr.startswith(f"AH00526: Syntax error on line {line} of {rl.conf}:\n")
    apache = make_apache(sock=None, modules=MODULES)
    apache.write_config(extra=extra)
    a = apache.run(["-t"])
    assert a.stderr.splitlines()[1:] == [msg], a.stderr


def test_config_accepts(make_relaisd, make_apache):
    """What Apache accepts, relaisd accepts."""
    extra = r"""
Header always set X y early
Header setifempty X y
Header note X y
Header set X "%{HTTP_HOST}e %{x}s %l %b %i %t %D"
Header unset X env=!Y
Header edit* X "a(b)" "$1\&" "expr=-n %{HTTP_HOST}"
ExpiresByType text/* "access plus 1 hour"
ExpiresByType text/html "acess plus 1 hourz"
ExpiresDefault "n p 1 mo 2 mi"
ExpiresDefault Afoo
<Directory "{docroot}">
    Allow from 1.2.3.4/255.255.0.0 10.1 10.1. host.example.com env=X env=!Y
    Allow from ::1/64 2001:db8::/32 fe80::1
    Deny from env=
    <Limit GET FOO>
        Require all denied
        Header set X y
        DirectoryIndex a
    </Limit>
    <LimitExcept TRACE>
    </LimitExcept>
</Directory>
"""
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=extra)
    r = rl.run(["-t"])
    assert (r.rc, r.stderr.splitlines()[-1:]) == (0, ["Syntax OK"]), r.stderr
    apache = make_apache(sock=None, modules=MODULES + ["dir"])
    apache.write_config(extra=extra)
    a = apache.run(["-t"])
    assert a.stderr.splitlines()[-1:] == ["Syntax OK"], a.stderr


@pytest.mark.parametrize("directive", ["php_value", "php_flag", "php_admin_value",
                                       "php_admin_flag"])
def test_php_directives(make_relaisd, make_apache, directive):
    """Apache without mod_php: an invalid command. relaisd says so too, and
    where the setting goes instead (the php-fpm pool, or .user.ini)."""
    extra = f'<Directory "{{docroot}}">\n{directive} upload_max_filesize 64M\n</Directory>'
    rl = make_relaisd(template=RELAISD_CONF)
    rl.write_config(extra=extra)
    r = rl.run(["-t"])
    assert r.rc != 0
    head = (f"Invalid command '{directive}', perhaps misspelled or defined by a module not "
            "included in the server configuration")
    line = RELAISD_CONF.splitlines().index("{extra}") + 2
    assert r.stderr.startswith(f"AH00526: Syntax error on line {line} of {rl.conf}:\n{head} (")
    assert f"{directive} belongs to mod_php" in r.stderr
    assert f'"{directive}[upload_max_filesize] = 64M" in the php-fpm pool' in r.stderr
    assert (".user.ini" in r.stderr) == ("admin" not in directive)
    apache = make_apache(sock=None)
    apache.write_config(extra=extra)
    a = apache.run(["-t"])
    assert a.stderr.splitlines()[1:] == [head], a.stderr



# --------------------------------------------------------------------------
# the same from applications' .htaccess files

HTACCESS = [
    # WordPress: wp-config.php protection as its hardening guide writes it
    ("htdocs/wp/.htaccess", "<Files wp-config.php>\nOrder allow,deny\nDeny from all\n</Files>\n"
                            "Header set X-WP yes\nExpiresActive On\n"
                            "ExpiresByType text/html \"access plus 100 seconds\"\n"),
    ("htdocs/wp/wp-config.php", "<?php // secret\n"),
    ("htdocs/wp/index.html", "wp\n"),
    # DokuWiki's data/.htaccess, and its 2.2-only form
    ("htdocs/dokuwiki/data/.htaccess", "<IfModule mod_authz_core.c>\n    AuthType None\n"
     "    Require all denied\n</IfModule>\n<IfModule !mod_authz_core.c>\n    Order allow,deny\n"
     "    Deny from all\n</IfModule>\n"),
    ("htdocs/dokuwiki/data/pages/start.txt", "page\n"),
    ("htdocs/old/.htaccess", "Order allow,deny\nDeny from all\n"),
    ("htdocs/old/x.txt", "x\n"),
    ("htdocs/limit/.htaccess", "<Limit POST PUT>\nRequire all denied\n</Limit>\n"),
    ("htdocs/limit/x.txt", "x\n"),
    ("htdocs/php/.htaccess", "# from an application\nphp_value upload_max_filesize 64M\n"),
    ("htdocs/php/x.txt", "x\n"),
]


def test_htaccess_files(pair):
    """Applications' .htaccess files give the same answers; php_value is a
    500 whose log line names the file, the line and where the setting goes."""
    # Debian loads mod_authn_core (DokuWiki's "AuthType None")
    apache, rl = pair('<Directory "{docroot}">\n    AllowOverride All\n</Directory>\n',
                      HTACCESS, modules=["authn_core"])
    cases = [("GET", "/wp/wp-config.php", None), ("GET", "/wp/", None),
             ("GET", "/dokuwiki/data/pages/start.txt", None), ("GET", "/old/x.txt", None),
             ("GET", "/limit/x.txt", None), ("POST", "/limit/x.txt", None),
             ("GET", "/php/x.txt", None)]
    want = statuses(apache, cases)
    assert statuses(rl, cases) == want
    assert want == [403, 200, 403, 403, 200, 403, 500]
    _, r = same(apache, rl, "GET", "/wp/")
    assert r.headers["X-WP"] == "yes" and r.headers["Cache-Control"] == "max-age=100"
    rl.wait_for_log(r"\[core:alert\] .*/htdocs/php/\.htaccess:2: Invalid command 'php_value'"
                    r".* \(php_value belongs to mod_php, .*\"php_value\[upload_max_filesize\] "
                    r"= 64M\" in the php-fpm pool's configuration file instead, or "
                    r"\"upload_max_filesize = 64M\" in a \.user\.ini file")
