/* relais-fpm's master (see master.h). State is php-fpm's: pools with their
 * children, a process-control state (normal, reloading, finishing,
 * terminating) advanced by signals and timers, and two heartbeats: one a
 * second for the process manager, one of conf->heartbeat ms for the
 * request timeouts. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "core/loop.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/sock.h"
#include "fpm/leader.h"
#include "fpm/master.h"
#include "fpm/scoreboard.h"

#define EXIT_SOFTWARE 70
#define LEADER_TIMEOUT_MS 30000
#define MAINTENANCE_MS 1000
#define FAST_FAILURES 3            /* then a child a second */

enum { ST_NORMAL, ST_RELOADING, ST_TERMINATING, ST_FINISHING };

typedef struct pool_s pool_t;
typedef struct child_s child_t;

struct child_s {
    pool_t *pool;
    pid_t pid;
    int slot;
    uint64_t started_us;       /* monotonic */
    bool idle_kill;
    uint64_t slowlogged;       /* accepted_us of the request slowlogged */
    uint64_t terminated;       /* accepted_us of the request killed */
    int err_fd;                /* catch_workers_output */
    rl_io_t err_io;
    rl_event_t err_ev;
    char line[1024];
    size_t line_len;
    child_t *next;
};

struct pool_s {
    rl_fpm_pool_t *conf;
    int listen_fd;
    rl_fpm_scoreboard_t *sb;
    pid_t leader;
    int ctl;
    uint64_t eg;
    int access_fd;
    int slowlog_fd;
    child_t *children;
    int running;
    int spawn_rate;
    bool warn_max;
    rl_io_t od_io;
    rl_event_t od_ev;
    int fast_failures;         /* children in a row that failed at once */
    pool_t *next;
};

typedef struct {
    rl_fpm_master_t *m;
    rl_loop_t *loop;
    rl_zlog_t *log;
    pool_t *pools;
    int running;               /* children of every pool */
    int state;
    int signal_sent;
    rl_event_t pctl_timer;
    rl_event_t maint_timer;
    rl_event_t beat_timer;
    const char *pid_file;
    int exit_code;
    time_t faults[1024];
    int nfaults;
} master_t;

static master_t M;

/* "SIGSEGV" as php-fpm names signals in its log lines ("" if unknown). */
static const char *signame(int sig)
{
    static char buf[16];
    const char *abbrev = sigabbrev_np(sig);
    if (!abbrev)
        return "";
    snprintf(buf, sizeof(buf), "SIG%s", abbrev);
    return buf;
}

/* ---- sockets ---- */

/* FPM_SOCKETS from a reload: "addr=fd,addr=fd". */
static int inherited_socket(const char *addr)
{
    const char *env = getenv("FPM_SOCKETS");
    size_t alen = strlen(addr);
    for (const char *p = env; p && *p; ) {
        const char *eq = strchr(p, '=');
        if (!eq)
            break;
        if ((size_t)(eq - p) == alen && strncmp(p, addr, alen) == 0)
            return atoi(eq + 1);
        p = strchr(eq, ',');
        if (p)
            p++;
    }
    return -1;
}

static bool unix_in_use(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    bool used = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return used;
}

static int socket_owner(pool_t *p, uid_t *uid, gid_t *gid)
{
    const rl_fpm_pool_t *wp = p->conf;
    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (wp->listen_owner && *wp->listen_owner) {
        struct passwd *pw = getpwnam(wp->listen_owner);
        if (!pw) {
            rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] cannot get uid for user '%s'", wp->name,
                    wp->listen_owner);
            return RL_ERROR;
        }
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    }
    if (wp->listen_group && *wp->listen_group) {
        struct group *gr = getgrnam(wp->listen_group);
        if (!gr) {
            rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] cannot get gid for group '%s'", wp->name,
                    wp->listen_group);
            return RL_ERROR;
        }
        *gid = gr->gr_gid;
    }
    return RL_OK;
}


/* listen.acl_users / listen.acl_groups: POSIX ACL entries giving each named
 * user and group read and write on the socket, written as the
 * system.posix_acl_access attribute (the kernel's format: a version, then
 * entries sorted by tag and id), over the base the mode gives. As php-fpm,
 * listen.owner and listen.group are then ignored. */
typedef struct {
    uint16_t tag;
    uint16_t perm;
    uint32_t id;
} acl_entry_t;

enum { ACL_USER_OBJ = 0x01, ACL_USER = 0x02, ACL_GROUP_OBJ = 0x04, ACL_GROUP = 0x08,
       ACL_MASK = 0x10, ACL_OTHER = 0x20 };

static int add_acl_ids(pool_t *p, const char *list, bool groups, acl_entry_t *e, int n, int max)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *name = strtok_r(buf, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        uint32_t id;
        if (groups) {
            struct group *gr = getgrnam(name);
            if (!gr) {
                rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] cannot get gid for group '%s'",
                        p->conf->name, name);
                return -1;
            }
            id = gr->gr_gid;
        } else {
            struct passwd *pw = getpwnam(name);
            if (!pw) {
                rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] cannot get uid for user '%s'",
                        p->conf->name, name);
                return -1;
            }
            id = pw->pw_uid;
        }
        if (n < max)
            e[n++] = (acl_entry_t){ groups ? ACL_GROUP : ACL_USER, 6, id };
    }
    return n;
}

