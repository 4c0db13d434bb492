#!/usr/bin/python3
"""mod_rewrite cases and what Debian's Apache 2.4 does with them.

Each case is a set of rules (in a <VirtualHost>, in its <Directory>, or
both) and requests to send. This script runs Debian's apache2 from a
temporary prefix with every case of a group as a name-based virtual host
(Host: <case>.test, DocumentRoot <prefix>/sites/<case> holding SITE), the
PHP handler and [H=] pointing at a FastCGI recorder (incumbents.FcgiRecorder,
which answers with the parameters it received), sends the requests and
writes the observable outcome of each to cases.json:

    status, and when present Location, Vary, Set-Cookie;
    "fcgi": the FastCGI parameters the final handler got (REDIRECT_*,
            SCRIPT_FILENAME as php-fpm reads it, QUERY_STRING, the E=
            variables ...), or
    "type"/"body" for a static answer (200).

Values are normalised: the prefix becomes {prefix}, the port {port}, the
TCP recorder's port {rport}. tests/interop/test_rewrite.py replays the
table against relaisd (same configuration text, same recorder) and compares
outcome for outcome; CONFIG_ERRORS are checked with -t on both.

    /usr/bin/python3 tests/rewrite/gen_cases.py [-k NAME] [--print]

(-k: only the cases whose name contains NAME, printed, cases.json left
alone; --print: print the outcomes too.) Standard library only; needs
apache2 (Debian 12). Everything listens on 127.0.0.1 and is stopped by PID.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "e2e"))

import incumbents  # noqa: E402
import relais  # noqa: E402

TABLE = HERE / "cases.json"

# The files of every case's document root (PHP files are empty: the
# recorder answers for them).
SITE = {
    "index.php": "", "app.php": "", "static.txt": "static.txt\n", "page.html": "<p>page</p>\n",
    "empty.txt": "", "b.txt": "b.txt\n", "c.txt": "c.txt\n", "img/logo.png": "png\n",
    "sub/index.php": "", "sub/file.txt": "sub/file.txt\n", "sub/deep/d.txt": "sub/deep/d.txt\n",
    "wp-admin/index.php": "", "real/x.txt": "real/x.txt\n", "real/index.php": "",
    "maps/colors.txt": "# colours\nred ff0000\nblue 0000ff  trailing\n red 000000\nred 111111\n",
    "dokuwiki/doku.php": "", "dokuwiki/index.php": "", "dokuwiki/README": "readme\n",
    "dokuwiki/lib/exe/fetch.php": "", "dokuwiki/lib/exe/detail.php": "",
    "dokuwiki/lib/exe/xmlrpc.php": "",
    "core/install.php": "", "autoload.php": "", ".well-known/x.txt": "well-known\n",
    ".htaccess.txt": "hidden\n",
}
SYMLINKS = {"link.txt": "static.txt"}

# Parameters that differ by nature between two servers or two runs.
IGNORE = {"REMOTE_PORT", "SERVER_SOFTWARE", "SERVER_SIGNATURE", "proxy-nokeepalive"}

PHP = '"proxy:unix:{sock}|fcgi://localhost"'

# The configuration around the cases; {head} differs per server.
TEMPLATE = """\
{head}
Listen 127.0.0.1:{port}
ServerName localhost
ErrorLog "{logs}/error_log"
LogLevel info rewrite:trace4
TypesConfig /etc/mime.types
DocumentRoot "{prefix}/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{prefix}/sites">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.php index.html
<FilesMatch "\\.php$">
    SetHandler "proxy:unix:{sock}|fcgi://localhost"
