/* relaisctl enmod|dismod|enconf|disconf|ensite|dissite: Debian's a2enmod,
 * a2dismod, a2enconf, a2disconf, a2ensite and a2dissite (a2enmod 2.4.x, a
 * perl script), message for message and exit code for exit code:
 *
 *   <tree>/mods-available/NAME.load (+ NAME.conf)  ->  mods-enabled/NAME.load
 *   <tree>/conf-available/NAME.conf                ->  conf-enabled/NAME.conf
 *   <tree>/sites-available/NAME.conf               ->  sites-enabled/NAME.conf
 *
 * as relative symbolic links ("../mods-available/rewrite.load"). A module's
 * "# Depends:" line (in the comments that open its .load file) enables the
 * modules it names first; its "# Conflicts:" line refuses to enable it while
 * one of those is enabled; disabling a module that an enabled one depends
 * on is refused (unless -f). A conf or site's "# Depends:" modules must be
 * enabled. NAMEs may be globs ("proxy_*"), and an optional ".load"/".conf"
 * suffix is dropped.
 *
 * What relaisctl leaves out: the state markers a2enmod keeps under
 * /var/lib/apache2/<obj>/enabled_by_admin (-m and -p are accepted; -p still
 * lets a missing NAME pass silently), and the systemctl calls for
 * cache_disk's htcacheclean. The closing hint names relaisctl:
 * "  relaisctl restart" for modules, "  relaisctl graceful" for the others
 * (Debian: "service apache2 restart|reload"). */
#ifndef RL_CTL_LINKS_H
#define RL_CTL_LINKS_H

#include "core/rl.h"

typedef enum {
    RL_CTL_MOD,
    RL_CTL_CONF,
    RL_CTL_SITE,
} rl_ctl_kind_t;

typedef struct {
    const char *confdir;    /* the tree: -d, $APACHE_CONFDIR, /etc/apache2 */
    const char *ctl_hint;   /* "relaisctl" or "relaisctl -d /x": for the closing hint */
    rl_ctl_kind_t kind;
    bool enable;
} rl_ctl_links_t;

/* Runs the command on <argv> (<argc> words after the action: a2enmod's
 * options -q -f -m -p, --quiet ..., and the names, in any order; none: asks
 * on stdin as a2enmod does). Returns the exit code: 0, 1 (an error), 2 (an
 * unknown option). */
int rl_ctl_links_run(const rl_ctl_links_t *o, int argc, char **argv);

/* File::Spec->abs2rel(<target>, <base>): the relative path from directory
 * <base> to <target>, both absolute (a relative one is taken from the
 * current directory), "//" and "/./" folded, ".." kept as written. Writes
 * it to <out> of <len> bytes ("." when equal). Returns RL_OK, RL_ERROR when
 * it does not fit. Pure but for getcwd(). */
int rl_ctl_relpath(const char *target, const char *base, char *out, size_t len);

/* The names on the "# <type>:" line (type "Depends" or "Conflicts") of
 * <text>, read as a2enmod reads them: only the comment and empty lines
 * before the first other line count. Returns a NULL-terminated vector, in
 * one allocation to free() (empty when there is no such line). Pure. */
char **rl_ctl_deps_parse(const char *text, const char *type);

#endif
