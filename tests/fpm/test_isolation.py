"""One pool per user: two system users made by the test (rlfpmtest1,
rlfpmtest2; homes 0750, www-data in each user's group so that the front
end reaches their files), a pool for each running as its user on its own
socket (listen.owner = www-data, mode 0660). Checks who the PHP runs as,
that a pool cannot read the other user's files, and that OPcache is not
shared between pools.

The last point is relais-fpm's: php-fpm shares one OPcache (one SHM
segment made by the master) between all its pools, so pool A sees which
scripts pool B compiled (and, with opcache.validate_permission off,
could run them from the cache). Against php-fpm the test asserts that
leak instead, to show that the test can fail.

Root only (useradd/userdel); skipped otherwise. The users are removed at
teardown (userdel -r) even when the test fails, and removed first if a
previous run left them behind."""

import json
import os
import pwd
import grp
import subprocess

import pytest

import fpmlib

pytestmark = pytest.mark.skipif(not fpmlib.IS_ROOT, reason="needs root (useradd, pools as users)")

USERS = ("rlfpmtest1", "rlfpmtest2")

WHO_PHP = r"""<?php
header('Content-Type: application/json');
$path = $_GET['read'] ?? '';
$data = $path !== '' ? @file_get_contents($path) : null;
$err = error_get_last();
echo json_encode([
    'euid' => posix_geteuid(), 'egid' => posix_getegid(),
    'user' => posix_getpwuid(posix_geteuid())['name'],
    'groups' => posix_getgroups(),
    'read' => $data === false ? false : $data,
    'error' => $err ? $err['message'] : null,
    'file' => __FILE__,
]), "\n";
"""

OPCACHE_PHP = r"""<?php
header('Content-Type: application/json');
$st = function_exists('opcache_get_status') ? opcache_get_status(true) : false;
echo json_encode([
    'enabled' => $st !== false && $st['opcache_enabled'],
    'scripts' => $st ? array_keys($st['scripts'] ?? []) : [],
]), "\n";
"""


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def _remove_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        pass
    else:
        _run("gpasswd", "-d", fpmlib.RUN_USER, name)
        _run("userdel", "-r", name)
    try:
        grp.getgrnam(name)
    except KeyError:
        return
    _run("groupdel", name)


@pytest.fixture(scope="module")
def users():
    """{name: pwd entry} of the two users, their homes 0750 with
    ~/public_html (0755) and ~/secret.txt (0640); removed at teardown."""
    made = []
    try:
        for name in USERS:
            _remove_user(name)
            r = _run("useradd", "-m", "-s", "/usr/sbin/nologin", "-U", name)
            assert r.returncode == 0, r.stderr
            made.append(name)
            pw = pwd.getpwnam(name)
            os.chmod(pw.pw_dir, 0o750)
            r = _run("usermod", "-aG", name, fpmlib.RUN_USER)
            assert r.returncode == 0, r.stderr
            pub = os.path.join(pw.pw_dir, "public_html")
            os.mkdir(pub, 0o755)
            os.chown(pub, pw.pw_uid, pw.pw_gid)
            for fname, data, mode in (("secret.txt", f"secret of {name}\n", 0o640),
                                      ("public_html/who.php", WHO_PHP, 0o644),
                                      ("public_html/opcache.php", OPCACHE_PHP, 0o644),
                                      (f"public_html/only_{name}.php",
                                       f"<?php echo 'compiled in {name}';\n", 0o644)):
                path = os.path.join(pw.pw_dir, fname)
                with open(path, "w") as f:
                    f.write(data)
                os.chown(path, pw.pw_uid, pw.pw_gid)
                os.chmod(path, mode)
                # OPcache skips files changed in the last 2 s
                # (opcache.file_update_protection)
                old = os.stat(path).st_mtime - 60
                os.utime(path, (old, old))
        yield {n: pwd.getpwnam(n) for n in USERS}
    finally:
        for name in made:
            _remove_user(name)


@pytest.fixture
def pools(users, make_fpm):
    a, b = USERS
    fpm = make_fpm(pools={
        "a": {"_user": a, "pm": "static", "pm.max_children": 2},
        "b": {"_user": b, "pm": "static", "pm.max_children": 2},
    })
    fpm.start()
    return fpm


