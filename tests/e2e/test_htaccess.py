""".htaccess files: read along the directory walk where AllowOverride or
AllowOverrideList allows, merged in Apache's order, with 500 and an
error-log line naming file, line and directive for what is not allowed,
and picked up when they change, without a reload."""

import os
import time

import pytest

HT = """\
<Directory "{docroot}">
    AllowOverride {override}
    Require all granted
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
{more}
"""


@pytest.fixture
def site(relaisd):
    def start(override="All", more="", files=()):
        for path, data in files:
            relaisd.write(path, data)
        relaisd.write("htdocs/index.html", b"home")
        relaisd.write("htdocs/sub/a.txt", b"a")
        relaisd.write("htdocs/sub/deep/b.txt", b"b")
        relaisd.write_config(extra=HT.replace("{override}", override).replace("{more}", more))
        relaisd.start()
        return relaisd
    return start


def test_none_ignores_htaccess(site):
    rl = site("None", files=[("htdocs/sub/.htaccess", b"Require all denied\n")])
    assert rl.get("/sub/a.txt").status == 200


def test_all_applies_and_deeper_files_win(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"Require all denied\n"),
                     ("htdocs/sub/deep/.htaccess", b"Require all granted\n")])
    assert rl.get("/sub/a.txt").status == 403
    assert rl.get("/sub/deep/b.txt").status == 200
    assert rl.get("/index.html").status == 200


def test_htaccess_itself_is_never_served(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"# nothing\n")])
    assert rl.get("/sub/.htaccess").status == 403


def test_directive_not_allowed_gives_500_and_names_it(site):
    rl = site("AuthConfig", files=[("htdocs/sub/.htaccess",
                                    b"Require all granted\nOptions -Indexes\n")])
    r = rl.get("/sub/a.txt")
    assert r.status == 500
    rl.wait_for_log(r"\[core:alert\].*htdocs/sub/\.htaccess:2: Options not allowed here")
    # the rest of the site is fine
    assert rl.get("/index.html").status == 200


def test_unknown_directive_gives_500(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"RewriteEngin On\n")])
    assert rl.get("/sub/a.txt").status == 500
    rl.wait_for_log(r"htdocs/sub/\.htaccess:1: Invalid command 'RewriteEngin'")


def test_include_is_not_allowed(site, tmp_path):
    other = tmp_path / "other.conf"
    other.write_text("Require all denied\n")
    rl = site(files=[("htdocs/sub/.htaccess", f"Include {other}\n".encode())])
    assert rl.get("/sub/a.txt").status == 500
    rl.wait_for_log(r"htdocs/sub/\.htaccess.*Include.*not allowed here")


def test_changes_are_seen_without_reload(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"Require all granted\n")])
    assert rl.get("/sub/a.txt").status == 200
    rl.write("htdocs/sub/.htaccess", b"Require all denied\n")
    assert rl.get("/sub/a.txt").status == 403
    os.unlink(rl.docroot / "sub" / ".htaccess")
    assert rl.get("/sub/a.txt").status == 200


def test_files_sections_inside(site):
    rl = site(files=[("htdocs/sub/.htaccess",
                      b"<Files a.txt>\n    Require all denied\n</Files>\n"),
                     ("htdocs/sub/c.txt", b"c")])
    assert rl.get("/sub/a.txt").status == 403
    assert rl.get("/sub/c.txt").status == 200
    assert rl.get("/sub/deep/b.txt").status == 200


def test_if_sections_inside(site):
    rl = site(files=[("htdocs/sub/.htaccess",
                      b"<If \"%{QUERY_STRING} == 'no'\">\n    Require all denied\n</If>\n")])
    assert rl.get("/sub/a.txt").status == 200
    assert rl.get("/sub/a.txt?no").status == 403


def test_directory_sections_are_refused(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"<Directory />\nRequire all denied\n</Directory>\n")])
    assert rl.get("/sub/a.txt").status == 500
    rl.wait_for_log(r"htdocs/sub/\.htaccess:1: <Directory not allowed here")


def test_allow_override_list(site):
    rl = site("None\n    AllowOverrideList Redirect ErrorDocument",
              files=[("htdocs/sub/.htaccess", b"Redirect /sub/a.txt http://example.test/x\n"),
                     ("htdocs/sub/deep/.htaccess", b"Require all denied\n")])
    r = rl.get("/sub/a.txt")
    assert r.status == 302 and r.header("Location") == "http://example.test/x"
    assert rl.get("/sub/deep/b.txt").status == 500


def test_options_and_errordocument_from_htaccess(site):
    rl = site(files=[("htdocs/sub/.htaccess",
                      b"ErrorDocument 404 \"gone from sub\"\nDirectoryIndex a.txt\n")])
    r = rl.get("/sub/nothing")
    assert r.status == 404 and b"gone from sub" in r.body
    assert rl.get("/sub/").body == b"a"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs the workers to run as another user")
def test_unreadable_htaccess_is_403(site):
    rl = site(files=[("htdocs/sub/.htaccess", b"Require all granted\n")])
    os.chmod(rl.docroot / "sub" / ".htaccess", 0)
    assert rl.get("/sub/a.txt").status == 403
    rl.wait_for_log(r"AH00529: .*sub/\.htaccess pcfg_openfile: unable to check htaccess file")


def test_server_level_default_is_none(relaisd):
    """Without AllowOverride anywhere (Apache 2.4's default None), .htaccess
    files are not even looked for."""
    relaisd.write("htdocs/.htaccess", b"Require all denied\n")
    relaisd.write("htdocs/x.txt", b"x")
    relaisd.start()
    assert relaisd.get("/x.txt").status == 200


def test_fallback_resource_from_htaccess(site):
    """FallbackResource (mod_dir): URLs no file answers go to the front
    controller, REQUEST_URI unchanged; existing files are served as they
    are; a fallback that does not exist leaves the 404."""
    rl = site(files=[("htdocs/app/.htaccess", b"FallbackResource /app/front.txt\n"),
                     ("htdocs/app/front.txt", b"front"),
                     ("htdocs/app/real.txt", b"real"),
                     ("htdocs/bad/.htaccess", b"FallbackResource /bad/missing.txt\n")])
    assert rl.get("/app/some/route?x=1").body == b"front"
    assert rl.get("/app/real.txt").body == b"real"
    assert rl.get("/bad/nothing").status == 404


def test_redirectmatch_404_in_htaccess(site):
    """WordPress hardening guides' `RedirectMatch 404 /\\.git`: a status
    without a URL, from a .htaccess file."""
    rl = site(files=[("htdocs/.htaccess", b"RedirectMatch 404 /\\.git\nRedirect 301 /old /new\n"),
                     ("htdocs/.git/config", b"secret")])
    r = rl.get("/.git/config")
    assert r.status == 404 and b"secret" not in r.body
    r = rl.get("/old")
    assert r.status == 301 and r.header("Location") == "http://localhost/new"


def test_allow_override_options_list(site):
    """AllowOverride Options=Indexes: a .htaccess may set that Option and
    no other (Apache's message), while plain Options allows them all."""
    rl = site("Options=Indexes,MultiViews AuthConfig",
              files=[("htdocs/sub/.htaccess", b"Options -Indexes\n"),
                     ("htdocs/sub/deep/.htaccess", b"Options +FollowSymLinks\n")])
    assert rl.get("/sub/a.txt").status == 200
    assert rl.get("/sub/deep/b.txt").status == 500
    rl.wait_for_log(r"sub/deep/\.htaccess:1: Option FollowSymLinks not allowed here")
