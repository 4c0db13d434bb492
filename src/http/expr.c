/* ap_expr: Apache 2.4's expression language, compiled to a tree once and
 * evaluated per request.
 *
 * Apache builds it from a flex scanner and a bison LALR parser; the same
 * text must give the same result and, since a config that Apache refuses
 * should be refused with the same words, the same message. So:
 *  - the lexer follows the flex rules one by one (longest match, earlier
 *    rule on a tie: "m_a_" is a name, "m_" opens a regex; "\18" is a bad
 *    escape but "\12" is octal) with flex's start states as a small stack;
 *  - the parser is recursive descent, and raises its "syntax error,
 *    unexpected X, expecting Y" where bison would: bison takes its default
 *    reductions before it looks at a bad token, so errors surface only in
 *    states without a reduction, and the lists below are those states'.
 *    Bison lists at most four expected tokens, in symbol order (the enum).
 *  - like Apache, a lexer error is the token T_ERROR plus a second message;
 *    where the grammar accepts T_ERROR (the start of a condition or of a
 *    string) the parse stops with that message alone, elsewhere it is a
 *    syntax error followed by ": " and the message. Unknown variables and
 *    functions set the second message and let the parse go on.
 *
 * Chains (&&, ||, ".", string parts, -in lists) are linked lists walked in
 * loops, so only real nesting — parentheses, calls, %{...} — costs stack,
 * and that is bounded by RL_EXPR_MAX_DEPTH in the parser and the lexer. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "http/expr.h"

#define STR_MAX 8192   /* Apache's MAX_STRING_LEN: a string or regex is shorter */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_word(int c) { return is_alpha(c) || is_digit(c) || c == '_'; }
static bool is_xdigit(int c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int hexval(int c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

/* ---- tokens, in bison's symbol order ------------------------------------ */

enum {
    T_EOF, T_TRUE, T_FALSE, T_EXPR_BOOL, T_EXPR_STRING, T_ERROR, T_DIGIT, T_ID,
    T_STRING, T_REGEX, T_REGEX_I, T_REGEX_BACKREF, T_OP_UNARY, T_OP_BINARY,
    T_STR_BEGIN, T_STR_END, T_VAR_BEGIN, T_VAR_END,
    T_OP_EQ, T_OP_NE, T_OP_LT, T_OP_LE, T_OP_GT, T_OP_GE, T_OP_REG, T_OP_NRE,
    T_OP_IN, T_OP_STR_EQ, T_OP_STR_NE, T_OP_STR_LT, T_OP_STR_LE, T_OP_STR_GT,
    T_OP_STR_GE, T_OP_CONCAT, T_OP_OR, T_OP_AND, T_OP_NOT,
    T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_COMMA, T_COLON,
    T_COUNT
};

static const char *const tok_names[] = {
    "$end", "T_TRUE", "T_FALSE", "T_EXPR_BOOL", "T_EXPR_STRING", "T_ERROR",
    "T_DIGIT", "T_ID", "T_STRING", "T_REGEX", "T_REGEX_I", "T_REGEX_BACKREF",
    "T_OP_UNARY", "T_OP_BINARY", "T_STR_BEGIN", "T_STR_END", "T_VAR_BEGIN",
    "T_VAR_END", "T_OP_EQ", "T_OP_NE", "T_OP_LT", "T_OP_LE", "T_OP_GT",
    "T_OP_GE", "T_OP_REG", "T_OP_NRE", "T_OP_IN", "T_OP_STR_EQ", "T_OP_STR_NE",
    "T_OP_STR_LT", "T_OP_STR_LE", "T_OP_STR_GT", "T_OP_STR_GE", "T_OP_CONCAT",
    "T_OP_OR", "T_OP_AND", "T_OP_NOT", "'('", "')'", "'{'", "'}'", "','", "':'",
};
_Static_assert(RL_NELEMS(tok_names) == T_COUNT, "a name per token");

#define BIT(t) ((uint64_t)1 << (t))

static const struct { const char *word; int tok; } keywords[] = {
    { "and", T_OP_AND }, { "or", T_OP_OR }, { "not", T_OP_NOT },
    { "lt", T_OP_LT }, { "le", T_OP_LE }, { "gt", T_OP_GT }, { "ge", T_OP_GE },
    { "ne", T_OP_NE }, { "eq", T_OP_EQ }, { "in", T_OP_IN },
    { "true", T_TRUE }, { "false", T_FALSE },
};

static const struct { const char *word; int tok; } dash_ops[] = {
    { "in", T_OP_IN }, { "eq", T_OP_EQ }, { "ne", T_OP_NE }, { "ge", T_OP_GE },
    { "le", T_OP_LE }, { "gt", T_OP_GT }, { "lt", T_OP_LT },
};

/* ---- the tree ------------------------------------------------------------ */

enum {
    N_TRUE, N_FALSE, N_NOT, N_AND, N_OR,   /* conditions */
    N_CMP,       /* <op>: T_OP_EQ .. T_OP_STR_GE */
    N_REGEX,     /* a =~ data; neg: !~ */
    N_IN,        /* a -in b (a chain) */
    N_UNARY,     /* <op>: the operator's letter */
    N_BINARY,    /* <op>: B_*; a, b */
    W_STRING,    /* words: s */
    W_DIGIT,     /* s */
    W_VAR,       /* s: the canonical name */
    W_FUNC,      /* <op>: F_*; s: callback prefix; a: argument */
    W_BACKREF,   /* num */
    W_CONCAT,    /* a: chain of num words */
};

enum { B_IPMATCH, B_FNMATCH, B_STRMATCH, B_STRCMATCH };
enum { F_LOOKUP, F_TOLOWER, F_TOUPPER, F_ESCAPE, F_UNESCAPE, F_BASE64,
       F_UNBASE64, F_FILESIZE, F_UNSUPPORTED };

typedef struct node_s node_t;
struct node_s {
    uint8_t kind;
    uint8_t op;
    bool neg;
    unsigned num;
    const node_t *a, *b;
    node_t *next;        /* sibling in a chain */
    const char *s;
    const void *data;    /* regex_t, subnet_t */
};

typedef struct {
    pcre2_code *code;
    uint32_t ncap;
} regex_t;

typedef struct {
    int family;          /* 4 or 6 */
    uint32_t sub[4];     /* network byte order, masked; IPv4 uses [0] */
    uint32_t mask[4];
} subnet_t;

struct rl_expr_s {
    const node_t *root;
    bool string;
};

/* ---- names Apache knows -------------------------------------------------- */

static const char *const var_names[] = {
    "TIME_YEAR", "TIME_MON", "TIME_DAY", "TIME_HOUR", "TIME_MIN", "TIME_SEC",
    "TIME_WDAY", "TIME", "SERVER_SOFTWARE", "API_VERSION",
    "HTTP_USER_AGENT", "HTTP_PROXY_CONNECTION", "HTTP_REFERER", "HTTP_COOKIE",
    "HTTP_FORWARDED", "HTTP_HOST", "HTTP_ACCEPT",
    "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI", "REQUEST_FILENAME",
    "REMOTE_HOST", "REMOTE_IDENT", "REMOTE_USER", "SERVER_ADMIN", "SERVER_NAME",
    "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_FILENAME", "PATH_INFO",
    "QUERY_STRING", "IS_SUBREQ", "DOCUMENT_ROOT", "AUTH_TYPE", "THE_REQUEST",
    "CONTENT_TYPE", "HANDLER", "REQUEST_LOG_ID", "SCRIPT_USER", "SCRIPT_GROUP",
    "DOCUMENT_URI", "LAST_MODIFIED", "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT",
    "REQUEST_STATUS", "REMOTE_ADDR", "REMOTE_PORT",
    "HTTPS", "IPV6", "CONN_LOG_ID", "CONN_REMOTE_ADDR", "HTTP2",
};

static const struct { const char *name; uint8_t id; const char *prefix; } funcs[] = {
    { "req", F_LOOKUP, "HTTP:" }, { "http", F_LOOKUP, "HTTP:" },
    { "req_novary", F_LOOKUP, "REQ_NOVARY:" }, { "resp", F_LOOKUP, "RESP:" },
    { "note", F_LOOKUP, "NOTE:" }, { "reqenv", F_LOOKUP, "REQENV:" },
    { "env", F_LOOKUP, "ENV:" }, { "osenv", F_LOOKUP, "OSENV:" },
    { "tolower", F_TOLOWER, NULL }, { "toupper", F_TOUPPER, NULL },
    { "escape", F_ESCAPE, NULL }, { "unescape", F_UNESCAPE, NULL },
    { "base64", F_BASE64, NULL }, { "unbase64", F_UNBASE64, NULL },
    { "filesize", F_FILESIZE, NULL },
    { "file", F_UNSUPPORTED, NULL }, { "md5", F_UNSUPPORTED, NULL },
    { "sha1", F_UNSUPPORTED, NULL }, { "ldap", F_UNSUPPORTED, NULL },
};

static const struct { const char *name; uint8_t id; } binary_ops[] = {
    { "ipmatch", B_IPMATCH }, { "fnmatch", B_FNMATCH },
    { "strmatch", B_STRMATCH }, { "strcmatch", B_STRCMATCH },
};

#define UNARY_OPS       "nzRTdefsLhx"
#define UNARY_REFUSED   "FUA"      /* Apache's subrequest tests */

/* ---- addresses and subnets (apr_ipsubnet_*, getaddrinfo's numeric forms) - */

typedef struct {
    int family;
    uint32_t w[4];       /* network byte order; IPv4 in w[0] */
} addr_t;

/* glibc's inet_aton as getaddrinfo() applies it: "a.b.c.d", "a.b.c", "a.b",
 * "a", each part decimal, octal (0..) or hex (0x..), the last part filling
 * the bytes left, nothing after. */
static bool parse_ipv4_loose(const char *s, uint32_t *out)
{
    static const uint32_t max[] = { 0xffffffff, 0xffffff, 0xffff, 0xff };
    uint32_t parts[4];
    int n = 0;

    for (;;) {
        uint64_t v = 0;
        int base = 10;
        bool digit = false;
        if (!is_digit(*s))
            return false;
        if (*s == '0') {
            s++;
            digit = !(*s == 'x' || *s == 'X');
            base = digit ? 8 : 16;
            s += !digit;
        }
        for (; is_digit(*s) || (base == 16 && is_xdigit(*s)); s++) {
            if (base == 8 && *s > '7')
                return false;
            v = v * (uint64_t)base + (uint64_t)hexval(*s);
            if (v > 0xffffffff)
                return false;
            digit = true;
        }
        if (!digit || (*s == '.' && (n == 3 || v > 0xff)))
            return false;
        parts[n++] = (uint32_t)v;
        if (*s++ != '.')
            break;
    }
    if (s[-1] != '\0' || parts[n - 1] > max[n - 1])
        return false;
    uint32_t h = parts[n - 1];
    for (int i = 0; i < n - 1; i++)
        h |= parts[i] << (24 - 8 * i);
    *out = htonl(h);
    return true;
}

/* A client address as -ipmatch and -R see it: numeric only; IPv4-mapped
 * IPv6 counts as IPv4. */
static bool parse_addr(const char *s, addr_t *out)
{
    char buf[64];
    struct in6_addr a6;
    const char *pct = strchr(s, '%');
    size_t n = pct ? (size_t)(pct - s) : strlen(s);

    if (parse_ipv4_loose(s, &out->w[0])) {
        out->family = 4;
        return true;
    }
    if (n >= sizeof(buf) || (pct && (pct[1] == '\0' || strspn(pct + 1, "0123456789") != strlen(pct + 1))))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, &a6) != 1)
        return false;
    memcpy(out->w, &a6, 16);
    out->family = IN6_IS_ADDR_V4MAPPED(&a6) ? 4 : 6;
    if (out->family == 4)
        out->w[0] = out->w[3];
    return true;
}

