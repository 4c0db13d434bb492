/* Event loop: readiness on real fds, edge triggering, timers, posting,
 * deletion during a batch, and the heap invariants under churn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "core/loop.h"

typedef struct {
    rl_loop_t *loop;
    int calls;
    int order[16];
    uint64_t at[16];
    rl_io_t *victim;        /* io to delete from the handler */
    int victim_fd;
} probe_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void make_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* Runs iterations until <*done> or <ms> elapsed. */
static void run_until(rl_loop_t *l, const int *done, int target, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    while (*done < target && now_ms() < end)
        assert_int_equal(rl_loop_run_once(l, 20), RL_OK);
}

static void count_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
}

static void drain_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    rl_io_t *io = p->victim;   /* the io itself, for its fd */
    char buf[64];
    p->calls++;
    while (read(io->fd, buf, sizeof(buf)) > 0)
        ;
    if (errno == EAGAIN)
        ev->ready = 0;
}

static void test_create_destroy(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    assert_non_null(l);
    assert_int_equal(rl_loop_timer_count(l), 0);
    assert_true(rl_loop_time(l) > 0);
    rl_loop_destroy(l);
    rl_loop_destroy(NULL);
}

static void test_read_ready_and_drain(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    rl_loop_t *l = rl_loop_create(8);
    probe_t p = { .loop = l };
    rl_event_t rev = { .data = &p, .handler = drain_handler };
    rl_io_t io = { sv[0], &rev, NULL };
    p.victim = &io;
    assert_int_equal(rl_loop_add_io(l, &io), RL_OK);

    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 0);
    assert_int_equal(write(sv[1], "abc", 3), 3);
    run_until(l, &p.calls, 1, 1000);
    assert_int_equal(p.calls, 1);
    assert_false(rev.ready);
    assert_false(rev.eof);

    assert_int_equal(write(sv[1], "d", 1), 1);
    run_until(l, &p.calls, 2, 1000);
    assert_int_equal(p.calls, 2);

    close(sv[1]);
    run_until(l, &p.calls, 3, 1000);
    assert_int_equal(p.calls, 3);
    assert_true(rev.eof);

    assert_int_equal(rl_loop_del_io(l, &io), RL_OK);
    close(sv[0]);
    rl_loop_destroy(l);
}

/* Edge-triggered: data left unread is not reported again. */
static void test_edge_triggered(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    rl_event_t rev = { .data = &p, .handler = count_handler };
    rl_io_t io = { sv[0], &rev, NULL };
    assert_int_equal(rl_loop_add_io(l, &io), RL_OK);

    assert_int_equal(write(sv[1], "x", 1), 1);
    run_until(l, &p.calls, 1, 1000);
    assert_int_equal(p.calls, 1);
    assert_true(rev.ready);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rl_loop_run_once(l, 10), RL_OK);
    assert_int_equal(p.calls, 1);   /* no new edge */

    rl_loop_del_io(l, &io);
    close(sv[0]);
    close(sv[1]);
    rl_loop_destroy(l);
}

static void test_write_ready(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    rl_loop_t *l = rl_loop_create(0);
    probe_t pr = { .loop = l }, pw = { .loop = l };
    rl_event_t rev = { .data = &pr, .handler = count_handler };
    rl_event_t wev = { .data = &pw, .handler = count_handler };
    rl_io_t io = { sv[0], &rev, NULL };
    assert_int_equal(rl_loop_add_io(l, &io), RL_OK);
    assert_int_equal(rl_loop_add_io(l, &io), RL_ERROR);
    assert_int_equal(errno, EEXIST);

    io.write = &wev;   /* attach the write side later */
    assert_int_equal(rl_loop_mod_io(l, &io), RL_OK);
    run_until(l, &pw.calls, 1, 1000);
    assert_int_equal(pw.calls, 1);
    assert_true(wev.ready);
    assert_int_equal(pr.calls, 0);

    rl_loop_del_io(l, &io);
    close(sv[0]);
    close(sv[1]);
    rl_loop_destroy(l);
}

/* A timer event with a tag telling which one fired. */
typedef struct {
    rl_event_t ev;
    int tag;
} tagged_t;

