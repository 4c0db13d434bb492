/* A pool's leader (see leader.h): privileges, PHP start-up, children. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/proc.h"
#include "core/str.h"
#include "fpm/child.h"
#include "fpm/leader.h"

/* ---- process titles ---- */

static char *title_base;
static size_t title_room;

void rl_fpm_title_init(int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return;
    char *end = argv[0] + strlen(argv[0]);
    for (int i = 1; i < argc; i++)
        if (argv[i] == end + 1)
            end = argv[i] + strlen(argv[i]);
    /* the environment's strings follow argv's: move them to the heap and
     * take their room too, as php-fpm does */
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = malloc((n + 1) * sizeof(char *));
    if (env) {
        for (size_t i = 0; i < n; i++) {
            if (environ[i] == end + 1)
                end = environ[i] + strlen(environ[i]);
            env[i] = strdup(environ[i]);
        }
        env[n] = NULL;
        environ = env;
    }
    title_base = argv[0];
    title_room = (size_t)(end - argv[0]);
}

void rl_fpm_title_set(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    prctl(PR_SET_NAME, buf, 0, 0, 0);
    if (!title_base || title_room == 0)
        return;
    size_t n = strlen(buf);
    if (n > title_room)
        n = title_room;
    memcpy(title_base, buf, n);
    memset(title_base + n, 0, title_room - n + 1);
}

/* ---- messages ---- */

int rl_fpm_msg_send(int sock, const rl_fpm_msg_t *m, int fd)
{
    struct iovec iov = { (void *)m, sizeof(*m) };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n == (ssize_t)sizeof(*m))
            return RL_OK;
        if (n < 0 && errno == EINTR)
            continue;
        return RL_ERROR;
    }
}

int rl_fpm_msg_recv(int sock, rl_fpm_msg_t *m, int *fd)
{
    struct iovec iov = { m, sizeof(*m) };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf) };
    if (fd)
        *fd = -1;
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(*m))
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(c), sizeof(int));
            if (fd)
                *fd = got;
            else
                close(got);
        }
    }
    return 1;
}

/* ---- the pool's process settings, php-fpm's fpm_unix_init_child() ---- */

static void die(rl_fpm_leader_t *l, const char *what, int err)
{
    fprintf(stderr, "ERROR: [pool %s] %s%s%s\n", l->pool->name, what, err ? ": " : "",
            err ? strerror(err) : "");
    _exit(78);
}

static void set_limits(rl_fpm_leader_t *l)
{
    const rl_fpm_pool_t *wp = l->pool;
    if (wp->rlimit_files) {
        struct rlimit r = { (rlim_t)wp->rlimit_files, (rlim_t)wp->rlimit_files };
        if (setrlimit(RLIMIT_NOFILE, &r) < 0)
            fprintf(stderr, "WARNING: [pool %s] failed to set rlimit_files for this pool. Please "
                    "check your system limits or decrease rlimit_files. setrlimit(RLIMIT_NOFILE, "
                    "%d): %s (%d)\n", wp->name, wp->rlimit_files, strerror(errno), errno);
    }
    if (wp->rlimit_core) {
        rlim_t v = wp->rlimit_core < 0 ? RLIM_INFINITY : (rlim_t)wp->rlimit_core;
        struct rlimit r = { v, v };
        if (setrlimit(RLIMIT_CORE, &r) < 0)
            fprintf(stderr, "WARNING: [pool %s] failed to set rlimit_core for this pool. Please "
                    "check your system limits or decrease rlimit_core. setrlimit(RLIMIT_CORE, "
                    "%d): %s (%d)\n", wp->name, wp->rlimit_core, strerror(errno), errno);
    }
    if (wp->process_priority != RL_FPM_UNSET_PRIORITY && geteuid() == 0 &&
        setpriority(PRIO_PROCESS, 0, wp->process_priority) < 0)
        die(l, "Unable to set priority for this new process", errno);
}

static bool as_root(void)
{
    return getuid() == 0 || geteuid() == 0;
}