static int cmp_acl(const void *a, const void *b)
{
    const acl_entry_t *x = a, *y = b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int set_acl(pool_t *p, const char *path, mode_t mode)
{
    const rl_fpm_pool_t *wp = p->conf;
    acl_entry_t e[66];
    int n = 0;
    e[n++] = (acl_entry_t){ ACL_USER_OBJ, (uint16_t)((mode >> 6) & 7), 0xffffffffu };
    e[n++] = (acl_entry_t){ ACL_GROUP_OBJ, (uint16_t)((mode >> 3) & 7), 0xffffffffu };
    e[n++] = (acl_entry_t){ ACL_OTHER, (uint16_t)(mode & 7), 0xffffffffu };
    if (wp->listen_acl_users && *wp->listen_acl_users &&
        (n = add_acl_ids(p, wp->listen_acl_users, false, e, n, 64)) < 0)
        return RL_ERROR;
    if (wp->listen_acl_groups && *wp->listen_acl_groups &&
        (n = add_acl_ids(p, wp->listen_acl_groups, true, e, n, 64)) < 0)
        return RL_ERROR;
    e[n++] = (acl_entry_t){ ACL_MASK, (uint16_t)(6 | ((mode >> 3) & 7)), 0xffffffffu };
    qsort(e, (size_t)n, sizeof(e[0]), cmp_acl);
    uint8_t buf[4 + sizeof(e)];
    uint32_t version = 2;
    memcpy(buf, &version, 4);
    memcpy(buf + 4, e, (size_t)n * sizeof(e[0]));
    if (setxattr(path, "system.posix_acl_access", buf, 4 + (size_t)n * sizeof(e[0]), 0) < 0) {
        rl_zlog_errno(M.log, errno, "[pool %s] failed to write ACL", wp->name);
        return RL_ERROR;
    }
    return RL_OK;
}

static bool has_acl(const rl_fpm_pool_t *wp)
{
    return (wp->listen_acl_users && *wp->listen_acl_users) ||
           (wp->listen_acl_groups && *wp->listen_acl_groups);
}

static int unix_listen(pool_t *p)
{
    const char *path = p->conf->listen_address;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] cannot bind to UNIX socket '%s' as path is too "
                "long (found length: %zu, maximal length: %zu)", p->conf->name, path, strlen(path),
                sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    uid_t uid;
    gid_t gid;
    if (socket_owner(p, &uid, &gid) != RL_OK)
        return -1;
    if (unix_in_use(path)) {
        rl_zlog(M.log, RL_ZLOG_ERROR, "An another FPM instance seems to already listen on %s", path);
        return -1;
    }
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rl_zlog_errno(M.log, errno, "failed to create new listening socket: socket()");
        return -1;
    }
    mode_t mode = p->conf->listen_mode && *p->conf->listen_mode ?
                  (mode_t)strtoul(p->conf->listen_mode, NULL, 8) : 0660;
    mode_t saved = umask(0777 ^ mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    int err = errno;
    umask(saved);
    if (rc < 0) {
        rl_zlog_errno(M.log, err, "unable to bind listening socket for address '%s'", path);
        close(fd);
        return -1;
    }
    if (has_acl(p->conf)) {
        if (set_acl(p, path, mode) != RL_OK) {
            close(fd);
            return -1;
        }
    } else if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
        rl_zlog_errno(M.log, errno, "failed to chown() the socket '%s'", path);
        close(fd);
        return -1;
    }
    if (listen(fd, p->conf->listen_backlog) < 0) {
        rl_zlog_errno(M.log, errno, "failed to listen to address '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int inet_listen(pool_t *p)
{
    const char *addr = p->conf->listen_address;
    rl_sockaddr_t sa;
    char err[256];
    if (rl_sock_parse_listen(addr, &sa, err, sizeof(err)) != RL_OK) {
        rl_zlog(M.log, RL_ZLOG_ERROR, "invalid port value '%s'", addr);
        return -1;
    }
    int fd = rl_sock_listen(&sa, p->conf->listen_backlog, err, sizeof(err));
    if (fd < 0) {
        rl_zlog(M.log, RL_ZLOG_ERROR, "unable to bind listening socket for address '%s': %s",
                addr, err);
        return -1;
    }
    /* children accept blocking */
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

static int open_sockets(void)
{
    for (pool_t *p = M.pools; p; p = p->next) {
        if (p->conf->listen_backlog < 0)
            p->conf->listen_backlog = 511;
        /* pools sharing an address (status pools) share the socket */
        p->listen_fd = -1;
        for (pool_t *q = M.pools; q != p; q = q->next)
            if (strcmp(q->conf->listen_address, p->conf->listen_address) == 0)
                p->listen_fd = q->listen_fd;
        if (p->listen_fd >= 0)
            continue;
        int fd = inherited_socket(p->conf->listen_address);
        if (fd >= 0) {
            rl_zlog(M.log, RL_ZLOG_NOTICE, "using inherited socket fd=%d, \"%s\"", fd,
                    p->conf->listen_address);
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        } else {
            fd = p->conf->listen_domain == RL_FPM_LISTEN_UNIX ? unix_listen(p) : inet_listen(p);
        }
        if (fd < 0)
            return RL_ERROR;
        p->listen_fd = fd;
    }
    return RL_OK;
}

/* ---- leaders ---- */

static int open_log_file(const char *path)
{
    if (!path || !*path)
        return -1;
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
}

static void close_other_pools(pool_t *mine)
{
    for (pool_t *p = M.pools; p; p = p->next) {
        if (p == mine)
            continue;
        /* a pm.status_listen pool shows the board of the pool it serves */
        if (p->sb && p->conf != mine->conf->shared)
            rl_fpm_scoreboard_destroy(p->sb);
        if (p->ctl >= 0)
            close(p->ctl);
        if (p->listen_fd >= 0 && p->listen_fd != mine->listen_fd)
            close(p->listen_fd);
        if (p->access_fd >= 0)
            close(p->access_fd);
        if (p->slowlog_fd >= 0)
            close(p->slowlog_fd);
    }
}

static const rl_fpm_scoreboard_t *served_board(const pool_t *p)
{
    for (const pool_t *q = M.pools; q; q = q->next)
        if (p->conf->shared && q->conf == p->conf->shared)
            return q->sb;
    return p->sb;
}

/* In the leader's process: what it inherits but must not keep. */
static void __attribute__((noreturn)) leader_process(pool_t *p, int ctl)
{
    close_other_pools(p);
    for (pool_t *q = M.pools; q; q = q->next)
        for (child_t *c = q->children; c; c = c->next)
            if (c->err_fd >= 0)
                close(c->err_fd);
    rl_loop_destroy(M.loop);
    if (M.log->fd >= 0 && M.log->fd != STDERR_FILENO)
        close(M.log->fd);
    M.log->fd = -1;
    if (p->slowlog_fd >= 0)
        close(p->slowlog_fd);
    p->slowlog_fd = -1;
    /* children accept on it: it must survive their exec-free life, and
     * the leader does not exec, so CLOEXEC is harmless */
    rl_fpm_leader_t l = {
        .conf = M.m->conf, .pool = p->conf, .php = M.m->php, .ctl_fd = ctl,
        .listen_fd = p->listen_fd, .access_fd = p->access_fd, .slowlog_fd = p->slowlog_fd,
        .sb = p->sb, .master = getppid(), .status_sb = served_board(p),
    };
    rl_fpm_leader_main(&l);
}

static int wait_ctl(int fd, int ms)
{
    struct pollfd pf = { fd, POLLIN, 0 };
    int r;
    do
        r = poll(&pf, 1, ms);
    while (r < 0 && errno == EINTR);
    return r;
}

static int start_leader(pool_t *p)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        rl_zlog_errno(M.log, errno, "[pool %s] socketpair() failed", p->conf->name);
        return RL_ERROR;
    }
    pid_t pid = rl_proc_fork();
    if (pid < 0) {
        rl_zlog_errno(M.log, errno, "fork() failed");
        close(sv[0]);
        close(sv[1]);
        return RL_ERROR;
    }
    if (pid == 0) {
        close(sv[0]);
        p->ctl = -1;
        leader_process(p, sv[1]);
    }
    close(sv[1]);
    p->ctl = sv[0];
    p->leader = pid;
    rl_fpm_msg_t m = { 0 };
    int w = wait_ctl(p->ctl, LEADER_TIMEOUT_MS);
    int r = w > 0 ? rl_fpm_msg_recv(p->ctl, &m, NULL) : -1;
    if (r != 1 || m.op != RL_FPM_MSG_READY) {
        int status = 0;
        char how[64] = "did not answer";
        if (w <= 0)
            snprintf(how, sizeof(how), "did not answer in %d s", LEADER_TIMEOUT_MS / 1000);
        else if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
            snprintf(how, sizeof(how), "exited with code %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "exited on signal %d (%s)", WTERMSIG(status),
                     signame(WTERMSIG(status)));
        rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] the pool's leader (pid %d) failed to start PHP: "
                "it %s", p->conf->name, (int)pid, how);
        close(p->ctl);
        p->ctl = -1;
        p->leader = 0;
        return RL_ERROR;
    }
    p->eg = m.eg;
    rl_zlog(M.log, RL_ZLOG_DEBUG, "[pool %s] leader %d started", p->conf->name, (int)pid);
    return RL_OK;
}

