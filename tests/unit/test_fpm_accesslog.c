/* Unit tests for src/fpm/accesslog.c: php-fpm 8.2's access.log lines.
 *
 * The expected lines are those php-fpm 8.2.36 (Debian's php-fpm8.2) wrote
 * for the same requests and formats (captured 27-Nov-2026, TZ=UTC): pools
 * "dflt" (the default format), "fa", "fb", "fe" (a unix socket) below,
 * requests to /hello.php (header("X-Test: v1"); header("X-Empty:");
 * http_response_code(201)), /sleep.php?t=1 and a missing /nofile.php. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpm/accesslog.h"
#include "fpm/conf.h"

#define T_12_27_35 1795782455ull      /* 27/Nov/2026:12:27:35 +0000 */

#define FORMAT_A "%C %{user}C %{system}C %{TOTAL}C %d %{mili}d %{milliseconds}d %{micro}d " \
                 "%{seconds}d %{MICRO}d %f %l %m %M %{kilo}M %{mega}M %{bytes}M %{KiloBytes}M " \
                 "%n %p %P %q %Q %r %R %s %u %% %"
#define FORMAT_B "%t|%T|%{%Y-%m-%d %H:%M:%S}t|%{%s}T|%{REQUEST_URI}e|%{NOPE}e|%{EMPTYP}e|" \
                 "%{X-Test}o|%{Content-type}o|%{Content-Type}o|%{X-Empty}o|%{x-test}o|%{Test}o|" \
                 "%{}t|%{%%}t|{x}"

typedef struct {
    const char *const *pairs;      /* name, value, ..., NULL */
} table_t;