static bool looks_like_ip(const char *s)
{
    if (*s == '\0')
        return false;
    if (strchr(s, ':'))
        return true;
    return strspn(s, ".0123456789") == strlen(s);
}

/* The legacy network form "10.1" ("10.1.0.0/16"), allowed without a mask. */
static bool parse_network(subnet_t *net, const char *s)
{
    uint32_t sub = 0, mask = 0;
    int shift = 24;

    if (strlen(s) >= sizeof("255.255.255.255"))
        return false;
    while (*s) {
        unsigned octet = 0;
        if (!is_digit(*s) || shift < 0)
            return false;
        for (; is_digit(*s); s++)
            if ((octet = octet * 10 + (unsigned)(*s - '0')) > 255)
                return false;
        if (*s == '.')
            s++;
        else if (*s)
            return false;
        sub |= octet << shift;
        mask |= 0xffu << shift;
        shift -= 8;
    }
    net->family = 4;
    net->sub[0] = htonl(sub);
    net->mask[0] = htonl(mask);
    return true;
}

static bool parse_mask(subnet_t *net, const char *m)
{
    char *end;
    long bits = strtol(m, &end, 10);
    long max = net->family == 6 ? 128 : 32;

    if (*end == '\0' && bits > 0 && bits <= max) {
        memset(net->mask, 0, sizeof(net->mask));
        for (int i = 0; bits > 0; i++, bits -= 32)
            net->mask[i] = htonl(bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits));
        return true;
    }
    return net->family == 4 && inet_pton(AF_INET, m, &net->mask[0]) == 1;
}

/* apr_ipsubnet_create(): "addr", "addr/bits", "a.b.c.d/netmask", "10.1". */
static bool parse_subnet(const char *spec, subnet_t *net)
{
    char ip[64];
    const char *slash = strchr(spec, '/');
    size_t n = slash ? (size_t)(slash - spec) : strlen(spec);
    struct in6_addr a6;

    if (n >= sizeof(ip))
        return false;
    memcpy(ip, spec, n);
    ip[n] = '\0';
    if (!looks_like_ip(ip))
        return false;
    memset(net, 0, sizeof(*net));
    memset(net->mask, 0xff, sizeof(net->mask));
    if (inet_pton(AF_INET6, ip, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6))
            return false;
        net->family = 6;
        memcpy(net->sub, &a6, 16);
    } else if (inet_pton(AF_INET, ip, &net->sub[0]) == 1) {
        net->family = 4;
    } else if (slash || !parse_network(net, ip)) {
        return false;
    }
    if (slash && !parse_mask(net, slash + 1))
        return false;
    for (int i = 0; i < 4; i++)
        net->sub[i] &= net->mask[i];
    return true;
}

