/* mod_expires: Expires and Cache-Control: max-age from ExpiresByType or
 * ExpiresDefault, as Apache 2.4.71 sets them:
 *   - only with ExpiresActive On, on a response that is not an error (not
 *     4xx/5xx: 2xx, 3xx including redirects Apache generates, 304);
 *   - never when the response already has an Expires field (a script's);
 *   - the code is "A<seconds>" (from the access: relais takes the time the
 *     Date field shows, so Expires - Date is the configured interval) or
 *     "M<seconds>" (from the file's modification time; nothing for a
 *     response without a file); a time already past is clamped to now;
 *   - max-age is merged into an existing Cache-Control ("public" becomes
 *     "public, max-age=N"), Expires is set;
 *   - ExpiresByType looks the type up without its parameters, then its
 *     major type with a "*" subtype when the section declares such a
 *     wildcard line, then falls back to ExpiresDefault. As in Apache, the wildcard flag is not inherited:
 *     a section with its own ExpiresByType lines and no wildcard ignores the
 *     wildcard types of the sections around it.
 * The header work runs from rl_headers_before_head(), before mod_headers'
 * (Apache: its filter is inserted first), so "Header unset Expires" wins. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include "http/date.h"
#include "httpd/config.h"
#include "httpd/mod/headers.h"

typedef struct bytype_s {
    const char *type;          /* "text/html"; a wildcard has "*" as its subtype */
    const char *code;          /* "A3600", "M86400" */
    struct bytype_s *next;
} bytype_t;

typedef struct {
    int active;                /* RL_UNSET, 0, 1 */
    const char *def;           /* ExpiresDefault's code; NULL: none here */
    bytype_t *types;           /* the nearer section's first */
    bool wildcards;            /* a wildcard type among this section's own lines */
} expires_dir_t;

extern rl_module_t rl_expires_module;

static void *create_dir(rl_arena_t *a)
{
    expires_dir_t *d = rl_arena_calloc(a, sizeof(*d));
    d->active = RL_UNSET;
    return d;
}

static void *merge_dir(rl_arena_t *a, void *basev, void *addv)
{
    expires_dir_t *base = basev, *add = addv, *m = rl_arena_alloc(a, sizeof(*m));
    m->active = add->active != RL_UNSET ? add->active : base->active;
    m->def = add->def ? add->def : base->def;
    m->types = add->types ? RL_LIST_CONCAT(a, add->types, base->types, bytype_t) : base->types;
    m->wildcards = add->wildcards;
    return m;
}

/* The next whitespace-separated word of <*s> (empty at the end). */
static const char *word(rl_arena_t *a, const char **s)
{
    const char *p = *s + strspn(*s, " \t");
    size_t n = strcspn(p, " \t");
    *s = p + n;
    return rl_arena_strndup(a, p, n);
}

static const struct { const char *name; size_t prefix; long factor; } units[] = {
    { "years", 1, 60L * 60 * 24 * 365 }, { "months", 2, 60L * 60 * 24 * 30 },
    { "weeks", 1, 60L * 60 * 24 * 7 }, { "days", 1, 60L * 60 * 24 },
    { "hours", 1, 60L * 60 }, { "minutes", 2, 60 }, { "seconds", 1, 1 },
};

/* "<base> [plus] {<num> <type>}*" -> "A<n>" / "M<n>". Like Apache, every
 * word is recognised by its first letter or two ("access", "a", "now",
 * "mo(nths)", "mi(nutes)"). "A<n>"/"M<n>" pass as written. Returns NULL
 * with <*code> set, or Apache's message. */
static const char *parse_code(rl_arena_t *a, const char *s, const char **code)
{
    if (s[0] == 'A' || s[0] == 'M') {
        *code = s;
        return NULL;
    }
    char base;
    const char *w = word(a, &s);
    if (strncasecmp(w, "now", 1) == 0 || strncasecmp(w, "access", 1) == 0)
        base = 'A';
    else if (strncasecmp(w, "modification", 1) == 0)
        base = 'M';
    else
        return rl_arena_printf(a, "bad expires code, unrecognised <base> '%s'", w);
    w = word(a, &s);
    if (strncasecmp(w, "plus", 1) == 0)
        w = word(a, &s);
    long total = 0;
    while (w[0]) {
        if (!isdigit((unsigned char)w[0]))
            return rl_arena_printf(a, "bad expires code, numeric value expected <num> '%s'", w);
        long num = atoi(w);
        w = word(a, &s);
        if (!w[0])
            return "bad expires code, missing <type>";
        long factor = 0;
        for (size_t i = 0; i < RL_NELEMS(units) && !factor; i++)
            if (strncasecmp(w, units[i].name, units[i].prefix) == 0)
                factor = units[i].factor;
        if (!factor)
            return rl_arena_printf(a, "bad expires code, unrecognised <type>'%s'", w);
        total += num * factor;
        w = word(a, &s);
    }
    *code = rl_arena_printf(a, "%c%ld", base, total);
    return NULL;
}

