/* Processes: what a daemon's master does to itself and to its children.
 *
 * Privilege dropping follows Apache's unixd module (names or "#id", group
 * then user, and a refusal to serve as root), with a final check that root
 * cannot be regained. Daemonizing is split in two so that "-k start" returns
 * only once the daemon is usable: the original process waits on a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/proc.h"
#include "core/signal.h"


/* Parses "#<digits>" into <*id>; false for anything else. */
static bool parse_hash_id(const char *s, unsigned long *id)
{
    if (s[0] != '#' || s[1] < '0' || s[1] > '9')
        return false;
    char *end;
    errno = 0;
    *id = strtoul(s + 1, &end, 10);
    return errno == 0 && *end == '\0' && *id < UINT_MAX;
}

/* ---- privileges ---- */

int rl_proc_resolve_user(const char *user, uid_t *uid, char *err, size_t errlen)
{
    unsigned long id;
    if (user && parse_hash_id(user, &id)) {
        *uid = (uid_t)id;
        return RL_OK;
    }
    struct passwd *pw = user && *user ? getpwnam(user) : NULL;
    if (pw == NULL) {
        rl_errf(err, errlen, "bad user name %s", user ? user : "(null)");
        return RL_ERROR;
    }
    *uid = pw->pw_uid;
    return RL_OK;
}

int rl_proc_resolve_group(const char *group, gid_t *gid, char *err, size_t errlen)
{
    unsigned long id;
    if (group && parse_hash_id(group, &id)) {
        *gid = (gid_t)id;
        return RL_OK;
    }
    struct group *gr = group && *group ? getgrnam(group) : NULL;
    if (gr == NULL) {
        rl_errf(err, errlen, "bad group name %s", group ? group : "(null)");
        return RL_ERROR;
    }
    *gid = gr->gr_gid;
    return RL_OK;
}

/* Sets the supplementary groups: the user's from /etc/group, or just <gid>
 * when the uid has no passwd entry (a bare "#uid"). */
static int set_groups(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    struct passwd *pw = getpwuid(uid);
    if (pw ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) {
        rl_errf(err, errlen, "could not set groups for uid %lu: %s",
             (unsigned long)uid, strerror(errno));
        return RL_ERROR;
    }
    return RL_OK;
}

/* After setuid: every id must be the new one and setuid(0) must fail. */
static int verify_dropped(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg)
        || r != uid || e != uid || s != uid || rg != gid || eg != gid || sg != gid) {
        rl_errf(err, errlen, "ids did not change to uid %lu gid %lu",
             (unsigned long)uid, (unsigned long)gid);
        return RL_ERROR;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        rl_errf(err, errlen, "could regain root after setuid(%lu)", (unsigned long)uid);
        return RL_ERROR;
    }
    return RL_OK;
}

int rl_proc_drop_privileges(const char *user, const char *group, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (geteuid() != 0)
        return RL_OK;
    if (rl_proc_resolve_user(user, &uid, err, errlen) != RL_OK)
        return RL_ERROR;
    if (group) {
        if (rl_proc_resolve_group(group, &gid, err, errlen) != RL_OK)
            return RL_ERROR;
    } else {
        struct passwd *pw = getpwuid(uid);
        if (pw == NULL) {
            rl_errf(err, errlen, "no group given and no passwd entry for uid %lu",
                 (unsigned long)uid);
            return RL_ERROR;
        }
        gid = pw->pw_gid;
    }
    if (uid == 0) {
        rl_errf(err, errlen, "refusing to serve as root (User %s): "
             "set User to an unprivileged user", user);
        return RL_ERROR;
    }
    if (set_groups(uid, gid, err, errlen) != RL_OK)
        return RL_ERROR;
    if (setgid(gid) != 0) {
        rl_errf(err, errlen, "setgid(%lu): %s", (unsigned long)gid, strerror(errno));
        return RL_ERROR;
    }
    if (setuid(uid) != 0) {
        rl_errf(err, errlen, "setuid(%lu): %s", (unsigned long)uid, strerror(errno));
        return RL_ERROR;
    }
    return verify_dropped(uid, gid, err, errlen);
}

/* ---- resource limits ---- */

int rl_proc_set_rlimit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0)
        return RL_ERROR;
    if (hard != RL_RLIM_MAX)
        rl.rlim_max = hard;
    rl.rlim_cur = soft == RL_RLIM_MAX ? rl.rlim_max : soft;
    return setrlimit(resource, &rl) == 0 ? RL_OK : RL_ERROR;
}

int rl_proc_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return RL_ERROR;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
        return RL_OK;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want && geteuid() == 0) {
        struct rlimit more = { want, want };
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            return RL_OK;
        /* beyond fs.nr_open: settle for the current hard limit */
    }
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? RL_OK : RL_ERROR;
}

/* ---- fork and spawn ---- */

/* The daemon's end of the "ready" pipe between daemonize_begin and _ready:
 * children forked meanwhile must not keep it, nor the caller's terminal. */
static int pending_notify_fd = -1;