static bool subnet_test(const subnet_t *net, const addr_t *a)
{
    if (a->family == 4)
        return net->family == 4 && (a->w[0] & net->mask[0]) == net->sub[0];
    if (net->family != 6)
        return false;
    for (int i = 0; i < 4; i++)
        if ((a->w[i] & net->mask[i]) != net->sub[i])
            return false;
    return true;
}

/* ---- fnmatch ------------------------------------------------------------- */

/* Matches one character <c> against the bracket expression at <p> (just
 * after '['). Returns the pattern after the ']', or NULL when there is no
 * closing ']' (then '[' is an ordinary character). */
static const char *match_bracket(const char *p, int c, bool fold, bool *ok)
{
    bool neg = (*p == '!' || *p == '^'), hit = false;

    p += neg;
    for (bool first = true; first || *p != ']'; first = false) {
        int lo, hi;
        if (*p == '\\' && p[1])
            p++;
        if (*p == '\0')
            return NULL;
        lo = hi = (unsigned char)*p++;
        if (*p == '-' && p[1] && p[1] != ']') {
            p += (p[1] == '\\' && p[2]) ? 2 : 1;
            hi = (unsigned char)*p++;
        }
        if (fold ? (lower(c) >= lower(lo) && lower(c) <= lower(hi)) || (c >= lo && c <= hi)
                 : (c >= lo && c <= hi))
            hit = true;
    }
    *ok = hit != neg;
    return p + 1;
}

/* Shell pattern match as apr_fnmatch() does it: '*', '?', [...] with ! or ^,
 * backslash escapes; with <path> neither wildcard matches '/'. One backtrack
 * point (the last '*'), so the time is bounded by |pattern| * |string|. */
static bool fnmatch_apr(const char *p, const char *s, bool path, bool fold)
{
    const char *star_p = NULL, *star_s = NULL;

    for (;;) {
        int c = (unsigned char)*s;
        bool ok = false;
        const char *np = p + 1;

        if (*p == '*') {
            while (*p == '*')
                p++;
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '\0' && c == '\0')
            return true;
        if (c != '\0' && *p == '?') {
            ok = !(path && c == '/');
        } else if (c != '\0' && *p == '[' && !(path && c == '/')
                   && (np = match_bracket(p + 1, c, fold, &ok)) != NULL) {
            /* np is past the bracket */
        } else if (c != '\0' && *p != '\0') {
            const char *lit = (*p == '\\' && p[1]) ? p + 1 : p;
            np = lit + 1;
            ok = fold ? lower(*lit) == lower(c) : *lit == (char)c;
        }
        if (ok) {
            p = np;
            s++;
            continue;
        }
        if (star_p == NULL || *star_s == '\0' || (path && *star_s == '/'))
            return false;
        p = star_p;
        s = ++star_s;
    }
}

/* ---- lexer --------------------------------------------------------------- */

enum { ST_INITIAL, ST_STR, ST_VAR, ST_VARARG };

typedef struct {
    rl_arena_t *arena;
    /* lexer */
    const char *p, *end;
    int state;
    int stack[RL_EXPR_MAX_DEPTH + 2];
    int sp;
    char quote;              /* the open string's delimiter; 0 in a string expression */
    bool string_mode;
    size_t blen;
    char buf[STR_MAX];
    /* current token */
    int tok;
    const char *text;        /* T_DIGIT, T_ID, T_STRING, T_REGEX*, T_OP_UNARY/BINARY */
    int num;                 /* T_REGEX_BACKREF */
    /* parser */
    int depth;
    const char *error;       /* bison's message, or a fatal one */
    const char *error2;      /* the lexer's or a lookup's */
} ps_t;

static int lex_error(ps_t *ps, const char *msg)
{
    ps->error2 = msg;
    return T_ERROR;
}

static int lex_error_char(ps_t *ps, const char *prefix, char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f)
        ps->error2 = rl_arena_printf(ps->arena, "%s'%c'", prefix, c);
    else
        ps->error2 = rl_arena_printf(ps->arena, "%s'\\x%02X'", prefix, u);
    return T_ERROR;
}

static bool push_state(ps_t *ps, int st)
{
    if (ps->sp == (int)RL_NELEMS(ps->stack))
        return false;
    ps->stack[ps->sp++] = ps->state;
    ps->state = st;
    return true;
}

static void pop_state(ps_t *ps)
{
    ps->state = ps->sp ? ps->stack[--ps->sp] : ST_INITIAL;
}

static int take_string(ps_t *ps)
{
    ps->text = rl_arena_strndup(ps->arena, ps->buf, ps->blen);
    ps->blen = 0;
    return T_STRING;
}

static bool append(ps_t *ps, int c)
{
    if (ps->blen >= STR_MAX - 1)
        return false;
    ps->buf[ps->blen++] = (char)c;
    return true;
}

/* A backslash in a string or a %{func:argument}. Returns T_EOF when it
 * appended a character, T_ERROR otherwise. */
static int lex_escape(ps_t *ps)
{
    const char *q = ps->p + 1;
    int c;

    if (q == ps->end)
        return lex_error(ps, "Unterminated string or variable");
    if (is_digit(*q)) {
        size_t oct = 0, dec = 0;
        while (oct < 3 && q + oct < ps->end && q[oct] >= '0' && q[oct] <= '7')
            oct++;
        while (q + dec < ps->end && is_digit(q[dec]))
            dec++;
        if (dec > oct)
            return lex_error(ps, "Bad escape sequence");
        c = 0;
        for (size_t i = 0; i < oct; i++)
            c = c * 8 + (q[i] - '0');
        if (c > 0xff)
            return lex_error(ps, "Escape sequence out of bound");
        ps->p = q + oct;
    } else {
        const char *from = "nrtbf", *to = "\n\r\t\b\f", *k = strchr(from, *q);
        c = k ? to[k - from] : (unsigned char)*q;
        ps->p = q + 1;
    }
    return append(ps, c) ? T_EOF : lex_error(ps, "String too long");
}

/* Inside '...', "..." (ST_STR) or after "%{func:" (ST_VARARG). */
static int lex_string(ps_t *ps)
{
    bool arg = ps->state == ST_VARARG;

    for (;;) {
        if (ps->p == ps->end) {
            if (arg || !ps->string_mode)
                return lex_error(ps, "Unterminated string or variable");
            ps->state = ST_INITIAL;
            return take_string(ps);
        }
        char c = *ps->p, d = ps->p + 1 < ps->end ? ps->p[1] : '\0';
        if (c == '\n')
            return lex_error(ps, "Unterminated string or variable");
        if ((c == '%' && d == '{') || (c == '$' && is_digit(d))
            || (c != '\0' && c == ps->quote && !arg) || (c == '}' && arg)) {
            if (ps->blen)
                return take_string(ps);
            ps->p += c == '%' || c == '$' ? 2 : 1;
            if (c == '$') {
                ps->num = d - '0';
                return T_REGEX_BACKREF;
            }
            if (c == '%')
                return push_state(ps, ST_VAR) ? T_VAR_BEGIN
                                               : lex_error(ps, "Expression nested too deeply");
            if (c == '}') {
                pop_state(ps);
                return T_VAR_END;
            }
            ps->state = ST_INITIAL;
            return T_STR_END;
        }
        if (c == '\\') {
            if (lex_escape(ps) == T_ERROR)
                return T_ERROR;
            continue;
        }
        if (arg && (c == '"' || c == '\''))   /* Apache: "flex scanner jammed" */
            return lex_error_char(ps, "Invalid character in variable argument ", c);
        if (!append(ps, c))
            return lex_error(ps, "String too long");
        ps->p++;
    }
}

