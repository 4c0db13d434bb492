/* Logs: Apache's line format, level filtering (per module too), escaping,
 * truncation, rotation, concurrent appends from two processes, piped
 * loggers, syslog targets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rl_test_log.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Reads a whole file into a malloc'd string (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            s = realloc(s, cap);
        }
    }
    s[len] = '\0';
    fclose(f);
    return s;
}

static rl_log_t *open_fresh(const char *name, char *path, size_t pathlen)
{
    char err[256];
    path_in(path, pathlen, name);
    unlink(path);
    rl_log_t *l = rl_log_open(path, err, sizeof(err));
    if (l == NULL)
        fail_msg("%s", err);
    return l;
}

static void assert_matches(const char *s, const char *re)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&rx, s, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", s, re);
}

#define TIME_RE "^\\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " \
                "[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{4}\\] "

static void test_line_format(void **state)
{
    (void)state;
    char path[PATH_MAX], re[512];
    rl_log_t *l = open_fresh("error.log", path, sizeof(path));
    rl_log_error(l, RL_LOG_ERR, "core", "127.0.0.1:4567", "hello %d", 42);
    rl_log_error(l, RL_LOG_WARN, NULL, NULL, "no client");
    rl_log_errno(l, RL_LOG_CRIT, "proxy_fcgi", "[::1]:80", ENOENT, "AH01079: failed");
    rl_log_errno(l, RL_LOG_CRIT, "mpm_event", NULL, 0, "errno 0 omitted");
    rl_log_close(l);

    char *s = slurp(path);
    char *lines[4], *save = NULL;
    lines[0] = strtok_r(s, "\n", &save);
    for (int i = 1; i < 4; i++)
        lines[i] = strtok_r(NULL, "\n", &save);
    assert_null(strtok_r(NULL, "\n", &save));

    snprintf(re, sizeof(re), TIME_RE "\\[core:error\\] \\[pid %ld\\] "
             "\\[client 127\\.0\\.0\\.1:4567\\] hello 42$", (long)getpid());
    assert_matches(lines[0], re);
    snprintf(re, sizeof(re), TIME_RE "\\[core:warn\\] \\[pid %ld\\] no client$", (long)getpid());
    assert_matches(lines[1], re);
    snprintf(re, sizeof(re), TIME_RE "\\[proxy_fcgi:crit\\] \\[pid %ld\\] "
             "\\(2\\)No such file or directory: \\[client \\[::1\\]:80\\] AH01079: failed$",
             (long)getpid());
    assert_matches(lines[2], re);
    snprintf(re, sizeof(re), TIME_RE "\\[mpm_event:crit\\] \\[pid %ld\\] errno 0 omitted$",
             (long)getpid());
    assert_matches(lines[3], re);

    /* local time: today's day and month, zero-padded day as in Apache */
    char today[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof(today), "[%a %b %d ", &tm);
    assert_memory_equal(lines[0], today, strlen(today));
    free(s);
}

