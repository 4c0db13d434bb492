/* Unit tests for src/http/uri.c: target splitting, path normalisation,
 * escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/uri.h"

static void assert_str(rl_str_t s, const char *want)
{
    if (want == NULL) {
        if (s.p != NULL)
            fail_msg("got '%.*s', want NULL", RL_STR_FMT(s));
        return;
    }
    if (s.p == NULL || s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
        fail_msg("got '%.*s', want '%s'", RL_STR_FMT(s), want);
}

/* ---- split ---- */

static void check_split(const char *target, int form, const char *path,
                        const char *query, const char *host)
{
    rl_str_t p = RL_STR("unset"), q = RL_STR("unset"), h = RL_STR("unset");
    int rc = rl_uri_split(rl_str_c(target), &p, &q, &h);
    if (rc != form)
        fail_msg("'%s': rc %d, want %d", target, rc, form);
    if (form < 0)
        return;
    assert_str(p, path);
    assert_str(q, query);
    assert_str(h, host);
}

static void test_split_origin(void **state)
{
    (void)state;
    check_split("/a/b?x=1&y", RL_URI_ORIGIN, "/a/b", "x=1&y", NULL);
    check_split("/", RL_URI_ORIGIN, "/", NULL, NULL);
    check_split("/a?", RL_URI_ORIGIN, "/a", "", NULL);
    check_split("/a?b?c", RL_URI_ORIGIN, "/a", "b?c", NULL);
    check_split("//host/x", RL_URI_ORIGIN, "//host/x", NULL, NULL);
    check_split("/%2e%2e/x?%41", RL_URI_ORIGIN, "/%2e%2e/x", "%41", NULL);
    /* the query stays as sent: a '/' in it is fine */
    check_split("/s?u=http://x/y", RL_URI_ORIGIN, "/s", "u=http://x/y", NULL);
}

static void test_split_absolute_and_asterisk(void **state)
{
    (void)state;
    check_split("http://example.com:8080/p/q?x", RL_URI_ABSOLUTE, "/p/q", "x", "example.com:8080");
    check_split("http://example.com", RL_URI_ABSOLUTE, "/", NULL, "example.com");
    check_split("HTTPS://Example.COM?x", RL_URI_ABSOLUTE, "/", "x", "Example.COM");
    check_split("https://h/", RL_URI_ABSOLUTE, "/", NULL, "h");
    check_split("http://[::1]:80/x", RL_URI_ABSOLUTE, "/x", NULL, "[::1]:80");
    check_split("http://[::1]/x", RL_URI_ABSOLUTE, "/x", NULL, "[::1]");
    check_split("http://10.0.0.1:/x", RL_URI_ABSOLUTE, "/x", NULL, "10.0.0.1:");
    check_split("http://a_b-c.d:65535", RL_URI_ABSOLUTE, "/", NULL, "a_b-c.d:65535");
    check_split("*", RL_URI_ASTERISK, "*", NULL, NULL);

    /* outputs are optional */
    assert_int_equal(rl_uri_split(RL_STR("http://h/x"), NULL, NULL, NULL), RL_URI_ABSOLUTE);
}

static void test_split_errors(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "/a#frag", "/#", "http://h/#x", "#", "**", "*x", "a/b", "index.html",
        "example.com:443",              /* authority-form (CONNECT) */
        "ftp://h/x", "http:/h/x", "http:h", "file:///etc/passwd",
        "http://u:p@h/", "http://u@h/",  /* user info */
        "http:///x", "http://:80/", "http://", "http://h:99999/", "http://h:8a/",
        "http://h:-1/", "http://h:+1/", "http://h!/", "http://h%41/", "http://[::1/",
        "http://[]/", "http://[zz]/", "http://h]:80/",
    };
    for (size_t i = 0; i < RL_NELEMS(bad); i++)
        check_split(bad[i], -400, NULL, NULL, NULL);
}

/* ---- normalize ---- */