/* Just after "%{": a name, then '}' or ':'. */
static int lex_var(ps_t *ps)
{
    const char *s = ps->p;

    if (s == ps->end || *s == '\n')
        return lex_error(ps, "Unterminated string or variable");
    ps->p++;
    if (is_alpha(*s)) {
        while (ps->p < ps->end && is_word(*ps->p))
            ps->p++;
        ps->text = rl_arena_strndup(ps->arena, s, (size_t)(ps->p - s));
        return T_ID;
    }
    if (*s == '}') {
        pop_state(ps);
        return T_VAR_END;
    }
    if (*s == ':') {
        ps->state = ST_VARARG;
        return T_COLON;
    }
    return lex_error_char(ps, "Invalid character in variable name ", *s);
}

/* A regex after its opening delimiter. Apache's scanner has no end-of-input
 * rule in a regex: an unterminated one just ends the input. */
static int lex_regex(ps_t *ps, char delim, const char *start)
{
    const char *q = memchr(start, delim, (size_t)(ps->end - start));

    if (q == NULL) {
        ps->p = ps->end;
        return T_EOF;
    }
    if (q - start >= STR_MAX)
        return lex_error(ps, "Regexp too long");
    ps->text = rl_arena_strndup(ps->arena, start, (size_t)(q - start));
    ps->p = q + 1;
    if (ps->p < ps->end && *ps->p == 'i') {
        ps->p++;
        return T_REGEX_I;
    }
    return T_REGEX;
}

/* -?[0-9]+ */
static int lex_number(ps_t *ps)
{
    const char *s = ps->p, *e = s + (*s == '-');

    while (e < ps->end && is_digit(*e))
        e++;
    ps->text = rl_arena_strndup(ps->arena, s, (size_t)(e - s));
    ps->p = e;
    return T_DIGIT;
}

/* "-f" (unary), "-in".."-lt", "-ipmatch" (binary), "-12" (a number). */
static int lex_dash(ps_t *ps)
{
    const char *s = ps->p + 1, *e;

    if (s < ps->end && (is_alpha(*s) || *s == '_')) {
        for (e = s + 1; e < ps->end && is_word(*e); e++)
            ;
        ps->p = e;
        ps->text = rl_arena_strndup(ps->arena, s, (size_t)(e - s));
        if (e - s == 1)
            return T_OP_UNARY;
        for (size_t i = 0; i < RL_NELEMS(dash_ops); i++)
            if (strcmp(ps->text, dash_ops[i].word) == 0)
                return dash_ops[i].tok;
        return T_OP_BINARY;
    }
    if (s < ps->end && is_digit(*s))
        return lex_number(ps);
    ps->p++;
    return lex_error_char(ps, "Parse error near ", '-');
}

/* A name: a keyword, "m<delim>" opening a regex, or T_ID. */
static int lex_name(ps_t *ps)
{
    static const char delims[] = "/#$%^,;:_?|-!.'\"";
    const char *s = ps->p, *e = s + 1;

    while (e < ps->end && is_word(*e))
        e++;
    /* flex: the longest match wins, "m_" ties and the regex rule comes first */
    if (*s == 'm' && s + 1 < ps->end && s[1] != '\0' && strchr(delims, s[1]) && e - s <= 2)
        return lex_regex(ps, s[1], s + 2);
    ps->p = e;
    for (size_t i = 0; i < RL_NELEMS(keywords); i++)
        if ((size_t)(e - s) == strlen(keywords[i].word)
            && memcmp(s, keywords[i].word, (size_t)(e - s)) == 0)
            return keywords[i].tok;
    ps->text = rl_arena_strndup(ps->arena, s, (size_t)(e - s));
    return T_ID;
}

/* Operators of one or two characters. Returns -1 for none. */
static int lex_operator(ps_t *ps, char c, char d)
{
    static const struct { char c, d; int tok; } ops[] = {
        { '=', '=', T_OP_STR_EQ }, { '=', '~', T_OP_REG }, { '=', 0, T_OP_STR_EQ },
        { '!', '=', T_OP_STR_NE }, { '!', '~', T_OP_NRE }, { '!', 0, T_OP_NOT },
        { '<', '=', T_OP_STR_LE }, { '<', 0, T_OP_STR_LT },
        { '>', '=', T_OP_STR_GE }, { '>', 0, T_OP_STR_GT },
        { '&', '&', T_OP_AND }, { '|', '|', T_OP_OR }, { '.', 0, T_OP_CONCAT },
        { '(', 0, T_LPAREN }, { ')', 0, T_RPAREN }, { '{', 0, T_LBRACE },
        { '}', 0, T_RBRACE }, { ',', 0, T_COMMA }, { ':', 0, T_COLON },
    };
    for (size_t i = 0; i < RL_NELEMS(ops); i++) {
        if (ops[i].c == c && (ops[i].d == 0 || ops[i].d == d)) {
            ps->p += ops[i].d ? 2 : 1;
            return ops[i].tok;
        }
    }
    return -1;
}

static int lex_initial(ps_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n'))
        ps->p++;
    if (ps->p == ps->end)
        return T_EOF;

    char c = *ps->p, d = ps->p + 1 < ps->end ? ps->p[1] : '\0';
    int tok;
    if (c == '"' || c == '\'') {
        ps->p++;
        ps->quote = c;
        ps->blen = 0;
        ps->state = ST_STR;
        return T_STR_BEGIN;
    }
    if (c == '%' && d == '{') {
        ps->p += 2;
        return push_state(ps, ST_VAR) ? T_VAR_BEGIN : lex_error(ps, "Expression nested too deeply");
    }
    if (c == '$' && is_digit(d)) {
        ps->p += 2;
        ps->num = d - '0';
        return T_REGEX_BACKREF;
    }
    if (c == '/')
        return lex_regex(ps, '/', ps->p + 1);
    if (c == '-')
        return lex_dash(ps);
    if (is_digit(c))
        return lex_number(ps);
    if (is_alpha(c))
        return lex_name(ps);
    if ((tok = lex_operator(ps, c, d)) >= 0)
        return tok;
    ps->p++;
    return lex_error_char(ps, "Parse error near ", c);
}

static void next(ps_t *ps)
{
    if (ps->tok == T_ERROR)     /* never read past a lexer error */
        return;
    switch (ps->state) {
    case ST_STR:
    case ST_VARARG:
        ps->tok = lex_string(ps);
        break;
    case ST_VAR:
        ps->tok = lex_var(ps);
        break;
    default:
        ps->tok = lex_initial(ps);
        break;
    }
}

/* ---- parser -------------------------------------------------------------- */

