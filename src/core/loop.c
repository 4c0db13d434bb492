/* The event loop (see loop.h for the contract).
 *
 * Built like Redis' ae.c and nginx's event module: epoll edge-triggered with
 * the rl_io_t as epoll data, timers in a binary min-heap whose slot index is
 * kept in the event (so re-arming and deleting are O(log n) without search),
 * and a FIFO of posted events run after I/O and timers.
 *
 * Deleting an io while a batch is being dispatched clears its pending entries
 * in the batch (the epoll data pointer is set to NULL): the batch is at most
 * <max_events> long, so the scan is cheap, and it makes "a handler closes
 * another connection" safe without reference counts. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "core/loop.h"

#define DEFAULT_MAX_EVENTS 512

struct rl_loop_s {
    int epfd;
    bool stop;
    unsigned max_events;
    struct epoll_event *events;
    int batch_n;                 /* events of the batch being dispatched, else 0 */
    rl_event_t **heap;           /* min-heap on deadline */
    size_t heap_len, heap_cap;
    rl_event_t *posted_head;     /* queue for the next run of posted events */
    rl_event_t *posted_tail;
    rl_event_t *running;         /* rest of the queue being run now */
    uint64_t now;
    time_t wall;
    rl_loop_hook_cb before_sleep;
    void *before_sleep_data;
};

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rl_loop_update_time(rl_loop_t *l)
{
    l->now = monotonic_ms();
    l->wall = time(NULL);
}

rl_loop_t *rl_loop_create(unsigned max_events_per_wait)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return NULL;
    rl_loop_t *l = rl_xcalloc(1, sizeof(*l));
    l->epfd = epfd;
    l->max_events = max_events_per_wait ? max_events_per_wait : DEFAULT_MAX_EVENTS;
    if (l->max_events > INT_MAX / sizeof(struct epoll_event))
        l->max_events = DEFAULT_MAX_EVENTS;
    l->events = rl_xcalloc(l->max_events, sizeof(*l->events));
    rl_loop_update_time(l);
    return l;
}

void rl_loop_destroy(rl_loop_t *l)
{
    if (l == NULL)
        return;
    close(l->epfd);
    free(l->events);
    free(l->heap);
    free(l);
}

/* ---- I/O ---- */

static int io_ctl(rl_loop_t *l, int op, rl_io_t *io)
{
    struct epoll_event ee;
    memset(&ee, 0, sizeof(ee));
    ee.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    if (io->write)
        ee.events |= EPOLLOUT;
    ee.data.ptr = io;
    return epoll_ctl(l->epfd, op, io->fd, &ee) == 0 ? RL_OK : RL_ERROR;
}

int rl_loop_add_io(rl_loop_t *l, rl_io_t *io)
{
    return io_ctl(l, EPOLL_CTL_ADD, io);
}

int rl_loop_mod_io(rl_loop_t *l, rl_io_t *io)
{
    return io_ctl(l, EPOLL_CTL_MOD, io);
}

void rl_loop_forget_io(rl_loop_t *l, rl_io_t *io)
{
    for (int i = 0; i < l->batch_n; i++)
        if (l->events[i].data.ptr == io)
            l->events[i].data.ptr = NULL;
}

int rl_loop_del_io(rl_loop_t *l, rl_io_t *io)
{
    rl_loop_forget_io(l, io);
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL) == 0 ? RL_OK : RL_ERROR;
}

/* Calls the handlers of one epoll entry. The read handler may delete the io
 * (closing the connection): the entry's data is NULL then, and the write
 * handler is skipped. */
static void dispatch_one(struct epoll_event *e)
{
    rl_io_t *io = e->data.ptr;
    uint32_t r = e->events;
    rl_event_t *ev = io->read;

    if (ev && (r & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        ev->ready = 1;
        if (r & (EPOLLRDHUP | EPOLLHUP))
            ev->eof = 1;
        if (r & EPOLLERR)
            ev->error = 1;
        ev->handler(ev);
        if (e->data.ptr != io)
            return;
    }
    ev = io->write;
    if (ev && (r & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        ev->ready = 1;
        if (r & EPOLLERR)
            ev->error = 1;
        ev->handler(ev);
    }
}

static void dispatch_io(rl_loop_t *l, int n)
{
    l->batch_n = n;
    for (int i = 0; i < n; i++)
        if (l->events[i].data.ptr)
            dispatch_one(&l->events[i]);
    l->batch_n = 0;
}

/* ---- timers: a binary min-heap on deadline ---- */

static void heap_set(rl_loop_t *l, size_t i, rl_event_t *ev)
{
    l->heap[i] = ev;
    ev->heap_idx = i;
}

static void sift_up(rl_loop_t *l, size_t i)
{
    rl_event_t *ev = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->deadline <= ev->deadline)
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, ev);
}

static void sift_down(rl_loop_t *l, size_t i)
{
    rl_event_t *ev = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && l->heap[c + 1]->deadline < l->heap[c]->deadline)
            c++;
        if (l->heap[c]->deadline >= ev->deadline)
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, ev);
}

/* Puts the event at slot <i> where it belongs after its deadline changed. */
static void heap_fix(rl_loop_t *l, size_t i)
{
    if (i > 0 && l->heap[(i - 1) / 2]->deadline > l->heap[i]->deadline)
        sift_up(l, i);
    else
        sift_down(l, i);
}

static void heap_remove(rl_loop_t *l, size_t i)
{
    rl_event_t *last = l->heap[--l->heap_len];
    if (i < l->heap_len) {
        heap_set(l, i, last);
        heap_fix(l, i);
    }
}

