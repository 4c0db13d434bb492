/* Unit tests for src/fpm/scoreboard.c and src/fpm/status.c: php-fpm 8.2's
 * status page and ping.
 *
 * The expected texts are what php-fpm 8.2.36 (Debian's php-fpm8.2) answered
 * over FastCGI to SCRIPT_NAME=/status with the same figures: a static pool
 * "www" of three children, one running /sleep.php, one idle after a status
 * request, the third answering (captured 27-Nov-2026, TZ=UTC). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fpm/status.h"

#define START 1795782359ull           /* 27/Nov/2026:12:25:59 +0000 */
#define NOW_US ((START + 27) * 1000000ull + 500000ull)

#define COMMON "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n" \
               "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"

typedef struct {
    rl_fpm_scoreboard_t *sb;
    rl_fpm_status_t st;
    rl_buf_t out;
} fx_t;

static void set_slot(rl_fpm_slot_t *s, pid_t pid, int stage, uint64_t requests, const char *method,
                     const char *uri, const char *query, const char *script)
{
    s->pid = pid;
    s->stage = stage;
    s->start_us = START * 1000000ull;
    s->requests = requests;
    snprintf(s->method, sizeof(s->method), "%s", method);
    snprintf(s->request_uri, sizeof(s->request_uri), "%s", uri);
    snprintf(s->query, sizeof(s->query), "%s", query);
    snprintf(s->script, sizeof(s->script), "%s", script);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->sb = rl_fpm_scoreboard_create("www", "static", 4);
    if (!f->sb)
        return -1;
    rl_fpm_scoreboard_t *sb = f->sb;
    sb->start_us = START * 1000000ull;
    sb->idle = 1;
    sb->active = 2;
    sb->total = 3;
    sb->max_active = 3;
    sb->accepted_conn = 50;
    rl_fpm_slot_t *s = sb->slots;
    set_slot(&s[0], 26291, RL_FPM_STAGE_RUNNING, 16, "GET", "/sleep.php",
             "t=2&<a>=\"x\"&c='d'&e=%C3%A9/", "/tmp/hstat/www/sleep.php");
    s[0].accepted_us = NOW_US - 500084;
    s[0].content_length = 5;
    s[0].memory = 5099520;          /* the last request's: not shown while running */
    set_slot(&s[1], 26292, RL_FPM_STAGE_IDLE, 17, "GET", "/status", "html&full", "");
    s[1].duration_us = 123;
    s[1].memory = 2097152;
    /* the child answering: php-fpm shows it "Running" whatever its slot says */
    set_slot(&s[2], 26293, RL_FPM_STAGE_INFO, 17, "GET", "/status", "full", "");
    s[2].accepted_us = NOW_US - 79;
    s[2].memory = 2097152;
    /* s[3]: a free slot, not shown */
    f->st = (rl_fpm_status_t){ .sb = sb, .listen_queue = 0, .listen_queue_len = 4096,
                               .now_us = NOW_US, .self = 26293 };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    rl_fpm_scoreboard_destroy(f->sb);
    rl_buf_release(&f->out);
    free(f);
    return 0;
}

static const char *render(fx_t *f, const char *query, bool head)
{
    rl_buf_clear(&f->out);
    rl_fpm_status_render(&f->st, query, head, &f->out);
    rl_buf_append(&f->out, "", 1);
    return rl_buf_head(&f->out);
}

/* ---- scoreboard ---- */

