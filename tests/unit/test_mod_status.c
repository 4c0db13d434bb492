/* mod_status (mod/status.c, included for its statics): APR's number
 * formats as Apache prints them, the ?auto text and the HTML page from a
 * scoreboard view made by hand, and the scoreboard's slot life cycle
 * (httpd/scoreboard.c: claim, release, totals kept across a graceful
 * restart and started over by a hard one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include "httpd/mod/status.c"

static const char *g(double v, int prec)
{
    static char out[8][64];
    static int k;
    rl_buf_t b = RL_BUF_INIT;
    fmt_g(&b, v, prec);
    k = (k + 1) % 8;
    snprintf(out[k], sizeof(out[k]), "%.*s", (int)b.len, b.data);
    rl_buf_release(&b);
    return out[k];
}

/* Values seen in Debian's Apache 2.4.71 ?auto and HTML output. */
static void test_apr_g(void **state)
{
    (void)state;
    assert_string_equal(g(0, 6), "0");
    assert_string_equal(g(6, 6), "6");
    assert_string_equal(g(.01, 6), ".01");
    assert_string_equal(g(1.0 / 6, 6), ".166667");
    assert_string_equal(g(.142857142, 6), ".142857");
    assert_string_equal(g(1194.6666, 6), "1194.67");
    assert_string_equal(g(7168, 6), "7168");
    assert_string_equal(g(5802.6666, 6), "5802.67");
    assert_string_equal(g(2.0 / 3, 6), ".666667");
    assert_string_equal(g(10.0 / 3, 3), "3.33");
    assert_string_equal(g(2.0 / 3 * 100 / 100, 3), ".667");
    assert_string_equal(g(1, 3), "1");
    assert_string_equal(g(12345678, 6), "12345700");   /* apr_gcvt pads, no exponent */
    assert_string_equal(g(1e6, 6), "1.e+6");           /* ... unless 5+ zeros would */
    assert_string_equal(g(.0001, 6), ".0001");
    assert_string_equal(g(.00001, 6), "1.e-5");
    assert_string_equal(g(-.5, 6), "-.5");
    assert_string_equal(g(1.5, 6), "1.5");
}

static const char *with(void (*fn)(rl_buf_t *, uint64_t), uint64_t v)
{
    static char out[64];
    rl_buf_t b = RL_BUF_INIT;
    fn(&b, v);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
    rl_buf_release(&b);
    return out;
}

static void test_bytes_and_uptime(void **state)
{
    (void)state;
    assert_string_equal(with(fmt_bytes, 1170), "1170 B");
    assert_string_equal(with(fmt_bytes, 8192), "8.0 kB");
    assert_string_equal(with(fmt_bytes, 3 << 20), "3.0 MB");
    assert_string_equal(with(fmt_bytes, 3ull << 30), "3.0 GB");
    assert_string_equal(with(fmt_kbytes, 8), "8 kB");
    assert_string_equal(with(fmt_kbytes, 2048), "2.0 MB");
    assert_string_equal(with(fmt_uptime, 0), "");
    assert_string_equal(with(fmt_uptime, 1), " 1 second");
    assert_string_equal(with(fmt_uptime, 3), " 3 seconds");
    assert_string_equal(with(fmt_uptime, 86400 + 2 * 3600 + 60), " 1 day 2 hours 1 minute");
}

/* A server with two current workers (one busy, one with a keep-alive
 * connection), one old worker finishing gracefully, and a dead slot. */
