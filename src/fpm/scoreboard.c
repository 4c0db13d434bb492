/* A pool's scoreboard (see scoreboard.h): one anonymous shared mapping,
 * made before the fork so that every process of the pool sees the same
 * pages. Nothing here locks; the writers' rules are in the header. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "fpm/scoreboard.h"

/* php-fpm's names (fpm_request.c of PHP 8.2, as the status page of
 * php-fpm8.2 shows them: "information", no 's'). */
static const char *const stage_names[] = {
    [RL_FPM_STAGE_IDLE] = "Idle",
    [RL_FPM_STAGE_READING] = "Reading headers",
    [RL_FPM_STAGE_INFO] = "Getting request information",
    [RL_FPM_STAGE_RUNNING] = "Running",
    [RL_FPM_STAGE_FINISHING] = "Finishing",
    [RL_FPM_STAGE_ENDING] = "Ending",
};

static size_t board_size(int nslots)
{
    return sizeof(rl_fpm_scoreboard_t) + (size_t)nslots * sizeof(rl_fpm_slot_t);
}

rl_fpm_scoreboard_t *rl_fpm_scoreboard_create(const char *pool, const char *pm, int nslots)
{
    if (nslots < 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p = mmap(NULL, board_size(nslots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    rl_fpm_scoreboard_t *sb = p;   /* the pages come zeroed */
    snprintf(sb->pool, sizeof(sb->pool), "%s", pool ? pool : "");
    snprintf(sb->pm, sizeof(sb->pm), "%s", pm ? pm : "");
    sb->start_us = rl_fpm_now_us();
    sb->nslots = nslots;
    return sb;
}

void rl_fpm_scoreboard_destroy(rl_fpm_scoreboard_t *sb)
{
    if (sb)
        munmap(sb, board_size(sb->nslots));
}

int rl_fpm_scoreboard_free_slot(const rl_fpm_scoreboard_t *sb)
{
    for (int i = 0; i < sb->nslots; i++)
        if (__atomic_load_n(&sb->slots[i].pid, __ATOMIC_ACQUIRE) == 0)
            return i;
    return -1;
}

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rl_fpm_now_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

uint64_t rl_fpm_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

const char *rl_fpm_stage_name(int stage)
{
    if (stage < 0 || (size_t)stage >= RL_NELEMS(stage_names))
        return "Unknown";
    return stage_names[stage];
}