static void test_scoreboard_create(void **state)
{
    (void)state;
    uint64_t before = rl_fpm_now_us();
    rl_fpm_scoreboard_t *sb = rl_fpm_scoreboard_create("www", "dynamic", 3);
    assert_non_null(sb);
    assert_string_equal(sb->pool, "www");
    assert_string_equal(sb->pm, "dynamic");
    assert_int_equal(sb->nslots, 3);
    assert_true(sb->start_us >= before && sb->start_us <= rl_fpm_now_us());
    assert_int_equal(sb->slots[2].pid, 0);
    assert_int_equal(sb->accepted_conn, 0);
    assert_int_equal(rl_fpm_scoreboard_free_slot(sb), 0);
    sb->slots[0].pid = 10;
    sb->slots[1].pid = 11;
    assert_int_equal(rl_fpm_scoreboard_free_slot(sb), 2);
    sb->slots[2].pid = 12;
    assert_int_equal(rl_fpm_scoreboard_free_slot(sb), -1);
    sb->slots[1].pid = 0;
    assert_int_equal(rl_fpm_scoreboard_free_slot(sb), 1);
    rl_fpm_scoreboard_destroy(sb);
    assert_null(rl_fpm_scoreboard_create("www", "static", -1));
}

/* The mapping is shared: what a forked child writes, the parent reads. */
static void test_scoreboard_shared(void **state)
{
    (void)state;
    rl_fpm_scoreboard_t *sb = rl_fpm_scoreboard_create("www", "static", 2);
    assert_non_null(sb);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sb->slots[1].pid = getpid();
        sb->slots[1].stage = RL_FPM_STAGE_RUNNING;
        __atomic_add_fetch(&sb->accepted_conn, 1, __ATOMIC_RELAXED);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(sb->slots[1].pid, pid);
    assert_int_equal(sb->slots[1].stage, RL_FPM_STAGE_RUNNING);
    assert_int_equal(sb->accepted_conn, 1);
    rl_fpm_scoreboard_destroy(sb);
}

/* php-fpm8.2's strings (8.2 says "information", without the 's' of 7.x). */
static void test_stage_names(void **state)
{
    (void)state;
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_IDLE), "Idle");
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_READING), "Reading headers");
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_INFO), "Getting request information");
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_RUNNING), "Running");
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_FINISHING), "Finishing");
    assert_string_equal(rl_fpm_stage_name(RL_FPM_STAGE_ENDING), "Ending");
    assert_string_equal(rl_fpm_stage_name(42), "Unknown");
    assert_string_equal(rl_fpm_stage_name(-1), "Unknown");
}

static void test_clocks(void **state)
{
    (void)state;
    uint64_t m = rl_fpm_mono_us();
    assert_true(rl_fpm_mono_us() >= m);
    assert_true(rl_fpm_now_us() > 1600000000ull * 1000000ull);
}

/* ---- the pages ---- */

#define POOL_TEXT \
    "pool:                 www\n" \
    "process manager:      static\n" \
    "start time:           27/Nov/2026:12:25:59 +0000\n" \
    "start since:          27\n" \
    "accepted conn:        50\n" \
    "listen queue:         0\n" \
    "max listen queue:     0\n" \
    "listen queue len:     4096\n" \
    "idle processes:       1\n" \
    "active processes:     2\n" \
    "total processes:      3\n" \
    "max active processes: 3\n" \
    "max children reached: 0\n" \
    "slow requests:        0\n"

static void test_text(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "", false),
        COMMON "Content-type: text/plain;charset=UTF-8\r\n\r\n" POOL_TEXT);
}

