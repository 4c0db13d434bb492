/* HTTP dates and log timestamps.
 *
 * Calendar arithmetic is done here (days from civil date and back, proleptic
 * Gregorian) rather than with gmtime/timegm/strftime: it is exact for every
 * year we print, needs no locale and no TZ, and makes the parser a pure
 * function. Only the two log formats use the local time zone, through
 * localtime_r(), cached per second because loggers ask for the same second
 * many times. */
#include "http/date.h"

static const char wday_short[7][4] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const wday_long[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
static const char mon_short[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define MIN_TIME (-62167219200LL)
#define MAX_TIME (253402300799LL)

/* Days since 1970-01-01 of <y>-<m>-<d> (m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static char *put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put4(char *p, int v)
{
    if (v < 0)
        v = 0;
    if (v > 9999)
        v = 9999;
    p = put2(p, v / 100);
    return put2(p, v % 100);
}

static char *put3(char *p, const char *s)
{
    memcpy(p, s, 3);
    return p + 3;
}

size_t rl_http_date_format(time_t t, char out[RL_HTTP_DATE_LEN + 1])
{
    int64_t v = (int64_t)t;
    if (v < MIN_TIME)
        v = MIN_TIME;
    if (v > MAX_TIME)
        v = MAX_TIME;
    int64_t days = v / 86400, secs = v % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int wd = (int)((days + 4) % 7);
    if (wd < 0)
        wd += 7;

    char *p = out;
    p = put3(p, wday_short[wd]);
    *p++ = ',';
    *p++ = ' ';
    p = put2(p, (int)d);
    *p++ = ' ';
    p = put3(p, mon_short[m - 1]);
    *p++ = ' ';
    p = put4(p, y);
    *p++ = ' ';
    p = put2(p, (int)(secs / 3600));
    *p++ = ':';
    p = put2(p, (int)(secs / 60 % 60));
    *p++ = ':';
    p = put2(p, (int)(secs % 60));
    memcpy(p, " GMT", 5);
    return RL_HTTP_DATE_LEN;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
    const char *p;
    const char *end;
} cursor_t;

static bool take_lit(cursor_t *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Exactly <n> digits. */
static bool take_num(cursor_t *c, unsigned n, int *v)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    int x = 0;
    for (unsigned i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9')
            return false;
        x = x * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *v = x;
    return true;
}

static bool take_month(cursor_t *c, unsigned *m)
{
    if (c->end - c->p < 3)
        return false;
    for (unsigned i = 0; i < 12; i++) {
        if (memcmp(c->p, mon_short[i], 3) == 0) {
            c->p += 3;
            *m = i + 1;
            return true;
        }
    }
    return false;
}

static bool take_wday(cursor_t *c, bool long_form)
{
    for (unsigned i = 0; i < 7; i++)
        if (take_lit(c, long_form ? wday_long[i] : wday_short[i]))
            return true;
    return false;
}

/* "HH:MM:SS" */
static bool take_time(cursor_t *c, int *h, int *mi, int *s)
{
    return take_num(c, 2, h) && take_lit(c, ":") && take_num(c, 2, mi)
        && take_lit(c, ":") && take_num(c, 2, s);
}

/* IMF-fixdate after the day name: ", 06 Nov 1994 08:49:37 GMT" */
static bool parse_imf(cursor_t *c, int *y, unsigned *m, int *d, int *h, int *mi, int *s)
{
    return take_lit(c, ", ") && take_num(c, 2, d) && take_lit(c, " ")
        && take_month(c, m) && take_lit(c, " ") && take_num(c, 4, y)
        && take_lit(c, " ") && take_time(c, h, mi, s) && take_lit(c, " GMT");
}

/* RFC 850 after the day name: ", 06-Nov-94 08:49:37 GMT" */
static bool parse_rfc850(cursor_t *c, int *y, unsigned *m, int *d, int *h, int *mi, int *s)
{
    if (!(take_lit(c, ", ") && take_num(c, 2, d) && take_lit(c, "-")
          && take_month(c, m) && take_lit(c, "-") && take_num(c, 2, y)
          && take_lit(c, " ") && take_time(c, h, mi, s) && take_lit(c, " GMT")))
        return false;
    *y += *y < 70 ? 2000 : 1900;
    return true;
}

/* asctime after the day name: " Nov  6 08:49:37 1994" (day: SP DIGIT or 2DIGIT) */
static bool parse_asctime(cursor_t *c, int *y, unsigned *m, int *d, int *h, int *mi, int *s)
{
    if (!(take_lit(c, " ") && take_month(c, m) && take_lit(c, " ")))
        return false;
    if (!(take_lit(c, " ") ? take_num(c, 1, d) : take_num(c, 2, d)))
        return false;
    return take_lit(c, " ") && take_time(c, h, mi, s) && take_lit(c, " ")
        && take_num(c, 4, y);
}

bool rl_http_date_parse(rl_str_t s, time_t *out)
{
    s = rl_str_trim(s);
    if (s.len == 0)
        return false;
    cursor_t c = { s.p, s.p + s.len };
    int y, d, h, mi, sec;
    unsigned m;
    bool ok;

    if (take_wday(&c, false) && c.p < c.end && (*c.p == ',' || *c.p == ' ')) {
        ok = *c.p == ',' ? parse_imf(&c, &y, &m, &d, &h, &mi, &sec)
                         : parse_asctime(&c, &y, &m, &d, &h, &mi, &sec);
    } else {
        c.p = s.p;
        ok = take_wday(&c, true) && parse_rfc850(&c, &y, &m, &d, &h, &mi, &sec);
    }
    if (!ok || c.p != c.end)
        return false;
    if (y < 1970 || d < 1 || (unsigned)d > days_in_month(y, m)
        || h > 23 || mi > 59 || sec > 60)
        return false;
    *out = (time_t)(days_from_civil(y, m, (unsigned)d) * 86400
                    + h * 3600 + mi * 60 + sec);
    return true;
}

const char *rl_http_date_now(time_t now)
{
    static _Thread_local char cached[RL_HTTP_DATE_LEN + 1];
    static _Thread_local time_t cached_t;
    static _Thread_local bool valid;
    if (!valid || cached_t != now) {
        rl_http_date_format(now, cached);
        cached_t = now;
        valid = true;
    }
    return cached;
}

/* ---- log formats ------------------------------------------------------- */

/* localtime_r() with a one-second cache per thread. */
static void local_tm(time_t t, struct tm *tm)
{
    static _Thread_local struct tm cached;
    static _Thread_local time_t cached_t;
    static _Thread_local bool valid;
    if (valid && cached_t == t) {
        *tm = cached;
        return;
    }
    if (localtime_r(&t, tm) == NULL) {
        memset(tm, 0, sizeof(*tm));
        tm->tm_mday = 1;
        tm->tm_year = 70;
        tm->tm_wday = 4;
    }
    cached = *tm;
    cached_t = t;
    valid = true;
}

size_t rl_log_time_format(time_t sec, long usec, char out[RL_LOG_TIME_LEN + 1])
{
    struct tm tm;
    local_tm(sec, &tm);
    if (usec < 0 || usec > 999999)
        usec = 0;

    char *p = out;
    p = put3(p, wday_short[tm.tm_wday % 7]);
    *p++ = ' ';
    p = put3(p, mon_short[tm.tm_mon % 12]);
    *p++ = ' ';
    p = put2(p, tm.tm_mday);
    *p++ = ' ';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    *p++ = '.';
    p = put2(p, (int)(usec / 10000));
    p = put2(p, (int)(usec / 100 % 100));
    p = put2(p, (int)(usec % 100));
    *p++ = ' ';
    p = put4(p, tm.tm_year + 1900);
    *p = '\0';
    return RL_LOG_TIME_LEN;
}

size_t rl_clf_time_format(time_t t, char out[RL_CLF_TIME_LEN + 1])
{
    struct tm tm;
    local_tm(t, &tm);
    long off = tm.tm_gmtoff;
    char sign = '+';
    if (off < 0) {
        sign = '-';
        off = -off;
    }

    char *p = out;
    *p++ = '[';
    p = put2(p, tm.tm_mday);
    *p++ = '/';
    p = put3(p, mon_short[tm.tm_mon % 12]);
    *p++ = '/';
    p = put4(p, tm.tm_year + 1900);
    *p++ = ':';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    *p++ = ' ';
    *p++ = sign;
    p = put2(p, (int)(off / 3600 % 100));
    p = put2(p, (int)(off % 3600 / 60));
    *p++ = ']';
    *p = '\0';
    return RL_CLF_TIME_LEN;
}