static void make_view(view_t *v, proc_view_t *p, rl_sb_record_t *rec, bool extended)
{
    memset(v, 0, sizeof(*v));
    memset(p, 0, sizeof(*p) * 6);
    v->server_name = "example.com";
    v->local_ip = "127.0.0.1";
    v->version = FULL_BANNER;
    v->built = "2026-01-02T03:04:05";
    v->restart_us = 1000000000ll * 1000000;
    v->now_us = v->restart_us + 4 * 1000000;
    v->generation = 1;
    v->load[0] = 0.5;
    v->extended = extended;
    v->gu = 0.01;
    v->retired_accesses = 10;
    v->retired_bytes = 10240;
    v->retired_duration_us = 20000;
    v->nslots = 6;
    v->procs = p;
    for (int i = 0; i < 6; i++) {
        p[i].slot = i;
        p[i].counted = true;
    }
    p[0] = (proc_view_t){ .slot = 0, .pid = 100, .state = RL_SB_STOPPING, .generation = 0,
                          .counted = true, .accesses = 5, .bytes = 5120, .duration_us = 5000 };
    p[0].conns[RL_SB_C_BUSY] = 1;
    p[1] = (proc_view_t){ .slot = 1, .pid = 0, .state = RL_SB_DEAD, .counted = true,
                          .accesses = 1, .bytes = 1024 };
    p[2] = (proc_view_t){ .slot = 2, .pid = 200, .state = RL_SB_READY, .generation = 1,
                          .counted = true, .accesses = 4, .bytes = 4096, .duration_us = 4000,
                          .cpu_sys = 0.02, .rec = rec };
    p[2].conns[RL_SB_C_BUSY] = 1;
    p[2].conns[RL_SB_C_KEEPALIVE] = 2;
    p[3] = (proc_view_t){ .slot = 3, .pid = 201, .state = RL_SB_READY, .generation = 1,
                          .counted = true };
    p[3].conns[RL_SB_C_CLOSING] = 1;
    memset(rec, 0, sizeof(*rec) * RL_SB_RECORDS);
    rec[0] = (rl_sb_record_t){ .accesses = 2, .bytes = 2048, .duration_us = 3000, .port = 80,
                               .start_us = v->restart_us, .stop_us = v->restart_us + 1000 };
    strcpy(rec[0].client, "192.0.2.1");
    strcpy(rec[0].vhost, "example.com");
    strcpy(rec[0].request, "GET /a?x=<\"> HTTP/1.1");
    rec[1] = (rl_sb_record_t){ .busy = 1, .conn_requests = 3, .port = 80,
                               .start_us = v->now_us };
    strcpy(rec[1].client, "192.0.2.2");
    strcpy(rec[1].vhost, "example.com");
    strcpy(rec[1].request, "GET /server-status?auto HTTP/1.1");
}

static const char auto_expected[] =
    "example.com\n"
    "ServerVersion: Apache/2.4.71 (Unix) relais/0.1\n"
    "ServerMPM: event\n"
    "Server Built: 2026-01-02T03:04:05\n"
    "CurrentTime: Sunday, 09-Sep-2001 01:46:44 UTC\n"
    "RestartTime: Sunday, 09-Sep-2001 01:46:40 UTC\n"
    "ParentServerConfigGeneration: 2\n"
    "ParentServerMPMGeneration: 1\n"
    "ServerUptimeSeconds: 4\n"
    "ServerUptime: 4 seconds\n"
    "Load1: 0.50\nLoad5: 0.00\nLoad15: 0.00\n"
    "Total Accesses: 20\n"
    "Total kBytes: 20\n"
    "Total Duration: 29\n"
    "CPUUser: .01\nCPUSystem: .02\nCPUChildrenUser: 0\nCPUChildrenSystem: 0\n"
    "CPULoad: .75\n"
    "Uptime: 4\n"
    "ReqPerSec: 5\n"
    "BytesPerSec: 5120\n"
    "BytesPerReq: 1024\n"
    "DurationPerReq: 1.45\n"
    "BusyWorkers: 1\nGracefulWorkers: 1\nIdleWorkers: 1\n"
    "Processes: 3\nStopping: 1\n"
    "ConnsTotal: 5\nConnsAsyncWaitIO: 0\nConnsAsyncWriting: 0\n"
    "ConnsAsyncKeepAlive: 2\nConnsAsyncClosing: 1\n"
    "Scoreboard: G.W_..\n";

static void test_auto(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    view_t v;
    proc_view_t p[6];
    rl_sb_record_t rec[RL_SB_RECORDS];
    make_view(&v, p, rec, true);
    rl_buf_t b = RL_BUF_INIT;
    render_auto(&b, &v);
    rl_buf_append(&b, "", 1);
    assert_string_equal(b.data, auto_expected);
    rl_buf_release(&b);

    /* ExtendedStatus Off: no totals; uptime 0: no rates */
    v.extended = false;
    v.now_us = v.restart_us;
    render_auto(&b, &v);
    rl_buf_append(&b, "", 1);
    assert_null(strstr(b.data, "Total Accesses"));
    assert_null(strstr(b.data, "ReqPerSec"));
    assert_non_null(strstr(b.data, "ServerUptime:\nLoad1: 0.50\n"));
    assert_non_null(strstr(b.data, "\nLoad15: 0.00\nBusyWorkers: 1\n"));
    rl_buf_release(&b);
}