/* Bison's message for the current token in a state that shifts <expected>
 * (listed when there are at most four of them). */
static node_t *syntax_error(ps_t *ps, uint64_t expected)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "syntax error, unexpected %s", tok_names[ps->tok]);
    int count = __builtin_popcountll(expected);

    for (int t = 0, i = 0; count <= 4 && t < T_COUNT; t++) {
        if (expected & BIT(t))
            n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s%s",
                          i++ ? " or " : ", expecting ", tok_names[t]);
    }
    ps->error = rl_arena_strdup(ps->arena, msg);
    return NULL;
}

/* T_ERROR where the grammar takes it (YYABORT): only the lexer's message. */
static node_t *abort_parse(ps_t *ps)
{
    (void)ps;
    return NULL;
}

static node_t *fatal(ps_t *ps, const char *msg)
{
    ps->error = msg;
    return NULL;
}

static node_t *mk(ps_t *ps, int kind)
{
    node_t *n = rl_arena_calloc(ps->arena, sizeof(*n));
    n->kind = (uint8_t)kind;
    return n;
}

static node_t *mk_string(ps_t *ps, const char *s)
{
    node_t *n = mk(ps, W_STRING);
    n->s = s;
    return n;
}

/* A failed lookup: Apache records the message and parses on. */
static node_t *lookup_error(ps_t *ps, const char *fmt, const char *name)
{
    ps->error2 = rl_arena_printf(ps->arena, fmt, name);
    return mk_string(ps, "");
}

static bool enter(ps_t *ps)
{
    if (++ps->depth <= RL_EXPR_MAX_DEPTH)
        return true;
    fatal(ps, "Expression nested too deeply");
    return false;
}

static node_t *make_var(ps_t *ps, const char *name)
{
    for (size_t i = 0; i < RL_NELEMS(var_names); i++) {
        if (strcasecmp(name, var_names[i]) == 0) {
            node_t *n = mk(ps, W_VAR);
            n->s = var_names[i];
            return n;
        }
    }
    return lookup_error(ps, "Variable '%s' does not exist", name);
}

static node_t *make_func(ps_t *ps, const char *name, const node_t *arg)
{
    for (size_t i = 0; i < RL_NELEMS(funcs); i++) {
        if (strcasecmp(name, funcs[i].name) != 0)
            continue;
        if (funcs[i].id == F_UNSUPPORTED)
            return lookup_error(ps, "Function '%s' is not supported", name);
        node_t *n = mk(ps, W_FUNC);
        n->op = funcs[i].id;
        n->s = funcs[i].prefix;
        n->a = arg;
        return n;
    }
    return lookup_error(ps, "Function '%s' does not exist", name);
}

/* The subnet of -R and -ipmatch: a constant string, parsed now. */
static const subnet_t *make_subnet(ps_t *ps, const char *op, const node_t *arg)
{
    subnet_t *net = rl_arena_calloc(ps->arena, sizeof(*net));

    if (arg->kind != W_STRING)
        ps->error2 = rl_arena_printf(ps->arena,
                                     "-%s requires subnet/netmask as constant argument", op);
    else if (!parse_subnet(arg->s, net))
        ps->error2 = "parsing of subnet/netmask failed";
    return net;
}

static void free_regex(void *data)
{
    pcre2_code_free(data);
}

/* T_REGEX / T_REGEX_I: compiled with Apache's defaults (DOTALL,
 * DOLLAR_ENDONLY). */
static const regex_t *make_regex(ps_t *ps)
{
    uint32_t opts = PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
    int errcode;
    PCRE2_SIZE erroff;
    regex_t *re;

    if (ps->tok == T_REGEX_I)
        opts |= PCRE2_CASELESS;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)ps->text, PCRE2_ZERO_TERMINATED, opts,
                                     &errcode, &erroff, NULL);
    if (code == NULL) {
        fatal(ps, "Failed to compile regular expression");
        return NULL;
    }
    rl_arena_on_cleanup(ps->arena, free_regex, code);
    re = rl_arena_calloc(ps->arena, sizeof(*re));
    re->code = code;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->ncap);
    return re;
}

static node_t *parse_or(ps_t *ps);
static node_t *parse_word(ps_t *ps);
static node_t *parse_var(ps_t *ps);

/* string ::= (T_STRING | var | $N)+, closed by <end> (left as the current
 * token): T_STR_END, T_VAR_END, or T_EOF for a string expression. */
static node_t *parse_string(ps_t *ps, int end)
{
    const uint64_t parts = BIT(T_STRING) | BIT(T_REGEX_BACKREF) | BIT(T_VAR_BEGIN);
    node_t *first = NULL, *last = NULL, *k, *n;
    unsigned count = 0;

    while (!(first && ps->tok == end)) {
        if (ps->tok == T_STRING) {
            k = mk_string(ps, ps->text);
            next(ps);
        } else if (ps->tok == T_REGEX_BACKREF) {
            k = mk(ps, W_BACKREF);
            k->num = (unsigned)ps->num;
            next(ps);
        } else if (ps->tok == T_VAR_BEGIN) {
            if ((k = parse_var(ps)) == NULL)
                return NULL;
        } else if (!first && ps->tok == T_ERROR) {
            return abort_parse(ps);
        } else if (!first) {
            return syntax_error(ps, parts | BIT(T_ERROR) | (end == T_STR_END ? BIT(end) : 0));
        } else {
            return syntax_error(ps, end == T_EOF ? BIT(T_EOF) : parts | BIT(end));
        }
        if (first)
            last->next = k;
        else
            first = k;
        last = k;
        count++;
    }
    if (count == 1)
        return first;
    n = mk(ps, W_CONCAT);
    n->a = first;
    n->num = count;
    return n;
}

/* "%{NAME}" or "%{func:string}", at T_VAR_BEGIN. */
static node_t *parse_var(ps_t *ps)
{
    node_t *n, *arg;
    const char *name;

    if (!enter(ps))
        return NULL;
    next(ps);
    if (ps->tok != T_ID)
        return syntax_error(ps, BIT(T_ID));
    name = ps->text;
    next(ps);
    if (ps->tok == T_VAR_END) {
        n = make_var(ps, name);   /* bison reduces before reading on */
    } else if (ps->tok == T_COLON) {
        next(ps);
        if ((arg = parse_string(ps, T_VAR_END)) == NULL)
            return NULL;
        n = make_func(ps, name, arg);
    } else {
        return syntax_error(ps, BIT(T_VAR_END) | BIT(T_COLON));
    }
    next(ps);
    ps->depth--;
    return n;
}

/* "name(word)" at T_ID: a string function, or after -in a list function
 * (Apache's core has none). */
static node_t *parse_call(ps_t *ps, bool list)
{
    const char *name = ps->text;
    node_t *arg, *n;

    next(ps);
    if (ps->tok != T_LPAREN)
        return syntax_error(ps, BIT(T_LPAREN));
    if (!enter(ps))
        return NULL;
    next(ps);
    if ((arg = parse_word(ps)) == NULL)
        return NULL;
    if (ps->tok != T_RPAREN)
        return syntax_error(ps, BIT(T_OP_CONCAT) | BIT(T_RPAREN));
    n = list ? lookup_error(ps, "List-returning function '%s' does not exist", name)
             : make_func(ps, name, arg);
    next(ps);
    ps->depth--;
    return n;
}

