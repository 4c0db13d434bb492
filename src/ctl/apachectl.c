/* apache2ctl for relaisd (see apachectl.h). The sequence of each action is
 * the shell script's; relaisd does the work (-k, -t), relaisctl only
 * prepares the environment and the arguments. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/proc.h"
#include "ctl/apachectl.h"
#include "ctl/check.h"
#include "httpd/config.h"
#include "httpd/envvars.h"

#define MAX_ARGV 128

void rl_ctl_setup(rl_ctl_t *c)
{
    const char *env = getenv("APACHE_CONFDIR");
    snprintf(c->confdir, sizeof(c->confdir), "%s", c->server_root ? c->server_root
             : env && *env ? env : "/etc/apache2");
    c->self_dir[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", c->self_dir, sizeof(c->self_dir) - 1);
    if (n > 0) {
        c->self_dir[n] = '\0';
        char *slash = strrchr(c->self_dir, '/');
        if (slash)
            *slash = '\0';
    }
}

int rl_ctl_envvars(const rl_ctl_t *c)
{
    /* apache2ctl: APACHE_ENVVARS, else $APACHE_CONFDIR/envvars; -d is ours */
    char file[PATH_MAX + 16], confdir[PATH_MAX], err[PATH_MAX + 256];
    const char *ev = getenv("APACHE_ENVVARS");
    snprintf(file, sizeof(file), "%s", ev && *ev ? ev : "");
    if (!*file)
        snprintf(file, sizeof(file), "%s/envvars", c->confdir);
    snprintf(confdir, sizeof(confdir), "%s", c->confdir);
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return RL_OK;
    if (rl_envvars_import_all(file, confdir, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relaisctl: %s\n", err);
        return RL_ERROR;
    }
    return RL_OK;
}

const char *rl_ctl_program(const rl_ctl_t *c, const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", c->self_dir, name);
    if (c->self_dir[0] && n > 0 && (size_t)n < len && access(buf, X_OK) == 0)
        return buf;
    snprintf(buf, len, "%s", name);
    return buf;
}