static void test_html(void **state)
{
    (void)state;
    view_t v;
    proc_view_t p[6];
    rl_sb_record_t rec[RL_SB_RECORDS];
    make_view(&v, p, rec, true);
    rl_buf_t b = RL_BUF_INIT;
    render_html(&b, &v, false);
    rl_buf_append(&b, "", 1);
    const char *h = b.data;
    assert_non_null(strstr(h, "<title>Apache Status</title>"));
    assert_non_null(strstr(h, "<h1>Apache Server Status for example.com (via 127.0.0.1)</h1>"));
    assert_non_null(strstr(h, "<dt>Server uptime:  4 seconds</dt>\n"));
    assert_non_null(strstr(h, "<dt>Total accesses: 20 - Total Traffic: 20 kB - "
                              "Total Duration: 29</dt>\n"));
    assert_non_null(strstr(h, "<dt>CPU Usage: u.01 s.02 cu0 cs0 - .75% CPU load</dt>\n"));
    assert_non_null(strstr(h, "<dt>5 requests/sec - 5.0 kB/second - 1024 B/request - "
                              "1.45 ms/request</dt>\n"));
    assert_non_null(strstr(h, "<dt>1 requests currently being processed, 1 workers gracefully "
                              "restarting, 1 idle workers</dt>\n</dl>"));
    assert_non_null(strstr(h, "<tr><td>0</td><td>100</td><td>yes (old gen)</td><td>1</td>"
                              "<td>no</td><td>0</td><td>1</td><td>0</td>"));
    assert_non_null(strstr(h, "<tr><td>Sum</td><td>3</td><td>1</td><td>5</td><td>&nbsp;</td>"
                              "<td>1</td><td>1</td><td>1</td><td>0</td><td>0</td><td>2</td>"
                              "<td>1</td></tr>\n</table>\n"));
    assert_non_null(strstr(h, "<pre>G.W_..</pre>\n<p>Scoreboard Key:<br />\n"));
    /* the records: one done, one in progress; the request line escaped */
    assert_non_null(strstr(h, "<tr><td><b>2-1</b></td><td>200</td><td>0/2/2</td><td>_\n</td>"
                              "<td>0.02</td><td>3</td><td>1</td><td>3</td><td>0.0</td>"
                              "<td>0.00</td><td>0.00\n</td><td>192.0.2.1</td><td>http/1.1</td>"
                              "<td nowrap>example.com:80</td><td nowrap>GET /a?x=&lt;\\&quot;"
                              "&gt; HTTP/1.1</td></tr>\n\n"));
    assert_non_null(strstr(h, "<td>3/0/0</td><td><b>W</b>\n</td>"));
    assert_non_null(strstr(h, "<th>Slot</th><td>Total megabytes transferred this slot</td>"));
    assert_true(strstr(h, "</body></html>\n") == h + strlen(h) - 15);
    rl_buf_release(&b);

    render_html(&b, &v, true);
    rl_buf_append(&b, "", 1);
    assert_non_null(strstr(b.data, "<hr /><h2>Server Details</h2>\n\n<b>Server 2-1</b> (200): "
                                   "0|2|2 [Ready] u0 s.02 cu0 cs0\n 3 1 3(0 B|2048 B|2048 B)\n"
                                   " <i>192.0.2.1 {GET /a?x=&lt;\\&quot;&gt; HTTP/1.1}</i> "
                                   "<i>(http/1.1)</i> <b>[example.com:80]</b><br />\n\n"));
    assert_null(strstr(b.data, "<table border"));
    rl_buf_release(&b);

    v.extended = false;
    render_html(&b, &v, false);
    rl_buf_append(&b, "", 1);
    assert_null(strstr(b.data, "Total accesses"));
    assert_null(strstr(b.data, "192.0.2.1"));
    assert_non_null(strstr(b.data, "PID Key: <br />\n<pre>\n   100 in state: G ,   200 in state: "
                                   "W ,   201 in state: _ \n\n</pre>\n"));
    assert_non_null(strstr(b.data, "<code>ExtendedStatus On</code> directive.\n</body>"));
    rl_buf_release(&b);
}

