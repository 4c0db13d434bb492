/* Status codes: reason phrases and the error documents Apache 2.4 writes
 * itself (ap_send_error_response() and get_canned_error_string() in
 * http_protocol.c), byte for byte as Apache/2.4.71 (Debian) sends them.
 *
 * An error body is
 *   <!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
 *   <html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n
 *   <the status's message>
 *   [<hr>\n<address>...</address>\n]       (ServerSignature On or EMail)
 *   </body></html>\n
 * and is sent as "text/html; charset=iso-8859-1". Everything taken from the
 * request or the configuration is HTML-escaped here, except <notes> and
 * <variants>, which are HTML built by the caller (Apache's "error-notes" and
 * "variant-list" notes). */
#ifndef RL_HTTP_STATUS_H
#define RL_HTTP_STATUS_H

#include "core/rl.h"
#include "core/str.h"
#include "core/buf.h"

/* Content-Type of the error documents (AddDefaultCharset aside). */
#define RL_ERROR_CONTENT_TYPE "text/html; charset=iso-8859-1"

/* Apache's reason phrase for <status> ("Not Found", "Request Entity Too
 * Large", "Request-URI Too Long"...), or NULL for a code Apache does not
 * know (418, 425, 599...). */
const char *rl_http_reason(int status);

/* Apache's status line without the protocol ("404 Not Found"). Like
 * ap_get_status_line(), an unknown code gives "500 Internal Server Error":
 * Apache answers 500 when a module sets a status it does not know. */
const char *rl_http_status_line(int status);

/* What an error document may mention. Every field may be NULL / 0. */
typedef struct {
    const char *method;      /* request method: 405, 411, 413, 501 */
    const char *location;    /* Location: 301, 302, 303, 307, 308 */
    const char *expect;      /* the Expect header received: 417 */
    const char *admin;       /* ServerAdmin: 500 and unlisted statuses */
    const char *notes;       /* HTML: Apache's "error-notes", added by 400,
                              * 403, 411, 414, 417, 451, 501, 502 (and by the
                              * default message when notes_verbose) */
    bool notes_verbose;      /* "verbose-error-to *": a 500-style message is
                              * replaced by <notes> + "<p />\n" */
    const char *variants;    /* HTML: "variant-list" note for 300 and 406 */
    const char *status_line; /* a module's own status line ("502 Proxy
                              * Error"), used as the title when it starts
                              * with <status>, as Apache checks it */
    const char *signature;   /* the <address> line built by
                              * rl_http_signature(); NULL or "": Off */
    int recursive_error;     /* status of a failing ErrorDocument, or 0 */
} rl_error_ctx_t;

/* Appends to <out> the HTML body Apache 2.4 sends for <status> (3xx, 4xx,
 * 5xx) with <ctx> (NULL: all empty). Statuses Apache has no message for get
 * its 500 message, unknown codes its "500 Internal Server Error" title. */
void rl_http_error_body(rl_buf_t *out, int status, const rl_error_ctx_t *ctx);

/* ServerSignature settings. */
typedef enum {
    RL_SIGNATURE_OFF = 0,
    RL_SIGNATURE_ON,
    RL_SIGNATURE_EMAIL
} rl_signature_t;

/* Appends Apache's ap_psignature() text without its prefix:
 *   On:    "<address>BANNER Server at NAME Port 80</address>\n"
 *   EMail: "<address>BANNER Server at <a href=\"mailto:ADMIN\">NAME</a> Port 80</address>\n"
 *          ("mailto:" left out when ADMIN is already a URL)
 *   Off:   nothing.
 * <banner> is the ServerTokens string ("Apache/2.4.71 (Debian)"), <name> and
 * <port> the server name and port of the request (UseCanonicalName). */
void rl_http_signature(rl_buf_t *out, rl_signature_t mode, const char *banner,
                       const char *name, unsigned port, const char *admin);

/* Appends <s> with & < > " replaced by entities (ap_escape_html). */
void rl_http_escape_html(rl_buf_t *out, rl_str_t s);

#endif
