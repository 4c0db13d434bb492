/* Processes: privileges, resource limits, fork/spawn, daemonizing, pid files.
 *
 * Functions taking <err>/<errlen> write a one-line message without a
 * trailing newline there on failure (the caller adds "relaisd: " or
 * file:line); <err> may be NULL. */
#ifndef RL_PROC_H
#define RL_PROC_H

#include <sys/resource.h>
#include "core/rl.h"

/* Resolves a User value: a name, or "#<uid>" as Apache allows. Returns RL_OK,
 * or RL_ERROR with "bad user name <user>" in <err>. */
int rl_proc_resolve_user(const char *user, uid_t *uid, char *err, size_t errlen);

/* Resolves a Group value: a name or "#<gid>". Returns RL_OK, or RL_ERROR with
 * "bad group name <group>" in <err>. */
int rl_proc_resolve_group(const char *group, gid_t *gid, char *err, size_t errlen);

/* Becomes <user> and <group> for good, as Apache's workers do: initgroups
 * (setgroups to just <group> when a "#uid" has no passwd entry), setgid,
 * setuid, then checks that root cannot be regained. <group> NULL means the
 * user's primary group. A no-op returning RL_OK when not running as root
 * (Apache ignores User/Group then). Refuses to become uid 0. Returns RL_OK,
 * or RL_ERROR with a message; the process may then be half-changed and
 * should exit. */
int rl_proc_drop_privileges(const char *user, const char *group, char *err, size_t errlen);

/* Apache's "max" in RLimitCPU/MEM/NPROC: as <soft>, the hard limit; as
 * <hard>, keep the current hard limit. */
#define RL_RLIM_MAX ((rlim_t)RLIM_INFINITY - 1)

/* Sets <resource> (RLIMIT_*) to <soft>/<hard>, either of which may be
 * RL_RLIM_MAX. Raising the hard limit needs root. Returns RL_OK or RL_ERROR
 * with errno set. */
int rl_proc_set_rlimit(int resource, rlim_t soft, rlim_t hard);

/* Raises the soft RLIMIT_NOFILE to <want>, clamped to the hard limit; as
 * root the hard limit is raised first when it is lower (kernel permitting).
 * Never lowers it. Returns RL_OK (even when clamped: read getrlimit for the
 * result) or RL_ERROR with errno set. */
int rl_proc_raise_nofile(rlim_t want);

/* fork() that flushes stdio first and, in the child, calls
 * rl_signal_reset_child(). Between rl_proc_daemonize_begin() and _ready(),
 * the child also drops the notify fd and gets /dev/null as stdin, stdout
 * and stderr, as the daemon will at _ready(): so workers forked before
 * "ready" never hold the terminal or pipe of whoever ran "-k start" (a
 * script reading its output would wait for them). Returns what fork()
 * returns. */
pid_t rl_proc_fork(void);

/* Starts <argv>[0] (searched in PATH) with <argv>. In the child, <in_fd>,
 * <out_fd>, <err_fd> become fds 0, 1, 2 (-1: inherit as is); every other fd
 * the caller opened with O_CLOEXEC is closed by exec. Returns the child's pid,
 * or -1 with errno set, including when exec failed (the child is reaped). */
pid_t rl_proc_spawn(char *const argv[], int in_fd, int out_fd, int err_fd);

/* First half of "-k start": forks twice with setsid in between. The original
 * process does not return: it waits until the daemon calls
 * rl_proc_daemonize_ready() and exits 0, or exits 1 when the daemon exits
 * without being ready (it can print why on the still-attached stderr first).
 * In the daemon, returns RL_OK with <*notify_fd> to pass to _ready(); the
 * fd is O_CLOEXEC, and children forked with rl_proc_fork() before _ready()
 * close it (a plain fork() would keep it). Returns RL_ERROR with errno set
 * when the first fork or the pipe fails (nothing happened). */
int rl_proc_daemonize_begin(int *notify_fd);

/* Second half: points stdin, stdout and stderr to /dev/null, chdir("/"),
 * then tells the original process to exit 0, and closes <notify_fd>. Call it
 * once the listeners are open and the pid file is written. Returns RL_OK or
 * RL_ERROR with errno set (the original process is notified anyway). */
int rl_proc_daemonize_ready(int notify_fd);

/* Writes "<pid>\n" to <path> atomically (temporary file + rename), mode
 * 0644. Returns RL_OK, or RL_ERROR with "could not create pid file <path>:
 * <reason>" in <err>. */
int rl_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);

/* Reads a pid file. Returns the pid, or -1 when the file is missing,
 * unreadable, or holds anything else than a positive decimal number and
 * optional trailing whitespace. */
pid_t rl_pidfile_read(const char *path);

/* Whether process <pid> exists (zombies included; EPERM counts as alive).
 * False for pid <= 0. */
bool rl_proc_alive(pid_t pid);

#endif