/* The slot life cycle, in this process (no fork needed). */
static void test_scoreboard(void **state)
{
    (void)state;
    assert_int_equal(rl_sb_create(), RL_OK);
    int a = rl_sb_claim(), b = rl_sb_claim();
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    rl_sb_assign(a, 4242);
    rl_sb_assign(b, 4343);
    rl_sb_proc_t *pa = &rl_sb->procs[a];
    assert_int_equal(atomic_load(&pa->state), RL_SB_STARTING);
    rl_sb_request_done(pa, 1000, 1500);
    rl_sb_request_done(pa, 24, 500);
    uint8_t cs = 0;
    rl_sb_conn_state(pa, &cs, RL_SB_C_READ);
    rl_sb_conn_state(pa, &cs, RL_SB_C_BUSY);
    assert_int_equal(atomic_load(&pa->conns[RL_SB_C_READ]), 0);
    assert_int_equal(atomic_load(&pa->conns[RL_SB_C_BUSY]), 1);
    struct sockaddr_in6 peer = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &peer.sin6_addr);
    int idx = rl_sb_record_start(pa, (struct sockaddr *)&peer, sizeof(peer), "h", 80,
                                 "GET / HTTP/1.1", false, 1, 5);
    assert_int_equal(idx, 0);
    rl_sb_record_t copy;
    assert_true(rl_sb_record_read(&pa->rec[0], &copy));
    assert_true(copy.busy);
    assert_string_equal(copy.request, "GET / HTTP/1.1");
    assert_string_equal(copy.client, "10.0.0.1");   /* a v4-mapped address, as Apache shows it */
    rl_sb_record_end(pa, idx, true, 99, 1005);
    assert_true(rl_sb_record_read(&pa->rec[0], &copy));
    assert_false(copy.busy);
    assert_int_equal(copy.accesses, 1);
    assert_int_equal(copy.duration_us, 1000);

    /* a long request line: its start, or its end with SeeRequestTail */
    char line[200];
    memset(line, 'a', sizeof(line));
    line[sizeof(line) - 2] = 'z';
    line[sizeof(line) - 1] = '\0';
    struct sockaddr_in v4 = { .sin_family = AF_INET };
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    idx = rl_sb_record_start(pa, (struct sockaddr *)&v4, sizeof(v4), "", 0, line, true, 1, 0);
    assert_true(rl_sb_record_read(&pa->rec[idx], &copy));
    assert_int_equal(strlen(copy.request), RL_SB_REQUEST_LEN - 1);
    assert_int_equal(copy.request[RL_SB_REQUEST_LEN - 2], 'z');
    assert_string_equal(copy.client, "192.0.2.7");
    rl_sb_record_end(pa, idx, false, 0, 0);

    /* a graceful restart: the dead worker's totals stay, retired at reuse */
    rl_sb_restart(true);
    rl_sb_release(4242);
    assert_int_equal(atomic_load(&pa->state), RL_SB_DEAD);
    assert_int_equal(atomic_load(&pa->conns[RL_SB_C_BUSY]), 0);
    assert_int_equal(rl_sb_claim(), a);
    assert_int_equal(atomic_load(&rl_sb->retired_accesses), 2);
    assert_int_equal(atomic_load(&rl_sb->retired_bytes), 1024);
    assert_int_equal(atomic_load(&rl_sb->retired_duration_us), 2000);
    assert_int_equal(atomic_load(&pa->accesses), 0);
    assert_int_equal(atomic_load(&pa->generation), 1);

    /* a hard restart starts the totals over */
    rl_sb_restart(false);
    assert_int_equal(atomic_load(&rl_sb->retired_accesses), 0);
    assert_int_equal(atomic_load(&rl_sb->generation), 2);
    assert_int_equal(atomic_load(&rl_sb->epoch), 1);

    /* a failed fork gives the slot back */
    int c = rl_sb_claim();
    rl_sb_assign(c, -1);
    assert_int_equal(rl_sb_claim(), c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apr_g),
        cmocka_unit_test(test_bytes_and_uptime),
        cmocka_unit_test(test_auto),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_scoreboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
