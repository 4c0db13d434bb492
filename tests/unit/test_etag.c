/* Tests for http/etag: Apache's ETag format, entity-tag comparison and the
 * RFC 9110 precondition order. The ETag of a 100-byte file with mtime
 * 2026-11-27 07:26:40.105974254 UTC, "64-6613cfb2b29f6", is the one
 * Apache/2.4.71 sent for it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/etag.h"
#include "http/date.h"

#define MTIME 1795764400                 /* Fri, 27 Nov 2026 07:26:40 GMT */
#define MTIME_USEC (MTIME * 1000000LL + 105974)
#define ETAG "\"64-6613cfb2b29f6\""

static struct stat file_stat(void)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_size = 100;
    st.st_ino = 10952802;
    st.st_mtim.tv_sec = MTIME;
    st.st_mtim.tv_nsec = 105974254;
    return st;
}

static void check_etag(const struct stat *st, unsigned bits, int64_t now, const char *expected)
{
    char out[RL_ETAG_MAX];
    size_t n = rl_http_etag(out, sizeof(out), st, bits, now);
    assert_int_equal(n, strlen(expected));
    assert_string_equal(out, expected);
}

static void test_etag_format(void **state)
{
    (void)state;
    struct stat st = file_stat();
    int64_t later = MTIME_USEC + 3600 * 1000000LL;
    check_etag(&st, RL_ETAG_DEFAULT, later, ETAG);
    check_etag(&st, RL_ETAG_ALL, later, "\"a72062-64-6613cfb2b29f6\"");
    check_etag(&st, RL_ETAG_INODE, later, "\"a72062\"");
    check_etag(&st, RL_ETAG_SIZE, later, "\"64\"");
    check_etag(&st, RL_ETAG_MTIME, later, "\"6613cfb2b29f6\"");
    check_etag(&st, RL_ETAG_INODE | RL_ETAG_MTIME, later, "\"a72062-6613cfb2b29f6\"");
    check_etag(&st, RL_ETAG_INODE | RL_ETAG_SIZE, later, "\"a72062-64\"");
    st.st_size = 0;
    st.st_mtim.tv_sec = 0;
    st.st_mtim.tv_nsec = 0;
    check_etag(&st, RL_ETAG_DEFAULT, later, "\"0-0\"");
    st.st_size = INT64_MAX;
    st.st_ino = (ino_t)UINT64_MAX;
    st.st_mtim.tv_sec = 253402300799LL;
    st.st_mtim.tv_nsec = 999999999;
    check_etag(&st, RL_ETAG_ALL, INT64_MAX,
               "\"ffffffffffffffff-7fffffffffffffff-384440ccc735fff\"");
}

static void test_etag_weak(void **state)
{
    (void)state;
    struct stat st = file_stat();
    /* weak while the request is less than a second after the mtime */
    check_etag(&st, RL_ETAG_DEFAULT, MTIME_USEC, "W/" ETAG);
    check_etag(&st, RL_ETAG_DEFAULT, MTIME_USEC + 999999, "W/" ETAG);
    check_etag(&st, RL_ETAG_DEFAULT, MTIME_USEC + 1000000, ETAG);
    check_etag(&st, RL_ETAG_DEFAULT, MTIME_USEC - 5000000, "W/" ETAG);   /* mtime ahead */
    check_etag(&st, RL_ETAG_ALL, MTIME_USEC, "W/\"a72062-64-6613cfb2b29f6\"");
    /* extremes do not overflow: a pre-1970 mtime prints as Apache's unsigned
     * cast does, an absurd one saturates */
    st.st_mtim.tv_sec = -1;
    st.st_mtim.tv_nsec = 0;
    check_etag(&st, RL_ETAG_DEFAULT, INT64_MAX, "\"64-fffffffffff0bdc0\"");
    check_etag(&st, RL_ETAG_DEFAULT, INT64_MIN, "W/\"64-fffffffffff0bdc0\"");
    st.st_mtim.tv_sec = INT64_MAX;
    check_etag(&st, RL_ETAG_DEFAULT, INT64_MAX, "\"64-7fffffffffe4e740\"");
    check_etag(&st, RL_ETAG_DEFAULT, 0, "W/\"64-7fffffffffe4e740\"");
}