/* ---- children ---- */

static bool can_spawn(void)
{
    return M.state == ST_NORMAL;
}

static void err_line(child_t *c, const char *s, size_t n, bool cut)
{
    const rl_fpm_pool_t *wp = c->pool->conf;
    if (wp->decorate_workers_output)
        rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] child %d said into stderr: \"%.*s\"%s",
                wp->name, (int)c->pid, (int)n, s, cut ? "..." : "");
    else
        rl_zlog_raw(M.log, "%.*s\n", (int)n, s);
}

static void on_child_output(rl_event_t *ev)
{
    child_t *c = ev->data;
    for (;;) {
        ssize_t n = read(c->err_fd, c->line + c->line_len, sizeof(c->line) - c->line_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0 && errno == EAGAIN) {
                ev->ready = 0;
                return;
            }
            if (c->line_len)
                err_line(c, c->line, c->line_len, false);
            c->line_len = 0;
            rl_loop_del_io(M.loop, &c->err_io);
            close(c->err_fd);
            c->err_fd = -1;
            return;
        }
        c->line_len += (size_t)n;
        char *start = c->line, *nl;
        while ((nl = memchr(start, '\n', c->line_len - (size_t)(start - c->line)))) {
            err_line(c, start, (size_t)(nl - start), false);
            start = nl + 1;
        }
        size_t left = c->line_len - (size_t)(start - c->line);
        if (left == sizeof(c->line)) {
            err_line(c, c->line, left, true);
            left = 0;
        }
        memmove(c->line, start, left);
        c->line_len = left;
    }
}

static void child_link(pool_t *p, pid_t pid, int slot, int err_fd)
{
    child_t *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->pool = p;
    c->pid = pid;
    c->slot = slot;
    c->started_us = rl_fpm_mono_us();
    c->err_fd = err_fd;
    c->next = p->children;
    p->children = c;
    p->running++;
    M.running++;
    rl_fpm_slot_t *s = &p->sb->slots[slot];
    s->pid = pid;
    if (err_fd >= 0) {
        fcntl(err_fd, F_SETFL, fcntl(err_fd, F_GETFL) | O_NONBLOCK);
        c->err_ev.data = c;
        c->err_ev.handler = on_child_output;
        c->err_io.fd = err_fd;
        c->err_io.read = &c->err_ev;
        if (rl_loop_add_io(M.loop, &c->err_io) != RL_OK) {
            close(err_fd);
            c->err_fd = -1;
        }
    }
}

/* Asks <p>'s leader for one child. Returns RL_OK, or RL_ERROR. */
static int spawn_one(pool_t *p, bool debug)
{
    int slot = rl_fpm_scoreboard_free_slot(p->sb);
    if (slot < 0 || p->ctl < 0)
        return RL_ERROR;
    rl_fpm_slot_t *s = &p->sb->slots[slot];
    memset(s, 0, sizeof(*s));
    s->pid = -1;                          /* reserved */
    rl_fpm_msg_t m = { .op = RL_FPM_MSG_SPAWN, .slot = slot };
    int fd = -1;
    if (rl_fpm_msg_send(p->ctl, &m, -1) != RL_OK || wait_ctl(p->ctl, LEADER_TIMEOUT_MS) <= 0 ||
        rl_fpm_msg_recv(p->ctl, &m, &fd) != 1 || m.op != RL_FPM_MSG_SPAWNED || m.pid <= 0) {
        s->pid = 0;
        if (fd >= 0)
            close(fd);
        if (m.op == RL_FPM_MSG_SPAWNED && m.err)
            rl_zlog_errno(M.log, m.err, "fork() failed");
        else
            rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] the pool's leader does not answer",
                    p->conf->name);
        return RL_ERROR;
    }
    child_link(p, m.pid, slot, fd);
    rl_zlog(M.log, debug ? RL_ZLOG_DEBUG : RL_ZLOG_NOTICE, "[pool %s] child %d started",
            p->conf->name, (int)m.pid);
    return RL_OK;
}

