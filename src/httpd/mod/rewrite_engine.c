/* mod_rewrite's engine (see rewrite.h): parsing RewriteCond/RewriteRule
 * lines and RewriteMap specs, expanding %{VAR}, ${map:key}, $N and %N,
 * testing conditions and applying rule lists as Apache 2.4.71 does,
 * including its 2024 hardening (a '?' brought in by an expansion may not
 * start the query: CVE-2024-38474, [UnsafeAllow3F]).
 *
 * Differences from Apache: %{LA-U:x} and %{LA-F:x} give x of the request
 * itself (no look-ahead sub-request); -F is "exists" without the
 * sub-request's access checks; -U and RewriteMap prg:, dbm:, dbd: are
 * refused when the configuration is read; relais' look-up of
 * PATH_TRANSLATED runs [R] and [NS] rules too (Apache's sub-request skips
 * them). */
#include <ctype.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include "http/expr.h"
#include "httpd/conn.h"
#include "httpd/vars.h"
#include "httpd/mod/rewrite.h"

#define NMATCH RL_REWRITE_NMATCH
#define MAX_ROUNDS 10000               /* [N] without a limit */

/* RewriteCond flags */
enum {
    CF_NOCASE = 1 << 0,
    CF_NOTMATCH = 1 << 1,
    CF_ORNEXT = 1 << 2,
    CF_NOVARY = 1 << 3,
};

/* RewriteRule flags */
enum {
    RF_REDIRECT = 1 << 0,
    RF_LAST = 1 << 1,
    RF_NEXT = 1 << 2,
    RF_CHAIN = 1 << 3,
    RF_NOSUBREQ = 1 << 4,
    RF_NOTMATCH = 1 << 5,
    RF_PROXY = 1 << 6,
    RF_PASSTHROUGH = 1 << 7,
    RF_QSAPPEND = 1 << 8,
    RF_NOCASE = 1 << 9,
    RF_NOESCAPE = 1 << 10,
    RF_NOSUB = 1 << 11,             /* "-": no substitution */
    RF_STATUS = 1 << 12,            /* F, G, R=4xx/5xx: answer with a status */
    RF_ESCAPEBACKREF = 1 << 13,
    RF_DISCARDPATHINFO = 1 << 14,
    RF_QSDISCARD = 1 << 15,
    RF_END = 1 << 16,
    RF_ESCAPENOPLUS = 1 << 17,
    RF_QSLAST = 1 << 18,
    RF_UNSAFE_ALLOW3F = 1 << 19,    /* a '?' from an expansion may split */
    RF_UNSAFE_PREFIX_STAT = 1 << 20,/* a result an expansion starts may be any file */
};

typedef enum {
    CP_REGEX, CP_FILE, CP_SIZE, CP_LINK, CP_DIR, CP_XBIT, CP_LU_FILE,
    CP_STR_LT, CP_STR_LE, CP_STR_EQ, CP_STR_GT, CP_STR_GE,
    CP_INT_LT, CP_INT_LE, CP_INT_EQ, CP_INT_GT, CP_INT_GE, CP_EXPR,
} cond_type_t;

struct rl_rewrite_cond_s {
    const char *input;          /* TestString, expanded per request */
    const char *pattern;        /* without its operator */
    pcre2_code *re;
    rl_expr_t *expr;            /* "expr" conditions */
    unsigned flags;             /* CF_* */
    cond_type_t type;
};

typedef struct item_s {         /* E=, CO= */
    const char *data;
    struct item_s *next;
} item_t;

struct rl_rewrite_rule_s {
    rl_rewrite_cond_t **conds;
    unsigned nconds;
    const char *pattern;
    pcre2_code *re;
    const char *output;
    unsigned flags;             /* RF_* */
    const char *forced_type;    /* T= */
    const char *forced_handler; /* H= */
    int status;                 /* R=, F, G; 302 by default */
    item_t *env, *cookies;
    int skip;                   /* S= */
    int maxrounds;              /* N=n */
    const char *escapes;        /* B=chars */
};

typedef struct rl_rewrite_entry_s { const char *key, *value; } map_entry_t;

/* ---- parsing ---- */

/* Apache's own argument splitter for RewriteCond/RewriteRule (no
 * backslash processing but "\ " inside a word). Cuts <s> in place.
 * Returns NULL or an error. */
static const char *split_word(char **s, char **word)
{
    char *p = *s;
    while (isspace((unsigned char)*p))
        p++;
    char quote = (*p == '"' || *p == '\'') ? *p++ : '\0';
    *word = p;
    for (; *p; p++) {
        if ((isspace((unsigned char)*p) && !quote) || *p == quote)
            break;
        if (*p == '\\' && isspace((unsigned char)p[1]))
            p++;
    }
    bool more = *p != '\0';
    if (more)
        *p++ = '\0';
    *s = p;
    return more ? NULL : "";
}

/* Splits the argument line <str> (in place) into its two or three words.
 * false when there are fewer than two. */
static bool split_args(char *str, char **a1, char **a2, char **a3)
{
    *a1 = *a2 = *a3 = NULL;
    if (split_word(&str, a1))
        return false;
    if (split_word(&str, a2))
        return true;
    while (isspace((unsigned char)*str))
        str++;
    if (*str)
        split_word(&str, a3);
    return true;
}

typedef const char *(*flag_cb)(rl_arena_t *a, void *entry, char *key, char *val);

/* Splits "[k1,k2=v,...]" and calls <cb> for each flag. */
static const char *parse_flags(rl_arena_t *a, void *entry, char *field, flag_cb cb)
{
    size_t len = strlen(field);
    if (field[0] != '[' || len < 2 || field[len - 1] != ']')
        return "bad flag delimiters";
    char *key = field + 1;
    field[strlen(field) - 1] = ',';
    while (*key) {
        while (isspace((unsigned char)*key))
            key++;
        char *next = strchr(key, ',');
        if (*key == '\0' || next == NULL)
            break;
        char *end = next - 1;
        while (end >= key && isspace((unsigned char)*end))
            end--;
        end[1] = '\0';
        char *val = strchr(key, '=');
        if (val)
            *val++ = '\0';
        else
            val = end + 1;
        const char *err = cb(a, entry, key, val);
        if (err)
            return err;
        key = next + 1;
    }
    return NULL;
}

static const char *cond_flag(rl_arena_t *a, void *entry, char *key, char *val)
{
    (void)val;
    rl_rewrite_cond_t *c = entry;
    if (strcasecmp(key, "nocase") == 0 || strcasecmp(key, "NC") == 0)
        c->flags |= CF_NOCASE;
    else if (strcasecmp(key, "ornext") == 0 || strcasecmp(key, "OR") == 0)
        c->flags |= CF_ORNEXT;
    else if (strcasecmp(key, "novary") == 0 || strcasecmp(key, "NV") == 0)
        c->flags |= CF_NOVARY;
    else
        return rl_arena_printf(a, "unknown flag '%s'", key);
    return NULL;
}

static pcre2_code *compile(rl_arena_t *a, const char *re, bool icase)
{
    int ec;
    PCRE2_SIZE off;
    /* Apache's default regex options: DOTALL and DOLLAR_ENDONLY */
    uint32_t opts = PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | (icase ? PCRE2_CASELESS : 0);
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &ec, &off, NULL);
    if (c)
        rl_arena_on_cleanup(a, (rl_cleanup_cb)pcre2_code_free, c);
    return c;
}

