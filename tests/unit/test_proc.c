/* Processes: pid files, liveness, user/group resolution and privilege
 * dropping (as root, in forked children), rlimits, spawn, daemonizing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/proc.h"

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rl_test_proc.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Forks, runs <fn> in the child, returns its exit status (or 128+signal). */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- pid files ---- */

static void test_pidfile_roundtrip(void **state)
{
    (void)state;
    char path[PATH_MAX], err[256];
    path_in(path, sizeof(path), "relaisd.pid");
    assert_int_equal(rl_pidfile_read(path), -1);   /* missing */
    assert_int_equal(rl_pidfile_write(path, 12345, err, sizeof(err)), RL_OK);
    assert_int_equal(rl_pidfile_read(path), 12345);
    assert_int_equal(rl_pidfile_write(path, getpid(), err, sizeof(err)), RL_OK);
    assert_int_equal(rl_pidfile_read(path), getpid());

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(count_entries(tmpdir), 1);   /* no temporary left */
    unlink(path);
}

static void test_pidfile_garbled(void **state)
{
    (void)state;
    static const struct { const char *content; pid_t want; } cases[] = {
        { "42\n", 42 }, { "42", 42 }, { "42 \n", 42 }, { "2147483647\n", 2147483647 },
        { "", -1 }, { "\n", -1 }, { "abc\n", -1 }, { "12x\n", -1 }, { "-5\n", -1 },
        { "0\n", -1 }, { " 42\n", -1 }, { "+42\n", -1 }, { "2147483648\n", -1 },
        { "42\n43\n", -1 },
    };
    char path[PATH_MAX];
    path_in(path, sizeof(path), "garbled.pid");
    for (size_t i = 0; i < RL_NELEMS(cases); i++) {
        write_file(path, cases[i].content);
        if (rl_pidfile_read(path) != cases[i].want)
            fail_msg("pid file \"%s\": got %d", cases[i].content, (int)rl_pidfile_read(path));
    }
    unlink(path);
}

static void test_pidfile_error(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(rl_pidfile_write("/nonexistent-dir/x.pid", 1, err, sizeof(err)), RL_ERROR);
    assert_string_equal(err, "could not create pid file /nonexistent-dir/x.pid: "
                             "No such file or directory");
    assert_int_equal(rl_pidfile_write("/nonexistent-dir/x.pid", 1, NULL, 0), RL_ERROR);
}

static void test_alive(void **state)
{
    (void)state;
    assert_true(rl_proc_alive(getpid()));
    assert_false(rl_proc_alive(0));
    assert_false(rl_proc_alive(-1));
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    assert_false(rl_proc_alive(pid));
}

/* ---- users and groups ---- */

static void test_resolve(void **state)
{
    (void)state;
    uid_t uid;
    gid_t gid;
    char err[256] = "";
    assert_int_equal(rl_proc_resolve_user("root", &uid, err, sizeof(err)), RL_OK);
    assert_int_equal(uid, 0);
    assert_int_equal(rl_proc_resolve_user("#1234", &uid, err, sizeof(err)), RL_OK);
    assert_int_equal(uid, 1234);
    assert_int_equal(rl_proc_resolve_user("no-such-user-rl", &uid, err, sizeof(err)), RL_ERROR);
    assert_string_equal(err, "bad user name no-such-user-rl");
    assert_int_equal(rl_proc_resolve_user("#12x", &uid, err, sizeof(err)), RL_ERROR);
    assert_string_equal(err, "bad user name #12x");
    assert_int_equal(rl_proc_resolve_user("#-1", &uid, err, sizeof(err)), RL_ERROR);
    assert_int_equal(rl_proc_resolve_user("", &uid, err, sizeof(err)), RL_ERROR);

    struct group *gr = getgrgid(0);
    assert_non_null(gr);
    assert_int_equal(rl_proc_resolve_group(gr->gr_name, &gid, err, sizeof(err)), RL_OK);
    assert_int_equal(gid, 0);
    assert_int_equal(rl_proc_resolve_group("#65534", &gid, err, sizeof(err)), RL_OK);
    assert_int_equal(gid, 65534);
    assert_int_equal(rl_proc_resolve_group("no-such-group-rl", &gid, err, sizeof(err)), RL_ERROR);
    assert_string_equal(err, "bad group name no-such-group-rl");
}

static int drop_to_nobody(void)
{
    char err[256];
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = getgrnam("nogroup");
    if (pw == NULL || gr == NULL)
        return 77;
    if (rl_proc_drop_privileges("nobody", "nogroup", err, sizeof(err)) != RL_OK)
        return 2;
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
        return 3;
    if (getgid() != gr->gr_gid || getegid() != gr->gr_gid)
        return 4;
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == 0)
            return 5;   /* root's supplementary groups kept */
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
        return 6;
    /* not root any more: a second call is Apache's no-op */
    if (rl_proc_drop_privileges("root", NULL, err, sizeof(err)) != RL_OK)
        return 7;
    if (open("/etc/shadow", O_RDONLY) >= 0)
        return 8;
    return 0;
}

