/* mod_status: "SetHandler server-status" answers as Apache 2.4's mod_status
 * with the event MPM does: the HTML page, "?auto" (the machine-readable
 * text monitoring tools parse, same keys in the same order), "?refresh[=N]"
 * (a Refresh header, 10 s by default) and "?notable" (no tables).
 *
 * The numbers come from the scoreboard (httpd/scoreboard.h), which every
 * worker updates in shared memory; whichever worker answers sees them all.
 * relais has no thread pools, so Apache's words map as follows:
 *
 *   Processes, Stopping   worker processes (all generations), and those
 *                         finishing gracefully after a restart
 *   BusyWorkers           requests being processed: a handler running or
 *                         waiting for its backend, or a response being
 *                         written while the handler still works (what
 *                         would hold an Apache thread)
 *   GracefulWorkers       the same, in processes that are stopping
 *   IdleWorkers           current processes with no request in progress
 *   ConnsTotal            open connections
 *   ConnsAsyncWriting     complete responses waiting for a full socket
 *                         (Apache's write completion)
 *   ConnsAsyncKeepAlive   idle keep-alive connections
 *   ConnsAsyncClosing     lingering closes
 *   ConnsAsyncWaitIO      always 0: no handler waits on I/O outside a request
 *
 * The Scoreboard has one letter per worker process slot, not one per
 * connection: a process serves any number of connections, and thousands of
 * idle keep-alive connections (which hold no thread in Apache's event MPM
 * either) would make a line nobody can read. "_" a process with no request
 * in progress, "W" one with at least one, "R" one only reading request
 * heads, "S" starting, "G" finishing gracefully, "." an open slot; there
 * are twice as many slots shown as configured workers (a graceful restart
 * runs two generations side by side), more when more are in use.
 *
 * With ExtendedStatus On (the default, as in Apache 2.4), each worker also
 * keeps its last RL_SB_RECORDS requests (client, virtual host, request
 * line, times, bytes) for the table of the HTML page; "Conn" columns are 0,
 * as Apache's are once a connection is idle. CPU times are read from
 * /proc for each worker, and for the master (its children's times count
 * the workers that have exited). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/status.h"
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/request.h"
#include "httpd/scoreboard.h"
#include "httpd/mod/core.h"
#include "httpd/mod/status.h"

#define KBYTE 1024
#define MBYTE 1048576.0
#define GBYTE 1073741824.0
#define STATUS_MAXLINE 64
#define TIME_FORMAT "%A, %d-%b-%Y %H:%M:%S %Z"
#define FULL_BANNER RL_SERVER_BANNER_PRODUCT "/" RL_SERVER_VERSION " (Unix) relais/0.1"

typedef struct {
    int extended;              /* ExtendedStatus: RL_UNSET, 0, 1 */
    int request_tail;          /* SeeRequestTail */
} status_srv_t;

extern rl_module_t rl_status_module;

/* ---- configuration ---- */

static void *create_server(rl_arena_t *a)
{
    status_srv_t *s = rl_arena_alloc(a, sizeof(*s));
    s->extended = s->request_tail = RL_UNSET;
    return s;
}

const char *rl_status_set_flag(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)conf; (void)argc;
    rl_conf_state_t *st = RL_CMD_STATE(p);
    if (st->context != RL_CTX_SERVER)
        return rl_arena_printf(p->arena, "%s cannot occur within <VirtualHost> section",
                               p->cmd->name);
    status_srv_t *s = st->cf->main->m[rl_status_module.index];
    int on = rl_parse_flag(argv[0]);
    if (p->cmd->data == 0)
        s->extended = on;
    else
        s->request_tail = on;
    return NULL;
}

unsigned rl_status_flags(const rl_config_t *cf)
{
    const status_srv_t *s = cf->main->m[rl_status_module.index];
    bool ext = s && s->extended != RL_UNSET ? s->extended == 1
                                            : rl_module_active(cf, &rl_status_module);
    return (ext ? RL_STATUS_EXTENDED : 0) | (s && s->request_tail == 1 ? RL_STATUS_REQUEST_TAIL : 0);
}

/* ---- Apache's number formats ---- */

/* APR's "%.<prec>g" (apr_gcvt): no leading zero before the point (".5"),
 * no trailing point, and an exponent only when the digits would be padded
 * by more than four zeros ("1.e+6"). */
