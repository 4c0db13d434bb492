/* Tests for http/status: reason phrases and Apache's error documents.
 *
 * The expected bodies below were captured byte for byte from Apache/2.4.71
 * (Debian), run by hand on a loopback port with ServerName example.com,
 * ServerSignature On and ServerTokens OS: "Redirect NNN /sNNN" for most
 * statuses, real triggers where there is one (a header line over 8190 bytes
 * for 400 with error notes, a 9000-byte URI for 414, "Range: bytes=200-300"
 * on a 100-byte file for 416, an unknown method FOO for 501, "Expect: <b>&x"
 * for 417, a POST or a method "X&Y" where the method is shown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "http/status.h"

#define SIG "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"

typedef struct {
    int status;
    const char *method;
    const char *location;
    const char *expect;
    const char *admin;
    const char *notes;
    const char *body;
} capture_t;

static const capture_t captures[] = {
    { /* r301 */ 301, "GET", "http://example.com/new?a=1&b=<x>", NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>301 Moved Permanently</title>\n"
        "</head><body>\n"
        "<h1>Moved Permanently</h1>\n"
        "<p>The document has moved <a href=\"http://example.com/new?a=1&amp;b=&lt;x&gt;\">here</a>.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r302 */ 302, "GET", "http://example.com/new", NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>302 Found</title>\n"
        "</head><body>\n"
        "<h1>Found</h1>\n"
        "<p>The document has moved <a href=\"http://example.com/new\">here</a>.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r303 */ 303, "GET", "http://example.com/new", NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>303 See Other</title>\n"
        "</head><body>\n"
        "<h1>See Other</h1>\n"
        "<p>The answer to your request is located <a href=\"http://example.com/new\">here</a>.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r307 */ 307, "GET", "http://example.com/new", NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>307 Temporary Redirect</title>\n"
        "</head><body>\n"
        "<h1>Temporary Redirect</h1>\n"
        "<p>The document has moved <a href=\"http://example.com/new\">here</a>.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r308 */ 308, "GET", "http://example.com/new", NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>308 Permanent Redirect</title>\n"
        "</head><body>\n"
        "<h1>Permanent Redirect</h1>\n"
        "<p>The document has moved <a href=\"http://example.com/new\">here</a>.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r305 */ 305, "GET", "http://example.com/new", NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>305 Use Proxy</title>\n"
        "</head><body>\n"
        "<h1>Use Proxy</h1>\n"
        "<p>This resource is only accessible through the proxy\n"
        "<br />\n"
        "You will need to configure your client to use that proxy.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* r300 */ 300, "GET", "http://example.com/new", NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>300 Multiple Choices</title>\n"
        "</head><body>\n"
        "<h1>Multiple Choices</h1>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s400 */ 400, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>400 Bad Request</title>\n"
        "</head><body>\n"
        "<h1>Bad Request</h1>\n"
        "<p>Your browser sent a request that this server could not understand.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* bighdr */ 400, "GET", NULL, NULL, "webmaster@localhost", "Size of a request header field exceeds server limit.",
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>400 Bad Request</title>\n"
        "</head><body>\n"
        "<h1>Bad Request</h1>\n"
        "<p>Your browser sent a request that this server could not understand.<br />\n"
        "Size of a request header field exceeds server limit.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s401 */ 401, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>401 Unauthorized</title>\n"
        "</head><body>\n"
        "<h1>Unauthorized</h1>\n"
        "<p>This server could not verify that you\n"
        "are authorized to access the document\n"
        "requested.  Either you supplied the wrong\n"
        "credentials (e.g., bad password), or your\n"
        "browser doesn't understand how to supply\n"
        "the credentials required.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s403 */ 403, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>403 Forbidden</title>\n"
        "</head><body>\n"
        "<h1>Forbidden</h1>\n"
        "<p>You don't have permission to access this resource.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s404 */ 404, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>404 Not Found</title>\n"
        "</head><body>\n"
        "<h1>Not Found</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* post405 */ 405, "POST", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>405 Method Not Allowed</title>\n"
        "</head><body>\n"
        "<h1>Method Not Allowed</h1>\n"
        "<p>The requested method POST is not allowed for this URL.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* amp405 */ 405, "X&Y", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>405 Method Not Allowed</title>\n"
        "</head><body>\n"
        "<h1>Method Not Allowed</h1>\n"
        "<p>The requested method X&amp;Y is not allowed for this URL.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s406 */ 406, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>406 Not Acceptable</title>\n"
        "</head><body>\n"
        "<h1>Not Acceptable</h1>\n"
        "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s407 */ 407, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>407 Proxy Authentication Required</title>\n"
        "</head><body>\n"
        "<h1>Proxy Authentication Required</h1>\n"
        "<p>This server could not verify that you\n"
        "are authorized to access the document\n"
        "requested.  Either you supplied the wrong\n"
        "credentials (e.g., bad password), or your\n"
        "browser doesn't understand how to supply\n"
        "the credentials required.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s408 */ 408, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>408 Request Timeout</title>\n"
        "</head><body>\n"
        "<h1>Request Timeout</h1>\n"
        "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s409 */ 409, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>409 Conflict</title>\n"
        "</head><body>\n"
        "<h1>Conflict</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " x&amp;y@example.com to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s410 */ 410, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>410 Gone</title>\n"
        "</head><body>\n"
        "<h1>Gone</h1>\n"
        "<p>The requested resource is no longer available on this server and there is no forwarding address.\n"
        "Please remove all references to this resource.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* amp411 */ 411, "X&Y", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>411 Length Required</title>\n"
        "</head><body>\n"
        "<h1>Length Required</h1>\n"
        "<p>A request of the requested method X&amp;Y requires a valid Content-length.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s412 */ 412, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>412 Precondition Failed</title>\n"
        "</head><body>\n"
        "<h1>Precondition Failed</h1>\n"
        "<p>The precondition on the request for this URL evaluated to false.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s413 */ 413, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>413 Request Entity Too Large</title>\n"
        "</head><body>\n"
        "<h1>Request Entity Too Large</h1>\n"
        "The requested resource does not allow request data with GET requests, or the amount of data provided in\n"
        "the request exceeds the capacity limit.\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* amp413 */ 413, "X&Y", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>413 Request Entity Too Large</title>\n"
        "</head><body>\n"
        "<h1>Request Entity Too Large</h1>\n"
        "The requested resource does not allow request data with X&amp;Y requests, or the amount of data provided in\n"
        "the request exceeds the capacity limit.\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s414 */ 414, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>414 Request-URI Too Long</title>\n"
        "</head><body>\n"
        "<h1>Request-URI Too Long</h1>\n"
        "<p>The requested URL's length exceeds the capacity\n"
        "limit for this server.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s415 */ 415, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>415 Unsupported Media Type</title>\n"
        "</head><body>\n"
        "<h1>Unsupported Media Type</h1>\n"
        "<p>The supplied request data is not in a format\n"
        "acceptable for processing by this resource.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s416 */ 416, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>416 Requested Range Not Satisfiable</title>\n"
        "</head><body>\n"
        "<h1>Requested Range Not Satisfiable</h1>\n"
        "<p>None of the range-specifier values in the Range\n"
        "request-header field overlap the current extent\n"
        "of the selected resource.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s417 */ 417, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>417 Expectation Failed</title>\n"
        "</head><body>\n"
        "<h1>Expectation Failed</h1>\n"
        "<p>No expectation was seen, the Expect request-header \n"
        "field was not presented by the client.\n"
        "</p><p>Only the 100-continue expectation is supported.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* exp417 */ 417, "GET", NULL, "<b>&x", "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>417 Expectation Failed</title>\n"
        "</head><body>\n"
        "<h1>Expectation Failed</h1>\n"
        "<p>The expectation given in the Expect request-header\n"
        "field could not be met by this server.\n"
        "The client sent<pre>\n"
        "    Expect: &lt;b&gt;&amp;x\n"
        "</pre>\n"
        "</p><p>Only the 100-continue expectation is supported.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s421 */ 421, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>421 Misdirected Request</title>\n"
        "</head><body>\n"
        "<h1>Misdirected Request</h1>\n"
        "<p>The client needs a new connection for this\n"
        "request as the requested host name does not match\n"
        "the Server Name Indication (SNI) in use for this\n"
        "connection.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s422 */ 422, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>422 Unprocessable Entity</title>\n"
        "</head><body>\n"
        "<h1>Unprocessable Entity</h1>\n"
        "<p>The server understands the media type of the\n"
        "request entity, but was unable to process the\n"
        "contained instructions.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s423 */ 423, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>423 Locked</title>\n"
        "</head><body>\n"
        "<h1>Locked</h1>\n"
        "<p>The requested resource is currently locked.\n"
        "The lock must be released or proper identification\n"
        "given before the method can be applied.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s424 */ 424, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>424 Failed Dependency</title>\n"
        "</head><body>\n"
        "<h1>Failed Dependency</h1>\n"
        "<p>The method could not be performed on the resource\n"
        "because the requested action depended on another\n"
        "action and that other action failed.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s426 */ 426, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>426 Upgrade Required</title>\n"
        "</head><body>\n"
        "<h1>Upgrade Required</h1>\n"
        "<p>The requested resource can only be retrieved\n"
        "using SSL.  The server is willing to upgrade the current\n"
        "connection to SSL, but your client doesn't support it.\n"
        "Either upgrade your client, or try requesting the page\n"
        "using https://\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s428 */ 428, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>428 Precondition Required</title>\n"
        "</head><body>\n"
        "<h1>Precondition Required</h1>\n"
        "<p>The request is required to be conditional.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s429 */ 429, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>429 Too Many Requests</title>\n"
        "</head><body>\n"
        "<h1>Too Many Requests</h1>\n"
        "<p>The user has sent too many requests\n"
        "in a given amount of time.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s431 */ 431, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>431 Request Header Fields Too Large</title>\n"
        "</head><body>\n"
        "<h1>Request Header Fields Too Large</h1>\n"
        "<p>The server refused this request because\n"
        "the request header fields are too large.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s451 */ 451, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>451 Unavailable For Legal Reasons</title>\n"
        "</head><body>\n"
        "<h1>Unavailable For Legal Reasons</h1>\n"
        "<p>Access to this URL has been denied for legal reasons.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s500 */ 500, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>500 Internal Server Error</title>\n"
        "</head><body>\n"
        "<h1>Internal Server Error</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " webmaster@localhost to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* v500 */ 500, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>500 Internal Server Error</title>\n"
        "</head><body>\n"
        "<h1>Internal Server Error</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " x&amp;y@example.com to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s418 */ 418, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>500 Internal Server Error</title>\n"
        "</head><body>\n"
        "<h1>Internal Server Error</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " webmaster@localhost to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* foo501 */ 501, "FOO", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>501 Not Implemented</title>\n"
        "</head><body>\n"
        "<h1>Not Implemented</h1>\n"
        "<p>FOO not supported for current URL.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* amp501 */ 501, "X&Y", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>501 Not Implemented</title>\n"
        "</head><body>\n"
        "<h1>Not Implemented</h1>\n"
        "<p>X&amp;Y not supported for current URL.<br />\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s502 */ 502, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>502 Bad Gateway</title>\n"
        "</head><body>\n"
        "<h1>Bad Gateway</h1>\n"
        "<p>The proxy server received an invalid\r\n"
        "response from an upstream server.<br />\r\n"
        "</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s503 */ 503, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>503 Service Unavailable</title>\n"
        "</head><body>\n"
        "<h1>Service Unavailable</h1>\n"
        "<p>The server is temporarily unable to service your\n"
        "request due to maintenance downtime or capacity\n"
        "problems. Please try again later.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s504 */ 504, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>504 Gateway Timeout</title>\n"
        "</head><body>\n"
        "<h1>Gateway Timeout</h1>\n"
        "<p>The gateway did not receive a timely response\n"
        "from the upstream server or application.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s505 */ 505, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>505 HTTP Version Not Supported</title>\n"
        "</head><body>\n"
        "<h1>HTTP Version Not Supported</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " webmaster@localhost to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s506 */ 506, "GET", NULL, NULL, "webmaster@localhost", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>506 Variant Also Negotiates</title>\n"
        "</head><body>\n"
        "<h1>Variant Also Negotiates</h1>\n"
        "<p>A variant for the requested resource\n"
        "<pre>\n"
        "\n"
        "</pre>\n"
        "is itself a negotiable resource. This indicates a configuration error.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s507 */ 507, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>507 Insufficient Storage</title>\n"
        "</head><body>\n"
        "<h1>Insufficient Storage</h1>\n"
        "<p>The method could not be performed on the resource\n"
        "because the server is unable to store the\n"
        "representation needed to successfully complete the\n"
        "request.  There is insufficient free space left in\n"
        "your storage allocation.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s508 */ 508, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>508 Loop Detected</title>\n"
        "</head><body>\n"
        "<h1>Loop Detected</h1>\n"
        "<p>The server terminated an operation because\n"
        "it encountered an infinite loop.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s510 */ 510, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>510 Not Extended</title>\n"
        "</head><body>\n"
        "<h1>Not Extended</h1>\n"
        "<p>A mandatory extension policy in the request is not\n"
        "accepted by the server for this resource.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s511 */ 511, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>511 Network Authentication Required</title>\n"
        "</head><body>\n"
        "<h1>Network Authentication Required</h1>\n"
        "<p>The client needs to authenticate to gain\n"
        "network access.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
    { /* s402 */ 402, "GET", NULL, NULL, "x&y@example.com", NULL,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>402 Payment Required</title>\n"
        "</head><body>\n"
        "<h1>Payment Required</h1>\n"
        "<p>The server encountered an internal error or\n"
        "misconfiguration and was unable to complete\n"
        "your request.</p>\n"
        "<p>Please contact the server administrator at \n"
        " x&amp;y@example.com to inform them of the time this error occurred,\n"
        " and the actions you performed just before this error.</p>\n"
        "<p>More information about this error may be available\n"
        "in the server error log.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n" },
};

