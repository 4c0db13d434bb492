/* Signals delivered into the event loop.
 *
 * The watched signals are blocked and read from a signalfd registered in the
 * loop, so callbacks run as ordinary loop handlers: they may allocate, log,
 * fork, stop the loop. Like any signal, several arrivals of the same signal
 * before the loop reads them are seen once (a SIGCHLD handler must reap with
 * waitpid(-1, ..., WNOHANG) until nothing is left).
 *
 * Blocked masks are inherited by fork and exec: a freshly forked child must
 * call rl_signal_reset_child() (rl_proc_fork() does) before it relies on
 * signals. */
#ifndef RL_SIGNAL_H
#define RL_SIGNAL_H

#include <signal.h>
#include "core/rl.h"
#include "core/loop.h"

typedef void (*rl_signal_cb)(int signo, void *data);

/* Blocks the <n> signals of <signos>, resets their dispositions to SIG_DFL
 * (so a SIGHUP ignored by nohup or a SIGCHLD set to SIG_IGN by the parent
 * still arrive), and makes loop <l> call <cb>(signo, <data>) for each
 * arriving one. A signal should be watched by one watcher only. Returns
 * RL_OK, or RL_ERROR with errno set (EINVAL for a bad signal number). */
int rl_signal_watch(rl_loop_t *l, const int *signos, size_t n, rl_signal_cb cb, void *data);

/* Removes every watcher of loop <l> (call it before rl_loop_destroy()) and
 * unblocks their signals, which take their default action again. Not to be
 * called from a signal callback of <l>. */
void rl_signal_unwatch(rl_loop_t *l);

/* For a freshly forked child: forgets the parent's watchers (closing their
 * fds without touching the parent's epoll set; call it before destroying
 * the inherited loop), unblocks every signal and puts
 * every catchable signal back to SIG_DFL (SIGPIPE included: ignore it again
 * with rl_signal_ignore() if wanted). Synchronous fault signals (SEGV, BUS,
 * FPE, ILL, ABRT, TRAP, SYS) are left as they are. Safe to call from a
 * signal callback in the child. */
void rl_signal_reset_child(void);

/* Sets <signo> to SIG_IGN. Returns RL_OK or RL_ERROR with errno set. */
int rl_signal_ignore(int signo);

/* rl_signal_ignore(SIGPIPE): writes to a closed socket return EPIPE instead
 * of killing the process. Every daemon calls it at start. */
int rl_signal_ignore_pipe(void);

#endif
