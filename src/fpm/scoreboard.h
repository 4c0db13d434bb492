/* A pool's scoreboard: shared memory the master maps before it forks the
 * pool's leader, so that the master (process manager, timeouts, status),
 * and the pool's children (their own slot; the status page) see the same
 * figures. One mapping per pool: a leader unmaps the other pools' boards,
 * so a pool's processes never see another pool's requests.
 *
 * No locks. A slot has one writer (its child, or the master when it hands
 * the slot out or takes it back); readers may see a slot mid-update and
 * must treat its strings as possibly cut (they are always NUL-terminated
 * within their arrays). Counters shared by writers use __atomic builtins. */
#ifndef RL_FPM_SCOREBOARD_H
#define RL_FPM_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>
#include "core/rl.h"

/* A child's stage, php-fpm's fpm_request_stage_e; the names are those of
 * the status page ("Idle", "Reading headers", ...). */
typedef enum {
    RL_FPM_STAGE_IDLE = 0,      /* "Idle": waiting in accept() or between requests */
    RL_FPM_STAGE_READING,       /* "Reading headers": params arriving */
    RL_FPM_STAGE_INFO,          /* "Getting request information" */
    RL_FPM_STAGE_RUNNING,       /* "Running": PHP executes */
    RL_FPM_STAGE_FINISHING,     /* "Finishing": after fastcgi_finish_request(), script goes on */
    RL_FPM_STAGE_ENDING,        /* "Ending": PHP shuts the request down */
} rl_fpm_stage_t;

#define RL_FPM_SB_STR 512

typedef struct {
    pid_t pid;                  /* 0: a free slot */
    int stage;                  /* rl_fpm_stage_t */
    uint64_t start_us;          /* the child's start, wall clock (µs since the epoch) */
    uint64_t requests;          /* served since it started */
    /* The current request (stage READING..ENDING), else the last one. */
    uint64_t accepted_us;       /* wall clock when its connection/request began */
    uint64_t accepted_mono_us;  /* the same on CLOCK_MONOTONIC, for timeouts */
    uint64_t duration_us;       /* of the last request once it ended */
    uint64_t finished_mono_us;  /* when fastcgi_finish_request() ended the response; 0: not */
    uint64_t content_length;
    uint64_t memory;            /* peak bytes of the last request */
    double cpu;                 /* % CPU of the last request (user+sys / duration) */
    int status;                 /* HTTP status of the last request */
    char method[16];
    char request_uri[RL_FPM_SB_STR];
    char query[RL_FPM_SB_STR];
    char script[RL_FPM_SB_STR];
    char auth_user[64];
    /* Master only: slowlog already written for this request. */
    uint64_t slowlogged_accepted_us;
} rl_fpm_slot_t;

typedef struct {
    char pool[64];
    char pm[16];                /* "static", "dynamic", "ondemand" */
    uint64_t start_us;          /* the pool's start, wall clock */
    /* Written by the master each second (the status page shows them as
     * php-fpm does: as of the last maintenance). */
    int idle;
    int active;
    int total;
    int max_active;             /* "max active processes" */
    uint64_t max_children_reached;
    /* Bumped by children (__atomic). */
    uint64_t accepted_conn;
    uint64_t slow_requests;     /* bumped by the master when it slowlogs */
    /* The listen queue: children read it from the socket; the maximum is
     * kept here. */
    int max_listen_queue;
    int nslots;
    rl_fpm_slot_t slots[];      /* pm.max_children of them */
} rl_fpm_scoreboard_t;

/* Maps a shared, zeroed board of <nslots> slots named after <pool> with
 * <pm> ("dynamic"...). Returns NULL on failure (errno set). */
rl_fpm_scoreboard_t *rl_fpm_scoreboard_create(const char *pool, const char *pm, int nslots);

/* Unmaps <sb>. */
void rl_fpm_scoreboard_destroy(rl_fpm_scoreboard_t *sb);

/* A free slot's index, or -1. */
int rl_fpm_scoreboard_free_slot(const rl_fpm_scoreboard_t *sb);

/* Wall and monotonic clocks in µs. */
uint64_t rl_fpm_now_us(void);
uint64_t rl_fpm_mono_us(void);

/* The stage's name as on php-fpm's status page. */
const char *rl_fpm_stage_name(int stage);

#endif