static void test_text_full(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "full", false),
        COMMON "Content-type: text/plain;charset=UTF-8\r\n\r\n" POOL_TEXT
        "\n"
        "************************\n"
        "pid:                  26291\n"
        "state:                Running\n"
        "start time:           27/Nov/2026:12:25:59 +0000\n"
        "start since:          27\n"
        "requests:             16\n"
        "request duration:     500084\n"
        "request method:       GET\n"
        "request URI:          /sleep.php?t=2&<a>=\"x\"&c='d'&e=%C3%A9/\n"
        "content length:       5\n"
        "user:                 -\n"
        "script:               /tmp/hstat/www/sleep.php\n"
        "last request cpu:     0.00\n"
        "last request memory:  0\n"
        "\n"
        "************************\n"
        "pid:                  26292\n"
        "state:                Idle\n"
        "start time:           27/Nov/2026:12:25:59 +0000\n"
        "start since:          27\n"
        "requests:             17\n"
        "request duration:     123\n"
        "request method:       GET\n"
        "request URI:          /status?html&full\n"
        "content length:       0\n"
        "user:                 -\n"
        "script:               -\n"
        "last request cpu:     0.00\n"
        "last request memory:  2097152\n"
        "\n"
        "************************\n"
        "pid:                  26293\n"
        "state:                Running\n"
        "start time:           27/Nov/2026:12:25:59 +0000\n"
        "start since:          27\n"
        "requests:             17\n"
        "request duration:     79\n"
        "request method:       GET\n"
        "request URI:          /status?full\n"
        "content length:       0\n"
        "user:                 -\n"
        "script:               -\n"
        "last request cpu:     0.00\n"
        "last request memory:  0\n");
}

#define POOL_JSON \
    "{\"pool\":\"www\",\"process manager\":\"static\",\"start time\":1795782359,\"start since\":27," \
    "\"accepted conn\":50,\"listen queue\":0,\"max listen queue\":0,\"listen queue len\":4096," \
    "\"idle processes\":1,\"active processes\":2,\"total processes\":3,\"max active processes\":3," \
    "\"max children reached\":0,\"slow requests\":0"

static void test_json(void **state)
{
    fx_t *f = *state;
    const char *expect = COMMON "Content-Type: application/json\r\n\r\n" POOL_JSON "}";
    assert_string_equal(render(f, "json", false), expect);
}

static void test_json_full(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "json&full", false),
        COMMON "Content-Type: application/json\r\n\r\n" POOL_JSON ", \"processes\":["
        "{\"pid\":26291,\"state\":\"Running\",\"start time\":1795782359,\"start since\":27,\"requests\":16,"
        "\"request duration\":500084,\"request method\":\"GET\","
        "\"request uri\":\"\\/sleep.php?t=2&<a>=\\\"x\\\"&c='d'&e=%C3%A9\\/\",\"content length\":5,"
        "\"user\":\"-\",\"script\":\"\\/tmp\\/hstat\\/www\\/sleep.php\",\"last request cpu\":0.00,"
        "\"last request memory\":0},"
        "{\"pid\":26292,\"state\":\"Idle\",\"start time\":1795782359,\"start since\":27,\"requests\":17,"
        "\"request duration\":123,\"request method\":\"GET\",\"request uri\":\"\\/status?html&full\","
        "\"content length\":0,\"user\":\"-\",\"script\":\"-\",\"last request cpu\":0.00,"
        "\"last request memory\":2097152},"
        "{\"pid\":26293,\"state\":\"Running\",\"start time\":1795782359,\"start since\":27,\"requests\":17,"
        "\"request duration\":79,\"request method\":\"GET\",\"request uri\":\"\\/status?full\","
        "\"content length\":0,\"user\":\"-\",\"script\":\"-\",\"last request cpu\":0.00,"
        "\"last request memory\":0}]}");
}

#define POOL_XML \
    "<?xml version=\"1.0\" ?>\n<status>\n<pool>www</pool>\n<process-manager>static</process-manager>\n" \
    "<start-time>1795782359</start-time>\n<start-since>27</start-since>\n" \
    "<accepted-conn>50</accepted-conn>\n<listen-queue>0</listen-queue>\n" \
    "<max-listen-queue>0</max-listen-queue>\n<listen-queue-len>4096</listen-queue-len>\n" \
    "<idle-processes>1</idle-processes>\n<active-processes>2</active-processes>\n" \
    "<total-processes>3</total-processes>\n<max-active-processes>3</max-active-processes>\n" \
    "<max-children-reached>0</max-children-reached>\n<slow-requests>0</slow-requests>\n"

