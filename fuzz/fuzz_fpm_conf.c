/* libFuzzer driver for src/fpm/ini.c and src/fpm/conf.c, the php-fpm
 * configuration reader.
 *
 * The input is the main configuration file (with -tt, so the dump runs
 * too). Invariants: the reader returns RL_OK or RL_ERROR; every line it
 * logs is one line ending in '\n' and shorter than php-fpm's 2048-byte
 * buffer; a configuration it accepts is complete (names, listen addresses,
 * a process manager and counts php-fpm would start, ping.response with
 * ping.path, an access.format with access.log...). Each line of the input
 * is also parsed alone twice, which must give the same statements.
 *
 * File-system calls are confined to a scratch directory (also the -p
 * prefix) holding files to include; files the reader creates (logs) are
 * opened as /dev/null so that nothing grows. */
#include "sandbox.h"
#include <assert.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fpm/conf.c"


static bool inside(const char *path)
{
    return strncmp(path, sandbox, sandbox_len) == 0 && strstr(path, "..") == NULL &&
           (path[sandbox_len] == '/' || path[sandbox_len] == '\0');
}

static int guarded_open(const char *path, int flags, ...)
{
    if (!inside(path)) {
        errno = EACCES;
        return -1;
    }
    if (flags & O_CREAT)
        return open("/dev/null", O_WRONLY | O_CLOEXEC);
    return open(path, flags);
}

static int guarded_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
    if (!inside(pattern)) {
        memset(g, 0, sizeof(*g));
        return GLOB_NOMATCH;
    }
    return glob(pattern, flags, errfunc, g);
}

static int guarded_stat(const char *path, struct stat *st)
{
    if (!inside(path)) {
        errno = EACCES;
        return -1;
    }
    return stat(path, st);
}

static struct passwd *fake_getpwnam(const char *name)
{
    static struct passwd pw = { .pw_name = "nobody", .pw_uid = 65534, .pw_gid = 65534 };
    return strcmp(name, "nobody") == 0 || strcmp(name, "www-data") == 0 ? &pw : NULL;
}

static struct group *fake_getgrnam(const char *name)
{
    static struct group gr = { .gr_name = "nogroup", .gr_gid = 65534 };
    return strcmp(name, "nogroup") == 0 || strcmp(name, "www-data") == 0 ? &gr : NULL;
}

static uid_t fake_geteuid(void) { return 0; }

/* the "[NOTICE] ..." lines without syslog itself */
static void fake_syslog(rl_zlog_t *z, const char *ident, int facility)
{
    (void)ident; (void)facility;
    z->syslog = true;
}
static int fake_isatty(int fd) { (void)fd; return 0; }

static char *fake_getenv(const char *name)
{
    return strcmp(name, "FUZZ_ENV") == 0 ? "from-env" : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    sandbox_make("/tmp/fuzz-fpm-XXXXXX");
    put("pool.d/www.conf", "[www]\nuser = www-data\ngroup = www-data\nlisten = www.sock\n"
                           "pm = dynamic\npm.max_children = 5\npm.start_servers = 2\n"
                           "pm.min_spare_servers = 1\npm.max_spare_servers = 3\n");
    put("pool.d/b.conf", "[b]\nuser = nobody\nlisten = 127.0.0.1:9000\npm = ondemand\n"
                         "pm.max_children = 2\nphp_admin_value[error_log] = log/$pool.log\n");
    put("pool.d/bad.conf.off", "[x]\nfoo = bar\n");
    put("more/self.conf", "include = more/self.conf\n");
    put("log/.keep", "");
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/pool.d/dir.conf", sandbox);
    mkdir(dir, 0755);
    sys.open = guarded_open;
    sys.glob = guarded_glob;
    sys.stat = guarded_stat;
    sys.getpwnam = fake_getpwnam;
    sys.getgrnam = fake_getgrnam;
    sys.geteuid = fake_geteuid;
    sys.isatty = fake_isatty;
    sys.getenv = fake_getenv;
    sys.use_syslog = fake_syslog;
    return 0;
}

