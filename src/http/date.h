/* Dates on the wire and in the logs.
 *
 * HTTP dates (RFC 9110 section 5.6.7) are formatted as IMF-fixdate and parsed
 * in all three forms a recipient must accept. The log formats are Apache's:
 * the error log's "[%{u}t]" and the access log's "%t" (Common Log Format).
 * Nothing here depends on the locale. */
#ifndef RL_HTTP_DATE_H
#define RL_HTTP_DATE_H

#include <time.h>
#include "core/rl.h"
#include "core/str.h"

#define RL_HTTP_DATE_LEN 29   /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define RL_LOG_TIME_LEN  31   /* "Fri Nov 27 05:01:27.123456 2026" */
#define RL_CLF_TIME_LEN  28   /* "[27/Nov/2026:05:01:27 +0000]" */

/* Writes <t> as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and a NUL
 * into <out>. Times before year 0 or after 9999 are clamped to those years'
 * bounds. Returns RL_HTTP_DATE_LEN. */
size_t rl_http_date_format(time_t t, char out[RL_HTTP_DATE_LEN + 1]);

/* Parses an HTTP-date in any of its three forms:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Spaces and tabs around the value are ignored. The day name must be a real
 * one of the right form but is not checked against the date (Apache ignores
 * it too). A two-digit year is 19xx from 70 and 20xx below (APR's rule).
 * Dates before 1970 are refused, as APR refuses them. Returns false, leaving
 * <out> alone, on anything else: an impossible date (31 Apr, 29 Feb 2023),
 * a time out of range, another zone than GMT, trailing bytes. */
bool rl_http_date_parse(rl_str_t s, time_t *out);

/* The IMF-fixdate of <now>, for the Date header: formatted at most once per
 * second and per thread. The string stays valid until the next call from the
 * same thread with another second. */
const char *rl_http_date_now(time_t now);

/* Apache's error-log time "Fri Nov 27 05:01:27.123456 2026": local time,
 * zero-padded day, <usec> microseconds (0..999999, else 0). Writes it and a
 * NUL into <out>; returns RL_LOG_TIME_LEN. Both log formats convert to local
 * time once per second and thread (a changed TZ shows from the next
 * second on). */
size_t rl_log_time_format(time_t sec, long usec, char out[RL_LOG_TIME_LEN + 1]);

/* Apache's access-log "%t": "[27/Nov/2026:05:01:27 +0100]", local time with
 * the zone's offset from UTC. Writes it and a NUL into <out>; returns
 * RL_CLF_TIME_LEN. */
size_t rl_clf_time_format(time_t t, char out[RL_CLF_TIME_LEN + 1]);

#endif
