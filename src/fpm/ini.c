/* php-fpm's INI dialect (see ini.h).
 *
 * The scanner follows the re2c rules of PHP's zend_ini_scanner for the
 * states a php-fpm line can reach: at each position it measures every rule
 * of the current state and takes the longest match, the earliest rule
 * winning a tie, as re2c does. That is what makes "yes = 1" a BOOL_TRUE,
 * "E_ALL" a constant and "www-data" a plain string.
 *
 * The parser is recursive descent over PHP's grammar. PHP's LALR parser
 * applies default reductions before it checks the lookahead, so a statement
 * is complete (and handed to php-fpm) as soon as the next token cannot
 * continue it, and a syntax error is noticed in one of a few states; the
 * message lists the tokens that state expects when bison would (at most
 * four). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/buf.h"
#include "fpm/ini.h"

#ifndef RL_FPM_PHP_VERSION
#define RL_FPM_PHP_VERSION "8.2.0"
#endif

enum { ST_INITIAL, ST_OFFSET, ST_SECTION_VALUE, ST_VALUE, ST_DOUBLE_QUOTES, ST_VARNAME };

/* Tokens: single characters stand for themselves, 0 is the end. */
enum {
    T_END = 0,
    T_SECTION = 256, T_RAW, T_CONSTANT, T_NUMBER, T_STRING, T_WHITESPACE, T_LABEL, T_OFFSET,
    T_DOLLAR_CURLY, T_VARNAME, T_QUOTED_STRING, T_BOOL_TRUE, T_BOOL_FALSE, T_NULL_NULL,
    T_EOL,
};

/* The scanner rules, named after what they match; within a state they are
 * tried in this order (PHP's order), so a lower number wins a tie. */
enum {
    R_NONE,
    R_SECTION_START, R_RAW, R_SECTION_END, R_OFFSET, R_OFFSET_END, R_DOLLAR_CURLY,
    R_VARNAME, R_VAR_END, R_TRUE, R_FALSE, R_NULL, R_LABEL, R_EQUALS, R_VALUE_EOL,
    R_CONSTANT, R_NUMBER, R_TOKEN, R_OPERATOR, R_VALUE_EQ, R_VALUE_CHARS, R_SECTION_CHARS,
    R_DQ_START, R_DQ_END, R_DQ_CHARS, R_WHITESPACE, R_WS_SKIP, R_NEWLINE, R_COMMENT, R_VALUE_END,
    R_ANY,
};

#define STACK_MAX 8

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    int state;
    int stack[STACK_MAX];
    int depth;
    int lineno;
    int tok;                  /* the token scanned last */
    const char *text;         /* its text (<tlen> bytes) */
    size_t tlen;
    rl_buf_t quoted;          /* the unescaped text of a T_QUOTED_STRING */
} lexer_t;

/* ---- character classes ---- */

static bool is_ws(int c) { return c == ' ' || c == '\t'; }

static bool in_set(int c, const char *set) { return c != '\0' && strchr(set, c) != NULL; }

static bool is_label_char(int c) { return c != '\0' && !in_set(c, "=\n\r\t;&|^$~(){}!\"["); }

static bool is_value_char(int c) { return c != '\0' && !in_set(c, "$= \t\n\r;&|^~()!\"'"); }