static node_t *parse_atom(ps_t *ps)
{
    node_t *n;

    switch (ps->tok) {
    case T_DIGIT:
        n = mk(ps, W_DIGIT);
        n->s = ps->text;
        next(ps);
        return n;
    case T_REGEX_BACKREF:
        n = mk(ps, W_BACKREF);
        n->num = (unsigned)ps->num;
        next(ps);
        return n;
    case T_STR_BEGIN:
        next(ps);
        n = ps->tok == T_STR_END ? mk_string(ps, "") : parse_string(ps, T_STR_END);
        if (n)
            next(ps);
        return n;
    case T_VAR_BEGIN:
        return parse_var(ps);
    case T_ID:
        return parse_call(ps, false);
    default:
        return syntax_error(ps, 0);
    }
}

/* word ::= atom ("." atom)* */
static node_t *parse_word(ps_t *ps)
{
    node_t *first = parse_atom(ps), *last = first, *n;

    if (first == NULL || ps->tok != T_OP_CONCAT)
        return first;
    n = mk(ps, W_CONCAT);
    n->a = first;
    n->num = 1;
    while (ps->tok == T_OP_CONCAT) {
        next(ps);
        if ((last->next = parse_atom(ps)) == NULL)
            return NULL;
        last = last->next;
        n->num++;
    }
    return n;
}

/* After -in: "{" word ("," word)* "}" or a list function. */
static node_t *parse_list(ps_t *ps)
{
    node_t *first = NULL, *last = NULL, *w;

    if (ps->tok == T_ID)
        return parse_call(ps, true);
    if (ps->tok != T_LBRACE)
        return syntax_error(ps, BIT(T_ID) | BIT(T_LBRACE));
    do {
        next(ps);
        if ((w = parse_word(ps)) == NULL)
            return NULL;
        if (first)
            last->next = w;
        else
            first = w;
        last = w;
    } while (ps->tok == T_COMMA);
    if (ps->tok != T_RBRACE)
        return syntax_error(ps, BIT(T_RBRACE) | BIT(T_COMMA));
    next(ps);
    return first;
}

static node_t *parse_unary(ps_t *ps)
{
    const char *name = ps->text;
    node_t *n, *arg;

    next(ps);
    if ((arg = parse_word(ps)) == NULL)
        return NULL;
    if (strchr(UNARY_REFUSED, name[0]))
        return lookup_error(ps, "Unary operator '-%s' is not supported", name);
    if (!strchr(UNARY_OPS, name[0]))
        return lookup_error(ps, "Unary operator '-%s' does not exist", name);
    n = mk(ps, N_UNARY);
    n->op = (uint8_t)name[0];
    n->a = arg;
    if (name[0] == 'R')
        n->data = make_subnet(ps, name, arg);
    return n;
}

static node_t *parse_binary(ps_t *ps, node_t *left)
{
    const char *name = ps->text;
    node_t *n, *right;

    next(ps);
    if ((right = parse_word(ps)) == NULL)
        return NULL;
    for (size_t i = 0; i < RL_NELEMS(binary_ops); i++) {
        if (strcasecmp(name, binary_ops[i].name) != 0)
            continue;
        n = mk(ps, N_BINARY);
        n->op = binary_ops[i].id;
        n->a = left;
        n->b = right;
        if (n->op == B_IPMATCH)
            n->data = make_subnet(ps, name, right);
        return n;
    }
    return lookup_error(ps, "Binary operator '-%s' does not exist", name);
}

/* word OP word | word -in list | word =~ regex | word -binary word */
static node_t *parse_comparison(ps_t *ps)
{
    node_t *n, *left = parse_word(ps);
    int op = ps->tok;

    if (left == NULL)
        return NULL;
    if ((op >= T_OP_EQ && op <= T_OP_GE) || (op >= T_OP_STR_EQ && op <= T_OP_STR_GE)) {
        n = mk(ps, N_CMP);
        n->op = (uint8_t)op;
        n->a = left;
        next(ps);
        return (n->b = parse_word(ps)) ? n : NULL;
    }
    switch (op) {
    case T_OP_REG:
    case T_OP_NRE:
        next(ps);
        if (ps->tok != T_REGEX && ps->tok != T_REGEX_I)
            return syntax_error(ps, BIT(T_REGEX) | BIT(T_REGEX_I));
        n = mk(ps, N_REGEX);
        n->neg = op == T_OP_NRE;
        n->a = left;
        if ((n->data = make_regex(ps)) == NULL)
            return NULL;
        next(ps);
        return n;
    case T_OP_IN:
        next(ps);
        n = mk(ps, N_IN);
        n->a = left;
        return (n->b = parse_list(ps)) ? n : NULL;
    case T_OP_BINARY:
        return parse_binary(ps, left);
    default:
        return syntax_error(ps, 0);
    }
}

static node_t *parse_primary(ps_t *ps)
{
    node_t *n;

    switch (ps->tok) {
    case T_TRUE:
    case T_FALSE:
        n = mk(ps, ps->tok == T_TRUE ? N_TRUE : N_FALSE);
        next(ps);
        return n;
    case T_LPAREN:
        if (!enter(ps))
            return NULL;
        next(ps);
        if ((n = parse_or(ps)) == NULL)
            return NULL;
        if (ps->tok != T_RPAREN)
            return syntax_error(ps, BIT(T_OP_OR) | BIT(T_OP_AND) | BIT(T_RPAREN));
        next(ps);
        ps->depth--;
        return n;
    case T_OP_UNARY:
        return parse_unary(ps);
    case T_ERROR:
        return abort_parse(ps);
    case T_DIGIT:
    case T_ID:
    case T_REGEX_BACKREF:
    case T_STR_BEGIN:
    case T_VAR_BEGIN:
        return parse_comparison(ps);
    default:
        return syntax_error(ps, 0);
    }
}

/* "!"* primary: a run of negations is one or none. */
static node_t *parse_not(ps_t *ps)
{
    bool neg = false;
    node_t *n, *k;

    while (ps->tok == T_OP_NOT) {
        neg = !neg;
        next(ps);
    }
    if ((k = parse_primary(ps)) == NULL || !neg)
        return k;
    n = mk(ps, N_NOT);
    n->a = k;
    return n;
}

/* A chain of <sub> joined by <op>, as one node of <kind>. */
static node_t *parse_chain(ps_t *ps, int op, int kind, node_t *(*sub)(ps_t *))
{
    node_t *first = sub(ps), *last = first, *n;

    if (first == NULL || ps->tok != op)
        return first;
    n = mk(ps, kind);
    n->a = first;
    while (ps->tok == op) {
        next(ps);
        if ((last->next = sub(ps)) == NULL)
            return NULL;
        last = last->next;
    }
    return n;
}

static node_t *parse_and(ps_t *ps)
{
    return parse_chain(ps, T_OP_AND, N_AND, parse_not);
}

static node_t *parse_or(ps_t *ps)
{
    return parse_chain(ps, T_OP_OR, N_OR, parse_and);
}

static void set_error(char *err, size_t errlen, const char *e1, const char *e2)
{
    if (errlen == 0)
        return;
    if (e1 && e2)
        snprintf(err, errlen, "%s: %s", e1, e2);
    else
        snprintf(err, errlen, "%s", e1 ? e1 : e2 ? e2 : "syntax error");
}