</FilesMatch>
"""

APACHE_HEAD = """\
ServerRoot "{prefix}"
DefaultRuntimeDir "{prefix}/run"
Mutex file:{prefix}/run default
PidFile "{logs}/apache2.pid"
{modules}
{usergroup}
"""

RELAISD_HEAD = """\
ServerRoot "{prefix}"
PidFile "{logs}/relaisd.pid"
"""

APACHE_MODULES = ["rewrite"]


def host(name):
    """The Host of a case: its name with '-' for '_', in .test."""
    return name.replace("_", "-") + ".test"


def req(target, method="GET", headers=None, body=None, host=None):
    return {"method": method, "target": target, "headers": headers or {}, "body": body,
            "host": host}


def case(name, doc, requests, server="", dir="", dirs=None, extra="", files=None):
    """<server>: lines in the <VirtualHost>; <dir>: lines in its <Directory>
    (the document root); <dirs>: {subdir: lines} for more <Directory>
    sections below it; <extra>: more lines in the <VirtualHost>; <files>:
    {path: text} written in the document root besides SITE (.htaccess).
    Placeholders: {site} (the document root), {prefix}, {sock}, {rport}."""
    return {"name": name, "doc": doc, "server": server, "dir": dir, "dirs": dirs or {},
            "extra": extra, "files": files or {},
            "requests": [r if isinstance(r, dict) else req(r) for r in requests]}


ON = "RewriteEngine On\n"

SERVER_CASES = [
    case("srv_basic", "a URL-path result is mapped under DocumentRoot",
         ["/old", "/old?q=1", "/nope.txt", "/static.txt"],
         server=ON + "RewriteRule ^/old$ /static.txt\n"),
    case("srv_php", "front controller at server level: SCRIPT_NAME stays the URI",
         ["/blog/hello", "/blog/hello?x=1", "/blog/a%20b/c"],
         server=ON + "RewriteRule ^/blog/(.*)$ /index.php?p=$1 [L]\n"),
    case("srv_query", "QSA, QSD, QSL and an empty query in the substitution",
         ["/qsa/a?x=1", "/qsa/a", "/qsd?x=1", "/keep?x=1", "/empty?x=1",
          "/qsl/a%3Fb?c=d", "/noqsl/a%3Fb?c=d", "/amp?x=1"],
         server=ON + "RewriteRule ^/qsa/(.*)$ /index.php?p=$1 [QSA]\n"
                     "RewriteRule ^/qsd$ /index.php [QSD]\n"
                     "RewriteRule ^/keep$ /index.php\n"
                     "RewriteRule ^/empty$ /index.php? [L]\n"
                     "RewriteRule ^/qsl/(.*)$ /index.php/$1 [QSL]\n"
                     "RewriteRule ^/noqsl/(.*)$ /index.php/$1\n"
                     "RewriteRule ^/amp$ /index.php?a=1& [QSA]\n"),
    case("srv_redirect", "R, R=301, R=permanent, R=303, implicit redirects",
         ["/r", "/r301", "/perm", "/r303?x=1", "/abs", "/ext/a%20b", "/ext/x?y=1",
          "/seeother", "/rel"],
         server=ON + "RewriteRule ^/r$ /static.txt [R]\n"
                     "RewriteRule ^/r301$ /static.txt [R=301,L]\n"
                     "RewriteRule ^/perm$ /static.txt [R=permanent]\n"
                     "RewriteRule ^/r303$ /static.txt [R=303]\n"
                     "RewriteRule ^/abs$ http://example.com/x [R=302]\n"
                     "RewriteRule ^/ext/(.*)$ http://example.com/e/$1\n"
                     "RewriteRule ^/seeother$ /static.txt [R=seeother]\n"
                     "RewriteRule ^/rel$ static.txt [R]\n"),
    case("srv_redirect_query", "queries of redirects: kept, replaced, appended, escaped",
         ["/rq?x=1", "/rqa?x=1", "/sp/a%20b", "/pct?x=%41%20", "/pct2/a%25b", "/hash/x",
          "/hashne/x", "/sp/a%5Bb%22%7E", "/pct2/x%5B%C3%A9"],
         server=ON + "RewriteRule ^/rq$ /static.txt?a=b [R]\n"
                     "RewriteRule ^/rqa$ /static.txt?a=b [R,QSA]\n"
                     "RewriteRule ^/sp/(.*)$ /t?v=$1 [R]\n"
                     "RewriteRule ^/pct$ /t [R]\n"
                     "RewriteRule ^/pct2/(.*)$ /t/$1?q=$1 [R]\n"
                     "RewriteRule ^/hash/(.*)$ /t#$1 [R]\n"
                     "RewriteRule ^/hashne/(.*)$ /t#$1 [R,NE]\n"),
    case("srv_status", "F, G, R=404, R=503, and a status rule without L",
         ["/forbidden", "/gone", "/r404", "/r503", "/fthen"],
         server=ON + "RewriteRule ^/forbidden$ - [F]\n"
                     "RewriteRule ^/gone$ - [G]\n"
                     "RewriteRule ^/r404$ - [R=404]\n"
                     "RewriteRule ^/r503$ /x [R=503]\n"
                     "RewriteRule ^/fthen$ /index.php [F]\n"
                     "RewriteRule ^/fthen$ /index.php\n"),
    case("srv_env", "E=, E=!, E=var without value, with backreferences",
         ["/env/abc", "/env/abc?q=1", "/unset"],
         server=ON + "SetEnvIf Request_URI . PRESET=yes\n"
                     "RewriteRule ^/env/(.*)$ /index.php [E=FOO:$1,E=BAR:bar:baz,E=EMPTY]\n"
                     "RewriteRule ^/unset$ /index.php [E=!PRESET,E=Q:%{QUERY_STRING}x]\n"),
    case("srv_type_handler", "T= and H= at server level",
         ["/typed", "/handled", "/typedphp"],
         server=ON + "RewriteRule ^/typed$ /static.txt [T=application/X-Test]\n"
                     "RewriteRule ^/handled$ /static.txt [H=" + PHP + "]\n"
                     "RewriteRule ^/typedphp$ /index.php [T=text/x-other]\n"),
    case("srv_pt", "PT hands the result to Alias; without PT it is a DocumentRoot path",
         ["/pt/x.txt", "/nopt/x.txt", "/ptphp/index.php"],
         server=ON + "RewriteRule ^/pt/(.*)$ /aliased/$1 [PT]\n"
                     "RewriteRule ^/nopt/(.*)$ /aliased/$1\n"
                     "RewriteRule ^/ptphp/(.*)$ /aliased/$1 [PT]\n",
         extra='Alias /aliased "{site}/real"\n'),
    case("srv_filesystem", "a result whose first component exists is a file path",
         ["/fs", "/fsphp/pi/x", "/dotdot", "/dots?f=../../srv_basic/static.txt",
          "/dots?f=../../../htdocs/x"],
         server=ON + "RewriteRule ^/fs$ {site}/sub/file.txt\n"
                     "RewriteRule ^/fsphp/(.*)$ {site}/index.php/$1\n"
                     "RewriteRule ^/dotdot$ /../../etc/passwd\n"
                     "RewriteCond %{QUERY_STRING} ^f=(.*)$\n"
                     "RewriteRule ^/dots$ {site}/sub/%1\n"),
    case("srv_skip_chain", "S=, C and chains that fail",
         ["/s/x", "/c/abc", "/c/xyz", "/cc/a", "/other"],
         server=ON + "RewriteRule ^/s/ - [S=1]\n"
                     "RewriteRule ^/s/(.*)$ /index.php?skipped=no [L]\n"
                     "RewriteRule ^/s/(.*)$ /index.php?skipped=yes [L]\n"
                     "RewriteRule ^/c/(.*)$ /c2/$1 [C]\n"
                     "RewriteRule ^/c2/(a.*)$ /index.php?c=$1 [L]\n"
                     "RewriteRule ^/cc/(.*)$ /cc2/$1 [C]\n"
                     "RewriteRule ^/nomatch - [C]\n"
                     "RewriteRule ^/cc2/(.*)$ /index.php?cc=$1 [L]\n"
                     "RewriteRule ^/other$ /index.php?other=1\n"),
    case("srv_next", "N loops until nothing matches, N=n bounds it",
         ["/n/axbxc", "/bounded/aaaa"],
         server=ON + "RewriteRule ^/n/(.*)x(.*)$ /n/$1y$2 [N]\n"
                     "RewriteRule ^/n/(.*)$ /index.php?n=$1 [L]\n"
                     "RewriteRule ^/bounded/(.*)a(.*)$ /bounded/$1b$2 [N=3]\n"
                     "RewriteRule ^/bounded/(.*)$ /index.php?b=$1 [L]\n"),
    case("srv_nocase_not", "NC, a negated pattern, $0",
         ["/CaSe", "/case", "/neg/x", "/zero/abc"],
         server=ON + "RewriteRule ^/case$ /index.php?nc=1 [NC,L]\n"
                     "RewriteRule !^/(index|neg|zero) - [L]\n"
                     "RewriteRule !^/neg/none$ /index.php?neg=$1 [L]\n"),
    case("srv_zero", "$0 is the whole match",
         ["/zero/abc"],
         server=ON + "RewriteRule ^/zero/(b?)(.*)$ /index.php?all=$0&one=$1&two=$2 [L]\n"),
    case("srv_backref_escape", "B, B=chars, BNP",
         ["/b/a%20b%26c%2Bd", "/bc/a%20b%26c", "/bnp/a%20b", "/nob/a%20b%26c"],
         server=ON + "RewriteRule ^/b/(.*)$ /index.php?q=$1 [B,L]\n"
                     "RewriteRule ^/bc/(.*)$ /index.php?q=$1 [B=&,L]\n"
                     "RewriteRule ^/bnp/(.*)$ /index.php?q=$1 [B,BNP,L]\n"
                     "RewriteRule ^/nob/(.*)$ /index.php?q=$1 [L]\n"),
    case("srv_host_cond", "canonical host redirect with %N",
         [req("/a/b?x=1", host="www.srv-host-cond.test"), "/a/b"],
         server=ON + "ServerAlias www.srv-host-cond.test\n"
                     "RewriteCond %{HTTP_HOST} ^www\\.(.+)$ [NC]\n"
                     "RewriteRule ^/(.*)$ http://%1/$1 [R=301,L]\n"),
    case("srv_query_cond", "a condition on the query, %N in the substitution",
         ["/item?id=42", "/item?x=1&id=7&y", "/item?id=x"],
         server=ON + "RewriteCond %{QUERY_STRING} (^|&)id=([0-9]+)(&|$)\n"
                     "RewriteRule ^/item$ /index.php?item=%2 [L]\n"),
    case("srv_or_cond", "OR chains, NC on conditions, header tests and Vary",
         [req("/x", headers={"User-Agent": "GoodBot/1"}),
          req("/x", headers={"Referer": "http://spam.example/"}),
          req("/x", headers={"User-Agent": "curl", "Referer": "http://ok/"}), "/x"],
         server=ON + "RewriteCond %{HTTP_USER_AGENT} bot [NC,OR]\n"
                     "RewriteCond %{HTTP_REFERER} spam\n"
                     "RewriteRule ^/x$ - [F]\n"
                     "RewriteRule ^/x$ /index.php [L]\n"),
    case("srv_novary", "headers in conditions go to Vary unless NV",
         [req("/v", headers={"X-A": "1", "X-B": "2", "Accept": "text/html"}), "/v"],
         server=ON + "RewriteCond %{HTTP:X-A} 1\n"
                     "RewriteCond %{HTTP:X-B} 2 [NV]\n"
                     "RewriteCond %{HTTP_ACCEPT} html\n"
                     "RewriteRule ^/v$ /index.php?v=1 [L]\n"
                     "RewriteRule ^/v$ /index.php?v=0 [L]\n"),
    case("srv_compare", "string and integer comparisons",
         [req("/cmp", headers={"X-N": n}) for n in ("5", "10", "11", "abc", "")],
         server=ON + "RewriteCond %{HTTP:X-N} -ge10\n"
                     "RewriteRule ^/cmp$ /index.php?ge10=1 [L]\n"
                     "RewriteCond %{HTTP:X-N} -eq5\n"
                     "RewriteRule ^/cmp$ /index.php?eq5=1 [L]\n"
                     "RewriteCond %{HTTP:X-N} >b\n"
                     "RewriteRule ^/cmp$ /index.php?gtb=1 [L]\n"
                     "RewriteCond %{HTTP:X-N} =\"\"\n"
                     "RewriteRule ^/cmp$ /index.php?empty=1 [L]\n"
                     "RewriteCond %{HTTP:X-N} !-ne0\n"
                     "RewriteRule ^/cmp$ /index.php?zero=1 [L]\n"),
    case("srv_compare2", "<, <=, >=, -lt, -le, -gt, = with NC",
         [req("/c2", headers={"X-S": s}) for s in ("aa", "AB", "b", "100", "9")],
         server=ON + "RewriteCond %{HTTP:X-S} =ab [NC]\n"
                     "RewriteRule ^/c2$ /index.php?eqnc=1 [L]\n"
                     "RewriteCond %{HTTP:X-S} -lt10\n"
                     "RewriteRule ^/c2$ /index.php?lt10=1 [L]\n"
                     "RewriteCond %{HTTP:X-S} \"-gt 50\"\n"
                     "RewriteCond %{HTTP:X-S} -le100\n"
                     "RewriteRule ^/c2$ /index.php?le100=1 [L]\n"
                     "RewriteCond %{HTTP:X-S} <b\n"
                     "RewriteCond %{HTTP:X-S} >=aa\n"
                     "RewriteRule ^/c2$ /index.php?between=1 [L]\n"
                     "RewriteCond %{HTTP:X-S} <=b\n"
                     "RewriteRule ^/c2$ /index.php?leb=1 [L]\n"),
    case("srv_file_tests", "-f -d -s -l -F and negations at server level",
         ["/t/static.txt", "/t/sub", "/t/empty.txt", "/t/link.txt", "/t/none", "/t/index.php"],
         server=ON + "RewriteCond {site}/$1 -l\n"
                     "RewriteRule ^/t/(.*)$ /index.php?l=$1 [L]\n"
                     "RewriteCond {site}/$1 -s\n"
                     "RewriteRule ^/t/(.*)$ /index.php?s=$1 [L]\n"
                     "RewriteCond {site}/$1 -f\n"
                     "RewriteRule ^/t/(.*\\.txt)$ /index.php?f=$1 [L]\n"
                     "RewriteCond {site}/$1 -d\n"
                     "RewriteRule ^/t/(.*)$ /index.php?d=$1 [L]\n"
                     "RewriteCond {site}/$1 !-F\n"
                     "RewriteRule ^/t/(.*)$ /index.php?none=$1 [L]\n"
                     "RewriteRule ^/t/(.*)$ /index.php?else=$1 [L]\n"),
    case("srv_vars", "request variables into E= (what %{VAR} gives)",
         [req("/vars?a=b", headers={"Cookie": "c=1", "User-Agent": "UA/1", "Referer": "r",
                                    "X-Custom": "cust"}),
          req("/vars", method="POST", body="x=1",
              headers={"Content-Type": "application/x-www-form-urlencoded"})],
         server=ON + "RewriteRule ^/vars$ /index.php [E=V_METHOD:%{REQUEST_METHOD},"
                     "E=V_URI:%{REQUEST_URI},E=V_QS:%{QUERY_STRING},E=V_THE:%{THE_REQUEST},"
                     "E=V_SCHEME:%{REQUEST_SCHEME},E=V_HTTPS:%{HTTPS},E=V_HOST:%{HTTP_HOST},"
                     "E=V_NAME:%{SERVER_NAME},E=V_PORT:%{SERVER_PORT},E=V_ADDR:%{REMOTE_ADDR},"
                     "E=V_COOKIE:%{HTTP_COOKIE},E=V_UA:%{HTTP_USER_AGENT},"
                     "E=V_REF:%{HTTP_REFERER},E=V_CUSTOM:%{HTTP:X-Custom},"
                     "E=V_FN:%{REQUEST_FILENAME},E=V_SFN:%{SCRIPT_FILENAME},"
                     "E=V_DOCROOT:%{DOCUMENT_ROOT},E=V_PROTO:%{SERVER_PROTOCOL},"
                     "E=V_LOWER:%{request_uri},E=V_UNKNOWN:%{HTTP_X_CUSTOM},E=V_SHORT:%{ABC},"
                     "E=V_ENV:%{ENV:PATH},E=V_IPV6:%{IPV6},E=V_SUB:%{IS_SUBREQ},"
                     "E=V_CP:%{CONTEXT_PREFIX},E=V_CDR:%{CONTEXT_DOCUMENT_ROOT},"
                     "E=V_ESC:\\%{HTTP_HOST}\\$1,E=V_OPEN:%{HTTP_HOST]"
                     "]\n"),
    case("srv_time", "TIME variables in conditions",
         ["/time"],
         server=ON + "RewriteCond %{TIME_YEAR} >2000\n"
                     "RewriteCond %{TIME} ^[0-9]{14}$\n"
                     "RewriteCond %{TIME_HOUR}%{TIME_MIN}%{TIME_SEC} ^[0-9]{6}$\n"
                     "RewriteCond %{TIME_WDAY} ^[0-6]$\n"
                     "RewriteRule ^/time$ /index.php?time=ok [L]\n"),
    case("srv_expr", "RewriteCond expr",
         ["/expr?ok=1", "/expr?no=1"],
         server=ON + "RewriteCond expr \"%{QUERY_STRING} =~ /ok/\"\n"
                     "RewriteRule ^/expr$ /index.php?expr=yes [L]\n"
                     "RewriteRule ^/expr$ /index.php?expr=no [L]\n"),
    case("srv_map", "int: and txt: maps with defaults",
         ["/m/HeLLo", "/u/abc", "/color/red", "/color/blue", "/color/green", "/esc/a%20b",
          "/nomap/x"],
         server=ON + "RewriteMap lower int:tolower\n"
                     "RewriteMap upper int:toupper\n"
                     "RewriteMap esc int:escape\n"
                     "RewriteMap colors txt:{site}/maps/colors.txt\n"
                     "RewriteRule ^/m/(.*)$ /index.php?m=${lower:$1} [L]\n"
                     "RewriteRule ^/u/(.*)$ /index.php?u=${upper:$1|none} [L]\n"
                     "RewriteRule ^/color/(.*)$ /index.php?c=${colors:$1|unknown-$1} [L]\n"
                     "RewriteRule ^/esc/(.*)$ /index.php?e=${esc:$1} [L]\n"
                     "RewriteRule ^/nomap/(.*)$ /index.php?n=${missing:$1}&d=${missing:$1|dflt} [L]\n"),
    case("srv_engine_only", "RewriteEngine On alone sets SCRIPT_URL and SCRIPT_URI",
         ["/index.php", "/sub/", "/index.php/pi?x=1"],
         server=ON),
    case("srv_engine_off", "RewriteEngine Off: rules are ignored",
         ["/off"],
         server="RewriteEngine Off\nRewriteRule ^/off$ /index.php\n"),
    case("srv_reduce", "a URL of this server without R is reduced to its path",
         ["/self", "/selfport", "/other"],
         server=ON + "RewriteRule ^/self$ http://srv-reduce.test/static.txt\n"
                     "RewriteRule ^/selfport$ http://srv-reduce.test:{port}/static.txt\n"
                     "RewriteRule ^/other$ http://other.test/static.txt\n"),
    case("srv_end_vs_dir", "END at server level stops the section's rules, L does not",
         ["/end", "/last"],
         server=ON + "RewriteRule ^/end$ /b.txt [END]\n"
                     "RewriteRule ^/last$ /b.txt [L]\n",
         dir=ON + "RewriteRule ^b\\.txt$ c.txt [L]\n"),
    case("srv_proxy", "P to a FastCGI server over TCP",
         ["/p/index.php?x=1", "/p/a%20b.php"],
         server=ON + "RewriteRule ^/p/(.*\\.php)$ fcgi://127.0.0.1:{rport}{site}/$1 [P]\n"),
    case("srv_cookie", "CO= sets a cookie once",
         ["/cookie"],
         server=ON + "RewriteRule ^/cookie$ - [CO=lang:fr:.srv-cookie.test:0:/:secure:HttpOnly]\n"
                     "RewriteRule ^/cookie$ /index.php [CO=lang:de:.x.test,CO=theme:dark:"
                     "srv-cookie.test]\n"),
    case("srv_qmark", "an encoded '?' in the request and a '?' in the result "
                      "(CVE-2024-38474, UnsafeAllow3F)",
         ["/q1/a%3Fb", "/q2/ab%3Fc", "/q3/a%3Fb", "/q4?a=b?c", "/q5/a%3Fb", "/q6/x%3F",
          req("/q7", headers={"X-Q": "a?b"}), req("/q8", headers={"X-Q": "a?b"}),
          "/q9/a%3Fb"],
         server=ON + "RewriteRule ^/q1/(.*)$ /index.php/$1 [L]\n"
                     "RewriteRule ^/q2/([a-z]*).*$ /index.php?q=$1 [L]\n"
                     "RewriteRule ^/q3/(.*)$ /index.php/$1 [L,UnsafeAllow3F]\n"
                     "RewriteCond %{QUERY_STRING} (.*)\n"
                     "RewriteRule ^/q4$ /index.php/%1 [L]\n"
                     "RewriteRule ^/q5/(.*)$ /index.php?v=$1 [L]\n"
                     "RewriteRule ^/q6/(.*)$ /index.php [L,E=X:$1]\n"
                     "RewriteRule ^/q7$ /index.php/%{HTTP:X-Q} [L]\n"
                     "RewriteMap lower int:tolower\n"
                     "RewriteRule ^/q8$ /index.php/${lower:%{HTTP:X-Q}} [L]\n"
                     "RewriteRule ^/q9/(.*)$ /index.php/$1 [L,QSL]\n"),
    case("srv_prefix_stat", "a result that starts with a variable or a backreference "
                            "and names a file (CVE-2024-38475, UnsafePrefixStat)",
         ["/ps1", "/ps2", "/ps3", "/ps4", "/ps5/static.txt", "/ps6{site}/static.txt",
          "/ps7{site}/static.txt", req("/ps8", headers={"X-Path": "{site}/static.txt"}),
          req("/ps9", headers={"X-Path": "{site}/static.txt"}),
          "/ps6{prefix}/sites/shared/real/x.txt", "/ps7{prefix}/sites/shared/real/x.txt",
          req("/ps8", headers={"X-Path": "{prefix}/sites/shared/real/x.txt"})],
         server=ON + "RewriteCond {site} (.*)\n"
                     "RewriteRule ^/ps1$ %1/static.txt [L]\n"
                     "RewriteCond {site} (.*)\n"
                     "RewriteRule ^/ps2$ %1/static.txt [L,UnsafePrefixStat]\n"
                     "RewriteRule ^/ps3$ %{DOCUMENT_ROOT}/static.txt [L]\n"
                     "RewriteRule ^/ps4$ %{DOCUMENT_ROOT}/static.txt [L,UnsafePrefixStat]\n"
                     "RewriteRule ^/ps5/(.*)$ {site}/$1 [L]\n"
                     "RewriteRule ^/ps6(/.*)$ $1 [L]\n"
                     "RewriteRule ^/ps7(/.*)$ $1 [L,UnsafePrefixStat]\n"
                     "RewriteRule ^/ps8$ %{HTTP:X-Path} [L]\n"
                     "RewriteRule ^/ps9$ %{HTTP:X-Path} [L,UnsafePrefixStat]\n"),
    case("srv_dpi_and_pathinfo", "path info at server level",
         ["/pi/a/b", "/index.php/x/y"],
         server=ON + "RewriteRule ^/pi/(.*)$ /index.php/$1 [L]\n"),
]

WORDPRESS = """\
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
"""

DOKUWIKI = """\
<Files ~ "^([\\._]ht|README$|VERSION$|COPYING$)">
    <IfModule mod_authz_core.c>
        Require all denied
    </IfModule>
    <IfModule !mod_authz_core.c>
        Order allow,deny
        Deny from all
    </IfModule>