static void test_xml(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "xml", false),
        COMMON "Content-type: text/xml;charset=UTF-8\r\n\r\n" POOL_XML "</status>");
}

static void test_xml_full(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "xml&full", false),
        COMMON "Content-type: text/xml;charset=UTF-8\r\n\r\n" POOL_XML "<processes>\n"
        "<process><pid>26291</pid><state>Running</state><start-time>1795782359</start-time>"
        "<start-since>27</start-since><requests>16</requests><request-duration>500084</request-duration>"
        "<request-method>GET</request-method>"
        "<request-uri>/sleep.php?t=2&amp;&lt;a&gt;=&quot;x&quot;&amp;c='d'&amp;e=%C3%A9/</request-uri>"
        "<content-length>5</content-length><user>-</user><script>/tmp/hstat/www/sleep.php</script>"
        "<last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>\n"
        "<process><pid>26292</pid><state>Idle</state><start-time>1795782359</start-time>"
        "<start-since>27</start-since><requests>17</requests><request-duration>123</request-duration>"
        "<request-method>GET</request-method><request-uri>/status?html&amp;full</request-uri>"
        "<content-length>0</content-length><user>-</user><script>-</script>"
        "<last-request-cpu>0.00</last-request-cpu><last-request-memory>2097152</last-request-memory>"
        "</process>\n"
        "<process><pid>26293</pid><state>Running</state><start-time>1795782359</start-time>"
        "<start-since>27</start-since><requests>17</requests><request-duration>79</request-duration>"
        "<request-method>GET</request-method><request-uri>/status?full</request-uri>"
        "<content-length>0</content-length><user>-</user><script>-</script>"
        "<last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>\n"
        "</processes>\n</status>");
}

#define POOL_HTML \
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" " \
    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n" \
    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n" \
    "<head><title>PHP-FPM Status Page</title></head>\n<body>\n<table>\n" \
    "<tr><th>pool</th><td>www</td></tr>\n" \
    "<tr><th>process manager</th><td>static</td></tr>\n" \
    "<tr><th>start time</th><td>27/Nov/2026:12:25:59 +0000</td></tr>\n" \
    "<tr><th>start since</th><td>27</td></tr>\n" \
    "<tr><th>accepted conn</th><td>50</td></tr>\n" \
    "<tr><th>listen queue</th><td>0</td></tr>\n" \
    "<tr><th>max listen queue</th><td>0</td></tr>\n" \
    "<tr><th>listen queue len</th><td>4096</td></tr>\n" \
    "<tr><th>idle processes</th><td>1</td></tr>\n" \
    "<tr><th>active processes</th><td>2</td></tr>\n" \
    "<tr><th>total processes</th><td>3</td></tr>\n" \
    "<tr><th>max active processes</th><td>3</td></tr>\n" \
    "<tr><th>max children reached</th><td>0</td></tr>\n" \
    "<tr><th>slow requests</th><td>0</td></tr>\n" \
    "</table>\n"

static void test_html(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "html", false),
        COMMON "Content-type: text/html;charset=UTF-8\r\n\r\n" POOL_HTML "</body></html>");
}