static void test_etag_none_and_short(void **state)
{
    (void)state;
    struct stat st = file_stat();
    char out[RL_ETAG_MAX] = "unchanged";
    assert_int_equal(rl_http_etag(out, sizeof(out), &st, 0, 0), 0);
    assert_string_equal(out, "unchanged");
    /* exactly enough room, then one byte less */
    assert_int_equal(rl_http_etag(out, sizeof(ETAG), &st, RL_ETAG_DEFAULT, MTIME_USEC + 2000000),
                     sizeof(ETAG) - 1);
    strcpy(out, "unchanged");
    assert_int_equal(rl_http_etag(out, sizeof(ETAG) - 1, &st, RL_ETAG_DEFAULT,
                                  MTIME_USEC + 2000000), 0);
    assert_string_equal(out, "unchanged");
}

static void test_etag_real_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_etag_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(path);
    char expected[RL_ETAG_MAX], out[RL_ETAG_MAX];
    long long usec = (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    snprintf(expected, sizeof(expected), "\"6-%llx\"", usec);
    rl_http_etag(out, sizeof(out), &st, RL_ETAG_DEFAULT, usec + 1000000);
    assert_string_equal(out, expected);
    snprintf(expected, sizeof(expected), "W/\"6-%llx\"", usec);
    rl_http_etag(out, sizeof(out), &st, RL_ETAG_DEFAULT, usec);
    assert_string_equal(out, expected);
}

static void test_etag_compare(void **state)
{
    (void)state;
    /* RFC 9110 8.8.3.2's table */
    assert_false(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("W/\"1\""), true));
    assert_true(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("W/\"1\""), false));
    assert_false(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("W/\"2\""), true));
    assert_false(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("W/\"2\""), false));
    assert_false(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("\"1\""), true));
    assert_true(rl_http_etag_match(RL_STR("W/\"1\""), RL_STR("\"1\""), false));
    assert_true(rl_http_etag_match(RL_STR("\"1\""), RL_STR("\"1\""), true));
    assert_true(rl_http_etag_match(RL_STR("\"1\""), RL_STR("\"1\""), false));
    /* opaque tags are case-sensitive; "w/" is not a weak prefix */
    assert_false(rl_http_etag_match(RL_STR("\"a\""), RL_STR("\"A\""), false));
    assert_false(rl_http_etag_match(RL_STR("w/\"a\""), RL_STR("\"a\""), false));
    /* malformed tags never match, not even themselves */
    assert_false(rl_http_etag_match(RL_STR("a"), RL_STR("a"), false));
    assert_false(rl_http_etag_match(RL_STR("\"a"), RL_STR("\"a"), false));
    assert_false(rl_http_etag_match(RL_STR("\""), RL_STR("\""), false));
    assert_false(rl_http_etag_match(RL_STR("\"a b\""), RL_STR("\"a b\""), false));
    assert_false(rl_http_etag_match(RL_STR("\"a\"b\""), RL_STR("\"a\"b\""), false));
    assert_false(rl_http_etag_match(RL_STR("W/"), RL_STR("W/"), false));
    assert_true(rl_http_etag_match(RL_STR("\"\""), RL_STR("\"\""), true));   /* empty tag */
    assert_true(rl_http_etag_match(RL_STR(" \"a\" "), RL_STR("\"a\""), true));
}