/* php-fpm's fpm_children_make(). */
static void children_make(pool_t *p, bool starting, int n, bool debug)
{
    const rl_fpm_pool_t *wp = p->conf;
    int max;
    if (wp->pm == RL_FPM_PM_DYNAMIC)
        max = starting ? wp->pm_start_servers : p->running + n;
    else if (wp->pm == RL_FPM_PM_ONDEMAND)
        max = starting ? 0 : p->running + n;
    else
        max = wp->pm_max_children;
    int pmax = M.m->conf->global.process_max;
    static bool warned;
    while (can_spawn() && p->running < max && (pmax < 1 || M.running < pmax)) {
        warned = false;
        if (spawn_one(p, debug) != RL_OK)
            return;
    }
    if (!warned && pmax > 0 && M.running >= pmax && p->running < max) {
        warned = true;
        rl_zlog(M.log, RL_ZLOG_WARNING, "The maximum number of processes has been reached. "
                "Please review your configuration and consider raising 'process.max'");
    }
}

static child_t *find_child(pid_t pid, child_t ***link)
{
    for (pool_t *p = M.pools; p; p = p->next)
        for (child_t **l = &p->children; *l; l = &(*l)->next)
            if ((*l)->pid == pid) {
                *link = l;
                return *l;
            }
    return NULL;
}

static void pctl_next(void);

static void emergency_check(int sig)
{
    const rl_fpm_global_t *g = &M.m->conf->global;
    int th = g->emergency_restart_threshold;
    if (th <= 0 || g->emergency_restart_interval <= 0 || (sig != SIGSEGV && sig != SIGBUS))
        return;
    if (th > (int)RL_NELEMS(M.faults))
        th = (int)RL_NELEMS(M.faults);
    time_t now = time(NULL);
    M.faults[M.nfaults++ % th] = now;
    if (M.nfaults < th)
        return;
    for (int i = 0; i < th; i++)
        if (now - M.faults[i] > g->emergency_restart_interval)
            return;
    rl_zlog(M.log, RL_ZLOG_WARNING, "failed processes threshold (%d in %d sec) is reached, "
            "initiating reload", g->emergency_restart_threshold, g->emergency_restart_interval);
    M.nfaults = 0;
    memset(M.faults, 0, sizeof(M.faults));
    if (M.state == ST_NORMAL) {
        M.state = ST_RELOADING;
        M.signal_sent = 0;
        pctl_next();
    }
}

static void bury_child(child_t *c, child_t **link, int status)
{
    pool_t *p = c->pool;
    char how[128];
    int sev = RL_ZLOG_NOTICE;
    bool restart = true;
    int sig = 0;
    if (WIFEXITED(status)) {
        snprintf(how, sizeof(how), "with code %d", WEXITSTATUS(status));
        if (c->idle_kill)
            restart = false;
        if (WEXITSTATUS(status) != 0)
            sev = RL_ZLOG_WARNING;
    } else {
        sig = WTERMSIG(status);
        snprintf(how, sizeof(how), "on signal %d (%s%s)", sig, signame(sig),
                 WCOREDUMP(status) ? " - core dumped" : "");
        if (c->idle_kill && sig == SIGQUIT)
            restart = false;
        if (sig != SIGQUIT)
            sev = RL_ZLOG_WARNING;
    }
    *link = c->next;
    p->running--;
    M.running--;
    if (c->slot >= 0 && p->sb && p->sb->slots[c->slot].pid == c->pid)
        memset(&p->sb->slots[c->slot], 0, sizeof(rl_fpm_slot_t));
    uint64_t up = rl_fpm_mono_us() - c->started_us;
    if (restart)
        rl_zlog(M.log, can_spawn() ? sev : RL_ZLOG_DEBUG, "[pool %s] child %d exited %s after "
                "%lu.%06lu seconds from start", p->conf->name, (int)c->pid, how,
                (unsigned long)(up / 1000000), (unsigned long)(up % 1000000));
    else
        rl_zlog(M.log, RL_ZLOG_DEBUG, "[pool %s] child %d has been killed by the process "
                "management after %lu.%06lu seconds from start", p->conf->name, (int)c->pid,
                (unsigned long)(up / 1000000), (unsigned long)(up % 1000000));
    if (c->err_fd >= 0) {
        on_child_output(&c->err_ev);
        if (c->err_fd >= 0) {
            rl_loop_del_io(M.loop, &c->err_io);
            close(c->err_fd);
        }
    }
    free(c);
    if (sig)
        emergency_check(sig);
    /* children that fail as soon as they start (a chroot that cannot be
     * entered, a broken extension) are respawned once a second by the
     * maintenance, not in a loop as fast as they die */
    bool failed = sig ? sig != SIGQUIT && sig != SIGTERM : WEXITSTATUS(status) != 0;
    if (failed && up < 1000000) {
        if (++p->fast_failures == FAST_FAILURES)
            rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] %d children in a row failed as they "
                    "started: starting one a second until one lives", p->conf->name,
                    FAST_FAILURES);
    } else {
        p->fast_failures = 0;
    }
    if (restart && p->fast_failures < FAST_FAILURES)
        children_make(p, false, 1, false);
}

static void leader_died(pool_t *p, int status)
{
    if (p->ctl >= 0)
        close(p->ctl);
    p->ctl = -1;
    p->leader = 0;
    if (!can_spawn())
        return;
    char how[64];
    if (WIFEXITED(status))
        snprintf(how, sizeof(how), "with code %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof(how), "on signal %d (%s)", WTERMSIG(status), signame(WTERMSIG(status)));
    rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] the pool's leader exited %s, starting a new one",
            p->conf->name, how);
    if (start_leader(p) == RL_OK && p->conf->pm == RL_FPM_PM_STATIC)
        children_make(p, false, 0, false);
}

