/* relaisd: the command line (Apache httpd's), the master process and the
 * worker processes.
 *
 * The master reads the configuration, opens the listening sockets and the
 * logs as root, forks one worker per CPU and watches them. Workers drop to
 * User/Group and each runs one event loop that owns its connections. A
 * graceful restart reads the new configuration first: when it is broken the
 * old one keeps running. Listening sockets stay open across restarts, so no
 * connection is refused while workers change. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/loop.h"
#include "core/proc.h"
#include "core/signal.h"
#include "httpd/config.h"
#include "httpd/conn.h"
#include "httpd/envvars.h"
#include "httpd/scoreboard.h"

#define MAX_ARGS 64

typedef struct {
    rl_cli_conf_t conf;
    const char *defines[MAX_ARGS];
    const char *pre[MAX_ARGS];
    const char *post[MAX_ARGS];
    bool test, single, foreground, dump_vhosts, dump_modules;
    const char *signal;
} cli_t;

typedef struct {
    rl_config_t *cf;
    rl_loop_t *loop;
    cli_t *cli;
    pid_t *workers;             /* current generation; 0 = empty slot */
    uint64_t last_spawn;        /* ms, when workers were last started */
    rl_event_t respawn;         /* delayed respawn after workers die young */
    int nworkers;
    pid_t *old;                 /* previous generations, still finishing */
    int nold, oldcap;
    bool stopping;              /* no respawns */
    int stop_signal;
} master_t;

static void usage(const char *prog)
{
    fprintf(stderr,
        "Usage: %s [-D name] [-d directory] [-f file]\n"
        "       [-C \"directive\"] [-c \"directive\"]\n"
        "       [-k start|restart|graceful|graceful-stop|stop]\n"
        "       [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X] [-M]\n"
        "Options:\n"
        "  -D name            : define a name for use in <IfDefine name> directives\n"
        "  -d directory       : specify an alternate initial ServerRoot\n"
        "  -f file            : specify an alternate ServerConfigFile\n"
        "  -C \"directive\"     : process directive before reading config files\n"
        "  -c \"directive\"     : process directive after reading config files\n"
        "  -v                 : show version number\n"
        "  -t                 : run syntax check for config files\n"
        "  -S                 : show parsed vhost settings\n"
        "  -M                 : show all loaded modules\n"
        "  -X                 : debug mode (only one worker, do not detach)\n"
        "  -k signal          : start, restart, graceful, graceful-stop or stop\n", prog);
}

static void parse_cli(cli_t *c, int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "f:d:D:C:c:k:tTSMXvVhlL")) != -1) {
        switch (opt) {
        case 'f': c->conf.config_file = optarg; break;
        case 'd': c->conf.server_root = optarg; break;
        case 'D':
            if (c->conf.ndefines < MAX_ARGS)
                c->defines[c->conf.ndefines++] = optarg;
            if (strcmp(optarg, "FOREGROUND") == 0 || strcmp(optarg, "NO_DETACH") == 0)
                c->foreground = true;
            if (strcmp(optarg, "DUMP_VHOSTS") == 0) c->dump_vhosts = true;
            if (strcmp(optarg, "DUMP_MODULES") == 0) c->dump_modules = true;
            break;
        case 'C': if (c->conf.npre < MAX_ARGS) c->pre[c->conf.npre++] = optarg; break;
        case 'c': if (c->conf.npost < MAX_ARGS) c->post[c->conf.npost++] = optarg; break;
        case 'k': c->signal = optarg; break;
        case 't': case 'T': c->test = true; break;
        case 'S': c->test = c->dump_vhosts = true; break;
        case 'M': c->test = c->dump_modules = true; break;
        case 'X': c->single = c->foreground = true; break;
        case 'v': case 'V':
            printf("Server version: %s/%s (Unix) relais/0.1\n", RL_SERVER_BANNER_PRODUCT,
                   RL_SERVER_VERSION);
            exit(0);
        default:
            usage(argv[0]);
            exit(opt == 'h' ? 0 : 1);
        }
    }
    if (optind < argc) {
        usage(argv[0]);
        exit(1);
    }
    c->conf.defines = c->defines;
    c->conf.pre_directives = c->pre;
    c->conf.post_directives = c->post;
}

static rl_config_t *load(cli_t *c, bool open_logs, bool print_warnings, char *err, size_t errlen)
{
    rl_buf_t warnings = RL_BUF_INIT;
    c->conf.open_logs = open_logs;
    rl_config_t *cf = rl_config_load(&c->conf, &warnings, err, errlen);
    if (print_warnings && warnings.len)
        fwrite(warnings.data, 1, warnings.len, stderr);
    rl_buf_release(&warnings);
    return cf;
}