static void order_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    assert_true(ev->timedout);
    assert_false(ev->timer_set);
    ev->timedout = 0;
    p->at[p->calls] = now_ms();
    p->order[p->calls++] = RL_CONTAINER_OF(ev, tagged_t, ev)->tag;
}

#define TAGGED(p, t) { { .data = (p), .handler = order_handler }, (t) }

static void test_timers_fire_in_order(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    tagged_t t30 = TAGGED(&p, 30), t10 = TAGGED(&p, 10), t20 = TAGGED(&p, 20);
    rl_loop_update_time(l);
    uint64_t start = rl_loop_now(l);
    rl_timer_add(l, &t30.ev, 60);
    rl_timer_add(l, &t10.ev, 20);
    rl_timer_add(l, &t20.ev, 40);
    assert_int_equal(rl_loop_timer_count(l), 3);

    run_until(l, &p.calls, 3, 2000);
    assert_int_equal(p.calls, 3);
    assert_int_equal(p.order[0], 10);
    assert_int_equal(p.order[1], 20);
    assert_int_equal(p.order[2], 30);
    uint64_t want[3] = { 20, 40, 60 };
    for (int i = 0; i < 3; i++) {
        assert_true(p.at[i] >= start + want[i]);        /* never early */
        assert_true(p.at[i] <= start + want[i] + 150);  /* loose: shared CI machines */
    }
    assert_int_equal(rl_loop_timer_count(l), 0);
    rl_loop_destroy(l);
}

static void test_timer_rearm_and_del(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    tagged_t ta = TAGGED(&p, 1), tb = TAGGED(&p, 2);
    rl_event_t *a = &ta.ev, *b = &tb.ev;
    rl_loop_update_time(l);
    uint64_t start = rl_loop_now(l);

    rl_timer_add(l, a, 10);
    rl_timer_add(l, b, 30);
    rl_timer_add(l, a, 60);       /* re-arm moves it after b */
    assert_int_equal(rl_loop_timer_count(l), 2);
    assert_true(rl__loop_heap_check(l));
    run_until(l, &p.calls, 2, 2000);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.order[0], 2);
    assert_int_equal(p.order[1], 1);
    assert_true(p.at[1] >= start + 60);

    p.calls = 0;
    rl_timer_add(l, a, 10);
    rl_timer_del(l, a);
    rl_timer_del(l, a);           /* no-op */
    assert_false(a->timer_set);
    assert_int_equal(rl_loop_timer_count(l), 0);
    for (int i = 0; i < 3; i++)
        rl_loop_run_once(l, 15);
    assert_int_equal(p.calls, 0);

    rl_timer_add(l, a, UINT64_MAX);   /* "never": no overflow into the past */
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 0);
    rl_timer_del(l, a);
    rl_loop_destroy(l);
}

static void rearm_zero_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
    ev->timedout = 0;
    rl_timer_add(p->loop, ev, 0);
}

/* A timer re-armed for 0 ms from its handler fires once per iteration. */
static void test_timer_rearm_zero_no_spin(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    rl_event_t t = { .data = &p, .handler = rearm_zero_handler };
    rl_timer_add(l, &t, 0);
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(rl_loop_run_once(l, 100), RL_OK);
        assert_int_equal(p.calls, i);
    }
    rl_timer_del(l, &t);
    rl_loop_destroy(l);
}

static void post_again_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    if (p->calls++ == 0)
        rl_loop_post(p->loop, ev);   /* runs in the next iteration */
}

static void test_post(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l }, q = { .loop = l };
    rl_event_t a = { .data = &p, .handler = count_handler };
    rl_event_t b = { .data = &q, .handler = count_handler };

    rl_loop_post(l, &a);
    rl_loop_post(l, &a);
    rl_loop_post(l, &b);
    rl_loop_unpost(l, &b);
    rl_loop_unpost(l, &b);
    assert_true(a.posted);
    assert_false(b.posted);
    uint64_t t0 = now_ms();
    assert_int_equal(rl_loop_run_once(l, 1000), RL_OK);   /* posted: no wait */
    assert_true(now_ms() - t0 < 500);
    assert_int_equal(p.calls, 1);
    assert_int_equal(q.calls, 0);
    assert_false(a.posted);

    /* posted twice in a row: still once */
    p.calls = 0;
    rl_loop_post(l, &a);
    rl_loop_post(l, &a);
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 1);

    p.calls = 0;
    a.handler = post_again_handler;
    rl_loop_post(l, &a);
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 1);
    assert_true(a.posted);
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 2);
    assert_false(a.posted);

    /* unpost the tail, then post again: the queue stays consistent */
    rl_loop_post(l, &a);
    rl_loop_post(l, &b);
    rl_loop_unpost(l, &b);
    rl_loop_post(l, &b);
    q.calls = 0;
    a.handler = count_handler;
    p.calls = 0;
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 1);
    assert_int_equal(q.calls, 1);
    rl_loop_destroy(l);
}

