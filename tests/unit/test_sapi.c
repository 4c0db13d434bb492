/* Unit tests for src/sapi: the real PHP (libphp8.2) behind an in-memory
 * rl_sapi_io_t. Scripts are written into a temporary directory; PHP reads
 * a php.ini of ours (-c) plus Debian's fpm conf.d (extensions, opcache). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sapi/sapi.h"

static char dir[64];

/* --- an in-memory connection --------------------------------------------- */

typedef struct {
    char out[1 << 20];
    size_t len;
    const char *body;
    size_t body_len, body_pos;
    int finishes;
    int flushes;
    size_t fail_after;          /* write fails once <len> would pass it; 0 never */
    char logs[8192];
    size_t logs_len;
} mem_t;

static ssize_t mem_read(void *ctx, char *buf, size_t len)
{
    mem_t *m = ctx;
    size_t n = m->body_len - m->body_pos;
    if (n > len)
        n = len;
    memcpy(buf, m->body + m->body_pos, n);
    m->body_pos += n;
    return (ssize_t)n;
}

static int mem_write(void *ctx, const char *data, size_t len)
{
    mem_t *m = ctx;
    if (m->fail_after && m->len + len > m->fail_after)
        return -1;
    assert_true(m->len + len < sizeof(m->out));
    memcpy(m->out + m->len, data, len);
    m->len += len;
    m->out[m->len] = '\0';
    return 0;
}

static int mem_flush(void *ctx)
{
    ((mem_t *)ctx)->flushes++;
    return 0;
}

static int mem_finish(void *ctx)
{
    ((mem_t *)ctx)->finishes++;
    return 0;
}

static void mem_log(void *ctx, int level, const char *line, size_t len)
{
    mem_t *m = ctx;
    (void)level;
    int n = snprintf(m->logs + m->logs_len, sizeof(m->logs) - m->logs_len, "%.*s\n",
                     (int)len, line);
    if (n > 0 && m->logs_len + (size_t)n < sizeof(m->logs))
        m->logs_len += (size_t)n;
}

static void mem_log_own(void *ctx, int level, const char *line, size_t len)
{
    mem_t *m = ctx;
    int n = snprintf(m->logs + m->logs_len, sizeof(m->logs) - m->logs_len, "[own %d] %.*s\n",
                     level, (int)len, line);
    if (n > 0 && m->logs_len + (size_t)n < sizeof(m->logs))
        m->logs_len += (size_t)n;
}

static mem_t *mem_new(void)
{
    mem_t *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    return m;
}

static rl_sapi_io_t mem_io(mem_t *m)
{
    rl_sapi_io_t io = { .ctx = m, .read_body = mem_read, .write = mem_write, .flush = mem_flush,
                        .finish = mem_finish, .log = mem_log, .log_own = mem_log_own };
    return io;
}

/* --- requests ------------------------------------------------------------- */

#define MAXP 32

typedef struct {
    size_t n;
    const char *names[MAXP];
    size_t name_lens[MAXP];
    const char *values[MAXP];
    size_t value_lens[MAXP];
    char store[MAXP][1024];
    const char *const *limit;
} params_t;