static void dump(rl_config_t *cf, cli_t *c)
{
    if (c->dump_vhosts) {
        printf("VirtualHost configuration:\n");
        for (rl_server_t *s = cf->main->next; s; s = s->next) {
            char a[80];
            int port = rl_sockaddr_port(&s->addrs[0]);
            if (s->addr_any[0] && port)
                snprintf(a, sizeof(a), "*:%d", port);
            else if (s->addr_any[0])
                snprintf(a, sizeof(a), "*:*");
            else
                rl_sockaddr_format(&s->addrs[0], a, sizeof(a), true);
            printf("%-22s %s (%s:%d)\n", a,
                   s->hostname ? s->hostname : "(none)", s->defn_file, s->defn_line);
        }
        printf("ServerRoot: \"%s\"\n", cf->server_root);
        printf("Main DocumentRoot: \"%s\"\n", cf->main->document_root ? cf->main->document_root
                                                                      : "/var/www/html");
        printf("PidFile: \"%s\"\n", cf->pidfile);
    }
    if (c->dump_modules) {
        printf("Loaded Modules:\n");
        for (unsigned i = 0; i < rl_nmodules; i++)
            if (rl_module_active(cf, rl_modules[i]))
                printf(" %s_module (%s)\n", rl_modules[i]->name,
                       rl_modules[i]->always ? "static" : "shared");
    }
}

/* ---- workers ---- */

static rl_worker_t *the_worker;

static void worker_signal(int signo, void *data)
{
    rl_worker_t *w = data;
    if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP)
        rl_worker_close_all(w);
    else
        rl_worker_graceful(w);
}

static void drop_privileges(rl_config_t *cf)
{
    if (geteuid() != 0)
        return;
    char err[256];
    const char *user = cf->user, *group = cf->group;
    uid_t uid;
    if (user == NULL)
        user = rl_proc_resolve_user("www-data", &uid, err, sizeof(err)) == RL_OK ? "www-data" : "nobody";
    if (group == NULL)
        group = strcmp(user, "www-data") == 0 ? "www-data" : "nogroup";
    if (rl_proc_drop_privileges(user, group, err, sizeof(err)) != RL_OK) {
        rl_log_error(cf->main->error_log, RL_LOG_ALERT, "unixd", NULL, "AH02155: %s", err);
        exit(1);
    }
}

/* Before the loop sleeps: write the pending access-log lines, and at most
 * once a second give the memory of finished requests back to the system
 * (a burst of requests must not stay in the worker's footprint). */
static void before_sleep(rl_loop_t *l, void *data)
{
    static uint64_t last_trim;
    (void)data;
    rl_log_config_flush();
    uint64_t now = rl_loop_now(l);
    if (now - last_trim >= 1000) {
        last_trim = now;
        malloc_trim(0);
    }
}

static int worker_run(rl_config_t *cf, bool drop)
{
    rl_signal_reset_child();
    rl_signal_ignore_pipe();
    if (drop)
        drop_privileges(cf);
    rl_worker_t *w = rl_xcalloc(1, sizeof(*w));
    w->cf = cf;
    w->loop = rl_loop_create(512);
    w->free_arenas = rl_xcalloc(64, sizeof(rl_arena_t *));
    uint64_t rnd = (uint64_t)getpid() * 2654435761u ^ (uint64_t)time(NULL);
    snprintf(w->boundary, sizeof(w->boundary), "%llx", (unsigned long long)rnd);
    the_worker = w;
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGWINCH, SIGUSR1 };
    rl_signal_watch(w->loop, sigs, RL_NELEMS(sigs), worker_signal, w);
    if (rl_worker_listen(w) != RL_OK) {
        rl_log_error(cf->main->error_log, RL_LOG_CRIT, "mpm_event", NULL, "worker: cannot watch "
                     "the listening sockets");
        return 1;
    }
    rl_loop_set_before_sleep(w->loop, before_sleep, NULL);
    rl_loop_run(w->loop);
    rl_log_config_flush();
    return 0;
}

static pid_t spawn_worker(master_t *m)
{
    int slot = rl_sb_claim();   /* mod_status: the worker's scoreboard slot */
    pid_t pid = rl_proc_fork();
    if (pid == 0) {
        rl_sb_attach(slot);
        rl_loop_destroy(m->loop);
        _exit(worker_run(m->cf, true));
    }
    rl_sb_assign(slot, pid);
    return pid;
}