static void pctl_last(void);

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        child_t **link;
        child_t *c = find_child(pid, &link);
        if (c) {
            bury_child(c, link, status);
            continue;
        }
        pool_t *p;
        for (p = M.pools; p && p->leader != pid; p = p->next)
            ;
        if (p)
            leader_died(p, status);
        /* else: a go-between, or a leader already replaced */
    }
    if (M.state != ST_NORMAL && M.running == 0)
        pctl_last();
}

/* ---- process control: php-fpm's fpm_pctl() ---- */

static void kill_all(int sig)
{
    for (pool_t *p = M.pools; p; p = p->next)
        for (child_t *c = p->children; c; c = c->next)
            kill(c->pid, sig);
}

static void stop_leaders(void)
{
    for (pool_t *p = M.pools; p; p = p->next) {
        if (p->ctl >= 0)
            close(p->ctl);
        p->ctl = -1;
        if (p->leader > 0) {
            kill(p->leader, SIGTERM);
            while (waitpid(p->leader, NULL, 0) < 0 && errno == EINTR)
                ;
            p->leader = 0;
        }
    }
}

static void unlink_sockets(void)
{
    for (pool_t *p = M.pools; p; p = p->next)
        if (p->conf->listen_domain == RL_FPM_LISTEN_UNIX && p->listen_fd >= 0) {
            unlink(p->conf->listen_address);
            p->listen_fd = -1;
        }
}

static void reexec(void)
{
    char env[4096];
    size_t len = 0;
    env[0] = '\0';
    for (pool_t *p = M.pools; p; p = p->next) {
        if (p->listen_fd < 0 || strstr(env, p->conf->listen_address))
            continue;
        fcntl(p->listen_fd, F_SETFD, 0);
        len += (size_t)snprintf(env + len, sizeof(env) - len, "%s%s=%d", len ? "," : "",
                                p->conf->listen_address, p->listen_fd);
        if (len >= sizeof(env))
            break;
    }
    setenv("FPM_SOCKETS", env, 1);
    setenv("RELAIS_FPM_REEXEC", "1", 1);
    char **argv = M.m->argv;
    rl_zlog(M.log, RL_ZLOG_NOTICE, "reloading: execvp(\"%s\", {\"%s\"...})", argv[0], argv[0]);
    rl_signal_unwatch(M.loop);
    execv("/proc/self/exe", argv);
    rl_zlog_errno(M.log, errno, "failed to reload: execvp() failed");
    exit(EXIT_SOFTWARE);
}

static void pctl_last(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    stop_leaders();
    if (M.state == ST_RELOADING)
        reexec();
    rl_zlog(M.log, RL_ZLOG_NOTICE, "exiting, bye-bye!");
    if (M.pid_file)
        unlink(M.pid_file);
    unlink_sockets();
    M.exit_code = 0;
    rl_loop_stop(M.loop);
}

static void on_pctl_timer(rl_event_t *ev)
{
    ev->timedout = 0;
    pctl_next();
}

static void pctl_next(void)
{
    if (M.running == 0) {
        pctl_last();
        return;
    }
    int sig, timeout;
    if (M.signal_sent == 0) {
        sig = M.state == ST_TERMINATING ? SIGTERM : SIGQUIT;
        timeout = M.m->conf->global.process_control_timeout;
    } else {
        sig = M.signal_sent == SIGQUIT ? SIGTERM : SIGKILL;
        timeout = 1;
    }
    kill_all(sig);
    M.signal_sent = sig;
    /* process_control_timeout = 0: wait for the children as long as they
     * take (php-fpm would send SIGTERM at once, cutting requests short) */
    if (timeout > 0 || sig != SIGQUIT)
        rl_timer_add(M.loop, &M.pctl_timer, (uint64_t)(timeout > 0 ? timeout : 1) * 1000);
}

static void pctl_set(int state)
{
    if (M.state == state)
        return;
    if (M.state == ST_TERMINATING)
        return;
    if (M.state == ST_FINISHING && state != ST_TERMINATING)
        return;
    if (M.state == ST_RELOADING && state != ST_FINISHING && state != ST_TERMINATING)
        return;
    M.state = state;
    M.signal_sent = 0;
    rl_timer_del(M.loop, &M.pctl_timer);
    for (pool_t *p = M.pools; p; p = p->next)
        if (p->od_io.fd >= 0 && p->od_io.read) {
            rl_loop_del_io(M.loop, &p->od_io);
            p->od_io.read = NULL;
        }
    pctl_next();
}

/* ---- logs ---- */

static void reopen_logs(void)
{
    const rl_fpm_global_t *g = &M.m->conf->global;
    if (g->error_log && strcasecmp(g->error_log, "syslog") != 0) {
        int fd = open_log_file(g->error_log);
        if (fd >= 0) {
            if (M.log->fd >= 0) {
                dup2(fd, M.log->fd);
                close(fd);
            } else {
                M.log->fd = fd;
            }
            if (!isatty(STDERR_FILENO))
                dup2(M.log->fd, STDERR_FILENO);
            rl_zlog(M.log, RL_ZLOG_NOTICE, "error log file re-opened");
        } else {
            rl_zlog_errno(M.log, errno, "failed to open error_log (%s)", g->error_log);
        }
    }
    bool access = false;
    for (pool_t *p = M.pools; p; p = p->next) {
        if (p->access_fd < 0)
            continue;
        int fd = open_log_file(p->conf->access_log);
        if (fd < 0) {
            rl_zlog_errno(M.log, errno, "failed to open access log (%s)", p->conf->access_log);
            continue;
        }
        dup2(fd, p->access_fd);
        fcntl(p->access_fd, F_SETFD, FD_CLOEXEC);
        close(fd);
        access = true;
        if (p->ctl >= 0) {
            rl_fpm_msg_t m = { .op = RL_FPM_MSG_REOPEN };
            rl_fpm_msg_send(p->ctl, &m, p->access_fd);
        }
    }
    if (access)
        rl_zlog(M.log, RL_ZLOG_NOTICE, "access log file re-opened");
    /* the children hold the old files: let them be replaced */
    kill_all(SIGQUIT);
}

