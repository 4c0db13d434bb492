/* relaisctl's FPM half: the FPM (relais-fpm, or a stock php-fpm: the
 * signals and files are the same) driven through its configuration.
 *
 *   relaisctl fpm-test   [-y file]   relais-fpm -t -y file (its output and exit code)
 *   relaisctl fpm-reload [-y file]   SIGUSR2 to the pid in the file's "pid =": graceful reload
 *   relaisctl fpm-reopen [-y file]   SIGUSR1: reopen the logs
 *   relaisctl fpm-stop   [-y file]   SIGQUIT: graceful stop; returns once the master is gone
 *
 * The file is -y, else /etc/php/8.2/fpm/php-fpm.conf. The pid file comes
 * from reading the configuration with relais-fpm's own loader. A master
 * that is not running: fpm-stop says so and exits 0 (as relaisd -k stop);
 * fpm-reload and fpm-reopen exit 1. */
#ifndef RL_CTL_FPMCTL_H
#define RL_CTL_FPMCTL_H

#include "ctl/apachectl.h"
#include "fpm/conf.h"

/* Reads the FPM configuration <file> into <conf> (allocating in <a>) with
 * relais-fpm's loader. Its messages are printed to stderr only when it
 * fails. The loader opens (creates) the logs it names, as php-fpm -t does;
 * the empty ones this call created are removed again, so that a check
 * leaves no trace. Returns RL_OK or RL_ERROR. */
int rl_ctl_fpm_load(const char *file, rl_fpm_conf_t *conf, rl_arena_t *a);

/* Runs <action> (fpm-test, fpm-reload, fpm-reopen, fpm-stop). Returns the
 * exit code; 2 for an unknown action. */
int rl_ctl_fpm(const rl_ctl_t *c, const char *action);

#endif