static void test_html_full(void **state)
{
    fx_t *f = *state;
    assert_string_equal(render(f, "html&full", false),
        COMMON "Content-type: text/html;charset=UTF-8\r\n\r\n" POOL_HTML
        "<table border=\"1\">\n"
        "<tr><th>pid</th><th>state</th><th>start time</th><th>start since</th><th>requests</th>"
        "<th>request duration</th><th>request method</th><th>request uri</th><th>content length</th>"
        "<th>user</th><th>script</th><th>last request cpu</th><th>last request memory</th></tr>\n"
        "<tr><td>26291</td><td>Running</td><td>27/Nov/2026:12:25:59 +0000</td><td>27</td><td>16</td>"
        "<td>500084</td><td>GET</td>"
        "<td>/sleep.php?t=2&amp;&lt;a&gt;=&quot;x&quot;&amp;c='d'&amp;e=%C3%A9/</td><td>5</td><td>-</td>"
        "<td>/tmp/hstat/www/sleep.php</td><td>0.00</td><td>0</td></tr>\n"
        "<tr><td>26292</td><td>Idle</td><td>27/Nov/2026:12:25:59 +0000</td><td>27</td><td>17</td>"
        "<td>123</td><td>GET</td><td>/status?html&amp;full</td><td>0</td><td>-</td><td>-</td>"
        "<td>0.00</td><td>2097152</td></tr>\n"
        "<tr><td>26293</td><td>Running</td><td>27/Nov/2026:12:25:59 +0000</td><td>27</td><td>17</td>"
        "<td>79</td><td>GET</td><td>/status?full</td><td>0</td><td>-</td><td>-</td>"
        "<td>0.00</td><td>0</td></tr>\n"
        "</table></body></html>");
}

#define OPENMETRICS \
    COMMON "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\r\n" \
    "# HELP phpfpm_up Could pool www using a static PM on PHP-FPM be reached?\n" \
    "# TYPE phpfpm_up gauge\n" \
    "phpfpm_up 1\n" \
    "# HELP phpfpm_start_since The number of seconds since FPM has started.\n" \
    "# TYPE phpfpm_start_since counter\n" \
    "phpfpm_start_since 27\n" \
    "# HELP phpfpm_accepted_connections The number of requests accepted by the pool.\n" \
    "# TYPE phpfpm_accepted_connections counter\n" \
    "phpfpm_accepted_connections 50\n" \
    "# HELP phpfpm_listen_queue The number of requests in the queue of pending connections.\n" \
    "# TYPE phpfpm_listen_queue gauge\n" \
    "phpfpm_listen_queue 2\n" \
    "# HELP phpfpm_max_listen_queue The maximum number of requests in the queue of pending " \
    "connections since FPM has started.\n" \
    "# TYPE phpfpm_max_listen_queue counter\n" \
    "phpfpm_max_listen_queue 7\n" \
    "# TYPE phpfpm_listen_queue_length gauge\n" \
    "# HELP phpfpm_listen_queue_length The size of the socket queue of pending connections.\n" \
    "phpfpm_listen_queue_length 511\n" \
    "# HELP phpfpm_idle_processes The number of idle processes.\n" \
    "# TYPE phpfpm_idle_processes gauge\n" \
    "phpfpm_idle_processes 1\n" \
    "# HELP phpfpm_active_processes The number of active processes.\n" \
    "# TYPE phpfpm_active_processes gauge\n" \
    "phpfpm_active_processes 2\n" \
    "# HELP phpfpm_total_processes The number of idle + active processes.\n" \
    "# TYPE phpfpm_total_processes gauge\n" \
    "phpfpm_total_processes 3\n" \
    "# HELP phpfpm_max_active_processes The maximum number of active processes since FPM has started.\n" \
    "# TYPE phpfpm_max_active_processes counter\n" \
    "phpfpm_max_active_processes 3\n" \
    "# HELP phpfpm_max_children_reached The number of times, the process limit has been reached, " \
    "when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').\n" \
    "# TYPE phpfpm_max_children_reached counter\n" \
    "phpfpm_max_children_reached 4\n" \
    "# HELP phpfpm_slow_requests The number of requests that exceeded your " \
    "'request_slowlog_timeout' value.\n" \
    "# TYPE phpfpm_slow_requests counter\n" \
    "phpfpm_slow_requests 6\n" \
    "# EOF\n"

/* openmetrics has no process list: "full" changes nothing. */
static void test_openmetrics(void **state)
{
    fx_t *f = *state;
    f->st.listen_queue = 2;
    f->st.listen_queue_len = 511;
    f->sb->max_listen_queue = 7;
    f->sb->max_children_reached = 4;
    f->sb->slow_requests = 6;
    assert_string_equal(render(f, "openmetrics", false), OPENMETRICS);
    assert_string_equal(render(f, "openmetrics&full", false), OPENMETRICS);
}

