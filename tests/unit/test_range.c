/* Tests for http/range. Unless marked "ours", every expectation below is what
 * Apache/2.4.71 answered for the same Range header on a 100-byte file (a
 * 1000-byte one for the MaxRanges cases): 206 with those ranges, 200 (the
 * header ignored: RL_DECLINED) or 416. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "http/range.h"

#define D RL_DECLINED

typedef struct {
    const char *header;
    int rc;
    unsigned n;
    rl_range_t r[3];
} range_case_t;

static void check(const range_case_t *c, uint64_t size)
{
    rl_range_t out[RL_RANGES_DEFAULT];
    unsigned n = 12345;
    int rc = rl_http_range_parse(rl_str_c(c->header), size, out, RL_RANGES_DEFAULT, &n);
    if (rc != c->rc)
        fail_msg("\"%s\": rc %d, expected %d", c->header, rc, c->rc);
    if (rc != RL_OK) {
        assert_int_equal(n, 0);
        return;
    }
    if (n != c->n)
        fail_msg("\"%s\": %u ranges, expected %u", c->header, n, c->n);
    for (unsigned i = 0; i < n; i++)
        if (out[i].start != c->r[i].start || out[i].end != c->r[i].end)
            fail_msg("\"%s\": range %u is %llu-%llu, expected %llu-%llu", c->header, i,
                     (unsigned long long)out[i].start, (unsigned long long)out[i].end,
                     (unsigned long long)c->r[i].start, (unsigned long long)c->r[i].end);
}

static void check_all(const range_case_t *cases, size_t n, uint64_t size)
{
    for (size_t i = 0; i < n; i++)
        check(&cases[i], size);
}

static void test_forms(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        { "bytes=0-499",  RL_OK, 1, { { 0, 99 } } },   /* end clamped */
        { "bytes=0-99",   RL_OK, 1, { { 0, 99 } } },   /* all of it: still 206 */
        { "bytes=0-0",    RL_OK, 1, { { 0, 0 } } },
        { "bytes=10-20",  RL_OK, 1, { { 10, 20 } } },
        { "bytes=01-02",  RL_OK, 1, { { 1, 2 } } },
        { "bytes=99-",    RL_OK, 1, { { 99, 99 } } },
        { "bytes=50-",    RL_OK, 1, { { 50, 99 } } },
        { "bytes=0-",     RL_OK, 1, { { 0, 99 } } },
        { "bytes=-1",     RL_OK, 1, { { 99, 99 } } },
        { "bytes=-5",     RL_OK, 1, { { 95, 99 } } },
        { "bytes=-100",   RL_OK, 1, { { 0, 99 } } },
        { "bytes=-200",   RL_OK, 1, { { 0, 99 } } },
        { "Bytes=0-1",    RL_OK, 1, { { 0, 1 } } },
        { "BYTES=0-1",    RL_OK, 1, { { 0, 1 } } },
        { "bytes=0-9223372036854775807",  RL_OK, 1, { { 0, 99 } } },
        { "bytes=-9223372036854775807",   RL_OK, 1, { { 0, 99 } } },
        { "bytes=0-10,20-30",     RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=0-10,,20-30",    RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=0-10,20-30,",    RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=0-10,20-30,,",   RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=-5,0-1",         RL_OK, 2, { { 95, 99 }, { 0, 1 } } },
        { "bytes=0-0,-1",         RL_OK, 2, { { 0, 0 }, { 99, 99 } } },
        { "bytes=0-0,2-2,4-4",    RL_OK, 3, { { 0, 0 }, { 2, 2 }, { 4, 4 } } },
    };
    check_all(cases, RL_NELEMS(cases), 100);
}