</Files>
<IfModule alias_module>
    RedirectMatch 404 /\\.git
</IfModule>
RewriteEngine on
RewriteRule ^_media/(.*)              lib/exe/fetch.php?media=$1  [QSA,L]
RewriteRule ^_detail/(.*)             lib/exe/detail.php?media=$1  [QSA,L]
RewriteRule ^_export/([^/]+)/(.*)     doku.php?do=export_$1&id=$2  [QSA,L]
RewriteRule ^$                        doku.php  [L]
RewriteCond %{REQUEST_FILENAME}       !-f
RewriteCond %{REQUEST_FILENAME}       !-d
RewriteRule (.*)                      doku.php?id=$1  [QSA,L]
RewriteRule ^index.php$               doku.php
RewriteBase /dokuwiki
RewriteCond %{HTTPS} !=on
RewriteRule ^lib/exe/xmlrpc.php$      https://%{SERVER_NAME}%{REQUEST_URI} [L,R=301]
"""

LARAVEL = """\
<IfModule mod_rewrite.c>
    <IfModule mod_negotiation.c>
        Options -MultiViews -Indexes
    </IfModule>

    RewriteEngine On

    # Handle Authorization Header
    RewriteCond %{HTTP:Authorization} .
    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]

    # Handle X-XSRF-Token Header
    RewriteCond %{HTTP:x-xsrf-token} .
    RewriteRule .* - [E=HTTP_X_XSRF_TOKEN:%{HTTP:X-XSRF-Token}]

    # Redirect Trailing Slashes If Not A Folder...
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteCond %{REQUEST_URI} (.+)/$
    RewriteRule ^ %1 [L,R=301]

    # Send Requests To Front Controller...
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteRule ^ index.php [L]
</IfModule>
"""

DRUPAL = """\
<IfModule mod_rewrite.c>
  RewriteEngine on
  RewriteRule ^ - [E=protossl]
  RewriteCond %{HTTPS} on
  RewriteRule ^ - [E=protossl:s]
  RewriteRule "/\\.|^\\.(?!well-known/)" - [F]
  RewriteCond %{REQUEST_FILENAME} !-f
  RewriteCond %{REQUEST_FILENAME} !-d
  RewriteCond %{REQUEST_URI} !=/favicon.ico
  RewriteRule ^ index.php [L]
  RewriteCond %{REQUEST_URI} !/core/[^/]*\\.php$
  RewriteCond %{REQUEST_URI} !/core/modules/system/tests/https?\\.php
  RewriteCond %{REQUEST_URI} !/core/modules/statistics/statistics\\.php$
  RewriteRule "^(.+/.*|autoload)\\.php($|/)" - [F]
