/* Tests for http/date: IMF-fixdate formatting, the three HTTP-date forms,
 * the per-second Date cache and Apache's two log time formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/date.h"

static void check_format(time_t t, const char *expected)
{
    char out[RL_HTTP_DATE_LEN + 1];
    memset(out, 'x', sizeof(out));
    assert_int_equal(rl_http_date_format(t, out), RL_HTTP_DATE_LEN);
    assert_string_equal(out, expected);
}

static void test_format(void **state)
{
    (void)state;
    check_format(0, "Thu, 01 Jan 1970 00:00:00 GMT");
    check_format(784111777, "Sun, 06 Nov 1994 08:49:37 GMT");
    check_format(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
    check_format(951782400 - 1, "Mon, 28 Feb 2000 23:59:59 GMT");
    check_format(1709208000, "Thu, 29 Feb 2024 12:00:00 GMT");
    check_format(946684799, "Fri, 31 Dec 1999 23:59:59 GMT");
    check_format(1795755687, "Fri, 27 Nov 2026 05:01:27 GMT");
    check_format(2147483647, "Tue, 19 Jan 2038 03:14:07 GMT");
    check_format((time_t)2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT");
    check_format(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
    check_format(-86400, "Wed, 31 Dec 1969 00:00:00 GMT");
    check_format((time_t)253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT");
    /* clamped */
    check_format((time_t)253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT");
    check_format((time_t)INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT");
    check_format((time_t)-62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT");
    check_format((time_t)INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT");
}

/* Agrees with gmtime_r() + strftime() in the C locale, second by second
 * around interesting days and on a spread of times up to 2100. */
static void test_format_matches_libc(void **state)
{
    (void)state;
    char ours[RL_HTTP_DATE_LEN + 1], libc[64];
    for (int64_t t = -90000; t < 5000000000LL; t += 86399 * 7 + 12345) {
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(libc, sizeof(libc), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        rl_http_date_format(tt, ours);
        assert_string_equal(ours, libc);
    }
}

static time_t parse_ok(const char *s)
{
    time_t t = 12345;
    if (!rl_http_date_parse(rl_str_c(s), &t))
        fail_msg("refused: \"%s\"", s);
    return t;
}

static void parse_bad(const char *s)
{
    time_t t = 12345;
    if (rl_http_date_parse(rl_str_c(s), &t))
        fail_msg("accepted: \"%s\"", s);
    assert_int_equal(t, 12345);
}

static void test_parse_three_forms(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    assert_int_equal(parse_ok("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    assert_int_equal(parse_ok("Sun Nov  6 08:49:37 1994"), 784111777);
    assert_int_equal(parse_ok("Sun Nov 06 08:49:37 1994"), 784111777);
    /* every month, day and long name */
    assert_int_equal(parse_ok("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    assert_int_equal(parse_ok("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    assert_int_equal(parse_ok("Thu Jan  1 00:00:00 1970"), 0);
    assert_int_equal(parse_ok("Monday, 28-Feb-00 23:59:59 GMT"), 951782399);
    assert_int_equal(parse_ok("Tuesday, 29-Feb-00 00:00:00 GMT"), 951782400);
    assert_int_equal(parse_ok("Wednesday, 31-Dec-99 23:59:59 GMT"), 946684799);
    assert_int_equal(parse_ok("Friday, 27-Nov-26 05:01:27 GMT"), 1795755687);
    assert_int_equal(parse_ok("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
    assert_int_equal(parse_ok("Fri Nov 27 05:01:27 2026"), 1795755687);
    assert_int_equal(parse_ok("Fri, 06 Mar 2026 00:00:00 GMT"), 1772755200);
    assert_int_equal(parse_ok("Fri Mar  6 00:00:00 2026"), 1772755200);
    static const char *const months[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
    };
    for (int m = 0; m < 12; m++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "Mon, 15 %s 2001 12:00:00 GMT", months[m]);
        struct tm tm = { .tm_year = 101, .tm_mon = m, .tm_mday = 15, .tm_hour = 12 };
        assert_int_equal(parse_ok(buf), timegm(&tm));
    }
    /* surrounding blanks are not part of the value */
    assert_int_equal(parse_ok("  \tSun, 06 Nov 1994 08:49:37 GMT \t"), 784111777);
    /* the day name is not checked against the date (as APR) */
    assert_int_equal(parse_ok("Mon, 06 Nov 1994 08:49:37 GMT"), 784111777);
    /* a leap second rolls over */
    assert_int_equal(parse_ok("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);
    assert_int_equal(parse_ok("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL);
}

static void test_parse_two_digit_years(void **state)
{
    (void)state;
    /* APR's rule: 70..99 -> 19xx, 00..69 -> 20xx */
    assert_int_equal(parse_ok("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    assert_int_equal(parse_ok("Friday, 31-Dec-99 00:00:00 GMT"), 946598400);
    assert_int_equal(parse_ok("Tuesday, 01-Jan-69 00:00:00 GMT"), 3124224000LL);
    assert_int_equal(parse_ok("Sunday, 29-Feb-04 00:00:00 GMT"), 1078012800);
}

static void test_parse_leap_years(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
    assert_int_equal(parse_ok("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    assert_int_equal(parse_ok("Thu Feb 29 12:00:00 2024"), 1709208000);
    assert_int_equal(parse_ok("Tue, 29 Feb 2400 00:00:00 GMT"), 13574563200LL);
    parse_bad("Wed, 29 Feb 2023 12:00:00 GMT");
    parse_bad("Mon, 29 Feb 2100 00:00:00 GMT");   /* century, not leap */
    parse_bad("Mon, 29 Feb 1900 00:00:00 GMT");
    parse_bad("Thursday, 29-Feb-01 00:00:00 GMT");
    parse_bad("Wed Feb 29 00:00:00 2023");
    parse_bad("Fri, 30 Feb 2024 00:00:00 GMT");
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "   ", "GMT", "0", "784111777",
        "Sun, 06 Nov 1994 08:49:37",              /* no zone */
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 06 Nov 1994 08:49:37 GMT; length=3",
        "Sun, 6 Nov 1994 08:49:37 GMT",           /* 1-digit day */
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Now 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Foo, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",       /* long name, IMF body */
        "Sun, 06-Nov-94 08:49:37 GMT",            /* short name, RFC 850 body */
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sun Nov 6 08:49:37 1994",                /* asctime needs 2 columns */
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sunday Nov  6 08:49:37 1994",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Apr 1994 08:49:37 GMT",
        "Sun, 31 Jun 1994 08:49:37 GMT",
        "Sun, 31 Sep 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 32 Jan 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov 1994 08:49:3a GMT",
        "Sun, 06 Nov 199 08:49:37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT",          /* before 1970: APR refuses */
        "Mon, 01 Jan 0001 00:00:00 GMT",
    };
    for (size_t i = 0; i < RL_NELEMS(bad); i++)
        parse_bad(bad[i]);

    /* every truncation of valid dates */
    static const char *const good[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    };
    for (size_t i = 0; i < RL_NELEMS(good); i++) {
        size_t len = strlen(good[i]);
        for (size_t n = 0; n < len; n++) {
            time_t t = 1;
            if (rl_http_date_parse(rl_str(good[i], n), &t))
                fail_msg("accepted %zu bytes of \"%s\"", n, good[i]);
        }
    }
    /* not NUL-terminated: only the view counts */
    time_t t;
    assert_true(rl_http_date_parse(rl_str("Sun, 06 Nov 1994 08:49:37 GMTXYZ", 29), &t));
    assert_int_equal(t, 784111777);
    /* an embedded NUL is just a bad byte */
    assert_false(rl_http_date_parse(rl_str("Sun, 06 Nov 1994 08:49:37 G\0T", 29), &t));
}

static void test_round_trip(void **state)
{
    (void)state;
    char buf[RL_HTTP_DATE_LEN + 1];
    for (int64_t t = 0; t < 253402300799LL; t = t * 3 + 7777) {
        rl_http_date_format((time_t)t, buf);
        assert_int_equal(parse_ok(buf), t);
    }
    for (int64_t t = 0; t < 4102444800LL; t += 6999881) {   /* to 2100 */
        rl_http_date_format((time_t)t, buf);
        assert_int_equal(parse_ok(buf), t);
    }
}

static void test_date_now_cache(void **state)
{
    (void)state;
    const char *a = rl_http_date_now(784111777);
    assert_string_equal(a, "Sun, 06 Nov 1994 08:49:37 GMT");
    const char *b = rl_http_date_now(784111777);
    assert_ptr_equal(a, b);
    b = rl_http_date_now(784111778);
    assert_string_equal(b, "Sun, 06 Nov 1994 08:49:38 GMT");
    assert_string_equal(rl_http_date_now(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* The log formats use the local zone. POSIX TZ strings need no tzdata.
 * The cache is per second, so each zone is tried on its own timestamp. */
static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_log_time(void **state)
{
    (void)state;
    char out[RL_LOG_TIME_LEN + 1];
    set_tz("UTC0");
    assert_int_equal(rl_log_time_format(1795755687, 123456, out), RL_LOG_TIME_LEN);
    assert_string_equal(out, "Fri Nov 27 05:01:27.123456 2026");
    assert_int_equal(strlen(out), RL_LOG_TIME_LEN);
    /* same second: cached, other microseconds */
    rl_log_time_format(1795755687, 7, out);
    assert_string_equal(out, "Fri Nov 27 05:01:27.000007 2026");
    rl_log_time_format(1772755200, 999999, out);
    assert_string_equal(out, "Fri Mar 06 00:00:00.999999 2026");   /* day zero-padded */
    rl_log_time_format(784111777, -5, out);
    assert_string_equal(out, "Sun Nov 06 08:49:37.000000 1994");
    rl_log_time_format(784111778, 1000000, out);
    assert_string_equal(out, "Sun Nov 06 08:49:38.000000 1994");

    set_tz("CET-1");
    rl_log_time_format(1795755688, 500000, out);
    assert_string_equal(out, "Fri Nov 27 06:01:28.500000 2026");
    set_tz("EST5");
    rl_log_time_format(1795755689, 0, out);
    assert_string_equal(out, "Fri Nov 27 00:01:29.000000 2026");
    set_tz("EST10");
    rl_log_time_format(1795755690, 0, out);
    assert_string_equal(out, "Thu Nov 26 19:01:30.000000 2026");
    set_tz("UTC0");
}

static void test_clf_time(void **state)
{
    (void)state;
    char out[RL_CLF_TIME_LEN + 1];
    set_tz("UTC0");
    assert_int_equal(rl_clf_time_format(1795755687, out), RL_CLF_TIME_LEN);
    assert_string_equal(out, "[27/Nov/2026:05:01:27 +0000]");
    rl_clf_time_format(1772755200, out);
    assert_string_equal(out, "[06/Mar/2026:00:00:00 +0000]");
    set_tz("CET-1");
    rl_clf_time_format(1795755701, out);
    assert_string_equal(out, "[27/Nov/2026:06:01:41 +0100]");
    set_tz("EST5");
    rl_clf_time_format(1795755702, out);
    assert_string_equal(out, "[27/Nov/2026:00:01:42 -0500]");
    set_tz("IST-5:30");
    rl_clf_time_format(1795755703, out);
    assert_string_equal(out, "[27/Nov/2026:10:31:43 +0530]");
    set_tz("NST3:30");
    rl_clf_time_format(1795755704, out);
    assert_string_equal(out, "[27/Nov/2026:01:31:44 -0330]");
    set_tz("XXX-14");
    rl_clf_time_format(1795755705, out);
    assert_string_equal(out, "[27/Nov/2026:19:01:45 +1400]");
    set_tz("UTC0");
    rl_clf_time_format(0, out);
    assert_string_equal(out, "[01/Jan/1970:00:00:00 +0000]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_matches_libc),
        cmocka_unit_test(test_parse_three_forms),
        cmocka_unit_test(test_parse_two_digit_years),
        cmocka_unit_test(test_parse_leap_years),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_date_now_cache),
        cmocka_unit_test(test_log_time),
        cmocka_unit_test(test_clf_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