static void fmt_g(rl_buf_t *b, double v, int prec)
{
    if (prec < 1)
        prec = 1;
    char e[64];
    snprintf(e, sizeof(e), "%.*e", prec - 1, v);   /* [-]d.ddde[+-]xx */
    const char *p = e;
    if (*p == '-') {
        rl_buf_append(b, "-", 1);
        p++;
    }
    char digits[40];
    int nd = 0;
    for (; *p && *p != 'e' && nd < (int)sizeof(digits); p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    int decpt = (*p == 'e' ? atoi(p + 1) : 0) + 1;
    if (nd == 0 || (nd > 0 && digits[0] == '0'))
        decpt = 0;   /* zero: apr_ecvt's decimal point */
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    char out[96];
    int o = 0;
    if ((decpt >= 0 && decpt - nd > 4) || (decpt < 0 && decpt < -3)) {
        int x = decpt - 1;
        out[o++] = digits[0];
        out[o++] = '.';
        for (int i = 1; i < nd; i++)
            out[o++] = digits[i];
        out[o++] = 'e';
        out[o++] = x < 0 ? '-' : '+';
        if (x < 0)
            x = -x;
        if (x / 100 > 0)
            out[o++] = (char)('0' + x / 100);
        if (x / 10 > 0)
            out[o++] = (char)('0' + (x % 100) / 10);
        out[o++] = (char)('0' + x % 10);
    } else {
        if (decpt <= 0) {
            if (digits[0] != '0')
                out[o++] = '.';
            for (int i = decpt; i < 0; i++)
                out[o++] = '0';
        }
        for (int i = 1; i <= nd; i++) {
            out[o++] = digits[i - 1];
            if (i == decpt)
                out[o++] = '.';
        }
        for (int i = nd; i < decpt; i++)
            out[o++] = '0';
        if (nd < decpt)
            out[o++] = '.';
    }
    if (o > 0 && out[o - 1] == '.')
        o--;
    rl_buf_append(b, out, (size_t)o);
}

/* mod_status's format_byte_out / format_kbyte_out. */
static void fmt_bytes(rl_buf_t *b, uint64_t bytes)
{
    if (bytes < 5 * KBYTE)
        rl_buf_appendf(b, "%d B", (int)bytes);
    else if (bytes < MBYTE / 2)
        rl_buf_appendf(b, "%.1f kB", (double)((float)bytes / KBYTE));
    else if (bytes < GBYTE / 2)
        rl_buf_appendf(b, "%.1f MB", (double)((float)bytes / MBYTE));
    else
        rl_buf_appendf(b, "%.1f GB", (double)((float)bytes / GBYTE));
}

static void fmt_kbytes(rl_buf_t *b, uint64_t kbytes)
{
    if (kbytes < KBYTE)
        rl_buf_appendf(b, "%d kB", (int)kbytes);
    else if (kbytes < MBYTE)
        rl_buf_appendf(b, "%.1f MB", (double)((float)kbytes / KBYTE));
    else
        rl_buf_appendf(b, "%.1f GB", (double)((float)kbytes / MBYTE));
}

/* " 1 day 2 hours 3 minutes 4 seconds", parts that are 0 left out. */
static void fmt_uptime(rl_buf_t *b, uint64_t secs)
{
    static const char *unit[] = { "day", "hour", "minute", "second" };
    uint64_t v[4] = { secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60 };
    for (int i = 0; i < 4; i++)
        if (v[i])
            rl_buf_appendf(b, " %llu %s%s", (unsigned long long)v[i], unit[i],
                           v[i] == 1 ? "" : "s");
}

static void fmt_time(rl_buf_t *b, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char s[128];
    localtime_r(&t, &tm);
    size_t n = strftime(s, sizeof(s), TIME_FORMAT, &tm);
    rl_buf_append(b, s, n);
}

/* ap_escape_logitem then ap_escape_html: control bytes, quotes and
 * backslashes as \x.., then & < > " as entities. */
static void fmt_item(rl_buf_t *b, const char *s)
{
    char tmp[RL_SB_REQUEST_LEN * 4 + 1];
    size_t n = 0;
    for (; *s && n + 4 < sizeof(tmp); s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            tmp[n++] = '\\';
            tmp[n++] = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            n += (size_t)snprintf(tmp + n, 5, "\\x%02x", ch);
        } else {
            tmp[n++] = (char)ch;
        }
    }
    rl_http_escape_html(b, rl_str(tmp, n));
}

/* ---- what the page shows ---- */

typedef struct {
    int slot;
    pid_t pid;                 /* 0: dead */
    unsigned state;            /* rl_sb_pstate_t */
    unsigned generation;
    bool counted;              /* its totals count (current epoch) */
    uint64_t accesses, bytes, duration_us;
    uint32_t conns[RL_SB_C_N];
    double cpu_user, cpu_sys;  /* seconds */
    rl_sb_record_t *rec;       /* RL_SB_RECORDS, or NULL without ExtendedStatus */
} proc_view_t;