/* "-lt" "-le" "-eq" "-ne" "-gt" "-ge": the integer comparisons. */
static bool int_operator(rl_rewrite_cond_t *c, const char **pat)
{
    static const struct { const char *op; cond_type_t t; } ops[] = {
        { "-lt", CP_INT_LT }, { "-le", CP_INT_LE }, { "-gt", CP_INT_GT },
        { "-ge", CP_INT_GE }, { "-eq", CP_INT_EQ }, { "-ne", CP_INT_EQ },
    };
    for (size_t i = 0; i < RL_NELEMS(ops); i++) {
        if (strncmp(*pat, ops[i].op, 3) == 0) {
            c->type = ops[i].t;
            if (i == 5)   /* -ne is !-eq */
                c->flags ^= CF_NOTMATCH;
            *pat += 3;
            return true;
        }
    }
    return false;
}

/* The operator at the start of CondPattern <a2> (after '!'), as Apache
 * reads it. Returns NULL or an error. */
static const char *cond_type(rl_rewrite_cond_t *c, const char **pat)
{
    const char *a2 = *pat;
    if (a2[0] == '-' && a2[1] && !a2[2]) {
        switch (a2[1]) {
        case 'f': c->type = CP_FILE; break;
        case 's': c->type = CP_SIZE; break;
        case 'd': c->type = CP_DIR; break;
        case 'x': c->type = CP_XBIT; break;
        case 'h': case 'L': case 'l': c->type = CP_LINK; break;
        case 'F': c->type = CP_LU_FILE; break;
        case 'U':
            return "-U (a sub-request for a URL) is not supported by relais";
        }
    } else if (a2[0] == '-' && a2[1] && a2[2] && a2[3]) {
        int_operator(c, pat);
    } else if (a2[0] && a2[1]) {
        switch (a2[0]) {
        case '>': c->type = a2[1] == '=' ? CP_STR_GE : CP_STR_GT; break;
        case '<': c->type = a2[1] == '=' ? CP_STR_LE : CP_STR_LT; break;
        case '=': c->type = CP_STR_EQ; break;
        default: return NULL;
        }
        *pat += (c->type == CP_STR_GE || c->type == CP_STR_LE) ? 2 : 1;
        if (c->type == CP_STR_EQ && strcmp(*pat, "\"\"") == 0)
            *pat += 2;   /* ="" is the empty string */
    }
    return NULL;
}

static void item_add(rl_arena_t *a, item_t **list, const char *data)
{
    item_t *x = rl_arena_calloc(a, sizeof(*x));
    x->data = data;
    while (*list)
        list = &(*list)->next;
    *list = x;
}

static bool is(const char *key, const char *shortname, const char *longname)
{
    return strcasecmp(key, shortname) == 0 || strcasecmp(key, longname) == 0;
}

/* R=code: Apache takes any status it knows; a non-3xx one is answered
 * as such. Returns NULL or an error. */
static const char *redirect_flag(rl_arena_t *a, rl_rewrite_rule_t *r, const char *val)
{
    r->flags |= RF_REDIRECT;
    if (*val == '\0')
        return NULL;
    if (strcasecmp(val, "permanent") == 0)
        r->status = 301;
    else if (strcasecmp(val, "temp") == 0)
        r->status = 302;
    else if (strcasecmp(val, "seeother") == 0)
        r->status = 303;
    else if (isdigit((unsigned char)*val)) {
        r->status = atoi(val);
        if (r->status < 100 || r->status > 599)
            return rl_arena_printf(a, "invalid HTTP response code '%s' for flag 'R'", val);
        if (r->status < 300 || r->status > 399)
            r->flags |= RF_STATUS | RF_NOSUB;
    } else {
        r->status = 0;
    }
    return NULL;
}

static const char *rule_flag(rl_arena_t *a, void *entry, char *key, char *val)
{
    rl_rewrite_rule_t *r = entry;
    if (is(key, "B", "backrefescaping")) {
        r->flags |= RF_ESCAPEBACKREF;
        if (val && *val)
            r->escapes = val;
    } else if (is(key, "BNP", "backrefnoplus")) {
        r->flags |= RF_ESCAPENOPLUS;
    } else if (is(key, "C", "chain")) {
        r->flags |= RF_CHAIN;
    } else if (is(key, "CO", "cookie")) {
        item_add(a, &r->cookies, val);
    } else if (is(key, "DPI", "discardpath") || strcasecmp(key, "D") == 0) {
        r->flags |= RF_DISCARDPATHINFO;
    } else if (is(key, "E", "env")) {
        item_add(a, &r->env, val);
    } else if (strcasecmp(key, "END") == 0) {
        r->flags |= RF_END;
    } else if (is(key, "F", "forbidden")) {
        r->flags |= RF_STATUS | RF_NOSUB;
        r->status = 403;
    } else if (is(key, "G", "gone")) {
        r->flags |= RF_STATUS | RF_NOSUB;
        r->status = 410;
    } else if (is(key, "H", "handler")) {
        r->forced_handler = val;
    } else if (is(key, "L", "last")) {
        r->flags |= RF_LAST;
    } else if (is(key, "NE", "noescape")) {
        r->flags |= RF_NOESCAPE;
    } else if (is(key, "N", "next")) {
        r->flags |= RF_NEXT;
        if (val && *val)
            r->maxrounds = atoi(val);
    } else if (is(key, "NS", "nosubreq")) {
        r->flags |= RF_NOSUBREQ;
    } else if (is(key, "NC", "nocase")) {
        r->flags |= RF_NOCASE;
    } else if (is(key, "P", "proxy")) {
        r->flags |= RF_PROXY;
    } else if (is(key, "PT", "passthrough")) {
        r->flags |= RF_PASSTHROUGH;
    } else if (is(key, "QSA", "qsappend")) {
        r->flags |= RF_QSAPPEND;
    } else if (is(key, "QSD", "qsdiscard")) {
        r->flags |= RF_QSDISCARD;
    } else if (is(key, "QSL", "qslast")) {
        r->flags |= RF_QSLAST;
    } else if (is(key, "R", "redirect")) {
        return redirect_flag(a, r, val);
    } else if (is(key, "S", "skip")) {
        r->skip = atoi(val);
    } else if (is(key, "T", "type")) {
        r->forced_type = val;
    } else if (strcasecmp(key, "UnsafeAllow3F") == 0) {
        r->flags |= RF_UNSAFE_ALLOW3F;
    } else if (strcasecmp(key, "UnsafePrefixStat") == 0) {
        r->flags |= RF_UNSAFE_PREFIX_STAT;
    } else {
        return rl_arena_printf(a, "unknown flag '%s'", key);
    }
    return NULL;
}