static void test_levels(void **state)
{
    (void)state;
    char path[PATH_MAX], err[256] = "";
    rl_log_t *l = open_fresh("levels.log", path, sizeof(path));

    assert_true(rl_log_enabled(l, "core", RL_LOG_WARN));      /* default warn */
    assert_false(rl_log_enabled(l, "core", RL_LOG_INFO));
    /* notices always, as Apache's start-up and shutdown lines */
    assert_true(rl_log_enabled(l, "core", RL_LOG_NOTICE));
    rl_log_error(l, RL_LOG_INFO, "core", NULL, "dropped");
    rl_log_error(l, RL_LOG_EMERG, "core", NULL, "kept");

    char *args[] = { "info", "rewrite:trace3", "mod_ssl.c:warn", "authz_host_module:debug" };
    assert_int_equal(rl_log_set_levels(l, 4, args, err, sizeof(err)), RL_OK);
    assert_true(rl_log_enabled(l, "core", RL_LOG_INFO));
    assert_false(rl_log_enabled(l, "core", RL_LOG_DEBUG));
    assert_true(rl_log_enabled(l, NULL, RL_LOG_INFO));
    assert_true(rl_log_enabled(l, "rewrite", RL_LOG_TRACE3));
    assert_false(rl_log_enabled(l, "rewrite", RL_LOG_TRACE4));
    assert_true(rl_log_enabled(l, "mod_rewrite.c", RL_LOG_TRACE3));
    assert_false(rl_log_enabled(l, "ssl", RL_LOG_INFO));
    assert_true(rl_log_enabled(l, "ssl", RL_LOG_WARN));
    assert_true(rl_log_enabled(l, "authz_host", RL_LOG_DEBUG));
    assert_true(rl_log_enabled(l, "proxy", RL_LOG_INFO));     /* falls back to default */
    rl_log_error(l, RL_LOG_TRACE3, "rewrite", NULL, "rewrite trace3");
    rl_log_error(l, RL_LOG_TRACE4, "rewrite", NULL, "dropped");
    rl_log_error(l, RL_LOG_INFO, "ssl", NULL, "dropped");

    /* a later LogLevel overrides one module, keeps the others */
    char *more[] = { "rewrite:error" };
    assert_int_equal(rl_log_set_levels(l, 1, more, err, sizeof(err)), RL_OK);
    assert_false(rl_log_enabled(l, "rewrite", RL_LOG_WARN));
    assert_true(rl_log_enabled(l, "ssl", RL_LOG_WARN));
    assert_true(rl_log_enabled(l, "core", RL_LOG_INFO));

    /* errors change nothing */
    char *bad1[] = { "debug", "verbose" };
    assert_int_equal(rl_log_set_levels(l, 2, bad1, err, sizeof(err)), RL_ERROR);
    assert_string_equal(err, "LogLevel requires level keyword: one of "
                             "emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8");
    assert_false(rl_log_enabled(l, "core", RL_LOG_DEBUG));
    char *bad2[] = { "rewrite:bogus" };
    assert_int_equal(rl_log_set_levels(l, 1, bad2, err, sizeof(err)), RL_ERROR);
    char *bad3[] = { ":debug" };
    assert_int_equal(rl_log_set_levels(l, 1, bad3, err, sizeof(err)), RL_ERROR);
    assert_int_equal(rl_log_set_levels(l, 0, NULL, err, sizeof(err)), RL_ERROR);

    rl_log_set_level(l, RL_LOG_ERR);
    assert_false(rl_log_enabled(l, "core", RL_LOG_WARN));
    rl_log_close(l);

    char *s = slurp(path);
    assert_null(strstr(s, "dropped"));
    assert_non_null(strstr(s, "[core:emerg]"));
    assert_non_null(strstr(s, "] [rewrite:trace3] [pid "));
    free(s);
}

static void test_parse_level(void **state)
{
    (void)state;
    static const char *names[] = { "emerg", "alert", "crit", "error", "warn", "notice", "info",
                                   "debug", "trace1", "trace2", "trace3", "trace4", "trace5",
                                   "trace6", "trace7", "trace8" };
    for (int i = 0; i < (int)RL_NELEMS(names); i++) {
        assert_int_equal(rl_log_parse_level(names[i]), i);
        assert_string_equal(rl_log_level_name((rl_log_level_t)i), names[i]);
    }
    assert_int_equal(rl_log_parse_level("error"), RL_LOG_ERR);
    assert_int_equal(rl_log_parse_level("WARN"), RL_LOG_WARN);
    assert_int_equal(rl_log_parse_level("err"), -1);
    assert_int_equal(rl_log_parse_level("warning"), -1);
    assert_int_equal(rl_log_parse_level("trace9"), -1);
    assert_int_equal(rl_log_parse_level(""), -1);
}

static void test_escaping(void **state)
{
    (void)state;
    char path[PATH_MAX];
    rl_log_t *l = open_fresh("escape.log", path, sizeof(path));
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "a\nb\tc\\d\"e\x01\x7f\xff\r\b\vz %s", "GET /\n");
    rl_log_close(l);
    char *s = slurp(path);
    const char *msg = strstr(s, "] a");
    assert_non_null(msg);
    assert_string_equal(msg + 2, "a\\nb\\tc\\\\d\"e\\x01\\x7f\\xff\\r\\b\\vz GET /\\n\n");
    free(s);
}

static void test_truncation(void **state)
{
    (void)state;
    char path[PATH_MAX];
    rl_log_t *l = open_fresh("long.log", path, sizeof(path));
    char *big = malloc(20001);
    memset(big, 'x', 20000);
    big[20000] = '\0';
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "%s", big);
    /* escapes near the limit are never cut in half */
    for (int i = 0; i < 20000; i++)
        big[i] = i < 8100 ? 'y' : '\n';
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "%s", big);
    rl_log_close(l);
    free(big);

    char *s = slurp(path);
    char *nl = strchr(s, '\n');
    assert_non_null(nl);
    assert_int_equal(nl - s + 1, RL_LOG_LINE_MAX);
    char *second = nl + 1;
    nl = strchr(second, '\n');
    assert_non_null(nl);
    assert_true(nl - second + 1 <= RL_LOG_LINE_MAX);
    assert_int_equal(nl[1], '\0');
    size_t slashes = 0;   /* an even run of backslashes before the newline: no cut escape */
    for (char *p = nl - 1; p > second && *p != 'y'; p--)
        if (*p == '\\')
            slashes++;
    assert_true(nl[-1] == 'n' && nl[-2] == '\\');
    assert_true(slashes > 0);
    free(s);
}