typedef struct {
    const char *server_name;   /* as the client named it (Host) */
    const char *local_ip;
    const char *version;
    const char *built;
    int64_t now_us, restart_us;
    unsigned generation;       /* MPM generation (restarts) */
    double load[3];
    bool extended;
    double gu, gs, gcu, gcs;   /* the master's times, seconds */
    uint64_t retired_accesses, retired_bytes, retired_duration_us;
    int nslots;                /* slots shown in the scoreboard */
    proc_view_t *procs;        /* nslots entries */
    const char *signature;     /* ServerSignature HTML, or NULL */
} view_t;

typedef struct {
    uint64_t count, bytes, duration_us;
    double tu, ts;
    int busy, graceful, idle, procs, stopping;
    uint32_t conns, writing, keepalive, closing;
} totals_t;

static bool live(const proc_view_t *p)
{
    return p->pid > 0 && p->state != RL_SB_FREE && p->state != RL_SB_DEAD;
}

/* The per-process "Threads" columns: busy, graceful, idle. */
static void proc_threads(const proc_view_t *p, int *busy, int *graceful, int *idle)
{
    *busy = *graceful = *idle = 0;
    if (!live(p) || p->state == RL_SB_STARTING)
        return;
    if (p->state == RL_SB_STOPPING)
        *graceful = (int)p->conns[RL_SB_C_BUSY];
    else if ((*busy = (int)p->conns[RL_SB_C_BUSY]) == 0)
        *idle = 1;
}

static void totals(const view_t *v, totals_t *t)
{
    memset(t, 0, sizeof(*t));
    t->count = v->retired_accesses;
    t->bytes = v->retired_bytes;
    t->duration_us = v->retired_duration_us;
    for (int i = 0; i < v->nslots; i++) {
        const proc_view_t *p = &v->procs[i];
        if (p->state == RL_SB_FREE)
            continue;
        if (p->counted) {
            t->count += p->accesses;
            t->bytes += p->bytes;
            t->duration_us += p->duration_us;
        }
        if (!live(p))
            continue;
        t->tu += p->cpu_user;
        t->ts += p->cpu_sys;
        int busy, graceful, idle;
        proc_threads(p, &busy, &graceful, &idle);
        t->busy += busy;
        t->graceful += graceful;
        t->idle += idle;
        t->procs++;
        t->stopping += p->state == RL_SB_STOPPING;
        for (int k = 1; k < RL_SB_C_N; k++)
            t->conns += p->conns[k];
        t->writing += p->conns[RL_SB_C_WRITING];
        t->keepalive += p->conns[RL_SB_C_KEEPALIVE];
        t->closing += p->conns[RL_SB_C_CLOSING];
    }
}

static char letter(const proc_view_t *p)
{
    if (!live(p))
        return '.';
    if (p->state == RL_SB_STARTING)
        return 'S';
    if (p->state == RL_SB_STOPPING)
        return 'G';
    if (p->conns[RL_SB_C_BUSY] || p->conns[RL_SB_C_WRITING])
        return 'W';
    return p->conns[RL_SB_C_READ] ? 'R' : '_';
}

static uint64_t uptime(const view_t *v)
{
    return v->now_us > v->restart_us ? (uint64_t)(v->now_us - v->restart_us) / 1000000 : 0;
}

/* ---- ?auto ---- */

