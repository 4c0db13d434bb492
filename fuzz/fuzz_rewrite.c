/* libFuzzer driver for mod_rewrite's line parsers (src/httpd/mod/
 * rewrite_engine.c): RewriteCond and RewriteRule arguments as they come
 * from a configuration or a .htaccess file, which anyone with a site may
 * write. The input, up to its first NUL, is split at its newlines: every
 * line but the last is a RewriteCond, the last a RewriteRule taking them.
 * Each line is parsed twice and must give the same verdict (a rule or a
 * message, never both, never neither). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "httpd/mod/rewrite.h"

#define MAX_CONDS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_arena_t *a = rl_arena_create(4096);
    char *text = rl_arena_strndup(a, (const char *)data, size);
    rl_rewrite_cond_t *conds[MAX_CONDS];
    unsigned n = 0;
    char *line = text;
    for (char *nl; (nl = strchr(line, '\n')) && n < MAX_CONDS; line = nl + 1) {
        *nl = '\0';
        rl_rewrite_cond_t *c = NULL, *c2 = NULL;
        const char *err = rl_rewrite_cond_parse(a, line, &c);
        const char *err2 = rl_rewrite_cond_parse(a, line, &c2);
        assert((err == NULL) == (c != NULL));
        assert((err == NULL) == (err2 == NULL));
        if (c)
            conds[n++] = c;
    }
    rl_rewrite_rule_t *r = NULL, *r2 = NULL;
    const char *err = rl_rewrite_rule_parse(a, line, conds, n, &r);
    const char *err2 = rl_rewrite_rule_parse(a, line, conds, n, &r2);
    assert((err == NULL) == (r != NULL));
    assert((err == NULL) == (err2 == NULL));
    rl_arena_destroy(a);
    return 0;
}
