/* idle_conns: opens many idle connections to one server and watches them.
 *
 * Used by bench/run.sh to measure what an idle keep-alive connection costs a
 * server. Modes:
 *   request  each connection sends one complete GET, reads the whole response
 *            (Content-Length), then stays open and silent: a true keep-alive
 *            idle connection;
 *   silent   each connection connects and sends nothing.
 * At most <window> connections are in progress at once, so the server's listen
 * backlog is not flooded. When every connection is settled (idle, failed) or
 * nothing progressed for <stall> seconds or <open> seconds passed, it prints
 *   READY idle=N failed=N pending=N unstarted=N elapsed_ms=N
 * (also to <ready-file>, for the script to poll), then holds the idle ones for
 * <hold> seconds, counting those the server closes, and prints
 *   HELD open=N closed=N data=N
 * One epoll loop, ~16 bytes per connection plus one 4 KiB header buffer per
 * connection in progress. Closes with RST (SO_LINGER 0) to leave no TIME_WAIT.
 *
 *   cc -O2 -std=c17 -D_GNU_SOURCE -o idle_conns idle_conns.c
 *   idle_conns -p PORT [-a 127.0.0.1] [-n 5000] [-m request|silent] [-u /1k.bin]
 *              [-w 200] [-o 15] [-s 3] [-H 5] [-r ready-file]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state {
    ST_UNSTARTED = 0, /* not opened yet */
    ST_CONNECTING = 1, /* connect() in progress */
    ST_READING = 2,    /* request sent, response incomplete */
    ST_IDLE = 3,       /* response complete (or connected, silent mode) */
    ST_FAILED = 4,     /* refused, reset or closed before the response */
    ST_CLOSED = 5,     /* idle, then closed by the server */
};

#define HDR_MAX 4096

struct conn {
    int fd;
    uint8_t state;
    int16_t slot;  /* header buffer while ST_READING, -1 otherwise */
    int32_t got;   /* bytes of the response received */
    int32_t need;  /* header + body length once the header is complete, -1 before */
};

static struct conn *conns;
static char (*slots)[HDR_MAX];
static int *free_slots, nfree;
static int ep;
static char request[512];
static size_t request_len;
static int silent;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void finish(struct conn *c, enum state st)
{
    if (c->slot >= 0) {
        free_slots[nfree++] = c->slot;
        c->slot = -1;
    }
    if (st == ST_FAILED || st == ST_CLOSED) {
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c->fd);
        c->fd = -1;
    }
    c->state = (uint8_t)st;
}

/* Content-Length of the header in <h> (NUL-terminated), or -1 if none. */
static long content_length(const char *h)
{
    for (const char *p = h; (p = strchr(p, '\n')) != NULL; ) {
        p++;
        if (strncasecmp(p, "content-length:", 15) == 0)
            return strtol(p + 15, NULL, 10);
    }
    return -1;
}

static int open_one(struct conn *c, const struct sockaddr_in *sa, int idx)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket");
    c->slot = -1;
    c->got = 0;
    c->need = -1;
    c->state = ST_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) {
        finish(c, ST_FAILED);
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)idx};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl");
    return 1;
}

static void on_connected(struct conn *c, int idx)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        finish(c, ST_FAILED);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)idx};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (silent) {
        c->state = ST_IDLE;
        return;
    }
    if (send(c->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len) {
        finish(c, ST_FAILED);
        return;
    }
    c->slot = (int16_t)free_slots[--nfree];
    c->state = ST_READING;
}