</IfModule>
"""

AUTH = {"Authorization": "Bearer abc.def"}

DIR_CASES = [
    case("wordpress", "WordPress's stock .htaccess",
         ["/", "/hello-world/", "/2024/05/a-post/?utm=1", "/wp-admin", "/wp-admin/",
          "/static.txt", "/index.php?p=12", req("/wp-json/wp/v2/posts", headers=AUTH),
          "/missing.png", req("/wp-comments-post.php", method="POST", body="c=1",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})],
         dir=WORDPRESS),
    case("dokuwiki", "DokuWiki's .htaccess.dist with the rewrite part on, in /dokuwiki",
         ["/dokuwiki/", "/dokuwiki/start?do=edit", "/dokuwiki/wiki/syntax",
          "/dokuwiki/_media/wiki:logo.png?w=100", "/dokuwiki/_detail/a.png?id=x",
          "/dokuwiki/_export/raw/wiki:start", "/dokuwiki/lib/exe/fetch.php?media=x",
          "/dokuwiki/index.php", "/dokuwiki/README", "/dokuwiki/.git/config",
          "/dokuwiki/lib/exe/xmlrpc.php", "/dokuwiki"],
         dirs={"dokuwiki": DOKUWIKI}),
    case("laravel", "Laravel's public/.htaccess",
         ["/users/42", "/users/42/", "/users/42/?page=2", req("/api/me", headers=dict(
             AUTH, **{"X-XSRF-TOKEN": "tok"})), "/static.txt", "/sub/", "/sub", "/?page=2",
          "/sub/file.txt/"],
         dir=LARAVEL),
    case("drupal", "Drupal's rewrite rules (front controller and the F rules)",
         ["/node/1", "/.htaccess.txt", "/sub/.hidden", "/.well-known/x.txt", "/favicon.ico",
          "/core/install.php", "/sub/index.php", "/autoload.php", "/index.php", "/node/1?x=y"],
         dir=DRUPAL),
    case("dir_basic", "a section's relative result, the document root taken off",
         ["/old", "/old?x=1", "/static.txt"],
         dir=ON + "RewriteRule ^old$ static.txt\n"),
    case("dir_front", "a front controller with QSA; REDIRECT_* variables",
         ["/foo/bar?x=1", "/foo%20bar", "/sub/file.txt", "/sub/nope"],
         dir=ON + "RewriteCond %{REQUEST_FILENAME} !-f\n"
                  "RewriteCond %{REQUEST_FILENAME} !-d\n"
                  "RewriteRule ^(.*)$ index.php?path=$1 [QSA,L]\n"),
    case("dir_redirects", "redirects from a section, with and without RewriteBase",
         ["/r", "/go/x?y=1", "/abs", "/sub/r", "/sub/go/z"],
         dir=ON + "RewriteRule ^r$ static.txt [R]\n"
                  "RewriteRule ^go/(.*)$ /static.txt?g=$1 [R=301]\n"
                  "RewriteRule ^abs$ http://example.com/a%20b [R]\n",
         dirs={"sub": ON + "RewriteBase /sub/\n"
                           "RewriteRule ^r$ file.txt [R]\n"
                           "RewriteRule ^go/(.*)$ http://%{HTTP_HOST}/sub/x/$1 [R]\n"}),
    case("dir_pathinfo", "path info re-added in a section; DPI",
         ["/index.php/a/b", "/app.php/c/d", "/dpi.php/e"],
         dir=ON + "RewriteRule ^index\\.php/(.*)$ app.php?pi=$1 [L]\n"
                  "RewriteRule ^app\\.php/(.*)$ app.php [DPI]\n"
                  "RewriteRule ^dpi\\.php/(.*)$ index.php [DPI,L]\n"),
    case("dir_env", "E= and SetEnv before an internal redirect become REDIRECT_*",
         ["/x", "/y?q=1"],
         dir=ON + "SetEnv FROMSET yes\n"
                  "RewriteRule ^x$ index.php [E=FOO:bar,L]\n"
                  "RewriteRule ^y$ index.php?z=1 [E=Y:%{QUERY_STRING},QSA]\n"),
    case("dir_loop", "a rule that always rewrites: the redirect limit",
         ["/x"],
         dir=ON + "RewriteRule ^(.*)$ loop/$1\n"),
    case("dir_same", "a result equal to the file is not redirected",
         ["/static.txt", "/index.php"],
         dir=ON + "RewriteRule ^(.*)$ $1\n"),
    case("dir_end", "END in a section stops the rules after the internal redirect",
         ["/a", "/la"],
         dir=ON + "RewriteRule ^a$ b.txt [END]\n"
                  "RewriteRule ^la$ b.txt [L]\n"
                  "RewriteRule ^b\\.txt$ c.txt [L]\n"),
    case("dir_inherit", "RewriteOptions Inherit in a nested section",
         ["/sub/p", "/sub/c", "/p"],
         dir=ON + "RewriteRule ^p$ index.php?parent=1 [L]\n"
                  "RewriteRule ^sub/p$ index.php?parentsub=1 [L]\n",
         dirs={"sub": ON + "RewriteOptions Inherit\n"
                           "RewriteRule ^c$ index.php?child=1 [L]\n"}),
    case("dir_nested", "a nested section without rewrite directives keeps the parent's; "
                       "one with its own replaces them; RewriteEngine Off",
         ["/sub/p", "/sub/deep/q", "/real/p", "/real/q"],
         dir=ON + "RewriteRule ^sub/p$ index.php?parent=1 [L]\n"
                  "RewriteRule p$ index.php?anyp=1 [L]\n"
                  "RewriteRule q$ index.php?anyq=1 [L]\n",
         dirs={"sub": "Options FollowSymLinks\n",
               "sub/deep": ON + "RewriteRule ^q$ d.txt [L]\n",
               "real": "RewriteEngine Off\n"}),
    case("dir_options", "rules in a section need FollowSymLinks",
         ["/x", "/static.txt"],
         dir="Options None\n" + ON + "RewriteRule ^x$ index.php\n"),
    case("dir_alias_context", "a section behind an Alias: the Alias prefix is put back",
         ["/al/x", "/al/y", "/al/z"],
         extra='Alias /al "{prefix}/sites/shared/real"\n',
         dirs={"{prefix}/sites/shared/real": ON + "RewriteRule ^x$ index.php?from=x [L]\n"
                            "RewriteRule ^y$ /index.php?from=y [L]\n"
                            "RewriteRule ^z$ x.txt [R]\n"}),
    case("dir_base_alias", "RewriteBase behind an Alias",
         ["/app/x", "/app/r"],
         extra='Alias /app "{prefix}/sites/shared/real"\n',
         dirs={"{prefix}/sites/shared/real": ON + "RewriteBase /app/\n"
                            "RewriteRule ^x$ index.php?from=x [L]\n"
                            "RewriteRule ^r$ x.txt [R=302]\n"}),
    case("dir_status", "F, G and R=4xx in a section",
         ["/secret", "/old", "/nf", "/static.txt"],
         dir=ON + "RewriteRule ^secret - [F]\n"
                  "RewriteRule ^old - [G]\n"
                  "RewriteRule ^nf - [R=404]\n"),
    case("dir_type_handler", "T= and H= in a section",
         ["/static.txt", "/sub/file.txt", "/page.html", "/tt"],
         dir=ON + "RewriteRule ^static\\.txt$ - [H=" + PHP + "]\n"
                  "RewriteRule ^sub/file\\.txt$ - [T=text/x-sub]\n"
                  "RewriteRule ^tt$ page.html [T=text/x-tt]\n"),
    case("dir_noslash", "a directory's own rules do not see /dir (mod_dir adds the slash)",
         ["/sub", "/sub/", "/sub/x"],
         dirs={"sub": ON + "RewriteRule ^$ file.txt [L]\n"
                           "RewriteRule ^x$ file.txt [L]\n"}),
    case("dir_request_filename", "REQUEST_FILENAME and PATH_INFO seen in a section",
         ["/nope/a/b", "/sub/nope/c", "/index.php/p/q", "/sub/", "/"],
         dir=ON + "RewriteCond %{REQUEST_FILENAME} (.*)\n"
                  "RewriteRule ^ - [E=RF:%1,E=PI:%{PATH_INFO}]\n"
                  "RewriteRule ^(nope|sub/nope)/ app.php [L]\n"),
    case("dir_cookie_vary", "CO= and Vary before an internal redirect",
         [req("/x", headers={"X-Lang": "fr"})],
         dir=ON + "RewriteCond %{HTTP:X-Lang} (.+)\n"
                  "RewriteRule ^x$ index.php [CO=lang:%1:dir-cookie-vary.test,L]\n"),
    case("dir_skip_chain_next", "S, C and N in a section",
         ["/s", "/c/ab", "/c/b", "/n/xxa"],
         dir=ON + "RewriteRule ^s$ - [S=1]\n"
                  "RewriteRule ^s$ b.txt [L]\n"
                  "RewriteRule ^s$ c.txt [L]\n"
                  "RewriteRule ^c/(.*)$ c2/$1 [C]\n"
                  "RewriteRule ^c2/(a.*)$ index.php?c=$1 [L]\n"
                  "RewriteRule ^n/x(.*)$ n/$1 [N]\n"
                  "RewriteRule ^n/(.*)$ index.php?n=$1 [L]\n"),
    case("dir_map", "maps of the virtual host used in a section",
         ["/color/red", "/color/pink", "/low/ABC"],
         server="RewriteMap colors txt:{site}/maps/colors.txt\n"
                "RewriteMap lower int:tolower\n",
         dir=ON + "RewriteRule ^color/(.*)$ index.php?c=${colors:$1|none} [L]\n"
                  "RewriteRule ^low/(.*)$ index.php?l=${lower:$1} [L]\n"),
    case("dir_query_redirect", "query strings of redirects from a section",
         ["/q?a=%20b", "/q2/x%20y", "/q3?a=1"],
         dir=ON + "RewriteBase /\n"
                  "RewriteRule ^q$ static.txt [R]\n"
                  "RewriteRule ^q2/(.*)$ static.txt?v=$1 [R]\n"
                  "RewriteRule ^q3$ static.txt?b=2 [R,QSA]\n"),
    case("dir_server_engine", "server-level RewriteEngine On lets a section's rules run",
         ["/x", "/index.php"],
         server=ON,
         dir="RewriteRule ^x$ index.php?x=1 [L]\n"),
    case("dir_and_server", "server rules first, then the section's on the result",
         ["/start", "/php"],
         server=ON + "RewriteRule ^/start$ /b.txt\n"
                     "RewriteRule ^/php$ /index.php?s=1\n",
         dir=ON + "RewriteRule ^b\\.txt$ c.txt [L]\n"
                  "RewriteRule ^index\\.php$ app.php [QSA,L]\n"),
]

MAIN_INHERIT = """\
RewriteEngine On
RewriteMap mainmap int:toupper
RewriteRule ^/main-rule$ /index.php?from=main [L]
"""

INHERIT_CASES = [
    case("inh_on", "RewriteOptions Inherit: the main server's rules after the own ones",
         ["/main-rule", "/own", "/mapped/x"],
         server=ON + "RewriteOptions Inherit\n"
                     "RewriteRule ^/own$ /index.php?from=own [L]\n"
                     "RewriteRule ^/mapped/(.*)$ /index.php?m=${mainmap:$1} [L]\n"),
    case("inh_before", "InheritBefore: the main server's rules first",
         ["/main-rule"],
         server=ON + "RewriteOptions InheritBefore\n"
                     "RewriteRule ^/main-rule$ /index.php?from=own\n"),
    case("inh_after", "Inherit: the own rules first",
         ["/main-rule"],
         server=ON + "RewriteOptions Inherit\n"
                     "RewriteRule ^/main-rule$ /index.php?from=own\n"),
    case("inh_off", "without Inherit the main server's rules do not apply",
         ["/main-rule", "/own"],
         server=ON + "RewriteRule ^/own$ /index.php?from=own [L]\n"),
    case("inh_none", "a virtual host without rewrite directives",
         ["/main-rule", "/index.php"]),
]

ALL = "AllowOverride All\n"

HTACCESS_CASES = [
    case("ht_wordpress", "WordPress's .htaccess as a file",
         ["/", "/hello-world/", "/wp-admin/", "/static.txt", "/index.php?p=1",
          req("/wp-json/x", headers=AUTH)],
         dir=ALL, files={".htaccess": WORDPRESS}),
    case("ht_dokuwiki", "DokuWiki's .htaccess in /dokuwiki",
         ["/dokuwiki/", "/dokuwiki/start?do=edit", "/dokuwiki/_media/a.png",
          "/dokuwiki/README", "/dokuwiki/.git/config", "/dokuwiki/lib/exe/xmlrpc.php"],
         dir=ALL, files={"dokuwiki/.htaccess": DOKUWIKI}),
    case("ht_laravel", "Laravel's .htaccess as a file",
         ["/users/42", "/users/42/", "/static.txt", "/sub/"],
         dir=ALL, files={".htaccess": LARAVEL}),
    case("ht_drupal", "Drupal's rules as a file",
         ["/node/1", "/.htaccess.txt", "/sub/index.php", "/core/install.php"],
         dir=ALL, files={".htaccess": DRUPAL}),
    case("ht_nested", ".htaccess files in subdirectories: own rules, Inherit, none",
         ["/sub/p", "/sub/c", "/real/p", "/real/c", "/sub/deep/p", "/p"],
         dir=ALL,
         files={".htaccess": ON + "RewriteRule p$ index.php?parent=1 [L]\n",
                "sub/.htaccess": ON + "RewriteRule ^c$ index.php?sub=1 [L]\n",
                "real/.htaccess": ON + "RewriteOptions Inherit\n"
                                       "RewriteRule ^c$ index.php?real=1 [L]\n",
                "sub/deep/.htaccess": "SetEnv DEEP 1\n"}),
    case("ht_base", "RewriteBase in a subdirectory's .htaccess",
         ["/sub/x", "/sub/r", "/sub/deep/d.txt"],
         dir=ALL,
         files={"sub/.htaccess": ON + "RewriteBase /sub/\n"
                                      "RewriteRule ^x$ index.php?x=1 [L]\n"
                                      "RewriteRule ^r$ file.txt [R=301,L]\n"}),
    case("ht_not_allowed", "RewriteEngine where AllowOverride has no FileInfo",
         ["/x", "/static.txt"],
         dir="AllowOverride AuthConfig\n", files={".htaccess": ON + "RewriteRule ^x$ b.txt\n"}),
    case("ht_options", "rules in a .htaccess that turns FollowSymLinks off",
         ["/x", "/static.txt"],
         dir=ALL, files={".htaccess": "Options -FollowSymLinks\n" + ON + "RewriteRule ^x$ b.txt\n"}),
]

GROUPS = [
    {"name": "main", "main": "", "cases": SERVER_CASES + DIR_CASES},
    {"name": "inherit", "main": MAIN_INHERIT, "cases": INHERIT_CASES},
    {"name": "htaccess", "main": "", "cases": HTACCESS_CASES},
]

# Configurations checked with -t: (name, lines in a <VirtualHost> or
# "dir:" + lines in its <Directory>, relais_only). relais_only marks what
# relais refuses on purpose where Apache would run (see README).
CONFIG_ERRORS = [
    ("unknown_flag", "RewriteRule ^/x /y [XYZ]", False),
    ("bad_regex", "RewriteRule ^/(x /y", False),
    ("bad_cond_regex", "RewriteCond %{HTTP_HOST} ^(a\nRewriteRule ^ - [L]", False),
    ("bad_cond_flag", "RewriteCond %{HTTP_HOST} a [XX]\nRewriteRule ^ - [L]", False),
    ("bad_flag_delims", "RewriteRule ^/x /y L", False),
    ("int_op_space", "RewriteCond %{HTTP:X} -lt 10\nRewriteRule ^ - [L]", False),
    ("one_arg", "RewriteRule ^/x", False),
    ("base_server", "RewriteBase /x", False),
    ("base_relative", "dir:RewriteBase x", False),
    ("bad_option", "RewriteOptions Nope", False),
    ("map_missing_file", "RewriteMap m txt:/nonexistent/map.txt", False),
    ("map_unknown_int", "RewriteMap m int:nope", False),
    ("map_in_dir", "dir:RewriteMap m int:tolower", False),
    ("bad_status", "RewriteRule ^/x /y [R=999]", False),
    ("engine_value", "RewriteEngine Maybe", False),
    ("ok_rules", "RewriteEngine On\nRewriteCond %{HTTP_HOST} =x [NC,OR]\n"
                 "RewriteCond %{REQUEST_URI} !-f\nRewriteRule ^/x$ /y [L,QSA,NE,R=301]", False),
    ("ok_options", "RewriteOptions Inherit AllowNoSlash MaxRedirects=5", False),
    ("ok_maps", "RewriteMap a int:tolower\nRewriteMap b int:toupper\n"
                "RewriteMap c int:escape\nRewriteMap d int:unescape", False),
    ("unsupported_prg", "RewriteMap m prg:/bin/cat", True),
    ("unsupported_dbm", "RewriteMap m dbm:/etc/hostname", True),
    ("unsupported_lookahead", "RewriteCond /x -U\nRewriteRule ^ - [L]", True),
]


# --------------------------------------------------------------------------
# configuration text

def _fill(text, values):
    for k, v in values.items():
        text = text.replace("{" + k + "}", str(v))
    return text


def _indent(text, n):
    pad = " " * n
    return "".join(pad + ln + "\n" if ln.strip() else "\n" for ln in text.splitlines())


def vhost(c, prefix, sock, port, rport):
    site = f"{prefix}/sites/{c['name']}"
    vals = {"site": site, "prefix": prefix, "sock": sock, "rport": rport, "port": port}
    out = [f"<VirtualHost *:{port}>", f"    ServerName {host(c['name'])}",
           f'    DocumentRoot "{site}"']
    out.append(_indent(_fill(c["server"], vals), 4).rstrip("\n"))
    if c["dir"]:
        out += [f'    <Directory "{site}">', _indent(_fill(c["dir"], vals), 8).rstrip("\n"),
                "    </Directory>"]
    for sub, text in c["dirs"].items():
        path = _fill(sub, vals) if sub.startswith("{") else f"{site}/{sub}"
        out += [f'    <Directory "{path}">', _indent(_fill(text, vals), 8).rstrip("\n"),
                "    </Directory>"]
    out.append(_indent(_fill(c["extra"], vals), 4).rstrip("\n"))
    out.append("</VirtualHost>")
    return "\n".join(ln for ln in out if ln) + "\n"


def config(group, head, prefix, sock, port, rport):
    """The whole configuration of <group> for a server whose own lines are
    <head> (placeholders left for the harness: {logs} {modules} ...)."""
    vals = {"prefix": prefix, "sock": sock, "rport": rport, "port": port}
    text = head + _fill(TEMPLATE, vals).replace("{head}\n", "")
    text += _fill(group["main"], vals)
    return text + "".join(vhost(c, prefix, sock, port, rport) for c in group["cases"])


def install_site(root, cases):
    """Writes SITE (and the symbolic links), and each case's own files,
    under <root>/sites/<case name>; SITE under <root>/sites/shared too."""
    for c in list(cases) + [case("shared", "", [])]:
        base = Path(root) / "sites" / c["name"]
        for rel, content in dict(SITE, **c.get("files", {})).items():
            p = base / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
            os.chmod(p, 0o644)
        for rel, target in SYMLINKS.items():
            link = base / rel
            if not link.is_symlink():
                link.symlink_to(target)
        for d in [base] + [p for p in base.rglob("*") if p.is_dir()]:
            os.chmod(d, 0o755)


# --------------------------------------------------------------------------
# outcomes

def normalize(value, prefix, port, rport):
    value = value.replace(str(prefix), "{prefix}")
    value = re.sub(rf"(?<!\d){port}(?!\d)", "{port}", value)
    return re.sub(rf"(?<!\d){rport}(?!\d)", "{rport}", value)


def php_filename(v):
    """SCRIPT_FILENAME as php-fpm reads it: mod_proxy_fcgi sends
    "proxy:fcgi://host/path" (FPM style), relaisd may send "/path"; php-fpm
    takes the path and drops a "?query" (see tests/interop/README.md)."""
    m = re.match(r"proxy:fcgi://[^/]*(/.*)$", v)
    return m.group(1).split("?")[0] if m else v


def outcome(resp, prefix, port, rport):
    n = lambda v: normalize(v, prefix, port, rport)  # noqa: E731
    o = {"status": resp.status}
    for h in ("Location", "Vary"):
        if resp.headers.get(h) is not None:
            o[h.lower()] = n(resp.headers[h])
    cookies = resp.headers.get_all("Set-Cookie")
    if cookies:
        o["set-cookie"] = [re.sub(r"expires=[^;]*", "expires=*", n(c)) for c in cookies]
    data = None
    if resp.status == 200 and resp.headers.get("Content-Type", "").startswith("application/json"):
        try:
            data = json.loads(resp.body)
        except ValueError:
            data = None
    if isinstance(data, dict) and data.get("sapi") == "recorder":
        o["fcgi"] = {k: n(php_filename(v) if k == "SCRIPT_FILENAME" else v)
                     for k, v in sorted(data["server"].items()) if k not in IGNORE}
    elif resp.status == 200:
        o["type"] = resp.headers.get("Content-Type", "")
        o["body"] = n(resp.body.decode("latin-1"))[:300]
    return o


def ask(port, r, case_name, prefix):
    """Sends the request <r> of case <case_name> ({site} in its target and
    headers: that case's document root under <prefix>)."""
    site = f"{prefix}/sites/{case_name}"
    fill = lambda v: v.replace("{site}", site).replace("{prefix}", str(prefix))  # noqa: E731
    headers = {k: fill(v) for k, v in r["headers"].items()}
    return relais.request(port, r["method"], fill(r["target"]),
                          headers=headers, body=r["body"], host=r["host"] or host(case_name))


# --------------------------------------------------------------------------
# running Apache

def _open_up(path):
    """Lets www-data (Apache's children) reach <path>."""
    p = Path(path)
    while p != p.parent:
        try:
            os.chmod(p, os.stat(p).st_mode | 0o011)
        except OSError:
            pass
        p = p.parent


def run_group(group, base, recorder, tcp_port):
    prefix = base / f"apache2-{group['name']}"
    text = config(group, APACHE_HEAD, "{prefix}", recorder.path, "{port}", tcp_port)
    a = incumbents.Apache(prefix, sock=recorder, modules=APACHE_MODULES, template=text)
    install_site(prefix, group["cases"])
    _open_up(prefix)
    results = {}
    try:
        a.start()
        for c in group["cases"]:
            results[c["name"]] = [outcome(ask(a.port, r, c["name"], prefix), prefix, a.port, tcp_port)
                                  for r in c["requests"]]
    finally:
        problems = a.teardown()
        if problems:
            print("\n".join(problems), file=sys.stderr)
    return results


def check_config(base, name, text, recorder, tcp_port):
    """Does `apache2 -t` accept <text> in a <VirtualHost> (or "dir:" in its
    <Directory>)?"""
    c = case(name, "", [], server="" if text.startswith("dir:") else text,
             dir=text[4:] if text.startswith("dir:") else "")
    group = {"name": "t_" + name, "main": "", "cases": [c]}
    prefix = base / f"apache2-t-{name}"
    a = incumbents.Apache(prefix, sock=recorder, modules=APACHE_MODULES,
                          template=config(group, APACHE_HEAD, "{prefix}", recorder.path,
                                          "{port}", tcp_port))
    install_site(prefix, [c])
    r = a.run(["-t"])
    return r.rc == 0, (r.stdout + r.stderr).strip()


def dump(table):
    """The table as JSON, one line per request outcome (readable diffs)."""
    lines = {}
    for g in table["groups"]:
        for c in g["cases"]:
            for r in c["requests"]:
                key = f"@@{len(lines)}@@"
                lines[key] = json.dumps(r["expect"], sort_keys=True)
                r["expect"] = key
    text = json.dumps(table, indent=1)
    for key, line in lines.items():
        text = text.replace(f'"{key}"', line)
    return text + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", help="only the cases whose name contains this (printed)")
    ap.add_argument("--print", action="store_true", help="print the outcomes")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="rewrite-gen-"))
    os.chmod(base, 0o755)
    _open_up(base)
    recorder = incumbents.FcgiRecorder(base / "recorder.sock").start()
    tcp_port = relais.free_port()
    tcp = incumbents.FcgiRecorder(tcp_port=tcp_port).start()
    try:
        groups = []
        for g in GROUPS:
            cases = [c for c in g["cases"] if not args.k or args.k in c["name"]]
            if not cases:
                continue
            g = dict(g, cases=cases)
            res = run_group(g, base, recorder, tcp_port)
            for c in cases:
                for r, o in zip(c["requests"], res[c["name"]]):
                    r["expect"] = o
            groups.append(g)
        errors = []
        for name, text, relais_only in CONFIG_ERRORS:
            if args.k and args.k not in name:
                continue
            ok, out = check_config(base, name, text, recorder, tcp_port)
            errors.append({"name": name, "text": text, "relais_only": relais_only,
                           "apache_ok": ok, "apache_says": normalize(out, base, 0, 0)})
    finally:
        recorder.stop()
        tcp.stop()
        shutil.rmtree(base, ignore_errors=True)
    table = {"generated_by": "tests/rewrite/gen_cases.py",
             "apache": incumbents.Apache.name, "groups": groups, "config_errors": errors}
    if args.k or args.print:
        for g in groups:
            for c in g["cases"]:
                print(f"== {c['name']}")
                for r in c["requests"]:
                    print(f"   {r['method']} {r['target']} -> {json.dumps(r['expect'])}")
        for e in errors:
            print(f"== -t {e['name']}: apache_ok={e['apache_ok']} {e['apache_says'][:200]}")
    if not args.k:
        TABLE.write_text(dump(table))
        n = sum(len(c["requests"]) for g in groups for c in g["cases"])
        print(f"{TABLE}: {sum(len(g['cases']) for g in groups)} cases, {n} requests, "
              f"{len(errors)} configuration checks")


if __name__ == "__main__":
    main()
