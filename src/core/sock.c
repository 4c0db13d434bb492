/* Sockets: Apache's Listen syntax and listen/accept/connect for the event
 * loop, plus the IP patterns of mod_authz_host.
 *
 * The parsing rules and the error strings are those of APR
 * (apr_parse_addr_port, apr_ipsubnet_create) and Apache's listen.c, since a
 * sysadmin's config must be accepted or refused the same way. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/sock.h"


#define SIN(a)  ((struct sockaddr_in *)&(a)->ss)
#define SIN6(a) ((struct sockaddr_in6 *)&(a)->ss)
#define CSIN(a)  ((const struct sockaddr_in *)&(a)->ss)
#define CSIN6(a) ((const struct sockaddr_in6 *)&(a)->ss)

/* ---- addresses ---- */

static void set_in4(rl_sockaddr_t *out, const void *addr, int port)
{
    memset(out, 0, sizeof(*out));
    SIN(out)->sin_family = AF_INET;
    SIN(out)->sin_port = htons((uint16_t)port);
    memcpy(&SIN(out)->sin_addr, addr, 4);
    out->len = sizeof(struct sockaddr_in);
}

static void set_in6(rl_sockaddr_t *out, const void *addr, int port)
{
    memset(out, 0, sizeof(*out));
    SIN6(out)->sin6_family = AF_INET6;
    SIN6(out)->sin6_port = htons((uint16_t)port);
    memcpy(&SIN6(out)->sin6_addr, addr, 16);
    out->len = sizeof(struct sockaddr_in6);
}

int rl_sockaddr_from_ip(const char *ip, int port, rl_sockaddr_t *out)
{
    unsigned char buf[16];
    if (port < 0 || port > 65535)
        return RL_ERROR;
    if (inet_pton(AF_INET, ip, buf) == 1)
        set_in4(out, buf, port);
    else if (inet_pton(AF_INET6, ip, buf) == 1)
        set_in6(out, buf, port);
    else
        return RL_ERROR;
    return RL_OK;
}

int rl_sockaddr_unix(const char *path, rl_sockaddr_t *out)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(sun->sun_path)) {
        errno = ENAMETOOLONG;
        return RL_ERROR;
    }
    memset(out, 0, sizeof(*out));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, n + 1);
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return RL_OK;
}

void rl_sockaddr_normalize(rl_sockaddr_t *a)
{
    if (a->ss.ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&SIN6(a)->sin6_addr))
        return;
    unsigned char v4[4];
    int port = ntohs(SIN6(a)->sin6_port);
    memcpy(v4, SIN6(a)->sin6_addr.s6_addr + 12, 4);
    set_in4(a, v4, port);
}

size_t rl_sockaddr_format(const rl_sockaddr_t *a, char *out, size_t outlen, bool with_port)
{
    char ip[INET6_ADDRSTRLEN];
    rl_sockaddr_t n = *a;
    int len;

    if (outlen == 0)
        return 0;
    rl_sockaddr_normalize(&n);
    if (n.ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &SIN(&n)->sin_addr, ip, sizeof(ip));
        len = with_port ? snprintf(out, outlen, "%s:%d", ip, rl_sockaddr_port(&n))
                        : snprintf(out, outlen, "%s", ip);
    } else if (n.ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &SIN6(&n)->sin6_addr, ip, sizeof(ip));
        len = with_port ? snprintf(out, outlen, "[%s]:%d", ip, rl_sockaddr_port(&n))
                        : snprintf(out, outlen, "%s", ip);
    } else if (n.ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&n.ss;
        len = snprintf(out, outlen, "unix:%.*s",
                       (int)(n.len > offsetof(struct sockaddr_un, sun_path)
                             ? strnlen(sun->sun_path, sizeof(sun->sun_path)) : 0),
                       sun->sun_path);
    } else {
        len = snprintf(out, outlen, "(family %d)", n.ss.ss_family);
    }
    return len < 0 ? 0 : RL_MIN((size_t)len, outlen - 1);
}

