"""Debian's WordPress (6.1) + MariaDB 10.11 + php-fpm 8.2 behind relaisd, and
behind Debian's Apache as the reference the test itself is checked against.

The package's tree (/usr/share/wordpress, theme twentytwentythree) is copied
into the server's htdocs and owned by the pool user (WordPress writes its
.htaccess there); the Debian wp-config.php (which reads /etc/wordpress/
config-<host>.php) is replaced by a plain one pointing at the test's MariaDB
socket. The flow is a browser's, over HTTP: web installer, login, permalinks
/%postname%/ (WordPress writes its mod_rewrite block into .htaccess), a post
through the REST API, read back through its pretty permalink."""

import json
import os
import re
import secrets

import pytest

from appsite import (MariaDB, chown_tree, copy_tree, find_form, make_site, need,
                      run_user, xfail_on_relaisd_without)

WP_SRC = "/usr/share/wordpress"
THEME = f"{WP_SRC}/wp-content/themes/twentytwentythree"
MYSQLI = "/etc/php/8.2/mods-available/mysqli.ini"

ADMIN, PASSWORD, EMAIL = "admin", "relais-Test-pw-1", "admin@example.org"
DB_NAME, DB_USER, DB_PASSWORD = "wordpress", "wordpress", "wp-" + secrets.token_hex(8)
TOKEN = "qzx" + secrets.token_hex(3)        # lowercase letters/digits: kept as is by the slug
TITLE = f"Relais pretty permalink {TOKEN}"
SLUG = f"relais-pretty-permalink-{TOKEN}"
CONTENT = f"Body of the relais check, token {TOKEN}-body."

WP_CONFIG = """\
<?php
/* written by tests/apps/test_wordpress.py (replaces Debian's
 * /etc/wordpress/config-<host>.php scheme for this copy) */
define('DB_NAME', '{db_name}');
define('DB_USER', '{db_user}');
define('DB_PASSWORD', '{db_password}');
define('DB_HOST', 'localhost:{sock}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_DEBUG', false);
/* no network here: no update checks, no api.wordpress.org, no cron spawn */
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
"""

KEYS = ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
        "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")


@pytest.fixture(scope="module")
def wp(request, tmp_path_factory, front):
    need(f"{WP_SRC}/wp-settings.php", THEME, MYSQLI, MariaDB.BINARY, MariaDB.INSTALL_DB,
         MariaDB.CLIENT)
    site = make_site(request, tmp_path_factory, front, "wordpress")

    db = site.add(MariaDB(site.base / "mariadb"))
    db.start()
    db.sql(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4;"
           f"CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';"
           f"GRANT ALL ON {DB_NAME}.* TO '{DB_USER}'@'localhost';")
    site.db = db

    site.start_php()
    srv = site.make_server()
    copy_tree(WP_SRC, srv.docroot)       # .htaccess (-> /etc/wordpress/htaccess) becomes a file
    keys = "\n".join(f"define('{k}', '{secrets.token_hex(24)}');" for k in KEYS)
    conf = WP_CONFIG
    for k, v in {"db_name": DB_NAME, "db_user": DB_USER, "db_password": DB_PASSWORD,
                 "sock": db.sock, "keys": keys}.items():
        conf = conf.replace("{" + k + "}", str(v))
    (srv.docroot / "wp-config.php").write_text(conf)
    chown_tree(srv.docroot, run_user())  # the pool writes .htaccess and wp-content/uploads
    site.start_server()
    return site


# --------------------------------------------------------------------------
# steps (each runs once per site; see Site.once)

def _install(site):
    b = site.browser()
    p = b.get("/wp-admin/install.php")
    assert p.status == 200 and 'name="weblog_title"' in p.text, \
        b.describe(p, "the installer's form")
    p = b.post("/wp-admin/install.php?step=2", {
        "weblog_title": "Relais WordPress", "user_name": ADMIN,
        "admin_password": PASSWORD, "admin_password2": PASSWORD, "pw_weak": "on",
        "admin_email": EMAIL, "blog_public": "0", "language": "",
        "Submit": "Install WordPress"})
    assert p.status == 200 and "Success!" in p.text, b.describe(p, "install step 2")
    return True


def _login(site):
    site.once("install", lambda: _install(site))
    b = site.browser()
    p = b.get("/wp-login.php")                     # sets wordpress_test_cookie
    assert p.status == 200 and 'name="log"' in p.text, b.describe(p, "the login form")
    p = b.post("/wp-login.php", {
        "log": ADMIN, "pwd": PASSWORD, "rememberme": "forever", "wp-submit": "Log In",
        "redirect_to": b.url("/wp-admin/"), "testcookie": "1"})
    assert p.status == 200 and p.url.endswith("/wp-admin/"), b.describe(p, "login")
    assert any(n.startswith("wordpress_logged_in_") for n in b.cookies()), \
        b.describe(p, "no logged-in cookie")
    return b