/* ---- signals ---- */

static void on_signal(int signo, void *data)
{
    (void)data;
    switch (signo) {
    case SIGCHLD:
        reap();
        break;
    case SIGTERM:
    case SIGINT:
        rl_zlog(M.log, RL_ZLOG_NOTICE, "Terminating ...");
        pctl_set(ST_TERMINATING);
        break;
    case SIGQUIT:
        rl_zlog(M.log, RL_ZLOG_NOTICE, "Finishing ...");
        pctl_set(ST_FINISHING);
        break;
    case SIGUSR1:
        reopen_logs();
        break;
    case SIGUSR2:
        rl_zlog(M.log, RL_ZLOG_NOTICE, "Reloading in progress ...");
        pctl_set(ST_RELOADING);
        break;
    }
}

/* ---- the process manager: php-fpm's idle server maintenance ---- */

static bool slot_idle(const rl_fpm_slot_t *s)
{
    return s->stage == RL_FPM_STAGE_IDLE;
}

static void warn_max_children(pool_t *p, const char *what)
{
    if (p->warn_max)
        return;
    __atomic_add_fetch(&p->sb->max_children_reached, 1, __ATOMIC_RELAXED);
    rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] server reached %s setting (%d), consider raising it",
            p->conf->name, what, p->conf->pm_max_children);
    p->warn_max = true;
}

static int listen_queue(pool_t *p)
{
    struct pollfd pf = { p->listen_fd, POLLIN, 0 };
    return poll(&pf, 1, 0) > 0 ? 1 : 0;
}

static void maintain_pool(pool_t *p)
{
    const rl_fpm_pool_t *wp = p->conf;
    child_t *oldest_idle = NULL;
    int idle = 0, active = 0;
    uint64_t last_activity = 0;
    for (child_t *c = p->children; c; c = c->next) {
        const rl_fpm_slot_t *s = &p->sb->slots[c->slot];
        if (slot_idle(s)) {
            if (!oldest_idle || c->started_us < oldest_idle->started_us)
                oldest_idle = c;
            idle++;
        } else {
            active++;
        }
    }
    if (p->fast_failures >= FAST_FAILURES && wp->pm != RL_FPM_PM_ONDEMAND &&
        p->running < (wp->pm == RL_FPM_PM_STATIC ? wp->pm_max_children : wp->pm_start_servers))
        children_make(p, false, 1, false);
    p->sb->idle = idle;
    p->sb->active = active;
    p->sb->total = idle + active;
    if (active > p->sb->max_active)
        p->sb->max_active = active;
    if (wp->pm == RL_FPM_PM_ONDEMAND) {
        if (!oldest_idle) {
            if (listen_queue(p) && p->running < wp->pm_max_children)
                children_make(p, false, 1, true);
            return;
        }
        const rl_fpm_slot_t *s = &p->sb->slots[oldest_idle->slot];
        last_activity = s->accepted_mono_us + s->duration_us;
        if (last_activity < oldest_idle->started_us)
            last_activity = oldest_idle->started_us;
        if (rl_fpm_mono_us() - last_activity > (uint64_t)wp->pm_process_idle_timeout * 1000000) {
            oldest_idle->idle_kill = true;
            kill(oldest_idle->pid, SIGQUIT);
        }
        return;
    }
    if (wp->pm != RL_FPM_PM_DYNAMIC)
        return;
    rl_zlog(M.log, RL_ZLOG_DEBUG, "[pool %s] currently %d active children, %d spare children, "
            "%d running children. Spawning rate %d", wp->name, active, idle, p->running,
            p->spawn_rate);
    if (idle > wp->pm_max_spare_servers && oldest_idle) {
        oldest_idle->idle_kill = true;
        kill(oldest_idle->pid, SIGQUIT);
        p->spawn_rate = 1;
        return;
    }
    if (idle >= wp->pm_min_spare_servers) {
        p->spawn_rate = 1;
        return;
    }
    if (p->running >= wp->pm_max_children) {
        warn_max_children(p, "pm.max_children");
        p->spawn_rate = 1;
        return;
    }
    if (p->spawn_rate >= 8)
        rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] seems busy (you may need to increase "
                "pm.start_servers, or pm.min/max_spare_servers), spawning %d children, there are "
                "%d idle, and %d total children", wp->name, p->spawn_rate, idle, p->running);
    int n = RL_MIN(p->spawn_rate, wp->pm_min_spare_servers - idle);
    n = RL_MIN(n, wp->pm_max_children - p->running);
    if (n <= 0) {
        warn_max_children(p, "pm.max_children");
        p->spawn_rate = 1;
        return;
    }
    p->warn_max = false;
    children_make(p, false, n, true);
    rl_zlog(M.log, RL_ZLOG_DEBUG, "[pool %s] %d child(ren) have been created dynamically",
            wp->name, n);
    if (p->spawn_rate < wp->pm_max_spawn_rate)
        p->spawn_rate *= 2;
}

static void on_maintenance(rl_event_t *ev)
{
    ev->timedout = 0;
    if (can_spawn())
        for (pool_t *p = M.pools; p; p = p->next)
            maintain_pool(p);
    rl_timer_add(M.loop, ev, MAINTENANCE_MS);
}

/* ondemand: a connection came and no child is idle */
static void on_ondemand(rl_event_t *ev)
{
    pool_t *p = ev->data;
    ev->ready = 0;
    if (!can_spawn())
        return;
    if (p->running >= p->conf->pm_max_children) {
        warn_max_children(p, "max_children");
        return;
    }
    for (child_t *c = p->children; c; c = c->next)
        if (slot_idle(&p->sb->slots[c->slot]))
            return;
    p->warn_max = false;
    children_make(p, false, 1, true);
}

/* ---- request timeouts and the slowlog ---- */

static void purify(char *dst, size_t cap, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src[i] && j + 1 < cap; i++)
        dst[j++] = (unsigned char)src[i] < 32 ? '?' : src[i];
    dst[j] = '\0';
}

