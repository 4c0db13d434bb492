/* Signals into the loop: delivery, coalesced arrivals, ignored dispositions,
 * children after rl_signal_reset_child(), forking from a callback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/proc.h"
#include "core/signal.h"

typedef struct {
    rl_loop_t *loop;
    int count;
    int last;
    int seen[65];
} sigprobe_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_signal(int signo, void *data)
{
    sigprobe_t *p = data;
    p->count++;
    p->last = signo;
    if (signo > 0 && signo < 65)
        p->seen[signo]++;
}

static void run_until(rl_loop_t *l, const int *count, int target, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    while (*count < target && now_ms() < end)
        assert_int_equal(rl_loop_run_once(l, 20), RL_OK);
}

static void test_delivered_into_loop(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    sigprobe_t p = { .loop = l };
    int sigs[] = { SIGUSR1, SIGUSR2 };
    assert_int_equal(rl_signal_watch(l, sigs, 2, on_signal, &p), RL_OK);

    kill(getpid(), SIGUSR1);
    assert_int_equal(p.count, 0);   /* not from a handler: from the loop */
    run_until(l, &p.count, 1, 2000);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.last, SIGUSR1);

    raise(SIGUSR2);
    run_until(l, &p.count, 2, 2000);
    assert_int_equal(p.last, SIGUSR2);

    /* two different signals before the loop runs: both arrive */
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    run_until(l, &p.count, 4, 2000);
    assert_int_equal(p.seen[SIGUSR1], 2);
    assert_int_equal(p.seen[SIGUSR2], 2);

    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

static void test_bad_signal(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    int sigs[] = { 0 };
    int bad[] = { 1000 };
    assert_int_equal(rl_signal_watch(l, bad, 1, on_signal, NULL), RL_ERROR);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(rl_signal_watch(l, sigs, 1, on_signal, NULL), RL_ERROR);
    rl_loop_destroy(l);
}

/* "nohup relaisd": SIGHUP ignored on entry must still reach the loop. */
static void test_ignored_on_entry(void **state)
{
    (void)state;
    assert_int_equal(rl_signal_ignore(SIGHUP), RL_OK);
    rl_loop_t *l = rl_loop_create(0);
    sigprobe_t p = { .loop = l };
    int sigs[] = { SIGHUP };
    assert_int_equal(rl_signal_watch(l, sigs, 1, on_signal, &p), RL_OK);
    kill(getpid(), SIGHUP);
    run_until(l, &p.count, 1, 2000);
    assert_int_equal(p.last, SIGHUP);
    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

/* The master's full set, SIGCHLD included: a child's exit is seen, and it
 * can be reaped even when SIGCHLD was SIG_IGN on entry (auto-reaping). */
static void test_master_set_sigchld(void **state)
{
    (void)state;
    assert_int_equal(rl_signal_ignore(SIGCHLD), RL_OK);
    rl_loop_t *l = rl_loop_create(0);
    sigprobe_t p = { .loop = l };
    int sigs[] = { SIGCHLD, SIGTERM, SIGHUP, SIGUSR1, SIGWINCH, SIGINT, SIGQUIT, SIGUSR2 };
    assert_int_equal(rl_signal_watch(l, sigs, RL_NELEMS(sigs), on_signal, &p), RL_OK);
    pid_t pid = rl_proc_fork();
    if (pid == 0)
        _exit(0);
    run_until(l, &p.count, 1, 2000);
    assert_int_equal(p.last, SIGCHLD);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

/* A forked child after rl_signal_reset_child(): default actions again. */
static void test_child_default_action(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    int sigs[] = { SIGTERM };
    assert_int_equal(rl_signal_watch(l, sigs, 1, on_signal, NULL), RL_OK);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rl_signal_reset_child();
        sigset_t mask;
        sigprocmask(SIG_SETMASK, NULL, &mask);
        if (sigismember(&mask, SIGTERM))
            _exit(2);
        raise(SIGTERM);
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

static void stop_on_signal(int signo, void *data)
{
    sigprobe_t *p = data;
    p->last = signo;
    rl_loop_stop(p->loop);
}

/* The child sets up its own loop and watchers and gets its signals there. */
static void test_child_own_watchers(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    int sigs[] = { SIGUSR1, SIGTERM };
    assert_int_equal(rl_signal_watch(l, sigs, 2, on_signal, NULL), RL_OK);
    int ready[2];
    assert_int_equal(pipe(ready), 0);

    pid_t pid = rl_proc_fork();   /* resets in the child */
    assert_true(pid >= 0);
    if (pid == 0) {
        rl_loop_destroy(l);
        rl_loop_t *cl = rl_loop_create(0);
        sigprobe_t cp = { .loop = cl };
        int csigs[] = { SIGUSR1 };
        if (rl_signal_watch(cl, csigs, 1, stop_on_signal, &cp) != RL_OK)
            _exit(2);
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        rl_loop_run(cl);
        _exit(cp.last == SIGUSR1 ? 0 : 4);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    kill(pid, SIGUSR1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(ready[1]);
    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

/* A callback that forks (the master re-spawning a worker on SIGCHLD): the
 * child returns through the signal reader after its watchers were freed. */
static pid_t forked_child = -1;

static void fork_on_signal(int signo, void *data)
{
    sigprobe_t *p = data;
    p->count++;
    p->last = signo;
    if (signo == SIGUSR1)
        forked_child = rl_proc_fork();
}

static void test_fork_from_callback(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    sigprobe_t p = { .loop = l };
    int sigs[] = { SIGUSR1, SIGUSR2 };
    assert_int_equal(rl_signal_watch(l, sigs, 2, fork_on_signal, &p), RL_OK);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    run_until(l, &p.count, 1, 2000);
    if (forked_child == 0) {
        /* in the child: back from the loop without touching freed watchers */
        _exit(p.last == SIGUSR1 ? 0 : 5);
    }
    assert_true(forked_child > 0);
    int status;
    assert_int_equal(waitpid(forked_child, &status, 0), forked_child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* the parent still gets the rest */
    run_until(l, &p.count, 2, 2000);
    assert_int_equal(p.count, 2);
    rl_signal_unwatch(l);
    rl_loop_destroy(l);
}

static void test_ignore_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(rl_signal_ignore_pipe(), RL_OK);
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    assert_int_equal(write(p[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_into_loop),
        cmocka_unit_test(test_bad_signal),
        cmocka_unit_test(test_ignored_on_entry),
        cmocka_unit_test(test_master_set_sigchld),
        cmocka_unit_test(test_child_default_action),
        cmocka_unit_test(test_child_own_watchers),
        cmocka_unit_test(test_fork_from_callback),
        cmocka_unit_test(test_ignore_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