static void spawn_all(master_t *m)
{
    m->last_spawn = rl_loop_now(m->loop);
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i] == 0)
            m->workers[i] = spawn_worker(m);
}

static void respawn_timer(rl_event_t *ev)
{
    master_t *m = ev->data;
    ev->timedout = 0;
    if (!m->stopping)
        spawn_all(m);
}

static void signal_all(master_t *m, int signo, bool old_too)
{
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i] > 0)
            kill(m->workers[i], signo);
    for (int i = 0; old_too && i < m->nold; i++)
        if (m->old[i] > 0)
            kill(m->old[i], signo);
}

static int live_children(master_t *m)
{
    int n = 0;
    for (int i = 0; i < m->nworkers; i++) n += m->workers[i] > 0;
    for (int i = 0; i < m->nold; i++) n += m->old[i] > 0;
    return n;
}

/* ---- the master ---- */

static int worker_count(rl_config_t *cf)
{
    if (cf->workers > 0)
        return cf->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Opens the configuration's listeners, taking over the sockets of <old>
 * for addresses both have. Returns NULL or an error. */
static const char *open_listeners(rl_config_t *cf, rl_config_t *old, char *err, size_t errlen)
{
    if (cf->listeners == NULL)
        return "AH00015: Unable to open logs / no listening sockets available, shutting down";
    for (rl_listener_t *l = cf->listeners; l; l = l->next) {
        /* "Listen 80" is [::]:80, which takes IPv4 too: a later
         * "Listen 0.0.0.0:80" is already served (Apache skips it too) */
        bool covered = false;
        for (rl_listener_t *e = cf->listeners; e != l && !covered; e = e->next)
            covered = e->fd >= 0 && rl_sock_listen_covers(&e->addr, &l->addr);
        if (covered)
            continue;
        for (rl_listener_t *o = old ? old->listeners : NULL; o; o = o->next) {
            if (o->fd >= 0 && rl_sockaddr_ip_equal(&o->addr, &l->addr) &&
                rl_sockaddr_port(&o->addr) == rl_sockaddr_port(&l->addr)) {
                l->fd = o->fd;
                o->fd = -1;
                break;
            }
        }
        if (l->fd >= 0)
            continue;
        char e[256];
        l->fd = rl_sock_listen(&l->addr, 511, e, sizeof(e));
        if (l->fd < 0) {
            snprintf(err, errlen, "%s\nAH00451: no listening sockets available, shutting down", e);
            return err;
        }
    }
    return NULL;
}

static void close_listeners(rl_config_t *cf)
{
    for (rl_listener_t *l = cf ? cf->listeners : NULL; l; l = l->next) {
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
    }
}

static void forget(master_t *m, pid_t pid, int status)
{
    rl_sb_release(pid);
    for (int i = 0; i < m->nold; i++) {
        if (m->old[i] == pid) {
            m->old[i] = 0;
            return;
        }
    }
    for (int i = 0; i < m->nworkers; i++) {
        if (m->workers[i] != pid)
            continue;
        m->workers[i] = 0;
        if (WIFSIGNALED(status))
            rl_log_error(m->cf->main->error_log, RL_LOG_NOTICE, "core", NULL, "AH00052: child pid %d "
                         "exit signal %s (%d)", (int)pid, strsignal(WTERMSIG(status)),
                         WTERMSIG(status));
        if (m->stopping)
            return;
        /* a worker that dies within a second of its start would die again:
         * respawn once a second rather than in a tight loop */
        rl_loop_update_time(m->loop);
        if (rl_loop_now(m->loop) - m->last_spawn < 1000) {
            if (!m->respawn.timer_set) {
                rl_log_error(m->cf->main->error_log, RL_LOG_ERR, "mpm_event", NULL, "child pid "
                             "%d exited right after it started; starting workers again in 1 s",
                             (int)pid);
                rl_timer_add(m->loop, &m->respawn, 1000);
            }
            return;
        }
        m->workers[i] = spawn_worker(m);
        return;
    }
}

static void reap(master_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        forget(m, pid, status);
    if (m->stopping && live_children(m) == 0)
        rl_loop_stop(m->loop);
}

/* A restart: the new configuration first; the old one stays if it fails. */
static void restart(master_t *m, bool graceful)
{
    rl_log_t *log = m->cf->main->error_log;
    rl_log_error(log, RL_LOG_NOTICE, "mpm_event", NULL, graceful
                 ? "AH00493: SIGUSR1 received.  Doing graceful restart"
                 : "AH00494: SIGHUP received.  Attempting to restart");
    char err[2048];
    rl_config_t *cf = load(m->cli, true, false, err, sizeof(err));
    if (cf == NULL || open_listeners(cf, m->cf, err, sizeof(err))) {
        rl_log_error(log, RL_LOG_ERR, "core", NULL, "AH00526: configuration error, keeping the "
                     "running configuration: %s", err);
        if (cf) {
            /* give back what the failed generation took from the old one */
            for (rl_listener_t *l = cf->listeners; l; l = l->next)
                for (rl_listener_t *o = m->cf->listeners; o; o = o->next)
                    if (o->fd < 0 && l->fd >= 0 && rl_sockaddr_ip_equal(&o->addr, &l->addr) &&
                        rl_sockaddr_port(&o->addr) == rl_sockaddr_port(&l->addr))
                        o->fd = l->fd, l->fd = -1;
            close_listeners(cf);
            rl_config_free(cf);
        }
        return;
    }
    /* the old workers finish (graceful) or stop; the new ones start */
    int sig = graceful ? SIGWINCH : SIGTERM;
    for (int i = 0; i < m->nworkers; i++) {
        if (m->workers[i] <= 0)
            continue;
        kill(m->workers[i], sig);
        if (m->nold == m->oldcap) {
            m->oldcap = m->oldcap ? m->oldcap * 2 : 16;
            m->old = rl_xrealloc(m->old, sizeof(pid_t) * (size_t)m->oldcap);
        }
        m->old[m->nold++] = m->workers[i];
    }
    close_listeners(m->cf);
    rl_config_free(m->cf);
    m->cf = cf;
    rl_sb_restart(graceful);
    free(m->workers);
    m->nworkers = worker_count(cf);
    m->workers = rl_xcalloc((size_t)m->nworkers, sizeof(pid_t));
    spawn_all(m);
    rl_log_error(cf->main->error_log, RL_LOG_NOTICE, "mpm_event", NULL, "AH00489: %s configured -- "
                 "resuming normal operations", cf->server_banner);
}

static void master_signal(int signo, void *data)
{
    master_t *m = data;
    rl_log_t *log = m->cf->main->error_log;
    switch (signo) {
    case SIGCHLD:
        reap(m);
        break;
    case SIGHUP:
    case SIGUSR1:
        if (!m->stopping)
            restart(m, signo == SIGUSR1);
        break;
    case SIGWINCH:
        rl_log_error(log, RL_LOG_NOTICE, "mpm_event", NULL, "AH00492: caught SIGWINCH, shutting "
                     "down gracefully");
        m->stopping = true;
        close_listeners(m->cf);
        signal_all(m, SIGWINCH, true);
        reap(m);
        break;
    default:
        rl_log_error(log, RL_LOG_NOTICE, "mpm_event", NULL, "AH00491: caught SIG%s, shutting down",
                     signo == SIGINT ? "INT" : "TERM");
        m->stopping = true;
        signal_all(m, SIGTERM, true);
        reap(m);
        break;
    }
}

static void wait_children(master_t *m)
{
    /* bounded: a worker that ignores TERM for 5 s is killed */
    for (int i = 0; i < 50 && live_children(m); i++) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            forget(m, pid, status);
        if (live_children(m))
            usleep(100000);
    }
    signal_all(m, SIGKILL, true);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static const char *pidfile_path(rl_config_t *cf)
{
    return rl_config_path(cf, cf->pidfile ? cf->pidfile : "logs/httpd.pid");
}

static int master_run(cli_t *cli, rl_config_t *cf)
{
    char err[1024];
    if (open_listeners(cf, NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        rl_log_error(cf->main->error_log, RL_LOG_EMERG, "core", NULL, "%s", err);
        return 1;
    }
    rl_proc_raise_nofile(65536);
    int notify = -1;
    if (!cli->foreground && rl_proc_daemonize_begin(&notify) != RL_OK) {
        fprintf(stderr, "relaisd: cannot detach: %s\n", strerror(errno));
        return 1;
    }
    const char *pidfile = pidfile_path(cf);
    if (rl_pidfile_write(pidfile, getpid(), err, sizeof(err)) != RL_OK)
        rl_log_error(cf->main->error_log, RL_LOG_ERR, "core", NULL, "AH00099: could not create %s: %s",
                     pidfile, err);
    rl_signal_ignore_pipe();
    if (rl_sb_create() != RL_OK)
        rl_log_error(cf->main->error_log, RL_LOG_ERR, "status", NULL, "cannot map the "
                     "scoreboard: %s (server-status is unavailable)", strerror(errno));
    if (cli->single) {
        if (notify >= 0)
            rl_proc_daemonize_ready(notify);
        rl_sb_attach(rl_sb_claim());
        int rc = worker_run(cf, false);
        unlink(pidfile);
        return rc;
    }
    master_t m = { .cf = cf, .cli = cli };
    m.loop = rl_loop_create(64);
    static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGWINCH };
    rl_signal_watch(m.loop, sigs, RL_NELEMS(sigs), master_signal, &m);
    m.nworkers = worker_count(cf);
    m.workers = rl_xcalloc((size_t)m.nworkers, sizeof(pid_t));
    m.respawn.data = &m;
    m.respawn.handler = respawn_timer;
    spawn_all(&m);
    rl_log_error(cf->main->error_log, RL_LOG_NOTICE, "mpm_event", NULL, "AH00489: %s configured -- "
                 "resuming normal operations", cf->server_banner);
    if (notify >= 0)
        rl_proc_daemonize_ready(notify);
    rl_loop_run(m.loop);
    wait_children(&m);
    unlink(pidfile_path(m.cf));
    rl_config_free(m.cf);
    free(m.workers);
    free(m.old);
    return 0;
}

#define START_INSTEAD (-2)

/* -k stop|restart|graceful|graceful-stop: signal the running master.
 * Returns the exit code, or START_INSTEAD for a restart of a server that is
 * not running: Apache starts it then. */
static int send_signal(cli_t *cli, const char *what)
{
    static const struct { const char *name; int sig; } k[] = {
        { "stop", SIGTERM }, { "restart", SIGHUP }, { "graceful", SIGUSR1 },
        { "graceful-stop", SIGWINCH },
    };
    int sig = -1;
    for (size_t i = 0; i < RL_NELEMS(k); i++)
        if (strcmp(what, k[i].name) == 0)
            sig = k[i].sig;
    if (sig < 0) {
        fprintf(stderr, "relaisd: unknown -k argument '%s'\n", what);
        return 1;
    }
    char err[2048];
    rl_config_t *cf = load(cli, false, false, err, sizeof(err));
    if (cf == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const char *path = pidfile_path(cf);
    pid_t pid = rl_pidfile_read(path);
    if (pid <= 0 || !rl_proc_alive(pid)) {
        rl_config_free(cf);
        if (sig == SIGHUP || sig == SIGUSR1) {
            printf("httpd not running, trying to start\n");
            return START_INSTEAD;
        }
        fprintf(stderr, "httpd (no pid file) not running\n");
        return 0;
    }
    if (kill(pid, sig) != 0) {
        fprintf(stderr, "relaisd: cannot signal pid %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    /* stop returns once the server is gone, so scripts can go on */
    for (int i = 0; sig == SIGTERM && i < 100 && rl_proc_alive(pid); i++)
        usleep(100000);
    rl_config_free(cf);
    return 0;
}

int main(int argc, char **argv)
{
    cli_t cli = { 0 };
    parse_cli(&cli, argc, argv);
    /* the daemon chdirs to "/": later reloads need absolute paths */
    char root[4096];
    if (cli.conf.server_root && realpath(cli.conf.server_root, root))
        cli.conf.server_root = root;
    char err[4096];
    /* Debian's envvars (APACHE_RUN_USER, APACHE_LOG_DIR, ...), as apache2ctl
     * would have exported them; variables already set win */
    if (rl_envvars_setup(cli.conf.server_root, cli.conf.config_file, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relaisd: %s\n", err);
        return 1;
    }
    if (cli.signal && strcmp(cli.signal, "start") != 0) {
        int rc = send_signal(&cli, cli.signal);
        if (rc != START_INSTEAD)
            return rc;
    }
    rl_config_t *cf = load(&cli, !cli.test, true, err, sizeof(err));
    if (cf == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (cli.test) {
        dump(cf, &cli);
        if (cf->ignored)
            fprintf(stderr, "relaisd: directives accepted and ignored: %s\n"
                    "  (MPM sizing: the event engine has no thread pools to size; the others "
                    "belong to modules relais does not implement yet)\n", cf->ignored);
        if (!cli.dump_vhosts && !cli.dump_modules)
            fprintf(stderr, "Syntax OK\n");
        rl_config_free(cf);
        return 0;
    }
    if (cli.signal) {
        pid_t pid = rl_pidfile_read(pidfile_path(cf));
        if (pid > 0 && rl_proc_alive(pid)) {
            fprintf(stderr, "httpd (pid %d) already running\n", (int)pid);
            return 0;
        }
    }
    return master_run(&cli, cf);
}