static void check_body(int status, const rl_error_ctx_t *ctx, const char *expected)
{
    rl_buf_t b = RL_BUF_INIT;
    rl_http_error_body(&b, status, ctx);
    rl_buf_append(&b, "", 1);
    if (strcmp(b.data, expected) != 0)
        print_error("status %d:\n--- got ---\n%s--- expected ---\n%s", status,
                    b.data, expected);
    assert_string_equal(b.data, expected);
    assert_int_equal(b.len - 1, strlen(expected));
    rl_buf_release(&b);
}

static void test_captured_bodies(void **state)
{
    (void)state;
    for (size_t i = 0; i < RL_NELEMS(captures); i++) {
        const capture_t *c = &captures[i];
        rl_error_ctx_t ctx = {
            .method = c->method, .location = c->location, .expect = c->expect,
            .admin = c->admin, .notes = c->notes, .signature = SIG,
        };
        check_body(c->status, &ctx, c->body);
    }
}

#define HEAD404 \
    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n" \
    "<html><head>\n" \
    "<title>404 Not Found</title>\n" \
    "</head><body>\n" \
    "<h1>Not Found</h1>\n" \
    "<p>The requested URL was not found on this server.</p>\n"

static char *signature(rl_buf_t *b, rl_signature_t mode, const char *name,
                       unsigned port, const char *admin)
{
    rl_buf_clear(b);
    rl_http_signature(b, mode, "Apache/2.4.71 (Debian)", name, port, admin);
    rl_buf_append(b, "", 1);
    return b->data;
}