void rl_timer_add(rl_loop_t *l, rl_event_t *ev, uint64_t msec)
{
    ev->deadline = msec > UINT64_MAX - l->now ? UINT64_MAX : l->now + msec;
    if (ev->timer_set) {
        heap_fix(l, ev->heap_idx);
        return;
    }
    if (l->heap_len == l->heap_cap) {
        l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 64;
        l->heap = rl_xrealloc(l->heap, l->heap_cap * sizeof(*l->heap));
    }
    ev->timer_set = 1;
    heap_set(l, l->heap_len++, ev);
    sift_up(l, ev->heap_idx);
}

void rl_timer_del(rl_loop_t *l, rl_event_t *ev)
{
    if (!ev->timer_set)
        return;
    heap_remove(l, ev->heap_idx);
    ev->timer_set = 0;
}

size_t rl_loop_timer_count(rl_loop_t *l)
{
    return l->heap_len;
}

/* Fires the timers due at the cached time. At most as many as were armed
 * when it started: a handler re-arming for 0 ms cannot spin here forever. */
static void expire_timers(rl_loop_t *l)
{
    size_t budget = l->heap_len;
    while (budget-- > 0 && l->heap_len > 0) {
        rl_event_t *ev = l->heap[0];
        if (ev->deadline > l->now)
            break;
        heap_remove(l, 0);
        ev->timer_set = 0;
        ev->timedout = 1;
        ev->handler(ev);
    }
}

bool rl__loop_heap_check(const rl_loop_t *l)
{
    for (size_t i = 0; i < l->heap_len; i++) {
        const rl_event_t *ev = l->heap[i];
        if (ev->heap_idx != i || !ev->timer_set)
            return false;
        if (i > 0 && l->heap[(i - 1) / 2]->deadline > ev->deadline)
            return false;
    }
    return true;
}

/* ---- posted events ---- */

void rl_loop_post(rl_loop_t *l, rl_event_t *ev)
{
    if (ev->posted)
        return;
    ev->posted = 1;
    ev->post_next = NULL;
    if (l->posted_tail)
        l->posted_tail->post_next = ev;
    else
        l->posted_head = ev;
    l->posted_tail = ev;
}

/* Unlinks <ev> from the list at <head>. Returns false when it is not there;
 * else <prev_out> is the element before it (NULL when it was first). */
static bool list_unlink(rl_event_t **head, rl_event_t *ev, rl_event_t **prev_out)
{
    rl_event_t *prev = NULL;
    for (rl_event_t **pp = head; *pp; prev = *pp, pp = &(*pp)->post_next) {
        if (*pp == ev) {
            *pp = ev->post_next;
            *prev_out = prev;
            return true;
        }
    }
    return false;
}

void rl_loop_unpost(rl_loop_t *l, rl_event_t *ev)
{
    rl_event_t *prev;
    if (!ev->posted)
        return;
    ev->posted = 0;
    if (list_unlink(&l->posted_head, ev, &prev)) {
        if (l->posted_tail == ev)
            l->posted_tail = prev;
    } else {
        list_unlink(&l->running, ev, &prev);
    }
    ev->post_next = NULL;
}

/* Runs what was posted before this call; what handlers post now waits for
 * the next iteration. */
static void run_posted(rl_loop_t *l)
{
    l->running = l->posted_head;
    l->posted_head = l->posted_tail = NULL;
    while (l->running) {
        rl_event_t *ev = l->running;
        l->running = ev->post_next;
        ev->post_next = NULL;
        ev->posted = 0;
        ev->handler(ev);
    }
}

/* ---- the loop ---- */

uint64_t rl_loop_now(rl_loop_t *l)
{
    return l->now;
}

time_t rl_loop_time(rl_loop_t *l)
{
    return l->wall;
}

void rl_loop_set_before_sleep(rl_loop_t *l, rl_loop_hook_cb cb, void *data)
{
    l->before_sleep = cb;
    l->before_sleep_data = data;
}

/* The epoll_wait timeout: 0 with posted events, else up to the earliest
 * deadline (read from the clock, not the cache, so that time spent in
 * handlers is not waited again), capped by <max_wait> when >= 0. */
static int wait_timeout(rl_loop_t *l, int max_wait)
{
    if (l->posted_head)
        return 0;
    int t = -1;
    if (l->heap_len > 0) {
        uint64_t deadline = l->heap[0]->deadline, now = monotonic_ms();
        if (deadline <= now)
            t = 0;
        else
            t = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
    }
    if (max_wait >= 0 && (t < 0 || t > max_wait))
        t = max_wait;
    return t;
}

int rl_loop_run_once(rl_loop_t *l, int max_wait_ms)
{
    if (l->before_sleep)
        l->before_sleep(l, l->before_sleep_data);
    int timeout = wait_timeout(l, max_wait_ms);
    int n = epoll_wait(l->epfd, l->events, (int)l->max_events, timeout);
    if (n < 0) {
        if (errno != EINTR)
            return RL_ERROR;
        n = 0;
    }
    rl_loop_update_time(l);
    dispatch_io(l, n);
    expire_timers(l);
    run_posted(l);
    return RL_OK;
}

int rl_loop_run(rl_loop_t *l)
{
    l->stop = false;
    while (!l->stop)
        if (rl_loop_run_once(l, -1) != RL_OK)
            return RL_ERROR;
    return RL_OK;
}

void rl_loop_stop(rl_loop_t *l)
{
    l->stop = true;
}