static rl_expr_t *compile(rl_arena_t *a, const char *src, bool string, char *err, size_t errlen)
{
    ps_t *ps;
    const node_t *root;
    size_t len = strlen(src);
    rl_expr_t *e = NULL;

    if (len > RL_EXPR_MAX_LEN) {
        set_error(err, errlen, "Expression too long", NULL);
        return NULL;
    }
    ps = rl_xcalloc(1, sizeof(*ps));
    ps->arena = a;
    ps->p = src;
    ps->end = src + len;
    ps->string_mode = string;
    ps->state = string ? ST_STR : ST_INITIAL;
    ps->tok = T_EOF;
    next(ps);
    root = string ? parse_string(ps, T_EOF) : parse_or(ps);
    if (root && !string && ps->tok != T_EOF)
        root = syntax_error(ps, BIT(T_EOF));
    if (root == NULL || ps->error || ps->error2) {
        set_error(err, errlen, ps->error, ps->error2);
    } else {
        e = rl_arena_calloc(a, sizeof(*e));
        e->root = root;
        e->string = string;
        if (errlen)
            err[0] = '\0';
    }
    free(ps);
    return e;
}

rl_expr_t *rl_expr_compile(rl_arena_t *a, const char *src, char *err, size_t errlen)
{
    return compile(a, src, false, err, errlen);
}

rl_expr_t *rl_expr_compile_string(rl_arena_t *a, const char *src, char *err, size_t errlen)
{
    return compile(a, src, true, err, errlen);
}

/* ---- evaluation ---------------------------------------------------------- */

typedef struct {
    rl_expr_env_t *env;
    rl_expr_captures_t *cap;
    pcre2_match_data *md;    /* made on the first =~, freed at the end */
    bool failed;
} ev_t;

static const char *eval_word(ev_t *ev, const node_t *n);

static char *ev_alloc(ev_t *ev, size_t n)
{
    char *p = rl_arena_alloc_try(ev->env->arena, n, 0);
    if (p == NULL && !ev->failed) {
        ev->failed = true;
        ev->env->error = "out of memory";
    }
    return p;
}

