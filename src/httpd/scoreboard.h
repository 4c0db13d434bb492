/* The scoreboard: counters every worker process publishes and any of them
 * reads (mod_status, mod/status.c).
 *
 * One shared anonymous mapping, created by the master before it forks the
 * first worker, so that every process of every generation sees the same
 * pages. It holds a header (restart time, generations, the totals of
 * workers whose slot was reused) and one slot per worker process. Each
 * slot has exactly one writer at a time: the master while no process owns
 * it (rl_sb_claim, before the fork), then the worker itself. Counters are
 * therefore updated with a relaxed load and store (a plain mov on x86, no
 * locked instruction, no syscall); readers load them relaxed and may see a
 * value a few requests old, never a torn one. The per-request records of
 * ExtendedStatus hold strings: a sequence counter around each update lets
 * a reader retry a copy that raced with the writer.
 *
 * A slot outlives its process: its counters still count in the totals (as
 * Apache's scoreboard keeps a dead worker's) until the master gives the
 * slot to a new worker and folds them into the header's "retired" totals.
 * A hard restart (SIGHUP) starts the totals over, as Apache's does. */
#ifndef RL_HTTPD_SCOREBOARD_H
#define RL_HTTPD_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include "core/rl.h"

#define RL_SB_SLOTS 256        /* worker processes at once, all generations */
#define RL_SB_RECORDS 16       /* recent requests kept per worker (ExtendedStatus) */
#define RL_SB_REQUEST_LEN 64   /* as Apache's worker_score.request */
#define RL_SB_VHOST_LEN 32
#define RL_SB_CLIENT_LEN 46    /* INET6_ADDRSTRLEN */

/* A worker process's life, as its slot shows it. */
typedef enum {
    RL_SB_FREE = 0,            /* no process ever, or its counters were retired */
    RL_SB_STARTING = 1,        /* forked, not serving yet */
    RL_SB_READY = 2,           /* accepting connections */
    RL_SB_STOPPING = 3,        /* graceful stop: no accepts, finishing its connections */
    RL_SB_DEAD = 4,            /* exited; counters kept until the slot is reused */
} rl_sb_pstate_t;

/* What a connection is doing: Apache event's connection states. */
typedef enum {
    RL_SB_C_NONE = 0,          /* not counted (closed) */
    RL_SB_C_READ = 1,          /* reading a request head (or a body nobody waits for) */
    RL_SB_C_BUSY = 2,          /* a request is being processed (handler, backend, writing) */
    RL_SB_C_WRITING = 3,       /* the response is complete, the socket is full: Apache's
                                * write completion */
    RL_SB_C_KEEPALIVE = 4,     /* idle between requests */
    RL_SB_C_CLOSING = 5,       /* lingering close */
    RL_SB_C_N
} rl_sb_cstate_t;

/* One recent request of a worker (ExtendedStatus). */
typedef struct {
    _Atomic uint32_t seq;            /* odd while the writer updates the record */
    _Atomic uint8_t busy;            /* the request is in progress */
    uint16_t port;                   /* local port of the connection */
    uint32_t conn_requests;          /* requests on its connection, this one included */
    int64_t start_us, stop_us;       /* wall clock; stop < start while busy */
    uint64_t accesses;               /* requests recorded here */
    uint64_t bytes;                  /* their bytes */
    uint64_t duration_us;            /* their durations */
    uint8_t peer[28];                /* the client's sockaddr_in/_in6 (writer) */
    char client[RL_SB_CLIENT_LEN];   /* ... as text (rl_sb_record_read fills it) */
    char vhost[RL_SB_VHOST_LEN];
    char request[RL_SB_REQUEST_LEN];
} rl_sb_record_t;

