/* Reason phrases and Apache's canned error documents.
 *
 * The texts are Apache 2.4.71's, checked byte for byte against a running
 * Debian apache2 (tests/unit/test_status.c holds the captures). Their odd
 * corners are deliberate: the 413 message has no <p>, the 502 message uses
 * CRLF line ends, the 417 message without Expect has a space before its
 * newline, the 426 message is never closed. */
#include "http/status.h"

static const char *const lines_1xx[] = {
    "100 Continue", "101 Switching Protocols", "102 Processing", "103 Early Hints",
};

static const char *const lines_2xx[] = {
    "200 OK", "201 Created", "202 Accepted", "203 Non-Authoritative Information",
    "204 No Content", "205 Reset Content", "206 Partial Content",
    "207 Multi-Status", "208 Already Reported",
    [26] = "226 IM Used",
};

static const char *const lines_3xx[] = {
    "300 Multiple Choices", "301 Moved Permanently", "302 Found", "303 See Other",
    "304 Not Modified", "305 Use Proxy", NULL, "307 Temporary Redirect",
    "308 Permanent Redirect",
};

static const char *const lines_4xx[] = {
    "400 Bad Request", "401 Unauthorized", "402 Payment Required",
    "403 Forbidden", "404 Not Found", "405 Method Not Allowed",
    "406 Not Acceptable", "407 Proxy Authentication Required",
    "408 Request Timeout", "409 Conflict", "410 Gone", "411 Length Required",
    "412 Precondition Failed", "413 Request Entity Too Large",
    "414 Request-URI Too Long", "415 Unsupported Media Type",
    "416 Requested Range Not Satisfiable", "417 Expectation Failed",
    [21] = "421 Misdirected Request", "422 Unprocessable Entity", "423 Locked",
    "424 Failed Dependency", [26] = "426 Upgrade Required",
    [28] = "428 Precondition Required", "429 Too Many Requests",
    [31] = "431 Request Header Fields Too Large",
    [51] = "451 Unavailable For Legal Reasons",
};

static const char *const lines_5xx[] = {
    "500 Internal Server Error", "501 Not Implemented", "502 Bad Gateway",
    "503 Service Unavailable", "504 Gateway Timeout",
    "505 HTTP Version Not Supported", "506 Variant Also Negotiates",
    "507 Insufficient Storage", "508 Loop Detected", NULL, "510 Not Extended",
    "511 Network Authentication Required",
};

static const struct {
    const char *const *lines;
    size_t n;
} levels[5] = {
    { lines_1xx, RL_NELEMS(lines_1xx) },
    { lines_2xx, RL_NELEMS(lines_2xx) },
    { lines_3xx, RL_NELEMS(lines_3xx) },
    { lines_4xx, RL_NELEMS(lines_4xx) },
    { lines_5xx, RL_NELEMS(lines_5xx) },
};

static const char *known_line(int status)
{
    if (status < 100 || status > 599)
        return NULL;
    int level = status / 100 - 1, i = status % 100;
    if ((size_t)i >= levels[level].n)
        return NULL;
    return levels[level].lines[i];
}

const char *rl_http_reason(int status)
{
    const char *line = known_line(status);
    return line ? line + 4 : NULL;
}

const char *rl_http_status_line(int status)
{
    const char *line = known_line(status);
    return line ? line : lines_5xx[0];
}

void rl_http_escape_html(rl_buf_t *out, rl_str_t s)
{
    size_t start = 0;
    for (size_t i = 0; i < s.len; i++) {
        const char *ent;
        switch (s.p[i]) {
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '&': ent = "&amp;"; break;
        case '"': ent = "&quot;"; break;
        default: continue;
        }
        rl_buf_append(out, s.p + start, i - start);
        rl_buf_append_c(out, ent);
        start = i + 1;
    }
    rl_buf_append(out, s.p + start, s.len - start);
}