static void test_etag_lists(void **state)
{
    (void)state;
    rl_str_t e = RL_STR(ETAG);
    assert_true(rl_http_etag_list_match(RL_STR("*"), e, true));
    assert_true(rl_http_etag_list_match(RL_STR(" * "), RL_STR(""), true));
    assert_false(rl_http_etag_list_match(RL_STR("\"x\""), RL_STR(""), false));
    assert_true(rl_http_etag_list_match(RL_STR(ETAG), e, true));
    assert_true(rl_http_etag_list_match(RL_STR("\"x\"," ETAG), e, true));
    assert_true(rl_http_etag_list_match(RL_STR("\"x\" ,\t " ETAG " , \"y\""), e, true));
    assert_true(rl_http_etag_list_match(RL_STR(",,\"x\",," ETAG ",,"), e, true));
    /* Apache stops at the first weak member when comparing strongly; we don't */
    assert_true(rl_http_etag_list_match(RL_STR("W/\"x\", " ETAG), e, true));
    assert_false(rl_http_etag_list_match(RL_STR("W/" ETAG), e, true));
    assert_true(rl_http_etag_list_match(RL_STR("W/" ETAG), e, false));
    /* malformed members are skipped */
    assert_true(rl_http_etag_list_match(RL_STR("garbage, " ETAG), e, true));
    assert_true(rl_http_etag_list_match(RL_STR("\"unterminated, " ETAG), RL_STR("\"x\""), false) == false);
    /* a comma inside quotes does not split */
    assert_true(rl_http_etag_list_match(RL_STR("\"a,b\""), RL_STR("\"a,b\""), true));
    assert_false(rl_http_etag_list_match(RL_STR("\"a,b\""), RL_STR("\"a\""), true));
    /* "*" only as the whole value */
    assert_false(rl_http_etag_list_match(RL_STR("*, \"x\""), e, true));
    assert_false(rl_http_etag_list_match(RL_STR(""), e, false));
    assert_false(rl_http_etag_list_match(RL_STR("  "), e, false));
}

/* ---- preconditions ------------------------------------------------------ */

#define NOW (MTIME + 3600)

static rl_cond_input_t base(const char *method)
{
    return (rl_cond_input_t){
        .method = rl_str_c(method), .etag = RL_STR(ETAG),
        .has_mtime = true, .mtime = MTIME, .now = NOW,
    };
}

static const char LM[] = "Fri, 27 Nov 2026 07:26:40 GMT";        /* == mtime */
static const char OLDER[] = "Fri, 27 Nov 2026 07:26:39 GMT";
static const char NEWER[] = "Fri, 27 Nov 2026 08:00:00 GMT";      /* < NOW */
static const char FUTURE[] = "Fri, 27 Nov 2026 08:26:41 GMT";     /* NOW + 1 */

static void test_no_preconditions(void **state)
{
    (void)state;
    rl_cond_input_t in = base("GET");
    assert_int_equal(rl_http_conditional(&in), 0);
    in.etag = RL_STR("");
    in.has_mtime = false;
    assert_int_equal(rl_http_conditional(&in), 0);
}

static void test_if_match(void **state)
{
    (void)state;
    static const struct { const char *value; int get; } cases[] = {
        { ETAG, 0 },
        { "*", 0 },
        { "\"x\", " ETAG, 0 },
        { "W/\"x\", " ETAG, 0 },             /* Apache: 412 */
        { "\"x\"", 412 },
        { "W/" ETAG, 412 },                  /* strong comparison */
        { "", 412 },
        { "garbage", 412 },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_cond_input_t in = base("GET");
        in.if_match = rl_str_c(cases[i].value);
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
        in.method = RL_STR("PUT");
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
    }
    /* our own tag is weak: only "*" passes */
    rl_cond_input_t in = base("GET");
    in.etag = RL_STR("W/" ETAG);
    in.if_match = RL_STR("W/" ETAG);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_match = RL_STR("*");
    assert_int_equal(rl_http_conditional(&in), 0);
    /* no ETag at all */
    in.etag = RL_STR("");
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 412);
}