static void param(params_t *p, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void param(params_t *p, const char *name, const char *fmt, ...)
{
    va_list ap;
    assert_true(p->n < MAXP);
    va_start(ap, fmt);
    vsnprintf(p->store[p->n], sizeof(p->store[0]), fmt, ap);
    va_end(ap);
    p->names[p->n] = name;
    p->name_lens[p->n] = strlen(name);
    p->values[p->n] = p->store[p->n];
    p->value_lens[p->n] = strlen(p->store[p->n]);
    p->n++;
}

/* nginx's usual params for GET <script><pathinfo>?<query> */
static void params_for(params_t *p, const char *method, const char *script, const char *query)
{
    memset(p, 0, sizeof(*p));
    param(p, "SCRIPT_FILENAME", "%s%s", dir, script);
    param(p, "QUERY_STRING", "%s", query);
    param(p, "REQUEST_METHOD", "%s", method);
    param(p, "SCRIPT_NAME", "%s", script);
    param(p, "REQUEST_URI", "%s%s%s", script, *query ? "?" : "", query);
    param(p, "DOCUMENT_ROOT", "%s", dir);
    param(p, "SERVER_PROTOCOL", "HTTP/1.1");
    param(p, "GATEWAY_INTERFACE", "CGI/1.1");
    param(p, "SERVER_SOFTWARE", "nginx");
    param(p, "REMOTE_ADDR", "127.0.0.1");
    param(p, "SERVER_NAME", "localhost");
    param(p, "SERVER_PORT", "80");
    param(p, "HTTP_HOST", "localhost");
}

static int run(params_t *p, mem_t *m, rl_sapi_result_t *res)
{
    rl_sapi_request_t req = { p->n, p->names, p->name_lens, p->values, p->value_lens, p->limit };
    rl_sapi_io_t io = mem_io(m);
    return rl_sapi_run(&req, &io, res);
}

static void write_file(const char *name, const char *content)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* GET <script>, asserting rl_sapi_run() returns 0 */
static mem_t *get(const char *script, const char *query, rl_sapi_result_t *res)
{
    params_t p;
    mem_t *m = mem_new();
    params_for(&p, "GET", script, query);
    assert_int_equal(run(&p, m, res), 0);
    return m;
}

static const char *body_of(const mem_t *m)
{
    const char *b = strstr(m->out, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

#define CT "Content-type: text/html; charset=UTF-8\r\n"

/* --- the tests ------------------------------------------------------------ */

static void test_hello(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    write_file("/hello.php", "<?php echo 'hello';");
    mem_t *m = get("/hello.php", "", &res);
    assert_string_equal(m->out, CT "\r\nhello");
    assert_int_equal(res.status, 200);
    assert_string_equal(res.method, "GET");
    assert_string_equal(res.request_uri, "/hello.php");
    assert_false(res.finished_early);
    assert_false(res.aborted);
    assert_true(res.memory_peak > 0);
    char want[128];
    snprintf(want, sizeof(want), "%s/hello.php", dir);
    assert_string_equal(res.script, want);
    free(m);
}

static void test_sapi_name(void **state)
{
    (void)state;
    write_file("/name.php", "<?php echo php_sapi_name(), ' ', PHP_SAPI, ' ',"
                            " function_exists('fastcgi_finish_request') ? 'f' : '-',"
                            " ini_get('cgi.fix_pathinfo'), ' ', ini_get('precision');");
    mem_t *m = get("/name.php", "", NULL);
    assert_string_equal(body_of(m), "fpm-fcgi fpm-fcgi f1 10");
    free(m);
}

static void test_opcache(void **state)
{
    (void)state;
    write_file("/opc.php", "<?php $s = function_exists('opcache_get_status') ?"
                           " opcache_get_status(false) : false;"
                           " echo $s !== false && $s['opcache_enabled'] ? 'on' : 'off';");
    mem_t *m = get("/opc.php", "", NULL);
    assert_string_equal(body_of(m), "on");
    free(m);
}

static void test_server_vars(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    write_file("/vars.php",
               "<?php foreach (['SCRIPT_FILENAME', 'SCRIPT_NAME', 'PHP_SELF', 'PATH_INFO',"
               " 'QUERY_STRING', 'FCGI_ROLE', 'HTTP_X_FOO', 'REQUEST_URI', 'DOCUMENT_ROOT'] as $k)"
               " echo $k, '=', $_SERVER[$k] ?? '(unset)', \"\\n\";"
               " echo is_int($_SERVER['REQUEST_TIME']) ? 'int' : 'x', ' ',"
               " is_float($_SERVER['REQUEST_TIME_FLOAT']) ? 'float' : 'x', \"\\n\";"
               " echo getenv('HTTP_X_FOO'), ' ', implode(',', array_values(array_intersect("
               " array_keys($_SERVER), ['HTTP_X_FOO', 'SCRIPT_FILENAME', 'FCGI_ROLE', 'PHP_SELF',"
               " 'REQUEST_TIME'])));");
    params_for(&p, "GET", "/vars.php", "a=1");
    param(&p, "PATH_INFO", "%s", "");
    param(&p, "HTTP_X_FOO", "bar");
    assert_int_equal(run(&p, m, NULL), 0);
    char want[1024];
    snprintf(want, sizeof(want),
             "SCRIPT_FILENAME=%s/vars.php\nSCRIPT_NAME=/vars.php\nPHP_SELF=/vars.php\n"
             "PATH_INFO=\nQUERY_STRING=a=1\nFCGI_ROLE=RESPONDER\nHTTP_X_FOO=bar\n"
             "REQUEST_URI=/vars.php?a=1\nDOCUMENT_ROOT=%s\nint float\n"
             "bar HTTP_X_FOO,SCRIPT_FILENAME,FCGI_ROLE,PHP_SELF,REQUEST_TIME",
             dir, dir);
    assert_string_equal(body_of(m), want);
    free(m);
}

/* Apache's mod_proxy_fcgi: SCRIPT_FILENAME "proxy:fcgi://host:port/path",
 * the path info in it and in SCRIPT_NAME */
static void test_proxy_fcgi_pathinfo(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    rl_sapi_result_t res;
    write_file("/info.php",
               "<?php foreach (['SCRIPT_FILENAME', 'ORIG_SCRIPT_FILENAME', 'SCRIPT_NAME',"
               " 'ORIG_SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED', 'PHP_SELF'] as $k)"
               " echo $k, '=', $_SERVER[$k] ?? '(unset)', \"\\n\";");
    memset(&p, 0, sizeof(p));
    param(&p, "SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:9000%s/info.php/extra/x", dir);
    param(&p, "SCRIPT_NAME", "/info.php/extra/x");
    param(&p, "REQUEST_METHOD", "GET");
    param(&p, "REQUEST_URI", "/info.php/extra/x");
    param(&p, "DOCUMENT_ROOT", "%s", dir);
    assert_int_equal(run(&p, m, &res), 0);
    char want[1024];
    snprintf(want, sizeof(want),
             "SCRIPT_FILENAME=%s/info.php\nORIG_SCRIPT_FILENAME=%s/info.php/extra/x\n"
             "SCRIPT_NAME=/info.php\nORIG_SCRIPT_NAME=/info.php/extra/x\nPATH_INFO=/extra/x\n"
             "PATH_TRANSLATED=%s/extra/x\nPHP_SELF=/info.php/extra/x\n",
             dir, dir, dir);
    assert_string_equal(body_of(m), want);
    assert_string_equal(res.request_uri, "/info.php");
    free(m);
}

static void test_get_post_cookie(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    static const char body[] = "x=1&y%5B%5D=a+b&y%5B%5D=c";
    write_file("/gpc.php", "<?php echo json_encode([$_GET, $_POST, $_COOKIE, $_REQUEST['x'],"
                           " file_get_contents('php://input')]);");
    params_for(&p, "POST", "/gpc.php", "q=%C3%A9&arr[k]=v");
    param(&p, "CONTENT_TYPE", "application/x-www-form-urlencoded");
    param(&p, "CONTENT_LENGTH", "%zu", sizeof(body) - 1);
    param(&p, "HTTP_COOKIE", "%s", "c1=v1; c2=v%202");
    m->body = body;
    m->body_len = sizeof(body) - 1;
    assert_int_equal(run(&p, m, NULL), 0);
    assert_string_equal(body_of(m),
                        "[{\"q\":\"\\u00e9\",\"arr\":{\"k\":\"v\"}},{\"x\":\"1\",\"y\":[\"a b\",\"c\"]},"
                        "{\"c1\":\"v1\",\"c2\":\"v 2\"},\"1\",\"x=1&y%5B%5D=a+b&y%5B%5D=c\"]");
    free(m);
}

static void test_php_input_json(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    static const char body[] = "{\"k\": [1, 2]}";
    rl_sapi_result_t res;
    write_file("/input.php", "<?php echo count($_POST), ' ', file_get_contents('php://input'),"
                             " ' ', file_get_contents('php://input');");
    params_for(&p, "PUT", "/input.php", "");
    param(&p, "CONTENT_TYPE", "application/json");
    param(&p, "CONTENT_LENGTH", "%zu", sizeof(body) - 1);
    m->body = body;
    m->body_len = sizeof(body) - 1;
    assert_int_equal(run(&p, m, &res), 0);
    assert_string_equal(body_of(m), "0 {\"k\": [1, 2]} {\"k\": [1, 2]}");
    assert_int_equal(res.content_length, sizeof(body) - 1);
    assert_string_equal(res.method, "PUT");
    free(m);
}

static void test_multipart_files(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"field\"\r\n\r\n"
        "value\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"up\"; filename=\"a.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "file contents\n\r\n"
        "--XyZ--\r\n";
    write_file("/up.php", "<?php $f = $_FILES['up']; echo $_POST['field'], '|', $f['name'], '|',"
                          " $f['type'], '|', $f['size'], '|', $f['error'], '|',"
                          " file_get_contents($f['tmp_name']), '|',"
                          " is_uploaded_file($f['tmp_name']) ? 'up' : 'no';");
    params_for(&p, "POST", "/up.php", "");
    param(&p, "CONTENT_TYPE", "multipart/form-data; boundary=XyZ");
    param(&p, "CONTENT_LENGTH", "%zu", sizeof(body) - 1);
    m->body = body;
    m->body_len = sizeof(body) - 1;
    assert_int_equal(run(&p, m, NULL), 0);
    assert_string_equal(body_of(m), "value|a.txt|text/plain|14|0|file contents\n|up");
    free(m);
}

static void test_headers_and_status(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    write_file("/h404.php", "<?php header('X-A: 1'); http_response_code(404); echo 'gone';");
    mem_t *m = get("/h404.php", "", &res);
    assert_string_equal(m->out, "Status: 404 Not Found\r\nX-A: 1\r\n" CT "\r\ngone");
    assert_int_equal(res.status, 404);
    free(m);

    write_file("/h418.php", "<?php header('HTTP/1.1 418 I Am A Teapot'); echo 't';");
    m = get("/h418.php", "", &res);
    assert_string_equal(m->out, "Status: 418 I Am A Teapot\r\n" CT "\r\nt");
    assert_int_equal(res.status, 418);
    free(m);

    write_file("/h299.php", "<?php http_response_code(299);"
                            " header('Content-Type: text/plain'); echo 'x';");
    m = get("/h299.php", "", &res);
    /* PHP itself adds the charset to a text/ type */
    assert_string_equal(m->out, "Status: 299\r\nContent-type: text/plain;charset=UTF-8\r\n\r\nx");
    free(m);

    write_file("/redir.php", "<?php header('Location: /elsewhere');");
    m = get("/redir.php", "", &res);
    assert_string_equal(m->out, "Status: 302 Found\r\nLocation: /elsewhere\r\n" CT "\r\n");
    assert_int_equal(res.status, 302);
    free(m);

    write_file("/h304.php", "<?php http_response_code(304);");
    m = get("/h304.php", "", &res);
    assert_string_equal(m->out, "Status: 304 Not Modified\r\n\r\n");
    free(m);
}

static void test_head(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    write_file("/head.php", "<?php header('X-B: 2'); echo str_repeat('b', 10000);");
    params_for(&p, "HEAD", "/head.php", "");
    assert_int_equal(run(&p, m, NULL), 0);
    assert_string_equal(m->out, "X-B: 2\r\n" CT "\r\n");
    free(m);
}

static void test_finish_request(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    char marker[128], got[16] = "";
    snprintf(marker, sizeof(marker), "%s/marker", dir);
    unlink(marker);

    /* output after fastcgi_finish_request() is dropped; as php-fpm's
     * FastCGI buffer, the first 8 KiB silently */
    write_file("/fin.php", "<?php echo 'a'; $r = [fastcgi_finish_request(), fastcgi_finish_request()];"
                           " echo 'b'; flush(); file_put_contents(__DIR__ . '/marker', json_encode($r));");
    mem_t *m = get("/fin.php", "", &res);
    assert_string_equal(body_of(m), "a");
    assert_int_equal(m->finishes, 1);
    assert_true(res.finished_early);
    assert_false(res.aborted);
    FILE *f = fopen(marker, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "[true,false]");
    free(m);

    /* beyond, the script is aborted */
    unlink(marker);
    write_file("/fin1.php", "<?php echo 'a'; fastcgi_finish_request(); echo str_repeat('b', 9000);"
                            " file_put_contents(__DIR__ . '/marker', 'reached');");
    m = get("/fin1.php", "", &res);
    assert_string_equal(body_of(m), "a");
    assert_int_equal(access(marker, F_OK), -1);
    free(m);

    /* unless ignore_user_abort */
    write_file("/fin2.php", "<?php ignore_user_abort(true); echo 'a'; fastcgi_finish_request();"
                            " echo str_repeat('b', 9000); file_put_contents(__DIR__ . '/marker',"
                            " connection_aborted() ? 'aborted' : 'alive');");
    m = get("/fin2.php", "", &res);
    assert_string_equal(body_of(m), "a");
    assert_int_equal(m->finishes, 1);
    f = fopen(marker, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "aborted");
    free(m);
}

static void test_client_abort(void **state)
{
    (void)state;
    params_t p;
    rl_sapi_result_t res;
    char marker[128], got[16] = "";
    mem_t *m = mem_new();
    snprintf(marker, sizeof(marker), "%s/abort", dir);
    write_file("/abort.php", "<?php ignore_user_abort(true); echo str_repeat('x', 100000); flush();"
                             " file_put_contents(__DIR__ . '/abort', connection_aborted());");
    params_for(&p, "GET", "/abort.php", "");
    m->fail_after = 1000;
    assert_int_equal(run(&p, m, &res), 0);
    assert_true(res.aborted);
    FILE *f = fopen(marker, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "1");
    free(m);
}

static void test_fatal_then_ok(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    write_file("/fatal.php", "<?php echo 'x'; nope();");
    write_file("/fatal2.php", "<?php nope();");
    mem_t *m = get("/fatal2.php", "", &res);
    assert_string_equal(m->out, "Status: 500 Internal Server Error\r\n" CT "\r\n");
    assert_int_equal(res.status, 500);
    assert_non_null(strstr(m->logs, "PHP Fatal error:  Uncaught Error: Call to undefined function nope()"));
    free(m);

    /* headers already out (output_buffering off for this test's ini): 200 */
    m = get("/fatal.php", "", &res);
    assert_string_equal(m->out, CT "\r\nx");
    free(m);

    m = get("/hello.php", "", &res);
    assert_string_equal(m->out, CT "\r\nhello");
    assert_int_equal(res.status, 200);
    free(m);
}

static void test_exit_and_exception(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    write_file("/exit.php", "<?php echo 'before'; exit(3); echo 'after';");
    mem_t *m = get("/exit.php", "", &res);
    assert_string_equal(body_of(m), "before");
    assert_int_equal(res.status, 200);
    free(m);

    write_file("/exc.php", "<?php function f() { throw new RuntimeException('boom'); } f();");
    m = get("/exc.php", "", &res);
    assert_int_equal(res.status, 500);
    assert_non_null(strstr(m->logs, "PHP Fatal error:  Uncaught RuntimeException: boom"));
    free(m);

    m = get("/hello.php", "", &res);
    assert_string_equal(body_of(m), "hello");
    free(m);
}

static void test_memory_limit(void **state)
{
    (void)state;
    rl_sapi_result_t res;
    write_file("/oom.php", "<?php ini_set('memory_limit', '8M'); $a = [];"
                           " for ($i = 0; ; $i++) $a[] = str_repeat('m', 100000);");
    mem_t *m = get("/oom.php", "", &res);
    assert_int_equal(res.status, 500);
    assert_non_null(strstr(m->logs, "Allowed memory size of 8388608 bytes exhausted"));
    free(m);

    write_file("/ml.php", "<?php echo ini_get('memory_limit'), ' ', strlen(str_repeat('m', 20000000));");
    m = get("/ml.php", "", &res);
    assert_string_equal(body_of(m), "64M 20000000");
    free(m);
}

static void test_limit_extensions(void **state)
{
    (void)state;
    params_t p;
    rl_sapi_result_t res;
    static const char *const php_only[] = { ".php", NULL };
    mem_t *m = mem_new();
    write_file("/secret.txt", "<?php echo 'ran';");
    params_for(&p, "GET", "/secret.txt", "");
    p.limit = php_only;
    assert_int_equal(run(&p, m, &res), 0);
    assert_string_equal(m->out, "Status: 403 Forbidden\r\n" CT "\r\nAccess denied.\n");
    assert_int_equal(res.status, 403);
    char want[256];
    snprintf(want, sizeof(want), "[own %d] Access to the script '%s/secret.txt' has been denied"
                                 " (see security.limit_extensions)\n", LOG_NOTICE, dir);
    assert_string_equal(m->logs, want);
    free(m);

    /* NULL: any extension */
    m = mem_new();
    p.limit = NULL;
    assert_int_equal(run(&p, m, &res), 0);
    assert_string_equal(body_of(m), "ran");
    free(m);
}

static void test_missing_script(void **state)
{
    (void)state;
    params_t p;
    rl_sapi_result_t res;
    mem_t *m = get("/nope.php", "", &res);
    assert_string_equal(m->out, "Status: 404 Not Found\r\n" CT "\r\nFile not found.\n");
    assert_int_equal(res.status, 404);
    assert_string_equal(res.script, "");
    char want[64];
    snprintf(want, sizeof(want), "[own %d] Primary script unknown\n", LOG_DEBUG);
    assert_string_equal(m->logs, want);
    free(m);

    /* no SCRIPT_FILENAME at all */
    m = mem_new();
    memset(&p, 0, sizeof(p));
    param(&p, "REQUEST_METHOD", "GET");
    assert_int_equal(run(&p, m, &res), 0);
    assert_string_equal(m->out, "Status: 404 Not Found\r\n" CT "\r\nFile not found.\n");
    free(m);

    /* unreadable: 403 (unless we are root, who reads anything) */
    if (geteuid() != 0) {
        write_file("/locked.php", "<?php echo 1;");
        char path[128];
        snprintf(path, sizeof(path), "%s/locked.php", dir);
        chmod(path, 0);
        m = get("/locked.php", "", &res);
        assert_string_equal(m->out, "Status: 403 Forbidden\r\n" CT "\r\nAccess denied.\n");
        free(m);
    }
}

static void test_request_headers(void **state)
{
    (void)state;
    params_t p;
    mem_t *m = mem_new();
    write_file("/rh.php", "<?php echo json_encode(getallheaders(), JSON_UNESCAPED_SLASHES),"
                          " json_encode(apache_request_headers() === getallheaders());");
    memset(&p, 0, sizeof(p));
    param(&p, "SCRIPT_FILENAME", "%s/rh.php", dir);
    param(&p, "REQUEST_METHOD", "GET");
    param(&p, "CONTENT_TYPE", "text/plain");
    param(&p, "HTTP_X_FORWARDED_FOR", "1.2.3.4");
    param(&p, "HTTP_HOST", "example.org");
    assert_int_equal(run(&p, m, NULL), 0);
    assert_string_equal(body_of(m), "{\"Host\":\"example.org\",\"X-Forwarded-For\":\"1.2.3.4\","
                                    "\"Content-Type\":\"text/plain\"}true");
    free(m);
}

static void test_auth(void **state)
{
    (void)state;
    params_t p;
    rl_sapi_result_t res;
    mem_t *m = mem_new();
    write_file("/auth.php", "<?php echo $_SERVER['PHP_AUTH_USER'], ':', $_SERVER['PHP_AUTH_PW'];");
    params_for(&p, "GET", "/auth.php", "");
    param(&p, "HTTP_AUTHORIZATION", "Basic dXNlcjpwYXNz");
    assert_int_equal(run(&p, m, &res), 0);
    assert_string_equal(body_of(m), "user:pass");
    assert_string_equal(res.auth_user, "user");
    free(m);
}

static void test_user_ini(void **state)
{
    (void)state;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    mkdir(sub, 0755);
    write_file("/sub/.user.ini", "precision = 7\n");
    write_file("/sub/ui.php", "<?php echo ini_get('precision');");
    mem_t *m = get("/sub/ui.php", "", NULL);
    assert_string_equal(body_of(m), "7");
    free(m);
    write_file("/prec.php", "<?php echo ini_get('precision');");
    m = get("/prec.php", "", NULL);
    assert_string_equal(body_of(m), "10");
    free(m);
}

/* last of the PHP-state changing ones: master values stay changed */
static void test_pool_ini(void **state)
{
    (void)state;
    char err[256];
    rl_sapi_pool_value_t bad = { "no.such.thing", "1", false, NULL };
    rl_sapi_pool_value_t flag = { "short_open_tag", "0", false, &bad };
    rl_sapi_pool_value_t user = { "default_socket_timeout", "7", false, &flag };
    rl_sapi_pool_value_t admin = { "user_agent", "relais-test", true, &user };
    assert_int_equal(rl_sapi_pool_ini(&admin, err, sizeof(err)), -1);
    assert_string_equal(err, "Unable to set php_value 'no.such.thing'");

    write_file("/pool.php", "<?php var_export([ini_set('user_agent', 'x'), ini_get('user_agent'),"
                            " ini_set('default_socket_timeout', '9'), ini_get('default_socket_timeout'),"
                            " ini_get('short_open_tag')]);");
    mem_t *m = get("/pool.php", "", NULL);
    assert_string_equal(body_of(m), "array (\n  0 => false,\n  1 => 'relais-test',\n  2 => '7',\n"
                                    "  3 => '9',\n  4 => '0',\n)");
    free(m);
}

static void test_backtrace(void **state)
{
    (void)state;
    char out[4096];
    write_file("/slow.php", "<?php\nfunction inner() {\n  usleep(1500000);\n}\ninner();\n");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mem_t *m = mem_new();
        params_t p;
        params_for(&p, "GET", "/slow.php", "");
        _exit(run(&p, m, NULL) == 0 ? 0 : 1);
    }
    struct timespec ts = { 0, 500 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ssize_t n = rl_sapi_backtrace(pid, rl_sapi_executor_globals(), 20, out, sizeof(out));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(n > 0);
    char l1[512], l2[512];
    snprintf(l1, sizeof(l1), "] usleep() %s/slow.php:3\n", dir);
    snprintf(l2, sizeof(l2), "] inner() %s/slow.php:5\n", dir);
    char *a = strstr(out, l1), *b = strstr(out, l2);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    assert_int_equal(strncmp(out, "[0x", 3), 0);
    /* depth */
    n = rl_sapi_backtrace(getpid(), rl_sapi_executor_globals(), 20, out, sizeof(out));
    assert_int_equal(n, 0);
    assert_int_equal(rl_sapi_backtrace(999999999, rl_sapi_executor_globals(), 20, out, sizeof(out)), -1);
}

static void test_print_modules(void **state)
{
    (void)state;
    char path[128];
    static char buf[1 << 20];
    snprintf(path, sizeof(path), "%s/modules.txt", dir);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    rl_sapi_print_modules();
    rl_sapi_print_version();
    rl_sapi_print_info();
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_int_equal(strncmp(buf, "[PHP Modules]\n", 14), 0);
    assert_non_null(strstr(buf, "\ncgi-fcgi\nCore\n"));
    assert_non_null(strstr(buf, "\n\n[Zend Modules]\nZend OPcache\n\nPHP 8.2."));
    assert_non_null(strstr(buf, " (fpm-fcgi) (built: "));
    assert_non_null(strstr(buf, "\nZend Engine v4.2."));
    assert_non_null(strstr(buf, "\nphpinfo()\nPHP Version => 8.2."));
    assert_non_null(strstr(buf, "\nServer API => FPM/FastCGI\n"));
    assert_non_null(strstr(buf, "\nphp-fpm => active\n"));
    assert_null(strstr(buf, "<table"));
}

static int setup(void **state)
{
    (void)state;
    char ini[128];
    static const rl_sapi_ini_t define = { "precision", "10", NULL };
    rl_sapi_opts_t opts = { ini, false, &define };

    snprintf(dir, sizeof(dir), "/tmp/rl-sapi-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ini, sizeof(ini), "%s/php.ini", dir);
    FILE *f = fopen(ini, "w");
    if (!f)
        return -1;
    fputs("expose_php = Off\n"
          "display_errors = Off\n"
          "log_errors = On\n"
          "html_errors = Off\n"
          "output_buffering = 0\n"
          "memory_limit = 64M\n"
          "error_reporting = E_ALL\n"
          "variables_order = \"GPCS\"\n"
          "opcache.enable = 1\n"
          "opcache.validate_timestamps = 1\n"
          "opcache.revalidate_freq = 0\n"
          "opcache.file_update_protection = 0\n",
          f);
    fclose(f);
    return rl_sapi_startup(&opts);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    rl_sapi_shutdown();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_sapi_name),
        cmocka_unit_test(test_opcache),
        cmocka_unit_test(test_server_vars),
        cmocka_unit_test(test_proxy_fcgi_pathinfo),
        cmocka_unit_test(test_get_post_cookie),
        cmocka_unit_test(test_php_input_json),
        cmocka_unit_test(test_multipart_files),
        cmocka_unit_test(test_headers_and_status),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_finish_request),
        cmocka_unit_test(test_client_abort),
        cmocka_unit_test(test_fatal_then_ok),
        cmocka_unit_test(test_exit_and_exception),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_limit_extensions),
        cmocka_unit_test(test_missing_script),
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_user_ini),
        cmocka_unit_test(test_pool_ini),
        cmocka_unit_test(test_backtrace),
        cmocka_unit_test(test_print_modules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