/* Captured: ServerSignature EMail / Off in a <Location>, a Host with a port. */
static void test_signature_variants(void **state)
{
    (void)state;
    rl_buf_t sig = RL_BUF_INIT;

    check_body(404, &(rl_error_ctx_t){
                   .signature = signature(&sig, RL_SIGNATURE_EMAIL, "example.com", 80,
                                          "x&y@example.com") },
               HEAD404
               "<hr>\n"
               "<address>Apache/2.4.71 (Debian) Server at <a href=\"mailto:x&amp;y@example.com\">example.com</a> Port 80</address>\n"
               "</body></html>\n");

    /* ServerAdmin given as a URL: no "mailto:" */
    check_body(404, &(rl_error_ctx_t){
                   .signature = signature(&sig, RL_SIGNATURE_EMAIL, "url.example", 80,
                                          "http://example.com/contact?a&b") },
               HEAD404
               "<hr>\n"
               "<address>Apache/2.4.71 (Debian) Server at <a href=\"http://example.com/contact?a&amp;b\">url.example</a> Port 80</address>\n"
               "</body></html>\n");

    /* Off: no <hr> either */
    assert_string_equal(signature(&sig, RL_SIGNATURE_OFF, "example.com", 80, NULL), "");
    check_body(404, &(rl_error_ctx_t){ .signature = sig.data },
               HEAD404 "</body></html>\n");
    check_body(404, NULL, HEAD404 "</body></html>\n");

    /* "Host: example.com:8080" */
    check_body(404, &(rl_error_ctx_t){
                   .signature = signature(&sig, RL_SIGNATURE_ON, "example.com", 8080, NULL) },
               HEAD404
               "<hr>\n"
               "<address>Apache/2.4.71 (Debian) Server at example.com Port 8080</address>\n"
               "</body></html>\n");

    /* the server name is escaped too */
    assert_string_equal(signature(&sig, RL_SIGNATURE_ON, "a<b>", 81, NULL),
                        "<address>Apache/2.4.71 (Debian) Server at a&lt;b&gt; Port 81</address>\n");
    assert_string_equal(signature(&sig, RL_SIGNATURE_EMAIL, "h", 80, "mailto:me@h"),
                        "<address>Apache/2.4.71 (Debian) Server at <a href=\"mailto:me@h\">h</a> Port 80</address>\n");
    assert_string_equal(signature(&sig, RL_SIGNATURE_EMAIL, "h", 80, ":x"),
                        "<address>Apache/2.4.71 (Debian) Server at <a href=\"mailto::x\">h</a> Port 80</address>\n");
    rl_buf_release(&sig);
}