static void esc(rl_buf_t *out, const char *s)
{
    if (s)
        rl_http_escape_html(out, rl_str_c(s));
}

static void put(rl_buf_t *out, const char *s)
{
    if (s)
        rl_buf_append_c(out, s);
}

/* Apache's add_optional_notes(): prefix, the note if any, suffix. */
static void with_notes(rl_buf_t *out, const char *prefix, const char *notes,
                       const char *suffix)
{
    put(out, prefix);
    put(out, notes);
    put(out, suffix);
}

static void message_500(rl_buf_t *out, const rl_error_ctx_t *c)
{
    if (c->notes && c->notes_verbose) {
        put(out, c->notes);
        put(out, "<p />\n");
        return;
    }
    put(out, "<p>The server encountered an internal error or\n"
             "misconfiguration and was unable to complete\n"
             "your request.</p>\n"
             "<p>Please contact the server administrator at \n ");
    esc(out, c->admin);
    put(out, " to inform them of the time this error occurred,\n"
             " and the actions you performed just before this error.</p>\n"
             "<p>More information about this error may be available\n"
             "in the server error log.</p>\n");
}

#define AUTH_TEXT \
    "<p>This server could not verify that you\n" \
    "are authorized to access the document\n" \
    "requested.  Either you supplied the wrong\n" \
    "credentials (e.g., bad password), or your\n" \
    "browser doesn't understand how to supply\n" \
    "the credentials required.</p>\n"

/* Messages with a part from the request. */
static bool message_dynamic(rl_buf_t *out, int status, const rl_error_ctx_t *c)
{
    switch (status) {
    case 301: case 302: case 307: case 308:
        put(out, "<p>The document has moved <a href=\"");
        esc(out, c->location);
        put(out, "\">here</a>.</p>\n");
        return true;
    case 303:
        put(out, "<p>The answer to your request is located <a href=\"");
        esc(out, c->location);
        put(out, "\">here</a>.</p>\n");
        return true;
    case 405:
        put(out, "<p>The requested method ");
        esc(out, c->method);
        put(out, " is not allowed for this URL.</p>\n");
        return true;
    case 411:
        put(out, "<p>A request of the requested method ");
        esc(out, c->method);
        with_notes(out, " requires a valid Content-length.<br />\n", c->notes, "</p>\n");
        return true;
    case 413:
        put(out, "The requested resource does not allow request data with ");
        esc(out, c->method);
        put(out, " requests, or the amount of data provided in\n"
                 "the request exceeds the capacity limit.\n");
        return true;
    case 417:
        if (c->expect) {
            put(out, "<p>The expectation given in the Expect request-header\n"
                     "field could not be met by this server.\n"
                     "The client sent<pre>\n    Expect: ");
            esc(out, c->expect);
            put(out, "\n</pre>\n");
        } else {
            put(out, "<p>No expectation was seen, the Expect request-header \n"
                     "field was not presented by the client.\n");
        }
        with_notes(out, NULL, c->notes,
                   "</p><p>Only the 100-continue expectation is supported.</p>\n");
        return true;
    case 501:
        put(out, "<p>");
        esc(out, c->method);
        with_notes(out, " not supported for current URL.<br />\n", c->notes, "</p>\n");
        return true;
    }
    return false;
}