static void check_norm(const char *in, bool slashes, const char *want)
{
    char out[256];
    ssize_t n = rl_uri_normalize(in, strlen(in), out, slashes);
    if (n < 0)
        fail_msg("'%s': error %zd, want '%s'", in, n, want);
    if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
        fail_msg("'%s': got '%.*s', want '%s'", in, (int)n, out, want);
}

static void check_norm_error(const char *in, size_t len, bool slashes, ssize_t status)
{
    char out[256];
    ssize_t n = rl_uri_normalize(in, len, out, slashes);
    if (n != status)
        fail_msg("'%.*s': got %zd, want %zd", (int)len, in, n, status);
}

static void test_normalize_dots(void **state)
{
    (void)state;
    check_norm("/", false, "/");
    check_norm("", false, "/");
    check_norm("a/b", false, "/a/b");
    check_norm("/a/./b/../c", false, "/a/c");
    check_norm("/../x", false, "/x");
    check_norm("/..", false, "/");
    check_norm("/.", false, "/");
    check_norm("/./", false, "/");
    check_norm("/a/b/..", false, "/a/");
    check_norm("/a/b/../", false, "/a/");
    check_norm("/a/b/.", false, "/a/b/");
    check_norm("/a/.", false, "/a/");
    check_norm("/a/./..", false, "/");
    check_norm("/a/b/../../../../x/y", false, "/x/y");
    check_norm("/a/b/c/../../d", false, "/a/d");
    check_norm("/a/...", false, "/a/...");
    check_norm("/..a/b../.b./.../c", false, "/..a/b../.b./.../c");
    check_norm("/a/.hidden", false, "/a/.hidden");
    check_norm("/a/b/", false, "/a/b/");
    check_norm("/a\\..\\b", false, "/a\\..\\b");
    check_norm("/a/..\\/b", false, "/a/..\\/b");
}

static void test_normalize_slashes(void **state)
{
    (void)state;
    check_norm("//a///b", false, "/a/b");
    check_norm("////", false, "/");
    check_norm("/a//", false, "/a/");
    check_norm("//..//a", false, "/a");
    check_norm("/a//..", false, "/");
}

static void test_normalize_decode(void **state)
{
    (void)state;
    check_norm("/%41%62%63", false, "/Abc");
    check_norm("/a%20b", false, "/a b");
    check_norm("/%7e%7E", false, "/~~");
    check_norm("/%25", false, "/%");
    check_norm("/%2541", false, "/%41");     /* decoded once, not twice */
    check_norm("/caf%C3%A9", false, "/caf\xc3\xa9");
    /* decoding happens before dot removal: encoded dots cannot climb */
    check_norm("/%2e%2e/etc/passwd", false, "/etc/passwd");
    check_norm("/a/%2e%2E/b", false, "/b");
    check_norm("/a/.%2e", false, "/");
    check_norm("/a/%2e", false, "/a/");
    check_norm("/cgi-bin/.%2e/.%2e/.%2e/bin/sh", false, "/bin/sh");
    /* encoded slashes, when allowed, are slashes like the others */
    check_norm("/a%2Fb", true, "/a/b");
    check_norm("/a%2f%2f..%2fb", true, "/b");
    check_norm("/%2f%2e%2e%2fx", true, "/x");
}

static void test_normalize_errors(void **state)
{
    (void)state;
    check_norm_error("/%zz", 4, false, -400);
    check_norm_error("/%4", 3, false, -400);
    check_norm_error("/%", 2, false, -400);
    check_norm_error("/%4g", 4, false, -400);
    check_norm_error("/%%41", 5, false, -400);
    check_norm_error("/a\0b", 4, false, -400);
    check_norm_error("/%00", 4, false, -404);
    check_norm_error("/%00", 4, true, -404);
    check_norm_error("/a%2Fb", 6, false, -404);
    check_norm_error("/a%2fb", 6, false, -404);
    /* a bad escape anywhere is a 400 even after a 404 cause */
    check_norm_error("/%2F/%zz", 8, false, -400);
    check_norm_error("/%00%g0", 7, false, -400);
    /* "%4" followed by the end of the given length, not of the string */
    check_norm_error("/%41", 3, false, -400);
}