static rl_event_t *unpost_victim;

static void unpost_other_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
    rl_loop_unpost(p->loop, unpost_victim);
}

/* A posted handler cancels another event posted in the same run. */
static void test_unpost_from_posted(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l }, q = { .loop = l };
    rl_event_t a = { .data = &p, .handler = unpost_other_handler };
    rl_event_t b = { .data = &q, .handler = count_handler };
    unpost_victim = &b;
    rl_loop_post(l, &a);
    rl_loop_post(l, &b);
    assert_int_equal(rl_loop_run_once(l, 0), RL_OK);
    assert_int_equal(p.calls, 1);
    assert_int_equal(q.calls, 0);
    assert_false(b.posted);
    rl_loop_destroy(l);
}

/* Two connections readable in the same batch: whichever handler runs first
 * closes the other, whose pending event must not be delivered. */
static void closer_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
    if (p->victim) {
        rl_loop_del_io(p->loop, p->victim);
        close(p->victim_fd);
        p->victim->fd = -1;
    }
}

static void test_del_other_io_in_batch(void **state)
{
    (void)state;
    int a[2], b[2];
    make_pair(a);
    make_pair(b);
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    rl_event_t ra = { .data = &p, .handler = closer_handler };
    rl_event_t rb = { .data = &p, .handler = closer_handler };
    rl_io_t *ioa = malloc(sizeof(*ioa)), *iob = malloc(sizeof(*iob));
    *ioa = (rl_io_t){ a[0], &ra, NULL };
    *iob = (rl_io_t){ b[0], &rb, NULL };
    assert_int_equal(rl_loop_add_io(l, ioa), RL_OK);
    assert_int_equal(rl_loop_add_io(l, iob), RL_OK);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    usleep(10 * 1000);

    /* the handler deletes "the other one": we do not know which runs first,
     * so each probe deletes the io that is not its own */
    static probe_t pa, pb;
    pa = (probe_t){ .loop = l, .victim = iob, .victim_fd = b[0] };
    pb = (probe_t){ .loop = l, .victim = ioa, .victim_fd = a[0] };
    ra.data = &pa;
    rb.data = &pb;
    assert_int_equal(rl_loop_run_once(l, 100), RL_OK);
    assert_int_equal(pa.calls + pb.calls, 1);

    rl_io_t *alive = pa.calls ? ioa : iob;
    rl_loop_del_io(l, alive);
    close(alive->fd);
    free(ioa);
    free(iob);
    close(a[1]);
    close(b[1]);
    rl_loop_destroy(l);
}

static void self_delete_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
    rl_loop_del_io(p->loop, p->victim);
}

/* A read handler that deletes its own io: the write handler is skipped. */
static void test_del_self_skips_write(void **state)
{
    (void)state;
    int sv[2];
    make_pair(sv);
    rl_loop_t *l = rl_loop_create(0);
    probe_t pr = { .loop = l }, pw = { .loop = l };
    rl_event_t rev = { .data = &pr, .handler = self_delete_handler };
    rl_event_t wev = { .data = &pw, .handler = count_handler };
    rl_io_t io = { sv[0], &rev, &wev };
    pr.victim = &io;
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(rl_loop_add_io(l, &io), RL_OK);   /* readable and writable */
    assert_int_equal(rl_loop_run_once(l, 100), RL_OK);
    assert_int_equal(pr.calls, 1);
    assert_int_equal(pw.calls, 0);
    close(sv[0]);
    close(sv[1]);
    rl_loop_destroy(l);
}

static void stop_handler(rl_event_t *ev)
{
    probe_t *p = ev->data;
    p->calls++;
    rl_loop_stop(p->loop);
}

static void hook(rl_loop_t *l, void *data)
{
    (void)l;
    (*(int *)data)++;
}