/* Messages that are constant text. */
static const struct {
    int status;
    const char *text;
} fixed[] = {
    { 305, "<p>This resource is only accessible through the proxy\n"
           "<br />\nYou will need to configure your client to use that proxy.</p>\n" },
    { 401, AUTH_TEXT },
    { 404, "<p>The requested URL was not found on this server.</p>\n" },
    { 407, AUTH_TEXT },
    { 408, "<p>Server timeout waiting for the HTTP request from the client.</p>\n" },
    { 410, "<p>The requested resource is no longer available on this server"
           " and there is no forwarding address.\n"
           "Please remove all references to this resource.</p>\n" },
    { 412, "<p>The precondition on the request for this URL evaluated to false.</p>\n" },
    { 415, "<p>The supplied request data is not in a format\n"
           "acceptable for processing by this resource.</p>\n" },
    { 416, "<p>None of the range-specifier values in the Range\n"
           "request-header field overlap the current extent\n"
           "of the selected resource.</p>\n" },
    { 421, "<p>The client needs a new connection for this\n"
           "request as the requested host name does not match\n"
           "the Server Name Indication (SNI) in use for this\n"
           "connection.</p>\n" },
    { 422, "<p>The server understands the media type of the\n"
           "request entity, but was unable to process the\n"
           "contained instructions.</p>\n" },
    { 423, "<p>The requested resource is currently locked.\n"
           "The lock must be released or proper identification\n"
           "given before the method can be applied.</p>\n" },
    { 424, "<p>The method could not be performed on the resource\n"
           "because the requested action depended on another\n"
           "action and that other action failed.</p>\n" },
    { 426, "<p>The requested resource can only be retrieved\n"
           "using SSL.  The server is willing to upgrade the current\n"
           "connection to SSL, but your client doesn't support it.\n"
           "Either upgrade your client, or try requesting the page\n"
           "using https://\n" },
    { 428, "<p>The request is required to be conditional.</p>\n" },
    { 429, "<p>The user has sent too many requests\n"
           "in a given amount of time.</p>\n" },
    { 431, "<p>The server refused this request because\n"
           "the request header fields are too large.</p>\n" },
    { 503, "<p>The server is temporarily unable to service your\n"
           "request due to maintenance downtime or capacity\n"
           "problems. Please try again later.</p>\n" },
    { 504, "<p>The gateway did not receive a timely response\n"
           "from the upstream server or application.</p>\n" },
    { 506, "<p>A variant for the requested resource\n<pre>\n"
           "\n</pre>\nis itself a negotiable resource. "
           "This indicates a configuration error.</p>\n" },
    { 507, "<p>The method could not be performed on the resource\n"
           "because the server is unable to store the\n"
           "representation needed to successfully complete the\n"
           "request.  There is insufficient free space left in\n"
           "your storage allocation.</p>\n" },
    { 508, "<p>The server terminated an operation because\n"
           "it encountered an infinite loop.</p>\n" },
    { 510, "<p>A mandatory extension policy in the request is not\n"
           "accepted by the server for this resource.</p>\n" },
    { 511, "<p>The client needs to authenticate to gain\n"
           "network access.</p>\n" },
};

/* Messages followed by Apache's error notes or variant list. */
static bool message_with_notes(rl_buf_t *out, int status, const rl_error_ctx_t *c)
{
    switch (status) {
    case 300:
        put(out, c->variants);
        return true;
    case 400:
        with_notes(out, "<p>Your browser sent a request that this server could "
                        "not understand.<br />\n", c->notes, "</p>\n");
        return true;
    case 403:
        with_notes(out, "<p>You don't have permission to access this resource.",
                   c->notes, "</p>\n");
        return true;
    case 406:
        with_notes(out, "<p>An appropriate representation of the requested "
                        "resource could not be found on this server.</p>\n",
                   c->variants, NULL);
        return true;
    case 414:
        with_notes(out, "<p>The requested URL's length exceeds the capacity\n"
                        "limit for this server.<br />\n", c->notes, "</p>\n");
        return true;
    case 451:
        with_notes(out, "<p>Access to this URL has been denied for legal reasons.<br />\n",
                   c->notes, "</p>\n");
        return true;
    case 502:
        with_notes(out, "<p>The proxy server received an invalid\r\n"
                        "response from an upstream server.<br />\r\n",
                   c->notes, "</p>\n");
        return true;
    }
    return false;
}