static void render_auto(rl_buf_t *b, const view_t *v)
{
    totals_t t;
    totals(v, &t);
    uint64_t up = uptime(v);
    rl_buf_appendf(b, "%s\nServerVersion: %s\nServerMPM: event\nServer Built: %s\n",
                   v->server_name, v->version, v->built);
    rl_buf_append_c(b, "CurrentTime: ");
    fmt_time(b, v->now_us);
    rl_buf_append_c(b, "\nRestartTime: ");
    fmt_time(b, v->restart_us);
    rl_buf_appendf(b, "\nParentServerConfigGeneration: %u\nParentServerMPMGeneration: %u\n"
                   "ServerUptimeSeconds: %llu\nServerUptime:", v->generation + 1, v->generation,
                   (unsigned long long)up);
    fmt_uptime(b, up);
    rl_buf_appendf(b, "\nLoad1: %.2f\nLoad5: %.2f\nLoad15: %.2f\n", v->load[0], v->load[1],
                   v->load[2]);
    if (v->extended) {
        uint64_t kb = t.bytes >> 10, ms = t.duration_us / 1000;
        double cpu = v->gu + v->gs + v->gcu + v->gcs + t.tu + t.ts;
        rl_buf_appendf(b, "Total Accesses: %llu\nTotal kBytes: %llu\nTotal Duration: %llu\n",
                       (unsigned long long)t.count, (unsigned long long)kb,
                       (unsigned long long)ms);
        static const char *cpu_keys[] = { "CPUUser", "CPUSystem", "CPUChildrenUser",
                                          "CPUChildrenSystem" };
        double cpus[] = { v->gu + t.tu, v->gs + t.ts, v->gcu, v->gcs };
        for (int i = 0; i < 4; i++) {
            rl_buf_appendf(b, "%s: ", cpu_keys[i]);
            fmt_g(b, cpus[i], 6);
            rl_buf_append(b, "\n", 1);
        }
        if (cpu > 0 && up > 0) {
            rl_buf_append_c(b, "CPULoad: ");
            fmt_g(b, cpu / (double)up * 100., 6);
            rl_buf_append(b, "\n", 1);
        }
        rl_buf_appendf(b, "Uptime: %llu\n", (unsigned long long)up);
        if (up > 0) {
            rl_buf_append_c(b, "ReqPerSec: ");
            fmt_g(b, (float)t.count / (float)up, 6);
            rl_buf_append_c(b, "\nBytesPerSec: ");
            fmt_g(b, KBYTE * (float)kb / (float)up, 6);
            rl_buf_append(b, "\n", 1);
        }
        if (t.count > 0) {
            rl_buf_append_c(b, "BytesPerReq: ");
            fmt_g(b, KBYTE * (float)kb / (float)t.count, 6);
            rl_buf_append_c(b, "\nDurationPerReq: ");
            fmt_g(b, (float)ms / (float)t.count, 6);
            rl_buf_append(b, "\n", 1);
        }
    }
    rl_buf_appendf(b, "BusyWorkers: %d\nGracefulWorkers: %d\nIdleWorkers: %d\nProcesses: %d\n"
                   "Stopping: %d\nConnsTotal: %u\nConnsAsyncWaitIO: 0\nConnsAsyncWriting: %u\n"
                   "ConnsAsyncKeepAlive: %u\nConnsAsyncClosing: %u\nScoreboard: ",
                   t.busy, t.graceful, t.idle, t.procs, t.stopping, t.conns, t.writing,
                   t.keepalive, t.closing);
    for (int i = 0; i < v->nslots; i++)
        rl_buf_append(b, &(char){ letter(&v->procs[i]) }, 1);
    rl_buf_append(b, "\n", 1);
}

/* ---- the HTML page ---- */

static const char html_head[] =
    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
    "<html><head>\n<title>Apache Status</title>\n</head><body>\n<h1>Apache Server Status for ";

static const char procs_table_head[] =
    "\n\n<table rules=\"all\" cellpadding=\"1%\">\n"
    "<tr><th rowspan=\"2\">Slot</th><th rowspan=\"2\">PID</th><th rowspan=\"2\">Stopping</th>"
    "<th colspan=\"2\">Connections</th>\n"
    "<th colspan=\"3\">Threads</th><th colspan=\"4\">Async connections</th></tr>\n"
    "<tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle</th>"
    "<th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>\n";

static const char scoreboard_key[] =
    "</pre>\n"
    "<p>Scoreboard Key:<br />\n"
    "\"<b><code>_</code></b>\" Waiting for Connection, \n"
    "\"<b><code>S</code></b>\" Starting up, \n"
    "\"<b><code>R</code></b>\" Reading Request,<br />\n"
    "\"<b><code>W</code></b>\" Sending Reply, \n"
    "\"<b><code>K</code></b>\" Keepalive (read), \n"
    "\"<b><code>D</code></b>\" DNS Lookup,<br />\n"
    "\"<b><code>C</code></b>\" Closing connection, \n"
    "\"<b><code>L</code></b>\" Logging, \n"
    "\"<b><code>G</code></b>\" Gracefully finishing,<br /> \n"
    "\"<b><code>I</code></b>\" Idle cleanup of worker, \n"
    "\"<b><code>.</code></b>\" Open slot with no current process<br />\n"
    "</p>\n";

static const char details_head[] =
    "\n\n<table border=\"0\"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n</th>"
    "<th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>"
    "<th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n";