const char *rl_rewrite_cond_parse(rl_arena_t *a, const char *args, rl_rewrite_cond_t **out)
{
    char *str = rl_arena_strdup(a, args), *a1, *a2, *a3;
    if (!split_args(str, &a1, &a2, &a3))
        return rl_arena_printf(a, "bad argument line '%s'", args);
    rl_rewrite_cond_t *c = rl_arena_calloc(a, sizeof(*c));
    c->input = a1;
    const char *err;
    if (a3 && (err = parse_flags(a, c, a3, cond_flag)))
        return err;
    const char *pat = a2;
    if (*pat == '!') {
        c->flags |= CF_NOTMATCH;
        pat++;
    }
    c->type = CP_REGEX;
    if (strcasecmp(a1, "expr") == 0)
        c->type = CP_EXPR;
    else if ((err = cond_type(c, &pat)))
        return err;
    if (c->type != CP_REGEX && (c->type < CP_STR_LT || c->type > CP_STR_GE))
        c->flags &= ~CF_NOCASE;   /* Apache warns (AH00665) and ignores it */
    c->pattern = pat;
    if (c->type == CP_REGEX && (c->re = compile(a, pat, c->flags & CF_NOCASE)) == NULL)
        return rl_arena_printf(a, "cannot compile regular expression '%s'", pat);
    if (c->type == CP_EXPR) {
        char e[512];
        if ((c->expr = rl_expr_compile(a, pat, e, sizeof(e))) == NULL)
            return rl_arena_printf(a, "cannot compile expression \"%s\": %s", pat, e);
    }
    *out = c;
    return NULL;
}

const char *rl_rewrite_rule_parse(rl_arena_t *a, const char *args, rl_rewrite_cond_t **conds,
                                  unsigned n, rl_rewrite_rule_t **out)
{
    char *str = rl_arena_strdup(a, args), *a1, *a2, *a3;
    if (!split_args(str, &a1, &a2, &a3))
        return rl_arena_printf(a, "bad argument line '%s'", args);
    rl_rewrite_rule_t *r = rl_arena_calloc(a, sizeof(*r));
    r->status = 302;
    r->maxrounds = MAX_ROUNDS;
    const char *err;
    if (a3 && (err = parse_flags(a, r, a3, rule_flag)))
        return err;
    if (*a1 == '!') {
        r->flags |= RF_NOTMATCH;
        a1++;
    }
    if ((r->re = compile(a, a1, r->flags & RF_NOCASE)) == NULL)
        return rl_arena_printf(a, "cannot compile regular expression '%s'", a1);
    r->pattern = a1;
    r->output = a2;
    if (strcmp(a2, "-") == 0)
        r->flags |= RF_NOSUB;
    r->conds = conds;
    r->nconds = n;
    *out = r;
    return NULL;
}

/* ---- RewriteMap ---- */

