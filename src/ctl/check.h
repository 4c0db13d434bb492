/* relaisctl configtest's cross-check of relaisd's configuration against the
 * FPM's (relais-fpm's or php-fpm's: the same files), for the mismatches
 * that give 503s and "Primary script unknown" at run time while each side
 * passes its own -t:
 *
 *  - a handler socket (SetHandler "proxy:unix:/x.sock|fcgi://...",
 *    ProxyPass / ProxyPassMatch ... unix:/x.sock|fcgi://...,
 *    FastCgiExternalServer ... -socket x.sock) that no pool listens on;
 *  - a pool socket relaisd's User cannot connect to: listen.owner,
 *    listen.group and listen.mode (default: the FPM master's user and
 *    group, taken as relaisctl's, and 0660) against User, Group and the
 *    user's supplementary groups, listen.acl_users / listen.acl_groups
 *    granting as the FPM writes them, and search permission on the
 *    socket's directories;
 *  - a DocumentRoot of a virtual host handing PHP to a chroot'ed pool that
 *    the pool cannot see: the FPM opens SCRIPT_FILENAME inside its chroot,
 *    so <chroot><DocumentRoot> must exist;
 *  - a pool user (with its group and supplementary groups) that cannot
 *    search the way to the DocumentRoot or read it (mode bits; POSIX ACLs on
 *    directories are not read).
 *
 * A handler at server level counts for every virtual host (the main
 * server's DocumentRoot only when there is none). Only unix sockets are
 * compared; TCP backends are not checked.
 *
 * Every finding is a warning on stderr,
 *   relaisctl: warning: <file>:<line>: <what>
 * and leaves the exit code 0: each daemon would start. With -W (--strict)
 * a warning makes configtest exit 1. An FPM configuration that does not
 * load is an error (exit 1): the FPM would refuse to start. */
#ifndef RL_CTL_CHECK_H
#define RL_CTL_CHECK_H

#include <sys/stat.h>
#include "core/rl.h"
#include "ctl/apachectl.h"

/* A process' credentials: what the kernel checks permissions against. */
typedef struct {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];         /* supplementary groups */
    int ngroups;
} rl_ctl_cred_t;

/* The cross-check for "relaisctl configtest", once relaisd -t passed: the
 * FPM configuration is <c>->fpm_conf, else Debian's when present (none,
 * or --no-fpm: nothing to do). Prints the findings; returns the exit code
 * (see above). */
int rl_ctl_check(const rl_ctl_t *c);

/* Whether <cred> gets all of <want> (4 read, 2 write, 1 search) on a file
 * of <mode> owned by <uid>:<gid>, as the kernel decides from the mode bits
 * (root gets everything). Pure. */
bool rl_ctl_may(const rl_ctl_cred_t *cred, mode_t mode, uid_t uid, gid_t gid, int want);

/* The unix socket a handler directive <name> (<argc> arguments <argv>,
 * quotes removed) sends requests to: SetHandler "proxy:unix:/x|fcgi://..",
 * ProxyPass / ProxyPassMatch with a "unix:/x|..." URL, FastCgiExternalServer
 * with "-socket x" (relative: in <ipc_dir>). Writes the path to <out>.
 * Returns false for anything else (TCP, other directives). Pure. */
bool rl_ctl_handler_socket(const char *name, int argc, char **argv, const char *ipc_dir,
                           char *out, size_t len);

/* Folds "//", "/./" and "/x/.." of absolute <path> into <out>. Pure. */
void rl_ctl_normalize(const char *path, char *out, size_t len);

#endif