static void test_run_stop_and_hook(void **state)
{
    (void)state;
    rl_loop_t *l = rl_loop_create(0);
    probe_t p = { .loop = l };
    int hooks = 0;
    rl_event_t t = { .data = &p, .handler = stop_handler };
    rl_loop_set_before_sleep(l, hook, &hooks);
    rl_timer_add(l, &t, 20);
    assert_int_equal(rl_loop_run(l), RL_OK);
    assert_int_equal(p.calls, 1);
    assert_true(hooks >= 1);
    rl_loop_set_before_sleep(l, NULL, NULL);
    rl_loop_destroy(l);
}

static void on_alarm(int signo)
{
    (void)signo;
}

/* A signal interrupting epoll_wait is not an error. */
static void test_eintr(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;   /* no SA_RESTART */
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = { { 0, 0 }, { 0, 20 * 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);

    rl_loop_t *l = rl_loop_create(0);
    uint64_t t0 = now_ms();
    assert_int_equal(rl_loop_run_once(l, 2000), RL_OK);
    assert_true(now_ms() - t0 < 1500);
    rl_loop_destroy(l);
    sigaction(SIGALRM, &old, NULL);
}

/* ---- heap churn ---- */

typedef struct {
    rl_loop_t *loop;
    uint64_t last;
    int fired;
    bool ordered;
} churn_t;

static void churn_handler(rl_event_t *ev)
{
    churn_t *c = ev->data;
    if (ev->deadline < c->last)
        c->ordered = false;
    c->last = ev->deadline;
    c->fired++;
}

static void test_heap_churn(void **state)
{
    (void)state;
    enum { N = 10000 };
    rl_loop_t *l = rl_loop_create(0);
    rl_event_t *evs = calloc(N, sizeof(*evs));
    churn_t c = { .loop = l, .ordered = true };
    srand(12345);
    for (int i = 0; i < N; i++) {
        evs[i].data = &c;
        evs[i].handler = churn_handler;
        rl_timer_add(l, &evs[i], (uint64_t)(rand() % 100000));
    }
    assert_true(rl__loop_heap_check(l));
    assert_int_equal(rl_loop_timer_count(l), N);

    /* random deletes, re-arms and re-adds */
    size_t armed = N;
    for (int op = 0; op < 3 * N; op++) {
        rl_event_t *ev = &evs[rand() % N];
        if (rand() % 3 == 0) {
            armed -= ev->timer_set;
            rl_timer_del(l, ev);
        } else {
            armed += !ev->timer_set;
            rl_timer_add(l, ev, (uint64_t)(rand() % 100000));
        }
        if (op % 97 == 0)
            assert_true(rl__loop_heap_check(l));
    }
    assert_true(rl__loop_heap_check(l));
    assert_int_equal(rl_loop_timer_count(l), armed);

    /* delete all but ~200 in random order, then let the rest expire soon */
    for (int i = 0; i < N; i++) {
        int j = rand() % N;
        if (rl_loop_timer_count(l) > 200)
            rl_timer_del(l, &evs[j]);
    }
    assert_true(rl__loop_heap_check(l));
    armed = rl_loop_timer_count(l);
    for (int i = 0; i < N; i++)
        if (evs[i].timer_set)
            rl_timer_add(l, &evs[i], (uint64_t)(rand() % 30));
    assert_true(rl__loop_heap_check(l));
    run_until(l, &c.fired, (int)armed, 3000);
    assert_int_equal(c.fired, (int)armed);
    assert_true(c.ordered);
    assert_int_equal(rl_loop_timer_count(l), 0);
    free(evs);
    rl_loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_read_ready_and_drain),
        cmocka_unit_test(test_edge_triggered),
        cmocka_unit_test(test_write_ready),
        cmocka_unit_test(test_timers_fire_in_order),
        cmocka_unit_test(test_timer_rearm_and_del),
        cmocka_unit_test(test_timer_rearm_zero_no_spin),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_unpost_from_posted),
        cmocka_unit_test(test_del_other_io_in_batch),
        cmocka_unit_test(test_del_self_skips_write),
        cmocka_unit_test(test_run_stop_and_hook),
        cmocka_unit_test(test_eintr),
        cmocka_unit_test(test_heap_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
