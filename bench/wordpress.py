#!/usr/bin/python3
"""WordPress for bench/run.sh's WordPress phase: Debian's package copied into
a temporary prefix, MariaDB from a temporary datadir, the install done through
the web installer, pretty permalinks on (WordPress writes its mod_rewrite
block into .htaccess). Reuses tests/apps/appsite.py (MariaDB, Browser, forms);
standard library otherwise.

  wordpress.py check
        exit 0 if the packages are there, else 3 with what is missing
  wordpress.py serve DIR
        MariaDB in DIR/mariadb (the database and its user created), the
        site in DIR/htdocs (wp-config.php pointing at DIR/mariadb/mysql.sock,
        the tree owned by www-data when root); writes DIR/ready, then holds
        MariaDB until SIGTERM/SIGINT or until its parent (run.sh) is gone,
        and stops it by PID
  wordpress.py install PORT DIR
        the web installer, a login and the permalink settings (/%postname%/)
        through the server on 127.0.0.1:PORT; checks DIR/htdocs/.htaccess
  wordpress.py page PORT [FILE]
        GET / (200, the blog's front page, no redirect) and GET /hello-world/
        (200 through the .htaccess rewrite); prints the front page's size,
        writes the front page (headers and body) to FILE

wp-config.php takes WP_HOME and WP_SITEURL from the request's Host, so that
the same installation answers on each fresh server's port without
WordPress' canonical redirect to the port it was installed on. No cron, no
update checks, no outbound HTTP."""

import os
import secrets
import signal
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True          # nothing written into tests/
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "apps"))

WP_SRC = "/usr/share/wordpress"
THEME = f"{WP_SRC}/wp-content/themes/twentytwentythree"
MYSQLI = "/etc/php/8.2/mods-available/mysqli.ini"
PHP_FPM = "/usr/sbin/php-fpm8.2"
MARIADB = ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb")

TITLE = "Relais bench WordPress"
ADMIN, PASSWORD, EMAIL = "admin", "relais-Bench-pw-1", "admin@example.org"
DB_NAME, DB_USER = "wordpress", "wordpress"

WP_CONFIG = """\
<?php
/* written by bench/wordpress.py */
define('DB_NAME', '{db_name}');
define('DB_USER', '{db_user}');
define('DB_PASSWORD', '{db_password}');
define('DB_HOST', 'localhost:{sock}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
/* each benchmark run uses a fresh server on a new port */
$relais_host = isset($_SERVER['HTTP_HOST']) ? $_SERVER['HTTP_HOST'] : 'localhost';
define('WP_HOME', 'http://' . $relais_host);
define('WP_SITEURL', 'http://' . $relais_host);
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


def die(msg, rc=1):
    print(f"wordpress.py: {msg}", file=sys.stderr)
    sys.exit(rc)


def check():
    missing = [p for p in (f"{WP_SRC}/wp-settings.php", THEME, MYSQLI, PHP_FPM, *MARIADB)
               if not os.path.exists(p)]
    try:
        import appsite  # noqa: F401  (needs pytest, from python3-pytest)
        hint = appsite.APT_HINT
    except ImportError as e:
        missing.append(f"python module {e.name}")
        hint = "scripts/deps.sh test"
    if missing:
        die(f"missing {', '.join(missing)}: {hint}", 3)


def serve(d):
    import appsite
    d = Path(d)
    parent = os.getppid()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    db = appsite.MariaDB(d / "mariadb")
    try:
        db.start()
        password = "wp-" + secrets.token_hex(8)
        db.sql(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4;"
               f"CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{password}';"
               f"GRANT ALL ON {DB_NAME}.* TO '{DB_USER}'@'localhost';")
        docroot = d / "htdocs"
        appsite.copy_tree(WP_SRC, docroot)   # .htaccess (-> /etc/wordpress/htaccess) becomes a file
        conf = WP_CONFIG
        keys = "\n".join(f"define('{k}', '{secrets.token_hex(24)}');" for k in KEYS)
        for k, v in {"db_name": DB_NAME, "db_user": DB_USER, "db_password": password,
                     "sock": db.sock, "keys": keys}.items():
            conf = conf.replace("{" + k + "}", str(v))
        (docroot / "wp-config.php").write_text(conf)
        appsite.chown_tree(docroot, appsite.run_user())   # the pool writes .htaccess
        (d / "ready").write_text(f"{db.pid} {db.sock}\n")
        print(f"wordpress.py: mariadbd pid {db.pid}, site in {docroot}", file=sys.stderr)
        while not stop and os.getppid() == parent and db.running():
            time.sleep(0.5)
        if not db.running():
            die("mariadbd exited\n" + db.diagnostics())
    finally:
        db.stop()


def install(port, d):
    import appsite
    b = appsite.Browser(int(port))
    p = b.get("/wp-admin/install.php")
    if p.status != 200 or 'name="weblog_title"' not in p.text:
        die(b.describe(p, "the installer's form"))
    p = b.post("/wp-admin/install.php?step=2", {
        "weblog_title": TITLE, "user_name": ADMIN,
        "admin_password": PASSWORD, "admin_password2": PASSWORD, "pw_weak": "on",
        "admin_email": EMAIL, "blog_public": "0", "language": "",
        "Submit": "Install WordPress"})
    if p.status != 200 or "Success!" not in p.text:
        die(b.describe(p, "install step 2"))
    p = b.get("/wp-login.php")                     # sets wordpress_test_cookie
    p = b.post("/wp-login.php", {
        "log": ADMIN, "pwd": PASSWORD, "rememberme": "forever", "wp-submit": "Log In",
        "redirect_to": b.url("/wp-admin/"), "testcookie": "1"})
    if p.status != 200 or not p.url.endswith("/wp-admin/"):
        die(b.describe(p, "login"))
    p = b.get("/wp-admin/options-permalink.php")
    f = appsite.find_form(p, lambda f: f.get("permalink_structure") is not None, "permalink")
    p = b.submit(p, f, f.values(selection="custom", permalink_structure="/%postname%/"))
    f = appsite.find_form(p, lambda f: f.get("permalink_structure") is not None, "permalink")
    if p.status != 200 or f.get("permalink_structure") != "/%postname%/":
        die(b.describe(p, "saving the permalink structure"))
    ht = (Path(d) / "htdocs" / ".htaccess").read_text()
    if "# BEGIN WordPress" not in ht or "RewriteRule . /index.php [L]" not in ht:
        die(f"WordPress did not write its rewrite rules into .htaccess:\n{ht}")


def page(port, dump=None):
    import appsite
    b = appsite.Browser(int(port))
    p = b.get("/", follow=False)
    if dump:
        Path(dump).write_bytes(f"{p.status}\n{p.headers}".encode() + p.body)
    if p.status != 200 or TITLE not in p.text or "</html>" not in p.text:
        die(b.describe(p, "the front page"))
    size = len(p.body)
    p = b.get("/hello-world/", follow=False)
    if p.status != 200 or "Hello world!" not in p.text:
        die(b.describe(p, "GET /hello-world/ (the .htaccess rewrite to index.php)"))
    print(size)


def main(argv):
    cmds = {"check": (check, 0, 0), "serve": (serve, 1, 1), "install": (install, 2, 2),
            "page": (page, 1, 2)}
    if len(argv) < 1 or argv[0] not in cmds or \
            not cmds[argv[0]][1] <= len(argv) - 1 <= cmds[argv[0]][2]:
        die(__doc__.split("\n\n")[1], 2)
    fn = cmds[argv[0]][0]
    fn(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
