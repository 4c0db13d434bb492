/* The scoreboard shared by the master and the workers: see scoreboard.h
 * for the layout and who writes what. The functions here run off the hot
 * path (slot management in the master, per-request records); the
 * per-request counters are inline in the header. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "httpd/scoreboard.h"

rl_sb_t *rl_sb;

static int self_slot = -1;
static rl_sb_proc_t private_slot;   /* a worker without a slot counts here */

int64_t rl_sb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int rl_sb_create(void)
{
    if (rl_sb)
        return RL_OK;
    void *p = mmap(NULL, sizeof(rl_sb_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return RL_ERROR;
    rl_sb = p;   /* zero-filled: every slot RL_SB_FREE */
    atomic_store(&rl_sb->restart_us, rl_sb_now_us());
    atomic_store(&rl_sb->master_pid, (int32_t)getpid());
    return RL_OK;
}

/* The totals of a slot whose process is gone go to the header, if they
 * count in the current epoch. */
static void retire(rl_sb_proc_t *p)
{
    if (atomic_load(&p->epoch) != atomic_load(&rl_sb->epoch))
        return;
    rl_sb_add64(&rl_sb->retired_accesses, atomic_load(&p->accesses));
    rl_sb_add64(&rl_sb->retired_bytes, atomic_load(&p->bytes));
    rl_sb_add64(&rl_sb->retired_duration_us, atomic_load(&p->duration_us));
}

int rl_sb_claim(void)
{
    if (rl_sb == NULL)
        return -1;
    for (int i = 0; i < RL_SB_SLOTS; i++) {
        rl_sb_proc_t *p = &rl_sb->procs[i];
        uint32_t st = atomic_load(&p->state);
        if (st != RL_SB_FREE && st != RL_SB_DEAD)
            continue;
        /* readers skip a FREE slot: for a moment its totals count twice */
        if (st == RL_SB_DEAD)
            retire(p);
        atomic_store(&p->state, RL_SB_FREE);
        atomic_store(&p->pid, 0);
        atomic_store(&p->accesses, 0);
        atomic_store(&p->bytes, 0);
        atomic_store(&p->duration_us, 0);
        for (int k = 0; k < RL_SB_C_N; k++)
            atomic_store(&p->conns[k], 0);
        for (int k = 0; k < RL_SB_RECORDS; k++)
            memset(&p->rec[k], 0, sizeof(p->rec[k]));
        p->rec_next = 0;
        atomic_store(&p->generation, atomic_load(&rl_sb->generation));
        atomic_store(&p->epoch, atomic_load(&rl_sb->epoch));
        atomic_store(&p->started_us, rl_sb_now_us());
        atomic_store(&p->state, RL_SB_STARTING);
        return i;
    }
    return -1;
}

void rl_sb_assign(int slot, pid_t pid)
{
    if (rl_sb == NULL || slot < 0)
        return;
    rl_sb_proc_t *p = &rl_sb->procs[slot];
    if (pid < 0) {
        atomic_store(&p->state, RL_SB_FREE);
        return;
    }
    atomic_store(&p->pid, (int32_t)pid);
}

void rl_sb_release(pid_t pid)
{
    if (rl_sb == NULL || pid <= 0)
        return;
    for (int i = 0; i < RL_SB_SLOTS; i++) {
        rl_sb_proc_t *p = &rl_sb->procs[i];
        if (atomic_load(&p->pid) != pid)
            continue;
        atomic_store(&p->pid, 0);
        /* its connections went with it */
        for (int k = 0; k < RL_SB_C_N; k++)
            atomic_store(&p->conns[k], 0);
        for (int k = 0; k < RL_SB_RECORDS; k++)
            atomic_store(&p->rec[k].busy, 0);
        atomic_store(&p->state, RL_SB_DEAD);
        return;
    }
}

void rl_sb_restart(bool graceful)
{
    if (rl_sb == NULL)
        return;
    atomic_fetch_add(&rl_sb->generation, 1);
    if (graceful)
        return;
    atomic_store(&rl_sb->retired_accesses, 0);
    atomic_store(&rl_sb->retired_bytes, 0);
    atomic_store(&rl_sb->retired_duration_us, 0);
    atomic_fetch_add(&rl_sb->epoch, 1);
    atomic_store(&rl_sb->restart_us, rl_sb_now_us());
}

void rl_sb_attach(int slot)
{
    self_slot = slot;
    if (rl_sb && slot >= 0)
        atomic_store(&rl_sb->procs[slot].pid, (int32_t)getpid());
}

rl_sb_proc_t *rl_sb_worker_ready(void)
{
    if (rl_sb == NULL || self_slot < 0)
        return &private_slot;
    rl_sb_proc_t *p = &rl_sb->procs[self_slot];
    atomic_store(&p->state, RL_SB_READY);
    return p;
}

/* ---- ExtendedStatus records ---- */

static void rec_begin(rl_sb_record_t *r)
{
    atomic_store_explicit(&r->seq, atomic_load_explicit(&r->seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void rec_end(rl_sb_record_t *r)
{
    atomic_store_explicit(&r->seq, atomic_load_explicit(&r->seq, memory_order_relaxed) + 1,
                          memory_order_release);
}

static void copy_str(char *dst, size_t cap, const char *src, bool tail)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        if (tail)
            src += n - (cap - 1);
        n = cap - 1;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

int rl_sb_record_start(rl_sb_proc_t *p, const struct sockaddr *peer, socklen_t peer_len,
                       const char *vhost, unsigned port, const char *request, bool tail,
                       unsigned conn_requests, int64_t start_us)
{
    int idx = -1;
    for (unsigned i = 0; i < RL_SB_RECORDS; i++) {
        unsigned k = (p->rec_next + i) % RL_SB_RECORDS;
        if (!atomic_load_explicit(&p->rec[k].busy, memory_order_relaxed)) {
            idx = (int)k;
            break;
        }
    }
    if (idx < 0)
        return -1;
    p->rec_next = ((unsigned)idx + 1) % RL_SB_RECORDS;
    rl_sb_record_t *r = &p->rec[idx];
    rec_begin(r);
    atomic_store_explicit(&r->busy, 1, memory_order_relaxed);
    r->port = (uint16_t)port;
    r->conn_requests = conn_requests;
    r->start_us = start_us;
    /* formatted by the reader: inet_ntop costs more than the copy */
    memset(r->peer, 0, sizeof(r->peer));
    if (peer)
        memcpy(r->peer, peer, peer_len < sizeof(r->peer) ? peer_len : sizeof(r->peer));
    copy_str(r->vhost, sizeof(r->vhost), vhost, false);
    copy_str(r->request, sizeof(r->request), request, tail);
    rec_end(r);
    return idx;
}

void rl_sb_record_end(rl_sb_proc_t *p, int idx, bool done, uint64_t bytes, int64_t now_us)
{
    if (idx < 0 || idx >= RL_SB_RECORDS)
        return;
    rl_sb_record_t *r = &p->rec[idx];
    rec_begin(r);
    atomic_store_explicit(&r->busy, 0, memory_order_relaxed);
    r->stop_us = now_us;
    if (done) {
        r->accesses++;
        r->bytes += bytes;
        if (now_us > r->start_us)
            r->duration_us += (uint64_t)(now_us - r->start_us);
    }
    rec_end(r);
}

/* The record's address as text in its client[]. */
static void peer_text(rl_sb_record_t *r)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    memcpy(&a4, r->peer, sizeof(a4));
    r->client[0] = '\0';
    if (a4.sin_family == AF_INET) {
        inet_ntop(AF_INET, &a4.sin_addr, r->client, sizeof(r->client));
    } else if (a4.sin_family == AF_INET6) {
        memcpy(&a6, r->peer, sizeof(a6));
        if (IN6_IS_ADDR_V4MAPPED(&a6.sin6_addr))
            inet_ntop(AF_INET, &a6.sin6_addr.s6_addr[12], r->client, sizeof(r->client));
        else
            inet_ntop(AF_INET6, &a6.sin6_addr, r->client, sizeof(r->client));
    }
}

bool rl_sb_record_read(const rl_sb_record_t *src, rl_sb_record_t *dst)
{
    for (int tries = 0; tries < 100; tries++) {
        uint32_t s1 = atomic_load_explicit(&src->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        memcpy(dst, src, sizeof(*dst));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&src->seq, memory_order_relaxed) == s1) {
            peer_text(dst);
            dst->vhost[sizeof(dst->vhost) - 1] = '\0';
            dst->request[sizeof(dst->request) - 1] = '\0';
            return true;
        }
    }
    return false;
}
