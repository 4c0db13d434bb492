/* Debian's envvars, sourced by /bin/sh and read back (see envvars.h).
 *
 * apache2ctl does ". $APACHE_ENVVARS" in its own shell; a C program cannot,
 * so a shell runs the file and prints its environment with "env -0" on a
 * pipe: values may hold newlines, NUL cannot occur in them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/proc.h"
#include "httpd/envvars.h"

#define MAX_OUTPUT (4 * 1024 * 1024)   /* an environment is far below */

extern char **environ;

/* Variables the shell sets by itself: never taken from the file. */
static bool shell_own(const char *name, size_t len)
{
    static const char *const own[] = { "PWD", "OLDPWD", "SHLVL", "_" };
    for (size_t i = 0; i < RL_NELEMS(own); i++)
        if (strlen(own[i]) == len && memcmp(own[i], name, len) == 0)
            return true;
    return false;
}

static bool valid_name(const char *name, size_t len)
{
    if (len == 0 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

int rl_envvars_parse(const char *buf, size_t len, rl_envvars_cb cb, void *ctx)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        const char *e = buf + i;
        const char *end = memchr(e, '\0', len - i);
        size_t elen = end ? (size_t)(end - e) : len - i;
        i += elen + 1;
        const char *eq = memchr(e, '=', elen);
        if (eq == NULL || !valid_name(e, (size_t)(eq - e)) || shell_own(e, (size_t)(eq - e)))
            continue;
        char name[256];
        if ((size_t)(eq - e) >= sizeof(name))
            continue;
        memcpy(name, e, (size_t)(eq - e));
        name[eq - e] = '\0';
        size_t vlen = elen - (size_t)(eq - e) - 1;
        char *value = rl_xmalloc(vlen + 1);
        memcpy(value, eq + 1, vlen);
        value[vlen] = '\0';
        cb(ctx, name, value);
        free(value);
        n++;
    }
    return n;
}

/* Reads all of <fd> into a malloc'ed buffer. Returns it (*len set) or NULL. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = rl_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_OUTPUT) {
                free(buf);
                return NULL;
            }
            cap *= 2;
            buf = rl_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* Runs the shell; returns its output (malloc'ed) or NULL with <err> set. */
static char *run_shell(const char *file, const char *confdir, size_t *len, char *err, size_t errlen)
{
    /* the file's own output goes to stderr: only env -0 writes the pipe */
    static const char script[] =
        "if [ -z \"${APACHE_CONFDIR+x}\" ]; then APACHE_CONFDIR=\"$1\"; fi\n"
        ". \"$2\" >&2; exec /usr/bin/env -0";
    char *argv[] = { "/bin/sh", "-c", (char *)script, "sh", (char *)confdir, (char *)file, NULL };
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        rl_errf(err, errlen, "could not read %s: pipe: %s", file, strerror(errno));
        return NULL;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = rl_proc_spawn(argv, devnull, p[1], -1);
    int spawn_errno = errno;
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    char *out = NULL;
    if (pid < 0) {
        rl_errf(err, errlen, "could not read %s: /bin/sh: %s", file, strerror(spawn_errno));
    } else {
        out = read_all(p[0], len);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (out == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            rl_errf(err, errlen, "could not read %s: the shell exited with status %d", file,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            free(out);
            out = NULL;
        }
    }
    close(p[0]);
    return out;
}

int rl_envvars_source(const char *file, const char *confdir, rl_envvars_cb cb, void *ctx,
                      char *err, size_t errlen)
{
    size_t len = 0;
    char *out = run_shell(file, confdir, &len, err, errlen);
    if (out == NULL)
        return RL_ERROR;
    rl_envvars_parse(out, len, cb, ctx);
    free(out);
    return RL_OK;
}

bool rl_envvars_locate(const char *dir, char *file, char *confdir, size_t len)
{
    const char *env_confdir = getenv("APACHE_CONFDIR");
    const char *env_file = getenv("APACHE_ENVVARS");
    snprintf(confdir, len, "%s", env_confdir && *env_confdir ? env_confdir : dir);
    if (env_file && *env_file)
        snprintf(file, len, "%s", env_file);
    else
        snprintf(file, len, "%s/envvars", confdir);
    struct stat st;
    return stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

static void set_if_unset(void *ctx, const char *name, const char *value)
{
    (void)ctx;
    setenv(name, value, 0);
}

/* <dir> for relaisd: the -d directory when it has envvars, else the
 * directory of the configuration file. */
static void tree_dir(const char *server_root, const char *config_file, char *dir, size_t len)
{
    char probe[PATH_MAX];
    struct stat st;
    if (server_root) {
        snprintf(probe, sizeof(probe), "%s/envvars", server_root);
        if (stat(probe, &st) == 0) {
            snprintf(dir, len, "%s", server_root);
            return;
        }
    }
    const char *cfg = config_file ? config_file : "apache2.conf";
    if (cfg[0] == '/')
        snprintf(dir, len, "%s", cfg);
    else
        snprintf(dir, len, "%s/%s", server_root ? server_root : "/etc/apache2", cfg);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
}

int rl_envvars_setup(const char *server_root, const char *config_file, char *err, size_t errlen)
{
    char dir[PATH_MAX], file[PATH_MAX], confdir[PATH_MAX];
    tree_dir(server_root, config_file, dir, sizeof(dir));
    if (!rl_envvars_locate(dir, file, confdir, sizeof(file)))
        return RL_OK;
    return rl_envvars_source(file, confdir, set_if_unset, NULL, err, errlen);
}

/* ---- relaisctl: the file's environment replaces ours ---- */

typedef struct {
    char **names;
    size_t n, cap;
} seen_t;

static void set_and_note(void *ctx, const char *name, const char *value)
{
    seen_t *s = ctx;
    setenv(name, value, 1);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->names = rl_xrealloc(s->names, s->cap * sizeof(char *));
    }
    s->names[s->n++] = rl_xstrdup(name);
}

static bool was_seen(const seen_t *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
            return true;
    return shell_own(name, len);
}

/* Removes what the file unset: the variables of environ it did not print. */
static void unset_unseen(const seen_t *s)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **gone = rl_xcalloc(n + 1, sizeof(char *));
    size_t ngone = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        if (!was_seen(s, *e, len))
            gone[ngone++] = strndup(*e, len);
    }
    for (size_t i = 0; i < ngone; i++) {
        if (gone[i])
            unsetenv(gone[i]);
        free(gone[i]);
    }
    free(gone);
}

int rl_envvars_import_all(const char *file, const char *confdir, char *err, size_t errlen)
{
    seen_t s = { 0 };
    int rc = rl_envvars_source(file, confdir, set_and_note, &s, err, errlen);
    if (rc == RL_OK)
        unset_unseen(&s);
    for (size_t i = 0; i < s.n; i++)
        free(s.names[i]);
    free(s.names);
    return rc;
}