/* clear_env and env[], as fpm_env_init_child(). */
static void set_env(rl_fpm_leader_t *l)
{
    if (l->pool->clear_env)
        clearenv();
    /* php-fpm keeps its array newest first and applies it in that order */
    for (const rl_fpm_kv_t *kv = l->pool->env; kv; kv = kv->next)
        setenv(kv->key, kv->value ? kv->value : "", 1);
    /* and, started as root, the pool user's USER and HOME */
    const char *user = l->pool->user;
    struct passwd *pw = as_root() && user && *user ? getpwnam(user) : NULL;
    if (pw) {
        setenv("USER", pw->pw_name, 1);
        setenv("HOME", pw->pw_dir, 1);
    }
}

/* The pool's user and group; with <keep_root>, the saved uid stays 0 so
 * that each child can still chroot (then drops it for good). */
static void become_user(rl_fpm_leader_t *l, bool keep_root)
{
    const rl_fpm_pool_t *wp = l->pool;
    if (!as_root() || !wp->user || !*wp->user)
        return;
    struct passwd *pw = getpwnam(wp->user);
    if (!pw)
        die(l, "cannot get uid for user", 0);
    gid_t gid = pw->pw_gid;
    if (wp->group && *wp->group) {
        struct group *gr = getgrnam(wp->group);
        if (!gr)
            die(l, "cannot get gid for group", 0);
        gid = gr->gr_gid;
    }
    if (pw->pw_uid == 0 && !keep_root)
        return;                  /* -R: the pool runs as root */
    if (setgid(gid) < 0)
        die(l, "failed to setgid", errno);
    if (initgroups(pw->pw_name, gid) < 0)
        die(l, "failed to initgroups", errno);
    if (keep_root) {
        if (setresuid(pw->pw_uid, pw->pw_uid, 0) < 0)
            die(l, "failed to setuid", errno);
    } else if (setuid(pw->pw_uid) < 0) {
        die(l, "failed to setuid", errno);
    }
}

/* In a child of a chroot'ed pool: root once more, chroot, then the user
 * for good. */
static void enter_chroot(rl_fpm_leader_t *l)
{
    const rl_fpm_pool_t *wp = l->pool;
    uid_t uid = getuid(), ruid, euid, suid;
    /* the leader kept root as its saved uid for this */
    if (getresuid(&ruid, &euid, &suid) == 0 && suid == 0 && setresuid(0, 0, 0) < 0)
        die(l, "failed to regain root for chroot", errno);
    if (chroot(wp->chroot) < 0)
        die(l, "failed to chroot", errno);
    if (chdir(wp->chdir && *wp->chdir ? wp->chdir : "/") < 0)
        die(l, "failed to chdir", errno);
    if (uid != 0 && setresuid(uid, uid, uid) < 0)
        die(l, "failed to setuid", errno);
}

static void set_dumpable(rl_fpm_leader_t *l)
{
    if (l->pool->process_dumpable)
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* ---- children ---- */

static int devnull(void)
{
    return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* In the child, once re-parented to the master. */
static void __attribute__((noreturn)) child_main(rl_fpm_leader_t *l, int slot, int err_fd)
{
    close(l->ctl_fd);
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != l->master)
        _exit(0);
    if (l->pool->chroot && *l->pool->chroot)
        enter_chroot(l);
    set_dumpable(l);
    int out = err_fd >= 0 ? err_fd : devnull();
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
        close(out);
    }
    rl_fpm_title_set("relais-fpm: pool %s", l->pool->name);
    rl_fpm_slot_t *s = &l->sb->slots[slot];
    s->pid = getpid();
    s->start_us = rl_fpm_now_us();
    s->requests = 0;
    s->stage = RL_FPM_STAGE_IDLE;
    rl_fpm_child_t c = {
        .pool = l->pool, .listen_fd = l->listen_fd, .sb = l->sb, .slot = slot,
        .status_sb = l->status_sb ? l->status_sb : l->sb,
        .access_fd = l->access_fd, .slowlog_fd = -1,
    };
    int code = rl_fpm_child_run(&c);
    rl_sapi_shutdown();
    _exit(code);
}