static void test_drop_privileges(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int rc = in_child(drop_to_nobody);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

static int drop_to_numeric(void)
{
    char err[256];
    /* an id without a passwd entry: groups become just the gid */
    if (getpwuid(54321) != NULL)
        return 77;
    if (rl_proc_drop_privileges("#54321", "#54322", err, sizeof(err)) != RL_OK)
        return 2;
    gid_t groups[8];
    int n = getgroups(8, groups);
    if (getuid() != 54321 || getgid() != 54322 || n != 1 || groups[0] != 54322)
        return 3;
    return 0;
}

static void test_drop_privileges_numeric(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int rc = in_child(drop_to_numeric);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

static void test_drop_privileges_errors(void **state)
{
    (void)state;
    char err[256] = "";
    if (geteuid() != 0)
        skip();
    /* these fail before changing anything: safe in the test process */
    assert_int_equal(rl_proc_drop_privileges("no-such-user-rl", "nogroup", err, sizeof(err)),
                     RL_ERROR);
    assert_string_equal(err, "bad user name no-such-user-rl");
    assert_int_equal(rl_proc_drop_privileges("nobody", "no-such-group-rl", err, sizeof(err)),
                     RL_ERROR);
    assert_string_equal(err, "bad group name no-such-group-rl");
    assert_int_equal(rl_proc_drop_privileges("root", NULL, err, sizeof(err)), RL_ERROR);
    assert_non_null(strstr(err, "refusing to serve as root"));
    assert_int_equal(geteuid(), 0);
}

/* ---- rlimits ---- */

static int rlimits(void)
{
    struct rlimit rl;
    if (rl_proc_set_rlimit(RLIMIT_CORE, 0, RL_RLIM_MAX) != RL_OK)
        return 2;
    getrlimit(RLIMIT_CORE, &rl);
    if (rl.rlim_cur != 0)
        return 3;
    if (rl_proc_set_rlimit(RLIMIT_CORE, RL_RLIM_MAX, RL_RLIM_MAX) != RL_OK)
        return 4;
    struct rlimit after;
    getrlimit(RLIMIT_CORE, &after);
    if (after.rlim_cur != after.rlim_max || after.rlim_max != rl.rlim_max)
        return 5;

    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl_proc_set_rlimit(RLIMIT_NOFILE, 256, RL_RLIM_MAX) != RL_OK)
        return 6;
    if (rl_proc_raise_nofile(512) != RL_OK)
        return 7;
    getrlimit(RLIMIT_NOFILE, &after);
    if (after.rlim_cur != 512)
        return 8;
    if (rl_proc_raise_nofile(100) != RL_OK)   /* never lowers */
        return 9;
    getrlimit(RLIMIT_NOFILE, &after);
    if (after.rlim_cur != 512)
        return 10;
    /* beyond the hard limit: clamped (or, as root, the hard limit raised) */
    if (rl_proc_raise_nofile(rl.rlim_max + 1000) != RL_OK)
        return 11;
    getrlimit(RLIMIT_NOFILE, &after);
    if (after.rlim_cur < rl.rlim_max)
        return 12;
    if (geteuid() != 0 && after.rlim_cur != rl.rlim_max)
        return 13;
    return 0;
}

static void test_rlimits(void **state)
{
    (void)state;
    assert_int_equal(in_child(rlimits), 0);
}

/* ---- fork and spawn ---- */

static int fork_resets_mask(void)
{
    sigset_t set, mask;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t pid = rl_proc_fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, NULL, &mask);
        _exit(sigismember(&mask, SIGUSR1) ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static void test_fork_resets_signals(void **state)
{
    (void)state;
    assert_int_equal(in_child(fork_resets_mask), 0);
}

static void test_spawn(void **state)
{
    (void)state;
    int status, p[2];
    char *exit3[] = { "sh", "-c", "exit 3", NULL };
    pid_t pid = rl_proc_spawn(exit3, -1, -1, -1);
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 3);

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char *echo[] = { "echo", "hello", NULL };
    pid = rl_proc_spawn(echo, -1, p[1], -1);
    assert_true(pid > 0);
    close(p[1]);
    char buf[32] = "";
    assert_int_equal(read(p[0], buf, sizeof(buf) - 1), 6);
    assert_string_equal(buf, "hello\n");
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);

    char *missing[] = { "/nonexistent/program", NULL };
    errno = 0;
    assert_int_equal(rl_proc_spawn(missing, -1, -1, -1), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);   /* the failed child was reaped */
    assert_int_equal(errno, ECHILD);
}

/* ---- daemonizing ---- */

/* The original process's stdout/stderr: a pipe the test reads, as a script
 * running "$(relaisd -k start)" would. */
static int caller_pipe[2];

/* Runs in the test's child: daemonizes, forks a "worker" before being ready,
 * writes its pid file, gets ready, and records what it sees. */