int rl_sockaddr_port(const rl_sockaddr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(CSIN(a)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(CSIN6(a)->sin6_port);
    return -1;
}

/* The address bytes of a normalized IP address, and their count. */
static size_t ip_bytes(const rl_sockaddr_t *a, const uint8_t **p)
{
    if (a->ss.ss_family == AF_INET) {
        *p = (const uint8_t *)&CSIN(a)->sin_addr;
        return 4;
    }
    if (a->ss.ss_family == AF_INET6) {
        *p = CSIN6(a)->sin6_addr.s6_addr;
        return 16;
    }
    return 0;
}

bool rl_sockaddr_ip_equal(const rl_sockaddr_t *a, const rl_sockaddr_t *b)
{
    rl_sockaddr_t na = *a, nb = *b;
    const uint8_t *pa, *pb;
    rl_sockaddr_normalize(&na);
    rl_sockaddr_normalize(&nb);
    size_t la = ip_bytes(&na, &pa), lb = ip_bytes(&nb, &pb);
    return la != 0 && la == lb && memcmp(pa, pb, la) == 0;
}

bool rl_sockaddr_is_any(const rl_sockaddr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return CSIN(a)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&CSIN6(a)->sin6_addr);
    return false;
}

static int get_name(int fd, rl_sockaddr_t *out, bool peer)
{
    out->len = sizeof(out->ss);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&out->ss, &out->len)
                  : getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
    if (rc != 0)
        return RL_ERROR;
    rl_sockaddr_normalize(out);
    return RL_OK;
}

int rl_sock_local_addr(int fd, rl_sockaddr_t *out)
{
    return get_name(fd, out, false);
}

int rl_sock_peer_addr(int fd, rl_sockaddr_t *out)
{
    return get_name(fd, out, true);
}

/* ---- Listen ---- */

/* Parses a port: 1 to 5 digits, 1..65535. Returns it, or 0. */
static int parse_port(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 5 || s[n] != '\0')
        return 0;
    int port = atoi(s);
    return port <= 65535 ? port : 0;
}

/* Splits <arg> into host and port like apr_parse_addr_port(): "80",
 * "host:80", "[v6]:80", "host". <host> gets "" when absent, <*port> 0 when
 * absent. Returns false for a malformed string or port. */
static bool split_host_port(const char *arg, char *host, size_t hostlen, int *port)
{
    const char *colon;
    size_t hl;

    *port = 0;
    host[0] = '\0';
    if (arg[0] >= '0' && arg[0] <= '9' && arg[strspn(arg, "0123456789")] == '\0') {
        *port = parse_port(arg);       /* digits only: a port */
        return *port != 0;
    }
    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        hl = (size_t)(end - arg - 1);
        colon = end[1] == ':' ? end + 1 : NULL;
        arg++;
    } else {
        colon = strrchr(arg, ':');
        hl = colon ? (size_t)(colon - arg) : strlen(arg);
        if (memchr(arg, ':', hl))
            return false;   /* an IPv6 address needs brackets */
    }
    if (hl == 0 || hl >= hostlen)
        return false;
    memcpy(host, arg, hl);
    host[hl] = '\0';
    if (colon)
        *port = parse_port(colon + 1);
    return colon == NULL || *port != 0;
}

static int resolve_host(const char *host, int port, rl_sockaddr_t *out)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;   /* no ::1 first on an IPv4-only host */
    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        hints.ai_flags = 0;   /* only loopback configured: AI_ADDRCONFIG finds nothing */
        if (getaddrinfo(host, NULL, &hints, &res) != 0)
            return RL_ERROR;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    if (out->ss.ss_family == AF_INET)
        SIN(out)->sin_port = htons((uint16_t)port);
    else if (out->ss.ss_family == AF_INET6)
        SIN6(out)->sin6_port = htons((uint16_t)port);
    else
        return RL_ERROR;
    return RL_OK;
}

int rl_sock_parse_listen(const char *arg, rl_sockaddr_t *out, char *err, size_t errlen)
{
    char host[256];
    int port;

    if (!split_host_port(arg, host, sizeof(host), &port)) {
        rl_errf(err, errlen, "Invalid address or port");
        return RL_ERROR;
    }
    if (strchr(host, '%')) {
        rl_errf(err, errlen, "Scope id is not supported");
        return RL_ERROR;
    }
    if (port == 0) {
        rl_errf(err, errlen, "Port must be specified");
        return RL_ERROR;
    }
    if (host[0] == '\0' || strcmp(host, "*") == 0)
        return rl_sockaddr_from_ip("::", port, out);
    if (arg[0] == '[') {   /* brackets hold an IPv6 address, nothing else */
        unsigned char buf[16];
        if (inet_pton(AF_INET6, host, buf) != 1) {
            rl_errf(err, errlen, "Invalid address or port");
            return RL_ERROR;
        }
        set_in6(out, buf, port);
        return RL_OK;
    }
    if (rl_sockaddr_from_ip(host, port, out) == RL_OK || resolve_host(host, port, out) == RL_OK)
        return RL_OK;
    rl_errf(err, errlen, "Could not resolve host name %s", host);
    return RL_ERROR;
}