static void slowlog(pool_t *p, child_t *c, const rl_fpm_slot_t *s, const char *script)
{
    if (p->slowlog_fd < 0)
        return;
    char head[1024], tm[64];
    time_t now = time(NULL);
    struct tm t;
    localtime_r(&now, &t);
    strftime(tm, sizeof(tm), "%d-%b-%Y %H:%M:%S", &t);
    int n = snprintf(head, sizeof(head), "\n[%s]  [pool %s] pid %d\nscript_filename = %s\n", tm,
                     p->conf->name, (int)c->pid, script);
    char trace[16384];
    ssize_t tn = rl_sapi_backtrace(c->pid, (uintptr_t)p->eg, p->conf->request_slowlog_trace_depth,
                                   trace, sizeof(trace));
    if (tn < 0) {
        rl_zlog(M.log, RL_ZLOG_ERROR, "[pool %s] could not read the PHP backtrace of child %d",
                p->conf->name, (int)c->pid);
        tn = 0;
    }
    (void)s;
    if (write(p->slowlog_fd, head, (size_t)RL_MIN(n, (int)sizeof(head) - 1)) < 0 ||
        (tn > 0 && write(p->slowlog_fd, trace, (size_t)tn) < 0))
        rl_zlog_errno(M.log, errno, "[pool %s] could not write the slowlog", p->conf->name);
}

static void check_timeouts(pool_t *p)
{
    const rl_fpm_pool_t *wp = p->conf;
    int term = wp->request_terminate_timeout, slow = wp->request_slowlog_timeout;
    if (!term && !slow)
        return;
    uint64_t now = rl_fpm_mono_us();
    for (child_t *c = p->children; c; c = c->next) {
        rl_fpm_slot_t s = p->sb->slots[c->slot];
        if (s.pid != c->pid || s.stage == RL_FPM_STAGE_IDLE || !s.accepted_mono_us)
            continue;
        if (s.stage == RL_FPM_STAGE_FINISHING && !wp->request_terminate_timeout_track_finished &&
            !slow)
            continue;
        uint64_t d = now - s.accepted_mono_us;
        char script[RL_FPM_SB_STR];
        purify(script, sizeof(script), s.script);
        const char *q = s.query[0] ? "?" : "";
        if (slow && c->slowlogged != s.accepted_us && s.stage == RL_FPM_STAGE_RUNNING &&
            d >= (uint64_t)slow * 1000000) {
            c->slowlogged = s.accepted_us;
            __atomic_add_fetch(&p->sb->slow_requests, 1, __ATOMIC_RELAXED);
            rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] child %d, script '%s' (request: \"%s %s%s%s\") "
                    "executing too slow (%lu.%06lu sec), logging", wp->name, (int)c->pid, script,
                    s.method, s.request_uri, q, s.query, (unsigned long)(d / 1000000),
                    (unsigned long)(d % 1000000));
            slowlog(p, c, &s, script);
        }
        bool finished = s.stage == RL_FPM_STAGE_FINISHING;
        if (term && c->terminated != s.accepted_us && d >= (uint64_t)term * 1000000 &&
            (!finished || wp->request_terminate_timeout_track_finished)) {
            c->terminated = s.accepted_us;
            kill(c->pid, SIGTERM);
            rl_zlog(M.log, RL_ZLOG_WARNING, "[pool %s] child %d, script '%s' (request: \"%s %s%s%s\") "
                    "execution timed out (%lu.%06lu sec), terminating", wp->name, (int)c->pid,
                    script, s.method, s.request_uri, q, s.query, (unsigned long)(d / 1000000),
                    (unsigned long)(d % 1000000));
        }
    }
}

static void on_heartbeat(rl_event_t *ev)
{
    ev->timedout = 0;
    for (pool_t *p = M.pools; p; p = p->next)
        check_timeouts(p);
    int beat = M.m->conf->heartbeat;
    rl_timer_add(M.loop, ev, (uint64_t)(beat > 0 ? beat : 1000));
}

/* ---- start ---- */

static int setup_pools(void)
{
    pool_t **tail = &M.pools;
    for (rl_fpm_pool_t *wp = M.m->conf->pools; wp; wp = wp->next) {
        pool_t *p = calloc(1, sizeof(*p));
        if (!p)
            abort();
        p->conf = wp;
        p->ctl = -1;
        p->listen_fd = -1;
        p->access_fd = -1;
        p->slowlog_fd = -1;
        p->spawn_rate = 1;
        p->od_io.fd = -1;
        static const char *const pm_names[] = { "", "static", "dynamic", "ondemand" };
        p->sb = rl_fpm_scoreboard_create(wp->name, pm_names[wp->pm], wp->pm_max_children);
        if (!p->sb) {
            rl_zlog_errno(M.log, errno, "[pool %s] unable to allocate the scoreboard", wp->name);
            return RL_ERROR;
        }
        if (wp->access_log && *wp->access_log) {
            p->access_fd = open_log_file(wp->access_log);
            if (p->access_fd < 0) {
                rl_zlog_errno(M.log, errno, "failed to open access log (%s)", wp->access_log);
                return RL_ERROR;
            }
        }
        if (wp->request_slowlog_timeout && wp->slowlog && *wp->slowlog) {
            p->slowlog_fd = open_log_file(wp->slowlog);
            if (p->slowlog_fd < 0) {
                rl_zlog_errno(M.log, errno, "Unable to create or open slowlog(%s)", wp->slowlog);
                return RL_ERROR;
            }
        }
        *tail = p;
        tail = &p->next;
    }
    return RL_OK;
}

static int start_pools(void)
{
    for (pool_t *p = M.pools; p; p = p->next) {
        if (start_leader(p) != RL_OK)
            return RL_ERROR;
        if (p->conf->pm == RL_FPM_PM_ONDEMAND) {
            p->od_ev.data = p;
            p->od_ev.handler = on_ondemand;
            p->od_io.fd = p->listen_fd;
            p->od_io.read = &p->od_ev;
            if (rl_loop_add_io(M.loop, &p->od_io) != RL_OK) {
                rl_zlog_errno(M.log, errno, "[pool %s] unable to watch the socket", p->conf->name);
                return RL_ERROR;
            }
        } else {
            children_make(p, true, 0, true);
        }
    }
    return RL_OK;
}