static void test_merging(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        { "bytes=0-50,40-99",      RL_OK, 1, { { 0, 99 } } },   /* overlap */
        { "bytes=0-1,2-3",         RL_OK, 1, { { 0, 3 } } },    /* adjacent */
        { "bytes=1-1,1-1",         RL_OK, 1, { { 1, 1 } } },    /* same */
        { "bytes=10-20,12-15",     RL_OK, 1, { { 10, 20 } } },  /* inside */
        { "bytes=10-20,0-9",       RL_OK, 1, { { 0, 20 } } },   /* reversed, adjacent */
        { "bytes=10-20,0-30",      RL_OK, 1, { { 0, 30 } } },   /* around */
        { "bytes=10-20,0-8",       RL_OK, 2, { { 10, 20 }, { 0, 8 } } },
        { "bytes=10-20,0-5",       RL_OK, 2, { { 10, 20 }, { 0, 5 } } },
        /* merged with the previous range only: the output overlaps */
        { "bytes=0-10,20-30,5-25", RL_OK, 2, { { 0, 10 }, { 5, 30 } } },
        { "bytes=0-10,20-30,25-40,50-60", RL_OK, 3, { { 0, 10 }, { 20, 40 }, { 50, 60 } } },
        { "bytes=50-,0-",          RL_OK, 1, { { 0, 99 } } },
        { "bytes=0-,50-",          RL_OK, 1, { { 0, 99 } } },
        /* "0-" wins over everything, even garbage after it */
        { "bytes=0-,garbage",      RL_OK, 1, { { 0, 99 } } },
        { "bytes=5-6,0-,x",        RL_OK, 1, { { 0, 99 } } },
        { "bytes=00-",             RL_OK, 1, { { 0, 99 } } },
        /* more than the whole file in total: ignored */
        { "bytes=0-10,20-99,5-90", D, 0, { { 0, 0 } } },
        { "bytes=0-10,50-99,5-60", D, 0, { { 0, 0 } } },
        { "bytes=0-60,0-5,50-99,10-20", RL_OK, 1, { { 0, 99 } } },
    };
    check_all(cases, RL_NELEMS(cases), 100);
}

static void test_unsatisfiable(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        { "bytes=100-",            416, 0, { { 0, 0 } } },
        { "bytes=100-200",         416, 0, { { 0, 0 } } },
        { "bytes=200-,300-",       416, 0, { { 0, 0 } } },
        { "bytes=9223372036854775807-", 416, 0, { { 0, 0 } } },
        { "bytes=200-300,0-1",     RL_OK, 1, { { 0, 1 } } },
        { "bytes=0-0,200-",        RL_OK, 1, { { 0, 0 } } },
        { "bytes=100-,99-",        RL_OK, 1, { { 99, 99 } } },
        /* a syntax error elsewhere beats unsatisfiable */
        { "bytes=200-,5-3",        D, 0, { { 0, 0 } } },
    };
    check_all(cases, RL_NELEMS(cases), 100);
}

static void test_garbage_and_overflow(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        { "",                      D, 0, { { 0, 0 } } },
        { "bytes",                 D, 0, { { 0, 0 } } },
        { "bytes=",                D, 0, { { 0, 0 } } },
        { "bytes=,",               D, 0, { { 0, 0 } } },
        { "items=0-1",             D, 0, { { 0, 0 } } },
        { "bytes =0-1",            D, 0, { { 0, 0 } } },
        { "bytes:0-1",             D, 0, { { 0, 0 } } },
        { "bytes=5",               D, 0, { { 0, 0 } } },
        { "bytes=-",               D, 0, { { 0, 0 } } },
        { "bytes=--5",             D, 0, { { 0, 0 } } },
        { "bytes=-0",              D, 0, { { 0, 0 } } },
        { "bytes=-00",             D, 0, { { 0, 0 } } },
        { "bytes=5-3",             D, 0, { { 0, 0 } } },
        { "bytes=1-0",             D, 0, { { 0, 0 } } },
        { "bytes=0--1",            D, 0, { { 0, 0 } } },
        { "bytes=1-2-3",           D, 0, { { 0, 0 } } },
        { "bytes=0x1-2",           D, 0, { { 0, 0 } } },
        { "bytes=+5-10",           D, 0, { { 0, 0 } } },
        { "bytes=0-+5",            D, 0, { { 0, 0 } } },
        { "bytes=0-1,-+5",         D, 0, { { 0, 0 } } },
        { "bytes=1 -2",            D, 0, { { 0, 0 } } },
        { "bytes=1- 2",            D, 0, { { 0, 0 } } },
        { "bytes=0-1;x",           D, 0, { { 0, 0 } } },
        { "bytes=0-1,x",           D, 0, { { 0, 0 } } },
        { "bytes=garbage,0-",      D, 0, { { 0, 0 } } },
        { "bytes=0-0,-0",          D, 0, { { 0, 0 } } },
        { "bytes=0-0,5-3",         D, 0, { { 0, 0 } } },
        { "bytes=0-9999999999999999999999",  D, 0, { { 0, 0 } } },
        { "bytes=9223372036854775808-",      D, 0, { { 0, 0 } } },
        { "bytes=-9223372036854775808",      D, 0, { { 0, 0 } } },
        { "bytes=0-18446744073709551616",    D, 0, { { 0, 0 } } },
        { "bytes=18446744073709551615-",     D, 0, { { 0, 0 } } },
    };
    check_all(cases, RL_NELEMS(cases), 100);

    /* a NUL inside the value is a bad byte, not an end */
    rl_range_t out[4];
    unsigned n;
    assert_int_equal(rl_http_range_parse(rl_str("bytes=0-1\0" "5", 11), 100, out, 4, &n), D);
    /* only the view counts */
    assert_int_equal(rl_http_range_parse(rl_str("bytes=0-1junk", 9), 100, out, 4, &n), RL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].end, 1);
}