static int daemon_child(void)
{
    char pidpath[PATH_MAX], infopath[PATH_MAX], info[2 * PATH_MAX + 64], err[256];
    int fd;
    path_in(pidpath, sizeof(pidpath), "daemon.pid");
    path_in(infopath, sizeof(infopath), "daemon.info");
    dup2(caller_pipe[1], 1);
    dup2(caller_pipe[1], 2);
    close(caller_pipe[0]);
    close(caller_pipe[1]);
    if (rl_proc_daemonize_begin(&fd) != RL_OK)
        return 2;
    /* the daemon: the original process is still waiting */
    pid_t worker = rl_proc_fork();
    if (worker == 0) {
        pause();   /* a worker living on, until the test kills it */
        _exit(0);
    }
    usleep(50 * 1000);   /* a "slow start": the caller must not return before ready */
    if (rl_pidfile_write(pidpath, getpid(), err, sizeof(err)) != RL_OK)
        _exit(3);
    if (rl_proc_daemonize_ready(fd) != RL_OK)
        _exit(4);
    char out[PATH_MAX] = "", cwd[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/fd/1", out, sizeof(out) - 1);
    if (n > 0)
        out[n] = '\0';
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        cwd[0] = '\0';
    snprintf(info, sizeof(info), "%ld %ld %s %s %ld", (long)getsid(0), (long)getppid(), out, cwd,
             (long)worker);
    FILE *f = fopen(infopath, "w");
    fputs(info, f);
    fclose(f);
    pause();   /* until the test kills it */
    _exit(0);
}

static void kill_and_reap(pid_t pid)
{
    int status;
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
}

/* The test process becomes the subreaper so it can reap the daemon. */
static void test_daemonize(void **state)
{
    (void)state;
    char pidpath[PATH_MAX], infopath[PATH_MAX];
    path_in(pidpath, sizeof(pidpath), "daemon.pid");
    path_in(infopath, sizeof(infopath), "daemon.info");
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe2(caller_pipe, O_CLOEXEC), 0);

    int rc = in_child(daemon_child);
    close(caller_pipe[1]);
    assert_int_equal(rc, 0);
    /* "-k start" returned: the pid file must be there already */
    pid_t daemon = rl_pidfile_read(pidpath);
    assert_true(daemon > 0);
    assert_true(rl_proc_alive(daemon));
    assert_int_not_equal(getsid(daemon), getsid(0));
    assert_int_not_equal(getsid(daemon), daemon);   /* not a session leader */

    for (int i = 0; i < 200 && access(infopath, F_OK) != 0; i++)
        usleep(10 * 1000);
    usleep(20 * 1000);
    char out[PATH_MAX] = "", cwd[PATH_MAX] = "";
    long sid, ppid, worker = -1;
    int fields = 0;
    FILE *f = fopen(infopath, "r");
    if (f) {
        fields = fscanf(f, "%ld %ld %s %s %ld", &sid, &ppid, out, cwd, &worker);
        fclose(f);
    }
    /* nobody holds the caller's pipe: its reader sees EOF at once */
    struct pollfd p = { .fd = caller_pipe[0], .events = POLLIN };
    int ready = poll(&p, 1, 2000);
    char c;
    ssize_t n = ready == 1 ? read(caller_pipe[0], &c, 1) : -1;
    close(caller_pipe[0]);

    /* stop the daemon and its worker before asserting: a failed check must
     * not leave them behind */
    kill_and_reap(daemon);
    kill_and_reap((pid_t)worker);
    assert_int_equal(fields, 5);
    assert_string_equal(out, "/dev/null");
    assert_string_equal(cwd, "/");
    assert_int_equal(n, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    unlink(pidpath);
    unlink(infopath);
}

static int daemon_fails(void)
{
    int fd;
    if (rl_proc_daemonize_begin(&fd) != RL_OK)
        return 2;
    if (rl_proc_fork() == 0) {   /* a worker that outlives the daemon a while */
        usleep(1500 * 1000);
        _exit(0);
    }
    _exit(3);   /* e.g. the listeners could not be opened */
}

static void test_daemonize_failure(void **state)
{
    (void)state;
    struct timespec t0, t1;
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(in_child(daemon_fails), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* the worker (alive 1.5 s) does not hold the pipe open */
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    /* reap the daemon and the worker (bounded: never hang the suite) */
    for (int i = 0; i < 500; i++) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r < 0)
            break;
        if (r == 0)
            usleep(10 * 1000);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pidfile_roundtrip),
        cmocka_unit_test(test_pidfile_garbled),
        cmocka_unit_test(test_pidfile_error),
        cmocka_unit_test(test_alive),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_drop_privileges),
        cmocka_unit_test(test_drop_privileges_numeric),
        cmocka_unit_test(test_drop_privileges_errors),
        cmocka_unit_test(test_rlimits),
        cmocka_unit_test(test_fork_resets_signals),
        cmocka_unit_test(test_spawn),
        cmocka_unit_test(test_daemonize),
        cmocka_unit_test(test_daemonize_failure),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