/* The listen queue: -1 (unknown) shows 0; the maximum is the larger of the
 * board's and the current one. */
static void test_listen_queue(void **state)
{
    fx_t *f = *state;
    f->st.listen_queue = -1;
    f->sb->max_listen_queue = 3;
    assert_non_null(strstr(render(f, "", false), "listen queue:         0\nmax listen queue:     3\n"));
    f->st.listen_queue = 5;
    assert_non_null(strstr(render(f, "", false), "listen queue:         5\nmax listen queue:     5\n"));
}

/* HEAD: php-fpm stops before naming a type, PHP adds its default one. */
static void test_head(void **state)
{
    fx_t *f = *state;
    const char *expect = COMMON "Content-type: text/html; charset=UTF-8\r\n\r\n";
    assert_string_equal(render(f, "json&full", true), expect);
    assert_string_equal(render(f, "", true), expect);
}

static void test_ping(void **state)
{
    fx_t *f = *state;
    const char *h = "Content-type: text/plain;charset=UTF-8\r\n" COMMON "\r\n";
    rl_fpm_ping_render("pong", false, &f->out);
    rl_buf_append(&f->out, "", 1);
    assert_string_equal(rl_buf_head(&f->out), "Content-type: text/plain;charset=UTF-8\r\n" COMMON "\r\npong");
    rl_buf_clear(&f->out);
    rl_fpm_ping_render("pong", true, &f->out);
    rl_buf_append(&f->out, "", 1);
    assert_string_equal(rl_buf_head(&f->out), h);
}

/* Which format a query string asks for, as php-fpm8.2 answered. */
static void test_query(void **state)
{
    fx_t *f = *state;
    static const struct { const char *q; const char *type; bool full; } cases[] = {
        { "j", "Content-Type: application/json", false },
        { "f&js", "Content-Type: application/json", true },
        { "json&html", "Content-type: text/html;charset=UTF-8", false },
        { "html&json", "Content-type: text/html;charset=UTF-8", false },
        { "json&openmetrics", "Content-Type: application/json", false },
        { "openmetrics&json", "Content-Type: application/json", false },
        { "xml&json", "Content-type: text/xml;charset=UTF-8", false },
        { "json&xml", "Content-type: text/xml;charset=UTF-8", false },
        { "xml&html", "Content-type: text/html;charset=UTF-8", false },
        { "openmetrics&xml", "Content-type: text/xml;charset=UTF-8", false },
        { "o", "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8", false },
        { "%6Ason", "Content-Type: application/json", false },
        { "json=1", "Content-Type: application/json", false },
        { "JSON", "Content-type: text/plain;charset=UTF-8", false },
        { "json[]=1", "Content-Type: application/json", false },
        { "js.on", "Content-type: text/plain;charset=UTF-8", false },
        { "fu&json", "Content-Type: application/json", true },
        { "jsonx", "Content-type: text/plain;charset=UTF-8", false },
        { "a=1&json=&full=0", "Content-Type: application/json", true },
        { "=json", "Content-type: text/plain;charset=UTF-8", false },
        { "+json", "Content-Type: application/json", false },
        { " json", "Content-Type: application/json", false },
        { "json;full", "Content-type: text/plain;charset=UTF-8", false },
        { "json%00x", "Content-Type: application/json", false },
        { "&&json&", "Content-Type: application/json", false },
        { "json%5B%5D=1", "Content-Type: application/json", false },
        { "js[on=1", "Content-type: text/plain;charset=UTF-8", false },
        { "%20%20x.m", "Content-type: text/plain;charset=UTF-8", false },
        { "+%20xm", "Content-type: text/xml;charset=UTF-8", false },
    };
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        const char *page = render(f, cases[i].q, false);
        const char *type = page + strlen(COMMON);
        if (strncmp(type, cases[i].type, strlen(cases[i].type)) != 0 ||
            strncmp(type + strlen(cases[i].type), "\r\n\r\n", 4) != 0)
            fail_msg("query '%s': got %.60s", cases[i].q, type);
        bool full = strstr(page, "\"processes\":[") != NULL;
        if (full != cases[i].full)
            fail_msg("query '%s': full %d", cases[i].q, full);
    }
}

