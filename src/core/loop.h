/* The event loop: one per worker process, epoll in edge-triggered mode, a
 * binary min-heap of timers and a queue of posted events.
 *
 * An event (rl_event_t) is one direction of one thing: the read side of a
 * connection, its write side, a timer. Its <handler> is called when the
 * thing is ready, when its timer expires (timedout = 1) or when it was posted;
 * changing <handler> is how a connection moves from one state to the next.
 *
 * Edge-triggered means: epoll reports a file descriptor once when it becomes
 * readable/writable. The loop sets <ready>; a handler reads or writes until
 * the call returns EAGAIN and only then clears <ready>. A handler that stops
 * early (e.g. it has enough of the request) keeps <ready> set and must come
 * back by itself (rl_loop_post) since epoll will not report the fd again.
 *
 * Each iteration: wait (the timeout is the earliest timer, 0 when events are
 * posted), update the cached time, dispatch the I/O events, expire the timers,
 * run the posted events. The loop is not thread-safe and is not meant to be
 * shared by a parent and a forked child (see rl_loop_destroy). */
#ifndef RL_LOOP_H
#define RL_LOOP_H

#include <time.h>
#include "core/rl.h"

typedef struct rl_loop_s rl_loop_t;
typedef struct rl_event_s rl_event_t;
typedef void (*rl_event_cb)(rl_event_t *ev);
typedef void (*rl_loop_hook_cb)(rl_loop_t *l, void *data);

struct rl_event_s {
    void *data;             /* owner, e.g. the connection */
    rl_event_cb handler;    /* called when ready, timed out, or posted: the handler IS the state */
    unsigned ready:1;       /* epoll said readable/writable; the handler clears it when it sees EAGAIN */
    unsigned eof:1;         /* EPOLLRDHUP/EPOLLHUP seen (read side) */
    unsigned error:1;       /* EPOLLERR seen */
    unsigned timedout:1;    /* set before the handler is called by a timer expiry; the handler clears it */
    unsigned timer_set:1;
    unsigned posted:1;
    uint64_t deadline;      /* ms, valid when timer_set */
    size_t heap_idx;        /* position in the timer heap */
    rl_event_t *post_next;
};

/* A registered file descriptor: <read> and/or <write> may be NULL. The struct
 * must stay at the same address while registered (epoll keeps a pointer). */
typedef struct {
    int fd;
    rl_event_t *read;
    rl_event_t *write;
} rl_io_t;

/* Creates a loop that takes at most <max_events_per_wait> events from one
 * epoll_wait (0: 512). Returns NULL with errno set when epoll_create1 fails;
 * aborts on OOM. */
rl_loop_t *rl_loop_create(unsigned max_events_per_wait);

/* Closes the epoll fd and frees the loop; NULL ok. Registered ios, timers and
 * posted events are simply forgotten (their owners free them). Does not touch
 * the kernel's registrations, so a forked child may call it on the loop it
 * inherited: rl_loop_del_io() there would remove the fds from the *parent's*
 * epoll set, which the child shares until it closes the epoll fd. */
void rl_loop_destroy(rl_loop_t *l);

/* Registers <io>->fd for EPOLLIN|EPOLLRDHUP, plus EPOLLOUT when <io>->write
 * is set, edge-triggered, with <io> as the epoll data. Returns RL_OK, or
 * RL_ERROR with errno set (EEXIST if already registered). */
int rl_loop_add_io(rl_loop_t *l, rl_io_t *io);

/* Re-registers <io> after its read/write pointers changed (e.g. a write
 * event was attached later): EPOLLOUT follows <io>->write. Returns RL_OK or
 * RL_ERROR with errno set. */
int rl_loop_mod_io(rl_loop_t *l, rl_io_t *io);

/* Unregisters <io>. Call it before close(fd) and before freeing <io>. Events
 * for <io> still pending in the batch being dispatched are dropped, so a
 * handler may close and free another connection safely. Returns RL_OK, or
 * RL_ERROR with errno set by epoll_ctl (the pending events are dropped
 * anyway). */
int rl_loop_del_io(rl_loop_t *l, rl_io_t *io);

/* Drops the events of <io> pending in the batch being dispatched, without
 * touching the kernel's registration. For a forked child that frees an io
 * it inherited: epoll_ctl there would change the parent's epoll set. */
void rl_loop_forget_io(rl_loop_t *l, rl_io_t *io);

/* (Re)arms the timer of <ev>: it expires at rl_loop_now() + <msec>, its
 * handler then runs with timedout = 1. Re-arming moves the deadline. */
void rl_timer_add(rl_loop_t *l, rl_event_t *ev, uint64_t msec);

/* Disarms the timer of <ev>; a no-op when it is not set. Must be called
 * before freeing an event whose timer is set. */
void rl_timer_del(rl_loop_t *l, rl_event_t *ev);

/* Queues <ev>: its handler runs from the loop after the current I/O batch and
 * timers. Posting an already posted event does nothing (it runs once). An
 * event posted by a posted handler runs in the next iteration, so posting
 * cannot starve I/O. */
void rl_loop_post(rl_loop_t *l, rl_event_t *ev);

/* Removes <ev> from the posted queue; a no-op when not posted. Must be
 * called before freeing a posted event. */
void rl_loop_unpost(rl_loop_t *l, rl_event_t *ev);

/* The cached monotonic clock in milliseconds, updated after every wait. */
uint64_t rl_loop_now(rl_loop_t *l);

/* The cached wall clock in seconds (Date headers, logs), updated with now. */
time_t rl_loop_time(rl_loop_t *l);

/* Re-reads both clocks now (after a long blocking operation). */
void rl_loop_update_time(rl_loop_t *l);

/* Sets the hook called before each wait (flush buffered logs, ...); <cb>
 * NULL removes it. */
void rl_loop_set_before_sleep(rl_loop_t *l, rl_loop_hook_cb cb, void *data);

/* Runs iterations until rl_loop_stop(). Returns RL_OK, or RL_ERROR with
 * errno set when epoll_wait fails with something else than EINTR. */
int rl_loop_run(rl_loop_t *l);

/* Runs one iteration, waiting at most <max_wait_ms> (-1: up to the next
 * timer, no limit). For tests and for callers that interleave their own
 * work. Returns RL_OK or RL_ERROR as rl_loop_run(). */
int rl_loop_run_once(rl_loop_t *l, int max_wait_ms);

/* Makes rl_loop_run() return after the current iteration. */
void rl_loop_stop(rl_loop_t *l);

/* Armed timers, for graceful shutdown and tests. */
size_t rl_loop_timer_count(rl_loop_t *l);

/* Internal, for tests: checks the heap invariants (parent <= children, every
 * heap_idx matches its slot, timer_set on all). Returns true when they hold. */
bool rl__loop_heap_check(const rl_loop_t *l);

#endif
