/* The FPM actions of relaisctl (see fpmctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/buf.h"
#include "core/proc.h"
#include "ctl/fpmctl.h"
#include "fpm/conf.h"

#define STOP_WAIT_MS 30000    /* fpm-stop: QUIT lets requests finish */

static const char *conf_file(const rl_ctl_t *c)
{
    return c->fpm_conf ? c->fpm_conf : RL_FPM_CONF_FILE;
}

static void collect(void *ctx, const char *line, size_t len)
{
    rl_buf_append(ctx, line, len);
}

/* Removes <path> when it is an empty file born at or after <since>: one
 * the loader just created (a log in use is older, or not empty). */
static void unlink_if_created(const char *path, const struct timespec *since)
{
    struct statx st;
    if (path == NULL || path[0] != '/' ||
        statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_SIZE | STATX_TYPE,
              &st) != 0 || !(st.stx_mask & STATX_BTIME) || !S_ISREG(st.stx_mode) ||
        st.stx_size != 0)
        return;
    if (st.stx_btime.tv_sec > since->tv_sec ||
        (st.stx_btime.tv_sec == since->tv_sec && st.stx_btime.tv_nsec >= since->tv_nsec))
        unlink(path);
}

static void forget_logs(const rl_fpm_conf_t *conf, const struct timespec *since)
{
    if (conf->global.error_log && strcmp(conf->global.error_log, "syslog") != 0)
        unlink_if_created(conf->global.error_log, since);
    for (const rl_fpm_pool_t *p = conf->pools; p; p = p->next) {
        unlink_if_created(p->access_log, since);
        unlink_if_created(p->slowlog, since);
    }
}

int rl_ctl_fpm_load(const char *file, rl_fpm_conf_t *conf, rl_arena_t *a)
{
    struct timespec since;
    clock_gettime(CLOCK_REALTIME, &since);
    since.tv_sec -= 1;          /* file systems store coarse times */
    rl_buf_t msgs = RL_BUF_INIT;
    rl_zlog_t log;
    rl_zlog_init(&log);
    log.sink = collect;
    log.sink_ctx = &msgs;
    rl_fpm_opts_t o = { .config = file, .force_daemon = -1 };
    int rc = rl_fpm_conf_load(conf, a, &o, &log);
    rl_zlog_close(&log);
    forget_logs(conf, &since);
    if (rc != RL_OK)
        fwrite(msgs.data, 1, msgs.len, stderr);
    rl_buf_release(&msgs);
    return rc;
}

/* The pid file the configuration names, in <out>; false after printing
 * why there is none. */
static bool pid_file(const rl_ctl_t *c, char *out, size_t len)
{
    rl_arena_t *a = rl_arena_create(0);
    rl_fpm_conf_t conf;
    bool ok = rl_ctl_fpm_load(conf_file(c), &conf, a) == RL_OK;
    if (!ok) {
        fprintf(stderr, "relaisctl: %s does not load\n", conf_file(c));
    } else if (!conf.global.pid_file || !*conf.global.pid_file) {
        fprintf(stderr, "relaisctl: %s sets no pid file (\"pid =\" in [global]): cannot find "
                "the FPM's master\n", conf_file(c));
        ok = false;
    } else {
        snprintf(out, len, "%s", conf.global.pid_file);
    }
    rl_arena_destroy(a);
    return ok;
}

/* Alive and not a zombie (a master our caller has not reaped yet is gone). */
static bool running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return rl_proc_alive(pid);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return !(paren && (paren[2] == 'Z' || paren[2] == 'X'));
}

static int fpm_test(const rl_ctl_t *c)
{
    char bin[PATH_MAX];
    char *argv[] = { (char *)rl_ctl_program(c, "relais-fpm", bin, sizeof(bin)), "-t", "-y",
                     (char *)conf_file(c), NULL };
    return rl_ctl_exec(argv, false);
}

static int send(const rl_ctl_t *c, int sig, bool stop)
{
    char path[PATH_MAX];
    if (!pid_file(c, path, sizeof(path)))
        return 1;
    pid_t pid = rl_pidfile_read(path);
    if (pid <= 0 || !running(pid)) {
        fprintf(stderr, "relais-fpm (%s) not running\n", pid <= 0 ? "no pid file" : path);
        return stop ? 0 : 1;
    }
    if (kill(pid, sig) != 0) {
        fprintf(stderr, "relaisctl: cannot signal pid %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    for (int i = 0; stop && i < STOP_WAIT_MS / 100 && running(pid); i++)
        usleep(100000);
    if (stop && running(pid)) {
        fprintf(stderr, "relaisctl: relais-fpm (pid %d) still running after %d s\n", (int)pid,
                STOP_WAIT_MS / 1000);
        return 1;
    }
    return 0;
}

int rl_ctl_fpm(const rl_ctl_t *c, const char *action)
{
    if (strcmp(action, "fpm-test") == 0)
        return fpm_test(c);
    if (strcmp(action, "fpm-reload") == 0)
        return send(c, SIGUSR2, false);
    if (strcmp(action, "fpm-reopen") == 0)
        return send(c, SIGUSR1, false);
    if (strcmp(action, "fpm-stop") == 0)
        return send(c, SIGQUIT, true);
    return 2;
}