/* What PHP escapes, and how (captured with a POST to /s"l&<e>p.php). */
static void test_escape(void **state)
{
    fx_t *f = *state;
    rl_fpm_slot_t *s = &f->sb->slots[0];
    set_slot(s, 26292, RL_FPM_STAGE_RUNNING, 18, "POST", "/s\"l&<e>p.php",
             "t=1&u=\xc3\xa9&c=\x01\t\x7f&q=<\"'>&x=a/b", "/tmp/hstat/www/s\"l&<e>p.php");
    snprintf(s->auth_user, sizeof(s->auth_user), "b\"o/b<&>\xc3\xa9");
    s->content_length = 3;
    f->sb->slots[1].pid = f->sb->slots[2].pid = 0;
    snprintf(f->sb->pool, sizeof(f->sb->pool), "p/q&r<s>");   /* never escaped */

    const char *page = render(f, "json&full", false);
    assert_non_null(strstr(page, "{\"pool\":\"p/q&r<s>\","));
    assert_non_null(strstr(page, "\"request method\":\"POST\","
        "\"request uri\":\"\\/s\\\"l&<e>p.php?t=1&u=\\u00e9&c=\\u0001\\t\x7f&q=<\\\"'>&x=a\\/b\","
        "\"content length\":3,\"user\":\"b\\\"o\\/b<&>\\u00e9\","
        "\"script\":\"\\/tmp\\/hstat\\/www\\/s\\\"l&<e>p.php\","));

    page = render(f, "xml&full", false);
    assert_non_null(strstr(page, "<pool>p/q&r<s></pool>\n"));
    assert_non_null(strstr(page, "<request-method>POST</request-method>"
        "<request-uri>/s&quot;l&amp;&lt;e&gt;p.php?t=1&amp;u=\xc3\xa9&amp;c=\xef\xbf\xbd\t\x7f"
        "&amp;q=&lt;&quot;'&gt;&amp;x=a/b</request-uri><content-length>3</content-length>"
        "<user>b&quot;o/b&lt;&amp;&gt;\xc3\xa9</user><script>/tmp/hstat/www/s&quot;l&amp;&lt;e&gt;p.php"
        "</script>"));

    page = render(f, "html&full", false);
    assert_non_null(strstr(page, "<td>POST</td><td>/s&quot;l&amp;&lt;e&gt;p.php?t=1&amp;u=\xc3\xa9"
        "&amp;c=\xef\xbf\xbd\t\x7f&amp;q=&lt;&quot;'&gt;&amp;x=a/b</td><td>3</td>"
        "<td>b&quot;o/b&lt;&amp;&gt;\xc3\xa9</td><td>/tmp/hstat/www/s&quot;l&amp;&lt;e&gt;p.php</td>"));

    page = render(f, "full", false);         /* text: as it is */
    assert_non_null(strstr(page, "request URI:          /s\"l&<e>p.php?t=1&u=\xc3\xa9&c=\x01\t\x7f"
                                 "&q=<\"'>&x=a/b\n"));
    assert_non_null(strstr(page, "user:                 b\"o/b<&>\xc3\xa9\n"));

    snprintf(s->method, sizeof(s->method), "G\"<T>");
    assert_non_null(strstr(render(f, "json&full", false), "\"request method\":\"G\\\"<T>\","));
    assert_non_null(strstr(render(f, "xml&full", false), "<request-method>G&quot;&lt;T&gt;</request-method>"));
}

