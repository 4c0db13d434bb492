/* ETags and preconditions.
 *
 * Apache 2.4's ap_meets_conditions() departs from RFC 9110 in ways we do not
 * copy, because they make caches misbehave or are plain bugs:
 *  - it checks If-Unmodified-Since even when If-Match is present;
 *  - it checks If-Modified-Since even when If-None-Match is present, and a
 *    failing If-Modified-Since then cancels the 304 of a matching
 *    If-None-Match (so a client sending both gets 200);
 *  - with If-Range and Range both present it never answers 304;
 *  - If-Unmodified-Since never fails on a Range request for a file changed
 *    less than 60 s ago;
 *  - its tag list scan stops at the first weak member when comparing
 *    strongly (If-Match: W/"a", "b" never matches "b").
 * What we keep from Apache: its ETag format and weakness rule, ignoring an
 * If-Modified-Since date later than the request time, and its 60-second
 * rule for trusting Last-Modified when ranges are involved. */
#include <stdio.h>
#include "http/etag.h"
#include "http/date.h"

static char *hex64(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* st_mtim in microseconds (APR's apr_time_t), saturated. */
static int64_t mtime_usec(const struct stat *st)
{
    int64_t s = (int64_t)st->st_mtim.tv_sec;
    if (s > INT64_MAX / 1000000 - 1)
        s = INT64_MAX / 1000000 - 1;
    if (s < INT64_MIN / 1000000 + 1)
        s = INT64_MIN / 1000000 + 1;
    return s * 1000000 + st->st_mtim.tv_nsec / 1000;
}

size_t rl_http_etag(char *out, size_t outlen, const struct stat *st,
                    unsigned bits, int64_t request_usec)
{
    if ((bits & RL_ETAG_ALL) == 0)
        return 0;
    int64_t mtime = mtime_usec(st);
    char buf[RL_ETAG_MAX], *p = buf;
    if (request_usec < mtime || (uint64_t)request_usec - (uint64_t)mtime < 1000000) {
        *p++ = 'W';
        *p++ = '/';
    }
    *p++ = '"';
    bool sep = false;
    if (bits & RL_ETAG_INODE) {
        p = hex64(p, (uint64_t)st->st_ino);
        sep = true;
    }
    if (bits & RL_ETAG_SIZE) {
        if (sep)
            *p++ = '-';
        p = hex64(p, (uint64_t)st->st_size);
        sep = true;
    }
    if (bits & RL_ETAG_MTIME) {
        if (sep)
            *p++ = '-';
        p = hex64(p, (uint64_t)mtime);
    }
    *p++ = '"';
    size_t len = (size_t)(p - buf);
    if (len + 1 > outlen)
        return 0;
    memcpy(out, buf, len);
    out[len] = '\0';
    return len;
}

/* Splits entity-tag <t> ("W/" optional, then a quoted opaque tag of etagc
 * bytes) into its weakness and opaque part (with the quotes). */
static bool parse_tag(rl_str_t t, bool *weak, rl_str_t *opaque)
{
    *weak = t.len >= 2 && t.p[0] == 'W' && t.p[1] == '/';
    if (*weak) {
        t.p += 2;
        t.len -= 2;
    }
    if (t.len < 2 || t.p[0] != '"' || t.p[t.len - 1] != '"')
        return false;
    for (size_t i = 1; i + 1 < t.len; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (c == '"' || c <= 0x20 || c == 0x7f)
            return false;
    }
    *opaque = t;
    return true;
}

bool rl_http_etag_match(rl_str_t a, rl_str_t b, bool strong)
{
    bool wa, wb;
    rl_str_t oa, ob;
    if (!parse_tag(rl_str_trim(a), &wa, &oa) || !parse_tag(rl_str_trim(b), &wb, &ob))
        return false;
    if (strong && (wa || wb))
        return false;
    return rl_str_eq(oa, ob);
}

/* The next list member of <*list>: from its start to the closing quote of a
 * tag, or to the next comma for a malformed member. Commas inside quotes do
 * not split. */
static rl_str_t next_member(rl_str_t *list)
{
    size_t i = 0;
    while (i < list->len && (list->p[i] == ',' || list->p[i] == ' ' || list->p[i] == '\t'))
        i++;
    size_t start = i;
    bool quoted = false;
    for (; i < list->len; i++) {
        char c = list->p[i];
        if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            break;
    }
    rl_str_t m = rl_str_trim(rl_str(list->p + start, i - start));
    list->p += i;
    list->len -= i;
    return m;
}

bool rl_http_etag_list_match(rl_str_t list, rl_str_t etag, bool strong)
{
    list = rl_str_trim(list);
    if (list.len == 1 && list.p[0] == '*')
        return true;
    if (etag.len == 0)
        return false;
    while (list.len) {
        rl_str_t m = next_member(&list);
        if (m.len && rl_http_etag_match(m, etag, strong))
            return true;
    }
    return false;
}

static bool is_get_or_head(rl_str_t method)
{
    return rl_str_eq_c(method, "GET") || rl_str_eq_c(method, "HEAD");
}

int rl_http_conditional(const rl_cond_input_t *in)
{
    time_t t;
    bool get = is_get_or_head(in->method);

    if (in->if_match.p) {
        if (!rl_http_etag_list_match(in->if_match, in->etag, true))
            return 412;
    } else if (in->if_unmodified_since.p && in->has_mtime
               && rl_http_date_parse(in->if_unmodified_since, &t)
               && in->mtime > t) {
        return 412;
    }

    if (in->if_none_match.p) {
        if (rl_http_etag_list_match(in->if_none_match, in->etag, false))
            return get ? 304 : 412;
    } else if (get && in->if_modified_since.p && in->has_mtime
               && rl_http_date_parse(in->if_modified_since, &t)
               && t <= in->now && in->mtime <= t
               && !(in->has_range && in->mtime > in->now - 60)) {
        return 304;
    }
    return 0;
}

bool rl_http_if_range_ok(rl_str_t if_range, rl_str_t etag, time_t mtime, time_t now)
{
    if_range = rl_str_trim(if_range);
    if (if_range.len == 0)
        return false;
    if (if_range.p[0] == '"' || (if_range.len > 1 && if_range.p[0] == 'W' && if_range.p[1] == '/'))
        return etag.len > 0 && rl_http_etag_match(if_range, etag, true);
    time_t t;
    if (!rl_http_date_parse(if_range, &t))
        return false;
    return t == mtime && mtime <= now - 60;
}