int rl_ctl_exec(char *const argv[], bool quiet)
{
    fflush(stdout);
    fflush(stderr);
    int null = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
    pid_t pid = rl_proc_spawn(argv, -1, -1, null);
    int e = errno;
    if (null >= 0)
        close(null);
    if (pid < 0) {
        fprintf(stderr, "relaisctl: cannot run %s: %s\n", argv[0], strerror(e));
        return 127;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* relaisd, "-d <tree>" unless /etc/apache2, -f, $APACHE_ARGUMENTS (split
 * on blanks as the shell does), then <extra>. <words> keeps the split
 * copy alive. */
static int relaisd_argv(const rl_ctl_t *c, char **out, char *bin, size_t binlen, char *words,
                        size_t wlen, int argc, char **extra)
{
    int n = 0;
    out[n++] = (char *)rl_ctl_program(c, "relaisd", bin, binlen);
    if (strcmp(c->confdir, "/etc/apache2") != 0) {
        out[n++] = "-d";
        out[n++] = (char *)c->confdir;
    }
    if (c->config_file) {
        out[n++] = "-f";
        out[n++] = (char *)c->config_file;
    }
    const char *args = getenv("APACHE_ARGUMENTS");
    snprintf(words, wlen, "%s", args ? args : "");
    for (char *save = NULL, *w = strtok_r(words, " \t\n", &save); w && n < MAX_ARGV / 2;
         w = strtok_r(NULL, " \t\n", &save))
        out[n++] = w;
    for (int i = 0; i < argc && n < MAX_ARGV - 1; i++)
        out[n++] = extra[i];
    out[n] = NULL;
    return n;
}

static int run_relaisd(const rl_ctl_t *c, bool quiet, int argc, char **extra)
{
    char *argv[MAX_ARGV], bin[PATH_MAX], words[4096];
    relaisd_argv(c, argv, bin, sizeof(bin), words, sizeof(words), argc, extra);
    return rl_ctl_exec(argv, quiet);
}

/* apache2ctl's mkdir -p of APACHE_RUN_DIR, and APACHE_LOCK_DIR owned by
 * APACHE_RUN_USER (when it has to be created). */
static void make_run_dirs(void)
{
    const char *run = getenv("APACHE_RUN_DIR"), *lock = getenv("APACHE_LOCK_DIR");
    const char *user = getenv("APACHE_RUN_USER");
    char cmd[PATH_MAX], *argv[] = { "mkdir", "-p", cmd, NULL };
    struct stat st;
    snprintf(cmd, sizeof(cmd), "%s", run && *run ? run : "/var/run/apache2");
    if (stat(cmd, &st) != 0)
        rl_ctl_exec(argv, false);
    snprintf(cmd, sizeof(cmd), "%s", lock && *lock ? lock : "/var/lock/apache2");
    if (stat(cmd, &st) == 0 || rl_ctl_exec(argv, false) != 0)
        return;
    struct passwd *pw = getpwnam(user && *user ? user : "www-data");
    if (pw && chown(cmd, pw->pw_uid, (gid_t)-1) != 0)
        fprintf(stderr, "Cannot create %s with owner %s.\n", cmd, pw->pw_name);
}

/* The PidFile of the configuration, and whether its pid lives. */
static int status(const rl_ctl_t *c)
{
    rl_cli_conf_t cli = { .server_root = c->confdir, .config_file = c->config_file };
    char err[4096];
    rl_config_t *cf = rl_config_load(&cli, NULL, err, sizeof(err));
    if (cf == NULL) {
        fprintf(stderr, "%s\nrelaisd status unknown: the configuration does not load\n", err);
        return 4;
    }
    const char *path = rl_config_path(cf, cf->pidfile ? cf->pidfile : "logs/httpd.pid");
    pid_t pid = rl_pidfile_read(path);
    int rc = pid > 0 && rl_proc_alive(pid) ? 0 : 3;
    if (rc == 0)
        printf("relaisd is running (pid %d)\n", (int)pid);
    else
        printf("relaisd is not running\n");
    rl_config_free(cf);
    return rc;
}

static int configtest(rl_ctl_t *c)
{
    char *t[] = { "-t" };
    int rc = run_relaisd(c, false, 1, t);
    if (rc != 0)
        return rc;
    return rl_ctl_check(c);
}

static int signal_action(rl_ctl_t *c, const char *action)
{
    char *k[] = { "-k", (char *)action };
    if (strcmp(action, "restart") == 0 || strcmp(action, "graceful") == 0) {
        char *t[] = { "-t" };
        if (run_relaisd(c, true, 1, t) != 0)
            return run_relaisd(c, false, 1, t);
    }
    return run_relaisd(c, false, 2, k);
}

static bool is_signal_action(const char *a)
{
    static const char *const k[] = { "start", "stop", "restart", "graceful", "graceful-stop" };
    for (size_t i = 0; i < RL_NELEMS(k); i++)
        if (strcmp(a, k[i]) == 0)
            return true;
    return false;
}

int rl_ctl_apachectl(rl_ctl_t *c, const char *action, int argc, char **argv)
{
    if (argc != 1)
        action = "";            /* "start foo": all of it to relaisd, as apache2ctl */
    if (strcmp(action, "status") == 0)
        return status(c);
    make_run_dirs();
    int rc;
    if (strcmp(action, "configtest") == 0)
        rc = configtest(c);
    else if (is_signal_action(action))
        rc = signal_action(c, action);
    else
        rc = run_relaisd(c, false, argc, argv);
    if (rc != 0) {
        printf("Action '");
        for (int i = 0; i < argc; i++)
            printf("%s%s", i ? " " : "", argv[i]);
        printf("' failed.\nThe relaisd error log may have more information.\n");
    }
    return rc;
}