static const char *param(void *ctx, const char *name)
{
    const table_t *t = ctx;
    for (const char *const *p = t->pairs; p && *p; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

/* The lines the script's header() calls left, php-fpm's way. */
static const char *header(void *ctx, const char *name)
{
    const table_t *t = ctx;
    for (const char *const *p = t->pairs; p && *p; p++) {
        const char *v = rl_fpm_access_header_value(*p, name);
        if (v)
            return v;
    }
    return NULL;
}

typedef struct {
    rl_fpm_slot_t slot;
    rl_fpm_access_t a;
    table_t params, headers;
    rl_buf_t out;
    int rc;
} fx_t;

static const char *const hello_params[] = {
    "REQUEST_URI", "/hello.php?a=1&b=<2>", "EMPTYP", "", "HTTP_HOST", "example.org",
    "REMOTE_ADDR", "10.1.2.3", NULL,
};
static const char *const hello_headers[] = { "X-Test: v1", "X-Empty:", NULL };

/* /hello.php?a=1&b=<2> with "alice", as php-fpm's pool fa saw it. */
static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    rl_fpm_slot_t *s = &f->slot;
    s->pid = 27743;
    s->requests = 1;
    s->accepted_us = T_12_27_35 * 1000000ull + 120000;
    s->duration_us = 762;
    s->content_length = 3;
    s->memory = 2097152;
    s->status = 201;
    strcpy(s->method, "GET");
    strcpy(s->request_uri, "/hello.php");
    strcpy(s->query, "a=1&b=<2>");
    strcpy(s->script, "/tmp/hstat/www/hello.php");
    strcpy(s->auth_user, "alice");
    f->params.pairs = hello_params;
    f->headers.pairs = hello_headers;
    f->a = (rl_fpm_access_t){
        .pool = "fa", .slot = s, .ppid = 27740, .peer = "127.0.0.1",
        .now_us = T_12_27_35 * 1000000ull + 900000,
        .param = param, .param_ctx = &f->params, .header = header, .header_ctx = &f->headers,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    rl_buf_release(&f->out);
    free(f);
    return 0;
}

/* The line <format> gives, NUL-terminated (check f->out.len for NULs). */
static const char *line(fx_t *f, const char *format)
{
    rl_buf_clear(&f->out);
    f->rc = rl_fpm_access_format(format, &f->a, &f->out);
    size_t len = f->out.len;
    rl_buf_append(&f->out, "", 1);
    f->out.len = len;
    return f->out.data ? f->out.data : "";
}

static void test_default(void **state)
{
    fx_t *f = *state;
    assert_string_equal(line(f, RL_FPM_ACCESS_FORMAT_DEFAULT),
                        "127.0.0.1 - alice 27/Nov/2026:12:27:35 +0000 \"GET /hello.php\" 201\n");
    assert_int_equal(f->rc, RL_OK);
    assert_string_equal(line(f, NULL), "127.0.0.1 - alice 27/Nov/2026:12:27:35 +0000 \"GET /hello.php\" 201\n");
    /* no user: two spaces */
    f->slot.auth_user[0] = '\0';
    strcpy(f->slot.method, "POST");
    strcpy(f->slot.request_uri, "/nofile.php");
    f->slot.status = 404;
    assert_string_equal(line(f, RL_FPM_ACCESS_FORMAT_DEFAULT),
                        "127.0.0.1 -  27/Nov/2026:12:27:35 +0000 \"POST /nofile.php\" 404\n");
}

static void test_tokens(void **state)
{
    fx_t *f = *state;
    assert_string_equal(line(f, FORMAT_A),
        "0.00 0.00 0.00 0.00 0.001 0.762 0.762 762 0.001 762 /tmp/hstat/www/hello.php 3 GET 2097152 "
        "2048 2 2097152 2048 fa 27743 27740 a=1&b=<2> ? /hello.php 127.0.0.1 201 alice % \n");

    /* /sleep.php?t=1, a second */
    rl_fpm_slot_t *s = &f->slot;
    s->duration_us = 1003550;
    s->content_length = 0;
    s->memory = 5099520;
    s->status = 200;
    s->auth_user[0] = '\0';
    strcpy(s->request_uri, "/sleep.php");
    strcpy(s->query, "t=1");
    strcpy(s->script, "/tmp/hstat/www/sleep.php");
    assert_string_equal(line(f, FORMAT_A),
        "0.00 0.00 0.00 0.00 1.004 1003.550 1003.550 1003550 1.004 1003550 /tmp/hstat/www/sleep.php 0 "
        "GET 5099520 4980 4 5099520 4980 fa 27743 27740 t=1 ? /sleep.php 127.0.0.1 200  % \n");

    /* POST /nofile.php: no script, no query */
    s->duration_us = 111;
    s->memory = 2097152;
    s->status = 404;
    s->query[0] = s->script[0] = '\0';
    strcpy(s->method, "POST");
    strcpy(s->request_uri, "/nofile.php");
    assert_string_equal(line(f, FORMAT_A),
        "0.00 0.00 0.00 0.00 0.000 0.111 0.111 111 0.000 111 - 0 POST 2097152 2048 2 2097152 2048 fa "
        "27743 27740   /nofile.php 127.0.0.1 404  % \n");
}

static void test_cpu(void **state)
{
    fx_t *f = *state;
    f->slot.cpu = 12.345;
    f->a.cpu_user = 10.004;
    f->a.cpu_system = 2.341;
    assert_string_equal(line(f, "%C|%{total}C|%{user}C|%{SYSTEM}C"), "12.35|12.35|10.00|2.34\n");
}

static void test_time_env_headers(void **state)
{
    fx_t *f = *state;
    f->slot.accepted_us = (T_12_27_35 + 2) * 1000000ull;
    f->a.now_us = (T_12_27_35 + 2) * 1000000ull + 1000;
    assert_string_equal(line(f, FORMAT_B),
        "27/Nov/2026:12:27:37 +0000|27/Nov/2026:12:27:37 +0000|2026-11-27 12:27:37|1795782457|"
        "/hello.php?a=1&b=<2>|-||v1|-|-|-|-|-|27/Nov/2026:12:27:37 +0000|%|{x}\n");
    /* %t is when the request came, %T when the line is written */
    f->a.now_us = (T_12_27_35 + 3) * 1000000ull;
    assert_string_equal(line(f, "%t|%T|%{%s}T"), "27/Nov/2026:12:27:37 +0000|27/Nov/2026:12:27:38 +0000|1795782458\n");
}

/* On a unix socket there is no peer address. */
static void test_unix_peer(void **state)
{
    fx_t *f = *state;
    f->a.peer = NULL;
    f->a.pool = "fe";
    static const char *const p[] = { "HTTP_HOST", "h.example", NULL };
    f->params.pairs = p;
    assert_string_equal(line(f, "%R|%n|%{HTTP_HOST}e"), "-|fe|h.example\n");
    f->a.pool = "";
    f->a.param = NULL;
    assert_string_equal(line(f, "%n|%{HTTP_HOST}e"), "-|-\n");
}

/* php-fpm's buffer: 1024 bytes. A token that overflows is cut by
 * snprintf(), whose NUL stays as the 1024th byte. */
static void test_truncation(void **state)
{
    fx_t *f = *state;
    static char uri[1600];
    static const char *p[] = { "REQUEST_URI", uri, NULL };
    f->params.pairs = p;

    memset(uri, 'v', 1500);
    uri[1500] = '\0';
    line(f, "%{REQUEST_URI}e");
    assert_int_equal(f->rc, RL_FPM_ACCESS_TRUNCATED);
    assert_int_equal(f->out.len, 1025);
    assert_int_equal(f->out.data[1022], 'v');
    assert_int_equal(f->out.data[1023], '\0');
    assert_int_equal(f->out.data[1024], '\n');

    uri[1023] = '\0';                          /* fits: 1023 bytes */
    line(f, "%{REQUEST_URI}e");
    assert_int_equal(f->rc, RL_OK);
    assert_int_equal(f->out.len, 1024);
    assert_int_equal(f->out.data[1023], '\n');

    memset(uri, 'x', 1024);                    /* one too many, at the end */
    uri[1024] = '\0';
    line(f, "%{REQUEST_URI}e");
    assert_int_equal(f->rc, RL_FPM_ACCESS_TRUNCATED);
    assert_int_equal(f->out.len, 1025);
    assert_int_equal(f->out.data[1023], '\0');

    /* after text: "/sleep.php?t=1uuu..." then "|%s" never comes */
    memcpy(uri, "/sleep.php?t=1", 14);
    memset(uri + 14, 'u', 1500);
    uri[1514] = '\0';
    line(f, "%{REQUEST_URI}e|%s");
    assert_int_equal(f->out.len, 1025);
    assert_memory_equal(f->out.data + 1020, "uuu\0\n", 5);

    /* literal text is cut at 1024 bytes, no NUL */
    char fmt[1200];
    memset(fmt, 'L', 1100);
    strcpy(fmt + 1100, "%sEND");
    line(f, fmt);
    assert_int_equal(f->rc, RL_FPM_ACCESS_TRUNCATED);
    assert_int_equal(f->out.len, 1025);
    assert_int_equal(f->out.data[1023], 'L');
    assert_int_equal(f->out.data[1024], '\n');
}

/* An empty line is not written; a lone '%' at the end writes nothing. */
static void test_empty(void **state)
{
    fx_t *f = *state;
    static const char *const p[] = { "REQUEST_URI", "", "ONE", "y", NULL };
    f->params.pairs = p;
    assert_string_equal(line(f, "%{REQUEST_URI}e"), "");
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->rc, RL_OK);
    assert_string_equal(line(f, "%{REQUEST_URI}e%{ONE}e"), "y\n");
    assert_string_equal(line(f, "%"), "");
    assert_string_equal(line(f, "a%"), "a\n");
}

static void test_header_value(void **state)
{
    (void)state;
    assert_string_equal(rl_fpm_access_header_value("X-Test: v1", "X-Test"), "v1");
    assert_null(rl_fpm_access_header_value("x-test: v1", "X-Test"));
    assert_null(rl_fpm_access_header_value("X-Test:v1", "X-Test"));
    assert_null(rl_fpm_access_header_value("X-Test: ", "X-Test"));
    assert_null(rl_fpm_access_header_value("X-Test:", "X-Test"));
    assert_null(rl_fpm_access_header_value("X-Testing: a", "X-Test"));
    assert_null(rl_fpm_access_header_value("X-Tes", "X-Test"));
    /* php-fpm's test looks for the name anywhere in the line */
    assert_string_equal(rl_fpm_access_header_value("Xy: Foo", "Fo"), "Foo");
}

static void discard(void *ctx, const char *l, size_t len)
{
    (void)ctx;
    (void)l;
    (void)len;
}

/* Formats php-fpm refuses give nothing, and exactly those are the ones
 * rl_fpm_access_format_check() refuses. */
static void test_refused(void **state)
{
    fx_t *f = *state;
    static const struct { const char *format; bool ok; } cases[] = {
        { "%{}e", false }, { "%{}o", false }, { "%e", false }, { "%x", false }, { "%{abc}", false },
        { "%{abc", false }, { "%{a}q", false }, { "%{hours}d", false }, { "%{giga}M", false },
        { "%{idle}C", false }, { "%{x}%", false }, { "a %{x}s b", false },
        { "%{}d", true }, { "%{}t", true }, { "%{a}{b}t", true }, { "%{Foo}o|%{BAR}e", true },
        { "%{MILLI}d %{Mega}M %{User}C", true }, { "100%%", true }, { "", true },
    };
    rl_zlog_t log;
    rl_zlog_init(&log);
    log.sink = discard;
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        rl_buf_clear(&f->out);
        rl_buf_append_c(&f->out, "keep");
        int rc = rl_fpm_access_format(cases[i].format, &f->a, &f->out);
        if ((rc != RL_ERROR) != cases[i].ok)
            fail_msg("format '%s': %d", cases[i].format, rc);
        if (!cases[i].ok && f->out.len != 4)
            fail_msg("format '%s' appended", cases[i].format);
        bool checked = rl_fpm_access_format_check(&log, cases[i].format) == RL_OK;
        if (checked != cases[i].ok)
            fail_msg("format '%s': the check says %d", cases[i].format, checked);
    }
    rl_zlog_close(&log);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_env_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test(test_header_value),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