def _ask(fpm, pool, user, script, query=""):
    home = pwd.getpwnam(user).pw_dir
    path = f"{home}/public_html/{script}"
    params = fpmlib.php_params(path, f"/{script}", query=query, docroot=f"{home}/public_html")
    r = fpmlib.fcgi_request(fpm.pools[pool].addr, params)
    assert r.status == 200, (r, fpm.diagnostics())
    return r


def _who(fpm, pool, user, read=""):
    return json.loads(_ask(fpm, pool, user, "who.php", f"read={read}" if read else "").body)


def test_pools_run_as_their_users(pools, users):
    a, b = USERS
    for pool, user in (("a", a), ("b", b)):
        sock = pools.pools[pool].sock
        st = os.stat(sock)
        assert (st.st_mode & 0o777) == 0o660, oct(st.st_mode)
        assert pwd.getpwuid(st.st_uid).pw_name == fpmlib.RUN_USER
        w = _who(pools, pool, user)
        assert w["euid"] == users[user].pw_uid and w["user"] == user, w
        assert w["egid"] == users[user].pw_gid, w
        fpmlib.wait_until(lambda: len(fpmlib.pool_children(pools, pool)) == 2, 5)
        uids = {fpmlib.uid_of(p) for p in fpmlib.pool_children(pools, pool)}
        assert uids == {users[user].pw_uid}, (pool, uids)


def test_pool_cannot_read_other_users_files(pools, users):
    a, b = USERS
    secret_b = f"{users[b].pw_dir}/secret.txt"
    w = _who(pools, "a", a, read=secret_b)
    assert w["read"] is False, f"pool a (user {a}) read {b}'s file: {w}"
    assert "Permission denied" in (w["error"] or ""), w
    w = _who(pools, "b", b, read=secret_b)
    assert w["read"] == f"secret of {b}\n", w
    # nor can it run the other user's scripts
    params = fpmlib.php_params(f"{users[b].pw_dir}/public_html/only_{b}.php", f"/only_{b}.php")
    r = fpmlib.fcgi_request(pools.pools["a"].addr, params)
    assert b"compiled in" not in r.body, r


def test_front_end_reaches_each_users_pool(pools, users, make_nginx):
    """nginx (workers as www-data, a member of each user's group) serves
    each user's public_html through that user's pool."""
    a, b = USERS
    for pool, user in (("a", a), ("b", b)):
        ngx = make_nginx(pools.pools[pool], name=f"nginx-{pool}",
                         docroot=f"{users[user].pw_dir}/public_html")
        ngx.start()
        r = ngx.get("/who.php")
        assert r.status == 200, (r, r.body, ngx.diagnostics())
        assert json.loads(r.body)["user"] == user


def test_opcache_not_shared_between_pools(pools, users, is_php_fpm):
    a, b = USERS
    st = json.loads(_ask(pools, "a", a, "opcache.php").body)
    if not st["enabled"]:
        pytest.skip("OPcache is not enabled for the FPM (php.ini)")
    script_b = f"{users[b].pw_dir}/public_html/only_{b}.php"
    for _ in range(3):          # every child of pool b: one of them compiles it
        r = _ask(pools, "b", b, f"only_{b}.php")
        assert r.body == f"compiled in {b}".encode()
    seen_by_b = json.loads(_ask(pools, "b", b, "opcache.php").body)["scripts"]
    assert script_b in seen_by_b, seen_by_b
    seen_by_a = json.loads(_ask(pools, "a", a, "opcache.php").body)["scripts"]
    if is_php_fpm:
        # php-fpm: one OPcache for every pool, the leak relais-fpm removes
        assert script_b in seen_by_a, ("php-fpm was expected to share its OPcache "
                                       f"between pools: {seen_by_a}")
        return
    assert script_b not in seen_by_a, f"pool a sees pool b's cached script: {seen_by_a}"
    assert not any(s.startswith(users[b].pw_dir + "/") for s in seen_by_a), seen_by_a
