/* .htaccess files, see htaccess.h. A small chained hash table per worker
 * process, keyed by (configuration, server, path, overrides). */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "httpd/htaccess.h"

#define SLOTS 1024
#define FIRST_ID (1u << 24)   /* above any configuration section's id */

typedef struct entry_s {
    const rl_config_t *cf;
    const rl_server_t *server;
    const char *path;
    unsigned ovr;
    const char *const *list;
    int opts;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    rl_htaccess_t ht;
    const char *error;        /* the file is wrong: its requests get 500 */
    struct entry_s *next;
} entry_t;

static entry_t *slots[SLOTS];
static unsigned next_id = FIRST_ID;

static uint64_t hash(const char *path)
{
    uint64_t h = 1469598103934665603ull;
    for (; *path; path++)
        h = (h ^ (uint8_t)*path) * 1099511628211ull;
    return h;
}

static bool same_version(const entry_t *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static entry_t **find(rl_request_t *r, const char *path, unsigned ovr, const char *const *list,
                      int opts)
{
    entry_t **pp = &slots[hash(path) % SLOTS];
    for (; *pp; pp = &(*pp)->next) {
        entry_t *e = *pp;
        if (e->cf == r->cf && e->server == r->server && e->ovr == ovr && e->list == list &&
            e->opts == opts && strcmp(e->path, path) == 0)
            break;
    }
    return pp;
}

/* Reads a new version of <path> into a new entry (its own arena). */
static entry_t *load(rl_request_t *r, const char *path, const char *dir, unsigned ovr,
                     const char *const *list, int opts, const struct stat *st)
{
    rl_arena_t *a = rl_arena_create(4096);
    entry_t *e = rl_arena_calloc(a, sizeof(*e));
    e->cf = r->cf;
    e->server = r->server;
    e->path = rl_arena_strdup(a, path);
    e->ovr = ovr;
    e->list = list;
    e->opts = opts;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    e->error = rl_config_read_htaccess(r->cf, r->server, a, e->path, dir, ovr, list, opts,
                                       &next_id, &e->ht);
    return e;
}

/* A .htaccess that stat() or access() refuses: none when it is not there,
 * else 403, as Apache's AH00529. */
static int unreadable(rl_request_t *r, const char *path, const char *dir)
{
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    rl_req_log(r, RL_LOG_CRIT, "core", "(%d)%s: AH00529: %s pcfg_openfile: unable to check "
               "htaccess file, ensure it is readable and that '%s/' is executable",
               errno, strerror(errno), path, strcmp(dir, "/") ? dir : "");
    return 403;
}

int rl_htaccess_get(rl_request_t *r, const char *dir, unsigned ovr, const char *const *list,
                    int opts, const rl_htaccess_t **out)
{
    *out = NULL;
    const char *name = r->server->access_file_name ? r->server->access_file_name : ".htaccess";
    const char *path = rl_arena_printf(r->arena, "%s/%s", strcmp(dir, "/") ? dir : "", name);
    struct stat st;
    if (stat(path, &st) != 0)
        return unreadable(r, path, dir);
    if (!S_ISREG(st.st_mode))
        return 0;
    entry_t **pp = find(r, path, ovr, list, opts);
    if (*pp == NULL || !same_version(*pp, &st)) {
        /* a new version (a chmod changes ctime too): readable by us? */
        if (access(path, R_OK) != 0)
            return unreadable(r, path, dir);
        entry_t *e = load(r, path, dir, ovr, list, opts, &st);
        /* the old version stays allocated: see htaccess.h */
        e->next = *pp ? (*pp)->next : NULL;
        *pp = e;
    }
    if ((*pp)->error) {
        rl_req_log(r, RL_LOG_ALERT, "core", "%s", (*pp)->error);
        return 500;
    }
    *out = &(*pp)->ht;
    return 0;
}