/* Invalid UTF-8: json drops it (PHP's reading decides how many bytes go),
 * xml and html give "" for the whole string; XHTML's disallowed
 * characters become U+FFFD. */
static void test_escape_utf8(void **state)
{
    fx_t *f = *state;
    rl_fpm_slot_t *s = &f->sb->slots[0];
    set_slot(s, 26291, RL_FPM_STAGE_RUNNING, 18, "POST", "/s\"l&<e>p.php",
             "t=1&a=\xff\xc3(&b=\x0b\x1f\r\n&c=\xc2\x85\xc2\x9f&d=\xef\xbf\xbe\xf0\x9f\x98\x80&e=\xed\xa0\x80",
             "/x.php");
    f->sb->slots[1].pid = f->sb->slots[2].pid = 0;
    assert_non_null(strstr(render(f, "json&full", false),
        "\"request uri\":\"\\/s\\\"l&<e>p.php?t=1&a=(&b=\\u000b\\u001f\\r\\n&c=\\u0085\\u009f"
        "&d=\\ufffe\\ud83d\\ude00&e=\","));
    assert_non_null(strstr(render(f, "xml&full", false),
        "<request-uri>/s&quot;l&amp;&lt;e&gt;p.php?</request-uri>"));
    assert_non_null(strstr(render(f, "html&full", false), "<td>/s&quot;l&amp;&lt;e&gt;p.php?</td>"));

    snprintf(s->query, sizeof(s->query), "%s", "t=1&b=\x0b\x1f\r\n\tz&c=\xc2\x85\xc2\x9f\xc2\xa0"
             "&d=\xef\xbf\xbe\xef\xbf\xbf\xf0\x9f\x98\x80\xef\xb7\x90\xf4\x8f\xbf\xbf&f=&#39;&amp;&g=\x7f");
    assert_non_null(strstr(render(f, "xml&full", false),
        "<request-uri>/s&quot;l&amp;&lt;e&gt;p.php?t=1&amp;b=\xef\xbf\xbd\xef\xbf\xbd\r\n\tz"
        "&amp;c=\xc2\x85\xc2\x9f\xc2\xa0&amp;d=\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80\xef\xb7\x90"
        "\xf4\x8f\xbf\xbf&amp;f=&amp;#39;&amp;amp;&amp;g=\x7f</request-uri>"));
    assert_non_null(strstr(render(f, "json&full", false),
        "\"request uri\":\"\\/s\\\"l&<e>p.php?t=1&b=\\u000b\\u001f\\r\\n\\tz&c=\\u0085\\u009f\\u00a0"
        "&d=\\ufffe\\uffff\\ud83d\\ude00\\ufdd0\\udbff\\udfff&f=&#39;&amp;&g=\x7f\","));

    /* the invalid bytes go, what may start a character after them stays */
    snprintf(s->query, sizeof(s->query), "%s", "a=\xe2\xff\x80" "A\xc3\xc3\xa9");
    assert_non_null(strstr(render(f, "json&full", false), "p.php?a=A\\u00e9\","));
}

/* A board php-fpm would not trust, or none. */
static void test_internal_error(void **state)
{
    fx_t *f = *state;
    const char *h = "Status: 500 Internal Server Error\r\nContent-type: text/plain;charset=UTF-8\r\n"
                    COMMON "\r\n";
    char expect[512];
    snprintf(expect, sizeof(expect), "%sInternal error. Please review log file for errors.", h);
    f->sb->idle = -1;
    assert_string_equal(render(f, "json", false), expect);
    assert_string_equal(render(f, "json", true), h);
    f->st.sb = NULL;
    assert_string_equal(render(f, "", false), expect);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scoreboard_create),
        cmocka_unit_test(test_scoreboard_shared),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xml_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openmetrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
