/* Request-target splitting, path canonicalisation and escaping.
 *
 * The normaliser decodes first and removes dot segments afterwards, on the
 * decoded bytes: doing it the other way round is how "%2e%2e/" escaped the
 * document root in Apache 2.4.49 (CVE-2021-41773). */
#include "http/uri.h"

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ---- splitting ---- */

/* Splits "<path>?<query>" (path may be empty). */
static void split_query(rl_str_t s, rl_str_t *path, rl_str_t *query)
{
    ssize_t q = rl_str_chr(s, '?');

    if (q < 0) {
        *path = s;
        *query = RL_STR_NULL;
    } else {
        *path = rl_str(s.p, (size_t)q);
        *query = rl_str(s.p + q + 1, s.len - (size_t)q - 1);
    }
}

/* host = IP-literal / IPv4address / reg-name, restricted to what a server
 * name can be (Apache's fix_hostname is as strict). */
static bool valid_host(rl_str_t h)
{
    size_t i;

    if (h.len == 0)
        return false;
    if (h.p[0] == '[') {
        if (h.len < 3 || h.p[h.len - 1] != ']')
            return false;
        for (i = 1; i < h.len - 1; i++) {
            if (hex_value((unsigned char)h.p[i]) < 0 && h.p[i] != ':' && h.p[i] != '.')
                return false;
        }
        return true;
    }
    for (i = 0; i < h.len; i++) {
        unsigned char c = (unsigned char)h.p[i];
        if (!is_alnum(c) && c != '-' && c != '.' && c != '_')
            return false;
    }
    return true;
}

/* authority = host [ ":" port ], no userinfo. */
static bool valid_authority(rl_str_t a)
{
    size_t i = a.len, colon;
    uint64_t port;

    if (rl_str_chr(a, '@') >= 0)
        return false;
    /* the port separator is the last ':' not inside an IP literal */
    while (i > 0 && a.p[i - 1] != ':' && a.p[i - 1] != ']')
        i--;
    if (i == 0 || a.p[i - 1] == ']')
        return valid_host(a);
    colon = i - 1;
    if (colon + 1 < a.len &&
        !rl_str_to_u64(rl_str(a.p + colon + 1, a.len - colon - 1), 65535, &port))
        return false;
    return valid_host(rl_str(a.p, colon));
}

/* "http://" or "https://", any case; returns the scheme's length with "://"
 * or 0. */
static size_t http_scheme(rl_str_t t)
{
    if (t.len >= 7 && strncasecmp(t.p, "http://", 7) == 0)
        return 7;
    if (t.len >= 8 && strncasecmp(t.p, "https://", 8) == 0)
        return 8;
    return 0;
}

int rl_uri_split(rl_str_t target, rl_str_t *path, rl_str_t *query, rl_str_t *host_out)
{
    rl_str_t p, q, host = RL_STR_NULL, rest;
    size_t skip, i;
    int form = RL_URI_ORIGIN;

    if (target.len == 0 || rl_str_chr(target, '#') >= 0)
        return -400;
    if (target.p[0] == '/') {
        split_query(target, &p, &q);
    } else if (target.len == 1 && target.p[0] == '*') {
        p = target;
        q = RL_STR_NULL;
        form = RL_URI_ASTERISK;
    } else if ((skip = http_scheme(target)) != 0) {
        rest = rl_str(target.p + skip, target.len - skip);
        for (i = 0; i < rest.len && rest.p[i] != '/' && rest.p[i] != '?'; i++)
            ;
        host = rl_str(rest.p, i);
        if (!valid_authority(host))
            return -400;
        split_query(rl_str(rest.p + i, rest.len - i), &p, &q);
        if (p.len == 0)
            p = RL_STR("/");
        form = RL_URI_ABSOLUTE;
    } else {
        return -400;    /* authority-form, other schemes, relative paths */
    }
    if (path)
        *path = p;
    if (query)
        *query = q;
    if (host_out)
        *host_out = host;
    return form;
}

/* ---- normalisation ---- */

/* Removes dot segments and merges slashes in <s>[0..<n>), which starts with
 * '/', in place; returns the new length. Writing never overtakes reading:
 * every segment written was preceded by at least one '/' read. */
static size_t remove_dots(char *s, size_t n)
{
    size_t r = 0, w = 0;

    while (r < n) {
        size_t seg, slen;
        while (r < n && s[r] == '/')
            r++;
        seg = r;
        while (r < n && s[r] != '/')
            r++;
        slen = r - seg;
        if (slen == 1 && s[seg] == '.') {
            /* "/a/." is the directory "/a/" */
        } else if (slen == 2 && s[seg] == '.' && s[seg + 1] == '.') {
            if (w > 1 && s[w - 1] == '/')
                w--;
            while (w > 0 && s[w - 1] != '/')
                w--;
        } else if (slen > 0) {
            if (w == 0 || s[w - 1] != '/')
                s[w++] = '/';
            memmove(s + w, s + seg, slen);
            w += slen;
            continue;
        }
        /* after ".", ".." or trailing slashes the path names a directory */
        if (w == 0 || s[w - 1] != '/')
            s[w++] = '/';
    }
    return w;
}

ssize_t rl_uri_normalize(const char *in, size_t len, char *out, bool decode_slashes)
{
    size_t i, n = 0;
    bool not_found = false;

    out[n++] = '/';     /* merged with the input's own leading '/', if any */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\0')
            return -400;
        if (c == '%') {
            int hi = i + 2 < len ? hex_value((unsigned char)in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -400;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            /* keep scanning: a bad escape further on is still a 400 */
            if (c == '\0' || (c == '/' && !decode_slashes))
                not_found = true;
        }
        out[n++] = (char)c;
    }
    if (not_found)
        return -404;
    return (ssize_t)remove_dots(out, n);
}

/* ---- escaping ---- */

size_t rl_uri_escape_path(char *out, const char *in, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_alnum(c) || (c != '\0' && strchr("$-_.+!*'(),:;@&=/~", c))) {
            if (out)
                out[n] = (char)c;
            n++;
        } else {
            if (out) {
                out[n] = '%';
                out[n + 1] = hex[c >> 4];
                out[n + 2] = hex[c & 15];
            }
            n += 3;
        }
    }
    return n;
}

size_t rl_html_escape(char *out, const char *in, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        const char *rep;
        switch (in[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: rep = NULL; break;
        }
        if (rep == NULL) {
            if (out)
                out[n] = in[i];
            n++;
        } else {
            size_t rl = strlen(rep);
            if (out)
                memcpy(out + n, rep, rl);
            n += rl;
        }
    }
    return n;
}