/* Ours: RFC 9110 list syntax, which Apache 2.4.71 ignores (200). */
static void test_ows_ours(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        { "bytes=0-10, 20-30",     RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=0-10 ,20-30",     RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes=0-10 , \t20-30",  RL_OK, 2, { { 0, 10 }, { 20, 30 } } },
        { "bytes= 0-10",           RL_OK, 1, { { 0, 10 } } },
        { "bytes=,0-10",           RL_OK, 1, { { 0, 10 } } },
        { "bytes=0-1, ,2-3",       RL_OK, 1, { { 0, 3 } } },
    };
    check_all(cases, RL_NELEMS(cases), 100);
}

static void test_sizes(void **state)
{
    (void)state;
    rl_range_t out[4];
    unsigned n;
    /* an empty representation never gets ranges (Apache: 200) */
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=0-1"), 0, out, 4, &n), D);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=-1"), 0, out, 4, &n), D);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=0-"), 0, out, 4, &n), D);
    /* one byte */
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=0-0"), 1, out, 4, &n), RL_OK);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=-5"), 1, out, 4, &n), RL_OK);
    assert_int_equal(out[0].start, 0);
    assert_int_equal(out[0].end, 0);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=1-"), 1, out, 4, &n), 416);
    /* a large file */
    uint64_t big = 5000000000ULL;
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=4294967296-"), big, out, 4, &n), RL_OK);
    assert_int_equal(out[0].start, 4294967296ULL);
    assert_int_equal(out[0].end, big - 1);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=-1000000000"), big, out, 4, &n), RL_OK);
    assert_int_equal(out[0].start, 4000000000ULL);
    /* the total of the lengths cannot wrap around */
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=1-2,-9223372036854775807,4-5,"
                                                "-9223372036854775807"),
                                         UINT64_MAX - 10, out, 4, &n), D);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=1-2,-9223372036854775807,4-5"),
                                         UINT64_MAX - 10, out, 4, &n), RL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[1].start, 9223372036854775798ULL);
    assert_int_equal(out[1].end, UINT64_MAX - 11);
}

static char *spec_list(char *buf, size_t len, unsigned n, unsigned step, int dir, unsigned first)
{
    size_t off = (size_t)snprintf(buf, len, "bytes=");
    for (unsigned i = 0; i < n; i++) {
        unsigned b = first + (unsigned)dir * i * step;
        off += (size_t)snprintf(buf + off, len - off, "%s%u-%u", i ? "," : "", b, b);
    }
    return buf;
}