static char *map_tolower(rl_arena_t *a, const char *key)
{
    char *s = rl_arena_strdup(a, key);
    for (char *c = s; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return s;
}

static char *map_toupper(rl_arena_t *a, const char *key)
{
    char *s = rl_arena_strdup(a, key);
    for (char *c = s; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return s;
}

static char *map_escape(rl_arena_t *a, const char *key)
{
    return rl_rewrite_escape(a, key);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

static char *map_unescape(rl_arena_t *a, const char *key)
{
    char *s = rl_arena_strdup(a, key), *o = s;
    for (const char *c = key; *c; c++) {
        int h, l;
        if (*c == '%' && (h = hexval((unsigned char)c[1])) >= 0 &&
            (l = hexval((unsigned char)c[2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            c += 2;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return s;
}

static void map_data_free(void *data);

const char *rl_rewrite_map_parse(rl_arena_t *a, const char *name, const char *spec,
                                 const char *root, rl_rewrite_map_t **out)
{
    static const struct { const char *name; char *(*f)(rl_arena_t *, const char *); } ints[] = {
        { "tolower", map_tolower }, { "toupper", map_toupper },
        { "escape", map_escape }, { "unescape", map_unescape },
    };
    rl_rewrite_map_t *m = rl_arena_calloc(a, sizeof(*m));
    m->name = rl_arena_strdup(a, name);
    if (strncasecmp(spec, "int:", 4) == 0) {
        m->type = RL_REWRITE_MAP_INT;
        for (size_t i = 0; i < RL_NELEMS(ints); i++)
            if (strcmp(spec + 4, ints[i].name) == 0)
                m->func = ints[i].f;
        if (m->func == NULL)
            return rl_arena_printf(a, "internal map not found:%s", spec + 4);
    } else if (strncasecmp(spec, "prg:", 4) == 0 || strncasecmp(spec, "dbm", 3) == 0 ||
               strncasecmp(spec, "dbd:", 4) == 0 || strncasecmp(spec, "fastdbd:", 8) == 0) {
        return rl_arena_printf(a, "map type of '%s' is not supported by relais (txt:, rnd: "
                               "and int: are)", spec);
    } else {
        bool rnd = strncasecmp(spec, "rnd:", 4) == 0;
        const char *f = strncasecmp(spec, "txt:", 4) == 0 || rnd ? spec + 4 : spec;
        m->type = rnd ? RL_REWRITE_MAP_RND : RL_REWRITE_MAP_TXT;
        m->file = f[0] == '/' || root == NULL ? rl_arena_strdup(a, f)
                                              : rl_arena_printf(a, "%s/%s", root, f);
        struct stat st;
        if (stat(m->file, &st) != 0)
            return rl_arena_printf(a, "file for map %s not found:%s", m->name, m->file);
        rl_arena_on_cleanup(a, map_data_free, m);
    }
    *out = m;
    return NULL;
}

static void map_data_free(void *data)
{
    rl_rewrite_map_t *m = data;
    if (m->data)
        rl_arena_destroy(m->data);
    m->data = NULL;
}

static int entry_cmp(const void *a, const void *b)
{
    const map_entry_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x < y ? -1 : x > y);
}

/* Reads a txt: map: "key value" lines, '#' or a blank in front for a
 * comment, the first line of a key counts. */
static void map_load(rl_rewrite_map_t *m, FILE *f)
{
    rl_arena_t *a = rl_arena_create(16 * 1024);
    size_t cap = 64, n = 0;
    map_entry_t *v = rl_xmalloc(cap * sizeof(*v));
    char line[1025];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || isspace((unsigned char)line[0]))
            continue;
        char *k = line, *e = k;
        while (*e && !isspace((unsigned char)*e))
            e++;
        char *val = e;
        while (isspace((unsigned char)*val))
            val++;
        char *ve = val;
        while (*ve && !isspace((unsigned char)*ve))
            ve++;
        if (val == ve)
            continue;
        if (n == cap)
            v = rl_xrealloc(v, (cap *= 2) * sizeof(*v));
        v[n].key = rl_arena_strndup(a, k, (size_t)(e - k));
        v[n++].value = rl_arena_strndup(a, val, (size_t)(ve - val));
    }
    qsort(v, n, sizeof(*v), entry_cmp);   /* ties keep file order (address) */
    m->entries = rl_arena_alloc(a, sizeof(*v) * (n ? n : 1));
    memcpy(m->entries, v, sizeof(*v) * n);
    free(v);
    map_data_free(m);
    m->data = a;
    m->nentries = n;
}

static const char *map_file_lookup(rl_request_t *r, rl_rewrite_map_t *m, const char *key)
{
    struct stat st;
    if (stat(m->file, &st) != 0) {
        rl_req_log(r, RL_LOG_ERR, "rewrite", "AH00661: mod_rewrite: can't access text "
                   "RewriteMap file %s", m->file);
        return NULL;
    }
    if (m->data == NULL || st.st_mtim.tv_sec != m->mtime.tv_sec ||
        st.st_mtim.tv_nsec != m->mtime.tv_nsec) {
        FILE *f = fopen(m->file, "r");
        if (f == NULL) {
            rl_req_log(r, RL_LOG_ERR, "rewrite", "AH00655: mod_rewrite: can't open text "
                       "RewriteMap file %s", m->file);
            return NULL;
        }
        map_load(m, f);
        fclose(f);
        m->mtime = st.st_mtim;
    }
    size_t lo = 0, hi = m->nentries;
    while (lo < hi) {   /* the first entry not below <key> */
        size_t mid = (lo + hi) / 2;
        if (strcmp(m->entries[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nentries && strcmp(m->entries[lo].key, key) == 0 ? m->entries[lo].value : NULL;
}

/* rnd: one of the values separated by '|', at random. */
static const char *pick_random(rl_request_t *r, const char *v)
{
    unsigned n = 1;
    for (const char *c = v; (c = strchr(c, '|')); c++)
        n++;
    unsigned k = (unsigned)random() % n;
    while (k-- > 0)
        v = strchr(v, '|') + 1;
    return rl_arena_strndup(r->arena, v, strcspn(v, "|"));
}

static const char *lookup_map(rl_rewrite_ctx_t *c, const char *name, const char *key)
{
    rl_request_t *r = c->r;
    rl_rewrite_map_t *m = (rl_rewrite_map_t *)c->maps;
    while (m && strcmp(m->name, name) != 0)
        m = m->next;
    if (m == NULL)
        return NULL;
    if (m->type == RL_REWRITE_MAP_INT)
        return m->func(r->arena, key);
    const char *v = map_file_lookup(r, m, key);
    if (v && m->type == RL_REWRITE_MAP_RND)
        v = pick_random(r, v);
    return v && *v ? v : NULL;
}

/* ---- matching ---- */

/* Runs <re> on <s>; the groups go to <br> (when not NULL) as Apache's
 * ap_regexec gives them: -1 for a group that did not take part. */
static bool re_exec(const pcre2_code *re, const char *s, rl_rewrite_backref_t *br)
{
    static pcre2_match_data *md;   /* one per worker process (one thread) */
    if (md == NULL && (md = pcre2_match_data_create(NMATCH, NULL)) == NULL)
        return false;
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    if (rc >= 0 && br) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t n = pcre2_get_ovector_count(md);
        br->src = s;
        for (uint32_t i = 0; i < NMATCH; i++) {
            bool set = i < n && ov[2 * i] != PCRE2_UNSET;
            br->so[i] = set ? (int)ov[2 * i] : -1;
            br->eo[i] = set ? (int)ov[2 * i + 1] : -1;
        }
    }
    return rc >= 0;
}

/* ---- variables ---- */

/* A request header; one that decided a condition goes into Vary (not Host,
 * RFC 7231 7.1.4). */
static const char *header(rl_rewrite_ctx_t *c, const char *name)
{
    const char *v = rl_req_header(c->r, name);
    if (v && strcasecmp(name, "Host") != 0)
        c->vary_this = c->vary_this ? rl_arena_printf(c->r->arena, "%s, %s", c->vary_this, name)
                                    : name;
    return v;
}


const char *rl_rewrite_docroot(const rl_request_t *r)
{
    return r->server->document_root ? r->server->document_root : "/var/www/html";
}

static const char *owner(rl_request_t *r, bool group)
{
    if (!r->finfo_ok)
        return "<unknown>";
    if (group) {
        struct group *g = getgrgid(r->finfo.st_gid);
        return g ? rl_arena_strdup(r->arena, g->gr_name) : "<unknown>";
    }
    struct passwd *pw = getpwuid(r->finfo.st_uid);
    return pw ? rl_arena_strdup(r->arena, pw->pw_name) : "<unknown>";
}

/* The variables mod_rewrite knows by name (upper case); NULL when unset. */
static const char *named_var(rl_rewrite_ctx_t *c, const char *v)
{
    static const struct { const char *var, *hdr; } hdrs[] = {
        { "HTTP_HOST", "Host" }, { "HTTP_ACCEPT", "Accept" }, { "HTTP_COOKIE", "Cookie" },
        { "HTTP_REFERER", "Referer" }, { "HTTP_USER_AGENT", "User-Agent" },
        { "HTTP_FORWARDED", "Forwarded" }, { "HTTP_PROXY_CONNECTION", "Proxy-Connection" },
    };
    rl_request_t *r = c->r;
    for (size_t i = 0; i < RL_NELEMS(hdrs); i++)
        if (strcmp(v, hdrs[i].var) == 0)
            return header(c, hdrs[i].hdr);
    if (strcmp(v, "HTTPS") == 0) return "off";
    if (strcmp(v, "IS_SUBREQ") == 0) return "false";
    if (strcmp(v, "SERVER_NAME") == 0) return rl_req_url_host(r);
    if (strcmp(v, "SERVER_PORT") == 0) return rl_arena_printf(r->arena, "%d", rl_req_url_port(r));
    if (strcmp(v, "DOCUMENT_ROOT") == 0) return rl_rewrite_docroot(r);
    if (strcmp(v, "REMOTE_HOST") == 0 || strcmp(v, "CONN_REMOTE_ADDR") == 0)
        return rl_req_var(r, "REMOTE_ADDR");
    if (strcmp(v, "SCRIPT_USER") == 0) return owner(r, false);
    if (strcmp(v, "SCRIPT_GROUP") == 0) return owner(r, true);
    if (strcmp(v, "SERVER_SOFTWARE") == 0) return r->cf->server_banner;
    static const char *const plain[] = {
        "TIME", "TIME_YEAR", "TIME_MON", "TIME_DAY", "TIME_HOUR", "TIME_MIN", "TIME_SEC",
        "TIME_WDAY", "IPV6", "PATH_INFO", "REMOTE_ADDR", "REMOTE_PORT", "SERVER_ADDR",
        "THE_REQUEST", "REQUEST_URI", "QUERY_STRING", "SERVER_ADMIN", "CONTEXT_PREFIX",
        "REQUEST_METHOD", "REQUEST_SCHEME", "SCRIPT_FILENAME", "REQUEST_FILENAME",
        "SERVER_PROTOCOL", "CONTEXT_DOCUMENT_ROOT",
    };
    for (size_t i = 0; i < RL_NELEMS(plain); i++)
        if (strcmp(v, plain[i]) == 0)
            return rl_req_var(r, v);
    return NULL;   /* AUTH_TYPE, REMOTE_USER, REMOTE_IDENT: no authentication here */
}

/* %{NAME}: Apache's lookup_variable. Never NULL. */
static const char *lookup_var(rl_rewrite_ctx_t *c, char *v)
{
    rl_request_t *r = c->r;
    size_t n = strlen(v);
    const char *res = NULL;
    if (n < 4)
        return "";
    if (v[3] == ':' && v[4] && strncasecmp(v, "ENV", 3) == 0) {
        res = rl_hdrs_get(&r->notes, v + 4);
        if (res == NULL)
            res = rl_hdrs_get(&r->env, v + 4);
        if (res == NULL)
            res = getenv(v + 4);
    } else if (v[3] == ':') {
        res = NULL;   /* SSL: no mod_ssl */
    } else if (v[4] == ':' && v[5] && strncasecmp(v, "HTTP", 4) == 0) {
        res = header(c, v + 5);
    } else if (v[4] == ':' && v[5] && (strncasecmp(v, "LA-U", 4) == 0 ||
                                       strncasecmp(v, "LA-F", 4) == 0)) {
        res = lookup_var(c, v + 5);   /* no look-ahead sub-request: this request's */
    } else if (v[4] != ':') {
        for (char *s = v; *s; s++)
            *s = (char)toupper((unsigned char)*s);
        res = named_var(c, v);
    }
    return res ? res : "";
}

/* ---- expansion ---- */

static const char *closing_curly(const char *s)
{
    for (unsigned depth = 1; *s; s++) {
        if (*s == '}' && --depth == 0)
            return s;
        if (*s == '{')
            depth++;
    }
    return NULL;
}

/* The first <ch> at the top level of the braces <s> is in, or NULL. */
static const char *char_in_curlies(const char *s, int ch)
{
    for (unsigned depth = 1; *s; s++) {
        if (*s == ch && depth == 1)
            return s;
        if (*s == '}' && --depth == 0)
            return NULL;
        if (*s == '{')
            depth++;
    }
    return NULL;
}

/* [B]: escapes a back-reference as PHP's urlencode does (or only the
 * characters of B=chars). */
static void escape_backref(rl_buf_t *b, const char *s, size_t len, const char *only, bool noplus)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool esc = only ? (ch && strchr(only, ch) != NULL) : !(isalnum(ch) || ch == '_');
        if (!esc) {
            rl_buf_append(b, &s[i], 1);
        } else if (ch == ' ' && !noplus) {
            rl_buf_append(b, "+", 1);
        } else {
            char x[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            rl_buf_append(b, x, 3);
        }
    }
}

static char *expand(rl_rewrite_ctx_t *c, const char *in, const rl_rewrite_rule_t *rule);

/* Appends <s>[0..<n>) to <b>, noting where the '?' of a substitution come
 * from: Apache 2.4.60+ refuses a query split off at a '?' that an
 * expansion brought in (CVE-2024-38474) unless [UnsafeAllow3F]. */
static void put(rl_rewrite_ctx_t *c, rl_buf_t *b, const char *s, size_t n, bool expanded)
{
    rl_buf_append(b, s, n);
    if (c->track && memchr(s, '?', n)) {
        if (!c->qfirst)
            c->qfirst = expanded ? 'x' : 'l';
        c->qlast = expanded ? 'x' : 'l';
    }
}

/* ${map:key|default} at <p> (ending at <end>), appended to <b>. */
static void expand_map(rl_rewrite_ctx_t *c, rl_buf_t *b, const char *p, const char *end,
                       const rl_rewrite_rule_t *rule)
{
    char *map = rl_arena_strndup(c->r->arena, p + 2, (size_t)(end - p - 2));
    char *key = map + (char_in_curlies(map, ':') - map);
    *key++ = '\0';
    const char *bar = char_in_curlies(key, '|');
    char *dflt = bar ? key + (bar - key) : NULL;
    if (dflt)
        *dflt++ = '\0';
    bool track = c->track;
    c->track = false;
    const char *v = lookup_map(c, map, expand(c, key, rule));
    if (v == NULL && dflt && *dflt)
        v = expand(c, dflt, rule);
    c->track = track;
    if (v)
        put(c, b, v, strlen(v), true);
}

static void expand_backref(rl_rewrite_ctx_t *c, rl_buf_t *b, const rl_rewrite_backref_t *br,
                           int n, const rl_rewrite_rule_t *rule)
{
    if (br->src == NULL || br->eo[n] <= br->so[n])
        return;
    const char *s = br->src + br->so[n];
    size_t len = (size_t)(br->eo[n] - br->so[n]);
    if (rule && (rule->flags & RF_ESCAPEBACKREF))
        escape_backref(b, s, len, rule->escapes, rule->flags & RF_ESCAPENOPLUS);
    else
        put(c, b, s, len, true);
}

/* Apache's do_expand: \x, %{VAR}, ${map:key|default}, $N and %N, in one
 * pass (what a variable brings in is not expanded again). */
static char *expand(rl_rewrite_ctx_t *c, const char *in, const rl_rewrite_rule_t *rule)
{
    rl_buf_t b = RL_BUF_INIT;
    const char *p = in;
    while (*p) {
        size_t span = strcspn(p, "\\$%");
        put(c, &b, p, span, false);
        p += span;
        if (*p == '\0')
            break;
        const char *end;
        if (*p == '\\') {
            put(c, &b, p[1] ? p + 1 : p, 1, false);
            p += p[1] ? 2 : 1;
        } else if (p[1] == '{' && (end = closing_curly(p + 2)) != NULL) {
            if (*p == '%') {
                const char *v = lookup_var(c, rl_arena_strndup(c->r->arena, p + 2,
                                                               (size_t)(end - p - 2)));
                put(c, &b, v, strlen(v), true);
            } else if (char_in_curlies(p + 2, ':'))
                expand_map(c, &b, p, end, rule);
            else {
                rl_buf_append(&b, p, 2);
                p += 2;
                continue;
            }
            p = end + 1;
        } else if (p[1] == '{') {
            rl_buf_append(&b, p, 2);
            p += 2;
        } else if (isdigit((unsigned char)p[1])) {
            expand_backref(c, &b, *p == '$' ? &c->rr : &c->rc, p[1] - '0', rule);
            p += 2;
        } else {
            put(c, &b, p++, 1, false);
        }
    }
    char *out = rl_arena_strndup(c->r->arena, b.data ? b.data : "", b.len);
    rl_buf_release(&b);
    return out;
}

/* [E=name:value], [E=!name] */
static void expand_env(rl_rewrite_ctx_t *c, const item_t *e)
{
    for (; e; e = e->next) {
        char *name = expand(c, e->data, NULL);
        if (*name == '!') {
            rl_hdrs_unset(&c->r->env, name + 1);
            continue;
        }
        char *val = strchr(name, ':');
        if (val)
            *val++ = '\0';
        rl_hdrs_set(c->r->arena, &c->r->env, name, val ? val : "");
    }
}

/* [CO=name:value:domain[:lifetime[:path[:secure[:httponly[:samesite]]]]]]
 * (";" as the separator when the value starts with one); once per name
 * and request. */
static void add_cookie(rl_request_t *r, char *s)
{
    const char *sep = ":";
    if (*s == ';') {
        sep = ";";
        s++;
    }
    char *save, *f[8] = { 0 };
    f[0] = strtok_r(s, sep, &save);
    for (int i = 1; i < 8 && f[i - 1]; i++)
        f[i] = strtok_r(NULL, sep, &save);
    if (!f[0] || !f[1] || !f[2])
        return;
    size_t nlen = strlen(f[0]);
    for (rl_hdr_t *h = r->err_out.head; h; h = h->next)
        if (strcasecmp(h->name, "Set-Cookie") == 0 && strncmp(h->value, f[0], nlen) == 0 &&
            h->value[nlen] == '=')
            return;
    rl_buf_t b = RL_BUF_INIT;
    rl_buf_appendf(&b, "%s=%s; path=%s; domain=%s", f[0], f[1], f[4] ? f[4] : "/", f[2]);
    long mins = f[3] ? atol(f[3]) : 0;
    if (mins) {
        static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char *mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec" };
        time_t t = r->start.tv_sec + 60 * mins;
        struct tm tm;
        gmtime_r(&t, &tm);
        rl_buf_appendf(&b, "; expires=%s, %.2d-%s-%.4d %.2d:%.2d:%.2d GMT", days[tm.tm_wday],
                       tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
    }
    if (f[5] && (!strcasecmp(f[5], "true") || !strcmp(f[5], "1") || !strcasecmp(f[5], "secure")))
        rl_buf_append_c(&b, "; secure");
    if (f[6] && (!strcasecmp(f[6], "true") || !strcmp(f[6], "1") ||
                 !strcasecmp(f[6], "HttpOnly")))
        rl_buf_append_c(&b, "; HttpOnly");
    if (f[7] && strcmp(f[7], "0") && strcasecmp(f[7], "false"))
        rl_buf_appendf(&b, "; SameSite=%s", f[7]);
    rl_hdrs_add(r->arena, &r->err_out, "Set-Cookie", rl_arena_strndup(r->arena, b.data, b.len));
    rl_buf_release(&b);
}

/* ---- conditions ---- */

static bool stat_is(const char *path, mode_t type, bool nonempty)
{
    struct stat st;
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type && (!nonempty || st.st_size > 0);
}

/* Apache's compare_lexicography: the longer string is the greater. */
static int compare_lex(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la > lb ? 1 : -1;
    int c = memcmp(a, b, la);
    return c > 0 ? 1 : c < 0 ? -1 : 0;
}

static int str_cmp(const rl_rewrite_cond_t *p, const char *input)
{
    int c = (p->flags & CF_NOCASE) ? strcasecmp(input, p->pattern) : compare_lex(input, p->pattern);
    return c > 0 ? 1 : c < 0 ? -1 : 0;
}

static bool cond_test(rl_rewrite_ctx_t *c, const rl_rewrite_cond_t *p, const char *in)
{
    struct stat st;
    switch (p->type) {
    case CP_FILE: return stat_is(in, S_IFREG, false);
    case CP_SIZE: return stat_is(in, S_IFREG, true);
    case CP_DIR: return stat_is(in, S_IFDIR, false);
    case CP_LINK: return lstat(in, &st) == 0 && S_ISLNK(st.st_mode);
    case CP_XBIT: return stat(in, &st) == 0 && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
    case CP_LU_FILE: return *in && stat(in, &st) == 0;
    case CP_STR_LT: return str_cmp(p, in) < 0;
    case CP_STR_LE: return str_cmp(p, in) <= 0;
    case CP_STR_EQ: return (p->flags & CF_NOCASE) ? !strcasecmp(in, p->pattern)
                                                  : !strcmp(in, p->pattern);
    case CP_STR_GT: return str_cmp(p, in) > 0;
    case CP_STR_GE: return str_cmp(p, in) >= 0;
    case CP_INT_LT: return atoi(in) < atoi(p->pattern);
    case CP_INT_LE: return atoi(in) <= atoi(p->pattern);
    case CP_INT_EQ: return atoi(in) == atoi(p->pattern);
    case CP_INT_GT: return atoi(in) > atoi(p->pattern);
    case CP_INT_GE: return atoi(in) >= atoi(p->pattern);
    case CP_EXPR: return rl_req_expr(c->r, p->expr) == 1;
    case CP_REGEX: {
        rl_rewrite_backref_t br;
        bool m = re_exec(p->re, in, &br);
        if (m && !(p->flags & CF_NOTMATCH))
            c->rc = br;
        return m;
    }
    }
    return false;
}

static bool cond_apply(rl_rewrite_ctx_t *c, const rl_rewrite_cond_t *p)
{
    const char *in = p->type == CP_EXPR ? "" : expand(c, p->input, NULL);
    bool m = cond_test(c, p, in);
    if (p->flags & CF_NOTMATCH)
        m = !m;
    rl_req_log(c->r, RL_LOG_TRACE4, "rewrite", "RewriteCond: input='%s' pattern='%s'%s => %s",
               in, p->pattern, (p->flags & CF_NOCASE) ? " [NC]" : "",
               m ? "matched" : "not-matched");
    return m;
}

/* The conditions of a rule, with [OR] chains. */
static bool conds_pass(rl_rewrite_ctx_t *c, const rl_rewrite_rule_t *p)
{
    for (unsigned i = 0; i < p->nconds; i++) {
        const rl_rewrite_cond_t *x = p->conds[i];
        bool m = cond_apply(c, x);
        if (x->flags & CF_NOVARY)
            c->vary_this = NULL;
        if (x->flags & CF_ORNEXT) {
            if (!m) {
                c->vary_this = NULL;
                continue;
            }
            while (i < p->nconds && (p->conds[i]->flags & CF_ORNEXT))
                i++;
        } else if (!m) {
            return false;
        }
        if (c->vary_this) {
            c->vary = c->vary ? rl_arena_printf(c->r->arena, "%s, %s", c->vary, c->vary_this)
                              : c->vary_this;
            c->vary_this = NULL;
        }
    }
    return true;
}

/* ---- URLs ---- */

/* The length of "scheme://" (or "mailto:" ...) when <u> is an absolute
 * URI, else 0; *<qs>: whether the scheme takes a query string. */
size_t rl_rewrite_absolute(const char *u, bool *qs)
{
    static const struct { const char *s; bool qs; } schemes[] = {
        { "ajp://", true }, { "balancer://", true }, { "ftp://", false }, { "fcgi://", true },
        { "gopher://", false }, { "http://", true }, { "https://", true }, { "h2://", true },
        { "h2c://", true }, { "ldap://", false }, { "mailto:", true }, { "news:", false },
        { "nntp://", false }, { "scgi://", true }, { "ws://", true }, { "wss://", true },
    };
    if (qs)
        *qs = false;
    if (*u == '/' || strlen(u) <= 5)
        return 0;
    for (size_t i = 0; i < RL_NELEMS(schemes); i++) {
        size_t n = strlen(schemes[i].s);
        if (strncasecmp(u, schemes[i].s, n) == 0) {
            if (qs)
                *qs = schemes[i].qs;
            return n;
        }
    }
    return 0;
}

char *rl_rewrite_escape(rl_arena_t *a, const char *s)
{
    static const char hex[] = "0123456789abcdef";   /* Apache's c2x: lower case */
    char *o = rl_arena_alloc(a, 3 * strlen(s) + 1), *d = o;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (isalnum(*c) || strchr("$-_.+!*'(),:;@&=/~", *c)) {
            *d++ = (char)*c;
        } else {
            *d++ = '%';
            *d++ = hex[*c >> 4];
            *d++ = hex[*c & 15];
        }
    }
    *d = '\0';
    return o;
}

/* Escapes the path of an absolute URL for a redirect (not the host part);
 * ldap's '?' separators stay. */
const char *rl_rewrite_escape_absolute(rl_arena_t *a, const char *u, size_t scheme)
{
    const char *cp = u + scheme;
    if (cp[-1] == '/') {
        while (*cp && *cp != '/')
            cp++;
        if (*cp == '\0' || *++cp == '\0')
            return u;
        if (strncasecmp(u, "ldap", 4) == 0) {
            rl_buf_t b = RL_BUF_INIT;
            rl_buf_append(&b, u, (size_t)(cp - u));
            for (int n = 0; *cp; n++) {
                size_t len = n < 4 ? strcspn(cp, "?") : strlen(cp);
                rl_buf_append_c(&b, rl_rewrite_escape(a, rl_arena_strndup(a, cp, len)));
                cp += len;
                if (*cp == '?')
                    rl_buf_append(&b, cp++, 1);
            }
            char *out = rl_arena_strndup(a, b.data, b.len);
            rl_buf_release(&b);
            return out;
        }
    }
    return rl_arena_printf(a, "%.*s%s", (int)(cp - u), u, rl_rewrite_escape(a, cp));
}

/* Moves a query in the new r->filename to r->args: [QSA] keeps the old
 * one after it, [QSD] drops it, [QSL] splits at the last '?'. */
static void split_query(rl_request_t *r, unsigned flags)
{
    bool qs;
    if (rl_rewrite_absolute(r->filename, &qs) && !qs) {
        r->args = NULL;
        return;
    }
    if (flags & RF_QSDISCARD)
        r->args = NULL;
    char *f = rl_arena_strdup(r->arena, r->filename);
    char *q = (flags & RF_QSLAST) ? strrchr(f, '?') : strchr(f, '?');
    if (q == NULL)
        return;
    *q++ = '\0';
    r->filename = f;
    if (!(flags & RF_QSAPPEND))
        r->args = q;
    else if (*q)
        r->args = r->args ? rl_arena_printf(r->arena, "%s&%s", q, r->args) : q;
    if (r->args) {
        size_t n = strlen(r->args);
        if (n == 0)
            r->args = NULL;
        else if (r->args[n - 1] == '&')
            r->args = rl_arena_strndup(r->arena, r->args, n - 1);
    }
}

/* Does host:port name this virtual host (Apache's ap_matches_request_vhost)? */
static bool is_this_vhost(rl_request_t *r, const char *host, int port)
{
    const rl_server_t *s = r->server;
    if (port != s->port)
        return false;
    if (s->hostname && strcasecmp(host, s->hostname) == 0)
        return true;
    for (unsigned i = 0; i < s->naliases; i++)
        if (fnmatch(s->aliases[i], host, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* "http://thishost[:port]/path" -> "/path" (Apache's reduce_uri); a
 * reduced URI is mapped under DocumentRoot whatever exists on disk. */
static bool reduce_uri(rl_request_t *r)
{
    const char *f = r->filename;
    if (strlen(f) <= 7 || strncasecmp(f, "http://", 7) != 0)
        return false;
    const char *host = f + 7, *e = host;
    while (*e && *e != '/' && *e != ':')
        e++;
    int port = 80;
    const char *url = e;
    if (*e == ':') {
        port = atoi(e + 1);
        url = e + 1 + strcspn(e + 1, "/");
    }
    if (!is_this_vhost(r, rl_arena_strndup(r->arena, host, (size_t)(e - host)), port))
        return false;
    r->filename = *url ? rl_arena_strdup(r->arena, url) : "/";
    return true;
}

/* <in> with the prefix <match> replaced by <subst> (RewriteBase), or <in>
 * when it does not start with it. */
const char *rl_rewrite_subst_prefix(rl_arena_t *a, const char *in, const char *match,
                                    const char *subst)
{
    size_t len = strlen(match);
    if (len && match[len - 1] == '/')
        len--;
    if (strncmp(in, match, len) != 0 || in[len] != '/')
        return in;
    size_t slen = strlen(subst);
    bool slash = slen && subst[slen - 1] == '/';
    return rl_arena_printf(a, "%s%s%s", subst, slen && !slash ? "/" : "", in + len + 1);
}

/* <root> joined with <path>, runs of '/' merged, "." and ".." resolved
 * (a trailing '/' kept), as apr_filepath_merge does. NULL when ".." would
 * climb above <root> (Apache's APR_FILEPATH_SECUREROOT). */
const char *rl_rewrite_join(rl_arena_t *a, const char *root, const char *path)
{
    rl_buf_t b = RL_BUF_INIT;
    rl_buf_append_c(&b, strcmp(root, "/") ? root : "");
    size_t base = b.len;
    bool ok = true;
    for (const char *p = path; *p && ok;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            ok = b.len > base;
            while (b.len > base && b.data[b.len - 1] != '/')
                b.len--;
            if (b.len > base)
                b.len--;
        } else if (n && !(n == 1 && p[0] == '.')) {
            rl_buf_append(&b, "/", 1);
            rl_buf_append(&b, p, n);
        }
        p += n;
        if (*p == '\0' && p > path && p[-1] == '/')
            rl_buf_append(&b, "/", 1);
    }
    const char *out = !ok ? NULL : b.len ? rl_arena_strndup(a, b.data, b.len) : "/";
    rl_buf_release(&b);
    return out;
}

/* ---- rules ---- */

/* Requests that met an [END] rule. Apache marks the request's pool, which
 * an internal redirect keeps; relais empties the notes then, so the mark
 * lives here until the request's arena is emptied: as many as requests in
 * flight in the worker (which has one thread). */
static const rl_request_t **ended;
static unsigned nended, ended_cap;

static void unmark_end(void *data)
{
    for (unsigned i = 0; i < nended; i++) {
        if (ended[i] == data) {
            ended[i] = ended[--nended];
            return;
        }
    }
}

bool rl_rewrite_ended(const rl_request_t *r)
{
    for (unsigned i = 0; i < nended; i++)
        if (ended[i] == r)
            return true;
    return false;
}

static void mark_end(rl_request_t *r)
{
    if (rl_rewrite_ended(r))
        return;
    if (nended == ended_cap) {
        ended_cap = ended_cap ? 2 * ended_cap : 16;
        ended = rl_xrealloc(ended, ended_cap * sizeof(*ended));
    }
    ended[nended++] = r;
    rl_arena_on_cleanup(r->arena, unmark_end, r);
}

/* [T=] and [H=] are remembered in notes and applied in the fixups, after
 * mod_mime (Apache's hook_mimetype). */
static void remember_type(rl_rewrite_ctx_t *c, const rl_rewrite_rule_t *p)
{
    const char *what[2] = { p->forced_type, p->forced_handler };
    const char *note[2] = { RL_REWRITE_NOTE_TYPE, RL_REWRITE_NOTE_HANDLER };
    for (int i = 0; i < 2; i++) {
        if (what[i] == NULL)
            continue;
        char *e = expand(c, what[i], p);
        for (char *s = e; *s; s++)
            *s = (char)tolower((unsigned char)*s);
        if (*e)
            rl_hdrs_set(c->r->arena, &c->r->notes, note[i], e);
    }
}

/* "http://host[:port]" in front of a path (Apache's fully_qualify_uri). */
static void qualify(rl_request_t *r)
{
    if (r->method_id == RL_M_CONNECT || rl_rewrite_absolute(r->filename, NULL))
        return;
    const char *f = r->filename;
    r->filename = rl_req_self_url(r, f[0] == '/' ? f : rl_arena_printf(r->arena, "/%s", f));
}

/* What follows a substitution: the query split off, the section's
 * directory put back in front of a relative result, then [P], [R], a
 * URL of this server reduced to its path, or another server's URL. */
static int rule_result(rl_rewrite_ctx_t *c, const rl_rewrite_rule_t *p, char *newuri,
                       bool proxyreq)
{
    rl_request_t *r = c->r;
    r->filename = newuri;
    if (c->perdir && (p->flags & RF_DISCARDPATHINFO))
        r->path_info = NULL;
    split_query(r, p->flags);
    if (c->perdir && !proxyreq && *r->filename != '/' && !rl_rewrite_absolute(r->filename, NULL))
        r->filename = rl_arena_printf(r->arena, "%s%s", c->perdir, r->filename);
    if (p->flags & RF_PROXY) {
        if (c->perdir && !(p->flags & RF_NOESCAPE))
            r->filename = rl_rewrite_escape(r->arena, r->filename);
        qualify(r);
        r->filename = rl_arena_printf(r->arena, "proxy:%s", r->filename);
        return 1;
    }
    if (p->flags & RF_REDIRECT) {
        qualify(r);
        c->status = p->status;
        return 1;
    }
    if (reduce_uri(r))
        c->reduced = true;
    if (rl_rewrite_absolute(r->filename, NULL)) {
        c->status = p->status;
        return 1;
    }
    remember_type(c, p);
    return 1;
}

/* Apache's apply_rewrite_rule: 0 when the rule does not apply, 1 when it
 * rewrote r->filename, 2 when it matched without a substitution, 3 when
 * the request is refused (c->status). */
static int rule_apply(rl_rewrite_ctx_t *c, const rl_rewrite_rule_t *p)
{
    rl_request_t *r = c->r;
    bool proxyreq = false;
    c->uri = r->filename;
    if (c->perdir) {
        proxyreq = strncmp(r->filename, "proxy:", 6) == 0;
        if (r->path_info && *r->path_info)
            c->uri = rl_arena_printf(r->arena, "%s%s", c->uri, r->path_info);
        size_t dl = strlen(c->perdir);
        if (!proxyreq && strncmp(c->uri, c->perdir, dl) == 0)
            c->uri += dl;
    }
    rl_rewrite_backref_t br;
    bool m = re_exec(p->re, c->uri, &br);
    rl_req_log(r, RL_LOG_TRACE3, "rewrite", "%s%s%sapplying pattern '%s' to uri '%s'",
               c->perdir ? "[perdir " : "", c->perdir ? c->perdir : "", c->perdir ? "] " : "",
               p->pattern, c->uri);
    if (m == !!(p->flags & RF_NOTMATCH))
        return 0;
    c->vary_this = NULL;
    c->rc.src = NULL;
    c->rr = br;
    if (p->flags & RF_NOTMATCH)
        c->rr.src = NULL;
    if (!conds_pass(c, p))
        return 0;
    char *newuri = NULL;
    if (!(p->flags & RF_NOSUB)) {
        c->track = true;
        c->qfirst = c->qlast = 0;
        newuri = expand(c, p->output, p);
        c->track = false;
        if ((p->flags & RF_QSLAST ? c->qlast : c->qfirst) == 'x' &&
            !(p->flags & RF_UNSAFE_ALLOW3F)) {
            rl_req_log(r, RL_LOG_ERR, "rewrite", "AH10508: Unsafe URL with %%3f URL "
                       "rewritten without UnsafeAllow3F");
            c->status = 403;
            return 3;
        }
    }
    expand_env(c, p->env);
    for (const item_t *ck = p->cookies; ck; ck = ck->next)
        add_cookie(r, expand(c, ck->data, NULL));
    if (p->flags & RF_NOSUB) {
        remember_type(c, p);
        if (p->flags & RF_STATUS)
            c->status = p->status;
        return 2;
    }
    rl_req_log(r, RL_LOG_TRACE2, "rewrite", "rewrite '%s' -> '%s'", c->uri, newuri);
    c->unsafe_prefix = (p->output[0] == '$' || p->output[0] == '%') &&
                       !(p->flags & RF_UNSAFE_PREFIX_STAT);
    return rule_result(c, p, newuri, proxyreq);
}

/* Adds the header names of <v> ("A, B") to the response's Vary, each
 * once, joined with "," as Apache's fix_vary() sends them. */
void rl_rewrite_add_vary(rl_request_t *r, const char *v)
{
    const char *old = rl_hdrs_get(&r->out, "Vary");
    rl_buf_t b = RL_BUF_INIT;
    rl_buf_append_c(&b, old ? old : "");
    while (*v) {
        v += strspn(v, ", \t");
        size_t n = strcspn(v, ", \t");
        bool seen = false;
        for (size_t i = 0; i < b.len && !seen; i++) {   /* the names so far */
            size_t m = 0;
            while (i + m < b.len && b.data[i + m] != ',')
                m++;
            seen = m == n && strncasecmp(b.data + i, v, n) == 0;
            i += m;
        }
        if (n && !seen) {
            if (b.len)
                rl_buf_append(&b, ",", 1);
            rl_buf_append(&b, v, n);
        }
        v += n;
    }
    if (b.len)
        rl_hdrs_set(r->arena, &r->out, "Vary", rl_arena_strndup(r->arena, b.data, b.len));
    rl_buf_release(&b);
}

/* Apache's apply_rewrite_list: 0 (nothing rewritten), RL_REWRITE_NORMAL,
 * RL_REWRITE_NOESCAPE ([NE]) or RL_REWRITE_STATUS (answer with c->status). */
int rl_rewrite_apply(rl_rewrite_ctx_t *c, rl_rewrite_rule_t *const *rules, unsigned n)
{
    rl_request_t *r = c->r;
    int changed = 0, round = 1;
again:
    for (unsigned i = 0; i < n; i++) {
        const rl_rewrite_rule_t *p = rules[i];
        c->vary = NULL;
        int rc = rule_apply(c, p);
        if (rc == 3)
            return RL_REWRITE_STATUS;
        if (rc == 0) {
            while (i < n && (rules[i]->flags & RF_CHAIN))   /* the rest of its chain */
                i++;
            continue;
        }
        if (strlen(r->filename) > 2 * (size_t)r->server->limit_req_line) {
            rl_req_log(r, RL_LOG_ERR, "rewrite", "RewriteRule '%s' and URI '%s' exceeded "
                       "maximum length (%d)", p->pattern, r->uri, 2 * r->server->limit_req_line);
            c->status = 500;
            return RL_REWRITE_STATUS;
        }
        if (c->vary)
            rl_rewrite_add_vary(r, c->vary);
        if (p->flags & RF_STATUS)
            return RL_REWRITE_STATUS;
        if (rc != 2)
            changed = (p->flags & RF_NOESCAPE) ? RL_REWRITE_NOESCAPE : RL_REWRITE_NORMAL;
        if (p->flags & RF_PASSTHROUGH) {
            r->filename = rl_arena_printf(r->arena, "passthrough:%s", r->filename);
            return RL_REWRITE_NORMAL;
        }
        if (p->flags & RF_END) {
            mark_end(r);
            break;
        }
        if (p->flags & (RF_PROXY | RF_LAST))
            break;
        if (p->flags & RF_NEXT) {
            if (++round >= p->maxrounds) {
                rl_req_log(r, RL_LOG_ERR, "rewrite", "AH02596: RewriteRule '%s' and URI '%s' "
                           "exceeded maximum number of rounds (%d) via the [N] flag",
                           p->pattern, r->uri, p->maxrounds);
                c->status = 500;
                return RL_REWRITE_STATUS;
            }
            goto again;
        }
        for (int s = p->skip; i < n && s > 0; s--)
            i++;
    }
    return changed;
}