static const char details_foot[] =
    "</table>\n <hr /> <table>\n"
    " <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n"
    " <tr><th>PID</th><td>OS process ID</td></tr>\n"
    " <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n"
    " <tr><th>M</th><td>Mode of operation</td></tr>\n"
    "<tr><th>CPU</th><td>CPU usage, number of seconds</td></tr>\n"
    "<tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n"
    " <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n"
    " <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n"
    " <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n"
    " <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n"
    " <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n"
    " </table>\n";

static void html_summary(rl_buf_t *b, const view_t *v, const totals_t *t)
{
    uint64_t up = uptime(v);
    rl_buf_append(b, html_head, sizeof(html_head) - 1);
    rl_http_escape_html(b, rl_str_c(v->server_name));
    rl_buf_appendf(b, " (via %s)</h1>\n\n<dl><dt>Server Version: %s</dt>\n<dt>Server MPM: event"
                   "</dt>\n<dt>Server Built: %s\n</dt></dl><hr /><dl>\n<dt>Current Time: ",
                   v->local_ip, v->version, v->built);
    fmt_time(b, v->now_us);
    rl_buf_append_c(b, "</dt>\n<dt>Restart Time: ");
    fmt_time(b, v->restart_us);
    rl_buf_appendf(b, "</dt>\n<dt>Parent Server Config. Generation: %u</dt>\n<dt>Parent Server "
                   "MPM Generation: %u</dt>\n<dt>Server uptime: ", v->generation + 1,
                   v->generation);
    fmt_uptime(b, up);
    rl_buf_appendf(b, "</dt>\n<dt>Server load: %.2f %.2f %.2f</dt>\n", v->load[0], v->load[1],
                   v->load[2]);
    if (v->extended) {
        uint64_t kb = t->bytes >> 10, ms = t->duration_us / 1000;
        double cpu = v->gu + v->gs + v->gcu + v->gcs + t->tu + t->ts;
        rl_buf_appendf(b, "<dt>Total accesses: %llu - Total Traffic: ",
                       (unsigned long long)t->count);
        fmt_kbytes(b, kb);
        rl_buf_appendf(b, " - Total Duration: %llu</dt>\n<dt>CPU Usage: u",
                       (unsigned long long)ms);
        fmt_g(b, v->gu + t->tu, 6);
        rl_buf_append_c(b, " s");
        fmt_g(b, v->gs + t->ts, 6);
        rl_buf_append_c(b, " cu");
        fmt_g(b, v->gcu, 6);
        rl_buf_append_c(b, " cs");
        fmt_g(b, v->gcs, 6);
        if (cpu > 0 && up > 0) {
            rl_buf_append_c(b, " - ");
            fmt_g(b, cpu / (double)up * 100., 3);
            rl_buf_append_c(b, "% CPU load");
        }
        rl_buf_append_c(b, "</dt>\n<dt>");
        if (up > 0) {
            fmt_g(b, (float)t->count / (float)up, 3);
            rl_buf_append_c(b, " requests/sec - ");
            fmt_bytes(b, (uint64_t)(KBYTE * (float)kb / (float)up));
            rl_buf_append_c(b, "/second");
        }
        if (t->count > 0) {
            if (up > 0)
                rl_buf_append_c(b, " - ");
            fmt_bytes(b, (uint64_t)(KBYTE * (float)kb / (float)t->count));
            rl_buf_append_c(b, "/request - ");
            fmt_g(b, (float)ms / (float)t->count, 6);
            rl_buf_append_c(b, " ms/request");
        }
        rl_buf_append_c(b, "</dt>\n");
    }
    rl_buf_appendf(b, "<dt>%d requests currently being processed, %d workers gracefully "
                   "restarting, %d idle workers</dt>\n</dl>", t->busy, t->graceful, t->idle);
}

static void html_procs(rl_buf_t *b, const view_t *v, const totals_t *t)
{
    rl_buf_append(b, procs_table_head, sizeof(procs_table_head) - 1);
    for (int i = 0; i < v->nslots; i++) {
        const proc_view_t *p = &v->procs[i];
        if (!live(p))
            continue;
        int busy, graceful, idle;
        proc_threads(p, &busy, &graceful, &idle);
        uint32_t conns = 0;
        for (int k = 1; k < RL_SB_C_N; k++)
            conns += p->conns[k];
        bool stopping = p->state == RL_SB_STOPPING;
        rl_buf_appendf(b, "<tr><td>%d</td><td>%d</td><td>%s%s</td><td>%u</td><td>%s</td>"
                       "<td>%d</td><td>%d</td><td>%d</td><td>0</td><td>%u</td><td>%u</td>"
                       "<td>%u</td></tr>\n", p->slot, (int)p->pid, stopping ? "yes" : "no",
                       p->generation != v->generation ? " (old gen)" : "", conns,
                       stopping ? "no" : "yes", busy, graceful, idle,
                       p->conns[RL_SB_C_WRITING], p->conns[RL_SB_C_KEEPALIVE],
                       p->conns[RL_SB_C_CLOSING]);
    }
    rl_buf_appendf(b, "<tr><td>Sum</td><td>%d</td><td>%d</td><td>%u</td><td>&nbsp;</td>"
                   "<td>%d</td><td>%d</td><td>%d</td><td>0</td><td>%u</td><td>%u</td><td>%u</td>"
                   "</tr>\n</table>\n", t->procs, t->stopping, t->conns, t->busy, t->graceful,
                   t->idle, t->writing, t->keepalive, t->closing);
}

