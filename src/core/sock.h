/* Sockets: addresses, Apache's Listen syntax, listening, accepting,
 * non-blocking connects to backends, and "Require ip" patterns.
 *
 * Addresses handed out by this unit are normalized: an IPv4-mapped IPv6
 * address (::ffff:1.2.3.4, what a dual-stack socket reports for an IPv4
 * peer) is turned into plain IPv4, as APR does, so logs and REMOTE_ADDR show
 * "1.2.3.4".
 *
 * Functions taking <err>/<errlen> write a one-line message there on failure
 * (no trailing newline); <err> may be NULL. Sockets are created non-blocking
 * and close-on-exec. */
#ifndef RL_SOCK_H
#define RL_SOCK_H

#include <sys/socket.h>
#include "core/rl.h"

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} rl_sockaddr_t;

/* Enough for any rl_sockaddr_format() output ("[v6]:port", "unix:path"). */
#define RL_SOCKADDR_STRLEN 128

/* Parses the address of a Listen directive (the protocol argument is the
 * caller's): "80", "*:80", "0.0.0.0:80", "127.0.0.1:8080", "[::]:80",
 * "[::1]:8080", "host.name:80" (resolved now, first address). The
 * wildcards "80" and "*:80" give [::]:port, which rl_sock_listen() binds
 * dual-stack like Apache on Linux. Returns RL_OK or RL_ERROR with Apache's
 * messages: "Invalid address or port", "Port must be specified", "Scope id
 * is not supported", or "Could not resolve host name <h>". */
int rl_sock_parse_listen(const char *arg, rl_sockaddr_t *out, char *err, size_t errlen);

/* Fills <out> from a numeric IPv4 or IPv6 address (no brackets) and <port>.
 * Returns RL_OK, or RL_ERROR when <ip> is not numeric or <port> not 0..65535. */
int rl_sockaddr_from_ip(const char *ip, int port, rl_sockaddr_t *out);

/* Fills <out> with a unix-domain address. Returns RL_OK, or RL_ERROR with
 * errno ENAMETOOLONG when <path> does not fit in sun_path. */
int rl_sockaddr_unix(const char *path, rl_sockaddr_t *out);

/* Turns an IPv4-mapped IPv6 address into IPv4 (port kept); else no-op. */
void rl_sockaddr_normalize(rl_sockaddr_t *a);

/* Opens a listening TCP (or unix-domain) socket on <a>: SO_REUSEADDR,
 * non-blocking, close-on-exec, listen(<backlog>). The IPv6 wildcard [::] is
 * bound with IPV6_V6ONLY off, so it also takes IPv4 (Apache's behaviour with
 * IPv4-mapped addresses, as Debian builds it; see rl_sock_listen_covers()),
 * and falls back to 0.0.0.0 on a kernel without IPv6. A stale unix socket
 * file is removed first. Returns the fd, or -1 with errno set and e.g.
 * "could not bind to address 127.0.0.1:80: Address already in use". */
int rl_sock_listen(const rl_sockaddr_t *a, int backlog, char *err, size_t errlen);

/* Whether a socket listening on <a> already receives the connections for
 * <b>: same address, or <a> is [::]:P and <b> is 0.0.0.0:P (Apache then
 * skips <b>, which could not be bound anyway). */
bool rl_sock_listen_covers(const rl_sockaddr_t *a, const rl_sockaddr_t *b);

/* Accepts one connection, non-blocking and close-on-exec; <peer> (may be
 * NULL) gets the normalized peer address. Returns the fd, or -1 with errno
 * (EAGAIN when none is pending). */
int rl_sock_accept(int lfd, rl_sockaddr_t *peer);

/* Writes "127.0.0.1:4567", "[::1]:80" (<with_port>) or "127.0.0.1", "::1"
 * (without), "unix:/path" for unix sockets, into <out> (NUL-terminated,
 * truncated to <outlen>). Returns the length written. */
size_t rl_sockaddr_format(const rl_sockaddr_t *a, char *out, size_t outlen, bool with_port);

/* The port of an IPv4/IPv6 address, -1 for other families. */
int rl_sockaddr_port(const rl_sockaddr_t *a);

/* Whether the IP addresses of <a> and <b> are the same, ports ignored, an
 * IPv4-mapped address equal to its IPv4 form. False for non-IP families. */
bool rl_sockaddr_ip_equal(const rl_sockaddr_t *a, const rl_sockaddr_t *b);

/* Whether <a> is 0.0.0.0 or [::]. */
bool rl_sockaddr_is_any(const rl_sockaddr_t *a);

/* getsockname()/getpeername() into <out>, normalized. RL_OK or RL_ERROR. */
int rl_sock_local_addr(int fd, rl_sockaddr_t *out);
int rl_sock_peer_addr(int fd, rl_sockaddr_t *out);

/* TCP_NODELAY on; O_NONBLOCK on; TCP_CORK on/off (off flushes). RL_OK or
 * RL_ERROR with errno set. */
int rl_sock_set_nodelay(int fd);
int rl_sock_set_nonblock(int fd);
int rl_sock_cork(int fd, bool on);

/* Starts a non-blocking connect to <a> (TCP or unix). Returns the fd, which
 * is connected or connecting (wait for writable, then
 * rl_sock_connect_result()), or -1 with errno set and "could not connect to
 * <addr>: <reason>". A unix socket whose backlog is full fails at once with
 * EAGAIN. */
int rl_sock_connect(const rl_sockaddr_t *a, char *err, size_t errlen);
/* The same without a message: -1 with errno set, else the fd, with
 * <*connected> true when the connect completed at once (a unix socket
 * whose listener has room), so no writability wait is needed. */
int rl_sock_connect_fast(const rl_sockaddr_t *a, bool *connected);
int rl_sock_connect_tcp(const rl_sockaddr_t *a, char *err, size_t errlen);
int rl_sock_connect_unix(const char *path, char *err, size_t errlen);

/* After a connecting fd became writable: 0 when connected, else the errno
 * value of the failure (SO_ERROR). */
int rl_sock_connect_result(int fd);

/* A "Require ip" / "Allow from" pattern: a network and its mask. */
typedef struct {
    int family;           /* AF_INET or AF_INET6 */
    uint8_t addr[16];     /* network byte order, already masked */
    uint8_t mask[16];
} rl_ip_pattern_t;

/* Parses one pattern the way APR's apr_ipsubnet_create() does: "10.1.2.3",
 * "10.1" or "10.1." (the first one to three bytes), "10.1.0.0/16",
 * "10.1.0.0/255.255.0.0", "2001:db8::1", "2001:db8::/64". Returns RL_OK,
 * RL_DECLINED when <s> does not look like an IP address at all (a host
 * name: the caller may try it as one), RL_ERROR when it looks like one but is
 * invalid (bad address, bad mask, an IPv4-mapped IPv6 address). */
int rl_ip_pattern_parse(const char *s, rl_ip_pattern_t *out);

/* Whether <a> is in <p>; an IPv4 pattern also matches the IPv4-mapped IPv6
 * form of its addresses. */
bool rl_ip_pattern_match(const rl_ip_pattern_t *p, const rl_sockaddr_t *a);

#endif