static void test_if_unmodified_since(void **state)
{
    (void)state;
    rl_cond_input_t in = base("PUT");
    in.if_unmodified_since = rl_str_c(OLDER);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_unmodified_since = rl_str_c(LM);
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_unmodified_since = rl_str_c(NEWER);
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_unmodified_since = RL_STR("Friday, 27-Nov-26 07:26:39 GMT");
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_unmodified_since = RL_STR("Fri Nov 27 07:26:39 2026");
    assert_int_equal(rl_http_conditional(&in), 412);
    /* an invalid date is ignored */
    in.if_unmodified_since = RL_STR("yesterday");
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_unmodified_since = RL_STR("");
    assert_int_equal(rl_http_conditional(&in), 0);
    /* without Last-Modified there is nothing to compare */
    in.if_unmodified_since = rl_str_c(OLDER);
    in.has_mtime = false;
    assert_int_equal(rl_http_conditional(&in), 0);
    /* If-Match, when present, replaces it (Apache checks both: 412) */
    in = base("GET");
    in.if_unmodified_since = rl_str_c(OLDER);
    in.if_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_match = RL_STR("\"x\"");
    assert_int_equal(rl_http_conditional(&in), 412);
}

static void test_if_none_match(void **state)
{
    (void)state;
    static const struct { const char *value; int get, post; } cases[] = {
        { ETAG, 304, 412 },
        { "W/" ETAG, 304, 412 },             /* weak comparison, any method */
        { "\"x\", W/" ETAG, 304, 412 },
        { "*", 304, 412 },
        { "\"x\"", 0, 0 },
        { "\"x\", \"y\"", 0, 0 },
        { "", 0, 0 },
        { "garbage", 0, 0 },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_cond_input_t in = base("GET");
        in.if_none_match = rl_str_c(cases[i].value);
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
        in.method = RL_STR("HEAD");
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
        in.method = RL_STR("POST");
        assert_int_equal(rl_http_conditional(&in), cases[i].post);
        in.method = RL_STR("get");   /* methods are case-sensitive */
        assert_int_equal(rl_http_conditional(&in), cases[i].post);
    }
    /* our weak tag matches weakly */
    rl_cond_input_t in = base("GET");
    in.etag = RL_STR("W/" ETAG);
    in.if_none_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 304);
    /* no ETag: only "*" */
    in.etag = RL_STR("");
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_none_match = RL_STR("*");
    assert_int_equal(rl_http_conditional(&in), 304);
}

static void test_if_modified_since(void **state)
{
    (void)state;
    static const struct { const char *value; int get; } cases[] = {
        { LM, 304 },
        { NEWER, 304 },
        { "Friday, 27-Nov-26 07:26:40 GMT", 304 },
        { "Fri Nov 27 07:26:40 2026", 304 },
        { OLDER, 0 },
        { FUTURE, 0 },                       /* later than the request: invalid */
        { "Fri, 27 Nov 2026 07:26:40 XYZ", 0 },   /* Apache: 304 */
        { "garbage", 0 },
        { "", 0 },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_cond_input_t in = base("GET");
        in.if_modified_since = rl_str_c(cases[i].value);
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
        in.method = RL_STR("HEAD");
        assert_int_equal(rl_http_conditional(&in), cases[i].get);
        in.method = RL_STR("POST");          /* only GET and HEAD */
        assert_int_equal(rl_http_conditional(&in), 0);
    }
    rl_cond_input_t in = base("GET");
    in.if_modified_since = rl_str_c(LM);
    in.has_mtime = false;
    assert_int_equal(rl_http_conditional(&in), 0);
    /* now == date: still valid */
    in = base("GET");
    in.now = MTIME + 60;
    in.if_modified_since = RL_STR("Fri, 27 Nov 2026 07:27:40 GMT");
    assert_int_equal(rl_http_conditional(&in), 304);
}

static void test_if_modified_since_with_range(void **state)
{
    (void)state;
    /* Apache: a Last-Modified less than 60 s old is not trusted for ranges */
    rl_cond_input_t in = base("GET");
    in.if_modified_since = rl_str_c(LM);
    in.has_range = true;
    in.now = MTIME + 59;
    assert_int_equal(rl_http_conditional(&in), 0);
    in.now = MTIME + 60;
    assert_int_equal(rl_http_conditional(&in), 304);
    in.has_range = false;
    in.now = MTIME + 1;
    assert_int_equal(rl_http_conditional(&in), 304);
    in.now = MTIME;
    assert_int_equal(rl_http_conditional(&in), 304);
}