static void html_scoreboard(rl_buf_t *b, const view_t *v)
{
    rl_buf_append_c(b, "<pre>");
    for (int i = 0; i < v->nslots; i++) {
        rl_buf_append(b, &(char){ letter(&v->procs[i]) }, 1);
        if (i % STATUS_MAXLINE == STATUS_MAXLINE - 1)
            rl_buf_append(b, "\n", 1);
    }
    rl_buf_append(b, scoreboard_key, sizeof(scoreboard_key) - 1);
    if (v->extended)
        return;
    /* Apache's PID key, for the slots that have a process */
    rl_buf_append_c(b, "PID Key: <br />\n<pre>\n");
    int k = 0;
    for (int i = 0; i < v->nslots; i++) {
        char l = letter(&v->procs[i]);
        if (l == '.')
            continue;
        rl_buf_appendf(b, "   %d in state: %c ", (int)v->procs[i].pid, l);
        rl_buf_append_c(b, ++k % 3 == 0 ? "\n" : ",");
    }
    rl_buf_append_c(b, "\n</pre>\n");
}

/* One ExtendedStatus record: its mode letter (HTML) and state word. */
static const char *rec_mode(const proc_view_t *p, const rl_sb_record_t *r, bool word)
{
    if (r->busy)
        return word ? "<b>Write</b>" : "<b>W</b>";
    if (!live(p))
        return word ? "Dead" : ".";
    switch (p->state) {
    case RL_SB_STARTING: return word ? "Starting" : "<b>S</b>";
    case RL_SB_STOPPING: return word ? "Graceful" : "G";
    default:             return word ? "Ready" : "_";
    }
}

static void html_record(rl_buf_t *b, const view_t *v, const proc_view_t *p,
                        const rl_sb_record_t *r, bool notable)
{
    int64_t last = r->stop_us > r->start_us ? r->stop_us : r->start_us;
    long ss = v->now_us > last ? (long)((v->now_us - last) / 1000000) : 0;
    long req = r->stop_us > r->start_us ? (long)((r->stop_us - r->start_us) / 1000) : 0;
    long dur = (long)(r->duration_us / 1000);
    unsigned conn = r->busy ? r->conn_requests : 0;
    char pid[16] = "-";
    if (live(p))
        snprintf(pid, sizeof(pid), "%d", (int)p->pid);
    if (notable) {
        rl_buf_appendf(b, "<b>Server %d-%u</b> (%s): %u|%llu|%llu [%s] u", p->slot,
                       p->generation, pid, conn, (unsigned long long)r->accesses,
                       (unsigned long long)r->accesses, rec_mode(p, r, true));
        fmt_g(b, p->cpu_user, 6);
        rl_buf_append_c(b, " s");
        fmt_g(b, p->cpu_sys, 6);
        rl_buf_appendf(b, " cu0 cs0\n %ld %ld %ld(0 B|", ss, req, dur);
        fmt_bytes(b, r->bytes);
        rl_buf_append_c(b, "|");
        fmt_bytes(b, r->bytes);
        rl_buf_append_c(b, ")\n <i>");
        rl_http_escape_html(b, rl_str_c(r->client));
        rl_buf_append_c(b, " {");
        fmt_item(b, r->request);
        rl_buf_append_c(b, "}</i> <i>(http/1.1)</i> <b>[");
        rl_http_escape_html(b, rl_str_c(r->vhost));
        rl_buf_appendf(b, ":%u]</b><br />\n\n", r->port);
        return;
    }
    rl_buf_appendf(b, "<tr><td><b>%d-%u</b></td><td>%s</td><td>%u/%llu/%llu</td><td>%s\n</td>"
                   "<td>%.2f</td><td>%ld</td><td>%ld</td><td>%ld</td><td>0.0</td><td>%-2.2f</td>"
                   "<td>%-2.2f\n</td><td>", p->slot, p->generation, pid, conn,
                   (unsigned long long)r->accesses, (unsigned long long)r->accesses,
                   rec_mode(p, r, false), p->cpu_user + p->cpu_sys, ss, req, dur,
                   (double)((float)r->bytes / MBYTE), (double)((float)r->bytes / MBYTE));
    rl_http_escape_html(b, rl_str_c(r->client));
    rl_buf_append_c(b, "</td><td>http/1.1</td><td nowrap>");
    rl_http_escape_html(b, rl_str_c(r->vhost));
    rl_buf_appendf(b, ":%u</td><td nowrap>", r->port);
    fmt_item(b, r->request);
    rl_buf_append_c(b, "</td></tr>\n\n");
}

