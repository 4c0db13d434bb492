/* Unit tests for src/http/expr.c: Apache's ap_expr.
 *
 * Unless a comment says otherwise, every expected result and every error
 * message here was first obtained from Debian's Apache 2.4.71, with the
 * expression in a `<If "...">` (apache2 -t for the messages) or in
 * `Header always set X-T "1" "expr=..."` for the results, on a request
 * "GET /x?q=1" from 127.0.0.1 with "X-Test: Hello" and "User-Agent: UA/1". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "http/expr.h"

/* ---- a request for the variable callback --------------------------------- */

#define MAX_VARS 32

static struct {
    const char *name[MAX_VARS];
    const char *value[MAX_VARS];
    int n;
    char asked[1024];    /* names the callback saw, '|'-separated */
} req;

static void reset_request(void)
{
    memset(&req, 0, sizeof(req));
}

static void set_var(const char *name, const char *value)
{
    assert_true(req.n < MAX_VARS);
    req.name[req.n] = name;
    req.value[req.n] = value;
    req.n++;
}

static const char *var_cb(void *ctx, const char *name)
{
    assert_ptr_equal(ctx, &req);
    size_t len = strlen(req.asked);
    snprintf(req.asked + len, sizeof(req.asked) - len, "%s|", name);
    for (int i = 0; i < req.n; i++)
        if (strcmp(req.name[i], name) == 0)
            return req.value[i];
    return NULL;
}