/* Captured: ErrorDocument 403 pointing to a missing file. */
static void test_recursive_error(void **state)
{
    (void)state;
    check_body(403, &(rl_error_ctx_t){ .signature = SIG, .recursive_error = 403 },
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"
        "<html><head>\n"
        "<title>403 Forbidden</title>\n"
        "</head><body>\n"
        "<h1>Forbidden</h1>\n"
        "<p>You don't have permission to access this resource.</p>\n"
        "<p>Additionally, a 403 Forbidden\n"
        "error was encountered while trying to use an ErrorDocument to handle the request.</p>\n"
        "<hr>\n"
        "<address>Apache/2.4.71 (Debian) Server at example.com Port 80</address>\n"
        "</body></html>\n");
}

#define DOCTYPE "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"

/* From http_protocol.c (not captured: needs a module to set them). */
static void test_notes_variants_status_line(void **state)
{
    (void)state;
    check_body(403, &(rl_error_ctx_t){ .notes = "<br />Note" },
        DOCTYPE "<html><head>\n<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n"
        "<p>You don't have permission to access this resource.<br />Note</p>\n</body></html>\n");
    check_body(406, &(rl_error_ctx_t){ .variants = "<ul>\n<li>x</li>\n</ul>\n" },
        DOCTYPE "<html><head>\n<title>406 Not Acceptable</title>\n</head><body>\n<h1>Not Acceptable</h1>\n"
        "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n"
        "<ul>\n<li>x</li>\n</ul>\n</body></html>\n");
    check_body(300, &(rl_error_ctx_t){ .variants = "<ul>v</ul>\n" },
        DOCTYPE "<html><head>\n<title>300 Multiple Choices</title>\n</head><body>\n<h1>Multiple Choices</h1>\n"
        "<ul>v</ul>\n</body></html>\n");
    check_body(502, &(rl_error_ctx_t){ .notes = "Bad header", .status_line = "502 Proxy Error" },
        DOCTYPE "<html><head>\n<title>502 Proxy Error</title>\n</head><body>\n<h1>Proxy Error</h1>\n"
        "<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\r\n"
        "Bad header</p>\n</body></html>\n");
    /* verbose-error-to: the notes replace the 500 message */
    check_body(500, &(rl_error_ctx_t){ .notes = "Oops", .notes_verbose = true, .admin = "a" },
        DOCTYPE "<html><head>\n<title>500 Internal Server Error</title>\n</head><body>\n"
        "<h1>Internal Server Error</h1>\nOops<p />\n</body></html>\n");
    /* status lines Apache refuses or completes */
    check_body(503, &(rl_error_ctx_t){ .status_line = "404 Not Found" },
        DOCTYPE "<html><head>\n<title>503 Service Unavailable</title>\n</head><body>\n"
        "<h1>Service Unavailable</h1>\n"
        "<p>The server is temporarily unable to service your\n"
        "request due to maintenance downtime or capacity\n"
        "problems. Please try again later.</p>\n</body></html>\n");
    check_body(404, &(rl_error_ctx_t){ .status_line = "404" },
        DOCTYPE "<html><head>\n<title>404 Unknown Reason</title>\n</head><body>\n"
        "<h1>Unknown Reason</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n</body></html>\n");
    check_body(404, &(rl_error_ctx_t){ .status_line = "404 " },
        DOCTYPE "<html><head>\n<title>404 Unknown Reason</title>\n</head><body>\n"
        "<h1>Unknown Reason</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n</body></html>\n");
    check_body(404, &(rl_error_ctx_t){ .status_line = "404  Gone" },
        DOCTYPE "<html><head>\n<title>404 Not Found</title>\n</head><body>\n"
        "<h1>Not Found</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n</body></html>\n");
    check_body(404, &(rl_error_ctx_t){ .status_line = "404 <b>" },
        DOCTYPE "<html><head>\n<title>404 Not Found</title>\n</head><body>\n"
        "<h1>Not Found</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n</body></html>\n");
    check_body(404, &(rl_error_ctx_t){ .status_line = "404 X<b>" },
        DOCTYPE "<html><head>\n<title>404 X&lt;b&gt;</title>\n</head><body>\n"
        "<h1>X&lt;b&gt;</h1>\n"
        "<p>The requested URL was not found on this server.</p>\n</body></html>\n");
    /* NULL fields print as nothing */
    check_body(405, NULL,
        DOCTYPE "<html><head>\n<title>405 Method Not Allowed</title>\n</head><body>\n"
        "<h1>Method Not Allowed</h1>\n"
        "<p>The requested method  is not allowed for this URL.</p>\n</body></html>\n");
    check_body(301, &(rl_error_ctx_t){ .location = "/a\"b" },
        DOCTYPE "<html><head>\n<title>301 Moved Permanently</title>\n</head><body>\n"
        "<h1>Moved Permanently</h1>\n"
        "<p>The document has moved <a href=\"/a&quot;b\">here</a>.</p>\n</body></html>\n");
}

