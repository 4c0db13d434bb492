/* libFuzzer driver for src/fpm/status.c and src/fpm/accesslog.c: what a
 * FastCGI client controls in relais-fpm's status page (the query string,
 * the request's method, URI, query, script and user shown with ?full in
 * html, xml, json, text) and what a pool's access.format controls in its
 * access.log lines (with the request's params for %{NAME}e).
 *
 * The input: the first byte picks the target; then NUL-separated fields.
 * Status: query, method, uri, query string, script, user, head flag. The
 * page must come out, start with its header block and, except for HEAD,
 * have a body after it; json must not contain a raw control byte.
 * Access: a format (used only when rl_fpm_access_format_check() accepts
 * it, as relais-fpm only uses those), then the slot's strings; a line must
 * end with '\n' and stay within php-fpm's buffer. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "fpm/accesslog.h"
#include "fpm/conf.h"
#include "fpm/status.h"
#include "fpm/zlog.h"

#define FIELDS 8

static size_t split(const uint8_t *data, size_t len, char fields[FIELDS][600])
{
    size_t n = 0, at = 0;
    memset(fields, 0, FIELDS * 600);
    for (size_t i = 0; i < len && n < FIELDS; i++) {
        if (data[i] == 0) {
            n++;
            at = 0;
        } else if (at < 599) {
            fields[n][at++] = (char)data[i];
        }
    }
    return n + 1;
}

static void set(char *dst, size_t cap, const char *src)
{
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

static const char *param(void *ctx, const char *name)
{
    char (*f)[600] = ctx;
    return strcmp(name, "REQUEST_URI") == 0 ? f[2] : strcmp(name, "EMPTY") == 0 ? "" : NULL;
}

static void fill_board(rl_fpm_scoreboard_t *sb, char f[FIELDS][600])
{
    memset(sb, 0, sizeof(*sb) + 2 * sizeof(rl_fpm_slot_t));
    set(sb->pool, sizeof(sb->pool), "www");
    set(sb->pm, sizeof(sb->pm), "dynamic");
    sb->start_us = 1795700000000000ull;
    sb->idle = 1;
    sb->active = 1;
    sb->nslots = 2;
    for (int i = 0; i < 2; i++) {
        rl_fpm_slot_t *s = &sb->slots[i];
        s->pid = 100 + i;
        s->stage = i ? RL_FPM_STAGE_RUNNING : RL_FPM_STAGE_IDLE;
        s->start_us = sb->start_us;
        s->accepted_us = sb->start_us + 1000;
        s->requests = 3;
        s->status = 200;
        set(s->method, sizeof(s->method), f[1]);
        set(s->request_uri, sizeof(s->request_uri), f[2]);
        set(s->query, sizeof(s->query), f[3]);
        set(s->script, sizeof(s->script), f[4]);
        set(s->auth_user, sizeof(s->auth_user), f[5]);
    }
}

static void fuzz_status(char f[FIELDS][600])
{
    static union { rl_fpm_scoreboard_t sb; char room[sizeof(rl_fpm_scoreboard_t) +
                                                   2 * sizeof(rl_fpm_slot_t)]; } board;
    fill_board(&board.sb, f);
    rl_fpm_status_t st = { .sb = &board.sb, .listen_queue = 0, .listen_queue_len = 511,
                           .now_us = board.sb.start_us + 5000000, .self = 101 };
    bool head = f[6][0] == '1';
    rl_buf_t out = { 0 };
    rl_fpm_status_render(&st, f[0], head, &out);
    rl_str_t page = rl_buf_str(&out);
    const char *end = memmem(page.p, page.len, "\r\n\r\n", 4);
    if (!end)
        abort();
    size_t body = page.len - (size_t)(end + 4 - page.p);
    if (head && body != 0)
        abort();
    if (!head && body == 0)
        abort();
    if (memmem(page.p, (size_t)(end - page.p), "application/json", 16))
        for (const char *c = end + 4; c < page.p + page.len; c++)
            if ((unsigned char)*c < 0x20 && *c != '\n')
                abort();
    rl_buf_release(&out);
}

static void fuzz_access(char f[FIELDS][600])
{
    rl_zlog_t log;
    rl_zlog_init(&log);
    log.stderr_fd = -1;
    if (rl_fpm_access_format_check(&log, f[0]) != RL_OK)
        return;
    static union { rl_fpm_scoreboard_t sb; char room[sizeof(rl_fpm_scoreboard_t) +
                                                   2 * sizeof(rl_fpm_slot_t)]; } board;
    fill_board(&board.sb, f);
    rl_fpm_access_t a = { .pool = "www", .slot = &board.sb.slots[0], .ppid = 1,
                          .peer = f[6][0] ? f[6] : NULL, .now_us = board.sb.start_us,
                          .param = param, .param_ctx = f };
    rl_buf_t out = { 0 };
    int rc = rl_fpm_access_format(f[0], &a, &out);
    if (rc != RL_ERROR && rl_buf_unread(&out) > 0) {
        rl_str_t line = rl_buf_str(&out);
        if (line.p[line.len - 1] != '\n' || line.len > RL_FPM_ACCESS_BUFFER + 1)
            abort();
    }
    rl_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    static char fields[FIELDS][600];
    split(data + 1, len - 1, fields);
    if (data[0] & 1)
        fuzz_access(fields);
    else
        fuzz_status(fields);
    return 0;
}
