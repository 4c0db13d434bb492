/* Debian's envvars file (/etc/apache2/envvars): the shell fragment that
 * apache2ctl sources before it starts apache2, exporting APACHE_RUN_USER,
 * APACHE_LOG_DIR, APACHE_PID_FILE and friends that Debian's apache2.conf
 * names as ${APACHE_RUN_USER}. relaisd reads it itself, so that
 * "relaisd -f /etc/apache2/apache2.conf" starts from the stock tree, and
 * relaisctl reads it as apache2ctl does.
 *
 * The file is shell code: it is run by /bin/sh, as apache2ctl runs it, and
 * what it exported is read back from "env -0". Its standard output goes to
 * our standard error, so that an "echo" in it cannot corrupt the list. */
#ifndef RL_HTTPD_ENVVARS_H
#define RL_HTTPD_ENVVARS_H

#include "core/rl.h"

/* Receives one exported variable. */
typedef void (*rl_envvars_cb)(void *ctx, const char *name, const char *value);

/* Splits <len> bytes of "NAME=VALUE\0..." (env -0's output) and calls <cb>
 * for each entry, except those the shell sets by itself (PWD, OLDPWD,
 * SHLVL, _) and malformed ones (no '=', empty or invalid name). A last
 * entry without its NUL counts. Returns the number of calls. Pure. */
int rl_envvars_parse(const char *buf, size_t len, rl_envvars_cb cb, void *ctx);

/* Sources <file> with /bin/sh as apache2ctl does, with the shell variable
 * APACHE_CONFDIR set to <confdir> unless the environment has it (not
 * exported: envvars reads it to compute its SUFFIX), and calls <cb> for
 * every variable exported afterwards. Returns RL_OK, or RL_ERROR with
 * "could not read <file>: <why>" in <err> (the shell failed: the file has
 * a syntax error, a command in it failed with "set -e", ...). */
int rl_envvars_source(const char *file, const char *confdir, rl_envvars_cb cb, void *ctx,
                      char *err, size_t errlen);

/* Which envvars file applies, as apache2ctl chooses it: $APACHE_ENVVARS,
 * else $APACHE_CONFDIR/envvars, else <dir>/envvars. Writes the file to
 * <file> and the configuration directory (what APACHE_CONFDIR is for the
 * file) to <confdir>, both of <len> bytes. Returns true when that file
 * exists. */
bool rl_envvars_locate(const char *dir, char *file, char *confdir, size_t len);

/* relaisd's part: before the configuration is read, finds the envvars file
 * of the tree (see rl_envvars_locate, with <dir> the ServerRoot given by -d
 * when it has an envvars file, else the directory of the configuration
 * file: <config_file> as -f gave it (NULL: apache2.conf), relative to
 * <server_root> (NULL: /etc/apache2)), sources it and sets the variables
 * that are NOT already in the environment: a variable given on the command
 * line wins over the file. No file: nothing happens. Returns RL_OK or
 * RL_ERROR with a message in <err>. */
int rl_envvars_setup(const char *server_root, const char *config_file, char *err, size_t errlen);

/* relaisctl's part, apache2ctl's ". $APACHE_ENVVARS": sources <file> and
 * makes the environment what the shell exported: values from the file win,
 * and what the file unset ("unset HOME") is removed. Returns RL_OK or
 * RL_ERROR with a message in <err>. */
int rl_envvars_import_all(const char *file, const char *confdir, char *err, size_t errlen);

#endif