static void test_precedence(void **state)
{
    (void)state;
    rl_cond_input_t in;

    /* 1 before 3: If-Match fails before If-None-Match could give 304 */
    in = base("GET");
    in.if_match = RL_STR("\"x\"");
    in.if_none_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 304);

    /* 2 before 3 and 4 */
    in = base("GET");
    in.if_unmodified_since = rl_str_c(OLDER);
    in.if_none_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_none_match = RL_STR_NULL;
    in.if_modified_since = rl_str_c(LM);
    assert_int_equal(rl_http_conditional(&in), 412);
    in.if_unmodified_since = rl_str_c(NEWER);
    assert_int_equal(rl_http_conditional(&in), 304);

    /* 3 makes 4 ignored, both ways */
    in = base("GET");
    in.if_none_match = RL_STR("\"x\"");
    in.if_modified_since = rl_str_c(LM);
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_none_match = RL_STR(ETAG);
    in.if_modified_since = rl_str_c(OLDER);
    assert_int_equal(rl_http_conditional(&in), 304);     /* Apache: 200 */
    in.if_modified_since = RL_STR("garbage");
    assert_int_equal(rl_http_conditional(&in), 304);

    /* a Range header does not stop If-None-Match */
    in = base("GET");
    in.has_range = true;
    in.if_none_match = RL_STR(ETAG);
    assert_int_equal(rl_http_conditional(&in), 304);

    /* everything passing */
    in = base("GET");
    in.if_match = RL_STR("*");
    in.if_unmodified_since = rl_str_c(OLDER);   /* ignored: If-Match present */
    in.if_none_match = RL_STR("\"other\"");
    in.if_modified_since = rl_str_c(LM);        /* ignored: If-None-Match present */
    assert_int_equal(rl_http_conditional(&in), 0);
    in.method = RL_STR("DELETE");
    assert_int_equal(rl_http_conditional(&in), 0);
    in.if_none_match = RL_STR("*");
    assert_int_equal(rl_http_conditional(&in), 412);
}

static void test_if_range(void **state)
{
    (void)state;
    rl_str_t e = RL_STR(ETAG);
    assert_true(rl_http_if_range_ok(RL_STR(ETAG), e, MTIME, NOW));
    assert_true(rl_http_if_range_ok(RL_STR("  " ETAG " "), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("W/" ETAG), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("\"x\""), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR(ETAG ", \"x\""), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR(ETAG), RL_STR("W/" ETAG), MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("W/" ETAG), RL_STR("W/" ETAG), MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR(ETAG), RL_STR(""), MTIME, NOW));
    /* dates: exactly Last-Modified, and Last-Modified at least 60 s old */
    assert_true(rl_http_if_range_ok(rl_str_c(LM), e, MTIME, NOW));
    assert_true(rl_http_if_range_ok(RL_STR("Friday, 27-Nov-26 07:26:40 GMT"), e, MTIME, NOW));
    assert_true(rl_http_if_range_ok(RL_STR("Fri Nov 27 07:26:40 2026"), e, MTIME, NOW));
    assert_true(rl_http_if_range_ok(rl_str_c(LM), e, MTIME, MTIME + 60));
    assert_false(rl_http_if_range_ok(rl_str_c(LM), e, MTIME, MTIME + 59));
    assert_false(rl_http_if_range_ok(rl_str_c(OLDER), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(rl_str_c(NEWER), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("garbage"), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR(""), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("   "), e, MTIME, NOW));
    assert_false(rl_http_if_range_ok(RL_STR("W/"), e, MTIME, NOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_format),
        cmocka_unit_test(test_etag_weak),
        cmocka_unit_test(test_etag_none_and_short),
        cmocka_unit_test(test_etag_real_file),
        cmocka_unit_test(test_etag_compare),
        cmocka_unit_test(test_etag_lists),
        cmocka_unit_test(test_no_preconditions),
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_if_unmodified_since),
        cmocka_unit_test(test_if_none_match),
        cmocka_unit_test(test_if_modified_since),
        cmocka_unit_test(test_if_modified_since_with_range),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_if_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