static void test_reasons(void **state)
{
    (void)state;
    static const struct { int status; const char *reason; } known[] = {
        { 100, "Continue" }, { 101, "Switching Protocols" }, { 102, "Processing" },
        { 103, "Early Hints" }, { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
        { 203, "Non-Authoritative Information" }, { 204, "No Content" },
        { 205, "Reset Content" }, { 206, "Partial Content" }, { 207, "Multi-Status" },
        { 208, "Already Reported" }, { 226, "IM Used" }, { 300, "Multiple Choices" },
        { 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
        { 304, "Not Modified" }, { 305, "Use Proxy" }, { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 402, "Payment Required" }, { 403, "Forbidden" }, { 404, "Not Found" },
        { 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
        { 407, "Proxy Authentication Required" }, { 408, "Request Timeout" },
        { 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" },
        { 412, "Precondition Failed" }, { 413, "Request Entity Too Large" },
        { 414, "Request-URI Too Long" }, { 415, "Unsupported Media Type" },
        { 416, "Requested Range Not Satisfiable" }, { 417, "Expectation Failed" },
        { 421, "Misdirected Request" }, { 422, "Unprocessable Entity" },
        { 423, "Locked" }, { 424, "Failed Dependency" }, { 426, "Upgrade Required" },
        { 428, "Precondition Required" }, { 429, "Too Many Requests" },
        { 431, "Request Header Fields Too Large" },
        { 451, "Unavailable For Legal Reasons" }, { 500, "Internal Server Error" },
        { 501, "Not Implemented" }, { 502, "Bad Gateway" },
        { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
        { 505, "HTTP Version Not Supported" }, { 506, "Variant Also Negotiates" },
        { 507, "Insufficient Storage" }, { 508, "Loop Detected" },
        { 510, "Not Extended" }, { 511, "Network Authentication Required" },
    };
    unsigned found = 0;
    for (size_t i = 0; i < RL_NELEMS(known); i++) {
        assert_string_equal(rl_http_reason(known[i].status), known[i].reason);
        char line[64];
        snprintf(line, sizeof(line), "%d %s", known[i].status, known[i].reason);
        assert_string_equal(rl_http_status_line(known[i].status), line);
    }
    /* nothing else between 0 and 1000 is known */
    for (int s = -5; s < 1000; s++)
        if (rl_http_reason(s))
            found++;
    assert_int_equal(found, RL_NELEMS(known));
    static const int unknown[] = { 0, 99, 104, 209, 225, 227, 299, 306, 309, 399,
                                   418, 419, 420, 425, 427, 430, 432, 450, 452, 499,
                                   509, 512, 599, 600, 999, -1 };
    for (size_t i = 0; i < RL_NELEMS(unknown); i++) {
        assert_null(rl_http_reason(unknown[i]));
        assert_string_equal(rl_http_status_line(unknown[i]), "500 Internal Server Error");
    }
}

static void test_escape_html(void **state)
{
    (void)state;
    rl_buf_t b = RL_BUF_INIT;
    rl_http_escape_html(&b, RL_STR("<a href=\"x\">&amp;'</a>"));
    rl_http_escape_html(&b, RL_STR(""));
    rl_http_escape_html(&b, RL_STR("plain"));
    rl_buf_append(&b, "", 1);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;amp;'&lt;/a&gt;plain");
    rl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_bodies),
        cmocka_unit_test(test_signature_variants),
        cmocka_unit_test(test_recursive_error),
        cmocka_unit_test(test_notes_variants_status_line),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_escape_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