static void test_reopen_after_rename(void **state)
{
    (void)state;
    char path[PATH_MAX], rotated[PATH_MAX];
    rl_log_t *l = open_fresh("rot.log", path, sizeof(path));
    path_in(rotated, sizeof(rotated), "rot.log.1");
    int fd = rl_log_fd(l);
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "before rotation");
    assert_int_equal(rename(path, rotated), 0);
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "after rename");
    assert_int_equal(rl_log_reopen(l), RL_OK);
    assert_int_equal(rl_log_fd(l), fd);              /* same fd number */
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "after reopen");
    rl_log_close(l);

    char *old = slurp(rotated), *cur = slurp(path);
    assert_non_null(strstr(old, "before rotation"));
    assert_non_null(strstr(old, "after rename"));
    assert_null(strstr(old, "after reopen"));
    assert_non_null(strstr(cur, "after reopen"));
    assert_null(strstr(cur, "before"));
    free(old);
    free(cur);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0022, 0);   /* never group/world writable */
}

/* Two processes (as two workers) append long lines to the same fd. */
static void writer(rl_log_t *l, char tag)
{
    char payload[4000];
    for (int i = 0; i < 1500; i++) {
        int len = 100 + (i * 37) % 3800;
        memset(payload, tag, (size_t)len);
        payload[len] = '\0';
        rl_log_error(l, RL_LOG_ERR, "core", NULL, "%c %d %d %s", tag, i, len, payload);
    }
}

static void test_two_processes_no_torn_lines(void **state)
{
    (void)state;
    char path[PATH_MAX], re[256];
    rl_log_t *l = open_fresh("concurrent.log", path, sizeof(path));
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            writer(l, k ? 'b' : 'a');
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    rl_log_close(l);

    char *s = slurp(path), *save = NULL;
    int count[2] = { 0, 0 };
    snprintf(re, sizeof(re), TIME_RE "\\[core:error\\] \\[pid [0-9]+\\] [ab] [0-9]+ [0-9]+ [ab]+$");
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (regexec(&rx, line, 0, NULL, 0) != 0)
            fail_msg("torn line: %.120s", line);
        char *m = strstr(line, "] a ") ? strstr(line, "] a ") : strstr(line, "] b ");
        char tag;
        int i, len;
        assert_int_equal(sscanf(m + 2, "%c %d %d", &tag, &i, &len), 3);
        char *payload = strrchr(line, ' ') + 1;
        assert_int_equal(strlen(payload), (size_t)len);
        assert_int_equal(strspn(payload, tag == 'a' ? "a" : "b"), (size_t)len);
        count[tag == 'b']++;
    }
    regfree(&rx);
    assert_int_equal(count[0], 1500);
    assert_int_equal(count[1], 1500);
    free(s);
}