/* A worker process's slot. */
typedef struct rl_sb_proc_s {
    _Atomic int32_t pid;             /* 0: none */
    _Atomic uint32_t state;          /* rl_sb_pstate_t */
    _Atomic uint32_t generation;     /* the MPM generation it was started in */
    _Atomic uint32_t epoch;          /* hard restarts before its start */
    _Atomic int64_t started_us;
    _Atomic uint64_t accesses;       /* requests finished (logged) */
    _Atomic uint64_t bytes;          /* their response bytes, head included (%O) */
    _Atomic uint64_t duration_us;    /* their durations, first byte to log */
    _Atomic uint32_t conns[RL_SB_C_N];  /* open connections by rl_sb_cstate_t */
    uint32_t rec_next;               /* the writer's cursor in rec[] */
    rl_sb_record_t rec[RL_SB_RECORDS];
} rl_sb_proc_t;

typedef struct {
    _Atomic uint32_t generation;     /* restarts, graceful or not (Apache's MPM generation) */
    _Atomic uint32_t epoch;          /* hard restarts: totals start over */
    _Atomic int64_t restart_us;      /* start or last hard restart */
    _Atomic int32_t master_pid;
    _Atomic uint64_t retired_accesses, retired_bytes, retired_duration_us;
    rl_sb_proc_t procs[RL_SB_SLOTS];
} rl_sb_t;

/* The mapping (NULL before rl_sb_create, e.g. with relaisd -t). */
extern rl_sb_t *rl_sb;

/* Master, before the first fork: maps the scoreboard. RL_OK or RL_ERROR. */
int rl_sb_create(void);
/* Master, before forking a worker: a free slot (or the oldest dead one),
 * initialised for the current generation; -1 when all are in use (the
 * worker then counts into a private slot nobody sees). */
int rl_sb_claim(void);
/* Master, after the fork: the worker of <slot> is <pid> (< 0: the fork
 * failed, the slot is free again). */
void rl_sb_assign(int slot, pid_t pid);
/* Master, once <pid> is reaped: its slot shows it dead. */
void rl_sb_release(pid_t pid);
/* Master, on a restart whose configuration was accepted: a new generation;
 * without <graceful>, the totals and the restart time start over. */
void rl_sb_restart(bool graceful);

/* Worker, right after the fork: <slot> (from rl_sb_claim) is its own. */
void rl_sb_attach(int slot);
/* Worker, once it serves: its slot, marked ready (a private one when it
 * has none). Never NULL. */
rl_sb_proc_t *rl_sb_worker_ready(void);

/* ---- the hot path: called by the connection code of the slot's owner ---- */

static inline void rl_sb_add64(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void rl_sb_add32(_Atomic uint32_t *v, uint32_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Moves a connection from state *<cur> to <next> (rl_sb_cstate_t). */
static inline void rl_sb_conn_state(rl_sb_proc_t *p, uint8_t *cur, unsigned next)
{
    if (*cur == next)
        return;
    if (*cur)
        rl_sb_add32(&p->conns[*cur], (uint32_t)-1);
    if (next)
        rl_sb_add32(&p->conns[next], 1);
    *cur = (uint8_t)next;
}

/* Counts a finished request of <bytes> that started at <start>. */
static inline void rl_sb_request_done(rl_sb_proc_t *p, uint64_t bytes, int64_t duration_us)
{
    rl_sb_add64(&p->accesses, 1);
    rl_sb_add64(&p->bytes, bytes);
    rl_sb_add64(&p->duration_us, duration_us > 0 ? (uint64_t)duration_us : 0);
}

/* ExtendedStatus: a record for a request that starts (returns its index,
 * or -1 when every record is busy), and its end (<done>: counted as an
 * access; false for a request cut short by a closed connection). <tail>:
 * keep the end of a long request line (SeeRequestTail) rather than its
 * beginning. */
int rl_sb_record_start(rl_sb_proc_t *p, const struct sockaddr *peer, socklen_t peer_len,
                       const char *vhost, unsigned port, const char *request, bool tail,
                       unsigned conn_requests, int64_t start_us);
void rl_sb_record_end(rl_sb_proc_t *p, int idx, bool done, uint64_t bytes, int64_t now_us);

/* Copies record <src> into <dst> consistently (retrying while the writer
 * updates it), with the client's address as text in dst->client; false
 * when it stayed inconsistent (the caller skips it). */
bool rl_sb_record_read(const rl_sb_record_t *src, rl_sb_record_t *dst);

/* The wall clock in microseconds. */
int64_t rl_sb_now_us(void);

#endif