def _permalinks(site):
    b = site.once("login", lambda: _login(site))
    p = b.get("/wp-admin/options-permalink.php")
    assert p.status == 200, b.describe(p, "the permalink settings")
    f = find_form(p, lambda f: f.get("permalink_structure") is not None, "permalink")
    assert f.get("_wpnonce"), b.describe(p, "no _wpnonce in the permalink form")
    values = f.values(selection="custom", permalink_structure="/%postname%/")
    p = b.submit(p, f, values)
    assert p.status == 200, b.describe(p, "saving the permalink structure")
    f = find_form(p, lambda f: f.get("permalink_structure") is not None, "permalink")
    assert f.get("permalink_structure") == "/%postname%/", \
        b.describe(p, f"structure saved as {f.get('permalink_structure')!r}")
    return b


def _post(site):
    b = site.once("login", lambda: _login(site))
    p = b.get("/wp-admin/admin-ajax.php?action=rest-nonce")
    nonce = p.text.strip()
    assert p.status == 200 and re.fullmatch(r"[0-9a-f]{10}", nonce), \
        b.describe(p, "the REST nonce (admin-ajax.php?action=rest-nonce)")
    # ?rest_route= works with or without pretty permalinks
    p = b.post("/?rest_route=/wp/v2/posts",
               body=json.dumps({"title": TITLE, "content": CONTENT,
                                "status": "publish"}).encode(),
               headers={"Content-Type": "application/json", "X-WP-Nonce": nonce})
    assert p.status == 201, b.describe(p, "POST /?rest_route=/wp/v2/posts")
    post = json.loads(p.body)
    assert post["slug"] == SLUG and post["status"] == "publish", post
    return post


# --------------------------------------------------------------------------
# tests

def test_install(wp):
    wp.once("install", lambda: _install(wp))
    # the site answers, through index.php, with the installed blog
    b = wp.browser()
    p = b.get("/")
    assert p.status == 200 and "Relais WordPress" in p.text, b.describe(p, "home page")


def test_login_dashboard(wp):
    b = wp.once("login", lambda: _login(wp))
    p = b.get("/wp-admin/")
    assert p.status == 200, b.describe(p, "GET /wp-admin/ logged in")
    assert re.search(r"<title>Dashboard", p.text) and 'id="wpadminbar"' in p.text, \
        b.describe(p, "not the dashboard")
    # and without the cookies: wp-admin sends the visitor to the login page
    anon = wp.browser()
    p = anon.get("/wp-admin/", follow=False)
    assert p.status == 302 and "/wp-login.php?redirect_to=" in (p.header("Location") or ""), \
        anon.describe(p, "GET /wp-admin/ anonymous")


def test_permalinks_write_htaccess(wp):
    wp.once("permalinks", lambda: _permalinks(wp))
    ht = (wp.docroot / ".htaccess").read_text()
    assert "# BEGIN WordPress" in ht and "RewriteRule . /index.php [L]" in ht, ht
    if run_user():
        assert os.stat(wp.docroot / ".htaccess").st_uid == os.stat(wp.docroot).st_uid


def test_post_pretty_permalink(request, wp):
    xfail_on_relaisd_without(request, wp, "rewrite",
                             "/%postname%/ reaches index.php through WordPress' "
                             ".htaccess RewriteRule . /index.php [L]")
    wp.once("permalinks", lambda: _permalinks(wp))
    post = wp.once("post", lambda: _post(wp))
    b = wp.browser()
    assert post["link"] == b.url(f"/{SLUG}/"), post["link"]
    p = b.get(f"/{SLUG}/", follow=False)
    assert p.status == 200, b.describe(p, f"GET /{SLUG}/")
    assert TITLE in p.text and f"{TOKEN}-body" in p.text, b.describe(p, "title/content missing")
    assert "single-post" in p.text or "postid-" in p.text, b.describe(p, "not the single view")
    # the same post by id: WordPress' canonical redirect to the permalink
    p = b.get(f"/?p={post['id']}", follow=False)
    assert p.status == 301 and p.header("Location") == b.url(f"/{SLUG}/"), \
        b.describe(p, "canonical redirect")


def test_pretty_rest_route_and_404(request, wp):
    xfail_on_relaisd_without(request, wp, "rewrite",
                             "/wp-json/ and unknown paths go to index.php by .htaccess")
    wp.once("permalinks", lambda: _permalinks(wp))
    post = wp.once("post", lambda: _post(wp))
    b = wp.browser()
    p = b.get(f"/wp-json/wp/v2/posts/{post['id']}", follow=False)
    assert p.status == 200 and (p.header("Content-Type") or "").startswith("application/json"), \
        b.describe(p, "GET /wp-json/wp/v2/posts/<id>")
    assert json.loads(p.body)["title"]["rendered"] == TITLE
    p = b.get(f"/no-such-post-{TOKEN}/", follow=False)
    assert p.status == 404 and "error404" in p.text, b.describe(p, "WordPress' own 404")
    # a real file is served as is, not rewritten
    p = b.get("/wp-includes/js/jquery/jquery.min.js", follow=False)
    assert p.status == 200 and "javascript" in (p.header("Content-Type") or ""), \
        b.describe(p, "a static file")