static bool is_section_char(int c) { return c != '\0' && !in_set(c, "$\n\r;\"']\\"); }

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool is_alpha_(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

/* ---- measuring the rules ---- */

static int at(const lexer_t *lx, size_t i) { return i < lx->len ? (unsigned char)lx->s[i] : '\0'; }

static size_t ws_at(const lexer_t *lx, size_t i)
{
    size_t n = 0;
    while (is_ws(at(lx, i + n)))
        n++;
    return n;
}

static size_t newline_at(const lexer_t *lx, size_t i)
{
    if (at(lx, i) == '\n')
        return 1;
    if (at(lx, i) == '\r')
        return at(lx, i + 1) == '\n' ? 2 : 1;
    return 0;
}

static size_t label_at(const lexer_t *lx, size_t i)
{
    size_t n = 0;
    while (is_label_char(at(lx, i + n)))
        n++;
    return n;
}

/* One of <words> (case-insensitive) and the blanks after it. */
static size_t words_at(const lexer_t *lx, size_t i, const char *const *words)
{
    size_t best = 0;
    for (; *words; words++) {
        size_t n = strlen(*words);
        if (i + n <= lx->len && strncasecmp(lx->s + i, *words, n) == 0)
            best = RL_MAX(best, n + ws_at(lx, i + n));
    }
    return best;
}

static size_t constant_at(const lexer_t *lx, size_t i)
{
    if (!is_alpha_(at(lx, i)))
        return 0;
    size_t n = 1;
    while (is_alpha_(at(lx, i + n)) || is_digit(at(lx, i + n)))
        n++;
    return n;
}

static size_t digits_at(const lexer_t *lx, size_t i)
{
    size_t n = 0;
    while (is_digit(at(lx, i + n)))
        n++;
    return n;
}

/* [-]?[0-9]+ | [0-9]*\.[0-9]+ | [0-9]+\.[0-9]* */
static size_t number_at(const lexer_t *lx, size_t i)
{
    size_t sign = at(lx, i) == '-';
    size_t d = digits_at(lx, i + sign);
    size_t n = d ? sign + d : 0;
    size_t d1 = digits_at(lx, i);
    if (at(lx, i + d1) == '.') {
        size_t d2 = digits_at(lx, i + d1 + 1);
        if (d2 || d1)
            n = RL_MAX(n, d1 + 1 + d2);
    }
    return n;
}

/* 'text': at least one character, anything but a quote. Without a closing
 * quote PHP's scanner reads past the end: <*over> is set. */
static size_t raw_at(const lexer_t *lx, size_t i, bool *over)
{
    if (at(lx, i) != '\'')
        return 0;
    const char *q = memchr(lx->s + i + 1, '\'', lx->len - i - 1);
    if (q == NULL)
        *over = true;
    if (q == NULL || q == lx->s + i + 1)
        return 0;
    return (size_t)(q - (lx->s + i)) + 1;
}

/* The longest run of value characters (or, with <section>, of section
 * characters): plain ones, "$" and a character but '{', "$\" and any
 * character, and in sections "\" and any character. The alternatives
 * overlap, so every position a run can end at is tracked (a window of four
 * is enough: no piece is longer than three). */
static size_t chars_at(const lexer_t *lx, size_t i, bool section, bool *over)
{
    bool reach[4] = { true, false, false, false };
    size_t best = 0, n = lx->len - i;
    for (size_t k = 0; k <= n; k++) {
        if (!reach[k & 3]) {
            if (!reach[(k + 1) & 3] && !reach[(k + 2) & 3] && !reach[(k + 3) & 3])
                break;
            continue;
        }
        reach[k & 3] = false;
        best = k;
        if (k == n)
            break;
        int c = at(lx, i + k), next = at(lx, i + k + 1);
        if (section ? is_section_char(c) : is_value_char(c))
            reach[(k + 1) & 3] = true;
        if (c == '$' && k + 1 < n && next != '{')
            reach[(k + 2) & 3] = true;
        if (c == '$' && next == '\\' && k + 2 < n)
            reach[(k + 3) & 3] = true;
        else if (c == '$' && next == '\\')
            *over = true;     /* "$\" takes any character, even the end's NUL */
        if (section && c == '\\' && k + 1 < n)
            reach[(k + 2) & 3] = true;
        else if (section && c == '\\')
            *over = true;
    }
    return best;
}

/* [ \t]*;[^\r\n]*NEWLINE; without a line break, past the end. */
static size_t comment_at(const lexer_t *lx, size_t i, bool *over)
{
    size_t w = ws_at(lx, i);
    if (at(lx, i + w) != ';')
        return 0;
    size_t n = w + 1;
    while (i + n < lx->len && at(lx, i + n) != '\r' && at(lx, i + n) != '\n')
        n++;
    size_t nl = newline_at(lx, i + n);
    if (nl == 0)
        *over = true;
    return nl ? n + nl : 0;
}

/* ---- scanning ---- */

/* The rule chosen. <over>: a rule still matching read past the end of
 * the input, where PHP's YYFILL makes the scanner return the end. */
typedef struct {
    int rule;
    size_t len;
    bool over;
} pick_t;

static void consider(pick_t *p, int rule, size_t len)
{
    if (len > p->len) {
        p->rule = rule;
        p->len = len;
    }
}

static const char *const words_true[] = { "true", "on", "yes", NULL };
static const char *const words_false[] = { "false", "off", "no", "none", NULL };
static const char *const words_null[] = { "null", NULL };

static pick_t pick_initial(const lexer_t *lx, size_t i)
{
    pick_t p = { R_NONE, 0, false };
    size_t lab = label_at(lx, i), w = ws_at(lx, i);
    p.over = lab > 0 && i + lab == lx->len;    /* a name's characters include NUL */
    consider(&p, R_SECTION_START, at(lx, i) == '[');
    if (lab && at(lx, i + lab) == '[')
        consider(&p, R_OFFSET, lab + 1 + ws_at(lx, i + lab + 1));
    consider(&p, R_TRUE, words_at(lx, i, words_true));
    consider(&p, R_FALSE, words_at(lx, i, words_false));
    consider(&p, R_NULL, words_at(lx, i, words_null));
    consider(&p, R_LABEL, lab);
    if (at(lx, i + w) == '=')
        consider(&p, R_EQUALS, w + 1 + ws_at(lx, i + w + 1));
    consider(&p, R_TOKEN, in_set(at(lx, i), ":,.[]\"'()&|^+-/*=%$!~<>?@{}"));
    consider(&p, R_WS_SKIP, w);
    if (newline_at(lx, i + w))
        consider(&p, R_NEWLINE, w + newline_at(lx, i + w));
    consider(&p, R_COMMENT, comment_at(lx, i, &p.over));
    consider(&p, R_ANY, 1);
    return p;
}

static pick_t pick_value(const lexer_t *lx, size_t i)
{
    pick_t p = { R_NONE, 0, false };
    size_t w = ws_at(lx, i);
    consider(&p, R_RAW, raw_at(lx, i, &p.over));
    consider(&p, R_DOLLAR_CURLY, at(lx, i) == '$' && at(lx, i + 1) == '{' ? 2 : 0);
    consider(&p, R_TRUE, words_at(lx, i, words_true));
    consider(&p, R_FALSE, words_at(lx, i, words_false));
    consider(&p, R_NULL, words_at(lx, i, words_null));
    if (newline_at(lx, i + w))
        consider(&p, R_VALUE_EOL, w + newline_at(lx, i + w));
    consider(&p, R_CONSTANT, constant_at(lx, i));
    consider(&p, R_NUMBER, number_at(lx, i));
    if (in_set(at(lx, i), "&|^~()!"))
        consider(&p, R_OPERATOR, 1 + ws_at(lx, i + 1));
    consider(&p, R_VALUE_EQ, at(lx, i) == '=');
    consider(&p, R_VALUE_CHARS, chars_at(lx, i, false, &p.over));
    consider(&p, R_DQ_START, at(lx, i + w) == '"' ? w + 1 : 0);
    consider(&p, R_WHITESPACE, w);
    consider(&p, R_COMMENT, comment_at(lx, i, &p.over));
    consider(&p, R_VALUE_END, 1);
    return p;
}

/* ST_SECTION_VALUE and ST_OFFSET: they differ in how they end. */
static pick_t pick_section(const lexer_t *lx, size_t i, bool offset)
{
    pick_t p = { R_NONE, 0, false };
    size_t w = ws_at(lx, i);
    consider(&p, R_RAW, raw_at(lx, i, &p.over));
    if (!offset && at(lx, i) == ']')
        consider(&p, R_SECTION_END, 1 + ws_at(lx, i + 1) + newline_at(lx, i + 1 + ws_at(lx, i + 1)));
    if (offset && at(lx, i + w) == ']')
        consider(&p, R_OFFSET_END, w + 1);
    consider(&p, R_DOLLAR_CURLY, at(lx, i) == '$' && at(lx, i + 1) == '{' ? 2 : 0);
    consider(&p, R_CONSTANT, constant_at(lx, i));
    consider(&p, R_NUMBER, number_at(lx, i));
    consider(&p, R_SECTION_CHARS, chars_at(lx, i, true, &p.over));
    consider(&p, R_DQ_START, at(lx, i + w) == '"' ? w + 1 : 0);
    consider(&p, R_WHITESPACE, w);
    consider(&p, R_ANY, 1);
    return p;
}

static pick_t pick(const lexer_t *lx, size_t i)
{
    pick_t p = { R_NONE, 0, false };
    switch (lx->state) {
    case ST_INITIAL:
        return pick_initial(lx, i);
    case ST_VALUE:
        return pick_value(lx, i);
    case ST_SECTION_VALUE:
        return pick_section(lx, i, false);
    case ST_OFFSET:
        return pick_section(lx, i, true);
    case ST_DOUBLE_QUOTES:
        consider(&p, R_DOLLAR_CURLY, at(lx, i) == '$' && at(lx, i + 1) == '{' ? 2 : 0);
        consider(&p, R_DQ_END, at(lx, i) == '"' ? 1 + ws_at(lx, i + 1) : 0);
        consider(&p, R_DQ_CHARS, 1);
        return p;
    case ST_VARNAME:
        p.over = i + label_at(lx, i) == lx->len;
        consider(&p, R_VARNAME, label_at(lx, i));
        consider(&p, R_VAR_END, at(lx, i) == '}');
        consider(&p, R_ANY, 1);
        return p;
    }
    return p;
}

static void push_state(lexer_t *lx, int state)
{
    if (lx->depth < STACK_MAX)
        lx->stack[lx->depth++] = lx->state;
    lx->state = state;
}

static void pop_state(lexer_t *lx)
{
    lx->state = lx->depth > 0 ? lx->stack[--lx->depth] : ST_INITIAL;
}

/* The text of a double-quoted string from <i> on: up to a quote or a "${",
 * a backslash taking the next character along, except that \" right before
 * the end of the line is a backslash and the closing quote
 * (key="C:\path\"). Returns its length. */
static size_t dq_chars(const lexer_t *lx, size_t i)
{
    size_t s = i;
    while (s < lx->len) {
        int c = at(lx, s++);
        if (c == '"' || (c == '$' && at(lx, s) == '{'))
            return s - 1 - i;
        if (c == '\\' && s < lx->len) {
            int esc = at(lx, s++);
            if (esc == '"' && (s >= lx->len || at(lx, s) == '\n' || at(lx, s) == '\r'))
                return s - 1 - i;
        }
    }
    return s - i;
}

/* PHP's zend_ini_escape_string(): \" \\ \$ lose their backslash; counts
 * the line breaks inside. */
static void dq_unescape(lexer_t *lx, const char *p, size_t n)
{
    rl_buf_clear(&lx->quoted);
    for (size_t k = 0; k < n; k++) {
        char c = p[k];
        if (c == '\\') {
            if (++k >= n) {
                rl_buf_append(&lx->quoted, "\\", 1);
                continue;
            }
            c = p[k];
            if (c != '"' && c != '\\' && c != '$')
                rl_buf_append(&lx->quoted, "\\", 1);
        }
        rl_buf_append(&lx->quoted, &c, 1);
        if (c == '\n' || (c == '\r' && (k + 1 >= n || p[k + 1] != '\n')))
            lx->lineno++;
    }
}

static void trim(lexer_t *lx, size_t i, size_t n, bool bracket)
{
    const char *p = lx->s + i;
    while (n && is_ws(*p)) {
        p++;
        n--;
    }
    while (n && (is_ws(p[n - 1]) || p[n - 1] == '\n' || p[n - 1] == '\r' || (bracket && p[n - 1] == '[')))
        n--;
    lx->text = p;
    lx->tlen = n;
}

static void token(lexer_t *lx, int tok, const char *text, size_t len)
{
    lx->tok = tok;
    lx->text = text;
    lx->tlen = len;
}

#define EMIT(...) do { token(lx, __VA_ARGS__); return; } while (0)

/* Scans the next token into lx->tok / text / tlen. */
static void lex(lexer_t *lx)
{
    for (;;) {
        size_t i = lx->pos;
        if (i >= lx->len) {
            if (lx->state == ST_VALUE) {
                lx->state = ST_INITIAL;
                EMIT(T_EOL, "", 0);
            }
            EMIT(T_END, "", 0);
        }
        pick_t p = pick(lx, i);
        if (p.over) {
            lx->pos = lx->len;
            EMIT(T_END, "", 0);
        }
        const char *s = lx->s + i;
        lx->pos += p.len;
        switch (p.rule) {
        case R_WS_SKIP:
            continue;
        case R_SECTION_START:
            lx->state = ST_SECTION_VALUE;
            EMIT(T_SECTION, s, 1);
        case R_RAW:
            EMIT(T_RAW, s + 1, p.len - 2);
        case R_SECTION_END:
            lx->state = ST_INITIAL;
            lx->lineno++;
            EMIT(']', s, 1);
        case R_OFFSET:
            lx->state = ST_OFFSET;
            trim(lx, i, p.len, true);
            lx->tok = T_OFFSET;
            return;
        case R_OFFSET_END:
            lx->state = ST_INITIAL;
            EMIT(']', s, p.len);
        case R_DOLLAR_CURLY:
            push_state(lx, ST_VARNAME);
            EMIT(T_DOLLAR_CURLY, s, 2);
        case R_VARNAME:
        case R_LABEL:
            trim(lx, i, p.len, false);
            lx->tok = p.rule == R_LABEL ? T_LABEL : T_VARNAME;
            return;
        case R_VAR_END:
            pop_state(lx);
            EMIT('}', s, 1);
        case R_TRUE:
            EMIT(T_BOOL_TRUE, "1", 1);
        case R_FALSE:
            EMIT(T_BOOL_FALSE, "", 0);
        case R_NULL:
            EMIT(T_NULL_NULL, "", 0);
        case R_EQUALS:
            lx->state = ST_VALUE;
            EMIT('=', s, p.len);
        case R_VALUE_EOL:
        case R_COMMENT:
        case R_NEWLINE:
            if (p.rule != R_NEWLINE)
                lx->state = ST_INITIAL;
            lx->lineno++;
            EMIT(T_EOL, s, p.len);
        case R_CONSTANT:
            EMIT(T_CONSTANT, s, p.len);
        case R_NUMBER:
            EMIT(T_NUMBER, s, p.len);
        case R_TOKEN:
        case R_OPERATOR:
            EMIT((unsigned char)*s, s, p.len);
        case R_VALUE_END:          /* any other character ends a value */
            lx->state = ST_INITIAL;
            EMIT(T_EOL, s, 1);
        case R_VALUE_EQ:           /* '=' in a value ends it, and is read again */
            lx->pos = i;
            lx->state = ST_INITIAL;
            EMIT(T_EOL, s, 0);
        case R_VALUE_CHARS:
        case R_SECTION_CHARS:
            EMIT(T_STRING, s, p.len);
        case R_DQ_START:
            push_state(lx, ST_DOUBLE_QUOTES);
            EMIT('"', s, p.len);
        case R_DQ_END:
            pop_state(lx);
            EMIT('"', s, p.len);
        case R_DQ_CHARS: {
            size_t n = dq_chars(lx, i);
            lx->pos = i + n;
            dq_unescape(lx, s, n);
            rl_buf_append(&lx->quoted, "", 1);
            lx->quoted.len--;
            EMIT(T_QUOTED_STRING, lx->quoted.data, lx->quoted.len);
        }
        case R_WHITESPACE:
            EMIT(T_WHITESPACE, s, p.len);
        default:
            EMIT(T_END, "", 0);
        }
    }
}

/* ---- constants ---- */

static const struct {
    const char *name;
    const char *value;
} constants[] = {
    { "E_ERROR", "1" }, { "E_WARNING", "2" }, { "E_PARSE", "4" }, { "E_NOTICE", "8" },
    { "E_CORE_ERROR", "16" }, { "E_CORE_WARNING", "32" }, { "E_COMPILE_ERROR", "64" },
    { "E_COMPILE_WARNING", "128" }, { "E_USER_ERROR", "256" }, { "E_USER_WARNING", "512" },
    { "E_USER_NOTICE", "1024" }, { "E_STRICT", "2048" }, { "E_RECOVERABLE_ERROR", "4096" },
    { "E_DEPRECATED", "8192" }, { "E_USER_DEPRECATED", "16384" }, { "E_ALL", "32767" },
    { "PHP_EXTRA_VERSION", "" }, { "PHP_OS", "Linux" }, { "PHP_OS_FAMILY", "Linux" },
    { "PHP_EOL", "\n" }, { "PHP_INT_MAX", "9223372036854775807" },
    { "PHP_INT_MIN", "-9223372036854775808" }, { "PHP_INT_SIZE", "8" }, { "PHP_FLOAT_DIG", "15" },
    { "PHP_FLOAT_EPSILON", "2.2204460492503E-16" }, { "PHP_FLOAT_MAX", "1.7976931348623E+308" },
    { "PHP_FLOAT_MIN", "2.2250738585072E-308" }, { "PHP_DEBUG", "0" }, { "PHP_ZTS", "0" },
    { "ZEND_THREAD_SAFE", "" }, { "ZEND_DEBUG_BUILD", "" }, { "PHP_MAXPATHLEN", "4096" },
    { "PHP_FD_SETSIZE", "1024" }, { "PHP_PREFIX", "/usr" }, { "PHP_BINDIR", "/usr/bin" },
    { "PHP_LIBDIR", "/usr/lib/php" }, { "PHP_DATADIR", "/usr/share/php/8.2" },
    { "PHP_SYSCONFDIR", "/etc" }, { "PHP_LOCALSTATEDIR", "/var" },
    { "PHP_CONFIG_FILE_PATH", "/etc/php/8.2/fpm" },
    { "PHP_CONFIG_FILE_SCAN_DIR", "/etc/php/8.2/fpm/conf.d" },
    { "PHP_EXTENSION_DIR", "/usr/lib/php/20220829" }, { "PHP_SHLIB_SUFFIX", "so" },
    { "PHP_MANDIR", "/usr/share/man" }, { "PHP_BINARY", "/usr/sbin/php-fpm8.2" },
    { "PHP_SAPI", "fpm-fcgi" }, { "DEFAULT_INCLUDE_PATH", ".:/usr/share/php" },
    { "PEAR_INSTALL_DIR", "/usr/share/php" }, { "PEAR_EXTENSION_DIR", "/usr/lib/php/20220829" },
    { "DIRECTORY_SEPARATOR", "/" }, { "PATH_SEPARATOR", ":" },
    { "INI_USER", "1" }, { "INI_PERDIR", "2" }, { "INI_SYSTEM", "4" }, { "INI_ALL", "7" },
    { "LOG_EMERG", "0" }, { "LOG_ALERT", "1" }, { "LOG_CRIT", "2" }, { "LOG_ERR", "3" },
    { "LOG_WARNING", "4" }, { "LOG_NOTICE", "5" }, { "LOG_INFO", "6" }, { "LOG_DEBUG", "7" },
    { "LOG_KERN", "0" }, { "LOG_USER", "8" }, { "LOG_MAIL", "16" }, { "LOG_DAEMON", "24" },
    { "LOG_AUTH", "32" }, { "LOG_SYSLOG", "40" }, { "LOG_LPR", "48" }, { "LOG_NEWS", "56" },
    { "LOG_UUCP", "64" }, { "LOG_CRON", "72" }, { "LOG_AUTHPRIV", "80" },
    { "LOG_LOCAL0", "128" }, { "LOG_LOCAL1", "136" }, { "LOG_LOCAL2", "144" },
    { "LOG_LOCAL3", "152" }, { "LOG_LOCAL4", "160" }, { "LOG_LOCAL5", "168" },
    { "LOG_LOCAL6", "176" }, { "LOG_LOCAL7", "184" }, { "LOG_PID", "1" }, { "LOG_CONS", "2" },
    { "LOG_ODELAY", "4" }, { "LOG_NDELAY", "8" }, { "LOG_NOWAIT", "16" }, { "LOG_PERROR", "32" },
};

const char *rl_ini_php_version(void)
{
    return RL_FPM_PHP_VERSION;
}

/* PHP_VERSION and the constants derived from it. */
static const char *version_constant(const char *name, size_t len)
{
    static char parts[4][16];
    unsigned maj = 0, min = 0, rel = 0;
    sscanf(RL_FPM_PHP_VERSION, "%u.%u.%u", &maj, &min, &rel);
    if (len == 11 && memcmp(name, "PHP_VERSION", 11) == 0)
        return RL_FPM_PHP_VERSION;
    if (len == 17 && memcmp(name, "PHP_MAJOR_VERSION", 17) == 0)
        return snprintf(parts[0], sizeof(parts[0]), "%u", maj), parts[0];
    if (len == 17 && memcmp(name, "PHP_MINOR_VERSION", 17) == 0)
        return snprintf(parts[1], sizeof(parts[1]), "%u", min), parts[1];
    if (len == 19 && memcmp(name, "PHP_RELEASE_VERSION", 19) == 0)
        return snprintf(parts[2], sizeof(parts[2]), "%u", rel), parts[2];
    if (len == 14 && memcmp(name, "PHP_VERSION_ID", 14) == 0)
        return snprintf(parts[3], sizeof(parts[3]), "%u", maj * 10000 + min * 100 + rel), parts[3];
    return NULL;
}

const char *rl_ini_constant(const char *name, size_t len)
{
    /* true, false and null are special: any case */
    if (len == 4 && strncasecmp(name, "true", 4) == 0)
        return "1";
    if ((len == 5 && strncasecmp(name, "false", 5) == 0) ||
        (len == 4 && strncasecmp(name, "null", 4) == 0))
        return "";
    const char *v = version_constant(name, len);
    if (v)
        return v;
    for (size_t i = 0; i < RL_NELEMS(constants); i++)
        if (strlen(constants[i].name) == len && memcmp(constants[i].name, name, len) == 0)
            return constants[i].value;
    return NULL;
}

/* ---- parsing ---- */

typedef struct {
    lexer_t lx;
    bool have;                /* lx holds a token not consumed yet */
    const rl_ini_parser_t *p;
    char *err;
    size_t errlen;
} parser_t;

static int peek(parser_t *ps)
{
    if (!ps->have) {
        lex(&ps->lx);
        ps->have = true;
    }
    return ps->lx.tok;
}

static void advance(parser_t *ps)
{
    ps->have = false;
}

static const char *tok_name(int t, char *buf, size_t size)
{
    static const char *const names[] = {
        "TC_SECTION", "TC_RAW", "TC_CONSTANT", "TC_NUMBER", "TC_STRING", "TC_WHITESPACE",
        "TC_LABEL", "TC_OFFSET", "TC_DOLLAR_CURLY", "TC_VARNAME", "TC_QUOTED_STRING",
        "BOOL_TRUE", "BOOL_FALSE", "NULL_NULL", "END_OF_LINE",
    };
    if (t == T_END)
        return "end of file";
    if (t >= T_SECTION && t <= T_EOL)
        return names[t - T_SECTION];
    snprintf(buf, size, "'%c'", t);
    return buf;
}

/* Records bison's message for the lookahead; <expecting> when the state
 * expects four tokens or fewer. Returns false for the callers to pass on. */
static bool syntax_error(parser_t *ps, const char *expecting)
{
    char name[8];
    rl_errf(ps->err, ps->errlen, "syntax error, unexpected %s%s%s in Unknown on line %d",
            tok_name(ps->lx.tok, name, sizeof(name)), expecting ? ", expecting " : "",
            expecting ? expecting : "", ps->lx.lineno);
    return false;
}

static const char *cstr(rl_buf_t *b)
{
    rl_buf_append(b, "", 1);
    b->len--;
    return b->data;
}

static void append_text(parser_t *ps, rl_buf_t *out)
{
    rl_buf_append(out, ps->lx.text, ps->lx.tlen);
}

/* ${NAME} */
static bool parse_var(parser_t *ps, rl_buf_t *out)
{
    advance(ps);
    if (peek(ps) != T_VARNAME)
        return syntax_error(ps, "TC_VARNAME");
    rl_buf_t name = RL_BUF_INIT;
    append_text(ps, &name);
    advance(ps);
    bool ok = peek(ps) == '}';
    if (ok) {
        advance(ps);
        const char *v = ps->p->var ? ps->p->var(ps->p->ctx, cstr(&name)) : NULL;
        if (v)
            rl_buf_append_c(out, v);
    }
    rl_buf_release(&name);
    return ok ? true : syntax_error(ps, "'}'");
}

/* "text ${VAR} text" */
static bool parse_quoted(parser_t *ps, rl_buf_t *out)
{
    advance(ps);
    for (;;) {
        int t = peek(ps);
        if (t == T_DOLLAR_CURLY) {
            if (!parse_var(ps, out))
                return false;
        } else if (t == T_QUOTED_STRING) {
            append_text(ps, out);
            advance(ps);
        } else if (t == '"') {
            advance(ps);
            return true;
        } else {
            return syntax_error(ps, "TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'");
        }
    }
}

/* A run of words, spaces, quoted strings and ${VAR}s, concatenated; PHP's
 * constants are replaced when <constants> (values and keys, not section
 * names). Possibly empty. */
static bool parse_strings(parser_t *ps, rl_buf_t *out, bool constants)
{
    for (;;) {
        int t = peek(ps);
        if (t == T_DOLLAR_CURLY) {
            if (!parse_var(ps, out))
                return false;
            continue;
        }
        if (t == '"') {
            if (!parse_quoted(ps, out))
                return false;
            continue;
        }
        if (t != T_CONSTANT && t != T_RAW && t != T_NUMBER && t != T_STRING && t != T_WHITESPACE)
            return true;
        const char *c = t == T_CONSTANT && constants ? rl_ini_constant(ps->lx.text, ps->lx.tlen) : NULL;
        if (c)
            rl_buf_append_c(out, c);
        else
            append_text(ps, out);
        advance(ps);
    }
}

static bool expr_start(int t)
{
    return t == T_DOLLAR_CURLY || t == T_RAW || t == T_CONSTANT || t == T_NUMBER ||
           t == T_STRING || t == T_WHITESPACE || t == '"' || t == '~' || t == '!' || t == '(';
}

/* PHP's operands are read with atoi(), results printed with "%d". */
static int int_value(rl_buf_t *b)
{
    return (int)strtol(cstr(b), NULL, 10);
}

static void set_int(rl_buf_t *b, int v)
{
    rl_buf_clear(b);
    rl_buf_appendf(b, "%d", v);
}

static bool parse_expr(parser_t *ps, rl_buf_t *out);

static bool parse_unary(parser_t *ps, rl_buf_t *out)
{
    int t = peek(ps);
    if (t == '~' || t == '!') {
        advance(ps);
        if (!expr_start(peek(ps)))
            return syntax_error(ps, NULL);
        rl_buf_t v = RL_BUF_INIT;
        bool ok = parse_unary(ps, &v);
        if (ok) {
            int i = int_value(&v);
            set_int(out, t == '~' ? ~i : !i);
        }
        rl_buf_release(&v);
        return ok;
    }
    if (t == '(') {
        advance(ps);
        if (!expr_start(peek(ps)))
            return syntax_error(ps, NULL);
        if (!parse_expr(ps, out))
            return false;
        if (peek(ps) != ')')
            return syntax_error(ps, "'^' or '|' or '&' or ')'");
        advance(ps);
        return true;
    }
    return parse_strings(ps, out, true);
}

/* | & ^: one precedence, left to right. */
static bool parse_expr(parser_t *ps, rl_buf_t *out)
{
    if (!parse_unary(ps, out))
        return false;
    for (;;) {
        int op = peek(ps);
        if (op != '|' && op != '&' && op != '^')
            return true;
        advance(ps);
        if (!expr_start(peek(ps)))
            return syntax_error(ps, NULL);
        rl_buf_t rhs = RL_BUF_INIT;
        if (!parse_unary(ps, &rhs)) {
            rl_buf_release(&rhs);
            return false;
        }
        int a = int_value(out), b = int_value(&rhs);
        set_int(out, op == '|' ? (a | b) : op == '&' ? (a & b) : (a ^ b));
        rl_buf_release(&rhs);
    }
}

/* What follows "name =": an expression, a boolean, or nothing. */
static bool parse_value(parser_t *ps, rl_buf_t *out)
{
    int t = peek(ps);
    if (t == T_BOOL_TRUE || t == T_BOOL_FALSE || t == T_NULL_NULL || t == T_EOL) {
        if (t == T_BOOL_TRUE)
            rl_buf_append(out, "1", 1);
        advance(ps);
        return true;
    }
    if (!expr_start(t))
        return syntax_error(ps, NULL);
    return parse_expr(ps, out);
}

static void report(parser_t *ps, rl_ini_event_t ev, rl_buf_t *name, rl_buf_t *key, rl_buf_t *value)
{
    ps->p->statement(ps->p->ctx, ev, cstr(name), key ? cstr(key) : NULL,
                     value ? cstr(value) : NULL);
}

/* One statement; <name>, <key> and <value> are the caller's scratch. */
static bool parse_statement(parser_t *ps, rl_buf_t *name, rl_buf_t *key, rl_buf_t *value)
{
    int t = peek(ps);
    if (t == T_SECTION) {
        advance(ps);
        if (!parse_strings(ps, name, false))
            return false;
        if (peek(ps) != ']')
            return syntax_error(ps, "']'");
        advance(ps);
        report(ps, RL_INI_SECTION, name, NULL, NULL);
        return true;
    }
    if (t == T_LABEL) {
        append_text(ps, name);
        advance(ps);
        if (peek(ps) != '=') {
            report(ps, RL_INI_ENTRY, name, NULL, NULL);
            return true;
        }
        advance(ps);
        if (!parse_value(ps, value))
            return false;
        report(ps, RL_INI_ENTRY, name, NULL, value);
        return true;
    }
    if (t == T_OFFSET) {
        append_text(ps, name);
        advance(ps);
        if (!parse_strings(ps, key, true))
            return false;
        if (peek(ps) != ']')
            return syntax_error(ps, "']'");
        advance(ps);
        if (peek(ps) != '=')
            return syntax_error(ps, "'='");
        advance(ps);
        if (!parse_value(ps, value))
            return false;
        report(ps, RL_INI_ARRAY, name, key, value);
        return true;
    }
    return syntax_error(ps, NULL);
}

int rl_ini_parse(const rl_ini_parser_t *p, const char *text, size_t len, char *err, size_t errlen)
{
    parser_t ps = { .p = p, .err = err, .errlen = errlen };
    ps.lx.s = text;
    ps.lx.len = strnlen(text, len);
    if (ps.lx.len > 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        ps.lx.pos = 3;        /* a UTF-8 BOM */
    ps.lx.state = ST_INITIAL;
    ps.lx.lineno = 1;
    ps.lx.quoted = RL_BUF_INIT;
    rl_buf_t name = RL_BUF_INIT, key = RL_BUF_INIT, value = RL_BUF_INIT;
    bool ok = true;
    for (;;) {
        int t = peek(&ps);
        if (t == T_END)
            break;
        if (t == T_EOL) {
            advance(&ps);
            continue;
        }
        rl_buf_clear(&name);
        rl_buf_clear(&key);
        rl_buf_clear(&value);
        if (!(ok = parse_statement(&ps, &name, &key, &value)))
            break;
    }
    rl_buf_release(&name);
    rl_buf_release(&key);
    rl_buf_release(&value);
    rl_buf_release(&ps.lx.quoted);
    if (ok)
        rl_errf(err, errlen, "%s", "");
    return ok ? RL_OK : RL_ERROR;
}
