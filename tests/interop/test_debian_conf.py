"""Debian's conf-available/php8.2-fpm.conf, as the php8.2-fpm package
installs it (only its socket path replaced by the test's php-fpm), included
by relaisd and by Apache alike: same answers, same $_SERVER. Also with the
file's commented example enabled (<If "-f %{REQUEST_FILENAME}">)."""

import re
from pathlib import Path

import pytest

import incumbents
from incumbents import diff_env, normalize, server_env
from relais import request

DEBIAN_FILE = Path("/etc/apache2/conf-available/php8.2-fpm.conf")

RELAISD_CONF = """\
ServerRoot "{prefix}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile "{logs}/relaisd.pid"
ErrorLog "{logs}/error_log"
LogLevel info
DocumentRoot "{docroot}"
DirectoryIndex index.php index.html
<Directory />
    Require all denied
</Directory>
<Directory "{docroot}">
    Require all granted
</Directory>
{extra}
"""


def _debian_file(sock, with_if):
    if not DEBIAN_FILE.exists():
        pytest.skip(f"{DEBIAN_FILE} missing (apt-get install php8.2-fpm)")
    text = DEBIAN_FILE.read_text()
    assert "/run/php/php8.2-fpm.sock" in text
    if with_if:
        # the file's own example, uncommented, in place of the plain block
        example = re.search(r"((?:^#    .*\n)+)", text, re.M).group(1)
        text = text.replace(example, "".join(l[1:] + "\n" for l in example.splitlines()))
        plain = ('    <FilesMatch ".+\\.ph(?:ar|p|tml)$">\n'
                 '        SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"\n'
                 '    </FilesMatch>\n')
        assert text.count(plain) == 1
        text = text.replace(plain, "")
        assert "<If \"-f %{REQUEST_FILENAME}\">" in text
    return text.replace("/run/php/php8.2-fpm.sock", str(sock))


@pytest.fixture(params=["stock", "with_if"])
def pair(request, make_apache, make_relaisd, php_fpm):
    text = _debian_file(php_fpm.sock, request.param == "with_if")
    apache = make_apache(name="apache2")
    rl = make_relaisd(template=RELAISD_CONF, name="relaisd")
    for d in (apache, rl):
        d.write("conf/php8.2-fpm.conf", text.encode())
        d.write("htdocs/env.php", incumbents.ENV_PHP.read_bytes())
        d.write("htdocs/source.phps", b"<?php secret();")
        d.write("htdocs/.php", b"<?php secret();")
        d.write_config(extra='Include "{prefix}/conf/php8.2-fpm.conf"')
        d.start()
    return request.param, apache, rl


def test_debian_php_fpm_conf(pair):
    variant, apache, rl = pair
    hdrs = {"Authorization": "Basic dXNlcjpwdw=="}
    envs = [normalize(server_env(d.port, "/env.php/p?q=1", headers=hdrs), port=d.port,
                      prefix=d.prefix) for d in (apache, rl)]
    d = diff_env(envs[0], envs[1], ignore=set(incumbents.IGNORE) | {"proxy-nokeepalive"},
                 labels=("apache", "relaisd"))
    assert not d, d
    # SetEnvIfNoCase ^Authorization$ ... HTTP_AUTHORIZATION=$1
    assert (envs[1]["PHP_AUTH_USER"], envs[1]["PHP_AUTH_PW"]) == ("user", "pw")
    for target, want in (("/source.phps", 403), ("/.php", 403), ("/missing.php", 404)):
        got = [request(d.port, "GET", target) for d in (apache, rl)]
        assert [g.status for g in got] == [want, want], target
        assert b"secret" not in got[1].body
    missing = request(rl.port, "GET", "/missing.php")
    if variant == "with_if":
        # no file: the <If> gives no handler, relaisd's own 404 page
        assert b"<title>404 Not Found</title>" in missing.body
    else:
        # php-fpm answers for the missing script
        assert missing.body.strip() == b"File not found."