/* php-fpm's fpm_use_error_log(): after start-up, stderr goes to the
 * error_log unless relais-fpm stays in the foreground on a terminal or
 * with -O. */
static void final_stdio(bool daemon)
{
    bool use_log = daemon || (!isatty(STDERR_FILENO) && !M.m->opts->force_stderr);
    if (use_log && M.log->fd >= 0 && M.log->fd != STDERR_FILENO) {
        dup2(M.log->fd, STDERR_FILENO);
        M.log->stderr_fd = -1;
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        if (daemon || use_log)
            dup2(null, STDOUT_FILENO);
        close(null);
    }
}

static void shutdown_master(void)
{
    for (pool_t *p = M.pools; p; ) {
        pool_t *next = p->next;
        while (p->children) {
            child_t *c = p->children;
            p->children = c->next;
            if (c->err_fd >= 0)
                close(c->err_fd);
            free(c);
        }
        if (p->sb)
            rl_fpm_scoreboard_destroy(p->sb);
        if (p->access_fd >= 0)
            close(p->access_fd);
        if (p->slowlog_fd >= 0)
            close(p->slowlog_fd);
        free(p);
        p = next;
    }
    M.pools = NULL;
}

int rl_fpm_master_run(rl_fpm_master_t *m)
{
    memset(&M, 0, sizeof(M));
    M.m = m;
    M.log = m->log;
    M.exit_code = EXIT_SOFTWARE;
    const rl_fpm_global_t *g = &m->conf->global;
    bool reexec = getenv("RELAIS_FPM_REEXEC") != NULL;
    if (reexec && M.log->fd >= 0)
        M.log->stderr_fd = -1;         /* stderr is the error_log already */
    bool daemon = !reexec && (m->opts->force_daemon >= 0 ? m->opts->force_daemon : g->daemonize);
    rl_signal_ignore_pipe();
    if (g->rlimit_files) {
        struct rlimit r = { (rlim_t)g->rlimit_files, (rlim_t)g->rlimit_files };
        if (setrlimit(RLIMIT_NOFILE, &r) < 0)
            rl_zlog_errno(M.log, errno, "failed to set rlimit_core for this pool. Please check "
                          "your system limits or decrease rlimit_files. setrlimit(RLIMIT_NOFILE, %d)",
                          g->rlimit_files);
    }
    if (g->rlimit_core) {
        rlim_t v = g->rlimit_core < 0 ? RLIM_INFINITY : (rlim_t)g->rlimit_core;
        struct rlimit r = { v, v };
        setrlimit(RLIMIT_CORE, &r);
    }
    if (g->process_priority != RL_FPM_UNSET_PRIORITY)
        setpriority(PRIO_PROCESS, 0, g->process_priority);
    int notify = -1;
    if (daemon && rl_proc_daemonize_begin(&notify) != RL_OK) {
        rl_zlog_errno(M.log, errno, "failed to daemonize");
        return EXIT_SOFTWARE;
    }
    /* as php-fpm -F: a session of its own when it can (not when a shell
     * made it a process group leader: Ctrl-C still reaches it then) */
    if (!daemon)
        setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    M.loop = rl_loop_create(64);
    if (!M.loop || setup_pools() != RL_OK || open_sockets() != RL_OK)
        goto out_fail;
    static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 };
    if (rl_signal_watch(M.loop, sigs, RL_NELEMS(sigs), on_signal, NULL) != RL_OK) {
        rl_zlog_errno(M.log, errno, "failed to init signals");
        goto out_fail;
    }
    if (g->pid_file && *g->pid_file) {
        char err[512];
        if (rl_pidfile_write(g->pid_file, getpid(), err, sizeof(err)) != RL_OK) {
            rl_zlog(M.log, RL_ZLOG_ERROR, "%s", err);
            goto out_fail;
        }
        M.pid_file = g->pid_file;
    }
    rl_fpm_title_set("relais-fpm: master process (%s)", m->conf->file);
    if (getuid() != 0 && geteuid() != 0)
        for (pool_t *p = M.pools; p; p = p->next) {
            if (p->conf->user && *p->conf->user)
                rl_zlog(M.log, RL_ZLOG_NOTICE, "[pool %s] 'user' directive is ignored when FPM "
                        "is not running as root", p->conf->name);
            if (p->conf->group && *p->conf->group)
                rl_zlog(M.log, RL_ZLOG_NOTICE, "[pool %s] 'group' directive is ignored when FPM "
                        "is not running as root", p->conf->name);
        }
    rl_zlog(M.log, RL_ZLOG_NOTICE, "fpm is running, pid %d", (int)getpid());
    final_stdio(daemon);
    if (start_pools() != RL_OK)
        goto out_fail;
    if (notify >= 0)
        rl_proc_daemonize_ready(notify);
    M.pctl_timer.handler = on_pctl_timer;
    M.maint_timer.handler = on_maintenance;
    M.beat_timer.handler = on_heartbeat;
    rl_timer_add(M.loop, &M.maint_timer, MAINTENANCE_MS);
    rl_timer_add(M.loop, &M.beat_timer, (uint64_t)(m->conf->heartbeat > 0 ? m->conf->heartbeat : 1000));
    rl_zlog(M.log, RL_ZLOG_NOTICE, "ready to handle connections");
    reap();                    /* children that died before the watch */
    rl_loop_run(M.loop);
    rl_signal_unwatch(M.loop);
    rl_loop_destroy(M.loop);
    shutdown_master();
    return M.exit_code;

out_fail:
    M.state = ST_TERMINATING;
    kill_all(SIGKILL);
    stop_leaders();
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    if (M.pid_file)
        unlink(M.pid_file);
    if (M.loop) {
        rl_signal_unwatch(M.loop);
        rl_loop_destroy(M.loop);
    }
    shutdown_master();
    return EXIT_SOFTWARE;
}