/* Checks the invariants of a normalised path. */
static void assert_canonical(const char *s, size_t n)
{
    assert_true(n >= 1);
    assert_int_equal(s[0], '/');
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '/')
            continue;
        size_t seg = i + 1, end = seg;
        while (end < n && s[end] != '/')
            end++;
        if (end == seg)
            assert_true(end == n);            /* only a trailing '/' */
        assert_false(end - seg == 1 && s[seg] == '.');
        assert_false(end - seg == 2 && s[seg] == '.' && s[seg + 1] == '.');
    }
}

/* Every path of up to 7 bytes over a small alphabet, plus random longer
 * ones: the output is canonical and normalising it again changes nothing. */
static void test_normalize_exhaustive(void **state)
{
    (void)state;
    static const char alpha[] = "/.a%2eEfF";
    const size_t k = sizeof(alpha) - 1;
    char in[16], out[32], again[32];
    size_t total = 0, ok = 0;

    for (size_t len = 0; len <= 7; len++) {
        size_t count = 1;
        for (size_t i = 0; i < len; i++)
            count *= k;
        for (size_t idx = 0; idx < count; idx++) {
            size_t v = idx;
            for (size_t i = 0; i < len; i++, v /= k)
                in[i] = alpha[v % k];
            ssize_t n = rl_uri_normalize(in, len, out, true);
            total++;
            if (n < 0) {
                assert_true(n == -400 || n == -404);
                continue;
            }
            ok++;
            assert_true((size_t)n <= RL_URI_NORMALIZE_SIZE(len));
            assert_canonical(out, (size_t)n);
            if (memchr(out, '%', (size_t)n) == NULL) {
                ssize_t m = rl_uri_normalize(out, (size_t)n, again, true);
                assert_int_equal(m, n);
                assert_memory_equal(again, out, (size_t)n);
            }
        }
    }
    assert_true(ok > 1000 && total > ok);
}

/* ---- escaping ---- */

static void test_escape_path(void **state)
{
    (void)state;
    const char *in = "/a b/c?d#e%f\"<\x01\xc3\xa9~$-_.+!*'(),:;@&=";
    char out[256];
    size_t n = rl_uri_escape_path(out, in, strlen(in));
    const char *want = "/a%20b/c%3Fd%23e%25f%22%3C%01%C3%A9~$-_.+!*'(),:;@&=";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(rl_uri_escape_path(NULL, in, strlen(in)), n);
    assert_int_equal(rl_uri_escape_path(out, "", 0), 0);
    /* a NUL byte is escaped too */
    assert_int_equal(rl_uri_escape_path(out, "a\0b", 3), 5);
    assert_memory_equal(out, "a%00b", 5);

    /* escaping then normalising gives the path back */
    const char *path = "/dir with space/f%ile?.txt";
    n = rl_uri_escape_path(out, path, strlen(path));
    char back[256];
    ssize_t m = rl_uri_normalize(out, n, back, false);
    assert_int_equal(m, strlen(path));
    assert_memory_equal(back, path, strlen(path));
}

static void test_html_escape(void **state)
{
    (void)state;
    const char *in = "<a href=\"x\">&'</a> ok";
    const char *want = "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt; ok";
    char out[256];
    size_t n = rl_html_escape(out, in, strlen(in));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(rl_html_escape(NULL, in, strlen(in)), n);
    assert_int_equal(rl_html_escape(out, "\"\"", 2), 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_origin),
        cmocka_unit_test(test_split_absolute_and_asterisk),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_normalize_dots),
        cmocka_unit_test(test_normalize_slashes),
        cmocka_unit_test(test_normalize_decode),
        cmocka_unit_test(test_normalize_errors),
        cmocka_unit_test(test_normalize_exhaustive),
        cmocka_unit_test(test_escape_path),
        cmocka_unit_test(test_html_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