static const char *set_active(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)p; (void)argc;
    ((expires_dir_t *)conf)->active = rl_parse_flag(argv[0]);
    return NULL;
}

static const char *set_bytype(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    expires_dir_t *d = conf;
    const char *slash = strrchr(argv[0], '/');
    if (slash == NULL)
        return "Invalid mimetype: should contain a slash";
    const char *code, *err = parse_code(p->arena, argv[1], &code);
    if (err)
        return rl_arena_printf(p->arena, "'ExpiresByType %s %s': %s", argv[0], argv[1], err);
    if (strcmp(slash + 1, "*") == 0)
        d->wildcards = true;
    bytype_t *x = rl_arena_alloc(p->arena, sizeof(*x));
    x->type = rl_arena_strdup(p->arena, argv[0]);
    x->code = code;
    x->next = d->types;       /* a later line for the same type wins */
    d->types = x;
    return NULL;
}

static const char *set_default(rl_cmd_parms_t *p, void *conf, int argc, char **argv)
{
    (void)argc;
    const char *code, *err = parse_code(p->arena, argv[0], &code);
    if (err)
        return rl_arena_printf(p->arena, "'ExpiresDefault %s': %s", argv[0], err);
    ((expires_dir_t *)conf)->def = code;
    return NULL;
}

static const char *lookup(const expires_dir_t *d, const char *type, size_t n)
{
    for (const bytype_t *x = d->types; x; x = x->next)
        if (strlen(x->type) == n && strncasecmp(x->type, type, n) == 0)
            return x->code;
    return NULL;
}

/* The code for <r>'s content type, else the default (NULL: none). */
static const char *code_for(const rl_request_t *r, const expires_dir_t *d)
{
    const char *type = r->content_type;
    if (type) {
        size_t n = strcspn(type, ";");
        while (n && (type[n - 1] == ' ' || type[n - 1] == '\t'))
            n--;
        const char *code = lookup(d, type, n);
        if (code)
            return code;
        const char *slash = d->wildcards ? memchr(type, '/', n) : NULL;
        if (slash) {
            char *major = rl_arena_printf(r->arena, "%.*s*", (int)(slash + 1 - type), type);
            code = lookup(d, major, strlen(major));
            if (code)
                return code;
        }
    }
    return d->def;
}

/* Adds "max-age=N" to the first Cache-Control of <t>, or the field. */
static void merge_cache_control(rl_request_t *r, rl_hdrs_t *t, long max_age)
{
    const char *v = rl_arena_printf(r->arena, "max-age=%ld", max_age);
    for (rl_hdr_t *h = t->head; h; h = h->next) {
        if (h->value && strcasecmp(h->name, "Cache-Control") == 0) {
            h->value = rl_arena_printf(r->arena, "%s, %s", h->value, v);
            return;
        }
    }
    rl_hdrs_add(r->arena, t, "Cache-Control", v);
}

void rl_expires_apply(rl_request_t *r, time_t now)
{
    const expires_dir_t *d = RL_DIR_CONF(r->dir, rl_expires_module);
    if (d == NULL || d->active != 1 || (r->status >= 400 && r->status <= 599))
        return;
    if (d->types == NULL && d->def == NULL)
        return;
    /* a script's Expires (relais keeps its fields in r->out) stays */
    rl_hdrs_t *t = rl_hdrs_get(&r->err_out, "Expires") ? &r->err_out : &r->out;
    if (rl_hdrs_get(t, "Expires"))
        return;
    const char *code = code_for(r, d);
    if (code == NULL)
        return;
    time_t base = now;
    if (code[0] == 'M') {
        bool file = r->finfo_ok && r->filename && strncmp(r->filename, "proxy:", 6) != 0;
        if (!file)
            return;
        base = r->finfo.st_mtime;
    }
    time_t expires = base + atoi(code + 1);
    if (expires < now)
        expires = now;
    char date[RL_HTTP_DATE_LEN + 1];
    rl_http_date_format(expires, date);
    merge_cache_control(r, t, (long)(expires - now));
    rl_hdrs_set(r->arena, t, "Expires", rl_arena_strdup(r->arena, date));
}

#define DIR_CMD_PERMS (RL_CTX_ANY | RL_CTX_HTACCESS), RL_OVR_INDEXES

static const rl_cmd_t expires_cmds[] = {
    { "ExpiresActive", set_active, 0, DIR_CMD_PERMS, RL_ARGS_FLAG, "Limited to 'on' or 'off'" },
    { "ExpiresByType", set_bytype, 0, DIR_CMD_PERMS, RL_ARGS_TAKE2,
      "a MIME type followed by an expiry date code" },
    { "ExpiresDefault", set_default, 0, DIR_CMD_PERMS, RL_ARGS_TAKE1, "an expiry date code" },
    { NULL, NULL, 0, 0, 0, 0, NULL }
};

rl_module_t rl_expires_module = {
    .name = "expires",
    .cmds = expires_cmds,
    .create_dir = create_dir,
    .merge_dir = merge_dir,
};