/* The go-between: forks the child, tells its pid, exits. */
static void __attribute__((noreturn)) between(rl_fpm_leader_t *l, int slot, int pid_w, int err_w)
{
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) < 0)
        _exit(71);
    pid_t go_between = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(pid_w);
        close(gate[1]);
        char b;
        while (read(gate[0], &b, 1) < 0 && errno == EINTR)
            ;                    /* EOF once the go-between is exiting */
        close(gate[0]);
        /* its files close before it is gone: wait for the re-parenting */
        for (int i = 0; getppid() == go_between && i < 50000; i++)
            usleep(100);
        child_main(l, slot, err_w);
    }
    int e = pid < 0 ? errno : 0;
    pid_t msg[2] = { pid, e };
    if (write(pid_w, msg, sizeof(msg)) < 0)
        _exit(71);
    _exit(0);
}

static void spawn(rl_fpm_leader_t *l, int slot)
{
    rl_fpm_msg_t m = { .op = RL_FPM_MSG_SPAWNED, .slot = slot, .pid = -1 };
    int p[2], e[2] = { -1, -1 };
    if (pipe2(p, O_CLOEXEC) < 0) {
        m.err = errno;
        rl_fpm_msg_send(l->ctl_fd, &m, -1);
        return;
    }
    if (l->pool->catch_workers_output && pipe2(e, O_CLOEXEC) < 0)
        e[0] = e[1] = -1;
    pid_t x = fork();
    if (x == 0) {
        close(p[0]);
        if (e[0] >= 0)
            close(e[0]);
        between(l, slot, p[1], e[1]);
    }
    close(p[1]);
    if (e[1] >= 0)
        close(e[1]);
    if (x < 0) {
        m.err = errno;
    } else {
        pid_t got[2] = { -1, EIO };
        ssize_t n;
        do
            n = read(p[0], got, sizeof(got));
        while (n < 0 && errno == EINTR);
        while (waitpid(x, NULL, 0) < 0 && errno == EINTR)
            ;
        m.pid = n == (ssize_t)sizeof(got) ? got[0] : -1;
        m.err = n == (ssize_t)sizeof(got) ? got[1] : EIO;
    }
    close(p[0]);
    rl_fpm_msg_send(l->ctl_fd, &m, m.pid > 0 ? e[0] : -1);
    if (e[0] >= 0)
        close(e[0]);
}

void rl_fpm_leader_main(rl_fpm_leader_t *l)
{
    const rl_fpm_pool_t *wp = l->pool;
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    rl_fpm_title_set("relais-fpm: pool %s leader", wp->name);
    bool chrooted = wp->chroot && *wp->chroot;
    set_limits(l);
    set_env(l);
    if (!chrooted && wp->chdir && *wp->chdir && chdir(wp->chdir) < 0)
        die(l, "failed to chdir", errno);
    become_user(l, chrooted);
    set_dumpable(l);
    rl_fpm_child_signals();
    if (rl_sapi_startup(l->php) < 0)
        die(l, "PHP failed to start", 0);
    /* the leader's life: the list is never freed */
    rl_sapi_pool_value_t *vals = NULL, **tail = &vals;
    for (int admin = 0; admin < 2; admin++)
        for (const rl_fpm_kv_t *kv = admin ? wp->php_admin_values : wp->php_values; kv;
             kv = kv->next) {
            rl_sapi_pool_value_t *v = rl_xcalloc(1, sizeof(*v));
            *v = (rl_sapi_pool_value_t){ kv->key, kv->value ? kv->value : "", admin != 0, NULL };
            *tail = v;
            tail = &v->next;
        }
    char err[256];
    if (vals && rl_sapi_pool_ini(vals, err, sizeof(err)) < 0)
        fprintf(stderr, "ERROR: [pool %s] %s\n", wp->name, err);
    rl_fpm_msg_t ready = { .op = RL_FPM_MSG_READY, .eg = rl_sapi_executor_globals() };
    if (rl_fpm_msg_send(l->ctl_fd, &ready, -1) != RL_OK)
        _exit(0);
    for (;;) {
        rl_fpm_msg_t m;
        int fd;
        int r = rl_fpm_msg_recv(l->ctl_fd, &m, &fd);
        if (r <= 0)
            break;
        if (m.op == RL_FPM_MSG_REOPEN && fd >= 0 && l->access_fd >= 0)
            dup2(fd, l->access_fd);
        if (fd >= 0)
            close(fd);
        if (m.op == RL_FPM_MSG_SPAWN && m.slot >= 0 && m.slot < l->sb->nslots)
            spawn(l, m.slot);
    }
    _exit(0);
}