/* The request of the Apache runs. */
static int setup_request(void **state)
{
    (void)state;
    reset_request();
    set_var("REQUEST_URI", "/x");
    set_var("QUERY_STRING", "q=1");
    set_var("REMOTE_ADDR", "127.0.0.1");
    set_var("REQUEST_METHOD", "GET");
    set_var("HTTP:X-Test", "Hello");
    set_var("HTTP_USER_AGENT", "UA/1");
    set_var("THE_REQUEST", "GET /x?q=1 HTTP/1.1");
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* Compiles and evaluates <src>; fails the test on a compile error. */
static int eval_src(const char *src, rl_expr_captures_t *cap)
{
    char err[512];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *e = rl_expr_compile(a, src, err, sizeof(err));
    if (e == NULL) {
        rl_arena_destroy(a);
        fail_msg("'%s' does not compile: %s", src, err);
    }
    rl_expr_env_t env = { var_cb, &req, a, cap, NULL };
    int r = rl_expr_eval(e, &env);
    if (r < 0)
        assert_non_null(env.error);
    rl_arena_destroy(a);
    return r;
}

static void check_(const char *src, int want, int line)
{
    int r = eval_src(src, NULL);
    if (r != want)
        fail_msg("line %d: '%s' gave %d, want %d", line, src, r, want);
}
#define check(src, want) check_((src), (want), __LINE__)
#define T(src) check_((src), 1, __LINE__)
#define F(src) check_((src), 0, __LINE__)

static void check_err_(const char *src, const char *want, int line)
{
    char err[512];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *e = rl_expr_compile(a, src, err, sizeof(err));
    rl_arena_destroy(a);
    if (e != NULL)
        fail_msg("line %d: '%s' compiles, want error \"%s\"", line, src, want);
    if (strcmp(err, want) != 0)
        fail_msg("line %d: '%s'\n  got:  \"%s\"\n  want: \"%s\"", line, src, err, want);
}
#define check_err(src, want) check_err_((src), (want), __LINE__)

/* Evaluates the string expression <src>. */
static void check_str_(const char *src, const char *want, int line)
{
    char err[512];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *e = rl_expr_compile_string(a, src, err, sizeof(err));
    if (e == NULL) {
        rl_arena_destroy(a);
        fail_msg("line %d: '%s' does not compile: %s", line, src, err);
    }
    rl_expr_env_t env = { var_cb, &req, a, NULL, NULL };
    const char *s = rl_expr_eval_string(e, &env);
    if (s == NULL || strcmp(s, want) != 0) {
        char got[256];
        snprintf(got, sizeof(got), "%s", s ? s : "(null)");
        rl_arena_destroy(a);
        fail_msg("line %d: '%s' gave \"%s\", want \"%s\"", line, src, got, want);
    }
    rl_arena_destroy(a);
}
#define check_str(src, want) check_str_((src), (want), __LINE__)

/* ---- conditions ---------------------------------------------------------- */

static void test_logic(void **state)
{
    (void)state;
    T("true");
    F("false");
    F("!true");
    T("!false");
    T("!!true");
    T("! ! true");
    F("true && false");
    T("true || false");
    F("false || false");
    /* && binds tighter than || */
    F("false || true && false");
    T("true || true && false");
    F("(false || true) && false");
    /* ! binds tighter than && and applies to a whole comparison */
    F("!true && false");
    T("!(true && false)");
    T("! 'a' == 'b'");
    T("! -z 'a'");
    T("-n 'a' && -z ''");
    /* ssl_expr's words */
    F("true and false");
    T("false or true");
    F("not true");
    T("((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))");
    T("(((true && true) && true) || false) && !(false)");
}

static void test_string_compare(void **state)
{
    (void)state;
    T("'a' == 'a'");
    T("'a' = 'a'");
    T("'a' == \"a\"");
    F("'a' == 'b'");
    T("'a' != 'b'");
    F("'a' != 'a'");
    T("'a' < 'b'");
    F("'b' < 'a'");
    T("'a' <= 'a'");
    T("'b' > 'a'");
    F("'a' >= 'b'");
    T("'b' >= 'b'");
    T("'10' < '9'");           /* strings, not numbers */
    T("'' < 'a'");
    T("'\\200' > 'a'");        /* bytes compare unsigned */
    T("%{REQUEST_URI} == '/x'");
    T("%{QUERY_STRING} == 'q=1'");
    T("1 == 1");
    T("-1 == '-1'");
}

static void test_integer_compare(void **state)
{
    (void)state;
    F("10 -lt 9");
    T("10 -gt 9");
    T("-1 -lt 0");
    T("2 -le 2");
    T("3 -ge 3");
    T("1 -ne 2");
    T("-01 -eq -1");
    T("1 eq 1");
    T("1 ne 2");
    T("1 lt 2");
    T("2 le 2");
    T("3 gt 2");
    F("2 ge 3");
    /* apr_atoi64: leading blanks and sign, digits up to the first other
     * character, base 10 only, clamped on overflow */
    T("'abc' -eq 0");
    T("' 5' -eq 5");
    T("'5x' -eq 5");
    F("'0x10' -eq 16");
    T("'+5' -eq 5");
    T("'99999999999999999999' -eq 9223372036854775807");
    T("'-99999999999999999999' -eq -9223372036854775808");
    T("'' -eq 0");
}

static void test_strings(void **state)
{
    (void)state;
    T("'a' . 'b' == 'ab'");
    T("'a'.'b'.'c' == 'abc'");
    T("1.5 == '15'");          /* two numbers concatenated */
    T("'a' . '' == 'a'");
    T("'' == \"\"");
    /* both quotes interpolate %{...} and $N */
    T("\"%{REQUEST_URI}y\" == '/xy'");
    T("'%{REQUEST_URI}' == '/x'");
    T("'pre%{REQUEST_URI}post%{QUERY_STRING}' == 'pre/xpostq=1'");
    /* %, $ and } alone are ordinary */
    T("\"a%b\" == 'a' . '%b'");
    T("'a}b' == \"a}b\"");
    T("'a$b' == \"a\" . '$b'");
    T("'100%' == '100' . '%'");
    /* escapes */
    T("'\\101' == 'A'");
    T("'\\x41' == 'x41'");     /* no hex escapes */
    T("'\\q' == 'q'");
    T("'\\t' == \"\\t\"");
    T("'a\\'b' == \"a'b\"");
    T("\"a\\\"b\" == 'a\"b'");
    T("\"\\%{REQUEST_URI}\" == '%' . '{REQUEST_URI}'");
    T("'\\0' == ''");          /* NUL ends the string, as in C */
    T("'a\\0b' == 'a'");
    T("'a\\\\b' -strmatch 'a\\\\\\\\b'");
    T("'a\\nb' =~ /^a.b$/");
    T("\"a'b\" == 'a' . \"'b\"");
    T("'\\377' > '\\376'");
    /* tabs and newlines separate tokens */
    T("'a'\t==\n'a'");
}

static void test_variables(void **state)
{
    (void)state;
    /* names are case-insensitive and reach the callback in upper case */
    T("%{request_uri} == '/x'");
    assert_string_equal(req.asked, "REQUEST_URI|");
    req.asked[0] = '\0';
    T("%{HTTP:X-Test} == 'Hello'");
    T("%{http:X-Test} == 'Hello'");
    T("%{req:X-Test} == 'Hello'");
    T("req('X-Test') == 'Hello'");
    T("HTTP('X-Test') == 'Hello'");
    assert_string_equal(req.asked, "HTTP:X-Test|HTTP:X-Test|HTTP:X-Test|HTTP:X-Test|HTTP:X-Test|");
    T("%{HTTP_USER_AGENT} == 'UA/1'");
    req.asked[0] = '\0';
    /* each function of Apache's that reads the request has its prefix */
    T("-z %{req_novary:a} && -z %{resp:b} && -z %{note:c} && -z %{reqenv:d}"
      " && -z %{env:e} && -z %{osenv:f} && -z %{HTTP:g h}");
    assert_string_equal(req.asked, "REQ_NOVARY:a|RESP:b|NOTE:c|REQENV:d|ENV:e|OSENV:f|HTTP:g h|");
    /* the argument is a string: interpolation and escapes */
    set_var("HTTP:/x", "yes");
    T("%{HTTP:%{REQUEST_URI}} == 'yes'");
    T("%{HTTP:\\/x} == 'yes'");
    set_var("HTTP:a}b", "brace");
    T("%{HTTP:a\\}b} == 'brace'");
    /* unset is empty */
    T("-z %{HTTP:X-None}");
    T("%{REMOTE_USER} == ''");
    T("-z %{TIME}");
    /* every core variable of Apache 2.4.71 is known */
    T("-z \"%{TIME_YEAR}%{TIME_MON}%{TIME_DAY}%{TIME_HOUR}%{TIME_MIN}%{TIME_SEC}"
      "%{TIME_WDAY}%{SERVER_SOFTWARE}%{API_VERSION}%{HTTP_PROXY_CONNECTION}"
      "%{HTTP_REFERER}%{HTTP_COOKIE}%{HTTP_FORWARDED}%{HTTP_HOST}%{HTTP_ACCEPT}"
      "%{REQUEST_SCHEME}%{REQUEST_FILENAME}%{REMOTE_HOST}%{REMOTE_IDENT}"
      "%{SERVER_ADMIN}%{SERVER_NAME}%{SERVER_PORT}%{SERVER_PROTOCOL}"
      "%{SCRIPT_FILENAME}%{PATH_INFO}%{IS_SUBREQ}%{DOCUMENT_ROOT}%{AUTH_TYPE}"
      "%{CONTENT_TYPE}%{HANDLER}%{REQUEST_LOG_ID}%{SCRIPT_USER}%{SCRIPT_GROUP}"
      "%{DOCUMENT_URI}%{LAST_MODIFIED}%{CONTEXT_PREFIX}%{CONTEXT_DOCUMENT_ROOT}"
      "%{REQUEST_STATUS}%{REMOTE_PORT}%{HTTPS}%{IPV6}%{CONN_LOG_ID}"
      "%{CONN_REMOTE_ADDR}%{HTTP2}\"");
}

static void test_no_callback(void **state)
{
    (void)state;
    char err[256];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *e = rl_expr_compile(a, "-z %{REQUEST_URI} && %{HTTP:Host} == ''", err, sizeof(err));
    assert_non_null(e);
    rl_expr_env_t env = { NULL, NULL, a, NULL, NULL };
    assert_int_equal(rl_expr_eval(e, &env), 1);
    assert_null(env.error);
    /* evaluating again gives the same: compiled expressions do not change */
    assert_int_equal(rl_expr_eval(e, &env), 1);
    rl_arena_destroy(a);
}

static void test_functions(void **state)
{
    (void)state;
    T("tolower(%{HTTP:X-Test}) == 'hello'");
    T("toupper(%{HTTP:X-Test}) == 'HELLO'");
    T("TOLOWER('AbC') == 'abc'");
    T("%{tolower:%{HTTP:X-Test}} == 'hello'");
    T("%{tolower:AbC} == 'abc'");
    T("tolower('\\304') == '\\304'");   /* ASCII only */
    T("tolower(toupper(tolower('aBc'))) == 'abc'");
    T("tolower('A' . 'B') == 'ab'");
    /* escape: ap_escape_uri, lower-case hex */
    T("escape('a b/c?') == 'a%20b/c%3f'");
    T("escape('\\303\\251') == '%c3%a9'");
    T("escape('%') == '%25'");
    check_str("%{escape: !#$%&()*+,-./:;<=>?@[]^_`{|~}",
              "%20!%23$%25&()*+,-./:;%3c=%3e%3f@%5b%5d%5e_%60%7b%7c~");
    set_var("HTTP:X-E", "a'b\"c\\d");
    T("escape(%{HTTP:X-E}) == 'a\\'b%22c%5cd'");
    /* unescape: %2F stays, a bad escape or %00 gives "" */
    T("unescape('a%20b') == 'a b'");
    T("unescape('a%2fb') == 'a%2fb'");
    T("unescape('a%zzb') == ''");
    T("unescape('a%00b') == ''");
    check_str("%{unescape:%41+b}", "A+b");
    check_str("%{unescape:%4}", "");
    check_str("%{unescape:%41%2F%2f%zz}", "");
    /* base64 */
    T("base64('hello') == 'aGVsbG8='");
    T("unbase64('aGVsbG8=') == 'hello'");
    check_str("%{base64:abcd}", "YWJjZA==");
    check_str("%{base64:a}", "YQ==");
    check_str("%{base64:ab}", "YWI=");
    check_str("%{base64:abc}", "YWJj");
    check_str("%{unbase64:YWJj}", "abc");
    check_str("%{unbase64:YW=Jj}", "a");   /* decoding stops at the first non-base64 byte */
    check_str("%{unbase64:YWJ}", "ab");
    check_str("%{unbase64:Y}", "");
    check_str("%{unbase64:YW Jj}", "a");
    T("unbase64(base64('\\001\\377x')) == '\\001\\377x'");
    /* filesize: "0" for anything but a non-empty regular file */
    T("filesize('/nonexistent/x') == 0");
    T("filesize('/') == '0'");
}

static void test_unary_strings(void **state)
{
    (void)state;
    F("-n ''");
    T("-n 'a'");
    T("-z ''");
    F("-z 'a'");
    T("-n %{QUERY_STRING}");
    F("-z -1");
    T("-n %{REQUEST_URI} . 'x'");   /* the word takes the concatenation */
    /* -T */
    F("-T ''");
    F("-T '0'");
    T("-T '00'");
    F("-T 'off'");
    F("-T 'OFF'");
    F("-T 'no'");
    F("-T 'No'");
    F("-T 'false'");
    F("-T 'FALSE'");
    T("-T 'true'");
    T("-T 'yes'");
    T("-T 'offx'");
    T("-T 1");
}

/* ---- files --------------------------------------------------------------- */

static char tmpdir[64];

static void make_file(const char *name, const char *content, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup_files(void **state)
{
    char path[128];

    setup_request(state);
    strcpy(tmpdir, "/tmp/relais-expr-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    make_file("f", "hi\n", 0644);
    make_file("empty", "", 0644);
    make_file("exe", "#!/bin/sh\n", 0755);
    snprintf(path, sizeof(path), "%s/d", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/l", tmpdir);
    assert_int_equal(symlink("f", path), 0);
    snprintf(path, sizeof(path), "%s/dangle", tmpdir);
    assert_int_equal(symlink("nonexistent", path), 0);
    return 0;
}

static int teardown_files(void **state)
{
    static const char *const names[] = { "f", "empty", "exe", "l", "dangle" };
    char path[128];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/d", tmpdir);
    rmdir(path);
    rmdir(tmpdir);
    return 0;
}

/* Evaluates <fmt> with every %s replaced by the temporary directory. */
static void check_file_(const char *op, const char *name, int want, int line)
{
    char src[256];
    snprintf(src, sizeof(src), "%s '%s/%s'", op, tmpdir, name);
    check_(src, want, line);
}
#define check_file(op, name, want) check_file_((op), (name), (want), __LINE__)

static void test_file_tests(void **state)
{
    (void)state;
    check_file("-f", "f", 1);
    check_file("-f", "d", 0);
    check_file("-f", "nope", 0);
    check_file("-f", "l", 1);        /* follows the link */
    check_file("-d", "d", 1);
    check_file("-d", "f", 0);
    check_file("-e", "d", 1);
    check_file("-e", "f", 1);
    check_file("-e", "nope", 0);
    check_file("-e", "dangle", 0);
    check_file("-s", "f", 1);
    check_file("-s", "empty", 0);
    check_file("-s", "d", 0);
    check_file("-L", "l", 1);
    check_file("-h", "l", 1);
    check_file("-L", "f", 0);
    check_file("-L", "dangle", 1);
    check_file("-L", "nope", 0);
    check_file("-x", "exe", 1);
    check_file("-x", "f", 0);
    check_file("-x", "d", 1);
    check_file("-x", "l", 1);        /* the link's own mode, lstat */
    F("-e ''");
    F("-f ''");

    char src[512];
    snprintf(src, sizeof(src), "filesize('%s/f') == 3 && filesize('%s/empty') == 0"
             " && filesize('%s/d') == 0", tmpdir, tmpdir, tmpdir);
    T(src);
}

/* Debian's php8.2-fpm.conf: <FilesMatch ".+\.ph(?:ar|p|tml)$">
 *   <If "-f %{REQUEST_FILENAME}"> SetHandler "proxy:unix:..." </If> */
static void test_debian_php_fpm(void **state)
{
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    set_var("REQUEST_FILENAME", path);
    T("-f %{REQUEST_FILENAME}");
    req.n--;
    snprintf(path, sizeof(path), "%s/missing.php", tmpdir);
    set_var("REQUEST_FILENAME", path);
    F("-f %{REQUEST_FILENAME}");
    req.n--;
    /* Apache's REQUEST_FILENAME was htdocs/x, which did not exist */
    F("-f %{REQUEST_FILENAME}");
    snprintf(path, sizeof(path), "%s/d", tmpdir);
    set_var("REQUEST_FILENAME", path);
    F("-f %{REQUEST_FILENAME}");
    T("-d %{REQUEST_FILENAME}");
}

/* ---- addresses ----------------------------------------------------------- */

static void test_remote_addr(void **state)
{
    (void)state;
    /* REMOTE_ADDR is 127.0.0.1 */
    T("-R '127.0.0.1'");
    T("-R '127.0.0.0/8'");
    T("-R \"127.0.0.0/8\"");
    T("-R '127.0.0.0/255.0.0.0'");
    T("-R '127'");                    /* the legacy network form */
    T("-R '127.'");
    T("-R '127.0'");
    F("-R '10.0.0.0/8'");
    F("-R '::1'");
    F("-R '128.0.0.0/1'");
    T("-R '0.0.0.0/1'");
    F("-R '127.0.0.2'");
    T("-R '127.0.0.0/31'");
    F("-R '127.0.0.2/31'");
    T("-R '127.255.255.255/8'");      /* host bits are masked off */

    req.value[2] = "::1";
    T("-R '::1'");
    T("-R '::1/128'");
    T("-R '::/1'");
    F("-R '127.0.0.1'");
    req.value[2] = "2001:db8::17";
    T("-R '2001:db8::/32'");
    T("-R '2001:db8::/112'");
    F("-R '2001:db9::/32'");
    F("-R '2001:db8::/128'");
    /* an IPv4-mapped client matches IPv4 subnets only */
    req.value[2] = "::ffff:10.1.2.3";
    T("-R '10.0.0.0/8'");
    T("-R '10.1'");
    F("-R '::/1'");
    /* no or a bad REMOTE_ADDR */
    req.value[2] = "nonsense";
    F("-R '0.0.0.0/1' || -R '128.0.0.0/1'");
    req.n = 0;
    F("-R '0.0.0.0/1' || -R '128.0.0.0/1'");
}

static void test_ipmatch(void **state)
{
    (void)state;
    T("'10.1.2.3' -ipmatch '10.0.0.0/8'");
    T("'10.1.2.3' -ipmatch '10'");
    T("'10.1.2.3' -IPMATCH '10.1.0.0/255.255.0.0'");
    F("'11.1.2.3' -ipmatch '10.0.0.0/8'");
    T("'::ffff:10.1.2.3' -ipmatch '10.0.0.0/8'");
    T("'2001:db8::1' -ipmatch '2001:db8::/32'");
    F("'2001:db9::1' -ipmatch '2001:db8::/32'");
    F("'10.1.2.3' -ipmatch '2001:db8::/32'");
    F("'2001:db8::1' -ipmatch '0.0.0.0/1'");
    /* the left side as getaddrinfo() reads numbers: inet_aton's forms */
    T("'127.1' -ipmatch '127.0.0.1'");
    T("'2130706433' -ipmatch '127.0.0.1'");
    T("'0x7f.1' -ipmatch '127.0.0.1'");
    T("'0177.0.0.1' -ipmatch '127.0.0.1'");
    F("'09.0.0.1' -ipmatch '0.0.0.0/1'");
    F("'' -ipmatch '0.0.0.0/8'");
    F("'x' -ipmatch '0.0.0.0/8'");
    F("'10.1.2.3 ' -ipmatch '10.0.0.0/8'");
    F("'1.2.3.4.5' -ipmatch '0.0.0.0/1'");
    F("'256.0.0.1' -ipmatch '0.0.0.0/1'");
    T("'fe80::1%2' -ipmatch 'fe80::/10'");
    F("'fe80::1%' -ipmatch 'fe80::/10'");
    T("%{REMOTE_ADDR} -ipmatch '127.0.0.0/8'");
    /* divergence: Apache resolves a host name ('localhost' matches
     * 127.0.0.1 there); relais looks at numbers only */
    F("'localhost' -ipmatch '127.0.0.1'");
}

/* ---- patterns ------------------------------------------------------------ */

static void test_strmatch(void **state)
{
    (void)state;
    T("'abc' -strmatch 'a*c'");
    F("'abc' -strmatch 'A*C'");
    T("'abc' -strcmatch 'A*C'");
    T("'abc' -STRMATCH 'a*'");
    T("'a/b' -strmatch 'a*b'");
    F("'a/b' -fnmatch 'a*b'");
    T("'a/b' -fnmatch 'a/*'");
    F("'a/b' -fnmatch 'a?b'");
    T("'a/b' -strmatch 'a?b'");
    T("'a[b' -strmatch 'a\\\\[b'");
    T("'ab' -strmatch 'a[a-c]'");
    F("'ab' -strmatch 'a[!a-c]'");
    F("'ab' -strmatch 'a[^a-c]'");
    T("'ad' -strmatch 'a[^a-c]'");
    T("'a]' -strmatch 'a[]]'");
    T("'a[' -strmatch 'a['");         /* no closing ']': a plain '[' */
    T("'aB' -strcmatch 'a[a-c]'");
    T("'.a' -fnmatch '*a'");          /* no special leading dot */
    T("'a' -strmatch '?'");
    F("'' -strmatch '?'");
    T("'' -strmatch '*'");
    T("'' -strmatch ''");
    F("'a' -strmatch ''");
    T("'a*' -strmatch 'a\\\\*'");
    F("'ab' -strmatch 'a\\\\*'");
    T("'/x/y.php' -fnmatch '/x/*.php'");
    F("'/x/z/y.php' -fnmatch '/x/*.php'");
    T("'/x/z/y.php' -strmatch '/x/*.php'");
    T("%{REQUEST_URI} -strmatch '/*'");
    /* brackets and escapes: a pattern's backslash is written \\\\ in C, as
     * the expression's string takes one level of escapes first */
    T("'a]' -strmatch 'a[\\\\]]'");
    T("'a\\\\' -strmatch 'a[\\\\\\\\]'");
    T("'b' -strmatch '[a-\\\\c]'");
    T("'x' -strmatch '[!]]'");
    F("']' -strmatch '[!]]'");
    T("'-' -strmatch '[a-]'");
    F("'b' -strmatch '[a-]'");
    F("'c' -strmatch '[c-a]'");
    T("'abc' -strmatch 'a**c'");
    T("'abc' -strmatch '*c*'");
    T("'a/b/c' -fnmatch 'a/*/c'");
    T("'a//c' -fnmatch 'a/*/c'");
    T("'A' -strcmatch '[a-c]'");
    F("'d' -strcmatch '[A-C]'");
    T("'a\\\\' -strmatch 'a\\\\'");
    F("'/' -fnmatch '*'");
    F("'/' -fnmatch '?'");
    F("'/' -fnmatch '[/]'");
    T("'/' -strmatch '[/]'");
    F("'ab' -strmatch '[a'");
    T("'[a' -strmatch '[a'");

    /* one backtrack point: a pathological pattern stays linear */
    char src[8192];
    int n = snprintf(src, sizeof(src), "'");
    for (int i = 0; i < 4000; i++)
        src[n++] = 'a';
    n += snprintf(src + n, sizeof(src) - (size_t)n, "' -strmatch '");
    for (int i = 0; i < 40; i++)
        n += snprintf(src + n, sizeof(src) - (size_t)n, "*a");
    snprintf(src + n, sizeof(src) - (size_t)n, "*b'");
    clock_t t0 = clock();
    F(src);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void test_regex(void **state)
{
    (void)state;
    F("'a' =~ /A/");
    T("'a' =~ /A/i");
    T("'abc' =~ m#^a.c$#");
    T("'abc' !~ /^b/");
    F("'abc' !~ /^a/");
    T("'a/b' =~ m,/,");
    T("'a' =~ m|a|");
    T("'a' =~ m!a!");
    T("'a' =~ m.a.");
    T("'a' =~ m'a'");
    T("'a' =~ m\"a\"");
    T("'a' =~ m-a-");
    T("'a' =~ m?a?");
    T("'a' =~ m:a:");
    T("'a' =~ m;a;");
    T("'a' =~ m%a%");
    T("'a' =~ m$a$");
    T("'a' =~ m^a^");
    T("'a' =~ m#a#i");
    T("'A' =~ m,a,i");
    T("'a.b' =~ /a\\.b/");
    F("'axb' =~ /a\\.b/");
    T("'a' =~ //");
    T("'' =~ /^$/");
    T("'a1' =~ /\\d/");
    T("%{REQUEST_URI} =~ m#^/x$#");
    /* Apache's defaults: '.' matches a newline, '$' only at the very end,
     * '^' only at the start */
    T("\"a\\nb\" =~ /a.b/");
    F("\"a\\n\" =~ /a$/");
    F("\"b\\na\" =~ /^a/");
    /* the pattern is PCRE */
    T("'ab' =~ /(?<n>a)/ && $1 == 'a'");
    T("'foobar' =~ /foo(?=bar)/");
    /* "m_" followed by no name character opens a regex (a tie in flex,
     * and the regex rule comes first); "m_a_" is a name */
    T("'xa' =~ m_.a_");
}

static void test_backrefs(void **state)
{
    (void)state;
    T("'ab' =~ /(a)(b)/ && $1 == 'a' && $2 == 'b'");
    T("'ab' =~ /(a)(b)/ && \"$2$1\" == 'ba'");
    T("'ab' =~ /(a)(b)/ && $0 == 'ab'");
    T("'ab' =~ /(a)(b)/ && $3 == ''");
    T("'ab' =~ /ab/ && $0 == ''");             /* no group: $N not set */
    T("'xy' =~ /(x)/ && 'q' =~ /q/ && $1 == 'x'");   /* no group: kept */
    T("'xy' =~ /(x)/ && 'q' =~ /(z)/ || $1 == ''");  /* failed: cleared */
    T("'xy' =~ /(x)/ && !('q' =~ /(z)/) && $1 == ''");
    T("'ab' =~ /(a)/ && -n $1");
    T("'ab' =~ /(a)/ && $1 -in {'a'}");
    T("'aB' =~ /(a)(b)/i && $2 == 'B'");
    T("'ab' =~ /(a)|(c)/ && $2 == '' && $1 == 'a'");
    T("$1 == '' && $0 == ''");
    T("'' =~ /()/ && $0 == ''");
    T("'abcdefghijk' =~ /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/ && $9 == 'i'");
    T("'xay' =~ /(a)/ && %{tolower:$1} == 'a'");
    /* the right side sees the captures of the left */
    T("'a-b' =~ /(.)-(.)/ && $2 . $1 == 'ba'");
}

static void test_captures_across_evaluations(void **state)
{
    char err[256];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_captures_t cap = { 0 };

    (void)state;
    rl_expr_t *cond = rl_expr_compile(a, "%{REQUEST_URI} =~ m#^/(.)#", err, sizeof(err));
    rl_expr_t *str = rl_expr_compile_string(a, "first=$1 all=$0", err, sizeof(err));
    assert_non_null(cond);
    assert_non_null(str);
    rl_expr_env_t env = { var_cb, &req, a, &cap, NULL };
    assert_int_equal(rl_expr_eval(cond, &env), 1);
    assert_non_null(cap.subject);
    assert_int_equal(cap.so[1], 1);
    assert_int_equal(cap.eo[1], 2);
    assert_string_equal(rl_expr_eval_string(str, &env), "first=x all=/x");
    /* without the captures the string sees none */
    env.captures = NULL;
    assert_string_equal(rl_expr_eval_string(str, &env), "first= all=");
    /* a failed match with groups clears them, one without groups keeps them */
    env.captures = &cap;
    rl_expr_t *nogroup = rl_expr_compile(a, "'zz' =~ /z/", err, sizeof(err));
    rl_expr_t *fails = rl_expr_compile(a, "'zz' =~ /(y)/", err, sizeof(err));
    assert_int_equal(rl_expr_eval(nogroup, &env), 1);
    assert_string_equal(rl_expr_eval_string(str, &env), "first=x all=/x");
    assert_int_equal(rl_expr_eval(fails, &env), 0);
    assert_null(cap.subject);
    assert_string_equal(rl_expr_eval_string(str, &env), "first= all=");
    /* captures given in are used from the start */
    cap.subject = "hello";
    cap.so[0] = cap.eo[0] = -1;
    cap.so[1] = 1;
    cap.eo[1] = 3;
    assert_string_equal(rl_expr_eval_string(str, &env), "first=el all=");
    rl_arena_destroy(a);
}

static void test_in_lists(void **state)
{
    (void)state;
    T("'a' -in {'a', 'b'}");
    F("'c' -in {'a', 'b'}");
    T("'a' in {'b','a'}");
    T("'a' -in {'a'}");
    T("%{REQUEST_URI} -in {'/y', '/x'}");
    T("'ab' -in {'x', 'a' . 'b'}");
    T("'a' -in {'a', tolower('B')}");
    T("'b' -in {'a', tolower('B')}");
    F("'' -in {'a'}");
    T("'' -in {''}");
    T("'GET' -in {'POST', %{REQUEST_METHOD}}");
    T("!('c' -in {'a', 'b'}) && 'b' -in {'a', 'b'}");
}

/* ---- errors -------------------------------------------------------------- */

static void test_syntax_errors(void **state)
{
    (void)state;
    /* unbalanced parentheses */
    check_err("(true", "syntax error, unexpected $end, expecting T_OP_OR or T_OP_AND or ')'");
    check_err("true)", "syntax error, unexpected ')', expecting $end");
    check_err("(('a' == 'b')", "syntax error, unexpected $end, expecting T_OP_OR or T_OP_AND or ')'");
    check_err("true || (false", "syntax error, unexpected $end, expecting T_OP_OR or T_OP_AND or ')'");
    check_err("()", "syntax error, unexpected ')'");
    check_err(")", "syntax error, unexpected ')'");
    check_err("(true) (true)", "syntax error, unexpected '(', expecting $end");
    /* missing operands */
    check_err("", "syntax error, unexpected $end");
    check_err("!", "syntax error, unexpected $end");
    check_err("true &&", "syntax error, unexpected $end");
    check_err("&& true", "syntax error, unexpected T_OP_AND");
    check_err("'a'", "syntax error, unexpected $end");
    check_err("'a' ==", "syntax error, unexpected $end");
    check_err("-f", "syntax error, unexpected $end");
    check_err("-f -f 'a'", "syntax error, unexpected T_OP_UNARY");
    check_err("1 -eq", "syntax error, unexpected $end");
    check_err("'a' . == 'b'", "syntax error, unexpected T_OP_STR_EQ");
    check_err("%{REQUEST_URI} &&", "syntax error, unexpected T_OP_AND");
    /* too much */
    check_err("true false", "syntax error, unexpected T_FALSE, expecting $end");
    check_err("'a' == 'b' 'c'", "syntax error, unexpected T_STR_BEGIN, expecting $end");
    check_err("'a' 'b'", "syntax error, unexpected T_STR_BEGIN");
    check_err("'x' == 'x' == 'x'", "syntax error, unexpected T_OP_STR_EQ, expecting $end");
    check_err("'a' -eq 'b' -eq 'c'", "syntax error, unexpected T_OP_EQ, expecting $end");
    check_err("-f 'a' 'b'", "syntax error, unexpected T_STR_BEGIN, expecting $end");
    check_err("true :", "syntax error, unexpected ':', expecting $end");
    check_err("1 1", "syntax error, unexpected T_DIGIT");
    check_err("-1x", "syntax error, unexpected T_ID");
    /* bare words are function names */
    check_err("a == a", "syntax error, unexpected T_OP_STR_EQ, expecting '('");
    check_err("tolower", "syntax error, unexpected $end, expecting '('");
    check_err("tolower 'a'", "syntax error, unexpected T_STR_BEGIN, expecting '('");
    check_err("tolower(", "syntax error, unexpected $end");
    check_err("tolower('a'", "syntax error, unexpected $end, expecting T_OP_CONCAT or ')'");
    check_err("tolower('a', 'b') == 'a'", "syntax error, unexpected ',', expecting T_OP_CONCAT or ')'");
    check_err("tolower() == 'a'", "syntax error, unexpected ')'");
    check_err("('a') == 'a'", "syntax error, unexpected ')'");
    /* lists */
    check_err("'a' -in", "syntax error, unexpected $end, expecting T_ID or '{'");
    check_err("'a' -in 'a'", "syntax error, unexpected T_STR_BEGIN, expecting T_ID or '{'");
    check_err("'a' -in ('a')", "syntax error, unexpected '(', expecting T_ID or '{'");
    check_err("'a' -in {", "syntax error, unexpected $end");
    check_err("'a' -in {}", "syntax error, unexpected '}'");
    check_err("'a' -in {'a',}", "syntax error, unexpected '}'");
    check_err("'a' -in {'a'", "syntax error, unexpected $end, expecting '}' or ','");
    check_err("'a' -in {'a' 'b'}", "syntax error, unexpected T_STR_BEGIN, expecting '}' or ','");
    check_err("'a' in {'a'} == 'b'", "syntax error, unexpected T_OP_STR_EQ, expecting $end");
    /* regexes */
    check_err("'a' =~", "syntax error, unexpected $end, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ /abc", "syntax error, unexpected $end, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ m#a", "syntax error, unexpected $end, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ 'a'", "syntax error, unexpected T_STR_BEGIN, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ ma", "syntax error, unexpected T_ID, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ m{a}", "syntax error, unexpected T_ID, expecting T_REGEX or T_REGEX_I");
    check_err("'a' =~ /a/x", "syntax error, unexpected T_ID, expecting $end");
    check_err("'a' =~ /a/I", "syntax error, unexpected T_ID, expecting $end");
    check_err("'a' =~ /a/ i", "syntax error, unexpected T_ID, expecting $end");
    check_err("/a/", "syntax error, unexpected T_REGEX");
    check_err("m_a_ == 'a'", "syntax error, unexpected T_OP_STR_EQ, expecting '('");
    check_err("'a' =~ m#a(#", "Failed to compile regular expression");
    check_err("'a' =~ /a\\/b/", "Failed to compile regular expression");   /* no escaping */
    /* Apache 2.5's functions */
    check_err("sub(s/a/b/, 'x') == 'y'", "syntax error, unexpected T_REGEX, expecting '('");
    check_err("join({'a','b'}) == 'ab'", "syntax error, unexpected '{'");
    check_err("%{:true:} == 'true'", "syntax error, unexpected ':', expecting T_ID");
}

static void test_lexer_errors(void **state)
{
    (void)state;
    /* unterminated strings and variables */
    check_err("'", "Unterminated string or variable");
    check_err("\"", "Unterminated string or variable");
    check_err("%{REQUEST_URI} == '/x", "Unterminated string or variable");
    check_err("'a' == \"a", "Unterminated string or variable");
    check_err("'a\\", "Unterminated string or variable");   /* Apache: "flex scanner jammed" */
    check_err("'a\nb' == 'ab'", "Unterminated string or variable");
    check_err("'a$1", "syntax error, unexpected T_ERROR, expecting T_STRING or T_REGEX_BACKREF"
              " or T_STR_END or T_VAR_BEGIN: Unterminated string or variable");
    check_err("'%{REQUEST_URI}", "syntax error, unexpected T_ERROR, expecting T_STRING or"
              " T_REGEX_BACKREF or T_STR_END or T_VAR_BEGIN: Unterminated string or variable");
    check_err("%{", "syntax error, unexpected T_ERROR, expecting T_ID: Unterminated string or variable");
    check_err("'%{", "syntax error, unexpected T_ERROR, expecting T_ID: Unterminated string or variable");
    check_err("%{REQUEST_URI", "syntax error, unexpected T_ERROR, expecting T_VAR_END or ':':"
              " Unterminated string or variable");
    check_err("%{X:", "Unterminated string or variable");
    check_err("%{HTTP:a", "Unterminated string or variable");
    check_err("%{HTTP:a%{REQUEST_URI}", "syntax error, unexpected T_ERROR, expecting T_STRING or"
              " T_REGEX_BACKREF or T_VAR_BEGIN or T_VAR_END: Unterminated string or variable");
    check_err("%{HTTP:a$1", "syntax error, unexpected T_ERROR, expecting T_STRING or"
              " T_REGEX_BACKREF or T_VAR_BEGIN or T_VAR_END: Unterminated string or variable");
    check_err("%{HTTP:} == 1", "syntax error, unexpected T_VAR_END, expecting T_ERROR or T_STRING"
              " or T_REGEX_BACKREF or T_VAR_BEGIN");
    check_err("%{}", "syntax error, unexpected T_VAR_END, expecting T_ID");
    check_err("%{:}", "syntax error, unexpected ':', expecting T_ID");
    /* bad characters */
    check_err("%{ REQUEST_URI}", "syntax error, unexpected T_ERROR, expecting T_ID:"
              " Invalid character in variable name ' '");
    check_err("%{REQUEST-URI}", "syntax error, unexpected T_ERROR, expecting T_VAR_END or ':':"
              " Invalid character in variable name '-'");
    check_err("%{1}", "syntax error, unexpected T_ERROR, expecting T_ID:"
              " Invalid character in variable name '1'");
    check_err("'a' @ 'b'", "syntax error, unexpected T_ERROR: Parse error near '@'");
    check_err("'a' & 'b'", "syntax error, unexpected T_ERROR: Parse error near '&'");
    check_err("'a' | 'b'", "syntax error, unexpected T_ERROR: Parse error near '|'");
    check_err("'a' == 'b' ; 'c'", "syntax error, unexpected T_ERROR, expecting $end:"
              " Parse error near ';'");
    check_err("%x", "Parse error near '%'");
    check_err("$x", "Parse error near '$'");
    check_err("-", "Parse error near '-'");
    check_err("\001", "Parse error near '\\x01'");   /* relais: Apache prints the raw byte */
    /* escapes */
    check_err("'\\777' == 'a'", "Escape sequence out of bound");
    check_err("'a\\8' == 'a'", "Bad escape sequence");
    check_err("'a\\08' == 'a'", "Bad escape sequence");
    check_err("'a\\1234' == 'a'", "Bad escape sequence");
    /* relais: Apache's scanner jams ("flex scanner jammed") on a quote in a
     * function argument */
    check_err("%{HTTP:a'b} == 1", "Invalid character in variable argument '''");
}

static void test_lookup_errors(void **state)
{
    (void)state;
    check_err("%{NOPE} == 'a'", "Variable 'NOPE' does not exist");
    check_err("%{HTTP_X_FOO} == 'a'", "Variable 'HTTP_X_FOO' does not exist");
    check_err("%{SSL_PROTOCOL} == 1", "Variable 'SSL_PROTOCOL' does not exist");
    check_err("%{SERVER_ADDR} == 1", "Variable 'SERVER_ADDR' does not exist");
    check_err("%{FOO:Host} == 'a'", "Function 'FOO' does not exist");
    check_err("foo('A') == 'a'", "Function 'foo' does not exist");
    check_err("escapehtml('a') == 'a'", "Function 'escapehtml' does not exist");
    check_err("'a' -foo 'b'", "Binary operator '-foo' does not exist");
    check_err("'a' -_x 'b'", "Binary operator '-_x' does not exist");
    check_err("-q 'x'", "Unary operator '-q' does not exist");
    check_err("-X 'x'", "Unary operator '-X' does not exist");
    check_err("-l 'x'", "Unary operator '-l' does not exist");
    check_err("-_ 'a'", "Unary operator '-_' does not exist");
    check_err("'a' -in tolower('x')", "List-returning function 'tolower' does not exist");
    check_err("'a' -in foo", "syntax error, unexpected $end, expecting '('");
    /* -R and -ipmatch want a constant subnet */
    check_err("-R 10", "-R requires subnet/netmask as constant argument");
    check_err("-R %{REMOTE_ADDR}", "-R requires subnet/netmask as constant argument");
    check_err("-R 'a' . 'b'", "-R requires subnet/netmask as constant argument");
    check_err("'1.2.3.4' -ipmatch %{REMOTE_ADDR}", "-ipmatch requires subnet/netmask as constant argument");
    check_err("-R 'x'", "parsing of subnet/netmask failed");
    check_err("-R ''", "parsing of subnet/netmask failed");
    check_err("-R 'localhost'", "parsing of subnet/netmask failed");
    check_err("-R '0.0.0.0/0'", "parsing of subnet/netmask failed");
    check_err("-R '10.1/16'", "parsing of subnet/netmask failed");
    check_err("-R '::ffff:1.2.3.4'", "parsing of subnet/netmask failed");
    check_err("-R '10.0.0.0/33'", "parsing of subnet/netmask failed");
    check_err("-R '10.0.0.0/x'", "parsing of subnet/netmask failed");
    check_err("-R '::1/129'", "parsing of subnet/netmask failed");
    check_err("-R '::1/ffff::'", "parsing of subnet/netmask failed");
    check_err("'a' -IPMATCH '10/8'", "parsing of subnet/netmask failed");
    check_err("-R '1..2'", "parsing of subnet/netmask failed");
    check_err("-R '1.2.3.4.5'", "parsing of subnet/netmask failed");
    check_err("-R '300'", "parsing of subnet/netmask failed");
    check_err("-R '.1'", "parsing of subnet/netmask failed");
    check_err("-R '1.2.3.4/255.255.0.x'", "parsing of subnet/netmask failed");
    check_err("-R '1111111111111111111111111111111111111111111111111111111111111111111111'",
              "parsing of subnet/netmask failed");
    T("-R '1.2.3.4/+8' || -R '1.2.3.' || true");   /* both accepted by Apache */
    check_err("'a' -strmatch", "syntax error, unexpected $end");
    /* the lookup errors let the parse go on; a later one wins */
    check_err("%{X}", "syntax error, unexpected $end: Variable 'X' does not exist");
    check_err("%{NOPE} == 'a' &&", "syntax error, unexpected $end: Variable 'NOPE' does not exist");
    check_err("%{NOPE} == %{NOPE2}", "Variable 'NOPE2' does not exist");
    check_err("foo(%{NOPE}) == 'a'", "Function 'foo' does not exist");
    check_err("-R 'x' && -R 10", "-R requires subnet/netmask as constant argument");
    check_err("%{NOPE} =~ /(/", "Failed to compile regular expression: Variable 'NOPE' does not exist");
    check_err("'a' =~ /(/ && %{NOPE} == 'a'", "Failed to compile regular expression");
    check_err("%{REQUEST_URI %{", "syntax error, unexpected T_ERROR, expecting T_VAR_END or ':':"
              " Invalid character in variable name ' '");
    /* relais refuses what Apache has but relais does not do */
    check_err("md5('a') == 'a'", "Function 'md5' is not supported");
    check_err("%{sha1:a} == 'a'", "Function 'sha1' is not supported");
    check_err("ldap('a') == 'a'", "Function 'ldap' is not supported");
    check_err("file('/etc/hostname') == 'a'", "Function 'file' is not supported");
    check_err("-F 'x'", "Unary operator '-F' is not supported");
    check_err("-U '/x'", "Unary operator '-U' is not supported");
    check_err("-A '/x'", "Unary operator '-A' is not supported");
}

static void test_limits(void **state)
{
    char *src = malloc(RL_EXPR_MAX_LEN + 64), err[128];
    rl_arena_t *a = rl_arena_create(0);
    size_t n;

    (void)state;
    /* RL_EXPR_MAX_DEPTH nested levels are fine, one more is not */
    n = 0;
    for (int i = 0; i < RL_EXPR_MAX_DEPTH; i++)
        src[n++] = '(';
    n += (size_t)sprintf(src + n, "true");
    for (int i = 0; i < RL_EXPR_MAX_DEPTH; i++)
        src[n++] = ')';
    src[n] = '\0';
    T(src);
    memmove(src + 1, src, n + 1);
    src[0] = '(';
    strcat(src, ")");
    check_err(src, "Expression nested too deeply");
    n = 0;
    for (int i = 0; i < RL_EXPR_MAX_DEPTH + 1; i++)
        n += (size_t)sprintf(src + n, "tolower(");
    n += (size_t)sprintf(src + n, "'a'");
    for (int i = 0; i < RL_EXPR_MAX_DEPTH + 1; i++)
        src[n++] = ')';
    sprintf(src + n, " == 'a'");
    check_err(src, "Expression nested too deeply");
    n = 0;
    for (int i = 0; i < RL_EXPR_MAX_DEPTH + 1; i++)
        n += (size_t)sprintf(src + n, "%%{HTTP:");
    n += (size_t)sprintf(src + n, "a");
    for (int i = 0; i < RL_EXPR_MAX_DEPTH + 1; i++)
        src[n++] = '}';
    sprintf(src + n, " == ''");
    check_err(src, "Expression nested too deeply");
    /* chains cost no depth */
    n = (size_t)sprintf(src, "true");
    while (n < RL_EXPR_MAX_LEN - 10)
        n += (size_t)sprintf(src + n, " && true");
    T(src);
    n = (size_t)sprintf(src, "'a'");
    while (n < RL_EXPR_MAX_LEN - 20)
        n += (size_t)sprintf(src + n, ".'a'");
    strcat(src, " =~ /^a+$/");
    T(src);
    memset(src, '!', 3001);
    strcpy(src + 3001, "true");
    F(src);
    /* length */
    memset(src, ' ', RL_EXPR_MAX_LEN + 1);
    memcpy(src + RL_EXPR_MAX_LEN - 4, "true", 4);
    src[RL_EXPR_MAX_LEN] = '\0';
    T(src);
    src[RL_EXPR_MAX_LEN] = ' ';
    src[RL_EXPR_MAX_LEN + 1] = '\0';
    check_err(src, "Expression too long");
    /* a short error buffer is still terminated */
    assert_null(rl_expr_compile(a, "'a' =~ /(/", err, 8));
    assert_string_equal(err, "Failed ");
    assert_null(rl_expr_compile(a, "(", NULL, 0));
    rl_arena_destroy(a);
    free(src);
}

static void test_eval_errors(void **state)
{
    char src[256];

    (void)state;
    /* too much backtracking: Apache counts the failed match as a non-match
     * (false for =~, true for !~); relais gives -1 for both */
    snprintf(src, sizeof(src), "'%.40s' =~ /^(a+)+$/",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    check(src, -1);
    src[strlen("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab' ")] = '!';
    check(src, -1);
    /* short-circuits: what is not evaluated cannot fail */
    snprintf(src, sizeof(src), "true || '%.40s' =~ /^(a+)+$/",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    check(src, 1);

    /* a condition is not a string expression and the other way round */
    char err[128];
    rl_arena_t *a = rl_arena_create(0);
    rl_expr_t *c = rl_expr_compile(a, "true", err, sizeof(err));
    rl_expr_t *s = rl_expr_compile_string(a, "true", err, sizeof(err));
    rl_expr_env_t env = { var_cb, &req, a, NULL, NULL };
    assert_null(rl_expr_eval_string(c, &env));
    assert_non_null(env.error);
    assert_int_equal(rl_expr_eval(s, &env), -1);
    assert_non_null(env.error);
    assert_int_equal(rl_expr_eval(c, &env), 1);
    assert_null(env.error);
    rl_arena_destroy(a);
}

static void test_string_expressions(void **state)
{
    char err[256];
    rl_arena_t *a = rl_arena_create(0);

    (void)state;
    check_str("", "");
    check_str("plain", "plain");
    check_str("a'b\"c", "a'b\"c");       /* quotes are ordinary */
    check_str("x %{REQUEST_URI} y", "x /x y");
    check_str("%{REQUEST_URI}", "/x");
    check_str("x $1 y", "x  y");
    check_str("x $ y", "x $ y");
    check_str("x % y", "x % y");
    check_str("x \\% y", "x % y");
    check_str("x \\101 y", "x A y");
    check_str("a}b", "a}b");
    check_str("%{tolower:%{HTTP:X-Test}}!", "hello!");
    check_str("true && false", "true && false");
    assert_null(rl_expr_compile_string(a, "%{NOPE}", err, sizeof(err)));
    assert_string_equal(err, "Variable 'NOPE' does not exist");
    assert_null(rl_expr_compile_string(a, "a%{REQUEST_URI", err, sizeof(err)));
    assert_string_equal(err, "syntax error, unexpected T_ERROR, expecting T_VAR_END or ':':"
                        " Unterminated string or variable");
    assert_null(rl_expr_compile_string(a, "a\nb", err, sizeof(err)));
    assert_string_equal(err, "Unterminated string or variable");
    assert_null(rl_expr_compile_string(a, "a\\8", err, sizeof(err)));
    assert_string_equal(err, "Bad escape sequence");
    rl_arena_destroy(a);
}

/* The regexes go with the arena (ASan would report a leak otherwise). */
static void test_arena_lifetime(void **state)
{
    char err[128];
    (void)state;
    for (int i = 0; i < 100; i++) {
        rl_arena_t *a = rl_arena_create(0);
        assert_non_null(rl_expr_compile(a, "'a' =~ /(a)/ && 'b' !~ m#c#i", err, sizeof(err)));
        assert_null(rl_expr_compile(a, "'a' =~ /(a)/ && 'b' !~ m#(#", err, sizeof(err)));
        rl_arena_reset(a);
        rl_arena_destroy(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_logic, setup_request),
        cmocka_unit_test_setup(test_string_compare, setup_request),
        cmocka_unit_test_setup(test_integer_compare, setup_request),
        cmocka_unit_test_setup(test_strings, setup_request),
        cmocka_unit_test_setup(test_variables, setup_request),
        cmocka_unit_test_setup(test_no_callback, setup_request),
        cmocka_unit_test_setup(test_functions, setup_request),
        cmocka_unit_test_setup(test_unary_strings, setup_request),
        cmocka_unit_test_setup_teardown(test_file_tests, setup_files, teardown_files),
        cmocka_unit_test_setup_teardown(test_debian_php_fpm, setup_files, teardown_files),
        cmocka_unit_test_setup(test_remote_addr, setup_request),
        cmocka_unit_test_setup(test_ipmatch, setup_request),
        cmocka_unit_test_setup(test_strmatch, setup_request),
        cmocka_unit_test_setup(test_regex, setup_request),
        cmocka_unit_test_setup(test_backrefs, setup_request),
        cmocka_unit_test_setup(test_captures_across_evaluations, setup_request),
        cmocka_unit_test_setup(test_in_lists, setup_request),
        cmocka_unit_test_setup(test_syntax_errors, setup_request),
        cmocka_unit_test_setup(test_lexer_errors, setup_request),
        cmocka_unit_test_setup(test_lookup_errors, setup_request),
        cmocka_unit_test_setup(test_limits, setup_request),
        cmocka_unit_test_setup(test_eval_errors, setup_request),
        cmocka_unit_test_setup(test_string_expressions, setup_request),
        cmocka_unit_test_setup(test_arena_lifetime, setup_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