/* Points fds 0, 1 and 2 to /dev/null. Returns RL_OK or RL_ERROR. */
static int stdio_to_devnull(void)
{
    int rc = RL_OK;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        rc = RL_ERROR;
    if (fd > 2)
        close(fd);
    return rc;
}

pid_t rl_proc_fork(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    rl_signal_reset_child();
    if (pending_notify_fd >= 0) {
        close(pending_notify_fd);
        pending_notify_fd = -1;
        stdio_to_devnull();
    }
    return 0;
}

/* Makes <fd> the child's fd <target>; -1 leaves <target> alone. */
static int redirect(int fd, int target)
{
    if (fd < 0)
        return 0;
    if (fd == target)
        return fcntl(fd, F_SETFD, 0);   /* keep it across exec */
    return dup2(fd, target) < 0 ? -1 : 0;
}

/* Child side of rl_proc_spawn: reports errno through <report> on failure. */
static void __attribute__((noreturn))
spawn_child(char *const argv[], int in_fd, int out_fd, int err_fd, int report)
{
    if (redirect(in_fd, 0) == 0 && redirect(out_fd, 1) == 0 && redirect(err_fd, 2) == 0)
        execvp(argv[0], argv);
    int e = errno;
    ssize_t n = write(report, &e, sizeof(e));
    (void)n;
    _exit(127);
}

pid_t rl_proc_spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
    int p[2], child_errno;
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = rl_proc_fork();
    if (pid == 0)
        spawn_child(argv, in_fd, out_fd, err_fd, p[1]);
    close(p[1]);
    if (pid < 0)
        goto out_close_pipe;

    ssize_t n;
    do
        n = read(p[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(child_errno)) {   /* exec failed */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        errno = child_errno;
        pid = -1;
    }
out_close_pipe:
    child_errno = errno;
    close(p[0]);
    errno = child_errno;
    return pid;
}

/* ---- daemonizing ---- */

/* The original process: waits for the middle child, then for the daemon's
 * "ready" byte, and exits with the outcome. */
static void __attribute__((noreturn)) wait_for_daemon(pid_t middle, int fd)
{
    int status;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
        ;
    char c = 0;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    _exit(n == 1 && c == 'R' ? 0 : 1);
}

int rl_proc_daemonize_begin(int *notify_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return RL_ERROR;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        goto out_close_pipe;
    if (pid > 0) {
        close(p[1]);
        wait_for_daemon(pid, p[0]);
    }
    close(p[0]);
    /* the middle child: a new session, then fork again so the daemon is no
     * session leader and can never acquire a controlling terminal */
    if (setsid() < 0 || (pid = fork()) < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    *notify_fd = pending_notify_fd = p[1];
    return RL_OK;

out_close_pipe:
    close(p[0]);
    close(p[1]);
    return RL_ERROR;
}

int rl_proc_daemonize_ready(int notify_fd)
{
    int rc = stdio_to_devnull();
    if (notify_fd == pending_notify_fd)
        pending_notify_fd = -1;
    if (chdir("/") != 0)
        rc = RL_ERROR;
    int saved_errno = errno;
    ssize_t n;
    do
        n = write(notify_fd, "R", 1);
    while (n < 0 && errno == EINTR);
    close(notify_fd);
    errno = saved_errno;
    return n == 1 ? rc : RL_ERROR;
}

/* ---- pid files ---- */

/* Writes <line> to a new file "<path>.XXXXXX" whose name is left in <tmp>.
 * Returns RL_OK, or RL_ERROR with errno set and no file left behind. */
static int write_tmp(const char *path, const char *line, char *tmp, size_t tmplen)
{
    if (snprintf(tmp, tmplen, "%s.XXXXXX", path) >= (int)tmplen) {
        errno = ENAMETOOLONG;
        return RL_ERROR;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return RL_ERROR;
    size_t len = strlen(line);
    ssize_t n = -1;
    if (fchmod(fd, 0644) == 0 && (n = write(fd, line, len)) >= 0 && (size_t)n != len)
        errno = EIO;
    if (close(fd) != 0 || n != (ssize_t)len) {
        int saved_errno = errno;
        unlink(tmp);
        errno = saved_errno;
        return RL_ERROR;
    }
    return RL_OK;
}

int rl_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
    char tmp[PATH_MAX], line[32];
    int saved_errno;

    snprintf(line, sizeof(line), "%ld\n", (long)pid);
    if (write_tmp(path, line, tmp, sizeof(tmp)) != RL_OK)
        goto out_error;
    if (rename(tmp, path) != 0)
        goto out_unlink_tmp;
    return RL_OK;

out_unlink_tmp:
    saved_errno = errno;
    unlink(tmp);
    errno = saved_errno;
out_error:
    rl_errf(err, errlen, "could not create pid file %s: %s", path, strerror(errno));
    return RL_ERROR;
}

pid_t rl_pidfile_read(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';

    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno || end == buf || buf[0] < '0' || buf[0] > '9' || pid <= 0 || pid > INT_MAX)
        return -1;
    for (; *end; end++)
        if (*end != '\n' && *end != ' ' && *end != '\t' && *end != '\r')
            return -1;
    return (pid_t)pid;
}

bool rl_proc_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    return kill(pid, 0) == 0 || errno == EPERM;
}