/* A socket file left by a previous run would make bind fail: remove it, but
 * only if it is a socket. */
static void unlink_stale_socket(const rl_sockaddr_t *a)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
    struct stat st;
    if (lstat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sun->sun_path);
}

static int set_listen_options(int fd, const rl_sockaddr_t *a)
{
    int one = 1, zero = 0;
    if (a->ss.ss_family == AF_UNIX) {
        unlink_stale_socket(a);
        return 0;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        return -1;
    if (a->ss.ss_family == AF_INET6 && rl_sockaddr_is_any(a))
        return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    return 0;
}

int rl_sock_listen(const rl_sockaddr_t *a, int backlog, char *err, size_t errlen)
{
    char name[RL_SOCKADDR_STRLEN];
    rl_sockaddr_t v4;
    const char *what = "create socket for";
    int saved_errno;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 && errno == EAFNOSUPPORT && a->ss.ss_family == AF_INET6 && rl_sockaddr_is_any(a)) {
        rl_sockaddr_from_ip("0.0.0.0", rl_sockaddr_port(a), &v4);
        a = &v4;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        goto out_error;
    what = "set options for";
    if (set_listen_options(fd, a) != 0)
        goto out_close_fd;
    what = "bind to";
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
        goto out_close_fd;
    what = "listen on";
    if (listen(fd, backlog) != 0)
        goto out_close_fd;
    return fd;

out_close_fd:
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
out_error:
    rl_sockaddr_format(a, name, sizeof(name), true);
    rl_errf(err, errlen, "could not %s address %s: %s", what, name, strerror(errno));
    return -1;
}

bool rl_sock_listen_covers(const rl_sockaddr_t *a, const rl_sockaddr_t *b)
{
    if (rl_sockaddr_port(a) != rl_sockaddr_port(b) || rl_sockaddr_port(a) < 0)
        return false;
    if (rl_sockaddr_ip_equal(a, b))
        return true;
    return a->ss.ss_family == AF_INET6 && rl_sockaddr_is_any(a)
        && b->ss.ss_family == AF_INET && rl_sockaddr_is_any(b);
}

int rl_sock_accept(int lfd, rl_sockaddr_t *peer)
{
    rl_sockaddr_t tmp;
    if (peer == NULL)
        peer = &tmp;
    peer->len = sizeof(peer->ss);
    int fd = accept4(lfd, (struct sockaddr *)&peer->ss, &peer->len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
        rl_sockaddr_normalize(peer);
    return fd;
}

/* ---- options ---- */

int rl_sock_set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 ? RL_OK : RL_ERROR;
}

int rl_sock_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return RL_ERROR;
    return RL_OK;
}

int rl_sock_cork(int fd, bool on)
{
    int v = on;
    return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)) == 0 ? RL_OK : RL_ERROR;
}

/* ---- connect ---- */

int rl_sock_connect(const rl_sockaddr_t *a, char *err, size_t errlen)
{
    char name[RL_SOCKADDR_STRLEN];
    int saved_errno;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out_error;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0
        || errno == EINPROGRESS || errno == EINTR)
        return fd;

    saved_errno = errno;
    close(fd);
    errno = saved_errno;
out_error:
    rl_sockaddr_format(a, name, sizeof(name), true);
    rl_errf(err, errlen, "could not connect to %s: %s", name, strerror(errno));
    return -1;
}

int rl_sock_connect_fast(const rl_sockaddr_t *a, bool *connected)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
        *connected = true;
        return fd;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        *connected = false;
        return fd;
    }
    int saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return -1;
}

int rl_sock_connect_tcp(const rl_sockaddr_t *a, char *err, size_t errlen)
{
    return rl_sock_connect(a, err, errlen);
}

