"""Debian's DokuWiki (2022-07-31b "Igor") + php-fpm 8.2 behind relaisd, and
behind Debian's Apache as the reference the test itself is checked against.

The package splits DokuWiki over /usr/share/dokuwiki (code), /etc/dokuwiki
(conf) and /var/lib/dokuwiki (data, plugins, templates), tied together by
symlinks and a Debian inc/preload.php that points DOKU_CONF at /etc. Here it
is put back into the upstream layout, in the server's htdocs:

    htdocs/            /usr/share/dokuwiki, symlinks resolved (lib/plugins,
                       lib/tpl), without Debian's inc/preload.php
    htdocs/conf/       /etc/dokuwiki without what Debian generated or added
                       (local.php, acl.auth.php, users.auth.php: install.php
                       writes them; apache.conf, lighttpd.conf, htaccess),
                       savedir './data' (upstream's default) in dokuwiki.php
    htdocs/data/       /var/lib/dokuwiki/data
    htdocs/.htaccess   the package's .htaccess.dist (upstream's, verbatim)
                       with its nice-URL rules uncommented, as DokuWiki's
                       documentation says for userewrite = 1

The .htaccess files of conf/, data/, inc/, bin/ and vendor/ are the
package's, which are upstream's ("Require all denied" inside <IfModule
mod_authz_core.c>, "Order allow,deny / Deny from all" otherwise). Owned by
the pool user, like the package's data. Flow: install.php, userewrite = 1
in conf/local.php, login, create the page start through doku.php?do=edit,
edit it again, view it at /start; data/ and conf/ are refused."""

import os
import re
import secrets
import shutil

import pytest

from appsite import (chown_tree, copy_tree, find_form, make_site, need, run_user,
                     xfail_on_relaisd_without)

DW_SRC = "/usr/share/dokuwiki"
DW_CONF = "/etc/dokuwiki"
DW_DATA = "/var/lib/dokuwiki/data"
DEBIAN_ONLY_CONF = {"local.php", "acl.auth.php", "users.auth.php", "apache.conf",
                    "lighttpd.conf", "htaccess"}

ADMIN, PASSWORD = "admin", "relais-Test-pw-1"
TOKEN = "qzx" + secrets.token_hex(3)
TEXT1 = f"====== Relais wiki check ======\n\nFirst version {TOKEN}-one.\n"
TEXT2 = f"====== Relais wiki check ======\n\nSecond version {TOKEN}-two, **edited**.\n"


def _nice_url_htaccess(dist):
    """.htaccess.dist with the rules of its 'nice URLs' paragraph
    uncommented: from '#RewriteEngine on' to '#RewriteRule ^index.php$'."""
    out, inside, done = [], False, False
    for ln in dist.splitlines(keepends=True):
        if not done and ln.startswith("#RewriteEngine on"):
            inside = True
        if inside:
            if ln.startswith("#Rewrite"):
                ln = ln[1:]
            if ln.startswith("RewriteRule ^index.php$"):
                inside, done = False, True
        out.append(ln)
    assert done, "the nice-URL rules were not found in .htaccess.dist"
    return "".join(out)


@pytest.fixture(scope="module")
def dw(request, tmp_path_factory, front):
    need(f"{DW_SRC}/doku.php", f"{DW_SRC}/.htaccess.dist", f"{DW_CONF}/dokuwiki.php",
         f"{DW_DATA}/pages", "/etc/php/8.2/mods-available/xml.ini")
    site = make_site(request, tmp_path_factory, front, "dokuwiki")
    site.start_php()
    srv = site.make_server()
    root = srv.docroot
    copy_tree(DW_SRC, root)
    (root / "inc" / "preload.php").unlink()           # Debian's: DOKU_CONF=/etc/dokuwiki
    shutil.copytree(DW_CONF, root / "conf", symlinks=False,
                    ignore=lambda d, names: [n for n in names if n in DEBIAN_ONLY_CONF])
    conf = root / "conf" / "dokuwiki.php"
    text, n = re.subn(r"^\$conf\['savedir'\]\s*=\s*'[^']*';", "$conf['savedir'] = './data';",
                      conf.read_text(), flags=re.M)
    assert n == 1, "no savedir in dokuwiki.php"
    conf.write_text(text)
    copy_tree(DW_DATA, root / "data")
    (root / ".htaccess").write_text(_nice_url_htaccess((root / ".htaccess.dist").read_text()))
    for d in ("conf", "data", "inc", "bin", "vendor"):
        assert (root / d / ".htaccess").is_file(), f"{d}/.htaccess missing from the package"
    chown_tree(root, run_user())
    site.start_server()
    return site


@pytest.fixture(autouse=True)
def _needs_rewrite(request, dw):
    # Every request crosses htdocs/.htaccess, whose RewriteEngine (not in an
    # <IfModule>) is an error without mod_rewrite: all of it depends on it.
    xfail_on_relaisd_without(request, dw, "rewrite",
                             "htdocs/.htaccess (DokuWiki's nice-URL rules) uses RewriteEngine")


# --------------------------------------------------------------------------
# steps (each runs once per site; see Site.once)

def _install(site):
    b = site.browser()
    p = b.get("/install.php")
    f = find_form(p, lambda f: f.get("d[title]") is not None, "installer")
    values = f.values(**{"d[title]": "Relais Wiki", "d[acl]": "on", "d[superuser]": ADMIN,
                         "d[fullname]": "Relais Admin", "d[email]": "admin@example.org",
                         "d[password]": PASSWORD, "d[confirm]": PASSWORD, "d[policy]": "1",
                         "d[license]": "cc-by-sa"})
    values = [(k, v) for k, v in values if k not in ("d[pop]", "d[allowreg]")]
    p = b.submit(p, f, values + [("submit", "")])
    assert p.status == 200 and "successfully" in p.text, b.describe(p, "install.php")
    local = site.docroot / "conf" / "local.php"
    text = local.read_text()
    assert "$conf['useacl'] = 1" in text, text
    with open(local, "a") as fh:
        fh.write("$conf['userewrite'] = 1;   // tests/apps: nice URLs via .htaccess\n")
    return True