static void test_write_raw_and_std(void **state)
{
    (void)state;
    char path[PATH_MAX], err[256];
    rl_log_t *l = open_fresh("access.log", path, sizeof(path));
    assert_int_equal(rl_log_write_raw(l, "127.0.0.1 - - \"GET / HTTP/1.1\" 200 5\n", 37), RL_OK);
    rl_log_close(l);
    char *s = slurp(path);
    assert_string_equal(s, "127.0.0.1 - - \"GET / HTTP/1.1\" 200 5\n");
    free(s);

    rl_log_t *e = rl_log_open("/dev/stderr", err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(rl_log_fd(e), 2);
    rl_log_close(e);
    assert_true(fcntl(2, F_GETFD) >= 0);   /* not closed */
    rl_log_t *o = rl_log_open("/dev/stdout", err, sizeof(err));
    assert_int_equal(rl_log_fd(o), 1);
    assert_int_equal(rl_log_reopen(o), RL_OK);
    rl_log_close(o);
    assert_true(fcntl(1, F_GETFD) >= 0);

    assert_non_null(rl_log_stderr());
    assert_int_equal(rl_log_fd(rl_log_stderr()), 2);
    rl_log_close(rl_log_stderr());   /* ignored */
    assert_false(rl_log_enabled(NULL, "core", RL_LOG_DEBUG));
    assert_true(rl_log_enabled(NULL, "core", RL_LOG_ERR));
    assert_int_equal(rl_log_pipe_pid(rl_log_stderr()), -1);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(rl_log_open("/nonexistent-dir/error.log", err, sizeof(err)));
    assert_string_equal(err, "could not open log file /nonexistent-dir/error.log: "
                             "No such file or directory");
    assert_null(rl_log_open("|/nonexistent/logger -x", err, sizeof(err)));
    assert_string_equal(err, "could not start piped log program /nonexistent/logger -x: "
                             "No such file or directory");
    assert_null(rl_log_open("|   ", err, sizeof(err)));
    assert_null(rl_log_open("syslog:bogus", err, sizeof(err)));
    assert_string_equal(err, "unknown syslog facility bogus");
}

static void wait_for_content(const char *path, const char *needle)
{
    for (int i = 0; i < 300; i++) {
        if (access(path, F_OK) == 0) {
            char *s = slurp(path);
            bool found = strstr(s, needle) != NULL;
            free(s);
            if (found)
                return;
        }
        usleep(10 * 1000);
    }
    fail_msg("%s never got \"%s\"", path, needle);
}

static void test_piped_logs(void **state)
{
    (void)state;
    char out[PATH_MAX], spec[PATH_MAX + 64], err[256];
    path_in(out, sizeof(out), "piped.out");

    /* without a shell: the words are split and quotes honoured */
    snprintf(spec, sizeof(spec), "|/bin/sh -c 'cat >> \"%s\"'", out);
    rl_log_t *l = rl_log_open(spec, err, sizeof(err));
    if (l == NULL)
        fail_msg("%s", err);
    pid_t pid = rl_log_pipe_pid(l);
    assert_true(pid > 0);
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "through the pipe");
    assert_int_equal(rl_log_write_raw(l, "raw line\n", 9), RL_OK);
    wait_for_content(out, "raw line");

    /* the logger dies; the master reaps it and respawns */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    int fd = rl_log_fd(l);
    assert_int_equal(rl_log_respawn(l), RL_OK);
    assert_int_equal(rl_log_fd(l), fd);
    assert_int_not_equal(rl_log_pipe_pid(l), pid);
    rl_log_error(l, RL_LOG_ERR, "core", NULL, "after respawn");
    rl_log_close(l);   /* EOF: cat exits and is reaped */
    char *s = slurp(out);
    assert_non_null(strstr(s, "[core:error] [pid "));
    assert_non_null(strstr(s, "through the pipe"));
    assert_non_null(strstr(s, "after respawn"));
    free(s);

    /* "|$": through /bin/sh -c */
    snprintf(spec, sizeof(spec), "|$cat > %s.2", out);
    l = rl_log_open(spec, err, sizeof(err));
    assert_non_null(l);
    rl_log_write_raw(l, "shell\n", 6);
    rl_log_close(l);
    snprintf(spec, sizeof(spec), "%s.2", out);
    s = slurp(spec);
    assert_string_equal(s, "shell\n");
    free(s);

    /* backslash-escaped blanks and double quotes, no shell */
    snprintf(spec, sizeof(spec), "||/bin/sh -c cat\\ >\\ \"%s.3\"", out);
    l = rl_log_open(spec, err, sizeof(err));
    assert_non_null(l);
    rl_log_write_raw(l, "escaped\n", 8);
    rl_log_close(l);
    snprintf(spec, sizeof(spec), "%s.3", out);
    s = slurp(spec);
    assert_string_equal(s, "escaped\n");
    free(s);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);   /* nothing left to reap */
}

static void test_syslog(void **state)
{
    (void)state;
    char err[256];
    rl_log_t *l = rl_log_open("syslog", err, sizeof(err));
    assert_non_null(l);
    assert_int_equal(rl_log_fd(l), -1);
    rl_log_error(l, RL_LOG_DEBUG, "core", NULL, "filtered");
    rl_log_close(l);
    l = rl_log_open("syslog:local3:relais-test", err, sizeof(err));
    assert_non_null(l);
    rl_log_close(l);
    /* "syslog.log" is a file, not syslog */
    char path[PATH_MAX];
    rl_log_t *f = open_fresh("syslog.log", path, sizeof(path));
    assert_true(rl_log_fd(f) > 2);
    rl_log_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_reopen_after_rename),
        cmocka_unit_test(test_two_processes_no_torn_lines),
        cmocka_unit_test(test_write_raw_and_std),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_piped_logs),
        cmocka_unit_test(test_syslog),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
