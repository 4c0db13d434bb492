/* The lexical layer of Apache configuration files: logical lines and words.
 *
 * A logical line is one or more physical lines joined where a line ends in a
 * backslash right before its [CR]LF (the backslash is removed, nothing is
 * inserted, the next line's leading blanks are kept), with leading and
 * trailing white space removed. Words follow ap_getword_conf(): split on
 * white space; a word that *starts* with " or ' runs to the matching quote,
 * inside which \<quote> and \\ are unescaped; outside quotes only \\ is. A
 * quote in the middle of a word is an ordinary character.
 *
 * Nothing here knows about sections, variables or includes: see tree.h. */
#ifndef RL_CONF_LEXER_H
#define RL_CONF_LEXER_H

#include "core/rl.h"
#include "core/arena.h"
#include "core/buf.h"

/* A source of lines: a file descriptor read in chunks, or a string. */
typedef struct {
    const char *name;       /* for messages: the path or the origin */
    int fd;                 /* -1 for a string source */
    const char *data;       /* unread input: data[pos..len) */
    size_t pos, len;
    char *chunk;            /* the read buffer of an fd source */
    bool eof;
    int lineno;             /* physical line number of the last line read */
    size_t max_line;        /* limit of a logical line in bytes */
    rl_buf_t line;          /* the current logical line */
    char err[160];          /* set when rl_conf_src_getline() returns -1 */
} rl_conf_src_t;

/* Prepares <s> to read lines from <fd>, which rl_conf_src_close() closes.
 * <name> must outlive the source. */
void rl_conf_src_init_fd(rl_conf_src_t *s, const char *name, int fd, size_t max_line);
/* Prepares <s> to read lines from <text>[0..len), which must outlive it. */
void rl_conf_src_init_mem(rl_conf_src_t *s, const char *name, const char *text, size_t len,
                          size_t max_line);
/* Frees the buffers and closes the fd of <s>. */
void rl_conf_src_close(rl_conf_src_t *s);

/* Reads the next logical line into *<line>: trimmed, NUL-terminated, valid
 * until the next call; s->lineno is then the number of its last physical
 * line. Returns 1, 0 at the end of the input, or -1 with s->err set (a line
 * over s->max_line bytes, a NUL byte, a read error). */
int rl_conf_src_getline(rl_conf_src_t *s, char **line);

/* Apache's white space (isspace() in the C locale). */
static inline bool rl_conf_isspace(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Splits off the next word of *<p> (see above) into <a> and advances *<p>
 * past the word and the blanks after it. Returns "" at the end of the text.
 * *<unterminated> (may be NULL) is set to true when the word opened a quote
 * that the text never closes; the word then runs to the end. */
char *rl_conf_getword(rl_arena_t *a, const char **p, bool *unterminated);

/* Splits all of <text> into words. Returns the count and sets *<argv> to a
 * NULL-terminated array in <a>, or returns -1 when a quote is not closed. */
int rl_conf_split(rl_arena_t *a, const char *text, char ***argv);

/* True when <pattern> has a wildcard for fnmatch() (apr_fnmatch_test()):
 * '*', '?', or '[' with a ']' after it; a backslash escapes. */
bool rl_conf_has_wildcard(const char *pattern);

#endif