static void html_details(rl_buf_t *b, const view_t *v, bool notable)
{
    if (!v->extended) {
        rl_buf_append_c(b, "<hr />To obtain a full report with current status information you "
                        "need to use the <code>ExtendedStatus On</code> directive.\n");
        return;
    }
    if (notable)
        rl_buf_append_c(b, "<hr /><h2>Server Details</h2>\n\n");
    else
        rl_buf_append(b, details_head, sizeof(details_head) - 1);
    for (int i = 0; i < v->nslots; i++) {
        const proc_view_t *p = &v->procs[i];
        for (int k = 0; p->rec && k < RL_SB_RECORDS; k++) {
            const rl_sb_record_t *r = &p->rec[k];
            if (r->accesses == 0 && !r->busy)
                continue;
            html_record(b, v, p, r, notable);
        }
    }
    if (!notable)
        rl_buf_append(b, details_foot, sizeof(details_foot) - 1);
}

static void render_html(rl_buf_t *b, const view_t *v, bool notable)
{
    totals_t t;
    totals(v, &t);
    html_summary(b, v, &t);
    html_procs(b, v, &t);
    html_scoreboard(b, v);
    html_details(b, v, notable);
    if (v->signature) {
        rl_buf_append_c(b, "<hr />\n");
        rl_buf_append_c(b, v->signature);
    }
    rl_buf_append_c(b, "</body></html>\n");
}

/* ---- reading the scoreboard ---- */

/* utime, stime, cutime, cstime of <pid> in seconds (zeros when unknown). */
static void proc_times(pid_t pid, double t[4])
{
    char path[64], buf[1024];
    t[0] = t[1] = t[2] = t[3] = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    if (p == NULL)
        return;
    /* after ")": state (field 3) ... utime is field 14 */
    unsigned long long v[4];
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
               &v[0], &v[1], &v[2], &v[3]) != 4)
        return;
    double tick = (double)sysconf(_SC_CLK_TCK);
    for (int i = 0; i < 4; i++)
        t[i] = (double)v[i] / (tick > 0 ? tick : 100);
}

static int shown_slots(const rl_config_t *cf)
{
    long n = cf->workers > 0 ? cf->workers : sysconf(_SC_NPROCESSORS_ONLN);
    int shown = 2 * (int)(n > 0 ? n : 1);
    for (int i = RL_SB_SLOTS - 1; i >= shown; i--)
        if (atomic_load_explicit(&rl_sb->procs[i].state, memory_order_relaxed) != RL_SB_FREE)
            return i + 1;
    return shown > RL_SB_SLOTS ? RL_SB_SLOTS : shown;
}

static void read_proc(rl_arena_t *a, const rl_sb_proc_t *s, proc_view_t *p, bool extended)
{
    p->pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
    p->state = atomic_load_explicit(&s->state, memory_order_relaxed);
    p->generation = atomic_load_explicit(&s->generation, memory_order_relaxed);
    p->counted = atomic_load_explicit(&s->epoch, memory_order_relaxed) ==
                 atomic_load_explicit(&rl_sb->epoch, memory_order_relaxed);
    p->accesses = atomic_load_explicit(&s->accesses, memory_order_relaxed);
    p->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
    p->duration_us = atomic_load_explicit(&s->duration_us, memory_order_relaxed);
    for (int k = 0; k < RL_SB_C_N; k++)
        p->conns[k] = atomic_load_explicit(&s->conns[k], memory_order_relaxed);
    if (live(p)) {
        double t[4];
        proc_times(p->pid, t);
        p->cpu_user = t[0];
        p->cpu_sys = t[1];
    }
    if (!extended || p->state == RL_SB_FREE)
        return;
    p->rec = rl_arena_calloc(a, sizeof(rl_sb_record_t) * RL_SB_RECORDS);
    for (int k = 0; k < RL_SB_RECORDS; k++)
        if (!rl_sb_record_read(&s->rec[k], &p->rec[k]))
            memset(&p->rec[k], 0, sizeof(p->rec[k]));
}