static void test_limits(void **state)
{
    (void)state;
    static char buf[8192];
    static rl_range_t out[300];
    unsigned n;

    /* MaxRanges 200: 200 disjoint ranges are served, 201 are not */
    spec_list(buf, sizeof(buf), 200, 2, 1, 0);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 1000, out, 200, &n), RL_OK);
    assert_int_equal(n, 200);
    assert_int_equal(out[199].start, 398);
    spec_list(buf, sizeof(buf), 201, 2, 1, 0);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 1000, out, 200, &n), D);
    /* ... but 201 specs merging into one are fine (overlaps aside) */
    spec_list(buf, sizeof(buf), 20, 1, 1, 0);   /* 0-0,1-1,...: 19 merges */
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 1000, out, 1, &n), RL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].end, 19);

    /* MaxRangeOverlaps 20: 21 specs "0-0" merge 20 times, 22 specs 21 times */
    spec_list(buf, sizeof(buf), 21, 0, 1, 0);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), RL_OK);
    spec_list(buf, sizeof(buf), 22, 0, 1, 0);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), D);
    /* the counters survive a "0-" */
    strcat(buf, ",0-");
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), D);
    /* growing upwards merges too: 22 adjacent specs, 21 overlaps */
    spec_list(buf, sizeof(buf), 22, 1, 1, 50);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), D);
    /* MaxRangeReversals: 50-50,49-49,... */
    spec_list(buf, sizeof(buf), 21, 1, -1, 50);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), RL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].start, 30);
    assert_int_equal(out[0].end, 50);
    spec_list(buf, sizeof(buf), 22, 1, -1, 50);
    assert_int_equal(rl_http_range_parse(rl_str_c(buf), 100, out, 200, &n), D);

    /* explicit limits */
    rl_range_limits_t lim = { RL_RANGES_UNLIMITED, RL_RANGES_UNLIMITED, 20 };
    spec_list(buf, sizeof(buf), 22, 0, 1, 0);
    assert_int_equal(rl_http_range_parse_ex(rl_str_c(buf), 100, &lim, out, 300, &n), RL_OK);
    spec_list(buf, sizeof(buf), 22, 1, -1, 50);
    assert_int_equal(rl_http_range_parse_ex(rl_str_c(buf), 100, &lim, out, 300, &n), D);
    lim.max_reversals = RL_RANGES_UNLIMITED;
    assert_int_equal(rl_http_range_parse_ex(rl_str_c(buf), 100, &lim, out, 300, &n), RL_OK);
    spec_list(buf, sizeof(buf), 250, 2, 1, 0);
    assert_int_equal(rl_http_range_count(rl_str_c(buf)), 250);
    assert_int_equal(rl_http_range_parse_ex(rl_str_c(buf), 1000, &lim, out, 300, &n), RL_OK);
    assert_int_equal(n, 250);
    /* room for fewer than there are: declined, nothing written past <cap> */
    out[10] = (rl_range_t){ 7, 7 };
    assert_int_equal(rl_http_range_parse_ex(rl_str_c(buf), 1000, &lim, out, 10, &n), D);
    assert_int_equal(out[10].start, 7);

    /* MaxRanges none (0): ranges are ignored, but an unsatisfiable header
     * still gets its 416 -- Apache's order of checks */
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=0-1"), 100, out, 0, &n), D);
    assert_int_equal(rl_http_range_parse(RL_STR("bytes=200-"), 100, out, 0, &n), 416);

    assert_int_equal(rl_http_range_count(RL_STR("bytes=0-1")), 1);
    assert_int_equal(rl_http_range_count(RL_STR("")), 1);
    assert_int_equal(rl_http_range_count(RL_STR("bytes=,,")), 3);
}

static void test_content_range(void **state)
{
    (void)state;
    char out[RL_CONTENT_RANGE_MAX];
    assert_int_equal(rl_http_content_range(out, &(rl_range_t){ 0, 4 }, 100), 13);
    assert_string_equal(out, "bytes 0-4/100");
    rl_http_content_range(out, &(rl_range_t){ 18446744073709551614ULL, 18446744073709551614ULL },
                          18446744073709551615ULL);
    assert_string_equal(out, "bytes 18446744073709551614-18446744073709551614/18446744073709551615");
    assert_int_equal(rl_http_content_range_unsatisfied(out, 100), 11);
    assert_string_equal(out, "bytes */100");
}

static void test_boundary(void **state)
{
    (void)state;
    char b[RL_BOUNDARY_MAX + 1];
    assert_int_equal(rl_http_multipart_boundary(b, 0x259a2accdc69722dULL), 16);
    assert_string_equal(b, "259a2accdc69722d");
    assert_int_equal(rl_http_multipart_boundary(b, 0xabcULL), 3);
    assert_string_equal(b, "abc");
    assert_int_equal(rl_http_multipart_boundary(b, 0), 1);
    assert_string_equal(b, "0");
    assert_int_equal(rl_http_multipart_boundary(b, UINT64_MAX), 16);
    assert_string_equal(b, "ffffffffffffffff");
}

static void build(rl_buf_t *out, const char *boundary, const char *type,
                  const rl_range_t *r, unsigned n, const char *data, uint64_t size)
{
    for (unsigned i = 0; i < n; i++) {
        rl_http_multipart_part_head(out, boundary, type, &r[i], size);
        rl_buf_append(out, data + r[i].start, r[i].end - r[i].start + 1);
    }
    rl_http_multipart_end(out, boundary);
}