int rl_sock_connect_unix(const char *path, char *err, size_t errlen)
{
    rl_sockaddr_t a;
    if (rl_sockaddr_unix(path, &a) != RL_OK) {
        rl_errf(err, errlen, "could not connect to unix:%s: %s", path, strerror(errno));
        return -1;
    }
    return rl_sock_connect(&a, err, errlen);
}

int rl_sock_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return errno;
    return e;
}

/* ---- IP patterns (APR's apr_ipsubnet_*) ---- */

/* APR's looks_like_ip(): anything with a colon, or only digits and dots. */
static bool looks_like_ip(const char *s)
{
    if (*s == '\0')
        return false;
    if (strchr(s, ':'))
        return true;
    return s[strspn(s, "0123456789.")] == '\0';
}

/* The legacy partial form: "10", "10.1", "10.1.2." -> 10.1.2.0/24. */
static int parse_network(const char *s, rl_ip_pattern_t *p)
{
    if (strlen(s) >= sizeof("255.255.255.255"))
        return RL_ERROR;
    for (int i = 0; *s; i++) {
        if (i == 4 || *s < '0' || *s > '9')
            return RL_ERROR;
        int octet = 0;
        while (*s >= '0' && *s <= '9')
            octet = octet * 10 + (*s++ - '0');
        if (*s == '.')
            s++;
        else if (*s)
            return RL_ERROR;
        if (octet > 255)
            return RL_ERROR;
        p->addr[i] = (uint8_t)octet;
        p->mask[i] = 0xff;
    }
    p->family = AF_INET;
    return RL_OK;
}

static int parse_ip(const char *s, bool network_allowed, rl_ip_pattern_t *p)
{
    if (inet_pton(AF_INET6, s, p->addr) == 1) {
        /* matching handles IPv4-mapped clients; the pattern must be a.b.c.d */
        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)p->addr))
            return RL_ERROR;
        p->family = AF_INET6;
        memset(p->mask, 0xff, 16);
        return RL_OK;
    }
    if (inet_pton(AF_INET, s, p->addr) == 1) {
        p->family = AF_INET;
        memset(p->mask, 0xff, 4);
        return RL_OK;
    }
    return network_allowed ? parse_network(s, p) : RL_ERROR;
}

/* "/16" or, for IPv4, "/255.255.0.0". */
static int parse_mask(const char *s, rl_ip_pattern_t *p)
{
    int maxbits = p->family == AF_INET6 ? 128 : 32;
    char *end;
    long bits = strtol(s, &end, 10);

    if (*s >= '0' && *s <= '9' && *end == '\0' && bits > 0 && bits <= maxbits) {
        memset(p->mask, 0, sizeof(p->mask));
        for (long i = 0; i < bits; i++)
            p->mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
        return RL_OK;
    }
    if (p->family == AF_INET && inet_pton(AF_INET, s, p->mask) == 1)
        return RL_OK;
    return RL_ERROR;
}

int rl_ip_pattern_parse(const char *s, rl_ip_pattern_t *out)
{
    char ip[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n >= sizeof(ip))
        return RL_ERROR;
    memcpy(ip, s, n);
    ip[n] = '\0';
    if (!looks_like_ip(ip))
        return RL_DECLINED;
    memset(out, 0, sizeof(*out));
    if (parse_ip(ip, slash == NULL, out) != RL_OK)
        return RL_ERROR;
    if (slash && parse_mask(slash + 1, out) != RL_OK)
        return RL_ERROR;
    for (size_t i = 0; i < sizeof(out->addr); i++)
        out->addr[i] &= out->mask[i];
    return RL_OK;
}

static bool masked_equal(const uint8_t *a, const rl_ip_pattern_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((a[i] & p->mask[i]) != p->addr[i])
            return false;
    return true;
}

bool rl_ip_pattern_match(const rl_ip_pattern_t *p, const rl_sockaddr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return p->family == AF_INET && masked_equal((const uint8_t *)&CSIN(a)->sin_addr, p, 4);
    if (a->ss.ss_family != AF_INET6)
        return false;
    const uint8_t *b = CSIN6(a)->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&CSIN6(a)->sin6_addr))
        return p->family == AF_INET && masked_equal(b + 12, p, 4);
    return p->family == AF_INET6 && masked_equal(b, p, 16);
}
