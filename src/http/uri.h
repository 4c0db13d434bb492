/* Request-target handling: splitting a target into path and query (RFC 9112
 * 3.2), turning the path into the canonical form every later lookup uses
 * (Apache's unescape + getparents + MergeSlashes), and the escapers needed to
 * put a path back into a Location header or an HTML error page.
 *
 * Errors are returned as a negative HTTP status (-400, -404) so the caller
 * can answer with the code Apache would. Nothing here allocates. */
#ifndef RL_HTTP_URI_H
#define RL_HTTP_URI_H

#include "core/rl.h"
#include "core/str.h"

/* Forms of a request-target returned by rl_uri_split(). */
#define RL_URI_ORIGIN   1   /* "/path?query" */
#define RL_URI_ABSOLUTE 2   /* "http://host:port/path?query" */
#define RL_URI_ASTERISK 3   /* "*": the caller must refuse it unless OPTIONS */

/* Splits <target> as sent in the request line. On success sets (each output
 * may be NULL):
 *   *<path>  the path, still percent-encoded: "/" for an absolute-form target
 *            without one, "*" for the asterisk-form;
 *   *<query> what follows the first '?', or RL_STR_NULL (p == NULL) when
 *            there is no '?' (an empty query has p != NULL and len 0);
 *   *<host_out> for the absolute-form, the authority ("host" or
 *            "host:port", as a Host header carries it), else RL_STR_NULL.
 * Returns RL_URI_ORIGIN, RL_URI_ABSOLUTE or RL_URI_ASTERISK; -400 for a
 * fragment ('#'), the authority-form ("host:443", CONNECT's: the caller
 * answers CONNECT itself before splitting), a scheme other than http or
 * https, user info ("http://u@host/"), a bad host or port, or anything
 * else that is not a target. */
int rl_uri_split(rl_str_t target, rl_str_t *path, rl_str_t *query, rl_str_t *host_out);

/* Bytes rl_uri_normalize() may write for an input of <len> bytes. */
#define RL_URI_NORMALIZE_SIZE(len) ((len) + 1)

/* Canonicalises the URL path <in>[0..<len>) into <out> (room for
 * RL_URI_NORMALIZE_SIZE(len) bytes, not overlapping <in>, not
 * NUL-terminated):
 *   - percent-decodes, then removes "." and ".." segments on the decoded
 *     path (so "%2e%2e" cannot climb), never above the root: "/../x" is "/x";
 *   - merges runs of '/' (Apache's MergeSlashes On);
 *   - the output starts with '/', and never contains "//", a "." or ".."
 *     segment: joined to a directory it stays inside it. A trailing '/' is
 *     kept ("/a/b/.." is "/a/"). '\' is an ordinary byte.
 * Returns the length written, or:
 *   -400 for a malformed escape ("%zz", "%4" at the end) or a raw NUL byte;
 *   -404 for "%00", and for "%2F" unless <decode_slashes> (Apache answers
 *        404 to both, with AllowEncodedSlashes Off for the latter).
 * A malformed escape anywhere wins over a 404 cause, as in ap_unescape_url. */
ssize_t rl_uri_normalize(const char *in, size_t len, char *out, bool decode_slashes);

/* Percent-encodes the decoded path <in>[0..<len>) for a Location header or
 * a redirect, escaping every byte but alphanumerics and "$-_.+!*'(),:;@&=/~"
 * (Apache's ap_os_escape_path). Writes to <out>, which must hold 3 * <len>
 * bytes, or only measures when <out> is NULL. Returns the length. */
size_t rl_uri_escape_path(char *out, const char *in, size_t len);

/* Escapes & < > " ' for HTML text and attributes (error pages, directory
 * listings). <out> must hold 6 * <len> bytes, or NULL to measure. Returns
 * the length. */
size_t rl_html_escape(char *out, const char *in, size_t len);

#endif