static void check_line(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    assert(len > 0 && len < RL_ZLOG_BUF + 1);
    assert(line[len - 1] == '\n');
}

static void check_accepted(const rl_fpm_pool_t *wp)
{
    assert(wp->name != NULL);
    assert(wp->listen_address && wp->listen_address[0]);
    assert(wp->pm >= RL_FPM_PM_STATIC && wp->pm <= RL_FPM_PM_ONDEMAND);
    assert(wp->pm_max_children >= 1);
    if (wp->pm == RL_FPM_PM_DYNAMIC) {
        assert(wp->pm_min_spare_servers >= 1);
        assert(wp->pm_min_spare_servers <= wp->pm_start_servers);
        assert(wp->pm_start_servers <= wp->pm_max_spare_servers);
        assert(wp->pm_max_spare_servers <= wp->pm_max_children);
    }
    assert((wp->ping_path && wp->ping_path[0]) == (wp->ping_response != NULL));
    if (wp->access_log && wp->access_log[0])
        assert(wp->access_format != NULL);
    assert(wp->security_limit_extensions != NULL);
    for (const char **e = wp->limit_extensions; e && *e; e++)
        assert((*e)[0] != '\0' && strpbrk(*e, " \t") == NULL);
    assert(wp->request_slowlog_trace_depth > 0);
    assert(wp->process_priority == RL_FPM_UNSET_PRIORITY ||
           (wp->process_priority >= -19 && wp->process_priority <= 20));
}

typedef struct {
    rl_buf_t b;
} events_t;

static void record(void *ctx, rl_ini_event_t ev, const char *name, const char *key, const char *value)
{
    events_t *e = ctx;
    assert(name != NULL && (ev != RL_INI_ARRAY || (key && value)));
    rl_buf_appendf(&e->b, "%d|%s|%s|%s\n", (int)ev, name, key ? key : "-", value ? value : "-");
}

static const char *var(void *ctx, const char *name)
{
    (void)ctx;
    return fake_getenv(name);
}

static void check_lines(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl + 1 : end) - p);
        events_t e1 = { RL_BUF_INIT }, e2 = { RL_BUF_INIT };
        char err1[256], err2[256];
        rl_ini_parser_t p1 = { record, var, &e1 }, p2 = { record, var, &e2 };
        int rc1 = rl_ini_parse(&p1, p, n, err1, sizeof(err1));
        int rc2 = rl_ini_parse(&p2, p, n, err2, sizeof(err2));
        assert(rc1 == rc2 && e1.b.len == e2.b.len);
        assert(e1.b.len == 0 || memcmp(e1.b.data, e2.b.data, e1.b.len) == 0);
        if (rc1 != RL_OK)
            assert(strncmp(err1, "syntax error, unexpected ", 25) == 0 && strcmp(err1, err2) == 0);
        rl_buf_release(&e1.b);
        rl_buf_release(&e2.b);
        p += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(input_path, "w");
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);

    check_lines(data, size);

    rl_arena_t *a = rl_arena_create(0);
    rl_zlog_t log;
    rl_zlog_init(&log);
    log.sink = check_line;
    rl_fpm_opts_t o = { .config = input_path, .prefix = sandbox, .test = 2, .force_daemon = -1 };
    rl_fpm_conf_t c;
    int rc = rl_fpm_conf_load(&c, a, &o, &log);
    assert(rc == RL_OK || rc == RL_ERROR);
    if (rc == RL_OK) {
        assert(c.pools != NULL);
        assert(c.global.log_limit >= RL_ZLOG_MIN_LIMIT);
        assert(c.global.events_name != NULL && c.global.error_log != NULL);
        for (const rl_fpm_pool_t *wp = c.pools; wp; wp = wp->next)
            check_accepted(wp);
    }
    rl_zlog_close(&log);
    rl_arena_destroy(a);
    return 0;
}