static const char *ev_strndup(ev_t *ev, const char *s, size_t n)
{
    char *d = ev_alloc(ev, n + 1);
    if (d == NULL)
        return "";
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static const char *lookup(ev_t *ev, const char *name)
{
    const char *v = ev->env->var ? ev->env->var(ev->env->ctx, name) : NULL;
    return v ? v : "";
}

static const char *backref(ev_t *ev, unsigned i)
{
    const rl_expr_captures_t *c = ev->cap;

    if (c->subject == NULL || c->subject[0] == '\0' || i >= RL_EXPR_NCAPTURES
        || c->so[i] < 0 || c->eo[i] <= c->so[i])
        return "";
    return ev_strndup(ev, c->subject + c->so[i], (size_t)(c->eo[i] - c->so[i]));
}

static const char *concat(ev_t *ev, const node_t *n)
{
    const char **part = (const char **)ev_alloc(ev, n->num * sizeof(char *));
    size_t *len = (size_t *)ev_alloc(ev, n->num * sizeof(size_t));
    size_t total = 1, i = 0;
    char *out, *o;

    if (part == NULL || len == NULL)
        return "";
    for (const node_t *k = n->a; k; k = k->next, i++) {
        part[i] = eval_word(ev, k);
        len[i] = strlen(part[i]);
        total += len[i];
    }
    if ((o = out = ev_alloc(ev, total)) == NULL)
        return "";
    for (i = 0; i < n->num; i++) {
        memcpy(o, part[i], len[i]);
        o += len[i];
    }
    *o = '\0';
    return out;
}

/* ap_escape_uri(): lower-case %xx for all but "$-_.+!*'(),:;@&=/~" and
 * alphanumerics. */
static const char *fn_escape(ev_t *ev, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char *out = ev_alloc(ev, 3 * strlen(s) + 1), *o = out;

    if (out == NULL)
        return "";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_alpha(c) || is_digit(c) || strchr("$-_.+!*'(),:;@&=/~", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ap_unescape_url_keep2f(): %XX decoded but %2F kept as it is; "" for a bad
 * escape or %00. */
static const char *fn_unescape(ev_t *ev, const char *s)
{
    char *out = ev_alloc(ev, strlen(s) + 1), *o = out;

    if (out == NULL)
        return "";
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        if (!is_xdigit(s[1]) || !is_xdigit(s[2]))
            return "";
        int c = hexval(s[1]) * 16 + hexval(s[2]);
        if (c == 0)
            return "";
        if (c == '/') {
            memcpy(o, s, 3);
            o += 3;
        } else {
            *o++ = (char)c;
        }
        s += 2;
    }
    *o = '\0';
    return out;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *fn_base64(ev_t *ev, const char *s)
{
    size_t n = strlen(s), i;
    char *out = ev_alloc(ev, (n + 2) / 3 * 4 + 1), *o = out;
    const unsigned char *u = (const unsigned char *)s;

    if (out == NULL)
        return "";
    for (i = 0; i + 2 < n; i += 3) {
        *o++ = b64[u[i] >> 2];
        *o++ = b64[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
        *o++ = b64[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)];
        *o++ = b64[u[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64[u[i] >> 2];
        *o++ = b64[((u[i] & 3) << 4) | (i + 1 < n ? u[i + 1] >> 4 : 0)];
        *o++ = i + 1 < n ? b64[(u[i + 1] & 15) << 2] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* apr_base64_decode(): decodes the leading run of base64 characters,
 * whatever follows ('=' included) is ignored. */
static const char *fn_unbase64(ev_t *ev, const char *s)
{
    size_t n = 0, i;
    char *out, *o;

    while (s[n] && strchr(b64, s[n]))
        n++;
    if ((o = out = ev_alloc(ev, n / 4 * 3 + 3)) == NULL)
        return "";
    for (i = 0; i < n; i += 4) {
        uint32_t v = 0;
        size_t k = RL_MIN(4, n - i);
        for (size_t j = 0; j < 4; j++)
            v = v << 6 | (uint32_t)(j < k ? strchr(b64, s[i + j]) - b64 : 0);
        for (size_t j = 0; j + 1 < k; j++)
            *o++ = (char)(v >> (16 - 8 * j));
    }
    *o = '\0';
    return out;
}

static const char *fn_case(ev_t *ev, const char *s, bool up)
{
    size_t n = strlen(s);
    char *out = (char *)ev_strndup(ev, s, n);

    for (size_t i = 0; i < n && !ev->failed; i++) {
        if (up && out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char)(out[i] - 32);
        else if (!up)
            out[i] = (char)lower(out[i]);
    }
    return out;
}

static const char *call(ev_t *ev, const node_t *n, const char *arg)
{
    struct stat st;
    char *name;

    switch (n->op) {
    case F_LOOKUP:
        if ((name = ev_alloc(ev, strlen(n->s) + strlen(arg) + 1)) == NULL)
            return "";
        strcpy(stpcpy(name, n->s), arg);
        return lookup(ev, name);
    case F_TOLOWER:
    case F_TOUPPER:
        return fn_case(ev, arg, n->op == F_TOUPPER);
    case F_ESCAPE:
        return fn_escape(ev, arg);
    case F_UNESCAPE:
        return fn_unescape(ev, arg);
    case F_BASE64:
        return fn_base64(ev, arg);
    case F_UNBASE64:
        return fn_unbase64(ev, arg);
    case F_FILESIZE:
        if (stat(arg, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            char num[24];
            snprintf(num, sizeof(num), "%lld", (long long)st.st_size);
            return ev_strndup(ev, num, strlen(num));
        }
        return "0";
    default:
        return "";
    }
}

static const char *eval_word(ev_t *ev, const node_t *n)
{
    if (ev->failed)
        return "";
    switch (n->kind) {
    case W_STRING:
    case W_DIGIT:
        return n->s;
    case W_VAR:
        return lookup(ev, n->s);
    case W_BACKREF:
        return backref(ev, n->num);
    case W_CONCAT:
        return concat(ev, n);
    case W_FUNC:
        return call(ev, n, eval_word(ev, n->a));
    default:
        return "";
    }
}

/* Apache's -T: false for "", "0", "off", "no", "false" in any case. */
static bool truthy(const char *s)
{
    return !(s[0] == '\0' || strcmp(s, "0") == 0 || strcasecmp(s, "off") == 0
             || strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0);
}

static int eval_unary(ev_t *ev, const node_t *n)
{
    const char *arg = eval_word(ev, n->a);
    struct stat st;
    addr_t addr;

    switch (n->op) {
    case 'n': return arg[0] != '\0';
    case 'z': return arg[0] == '\0';
    case 'T': return truthy(arg);
    case 'R': return parse_addr(lookup(ev, "REMOTE_ADDR"), &addr) && subnet_test(n->data, &addr);
    case 'd': return stat(arg, &st) == 0 && S_ISDIR(st.st_mode);
    case 'e': return stat(arg, &st) == 0;
    case 'f': return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
    case 's': return stat(arg, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    case 'L':
    case 'h': return lstat(arg, &st) == 0 && S_ISLNK(st.st_mode);
    case 'x': return lstat(arg, &st) == 0 && (st.st_mode & 0111);
    default: return 0;
    }
}

static int eval_binary(ev_t *ev, const node_t *n)
{
    const char *l = eval_word(ev, n->a), *r = eval_word(ev, n->b);
    addr_t addr;

    switch (n->op) {
    case B_IPMATCH: return parse_addr(l, &addr) && subnet_test(n->data, &addr);
    case B_FNMATCH: return fnmatch_apr(r, l, true, false);
    case B_STRMATCH: return fnmatch_apr(r, l, false, false);
    case B_STRCMATCH: return fnmatch_apr(r, l, false, true);
    default: return 0;
    }
}

static int eval_cmp(ev_t *ev, const node_t *n)
{
    const char *l = eval_word(ev, n->a), *r = eval_word(ev, n->b);
    int c;

    if (n->op >= T_OP_STR_EQ) {
        c = strcmp(l, r);
    } else {   /* apr_atoi64(): strtoll, clamped */
        long long a = strtoll(l, NULL, 10), b = strtoll(r, NULL, 10);
        c = (a > b) - (a < b);
    }
    switch (n->op) {
    case T_OP_EQ: case T_OP_STR_EQ: return c == 0;
    case T_OP_NE: case T_OP_STR_NE: return c != 0;
    case T_OP_LT: case T_OP_STR_LT: return c < 0;
    case T_OP_LE: case T_OP_STR_LE: return c <= 0;
    case T_OP_GT: case T_OP_STR_GT: return c > 0;
    default: return c >= 0;
    }
}

/* =~ and !~. A regex with groups sets $0..$9 when it matches and clears
 * them when it does not; one without groups leaves them alone (Apache). */
static int eval_regex(ev_t *ev, const node_t *n)
{
    const regex_t *re = n->data;
    const char *s = eval_word(ev, n->a);
    int rc;

    if (ev->failed)
        return 0;
    if (ev->md == NULL && (ev->md = pcre2_match_data_create(RL_EXPR_NCAPTURES, NULL)) == NULL) {
        ev->failed = true;
        ev->env->error = "out of memory";
        return 0;
    }
    rc = pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, ev->md, NULL);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        ev->failed = true;
        ev->env->error = "regular expression match failed";
        return 0;
    }
    if (re->ncap > 0 && rc < 0) {
        ev->cap->subject = NULL;
    } else if (re->ncap > 0) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ev->md);
        size_t len = strlen(s);
        ev->cap->subject = ev_strndup(ev, s, len);
        for (int i = 0; i < RL_EXPR_NCAPTURES; i++) {
            bool set = (rc == 0 || i < rc) && ov[2 * i] <= len && ov[2 * i + 1] <= len;
            ev->cap->so[i] = set ? (int)ov[2 * i] : -1;
            ev->cap->eo[i] = set ? (int)ov[2 * i + 1] : -1;
        }
    }
    return (rc >= 0) != n->neg;
}

static int eval_cond(ev_t *ev, const node_t *n)
{
    const node_t *k;
    const char *needle;

    if (ev->failed)
        return 0;
    switch (n->kind) {
    case N_TRUE: return 1;
    case N_FALSE: return 0;
    case N_NOT: return !eval_cond(ev, n->a);
    case N_AND:
        for (k = n->a; k; k = k->next)
            if (!eval_cond(ev, k) || ev->failed)
                return 0;
        return 1;
    case N_OR:
        for (k = n->a; k && !ev->failed; k = k->next)
            if (eval_cond(ev, k))
                return 1;
        return 0;
    case N_CMP: return eval_cmp(ev, n);
    case N_REGEX: return eval_regex(ev, n);
    case N_UNARY: return eval_unary(ev, n);
    case N_BINARY: return eval_binary(ev, n);
    case N_IN:
        needle = eval_word(ev, n->a);
        for (k = n->b; k && !ev->failed; k = k->next)
            if (strcmp(needle, eval_word(ev, k)) == 0)
                return 1;
        return 0;
    default: return 0;
    }
}

static void ev_init(ev_t *ev, rl_expr_env_t *env, rl_expr_captures_t *local)
{
    ev->env = env;
    ev->md = NULL;
    ev->failed = false;
    ev->cap = env->captures ? env->captures : local;
    local->subject = NULL;
    env->error = NULL;
}

int rl_expr_eval(const rl_expr_t *e, rl_expr_env_t *env)
{
    rl_expr_captures_t local;
    ev_t ev;
    int r;

    ev_init(&ev, env, &local);
    if (e->string) {
        env->error = "a string expression is not a condition";
        return -1;
    }
    r = eval_cond(&ev, e->root);
    pcre2_match_data_free(ev.md);
    return ev.failed ? -1 : r;
}

const char *rl_expr_eval_string(const rl_expr_t *e, rl_expr_env_t *env)
{
    rl_expr_captures_t local;
    ev_t ev;
    const char *s;

    ev_init(&ev, env, &local);
    if (!e->string) {
        env->error = "a condition is not a string expression";
        return NULL;
    }
    s = eval_word(&ev, e->root);
    pcre2_match_data_free(ev.md);
    return ev.failed ? NULL : s;
}