def _login(site):
    site.once("install", lambda: _install(site))
    b = site.browser()
    p = b.get("/doku.php?id=start&do=login")
    f = find_form(p, lambda f: f.get("u") is not None, "login")
    assert f.get("sectok") is not None, b.describe(p, "no sectok in the login form")
    p = b.submit(p, f, f.values(u=ADMIN, p=PASSWORD))
    assert p.status == 200 and "do=logout" in p.text, b.describe(p, "login")
    return b


def _edit(b, text, summary):
    p = b.get("/doku.php?id=start&do=edit")
    f = find_form(p, lambda f: f.id == "dw__editform", "edit")
    assert f.get("sectok"), b.describe(p, "no sectok in the edit form")
    old = f.get("wikitext")
    p = b.submit(p, f, f.values(wikitext=text, summary=summary) + [("do[save]", "Save")])
    return old, p


def _create_and_edit(site):
    b = site.once("login", lambda: _login(site))
    old, p = _edit(b, TEXT1, "created by the relais test")
    assert old == "", b.describe(p, f"start existed already: {old!r}")
    assert p.status == 200 and f"{TOKEN}-one" in p.text, b.describe(p, "first save")
    old, p = _edit(b, TEXT2, "edited by the relais test")
    assert old.replace("\r\n", "\n").strip() == TEXT1.strip(), f"the edit form had {old!r}"
    assert p.status == 200 and f"{TOKEN}-two" in p.text, b.describe(p, "second save")
    return b


# --------------------------------------------------------------------------
# tests

def test_install(dw):
    dw.once("install", lambda: _install(dw))
    for f in ("users.auth.php", "acl.auth.php"):
        assert (dw.docroot / "conf" / f).is_file(), f


def test_create_edit_view_nice_url(dw):
    b = dw.once("edit", lambda: _create_and_edit(dw))
    saved = (dw.docroot / "data" / "pages" / "start.txt").read_text()
    assert saved.replace("\r\n", "\n").strip() == TEXT2.strip(), saved
    changes = (dw.docroot / "data" / "meta" / "start.changes").read_text().splitlines()
    assert len(changes) == 2, changes
    # the nice URL, for the logged-in user and for a visitor (policy: public read)
    for who in (b, dw.browser()):
        p = who.get("/start", follow=False)
        assert p.status == 200, who.describe(p, "GET /start")
        assert f"{TOKEN}-two" in p.text and "<strong>edited</strong>" in p.text, \
            who.describe(p, "the second version is not shown")
        assert f"{TOKEN}-one" not in p.text, who.describe(p, "the first version is shown")
        assert re.search(r'<h1[^>]*>Relais wiki check</h1>', p.text), who.describe(p, "no title")
    # DokuWiki's own links are nice URLs too (userewrite = 1)
    assert re.search(r'href="/start\?do=revisions"', p.text), p.describe()
    p = b.get("/start?do=revisions", follow=False)
    assert p.status == 200 and "edited by the relais test" in p.text, b.describe(p, "revisions")


@pytest.mark.parametrize("path,on_disk", [
    ("/data/pages/start.txt", "data/pages/start.txt"),
    ("/data/pages/wiki/syntax.txt", "data/pages/wiki/syntax.txt"),
    ("/conf/local.php", "conf/local.php"),
    ("/conf/users.auth.php", "conf/users.auth.php"),
    ("/conf/dokuwiki.php", "conf/dokuwiki.php"),
    ("/inc/init.php", "inc/init.php"),
    ("/bin/dwpage.php", "bin/dwpage.php"),
    ("/VERSION", "VERSION"),
    ("/.htaccess", ".htaccess"),
])
def test_protected_refused(dw, path, on_disk):
    dw.once("edit", lambda: _create_and_edit(dw))    # start.txt and local.php exist
    assert (dw.docroot / on_disk).is_file(), on_disk
    b = dw.browser()
    p = b.get(path, follow=False)
    assert p.status == 403, b.describe(p, f"GET {path} must be refused")
    secret = (dw.docroot / on_disk).read_bytes()[:200]
    assert secret not in p.body, b.describe(p, "the file's content leaked")
    full = str(dw.docroot / on_disk)
    dw.server.wait_for_log(rf"AH01630: client denied by server configuration: {re.escape(full)}")


def test_open_parts_served(dw):
    """The same .htaccess files leave the public parts alone: static files
    of lib/, PHP under lib/exe, the front page through the rewrite."""
    dw.once("install", lambda: _install(dw))
    b = dw.browser()
    p = b.get("/lib/tpl/dokuwiki/images/logo.png", follow=False)
    assert p.status == 200 and p.body[:8] == b"\x89PNG\r\n\x1a\n", b.describe(p, "a template image")
    p = b.get("/lib/exe/css.php?t=dokuwiki", follow=False)
    assert p.status == 200 and "text/css" in (p.header("Content-Type") or ""), \
        b.describe(p, "lib/exe/css.php")
    p = b.get("/", follow=False)
    assert p.status == 200 and "Relais Wiki" in p.text, b.describe(p, "GET / (RewriteRule ^$ doku.php)")
    p = b.get(f"/no:such:page:{TOKEN}", follow=False)    # DokuWiki answers 200 for it
    assert p.status == 200 and "This topic does not exist yet" in p.text, \
        b.describe(p, "a missing page, rewritten to doku.php?id=...")