/* The body Apache sent for "Range: bytes=0-0,2-2" on a 100-byte text/plain
 * file, Content-Length: 186, and on the 6-byte index.html ("hello\n"),
 * Content-Length: 180. */
static void test_multipart_captured(void **state)
{
    (void)state;
    char data[100];
    memset(data, '.', sizeof(data));
    data[0] = 'L';
    data[2] = 'D';
    const rl_range_t r[2] = { { 0, 0 }, { 2, 2 } };
    rl_buf_t b = RL_BUF_INIT;

    build(&b, "259a2accdc69722d", "text/plain", r, 2, data, 100);
    static const char expected[] =
        "\r\n--259a2accdc69722d\r\n"
        "Content-type: text/plain\r\n"
        "Content-range: bytes 0-0/100\r\n"
        "\r\n"
        "L"
        "\r\n--259a2accdc69722d\r\n"
        "Content-type: text/plain\r\n"
        "Content-range: bytes 2-2/100\r\n"
        "\r\n"
        "D"
        "\r\n--259a2accdc69722d--\r\n";
    assert_int_equal(b.len, sizeof(expected) - 1);
    assert_memory_equal(b.data, expected, b.len);
    assert_int_equal(b.len, 186);
    assert_int_equal(rl_http_multipart_length("259a2accdc69722d", "text/plain", r, 2, 100), 186);

    rl_buf_clear(&b);
    build(&b, "259a2accdc69722d", "text/html", r, 2, "hello\n", 6);
    static const char expected_html[] =
        "\r\n--259a2accdc69722d\r\n"
        "Content-type: text/html\r\n"
        "Content-range: bytes 0-0/6\r\n"
        "\r\n"
        "h"
        "\r\n--259a2accdc69722d\r\n"
        "Content-type: text/html\r\n"
        "Content-range: bytes 2-2/6\r\n"
        "\r\n"
        "l"
        "\r\n--259a2accdc69722d--\r\n";
    assert_int_equal(b.len, 180);
    assert_memory_equal(b.data, expected_html, b.len);
    assert_int_equal(rl_http_multipart_length("259a2accdc69722d", "text/html", r, 2, 6), 180);
    rl_buf_release(&b);
}

static void test_multipart_length(void **state)
{
    (void)state;
    static char data[123457];
    memset(data, 'x', sizeof(data));
    rl_buf_t b = RL_BUF_INIT;
    const rl_range_t sets[][3] = {
        { { 0, 0 }, { 9, 10 }, { 99, 99 } },
        { { 5, 9999 }, { 0, 123456 }, { 123455, 123456 } },
        { { 100, 100 }, { 1000, 1000 }, { 10000, 10001 } },
    };
    const char *types[] = { "text/html", NULL, "application/octet-stream; charset=x" };
    const char *bounds[] = { "0", "abc", "ffffffffffffffff" };
    for (size_t s = 0; s < RL_NELEMS(sets); s++)
        for (size_t t = 0; t < RL_NELEMS(types); t++)
            for (size_t k = 0; k < RL_NELEMS(bounds); k++)
                for (unsigned n = 0; n <= 3; n++) {
                    rl_buf_clear(&b);
                    build(&b, bounds[k], types[t], sets[s], n, data, sizeof(data));
                    assert_int_equal(rl_http_multipart_length(bounds[k], types[t], sets[s],
                                                              n, sizeof(data)), b.len);
                }
    /* without a type there is no Content-type line */
    rl_buf_clear(&b);
    rl_http_multipart_part_head(&b, "b", NULL, &(rl_range_t){ 1, 2 }, 10);
    rl_buf_append(&b, "", 1);
    assert_string_equal(b.data, "\r\n--b\r\nContent-range: bytes 1-2/10\r\n\r\n");
    /* sizes past 4 GiB */
    const rl_range_t big[2] = { { 0, 0 }, { 4999999999ULL, 4999999999ULL } };
    assert_int_equal(rl_http_multipart_length("b", "t/t", big, 2, 5000000000ULL),
                     2 * (sizeof("\r\n--b\r\nContent-type: t/t\r\nContent-range: bytes -/5000000000\r\n\r\n") - 1)
                     + 1 + 1 + 10 + 10   /* digits */
                     + 2                 /* bytes */
                     + (sizeof("\r\n--b--\r\n") - 1));
    rl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_merging),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_garbage_and_overflow),
        cmocka_unit_test(test_ows_ours),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_content_range),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_multipart_captured),
        cmocka_unit_test(test_multipart_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
