/* relaisctl's apachectl half: Debian's apache2ctl for relaisd.
 *
 *   relaisctl [-d dir] [-f file] start|stop|restart|graceful|graceful-stop
 *   relaisctl [-d dir] [-f file] configtest | status | <relaisd arguments>
 *
 * As apache2ctl: the tree is -d, else $APACHE_CONFDIR, else /etc/apache2;
 * its envvars ($APACHE_ENVVARS, else <tree>/envvars) is sourced by
 * /bin/sh and becomes the environment (relaisd sees APACHE_RUN_USER...);
 * APACHE_RUN_DIR and APACHE_LOCK_DIR are created; relaisd gets "-d <tree>"
 * when the tree is not /etc/apache2, then $APACHE_ARGUMENTS; restart and
 * graceful check the configuration first (a broken one is shown and
 * nothing is signalled); a failure ends with "Action '...' failed.".
 *
 * Left out: the systemd hand-over of "start" (relaisctl always runs
 * relaisd -k start), "ulimit -n 8192" (relaisd raises its own limit),
 * APACHE_HTTPD (it names apache2), and the mod_status "status" and
 * "fullstatus": status reads the PidFile instead. */
#ifndef RL_CTL_APACHECTL_H
#define RL_CTL_APACHECTL_H

#include <limits.h>
#include "core/rl.h"

/* What the command line gave relaisctl, and what it derived. */
typedef struct {
    const char *server_root;   /* -d, else NULL */
    const char *config_file;   /* -f, else NULL */
    const char *fpm_conf;      /* -y, else NULL */
    bool no_fpm;               /* --no-fpm: configtest reads no FPM configuration */
    bool strict;               /* -W / --strict: cross-check warnings fail configtest */
    char confdir[PATH_MAX];    /* the tree */
    char self_dir[PATH_MAX];   /* the directory of relaisctl's binary, "" if unknown */
} rl_ctl_t;

/* Fills <c>->confdir (-d, $APACHE_CONFDIR, /etc/apache2) and self_dir. */
void rl_ctl_setup(rl_ctl_t *c);

/* Sources the tree's envvars ($APACHE_ENVVARS, else <confdir>/envvars)
 * into the environment, as apache2ctl does. Returns RL_OK (also when
 * there is no such file), or RL_ERROR after printing why. */
int rl_ctl_envvars(const rl_ctl_t *c);

/* The path of the program <name> ("relaisd", "relais-fpm"): next to
 * relaisctl when it is there, else <name> itself (PATH is searched). */
const char *rl_ctl_program(const rl_ctl_t *c, const char *name, char *buf, size_t len);

/* Runs <argv> (argv[0] as rl_ctl_program gives it) with relaisctl's stdio,
 * or with stderr on /dev/null when <quiet>. Returns its exit code (128+N
 * for a signal, 127 when it cannot run). */
int rl_ctl_exec(char *const argv[], bool quiet);

/* The apachectl actions. <argv> holds the <argc> words from the action
 * on; a single word start, stop, restart, graceful, graceful-stop,
 * configtest or status is that action, anything else (or more words) goes
 * to relaisd as it is, as apache2ctl does. <action> is argv[0], or "" when
 * the first word was an option for relaisd. Returns the exit code. */
int rl_ctl_apachectl(rl_ctl_t *c, const char *action, int argc, char **argv);

#endif