static bool message_static(rl_buf_t *out, int status, const rl_error_ctx_t *c)
{
    for (size_t i = 0; i < RL_NELEMS(fixed); i++) {
        if (fixed[i].status == status) {
            put(out, fixed[i].text);
            return true;
        }
    }
    return message_with_notes(out, status, c);
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The <title>: a module's status line if Apache would accept it, else ours.
 * (Apache prints a module's line raw; we escape it, which changes nothing
 * for a sane reason phrase and defuses a backend's "Status: 502 <script>".)
 * Apache appends " Unknown Reason" to a bare "NNN" ("Unknown Reason" to
 * "NNN "); <*suffix> gets that. */
static const char *title_of(int status, const char *line, const char **suffix)
{
    size_t len = line ? strlen(line) : 0;
    *suffix = "";
    if (len >= 3 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0'
        && line[1] <= '9' && line[2] >= '0' && line[2] <= '9'
        && (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') == status
        && (len < 4 || is_space(line[3]))
        && (len < 5 || is_alnum(line[4]))) {
        if (len == 3)
            *suffix = " Unknown Reason";
        else if (len == 4)
            *suffix = "Unknown Reason";
        return line;
    }
    return rl_http_status_line(status);
}

void rl_http_error_body(rl_buf_t *out, int status, const rl_error_ctx_t *ctx)
{
    static const rl_error_ctx_t empty;
    const rl_error_ctx_t *c = ctx ? ctx : &empty;

    const char *suffix;
    const char *title = title_of(status, c->status_line, &suffix);
    size_t tlen = strlen(title);
    rl_buf_append_c(out, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" "
                         "\"http://www.w3.org/TR/html4/strict.dtd\">\n"
                         "<html><head>\n<title>");
    esc(out, title);
    rl_buf_append_c(out, suffix);
    /* the <h1> is the title without its "NNN " */
    rl_buf_append_c(out, "</title>\n</head><body>\n<h1>");
    if (tlen > 4)
        esc(out, title + 4);
    rl_buf_append_c(out, suffix[0] == ' ' ? suffix + 1 : suffix);
    rl_buf_append_c(out, "</h1>\n");

    if (!message_dynamic(out, status, c) && !message_static(out, status, c))
        message_500(out, c);

    if (c->recursive_error) {
        rl_buf_append_c(out, "<p>Additionally, a ");
        rl_buf_append_c(out, rl_http_status_line(c->recursive_error));
        rl_buf_append_c(out, "\nerror was encountered while trying to use an "
                             "ErrorDocument to handle the request.</p>\n");
    }
    if (c->signature && c->signature[0]) {
        rl_buf_append_c(out, "<hr>\n");
        rl_buf_append_c(out, c->signature);
    }
    rl_buf_append_c(out, "</body></html>\n");
}

/* ap_is_url(): "scheme:" with scheme of alnum, '+', '-', '.'. */
static bool is_url(const char *u)
{
    size_t x = 0;
    for (; u[x] != ':'; x++)
        if (!u[x] || (!is_alnum(u[x]) && u[x] != '+' && u[x] != '-' && u[x] != '.'))
            return false;
    return x > 0;
}

void rl_http_signature(rl_buf_t *out, rl_signature_t mode, const char *banner,
                       const char *name, unsigned port, const char *admin)
{
    if (mode == RL_SIGNATURE_OFF)
        return;
    rl_buf_append_c(out, "<address>");
    put(out, banner);
    rl_buf_append_c(out, " Server at ");
    if (mode == RL_SIGNATURE_EMAIL) {
        const char *a = admin ? admin : "";
        rl_buf_append_c(out, "<a href=\"");
        if (!is_url(a))
            rl_buf_append_c(out, "mailto:");
        esc(out, a);
        rl_buf_append_c(out, "\">");
        esc(out, name);
        rl_buf_append_c(out, "</a>");
    } else {
        esc(out, name);
    }
    rl_buf_appendf(out, " Port %u</address>\n", port);
}
