/* Signals into the loop through signalfd.
 *
 * signalfd rather than a self-pipe: no async-signal-safety to think about,
 * no handler that can interrupt the middle of a handler, and the signal
 * number comes with the read. The price is that the signals must stay
 * blocked, which children inherit: hence rl_signal_reset_child().
 *
 * Watchers are kept in a process-wide list because signal masks and
 * dispositions are process-wide. A generation counter lets the read handler
 * notice that a callback removed the watchers (unwatch, or reset in a child
 * forked from the callback) and stop touching them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "core/signal.h"

typedef struct watcher_s {
    struct watcher_s *next;
    rl_loop_t *loop;
    rl_io_t io;
    rl_event_t ev;
    sigset_t set;
    rl_signal_cb cb;
    void *data;
} watcher_t;

static watcher_t *watchers;
static unsigned generation;

static void read_signals(rl_event_t *ev)
{
    watcher_t *w = ev->data;
    unsigned gen = generation;
    struct signalfd_siginfo si[8];

    for (;;) {
        ssize_t n = read(w->io.fd, si, sizeof(si));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ev->ready = 0;
            return;
        }
        for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
            w->cb((int)si[i].ssi_signo, w->data);
            if (gen != generation)
                return;   /* <w> may be gone */
        }
    }
}

static int set_disposition(int signo, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL) == 0 ? RL_OK : RL_ERROR;
}

static int make_set(const int *signos, size_t n, sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < n; i++)
        if (sigaddset(set, signos[i]) != 0)
            return RL_ERROR;
    return RL_OK;
}

int rl_signal_watch(rl_loop_t *l, const int *signos, size_t n, rl_signal_cb cb, void *data)
{
    sigset_t set;
    int saved_errno;
    if (make_set(signos, n, &set) != RL_OK)
        return RL_ERROR;
    /* block first, then SIG_DFL: no window where a default action can run */
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return RL_ERROR;
    for (size_t i = 0; i < n; i++)
        set_disposition(signos[i], SIG_DFL);

    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return RL_ERROR;
    watcher_t *w = rl_xcalloc(1, sizeof(*w));
    w->loop = l;
    w->set = set;
    w->cb = cb;
    w->data = data;
    w->ev.data = w;
    w->ev.handler = read_signals;
    w->io.fd = fd;
    w->io.read = &w->ev;
    if (rl_loop_add_io(l, &w->io) != RL_OK)
        goto out_free_watcher;
    w->next = watchers;
    watchers = w;
    return RL_OK;

out_free_watcher:
    saved_errno = errno;
    close(fd);
    free(w);
    errno = saved_errno;
    return RL_ERROR;
}

void rl_signal_unwatch(rl_loop_t *l)
{
    watcher_t **pp = &watchers;
    while (*pp) {
        watcher_t *w = *pp;
        if (w->loop != l) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        rl_loop_del_io(l, &w->io);
        close(w->io.fd);
        sigprocmask(SIG_UNBLOCK, &w->set, NULL);
        free(w);
    }
    generation++;
}

static bool is_fault_signal(int signo)
{
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL
        || signo == SIGABRT || signo == SIGTRAP || signo == SIGSYS;
}

void rl_signal_reset_child(void)
{
    while (watchers) {
        watcher_t *w = watchers;
        watchers = w->next;
        /* no epoll_ctl: the epoll set is the parent's too */
        rl_loop_forget_io(w->loop, &w->io);
        close(w->io.fd);
        free(w);
    }
    generation++;

    for (int signo = 1; signo < NSIG; signo++)
        if (signo != SIGKILL && signo != SIGSTOP && !is_fault_signal(signo))
            set_disposition(signo, SIG_DFL);   /* EINVAL for the libc-reserved ones */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int rl_signal_ignore(int signo)
{
    return set_disposition(signo, SIG_IGN);
}

int rl_signal_ignore_pipe(void)
{
    return rl_signal_ignore(SIGPIPE);
}