static void on_readable(struct conn *c)
{
    char scratch[16384];
    for (;;) {
        char *dst = scratch;
        size_t room = sizeof scratch;
        if (c->need < 0) {  /* header still incomplete: keep it */
            dst = slots[c->slot] + c->got;
            room = HDR_MAX - 1 - (size_t)c->got;
            if (room == 0) {
                finish(c, ST_FAILED);
                return;
            }
        }
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            finish(c, ST_FAILED);
            return;
        }
        if (n < 0)
            return;
        c->got += (int32_t)n;
        if (c->need < 0) {
            char *h = slots[c->slot];
            h[c->got] = '\0';
            char *end = strstr(h, "\r\n\r\n");
            if (end) {
                long cl = content_length(h);
                c->need = (int32_t)(end + 4 - h) + (int32_t)(cl > 0 ? cl : 0);
            }
        }
        if (c->need >= 0 && c->got >= c->need) {
            finish(c, ST_IDLE);
            return;
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: idle_conns -p PORT [-a ADDR] [-n COUNT] [-m request|silent] "
                    "[-u PATH] [-w WINDOW] [-o OPEN_S] [-s STALL_S] [-H HOLD_S] [-r FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *path = "/", *ready_file = NULL;
    int port = 0, count = 5000, window = 200, opt;
    double open_s = 15, stall_s = 3, hold_s = 5;

    while ((opt = getopt(argc, argv, "a:p:n:m:u:w:o:s:H:r:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': count = atoi(optarg); break;
        case 'm': silent = strcmp(optarg, "silent") == 0; break;
        case 'u': path = optarg; break;
        case 'w': window = atoi(optarg); break;
        case 'o': open_s = atof(optarg); break;
        case 's': stall_s = atof(optarg); break;
        case 'H': hold_s = atof(optarg); break;
        case 'r': ready_file = optarg; break;
        default: usage();
        }
    }
    if (port <= 0 || count <= 0 || window <= 0 || window > 30000)
        usage();

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)count + 64) {
        rl.rlim_cur = (rlim_t)count + 64;
        if (rl.rlim_max < rl.rlim_cur)
            rl.rlim_max = rl.rlim_cur;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("setrlimit(RLIMIT_NOFILE): raise ulimit -n");
    }

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        usage();
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                                   "User-Agent: relais-idle-bench\r\nAccept: */*\r\n\r\n", path);

    conns = calloc((size_t)count, sizeof *conns);
    slots = malloc((size_t)window * HDR_MAX);
    free_slots = malloc((size_t)window * sizeof *free_slots);
    struct epoll_event *evs = malloc(1024 * sizeof *evs);
    if (!conns || !slots || !free_slots || !evs)
        die("malloc");
    for (int i = 0; i < window; i++)
        free_slots[nfree++] = i;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");

    /* open */
    double t0 = now(), last_progress = t0;
    int next = 0, inflight = 0, settled = 0;
    while (settled < count) {
        while (next < count && inflight < window) {
            if (open_one(&conns[next], &sa, next))
                inflight++;
            else
                settled++;
            next++;
        }
        double t = now();
        if (t - t0 > open_s || t - last_progress > stall_s)
            break;
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[evs[i].data.u32];
            uint8_t before = c->state;
            if (c->state == ST_CONNECTING)
                on_connected(c, (int)evs[i].data.u32);
            if (c->state == ST_READING && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
                on_readable(c);
            if (c->state != before && (c->state == ST_IDLE || c->state == ST_FAILED)) {
                inflight--;
                settled++;
                last_progress = now();
            }
        }
    }

    int idle = 0, failed = 0, pending = 0, unstarted = 0;
    for (int i = 0; i < count; i++) {
        switch (conns[i].state) {
        case ST_IDLE: idle++; break;
        case ST_FAILED: failed++; break;
        case ST_UNSTARTED: unstarted++; break;
        default: pending++; finish(&conns[i], ST_FAILED); break;
        }
    }
    char line[200];
    snprintf(line, sizeof line, "READY idle=%d failed=%d pending=%d unstarted=%d elapsed_ms=%d\n",
             idle, failed, pending, unstarted, (int)((now() - t0) * 1000));
    fputs(line, stdout);
    fflush(stdout);
    if (ready_file) {
        FILE *f = fopen(ready_file, "w");
        if (f) {
            fputs(line, f);
            fclose(f);
        }
    }

    /* hold */
    double t1 = now();
    int closed = 0, data = 0;
    while (now() - t1 < hold_s) {
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[evs[i].data.u32];
            if (c->state != ST_IDLE)
                continue;
            char buf[4096];
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r > 0) {
                data++;     /* unexpected bytes: the connection stays open */
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                finish(c, ST_CLOSED);
                closed++;
            }
        }
    }
    printf("HELD open=%d closed=%d data=%d\n", idle - closed, closed, data);
    fflush(stdout);
    for (int i = 0; i < count; i++)
        if (conns[i].fd > 0)
            finish(&conns[i], ST_CLOSED);
    return 0;
}