/* "Nov 27 2026" "12:39:08" (the compiler's) as "2026-11-27T12:39:08". */
static const char *build_time(rl_arena_t *a)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *d = __DATE__, *m = strstr(months, (char[4]){ d[0], d[1], d[2], 0 });
    int month = m ? (int)(m - months) / 3 + 1 : 1;
    return rl_arena_printf(a, "%.4s-%02d-%02dT%s", d + 7, month, atoi(d + 4), __TIME__);
}

static void build_view(rl_request_t *r, view_t *v)
{
    memset(v, 0, sizeof(*v));
    v->server_name = r->hostname ? r->hostname : rl_req_server_name(r);
    v->local_ip = rl_conn_local_str(r->conn);
    v->version = FULL_BANNER;
    v->built = build_time(r->arena);
    v->now_us = rl_sb_now_us();
    v->restart_us = atomic_load(&rl_sb->restart_us);
    v->generation = atomic_load(&rl_sb->generation);
    if (getloadavg(v->load, 3) < 0)
        v->load[0] = v->load[1] = v->load[2] = 0;
    v->extended = rl_status_flags(r->cf) & RL_STATUS_EXTENDED;
    double g[4] = { 0 };
    pid_t master = atomic_load(&rl_sb->master_pid);
    if (master > 0 && master != getpid())   /* not with -X: one process */
        proc_times(master, g);
    v->gu = g[0], v->gs = g[1], v->gcu = g[2], v->gcs = g[3];
    v->retired_accesses = atomic_load(&rl_sb->retired_accesses);
    v->retired_bytes = atomic_load(&rl_sb->retired_bytes);
    v->retired_duration_us = atomic_load(&rl_sb->retired_duration_us);
    v->nslots = shown_slots(r->cf);
    v->procs = rl_arena_calloc(r->arena, sizeof(proc_view_t) * (size_t)v->nslots);
    for (int i = 0; i < v->nslots; i++) {
        v->procs[i].slot = i;
        read_proc(r->arena, &rl_sb->procs[i], &v->procs[i], v->extended);
    }
    int sig = rl_core_signature(r->dir);
    if (sig) {
        rl_buf_t s = RL_BUF_INIT;
        rl_http_signature(&s, (rl_signature_t)sig, r->cf->server_banner, rl_req_server_name(r),
                          (unsigned)rl_req_server_port(r), r->server->admin);
        v->signature = s.len ? rl_arena_strndup(r->arena, s.data, s.len) : NULL;
        rl_buf_release(&s);
    }
}

/* ---- the handler ---- */

static int handler(rl_request_t *r)
{
    if (r->handler == NULL || (strcmp(r->handler, "server-status") != 0 &&
                               strcmp(r->handler, "application/x-httpd-status") != 0))
        return RL_DECLINED;
    if (rl_sb == NULL) {
        rl_req_log(r, RL_LOG_ERR, "status", "AH01237: Server status unavailable in inetd mode");
        return 500;
    }
    if (r->method_id != RL_M_GET && r->method_id != RL_M_HEAD)
        return RL_DECLINED;
    bool short_report = false, notable = false;
    const char *a = r->args, *loc;
    r->content_type = "text/html; charset=ISO-8859-1";
    if (a && (loc = strstr(a, "refresh")) != NULL) {
        long t = loc[7] == '=' ? atol(loc + 8) : 0;
        rl_hdrs_set(r->arena, &r->out, "Refresh", rl_arena_printf(r->arena, "%ld", t < 1 ? 10 : t));
    }
    if (a && strstr(a, "notable"))
        notable = true;
    if (a && strstr(a, "auto")) {
        r->content_type = "text/plain; charset=ISO-8859-1";
        short_report = true;
    }
    view_t v;
    build_view(r, &v);
    rl_buf_t b = RL_BUF_INIT;
    if (short_report)
        render_auto(&b, &v);
    else
        render_html(&b, &v, notable);
    rl_req_body_mem(r, rl_arena_strndup(r->arena, b.data, b.len), b.len);
    r->body_len = b.len;
    rl_buf_release(&b);
    r->status = 200;
    r->handler_done = true;
    return RL_DONE;
}

rl_module_t rl_status_module = {
    .name = "status",
    .create_server = create_server,
    .handler = handler,
};
